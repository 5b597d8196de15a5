"""The metrics the assessment plugin contributes, computed from the event log.

Each is a ``gridcore.metrics.Metric`` computed for a node's subtree over
``[start, end)``; see docs/assessment.md for the exact definitions:

* ``patrol_coverage`` (%): cells x required slots patrolled, against the
  ruleset's ``patrol`` requirement (default: every leaf cell once a day).
* ``participation`` (%): residents who took part in at least one activity.
* ``registration_completeness`` (%): registered residents whose record is
  complete (a name, and registered in a leaf cell).
* ``unresolved_serious_incidents``: incidents of severity >= the ruleset's
  ``serious`` threshold (default 4) reported before ``end`` and not resolved by then.

Values only depend on the events stored, never on their arrival order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gridcore.errors import GridcoreError
from gridcore.events import (
    ActivityRecorded,
    IncidentClosed,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    PatrolLogged,
    ResidentMoved,
    ResidentRegistered,
)
from gridcore.metrics import Metric, MetricValue

from .periods import Period, period_containing, periods_between
from .policy import AssessmentPolicy, PatrolRequirement

if TYPE_CHECKING:
    from gridcore.engine import Engine

DEFAULT_SERIOUS = 4


def node_id(node: Any) -> str:
    """A node's id, whether the hierarchy hands out ``Node`` objects or ids."""
    return node if isinstance(node, str) else str(node.id)


def subtree(engine: Engine, root: str) -> set[str]:
    """``root`` and every node below it."""
    below = engine.community.hierarchy.descendants(root)
    return {root} | {node_id(n) for n in below}


def policy_at(engine: Engine, when: datetime) -> AssessmentPolicy | None:
    """The assessment policy in force at ``when`` (None without a ruleset or section)."""
    ruleset = engine.ruleset_at(when)
    if ruleset is None:
        return None
    section = ruleset.section("assessment")
    if isinstance(section, AssessmentPolicy):
        return section
    at = getattr(section, "at", None)
    if at is None:
        return None
    policy = at(when.astimezone(engine.community.tz).date())
    return policy if isinstance(policy, AssessmentPolicy) else None


def patrol_cells(engine: Engine, root: str, level: str | None) -> list[str]:
    """The cells whose patrols are counted under ``root``: nodes at ``level``, or leaves."""
    hierarchy = engine.community.hierarchy
    inside = subtree(engine, root)
    if level is None:
        return sorted(n for n in inside if hierarchy.is_cell(n))
    if hierarchy.level_index(hierarchy.node(root).level) > hierarchy.level_index(level):
        return [root]  # the node is itself inside one cell: it is its own cell
    return sorted(n for n in inside if hierarchy.node(n).level == level)


def patrol_coverage(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of required patrols done: each cell, each slot, up to ``times`` per slot."""
    policy = policy_at(engine, start)
    requirement = policy.patrol if policy is not None and policy.patrol is not None else None
    times = requirement.times if requirement else 1
    per = requirement.per if requirement else "day"
    level = requirement.level if requirement else None
    cells = patrol_cells(engine, root, level)
    tz = engine.community.tz
    slots = list(periods_between(per, start, end, tz))
    if not cells or not slots:
        return None
    hierarchy = engine.community.hierarchy
    cell_set = set(cells)
    counts: Counter[tuple[str, str]] = Counter()
    patrols = 0
    for event in _events(engine, ["patrol_logged"], start, end):
        assert isinstance(event, PatrolLogged)
        chain = [event.node] + [node_id(n) for n in hierarchy.ancestors(event.node)]
        cell = next((c for c in chain if c in cell_set), None)
        if cell is None:
            continue
        patrols += 1
        counts[(cell, period_containing(per, event.time, tz).label)] += 1
    # a slot cut by the period's edges (the week of 1 January) needs its share, rounded up
    needed = {s.label: _prorated(times, s, start, end) for s in slots}
    done = sum(min(n, needed[slot]) for (_, slot), n in counts.items())
    required = len(cells) * sum(needed.values())
    return MetricValue(
        round(100.0 * done / required, 6),
        {
            "cells": len(cells),
            "slots": len(slots),
            "required per slot": f"{times} per {per}",
            "patrols counted": patrols,
            "patrols credited": done,
            "patrols required": required,
            "requirement": str(_rule(requirement)),
        },
    )


def _prorated(times: int, slot: Period, start: datetime, end: datetime) -> int:
    utc = UTC
    whole = (slot.end.astimezone(utc) - slot.start.astimezone(utc)).total_seconds()
    inside = (min(slot.end, end).astimezone(utc) - max(slot.start, start).astimezone(utc)).total_seconds()
    return max(1, math.ceil(times * inside / whole - 1e-9))


def population(engine: Engine, end: datetime) -> dict[str, tuple[str, str]]:
    """Registered residents as they stood at ``end``: person -> (node, name)."""
    cache = _cache(engine)
    if cache is not None and ("population", end) in cache:
        return cache[("population", end)]  # type: ignore[no-any-return]
    people: dict[str, tuple[str, str]] = {}
    for event in _events(engine, ["resident_registered", "resident_moved"], None, end):
        if isinstance(event, ResidentRegistered):
            people[event.person] = (event.node, event.name)
        elif isinstance(event, ResidentMoved) and event.person in people:
            people[event.person] = (event.node, people[event.person][1])
    if cache is not None:
        cache[("population", end)] = people
    return people


def participation(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the subtree's residents who took part in at least one activity.

    Residents are the people registered there (as at ``end``) and roster members
    whose home is there.
    """
    inside = subtree(engine, root)
    residents = {p for p, (node, _) in population(engine, end).items() if node in inside}
    residents |= {
        m.id for m in _members(engine) if getattr(m, "home", None) and m.home in inside
    }
    if not residents:
        return None
    joined = set()
    for event in _events(engine, ["activity_recorded"], start, end):
        assert isinstance(event, ActivityRecorded)
        if event.participant in residents:
            joined.add(event.participant)
    return MetricValue(
        round(100.0 * len(joined) / len(residents), 6),
        {"residents": len(residents), "took part": len(joined)},
    )


def registration_completeness(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of registered residents (as at ``end``) with a complete record.

    Complete: a name is recorded and the resident is registered in a leaf cell
    (every person belongs to exactly one leaf cell).
    """
    inside = subtree(engine, root)
    hierarchy = engine.community.hierarchy
    registered = [(node, name) for node, name in population(engine, end).values() if node in inside]
    if not registered:
        return None
    complete = sum(1 for node, name in registered if name.strip() and hierarchy.is_cell(node))
    return MetricValue(
        round(100.0 * complete / len(registered), 6),
        {"registered": len(registered), "complete": complete},
    )


def unresolved_serious_incidents(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue:
    """Incidents located in the subtree, severity >= the serious threshold, open at ``end``."""
    policy = policy_at(engine, start)
    threshold = policy.serious_severity if policy is not None else DEFAULT_SERIOUS
    inside = subtree(engine, root)
    serious: set[str] = set()
    open_now: set[str] = set()
    kinds = ["incident_reported", "incident_resolved", "incident_closed", "incident_reopened"]
    for event in _events(engine, kinds, None, end):
        if isinstance(event, IncidentReported):
            if event.node in inside and event.severity >= threshold:
                serious.add(event.incident)
                open_now.add(event.incident)
        elif isinstance(event, (IncidentResolved, IncidentClosed)):
            open_now.discard(event.incident)
        elif isinstance(event, IncidentReopened) and event.incident in serious:
            open_now.add(event.incident)
    return MetricValue(
        float(len(open_now)),
        {"serious severity": f">= {threshold}", "open": ", ".join(sorted(open_now)) or "none"},
    )


def _events(engine: Engine, kinds: list[str], start: datetime | None, end: datetime) -> Iterable[Any]:
    """Stored events of ``kinds`` in ``[start, end)``, read once per assessment.

    Rating every node of a district asks for the same slices again and again;
    they are kept on the engine's assessment state until the store grows.
    """
    cache = _cache(engine)
    if cache is None:
        return engine.events(kinds=kinds, since=start, until=end)
    key = ("events", tuple(kinds), start, end)
    if key not in cache:
        cache[key] = list(engine.events(kinds=kinds, since=start, until=end))
    return cache[key]  # type: ignore[no-any-return]


def _cache(engine: Engine) -> dict[tuple[Any, ...], Any] | None:
    try:
        state = engine.state("assessment")
    except GridcoreError:
        return None
    cache = getattr(state, "cache", None)
    if not isinstance(cache, dict):
        return None
    size = engine.store.count()
    if cache.get("size") != size:
        cache.clear()
        cache["size"] = size
    return cache


def _members(engine: Engine) -> list[Any]:
    return list(engine.community.members.values())


def _rule(requirement: PatrolRequirement | None) -> str:
    if requirement is None:
        return "default: every leaf cell once a day"
    return f"{requirement.rule} {requirement.rule.text.strip()}".strip()


METRICS = [
    Metric("patrol_coverage", "Patrol coverage", "%", patrol_coverage, title_zh="巡查覆盖率"),
    Metric("participation", "Residents' participation in activities", "%", participation,
           title_zh="居民活动参与率"),
    Metric("registration_completeness", "Registration completeness", "%", registration_completeness,
           title_zh="登记完整率"),
    Metric("unresolved_serious_incidents", "Unresolved serious incidents", "incidents",
           unresolved_serious_incidents, title_zh="未解决重大事件", higher_is_better=False),
]  # fmt: skip
