"""Per-engine points state: applies events to the ledger, refuses bad ones.

``PointsState`` is attached to each engine as ``"points"`` (see plugin.py).  It
is derived only from the events it is given, in canonical order, under the
ruleset in force at each event's time, so replaying a store rebuilds it
exactly and an event id is never credited twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridcore import Explanation, Outcome, OutcomeKind, hookimpl
from gridcore.events import ActivityRecorded, Event, ResidentRegistered
from gridcore_escalation.events import (
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
)
from gridcore_points.display import kind_shown, shown
from gridcore_points.events import PointsRedeemed, RecognitionAwarded
from gridcore_points.facts import Facts, MemberRecord, NodeRecord
from gridcore_points.policy import PointsPolicy
from gridcore_points.section import SECTION

from . import ledger
from .booking import on_activity, on_closed, on_recognition, on_redemption
from .checks import check_activity, check_late, check_recognition, check_redemption, later_events
from .ledger import Account, Entry
from .tracking import Claim, IncidentTrack

if TYPE_CHECKING:
    from gridcore import Engine

NAME = "points"


#: What the points plugin reports to a what-if comparison: each member's balance.
BALANCES = OutcomeKind("points", "Members whose points change (积分有变化的人员)", "points", "分")


class PointsState:
    """The ledger of one engine, and the hooks that keep it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tz = engine.community.tz
        self.accounts: dict[str, Account] = {}
        self.entries: dict[str, Entry] = {}
        self.claims: dict[tuple[str, str], list[Claim]] = {}
        self.incidents: dict[str, IncidentTrack] = {}
        self.party: dict[str, bool] = {}
        self.names: dict[str, str] = {}
        self.stock_used: dict[str, int] = {}
        self.redeemed_by: dict[tuple[str, str, str], int] = {}
        self.recognition_spent: dict[tuple[str, str], int] = {}
        self.last_time: datetime | None = None
        #: every event applied, in order (to judge late events at their own time).
        self.seen: list[Event] = []
        #: redemptions a rebuild found no longer covered (booked as flags, not spent).
        self.uncovered = 0
        #: A scratch copy replays a given history and must not read the store's future.
        self.is_scratch = False
        #: every rule behind an earning (item, tilts, caps), by entry id.
        self.extra_rules: dict[str, tuple[Any, ...]] = {}
        #: the lots each redemption took from, by entry id.
        self.taken: dict[str, list[tuple[str, int]]] = {}

    # ------------------------------------------------------------ policy and facts

    def policy_at(self, when: datetime) -> PointsPolicy | None:
        """The points policy in force at ``when`` (None: no ruleset or no points section)."""
        return self.engine.policy(SECTION, at=when)

    def account(self, member: str) -> Account:
        """The member's account (created empty on first use)."""
        found = self.accounts.get(member)
        if found is None:
            found = self.accounts[member] = Account(member)
        return found

    def view(self, member: str, when: datetime | None = None) -> Account:
        """A copy of the member's account with expiry and bonuses booked up to ``when`` (default now)."""
        moment = when or self.engine.clock.now()
        account = self.accounts.get(member) or Account(member)
        return ledger.view(account, moment, self.policy_at, self.tz)

    def views(self, when: datetime | None = None) -> Iterator[Account]:
        """Every account, advanced to ``when`` (default now), by member id."""
        for member in sorted(self.accounts):
            yield self.view(member, when)

    def name_of(self, member: str) -> str:
        """The member's name (roster or resident registration), else the id."""
        found = self.engine.community.members.get(member)
        return found.name if found is not None else self.names.get(member, member)

    def roles_of(self, member: str) -> set[str]:
        """Every role the member holds anywhere (``resident`` for residents off the roster)."""
        found = self.engine.community.members.get(member)
        if found is None:
            return {"resident"} if member in self.engine.residents() else set()
        roles = {assignment.role for assignment in found.roles}
        if getattr(found, "home", None):
            roles.add("resident")
        return roles

    def member_record(self, member: str) -> MemberRecord:
        """The ``member`` record rules read."""
        found = self.engine.community.members.get(member)
        roles = tuple(sorted(self.roles_of(member)))
        if found is not None:
            main = found.roles[0].role if found.roles else "resident"
            return MemberRecord(member, found.name, main, roles, bool(found.party_member))
        return MemberRecord(
            member, self.names.get(member, member), "resident", roles, self.party.get(member, False)
        )

    def node_record(self, node_id: str) -> NodeRecord:
        """The ``node`` record rules read."""
        node = self.engine.community.hierarchy.node(node_id)
        return NodeRecord(node.id, node.name, node.level, str(getattr(node, "kind", "territorial")))

    def facts(self, event: Event, member: str, incident: IncidentTrack | None = None) -> Facts:
        """Everything a rule may read about ``event`` for ``member``."""
        local = event.time.astimezone(self.tz)
        where = incident.node if incident is not None else event.node
        record = None
        if incident is not None:
            record = incident.record(self.node_record(incident.node).level, event.time)
        return Facts(
            member=self.member_record(member),
            node=self.node_record(where),
            event=event,
            weekday=local.isoweekday(),
            hour=local.hour,
            incident=record,
            satisfaction=incident.satisfaction if incident is not None else None,
            rating=incident.rating if incident is not None else None,
        )

    def within(self, node: str, ancestor: str) -> bool:
        """True if ``node`` is ``ancestor`` or below it (False for unknown nodes)."""
        hierarchy = self.engine.community.hierarchy
        return node == ancestor or (
            ancestor in hierarchy and node in hierarchy and hierarchy.is_within(node, ancestor)
        )

    def in_cells(self, member: str, node: str) -> bool:
        """True if ``node`` is within the member's cells (roles and home; a resident's home)."""
        community = self.engine.community
        if member in community.members:
            return bool(community.is_within_cells(member, node)) or any(
                self.within(cell, node) for cell in community.cells_of(member))
        home = self.engine.residents().get(member)
        return home is not None and (self.within(node, home) or self.within(home, node))

    # ------------------------------------------------------------ validation

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse duplicate or out-of-cell claims (when the rules say refuse), bad redemptions and awards."""
        if isinstance(event, ActivityRecorded):
            return check_activity(self, event)
        if isinstance(event, (PointsRedeemed, RecognitionAwarded)):
            future = later_events(self, event)
            if future or (self.last_time is not None and event.time < self.last_time):
                return check_late(self, event, future)
            if isinstance(event, PointsRedeemed):
                return check_redemption(self, event)
            return check_recognition(self, event)
        return None

    def level_id(self, name: str) -> str | None:
        """The level a ruleset names, by id or by the community's Chinese label; None if unknown."""
        community = self.engine.community
        if name in community.hierarchy.levels:
            return name
        for level, label in community.level_names.items():
            if label == name:
                return level
        return None

    def budget_node(self, node: str, level: str) -> str | None:
        """The node whose recognition budget an award at ``node`` spends (None: no such level)."""
        found_level = self.level_id(level)
        if found_level is None:
            return None
        found = self.engine.community.hierarchy.ancestor_at(node, found_level)
        return found.id if found is not None else node

    # ------------------------------------------------------------ applying events

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Book what ``event`` earns, spends or flags."""
        if self.last_time is None or event.time > self.last_time:
            self.last_time = event.time
        self.seen.append(event)
        if isinstance(event, ActivityRecorded):
            on_activity(self, event)
        elif isinstance(event, PointsRedeemed):
            on_redemption(self, event)
        elif isinstance(event, RecognitionAwarded):
            on_recognition(self, event)
        elif isinstance(event, ResidentRegistered):
            self.party[event.person] = event.party_member
            if event.name:
                self.names[event.person] = event.name
        elif isinstance(event, IncidentReported):
            self.incidents.setdefault(
                event.incident,
                IncidentTrack(
                    event.incident,
                    event.actor,
                    event.node,
                    event.time,
                    event.category,
                    event.severity,
                    event.channel,
                    event.key_person,
                ),
            )
        elif isinstance(event, IncidentResolved):
            if event.incident in self.incidents:
                self.incidents[event.incident].resolver = event.actor
        elif isinstance(event, IncidentVerified):
            if event.incident in self.incidents:
                track = self.incidents[event.incident]
                track.verified = True
                track.satisfaction = event.satisfaction
        elif isinstance(event, SatisfactionRated):
            if event.incident in self.incidents:
                self.incidents[event.incident].ratings.append(event.score)
        elif isinstance(event, IncidentClosed):
            on_closed(self, event)

    # ------------------------------------------------------------ decisions

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``points:<entry id>``: the entry, its rule(s) and inputs."""
        if not decision.startswith(NAME + ":"):
            return None
        entry_id = decision[len(NAME) + 1 :]
        entry = self.entries.get(entry_id) or self._find_derived(entry_id)
        if entry is None:
            return None
        rules = self.extra_rules.get(entry.id) or ((entry.rule,) if entry.rule is not None else ())
        inputs = dict(entry.inputs)
        inputs.update({"member": entry.member, "node": entry.node, "time": entry.time.isoformat()})
        if entry.cause:
            inputs["event"] = entry.cause
        if entry.id in self.taken:
            inputs["taken_from"] = ", ".join(f"{lot} ({n})" for lot, n in self.taken[entry.id])
        return Explanation(
            decision=decision,
            summary=f"{kind_shown(entry.kind)} {entry.amount:+d} for {entry.member}: {shown(entry.summary)}",  # (as staff see it)
            rules=tuple(rules),
            inputs=inputs,
            result=entry.amount,
        )

    def _find_derived(self, entry_id: str) -> Entry | None:
        for account in self.views():
            for entry in account.entries:
                if entry.id == entry_id:
                    return entry
        return None

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each member's balance now, with the rules that produced it."""
        outcomes = []
        for account in self.views():
            rules = {
                rule
                for entry in account.entries
                for rule in self.extra_rules.get(entry.id, (entry.rule,))
                if rule is not None
            }
            totals = ledger.totals(account.entries)
            outcomes.append(
                Outcome(
                    plugin=NAME,
                    subject=f"member:{account.member}:balance",
                    value=account.balance,
                    rules=tuple(sorted(rules, key=lambda r: (r.file, r.line, r.column))),
                    detail=f"earned {totals['earned']}, redeemed {totals['redeemed']}, expired {totals['expired']}",
                    kind=BALANCES,
                )
            )
        return outcomes
