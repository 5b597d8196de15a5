"""gridcore's built-in escalation plugin (import name ``gridcore_escalation``).

Runs every incident through the closed loop (discover, consult, handle,
feedback, evaluate) under the ``escalation`` section of a community's ruleset:
where an incident starts, how long each level has, what escalates at once,
which line departments hear of it.  Read-only API for embedders and other
plugins (each takes an engine)::

    incidents(engine, status=None, within=None) -> list[IncidentView]
    incident(engine, incident_id) -> IncidentView
    timeline(engine, incident_id) -> list[Entry]
    overdue(engine, now=None) -> list[tuple[IncidentView, Deadline]]
    categories(engine, at=None) -> list[Category]

See docs/escalation.md.
"""

from .incident import Entry, Escalation
from .policy import Category, EscalationPolicy
from .timers import Deadline
from .views import IncidentView, categories, incident, incidents, overdue, timeline

__all__ = [
    "Category",
    "Deadline",
    "Entry",
    "Escalation",
    "EscalationPolicy",
    "IncidentView",
    "categories",
    "incident",
    "incidents",
    "overdue",
    "timeline",
]
