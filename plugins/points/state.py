"""Per-engine points state: applies events to the ledger, refuses bad ones.

``PointsState`` is attached to each engine as ``"points"`` (see plugin.py).  It
is derived only from the events it is given, in canonical order, under the
ruleset in force at each event's time, so replaying a store rebuilds it
exactly and an event id is never credited twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from attrs import define, field

from gridcore import Explanation, Outcome, hookimpl
from gridcore.events import (
    SYSTEM_ACTOR,
    ActivityRecorded,
    Event,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    PointsRedeemed,
    ResidentRegistered,
    SatisfactionRated,
)

from . import ledger
from .events import RecognitionAwarded
from .facts import Facts, IncidentRecord, MemberRecord, NodeRecord
from .ledger import Account, Entry
from .periods import add_months, period_key
from .policy import PERIODS, ActivityItem, IncidentItem, PointsPolicy, PointsRules, round_points

if TYPE_CHECKING:
    from gridcore import Engine

NAME = "points"


@define
class Claim:
    """An activity a member was credited for (to spot the same one claimed twice)."""

    event_id: str
    start: datetime
    end: datetime
    day: str


@define
class IncidentTrack:
    """What the points plugin remembers of an incident (from the incident events)."""

    id: str
    reporter: str
    node: str
    reported: datetime
    category: str
    severity: int
    channel: str
    key_person: bool
    resolver: str | None = None
    satisfaction: int | None = None
    ratings: list[int] = field(factory=list)
    verified: bool = False
    settled: bool = False

    def record(self, level: str, now: datetime) -> IncidentRecord:
        """The ``incident`` record rules read."""
        return IncidentRecord(
            id=self.id, category=self.category, severity=self.severity, level=level,
            key_person=self.key_person, channel=self.channel, age=now - self.reported,
        )

    @property
    def rating(self) -> float | None:
        """The mean of residents' satisfaction ratings, if any."""
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


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
        #: every rule behind an earning (item, tilts, caps), by entry id.
        self._extra_rules: dict[str, tuple[Any, ...]] = {}
        #: the lots each redemption took from, by entry id.
        self._taken: dict[str, list[tuple[str, int]]] = {}

    # ------------------------------------------------------------ policy and facts

    def policy_at(self, when: datetime) -> PointsPolicy | None:
        """The points policy in force at ``when`` (None: no ruleset or no points section)."""
        ruleset = self.engine.ruleset_at(when)
        if ruleset is None:
            return None
        section = ruleset.section(NAME)
        if isinstance(section, PointsRules):
            return section.at(when.astimezone(self.tz).date())
        return section if isinstance(section, PointsPolicy) else None

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
        return MemberRecord(member, self.names.get(member, member), "resident", roles, self.party.get(member, False))

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

    def _within(self, node: str, ancestor: str) -> bool:
        hierarchy = self.engine.community.hierarchy
        return node == ancestor or (ancestor in hierarchy and node in hierarchy and hierarchy.is_within(node, ancestor))

    def _in_cells(self, member: str, node: str) -> bool:
        community = self.engine.community
        if member in community.members:
            return bool(community.is_within_cells(member, node))
        home = self.engine.residents().get(member)
        return home is not None and (self._within(node, home) or self._within(home, node))

    # ------------------------------------------------------------ validation

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse duplicate or out-of-cell claims (when the rules say refuse), bad redemptions and awards."""
        if isinstance(event, ActivityRecorded):
            return self._check_activity(event)
        if isinstance(event, (PointsRedeemed, RecognitionAwarded)):
            if self.last_time is not None and event.time < self.last_time:
                return self._check_late(event)
            if isinstance(event, PointsRedeemed):
                return self._check_redemption(event)
            return self._check_recognition(event)
        return None

    def _check_late(self, event: Event) -> list[str]:
        """Judge an event older than what was applied at its own place in history.

        Balances, stock and budgets at its time differ from now, and spending
        earlier also spends from every later balance: replay what this state
        has seen with the event inserted, on a scratch state.
        """
        scratch = PointsState(self.engine)
        inserted = False
        for seen in sorted([*self.seen, event], key=lambda e: (e.time, e.id)):
            if seen is event:
                inserted = True
                reasons = scratch.gridcore_validate_event(self.engine, event)
                if reasons:
                    return reasons
            scratch.gridcore_on_event(self.engine, seen, True)
        assert inserted
        if scratch.uncovered > self.uncovered:
            reason = (
                f"{event.id} is dated {event.time.isoformat()}, before later redemptions that it "
                "would leave without enough points; record it with a later time"
            )
            return [reason]
        return []

    def _check_activity(self, event: ActivityRecorded) -> list[str]:
        policy = self.policy_at(event.time)
        if policy is None:
            return []
        items = policy.items_for(event.activity)
        if not items:
            return []
        member = event.participant
        reasons = []
        guard = policy.guard("duplicate")
        if guard is not None and guard.action == "refuse":
            earlier = self._duplicate_of(member, items[0], event, guard.window)
            if earlier is not None:
                reasons.append(
                    f"{member} already claimed {items[0].activity} "
                    f"({'the same day' if guard.window == 'day' else 'at an overlapping time'}) "
                    f"in event {earlier}; refused by rule {guard.rule}"
                )
        guard = policy.guard("outside_cells")
        if guard is not None and guard.action == "refuse" and not self._in_cells(member, event.node):
            reasons.append(f"{event.node} is outside {member}'s cells; refused by rule {guard.rule}")
        return reasons

    def _duplicate_of(self, member: str, item: ActivityItem, event: ActivityRecorded, window: str) -> str | None:
        start = event.time
        end = start + timedelta(hours=event.hours)
        day = period_key(start, self.tz, "day")
        for claim in self.claims.get((member, item.activity), []):
            if claim.event_id == event.id:
                continue
            if window == "day" and claim.day == day:
                return claim.event_id
            if window == "overlap" and (
                (claim.start < end and start < claim.end) or claim.start == start
            ):
                return claim.event_id
        return None

    def _check_redemption(self, event: PointsRedeemed) -> list[str]:
        policy = self.policy_at(event.time)
        if policy is None:
            return [f"no points rules are in force at {event.time.isoformat()}, so nothing can be redeemed"]
        reward = policy.reward(event.reward)
        if reward is None:
            names = ", ".join(r.name for r in policy.rewards) or "none"
            return [f"unknown reward {event.reward!r} (the rewards list has: {names})"]
        reasons = []
        local_day = event.time.astimezone(self.tz).date()
        if reward.valid_from is not None and local_day < reward.valid_from:
            reasons.append(f"{reward.name} is not available before {reward.valid_from.isoformat()} (rule {reward.rule})")
        if reward.valid_until is not None and local_day > reward.valid_until:
            reasons.append(f"{reward.name} expired on {reward.valid_until.isoformat()} (rule {reward.rule})")
        if reward.stock is not None:
            left = reward.stock - self.stock_used.get(reward.name, 0)
            if event.quantity > left:
                reasons.append(f"not enough {reward.name} in stock: {left} left, {event.quantity} asked (rule {reward.rule})")
        member = event.redeemer
        if reward.limit is not None and reward.limit_period is not None:
            label = period_key(event.time, self.tz, reward.limit_period)
            had = self.redeemed_by.get((member, reward.name, f"{reward.limit_period}:{label}"), 0)
            if had + event.quantity > reward.limit:
                reasons.append(
                    f"limit reached: at most {reward.limit} {reward.name} per {reward.limit_period} "
                    f"per member, {member} already has {had} in {label} (rule {reward.rule})"
                )
        cost = reward.price * event.quantity
        balance = self.view(member, event.time).balance
        if balance < cost:
            reasons.append(
                f"insufficient balance: {member} has {balance} points, "
                f"{event.quantity} x {reward.name} costs {cost} (rule {reward.rule})"
            )
        return reasons

    def _check_recognition(self, event: RecognitionAwarded) -> list[str]:
        policy = self.policy_at(event.time)
        rule = policy.recognition if policy is not None else None
        if policy is None or rule is None:
            return ["the points rules in force allow no recognition awards"]
        community = self.engine.community
        reasons = []
        if not self.engine.knows_person(event.member):
            reasons.append(f"unknown member {event.member!r}")
        if not community.holds_role_at_or_above(event.actor, event.node, roles=rule.roles):
            reasons.append(
                f"{event.actor} may not award points at {event.node}: only {', '.join(rule.roles)} "
                f"at or above it may (rule {rule.rule})"
            )
        guard = policy.guard("self_award")
        if event.actor == event.member and (guard is None or guard.action == "refuse"):
            where = f"rule {guard.rule}" if guard is not None else "a leader never awards points to themselves"
            reasons.append(f"{event.actor} may not award points to themselves ({where})")
        grid = self._budget_node(event.node, rule.level)
        label = period_key(event.time, self.tz, rule.period)
        if grid is None:
            reasons.append(
                f"the recognition rule {rule.rule} budgets per {rule.level!r}, "
                f"which is not a level of {community.name}"
            )
            return reasons
        spent = self.recognition_spent.get((grid, label), 0)
        if spent + event.points > rule.budget:
            reasons.append(
                f"recognition budget of {grid} for {label} exhausted: {rule.budget - spent} of "
                f"{rule.budget} points left, {event.points} asked (rule {rule.rule})"
            )
        return reasons

    def level_id(self, name: str) -> str | None:
        """The level a ruleset names, by id or by the community's Chinese label; None if unknown."""
        community = self.engine.community
        if name in community.hierarchy.levels:
            return name
        for level, label in community.level_names.items():
            if label == name:
                return level
        return None

    def _budget_node(self, node: str, level: str) -> str | None:
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
            self._on_activity(event)
        elif isinstance(event, PointsRedeemed):
            self._on_redemption(event)
        elif isinstance(event, RecognitionAwarded):
            self._on_recognition(event)
        elif isinstance(event, ResidentRegistered):
            self.party[event.person] = event.party_member
            if event.name:
                self.names[event.person] = event.name
        elif isinstance(event, IncidentReported):
            self.incidents.setdefault(
                event.incident,
                IncidentTrack(
                    event.incident, event.actor, event.node, event.time, event.category,
                    event.severity, event.channel, event.key_person,
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
            self._on_closed(event)

    def _book(self, account: Account, entry: Entry, policy: PointsPolicy | None, caps: tuple[str, ...] = ()) -> None:
        if entry.id in self.entries:
            return
        self.entries[entry.id] = entry
        if entry.kind in ledger.CREDITS:
            expiry = policy.expiry if policy is not None else None
            expires = add_months(entry.time, expiry.months, self.tz) if expiry is not None else None
            ledger.credit(
                account,
                entry,
                expires=expires,
                expiry_rule=expiry.rule if expiry is not None else None,
                caps_scopes=caps,
                tz=self.tz,
            )
        else:
            account.add(entry)

    def _flag(
        self, account: Account, event: Event, rule: Any, summary: str, entry_id: str | None = None, **inputs: Any
    ) -> None:
        self._book(
            account,
            Entry(
                id=entry_id or event.id,
                kind=ledger.FLAG,
                amount=0,
                member=account.member,
                node=event.node,
                time=event.time,
                rule=rule,
                summary=summary,
                cause=event.id,
                inputs=inputs,
            ),
            None,
        )

    def _on_activity(self, event: ActivityRecorded) -> None:
        policy = self.policy_at(event.time)
        if policy is None:
            return
        items = policy.items_for(event.activity)
        if not items:
            return
        member = event.participant
        account = self.account(member)
        ledger.advance(account, event.time, self.policy_at, self.tz)
        guard = policy.guard("duplicate")
        if guard is not None:
            earlier = self._duplicate_of(member, items[0], event, guard.window)
            if earlier is not None:
                self._flag(
                    account, event, guard.rule,
                    f"{items[0].activity} claimed again (earlier claim {earlier}): no points, flagged",
                    earlier=earlier, activity=event.activity,
                )
                return
        guard = policy.guard("outside_cells")
        if guard is not None and not self._in_cells(member, event.node):
            self._flag(
                account, event, guard.rule,
                f"{event.activity} at {event.node}, outside {member}'s cells: no points, flagged",
                node=event.node, activity=event.activity,
            )
            return
        self.claims.setdefault((member, items[0].activity), []).append(
            Claim(event.id, event.time, event.time + timedelta(hours=event.hours), period_key(event.time, self.tz, "day"))
        )
        facts = self.facts(event, member)
        item = next((i for i in items if i.when is None or i.when.holds(facts)), None)
        if item is None:
            self._book(
                account,
                Entry(
                    id=event.id, kind="earn", amount=0, member=member, node=event.node, time=event.time,
                    rule=items[0].rule, cause=event.id, activity=items[0].activity,
                    summary=f"{event.activity}: no item's condition holds, no points",
                    inputs=facts.show(tuple(sorted({r for i in items if i.when for r in i.when.reads}))),
                ),
                policy,
            )
            return
        base = item.amount.of(event.hours, event.quantity, facts)
        inputs: dict[str, Any] = {
            "activity": event.activity, "hours": _plain(event.hours), "quantity": _plain(event.quantity),
        }
        reads = set(item.when.reads if item.when else ()) | set(
            item.amount.formula.reads if item.amount.formula else ()
        )
        inputs.update(facts.show(tuple(sorted(reads))))
        if item.when is not None:
            inputs["condition"] = item.when.text
        self._earn(account, event, policy, item.activity, base, item.rule, item.caps, inputs,
                   f"{event.activity}: {item.amount.worked(event.hours, event.quantity, base)}")
        ledger.mark_active(account, event.time, event.node, self.tz)

    def _earn(
        self,
        account: Account,
        event: Event,
        policy: PointsPolicy,
        scope: str,
        base: Fraction,
        rule: Any,
        caps: tuple[Any, ...],
        inputs: dict[str, Any],
        summary: str,
        entry_id: str | None = None,
    ) -> None:
        member = account.member
        rules = [rule]
        factor = Fraction(1)
        roles = self.roles_of(member)
        role_tilts = [t for t in policy.tilts if t.role is not None and t.role in roles]
        if role_tilts:
            best = max(role_tilts, key=lambda t: t.factor)
            factor *= best.factor
            rules.append(best.rule)
            inputs["tilt " + str(best.role)] = f"x {float(best.factor):g}"
        level = self.engine.community.hierarchy.node(event.node).level
        labels = {level, self.engine.community.level_names.get(level, level)}
        level_tilts = [t for t in policy.tilts if t.level is not None and t.level in labels]
        if level_tilts:
            best = max(level_tilts, key=lambda t: t.factor)
            factor *= best.factor
            rules.append(best.rule)
            inputs["tilt level " + level] = f"x {float(best.factor):g}"
        amount = round_points(base * factor)
        inputs["computed"] = amount
        if factor != 1:
            summary += f" x {float(factor):g}"
        for cap, cap_scope in [(c, scope) for c in caps] + [(c, "*") for c in policy.caps]:
            room = cap.limit - ledger.earned_in(account, cap_scope, cap.period, event.time, self.tz)
            if amount > room:
                amount = max(room, 0)
                rules.append(cap.rule)
                what = "all points" if cap_scope == "*" else cap_scope
                inputs[f"cap {what} per {cap.period}"] = f"{cap.limit}, {max(room, 0)} left"
        if amount < inputs["computed"]:
            summary += f" = {inputs['computed']}, cut to {amount} by a cap"
        else:
            summary += f" = {amount}"
        entry = Entry(
            id=entry_id or event.id,
            kind="earn",
            amount=amount,
            member=member,
            node=event.node,
            time=event.time,
            rule=rules[0],
            summary=summary,
            cause=event.id,
            activity=scope,
            inputs=inputs,
        )
        self._book(account, entry, policy, caps=(scope, "*"))
        self._extra_rules[entry.id] = tuple(dict.fromkeys(rules))

    def _on_redemption(self, event: PointsRedeemed) -> None:
        policy = self.policy_at(event.time)
        reward = policy.reward(event.reward) if policy is not None else None
        member = event.redeemer
        account = self.account(member)
        ledger.advance(account, event.time, self.policy_at, self.tz)
        if reward is None:
            self._flag(account, event, None, f"redemption of unknown reward {event.reward!r} not booked")
            return
        cost = reward.price * event.quantity
        if cost > account.balance:
            # Only possible when a late event changed history: book nothing, say so.
            self.uncovered += 1
            self._flag(
                account, event, reward.rule,
                f"redemption of {event.quantity} x {reward.name} not covered after replay "
                f"({account.balance} points, {cost} needed): not booked",
            )
            return
        entry = Entry(
            id=event.id, kind="redeem", amount=-cost, member=member, node=event.node, time=event.time,
            rule=reward.rule, cause=event.id,
            summary=f"redeemed {event.quantity} x {reward.name} at {reward.price} points",
            inputs={"reward": reward.name, "quantity": event.quantity, "price": reward.price,
                    "balance_before": account.balance},
        )
        self.entries[entry.id] = entry
        taken = ledger.debit(account, entry)
        self._taken[entry.id] = taken
        self.stock_used[reward.name] = self.stock_used.get(reward.name, 0) + event.quantity
        for period in PERIODS:
            key = (member, reward.name, f"{period}:{period_key(event.time, self.tz, period)}")
            self.redeemed_by[key] = self.redeemed_by.get(key, 0) + event.quantity

    def _on_recognition(self, event: RecognitionAwarded) -> None:
        policy = self.policy_at(event.time)
        rule = policy.recognition if policy is not None else None
        account = self.account(event.member)
        ledger.advance(account, event.time, self.policy_at, self.tz)
        if rule is None:
            self._flag(account, event, None, "recognition award with no recognition rule in force: not booked")
            return
        grid = self._budget_node(event.node, rule.level) or event.node
        label = period_key(event.time, self.tz, rule.period)
        if event.actor == event.member:
            guard = policy.guard("self_award") if policy is not None else None
            self._flag(
                account, event, guard.rule if guard is not None else rule.rule,
                f"{event.actor} awarded points to themselves: no points, flagged", reason=event.reason,
            )
            return
        self.recognition_spent[(grid, label)] = self.recognition_spent.get((grid, label), 0) + event.points
        self._book(
            account,
            Entry(
                id=event.id, kind="recognition", amount=event.points, member=event.member, node=event.node,
                time=event.time, rule=rule.rule, cause=event.id,
                summary=f"recognition by {event.actor}: {event.reason}",
                inputs={"awarded_by": event.actor, "reason": event.reason, "budget_node": grid,
                        "budget_period": label, "budget_used": self.recognition_spent[(grid, label)],
                        "budget": rule.budget},
            ),
            policy,
        )

    def _on_closed(self, event: IncidentClosed) -> None:
        track = self.incidents.get(event.incident)
        if track is None or track.settled:
            return
        track.settled = True
        policy = self.policy_at(event.time)
        if policy is None or not policy.incidents:
            return
        payees = []
        if track.verified and track.reporter != SYSTEM_ACTOR:
            item = self._incident_item(policy.incidents, "confirmed_report", track, event, track.reporter)
            if item is not None:
                payees.append(("reporter", track.reporter, item))
        if track.resolver is not None and track.resolver != SYSTEM_ACTOR:
            item = self._incident_item(policy.incidents, "resolved", track, event, track.resolver)
            if item is not None:
                payees.append(("resolver", track.resolver, item))
        guard = policy.guard("self_closed")
        if guard is not None and track.reporter in (track.resolver, event.actor):
            account = self.account(track.reporter)
            ledger.advance(account, event.time, self.policy_at, self.tz)
            self._flag(
                account, event, guard.rule,
                f"incident {event.incident} reported and closed by {track.reporter}: no points, flagged",
                entry_id=f"{event.id}:flag",
                incident=event.incident, reporter=track.reporter, resolver=track.resolver, closer=event.actor,
            )
            return
        for role, member, item in payees:
            account = self.account(member)
            ledger.advance(account, event.time, self.policy_at, self.tz)
            facts = self.facts(event, member, track)
            inputs: dict[str, Any] = {"incident": event.incident, "as": role}
            if item.when is not None:
                inputs.update(facts.show(item.when.reads))
                inputs["condition"] = item.when.text
            self._earn(
                account, event, policy, f"incident:{item.trigger}", Fraction(item.points), item.rule, (),
                inputs, f"incident {event.incident} ({track.category}), {role}: {item.points}",
                entry_id=f"{event.id}:{role}",
            )

    def _incident_item(
        self, items: tuple[IncidentItem, ...], trigger: str, track: IncidentTrack, event: Event, member: str
    ) -> IncidentItem | None:
        facts = self.facts(event, member, track)
        for item in items:
            if item.trigger == trigger and (item.when is None or item.when.holds(facts)):
                return item
        return None

    # ------------------------------------------------------------ decisions

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``points:<entry id>``: the entry, its rule(s) and inputs."""
        if not decision.startswith(NAME + ":"):
            return None
        entry_id = decision[len(NAME) + 1:]
        entry = self.entries.get(entry_id) or self._find_derived(entry_id)
        if entry is None:
            return None
        rules = self._extra_rules.get(entry.id) or ((entry.rule,) if entry.rule is not None else ())
        inputs = dict(entry.inputs)
        inputs.update({"member": entry.member, "node": entry.node, "time": entry.time.isoformat()})
        if entry.cause:
            inputs["event"] = entry.cause
        if entry.id in self._taken:
            inputs["taken_from"] = ", ".join(f"{lot} ({n})" for lot, n in self._taken[entry.id])
        return Explanation(
            decision=decision,
            summary=f"{entry.kind} {entry.amount:+d} for {entry.member}: {entry.summary}",
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
            rules = {entry.rule for entry in account.entries if entry.rule is not None}
            totals = ledger.totals(account.entries)
            outcomes.append(
                Outcome(
                    plugin=NAME,
                    subject=f"member:{account.member}:balance",
                    value=account.balance,
                    rules=tuple(sorted(rules, key=lambda r: (r.file, r.line, r.column))),
                    detail=f"earned {totals['earned']}, redeemed {totals['redeemed']}, expired {totals['expired']}",
                )
            )
        return outcomes



def _plain(value: float) -> int | float:
    """A number as it reads (3, not 3.0), the same however it was decoded."""
    return int(value) if float(value).is_integer() else float(value)
