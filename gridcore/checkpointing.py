"""The engine's checkpoints: each plugin's state stored as documents at a log position, and restored.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: it
stores a checkpoint after an ingest (``checkpoint``, ``_checkpoint_after_write``),
finds the newest one that fits the rulesets, plugins and community in force
(``_checkpoint_fit``), restores it and replays only the tail (``_restore_checkpoint``,
``_wake``), and forgets the ids of events applied before it.  The contract is in
``docs/architecture.md`` ("Checkpoints and refresh: the contracts").
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from attrs import frozen

from .errors import (
    GridcoreError,
    StoreConflict,
    StoreError,
)
from .events import (
    SYSTEM_ACTOR,
    Event,
    ResidentMoved,
    ResidentRegistered,
    event_order,
)
from .garbage import fewer_full_collections, give_back_free_memory
from .parts import stored_documents

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
        _judging: tuple[list[tuple[Event, str, dict[str, Any] | None]], int] | None
        _cursor: Iterator[dict[str, Any]] | None
        _read_only: bool
        _sent: Any
        _sent_size: int
        _spoiled: set[str]
        _pending: dict[str, tuple[object, str, str]]
        _position: int
        _applied: set[str]
        _last_offered: dict[str, int] | None
        _community_digest: tuple[Community, str] | None
        _waking: bool
        _why_not_restored: str
        _in_full: tuple[str, ...]
        _stamp_book: StampBook
        _checkpointed: int
        _overtaken: bool
        _checkpoint_cost: float
        _checkpoint_done: float
        _ignored: dict[str, list[str]]

        def _settle_append(self, *, whatever_came_of_it: bool = False) -> None: ...
        def _reset(self) -> None: ...
        def _rebuild_state(self, *, checkpoint: bool = True) -> None: ...
        def _decode_stored(self, doc: Mapping[str, Any]) -> Event | None: ...
        def _check_open(self) -> None: ...

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
            last = self._last_offered
            if last is None:  # (once a call: each id's last index among its events)
                last = self._last_offered = {event.id: n for n, (event, _, _) in enumerate(decoded)}
            keep.update(ident for ident in self._applied if last.get(ident, -1) >= at)
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

    def _orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]:
        """``(position, time, id)`` of the events stored after ``position`` (``Store.orders_after``; else read
        from the documents)."""
        orders_after = getattr(self.store, "orders_after", None)
        if orders_after is not None:
            return iter(orders_after(position))
        return ((at, *_doc_order(doc)) for at, doc in self.store.events_after(position))

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

    def _replayed_in_full(self, saved: Iterable[str]) -> list[object]:
        """Stateful plugins whose state is not in a checkpoint saving ``saved``: they replay the store."""
        kept = set(saved)
        found: dict[str, object] = {}
        for hook in STATEFUL_HOOKS:
            for impl in getattr(self.plugins.hook, hook).get_hookimpls():
                if impl.plugin_name not in kept:
                    found[impl.plugin_name] = impl.plugin
        return list(found.values())

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

    def _restore_checkpoint(self, before: tuple[datetime, str] | None = None) -> bool:
        """Restore the newest checkpoint that fits (taken before ``before``, if given).

        A checkpoint fits when it was taken under the same rulesets, plugins and
        community, and every event stored after it comes after it in canonical
        order (a late event stored since makes it unusable).  Expects the fresh
        state ``_reset`` leaves; on success ``_base`` is its position and the
        replay goes on from there.  False (and a fresh state) when none fits.
        """
        self._in_full = ()
        index, about, fits = self._checkpoint_index()
        if not index:
            self._why_not_restored = "no checkpoint is stored"
            return False
        fit = self._checkpoint_fit()
        fit_key = _fit_key(fit)
        top = self.store.position()
        passed: dict[str, int] = {}  # why each slot was passed over (``OpenReport.why_not``)
        for slot, _ in sorted(index.items(), key=lambda pair: -pair[1]):
            said = about.get(slot)
            # The index says what each slot was taken under: a slot that cannot fit is not read
            # (a checkpoint is tens of megabytes in a large store).  What it says is only a hint:
            # the slot's own document is checked below.
            last_said = None if said is None or said[1] is None else _last_of(said[1])
            if said is not None and said[0] != fit_key:
                passed["fit"] = passed.get("fit", 0) + 1
                continue
            if said is not None and before is not None and last_said is not None and last_said >= before:
                passed["later"] = passed.get("later", 0) + 1
                continue
            document = self.store.get(CHECKPOINTS, f"slot-{slot}")
            try:
                if document is None or document.get("format") != CHECKPOINT_FORMAT or document.get("fit") != fit:
                    passed["fit"] = passed.get("fit", 0) + 1
                    continue
                if document.get("stamp") in self._spoiled:
                    passed["damaged"] = passed.get("damaged", 0) + 1
                    continue  # a part of it was missing or from another checkpoint
                position = int(document["position"])
                last = None if document["last"] is None else (
                    datetime.fromisoformat(document["last"][0]), str(document["last"][1]))
                if position > top or position <= 0 or (before is not None and last is not None and last >= before):
                    passed["later"] = passed.get("later", 0) + 1
                    continue
                tail: set[str] = set()
                for _, when, ident in self._orders_after(position):
                    if last is not None and (when, ident) < last:
                        passed["late"] = passed.get("late", 0) + 1
                        break  # a late event was stored after it: it is not what a replay would give
                    tail.add(ident)
                else:
                    self._load_checkpoint(document, position, tail, int(slot))
                    self._why_not_restored = ""
                    return True
            except (KeyError, TypeError, ValueError, IndexError, GridcoreError):
                passed["damaged"] = passed.get("damaged", 0) + 1
                self._reset()  # a damaged or unreadable checkpoint: try an older one
                continue
        self._why_not_restored = self._passed_over(passed, index, fit, fits)
        return False

    def _passed_over(self, passed: Mapping[str, int], index: Mapping[str, int], fit: Mapping[str, Any],
                     fits: Mapping[str, Any]) -> str:
        """Why none of the checkpoints in ``index`` was restored (``OpenReport.why_not``); for those taken under
        something else, what differs for the newest of them (from the index's ``fits``: no slot is read)."""
        said = {"fit": "taken under other plugins, rulesets or roster", "late": "with a late event stored after it",
                "damaged": "damaged or incomplete", "later": "taken after the point replayed to"}
        why = "; ".join(f"{count} of {len(index)} {said[kind]}" for kind, count in passed.items())
        if passed.get("fit"):
            theirs = fits.get(max(index, key=lambda k: int(index[k])))
            if theirs is not None and theirs != fit:
                why += f" (the newest: {_fit_difference(theirs, fit)})"
        return why or "none fits"

    def _load_checkpoint(self, document: dict[str, Any], position: int, tail: set[str], slot: int) -> None:
        """Restore the core's state from ``document``; each plugin is given its own when first used (``_wake``)."""
        core = document["core"]
        states = document["states"]
        stamp = document["stamp"]
        if not isinstance(states, list) or not all(isinstance(name, str) for name in states) \
                or not isinstance(stamp, str):
            raise ValueError("a checkpoint names its plugins' documents in a list, with its stamp")
        plugins = {name: self.plugins.get_plugin(name) for name in states}
        if any(plugin is None for plugin in plugins.values()):
            raise ValueError("a plugin of the checkpoint is not attached")
        ignored = {str(ident): [str(reason) for reason in reasons]
                   for ident, reasons in core.get("ignored", {}).items()}
        for ident, reasons in ignored.items():
            self._ignored.setdefault(ident, reasons)  # (what this engine judged since stands)
        full = self._replayed_in_full(states)
        self._in_full = tuple(sorted(str(self.plugins.get_name(plugin)).removesuffix("#state") for plugin in full))
        if full:
            # Plugins without the hooks see every event up to the checkpoint, as a
            # replay would show them (the core's own state follows along).
            last = document["last"]
            upto = None if last is None else (datetime.fromisoformat(last[0]), str(last[1]))
            self._replay_only(full, skip=tuple(plugins.values()), tail=tail, upto=upto, ignored=ignored)
        else:
            self._population = {str(k): str(v) for k, v in core["population"].items()}
            self.households.restore(core["households"])
            self._high_water = None if core["high_water"] is None else datetime.fromisoformat(core["high_water"])
            last = document["last"]
            self._last = None if last is None else (datetime.fromisoformat(last[0]), str(last[1]))
            self._last_input = self._last  # not saved: as if the last event had been offered
            self._unread = {str(k): int(v) for k, v in core["unread"].items()}
        self._base = position
        self._forgot = True  # the ids applied up to it are asked of the store
        self._position = position
        self._checkpointed = position
        self._pending = {name: (plugin, _part_key(slot, name), stamp) for name, plugin in plugins.items()}

    def _wake(self, names: Iterable[str] | None = None) -> None:
        """Give the plugins still waiting (all, or those of ``names``) their state from the checkpoint.

        Opening restores the core's state from a checkpoint and leaves each
        plugin's document in the store until the plugin is used: a hook call
        that reaches plugins' state (an event, a tick, an explanation),
        ``state(name)``, or a report or metric of a plugin's state object.  So
        a read command reads only the state it shows.  A document that is
        missing or belongs to another checkpoint (two writers storing one
        slot at once) spoils that checkpoint: ``StoreConflict`` is raised and
        the caller rebuilds the state (``_woken``), from another checkpoint or
        the log.
        """
        wanted = list(self._pending) if names is None else [name for name in names if name in self._pending]
        was_waking, self._waking = self._waking, True
        try:
            # a state is many objects, all kept: full collections meanwhile would find nothing
            with fewer_full_collections():
                for name in wanted:
                    if name not in self._pending:
                        continue  # woken meanwhile (a plugin's restore asked for another's state)
                    plugin, key, stamp = self._pending.pop(name)
                    found = self.store.get(CHECKPOINTS, key)
                    try:
                        if found is None or found.get("stamp") != stamp:
                            raise ValueError(f"the document {key} is missing or belongs to another checkpoint")
                        state = found["state"]
                        if "pages" in found:
                            state = self._unpaged(key, stamp, state, found["pages"])
                        self.hooks.restore_state(cast("Engine", self), plugin, state)
                    except (KeyError, TypeError, ValueError, GridcoreError) as exc:
                        self._spoiled.add(stamp)
                        self._pending.clear()
                        self._warn_once(f"a checkpoint could not be read and was passed over: {exc} "
                                        "(检查点无法读取，已跳过，改为重放事件；结果不变)")
                        raise StoreConflict(f"the checkpoint {stamp[:12]} could not be read: {exc}") from None
        finally:
            self._waking = was_waking

    def _unpaged(self, key: str, stamp: str, state: dict[str, Any], pages: dict[str, int]) -> dict[str, Any]:
        """A plugin's document stored under ``key`` with lists or objects in pages (``_paged``): those read back
        whole (all the pages at once), each page checked to be of the checkpoint (``stamp``); ``ValueError``
        if one is missing or belongs to another checkpoint."""
        if not isinstance(state, dict) or not isinstance(pages, dict):
            raise TypeError(f"the document {key} names its pages in an object")
        wanted = [_page_key(key, listed_as, n) for listed_as, count in pages.items() for n in range(int(count))]
        found = stored_documents(self.store, CHECKPOINTS, wanted)
        whole = dict(state)
        for listed_as, count in pages.items():
            kind = type(state[listed_as])  # (an empty list or object: what the pages hold)
            if kind is not list and kind is not dict:
                raise ValueError(f"the document {key} holds no list or object {listed_as!r} in pages")
            listed: list[Any] = []
            named: dict[str, Any] = {}
            for n in range(int(count)):
                page = found.get(_page_key(key, listed_as, n))
                if page is None or page.get("stamp") != stamp or type(page.get("items")) is not kind:
                    raise ValueError(f"the page {_page_key(key, listed_as, n)} is missing or belongs to another "
                                     "checkpoint")
                if kind is list:
                    listed.extend(page["items"])
                else:
                    named.update(page["items"])
            whole[listed_as] = listed if kind is list else named
        return whole

    def _woken(self, names: Iterable[str] | None = None) -> None:
        """``_wake`` where nothing is under way: a spoiled checkpoint makes the state be rebuilt here."""
        if self._waking:
            self._wake(names)
            return
        try:
            self._wake(names)
        except StoreConflict:
            self._rebuild_state()

    def _wake_implementers(self, hook: str) -> None:
        """Wake the waiting plugins whose state object implements ``hook`` (its results may read the state)."""
        if self._pending:
            self._woken([name for name, (plugin, _, _) in self._pending.items() if hasattr(plugin, hook)])

    def _replay_only(self, plugins: list[object], *, skip: tuple[object, ...], tail: set[str],
                     upto: tuple[datetime, str] | None, ignored: Mapping[str, list[str]]) -> None:
        """Replay the events stored up to a checkpoint to the plugins not in ``skip``.

        A stored event the replays before the checkpoint gave no plugin (``ignored``, kept with it: id ->
        reasons) is given to them through ``gridcore_on_event_ignored``, as a replay would.

        ``upto`` is the canonical order of the checkpoint's last event: every event
        up to the checkpoint sorts at or before it, so the replay stops at the first
        that sorts after.  (Those are its ``tail``, and what another writer stored
        since the tail was read: the catching up after the restore applies them,
        once.)
        """
        hooks = self.hooks.without(skip)
        seen: set[str] = set()

        def apply(event: Event) -> None:
            if isinstance(event, (ResidentRegistered, ResidentMoved)):
                self._population[event.person] = event.node
            self.households.apply(event)
            if self._high_water is None or event.time > self._high_water:
                self._high_water = event.time
            order = event_order(event)
            if self._last is None or order > self._last:
                self._last = order
            if event.actor != SYSTEM_ACTOR and (self._last_input is None or order > self._last_input):
                self._last_input = order
            reasons = ignored.get(event.id)
            if reasons:
                hooks.on_event_ignored(cast("Engine", self), event, reasons)
            else:
                hooks.on_event(cast("Engine", self), event, True)
            seen.add(event.id)

        for doc in self.store.events():
            if str(doc.get("id")) in tail:
                continue
            event = self._decode_stored(doc)
            if event is None:
                continue
            if upto is not None and event_order(event) > upto:
                break
            for _ in range(10_000):
                due = sorted((e for e in hooks.on_tick(cast("Engine", self), event.time) if e.id not in seen), key=event_order)
                if not due:
                    break
                for derived in due:
                    if derived.id not in seen:
                        apply(derived)
            if event.id not in seen:
                apply(event)


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



def _fit_difference(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> str:
    """What differs between the fit a checkpoint was taken under and the engine's, for staff and benchmarks."""
    out: list[str] = []
    then, now = theirs.get("plugins") or {}, ours.get("plugins") or {}
    if isinstance(then, dict) and isinstance(now, dict):
        before, after = ({name.removesuffix("#state") for name in names} for names in (then, now))
        added, gone = sorted(after - before), sorted(before - after)
        other = sorted({name.removesuffix("#state") for name in then if name in now and then[name] != now[name]})
        if added:
            out.append(f"plugins loaded now and not then: {', '.join(added)}")
        if gone:
            out.append(f"plugins loaded then and not now: {', '.join(gone)}")
        if other:
            out.append(f"another version or state version of {', '.join(other)}")
    if theirs.get("rulesets") != ours.get("rulesets"):
        out.append("other rulesets in force")
    if theirs.get("community") != ours.get("community"):
        out.append("another roster")
    return "; ".join(out) or "another checkpoint format"


def _fit_key(fit: Mapping[str, Any]) -> str:
    """A short hash of a checkpoint's fit (kept in the checkpoint index)."""
    return hashlib.sha256(json.dumps(fit, sort_keys=True).encode()).hexdigest()[:32]



def _last_of(saved: Any) -> tuple[datetime, str] | None:
    """A checkpoint's last event ``[time, id]`` as a canonical order (None if it cannot be read)."""
    try:
        return datetime.fromisoformat(saved[0]), str(saved[1])
    except (TypeError, ValueError, IndexError):
        return None



def _not_json(states: Mapping[str, Any]) -> str:
    """Which plugin's saved state is not plain JSON (for the warning when a checkpoint cannot be stored)."""
    for name, document in states.items():
        try:
            json.dumps(document, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return f" (the state {name} saved is not plain JSON: {exc})"
    return ""



def _doc_order(doc: Mapping[str, Any]) -> tuple[datetime, str]:
    """A stored document's canonical order (time, then id), as ``event_order`` gives for events."""
    return datetime.fromisoformat(str(doc["time"])).astimezone(UTC), str(doc["id"])

