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
from datetime import timedelta
from pathlib import Path

import gridcore
from gridcore.roster import ROLES
from gridcore.rules import CompileContext, Item, ItemKind, Name, Section

from .nodes import By, Rule, TaskNodes, To, Within
from .policy import DEFAULT_ASSIGNERS, TaskKind, TasksPolicy

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


def compile_tasks(items: Sequence[Item], ctx: CompileContext) -> TasksPolicy:
    """``Section.compile``: one ``TaskKind`` per item; problems go to ``ctx.error``."""
    kinds = []
    for item in items:
        if item.name is None or not isinstance(item.body, Rule):
            continue  # the parser has already said what is missing
        kind = _kind(item.name.text, item.body, ctx, item)
        if kind is not None:
            kinds.append(kind)
    return TasksPolicy(tuple(kinds))


def _kind(name: str, body: Rule, ctx: CompileContext, item: Item) -> TaskKind | None:
    within: timedelta | None = None
    by: tuple[str, ...] = DEFAULT_ASSIGNERS
    to: tuple[str, ...] = ()
    seen: set[type] = set()
    for part in body.parts:
        if type(part) in seen:
            word = {Within: "within (限时)", By: "by (由)", To: "to (派给)"}[type(part)]
            ctx.error(part, f"'{word}' is written twice for task {name}", f"任务 {name} 的“{word}”写了两次",
                      fix="keep one", fix_zh="只保留一处")
            return None
        seen.add(type(part))
        if isinstance(part, Within):
            if part.span <= timedelta(0):
                ctx.error(part, "a task needs some time: write e.g. within 7 days", "完成时限须大于零，如：限时 7 天")
                return None
            within = part.span
        elif isinstance(part, By):
            by = tuple(_role(ctx, role) for role in part.roles)
        elif isinstance(part, To):
            to = tuple(_role(ctx, role) for role in part.roles)
    return TaskKind(name=name, rule=ctx.ref(item), within=within, by=by, to=to)


def _role(ctx: CompileContext, written: Name) -> str:
    """The role id for a role written by id or Chinese name; a role no core list has is warned about."""
    text = written.text
    if text in ROLES:
        return text
    for ident, zh in ROLES.items():
        if zh == text:
            return ident
    ctx.error(written, f"'{text}' is not a core role: the community must declare it (community.yaml, roles:)",
              f"“{text}”不是内置角色：社区须在 community.yaml 的 roles 中声明",
              fix="use a core role, or declare this one in the community's roles", warning=True)
    return text


SECTION: Section[TasksPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("tasks", "专项任务", "任务清单"),
    items=ITEMS,
    grammar=Path(__file__).with_name("tasks.lark").read_text(encoding="utf-8"),
    compile=compile_tasks,
    transformer=TaskNodes(),
    keywords=KEYWORDS,
    vocabularies={"task": "task"},
    doc="Tasks (专项任务): the kinds of task assigned to the staff of a subtree, with deadlines.",
)
