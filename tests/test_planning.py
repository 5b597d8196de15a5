"""Grid planning (网格规划): planned sizes in the rules, warnings for cells far off, the report."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.plugin_host import Hooks
from gridcore.rules import RulesError, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community
from gridcore_planning.checks import size_warnings
from gridcore_planning.section import SECTION

MINI = Path(__file__).parent / "data" / "community-mini"
CST = timezone(timedelta(hours=8))
PLAN = """\
ruleset "plan"
levels: community > grid > unit
planning:
  size grid: 10 households, 30 people, within 50%
"""


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """The sample community: 第一网格 with 12 households (36 people), 第二网格 with 2 (5 people)."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    rows = [f"h{n},户{n},g1-u1,p1,3," for n in range(1, 13)] + ["h20,周家,g2-u1,p5,2,", "h21,吴家,g2-u1,p5,3,"]
    (folder / "households.csv").write_text("\ufeffid,name,node,place,people,floating\n" + "\n".join(rows) + "\n",
                                           encoding="utf-8")
    return folder


def test_english_and_chinese_plan_the_same() -> None:
    en = parse_ruleset(PLAN, sections=[SECTION], name="p.rules").policy(SECTION, at=date(2025, 1, 1))
    zh = parse_ruleset("层级：community > grid（网格） > unit\n网格规划：\n  规模 网格：10 户，30 人，上下浮动 50%\n",
                       sections=[SECTION], name="p.rules").policy(SECTION, at=date(2025, 1, 1))
    assert en is not None and zh is not None
    assert [(s.level, s.households, s.people, s.tolerance) for s in en.sizes] == [("grid", 10, 30, 0.5)]
    assert [(s.level, s.households, s.people, s.tolerance) for s in zh.sizes] == [("grid", 10, 30, 0.5)]
    assert en.sizes[0].bounds(10) == (5, 15)


@pytest.mark.parametrize("line,message", [
    ("size grid: within 20%", "say how many households or people"),
    ("size grid: 300 households, within 150%", "'within' is a share between 0% and 100%"),
    ("size grid: 2.5 households", "a whole number, at least 1"),
    ("size gird: 300 households", "unknown level 'gird'"),
])
def test_mistakes_in_a_plan_are_errors(line: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_ruleset(f"levels: community > grid > unit\nplanning:\n  {line}\n", sections=[SECTION], name="p.rules")


def test_cells_far_off_the_plan_are_warned_about_with_their_counts(mini: Path) -> None:
    community = load_community(mini)
    ruleset = parse_ruleset(PLAN, sections=[SECTION], name="p.rules")
    [warning] = size_warnings(community, ruleset)
    assert not warning.is_error and (warning.file, warning.line) == ("p.rules", 4)
    # 第一网格: 12 households and 36 people are within 50% of 10 and 30; 第二网格's 2 and 5 are not;
    # the school's dedicated grid and the fire-safety industry grid are not planned by households
    assert warning.message == ("1 grid cell(s) of 银泉社区 are off the planned size (10 households, 30 people, "
                               "within 50%): g2 (第二网格): 2 households, 5 people")
    assert "g2（第二网格）2户、5人" in warning.message_zh
    # a roster with no households says nothing about sizes
    assert size_warnings(load_community(MINI), ruleset) == []


def test_check_and_hierarchy_show_print_the_warning_and_pass(mini: Path, tmp_path: Path) -> None:
    rules = tmp_path / "plan.rules"
    rules.write_text(PLAN, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main_group, ["check", "--community", str(mini), "--format", "json", str(rules)])
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["ok"] is True
    [found] = doc["diagnostics"]
    assert (found["severity"], found["code"]) == ("warning", "off-plan-size")
    shown = runner.invoke(main_group, ["hierarchy", "show", str(mini), "--ruleset", str(rules)])
    assert shown.exit_code == 0, shown.output
    assert "12户 36人" in shown.stdout and "g2 (第二网格): 2 households, 5 people" in shown.stdout
    assert shown.stdout.endswith("plan: 1 finding(s) in 银泉社区 / 发现 1 处\n")


def test_an_engine_puts_the_plan_in_force_and_reports_the_cells_as_events_change_them(
        mini: Path, tmp_path: Path) -> None:
    from gridcore.events import HouseholdMovedIn

    rules = tmp_path / "plan.rules"
    rules.write_text(PLAN, encoding="utf-8")
    now = datetime(2025, 3, 1, 9, tzinfo=CST)
    with Engine.open(store=str(tmp_path / "store"), community=mini, ruleset=rules, effective=now - timedelta(days=1),
                     clock=FixedClock(now), plugins=get_plugin_manager()) as engine:
        assert any("off the planned size" in w for w in engine.warnings)
        for n in range(3):
            engine.record(HouseholdMovedIn(id=f"in{n}", time=now, actor="m08", node="g2-u1", household=f"n{n}",
                                           name="新户", size=5))
        rows = {row[0]: row for row in engine.report("planning.sizes").rows}
    # 第二网格 now holds 5 households and 20 people: within the plan
    assert rows["g2"][3:8] == (5, 10, 20, 30, "in plan")
    assert rows["g1"][7] == "in plan" and "school" not in rows


def test_a_roster_without_household_records_is_not_counted_against_the_plan(tmp_path: Path) -> None:
    """Yinzhou's roster keeps no households (docs/rulesets.md): `gridcore check` says nothing of its sizes, and the
    report says its cells are not counted, rather than every one off plan with 0 households; the first household
    an event brings in makes the cells counted."""
    from gridcore.events import HouseholdMovedIn

    rules = tmp_path / "plan.rules"
    rules.write_text(PLAN, encoding="utf-8")
    now = datetime(2025, 3, 1, 9, tzinfo=CST)
    with Engine.open(store=str(tmp_path / "store"), community=MINI, ruleset=rules, effective=now - timedelta(days=1),
                     clock=FixedClock(now), plugins=get_plugin_manager()) as engine:
        assert not any("off the planned size" in w for w in engine.warnings)
        table = engine.report("planning.sizes")
        assert {row[7] for row in table.rows} == {"not counted: no households on record (未登记户)"}
        assert "no household is on record" in table.notes[0] and "花名册未登记户" in table.notes[0]
        engine.record(HouseholdMovedIn(id="in0", time=now, actor="m08", node="g2-u1", household="n0", name="新户",
                                       size=5))
        rows = {row[0]: row for row in engine.report("planning.sizes").rows}
    assert rows["g1"][7] == rows["g2"][7] == "off plan: households, people"  # 0 and 1 household of 10 planned


def test_the_real_rulesets_plan_xingfuwan_within_its_tolerance() -> None:
    from gridcore.rules import load_ruleset

    hooks = Hooks(get_plugin_manager())
    folder = Path(__file__).parent.parent / "rulesets" / "xingfuwan"
    ruleset = load_ruleset(folder / "xingfuwan.rules", sections=hooks.register_sections())
    assert [w for w in hooks.check_ruleset(load_community(folder), ruleset) if "planned size" in w.message] == []


def test_the_catalogue_example_warns_with_its_code_and_its_fix_is_quiet(tmp_path: Path) -> None:
    from gridcore.rules.codes import CODES

    [entry] = [c for c in CODES if c.code == "off-plan-size"]
    community = Path(__file__).parent.parent / "rulesets" / entry.community
    for text, codes in ((entry.example_text(), ["off-plan-size"]), (entry.fixed_text(), [])):
        path = tmp_path / "example.rules"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main_group, ["check", "--format", "json", "--community", str(community),
                                                 str(path)])
        doc = json.loads(result.stdout)
        assert doc["ok"] is True and [d["code"] for d in doc["diagnostics"]] == codes


def test_the_sizes_report_reads_in_chinese_under_lang_zh(mini: Path, tmp_path: Path) -> None:
    """``gridcore --lang zh report planning.sizes``: a level and a cell's status in Chinese before their ids
    (were English only: grid, in plan, off plan: people); JSON keeps the ids."""
    rules = tmp_path / "plan.rules"
    rules.write_text(PLAN, encoding="utf-8")
    store = str(tmp_path / "store")
    init = CliRunner().invoke(main_group, ["init", "--community", str(mini), "--ruleset", str(rules),
                                           "--effective", "2025-02-01T00:00+08:00", "--store", store])
    assert init.exit_code == 0, init.output
    shown = CliRunner().invoke(main_group, ["--lang", "zh", "report", "planning.sizes", "--format", "csv",
                                            "--store", store])
    assert shown.exit_code == 0 and shown.output.startswith("\ufeff"), shown.output
    rows = {row[0]: row for row in csv.reader(io.StringIO(shown.output.lstrip("\ufeff")))}
    assert rows["g1"][2] == "网格 grid" and rows["g1"][7] == "符合规划 in plan", rows
    assert rows["g2"][7] in ("户数和人数偏离规划 off plan: households, people", "人数偏离规划 off plan: people"), rows
    english = CliRunner().invoke(main_group, ["report", "planning.sizes", "--format", "json", "--store", store,
                                              "--lang", "zh"])
    assert '"status": "in plan"' in english.output and '"level": "grid"' in english.output
