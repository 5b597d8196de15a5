"""What the tasks plugin keeps: each task and, per assignee, their assignment.

Mutable attrs records owned by the state (``TasksState``); everything in them
comes from the events, in canonical order, so a replay rebuilds them exactly.
"""

from __future__ import annotations

from datetime import datetime

from attrs import field

from gridcore.classes import define

#: An assignment's status (English id -> Chinese label), as reports show it.
STATUSES = {
    "done": "按时完成",
    "late": "逾期完成",
    "overdue": "逾期未完成",
    "open": "进行中",
    "cancelled": "已取消",
}


@define
class Assignment:
    """One assignee's part of a task: for which node, and what became of it."""

    member: str
    #: the node this assignment is for (where the member holds the task's role)
    cell: str
    completed: datetime | None = None
    #: the node where the work was recorded, and the event that recorded it
    completed_in: str | None = None
    completion: str | None = None
    found: int = 0
    note: str = ""
    #: True once the deadline passed with the assignment open (``task_overdue`` applied)
    overdue: bool = False


@define
class Task:
    """A task assigned to the staff of a subtree, with its deadline and every assignment."""

    id: str
    kind: str
    title: str
    node: str
    assigned_by: str
    assigned: datetime
    deadline: datetime
    #: False when the deadline came from the ruleset's ``within``
    deadline_given: bool
    roles: tuple[str, ...]
    #: the id of the ``task_assigned`` event
    event: str
    assignments: dict[str, Assignment] = field(factory=dict)
    cancelled: datetime | None = None
    cancelled_by: str | None = None
    reason: str = ""

    def status(self, assignment: Assignment, now: datetime) -> str:
        """``done``, ``late``, ``overdue``, ``open`` or ``cancelled``: the assignment as at ``now``."""
        if assignment.completed is not None and assignment.completed <= now:
            return "done" if assignment.completed < self.deadline else "late"
        if self.cancelled is not None and self.cancelled <= now:
            return "cancelled"
        if assignment.overdue or now >= self.deadline:
            return "overdue"
        return "open"

    def settled(self) -> bool:
        """True when nothing more can fall due: cancelled, or every assignment done or overdue."""
        return self.cancelled is not None or all(
            a.completed is not None or a.overdue for a in self.assignments.values())

    def counts(self, now: datetime) -> dict[str, int]:
        """How many assignments have each status at ``now``."""
        out = dict.fromkeys(STATUSES, 0)
        for assignment in self.assignments.values():
            out[self.status(assignment, now)] += 1
        return out
