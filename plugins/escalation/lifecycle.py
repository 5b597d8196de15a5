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

from . import routing, timers
from .events import (
    ConsultationHeld,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FeedbackGiven,
    IncidentAccepted,
    IncidentAssigned,
    IncidentClosed,
    IncidentEscalated,
    IncidentEvent,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentReturned,
    IncidentVerified,
    SatisfactionRated,
)
from .incident import (
    ACCEPTED,
    CLOSED,
    HANDLING,
    OPEN,
    REPORTED,
    RESOLVED,
    VERIFIED,
    Incident,
    extra_text,
)
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
    ExtensionRequested: ((ACCEPTED, HANDLING), "ask for more time on"),
    ExtensionApproved: ((ACCEPTED, HANDLING), "approve an extension of"),
    ExtensionRefused: ((ACCEPTED, HANDLING), "refuse an extension of"),
    ConsultationHeld: (OPEN, "record a consultation on"),
    FeedbackGiven: ((RESOLVED, VERIFIED), "give feedback on"),
    IncidentReturned: (OPEN, "return"),
    IncidentAssigned: (OPEN, "assign"),
}


def verifier_of(incident: Incident) -> str:
    """The role that verifies this incident (the ruleset's, default ``grid_leader``)."""
    return incident.policy.verifier if incident.policy else DEFAULT_VERIFIER


def responsible(engine: Engine, incident: Incident, actor: str) -> bool:
    """True if ``actor`` holds a role at the incident's current node or above, or works
    for a line department the incident was routed to."""
    community = engine.community
    # (every role but ``resident``, the only one of ``NOT_STAFF``: the community's index answers it)
    if community.holds_staff_role_at_or_above(actor, incident.current_node):
        return True
    node = incident.current_node
    return any(actor in routing.department_members(community, d, node) for d in incident.departments)


def _home(engine: Engine, person: str) -> str | None:
    home = engine.registered_home(person)
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
            if self.known(event.incident):
                return [f"incident {event.incident} was already reported"]
            place = engine.community.places.get(event.place) if event.place else None
            if place is not None and not engine.community.hierarchy.is_within(place.node, event.node):
                return [f"place {event.place} is in {place.node}, not in {event.node}"]
            return []
        primary = self.primary_of(event.incident)
        if primary is not None:
            return [
                f"incident {event.incident} joined incident {primary} as a repeat report; act on {primary}"
            ]
        incident = self.find(event.incident)
        if incident is None:
            return [f"no incident {event.incident} has been reported"]
        if type(event) not in ALLOWED:
            return []
        problem = (
            _status_problem(incident, event)
            or _extension_problem(self.engine, incident, event)
            or _step_problem(self.engine, incident, event)
        )
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
            if isinstance(event, IncidentReopened | IncidentAssigned):
                return []  # derived: a reopening, or a case passed on inside the cell
            return [f"the system cannot {ALLOWED[type(event)][1]} an incident; a person must"]
        if isinstance(event, ExtensionApproved | ExtensionRefused):
            return _approval_problem(engine, incident, event)
        if isinstance(event, IncidentReturned) and event.department is not None:
            return []  # its members may send back what is not its remit (checked with the facts)
        if isinstance(event, IncidentReturned) and actor == incident.accepted_by:
            return []
        if isinstance(event, FeedbackGiven) and actor == incident.resolved_by:
            return []  # whoever resolved it tells the reporter, even from below
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
            and isinstance(
            event,
            IncidentHandlingStarted
            | IncidentPaused
            | IncidentResumed
            | IncidentResolved
            | ExtensionRequested
            | ConsultationHeld,
        )
        ):
            # the one who took it on goes on with it, even after it was sent up on its resolve limit
            return []
        if not responsible(engine, incident, actor):
            elsewhere = [d for d in incident.departments if actor in routing.department_members(community, d)]
            return [
                (
                    f"{actor} may not {ALLOWED[type(event)][1]} incident {incident.id}: it is at "
                    f"{incident.current_node} and {actor} holds no role there or above"
                    + (f"; they answer for {elsewhere[0]} on another branch of the tree, and its officers "
                       f"on this case's branch answer here (部门人员只办理本辖区的案件)" if elsewhere else "")
                )
            ]
        if isinstance(event, IncidentEscalated):
            return escalation_problem(community, incident, event)
        return []


def _extension_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> str | None:
    """Why an extension request or answer makes no sense for this incident now, if it does not."""
    waiting = incident.extension_request
    if isinstance(event, ExtensionApproved | ExtensionRefused):
        if waiting is None:
            return f"incident {incident.id} has no extension request waiting for an answer"
        return None
    if not isinstance(event, ExtensionRequested):
        return None
    policy = incident.policy
    rule = policy.extension if policy else None
    if rule is None:
        return (
            f"the rules incident {incident.id} is judged by allow no extension "
            "(no 'extension' / '延期' item in the escalation section)"
        )
    if waiting is not None:
        return (
            f"incident {incident.id} already has an extension request waiting ({waiting.event}, by "
            f"{waiting.actor}); it must be approved or refused first"
        )
    if rule.times is not None and len(incident.extensions) >= rule.times:
        return (
            f"incident {incident.id} already had {len(incident.extensions)} extension"
            f"{'' if len(incident.extensions) == 1 else 's'}: rule {rule.rule} allows at most {rule.times}"
        )
    assert policy is not None
    limit = timers.applied(incident).get("resolve")
    if limit is None:
        return (
            f"{incident.current_level} {incident.current_node} has no resolve limit for incident "
            f"{incident.id}: there is no deadline to extend"
        )
    asked = limit.span.length(event.days, event.hours, policy.calendar)
    if rule.most is not None and asked > rule.most.total(policy.calendar):
        written = extra_text(event.days, event.hours, limit.span.working)
        return f"{written} is more than one extension may give: {rule.most} (rule {rule.rule})"
    return None


def _step_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> str | None:
    """A consultation the rules require before handling, feedback before verification, who took part."""
    policy = incident.policy
    if isinstance(event, IncidentHandlingStarted | IncidentResolved) and policy is not None and policy.consultations:
        needed = policy.consultation_for(incident.facts(event.time))
        if needed is not None and not incident.consultations:
            return (
                f"incident {incident.id} ({incident.category}) needs a consultation (会商) before handling: "
                f"rule {needed.rule}; record one first (gridcore incidents consult)"
            )
    feedback = policy.feedback if policy is not None else None
    if isinstance(event, IncidentVerified) and feedback and feedback.required and incident.feedback_at is None:
        return (
            f"the reporter of incident {incident.id} must be told the result (反馈) before it is verified: "
            f"rule {feedback.rule}; record the feedback first (gridcore incidents feedback)"
        )
    if isinstance(event, FeedbackGiven) and incident.feedback_at is not None:
        return f"feedback on incident {incident.id} was already given by {incident.feedback_by}"
    if isinstance(event, IncidentReturned):
        return _return_problem(engine, incident, event)
    if isinstance(event, IncidentAccepted) and incident.assignee not in (None, event.actor):
        community = engine.community
        if not any(event.actor in routing.department_members(community, d, incident.current_node)
                   for d in incident.departments):
            return (f"incident {incident.id} is assigned to {incident.assignee}; only they take it on "
                    f"(reassign it first: gridcore incidents assign {incident.id} --to {event.actor})")
    if isinstance(event, IncidentAssigned):
        if event.handler == (incident.accepted_by or incident.assignee):
            return f"incident {incident.id} is already with {event.handler}"
        if not responsible(engine, incident, event.handler):
            return (f"{event.handler} cannot handle incident {incident.id}: they hold no role at "
                    f"{incident.current_node} or above and work for none of its departments")
    if isinstance(event, ConsultationHeld):
        unknown = [p for p in event.participants if not engine.knows_person(p)]
        if unknown:
            return f"unknown participant(s) {', '.join(unknown)}: not on the roster nor registered residents"
    return None


def _return_problem(engine: Engine, incident: Incident, event: IncidentReturned) -> str | None:
    """A return names the department sending the case back, or the cell it belongs to, not both."""
    community = engine.community
    if event.department is not None and event.to_node is not None:
        return "a return names the department sending the case back or the cell it belongs to, not both"
    if event.department is not None:
        if event.department not in incident.departments:
            on = ", ".join(incident.departments) or "none"
            return f"department {event.department} is not on incident {incident.id} (its departments: {on})"
        if event.actor not in routing.department_members(community, event.department, incident.current_node):
            return f"{event.actor} does not work for {event.department}, so may not return the case for it"
    if event.to_node is not None:
        if event.to_node not in community.hierarchy:
            return f"unknown node {event.to_node!r} to return the case to"
        if event.to_node == incident.node:
            return f"incident {incident.id} was reported in {event.to_node} already; name the cell it belongs to"
    return None


def _approval_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> list[str]:
    """Only the approver role at the incident's current node or above answers, never the one who asked."""
    rule = incident.policy.extension if incident.policy else None
    approver = rule.approver if rule else DEFAULT_VERIFIER
    waiting = incident.extension_request
    verb = ALLOWED[type(event)][1]
    if waiting is not None and waiting.actor == event.actor:
        return [f"{event.actor} asked for this extension and may not {verb.split(' ')[0]} it themselves"]
    if engine.community.holds_role_at_or_above(event.actor, incident.current_node, [approver]):
        return []
    return [
        (f"{event.actor} may not {verb} incident {incident.id}: only the {approver} of "
        f"{incident.current_node} or above may")
    ]


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
