"""Hook implementations of the points plugin (registered through the ``gridcore`` entry point group).

Module-level hooks register what the plugin brings (its event type, its rules
section, its CLI group, reports and metric); the per-engine ``PointsState``
(attached as ``"points"``) keeps the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

if TYPE_CHECKING:
    import click

    from gridcore import Engine, Report
    from gridcore.events import Event
    from gridcore.metrics import Metric


@hookimpl
def gridcore_register_event_types() -> list[type[Event]]:
    """The plugin's own events: ``points_redeemed`` and ``recognition_awarded``."""
    from .events import POINTS_EVENT_TYPES

    return list(POINTS_EVENT_TYPES)


@hookimpl
def gridcore_register_sections() -> list[Any]:
    """The ``points`` / ``积分`` section of the rules language."""
    try:
        from .section import section
    except ImportError:  # the rules language's Section API is still being written
        return []
    return [section()]


@hookimpl
def gridcore_on_open(engine: Engine) -> None:
    """Attach a fresh ledger to the engine (again on every rebuild)."""
    # Imported here, not at the top: listing commands or checking a ruleset needs no ledger.
    from .state import NAME, PointsState

    engine.attach(NAME, PointsState(engine))


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore points balance|statement|board|totals|flags|redeem`` (imported only when it runs)."""
    from gridcore_app.cli import lazy_command

    from .help_zh import HELP_ZH

    return [lazy_command("points", "gridcore_points.commands:points",
                         "Points (积分): balances, statements, the monthly board, redemption.", chinese=HELP_ZH)]


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``points.statement``, ``points.board``, ``points.totals`` and ``points.flags``."""
    from .reports import registered_reports

    return registered_reports()


@hookimpl
def gridcore_register_metrics() -> list[Metric]:
    """``points_per_resident``."""
    from .metrics import points_per_resident

    return [points_per_resident()]
