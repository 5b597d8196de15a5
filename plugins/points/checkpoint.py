"""The points state as a checkpoint document, and back (``gridcore_save_state``).

Built with cattrs (one private converter): times as ISO 8601 with their
offset, every mapping as a list sorted by its key, so the same state always
gives the same document.  What is saved is what is still open (each
account's unspent lots, cap counters of the current periods, activity marks
and streak spans still open, claims a later claim may duplicate, incidents
not yet settled, counters of the current periods), the population the
plugin keeps, and the history's open part with the keys of its sealed parts
(history.py: the parts themselves are in the store).  An account's lots and
activity marks, most of the document, are packed into one JSON text per
account, with the earliest expiry beside it: restoring reads an account's
text only when the account is booked on or something of it falls due, so
opening a store and reading balances, boards or statements reads none of
them.  Caches (period labels, items by activity, members' and nodes'
records, what falls due when) are not saved: they are worked out again when
needed.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import cattrs

from gridcore.errors import GridcoreError
from gridcore.explain import RuleRef

from .history import COLLECTION, History
from .ledger import NEVER, Account, Lot, key_time, utc_key
from .tracking import Claim, Claims, IncidentTrack, PeriodCounter

if TYPE_CHECKING:
    from gridcore import Engine

    from .records import Records

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
_converter.register_unstructure_hook(timedelta, lambda span: [span.days, span.seconds, span.microseconds])
_converter.register_structure_hook(timedelta, lambda value, _: timedelta(value[0], value[1], value[2]))

_TOTALS = ("balance", "debt", "net", "credited", "redeemed", "expired", "deducted")


def save(state: Records, engine: Engine) -> dict[str, Any]:
    """The state as a JSON document; sealed parts of the history are stored first (unless read-only)."""
    writer = None if engine.read_only else (lambda key, doc: engine.store.put(COLLECTION, key, doc))
    unstructure = _converter.unstructure
    # Rows of accounts no event touched since the last save are kept as they were dumped.
    saved = state.saved_accounts
    for member in state.dirty:
        saved[member] = _dump_account(state.accounts[member], saved.get(member))
    state.dirty = set()
    rules = {rule_key(rule): rule for member in state.accounts for rule in saved[member][1]}
    return {
        "accounts": [saved[member][0] for member in sorted(state.accounts)],
        "rules": [[key, *unstructure(rule, RuleRef).values()] for key, rule in sorted(rules.items())],
        "claims": [[member, activity, [[c.event_id, c.start.isoformat(), c.end.isoformat(), c.day] for c in claims]]
                   for (member, activity), claims in sorted(state.claims.by_activity.items())],
        "incidents": [unstructure(track, IncidentTrack) for _, track in sorted(state.incidents.items())],
        "settled": sorted(state.settled),
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
        "tasks_done": sorted([task, member] for task, member in state.tasks_done),
        "tasks_missed": sorted([task, member] for task, member in state.tasks_missed),
        "history": state.history.save(writer),
    }


def restore(state: Records, document: dict[str, Any]) -> None:
    """Rebuild ``state`` (fresh from ``on_open``) from a document ``save`` gave; ``ValueError`` if unreadable.

    Each account's lots and activity marks stay packed (one JSON text) until
    the account is first booked on or has something fall due: a read that
    only looks at balances never reads them.
    """
    structure = _converter.structure
    try:
        state.history = History.restore(document["history"], state.load_part, state.history.part_size)
        rules = {str(key): RuleRef(str(file), int(line), int(column), str(text))
                 for key, file, line, column, text in document["rules"]}
        state.accounts = {}
        state.dirty = set()
        calendar = state.calendar
        unpacker = functools.partial(_unpack, rules=rules, ends=calendar.end)
        loader = _AccountLoader(rules, calendar.end)
        for doc in document["accounts"]:
            account = loader.load(doc)
            account.unpacker = unpacker
            account.journal = state.history
            state.accounts[account.member] = account
            state.saved_accounts[account.member] = (doc, loader.named(doc))
        state.claims = Claims()
        for member, activity, claims in document["claims"]:
            state.claims.by_activity[(str(member), str(activity))] = [
                Claim(str(ident), datetime.fromisoformat(start), datetime.fromisoformat(end), str(day))
                for ident, start, end, day in claims]
        state.claims.restored(functools.partial(calendar.end, "day"))
        tracks = [structure(doc, IncidentTrack) for doc in document["incidents"]]
        state.incidents = {track.id: track for track in tracks}
        state.settled = {str(ident) for ident in document["settled"]}
        state.party = {str(k): bool(v) for k, v in document["party"].items()}
        state.names = {str(k): str(v) for k, v in document["names"].items()}
        state.homes = {str(k): str(v) for k, v in document["homes"].items()}
        state.stock_used = {str(k): int(v) for k, v in document["stock_used"].items()}
        state.redeemed_by = _load_counter(document["redeemed_by"], calendar.end)
        state.recognition_spent = _load_counter(document["recognition_spent"], calendar.end)
        state.last_time = None if document["last_time"] is None else datetime.fromisoformat(document["last_time"])
        last = document["last_order"]
        state.last_order = None if last is None else (datetime.fromisoformat(last[0]), str(last[1]))
        state.uncovered = int(document["uncovered"])
        state.task_kinds = {str(k): str(v) for k, v in document["task_kinds"].items()}
        state.tasks_done = {(str(task), str(member)) for task, member in document["tasks_done"]}
        state.tasks_missed = {(str(task), str(member)) for task, member in document["tasks_missed"]}
        state.queue_later()
    except (KeyError, TypeError, IndexError, AttributeError, GridcoreError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable points checkpoint: {type(exc).__name__}: {exc}") from exc


def _dump_account(account: Account, was: tuple[dict[str, Any], tuple[RuleRef, ...]] | None,
                  ) -> tuple[dict[str, Any], tuple[RuleRef, ...]]:
    """An account as a row (its rules by key), and the rules the row names.

    The lots (first in, first out) and the activity marks go in one packed
    JSON text, which a restore reads back only when the account needs them;
    beside it the earliest expiry among the lots.  An account restored and not
    read back yet keeps the text it was restored from.
    """
    named: dict[str, RuleRef] = {}

    def key(rule: RuleRef | None) -> str | None:
        if rule is None:
            return None
        found = rule_key(rule)
        named[found] = rule
        return found

    out: dict[str, Any] = {"member": account.member}
    out.update({name: getattr(account, name) for name in _TOTALS})
    if account.packed is not None:
        assert was is not None
        packed, due = account.packed, account.packed_due
        lot_rules = [str(k) for k in was[0]["lot_rules"]]
        wanted = set(lot_rules)
        named.update((found, rule) for rule in was[1] if (found := rule_key(rule)) in wanted)
    else:
        lots = []
        due = NEVER
        for lot in account.lots:
            if lot.saved is None:
                lot.saved = [lot.entry_id, lot.time.isoformat(), lot.node, 0,
                             None if lot.expires is None else lot.expires.isoformat(), key(lot.expiry_rule)]
            elif lot.expiry_rule is not None:
                named[lot.saved[5]] = lot.expiry_rule
            row = list(lot.saved)
            row[3] = lot.remaining
            lots.append(row)
            if lot.expires is not None and lot.expires < due:
                due = lot.expires
        # (a mark's end is the end of its period: worked out again from the label;
        # what no open span reads is left out)
        marks = [[kind, label] for kind, label in sorted(account.readable_marks())]
        packed = json.dumps([lots, marks], ensure_ascii=False, separators=(",", ":"))
        lot_rules = sorted(named)
    out["lots"] = packed
    out["due"] = None if due == NEVER else due.isoformat()
    out["advanced_to"] = None if account.advanced_to is None else key_time(account.advanced_to).isoformat()
    out["lot_rules"] = lot_rules
    # (what no later event can read is left out: cap counters of past periods)
    out["earned"] = [[scope, kind, label, points]
                     for (scope, kind), (label, points, _) in sorted(account.current_earned().items())]
    # (a span's end is the end of its period: worked out again from the label)
    out["open_spans"] = [[kind, label] for kind, label in sorted(account.open_spans)]
    out["span_node"] = [[kind, label, node] for (kind, label), node in sorted(account.span_node.items())]
    out["rules"] = sorted(str(key(rule)) for rule in account.rules)
    return out, tuple(named.values())


class _AccountLoader:
    """Reads accounts' rows back, working out once what many rows share.

    Most accounts name the same few periods (the current day, week, month,
    quarter and year) and the same sets of rules: a period's end, and a set of
    rules, is worked out once per restore rather than once per row (a large
    store holds thousands of accounts: this was most of restoring the state).
    """

    def __init__(self, rules: dict[str, RuleRef], ends: Callable[[str, str], datetime]) -> None:
        self.rules = rules
        self.ends = ends
        self._ends: dict[tuple[str, str], tuple[datetime, timedelta]] = {}
        self._rule_sets: dict[tuple[str, ...], frozenset[RuleRef]] = {}
        self._named: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[RuleRef, ...]] = {}

    def end(self, kind: Any, label: Any) -> tuple[datetime, timedelta]:
        """The end of the period of ``kind`` labelled ``label``, and as a ``utc_key``."""
        found = self._ends.get((kind, label))
        if found is None:
            at = self.ends(str(kind), str(label))
            found = self._ends[(str(kind), str(label))] = (at, utc_key(at))
        return found

    def load(self, doc: dict[str, Any]) -> Account:
        """An account from its row (its lots and marks left packed)."""
        account = Account(str(doc["member"]))
        for name in _TOTALS:
            setattr(account, name, int(doc[name]))
        account.packed = str(doc["lots"])
        account.packed_due = NEVER if doc["due"] is None else datetime.fromisoformat(doc["due"])
        advanced = doc["advanced_to"]
        account.advanced_to = None if advanced is None else utc_key(datetime.fromisoformat(advanced))
        known, end = self._ends.get, self.end
        account.earned = {(str(scope), str(kind)): (str(label), int(points),
                                                    (known((kind, label)) or end(kind, label))[1])
                          for scope, kind, label, points in doc["earned"]}
        account.open_spans = {(str(kind), str(label)): (known((kind, label)) or end(kind, label))[0]
                              for kind, label in doc["open_spans"]}
        account.span_node = {(str(kind), str(label)): str(node) for kind, label, node in doc["span_node"]}
        keys = tuple(doc["rules"])
        rule_set = self._rule_sets.get(keys)
        if rule_set is None:
            rule_set = self._rule_sets[keys] = frozenset(self.rules[str(key)] for key in keys)
        account.rules = set(rule_set)  # (a copy of a set keeps its members' hashes: none worked out again)
        return account

    def named(self, doc: dict[str, Any]) -> tuple[RuleRef, ...]:
        """The rules a row names (its lots' and its entries'), by key."""
        keys = (tuple(doc["lot_rules"]), tuple(doc["rules"]))
        found = self._named.get(keys)
        if found is None:
            every = {str(key) for key in keys[0]} | {str(key) for key in keys[1]}
            found = self._named[keys] = tuple(self.rules[key] for key in sorted(every))
        return found


def _unpack(account: Account, *, rules: dict[str, RuleRef], ends: Callable[[str, str], datetime]) -> None:
    """Read an account's packed lots and marks back (``Account.unpacker``); ``ValueError`` if unreadable."""
    assert account.packed is not None
    try:
        lots_rows, marks = json.loads(account.packed)
        lots = []
        for row in lots_rows:
            ident, time, node, remaining, expires, rule = row
            lot = Lot(str(ident), datetime.fromisoformat(time), str(node), int(remaining),
                      None if expires is None else datetime.fromisoformat(expires),
                      None if rule is None else rules[rule])
            lot.saved = [*row[:3], 0, *row[4:]]
            lots.append(lot)
        active = {(str(kind), str(label)): ends(str(kind), str(label)) for kind, label in marks}
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"unreadable points checkpoint (lots of {account.member}): {type(exc).__name__}: {exc}"
                         ) from exc
    account.lots = lots
    account.expiring = [(lot.expires, lot.time, lot.entry_id, lot) for lot in lots if lot.expires is not None]
    heapq.heapify(account.expiring)
    account.active = active
    account.prune_at = 2 * len(active) + 64
    account.packed = None


def rule_key(rule: RuleRef) -> str:
    """A short key naming a rule (file, line, column and text) in a checkpoint."""
    found = _KEYS.get(rule)
    if found is None:
        if len(_KEYS) > 10_000:
            _KEYS.clear()
        text = json.dumps([rule.file, rule.line, rule.column, rule.text], ensure_ascii=False)
        found = _KEYS[rule] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return found


_KEYS: dict[RuleRef, str] = {}


def _dump_counter(counter: PeriodCounter) -> list[list[Any]]:
    return [[list(key), label, total] for key, (label, total) in sorted(counter.counts.items())]


def _load_counter(rows: list[list[Any]], ends: Callable[[str, str], datetime]) -> PeriodCounter:
    counter = PeriodCounter()
    counter.counts = {tuple(str(k) for k in key): (str(label), int(total)) for key, label, total in rows}
    counter.restored(ends)
    return counter
