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

``Engine`` is put together from parts, each a class over ``EngineState`` (every
field an engine holds: ``gridcore.enginestate``) in a module of its own:
``checkpointing`` (checkpoints stored), ``restoring`` (a checkpoint restored,
each plugin given its state when first used), ``enacting`` (the rulesets
in force), ``rostering`` (the roster), ``recording`` (``record_many``,
``tick``), ``refreshing`` (other writers' events taken on) and ``replaying``
(the state built again, rewound before a late event).  Here: opening and
closing, judging and applying one event, and what plugins and readers ask.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pluggy

from . import permissions
from .checkpointing import (
    STATEFUL_HOOKS,
    Checkpointing,
    OpenReport,
)
from .clock import Clock, FixedClock, SystemClock, require_aware
from .community import Community
from .enacting import NODE_KEY, RULESETS, SECTIONS_KEY, Enacting
from .enginestate import APPLIED_MOST, CONFLICT_RETRIES, REPLAY_FLUSH_EVERY
from .errors import (
    GridcoreError,
    PluginError,
    StoreConflict,
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
from .garbage import fewer_full_collections
from .metrics import MEMBER, Metric, MetricValue
from .plugin_host import Hooks, get_plugin_manager
from .recording import DECIDED_WITH, IngestSummary, Recording, Refusal
from .refreshing import Refreshing
from .register import about_register
from .replaying import IDS_AT_ONCE, Replaying
from .reports import Table
from .restoring import Restoring
from .rostering import META, ROSTER_STAMP, Rostering, _resolve_community
from .stamps import PeriodStamps
from .store import DEFAULT_STORE, EventBatch, Store

if TYPE_CHECKING:
    from .rules import Ruleset

#: How far past the clock an event's time may be (clocks of phones and
#: offices disagree, and a report may be typed in a zone ahead).  Further is a
#: mistyped date (2125 for 2025), which would otherwise sort after every later
#: event for ever.
FUTURE_TOLERANCE = timedelta(days=1)


class Engine(Checkpointing, Restoring, Enacting, Rostering, Recording, Refreshing, Replaying):
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

    @property
    def latest_event_time(self) -> datetime | None:
        """The time of the latest event applied (None for an empty store)."""
        return self._high_water

    def local_time(self, when: datetime) -> datetime:
        """``when`` on the community's clock: exactly ``when.astimezone(engine.community.tz)``.

        What the core and every plugin use to read an event's local time
        (``engine.local_time(event.time)``: a rule's weekday and hour): worked
        out once per time object, however many hooks ask (``gridcore.localtime``).
        """
        return self._local_times.time(when)

    def local_date(self, when: datetime) -> date:
        """The community's calendar day ``when`` falls on: exactly ``when.astimezone(engine.community.tz).date()``.

        What the core and every plugin use to read an event's local date
        (``engine.local_date(event.time)``: the ruleset in force that day, the
        day's periods), once per time object as ``local_time``.
        """
        return self._local_times.date(when)

    def on_local_clock(self, when: datetime) -> bool:
        """Whether ``when`` is written on the community's clock already: its own ``date()`` and ``time()``
        are exactly those of ``when.astimezone(engine.community.tz)`` (not a fold's second time).

        False where that is not known without converting it (``local_time`` converts).  True for
        most events of a community whose times carry its own fixed offset (``gridcore.localtime``):
        what a plugin that needs a time's wall clock, not a local ``datetime``, reads at no cost.
        """
        return self._local_times.on_clock(when)

    def on_local_clock_until(self, when: datetime, day: date) -> bool:
        """Whether ``when`` is on the community's clock (``on_local_clock``) and the community's offset from UTC
        all the later ``day`` is ``when``'s own, known without asking the zone (``gridcore.localtime``; False:
        not known so): what a plugin that puts a time months on on the community's clock reads to know the
        offset there.
        """
        return self._local_times.on_clock_until(when, day)

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
            raise UnknownNameError(f"no plugin knows a decision {decision!r} (没有这个决定编号：请用报表“decision”列中的编号)")
        return answer

    def outcomes(self, plugins: Iterable[str] | None = None) -> list[Outcome]:
        """Every plugin's outcomes, for what-if comparison; or only those of the plugins named in ``plugins``
        (``Outcome.plugin``), asking only their hooks: the names a plugin is registered under (its entry
        point's) and its state is attached under (``state(name)``).  A plugin's outcomes can cost a
        computation over the whole community (the assessment's ratings of every period spanned): a caller
        that reads some plugins' (``gridcore test``: the plugins a case expects of) pays for theirs alone."""
        if plugins is None:
            self._woken()
            return self.hooks.collect_outcomes(self)
        named = frozenset(plugins)
        self._woken([_state_key(name) for name in named])
        return [outcome for outcome in self.hooks.collect_outcomes(self, named) if outcome.plugin in named]

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

    # ------------------------------------------------------------ judging and applying an event

    def _advance(self, now: datetime, batch: EventBatch, batch_ids: set[str],
                 ticked: list[Event] | None = None) -> int:
        """Apply every derived event due by ``now``; return how many were new.  ``ticked``: what the plugins'
        ``gridcore_on_tick`` at ``now`` answered, when the caller asked already (``_record_sorted``)."""
        if ticked is None:
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
                    made = self.codec.written(event)  # (most often: by the kind's writer)
                    if made is not None:
                        batch.add_written(made)
                    else:
                        batch.append(self.codec.to_dict(event))
                    batch_ids.add(event.id)
                    count += 1
        raise PluginError("gridcore_on_tick kept returning new events (a loop in a plugin?)")

    def _refusals(self, event: Event, *, offered: bool = False) -> list[str]:
        """Why ``event`` must be refused; ``offered`` for events from outside (not derived)."""
        facts = _FACTS.get(type(event))
        people, moved, registered, about, rule, reserved = facts if facts is not None else _facts(type(event))
        reasons: list[str] = []
        if offered:
            # (``_outside_refusals`` asked only when it may say something: an offered event that names ``system``, or
            # a limit on the future; most events, with a ``FixedClock``'s none, have it answer nothing)
            if self._future_tolerance is not None or event.actor == SYSTEM_ACTOR:
                reasons = self._outside_refusals(event)
            else:
                for name in reserved:
                    if getattr(event, name, None) == SYSTEM_ACTOR:
                        reasons = self._outside_refusals(event)
                        break
        community = self.community
        if event.node not in community.hierarchy.ids:
            reasons.append(f"unknown node {event.node!r} (未知节点)")
        # (``knows_person`` written out: asked of every event's actor and people)
        members, population = community.members, self._population
        actor = event.actor
        if not (actor == SYSTEM_ACTOR or actor in members or actor in population or self.households.knows(actor)):
            reasons.append(f"unknown actor {event.actor!r}: not on the roster nor a registered resident "
                           "(操作人不在花名册中，也不是已登记的居民)")
        for name in people:
            person = getattr(event, name)
            if person and not (person == SYSTEM_ACTOR or person in members or person in population
                               or self.households.knows(person)):
                reasons.append(f"unknown {name.replace('_', ' ')} {person!r} (人员不在花名册中，也不是已登记的居民)")
        if moved or registered:
            resident: str = event.person  # type: ignore[attr-defined]
            if moved and resident not in self._population and not self.households.knows(resident):
                reasons.append(f"resident {resident!r} was never registered (居民未登记)")
            if registered and resident in self._population:
                reasons.append(f"resident {resident!r} is already registered (record a move instead) "
                               "(居民已登记，请登记搬迁)")
        if offered and not reasons and rule is not None:  # (``permissions.refusals``: no rule, no reasons)
            reasons.extend(rule(self, event))
        if not reasons and about:
            reasons.extend(self.households.refusals(event))
        if reasons:
            return reasons
        if self._pending:
            self._wake()
        hooks = self.hooks
        unjudged = hooks.unjudged
        if type(event) in unjudged[1] and unjudged[0] == hooks.pm.generation:  # type: ignore[attr-defined]
            return reasons  # (no plugin judges such events: ``Hooks.validate_event`` would answer nothing)
        return hooks.validate_event(self, event)

    def _apply(self, event: Event, *, replaying: bool) -> None:
        if self._pending:
            self._wake()
        facts = _FACTS.get(type(event))
        _, moved, registered, about, _, _ = facts if facts is not None else _facts(type(event))
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
                self._ignored[event.id] = reasons  # (``ignored_stored``)
                self.hooks.on_event_ignored(self, event, reasons)
                return
            if self._ignored:
                self._ignored.pop(event.id, None)  # (judged again: it counts now)
        self.hooks.on_event(self, event, replaying)

    def _outside_refusals(self, event: Event) -> list[str]:
        """Refusals only for events offered from outside: a log, a command, the API."""
        reasons = permissions.reserved_names(event)
        limit = self._future_tolerance
        if limit is not None:
            now = self.clock.now()
            zone = event.time.tzinfo
            kept = self._future_bound  # (asked for every event offered: the same clock reading, most often)
            if kept[0] is now and kept[1] is zone and kept[2] is limit:
                bound = kept[3]
            else:
                bound = _latest_allowed(now, limit, zone)
                self._future_bound = (now, zone, limit, bound)
            if event.time > bound:
                reasons.append(
                    f"time {event.time.isoformat()} is more than {_describe(limit)} after now "
                    f"({now.astimezone(event.time.tzinfo).isoformat(timespec='seconds')}): a mistyped date? "
                    "(时间晚于当前时间，日期是否写错？)"
                )
        return reasons


#: What ``_refusals`` and ``_apply`` ask of an event's class, by class: the fields naming people, whether it
#: is a ``ResidentMoved``, a ``ResidentRegistered``, and about the household register (``about_register``),
#: the core rule on who may record it (``permissions.rule_for``: None for most events, activities), and the
#: fields that may not name ``system`` (``permissions.reserved_names``).
_Facts = tuple[tuple[str, ...], bool, bool, bool, "Callable[[Engine, Event], list[str]] | None", tuple[str, ...]]
_FACTS: dict[type, _Facts] = {}


def _facts(cls: type[Event]) -> _Facts:
    """``_FACTS`` of ``cls``, worked out once."""
    facts = _FACTS[cls] = (tuple(cls.people), issubclass(cls, ResidentMoved), issubclass(cls, ResidentRegistered),
                           about_register(cls), permissions.rule_for(cls), permissions.person_fields(cls))
    return facts


def _latest_allowed(now: datetime, limit: timedelta, zone: tzinfo | None) -> datetime:
    """``now + limit``, as the same instant in ``zone`` when that is a fixed ``timezone``.

    Two times holding one ``timezone`` object compare field by field, in the
    order of their instants; a time at a fixed offset against the clock's (in
    the community's zone, or UTC) asks both for their offsets, about 4,000
    instructions a comparison, and the future is asked of every event offered.
    """
    later = now + limit
    if type(zone) is timezone and later.utcoffset() is not None:  # (a naive reading is compared as it is)
        try:
            return later.astimezone(zone)
        except OverflowError:  # (beyond what ``zone`` can hold: compared as it is)
            return later
    return later


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
