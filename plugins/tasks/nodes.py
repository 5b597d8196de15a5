"""The tasks section's syntax tree: typed, frozen nodes built from tasks.lark.

``TaskNodes`` is the section's transformer (``Section.transformer``): one
method per rule or alias of the fragment, each given that rule's children
(the core's ``Name`` and ``Value`` nodes, or the nodes below) and its
position.  The compiler reads these nodes with ``isinstance``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.rules import Name, Pos, Value
from gridcore.rules.ast import NOWHERE


@frozen
class Within:
    """``within 7 days`` / ``限时 7 天``: the time allowed."""

    span: timedelta
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class By:
    """``by grid_leader or master_grid_leader`` / ``由 网格长 下达``: who may assign."""

    roles: tuple[Name, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class To:
    """``to fulltime_gridworker, parttime_gridworker`` / ``派给 专职网格员``: to whom it goes."""

    roles: tuple[Name, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Rule:
    """The body of a ``task`` item: its parts in the order written."""

    parts: tuple[Within | By | To, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


class TaskNodes:
    """The transformer of the tasks section: one method per rule or alias of tasks.lark."""

    def tasks_rule(self, c: list[Any], pos: Pos) -> Rule:
        return Rule(tuple(p for p in c if isinstance(p, Within | By | To)), pos)

    def tasks_within(self, c: list[Any], pos: Pos) -> Within:
        span = next(v.value for v in c if isinstance(v, Value) and v.kind == "duration")
        return Within(span, pos)

    def tasks_by(self, c: list[Any], pos: Pos) -> By:
        return By(tuple(n for n in c if isinstance(n, Name)), pos)

    def tasks_to(self, c: list[Any], pos: Pos) -> To:
        return To(tuple(n for n in c if isinstance(n, Name)), pos)
