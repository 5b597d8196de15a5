"""Compiling the tasks section: the kinds of task in force on a day to a ``TasksPolicy``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from gridcore.rules import CompileContext, Item, Name

from .nodes import By, Rule, To, Within
from .policy import DEFAULT_ASSIGNERS, TaskKind, TasksPolicy


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
    """The role id for a role written by id or Chinese name: a built-in role or the roster's own
    (``CompileContext.role`` reports one that is neither)."""
    return ctx.role(written) or written.text
