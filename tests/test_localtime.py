"""An event's local time and date (``Engine.local_time``, ``Engine.local_date``, ``gridcore.localtime``):
exactly what ``astimezone`` says, in zones with folds and gaps and at fixed offsets, however often asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import small_community
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import Community, Engine, Event, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded
from gridcore.localtime import LocalTimes, offset_span

#: zones with summer time (folds and gaps), one that skipped a day, one with half-hour summer time, one
#: whose offsets changed in the past, and fixed offsets
ZONES: list[tzinfo] = [
    ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Pacific/Apia"), ZoneInfo("America/St_Johns"),
    ZoneInfo("Europe/Dublin"), UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30)),
]


def fields(when: datetime) -> tuple[Any, ...]:
    """Everything that tells two times apart as written: the wall clock, the fold and the zone object
    (``==`` on aware times compares their instants only)."""
    return (when.replace(tzinfo=None), when.fold, when.tzinfo)


@st.composite
def times(draw: st.DrawFn) -> datetime:
    """An aware time in one of ``ZONES``, either fold, gaps and folds of the summer-time changes often."""
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        # (near a change of offset: the last Sunday of March and the first of November at 01:00-03:00, and
        # Apia's 2011-12-30 it skipped)
        day = draw(st.sampled_from([date(2025, 3, 9), date(2025, 3, 30), date(2025, 11, 2), date(2025, 10, 26),
                                    date(2025, 4, 6), date(2025, 10, 5), date(2011, 12, 29), date(2011, 12, 30),
                                    date(1988, 4, 10), date(1988, 9, 11)]))
        wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=draw(st.integers(0, 48 * 60)))
    else:
        wall = draw(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)))
    return wall.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))


@settings(max_examples=400, deadline=None)
@given(asked=st.lists(st.tuples(times(), st.booleans(), st.booleans()), min_size=1, max_size=12),
       target=st.sampled_from(ZONES))
def test_the_local_time_and_date_are_astimezones(asked: list[tuple[datetime, bool, bool]], target: tzinfo) -> None:
    """Whatever times are asked, in whatever order, each the same object again or not, the answers are
    those of ``astimezone`` to the zone, field for field."""
    local = LocalTimes(lambda: target)
    previous: datetime | None = None
    for when, again, by_date in asked:
        if again and previous is not None:
            when = previous  # the same object asked again
        elif previous is not None and when == previous:
            when = when.replace()  # an equal time held by another object (another fold, maybe)
        expected = when.astimezone(target)
        if by_date:
            assert local.date(when) == expected.date()
            assert fields(local.time(when)) == fields(expected)
        else:
            assert fields(local.time(when)) == fields(expected)
            assert local.date(when) == expected.date()
        previous = when


@st.composite
def fixed_offset_runs(draw: st.DrawFn) -> tuple[tzinfo, list[datetime]]:
    """A zone with summer time (or none, or a fixed offset) and times as the codec reads them: at fixed
    offsets, mostly the zone's own in winter or summer, near its changes of offset, in runs that cross them,
    with times of other kinds among them."""
    zone = draw(st.sampled_from([ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"),
                                 ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Pacific/Apia"),
                                 ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=8))]))
    near = draw(st.sampled_from([datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC),
                                 datetime(2025, 3, 9, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC),
                                 datetime(2025, 4, 5, 15, tzinfo=UTC), datetime(2025, 10, 4, 15, 30, tzinfo=UTC),
                                 datetime(2011, 12, 30, 10, tzinfo=UTC), datetime(1991, 9, 14, 17, tzinfo=UTC),
                                 datetime(2044, 3, 27, 1, tzinfo=UTC), datetime(2024, 12, 31, 16, tzinfo=UTC)]))
    offsets: st.SearchStrategy[tzinfo] = st.one_of(
        st.sampled_from([1, 2, -4, -5, 10.5, 11, 13, 14, 8, 9]).map(lambda hours: timezone(timedelta(hours=hours))),
        st.integers(-12, 14).map(lambda hours: timezone(timedelta(hours=hours))),
        st.just(UTC), st.just(zone))  # (and times in UTC and in the zone itself asked in between)
    start = near + timedelta(seconds=draw(st.integers(-4 * 86_400, 4 * 86_400)))
    steps = draw(st.lists(st.integers(-3_600, 6 * 3_600), min_size=1, max_size=20))
    runs = []
    for step in steps:
        start += timedelta(seconds=step, microseconds=draw(st.sampled_from([0, 1, 999_999])))
        runs.append(start.astimezone(draw(offsets)))
    return zone, runs


@settings(max_examples=400, deadline=None)
@given(fixed_offset_runs())
def test_a_date_told_within_a_span_of_the_zone_s_offset_is_astimezone_s(run: tuple[tzinfo, list[datetime]]) -> None:
    """Times at fixed offsets asked one after another across a zone's changes of offset (the date told from
    the time's own fields while it is in the span of the zone's offset around the last converted): each
    date is ``astimezone``'s, and so is each time."""
    zone, times_asked = run
    local = LocalTimes(lambda: zone)
    for when in times_asked:
        assert local.date(when) == when.astimezone(zone).date(), when
    for when in times_asked:
        assert fields(local.time(when)) == fields(when.astimezone(zone))


def test_the_span_of_an_offset_is_the_zone_s_between_two_changes() -> None:
    """Berlin's winter offset of 2024-25 runs from 2024-10-27 01:00 UTC to 2025-03-30 01:00 UTC; Shanghai's
    has not changed since 1991 and its rule has no summer time; a fixed offset never changes."""
    berlin, shanghai = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai")
    winter = offset_span(berlin, datetime(2025, 1, 1, tzinfo=UTC))
    assert winter == (datetime(2024, 10, 27, 1, tzinfo=UTC).timestamp(), datetime(2025, 3, 30, 1, tzinfo=UTC).timestamp())
    assert offset_span(shanghai, datetime(2025, 1, 1, tzinfo=UTC)) == (
        datetime(1991, 9, 14, 17, tzinfo=UTC).timestamp(), None)
    assert offset_span(timezone(timedelta(hours=8)), datetime(2025, 1, 1, tzinfo=UTC)) == (None, None)
    local = LocalTimes(lambda: berlin)
    cet = timezone(timedelta(hours=1))
    assert local.date(datetime(2025, 3, 30, 1, 59, 59, 999_999, tzinfo=cet)) == date(2025, 3, 30)
    assert local.date(datetime(2025, 3, 30, 23, 30, tzinfo=cet)) == date(2025, 3, 31)  # (00:30 summer time)


def test_a_fold_s_two_times_and_a_gap_s_time_have_their_own_answers() -> None:
    """The two 01:30s of New York's 2025-11-02 (one object each) are an hour apart in Shanghai; a time in
    the spring's gap is read as ``astimezone`` reads it."""
    new_york, shanghai = ZoneInfo("America/New_York"), ZoneInfo("Asia/Shanghai")
    local = LocalTimes(lambda: shanghai)
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second  # (equal across the fold, as Python compares times of one zone object)
    assert local.time(first).hour == 13
    assert local.time(second).hour == 14
    assert local.time(first).hour == 13
    gap = datetime(2025, 3, 9, 2, 30, tzinfo=new_york)
    assert fields(local.time(gap)) == fields(gap.astimezone(shanghai))
    assert local.date(datetime(2025, 3, 8, 16, 0, tzinfo=UTC)) == date(2025, 3, 9)


def test_a_new_zone_is_read_for_the_next_time_forgotten() -> None:
    zone: list[tzinfo] = [ZoneInfo("Asia/Shanghai")]
    local = LocalTimes(lambda: zone[0])
    when = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)
    assert local.date(when) == date(2025, 1, 2)
    zone[0] = ZoneInfo("America/New_York")
    local.forget()
    assert local.date(when) == date(2025, 1, 1)


class LocalDays:
    """A third party's plugin: the local time and date of each event it is given, as the engine says and as
    ``astimezone`` says."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, tuple[Any, ...], tuple[Any, ...], date, date]] = []

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        self._note("validate", engine, event)
        return None

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event) -> None:
        self._note("apply", engine, event)

    def _note(self, hook: str, engine: Engine, event: Event) -> None:
        plain = event.time.astimezone(engine.community.tz)
        self.seen.append((hook, event.id, fields(engine.local_time(event.time)), fields(plain),
                          engine.local_date(event.time), plain.date()))


def test_plugins_get_the_local_time_and_date_of_each_event(tmp_path: Path) -> None:
    """Events at New York's spring gap and autumn fold (either time of it), at fixed offsets and in UTC, in a
    community on New York's time: every hook gets what ``astimezone`` gives, through the engine."""
    base = small_community()
    community = Community.build("银泉社区", "America/New_York", base.hierarchy, list(base.members.values()),
                                departments=list(base.departments.values()))
    new_york = ZoneInfo("America/New_York")
    plugin = LocalDays()
    times = [datetime(2025, 3, 9, 2, 30, tzinfo=new_york), datetime(2025, 3, 9, 7, 30, tzinfo=UTC),
             datetime(2025, 11, 2, 1, 30, tzinfo=new_york), datetime(2025, 11, 2, 1, 40, tzinfo=new_york, fold=1),
             datetime(2025, 11, 1, 23, 10, tzinfo=timezone(timedelta(hours=-4))),
             datetime(2025, 11, 2, 23, 50, tzinfo=timezone(timedelta(hours=-5))),
             datetime(2025, 11, 3, 4, 59, tzinfo=UTC), datetime(2025, 11, 3, 5, 0, tzinfo=UTC)]
    events = [ActivityRecorded(id=f"a{n}", time=when, actor="res1", node="u11", activity="clean_up")
              for n, when in enumerate(times)]
    engine = Engine.open(store=str(tmp_path / "store"), community=community,
                         clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)),
                         plugins=get_plugin_manager(("points", "escalation", "assessment", "tasks", "planning"),
                                                    extra=[plugin]))
    with engine:
        assert engine.record_many(events[:3]).accepted == 3
        for event in events[3:]:
            assert engine.record(event) is True
    assert {ident for hook, ident, *_ in plugin.seen if hook == "validate"} == {event.id for event in events}
    # (a4 is earlier than a2 and a3, recorded before it: the engine rewinds and applies them again)
    assert {ident for hook, ident, *_ in plugin.seen if hook == "apply"} == {event.id for event in events}
    for _, _, told, plain, told_day, plain_day in plugin.seen:
        assert told == plain
        assert told_day == plain_day
    applied = {ident: day for hook, ident, _, _, day, _ in plugin.seen if hook == "apply"}
    days = [applied[event.id] for event in events]
    assert days == [date(2025, 3, 9), date(2025, 3, 9), date(2025, 11, 2), date(2025, 11, 2), date(2025, 11, 1),
                    date(2025, 11, 2), date(2025, 11, 2), date(2025, 11, 3)]


@settings(max_examples=400, deadline=None)
@given(fixed_offset_runs(), st.lists(times(), max_size=4))
def test_a_time_on_the_zone_s_clock_is_its_local_time_as_written(run: tuple[tzinfo, list[datetime]],
                                                                   others: list[datetime]) -> None:
    """``on_clock``: whenever it says a time is written on the zone's clock, that time's own date and wall
    clock are ``astimezone``'s, and ``astimezone`` says fold 0 (times asked in runs across changes of offset,
    with times of any zone and fold among them, and each asked again half an hour and an hour and a half
    earlier at its own offset: into the hour after the clocks went back)."""
    zone, times_asked = run
    local = LocalTimes(lambda: zone)
    earlier = [when - timedelta(minutes=minutes) for when in times_asked for minutes in (30, 90)]
    for when in [*times_asked, *others, *earlier, *times_asked]:
        local.date(when)
        if local.on_clock(when):
            plain = when.astimezone(zone)
            assert (when.date(), when.time(), 0) == (plain.date(), plain.time(), plain.fold), when
            assert when.time().fold == 0
        local.time(when)
        if local.on_clock(when):
            plain = when.astimezone(zone)
            assert (when.date(), when.time(), 0) == (plain.date(), plain.time(), plain.fold), when


def test_on_the_clock_after_a_change_of_offset_and_not_in_the_fold() -> None:
    """Shanghai's events at +08:00 are on its clock once one was converted; New York's at -05:00 after the
    clocks went back at 2025-11-02 06:00 UTC are not during the hour that repeats (fold 1), and are after it;
    a time of another offset, another zone object or fold 1 is not; after ``forget``, none is."""
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    cst, est = timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))
    local = LocalTimes(lambda: shanghai)
    first = datetime(2026, 1, 31, 23, 59, tzinfo=cst)
    assert not local.on_clock(first)  # (nothing converted yet)
    local.time(first)
    assert local.on_clock(first) and local.on_clock(datetime(2028, 2, 29, 12, tzinfo=cst))
    assert not local.on_clock(datetime(2028, 2, 29, 12, tzinfo=cst, fold=1))
    assert not local.on_clock(datetime(2028, 2, 29, 12, tzinfo=timezone(timedelta(hours=8))))  # (another object)
    assert not local.on_clock(datetime(2028, 2, 29, 12, tzinfo=shanghai))
    local.forget()
    assert not local.on_clock(first)
    local = LocalTimes(lambda: new_york)
    late = datetime(2025, 11, 2, 3, 30, tzinfo=est)
    local.time(late)
    assert local.on_clock(late)
    in_fold = datetime(2025, 11, 2, 1, 30, tzinfo=est)
    assert in_fold.astimezone(new_york).fold == 1
    assert not local.on_clock(in_fold)
    assert local.on_clock(datetime(2025, 11, 2, 2, 0, tzinfo=est))
    assert not local.on_clock(datetime(2026, 3, 8, 3, 0, tzinfo=est))  # (summer time again: -04:00)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([("America/New_York", datetime(2025, 11, 2, 6, tzinfo=UTC)),
                        ("Europe/Berlin", datetime(2025, 10, 26, 1, tzinfo=UTC)),
                        ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),
                        ("Europe/Dublin", datetime(2025, 10, 26, 1, tzinfo=UTC)),
                        ("America/St_Johns", datetime(2025, 11, 2, 3, 30, tzinfo=UTC)),
                        ("Asia/Shanghai", datetime(1991, 9, 14, 17, tzinfo=UTC))]),
       st.integers(0, 6 * 3600), st.lists(st.integers(-2 * 3600, 3 * 3600), min_size=1, max_size=6))
def test_on_the_clock_is_never_said_of_a_fold_s_second_time(change: tuple[str, datetime], anchor: int,
                                                             probes: list[int]) -> None:
    """Just after the clocks went back (of an hour, of half an hour, Shanghai's last), a time converted
    after the change at the new offset keeps its span; times asked at that offset around the change are said
    to be on the clock only where ``astimezone`` gives their own wall clock with fold 0."""
    name, at = change
    zone = ZoneInfo(name)
    after = (at + timedelta(hours=7)).astimezone(zone).utcoffset()
    assert after is not None
    offset = timezone(after)
    local = LocalTimes(lambda: zone)
    local.time((at + timedelta(seconds=anchor)).astimezone(offset))
    for seconds in probes:
        when = (at + timedelta(seconds=seconds)).astimezone(offset)
        if local.on_clock(when):
            plain = when.astimezone(zone)
            assert (when.date(), when.time(), 0) == (plain.date(), plain.time(), plain.fold), when


@settings(max_examples=400, deadline=None)
@given(fixed_offset_runs(), st.lists(st.integers(-40, 800), min_size=1, max_size=6))
def test_a_later_day_on_the_clock_has_the_zone_s_offset_there(run: tuple[tzinfo, list[datetime]],
                                                               days: list[int]) -> None:
    """``on_clock_until``: whenever it says a time's later day is on the zone's clock at the time's offset,
    every hour of that day at that offset (and the time's own clock on it) is the zone's wall clock there,
    fold 0, as ``astimezone`` says; it is said only of a time ``on_clock`` and a later day."""
    zone, times_asked = run
    local = LocalTimes(lambda: zone)
    for when in times_asked:
        local.date(when)
        for ahead in days:
            try:
                day = when.date() + timedelta(days=ahead)
            except OverflowError:
                continue
            if not local.on_clock_until(when, day):
                continue
            assert local.on_clock(when) and day > when.date()
            for clock in (when.time(), *(time(hour) for hour in range(24)), time(23, 59, 59, 999_999)):
                there = datetime.combine(day, clock, tzinfo=when.tzinfo)
                plain = there.astimezone(zone)
                assert (plain.date(), plain.time(), plain.fold) == (day, clock, 0), (when, day, clock)
                assert there.replace(tzinfo=zone).utcoffset() == when.utcoffset(), (when, day, clock)


def test_the_clock_until_a_change_of_offset() -> None:
    """Shanghai keeps +08:00 after 1991: any later day of an event at +08:00 is on its clock; New York's at
    -05:00 in January is until the day before its clocks go forward (2025-03-09), not on or after it."""
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    cst, est = timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))
    local = LocalTimes(lambda: shanghai)
    first = datetime(2026, 1, 31, 23, 59, tzinfo=cst)
    assert not local.on_clock_until(first, date(2027, 1, 31))  # (nothing converted yet)
    local.time(first)
    assert local.on_clock_until(first, date(2027, 1, 31)) and local.on_clock_until(first, date(2060, 2, 29))
    assert not local.on_clock_until(first, first.date())  # (not a later day)
    local = LocalTimes(lambda: new_york)
    january = datetime(2025, 1, 15, 9, tzinfo=est)
    local.time(january)
    assert local.on_clock_until(january, date(2025, 3, 8))
    assert not local.on_clock_until(january, date(2025, 3, 9)) and not local.on_clock_until(january, date(2025, 7, 15))
