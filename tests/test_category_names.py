"""A category written by its name (``category leaking_pipe: 水管漏水``) is the category of that code.

Issue 12: every name staff write must work in Chinese and English alike and
mean the same item.  A route, an override, a condition and a report may name
a category by its code or by the name its ``category`` item gives it; each
means the code.  A name no ``category`` item declares is a warning when the
ruleset is compiled (the engine takes any category) and an error in
``gridcore check`` (issue 18).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import gridcore_escalation as esc
from gridcore import Engine, FixedClock
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CST = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)

PARENT = """\
ruleset parent
levels: street > community (社区) > grid (网格) > unit (单元)
escalation:
  category leaking_pipe: 水管漏水, group 市政设施
  category fire_hazard: 消防隐患, group 安全隐患
  incident any: start at unit
  incident fire_hazard: start at community
"""


def sections() -> list[Any]:
    return Hooks(get_plugin_manager()).register_sections()


def child(folder: Path, body: str) -> Path:
    (folder / "parent.rules").write_text(PARENT, encoding="utf-8")
    path = folder / "child.rules"
    path.write_text(f'ruleset child\nextends "parent"\n事件流转：\n{body}', encoding="utf-8")
    return path


def route_of(ruleset: Any, category: str) -> Any:
    from gridcore_escalation.section import SECTION

    policy = ruleset.policy(SECTION, at=MONDAY.date())
    return next(r for r in policy.routes if r.category == category)


@pytest.mark.parametrize("override", ["", "覆盖 "], ids=["plain", "override"])
def test_a_childs_route_named_in_chinese_replaces_the_parents(tmp_path: Path, override: str) -> None:
    ruleset = load_ruleset(child(tmp_path, f"  {override}事件 消防隐患：起始于 网格\n"), sections=sections())
    assert [c.action for c in ruleset.changes] == ["changed"]
    assert route_of(ruleset, "fire_hazard").start_level == "grid"
    assert not ruleset.warnings
    routes = [i.name.text for i in ruleset.items["escalation"] if i.kind == "incident"]
    assert routes == ["any", "消防隐患"]  # in the parent's place, as the child wrote it


def test_both_spellings_in_one_file_are_one_item_defined_twice(tmp_path: Path) -> None:
    path = child(tmp_path, "  incident leaking_pipe: start at grid\n  事件 水管漏水：起始于 社区\n")
    with pytest.raises(RulesError) as info:
        load_ruleset(path, sections=sections())
    assert "'incident 水管漏水' is defined twice in this section (as 'incident leaking_pipe' on line 4)" \
        in info.value.render()
    assert "在本栏目中重复定义（第 4 行已写作 '事件 leaking_pipe'）" in info.value.render("zh")


def test_a_condition_may_compare_the_category_with_its_name(tmp_path: Path) -> None:
    path = child(tmp_path, "  提级 漏水：立即 上报到 社区 当 事件.类别 == \"水管漏水\"\n")
    ruleset = load_ruleset(path, sections=sections())
    engine = open_engine(tmp_path, ruleset)
    with engine:
        record_report(engine, "leak", "leaking_pipe")
        assert esc.incident(engine, "leak").current_node == "yq"  # escalated at once to the community


def test_a_report_naming_the_category_is_routed_and_counted_as_its_code(tmp_path: Path) -> None:
    path = child(tmp_path, "  duplicates: within 2 hours\n")
    ruleset = load_ruleset(path, sections=sections())
    with open_engine(tmp_path, ruleset) as engine:
        record_report(engine, "fire", "消防隐患")
        view = esc.incident(engine, "fire")
        assert (view.category, view.current_node) == ("fire_hazard", "yq")  # fire_hazard starts at the community
        record_report(engine, "leak1", "leaking_pipe", minutes=10)
        record_report(engine, "leak2", "水管漏水", minutes=20)  # the same problem, by its name: it joins
        assert [v.id for v in esc.incidents(engine)] == ["fire", "leak1"]
        assert esc.category_code(engine, "水管漏水", MONDAY) == "leaking_pipe"
        assert esc.category_code(engine, "unknown", MONDAY) == "unknown"
    # the published helper other plugins read (points keys its incidents by it): the same codes
    from gridcore_escalation.events import category_code

    assert [category_code(ruleset, w) for w in ("水管漏水", "leaking_pipe", "unknown")] == \
        ["leaking_pipe", "leaking_pipe", "unknown"]
    assert category_code(None, "水管漏水") == "水管漏水"  # no ruleset in force: as written


def initialised(tmp_path: Path) -> tuple[CliRunner, str]:
    """A CLI runner and a store made by ``gridcore init`` with the escalation community and a child ruleset."""
    rules = child(tmp_path, "")
    store = str(tmp_path / "store")
    runner = CliRunner()
    done = runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(rules),
                                      "--store", store, "--effective", "2025-03-01T00:00:00+08:00"])
    assert done.exit_code == 0, done.output
    return runner, store


def test_the_command_line_takes_the_name(tmp_path: Path) -> None:
    runner, store = initialised(tmp_path)
    reported = runner.invoke(main_group, ["incidents", "report", "漏水-1", "--category", "水管漏水",
                                          "--node", "u11", "--actor", "张伟", "--store", store,
                                          "--now", "2025-03-03T09:00:00+08:00"])
    assert reported.exit_code == 0, reported.output
    shown = runner.invoke(main_group, ["incidents", "list", "--store", store, "--format", "json",
                                       "--now", "2025-03-03T10:00:00+08:00"])
    assert json.loads(shown.output)["rows"][0]["category"] == "leaking_pipe", shown.output


def test_an_undeclared_category_is_a_warning_when_compiled_and_an_error_in_check(tmp_path: Path) -> None:
    path = child(tmp_path, "  事件 消防隐恚：起始于 网格\n")
    ruleset = load_ruleset(path, sections=sections())  # the engine takes any category: it loads
    (warning,) = ruleset.warnings
    assert warning.message.startswith("unknown category '消防隐恚': the ruleset declares fire_hazard (消防隐患)")
    assert warning.suggestion == "消防隐患" and (warning.line, warning.column) == (4, 6)
    runner = CliRunner()
    for lang, said in (("en", "unknown category '消防隐恚'"), ("zh", "未知的类别 '消防隐恚'")):
        result = runner.invoke(main_group, ["check", str(path), "--lang", lang])
        assert result.exit_code == 1, result.output
        assert f"child.rules:4:6: {'error' if lang == 'en' else '错误'}" in result.output, result.output
        assert said in result.output
    doc = json.loads(runner.invoke(main_group, ["check", str(path), "--format", "json"]).output)
    assert [(d["code"], d["severity"]) for d in doc["diagnostics"]] == [("unknown-category", "error")]


def test_without_declared_categories_any_category_may_be_named(tmp_path: Path) -> None:
    path = tmp_path / "open.rules"
    path.write_text("ruleset open\nlevels: street > community > grid > unit\nescalation:\n"
                    "  incident leaking_pipe: start at grid\n"
                    "  escalate big: immediately to community when incident.category == \"flood\"\n",
                    encoding="utf-8")
    assert not load_ruleset(path, sections=sections()).warnings
    assert CliRunner().invoke(main_group, ["check", str(path)]).exit_code == 0


def test_one_name_for_two_categories_is_refused(tmp_path: Path) -> None:
    path = child(tmp_path, "  category pipe_burst: 水管漏水\n")
    with pytest.raises(RulesError, match="'水管漏水' already names 'leaking_pipe'"):
        load_ruleset(path, sections=sections())


def open_engine(folder: Path, ruleset: Any) -> Engine:
    return Engine.open(store=str(folder / "store"), community=COMMUNITY, ruleset=ruleset,
                       effective=datetime(2025, 3, 1, tzinfo=CST), clock=FixedClock(MONDAY))


def record_report(engine: Engine, ident: str, category: str, minutes: int = 0) -> None:
    from gridcore_escalation.events import IncidentReported

    engine.record(IncidentReported(id=ident, time=MONDAY + timedelta(minutes=minutes), actor="张伟",
                                   node="u11", incident=ident, category=category, severity=2, place="b1"))


def test_the_schema_and_the_editor_offer_the_names_beside_the_codes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main_group, ["schema", str(child(tmp_path, ""))])
    assert json.loads(result.stdout)["ruleset"]["vocabularies"]["category"] == [
        "leaking_pipe", "fire_hazard", "水管漏水", "消防隐患"]


def test_an_undeclared_category_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    child(tmp_path, "  事件 消防隐恚：起始于 网格\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    english = runner.invoke(main_group, ["check", "--lang", "en", "child.rules"])
    assert (english.exit_code, english.output) == (1, """\
child.rules:4:6: error: unknown category '消防隐恚': the ruleset declares fire_hazard (消防隐患), leaking_pipe (水管漏水)
      事件 消防隐恚：起始于 网格
           ^^^^^^^^
  expected: fire_hazard, leaking_pipe
  did you mean: 消防隐患
  fix: use a category the ruleset declares (its code or its name), or declare it: category 消防隐恚: <name>
1 error
""")
    chinese = runner.invoke(main_group, ["check", "--lang", "zh", "child.rules"])
    assert (chinese.exit_code, chinese.output) == (1, """\
child.rules:4:6: 错误: 未知的类别 '消防隐恚'：规则集声明的类别有 消防隐患（fire_hazard）、水管漏水（leaking_pipe）
      事件 消防隐恚：起始于 网格
           ^^^^^^^^
  应为: 消防隐患、水管漏水
  是不是想写: 消防隐患
  修改: 使用规则集已声明的类别（代码或名称），或先声明：类别 消防隐恚：<名称>
共 1 个错误
""")


def test_the_command_line_takes_a_nodes_name_where_it_takes_its_id(tmp_path: Path) -> None:
    # Staff write where a case happened as they know it (1单元), not only by its id (u11): the stored event
    # holds the id, as if the id had been written. A name two nodes share, or none, is refused, storing nothing.
    runner, store = initialised(tmp_path)
    at = "2025-03-03T09:00:00+08:00"
    reported = runner.invoke(main_group, ["incidents", "report", "漏水-1", "--category", "水管漏水", "--node", "1单元",
                                          "--actor", "张伟", "--store", store, "--now", at])
    assert reported.exit_code == 0, reported.output
    moved = runner.invoke(main_group, ["incidents", "escalate", "漏水-1", "--to", "银泉社区", "--actor", "leader1",
                                       "--store", store, "--now", "2025-03-03T09:10:00+08:00"])
    assert moved.exit_code == 0, moved.output
    for wrong, why in (("1单", "did you mean '1单元'"), ("不存在的网格", "unknown node")):
        refused = runner.invoke(main_group, ["incidents", "report", "漏水-2", "--category", "水管漏水", "--node", wrong,
                                             "--actor", "张伟", "--store", store, "--now", at])
        assert refused.exit_code != 0 and why in refused.output and "Traceback" not in refused.output, refused.output
    with Engine.open(store=store, read_only=True, clock=FixedClock(datetime(2025, 3, 4, tzinfo=CST))) as engine:
        stored = [(e.kind, e.node, getattr(e, "to_node", None)) for e in engine.events() if "漏水" in e.id]
    assert stored == [("incident_reported", "u11", None), ("incident_escalated", "u11", "yq")], stored
