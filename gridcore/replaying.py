"""The engine's replay: the state built again from the store, and rewound before a late event.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: the
stored events applied in canonical order after the checkpoint the state came
from, or all of them (``_replay``, which keeps its place when stopped before a
late event), the state dropped and built again (``rebuild``,
``_rebuild_state``) or rewound to just before a late event (``_rewind_to``), the
period stamps kept across (``gridcore.stamps``), and whether the log was
recorded in time order (``time_order``, ``late_before``: ``gridcore.timeorder``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from . import timeorder
from .checkpointing import OpenReport
from .enginestate import CONFLICT_RETRIES, EngineState
from .errors import EventError, StoreConflict, StoreError
from .events import Event, event_order
from .garbage import fewer_full_collections, serving_now, settle
from .register import HouseholdRegister
from .restoring import _doc_order
from .store import EventBatch
from .timeorder import TimeOrder

if TYPE_CHECKING:
    from .engine import Engine

#: Ids asked of a store's ``find_ids`` at once (``_stored_among``): every id of a ``gridcore ingest`` call
#: (``INGEST_CHUNK``, 20,000) in one query, where 1,000 a query cost SQLite nearly twice as much an id.
IDS_AT_ONCE = 50_000


class Replaying(EngineState):
    """The replay methods of ``Engine``."""

    def rebuild(self) -> None:
        """Drop every plugin's derived state and replay the store from the start (no checkpoint)."""
        self._rebuild_state(checkpoint=False)

    @property
    def open_report(self) -> OpenReport:
        """How ``open`` built this engine's state: from which checkpoint (``restored_from``, 0 for none, and
        ``why_not``), how many log entries it replayed, and how often the state was built again since
        (``rebuilds``).  ``str()`` of it is one line for a benchmark's table or a log."""
        return attrs.evolve(self._opened, rebuilds=self._rebuilds) if self._rebuilds else self._opened

    def _rebuild_state(self, *, checkpoint: bool = True) -> None:
        self._rebuilds += 1
        for _ in range(CONFLICT_RETRIES):
            held = self._position
            self._reset()
            try:
                with fewer_full_collections():
                    restored = checkpoint and self._restore_checkpoint()
                    self._rebuilt_stamps(restored, held)
                    self._replay()
                self.hooks.forget_stale()  # (they held the replaced states' methods)
                if serving_now():
                    # The state just dropped is garbage in cycles that only a full collection frees, and
                    # those are rare while serving: every late event another writer stored left a whole
                    # state behind (gridcore.garbage). So every plugin's state is loaded now (a service
                    # loads them when it starts, too), which drops the last of the old one, and collected.
                    self._woken()
                    settle()
                return
            except StoreConflict:
                continue  # another writer appended while this one replayed: again
        raise StoreError(f"the store {self.store.url} kept changing while it was replayed ({CONFLICT_RETRIES} tries)")

    def _reset(self) -> None:
        self._caught_up = False
        self._base = 0
        self._forgot = False
        self._applied.clear()
        self._derived_here.clear()
        self._cursor = self._ahead = None
        self._beyond, self._beyond_order = set(), None
        self._high_water = None
        self._last = None
        self._last_input = None
        self._population.clear()
        self.households = HouseholdRegister(self.community)
        self._unread.clear()
        self._pending.clear()
        self.hooks.on_open(cast("Engine", self))

    def _rewind_to(self, late: Event) -> None:
        """Rebuild every plugin's state from the stored events that come before ``late``.

        From the newest checkpoint taken before ``late`` if one fits, else from the start.
        """
        self._rebuilds += 1
        held = self._position
        self._reset()
        self._rebuilt_stamps(self._restore_checkpoint(before=event_order(late)), held)
        self._replay(before=event_order(late))

    def _rebuilt_stamps(self, restored: bool, held: int) -> None:
        """The state was built anew (from a checkpoint if ``restored``) by one that held the log up to ``held``:
        the stamps of the periods nothing replayed reaches are kept (``gridcore.stamps``).  Only where the
        state before had applied every event of the checkpoint (another writer's checkpoint holding events
        this engine had not read, a late one among them, renews every stamp: those events are replayed by
        neither state, so nothing notes how far back they reach)."""
        if restored and self._base <= held:
            self._stamp_book.rebuilt(self._last)
        else:
            self._stamp_book.renew()

    @property
    def time_order(self) -> TimeOrder:
        """Whether (and from where) the log has had an event recorded out of time order (``gridcore.timeorder``).

        As the store kept it when this engine last replayed or read new events (and with the late events
        this engine recorded since).  A store written by an older gridcore does not know (``kept`` False).
        """
        return self._time_order

    def late_before(self, event: Event) -> bool:
        """True if an event recorded late may come at or before ``event`` in time order.

        A stored ``event`` replayed (``gridcore_on_event`` with ``replaying=True``) for which this is False
        was judged, when it was recorded, on exactly the events that come before it on the replayed log:
        judging it again there gives the same answer, so a plugin that judges stored events again on replay
        (escalation: steps refused in time order) may pass it by.  True for every event of a store that
        does not know (``time_order``).
        """
        since = self._late_since
        return since is not None and (event.time, event.id) >= since

    def ignored_stored(self, event_id: str) -> list[str] | None:
        """Why the stored event ``event_id`` counts for nothing: the reasons a replay was given for it by
        ``gridcore_validate_stored`` (it reached every plugin through ``gridcore_on_event_ignored``); None if it
        counts.  As this engine last judged it: kept through the rewinds of late events and in checkpoints (one
        written by an older gridcore kept none: the events before it were applied by no plugin either, but
        this does not say so).  A plugin that judges an event against the stored events after it (the points
        plugin, a late redemption) leaves those out, as a replay does.  Exact for that judgment only while the
        event judged cannot change a ``gridcore_validate_stored`` answer for a stored event after it: true of
        the built-ins (a redemption changes no escalation judgment); a plugin whose answers depend on another's
        events refuses such a late event itself (``gridcore_validate_stored``'s docstring, docs/plugins.md)."""
        return self._ignored.get(event_id)

    def _read_time_order(self) -> tuple[datetime, str] | None:
        """Read the fact from the store; its ``since`` (see ``late_before``)."""
        self._time_order = timeorder.read(self.store)
        self._late_since = self._time_order.since
        return self._late_since

    def _mark_late(self, time: datetime, ident: str) -> None:
        """Mark in the store that ``(time, ident)`` is recorded (or a ruleset put in force) late, before it is."""
        self._settle_append()  # (the position it comes after)
        self._time_order = timeorder.mark(self.store, self._time_order, time, ident, self._position)
        self._late_since = self._time_order.since

    def _tell_unread(self) -> None:
        """Warn about stored events of kinds no loaded plugin registers (counted by the replay)."""
        if self._unread:
            kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(self._unread.items()))
            self.warnings.append(
                f"stored events of kinds no loaded plugin registers are kept but not applied: {kinds} / "
                f"已保存的事件中有未加载插件的类型，保留但不处理：{kinds}")

    def _replay(self, before: tuple[datetime, str] | None = None) -> None:
        """Apply the stored events (those before ``before`` only, if given) not applied yet.

        A replay stopped at ``before`` keeps its place: the next call goes on
        from there, so a run of late events judged one after the other reads
        the log once.  Derived events written meanwhile are appended on
        condition that the store is still where this engine last saw it.
        """
        if self._cursor is None:
            self._position = self.store.position()
            self._read_time_order()  # (after the position: every late event read up to it was marked before)
            self._cursor = iter(self._stored_after_base())
        # (no batch is written while stored events are replayed, so what plugins store with a batch,
        # ``gridcore_on_flush``, is asked for every ``replay_flush_every`` events: a writable engine's
        # sealed parts do not wait in memory for the replay's end; a read-only engine writes nothing)
        flush_in = self.replay_flush_every if not self._read_only else -1
        while True:
            doc = self._ahead if self._ahead is not None else next(self._cursor, None)
            self._ahead = None
            if doc is None:
                break
            event = self._decode_stored(doc)
            if event is None:
                self._applied.add(str(doc.get("id")))  # stored: the same id is never recorded again
                continue
            if before is not None and event_order(event) >= before:
                self._ahead = doc
                return
            self._apply_stored(event)
            flush_in -= 1
            if not flush_in:
                self._settle_append()  # (as before a batch: after the batch sent before is stored)
                self.hooks.on_flush(cast("Engine", self))
                flush_in = self.replay_flush_every
        self._cursor = None
        self._beyond, self._beyond_order = set(), None  # (their ids in ``_applied`` now)
        since, now = self._late_since, self._read_time_order()
        if now is not None and (since is None or now < since) and self._last is not None and now <= self._last:
            # a late event another writer stored meanwhile, read by this replay (after the position it read
            # to) and marked after the mark was read: events after it were applied without being judged
            # again; replayed again (the callers do that)
            raise StoreConflict("another writer marked a late event while the log was replayed")
        self._caught_up = True  # every event stored up to the position read at the start is applied
        self._stamp_book.mark(self._last)
        self._catch_up()  # what other writers appended while the log was read

    def _stored_among(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` the store holds."""
        wanted = list(dict.fromkeys(ids))
        # ids only where the store can (every built-in one): find would read and decode the documents
        find_ids = getattr(self.store, "find_ids", None)
        step = IDS_AT_ONCE if find_ids is not None else 1000
        if find_ids is not None and len(wanted) <= step:
            return set(find_ids(wanted))  # (a call's ids, most often: one query, however the store makes it)
        found: set[str] = set()
        for start in range(0, len(wanted), step):
            chunk = wanted[start : start + step]
            found.update(find_ids(chunk) if find_ids is not None else self.store.find(chunk))
        return found

    def _stored_forgotten(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` stored and not in ``_applied`` (stored at or before the checkpoint the state was
        restored from, or forgotten since: ``_forget``)."""
        if not self._forgot:
            return set()  # every stored id is in _applied (a replay within record_many), and none was let go
        return self._stored_among([ident for ident in ids if ident not in self._applied])

    def _stored_forgotten_soon(self, decoded: list[tuple[Event, int, dict[str, Any] | None]], start: int,
                               first: int) -> tuple[set[str], Any, int]:
        """``_stored_forgotten`` of the ids of ``decoded[start:]``, where the store can answer while the engine
        works (``find_ids_soon``: PostgreSQL): those of the first ``first`` events asked now, the rest asked
        to be answered while they are judged.  Returns the stored ids found now, what gives the others
        (``result()``; None if none are asked so), and the index of ``decoded`` from which they are needed
        (-1: none).  The same answer as one query: the store answers the second before anything this engine
        asks or writes after it, and what another writer stores meanwhile makes this writer's next append
        a conflict either way, after which everything not stored is judged again."""
        ids = [event.id for event, _, _ in decoded[start:]]
        soon = getattr(self.store, "find_ids_soon", None)
        if soon is None or len(ids) <= first:
            return self._stored_forgotten(ids), None, -1
        rest = [ident for ident in ids[first:] if ident not in self._applied]
        if not rest or len(rest) > IDS_AT_ONCE:
            return self._stored_forgotten(ids), None, -1
        found = self._stored_forgotten(ids[:first])
        return found, soon(rest), start + first  # (``result()`` once ``start + first`` is reached)

    def _stored_after_base(self) -> Iterator[dict[str, Any]]:
        """The stored events a replay reads, in canonical order: all, or those after the checkpoint."""
        if self._base == 0:
            # (read in canonical order as it is stored: events stored meanwhile that sort after the last one
            # at the position asked, as a writer's do, are read too; the ids of those from it on are kept)
            at = next(iter(self._orders_after(self._position - 1)), None) if self._position > 0 else None
            self._beyond_order = (at[1], at[2]) if at is not None and at[0] == self._position else None
            yield from self.store.events()
            return
        found = list(self.store.events_after(self._base))
        # (another writer may have stored more since ``_replay`` asked the position: those are applied in
        # their place among the rest, and their ids kept, as ``_catch_up`` reads them again)
        self._beyond = {str(doc.get("id")) for at, doc in found if at > self._position}
        yield from sorted((doc for _, doc in found), key=_doc_order)

    def _apply_stored(self, event: Event) -> None:
        if event.id in self._applied:
            return
        batch = EventBatch()
        ids: set[str] = set()
        self._advance(event.time, batch, ids)
        self._flush(batch, ids)
        if event.id in self._applied:
            return
        self._apply(event, replaying=True)
        beyond = event.id in self._beyond or (self._beyond_order is not None
                                               and (event.time, event.id) >= self._beyond_order)
        if self._cursor is not None and self._judging is None and not beyond:
            # A replay outside ``record_many`` (opening, a rebuild) reads each stored event once, in order:
            # its id is asked of the store from now on rather than kept (a replay of 898,948 events kept
            # as many ids, about 90 MB).  Derived events applied ahead of their stored copy (``_advance``)
            # stay in ``_applied``; inside ``record_many`` (a rewind) ids are kept, as its callers asked
            # the store only for what they did not know at its start.
            self._forgot = True
        else:
            self._applied.add(event.id)

    def _decode_stored(self, doc: Mapping[str, Any]) -> Event | None:
        """A stored document as an event; ``StoreError`` naming the store if it is not one.

        None for a kind no loaded plugin registers: such events (a disabled or
        uninstalled plugin's) stay in the store and come back with their
        plugin; opening says how many were left out.
        """
        kind = doc.get("kind")
        if isinstance(kind, str) and kind not in self.codec.kinds:
            self._unread[kind] = self._unread.get(kind, 0) + 1
            return None
        try:
            return self.codec.from_dict(doc)
        except EventError as exc:
            ident = doc.get("id") if isinstance(doc, Mapping) else None
            which = f" ({ident})" if isinstance(ident, str) else ""
            known = self.codec.kinds.get(kind) if isinstance(kind, str) else None
            if known is not None:
                # its plugin is loaded and reads it otherwise than it was written: the class changed
                raise StoreError(
                    f"the store {self.store.url} holds a {kind} event that the installed {known.__module__}."
                    f"{known.__qualname__} cannot read{which}: {exc}. Its plugin changed the event since it was "
                    "stored (a field added to an event needs a default; one renamed or removed must still be "
                    "read), or the store is damaged (存储中的事件无法按已安装插件的事件类型读取：插件改变了事件"
                    "类型（新增字段须有默认值，改名或删除的字段仍须能读取），或存储已损坏)"
                ) from None
            raise StoreError(
                f"the store {self.store.url} holds an event that cannot be read{which}: {exc}. The store is "
                "damaged or was written by a plugin that is not installed here (存储中有无法读取的事件：存储已损坏，"
                "或由本机未安装的插件写入)"
            ) from None
