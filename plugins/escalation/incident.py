"""One incident as the plugin tracks it: status, current level, clock, history.

``Incident`` is the mutable record the state keeps (it changes with every
event); what the plugin shows to others is the frozen ``IncidentView`` built
from it in ``views``.  The statuses, in loop order::

    reported -> accepted -> handling -> resolved -> verified -> closed

``reported`` means "waiting to be accepted at the current node": an escalation
or a reopening sends an incident back there.  ``paused`` is a flag on an
accepted or handled incident whose clock is stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from attrs import field

from gridcore.classes import define, frozen
from gridcore.explain import RuleRef

from .policy import EscalationPolicy, IncidentFacts, Route
from .quick import quick_init

REPORTED = "reported"
ACCEPTED = "accepted"
HANDLING = "handling"
RESOLVED = "resolved"
VERIFIED = "verified"
CLOSED = "closed"
STATUSES = (REPORTED, ACCEPTED, HANDLING, RESOLVED, VERIFIED, CLOSED)
#: Statuses in which the incident is still someone's job (its timers may run).
OPEN = (REPORTED, ACCEPTED, HANDLING)


@quick_init
@frozen
class Entry:
    """One line of an incident's timeline."""

    time: datetime
    what: str
    actor: str
    node: str
    detail: str = ""
    rule: str = ""
    event: str = ""


@frozen
class Escalation:
    """One move of an incident: up a level, or out to a line department."""

    event: str
    time: datetime
    actor: str
    from_node: str
    to_node: str
    from_level: str
    to_level: str
    department: str | None
    reason: str
    rule: RuleRef | None
    rule_text: str
    facts: dict[str, Any] = field(factory=dict)


@frozen
class Breach:
    """A time limit that ran out at ``time`` (whether or not the incident could move up)."""

    time: datetime
    limit: str  # "accept" or "resolve"
    level: str
    node: str
    rule: RuleRef


@frozen
class Pending:
    """An escalation decided at report time (immediate condition, repeats), due at ``time``."""

    time: datetime
    key: str
    reason: str
    rule: RuleRef
    to_node: str
    department: str | None
    facts: dict[str, Any] = field(factory=dict)


@frozen
class ExtensionRequest:
    """A handler's request for more time (延期申请), waiting for a leader's answer."""

    event: str
    time: datetime
    actor: str
    days: int
    hours: int
    reason: str


@frozen
class Extension:
    """An approved extension: the resolve deadline of ``level`` moved from ``before`` to ``after``.

    ``before``/``after`` are ``None`` when the clock stood still (paused) at approval.
    """

    event: str
    request: str
    time: datetime
    approver: str
    requested_by: str
    days: int
    hours: int
    level: str
    node: str
    before: datetime | None
    after: datetime | None
    rule: RuleRef | None


@frozen
class Consultation:
    """A consultation (会商) held on the incident: who took part, what they decided."""

    event: str
    time: datetime
    actor: str
    level: str
    node: str
    participants: tuple[str, ...]
    decision: str


@frozen
class Return:
    """A return (退单): who sent the case back from where, why, and where it went."""

    event: str
    time: datetime
    actor: str
    from_node: str
    from_level: str
    department: str | None
    to_node: str
    reason: str


@frozen
class Summons:
    """A line department summoned to the case (吹哨报到), and how it answered.

    ``report_due``/``resolve_due`` are the deadlines its limits set when it
    was summoned (``None``: no such limit); ``arrived_at`` is when one of its
    members first took the case on, ``resolved_at`` when the case was
    resolved while it was summoned, ``left_at`` when it stopped being
    summoned otherwise (it sent the case back, or the case moved on).
    """

    department: str
    event: str
    time: datetime
    node: str
    level: str
    report_due: datetime | None
    resolve_due: datetime | None
    arrived_at: datetime | None = None
    arrived_by: str | None = None
    resolved_at: datetime | None = None
    left_at: datetime | None = None
    returned: bool = False


@frozen
class Assignment:
    """The case given to a named handler (派单), by a leader or, when a handler's limit ran out, by
    the rules (``rule``); ``role`` is the role whose limits the handler works under."""

    event: str
    time: datetime
    actor: str
    handler: str
    role: str | None
    previous: str | None
    reason: str
    rule: RuleRef | None = None


def extra_text(days: int, hours: int, working: bool) -> str:
    """``2 working days``, ``1 day 4 hours``: an extension as staff read it."""
    kind = "working " if working else ""
    parts = []
    if days:
        parts.append(f"{days} {kind}{'day' if days == 1 else 'days'}")
    if hours:
        parts.append(f"{hours} {kind if not days else ''}{'hour' if hours == 1 else 'hours'}")
    return " ".join(parts)


@define
class Incident:
    """The live record of one incident (mutable; the state owns it)."""

    id: str
    category: str
    severity: int
    node: str
    place: str | None
    channel: str
    key_person: bool
    description: str
    reporter: str
    reported_at: datetime
    policy: EscalationPolicy | None
    ruleset: str
    #: the escalation policy of the ruleset governing ``current_node`` when it is not the incident's
    #: own (a community's variant reported the case, the street's ruleset holds it now): see ``limits``
    level_policy: EscalationPolicy | None = None
    route: Route | None = None
    current_node: str = ""
    current_level: str = ""
    departments: tuple[str, ...] = ()
    #: the line department summoned to the case (吹哨报到: escalated to it), whose limits apply
    summoned: str | None = None
    status: str = REPORTED
    paused: bool = False
    paused_since: datetime | None = None
    paused_total: timedelta = timedelta(0)
    #: Running stretches of the clock since the incident arrived at its current
    #: node (or was reopened): ``[start, end or None while running]``.
    segments: list[list[datetime | None]] = field(factory=list)
    #: The handler's own clock: running stretches since the latest assignment
    #: at the current level (empty: no assignment there, the handler's limits
    #: run on the level's clock).  A reassignment restarts this one only.
    handler_segments: list[list[datetime | None]] = field(factory=list)
    #: someone took the case on at the current level since it arrived there
    #: (or it arrived still in hand): the level's accept limit is met, even
    #: if it is then reassigned inside the level
    taken_at_level: bool = False
    accepted_at: datetime | None = None
    first_accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    verified_at: datetime | None = None
    closed_at: datetime | None = None
    accepted_by: str | None = None
    resolved_by: str | None = None
    verified_by: str | None = None
    closed_by: str | None = None
    satisfaction: int | None = None
    ratings: dict[str, int] = field(factory=dict)
    #: every verification: (time, satisfaction, verifier)
    verifications: list[tuple[datetime, int, str]] = field(factory=list)
    repeats: list[tuple[str, datetime, str]] = field(factory=list)
    last_report_at: datetime | None = None
    escalations: list[Escalation] = field(factory=list)
    breaches: list[Breach] = field(factory=list)
    pending: list[Pending] = field(factory=list)
    fired: set[str] = field(factory=set)
    reopen_due: datetime | None = None
    reopens: int = 0
    #: reopened for rework at the level that had accepted it: only its resolve
    #: limit runs until the case moves to another level
    rework: bool = False
    #: every escalation / reopening event seen, applied or not (derived ids count on these)
    escalation_events: int = 0
    #: the highest ``n`` of the escalations ``esc:<id>:<n>`` seen, applied or not: the next derived one is
    #: numbered above it and above ``escalation_events`` (``timers.next_due``), so never as one stored
    escalation_number: int = 0
    reopen_events: int = 0
    #: the highest ``n`` of the reopenings ``reopen:<id>:<n>`` seen, applied or not (as ``escalation_number``)
    reopen_number: int = 0
    timeline: list[Entry] = field(factory=list)
    version: int = 0
    #: a request for more time waiting for an answer (one at a time)
    extension_request: ExtensionRequest | None = None
    #: every approved extension, in order
    extensions: list[Extension] = field(factory=list)
    #: what approved extensions add to the current level's resolve limit (reset when the clock restarts)
    extra_days: int = 0
    extra_hours: int = 0
    #: what approved extensions add to the handler's own resolve limit (reset by an assignment)
    handler_extra_days: int = 0
    handler_extra_hours: int = 0
    consultations: list[Consultation] = field(factory=list)
    returns: list[Return] = field(factory=list)
    summons: list[Summons] = field(factory=list)
    #: the named handler (派单), every assignment, and the role whose limits the handler works under
    assignee: str | None = None
    assignments: list[Assignment] = field(factory=list)
    handler_role: str | None = None
    #: assignments the rules made (derived ids count on these)
    pass_events: int = 0
    #: the highest ``n`` of the passes ``pass:<id>:<n>`` seen, applied or not (as ``escalation_number``)
    pass_number: int = 0
    #: feedback to the reporter (反馈) for the latest resolution: when it is due, when given, by whom
    feedback_due: datetime | None = None
    feedback_at: datetime | None = None
    feedback_by: str | None = None

    @property
    def limits(self) -> EscalationPolicy | None:
        """The policy whose limits hold the case where it is now: the ruleset governing its current
        node (as in force when it was reported), else the one it was reported under."""
        return self.level_policy if self.level_policy is not None else self.policy

    @property
    def is_open(self) -> bool:
        """True while the incident is someone's job (not yet resolved)."""
        return self.status in OPEN

    @property
    def place_key(self) -> str:
        """What "the same place" means for duplicates and repeats: the place, else the node."""
        return f"place:{self.place}" if self.place else f"node:{self.node}"

    @property
    def self_closed(self) -> bool:
        """Reported and resolved or closed by the same person: earns nothing, is flagged."""
        return self.reporter in (self.resolved_by, self.closed_by)

    @property
    def self_closed_flag(self) -> str:
        """The flag naming the steps the reporter took: ``flagged: reported and resolved by X``."""
        steps = [s for s, who in (("resolved", self.resolved_by), ("closed", self.closed_by)) if who == self.reporter]
        if not steps:
            return ""
        words = ["reported", *steps]
        return f"flagged: {', '.join(words[:-1])} and {words[-1]} by {self.reporter}"

    @property
    def feedback_late(self) -> bool | None:
        """True if feedback was given after it was due; ``None`` while none was given or none is due."""
        if self.feedback_at is None or self.feedback_due is None:
            return None
        return self.feedback_at > self.feedback_due

    def answer(self, **changes: Any) -> None:
        """Update the summons of the department summoned now (if any)."""
        if self.summoned is not None and self.summons and self.summons[-1].department == self.summoned:
            last = self.summons[-1]
            self.summons[-1] = attrs.evolve(last, **changes)

    def restart_clock(self, when: datetime) -> None:
        """The incident (re)arrives somewhere: a fresh clock starts running at ``when``.

        Call it once the status is set: a case that arrives still in hand
        (sent up while someone is at it) has nothing for the level to accept.
        """
        self.segments = [[when, None]]
        self.handler_segments = []
        self.taken_at_level = self.status != REPORTED
        self.extra_days = self.extra_hours = 0
        self.handler_extra_days = self.handler_extra_hours = 0
        if self.paused_since is not None:
            self.paused_total += when - self.paused_since
        self.paused, self.paused_since = False, None

    def restart_handler_clock(self, when: datetime) -> None:
        """The case is (re)assigned inside its level: the handler's own clock starts at ``when``.

        The level's clock runs on (a paused case runs again: someone new has it).
        """
        if self.paused:
            self.resume(when)
        self.handler_segments = [[when, None]]
        self.handler_extra_days = self.handler_extra_hours = 0

    def stop_clock(self, when: datetime) -> None:
        """Close the running stretch of each clock, if any."""
        for segments in (self.segments, self.handler_segments):
            if segments and segments[-1][1] is None:
                segments[-1][1] = when

    def pause(self, when: datetime) -> None:
        """Stop the clock: waiting for the resident, for parts..."""
        self.paused, self.paused_since = True, when
        self.stop_clock(when)

    def resume(self, when: datetime) -> None:
        """Start a new running stretch, keeping the time already spent."""
        if self.paused_since is not None:
            self.paused_total += when - self.paused_since
        self.paused, self.paused_since = False, None
        self.segments.append([when, None])
        if self.handler_segments:
            self.handler_segments.append([when, None])

    def facts(self, now: datetime) -> IncidentFacts:
        """The documented record conditions read (``incident.severity`` ...)."""
        paused = self.paused_total + (
            now - self.paused_since if self.paused_since else timedelta(0)
        )
        spent = max(now - self.reported_at - paused, timedelta(0))
        return IncidentFacts(
            id=self.id,
            category=self.category,
            severity=self.severity,
            level=self.current_level,
            key_person=self.key_person,
            channel=self.channel,
            age=spent,
            place=self.place or "",
            repeats=1 + len(self.repeats),
        )

    def note(self, entry: Entry) -> None:
        """Add a timeline line and mark the record changed."""
        self.timeline.append(entry)
        self.version += 1


def numbered(event_id: str, kind: str, incident: str) -> int:
    """``n`` of a derived event's id ``<kind>:<incident>:<n>`` (``esc``, ``reopen``, ``pass``), else 0."""
    head = f"{kind}:{incident}:"
    number = event_id[len(head):] if event_id.startswith(head) else ""
    return int(number) if number.isascii() and number.isdecimal() else 0


def running_since(
    incident: Incident, handler: bool = False
) -> tuple[datetime, list[tuple[datetime, datetime]]] | None:
    """The open stretch's start and the closed stretches, or ``None`` while paused.

    ``handler``: of the handler's own clock (the level's when the case was not
    assigned at its level).
    """
    segments = incident.handler_segments if handler and incident.handler_segments else incident.segments
    if not segments or segments[-1][1] is not None:
        return None
    closed = [(s, e) for s, e in segments[:-1] if s is not None and e is not None]
    start = segments[-1][0]
    assert start is not None
    return start, closed


def age(incident: Incident, now: datetime) -> timedelta:
    """Wall-clock time since the incident was reported."""
    return max(now - incident.reported_at, timedelta(0))
