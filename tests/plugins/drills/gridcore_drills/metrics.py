"""``drill_coverage`` (演练完成率): the share of required drills held in a node's subtree over a period."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore.metrics import Metric, MetricValue
from gridcore.periods import periods_between

from .events import DrillHeld
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine


def drill_coverage(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Required drills held in ``[start, end)`` (each cell's count capped at what it owes), in percent.

    The requirements are those in force at ``start``; a drill counts when it
    had at least the required number of people.  None when nothing is required
    under ``node``.
    """
    policy = engine.policy(SECTION, at=start)
    if policy is None or not policy.requirements:
        return None
    hierarchy, tz = engine.community.hierarchy, engine.community.tz
    held: Counter[tuple[str, str]] = Counter()
    for event in engine.events(kinds=[DrillHeld.kind], since=start, until=end):
        assert isinstance(event, DrillHeld)
        wanted = policy.requirement(event.drill)
        if wanted is not None and event.participants >= wanted.least:
            held[(event.drill, event.node)] += 1
    owed = done = 0
    for wanted in policy.requirements:
        periods = sum(1 for _ in periods_between(wanted.period, start, end, tz))
        cells = [n.id for n in hierarchy.nodes_at(wanted.level) if hierarchy.is_within(n.id, node)]
        for cell in cells:
            count = sum(k for (drill, where), k in held.items()
                        if drill == wanted.drill and hierarchy.is_within(where, cell))
            owed += wanted.count * periods
            done += min(count, wanted.count * periods)
    if owed == 0:
        return None
    return MetricValue(Fraction(100 * done, owed), {"drills held": done, "drills required": owed})


METRICS = (Metric("drill_coverage", "Required drills held", "%", drill_coverage, title_zh="演练完成率",
                  inputs_zh={"drills held": "已举行演练", "drills required": "应举行演练"}),)
