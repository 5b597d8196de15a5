"""The escalation plugin's per-engine state: every incident, derived from the event log.

``EscalationState`` is attached to an engine as ``"escalation"``; its hook
implementations validate incident events, apply them, and return what falls
due on ``tick``.  Each incident keeps the policy in force when it was reported,
so a ruleset change never rewrites the judgement of an open incident.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridcore import Explanation, Outcome, RuleRef, hookimpl
from gridcore.events import (
    SYSTEM_ACTOR,
    Event,
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

from . import lifecycle, routing, timers
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
    Pending,
)
from .policy import DEFAULT_REOPEN, EscalationPolicy, EscalationRules, Notice

if TYPE_CHECKING:
    from gridcore import Engine

NAME = "escalation"
#: Escalations and reopenings decided by an event fall due just after it: a
#: derived event never shares its cause's time, so canonical order (time, id)
#: always puts the cause first, however the ids sort.
IMMEDIATELY = timedelta(microseconds=1)


def policy_at(engine: Engine, when: datetime) -> tuple[EscalationPolicy | None, str]:
    """The escalation policy in force at ``when`` and its ruleset's name (None if none)."""
    ruleset = engine.ruleset_at(when)
    if ruleset is None:
        return None, ""
    section = ruleset.section(NAME)
    if isinstance(section, EscalationRules):
        return section.on(when.astimezone(engine.community.tz).date()), str(ruleset.name)
    return (section if isinstance(section, EscalationPolicy) else None), str(ruleset.name)


class EscalationState:
    """Every incident of one engine, and the hooks that keep them up to date."""

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
        self._due: dict[str, timers.Due | None] = {}
        self._heap: list[tuple[datetime, str, int]] = []

    # ------------------------------------------------------------ hooks

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse illegal transitions and people acting outside their cells."""
        if not isinstance(event, IncidentEvent):
            return None
        return lifecycle.refusals(engine, self, event)

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Apply one incident event to its incident."""
        if isinstance(event, IncidentReported):
            self._reported(event)
            return
        if not isinstance(event, IncidentEvent):
            return
        incident = self.incidents.get(event.incident)
        if incident is None:
            return
        self._apply(incident, event)
        self._schedule(incident)

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        """Every escalation and reopening due by ``now`` (at the time it fell due)."""
        heap = self._heap
        while heap and not self._current(heap[0]):
            heapq.heappop(heap)
        if not heap or heap[0][0] > now:
            return []
        out = []
        seen: set[str] = set()
        for when, ident, version in heap:
            if when <= now and ident not in seen and self._current((when, ident, version)):
                seen.add(ident)
                due = self._due[ident]
                assert due is not None
                out.append(due.event)
        return out

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``escalation:<event id>`` or ``escalation:route:<incident>``."""
        from .views import explain

        return explain(self, decision)

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each incident's final node, level, status and number of escalations."""
        out = []
        for incident in sorted(self.incidents.values(), key=lambda i: i.id):
            rules = tuple(e.rule for e in incident.escalations if e.rule is not None)
            if incident.route is not None:
                rules = (incident.route.rule, *rules)
            subject = f"incident:{incident.id}"
            out.append(
                Outcome(
                    NAME, f"{subject}:level", incident.current_level, rules, incident.current_node
                )
            )
            out.append(Outcome(NAME, f"{subject}:node", incident.current_node, rules))
            out.append(Outcome(NAME, f"{subject}:status", incident.status, rules))
            out.append(Outcome(NAME, f"{subject}:escalations", len(incident.escalations), rules))
        return out

    # ------------------------------------------------------------ scheduling

    def _current(self, entry: tuple[datetime, str, int]) -> bool:
        incident = self.incidents.get(entry[1])
        return (
            incident is not None
            and incident.version == entry[2]
            and self._due.get(entry[1]) is not None
        )

    def _schedule(self, incident: Incident) -> None:
        due = timers.next_due(self.engine.community, incident, self.engine.community.tz)
        self._due[incident.id] = due
        if due is not None:
            heapq.heappush(self._heap, (due.event.time, incident.id, incident.version))

    # ------------------------------------------------------------ reports in

    def _reported(self, event: IncidentReported) -> None:
        community = self.engine.community
        policy, ruleset = policy_at(self.engine, event.time)
        key = f"place:{event.place}" if event.place else f"node:{event.node}"
        self.reports_at[(event.category, key)].append(event.time)
        primary = self._open_duplicate(policy, event, key)
        if primary is not None:
            self._join(primary, event, policy)
            self._schedule(primary)
            return
        incident = Incident(
            id=event.incident,
            category=event.category,
            severity=event.severity,
            node=event.node,
            place=event.place,
            channel=event.channel,
            key_person=event.key_person,
            description=event.description,
            reporter=event.actor,
            reported_at=event.time,
            policy=policy,
            ruleset=ruleset,
            last_report_at=event.time,
        )
        self.incidents[incident.id] = incident
        self.at_place[(event.category, key)].append(incident.id)
        incident.note(
            Entry(
                event.time,
                "reported",
                event.actor,
                event.node,
                _report_detail(event),
                event=event.id,
            )
        )
        if policy is None:
            detail = "no escalation policy in force: no routing, limits or automatic escalation"
            incident.note(Entry(event.time, "no policy", SYSTEM_ACTOR, event.node, detail))
        route = policy.route_for(incident.facts(event.time)) if policy else None
        incident.route = route
        incident.current_node = routing.start_node(
            community, event.node, route.start_level if route else None
        )
        incident.current_level = routing.level_of(community, incident.current_node)
        incident.restart_clock(event.time)
        if route is not None:
            incident.departments = tuple(
                d for d in route.departments if routing.is_department(community, d)
            )
            for missing in (d for d in route.departments if d not in incident.departments):
                detail = f"{missing} is not a line department of {community.name}: not routed there"
                incident.note(
                    Entry(
                        event.time,
                        "not routed",
                        SYSTEM_ACTOR,
                        incident.current_node,
                        detail,
                        str(route.rule),
                    )
                )
            detail = f"starts at {incident.current_level} {incident.current_node}"
            if incident.departments:
                detail += f", routed to {', '.join(incident.departments)}"
            incident.note(
                Entry(
                    event.time,
                    "routed",
                    SYSTEM_ACTOR,
                    incident.current_node,
                    detail,
                    str(route.rule),
                )
            )
            self._notify(incident, route.notify, route.rule, event.time)
        self._arrived(incident, event.time)
        self._decide_immediate(incident, policy, event)
        self._schedule(incident)

    def _notify(
        self, incident: Incident, notices: tuple[Notice, ...], rule: RuleRef, when: datetime
    ) -> None:
        community = self.engine.community
        for notice in notices:
            sent = routing.notify(community, notice, incident.node, incident.current_node, rule)
            incident.note(
                Entry(when, "notified", SYSTEM_ACTOR, sent.node or "", sent.describe(), str(rule))
            )

    def _arrived(self, incident: Incident, when: datetime) -> None:
        """The incident arrived at its current level: tell whom that level's limit names."""
        limit = incident.policy.limit_for(incident.current_level) if incident.policy else None
        if limit is not None and limit.notify:
            self._notify(incident, limit.notify, limit.rule, when)

    def _open_duplicate(
        self, policy: EscalationPolicy | None, event: IncidentReported, key: str
    ) -> Incident | None:
        if policy is None or policy.duplicates is None:
            return None
        window = policy.duplicates.window
        found = None
        for ident in self.at_place.get((event.category, key), ()):
            incident = self.incidents[ident]
            if not incident.is_open:
                continue
            last = incident.last_report_at or incident.reported_at
            if event.time - last <= window and (
                found is None or incident.reported_at > found.reported_at
            ):
                found = incident
        return found

    def _join(
        self, primary: Incident, event: IncidentReported, policy: EscalationPolicy | None
    ) -> None:
        assert policy is not None and policy.duplicates is not None
        self.aliases[event.incident] = primary.id
        primary.repeats.append((event.incident, event.time, event.actor))
        primary.last_report_at = event.time
        primary.severity = max(primary.severity, event.severity)
        primary.key_person = primary.key_person or event.key_person
        detail = f"{event.incident} joined as repeat report #{len(primary.repeats)}: {_report_detail(event)}"
        primary.note(
            Entry(
                event.time,
                "repeat report",
                event.actor,
                event.node,
                detail,
                str(policy.duplicates.rule),
                event.id,
            )
        )
        inputs = {
            "category": event.category,
            "place": primary.place_key,
            "window": _days(policy.duplicates.window),
            "open incident": primary.id,
            "its last report before": _iso(
                primary.repeats[-2][1] if len(primary.repeats) > 1 else primary.reported_at
            ),
        }
        self.decisions[event.id] = Explanation(
            f"escalation:{event.id}",
            f"report {event.incident} joined open incident {primary.id} as repeat report #{len(primary.repeats)}",
            (policy.duplicates.rule,),
            inputs,
            primary.id,
        )
        self._decide_immediate(primary, policy, event)

    def _decide_immediate(
        self, incident: Incident, policy: EscalationPolicy | None, event: IncidentReported
    ) -> None:
        """Queue escalations that conditions or repeats decide at the moment of a report."""
        if policy is None:
            return
        facts = incident.facts(event.time)
        shown = {
            "severity": facts.severity,
            "category": facts.category,
            "key_person": facts.key_person,
            "channel": facts.channel,
            "repeats": facts.repeats,
        }
        for item in policy.immediate:
            key = f"immediate:{item.rule}"
            if key in incident.fired or not item.condition.holds(facts):
                continue
            incident.fired.add(key)
            self._queue(
                incident,
                event.time + IMMEDIATELY,
                key,
                f"{item.condition} holds",
                item.rule,
                item.to_level,
                item.department,
                shown,
            )
        for rep in policy.repeats:
            key = f"repeats:{rep.rule}"
            times = self.reports_at[(incident.category, incident.place_key)]
            count = sum(1 for t in times if event.time - rep.window <= t <= event.time)
            if key in incident.fired or count < rep.count:
                continue
            incident.fired.add(key)
            reason = f"{count} reports of {incident.category} at the same place within {_days(rep.window)}"
            self._queue(
                incident,
                event.time + IMMEDIATELY,
                key,
                reason,
                rep.rule,
                rep.to_level,
                rep.department,
                {**shown, "repeats": count},
            )

    def _queue(
        self,
        incident: Incident,
        when: datetime,
        key: str,
        reason: str,
        rule: RuleRef,
        to: str | None,
        department: str | None,
        facts: dict[str, Any],
    ) -> None:
        community = self.engine.community
        base = incident.pending[-1].to_node if incident.pending else incident.current_node
        where = timers.target(community, base, to, department)
        if where is None:
            detail = f"{reason}, but there is nowhere higher to go from {base}"
            if (
                to is not None
                and to not in community.hierarchy.levels
                and not routing.is_department(community, to)
            ):
                detail = f"{reason}, but {to} is neither a level nor a line department of {community.name}"
            incident.note(Entry(when, "not escalated", SYSTEM_ACTOR, base, detail, str(rule)))
            return
        incident.pending.append(Pending(when, key, reason, rule, where[0], where[1], facts))
        incident.version += 1

    # ------------------------------------------------------------ transitions

    def _apply(self, incident: Incident, event: IncidentEvent) -> None:
        when, actor = event.time, event.actor
        if isinstance(event, IncidentEscalated):
            self._escalated(incident, event)
        elif isinstance(event, IncidentAccepted):
            incident.status = ACCEPTED
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
        elif isinstance(event, IncidentPaused):
            incident.pause(when)
            incident.note(Entry(when, "paused", actor, event.node, event.reason, event=event.id))
        elif isinstance(event, IncidentResumed):
            incident.resume(when)
            incident.note(Entry(when, "resumed", actor, event.node, event=event.id))
        elif isinstance(event, IncidentResolved):
            incident.status = RESOLVED
            if incident.paused:
                incident.resume(when)
            incident.stop_clock(when)
            incident.pending.clear()
            incident.resolved_at, incident.resolved_by = when, actor
            incident.note(Entry(when, "resolved", actor, event.node, event.note, event=event.id))
        elif isinstance(event, IncidentVerified):
            self._verified(incident, event)
        elif isinstance(event, SatisfactionRated):
            incident.ratings[actor] = event.score
            incident.note(
                Entry(
                    when, "rated", actor, event.node, f"satisfaction {event.score}", event=event.id
                )
            )
        elif isinstance(event, IncidentReopened):
            self._reopened(incident, event)
        elif isinstance(event, IncidentClosed):
            incident.status = CLOSED
            incident.closed_at, incident.closed_by = when, actor
            detail = (
                "flagged: reported and closed by the same person" if incident.self_closed else ""
            )
            incident.note(Entry(when, "closed", actor, event.node, detail, event=event.id))

    def _escalated(self, incident: Incident, event: IncidentEscalated) -> None:
        incident.escalation_events += 1
        if not incident.is_open:
            incident.note(
                Entry(
                    event.time,
                    "escalation ignored",
                    event.actor,
                    event.node,
                    f"incident was {incident.status}",
                    event.rule,
                    event.id,
                )
            )
            return
        community = self.engine.community
        if lifecycle.escalation_problem(community, incident, event):
            # a stored escalation replayed after a late event moved the incident:
            # levels only move up, so it is kept in the timeline and ignored
            detail = f"not above {incident.current_node} any more"
            incident.note(
                Entry(
                    event.time,
                    "escalation ignored",
                    event.actor,
                    event.node,
                    detail,
                    event.rule,
                    event.id,
                )
            )
            return
        due = self._due.get(incident.id)
        rule: RuleRef | None = None
        facts: dict[str, Any] = {"actor": event.actor}
        if event.actor == SYSTEM_ACTOR and due is not None and due.event.id == event.id:
            rule, facts = due.rule, dict(due.facts)
            if due.kind == "pending" and incident.pending:
                incident.pending.pop(0)
            if due.breach is not None:
                incident.breaches.append(due.breach)
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
        self.escalation_index[event.id] = (incident.id, len(incident.escalations))
        incident.escalations.append(record)
        incident.current_node, incident.current_level = record.to_node, record.to_level
        if event.department and event.department not in incident.departments:
            incident.departments = (*incident.departments, event.department)
        incident.status = REPORTED
        incident.accepted_at = None
        incident.restart_clock(event.time)
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
        if moved:
            self._arrived(incident, event.time)

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
            f" (unsatisfied: {reopen.text})" if unsatisfied else ""
        )
        incident.note(
            Entry(event.time, "verified", event.actor, event.node, detail, event=event.id)
        )

    def _reopened(self, incident: Incident, event: IncidentReopened) -> None:
        incident.reopen_events += 1
        if incident.status not in (RESOLVED, VERIFIED):
            # a stored reopening replayed after a late event changed the facts
            detail = f"reopening ignored: incident was {incident.status}"
            incident.note(
                Entry(event.time, "reopen ignored", event.actor, event.node, detail, event=event.id)
            )
            return
        incident.status = REPORTED
        incident.reopens += 1
        incident.reopen_due = None
        incident.resolved_at = incident.resolved_by = None
        incident.verified_at = incident.accepted_at = None
        incident.restart_clock(event.time)
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


def _report_detail(event: IncidentReported) -> str:
    parts = [f"{event.category}, severity {event.severity}"]
    if event.place:
        parts.append(f"place {event.place}")
    if event.key_person:
        parts.append("key person involved")
    if event.description:
        parts.append(event.description)
    return "; ".join(parts)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="minutes")


def _days(window: timedelta) -> str:
    if window % timedelta(days=1) == timedelta(0):
        return f"{window.days} days"
    return f"{window.total_seconds() / 3600:g} hours"
