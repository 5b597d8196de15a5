"""gridcore's built-in escalation plugin (import name ``gridcore_escalation``).

Runs every incident through the closed loop (discover, consult, handle,
feedback, evaluate) under the ``escalation`` section of a community's ruleset:
where an incident starts, how long each level has, what escalates at once,
which line departments hear of it.  Read-only API for embedders and other
plugins (each takes an engine)::

    incidents(engine, status=None, within=None) -> list[IncidentView]
    reported_in(engine, start, end, within=None) -> list[IncidentView]   (reads only that period's closed ones)
    incident(engine, incident_id) -> IncidentView
    timeline(engine, incident_id) -> list[Entry]
    timeline_zh(engine, incident_id) -> list[tuple[str, str]]   (each step's name and detail in Chinese)
    overdue(engine, now=None) -> list[tuple[IncidentView, Deadline]]
    categories(engine, at=None, node=None) -> list[Category]   (node: the ruleset governing it)
    category_code(engine, written, at) -> str   (a category's name -> its code)
    limits(engine, at=None, node=None) -> list[LimitsRow]  (which time limit applies where)

See docs/escalation.md.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .incident import Entry, Escalation
    from .limits import PRECEDENCE, LimitsRow
    from .policy import Category, EscalationPolicy
    from .timers import Deadline
    from .views import (
        IncidentView,
        categories,
        category_code,
        incident,
        incidents,
        limits,
        overdue,
        reported_in,
        timeline,
        timeline_zh,
    )

# Imported on first use, so loading the plugin (its entry point) stays cheap.
_LAZY = {
    "Entry": ".incident",
    "Escalation": ".incident",
    "Category": ".policy",
    "EscalationPolicy": ".policy",
    "Deadline": ".timers",
    "IncidentView": ".views",
    "LimitsRow": ".limits",
    "PRECEDENCE": ".limits",
    "limits": ".views",
    "categories": ".views",
    "category_code": ".views",
    "incident": ".views",
    "incidents": ".views",
    "overdue": ".views",
    "reported_in": ".views",
    "timeline": ".views",
    "timeline_zh": ".views",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps the function ``incident`` from being replaced by the submodule of the same name when it loads."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "PRECEDENCE",
    "Category",
    "Deadline",
    "Entry",
    "Escalation",
    "EscalationPolicy",
    "IncidentView",
    "LimitsRow",
    "categories",
    "category_code",
    "incident",
    "incidents",
    "limits",
    "overdue",
    "reported_in",
    "timeline",
    "timeline_zh",
]
