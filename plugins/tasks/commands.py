"""``gridcore tasks ...``: list, show, overdue, and the steps: assign, complete, cancel.

Each step records one event at ``--now`` (default: the system clock) by
``--actor``; the engine judges it like any other (a refusal prints its reasons
and changes nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from gridcore_app.cli import (
    format_option,
    help_lang,
    in_community_zone,
    now_option,
    open_engine,
    parse_local_time,
    parse_period_written,
    person_id,
    store_option,
)

from . import api, reports
from .events import TaskAssigned, TaskCancelled, TaskCompleted
from .records import STATUSES


@click.group("tasks")
def tasks_group() -> None:
    """Tasks (专项任务): assign to the staff of a subtree, record completions, list what is overdue."""


def _lang(fmt: str) -> str:
    """The language a table's cells are said in: ``zh`` under ``--lang zh`` (text and a CSV for staff); JSON
    keeps the English, as English output does."""
    return "zh" if getattr(fmt, "lang", "en") == "zh" and fmt != "json" else "en"


@tasks_group.command("list")
@click.option("--period", callback=parse_period_written, metavar="PERIOD", help="Only tasks due in PERIOD: 2025-Q1, 2025-03, 2025-W10 ...")
@click.option("--within", metavar="NODE", help="Only tasks assigned at NODE or below.")
@store_option
@now_option
@format_option
def list_command(period: str | None, within: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """Tasks with their assignments by status and the share done on time."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(reports.list_table(engine, period, within, lang=_lang(fmt)).render(fmt), nl=False)


@tasks_group.command("show")
@click.argument("task")
@store_option
@now_option
@format_option
def show_command(task: str, store: str, now: datetime | None, fmt: str) -> None:
    """One task's assignments: whose, for which cell, status, what was found."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(reports.task_table(engine, task, lang=_lang(fmt)).render(fmt), nl=False)


@tasks_group.command("overdue")
@click.option("--within", metavar="NODE", help="Only assignments for NODE or below.")
@store_option
@now_option
@format_option
def overdue_command(within: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """Assignments past their deadline and not done."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(reports.overdue_table(engine, within, lang=_lang(fmt)).render(fmt), nl=False)


# ---------------------------------------------------------------- steps

_actor = click.option("--actor", required=True, metavar="MEMBER", help="Who does it (a member's id or name).")
def _node(engine: Any, written: str) -> str:
    """The id of the node ``written`` names: its id, or its name when one node alone bears it."""
    return str(engine.community.hierarchy.find(written).id)


_id = click.option("--id", "event_id", metavar="ID", help="The event's id (default: made from the task and time).")


@tasks_group.command("assign")
@click.argument("task")
@click.option("--kind", "task_kind", required=True, help="The kind of task, as the ruleset's tasks section names it.")
@click.option("--node", required=True, metavar="NODE", help="The subtree whose staff the task goes to.")
@click.option("--deadline", callback=parse_local_time, metavar="TIME", help="Due before this time (without a "
              "zone, the community's: 2025-03-31T18:00; default: the ruleset's 'within' after now).")
@click.option("--role", "roles", multiple=True, metavar="ROLE", help="A role it goes to (repeat; default: the "
              "ruleset's 'to').")
@click.option("--title", default="", help="What the task is, in words.")
@_actor
@_id
@store_option
@now_option
def assign_command(task: str, task_kind: str, node: str, deadline: datetime | None, roles: tuple[str, ...],
                   title: str, actor: str, event_id: str | None, store: str, now: datetime | None) -> None:
    """Assign TASK to the members holding its roles at NODE or below."""
    with open_engine(store, now=now) as engine:
        when = now or engine.clock.now()
        deadline = in_community_zone(deadline, engine) if deadline is not None else None
        actor, node = person_id(engine, actor, known=False), _node(engine, node)
        stored = engine.record(TaskAssigned(id=event_id or f"{task}:assigned", time=when, actor=actor, node=node,
                                            task=task, task_kind=task_kind, title=title, deadline=deadline,
                                            roles=roles))
        found = api.task(engine, task)
        said = "assigned" if stored else "already assigned"
        english = (f"{said} {task} ({found.kind}) to {len(found.assignments)}: "
                   f"{', '.join(found.assignments)}; due before {found.deadline.isoformat()}")
        click.echo(english if help_lang() != "zh" else
                   f"{'已派发' if stored else '此前已派发'} {task}（{found.kind}）给 {len(found.assignments)} 人："
                   f"{'、'.join(found.assignments)}；截止 {found.deadline.isoformat()}（{english}）")


@tasks_group.command("complete")
@click.argument("task")
@click.option("--node", required=True, metavar="NODE", help="Where the work was done.")
@click.option("--found", default=0, type=click.IntRange(0), show_default=True, help="How many things it found.")
@click.option("--note", default="", help="What was found, in words.")
@_actor
@_id
@store_option
@now_option
def complete_command(task: str, node: str, found: int, note: str, actor: str, event_id: str | None, store: str,
                     now: datetime | None) -> None:
    """Record that --actor did their part of TASK."""
    with open_engine(store, now=now) as engine:
        when = now or engine.clock.now()
        actor, node = person_id(engine, actor, known=False), _node(engine, node)
        stored = engine.record(TaskCompleted(id=event_id or f"{task}:done:{actor}", time=when, actor=actor,
                                             node=node, task=task, found=found, note=note))
        item = api.task(engine, task)
        status = item.status(item.assignments[actor], when)
        said = "recorded" if stored else "already recorded"
        english = f"{said}: {actor}'s part of {task} is {status} ({STATUSES[status]})"
        click.echo(english if help_lang() != "zh" else
                   f"{'已记录' if stored else '此前已记录'}：{actor} 在 {task} 中的部分{STATUSES[status]}（{english}）")


@tasks_group.command("cancel")
@click.argument("task")
@click.option("--reason", default="", help="Why it is called off.")
@_actor
@_id
@store_option
@now_option
def cancel_command(task: str, reason: str, actor: str, event_id: str | None, store: str,
                   now: datetime | None) -> None:
    """Call TASK off: nothing of it is overdue any more."""
    with open_engine(store, now=now) as engine:
        when = now or engine.clock.now()
        node = api.task(engine, task).node
        actor = person_id(engine, actor, known=False)
        stored = engine.record(TaskCancelled(id=event_id or f"{task}:cancelled", time=when, actor=actor,
                                             node=node, task=task, reason=reason))
        click.echo(f"{'cancelled' if stored else 'already cancelled'} {task}" if help_lang() != "zh" else
                   f"{'已取消' if stored else '此前已取消'} {task}")
