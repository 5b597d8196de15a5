"""Calendar periods of the assessment plugin, in the community's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from gridcore_assessment.periods import (
    KINDS,
    PeriodError,
    normalise_kind,
    parse_period,
    period_containing,
    period_of_day,
    periods_between,
)
from hypothesis import given
from hypothesis import strategies as st

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "label,kind,first,end",
    [
        ("2025-Q1", "quarter", date(2025, 1, 1), date(2025, 4, 1)),
        ("2025-q4", "quarter", date(2025, 10, 1), date(2026, 1, 1)),
        ("2025-03", "month", date(2025, 3, 1), date(2025, 4, 1)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 3, 1)),
        ("2025-12", "month", date(2025, 12, 1), date(2026, 1, 1)),
        ("2025-W10", "week", date(2025, 3, 3), date(2025, 3, 10)),
        ("2025-W01", "week", date(2024, 12, 30), date(2025, 1, 6)),
        ("2026-W53", "week", date(2026, 12, 28), date(2027, 1, 4)),
        ("2025-03-05", "day", date(2025, 3, 5), date(2025, 3, 6)),
        ("2025", "year", date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_labels_parse_to_calendar_bounds(label: str, kind: str, first: date, end: date) -> None:
    period = parse_period(label, SHANGHAI)
    assert (period.kind, period.first_day, period.end_day) == (kind, first, end)
    assert period.start == datetime(first.year, first.month, first.day, tzinfo=SHANGHAI)
    assert period.start.utcoffset() == timedelta(hours=8)
    assert parse_period(period.label, SHANGHAI) == period


def test_a_quarter_in_shanghai_starts_at_local_midnight() -> None:
    q1 = parse_period("2025-Q1", SHANGHAI)
    assert q1.start.astimezone(UTC) == datetime(2024, 12, 31, 16, tzinfo=UTC)
    # 23:30 UTC on 31 March is already 1 April in Shanghai: the next quarter
    assert not q1.contains(datetime(2025, 3, 31, 16, 30, tzinfo=UTC))
    assert q1.contains(datetime(2025, 3, 31, 15, 59, tzinfo=UTC))
    assert len(q1.days()) == 90


def test_daylight_saving_months_keep_local_midnights() -> None:
    march = parse_period("2025-03", NEW_YORK)
    assert march.start.utcoffset() == timedelta(hours=-5)
    assert march.end.utcoffset() == timedelta(hours=-4)
    elapsed = march.end.astimezone(UTC) - march.start.astimezone(UTC)
    assert elapsed == timedelta(days=31) - timedelta(hours=1)


@pytest.mark.parametrize("label", ["2025-Q5", "2025-13", "2025-02-30", "2025-W54", "Q1-2025", "", "二〇二五"])
def test_bad_labels_say_what_to_write(label: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(label, SHANGHAI)
    assert repr(label) in str(info.value)


def test_kind_spellings() -> None:
    assert normalise_kind("quarterly") == normalise_kind("季度") == "quarter"
    assert normalise_kind("Monthly") == normalise_kind("月") == "month"
    with pytest.raises(PeriodError):
        normalise_kind("fortnight")


def test_next_previous_and_between() -> None:
    q = parse_period("2025-Q4", SHANGHAI)
    assert q.next().label == "2026-Q1" and q.previous().label == "2025-Q3"
    months = list(periods_between("month", parse_period("2025-Q1", SHANGHAI).start,
                                  parse_period("2025-Q1", SHANGHAI).end, SHANGHAI))
    assert [m.label for m in months] == ["2025-01", "2025-02", "2025-03"]


@given(
    kind=st.sampled_from(KINDS),
    moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2090, 12, 30),
                        timezones=st.just(UTC)),
)
def test_every_moment_falls_in_exactly_one_period(kind: str, moment: datetime) -> None:
    period = period_containing(kind, moment, SHANGHAI)
    assert period.contains(moment)
    assert not period.next().contains(moment) and not period.previous().contains(moment)
    assert period.next().start == period.end
    assert parse_period(period.label, SHANGHAI) == period
    assert period_of_day(kind, period.first_day, SHANGHAI) == period
