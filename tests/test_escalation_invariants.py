"""Invariants of escalation under random reports, transitions and ticks (hypothesis).

* an incident is at one node at a time: each escalation starts where the last one ended;
* it never escalates while resolved, verified or closed;
* levels only move up (or stay, when routed out to a department);
* the outcome does not depend on how often ``tick`` was called;
* ``record`` raises nothing but ``EventRefused`` and ``tick`` nothing at all, with events recorded late
  (dated before events already stored), incident ids reported again (in order and late) and steps of
  incidents not yet reported; the state rebuilt from the store is the live one.

Checked on the events that count (a stored event a late one made no longer hold is kept, ignored).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, GridcoreError, get_plugin_manager
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentEscalated,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentVerified,
)

DATA = Path(__file__).parent / "data" / "escalation"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=TZ)
# the street's secretary may act on every incident, so many random steps succeed
STAFF = ("secretary", "secretary", "leader1", "leader1", "worker1", "master", "worker2", "fire1")
UNITS = ("u11", "u11", "u12", "u21", "n11")
STEPS = (
    "accept",
    "accept",
    "accept",
    "handle",
    "pause",
    "resume",
    "resolve",
    "resolve",
    "verify",
    "verify",
    "close",
    "tick",
)

report_op = st.tuples(
    st.just("report"),
    st.integers(0, 2),  # incident number
    st.sampled_from(UNITS),
    st.sampled_from(("leaking_pipe", "fire_hazard", "dispute")),
    st.integers(1, 5),
    st.sampled_from((None, "b1")),
)
step_op = st.tuples(
    st.sampled_from(STEPS), st.integers(0, 2), st.sampled_from(STAFF), st.integers(1, 5)
)
# "next": the natural next step of the loop, by someone entitled to take it
next_op = st.tuples(st.just("next"), st.integers(0, 2), st.just(""), st.integers(1, 5))
ops = st.lists(
    st.tuples(st.integers(0, 150), st.one_of(report_op, step_op, next_op, next_op)),
    min_size=1,
    max_size=40,
)
#: ``ops`` with how late each is recorded: minutes before the time it comes at (dated before what came before)
late_ops = ops.flatmap(lambda script: st.tuples(*[
    st.tuples(st.just(minutes), st.just(op), st.sampled_from((0, 0, 0, 30, 600))) for minutes, op in script]))
NEXT = {
    "reported": "accept",
    "accepted": "handle",
    "handling": "resolve",
    "resolved": "verify",
    "verified": "close",
}
VERIFIER = {"u11": "leader1", "u12": "leader1", "u21": "leader2"}


def natural(engine: Engine, op: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Turn a "next" op into the step the incident's status calls for, or None."""
    try:
        view = esc.incident(engine, f"I{op[1]}")
    except GridcoreError:
        return None
    kind = NEXT.get(view.status)
    if kind is None:
        return None
    actor = VERIFIER.get(view.node, "secretary") if kind == "verify" else "secretary"
    return (kind, op[1], actor, op[3])


def open_engine(folder: str, ruleset: str) -> Engine:
    pm = get_plugin_manager(("points", "assessment"))
    return Engine.open(
        store=folder,
        community=DATA / "community",
        ruleset=DATA / ruleset,
        clock=FixedClock(T0),
        effective=T0 - timedelta(days=1),
        plugins=pm,
    )


def build(kind: str, n: int, when: datetime, op: tuple[Any, ...], serial: int) -> Any:
    incident = f"I{n}"
    base = {"id": f"e{serial}", "time": when, "node": "u11", "incident": incident}
    if kind == "report":
        _, _, node, category, severity, place = op
        return IncidentReported(
            **{**base, "node": node},
            actor="worker1",
            category=category,
            severity=severity,
            place=place,
        )
    actor = op[2]
    if kind == "accept":
        return IncidentAccepted(**base, actor=actor)
    if kind == "handle":
        return IncidentHandlingStarted(**base, actor=actor)
    if kind == "pause":
        return IncidentPaused(**base, actor=actor, reason="waiting for parts")
    if kind == "resume":
        return IncidentResumed(**base, actor=actor)
    if kind == "resolve":
        return IncidentResolved(**base, actor=actor)
    if kind == "verify":
        return IncidentVerified(**base, actor=actor, satisfaction=op[3])
    return IncidentClosed(**base, actor=actor)


def play(
    script: list[tuple[int, tuple[Any, ...], int]], ruleset: str, *, tick_every_step: bool
) -> tuple[Any, list[Any]]:
    """The cases and refusals, and the stored events that count (``back``: each op recorded so many minutes
    before the time it comes at, late)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(folder + "/store", ruleset)
        try:
            when = T0
            refusals = []
            for serial, (minutes, op, back) in enumerate(script):
                when += timedelta(minutes=minutes)
                if op[0] == "next":
                    op = natural(engine, op) or ("tick",)
                kind = op[0]
                if tick_every_step:
                    engine.tick(when)
                if kind == "tick":
                    engine.tick(when)
                    continue
                try:
                    engine.record(build(kind, op[1], when - timedelta(minutes=back), op, serial))
                except EventRefused as refused:
                    refusals.append((serial, refused.reasons))
            engine.tick(when + timedelta(days=30))
            outcome = (esc.incidents(engine), refusals)
            events = [e for e in engine.events() if not engine.ignored_stored(e.id)]
        finally:
            engine.close()
        # the state rebuilt from the store (rulesets restored from it too) is the same
        pm = get_plugin_manager(("points", "assessment"))
        with Engine.open(
            store=folder + "/store", clock=FixedClock(when + timedelta(days=30)), plugins=pm
        ) as again:
            assert esc.incidents(again) == outcome[0]
            again.rebuild()
            assert esc.incidents(again) == outcome[0]
        return outcome, events


def check_invariants(engine_events: list[Any]) -> None:
    where: dict[str, str] = {}
    settled: dict[str, bool] = {}
    ranks = {"street": 0, "community": 1, "grid": 2, "unit": 3}
    levels = {
        "wh": "street",
        "yq": "community",
        "nx": "community",
        "g1": "grid",
        "g2": "grid",
        "n1": "grid",
    }
    for event in engine_events:
        if isinstance(event, IncidentReported):
            continue
        incident = getattr(event, "incident", None)
        if incident is None:
            continue
        if isinstance(event, IncidentResolved):
            settled[incident] = True
        elif isinstance(event, IncidentReopened):
            settled[incident] = False
        elif isinstance(event, IncidentEscalated):
            assert not settled.get(incident, False), f"{event.id} escalated a resolved incident"
            before = where.get(incident)
            if before is not None:
                assert (
                    ranks[levels.get(event.to_node, "unit")] <= ranks[levels.get(before, "unit")]
                ), event
            where[incident] = event.to_node


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.sampled_from(("ladder-unit.rules", "ladder-grid.rules")))
def test_outcome_does_not_depend_on_ticks_and_levels_only_move_up(
    script: list[tuple[int, tuple[Any, ...]]], ruleset: str
) -> None:
    once, events = play([(m, op, 0) for m, op in script], ruleset, tick_every_step=False)
    often, events_often = play([(m, op, 0) for m, op in script], ruleset, tick_every_step=True)
    assert once == often
    assert [e.id for e in events] == [e.id for e in events_often]
    check_invariants(events)
    for incident in once[0]:
        escalated_to = [step.to_node for step in incident.escalations]
        assert incident.current_node == (
            escalated_to[-1] if escalated_to else incident.current_node
        )
        for step, after in zip(incident.escalations, incident.escalations[1:]):
            assert after.from_node == step.to_node


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(late_ops, st.sampled_from(("ladder-unit.rules", "ladder-grid.rules")))
def test_late_events_and_ids_reported_again_never_raise_and_levels_only_move_up(
    script: tuple[tuple[int, tuple[Any, ...], int], ...], ruleset: str
) -> None:
    once, events = play(list(script), ruleset, tick_every_step=False)
    often, events_often = play(list(script), ruleset, tick_every_step=True)
    # (ticked more often, more escalations may be derived before a late event makes them no longer hold:
    # kept, ignored, in the cases' timelines; what counts is the same)
    assert counted(once[0]) == counted(often[0]) and once[1] == often[1]
    check_invariants(events)
    check_invariants(events_often)


def counted(views: list[Any]) -> list[Any]:
    """What counts of each case: where and how it stands, its breaches and escalations (without their ids)."""
    return [(v.id, v.current_node, v.current_level, v.status, v.breaches,
             [(e.time, e.to_node, e.department, e.reason, e.rule) for e in v.escalations]) for v in views]
