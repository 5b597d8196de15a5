"""Returns (退单): a case sent back with a reason, and routed again.

A line department sends back what is not its remit and leaves the case; a
handler sends a case reported in the wrong cell to the cell it belongs to,
where it is routed again; a level sends back what is not its matter and the
case is routed again from where it was reported.  Through the Python API and
the command line, with the refusals that say why, and with the ladder after a
return independent of how often time is ticked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopkit import COMMUNITY, T0, at, loop_event, open_loop

import gridcore_escalation as esc
from gridcore import Engine, EventRefused
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    ExtensionRequested,
    IncidentAccepted,
    IncidentEscalated,
    IncidentReported,
    IncidentReturned,
)

RULES = """\
ruleset returns
levels: street > community > grid > unit

escalation:
  incident fire_hazard: start at grid, route to fire
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours
  limit grid: accept within 4 hours, resolve within 3 days, then go to street
  extension: approved by grid_leader
"""


def open_engine(tmp_path: Path, name: str = "store") -> Engine:
    return open_loop(tmp_path, RULES, name, file="returns.rules")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    yield the_engine
    the_engine.close()


def ev(cls: type, hour: float, actor: str, incident: str = "I1", **kw: Any) -> Any:
    return loop_event(cls, hour, actor, incident, **kw)


def report(engine: Engine, incident: str = "I1", category: str = "leaking_pipe") -> None:
    engine.record(IncidentReported(id=f"{incident}-r", time=T0, actor="worker1", node="u11",
                                   incident=incident, category=category))


def refusal(engine: Engine, event: Any) -> str:
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    return caught.value.reasons[0]


def test_a_department_sends_back_what_is_not_its_remit(engine: Engine) -> None:
    report(engine, "F1", "fire_hazard")
    assert esc.incident(engine, "F1").departments == ("fire",)
    engine.record(ev(IncidentReturned, 0.5, "fire1", "F1", department="fire", reason="不属于消防职责：为物业管理问题"))
    view = esc.incident(engine, "F1")
    assert (view.departments, view.status, view.current_node) == ((), "reported", "g1")
    [back] = view.returns
    assert (back.actor, back.department, back.from_node, back.to_node) == ("fire1", "fire", "g1", "g1")
    assert esc.timeline(engine, "F1")[-1].detail == "by fire: 不属于消防职责：为物业管理问题"
    # nobody had taken it: the grid's clock runs on from the report (due 13:00)
    assert view.next_deadline == at(4)
    # fire left the case: it cannot send it back twice
    assert "department fire is not on incident F1" in refusal(
        engine, ev(IncidentReturned, 1, "fire1", "F1", department="fire", reason="again"))


def test_a_department_that_had_taken_the_case_hands_it_back_to_the_node(engine: Engine) -> None:
    report(engine, "F2", "fire_hazard")
    engine.record(ev(IncidentAccepted, 1, "fire1", "F2"))
    engine.record(ev(ExtensionRequested, 2, "fire1", "F2", hours=4, reason="等待勘查"))
    engine.record(ev(IncidentReturned, 3, "fire1", "F2", department="fire", reason="非消防隐患"))
    view = esc.incident(engine, "F2")
    assert (view.status, view.current_node, view.extension_request) == ("reported", "g1", None)
    assert view.next_deadline == at(3 + 4)  # the grid must take it on again within 4 hours of the return
    assert [e.what for e in esc.timeline(engine, "F2")][-2:] == ["extension lapsed", "returned"]


def test_a_case_in_the_wrong_cell_is_routed_again_there(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentAccepted, 0.5, "unitlead"))
    engine.record(ev(IncidentReturned, 1, "unitlead", to_node="u21", reason="地址在3单元"))
    view = esc.incident(engine, "I1")
    assert (view.node, view.current_node, view.current_level, view.status) == ("u21", "u21", "unit", "reported")
    lines = [(e.what, e.detail) for e in esc.timeline(engine, "I1")][-2:]
    assert lines == [("returned", "to u21: 地址在3单元; routed again"), ("routed", "starts at unit u21")]
    assert view.next_deadline == at(3)  # a fresh 2 hours at u21
    # the first cell's people are out of it, the right cell's are in
    assert "holds no role there or above" in refusal(engine, ev(IncidentAccepted, 1.5, "unitlead"))
    engine.record(ev(IncidentAccepted, 1.5, "worker2"))


def test_a_level_sends_back_what_is_not_its_matter(engine: Engine) -> None:
    report(engine)
    engine.record(ev(IncidentEscalated, 0.5, "unitlead", to_node="yq", reason="需要社区协调"))
    assert esc.incident(engine, "I1").current_node == "yq"
    engine.record(ev(IncidentReturned, 1, "master", reason="小事不出网格，请单元处置"))
    view = esc.incident(engine, "I1")
    assert (view.current_node, view.status, view.next_deadline) == ("u11", "reported", at(3))
    assert view.returns[0].from_level == "community"


def test_what_is_refused_and_why(engine: Engine) -> None:
    report(engine, "F1", "fire_hazard")
    report(engine)
    assert "not both" in refusal(engine, ev(IncidentReturned, 1, "fire1", "F1", department="fire", to_node="u21",
                                            reason="x"))
    assert "department police is not on incident F1 (its departments: fire)" in refusal(
        engine, ev(IncidentReturned, 1, "police1", "F1", department="police", reason="x"))
    assert "police1 does not work for fire" in refusal(
        engine, ev(IncidentReturned, 1, "police1", "F1", department="fire", reason="x"))
    assert "reported in u11 already" in refusal(engine, ev(IncidentReturned, 1, "unitlead", to_node="u11",
                                                          reason="x"))
    assert "unknown node 'u99'" in refusal(engine, ev(IncidentReturned, 1, "unitlead", to_node="u99", reason="x"))
    assert "res2 may not return incident I1" in refusal(engine, ev(IncidentReturned, 1, "res2", reason="x"))
    with pytest.raises(ValueError, match="reason"):
        ev(IncidentReturned, 1, "unitlead", reason="")


@pytest.mark.parametrize("ticks", [[50.0], [1.5, 2.5, 3.5, 4.5, 50], [h / 4 for h in range(1, 200)]])
def test_the_ladder_after_a_return_does_not_depend_on_ticks(tmp_path: Path, ticks: list[float]) -> None:
    engine = open_engine(tmp_path)
    report(engine)
    engine.record(ev(IncidentReturned, 1, "unitlead", to_node="u21", reason="地址在3单元"))
    fired = []
    for hour in ticks:
        fired += [(e.id, e.time, e.to_node) for e in engine.tick(at(hour))]
    engine.close()
    # 2 hours at u21 (from the return), then 4 at its grid g2, then up to the street
    assert fired == [("esc:I1:1", at(3), "g2"), ("esc:I1:2", at(7), "wh")]


def run(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_returns_from_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "returns.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "cli")
    assert run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
               "--effective", "2025-03-01T00:00+08:00", "--store", store).exit_code == 0

    def step(*args: str, now: str) -> str:
        result = run("incidents", *args, "--store", store, "--now", now)
        assert result.exit_code == 0, result.output
        return str(result.output)

    step("report", "F1", "--category", "fire_hazard", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")
    said = step("return", "F1", "--actor", "fire1", "--department", "fire", "--reason", "非消防职责",
                now="2025-03-03T09:30+08:00")
    assert "returned (by fire: 非消防职责); incident F1 is reported at grid g1" in said
    step("report", "L1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T10:00+08:00")
    said = step("return", "L1", "--actor", "unitlead", "--to", "u21", "--reason", "地址在3单元",
                now="2025-03-03T10:10+08:00")
    assert "returned (to u21: 地址在3单元; routed again); incident L1 is reported at unit u21" in said
    both = run("incidents", "return", "L1", "--actor", "worker2", "--to", "u11", "--department", "fire",
               "--reason", "x", "--store", store, "--now", "2025-03-03T10:20+08:00")
    assert both.exit_code == 1 and "not both" in both.output
    rows = json.loads(run("incidents", "timeline", "L1", "--store", store, "--format", "json").stdout)["rows"]
    assert [r["step"] for r in rows] == ["reported", "routed", "returned", "routed"]
