"""Late events, reused ids and ids not yet seen, with ticks between: the engine never raises (hypothesis).

Random slices of simulated days of 银泉社区 (every built-in plugin: points,
escalation, tasks, assessment), with campaigns (专项任务) and redemptions
added, arrive out of time order (events recorded late, dated before events
already stored) mixed with events each individually well-formed that reuse
an id: another report of an incident id that exists (dated before or after
its report), a second assignment of a task id, a completion, step or
rating of a task or incident not yet assigned or reported (or never), an
activity or redemption recorded again under its id (the same, or different:
a conflict), and ticks between them.  Recorded one at a time:

* ``record`` raises nothing but ``EventRefused`` and ``tick`` raises nothing;
* an event refused says why and changes nothing (every plugin's saved state,
  the store and the position as before it, once what fell due by its time is
  recorded);
* a full replay (``rebuild``) and opening again (the newest checkpoint, taken
  every few events, and the tail after it) give exactly the live state;
* the same items recorded in groups between the same ticks give the same state
  whatever the batch size.

On every backend (a folder, SQLite, PostgreSQL).  ``GRIDCORE_TEST_EXAMPLES``
sets the examples a backend (a few hundred when the strategies change).
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import BACKENDS, StoreFactory
from test_checkpoint_properties import (
    CLOCK,
    GRIDS,
    RULES,
    community,
    day_of_events,
    plugins,
    snapshot,
)

from gridcore import Engine, Event, EventRefused, FixedClock
from gridcore.events import ActivityRecorded
from gridcore_escalation.events import IncidentEvent, IncidentReported, SatisfactionRated
from gridcore_points.events import PointsRedeemed
from gridcore_tasks import TaskAssigned, TaskCompleted

#: examples a backend (raised locally to a few hundred when the strategies change; the suite's budget keeps it low)
EXAMPLES = int(os.environ.get("GRIDCORE_TEST_EXAMPLES", "3"))
EFFECTIVE = datetime(2024, 1, 1, tzinfo=CLOCK.tzinfo)


def _open(url: str) -> Engine:
    return Engine.open(store=url, community=community(), ruleset=RULES, effective=EFFECTIVE,
                       clock=FixedClock(CLOCK), plugins=plugins())


def states(engine: Engine) -> str:
    """Every plugin's saved state, the position and the stored rows: what a refused event must not change."""
    saved = {name: engine.hooks.save_state(engine, plugin) for name, plugin in engine._savers().items()}
    return json.dumps({"states": saved, "position": engine.position, "rows": engine.store.count()},
                      sort_keys=True, default=str)


def same(got: str, expected: str, what: str) -> None:
    """Assert two JSON texts are equal, showing the lines that differ."""
    if got != expected:
        lines = [json.dumps(json.loads(text), indent=1, sort_keys=True).splitlines() for text in (expected, got)]
        raise AssertionError(what + "\n" + "\n".join(list(difflib.unified_diff(*lines, lineterm="", n=2))[:80]))


def _campaign(draw: st.DrawFn, n: int, start: datetime) -> list[Event]:
    grid = draw(st.sampled_from(sorted(GRIDS)))
    leader, workers = GRIDS[grid]
    task = f"T{draw(st.integers(0, 2))}"  # (few task ids: a second assignment of one reuses it)
    when = start + timedelta(hours=draw(st.integers(0, 96)))
    out: list[Event] = [TaskAssigned(id=f"x{n}a", time=when, actor=leader, node=grid, task=task,
                                     task_kind="入户排查")]
    for k, worker in enumerate(draw(st.lists(st.sampled_from(workers), max_size=3))):
        # (a completion may be dated before its assignment, or of a worker it never went to)
        done = when + timedelta(hours=draw(st.integers(-24, 240)))
        out.append(TaskCompleted(id=f"x{n}c{k}", time=done, actor=worker, node=grid, task=task,
                                 found=draw(st.integers(0, 3))))
    return out


def _again(draw: st.DrawFn, n: int, event: Event) -> Event:
    """``event`` again: dated before or after it, under a new id (its incident, task or member's id reused), or
    under its own id (the same event: a harmless duplicate; or changed: a conflict)."""
    shift = timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))
    how = draw(st.sampled_from(("new id", "new id", "same", "changed")))
    if how == "same":
        return event
    if how == "changed":
        return attrs.evolve(event, time=event.time + shift)
    return attrs.evolve(event, id=f"x{n}", time=event.time + shift)


def _stranger(draw: st.DrawFn, n: int, event: Event) -> Event:
    """A step, rating or completion naming an incident or task nobody reported or assigned (or not yet)."""
    if isinstance(event, IncidentEvent):
        return attrs.evolve(event, id=f"x{n}", incident=draw(st.sampled_from(("yq-x-i1", "T0"))))
    if isinstance(event, TaskCompleted):
        return attrs.evolve(event, id=f"x{n}", task=draw(st.sampled_from(("T9", "yq-x-i1"))))
    return attrs.evolve(event, id=f"x{n}")


@st.composite
def streams(draw: st.DrawFn) -> list[Any]:
    """Items to record one at a time (events, or ``("tick", time)``)."""
    events = day_of_events(draw(st.integers(0, 50)))
    size = draw(st.integers(10, min(50, len(events))))
    begin = draw(st.integers(0, len(events) - size))
    chosen = [e for e in events[begin:begin + size]]
    start = min(e.time for e in chosen)
    for n in range(draw(st.integers(0, 2))):
        chosen.extend(_campaign(draw, n, start))
    if draw(st.booleans()):
        member = next((e.actor for e in chosen if isinstance(e, ActivityRecorded)), "yq-gl1")
        chosen.append(PointsRedeemed(id="x-redeem", time=start + timedelta(hours=draw(st.integers(0, 96))),
                                     actor=member, node="yq-g1", reward="理发券", member=member))
    # arrival: in chunks, a later chunk before an earlier one (its events recorded late)
    cuts = sorted(draw(st.sets(st.integers(1, len(chosen) - 1), max_size=4)))
    chunks = [chosen[a:b] for a, b in zip([0, *cuts], [*cuts, len(chosen)], strict=True)]
    arrival: list[Any] = [e for n in draw(st.permutations(range(len(chunks)))) for e in chunks[n]]
    ids = [e for e in chosen if isinstance(e, IncidentEvent | TaskAssigned | TaskCompleted | ActivityRecorded
                                           | PointsRedeemed | SatisfactionRated)]
    for n in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(("again", "again", "stranger", "tick")))
        at = draw(st.integers(0, len(arrival)))
        if kind == "tick" or not ids:
            arrival.insert(at, ("tick", start + timedelta(hours=draw(st.integers(0, 120)))))
            continue
        event = draw(st.sampled_from(ids))
        arrival.insert(at, _again(draw, n, event) if kind == "again" else _stranger(draw, n, event))
    return arrival


def play_one_by_one(url: str, arrival: list[Any]) -> str:
    with _open(url) as engine:
        engine.checkpoint_min, engine.checkpoint_every, engine.checkpoint_share = 1, 7, 1  # (checkpoints often)
        for item in arrival:
            if isinstance(item, tuple):
                engine.tick(item[1])
                continue
            # (what fell due by its time is recorded before it, even if it is then refused: ticked first)
            engine.tick(item.time)
            before = states(engine)
            try:
                engine.record(item)
            except EventRefused as refused:
                assert refused.reasons and all(refused.reasons), item
                same(states(engine), before, f"{item.id} was refused ({refused.reasons}) but changed the state")
        engine.tick(CLOCK)
        engine.checkpoint = lambda: False  # type: ignore[method-assign]  # (none on closing: a tail is left)
        return snapshot(engine)


def play_in_groups(url: str, arrival: list[Any], batch: int) -> str:
    with _open(url) as engine:
        group: list[Event] = []
        for item in [*arrival, ("tick", CLOCK)]:
            if isinstance(item, tuple):
                engine.record_many(group, batch_size=batch)
                group = []
                engine.tick(item[1])
            else:
                group.append(item)
        return snapshot(engine)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(streams(), st.integers(1, 7))
def test_late_and_reused_ids_never_raise_change_nothing_when_refused_and_replay_the_same(
        backend: str, arrival: list[Any], batch: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        factory = StoreFactory(backend, Path(folder))
        try:
            one = factory.url()
            live = play_one_by_one(one, arrival)
            with Engine.open(store=one, clock=FixedClock(CLOCK), plugins=plugins()) as engine:
                same(snapshot(engine), live, "opened again (the newest checkpoint and the tail)")
                engine.rebuild()
                same(snapshot(engine), live, "rebuilt")
            same(play_in_groups(factory.url(), arrival, batch), play_in_groups(factory.url(), arrival, 1000),
                 f"recorded in batches of {batch}")
        finally:
            factory.cleanup()


def test_a_stream_draws_late_reused_and_unknown_ids() -> None:
    """Not vacuous: the strategy's streams hold events recorded late, a reused incident id, a stranger's id and
    ticks."""
    found: set[str] = set()

    @settings(max_examples=100, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(streams())
    def look(arrival: list[Any]) -> None:
        events = [e for e in arrival if not isinstance(e, tuple)]
        if any(b.time < a.time for a, b in pairwise(events)):
            found.add("late")
        if any(isinstance(e, tuple) for e in arrival):
            found.add("tick")
        reports = [e.incident for e in events if isinstance(e, IncidentReported)]
        if len(reports) > len(set(reports)):
            found.add("reported again")
        if any(getattr(e, "incident", None) in ("yq-x-i1", "T0") or getattr(e, "task", None) in ("T9", "yq-x-i1")
               for e in events):
            found.add("stranger")

    look()
    assert found == {"late", "tick", "reported again", "stranger"}
