"""The ``planning`` / ``网格规划`` section: how big the cells of a level are planned to be.

::

    planning:
      size grid: 300 households, 1000 people, within 50%
    网格规划：
      规模 网格：300 户，1000 人，上下浮动 50%

A grid is planned by households (户) and people (Yinzhou sizes a grid at
about 300 households and 1,000 people).  Each ``size`` item names a level and
the planned households and/or people of each of its cells, with how far a
cell may be off (default 50%); a cell further off is a *warning* of ``gridcore
check`` (checks.py), never an error.  Its parts are typed nodes (nodes.py);
compiler.py makes the ``PlanningPolicy`` (policy.py) of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gridcore
from gridcore.rules import CompileContext, Item, ItemKind, Section

from .nodes import PlanningNodes
from .policy import PlanningPolicy

NAME = "planning"

KEYWORDS: dict[str, tuple[str, ...]] = {
    "PLAN_HOUSEHOLDS": ("households", "household", "户"),
    "PLAN_PEOPLE": ("people", "persons", "人"),
    "PLAN_WITHIN": ("within", "上下浮动", "浮动"),
}


def _compile(items: Sequence[Item], ctx: CompileContext) -> PlanningPolicy:
    from .compiler import compile_planning

    return compile_planning(items, ctx)


SECTION: Section[PlanningPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("planning", "网格规划"),
    items=(ItemKind("size", ("size", "规模"), "planning_size", names=("level",),
                    doc="the planned households and people of each cell of a level, and how far off a cell may be",
                    doc_zh="某层级每个网格的规划户数、人数及允许浮动比例"),),
    grammar=Path(__file__).with_name("planning.lark").read_text(encoding="utf-8"),
    compile=_compile,
    transformer=PlanningNodes(),
    keywords=KEYWORDS,
    doc="Grid planning (网格规划): the planned size of the cells of a level, in households and people.",
    doc_zh="网格规划：某层级网格的规划规模（户数和人数）。",
)
