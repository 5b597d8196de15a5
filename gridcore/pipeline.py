"""An ingest with the plugins in two processes, exactly as one process would do it.

``Engine.record_many(events, workers=2)`` (``gridcore ingest --workers 2``)
may run the plugins side by side: every process reads the whole batch and
keeps some plugins' state, and only verdicts pass between them.  It is a
pipeline by stage, one way:

* the *upstream* process (forked for the call) keeps the plugins that derive
  events (``gridcore_on_tick``: escalation, tasks) and those whose refusals
  they read.  For each event in canonical order it derives what fell due,
  asks the core and its plugins, applies what they accept, and sends the
  derived events, the core's reasons and its plugins' on;
* the *downstream* process (the caller's) keeps the other plugins (points,
  the assessment), takes the derived events and the upstream's reasons as
  given, adds its own plugins' reasons in the order one process would call
  them, applies what every plugin accepted, and writes the log, in the same
  batches, at the same positions, as the serial ingest.

This is exact only if nothing the downstream plugins decide can change what
the upstream ones decide.  Every plugin says which kinds it may refuse and
which it reads (``gridcore_event_dependencies``, ``EventDependencies``), and
``plan`` splits only when every plugin that follows the events said so and
no kind refused downstream is read upstream or by the core's own state (the
population and the household register); a plugin without the declaration,
or any doubt, and the call runs in one process.

Checkpoints fall where the serial ingest puts them: the downstream decides
as it always does, and the upstream, which runs ahead, waits at every event
after which the downstream could take one (it counts the events it accepts,
never fewer than the downstream's) until told whether to save its plugins'
state there.  After the last event the upstream saves its plugins' state
once more (while the downstream judges the last events) and the downstream
restores it (``gridcore_restore_state``), then decides itself, with every
plugin's state, what the last events decided on the spot; so the caller's
engine holds every plugin's state, as after a serial call.
Saving writes the upstream archives' sealed parts to the store at that
point, where the serial ingest writes them at its next checkpoint (content
addressed: the same documents, earlier).

Anything unusual runs serially, from the start or from the last stored
batch: a late event (it rewinds every plugin), another writer's events, a
read-only engine, a store that a second process cannot share (TinyDB, an
in-memory SQLite), an id offered twice in one call, a derived event with an
offered event's id.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from .errors import GridcoreError, PluginError, StoreConflict
from .events import (
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    ResidentMoved,
    ResidentRegistered,
    event_order,
)
from .plugin_host import STATE_SUFFIX, Side

if TYPE_CHECKING:
    from .engine import Engine, IngestSummary

#: In ``EventDependencies.reads``: every kind (the state reads every event's time or order).
EVERY_KIND = "*"
#: The kinds the core's own state follows: the population and the household register
#: (``gridcore.register``).  A plugin refusing one of them never runs downstream.
CORE_READS = frozenset(cls.kind for cls in (
    HouseholdMovedIn, HouseholdMovedOut, HouseholdSplit, HouseholdVisited, ResidentRegistered, ResidentMoved))
#: The hooks through which a plugin's state follows the events while they are judged.
INGEST_HOOKS = ("gridcore_validate_event", "gridcore_on_event", "gridcore_on_tick")
#: Events' verdicts the upstream sends at once (fewer, larger messages between the processes).
CHUNK = 64
#: Store classes a second process can open and share while the first writes (``Engine.store_again``).
SHAREABLE_STORES = frozenset({"SQLiteStore", "PostgresStore"})


def _kinds(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError("event kinds are given as a collection of kinds, not a string")
    return frozenset(value)


@frozen
class EventDependencies:
    """What a plugin's state may refuse and what it reads, by event kind (``gridcore_event_dependencies``).

    ``state``: the name its state is attached under (``Engine.attach``).
    ``refuses``: the kinds its ``gridcore_validate_event`` may give reasons for.
    ``reads``: the kinds whose events can change what it decides or derives
    later; ``EVERY_KIND`` among them when every event can (its time alone).
    """

    state: str
    refuses: frozenset[str] = field(converter=_kinds, factory=frozenset)
    reads: frozenset[str] = field(converter=_kinds, factory=frozenset)

    def reads_any(self, kinds: Iterable[str]) -> bool:
        """True if an event of one of ``kinds`` (or its refusal) can change this state."""
        return EVERY_KIND in self.reads or not self.reads.isdisjoint(kinds)


@frozen
class Split:
    """Which plugins' state each process keeps (pluggy names and objects); ``plan`` makes it."""

    upstream: dict[str, object]
    downstream: dict[str, object]
    #: the upstream plugins whose state follows the events: handed to the downstream at the end
    stateful: frozenset[str]
    #: the modules whose ``gridcore_on_open`` attaches the upstream states (called again to restore them)
    openers: tuple[object, ...]


def plan(engine: Engine) -> Split | None:
    """How the plugins split into a pipeline, or None when they do not (then one process ingests).

    The upstream holds every plugin that derives events, and every plugin
    refusing a kind that one of those reads (repeated until nothing is
    added); the downstream holds the rest.  Every plugin following the
    events must have declared its kinds, the downstream must refuse no kind
    the core's state follows, and each upstream state must save and restore
    itself (its state is handed to the downstream at the end).
    """
    pm = engine.plugins
    declared: dict[str, tuple[object, EventDependencies]] = {}
    for module, found in engine.hooks.event_dependencies():
        if not isinstance(found, EventDependencies) or found.state in declared:
            return None
        declared[found.state] = (module, found)
    members: dict[str, object] = {}
    for hook in INGEST_HOOKS:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            members[impl.plugin_name] = impl.plugin
    deps: dict[str, EventDependencies] = {}
    for name in members:
        found_pair = declared.get(name.removesuffix(STATE_SUFFIX))
        if found_pair is None:
            return None  # a plugin that did not say what it reads: one process
        deps[name] = found_pair[1]
    upstream = {impl.plugin_name for impl in pm.hook.gridcore_on_tick.get_hookimpls()}
    grew = True
    while grew:
        grew = False
        for name, dep in deps.items():
            if name not in upstream and any(deps[up].reads_any(dep.refuses) for up in upstream):
                upstream.add(name)
                grew = True
    downstream = set(members) - upstream
    if not upstream or not downstream:
        return None
    if any(not deps[name].refuses.isdisjoint(CORE_READS) for name in downstream):
        return None
    savers = {impl.plugin_name for impl in pm.hook.gridcore_save_state.get_hookimpls()}
    restorers = {impl.plugin_name for impl in pm.hook.gridcore_restore_state.get_hookimpls()}
    stateful = {impl.plugin_name for hook in ("gridcore_on_event", "gridcore_on_tick")
                for impl in getattr(pm.hook, hook).get_hookimpls()} & upstream
    if not stateful <= savers & restorers:
        return None
    openers = []
    for name in sorted(stateful):
        module = declared[name.removesuffix(STATE_SUFFIX)][0]
        # its module's other states must be upstream too: opening it again replaces them all
        if any(other is module and f"{state}{STATE_SUFFIX}" not in upstream and state not in upstream
               for state, (other, _) in declared.items()):
            return None
        if module not in openers:
            openers.append(module)
    return Split({name: members[name] for name in sorted(upstream)},
                 {name: members[name] for name in sorted(downstream)}, frozenset(stateful), tuple(openers))


def can_fork() -> bool:
    """True where the upstream process can be forked (Linux)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@frozen
class Started:
    """What a call with ``workers`` came to: ``finished``, or the point the serial ingest goes on from."""

    finished: bool
    #: the next event to judge, the summary and the latest accepted time there (``_record_sorted``'s mark)
    mark: tuple[int, IngestSummary, datetime | None]
    #: ids offered again: index, event, where it came from
    repeats: dict[str, tuple[int, Event, str]]


class _Fallback(Exception):
    """Something unusual: the ingest goes on in one process from the last stored batch."""


class _Unusual(Exception):
    """In the upstream: an event it cannot judge alone (it tells the downstream, which goes on serially)."""


Decoded = list[tuple[Event, str, "dict[str, Any] | None"]]


def record(engine: Engine, decoded: Decoded, summary: IngestSummary, batch_size: int,
           progress: Callable[[int], None] | None) -> Started | None:
    """Judge and store ``decoded`` (in canonical order) with the plugins in two processes.

    None, with nothing changed, when the call does not split (the caller
    ingests serially); else ``Started``: finished, or where the serial
    ingest goes on (the state then rebuilt from the store).
    """
    split = plan(engine) if can_fork() else None
    if split is None or engine.read_only or engine._cursor is not None:
        return None
    if type(engine.store).__name__ not in SHAREABLE_STORES or ":memory:" in str(engine.store.url):
        return None
    engine._settle_append()
    if engine._pending:
        engine._woken()
    up_side = Side.of(engine.hooks, split.upstream.values())
    down_side = Side.of(engine.hooks, split.downstream.values())
    if up_side is None or down_side is None:
        return None
    try:
        if engine.store.position() != engine._position:
            return None  # another writer appended: the serial ingest rebuilds and judges again
        older = engine._stored_before_base([event.id for event, _, _ in decoded])
    except (GridcoreError, OSError):
        return None
    repeated = [event.id in engine._applied or event.id in older for event, _, _ in decoded]
    fresh = [event for (event, _, _), again in zip(decoded, repeated, strict=True) if not again]
    if not fresh or len({event.id for event in fresh}) != len(fresh):
        return None  # an id offered twice: whether the second is a duplicate depends on every verdict
    first = fresh[0]
    if (engine._last is not None and event_order(first) < engine._last
            and not engine._tied_with_derived(first)):
        return None  # a late event rewinds every plugin
    return Downstream(engine, split, up_side, down_side, decoded, repeated, summary, batch_size,
                       progress).run()


class Downstream:
    """The caller's process: its plugins, the upstream's verdicts, the writing and the checkpoints."""

    def __init__(self, engine: Engine, split: Split, up_side: Side, side: Side, decoded: Decoded,
                 repeated: list[bool], summary: IngestSummary, batch_size: int,
                 progress: Callable[[int], None] | None) -> None:
        self.engine = engine
        self.split = split
        self.up_side = up_side
        self.side = side
        self.decoded = decoded
        self.repeated = repeated
        self.summary = summary
        self.batch_size = batch_size
        self.progress = progress
        self.batch: list[dict[str, Any]] = []
        self.batch_ids: set[str] = set()
        self.queue: deque[Any] = deque()
        self.asked = False  # the upstream was asked for its states at this checkpoint
        self.states: dict[str, dict[str, Any] | None] | None = None  # its answer
        self.final: dict[str, dict[str, Any] | None] | None = None

    # ------------------------------------------------------------ the upstream process

    def run(self) -> Started | None:
        from .engine import DECIDED_WITH, Refusal
        from .engine import _copy as copy

        engine = self.engine
        context = multiprocessing.get_context("fork")
        mine, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=_upstream, name="gridcore-upstream", daemon=True,
            args=(engine, self.up_side, self.split.stateful, self.decoded, self.repeated, self._facts(),
                  self.batch_size, theirs))
        process.start()
        theirs.close()
        self.link = mine
        summary = self.summary
        mark: tuple[int, IngestSummary, datetime | None] = (0, copy(summary), None)
        sent: tuple[int, IngestSummary, datetime | None] | None = None
        repeats: dict[str, tuple[int, Event, str]] = {}
        ended = False
        try:
            try:
                first = self._receive()
                if first[0] != "ready":
                    return None  # it could not open the store: nothing was judged yet
                engine._elsewhere = self
                i, latest = 0, None
                while i < len(self.decoded):
                    event, label, document = self.decoded[i]
                    if self.repeated[i]:
                        repeats.setdefault(event.id, (i, event, label))
                        summary.duplicates += 1
                        i += 1
                        continue
                    k, derived, reasons, parts = self._record()
                    if k != i:
                        raise PluginError(f"the upstream process sent event {k} where {i} was due")
                    if (engine._last is not None and event_order(event) < engine._last
                            and not engine._tied_with_derived(event)):
                        raise _Fallback("a late event")
                    summary.derived += self._derived(derived)
                    # the core's reasons as the upstream found them (its core state is this one's: no kind the
                    # core follows is refused here), else every plugin's in the order one process gives them
                    if not reasons:
                        reasons = Side.merged(parts or [], self.side.validate_event(engine, event))
                    if reasons:
                        summary.refused.append(Refusal(event.id, reasons, label))
                    else:
                        engine._apply_core(event)
                        self.side.on_event(engine, event, False)
                        engine._applied.add(event.id)
                        # (a copy of a document given: the caller's own)
                        self.batch.append(dict(document) if document is not None else engine.codec.to_dict(event))
                        self.batch_ids.add(event.id)
                        summary.accepted += 1
                        latest = event.time if latest is None else max(latest, event.time)
                    i += 1
                    if len(self.batch) >= self.batch_size:
                        engine._flush(self.batch, self.batch_ids, soon=True)
                        mark, sent = sent or mark, (i, copy(summary), latest)
                        if engine._position + engine._sent_size - engine._checkpointed >= engine.checkpoint_every:
                            self.asked, self.states = False, None
                            engine._checkpoint_after_write(engine.checkpoint_every)
                            if self.asked:
                                self._go()
                        if engine._sent is None:
                            mark, sent = sent, None
                    if self.progress is not None:
                        self.progress(i)
                self._end()
                engine._elsewhere = None
                if not self._take_over():
                    # a state the upstream could not save: what is judged is stored, and replayed instead
                    engine._flush(self.batch, self.batch_ids)
                    engine._rebuild_state()
                if latest is not None:
                    # what the last events decided on the spot, every plugin's state here, as serially
                    summary.derived += engine._advance(latest + DECIDED_WITH, self.batch, self.batch_ids)
                engine._flush(self.batch, self.batch_ids)
            except (_Fallback, StoreConflict) as exc:
                engine._elsewhere = None
                if isinstance(exc, _Fallback):
                    try:
                        engine._settle_append()
                        if sent is not None:
                            mark = sent
                    except StoreConflict:
                        pass
                else:
                    engine._settle_append(whatever_came_of_it=True)
                engine._rebuild_state()
                return Started(False, mark, {ident: seen for ident, seen in repeats.items() if seen[0] < mark[0]})
            except BaseException:
                engine._elsewhere = None
                engine._settle_append(whatever_came_of_it=True)
                engine._rebuild_state()
                raise
            engine._checkpoint_after_write()
            ended = True
            return Started(True, (len(self.decoded), copy(summary), latest), repeats)
        finally:
            engine._elsewhere = None
            mine.close()
            if ended and process.is_alive():
                process.join(timeout=5)  # (it sent its last states: it is exiting)
            if process.is_alive():
                process.kill()
            process.join()

    def _facts(self) -> tuple[int, int]:
        """What the upstream needs to know when a checkpoint may fall: the batch under way, and the
        events stored or to store since the last checkpoint."""
        engine = self.engine
        return len(self.batch), engine._position + engine._sent_size + len(self.batch) - engine._checkpointed

    def _receive(self) -> Any:
        try:
            message = self.link.recv()
        except EOFError:
            raise PluginError("the upstream process of the ingest ended without a word") from None
        if message[0] == "error":
            raise message[1]
        return message

    def _record(self) -> tuple[int, list[Event], list[str], list[tuple[int, list[str]]] | None]:
        """The upstream's next verdict: index, the derived events before it, the core's reasons, and its
        plugins' (None when the core refused)."""
        while not self.queue:
            message = self._receive()
            kind = message[0]
            if kind == "records":
                self.queue.extend(message[1])
            elif kind == "wait":
                self._go()  # no checkpoint where it waits
            elif kind == "unusual":
                raise _Fallback(message[1])
            else:
                raise PluginError(f"the upstream process sent {kind!r} where a verdict was due")
        return self.queue.popleft()  # type: ignore[no-any-return]

    def _go(self) -> None:
        engine = self.engine
        forgot = engine._base == engine._position and not engine._applied
        self.link.send(("go", *self._facts(), forgot))

    def _end(self) -> None:
        """The upstream plugins' states after the last event (saved while this process judged the last ones)."""
        while True:
            message = self._receive()
            kind = message[0]
            if kind == "records":
                raise PluginError("the upstream process sent verdicts past the last event")
            if kind == "wait":
                self._go()
            elif kind == "unusual":
                raise _Fallback(message[1])
            elif kind == "end":
                _, self.final, self._final_unsaved = message
                return

    def _derived(self, derived: list[Event]) -> int:
        """Apply what the upstream derived before an event, as ``Engine._advance`` does; how many are new."""
        engine = self.engine
        count = 0
        for event in derived:
            # (the core's checks and the upstream plugins' were made upstream, which raises if they refuse)
            reasons = Side.merged(self.side.validate_event(engine, event))
            if reasons:
                raise PluginError(f"derived event {event.id} was refused: {'; '.join(reasons)}")
            engine._apply_core(event)
            self.side.on_event(engine, event, False)
            engine._applied.add(event.id)
            if event.id not in self.batch_ids:
                self.batch.append(engine.codec.to_dict(event))
                self.batch_ids.add(event.id)
                count += 1
        return count

    # ------------------------------------------------------------ the upstream's states (``Engine._checkpoint``)

    def keeps(self, name: str) -> bool:
        """True if the upstream keeps the state of the plugin named ``name``."""
        return name in self.split.stateful

    def state(self, name: str) -> dict[str, Any] | None:
        """The upstream plugin's document for the checkpoint being taken (asked once per checkpoint)."""
        if self.states is None:
            if self.queue:
                raise PluginError("the upstream process did not wait where a checkpoint may fall")
            message = self._receive()
            if message[0] != "wait":
                raise PluginError(f"the upstream process sent {message[0]!r} where it should wait for a checkpoint")
            self.asked = True
            self.link.send(("save",))
            answer = self._receive()
            if answer[0] == "unsaved":
                self.states = {}
                self._unsaved = answer[1]
            else:
                self.states, self._unsaved = answer[1], ""
        if self._unsaved:
            raise GridcoreError(self._unsaved)
        return self.states.get(name)

    _unsaved = ""
    _final_unsaved = ""

    def _take_over(self) -> bool:
        """Give the caller's engine the upstream plugins' states after the last event (as a checkpoint
        restores them); False if one could not be saved."""
        engine = self.engine
        final = self.final or {}
        if self._final_unsaved or any(final.get(name) is None for name in self.split.stateful):
            return False
        pm = engine.plugins
        before = [name for name, plugin in pm.list_name_plugin() if plugin is not None]
        others = [plugin for plugin in pm.get_plugins() if plugin not in self.split.openers]
        pm.subset_hook_caller("gridcore_on_open", remove_plugins=others)(engine=engine)
        # Hooks are called in the order plugins were registered: the fresh states go back to their
        # places (and every plugin after them with them), as after a serial call
        now = {name: plugin for name, plugin in pm.list_name_plugin() if plugin is not None}
        order = [name for name in before if name in now] + [name for name in now if name not in before]
        start = min(order.index(name) for name in self.split.stateful)
        for name in order[start:]:
            pm.unregister(name=name)
        for name in order[start:]:
            pm.register(now[name], name=name)
        for name in self.split.stateful:
            plugin = engine.plugins.get_plugin(name)
            if plugin is None:
                raise PluginError(f"opening again attached no state {name!r}")
            document = final[name]
            assert document is not None
            engine.hooks.restore_state(engine, plugin, document)
        return True


def _upstream(engine: Engine, side: Side, names: frozenset[str], decoded: Decoded, repeated: list[bool],
              facts: tuple[int, int], batch_size: int, link: Any) -> None:
    """The forked upstream process: derive, judge with its plugins, apply, send the verdicts on.

    It reads and writes the store (its plugins' archives) through a handle
    of its own: the inherited one is the caller's connection, neither used
    nor closed here (the process ends with ``os._exit``, multiprocessing's
    fork, which runs no finalizer).
    """
    own = None
    try:
        _INHERITED.append(engine.store)
        try:
            own = engine.store_again()
            if own.position() != engine._position:
                raise GridcoreError("the store moved")
        except Exception as exc:  # noqa: BLE001 - the caller ingests in one process
            link.send(("unable", str(exc)))
            return
        engine.store = own
        link.send(("ready",))
        _Upstream(engine, side, names, decoded, repeated, facts, batch_size, link).run()
    except BaseException as exc:  # noqa: BLE001 - it reaches the caller, which raises it
        try:
            link.send(("error", exc))
        except Exception:  # noqa: BLE001 - (an error that does not pickle)
            link.send(("error", PluginError(f"the upstream process of the ingest failed: "
                                            f"{type(exc).__name__}: {exc}")))
    finally:
        link.close()
        if own is not None:
            own.close()


#: Store handles the upstream process inherited: kept (never closed, never collected) until it exits.
_INHERITED: list[Any] = []


class _Upstream:
    def __init__(self, engine: Engine, side: Side, names: frozenset[str], decoded: Decoded, repeated: list[bool],
                 facts: tuple[int, int], batch_size: int, link: Any) -> None:
        self.engine = engine
        self.side = side
        self.names = names
        self.decoded = decoded
        self.repeated = repeated
        self.batch_bound, self.since_bound = facts
        self.batch_size = batch_size
        self.link = link
        self.offered = {event.id for (event, _, _), again in zip(decoded, repeated, strict=True) if not again}
        self.out: list[tuple[int, list[Event], list[str], list[tuple[int, list[str]]] | None]] = []

    def run(self) -> None:
        try:
            self._run()
        except BaseException:
            self._send()  # the verdicts before the failing event are the downstream's to store
            raise

    def _run(self) -> None:
        engine, side = self.engine, self.side
        for k, (event, _, _) in enumerate(self.decoded):
            if self.repeated[k]:
                continue
            try:
                derived = self._advance(event.time)
            except _Unusual as exc:
                self._send()
                self.link.send(("unusual", str(exc)))
                return
            items = len(derived)
            parts = None
            core = engine._core_refusals(event, offered=True)
            if not core:
                parts = side.validate_event(engine, event)
                if not parts:
                    engine._apply_core(event)
                    side.on_event(engine, event, False)
                    engine._applied.add(event.id)
                    items += 1
            self.out.append((k, derived, core, parts))
            self.batch_bound += items
            self.since_bound += items
            if self.batch_bound >= self.batch_size and self.since_bound >= engine.checkpoint_every:
                # the downstream may take a checkpoint after this event: wait for its word
                self._send()
                self.link.send(("wait", k))
                self._wait()
            elif len(self.out) >= CHUNK:
                self._send()
        self._send()
        # its plugins' states after the last event, saved while the downstream judges the last ones:
        # the downstream takes them over and decides what the last events decided on the spot itself
        try:
            states, unsaved = self._states(), ""
        except (GridcoreError, TypeError, ValueError) as exc:
            states, unsaved = {}, f"the upstream states could not be saved: {exc}"
        self.link.send(("end", states, unsaved))

    def _send(self) -> None:
        if self.out:
            self.link.send(("records", self.out))
            self.out = []

    def _wait(self) -> None:
        message = self.link.recv()
        if message[0] == "save":
            try:
                self.link.send(("states", self._states()))
            except (GridcoreError, TypeError, ValueError) as exc:
                self.link.send(("unsaved", f"no checkpoint was stored (opening replays more of the store): {exc}"))
            message = self.link.recv()
        _, self.batch_bound, self.since_bound, forgot = message
        if forgot:
            self.engine._applied.clear()

    def _states(self) -> dict[str, dict[str, Any] | None]:
        """Each upstream plugin's ``gridcore_save_state`` document (None: it cannot be saved now)."""
        engine = self.engine
        return {name: engine.hooks.save_state(engine, plugin)
                for name, plugin in engine._savers().items() if name in self.names}

    def _advance(self, now: datetime) -> list[Event]:
        """``Engine._advance`` with this process's plugins: the derived events due by ``now``, applied."""
        engine, side = self.engine, self.side
        applied: list[Event] = []
        for _ in range(10_000):
            due = [e for e in side.on_tick(engine, now) if e.id not in engine._applied]
            if not due:
                return applied
            for event in sorted(due, key=event_order):
                if event.time > now:
                    raise PluginError(f"plugin returned event {event.id} due at {event.time}, after {now}")
                if event.id in engine._applied:
                    continue
                if event.id in self.offered:
                    raise _Unusual(f"derived event {event.id} has the id of an event offered")
                reasons = engine._core_refusals(event) or Side.merged(side.validate_event(engine, event))
                if reasons:
                    raise PluginError(f"derived event {event.id} was refused: {'; '.join(reasons)}")
                engine._apply_core(event)
                side.on_event(engine, event, False)
                engine._applied.add(event.id)
                applied.append(event)
        raise PluginError("gridcore_on_tick kept returning new events (a loop in a plugin?)")

