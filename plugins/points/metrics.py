"""The points plugin's metric: ``points_per_resident`` (what assessments may score)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore.metrics import Metric, MetricValue

from . import api, ledger

if TYPE_CHECKING:
    from gridcore import Engine


def _points_per_resident(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    hierarchy = engine.community.hierarchy
    people = {
        member.id
        for member in engine.community.members.values()
        if member.home and member.home in hierarchy and hierarchy.is_within(member.home, node)
    }
    people |= {p for p, home in engine.residents().items() if home in hierarchy and hierarchy.is_within(home, node)}
    if not people:
        return None
    the_state = api.state(engine)
    now = engine.clock.now()
    booked = [record.entry for record in the_state.booked(start, end)]
    for account in the_state.views(min(end, now)):
        booked.extend(record.entry for record in account.extras)
    earned = sum(
        e.amount
        for e in booked
        if e.kind in ledger.CREDITS and start <= e.time < end and e.node in hierarchy
        and hierarchy.is_within(e.node, node)
    )
    return MetricValue(Fraction(earned, len(people)), {"points_earned": earned, "residents": len(people)})


def points_per_resident() -> Metric:
    """Points earned in a node's subtree over the period, per resident living there."""
    return Metric(
        name="points_per_resident",
        title="points earned per resident",
        unit="points",
        unit_zh="分",
        compute=_points_per_resident,
        title_zh="人均积分",
        inputs_zh={"points_earned": "获得积分", "residents": "居民数"},
    )
