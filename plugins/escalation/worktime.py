"""Counting time limits in wall-clock time or in a calendar's working time.

Working hours are read in the community's time zone; every comparison and sum
is done in UTC so that daylight-saving shifts never distort a limit.
"""

from __future__ import annotations

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
    """The working windows of one calendar in one zone worked out so far, by local day (``date.toordinal``),
    with the earliest day a search started from since the older ones were dropped."""

    __slots__ = ("cal", "floor", "windows")

    def __init__(self, cal: Calendar, floor: int) -> None:
        #: the calendar (held, so that its id stays its own)
        self.cal = cal
        self.floor = floor
        self.windows: dict[int, tuple[datetime, datetime] | None] = {}

    def since(self, first: int) -> dict[int, tuple[datetime, datetime] | None]:
        """The windows, for a search starting from day ``first`` (older days dropped: ``KEPT_BEHIND``)."""
        if first < self.floor:
            self.floor = first
        elif first - self.floor > 2 * KEPT_BEHIND:
            cut = self.floor = first - KEPT_BEHIND
            windows = self.windows
            for ordinal in [ordinal for ordinal in windows if ordinal < cut]:
                del windows[ordinal]
        return self.windows


#: (calendar's id, zone) -> the working windows of the calendar (held, so the id stays its own) by
#: local day: a deadline is worked out again on many events of a case, over the same days.
_DAYS: dict[tuple[int, tzinfo], _Days] = {}
#: Calendars kept (a process judging under many rulesets starts afresh past this).
_CALENDARS = 64


def _days(cal: Calendar, tz: ZoneInfo, first: int) -> dict[int, tuple[datetime, datetime] | None]:
    """The working windows of ``cal`` in ``tz`` worked out so far, by local day, for a search from ``first``."""
    key = (id(cal), tz)
    found = _DAYS.get(key)
    if found is None or found.cal is not cal:
        if len(_DAYS) >= _CALENDARS:
            _DAYS.clear()
        found = _DAYS[key] = _Days(cal, first)
    return found.since(first)


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
    days = _days(cal, tz, first)
    for ordinal in range(first, first + HORIZON_DAYS):
        if ordinal in days:
            window = days[ordinal]
        else:
            window = days[ordinal] = _window(cal, tz, ordinal)
        if window is not None:
            yield window


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


def add(
    span: Span, start: datetime, used: timedelta, cal: Calendar, tz: ZoneInfo
) -> datetime | None:
    """The moment ``span`` runs out if its clock runs from ``start`` with ``used`` already spent.

    Returns ``None`` when working time never runs out (a calendar without
    working days).  The result is in UTC.
    """
    remaining = span.total(cal) - used
    start_utc = start.astimezone(UTC)
    if remaining <= timedelta(0):
        return start_utc
    if not span.working:
        return start_utc + remaining
    for low, high in _windows(cal, tz, start):
        if high <= start_utc:
            continue
        begin = max(low, start_utc)
        if begin + remaining <= high:
            return begin + remaining
        remaining -= high - begin
    return None
