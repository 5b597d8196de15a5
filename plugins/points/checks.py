"""Refusals: what the points rules say no to, before anything changes.

Duplicate and out-of-cell claims (when the ruleset says ``refuse``), bad
redemptions (unknown or out-of-window reward, no stock, limit reached,
balance too low) and recognition awards outside the rules.  A redemption or
award dated before what was already applied is judged at its own place in
history (``check_late``).  Nothing here changes the state; these are
methods of the points state (``PointsState`` mixes ``Checks`` in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gridcore.events import ActivityRecorded, Event

from .events import PointsRedeemed, RecognitionAwarded
from .records import Records
from .tracking import claim_end

if TYPE_CHECKING:
    from gridcore import Engine

#: One record of an activity covers at most a day; longer work is recorded day by day.
MAX_HOURS = 24


class Checks(Records):
    """What the points rules refuse (a mixin of ``PointsState``); nothing here changes the state."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        #: the activity last checked whose item is on the list: (the event, its policy and pricing, and if
        #: checked against a refusing duplicate guard its day's ``periods_and_ends``, its end, the claims that
        #: held no duplicate of it (None: one) and their ``added`` then; else five Nones): what booking it
        #: (``Booking.on_activity``) would work out again
        self._judged: tuple[Any, ...] | None = None
        #: ``is_staff_at`` answers of one community (the roster does not change under it), bounded
        self._staff_at: tuple[object, dict[tuple[str, str], bool]] = (None, {})

    def later_events(self, event: Event) -> list[Event]:
        """Stored events that come after ``event`` but this state has not applied.

        The engine judges a late event with every plugin rewound to just before
        it, so what follows is only in the store.  A state applies events in
        canonical order, so it has applied exactly those up to ``last_order``.
        Those a replay gives no plugin (``Engine.ignored_stored``: a step a late
        event made refusable in time order) are left out.
        When the engine's state holds every stored event (``Engine.caught_up``:
        no rewind or replay under way, the case of every event ingested in
        order), nothing stored comes after ``last_order`` and the store is not
        asked (it was one query, a round trip on PostgreSQL, per redemption).
        """
        if self.is_scratch or self.engine.caught_up:
            return []
        mark = (event.time, event.id)
        if self.last_order is not None and self.last_order > mark:
            mark = self.last_order
        # (a stored event a replay gives no plugin, as the engine last judged it, pays and spends nothing)
        ignored = self.engine.ignored_stored
        return [e for e in self.engine.events(since=event.time) if (e.time, e.id) > mark and not ignored(e.id)]

    def check_late(self, event: Event, future: Sequence[Event] = ()) -> list[str]:
        """Judge an event older than what was applied at its own place in history.

        Balances, stock and budgets at its time differ from now, and spending
        earlier also spends from every later balance: on a scratch copy of
        what this state holds now (everything before the event), apply the
        event and then ``future`` (what comes after it in the store).
        """
        scratch = self.scratch()
        reasons = scratch.check_event(event)
        if reasons:
            return reasons
        for later in sorted([event, *future], key=lambda e: (e.time, e.id)):
            scratch.apply(later)
        if scratch.uncovered > self.uncovered:
            reason = (
                f"{event.id} is dated {event.time.isoformat()}, before later redemptions that it "
                "would leave without enough points; record it with a later time "
                "(补录的兑换会使之后的兑换积分不足，请按较晚的时间登记)"
            )
            return [reason]
        return []

    def check_activity(self, event: ActivityRecorded) -> list[str]:
        """Reasons to refuse an activity: who records it, its hours, duplicate or out-of-cell claims."""
        member = event.member or event.actor  # (``event.participant``)
        # (``check_recorder``'s answer for a member recording their own activity, without its call)
        reasons = [] if event.actor == member else self.check_recorder(event)
        if event.hours > MAX_HOURS:
            reasons.append(
                f"{event.activity} lasted {_hours(event.hours)} hours in one record, but one record covers "
                f"at most {MAX_HOURS} hours; record each day on its own "
                f"(一条记录最多 {MAX_HOURS} 小时，请按天分别记录)"
            )
        policy = self.policy_at(event.time, event.node)
        if policy is None:
            return reasons
        pricing = policy.pricing(event.activity)
        if pricing is None:
            return reasons
        items = pricing.items
        per_hour = pricing.per_hour
        if per_hour is not None and not event.hours:
            reasons.append(
                f"{per_hour.activity} earns points per hour (rule {per_hour.rule}), but the record "
                "gives no hours; record how long it took (hours: 2) (按小时计分的活动须填写时长)"
            )
        duplicate, self_recorded, outside_cells = pricing.guards
        guard = duplicate
        if guard is None or guard.action != "refuse":
            self._judged = (event, policy, pricing, None, None, None, None, None)
        else:
            # (what applying the event works out again: kept for it, ``judged``)
            periods, ends = self.calendar.periods_and_ends(event.time)
            end = claim_end(event.time, event.hours)
            claims = self.claims
            earlier = claims.duplicate_of(member, items[0].activity, event.id, event.time, end,
                                          periods["day"][0], guard.window)
            self._judged = (event, policy, pricing, periods, ends, end, claims if earlier is None else None,
                            claims.added)
            if earlier is not None:
                reasons.append(
                    f"{member} already claimed {items[0].activity} "
                    f"({'the same day' if guard.window == 'day' else 'at an overlapping time'}) "
                    f"in event {earlier}; refused by rule {guard.rule} "
                    f"({'当天' if guard.window == 'day' else '同一时段'}已申报过同一活动，不能重复申报)"
                )
        guard = outside_cells
        if guard is not None and guard.action == "refuse" and not self.in_cells(member, event.node):
            reasons.append(f"{event.node} is outside {member}'s cells; refused by rule {guard.rule} "
                           "(活动不在其所属的网格内)")
        guard = self_recorded
        if guard is not None and guard.action == "refuse" and self.self_recorded(event):
            reasons.append(
                f"{member} recorded {event.activity} for themselves, but an organiser (staff holding a role at "
                f"{event.node} or above) must record it for them; refused by rule {guard.rule} "
                "(活动须由组织者登记确认，不能自行申报)"
            )
        return reasons

    def forget_policies(self) -> None:
        """Forget the policy ``policy_at`` last gave, and the last activity checked (a ruleset was put in
        force)."""
        super().forget_policies()
        self._judged = None

    def self_recorded(self, event: ActivityRecorded) -> bool:
        """True for an activity its member recorded for themselves without being staff at its node."""
        return event.actor == event.participant and not self.is_staff_at(event.actor, event.node)

    def is_staff_at(self, person: str, node: str) -> bool:
        """True if ``person`` holds a staff role (any but ``resident``) at ``node`` or above."""
        community = self.engine.community
        known, answers = self._staff_at
        if known is not community:
            answers = {}
            self._staff_at = (community, answers)
        found = answers.get((person, node))
        if found is None:
            if len(answers) >= 65536:
                answers.clear()
            staff = [role for role in community.roles if role != "resident"]
            found = answers[(person, node)] = bool(staff) and bool(
                community.holds_role_at_or_above(person, node, staff))
        return found

    def check_recorder(self, event: ActivityRecorded) -> list[str]:
        """A member records their own activity; only staff at the node or above record someone else's."""
        member = event.participant
        if event.actor == member or self.is_staff_at(event.actor, event.node):
            return []
        return [
            (f"{event.actor} may not record {event.activity} for {member}: {event.actor} holds no role at "
            f"{event.node} or above (a resident records only their own activities; staff of the cell "
            "record them for others) (居民只能登记本人的活动，代他人登记须由所在网格的工作人员登记)")
        ]

    def check_redeemer(self, event: PointsRedeemed) -> list[str]:
        """The member spends their own points; staff of the member's home (or the node) may record it."""
        member = event.redeemer
        if event.actor == member:
            return []
        community = self.engine.community
        home = self.homes.get(member)
        if home is None and member in community.members:
            home = community.member(member).home
        place = home if home is not None and home in community.hierarchy else event.node
        if self.is_staff_at(event.actor, place):
            return []
        return [
            (f"{event.actor} may not redeem {member}'s points: only {member}, or staff holding a role "
            f"at {place} or above, may (积分只能由本人或其所在网格的工作人员兑换)")
        ]

    def check_redemption(self, event: PointsRedeemed) -> list[str]:
        """Reasons to refuse a redemption (every one of them), judged at the event's time."""
        forged = self.check_redeemer(event)
        if forged:
            return forged
        policy = self.policy_at(event.time, event.node)
        if policy is None:
            return [(
                f"no points rules are in force at {event.time.isoformat()}, so nothing can be redeemed "
                "(当时没有生效的积分规则，不能兑换)"
            )]
        reward = policy.reward(event.reward)
        if reward is None:
            names = ", ".join(r.name for r in policy.rewards) or "none"
            return [f"unknown reward {event.reward!r} (the rewards list has: {names}) (积分礼遇清单中没有这一项)"]
        reasons = []
        # (the local day only for a reward with a window: most have none)
        local_day = (self.engine.local_date(event.time)
                     if reward.valid_from is not None or reward.valid_until is not None else None)
        if reward.valid_from is not None and local_day is not None and local_day < reward.valid_from:
            reasons.append(
                f"{reward.name} is not available before {reward.valid_from.isoformat()} (rule {reward.rule}) "
                "(尚未到兑换开始日期)"
            )
        if reward.valid_until is not None and local_day is not None and local_day > reward.valid_until:
            reasons.append(
                f"{reward.name} expired on {reward.valid_until.isoformat()} (rule {reward.rule}) (已过兑换截止日期)"
            )
        if reward.stock is not None:
            left = reward.stock - self.stock_used.get(reward.name, 0)
            if event.quantity > left:
                reasons.append(
                    f"not enough {reward.name} in stock: {left} left, {event.quantity} asked (rule {reward.rule}) "
                    "(库存不足)"
                )
        member = event.redeemer
        if reward.limit is not None and reward.limit_period is not None:
            label = self.calendar.label(reward.limit_period, event.time)
            had = self.redeemed_by.get((member, reward.name, reward.limit_period), label)
            if had + event.quantity > reward.limit:
                reasons.append(
                    f"limit reached: at most {reward.limit} {reward.name} per {reward.limit_period} "
                    f"per member, {member} already has {had} in {label} (rule {reward.rule}) (已达兑换次数上限)"
                )
        cost = reward.price * event.quantity
        balance = self.balance_at(member, event.time)
        if balance < cost:
            reasons.append(
                f"insufficient balance: {member} has {balance} points, "
                f"{event.quantity} x {reward.name} costs {cost} (rule {reward.rule}) (积分不足)"
            )
        return reasons

    def check_recognition(self, event: RecognitionAwarded) -> list[str]:
        """Reasons to refuse a recognition award: rule, role, self-award, member, budget."""
        policy = self.policy_at(event.time, event.node)
        rule = policy.recognition if policy is not None else None
        if policy is None or rule is None:
            return ["the points rules in force allow no recognition awards (现行积分规则没有表扬加分)"]
        community = self.engine.community
        reasons = []
        if not self.engine.knows_person(event.member):
            reasons.append(f"unknown member {event.member!r} (人员不在花名册中，也不是已登记的居民)")
        if not community.holds_role_at_or_above(event.actor, event.node, roles=rule.roles):
            reasons.append(
                f"{event.actor} may not award points at {event.node}: only {', '.join(rule.roles)} "
                f"at or above it may (rule {rule.rule}) (无权在此表扬加分)"
            )
        guard = policy.guard("self_award")
        if event.actor == event.member and (guard is None or guard.action == "refuse"):
            where = (
                f"rule {guard.rule}"
                if guard is not None
                else "a leader never awards points to themselves"
            )
            reasons.append(f"{event.actor} may not award points to themselves ({where}) (不能给自己加分)")
        grid = self.budget_node(event.node, rule.level)
        label = self.calendar.label(rule.period, event.time)
        if grid is None:
            reasons.append(
                f"the recognition rule {rule.rule} budgets per {rule.level!r}, "
                f"which is not a level of {community.name} (表扬加分预算所按的层级在本社区不存在)"
            )
            return reasons
        spent = self.recognition_spent.get((grid, rule.period), label)
        if spent + event.points > rule.budget:
            reasons.append(
                f"recognition budget of {grid} for {label} exhausted: {rule.budget - spent} of "
                f"{rule.budget} points left, {event.points} asked (rule {rule.rule}) (表扬加分额度已用完)"
            )
        return reasons


def _hours(value: float) -> str:
    """Hours as written (``1000000``, ``2.5``), never in exponent form."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
