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
from .unlisted import unlisted_why

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


#: What each kind of event does, in Chinese (the refusals' ``ALLOWED`` verbs), and the statuses.
VERBS_ZH: dict[type[IncidentEvent], str] = {
    IncidentAccepted: "受理", IncidentHandlingStarted: "开始办理", IncidentPaused: "暂停",
    IncidentResumed: "恢复办理", IncidentEscalated: "提级", IncidentResolved: "办结", IncidentVerified: "核查",
    SatisfactionRated: "评价", IncidentReopened: "返工", IncidentClosed: "结案", ExtensionRequested: "申请延期",
    ExtensionApproved: "批准延期", ExtensionRefused: "不予延期", ConsultationHeld: "登记会商",
    FeedbackGiven: "反馈", IncidentReturned: "退单", IncidentAssigned: "派单",
}
STATUS_ZH = {REPORTED: "已上报", ACCEPTED: "已受理", HANDLING: "办理中", RESOLVED: "已办结", VERIFIED: "已核查",
             CLOSED: "已结案"}


#: Kinds of events the checks below tell apart, as tuples (``A | B`` in an ``isinstance`` builds a union
#: on every call: these run for every incident event offered).
_DERIVED_BY_SYSTEM = (IncidentReopened, IncidentAssigned)
_ANSWERS = (ExtensionApproved, ExtensionRefused)
_VERIFIERS_STEPS = (IncidentVerified, IncidentClosed, IncidentReopened)
_HANDLERS_STEPS = (IncidentHandlingStarted, IncidentPaused, IncidentResumed, IncidentResolved, ExtensionRequested,
                   ConsultationHeld)
_AFTER_CONSULTATION = (IncidentHandlingStarted, IncidentResolved)


def verifier_of(incident: Incident) -> str:
    """The role that verifies this incident (the ruleset's, default ``grid_leader``)."""
    return incident.policy.verifier if incident.policy else DEFAULT_VERIFIER


def responsible(engine: Engine, incident: Incident, actor: str) -> bool:
    """True if ``actor`` holds a staff role at the incident's current node or above, or works
    for a line department the incident was routed or whistled to (posted on its branch).

    A role held for a line department (a professional gridworker the police sent down) counts only
    through the department: its officer acts on the cases the department is called to (吹哨报到) or
    its ruleset routes to it (``route to police``), not on every case of the grid it is posted in."""
    community = engine.community
    node = incident.current_node
    if _staff_here(community, actor, node):
        return True
    return any(actor in routing.department_members(community, d, node, incident.node) for d in incident.departments)


#: id of a community -> (a weak reference to it, and ``_staff_here``'s answers in it by ``(actor, node)``):
#: a community never changes, and most steps of a case are taken by the few people of its cell, each
#: asked again at every step
_STAFF: dict[int, tuple[Any, dict[Any, Any]]] = {}


def _staff_here(community: Any, actor: str, node: str) -> bool:
    """True if ``actor`` holds a staff role at ``node`` or above, and not only for line departments
    (``sent_down``): they act on any case there."""
    memo = routing.remembered(_STAFF, community)
    if memo is not None:
        found: bool | None = memo.get((actor, node))
        if found is not None:
            return found
    # (every role but ``resident``, the only one of ``NOT_STAFF``: the community's index answers it)
    found = community.holds_staff_role_at_or_above(actor, node) and not sent_down(community, actor, node)
    if memo is not None:
        memo[(actor, node)] = found
    return found


def sent_down(community: Any, actor: str, node: str) -> tuple[tuple[str, str], ...]:
    """``(department, post)`` of each role ``actor`` holds at ``node`` or above for a line department,
    when those are all the staff roles they hold there (an officer the police sent down to the grid);
    ``()`` when one of them is the grid's own (they act there as its staff) or they hold none."""
    member = community.members.get(actor)
    if member is None or all(a.department is None for a in member.roles):
        return ()  # (most members: no role held for a department)
    hierarchy = community.hierarchy
    found = []
    for held in member.roles:
        if held.role == "resident" or held.node not in hierarchy or not hierarchy.is_within(node, held.node):
            continue
        if held.department is None:
            return ()
        found.append((held.department, held.node))
    return tuple(found)


def not_called(community: Any, incident: Incident, actor: str, sent: tuple[tuple[str, str], ...], verb: str,
               verb_zh: str) -> str | None:
    """Why ``actor``, an officer of a line department (``sent``: their departments and posts), may not
    ``verb`` ``incident``: it is not their department's case (``None`` when one of them is on it)."""
    if any(department in incident.departments for department, _ in sent):
        return None
    department, post = sent[0]
    found = community.departments.get(department)
    name = found.name if found is not None and found.name and found.name != department else department
    called = f"{department} ({name})" if name != department else department
    return (f"{actor} {verb}: they serve at {post} for the line department {called}, and the case is not "
            f"its: it was not routed nor whistled to it (or it sent the case back); a line department acts on "
            f"the cases it is called to (吹哨报到) or its ruleset routes to it (route to {department}) "
            f"({actor} 是条线部门 {name} 的人员，此事件未分派、未吹哨召集该部门（或该部门已退单），无权{verb_zh})")


def _home(engine: Engine, person: str) -> str | None:
    home = engine.registered_home(person)
    if home is None and person in engine.community.members:
        home = engine.community.member(person).home
    return home


def _status_problem(incident: Incident, event: IncidentEvent) -> str | None:
    allowed, verb = ALLOWED[type(event)]
    if incident.status in allowed:
        if isinstance(event, IncidentPaused) and incident.paused:
            return f"incident {incident.id} is already paused (事件已暂停)"
        if isinstance(event, IncidentResumed) and not incident.paused:
            return f"incident {incident.id} is not paused, so it cannot be resumed (事件未暂停，不能恢复办理)"
        return None
    if incident.status == CLOSED:
        return (f"incident {incident.id} is closed; nothing more can be done to it (cannot {verb}) "
                f"(事件已结案，不能再{VERBS_ZH[type(event)]})")
    if isinstance(event, IncidentResolved) and incident.status == REPORTED:
        return (
            f"incident {incident.id} has not been accepted at {incident.current_node}; "
            "it must be accepted before it can be resolved (事件须先受理，才能办结)"
        )
    if isinstance(event, IncidentVerified) and incident.status == VERIFIED:
        return f"incident {incident.id} was already verified (事件已核查)"
    if isinstance(event, IncidentAccepted) and incident.status in (ACCEPTED, HANDLING):
        return f"incident {incident.id} was already accepted by {incident.accepted_by} (事件已被受理)"
    return (f"incident {incident.id} is {incident.status}; cannot {verb} it (allowed when {' or '.join(allowed)}) "
            f"(事件{STATUS_ZH.get(incident.status, incident.status)}，不能{VERBS_ZH[type(event)]})")


class Checks(Records):
    """Refusals of incident events (a mixin of ``EscalationState``): they read, never change."""

    def refusals(self, event: IncidentEvent) -> list[str]:
        """Why ``event`` must be refused, as sentences; ``[]`` to accept it."""
        engine = self.engine
        if isinstance(event, IncidentReported):
            if self.known(event.incident):
                return [f"incident {event.incident} was already reported (事件编号已上报过)"]
            place = engine.community.places.get(event.place) if event.place else None
            if place is not None and not engine.community.hierarchy.is_within(place.node, event.node):
                return [f"place {event.place} is in {place.node}, not in {event.node} (地址不在上报的网格内)"]
            unlisted = unlisted_why(engine, event)
            return [] if unlisted is None else [unlisted]
        primary = self.primary_of(event.incident)
        if primary is not None:
            return [
                (f"incident {event.incident} joined incident {primary} as a repeat report; act on {primary} "
                "(此事件已作为重复上报并入另一事件，请在主事件上办理)")
            ]
        incident = self.find(event.incident)
        if incident is None:
            return [f"no incident {event.incident} has been reported (查无此事件)"]
        return self.step_refusals(incident, event)

    def step_refusals(self, incident: Incident, event: IncidentEvent) -> list[str]:
        """Why ``event``, a step of ``incident`` (found, no repeat report), must be refused; ``[]`` to accept it."""
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
            if isinstance(event, _DERIVED_BY_SYSTEM):
                return []  # derived: a reopening, or a case passed on inside the cell
            return [(f"the system cannot {ALLOWED[type(event)][1]} an incident; a person must "
                    f"(系统不能{VERBS_ZH[type(event)]}事件，须由人员操作)")]
        if isinstance(event, _ANSWERS):
            return _approval_problem(engine, incident, event)
        if isinstance(event, IncidentReturned) and event.department is not None:
            return []  # its members may send back what is not its remit (checked with the facts)
        if isinstance(event, IncidentReturned) and actor == incident.accepted_by:
            return []
        if isinstance(event, FeedbackGiven) and actor == incident.resolved_by:
            return []  # whoever resolved it tells the reporter, even from below
        if isinstance(event, _VERIFIERS_STEPS):
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
                    f"of {incident.node} or above may (只有本网格或上级的核查人可以{VERBS_ZH[type(event)]})"
                )
            ]
        if isinstance(event, SatisfactionRated):
            if actor in incident.ratings:
                return [f"{actor} already rated incident {incident.id} (已评价过此事件)"]
            reporters = {incident.reporter} | {who for _, _, who in incident.repeats}
            home = _home(engine, actor)
            if actor in reporters or (
                home is not None and community.hierarchy.is_within(home, incident.node)
            ):
                return []
            return [
                (
                    f"{actor} may not rate incident {incident.id}: only its reporter or residents of "
                    f"{incident.node} may (只有上报人或本网格居民可以评价)"
                )
            ]
        if (
            actor == incident.accepted_by
            and incident.status in (ACCEPTED, HANDLING)
            and isinstance(event, _HANDLERS_STEPS)
        ):
            # the one who took it on goes on with it, even after it was sent up on its resolve limit
            return []
        if not responsible(engine, incident, actor):
            sent = sent_down(community, actor, incident.current_node)
            if sent and (why := not_called(community, incident, actor, sent,
                                           f"may not {ALLOWED[type(event)][1]} incident {incident.id}",
                                           VERBS_ZH[type(event)])):
                return [why]
            elsewhere = [d for d in incident.departments if actor in routing.department_members(community, d)]
            return [
                (
                    f"{actor} may not {ALLOWED[type(event)][1]} incident {incident.id}: it is at "
                    f"{incident.current_node} and {actor} holds no role there or above"
                    + (f"; they answer for {elsewhere[0]} on another branch of the tree, and its officers "
                       f"on this case's branch answer here (条线部门人员只办理本辖区的事件)" if elsewhere else "")
                    + f" (事件不在其辖区，无权{VERBS_ZH[type(event)]})"
                )
            ]
        if isinstance(event, IncidentEscalated):
            return escalation_problem(community, incident, event)
        return []


def _extension_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> str | None:
    """Why an extension request or answer makes no sense for this incident now, if it does not."""
    waiting = incident.extension_request
    if isinstance(event, _ANSWERS):
        if waiting is None:
            return f"incident {incident.id} has no extension request waiting for an answer (没有待批复的延期申请)"
        return None
    if not isinstance(event, ExtensionRequested):
        return None
    policy = incident.policy
    rule = policy.extension if policy else None
    if rule is None:
        return (
            f"the rules incident {incident.id} is judged by allow no extension "
            "(no 'extension' / '延期' item in the escalation section) (规则不允许延期)"
        )
    if waiting is not None:
        return (
            f"incident {incident.id} already has an extension request waiting ({waiting.event}, by "
            f"{waiting.actor}); it must be approved or refused first (已有延期申请待批复)"
        )
    if rule.times is not None and len(incident.extensions) >= rule.times:
        return (
            f"incident {incident.id} already had {len(incident.extensions)} extension"
            f"{'' if len(incident.extensions) == 1 else 's'}: rule {rule.rule} allows at most {rule.times} "
            "(延期次数已达上限)"
        )
    assert policy is not None
    limit = timers.applied(incident).get("resolve")
    if limit is None:
        return (
            f"{incident.current_level} {incident.current_node} has no resolve limit for incident "
            f"{incident.id}: there is no deadline to extend (没有办结时限，无需延期)"
        )
    asked = limit.span.length(event.days, event.hours, policy.calendar)
    if rule.most is not None and asked > rule.most.total(policy.calendar):
        written = extra_text(event.days, event.hours, limit.span.working)
        return f"{written} is more than one extension may give: {rule.most} (rule {rule.rule}) (超过单次延期上限)"
    return None


def _step_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> str | None:
    """A consultation the rules require before handling, feedback before verification, who took part."""
    policy = incident.policy
    if isinstance(event, _AFTER_CONSULTATION) and policy is not None and policy.consultations:
        needed = policy.consultation_for(incident.facts(event.time))
        if needed is not None and not incident.consultations:
            return (
                f"incident {incident.id} ({incident.category}) needs a consultation (会商) before handling: "
                f"rule {needed.rule}; record one first (gridcore incidents consult) (办理前须先会商)"
            )
    feedback = policy.feedback if policy is not None else None
    if isinstance(event, IncidentVerified) and feedback and feedback.required and incident.feedback_at is None:
        return (
            f"the reporter of incident {incident.id} must be told the result (反馈) before it is verified: "
            f"rule {feedback.rule}; record the feedback first (gridcore incidents feedback) (核查前须先向上报人反馈办理结果)"
        )
    if isinstance(event, FeedbackGiven) and incident.feedback_at is not None:
        return f"feedback on incident {incident.id} was already given by {incident.feedback_by} (已反馈过)"
    if isinstance(event, IncidentReturned):
        return _return_problem(engine, incident, event)
    if isinstance(event, IncidentAccepted) and incident.assignee not in (None, event.actor):
        community = engine.community
        if not any(event.actor in routing.department_members(community, d, incident.current_node, incident.node)
                   for d in incident.departments):
            return (f"incident {incident.id} is assigned to {incident.assignee}; only they take it on "
                    f"(reassign it first: gridcore incidents assign {incident.id} --to {event.actor}) "
                    "(事件已派给他人，须先改派)")
    if isinstance(event, IncidentAssigned):
        if event.handler == (incident.accepted_by or incident.assignee):
            return f"incident {incident.id} is already with {event.handler} (事件已由此人办理)"
        if not responsible(engine, incident, event.handler):
            sent = sent_down(engine.community, event.handler, incident.current_node)
            if sent and (why := not_called(engine.community, incident, event.handler, sent,
                                           f"cannot handle incident {incident.id}", "办理此事件")):
                return why
            return (f"{event.handler} cannot handle incident {incident.id}: they hold no role at "
                    f"{incident.current_node} or above and work for none of its departments (此人无权办理此事件)")
    if isinstance(event, ConsultationHeld):
        unknown = [p for p in event.participants if not engine.knows_person(p)]
        if unknown:
            return (f"unknown participant(s) {', '.join(unknown)}: not on the roster nor registered residents "
                    "(参加人员不在花名册中，也不是已登记的居民)")
    return None


def _return_problem(engine: Engine, incident: Incident, event: IncidentReturned) -> str | None:
    """A return names the department sending the case back, or the cell it belongs to, not both."""
    community = engine.community
    if event.department is not None and event.to_node is not None:
        return ("a return names the department sending the case back or the cell it belongs to, not both "
                "(退单写退回的部门或事件应属的网格，不能两者都写)")
    if event.department is not None:
        if event.department not in incident.departments:
            on = ", ".join(incident.departments) or "none"
            return (f"department {event.department} is not on incident {incident.id} (its departments: {on}) "
                    "(此事件没有召集该部门)")
        if event.actor not in routing.department_members(community, event.department, incident.current_node,
                                                          incident.node):
            return (f"{event.actor} does not work for {event.department}, so may not return the case for it "
                    "(不是该部门人员，不能代其退单)")
    if event.to_node is not None:
        if event.to_node not in community.hierarchy:
            return f"unknown node {event.to_node!r} to return the case to (退回的网格不存在)"
        if event.to_node == incident.node:
            return (f"incident {incident.id} was reported in {event.to_node} already; name the cell it belongs to "
                    "(事件就是在此网格上报的，请写它应属的网格)")
    return None


def _approval_problem(engine: Engine, incident: Incident, event: IncidentEvent) -> list[str]:
    """Only the approver role at the incident's current node or above answers, never the one who asked."""
    rule = incident.policy.extension if incident.policy else None
    approver = rule.approver if rule else DEFAULT_VERIFIER
    waiting = incident.extension_request
    verb = ALLOWED[type(event)][1]
    if waiting is not None and waiting.actor == event.actor:
        return [(f"{event.actor} asked for this extension and may not {verb.split(' ')[0]} it themselves "
                "(不能批复自己的延期申请)")]
    if engine.community.holds_role_at_or_above(event.actor, incident.current_node, [approver]):
        return []
    return [
        (f"{event.actor} may not {verb} incident {incident.id}: only the {approver} of "
        f"{incident.current_node} or above may (只有本级或上级的审批人可以批复延期)")
    ]


def escalation_problem(community: Any, incident: Incident, event: IncidentEscalated) -> list[str]:
    """Why ``event`` cannot move the incident: not above it, or an unknown node or department."""
    if event.to_node not in community.hierarchy:
        return [f"unknown node {event.to_node!r} to escalate to (上报的节点不存在)"]
    if event.department is not None and event.department not in community.departments:
        return [f"unknown line department {event.department!r} (未知的条线部门)"]
    if event.to_node == incident.current_node:
        if event.department is None:
            return [
                (f"incident {incident.id} is already at {event.to_node}; name a higher node or a department "
                "(事件已在此节点，请写更高的节点或部门)")
            ]
        return []
    higher = routing.rank(community, event.to_node) < routing.rank(community, incident.current_node)
    if not higher or not community.hierarchy.is_within(incident.current_node, event.to_node):
        return [
            (
                f"incident {incident.id} can only move up from {incident.current_node}: "
                f"{event.to_node} is not above it (事件只能向上级上报)"
            )
        ]
    return []
