"""gridcore's built-in tasks plugin (import name ``gridcore_tasks``).

Tasks and campaigns (专项任务): a door-to-door sweep, a census of a special
group, an emergency call-out, assigned to the staff of a subtree (or those
holding some roles there) with a deadline.  Each assignee's completion, with
what was found, is an event; the engine derives ``task_overdue`` at the
deadline for every assignment still open; ``task_completion`` (任务完成率) and
``overdue_tasks`` (逾期任务数) are metrics an assessment can weigh, and the
points section can pay for a task done on time and deduct for one missed.
See docs/tasks.md.

The Python API takes an engine::

    import gridcore_tasks
    gridcore_tasks.progress(engine, "sweep-2025-03").rate
    gridcore_tasks.overdue(engine, within="g1")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Progress, overdue, progress, task, tasks
    from .events import TaskAssigned, TaskCancelled, TaskCompleted, TaskOverdue

# Imported on first use, so loading the plugin (its entry point) stays cheap.
_LAZY = {
    **dict.fromkeys(("Progress", "overdue", "progress", "task", "tasks"), ".api"),
    **dict.fromkeys(("TaskAssigned", "TaskCancelled", "TaskCompleted", "TaskOverdue"), ".events"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "Progress",
    "TaskAssigned",
    "TaskCancelled",
    "TaskCompleted",
    "TaskOverdue",
    "overdue",
    "progress",
    "task",
    "tasks",
]
