"""Rates with household denominators: registration by households on record, visit coverage of 包联户."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import gridcore_assessment as assessment
from gridcore import Engine, FixedClock
from gridcore.events import (
    ActivityRecorded,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdVisited,
    ResidentRegistered,
)
from gridcore_app.cli import main_group

MINI = Path(__file__).parent / "data" / "community-mini"
TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2025, 3, 1, tzinfo=TZ)
APRIL = datetime(2025, 4, 1, tzinfo=TZ)
RULES = """\
ruleset "by-household"
levels: community > grid > unit
assessment:
  period: month
  rate: grid
  metric household_registration: weight 50
  metric visit_coverage: weight 50
  stars: 5 if score >= 90, 4 if score >= 60, otherwise 3
"""


def day(n: int) -> datetime:
    return MARCH + timedelta(days=n - 1, hours=9)


@pytest.fixture
def store(tmp_path: Path) -> str:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    (folder / "households.csv").write_text(
        "\ufeffid,name,node,place,people,floating\n"
        "h1,王家,g1-u1,p1,3,\nh2,李家,g1-u1,p2,2,\nh3,陈家,g1-u2,p3,4,\nh4,周家,g2-u1,p5,2,\n",
        encoding="utf-8")
    (folder / "residents.csv").write_text(
        "\ufeffid,name,household,floating,key_person,special_group\nr4,周奶奶,h4,,,独居老人\n", encoding="utf-8")
    (folder / "care.csv").write_text("\ufeffmember,household,place\nm05,,p1\nm05,h2,\nm03,h3,\nm08,h4,\n",
                                     encoding="utf-8")
    (tmp_path / "r.rules").write_text(RULES, encoding="utf-8")
    path = str(tmp_path / "store")
    with Engine.open(store=path, community=folder, ruleset=tmp_path / "r.rules",
                     effective=datetime(2025, 1, 1, tzinfo=TZ), clock=FixedClock(APRIL)) as engine:
        summary = engine.record_many([
            ResidentRegistered(id="g1", time=day(2), actor="m05", node="g1-u1", person="w1", name="王一",
                               household="h1"),
            HouseholdVisited(id="v1", time=day(3), actor="m05", node="g1-u1", household="h1"),
            HouseholdVisited(id="v2", time=day(4), actor="m03", node="g1-u2", household="h3"),
            HouseholdVisited(id="v0", time=day(1) - timedelta(days=3), actor="m05", node="g1-u1", household="h2"),
            HouseholdVisited(id="v4", time=day(5), actor="m08", node="g2-u1", household="h4"),
            # 周家 leaves mid-March: at the month's end it is no longer on record, nor looked after
            HouseholdMovedOut(id="o4", time=day(20), actor="m08", node="g2-u1", household="h4"),
            HouseholdMovedIn(id="i5", time=day(21), actor="m08", node="g2-u1", household="h5", name="吴家"),
        ])
        assert summary.accepted == 7, summary.refused
    return path


def test_rates_divide_by_households_on_record_and_households_looked_after(store: str) -> None:
    with Engine.open(store=store, read_only=True, clock=FixedClock(APRIL)) as engine:
        registered = engine.metric("household_registration", "g1", MARCH, APRIL)
        assert registered is not None and registered.value == Fraction(100, 3)  # h1 of h1, h2, h3
        assert registered.inputs == {"households on record": 3, "registered": 1}
        visits = engine.metric("visit_coverage", "g1", MARCH, APRIL)
        # h2 was visited in February only
        assert visits is not None and visits.value == Fraction(200, 3) and visits.inputs["not visited"] == "h2"
        # as at the end of March 周家 has left; 吴家 is on record, registered by nobody, looked after by nobody
        assert engine.metric("household_registration", "g2", MARCH, APRIL).value == 0  # type: ignore[union-attr]
        assert engine.metric("visit_coverage", "g2", MARCH, APRIL) is None
        # as at 15 March, 周家 was there, with its named resident, and visited
        mid = datetime(2025, 3, 15, tzinfo=TZ)
        assert engine.metric("household_registration", "g2", MARCH, mid).value == 100  # type: ignore[union-attr]
        assert engine.metric("visit_coverage", "g2", MARCH, mid).value == 100  # type: ignore[union-attr]
        result = assessment.assess(engine, "2025-03", save=False)
        g1 = result.rating("g1")
        # 50 x 1/3 for registration + 50 x 2/3 for visits: 50 points, 3 stars
        assert g1 is not None and g1.score == 50 and g1.stars == 3


def test_the_cli_shows_the_household_rates(store: str) -> None:
    result = CliRunner().invoke(main_group, ["assess", "metrics", "--period", "2025-03", "--node", "g1",
                                             "--store", store, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {row["metric"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["household_registration"]["名称"] == "户登记率"
    assert rows["visit_coverage"]["名称"] == "入户走访覆盖率"
    assert rows["visit_coverage"]["value"] not in (None, "")
    assert rows["registered_participation"]["名称"] == "登记居民活动参与率"


def test_every_member_visited_every_household_they_look_after_is_a_condition(store: str, tmp_path: Path) -> None:
    with Engine.open(store=store, clock=FixedClock(APRIL)) as engine:
        # the grid leader visits 李家 in March: the household is visited, but not by 周丽 (m05), who looks after it
        engine.record(HouseholdVisited(id="v5", time=day(6), actor="m02", node="g1-u1", household="h2"))
        assert engine.metric("visit_coverage", "g1", MARCH, APRIL).value == 100  # type: ignore[union-attr]
        carers = engine.metric("carers_visited_all", "g1", MARCH, APRIL)
        assert carers is not None and carers.value == 50  # 陈强 (m03) visited 陈家; 周丽 missed 李家
        assert carers.inputs["not all visited"] == "m05 (h2)"
        assert engine.metric("carers_not_visited_all", "g1", MARCH, APRIL).value == 1  # type: ignore[union-attr]
        assert engine.metric("carers_visited_all", "g1-u2", MARCH, APRIL).value == 100  # type: ignore[union-attr]
        assert engine.metric("carers_visited_all", "g2", MARCH, APRIL) is None  # 周家 has left
        rules = tmp_path / "carers.rules"
        rules.write_text(
            "规则集 \"包联户\"\n层级：community > grid > unit\n考核：\n  周期：月\n  评定层级：grid\n"
            "  指标 入户走访覆盖率：权重 100\n"
            "  星级：若 得分 >= 90 且 包联户走访到位率 == 100 则 5，若 得分 >= 60 则 4，否则 3\n"
            "  扣分 包联户走访未到位人数：每个 5 分\n", encoding="utf-8")
        engine.use_ruleset(rules, effective=datetime(2025, 1, 1, tzinfo=TZ))
        g1 = assessment.assess(engine, "2025-03", save=False).rating("g1")
        # every household visited (100) less 5 for 周丽: 95, yet 4 stars, since not every carer visited all theirs
        assert g1 is not None and (g1.score, g1.stars) == (95, 4)


PARTICIPATION = {
    "en": 'ruleset "take-part"\nlevels: community > grid > unit\nassessment:\n  period: month\n  rate: grid\n'
          "  metric {metric}: weight 100\n  stars: 5 if score >= 90, 4 if score >= 60, otherwise 3\n",
    "zh": '规则集 "参与"\n层级：community > grid > unit\n考核：\n  周期：月\n  评定层级：grid\n'
          "  指标 {metric}：权重 100\n  星级：若 得分 >= 90 则 5，若 得分 >= 60 则 4，否则 3\n",
}
METRIC_NAMES = {"en": ("participation", "registered_participation"),
                "zh": ("居民活动参与率", "登记居民活动参与率")}


def take_part(engine: Engine) -> None:
    """周丽 (m05, at home in g1-u1) and 王一 (w1, registered in 王家) take part in March; 陈强 lives elsewhere."""
    summary = engine.record_many([
        ActivityRecorded(id="a1", time=day(8), actor="m05", node="g1-u1", activity="clean_up"),
        ActivityRecorded(id="a2", time=day(9), actor="m05", node="g1-u1", activity="clean_up", member="w1"),
        ActivityRecorded(id="a3", time=day(9), actor="m03", node="g1-u2", activity="clean_up"),
    ])
    assert summary.accepted == 3, summary.refused


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_participation_divides_by_the_population_on_record(store: str, tmp_path: Path, lang: str) -> None:
    with Engine.open(store=store, clock=FixedClock(APRIL)) as engine:
        take_part(engine)
        # g1's households hold 3 + 2 + 4 people; 2 of them took part (陈强 has no home on record there)
        on_record = engine.metric("participation", "g1", MARCH, APRIL)
        assert on_record is not None and on_record.value == Fraction(200, 9)
        assert on_record.inputs == {"people on record": 9, "took part": 2}
        # the residents known in g1: 王芳 and 周丽 (home g1-u1) and 王一 (registered): 2 of 3
        known = engine.metric("registered_participation", "g1", MARCH, APRIL)
        assert known is not None and known.value == Fraction(200, 3)
        assert known.inputs == {"residents": 3, "took part": 2}
        # the ruleset says which, by the metric it names
        scores = []
        for metric in METRIC_NAMES[lang]:
            rules = tmp_path / f"{lang}-{metric}.rules"
            rules.write_text(PARTICIPATION[lang].format(metric=metric), encoding="utf-8")
            engine.use_ruleset(rules, effective=datetime(2025, 1, 1, tzinfo=TZ))
            g1 = assessment.assess(engine, "2025-03", save=False).rating("g1")
            assert g1 is not None
            scores.append((g1.score, g1.stars))
        assert scores == [(Fraction(200, 9), 3), (Fraction(200, 3), 4)]


def test_without_households_participation_divides_by_the_residents_known(tmp_path: Path) -> None:
    (tmp_path / "r.rules").write_text(PARTICIPATION["en"].format(metric="participation"), encoding="utf-8")
    with Engine.open(store=str(tmp_path / "store"), community=MINI, ruleset=tmp_path / "r.rules",
                     effective=datetime(2025, 1, 1, tzinfo=TZ), clock=FixedClock(APRIL)) as engine:
        engine.record(ResidentRegistered(id="g1", time=day(2), actor="m05", node="g1-u1", person="w1", name="王一"))
        take_part(engine)
        plain = engine.metric("participation", "g1", MARCH, APRIL)
        known = engine.metric("registered_participation", "g1", MARCH, APRIL)
        assert plain is not None and known is not None
        assert plain == known and plain.value == Fraction(200, 3)  # 周丽 and 王一 of 王芳, 周丽, 王一
