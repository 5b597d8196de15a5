"""The simulator's tasks and deductions: campaigns assigned and done, staff docked points.

Both draw from random sources of their own (``<seed>:tasks``,
``<seed>:deductions``) and give their events ids of their own
(``<root>-s<seed>-t<n>``, ``<root>-s<seed>-d<n>``), so a scenario that gains
tasks or deductions leaves every other event of its log exactly as it was.
Who a task goes to is the tasks plugin's own rule (``gridcore_tasks.assignees``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

from gridcore.community import Community
from gridcore.events import ActivityRecorded, Event
from gridcore_tasks.assignees import assignees
from gridcore_tasks.events import TaskAssigned, TaskCompleted

from .scenario import ActivityPlan, TaskPlan

#: Working days in a month: a task planned ``per_month`` is assigned with chance ``per_month / 21`` a day.
WORKING_DAYS = 21


class Campaigns:
    """Tasks and deductions of one simulation (see the module's docstring)."""

    def __init__(self, community: Community, prefix: str, seed: int, diligence: dict[str, float],
                 push: Callable[[Event], None], opening: time) -> None:
        self.community = community
        self.prefix = prefix
        self.diligence = diligence
        self.push = push
        self.opening = opening
        self.tz = community.tz
        self.task_rng = random.Random(f"{seed}:tasks")
        self.deduction_rng = random.Random(f"{seed}:deductions")
        self.tasks = 0
        self.task_events = 0
        self.deductions = 0
        self._seats: dict[str, list[tuple[str, str]]] = {}

    def seats(self, role: str) -> list[tuple[str, str]]:
        """(member, node) of every territorial holder of ``role``, roster order."""
        if role not in self._seats:
            hierarchy = self.community.hierarchy
            self._seats[role] = [(m.id, a.node) for m in self.community.members.values() for a in m.roles
                                 if a.role == role and not hierarchy.node(a.node).is_side_grid]
        return self._seats[role]

    def awake(self, when: datetime) -> datetime:
        """Work recorded between the workday's start and 21:00; later work waits for the morning."""
        local = when.astimezone(self.tz)
        opening = datetime.combine(local.date(), self.opening, tzinfo=self.tz)
        if local < opening:
            return opening + timedelta(minutes=self.task_rng.randint(0, 90))
        if local.hour >= 21:
            return opening + timedelta(days=1, minutes=self.task_rng.randint(0, 90))
        return when

    def at(self, day: date, hour: float) -> datetime:
        minutes = max(0, min(round(hour * 60), 24 * 60 - 1))
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)

    # ------------------------------------------------------------ tasks

    def assign(self, day: date, plans: Sequence[TaskPlan]) -> None:
        """The tasks assigned on ``day`` (working days), and each assignee's part done or not."""
        if day.weekday() >= 5:
            return
        rng = self.task_rng
        for plan in plans:
            for leader, seat in self.seats(plan.by):
                if rng.random() >= plan.per_month / WORKING_DAYS:
                    continue
                self.tasks += 1
                task = f"{self.prefix}-t{self.tasks:04d}"
                when = self.at(day, rng.uniform(8.5, 11.0))
                self.push(TaskAssigned(id=self.task_id(), time=when, actor=leader, node=seat, task=task,
                                       task_kind=plan.kind, title=plan.title, roles=plan.to))
                for member, cell in assignees(self.community, seat, list(plan.to)).items():
                    diligence = self.diligence.get(member, 1.0)
                    if rng.random() >= plan.done * diligence:
                        continue
                    low, high = plan.hours
                    hours = low + (high - low) * rng.random() ** diligence
                    done = self.awake(when + timedelta(hours=hours)).replace(second=0, microsecond=0)
                    where = self.cells(cell)
                    self.push(TaskCompleted(id=self.task_id(), time=done, actor=member, node=rng.choice(where),
                                            task=task, found=rng.randint(*plan.found)))

    def task_id(self) -> str:
        self.task_events += 1
        return f"{self.prefix}-t{self.task_events:06d}"

    def cells(self, node: str) -> list[str]:
        """The territorial leaves at or below ``node`` (where the work is done), or the node itself."""
        below = self.community.hierarchy.descendants(node, include_self=True)
        return [n.id for n in below if not self.community.hierarchy.children(n.id) and not n.is_side_grid] or [node]

    # ------------------------------------------------------------ deductions

    def dock(self, day: date, plans: Sequence[ActivityPlan]) -> None:
        """Deductions (扣分) recorded on ``day``: a member's slip, recorded for them by ``recorder``."""
        rng = self.deduction_rng
        for plan in plans:
            if plan.weekdays and day.weekday() not in plan.weekdays:
                continue
            for member, seat in (pair for role in plan.roles for pair in self.seats(role)):
                # a less diligent member slips more often
                if rng.random() >= plan.chance * (2 - self.diligence.get(member, 1.0)):
                    continue
                recorder = member
                if plan.recorder is not None:
                    found = self.community.responsible_for(seat, plan.recorder)
                    if not found:
                        continue
                    recorder = rng.choice(sorted(m.id for m in found))
                self.deductions += 1
                self.push(ActivityRecorded(
                    id=f"{self.prefix}-d{self.deductions:05d}", time=self.at(day, rng.uniform(9.0, 17.0)),
                    actor=recorder, node=seat, activity=plan.activity, member=member,
                ))
