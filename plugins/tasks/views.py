"""What the tasks plugin says about its decisions: explanations and what-if outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcore import Explanation, Outcome, OutcomeKind
from gridcore.explain import RuleRef

from .records import STATUSES, Task
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import TasksState

#: What the tasks plugin reports to a what-if comparison.
COMPLETION = OutcomeKind("tasks", "Tasks whose completion changes (完成情况有变化的专项任务)", "assignments", "项")


def rule_of(engine: Engine, task: Task) -> RuleRef | None:
    """The line of the ruleset (in force where and when the task was assigned) that declares its kind."""
    policy = engine.policy(SECTION, at=task.assigned, node=task.node)
    kind = policy.kind(task.kind) if policy is not None else None
    return kind.rule if kind is not None else None


def explain(engine: Engine, state: TasksState, decision: str, lang: str = "en") -> Explanation | None:
    """``tasks:<task>``: the task and every assignment; ``tasks:<task>:<member>``: one assignment (the summary, the
    result and the inputs' values in Chinese for ``lang="zh"``; the keys are headed by the plugin's labels)."""
    zh = lang == "zh"
    prefix, _, rest = decision.partition(":")
    if prefix != "tasks" or not rest:
        return None
    ident, _, member = rest.partition(":")
    task = state.find(ident)
    if task is None:
        return None
    now = engine.clock.now()
    rule = rule_of(engine, task)
    rules = (rule,) if rule is not None else ()
    if zh:
        where = "派发时给定" if task.deadline_given else f"派发时间加上 {rule} 的期限"
    else:
        where = "given with the assignment" if task.deadline_given else f"assigned + the 'within' of {rule}"
    inputs: dict[str, object] = {
        "kind": task.kind, "node": task.node, "assigned by": task.assigned_by,
        "assigned": task.assigned.isoformat(), "deadline": f"{task.deadline.isoformat()}（{where}）" if zh else f"{task.deadline.isoformat()} ({where})",
        "roles": ", ".join(task.roles),
    }
    if task.cancelled is not None:
        inputs["cancelled"] = (f"{task.cancelled.isoformat()}，{task.cancelled_by} 取消：{task.reason}" if zh else
                               f"{task.cancelled.isoformat()} by {task.cancelled_by}: {task.reason}")
    if member:
        assignment = task.assignments.get(member)
        if assignment is None:
            return None
        status = task.status(assignment, now)
        inputs.update({"member": member, "cell": assignment.cell, "found": assignment.found})
        if assignment.completed is not None:
            inputs["completed"] = (f"{assignment.completed.isoformat()}，于 {assignment.completed_in}（{assignment.completion}）"
                                   if zh else f"{assignment.completed.isoformat()} at {assignment.completed_in} "
                                   f"({assignment.completion})")
        if zh:
            summary = (f"{member} 在 {assignment.cell} 承担的{task.kind} {task.id}：{STATUSES[status]}，"
                       f"期限为 {task.deadline.isoformat()}")
            return Explanation(decision, summary, rules, inputs, STATUSES[status])
        summary = (f"{member}'s part of {task.kind} {task.id} at {assignment.cell}: {status} "
                   f"({STATUSES[status]}); due before {task.deadline.isoformat()}")
        return Explanation(decision, summary, rules, inputs, status)
    counts = task.counts(now)
    for person, assignment in task.assignments.items():
        status = task.status(assignment, now)
        inputs[f"assignment {person}"] = f"{assignment.cell}：{STATUSES.get(status, status)}" if zh else \
            f"{assignment.cell}: {status}"
    if zh:
        said = "，".join(f"{STATUSES.get(status, status)} {n} 人" for status, n in counts.items() if n)
        summary = f"{task.kind} {task.id}（{task.node}），派发 {len(task.assignments)} 人：{said}"
        return Explanation(decision, summary, rules, inputs, counts["done"])
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    summary = f"{task.kind} {task.id} at {task.node}, {len(task.assignments)} assigned: {said}"
    return Explanation(decision, summary, rules, inputs, counts["done"])


def outcomes(engine: Engine, state: TasksState) -> list[Outcome]:
    """Per task: assignments done on time, done late, and missed (as at the engine's clock)."""
    now = engine.clock.now()
    out = []
    for task in sorted(state.due_between(None, None), key=lambda t: t.id):  # (every task: the whole history)
        ident = task.id
        rule = rule_of(engine, task)
        rules = (rule,) if rule is not None else ()
        counts = task.counts(now)
        for status in ("done", "late", "overdue"):
            out.append(Outcome("tasks", f"task:{ident}:{status}", counts[status], rules, task.node, COMPLETION))
    return out
