"""Hook implementations of the assessment plugin (registered through the ``gridcore`` entry point group).

Module-level hooks register what the plugin brings (its ruleset section, its
metrics, its commands and reports); the per-engine ``AssessmentState``
(state.py, attached as ``"assessment"``) answers explanations and outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

# The plugin's own modules are imported where they are used, so listing commands
# or checking a ruleset does not load the rating machinery.
if TYPE_CHECKING:
    import click

    from gridcore import Engine
    from gridcore.metrics import Metric
    from gridcore.reports import Report
    from gridcore.rules import Section


@hookimpl
def gridcore_on_open(engine: Engine) -> None:
    """Attach a fresh ``AssessmentState`` to the engine (again on every rebuild)."""
    from .state import NAME, AssessmentState

    engine.attach(NAME, AssessmentState(engine))


@hookimpl
def gridcore_register_metrics() -> list[Metric]:
    """The metrics this plugin computes from the event log (of nodes, and of people)."""
    from .metrics import METRICS
    from .person_metrics import PERSON_METRICS

    return [*METRICS, *PERSON_METRICS]


@hookimpl
def gridcore_register_sections() -> list[Section[Any]]:
    """The ``assessment`` section of the rules language."""
    from .section import section

    return [section()]


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore assess ...`` (its module imported only when it runs)."""
    from gridcore_app.cli import lazy_command

    from .help_zh import HELP_ZH

    return [lazy_command("assess", "gridcore_assessment.commands:assess_group",
                         "Rate every node at the rated levels for a period (评星定级) and store the result.", chinese=HELP_ZH)]


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``assessment.ratings``, ``assessment.subsidies``, ``assessment.compare``."""
    from .reports import REPORTS

    return list(REPORTS)
