"""Working-time arithmetic of the escalation plugin: hours, weekends, holidays, make-up days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from gridcore_escalation import worktime
from gridcore_escalation.policy import Calendar, Span
from gridcore_escalation.worktime import add, elapsed

TZ = ZoneInfo("Asia/Shanghai")
CAL = Calendar(
    start=time(8, 30),
    end=time(17, 30),
    holidays=((date(2025, 10, 1), date(2025, 10, 7)),),
    extra_workdays=frozenset({date(2025, 9, 28)}),
)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_wall_clock_span_ignores_the_calendar() -> None:
    span = Span(timedelta(hours=48))
    assert add(span, at(2025, 3, 7, 17), timedelta(0), CAL, TZ) == at(2025, 3, 9, 17)


def test_working_hours_skip_nights_and_weekends() -> None:
    # Friday 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h from Monday 08:30.
    span = Span(timedelta(hours=4), working=True)
    assert add(span, at(2025, 3, 7, 16), timedelta(0), CAL, TZ) == at(2025, 3, 10, 11)


def test_a_report_at_night_starts_counting_next_morning() -> None:
    span = Span(timedelta(hours=2), working=True)
    assert add(span, at(2025, 3, 4, 22), timedelta(0), CAL, TZ) == at(2025, 3, 5, 10, 30)


def test_holidays_do_not_count_and_make_up_days_do() -> None:
    day = CAL.day_length
    assert day == timedelta(hours=9)
    # Sunday 2025-09-28 is a make-up working day; the National Day week is not:
    # Sunday, Monday 29, Tuesday 30, then Wednesday 8 October.
    span = Span(4 * day, working=True)
    assert add(span, at(2025, 9, 28, 8, 30), timedelta(0), CAL, TZ) == at(2025, 10, 8, 17, 30)
    assert CAL.is_working_day(date(2025, 9, 28))
    assert not CAL.is_working_day(date(2025, 10, 3))


def test_time_already_spent_is_kept() -> None:
    span = Span(timedelta(hours=4), working=True)
    assert add(span, at(2025, 3, 5, 9), timedelta(hours=3), CAL, TZ) == at(2025, 3, 5, 10)
    assert add(span, at(2025, 3, 5, 9), timedelta(hours=5), CAL, TZ) == at(2025, 3, 5, 9)


def test_elapsed_counts_only_working_hours() -> None:
    assert elapsed(True, at(2025, 3, 7, 17), at(2025, 3, 10, 9), CAL, TZ) == timedelta(hours=1)
    assert elapsed(False, at(2025, 3, 7, 17), at(2025, 3, 10, 9), CAL, TZ) == timedelta(hours=64)


def test_a_calendar_without_working_days_never_runs_out() -> None:
    idle = Calendar(weekdays=frozenset())
    assert (
        add(Span(timedelta(hours=1), working=True), at(2025, 3, 5), timedelta(0), idle, TZ) is None
    )


def test_times_in_other_zones_are_the_same_instants() -> None:
    utc_start = at(2025, 3, 7, 16).astimezone(UTC)
    span = Span(timedelta(hours=4), working=True)
    assert add(span, utc_start, timedelta(0), CAL, TZ) == at(2025, 3, 10, 11)


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 1, 1)).map(
    lambda d: d.replace(tzinfo=TZ)
)


@given(
    moments,
    st.integers(min_value=1, max_value=60 * 60),
    st.integers(min_value=0, max_value=60 * 60),
)
def test_the_deadline_is_exactly_the_span_of_working_time_later(
    start: datetime, minutes: int, spent: int
) -> None:
    span = Span(timedelta(minutes=minutes), working=True)
    used = timedelta(minutes=min(spent, minutes))
    deadline = add(span, start, used, CAL, TZ)
    assert deadline is not None and deadline >= start
    assert elapsed(True, start, deadline, CAL, TZ) == span.amount - used


def test_the_working_windows_kept_follow_the_days_searched_not_the_years() -> None:
    """A calendar's windows of days long before the day searched from now are dropped (``KEPT_BEHIND``),
    and worked out again, the same, if an older clock asks for them."""
    cal = Calendar(start=time(9), end=time(17))
    span = Span(timedelta(hours=20), working=True)
    first = at(2020, 1, 6, 10)
    answers = [add(span, first + timedelta(days=day), timedelta(0), cal, TZ) for day in range(0, 3000, 7)]
    days = worktime._DAYS[(id(cal), TZ)]
    today = (first + timedelta(days=2996)).date().toordinal()
    assert days.base >= today - 2 * worktime.KEPT_BEHIND and len(days.lows) <= 2 * worktime.KEPT_BEHIND + 10
    assert len(days.cum) == len(days.lows) + 1
    again = [add(span, first + timedelta(days=day), timedelta(0), cal, TZ) for day in range(2996, -1, -7)]
    assert again == answers[::-1]
    fresh = Calendar(start=time(9), end=time(17))  # (an equal calendar of its own: every window worked out anew)
    assert [add(span, first + timedelta(days=day), timedelta(0), fresh, TZ) for day in range(0, 3000, 7)] == answers
