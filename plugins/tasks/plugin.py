"""Hook implementations of the tasks plugin (the ``tasks`` entry point of the ``gridcore`` group).

Everything it brings comes through the hooks a third party uses: module-level
hooks register its events, its rules section, metrics, reports and commands;
the per-engine ``TasksState`` (attached as ``"tasks"``) keeps the tasks,
derives what falls overdue and checkpoints itself.  Modules are imported
inside the hooks, so loading the plugin costs nothing until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

if TYPE_CHECKING:
    import click

    from gridcore import Engine, Event, Report
    from gridcore.metrics import Metric
    from gridcore.rules import Section


@hookimpl
def gridcore_register_event_types() -> list[type[Event]]:
    """``task_assigned``, ``task_completed``, ``task_cancelled``, ``task_overdue``."""
    from .events import TASK_EVENT_TYPES

    return list(TASK_EVENT_TYPES)


@hookimpl
def gridcore_register_sections() -> list[Section[Any]]:
    """The ``tasks`` / ``专项任务`` section of the rules language."""
    from .section import SECTION

    return [SECTION]


@hookimpl
def gridcore_on_open(engine: Engine) -> None:
    """Attach a fresh tasks state (again on every rebuild)."""
    from .state import NAME, TasksState

    engine.attach(NAME, TasksState(engine))


@hookimpl
def gridcore_register_metrics() -> list[Metric]:
    """``task_completion`` and ``overdue_tasks`` (of nodes), ``tasks_done`` (of a person)."""
    from .metrics import METRICS

    return list(METRICS)


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``tasks.list``, ``tasks.task``, ``tasks.overdue``."""
    from .reports import REPORTS

    return list(REPORTS)


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore tasks ...`` (its module imported only when it runs)."""
    from gridcore_app.cli import lazy_command

    from .help_zh import HELP_ZH

    return [lazy_command("tasks", "gridcore_tasks.commands:tasks_group",
                         "Tasks (专项任务): assign to the staff of a subtree, record completions, list what is "
                         "overdue.", chinese=HELP_ZH)]
