"""Refusals remembered: an event offered again is not judged again while nothing before it changed.

A file offered a second time (a day's export overlapping the last, an ingest
run again after some lines were mended) holds the events refused the first
time. They are not stored, and the log now goes past them, so each is a late
event: judging it again means rewinding every plugin to just before it and
replaying the log after it (``Engine._rewind_to``), a replay of most of the
log for a file that changes nothing.

The verdict on an event depends only on the events before it in canonical
order, the rulesets in force, the plugins and the community (the engine is
deterministic: ``docs/architecture.md``). So when an event is refused where
the log ends (not late: nothing after it was stored), the engine notes under
its id what it was refused for, with the digest of its stored form, the log
position just before it, its canonical order and the checkpoint *fit* (the
rulesets, plugins and community: ``Engine._checkpoint_fit``). When the same
event (the same digest) is offered again as a late event, the note stands for
a new judgement if the fit is the same and **every event stored after that
position comes after it in canonical order**: then the events before it are
exactly those it was judged against, and so is its verdict. (The events it was
judged against were the first ``position`` of the log and all before it; events
are never removed, so when none stored after ``position`` comes before it, the
events before it are those same ones, also in a copy of the store, whose log
is in canonical order: the copy's first ``position`` then hold every event
before it.) Otherwise (a late
event stored before it since, a ruleset put in force, a changed roster or
plugin) it is judged again as before, rewind and all.

Only refusals judged where the log ended are noted: one judged on a rewound
state may have read the events after it (a late redemption is checked against
later spending), which may change. Nor one refused for what the clock says
(``Engine._outside_refusals``: a time too far ahead), nor by a read-only
engine (notes are written to the store, in the ``refusals`` collection, at the
end of a call whose batches were all stored). A note is a hint checked against
the log, never a decision of its own: a missing, damaged or stale one only
costs the rewind it would have saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .store.canonical import to_json

if TYPE_CHECKING:
    from .events import Event
    from .store import Store

#: The store collection holding the notes, one per refused event id.
COLLECTION = "refusals"
#: The notes' format; a note of another is not read (2: the reasons carry their Chinese, which the
#: notes of format 1 were written without).
FORMAT = 2

Order = tuple[datetime, str]


def digest(document: Mapping[str, Any]) -> str:
    """The SHA-256 of an event's stored form (its canonical JSON)."""
    return hashlib.sha256(to_json(document, "an event").encode()).hexdigest()


class RememberedRefusals:
    """The notes one engine makes and reads (see the module's docstring).

    ``store`` is the engine's store, ``fit`` gives the checkpoint fit's key
    (asked once per call), ``orders_after`` the ``(position, time, id)`` of the
    events stored after a position (``Store.orders_after``).
    """

    def __init__(self, store: Store, fit: Callable[[], str],
                 orders_after: Callable[[int], Iterable[tuple[int, datetime, str]]]) -> None:
        self._store = store
        self._fit_of = fit
        self._orders_after = orders_after
        #: notes made in this call, by event id (written by ``write`` for those still refused)
        self._made: dict[str, dict[str, Any]] = {}
        #: the fit's key in this call (None: not asked yet)
        self._fit: str | None = None
        #: the stored notes of this call's events (None: not read yet)
        self._found: dict[str, dict[str, Any]] | None = None
        #: for the store at position ``_at``: note position -> the earliest order stored after it
        self._earliest: dict[int, Order | None] = {}
        self._at = -1

    def begin(self) -> None:
        """A new call: nothing read or noted yet (the rulesets or the store may have changed since)."""
        self._made.clear()
        self._fit = None
        self._found = None
        self._earliest.clear()
        self._at = -1

    def note(self, event: Event, document: Mapping[str, Any], reasons: Sequence[str], position: int) -> None:
        """``event`` (stored form ``document``) was refused where the log ends, at log ``position``."""
        order = (event.time, event.id)
        self._made[event.id] = {
            "format": FORMAT,
            "digest": digest(document),
            "position": position,
            "order": [order[0].isoformat(), order[1]],
            "fit": self._fit_key(),
            "reasons": list(reasons),
        }

    def write(self, refused: Iterable[str]) -> None:
        """Store the notes of those ids among ``refused`` (the call's refusals) this call made."""
        docs = {ident: self._made[ident] for ident in refused if ident in self._made}
        self._made.clear()
        if not docs:
            return
        put_many = getattr(self._store, "put_many", None)
        if put_many is not None:
            put_many(COLLECTION, docs)
        else:
            for ident, doc in docs.items():
                self._store.put(COLLECTION, ident, doc)

    def reasons(self, event: Event, document: Mapping[str, Any], upcoming: Callable[[], Sequence[str]],
                position: int) -> list[str] | None:
        """The reasons a note gives for refusing ``event`` again, or None if it must be judged.

        ``upcoming`` gives the ids of this call's events from this one on (their
        notes are read in one query); ``position`` is the store's position, with
        nothing of this call waiting to be stored.
        """
        if self._found is None:
            self._found = self._read(upcoming())
        note = self._found.get(event.id)
        if note is None:
            return None
        try:
            noted_at = int(note["position"])
            noted_order = (datetime.fromisoformat(note["order"][0]), str(note["order"][1]))
            reasons = [str(reason) for reason in note["reasons"]]
            if (note.get("format") != FORMAT or note["fit"] != self._fit_key() or not reasons
                    or noted_order != (event.time, event.id) or note["digest"] != digest(document)
                    or not 0 <= noted_at <= position):
                return None
        except (KeyError, TypeError, ValueError, IndexError):
            return None  # a damaged note: judge the event
        earliest = self._earliest_after(noted_at, position)
        if earliest is not None and earliest <= noted_order:
            return None  # an event before it was stored since: the verdict may differ
        return reasons

    def _fit_key(self) -> str:
        if self._fit is None:
            self._fit = self._fit_of()
        return self._fit

    def _read(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(ids))
        get_many = getattr(self._store, "get_many", None)
        if get_many is not None:
            return dict(get_many(COLLECTION, wanted))
        found = {}
        for ident in wanted:
            doc = self._store.get(COLLECTION, ident)
            if doc is not None:
                found[ident] = doc
        return found

    def _earliest_after(self, noted_at: int, position: int) -> Order | None:
        """The earliest canonical order of the events stored after ``noted_at`` (None: none).

        Worked out for every note of the call that can stand in one pass over the
        log after the earliest of their positions, and again only if the store
        moved since."""
        if self._at != position:
            self._earliest.clear()
            self._at = position
        if noted_at not in self._earliest:
            found = self._found or {}
            marks = sorted({noted_at} | {int(note["position"]) for note in found.values()
                                         if isinstance(note, dict) and isinstance(note.get("position"), int)
                                         and noted_at <= note["position"] <= position
                                         and note["position"] not in self._earliest})
            self._earliest.update(_earliest_after_each(self._orders_after, marks))
        return self._earliest[noted_at]


def _earliest_after_each(orders_after: Callable[[int], Iterable[tuple[int, datetime, str]]],
                         marks: Sequence[int]) -> dict[int, Order | None]:
    """For each position in ``marks`` (ascending), the earliest order of the events stored after it."""
    # the earliest order within each stretch between two marks, then from the last stretch back
    stretches: list[Order | None] = [None] * len(marks)
    at = 0
    for position, when, ident in orders_after(marks[0]):
        while at + 1 < len(marks) and position > marks[at + 1]:
            at += 1
        order = (when, ident)
        known = stretches[at]
        if known is None or order < known:
            stretches[at] = order
    result: dict[int, Order | None] = {}
    earliest: Order | None = None
    for index in range(len(marks) - 1, -1, -1):
        stretch = stretches[index]
        if stretch is not None and (earliest is None or stretch < earliest):
            earliest = stretch
        result[marks[index]] = earliest
    return result
