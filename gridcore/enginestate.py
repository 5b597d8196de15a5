"""What an engine holds: the state ``Engine`` (``gridcore/engine.py``) and its parts share.

``EngineState.__init__`` makes every field of an engine, each with what it is
for; the parts of ``Engine`` kept in modules of their own (``checkpointing``,
``restoring``, ``enacting``, ...) are classes over this one, so each reads the
fields it uses from here and the methods of another part from the stubs below.
Build an engine with ``Engine.open``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pluggy

from .checkpointing import (
    CHECKPOINT_EVERY,
    CHECKPOINT_MAX,
    CHECKPOINT_MIN,
    CHECKPOINT_SHARE,
    OpenReport,
    _fit_key,
)
from .clock import Clock
from .codec import EventCodec
from .community import Community
from .errors import GridcoreError, PluginError, StoreError
from .events import CORE_EVENT_TYPES, Event
from .governing import RulesetTimeline
from .localtime import LocalTimes
from .metrics import Metric
from .plugin_host import Hooks, PluginManager
from .register import HouseholdRegister
from .remembered import RememberedRefusals
from .stamps import StampBook
from .store import EventBatch, Store
from .timeorder import TimeOrder

if TYPE_CHECKING:
    from .rules import Diagnostic, Section
    from .rules.sections import P

#: Times a write is judged again after another writer changed the store first.
CONFLICT_RETRIES = 100
#: The most ids of applied events an engine keeps in memory (``Engine.applied_most``): past it, once
#: they are stored, it forgets them and asks the store for them (about 100 bytes an id; without a
#: bound the set grew with the log until the next checkpoint, up to ``CHECKPOINT_MAX`` events' worth)
APPLIED_MOST = 10_000
#: A writable engine's replay (an opening's tail, a rebuild) has plugins store what they hand the store
#: between checkpoints (``gridcore_on_flush``: sealed parts, under keys naming their content) after every
#: this many events it applies.  A replay writes no batch of events, so otherwise the sealed parts of a
#: long one waited in memory for its end (a rebuild of 898,948 events: the points history's and the closed
#: incidents' parts, 134 MB of the 352 MB it held).
REPLAY_FLUSH_EVERY = 1000


class EngineState:
    """The fields of an engine and the guards every part uses; ``Engine`` is the class to use."""

    if TYPE_CHECKING:  # the methods one part calls of another (``Engine`` has them all)
        # engine.py: judging and applying an event
        def _advance(self, now: datetime, batch: EventBatch, batch_ids: set[str],
                     ticked: list[Event] | None = None) -> int: ...
        def _refusals(self, event: Event, *, offered: bool = False) -> list[str]: ...
        def _outside_refusals(self, event: Event) -> list[str]: ...
        def _apply(self, event: Event, *, replaying: bool) -> None: ...
        # checkpointing.py
        def checkpoint(self) -> bool: ...
        def _checkpoint_after_write(self, least: int | None = None) -> None: ...
        def _bound_applied(self) -> None: ...
        def _forget(self, kept: set[str] | None = None) -> None: ...
        def _checkpoint_fit(self) -> dict[str, Any]: ...
        def _checkpoint_index(self) -> tuple[dict[str, int], dict[str, Any], dict[str, Any]]: ...
        def _community_fingerprint(self) -> str: ...
        def _warn_once(self, warning: str) -> None: ...
        # restoring.py
        def _orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]: ...
        def _woken(self, names: Iterable[str] | None = None) -> None: ...
        def _restore_checkpoint(self, before: tuple[datetime, str] | None = None) -> bool: ...
        # enacting.py and rostering.py
        def policy(self, section: Section[P], *, at: datetime, node: str | None = None) -> P | None: ...
        # engine.py: an event's local time and date
        def local_time(self, when: datetime) -> datetime: ...
        def local_date(self, when: datetime) -> date: ...
        def on_local_clock(self, when: datetime) -> bool: ...
        def _warn_problem(self, problem: Diagnostic) -> None: ...
        def _restore_rulesets(self) -> None: ...
        def _rulesets_changed(self) -> bool: ...
        def _roster_grown(self) -> bool: ...
        # recording.py
        def _flush(self, batch: EventBatch, batch_ids: set[str], *, soon: bool = False) -> None: ...
        def _settle_append(self, *, whatever_came_of_it: bool = False) -> None: ...
        # refreshing.py and replaying.py
        def refresh(self) -> int: ...
        def events(self, *, kinds: Iterable[str] | None = None, since: datetime | None = None,
                   until: datetime | None = None) -> Iterator[Event]: ...
        def rebuild(self) -> None: ...
        def _rebuild_state(self, *, checkpoint: bool = True) -> None: ...
        def _reset(self) -> None: ...
        def _rewind_to(self, late: Event) -> None: ...
        def _replay(self, before: tuple[datetime, str] | None = None) -> None: ...
        def _mark_late(self, time: datetime, ident: str) -> None: ...
        def _read_time_order(self) -> tuple[datetime, str] | None: ...
        def _catch_up(self) -> int: ...
        def _apply_stored(self, event: Event) -> None: ...
        def _decode_stored(self, doc: Mapping[str, Any]) -> Event | None: ...
        def _stored_among(self, ids: list[str]) -> set[str]: ...
        def _stored_forgotten_soon(self, decoded: list[tuple[Event, int, dict[str, Any] | None]], start: int,
                                   first: int) -> tuple[set[str], Any, int]: ...

    def __init__(
        self,
        community: Community,
        store: Store,
        *,
        clock: Clock,
        plugins: pluggy.PluginManager,
    ) -> None:
        self.community = community
        #: ``_checkpoint_fit``'s digest of the community, with the community it is of
        self._community_digest: tuple[Community, str] | None = None
        self.store = store
        self.clock = clock
        # The process's manager is shared; the states this engine's plugins
        # attach live in the engine's own copy of it.
        self.plugins = plugins.for_engine() if isinstance(plugins, PluginManager) else plugins
        self.hooks = Hooks(self.plugins)
        self.codec = EventCodec(CORE_EVENT_TYPES)
        for cls in self.hooks.register_event_types():
            try:
                self.codec.register(cls)
            except (TypeError, ValueError) as exc:
                raise PluginError(str(exc)) from None
        #: each time's local time and date in the community's zone, worked out once per time object
        #: (``gridcore.localtime``: the core and every plugin ask for each event's)
        self._local_times = LocalTimes(lambda: self.community.tz)
        # (asked several times an event: the helper's own methods answer, one call less, as ``policy``)
        self.local_time = self._local_times.time  # type: ignore[method-assign]
        self.local_date = self._local_times.date  # type: ignore[method-assign]
        self.on_local_clock = self._local_times.on_clock  # type: ignore[method-assign]
        self.on_local_clock_until = self._local_times.on_clock_until
        #: which ruleset judges where and when (``gridcore.governing``)
        self._timeline = RulesetTimeline(lambda: self.community, self.local_date)
        # (plugins ask for policies several times an event: the timeline's own method answers, one call less)
        self.policy = self._timeline.policy  # type: ignore[method-assign]
        #: ids of the events applied since the state was rebuilt or they were last forgotten (``_forget``)
        self._applied: set[str] = set()
        #: each plugin's period stamps, kept across the states built anew (``period_stamps``)
        self._stamp_book = StampBook()
        #: True once ids of applied events may be missing from ``_applied`` (the state was restored from a
        #: checkpoint, or they were forgotten): an id offered that is not in it is asked of the store
        self._forgot = False
        #: ids of the events a read-only engine derived and applied that the store did not hold then
        #: (kept in ``_applied`` however it is bounded, until ``_catch_up`` reads them stored)
        self._derived_here: set[str] = set()
        #: while ``record_many`` judges: its events and the index of the next one (``_forget`` keeps the
        #: ids offered again from it on), and their ids in order (made when first needed)
        self._judging: tuple[list[tuple[Event, int, dict[str, Any] | None]], int] | None = None
        self._offered: list[str] | None = None
        #: a replay cut short before a late event keeps its place in the log here (the stored
        #: documents not applied yet, in canonical order, and the one read ahead): see ``_replay``
        self._cursor: Iterator[dict[str, Any]] | None = None
        self._ahead: dict[str, Any] | None = None
        #: what a replay reads that another writer may have stored after the position the replay reads to
        #: (``_stored_after_base``): the ids of such events of a checkpoint's tail, and for a replay of the
        #: whole log the canonical order of the event at that position (events from it on).  Their ids are
        #: kept in ``_applied`` when applied, so that ``_catch_up``, which reads on from that position, does
        #: not apply them again.
        self._beyond: set[str] = set()
        self._beyond_order: tuple[datetime, str] | None = None
        #: True when every event stored up to ``_position`` is applied (``caught_up``): False from
        #: ``_reset`` until a replay has read the log to its end, and while ``_catch_up`` applies
        self._caught_up = False
        self._high_water: datetime | None = None
        self._last: tuple[datetime, str] | None = None  # order of the last applied event
        #: order of the last applied event that was not derived (actor ``system``); after a
        #: checkpoint is restored, ``_last`` (no less: see ``_tied_with_derived``)
        self._last_input: tuple[datetime, str] | None = None
        self._population: dict[str, str] = {}
        #: households and named residents on record now (``gridcore.register``)
        self.households = HouseholdRegister(community)
        self._closed = False
        self._metrics: dict[str, Metric] | None = None
        #: What opening found worth telling (e.g. a stored ruleset's section whose plugin is
        #: not loaded); the command line prints these.
        self.warnings: list[str] = []
        #: the rulesets' problems warned of: (file name, line, column, message)
        self._problems_warned: set[tuple[str, int, int, str]] = set()
        #: the store's log position this state reflects (every event up to it is applied)
        self._position = 0
        #: reads under way (``reading``: nested ones count), and what ``stored_position`` found in
        #: them: (this engine's position then, the store's)
        self._reads = 0
        self._read_at: tuple[int, int] | None = None
        self._read_only = False
        #: the URL ``open`` opened the store from (``store_again``; the store's ``url`` hides a password)
        self._store_url: str | None = None
        self._future_tolerance: timedelta | None = None
        #: the latest time an event offered may hold (``_outside_refusals``): the clock's reading, the zone
        #: object of the event's time and the tolerance it was worked out for, and that time in that zone
        self._future_bound: tuple[datetime | None, object, timedelta | None, datetime] = (
            None, None, None, datetime.min)
        self._ruleset_keys: set[str] = set()
        self._unread: dict[str, int] = {}
        #: the log position of the checkpoint the state was restored from or last stored (0: replayed from the
        #: start)
        self._base = 0
        #: the log position of the last checkpoint this engine stored or restored
        self._checkpointed = 0
        #: how many events this engine appended to its store (its ingests and ticks: ``close``)
        self._stored_here = 0
        #: the saved roster's stamp (``ROSTER_STAMP``) as this engine last read or wrote it (None: none saved)
        self._roster_stamp: dict[str, Any] | None = None
        #: True once this engine stored a late event: the checkpoints stored so far are
        #: overtaken (none fits any more), so the next chance takes one whatever ``checkpoint_min`` says
        self._overtaken = False
        #: whether the log was recorded in time order, as this engine last read or marked it (``time_order``),
        #: and its ``since`` (``late_before`` asks it for every step a plugin judges again on replay)
        self._time_order = TimeOrder(kept=False)
        #: the stored events a replay gave no plugin (``gridcore_validate_stored`` answered reasons), by id, as
        #: this engine last judged them (``Engine.ignored_stored``): kept through rewinds and in checkpoints
        self._ignored: dict[str, list[str]] = {}
        self._late_since: tuple[datetime, str] | None = self._time_order.since
        #: how often a checkpoint is taken during one long ingest (in events)
        self.checkpoint_every = CHECKPOINT_EVERY
        #: an ingest or tick leaving at least this many events after the last
        #: checkpoint stores a new one (if the share below allows; closing always does)
        self.checkpoint_min = CHECKPOINT_MIN
        #: the most of the process's CPU time spent on checkpoints after ingests and ticks
        #: (1: no limit, a checkpoint whenever ``checkpoint_min`` or ``checkpoint_every`` says)
        self.checkpoint_share = CHECKPOINT_SHARE
        #: an ingest or tick leaving at least this many events after the last checkpoint stores a new
        #: one whatever ``checkpoint_share`` says (the interval is bounded in events)
        self.checkpoint_max = CHECKPOINT_MAX
        #: the most ids of applied events kept in memory: past it, the stored ones are forgotten and
        #: asked of the store (``_bound_applied``)
        self.applied_most = APPLIED_MOST
        #: a writable engine's replay has plugins store their sealed parts after every this many events it
        #: applies (``gridcore_on_flush``; a read-only engine never writes)
        self.replay_flush_every = REPLAY_FLUSH_EVERY
        #: CPU seconds the last checkpoint took, and the process time when it ended
        self._checkpoint_cost = 0.0
        self._checkpoint_done = 0.0
        #: plugins whose state a restored checkpoint holds but which have not been given it yet
        #: (pluggy name -> the plugin, the key of its document, the checkpoint's stamp): see ``_wake``
        self._pending: dict[str, tuple[object, str, str]] = {}
        #: a batch sent to the store and not yet confirmed (``_flush(soon=True)``), its size and its events' ids
        self._sent: Any = None
        self._sent_size = 0
        self._sent_ids: set[str] = set()
        #: whether an event refused where the log ended and offered again unchanged is refused again
        #: without a rewind while nothing before it changed (``gridcore.remembered``)
        self.remember_refusals = True
        self._remembered = RememberedRefusals(self.store, lambda: _fit_key(self._checkpoint_fit()), self._orders_after)
        self._waking = False
        #: stamps of checkpoints found incomplete or mixed while waking a plugin: never restored again
        self._spoiled: set[str] = set()
        #: why the last restore found no checkpoint ("" when it restored one), the plugins it replayed in
        #: full, how the open built the state (``open_report``) and how often it was built again since
        self._why_not_restored = ""
        self._in_full: tuple[str, ...] = ()
        self._opened = OpenReport(0, 0)
        self._rebuilds = 0

    def _check_writable(self, what: str) -> None:
        self._check_open()
        if self._read_only:
            raise StoreError(f"cannot {what}: the store {self.store.url} was opened read-only")

    def _check_open(self) -> None:
        if self._closed:
            raise GridcoreError("the engine is closed")
