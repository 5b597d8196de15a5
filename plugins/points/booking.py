"""Booking: what each accepted event earns, spends or flags, in the ledger.

Activities (item, scale, tilts, caps), redemptions (first in, first out),
recognition awards and incident points (when an incident is first closed).
Every entry carries the rule that decided it and the inputs it saw.  These are
methods of the points state (``PointsState`` mixes ``Booking`` in).
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

from gridcore.events import SYSTEM_ACTOR, ActivityRecorded, Event
from gridcore.periods import KINDS, add_months
from gridcore.rules.checker import did_you_mean
from gridcore_escalation.events import ConsultationHeld, IncidentClosed

from . import ledger
from .deduction import Deductions
from .events import PointsRedeemed, RecognitionAwarded
from .ledger import Account, Entry
from .policy import IncidentItem, PointsPolicy, round_points
from .tracking import Claim, IncidentTrack


class Booking(Deductions):
    """What an accepted event books (a mixin of ``PointsState``)."""

    def book(
        self,
        account: Account,
        entry: Entry,
        policy: PointsPolicy | None,
        caps: tuple[str, ...] = (),
        rules: tuple[Any, ...] | None = None,
    ) -> None:
        """Add ``entry`` to the ledger once (an id booked in the open part is ignored); credits open a lot.

        ``rules``: every rule behind it, when its own rule is not all.  Event ids
        are unique in a store and an event is applied once, so the guard only
        protects against booking one entry twice within one event.
        """
        if entry.id in self.history.guarded:
            return
        if entry.kind in ledger.CREDITS:
            expiry = policy.expiry if policy is not None else None
            expires = add_months(entry.time, expiry.months, self.tz) if expiry is not None else None
            account.credit(
                entry,
                expires=expires,
                expiry_rule=expiry.rule if expiry is not None else None,
                caps_scopes=caps,
                calendar=self.calendar,
                rules=rules,
            )
        else:
            account.add(entry, rules=rules)

    def flag(
        self,
        account: Account,
        event: Event,
        rule: Any,
        summary: str,
        entry_id: str | None = None,
        **inputs: Any,
    ) -> None:
        """Book a zero-amount flag: the claim earns nothing and is listed for review."""
        self.book(account,
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

    def on_activity(self, event: ActivityRecorded) -> None:
        """Book what an activity earns: guards, the first matching scale, tilts, caps."""
        policy = self.policy_at(event.time, event.node)
        if policy is None:
            return
        items = self.items_for(policy, event.activity)
        member = event.participant
        if not items:
            # Not on the points item list: often a misspelling. Earns nothing, but
            # is listed with the flags so staff see it instead of losing it.
            known = sorted({name for item in policy.activities for name in item.names()})
            close = did_you_mean(event.activity, known)
            hint = f" (did you mean {close}?)" if close else ""
            account = self.account(member)
            account.advance(event.time, self.policy_at, self.calendar, self.now_key)
            self.flag(account, event, None,
                 f"{event.activity} is not on the points item list{hint}: no points, flagged",
                 activity=event.activity)
            return
        account = self.account(member)
        account.advance(event.time, self.policy_at, self.calendar, self.now_key)
        guard = policy.guard("duplicate")
        if guard is not None:
            earlier = self.duplicate_of(member, items[0], event, guard.window)
            if earlier is not None:
                self.flag(account,
                    event,
                    guard.rule,
                    f"{items[0].activity} claimed again (earlier claim {earlier}): no points, flagged",
                    earlier=earlier,
                    activity=event.activity,
                )
                return
        guard = policy.guard("self_recorded")
        if guard is not None and self.self_recorded(event):  # type: ignore[attr-defined]  # from Checks
            self.flag(account,
                event,
                guard.rule,
                f"{event.activity} recorded by {member} for themselves, not by an organiser: no points, flagged",
                activity=event.activity,
            )
            return
        guard = policy.guard("outside_cells")
        if guard is not None and not self.in_cells(member, event.node):
            self.flag(account,
                event,
                guard.rule,
                f"{event.activity} at {event.node}, outside {member}'s cells: no points, flagged",
                node=event.node,
                activity=event.activity,
            )
            return
        periods, ends = self.calendar.periods_and_ends(event.time)
        self.claims.add(
            member,
            items[0].activity,
            Claim(event.id, event.time, event.time + timedelta(hours=event.hours), periods["day"][0]),
            ends["day"],
        )
        facts = self.facts(event, member)
        item = next((i for i in items if i.when is None or i.when.holds(facts)), None)
        if item is None:
            self.book(account,
                Entry(
                    id=event.id,
                    kind="earn",
                    amount=0,
                    member=member,
                    node=event.node,
                    time=event.time,
                    rule=items[0].rule,
                    cause=event.id,
                    activity=items[0].activity,
                    summary=f"{event.activity}: no item's condition holds, no points",
                    inputs=facts.show(
                        tuple(sorted({r for i in items if i.when for r in i.when.reads}))
                    ),
                ),
                policy,
            )
            return
        base = item.amount.of(event.hours, event.quantity, facts)
        inputs: dict[str, Any] = {
            "activity": event.activity,
            "hours": _plain(event.hours),
            "quantity": _plain(event.quantity),
        }
        reads = set(item.when.reads if item.when else ()) | set(
            item.amount.formula.reads if item.amount.formula else ()
        )
        inputs.update(facts.show(tuple(sorted(reads))))
        if item.when is not None:
            inputs["condition"] = item.when.text
        self.earn(account,
            event,
            policy,
            item.activity,
            base,
            item.rule,
            item.caps,
            inputs,
            f"{event.activity}: {item.amount.worked(event.hours, event.quantity, base)}",
        )
        if base >= 0:  # a deduction is no activity toward a streak
            account.mark_active(event.time, event.node, self.calendar)

    def earn(
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
        """Apply tilts and caps to ``base`` and book the earning with every rule behind it.

        A negative ``base`` is a deduction (``deduct``: no tilts, no caps, the floor).
        """
        if base < 0:
            self.deduct(account, event, policy, scope, base, rule, inputs, summary, entry_id)
            return
        member = account.member
        rules = [rule]
        factor: Fraction | int = 1
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
        # Exact until the entry is booked, then rounded half up once per entry:
        # the ledger, the board and the statement hold whole points.
        exact = base * factor if factor != 1 else base
        amount = round_points(exact)
        rounded = amount
        if exact.denominator != 1:
            inputs["exact"] = f"{exact.numerator}/{exact.denominator} = {float(exact):g}"
        inputs["rounded"] = rounded
        if factor != 1:
            summary += f" x {float(factor):g}"
        if exact.denominator != 1:
            summary += f" = {float(exact):g}, rounded to {rounded}"
        periods = self.calendar.periods(event.time)
        for cap, cap_scope in [(c, scope) for c in caps] + [(c, "*") for c in policy.caps]:
            room = cap.limit - account.earned_in(cap_scope, cap.period, periods[cap.period][0])
            if amount > room:
                amount = max(room, 0)
                rules.append(cap.rule)
                what = "all points" if cap_scope == "*" else cap_scope
                inputs[f"cap {what} per {cap.period}"] = f"{cap.limit}, {max(room, 0)} left"
        if amount < rounded:
            summary += f"{'' if exact.denominator != 1 else f' = {rounded}'}, cut to {amount} by a cap"
        elif exact.denominator == 1:
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
        self.book(account, entry, policy, caps=(scope, "*"), rules=tuple(dict.fromkeys(rules)))

    def on_redemption(self, event: PointsRedeemed) -> None:
        """Spend the reward's price from the oldest lots (or flag it if a rebuild left it uncovered)."""
        policy = self.policy_at(event.time, event.node)
        reward = policy.reward(event.reward) if policy is not None else None
        member = event.redeemer
        account = self.account(member)
        account.advance(event.time, self.policy_at, self.calendar, self.now_key)
        if reward is None:
            self.flag(account, event, None, f"redemption of unknown reward {event.reward!r} not booked"
            )
            return
        cost = reward.price * event.quantity
        if cost > account.balance:
            # Only possible when a late event changed history: book nothing, say so.
            self.uncovered += 1
            self.flag(account,
                event,
                reward.rule,
                f"redemption of {event.quantity} x {reward.name} not covered after replay "
                f"({account.balance} points, {cost} needed): not booked",
            )
            return
        entry = Entry(
            id=event.id,
            kind="redeem",
            amount=-cost,
            member=member,
            node=event.node,
            time=event.time,
            rule=reward.rule,
            cause=event.id,
            summary=f"redeemed {event.quantity} x {reward.name} at {reward.price} points",
            inputs={
                "reward": reward.name,
                "quantity": event.quantity,
                "price": reward.price,
                "balance_before": account.balance,
            },
        )
        account.debit(entry)
        self.stock_used[reward.name] = self.stock_used.get(reward.name, 0) + event.quantity
        periods, ends = self.calendar.periods_and_ends(event.time)
        for period in KINDS:
            self.redeemed_by.add((member, reward.name, period), periods[period][0], event.quantity, ends[period])

    def on_recognition(self, event: RecognitionAwarded) -> None:
        """Book a leader's award (or flag an award to themselves) and spend the budget."""
        policy = self.policy_at(event.time, event.node)
        rule = policy.recognition if policy is not None else None
        account = self.account(event.member)
        account.advance(event.time, self.policy_at, self.calendar, self.now_key)
        if rule is None:
            self.flag(account,
                event,
                None,
                "recognition award with no recognition rule in force: not booked",
            )
            return
        grid = self.budget_node(event.node, rule.level) or event.node
        periods, ends = self.calendar.periods_and_ends(event.time)
        label = periods[rule.period][0]
        if event.actor == event.member:
            guard = policy.guard("self_award") if policy is not None else None
            self.flag(account,
                event,
                guard.rule if guard is not None else rule.rule,
                f"{event.actor} awarded points to themselves: no points, flagged",
                reason=event.reason,
            )
            return
        used = self.recognition_spent.add((grid, rule.period), label, event.points, ends[rule.period])
        self.book(account,
            Entry(
                id=event.id,
                kind="recognition",
                amount=event.points,
                member=event.member,
                node=event.node,
                time=event.time,
                rule=rule.rule,
                cause=event.id,
                summary=f"recognition by {event.actor}: {event.reason}",
                inputs={
                    "awarded_by": event.actor,
                    "reason": event.reason,
                    "budget_node": grid,
                    "budget_period": label,
                    "budget_used": used,
                    "budget": rule.budget,
                },
            ),
            policy,
        )

    def on_closed(self, event: IncidentClosed) -> None:
        """Pay the reporter and the resolver when an incident is first closed, unless it was self-closed."""
        # Paid once: a settled incident is forgotten, only its id is kept.
        track = self.incidents.pop(event.incident, None)
        if track is None:
            return
        self.settled.add(event.incident)
        policy = self.policy_at(event.time, event.node)
        if policy is None or not policy.incidents:
            return
        payees = []
        if track.verified and track.reporter != SYSTEM_ACTOR:
            item = self.incident_item(policy.incidents, "confirmed_report", track, event, track.reporter
            )
            if item is not None:
                payees.append(("reporter", track.reporter, item))
        if track.resolver is not None and track.resolver != SYSTEM_ACTOR:
            item = self.incident_item(policy.incidents, "resolved", track, event, track.resolver)
            if item is not None:
                payees.append(("resolver", track.resolver, item))
        guard = policy.guard("self_closed")
        if guard is not None and track.reporter in (track.resolver, event.actor):
            account = self.account(track.reporter)
            account.advance(event.time, self.policy_at, self.calendar, self.now_key)
            self.flag(account,
                event,
                guard.rule,
                f"incident {event.incident} {_self_closed_steps(track.reporter, track.resolver, event.actor)}: "
                "no points, flagged",
                entry_id=f"{event.id}:flag",
                incident=event.incident,
                reporter=track.reporter,
                resolver=track.resolver,
                closer=event.actor,
            )
            return
        for role, member, item in payees:
            account = self.account(member)
            account.advance(event.time, self.policy_at, self.calendar, self.now_key)
            facts = self.facts(event, member, track)
            inputs: dict[str, Any] = {"incident": event.incident, "as": role}
            if item.when is not None:
                inputs.update(facts.show(item.when.reads))
                inputs["condition"] = item.when.text
            self.earn(account,
                event,
                policy,
                f"incident:{item.trigger}",
                Fraction(item.points),
                item.rule,
                (),
                inputs,
                f"incident {event.incident} ({track.category}), {role}: {item.points}",
                entry_id=f"{event.id}:{role}",
            )

    def on_consultation(self, event: ConsultationHeld) -> None:
        """Pay each participant of a consultation (会商) the ``consultation`` item says, once per event."""
        track = self.incidents.get(event.incident)
        policy = self.policy_at(event.time, event.node)
        if track is None or policy is None or not policy.incidents:
            return
        for member in event.participants:
            if member == SYSTEM_ACTOR:
                continue
            item = self.incident_item(policy.incidents, "consultation", track, event, member)
            if item is None:
                continue
            account = self.account(member)
            account.advance(event.time, self.policy_at, self.calendar, self.now_key)
            inputs: dict[str, Any] = {"incident": event.incident, "as": "participant",
                                      "decision": event.decision}
            if item.when is not None:
                inputs.update(self.facts(event, member, track).show(item.when.reads))
                inputs["condition"] = item.when.text
            self.earn(account, event, policy, "incident:consultation", Fraction(item.points), item.rule, (),
                      inputs, f"consultation on incident {event.incident} ({track.category}): {item.points}",
                      entry_id=f"{event.id}:{member}")

    def incident_item(
        self,
        items: tuple[IncidentItem, ...],
        trigger: str,
        track: IncidentTrack,
        event: Event,
        member: str,
    ) -> IncidentItem | None:
        """The first incident item of ``trigger`` whose condition holds for ``member``."""
        facts = self.facts(event, member, track)
        for item in items:
            if item.trigger == trigger and (item.when is None or item.when.holds(facts)):
                return item
        return None


def _plain(value: float) -> int | float:
    """A number as it reads (3, not 3.0), the same however it was decoded."""
    return int(value) if float(value).is_integer() else float(value)


def _self_closed_steps(reporter: str, resolver: str | None, closer: str) -> str:
    """``reported and resolved by X``: the steps the reporter took on their own incident."""
    steps = [s for s, who in (("resolved", resolver), ("closed", closer)) if who == reporter]
    words = ["reported", *steps]
    return f"{', '.join(words[:-1])} and {words[-1]} by {reporter}"
