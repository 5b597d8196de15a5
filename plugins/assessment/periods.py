"""Calendar periods in a community's time zone: days, ISO weeks, months, quarters, years.

A period is a half-open span ``[start, end)`` of aware datetimes that begin at
local midnight in the community's zone (``engine.community.tz``), so a month in
Asia/Shanghai starts at ``2025-03-01T00:00+08:00`` whatever zone the events were
written in.  Labels::

    2025-03-05   a day          2025-W10   an ISO week (Monday to Sunday)
    2025-03      a month        2025-Q1    a quarter
    2025         a year

``parse_period("2025-Q1", tz)`` turns a label into a ``Period``;
``period_containing("quarter", when, tz)`` gives the period a moment falls in.
Other plugins may use this module (it imports nothing from the assessment plugin).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo

from attrs import frozen

from gridcore.errors import GridcoreError

#: Period kinds, shortest first.
KINDS = ("day", "week", "month", "quarter", "year")

#: Every spelling of a kind that rulesets and the CLI accept.
KIND_ALIASES = {
    "day": "day", "daily": "day", "日": "day", "每日": "day", "每天": "day", "天": "day",
    "week": "week", "weekly": "week", "周": "week", "每周": "week",
    "month": "month", "monthly": "month", "月": "month", "每月": "month", "月度": "month",
    "quarter": "quarter", "quarterly": "quarter", "季": "quarter", "季度": "quarter",
    "每季度": "quarter",
    "year": "year", "yearly": "year", "annual": "year", "年": "year", "年度": "year", "每年": "year",
}  # fmt: skip

_PATTERNS = (
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)),
    ("month", re.compile(r"^(\d{4})-(\d{1,2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)),
    ("year", re.compile(r"^(\d{4})$")),
)


class PeriodError(GridcoreError):
    """A period label or kind that cannot be read."""


@frozen
class Period:
    """A calendar period ``[start, end)`` in one time zone, with its label."""

    kind: str
    label: str
    first_day: date
    end_day: date  # exclusive
    tz: tzinfo

    @property
    def start(self) -> datetime:
        """Local midnight of the first day (aware)."""
        return _midnight(self.first_day, self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight of the day after the last day (aware, exclusive)."""
        return _midnight(self.end_day, self.tz)

    def contains(self, when: datetime) -> bool:
        """True if the aware datetime ``when`` falls in ``[start, end)``."""
        return self.start <= when < self.end

    def days(self) -> list[date]:
        """Every calendar day of the period, in order."""
        count = (self.end_day - self.first_day).days
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def next(self) -> Period:
        """The period of the same kind that follows this one."""
        return period_of_day(self.kind, self.end_day, self.tz)

    def previous(self) -> Period:
        """The period of the same kind that precedes this one."""
        return period_of_day(self.kind, self.first_day - timedelta(days=1), self.tz)

    def __str__(self) -> str:
        return self.label


def normalise_kind(kind: str) -> str:
    """``"quarterly"``, ``"季度"``, ``"quarter"`` -> ``"quarter"``; PeriodError if unknown."""
    found = KIND_ALIASES.get(kind.strip().lower())
    if found is None:
        raise PeriodError(f"unknown period kind {kind!r}; use one of {', '.join(KINDS)}")
    return found


def parse_period(label: str, tz: tzinfo) -> Period:
    """Turn ``2025-Q1``, ``2025-03``, ``2025-W10``, ``2025-03-05`` or ``2025`` into a Period."""
    text = label.strip()
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        numbers = [int(g) for g in match.groups()]
        try:
            return _build(kind, numbers, tz)
        except ValueError as exc:
            raise PeriodError(f"{label!r} is not a real {kind}: {exc}") from None
    raise PeriodError(
        f"cannot read period {label!r}; write a day 2025-03-05, a week 2025-W10, "
        "a month 2025-03, a quarter 2025-Q1 or a year 2025"
    )


def period_of_day(kind: str, day: date, tz: tzinfo) -> Period:
    """The period of ``kind`` that contains the calendar day ``day``."""
    kind = normalise_kind(kind)
    if kind == "day":
        return _build("day", [day.year, day.month, day.day], tz)
    if kind == "week":
        iso = day.isocalendar()
        return _build("week", [iso.year, iso.week], tz)
    if kind == "month":
        return _build("month", [day.year, day.month], tz)
    if kind == "quarter":
        return _build("quarter", [day.year, (day.month - 1) // 3 + 1], tz)
    return _build("year", [day.year], tz)


def period_containing(kind: str, when: datetime, tz: tzinfo) -> Period:
    """The period of ``kind`` that the aware moment ``when`` falls in, judged in ``tz``."""
    return period_of_day(kind, when.astimezone(tz).date(), tz)


def periods_between(kind: str, start: datetime, end: datetime, tz: tzinfo) -> Iterator[Period]:
    """Every period of ``kind`` that overlaps ``[start, end)``, in order."""
    period = period_containing(kind, start, tz)
    while period.start < end:
        yield period
        period = period.next()


def _build(kind: str, numbers: list[int], tz: tzinfo) -> Period:
    if kind == "day":
        first = date(numbers[0], numbers[1], numbers[2])
        return Period("day", first.isoformat(), first, first + timedelta(days=1), tz)
    if kind == "week":
        year, week = numbers
        first = date.fromisocalendar(year, week, 1)
        return Period("week", f"{year}-W{week:02d}", first, first + timedelta(days=7), tz)
    if kind == "month":
        year, month = numbers
        first = date(year, month, 1)
        return Period("month", f"{year}-{month:02d}", first, _add_months(first, 1), tz)
    if kind == "quarter":
        year, quarter = numbers
        first = date(year, 3 * quarter - 2, 1)
        return Period("quarter", f"{year}-Q{quarter}", first, _add_months(first, 3), tz)
    first = date(numbers[0], 1, 1)
    return Period("year", f"{numbers[0]}", first, date(numbers[0] + 1, 1, 1), tz)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
