"""The transitions of the loop: how each accepted incident event changes its incident.

Validation (``Checks.refusals``, lifecycle.py) has already run for new events; here the
log is authoritative, so a stored event replayed after a late one is applied
if it still makes sense and otherwise kept in the timeline as ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridcore import Explanation, RuleRef
from gridcore.events import SYSTEM_ACTOR

from . import lifecycle, routing, timers
from .assignments import Assignments
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
    IncidentResolved,
    IncidentResumed,
    IncidentReturned,
    IncidentVerified,
    RepeatReportJoined,
    SatisfactionRated,
)
from .ignored import (
    ignored_decision,
    ignored_derived,
    joined_step_decision,
    joined_why,
    limit_met,
    resolved_in_time,
    stale_join_decision,
    stale_why,
)
from .incident import (
    ACCEPTED,
    CLOSED,
    HANDLING,
    REPORTED,
    RESOLVED,
    VERIFIED,
    Entry,
    Escalation,
    Incident,
    Summons,
    numbered,
)
from .intake import IMMEDIATELY
from .policy import DEFAULT_REOPEN
from .returns import Returns
from .steps import Steps

#: The extension steps, as a tuple (``A | B`` in an ``isinstance`` builds a union on every call).
_EXTENSION_STEPS = (ExtensionRequested, ExtensionApproved, ExtensionRefused)


class Transitions(Returns, Assignments, Steps):
    """How each accepted incident event changes its incident (a mixin of ``EscalationState``)."""

    def transition(self, incident: Incident, event: IncidentEvent) -> None:
        """Change ``incident`` by one of its events (any kind but the report)."""
        self._transition(incident, event)
        self.update_handler(incident)

    def _transition(self, incident: Incident, event: IncidentEvent) -> None:
        when, actor = event.time, event.actor
        # (the kinds are siblings: one branch holds for an event; the most frequent are tried first)
        if isinstance(event, IncidentAccepted):
            summons = incident.summons[-1] if incident.summoned and incident.summons else None
            if summons is not None and summons.arrived_at is None and actor in routing.department_members(
                self.engine.community, summons.department, incident.current_node, incident.node
            ):
                incident.answer(arrived_at=when, arrived_by=actor)
            incident.status = ACCEPTED
            incident.rework = False
            incident.taken_at_level = True
            incident.accepted_at, incident.accepted_by = when, actor
            incident.first_accepted_at = incident.first_accepted_at or when
            incident.note(
                Entry(
                    when,
                    "accepted",
                    actor,
                    event.node,
                    f"at {incident.current_node}",
                    event=event.id,
                )
            )
        elif isinstance(event, IncidentHandlingStarted):
            incident.status = HANDLING
            incident.note(
                Entry(when, "handling started", actor, event.node, event.note, event=event.id)
            )
        elif isinstance(event, IncidentResolved):
            incident.status = RESOLVED
            if incident.paused:
                incident.resume(when)
            incident.stop_clock(when)
            incident.pending.clear()
            incident.resolved_at, incident.resolved_by = when, actor
            incident.answer(resolved_at=when)
            incident.note(Entry(when, "resolved", actor, event.node, event.note, event=event.id))
            self.lapse_extension(incident, when, "resolved before an answer")
            self.feedback_starts(incident, when)
        elif isinstance(event, IncidentVerified):
            self._verified(incident, event)
        elif isinstance(event, IncidentClosed):
            incident.status = CLOSED
            incident.closed_at, incident.closed_by = when, actor
            incident.note(
                Entry(when, "closed", actor, event.node, incident.self_closed_flag, event=event.id)
            )
        elif isinstance(event, SatisfactionRated):
            incident.ratings[actor] = event.score
            incident.note(
                Entry(when, "rated", actor, event.node, f"satisfaction {event.score}", event=event.id)
            )
        elif isinstance(event, IncidentEscalated):
            self._escalated(incident, event)
        elif isinstance(event, IncidentPaused):
            incident.pause(when)
            incident.note(Entry(when, "paused", actor, event.node, event.reason, event=event.id))
        elif isinstance(event, IncidentResumed):
            incident.resume(when)
            incident.note(Entry(when, "resumed", actor, event.node, event=event.id))
        elif isinstance(event, IncidentReopened):
            self._reopened(incident, event)
        elif isinstance(event, _EXTENSION_STEPS):
            self.extension_step(incident, event)
        elif isinstance(event, ConsultationHeld):
            self.consulted(incident, event)
        elif isinstance(event, FeedbackGiven):
            self.feedback_given(incident, event)
        elif isinstance(event, IncidentReturned):
            self.returned(incident, event)
        elif isinstance(event, IncidentAssigned):
            self.assigned(incident, event)

    def _lapsed(self, incident: Incident, event: IncidentEscalated) -> str | None:
        """Why a stored escalation by the system, replayed after a late event and not what falls due
        now, no longer holds (``None``: it still does, and moves the incident up as recorded).

        Decided at a report (immediate rules, repeats), it holds while it waits in ``pending``; a breach
        holds only if the replayed state has a limit running out at its very time (the acceptance or
        resolution recorded late met it, or moved its deadline)."""
        if any(p.time == event.time for p in incident.pending):
            return None
        due = self.due.get(incident.id)
        if due is not None and due.time == event.time and due.kind == "breach":
            return None
        return limit_met(incident, event, due)

    def _ignore(self, incident: Incident, event: IncidentEscalated, why: str, late: Entry | None = None) -> None:
        """Keep ``event``, a stored escalation that no longer holds, in the timeline as ignored for ``why``
        (it moves nothing), with what ``explain`` says of it (``late``: the step recorded after it, if known)."""
        incident.note(Entry(event.time, "escalation ignored", event.actor, event.node, why, event.rule, event.id))
        self.decisions[event.id] = ignored_decision(incident, event, why, late)

    def stale_join(self, event: RepeatReportJoined, joined_as: str) -> None:
        """``event``, a stored join of a report to a case it no longer joins on the replayed log (a late,
        earlier report at the same place made that case a repeat report): kept in the timeline of the case
        the report is in now as ``join ignored``, and explained; it changes nothing."""
        now = self.aliases.get(event.report)
        primary = self.incidents.get(now) if now is not None else None
        if primary is None or now == event.incident:
            return
        why = stale_why(event, primary)
        primary.note(Entry(event.time, "join ignored", event.actor, event.node, f"{event.report} joined "
                           f"{event.incident}: {why}", event.rule, event.id))
        self.decisions[event.id] = stale_join_decision(primary, event, joined_as)
        self.changed(primary.id)

    def ignore_joined(self, primary: Incident, event: IncidentEvent) -> None:
        """``event``, a stored step of a report now a repeat report of ``primary``, kept there, ignored.

        The report ``primary`` was opened by is dated before the one the step was on and was recorded
        after it: had it been on the log, that report would have joined it at once (and a step on a
        repeat report is refused)."""
        why = joined_why(event, primary)
        if isinstance(event, IncidentEscalated):
            late = next((e for e in primary.timeline if e.what == "reported" and e.event), None)
            self._ignore(primary, event, why, late)
            return
        step = type(event).kind.removeprefix("incident_").replace("_", " ")
        primary.note(Entry(event.time, "step ignored", event.actor, event.node, f"{step} of {event.incident}: {why}",
                           event=event.id))
        self.decisions[event.id] = joined_step_decision(primary, event, step)

    def stale_why(self, incident: Incident, event: IncidentEvent) -> str | None:
        """Why ``event``, a stored escalation, reopening, pass, return or extension step replayed after a late
        event, no longer holds on the replayed log (its transition keeps it in the timeline as ignored and
        changes nothing else), in English then Chinese in brackets; None: it holds.  Changes nothing: the
        escalation plugin's ``gridcore_validate_stored`` answers it, so no plugin applies such an event."""
        if isinstance(event, IncidentEscalated):
            return self._escalation_stale(incident, event)
        if isinstance(event, IncidentReopened):
            found = self._reopen_stale(incident, event)
            return None if found is None else found[0]
        if isinstance(event, IncidentAssigned):
            return self.assignment_stale(incident, event)
        if isinstance(event, IncidentReturned):
            return self.return_stale(incident)
        if isinstance(event, _EXTENSION_STEPS):
            found = self.extension_stale(incident, event)
            return None if found is None else found[1]
        return None

    def _escalation_stale(self, incident: Incident, event: IncidentEscalated) -> str | None:
        """Why ``event``, a stored escalation, no longer holds (``escalation ignored``); None: it holds."""
        if not incident.is_open:
            status_zh = lifecycle.STATUS_ZH.get(incident.status, incident.status)
            return resolved_in_time(incident, event) or f"incident was {incident.status} (事件当时{status_zh})"
        if lifecycle.escalation_problem(self.engine.community, incident, event):
            # a stored escalation replayed after a late event moved the incident:
            # levels only move up, so it is kept in the timeline and ignored
            return (f"not above {incident.current_node} any more "
                    f"(事件已在 {incident.current_node} 或其上，不再上报到那里)")
        if event.actor == SYSTEM_ACTOR and self._due_escalation(incident, event) is None:
            # its limit was met after all (an acceptance or resolution recorded late): it still
            # happened, so it stays in the timeline, but it moves nothing and counts as no escalation
            return self._lapsed(incident, event)
        return None

    def _due_escalation(self, incident: Incident, event: IncidentEscalated) -> timers.Due | None:
        """What falls due for ``incident`` if it is ``event`` (a stored escalation replayed after a late event
        may not be what is due now)."""
        due = self.due.get(incident.id)
        if due is not None and (due.event.id != event.id or due.event.time != event.time):
            return None
        return due

    def _escalated(self, incident: Incident, event: IncidentEscalated) -> None:
        incident.escalation_events += 1
        incident.escalation_number = max(incident.escalation_number, numbered(event.id, "esc", incident.id))
        why = self._escalation_stale(incident, event)
        if why is not None:
            self._ignore(incident, event, why)
            return
        community = self.engine.community
        due = self._due_escalation(incident, event)
        rule: RuleRef | None = None
        facts: dict[str, Any] = {"actor": event.actor}
        # the new level's clock starts when the escalation was decided: a decision
        # taken on a report is dated just after it, but its limits count from it
        started = event.time
        if event.actor == SYSTEM_ACTOR and due is not None:
            rule, facts = due.rule, dict(due.facts)
            if due.kind == "pending" and incident.pending:
                incident.pending.pop(0)
                started = event.time - IMMEDIATELY
            if due.breach is not None:
                incident.breaches.append(due.breach)
        # Sent up on its resolve limit while someone works on it: the handler's
        # work counts (they go on, and may resolve it); the new level is told and
        # supervises under its own resolve limit.  Only a missed acceptance, or a
        # whistle blown by hand, asks the new level to accept it.
        handler = (
            incident.accepted_by
            if event.actor == SYSTEM_ACTOR
            and due is not None
            and due.breach is not None
            and due.breach.limit == "resolve"
            and incident.status in (ACCEPTED, HANDLING)
            else None
        )
        record = Escalation(
            event=event.id,
            time=event.time,
            actor=event.actor,
            from_node=incident.current_node,
            to_node=event.to_node,
            from_level=incident.current_level,
            to_level=routing.level_of(community, event.to_node),
            department=event.department,
            reason=event.reason,
            rule=rule,
            rule_text=event.rule,
            facts=facts,
        )
        self.lapse_extension(incident, event.time, f"the case went to {record.to_level} {record.to_node}")
        self.escalation_index[event.id] = (incident.id, len(incident.escalations))
        incident.escalations.append(record)
        incident.current_node, incident.current_level = record.to_node, record.to_level
        self.arrived_at_node(incident)
        if event.department and event.department not in incident.departments:
            incident.departments = (*incident.departments, event.department)
        if incident.summoned and (event.department or record.to_node != record.from_node):
            incident.answer(left_at=event.time)
        if event.department:
            incident.summoned = event.department
        elif record.to_node != record.from_node:
            incident.summoned = None
        if handler is None:
            incident.status = REPORTED
            incident.accepted_at = None
            incident.assignee = None  # the new level names its own handler
        incident.rework = False
        incident.restart_clock(started)
        if event.department:
            self.summon(incident, event)
        moved = record.to_node != record.from_node
        where = f"{record.to_level} {record.to_node}" + (
            f", department {event.department}" if event.department else ""
        )
        incident.note(
            Entry(
                event.time,
                "escalated",
                event.actor,
                event.node,
                f"to {where}: {event.reason}",
                event.rule,
                event.id,
            )
        )
        if handler is not None:
            incident.note(
                Entry(
                    event.time,
                    "notified",
                    SYSTEM_ACTOR,
                    record.to_node,
                    f"{record.to_level} {record.to_node} told: {handler} goes on handling it",
                    event.rule,
                )
            )
        if moved:
            self.arrived(incident, event.time)

    def summon(self, incident: Incident, event: IncidentEscalated) -> None:
        """A department was summoned: note the deadlines its limits set now (they do not move later)."""
        assert event.department is not None
        due: dict[str, datetime] = {}
        for deadline in timers.deadlines(incident, self.engine.community.tz):
            if deadline.clock == "level":
                due.setdefault(deadline.limit, deadline.time)
        incident.summons.append(Summons(event.department, event.id, event.time, incident.current_node,
                                        incident.current_level, due.get("accept"), due.get("resolve")))

    def _verified(self, incident: Incident, event: IncidentVerified) -> None:
        incident.status = VERIFIED
        incident.satisfaction = event.satisfaction
        incident.verified_at, incident.verified_by = event.time, event.actor
        incident.verifications.append((event.time, event.satisfaction, event.actor))
        reopen = incident.policy.reopen if incident.policy else DEFAULT_REOPEN
        unsatisfied = reopen.unsatisfied(event.satisfaction)
        if unsatisfied:
            incident.reopen_due = event.time + IMMEDIATELY
        detail = f"satisfaction {event.satisfaction}" + (
            f", unsatisfied: {reopen.text}" if unsatisfied else ""
        )
        incident.note(Entry(event.time, "verified", event.actor, event.node, detail, event=event.id))

    def _reopen_stale(self, incident: Incident, event: IncidentReopened) -> tuple[str, str] | None:
        """Why ``event``, a stored reopening, no longer holds, and its timeline line's detail (``reopen
        ignored``); None: it holds."""
        if incident.status not in (RESOLVED, VERIFIED):
            # a stored reopening replayed after a late event changed the facts
            status_zh = lifecycle.STATUS_ZH.get(incident.status, incident.status)
            return (f"incident was {incident.status} (事件当时{status_zh})",
                    f"reopening ignored: incident was {incident.status}")
        if event.actor == SYSTEM_ACTOR and (incident.status != VERIFIED or incident.reopen_due != event.time):
            # derived just after an unsatisfied verification: replayed after a late event, the
            # verification before it is another one (or none) and does not send the case back then
            why = ("no unsatisfied verification just before it any more (recorded late) "
                   "(补录后其前已无不满意的核查)")
            return why, f"reopening ignored: {why}"
        return None

    def _reopened(self, incident: Incident, event: IncidentReopened) -> None:
        incident.reopen_events += 1
        incident.reopen_number = max(incident.reopen_number, numbered(event.id, "reopen", incident.id))
        stale = self._reopen_stale(incident, event)
        if stale is not None:
            why, detail = stale
            incident.note(
                Entry(event.time, "reopen ignored", event.actor, event.node, detail, event=event.id)
            )
            if event.actor == SYSTEM_ACTOR:
                self.decisions[event.id] = ignored_derived(incident, event, "reopen", why)
            return
        # reopened on an unsatisfied verification (dated just after it): the
        # clock starts at the verification, so deadlines fall on its minute
        started = event.time
        if incident.verified_at is not None and event.time - incident.verified_at == IMMEDIATELY:
            started = incident.verified_at
        incident.status = REPORTED
        incident.rework = True
        incident.reopens += 1
        incident.reopen_due = None
        incident.resolved_at = incident.resolved_by = None
        incident.verified_at = incident.accepted_at = None
        # a new resolution will need its own feedback
        incident.feedback_due = incident.feedback_at = incident.feedback_by = None
        incident.restart_clock(started)
        reopen = incident.policy.reopen if incident.policy else DEFAULT_REOPEN
        rule = reopen.rule
        self.decisions[event.id] = Explanation(
            f"escalation:{event.id}",
            f"{'the system' if event.actor == SYSTEM_ACTOR else event.actor} reopened incident {incident.id}: {event.reason}",
            (rule,) if rule is not None else (),
            {
                "satisfaction": incident.satisfaction,
                "reopens when": reopen.text,
                "reopening": incident.reopens,
            },
            incident.current_node,
        )
        incident.note(
            Entry(
                event.time,
                "reopened",
                event.actor,
                event.node,
                event.reason,
                str(rule or ""),
                event.id,
            )
        )
