"""Points for tasks (the tasks plugin's events): paid on time, deducted when missed.

The points section's ``task`` items (``task 入户排查: 10 points on time,
minus 5 points if missed``) price the kinds of task the ``tasks`` section
declares.  The points plugin reads the tasks plugin's published events only:
``task_assigned`` tells it a task's kind, ``task_completed`` pays the
assignee when no ``task_overdue`` for their part came before it (the engine
derives that one at the deadline, so it always comes first for a part done
at or after it), and ``task_overdue`` takes the deduction, down to the floor.
A part done late earns nothing and loses nothing more.  These are methods of
the points state (``PointsState`` mixes ``TaskBooking`` in).
"""

from __future__ import annotations

from gridcore.events import Event
from gridcore_tasks.events import TaskAssigned, TaskCompleted, TaskOverdue

from .booking import Booking, whole_points
from .sealed import task_part


class TaskBooking(Booking):
    """What task events book (a mixin of ``PointsState``)."""

    def on_task(self, event: Event) -> None:
        """Book what a task event earns or costs (other events are ignored)."""
        if isinstance(event, TaskAssigned):
            self.task_kinds.setdefault(event.task, event.task_kind)
        elif isinstance(event, TaskCompleted):
            self._task_done(event)
        elif isinstance(event, TaskOverdue):
            self._task_missed(event)

    @staticmethod
    def books_task(kind: type[Event]) -> bool:
        """True if ``on_task`` books anything for an event of class ``kind``."""
        return issubclass(kind, (TaskAssigned, TaskCompleted, TaskOverdue))

    def _task_done(self, event: TaskCompleted) -> None:
        key = task_part(event.task, event.actor)
        if key in self.tasks_done:
            return
        self.tasks_done.add(key)
        kind = self.task_kinds.get(event.task)
        if key in self.tasks_missed or kind is None:
            return
        policy = self.policy_at(event.time, event.node)
        item = policy.task(kind) if policy is not None else None
        if policy is None or item is None or not item.on_time:
            return
        account = self.account(event.actor)
        self.advance(account, event)
        self.earn(account, event, policy, f"task:{kind}", whole_points(item.on_time), item.rule, (),
                  {"task": event.task, "kind": kind, "done": "on time (按时完成)"},
                  f"task {event.task} ({kind}) done on time: {item.on_time}")

    def _task_missed(self, event: TaskOverdue) -> None:
        key = task_part(event.task, event.member)
        if key in self.tasks_done or key in self.tasks_missed:
            return
        self.tasks_missed.add(key)
        kind = self.task_kinds.get(event.task)
        policy = self.policy_at(event.time, event.node)
        item = policy.task(kind) if policy is not None and kind is not None else None
        if policy is None or item is None or not item.missed:
            return
        account = self.account(event.member)
        self.advance(account, event)
        self.earn(account, event, policy, f"task:{kind}", whole_points(item.missed), item.rule, (),
                  {"task": event.task, "kind": kind, "deadline": event.time.isoformat()},
                  f"task {event.task} ({kind}) not done by its deadline (逾期未完成): {item.missed}")
