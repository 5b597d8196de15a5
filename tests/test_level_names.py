"""Levels written by their Chinese names (``levels: grid (网格) > ...``) mean their ids.

One ruleset is written three times: with level ids, with the Chinese names
its levels line declares (English keywords), and in Chinese throughout.  The
same events in ``tests/data/community-mini`` give exactly the same points,
incidents and stars under each, and the level-bound rules of every section
visibly took part (a tilt, a recognition budget, a ``node.level``/
``incident.level`` condition, rated levels, caps, patrols, where incidents
start, limits per level, escalation to a named level, notices at a level).
An unknown level is refused at load with file:line:col and a did-you-mean;
the community's own labels (community.yaml ``level_names``) are not level
names of a ruleset.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import gridcore_escalation as esc
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import ActivityRecorded, Event, PatrolLogged
from gridcore.rules import RulesError, load_ruleset
from gridcore_app.rosterio import load_community
from gridcore_escalation.events import IncidentReported
from gridcore_escalation.section import SECTION as ESCALATION
from gridcore_points import RecognitionAwarded

COMMUNITY = Path(__file__).parent / "data" / "community-mini"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday

TEMPLATE = """\
ruleset 层级名称
{levels}

points:
  activity 志愿服务: 5 per hour, at most 40 per month
  activity 环境整治: 6 per hour when node.level == "{grid}", 4 per hour
  tilt {unit}: x 2
  recognition {grid}: 30 points per month, by grid_leader, master_grid_leader

assessment:
  period: month
  rate: {grid}, {unit}
  metric patrol_coverage: weight 100
  patrol: 1 per day in {unit}
  stars: 5 if score >= 10, 4 if score >= 5, otherwise 3
  cap {grid}: at most 1 with 5 stars
  cap {unit}: at most 1 with 5 stars

escalation:
  incident any: start at {unit}
  incident fire_hazard: start at {grid}, route to police, notify grid_leader at {grid} and {community}
  limit {unit}: accept within 2 hours, then go to {community}
  limit {grid}: accept within 4 hours
  escalate grave: immediately to {community} when incident.severity >= 4 and incident.level == "{unit}"
"""

CHINESE = """\
规则集 层级名称
层级：community（社区）> grid（网格）> unit（单元）

积分：
  活动 志愿服务：每小时 5 分，每月最多 40 分
  活动 环境整治：每小时 6 分 当 节点.层级 == "网格"，每小时 4 分
  倾斜 单元：2 倍
  表扬 网格：每月 30 分，由 网格长、总网格长

考核：
  周期：月
  评定层级：网格，单元
  指标 patrol_coverage：权重 100
  巡查：单元 每天 1 次
  星级：若 得分 >= 10 则 5，若 得分 >= 5 则 4，否则 3
  名额 网格：5 星最多 1 个
  名额 单元：5 星最多 1 个

事件流转：
  事件 任意：起始于 单元
  事件 fire_hazard：起始于 网格，转交 police，通知 网格长 于 网格 并且 社区
  时限 单元：受理时限 2小时，超时上报 社区
  时限 网格：受理时限 4小时
  提级 grave：立即 上报到 社区 当 事件.严重程度 >= 4 且 事件.层级 == "单元"
"""

IDS = {"levels": "levels: community > grid > unit",
       "community": "community", "grid": "grid", "unit": "unit"}
NAMES = {"levels": "levels: community (社区) > grid (网格) > unit (单元)",
         "community": "社区", "grid": "网格", "unit": "单元"}
RULESETS = {"ids": TEMPLATE.format(**IDS), "names": TEMPLATE.format(**NAMES), "chinese": CHINESE}


def events() -> list[Event]:
    """A few days in community-mini: work at a unit and a grid, awards, incidents, patrols."""
    found: list[Event] = [
        ActivityRecorded(id="a1", time=T0, actor="m05", node="g1-u1", activity="环境整治", hours=2),
        ActivityRecorded(id="a2", time=T0, actor="张伟", node="g2", activity="环境整治", hours=1),
        # g1-u2's level is written 最小单元 in nodes.csv (the community's label): still a unit
        ActivityRecorded(id="a3", time=T0, actor="m08", node="g1-u2", activity="志愿服务", hours=1),
        RecognitionAwarded(id="r1", time=T0 + timedelta(hours=1), actor="m02", node="g1-u1",
                           member="m05", points=20, reason="帮助独居老人"),
        RecognitionAwarded(id="r2", time=T0 + timedelta(hours=2), actor="m02", node="g1-u2",
                           member="m08", points=20, reason="调解邻里纠纷"),
        IncidentReported(id="i1-r", time=T0, incident="i1", actor="m03", node="g1-u1",
                         category="leaking_pipe", severity=2),
        IncidentReported(id="i2-r", time=T0, incident="i2", actor="张伟", node="g2-u1",
                         category="fire_hazard", severity=3),
        IncidentReported(id="i3-r", time=T0, incident="i3", actor="m03", node="g1-u2",
                         category="leaking_pipe", severity=4),
    ]
    for day in range(6):
        found.append(PatrolLogged(id=f"p1-{day}", time=T0 + timedelta(days=day, hours=1),
                                  actor="m03", node="g1-u1", minutes=30))
    for day in range(3):
        found.append(PatrolLogged(id=f"p2-{day}", time=T0 + timedelta(days=day, hours=2),
                                  actor="m03", node="g1-u2", minutes=30))
    return found


def run(text: str, folder: Path, name: str) -> dict[str, Any]:
    """Load ``text`` in a fresh engine, record the events, tick past the month, collect."""
    path = folder / f"{name}.rules"
    path.write_text(text, encoding="utf-8")
    start = T0 - timedelta(days=1)
    engine = Engine.open(store=str(folder / f"{name}-store"), community=COMMUNITY, ruleset=path,
                         effective=start, clock=FixedClock(start), plugins=get_plugin_manager())
    with engine:
        summary = engine.record_many(events())
        engine.tick(T0 + timedelta(days=31))
        return {
            "outcomes": {(o.plugin, o.subject): o.value for o in engine.outcomes()},
            "refused": sorted((r.event_id, len(r.reasons)) for r in summary.refused),
            "policy": engine.policy(ESCALATION, at=T0),
            # details as shown, up to the rule's own text (which is quoted as written)
            "timelines": {i: [(e.what, e.node, e.detail.split(": ")[0]) for e in esc.timeline(engine, i)]
                          for i in ("i1", "i2", "i3")},
        }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("level-names")
    yield {name: run(text, folder, name) for name, text in RULESETS.items()}


def of(result: dict[str, Any], plugin: str) -> dict[str, Any]:
    return {subject: value for (p, subject), value in result["outcomes"].items() if p == plugin}


@pytest.mark.parametrize("written", ["names", "chinese"])
def test_points_are_the_same_whichever_name_a_level_is_written_by(
        results: dict[str, dict[str, Any]], written: str) -> None:
    by_ids = of(results["ids"], "points")
    assert of(results[written], "points") == by_ids
    # the unit tilt (x 2) and the grid-level condition (6 an hour) both applied,
    # and the per-grid recognition budget refused the second award in g1
    assert by_ids["member:m05:balance"] == 2 * 4 * 2 + 20
    assert by_ids["member:张伟:balance"] == 6
    assert by_ids["member:m08:balance"] == 5 * 2
    assert results[written]["refused"] == results["ids"]["refused"] == [("r2", 1)]


@pytest.mark.parametrize("written", ["names", "chinese"])
def test_incidents_go_the_same_way_whichever_name_a_level_is_written_by(
        results: dict[str, dict[str, Any]], written: str) -> None:
    by_ids = of(results["ids"], "escalation")
    assert of(results[written], "escalation") == by_ids
    # i1 started at its unit and went to the community when the unit's 2 hours ran out;
    # i2 started at the grid, went up after 4 hours; i3 (grave, at a unit) went up at once
    for incident in ("i1", "i2", "i3"):
        assert by_ids[f"incident:{incident}:node"] == "yq"
        assert by_ids[f"incident:{incident}:escalations"] == 1
    policy = results[written]["policy"]
    levels = {limit.level for limit in policy.limits}
    assert levels == {"unit", "grid"}
    assert results[written]["timelines"] == results["ids"]["timelines"]


def test_notices_at_a_level_reach_the_same_people(results: dict[str, dict[str, Any]]) -> None:
    # "notify grid_leader at 网格 and 社区": g2's grid leader, and the community's staff
    for name in RULESETS:
        notified = [(node, detail) for what, node, detail in results[name]["timelines"]["i2"]
                    if detail.startswith("notified")]
        assert ("g2", "notified grid_leader at g2 (m07)") in notified, name
        assert any(detail.startswith("notified the community at yq (m01") for _, detail in notified)


@pytest.mark.parametrize("written", ["names", "chinese"])
def test_stars_are_the_same_whichever_name_a_level_is_written_by(
        results: dict[str, dict[str, Any]], written: str) -> None:
    by_ids = of(results["ids"], "assessment")
    assert of(results[written], "assessment") == by_ids
    # grids and units are rated; of the two patrolled units only one may hold 5 stars
    rated = {subject.split(":")[1] for subject in by_ids}
    assert rated == {"g1", "g2", "school", "fire", "g1-u1", "g1-u2", "g2-u1"}
    units = [by_ids[f"node:{n}:stars:2025-03"] for n in ("g1-u1", "g1-u2")]
    assert sorted(units) == [4, 5]


# ------------------------------------------------------------------ unknown levels


def refused(text: str, tmp_path: Path, roles: Mapping[str, str] | None = None) -> RulesError:
    path = tmp_path / "bad.rules"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_ruleset(path, sections=_sections(), roles=roles)
    return caught.value


def _sections() -> list[Any]:
    return [s for group in get_plugin_manager().hook.gridcore_register_sections() for s in group]


WRONG = [
    # (what is replaced in the "names" ruleset, by what, the section it is in)
    ("  tilt 单元: x 2", "  tilt 单位: x 2", "单元"),
    ("  recognition 网格:", "  recognition 网络:", "网格"),
    ("  rate: 网格, 单元", "  rate: 网格, 单位", "单元"),
    ("  cap 网格:", "  cap 网络:", "网格"),
    ("  patrol: 1 per day in 单元", "  patrol: 1 per day in 单位", "单元"),
    ("  incident any: start at 单元", "  incident any: start at 单位", "单元"),
    ("  limit 网格:", "  limit 网络:", "网格"),
    ("then go to 社区", "then go to 社群", "社区"),
    ("notify grid_leader at 网格", "notify grid_leader at 网络", "网格"),
]


@pytest.mark.parametrize(("right", "wrong", "meant"), WRONG)
def test_an_unknown_level_is_refused_at_load_with_where_and_a_suggestion(
        tmp_path: Path, right: str, wrong: str, meant: str) -> None:
    text = RULESETS["names"]
    assert right in text
    error = refused(text.replace(right, wrong, 1), tmp_path)
    line = next(n for n, row in enumerate(text.replace(right, wrong, 1).splitlines(), 1)
                if wrong.strip() in row)
    [diagnostic] = error.errors
    assert (diagnostic.line, diagnostic.file.endswith("bad.rules")) == (line, True)
    assert diagnostic.column > 1
    typo = next(word for word in ("单位", "网络", "社群") if word in wrong)
    assert typo in diagnostic.message
    assert diagnostic.suggestion == meant
    assert f"bad.rules:{line}:{diagnostic.column}:" in error.render()


def test_a_wrong_level_in_a_condition_is_refused(tmp_path: Path) -> None:
    text = RULESETS["names"].replace('node.level == "网格"', 'node.level == "网络"')
    [diagnostic] = refused(text, tmp_path).errors
    assert "网络" in diagnostic.message and diagnostic.suggestion == "网格"


def test_the_communitys_own_labels_are_not_level_names_of_the_ruleset(tmp_path: Path) -> None:
    # community-mini calls its units 最小单元; this ruleset calls them 单元.  Checked with its
    # roster (as the engine and `gridcore check` beside it do) it is neither a role nor a level
    text = RULESETS["names"].replace("  tilt 单元: x 2", "  tilt 最小单元: x 2")
    [diagnostic] = refused(text, tmp_path, roles=load_community(COMMUNITY).roles).errors
    assert "最小单元" in diagnostic.message and "neither a role nor a level" in diagnostic.message
    # without a roster it may be a role the roster declares: a warning that says it was not checked
    (tmp_path / "alone.rules").write_text(text, encoding="utf-8")
    alone = load_ruleset(tmp_path / "alone.rules", sections=_sections())
    assert any("'最小单元' is no built-in role and no roster was given" in w.message for w in alone.warnings)
    # a ruleset declaring no Chinese names must write ids, and is told how to declare one
    text = RULESETS["ids"].replace("  tilt unit: x 2", "  tilt 单元: x 2")
    [diagnostic] = refused(text, tmp_path).errors
    assert "levels line" in diagnostic.fix


def test_a_refused_ruleset_leaves_the_one_in_force(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.rules", tmp_path / "bad.rules"
    good.write_text(RULESETS["names"], encoding="utf-8")
    bad.write_text(RULESETS["names"].replace("  limit 网格:", "  limit 网络:"), encoding="utf-8")
    start = T0 - timedelta(days=1)
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=good,
                     effective=start, clock=FixedClock(start), plugins=get_plugin_manager()) as engine:
        in_force = engine.ruleset
        with pytest.raises(RulesError):
            engine.use_ruleset(bad, effective=T0)
        assert engine.ruleset is in_force
        assert len(engine.rulesets()) == 1


def test_escalating_to_a_department_by_a_name_that_is_no_level_still_warns(tmp_path: Path) -> None:
    path = tmp_path / "to.rules"
    path.write_text(RULESETS["names"].replace("immediately to 社区", "immediately to 城管"),
                    encoding="utf-8")
    ruleset = load_ruleset(path, sections=_sections())
    # (the round-the-clock 'accept within 2 hours' is warned about too: a limit that may not be met)
    [warning] = [w for w in ruleset.warnings if "may not be met" not in w.message]
    assert "城管" in warning.message and "社区" in warning.message
