"""The tasks plugin's reports: tasks and their progress, one task's assignments, what is overdue.

Each is a ``gridcore.reports.Report`` (``gridcore report tasks.list``) and a
plain function returning a ``Table`` for the command line and embedders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore import Report, Table
from gridcore.periods import label_zh, parse_period
from gridcore.reports import PER_PERIOD, Showcase

from . import api
from .headings import HEADINGS_ZH
from .records import STATUSES

if TYPE_CHECKING:
    from gridcore import Engine


def _when(engine: Engine, when: datetime | None) -> str:
    return "" if when is None else when.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M")


def _percent(value: Fraction | None) -> int | float | None:
    """An exact share as shown: rounded half up to two decimals (kept exact until here)."""
    if value is None:
        return None
    shown = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return int(shown) if shown == shown.to_integral_value() else float(shown)


def list_table(engine: Engine, period: str | None = None, within: str | None = None,
               now: datetime | None = None, lang: str = "en") -> Table:
    """One row per task (due in ``period`` if given): its assignments by status and the on-time rate; under
    ``lang="zh"`` (staff reading Chinese) a cancelled task's note with its Chinese (``已取消 cancelled``)."""
    when = now or engine.clock.now()
    start = end = None
    if period:
        span = parse_period(period, engine.community.tz)
        start, end = span.start, span.end
    rows = []
    for task in api.tasks(engine, within=within, start=start, end=end):
        counts = task.counts(when)
        progress = api.Progress(task, counts)
        rows.append((task.id, task.kind, task.title, task.node, _when(engine, task.assigned),
                     _when(engine, task.deadline), progress.assigned, counts["done"], counts["late"],
                     counts["overdue"], counts["open"], _percent(progress.rate),
                     "cancelled" if task.cancelled is not None else ""))
    columns = ("task", "kind", "title", "node", "assigned", "deadline", "assignees", "done", "late",
               "overdue", "open", "on time %", "note")
    title = f"Tasks{f' due in {period}' if period else ''} (专项任务)"
    return Table(title, columns, tuple(rows), headings=HEADINGS_ZH,
                 values={"note": {"cancelled": STATUSES["cancelled"]}} if lang == "zh" else {},
                 title_zh=f"专项任务，{label_zh(period)} 到期" if period else "专项任务")


def task_table(engine: Engine, ident: str, now: datetime | None = None, lang: str = "en") -> Table:
    """One row per assignment of task ``ident``: whose, for which cell, its status, what was found; under
    ``lang="zh"`` (staff reading Chinese) the status by its Chinese (``逾期未完成 overdue``) and the notes in
    Chinese alone. JSON and English keep the English (``overdue 逾期未完成``)."""
    when = now or engine.clock.now()
    task = api.task(engine, ident)
    members = engine.community.members
    rows = []
    for member, a in task.assignments.items():
        status = task.status(a, when)
        name = members[member].name if member in members else member
        rows.append((member, name, a.cell, status if lang == "zh" else f"{status} {STATUSES[status]}",
                     _when(engine, a.completed), a.found, a.note))
    assigned, deadline = _when(engine, task.assigned), _when(engine, task.deadline)
    if lang == "zh":
        notes = [f"{task.kind}（{task.node}）：{task.assigned_by} 于 {assigned} 派发，{deadline} 前完成"]
        if task.cancelled is not None:
            notes.append(f"已取消：{task.cancelled_by} 于 {_when(engine, task.cancelled)} 取消，原因：{task.reason}")
    else:
        notes = [(f"{task.kind} at {task.node}, assigned by {task.assigned_by} {assigned}, "
                  f"due before {deadline} ({task.assigned_by} 派发，{deadline} 前完成)")]
        if task.cancelled is not None:
            notes.append(f"cancelled {_when(engine, task.cancelled)} by {task.cancelled_by}: {task.reason} (已取消)")
    columns = ("member", "name", "node", "status", "completed", "found", "note")
    return Table(f"Task {task.id}: {task.title or task.kind} (专项任务)", columns, tuple(rows), tuple(notes),
                 headings=HEADINGS_ZH, values={"status": STATUSES} if lang == "zh" else {},
                 title_zh=f"专项任务 {task.id}：{task.title or task.kind}")


def overdue_table(engine: Engine, within: str | None = None, now: datetime | None = None,
                  lang: str = "en") -> Table:
    """Assignments past their deadline and not done, oldest deadline first, with how late they are (under
    ``lang="zh"`` in Chinese: ``3天4小时``; JSON and English: ``3d 4h``)."""
    when = now or engine.clock.now()
    members = engine.community.members
    rows = []
    for task, a in api.overdue(engine, within=within, now=when):
        late = when - task.deadline
        name = members[a.member].name if a.member in members else a.member
        rows.append((task.id, task.kind, a.member, name, a.cell, _when(engine, task.deadline),
                     f"{late.days}天{late.seconds // 3600}小时" if lang == "zh" else
                     f"{late.days}d {late.seconds // 3600}h"))
    columns = ("task", "kind", "member", "name", "node", "deadline", "overdue by")
    return Table("Overdue task assignments (逾期未完成)", columns, tuple(rows), headings=HEADINGS_ZH)


def _build_list(engine: Engine, params: Mapping[str, str], lang: str = "en") -> Table:
    return list_table(engine, params.get("period") or None, params.get("within") or None, lang=lang)


def _build_task(engine: Engine, params: Mapping[str, str], lang: str = "en") -> Table:
    from gridcore import UnknownNameError

    if not params.get("task"):
        raise UnknownNameError("tasks.task needs task=..., e.g. task=sweep-2025-03 (须指明任务编号)")
    return task_table(engine, params["task"], lang=lang)


def _build_overdue(engine: Engine, params: Mapping[str, str], lang: str = "en") -> Table:
    return overdue_table(engine, params.get("within") or None, lang=lang)


def _in_chinese(build: Callable[[Engine, Mapping[str, str], str], Table]) -> Callable[[Engine, Mapping[str, str], Table],
                                                                                       Table]:
    """A report's ``chinese`` view: its table built again as staff read it in Chinese (``lang="zh"``)."""
    return lambda engine, params, table: build(engine, params, "zh")


REPORTS = (
    Report("tasks.list", "Tasks (due in a period) with their assignments by status and the on-time rate (专项任务及按时完成率)",
           _build_list, ("period", "within"),
           showcase=Showcase(PER_PERIOD, "Tasks due in {label} (专项任务): {rows}", rows=8,
                             heading_zh="专项任务，{label} 到期：{rows} 项",
                             columns=("task", "kind", "node", "deadline", "assignees", "done", "late", "overdue"),
                             title=False, empty="none (无)", order=55),
           chinese=_in_chinese(_build_list)),
    Report("tasks.task", "One task's assignments: whose, where, status, what was found (专项任务的派发与完成情况)", _build_task, ("task",),
           chinese=_in_chinese(_build_task)),
    Report("tasks.overdue", "Task assignments past their deadline and not done (逾期未完成的专项任务)", _build_overdue, ("within",),
           showcase=Showcase(heading="Task assignments overdue at the end (逾期未完成): {rows}", rows=8,
                             heading_zh="期末逾期未完成：{rows} 项",
                             empty="none: every assignment due was done (无：到期的任务均已完成)", order=56),
           chinese=_in_chinese(_build_overdue)),
)
