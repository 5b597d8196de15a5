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
from .records import Task

if TYPE_CHECKING:
    from .state import TasksState

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: read_time(value))


def dump_task(task: Task) -> dict[str, Any]:
    """A task as a JSON document."""
    out: dict[str, Any] = _converter.unstructure(task)
    return out


def load_task(document: dict[str, Any]) -> Task:
    """The task ``dump_task`` wrote; ``ValueError`` if it cannot be read."""
    try:
        return _converter.structure(document, Task)
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable task {document.get('id')!r} in the tasks' state: {exc}") from exc


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
