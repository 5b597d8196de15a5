"""What the escalation state holds: every incident, what was reported where, what falls due.

``Records`` is the base of ``EscalationState`` (state.py): the data, and the
scheduling every step shares.  Intake (intake.py), refusals (lifecycle.py) and
transitions (transitions.py) are the state's own methods, mixed in over it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from gridcore import Explanation

from . import timers
from .incident import Incident
from .policy import EscalationPolicy

if TYPE_CHECKING:
    from gridcore import Engine


def level_policy(engine: Engine, incident: Incident) -> EscalationPolicy | None:
    """The escalation policy of the ruleset governing the incident's current node, as in force when
    it was reported (None where that is the incident's own: its ``limits`` are its ``policy``)."""
    if not incident.current_node or incident.current_node == incident.node:
        return None
    from .intake import policy_at

    found, _ = policy_at(engine, incident.reported_at, incident.current_node)
    return None if found is incident.policy else found


class Records:
    """Every incident of one engine and what its rules read about earlier reports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.incidents: dict[str, Incident] = {}
        #: repeat report id -> the open incident it joined
        self.aliases: dict[str, str] = {}
        #: (category, place key) -> times of every report there (for repeat rules)
        self.reports_at: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        #: (category, place key) -> ids of the incidents reported there
        self.at_place: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.escalation_index: dict[str, tuple[str, int]] = {}
        #: explanations decided when an event was applied (joins, reopenings)
        self.decisions: dict[str, Explanation] = {}
        self.due: dict[str, timers.Due | None] = {}
        self._heap: list[tuple[datetime, str, int]] = []

    def arrived_at_node(self, incident: Incident) -> None:
        """The case is now at ``current_node``: the limits there are those of the ruleset governing
        that node (a case climbing out of a community to its street is held to the street's limits),
        as in force when it was reported."""
        incident.level_policy = level_policy(self.engine, incident)

    def schedule(self, incident: Incident) -> None:
        """Work out what falls due next for ``incident`` (its version marks older entries stale)."""
        due = timers.next_due(self.engine.community, incident, self.engine.community.tz)
        self.due[incident.id] = due
        if due is not None:
            heapq.heappush(self._heap, (due.event.time, incident.id, incident.version))

    def current(self, entry: tuple[datetime, str, int]) -> bool:
        """True if a heap entry is still what falls due for its incident."""
        incident = self.incidents.get(entry[1])
        return (
            incident is not None
            and incident.version == entry[2]
            and self.due.get(entry[1]) is not None
        )
