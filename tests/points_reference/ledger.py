"""The ledger: entries per member, lots for first-in-first-out expiry, period totals.

A member's ``Account`` holds every entry that touched their balance, in time
order, and the *lots* of points still unspent (one per credit).  Redemptions,
deductions (扣分) and expiry take from the oldest lots first, so the balance
(the sum of the lots, less any ``debt``) always equals earned - redeemed -
expired - deducted.  It goes below zero only when a ruleset's ``floor`` lets a
deduction take more than the lots hold: the rest is ``debt``, which the next
credits pay off first.

Expiry and streak bonuses depend only on time passing: ``advance`` books every
one that fell due up to a moment, in time order.  The state advances an
account to each event's time before applying it, and a query at a later
moment advances a *copy*, so nothing depends on how often anyone asks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from attrs import define, field, frozen

from gridcore.explain import RuleRef
from gridcore.periods import (
    KINDS,
    add_months,
    parse_period,
    period_containing,
    period_key,
    periods_starting_in,
)
from gridcore_points.policy import PointsPolicy

#: Kinds of entries: credits, debits and zero-amount flags.
CREDITS = ("earn", "bonus", "recognition")
DEBITS = ("redeem", "expire", "deduct")
FLAG = "flag"

PolicyAt = Callable[[datetime], PointsPolicy | None]


@frozen
class Entry:
    """One line of a member's ledger.

    ``id`` is unique and deterministic (``e42`` for the event ``e42``'s earning,
    ``expire:e42`` when those points expire); ``points:<id>`` is its decision id.
    ``amount`` is positive for credits, negative for debits and 0 for flags
    (and for earnings cut to nothing by a cap).  ``cause`` is the event id that
    caused it (None for expiry and streak bonuses, which time causes).
    """

    id: str
    kind: str
    amount: int
    member: str
    node: str
    time: datetime
    rule: RuleRef | None
    summary: str
    cause: str | None = None
    activity: str | None = None
    inputs: Mapping[str, Any] = field(factory=dict)

    @property
    def decision(self) -> str:
        """The id ``gridcore explain`` knows this entry by."""
        return f"points:{self.id}"


@define
class Lot:
    """Points from one credit that are not yet spent or expired."""

    entry_id: str
    time: datetime
    node: str
    remaining: int
    expires: datetime | None
    #: the expiry rule that set ``expires``.
    expiry_rule: RuleRef | None


@define
class Account:
    """Everything the ledger knows about one member."""

    member: str
    entries: list[Entry] = field(factory=list)
    lots: list[Lot] = field(factory=list)
    #: points earned per (scope, period, label); scope is an activity or "*" (all).
    earned_in: dict[tuple[str, str, str], int] = field(factory=dict)
    #: period labels in which the member earned activity points, per period kind.
    active: dict[str, set[str]] = field(factory=dict)
    #: spans (kind, label) -> end, waiting to be judged for streak bonuses.
    open_spans: dict[tuple[str, str], datetime] = field(factory=dict)
    #: last node the member earned activity points in, per span label.
    span_node: dict[tuple[str, str], str] = field(factory=dict)
    #: points deducted beyond the lots (only under a floor below zero); credits pay it first
    debt: int = 0

    @property
    def balance(self) -> int:
        """Points available now (as far as this account has been advanced); negative only with debt."""
        return sum(lot.remaining for lot in self.lots) - self.debt

    def add(self, entry: Entry) -> None:
        """Append an entry (entries arrive in time order)."""
        self.entries.append(entry)


def credit(
    account: Account,
    entry: Entry,
    *,
    expires: datetime | None,
    expiry_rule: RuleRef | None = None,
    caps_scopes: tuple[str, ...] = (),
    tz: tzinfo | None = None,
) -> None:
    """Book a credit: append the entry, open a lot, count it toward caps in ``caps_scopes``."""
    account.add(entry)
    repaid = min(account.debt, max(entry.amount, 0))
    account.debt -= repaid
    if entry.amount - repaid > 0:
        account.lots.append(Lot(entry.id, entry.time, entry.node, entry.amount - repaid, expires, expiry_rule))
    if tz is not None and caps_scopes and entry.amount > 0:
        for scope in caps_scopes:
            for period in KINDS:
                key = (scope, period, period_key(period, entry.time, tz))
                account.earned_in[key] = account.earned_in.get(key, 0) + entry.amount


def earned_in(account: Account, scope: str, period: str, when: datetime, tz: tzinfo) -> int:
    """Points counted toward caps for ``scope`` in the ``period`` containing ``when``."""
    return account.earned_in.get((scope, period, period_key(period, when, tz)), 0)


def mark_active(account: Account, when: datetime, node: str, tz: tzinfo) -> None:
    """Note that the member earned activity points at ``when`` (for streak bonuses)."""
    for period in KINDS:
        label = period_key(period, when, tz)
        account.active.setdefault(period, set()).add(label)
        if (period, label) not in account.open_spans:
            account.open_spans[(period, label)] = period_containing(period, when, tz).end
        account.span_node[(period, label)] = node


def debit(account: Account, entry: Entry) -> list[tuple[str, int]]:
    """Book a redemption of ``-entry.amount`` points from the oldest lots first.

    Returns ``(lot entry id, points taken)`` pairs.  The caller has checked the
    balance; taking more than there is raises ``ValueError`` and changes nothing.
    """
    cost = -entry.amount
    if cost > account.balance:
        raise ValueError(f"{account.member} has {account.balance} points, {cost} needed")
    taken: list[tuple[str, int]] = []
    left = cost
    for lot in sorted(account.lots, key=lambda lot: (lot.time, lot.entry_id)):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take:
            lot.remaining -= take
            left -= take
            taken.append((lot.entry_id, take))
    account.lots = [lot for lot in account.lots if lot.remaining > 0]
    account.add(entry)
    return taken


def deduct(account: Account, entry: Entry) -> list[tuple[str, int]]:
    """Book a deduction of ``-entry.amount`` points: the oldest lots first, the rest as debt.

    The caller has applied the floor; returns ``(lot entry id, points taken)`` pairs.
    """
    taken: list[tuple[str, int]] = []
    left = -entry.amount
    for lot in sorted(account.lots, key=lambda lot: (lot.time, lot.entry_id)):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take:
            lot.remaining -= take
            left -= take
            taken.append((lot.entry_id, take))
    account.lots = [lot for lot in account.lots if lot.remaining > 0]
    account.debt += left
    account.add(entry)
    return taken


def advance(account: Account, until: datetime, policy_at: PolicyAt, tz: tzinfo) -> None:
    """Book every expiry and streak bonus that fell due at or before ``until``, in time order."""
    while True:
        due_lots = [lot for lot in account.lots if lot.expires is not None and lot.expires <= until]
        due_spans = [(end, span) for span, end in account.open_spans.items() if end <= until]
        first_lot = min(due_lots, key=lambda lot: (lot.expires, lot.time, lot.entry_id), default=None)
        first_span = min(due_spans, default=None)
        if first_lot is None and first_span is None:
            return
        lot_time = first_lot.expires if first_lot is not None else None
        if first_span is not None and (lot_time is None or first_span[0] < lot_time):
            end, span = first_span
            del account.open_spans[span]
            _judge_streak(account, span, end, policy_at, tz)
            continue
        assert first_lot is not None and first_lot.expires is not None
        _expire(account, first_lot)


def _expire(account: Account, lot: Lot) -> None:
    assert lot.expires is not None
    account.lots.remove(lot)
    account.add(
        Entry(
            id=f"expire:{lot.entry_id}",
            kind="expire",
            amount=-lot.remaining,
            member=account.member,
            node=lot.node,
            time=lot.expires,
            rule=lot.expiry_rule,
            summary=f"{lot.remaining} unspent points of {lot.entry_id} expired",
            inputs={"earned_at": lot.time.isoformat(), "lot": lot.entry_id, "unspent": lot.remaining},
        )
    )


def _judge_streak(
    account: Account, span: tuple[str, str], end: datetime, policy_at: PolicyAt, tz: tzinfo
) -> None:
    kind, label = span
    policy = policy_at(end - timedelta(microseconds=1))
    if policy is None:
        return
    start = parse_period(label, tz).start
    for streak in policy.streaks:
        if streak.span != kind:
            continue
        units = [unit.label for unit in periods_starting_in(streak.unit, start, end, tz)]
        active = account.active.get(streak.unit, set())
        if not units or not all(unit in active for unit in units):
            continue
        node = account.span_node.get(span, "")
        entry = Entry(
            id=f"streak:{account.member}:{streak.unit}-{label}",
            kind="bonus",
            amount=streak.points,
            member=account.member,
            node=node,
            time=end,
            rule=streak.rule,
            summary=f"streak bonus: active in every {streak.unit} of {label}",
            inputs={"span": label, "units": ", ".join(units)},
        )
        expiry = policy.expiry
        expires = add_months(end, expiry.months, tz) if expiry else None
        credit(account, entry, expires=expires, expiry_rule=expiry.rule if expiry else None)


def view(account: Account, until: datetime, policy_at: PolicyAt, tz: tzinfo) -> Account:
    """A copy of ``account`` advanced to ``until``; the original is untouched."""
    copied = Account(
        member=account.member,
        entries=list(account.entries),
        lots=[copy.copy(lot) for lot in account.lots],
        earned_in=dict(account.earned_in),
        active=account.active,
        open_spans=dict(account.open_spans),
        span_node=account.span_node,
        debt=account.debt,
    )
    advance(copied, until, policy_at, tz)
    return copied


def totals(entries: list[Entry]) -> dict[str, int]:
    """Earned (all credits), redeemed, expired and deducted points of some entries (all positive)."""
    out = {"earned": 0, "redeemed": 0, "expired": 0, "deducted": 0}
    for entry in entries:
        if entry.kind in CREDITS:
            out["earned"] += entry.amount
        elif entry.kind == "redeem":
            out["redeemed"] -= entry.amount
        elif entry.kind == "expire":
            out["expired"] -= entry.amount
        elif entry.kind == "deduct":
            out["deducted"] -= entry.amount
    return out
