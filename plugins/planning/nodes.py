"""The planning section's syntax tree: typed, frozen parts built from planning.lark."""

from __future__ import annotations

from typing import Any

from gridcore.rules import Pos, Value

from .policy import Part


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
