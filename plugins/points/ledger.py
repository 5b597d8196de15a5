"""The ledger: entries per member, lots for first-in-first-out expiry, period totals.

A member's ``Account`` holds the state still open: the *lots* of points not
yet spent or expired (one per credit), the points counted toward caps in the
current periods, and the periods in which a streak bonus may still fall due,
besides running totals of what was booked.  Every entry it books goes to its
*journal*: the points state's ``History`` (history.py), which statements and
boards read.  Redemptions, deductions (扣分) and expiry take from the oldest
lots first, so the balance (the sum of the lots, less any ``debt``) always
equals earned - redeemed - expired - deducted.  It goes below zero only when a
ruleset's ``floor`` lets a deduction take more than the lots hold: the rest is
``debt``, which the next credits pay off first.

Expiry and streak bonuses depend only on time passing: ``advance`` books every
one that fell due up to a moment, in time order.  The state advances an
account to each event's time before applying one of its member's events, and
every other account as soon as an event's time passes the moment it has
something due (``next_due``; ``Records.sweep``), so lots expire whether or not
their member is heard of again; a query at a later moment advances a *copy*,
whose journal collects what it booked (its ``extras``), so nothing depends on
how often anyone asks.

What is open is kept keyed by what is still open: a lot leaves the account
when it is spent or expires, cap counters keep only the current period of each
kind (dropped when it ends), activity marks only as long as a streak span that
may read them is open.  A restored account keeps its lots and marks packed as
the checkpoint wrote them until it is booked on or something of it falls due
(``packed``, ``unpack``): a read of balances never reads them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from gc import is_tracked as _is_tracked
from typing import Any, Protocol

from attrs import field

from gridcore.classes import define, frozen
from gridcore.explain import RuleRef
from gridcore.localtime import LocalTimes
from gridcore.periods import KINDS, add_months, parse_period, period_of_day, periods_starting_in

from .caps import CapCount
from .policy import PointsPolicy

#: Lots per sealed part (by their number in their account; checkpoint.py).  A row's lots text is cut by
#: it: changing it changes what a checkpoint means (``STATE_VERSION``).  Smaller parts leave fewer lots
#: in the row (those opened since its last part) but make more documents to write and read.
LOT_PART = 8
#: Past this many fresh lots, an account leaves out the leading parts' worth of them of which no lot is
#: open (``Account._leave_out_spent``; rarely between two checkpoints of an ingest, which seal them)
FRESH_LOOK = 4 * LOT_PART

#: Kinds of entries: credits, debits and zero-amount flags.
CREDITS = ("earn", "bonus", "recognition")
DEBITS = ("redeem", "expire", "deduct")
FLAG = "flag"

#: the points policy in force at a time, at a node (None: the whole tree's)
PolicyAt = Callable[[datetime, str | None], PointsPolicy | None]
#: whether judging a streak span of a kind that ends at a moment, last active at a node, can pay a
#: bonus: the policy ``Account._judge_streak`` reads then has a streak over spans of that kind
Pays = Callable[[str, datetime, str], bool]


def pays(policy_at: PolicyAt) -> Pays:
    """``Pays`` as ``Account._judge_streak`` decides it, each (end, node) asked of ``policy_at`` once.

    For one query: a policy put in force later is not seen by what this returns.
    """
    kinds: dict[tuple[datetime, str], frozenset[str]] = {}

    def paying(kind: str, end: datetime, node: str) -> bool:
        found = kinds.get((end, node))
        if found is None:
            policy = policy_at(end - timedelta(microseconds=1), node or None)
            found = kinds[(end, node)] = frozenset(
                () if policy is None else (streak.span for streak in policy.streaks))
        return kind in found

    return paying

#: Later than anything falls due.
NEVER = datetime.max.replace(tzinfo=UTC)
#: an instance without its ``__init__`` (``Account.new``)
_new_object = object.__new__
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: ``NEVER`` as a key (``utc_key``): ``Account.next_due`` when nothing is open.
NEVER_KEY = NEVER - _EPOCH
#: Earlier than any key.
_DAWN = timedelta.min


def utc_key(when: datetime) -> timedelta:
    """``when`` as the time since 1970 UTC: it orders like ``when`` and compares without asking time zones.

    (Aware times of different ``tzinfo`` objects, as events and period ends
    are, cost a time zone lookup on each side of every comparison: too much
    for the heaps the state keeps of what falls due when.)

    A time at a fixed offset (a ``timezone``, as every time read from text)
    less the epoch held in that very zone object is subtracted on their fields,
    neither asked for its offset.  Any other is kept for the last few thousand
    times asked (``_KEYS``): the events of a busy minute share their time, and
    the subtraction (asking both zones) costs about fifteen times a look-up by
    the time (whose hash a ``datetime`` keeps).  Times that compare equal are
    the same moment, so they share one key, but for ``fold``: times of one
    ``tzinfo`` compare by their fields whatever their fold, so a time of fold
    1 is never looked up.
    """
    global _LAST_EPOCH
    zone = when.tzinfo
    last = _LAST_EPOCH
    if last[0] is zone:  # (the fixed offset asked last, held: most times asked are of one offset)
        return when - last[1]
    if type(zone) is timezone:
        # (two zones asked for their offsets cost about 1,700 instructions each; a new time's hash asks too)
        epoch = _EPOCHS.get(id(zone))
        if epoch is None or epoch.tzinfo is not zone:
            if len(_EPOCHS) >= 64:
                _EPOCHS.clear()
            epoch = _EPOCHS[id(zone)] = _EPOCH.astimezone(zone)
        _LAST_EPOCH = (zone, epoch)
        return when - epoch
    if when.fold:
        return when - _EPOCH
    found = _KEYS.get(when)
    if found is None:
        if len(_KEYS) >= 4096:
            _KEYS.clear()
        found = _KEYS[when] = when - _EPOCH
    return found


#: ``utc_key`` by time (of fold 0) of a zone other than a fixed offset, emptied when full
_KEYS: dict[datetime, timedelta] = {}
#: by the ``id`` of a fixed offset (``timezone``): the epoch in that very object (which it keeps)
_EPOCHS: dict[int, datetime] = {}
#: the fixed offset ``utc_key`` last found in ``_EPOCHS`` (held, so no other object has its ``id`` while it
#: is here; None before the first) and its epoch
_LAST_EPOCH: tuple[timezone | None, datetime] = (None, _EPOCH)


def first_and_last(times: list[datetime]) -> tuple[datetime, datetime]:
    """``(min(times), max(times))``, the same objects, asking zones for offsets a few times where ``min`` asks
    at almost every step.

    ``min`` walks ``times`` in order and keeps a time when one is earlier than the one kept: times of one
    ``tzinfo`` object compare by their fields, of two by their moments, each zone asked for its offset
    (about 2,000 instructions a side).  A ledger part's times are mostly the events' (one fixed offset) but a
    streak bonus's, a period's end in the community's zone: once such a time is kept, every comparison after
    it asked both zones.  Here the runs of times at the first time's offset, between the times of other
    zone objects, are each reduced to their ``min`` first (at a fixed offset fields order as moments do, so
    what the walk keeps from a run is the run's ``min`` if earlier than the time kept before it), and the
    walk goes on from there: the same comparisons' answers, a run's one asked once (``max`` alike).
    """
    zone = times[0].tzinfo
    others = [n for n, time in enumerate(times) if time.tzinfo is not zone]
    if not others or type(zone) is not timezone:
        return min(times), max(times)
    first = last = times[0]
    start = 0
    for n in [*others, len(times)]:
        if n > start:
            run = times[start:n]
            low, high = min(run), max(run)
            # (``min`` and ``max`` of two written out: each keeps the time kept unless the other is earlier
            # (later), as their walk does, without a call parsing its arguments)
            if low < first:  # noqa: PLR1730
                first = low
            if high > last:  # noqa: PLR1730
                last = high
        if n < len(times):
            time = times[n]
            if time < first:  # noqa: PLR1730
                first = time
            if time > last:  # noqa: PLR1730
                last = time
        start = n + 1
    return first, last


def shared_key(when: datetime) -> timedelta:
    """``utc_key(when)``, worked out once per object for the moments many accounts share (period ends)."""
    found = _SHARED.get(id(when))
    if found is None or found[0] is not when:
        if len(_SHARED) > 4096:
            _SHARED.clear()
        found = _SHARED[id(when)] = (when, utc_key(when))
    return found[1]


def moment_key(when: datetime) -> timedelta:
    """``utc_key(when)``, by ``shared_key`` unless ``when`` is at a fixed offset (keyed at once, not kept: a restored
    lot's times are objects of their own, which would only crowd the moments many accounts share out of it)."""
    return utc_key(when) if type(when.tzinfo) is timezone else shared_key(when)


def note_key(when: datetime, wall_epoch: datetime) -> timedelta:
    """``utc_key(when)`` worked out from ``when``'s offset alone, kept for ``shared_key``.

    ``wall_epoch``: 1970-01-01 00:00 held in ``when``'s own zone object, so
    that ``when`` less it is subtracted on their fields (neither asked for its
    offset); less ``when``'s offset, that is ``when`` less the epoch in UTC.
    (A new moment's expiry, in the community's zone: a key looked up by the
    time asks its zone for its offset to hash it, then twice to subtract.)
    """
    assert wall_epoch.tzinfo is when.tzinfo
    offset = when.utcoffset()
    assert offset is not None
    return keep_key(when, (when - wall_epoch) - offset)


def keep_key(when: datetime, key: timedelta) -> timedelta:
    """``key``, which is ``utc_key(when)`` (worked out by the caller), kept for ``shared_key``."""
    if len(_SHARED) > 4096:
        _SHARED.clear()
    _SHARED[id(when)] = (when, key)
    return key


#: by ``id``: a moment (kept, so its id is not reused while it is here) and its ``utc_key``
_SHARED: dict[int, tuple[datetime, timedelta]] = {}


def key_time(key: timedelta) -> datetime:
    """The moment (in UTC) a ``utc_key`` stands for."""
    return _EPOCH + key


def time_text(when: datetime) -> str:
    """``when.isoformat()``, kept for the last few thousand time objects asked (a checkpoint's texts): a lot's
    or a claim's time is its event's, one object for the events of a minute, and an expiry or a claim's end
    one object per moment, so many rows share one; the text of a time in the community's zone asks the zone
    for its offset and is formatted by ``printf``, about 10,000 instructions."""
    found = _TEXTS.get(id(when))
    if found is None or found[0] is not when:
        if len(_TEXTS) >= 8192:
            _TEXTS.clear()
        found = _TEXTS[id(when)] = (when, when.isoformat())
    return found[1]


def key_text(key: timedelta) -> str:
    """``key_time(key).isoformat()``, kept by the key for the last few thousand asked: the accounts a sweep
    advanced at one event, or first booked on at one moment, share it."""
    found = _KEY_TEXTS.get(key)
    if found is None:
        if len(_KEY_TEXTS) >= 8192:
            _KEY_TEXTS.clear()
        found = _KEY_TEXTS[key] = key_time(key).isoformat()
    return found


#: ``time_text``'s texts by the time's ``id``, with the time (kept, so its id is not reused while it is here)
_TEXTS: dict[int, tuple[datetime, str]] = {}
#: ``key_text``'s texts by key
_KEY_TEXTS: dict[timedelta, str] = {}
#: A quiet account is swept when something fell due, but at most once in this long (``Account.next_due``).
IDLE = timedelta(days=30)


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


class Calendar:
    """Period labels and ends of a community's zone, worked out once per local day.

    Every event asks for the labels of its day in every period kind (caps,
    streaks, limits, budgets); they change once a day, so they are kept for the
    last few days asked.
    """

    def __init__(self, tz: tzinfo, local_time: Callable[[datetime], datetime] | None = None,
                 local_date: Callable[[datetime], date] | None = None,
                 on_clock: Callable[[datetime], bool] | None = None,
                 on_clock_until: Callable[[datetime, date], bool] | None = None) -> None:
        self.tz = tz
        self._days: dict[date, tuple[dict[str, tuple[str, datetime]], dict[str, timedelta]]] = {}
        self._ends: dict[tuple[str, str], datetime] = {}
        self._marks: dict[date, tuple[tuple[tuple[str, str], datetime, timedelta], ...]] = {}
        #: each period's ``(kind, label)``, end and end's ``utc_key``, one triple of objects however many days ask
        self._spans: dict[tuple[str, str], tuple[tuple[str, str], datetime, timedelta]] = {}
        #: the labels of the periods of a unit beginning in a period, by (unit, period label, period end)
        self._units: dict[tuple[str, str, datetime], tuple[str, ...]] = {}
        # A time's local time and date in ``tz``: the engine's ``local_time`` and ``local_date`` (``tz`` its
        # community's), worked out once per time object for the core and every plugin; an activity asks for
        # its time's periods to be checked, then booked, then marked, and for when its credit expires.
        if local_time is None or local_date is None or on_clock is None or on_clock_until is None:
            own = LocalTimes(lambda: tz)
            local_time, local_date, on_clock, on_clock_until = own.time, own.date, own.on_clock, own.on_clock_until
        #: ``when.astimezone(self.tz)``
        self.local = local_time
        #: ``when.astimezone(self.tz).date()``
        self._day = local_date
        #: whether ``when``'s own date and time are ``self.local(when)``'s (fold 0; False: not known)
        self.on_clock = on_clock
        #: ``on_clock(when)``, and the zone's offset all the later ``day`` is ``when``'s (False: not known)
        self.on_clock_until = on_clock_until

    def periods(self, when: datetime) -> dict[str, tuple[str, datetime]]:
        """The label and end of the period of each kind containing ``when``, by kind."""
        return self.periods_and_ends(when)[0]

    def periods_and_ends(self, when: datetime) -> tuple[dict[str, tuple[str, datetime]], dict[str, timedelta]]:
        """``periods(when)``, and the ends of those periods as ``utc_key``s, by kind."""
        day = self._day(when)
        found = self._days.get(day)
        if found is None:
            if len(self._days) > 64:
                self._days.clear()
            labels: dict[str, tuple[str, datetime]] = {}
            keys: dict[str, timedelta] = {}
            for kind in KINDS:
                period = period_of_day(kind, day, self.tz)
                labels[kind] = (period.label, period.end)
                keys[kind] = utc_key(period.end)
            found = self._days[day] = (labels, keys)
        return found

    def marks(self, when: datetime) -> tuple[tuple[tuple[str, str], datetime, timedelta], ...]:
        """``((kind, label), end, utc_key(end))`` of the period of each kind containing ``when``.

        The same objects for a period whichever of its days asks (as long as
        the last few thousand periods asked for): every account marks its
        member active in the periods of its days (``Account.mark_active``),
        and the marks of thousands of accounts share one key and one end.
        """
        day = self._day(when)
        found = self._marks.get(day)
        if found is None:
            if len(self._marks) > 64:
                self._marks.clear()
            spans = self._spans
            if len(spans) > 4096:
                spans.clear()
            out = []
            for kind, (label, end) in self.periods(when).items():
                key = (kind, label)
                shared = spans.get(key)
                if shared is None:
                    shared = spans[key] = (key, end, utc_key(end))
                out.append(shared)
            found = self._marks[day] = tuple(out)
        return found

    def units(self, unit: str, label: str, end: datetime) -> tuple[str, ...]:
        """The labels of the periods of ``unit`` that begin in the period labelled ``label`` (ending at ``end``).

        Worked out once per period (``periods_starting_in``): every member
        active in it has a streak span over it judged when it ends.
        """
        key = (unit, label, end)
        found = self._units.get(key)
        if found is None:
            if len(self._units) > 4096:
                self._units.clear()
            start = parse_period(label, self.tz).start
            found = self._units[key] = tuple(period.label for period in periods_starting_in(unit, start, end, self.tz))
        return found

    def label(self, kind: str, when: datetime) -> str:
        """The label of the period of ``kind`` containing ``when`` (``2025-03``)."""
        return self.periods(when)[kind][0]

    def end(self, kind: str, label: str) -> datetime:
        """The end of the period of ``kind`` labelled ``label``; ``ValueError`` if the label is another kind's."""
        found = self._ends.get((kind, label))
        if found is None:
            period = parse_period(label, self.tz)
            if period.kind != kind:
                raise ValueError(f"a {kind} labelled {label!r}")
            if len(self._ends) > 4096:
                self._ends.clear()
            found = self._ends[(kind, label)] = period.end
        return found


class Record:
    """One booked entry: ``Entry``'s fields, read as an ``Entry``'s, with what explanations say besides it.

    ``rules`` is every rule behind an earning or deduction (item, tilts, caps,
    floor), None when the entry's own rule is all; ``taken`` is the lots a
    redemption took points from; ``net`` is the member's net (``Account.net``,
    every entry booked to it summed) with this entry.  A member's entries are
    booked in time order, so its net at the end of a month is the ``net`` of
    its last entry dated before then: a month's board, and a member's
    statement for a period it has entries in, read that month's (period's)
    entries, not every later one (api.py).

    A slots class with a plain ``__init__``, not a fact, holding the entry's fields itself: an ingest books
    one entry an earning and one an expiry that nothing reads as an ``Entry`` before the history stores it
    (``history.py`` writes it from these fields), and ``attrs``' frozen ``__init__`` sets each field through
    ``object.__setattr__`` (about 12,300 instructions an ``Entry`` of 11 fields, measured alone, against
    3,700 for a plain one).  One object an entry, not an entry and a record of it: each was an object the
    garbage collector walked while the history held it.  ``entry`` gives the ``Entry`` (equal field by
    field, made once, when first read, or the one it was made of: ``of``): every reader of the ledger
    (statements, boards, explanations) sees ``Entry`` facts as before.  A record's ``inputs`` are never
    changed once it is made, and may be one dict for many records (every earning no cap cut of one item,
    name, hours and quantity under the same tilts: ``booking.Uncut``; a dict kept for each was an object
    the garbage collector walked as long as the record stayed); its ``Entry`` gets a copy.
    """

    __slots__ = ("activity", "amount", "cause", "id", "inputs", "kind", "made", "member", "net", "node", "rule",
                 "rules", "summary", "taken", "time")

    def __init__(self, id: str, kind: str, amount: int, member: str, node: str, time: datetime,
                 rule: RuleRef | None, summary: str, cause: str | None, activity: str | None,
                 inputs: Mapping[str, Any], rules: tuple[RuleRef | None, ...] | None = None,
                 taken: tuple[tuple[str, int], ...] | None = None, net: int | None = None) -> None:
        """``Entry``'s fields in its order, every one given, then the record's own."""
        self.id = id
        self.kind = kind
        self.amount = amount
        self.member = member
        self.node = node
        self.time = time
        self.rule = rule
        self.summary = summary
        self.cause = cause
        self.activity = activity
        self.inputs = inputs
        self.rules = rules
        self.taken = taken
        #: None for an entry read from a part stored before nets were kept (history.py, ``PART_FORMAT`` 2)
        self.net = net
        #: the ``Entry`` of these fields, once made (``entry``), or the one the record was made of (``of``)
        self.made: Entry | None = None

    @classmethod
    def of(cls, entry: Entry, rules: tuple[RuleRef | None, ...] | None = None,
           taken: tuple[tuple[str, int], ...] | None = None, net: int | None = None) -> Record:
        """The record of ``entry`` (whose ``entry`` is that very object)."""
        record = cls(entry.id, entry.kind, entry.amount, entry.member, entry.node, entry.time, entry.rule,
                     entry.summary, entry.cause, entry.activity, entry.inputs, rules, taken, net)
        record.made = entry
        return record

    @property
    def entry(self) -> Entry:
        """The booked entry (made of these fields when first read, its inputs a dict of its own, and kept)."""
        made = self.made
        if made is None:
            made = self.made = Entry(self.id, self.kind, self.amount, self.member, self.node, self.time, self.rule,
                                     self.summary, self.cause, self.activity, dict(self.inputs))
        return made

    def __repr__(self) -> str:
        return (f"Record(id={self.id!r}, kind={self.kind!r}, amount={self.amount!r}, member={self.member!r}, "
                f"node={self.node!r}, time={self.time!r}, rule={self.rule!r}, summary={self.summary!r}, "
                f"cause={self.cause!r}, activity={self.activity!r}, inputs={self.inputs!r}, rules={self.rules!r}, "
                f"taken={self.taken!r}, net={self.net!r})")


class Journal(Protocol):
    """Where an account's booked entries go (the state's ``History``, or a copy's ``Extras``)."""

    def add(self, record: Record) -> None:
        """Keep a booked entry."""


class Extras(list[Record]):
    """The journal of an account's copy: what it booked beyond the account it was copied from."""

    def add(self, record: Record) -> None:
        """Keep a booked entry."""
        self.append(record)


@define(eq=False)
class Lot:
    """Points from one credit that are not yet spent or expired."""

    entry_id: str
    time: datetime
    node: str
    remaining: int
    expires: datetime | None
    #: the expiry rule that set ``expires``.
    expiry_rule: RuleRef | None
    #: its number among the lots its account opened (from 0, in the order opened) and the points it
    #: opened with: a checkpoint stores an account's lots in sealed parts of a few by number (checkpoint.py)
    number: int = field(default=-1, repr=False, eq=False)
    amount: int = field(default=0, repr=False, eq=False)


@define
class Account:
    """Everything the ledger knows about one member: history and what is still open."""

    member: str
    #: where booked entries go, in time order (the member's history).
    journal: Journal = field(factory=Extras)
    #: unspent lots, oldest first (time, then entry id).
    lots: list[Lot] = field(factory=list)
    #: the sum of the lots, less the debt.
    balance: int = 0
    #: points deducted beyond the lots (only under a floor below zero); credits pay it first.
    debt: int = 0
    #: None while the lots expire in their own order (their expiries never fall along ``lots``, one
    #: without expiry counting as the latest: every credit under one expiry rule), so the first lot
    #: expires first; else the lots with an expiry as a heap by (expires, time, entry id), spent lots
    #: skipped when popped (``_expiry_heap``).
    expiring: list[tuple[datetime, datetime, str, Lot]] | None = None
    #: points counted toward caps per scope in the current period of each kind (caps.py)
    earned: dict[str, CapCount] = field(factory=dict)
    #: periods (kind, label) in which the member earned activity points, with their ends,
    #: kept while an open span may need them for a streak bonus.
    active: dict[tuple[str, str], datetime] = field(factory=dict)
    #: spans (kind, label) -> end, waiting to be judged for streak bonuses.
    open_spans: dict[tuple[str, str], datetime] = field(factory=dict)
    #: last node the member earned activity points in, per open span.
    span_node: dict[tuple[str, str], str] = field(factory=dict)
    #: ``active`` is pruned when it grows past this (amortised: pruning reads every mark).
    prune_at: int = 64
    #: the sum of every entry booked, and its parts as ``totals`` counts them (all positive).
    net: int = 0
    credited: int = 0
    redeemed: int = 0
    expired: int = 0
    deducted: int = 0
    #: every rule behind an entry booked (what a what-if lists for a changed balance): a frozen set, one
    #: object for every account that noted the same rules in the same order (``_noted``), replaced as it grows
    rules: frozenset[RuleRef] = field(default=frozenset())
    #: the rules (a tuple, or one rule) an entry last added to ``rules``, and the expiry rule an expiry last
    #: added: the same object again adds nothing (``rules`` only grows), so it is not asked again
    rules_noted: Any = field(default=None, init=False, repr=False, eq=False)
    expiry_noted: Any = field(default=None, init=False, repr=False, eq=False)
    #: no open span ends before this (None: not known; worked out again when asked), so
    #: ``advance`` reads ``open_spans`` only when one may have ended
    span_due: datetime | None = field(default=None, init=False, repr=False, eq=False)
    #: ``(utc_key(end), span)`` of every open span, a heap by end then span: the order ``advance`` judges
    #: them in (None: not built; built from ``open_spans`` when ``advance`` first needs it).  A tuple while
    #: it is the heap of a member's first day, shared by every account whose first activity was that day
    #: (``_mark_ends``): copied into a list of its own when it first changes (``_own_span_heap``)
    span_heap: list[tuple[timedelta, tuple[str, str]]] | tuple[tuple[timedelta, tuple[str, str]], ...] | None = (
        field(default=None, init=False, repr=False, eq=False))
    #: the latest moment the account was advanced to (by its member's events or a sweep), a ``utc_key``
    advanced_to: timedelta | None = None
    #: the time of the first entry booked to the account, a ``utc_key`` (None: none yet): a statement of a
    #: period before it knows the member's balance then is nothing, without reading later history (api.py)
    first: timedelta | None = None
    #: a first lot's expiry (that object) and its ``utc_key``, as ``lots_key`` last worked it out
    lots_due_key: tuple[datetime, timedelta] | None = field(default=None, init=False, repr=False, eq=False)
    #: no period of a cap counter in ``earned`` ends after this ``utc_key`` (None: not known): ``advance``
    #: drops the counters once it has passed
    earned_last: timedelta | None = field(default=None, init=False, repr=False, eq=False)
    #: the latest end among the open spans and the cap counters' periods, a ``utc_key`` (``NEVER_KEY``:
    #: none open; None: not known, worked out when ``next_due`` asks).  Kept as they change: a span or a
    #: period added may move it later; ``advance`` drops only what ended by the moment it advances to,
    #: when all that is left ends after it, so the latest end stays until nothing is left.
    closing: timedelta | None = field(default=None, init=False, repr=False, eq=False)
    #: the lots and activity marks as a checkpoint wrote them, not read back yet (a
    #: restored account is read back when first booked on or advanced: ``unpacker``)
    packed: str | None = field(default=None, repr=False, eq=False)
    #: the earliest expiry of the packed lots (``NEVER``: none)
    packed_due: datetime = field(default=NEVER, repr=False, eq=False)
    #: reads ``packed`` into ``lots``, ``expiring`` and ``active`` and clears it (checkpoint.py)
    unpacker: Callable[[Account], None] | None = field(default=None, repr=False, eq=False)
    #: lots opened so far, and those opened since the last part of a few a checkpoint sealed, spent or
    #: not (``Lot.number``; checkpoint.py)
    opened: int = field(default=0, repr=False, eq=False)
    fresh: list[Lot] = field(factory=list, repr=False, eq=False)
    #: the lots text the last checkpoint dumped of this very account (checkpoint.py: where it holds the fresh
    #: lots' rows is known for it alone)
    dumped: str | None = field(default=None, init=False, repr=False, eq=False)

    @classmethod
    def new(cls, member: str, journal: Journal) -> Account:
        """``Account(member, journal=journal)``: a member's first account, every field set in one frame.

        (A young window opens an account with about every other event: ``attrs``' ``__init__`` takes its 24
        arguments and reads its defaults at each call, about twice the instructions of these stores.
        ``tests/test_points_advance.py`` holds the two to the same fields.)
        """
        account = _new_object(cls)
        account.member, account.journal, account.lots, account.balance, account.debt = member, journal, [], 0, 0
        account.expiring, account.earned, account.active, account.open_spans = None, {}, {}, {}
        account.span_node, account.prune_at, account.net, account.credited = {}, 64, 0, 0
        account.redeemed = account.expired = account.deducted = 0
        account.rules, account.rules_noted, account.expiry_noted = _NO_RULES, None, None
        account.span_due = account.span_heap = account.advanced_to = account.first = None
        account.lots_due_key = account.earned_last = account.closing = account.packed = None
        account.packed_due, account.unpacker, account.opened, account.fresh = NEVER, None, 0, []
        account.dumped = None
        return account

    @classmethod
    def first_earning(cls, member: str, journal: Journal, entry: Record, scope: str,
                      rules: tuple[RuleRef | None, ...] | None, expires: datetime | None,
                      expiry_rule: RuleRef | None, periods: dict[str, tuple[str, datetime]],
                      ends: dict[str, timedelta], marks: tuple[tuple[tuple[str, str], datetime, timedelta], ...],
                      now: timedelta) -> Account:
        """A new member's account with its first earning booked: ``new(member, journal)``, ``advance`` to
        ``now`` (nothing open: only ``advanced_to`` set), then ``earn(entry, scope, rules, expires,
        expiry_rule, periods, ends, marks)``, every field set once in one frame.

        (About every other event of a young window is a new member's first activity: ``new``, ``advance``,
        ``earn``, ``_open_lot``, two ``CapCount.opened`` and the ends kept as each opens, each a call, set
        most fields twice.  ``tests/test_points_advance.py`` holds the two ways to the same account.)
        ``entry``: an earning of more than 0 points (its ``rules`` and ``net`` set here), ``scope`` not
        ``*``.
        """
        amount = entry.amount
        time = entry.time
        entry.rules, entry.net = rules, amount  # (``taken``: None, as made)
        journal.add(entry)
        lot = Lot(entry.id, time, entry.node, amount, expires, expiry_rule, 0, amount)
        spans, heap = _mark_ends(marks)
        account = _new_object(cls)
        account.member, account.journal, account.lots, account.balance, account.debt = member, journal, [lot], amount, 0
        account.expiring = None
        mine, every = CapCount.opened_two(amount, periods, ends)
        account.earned = {scope: mine, "*": every}
        account.active, account.open_spans, account.span_node = spans.copy(), spans.copy(), dict.fromkeys(spans, entry.node)
        account.prune_at, account.net, account.credited = 64, amount, amount
        account.redeemed = account.expired = account.deducted = 0
        noted = rules if rules is not None else entry.rule
        if noted is None:
            account.rules = _NO_RULES
        else:
            account.rules = _noted(_NO_RULES, noted)
        account.rules_noted, account.expiry_noted = noted, None
        account.span_due = account.lots_due_key = account.earned_last = account.packed = account.dumped = None
        account.span_heap, account.advanced_to, account.first = heap, now, utc_key(time)
        account.closing = mine.last  # (the week's or the year's end, whichever is later: ``_day_tuples``)
        account.packed_due, account.unpacker, account.opened, account.fresh = NEVER, None, 1, [lot]
        return account

    def unpack(self) -> None:
        """Read back what a checkpoint packed (nothing to do for an account built by events)."""
        if self.packed is not None:
            assert self.unpacker is not None
            self.unpacker(self)
            if self.expiring is not None and _in_expiry_order(self.lots):
                self.expiring = None

    def add(self, entry: Entry | Record, *, rules: tuple[RuleRef | None, ...] | None = None,
            taken: tuple[tuple[str, int], ...] | None = None) -> None:
        """Book an entry to the journal (entries arrive in time order) and count it.

        ``entry``: an ``Entry``, or a ``Record`` not yet booked (its ``rules``, ``taken`` and ``net`` set here).
        """
        amount = entry.amount
        self.net += amount
        if type(entry) is Record:
            entry.rules, entry.taken, entry.net = rules, taken, self.net
            self.journal.add(entry)
        else:
            assert isinstance(entry, Entry)
            self.journal.add(Record.of(entry, rules, taken, self.net))
        if self.first is None:
            self.first = utc_key(entry.time)
        kind = entry.kind
        if kind in CREDITS:
            self.credited += amount
        elif kind == "redeem":
            self.redeemed -= amount
        elif kind == "expire":
            self.expired -= amount
        elif kind == "deduct":
            self.deducted -= amount
        noted = rules if rules is not None else entry.rule
        if noted is not self.rules_noted:
            self.rules = _noted(self.rules, noted)
            self.rules_noted = noted

    @property
    def extras(self) -> list[Record]:
        """What a copy booked beyond its account (nothing for the account itself)."""
        return self.journal if isinstance(self.journal, Extras) else []

    def credit(
        self,
        entry: Entry | Record,
        *,
        expires: datetime | None,
        expiry_rule: RuleRef | None = None,
        caps_scopes: tuple[str, ...] = (),
        calendar: Calendar | None = None,
        rules: tuple[RuleRef | None, ...] | None = None,
        day: tuple[dict[str, tuple[str, datetime]], dict[str, timedelta]] | None = None,
    ) -> None:
        """Book a credit: append the entry, open a lot, count it toward caps in ``caps_scopes``.

        ``day``: ``calendar.periods_and_ends(entry.time)``, if the caller has it.
        """
        if self.packed is not None:
            self.unpack()
        self.add(entry, rules=rules)
        if entry.amount <= 0:
            return
        repaid = min(self.debt, entry.amount)
        self.debt -= repaid
        self.balance += entry.amount
        if entry.amount > repaid:
            self._open_lot(entry, entry.amount - repaid, expires, expiry_rule)
        if calendar is not None and caps_scopes:
            periods, ends = day if day is not None else calendar.periods_and_ends(entry.time)
            earned = self.earned
            for scope in caps_scopes:
                count = earned.get(scope)
                if count is None:
                    count = earned[scope] = CapCount()
                ended = count.last
                began = count.add(entry.amount, periods, ends)
                if began is not None:
                    last = self.earned_last
                    if last is not None and count.last is not None and count.last > last:
                        self.earned_last = count.last
                    self._closing_at(count.last, ended)

    def earn(
        self,
        entry: Record,
        scope: str,
        rules: tuple[RuleRef | None, ...] | None,
        expires: datetime | None,
        expiry_rule: RuleRef | None,
        periods: dict[str, tuple[str, datetime]],
        ends: dict[str, timedelta],
        marks: tuple[tuple[tuple[str, str], datetime, timedelta], ...] | None,
    ) -> None:
        """An earning booked in one step: ``credit`` (counted toward caps in ``scope``, an activity or an
        incident's or task's trigger, and ``*``), then, with ``marks`` (``Calendar.marks`` of its time, an
        activity's), ``mark_active``.

        What ``add``, ``credit``, the two counters' ``CapCount.add`` and ``mark_active`` do, in that
        order, with the objects an earning keeps (its ``Record``, its ``Lot``) built once each and no call
        between them for what an earning on a day already counted does (one per activity, and per payee of
        an incident or a task: ``Booking.earn``; other credits go through ``credit``).  ``periods`` and
        ``ends``: ``calendar.periods_and_ends(entry.time)``.
        """
        if self.packed is not None:
            self.unpack()
        # (nothing open before it: with ``marks``, what it opens ends in the periods of its day, the latest
        # being the week's or the year's, so the latest end, ``closing``, is known without ``latest_end``)
        opens = not self.open_spans and not self.earned
        amount = entry.amount
        net = self.net = self.net + amount
        entry.rules, entry.net = rules, net  # (``taken``: None, as made)
        self.journal.add(entry)
        if self.first is None:
            self.first = utc_key(entry.time)
        self.credited += amount
        noted = rules if rules is not None else entry.rule
        if noted is not self.rules_noted:
            self.rules = _noted(self.rules, noted)
            self.rules_noted = noted
        if amount > 0:
            debt = self.debt
            self.balance += amount
            if debt:
                repaid = min(debt, amount)
                self.debt = debt - repaid
            else:
                repaid = 0
            if amount > repaid:
                self._open_lot(entry, amount - repaid, expires, expiry_rule)
            earned = self.earned
            for counted in (scope, "*"):
                count = earned.get(counted)
                if count is not None and count.day is periods:
                    count.total += amount  # (``CapCount.add`` on the day it last counted)
                    continue
                if count is None:
                    count = earned[counted] = CapCount.opened(amount, periods, ends)
                    ended, began = None, count.first
                else:
                    ended = count.last
                    began = count.add(amount, periods, ends)
                if began is not None:
                    last = self.earned_last
                    if last is not None and count.last is not None and count.last > last:
                        self.earned_last = count.last
                    self._closing_at(count.last, ended)
        if marks is None:
            return
        active, open_spans, span_node, node = self.active, self.open_spans, self.span_node, entry.node
        if opens and not active and self.span_heap is None and self.span_due is None:
            # (a member's first activity: every span of its day opened at once, in the order of ``marks``)
            spans, heap = _mark_ends(marks)
            active.update(spans)
            open_spans.update(spans)
            span_node.update(dict.fromkeys(spans, node))
            # (its spans' heap by end, with the keys the calendar holds: ``advance`` would build it from
            # ``open_spans`` asking each end's key; shared until it changes)
            self.span_heap = heap
            self.closing = _latest(ends)
            return
        for span, end, key in marks:  # (``mark_active``)
            active[span] = end
            if span not in open_spans:
                open_spans[span] = end
                closing = self.closing
                if closing is not None:
                    if closing == NEVER_KEY:
                        self.closing = None
                    elif key > closing:
                        self.closing = key
                if self.span_heap is not None:
                    heapq.heappush(self._own_span_heap(), (key, span))
                if self.span_due is not None and end < self.span_due:
                    self.span_due = end
            span_node[span] = node
        if opens:
            self.closing = _latest(ends)

    def _open_lot(self, entry: Entry | Record, remaining: int, expires: datetime | None, expiry_rule: RuleRef | None,
                  ) -> None:
        """Open the lot of a credit of ``remaining`` points (what the debt left of it), in time order."""
        lot = Lot(entry.id, entry.time, entry.node, remaining, expires, expiry_rule, self.opened, remaining)
        self.opened += 1
        fresh = self.fresh
        fresh.append(lot)
        if len(fresh) > FRESH_LOOK and not any(old.remaining for old in fresh[:LOT_PART]):
            self._leave_out_spent(fresh)
        lots = self.lots
        if not lots:
            self.expiring = None  # (a heap of spent lots only)
            lots.append(lot)
            return
        last = lots[-1]
        time = lot.time
        if last.time < time or (last.time == time and last.entry_id < lot.entry_id):
            lots.append(lot)
            at = len(lots) - 1
        else:  # a credit dated at the same moment as a later-named lot: keep the order
            key = (time, lot.entry_id)
            at = next(i for i, old in enumerate(lots) if (old.time, old.entry_id) > key)
            lots.insert(at, lot)
        if self.expiring is None:
            if at + 1 == len(lots):  # (appended, the usual case: in order unless it expires before the last)
                if expires is not None:
                    before = lots[at - 1].expires
                    # (a restored lot's expiry is at a fixed offset, a new one's in the community's zone: times of
                    # two zone objects compare by asking each its offset, so by their keys)
                    if before is None or (before > expires if before.tzinfo is expires.tzinfo
                                          else moment_key(before) > moment_key(expires)):
                        self._expiry_heap()
            elif not _expires_by(lots[at - 1] if at else None, lot, lots[at + 1]):
                self._expiry_heap()
        elif expires is not None:
            heapq.heappush(self.expiring, (expires, lot.time, lot.entry_id, lot))

    def earned_in(self, scope: str, period: str, label: str) -> int:
        """Points counted toward caps for ``scope`` in the ``period`` labelled ``label``."""
        count = self.earned.get(scope)
        return count.count(period, label) if count is not None else 0

    def mark_active(self, when: datetime, node: str, calendar: Calendar) -> None:
        """Note that the member earned activity points at ``when`` (for streak bonuses)."""
        if self.packed is not None:
            self.unpack()
        active, open_spans, span_node = self.active, self.open_spans, self.span_node
        for span, end, key in calendar.marks(when):
            active[span] = end
            if span not in open_spans:
                open_spans[span] = end
                # (``_closing_at(key)`` written out: a member's first activity opens a span of every kind)
                closing = self.closing
                if closing is not None:
                    if closing == NEVER_KEY:
                        self.closing = None
                    elif key > closing:
                        self.closing = key
                if self.span_heap is not None:
                    heapq.heappush(self._own_span_heap(), (key, span))
                if self.span_due is not None and end < self.span_due:
                    self.span_due = end
            span_node[span] = node

    def debit(self, entry: Entry | Record) -> list[tuple[str, int]]:
        """Book a redemption of ``-entry.amount`` points from the oldest lots first.

        Returns ``(lot entry id, points taken)`` pairs.  The caller has checked the
        balance; taking more than there is raises ``ValueError`` and changes nothing.
        """
        self.unpack()
        cost = -entry.amount
        if cost > self.balance:
            raise ValueError(f"{self.member} has {self.balance} points, {cost} needed")
        taken: list[tuple[str, int]] = []
        left = cost
        spent = 0
        for lot in self.lots:
            if left == 0:
                break
            take = min(lot.remaining, left)
            lot.remaining -= take
            left -= take
            taken.append((lot.entry_id, take))
            if lot.remaining == 0:
                spent += 1
        del self.lots[:spent]
        self.balance -= cost
        self.add(entry, taken=tuple(taken))
        return taken

    def deduct(self, entry: Entry, rules: tuple[RuleRef | None, ...] | None = None) -> list[tuple[str, int]]:
        """Book a deduction of ``-entry.amount`` points: the oldest lots first, the rest as debt.

        The caller has applied the floor; returns ``(lot entry id, points taken)`` pairs.
        """
        self.unpack()
        taken: list[tuple[str, int]] = []
        left = -entry.amount
        spent = 0
        for lot in self.lots:
            if left == 0:
                break
            take = min(lot.remaining, left)
            lot.remaining -= take
            left -= take
            taken.append((lot.entry_id, take))
            if lot.remaining == 0:
                spent += 1
        del self.lots[:spent]
        self.debt += left
        self.balance += entry.amount
        self.add(entry, rules=rules)
        return taken

    def next_due(self) -> timedelta:
        """When the state advances this account without an event of its member (``Records.sweep``): a ``utc_key``.

        When its first lot expires, or when every span and cap counter it
        holds has ended, but not before ``IDLE`` after the account was last
        advanced: a member's own events advance it anyway, so only a quiet
        account is swept, and then what fell due by then at once.
        ``NEVER_KEY`` when nothing is open.  Worked out from what the account
        holds (``advanced_to`` is saved with it), so a state restored from a
        checkpoint sweeps each account when a replay would.
        """
        closing = self.closing  # (asked after each event of an active member: kept, not worked out)
        if closing is None:
            closing = self.closing = self.latest_end()
        if self.packed is None and self.expiring is None:  # (``lots_due`` written out: the first lot's)
            lots = self.lots
            expires = lots[0].expires if lots else None
            due = closing if expires is None else min(self.lots_key(expires), closing)
        else:
            due = min(self.lots_key(self.lots_due()), closing)
        if due == NEVER_KEY or self.advanced_to is None:
            return due
        return max(due, self.advanced_to + IDLE)

    def latest_end(self) -> timedelta:
        """The latest end among the open spans and the cap counters' periods (``NEVER_KEY``: none open)."""
        closing = NEVER_KEY
        spans, earned = self.open_spans, self.earned
        if spans or earned:
            closing = shared_key(max(spans.values())) if spans else _DAWN
            for count in earned.values():
                end = count.last
                if end is not None and end > closing:
                    closing = end
        return closing

    def _closing_at(self, end: timedelta | None, before: timedelta | None = None) -> None:
        """A span or a counter's periods now end at ``end`` (a counter's ended at ``before`` until now)."""
        closing = self.closing
        if closing is None:
            return
        if closing == NEVER_KEY or (before is not None and (end is None or end < before)):
            self.closing = None  # (the first thing open, or an end moved earlier: worked out when asked)
        elif end is not None and end > closing:
            self.closing = end

    def _own_span_heap(self) -> list[tuple[timedelta, tuple[str, str]]]:
        """``span_heap`` as a list of this account's own (a copy of the shared tuple of a first day's spans)."""
        heap = self.span_heap
        if heap is None:
            raise ValueError("no heap of open spans built")
        if isinstance(heap, tuple):
            heap = self.span_heap = list(heap)
        return heap

    def lots_key(self, moment: datetime) -> timedelta:
        """``utc_key`` of a lot's expiry, kept while the same lot comes first (for months, mostly)."""
        known = self.lots_due_key
        if known is None or known[0] is not moment:
            # (by the moment's object: an expiry is one object for every credit of its moment, whose key
            # ``Booking._expires`` noted, ``note_key``; a restored lot's, at a fixed offset, keyed at once)
            known = self.lots_due_key = (moment, moment_key(moment))
        return known[1]

    def _spans_due(self) -> datetime:
        due = self.span_due
        if due is None:
            due = self.span_due = min(self.open_spans.values(), default=NEVER)
        return due

    def lots_due(self) -> datetime:
        """When the first unspent lot expires (``NEVER``: none expires)."""
        if self.packed is not None:
            return self.packed_due
        expiring = self.expiring
        if expiring is None:
            expires = self.lots[0].expires if self.lots else None
            return NEVER if expires is None else expires
        while expiring and expiring[0][3].remaining == 0:
            heapq.heappop(expiring)  # spent before it expired
        return expiring[0][0] if expiring else NEVER

    def _earned_last(self) -> timedelta:
        last = self.earned_last
        if last is None:
            # (``max`` of the counters' ends, ``_DAWN`` for none, without its call and a generator's frame)
            last = _DAWN
            for count in self.earned.values():
                end = count.last
                if end is not None and end > last:
                    last = end
            self.earned_last = last
        return last

    def advance(self, until: datetime, policy_at: PolicyAt, calendar: Calendar, now: timedelta | None = None,
                paying: Pays | None = None) -> None:
        """Book every expiry and streak bonus that fell due at or before ``until``, in time order.

        Cap counters are dropped once every period they count in ended by
        ``until``; a counter's own periods that ended are left (a credit's
        periods replace them, ``CapCount.count`` finds their labels past, and
        ``current_earned`` and a checkpoint leave them out: those that ended
        by ``advanced_to``).  ``now``: ``utc_key(until)``, if the caller has it.
        ``paying``: a span it says cannot pay is closed without asking ``policy_at``.
        """
        if now is None:
            now = utc_key(until)
        if self.advanced_to is None or now > self.advanced_to:
            self.advanced_to = now
        if not self.lots and not self.open_spans and not self.earned and self.packed is None and self.expiring is None:
            return  # (nothing open, nothing due: a member's first event, mostly)
        last = self.earned_last  # (``_earned_last``, kept: asked without its call)
        if self.earned and (last if last is not None else self._earned_last()) <= now:
            # (every period of every counter ended: no credit reads them.  Until then, a member's advance on a
            # new day drops nothing: it was a pass over every counter, of every activity the member earned
            # points for this year, for the periods the day's credits replace anyway)
            self.earned = {}
            self.earned_last = None
            if not self.open_spans:
                self.closing = NEVER_KEY
        if self.packed is not None:
            if self.packed_due > until and self._spans_due() > until:
                return  # nothing due: left packed
            self.unpack()
        # The open spans by end (then span), as ``utc_key``s: a period's end and an event's time are
        # of different zones.  Judging one books at most a credit, never a span, so the heap only
        # shrinks here.
        spans = self.span_heap
        if spans is None:
            spans = self.span_heap = [(shared_key(end), span) for span, end in self.open_spans.items()]
            heapq.heapify(spans)
        elif spans and spans[0][0] <= now:  # (something to judge: the heap changes)
            spans = self._own_span_heap()
        elif self.expiring is None:
            # (nothing due, an active member's event mostly: the loop's first look below, without its call of
            # ``lots_key`` when the first lot's expiry is the one keyed last)
            lots = self.lots
            expires = lots[0].expires if lots else None
            if expires is None:
                return
            known = self.lots_due_key
            if (known[1] if known is not None and known[0] is expires else self.lots_key(expires)) > now:
                return
        # (the next lot to expire by ``now``, read again only after something changed the lots: an expiry, a
        # span judged, which may credit a bonus; a span closed without judging leaves them as they were)
        lots_read = False
        expiring: list[tuple[datetime, datetime, str, Lot]] | None = None
        lot_time: datetime | None = None
        lot_key: timedelta | None = None
        while True:
            if not lots_read:
                expiring = self.expiring
                if expiring is None:
                    lot_time = self.lots[0].expires if self.lots else None
                else:
                    while expiring and expiring[0][3].remaining == 0:
                        heapq.heappop(expiring)  # spent before it expired
                    lot_time = expiring[0][0] if expiring else None
                lot_key = None if lot_time is None else self.lots_key(lot_time)
                if lot_key is not None and lot_key > now:
                    lot_time = lot_key = None
                lots_read = True
            if spans and spans[0][0] <= now and (lot_key is None or spans[0][0] < lot_key):
                assert isinstance(spans, list)  # (the account's own: made so above, as one was due)
                span = heapq.heappop(spans)[1]
                span_end = self.open_spans.pop(span)
                self.span_due = None
                if not self.open_spans and not self.earned:
                    self.closing = NEVER_KEY
                if paying is not None and not paying(span[0], span_end, self.span_node.get(span, "")):
                    # No streak reads spans of its kind (most spans: a member opens one of each kind with
                    # each activity, and one or two end before their next event): closed as
                    # ``_judge_streak`` closes it then, without the call.
                    self.span_node.pop(span, None)
                    if len(self.active) > self.prune_at:
                        self._forget_inactive()
                        self.prune_at = 2 * len(self.active) + 64
                    continue
                # (``paying`` said it may pay: ``_judge_streak`` would ask it again, then the policy)
                self._judge_streak(span, span_end, policy_at, calendar)
                lots_read = False
                continue
            if lot_time is None:
                return
            self._expire(self.lots[0] if expiring is None else heapq.heappop(expiring)[3])
            lots_read = False

    def _expiry_heap(self) -> None:
        """Keep the lots with an expiry in a heap from now on: they no longer expire in their own order."""
        self.expiring = [(lot.expires, lot.time, lot.entry_id, lot) for lot in self.lots if lot.expires is not None]
        heapq.heapify(self.expiring)

    def _expire(self, lot: Lot) -> None:
        """Book the expiry of what is left of ``lot`` and drop it from the lots.

        (``add`` written out for this one kind, the entry built by position: a
        year on, about one expiry is booked per earning.)
        """
        assert lot.expires is not None
        lots = self.lots
        if lots[0] is lot:
            del lots[0]
        else:
            lots.remove(lot)
        remaining, entry_id, rule = lot.remaining, lot.entry_id, lot.expiry_rule
        self.balance -= remaining
        self.net -= remaining
        self.journal.add(Record(
            f"expire:{entry_id}", "expire", -remaining, self.member, lot.node, lot.expires, rule,
            f"{remaining} unspent points of {entry_id} expired", None, None,
            {"earned_at": lot.time.isoformat(), "lot": entry_id, "unspent": remaining}, None, None, self.net,
        ))
        self.expired += remaining
        if rule is not None and rule is not self.expiry_noted:
            self.rules = _noted(self.rules, rule)
            self.expiry_noted = rule
        lot.remaining = 0

    def _judge_streak(self, span: tuple[str, str], end: datetime, policy_at: PolicyAt, calendar: Calendar,
                      paying: Pays | None = None) -> None:
        kind, label = span
        node = self.span_node.pop(span, "")
        policy = (policy_at(end - timedelta(microseconds=1), node or None)
                  if paying is None or paying(kind, end, node) else None)
        if policy is not None and any(streak.span == kind for streak in policy.streaks):
            tz = calendar.tz
            for streak in policy.streaks:
                if streak.span != kind:
                    continue
                units = calendar.units(streak.unit, label, end)
                if not units or not all((streak.unit, unit) in self.active for unit in units):
                    continue
                entry = Entry(
                    id=f"streak:{self.member}:{streak.unit}-{label}",
                    kind="bonus",
                    amount=streak.points,
                    member=self.member,
                    node=node,
                    time=end,
                    rule=streak.rule,
                    summary=f"streak bonus: active in every {streak.unit} of {label}",
                    inputs={"span": label, "units": ", ".join(units)},
                )
                expiry = policy.expiry
                expires = add_months(end, expiry.months, tz) if expiry else None
                self.credit(entry, expires=expires, expiry_rule=expiry.rule if expiry else None)
        if len(self.active) > self.prune_at:
            self._forget_inactive()
            self.prune_at = 2 * len(self.active) + 64

    def _forget_inactive(self) -> None:
        """Drop activity marks no open span can read: they end before every open span starts."""
        self.active = self.readable_marks()

    def readable_marks(self) -> dict[tuple[str, str], datetime]:
        """The activity marks an open span may still read (``active`` less what pruning would drop)."""
        self.unpack()
        if not self.open_spans:
            return {}
        # A span starts where the previous period of its kind ends: the earliest
        # end among open spans bounds their starts from above only, so keep every
        # mark that ends after the start of the earliest-starting open span.
        earliest = min(_span_start(kind, end) for (kind, _), end in self.open_spans.items())
        return {mark: end for mark, end in self.active.items() if end > earliest}

    def current_earned(self) -> dict[tuple[str, str], tuple[str, int, timedelta]]:
        """The cap counters a later credit may still read: of each period kind, the latest period's.

        Credits come in time order, so a counter labelled with an earlier period
        than the newest of its kind is never read again (it counts as 0).
        """
        every = []
        newest: dict[str, str] = {}
        now = self.advanced_to  # (a counter's periods that ended by then are past: ``advance`` leaves them)
        for scope, count in self.earned.items():
            total, ends = count.total, count.ends
            for n, label in enumerate(count.labels):
                if label is not None and (now is None or ends[n] > now):
                    kind = KINDS[n]
                    every.append(((scope, kind), (label, total - count.starts[n], count.ends[n])))
                    if label > newest.get(kind, ""):
                        newest[kind] = label
        return {key: value for key, value in every if value[0] == newest[key[1]]}

    def _leave_out_spent(self, fresh: list[Lot]) -> None:
        """Leave out of ``fresh`` the leading parts' worth of lots (``LOT_PART`` each) of which no lot is open.

        A checkpoint seals the fresh lots in parts of ``LOT_PART`` and names only the parts
        that hold an open lot (a lot never opens again once spent or expired): such a part
        is never read.  Without this, the fresh lots held every lot opened since the last
        checkpoint, spent or not: a long replay takes no checkpoint, and replaying 898,948
        events held 731,931 lots where the same state restored from a checkpoint holds 18,899.
        """
        base = fresh[0].number  # (a multiple of LOT_PART: parts are cut from the front, whole)
        # (a lot is open while it is among the lots: spent or expired, it has nothing left and is dropped)
        first_open = min([lot.number for lot in self.lots], default=self.opened)
        cut = min(first_open - base, len(fresh)) // LOT_PART * LOT_PART
        if cut > 0:
            del fresh[:cut]

    def copy(self) -> Account:
        """A copy whose open part can be advanced without touching this account (its own journal).

        A restored account not read back yet gives a copy holding the same
        packed text, read back into the copy only if the copy needs its lots:
        the account stays packed, and its lots are not built twice.
        """
        if self.packed is not None:
            return self._copy_with(packed=self.packed, packed_due=self.packed_due, unpacker=self.unpacker)
        lots = [Lot(lot.entry_id, lot.time, lot.node, lot.remaining, lot.expires, lot.expiry_rule)
                for lot in self.lots]
        expiring = None
        if self.expiring is not None:
            by_id = {lot.entry_id: lot for lot in lots}
            expiring = [(expires, time, ident, by_id[ident]) for expires, time, ident, lot in self.expiring
                        if ident in by_id]
            heapq.heapify(expiring)
        return self._copy_with(lots=lots, expiring=expiring, active=dict(self.active), prune_at=self.prune_at)

    def _copy_with(self, **own: Any) -> Account:
        """A new account with this one's totals, counters, spans and rules (copied), and ``own``."""
        return Account(
            member=self.member,
            balance=self.balance,
            debt=self.debt,
            earned={scope: count.copy() for scope, count in self.earned.items()},
            open_spans=dict(self.open_spans),
            span_node=dict(self.span_node),
            net=self.net,
            credited=self.credited,
            redeemed=self.redeemed,
            expired=self.expired,
            deducted=self.deducted,
            rules=self.rules,
            advanced_to=self.advanced_to,
            first=self.first,
            **own,
        )

    def view(self, until: datetime, policy_at: PolicyAt, calendar: Calendar, paying: Pays | None = None,
             ) -> Account:
        """The account advanced to ``until``: itself if nothing fell due, else a copy (``extras``).

        ``paying`` (``pays(policy_at)``, shared by the views of one query): a
        streak span whose judging cannot pay a bonus is not something due (the
        copy would book nothing for it), so an account with only such spans
        ended is its own view, and its packed lots are not read.
        """
        if not self._due_by(until, paying or pays(policy_at)):
            return self
        copied = self.copy()
        copied.advance(until, policy_at, calendar)
        return copied

    def balance_at(self, until: datetime, policy_at: PolicyAt, calendar: Calendar, paying: Pays | None = None,
                   ) -> int:
        """``view(until, ...).balance``, without copying the account when only lots fall due by ``until``.

        Judging an ended span that cannot pay books nothing, and expiring a lot
        takes its remaining points off the balance and nothing else: unless a
        span ended by ``until`` may pay a bonus (or the lots are still packed),
        the view's balance is the balance less what the lots expiring by then
        hold (a redemption's check asks this of a member not advanced to it).
        """
        paying = paying or pays(policy_at)
        if self._may_pay_by(until, paying):
            return self.view(until, policy_at, calendar, paying).balance
        if self.lots_due() > until:
            return self.balance
        if self.packed is not None:
            return self.view(until, policy_at, calendar, paying).balance
        expiring = 0
        # (by their keys where a lot's expiry is of another zone object than ``until``: a restored lot's is at a
        # fixed offset, a new one's in the community's zone, and times of two zone objects compare by asking
        # each for its offset, about 2,000 instructions a side)
        zone, key = until.tzinfo, utc_key(until)
        if self.expiring is None:  # (in expiry order: those expiring by ``until`` come first)
            for lot in self.lots:
                expires = lot.expires
                if expires is None or (expires > until if expires.tzinfo is zone else moment_key(expires) > key):
                    break
                expiring += lot.remaining
        else:
            for lot in self.lots:
                expires = lot.expires
                if expires is not None and (expires <= until if expires.tzinfo is zone
                                            else moment_key(expires) <= key):
                    expiring += lot.remaining
        return self.balance - expiring

    def _due_by(self, until: datetime, paying: Pays) -> bool:
        """True if advancing to ``until`` would book something: a lot expires, or an ended span may pay."""
        if self.lots_due() <= until:
            return True
        return self._may_pay_by(until, paying)

    def _may_pay_by(self, until: datetime, paying: Pays) -> bool:
        """True if an open span ended by ``until`` and ``paying`` says its judging may pay a bonus.

        (A span's end is in the community's zone, ``until`` mostly an event's time at a fixed offset: times of
        two zone objects compare by asking each for its offset, about 2,000 instructions a side, so they are
        compared by their ``utc_key``s, which order as the times do.  A redemption's check asks this of every
        open span of a member not advanced to it.)
        """
        zone, key = until.tzinfo, utc_key(until)
        due = self._spans_due()
        if due > until if due.tzinfo is zone else moment_key(due) > key:
            return False
        node = self.span_node.get
        for span, end in self.open_spans.items():
            if ((end <= until if end.tzinfo is zone else moment_key(end) <= key)
                    and paying(span[0], end, node(span, ""))):
                return True
        return False

    def bonus_between(self, since: datetime, until: datetime, paying: Pays) -> list[str]:
        """The nodes of the open spans ending in ``[since, until]`` whose judging may pay a bonus.

        A view to ``until`` books a streak bonus dated in that window only for
        one of these spans (at its node), so an account that lists none and
        earned nothing there has no credit there in its view either.
        """
        if self._spans_due() > until:
            return []
        return [self.span_node.get(span, "") for span, end in self.open_spans.items()
                if since <= end <= until and paying(span[0], end, self.span_node.get(span, ""))]


def _mark_ends(marks: tuple[tuple[tuple[str, str], datetime, timedelta], ...],
               ) -> tuple[dict[tuple[str, str], datetime], tuple[tuple[timedelta, tuple[str, str]], ...]]:
    """``{span: end}`` of ``Calendar.marks``' answer for a day, and ``(utc_key(end), span)`` of each in heap
    order (``Account.span_heap``), worked out once per answer (copy the dict to change it).

    The dict is made again while the garbage collector tracks it: a copy of a tracked dict is tracked, and
    a dict of strings, tuples of them and times is tracked only if made while a key was (a new period's
    ``(kind, label)`` is, until the collector's next look untracks it).  The copies each new member's
    first activity makes of it (its marks and open spans) are then objects no collection walks.
    """
    found = _MARK_ENDS.get(id(marks))
    if found is None or found[0] is not marks or _is_tracked(found[1]):
        if len(_MARK_ENDS) >= 256:
            _MARK_ENDS.clear()
        found = _MARK_ENDS[id(marks)] = (marks, {span: end for span, end, _ in marks},
                                         tuple(sorted((key, span) for span, _, key in marks)))
    return found[1], found[2]


#: by ``id``: an answer of ``Calendar.marks`` (kept, so its id is not reused while here), its spans' ends
#: and their heap
_MARK_ENDS: dict[int, tuple[object, dict[tuple[str, str], datetime],
                            tuple[tuple[timedelta, tuple[str, str]], ...]]] = {}


def _latest(ends: dict[str, timedelta]) -> timedelta:
    """``max(ends["week"], ends["year"])``: the latest end of a day's periods (a month or quarter ends with
    or before its year), without ``max``'s call (its arguments parsed as keywords: about 700 instructions)."""
    week, year = ends["week"], ends["year"]
    return year if year > week else week  # noqa: FURB136


def _noted(held: frozenset[RuleRef], noted: tuple[RuleRef | None, ...] | RuleRef | None) -> frozenset[RuleRef]:
    """``held`` with the rules ``noted`` (a tuple of rules, or one; None: none), one object per pair of
    objects asked (the rules an earning notes are one tuple for every earning of its item: accounts that
    earned the same way hold one set, not one each)."""
    key = (id(held), id(noted))
    found = _NOTED.get(key)
    if found is None or found[0] is not held or found[1] is not noted:
        if len(_NOTED) >= 4096:
            _NOTED.clear()
        rules = noted if isinstance(noted, tuple) else (noted,)
        grown = held.union([rule for rule in rules if rule is not None])
        found = _NOTED[key] = (held, noted, held if len(grown) == len(held) else grown)
    return found[2]


#: by the ``id``s of the two: a set of rules and the rules noted (kept, so their ids are not reused while
#: here), and the set with them (``_noted``)
_NOTED: dict[tuple[int, int], tuple[frozenset[RuleRef], object, frozenset[RuleRef]]] = {}
#: an account's rules before its first entry
_NO_RULES: frozenset[RuleRef] = frozenset()


def _expires_by(before: Lot | None, lot: Lot, after: Lot | None) -> bool:
    """True if ``lot`` expires no earlier than ``before`` and no later than ``after`` (no expiry: latest)."""
    return ((before is None or _no_later(before.expires, lot.expires))
            and (after is None or _no_later(lot.expires, after.expires)))


def _no_later(first: datetime | None, second: datetime | None) -> bool:
    """``first <= second``, None (no expiry) the latest."""
    return second is None or (first is not None and first <= second)


def _in_expiry_order(lots: list[Lot]) -> bool:
    """True if the lots' expiries never fall along the list (no expiry: the latest).

    (Each pair as ``_expires_by(before, lot, None)`` judges it, in one pass without a call per pair: a
    restored account's lots are read back with it, a hundred and more for a busy member.)"""
    last = None  # (the latest expiry so far; once a lot has none, every later one must have none)
    undated = False
    for lot in lots:
        expires = lot.expires
        if expires is None:
            undated = True
        elif undated or (last is not None and last > expires):
            return False
        else:
            last = expires
    return True


def _span_start(kind: str, end: datetime) -> datetime:
    """A safe lower bound of the start of a span of ``kind`` that ends at ``end``."""
    days = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}[kind]
    return end - timedelta(days=days)


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
