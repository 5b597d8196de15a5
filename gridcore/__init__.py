"""gridcore: an engine for community grid governance (网格化管理).

The core models the grid hierarchy, the people in it and the events of daily
work; each community's policies are ruleset files executed by plugins.
Plugins write ``from gridcore import hookimpl`` and never import pluggy.
"""

from .clock import Clock, FixedClock, SystemClock
from .community import Community
from .engine import Engine, IngestSummary, Refusal
from .errors import (
    EventError,
    EventRefused,
    GridcoreError,
    HierarchyError,
    PluginError,
    RosterError,
    StoreConflict,
    StoreError,
)
from .events import SYSTEM_ACTOR, Event
from .explain import Explanation, Outcome, OutcomeKind, RuleRef
from .hookspecs import hookimpl
from .plugin_host import get_plugin_manager
from .reports import Report, Table

__all__ = [
    "SYSTEM_ACTOR",
    "Clock",
    "Community",
    "Engine",
    "Event",
    "EventError",
    "EventRefused",
    "Explanation",
    "FixedClock",
    "GridcoreError",
    "HierarchyError",
    "IngestSummary",
    "Outcome",
    "OutcomeKind",
    "PluginError",
    "Refusal",
    "Report",
    "RosterError",
    "RuleRef",
    "StoreConflict",
    "StoreError",
    "SystemClock",
    "Table",
    "get_plugin_manager",
    "hookimpl",
]

__version__ = "0.1.0"
