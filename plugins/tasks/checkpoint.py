"""The tasks state as a checkpoint document, and back (``gridcore_save_state``).

Built with a private cattrs converter: times as ISO 8601 with their offset,
tuples as lists.  What may fall due is not saved: it is worked out again from
the restored tasks (``TasksState.gridcore_restore_state``).

Every task ever assigned is in the document, and a read asks for few of them
(a period's, one by id), so restoring keeps each task as its document and
builds the record the first time it is asked for (``Restored``): what may fall
due and the order by deadline are read from the documents' fields.  A task
never asked for is written back to the next checkpoint as it was read.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import cattrs

from .records import Task

if TYPE_CHECKING:
    from .state import TasksState

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))


class Restored(MutableMapping[str, Task]):
    """Tasks by id, each kept as its checkpoint document until it is first asked for."""

    def __init__(self, documents: dict[str, dict[str, Any] | Task]) -> None:
        self._items = documents

    def __getitem__(self, ident: str) -> Task:
        found = self._items[ident]
        if isinstance(found, Task):
            return found
        try:
            task = _converter.structure(found, Task)
        except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
            raise ValueError(f"unreadable task {ident!r} in a tasks checkpoint: {exc}") from exc
        self._items[ident] = task
        return task

    def __setitem__(self, ident: str, task: Task) -> None:
        self._items[ident] = task

    def __delitem__(self, ident: str) -> None:
        del self._items[ident]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, ident: object) -> bool:
        return ident in self._items

    def document(self, ident: str) -> dict[str, Any]:
        """The task as a checkpoint writes it (as it was read, if it was never asked for)."""
        found = self._items[ident]
        return _converter.unstructure(found) if isinstance(found, Task) else found

    def schedule(self) -> tuple[Schedule, Schedule]:
        """(deadline, id) of the tasks that may still fall due, and of every task, read from what is kept."""
        due, every = [], []
        for ident, found in self._items.items():
            if isinstance(found, Task):
                deadline, settled = found.deadline, found.settled()
            else:
                deadline = datetime.fromisoformat(found["deadline"])
                settled = found["cancelled"] is not None or all(
                    a["completed"] is not None or a["overdue"] for a in found["assignments"].values())
            every.append((deadline, ident))
            if not settled:
                due.append((deadline, ident))
        return due, every


def save(state: TasksState) -> dict[str, Any]:
    """The state as a JSON document (tasks by id)."""
    tasks = state.tasks
    if isinstance(tasks, Restored):
        return {"tasks": [tasks.document(ident) for ident in sorted(tasks)]}
    return {"tasks": [_converter.unstructure(task) for _, task in sorted(tasks.items())]}


Schedule = list[tuple[datetime, str]]


def restore(document: dict[str, Any]) -> tuple[Restored, Schedule, Schedule]:
    """The tasks a document ``save`` gave (each built when first asked for), and ``Restored.schedule``;
    ``ValueError`` if it cannot be read."""
    try:
        found: dict[str, dict[str, Any] | Task] = {str(doc["id"]): doc for doc in document["tasks"]}
        restored = Restored(found)
        due, every = restored.schedule()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"unreadable tasks checkpoint: {exc}") from exc
    return restored, due, every
