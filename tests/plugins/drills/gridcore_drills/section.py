"""The ``drills`` / ``消防演练`` section: which drills each cell at a level must hold, how often.

::

    drills:
      drill fire: grid 1 time per quarter, at least 20 people
    消防演练：
      演练 疏散：单元 每 年 2 次，至少 10 人

Each item names a drill, the level whose every cell must hold it, how many
times per period, and (optionally) how many people must take part for a
drill to count.  Dated versions work as in every section
(``from 2026-01-01: grid 2 times per quarter``).
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from gridcore.explain import RuleRef
from gridcore.rules import CompileContext, Item, ItemKind, Name, Node, Section, Value

NAME = "drills"

GRAMMAR = r"""
drills_rule: name number _DRILLS_TIMES _PER period drills_least?
           | name _PER period number _DRILLS_TIMES drills_least?
drills_least: _COMMA _DRILLS_AT_LEAST number _DRILLS_PEOPLE
"""

KEYWORDS = {
    "DRILLS_TIMES": ("times", "time", "次"),
    "DRILLS_AT_LEAST": ("at least", "至少"),
    "DRILLS_PEOPLE": ("people", "person", "人"),
}


@frozen
class Requirement:
    """Every cell at ``level`` holds ``drill`` ``count`` times per ``period``, with ``least`` people or more."""

    drill: str
    level: str
    count: int
    period: str
    least: int
    rule: RuleRef


@frozen
class DrillsPolicy:
    """The drills a ruleset requires (on one day)."""

    requirements: tuple[Requirement, ...]

    def requirement(self, drill: str) -> Requirement | None:
        """The requirement for ``drill``, if the ruleset names it."""
        for requirement in self.requirements:
            if requirement.drill == drill:
                return requirement
        return None


def compile_drills(items: Sequence[Item], ctx: CompileContext) -> DrillsPolicy:
    """``Section.compile``: one ``Requirement`` per item; problems go to ``ctx.error``."""
    found = []
    for item in items:
        body = item.body
        level, count, period, least = body.first("name"), body.first("number"), body.first("period"), None
        extra = body.first("drills_least")
        if isinstance(extra, Node):
            least = extra.first("number")
        if not (isinstance(level, Name) and isinstance(count, Value) and isinstance(period, Value)
                and item.name is not None):
            continue  # the parser has already reported what is missing
        if not ctx.known("level", level):
            continue
        times = count.value
        if not isinstance(times, int) or times < 1:
            ctx.error(count, "a drill is held a whole number of times, at least once",
                      "演练次数须为正整数", fix="write e.g. '1 time per quarter'", fix_zh="例如：每 季度 1 次")
            continue
        people = least.value if isinstance(least, Value) else 0
        found.append(Requirement(item.name.text, ctx.level_id(level.text) or level.text, times,
                                 str(period.value), int(people), ctx.ref(item)))
    return DrillsPolicy(tuple(found))


SECTION: Section[DrillsPolicy] = Section(
    name=NAME,
    headers=("drills", "消防演练"),
    items=(ItemKind("drill", ("drill", "演练"), body="drills_rule",
                    doc="a drill every cell at a level must hold, how often, with how many people",
                    doc_zh="某层级每个网格须举行的演练、频次与最少人数"),),
    grammar=GRAMMAR,
    compile=compile_drills,
    keywords=KEYWORDS,
    vocabularies={"drill": "drill"},
    doc="Drills (消防演练): which drills each cell must hold, how often, with how many people.",
    doc_zh="消防演练：每个网格须举行哪些演练、多久一次、至少多少人参加。",
)
