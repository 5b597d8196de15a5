"""Scores, star ladders and caps: pure functions over a policy built in Python."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gridcore.explain import RuleRef
from gridcore_assessment.policy import (
    Adjustment,
    AllOf,
    AssessmentPolicy,
    Compare,
    MetricTerm,
    Negation,
    NoneOf,
    StarCap,
    StarLevel,
    Subsidy,
)
from gridcore_assessment.scoring import NodeFacts, apply_caps, rate_nodes, score


def ref(line: int) -> RuleRef:
    return RuleRef("t.rules", line, 1, f"rule {line}")


def policy(**changes: object) -> AssessmentPolicy:
    base = {
        "levels": ("grid",),
        "terms": (
            MetricTerm("patrol_coverage", 60, ref(1)),
            MetricTerm("mean_satisfaction", 40, ref(2), low=1, high=5),
        ),
        "adjustments": (Adjustment("overdue_incidents", -5, ref(3), limit=20),),
        "stars": (
            StarLevel(5, AllOf((Compare("score", ">=", 90), NoneOf("unresolved_serious_incidents"))), ref(4)),
            StarLevel(4, Compare("score", ">=", 80), ref(5)),
            StarLevel(3, None, ref(6)),
        ),
    }
    base.update(changes)
    return AssessmentPolicy(**base)  # type: ignore[arg-type]


def facts(node: str, **values: float | None) -> NodeFacts:
    return NodeFacts(node, f"网格{node}", "grid", values, {})


def test_terms_are_linear_clipped_and_cite_their_rules() -> None:
    value, terms = score(policy(), {"patrol_coverage": 50, "mean_satisfaction": 4, "overdue_incidents": 2})
    assert [(t.metric, t.points, str(t.rule)) for t in terms] == [
        ("patrol_coverage", 30, "t.rules:1"),
        ("mean_satisfaction", 30, "t.rules:2"),
        ("overdue_incidents", -10, "t.rules:3"),
    ]
    assert value == 50
    value, _ = score(policy(), {"patrol_coverage": 150, "mean_satisfaction": 0.5, "overdue_incidents": 100})
    assert value == 40  # 60 + 0 - 20 (the penalty's limit)


def test_missing_metrics_score_zero_or_full_as_the_term_says() -> None:
    zero = policy()
    full = policy(terms=(MetricTerm("patrol_coverage", 60, ref(1)),
                         MetricTerm("mean_satisfaction", 40, ref(2), low=1, high=5, when_missing="full")))
    assert score(zero, {"patrol_coverage": 100})[0] == 60
    assert score(full, {"patrol_coverage": 100})[0] == 100


def test_lower_is_better_when_low_exceeds_high() -> None:
    reopen = policy(terms=(MetricTerm("reopen_rate", 100, ref(1), low=20, high=0),), adjustments=())
    assert score(reopen, {"reopen_rate": 0})[0] == 100
    assert score(reopen, {"reopen_rate": 10})[0] == 50
    assert score(reopen, {"reopen_rate": 50})[0] == 0


def test_star_conditions_are_minimums_not_only_scores() -> None:
    rated = rate_nodes(policy(), "2025-Q1", [
        facts("g1", patrol_coverage=100, mean_satisfaction=5, unresolved_serious_incidents=0),
        facts("g2", patrol_coverage=100, mean_satisfaction=5, unresolved_serious_incidents=1),
        facts("g3", patrol_coverage=50, mean_satisfaction=5),
    ])
    assert [(r.node, r.score, r.stars, str(r.star_rule)) for r in rated] == [
        ("g1", 100, 5, "t.rules:4"),
        ("g2", 100, 4, "t.rules:5"),
        ("g3", 70, 3, "t.rules:6"),
    ]


def test_a_cap_keeps_the_best_and_breaks_ties_by_penalties_then_id() -> None:
    capped = policy(caps=(StarCap(5, ref(7), count=2),))
    nodes = [
        facts("g4", patrol_coverage=100, mean_satisfaction=5, overdue_incidents=0),
        facts("g2", patrol_coverage=100, mean_satisfaction=5, overdue_incidents=0),
        facts("g1", patrol_coverage=100, mean_satisfaction=5, overdue_incidents=1),  # 95
        facts("g3", patrol_coverage=100, mean_satisfaction=5, overdue_incidents=0),
    ]
    rated = {r.node: r for r in rate_nodes(capped, "2025-Q1", nodes)}
    assert {n: r.stars for n, r in rated.items()} == {"g1": 4, "g2": 5, "g3": 5, "g4": 4}
    assert rated["g4"].capped_from == 5 and str(rated["g4"].cap_rule) == "t.rules:7"
    assert rated["g1"].capped_from == 5
    assert str(rated["g4"].star_rule) == "t.rules:5"


def test_a_share_cap_rounds_down() -> None:
    capped = policy(caps=(StarCap(5, ref(7), share=20),))
    nodes = [facts(f"g{n}", patrol_coverage=100, mean_satisfaction=5) for n in range(9)]
    assert sum(r.stars == 5 for r in rate_nodes(capped, "P", nodes)) == 1


def test_conditions_describe_themselves() -> None:
    condition = AllOf((Compare("score", ">=", 90), Negation(NoneOf("overdue_incidents"))))
    assert condition.describe() == "score >= 90 and not no overdue_incidents"
    assert condition.holds({"score": 95, "overdue_incidents": 1})


def test_subsidies_per_star_and_by_multiplier() -> None:
    per_star = Subsidy("microgrid_leader", ref(8), per_star=100)
    ladder = Subsidy("committee_member", ref(9), base=600, multipliers=((5, 1.5), (4, 1.2)), otherwise=0.5)
    assert per_star.amount(4) == 400
    assert [ladder.amount(s) for s in (5, 4, 3.5, 1)] == [900, 720, 300, 300]


values = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))


@given(st.dictionaries(st.sampled_from(["patrol_coverage", "mean_satisfaction", "overdue_incidents",
                                        "unresolved_serious_incidents"]), values))
def test_scores_stay_within_bounds_and_stars_on_the_ladder(metric_values: dict[str, float | None]) -> None:
    p = policy(adjustments=(Adjustment("overdue_incidents", -5, ref(3)),
                            Adjustment("unresolved_serious_incidents", 3, ref(3))))
    value, terms = score(p, metric_values)
    assert 0 <= value <= p.max_score == 100
    assert all(0 <= t.points <= (t.weight or 0) for t in terms if t.kind == "weight")
    (rating,) = rate_nodes(p, "P", [facts("g1", **metric_values)])
    assert rating.stars in {3, 4, 5}


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=12), st.integers(0, 4))
def test_caps_never_exceed_their_count_and_never_raise_stars(coverages: list[float], count: int) -> None:
    p = policy(terms=(MetricTerm("patrol_coverage", 100, ref(1)),), adjustments=(),
               caps=(StarCap(5, ref(7), count=count), StarCap(4, ref(8), count=count)))
    nodes = [facts(f"g{i:02d}", patrol_coverage=c) for i, c in enumerate(coverages)]
    free = rate_nodes(policy(terms=p.terms, adjustments=()), "P", nodes)
    capped = apply_caps(p, free)
    assert sum(r.stars == 5 for r in capped) <= count
    assert sum(r.stars == 4 for r in capped) <= count
    assert all(c.stars <= f.stars for c, f in zip(capped, free))
    # the nodes that keep a capped level outscore those pushed below it
    for stars in (5, 4):
        kept = [r.score for r in capped if r.stars == stars]
        pushed = [r.score for r in capped if r.capped_from == stars]
        assert not kept or not pushed or min(kept) >= max(pushed)
