"""Where a case nobody takes on would be, and when: the ruleset's ladder as the simulator sees it.

The escalation plugin moves a case up when a level's *accept* limit runs out
(grid > community > street > command centre), and sends big matters up at
once (``escalate ... immediately when ...``).  The simulator plans each case's
handling when it is reported; with a ``Ladder`` it knows, for that plan, at
which node the case is waiting when someone comes to take it on, so the one
who accepts it is someone who may act there (docs/district.md, *Escalated
cases in the simulator*).

``Ladder.in_force(community, entries)`` takes the rulesets put in force, each
from its time for the whole tree or a subtree (what ``Engine.rulesets_in_force``
lists), and asks them what the engine asks (``RulesetTimeline``: the ruleset
of the nearest subtree in force at a time, its policy on that local date), so
a ruleset put in force in the middle of a run governs the cases reported from
then; ``Ladder.of_rulesets(community, rulesets, at=day)`` (or ``of_files``) puts
each in force from that day (the whole tree's and the variants for a subtree,
as ``gridcore demo`` does).  As in the engine, a case is held to the limits in
force when it was reported, at each node it reaches.  ``stops(...)`` gives a case's
waiting places in order: where it starts (its route, then the immediate
rules), then each level its missed accept limits carry it to, with the time
it arrives and the deadline there.  It reads the same policy items and
working-time arithmetic the plugin does (``EscalationPolicy.applied``,
``worktime.add``).  ``duplicates_window(node)`` is how long after a case's
last report another of its category at its place joins it (the ruleset's
``duplicates`` rule, the window the plugin reads: a repeat report moves the
case's last report, so joins chain).  ``summoned(...)`` gives the stops of a
case whose handler called a line department in (吹哨报到): the department's
own ``report within`` limit (部门时限) first, then the levels its breach
carries the case to.  ``repeated(...)`` gives the ruleset's ``repeats`` rules a
report makes fire, ``handler_due(...)`` when a handler's own resolve
limit (办理人时限) runs out and whom the case is passed to then, and
``resolve_due(...)`` when the level's own resolve limit sends it up.  A breach
at a level whose limit routes to a line department (``then route to police`` /
``超时转交``) summons that department where the case is, as the plugin does
(``timers.breach_target``): the case stays at its node, a ``Stop`` with the
``department`` whose officers take it on, under that department's own limits
(``department limit``, 部门时限); once the department is on the case (routed
there at its report, whistled or summoned before), the next breach sends it
one level up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import attrs

from gridcore.classes import frozen
from gridcore.community import Community
from gridcore.governing import RulesetInForce, RulesetTimeline
from gridcore.rules import Ruleset
from gridcore.rules.subtree import governed_node
from gridcore_escalation.policy import EscalationPolicy, IncidentFacts, Repeats, Span
from gridcore_escalation.routing import is_department, level_of, node_above, start_node
from gridcore_escalation.section import SECTION
from gridcore_escalation.timers import target
from gridcore_escalation.worktime import add, elapsed


@frozen
class Stop:
    """One place a case waits to be accepted: ``node`` from ``arrives``; ``due`` is when its accept limit
    runs out and sends the case further up (None: it waits there, overdue once a limit passed).
    ``department``: the line department summoned there (吹哨报到, by a breach or a rule at once), whose
    own report limit is the accept limit there and whose officers on the case's branch take it on."""

    node: str
    arrives: datetime
    due: datetime | None
    department: str | None = None
    #: the line departments on the case while it waits there (routed at its report, summoned since)
    departments: tuple[str, ...] = ()


#: Where a breach sends a case: a node, and the line department summoned there (None: a level's staff).
Target = tuple[str, str | None]


@frozen
class HandlerDue:
    """When a handler's own limit (办理人时限, ``handler limit ROLE``) runs out on a case, and whom the
    plugin passes the case to then: the first holder of the limit's ``then pass to`` role at the case's
    node, else the nearest above (None: nobody, or the limit names no one; the plugin then sends the
    case up to ``above``, None when that is a department or nowhere)."""

    time: datetime
    role: str
    passed_to: str | None
    above: str | None = None
    #: the line department the level's limit summons at ``above`` (then the case's own node), if any
    department: str | None = None


class Ladder:
    """The rulesets in force over a community's tree, as the escalation plugin reads them."""

    def __init__(self, community: Community, entries: Sequence[RulesetInForce]) -> None:
        self.community = community
        self.entries = list(entries)
        self.timeline = RulesetTimeline(lambda: community)
        for entry in self.entries:
            self.timeline.put(entry.effective, entry.ruleset, entry.node)
        #: the earliest time any ruleset is in force (what ``duplicates_window`` asks without a time)
        self.first = min((entry.effective for entry in self.entries), default=None)

    @classmethod
    def in_force(cls, community: Community, entries: Sequence[RulesetInForce]) -> Ladder:
        """The ladder of the rulesets put in force as ``entries`` say: each from its ``effective`` time,
        for the subtree of its ``node`` (None: the whole tree), as ``Engine.rulesets_in_force`` lists them."""
        return cls(community, entries)

    @classmethod
    def of_files(cls, community: Community, paths: Sequence[str | Path], *, at: date,
                 search_path: Sequence[Path] = ()) -> Ladder:
        """``of_rulesets`` of the ruleset files at ``paths`` (``search_path``: where ``extends`` looks
        after each file's own folder), compiled with every plugin's sections."""
        from gridcore.plugin_host import Hooks
        from gridcore.rules import load_ruleset

        from .cli import plugin_manager

        hooks = Hooks(plugin_manager())
        return cls.of_rulesets(community, [
            load_ruleset(path, sections=hooks.register_sections(), metrics=hooks.register_metrics(),
                         search_path=search_path, roles=community.roles) for path in paths], at=at)

    @classmethod
    def of_rulesets(cls, community: Community, rulesets: Sequence[Ruleset], *, at: date) -> Ladder:
        """The ladder of ``rulesets``, each put in force from midnight of ``at`` for the subtree it names
        (``gridcore demo``'s: the last given wins a subtree given twice)."""
        first = datetime.combine(at, time(0), tzinfo=community.tz)
        return cls(community, [RulesetInForce(first, ruleset, governed_node(ruleset, community.hierarchy))
                               for ruleset in rulesets])

    def policy(self, node: str, at: datetime) -> EscalationPolicy | None:
        """The escalation policy in force at ``at`` for ``node``: that of the ruleset of the nearest
        enclosing subtree with one in force then, else the whole tree's (``Engine.policy``)."""
        return self.timeline.policy(SECTION, at=at, node=node)

    def duplicates_window(self, node: str, at: datetime | None = None) -> timedelta | None:
        """How long after a case's last report a report of its category at its place joins it, under the
        ruleset governing ``node`` at ``at`` (default: the first in force) (its ``duplicates`` rule);
        None: no rule, so reports never join."""
        when = at if at is not None else self.first
        policy = None if when is None else self.policy(node, when)
        return None if policy is None or policy.duplicates is None else policy.duplicates.window

    def stops(self, node: str, category: str, severity: int, key_person: bool, channel: str,
              reported: datetime, earlier: Sequence[datetime] = ()) -> list[Stop]:
        """Where a case reported at ``node`` at ``reported`` waits to be accepted if nobody does, in order:
        where its route starts it, then where the rules that escalate at once send it (a condition that
        holds; a ``repeats`` rule that ``earlier``, the times of the reports of its category at its place
        before it, make fire), then each level its missed accept limits carry it to."""
        policy = self.policy(node, reported)
        if policy is None:
            return [Stop(node, reported, None)]
        facts = IncidentFacts(id="", category=category, severity=severity, level=level_of(self.community, node),
                              key_person=key_person, channel=channel, age=timedelta(0))
        route = policy.route_for(facts)
        here = start_node(self.community, node, route.start_level if route is not None else None)
        facts = attrs.evolve(facts, level=level_of(self.community, here))
        sent = [(item.to_level, item.department) for item in policy.immediate if item.condition.holds(facts)]
        sent += [(rule.to_level, rule.department) for rule in self.repeated(node, reported, earlier)]
        summoned, departments = None, self.routed(node, category, severity, key_person, channel, reported)
        for to_level, department in sent:
            # (each as the plugin queues it at the report, from where the one before sent the case)
            where = target(self.community, here, to_level, department)
            if where is None:
                continue
            if where[0] != here:
                here, summoned = where[0], None  # (the new level's limits count from the report)
            if where[1] is not None:
                summoned = where[1]  # (a department called to the case: it stays where it is)
                departments = (*departments, summoned) if summoned not in departments else departments
        return self._climb(here, facts, reported, reported, summoned, departments)

    def routed(self, node: str, category: str, severity: int, key_person: bool, channel: str,
               reported: datetime) -> tuple[str, ...]:
        """The line departments a case reported at ``node`` is routed to at its report (``route to``):
        on the case from then, so a breach's ``then route to`` one of them sends it up instead."""
        policy = self.policy(node, reported)
        if policy is None:
            return ()
        facts = IncidentFacts(id="", category=category, severity=severity, level=level_of(self.community, node),
                              key_person=key_person, channel=channel, age=timedelta(0))
        route = policy.route_for(facts)
        return () if route is None else tuple(d for d in route.departments if is_department(self.community, d))

    def repeated(self, node: str, reported: datetime, earlier: Sequence[datetime]) -> list[Repeats]:
        """The ``repeats`` rules a report at ``node`` at ``reported`` makes fire, ``earlier`` being the
        times of the earlier reports of its category at its place: those counting at least their number
        of reports (this one included) within their window, as the plugin counts them."""
        policy = self.policy(node, reported)
        if policy is None:
            return []
        return [rule for rule in policy.repeats
                if 1 + sum(1 for t in earlier if reported - rule.window <= t <= reported) >= rule.count]

    def arrived(self, node: str, category: str, severity: int, key_person: bool, channel: str, arrives: datetime,
                reported: datetime, department: str | None = None, departments: Sequence[str] = ()) -> list[Stop]:
        """Where a case reported at ``reported`` that arrived at ``node`` at ``arrives`` (a breach sent it
        there; ``department``: summoned there) waits to be accepted, then each level its missed accept limits
        carry it to, as ``stops`` (``departments``: those already on the case)."""
        facts = IncidentFacts(id="", category=category, severity=severity, level=level_of(self.community, node),
                              key_person=key_person, channel=channel, age=timedelta(0))
        on = (*departments, department) if department is not None and department not in departments else departments
        return self._climb(node, facts, arrives, reported, department, tuple(on))

    def handler_due(self, reported_at: str, node: str, handler: str, reported: datetime, since: datetime,
                    stopped: Sequence[tuple[datetime, datetime]] = (), extra_days: int = 0, *,
                    limit_name: str = "resolve", department: str | None = None,
                    departments: Sequence[str] = ()) -> HandlerDue | None:
        """When ``handler``'s own resolve limit (``limit_name`` "accept": their accept limit, on a case
        assigned to them) runs out on a case reported at node ``reported_at`` at ``reported`` and held at
        ``node``, its clock running from ``since`` but for the ``stopped`` stretches (paused),
        ``extra_days`` added by an extension; None when no such limit holds them (or the limit of the
        ``department`` summoned there replaces it; ``departments``: those on the case).

        As the plugin reads it: the first ``handler limit`` whose role the handler holds over the case
        (at its node or above), with the ruleset governing ``node`` when the case was reported.
        """
        policy = self.policy(node, reported)
        member = self.community.members.get(handler)
        if policy is None or not policy.handler_limits or member is None:
            return None
        hierarchy = self.community.hierarchy
        held = {a.role for a in member.roles if a.node in hierarchy and hierarchy.is_within(reported_at, a.node)}
        role = next((limit.role for limit in policy.handler_limits if limit.role in held), None)
        limit = None if role is None else policy.handler_limit(role)
        span = None if limit is None else limit.accept if limit_name == "accept" else limit.resolve
        if role is None or limit is None or span is None:
            return None
        summoned = None if department is None else policy.department_limit(department)
        if summoned is not None and (summoned.report if limit_name == "accept" else summoned.resolve) is not None:
            return None  # (a summoned department's limit beats the handler's own: ``EscalationPolicy.applied``)
        due = self._run_out(policy, span, since, stopped, extra_days)
        if due is None:
            return None
        passed_to = None
        if limit.then_role is not None:
            for ancestor in hierarchy.ancestors(node, include_self=True):
                holders = sorted(m.id for m in self.community.holders(ancestor.id, limit.then_role) if m.id != handler)
                if holders:
                    passed_to = holders[0]
                    break
        where = None if passed_to is not None else self._target(policy, node, departments)
        return HandlerDue(due.astimezone(self.community.tz), role, passed_to, where[0] if where else None,
                          where[1] if where else None)

    def resolve_due(self, node: str, category: str, severity: int, key_person: bool, channel: str,
                    reported: datetime, since: datetime, stopped: Sequence[tuple[datetime, datetime]] = (),
                    extra_days: int = 0, department: str | None = None, departments: Sequence[str] = ()
                    ) -> tuple[datetime, Target | None] | None:
        """When the level's resolve limit at ``node`` (that of the ``department`` summoned there first) runs
        out on a case reported at ``reported`` that arrived there at ``since`` (or was reopened there then),
        but for the ``stopped`` stretches and ``extra_days`` of an extension, and where it sends the case:
        a node above, or its own node with a department summoned there (None: nowhere); None when no resolve
        limit holds it there (the limits in force when it was reported, as the plugin holds a case).
        ``departments``: those on the case (a breach summons none twice)."""
        policy = self.policy(node, reported)
        if policy is None:
            return None
        level = level_of(self.community, node)
        facts = IncidentFacts(id="", category=category, severity=severity, level=level, key_person=key_person,
                              channel=channel, age=timedelta(0))
        resolve = policy.applied(facts, level, department).get("resolve")
        due = None if resolve is None else self._run_out(policy, resolve.span, since, stopped, extra_days)
        if due is None:
            return None
        return due.astimezone(self.community.tz), self._target(policy, node, departments)

    def _target(self, policy: EscalationPolicy, node: str, departments: Sequence[str]) -> Target | None:
        """Where a breach at ``node`` sends a case that ``departments`` are on, as ``timers.breach_target``:
        the department the level's limit routes to, summoned where the case is, unless it is on the case
        already; else the level above (the one it names), None at the top."""
        limit = policy.limit_for(level_of(self.community, node))
        department = None if limit is None else limit.then_department
        if department is not None and department not in departments and is_department(self.community, department):
            return node, department
        above = node_above(self.community, node, limit.then_level if limit is not None else None)
        return None if above is None else (above, None)

    def _run_out(self, policy: EscalationPolicy, span: Span, since: datetime,
                 stopped: Sequence[tuple[datetime, datetime]], extra_days: int) -> datetime | None:
        """When ``span`` counted from ``since`` runs out, but for the ``stopped`` stretches, ``extra_days``
        added (the plugin's working-time arithmetic)."""
        span = span.extended(extra_days, 0, f"{extra_days} day") if extra_days else span
        tz = self.community.tz
        start, used = since, timedelta(0)
        # (stretches before ``since`` are the other clock's: the level's runs from before an assignment)
        for paused, resumed in ((max(p, since), r) for p, r in stopped if r > since):
            due = add(span, start, used, policy.calendar, tz)
            if due is None or due <= paused:
                break
            used += elapsed(span.working, start, paused, policy.calendar, tz)
            start = resumed
        found: datetime | None = add(span, start, used, policy.calendar, tz)
        return found

    def summoned(self, node: str, department: str, category: str, severity: int, key_person: bool, channel: str,
                 at: datetime, reported: datetime | None = None, departments: Sequence[str] = ()) -> list[Stop]:
        """Where a case whose handler summoned ``department`` to ``node`` at ``at`` (吹哨报到) waits for one of
        its officers to report in, until the department's ``report within`` limit (or, without one, the
        level's accept limit) runs out, then each place that carries it to, as ``stops`` (the limits in
        force when the case was ``reported``, default ``at``; ``departments``: those on the case before)."""
        return self.arrived(node, category, severity, key_person, channel, at, reported if reported is not None else at,
                            department, departments)

    def _climb(self, here: str, facts: IncidentFacts, arrives: datetime, reported: datetime,
               department: str | None = None, departments: Sequence[str] = ()) -> list[Stop]:
        """The stops of a case reported at ``reported`` waiting at ``here`` from ``arrives`` (``department``:
        summoned there; ``departments``: on the case)."""
        found = []
        on = tuple(departments)
        for _ in range(2 * len(self.community.hierarchy.levels) + 2):
            due, where = self._breach(here, facts, arrives, reported, department, on)
            found.append(Stop(here, arrives, due if where is not None else None, department, on))
            if due is None or where is None:
                break
            here, arrives, department = where[0], due, where[1]
            if department is not None and department not in on:
                on = (*on, department)
        return found

    def _breach(self, node: str, facts: IncidentFacts, arrives: datetime, reported: datetime,
                department: str | None = None, departments: Sequence[str] = ()
                ) -> tuple[datetime | None, Target | None]:
        """When the accept limit at ``node`` (a summoned ``department``'s report limit first) runs out for a
        case arriving at ``arrives``, and where it sends the case (the limits of the ruleset governing
        ``node`` when the case was ``reported``, as the plugin holds a case to them)."""
        policy = self.policy(node, reported)
        if policy is None:
            return None, None
        level = level_of(self.community, node)
        at_level = attrs.evolve(facts, level=level)
        accept = policy.applied(at_level, level, department).get("accept")
        if accept is None:
            return None, None
        due = add(accept.span, arrives, timedelta(0), policy.calendar, self.community.tz)
        return due, self._target(policy, node, departments)
