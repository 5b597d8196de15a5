"""Explanations of ratings and subsidies (``gridcore explain assessment:2025-Q1:g1``).

Decision ids, after the ``assessment:`` prefix:

* ``<period>:<node>``: a node's stars and score, with every term's rule;
* ``<period>:subsidy:<member>``: a person's subsidies and the stars behind them;
* ``<period>:person:<member>``: a rated person's stars and score (``rated people``).

The stored assessment of the period is explained when there is one (that is
what was decided); otherwise the period is assessed afresh, without saving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore.explain import Explanation
from gridcore.periods import PeriodError

from .archive import stored_or_fresh
from .rating import Assessment, AssessmentError
from .scoring import Rating, shown

if TYPE_CHECKING:
    from gridcore import Engine


def explain_decision(engine: Engine, rest: str) -> Explanation | None:
    """Explain ``<period>:<node>`` or ``<period>:subsidy:<member>``; None if unknown."""
    period, _, subject = rest.partition(":")
    if not subject:
        return None
    try:
        assessment = stored_or_fresh(engine, period)
    except (PeriodError, AssessmentError):  # no such period, or no such cycle: nothing to explain
        return None
    decision = f"assessment:{rest}"
    if subject.startswith("subsidy:"):
        return _subsidy(assessment, subject[len("subsidy:") :], decision)
    if subject.startswith("person:"):
        person = assessment.person(subject[len("person:"):])
        return None if person is None else explain_rating(person, decision)
    rating = assessment.rating(subject)
    return None if rating is None else explain_rating(rating, decision)


def explain_rating(rating: Rating, decision: str) -> Explanation:
    """A rating's stars, the rules behind them and every metric value it used."""
    summary = f"{rating.level} {rating.node} ({rating.name}) rated {rating.stars} stars for {rating.period}"
    summary += f" with score {shown(rating.score)} of {rating.max_score:g}"
    if rating.capped_from:
        summary += f"; held back from {rating.capped_from} stars by a cap ({rating.cap_rule})"
    inputs: dict[str, Any] = {}
    for term in rating.terms:
        text = "n/a" if term.value is None else str(shown(term.value))
        points = shown(term.points) or 0
        inputs[f"{term.kind} {term.metric}"] = f"{text} -> {points:+g} points ({term.note}) [{term.rule}]"
    for name, value in rating.values.items():
        detail = ", ".join(f"{k}: {v}" for k, v in rating.inputs.get(name, {}).items())
        inputs[f"metric {name}"] = ("n/a" if value is None else str(shown(value))) + (f" ({detail})" if detail else "")
    return Explanation(decision, summary, rating.rules, inputs, rating.stars)


def _subsidy(assessment: Assessment, member: str, decision: str) -> Explanation | None:
    lines = [s for s in assessment.subsidies if s.member == member]
    if not lines:
        return None
    total = round(sum(s.amount for s in lines), 2)
    summary = f"{lines[0].name} ({member}) earns {total:g} for {assessment.named}"
    inputs = {f"{s.role} at {s.node}": f"{s.amount:g} from {s.stars:g} stars ({s.basis})" for s in lines}
    rules = tuple(dict.fromkeys(s.rule for s in lines))
    return Explanation(decision, summary, rules, inputs, total)
