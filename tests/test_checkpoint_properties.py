"""Checkpoint plus tail gives exactly the state of a full replay (every built-in plugin, every backend).

Random slices of four simulated days of 银泉社区 (across a month's end) are
ingested, after its residents' registrations or among them, in random chunks and
orders (so later chunks carry late events), with a few of their events again under new ids (an incident
reported again, a resident registered again, dated before or after), a campaign (专项任务) assigned a second
time under its task id and a redemption recorded again (under a new id, or its own id changed), with
checkpoints taken often, the ruleset sometimes changed mid-log (from before, at or after an event already
stored, so events are judged again; to one whose campaign and reward differ too;
for the whole tree or for one grid's subtree),
and some chunks written by a writer that "crashes" after storing its events (and the ruleset it put in force)
but before its checkpoint.  A fresh engine on the store (which restores the
newest checkpoint that fits and replays the tail, and gives each plugin its
state when the plugin is first used, in a random order) must then hold
exactly what a replay of the whole store (by a writer) gives (a read-only one, all but the saved state
documents: it cuts no archive chapters): every plugin's outcomes, every saved state
document, the residents, the log position, and what the points plugin reads
from its history (cut into parts of a few entries here, so parts are sealed,
stored by the writers and read back by the reader), what the escalation
plugin reads of its closed incidents (archived in parts of two here): every
incident, the explanations of its routing, escalations and other decisions,
and the incident metrics of each month, and what the tasks plugin reads of
its settled tasks (archived in parts of one): every task, a month's, what is
overdue now and what was at an earlier time.  Every plugin's lists of more
than three items are stored in pages of three (``CHECKPOINT_PAGE``).  ``GRIDCORE_TEST_EXAMPLES`` sets the
examples a backend (a few hundred when the strategies change).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import CST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import BACKENDS, StoreFactory

import gridcore_escalation as esc
import gridcore_tasks
from gridcore import Engine, Event, FixedClock, UnknownNameError, get_plugin_manager
from gridcore.community import Community
from gridcore_app.rosterio import load_community
from gridcore_app.scenario import load_scenario
from gridcore_app.simulate import RULESETS_DIR, simulate
from gridcore_points import api as points
from gridcore_points.events import PointsRedeemed

YINQUAN = RULESETS_DIR / "yinquan"
RULES = YINQUAN / "yinquan.rules"
PROPOSAL = YINQUAN / "yinquan-proposal.rules"
#: Yinquan with its door-to-door sweep (入户排查) due sooner and paid more, and a haircut voucher cheaper
CAMPAIGNS = Path(__file__).resolve().parent / "data" / "engine" / "yinquan-campaigns.rules"
#: a grid's leader and the workers a campaign (入户排查) goes to
GRIDS = {"yq-g1": ("yq-gl1", ("yq-fw1", "yq-fw2", "yq-tw1")), "yq-g2": ("yq-gl2", ("yq-fw3", "yq-fw4", "yq-tw4"))}
DAY = date(2025, 3, 29)
CLOCK = datetime(2025, 6, 1, tzinfo=CST)


@cache
def community() -> Community:
    return load_community(YINQUAN)


@cache
def day_of_events(seed: int) -> tuple[Event, ...]:
    return tuple(simulate(community(), load_scenario(YINQUAN / "scenario.yaml"), days=4, start=DAY, seed=seed))


@cache
def plugins() -> Any:
    return get_plugin_manager()  # every installed plugin: the built-ins and the drills plugin


def snapshot(engine: Engine) -> str:
    """Everything a reader can see of the derived state, as canonical text."""
    states = {name: engine.hooks.save_state(engine, plugin) for name, plugin in engine._savers().items()}
    outcomes = sorted((o.plugin, o.subject, str(o.value)) for o in engine.outcomes())
    ledger = points.state(engine)
    history = {
        "entries": {m: [attrs.asdict(e) for e in points.entries(engine, m)] for m in sorted(ledger.accounts)
                    if engine.knows_person(m)},
        "boards": [attrs.asdict(row) for month in ("2025-03", "2025-04") for row in points.board(engine, "yq", month)],
        "flags": [attrs.asdict(e) for e in points.flags(engine)],
        "explained": [attrs.asdict(engine.explain(r.entry.decision)) for r in ledger.booked()],
    }
    incidents = esc.incidents(engine)
    decisions = [f"escalation:route:{i.id}" for i in incidents]
    decisions += [f"escalation:{entry.event}" for i in incidents for entry in esc.timeline(engine, i.id) if entry.event]
    months = [(datetime(2025, m, 1, tzinfo=CST), datetime(2025, m + 1, 1, tzinfo=CST)) for m in (3, 4)]
    closed = {
        "incidents": [attrs.asdict(i) for i in incidents],
        "explained": [explained(engine, d) for d in decisions],
        "metrics": [str(engine.metric(name, "yq", start, end)) for name in ESCALATION_METRICS for start, end in months],
    }
    tasks = {"every": [attrs.asdict(t) for t in gridcore_tasks.tasks(engine)],
             "march": [t.id for t in gridcore_tasks.tasks(engine, start=months[0][0], end=months[0][1])],
             "overdue": [(t.id, a.member) for t, a in gridcore_tasks.overdue(engine)],
             "overdue then": [(t.id, a.member) for t, a in gridcore_tasks.overdue(engine, now=datetime(
                 2025, 4, 2, tzinfo=CST))]}
    # (times as text with their offset: a time read back from the store has a fixed offset, not a zone name)
    return json.dumps({"outcomes": outcomes, "states": states, "residents": engine.residents(),
                       "position": engine.position, "latest": str(engine.latest_event_time),
                       "points": history, "closed incidents": closed, "tasks": tasks}, sort_keys=True, default=str)


def reads(snapshot_text: str) -> dict[str, Any]:
    """What ``snapshot`` holds but the saved state documents: everything a reader is given."""
    found: dict[str, Any] = json.loads(snapshot_text)
    del found["states"]
    return found


#: The escalation plugin's metrics about a node's subtree (each reads the period's incidents, open and closed).
ESCALATION_METRICS = ("acceptance_within_limit", "closure_within_limit", "mean_satisfaction", "reopen_rate",
                      "escalation_rate", "overdue_incidents", "feedback_within_limit", "department_returns")


def explained(engine: Engine, decision: str) -> dict[str, Any] | None:
    """How ``engine`` explains ``decision``; None if it explains none (not every step is a decision)."""
    try:
        return attrs.asdict(engine.explain(decision))
    except UnknownNameError:
        return None


#: how far from a stored event's time a ruleset is put in force: before it, at it, after it
NEAR = (timedelta(hours=-30), timedelta(minutes=-1), timedelta(0), timedelta(microseconds=1), timedelta(hours=5))


@st.composite
def second_ids(draw: st.DrawFn, chosen: list[Event]) -> list[Event]:
    """A campaign (专项任务) and a redemption, each maybe given again: the task assigned a second time under its
    id (another grid's, or the same, dated before or after), a part of it completed, the redemption recorded
    again under a new id (a second voucher) or under its own id changed (a conflict)."""
    out: list[Event] = []
    start = min(e.time for e in chosen)
    if draw(st.booleans()):
        for n in range(draw(st.integers(1, 2))):  # (the second assignment reuses the task's id)
            grid = draw(st.sampled_from(sorted(GRIDS)))
            leader, workers = GRIDS[grid]
            when = start + timedelta(hours=draw(st.integers(-12, 72)))
            out.append(gridcore_tasks.TaskAssigned(id=f"task{n}", time=when, actor=leader, node=grid, task="T0",
                                                   task_kind="入户排查"))
            for k, worker in enumerate(draw(st.lists(st.sampled_from(workers), max_size=2))):
                out.append(gridcore_tasks.TaskCompleted(
                    id=f"task{n}c{k}", time=when + timedelta(hours=draw(st.integers(-6, 200))), actor=worker,
                    node=grid, task="T0", found=draw(st.integers(0, 2))))
    if draw(st.booleans()):
        member = next((e.actor for e in chosen if type(e).__name__ == "ActivityRecorded"), "yq-gl1")
        redeemed = PointsRedeemed(id="redeem", time=start + timedelta(hours=draw(st.integers(0, 72))),
                                  actor=member, node="yq-g1", reward="理发券", member=member)
        out.append(redeemed)
        how = draw(st.sampled_from(("once", "new id", "changed")))
        shift = timedelta(hours=draw(st.integers(-24, 24)))
        if how == "new id":
            out.append(attrs.evolve(redeemed, id="redeem2", time=redeemed.time + shift))
        elif how == "changed":
            out.append(attrs.evolve(redeemed, time=redeemed.time + shift))
    return out


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    seed = draw(st.integers(0, 50))
    events = day_of_events(seed)
    size = draw(st.integers(15, min(70, len(events))))
    start = draw(st.integers(0, len(events) - size))
    chosen = list(events[start:start + size])
    # ids reused: an event of the slice again under a new id (its incident reported again, a step or rating
    # of it, a resident registered again, an activity claimed again), dated up to ten hours before or after
    for n, event in enumerate(draw(st.lists(st.sampled_from(chosen), max_size=3))):
        shift = timedelta(minutes=draw(st.integers(-600, 600)))
        chosen.append(attrs.evolve(event, id=f"again{n}", time=event.time + shift))
    chosen += draw(second_ids(chosen))
    size = len(chosen)
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), min_size=1, max_size=4)))
    chunks = [chosen[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    order = draw(st.permutations(range(len(chunks))))  # a chunk after a later one: late events
    steps = []
    stored: list[Event] = []
    for n in order:
        step: dict[str, Any] = {"events": chunks[n], "batch": draw(st.integers(3, 25)),
                                "crash": draw(st.booleans())}
        if draw(st.integers(0, 3)) == 0:
            # a ruleset put in force before this chunk, from the time of an event already stored (or any), or
            # a little before or after it: the stored events at or after it are judged again
            when = draw(st.sampled_from(stored or chosen)).time + draw(st.sampled_from(NEAR))
            # for the whole tree, or for one grid's subtree only (its events judged by it, the rest not)
            step["ruleset"] = (draw(st.sampled_from([PROPOSAL, RULES, CAMPAIGNS])), when,
                               draw(st.sampled_from([None, None, "yq-g1", "yq-g2"])))
        steps.append(step)
        stored += chunks[n]
    # the residents registered first (so most activities are credited), or only as the slice has them
    registered = [e for e in events if type(e).__name__ == "ResidentRegistered"] if draw(st.booleans()) else []
    # the order a reader first uses the plugins in: each is given its state from the checkpoint then
    woken = draw(st.permutations(["points", "escalation", "assessment", "tasks"]))
    return {"steps": steps, "registered": registered, "woken": woken}


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=int(os.environ.get("GRIDCORE_TEST_EXAMPLES", "3")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(history=histories())
def test_checkpoint_and_tail_equal_a_full_replay(backend: str, history: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 4)
        patch.setattr("gridcore_points.history.CHAPTER_PARTS", 1)  # (the oldest stored parts in chapters)
        patch.setattr("gridcore_points.sealed.PART_IDS", 2)  # (settled incidents' ids in parts of 2)
        patch.setattr("gridcore_points.sealed.MAP_PART_IDS", 2)  # (repeat reports' tracks in parts of 2)
        patch.setattr("gridcore_points.checkpoint.LOT_PART", 2)  # (an account's lots in parts of 2)
        patch.setattr("gridcore_points.checkpoint.LOTS_BATCH", 1)  # (a save stores them as each account is dumped)
        patch.setattr("gridcore_escalation.archive.PART_SIZE", 2)
        patch.setattr("gridcore_escalation.archive.CHAPTER_PARTS", 1)  # (the oldest stored parts in chapters)
        patch.setattr("gridcore_tasks.archive.PART_SIZE", 1)
        patch.setattr("gridcore_tasks.archive.CHAPTER_PARTS", 1)  # (the oldest stored parts in chapters)
        patch.setattr("gridcore.checkpointing.CHECKPOINT_PAGE", 3)  # (a plugin's longer lists stored in pages of 3)
        factory = StoreFactory(backend, Path(folder))
        try:
            url = factory.url()
            with Engine.open(store=url, community=community(), ruleset=RULES,
                             effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                             plugins=plugins()) as first:
                first.record_many(history["registered"])
            for step in history["steps"]:
                engine = Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins())
                engine.checkpoint_min = 1
                engine.checkpoint_every = 10
                engine.checkpoint_share = 1  # every checkpoint those say, whatever it costs
                if step["crash"]:
                    # stores its ruleset and events, then "dies" before any checkpoint is written (the one
                    # use_ruleset takes, one after a late event, one on closing)
                    engine.checkpoint = lambda: False  # type: ignore[method-assign]
                if "ruleset" in step:
                    path, when, node = step["ruleset"]
                    engine.use_ruleset(path, effective=when, node=node, search_path=[YINQUAN])
                engine.record_many(step["events"], batch_size=step["batch"])
                engine.close()
            # a reader (read-only) and a writer each open the store: the checkpoint and the tail
            seen = {}
            for read_only in (True, False):
                restored = Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=read_only)
                try:
                    for name in history["woken"]:
                        restored.state(name)
                    seen[read_only] = snapshot(restored)
                finally:
                    restored.close()
            with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins()) as rebuilt:
                rebuilt.rebuild()  # from the first event, no checkpoint
                replayed = snapshot(rebuilt)
            assert seen[False] == replayed
            # (a read-only engine stores no archive part its replay seals, so it cuts none into chapters: its
            # saved states may name the same parts unchaptered; what it reads is the same)
            assert reads(seen[True]) == reads(replayed)
        finally:
            factory.cleanup()


def test_a_checkpoint_is_restored_for_the_built_in_plugins(tmp_path: Path) -> None:
    """Not a vacuous property: after an ingest, opening restores the built-ins' states from the checkpoint."""
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        engine.record_many(day_of_events(1)[:300])
        position = engine.position
        expected = snapshot(engine)
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as reader:
        assert reader._base == position  # nothing replayed through the plugins that save their state
        assert {"escalation#state", "assessment#state", "points#state"} <= set(reader._savers())
        assert not reader._replayed_in_full(reader._savers())
        assert snapshot(reader) == expected
