"""Booking: what each accepted event earns, spends or flags, in the ledger.

Activities (item, scale, tilts, caps), redemptions (first in, first out),
recognition awards and incident points (when an incident is first closed).
Every entry carries the rule that decided it and the inputs it saw.  These are
methods of the points state (``PointsState`` mixes ``Booking`` in).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from gridcore.events import SYSTEM_ACTOR, ActivityRecorded, Event
from gridcore.periods import KINDS, add_months, shift_months
from gridcore.rules.checker import did_you_mean
from gridcore_escalation.events import ConsultationHeld, IncidentClosed

from . import ledger
from .deduction import Deductions
from .events import PointsRedeemed, RecognitionAwarded
from .facts import Facts
from .ledger import Account, Entry, Record, keep_key, note_key, utc_key
from .policy import ActivityItem, Cap, IncidentItem, PointsPolicy, Tilt, round_points
from .section import SECTION
from .tracking import IncidentTrack, claim_end

_combine = datetime.combine

if TYPE_CHECKING:
    from gridcore import Engine

    from .caps import CapCount

#: the cap counters of a member without an account yet (``on_activity``): none
_NO_COUNTS: MappingProxyType[str, CapCount] = MappingProxyType({})


class Booking(Deductions):
    """What an accepted event books (a mixin of ``PointsState``)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        #: the kinds of span some streak of a ruleset in force is over (None: to be worked out)
        self._streak_spans: frozenset[str] | None = None
        #: per policy (by its id), with the policy and the community: ``Tilted`` by (roster member or
        #: roles, node), and
        #: the one ``Tilted`` of each pair of tilts (by the tilts' ids and the level shown)
        self._tilts: dict[int, tuple[PointsPolicy, object, dict[tuple[str | tuple[str, ...], str], Tilted],
                                     dict[tuple[int, int, str], Tilted]]] = {}
        #: the entry of ``_tilts`` asked last (most activities are under one policy)
        self._tilts_last: tuple[object, object, dict[tuple[str | tuple[str, ...], str], Tilted],
                                dict[tuple[int, int, str], Tilted]] = (None, None, {}, {})
        #: when credits of a recent moment expire, by (moment, its tzinfo, its fold, months): ``_expires``
        self._expiries: dict[tuple[timedelta, int], datetime] = {}
        #: ``_wall_epoch`` last worked out
        self._epoch: datetime | None = None
        #: ``_expires``' last local day, months, the day they lead to and the days between
        self._shifted: tuple[date | None, int, date, timedelta] = (None, 0, date.min, timedelta(0))
        #: ``_uncut`` by (the item's id, the tilts, name, hours and quantity): the item and what it books
        self._uncuts: dict[tuple[Any, ...], tuple[ActivityItem, Uncut | None]] = {}
        #: the calendar's ``marks`` of the day whose ``periods_and_ends`` answer is the first (by object)
        self._marks: tuple[object, tuple[tuple[tuple[str, str], datetime, timedelta], ...]] = (None, ())
        #: ``earn``'s plans of caps by (the policy's id, scope, the caps' id): the policy and caps (kept, so their
        #: ids are not reused while here) and the plan
        self._plans: dict[tuple[int, str, int], tuple[PointsPolicy, tuple[Cap, ...], tuple[tuple[Cap, str], ...]]] = {}

    def advance(self, account: Account, event: Event) -> None:
        """Book what fell due on ``account`` up to ``event`` (before booking the event on it)."""
        account.advance(event.time, self.policy_at, self.calendar, self.now_key, self.may_pay)

    def may_pay(self, kind: str, end: datetime, node: str) -> bool:
        """Whether judging a span of ``kind`` can pay a streak bonus (``ledger.Pays``).

        Only if some policy of a ruleset in force has a streak over spans of that
        kind: every member opens a day, a week, a month... span with each
        activity, and most are closed paying nothing, without asking which
        policy was in force when they ended.  A span is judged once an event
        passed its end, so a ruleset put in force later for a time before it
        makes the state be derived again (``Engine.use_ruleset``); one put in
        force for later times forgets the kinds (``forget_streak_spans``).
        """
        spans = self._streak_spans
        if spans is None:
            spans = self._streak_spans = frozenset(
                streak.span
                for entry in self.engine.rulesets_in_force()
                for span in entry.ruleset.policies(SECTION)
                for streak in span.policy.streaks
            )
        return kind in spans

    def forget_streak_spans(self) -> None:
        """The rulesets in force changed: ``may_pay`` works its kinds out again."""
        self._streak_spans = None

    def book(
        self,
        account: Account,
        entry: Entry | Record,
        policy: PointsPolicy | None,
        caps: tuple[str, ...] = (),
        rules: tuple[Any, ...] | None = None,
        day: tuple[dict[str, tuple[str, datetime]], dict[str, timedelta]] | None = None,
    ) -> None:
        """Add ``entry`` to the ledger once (an id booked in the open part is ignored); credits open a lot.

        ``rules``: every rule behind it, when its own rule is not all.  Event ids
        are unique in a store and an event is applied once, so the guard only
        protects against booking one entry twice within one event.  ``day``: the
        calendar's ``periods_and_ends`` of the entry's time, if the caller has them.
        """
        if entry.id in self.history.guarded:
            return
        if entry.kind in ledger.CREDITS:
            expiry = policy.expiry if policy is not None else None
            expires = self._expires(entry.time, expiry.months) if expiry is not None else None
            account.credit(
                entry,
                expires=expires,
                expiry_rule=expiry.rule if expiry is not None else None,
                caps_scopes=caps,
                calendar=self.calendar,
                rules=rules,
                day=day,
            )
        else:
            account.add(entry, rules=rules)

    def _expires(self, when: datetime, months: int) -> datetime:
        """``add_months(when, months, tz)``: when a credit booked at ``when`` expires, worked out once per moment.

        (The events of a busy minute share their time: about half the credits
        of a district's day are booked at a moment booked before.)  Keyed by the
        moment (its ``utc_key``), as ``add_months`` reads nothing else of it.
        """
        moment = utc_key(when)
        key = (moment, months)  # (the moment: times of one tzinfo compare equal whatever their fold)
        found = self._expiries.get(key)
        if found is None:
            if len(self._expiries) > 256:
                self._expiries.clear()
            calendar = self.calendar
            tz = self.tz
            if calendar.tz is tz and when.tzinfo is not None:
                # ``add_months`` of the local time the calendar worked out for the same time object,
                # checking and booking it, written out: that time is aware and already in ``tz`` (its
                # ``astimezone(tz)`` is itself), so the zone is not asked for its offset to check it; a time
                # written on the zone's clock (at its fixed offset, most events) read as written, unconverted
                if calendar.on_clock(when):
                    # (the day it expires on and the days to it, kept for the day asked last: a day's credits at
                    # moments of their own ask for one day's)
                    shifted = self._shifted
                    local = when.date()
                    if shifted[0] != local or shifted[1] != months:
                        day = shift_months(local, months)
                        shifted = self._shifted = (local, months, day, day - local)
                    day = shifted[2]
                    found = _combine(day, when.time(), tz)  # (its zone by place: a keyword is parsed by name)
                    if calendar.on_clock_until(when, day):
                        # (the zone's offset that day is ``when``'s: its key is ``when``'s, whole days on, kept
                        # for every account whose first lot it is; the zone not asked for its offset)
                        keep_key(found, moment + shifted[3])
                        self._expiries[key] = found
                        return found
                else:
                    local = calendar.local(when)
                    found = datetime.combine(shift_months(local.date(), months), local.time(), tzinfo=tz)
            else:
                found = add_months(when, months, tz)
            self._expiries[key] = found
            # (its key too: every account whose first lot it is asks for it)
            note_key(found, self._wall_epoch(found))
        return found

    def _wall_epoch(self, when: datetime) -> datetime:
        """1970-01-01 00:00 in ``when``'s zone object (``ledger.note_key``), kept for the last zone object."""
        kept = self._epoch
        if kept is None or kept.tzinfo is not when.tzinfo:
            kept = self._epoch = datetime(1970, 1, 1, tzinfo=when.tzinfo)
        return kept

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
        # (what checking it worked out, if it was the last activity checked: ``Checks.judged`` written out)
        judged = self._judged  # type: ignore[attr-defined]  # from Checks
        if judged is not None and judged[0] is event:
            _, policy, pricing, periods, ends, end, claims, added = judged
            none_since = claims is self.claims and claims.added == added
        else:
            policy = self.policy_at(event.time, event.node)
            if policy is None:
                return
            pricing = policy.pricing(event.activity)
            periods = None
        member = event.member or event.actor  # (``event.participant``)
        if pricing is None:
            # Not on the points item list: often a misspelling. Earns nothing, but
            # is listed with the flags so staff see it instead of losing it.
            known = sorted({name for item in policy.activities for name in item.names()})
            close = did_you_mean(event.activity, known)
            hint = f" (did you mean {close}?)" if close else ""
            flagged = self.account(member)
            self.advance(flagged, event)
            self.flag(flagged, event, None,
                 f"{event.activity} is not on the points item list{hint}: no points, flagged",
                 activity=event.activity)
            return
        items = pricing.items
        # (``self.account(member)`` written out; a new member's account is made with its first earning, in one
        # step, below, or by ``_opened`` when anything else books on it: None until then)
        account = self.accounts.get(member)
        if account is not None:
            self.dirty.add(member)
            self._touched[member] = account
            account.advance(event.time, self.policy_at, self.calendar, self.now_key, self.may_pay)
        if periods is None:
            periods, ends = self.calendar.periods_and_ends(event.time)
            end = claim_end(event.time, event.hours)
            none_since = False
        duplicate, self_recorded, outside_cells = pricing.guards
        guard = duplicate
        if guard is not None and not (none_since and guard.action == "refuse"):
            # (a refusing guard's check found no earlier claim, and claims were only forgotten since)
            earlier = self.claims.duplicate_of(member, items[0].activity, event.id, event.time, end,
                                               periods["day"][0], guard.window)
            if earlier is not None:
                self.flag(account or self._opened(member, event),
                    event,
                    guard.rule,
                    f"{items[0].activity} claimed again (earlier claim {earlier}): no points, flagged",
                    earlier=earlier,
                    activity=event.activity,
                )
                return
        guard = self_recorded
        if guard is not None and self.self_recorded(event):  # type: ignore[attr-defined]  # from Checks
            self.flag(account or self._opened(member, event),
                event,
                guard.rule,
                f"{event.activity} recorded by {member} for themselves, not by an organiser: no points, flagged",
                activity=event.activity,
            )
            return
        guard = outside_cells
        if guard is not None and not self.in_cells(member, event.node):
            self.flag(account or self._opened(member, event),
                event,
                guard.rule,
                f"{event.activity} at {event.node}, outside {member}'s cells: no points, flagged",
                node=event.node,
                activity=event.activity,
            )
            return
        self.claims.add(member, items[0].activity, event.id, event.time, end, periods["day"][0], ends["day"])
        # (the facts are gathered only for items that read them: most items are plain amounts)
        if pricing.reads_facts:
            if account is None:
                account = self._opened(member, event)
            facts = self.facts(event, member)
        else:
            facts = None
        at = 0
        if facts is not None:
            at = next((n for n, i in enumerate(items) if i.when is None or i.when.holds(facts)), -1)
        if at < 0:
            assert facts is not None and account is not None  # (opened with the facts read)
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
                    inputs=facts.show(pricing.conditions_read),
                ),
                policy,
            )
            return
        item = items[at]
        if facts is None and item.amount.formula is None:
            # An earning no cap cuts books what every earning of its item, name, hours and quantity under
            # the same tilts books (``Uncut``, worked out once): only the caps' rooms are its own.
            tilted = self._tilted(policy, member, event.node)
            uncut = self._uncut(item, tilted, event.activity, event.hours, event.quantity)
            if uncut is not None:
                amount = uncut.rounded
                earned = account.earned if account is not None else _NO_COUNTS
                plan = pricing.caps[at]
                cuts: tuple[Any, ...] = ()
                for cap, cap_scope in plan:  # (``_capped``'s caps)
                    count = earned.get(cap_scope)
                    room = cap.limit - (count.count(cap.period, periods[cap.period][0]) if count is not None else 0)
                    if amount > room:
                        amount = room if room > 0 else 0  # noqa: FURB136  # (``max``, without its call)
                        cuts += (id(cap), cap_scope, amount)
                if cuts:
                    # (an earning caps cut, most of a busy month's: what it books worked out once per item, name,
                    # hours, quantity, tilts and what each cap that cut left, as ``_capped`` works it out)
                    uncut = uncut.cut(plan, cuts)
                # (``_book_earning`` written out)
                time = event.time
                if event.id in self.history.guarded:  # (booked already: only marked)
                    if account is None:
                        account = self._opened(member, event)
                    account.mark_active(time, event.node, self.calendar)
                    return
                kept = self._marks
                if kept[0] is periods:
                    marks = kept[1]
                else:
                    marks = self.calendar.marks(time)
                    self._marks = (periods, marks)
                expiry = policy.expiry
                entry = Record(event.id, "earn", amount, member, event.node, time, item.rule, uncut.summary,
                               event.id, item.activity, uncut.inputs)
                expires = None if expiry is None else self._expires(time, expiry.months)
                if account is not None:
                    account.earn(entry, item.activity, uncut.rules, expires,
                                 None if expiry is None else expiry.rule, periods, ends, marks)
                elif amount > 0 and item.activity != "*":
                    # (a new member's first earning: its account made with it, as ``_opened`` then ``earn``
                    # would leave it)
                    now = self.now_key
                    account = Account.first_earning(
                        member, self.history, entry, item.activity, uncut.rules, expires,
                        None if expiry is None else expiry.rule, periods, ends, marks,
                        utc_key(time) if now is None else now)
                    self.dirty.add(member)
                    self.accounts[member] = self._touched[member] = account
                else:
                    self._opened(member, event).earn(entry, item.activity, uncut.rules, expires,
                                                     None if expiry is None else expiry.rule, periods, ends,
                                                     marks)
                return
        if account is None:
            account = self._opened(member, event)
        if item.amount.formula is None:
            base, worked = item.amount.quote(event.hours, event.quantity)
        else:
            base = item.amount.of(event.hours, event.quantity, facts)
            worked = item.amount.worked(event.hours, event.quantity, base)
        inputs: dict[str, Any] = {
            "activity": event.activity,
            "hours": _plain(event.hours),
            "quantity": _plain(event.quantity),
        }
        if facts is not None:
            inputs.update(facts.show(pricing.shown[at]))
        if item.when is not None:
            inputs["condition"] = item.when.text
        summary = f"{event.activity}: {worked}"
        if base.numerator < 0:  # a deduction (a sign: no Fraction compare), and no activity toward a streak
            self.deduct(account, event, policy, item.activity, base, item.rule, inputs, summary)
            return
        # What ``earn`` and ``book`` do for an earning, written out: its entry built once, booked with its
        # lot, its two cap counters and its activity marks in one call (``Account.earn``).
        amount, rules, summary = self._capped(account, event.node, policy, base, item.rule, inputs, summary,
                                              periods, pricing.caps[at])
        entry = Record(event.id, "earn", amount, member, event.node, event.time, item.rule, summary, event.id,
                       item.activity, inputs)
        self._book_earning(account, entry, event, policy, item.activity, rules, periods, ends)

    def _opened(self, member: str, event: ActivityRecorded) -> Account:
        """``self.account(member)`` advanced to ``event``'s time, as ``on_activity`` opens an account it books on."""
        account = self.account(member)
        self.advance(account, event)
        return account

    def _book_earning(self, account: Account, entry: Record, event: ActivityRecorded, policy: PointsPolicy,
                      scope: str, rules: tuple[Any, ...], periods: dict[str, tuple[str, datetime]],
                      ends: dict[str, timedelta]) -> None:
        """Book an activity's earning ``entry`` (counted toward caps in ``scope`` and ``*``) with its lot, its cap
        counters and its activity marks (``Account.earn``); only marked if booked already."""
        if event.id in self.history.guarded:  # (``book``'s guard: booked already, only marked)
            account.mark_active(event.time, event.node, self.calendar)
            return
        # (the marks of the day of ``periods``, one calendar answer for every earning of a day: kept by it)
        kept = self._marks
        if kept[0] is periods:
            marks = kept[1]
        else:
            marks = self.calendar.marks(event.time)
            self._marks = (periods, marks)
        expiry = policy.expiry
        if expiry is None:
            account.earn(entry, scope, rules, None, None, periods, ends, marks)
        else:
            account.earn(entry, scope, rules, self._expires(event.time, expiry.months), expiry.rule,
                         periods, ends, marks)

    def _uncut(self, item: ActivityItem, tilted: Tilted, name: str, hours: float, quantity: float) -> Uncut | None:
        """What an earning of ``item`` (an amount without a formula, no facts read) recorded as ``name`` for
        ``hours`` and ``quantity`` books under ``tilted`` when no cap cuts it (None: a deduction), worked
        out once per (item, tilts, name, hours, quantity) of the last few thousand.

        Keyed by the numbers' types and values, as equal numbers of one type read and price the same, but
        for a zero's sign (``-0`` in a summary): a zero by its text.
        """
        key = (id(item), tilted, name, type(hours), hours or repr(hours), type(quantity), quantity or repr(quantity))
        found = self._uncuts.get(key)
        if found is not None and found[0] is item:
            return found[1]
        base, worked = item.amount.quote(hours, quantity)
        uncut = None
        if base.numerator >= 0:
            # (as ``on_activity`` and ``_capped`` build them for an earning no cap cuts, in the same order)
            inputs: dict[str, Any] = {"activity": name, "hours": _plain(hours), "quantity": _plain(quantity)}
            if item.when is not None:
                inputs["condition"] = item.when.text
            priced = tilted.priced(base)
            inputs.update(priced.shown)
            summary = f"{name}: {worked}{priced.text}"
            if priced.whole:
                summary += f" = {priced.rounded}"
            uncut = Uncut(priced.rounded, tilted.rules_after(item.rule), summary, inputs)
        if len(self._uncuts) >= 4096:
            self._uncuts.clear()
        self._uncuts[key] = (item, uncut)  # (the item kept, so its id is not reused while it is here)
        return uncut

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
        *,
        periods: dict[str, tuple[str, datetime]] | None = None,
        ends: dict[str, timedelta] | None = None,
        cap_plan: tuple[tuple[Cap, str], ...] | None = None,
    ) -> None:
        """Apply tilts and caps to ``base`` and book the earning with every rule behind it.

        A negative ``base`` is a deduction (``deduct``: no tilts, no caps, the floor).
        ``periods`` and ``ends``: the calendar's ``periods_and_ends`` of the event's
        time, if the caller has them (the credit counts toward caps in them); ``cap_plan``: ``caps`` paired with ``scope``, then the policy's caps
        paired with ``*`` (``Pricing.caps``), if the caller has it.
        """
        if base.numerator < 0:
            self.deduct(account, event, policy, scope, base, rule, inputs, summary, entry_id)
            return
        if cap_plan is None:
            cap_plan = self._cap_plan(policy, scope, caps)
        if cap_plan and periods is None:
            periods, ends = self.calendar.periods_and_ends(event.time)
        amount, rules, summary = self._capped(account, event.node, policy, base, rule, inputs, summary, periods,
                                              cap_plan)
        # (a ``Record``, as every earning's: ledger.py)
        entry = Record(entry_id or event.id, "earn", amount, account.member, event.node, event.time, rule,
                       summary, event.id, scope, inputs)
        # (``book`` written out for an earning: its credit, its lot and its counters toward caps in ``scope`` and
        # ``*`` in one step, as an activity's, without marks: ``Account.earn`` does what ``credit`` does)
        if entry.id in self.history.guarded:
            return
        if periods is None or ends is None:
            periods, ends = self.calendar.periods_and_ends(event.time)
        expiry = policy.expiry
        if expiry is None:
            account.earn(entry, scope, rules, None, None, periods, ends, None)
        else:
            account.earn(entry, scope, rules, self._expires(event.time, expiry.months), expiry.rule, periods, ends,
                         None)

    def _cap_plan(self, policy: PointsPolicy, scope: str, caps: tuple[Cap, ...]) -> tuple[tuple[Cap, str], ...]:
        """``caps`` paired with ``scope``, then the policy's caps paired with ``*`` (``Pricing.caps``' shape),
        worked out once per policy, scope and caps (every payee of an incident's close asks)."""
        key = (id(policy), scope, id(caps))
        found = self._plans.get(key)
        if found is None or found[0] is not policy or found[1] is not caps:
            if len(self._plans) >= 1024:
                self._plans.clear()
            found = self._plans[key] = (policy, caps,
                                        tuple([(c, scope) for c in caps]) + tuple([(c, "*") for c in policy.caps]))
        return found[2]

    def _capped(self, account: Account, node: str, policy: PointsPolicy, base: Fraction, rule: Any,
                inputs: dict[str, Any], summary: str, periods: dict[str, tuple[str, datetime]] | None,
                cap_plan: tuple[tuple[Cap, str], ...]) -> tuple[int, tuple[Any, ...], str]:
        """What an earning of ``base`` (not negative) at ``node`` books: its amount after tilts and caps,
        every rule behind it, and its summary (``inputs`` get the tilts, the rounding and the caps that cut).

        ``periods``: the calendar's periods of its time (given when ``cap_plan`` is not empty).
        """
        priced = self._tilted(policy, account.member, node).priced(base)
        # Exact until the entry is booked, then rounded half up once per entry:
        # the ledger, the board and the statement hold whole points (``Priced``).
        inputs.update(priced.shown)
        summary += priced.text
        amount = rounded = priced.rounded
        rules = priced.tilted.rules_after(rule)
        if cap_plan:
            assert periods is not None
            cut: list[Any] | None = None
            earned = account.earned
            for cap, cap_scope in cap_plan:
                # (``account.earned_in`` written out: two caps an earning under most rulesets)
                count = earned.get(cap_scope)
                room = cap.limit - (count.count(cap.period, periods[cap.period][0]) if count is not None else 0)
                if amount > room:
                    amount = max(room, 0)
                    if cut is None:
                        cut = [rule, *priced.tilted.rules]
                    cut.append(cap.rule)
                    what = "all points" if cap_scope == "*" else cap_scope
                    inputs[f"cap {what} per {cap.period}"] = f"{cap.limit}, {max(room, 0)} left"
            if cut is not None:
                rules = tuple(dict.fromkeys(cut))
        if amount < rounded:
            summary += f"{'' if not priced.whole else f' = {rounded}'}, cut to {amount} by a cap"
        elif priced.whole:
            summary += f" = {amount}"
        return amount, rules, summary

    def _tilted(self, policy: PointsPolicy, member: str, node: str) -> Tilted:
        """The tilts of ``policy`` for ``member``'s roles at ``node`` (``Tilted``), worked out once per
        (policy, member or roles, node) of one community; one object per pair of tilts that apply."""
        if not policy.tilts:
            return UNTILTED
        community = self.engine.community
        known = self._tilts_last
        if known[0] is not policy or known[1] is not community:
            held = self._tilts.get(id(policy))
            if held is None or held[0] is not policy or held[1] is not community:
                held = self._tilts[id(policy)] = (policy, community, {}, {})
            known = self._tilts_last = held
        # (a roster member's roles are the community's: by the member; anyone else's by their roles)
        key = (member, node) if member in community.members else (_RESIDENT if member in self.homes else (), node)
        by_place = known[2]
        found = by_place.get(key)
        if found is None:
            if len(by_place) > 65536:
                by_place.clear()
            role = policy.role_tilt(self._roles_key(member))
            level = self.node_record(node).level
            by_level = policy.level_tilt(level, community.level_names.get(level, level))
            # (the policy keeps its tilts: their ids are not reused while it is here)
            pair = (id(role), id(by_level), level if by_level is not None else "")
            found = known[3].get(pair)
            if found is None:
                found = known[3][pair] = Tilted(role, level, by_level)
            by_place[key] = found
        return found

    def _roles_key(self, member: str) -> tuple[str, ...]:
        """The member's roles, sorted (``roles_of``; the roster's worked out once)."""
        if member in self.engine.community.members:
            return self.member_record(member).roles
        return _RESIDENT if member in self.homes else ()  # (``roles_of`` off the roster)

    def on_redemption(self, event: PointsRedeemed) -> None:
        """Spend the reward's price from the oldest lots (or flag it if a rebuild left it uncovered)."""
        policy = self.policy_at(event.time, event.node)
        reward = policy.reward(event.reward) if policy is not None else None
        member = event.redeemer
        account = self.account(member)
        self.advance(account, event)
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
        # (a ``Record``, as an earning's: ledger.py)
        entry = Record(event.id, "redeem", -cost, member, event.node, event.time, reward.rule,
                       f"redeemed {event.quantity} x {reward.name} at {reward.price} points", event.id, None,
                       {"reward": reward.name, "quantity": event.quantity, "price": reward.price,
                        "balance_before": account.balance})
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
        self.advance(account, event)
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
        track = self.track(event.incident)
        if track is None:
            return
        del self.incidents[event.incident]
        self.settled.add(event.incident)
        policy = self.policy_at(event.time, event.node)
        if policy is None or not policy.incidents:
            return
        payees = []
        known: dict[str, Facts] = {}  # each payee's facts, gathered once
        if track.verified and track.reporter != SYSTEM_ACTOR:
            item = self.incident_item(policy.incidents, "confirmed_report", track, event, track.reporter,
                                      known)
            if item is not None:
                payees.append(("reporter", track.reporter, item))
        if track.resolver is not None and track.resolver != SYSTEM_ACTOR:
            item = self.incident_item(policy.incidents, "resolved", track, event, track.resolver, known)
            if item is not None:
                payees.append(("resolver", track.resolver, item))
        guard = policy.guard("self_closed")
        if guard is not None and track.reporter in (track.resolver, event.actor):
            account = self.account(track.reporter)
            self.advance(account, event)
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
            self.advance(account, event)
            inputs: dict[str, Any] = {"incident": event.incident, "as": role}
            if item.when is not None:
                inputs.update(self._incident_facts(known, event, member, track).show(item.when.reads))
                inputs["condition"] = item.when.text
            self.earn(account,
                event,
                policy,
                f"incident:{item.trigger}",
                whole_points(item.points),
                item.rule,
                (),
                inputs,
                f"incident {event.incident} ({track.category}), {role}: {item.points}",
                entry_id=f"{event.id}:{role}",
            )

    def on_consultation(self, event: ConsultationHeld) -> None:
        """Pay each participant of a consultation (会商) the ``consultation`` item says, once per event."""
        track = self.track(event.incident)
        policy = self.policy_at(event.time, event.node)
        if track is None or policy is None or not policy.incidents:
            return
        for member in event.participants:
            if member == SYSTEM_ACTOR:
                continue
            known: dict[str, Facts] = {}
            item = self.incident_item(policy.incidents, "consultation", track, event, member, known)
            if item is None:
                continue
            account = self.account(member)
            self.advance(account, event)
            inputs: dict[str, Any] = {"incident": event.incident, "as": "participant",
                                      "decision": event.decision}
            if item.when is not None:
                inputs.update(self._incident_facts(known, event, member, track).show(item.when.reads))
                inputs["condition"] = item.when.text
            self.earn(account, event, policy, "incident:consultation", whole_points(item.points), item.rule, (),
                      inputs, f"consultation on incident {event.incident} ({track.category}): {item.points}",
                      entry_id=f"{event.id}:{member}")

    def incident_item(
        self,
        items: tuple[IncidentItem, ...],
        trigger: str,
        track: IncidentTrack,
        event: Event,
        member: str,
        known: dict[str, Facts] | None = None,
    ) -> IncidentItem | None:
        """The first incident item of ``trigger`` whose condition holds for ``member``.

        ``known``: facts already gathered for this event, by member (added to).
        """
        for item in items:
            if item.trigger == trigger and (
                item.when is None or item.when.holds(self._incident_facts(known, event, member, track))
            ):
                return item
        return None

    def _incident_facts(self, known: dict[str, Facts] | None, event: Event, member: str,
                        track: IncidentTrack) -> Facts:
        """``facts(event, member, track)``, gathered once per member of one event (``known``, all of ``event``
        and ``track``: a second member's share the first's but for ``member``)."""
        if known is None:
            return self.facts(event, member, track)
        found = known.get(member)
        if found is None:
            if known:
                # (the event's local time, its incident's record and node are the same for every payee of a
                # close: the record built once, not once per payee)
                like = next(iter(known.values()))
                found = Facts(member=self.member_record(member), node=like.node, event=event,
                              weekday=like.weekday, hour=like.hour, incident=like.incident,
                              satisfaction=like.satisfaction, rating=like.rating)
            else:
                found = self.facts(event, member, track)
            known[member] = found
        return found


#: ``_roles_key`` of a registered resident off the roster
_RESIDENT = ("resident",)


class Tilted:
    """The tilts one policy gives an earning of a member (by their roles) at a node, worked out once.

    The largest role tilt, then the largest level tilt (their product when
    both apply): the factor, the rules and inputs an entry shows for them, and
    per base amount what ``earn`` books before caps (``priced``).
    """

    __slots__ = ("_after", "_priced", "factor", "product", "rules", "shown", "text")

    def __init__(self, role: Tilt | None, level: str = "", by_level: Tilt | None = None) -> None:
        factor: Fraction | int = 1
        #: (a product of two tilts: shown by its float, not by the factor's own text)
        self.product = False
        rules: list[Any] = []
        shown: list[tuple[str, Any]] = []
        if role is not None:
            factor = role.factor  # (1 x the factor: no Fraction product)
            rules.append(role.rule)
            shown.append(("tilt " + str(role.role), _times(role.factor)))
        if by_level is not None:
            if factor == 1:
                factor = by_level.factor
            else:
                factor, self.product = factor * by_level.factor, True
            rules.append(by_level.rule)
            shown.append(("tilt level " + level, _times(by_level.factor)))
        self.factor = factor
        #: the tilts' rules and inputs, in the order an entry lists them
        self.rules: tuple[Any, ...] = tuple(rules)
        self.shown: tuple[tuple[str, Any], ...] = tuple(shown)
        #: what the summary says of the factor (nothing for 1)
        self.text = "" if factor == 1 else (f" x {float(factor):g}" if self.product else " " + _times(factor))
        self._priced: dict[tuple[int, int], Priced] = {}
        self._after: dict[int, tuple[Any, tuple[Any, ...]]] = {}

    def priced(self, base: Fraction) -> Priced:
        """What an earning of ``base`` (not negative) books before caps, worked out once per amount."""
        key = (base.numerator, base.denominator)
        found = self._priced.get(key)
        if found is None:
            if len(self._priced) > 1024:
                self._priced.clear()
            found = self._priced[key] = Priced(self, base)
        return found

    def rules_after(self, rule: Any) -> tuple[Any, ...]:
        """``rule`` and the tilts' rules, each once (by ``rule``'s object: the few of a ruleset, kept)."""
        found = self._after.get(id(rule))
        if found is None or found[0] is not rule:
            if len(self._after) > 1024:
                self._after.clear()
            found = self._after[id(rule)] = (rule, tuple(dict.fromkeys((rule, *self.rules))))
        return found[1]


class Uncut:
    """What an activity's earning books when no cap cuts it (``Booking._uncut``): its amount, every rule behind
    it, its summary and its inputs (in the order its entry lists them: the one dict every ``Record`` it books
    holds, never changed; an ``Entry`` made of such a record gets a copy of its own, ``Record.entry``).

    ``cut`` gives the same of the earning when caps cut it (its ``rounded``: the amount left).
    """

    __slots__ = ("_cuts", "inputs", "rounded", "rules", "summary")

    def __init__(self, rounded: int, rules: tuple[Any, ...], summary: str, inputs: dict[str, Any]) -> None:
        self.rounded = rounded
        self.rules = rules
        self.summary = summary
        self.inputs = inputs
        #: ``cut``'s answers by what the caps that cut left, with the caps' plan they were worked out for
        self._cuts: dict[tuple[Any, ...], tuple[tuple[tuple[Cap, str], ...], Uncut]] | None = None

    def cut(self, plan: tuple[tuple[Cap, str], ...], cuts: tuple[Any, ...]) -> Uncut:
        """What the earning books when caps of ``plan`` (``Pricing.caps``: each cap with its scope) cut it, as
        ``Booking._capped`` works it out: ``cuts`` holds, of each cap that cut it in the plan's order, its
        ``id``, its scope and the amount left after it.  Worked out once per ``cuts`` (the plan kept with
        it, so the caps' ids are not reused while it is here)."""
        held = self._cuts
        if held is None:
            held = self._cuts = {}
        found = held.get(cuts)
        if found is None or found[0] is not plan:
            if len(held) >= 64:
                held.clear()
            found = held[cuts] = (plan, self._cut_by(plan, cuts))
        return found[1]

    def _cut_by(self, plan: tuple[tuple[Cap, str], ...], cuts: tuple[Any, ...]) -> Uncut:
        inputs = dict(self.inputs)
        rules = list(self.rules)
        at = 0
        amount = self.rounded
        for cap, cap_scope in plan:
            if at < len(cuts) and cuts[at] == id(cap) and cuts[at + 1] == cap_scope:
                amount = cuts[at + 2]
                at += 3
                rules.append(cap.rule)
                what = "all points" if cap_scope == "*" else cap_scope
                inputs[f"cap {what} per {cap.period}"] = f"{cap.limit}, {amount} left"
        assert at == len(cuts), "a cap that cut is not in the plan"
        summary = self.summary
        if amount < self.rounded:
            summary += f", cut to {amount} by a cap"
        return Uncut(amount, tuple(dict.fromkeys(rules)), summary, inputs)


class Priced:
    """An earning of one base amount under one ``Tilted``: exact until booked, then rounded half up once.

    ``shown``: the inputs its entry adds (the tilts, the exact value when not
    whole, the rounded one); ``text``: what its summary adds before caps.
    """

    __slots__ = ("rounded", "shown", "text", "tilted", "whole")

    def __init__(self, tilted: Tilted, base: Fraction) -> None:
        self.tilted = tilted
        factor = tilted.factor
        scaled = factor != 1
        exact = base * factor if scaled else base
        self.rounded = rounded = round_points(exact)
        #: True if the exact amount is whole (the summary then says `` = n`` after caps)
        self.whole = exact.denominator == 1
        shown = list(tilted.shown)
        if not self.whole:
            shown.append(("exact", f"{exact.numerator}/{exact.denominator} = {float(exact):g}"))
        shown.append(("rounded", rounded))
        self.shown: tuple[tuple[str, Any], ...] = tuple(shown)
        text = tilted.text if scaled else ""
        if not self.whole:
            text += f" = {float(exact):g}, rounded to {rounded}"
        self.text = text


#: ``Tilted`` of a policy without tilts
UNTILTED = Tilted(None)


def _times(factor: Fraction | int) -> str:
    """``x 1.5``: a factor as explanations show it (a tilt's worked out once, by the factor object)."""
    found = _TIMES.get(id(factor))
    if found is None or found[0] is not factor:
        if len(_TIMES) > 1024:
            _TIMES.clear()
        found = _TIMES[id(factor)] = (factor, f"x {float(factor):g}")
    return found[1]


#: by ``id``: a factor (kept, so its id is not reused while it is here) and how it reads
_TIMES: dict[int, tuple[Fraction | int, str]] = {}


def whole_points(points: int) -> Fraction:
    """``Fraction(points)`` of an item's whole points (an incident's, a task's), one object per number: a
    ``Fraction`` is never changed, and making one runs its constructor's Python (every payee of a close)."""
    found = _WHOLE.get(points) if type(points) is int else None
    if found is None:
        found = Fraction(points)
        if type(points) is int:
            if len(_WHOLE) >= 1024:
                _WHOLE.clear()
            _WHOLE[points] = found
    return found


#: ``whole_points`` by number
_WHOLE: dict[int, Fraction] = {}


def _plain(value: float) -> int | float:
    """A number as it reads (3, not 3.0), the same however it was decoded."""
    return int(value) if float(value).is_integer() else float(value)


def _self_closed_steps(reporter: str, resolver: str | None, closer: str) -> str:
    """``reported and resolved by X``: the steps the reporter took on their own incident."""
    steps = [s for s, who in (("resolved", resolver), ("closed", closer)) if who == reporter]
    words = ["reported", *steps]
    return f"{', '.join(words[:-1])} and {words[-1]} by {reporter}"
