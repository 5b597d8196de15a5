"""Roles the roster adds itself, named in rulesets (community.yaml ``roles: {street_officer: 街道网格专干}``).

The rules language knows the built-in roles; a district's roster adds its own, and staff name them
in Chinese or in English (the key and the Chinese name are one role).  The small Yinzhou district
(conftest.py) has street officers (``yz-s1-o1``, 街道网格专干) at each street: a ruleset gives their
home visits a tilt and their cases a handler limit, written both ways, and both judge alike.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DISTRICT_MONDAY, DISTRICT_RULES

from gridcore import Engine, FixedClock
from gridcore.rules import RulesError
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community

YINZHOU = DISTRICT_RULES.parent
MONDAY = DISTRICT_MONDAY
BEFORE = MONDAY - timedelta(days=2)

ZH = """继承 "yinzhou"
规则集 街道专干

积分：
  倾斜 街道网格专干：3 倍

事件流转：
  办理人时限 街道网格专干：办结时限 1个工作日
"""
EN = """extends "yinzhou"
ruleset street_officers

points:
  tilt street_officer: x 3

escalation:
  handler limit street_officer: resolve within 1 working day
"""


def events() -> list[dict[str, Any]]:
    """A grave case sent straight to 红旗街道 (severity 5), taken on by its street officer, who also
    makes a home visit."""
    report = {"kind": "incident_reported", "id": "r-1", "time": MONDAY.isoformat(), "actor": "yz-c1-g1-r1",
              "node": "yz-c1-g1", "incident": "求助-1", "category": "assistance", "severity": 5, "channel": "phone"}
    taken = MONDAY + timedelta(hours=1)
    accept = {"kind": "incident_accepted", "id": "a-1", "time": taken.isoformat(), "actor": "yz-s1-o1",
              "node": "yz-c1-g1", "incident": "求助-1"}
    visit = {"kind": "activity_recorded", "id": "v-1", "time": taken.isoformat(), "actor": "yz-s1-o1",
             "node": "yz-s1", "activity": "入户走访", "quantity": 1}
    return [report, accept, visit]


def run(folder: Path, community: Path, text: str | None, store: Path) -> dict[str, Any]:
    """The outcomes of ``events`` under the Yinzhou ruleset, and ``text`` in force over it (if any)."""
    with Engine.open(store=str(store), community=load_community(community), ruleset=DISTRICT_RULES,
                     effective=BEFORE, clock=FixedClock(MONDAY)) as engine:
        if text is not None:
            (folder / "officers.rules").write_text(text, encoding="utf-8")
            engine.use_ruleset(folder / "officers.rules", effective=BEFORE, search_path=[YINZHOU])
        summary = engine.record_many(events())
        assert not summary.refused, summary.refused
        engine.tick(MONDAY + timedelta(days=1, hours=3))  # a working day and more after it was taken on
        return {o.subject: o.value for o in engine.outcomes()
                if o.subject in ("member:yz-s1-o1:balance", "incident:求助-1:level", "incident:求助-1:node")}


def test_a_roster_role_is_named_in_chinese_or_in_english_with_the_same_result(mini_district: Path,
                                                                               tmp_path: Path) -> None:
    plain = run(tmp_path, mini_district, None, tmp_path / "plain")
    chinese = run(tmp_path, mini_district, ZH, tmp_path / "zh")
    english = run(tmp_path, mini_district, EN, tmp_path / "en")
    assert chinese == english
    # the tilt: a home visit earns the officer 2 points, 6 with the tilt of 3
    assert (plain["member:yz-s1-o1:balance"], chinese["member:yz-s1-o1:balance"]) == (2, 6)
    # the handler limit: the street's own limit is 10 working days; the officer's is one, so the case
    # the officer holds unresolved goes up to the command centre
    assert (plain["incident:求助-1:level"], plain["incident:求助-1:node"]) == ("street", "yz-s1")
    assert (chinese["incident:求助-1:level"], chinese["incident:求助-1:node"]) == ("district", "yz")


@pytest.mark.parametrize(("text", "old", "new", "meant"), [
    (ZH, "倾斜 街道网格专干", "倾斜 街道网格专千", "街道网格专干"),
    (EN, "handler limit street_officer", "handler limit street_oficer", "street_officer"),
])
def test_a_misspelt_roster_role_is_refused_where_it_is_written(mini_district: Path, tmp_path: Path, text: str,
                                                               old: str, new: str, meant: str) -> None:
    path = tmp_path / "officers.rules"
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = next(n for n, t in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if new in t)
    column = text.split("\n")[line - 1].index(old.split(" ")[-1]) + 1
    checked = CliRunner().invoke(main_group, ["check", "--format", "json", "--community", str(mini_district),
                                              "--rulesets", str(YINZHOU), str(path)])
    assert checked.exit_code == 1
    [found] = [d for d in json.loads(checked.stdout)["diagnostics"] if d["severity"] == "error"]
    assert (found["range"]["start"], found["suggestion"]) == ({"line": line, "column": column}, meant), found
    # the roster's roles are listed with the built-in ones
    assert "street_officer" in found["expected"]["en"] and "街道网格专干" in found["expected"]["zh"]
    # put in force, it is refused the same way, and the ruleset in force stays
    with Engine.open(store=str(tmp_path / "store"), community=load_community(mini_district), ruleset=DISTRICT_RULES,
                     effective=BEFORE, clock=FixedClock(MONDAY)) as engine:
        before = engine.rulesets_in_force()
        with pytest.raises(RulesError) as refused:
            engine.use_ruleset(path, effective=BEFORE, search_path=[YINZHOU])
        assert engine.rulesets_in_force() == before
        assert not engine.record_many(events()[2:]).refused
        assert next(o.value for o in engine.outcomes() if o.subject == "member:yz-s1-o1:balance") == 2
    [problem] = refused.value.diagnostics
    assert (problem.line, problem.column, problem.suggestion) == (line, column, meant)
    assert f"{path}:{line}:{column}:" in refused.value.render("zh")


def test_a_ruleset_checked_without_its_roster_says_the_roster_roles_were_not_checked(tmp_path: Path) -> None:
    """Without a roster only the built-in roles are known: a name that is none of them and no slip of
    one may be the roster's own, so it is a warning saying so (exit 0); a slip of a built-in role is
    still an error."""
    path = tmp_path / "officers.rules"
    path.write_text(ZH, encoding="utf-8")
    alone = CliRunner().invoke(main_group, ["check", "--rulesets", str(YINZHOU), "--lang", "zh", str(path)])
    assert alone.exit_code == 0, alone.output
    assert f"{path}:5:6: 警告: “街道网格专干”不是内置角色；没有给出花名册，无法核对花名册是否声明了该角色" in alone.stderr
    assert "--community" in alone.stderr
    path.write_text(ZH.replace("倾斜 街道网格专干", "倾斜 专职网格元"), encoding="utf-8")
    slip = CliRunner().invoke(main_group, ["check", "--rulesets", str(YINZHOU), "--lang", "zh", str(path)])
    assert slip.exit_code == 1 and "是不是想写: 专职网格员" in slip.stderr, slip.stderr


def test_a_store_reopened_compiles_its_rulesets_with_the_roster_again(mini_district: Path, tmp_path: Path) -> None:
    """The stored ruleset is its source text: reopened, its roster roles are resolved again (the tilt
    and the handler limit hold), with nothing to warn about."""
    store = tmp_path / "store"
    first = run(tmp_path, mini_district, ZH, store)
    with Engine.open(store=str(store), read_only=True, clock=FixedClock(MONDAY + timedelta(days=1, hours=3))) as engine:
        again = {o.subject: o.value for o in engine.outcomes() if o.subject in first}
        assert not [w for w in engine.warnings if "roster" in w]
        assert engine.ruleset is not None and engine.ruleset.roles is not None
        assert engine.ruleset.roles["street_officer"] == "街道网格专干"
    assert again == first


def test_a_stored_ruleset_naming_a_role_the_roster_no_longer_has_still_opens(mini_district: Path,
                                                                             tmp_path: Path) -> None:
    """A store given another roster before any event (one without street officers): its stored ruleset
    names 街道网格专干, now no role; the store opens, the rule matching nobody, and says so once."""
    import shutil

    store = tmp_path / "store"
    with Engine.open(store=str(store), community=load_community(mini_district), ruleset=DISTRICT_RULES,
                     effective=BEFORE, clock=FixedClock(MONDAY)) as engine:
        (tmp_path / "officers.rules").write_text(ZH, encoding="utf-8")
        engine.use_ruleset(tmp_path / "officers.rules", effective=BEFORE, search_path=[YINZHOU])
    without = tmp_path / "without"
    shutil.copytree(mini_district, without)
    roles = (without / "roles.csv").read_text(encoding="utf-8-sig").split("\n")
    (without / "roles.csv").write_text("\n".join(r for r in roles if ",street_officer," not in r), encoding="utf-8")
    yaml = (without / "community.yaml").read_text(encoding="utf-8")
    (without / "community.yaml").write_text(yaml.replace(", street_officer: 街道网格专干", ""), encoding="utf-8")
    with Engine.open(store=str(store), community=load_community(without), clock=FixedClock(MONDAY)) as engine:
        said = [w for w in engine.warnings if "街道网格专干" in w]
        assert engine.ruleset is not None and engine.ruleset.name == "街道专干"
    assert len(said) == 1 and "officers.rules:5:6" in said[0] and "花名册中没有的角色" in said[0], said


def test_every_place_a_role_goes_takes_the_rosters_own_in_either_language() -> None:
    """A task's assignee, the verifier and a role compared in a condition: the key and the Chinese
    name compile to the key, with the roster; without it, each is kept as written with a warning."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks
    from gridcore.rules import parse_ruleset

    sections = {s.name: s for s in Hooks(get_plugin_manager()).register_sections()}
    roster = {"street_officer": "街道网格专干"}
    en = ('ruleset x\nlevels: street > grid\npoints:\n  activity 巡查: 2 per hour when member.role == "street_officer"\n'
          'tasks:\n  task a: within 7 days, to street_officer\nescalation:\n  verified by: street_officer\n')
    zh = ('规则集 x\n层级：street > grid\n积分：\n  活动 巡查：每小时 2 分 当 成员.角色 == "街道网格专干"\n'
          '专项任务：\n  任务 a：限时 7 天，派给 街道网格专干\n事件流转：\n  核查人：街道网格专干\n')
    found = []
    for text in (en, zh):
        ruleset = parse_ruleset(text, sections=list(sections.values()), name="x.rules", roles=roster)
        assert not ruleset.warnings
        found.append((ruleset.policies(sections["tasks"])[-1].policy.kind("a").to,  # type: ignore[attr-defined]
                      ruleset.policies(sections["escalation"])[-1].policy.verifier))  # type: ignore[attr-defined]
        alone = parse_ruleset(text, sections=list(sections.values()), name="x.rules")
        assert len([w for w in alone.warnings if "no roster was given" in w.message]) == 3, alone.warnings
    assert found == [(("street_officer",), "street_officer")] * 2


def test_a_handler_limit_for_a_role_nobody_holds_is_a_warning_with_or_without_the_roster(
        mini_district: Path, tmp_path: Path) -> None:
    """A handler limit for a role nobody in the district holds (unit_leader), passing cases to the
    roster's own street officers: with the roster, one warning (the limit applies to no one; nothing
    breaks, the case climbs the ladder as before), as when the engine puts it in force, and check
    passes; without the roster, the roster's role is unchecked, a warning too."""
    path = tmp_path / "units.rules"
    path.write_text(EN.replace("handler limit street_officer: resolve within 1 working day",
                               "handler limit unit_leader: resolve within 1 working day, then pass to 街道网格专干"),
                    encoding="utf-8")

    def levels(*beside: str) -> tuple[int, list[tuple[str, str]]]:
        checked = CliRunner().invoke(main_group, ["check", "--format", "json", "--rulesets", str(YINZHOU),
                                                  *beside, str(path)])
        found = json.loads(checked.stdout)["diagnostics"]
        return checked.exit_code, sorted((d["code"], d["severity"]) for d in found)

    assert levels("--community", str(mini_district)) == (0, [("handler-role-missing", "warning")])
    # without it: the tilt's street_officer and the handler's 街道网格专干, unchecked
    assert levels() == (0, [("role-unchecked", "warning")] * 2)
    text = CliRunner().invoke(main_group, ["check", "--lang", "zh", "--rulesets", str(YINZHOU), "--community",
                                           str(mini_district), str(path)])
    assert text.exit_code == 0 and f"{path}:8:17: 警告: 小银州区 中没有人担任单元长" in text.stderr, text.stderr
    with Engine.open(store=str(tmp_path / "store"), community=load_community(mini_district), ruleset=DISTRICT_RULES,
                     effective=BEFORE, clock=FixedClock(MONDAY)) as engine:
        engine.use_ruleset(path, effective=BEFORE, search_path=[YINZHOU])
        assert [w for w in engine.warnings if "unit_leader" in w and "units.rules:8:17" in w]


def test_schema_lists_the_rosters_roles_in_both_languages_marked_as_the_rosters(mini_district: Path,
                                                                                tmp_path: Path) -> None:
    """``gridcore schema`` lists the roles a ruleset may name: the built-in ones and, given the roster
    (``--community DIR``, or a community.yaml beside FILE, as check takes it), the roster's own, each
    with its Chinese name and where it comes from."""
    def schema(*args: str) -> dict[str, Any]:
        shown = CliRunner().invoke(main_group, ["schema", *args])
        assert shown.exit_code == 0, shown.output
        doc: dict[str, Any] = json.loads(shown.stdout)
        return doc

    alone = schema()
    assert "street_officer" not in alone["roles"] and alone["roles"]["grid_leader"] == "网格长"
    assert {r["from"] for r in alone["role_list"]} == {"built-in"}
    given = schema("--community", str(mini_district))
    assert given["roles"]["street_officer"] == "街道网格专干" and given["roles"]["grid_leader"] == "网格长"
    listed = {r["id"]: r for r in given["role_list"]}
    assert listed["street_officer"] == {"id": "street_officer", "zh": "街道网格专干", "from": "roster",
                                        "roster": "小银州区"}
    assert listed["dispatcher"]["from"] == "roster" and listed["grid_leader"]["from"] == "built-in"
    # a ruleset beside its district's community.yaml: the roster's roles, and the ruleset compiled with them
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    shutil.copy(DISTRICT_RULES, folder)
    (folder / "officers.rules").write_text(ZH, encoding="utf-8")
    beside = schema(str(folder / "officers.rules"))
    assert beside["roles"]["street_officer"] == "街道网格专干" and beside["ruleset"]["name"] == "街道专干"
    assert [r["id"] for r in beside["role_list"] if r["from"] == "roster"] == ["dispatcher", "street_officer"]
    # an unreadable roster is said, not skipped
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "community.yaml").write_text("name: [\n", encoding="utf-8")
    refused = CliRunner().invoke(main_group, ["schema", "--community", str(broken)])
    assert refused.exit_code == 1 and str(broken) in refused.stderr, refused.output


def test_the_editor_completes_and_explains_the_rosters_roles_in_both_languages(mini_district: Path,
                                                                               tmp_path: Path) -> None:
    """The language server beside the district's community.yaml: its roles complete by key and by
    Chinese name, marked as the roster's, hover says so, and the file checks clean."""
    pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")
    from lspclient import LspClient

    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    shutil.copy(DISTRICT_RULES, folder)
    path = folder / "officers.rules"
    path.write_text(ZH, encoding="utf-8")
    session = LspClient(env={"LANG": "en_US.UTF-8"})
    try:
        session.initialize(folder)
        uri = session.open(path)
        assert session.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
        found = session.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": {"line": 4, "character": 5}})
        items = {item["label"]: item for item in found["items"]}
        for label, other in (("street_officer", "街道网格专干"), ("街道网格专干", "street_officer"),
                             ("dispatcher", "指挥中心调度员"), ("指挥中心调度员", "dispatcher")):
            assert items[label]["detail"] == f"role · {other} · roster 小银州区 (花名册)", items[label]
            assert items[label]["labelDetails"]["description"] == "role (roster)"
        assert items["网格长"]["detail"] == "role · grid_leader" and items["grid_leader"]["detail"] == "role · 网格长"
        hover = session.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                       "position": {"line": 4, "character": 7}})
        said = hover["contents"]["value"]
        assert said.startswith("**街道网格专干** (role)") and "a role the roster of 小银州区 adds" in said, said
        assert "street_officer" in said
    finally:
        assert session.close() == 0


SUBSIDY_ZH = """继承 "yinzhou"
规则集 街道专干补贴

考核：
  星级：若 得分 >= 50 则 4，否则 1
  补贴 街道网格专干：每星 30 元
"""
SUBSIDY_EN = """extends "yinzhou"
ruleset street_officer_subsidy

assessment:
  stars: 4 if score >= 50, otherwise 1
  subsidy street_officer: 30 yuan per star
"""


@pytest.mark.parametrize("text", [SUBSIDY_ZH, SUBSIDY_EN], ids=["zh", "en"])
def test_a_subsidy_for_a_roster_role_pays_its_holders_exactly_through_the_cli(mini_district: Path, tmp_path: Path,
                                                                              text: str) -> None:
    """End to end, as a district does it: the roster with its street officers (街道网格专干, no built-in
    role), a ruleset paying them 30 yuan a star, a month's events ingested, the month assessed, and
    the subsidy report in text, CSV and JSON. A street officer sits at the street, above the rated
    levels: paid for the mean stars of the street's communities. 红旗街道 (yz-s1): 银州社区 has the
    unresolved grave case (score 25, 1 star), 龙山社区 4 stars: 2.5 stars, 75 yuan; 工人街道 (yz-s2):
    4 and 4, 120 yuan."""
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    shutil.copy(DISTRICT_RULES, folder)
    (folder / "officers.rules").write_text(text, encoding="utf-8")
    log = tmp_path / "march.jsonl"
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events()), encoding="utf-8")
    store = str(tmp_path / "store")
    now = ["--now", "2025-04-02T09:00:00+08:00"]

    def cli(*args: str) -> str:
        done = CliRunner().invoke(main_group, list(args))
        assert done.exit_code == 0, done.output
        return done.stdout

    cli("init", "--store", store, "--community", str(folder), "--ruleset", str(folder / "officers.rules"),
        "--effective", BEFORE.isoformat(), "--now", BEFORE.isoformat())
    assert "3 stored" in cli("ingest", "--store", store, "--quiet", str(log))
    cli("assess", "--store", store, "--period", "2025-03", *now)
    officers = {m.id: m.name for m in load_community(folder).members.values()
                if any(a.role == "street_officer" for a in m.roles)}
    expected = {"yz-s1-o1": 75, "yz-s1-o2": 75, "yz-s2-o1": 120, "yz-s2-o2": 120}
    assert set(officers) == set(expected)
    subsidies = ["assess", "subsidies", "--store", store, "--period", "2025-03", *now]
    rows = json.loads(cli(*subsidies, "--format", "json"))["rows"]
    paid = {r["member"]: r for r in rows if "street_officer@" in r["detail"]}
    assert {m: r["amount"] for m, r in paid.items()} == expected
    assert {m: r["name"] for m, r in paid.items()} == officers
    assert paid["yz-s1-o1"]["detail"] == "street_officer@yz-s1: 75 (2.5 stars, officers.rules:6)"
    assert paid["yz-s2-o2"]["detail"] == "street_officer@yz-s2: 120 (4 stars, officers.rules:6)"
    csv = cli(*subsidies, "--format", "csv")
    assert csv.startswith("\ufeffmember,name,amount,detail\n")
    lines = [line for line in csv.splitlines() if "street_officer@" in line]
    assert lines == [f'{m},{officers[m]},{expected[m]},"street_officer@{m[:5]}: {expected[m]} '
                     f'({2.5 if m.startswith("yz-s1") else 4} stars, officers.rules:6)"' for m in sorted(expected)]
    shown = [line.split() for line in cli(*subsidies).splitlines() if "street_officer@" in line]
    assert [(row[0], row[1], row[2]) for row in shown] == [(m, officers[m], str(expected[m])) for m in sorted(expected)]


def test_the_simulator_takes_a_rosters_role_in_chinese_as_the_rules_do(mini_district: Path, tmp_path: Path) -> None:
    """A scenario names roles "the way its ruleset spells them": 街道网格专干 and 指挥中心调度员 (the
    roster's) and 专职网格员 (a built-in one) are the roles street_officer, dispatcher and
    fulltime_gridworker, and give the very same days; a name that is no role is still refused."""
    from gridcore_app.scenario import ScenarioError, load_scenario, scenario_problems
    from gridcore_app.simulate import simulate

    community = load_community(mini_district)
    path = YINZHOU / "scenario.yaml"
    english = load_scenario(path)
    text = path.read_text(encoding="utf-8")
    chinese_text = (text.replace("climbed_handlers: [street_officer, dispatcher,", "climbed_handlers: [街道网格专干, 指挥中心调度员,")
                    .replace("severe_handlers: [committee_member, street_officer]", "severe_handlers: [两委委员, 街道网格专干]"))
    assert chinese_text.count("街道网格专干") == 2
    chinese_path = tmp_path / "scenario-zh.yaml"
    chinese_path.write_text(chinese_text, encoding="utf-8")
    chinese = load_scenario(chinese_path)
    assert scenario_problems(chinese, community) == []

    def days(scenario: Any) -> list[Any]:
        return list(simulate(community, scenario, days=5, start=MONDAY.date(), seed=3))

    assert days(chinese) == days(english)
    chinese_path.write_text(chinese_text.replace("[两委委员, 街道网格专干]", "[两委委员, 街道网格专千]"), encoding="utf-8")
    wrong = load_scenario(chinese_path)
    assert scenario_problems(wrong, community) == ["handling: unknown role '街道网格专千' (未知角色)"]
    with pytest.raises(ScenarioError, match="街道网格专千"):
        days(wrong)


SLIP = ZH.replace("倾斜 街道网格专干", "倾斜 街道网格专千")


@pytest.mark.parametrize("place", ["check", "init", "use", "diff", "test"])
def test_every_command_that_takes_a_ruleset_refuses_a_slip_of_a_roster_role_alike_and_takes_the_role(
        mini_district: Path, tmp_path: Path, place: str) -> None:
    """Beside the roster, the ruleset with 街道网格专千 is refused by each command that puts a ruleset
    to work (check, init --ruleset, use, diff, test) with the same diagnostic at officers.rules:5:6
    and the role meant; written right (街道网格专干), each takes it."""
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    shutil.copy(DISTRICT_RULES, folder)
    path = folder / "officers.rules"
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events()), encoding="utf-8")
    (folder / "officers_test.yaml").write_text(
        "ruleset: officers.rules\ncommunity: .\nstart: 2025-03-01T08:00:00+08:00\ncases:\n"
        "  - name: a home visit by the street officer\n    given:\n"
        f"      - {json.dumps(events()[2], ensure_ascii=False)}\n"
        "    expect:\n      points:\n        member:yz-s1-o1:balance: 6\n", encoding="utf-8")
    store = str(tmp_path / "store")
    when = ["--effective", BEFORE.isoformat(), "--now", BEFORE.isoformat()]
    if place == "use":
        CliRunner().invoke(main_group, ["init", "--store", store, "--community", str(folder), *when])
    args = {"check": ["check", str(path)],
            "init": ["init", "--store", store, "--community", str(folder), "--ruleset", str(path), *when],
            "use": ["use", "--store", store, *when, str(path)],
            "diff": ["diff", "--events", str(log), "--ruleset", str(DISTRICT_RULES), "--ruleset", str(path),
                     "--community", str(folder)],
            "test": ["test", str(folder / "officers_test.yaml")]}[place]
    for text, ok in ((SLIP, False), (ZH, True)):
        path.write_text(text, encoding="utf-8")
        done = CliRunner().invoke(main_group, ["--lang", "en", *args])
        if ok:
            assert done.exit_code == 0, done.output
            assert "街道网格专千" not in done.output and "no roster was given" not in done.output
        else:
            assert done.exit_code == 1, done.output
            assert f"{path}:5:6: error:" in done.output and "did you mean: 街道网格专干" in done.output, done.output


def test_incidents_limits_of_a_file_beside_its_roster_knows_the_rosters_roles(mini_district: Path,
                                                                              tmp_path: Path) -> None:
    """``gridcore incidents limits FILE`` reads the roster beside the file, as check does: a slip of
    the roster's role is refused where it is written (it was shown as a handler role of its own); the
    role written right is street_officer, shown in Chinese under --lang zh (街道网格专干（street_officer）)."""
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    shutil.copy(DISTRICT_RULES, folder)
    path = folder / "officers.rules"
    path.write_text(SLIP.replace("倾斜 街道网格专千", "倾斜 街道网格专干").replace("办理人时限 街道网格专干", "办理人时限 街道网格专千"),
                    encoding="utf-8")
    refused = CliRunner().invoke(main_group, ["--lang", "en", "incidents", "limits", str(path)])
    assert refused.exit_code == 1 and f"{path}:8:9: error:" in refused.output, refused.output
    assert "did you mean: 街道网格专干" in refused.output
    path.write_text(ZH, encoding="utf-8")
    english = CliRunner().invoke(main_group, ["--lang", "en", "incidents", "limits", str(path)])
    assert english.exit_code == 0, english.output
    [row] = [line for line in english.stdout.splitlines() if line.startswith("handler ")]
    assert row.split()[:2] == ["handler", "street_officer"]
    chinese = CliRunner().invoke(main_group, ["--lang", "zh", "incidents", "limits", str(path)])
    [row] = [line for line in chinese.stdout.splitlines() if line.startswith("办理人 ")]
    assert row.startswith("办理人 街道网格专干（street_officer）"), row
    # the store's rulesets in force say it the same way
    store = str(tmp_path / "store")
    when = ["--effective", BEFORE.isoformat(), "--now", BEFORE.isoformat()]
    CliRunner().invoke(main_group, ["init", "--store", store, "--community", str(folder), "--ruleset", str(path), *when])
    stored = CliRunner().invoke(main_group, ["--lang", "zh", "incidents", "limits", "--store", store,
                                             "--now", BEFORE.isoformat()])
    assert stored.exit_code == 0, stored.output
    [row] = [line for line in stored.stdout.splitlines() if line.startswith("办理人 ")]
    assert row.startswith("办理人 街道网格专干（street_officer）"), row
