"""The points plugin's Python API: plain functions taking an engine.

``balance``, ``statement``, ``board``, ``node_totals``, ``flags`` read the
ledger (with expiry and bonuses booked up to the engine clock's now, or up to
the end of the period asked for); ``redeem`` records a ``PointsRedeemed``
event through the engine, which refuses it with the reasons if it must.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from attrs import frozen

from gridcore import UnknownNameError
from gridcore.clock import require_aware
from gridcore.periods import parse_period

from . import ledger
from .events import PointsRedeemed
from .ledger import Entry
from .state import NAME, PointsState

if TYPE_CHECKING:
    from gridcore import Engine


def state(engine: Engine) -> PointsState:
    """The engine's points state (``engine.state("points")``)."""
    found = engine.state(NAME)
    assert isinstance(found, PointsState)
    return found


def balance(engine: Engine, member: str, at: datetime | None = None) -> int:
    """The member's points at ``at`` (default: the engine clock's now), after expiry.

    ``UnknownNameError`` for someone neither on the roster nor a registered resident.
    """
    the_state = state(engine)
    moment = _moment(engine, member, at)
    account = the_state.view(member, moment)
    # Every entry is booked in time order and counted in ``net``: take off those after ``moment``.
    later = sum(e.amount for e in _booked(the_state, member, moment) if e.time > moment)
    return account.net - later


def _booked(the_state: PointsState, member: str | None, since: datetime | None = None,
            until: datetime | None = None) -> Iterator[Entry]:
    """Entries booked for ``member`` (everyone: None) from the history parts that may hold ``[since, until]``."""
    for record in the_state.booked(since, until):
        entry = record.entry
        if member is None or entry.member == member:
            yield entry


def _moment(engine: Engine, member: str, at: datetime | None) -> datetime:
    """``at`` (checked) or the engine's now, once ``member`` is known to the engine."""
    if not engine.knows_person(member):
        raise UnknownNameError(f"unknown member {member!r}: not on the roster nor a registered resident "
                               f"(花名册和居民登记中都没有 {member!r})")
    return require_aware(at) if at is not None else engine.clock.now()


def entries(engine: Engine, member: str, at: datetime | None = None) -> list[Entry]:
    """Every ledger entry of the member up to ``at`` (default now), in time order."""
    moment = _moment(engine, member, at)
    the_state = state(engine)
    extras = [r.entry for r in the_state.view(member, moment).extras]
    return [e for e in [*_booked(the_state, member, until=moment), *extras] if e.time <= moment]


@frozen
class Statement:
    """A member's ledger over a period: opening balance, entries, closing balance."""

    member: str
    name: str
    period: str
    start: datetime
    end: datetime
    opening: int
    entries: tuple[Entry, ...]
    closing: int
    earned: int
    redeemed: int
    expired: int
    #: points taken off by deductions (扣分), as a positive number
    deducted: int = 0


#: the smallest step of time: the last moment of a period is its end less this
_TICK = timedelta(microseconds=1)


def _until(engine: Engine, end: datetime) -> datetime:
    now = engine.clock.now()
    return min(end, now)


def _view_until(engine: Engine, end: datetime) -> datetime:
    """How far a read of a period ending at ``end`` advances accounts: now, or the period's last moment.

    A period's reads count no entry dated at its end or later, so what a view
    would book at ``end`` itself (a quarter's streak bonus, a lot expiring at
    midnight) is left out: an account with nothing else due is not copied.
    Nothing booked at ``end`` changes what is booked before it.
    """
    return min(end - _TICK, engine.clock.now())


def statement(engine: Engine, member: str, period: str) -> Statement:
    """The member's statement for ``period`` (``2025-03``, ``2025-Q1``, ``2025``, ``2025-03-01``).

    A period not yet over is shown up to the engine clock's now (nothing
    dated after it, even if an event already booked it).
    """
    the_state = state(engine)
    _moment(engine, member, None)
    span = parse_period(period, the_state.tz)
    start, end = span.start, span.end
    until = _until(engine, end)
    account = the_state.view(member, _view_until(engine, end))
    since = [*_booked(the_state, member, since=min(start, until)), *(r.entry for r in account.extras)]
    inside = tuple(e for e in since if start <= e.time < end and e.time <= until)
    opening = account.net - sum(e.amount for e in since if e.time >= start or e.time > until)
    sums = ledger.totals(list(inside))
    return Statement(
        member=member,
        name=the_state.name_of(member),
        period=period,
        start=start,
        end=end,
        opening=opening,
        entries=inside,
        closing=opening + sum(e.amount for e in inside),
        earned=sums["earned"],
        redeemed=sums["redeemed"],
        expired=sums["expired"],
        deducted=sums["deducted"],
    )


@frozen
class BoardRow:
    """One line of the public monthly board."""

    rank: int
    member: str
    name: str
    role: str
    earned: int
    balance: int


def board(engine: Engine, node: str, month: str) -> list[BoardRow]:
    """The public board of ``node`` for ``month``: members ranked by points earned there.

    Points count when the entry's node is ``node`` or below it; ties share a
    rank and are listed by member id.  Only accounts that earned something
    there that month (by the entries booked, or a streak bonus their view
    would book) are viewed: the rest have no row, and their lots are not read.
    """
    the_state = state(engine)
    hierarchy = engine.community.hierarchy
    hierarchy.node(node)
    span = parse_period(month, the_state.tz)
    start, end = span.start, span.end
    until = _until(engine, end)
    cut = min(start, until)
    recent: dict[str, list[Entry]] = {}
    for entry in _booked(the_state, None, since=cut):
        if entry.time >= cut:
            recent.setdefault(entry.member, []).append(entry)
    window = min(until, end - _TICK)

    def counts(e: Entry) -> bool:
        return (e.kind in ledger.CREDITS and start <= e.time < end and e.time <= until
                and hierarchy.is_within(e.node, node))

    paying = the_state.paying()
    scores: list[tuple[int, str, int]] = []
    for member in sorted(the_state.accounts):
        mine = recent.get(member, ())
        if not any(counts(e) for e in mine) and not any(
                not where or hierarchy.is_within(where, node)
                for where in the_state.bonus_between(member, start, window, paying)):
            # Nothing it earned here, and its view books no bonus here: no row (its lots are not read).
            continue
        account = the_state.view(member, _view_until(engine, end), paying)
        since = [*mine, *(r.entry for r in account.extras)]
        earned = sum(e.amount for e in since if counts(e))
        if earned > 0:
            held = account.net - sum(e.amount for e in since if e.time >= end or e.time > until)
            scores.append((earned, account.member, held))
    scores.sort(key=lambda row: (-row[0], row[1]))
    rows: list[BoardRow] = []
    for position, (earned, member, held) in enumerate(scores, 1):
        rank = rows[-1].rank if rows and rows[-1].earned == earned else position
        rows.append(BoardRow(rank, member, the_state.name_of(member), role_label(engine, member), earned, held))
    return rows


@frozen
class NodeTotals:
    """Points earned, redeemed and expired in a node's subtree over a period."""

    node: str
    name: str
    level: str
    earned: int
    redeemed: int
    expired: int
    deducted: int = 0


def node_totals(engine: Engine, node: str, period: str) -> list[NodeTotals]:
    """Totals for ``node`` and every node below it that saw any points in ``period``.

    Each row counts its whole subtree; rows come in hierarchy order.
    """
    the_state = state(engine)
    hierarchy = engine.community.hierarchy
    span = parse_period(period, the_state.tz)
    start, end = span.start, span.end
    until = _until(engine, end)
    own: dict[str, dict[str, int]] = {}
    booked = list(_booked(the_state, None, since=start, until=end))
    for account in the_state.views(_view_until(engine, end)):
        booked.extend(r.entry for r in account.extras)
    for e in booked:
        if start <= e.time < end and e.time <= until and e.node in hierarchy:
            sums = ledger.totals([e])
            bucket = own.setdefault(e.node, {"earned": 0, "redeemed": 0, "expired": 0, "deducted": 0})
            for key, value in sums.items():
                bucket[key] += value
    rows = []
    for each in hierarchy.descendants(node, include_self=True):
        total = {"earned": 0, "redeemed": 0, "expired": 0, "deducted": 0}
        for where, sums in own.items():
            if hierarchy.is_within(where, each.id):
                for key, value in sums.items():
                    total[key] += value
        if each.id == node or any(total.values()):
            rows.append(NodeTotals(each.id, each.name, each.level, total["earned"], total["redeemed"],
                                   total["expired"], total["deducted"]))
    return rows


def flags(engine: Engine, node: str | None = None, period: str | None = None) -> list[Entry]:
    """Flagged claims (duplicates, outside cells, self-awards, self-closed incidents), by time."""
    return _entries_of(engine, ledger.FLAG, node, period)


def deductions(engine: Engine, node: str | None = None, period: str | None = None) -> list[Entry]:
    """Deductions (扣分) booked at ``node`` or below in ``period`` (all if None), by time."""
    return _entries_of(engine, "deduct", node, period)


def _entries_of(engine: Engine, kind: str, node: str | None, period: str | None) -> list[Entry]:
    the_state = state(engine)
    hierarchy = engine.community.hierarchy
    span = parse_period(period, the_state.tz) if period else None
    found = []
    since, until = (span.start, span.end) if span is not None else (None, None)
    for entry in _booked(the_state, None, since, until):
        if entry.kind != kind:
            continue
        if node is not None and not (entry.node in hierarchy and hierarchy.is_within(entry.node, node)):
            continue
        if span is not None and not span.contains(entry.time):
            continue
        found.append(entry)
    return sorted(found, key=lambda e: (e.time, e.id))


def redeem(
    engine: Engine,
    member: str,
    reward: str,
    quantity: int = 1,
    *,
    node: str | None = None,
    actor: str | None = None,
    event_id: str | None = None,
    at: datetime | None = None,
) -> Entry:
    """Record a redemption through the engine and return its ledger entry.

    ``node`` defaults to the member's home (or first cell); the event id
    defaults to one made from member, reward and time, so repeating the same
    call is a no-op.  Raises ``gridcore.EventRefused`` with every reason (and
    changes nothing) on insufficient balance, no stock, a limit reached, an
    expired or unknown reward.
    """
    when = at or engine.clock.now()
    where = node or home_of(engine, member)
    ident = event_id or redemption_id(member, reward, when)
    event = PointsRedeemed(
        id=ident, time=when, actor=actor or member, node=where, reward=reward, quantity=quantity, member=member
    )
    engine.record(event)
    record = state(engine).entry(ident)
    assert record is not None  # recorded: booked (or flagged)
    return record.entry


@frozen
class RewardStatus:
    """One item of the rewards list in force, with what is left of its stock."""

    name: str
    price: int
    stock_left: int | None
    limit: str
    valid: str
    rule: str


def rewards(engine: Engine, at: datetime | None = None, node: str | None = None) -> list[RewardStatus]:
    """The rewards list in force at ``at`` (default now) at ``node``, with the stock left.

    ``node``: the list of the ruleset governing it (a community's own variant's;
    ``Engine.ruleset_at``); None: the whole tree's."""
    the_state = state(engine)
    moment = at or engine.clock.now()
    policy = the_state.policy_at(moment, node)
    if policy is None:
        return []
    out = []
    for reward in policy.rewards:
        left = None if reward.stock is None else reward.stock - the_state.stock_used.get(reward.name, 0)
        limit = f"{reward.limit} per {reward.limit_period}" if reward.limit is not None else ""
        valid = " - ".join(
            d.isoformat() if d is not None else "" for d in (reward.valid_from, reward.valid_until)
        )
        out.append(RewardStatus(reward.name, reward.price, left, limit, valid.strip(" -"), str(reward.rule)))
    return out


def redemption_id(member: str, reward: str, when: datetime) -> str:
    """The default id of a redemption: the same member, reward and time give the same id."""
    return f"redeem:{member}:{reward}:{when.isoformat()}"


def role_label(engine: Engine, member: str) -> str:
    """The member's main role as the wall card shows it (the community's Chinese label)."""
    record = state(engine).member_record(member)
    return engine.community.roles.get(record.role, record.role)


def home_of(engine: Engine, member: str) -> str:
    """Where a member belongs: roster home, else first cell, else registered home."""
    found = engine.community.members.get(member)
    if found is not None:
        if found.home:
            return found.home
        cells = engine.community.cells_of(member)
        if cells:
            return cells[0]
    registered = engine.residents().get(member)
    if registered is not None:
        return registered
    roots = engine.community.hierarchy.roots()
    return roots[0].id
