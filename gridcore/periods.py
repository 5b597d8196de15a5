"""Calendar periods in a community's time zone: days, ISO weeks, months, quarters, years.

A period is a half-open span ``[start, end)`` of aware datetimes that begin at
local midnight in the community's zone (``engine.community.tz``), so a month in
Asia/Shanghai starts at ``2025-03-01T00:00+08:00`` whatever zone the events were
written in.  Labels, as staff and the CLI write them::

    2025-03-05   a day          2025-W10   an ISO week (Monday to Sunday)
    2025-03      a month        2025-Q1    a quarter
    2025         a year

Months, days and weeks may drop their leading zero on input (``2025-3-8``,
``2025-W9``); labels produced here are always padded (``2025-03-08``, ``2025-W09``).
Staff may write them in Chinese too: ``2025年3月5日``, ``2025年第10周``, ``2025年3月``,
``2025年一季度`` (or ``2025年第1季度``), ``2025年``: ``period_label`` reads what they type
(the command line's ``--period``) and gives the label, the same period whichever way it was
written; ``parse_period`` reads labels.

``parse_period("2025-Q1", tz)`` turns a label into a ``Period``;
``period_containing("quarter", when, tz)`` gives the period a moment falls in and
``period_key("quarter", when, tz)`` just its label (cheap: for counting).
``periods_between`` lists the periods overlapping a span, ``periods_starting_in``
those that begin inside it; ``add_months`` moves a moment by calendar months.

Policy-free: the plugins decide what a period means (caps, streaks, ratings, statistics).
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC as utc
from datetime import date, datetime, timedelta, tzinfo

from .classes import frozen
from .clock import require_aware
from .errors import GridcoreError
from .events import FIRST_YEAR, LAST_YEAR

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
    ("day", re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)),
    ("month", re.compile(r"^(\d{4})-(\d{1,2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)),
    ("year", re.compile(r"^(\d{4})$")),
)

#: as staff write them in Chinese: 2025年3月5日, 2025年第10周, 2025年3月, 2025年一季度 / 第1季度, 2025年
_WRITTEN = (
    ("day", re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]$")),
    ("week", re.compile(r"^(\d{4})\s*年\s*第?\s*(\d{1,2})\s*周$")),
    ("month", re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月份?$")),
    ("quarter", re.compile(r"^(\d{4})\s*年\s*(?:第\s*([1-4一二三四])\s*季度?|([1-4一二三四])\s*季度|Q([1-4]))$",
                           re.IGNORECASE)),
    ("year", re.compile(r"^(\d{4})\s*年度?$")),
)

_EVERY_WAY = _PATTERNS + _WRITTEN

#: the Chinese numerals a quarter is written with (一季度)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


class PeriodError(GridcoreError, ValueError):
    """A period label or kind that cannot be read.

    Also a ``ValueError``, as the points plugin's period helpers raised before they
    moved here, so callers that caught ``ValueError`` keep working.
    """


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
        raise PeriodError(f"unknown period kind {kind!r}; use one of {', '.join(KINDS)} (未知的周期类型)")
    return found


def parse_period(label: str, tz: tzinfo) -> Period:
    """Turn ``2025-Q1``, ``2025-03``, ``2025-W10``, ``2025-03-05`` or ``2025`` into a Period."""
    return _parsed(label, label.strip(), _PATTERNS, tz)


def period_label(written: str) -> str:
    """The label of the period ``written`` names, as staff write it: a label (``2025-03``, also
    ``2025-3``) or its Chinese (``2025年3月``, ``2025年第10周``, ``2025年一季度``, ``2025年3月5日``,
    ``2025年``; full-width digits too) -> ``2025-03`` ...; ``PeriodError`` as ``parse_period``.

    For what staff type (the command line's ``--period``, the service's ``period``): what is
    read from it is then a label, the same whatever way it was written."""
    text = unicodedata.normalize("NFKC", written).strip()  # (full-width digits as an input method types them)
    return _parsed(written, text, _EVERY_WAY, utc).label


def label_zh(label: str) -> str:
    """A period's label as staff read it in Chinese: ``2025-03`` -> ``2025年3月``, ``2025-Q1`` ->
    ``2025年一季度``, ``2025-W10`` -> ``2025年第10周``, ``2025-03-05`` -> ``2025年3月5日``, ``2025`` ->
    ``2025年``; what ``period_label`` reads back to the label.  Any other text is returned as it is."""
    for kind, pattern in _PATTERNS:
        found = pattern.match(label)
        if found is not None:
            numbers = [int(g) for g in found.groups()]
            return _IN_CHINESE[kind].format(*numbers, quarter="一二三四"[numbers[-1] - 1] if kind == "quarter" else "")
    return label


#: A label's numbers as staff write the period in Chinese (what ``_WRITTEN`` reads)
_IN_CHINESE = {"day": "{0}年{1}月{2}日", "week": "{0}年第{1}周", "month": "{0}年{1}月", "quarter": "{0}年{quarter}季度",
               "year": "{0}年"}


def _parsed(label: str, text: str, patterns: tuple[tuple[str, re.Pattern[str]], ...], tz: tzinfo) -> Period:
    for kind, pattern in patterns:
        match = pattern.match(text)
        if match is None:
            continue
        numbers = [_CHINESE_DIGITS.get(g) or int(g) for g in match.groups() if g is not None]
        try:
            first = _first_day_of_label(kind, numbers)
        except ValueError as exc:
            raise PeriodError(f"{label!r} is not a real {kind}: {exc} (没有这个日期或周期)") from None
        if not FIRST_YEAR <= first.year <= LAST_YEAR:  # (no event is dated outside them; 9999's end is not a date)
            raise PeriodError(f"{label!r} is not between {FIRST_YEAR} and {LAST_YEAR}, the years events may have "
                              f"(周期须在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间)")
        return period_of_day(kind, first, tz)
    also = "；也可写 2025年3月5日、2025年第10周、2025年3月、2025年一季度、2025年" if patterns is not _PATTERNS else ""
    raise PeriodError(
        f"period {label!r} not understood; write a day 2025-03-05, a week 2025-W10, "
        "a month 2025-03, a quarter 2025-Q1 or a year 2025 (无法识别的周期：日写 2025-03-05，周写 2025-W10，"
        f"月写 2025-03，季度写 2025-Q1，年写 2025{also})"
    )


def period_of_day(kind: str, day: date, tz: tzinfo) -> Period:
    """The period of ``kind`` that contains the calendar day ``day``."""
    kind = _kind(kind)
    first = _first_day(kind, day)
    return Period(kind, _label(kind, first), first, _end_day(kind, first), tz)


def period_containing(kind: str, when: datetime, tz: tzinfo) -> Period:
    """The period of ``kind`` that the aware moment ``when`` falls in, judged in ``tz``."""
    return period_of_day(kind, _local_day(when, tz), tz)


def period_key(kind: str, when: datetime, tz: tzinfo) -> str:
    """The label of the period of ``kind`` containing ``when`` (``2025-03``, ``2025-W09``).

    The same as ``period_containing(kind, when, tz).label``, without building the
    period: for counting per period.
    """
    return _label(_kind(kind), _local_day(when, tz))


def periods_between(kind: str, start: datetime, end: datetime, tz: tzinfo) -> Iterator[Period]:
    """Every period of ``kind`` that overlaps ``[start, end)``, in order."""
    period = period_containing(kind, start, tz)
    while period.start < end:
        yield period
        period = period.next()


def periods_starting_in(
    kind: str, start: datetime, end: datetime, tz: tzinfo
) -> Iterator[Period]:
    """Every period of ``kind`` that begins inside ``[start, end)``, in order.

    The weeks of March are the weeks whose Monday is in March: a week that began
    in February is left out, one that runs on into April is kept.
    """
    for period in periods_between(kind, start, end, tz):
        if period.start >= start:
            yield period


def add_months(when: datetime, months: int, tz: tzinfo) -> datetime:
    """``when`` plus ``months`` calendar months, read on the wall clock of ``tz``.

    The day of the month is kept, or becomes the month's last day when the month
    is shorter (31 January plus one month is 28 or 29 February).
    """
    local = require_aware(when).astimezone(tz)
    day = _shift_months(local.date(), months)
    return datetime.combine(day, local.time(), tzinfo=tz)


def _kind(kind: str) -> str:
    # Canonical kinds skip the alias lookup: period_key is called per ledger entry.
    return kind if kind in KINDS else normalise_kind(kind)


def _local_day(when: datetime, tz: tzinfo) -> date:
    # A naive time would be read in the host's zone: refuse it rather than guess.
    return require_aware(when).astimezone(tz).date()


def _first_day_of_label(kind: str, numbers: list[int]) -> date:
    if kind == "day":
        return date(numbers[0], numbers[1], numbers[2])
    if kind == "week":
        return date.fromisocalendar(numbers[0], numbers[1], 1)
    if kind == "month":
        return date(numbers[0], numbers[1], 1)
    if kind == "quarter":
        return date(numbers[0], 3 * numbers[1] - 2, 1)
    return date(numbers[0], 1, 1)


def _first_day(kind: str, day: date) -> date:
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def _end_day(kind: str, first: date) -> date:
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    if kind == "month":
        return _shift_months(first, 1)
    if kind == "quarter":
        return _shift_months(first, 3)
    return date(first.year + 1, 1, 1)


def _label(kind: str, day: date) -> str:
    """The label of the period of ``kind`` containing ``day`` (any day of it)."""
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}"


#: Days shifted kept (the least recently asked for go first): events ask about the days around the latest
#: event's (a credit's expiry, a period's end), about one new day a day, so the cache held one entry per
#: day of the log up to its bound (2,152 entries, 0.43 MiB, at 1M events of Yinquan's fixed population:
#: 5.6 years); 1,024 days, about 0.2 MiB, hold the days still asked about.
SHIFTED_DAYS = 1024


@functools.lru_cache(maxsize=SHIFTED_DAYS)
def _shift_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day.

    Kept for the last ``SHIFTED_DAYS`` asked (a date and its result are immutable): every credit under an
    expiry asks for its day's (``add_months``), and ``calendar.monthrange`` is most of it.  One cache: a
    second one under it (d600df6, maxsize 4,096) kept every day of the log again up to its bound.
    """
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


#: ``day`` moved by ``months`` calendar months, clamped to the month's last day: what ``add_months`` does to
#: a time's local date, for a caller that holds the local time already (the same cache)
shift_months = _shift_months


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
