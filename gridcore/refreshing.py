"""The engine's refresh: what other processes appended to the store, taken on without a replay.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: the
log position the state reflects (``position``, ``stored_position``, within one
read: ``reading``), catching up with the events other writers appended
(``refresh``, ``_catch_up``; a late one among them, rulesets put in force or a
roster grown elsewhere rebuild the state: ``gridcore.replaying``), and the
stored events as a plugin reads them (``events``).  The contract is in
``docs/architecture.md`` ("Checkpoints and refresh: the contracts").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from .clock import require_aware
from .enginestate import CONFLICT_RETRIES, EngineState
from .errors import InvalidTypeError, StoreConflict, StoreError
from .events import Event, event_order
from .store import Store


class Refreshing(EngineState):
    """The refresh methods of ``Engine``."""

    def refresh(self) -> int:
        """Catch up with what other processes appended to the store; return how many events were new.

        Reads only the events after this engine's log position (``position``)
        and applies them in canonical order, so a long-running process (a web
        service, a CLI beside it) sees other writers' events without a
        replay.  An event another writer stored earlier in time than what is
        already applied makes the state be rebuilt from the store.  Rulesets
        another process put in force are taken up too, and a roster another
        process grew (``gridcore init --community`` on the store: a new
        community of a district): the engine takes on the saved roster and
        rebuilds its state as opening the store again would (from the
        checkpoint the growth stored), then has the events after it; one that
        differs only by joining times recorded since (``record_joined``) is taken
        on the same way.  A saved
        roster that changed otherwise than by growing is a ``GridcoreError``
        (only a store without events may be given another roster), the
        state left as it was.
        """
        self._check_open()
        for _ in range(CONFLICT_RETRIES):
            # after a rebuild, the new events are counted by the log position (the ids applied
            # depend on the checkpoint the state was restored from)
            before = self._position
            try:
                if self._roster_grown() or self._rulesets_changed():
                    self._restore_rulesets()
                    self._stamp_book.renew()  # (kept stamps would be carried across another ruleset or roster)
                    self._rebuild_state()
                    new = max(self._position - before, 0)
                else:
                    new = self._catch_up()
            except StoreConflict:
                self._rebuild_state()
                new = max(self._position - before, 0)
            self._bound_applied()  # (a writer that only reads what others store takes no checkpoint)
            return new
        raise StoreError(f"the store {self.store.url} kept changing while catching up ({CONFLICT_RETRIES} tries)")

    @property
    def position(self) -> int:
        """The store's log position this engine's state reflects (see ``Store.position``)."""
        return self._position

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read (a metric, a report, a roll-up: ``metric`` and ``report`` are each one): within it,
        ``stored_position`` asks the store once and gives that answer to the rest of the read.

        Reads nest: the outermost one is the read.  A read appends no event (it may
        keep a document, as an assessment saved); if this engine's own position moves
        within one (a refresh), the store is asked again.
        """
        self._reads += 1
        try:
            yield
        finally:
            self._reads -= 1
            if not self._reads:
                self._read_at = None

    def stored_position(self) -> int:
        """The store's log position (``Store.position``): whether other processes appended since this
        engine's ``position``.

        Outside a read it is asked of the store at every call; within one
        (``reading``) only at the first call, and the read goes on as at that
        moment: what another process appends meanwhile is left to the next read
        (a roll-up's thousands of metric lookups each compared the two
        positions: a round trip each on PostgreSQL).
        """
        if not self._reads:
            return self.store.position()
        kept = self._read_at
        if kept is not None and kept[0] == self._position:
            return kept[1]
        found = self.store.position()
        self._read_at = (self._position, found)
        return found

    @property
    def caught_up(self) -> bool:
        """True when this engine's state holds every event stored up to ``position``.

        Then no event this engine has read from its store waits to be applied:
        a plugin's state holds every stored event (and those of the ingest
        under way), so nothing stored comes after what it has applied.  False
        while a late event and those after it are judged (every plugin is
        rewound to just before it, and the stored events after it are applied
        only as the events after it are judged: they are only in the store),
        and while a replay or ``refresh`` applies stored events (derived events
        are judged meanwhile).  A plugin that judges an event against the
        stored events after it (points: a redemption dated before later
        spending) need ask the store for them only when this is False.

        Events another writer appended after ``position`` are not seen here; a
        batch judged meanwhile is appended only if the store is still at
        ``position`` (``Store.append``), so it is judged again after them.
        """
        return self._caught_up

    @property
    def read_only(self) -> bool:
        """True if this engine never writes to its store."""
        return self._read_only

    def store_again(self) -> Store:
        """A new handle on this engine's store, with its own connection (never creating one).

        For a forked process reading the store while this one keeps its own
        handle (a connection must not be shared across a fork: ``gridcore
        rollup --workers``).  Opened from the URL the engine was opened with
        (the store's ``url`` hides a password), else from the store's ``url``;
        the caller closes it.  ``StoreError`` (or the backend's error) when
        that does not open it.
        """
        return self.hooks.storage_backend(self._store_url or self.store.url, create=False)

    def _catch_up(self) -> int:
        """Apply the events appended after ``_position`` that are not applied yet."""
        found = list(self.store.events_after(self._position))
        if not found:
            return 0
        decoded = [(doc, self._decode_stored(doc)) for _, doc in found]
        self._applied.update(str(doc.get("id")) for doc, e in decoded if e is None)
        if self._derived_here:  # stored now: known by position from here on, like every event read
            self._derived_here.difference_update(str(doc.get("id")) for doc, _ in decoded)
        # (the event applied last is applied, its id kept or not: a full replay, which keeps no ids, may
        # have read an event another writer stored after the position it read to, and one such is that one;
        # more than one read so come before it, and are rebuilt below, as a late event is)
        last = self._last[1] if self._last is not None else None
        fresh = sorted((e for _, e in decoded if e is not None and e.id not in self._applied and e.id != last),
                       key=event_order)
        if fresh and self._last is not None and event_order(fresh[0]) < self._last:
            # Another writer stored an event earlier than what is applied here:
            # the state must be rebuilt in canonical order (callers do that).
            raise StoreConflict(f"another writer stored {fresh[0].id}, earlier than what is applied")
        self._position = found[-1][0]
        self._read_time_order()  # (after reading them: a late one among them is marked)
        # stored up to the new position but not applied yet: derived events judged meanwhile
        # (``_advance``) come before some of them
        whole, self._caught_up = self._caught_up, False
        for event in fresh:
            self._apply_stored(event)
        self._caught_up = whole
        return len(fresh)

    def events(
        self,
        *,
        kinds: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Event]:
        """Stored events in canonical order, optionally filtered.

        ``kinds`` is a collection of kinds: one kind written alone (``kinds="patrol_logged"``, a
        string, which is an iterable of its letters) is an ``InvalidTypeError``, not an empty read.
        """
        if isinstance(kinds, str):
            raise InvalidTypeError(f"kinds must be a list of event kinds, not one text: write kinds=[{kinds!r}] "
                                   f"(kinds 须为事件类型的列表)")
        since = None if since is None else require_aware(since)
        until = None if until is None else require_aware(until)
        for doc in self.store.events(kinds=list(kinds) if kinds else None, since=since, until=until):
            event = self._decode_stored(doc)
            if event is not None:
                yield event
