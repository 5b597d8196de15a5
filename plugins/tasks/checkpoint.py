"""The tasks state as a checkpoint document, and back (``gridcore_save_state``).

Built with a private cattrs converter: times as ISO 8601 with their offset,
tuples as lists.  What may fall due is not saved: it is worked out again from
the restored tasks (``TasksState.gridcore_restore_state``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import cattrs

from .records import Task

if TYPE_CHECKING:
    from .state import TasksState

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))


def save(state: TasksState) -> dict[str, Any]:
    """The state as a JSON document (tasks by id)."""
    return {"tasks": [_converter.unstructure(task) for _, task in sorted(state.tasks.items())]}


def restore(document: dict[str, Any]) -> dict[str, Task]:
    """The tasks a document ``save`` gave; ``ValueError`` if it cannot be read."""
    try:
        tasks = [_converter.structure(doc, Task) for doc in document["tasks"]]
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable tasks checkpoint: {exc}") from exc
    return {task.id: task for task in tasks}
