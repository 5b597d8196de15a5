"""Time limits per category (and severity) and per summoned line department: the most specific wins.

Through the Python API and the command line: which limit a case runs under
at each level (and why, in ``explain``), a summoned department's report-in
and resolve limits, the table ``gridcore incidents limits`` prints, the
warning for a category whose ladder has a level without any limit, English
and Chinese alike, and escalations that do not depend on the ticks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopkit import COMMUNITY, T0, TZ, at, open_loop

import gridcore_escalation as esc
from gridcore import Engine, get_plugin_manager
from gridcore.plugin_host import Hooks
from gridcore.rules import parse_ruleset
from gridcore_app.cli import main_group
from gridcore_escalation.events import IncidentAccepted, IncidentEscalated, IncidentReported
from gridcore_escalation.section import SECTION

RULES = """\
ruleset limits
levels: street > community > grid > unit

escalation:
  incident fire_hazard: start at grid, route to fire
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours
  limit grid: accept within 4 hours, resolve within 3 days
  limit community: accept within 1 hour, resolve within 1 day
  limit street: accept within 1 hour
  limit for fire_hazard: accept within 1 hour, at community resolve within 4 hours, when incident.severity >= 4 resolve within 2 hours
  department limit fire: report within 2 hours, resolve within 3 days
"""

RULES_ZH = RULES.replace(
    "  limit for fire_hazard: accept within 1 hour, at community resolve within 4 hours, "
    "when incident.severity >= 4 resolve within 2 hours",
    "  类别时限 fire_hazard：受理时限 1小时，于 community 办结时限 4小时，当 事件.严重程度 >= 4 办结时限 2小时",
).replace("  department limit fire: report within 2 hours, resolve within 3 days",
          "  部门时限 fire：报到时限 2小时，办结时限 3天")


def open_engine(tmp_path: Path, rules: str = RULES, name: str = "store") -> Engine:
    return open_loop(tmp_path, rules, name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    yield the_engine
    the_engine.close()


def report(engine: Engine, incident: str, category: str, severity: int = 1) -> None:
    engine.record(IncidentReported(id=f"{incident}-r", time=T0, actor="worker1", node="u11", incident=incident,
                                   category=category, severity=severity))


def accept(engine: Engine, incident: str, hour: float, actor: str) -> None:
    engine.record(IncidentAccepted(id=f"{incident}-a{hour}", time=at(hour), actor=actor, node="u11",
                                   incident=incident))


def test_a_category_limit_beats_the_level_limit(engine: Engine) -> None:
    report(engine, "F1", "fire_hazard")
    report(engine, "L1", "leaking_pipe")
    # the grid's own 4 hours for a fire hazard are 1 hour (limit for fire_hazard)
    assert esc.incident(engine, "F1").next_deadline == at(1)
    assert esc.incident(engine, "L1").next_deadline == at(2)  # the unit's 2 hours
    [up] = engine.tick(at(1))
    assert up.incident == "F1" and up.to_node == "yq" and up.rule.endswith("store.rules:11")
    why = engine.explain(f"escalation:{up.id}")
    assert why.inputs["applies as"] == "fire_hazard" and why.rules[0].line == 11
    # at the community: the fire hazard's own resolve limit there (4 hours), not the level's day
    accept(engine, "F1", 1.5, "master")
    assert esc.incident(engine, "F1").next_deadline == at(5)


def test_a_condition_on_the_case_narrows_it(engine: Engine) -> None:
    report(engine, "F4", "fire_hazard", severity=4)
    accept(engine, "F4", 0.5, "leader1")
    # at the grid: 'when incident.severity >= 4 resolve within 2 hours' beats the grid's 3 days
    assert esc.incident(engine, "F4").next_deadline == at(2)
    [up] = engine.tick(at(2))
    assert engine.explain(f"escalation:{up.id}").inputs["applies as"] == (
        "fire_hazard when incident.severity >= 4")


def test_a_summoned_department_runs_under_its_own_limits(engine: Engine) -> None:
    report(engine, "L2", "leaking_pipe")
    accept(engine, "L2", 0.5, "unitlead")
    # 吹哨报到: the unit summons the fire station; it must report in within 2 hours
    engine.record(IncidentEscalated(id="L2-w", time=at(1), actor="unitlead", node="u11", incident="L2",
                                    to_node="u11", department="fire", reason="楼道堆物需消防处置"))
    view = esc.incident(engine, "L2")
    assert (view.status, view.departments, view.next_deadline) == ("reported", ("fire",), at(3))
    accept(engine, "L2", 2, "fire1")  # reported in on time
    assert esc.incident(engine, "L2").next_deadline == at(1 + 72)  # 3 days to resolve, from the summons


def test_a_department_that_does_not_report_in_sends_the_case_up(engine: Engine) -> None:
    report(engine, "L3", "leaking_pipe")
    accept(engine, "L3", 0.5, "unitlead")
    engine.record(IncidentEscalated(id="L3-w", time=at(1), actor="unitlead", node="u11", incident="L3",
                                    to_node="u11", department="fire", reason="需消防处置"))
    [up] = engine.tick(at(3))
    assert up.to_node == "g1" and "not accepted within 2 hours" in up.reason
    assert engine.explain(f"escalation:{up.id}").inputs["applies as"] == "department fire"
    assert esc.incident(engine, "L3").next_deadline == at(3 + 4)  # the grid's own limit again


@pytest.mark.parametrize("ticks", [[30.0], [0.5, 1, 1.5, 4.5, 5, 30], [h / 4 for h in range(1, 121)]])
def test_the_escalations_do_not_depend_on_ticks(tmp_path: Path, ticks: list[float]) -> None:
    engine = open_engine(tmp_path)
    report(engine, "F1", "fire_hazard")
    fired = [(e.id, e.time, e.to_node) for hour in ticks for e in engine.tick(at(hour))]
    engine.close()
    # 1 hour at the grid, 1 hour at the community (the fire hazard's accept everywhere), 1 at the street
    assert fired == [("esc:F1:1", at(1), "yq"), ("esc:F1:2", at(2), "wh")]


def test_english_and_chinese_are_the_same(tmp_path: Path) -> None:
    sections = Hooks(get_plugin_manager()).register_sections()
    english = parse_ruleset(RULES, sections=sections, name="en.rules")
    chinese = parse_ruleset(RULES_ZH, sections=sections, name="zh.rules")
    en, zh = (r.policies(SECTION)[0].policy for r in (english, chinese))
    clauses = [(c.category, c.limit, str(c.span), c.level) for c in en.category_limits]
    assert clauses == [("fire_hazard", "accept", "1 hour", None), ("fire_hazard", "resolve", "4 hours", "community"),
                       ("fire_hazard", "resolve", "2 hours", None)]
    assert clauses == [(c.category, c.limit, str(c.span), c.level) for c in zh.category_limits]
    assert [str(c.condition) for c in zh.category_limits][2] == "事件.严重程度 >= 4"
    assert [(d.department, d.report, d.resolve) for d in en.department_limits] == [
        (d.department, d.report, d.resolve) for d in zh.department_limits]


def run(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_the_limits_table_shows_which_applies_where(tmp_path: Path) -> None:
    path = tmp_path / "limits.rules"
    path.write_text(RULES, encoding="utf-8")
    shown = run("incidents", "limits", str(path), "--format", "json")
    assert shown.exit_code == 0, shown.output
    rows = {(r["category"], r["level"]): r for r in json.loads(shown.output)["rows"]}
    assert rows[("fire_hazard", "grid")]["accept"] == "1 hour (fire_hazard, limits.rules:11)"
    assert rows[("fire_hazard", "grid")]["resolve"] == "3 days (level grid, limits.rules:8)"
    assert rows[("fire_hazard", "community")]["resolve"] == "4 hours (fire_hazard at community, limits.rules:11)"
    assert rows[("fire_hazard", "grid")]["also, only when"] == (
        "resolve within 2 hours when incident.severity >= 4 (limits.rules:11)")
    assert rows[("(any other)", "unit")]["accept"] == "2 hours (level unit, limits.rules:7)"
    assert rows[("(any other)", "street")]["resolve"] == "-"
    assert rows[("department fire", "(summoned)")]["accept"] == "2 hours (report in, limits.rules:12)"


def test_check_flags_a_category_ladder_with_a_level_without_limits(tmp_path: Path) -> None:
    text = """\
ruleset gaps
levels: street > community > grid > unit

escalation:
  incident fire_hazard: start at grid, route to fire
  limit for fire_hazard: at grid accept within 1 hour, at community resolve within 4 hours
  limit unit: accept within 2 working hours
"""
    path = tmp_path / "gaps.rules"
    path.write_text(text, encoding="utf-8")
    checked = run("check", str(path))
    assert checked.exit_code == 0
    assert ("gaps.rules:5:3: warning: cases of category fire_hazard have no time limit at street: there a case "
            "is never overdue and never moves up") in checked.output
    assert "fix: add 'limit street: accept within ...'" in checked.output
    zh = run("check", "--lang", "zh", str(path))
    assert "类别 fire_hazard 的事件在 street 没有时限" in zh.output or "fire_hazard的事件在 street 没有时限" in zh.output


def test_check_flags_a_level_without_limits_in_the_middle_of_the_ladder(tmp_path: Path) -> None:
    """The levels' own ladder: a gap below a level with limits is flagged (limit-missing); the top left
    without limits, or a level a breach skips ('then go to'), is not."""
    head = "ruleset gaps\nlevels: street > community > grid > unit\n\nescalation:\n  incident any: start at unit\n"
    cases = {
        "  limit unit: accept within 2 working hours\n  limit community: accept within 1 working day\n": "grid",
        "  limit unit: accept within 2 working hours, then go to community\n"
        "  limit community: accept within 1 working day\n": None,
        "  limit unit: accept within 2 working hours\n  limit grid: accept within 4 working hours\n": None,
        "  limit grid: accept within 4 working hours\n": "unit",
    }
    for n, (limits, gap) in enumerate(cases.items()):
        path = tmp_path / f"gaps{n}.rules"
        path.write_text(head + limits, encoding="utf-8")
        doc = json.loads(run("check", "--format", "json", str(path)).output)
        found = [(d["code"], d["message"]["en"]) for d in doc["diagnostics"]]
        if gap is None:
            assert found == [], limits
        else:
            said = f"cases of any category have no time limit at {gap}: there a case is never overdue and never moves up"
            assert found == [("limit-missing", said)], limits


def test_a_gap_a_variant_makes_is_said_in_the_variant_not_in_the_base_it_extends(tmp_path: Path) -> None:
    """A level left without a time limit was reported on the first category line of the district's base
    (district-base.rules:75:3), a file community staff do not edit, with a fix that did not say where to
    write it.  It is said in the file being checked: on its line removing the limit, else on its own
    route or limit line, and the fix names that file."""
    (tmp_path / "base.rules").write_text(
        "ruleset base\n\nescalation:\n  category leaking_pipe: 水管漏水\n  category dispute: 矛盾纠纷\n",
        encoding="utf-8")
    (tmp_path / "area.rules").write_text(
        'extends "base"\nruleset area\nlevels: street > community > grid > unit\n\nescalation:\n'
        "  incident any: start at unit\n  limit unit: accept within 2 working hours\n"
        "  limit grid: accept within 4 working hours\n  limit community: accept within 1 working day\n",
        encoding="utf-8")
    (tmp_path / "v1.rules").write_text('继承 "area"\n规则集 v1\n\n事件流转：\n  删除 时限 grid\n', encoding="utf-8")
    (tmp_path / "v2.rules").write_text(
        'extends "base"\nruleset v2\nlevels: street > community > grid > unit\n\nescalation:\n'
        "  incident any: start at unit\n  limit unit: accept within 2 working hours\n"
        "  limit community: accept within 1 working day\n", encoding="utf-8")
    assert run("check", str(tmp_path / "area.rules")).output.endswith("area.rules: ok (area)\n")
    removed = run("check", str(tmp_path / "v1.rules")).output
    assert ("v1.rules:5:3: warning: cases of categories leaking_pipe, dispute and any other category have no "
            "time limit at grid") in removed, removed
    assert "(or delete this line, which removes the grid limit v1.rules inherits)" in removed
    assert "base.rules" not in removed and "area.rules:" not in removed
    zh = run("check", "--lang", "zh", str(tmp_path / "v1.rules")).output
    assert "v1.rules:5:3: 警告: 水管漏水、矛盾纠纷及其他类别的事件在 grid 没有时限" in zh, zh
    assert "（或删去这一行：它删除了 v1.rules 继承的 grid 时限）" in zh
    forgot = run("check", str(tmp_path / "v2.rules")).output
    assert "v2.rules:6:3: warning: cases of categories leaking_pipe, dispute and any other category" in forgot, forgot
    assert "fix: add 'limit grid: accept within ...' or 'limit for leaking_pipe: at grid resolve within ...' " \
           "to the escalation section of v2.rules" in forgot
    assert "base.rules:" not in forgot


# ---------------------------------------------------------------- the departments' record


def summon(engine: Engine, incident: str, hour: float) -> None:
    engine.record(IncidentEscalated(id=f"{incident}-w", time=at(hour), actor="unitlead", node="u11",
                                    incident=incident, to_node="u11", department="fire", reason="需消防处置"))


def test_the_departments_record_reports_in_resolutions_and_returns(engine: Engine) -> None:
    from gridcore_escalation.events import IncidentResolved, IncidentReturned

    for name in ("D1", "D2", "D3", "D4"):
        report(engine, name, "leaking_pipe")
        accept(engine, name, 0.5, "unitlead")
        summon(engine, name, 1)
    accept(engine, "D1", 2, "fire1")  # reported in within 2 hours
    engine.record(IncidentResolved(id="D1-s", time=at(30), actor="fire1", node="u11", incident="D1"))
    # D2: fire came after its 2 hours, when the case had gone up to the grid on that breach: late
    accept(engine, "D2", 3.5, "fire1")
    engine.record(IncidentReturned(id="D3-b", time=at(1.5), actor="fire1", node="u11", incident="D3",
                                   department="fire", reason="不属于消防职责"))
    # D4: nobody came: not yet at 11:48 (D2 neither), late once its 2 hours have passed
    engine.clock.set(at(2.8))  # type: ignore[attr-defined]
    assert engine.report("escalation.departments", {"period": "2025-03"}).rows[0][3:6] == (1, 0, 2)
    engine.clock.set(at(40))  # type: ignore[attr-defined]
    table = engine.report("escalation.departments", {"period": "2025-03"})
    assert table.columns == ("department", "name", "summoned", "reported in on time", "reported in late",
                             "not yet", "resolved on time", "resolved late", "sent back")
    # reported in: D1 on time, D2 and D4 late; D3 sent it back; D1 resolved within its 3 days
    assert table.rows == (("fire", "消防救援站", 4, 1, 2, 0, 1, 0, 1),)
    march = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    arrival = engine.metric("department_arrival_within_limit", "yq", *march)
    assert arrival is not None and arrival.value == Fraction(100, 3)
    closure = engine.metric("department_closure_within_limit", "yq", *march)
    assert closure is not None and closure.value == 100
    assert engine.metric("department_returns", "yq", *march).value == 1


def test_the_departments_record_from_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "limits.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "cli")
    assert run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
               "--effective", "2025-03-01T00:00+08:00", "--store", store).exit_code == 0
    steps = [("report", "W1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1"),
             ("accept", "W1", "--actor", "unitlead"),
             ("escalate", "W1", "--actor", "unitlead", "--department", "fire", "--reason", "需消防处置"),
             ("accept", "W1", "--actor", "fire1")]
    for n, step in enumerate(steps):
        done = run("incidents", *step, "--store", store, "--now", f"2025-03-03T09:{10 * n:02d}+08:00")
        assert done.exit_code == 0, done.output
    shown = run("report", "escalation.departments", "-p", "period=2025-03", "--store", store,
                "--format", "json")
    assert shown.exit_code == 0, shown.output
    [row] = json.loads(shown.output)["rows"]
    assert (row["department"], row["summoned"], row["reported in on time"]) == ("fire", 1, 1)
