"""The points plugin's Python API: plain functions taking an engine.

``balance``, ``statement``, ``board``, ``node_totals``, ``flags`` read the
ledger (with expiry and bonuses booked up to the engine clock's now, or up to
the end of the period asked for); ``redeem`` records a ``PointsRedeemed``
event through the engine, which refuses it with the reasons if it must.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import attrs

from gridcore import UnknownNameError
from gridcore.classes import define, frozen
from gridcore.clock import require_aware
from gridcore.events import ActivityRecorded
from gridcore.periods import parse_period

from . import ledger
from .checks import MAX_HOURS
from .display import category_named, category_titles, said_in_chinese
from .events import PointsRedeemed
from .history import History
from .ledger import Entry, Record, utc_key
from .state import NAME, PointsState
from .tracking import Claims, claim_end

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
    dated after it, even if an event already booked it).  Only the history's
    parts that may hold the period are read, none booked after it, when the
    member has an entry dated there (its balance then is that entry's
    ``Record.net``), its first entry is dated after the period (its balance
    then was nothing) or its account was not advanced past the period; else
    the parts after it up to the member's next entry (``_booked_before``).
    """
    the_state = state(engine)
    _moment(engine, member, None)
    span = parse_period(period, the_state.tz)
    start, end = span.start, span.end
    until = _until(engine, end)
    account = the_state.view(member, _view_until(engine, end))
    extras = [r.entry for r in account.extras]
    cut = min(start, until)
    first_out = min(end, until + _TICK)  # (the first moment the statement leaves out)
    opens = min(start, first_out)  # (the first moment after the opening balance)
    mine = [record for record in the_state.booked(cut, first_out - _TICK)
            if record.entry.member == member and cut <= record.entry.time < first_out]
    booked = [record.entry for record in mine]
    before = _booked_before(the_state, member, first_out, mine)
    if before is None:  # (parts stored without nets: what was booked from ``first_out`` on, summed)
        before = account.net - sum(e.amount for e in extras) - sum(
            e.amount for e in _booked(the_state, member, since=cut) if e.time >= first_out)
    inside = tuple(e for e in [*booked, *extras] if start <= e.time < first_out)
    opening = (before - sum(e.amount for e in booked if e.time >= opens)
               + sum(e.amount for e in extras if e.time < opens))
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


def _booked_before(the_state: PointsState, member: str, first_out: datetime, mine: list[Record]) -> int | None:
    """What was booked to ``member`` dated before ``first_out`` (its balance then, but for what its view books),
    given ``mine``: every entry booked to it dated from the period's start (or now) to before ``first_out``.

    A member's entries are booked in time order, so this is the net of the
    last of ``mine``.  With none, a member whose first entry is dated from
    ``first_out`` on (``Account.first``) had booked nothing before: 0; an
    account not advanced to ``first_out`` has booked nothing dated since: its
    net; else it is the net before the member's first entry dated from
    ``first_out`` on (the parts booked since are read up to it), or its net if
    there is none.  None where the entry it needs was read from a part stored
    without nets (the caller sums).
    """
    if mine:
        return mine[-1].net
    account = the_state.accounts.get(member)
    if account is None or account.first is None or account.first >= utc_key(first_out):
        return 0
    if account.advanced_to is not None and account.advanced_to < utc_key(first_out):
        return account.net
    for record in the_state.booked(first_out):
        entry = record.entry
        if entry.member == member and entry.time >= first_out:
            return None if record.net is None else record.net - entry.amount
    return account.net


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
    What the history holds of the month is read once for the boards of every
    node (``month_of``), from the parts that may hold the month alone.
    """
    the_state = state(engine)
    hierarchy = engine.community.hierarchy
    hierarchy.node(node)
    span = parse_period(month, the_state.tz)
    start, end = span.start, span.end
    until = _until(engine, end)
    found = month_of(the_state, start, end, until)
    first_out = found.first_out
    window = min(until, end - _TICK)

    def counts(e: Entry) -> bool:
        return (e.kind in ledger.CREDITS and start <= e.time < end and e.time <= until
                and hierarchy.is_within(e.node, node))

    paying = the_state.paying()
    scores: list[tuple[int, str, int]] = []
    for member in sorted(the_state.accounts):
        credits = found.credits.get(member, {})
        here = [points for where, points in credits.items() if hierarchy.is_within(where, node)]
        if not here and not any(not where or hierarchy.is_within(where, node)
                                for where in the_state.bonus_between(member, start, window, paying)):
            # Nothing it earned here, and its view books no bonus here: no row (its lots are not read).
            continue
        account = the_state.view(member, _view_until(engine, end), paying)
        extras = [r.entry for r in account.extras]
        earned = sum(here) + sum(e.amount for e in extras if counts(e))
        if earned > 0:
            held = found.booked_by(the_state, member) + sum(e.amount for e in extras if e.time < first_out)
            scores.append((earned, account.member, held))
    scores.sort(key=lambda row: (-row[0], row[1]))
    rows: list[BoardRow] = []
    for position, (earned, member, held) in enumerate(scores, 1):
        rank = rows[-1].rank if rows and rows[-1].earned == earned else position
        rows.append(BoardRow(rank, member, the_state.name_of(member), role_label(engine, member), earned, held))
    return rows


@define(eq=False)
class Month:
    """What the boards of a month read of the history: each member's credits there, by node, and its net
    with its last entry dated there (``month_of``)."""

    #: the month's start (now, if earlier), and the first moment a board of it leaves out (its end, or just
    #: after now)
    cut: datetime
    first_out: datetime
    #: by member: the points of each node its credits (earn, bonus, recognition) dated in the month (up to
    #: now) were booked at, summed; a node is listed even when its credits sum to nothing
    credits: dict[str, dict[str, int]]
    #: by member with an entry dated from ``cut`` to before ``first_out``: its net
    #: with the last of them (``Record.net``; None: read from a part stored without nets)
    closing: dict[str, int | None]
    #: by member: what was booked to it dated from ``first_out`` on (summed when first needed: ``booked_by``)
    later: dict[str, int] | None = None

    def booked_by(self, the_state: PointsState, member: str) -> int:
        """What was booked to ``member`` dated before ``first_out``: its balance then, but for what its view
        books.

        A member's entries are booked in time order, so this is the net of its
        last entry dated in the month.  One with none there, whose account was
        not advanced past the month (its view books what it earned there), has
        booked nothing dated since: its net.  Otherwise (parts stored without
        nets) what was booked from ``first_out`` on is summed, reading every
        part since the month, as boards did before nets were kept.
        """
        net = self.closing.get(member)
        if net is not None:
            return net
        account = the_state.accounts.get(member)
        if account is None:
            return 0
        if member not in self.closing and account.advanced_to is not None \
                and account.advanced_to < utc_key(self.first_out):
            return account.net
        if self.later is None:
            later: dict[str, int] = {}
            self.later = later
            for record in the_state.booked(self.cut):
                entry = record.entry
                if entry.time >= self.first_out:
                    later[entry.member] = later.get(entry.member, 0) + entry.amount
        return account.net - self.later.get(member, 0)


#: ``month_of``'s answers kept per history (the last ``_KEPT_MONTHS``; a quarter's roll-up asks the boards of
#: each child month by month): the key (the month, now, the entries booked) and the answer
_MONTHS: WeakKeyDictionary[History, list[tuple[tuple[datetime, datetime, int], Month]]] = WeakKeyDictionary()
_KEPT_MONTHS = 3


def month_of(the_state: PointsState, start: datetime, end: datetime, until: datetime) -> Month:
    """What the boards of the month ``[start, end)`` read of the history, up to ``until`` (now, if earlier).

    Read from the history's parts that may hold entries dated in the month,
    none booked after it, and kept for the boards of the other nodes (until
    another entry is booked).
    """
    history = the_state.history
    first_out = min(end, until + _TICK)
    cut = min(start, until)
    key = (start, first_out, history.booked_count)
    kept = _MONTHS.setdefault(history, [])
    for asked, answer in kept:
        if asked == key:
            return answer
    credits: dict[str, dict[str, int]] = {}
    closing: dict[str, int | None] = {}
    earning = ledger.CREDITS
    for record in history.select(cut, first_out - _TICK):  # (a part starting at the month's end holds none)
        entry = record.entry
        time = entry.time
        if cut <= time < first_out:
            member = entry.member
            closing[member] = record.net
            if entry.kind in earning and time >= start:
                mine = credits.get(member)
                if mine is None:
                    mine = credits[member] = {}
                mine[entry.node] = mine.get(entry.node, 0) + entry.amount
    answer = Month(cut, first_out, credits, closing)
    kept.append((key, answer))
    del kept[:-_KEPT_MONTHS]
    return answer


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


def activity_names(engine: Engine, at: datetime, node: str | None = None) -> dict[str, str]:
    """Every name an activity may be recorded under at ``at`` at ``node`` (each item's name and its
    ``also`` / ``又称`` names), mapped to the item's name as the list writes it first; empty when no points
    rules are in force there.  ``node``: the list of the ruleset governing it (``Engine.ruleset_at``)."""
    policy = state(engine).policy_at(require_aware(at), node)
    if policy is None:
        return {}
    names: dict[str, str] = {}
    for item in policy.activities:
        for name in item.names():
            names.setdefault(name, item.activity)
    return names


def activity_refusals(engine: Engine, event: ActivityRecorded) -> list[str]:
    """Why the points rules would refuse ``event`` were it recorded now (empty: they accept it), every
    reason: who records it, its hours, a duplicate or out-of-cell claim, as recording it would say.

    Nothing is recorded or changed: an importer asks before it records a whole sheet, so that a sheet
    with one refused row stores nothing.  An event dated before what the state applied is judged as the
    engine judges it, at its own place in time: a duplicate is a claim credited before it (the state's
    claims of that day may be forgotten, or hold later ones; the ledger has every credited claim, booked
    as an ``earn`` entry under its event's id).
    """
    the_state = state(engine)
    judged = attrs.evolve(event)  # (a copy: the check keeps what it worked out for the very event it judged)
    last = the_state.last_time
    if last is None or event.time >= last:
        return the_state.check_activity(judged)
    kept = the_state.claims
    the_state.claims = _claims_before(engine, the_state, event)
    try:
        return the_state.check_activity(judged)
    finally:
        the_state.claims = kept


def _claims_before(engine: Engine, the_state: PointsState, event: ActivityRecorded) -> Claims:
    """The credited claims a claim at ``event``'s place in time may duplicate: those before it of its day, and
    those of the day before that may still run (a claim lasts at most ``MAX_HOURS``)."""
    claims = Claims()
    calendar = the_state.calendar
    since = event.time - timedelta(hours=MAX_HOURS, days=1)
    place = (event.time, event.id)
    # (to just after it: those at its very time with a smaller id come before it)
    for earlier in engine.events(kinds=["activity_recorded"], since=since, until=event.time + timedelta(seconds=1)):
        if not isinstance(earlier, ActivityRecorded) or (earlier.time, earlier.id) >= place:
            continue
        record = the_state.entry(earlier.id)
        if record is None or record.entry.kind != "earn" or record.entry.activity is None:
            continue
        periods, ends = calendar.periods_and_ends(earlier.time)
        claims.add(record.entry.member, record.entry.activity, earlier.id, earlier.time,
                   claim_end(earlier.time, earlier.hours), periods["day"][0], ends["day"])
    return claims


def redemption_id(member: str, reward: str, when: datetime) -> str:
    """The default id of a redemption: the same member, reward and time give the same id."""
    return f"redeem:{member}:{reward}:{when.isoformat()}"


def said_zh(engine: Engine) -> Callable[[str], str]:
    """How staff reading Chinese see an entry's summary (or a cell ``display.shown`` wrote of one), the one way
    every output that shows entries says it (a statement, the points reports, the dashboard, a sign-in sheet's
    flags): its fixed phrases in Chinese alone (``display.said_in_chinese``) and its incident's category by the
    Chinese name the engine's rulesets give it (``display.category_named``: ``事件 X（矛盾纠纷）``, not ``事件 X
    （dispute）``). The names are read once, when it is made."""
    categories = category_titles(ruleset.titles.get("category", {}) for _, ruleset in engine.rulesets())

    def said(summary: str) -> str:
        return category_named(said_in_chinese(summary), categories)

    return said


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
