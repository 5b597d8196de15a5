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
check`` (checks.py), never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

import gridcore
from gridcore.explain import RuleRef
from gridcore.rules import CompileContext, Item, ItemKind, Pos, Section, Value
from gridcore.rules.ast import NOWHERE

NAME = "planning"

KEYWORDS: dict[str, tuple[str, ...]] = {
    "PLAN_HOUSEHOLDS": ("households", "household", "户"),
    "PLAN_PEOPLE": ("people", "persons", "人"),
    "PLAN_WITHIN": ("within", "上下浮动", "浮动"),
}

#: How far a cell may be off its planned size when the line does not say.
DEFAULT_TOLERANCE = 0.5


@frozen
class Part:
    """One part of a ``size`` line: ``households``, ``people`` or ``within`` and its number."""

    what: str
    value: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Size:
    """The cells of ``level`` should hold about ``households`` households and ``people`` people."""

    level: str
    rule: RuleRef
    households: int | None = None
    people: int | None = None
    tolerance: float = DEFAULT_TOLERANCE

    def bounds(self, planned: int) -> tuple[float, float]:
        """The least and most a cell may hold for a planned number."""
        return planned * (1 - self.tolerance), planned * (1 + self.tolerance)


@frozen
class PlanningPolicy:
    """The planned sizes a ruleset sets, by level."""

    sizes: tuple[Size, ...] = ()


class PlanningNodes:
    """The transformer of the section: one method per alias of planning.lark."""

    def planning_size(self, c: list[Any], pos: Pos) -> tuple[Part, ...]:
        return tuple(p for p in c if isinstance(p, Part))

    def planning_households(self, c: list[Any], pos: Pos) -> Part:
        return Part("households", float(c[0].value), pos)

    def planning_people(self, c: list[Any], pos: Pos) -> Part:
        return Part("people", float(c[0].value), pos)

    def planning_within(self, c: list[Any], pos: Pos) -> Part:
        value = next(v for v in c if isinstance(v, Value))
        return Part("within", float(value.value), pos)


def compile_planning(items: Sequence[Item], ctx: CompileContext) -> PlanningPolicy:
    """``Section.compile``: one ``Size`` per item; problems go to ``ctx.error``."""
    sizes = []
    for item in items:
        if item.name is None or not isinstance(item.body, tuple):
            continue
        level = ctx.level_id(item.name.text)
        if level is None:
            ctx.known("level", item.name)
            continue
        found: dict[str, float] = {}
        for part in item.body:
            if part.what in found:
                ctx.error(part, f"'{part.what}' is written twice", f"“{part.what}”写了两次", fix="keep one")
                break
            found[part.what] = part.value
        else:
            size = _size(level, found, ctx, item)
            if size is not None:
                sizes.append(size)
    return PlanningPolicy(tuple(sizes))


def _size(level: str, found: dict[str, float], ctx: CompileContext, item: Item) -> Size | None:
    if "households" not in found and "people" not in found:
        ctx.error(item, "say how many households or people a cell is planned for, e.g. 300 households",
                  "请写明每个网格规划的户数或人数，如 300 户", fix="write e.g. size grid: 300 households, 1000 people")
        return None
    for what in ("households", "people"):
        if what in found and (found[what] < 1 or not found[what].is_integer()):
            ctx.error(item, f"a planned number of {what} is a whole number, at least 1",
                      "规划户数、人数须为正整数")
            return None
    tolerance = found.get("within", DEFAULT_TOLERANCE)
    if not 0 < tolerance < 1:
        ctx.error(item, "'within' is a share between 0% and 100%, e.g. within 50%", "浮动比例须在 0% 与 100% 之间")
        return None
    households, people = found.get("households"), found.get("people")
    return Size(level, ctx.ref(item), None if households is None else int(households),
                None if people is None else int(people), tolerance)


SECTION: Section[PlanningPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("planning", "网格规划"),
    items=(ItemKind("size", ("size", "规模"), "planning_size", names=("level",),
                    doc="the planned households and people of each cell of a level, and how far off a cell may be",
                    doc_zh="某层级每个网格的规划户数、人数及允许浮动比例"),),
    grammar=Path(__file__).with_name("planning.lark").read_text(encoding="utf-8"),
    compile=compile_planning,
    transformer=PlanningNodes(),
    keywords=KEYWORDS,
    doc="Grid planning (网格规划): the planned size of the cells of a level, in households and people.",
)
