"""The engine's checkpoints: each plugin's state stored as documents at a log position.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: it
stores a checkpoint after an ingest (``checkpoint``, ``_checkpoint_after_write``)
under what it was taken under (``_checkpoint_fit``), says the shape of its
documents (the slots, the index, a plugin's state in pages), and forgets the ids
of events applied before it.  ``restoring`` finds the newest one that fits,
restores it and replays only the tail (``_restore_checkpoint``, ``_wake``).  The
contract is in ``docs/architecture.md`` ("Checkpoints and refresh: the contracts").
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from .classes import frozen
from .errors import GridcoreError, StoreError
from .events import Event
from .garbage import fewer_full_collections, give_back_free_memory

if TYPE_CHECKING:
    import pluggy

    from .community import Community
    from .engine import Engine
    from .governing import RulesetTimeline
    from .plugin_host import Hooks
    from .register import HouseholdRegister
    from .stamps import StampBook
    from .store import Store

#: The collection holding checkpoints of derived state (see ``docs/architecture.md``).
CHECKPOINTS = "checkpoints"
#: A long ingest stores a checkpoint at least this often (in events stored).
CHECKPOINT_EVERY = 5000
#: An ingest leaving at least this many events after the last checkpoint stores a new one.
CHECKPOINT_MIN = 200
#: At most this share of a writing process's CPU time goes to checkpoints taken after an
#: ingest or tick: a checkpoint costs in proportion to the derived state, so in a process
#: that records call after call (a bulk load, the service) one after every call would cost
#: more than the events.  (Where checkpoints fall never changes a result.)  A cheaper checkpoint is
#: taken more often at the same share: a shorter tail for an open to replay, not less CPU.  5%, not
#: 10% as before 2026-12-05: at 1,000,000 events the ingest's checkpoints took half the CPU (11.6 s
#: rather than 22.3, about 6% of the ingest's), for a tail an open replays of 70,000 events on average
#: rather than 25,000; a read after the ingest replays none either way (closing takes a checkpoint), and
#: one beside it replays seconds' worth either way (docs/architecture.md, "Checkpoints").
CHECKPOINT_SHARE = 0.05
#: An ingest or tick leaving at least this many events after the last checkpoint stores a new one
#: whatever ``CHECKPOINT_SHARE`` says: what a checkpoint writes of the log (the points history's
#: sealed parts) waits in memory until it is taken, and the interval the share allows grows with the
#: state, so without a bound one checkpoint of a long ingest would write hundreds of thousands of
#: events' worth at once.  Each checkpoint still re-writes the row of every points account touched
#: since the last one (the lots sealed in parts are written once), and at a fixed population nearly
#: every account is touched between two, so a tight bound costs CPU: a district year (1,477,704 events, SQLite,
#: 2026-12-04) took 226 s and peaked at 707 MiB with 50,000, 191 s and 770 MiB with 200,000, 193 s
#: and 956 MiB with no bound.
CHECKPOINT_MAX = 200_000
#: How many checkpoints a store keeps (the newest; older slots are overwritten).
CHECKPOINT_SLOTS = 4
#: The shape of a checkpoint document; another one is ignored.
CHECKPOINT_FORMAT = 4  # 2: the household register is part of the core's state; 3: one document per plugin;
# 4: a plugin's long lists in pages (``CHECKPOINT_PAGE``)
#: A plugin's checkpoint document with a list of more than this many items at its top level (the points
#: plugin's accounts, one row each) is stored with that list cut into pages of this many, each a document
#: of its own (``_paged``): a store's driver copies a document it writes two or three times over (SQLite
#: binds it, casts it to text and builds its record), so one document of 15 MB lifted the memory of a
#: checkpoint by 46 MiB and 20 pages of it by 17.  The plugin is given the list whole again (``_wake``).
CHECKPOINT_PAGE = 256
#: Hooks through which a plugin's state follows the events (a plugin implementing
#: one of them without ``gridcore_save_state`` is replayed from the store in full).
STATEFUL_HOOKS = ("gridcore_on_event", "gridcore_on_tick", "gridcore_on_ruleset_loaded")


@frozen
class OpenReport:
    """How ``Engine.open`` built the engine's state (``Engine.open_report``): restored from a checkpoint with
    the log after it replayed, or the whole log replayed, and why no checkpoint served.

    A benchmark of reads "from a checkpoint" checks ``restored`` (a checkpoint that does not fit the plugins
    installed, e.g. one written where another plugin was installed, makes every open a full replay: same
    results, another cost); ``str()`` says it in one line, English and Chinese.
    """

    #: the store's log position the opened state reflects (events stored, derived ones included)
    position: int
    #: the log position of the checkpoint the state was restored from (0: none was, the whole log was replayed)
    restored_from: int
    #: why no checkpoint was restored ("" when one was)
    why_not: str = ""
    #: plugins whose state the checkpoint does not hold (they keep none, or were not in it): given every
    #: stored event up to it, as a replay gives them
    replayed_in_full: tuple[str, ...] = ()
    #: how often the state was built again since the open (a late event, rulesets another process put in
    #: force, a checkpoint found damaged when a plugin first read it): 0 while the state is the open's
    rebuilds: int = 0

    @property
    def restored(self) -> bool:
        """True when the state came from a checkpoint (and was not built again since)."""
        return self.restored_from > 0 and self.rebuilds == 0

    @property
    def replayed(self) -> int:
        """Log entries the open applied from the store: those after the checkpoint, or all of them."""
        return self.position - self.restored_from

    def __str__(self) -> str:
        if self.restored_from > 0:
            text = (f"restored from the checkpoint at {self.restored_from:,}, {self.replayed:,} of {self.position:,} "
                    f"replayed (从检查点恢复，重放 {self.replayed:,} 条)")
            if self.replayed_in_full:
                text += (f"; {', '.join(self.replayed_in_full)} replayed in full, their state not in it "
                         f"(检查点不含其状态，全部重放)")
        else:
            text = (f"no checkpoint restored: {self.why_not}; all {self.position:,} replayed "
                    f"(未从检查点恢复，全部重放 {self.position:,} 条)")
        if self.rebuilds:
            text += f"; the state was built again {self.rebuilds} time(s) since (其后重建 {self.rebuilds} 次)"
        return text


class Checkpointing:
    """The checkpoint methods of ``Engine`` (which holds the state they use)."""

    if TYPE_CHECKING:  # what these methods use of the state ``Engine.__init__`` makes
        community: Community
        store: Store
        plugins: pluggy.PluginManager
        hooks: Hooks
        households: HouseholdRegister
        warnings: list[str]
        checkpoint_min: int
        checkpoint_share: float
        checkpoint_max: int
        applied_most: int
        _timeline: RulesetTimeline
        _derived_here: set[str]
        _judging: tuple[list[tuple[Event, int, dict[str, Any] | None]], int] | None
        _cursor: Iterator[dict[str, Any]] | None
        _read_only: bool
        _sent: Any
        _sent_size: int
        _pending: dict[str, tuple[object, str, str]]
        _position: int
        _applied: set[str]
        _offered: list[str] | None
        _community_digest: tuple[Community, str] | None
        _stamp_book: StampBook
        _checkpointed: int
        _overtaken: bool
        _checkpoint_cost: float
        _checkpoint_done: float
        _ignored: dict[str, list[str]]
        _last: tuple[datetime, str] | None
        _population: dict[str, str]
        _high_water: datetime | None
        _unread: dict[str, int]

        def _settle_append(self, *, whatever_came_of_it: bool = False) -> None: ...
        def _check_open(self) -> None: ...
        def _woken(self, names: Iterable[str] | None = None) -> None: ...  # restoring.py

    def checkpoint(self) -> bool:
        """Store a checkpoint of every plugin's state at the current log position.

        The engine does this itself after every ingest and tick that stored
        something, every ``checkpoint_every`` events of a long ingest, and after
        ``use_ruleset``; call it after anything else that changed the store.
        Returns False when nothing was stored: a read-only engine, a position
        already checkpointed, or a plugin that could not save (``warnings``
        says which).  Never changes state; a failure here never fails a write.
        """
        self._check_open()
        self._settle_append()  # a batch being stored (``_flush``) is in the state: stored first
        if self._read_only or self._position == 0 or self._position == self._checkpointed:
            return False
        with fewer_full_collections():  # the documents made here live until stored (gridcore.garbage)
            stored = self._checkpoint()
        if stored:
            give_back_free_memory()  # the space those documents took, freed now (gridcore.garbage)
        return stored

    def _checkpoint(self) -> bool:
        if self._pending:
            self._woken()
        started = time.process_time()
        states: dict[str, dict[str, Any]] = {}
        try:
            for name, plugin in self._savers().items():
                document = self.hooks.save_state(cast("Engine", self), plugin)
                if document is not None:
                    states[name] = document  # checked as JSON by the store's put, below
        except (GridcoreError, TypeError, ValueError) as exc:
            self._warn_once(f"no checkpoint was stored (opening replays more of the store): {exc} "
                            "(未能保存检查点，下次打开时需重放更多事件)")
            return False
        fit = self._checkpoint_fit()
        last = None if self._last is None else [self._last[0].isoformat(), self._last[1]]
        stamp = _stamp(fit, self._position, last)
        document = {
            "format": CHECKPOINT_FORMAT,
            "fit": fit,
            "position": self._position,
            "last": last,
            "stamp": stamp,
            "core": {
                "population": dict(sorted(self._population.items())),
                "households": self.households.to_document(),
                "high_water": None if self._high_water is None else self._high_water.isoformat(),
                "unread": dict(sorted(self._unread.items())),
                # (the stored events replays gave no plugin, with why: ``Engine.ignored_stored``; left out when
                # none was, as before they were kept)
                **({"ignored": dict(sorted(self._ignored.items()))} if self._ignored else {}),
            },
            "states": sorted(states),
        }
        index, about, fits = self._checkpoint_index()
        free = [slot for slot in range(CHECKPOINT_SLOTS) if str(slot) not in index]
        slot = free[0] if free else int(min(index, key=lambda k: int(index[k])))
        # Each plugin's state is a document of its own, so that opening reads only
        # what is used (``_wake``); each carries the checkpoint's stamp.
        parts: dict[str, dict[str, Any]] = {}
        for name, state in states.items():
            parts.update(_paged(_part_key(slot, name), stamp, state))
        reused = str(slot) in index
        before = {k: v for k, v in index.items() if k != str(slot)}
        index[str(slot)] = self._position
        about = {k: v for k, v in about.items() if k in index}
        about[str(slot)] = [_fit_key(fit), last]
        # what each slot was taken under, whole (a few hundred bytes): an open that finds none fitting says
        # what differs without reading a slot (``_passed_over``)
        fits = {k: v for k, v in fits.items() if k in index}
        fits[str(slot)] = fit
        try:
            put_many = getattr(self.store, "put_many", None)
            if put_many is not None:  # all or nothing
                put_many(CHECKPOINTS, {**parts, f"slot-{slot}": document,
                                       "index": {"slots": index, "about": about, "fits": fits}})
            else:
                # One by one: the slot leaves the index first, then its documents are
                # written, then the index names it again.  A crash part way leaves the
                # index naming only complete checkpoints (and a part read later is
                # checked against its checkpoint's stamp).
                if reused:
                    self.store.put(CHECKPOINTS, "index", {
                        "slots": before, "about": {k: v for k, v in about.items() if k in before},
                        "fits": {k: v for k, v in fits.items() if k in before}})
                for key, part in parts.items():
                    self.store.put(CHECKPOINTS, key, part)
                self.store.put(CHECKPOINTS, f"slot-{slot}", document)
                self.store.put(CHECKPOINTS, "index", {"slots": index, "about": about, "fits": fits})
        except (StoreError, OSError) as exc:
            self._warn_once(f"no checkpoint was stored: {exc}{_not_json(states)} (未能保存检查点，下次打开时需重放更多事件)")
            return False
        self._checkpointed = self._position
        self._overtaken = False
        self._stamp_book.mark(self._last)  # (a later rewind to it keeps the stamps nothing since reached)
        self._forget_applied()
        self._checkpoint_done = time.process_time()
        self._checkpoint_cost = self._checkpoint_done - started
        return True

    def _forget_applied(self) -> None:
        """After a checkpoint at ``_position``: the ids applied so far are asked of the store from now on.

        The engine is then as if it had just been restored from that
        checkpoint.  Only when nothing was stored after ``_position``: an event
        derived here that another writer stored after it must stay known as
        applied (``_catch_up`` passes over it).
        """
        try:
            if self.store.position() != self._position:
                return
        except StoreError:
            return
        self._base = self._position
        self._forget()

    def _bound_applied(self) -> None:
        """After an ingest, a tick, a refresh or opening (all it applied is stored): past ``applied_most``
        ids, forget them.

        ``_applied`` would otherwise grow with the log until the next checkpoint
        (a service running all day, a long ingest: about 100 bytes an event).
        Not while a replay merges in stored events (``_cursor``: a derived event
        applied before its stored copy is read must stay known).  A read-only
        engine keeps the ids of what it derived in memory that the store did not
        hold (``_derived_here``): another writer may store those later, and
        ``_catch_up`` must pass over them (forgotten, they would be taken for
        new events: applied twice, or a rebuild); every other id it applied was read
        from the store at or before ``_position``, and ``_catch_up`` reads only
        after it.
        """
        if len(self._applied) > self.applied_most and self._cursor is None and self._sent is None:
            self._forget(self._derived_here if self._read_only else None)

    def _forget(self, kept: set[str] | None = None) -> None:
        """Forget the ids applied so far, but ``kept`` and those offered again later in the ``record_many``
        under way: the others must all be stored at or before ``_position`` (or be in the batch being
        sent, ``kept``).  An id not in ``_applied`` is asked of the store from now on (``_stored_forgotten``).

        An id offered again later in the same call is not asked: the call asked the
        store once, at its start, for the ids it did not know then.
        """
        keep = set(kept or ())
        if self._judging is not None:
            decoded, at = self._judging
            offered = self._offered
            if offered is None:  # (once a call: the ids of its events, in order)
                offered = self._offered = [item[0].id for item in decoded]
            keep.update(self._applied.intersection(islice(offered, at, None)))  # (those offered from ``at`` on)
        self._applied = keep & self._applied if keep else set()
        self._forgot = True

    def _checkpoint_after_write(self, least: int | None = None) -> None:
        """After an ingest or tick: a checkpoint if enough was stored since the last, and time allows.

        At least ``least`` (default ``checkpoint_min``) events, and at most
        ``checkpoint_share`` of the process's CPU time since the last
        checkpoint going to checkpoints (the first one an engine takes is
        always allowed), unless ``checkpoint_max`` events or more were stored
        since.  After a late event was stored one event is enough: the
        checkpoints before it no longer fit, and without a new one every open
        would replay the whole log.
        """
        # (with the batch being stored, if any: ``checkpoint`` waits for it)
        since = self._position + self._sent_size - self._checkpointed
        if since < (self._least() if least is None else min(least, self._least())):
            return
        share = self.checkpoint_share
        if (share < 1 and since < self.checkpoint_max
                and time.process_time() - self._checkpoint_done < self._checkpoint_cost / share):
            return
        self.checkpoint()

    def _least(self) -> int:
        """Events stored since the last checkpoint that call for a new one: ``checkpoint_min``, or 1 once overtaken."""
        return 1 if self._overtaken else self.checkpoint_min

    def _warn_once(self, warning: str) -> None:
        if warning not in self.warnings:
            self.warnings.append(warning)

    def _checkpoint_index(self) -> tuple[dict[str, int], dict[str, Any], dict[str, Any]]:
        """The index, read from the store once: slot -> its log position, slot -> ``[hash of its fit, its last
        event]`` (to skip reading slots that cannot fit), and slot -> the fit it was taken under, whole (none
        for slots stored before 2026-12-06)."""
        found = self.store.get(CHECKPOINTS, "index") or {}
        slots, about, fits = found.get("slots", {}), found.get("about", {}), found.get("fits")
        return ({str(k): int(v) for k, v in slots.items()} if isinstance(slots, dict) else {},
                {str(k): v for k, v in about.items() if isinstance(v, list) and len(v) == 2}
                if isinstance(about, dict) else {},
                {str(k): v for k, v in fits.items() if isinstance(v, dict)} if isinstance(fits, dict) else {})

    def _savers(self) -> dict[str, object]:
        """The plugins that save their state in checkpoints, by pluggy name (each given its state, ``_wake``)."""
        if self._pending:
            self._woken()
        return {impl.plugin_name: impl.plugin for impl in self.plugins.hook.gridcore_save_state.get_hookimpls()}

    def _checkpoint_fit(self) -> dict[str, Any]:
        """What a checkpoint was taken under; one taken under anything else is ignored."""
        plugins: dict[str, str] = {}
        origins: Mapping[str, str] = getattr(self.plugins, "origins", {})
        for name, plugin in self.plugins.list_name_plugin():
            if plugin is None:
                continue
            base = name.removesuffix("#state")
            kind = plugin.__name__ if isinstance(plugin, ModuleType) else (
                f"{type(plugin).__module__}.{type(plugin).__qualname__}")
            module = sys.modules.get(plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__)
            version = getattr(module, "__version__", "")
            plugins[name] = "|".join(
                str(part) for part in (kind, origins.get(base, ""), version, getattr(plugin, "STATE_VERSION", ""))
            )
        return {
            "rulesets": self._timeline.fit(),
            "plugins": dict(sorted(plugins.items())),
            "community": self._community_fingerprint(),
        }

    def _community_fingerprint(self) -> str:
        """The SHA-256 of the community's document, made once per community object (a ``Community`` and
        everything in it are immutable, so its document never changes: encoding it, a whole district's
        roster, for every checkpoint was a cost of its own)."""
        known = self._community_digest
        if known is None or known[0] is not self.community:
            text = json.dumps(self.community.to_document(), sort_keys=True, default=str)
            known = self._community_digest = (self.community, hashlib.sha256(text.encode()).hexdigest())
        return known[1]

def _stamp(fit: Mapping[str, Any], position: int, last: list[str] | None) -> str:
    """What names one checkpoint: the same rulesets, plugins, community, position and last event give the same state."""
    return hashlib.sha256(json.dumps([fit, position, last], sort_keys=True).encode()).hexdigest()



def _part_key(slot: int, name: str) -> str:
    """The key of a plugin's document in a checkpoint slot."""
    return f"slot-{slot}.{name}"



def _page_key(key: str, listed_as: str, n: int) -> str:
    """The key of page ``n`` of the list ``listed_as`` of the plugin's document stored under ``key``."""
    return f"{key}/{listed_as}/{n}"



def _paged(key: str, stamp: str, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The documents a plugin's state is stored as, by key: ``{"stamp", "state"}`` under ``key``, and each
    list or object of more than ``CHECKPOINT_PAGE`` items at the state's top level cut into pages of that
    many (in order), ``{"stamp", "items"}`` under ``_page_key`` (the pages first), the state then holding an
    empty one there and the document ``"pages"``: how many pages each has.  (A slot's pages from an older
    checkpoint past those counts are left in the store, never read.)"""
    long = [listed_as for listed_as, value in state.items()
            if (type(value) is list or type(value) is dict) and len(value) > CHECKPOINT_PAGE]
    if not long:
        return {key: {"stamp": stamp, "state": state}}
    out: dict[str, dict[str, Any]] = {}
    pages: dict[str, int] = {}
    cut = dict(state)
    for listed_as in long:
        items = state[listed_as]
        count = pages[listed_as] = -(-len(items) // CHECKPOINT_PAGE)
        if type(items) is dict:
            pairs = iter(items.items())
            for n in range(count):
                out[_page_key(key, listed_as, n)] = {"stamp": stamp, "items": dict(islice(pairs, CHECKPOINT_PAGE))}
            cut[listed_as] = {}
        else:
            for n in range(count):
                out[_page_key(key, listed_as, n)] = {
                    "stamp": stamp, "items": items[n * CHECKPOINT_PAGE:(n + 1) * CHECKPOINT_PAGE]}
            cut[listed_as] = []
    out[key] = {"stamp": stamp, "state": cut, "pages": pages}
    return out



def _fit_key(fit: Mapping[str, Any]) -> str:
    """A short hash of a checkpoint's fit (kept in the checkpoint index)."""
    return hashlib.sha256(json.dumps(fit, sort_keys=True).encode()).hexdigest()[:32]



def _not_json(states: Mapping[str, Any]) -> str:
    """Which plugin's saved state is not plain JSON (for the warning when a checkpoint cannot be stored)."""
    for name, document in states.items():
        try:
            json.dumps(document, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return f" (the state {name} saved is not plain JSON: {exc})"
    return ""
