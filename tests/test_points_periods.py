"""Periods in the community's time zone: labels, bounds, month arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from gridcore_points.periods import add_months, period_bounds, period_key, units_in
from hypothesis import given
from hypothesis import strategies as st

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_labels_are_taken_in_the_community_zone() -> None:
    # 16:30 UTC on 31 March is already 1 April in Shanghai.
    when = datetime(2025, 3, 31, 16, 30, tzinfo=UTC)
    assert [period_key(when, SHANGHAI, p) for p in ("day", "week", "month", "quarter", "year")] == [
        "2025-04-01", "2025-W14", "2025-04", "2025-Q2", "2025",
    ]
    assert period_key(when, UTC, "month") == "2025-03"


def test_bounds_of_each_kind_of_label() -> None:
    start, end, kind = period_bounds("2025-Q1", SHANGHAI)
    assert (start.isoformat(), end.isoformat(), kind) == (
        "2025-01-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00", "quarter")
    assert period_bounds("2025-W01", SHANGHAI)[0].date().isoformat() == "2024-12-30"
    assert period_bounds("2024-12", SHANGHAI)[1].date().isoformat() == "2025-01-01"
    assert period_bounds("2025-03-01", SHANGHAI)[2] == "day"
    with pytest.raises(ValueError, match="is not a period"):
        period_bounds("March", SHANGHAI)
    with pytest.raises(ValueError, match="month must be 01-12"):
        period_bounds("2025-13", SHANGHAI)


def test_adding_months_keeps_the_day_or_takes_the_last_one() -> None:
    jan31 = datetime(2025, 1, 31, 9, tzinfo=SHANGHAI)
    assert add_months(jan31, 1, SHANGHAI).date().isoformat() == "2025-02-28"
    assert add_months(jan31, 12, SHANGHAI).isoformat() == "2026-01-31T09:00:00+08:00"


def test_units_of_a_span() -> None:
    start, end, _ = period_bounds("2025-Q1", SHANGHAI)
    assert units_in(start, end, SHANGHAI, "month") == ["2025-01", "2025-02", "2025-03"]
    start, end, _ = period_bounds("2025-03", SHANGHAI)
    assert units_in(start, end, SHANGHAI, "week") == ["2025-W10", "2025-W11", "2025-W12", "2025-W13", "2025-W14"]  # weeks starting in March


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["day", "week", "month", "quarter", "year"]))
def test_a_moment_lies_in_the_bounds_of_its_label(naive: datetime, period: str) -> None:
    when = naive.replace(tzinfo=SHANGHAI)
    start, end, kind = period_bounds(period_key(when, SHANGHAI, period), SHANGHAI)
    assert kind == period and start <= when < end
