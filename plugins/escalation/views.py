"""The plugin's public read API: incidents, overdue lists, timelines, explanations.

Every function takes an engine (the state is found with
``engine.state("escalation")``) and returns frozen values, so callers can never
change an incident except by recording events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridcore import Explanation, UnknownNameError
from gridcore.classes import frozen
from gridcore.clock import require_aware

from . import timers
from .incident import (
    STATUSES,
    Assignment,
    Breach,
    Consultation,
    Entry,
    Escalation,
    Extension,
    ExtensionRequest,
    Incident,
    Return,
)
from .policy import Category, Channel, ExtraWorkdays, Holiday

if TYPE_CHECKING:
    from gridcore import Engine

    from .limits import LimitsRow
    from .state import EscalationState


@frozen
class IncidentView:
    """A snapshot of one incident, for reports, other plugins and embedders.

    ``node`` is where it was reported, ``current_node``/``current_level`` where
    it is now; ``repeat_reports`` are the ids of later reports that joined it;
    ``self_closed`` flags an incident reported and resolved or closed by the
    same person; ``breaches`` are the time limits it missed; ``extensions``
    the extensions approved (each with the deadline before and after).
    """

    id: str
    category: str
    severity: int
    node: str
    place: str | None
    reporter: str
    reported_at: datetime
    ruleset: str
    current_node: str
    current_level: str
    departments: tuple[str, ...]
    status: str
    paused: bool
    accepted_at: datetime | None
    resolved_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    escalations: tuple[Escalation, ...]
    breaches: tuple[Breach, ...]
    satisfaction: int | None
    ratings: Mapping[str, int]
    repeat_reports: tuple[str, ...]
    reopens: int
    self_closed: bool
    next_deadline: datetime | None
    next_limit: str | None
    #: ``flagged: reported and resolved by X`` (the steps the reporter took), or ""
    self_closed_flag: str = ""
    #: time spent paused before the current pause (if any), and when that began
    paused_time: timedelta = timedelta(0)
    paused_since: datetime | None = None
    description: str = ""
    channel: str = ""
    #: approved extensions (延期), and a request still waiting for an answer
    extensions: tuple[Extension, ...] = ()
    extension_request: ExtensionRequest | None = None
    #: consultations held (会商), and feedback to the reporter (反馈) for the latest resolution
    consultations: tuple[Consultation, ...] = ()
    feedback_due: datetime | None = None
    feedback_at: datetime | None = None
    feedback_by: str | None = None
    feedback_late: bool | None = None
    #: returns (退单): who sent it back from where, why, and where it went
    returns: tuple[Return, ...] = ()
    #: the named handler (派单), who took the case on, the role whose limits they work under, every assignment
    assignee: str | None = None
    accepted_by: str | None = None
    handler_role: str | None = None
    assignments: tuple[Assignment, ...] = ()

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.status in ("reported", "accepted", "handling")

    def age(self, now: datetime) -> timedelta:
        """Time since the report that the clock ran: paused time is left out."""
        paused = self.paused_time
        if self.paused_since is not None and now > self.paused_since:
            paused += now - self.paused_since
        return max(now - self.reported_at - paused, timedelta(0))


def state_of(engine: Engine) -> EscalationState:
    """The plugin state attached to ``engine``."""
    from .state import EscalationState

    state = engine.state("escalation")
    assert isinstance(state, EscalationState)
    return state


def view(engine: Engine, incident: Incident) -> IncidentView:
    """Freeze one incident record."""
    upcoming = timers.deadlines(incident, engine.community.tz)
    return IncidentView(
        id=incident.id,
        category=incident.category,
        severity=incident.severity,
        node=incident.node,
        place=incident.place,
        reporter=incident.reporter,
        reported_at=incident.reported_at,
        ruleset=incident.ruleset,
        current_node=incident.current_node,
        current_level=incident.current_level,
        departments=incident.departments,
        status=incident.status,
        paused=incident.paused,
        accepted_at=incident.accepted_at,
        resolved_at=incident.resolved_at,
        verified_at=incident.verified_at,
        closed_at=incident.closed_at,
        escalations=tuple(incident.escalations),
        breaches=tuple(incident.breaches),
        satisfaction=incident.satisfaction,
        ratings=dict(incident.ratings),
        repeat_reports=tuple(r[0] for r in incident.repeats),
        reopens=incident.reopens,
        self_closed=incident.self_closed,
        next_deadline=upcoming[0].time if upcoming else None,
        next_limit=upcoming[0].limit if upcoming else None,
        self_closed_flag=incident.self_closed_flag,
        paused_time=incident.paused_total,
        paused_since=incident.paused_since,
        description=incident.description,
        channel=incident.channel,
        extensions=tuple(incident.extensions),
        extension_request=incident.extension_request,
        consultations=tuple(incident.consultations),
        feedback_due=incident.feedback_due,
        feedback_at=incident.feedback_at,
        feedback_by=incident.feedback_by,
        feedback_late=incident.feedback_late,
        returns=tuple(incident.returns),
        assignee=incident.assignee,
        accepted_by=incident.accepted_by,
        handler_role=incident.handler_role,
        assignments=tuple(incident.assignments),
    )


def incidents(
    engine: Engine, *, status: str | None = None, within: str | None = None
) -> list[IncidentView]:
    """Every incident (repeat reports are folded into the one they joined), by report time.

    ``status`` keeps one status (or ``"open"``); ``within`` keeps incidents
    reported at that node or below it.
    """
    state = state_of(engine)
    hierarchy = engine.community.hierarchy
    if status not in (None, "open", *STATUSES):
        raise UnknownNameError(f"unknown status {status!r} (known: open, {', '.join(STATUSES)}) (没有这种事件状态)")
    if within is not None and within not in hierarchy:
        raise UnknownNameError(hierarchy.unknown(within))
    out = []
    # (closed incidents are read from the archive only when they are asked for)
    found = state.every() if status in (None, "closed") else sorted(state.incidents.values(),
                                                                   key=lambda i: (i.reported_at, i.id))
    for incident in found:
        if status == "open" and not incident.is_open:
            continue
        if status not in (None, "open") and incident.status != status:
            continue
        if within is not None and not hierarchy.is_within(incident.node, within):
            continue
        out.append(view(engine, incident))
    return out


def reported_in(engine: Engine, start: datetime, end: datetime, within: str | None = None) -> list[IncidentView]:
    """The incidents reported in ``[start, end)`` (at ``within`` or below it), by report time.

    Only the closed incidents of the period are read from the store.
    """
    hierarchy = engine.community.hierarchy
    if within is not None and within not in hierarchy:
        raise UnknownNameError(hierarchy.unknown(within))
    return [view(engine, i) for i in state_of(engine).reported_between(start, end)
            if within is None or hierarchy.is_within(i.node, within)]


def record_of(engine: Engine, incident_id: str) -> Incident:
    """The live record of an incident (a repeat report's id finds the one it joined)."""
    state = state_of(engine)
    found = state.find(state.primary_of(incident_id) or incident_id)
    if found is None:
        raise UnknownNameError(f"no incident {incident_id!r} has been reported (没有编号为 {incident_id!r} 的事件)")
    return found


def incident(engine: Engine, incident_id: str) -> IncidentView:
    """One incident by id; ``GridcoreError`` if unknown."""
    return view(engine, record_of(engine, incident_id))


def timeline(engine: Engine, incident_id: str) -> list[Entry]:
    """Every step of one incident, in order: reports, routing, notices, transitions, escalations."""
    return list(record_of(engine, incident_id).timeline)


def timeline_zh(engine: Engine, incident_id: str) -> list[tuple[str, str]]:
    """Each step of ``timeline(engine, incident_id)`` as staff read it in Chinese: its step's name
    (``提级``) and its detail (``提级至网格 g1，因为条件 事件.严重程度 >= 5 成立``), a level by the
    community's name for it and a category by its ruleset's; a detail the plugin does not write
    (a handler's note) as written."""
    from . import detail_zh

    record = record_of(engine, incident_id)
    names = detail_zh.names(engine, record.node)
    return [(detail_zh.STEPS_ZH.get(entry.what, entry.what), detail_zh.detail(entry.what, entry.detail, names))
            for entry in record.timeline]


def overdue(
    engine: Engine, now: datetime | None = None
) -> list[tuple[IncidentView, timers.Deadline]]:
    """Open incidents whose current limit ran out by ``now`` (default: the engine's clock).

    These are incidents at the top with nowhere higher to go, or whose
    escalation has not been fired yet because nobody ticked.
    """
    when = require_aware(now) if now is not None else engine.clock.now()
    tz = engine.community.tz
    out = []
    # (a closed incident has no limit running: only the open ones are read)
    for record in sorted(state_of(engine).incidents.values(), key=lambda i: (i.reported_at, i.id)):
        late = timers.overdue(record, tz, when)
        if late:
            out.append((view(engine, record), late[0]))
    return out


def categories(engine: Engine, at: datetime | None = None, node: str | None = None) -> list[Category]:
    """The incident categories of the ruleset in force at ``at`` (default: the engine clock's now)
    at ``node`` (that of the nearest subtree around it with one in force; None: the whole tree's).

    Every ``category`` item, in file order, then each category a route names
    without declaring it (its name is its code).
    """
    from .intake import policy_at

    policy, _ = policy_at(engine, at or engine.clock.now(), node)
    if policy is None:
        return []
    found = {c.code: c for c in policy.categories}
    for route in policy.routes:
        if route.category is not None and route.category not in found:
            found[route.category] = Category(route.category, route.category, "", route.rule)
    return list(found.values())


def channels(engine: Engine, at: datetime | None = None, node: str | None = None) -> list[Channel]:
    """How incidents come in, as the ruleset in force at ``at`` (default: now) at ``node`` names them: its
    ``channel`` items in file order (none: the ruleset names no channel)."""
    from .intake import policy_at

    policy, _ = policy_at(engine, at or engine.clock.now(), node)
    return [] if policy is None else list(policy.channels)


def limits(engine: Engine, at: datetime | None = None, node: str | None = None) -> list[LimitsRow]:
    """Which time limit applies where under the ruleset in force at ``at`` (default: the engine
    clock's now) at ``node`` (that of the nearest subtree around it with one in force, a
    community's own variant; None: the whole tree's): each category at each level of its ladder,
    then summoned departments and handler roles, each limit with the rule that wins
    (``gridcore incidents limits``)."""
    from .intake import policy_at
    from .limits import applied_limits

    when = at or engine.clock.now()
    policy, _ = policy_at(engine, when, node)
    ruleset = engine.ruleset_at(when, node)
    if policy is None or ruleset is None:
        return []
    return applied_limits(policy, ruleset.levels)


def category_code(engine: Engine, written: str, at: datetime) -> str:
    """The category code ``written`` means under the ruleset in force at ``at``: a code, or the
    name a ``category`` item gives it (``水管漏水`` -> ``leaking_pipe``); otherwise as written."""
    from .events import category_code as code_under

    return code_under(engine.ruleset_at(at), written)


def explain(state: EscalationState, decision: str) -> Explanation | None:
    """``escalation:<event id>`` (an escalation, a joined repeat report, a reopening)
    or ``escalation:route:<incident>`` (where it started and why)."""
    if not decision.startswith("escalation:"):
        return None
    rest = decision[len("escalation:") :]
    if rest.startswith("route:"):
        record = state.find(rest[len("route:") :])
        if record is None:
            return None
        return _explain_route(decision, record)
    decided = state.decision(rest)
    if decided is not None:
        return decided
    found = state.escalation(rest)
    if found is None:
        return None
    record, number = found
    step = record.escalations[number]
    rules = (step.rule,) if step.rule is not None else ()
    inputs: dict[str, Any] = {
        "incident": record.id,
        "category": record.category,
        "severity": record.severity,
        "from": f"{step.from_level} {step.from_node}",
        "ruleset": record.ruleset or "(none)",
        **step.facts,
    }
    days = _named_days(record, step.facts)
    if days:
        off = [d for d in days if isinstance(d, Holiday)]
        make_up = [d for d in days if isinstance(d, ExtraWorkdays)]
        if off:
            inputs["days off"] = "; ".join(_holiday_text(d.holiday, d.title, f"{d.first}" + (
                f" to {d.last}" if d.last != d.first else "")) for d in off)
        if make_up:
            titles = {d.holiday: d.title for d in record.limits.calendar.named_days
                      if isinstance(d, Holiday)} if record.limits is not None else {}
            inputs["make-up days"] = "; ".join(_holiday_text(d.holiday, titles.get(d.holiday, ""), ", ".join(
                str(day) for day in d.days)) for d in make_up)
        rules = (*rules, *(d.rule for d in days))
    who = "the system" if step.actor == "system" else step.actor
    to = f"{step.to_level} {step.to_node}" + (
        f" (department {step.department})" if step.department else ""
    )
    summary = f"{who} escalated incident {record.id} to {to}: {step.reason}"
    if step.rule is None and step.rule_text:
        summary += f" (rule {step.rule_text})"
    return Explanation(decision, summary, rules, inputs, to)


def _named_days(record: Incident, facts: Mapping[str, Any]) -> tuple[Holiday | ExtraWorkdays, ...]:
    """The holidays and make-up days a working-time limit's clock ran over (from its start to its deadline)."""
    started, deadline = facts.get("clock_started"), facts.get("deadline")
    policy = record.limits
    if not facts.get("working_time") or policy is None or not isinstance(started, str) \
            or not isinstance(deadline, str):
        return ()
    try:
        first, last = datetime.fromisoformat(started).date(), datetime.fromisoformat(deadline).date()
    except ValueError:
        return ()
    return policy.calendar.named_between(first, last)


def _holiday_text(holiday: str, title: str, days: str) -> str:
    """``national_day (国庆节) 2025-10-01 to 2025-10-08``: a holiday by its id and name, and its days."""
    return f"{holiday} ({title}) {days}" if title and title != holiday else f"{holiday} {days}"


def _explain_route(decision: str, record: Incident) -> Explanation:
    inputs = {"category": record.category, "severity": record.severity, "reported at": record.node}
    if record.route is None:
        why = (
            "no route in the ruleset matched"
            if record.policy
            else "no escalation policy was in force"
        )
        return Explanation(
            decision,
            f"incident {record.id} started where it was reported: {why}",
            (),
            inputs,
            record.node,
        )
    start = record.escalations[0].from_node if record.escalations else record.current_node
    summary = f"incident {record.id} started at {start}"
    if record.route.departments:
        summary += f", routed to {', '.join(record.route.departments)}"
    return Explanation(decision, summary, (record.route.rule,), inputs, start)
