"""The closed loop's rules of transition and permission: why an incident event is refused.

``Checks.refusals`` reads the state and returns plain sentences; it never changes
anything.  The loop::

    reported -> accepted -> handling -> resolved -> verified -> closed
                 (pause / resume while accepted or handling)
    escalated: back to "reported" at the new node, which must accept it
    reopened:  an unsatisfied verification sends it back to "reported"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore.events import SYSTEM_ACTOR

from . import routing
from .events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentEscalated,
    IncidentEvent,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentVerified,
    SatisfactionRated,
)
from .incident import ACCEPTED, CLOSED, HANDLING, OPEN, REPORTED, RESOLVED, VERIFIED, Incident
from .policy import DEFAULT_VERIFIER
from .records import Records

if TYPE_CHECKING:
    from gridcore import Engine


#: Roles that do not make someone responsible for incidents in their cell.
NOT_STAFF = ("resident",)

#: What each kind of event needs: the statuses it may follow and its verb for messages.
ALLOWED: dict[type[IncidentEvent], tuple[tuple[str, ...], str]] = {
    IncidentAccepted: ((REPORTED,), "accept"),
    IncidentHandlingStarted: ((ACCEPTED,), "start handling"),
    IncidentPaused: ((ACCEPTED, HANDLING), "pause"),
    IncidentResumed: ((ACCEPTED, HANDLING), "resume"),
    IncidentEscalated: (OPEN, "escalate"),
    IncidentResolved: ((ACCEPTED, HANDLING), "resolve"),
    IncidentVerified: ((RESOLVED,), "verify"),
    SatisfactionRated: ((RESOLVED, VERIFIED, CLOSED), "rate"),
    IncidentReopened: ((RESOLVED, VERIFIED), "reopen"),
    IncidentClosed: ((VERIFIED,), "close"),
}


def verifier_of(incident: Incident) -> str:
    """The role that verifies this incident (the ruleset's, default ``grid_leader``)."""
    return incident.policy.verifier if incident.policy else DEFAULT_VERIFIER


def responsible(engine: Engine, incident: Incident, actor: str) -> bool:
    """True if ``actor`` holds a role at the incident's current node or above, or works
    for a line department the incident was routed to."""
    community = engine.community
    staff = [role for role in community.roles if role not in NOT_STAFF]
    if community.holds_role_at_or_above(actor, incident.current_node, staff):
        return True
    return any(actor in routing.department_members(community, d) for d in incident.departments)


def _home(engine: Engine, person: str) -> str | None:
    home = engine.residents().get(person)
    if home is None and person in engine.community.members:
        home = engine.community.member(person).home
    return home


def _status_problem(incident: Incident, event: IncidentEvent) -> str | None:
    allowed, verb = ALLOWED[type(event)]
    if incident.status in allowed:
        if isinstance(event, IncidentPaused) and incident.paused:
            return f"incident {incident.id} is already paused"
        if isinstance(event, IncidentResumed) and not incident.paused:
            return f"incident {incident.id} is not paused, so it cannot be resumed"
        return None
    if incident.status == CLOSED:
        return f"incident {incident.id} is closed; nothing more can be done to it (cannot {verb})"
    if isinstance(event, IncidentResolved) and incident.status == REPORTED:
        return (
            f"incident {incident.id} has not been accepted at {incident.current_node}; "
            "it must be accepted before it can be resolved"
        )
    if isinstance(event, IncidentVerified) and incident.status == VERIFIED:
        return f"incident {incident.id} was already verified"
    if isinstance(event, IncidentAccepted) and incident.status in (ACCEPTED, HANDLING):
        return f"incident {incident.id} was already accepted by {incident.accepted_by}"
    return f"incident {incident.id} is {incident.status}; cannot {verb} it (allowed when {' or '.join(allowed)})"


class Checks(Records):
    """Refusals of incident events (a mixin of ``EscalationState``): they read, never change."""

    def refusals(self, event: IncidentEvent) -> list[str]:
        """Why ``event`` must be refused, as sentences; ``[]`` to accept it."""
        engine = self.engine
        if isinstance(event, IncidentReported):
            if event.incident in self.incidents or event.incident in self.aliases:
                return [f"incident {event.incident} was already reported"]
            place = engine.community.places.get(event.place) if event.place else None
            if place is not None and not engine.community.hierarchy.is_within(place.node, event.node):
                return [f"place {event.place} is in {place.node}, not in {event.node}"]
            return []
        if event.incident in self.aliases:
            primary = self.aliases[event.incident]
            return [
                f"incident {event.incident} joined incident {primary} as a repeat report; act on {primary}"
            ]
        incident = self.incidents.get(event.incident)
        if incident is None:
            return [f"no incident {event.incident} has been reported"]
        if type(event) not in ALLOWED:
            return []
        problem = _status_problem(incident, event)
        if problem:
            return [problem]
        return self._permission(incident, event)

    def _permission(self, incident: Incident, event: IncidentEvent) -> list[str]:
        engine = self.engine
        actor = event.actor
        community = engine.community
        if actor == SYSTEM_ACTOR:
            if isinstance(event, IncidentEscalated):
                return escalation_problem(community, incident, event)
            if isinstance(event, IncidentReopened):
                return []
            return [f"the system cannot {ALLOWED[type(event)][1]} an incident; a person must"]
        if isinstance(event, IncidentVerified | IncidentClosed | IncidentReopened):
            verifier = verifier_of(incident)
            if community.holds_role_at_or_above(actor, incident.node, [verifier]):
                return []
            if isinstance(event, IncidentClosed) and responsible(engine, incident, actor):
                return []
            if isinstance(event, IncidentReopened) and actor == incident.reporter:
                return []
            return [
                (
                    f"{actor} may not {ALLOWED[type(event)][1]} incident {incident.id}: only the {verifier} "
                    f"of {incident.node} or above may"
                )
            ]
        if isinstance(event, SatisfactionRated):
            if actor in incident.ratings:
                return [f"{actor} already rated incident {incident.id}"]
            reporters = {incident.reporter} | {who for _, _, who in incident.repeats}
            home = _home(engine, actor)
            if actor in reporters or (
                home is not None and community.hierarchy.is_within(home, incident.node)
            ):
                return []
            return [
                (
                    f"{actor} may not rate incident {incident.id}: only its reporter or residents of "
                    f"{incident.node} may"
                )
            ]
        if (
            actor == incident.accepted_by
            and incident.status in (ACCEPTED, HANDLING)
            and isinstance(event, IncidentHandlingStarted | IncidentPaused | IncidentResumed | IncidentResolved)
        ):
            # the one who took it on goes on with it, even after it was sent up on its resolve limit
            return []
        if not responsible(engine, incident, actor):
            return [
                (
                    f"{actor} may not {ALLOWED[type(event)][1]} incident {incident.id}: it is at "
                    f"{incident.current_node} and {actor} holds no role there or above"
                )
            ]
        if isinstance(event, IncidentEscalated):
            return escalation_problem(community, incident, event)
        return []


def escalation_problem(community: Any, incident: Incident, event: IncidentEscalated) -> list[str]:
    """Why ``event`` cannot move the incident: not above it, or an unknown node or department."""
    if event.to_node not in community.hierarchy:
        return [f"unknown node {event.to_node!r} to escalate to"]
    if event.department is not None and event.department not in community.departments:
        return [f"unknown line department {event.department!r}"]
    if event.to_node == incident.current_node:
        if event.department is None:
            return [
                f"incident {incident.id} is already at {event.to_node}; name a higher node or a department"
            ]
        return []
    higher = routing.rank(community, event.to_node) < routing.rank(community, incident.current_node)
    if not higher or not community.hierarchy.is_within(incident.current_node, event.to_node):
        return [
            (
                f"incident {incident.id} can only move up from {incident.current_node}: "
                f"{event.to_node} is not above it"
            )
        ]
    return []
