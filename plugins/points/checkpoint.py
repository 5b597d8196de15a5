"""The points state as a checkpoint document, and back (``gridcore_save_state``).

Built with cattrs (one private converter): times as ISO 8601 with their
offset, every mapping as a list sorted by its key, so the same state always
gives the same document.  What is saved is what is still open (each
account's unspent lots, cap counters of the current periods, activity marks
and streak spans still open, claims a later claim may duplicate, incidents
not yet settled, counters of the current periods), the population the
plugin keeps, and the history's open part with the keys of its sealed parts
(history.py: the parts themselves are in the store).  Each account is a row
of a few items and two JSON texts (``_dump_account``): the store's parse
of a long text is quick, and restoring builds no account.  An account is
built from its row's first text (totals, cap counters, rules) when it is
first used (accounts.py: an event of its member, the sweep, a view), and
its lots and activity marks are read from the second only when it is
booked on or something of them falls due: a board reads the accounts it
shows, balances and statements read none of the lots.  The lots, which a
year of earning makes most of an account, are not in the document: every
``LOT_PART`` lots an account opens are sealed into a part of the store's
``points.lots`` collection, written once, and the row names the parts that
hold a lot still open, with each open lot's number and what remains of it.
A checkpoint so writes the lots opened since the last one, not every lot
still open.  What the
sweep and a board ask of every account is in the row beside the texts (when
it falls due; its open streak spans).  Caches (period labels, items by activity, members' and nodes'
records, what falls due when) are not saved: they are worked out again when
needed.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import cattrs

from gridcore.codec import read_time
from gridcore.errors import GridcoreError, StoreError
from gridcore.explain import RuleRef
from gridcore.parts import (
    PartsLoader,
    part_key,
    part_writer,
    put_all,
    read_parts,
    stored_parts,
)
from gridcore.periods import KINDS

from .accounts import Accounts
from .caps import CapCount
from .history import COLLECTION, History
from .ledger import (
    LOT_PART,
    NEVER,
    NEVER_KEY,
    Account,
    Lot,
    _in_expiry_order,
    _span_start,
    key_text,
    time_text,
    utc_key,
)
from .sealed import (
    DORMANT,
    DORMANT_WHAT,
    SETTLED,
    SETTLED_WHAT,
    TASKS,
    TASKS_DONE_WHAT,
    TASKS_MISSED_WHAT,
    SealedIds,
    SealedMap,
)
from .tracking import Claims, IncidentTrack, PeriodCounter

if TYPE_CHECKING:
    from gridcore import Engine

    from .records import Records

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, time_text)
_converter.register_structure_hook(datetime, lambda value, _: read_time(value))
_converter.register_unstructure_hook(timedelta, lambda span: [span.days, span.seconds, span.microseconds])
_converter.register_structure_hook(timedelta, lambda value, _: timedelta(value[0], value[1], value[2]))

_TOTALS = ("balance", "debt", "net", "credited", "redeemed", "expired", "deducted")
#: Where an account's head (``_dump_account``) holds the keys of the rules its fresh lots name, and of its rules.
_LOT_RULES, _RULES = len(_TOTALS) + 2, len(_TOTALS) + 6
#: Period kinds in the order of their names (``KINDS`` is in the order of their lengths), by place in ``KINDS``.
_BY_NAME = tuple(sorted(range(len(KINDS)), key=KINDS.__getitem__))


def save(state: Records, engine: Engine) -> dict[str, Any]:
    """The state as a JSON document; sealed parts of the history are stored first (unless read-only)."""
    writer = None if engine.read_only else part_writer(engine.store, COLLECTION)
    sealed = None if engine.read_only else state.lots_waiting
    unstructure = _converter.unstructure
    accounts = state.accounts
    # Rows of accounts no event touched since the last save are kept as they were dumped (or read).
    by_key = state.saved_rules
    for member in state.dirty:
        state.saved_accounts[member] = _dump_account(accounts[member], _saved(state, member), sealed, by_key)
        if sealed is not None and len(sealed) >= LOTS_BATCH:
            _put_lots(engine, sealed)
    if sealed:
        _put_lots(engine, sealed)
    state.dirty = set()
    rows = []
    keys: set[str] = set()
    for member in sorted(accounts):
        found = _saved(state, member)
        assert found is not None  # (an account is restored, or built by events: dirty, dumped above)
        # (the row as the tuple it is kept as, spans and all: the store writes a tuple as the list a checkpoint
        # read back gives, so no list is made per account and span, as there was until 2026-12-06)
        rows.append(found[:5])
        keys.update(found[6])
    rules = {key: by_key[key] for key in keys}
    return {
        "accounts": rows,
        "rules": [[key, *unstructure(rule, RuleRef).values()] for key, rule in sorted(rules.items())],
        "claims": state.claims.dump(),
        "incidents": [unstructure(track, IncidentTrack) for _, track in sorted(state.incidents.items())],
        "settled": state.settled.save(None if engine.read_only else part_writer(engine.store, SETTLED)),
        "dormant": state.dormant.save(None if engine.read_only else part_writer(engine.store, DORMANT)),
        "party": dict(sorted(state.party.items())),
        "names": dict(sorted(state.names.items())),
        "homes": dict(sorted(state.homes.items())),
        "stock_used": dict(sorted(state.stock_used.items())),
        "redeemed_by": _dump_counter(state.redeemed_by),
        "recognition_spent": _dump_counter(state.recognition_spent),
        "last_time": None if state.last_time is None else state.last_time.isoformat(),
        "last_order": None if state.last_order is None else [state.last_order[0].isoformat(), state.last_order[1]],
        "uncovered": state.uncovered,
        "task_kinds": dict(sorted(state.task_kinds.items())),
        "tasks_done": state.tasks_done.save(None if engine.read_only else part_writer(engine.store, TASKS)),
        "tasks_missed": state.tasks_missed.save(None if engine.read_only else part_writer(engine.store, TASKS)),
        "history": state.history.save(writer),
    }


def _put_lots(engine: Engine, sealed: dict[str, dict[str, Any]]) -> None:
    """Store the sealed parts of lots in ``sealed`` (``Records.lots_waiting``; in one transaction where the
    store has one) and empty it; if the store fails they stay there, for the next save to store first.

    ``save`` stores them every ``LOTS_BATCH`` parts as the accounts are dumped, not all at the end, so the
    parts held at once are a few hundred, not every part sealed since the last checkpoint (at a fixed
    population of 5,128, checkpoints 50,000 events apart: about 5,000 parts, 12 MiB of objects made at once,
    and CPython kept the arenas they took, which the rows kept beside them hold: the process stayed that much
    larger).  A part is written once under the hash of its content: one stored by a save that fails later
    is a part no checkpoint names yet, which the next save's checkpoint names as it is.  An account's dump
    names the parts it seals, and its lots are not sealed again, so a part the store failed to take is kept
    until stored: dropped, the next checkpoint would name a part the store does not hold.
    """
    put_all(engine.store, LOTS, sealed)
    sealed.clear()


def restore(state: Records, document: dict[str, Any]) -> None:
    """Rebuild ``state`` (fresh from ``on_open``) from a document ``save`` gave; ``ValueError`` if unreadable.

    Each account stays a row until it is first used (accounts.py), its lots
    and activity marks packed until it is booked on or has something fall
    due: a read builds the accounts it looks at and reads the lots of those
    it advances.
    """
    structure = _converter.structure
    try:
        state.history = History.restore(document["history"], state.load_part, state.history.part_size,
                                        state.load_parts)
        rules = {str(key): RuleRef(str(file), int(line), int(column), str(text))
                 for key, file, line, column, text in document["rules"]}
        state.saved_rules = rules
        state.dirty = set()
        calendar = state.calendar
        rows = []
        for row in document["accounts"]:
            if not (isinstance(row, list) and len(row) == 5 and isinstance(row[0], str)
                    and isinstance(row[3], str) and isinstance(row[4], str)):
                raise TypeError(f"an account's row is not [member, due, spans, head, lots]: {str(row)[:80]}")
            # (held as tuples, which the garbage collector leaves alone: ``accounts.Row``; spans not a list of
            # lists are kept as they are, for the account's build to find them unreadable)
            spans = row[2]
            if type(spans) is list and all(type(span) is list for span in spans):
                spans = tuple([tuple(span) for span in spans])
            rows.append((row[0], row[1], spans, row[3], row[4]))
        engine = state.engine

        def loader(keys: Sequence[str]) -> Mapping[str, dict[str, Any] | str]:
            # (the engine's store when the lots are read: a forked roll-up worker reads through its own)
            return stored_parts(engine.store, LOTS, keys)

        state.accounts = Accounts(state.history, _AccountLoader(rules, calendar.end, loader))
        state.accounts.restore(rows)
        state.claims = Claims.restore(document["claims"], functools.partial(calendar.end, "day"))
        tracks = [structure(doc, IncidentTrack) for doc in document["incidents"]]
        state.incidents = {track.id: track for track in tracks}
        state.settled = SealedIds.restore(document["settled"], SETTLED, SETTLED_WHAT, *state.sealed_loaders(SETTLED))
        state.dormant = SealedMap.restore(document["dormant"], DORMANT, DORMANT_WHAT, *state.sealed_loaders(DORMANT))
        state.party = {str(k): bool(v) for k, v in document["party"].items()}
        state.names = {str(k): str(v) for k, v in document["names"].items()}
        state.homes = {str(k): str(v) for k, v in document["homes"].items()}
        state.stock_used = {str(k): int(v) for k, v in document["stock_used"].items()}
        state.redeemed_by = _load_counter(document["redeemed_by"], calendar.end)
        state.recognition_spent = _load_counter(document["recognition_spent"], calendar.end)
        state.last_time = None if document["last_time"] is None else read_time(document["last_time"])
        last = document["last_order"]
        state.last_order = None if last is None else (read_time(last[0]), str(last[1]))
        state.uncovered = int(document["uncovered"])
        state.task_kinds = {str(k): str(v) for k, v in document["task_kinds"].items()}
        state.tasks_done = SealedIds.restore(document["tasks_done"], TASKS, TASKS_DONE_WHAT,
                                             *state.sealed_loaders(TASKS))
        state.tasks_missed = SealedIds.restore(document["tasks_missed"], TASKS, TASKS_MISSED_WHAT,
                                               *state.sealed_loaders(TASKS))
        state.queue_later()
    except (KeyError, TypeError, IndexError, AttributeError, GridcoreError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable points checkpoint: {type(exc).__name__}: {exc}") from exc


def _dump_account(account: Account, was: Saved | None, sealed: dict[str, dict[str, Any]] | None,
                  by_key: dict[str, RuleRef]) -> Saved:
    """An account as a row (its rules by key), the keys of the rules its fresh lots name, of every rule it
    names (each added to ``by_key``), the keys of the sealed parts of its lots that hold one still open,
    and where its lots text holds the rows of its fresh lots (``FreshAt``): a ``Saved``.

    The row is ``[member, due, spans, head, lots]``: the member; when the
    sweep must look at the account (``Account.next_due``, in microseconds
    since 1970 UTC; None: never); its open streak spans as ``[kind, label,
    node]``; the rest as one JSON text, the head; and its lots and activity marks as
    another.  The head is a list, in ASCII (``_ascii``): the totals (``_TOTALS``), the earliest
    expiry among the lots, when the account was last advanced, the keys of the rules its fresh
    lots name, the current cap periods and each scope's counts in them (``_current_earned``), the
    nodes of streak spans no longer open, the keys of its rules, and the time of its first entry
    (``Account.first``).  A restore builds the account from the head when it is first
    used (accounts.py) and reads the lots only when they are needed
    (``Account.unpack``).  An account whose lots were not read back yet keeps
    the text it was restored from.

    The lots are not written out each time: every ``LOT_PART`` lots an account
    opens (``Lot.number``) are sealed into a part of the store's
    ``points.lots`` collection under the SHA-256 of its content (what each lot
    opened with: ``_lots_doc``), added to ``sealed`` (key -> part) to be written
    once (None, a read-only engine: the key only), and never changed: lots are spent
    first in, first out, so a lot's part is written once and the row names
    it until its last lot is spent or expires.  The lots text is ``[open,
    marks, opened, fresh, parts]``: each open lot's number and what remains of
    it, in the account's order; the activity marks (``_readable_marks``); how many lots the account
    opened; those opened since its last sealed part (spent or not), as rows;
    and ``[index, key]`` of each sealed part holding an open lot.  Parts are
    cut by count, never by when checkpoints fall, so a state restored from a
    checkpoint and one replayed from the start write the same text.

    What is kept (``Saved``) is made of strings, numbers and tuples of them,
    which the garbage collector does not track (a row of lists and a dict
    of rules were about 9 objects an account that every later collection
    walked through); ``save`` makes the row's lists when it writes one.
    """
    named: dict[str, None] = {}
    known = _BY_RULE.get

    def key(rule: RuleRef | None) -> str | None:
        if rule is None:
            return None
        same = known(id(rule))
        found = same[1] if same is not None and same[0] is rule else rule_key(rule)
        named[found] = None
        if found not in by_key:
            by_key[found] = rule
        return found

    fresh_at: FreshAt | None
    parts: tuple[tuple[int, str], ...] | None
    if account.packed is not None:
        assert was is not None
        packed, due = account.packed, account.packed_due
        lot_rules = was[5]
        named.update(dict.fromkeys(lot_rules))
        parts = was[7]
        fresh_at = was[8]
    else:
        sealed_parts = _parts_of(was)
        fresh = account.fresh
        if len(fresh) >= LOT_PART:
            cut = len(fresh) - len(fresh) % LOT_PART
            for at in range(0, cut, LOT_PART):
                lots = fresh[at:at + LOT_PART]
                doc = _lots_doc(lots)
                # (its keys in sorted order and nothing else a mapping: the store writes this very text)
                found = part_key(doc)
                if sealed is not None:
                    sealed[found] = doc
                sealed_parts[lots[0].number // LOT_PART] = found
            del fresh[:cut]
        base = account.opened - len(fresh)
        lots = account.lots
        # (each open lot's number and what remains of it, one after the other)
        numbers: list[int] = [0] * (2 * len(lots))
        numbers[0::2] = held = [lot.number for lot in lots]
        numbers[1::2] = [lot.remaining for lot in lots]
        # (the first of the earliest: ``min`` keeps the first of equals)
        due = min([expires for lot in lots if (expires := lot.expires) is not None], default=NEVER)
        # (as pairs: a tuple holding a dict stays tracked by the garbage collector, one of tuples does not)
        parts = tuple([(index, sealed_parts[index])
                       for index in sorted({number // LOT_PART for number in held if number < base})])
        # The fresh lots' rows: those the last dump wrote, as it wrote them (a lot's row never changes), unless
        # a part was sealed since; the lots opened since then added.
        last = None if was is None else was[8]
        if (was is not None and last is not None and account.dumped is was[4] and last[0] == base
                and last[1] <= len(fresh)):
            written = was[4][last[2]:last[3]]
            named.update(dict.fromkeys(was[5]))
            added = fresh[last[1]:]
        else:
            written, added = "[]", fresh
        if added:
            text = _text([[lot.entry_id, time_text(lot.time), lot.node, lot.amount,
                           None if lot.expires is None else time_text(lot.expires), key(lot.expiry_rule)]
                          for lot in added])
            written = text if written == "[]" else f"{written[:-1]},{text[1:]}"
        # (a mark's end is the end of its period: worked out again from the label;
        # what no open span reads is left out)
        marks = _readable_marks(account)
        # (the text ``_text`` gives the whole list, made of its items' texts)
        before = _text([numbers, marks, account.opened])
        at = len(before)
        packed = f"{before[:-1]},{written},{_text([[index, found] for index, found in parts])}]"
        account.dumped = packed
        fresh_at = (base, len(fresh), at, at + len(written))
        lot_rules = tuple(sorted(named))
    # (what no later event can read is left out: cap counters of past periods)
    periods, earned = _current_earned(account.earned, account.advanced_to)
    # (a span's node is in the row with the span; any node of no open span stays here)
    span_node = account.span_node
    open_spans = account.open_spans
    head = [account.balance, account.debt, account.net, account.credited, account.redeemed, account.expired,
            account.deducted,  # (``_TOTALS``)
            None if due == NEVER else time_text(due),
            None if account.advanced_to is None else key_text(account.advanced_to),
            list(lot_rules), periods, earned,
            [[kind, label, node] for (kind, label), node in sorted(span_node.items())
             if (kind, label) not in open_spans] if span_node else [],
            sorted([key(rule) for rule in account.rules]),  # type: ignore[type-var]
            None if account.first is None else key_text(account.first)]
    next_due = account.next_due()
    # (a span's end is the end of its period: worked out again from the label)
    spans = tuple([(kind, label, span_node.get((kind, label))) for kind, label in sorted(open_spans)])
    return (account.member, None if next_due == NEVER_KEY else next_due // _MICROSECOND, spans, _ascii(head), packed,
            lot_rules, tuple(named), parts, fresh_at)


def _current_earned(earned: dict[str, CapCount], now: timedelta | None,
                    ) -> tuple[list[list[str]], list[list[Any]]]:
    """The cap counters a later credit may still read (``Account.current_earned``: of each period kind, the
    newest period any scope counts in that had not ended by ``now``, when the account was last advanced), as a
    head writes them: ``[kind, label]`` of each such period, kinds in the order of their names, and per scope
    in order ``[scope, points counted in each of those periods, ...]`` (None: not counted there; a scope
    counting in none of them is left out)."""
    if not earned:
        return [], []
    newest: list[str | None] = [None] * len(KINDS)
    seen: Sequence[str | None] | None = None
    for count in earned.values():
        labels = count.labels
        if labels == seen:
            continue  # (most often every scope counts in the same periods, which end alike)
        seen = labels
        ends = count.ends
        for n, label in enumerate(labels):
            if label is not None and (now is None or ends[n] > now):
                was = newest[n]
                if was is None or label > was:
                    newest[n] = label
    places = [n for n in _BY_NAME if newest[n] is not None]
    rows = []
    for scope in sorted(earned):
        count = earned[scope]
        labels, starts, total = count.labels, count.starts, count.total
        points = [total - starts[n] if labels[n] == newest[n] else None for n in places]
        if points.count(None) < len(points):
            rows.append([scope, *points])
    return [[KINDS[n], newest[n]] for n in places], rows  # type: ignore[list-item]


def _readable_marks(account: Account) -> list[list[Any]]:
    """The account's activity marks an open span may still read (``Account.readable_marks``, filtered
    here as there, in one pass), as one list per period kind, ``[kind, label, ...]`` in label order, days
    as ``["day", first label, days to the next, ...]`` (``_grouped_marks``).

    (The dump of each account's marks was once kept and given again while they stayed the same: 14 MiB
    held at a fixed population of 5,128 at 1,000,000 events, for no CPU per event, as checkpoints take a
    fixed share of it: ``CHECKPOINT_SHARE``.)
    """
    spans = account.open_spans
    account.unpack()
    if not spans:
        return []
    # A span starts where the previous period of its kind ends (``Account.readable_marks``)
    earliest: datetime | None = None
    known = _STARTS.get
    for (kind, _), end in spans.items():
        start = known((kind, end))
        if start is None or start.tzinfo is not end.tzinfo:
            if len(_STARTS) >= 4096:
                _STARTS.clear()
            start = _STARTS[(kind, end)] = _span_start(kind, end)
        if earliest is None or start < earliest:
            earliest = start
    assert earliest is not None
    by_kind: dict[str, list[str]] = {}
    for (kind, label), end in account.active.items():
        if end > earliest:
            labels = by_kind.get(kind)
            if labels is None:
                by_kind[kind] = [label]
            else:
                labels.append(label)
    return _grouped_marks(by_kind)


def _grouped_marks(by_kind: dict[str, list[str]]) -> list[list[Any]]:
    """Marks grouped by kind (each kind's labels, in any order: sorted here, in place) as a checkpoint
    writes them: the kinds in order, each ``[kind, label, ...]`` in label order; days as ``["day", first
    label, days to the next, ...]`` (a year of daily marks is most of an account's).  (Grouped by kind
    first, then each kind's labels sorted: the order of sorting the pairs, without comparing pairs.)"""
    out: list[list[Any]] = []
    for kind in sorted(by_kind):
        labels = by_kind[kind]
        labels.sort()
        if kind == "day" and len(labels) > 1:
            steps = _day_steps(labels)
            if steps is not None:
                out.append([kind, labels[0], *steps])
                continue
        out.append([kind, *labels])
    return out


def _day_steps(labels: list[str]) -> list[int] | None:
    """The days from each label to the next, if every label is a date as ``date.isoformat`` writes it
    (``YYYY-MM-DD``: read back from the first and the steps), else None (the labels are kept as they are).

    Each label's day number is kept (``_ORDINALS``): every account marks the same days."""
    known = _ORDINALS.get
    steps: list[int] = []
    last = None
    for label in labels:
        day = known(label)
        if day is None:
            if len(label) != 10 or label[4] != "-" or label[7] != "-" or not label.isascii():
                return None
            try:
                day = date.fromisoformat(label).toordinal()
            except ValueError:
                return None
            if len(_ORDINALS) >= 4096:
                _ORDINALS.clear()
            _ORDINALS[label] = day
        if last is not None:
            steps.append(day - last)
        last = day
    return steps


#: Day numbers (``date.toordinal``) of the day labels ``_day_steps`` read, by label.
_ORDINALS: dict[str, int] = {}
#: ``_span_start`` of each kind and end ``_readable_marks`` read (every account holds the same current periods;
#: an aware time's arithmetic asks its zone for its offset, a tenth of an account's dump).
_STARTS: dict[tuple[str, datetime], datetime] = {}


#: A period's ``(kind, label)`` and its end, one pair of objects for every account read back by one restore.
Mark = tuple[tuple[str, str], datetime]


def _read_marks(groups: list[list[Any]], marks: dict[tuple[str, str], Mark],
                days: dict[str, dict[int, Mark]], ends: Callable[[str, str], datetime]) -> dict[tuple[str, str], datetime]:
    """The marks ``_grouped_marks`` wrote, as ``Account.active`` holds them: each ``(kind, label)`` with its end,
    in the order written, the pair from ``marks`` (added to: the accounts read back share one key and one end
    per period, as marks made by events do).  A day group's days are found by their day numbers in ``days``
    (by kind, added to): every account marks the same days, and a day's label and end are worked out once,
    not for each account (a year of daily marks is most of an account's)."""
    active: dict[tuple[str, str], datetime] = {}
    for kind, *labels in groups:
        kind = str(kind)
        if len(labels) > 1 and isinstance(labels[1], int):
            by_number = days.get(kind)
            if by_number is None:
                by_number = days[kind] = {}
            number = date.fromisoformat(labels[0]).toordinal()
            labels[0] = 0
            for step in labels:
                number += int(step)
                shared = by_number.get(number)
                if shared is None:
                    shared = by_number[number] = _mark(marks, (kind, date.fromordinal(number).isoformat()), ends)
                active[shared[0]] = shared[1]
        else:
            for label in labels:
                shared = _mark(marks, (kind, str(label)), ends)
                active[shared[0]] = shared[1]
    return active


def _mark(marks: dict[tuple[str, str], Mark], mark: tuple[str, str], ends: Callable[[str, str], datetime]) -> Mark:
    """The shared pair of ``mark`` and its end (``_read_marks``)."""
    shared = marks.get(mark)
    if shared is None:
        shared = marks[mark] = (mark, ends(*mark))
    return shared


def _parts_of(was: Saved | None) -> dict[int, str]:
    """The sealed parts of lots the row named (index -> key), read from its lots text if not known yet."""
    if was is None:
        return {}
    if was[7] is not None:
        return dict(was[7])
    try:
        text = was[4]
        # The parts are the text's last item, ``[]`` or ``[[index, key], ...]`` of numbers and hexadecimal keys, so
        # the last ``,[[`` opens them when there are any (nothing in them holds one): read alone, not the whole text.
        # (the text was read whole when the account's lots were read back: it is a row's lots text)
        at = text.rfind(",[[")
        listed = [] if text.endswith(",[]]") else json.loads(text)[4] if at < 0 else json.loads(text[at + 1:-1])
        return {int(index): str(found) for index, found in listed}
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"unreadable points checkpoint (lots of {was[0]}): {type(exc).__name__}: {exc}"
                         ) from exc


def _lots_doc(lots: list[Lot]) -> dict[str, Any]:
    """A sealed part of an account's lots: each as it was opened, its expiry rule by its place in ``rules``."""
    rules: dict[RuleRef, int] = {}
    rows = []
    for lot in lots:
        rule = lot.expiry_rule
        rows.append([lot.entry_id, time_text(lot.time), lot.node, lot.amount,
                     None if lot.expires is None else time_text(lot.expires),
                     None if rule is None else rules.setdefault(rule, len(rules))])
    return {"format": LOT_FORMAT, "lots": rows, "rules": [[r.file, r.line, r.column, r.text] for r in rules]}


#: The store collection holding sealed parts of accounts' lots.
LOTS = "points.lots"
#: Sealed parts of lots a save holds before storing them (``_put_lots``): about 2,000 lots, 0.6 MiB of objects.
LOTS_BATCH = 256
#: The shape of a part of lots.
LOT_FORMAT = 1


_MICROSECOND = timedelta(microseconds=1)

#: An account as the last checkpoint saved it (or the restore read it): its row's five items (member, due,
#: spans as tuples, head, lots text), the keys of the rules its fresh lots name, the keys of every rule the row
#: names (the rules themselves in ``Records.saved_rules``), its sealed parts of lots (``(index, key)`` pairs;
#: None: in the lots text) and where the lots text holds its fresh lots' rows.  Strings, numbers and tuples of
#: them: objects the garbage collector does not track, where a row of lists did (``_dump_account``).
Saved = tuple[str, "int | None", "tuple[tuple[str, str, str | None], ...]", str, str, tuple[str, ...],
              tuple[str, ...], "tuple[tuple[int, str], ...] | None", "FreshAt | None"]
#: Where a lots text ``_dump_account`` wrote holds its fresh lots' rows: the number of the first, how many,
#: and the rows' list as ``text[start:end]``, so that the next dump of the same account writes those rows again
#: without making them (``None``: not known, a row read back from a checkpoint).  It holds for the account
#: whose ``Account.dumped`` is that very text (one built again, from a row or the dormant accounts, has
#: another).  An account's fresh lots only grow (``Account.credit``) until a dump seals some into a part (then
#: the first's number moves on), and a lot's row never changes.
FreshAt = tuple[int, int, int, int]


def _encoder(ensure_ascii: bool) -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=ensure_ascii, separators=(",", ":")).encode`` of a list: the same text,
    with the C encoder made once (``encode`` makes one per call, and a dict of the containers it is in, to
    find a cycle: a row is a tree of lists built here), else that ``encode``."""
    compact = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return compact.encode
    c_encode = make(None, compact.default,
                    json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring,
                    None, compact.key_separator, compact.item_separator, False, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(c_encode(value, 0))

    return encode


#: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` of a list: an account's lots text.
_text = _encoder(False)
#: The same with every character past ASCII escaped (``\uXXXX``): an account's head, which names
#: activities (cap scopes) in Chinese, is so held as one byte a character rather than two.
_ascii = _encoder(True)


def _saved(state: Records, member: str) -> Saved | None:
    """The member's row as the last save dumped it or the restore read it (None: neither did)."""
    found = state.saved_accounts.get(member)
    if found is None:
        row = state.accounts.restored_row(member)
        if row is None:
            return None
        try:
            head = json.loads(row[3])
            lot_rules = tuple(str(key) for key in head[_LOT_RULES])
            keys = tuple(dict.fromkeys([*lot_rules, *(str(key) for key in head[_RULES])]))
            for key in keys:
                state.saved_rules[key]  # (``KeyError``: a rule the checkpoint does not list)
            spans = tuple([(str(kind), str(label), None if node is None else str(node))
                           for kind, label, node in row[2]])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"unreadable points checkpoint (account of {member}): {type(exc).__name__}: {exc}"
                             ) from exc
        found = state.saved_accounts[member] = (row[0], row[1], spans, row[3], row[4], lot_rules, keys, None, None)
    return found


class _AccountLoader:
    """Builds accounts from their rows when first used (``Accounts``), working out once what many rows share.

    Most accounts name the same few periods (the current day, week, month,
    quarter and year) and the same sets of rules: a period's end, and a set of
    rules, is worked out once per restore rather than once per row.
    """

    def __init__(self, rules: dict[str, RuleRef], ends: Callable[[str, str], datetime],
                 loader: PartsLoader | None = None) -> None:
        self.rules = rules
        self.ends = ends
        #: each period's ``(kind, label)`` and end, one pair of objects for every account read back
        self.marks: dict[tuple[str, str], Mark] = {}
        #: the same pairs of the days, by kind and day number (``_read_marks``)
        self.days: dict[str, dict[int, Mark]] = {}
        #: one object per rule for every part of lots read back, by its fields: the checkpoint's own (which the
        #: accounts' rules are), and any other a part names
        self.rule_of: dict[tuple[Any, ...], RuleRef] = {
            (rule.file, rule.line, rule.column, rule.text): rule for rule in rules.values()}
        self.unpacker = functools.partial(_unpack, rules=rules, ends=ends, loader=loader, marks=self.marks,
                                          rule_of=self.rule_of, days=self.days)
        self._ends: dict[tuple[str, str], tuple[datetime, timedelta]] = {}
        self._rule_sets: dict[tuple[str, ...], frozenset[RuleRef]] = {}
        self._read = _time_reader()

    def end(self, kind: Any, label: Any) -> tuple[datetime, timedelta]:
        """The end of the period of ``kind`` labelled ``label``, and as a ``utc_key``."""
        found = self._ends.get((kind, label))
        if found is None:
            at = self.ends(str(kind), str(label))
            found = self._ends[(str(kind), str(label))] = (at, utc_key(at))
        return found

    def __call__(self, row: tuple[Any, ...]) -> Account:
        """The account of a row (its lots and marks left packed); ``ValueError`` if unreadable."""
        try:
            return self._load(row)
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise ValueError(f"unreadable points checkpoint (account of {row[0]}): {type(exc).__name__}: {exc}"
                             ) from exc

    def _load(self, row: tuple[Any, ...]) -> Account:
        member, _, spans, head_text, packed = row
        (*totals, due, advanced, _, periods, earned_rows, span_nodes, keys, first) = json.loads(head_text)
        account = Account(str(member))
        for name, value in zip(_TOTALS, totals, strict=True):
            setattr(account, name, int(value))
        account.packed = str(packed)
        read = self._read
        account.packed_due = NEVER if due is None else read(due)
        account.unpacker = self.unpacker
        account.advanced_to = None if advanced is None else utc_key(read(advanced))
        account.first = None if first is None else utc_key(read(first))
        known, end = self._ends.get, self.end
        earned: dict[str, CapCount] = {}
        for scope, *points in earned_rows:
            count = earned[str(scope)] = CapCount()
            for (kind, label), value in zip(periods, points, strict=True):
                if value is not None:
                    count.set(str(kind), str(label), int(value), (known((kind, label)) or end(kind, label))[1])
        account.earned = earned
        account.open_spans = {(str(kind), str(label)): (known((kind, label)) or end(kind, label))[0]
                              for kind, label, _ in spans}
        span_node = {(str(kind), str(label)): str(node) for kind, label, node in spans if node is not None}
        span_node.update(((str(kind), str(label)), str(node)) for kind, label, node in span_nodes)
        account.span_node = dict(sorted(span_node.items()))
        keys = tuple(keys)
        rule_set = self._rule_sets.get(keys)
        if rule_set is None:
            rule_set = self._rule_sets[keys] = frozenset(self.rules[str(key)] for key in keys)
        account.rules = rule_set  # (one set for every account restored with the same rules)
        return account


def _unpack(account: Account, *, rules: dict[str, RuleRef], ends: Callable[[str, str], datetime],
            loader: PartsLoader | None, marks: dict[tuple[str, str], Mark],
            rule_of: dict[tuple[Any, ...], RuleRef] | None = None, days: dict[str, dict[int, Mark]] | None = None,
            ) -> None:
    """Read an account's packed lots and marks back (``Account.unpacker``); ``ValueError`` if unreadable.

    Its open lots in sealed parts are read from the store (``loader``), every
    part it needs at once (one query); a part missing or altered is a ``StoreError``.
    ``rule_of``: the rules read so far by their fields (``_read_lots``); ``days``: the days' marks read so far
    (``_read_marks``).
    """
    assert account.packed is not None
    try:
        numbers, packed_marks, opened, rows, listed = json.loads(account.packed)
        opened = int(opened)
        base = opened - len(rows)
        fresh = []
        read = _time_reader()
        for number, (ident, time, node, amount, expires, rule) in enumerate(rows, base):
            lot = Lot(str(ident), read(time), str(node), int(amount),
                      None if expires is None else read(expires),
                      None if rule is None else rules[rule])
            lot.number, lot.amount = number, lot.remaining
            fresh.append(lot)
        parts = {int(index): str(found) for index, found in listed}
        wanted = {parts[int(number) // LOT_PART] for number in numbers[::2] if int(number) < base}
        found = _read_lots(loader, sorted(wanted), rule_of)
        lots = []
        for at in range(0, len(numbers), 2):
            number, remaining = int(numbers[at]), int(numbers[at + 1])
            if number >= base:
                lot = fresh[number - base]
            else:
                index = number // LOT_PART
                part_rows, part_rules = found[parts[index]]
                ident, time, node, amount, expires, rule = part_rows[number - index * LOT_PART]
                lot = Lot(str(ident), read(time), str(node), int(amount),
                          None if expires is None else read(expires),
                          None if rule is None else part_rules[rule])
                lot.number, lot.amount = number, lot.remaining
            lot.remaining = remaining
            lots.append(lot)
        active = _read_marks(packed_marks, marks, days if days is not None else {}, ends)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"unreadable points checkpoint (lots of {account.member}): {type(exc).__name__}: {exc}"
                         ) from exc
    account.lots = lots
    account.opened, account.fresh = opened, fresh
    # (the lots' expiries mostly never fall along them, every credit under one expiry rule: then the first lot
    # expires first and no heap is made, as ``Account.unpack`` would drop it at once; restored times compare
    # slowly, each with a time zone object of its own)
    if _in_expiry_order(lots):
        account.expiring = None
    else:
        account.expiring = [(lot.expires, lot.time, lot.entry_id, lot) for lot in lots if lot.expires is not None]
        heapq.heapify(account.expiring)
    account.active = active
    account.prune_at = 2 * len(active) + 64
    account.packed = None


def _time_reader() -> Callable[[Any], datetime]:
    """``read_time``, quicker for the texts ``isoformat`` writes of a time at an offset of whole minutes
    (``...+08:00``), as a lot's times are: the same time holding the same shared zone, the zone found by the
    offset's text and the rest read as a time without one.  (A lot's time and expiry are each a moment of
    their own, so ``read_time``'s cache of recent texts misses for them; its reading was a third of reading
    an account's lots back.)  The zone is put in with ``datetime.combine`` (the naive time as the date, its time
    with its ``fold``), which gives what ``replace(tzinfo=zone)`` gives at about a fifth of its cost: a call with
    a keyword looks each of ``replace``'s nine names up in it, and was a quarter of reading an account's lots
    back."""
    zones = _OFFSET_ZONES
    parse = datetime.fromisoformat
    combine = datetime.combine

    def read(text: Any) -> datetime:
        zone = zones.get(text[-6:]) if type(text) is str else None
        if zone is not None:
            naive = parse(text[:-6])
            return combine(naive, naive.time(), zone)
        when = read_time(text)
        offset = text[-6:]
        if (len(zones) < 64 and len(text) > 16 and offset[0] in "+-" and offset[3] == ":"
                and offset[1:3].isdigit() and offset[4:].isdigit() and type(when.tzinfo) is timezone
                and parse(text[:-6]).replace(tzinfo=when.tzinfo) == when):
            zones[offset] = when.tzinfo
        return when

    return read


#: The shared zone ``read_time`` gives a time written with each offset text (``+08:00``): ``_time_reader``.
_OFFSET_ZONES: dict[str, Any] = {}


def _read_lots(loader: PartsLoader | None, keys: Sequence[str], rule_of: dict[tuple[Any, ...], RuleRef] | None = None,
               ) -> dict[str, tuple[list[Any], list[RuleRef]]]:
    """The rows and rules of the sealed parts of lots stored under ``keys``, by key, read at once
    (``StoreError``: one missing or altered).

    ``rule_of``: rules by their fields (added to): a rule a part names is that object when it holds one equal
    to it.  (Every part names its lots' expiry rule: a restored account's lots then hold the rule objects its
    rules hold, and those of the other accounts, not one equal object per part; a set of rules finds such an
    object by identity, where an equal other is compared field by field.)
    """
    read: dict[str, tuple[list[Any], list[RuleRef]]] = {}
    for key, doc in read_parts(loader, keys, collection=LOTS, what="points lots").items():
        if doc.get("format") != LOT_FORMAT:
            raise StoreError(f"the points lots part {key} in the store's {LOTS!r} collection is of format "
                             f"{doc.get('format')!r}, expected {LOT_FORMAT}; rebuild the state (gridcore rebuild)")
        rules = []
        for fields in doc["rules"]:
            f, line, col, text = fields
            # (found by fields of the kinds a rule holds: the rule found equals the one they make)
            rule = (rule_of.get((f, line, col, text)) if rule_of is not None and type(f) is str and type(line) is int
                    and type(col) is int and type(text) is str else None)
            if rule is None:
                rule = RuleRef(str(f), int(line), int(col), str(text))
                if rule_of is not None and len(rule_of) < 10_000:
                    rule_of[(rule.file, rule.line, rule.column, rule.text)] = rule
            rules.append(rule)
        read[key] = (list(doc["lots"]), rules)
    return read


def rule_key(rule: RuleRef) -> str:
    """A short key naming a rule (file, line, column and text) in a checkpoint."""
    found = _KEYS.get(rule)
    if found is None:
        if len(_KEYS) > 10_000:
            _KEYS.clear()
        text = json.dumps([rule.file, rule.line, rule.column, rule.text], ensure_ascii=False)
        found = _KEYS[rule] = hashlib.sha256(text.encode()).hexdigest()[:16]
    if len(_BY_RULE) > 10_000:
        _BY_RULE.clear()
    _BY_RULE[id(rule)] = (rule, found)
    return found


_KEYS: dict[RuleRef, str] = {}
#: ``rule_key`` of the rule objects asked last, by their ``id`` (with the object, which so stays alive while its id
#: is a key here): a ruleset's rules are a few objects every account names, and a ``RuleRef``'s hash is worked out
#: from its four fields each time it is asked (``_dump_account`` asks for a few keys an account).
_BY_RULE: dict[int, tuple[RuleRef, str]] = {}


def _dump_counter(counter: PeriodCounter) -> list[list[Any]]:
    return [[list(key), label, total] for key, (label, total) in sorted(counter.counts.items())]


def _load_counter(rows: list[list[Any]], ends: Callable[[str, str], datetime]) -> PeriodCounter:
    counter = PeriodCounter()
    counter.counts = {tuple(str(k) for k in key): (str(label), int(total)) for key, label, total in rows}
    counter.restored(ends)
    return counter
