"""Rating people (人员考核): per-person metrics, their own ladder, subsidies that follow a person's stars."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import gridcore_assessment as assessment
from gridcore import Engine, FixedClock, UnknownNameError
from gridcore.events import HouseholdVisited, PatrolLogged
from gridcore.rules import RulesError, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_assessment.section import SECTION
from gridcore_tasks import TaskAssigned, TaskCompleted

MINI = Path(__file__).parent / "data" / "community-mini"
TZ = ZoneInfo("Asia/Shanghai")
MARCH, APRIL = datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ)
RULES = """\
ruleset "people"
levels: community > grid > unit
tasks:
  task sweep: within 3 days, by grid_leader, to fulltime_gridworker, unit_leader
assessment:
  period: month
  rate: grid
  metric patrol_coverage: weight 100
  stars: 5 if score >= 90, otherwise 3
  rated people: fulltime_gridworker, unit_leader
  person metric patrols_logged: weight 50, scale 0 to 20
  person metric households_visited: weight 30, full if missing
  person metric tasks_done: weight 20, full if missing
  person stars: 5 if score >= 90 and households_visited == 100, 4 if score >= 60, otherwise 2
  subsidy fulltime_gridworker: 100 yuan per star
  subsidy unit_leader: 50 yuan per star
  subsidy grid_leader: 80 yuan per star
"""


def day(n: int, hour: int = 9) -> datetime:
    return MARCH + timedelta(days=n - 1, hours=hour)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """陈强 (m03, full-time, g1) patrols 15 times and does the sweep; 周丽 (m05, unit leader of g1-u1)
    looks after 王家 and 李家 and visits only 王家; the sweep's part of 周丽 falls overdue."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    (folder / "households.csv").write_text("\ufeffid,name,node,place,people,floating\n"
                                           "h1,王家,g1-u1,p1,3,\nh2,李家,g1-u1,p2,2,\n", encoding="utf-8")
    (folder / "care.csv").write_text("\ufeffmember,household,place\nm05,h1,\nm05,h2,\n", encoding="utf-8")
    (tmp_path / "people.rules").write_text(RULES, encoding="utf-8")
    with Engine.open(store=str(tmp_path / "store"), community=folder, ruleset=tmp_path / "people.rules",
                     effective=datetime(2025, 1, 1, tzinfo=TZ), clock=FixedClock(APRIL)) as opened:
        opened.record_many([
            *(PatrolLogged(id=f"p{n}", time=day(n), actor="m03", node="g1-u1") for n in range(1, 16)),
            HouseholdVisited(id="v1", time=day(4), actor="m05", node="g1-u1", household="h1"),
            TaskAssigned(id="t-a", time=day(10), actor="m02", node="g1", task="sweep", task_kind="sweep"),
            TaskCompleted(id="t-d", time=day(11), actor="m03", node="g1-u1", task="sweep"),
        ])
        opened.tick(APRIL)
        yield opened


def test_people_are_rated_by_their_own_metrics_and_ladder(engine: Engine) -> None:
    march = assessment.assess(engine, "2025-03")
    chen, zhou = march.person("m03"), march.person("m05")
    assert chen is not None and zhou is not None
    # 陈强: 15 of 20 patrols (37.5), looks after no household (full 30), the sweep on time (20)
    assert chen.values == {"patrols_logged": 15, "households_visited": None, "tasks_done": 100}
    assert (chen.level, chen.score, chen.stars) == ("fulltime_gridworker", Fraction(175, 2), 4)
    # 周丽: no patrol, one of her two households (15), the sweep missed (0): 2 stars
    assert zhou.values == {"patrols_logged": 0, "households_visited": 50, "tasks_done": 0}
    assert (zhou.score, zhou.stars) == (15, 2)
    assert [p.node for p in march.people] == ["m03", "m05"]
    # the grids are rated as before, beside them
    assert [r.node for r in march.ratings] == ["fire", "g1", "g2", "school"]


def test_a_rated_role_is_paid_from_the_persons_own_stars(engine: Engine) -> None:
    lines = {(s.member, s.role): s for s in assessment.assess(engine, "2025-03").subsidies}
    assert lines[("m03", "fulltime_gridworker")].amount == 400  # 4 stars of his own
    assert "m03 rated 4 stars as fulltime_gridworker (their own rating)" in lines[("m03", "fulltime_gridworker")].basis
    assert lines[("m05", "unit_leader")].amount == 100
    # a role nobody rates as a person is still paid from the node's stars
    assert lines[("m02", "grid_leader")].basis.startswith("g1 rated")


def test_every_persons_rating_explains_itself_and_is_stored(engine: Engine) -> None:
    assessment.assess(engine, "2025-03")
    why = engine.explain("assessment:2025-03:person:m05")
    assert why.result == 2 and "unit_leader m05 (周丽) rated 2 stars" in why.summary
    assert why.inputs["metric households_visited"] == "50 (households looked after: 2, visited: 1, not visited: h2)"
    assert [str(r).rsplit(":", 1)[1] for r in why.rules] == ["11", "12", "13", "14"]
    again = assessment.stored(engine, "2025-03")
    assert again is not None and again.person("m03") == assessment.assess(engine, "2025-03", save=False).person("m03")
    rows = json.loads(engine.report("assessment.people", {"period": "2025-03"}).render("json"))["rows"]
    assert [(r["member"], r["stars"]) for r in rows] == [("m03", 4), ("m05", 2)]


def test_person_metrics_are_about_people(engine: Engine) -> None:
    visited = engine.metric("households_visited", "m05", MARCH, APRIL)
    assert visited is not None and visited.value == 50
    assert engine.metric("patrols_logged", "m03", MARCH, APRIL).value == 15  # type: ignore[union-attr]
    with pytest.raises(UnknownNameError, match="metric 'patrols_logged' is about a person; unknown person 'g1'"):
        engine.metric("patrols_logged", "g1", MARCH, APRIL)


def test_a_node_metric_where_a_persons_is_wanted_is_refused_at_assessment(engine: Engine, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.rules"
    wrong.write_text(RULES.replace("person metric tasks_done", "person metric task_completion"), encoding="utf-8")
    engine.use_ruleset(wrong, effective=datetime(2025, 2, 1, tzinfo=TZ))
    with pytest.raises(assessment.AssessmentError, match="'task_completion' is a metric of a node's subtree"):
        assessment.assess(engine, "2025-03")


def test_the_section_in_chinese_and_its_mistakes() -> None:
    zh = parse_ruleset(
        "层级：community > grid > unit\n考核：\n  评定层级：grid\n  指标 巡查覆盖率：权重 100\n"
        "  星级：若 得分 >= 90 则 5，否则 3\n  评定人员：专职网格员、单元长\n"
        "  人员指标 巡查次数：权重 60，区间 0 至 20\n  人员扣分 巡查次数：每个 1 分\n"
        "  人员星级：若 得分 >= 90 且 包联户走访率 == 100 则 5，否则 2\n", sections=[SECTION], name="p.rules")
    from datetime import date

    policy = zh.policy(SECTION, at=date(2025, 1, 1))
    assert policy is not None and policy.people == ("fulltime_gridworker", "unit_leader")
    assert [t.metric for t in policy.person_terms] == ["巡查次数"]
    assert [a.points for a in policy.person_adjustments] == [-1]
    with pytest.raises(RulesError, match="people are rated, but there is no person_stars"):
        parse_ruleset(RULES.replace("  person stars:", "  # person stars:"), sections=[SECTION], name="p.rules")
    with pytest.raises(RulesError, match="person metrics and stars need 'rated people: ROLES'"):
        parse_ruleset(RULES.replace("  rated people:", "  # rated people:"), sections=[SECTION], name="p.rules")


def test_the_cli_lists_the_people_rated(engine: Engine) -> None:
    store = str(engine.store.url)
    engine.close()
    result = CliRunner().invoke(main_group, ["report", "assessment.people", "-p", "period=2025-03", "--store",
                                             store, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeffmember,name,role,stars,score,max,patrols_logged")
    assert "m05,周丽,unit_leader,2,15,100" in result.stdout


def test_assess_metrics_lists_node_metrics_only(engine: Engine) -> None:
    store = str(engine.store.url)
    engine.close()
    result = CliRunner().invoke(main_group, ["assess", "metrics", "--period", "2025-03", "--node", "g1", "--store",
                                             store, "--format", "json"])
    assert result.exit_code == 0, result.output
    names = {row["metric"] for row in json.loads(result.stdout)["rows"]}
    assert "task_completion" in names and not names & {"patrols_logged", "households_visited", "tasks_done"}
