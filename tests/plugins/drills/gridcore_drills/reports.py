"""``drills.held``: the drills held in each cell over a period, against what the ruleset requires."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from gridcore import Report, Table, UnknownNameError
from gridcore.periods import label_zh, parse_period
from gridcore.reports import PER_PERIOD, Showcase

from .events import DrillHeld
from .section import SECTION

#: The Chinese headings of the report's columns (``node`` and ``name`` get gridcore's own: 节点编号, 名称).
HEADINGS_ZH = {"time": "时间", "drill": "演练", "people": "参加人数", "counts": "是否计入"}

if TYPE_CHECKING:
    from gridcore import Engine


def held_table(engine: Engine, period: str) -> Table:
    """One row per drill held in ``period``: when, where, which, how many people, whether it counts."""
    span = parse_period(period, engine.community.tz)
    policy = engine.policy(SECTION, at=span.start)
    rows = []
    for event in engine.events(kinds=[DrillHeld.kind], since=span.start, until=span.end):
        assert isinstance(event, DrillHeld)
        wanted = policy.requirement(event.drill) if policy is not None else None
        counts = wanted is not None and event.participants >= wanted.least
        when = event.time.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M")
        rows.append((when, event.node, engine.community.hierarchy.node(event.node).name, event.drill,
                     event.participants, "yes" if counts else "no"))
    return Table(f"Drills held in {period} 消防演练", ("time", "node", "name", "drill", "people", "counts"),
                 tuple(rows), headings=HEADINGS_ZH, title_zh=f"消防演练，{label_zh(period)}")


def _build(engine: Engine, params: Mapping[str, str]) -> Table:
    if not params.get("period"):
        raise UnknownNameError("drills.held needs period=..., e.g. period=2025-Q1 (请指定时段，如 period=2025-Q1)")
    return held_table(engine, params["period"])


#: Whether a drill counts, in Chinese (the ``counts`` column's values).
COUNTS_ZH = {"yes": "计入", "no": "不计入"}


def in_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    """``held_table`` as staff read it in Chinese (``--lang zh``): whether each counts in Chinese
    (``计入 yes``); JSON and English keep the values as they are."""
    return attrs.evolve(table, values={**table.values, "counts": COUNTS_ZH})


REPORTS = (
    Report("drills.held", "Drills held in a period, and whether each counts (某一时段举行的消防演练及是否计入)", _build,
           ("period",), showcase=Showcase(PER_PERIOD, "Drills held (消防演练), {label}: {rows}", rows=10, order=60,
                                              heading_zh="消防演练，{label}：{rows} 次"),
           chinese=in_chinese),
)
