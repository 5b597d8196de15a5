"""Calendar periods in the community's time zone (gridcore.periods): labels, bounds, arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gridcore_assessment
from gridcore import GridcoreError
from gridcore.events import FIRST_YEAR, LAST_YEAR
from gridcore.periods import (
    KIND_ALIASES,
    KINDS,
    Period,
    PeriodError,
    add_months,
    label_zh,
    normalise_kind,
    parse_period,
    period_containing,
    period_key,
    period_label,
    period_of_day,
    periods_between,
    periods_starting_in,
)

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


@pytest.mark.parametrize(
    "written,label", [("2025-3-8", "2025-03-08"), ("2025-3", "2025-03"), ("2025-w9", "2025-W09"),
                      (" 2025-Q2 ", "2025-Q2")],
)
def test_short_spellings_read_as_the_padded_label(written: str, label: str) -> None:
    assert parse_period(written, SHANGHAI).label == label == str(parse_period(label, SHANGHAI))


def test_a_quarter_in_shanghai_starts_at_local_midnight() -> None:
    q1 = parse_period("2025-Q1", SHANGHAI)
    assert (q1.start.isoformat(), q1.end.isoformat()) == (
        "2025-01-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00")
    assert q1.start.astimezone(UTC) == datetime(2024, 12, 31, 16, tzinfo=UTC)
    # 16:30 UTC on 31 March is already 1 April in Shanghai: the next quarter
    assert not q1.contains(datetime(2025, 3, 31, 16, 30, tzinfo=UTC))
    assert q1.contains(datetime(2025, 3, 31, 15, 59, tzinfo=UTC))
    assert len(q1.days()) == 90


def test_labels_are_taken_in_the_community_zone() -> None:
    # 16:30 UTC on 31 March is already 1 April in Shanghai.
    when = datetime(2025, 3, 31, 16, 30, tzinfo=UTC)
    assert [period_key(kind, when, SHANGHAI) for kind in KINDS] == [
        "2025-04-01", "2025-W14", "2025-04", "2025-Q2", "2025",
    ]
    assert period_key("month", when, UTC) == "2025-03"
    assert period_key("季度", when, SHANGHAI) == "2025-Q2"


def test_daylight_saving_months_keep_local_midnights() -> None:
    march = parse_period("2025-03", NEW_YORK)
    assert march.start.utcoffset() == timedelta(hours=-5)
    assert march.end.utcoffset() == timedelta(hours=-4)
    elapsed = march.end.astimezone(UTC) - march.start.astimezone(UTC)
    assert elapsed == timedelta(days=31) - timedelta(hours=1)


@pytest.mark.parametrize("label", ["2025-Q5", "2025-13", "2025-02-30", "2025-W54", "Q1-2025", "",
                                   "二〇二五", "March", "2025-00"])
def test_bad_labels_say_what_to_write(label: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(label, SHANGHAI)
    assert repr(label) in str(info.value)
    # a GridcoreError for the CLI, a ValueError for callers of the old points helpers
    assert isinstance(info.value, GridcoreError) and isinstance(info.value, ValueError)


def test_bad_labels_say_why() -> None:
    with pytest.raises(PeriodError, match="not understood; write a day 2025-03-05"):
        parse_period("March", SHANGHAI)
    with pytest.raises(PeriodError, match="'2025-13' is not a real month: month must be in 1..12"):
        parse_period("2025-13", SHANGHAI)
    with pytest.raises(PeriodError, match="'2025-W54' is not a real week"):
        parse_period("2025-W54", SHANGHAI)
    # each refusal says what to write in Chinese too
    with pytest.raises(PeriodError, match="无法识别的周期：日写 2025-03-05，周写 2025-W10，月写 2025-03，季度写 2025-Q1"):
        parse_period("2025年五季度", SHANGHAI)
    # what staff type (period_label) may be Chinese too, and its refusal says so; a label (parse_period) may not
    with pytest.raises(PeriodError, match="也可写 2025年3月5日、2025年第10周、2025年3月、2025年一季度、2025年"):
        period_label("上个月")
    with pytest.raises(PeriodError, match="'2025年13月' is not a real month"):
        period_label("2025年13月")
    with pytest.raises(PeriodError, match=r"not understood; .*年写 2025\)$"):
        parse_period("2025年3月", SHANGHAI)
    with pytest.raises(PeriodError, match="没有这个日期或周期"):
        parse_period("2025-13", SHANGHAI)


@pytest.mark.parametrize(("written", "label"), [
    ("2025年3月5日", "2025-03-05"), ("2025年3月5号", "2025-03-05"), ("2025年第10周", "2025-W10"),
    ("2025年3月", "2025-03"), ("2025年03月份", "2025-03"), ("２０２５年３月", "2025-03"), ("2025 年 3 月", "2025-03"),
    ("2025年一季度", "2025-Q1"), ("2025年第四季度", "2025-Q4"), ("2025年第2季度", "2025-Q2"), ("2025年3季度", "2025-Q3"),
    ("2025年Q1", "2025-Q1"), ("2025年", "2025"), ("2025年度", "2025"), ("２０２５－Ｑ１", "2025-Q1"),
])
def test_staff_write_periods_in_chinese(written: str, label: str) -> None:
    assert period_label(written) == label


@given(st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31)),
       st.sampled_from(["day", "week", "month", "quarter", "year"]))
def test_every_period_written_in_chinese_is_the_same_period(day: date, kind: str) -> None:
    period = period_of_day(kind, day, SHANGHAI)
    first = period.first_day
    quarter = "一二三四"[(first.month - 1) // 3]
    week = period.label.partition("-W")[2]
    written = {"day": f"{first.year}年{first.month}月{first.day}日", "week": f"{period.label[:4]}年第{week}周",
               "month": f"{first.year}年{first.month}月", "quarter": f"{first.year}年{quarter}季度",
               "year": f"{first.year}年"}[kind]
    assert parse_period(period_label(written), SHANGHAI) == period and period_label(period.label) == period.label


def test_kind_spellings() -> None:
    assert normalise_kind("quarterly") == normalise_kind("季度") == "quarter"
    assert normalise_kind("Monthly") == normalise_kind("月") == "month"
    assert set(KIND_ALIASES.values()) == set(KINDS)
    with pytest.raises(PeriodError, match="unknown period kind 'fortnight'"):
        normalise_kind("fortnight")
    with pytest.raises(PeriodError):
        period_key("fortnight", datetime(2025, 3, 1, tzinfo=UTC), SHANGHAI)


def test_a_naive_time_is_refused_not_read_in_the_host_zone() -> None:
    naive = datetime(2025, 3, 31, 23, 30)
    for call in (period_key, period_containing):
        with pytest.raises(ValueError, match="has no time zone"):
            call("day", naive, SHANGHAI)
    with pytest.raises(ValueError, match="has no time zone"):
        add_months(naive, 1, SHANGHAI)


def test_next_previous_and_between() -> None:
    q = parse_period("2025-Q4", SHANGHAI)
    assert q.next().label == "2026-Q1" and q.previous().label == "2025-Q3"
    q1 = parse_period("2025-Q1", SHANGHAI)
    months = list(periods_between("month", q1.start, q1.end, SHANGHAI))
    assert [m.label for m in months] == ["2025-01", "2025-02", "2025-03"]
    # a span that starts mid-week still overlaps that week
    mid = datetime(2025, 3, 5, 12, tzinfo=SHANGHAI)
    assert [w.label for w in periods_between("week", mid, mid + timedelta(days=7), SHANGHAI)] == [
        "2025-W10", "2025-W11"]


def test_periods_starting_in_a_span() -> None:
    q1 = parse_period("2025-Q1", SHANGHAI)
    assert [p.label for p in periods_starting_in("month", q1.start, q1.end, SHANGHAI)] == [
        "2025-01", "2025-02", "2025-03"]
    march = parse_period("2025-03", SHANGHAI)
    # weeks whose Monday is in March: W09 began in February, W14 runs on into April
    assert [p.label for p in periods_starting_in("week", march.start, march.end, SHANGHAI)] == [
        "2025-W10", "2025-W11", "2025-W12", "2025-W13", "2025-W14"]


def test_adding_months_keeps_the_day_or_takes_the_last_one() -> None:
    jan31 = datetime(2025, 1, 31, 9, tzinfo=SHANGHAI)
    assert add_months(jan31, 1, SHANGHAI).date().isoformat() == "2025-02-28"
    assert add_months(jan31, 13, SHANGHAI).date().isoformat() == "2026-02-28"
    assert add_months(datetime(2024, 1, 31, tzinfo=SHANGHAI), 1, SHANGHAI).day == 29
    assert add_months(jan31, 12, SHANGHAI).isoformat() == "2026-01-31T09:00:00+08:00"
    assert add_months(jan31, -2, SHANGHAI).isoformat() == "2024-11-30T09:00:00+08:00"
    # read on the community's wall clock: 20:00 UTC on 31 Jan is 1 Feb 04:00 in Shanghai
    assert add_months(datetime(2025, 1, 31, 20, tzinfo=UTC), 1, SHANGHAI).isoformat() == (
        "2025-03-01T04:00:00+08:00")


def test_the_assessment_plugin_still_re_exports_periods() -> None:
    assert gridcore_assessment.parse_period is parse_period
    assert gridcore_assessment.Period is Period and gridcore_assessment.PeriodError is PeriodError
    assert gridcore_assessment.period_containing is period_containing
    assert gridcore_assessment.periods_between is periods_between


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
    assert period_key(kind, moment, SHANGHAI) == period.label


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(KINDS))
def test_a_moment_lies_in_the_bounds_of_its_label(naive: datetime, kind: str) -> None:
    when = naive.replace(tzinfo=SHANGHAI)
    period = parse_period(period_key(kind, when, SHANGHAI), SHANGHAI)
    assert period.kind == kind and period.start <= when < period.end


@given(
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                      timezones=st.just(SHANGHAI)),
    months=st.integers(min_value=-120, max_value=120),
)
def test_adding_months_moves_the_month_and_never_overflows_it(when: datetime, months: int) -> None:
    later = add_months(when, months, SHANGHAI)
    assert (later.year * 12 + later.month) - (when.year * 12 + when.month) == months
    assert later.time() == when.time() and later.day <= when.day
    assert later.day == when.day or later.month != (later + timedelta(days=1)).month


def test_the_days_shifted_by_months_kept_are_bounded_by_shifted_days() -> None:
    """Every cache in front of ``_shift_months`` together keeps at most ``SHIFTED_DAYS`` days, however many
    days a long log asks about (a second cache under the first once kept 4,096 more), and the dates stay right."""
    from gridcore import periods

    first = date(2020, 1, 31)
    for n in range(3 * periods.SHIFTED_DAYS):
        day = first + timedelta(days=n)
        shifted = periods._shift_months(day, 1)
        assert (shifted.year * 12 + shifted.month) - (day.year * 12 + day.month) == 1
        assert shifted.day == min(day.day, (date(shifted.year + shifted.month // 12, shifted.month % 12 + 1, 1)
                                            - timedelta(days=1)).day)
    kept, layer = 0, periods._shift_months
    while layer is not None:
        info = getattr(layer, "cache_info", None)
        if info is not None:
            kept += info().currsize
        layer = getattr(layer, "__wrapped__", None)
    assert 0 < kept <= periods.SHIFTED_DAYS


def test_the_command_lines_period_is_read_as_staff_write_it() -> None:
    import click

    from gridcore_app.cli import parse_period_written

    @click.command()
    @click.option("--period", callback=parse_period_written)
    def show(period: str | None) -> None:
        click.echo(period)

    from click.testing import CliRunner

    said = {written: CliRunner().invoke(show, ["--period", written]) for written in
            ("2025年一季度@quarterly", "2025年3月", "2025-3", "２０２５年第９周", "2025年五季度")}
    assert [said[w].output for w in list(said)[:4]] == ["2025-Q1@quarterly\n", "2025-03\n", "2025-03\n", "2025-W09\n"]
    assert said["2025年五季度"].exit_code == 2 and "也可写 2025年3月5日" in said["2025年五季度"].output


@given(st.sampled_from(KINDS), st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31)))
def test_a_label_said_in_chinese_reads_back_as_the_label(kind: str, day: date) -> None:
    """``label_zh`` (a workbook's sheet under zh) says what ``period_label`` reads: 2025-03 <-> 2025年3月."""
    label = period_of_day(kind, day, SHANGHAI).label
    said = label_zh(label)
    assert said != label and said.startswith(f"{label[:4]}年") and period_label(said) == label


@pytest.mark.parametrize("written", ["9999", "9999-12", "9999年", "1899-Q4", "2201-W02", "0001-01-01"])
def test_a_period_outside_the_years_events_may_have_is_refused_with_a_reason(written: str) -> None:
    """9999's year ends in year 10000, which is no date: refused with the years allowed, not a ValueError."""
    with pytest.raises(PeriodError, match="1900 至 2200"):
        period_label(written)
    if "年" not in written:  # (``parse_period`` reads labels only)
        with pytest.raises(PeriodError, match="between 1900 and 2200"):
            parse_period(written, SHANGHAI)
