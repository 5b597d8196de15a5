"""The tasks plugin's Python API: tasks, their progress, overdue assignments.

Read-only views over the state an engine keeps (``engine.state("tasks")``);
statuses are as at ``now`` (default: the engine's clock).
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore import UnknownNameError
from gridcore.classes import frozen
from gridcore.rules.checker import did_you_mean

from .records import Assignment, Task

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import TasksState


@frozen
class Progress:
    """Where one task stands: its assignments by status, and the share done on time."""

    task: Task
    counts: dict[str, int]

    @property
    def assigned(self) -> int:
        """How many assignments the task has."""
        return sum(self.counts.values())

    @property
    def rate(self) -> Fraction | None:
        """Assignments done on time over all (in percent, exact); None when none count (cancelled)."""
        counted = self.assigned - self.counts["cancelled"]
        return Fraction(100 * self.counts["done"], counted) if counted else None


def state(engine: Engine) -> TasksState:
    """The tasks state attached to ``engine``."""
    found: TasksState = engine.state("tasks")
    return found


def task(engine: Engine, ident: str) -> Task:
    """The task ``ident``; ``UnknownNameError`` (with a did-you-mean) when it was never assigned."""
    kept = state(engine)
    found = kept.find(ident)
    if found is None:
        # (an unknown name reads every settled task's id: the whole history, on this error only)
        close = did_you_mean(ident, sorted(kept.ids()))
        hint = f" (did you mean {close}?)" if close else ""
        raise UnknownNameError(f"unknown task {ident!r}{hint} (任务不存在)")
    return found


def tasks(engine: Engine, *, within: str | None = None, start: datetime | None = None,
          end: datetime | None = None) -> list[Task]:
    """Tasks assigned at ``within`` or below (all if None), due in ``[start, end)``, by deadline then id."""
    hierarchy = engine.community.hierarchy
    if within is not None:
        hierarchy.node(within)
    return [t for t in state(engine).due_between(start, end) if within is None or hierarchy.is_within(t.node, within)]


def progress(engine: Engine, ident: str, now: datetime | None = None) -> Progress:
    """Where task ``ident`` stands at ``now``."""
    found = task(engine, ident)
    return Progress(found, found.counts(now or engine.clock.now()))


def overdue(engine: Engine, *, within: str | None = None,
            now: datetime | None = None) -> list[tuple[Task, Assignment]]:
    """Assignments past their deadline and not done at ``now`` (cells at ``within`` or below), oldest first."""
    when = now or engine.clock.now()
    hierarchy = engine.community.hierarchy
    if within is not None:
        hierarchy.node(within)
    out = []
    for found in state(engine).overdue_candidates(when):
        for assignment in found.assignments.values():
            if found.status(assignment, when) == "overdue" and (
                    within is None or hierarchy.is_within(assignment.cell, within)):
                out.append((found, assignment))
    return out
