"""Per-engine tasks state: every task and assignment, derived from the event log.

``TasksState`` is attached to each engine as ``"tasks"`` (see plugin.py).  Its
hook implementations refuse task events that do not fit (judging.py), apply
the accepted ones, and, on ``tick``, derive a ``task_overdue`` for every
assignment still open at its task's deadline (at the deadline itself, with a
deterministic id), so the points plugin can deduct for it and reports can
list it whatever how often ``tick`` runs.  ``gridcore_save_state`` and
``gridcore_restore_state`` checkpoint it (checkpoint.py).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridcore import Explanation, Outcome, hookimpl
from gridcore.events import SYSTEM_ACTOR, Event

from . import judging
from .events import TaskAssigned, TaskCancelled, TaskCompleted, TaskOverdue
from .records import Task

if TYPE_CHECKING:
    from gridcore import Engine

NAME = "tasks"


def overdue_id(task: str, member: str) -> str:
    """The id of the ``task_overdue`` derived for ``member``'s part of ``task`` (the same every replay)."""
    return f"{task}:overdue:{member}"


class TasksState:
    """Every task of one engine, and the hooks that keep them."""

    #: the shape of the document ``gridcore_save_state`` gives (checkpoint.py)
    STATE_VERSION = 1

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: every task by id (restored from a checkpoint: each built when first asked for, checkpoint.py)
        self.tasks: MutableMapping[str, Task] = {}
        #: (deadline, task id) of tasks that may still fall due
        self._due: list[tuple[datetime, str]] = []
        #: (deadline, task id) of every task, sorted: a period's tasks without a walk through all of them
        self._by_deadline: list[tuple[datetime, str]] = []

    # ------------------------------------------------------------ hooks

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse unknown kinds and tasks, assigners without the role, strangers completing, and the like."""
        return judging.refusals(engine, self, event) or None

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Apply a task event (a stored one that no longer fits after a late event changes nothing)."""
        self.apply(event)

    def apply(self, event: Event) -> None:
        """Take one event into the state; events come in canonical order."""
        if isinstance(event, TaskAssigned):
            if event.task in self.tasks:
                return
            task, _ = judging.plan(self.engine, event)
            if task is not None:
                self.tasks[task.id] = task
                heapq.heappush(self._due, (task.deadline, task.id))
                bisect.insort(self._by_deadline, (task.deadline, task.id))
            return
        if not isinstance(event, (TaskCompleted, TaskCancelled, TaskOverdue)):
            return
        task = self.tasks.get(event.task)
        if task is None:
            return
        if isinstance(event, TaskCancelled):
            if task.cancelled is None:
                task.cancelled, task.cancelled_by, task.reason = event.time, event.actor, event.reason
            return
        member = event.member if isinstance(event, TaskOverdue) else event.actor
        assignment = task.assignments.get(member)
        if assignment is None or assignment.completed is not None:
            return
        if isinstance(event, TaskOverdue):
            assignment.overdue = True
        elif task.cancelled is None:
            assignment.completed, assignment.completed_in, assignment.completion = event.time, event.node, event.id
            assignment.found, assignment.note = event.found, event.note

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        """A ``task_overdue`` for every assignment still open at a deadline at or before ``now``."""
        due = self._due
        while due and self._done_with(due[0][1]):
            heapq.heappop(due)
        ready = []
        while due and due[0][0] <= now:
            ready.append(heapq.heappop(due))
        for entry in ready:  # kept until the events below are applied and settle them
            heapq.heappush(due, entry)
        out: list[Event] = []
        for deadline, ident in ready:
            task = self.tasks[ident]
            if task.cancelled is not None:
                continue
            for member, assignment in task.assignments.items():
                if assignment.completed is None and not assignment.overdue:
                    out.append(TaskOverdue(id=overdue_id(ident, member), time=deadline, actor=SYSTEM_ACTOR,
                                           node=assignment.cell, task=ident, member=member))
        return out

    def _done_with(self, ident: str) -> bool:
        task = self.tasks.get(ident)
        return task is None or task.settled()

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        """Every task and assignment, for a checkpoint."""
        from .checkpoint import save

        return save(self)

    @hookimpl
    def gridcore_restore_state(self, engine: Engine, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved (what may fall due is worked out again)."""
        from .checkpoint import restore

        self.tasks, self._due, every = restore(document)
        heapq.heapify(self._due)
        self._by_deadline = sorted(every)

    def due_between(self, start: datetime | None, end: datetime | None) -> list[Task]:
        """The tasks whose deadline is in ``[start, end)`` (a bound None: open), by deadline then id."""
        order = self._by_deadline
        first = 0 if start is None else bisect.bisect_left(order, (start, ""))
        last = len(order) if end is None else bisect.bisect_left(order, (end, ""))
        return [self.tasks[ident] for _, ident in order[first:last]]

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``tasks:<task>`` (its assignments) or ``tasks:<task>:<member>`` (one assignment)."""
        from .views import explain

        return explain(engine, self, decision)

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each task's assignments done on time, done late and missed."""
        from .views import outcomes

        return outcomes(engine, self)
