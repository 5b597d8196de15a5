"""Whether a store's log was recorded in time order: a fact the store keeps (``Engine.time_order``).

An event is *late* when it is recorded after an event that comes after it in
time order (canonical order: time, then id): the engine judges it by the state
at its own time (it rewinds), and the stored events after it are replayed
behind it.  A stored event recorded before a late one was judged without it,
so a plugin that judges stored events again on replay (escalation: a step the
replayed log refuses in time order is ignored) need do so only for those that
come at or after the earliest late event in time order; before it, every
event was judged on exactly the events a replay gives it.  A ruleset put in
force from a time the log already holds events at or after counts as late
there too (those events are judged again under it).

The store keeps the fact as one document, ``meta``/``time order``, of the
shape ``merge_parts`` merges (``{"parts": {key: position}}``), so that two
writers marking late events at once both keep their marks (a store without
``merge_parts`` reads and writes it, and one of two such marks could be
lost):

* ``"kept": 0``: the marks are kept since the store's first event (written
  before the first event is appended).  A store written by an older gridcore
  lacks it: any event may have been recorded late (``kept`` False).
* ``"late <time in UTC, ISO 8601> <event id>": P``: an event (or a ruleset's
  start, with an empty id) recorded late, after log position ``P``.  A mark
  is written before the event is judged (so it may name one refused in the
  end: the fact errs only on the safe side), and only when it comes earlier
  in time order than every mark the writer knows; the earliest stands.

A store written before the fact was kept gets it once (``settle``, run by
``gridcore time-order --settle``): the log is read in the order it was stored
and each event that comes before one stored ahead of it in time order is
marked, as the engine would have marked it (an event at the time of a derived
one stored before it, with a later order than every event offered before it,
is not late: ``Engine._tied_with_derived``); and since a ruleset put in force
back-dated left no trace of when it was, the earliest stored event a full
replay judging every stored event again ignores (``gridcore_on_event_ignored``)
is marked too.  Every stored event before the earliest mark was then accepted
on the replayed log exactly as when it was recorded: replays judge again only
from there.  ``kept`` is written last (a crash before it leaves the store as it
was: not kept).

A reader reads the fact after the log position it replays to (a mark is
written before its event is appended, so it sees the mark of every late event
it reads), and again at the end of a replay: a mark added meanwhile makes it
replay again (``StoreConflict``), as an event another writer stored earlier
than what is applied does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .classes import frozen
from .events import SYSTEM_ACTOR
from .store import Store

#: the collection and key of the fact in the store (the engine's ``META`` collection)
COLLECTION = "meta"
KEY = "time order"
_KEPT = "kept"
_LATE = "late "
#: the earliest (time, id) there is: with marks not kept, any event may come after a late one
_ANYWHERE = (datetime.min.replace(tzinfo=UTC), "")


@frozen
class TimeOrder:
    """Whether (and from where) the log has had an event recorded out of time order.

    ``kept``: the store has kept the fact since its first event (False for a
    store written by an older gridcore: then any stored event may have been
    judged before a late one, ``late_before`` is always True).
    ``late_from``: the earliest, in time order, of the events recorded late
    (``(time, event id)``; a ruleset put in force back-dated counts from its
    start, with id ``""``); None when none was.
    ``in_order_through``: the log position up to which every event was
    recorded in time order (None: the whole log, or not kept).
    """

    kept: bool
    late_from: tuple[datetime, str] | None = None
    in_order_through: int | None = None

    @property
    def in_time_order(self) -> bool:
        """True if no event was ever recorded out of time order (and that is known)."""
        return self.kept and self.late_from is None

    def late_before(self, time: datetime, ident: str) -> bool:
        """True if an event recorded late may come at or before ``(time, ident)`` in time order: a stored event
        there may have been judged without it, so judging it again on the replayed log may differ."""
        since = self.since
        return since is not None and (time, ident) >= since

    @property
    def since(self) -> tuple[datetime, str] | None:
        """The order from which a stored event may have been judged before a late one (None: none may)."""
        return self.late_from if self.kept else _ANYWHERE


def read(store: Store) -> TimeOrder:
    """The fact as ``store`` keeps it now."""
    doc = store.get(COLLECTION, KEY)
    parts = doc.get("parts") if isinstance(doc, dict) else None
    if not isinstance(parts, dict) or _KEPT not in parts:
        return TimeOrder(kept=False)
    late: tuple[datetime, str] | None = None
    through: int | None = None
    for key, position in parts.items():
        if not key.startswith(_LATE):
            continue
        when, _, ident = key[len(_LATE):].partition(" ")
        order = (datetime.fromisoformat(when), ident)
        if late is None or order < late:
            late = order
        if isinstance(position, int) and (through is None or position < through):
            through = position
    return TimeOrder(kept=True, late_from=late, in_order_through=through)


def keep(store: Store) -> None:
    """Say in ``store`` that the marks are kept from its first event (called before that is appended)."""
    _merge(store, {_KEPT: 0})


def mark(store: Store, known: TimeOrder, time: datetime, ident: str, position: int) -> TimeOrder:
    """Mark ``(time, ident)`` recorded late after log position ``position``, if it comes before every mark
    ``known`` (what this writer last read) holds; the fact as it then is.

    A store that does not keep the fact (yet) is marked too, the earliest this writer marked standing for
    the rest: ``settle`` (``gridcore time-order --settle``) may run between this writer reading "not kept"
    and its event being stored, and then finds the event marked (its own scan has ended by then)."""
    if known.late_from is not None and known.late_from <= (time, ident):
        return known
    _merge(store, {f"{_LATE}{time.astimezone(UTC).isoformat()} {ident}": position})
    if not known.kept:  # (every stored event is judged again meanwhile: the mark only waits for a settle)
        return TimeOrder(kept=False, late_from=(time, ident))
    through = position if known.in_order_through is None else min(known.in_order_through, position)
    return TimeOrder(kept=True, late_from=(time, ident), in_order_through=through)


def _merge(store: Store, entries: dict[str, int]) -> None:
    merge_parts = getattr(store, "merge_parts", None)
    if merge_parts is not None:
        merge_parts(COLLECTION, {KEY: entries})
        return
    doc: dict[str, Any] = store.get(COLLECTION, KEY) or {}
    parts = dict(doc.get("parts") or {})
    parts.update(entries)
    store.put(COLLECTION, KEY, {"parts": parts})


#: where ``late_stored`` stopped: the log position it read to, the latest order stored, the latest of an event
#: not derived
Scan = tuple[int, "tuple[datetime, str] | None", "tuple[datetime, str] | None"]


def late_stored(store: Store, scan: Scan = (0, None, None), also: str | None = None
                ) -> tuple[list[tuple[int, datetime, str]], Scan]:
    """The events stored after the log position ``scan`` read to that were recorded late: ``(position, time,
    id)`` of each, in the order stored (and of the event ``also`` names, wherever it is), and where the scan
    stopped (to go on from).  An event is late when it comes before the latest stored ahead of it in time
    order, unless it ties with derived events only (at their time, after every event offered before it): as
    the engine judged it when it was recorded."""
    at, last, last_input = scan
    found: list[tuple[int, datetime, str]] = []
    for position, doc in store.events_after(at):
        when = datetime.fromisoformat(str(doc["time"]))
        order = (when, str(doc["id"]))
        tied = last is not None and last[0] == when and (last_input is None or order > last_input)
        if (last is not None and order < last and not tied) or order[1] == also:
            found.append((position, when, order[1]))
        if last is None or order > last:
            last = order
        if doc.get("actor") != SYSTEM_ACTOR and (last_input is None or order > last_input):
            last_input = order
        at = position
    return found, (at, last, last_input)


def settle(store: Store, first_ignored: str | None) -> TimeOrder:
    """Give a store written before the fact was kept its marks, once: the events stored late (``late_stored``)
    and ``first_ignored`` (the id of the earliest stored event, in time order, that a full replay judging every
    stored event again ignored, if any), then ``kept``; then what another writer stored meanwhile is read and
    marked too.  The fact as it then is (a store that keeps it already is left as it is)."""
    known = read(store)
    if known.kept:
        return known
    late, scan = late_stored(store, also=first_ignored)
    if late:
        _merge(store, _marks(late))
    _merge(store, {_KEPT: 0})  # (last: a crash before it leaves the store not kept, as it was)
    while store.position() > scan[0]:  # (stored meanwhile by a gridcore that read the fact before: unmarked)
        late, scan = late_stored(store, scan)
        if late:
            _merge(store, _marks(late))
    return read(store)


def _marks(late: list[tuple[int, datetime, str]]) -> dict[str, int]:
    """The marks that say what ``late`` (events stored late, at their positions) does: the earliest in time
    order (from where replays judge again) and the first stored (``in_order_through``), each recorded after
    the position before it (the others add nothing)."""
    kept = {min(late, key=lambda found: (found[1], found[2])), min(late)}
    return {f"{_LATE}{when.astimezone(UTC).isoformat()} {ident}": max(position - 1, 0)
            for position, when, ident in kept}
