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

#: (calendar's id, zone) -> the calendar (held, so the id stays its own) and its working
#: window (UTC start, UTC end; None: no working hours) by local day (``date.toordinal``):
#: a deadline is worked out again on many events of a case, over the same days.
_DAYS: dict[tuple[int, tzinfo], tuple[Calendar, dict[int, tuple[datetime, datetime] | None]]] = {}
#: Calendars kept (a process judging under many rulesets starts afresh past this).
_CALENDARS = 64


def _days(cal: Calendar, tz: ZoneInfo) -> dict[int, tuple[datetime, datetime] | None]:
    """The working windows of ``cal`` in ``tz`` worked out so far, by local day."""
    key = (id(cal), tz)
    found = _DAYS.get(key)
    if found is None or found[0] is not cal:
        if len(_DAYS) >= _CALENDARS:
            _DAYS.clear()
        found = _DAYS[key] = (cal, {})
    return found[1]


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
    days = _days(cal, tz)
    first = since.astimezone(tz).date().toordinal()
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
