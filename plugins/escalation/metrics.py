"""Metrics about incidents in a node's subtree over a period (for assessment and anyone else).

Rates are percentages of the incidents *reported* in ``[start, end)`` at the
node or below it (repeat reports are folded into the incident they joined);
``None`` when there is nothing to divide by.  Shares and means are exact
``Fraction`` values: whoever shows them rounds them.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from gridcore.metrics import Metric, MetricValue

from . import timers
from .departments import DepartmentRecord, incidents_within, records
from .headings import METRIC_INPUTS_ZH
from .incident import CLOSED, Incident
from .views import state_of

if TYPE_CHECKING:
    from gridcore import Engine

T = TypeVar("T")


#: Per escalation state: what a period's metrics read, indexed by every node above each incident.
#: Rating every grid of a district asks each metric for hundreds of nodes over one period; the
#: incidents are read (and their deadlines worked out) once, then each node is one lookup.
_INDEXES: weakref.WeakKeyDictionary[object, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()


def _indexed(engine: Engine, key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """``build()`` for ``key``, kept while no incident changes (the state's ``stamp``)."""
    state = state_of(engine)
    kept = _INDEXES.setdefault(state, {})
    stamp = ("stamp", state.stamp())
    if kept.get(("stamp",)) != stamp:
        kept.clear()
        kept[("stamp",)] = stamp
    if key not in kept:
        kept[key] = build()
    return kept[key]  # type: ignore[no-any-return]


def _above(engine: Engine, node: str) -> tuple[str, ...]:
    """``node`` and every node above it (nothing for a node the tree no longer has)."""
    hierarchy = engine.community.hierarchy
    if node not in hierarchy:
        return ()
    return tuple(n if isinstance(n, str) else n.id for n in hierarchy.ancestors(node, include_self=True))


def _reported(engine: Engine, node: str, start: datetime, end: datetime) -> list[Incident]:
    def build() -> dict[str, list[Incident]]:
        by_node: dict[str, list[Incident]] = defaultdict(list)
        for incident in state_of(engine).reported_between(start, end):
            for above in _above(engine, incident.node):
                by_node[above].append(incident)
        return by_node

    return list(_indexed(engine, ("reported", start, end), build).get(node, ()))


def _share(name: str, hits: int, total: int) -> MetricValue | None:
    if total == 0:
        return None
    return MetricValue(Fraction(100 * hits, total), {name: hits, "incidents": total})


def _start_limit(incident: Incident, known: dict[tuple[Any, ...], bool] | None = None) -> bool:
    """True if the case had an accept limit at the level it started at, as reported.

    ``known``: the answers kept by policy, category and level, for a policy whose ``limit for`` clauses
    have no condition (what ``applied`` reads of the case then: ``timers.Known``); a metric over a
    district's quarter asks it for every case of the quarter, of a few categories and levels.
    """
    policy = incident.policy
    if policy is None:
        return False
    level = incident.escalations[0].from_level if incident.escalations else incident.current_level
    key = None
    if known is not None and all(clause.condition is None for clause in policy.category_limits):
        key = (id(policy), incident.category, level)
        found = known.get(key)
        if found is not None:
            return found
    facts = incident.facts(incident.reported_at)
    answer = "accept" in policy.applied(attrs.evolve(facts, level=level), level)
    if key is not None:
        known[key] = answer  # type: ignore[index]  # (the policy is held by the case: its id stays its own)
    return answer


def acceptance_within_limit(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Share of incidents with an acceptance limit that never missed one."""
    def build() -> dict[str, tuple[int, int]]:
        # node -> (incidents of its subtree with an acceptance limit never missed, with one at all):
        # whether an incident had one is worked out once, not once per node above it
        by_node: dict[str, tuple[int, int]] = {}
        known: dict[tuple[Any, ...], bool] = {}
        for incident in state_of(engine).reported_between(start, end):
            if not _start_limit(incident, known):
                continue
            hit = not any(b.limit == "accept" for b in incident.breaches)
            for above in _above(engine, incident.node):
                hits, total = by_node.get(above, (0, 0))
                by_node[above] = (hits + hit, total + 1)
        return by_node

    hits, total = _indexed(engine, ("accepted", start, end), build).get(node, (0, 0))
    return _share("accepted within limit", hits, total)


def closure_within_limit(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Share of incidents closed without missing any time limit."""
    pool = [i for i in _reported(engine, node, start, end) if i.policy is not None]
    tz = engine.community.tz
    hits = sum(
        1
        for i in pool
        if i.status == CLOSED and not i.breaches and not timers.overdue(i, tz, i.closed_at or end)
    )
    return _share("closed within limits", hits, len(pool))


def mean_satisfaction(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Mean satisfaction (1-5) of the verifications made in the period."""
    def build() -> dict[str, list[int]]:
        by_node: dict[str, list[int]] = defaultdict(list)
        for i in state_of(engine).active_between(start, end):
            found = [score for when, score, _ in i.verifications if start <= when < end]
            if found:
                for above in _above(engine, i.node):
                    by_node[above].extend(found)
        return by_node

    scores = _indexed(engine, ("satisfaction", start, end), build).get(node, [])
    if not scores:
        return None
    return MetricValue(Fraction(sum(scores), len(scores)), {"verifications": len(scores)})


def reopen_rate(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share of incidents reopened at least once."""
    pool = _reported(engine, node, start, end)
    return _share("reopened", sum(1 for i in pool if i.reopens), len(pool))


def escalation_rate(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Share of incidents escalated at least once."""
    pool = _reported(engine, node, start, end)
    return _share("escalated", sum(1 for i in pool if i.escalations), len(pool))


def overdue_incidents(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Incidents that missed a time limit in the period, charged to where they missed it.

    An incident counts once however many limits it missed, and only for the
    subtrees holding a node where it missed one: a grid is not charged for
    the community's own missed limits.  A miss is a breach that escalated or a
    limit run out with nowhere to go (at the top).
    """
    tz = engine.community.tz
    until = min(end, engine.clock.now())

    def build() -> dict[str, tuple[set[str], int]]:
        # node -> (the incidents late somewhere in its subtree, how many limits they missed there)
        by_node: dict[str, tuple[set[str], int]] = {}
        for i in state_of(engine).active_between(start, end):
            places = [b.node for b in i.breaches if start <= b.time < end]
            places += [i.current_node for d in timers.overdue(i, tz, until) if start <= d.time < end]
            for where in places:
                for above in _above(engine, where):
                    ids, count = by_node.get(above, (set(), 0))
                    ids.add(i.id)
                    by_node[above] = (ids, count + 1)
        return by_node

    found, missed = _indexed(engine, ("overdue", start, end, until), build).get(node, (set(), 0))
    late = sorted(found)
    return MetricValue(
        Fraction(len(late)),
        {"incidents": len(late), "limits missed": missed, "overdue": ", ".join(sorted(late)) or "none"},
    )


def feedback_within_limit(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Share of resolved incidents with a feedback limit whose reporter was told in time (反馈).

    Feedback given late, or not given by the time its limit ran out (before
    the end of the period, or now), is late; one still within its limit is
    not counted yet.
    """
    until = min(end, engine.clock.now())
    pool = [i for i in _reported(engine, node, start, end) if i.feedback_due is not None]
    decided = [i for i in pool if i.feedback_at is not None or i.feedback_due is not None and i.feedback_due < until]
    hits = sum(1 for i in decided if i.feedback_late is False)
    return _share("told within limit", hits, len(decided))


def incidents_per_patrol(
    engine: Engine, node: str, start: datetime, end: datetime
) -> MetricValue | None:
    """Incidents reported per patrol logged in the subtree (how much patrols find)."""
    hierarchy = engine.community.hierarchy
    patrols = sum(
        1
        for e in engine.events(kinds=["patrol_logged"], since=start, until=end)
        if hierarchy.is_within(e.node, node)
    )
    if patrols == 0:
        return None
    found = len(_reported(engine, node, start, end))
    return MetricValue(Fraction(found, patrols), {"incidents": found, "patrols": patrols})


def _metric(
    name: str,
    title: str,
    zh: str,
    unit: str,
    compute: Callable[..., MetricValue | None],
    better: bool = True,
) -> Metric:
    return Metric(name, title, unit, compute, title_zh=zh, higher_is_better=better, inputs_zh=METRIC_INPUTS_ZH,
                  unit_zh=UNITS_ZH.get(unit, ""))


#: The units of these metrics in Chinese (``Metric.unit_zh``).
UNITS_ZH = {"count": "件", "score": "分", "per patrol": "每次巡查"}


def _department_total(engine: Engine, node: str, start: datetime, end: datetime) -> DepartmentRecord:
    now = min(end, engine.clock.now())
    found = records(incidents_within(engine, node, start, end), start, end, now)
    return DepartmentRecord(
        "all",
        *(sum(getattr(r, name) for r in found) for name in ("summoned", "arrived_on_time", "arrived_late",
                                                             "not_arrived", "resolved_on_time",
                                                             "resolved_late", "returned")),
    )


def _on_time(name: str, on_time: int, late: int, summoned: int) -> MetricValue | None:
    if on_time + late == 0:
        return None
    return MetricValue(Fraction(100 * on_time, on_time + late), {name: on_time, "summoned": summoned})


def department_arrival_within_limit(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share of departments' arrivals (报到) on summoned cases of the subtree that were on time."""
    total = _department_total(engine, node, start, end)
    return _on_time("reported in on time", total.arrived_on_time, total.arrived_late, total.summoned)


def department_closure_within_limit(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share of summoned cases of the subtree resolved within the department's limit."""
    total = _department_total(engine, node, start, end)
    return _on_time("resolved on time", total.resolved_on_time, total.resolved_late, total.summoned)


def department_returns(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Cases of the subtree line departments sent back (退单) in the period."""
    total = _department_total(engine, node, start, end)
    return MetricValue(Fraction(total.returned), {"sent back": total.returned})

def _departments() -> tuple[Metric, ...]:
    return (
        _metric("department_arrival_within_limit", "Summoned departments that reported in within the limit",
                "条线部门按时报到率", "%", department_arrival_within_limit),
        _metric("department_closure_within_limit", "Summoned cases resolved within the department's limit",
                "条线部门按时办结率", "%", department_closure_within_limit),
        _metric("department_returns", "Cases line departments sent back", "条线部门退单数", "count",
                department_returns, better=False),
    )

METRICS = (
    _metric(
        "acceptance_within_limit",
        "Incidents accepted within the limit",
        "按时受理率",
        "%",
        acceptance_within_limit,
    ),
    _metric(
        "closure_within_limit",
        "Incidents closed within their limits",
        "按时办结率",
        "%",
        closure_within_limit,
    ),
    _metric(
        "mean_satisfaction",
        "Mean satisfaction at verification",
        "群众满意度",
        "score",
        mean_satisfaction,
    ),
    _metric("reopen_rate", "Incidents reopened", "返工率", "%", reopen_rate, better=False),
    _metric("escalation_rate", "Incidents escalated", "上报率", "%", escalation_rate, better=False),
    _metric(
        "overdue_incidents",
        "Incidents that missed a time limit",
        "超时事件数",
        "count",
        overdue_incidents,
        better=False,
    ),
    _metric(
        "feedback_within_limit",
        "Reporters told the result within the limit",
        "按时反馈率",
        "%",
        feedback_within_limit,
    ),
    _metric(
        "incidents_per_patrol",
        "Incidents found per patrol",
        "每次巡查发现事件数",
        "per patrol",
        incidents_per_patrol,
    ),
    *_departments(),
)
