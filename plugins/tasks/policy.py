"""The tasks policy: what a ruleset's ``tasks`` section compiles to.

Frozen attrs facts only; each kind of task carries the ``RuleRef`` of the line
that declared it, so a refusal, an overdue assignment or a rate can name it.
"""

from __future__ import annotations

from datetime import timedelta

from gridcore.classes import frozen
from gridcore.explain import RuleRef

#: Who may assign a task when its line says nothing (held at or above the task's node).
DEFAULT_ASSIGNERS = ("grid_leader", "master_grid_leader")


@frozen
class TaskKind:
    """A kind of task the community runs: how long it may take, who assigns it, to whom it goes."""

    name: str
    rule: RuleRef
    #: the time allowed when an assignment gives no deadline (None: it must give one)
    within: timedelta | None = None
    #: roles that may assign it, held at or above the task's node
    by: tuple[str, ...] = DEFAULT_ASSIGNERS
    #: roles it goes to when an assignment names none
    to: tuple[str, ...] = ()


@frozen
class TasksPolicy:
    """Every kind of task a ruleset declares (on one day)."""

    kinds: tuple[TaskKind, ...] = ()

    def kind(self, name: str) -> TaskKind | None:
        """The kind called ``name``, if the ruleset declares it."""
        for kind in self.kinds:
            if kind.name == name:
                return kind
        return None

    def names(self) -> list[str]:
        """The names of the kinds, as written."""
        return [kind.name for kind in self.kinds]
