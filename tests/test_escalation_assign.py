"""Assignment (派单) to a named handler, the handler's own limits, and escalation inside a cell.

A leader assigns a case to a named member who may handle it, or reassigns
it; the handler takes it on under the limits of their role (``handler limit
ROLE``).  When such a limit runs out with ``then pass to ROLE``, the rules
assign the case to that role's holder in the cell (worker to leader) before
it moves up the tree.  Through the Python API and the command line, English
and Chinese rules alike, and independent of how often time is ticked.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopkit import COMMUNITY, T0, at, loop_event, open_loop

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentAssigned,
    IncidentEscalated,
    IncidentReported,
    IncidentResolved,
)

RULES = """\
ruleset assign
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours, then go to community
  limit grid: accept within 4 hours, resolve within 3 days
  handler limit unit_leader: resolve within 4 hours, then pass to fulltime_gridworker
  handler limit fulltime_gridworker: resolve within 8 hours, then pass to grid_leader
"""

RULES_ZH = RULES.replace(
    "  handler limit unit_leader: resolve within 4 hours, then pass to fulltime_gridworker\n"
    "  handler limit fulltime_gridworker: resolve within 8 hours, then pass to grid_leader\n",
    "  办理人时限 单元长：办结时限 4小时，超时转给 专职网格员\n"
    "  办理人时限 专职网格员：办结时限 8小时，超时转给 网格长\n")


def open_engine(tmp_path: Path, rules: str = RULES, name: str = "store") -> Engine:
    return open_loop(tmp_path, rules, name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    yield the_engine
    the_engine.close()


def ev(cls: type, hour: float, actor: str, incident: str = "I1", **kw: Any) -> Any:
    return loop_event(cls, hour, actor, incident, actor_in_id=True, **kw)


def report(engine: Engine, incident: str = "I1") -> None:
    engine.record(IncidentReported(id=f"{incident}-r", time=T0, actor="张伟", node="u11", incident=incident,
                                   category="leaking_pipe"))


def test_a_leader_assigns_and_reassigns_a_named_handler(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="unitlead", reason="就近处置"))
    view = esc.incident(engine, "I1")
    assert (view.assignee, view.handler_role, view.status) == ("unitlead", "unit_leader", "reported")
    assert esc.timeline(engine, "I1")[-1].detail == "to unitlead (unit_leader): 就近处置"
    engine.record(ev(IncidentAccepted, 1, "unitlead"))
    # the unit leader's own 4 hours to resolve, counted from the assignment, not the unit's 48
    assert esc.incident(engine, "I1").next_deadline == at(4.5)
    engine.record(ev(IncidentAssigned, 2, "leader1", handler="worker1", reason="需要专职网格员"))
    view = esc.incident(engine, "I1")
    assert (view.assignee, view.handler_role, view.status) == ("worker1", "fulltime_gridworker", "reported")
    assert [a.previous for a in view.assignments] == [None, "unitlead"]
    engine.record(ev(IncidentAccepted, 2.5, "worker1"))
    assert esc.incident(engine, "I1").next_deadline == at(10)  # 8 hours from the reassignment


def test_what_is_refused_and_why(engine: Engine) -> None:
    report(engine)
    refusals = []
    for event in (ev(IncidentAssigned, 1, "leader1", handler="res2"),
                  ev(IncidentAssigned, 1, "leader1", handler="worker2"),
                  ev(IncidentAssigned, 1, "res2", handler="unitlead")):
        with pytest.raises(EventRefused) as caught:
            engine.record(event)
        refusals.append(caught.value.reasons[0])
    assert "res2 cannot handle incident I1" in refusals[0]
    assert "worker2 cannot handle incident I1: they hold no role at u11 or above" in refusals[1]
    assert "res2 may not assign incident I1" in refusals[2]
    engine.record(ev(IncidentAssigned, 1, "leader1", handler="unitlead"))
    with pytest.raises(EventRefused, match="already with unitlead"):
        engine.record(ev(IncidentAssigned, 1.5, "leader1", handler="unitlead"))


def test_a_missed_handler_limit_passes_the_case_inside_the_cell_before_it_moves_up(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAccepted, 0.5, "unitlead"))  # the unit leader took it: 4 hours to resolve
    assert esc.incident(engine, "I1").handler_role == "unit_leader"
    [passed] = engine.tick(at(4))
    assert isinstance(passed, IncidentAssigned) and passed.handler == "worker1" and passed.actor == "system"
    assert "not resolved within 4 hours by the unit_leader" in passed.reason
    view = esc.incident(engine, "I1")
    assert (view.current_node, view.assignee, view.status, view.handler_role) == (
        "u11", "worker1", "reported", "fulltime_gridworker")
    why = engine.explain(f"escalation:{passed.id}")
    assert why.rules[0].line == 8 and why.inputs["applies as"] == "handler unit_leader"
    assert why.inputs["clock"] == "handler"
    # the unit took the case on (its accept limit is met); the gridworker's own 8 hours run from the
    # hand-over and run out too: the case passes to the grid leader, still inside the cell
    assert engine.tick(at(11.75)) == []
    [again] = engine.tick(at(12))
    assert isinstance(again, IncidentAssigned) and again.handler == "leader1"
    # the grid leader has no limits of their own: the unit's 48 hours to resolve, from the report, run
    # out and the case moves up the tree as the unit's limit says
    [up] = engine.tick(at(48))
    assert isinstance(up, IncidentEscalated) and up.to_node == "yq" and up.time == at(48)
    assert "level clock started" in up.reason
    assert len(esc.incident(engine, "I1").breaches) == 3


def test_the_leader_takes_over_when_the_gridworker_misses_too(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAccepted, 0.5, "worker1"))
    [passed] = engine.tick(at(8.5))  # 8 hours of the gridworker's
    assert passed.handler == "leader1"
    engine.record(ev(IncidentAccepted, 9, "leader1"))
    engine.record(ev(IncidentResolved, 10, "leader1"))
    assert esc.incident(engine, "I1").status == "resolved"


@pytest.mark.parametrize("ticks", [[20.0], [1, 4, 4.5, 5, 6, 20], [h / 4 for h in range(1, 81)]])
def test_the_hand_overs_do_not_depend_on_ticks(tmp_path: Path, ticks: list[float]) -> None:
    engine = open_engine(tmp_path)
    report(engine)
    engine.record(ev(IncidentAccepted, 0.5, "unitlead"))
    fired = [(e.id, e.time, e.kind) for hour in ticks for e in engine.tick(at(hour))]
    engine.close()
    # the unit leader's 4 hours run from the case's arrival; then the gridworker's 8 from the hand-over
    assert fired == [("pass:I1:1", at(4), "incident_assigned"), ("pass:I1:2", at(12), "incident_assigned")]


def test_english_and_chinese_are_the_same(tmp_path: Path) -> None:
    seen = []
    for name, rules in (("en", RULES), ("zh", RULES_ZH)):
        engine = open_engine(tmp_path, rules, name)
        report(engine)
        engine.record(ev(IncidentAccepted, 0.5, "unitlead"))
        seen.append([(e.id, e.time, getattr(e, "handler", None)) for e in engine.tick(at(20))])
        engine.close()
    assert seen[0] == seen[1] and seen[0][0][2] == "worker1"


def run(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_assignment_from_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "assign.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "cli")
    assert run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
               "--effective", "2025-03-01T00:00+08:00", "--store", store).exit_code == 0
    done = run("incidents", "report", "A1", "--category", "leaking_pipe", "--node", "u11", "--actor", "张伟",
               "--store", store, "--now", "2025-03-03T09:00+08:00")
    assert done.exit_code == 0, done.output
    said = run("incidents", "assign", "A1", "--actor", "leader1", "--to", "unitlead", "--reason", "就近处置",
               "--store", store, "--now", "2025-03-03T09:10+08:00")
    assert said.exit_code == 0, said.output
    assert "assigned (to unitlead (unit_leader): 就近处置); incident A1 is reported at unit u11" in said.output
    refused = run("incidents", "assign", "A1", "--actor", "leader1", "--to", "worker2", "--store", store,
                  "--now", "2025-03-03T09:20+08:00")
    assert refused.exit_code == 1 and "worker2 cannot handle incident A1" in refused.output
    rows = json.loads(run("incidents", "timeline", "A1", "--store", store, "--format", "json").stdout)["rows"]
    assert [r["step"] for r in rows] == ["reported", "routed", "assigned"]


def test_only_the_named_handler_takes_an_assigned_case_on(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="unitlead"))
    with pytest.raises(EventRefused, match="assigned to unitlead; only they take it on"):
        engine.record(ev(IncidentAccepted, 1, "worker1"))
    # a case moved up leaves its named handler behind: the new level names its own
    engine.record(IncidentEscalated(id="up", time=at(1), actor="leader1", node="u11", incident="I1", to_node="g1",
                                    reason="需要网格协调"))
    assert esc.incident(engine, "I1").assignee is None
    engine.record(ev(IncidentAccepted, 1.5, "worker1"))
    assert esc.incident(engine, "I1").accepted_by == "worker1"


def test_a_checkpoint_keeps_assignments_and_their_explanations(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    report(engine)
    report(engine, "I2")
    engine.record(ev(IncidentAssigned, 0.5, "leader1", "I2", handler="worker1", reason="就近处置"))
    engine.record(ev(IncidentAccepted, 0.5, "unitlead"))
    [passed] = [e for e in engine.tick(at(4)) if e.incident == "I1"]
    before = (esc.incident(engine, "I1"), esc.incident(engine, "I2"), esc.timeline(engine, "I1"),
              engine.explain(f"escalation:{passed.id}"))
    engine.checkpoint()
    engine.close()
    again = Engine.open(store=str(tmp_path / "store"), clock=FixedClock(T0),
                        plugins=get_plugin_manager(("points", "assessment")))
    restored = (esc.incident(again, "I1"), esc.incident(again, "I2"), esc.timeline(again, "I1"),
                again.explain(f"escalation:{passed.id}"))
    assert restored == before
    again.rebuild()  # from the first event, no checkpoint
    assert (esc.incident(again, "I1"), esc.incident(again, "I2"), esc.timeline(again, "I1"),
            again.explain(f"escalation:{passed.id}")) == before
    assert again.tick(at(20))[0].id == "pass:I1:2"  # the schedule is rebuilt from the restored records
    again.close()


def test_the_limits_table_lists_the_handlers_limits(tmp_path: Path) -> None:
    path = tmp_path / "assign.rules"
    path.write_text(RULES_ZH, encoding="utf-8")
    rows = json.loads(run("incidents", "limits", str(path), "--format", "json").output)["rows"]
    mine = [r for r in rows if r["category"].startswith("handler ")]
    assert [(r["category"], r["level"], r["accept"], r["resolve"]) for r in mine] == [
        ("handler unit_leader", "(then to fulltime_gridworker)", "-", "4 hours (handler, assign.rules:8)"),
        ("handler fulltime_gridworker", "(then to grid_leader)", "-", "8 hours (handler, assign.rules:9)"),
    ]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticks=st.lists(st.integers(1, 40 * 4), max_size=12).map(lambda qs: sorted(q / 4 for q in qs)),
       taken=st.sampled_from([None, 0.5, 3.0, 7.0]), who=st.sampled_from(["unitlead", "worker1"]))
def test_inside_the_cell_the_ladder_does_not_depend_on_how_often_time_is_ticked(
        tmp_path: Path, ticks: list[float], taken: float | None, who: str) -> None:
    """Whatever the ticks, the same hand-overs inside the cell and escalations up the tree, at the same times."""
    seen = []
    for n, schedule in enumerate((ticks, [])):
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            engine = open_engine(Path(folder), name=f"s{n}")
            report(engine)
            refused = ""
            if taken is not None:
                for hour in [h for h in schedule if h < taken]:
                    engine.tick(at(hour))
                try:
                    engine.record(ev(IncidentAccepted, taken, who))
                except EventRefused as refusal:  # the case had moved up by then: refused alike
                    refused = refusal.reasons[0]
                schedule = [h for h in schedule if h >= taken]
            for hour in [*schedule, 41]:
                engine.tick(at(hour))
            derived = [(e.id, e.time, getattr(e, "handler", None), getattr(e, "to_node", None))
                       for e in engine.events() if e.actor == "system"]
            view = esc.incident(engine, "I1")
            seen.append((derived, refused, view.current_node, view.status, view.assignee, view.next_deadline,
                         len(view.breaches)))
            engine.close()
    assert seen[0] == seen[1]


def test_the_loop_report_counts_assignments_by_hand_and_inside_the_cell(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="unitlead"))
    engine.record(ev(IncidentAccepted, 1, "unitlead"))
    engine.tick(at(5))  # the unit leader's 4 hours ran out: passed to the gridworker
    rows = {row[0]: row[1:] for row in engine.report("escalation.loop", {"period": "2025-03"}).rows}
    assert rows["派单/改派 assigned by hand"] == (1, 1)
    assert rows["网格内超时转办 passed on inside the cell"] == (1, 1)
    assert rows["受理 accepted"] == (1, 1) and rows["办结 resolved"] == (0, 0)


def test_a_round_the_clock_handler_limit_shorter_than_the_night_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "assign.rules"
    path.write_text(RULES, encoding="utf-8")
    doc = json.loads(run("check", "--format", "json", str(path)).output)
    said = [(d["code"], d["message"]["en"].split(":")[0]) for d in doc["diagnostics"]]
    assert ("limit-unmeetable", "'resolve within 4 hours' may not be met") in said
    path.write_text(RULES.replace("within 4 hours", "within 4 working hours")
                    .replace("within 8 hours", "within 8 working hours"), encoding="utf-8")
    assert not any("handler" in d["message"]["en"] or "within 4" in d["message"]["en"]
                   for d in json.loads(run("check", "--format", "json", str(path)).output)["diagnostics"])


LONG_HANDLERS = """\
ruleset clocks
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours, then go to community
  handler limit unit_leader: resolve within 30 hours, then pass to fulltime_gridworker
  handler limit fulltime_gridworker: resolve within 10 hours, then pass to grid_leader
"""


def test_reassigning_inside_the_level_never_puts_off_the_levels_deadline(tmp_path: Path) -> None:
    """Two clocks: the level's runs from the case's arrival, the handler's from the latest assignment."""
    engine = open_engine(tmp_path, LONG_HANDLERS)
    report(engine)
    report(engine, "I2")
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="unitlead"))
    engine.record(ev(IncidentAssigned, 0.5, "leader1", "I2", handler="worker1"))
    engine.record(ev(IncidentAccepted, 1, "unitlead"))
    engine.record(ev(IncidentAssigned, 1, "leader1", "I2", handler="unitlead"))  # I2 reassigned (改派) twice
    engine.record(ev(IncidentAccepted, 1.25, "unitlead", "I2"))
    engine.record(ev(IncidentAssigned, 2, "leader1", "I2", handler="worker1"))
    engine.record(ev(IncidentAccepted, 2.5, "worker1", "I2"))
    # I2's gridworker has 10 hours of their own, from the latest assignment (at 2), not from the report
    assert engine.tick(at(11.75)) == []
    [passed] = engine.tick(at(12))
    assert (passed.id, passed.handler) == ("pass:I2:1", "leader1")
    assert "handler clock started 2025-03-03T11:00+08:00" in passed.reason
    why = engine.explain(f"escalation:{passed.id}")
    assert why.inputs["clock"] == "handler" and why.inputs["clock_started"] == "2025-03-03T11:00+08:00"
    engine.record(ev(IncidentAssigned, 13, "leader1", handler="worker1"))  # I1 reassigned twice
    engine.record(ev(IncidentAccepted, 13.5, "worker1"))
    engine.record(ev(IncidentAssigned, 20, "leader1", handler="unitlead"))
    engine.record(ev(IncidentAccepted, 20.5, "unitlead"))
    # the unit leader's own 30 hours run from the latest assignment (due at 50), the unit's 48 from the report
    assert esc.incident(engine, "I1").next_deadline == at(48)
    fired = [e for e in engine.tick(at(60)) if e.incident == "I1"]
    assert [(e.id, e.time, e.to_node) for e in fired] == [("esc:I1:1", at(48), "yq")]
    assert "level clock started 2025-03-03T09:00+08:00" in fired[0].reason
    why = engine.explain(f"escalation:{fired[0].id}")
    assert why.inputs["applies as"] == "level unit" and why.inputs["clock"] == "level"
    assert why.inputs["clock_started"] == "2025-03-03T09:00+08:00"
    engine.close()


def test_reassigning_before_anyone_takes_the_case_on_never_puts_off_the_levels_acceptance(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="unitlead"))
    engine.record(ev(IncidentAssigned, 1.5, "leader1", handler="worker1"))
    [up] = engine.tick(at(5))
    assert (up.time, up.to_node) == (at(2), "yq")  # the unit's 2 hours to take it on, from the report
    assert up.reason.startswith("not accepted within 2 hours at unit u11 (level clock started")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticks=st.lists(st.integers(1, 60 * 2), max_size=10).map(lambda qs: sorted(q / 2 for q in qs)),
       moves=st.lists(st.integers(1, 50 * 2), min_size=1, max_size=4, unique=True).map(
           lambda qs: sorted(q / 2 for q in qs)),
       taken=st.booleans())
def test_however_often_it_is_reassigned_and_ticked_the_level_keeps_its_deadline(
        tmp_path: Path, ticks: list[float], moves: list[float], taken: bool) -> None:
    """Reassignments at any times never put the level's 48 hours off, and ticks change nothing."""
    seen = []
    for n, schedule in enumerate((ticks, [])):
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            engine = open_engine(Path(folder), LONG_HANDLERS, name=f"m{n}")
            report(engine)
            steps = [(0.25, IncidentAccepted, "unitlead")] if taken else []
            steps += [(hour, IncidentAssigned, ("worker1", "unitlead")[k % 2]) for k, hour in enumerate(moves)]
            refused = []
            for hour, kind, who in steps:
                for tick in [h for h in schedule if h < hour]:
                    engine.tick(at(tick))
                schedule = [h for h in schedule if h >= hour]
                extra = {"handler": who} if kind is IncidentAssigned else {}
                try:
                    engine.record(ev(kind, hour, "leader1" if extra else who, **extra))
                except EventRefused as refusal:  # the case had moved up by then: refused alike
                    refused.append(refusal.reasons[0])
            for hour in [*schedule, 61]:
                engine.tick(at(hour))
            derived = [(e.id, e.time, getattr(e, "to_node", None)) for e in engine.events() if e.actor == "system"]
            seen.append((derived, refused, esc.incident(engine, "I1").next_deadline))
            engine.close()
    assert seen[0] == seen[1]
    ups = [time for ident, time, _ in seen[0][0] if ident.startswith("esc:")]
    # the unit's limits count from the report, whoever has the case: 2 hours for the unit to take it on,
    # else (taken on) 48 hours to resolve it, whatever the handlers' own limits did meanwhile
    assert ups and ups[0] == at(48 if taken else 2)


def test_an_extension_moves_both_clocks_and_a_reassignment_keeps_only_the_levels(tmp_path: Path) -> None:
    from gridcore_escalation.events import ExtensionApproved, ExtensionRequested

    rules = LONG_HANDLERS + "  extension: at most 2 times, up to 2 days each, approved by grid_leader\n"
    engine = open_engine(tmp_path, rules)
    report(engine)
    engine.record(ev(IncidentAssigned, 0.5, "leader1", handler="worker1"))
    engine.record(ev(IncidentAccepted, 1, "worker1"))  # worker1's own 10 hours: due at 10.5; the unit's at 48
    engine.record(ev(ExtensionRequested, 2, "worker1", hours=5, reason="等配件"))
    engine.record(ev(ExtensionApproved, 3, "leader1"))
    approval = esc.incident(engine, "I1").extensions[0]
    assert (approval.before, approval.after) == (at(10.5), at(15.5))
    why = engine.explain(f"escalation:{approval.event}")
    assert why.inputs["clock"] == "handler" and why.inputs["deadline after"] == "2025-03-04T00:30+08:00"
    # the new handler's own 30 hours start afresh (no extension); the unit's 48 keep their 5 more hours
    engine.record(ev(IncidentAssigned, 4, "leader1", handler="unitlead"))
    assert esc.incident(engine, "I1").next_deadline == at(34)
    fired = [(e.id, e.time) for e in engine.tick(at(60))]
    assert fired == [("pass:I1:1", at(34)), ("pass:I1:2", at(44)), ("esc:I1:1", at(53))]
    engine.close()
