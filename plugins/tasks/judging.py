"""Judging task events against the ruleset and the roster: what a task becomes, or why it is refused.

``plan`` turns a ``task_assigned`` into the ``Task`` it creates (deadline,
roles, assignees), or the reasons it cannot; ``refusals`` says why any task
event must be refused.  Every reason is in English, then Chinese.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcore.events import SYSTEM_ACTOR, Event

from .assignees import assignees, role_ids
from .events import TaskAssigned, TaskCancelled, TaskCompleted, TaskOverdue
from .records import Assignment, Task
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import TasksState


def plan(engine: Engine, event: TaskAssigned) -> tuple[Task | None, list[str]]:
    """The task ``event`` creates, or the reasons it cannot (under the ruleset in force at its time)."""
    policy = engine.policy(SECTION, at=event.time, node=event.node)
    if policy is None:
        return None, [f"no ruleset in force at {event.time.isoformat()} has a tasks section (现行规则集没有专项任务栏目)"]
    kind = policy.kind(event.task_kind)
    if kind is None:
        known = ", ".join(policy.names()) or "none"
        return None, [f"unknown task kind {event.task_kind!r} (the ruleset names: {known}) (未知的任务类别)"]
    reasons = []
    community = engine.community
    if not community.holds_role_at_or_above(event.actor, event.node, kind.by):
        reasons.append(
            f"{event.actor} may not assign {kind.name} at {event.node}: only {', '.join(kind.by)} at "
            f"{event.node} or above may ({kind.rule}) (无权下达此任务)")
    deadline = event.deadline
    if deadline is None and kind.within is not None:
        deadline = event.time + kind.within
    if deadline is None:
        reasons.append(f"task {event.task} has no deadline: give one, or say 'within ...' in the ruleset "
                       f"({kind.rule}) (任务须有完成时限)")
    elif deadline <= event.time:
        reasons.append(f"the deadline {deadline.isoformat()} is not after the assignment "
                       f"({event.time.isoformat()}) (完成时限须晚于下达时间)")
    roles, unknown = role_ids(community, event.roles or kind.to)
    if unknown:
        reasons.append(f"unknown role(s) {', '.join(unknown)} (未知角色)")
    if not (event.roles or kind.to):
        reasons.append(f"say to whom task {event.task} goes: roles in the event, or 'to ...' in the ruleset "
                       f"({kind.rule}) (须指明承办角色)")
    people = assignees(community, event.node, roles) if roles else {}
    if roles and not people:
        reasons.append(f"nobody holds {', '.join(roles)} at or above {event.node} (该网格无人担任承办角色)")
    if reasons or deadline is None:
        return None, reasons
    task = Task(
        id=event.task, kind=kind.name, title=event.title, node=event.node, assigned_by=event.actor,
        assigned=event.time, deadline=deadline, deadline_given=event.deadline is not None, roles=tuple(roles),
        event=event.id, assignments={m: Assignment(m, cell) for m, cell in people.items()},
    )
    return task, []


def refusals(engine: Engine, state: TasksState, event: Event) -> list[str]:
    """Why a task event must be refused ([] to accept; other events are not judged here)."""
    if isinstance(event, TaskAssigned):
        if state.known(event.task):
            return [f"task {event.task!r} was already assigned (任务编号已存在)"]
        return plan(engine, event)[1]
    if not isinstance(event, (TaskCompleted, TaskCancelled, TaskOverdue)):
        return []
    task = state.find(event.task)
    if task is None:
        return [f"unknown task {event.task!r}: it was never assigned (任务不存在)"]
    if task.cancelled is not None:
        return [f"task {task.id} was cancelled at {task.cancelled.isoformat()} (任务已取消)"]
    if isinstance(event, TaskCompleted):
        return _completion_refusals(engine, task, event)
    if isinstance(event, TaskCancelled):
        return _cancel_refusals(engine, task, event)
    assignment = task.assignments.get(event.member)
    if event.actor != SYSTEM_ACTOR or assignment is None or assignment.completed is not None \
            or assignment.overdue or event.time < task.deadline:
        return ["task_overdue is derived by the engine at a task's deadline (逾期由系统判定)"]
    return []


def _completion_refusals(engine: Engine, task: Task, event: TaskCompleted) -> list[str]:
    assignment = task.assignments.get(event.actor)
    if assignment is None:
        return [(f"{event.actor} was not assigned task {task.id} (assigned: {', '.join(task.assignments)}) "
                "(此人不是该任务的承办人)")]
    if assignment.completed is not None:
        return [(f"{event.actor} already completed task {task.id} at {assignment.completed.isoformat()} "
                f"({assignment.completion}) (已完成此任务)")]
    if not engine.community.hierarchy.is_within(event.node, assignment.cell):
        return [(f"{event.actor}'s part of task {task.id} is at {assignment.cell}, not {event.node} "
                "(所报网格与其承办的网格不符)")]
    return []


def _cancel_refusals(engine: Engine, task: Task, event: TaskCancelled) -> list[str]:
    if event.node != task.node:
        return [(f"task {task.id} was assigned at {task.node}; cancel it there, not at {event.node} "
                "(须在下达任务的网格取消)")]
    policy = engine.policy(SECTION, at=event.time, node=task.node)
    kind = policy.kind(task.kind) if policy is not None else None
    roles = kind.by if kind is not None else ()
    if event.actor == task.assigned_by or engine.community.holds_role_at_or_above(event.actor, task.node, roles):
        return []
    return [(f"{event.actor} may not cancel task {task.id}: only {task.assigned_by}, who assigned it, or "
            f"{', '.join(roles) or 'its assigners'} at {task.node} or above may (无权取消此任务)")]
