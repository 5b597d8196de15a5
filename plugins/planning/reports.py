"""``planning.sizes``: every planned cell with its households and people against the plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from gridcore import Report, Table
from gridcore.reports import Showcase

from .headings import HEADINGS_ZH
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine


#: The status of every cell when no household is on record anywhere.
NOT_COUNTED = "not counted: no households on record (未登记户)"


def sizes_table(engine: Engine) -> Table:
    """One row per territorial cell of a planned level: households and people now (the register), in plan or not.

    Each cell is held to the plan of the ruleset governing it (a community's variant may plan its grids
    otherwise); the levels come in the order the whole tree's ruleset plans them, then any other.
    """
    now = engine.clock.now()
    policy = engine.policy(SECTION, at=now)
    community, register = engine.community, engine.households
    rows = []
    levels = [size.level for size in policy.sizes] if policy is not None else []
    levels += [level for level in community.hierarchy.levels if level not in levels]
    # a roster that keeps no household records (Yinzhou's: docs/rulesets.md), and no event that brought one in,
    # says nothing about sizes: its cells are not counted, as `gridcore check` does not warn of them
    counted = bool(register.households)
    for level in levels:
        if level not in community.hierarchy.levels:
            continue
        for node in community.hierarchy.nodes_at(level):
            if node.is_side_grid:
                continue
            governing = engine.policy(SECTION, at=now, node=node.id)
            size = next((s for s in governing.sizes if s.level == level), None) if governing is not None else None
            if size is None:
                continue
            counts = register.counts(node.id)
            off = [what for what, planned, count in (("households", size.households, counts.households),
                                                     ("people", size.people, counts.population))
                   if planned is not None and not size.bounds(planned)[0] <= count <= size.bounds(planned)[1]]
            status = NOT_COUNTED if not counted else ("off plan: " + ", ".join(off) if off else "in plan")
            rows.append((node.id, node.name, size.level, counts.households, size.households, counts.population,
                         size.people, status, str(size.rule)))
    columns = ("node", "name", "level", "households", "planned households", "people", "planned people", "status",
               "rule")
    notes: tuple[str, ...] = () if rows else (
        ("note: the ruleset in force plans no level's size (planning: size LEVEL: ...) "
        "(生效的规则集没有规划网格规模：网格规划：规模 层级：……)"),)
    if rows and not counted:
        notes = (("note: no household is on record (the roster keeps no households.csv and no event brought one "
                  "in), so no cell is counted against the plan (花名册未登记户，不按规划核对)"),)
    return Table("Cells against their planned size (网格规划)", columns, tuple(rows), notes, headings=HEADINGS_ZH)


def _build(engine: Engine, params: Mapping[str, str]) -> Table:
    return sizes_table(engine)


#: A cell's status in Chinese (the ``status`` column's values; ``NOT_COUNTED`` says its own).
STATUS_ZH = {"in plan": "符合规划", "off plan: households": "户数偏离规划", "off plan: people": "人数偏离规划",
             "off plan: households, people": "户数和人数偏离规划"}


#: A cell not counted, as staff reading Chinese see it (``NOT_COUNTED`` is a sentence, not an id).
NOT_COUNTED_ZH = "不计：未登记户"


def in_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    """``sizes_table`` as staff read it in Chinese (``--lang zh``): a level as the community names it
    (``网格 grid``), a cell's status in Chinese (``符合规划 in plan``), a cell not counted said in Chinese
    alone (``不计：未登记户``); English keeps the ids and its sentence."""
    at = table.columns.index("status")
    rows = tuple(row[:at] + (NOT_COUNTED_ZH,) + row[at + 1:] if row[at] == NOT_COUNTED else row for row in table.rows)
    return attrs.evolve(table, rows=rows, values={**table.values, "level": dict(engine.community.level_names),
                                                  "status": STATUS_ZH})


REPORTS = (
    Report("planning.sizes", "Every planned cell's households and people against the plan (网格规划：户数和人数对照规划)", _build,
           showcase=Showcase(heading="Households and people against the planned grid size (网格规划): {rows} cells",
                             heading_zh="网格规划（户数和人数对照规划规模）：{rows} 个网格",
                             rows=8, title=False, empty="none: the ruleset plans no grid size (无：规则集没有规划网格规模)",
                             columns=("node", "name", "households", "planned households", "people",
                                      "planned people", "status"), order=58),
           chinese=in_chinese),
)
