"""Rating people (人员考核): the holders of the roles a ruleset rates, by per-person metrics and their own ladder.

``rated people: fulltime_gridworker, unit_leader`` (``评定人员：专职网格员、单元长``)
rates every member holding one of those roles, once, by the ``person metric``
lines (metrics about a person, ``about=MEMBER``: ``patrols_logged``,
``households_visited``, ``tasks_done`` ...), the ``person penalty`` lines and
the ``person stars`` ladder, exactly as nodes are scored and starred (exact
numbers, every term with its rule); no caps.  Each person rating is a
``Rating`` whose ``node`` is the person's id and whose ``level`` is the role
they are rated in.  A subsidy line of a rated role then follows the person's
own stars (``rating.subsidies``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gridcore.metrics import MEMBER, Metric
from gridcore.periods import Period

from .policy import AssessmentPolicy, exact
from .scoring import NodeFacts, Rating, rate_nodes

if TYPE_CHECKING:
    from gridcore import Engine


def person_metric_names(policy: AssessmentPolicy) -> list[str]:
    """Every metric the people's part of ``policy`` reads."""
    return policy.for_people().metric_names() if policy.people else []


def rated_people(engine: Engine, policy: AssessmentPolicy) -> list[tuple[str, str]]:
    """(member, the role they are rated in) for every holder of a rated role, by member id.

    Someone holding several rated roles is rated once, in the first of them the
    ``rated people`` line names.
    """
    out = []
    for member in sorted(engine.community.members.values(), key=lambda m: m.id):
        held = {a.role for a in member.roles}
        role = next((r for r in policy.people if r in held), None)
        if role is not None:
            out.append((member.id, role))
    return out


def rate_people(engine: Engine, policy: AssessmentPolicy, metrics: Mapping[str, Metric],
                period: Period, label: str | None = None) -> tuple[Rating, ...]:
    """Every rated person's rating for ``period`` (``metrics``: each person metric the policy names)."""
    if not policy.people:
        return ()
    facts = [_facts(engine, member, role, metrics, period) for member, role in rated_people(engine, policy)
             if member_present(engine, member, period.start)]
    return tuple(rate_nodes(policy.for_people(), label or period.label, facts))


def member_present(engine: Engine, member: str, start: datetime) -> bool:
    """Whether ``member`` is rated (in ``rated people``) and paid in a period starting at ``start``: there
    from the start of the store, or joined it (a growth) at or before ``start``, as a node
    (``rating.present``)."""
    joined = engine.community.member_joined(member)
    return joined is None or joined <= start


def wrong_kind(metrics: Mapping[str, Metric], policy: AssessmentPolicy) -> list[str]:
    """A node metric where a person's is wanted, or a person's where a node's is: each said."""
    problems = []
    for name in person_metric_names(policy):
        metric = metrics.get(name)
        if metric is not None and metric.about != MEMBER:
            problems.append(f"{_where(policy, name)}: {name!r} is a metric of a node's subtree, not of a person "
                            "(person metrics are about=member)")
    for name in policy.metric_names():
        metric = metrics.get(name)
        if metric is not None and metric.about == MEMBER:
            problems.append(f"{name!r} is a metric of a person: rate it with 'person metric', not 'metric'")
    return problems


def _facts(engine: Engine, member: str, role: str, metrics: Mapping[str, Metric], period: Period) -> NodeFacts:
    values: dict[str, Fraction | None] = {}
    inputs: dict[str, Mapping[str, Any]] = {}
    for name, metric in metrics.items():
        result = metric.compute(engine, member, period.start, period.end)
        known = result is not None and not (isinstance(result.value, float) and not math.isfinite(result.value))
        values[name] = exact(result.value) if result is not None and known else None
        inputs[name] = {} if result is None else {str(k): _plain(v) for k, v in result.inputs.items()}
    return NodeFacts(member, engine.community.members[member].name, role, values, inputs)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _where(policy: AssessmentPolicy, name: str) -> str:
    for term in policy.person_terms:
        if term.metric == name:
            return str(term.rule)
    for adjustment in policy.person_adjustments:
        if adjustment.metric == name:
            return str(adjustment.rule)
    return str(policy.people_rule or "assessment")
