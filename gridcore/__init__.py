"""gridcore: an engine for community grid governance (网格化管理).

The core models the grid hierarchy, the people in it and the events of daily
work; each community's policies are ruleset files executed by plugins.
Plugins write ``from gridcore import hookimpl`` and never import pluggy.

Every name below is importable from ``gridcore``; the heavier ones (the engine,
the community model) are imported on first use, so a plugin module or a
command that needs only ``hookimpl`` starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    EventError,
    EventRefused,
    GridcoreError,
    HierarchyError,
    InvalidTypeError,
    InvalidValueError,
    PluginError,
    RosterError,
    RosterHierarchyError,
    RosterProblem,
    StoreConflict,
    StoreError,
    UnknownMemberError,
    UnknownNameError,
    UnknownNodeError,
)
from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .clock import Clock, FixedClock, SystemClock
    from .community import Community
    from .engine import Engine, IngestSummary, Refusal
    from .events import SYSTEM_ACTOR, Event
    from .explain import Explanation, Outcome, OutcomeKind, RuleRef
    from .governing import RulesetInForce
    from .periods import PeriodError
    from .plugin_host import EventKinds, get_plugin_manager
    from .reports import Cell, Report, Table

#: Public names imported on first use: name -> the module that defines it.
_LAZY = {
    "Clock": ".clock", "FixedClock": ".clock", "SystemClock": ".clock",
    "Community": ".community",
    "Engine": ".engine", "IngestSummary": ".engine", "Refusal": ".engine", "RulesetInForce": ".governing",
    "SYSTEM_ACTOR": ".events", "Event": ".events",
    "Explanation": ".explain", "Outcome": ".explain", "OutcomeKind": ".explain", "RuleRef": ".explain",
    "PeriodError": ".periods",
    "EventKinds": ".plugin_host", "get_plugin_manager": ".plugin_host",
    "Cell": ".reports", "Report": ".reports", "Table": ".reports",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gridcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "SYSTEM_ACTOR",
    "Cell",
    "Clock",
    "Community",
    "Engine",
    "Event",
    "EventError",
    "EventKinds",
    "EventRefused",
    "Explanation",
    "FixedClock",
    "GridcoreError",
    "HierarchyError",
    "IngestSummary",
    "InvalidTypeError",
    "InvalidValueError",
    "Outcome",
    "OutcomeKind",
    "PeriodError",
    "PluginError",
    "Refusal",
    "Report",
    "RosterError",
    "RosterHierarchyError",
    "RosterProblem",
    "RuleRef",
    "RulesetInForce",
    "StoreConflict",
    "StoreError",
    "SystemClock",
    "Table",
    "UnknownMemberError",
    "UnknownNameError",
    "UnknownNodeError",
    "get_plugin_manager",
    "hookimpl",
]

__version__ = "0.1.0"
