"""The engine: one community, one store, the rulesets in force, the plugins.

This is the single entry point for embedders::

    from gridcore import Engine, FixedClock
    engine = Engine.open(store="my-store", community="communities/yinquan",
                         ruleset="rulesets/yinquan.rules", clock=FixedClock(start))
    engine.record(event)
    engine.tick(later)

The engine knows nothing of points, incidents' ladders or stars: it validates
events against the hierarchy and roster, asks plugins whether to refuse them,
stores them, and lets plugins derive their state, always in canonical order
(time, then id), so the same events under the same rulesets give the same
results however they arrive.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import attrs
import pluggy

from . import permissions, timeorder
from .checkpointing import (
    STATEFUL_HOOKS,
    Checkpointing,
    OpenReport,
    _doc_order,
)
from .clock import Clock, FixedClock, SystemClock, require_aware
from .community import Community
from .enacting import NODE_KEY, RULESETS, SECTIONS_KEY, Enacting
from .enginestate import APPLIED_MOST, CONFLICT_RETRIES, REPLAY_FLUSH_EVERY
from .errors import (
    EventError,
    GridcoreError,
    InvalidTypeError,
    PluginError,
    StoreConflict,
    StoreError,
    UnknownNameError,
)
from .events import (
    SYSTEM_ACTOR,
    Event,
    ResidentMoved,
    ResidentRegistered,
    event_order,
)
from .explain import Explanation, Outcome
from .garbage import fewer_full_collections, serving_now, settle
from .metrics import MEMBER, Metric, MetricValue
from .plugin_host import Hooks, get_plugin_manager
from .recording import DECIDED_WITH, IngestSummary, Recording, Refusal
from .register import HouseholdRegister, about_register
from .reports import Table
from .rostering import META, ROSTER_STAMP, Rostering, _resolve_community
from .stamps import PeriodStamps
from .store import DEFAULT_STORE, Store
from .timeorder import TimeOrder

if TYPE_CHECKING:
    from .rules import Ruleset

#: How far past the clock an event's time may be (clocks of phones and
#: offices disagree, and a report may be typed in a zone ahead).  Further is a
#: mistyped date (2125 for 2025), which would otherwise sort after every later
#: event for ever.
FUTURE_TOLERANCE = timedelta(days=1)
#: Ids asked of a store's ``find_ids`` at once (``_stored_among``): every id of a ``gridcore ingest`` call
#: (``INGEST_CHUNK``, 20,000) in one query, where 1,000 a query cost SQLite nearly twice as much an id.
IDS_AT_ONCE = 50_000


class Engine(Checkpointing, Enacting, Rostering, Recording):
    """A community's engine. Build it with ``Engine.open``."""

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        *,
        store: str | Path | Store = DEFAULT_STORE,
        community: Community | str | Path | None = None,
        ruleset: Ruleset | str | Path | None = None,
        clock: Clock | None = None,
        plugins: pluggy.PluginManager | None = None,
        disabled_plugins: Iterable[str] = (),
        effective: datetime | None = None,
        create: bool = True,
        read_only: bool = False,
        future_tolerance: timedelta | None = None,
        search_path: Sequence[str | Path] = (),
    ) -> Engine:
        """Open (or create) a store and replay it.

        ``community`` is a ``Community`` or a path to its roster files; when left
        out, the community saved in the store is used.  ``ruleset`` (a compiled
        ``Ruleset`` or a ``.rules`` path) is put in force from ``effective``
        (default: the clock's now) unless the store already has it; the rulesets it
        ``extends`` are looked up as ``use_ruleset`` does, ``search_path`` included.

        A store holding events keeps its community; ``community`` may differ
        from it only by adding to it (a new community, grid or household of a
        district: ``gridcore.growth``), and is then taken on without judging
        any recorded event again.

        ``create=False`` opens only an existing store (a missing one is a
        ``StoreError`` naming it, and nothing is created).  ``read_only=True``
        (implies ``create=False``) never writes to the store: recording,
        ticking and ``use_ruleset`` raise ``StoreError``, and what plugins
        derive while replaying stays in memory.

        ``future_tolerance``: events timed later than the clock's now plus this
        are refused (a mistyped year).  Default: ``FUTURE_TOLERANCE`` (one day)
        with any clock but a ``FixedClock``, which stands for a replay or a
        simulation whose events run ahead of its start and gets no limit
        unless one is given; ``timedelta.max`` turns the check off.
        """
        pm = plugins if plugins is not None else get_plugin_manager(disabled_plugins)
        hooks = Hooks(pm)
        create = create and not read_only
        the_store = (
            store if not isinstance(store, (str, Path)) else hooks.storage_backend(str(store), create=create)
        )
        try:
            if read_only and community is not None:
                raise GridcoreError("a read-only engine uses the community saved in its store; leave community out")
            the_community, changed, grown_from = _resolve_community(community, the_store, hooks)
            the_clock = clock or SystemClock()
            # A roster that only grew (a new community added to a district) is taken on after
            # the saved one is restored: nothing recorded can name what is new (``gridcore.growth``).
            engine = cls(grown_from or the_community, the_store, clock=the_clock, plugins=pm)
            engine._read_only = read_only
            engine._store_url = str(store) if isinstance(store, (str, Path)) else None
            if future_tolerance is None and not isinstance(the_clock, FixedClock):
                future_tolerance = FUTURE_TOLERANCE
            engine._future_tolerance = future_tolerance if future_tolerance != timedelta.max else None
            engine._restore_rulesets()
            engine.hooks.on_open(engine)
            try:
                with fewer_full_collections():  # the state only grows while the log is replayed
                    engine._restore_checkpoint()
                    engine._stamp_book.mark(engine._last)  # (the book is new: a mark to carry from)
                    engine._replay()
            except StoreConflict:  # another writer appended while this one replayed
                engine._rebuild_state()
            engine._opened = OpenReport(engine._position, engine._base, engine._why_not_restored, engine._in_full)
            engine._rebuilds = 0
            engine._tell_unread()
            engine._bound_applied()  # (the ids of the tail replayed)
            if grown_from is not None:
                engine._grow(the_community)
            if changed:  # (grown: with when its new nodes and members joined, the clock's now)
                the_store.put(META, "community", engine.community.to_document())
            if grown_from is not None and not read_only:
                # the next opening restores under the grown roster (a checkpoint at this position, restored
                # above, was taken under the old one: it fits no more)
                engine._checkpointed = 0
                engine.checkpoint()
            if changed:  # after the roster and its checkpoint: a running engine's refresh takes it on
                engine._roster_stamp = {"fingerprint": engine._community_fingerprint()}
                the_store.put(META, ROSTER_STAMP, engine._roster_stamp)
            else:
                engine._roster_stamp = the_store.get(META, ROSTER_STAMP)
                if engine._roster_stamp is None:
                    engine._no_roster_stamp()
            if ruleset is not None:
                engine.use_ruleset(ruleset, effective=effective, search_path=search_path)
        except BaseException:
            the_store.close()
            raise
        return engine

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let plugins finish, then close the store."""
        if self._closed:
            return
        try:
            # What the last ingests and ticks left after the last checkpoint: at least ``checkpoint_min``
            # events, or any at all once this engine stored that many itself (an ingest, a service's
            # day).  An open that replays even one event gives every plugin its state (``_wake``), where
            # one from a checkpoint at the end gives only what it reads: a read-only roll-up of a district
            # year after an ingest that left a few events peaked at twice the memory.  A short writer (a
            # single ``gridcore record``) leaves its few events to the next one, as before, rather than pay
            # a checkpoint for each.
            since = self._position - self._checkpointed
            if not self._read_only and since > 0 and (
                    since >= self._least() or self._stored_here >= self.checkpoint_min):
                self.checkpoint()
        except (GridcoreError, OSError, TypeError, ValueError) as exc:  # opening replays more instead
            self._warn_once(f"no checkpoint was stored on closing: {exc} (关闭时未能保存检查点，下次打开时需重放更多事件)")
        if self._pending and not self._read_only:
            self._woken()  # a plugin may write from its state on closing
        self._closed = True
        try:
            self.hooks.on_close(self)
        finally:
            self.store.close()

    # ------------------------------------------------------------ plugin state

    def attach(self, name: str, state: object) -> object:
        """Register a plugin's per-engine state object under ``name`` (replacing any old one).

        Called from ``gridcore_on_open``; the object's hook implementations then
        receive every later call.  Returns the object.
        """
        # States live under their own pluggy name: attaching "points" must not
        # unregister the entry-point module that is also called "points".
        key = _state_key(name)
        if self.plugins.get_plugin(key) is not None:
            self.plugins.unregister(name=key)
        self.plugins.register(state, name=key)
        return state

    def state(self, name: str) -> Any:
        """The state object a plugin attached under ``name`` (restored from the checkpoint if it was not yet)."""
        if self._pending:
            self._woken([_state_key(name)])
        state = self.plugins.get_plugin(_state_key(name))
        if state is None:
            raise PluginError(f"no plugin state named {name!r}; is the plugin installed and enabled?")
        return state

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
        self.hooks.on_open(self)

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

    @property
    def latest_event_time(self) -> datetime | None:
        """The time of the latest event applied (None for an empty store)."""
        return self._high_water

    def residents(self) -> Mapping[str, str]:
        """Registered residents: person id -> the node they live in."""
        return dict(self._population)

    def registered_home(self, person: str) -> str | None:
        """The node a registered resident lives in (None for anyone else); no copy of ``residents()``."""
        return self._population.get(person)

    def knows_person(self, person: str) -> bool:
        """True for roster members, registered residents, residents on record and the system actor."""
        return (person == SYSTEM_ACTOR or person in self.community.members or person in self._population
                or self.households.knows(person))

    # ------------------------------------------------------------ decisions

    def explain(self, decision: str, lang: str = "en") -> Explanation:
        """The rule and inputs behind a decision id; ``GridcoreError`` if none knows it. ``lang="zh"``:
        its inputs headed with their Chinese, as staff read it (``gridcore --lang zh explain``)."""
        self._woken()
        answer = self.hooks.explain(self, decision, lang)
        if answer is None:
            raise UnknownNameError(f"no plugin knows a decision {decision!r} (没有这个决定编号：请用报表 decision 列中的编号)")
        return answer

    def outcomes(self) -> list[Outcome]:
        """Every plugin's outcomes, for what-if comparison."""
        self._woken()
        return self.hooks.collect_outcomes(self)

    def metrics(self) -> dict[str, Metric]:
        """Every metric the plugins contribute, by name."""
        self._wake_implementers("gridcore_register_metrics")
        if self._metrics is None:
            found: dict[str, Metric] = {}
            for metric in self.hooks.register_metrics():
                if metric.name in found:
                    raise PluginError(f"two plugins contribute a metric named {metric.name!r}")
                found[metric.name] = metric
            self._metrics = found
        return dict(self._metrics)

    def metric(self, name: str, node: str, start: datetime, end: datetime) -> MetricValue | None:
        """Compute one metric for ``node``'s subtree over ``[start, end)`` (for a person: ``node`` is their id)."""
        metrics = self.metrics()
        if name not in metrics:
            known = ", ".join(sorted(metrics)) or "none"
            raise UnknownNameError(f"no metric named {name!r} (known: {known}) (没有这个指标)")
        if metrics[name].about == MEMBER:
            if not self.knows_person(node):
                raise UnknownNameError(f"metric {name!r} is about a person; unknown person {node!r} (花名册和居民中没有此人)")
        elif node not in self.community.hierarchy:
            raise UnknownNameError(self.community.hierarchy.unknown(node))
        require_aware(start)
        require_aware(end)
        try:
            with self.reading():
                return metrics[name].compute(self, node, start, end)
        except GridcoreError:
            raise
        except Exception as exc:
            raise PluginError(f"metric {name!r} failed: {type(exc).__name__}: {exc}") from exc

    def period_stamps(self, name: str) -> PeriodStamps:
        """Plugin ``name``'s ``PeriodStamps`` (``gridcore.stamps``), for its state to note its changes in and
        answer ``gridcore_period_stamp`` from: the same object for every state of the plugin this engine
        builds, so a state restored from a checkpoint and replayed (a late event's rewind, another writer's
        late event) keeps the stamps of the periods that nothing replayed reaches."""
        return self._stamp_book.of(name)

    def period_stamp(self, node: str, start: datetime, end: datetime) -> tuple[Hashable, ...] | None:
        """Every plugin's stamp of its state as a read of ``node``'s subtree over ``[start, end)`` sees it
        (``gridcore_period_stamp``), or None when a plugin that follows the events gives none.

        Equal answers mean no plugin's state changed for that node and period
        in between, so what was read then may be kept: key it with this, the
        rulesets in force, the roster and, for a period not yet over, the
        time.  None: key it with the log's position, as every event may
        change it.  Only meaningful within this process, on a state caught
        up with its store (``position == stored_position()``).
        """
        self._check_open()
        require_aware(start)
        require_aware(end)
        self._wake_implementers("gridcore_period_stamp")
        hook = self.plugins.hook
        following = {impl.plugin_name for name in STATEFUL_HOOKS for impl in getattr(hook, name).get_hookimpls()}
        stamping = [impl.plugin_name for impl in hook.gridcore_period_stamp.get_hookimpls()]
        if not following <= set(stamping):
            return None
        answers = hook.gridcore_period_stamp(engine=self, node=node, start=start, end=end)
        return tuple(answers) if len(answers) == len(stamping) else None

    def report(self, name: str, params: Mapping[str, str] | None = None, *, lang: str = "en") -> Table:
        """Build the report a plugin registered under ``name``; with ``lang="zh"``, as staff read it in
        Chinese (the report's ``chinese`` view, if it has one: the Chinese of its values and notes)."""
        self._wake_implementers("gridcore_register_reports")
        reports = {r.name: r for r in self.hooks.register_reports()}
        if name not in reports:
            known = ", ".join(sorted(reports)) or "none"
            raise UnknownNameError(f"no report named {name!r} (known: {known}) (没有这个报表)")
        try:
            with self.reading():
                chosen, given = reports[name], dict(params or {})
                built = chosen.build(self, given)
                return chosen.chinese(self, given, built) if lang == "zh" and chosen.chinese else built
        except GridcoreError:
            raise
        except Exception as exc:
            raise PluginError(f"report {name!r} failed: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------ internals

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
                self.hooks.on_flush(self)
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

    def _stored_forgotten_soon(self, decoded: list[tuple[Event, str, dict[str, Any] | None]], start: int,
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
        batch: list[dict[str, Any]] = []
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

    def _advance(self, now: datetime, batch: list[dict[str, Any]], batch_ids: set[str]) -> int:
        """Apply every derived event due by ``now``; return how many were new."""
        if self._pending:
            self._wake()
        ticked = self.hooks.on_tick(self, now)
        if not ticked:
            return 0  # (before most events: nothing due)
        count = 0
        for rounds in range(10_000):
            if rounds:
                ticked = self.hooks.on_tick(self, now)
                if not ticked:
                    return count
            due = [e for e in ticked if e.id not in self._applied]
            if not due:
                return count
            for event in sorted(due, key=event_order):
                if event.time > now:
                    raise PluginError(f"plugin returned event {event.id} due at {event.time}, after {now}")
                if event.id in self._applied:
                    continue
                reasons = self._refusals(event)
                if reasons:
                    raise PluginError(f"derived event {event.id} was refused: {'; '.join(reasons)}")
                # The store holds a derived event this state has not applied only while a rewind
                # merges in the events stored after it (``_cursor``), or if another writer stored it
                # after ``_position``: the batch it joins is appended on condition that the store is
                # still there, and the conflict has everything judged again.  A read-only engine
                # appends nothing: it asks.  (Asking always was a round trip per derived event.)
                stored = (self._cursor is not None or self._read_only) and self.store.contains(event.id)
                self._apply(event, replaying=stored)
                self._applied.add(event.id)
                if self._read_only and not stored:
                    self._derived_here.add(event.id)
                if event.id not in batch_ids and not stored:
                    batch.append(self.codec.to_dict(event))
                    batch_ids.add(event.id)
                    count += 1
        raise PluginError("gridcore_on_tick kept returning new events (a loop in a plugin?)")

    def _refusals(self, event: Event, *, offered: bool = False) -> list[str]:
        """Why ``event`` must be refused; ``offered`` for events from outside (not derived)."""
        reasons = self._outside_refusals(event) if offered else []
        facts = _FACTS.get(type(event))
        people, moved, registered, about = facts if facts is not None else _facts(type(event))
        if event.node not in self.community.hierarchy:
            reasons.append(f"unknown node {event.node!r} (未知节点)")
        if not self.knows_person(event.actor):
            reasons.append(f"unknown actor {event.actor!r}: not on the roster nor a registered resident "
                           "(操作人不在花名册中，也不是已登记的居民)")
        for name in people:
            person = getattr(event, name)
            if person and not self.knows_person(person):
                reasons.append(f"unknown {name.replace('_', ' ')} {person!r} (人员不在花名册中，也不是已登记的居民)")
        if moved or registered:
            resident: str = event.person  # type: ignore[attr-defined]
            if moved and resident not in self._population and not self.households.knows(resident):
                reasons.append(f"resident {resident!r} was never registered (居民未登记)")
            if registered and resident in self._population:
                reasons.append(f"resident {resident!r} is already registered (record a move instead) "
                               "(居民已登记，请登记搬迁)")
        if offered and not reasons:
            reasons.extend(permissions.refusals(self, event))
        if not reasons and about:
            reasons.extend(self.households.refusals(event))
        if reasons:
            return reasons
        if self._pending:
            self._wake()
        return self.hooks.validate_event(self, event)

    def _apply(self, event: Event, *, replaying: bool) -> None:
        if self._pending:
            self._wake()
        facts = _FACTS.get(type(event))
        _, moved, registered, about = facts if facts is not None else _facts(type(event))
        if moved or registered:
            self._population[event.person] = event.node  # type: ignore[attr-defined]
        if about:
            self.households.apply(event)
        if self._high_water is None or event.time > self._high_water:
            self._high_water = event.time
        order = (event.time, event.id)  # (``event_order``)
        if self._last is None or order > self._last:
            self._last = order
        if event.actor != SYSTEM_ACTOR and (self._last_input is None or order > self._last_input):
            self._last_input = order
        since = self._late_since
        if replaying and since is not None and order >= since:  # (``late_before``: else judged as it is now)
            # a stored event a late one made refusable in time order stays in the log, applied by no plugin
            reasons = self.hooks.validate_stored(self, event)
            if reasons:
                self.hooks.on_event_ignored(self, event, reasons)
                return
        self.hooks.on_event(self, event, replaying)

    def _outside_refusals(self, event: Event) -> list[str]:
        """Refusals only for events offered from outside: a log, a command, the API."""
        reasons = permissions.reserved_names(event)
        limit = self._future_tolerance
        if limit is not None:
            now = self.clock.now()
            if event.time > now + limit:
                reasons.append(
                    f"time {event.time.isoformat()} is more than {_describe(limit)} after now "
                    f"({now.astimezone(event.time.tzinfo).isoformat(timespec='seconds')}): a mistyped date? "
                    "(时间晚于当前时间，日期是否写错？)"
                )
        return reasons


#: What ``_refusals`` and ``_apply`` ask of an event's class, by class: the fields naming people, whether it
#: is a ``ResidentMoved``, a ``ResidentRegistered``, and about the household register (``about_register``).
_FACTS: dict[type, tuple[tuple[str, ...], bool, bool, bool]] = {}


def _facts(cls: type[Event]) -> tuple[tuple[str, ...], bool, bool, bool]:
    """``_FACTS`` of ``cls``, worked out once."""
    facts = _FACTS[cls] = (tuple(cls.people), issubclass(cls, ResidentMoved), issubclass(cls, ResidentRegistered),
                           about_register(cls))
    return facts


def _describe(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours:g} hours"


def _state_key(name: str) -> str:
    """The pluggy name of the state attached as ``name``."""
    return f"{name}#state"



__all__ = [
    "APPLIED_MOST",
    "CONFLICT_RETRIES",
    "DECIDED_WITH",
    "FUTURE_TOLERANCE",
    "IDS_AT_ONCE",
    "META",
    "NODE_KEY",
    "REPLAY_FLUSH_EVERY",
    "ROSTER_STAMP",
    "RULESETS",
    "SECTIONS_KEY",
    "Engine",
    "IngestSummary",
    "Refusal",
]
