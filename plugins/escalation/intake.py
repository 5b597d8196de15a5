"""Reports coming in: new incidents, repeat reports joining open ones, decisions at report time.

These are methods of the escalation state (``EscalationState`` mixes ``Intake`` in).

A new report is routed (where it starts, which departments, who is told),
may join an open incident as a repeat report (the ``duplicates`` rule), and
may queue escalations decided on the spot (immediate conditions, repeats).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from gridcore import Explanation, RuleRef
from gridcore.events import SYSTEM_ACTOR

from . import routing, timers
from .events import IncidentReported, RepeatReportJoined, category_code, channel_code
from .incident import Entry, Incident, Pending
from .policy import EscalationPolicy, IncidentFacts, Notice
from .records import Records
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Engine

#: Escalations decided by an event fall due just after it: a derived event
#: never shares its cause's time, so canonical order (time, id) always puts
#: the cause first, however the ids sort.
IMMEDIATELY = timedelta(microseconds=1)


def policy_at(engine: Engine, when: datetime, node: str | None = None) -> tuple[EscalationPolicy | None, str]:
    """The escalation policy in force at ``when`` at ``node`` and its ruleset's name (None if none).

    ``node``: the ruleset of the nearest subtree around it with one in force
    judges (``Engine.ruleset_at``); None: the whole tree's.
    """
    ruleset = engine.ruleset_at(when, node)
    if ruleset is None:
        return None, ""
    return engine.policy(SECTION, at=when, node=node), ruleset.name


class Intake(Records):
    """Reports coming in (a mixin of ``EscalationState``)."""

    def reported(self, event: IncidentReported) -> None:
        """A report came in: join an open incident or open a new one, route it, decide at once."""
        # (``policy_at``, with the ruleset it finds kept for the category's code)
        governing = self.engine.ruleset_at(event.time, event.node)
        policy = None if governing is None else self.engine.policy(SECTION, at=event.time, node=event.node)
        ruleset = "" if governing is None else governing.name
        code = category_code(governing, event.category)
        channel = channel_code(governing, event.channel)
        if code != event.category or channel != event.channel:
            # a category written by its name (水管漏水) is the category of that code, everywhere; a channel too (电话)
            event = attrs.evolve(event, category=code, channel=channel)
        key = f"place:{event.place}" if event.place else f"node:{event.node}"
        self.count_report((event.category, key), event.time)
        primary = self._open_duplicate(policy, event, key)
        if primary is not None:
            self._join(primary, event, policy)
            self.schedule(primary)
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
        detail = _report_detail(event)
        incident.note(Entry(event.time, "reported", event.actor, event.node, detail, event=event.id))
        if policy is None:
            detail = "no escalation policy in force: no routing, limits or automatic escalation"
            incident.note(Entry(event.time, "no policy", SYSTEM_ACTOR, event.node, detail))
        self._route(incident, policy, event.time)
        self.arrived(incident, event.time)
        self._decide_immediate(incident, policy, event)
        self.schedule(incident)

    def _route(self, incident: Incident, policy: EscalationPolicy | None, when: datetime) -> None:
        """Where the incident starts, which departments it goes to, who is told."""
        community = self.engine.community
        route = policy.route_for(incident.facts(when)) if policy else None
        incident.route = route
        start = route.start_level if route else None
        incident.current_node = routing.start_node(community, incident.node, start)
        incident.current_level = routing.level_of(community, incident.current_node)
        self.arrived_at_node(incident)
        incident.restart_clock(when)
        if route is None:
            return
        rule = str(route.rule)
        known = tuple(d for d in route.departments if routing.is_department(community, d))
        incident.departments = known
        for missing in (d for d in route.departments if d not in known):
            detail = f"{missing} is not a line department of {community.name}: not routed there"
            incident.note(Entry(when, "not routed", SYSTEM_ACTOR, incident.current_node, detail, rule))
        detail = f"starts at {incident.current_level} {incident.current_node}"
        if known:
            detail += f", routed to {', '.join(known)}"
        incident.note(Entry(when, "routed", SYSTEM_ACTOR, incident.current_node, detail, rule))
        self._notify(incident, route.notify, route.rule, when)

    def _notify(
        self,
        incident: Incident,
        notices: tuple[Notice, ...],
        rule: RuleRef,
        when: datetime,
    ) -> None:
        community = self.engine.community
        for notice in notices:
            sent = routing.notify(community, notice, incident.node, incident.current_node, rule)
            incident.note(
                Entry(when, "notified", SYSTEM_ACTOR, sent.node or "", sent.describe(), str(rule))
            )

    def arrived(self, incident: Incident, when: datetime) -> None:
        """The incident arrived at its current level: tell whom that level's limit names."""
        limit = incident.limits.limit_for(incident.current_level) if incident.limits else None
        if limit is not None and limit.notify:
            self._notify(incident, limit.notify, limit.rule, when)

    def _open_duplicate(
        self,
        policy: EscalationPolicy | None,
        event: IncidentReported,
        key: str,
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
        self,
        primary: Incident,
        event: IncidentReported,
        policy: EscalationPolicy | None,
    ) -> None:
        assert policy is not None and policy.duplicates is not None
        self.aliases[event.incident] = primary.id
        primary.repeats.append((event.incident, event.time, event.actor))
        primary.last_report_at = event.time
        primary.severity = max(primary.severity, event.severity)
        primary.key_person = primary.key_person or event.key_person
        detail = (
            f"{event.incident} joined as repeat report #{len(primary.repeats)}: {_report_detail(event)}"
        )
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
        # published for other plugins (a report that joined is no incident of its own): derived just
        # after the report, like every decision taken at report time
        joined = RepeatReportJoined(
            id=f"joined:{event.id}", time=event.time + IMMEDIATELY, actor=SYSTEM_ACTOR, node=primary.node,
            incident=primary.id, report=event.incident, severity=event.severity,
            rule=str(policy.duplicates.rule))
        self.joins_due[joined.id] = joined
        self._decide_immediate(primary, policy, event)

    def join_refusals(self, event: RepeatReportJoined) -> list[str]:
        """A ``repeat_report_joined`` is accepted only as this state derived it."""
        if self.joins_due.get(event.id) == event:
            return []
        why = (f"{event.id}: a repeat report joins an incident when the duplicates rule decides it, "
               "never by a recorded event (重复上报并入由规则判定，不能直接录入)")
        return [why]

    def _decide_immediate(
        self,
        incident: Incident,
        policy: EscalationPolicy | None,
        event: IncidentReported,
    ) -> None:
        """Queue escalations that conditions or repeats decide at the moment of a report."""
        if policy is None:
            return
        facts = incident.facts(event.time)
        shown = None
        immediate, repeats = _fired_keys(policy)
        fired = incident.fired
        for item, key in zip(policy.immediate, immediate):
            if key in fired or not item.condition.holds(facts):
                continue
            fired.add(key)
            if shown is None:
                shown = _shown(facts)
            self._queue(incident,
                event.time + IMMEDIATELY,
                key,
                f"{item.condition} holds",
                item.rule,
                item.to_level,
                item.department,
                shown,
            )
        for rep, key in zip(policy.repeats, repeats):
            if key in fired:
                continue
            times = self.reports_at[(incident.category, incident.place_key)]
            count = sum(1 for t in times if event.time - rep.window <= t <= event.time)
            if count < rep.count:
                continue
            incident.fired.add(key)
            reason = (
                f"{count} reports of {incident.category} at the same place within {_days(rep.window)}"
            )
            self._queue(incident,
                event.time + IMMEDIATELY,
                key,
                reason,
                rep.rule,
                rep.to_level,
                rep.department,
                {**(shown if shown is not None else _shown(facts)), "repeats": count},
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
                detail = (
                    f"{reason}, but {to} is neither a level nor a line department of {community.name}"
                )
            incident.note(Entry(when, "not escalated", SYSTEM_ACTOR, base, detail, str(rule)))
            return
        incident.pending.append(Pending(when, key, reason, rule, where[0], where[1], facts))
        incident.version += 1


# ------------------------------------------------------------ transitions


#: id of a policy -> (the policy, held so that its id stays its own; the keys of ``Incident.fired`` its
#: immediate and repeat rules mark, in their order): a report asked each rule's text again
#: (``RuleRef.__str__``), three and more times a report, where most never fire
_FIRED_KEYS: dict[int, tuple[EscalationPolicy, tuple[str, ...], tuple[str, ...]]] = {}
#: Policies whose keys are kept (past this the table starts afresh)
_POLICIES = 256


def _fired_keys(policy: EscalationPolicy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys ``immediate:<rule>`` and ``repeats:<rule>`` of the policy's immediate and repeat rules."""
    kept = _FIRED_KEYS.get(id(policy))
    if kept is not None and kept[0] is policy:
        return kept[1], kept[2]
    if len(_FIRED_KEYS) >= _POLICIES:
        _FIRED_KEYS.clear()
    immediate = tuple(f"immediate:{item.rule}" for item in policy.immediate)
    repeats = tuple(f"repeats:{rep.rule}" for rep in policy.repeats)
    _FIRED_KEYS[id(policy)] = (policy, immediate, repeats)
    return immediate, repeats


def _shown(facts: IncidentFacts) -> dict[str, Any]:
    """The facts an escalation decided at report time shows."""
    return {
        "severity": facts.severity,
        "category": facts.category,
        "key_person": facts.key_person,
        "channel": facts.channel,
        "repeats": facts.repeats,
    }


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
