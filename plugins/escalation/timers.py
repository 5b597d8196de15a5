"""What falls due for an incident, and when: deadlines, decided escalations, reopenings.

Everything here is a pure function of the incident record, its policy and the
community, so the same events always give the same derived events with the
same ids and times, however often ``tick`` is called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore.explain import RuleRef

from . import routing, worktime
from .events import IncidentAssigned, IncidentEscalated, IncidentReopened
from .incident import REPORTED, VERIFIED, Breach, Incident, extra_text, running_since
from .policy import DEFAULT_REOPEN, AppliedLimit, LevelLimit, Span
from .quick import quick_init


@quick_init
@frozen
class Deadline:
    """When a limit of the current level runs out.

    ``rule`` is the rule of the limit that applies (the most specific:
    ``applied``), ``source`` what it was chosen as (``level grid``,
    ``fire_hazard at community``, ``department fire``); ``level_limit`` is the
    level's own ``limit`` item, which says where a breach goes (``None``: one
    level up).
    """

    limit: str  # "accept" or "resolve"
    time: datetime
    span: Span
    rule: RuleRef
    source: str
    level_limit: LevelLimit | None
    clock_started: datetime
    used_before: timedelta
    #: wall-clock time the clock of this level stood still (paused) before the deadline
    paused: timedelta = timedelta(0)
    #: which clock the limit runs on: ``level`` (from the case's arrival at its
    #: level) or ``handler`` (from its latest assignment there)
    clock: str = "level"


@frozen
class Made:
    """What a ``Due`` stands for: the derived event, and what it means for the record."""

    event: Event
    kind: str  # "pending", "breach", "pass" or "reopen"
    rule: RuleRef | None
    facts: dict[str, Any] = field(factory=dict)
    breach: Breach | None = None


class Due:
    """A derived event that falls due at ``time``, with what it means for the record.

    Given whole, or (``Due.later``) as its time and a function making the rest
    when first read, with the values it reads: an incident's next breach is
    worked out after every event on it, and is seldom reached before the next
    event replaces it, so its reason and facts (times shown as text, the span,
    the level) are written only for the one that falls due.  The function is
    given the values it reads when the due is made, never the incident itself,
    so it says what it would have said then.
    """

    __slots__ = ("_args", "_made", "_make", "time")

    def __init__(self, event: Event, kind: str, rule: RuleRef | None, facts: dict[str, Any] | None = None,
                 breach: Breach | None = None) -> None:
        self.time = event.time
        self._made: Made | None = Made(event, kind, rule, facts if facts is not None else {}, breach)
        self._make: Callable[..., Made] | None = None
        self._args: tuple[Any, ...] = ()

    @classmethod
    def later(cls, time: datetime, make: Callable[..., Made], args: tuple[Any, ...]) -> Due:
        """A due at ``time`` whose event and record ``make(*args)`` gives when first read (the values in a
        tuple, not a closure over them: one is made after every event on a case)."""
        due = cls.__new__(cls)
        due.time, due._made, due._make, due._args = time, None, make, args
        return due

    def __eq__(self, other: object) -> bool:
        """Equal when they stand for the same event, with the same meaning (made now if need be)."""
        if not isinstance(other, Due):
            return NotImplemented
        return self.time == other.time and self.made == other.made

    __hash__ = None  # type: ignore[assignment]  # (equal by what it stands for, which may be made later)

    @property
    def made(self) -> Made:
        """The event and what it means, made now if they were not yet."""
        if self._made is None:
            assert self._make is not None
            self._made, self._make = self._make(*self._args), None
            self._args = ()
        return self._made

    @property
    def event(self) -> Event:
        """The derived event."""
        return self.made.event

    @property
    def kind(self) -> str:
        """``pending``, ``breach``, ``pass`` or ``reopen``."""
        return self.made.kind

    @property
    def rule(self) -> RuleRef | None:
        """The rule that decided it."""
        return self.made.rule

    def renumber(self, event_id: str) -> None:
        """Give the derived event the id ``event_id`` instead (its number is taken in the store)."""
        made = self.made
        self._made = Made(attrs.evolve(made.event, id=event_id), made.kind, made.rule, made.facts, made.breach)

    @property
    def facts(self) -> dict[str, Any]:
        """What the decision read, as its explanation shows it."""
        return self.made.facts

    @property
    def breach(self) -> Breach | None:
        """The limit that ran out, if it is a breach."""
        return self.made.breach


def applied(incident: Incident) -> dict[str, AppliedLimit]:
    """The accept and resolve limits that apply to the incident where it is now (the most specific).

    Conditions are judged on the case as it stood when its current clock
    started, so the answer never depends on when it is asked.
    """
    policy = incident.limits
    if policy is None:
        return {}
    started = incident.segments[0][0] if incident.segments and incident.segments[0][0] else incident.reported_at
    return policy.applied(incident.facts(started), incident.current_level, incident.summoned, incident.handler_role)


_NO_TIME = timedelta(0)

#: A deadline worked out, with everything it was worked out from (``_on_clock``): a later working-out
#: given it back (``deadlines``' ``kept``) reuses the deadline when those are equal.
Worked = tuple[tuple[Any, ...], "Deadline"]


class Known:
    """The limits ``EscalationPolicy.applied`` gave, kept by what they were worked out from, for
    ``deadlines`` to take again (a state keeps one: ``Records.running``).

    A policy whose ``limit for`` clauses have no condition reads nothing of a
    case's record but its category (its level, summoned department and
    handler's role are asked for as such): its limits are kept by those, and
    a case reported, accepted or moved is given the limits an earlier case
    (or it itself) was given for them.  A policy with a condition is asked
    every time (a condition may read the case's age, severity...).
    """

    __slots__ = ("_plain", "limits")

    def __init__(self) -> None:
        #: id(policy) -> (the policy, held so its id is not reused; True if no clause has a condition)
        self._plain: dict[int, tuple[Any, bool]] = {}
        #: (id(policy), category, level, summoned, handler role) -> (level's limits, handler's own)
        self.limits: dict[tuple[Any, ...], tuple[dict[str, AppliedLimit], dict[str, AppliedLimit]]] = {}

    def key(self, policy: Any, incident: Incident) -> tuple[Any, ...] | None:
        """What the policy's limits for the case are kept by; ``None``: they are not kept (a condition)."""
        plain = self._plain.get(id(policy))
        if plain is None:
            plain = self._plain[id(policy)] = (
                policy, all(clause.condition is None for clause in policy.category_limits))
        if not plain[1]:
            return None
        return (id(policy), incident.category, incident.current_level, incident.summoned, incident.handler_role)


def _limits(incident: Incident, policy: Any, started: datetime, known: Known | None,
            ) -> tuple[dict[str, AppliedLimit], dict[str, AppliedLimit]]:
    """The limits of the case's level (a summoned department's, its category's, the level's own) and
    the handler's own (``handler limit ROLE``), as ``policy.applied`` gives them (``known``: kept)."""
    key = known.key(policy, incident) if known is not None else None
    if key is not None:
        found = known.limits.get(key)  # type: ignore[union-attr]
        if found is not None:
            return found
    facts = incident.facts(started)
    level = policy.applied(facts, incident.current_level, incident.summoned)
    role = incident.handler_role
    mine = f"handler {role}"
    handler = {
        name: limit
        for name, limit in (
            policy.applied(facts, incident.current_level, incident.summoned, role).items() if role else ()
        )
        if limit.source == mine
    }
    if key is not None:
        known.limits[key] = (level, handler)  # type: ignore[union-attr]
    return level, handler


def deadlines(incident: Incident, tz: Any, kept: Sequence[Worked] = (), made: list[Worked] | None = None,
              known: Known | None = None) -> list[Deadline]:
    """The running limits of the incident's current level, earliest first.

    ``kept``: deadlines an earlier call worked out (its ``made``) and what
    from; one worked out from equal values is taken as it is rather than
    counted again (an acceptance ends the accept limit and leaves the resolve
    limit's deadline as it was).  ``made``, if given, receives this call's.
    ``known``: the limits earlier calls were given, to take again (``Known``).

    Two clocks run.  The level's limits (a summoned department's, the
    category's or the level's own) count from the case's arrival at its level:
    reassigning it inside the level never puts them off, and once someone took
    the case on there its accept limit is met.  The handler's own limits
    (``handler limit ROLE``) count from the latest assignment at the level
    (from the arrival when there was none); each runs to its own deadline.
    """
    policy = incident.limits
    if policy is None or not incident.is_open:
        return []
    started = incident.segments[0][0] if incident.segments and incident.segments[0][0] else incident.reported_at
    level, handler = _limits(incident, policy, started, known)
    asking = incident.status == REPORTED and not incident.rework
    out = _on_clock(incident, tz, "level", level, asking and not incident.taken_at_level,
                    incident.extra_days, incident.extra_hours, kept, made)
    if handler:
        out += _on_clock(incident, tz, "handler", handler, asking,
                         incident.handler_extra_days, incident.handler_extra_hours, kept, made)
    if len(out) < 2:
        return out
    if len(out) == 2:  # (the accept and resolve limits of one clock, most often: no key function made)
        first, second = out
        if _order(second) < _order(first):
            out.reverse()
        return out
    return sorted(out, key=_order)


def _order(deadline: Deadline) -> tuple[datetime, str, bool]:
    """Deadlines in the order they run out (the accept limit before the resolve limit due with it, the
    handler's own before the level's)."""
    return (deadline.time, deadline.limit, deadline.clock != "handler")


def clock_inputs(incident: Incident, tz: Any) -> tuple[Any, ...] | None:
    """Everything ``deadlines`` reads of the incident, as one value (``None``: no limit runs).

    Equal inputs give equal deadlines, so a caller may keep the deadlines of
    an incident and work them out again only when these change: its level,
    the limits that hold it (a ruleset change), its clocks (stretches,
    extensions, assignments), whether it is still to be accepted, and the
    record its conditions read.  Most events on a case (a note, feedback, a
    department arriving) change none of them.
    """
    policy = incident.limits
    if policy is None or not incident.is_open:
        return None
    started = incident.segments[0][0] if incident.segments and incident.segments[0][0] else incident.reported_at
    # What ``incident.facts(started)`` is worked out from, rather than the facts themselves (this
    # runs after every event on a case): equal values give equal facts.
    return (
        policy,
        tz,
        started,
        incident.category,
        incident.severity,
        incident.key_person,
        incident.channel,
        incident.place,
        len(incident.repeats),
        incident.reported_at,
        incident.paused_total,
        incident.paused_since,
        incident.current_level,
        incident.summoned,
        incident.handler_role,
        incident.status == REPORTED and not incident.rework,
        incident.taken_at_level,
        incident.extra_days,
        incident.extra_hours,
        incident.handler_extra_days,
        incident.handler_extra_hours,
        tuple(map(tuple, incident.segments)),
        tuple(map(tuple, incident.handler_segments)),
    )


def _on_clock(
    incident: Incident,
    tz: Any,
    clock: str,
    limits: dict[str, AppliedLimit],
    accepting: bool,
    extra_days: int,
    extra_hours: int,
    kept: Sequence[Worked] = (),
    made: list[Worked] | None = None,
) -> list[Deadline]:
    """The deadlines ``limits`` set on one clock (``accepting``: the accept limit still runs; ``kept``
    and ``made``: see ``deadlines``)."""
    policy = incident.limits
    if policy is None or not limits:
        return []
    run = running_since(incident, handler=clock == "handler")
    if run is None:
        return []
    level_limit = policy.limit_for(incident.current_level)
    start, closed = run
    out = []
    resolve = limits["resolve"].span if "resolve" in limits else None
    if resolve is not None and (extra_days or extra_hours):
        extra = extra_text(extra_days, extra_hours, resolve.working)
        resolve = resolve.extended(extra_days, extra_hours, extra)
    accept = limits["accept"].span if "accept" in limits else None
    spans = (("accept", accept if accepting else None), ("resolve", resolve))
    for name, span in spans:
        if span is None:
            continue
        # everything the deadline below is worked out from (``paused`` follows from ``start``, ``closed``)
        inputs = (clock, name, span, start, tuple(closed), policy.calendar, tz, limits[name].rule,
                  limits[name].source, level_limit)
        found = None
        for before, deadline in kept:
            if before == inputs:
                found = deadline
                break
        if found is None:
            # (most clocks never stopped: nothing was used or paused before the running stretch)
            used = paused = _NO_TIME
            if closed:
                used = sum(
                    (worktime.elapsed(span.working, s, e, policy.calendar, tz) for s, e in closed),
                    timedelta(0),
                )
                ends = [e for _, e in closed]
                starts = [s for s, _ in closed[1:]] + [start]
                paused = sum((s - e for s, e in zip(starts, ends)), timedelta(0))
            when = worktime.add(span, start, used, policy.calendar, tz)
            if when is None:
                continue
            found = Deadline(
                name,
                when.astimezone(tz),
                span,
                limits[name].rule,
                limits[name].source,
                level_limit,
                closed[0][0] if closed else start,
                used,
                paused,
                clock,
            )
        if made is not None:
            made.append((inputs, found))
        out.append(found)
    return out


def resolve_deadline(incident: Incident, tz: Any) -> datetime | None:
    """When the case's first resolve limit runs out, on either clock (``None``: none, or paused)."""
    return next((d.time for d in deadlines(incident, tz) if d.limit == "resolve"), None)


def breach_target(
    community: Any, incident: Incident, limit: LevelLimit | None
) -> tuple[str, str | None] | None:
    """Where a breach at the level of ``limit`` sends the incident: ``(node, department)`` or nowhere.

    Without a ``limit`` item for the level (a category's own limit ran out), one level up.
    """
    if limit is None:
        above = routing.node_above(community, incident.current_node)
        return (above, None) if above is not None else None
    department = limit.then_department
    if (
        department
        and department not in incident.departments
        and routing.is_department(community, department)
    ):
        return incident.current_node, department
    above = routing.node_above(community, incident.current_node, limit.then_level)
    return (above, None) if above is not None else None


def target(
    community: Any, node: str, to: str | None, department: str | None
) -> tuple[str, str | None] | None:
    """Where a decided escalation goes: ``to`` names a level or a department; default one up.

    Returns ``None`` when there is nowhere to go (already at that level, or at the top).
    """
    if (
        to is not None
        and to not in community.hierarchy.levels
        and routing.is_department(community, to)
    ):
        department, to = to, None
    if to is not None:
        found = routing.node_at_level(community, node, to)
        if found is not None and routing.rank(community, found) < routing.rank(community, node):
            return found, department
        return (node, department) if department else None
    if department is not None:
        return node, department
    above = routing.node_above(community, node)
    return (above, None) if above is not None else None


def next_due(
    community: Any,
    incident: Incident,
    tz: Any,
    running: Callable[[Incident], list[Deadline]] | None = None,
) -> Due | None:
    """The next derived event for this incident (at any time), or ``None``.

    ``running`` gives the incident's ``deadlines`` (default: worked out
    afresh; the state passes the ones it keeps, see ``clock_inputs``).
    """
    number = max(incident.escalation_events, incident.escalation_number) + 1
    if incident.status == VERIFIED and incident.reopen_due is not None:
        reopen = incident.policy.reopen if incident.policy else DEFAULT_REOPEN
        rule = reopen.rule
        reason = f"verification scored satisfaction {incident.satisfaction} ({reopen.text} reopens)"
        event: Event = IncidentReopened(
            id=f"reopen:{incident.id}:{max(incident.reopen_events, incident.reopen_number) + 1}",
            time=incident.reopen_due,
            actor=SYSTEM_ACTOR,
            node=incident.node,
            incident=incident.id,
            reason=reason,
        )
        return Due(
            event,
            "reopen",
            rule,
            {"satisfaction": incident.satisfaction, "reopens when": reopen.text},
        )
    if not incident.is_open:
        return None
    if incident.pending:
        pending = incident.pending[0]
        event = IncidentEscalated(
            id=f"esc:{incident.id}:{number}",
            time=pending.time,
            actor=SYSTEM_ACTOR,
            node=incident.node,
            incident=incident.id,
            to_node=pending.to_node,
            department=pending.department,
            reason=pending.reason,
            rule=str(pending.rule),
        )
        return Due(event, "pending", pending.rule, dict(pending.facts))
    for deadline in running(incident) if running is not None else deadlines(incident, tz):
        passed = _pass_within(community, incident, deadline)
        if passed is not None:
            return passed
        where = breach_target(community, incident, deadline.level_limit)
        if where is None:
            continue
        return Due.later(deadline.time, _breach, (deadline, where, tz, number, incident.id, incident.node,
                                                  incident.current_level, incident.current_node, incident.status))
    return None


def _breach(deadline: Deadline, where: tuple[str, str | None], tz: Any, number: int, ident: str,
            home: str, level: str, node: str, status: str) -> Made:
    """What ``next_due`` says of a breach of ``deadline``, from the values it read of the incident."""
    verb = "accepted" if deadline.limit == "accept" else "resolved"
    paused = duration(deadline.paused)
    stopped = f", paused {paused}" if deadline.paused else ""
    started, due_at = _show(deadline.clock_started, tz), _show(deadline.time, tz)
    reason = (f"not {verb} within {deadline.span} at {level} {node} "
              f"({deadline.clock} clock started {started}{stopped}, due {due_at})")
    facts = {"limit": deadline.limit, "span": str(deadline.span), "applies as": deadline.source,
             "working_time": deadline.span.working, "level": level, "node": node, "clock": deadline.clock,
             "clock_started": started, "paused": paused, "deadline": due_at, "status": status}
    event = IncidentEscalated(id=f"esc:{ident}:{number}", time=deadline.time, actor=SYSTEM_ACTOR, node=home,
                              incident=ident, to_node=where[0], department=where[1], reason=reason,
                              rule=str(deadline.rule))
    breach = Breach(deadline.time, deadline.limit, level, node, deadline.rule)
    return Made(event, "breach", deadline.rule, facts, breach)


def pass_target(community: Any, incident: Incident, role: str) -> str | None:
    """Who in the cell takes a case passed on to ``role``: its holder at the case's node, else the
    nearest above (the first by id); ``None`` when nobody holds it there or is already handling it."""
    for node in community.hierarchy.ancestors(incident.current_node, include_self=True):
        holders = sorted(m.id for m in community.holders(node.id, role))
        holders = [h for h in holders if h not in (incident.assignee, incident.accepted_by)]
        if holders:
            return str(holders[0])
    return None


def _pass_within(community: Any, incident: Incident, deadline: Deadline) -> Due | None:
    """A handler's own limit ran out and the rules pass the case to another role in the cell."""
    policy = incident.limits
    role = incident.handler_role
    if policy is None or role is None or deadline.clock != "handler":
        return None
    limit = policy.handler_limit(role)
    if limit is None or limit.then_role is None:
        return None
    handler = pass_target(community, incident, limit.then_role)
    if handler is None:
        return None
    verb = "accepted" if deadline.limit == "accept" else "resolved"
    tz = community.tz
    reason = (f"not {verb} within {deadline.span} by the {role} (handler clock started "
              f"{_show(deadline.clock_started, tz)}, due {_show(deadline.time, tz)}): passed to the {limit.then_role}")
    event = IncidentAssigned(
        id=f"pass:{incident.id}:{max(incident.pass_events, incident.pass_number) + 1}",
        time=deadline.time,
        actor=SYSTEM_ACTOR,
        node=incident.node,
        incident=incident.id,
        handler=handler,
        reason=reason,
        rule=str(limit.rule),
    )
    facts = {"limit": deadline.limit, "span": str(deadline.span), "applies as": deadline.source,
             "handler": incident.assignee or incident.accepted_by or "", "passed to": limit.then_role,
             "clock": deadline.clock, "clock_started": _show(deadline.clock_started, tz),
             "deadline": _show(deadline.time, tz)}
    breach = Breach(deadline.time, deadline.limit, incident.current_level, incident.current_node, limit.rule)
    return Due(event, "pass", limit.rule, facts, breach)


def overdue(incident: Incident, tz: Any, now: datetime) -> list[Deadline]:
    """Limits of the current level that ran out by ``now`` (e.g. at the top, nowhere to go)."""
    return [d for d in deadlines(incident, tz) if d.time <= now]


def duration(delta: timedelta) -> str:
    """A span as staff read it: ``1h30``, ``2d 03h00`` (whole minutes, rounded down)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours:02d}h{minutes:02d}" if days else f"{hours}h{minutes:02d}"


def _show(when: datetime, tz: Any) -> str:
    return when.astimezone(tz if tz is not None else UTC).isoformat(timespec="minutes")
