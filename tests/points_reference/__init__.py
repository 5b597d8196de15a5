"""The points plugin's state as it was before it kept only what is still open (a test oracle).

A frozen copy of the earlier ``gridcore_points`` state, booking, checks,
ledger, deductions and API, which kept every event, claim, lot and period label.  The
property tests in ``tests/test_points_bounded.py`` feed the same random logs
to it and to the plugin and require the same refusals, balances, boards,
statements, flags and explanations.  Registered in place of the points
plugin (``get_plugin_manager(["points"], extra=[ReferencePoints()])``); it
uses the plugin's own section, policy and events.
"""

from __future__ import annotations

from typing import Any

from gridcore import Engine, hookimpl
from gridcore_points.events import POINTS_EVENT_TYPES
from gridcore_points.section import section

from .state import NAME, PointsState


class ReferencePoints:
    """The earlier points state, attached as ``"points"``."""

    @hookimpl
    def gridcore_register_event_types(self) -> list[Any]:
        return list(POINTS_EVENT_TYPES)

    @hookimpl
    def gridcore_register_sections(self) -> list[Any]:
        return [section()]

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        engine.attach(NAME, PointsState(engine))
