"""The tasks plugin's events (its published module): a task assigned, completed, cancelled, overdue.

Registered through ``gridcore_register_event_types`` like any plugin's
events; other plugins may import this module to read them (the points plugin
does, to pay for a task done on time and deduct for one missed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.events import Event, between, non_empty


def _aware_or_none(instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a time with a zone, e.g. 2025-03-31T18:00:00+08:00 (时间须带时区)")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{attribute.name} must list non-empty names, got {name!r} (名称不能为空)")


@frozen(kw_only=True)
class TaskAssigned(Event):
    """A leader (the actor) assigns a task to the staff of ``node``'s subtree (专项任务下达).

    ``kind`` is the task as the ruleset's ``tasks`` section names it (a
    door-to-door sweep, a census of a special group, an emergency call-out);
    ``task`` is this assignment's own id.  The task goes to every member
    holding one of ``roles`` (role ids or Chinese names; the ruleset's ``to``
    when empty) at ``node`` or below.  It is due before ``deadline`` (the
    ruleset's ``within`` after ``time`` when not given).
    """

    kind: ClassVar[str] = "task_assigned"
    title_zh: ClassVar[str] = "专项任务下达"
    doc_zh: ClassVar[str] = "领导（操作人）把一项专项任务派给 node 及其下级的工作人员。"
    fields_zh: ClassVar[Mapping[str, str]] = {"task": "任务编号", "task_kind": "任务类别", "title": "任务内容", "deadline": "完成期限", "roles": "派给的角色"}
    task: str = field(validator=non_empty)
    task_kind: str = field(validator=non_empty)
    title: str = ""
    deadline: datetime | None = field(default=None, validator=_aware_or_none)
    roles: tuple[str, ...] = field(default=(), converter=_tuple, validator=_names)


@frozen(kw_only=True)
class TaskCompleted(Event):
    """An assignee (the actor) did their part of ``task`` at ``node``, with what they found.

    ``found`` counts what the work turned up (hazards, people of the group
    counted, households not at home ...), ``note`` says what.  Before the
    deadline it is on time; at or after it, late (still recorded).
    """

    kind: ClassVar[str] = "task_completed"
    title_zh: ClassVar[str] = "专项任务完成"
    doc_zh: ClassVar[str] = "被派任务的人（操作人）在 node 完成了任务 task 中派给自己的那一份，附发现情况。"
    fields_zh: ClassVar[Mapping[str, str]] = {"task": "任务编号", "found": "发现数", "note": "发现情况说明"}
    task: str = field(validator=non_empty)
    found: int = field(default=0, validator=between(0, 1_000_000))
    note: str = ""


@frozen(kw_only=True)
class TaskCancelled(Event):
    """A leader (the actor) calls ``task`` off: nothing of it is overdue any more."""

    kind: ClassVar[str] = "task_cancelled"
    title_zh: ClassVar[str] = "专项任务取消"
    doc_zh: ClassVar[str] = "领导（操作人）取消任务 task：此后不再算逾期。"
    fields_zh: ClassVar[Mapping[str, str]] = {"task": "任务编号"}
    task: str = field(validator=non_empty)
    reason: str = ""


@frozen(kw_only=True)
class TaskOverdue(Event):
    """``member`` had not done their part of ``task`` by its deadline (derived, actor ``system``).

    The engine derives it at the deadline itself (``time``), for each
    assignment still open then; ``node`` is the cell the assignment was for.
    """

    kind: ClassVar[str] = "task_overdue"
    title_zh: ClassVar[str] = "专项任务逾期"
    doc_zh: ClassVar[str] = "member 到期限仍未完成任务 task 中派给自己的那一份（自动生成，操作人为 system）。"
    fields_zh: ClassVar[Mapping[str, str]] = {"task": "任务编号", "member": "逾期成员"}
    derived: ClassVar[bool] = True
    people: ClassVar[tuple[str, ...]] = ("member",)
    task: str = field(validator=non_empty)
    member: str = field(validator=non_empty)


#: Every event kind of the tasks plugin.
TASK_EVENT_TYPES: tuple[type[Event], ...] = (TaskAssigned, TaskCompleted, TaskCancelled, TaskOverdue)
