"""Reopenings (``reopen:<case>:<n>``) and passes inside the cell (``pass:<case>:<n>``) derived after a late event.

A late event can change what is derived, as it can for escalations
(tests/test_escalation_late.py): a verification dated earlier reopens the case
earlier than a stored reopening, an assignment dated earlier passes the case on
at another time than a stored pass.  The numbering rule of docs/escalation.md
holds for every derived kind: an id the store holds is never given to another
derived event, each stored one is in its case's timeline once (counted or
ignored), the same log gives the same ids in a full replay and from a
checkpoint, and what counts is what the same events give in time order.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopkit import at, loop_event, open_loop

import gridcore_escalation as esc
from gridcore import Engine, Event
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentAssigned,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

RULES = """\
ruleset late_ids
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours, then go to community
  limit grid: accept within 4 hours, resolve within 3 days
  handler limit unit_leader: resolve within 4 hours, then pass to fulltime_gridworker
  handler limit fulltime_gridworker: resolve within 8 hours, then pass to grid_leader
  verified by: grid_leader
  reopen: when satisfaction <= 2
"""

#: what the derived kinds' timeline lines are (counted, or ignored)
LINES = ("reopened", "reopen ignored", "assigned", "assignment ignored")


def report(incident: str = "I1", hour: float = 0, node: str = "u11") -> IncidentReported:
    return IncidentReported(id=f"{incident}-r", time=at(hour), actor="张伟", node=node, incident=incident,
                            category="leaking_pipe")


def step(cls: type, minutes: int, actor: str, **kw: Any) -> Any:
    return loop_event(cls, minutes / 60, actor, actor_in_id=True, **kw)


def derived(engine: Engine) -> dict[str, Any]:
    """The reopenings and passes the store holds: id -> time."""
    return {e.id: e.time for e in engine.events() if e.id.startswith(("reopen:", "pass:"))}


def final(engine: Engine, now: Any, ids: bool = True) -> tuple[Any, ...]:
    """Where the cases are, their breaches, assignments and reopenings (ids left out unless ``ids``)."""
    out = []
    for view in esc.incidents(engine):
        assigned = [(a.time, a.actor, a.handler, a.reason) + ((a.event,) if ids else ()) for a in view.assignments]
        out.append((view.id, view.current_node, view.status, view.reopens, view.breaches, assigned,
                    [(e.time, e.to_node, e.reason) + ((e.event,) if ids else ()) for e in view.escalations]))
    return (out, [(v.id, d.limit, d.time) for v, d in esc.overdue(engine, now)])


def arrive(data: st.DataObject, first: Event, steps: list[Event], others: list[Event]) -> list[list[Event]]:
    """The events in any order, ``first`` before every step, cut into any batches."""
    arrival = list(data.draw(st.permutations([first, *steps, *others])))
    arrival.remove(first)
    arrival.insert(min([arrival.index(s) for s in steps] + [data.draw(st.integers(0, len(arrival)))]), first)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=len(arrival) - 1)))
    return [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)])]


def check(batches: list[list[Event]]) -> None:
    """Record ``batches`` (a checkpoint after the first), and compare with a rebuild, the checkpoint plus
    the rest, and the same events in time order."""
    arrival = [e for batch in batches for e in batch]
    now = max(e.time for e in arrival) + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        engine = open_loop(folder, RULES, "late", file="late_ids.rules")
        refused: set[str] = set()
        for n, batch in enumerate(batches):
            refused |= {r.event_id for r in engine.record_many(batch).refused}
            if n == 0:
                engine.checkpoint()
        engine.tick(now)
        live, counted, stored = final(engine, now), final(engine, now, ids=False), derived(engine)
        lines = [(e.event, e.time) for case in {v.id for v in esc.incidents(engine)}
                 for e in esc.timeline(engine, case) if e.what in LINES and e.actor == "system"]
        assert sorted(lines) == sorted(stored.items())  # each once, at its time: never lost nor counted twice
        for ident in stored:  # each explains itself, counted or ignored
            assert engine.explain(f"escalation:{ident}").decision == f"escalation:{ident}"
        engine.rebuild()
        assert final(engine, now) == live and derived(engine) == stored
        engine.close()
        with open_loop(folder, RULES, "late", file="late_ids.rules") as again:  # the first batch's checkpoint + the rest
            assert final(again, now) == live
        # what counts is what the events the store took give in time order: an event refused on what the log
        # held when it came stays refused (docs/escalation.md), so the same log is the arrival less the refused
        with open_loop(folder, RULES, "in-order", file="late_ids.rules") as in_order:
            in_order.record_many([e for e in arrival if e.id not in refused])  # (canonical order)
            in_order.tick(now)
            assert final(in_order, now, ids=False) == counted


def test_a_late_earlier_verification_reopens_the_case_under_a_number_the_store_does_not_hold(
        tmp_path: Path) -> None:
    engine = open_loop(tmp_path, RULES, "late", file="late_ids.rules")
    for event in (report(), step(IncidentAccepted, 30, "worker1"), step(IncidentResolved, 60, "worker1"),
                  step(IncidentVerified, 300, "leader1", satisfaction=1)):
        engine.record(event)
    assert derived(engine) == {"reopen:I1:1": at(5) + timedelta(microseconds=1)}
    # typed in late: an unsatisfied verification at 12:00 (the one at 14:00 then finds the case reopened)
    engine.record(step(IncidentVerified, 180, "leader1", satisfaction=2))
    # the reopening at 12:00 takes reopen:I1:2; the stored reopen:I1:1 is the one at 14:00, replayed there
    assert derived(engine) == {"reopen:I1:1": at(5) + timedelta(microseconds=1),
                               "reopen:I1:2": at(3) + timedelta(microseconds=1)}
    # in time order the verification at 14:00 finds the case reopened (reported) and is refused: stored, it is
    # kept ignored, and so is the reopening it brought; the case was reopened once, at 12:00
    lines = [(e.what, e.event) for e in esc.timeline(engine, "I1") if "reopen" in e.what or "ignored" in e.what]
    assert lines == [("reopened", "reopen:I1:2"), ("step ignored", "I1-incident_verified-5.0-leader1"),
                     ("reopen ignored", "reopen:I1:1")], lines
    assert esc.incident(engine, "I1").reopens == 1
    # each names the late verification at 12:00
    late = "I1-incident_verified-3.0-leader1: verified at 2025-03-03 12:00 by leader1"
    refused = engine.explain("escalation:I1-incident_verified-5.0-leader1")
    assert refused.inputs["late event"] == late and "the step is refused: incident I1 is reported" in refused.summary
    reopening = engine.explain("escalation:reopen:I1:1")
    assert reopening.result == "ignored (已忽略)" and reopening.inputs["late event"] == late
    assert "is ignored: verified at 12:00 (I1-incident_verified-3.0-leader1, by leader1), dated before it, was " \
           "recorded after it; replayed in time order, incident was reported" in reopening.summary, reopening.summary
    assert "12:00 的核查在其后补录" in reopening.summary
    assert reopening.inputs["recorded"].startswith("after reopening reopen:I1:1 was stored (dated 2025-03-03 14:00)")
    engine.close()


def test_a_stored_pass_a_late_assignment_moves_is_kept_ignored_and_explained(tmp_path: Path) -> None:
    engine = open_loop(tmp_path, RULES, "late", file="late_ids.rules")
    engine.record(report())
    engine.record(step(IncidentAccepted, 30, "worker1"))  # the gridworker's 8 hours, from the arrival
    engine.record(report("I0", 10, node="u21"))
    assert derived(engine) == {"pass:I1:1": at(8)}
    # typed in late: the grid leader gave the case to the gridworker at 09:12, who took it on at 09:30:
    # their 8 hours run from the assignment, and the pass falls at 17:12
    engine.record(step(IncidentAssigned, 12, "leader1", handler="worker1"))
    assert derived(engine) == {"pass:I1:1": at(8), "pass:I1:2": at(8.2)}
    lines = [(e.time, e.what, e.event) for e in esc.timeline(engine, "I1") if e.actor == "system"
             and e.what.startswith("assign")]
    assert lines == [(at(8), "assignment ignored", "pass:I1:1"), (at(8.2), "assigned", "pass:I1:2")]
    why = engine.explain("escalation:pass:I1:1")
    assert why.result == "ignored (已忽略)" and [r.line for r in why.rules] == [9]
    assert why.summary.startswith("pass inside the cell pass:I1:1 of incident I1 at 2025-03-03 17:00 (derived "
                                  "by the system: not resolved within 8 hours by the fulltime_gridworker")
    # it names the late assignment, which restarted the handler's clock
    assert why.inputs["late event"] == "I1-incident_assigned-0.2-leader1: assigned at 2025-03-03 09:12 by leader1"
    assert "is ignored: assigned at 09:12 (I1-incident_assigned-0.2-leader1, by leader1), dated before it, was " \
           "recorded after it; replayed in time order, its handler's limit no longer ran out then (recorded late). " \
           "It no longer counts" in why.summary, why.summary
    assert "系统派生的网格内转办已忽略：09:12 的派单在其后补录；按时间顺序重放，补录后此时办理人未超时限。" in why.summary
    assert why.inputs["recorded"] == ("after pass inside the cell pass:I1:1 was stored (dated 2025-03-03 17:00), "
                                      "though dated 09:12 (补录：09:12 的派单在本次网格内转办之后才录入)")
    engine.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.integers(60, 600),  # the first verification, minutes after 09:00 (resolved at 09:20)
    st.integers(1, 5),  # its satisfaction
    st.one_of(st.none(), st.integers(60, 600)),  # another verification
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 600)),  # taken on again and resolved, minutes after the first
    st.data(),
)
def test_reopenings_in_any_order_and_batches(first: int, score: int, second: int | None, again: int,
                                             redone: int | None, data: st.DataObject) -> None:
    steps: list[Event] = [step(IncidentAccepted, 10, "worker1"), step(IncidentResolved, 20, "worker1"),
                          step(IncidentVerified, first, "leader1", satisfaction=score)]
    if second is not None and second != first:
        steps.append(step(IncidentVerified, second, "leader1", satisfaction=again))
    if redone is not None:
        steps += [step(IncidentAccepted, first + redone, "worker1"),
                  step(IncidentResolved, first + redone + 5, "worker1")]
    check(arrive(data, report(), steps, [report("I0", 30, node="u21")]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.sampled_from(["unitlead", "worker1"]),  # who takes the case on
    st.integers(1, 120),  # when, minutes after 09:00
    st.one_of(st.none(), st.integers(1, 900)),  # the grid leader assigns it, minutes after 09:00
    st.sampled_from(["unitlead", "worker1"]),  # to whom
    st.one_of(st.none(), st.integers(60, 1200)),  # resolved by whoever has it then
    st.data(),
)
def test_passes_in_any_order_and_batches(taker: str, taken: int, assigned: int | None, handler: str,
                                         resolved: int | None, data: st.DataObject) -> None:
    steps: list[Event] = [step(IncidentAccepted, taken, taker)]
    if assigned is not None:
        steps.append(step(IncidentAssigned, assigned, "leader1", handler=handler))
    if resolved is not None:
        steps.append(step(IncidentResolved, resolved, "leader1"))
    check(arrive(data, report(), steps, [report("I0", 30, node="u21")]))


@st.composite
def reused(draw: st.DrawFn, steps: list[Event]) -> list[Event]:
    """Events reusing an id of the case: I1 reported again under a new id (dated before or after its report, in
    its unit or another), its report again under its own id (a duplicate), one of its steps again under a new id
    at another time, and a step of an incident nobody reported (I9)."""
    out: list[Event] = []
    for n, (how, minutes) in enumerate(draw(st.lists(st.tuples(
            st.sampled_from(("report again", "same report", "step again", "stranger")), st.integers(-120, 900)),
            min_size=1, max_size=3))):
        if how == "report again":
            out.append(attrs.evolve(report(node=draw(st.sampled_from(("u11", "u21")))), id=f"I1-r{n}",
                                    time=at(minutes / 60)))
        elif how == "same report":
            out.append(report())
        elif how == "step again":
            out.append(attrs.evolve(draw(st.sampled_from(steps)), id=f"again{n}", time=at(minutes / 60)))
        else:
            out.append(step(IncidentAccepted, minutes, "worker1", incident="I9"))
    return out


@settings(max_examples=int(os.environ.get("GRIDCORE_TEST_EXAMPLES", "10")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.integers(60, 600),  # the first verification, minutes after 09:00 (resolved at 09:20)
    st.integers(1, 5),  # its satisfaction
    st.one_of(st.none(), st.integers(1, 900)),  # the grid leader assigns it, minutes after 09:00
    st.data(),
)
def test_reused_ids_in_any_order_and_batches(first: int, score: int, assigned: int | None,
                                             data: st.DataObject) -> None:
    steps: list[Event] = [step(IncidentAccepted, 10, "worker1"), step(IncidentResolved, 20, "worker1"),
                          step(IncidentVerified, first, "leader1", satisfaction=score)]
    if assigned is not None:
        steps.append(step(IncidentAssigned, assigned, "leader1", handler="unitlead"))
    check(arrive(data, report(), steps, [report("I0", 30, node="u21"), *data.draw(reused(steps))]))
