"""Counting time limits in wall-clock time or in a calendar's working time.

Working hours are read in the community's time zone; every comparison and sum
is done in UTC so that daylight-saving shifts never distort a limit.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from .policy import Calendar, Span

#: How far ahead a working-time deadline is searched (a calendar with no
#: working day in ten years has no deadline at all).
HORIZON_DAYS = 3660

#: Days of working windows kept before the day a search starts from: once a search starts more than twice
#: this after the earliest day kept, the windows of the days more than this before it are dropped (worked
#: out again, the same, if an older clock asks for them).  The windows kept follow the days searched now
#: (the cases still open), not the years of the log: at most about ``2 * KEPT_BEHIND`` days before the
#: day a search starts from and the days ahead that searches reached (``HORIZON_DAYS`` at most).
KEPT_BEHIND = 366


class _Days:
    """The working windows of one calendar in one zone worked out so far, for the local days
    ``base``, ``base + 1`` ... (``date.toordinal``) in a row, with the working time before each.

    ``cum[i]`` is the working time of the days before day ``base + i`` (from ``base`` on), so
    the working time of any run of days is a difference of two entries, and the day a span of
    working time runs out in is found by bisection rather than by walking the days one by one
    (a limit of 15 working days walked three weeks of windows on every case it was worked out for).
    """

    __slots__ = ("base", "cal", "cum", "highs", "lows", "totals", "tz")

    def __init__(self, cal: Calendar, tz: ZoneInfo, first: int) -> None:
        #: the calendar (held, so that its id stays its own)
        self.cal = cal
        self.tz = tz
        self.base = first
        #: each day's window (UTC start, UTC end), or None for a day without working hours
        self.lows: list[datetime | None] = []
        self.highs: list[datetime | None] = []
        self.cum: list[timedelta] = [timedelta(0)]
        #: id(span) -> (the span, held so that its id stays its own; ``span.total(cal)``)
        self.totals: dict[int, tuple[Span, timedelta]] = {}

    def total(self, span: Span) -> timedelta:
        """``span.total(cal)``, worked out once per span (a third of ``add``: a working day's length
        built from the calendar's hours, times a fraction of days)."""
        found = self.totals.get(id(span))
        if found is not None and found[0] is span:
            return found[1]
        if len(self.totals) >= _SPANS:  # (an extended span is made anew for each deadline it sets)
            self.totals.clear()
        total = span.total(self.cal)
        self.totals[id(span)] = (span, total)
        return total

    def since(self, first: int) -> int:
        """Make ready a search starting from day ``first`` (older days dropped: ``KEPT_BEHIND``); its index."""
        if first < self.base:
            if self.base - first > KEPT_BEHIND:
                # (a clock far older than the days kept: they are dropped, and the days from it worked out)
                self.lows, self.highs, self.cum = [], [], [timedelta(0)]
            else:
                # (an older clock: the days before are worked out and put in front, the sums again from there)
                lows, highs = self._made(first, self.base)
                self.lows[:0], self.highs[:0] = lows, highs
                self.cum = _sums(self.lows, self.highs)
            self.base = first
        elif first - self.base > 2 * KEPT_BEHIND:
            cut = first - KEPT_BEHIND - self.base
            if cut >= len(self.lows):
                self.lows, self.highs, self.cum = [], [], [timedelta(0)]
                self.base = first
            else:
                del self.lows[:cut], self.highs[:cut], self.cum[:cut]
                self.base += cut
        return first - self.base

    def reach(self, size: int) -> None:
        """Work the windows out to (at least) ``size`` days from ``base``, a week at a time."""
        have = len(self.lows)
        if have >= size:
            return
        size = max(size, have + 7)
        lows, highs = self._made(self.base + have, self.base + size)
        self.lows += lows
        self.highs += highs
        cum = self.cum
        total = cum[-1]
        for low, high in zip(lows, highs):
            if low is not None:
                total += high - low  # type: ignore[operator]
            cum.append(total)

    def _made(self, first: int, last: int) -> tuple[list[datetime | None], list[datetime | None]]:
        lows: list[datetime | None] = []
        highs: list[datetime | None] = []
        for ordinal in range(first, last):
            window = _window(self.cal, self.tz, ordinal)
            lows.append(None if window is None else window[0])
            highs.append(None if window is None else window[1])
        return lows, highs


def _sums(lows: list[datetime | None], highs: list[datetime | None]) -> list[timedelta]:
    """The working time before each day of ``lows``/``highs`` (and of them all, last)."""
    total = timedelta(0)
    cum = [total]
    for low, high in zip(lows, highs):
        if low is not None:
            total += high - low  # type: ignore[operator]
        cum.append(total)
    return cum


#: (calendar's id, zone) -> the working windows of the calendar (held, so the id stays its own) by
#: local day: a deadline is worked out again on many events of a case, over the same days.
_DAYS: dict[tuple[int, tzinfo], _Days] = {}
#: Calendars kept (a process judging under many rulesets starts afresh past this).
_CALENDARS = 64
#: Spans' lengths kept per calendar (``_Days.total``; past this it starts afresh).
_SPANS = 256


def _days(cal: Calendar, tz: ZoneInfo, first: int) -> tuple[_Days, int]:
    """The working windows of ``cal`` in ``tz`` worked out so far, and the index of day ``first`` in them."""
    key = (id(cal), tz)
    found = _DAYS.get(key)
    if found is None or found.cal is not cal:
        if len(_DAYS) >= _CALENDARS:
            _DAYS.clear()
        found = _DAYS[key] = _Days(cal, tz, first)
    return found, found.since(first)


def _window(cal: Calendar, tz: ZoneInfo, ordinal: int) -> tuple[datetime, datetime] | None:
    """The working window of one local day (UTC start, UTC end), or None."""
    day = date.fromordinal(ordinal)
    if cal.is_working_day(day):
        start = datetime.combine(day, cal.start, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day, cal.end, tzinfo=tz).astimezone(UTC)
        if end > start:
            return start, end
    return None


def _windows(cal: Calendar, tz: ZoneInfo, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working windows (UTC start, UTC end) from the local day of ``since`` on."""
    first = since.astimezone(tz).date().toordinal()
    for ordinal in range(first, first + HORIZON_DAYS):
        days, at = _days(cal, tz, ordinal)  # (by day: the days kept may change while this is paused)
        days.reach(at + 1)
        low = days.lows[at]
        if low is not None:
            high = days.highs[at]
            assert high is not None
            yield low, high


def elapsed(
    span_working: bool, start: datetime, end: datetime, cal: Calendar, tz: ZoneInfo
) -> timedelta:
    """Time between ``start`` and ``end`` that counts: all of it, or only working hours."""
    if end <= start:
        return timedelta(0)
    if not span_working:
        return end.astimezone(UTC) - start.astimezone(UTC)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    for low, high in _windows(cal, tz, start):
        if low >= end_utc:
            break
        overlap = min(high, end_utc) - max(low, start_utc)
        if overlap > timedelta(0):
            total += overlap
    return total


#: The last clock's start ``add`` was given, with its zone, its time in UTC and its local day
#: (``date.toordinal``; None: not asked yet): a case's accept and resolve limits both run from its
#: report, and each converted it again (two conversions with a ``ZoneInfo``).
_STARTED: tuple[datetime, tzinfo, datetime, int | None] | None = None


def _start(start: datetime, tz: ZoneInfo, working: bool) -> tuple[datetime, int | None]:
    """``start`` in UTC and (``working``) its local day in ``tz`` (``date.toordinal``), kept for the last
    time object asked in the same zone (held, so no other object has its ``id``)."""
    global _STARTED
    kept = _STARTED
    if kept is not None and kept[0] is start and kept[1] is tz:
        start_utc, day = kept[2], kept[3]
        if day is not None or not working:
            return start_utc, day
    else:
        start_utc, day = start.astimezone(UTC), None
    if working:
        day = start.astimezone(tz).date().toordinal()
    _STARTED = (start, tz, start_utc, day)
    return start_utc, day


def add(
    span: Span, start: datetime, used: timedelta, cal: Calendar, tz: ZoneInfo
) -> datetime | None:
    """The moment ``span`` runs out if its clock runs from ``start`` with ``used`` already spent.

    Returns ``None`` when working time never runs out (a calendar without
    working days).  The result is in UTC.
    """
    start_utc, day = _start(start, tz, span.working)
    if day is None or not span.working:
        remaining = span.total(cal) - used
        return start_utc + remaining if remaining > timedelta(0) else start_utc
    days, at = _days(cal, tz, day)
    remaining = days.total(span) - used
    if remaining <= timedelta(0):
        return start_utc
    last = at + HORIZON_DAYS  # (the days searched: from the local day of ``start``, ``HORIZON_DAYS`` of them)
    # The first window ending after ``start`` is counted from ``start`` (or from its own start) ...
    while True:
        if at >= last:
            return None
        days.reach(at + 1)
        low, high = days.lows[at], days.highs[at]
        at += 1
        if low is None or high <= start_utc:  # type: ignore[operator]
            continue
        begin = max(low, start_utc)
        if begin + remaining <= high:  # type: ignore[operator]
            return begin + remaining
        remaining -= high - begin  # type: ignore[operator]
        break
    # ... the whole windows of the days after it from the sums: the span runs out on the first day
    # whose window takes the working time from day ``at`` on to ``remaining`` or more
    cum = days.cum
    wanted = cum[at] + remaining
    while cum[-1] < wanted and len(days.lows) < last:
        days.reach(min(len(days.lows) + max(16, len(days.lows) - at), last))
    # (cum[i] is the working time before day i: the day ``day`` with cum[day] < wanted <= cum[day + 1])
    end = bisect.bisect_left(cum, wanted, at + 1, min(len(cum), last + 1))
    if end > last or end >= len(cum) or cum[end] < wanted:
        return None
    day = end - 1
    low = days.lows[day]
    assert low is not None
    return low + (wanted - cum[day])
