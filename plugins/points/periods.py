"""Calendar periods (day, week, month, quarter, year) in the community's time zone."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)


def period_key(when: datetime, tz: tzinfo, period: str) -> str:
    """The label of the ``period`` containing ``when`` (``2025-03``, ``2025-Q1``, ``2025-W09``)."""
    local = when.astimezone(tz)
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{local.year}-{local.month:02d}"
    if period == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    if period == "year":
        return f"{local.year}"
    raise ValueError(f"unknown period {period!r}")


def period_bounds(label: str, tz: tzinfo) -> tuple[datetime, datetime, str]:
    """``(start, end, kind)`` of a period label, as aware datetimes in ``tz`` (end exclusive).

    Accepts ``2025-03-01`` (day), ``2025-W09`` (ISO week), ``2025-03`` (month),
    ``2025-Q1`` (quarter) and ``2025`` (year).
    """
    text = label.strip()
    if m := _DAY.match(text):
        start_day = date(int(m[1]), int(m[2]), int(m[3]))
        return _at(start_day, tz), _at(start_day + timedelta(days=1), tz), "day"
    if m := _WEEK.match(text):
        start_day = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        return _at(start_day, tz), _at(start_day + timedelta(days=7), tz), "week"
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{label!r}: month must be 01-12")
        return _at(date(year, month, 1), tz), _at(_month_after(year, month), tz), "month"
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        first = date(year, 3 * quarter - 2, 1)
        end = _month_after(year, 3 * quarter)
        return _at(first, tz), _at(end, tz), "quarter"
    if m := _YEAR.match(text):
        year = int(m[1])
        return _at(date(year, 1, 1), tz), _at(date(year + 1, 1, 1), tz), "year"
    raise ValueError(
        f"{label!r} is not a period; write a day (2025-03-01), week (2025-W09), "
        "month (2025-03), quarter (2025-Q1) or year (2025)"
    )


def period_of(when: datetime, tz: tzinfo, period: str) -> tuple[datetime, datetime]:
    """``(start, end)`` of the ``period`` containing ``when``."""
    start, end, _ = period_bounds(period_key(when, tz, period), tz)
    return start, end


def units_in(start: datetime, end: datetime, tz: tzinfo, unit: str) -> list[str]:
    """Labels of every ``unit`` period that starts inside ``[start, end)``."""
    labels: list[str] = []
    cursor = start
    while cursor < end:
        label = period_key(cursor, tz, unit)
        unit_start, unit_end, _ = period_bounds(label, tz)
        if unit_start >= start:
            labels.append(label)
        cursor = unit_end
    return labels


def add_months(when: datetime, months: int, tz: tzinfo) -> datetime:
    """``when`` plus ``months`` calendar months in ``tz`` (the 31st becomes the month's last day)."""
    local = when.astimezone(tz)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return datetime.combine(date(year, month + 1, day), local.timetz().replace(tzinfo=None), tzinfo=tz)


def _month_after(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _at(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)
