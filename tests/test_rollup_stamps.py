"""The service's roll-up cache keyed by the plugins' period stamps (``gridcore_period_stamp``).

A roll-up of a period that has ended is kept while the day's events arrive,
and computed again after anything that changes it: a late event, a step of a
case reported in the period, a ruleset, a grown roster, events another
process stored.  At every step below, each period's key (the one
``gridcore_app.service.rollups.Rollups.key`` gives the service) is compared
with its roll-up, computed afresh: a key that stayed the same must mean the
same roll-up (a kept one is never stale), and the steps that touch only
later periods must leave the key as it was (it is kept).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_growth_refresh import (
    GRIDCORE,
    GROWN_AT,
    NEW_GRID,
    YINQUAN,
    grow,
    grown_beside,
    new_member,
    patrol,
)

from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import Event, PatrolLogged, ResidentMoved, ResidentRegistered
from gridcore.stamps import PeriodStamps
from gridcore_app.rollup import rollup
from gridcore_app.service.rollups import Rollups

__all__ = ["grown_beside"]  # (the fixture, imported)

#: the day the events below are taken (the store's own events end on 2025-01-02, its roster grows on 01-06)
TODAY = GROWN_AT.replace(month=4, day=2)
NOW = TODAY + timedelta(hours=2)
#: periods over before NOW whose assessment period (Yinquan's quarter) is over too: a day of the simulated
#: ones, their week, their quarter
ENDED = ("2025-01-02", "2025-W01", "2025-Q1")
#: periods the day's events reach: yesterday, over but shown with the stars of its quarter, under way; the month
TODAYS = {"2025-04-01", "2025-04"}
PERIODS = (*ENDED, *sorted(TODAYS))


class Watch:
    """Each period's key and roll-up as last seen; ``step`` says which keys changed and checks the rest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rollups = Rollups()
        self.seen = self.look()

    def look(self) -> dict[str, tuple[tuple[Any, ...], str]]:
        return {period: (self.rollups.key(self.engine, "yq", period, "json", None),
                         rollup(self.engine, "yq", period).render("json")) for period in PERIODS}

    def step(self) -> set[str]:
        """The periods whose key changed since the last step; a key unchanged must keep its roll-up."""
        now = self.look()
        changed = {period for period in PERIODS if now[period][0] != self.seen[period][0]}
        for period in set(PERIODS) - changed:
            assert now[period][1] == self.seen[period][1], f"{period}: kept under the same key, but stale"
        self.seen = now
        return changed


def ingest(url: str, tmp_path: Path, events: list[dict[str, Any]]) -> None:
    """``gridcore ingest`` of ``events`` into the store, in a process of its own."""
    path = tmp_path / f"ingest-{events[0]['id']}.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    done = subprocess.run([str(GRIDCORE), "ingest", str(path), "--store", url, "--quiet"], check=False,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def patrol_doc(ident: str, actor: str, node: str, when: datetime) -> dict[str, Any]:
    return {"id": ident, "kind": "patrol_logged", "time": when.isoformat(), "actor": actor, "node": node,
            "minutes": 30, "visits": 1, "hazards_found": 0, "note": ""}


def test_a_period_that_has_ended_keeps_its_key_through_later_events_and_loses_it_to_any_change_of_it(
        grown_beside: tuple[str, Path], tmp_path: Path) -> None:
    import gridcore_escalation as esc
    from gridcore_escalation.events import IncidentHandlingStarted, IncidentReported

    url, folder = grown_beside
    with Engine.open(store=url, clock=FixedClock(NOW)) as engine:
        day = datetime(2025, 1, 2, tzinfo=engine.community.tz)
        case = next(i for i in esc.incidents(engine, status=None)
                    if day <= i.reported_at < day + timedelta(days=1) and i.status == "accepted")
        grid, worker = "yq-g1", "yq-fw1"
        # the day's first event: what the points swept since the event before reaches back to it
        engine.record(patrol("today-0", worker, grid, TODAY))
        watch = Watch(engine)

        # the day's events: every period that has ended keeps its key (its roll-up is kept)
        for n in range(1, 4):
            engine.record(patrol(f"today-{n}", worker, grid, TODAY + timedelta(minutes=n)))
            assert watch.step() == TODAYS  # (the month under way has them, and yesterday's quarter)
        report = IncidentReported(id="today-report", time=TODAY + timedelta(minutes=5), actor=worker,
                                      node=grid, incident="inc-today", category="leaking_pipe", severity=2)
        engine.record(report)
        assert watch.step() == TODAYS
        # a newcomer registered today: nothing of theirs before; their move: a board reads homes as they are now
        engine.record(ResidentRegistered(id="today-newcomer", time=TODAY + timedelta(minutes=5, seconds=30), actor=worker,
                                         node="yq-g1-u1", person="newcomer", name="新居民"))
        assert watch.step() == TODAYS
        engine.record(ResidentMoved(id="today-move", time=TODAY + timedelta(minutes=6), actor=worker,
                                    node="yq-g1-u2", person="newcomer", from_node="yq-g1-u1"))
        assert watch.step() == set(PERIODS)

        # a step of a case reported on 2025-01-02 (climbed to the community since), taken today by whoever may
        # there: its day, week and quarter change (closed in time or not)
        case = next(i for i in esc.incidents(engine, status=None) if i.id == case.id)
        taken = False
        for member in sorted(m.id for m in engine.community.members.values()
                             if any(r.node == case.current_node for r in m.roles)):
            try:
                engine.record(IncidentHandlingStarted(id=f"today-step-{member}", time=TODAY + timedelta(minutes=7),
                                                      actor=member, node=case.current_node, incident=case.id))
            except EventRefused:
                continue
            taken = True
            break
        assert taken
        assert watch.step() >= set(ENDED)

        # a late event dated 2025-01-02: its day, its week (a late event rewinds every state: every period)
        engine.record(patrol("late-0", worker, grid, day + timedelta(hours=15)))
        assert watch.step() == set(PERIODS)

        # another process stores a late event and one of today: refreshed, the late one changes its periods
        ingest(url, tmp_path, [patrol_doc("other-late", worker, grid, day + timedelta(hours=16))])
        assert engine.refresh() == 1
        assert watch.step() >= set(ENDED)
        ingest(url, tmp_path, [patrol_doc("other-today", worker, grid, TODAY + timedelta(minutes=30))])
        assert engine.refresh() == 1
        assert watch.step() == TODAYS

        # another ruleset in force from the start: every period
        engine.use_ruleset(YINQUAN / "yinquan-proposal.rules", effective=datetime(2025, 1, 1, tzinfo=day.tzinfo))
        assert watch.step() == set(PERIODS)

        # the roster grown by another process (a new grid): every period
        grow(url, folder)
        assert engine.refresh() == 0 and NEW_GRID in engine.community.hierarchy
        assert watch.step() == set(PERIODS)
        engine.record(patrol("new-grid", new_member(), NEW_GRID, TODAY + timedelta(minutes=40)))
        assert watch.step() == TODAYS


def test_joining_times_recorded_after_a_growth_change_every_period_s_key(grown_beside: tuple[str, Path]) -> None:
    """A store grown before joining times were recorded rates the new grid for the periods before it joined;
    `gridcore hierarchy joined` (``Engine.record_joined``) dates it, which changes those periods' roll-ups
    (the grid is left out of them) though no event, ruleset or roster size did: the keys change too."""
    from test_growth_joined import grown_the_old_way

    url, folder = grown_beside
    grow(url, folder)
    grown_the_old_way(url)
    with Engine.open(store=url, clock=FixedClock(NOW), read_only=True) as engine:
        watch = Watch(engine)
        assert engine.community.joined(NEW_GRID) is None
        with Engine.open(store=url, clock=FixedClock(NOW)) as keeper:
            keeper.record_joined(NEW_GRID, GROWN_AT)
        engine.refresh()
        assert engine.community.joined(NEW_GRID) == GROWN_AT
        assert watch.step() == set(PERIODS)  # (and none kept stale: Watch.step checks it)


class Tally:
    """A third party's state: patrols a day, following every event."""

    def __init__(self) -> None:
        self.days: dict[str, int] = {}

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        if isinstance(event, PatrolLogged):
            day = event.time.date().isoformat()
            self.days[day] = self.days.get(day, 0) + 1


class StampedTally(Tally):
    """The same, saying when it changed for each period."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps = PeriodStamps()

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        super().gridcore_on_event(event)
        if isinstance(event, PatrolLogged):
            self.stamps.note(event.time)

    @hookimpl
    def gridcore_period_stamp(self, end: datetime) -> int:
        return self.stamps.stamp(end)


@pytest.mark.parametrize("extra", [Tally, StampedTally])
def test_a_plugin_following_the_events_without_a_stamp_makes_the_key_the_logs_position(
        grown_beside: tuple[str, Path], extra: type[Tally]) -> None:
    url, _ = grown_beside
    with Engine.open(store=url, clock=FixedClock(NOW), plugins=get_plugin_manager(extra=[extra()])) as engine:
        engine.record(patrol("today-w", "yq-fw1", "yq-g1", TODAY))  # (the day's first reaches back)
        start = datetime(2025, 1, 2, tzinfo=engine.community.tz)
        stamp = engine.period_stamp("yq", start, start + timedelta(days=1))
        key = Rollups().key(engine, "yq", "2025-01-02", "json", None)
        if extra is Tally:
            assert stamp is None and ("log", engine.position, engine.position) in key
        else:
            assert stamp is not None and len(stamp) == 5 and ("period", stamp) in key  # the four built-ins' and its
        # an event of today changes the key only where it is the log's position
        engine.record(patrol("today-x", "yq-fw1", "yq-g1", TODAY + timedelta(minutes=1)))
        moved = Rollups().key(engine, "yq", "2025-01-02", "json", None)
        assert (moved != key) is (extra is Tally)


def test_a_late_event_changes_the_key_of_the_periods_it_or_an_event_replayed_after_it_reaches_only(
        grown_beside: tuple[str, Path]) -> None:
    url, _ = grown_beside
    with Engine.open(store=url, clock=FixedClock(NOW)) as engine:
        grid, worker = "yq-g1", "yq-fw1"
        engine.record(patrol("today-0", worker, grid, TODAY))
        engine.record(patrol("today-1", worker, grid, TODAY + timedelta(hours=1)))
        assert engine.checkpoint()  # (the one a late event of today rewinds the state to)
        engine.record(patrol("today-2", worker, grid, TODAY + timedelta(hours=3)))
        watch = Watch(engine)
        # a patrol of today typed late, between the checkpoint's and the last: the state is rewound to the
        # checkpoint and replayed; the periods of the first quarter keep their keys (and roll-ups)
        engine.record(patrol("late-today", worker, grid, TODAY + timedelta(hours=2)))
        assert watch.step() == TODAYS
        # one dated before the checkpoint, on 2025-01-02: rewound further back, its day, week and quarter change
        engine.record(patrol("late-january", worker, grid, datetime(2025, 1, 2, 15, tzinfo=TODAY.tzinfo)))
        assert watch.step() == set(PERIODS)
        # the refresh's rebuild after another writer's late event (its checkpoint holds events this engine
        # had not applied): every period
        with Engine.open(store=url, clock=FixedClock(NOW)) as other:
            other.record(patrol("other-late-today", worker, grid, TODAY + timedelta(hours=2, minutes=30)))
        assert engine.refresh() == 1
        assert watch.step() == set(PERIODS)


_edge_zones = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30)),
               timezone(timedelta(hours=5, seconds=7, microseconds=3)), timezone(-timedelta(microseconds=1))]


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from(_edge_zones) | st.timezones()),
       st.sampled_from([None, 0, 999_999, 1]))
@settings(max_examples=500, deadline=None)
def test_a_noted_time_falls_in_the_hour_its_timestamp_says(when: datetime, micro: int | None) -> None:
    """``PeriodStamps.note`` keeps notes by ``int(when.timestamp() // 3600)``; ``stamps._hour`` works that
    out for a fixed zone from the time less the epoch held in that zone, and must agree to the hour, the
    last microsecond before an hour included (where the float of ``timestamp`` may round up)."""
    from gridcore import stamps

    if micro is not None:
        when = when.replace(minute=59, second=59, microsecond=micro)
    stamps._HOURS_OF.clear()
    hour = stamps._hour(when)
    assert hour == int(when.timestamp() // 3600)
    assert stamps._HOURS_OF[id(when)] == (when, hour)  # (kept for the next note of the same time object)
    assert stamps._hour(when) == hour  # (the epoch of the zone asked last, held)


@st.composite
def _stamp_steps(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Notes (of a few time objects, each noted again and again, as the events of a busy minute share one),
    notes everywhere, carries back to an earlier note's number, and stamps asked, in any order."""
    kinds = st.sampled_from(["note"] * 6 + ["note_all", "carry", "stamp", "stamp"])
    return [(draw(kinds), draw(st.integers(0, 5))) for _ in range(draw(st.integers(1, 40)))]


@given(_stamp_steps(), st.lists(st.integers(-50, 50), min_size=6, max_size=6))
@settings(max_examples=300, deadline=None)
def test_the_stamps_are_the_notes_they_stand_for(steps: list[tuple[str, int]], hours: list[int]) -> None:
    """A period's stamp is the number of the latest note before its end (its base since a note everywhere),
    whatever the notes and carries before, a time object noted again just after itself or not: the staircase
    (``PeriodStamps``) answers as every note kept would."""
    start = datetime(2025, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    times = [start + timedelta(hours=hour, minutes=7) for hour in hours]  # (six time objects)
    stamps = PeriodStamps()
    base = stamps.stamp(start)
    notes: list[tuple[datetime, int]] = []  # (every note kept: its time, its number)
    numbers: list[int] = []
    for kind, which in steps:
        if kind == "note":
            stamps.note(times[which])
            notes.append((times[which], stamps.stamp(datetime.max.replace(tzinfo=UTC))))
            numbers.append(notes[-1][1])
        elif kind == "note_all":
            stamps.note_all()
            base = stamps.stamp(start - timedelta(days=99))
            notes = []
        elif kind == "carry" and numbers:
            number = numbers[which % len(numbers)]
            later = [when for when, n in notes if n > number]
            stamps.carry(number)
            if base > number:  # (noted everywhere since that number: every period)
                base = stamps.stamp(start - timedelta(days=99))
                notes = []
            elif later:
                notes = [(when, n) for when, n in notes if n <= number]
                notes.append((min(later), stamps.stamp(datetime.max.replace(tzinfo=UTC))))
        for end in (start + timedelta(hours=hour) for hour in range(-52, 54, 3)):
            hour_end = -int(-end.timestamp() // 3600)
            before = [n for when, n in notes if int(when.timestamp() // 3600) < hour_end]
            assert stamps.stamp(end) == (max(before) if before else base), (kind, end)
