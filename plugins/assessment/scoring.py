"""From metric values to scores and stars: pure functions over a policy.

``score`` turns a node's metric values into a score and its breakdown (one
``Term`` per weighted metric and per penalty or bonus, each with its rule).
``rate_nodes`` gives every node its stars from the ladder and then applies the
caps.  Tie-breaking under a cap is deterministic: higher score first, then
fewer penalty points, then the node id (code-point order).

Every number here is exact (``Fraction``): metric values, points, scores.  A
score of exactly 80 meets ``4 if score >= 80``; rounding happens only where a
number is shown (``shown``, two decimals, half up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from attrs import evolve

from gridcore.classes import frozen
from gridcore.explain import RuleRef

from .policy import SCORE, AssessmentPolicy, MetricTerm, StarCap, StarLevel, exact

#: Scores, points and metric values are shown with this many decimals
#: (rounded half up, once, where they are shown; computed exactly before).
SHOWN_DECIMALS = 2


def shown(value: Fraction | float | None, places: int = SHOWN_DECIMALS) -> int | float | None:
    """An exact number rounded half up for display: ``Fraction(200, 3)`` -> ``66.67``, 80 -> ``80``."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return value
    scaled = exact(value) * 10**places
    whole: int = math.floor(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1)
    unit: int = 10**places
    if whole % unit == 0:
        return whole // unit
    return whole / unit


@frozen
class Term:
    """One line of a score breakdown: a weighted metric or an adjustment (exact numbers)."""

    metric: str
    kind: str  # "weight" or "adjustment"
    value: Fraction | None
    points: Fraction
    rule: RuleRef
    note: str = ""
    weight: float | None = None


@frozen
class NodeFacts:
    """What the rating of one node starts from: the node and its (exact) metric values."""

    node: str
    name: str
    level: str
    values: Mapping[str, Fraction | None]
    inputs: Mapping[str, Mapping[str, Any]]


@frozen
class Rating:
    """One node's rating for one period; ``score`` is exact (show it with ``shown``)."""

    node: str
    name: str
    level: str
    period: str
    score: Fraction
    max_score: float
    stars: int
    star_rule: RuleRef
    terms: tuple[Term, ...]
    values: Mapping[str, Fraction | None]
    inputs: Mapping[str, Mapping[str, Any]]
    capped_from: int | None = None
    cap_rule: RuleRef | None = None

    @property
    def penalty_points(self) -> Fraction:
        """Points taken away by adjustments (a positive number)."""
        return -sum((t.points for t in self.terms if t.kind == "adjustment" and t.points < 0), Fraction(0))

    @property
    def rules(self) -> tuple[RuleRef, ...]:
        """Every rule behind the rating: each term's, the star level's, the cap's."""
        refs = [t.rule for t in self.terms] + [self.star_rule]
        if self.cap_rule is not None:
            refs.append(self.cap_rule)
        return tuple(dict.fromkeys(refs))


def term_points(term: MetricTerm, value: Fraction | float | None) -> tuple[Fraction, str]:
    """Points a weighted metric earns (exactly) and a note on how (linear, clipped)."""
    weight = exact(term.weight)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if term.when_missing == "full":
            return weight, "not applicable: full weight"
        return Fraction(0), "not applicable: 0 points"
    value, low, high = exact(value), exact(term.low), exact(term.high)
    if high == low:
        share = Fraction(1) if value >= high else Fraction(0)
    else:
        share = (value - low) / (high - low)
    share = min(Fraction(1), max(Fraction(0), share))
    return weight * share, f"{shown(share * 100, 1)}% of {term.weight:g}"


def score(
    policy: AssessmentPolicy, values: Mapping[str, Fraction | float | None]
) -> tuple[Fraction, tuple[Term, ...]]:
    """A node's exact score (clipped to ``[0, policy.max_score]``) and its breakdown."""
    terms: list[Term] = []
    for term in policy.terms:
        value = values.get(term.metric)
        points, note = term_points(term, value)
        known = None if value is None or (isinstance(value, float) and math.isnan(value)) else exact(value)
        terms.append(Term(term.metric, "weight", known, points, term.rule, note, term.weight))
    for adjustment in policy.adjustments:
        value = values.get(adjustment.metric)
        count = exact(value) if value is not None else Fraction(0)
        raw = exact(adjustment.points) * count
        if adjustment.limit is not None:
            limit = exact(adjustment.limit)
            raw = max(-limit, min(limit, raw))
        sign = "minus" if adjustment.points < 0 else "plus"
        note = f"{sign} {abs(adjustment.points):g} x {shown(count)}"
        terms.append(Term(adjustment.metric, "adjustment", None if value is None else count, raw, adjustment.rule, note))
    total = sum((t.points for t in terms), Fraction(0))
    return min(exact(policy.max_score), max(Fraction(0), total)), tuple(terms)


def ladder_level(
    policy: AssessmentPolicy,
    score_value: Fraction,
    values: Mapping[str, Fraction | None],
    below: int | None = None,
) -> StarLevel:
    """The first star level (best first) whose condition holds, below ``below`` stars if given.

    The last ``otherwise`` level always holds; if even it is not below ``below``
    (a cap on the lowest level), the lowest level is returned.
    """
    subjects = {**values, SCORE: score_value}
    candidates = [s for s in policy.stars if below is None or s.stars < below]
    for level in candidates:
        if level.condition is None or level.condition.holds(subjects):
            return level
    return min(policy.stars, key=lambda s: s.stars)


def rate_nodes(policy: AssessmentPolicy, period: str, facts: Sequence[NodeFacts]) -> list[Rating]:
    """Rate every node (stars from the ladder, then caps), in the order given."""
    ratings = []
    for fact in facts:
        value, terms = score(policy, fact.values)
        level = ladder_level(policy, value, fact.values)
        ratings.append(
            Rating(
                fact.node, fact.name, fact.level, period, value, policy.max_score,
                level.stars, level.rule, terms, dict(fact.values), dict(fact.inputs),
            )
        )  # fmt: skip
    return apply_caps(policy, ratings)


def cap_order(rating: Rating) -> tuple[Fraction, Fraction, str]:
    """Who keeps a capped star level first: higher score, fewer penalty points, then node id."""
    return (-rating.score, rating.penalty_points, rating.node)


def apply_caps(policy: AssessmentPolicy, ratings: list[Rating]) -> list[Rating]:
    """Demote the nodes beyond each cap to the next level they qualify for, best stars first."""
    by_node = {r.node: r for r in ratings}
    for cap in sorted(policy.caps, key=lambda c: -c.stars):
        levels = [cap.level] if cap.level else sorted({r.level for r in ratings})
        for level in levels:
            group = [r for r in by_node.values() if r.level == level]
            holders = sorted((r for r in group if r.stars == cap.stars), key=cap_order)
            allowed = _allowed(cap, len(group))
            for rating in holders[allowed:]:
                step = ladder_level(policy, rating.score, rating.values, below=cap.stars)
                by_node[rating.node] = evolve(
                    rating,
                    stars=step.stars,
                    star_rule=step.rule,
                    capped_from=rating.capped_from or cap.stars,
                    cap_rule=cap.rule,
                )
    return [by_node[r.node] for r in ratings]


def _allowed(cap: StarCap, population: int) -> int:
    if cap.count is not None:
        return cap.count
    # a share is rounded down: "at most 20%" of 8 grids is 1 grid, never 2
    return math.floor(exact(cap.share or 0) * population / 100)
