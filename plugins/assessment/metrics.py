"""The metrics the assessment plugin contributes, computed from the event log.

Each is a ``gridcore.metrics.Metric`` computed for a node's subtree over
``[start, end)``; see docs/assessment.md for the exact definitions:

* ``patrol_coverage`` (%): cells x required slots patrolled, against the
  ruleset's ``patrol`` requirement (default: every cell once a day).
* ``participation`` (%): people who took part in at least one activity, of the
  population on record (the households' people) when the community keeps
  households, else of the residents known (``registered_participation``).
* ``registered_participation`` (%): residents known (registered, or roster
  members at home there) who took part, of those residents.
* ``registration_completeness`` (%): registered residents whose record is
  complete (a name, and registered in a cell).
* ``household_registration`` (%): households on record (as at ``end``) with at
  least one person registered by name, of the households on record.
* ``visit_coverage`` (%): households looked after (包联户, as at ``end``)
  that were visited at home in the period, of those looked after.
* ``carers_visited_all`` (%): members looking after households (包联户) in the
  subtree who visited every one of them themselves in the period, of all such
  members; ``carers_not_visited_all`` counts the others.  A ladder condition
  ``carers_visited_all == 100`` says "every member visited every household
  they look after this period".
* ``unresolved_serious_incidents``: incidents of severity >= the ruleset's
  ``serious`` threshold (default 4) reported before ``end`` and not resolved by then
  (a repeat report joined to an incident, ``repeat_report_joined``, counts through it).

Values only depend on the events stored, never on their arrival order, and
are exact (``Fraction``); they are rounded only where they are shown.  The
log is read through ``logindex`` (once per assessment, indexed by node).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore.events import PatrolLogged
from gridcore.metrics import Metric, MetricValue
from gridcore.periods import Period, period_containing, periods_between

from . import logindex
from .headings import METRIC_INPUTS_ZH
from .logindex import node_id, subtree
from .policy import AssessmentPolicy, PatrolRequirement
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine

DEFAULT_SERIOUS = 4

__all__ = ["METRICS", "node_id", "patrol_cells", "policy_at", "subtree"]


def policy_at(engine: Engine, when: datetime, node: str | None = None) -> AssessmentPolicy | None:
    """The assessment policy in force at ``when`` for ``node`` (the ruleset of the nearest subtree
    around it with one in force; None: the whole tree's), or None without a ruleset or section."""
    return engine.policy(SECTION, at=when, node=node)


def patrol_cells(engine: Engine, root: str, level: str | None) -> list[str]:
    """The cells whose patrols are counted under ``root``: nodes at ``level``, or the cells."""
    hierarchy = engine.community.hierarchy
    inside = subtree(engine, root)
    if level is None:
        return sorted(n for n in inside if hierarchy.is_cell(n))
    if hierarchy.level_index(hierarchy.node(root).level) > hierarchy.level_index(level):
        return [root]  # the node is itself inside one cell: it is its own cell
    return sorted(n for n in inside if hierarchy.node(n).level == level)


def patrol_coverage(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of required patrols done: each cell, each slot, up to ``times`` per slot."""
    policy = policy_at(engine, start, root)
    requirement = policy.patrol if policy is not None else None
    times = requirement.times if requirement else 1
    per = requirement.per if requirement else "day"
    level = requirement.level if requirement else None
    cells = patrol_cells(engine, root, level)
    # each slot's label and patrols needed (the same for every node rated over the period)
    needed = logindex.memo(engine, ("patrol slots", per, times, start, end), lambda: _needed(engine, per, times,
                                                                                              start, end))
    if not cells or not needed:
        return None
    if cells == [root] and level is not None and engine.community.hierarchy.node(root).level != level:
        tally = _tally_below(engine, root, start, end, per)
    else:
        tally = logindex.patrol_tally(engine, start, end, per, level)
    counted = sum(tally.get((cell, slot), 0) for cell in cells for slot in needed)
    done = sum(min(tally.get((cell, slot), 0), n) for cell in cells for slot, n in needed.items())
    required = len(cells) * sum(needed.values())
    return MetricValue(
        Fraction(100 * done, required),
        {
            "cells": len(cells),
            "slots": len(needed),
            "required per slot": f"{times} per {per}",
            "patrols counted": counted,
            "patrols credited": done,
            "patrols required": required,
            "requirement": str(_rule(requirement)),
        },
    )


def _needed(engine: Engine, per: str, times: int, start: datetime, end: datetime) -> dict[str, int]:
    """Slot label -> patrols needed in it, for each slot of kind ``per`` overlapping ``[start, end)``: a slot
    cut by the period's edges (the week of 1 January) needs its share, rounded up."""
    return {s.label: _prorated(times, s, start, end) for s in periods_between(per, start, end, engine.community.tz)}


def _tally_below(engine: Engine, root: str, start: datetime, end: datetime, per: str) -> dict[tuple[str, str], int]:
    """Patrols in ``root``'s subtree by slot, for a node below the level patrols are required at."""
    inside = set(subtree(engine, root))
    tally: dict[tuple[str, str], int] = {}
    for event in logindex.events(engine, ["patrol_logged"], start, end):
        assert isinstance(event, PatrolLogged)
        if event.node in inside:
            key = (root, period_containing(per, event.time, engine.community.tz).label)
            tally[key] = tally.get(key, 0) + 1
    return tally


def _prorated(times: int, slot: Period, start: datetime, end: datetime) -> int:
    whole = (slot.end.astimezone(UTC) - slot.start.astimezone(UTC)).total_seconds()
    inside = (min(slot.end, end).astimezone(UTC) - max(slot.start, start).astimezone(UTC)).total_seconds()
    return max(1, math.ceil(times * inside / whole - 1e-9))


def participation(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the subtree's people who took part in at least one activity.

    A community that keeps households (some on record at ``end``) divides by
    the population on record there (the households' people, as at ``end``),
    the base a grid is planned by, not whoever happens to be registered; one
    that keeps none divides by the residents known (``registered_participation``).
    """
    register = logindex.households_at(engine, end)
    if not register.households:
        return registered_participation(engine, root, start, end)
    population = register.counts(root).population
    if not population:
        return None
    living = _residents(engine, root, end)
    inside = {h.id for h in register.households_in(root)}
    living |= {r.id for r in register.residents.values() if r.household in inside}
    joined = living & logindex.participants(engine, start, end)
    inputs: dict[str, object] = {"people on record": population, "took part": len(joined)}
    if len(joined) > population:
        # shown, never cut to 100: the households' head counts are behind the people known by name
        inputs["note"] = "more took part than people on record: the households' counts are out of date (户人口未更新)"
    return MetricValue(Fraction(100 * len(joined), population), inputs)


def registered_participation(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the subtree's residents known by the engine who took part in at least one activity.

    Residents are the people registered there (as at ``end``) and roster members
    whose home is there.
    """
    residents = _residents(engine, root, end)
    if not residents:
        return None
    joined = residents & logindex.participants(engine, start, end)
    return MetricValue(
        Fraction(100 * len(joined), len(residents)),
        {"residents": len(residents), "took part": len(joined)},
    )


def _residents(engine: Engine, root: str, end: datetime) -> set[str]:
    """The people registered in the subtree (as at ``end``) and roster members whose home is there."""
    index = logindex.residents_by_node(engine, end)
    residents: set[str] = set()
    for node in subtree(engine, root):
        residents |= index.get(node, set())
    return residents


def registration_completeness(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of registered residents (as at ``end``) with a complete record.

    Complete: a name is recorded and the resident is registered in a cell
    (every person belongs to exactly one cell).
    """
    hierarchy = engine.community.hierarchy
    index = logindex.registrations_by_node(engine, end)
    registered = complete = 0
    for node in subtree(engine, root):
        people = index.get(node, [])
        registered += len(people)
        if people and hierarchy.is_cell(node):
            complete += sum(1 for _, name in people if name.strip())
    if not registered:
        return None
    return MetricValue(
        Fraction(100 * complete, registered),
        {"registered": registered, "complete": complete},
    )


def household_registration(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the subtree's households on record (at ``end``) with someone registered by name.

    The denominator is the households on record (the roster's, kept up to
    date by moves and splits), not whoever happens to be registered.
    """
    register = logindex.households_at(engine, end)
    households = register.households_in(root)
    if not households:
        return None
    named = {r.household for r in register.residents.values()}
    registered = sum(1 for h in households if h.id in named)
    return MetricValue(
        Fraction(100 * registered, len(households)),
        {"households on record": len(households), "registered": registered},
    )


def visit_coverage(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the subtree's households looked after (包联户) that were visited in the period."""
    register = logindex.households_at(engine, end)
    inside = {h.id for h in register.households_in(root)}
    assigned = {h for households in register.carers().values() for h in households if h in inside}
    if not assigned:
        return None
    seen = assigned & logindex.visited(engine, start, end)
    missed = sorted(assigned - seen)
    return MetricValue(
        Fraction(100 * len(seen), len(assigned)),
        {"households assigned": len(assigned), "visited": len(seen),
         "not visited": ", ".join(missed[:10]) + (" ..." if len(missed) > 10 else "") or "none"},
    )


def _carers(engine: Engine, root: str, start: datetime, end: datetime) -> dict[str, list[str]] | None:
    """Member -> the households under ``root`` they look after (as at ``end``) and did not visit themselves."""
    register = logindex.households_at(engine, end)
    inside = {h.id for h in register.households_in(root)}
    seen = logindex.visits_by(engine, start, end)
    missed = {member: [h for h in households if h in inside and (member, h) not in seen]
              for member, households in register.carers().items() if inside.intersection(households)}
    return missed or None


def _who_missed(missed: dict[str, list[str]]) -> str:
    said = [f"{m} ({', '.join(hs[:5])}{' ...' if len(hs) > 5 else ''})" for m, hs in sorted(missed.items()) if hs]
    return "; ".join(said[:10]) + (" ..." if len(said) > 10 else "") or "none"


def carers_visited_all(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the members looking after households in the subtree who visited every one of them."""
    missed = _carers(engine, root, start, end)
    if missed is None:
        return None
    done = sum(1 for households in missed.values() if not households)
    return MetricValue(Fraction(100 * done, len(missed)),
                       {"members looking after households": len(missed), "visited all": done,
                        "not all visited": _who_missed(missed)})


def carers_not_visited_all(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue:
    """How many members looking after households in the subtree left one of them unvisited in the period."""
    missed = _carers(engine, root, start, end) or {}
    short = sum(1 for households in missed.values() if households)
    return MetricValue(Fraction(short), {"members": short, "not all visited": _who_missed(missed)})


def unresolved_serious_incidents(engine: Engine, root: str, start: datetime, end: datetime) -> MetricValue:
    """Incidents located in the subtree, severity >= the serious threshold, open at ``end``."""
    policy = policy_at(engine, start, root)
    threshold = policy.serious_severity if policy is not None else DEFAULT_SERIOUS
    index = logindex.open_serious(engine, end, threshold)
    open_now = sorted(i for node in subtree(engine, root) for i in index.get(node, []))
    return MetricValue(
        Fraction(len(open_now)),
        {"serious severity": f">= {threshold}", "open": ", ".join(open_now) or "none"},
    )


def _rule(requirement: PatrolRequirement | None) -> str:
    if requirement is None:
        return "default: every leaf cell once a day"
    return f"{requirement.rule} {requirement.rule.text.strip()}".strip()


METRICS = [
    Metric("patrol_coverage", "Patrol coverage", "%", patrol_coverage, title_zh="巡查覆盖率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("participation", "Residents' participation in activities", "%", participation,
           title_zh="居民活动参与率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("registered_participation", "Registered residents' participation in activities", "%",
           registered_participation, title_zh="登记居民活动参与率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("registration_completeness", "Registration completeness", "%", registration_completeness,
           title_zh="登记完整率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("household_registration", "Households registered", "%", household_registration,
           title_zh="户登记率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("visit_coverage", "Home visits to households looked after", "%", visit_coverage,
           title_zh="入户走访覆盖率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("carers_visited_all", "Members who visited every household they look after", "%",
           carers_visited_all, title_zh="包联户走访到位率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("carers_not_visited_all", "Members who left a household they look after unvisited", "members",
           carers_not_visited_all, title_zh="包联户走访未到位人数", inputs_zh=METRIC_INPUTS_ZH, higher_is_better=False,
           unit_zh="人"),
    Metric("unresolved_serious_incidents", "Unresolved serious incidents", "incidents",
           unresolved_serious_incidents, title_zh="未解决重大事件", inputs_zh=METRIC_INPUTS_ZH, higher_is_better=False,
           unit_zh="件"),
]  # fmt: skip
