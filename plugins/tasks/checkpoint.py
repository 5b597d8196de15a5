"""The tasks state as a checkpoint document, and back (``gridcore_save_state``).

Built with a private cattrs converter: times as ISO 8601 with their offset,
tuples as lists.  Only the tasks that may still fall due are saved whole; the
settled ones are in the archive (archive.py), whose sealed parts are written
to the store first and named by their keys, with the ids of the settled tasks
that still have a part overdue and not done.  What may fall due is not saved:
it is worked out again from the restored tasks (``TasksState.gridcore_restore_state``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import cattrs

from gridcore.codec import read_time
from gridcore.parts import part_writers

from .archive import COLLECTION, NAMES, Archive
from .records import Assignment, Task

if TYPE_CHECKING:
    from .state import TasksState

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: read_time(value))


def dump_task(task: Task) -> dict[str, Any]:
    """A task as a JSON document: what ``_converter.unstructure(task)`` writes, written out here, so that no
    process has cattrs generate its functions for ``Task`` and ``Assignment`` the first time a task settles
    (a window of 5,000 events settles a few: docs/benchmarks.md).  A task of another shape (a subclass, an
    assignment that is no ``Assignment``) is cattrs' to write."""
    assignments = task.assignments
    if type(task) is not Task or type(assignments) is not dict or any(
            type(assignment) is not Assignment for assignment in assignments.values()):
        out: dict[str, Any] = _converter.unstructure(task)
        return out
    cancelled = task.cancelled
    return {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "node": task.node,
        "assigned_by": task.assigned_by,
        "assigned": task.assigned.isoformat(),
        "deadline": task.deadline.isoformat(),
        "deadline_given": task.deadline_given,
        "roles": list(task.roles),
        "event": task.event,
        "assignments": {member: _dump_assignment(assignment) for member, assignment in assignments.items()},
        "cancelled": None if cancelled is None else cancelled.isoformat(),
        "cancelled_by": task.cancelled_by,
        "reason": task.reason,
    }


def _dump_assignment(assignment: Assignment) -> dict[str, Any]:
    completed = assignment.completed
    return {
        "member": assignment.member,
        "cell": assignment.cell,
        "completed": None if completed is None else completed.isoformat(),
        "completed_in": assignment.completed_in,
        "completion": assignment.completion,
        "found": assignment.found,
        "note": assignment.note,
        "overdue": assignment.overdue,
    }


def load_task(document: dict[str, Any]) -> Task:
    """The task ``dump_task`` wrote; ``ValueError`` if it cannot be read.

    What ``_converter.structure(document, Task)`` reads, read here for a document of the shape ``dump_task``
    writes (every field there, its texts texts, its flags ``bool``s, its counts whole numbers); any other is
    cattrs' to read (and to refuse, with cattrs' reasons)."""
    task = _plain_task(document)
    if task is not None:
        return task
    try:
        return _converter.structure(document, Task)
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable task {document.get('id')!r} in the tasks' state: {exc}") from exc


#: The fields of a task's document, as ``dump_task`` writes them, and of an assignment's.
_TASK_KEYS = ("id", "kind", "title", "node", "assigned_by", "assigned", "deadline", "deadline_given", "roles",
              "event", "assignments", "cancelled", "cancelled_by", "reason")
_ASSIGNMENT_KEYS = ("member", "cell", "completed", "completed_in", "completion", "found", "note", "overdue")


def _plain_task(document: Any) -> Task | None:
    """The task of a document of ``dump_task``'s shape, read by hand (None: of another shape, or a time in it
    unreadable: cattrs reads it, or says why not)."""
    if type(document) is not dict or len(document) != len(_TASK_KEYS) or not all(
            key in document for key in _TASK_KEYS):
        return None
    d = document
    roles, assignments, cancelled = d["roles"], d["assignments"], d["cancelled"]
    if not (type(d["id"]) is str and type(d["kind"]) is str and type(d["title"]) is str and type(d["node"]) is str
            and type(d["assigned_by"]) is str and type(d["assigned"]) is str and type(d["deadline"]) is str
            and type(d["deadline_given"]) is bool and type(roles) is list
            and all(type(role) is str for role in roles) and type(d["event"]) is str
            and type(assignments) is dict and (cancelled is None or type(cancelled) is str)
            and (d["cancelled_by"] is None or type(d["cancelled_by"]) is str) and type(d["reason"]) is str):
        return None
    read = {}
    try:
        for member, part in assignments.items():
            assignment = _plain_assignment(part) if type(member) is str else None
            if assignment is None:
                return None
            read[member] = assignment
        return Task(d["id"], d["kind"], d["title"], d["node"], d["assigned_by"], read_time(d["assigned"]),
                    read_time(d["deadline"]), d["deadline_given"], tuple(roles), d["event"], read,
                    None if cancelled is None else read_time(cancelled), d["cancelled_by"], d["reason"])
    except ValueError:
        return None


def _plain_assignment(document: Any) -> Assignment | None:
    """The assignment of a document of ``_dump_assignment``'s shape, read by hand (None: of another shape)."""
    if type(document) is not dict or len(document) != len(_ASSIGNMENT_KEYS) or not all(
            key in document for key in _ASSIGNMENT_KEYS):
        return None
    d = document
    completed, completed_in, completion = d["completed"], d["completed_in"], d["completion"]
    if not (type(d["member"]) is str and type(d["cell"]) is str and (completed is None or type(completed) is str)
            and (completed_in is None or type(completed_in) is str)
            and (completion is None or type(completion) is str) and type(d["found"]) is int
            and type(d["note"]) is str and type(d["overdue"]) is bool):
        return None
    return Assignment(d["member"], d["cell"], None if completed is None else read_time(completed), completed_in,
                      completion, d["found"], d["note"], d["overdue"])


def save(state: TasksState) -> dict[str, Any]:
    """The state as a JSON document; sealed parts of the archive are stored first (unless read-only)."""
    engine = state.engine
    writer, names = part_writers(engine.store, COLLECTION, NAMES)

    return {
        "tasks": [dump_task(task) for _, task in sorted(state.open.items())],
        "overdue": [[ident, when.isoformat()] for ident, when in sorted(state.overdue.items())],
        "settled": state.archive.save(None, None) if engine.read_only else state.archive.save(writer, names),
    }


def restore(state: TasksState, document: dict[str, Any]) -> None:
    """Rebuild ``state`` from a document ``save`` gave; ``ValueError`` if it cannot be read."""
    try:
        state.open = {str(doc["id"]): load_task(doc) for doc in document["tasks"]}
        state.overdue = {str(ident): read_time(when) for ident, when in document["overdue"]}
        state.archive = Archive.restore(document["settled"], state.load_part, state.load_names, state.load_many_names)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"unreadable tasks checkpoint: {exc}") from exc
