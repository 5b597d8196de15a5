"""Where a case nobody takes on would be, and when: the ruleset's ladder as the simulator sees it.

The escalation plugin moves a case up when a level's *accept* limit runs out
(grid > community > street > command centre), and sends big matters up at
once (``escalate ... immediately when ...``).  The simulator plans each case's
handling when it is reported; with a ``Ladder`` it knows, for that plan, at
which node the case is waiting when someone comes to take it on, so the one
who accepts it is someone who may act there (docs/district.md, *Escalated
cases in the simulator*).

``Ladder.of_rulesets(community, rulesets, at=day)`` (or ``of_files``) reads the escalation
section of each ruleset (the whole tree's and the variants for a subtree,
as ``gridcore demo`` puts them in force) and ``stops(...)`` gives a case's
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
carries the case to.  What it leaves out, a case only the engine can tell:
repeats rules (the scenario mirrors them), handler limits, a breach that
routes to a department (the case stops climbing there) and rulesets put in
force after the first day (none of which the Yinzhou rulesets use).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import attrs
from attrs import frozen

from gridcore.community import Community
from gridcore.rules import Ruleset
from gridcore.rules.subtree import governed_node
from gridcore_escalation.policy import EscalationPolicy, IncidentFacts
from gridcore_escalation.routing import level_of, node_above, node_at_level, rank, start_node
from gridcore_escalation.section import SECTION
from gridcore_escalation.worktime import add


@frozen
class Stop:
    """One place a case waits to be accepted: ``node`` from ``arrives``; ``due`` is when its accept limit
    runs out and sends the case further up (None: it waits there, overdue once a limit passed)."""

    node: str
    arrives: datetime
    due: datetime | None


class Ladder:
    """The escalation policies in force, each for the subtree it governs (``None``: the whole tree)."""

    def __init__(self, community: Community, governing: Sequence[tuple[str | None, EscalationPolicy]]) -> None:
        self.community = community
        self.governing = list(governing)

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
        """The ladder of ``rulesets`` in force on ``at``: each governs the subtree it names (the last
        given wins a subtree given twice); a ruleset without an escalation section adds nothing."""
        found: dict[str | None, EscalationPolicy] = {}
        for ruleset in rulesets:
            policy = ruleset.policy(SECTION, at=at) if ruleset.has(SECTION) else None
            if policy is not None:
                found[governed_node(ruleset, community.hierarchy)] = policy
        return cls(community, list(found.items()))

    def policy(self, node: str) -> EscalationPolicy | None:
        """The policy of the nearest enclosing subtree that has one."""
        best: tuple[int, EscalationPolicy] | None = None
        for root, policy in self.governing:
            if root is None:
                depth = -1
            elif self.community.hierarchy.is_within(node, root):
                depth = rank(self.community, root)
            else:
                continue
            if best is None or depth > best[0]:
                best = (depth, policy)
        return None if best is None else best[1]

    def duplicates_window(self, node: str) -> timedelta | None:
        """How long after a case's last report a report of its category at its place joins it, under the
        ruleset governing ``node`` (its ``duplicates`` rule); None: no rule, so reports never join."""
        policy = self.policy(node)
        return None if policy is None or policy.duplicates is None else policy.duplicates.window

    def stops(self, node: str, category: str, severity: int, key_person: bool, channel: str,
              reported: datetime) -> list[Stop]:
        """Where a case reported at ``node`` waits to be accepted if nobody does, in order."""
        policy = self.policy(node)
        if policy is None:
            return [Stop(node, reported, None)]
        facts = IncidentFacts(id="", category=category, severity=severity, level=level_of(self.community, node),
                              key_person=key_person, channel=channel, age=timedelta(0))
        route = policy.route_for(facts)
        here = start_node(self.community, node, route.start_level if route is not None else None)
        facts = attrs.evolve(facts, level=level_of(self.community, here))
        for item in policy.immediate:
            if item.department is not None or not item.condition.holds(facts):
                continue
            if item.to_level is None:
                up = node_above(self.community, here)
            else:
                up = node_at_level(self.community, here, item.to_level)
                up = up if up is not None and rank(self.community, up) < rank(self.community, here) else None
            if up is not None:
                here = up  # (the new level's limits count from the report)
        return self._climb(here, facts, reported)

    def summoned(self, node: str, department: str, category: str, severity: int, key_person: bool, channel: str,
                 at: datetime) -> list[Stop]:
        """Where a case whose handler summoned ``department`` to ``node`` at ``at`` (吹哨报到) waits for one of
        its officers to report in, until the department's ``report within`` limit (or, without one, the
        level's accept limit) runs out, then each level that carries it to, as ``stops``."""
        facts = IncidentFacts(id="", category=category, severity=severity, level=level_of(self.community, node),
                              key_person=key_person, channel=channel, age=timedelta(0))
        return self._climb(node, facts, at, department)

    def _climb(self, here: str, facts: IncidentFacts, arrives: datetime, department: str | None = None
               ) -> list[Stop]:
        """The stops of a case waiting at ``here`` from ``arrives`` (``department``: summoned there)."""
        found = []
        for _ in range(len(self.community.hierarchy.levels) + 1):
            due, above = self._breach(here, facts, arrives, department)
            found.append(Stop(here, arrives, due if above is not None else None))
            if due is None or above is None:
                break
            here, arrives, department = above, due, None
        return found

    def _breach(self, node: str, facts: IncidentFacts, arrives: datetime, department: str | None = None
                ) -> tuple[datetime | None, str | None]:
        """When the accept limit at ``node`` (a summoned ``department``'s report limit first) runs out for a
        case arriving at ``arrives``, and where it sends the case (the limits of the ruleset governing
        ``node``)."""
        policy = self.policy(node)
        if policy is None:
            return None, None
        level = level_of(self.community, node)
        at_level = attrs.evolve(facts, level=level)
        accept = policy.applied(at_level, level, department).get("accept")
        if accept is None:
            return None, None
        due = add(accept.span, arrives, timedelta(0), policy.calendar, self.community.tz)
        limit = policy.limit_for(level)
        if limit is not None and limit.then_department is not None:
            return due, None
        return due, node_above(self.community, node, limit.then_level if limit is not None else None)

