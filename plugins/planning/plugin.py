"""Hook implementations of the planning plugin (the ``planning`` entry point of the ``gridcore`` group).

It keeps no state: it brings the ``planning`` / ``网格规划`` section, checks a
ruleset's planned sizes against the community it runs on
(``gridcore_check_ruleset``: warnings, never errors) and a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import hookimpl

if TYPE_CHECKING:
    from gridcore import Community, Report
    from gridcore.rules import Diagnostic, Ruleset, Section


@hookimpl
def gridcore_register_sections() -> list[Section[Any]]:
    """The ``planning`` / ``网格规划`` section."""
    from .section import SECTION

    return [SECTION]


@hookimpl
def gridcore_check_ruleset(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """A warning for each planned level whose cells are far from the planned size."""
    from .checks import size_warnings

    return size_warnings(community, ruleset)


@hookimpl
def gridcore_register_reports() -> list[Report]:
    """``planning.sizes``."""
    from .reports import REPORTS

    return list(REPORTS)
