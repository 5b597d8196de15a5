"""Refusals: what the points rules say no to, before anything changes.

Duplicate and out-of-cell claims (when the ruleset says ``refuse``), bad
redemptions (unknown or out-of-window reward, no stock, limit reached,
balance too low) and recognition awards outside the rules.  A redemption or
award dated before what was already applied is judged at its own place in
history (``check_late``).  Nothing here changes the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from gridcore.events import ActivityRecorded, Event
from gridcore.periods import period_key
from gridcore_points.events import PointsRedeemed, RecognitionAwarded
from gridcore_points.policy import ActivityItem

if TYPE_CHECKING:
    from .state import PointsState


def later_events(state: PointsState, event: Event) -> list[Event]:
    """Stored events that come after ``event`` but this state has not seen.

    The engine judges a late event with every plugin rewound to just before
    it, so what follows is only in the store.
    """
    if state.is_scratch:
        return []
    after = [e for e in state.engine.events(since=event.time) if (e.time, e.id) > (event.time, event.id)]
    if not after:  # the usual case, recording in order: nothing to look at
        return []
    seen = {e.id for e in state.seen}
    return [e for e in after if e.id not in seen]


def check_late(state: PointsState, event: Event, future: Sequence[Event] = ()) -> list[str]:
    """Judge an event older than what was applied at its own place in history.

    Balances, stock and budgets at its time differ from now, and spending
    earlier also spends from every later balance: replay what this state
    has seen, and ``future`` (what comes after it in the store), with the
    event inserted, on a scratch state.
    """
    from .state import PointsState

    scratch = PointsState(state.engine)
    scratch.is_scratch = True
    inserted = False
    for seen in sorted([*state.seen, *future, event], key=lambda e: (e.time, e.id)):
        if seen is event:
            inserted = True
            reasons = scratch.gridcore_validate_event(state.engine, event)
            if reasons:
                return reasons
        scratch.gridcore_on_event(state.engine, seen, True)
    assert inserted
    if scratch.uncovered > state.uncovered:
        reason = (
            f"{event.id} is dated {event.time.isoformat()}, before later redemptions that it "
            "would leave without enough points; record it with a later time "
            "(补录的兑换会使之后的兑换积分不足，请按较晚的时间登记)"
        )
        return [reason]
    return []


#: One record of an activity covers at most a day; longer work is recorded day by day.
MAX_HOURS = 24


def check_activity(state: PointsState, event: ActivityRecorded) -> list[str]:
    """Reasons to refuse an activity: who records it, its hours, duplicate or out-of-cell claims."""
    reasons = check_recorder(state, event)
    if event.hours > MAX_HOURS:
        reasons.append(
            f"{event.activity} lasted {_hours(event.hours)} hours in one record, but one record covers "
            f"at most {MAX_HOURS} hours; record each day on its own "
            f"(一条记录最多 {MAX_HOURS} 小时，请按天分别记录)"
        )
    policy = state.policy_at(event.time)
    if policy is None:
        return reasons
    items = policy.items_for(event.activity)
    if not items:
        return reasons
    per_hour = next((i for i in items if i.amount.per_hour), None)
    if per_hour is not None and not event.hours:
        reasons.append(
            f"{per_hour.activity} earns points per hour (rule {per_hour.rule}), but the record "
            "gives no hours; record how long it took (hours: 2) (按小时计分的活动须填写时长)"
        )
    member = event.participant
    guard = policy.guard("duplicate")
    if guard is not None and guard.action == "refuse":
        earlier = duplicate_of(state, member, items[0], event, guard.window)
        if earlier is not None:
            reasons.append(
                f"{member} already claimed {items[0].activity} "
                f"({'the same day' if guard.window == 'day' else 'at an overlapping time'}) "
                f"in event {earlier}; refused by rule {guard.rule} "
                f"({'当天' if guard.window == 'day' else '同一时段'}已申报过同一活动，不能重复申报)"
            )
    guard = policy.guard("outside_cells")
    if guard is not None and guard.action == "refuse" and not state.in_cells(member, event.node):
        reasons.append(f"{event.node} is outside {member}'s cells; refused by rule {guard.rule} "
                       "(活动不在其所属的网格内)")
    return reasons


def is_staff_at(state: PointsState, person: str, node: str) -> bool:
    """True if ``person`` holds a staff role (any but ``resident``) at ``node`` or above."""
    community = state.engine.community
    staff = [role for role in community.roles if role != "resident"]
    return bool(staff) and bool(community.holds_role_at_or_above(person, node, staff))


def check_recorder(state: PointsState, event: ActivityRecorded) -> list[str]:
    """A member records their own activity; only staff at the node or above record someone else's."""
    member = event.participant
    if event.actor == member or is_staff_at(state, event.actor, event.node):
        return []
    return [
        (f"{event.actor} may not record {event.activity} for {member}: {event.actor} holds no role at "
        f"{event.node} or above (a resident records only their own activities; staff of the cell "
        "record them for others) (居民只能登记本人的活动，代他人登记须由所在网格的工作人员登记)")
    ]


def check_redeemer(state: PointsState, event: PointsRedeemed) -> list[str]:
    """The member spends their own points; staff of the member's home (or the node) may record it."""
    member = event.redeemer
    if event.actor == member:
        return []
    community = state.engine.community
    home = state.engine.residents().get(member)
    if home is None and member in community.members:
        home = community.member(member).home
    place = home if home is not None and home in community.hierarchy else event.node
    if is_staff_at(state, event.actor, place):
        return []
    return [
        (f"{event.actor} may not redeem {member}'s points: only {member}, or staff holding a role "
        f"at {place} or above, may (积分只能由本人或其所在网格的工作人员兑换)")
    ]


def duplicate_of(
    state: PointsState, member: str, item: ActivityItem, event: ActivityRecorded, window: str
) -> str | None:
    """The id of an earlier claim of the same activity by ``member`` in the window, if any."""
    start = event.time
    end = start + timedelta(hours=event.hours)
    day = period_key("day", start, state.tz)
    claims = state.claims.get((member, item.activity), [])
    if window == "day":
        # Claims are kept in canonical (time) order, so only the newest can be
        # on the same day: stop at the first earlier day.
        same_day = None
        for claim in reversed(claims):
            if claim.day < day:
                break
            if claim.day == day and claim.event_id != event.id:
                same_day = claim.event_id
        return same_day
    for claim in claims:
        if claim.event_id == event.id:
            continue
        if window == "overlap" and (
            (claim.start < end and start < claim.end) or claim.start == start
        ):
            return claim.event_id
    return None


def check_redemption(state: PointsState, event: PointsRedeemed) -> list[str]:
    """Reasons to refuse a redemption (every one of them), judged at the event's time."""
    forged = check_redeemer(state, event)
    if forged:
        return forged
    policy = state.policy_at(event.time)
    if policy is None:
        return [
            (f"no points rules are in force at {event.time.isoformat()}, so nothing can be redeemed "
            "(当时没有生效的积分规则，不能兑换)")
        ]
    reward = policy.reward(event.reward)
    if reward is None:
        names = ", ".join(r.name for r in policy.rewards) or "none"
        return [f"unknown reward {event.reward!r} (the rewards list has: {names}) (积分礼遇清单中没有这一项)"]
    reasons = []
    local_day = event.time.astimezone(state.tz).date()
    if reward.valid_from is not None and local_day < reward.valid_from:
        reasons.append(
            f"{reward.name} is not available before {reward.valid_from.isoformat()} (rule {reward.rule}) "
            "(尚未到兑换开始日期)"
        )
    if reward.valid_until is not None and local_day > reward.valid_until:
        reasons.append(
            f"{reward.name} expired on {reward.valid_until.isoformat()} (rule {reward.rule}) (已过兑换截止日期)"
        )
    if reward.stock is not None:
        left = reward.stock - state.stock_used.get(reward.name, 0)
        if event.quantity > left:
            reasons.append(
                f"not enough {reward.name} in stock: {left} left, {event.quantity} asked (rule {reward.rule}) "
                "(库存不足)"
            )
    member = event.redeemer
    if reward.limit is not None and reward.limit_period is not None:
        label = period_key(reward.limit_period, event.time, state.tz)
        had = state.redeemed_by.get((member, reward.name, f"{reward.limit_period}:{label}"), 0)
        if had + event.quantity > reward.limit:
            reasons.append(
                f"limit reached: at most {reward.limit} {reward.name} per {reward.limit_period} "
                f"per member, {member} already has {had} in {label} (rule {reward.rule}) (已达兑换次数上限)"
            )
    cost = reward.price * event.quantity
    balance = state.view(member, event.time).balance
    if balance < cost:
        reasons.append(
            f"insufficient balance: {member} has {balance} points, "
            f"{event.quantity} x {reward.name} costs {cost} (rule {reward.rule}) (积分不足)"
        )
    return reasons


def check_recognition(state: PointsState, event: RecognitionAwarded) -> list[str]:
    """Reasons to refuse a recognition award: rule, role, self-award, member, budget."""
    policy = state.policy_at(event.time)
    rule = policy.recognition if policy is not None else None
    if policy is None or rule is None:
        return ["the points rules in force allow no recognition awards (现行积分规则没有表扬加分)"]
    community = state.engine.community
    reasons = []
    if not state.engine.knows_person(event.member):
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
    grid = state.budget_node(event.node, rule.level)
    label = period_key(rule.period, event.time, state.tz)
    if grid is None:
        reasons.append(
            f"the recognition rule {rule.rule} budgets per {rule.level!r}, "
            f"which is not a level of {community.name} (表扬加分预算所按的层级在本社区不存在)"
        )
        return reasons
    spent = state.recognition_spent.get((grid, label), 0)
    if spent + event.points > rule.budget:
        reasons.append(
            f"recognition budget of {grid} for {label} exhausted: {rule.budget - spent} of "
            f"{rule.budget} points left, {event.points} asked (rule {rule.rule}) (表扬加分额度已用完)"
        )
    return reasons


def _hours(value: float) -> str:
    """Hours as written (``1000000``, ``2.5``), never in exponent form."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
