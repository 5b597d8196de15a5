"""Which ruleset judges where and when: the rulesets in force over a community's tree.

A ruleset is put in force from a time, for the whole tree or for a subtree
(``applies to: NODE``).  An event is judged by the ruleset of the nearest
enclosing subtree that has one in force at the event's time, else by the
whole tree's: the one in force then, or its earliest for times before any.
``RulesetTimeline`` keeps those timelines and answers that question; the
engine stores the rulesets and tells the plugins (``Engine.use_ruleset``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from .classes import frozen
from .errors import UnknownNameError
from .localtime import LocalTimes

if TYPE_CHECKING:
    from .community import Community
    from .rules import Ruleset, Section
    from .rules.sections import P

#: one node's answer: the times it changes, the ruleset from each, and the one before the first
Governed = tuple[list[datetime], list["Ruleset | None"], "Ruleset | None"]


@frozen
class RulesetInForce:
    """A ruleset put in force: from when, and for which subtree (``node`` None: the whole tree)."""

    effective: datetime
    ruleset: Ruleset
    node: str | None = None


class RulesetTimeline:
    """The rulesets put in force over one community's tree, by the time each took effect."""

    def __init__(self, community: Callable[[], Community],
                 local_date: Callable[[datetime], date] | None = None) -> None:
        #: the community whose tree the subtrees are of (its engine's, read when asked: the engine
        #: may take on a grown roster, ``regrow``)
        self._community = community
        #: a time's local date in the community's zone (the engine's ``local_date``, else one of its own)
        self._local_date = local_date or LocalTimes(lambda: community().tz).date
        #: the rulesets put in force for the whole tree, by the time each took effect
        self.whole: list[tuple[datetime, Ruleset]] = []
        #: the rulesets put in force for a subtree only (``applies to``): node id -> its timeline
        self.subtrees: dict[str, list[tuple[datetime, Ruleset]]] = {}
        #: node (None: the whole tree) -> which ruleset judges there from when (see ``_governing``)
        self._governed: dict[str | None, Governed] = {}
        #: node -> a fixed zone and the times of ``_governed`` in it (``at``)
        self._local_starts: dict[str | None, tuple[timezone, list[datetime]]] = {}
        #: ``policy``'s last time and node asked, and the ruleset in force then with the local date and each
        #: section's policy asked of them (by the section's name, as ``Ruleset.policy`` finds it)
        self._policy_at: datetime | None = None
        self._policy_node: str | None = None
        self._policy_day: tuple[Ruleset | None, date, dict[str, Any]] | None = None
        #: ``in_force``'s answer, until a ruleset is put in force (``put``, ``clear`` forget it)
        self._in_force: tuple[RulesetInForce, ...] | None = None
        #: the time ``policy`` last worked out the local date of (that object) and that date
        self._day_at: datetime | None = None
        self._day = date.min

    def __len__(self) -> int:
        return len(self.whole) + sum(len(timeline) for timeline in self.subtrees.values())

    def clear(self) -> None:
        """Forget every ruleset (before they are read from the store again)."""
        self.whole = []
        self.subtrees = {}
        self._forget_answers()

    def regrow(self) -> None:
        """The roster grew: new nodes, so which ruleset judges where is worked out again."""
        self._forget_answers()

    def put(self, when: datetime, ruleset: Ruleset, node: str | None) -> None:
        """Add a ruleset to the timeline of ``node`` (None: the whole tree)."""
        timeline = self.whole if node is None else self.subtrees.setdefault(node, [])
        timeline.append((when, ruleset))
        timeline.sort(key=lambda pair: pair[0])
        self._forget_answers()

    def already(self, when: datetime, ruleset: Ruleset, node: str | None) -> Ruleset | None:
        """The same ruleset (by fingerprint) already in force for ``node`` from ``when``, if any."""
        for existing_when, existing in self.whole if node is None else self.subtrees.get(node, []):
            if existing_when == when and existing.fingerprint == ruleset.fingerprint:
                return existing
        return None

    def at(self, when: datetime, node: str | None = None) -> Ruleset | None:
        """The ruleset that judges at ``node`` at ``when`` (``Engine.ruleset_at``)."""
        starts, chosen, before = self._governed.get(node) or self._governing(node)
        if not starts:
            return before  # (one ruleset judges there at every time: no time compared)
        zone = when.tzinfo
        if type(zone) is timezone:
            # The times the answer changes, in ``when``'s own zone object: two times holding one
            # ``timezone`` compare field by field, in the order of their instants (one offset); a
            # time in the community's zone against one at a fixed offset asks both for their offsets
            # (about 4,000 instructions a comparison, and plugins ask for most events).  Kept for
            # the last zone object asked at each node: events read from text share one per offset.
            local = self._local_starts.get(node)
            if local is None or local[0] is not zone:
                local = self._local_starts[node] = (zone, _in_zone(starts, zone))
            starts = local[1]
        found = bisect.bisect_right(starts, when) - 1
        return chosen[found] if found >= 0 else before

    def policy(self, section: Section[P], *, at: datetime, node: str | None = None) -> P | None:
        """A section's policy in force at ``at`` at ``node``, on its local date (``Engine.policy``)."""
        if at != self._policy_at or node != self._policy_node:
            # Plugins ask for several sections at the time of each event: the ruleset and
            # the local date are worked out once per time and node (``put`` resets them),
            # the date once per time object (the events of a busy minute share their time,
            # not their node).
            if at is not self._day_at:
                self._day = self._local_date(at)
                self._day_at = at
            ruleset = self.at(at, node)
            kept = self._policy_day
            if kept is None or kept[0] is not ruleset or kept[1] != self._day:
                # (each section's answer is kept while the ruleset and the day stay: a day's events ask
                # the same sections of the same ruleset, ``Ruleset.policy`` two calls each)
                self._policy_day = (ruleset, self._day, {})
            self._policy_at = at
            self._policy_node = node
        assert self._policy_day is not None
        ruleset, day, answers = self._policy_day
        if ruleset is None:
            return None
        name = section.name
        if name in answers:
            return answers[name]  # type: ignore[no-any-return]
        found = answers[name] = ruleset.policy(section, at=day)
        return found

    @property
    def latest(self) -> Ruleset | None:
        """The whole tree's latest ruleset; with none for the whole tree, the latest of any subtree."""
        if self.whole:
            return self.whole[-1][1]
        every = self.in_force()
        return every[-1].ruleset if every else None

    def in_force(self) -> list[RulesetInForce]:
        """Every ruleset put in force, by effective time (the whole tree's first at equal times)."""
        # (worked out once per ruleset put in force: the escalation plugin asks on every report how
        # many there are, and a district has one timeline per community)
        kept = self._in_force
        if kept is None:
            found = [RulesetInForce(when, ruleset, None) for when, ruleset in self.whole]
            for node, timeline in self.subtrees.items():
                found.extend(RulesetInForce(when, ruleset, node) for when, ruleset in timeline)
            kept = self._in_force = tuple(sorted(found, key=lambda entry: (entry.effective, entry.node or "")))
        return list(kept)

    def for_node(self, node: str | None) -> list[tuple[datetime, Ruleset]]:
        """The rulesets put in force for exactly ``node``'s subtree (None, or the single root: the whole tree)."""
        if node is not None and self._whole_tree(node):
            node = None
        return list(self.whole if node is None else self.subtrees.get(node, ()))

    def from_now(self, now: datetime) -> list[tuple[datetime, Ruleset]]:
        """The rulesets in force at ``now`` or later, the whole tree's and each subtree's."""
        found: list[tuple[datetime, Ruleset]] = []
        for timeline in (self.whole, *self.subtrees.values()):
            found += [pair for pair in timeline if pair[0] <= now][-1:] + [pair for pair in timeline if pair[0] > now]
        return found

    def fit(self) -> list[list[Any]]:
        """What a checkpoint records of the rulesets: the whole tree's as they always were, then each
        subtree's with its node."""
        return [[when.isoformat(), ruleset.fingerprint] for when, ruleset in self.whole] + [
            [when.isoformat(), ruleset.fingerprint, node]
            for node, timeline in sorted(self.subtrees.items()) for when, ruleset in timeline]

    def _forget_answers(self) -> None:
        self._governed.clear()
        self._local_starts.clear()
        self._in_force = None
        self._policy_at = None
        self._policy_day = None
        self._day_at = None  # (a grown roster is a new community: its zone is read again, ``local_date``)

    def _governing(self, node: str | None) -> Governed:
        """Which ruleset judges at ``node`` over time, worked out once per node (``put`` forgets it)."""
        hierarchy = self._community().hierarchy
        if node is not None and node not in hierarchy:
            raise UnknownNameError(hierarchy.unknown(node))
        chain = [] if node is None else [
            self.subtrees[n.id] for n in hierarchy.ancestors(node, include_self=True)
            if n.id in self.subtrees]
        whole = self.whole
        starts = sorted({when for timeline in (*chain, whole) for when, _ in timeline})
        chosen: list[Ruleset | None] = []
        for start in starts:
            found = None
            for timeline in (*chain, whole):  # nearest first; the whole tree's last
                in_force = [ruleset for when, ruleset in timeline if when <= start]
                if in_force:
                    found = in_force[-1]
                    break
            chosen.append(found)
        before = whole[0][1] if whole else None
        # (the same ruleset from every start and before them, the usual case of one ruleset in force: no
        # time to compare, ``at`` answers it whatever the time)
        answer = ([], [], before) if all(found is before for found in chosen) else (starts, chosen, before)
        self._governed[node] = answer
        return answer

    def _whole_tree(self, node: str) -> bool:
        """True if ``node`` is the single root of the tree (its subtree is the whole tree)."""
        hierarchy = self._community().hierarchy
        roots = hierarchy.roots()
        return not hierarchy.forest and len(roots) == 1 and roots[0].id == node


def _in_zone(starts: list[datetime], zone: timezone) -> list[datetime]:
    """``starts``, each the same instant in ``zone`` (``starts`` themselves if any is naive or beyond what
    ``zone`` can hold: compared as they are)."""
    if any(start.utcoffset() is None for start in starts):
        return starts
    try:
        return [start.astimezone(zone) for start in starts]
    except OverflowError:
        return starts
