"""The tasks plugin's metrics: ``task_completion`` (任务完成率) and ``overdue_tasks`` (逾期任务数).

Both count the assignments whose cell lies in the node's subtree and whose
task falls due in the period ``[start, end)``; a cancelled task counts for
neither.  An assignment is done on time when it was completed before the
deadline; it is missed when the deadline has passed (by the engine's clock)
without it.  ``tasks_done`` (任务按时完成率) is the same share for one person's
parts (``about=MEMBER``): what an assessment that rates people weighs.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore.metrics import MEMBER, Metric, MetricValue

from . import api
from .headings import METRIC_INPUTS_ZH
from .records import Assignment, Task

if TYPE_CHECKING:
    from gridcore import Engine


def _due(engine: Engine, node: str, start: datetime, end: datetime) -> list[tuple[Task, Assignment]]:
    hierarchy = engine.community.hierarchy
    return [(task, a) for task in api.tasks(engine, start=start, end=end) if task.cancelled is None
            for a in task.assignments.values() if hierarchy.is_within(a.cell, node)]


def _listed(pairs: list[tuple[Task, Assignment]]) -> str:
    shown = [f"{task.id}:{a.member}" for task, a in pairs[:10]]
    more = f" and {len(pairs) - 10} more" if len(pairs) > 10 else ""
    return ", ".join(shown) + more if shown else "none"


def task_completion(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    """Assignments due in the period done before their deadline, over all due there (percent, exact)."""
    due = _due(engine, node, start, end)
    if not due:
        return None
    now = engine.clock.now()
    by_status: dict[str, list[tuple[Task, Assignment]]] = {"done": [], "late": [], "overdue": [], "open": []}
    for task, assignment in due:
        by_status[task.status(assignment, now)].append((task, assignment))
    return MetricValue(Fraction(100 * len(by_status["done"]), len(due)), {
        "assignments due": len(due), "done on time": len(by_status["done"]), "done late": len(by_status["late"]),
        "not done": len(by_status["overdue"]), "still open": len(by_status["open"]),
        "missed": _listed(by_status["late"] + by_status["overdue"]),
    })


def overdue_tasks(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue:
    """Assignments due in the period whose deadline passed before they were done (late or not at all)."""
    now = engine.clock.now()
    missed = [(t, a) for t, a in _due(engine, node, start, end) if t.status(a, now) in ("late", "overdue")]
    return MetricValue(Fraction(len(missed)), {"assignments missed": len(missed), "missed": _listed(missed)})


def tasks_done(engine: Engine, member: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of ``member``'s task parts due in the period that they did before the deadline."""
    now = engine.clock.now()
    parts = [(task, task.assignments[member]) for task in api.tasks(engine, start=start, end=end)
             if task.cancelled is None and member in task.assignments]
    if not parts:
        return None
    done = [task.id for task, part in parts if task.status(part, now) == "done"]
    missed = [task.id for task, part in parts if task.status(part, now) in ("late", "overdue")]
    return MetricValue(Fraction(100 * len(done), len(parts)),
                       {"parts due": len(parts), "done on time": len(done), "missed": ", ".join(missed) or "none"})


METRICS = (
    Metric("task_completion", "Task assignments done on time", "%", task_completion, title_zh="任务完成率", inputs_zh=METRIC_INPUTS_ZH),
    Metric("overdue_tasks", "Task assignments missed", "assignments", overdue_tasks, title_zh="逾期任务数", inputs_zh=METRIC_INPUTS_ZH,
           higher_is_better=False, unit_zh="项"),
    Metric("tasks_done", "The person's task parts done on time", "%", tasks_done, title_zh="任务按时完成率", inputs_zh=METRIC_INPUTS_ZH,
           about=MEMBER),
)
