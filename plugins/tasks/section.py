"""The ``tasks`` / ``专项任务`` section: the kinds of task a community assigns.

::

    tasks:
      task door_to_door: within 7 days, by grid_leader or master_grid_leader, to fulltime_gridworker
      task emergency_callout: within 4 hours, by master_grid_leader, to fulltime_gridworker, parttime_gridworker
    专项任务：
      任务 入户排查：限时 7 天，由 网格长 或 总网格长 下达，派给 专职网格员、兼职网格员

Each ``task`` item names a kind of task and, in any order, how long an
assignment may take (``within``), who may assign it (``by``, held at or above
the task's node; default the grid leaders) and the roles it goes to (``to``,
written last; an assignment may name its own).  Dated versions work as in
every section.  ``SECTION`` is what the plugin registers and what it asks for:
``engine.policy(SECTION, at=event.time)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gridcore
from gridcore.rules import CompileContext, Item, ItemKind, Section

from .nodes import TaskNodes
from .policy import TasksPolicy

NAME = "tasks"

KEYWORDS: dict[str, tuple[str, ...]] = {
    "TASK_WITHIN": ("within", "限时", "期限", "以内", "内"),
    "TASK_BY": ("by", "由"),
    "TASK_ISSUE": ("下达", "布置"),
    "TASK_TO": ("to", "assigned to", "派给", "分派给", "交给"),
}

ITEMS = (
    ItemKind("task", ("task", "任务"), "tasks_rule",
             doc="a kind of task: the time allowed, who may assign it, the roles it goes to",
             doc_zh="一类专项任务：完成时限、下达人、承办角色"),
)


def _compile(items: Sequence[Item], ctx: CompileContext) -> TasksPolicy:
    from .compiler import compile_tasks

    return compile_tasks(items, ctx)


SECTION: Section[TasksPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("tasks", "专项任务", "任务清单"),
    items=ITEMS,
    grammar=Path(__file__).with_name("tasks.lark").read_text(encoding="utf-8"),
    compile=_compile,
    transformer=TaskNodes(),
    keywords=KEYWORDS,
    vocabularies={"task": "task"},
    doc="Tasks (专项任务): the kinds of task assigned to the staff of a subtree, with deadlines.",
    doc_zh="专项任务：派给某一范围内工作人员的任务种类及其期限。",
)
