"""Scores are exact until shown: a boundary score meets its step, whatever the shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from gridcore import Engine, FixedClock
from gridcore.explain import RuleRef
from gridcore_assessment.policy import AssessmentPolicy, Compare, MetricTerm, StarLevel
from gridcore_assessment.rating import assess
from gridcore_assessment.reports import breakdown_table, ratings_table
from gridcore_assessment.scoring import NodeFacts, rate_nodes, score
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

COMMUNITY = Path(__file__).parent / "data" / "escalation" / "community"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)

RULES = """\
ruleset exact
levels: street > community > grid > unit

escalation:
  incident any: start at grid
  limit grid: resolve within 3 days

assessment:
  period: month
  rate: grid
  metric closure_within_limit: weight 60
  metric mean_satisfaction: weight 60, scale 1 to 5, full if missing
  stars: 4 if score >= 80, otherwise 3
"""


def ref(line: int) -> RuleRef:
    return RuleRef("t.rules", line, 1, f"rule {line}")


def test_a_third_of_a_weight_is_exact_and_a_score_of_80_gets_the_score_80_step() -> None:
    policy = AssessmentPolicy(
        levels=("grid",),
        terms=(MetricTerm("a", 60, ref(1)), MetricTerm("b", 60, ref(2))),
        stars=(StarLevel(4, Compare("score", ">=", 80), ref(3)), StarLevel(3, None, ref(4))),
    )
    value, terms = score(policy, {"a": Fraction(100, 3), "b": Fraction(100)})
    assert value == 80 and terms[0].points == 20
    [rating] = rate_nodes(policy, "2025-03", [NodeFacts("g1", "第一网格", "grid", {"a": Fraction(100, 3), "b": 100}, {})])
    assert rating.stars == 4


def test_through_the_engine_one_case_in_three_closed_on_time_scores_exactly_80(tmp_path: Path) -> None:
    rules = tmp_path / "exact.rules"
    rules.write_text(RULES, encoding="utf-8")
    engine = Engine.open(store=str(tmp_path / "s"), community=COMMUNITY, ruleset=rules,
                         effective=T0 - timedelta(days=5), clock=FixedClock(T0))
    try:
        for n in (1, 2, 3):
            engine.record(IncidentReported(id=f"r{n}", time=T0, actor="worker1", node="u11",
                                           incident=f"I{n}", category="leaking_pipe"))
        hour = timedelta(hours=1)
        engine.record_many([
            IncidentAccepted(id="a1", time=T0 + hour, actor="leader1", node="u11", incident="I1"),
            IncidentResolved(id="s1", time=T0 + 2 * hour, actor="leader1", node="u11", incident="I1"),
            IncidentVerified(id="v1", time=T0 + 3 * hour, actor="leader1", node="u11", incident="I1",
                             satisfaction=5),
            IncidentClosed(id="c1", time=T0 + 4 * hour, actor="leader1", node="u11", incident="I1"),
        ])
        engine.tick(datetime(2025, 4, 1, 8, tzinfo=TZ))
        result = assess(engine, "2025-03", save=False)
        g1 = result.rating("g1")
        assert g1 is not None
        assert g1.values["closure_within_limit"] == Fraction(100, 3)
        assert g1.score == 80
        assert g1.stars == 4 and g1.star_rule.line == 13
        # shown rounded, never as a long float
        row = ratings_table(result).rows[0]
        assert row[3:5] == (4, 80)
        lines = [r for r in breakdown_table(result).rows if r[0] == "g1"]
        assert lines[0][4:6] == (33.33, 20)
    finally:
        engine.close()
