"""What-if replay: Yinquan's ruleset against a proposal, over a simulated month."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.codec import EventCodec
from gridcore.community import Community
from gridcore.explain import Outcome, RuleRef
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import RULESETS_DIR, load_scenario, simulate
from gridcore_app.whatif import (
    REFUSALS,
    Diff,
    RuleChange,
    compare,
    diff,
    primary_events,
    rule_changes,
)
from gridcore_escalation.events import IncidentEscalated

YINQUAN = RULESETS_DIR / "yinquan"
RULES = YINQUAN / "yinquan.rules"
PROPOSAL = YINQUAN / "yinquan-proposal.rules"


@pytest.fixture(scope="module")
def community() -> Community:
    return load_community(YINQUAN)


@pytest.fixture(scope="module")
def month(community: Community) -> list:
    scenario = load_scenario(YINQUAN / "scenario.yaml")
    return list(simulate(community, scenario, days=31, start=date(2025, 3, 1), seed=2))


@pytest.fixture(scope="module")
def result(month: list, community: Community) -> Diff:
    return diff(month, RULES, PROPOSAL, community)


def lines(rules: tuple[RuleRef, ...]) -> set[tuple[str, int]]:
    return {(Path(r.file).name, r.line) for r in rules}


def proposal_line(text: str) -> int:
    for number, line in enumerate(PROPOSAL.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith(text):
            return number
    raise AssertionError(text)


def test_the_rules_that_differ_are_listed_with_their_lines(result: Diff) -> None:
    assert result.ruleset_a == "银泉社区" and result.ruleset_b == "银泉社区调整方案"
    changed = {(r.section, r.item): r for r in result.rule_changes}
    assert set(changed) == {("points", "activity 志愿服务"), ("points", "tilt fulltime_gridworker"),
                            ("escalation", "limit unit"), ("assessment", "stars")}
    tilt = changed[("points", "tilt fulltime_gridworker")]
    assert tilt.action == "changed"
    assert tilt.a is not None and tilt.a.file.endswith("yinquan.rules") and "x 2" in tilt.a.text
    assert tilt.b is not None and tilt.b.line == proposal_line("tilt fulltime_gridworker")
    stars = changed[("assessment", "stars")]
    assert stars.a is not None and stars.a.file.endswith("district-base.rules")


def test_points_change_and_say_why(result: Diff) -> None:
    changes = result.of_kind("points")
    volunteer = proposal_line("activity 志愿服务")
    tilt = proposal_line("tilt fulltime_gridworker")
    # Full-time gridworkers lose: their tilt drops from x2 to x1.5, and the two
    # tilt lines are exactly the rules the diff holds responsible.
    staff = [c for c in changes if c.subject.startswith("member:yq-fw")]
    assert staff and all(c.delta is not None and c.delta < 0 for c in staff)
    assert staff[0].label  # the member's name, from the roster
    for change in staff:
        only_a, only_b = change.responsible()
        # (a gridworker who hit the monthly cap under A only also has the cap cited there)
        assert "tilt fulltime_gridworker: x 2" in [r.text for r in only_a]
        assert {r.text for r in only_a} <= {"tilt fulltime_gridworker: x 2", "cap: at most 200 per month"}
        assert ("yinquan-proposal.rules", tilt) in lines(only_b)
    # Volunteers and residents who served gain (6 an hour instead of 5), and the
    # proposal's volunteer rule is what their side B cites.
    gainers = [c for c in changes if c.delta is not None and c.delta > 0]
    assert gainers
    assert any(("yinquan-proposal.rules", volunteer) in lines(c.responsible()[1]) for c in gainers)


def test_when_both_sides_cite_the_same_rules_the_changed_rules_are_named(community: Community) -> None:
    cap = RuleRef("base.rules", 9, text="activity 志愿服务: 5 per hour")
    a = [Outcome("points", "member:yq-v1:balance", 40, (cap,))]
    b = [Outcome("points", "member:yq-v1:balance", 30, (cap,))]
    rule = RuleChange("points", "cap", RuleRef("a.rules", 3, text="cap: at most 40 per month"),
                      RuleRef("b.rules", 5, text="cap: at most 30 per month"))
    got = Diff("A", "B", 1, 1, 0, 0, tuple(compare(a, b, community)), (rule,))
    text = got.render()
    assert "changed points: cap" in text and "B: b.rules:5 cap: at most 30 per month" in text
    assert "same rules cited on both sides; in this section B changes: cap (b.rules:5)" in text


def test_incidents_escalate_differently_under_a_tighter_unit_limit(result: Diff) -> None:
    limit = proposal_line("limit unit")
    changes = result.of_kind("incidents")
    more = [c for c in changes if c.subject.endswith(":escalations") and (c.delta or 0) > 0]
    assert more, "a 2-hour acceptance limit must escalate some incidents a 4-hour one does not"
    for change in more:
        only_a, only_b = change.responsible()
        assert ("yinquan-proposal.rules", limit) in lines(only_b)
        assert not only_a  # the route rule is cited on both sides, so it is not "responsible"
    levels = [c for c in changes if c.subject.endswith(":level")]
    assert any(c.a == "unit" and c.b == "grid" for c in levels)


def test_stars_change_under_the_new_ladder_and_limits(result: Diff) -> None:
    stars = proposal_line("stars:")
    changes = result.of_kind("stars")
    # A looser ladder, but a tighter acceptance limit lowers the scores more:
    # exactly the kind of surprise a what-if run is for.
    assert changes
    for change in changes:
        assert change.delta is not None and change.delta != 0
        assert change.subject.startswith("node:yq-g") and change.label.startswith("银泉社区第")
        assert ("yinquan-proposal.rules", stars) in lines(change.rules_b)
        assert any(r.file.endswith("district-base.rules") for r in change.rules_a)
    scores = {c.subject.split(":")[1]: c for c in result.of_kind("scores")}
    for change in changes:
        assert change.subject.split(":")[1] in scores


def test_the_same_ruleset_twice_shows_no_difference(month: list, community: Community) -> None:
    same = diff(month[:1500], RULES, RULES, community)
    assert same.changes == () and same.rule_changes == ()
    assert same.compared > 0
    assert "no differences in outcomes" in same.render()


def test_derived_events_in_the_log_are_dropped(month: list, community: Community) -> None:
    first = month[0]
    derived = IncidentEscalated(id="esc:bogus:1", time=first.time, actor="system", node=first.node,
                                incident="bogus", to_node="yq")
    kept = primary_events([derived, *month[:10]])
    assert derived not in kept and len(kept) == 10
    codec = EventCodec()
    docs = [codec.to_dict(e) for e in month[:10]]
    assert primary_events([{**codec.to_dict(derived)}, *docs]) == docs


def test_refused_on_one_side_only_is_a_difference(community: Community) -> None:
    a = [Outcome("points", "member:yq-v1:balance", 10, (RuleRef("a.rules", 3),))]
    b = [Outcome("points", "member:yq-v1:balance", 12, (RuleRef("b.rules", 4),)),
         Outcome("points", "member:yq-v2:balance", 5, (RuleRef("b.rules", 4),))]
    changes = compare(a, b, community)
    assert [(c.subject, c.a, c.b, c.delta) for c in changes] == [
        ("member:yq-v1:balance", 10, 12, 2.0), ("member:yq-v2:balance", None, 5, 5.0)]
    assert changes[0].label == community.members["yq-v1"].name


def test_the_cli_diff_in_text_and_json(tmp_path: Path, month: list) -> None:
    log = tmp_path / "march.jsonl"
    codec = EventCodec()
    log.write_text("".join(json.dumps(codec.to_dict(e), ensure_ascii=False) + "\n" for e in month[:2500]),
                   encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(RULES),
                                      "--ruleset", str(PROPOSAL)])
    assert text.exit_code == 0, text.output
    assert "what-if: A = 银泉社区, B = 银泉社区调整方案" in text.output
    assert "Members whose points change (积分有变化的人员):" in text.output
    assert "yinquan-proposal.rules:" in text.output
    assert re.search(r"^Members whose points change \(积分有变化的人员\): \d+ \(\d+ up, \d+ down, net [+-]\d+ points\)$",
                     text.output, re.MULTILINE), text.output
    # under zh each kind's net change in its unit in Chinese (净变化 +12 分), not the English unit
    chinese = runner.invoke(main_group, ["--lang", "zh", "diff", "--events", str(log), "--ruleset", str(RULES),
                                         "--ruleset", str(PROPOSAL)])
    assert chinese.exit_code == 0, chinese.output
    assert re.search(r"^积分有变化的人员：\d+（增 \d+，减 \d+，净变化 [+-]\d+ 分）$", chinese.output, re.MULTILINE), \
        chinese.output
    assert " points）" not in chinese.output and " stars）" not in chinese.output
    out = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(RULES),
                                     "--ruleset", str(PROPOSAL), "--format", "json"])
    doc = json.loads(out.output)
    assert doc["a"] == "银泉社区" and doc["events"] == 2500
    assert doc["summary"]["points"] == len([c for c in doc["changes"] if c["kind"] == "points"])
    change = next(c for c in doc["changes"] if c["kind"] == "points")
    assert {"subject", "a", "b", "delta", "rules_a", "rules_b"} <= set(change)
    assert change["rules_b"][0]["file"].endswith(".rules")


def test_cli_diff_mistakes_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    log = tmp_path / "log.jsonl"
    log.write_text('{"kind": "patrol_logged"\n', encoding="utf-8")
    once = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(RULES)])
    assert once.exit_code != 0 and "give --ruleset exactly twice" in once.output
    broken = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(RULES),
                                        "--ruleset", str(PROPOSAL)])
    assert broken.exit_code == 1 and "log.jsonl:1: not valid JSON" in broken.output
    bad_rules = tmp_path / "bad.rules"
    bad_rules.write_text('extends "district-base"\nlevels: community > grid > unit\npoints:\n'
                         '  activity 志愿服务 6 per hour\n', encoding="utf-8")
    log.write_text("", encoding="utf-8")
    refused = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(RULES),
                                         "--ruleset", str(bad_rules), "--community", "yinquan"])
    assert refused.exit_code == 1
    assert "bad.rules:4:" in refused.output and "colon is missing" in refused.output
    nowhere = runner.invoke(main_group, ["diff", "--events", str(log), "--ruleset", str(bad_rules),
                                         "--ruleset", str(bad_rules)])
    assert "give --community" in nowhere.output


def test_a_malformed_document_is_refused_on_both_sides(community: Community) -> None:
    good = {"kind": "activity_recorded", "id": "ok", "time": "2025-03-08T09:00:00+08:00", "actor": "yq-v1",
            "node": "yq-g4-u3", "activity": "志愿服务", "hours": 2}
    bad = {**good, "id": "bad", "hours": "two"}
    got = diff([good, bad], RULES, PROPOSAL, community)
    assert (got.events, got.refused_a, got.refused_b) == (2, 1, 1)
    assert [(c.subject, c.a, c.b) for c in got.of_kind("points")] == [("member:yq-v1:balance", 10, 12)]


def test_refusals_that_differ_are_reported(community: Community) -> None:
    # Under A a volunteer has 40 + 8 = 48 points, under the proposal 48 + 8 = 56:
    # a 50-point haircut voucher is refused under A and accepted under B.
    tz = community.tz
    events = [
        {"kind": "activity_recorded", "id": "e1", "time": datetime(2025, 3, 8, 9, tzinfo=tz).isoformat(),
         "actor": "yq-v1", "node": "yq-g4-u3", "activity": "志愿服务", "hours": 8},
        {"kind": "activity_recorded", "id": "e2", "time": datetime(2025, 3, 9, 9, tzinfo=tz).isoformat(),
         "actor": "yq-v1", "node": "yq-g4-u3", "activity": "环境整治", "hours": 2},
        {"kind": "points_redeemed", "id": "e3", "time": datetime(2025, 3, 10, 9, tzinfo=tz).isoformat(),
         "actor": "yq-v1", "node": "yq-g4-u3", "reward": "理发券"},
    ]
    got = diff(events, RULES, PROPOSAL, community)
    refusals = got.of_kind(REFUSALS)
    assert [(c.subject, c.a, c.b) for c in refusals] == [("event:e3", "refused", "accepted")]
    assert "insufficient balance" in refusals[0].detail_a
    assert (got.refused_a, got.refused_b) == (1, 0)
    balance = got.of_kind("points")
    assert [(c.subject, c.a, c.b) for c in balance] == [("member:yq-v1:balance", 48, 6)]
    assert "A refused it: insufficient balance" in got.render()


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_swapping_the_rulesets_mirrors_every_change(seed: int) -> None:
    community = load_community(YINQUAN)
    events = list(simulate(community, load_scenario(YINQUAN / "scenario.yaml"), days=2,
                           start=date(2025, 3, 3), seed=seed))
    forward = diff(events, RULES, PROPOSAL, community)
    backward = diff(events, PROPOSAL, RULES, community)
    assert {(c.subject, _plain(c.a), _plain(c.b)) for c in forward.changes} == \
        {(c.subject, _plain(c.b), _plain(c.a)) for c in backward.changes}
    assert (forward.refused_a, forward.refused_b) == (backward.refused_b, backward.refused_a)
    assert {r.item for r in forward.rule_changes} == {r.item for r in backward.rule_changes}


def _plain(value: object) -> object:
    return round(float(value), 6) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


CHENGQIAO_IN_ENGLISH = """\
extends "district-base"
ruleset 城桥镇
levels: town > grid > microgrid

points:
  activity 党小组活动: 3 per hour when member.party_member, at most 12 per month
  # In villages the clean-up campaign is 人居环境整治 (rural living environment).
  remove activity 环境整治
  activity 人居环境整治: 4 per hour, at most 30 per month
  activity 入户走访: 2 per item, at most 40 per month
  tilt microgrid_leader: x 1.5
  tilt microgridworker: x 1.2
  reward 毛巾: 40 points, at most 2 per month
  reward 理发券: 50 points, at most 2 per month
  consultation: 2 points

assessment:
  # Monthly star rating (评星定级 every month); the quarter is assessed too
  # (gridcore assess --period 2025-Q1), under the same ladder.
  period: month
  rate: microgrid, grid
  # Micro-gridworkers are residents with other work: three patrols a week (our choice).
  patrol: 3 per week
  # Only one micro-grid in five may hold five stars (our choice).
  cap microgrid: at most 20% with 5 stars
  # Stars tied to subsidies (the account); amounts are our choice.
  subsidy microgrid_leader: 100 yuan per star
  subsidy microgridworker: 50 yuan per star
  subsidy committee_member: base 600, 1.5 if stars >= 5, 1.2 if stars >= 4, 1 if stars >= 3, otherwise 0.8

escalation:
  # The micro-grid leader's ladder (the account): the micro-gridworker handles
  # ordinary problems; what they cannot goes to the micro-grid leader, who pulls
  # the teams together; what the micro-grid cannot solve goes to the village or
  # residential grid, then the town and its line departments.  Limits are our choice.
  incident any: start at microgrid, notify microgrid_leader
  incident fire_hazard: start at grid, route to fire, notify microgrid_leader
  incident public_security: start at grid, route to police, notify microgrid_leader
  incident illegal_construction: start at grid, route to urban_management, notify microgrid_leader
  limit microgrid: accept within 2 working hours, resolve within 3 working days, then go to grid
  limit grid: accept within 4 working hours, resolve within 3 working days, then go to town
  limit town: accept within 1 working day, resolve within 5 working days
  handler limit microgridworker: resolve within 2 working days, then pass to microgrid_leader
  handler limit microgrid_leader: accept within 2 working hours
  escalate grave: immediately to town when incident.severity >= 4
  escalate key_person: immediately to grid when incident.key_person
  consultation fire_hazard: required before handling
  consultation public_security: required before handling
  consultation illegal_construction: required before handling
  consultation any: required before handling, when incident.severity >= 3
  feedback: within 1 working day, required before verification
  extension: at most 1 time, up to 2 working days each, approved by grid_leader
  # When the case is closed, the micro-grid leader asks the residents to score it.
  verified by: microgrid_leader
"""


def test_the_chinese_ruleset_means_what_its_english_translation_means(tmp_path: Path) -> None:
    # 城桥镇's ruleset is written with Chinese keywords; the same rules in English
    # differ in text but not in meaning: no rule and no outcome is listed.
    english = tmp_path / "chengqiao-en.rules"
    english.write_text(CHENGQIAO_IN_ENGLISH, encoding="utf-8")
    folder = RULESETS_DIR / "chengqiao"
    community = load_community(folder)
    events = list(simulate(community, load_scenario(folder / "scenario.yaml"), days=8,
                           start=date(2025, 3, 3), seed=9))
    got = diff(events, folder / "chengqiao.rules", english, community)
    assert got.changes == ()
    assert got.compared > 100
    assert got.rule_changes == ()  # the same rules in other words are no difference
    assert "Rules that differ" not in got.render()


def test_any_plugins_outcomes_are_listed_under_their_own_title_and_unit(community: Community) -> None:
    from gridcore import OutcomeKind

    patrols = OutcomeKind("patrols", "Gridworkers who patrol more or less", "patrols")
    a = [Outcome("patrol-counter", "member:yq-fw1:patrols", 3, kind=patrols)]
    b = [Outcome("patrol-counter", "member:yq-fw1:patrols", 5, kind=patrols),
         Outcome("patrol-counter", "member:yq-fw2:patrols", 1, kind=patrols)]
    got = Diff("A", "B", 3, 2, 0, 0, tuple(compare(a, b, community)))
    assert got.summary() == {"patrols": 2}
    text = got.render()
    assert "Gridworkers who patrol more or less: 2 (2 up, 0 down, net +3 patrols)" in text
    from gridcore.reports import Format

    said = Diff("A", "B", 3, 2, 0, 0, tuple(compare(a, b, community))).render(Format("text", "zh"))
    assert "（增 2，减 0，净变化 +3 patrols）" in said  # no unit_zh: the unit as it is
    patrols_zh = OutcomeKind("patrols", "Gridworkers who patrol more or less", "patrols", "次")
    a, b = [attrs.evolve(o, kind=patrols_zh) for o in a], [attrs.evolve(o, kind=patrols_zh) for o in b]
    said = Diff("A", "B", 3, 2, 0, 0, tuple(compare(a, b, community))).render(Format("text", "zh"))
    assert "（增 2，减 0，净变化 +3 次）" in said
    assert "net +3 patrols)" in Diff("A", "B", 3, 2, 0, 0, tuple(compare(a, b, community))).render()
    assert f"member:yq-fw1:patrols {community.members['yq-fw1'].name}: 3 -> 5  (+2)" in text


DATED = """ruleset {name}
levels: community > grid > unit
points:
  activity 志愿服务: 5 per hour, at most 40 per month
    from 2025-01-01: {rate} per hour, at most 40 per month
  倾斜 专职网格员：x {tilt}
"""


def test_a_change_in_a_dated_line_shows_that_line_on_each_side() -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import parse_ruleset

    sections = Hooks(get_plugin_manager()).register_sections()
    a = parse_ruleset(DATED.format(name="a", rate=6, tilt=1.5), sections=sections, name="a.rules")
    b = parse_ruleset(DATED.format(name="b", rate=7, tilt=1.5).replace("倾斜 专职网格员：x 1.5", "tilt fulltime_gridworker: x 1.5"),
                      sections=sections, name="b.rules")
    [change] = rule_changes(a, b, sections)
    assert change.item == "activity 志愿服务 from 2025-01-01"
    assert (change.a.text, change.b.text) == ("from 2025-01-01: 6 per hour, at most 40 per month",  # type: ignore[union-attr]
                                              "from 2025-01-01: 7 per hour, at most 40 per month")
    text = Diff("a", "b", 0, 0, 0, 0, (), (change,)).render()
    assert "A: a.rules:5 from 2025-01-01: 6 per hour" in text and "B: b.rules:5 from 2025-01-01: 7 per hour" in text
    # The tilt, named in Chinese on one side and in English on the other, is the same rule.
    same = parse_ruleset(DATED.format(name="c", rate=6, tilt=1.5).replace("倾斜 专职网格员：x 1.5", "tilt fulltime_gridworker: x 1.5"),
                         sections=sections, name="c.rules")
    assert rule_changes(a, same, sections) == ()
    other = parse_ruleset(DATED.format(name="d", rate=6, tilt=2), sections=sections, name="d.rules")
    assert [r.item for r in rule_changes(a, other, sections)] == ["tilt 专职网格员"]


RENAMED_A = """ruleset a
levels: community (社区) > grid (网格) > unit (单元)
escalation:
  category leaking_pipe: 水管漏水
  incident leaking_pipe: start at grid, notify grid_leader at grid
  limit unit: accept within 2 hours, resolve within 3 days, then go to community
  verified by: grid_leader
  duplicates: within 2 hours
assessment:
  rate: grid
  metric patrol_coverage: weight 100
  stars: 5 if score >= 90, 4 if score >= 80, otherwise 3
points:
  activity 志愿服务: 5 per hour, at most 40 per month
  tilt unit: x 1.5
"""
RENAMED_B = """ruleset b
levels: community (社区) > grid (网格) > unit (单元)
事件流转：
  类别 leaking_pipe：水管漏水
  事件 水管漏水：起始于 网格，通知 网格长 于 网格
  时限 单元：受理时限 {accept}，办结时限 3天，超时上报 社区
  核查人：网格长
  重复上报：3小时内
考核：
  评定层级：网格
  指标 巡查覆盖率：权重 100
  星级：若 得分 >= 90 则 5，若 得分 >= 80 则 4，否则 3
  周期：月
积分：
  活动 志愿服务：每小时 5 分，每月最多 40 分
  倾斜 单元：x 1.5
  activity 扫地: 3 per hour
"""


def test_in_a_section_that_changes_only_the_real_changes_are_listed() -> None:
    # B is A translated into Chinese, plus one real change in each section: a
    # longer duplicates window, a monthly period, a new activity.  The items that
    # were only translated (the route named by the category's name, the limit and
    # the rated level named in Chinese, the ladder with 得分) are not listed.
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import parse_ruleset

    hooks = Hooks(get_plugin_manager())
    sections, metrics = hooks.register_sections(), hooks.register_metrics()
    a = parse_ruleset(RENAMED_A, sections=sections, metrics=metrics, name="a.rules")
    b = parse_ruleset(RENAMED_B.format(accept="2小时"), sections=sections, metrics=metrics, name="b.rules")
    assert [(r.section, r.item, r.action) for r in rule_changes(a, b, sections)] == [
        ("assessment", "period", "added"),
        ("escalation", "duplicates", "changed"),
        ("points", "activity 扫地", "added"),
    ]
    # a real change in a translated item is still one
    c = parse_ruleset(RENAMED_B.format(accept="3小时"), sections=sections, metrics=metrics, name="c.rules")
    changed = [(r.item, r.a.text if r.a else "", r.b.text if r.b else "")
               for r in rule_changes(a, c, sections) if r.section == "escalation"]
    assert changed == [
        ("limit 单元", "limit unit: accept within 2 hours, resolve within 3 days, then go to community",
         "时限 单元：受理时限 3小时，办结时限 3天，超时上报 社区"),
        ("duplicates", "duplicates: within 2 hours", "重复上报：3小时内"),
    ]


def test_both_replays_at_once_give_the_same_diff(month: list, community: Community, result: Diff) -> None:
    """``jobs=2`` replays B in a forked process beside A: the same diff, change for change."""
    assert diff(month, RULES, PROPOSAL, community, jobs=2) == result


def test_a_replay_failing_in_its_own_process_is_reported(month: list, community: Community) -> None:
    from gridcore import GridcoreError, get_plugin_manager, hookimpl
    from gridcore.errors import PluginError

    class FailsUnderTheProposal:
        @hookimpl
        def gridcore_on_ruleset_loaded(self, engine: object, ruleset: object, effective: object) -> None:
            if getattr(ruleset, "name", "") == "银泉社区调整方案":
                raise RuntimeError("this plugin cannot judge the proposal")

    pm = get_plugin_manager(extra=[FailsUnderTheProposal()])
    with pytest.raises(GridcoreError, match="the replay under 银泉社区调整方案 failed: .*cannot judge the proposal"):
        diff(month[:200], RULES, PROPOSAL, community, plugins=pm, jobs=2)
    with pytest.raises(PluginError, match="cannot judge the proposal"):  # one after the other: raised as it is
        diff(month[:200], RULES, PROPOSAL, community, plugins=get_plugin_manager(extra=[FailsUnderTheProposal()]),
             jobs=1)
