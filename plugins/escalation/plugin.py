"""Hook implementations of the escalation plugin (the ``escalation`` entry point).

Module-level hooks register what the plugin adds (its rules section, reports,
metrics, commands); per-engine work is done by ``EscalationState``, attached
as ``"escalation"`` when an engine opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

if TYPE_CHECKING:
    import click

    from gridcore import Community, Engine, Event, Report
    from gridcore.metrics import Metric
    from gridcore.onrecord import LeftOnRecord, Proposed
    from gridcore.rules import Diagnostic, Ruleset, Section


@hookimpl
def gridcore_register_event_types() -> list[type[Event]]:
    """The incident lifecycle: ``incident_reported`` ... ``incident_closed``, ``satisfaction_rated``."""
    from .events import INCIDENT_EVENT_TYPES

    return list(INCIDENT_EVENT_TYPES)


@hookimpl
def gridcore_on_open(engine: Engine) -> None:
    """Attach a fresh state (again on every rebuild)."""
    # Imported here, not at the top: listing commands or checking a ruleset needs no state.
    from .state import NAME, EscalationState

    engine.attach(NAME, EscalationState(engine))


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``escalation.open``, ``.overdue``, ``.timeline``, ``.stats``, ``.levels``, ``.departments``."""
    from .reports import REPORTS

    return list(REPORTS)


@hookimpl
def gridcore_register_metrics() -> list[Metric]:
    """Acceptance, closure and feedback within limits, satisfaction, reopen and escalation rates,
    overdue, and the line departments' arrivals, closures and returns; per person, the cases they
    resolved within limits and their satisfaction."""
    from .metrics import METRICS
    from .person_metrics import PERSON_METRICS

    return [*METRICS, *PERSON_METRICS]


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore incidents ...`` (its module imported only when it runs)."""
    from gridcore_app.cli import lazy_command

    from .help_zh import HELP_ZH

    return [lazy_command("incidents", "gridcore_escalation.commands:incidents_group",
                         "Incidents through the closed loop: report, accept, handle, resolve, verify, close (事件).", chinese=HELP_ZH)]


@hookimpl
def gridcore_register_sections() -> list[Section[Any]]:
    """The ``escalation`` / ``事件流转`` section of the rules language."""
    from .section import section

    return [section()]


@hookimpl
def gridcore_check_stored(engine: Engine, proposed: Proposed) -> list[LeftOnRecord]:
    """The stored reports a closed category list put in force back-dated does not hold: left on record."""
    from .unlisted import left_on_record

    return left_on_record(engine, proposed)


@hookimpl
def gridcore_check_ruleset(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """Every line department the section routes to must be on the community's roster, and the
    roles it relies on (the verifier above every cell, each notified role) held by someone."""
    from .roster_check import department_problems, role_problems

    return department_problems(community, ruleset) + role_problems(community, ruleset)
