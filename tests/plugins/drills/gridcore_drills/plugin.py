"""The plugin's hooks (entry point ``drills`` in the ``gridcore`` group).

Everything it brings comes through a ``gridcore_register_*`` hook, and it
imports only what docs/plugins.md lists; its modules are imported inside the
hooks, so loading the plugin costs nothing until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from gridcore import Engine, Event, EventKinds, Report
    from gridcore.metrics import Metric
    from gridcore.rules import Section


@hookimpl
def gridcore_register_event_types() -> list[type[Event]]:
    """``drill_held``."""
    from .events import DrillHeld

    return [DrillHeld]


@hookimpl
def gridcore_register_sections() -> list[Section[Any]]:
    """``drills`` / ``消防演练``."""
    from .section import SECTION

    return [SECTION]


@hookimpl
def gridcore_register_metrics() -> list[Metric]:
    """``drill_coverage``."""
    from .metrics import METRICS

    return list(METRICS)


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``drills.held``."""
    from .reports import REPORTS

    return list(REPORTS)


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore drills ...``."""
    from gridcore_app.cli import lazy_command

    from .help_zh import HELP_ZH

    return [lazy_command("drills", "gridcore_drills.commands:drills_group",
                         "Drills (消防演练): what was held, against what the ruleset requires.", chinese=HELP_ZH)]


@hookimpl
def gridcore_register_routes() -> list[BaseRoute]:
    """``GET`` and ``POST /drills/held`` in ``gridcore serve``."""
    from .routes import ROUTES

    return list(ROUTES)


@hookimpl
def gridcore_event_kinds() -> EventKinds:
    """Its validation is asked of drills only (named by kind: nothing is imported for it)."""
    from gridcore import EventKinds

    return EventKinds(validate_event=["drill_held"])


@hookimpl
def gridcore_validate_event(engine: Engine, event: Event) -> list[str] | None:
    """A drill the ruleset in force does not name is refused (with the ones it names).

    Asked of drills only (``gridcore_event_kinds`` above).
    """
    from .events import DrillHeld
    from .section import SECTION

    if not isinstance(event, DrillHeld):
        return None
    policy = engine.policy(SECTION, at=event.time)
    if policy is None:
        return [(f"no ruleset in force at {event.time.isoformat()} has a drills section "
                f"({event.time.isoformat()} 时现行的规则集没有消防演练部分)")]
    if policy.requirement(event.drill) is None:
        known = ", ".join(r.drill for r in policy.requirements)
        return [(f"unknown drill {event.drill!r} (the ruleset names: {known or 'none'}) "
                f"(未知演练 {event.drill!r}，规则集中的演练：{known or '无'})")]
    return None
