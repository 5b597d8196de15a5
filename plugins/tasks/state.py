"""Per-engine tasks state: the tasks that may still fall due, derived from the event log.

``TasksState`` is attached to each engine as ``"tasks"`` (see plugin.py).  Its
hook implementations refuse task events that do not fit (judging.py), apply
the accepted ones, and, on ``tick``, derive a ``task_overdue`` for every
assignment still open at its task's deadline (at the deadline itself, with a
deterministic id), so the points plugin can deduct for it and reports can
list it whatever how often ``tick`` runs.  A task that settles (nothing more
can fall due) is archived (archive.py: in the store, read when asked for).
``gridcore_save_state`` and ``gridcore_restore_state`` checkpoint it (checkpoint.py).
"""

from __future__ import annotations

import bisect
import heapq
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridcore import EventKinds, Explanation, Outcome, hookimpl
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore.partnames import Where
from gridcore.parts import part_writers, stored_documents, stored_part

from . import checkpoint, judging
from .archive import COLLECTION, NAMES, Archive
from .events import TaskAssigned, TaskCancelled, TaskCompleted, TaskOverdue
from .records import Task

#: The kinds this state judges and takes in (``judging.refusals`` and ``apply`` pass over any other).
_TASK_EVENTS = (TaskAssigned, TaskCompleted, TaskCancelled, TaskOverdue)

if TYPE_CHECKING:
    from gridcore import Engine

NAME = "tasks"


def overdue_id(task: str, member: str) -> str:
    """The id of the ``task_overdue`` derived for ``member``'s part of ``task`` (the same every replay)."""
    return f"{task}:overdue:{member}"


#: Settled tasks kept decoded after a read (the least recently read go first).
DECODED = 2_000


class TasksState:
    """The tasks of one engine that may still fall due (the settled ones are archived), and the hooks."""

    #: the shape of the document ``gridcore_save_state`` gives (checkpoint.py)
    STATE_VERSION = 3  # 2: settled tasks archived in the store; 3: its oldest stored parts in chapters

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: the tasks that may still fall due, by id
        self.open: dict[str, Task] = {}
        #: settled tasks with a part overdue and not done (what ``overdue`` lists), by id: their deadline
        self.overdue: dict[str, datetime] = {}
        #: settled tasks (in the store but for the newest)
        self.archive = Archive(self.load_part, self.load_names, self.load_many_names)
        #: (deadline, task id) of tasks that may still fall due (and of some settled since)
        self._due: list[tuple[datetime, str]] = []
        #: (deadline, task id) of the open tasks, sorted: a period's tasks without a walk through all of them
        self._by_deadline: list[tuple[datetime, str]] = []
        self._decoded: OrderedDict[Where, Task] = OrderedDict()
        #: when the tasks last changed for each period (``gridcore_period_stamp``)
        self.stamps = engine.period_stamps("tasks")

    # ------------------------------------------------------------ hooks

    @hookimpl
    def gridcore_event_kinds(self) -> EventKinds:
        """Task events only: the hooks below pass every other event by."""
        return EventKinds(validate_event=_TASK_EVENTS, on_event=_TASK_EVENTS)

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse unknown kinds and tasks, assigners without the role, strangers completing, and the like."""
        if not isinstance(event, _TASK_EVENTS):
            return None  # (asked of every event: most are none of a task's)
        return judging.refusals(engine, self, event) or None

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Apply a task event (a stored one that no longer fits after a late event changes nothing)."""
        if isinstance(event, _TASK_EVENTS):
            assigned = self.apply(event)
            # a period's reads count how its tasks went on after it (done in time or not): a step of a
            # task reaches back to its assignment
            self.stamps.note(event.time if assigned is None or event.time < assigned else assigned)

    @hookimpl
    def gridcore_period_stamp(self, end: datetime) -> int:
        """When the tasks last changed for a period ending at ``end`` (``gridcore.stamps``)."""
        return self.stamps.stamp(end)

    def apply(self, event: Event) -> datetime | None:
        """Take one event into the state; events come in canonical order.  The time the task it changed was
        assigned (None: it changed none)."""
        if isinstance(event, TaskAssigned):
            if self.known(event.task):
                return None
            task, _ = judging.plan(self.engine, event)
            if task is not None:
                self.open[task.id] = task
                heapq.heappush(self._due, (task.deadline, task.id))
                bisect.insort(self._by_deadline, (task.deadline, task.id))
                if task.settled():
                    self._settle(task)
                return task.assigned
            return None
        if not isinstance(event, (TaskCompleted, TaskCancelled, TaskOverdue)):
            return None
        task = self.open.get(event.task)
        if task is not None:
            if _change(task, event) and task.settled():
                self._settle(task)
            return task.assigned
        found = self.archive.find(event.task)
        if found is not None:
            task = checkpoint.load_task(found[1]["task"])  # (a copy of its own: readers may hold others)
            if _change(task, event):
                self._settle(task)  # written again: a settled task stays settled
                # the entry is superseded: no read asks for it again, so its decoded task (the event was
                # judged on it just before) is not kept until it is the least recently read of ``DECODED``
                self._decoded.pop(found[0], None)
            return task.assigned
        return None

    def _settle(self, task: Task) -> None:
        """``task`` is settled: archive it (again, if it was), and forget it."""
        if self.open.pop(task.id, None) is not None:
            at = bisect.bisect_left(self._by_deadline, (task.deadline, task.id))
            del self._by_deadline[at]
        done = _done_at(task)
        if done is None:
            self.overdue[task.id] = task.deadline
        else:
            self.overdue.pop(task.id, None)
        self.archive.add({"task": checkpoint.dump_task(task), "done": None if done is None else done.isoformat()})

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        """A ``task_overdue`` for every assignment still open at a deadline at or before ``now``."""
        due = self._due
        # (asked before every event: while even the earliest deadline is after ``now``, nothing falls
        # due, and whether the task at the top is settled, a walk through all its assignments, need
        # not be asked; a settled task's entry is dropped once its deadline comes)
        if not due or due[0][0] > now:
            return []
        while due and self._done_with(due[0][1]):
            heapq.heappop(due)
        ready = []
        while due and due[0][0] <= now:
            ready.append(heapq.heappop(due))
        for entry in ready:  # kept until the events below are applied and settle them
            heapq.heappush(due, entry)
        out: list[Event] = []
        for deadline, ident in ready:
            task = self.open.get(ident)
            if task is None or task.cancelled is not None:
                continue
            for member, assignment in task.assignments.items():
                if assignment.completed is None and not assignment.overdue:
                    out.append(TaskOverdue(id=overdue_id(ident, member), time=deadline, actor=SYSTEM_ACTOR,
                                           node=assignment.cell, task=ident, member=member))
        return out

    @hookimpl
    def gridcore_next_due(self) -> datetime | None:
        """The earliest deadline of a task not yet settled (or settled since: an entry is dropped once its
        deadline comes): ``gridcore_on_tick`` finds nothing due before it (nor without one: ``None``)."""
        return self._due[0][0] if self._due else None

    def _done_with(self, ident: str) -> bool:
        task = self.open.get(ident)
        return task is None or task.settled()

    @hookimpl
    def gridcore_on_flush(self, engine: Engine) -> None:
        """The archive's sealed parts stored with the engine's next batch, not held until the checkpoint."""
        if self.archive.waiting:
            self.archive.store_sealed(*part_writers(engine.store, COLLECTION, NAMES))

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        """The open tasks, the archive's parts (stored first) and the settled tasks still overdue."""
        return checkpoint.save(self)

    @hookimpl
    def gridcore_restore_state(self, engine: Engine, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved (what may fall due is worked out again)."""
        checkpoint.restore(self, document)
        self._due = [(task.deadline, ident) for ident, task in self.open.items() if not task.settled()]
        heapq.heapify(self._due)
        self._by_deadline = sorted((task.deadline, ident) for ident, task in self.open.items())
        self._decoded.clear()

    # ------------------------------------------------------------ reading

    def load_part(self, key: str) -> dict[str, Any] | str | None:
        """A sealed part of the archive, from the store (its text where the store gives it)."""
        return stored_part(self.engine.store, COLLECTION, key)

    def load_names(self, ident: str) -> dict[str, Any] | None:
        """Which sealed parts of the archive hold task ``ident``, from the store."""
        return self.engine.store.get(NAMES, ident)

    def load_many_names(self, idents: Sequence[str]) -> Mapping[str, dict[str, Any]]:
        """Which sealed parts of the archive hold each of the tasks ``idents``, from the store at once (those with a document, by name)."""
        return stored_documents(self.engine.store, NAMES, idents)

    def known(self, ident: str) -> bool:
        """True if task ``ident`` was assigned (open or settled)."""
        return ident in self.open or self.archive.find(ident) is not None

    def find(self, ident: str) -> Task | None:
        """Task ``ident``, open or settled (read from the archive: do not change it); None if none."""
        task = self.open.get(ident)
        if task is not None:
            return task
        found = self.archive.find(ident)
        return None if found is None else self._cached(*found)

    def ids(self) -> set[str]:
        """The id of every task ever assigned (a read of the whole archive)."""
        return {*self.open, *(str(entry["task"]["id"]) for _, entry in self.archive.current())}

    def due_between(self, start: datetime | None, end: datetime | None) -> list[Task]:
        """The tasks whose deadline is in ``[start, end)`` (a bound None: open), by deadline then id."""
        order = self._by_deadline
        first = 0 if start is None else bisect.bisect_left(order, (start, ""))
        last = len(order) if end is None else bisect.bisect_left(order, (end, ""))
        out = [self.open[ident] for _, ident in order[first:last]]
        out.extend(self._cached(where, entry) for where, entry in self.archive.current(due=(start, end)))
        return sorted(out, key=lambda t: (t.deadline, t.id))

    def overdue_candidates(self, now: datetime) -> list[Task]:
        """Every task that may have a part overdue at ``now``, by deadline then id: the open ones, the
        settled ones with a part overdue and not done, those done with only after ``now``."""
        out = list(self.open.values())
        out.extend(t for t in map(self.find, self.overdue) if t is not None)
        out.extend(self._cached(where, entry) for where, entry in self.archive.current(undone_at=now))
        return sorted(out, key=lambda t: (t.deadline, t.id))

    def _cached(self, where: Where, entry: dict[str, Any]) -> Task:
        found = self._decoded.get(where)
        if found is None:
            found = self._decoded[where] = checkpoint.load_task(entry["task"])
            while len(self._decoded) > DECODED:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(where)
        return found

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str, lang: str) -> Explanation | None:
        """Explain ``tasks:<task>`` (its assignments) or ``tasks:<task>:<member>`` (one assignment); headed in
        Chinese for ``zh``."""
        from .headings import INPUTS_ZH
        from .views import explain

        answer = explain(engine, self, decision, lang)
        return answer.labelled(INPUTS_ZH) if answer is not None and lang == "zh" else answer

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each task's assignments done on time, done late and missed."""
        from .views import outcomes

        return outcomes(engine, self)


def _change(task: Task, event: TaskCompleted | TaskCancelled | TaskOverdue) -> bool:
    """Apply a completion, cancellation or overdue to ``task``; False if it changes nothing."""
    if isinstance(event, TaskCancelled):
        if task.cancelled is not None:
            return False
        task.cancelled, task.cancelled_by, task.reason = event.time, event.actor, event.reason
        return True
    member = event.member if isinstance(event, TaskOverdue) else event.actor
    assignment = task.assignments.get(member)
    if assignment is None or assignment.completed is not None:
        return False
    if isinstance(event, TaskOverdue):
        if assignment.overdue:
            return False
        assignment.overdue = True
        return True
    if task.cancelled is not None:
        return False
    assignment.completed, assignment.completed_in, assignment.completion = event.time, event.node, event.id
    assignment.found, assignment.note = event.found, event.note
    return True


def _done_at(task: Task) -> datetime | None:
    """The time from which no part of ``task`` can be overdue any more (each done or the task cancelled);
    None while a part is overdue and not done."""
    times = []
    for assignment in task.assignments.values():
        ends = [when for when in (assignment.completed, task.cancelled) if when is not None]
        if not ends:
            return None
        times.append(min(ends))
    return max(times, default=task.assigned)
