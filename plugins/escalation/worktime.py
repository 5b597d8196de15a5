"""Counting time limits in wall-clock time or in a calendar's working time.

Working hours are read in the community's time zone; every comparison and sum
is done in UTC so that daylight-saving shifts never distort a limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .policy import Calendar, Span

#: How far ahead a working-time deadline is searched (a calendar with no
#: working day in ten years has no deadline at all).
HORIZON_DAYS = 3660


def _windows(cal: Calendar, tz: ZoneInfo, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working windows (UTC start, UTC end) from the local day of ``since`` on."""
    day: date = since.astimezone(tz).date()
    for _ in range(HORIZON_DAYS):
        if cal.is_working_day(day):
            start = datetime.combine(day, cal.start, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, cal.end, tzinfo=tz).astimezone(UTC)
            if end > start:
                yield start, end
        day += timedelta(days=1)


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
