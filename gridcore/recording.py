"""The engine's recording: events offered judged in canonical order and appended in batches, and ticks.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own:
``record_many`` decodes what it is given, sorts it in canonical order (time,
then id) and judges each event where the log puts it (a late one after a
rewind to just before it: ``gridcore.replaying``), appending what is accepted
in batches on condition that the store is still where this engine last saw it
(``_flush``), and judging again after another writer's append; ``tick``
records what fell due.  The contract is in ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import attrs
from attrs import field

from . import timeorder
from .classes import define
from .clock import FixedClock, require_aware
from .enginestate import CONFLICT_RETRIES, EngineState
from .errors import EventError, EventRefused, StoreConflict, StoreError
from .events import Event, event_order
from .garbage import fewer_full_collections, recording
from .remembered import RememberedRefusals
from .store import EventBatch

if TYPE_CHECKING:
    from .engine import Engine

#: A decision a plugin takes on an event (an immediate escalation, a reopening
#: after an unsatisfied verification) falls due this long after its cause, so
#: canonical order (time, id) always puts the cause first.  Such decisions are
#: recorded with the event that caused them, not at a later ``tick``.
DECIDED_WITH = timedelta(microseconds=1)


@define
class Refusal:
    """One event that was not stored, and why."""

    event_id: str
    reasons: list[str]
    source: str = ""  # where it came from, e.g. "events.jsonl:12"
    malformed: bool = False  # the document was not a valid event at all


@define
class IngestSummary:
    """What ``record_many`` did with a batch of events."""

    accepted: int = 0
    duplicates: int = 0
    derived: int = 0
    refused: list[Refusal] = field(factory=list)

    def merge(self, other: IngestSummary) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.derived += other.derived
        self.refused.extend(other.refused)


class Recording(EngineState):
    """The recording methods of ``Engine``."""

    def record(self, event: Event | Mapping[str, Any]) -> bool:
        """Record one event. True if stored, False if its id was already stored.

        Raises ``EventError`` for a malformed document and ``EventRefused`` (with
        every reason) for a refused event; either way nothing changes.
        """
        summary = self.record_many([event])
        if summary.refused:
            refusal = summary.refused[0]
            if refusal.malformed:
                raise EventError(refusal.reasons[0])
            raise EventRefused(refusal.event_id, refusal.reasons)
        return summary.accepted == 1

    def record_many(
        self,
        events: Iterable[Event | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        sources: Iterable[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IngestSummary:
        """Record many events; refusals are collected, not raised.

        Events are applied in canonical order (time, then id) whatever their
        order here, and written in atomic batches of ``batch_size``.  Malformed
        documents are refused with the field and reason.  ``sources`` may name
        where each item came from (for messages).  ``progress`` is called with
        the number of items handled so far.

        Before each event, what fell due by its time is recorded (even if the
        event is then refused); after the last accepted event, the decisions it
        took on the spot (due ``DECIDED_WITH`` after it) are recorded with it.
        """
        with recording():  # the state only grows while recording: no middle collections (gridcore.garbage)
            return self._record_many(events, batch_size, sources, progress)

    def _record_many(
        self,
        events: Iterable[Event | Mapping[str, Any]],
        batch_size: int,
        sources: Iterable[str] | None,
        progress: Callable[[int], None] | None,
    ) -> IngestSummary:
        summary = IngestSummary()
        # each event, its place among the items (where it came from: ``_label``), and its stored form when already
        # made (checking the limits)
        decoded: list[tuple[Event, int, dict[str, Any] | None]] = []
        # Where each item came from, by its place: a label is read only for an item refused (``gridcore ingest``'s
        # are made only then: ``gridcore_app.jsonl.Labels``); sources that are no sequence are read along with
        # the items, one for each.
        labels: Sequence[str] | None = sources if sources is None or isinstance(sources, Sequence) else None
        unread = iter(sources) if sources is not None and labels is None else None
        read: list[str] = []
        if unread is not None:
            labels = read
        # A caller's document stored as given is stored as the caller's dict, read when its batch is written
        # (``_record_sorted``): copied as it is read when code of the caller's may run before then and change
        # or reuse it (a generator, while this loop reads it; a ``progress`` callback); not from a list or a
        # tuple read without a callback (``gridcore ingest``'s chunks: the copy would cost 0.3-0.6 us an event).
        copy = progress is not None or (type(events) is not list and type(events) is not tuple)
        # (every document decoded is one a kind's writer made, or would have: ``EventBatch.add_written``)
        written = True
        for n, item in enumerate(events):
            if unread is not None:
                read.append(next(unread, ""))
            try:
                if isinstance(item, Event):
                    # limits hold for Python-built events too; the document is what is stored
                    document = self.codec.written(item)  # (most often: made by the kind's writer, one call)
                    if document is None:
                        if not self.codec.registered(type(item)):
                            # It could be stored but never read back: its plugin is not loaded.
                            raise EventError(
                                f"{type(item).kind}: no loaded plugin registers this event kind "
                                f"({type(item).__name__}); is its plugin installed and enabled? "
                                "(没有已加载的插件处理这种事件，请检查插件是否已安装并启用)")
                        document = self.codec.checked_dict(item)
                        written = False
                    decoded.append((item, n, document))
                else:
                    # (a document already as stored: itself, and whether a kind's writer would have made it)
                    event, document, as_written = self.codec.read_written(item)
                    if document is not None:
                        if copy:
                            document = dict(document)  # (only texts, numbers, flags and nulls: a whole copy)
                        written = written and as_written
                    decoded.append((event, n, document))
            except EventError as exc:
                ident = _ident(item, n + 1)
                summary.refused.append(Refusal(str(ident), [str(exc)], _label(labels, n), malformed=True))
        if not _in_canonical_order(decoded):  # (a file in time order, most often: no key made for each)
            decoded.sort(key=lambda pair: event_order(pair[0]))
        if decoded:
            self._check_writable("record events")
        self._record_sorted(decoded, summary, batch_size, progress, written, labels)
        return summary

    def _record_sorted(
        self,
        decoded: list[tuple[Event, int, dict[str, Any] | None]],
        summary: IngestSummary,
        batch_size: int,
        progress: Callable[[int], None] | None,
        written: bool = False,
        labels: Sequence[str] | None = None,
    ) -> None:
        """Judge and store events already in canonical order (see ``record_many``).  Each document in
        ``decoded`` is stored as it is: a batch is appended before the call returns, the store reads the
        documents only while it appends, and none of them is a dict the caller's code can change before
        then (``_record_many`` copies those).  ``written``: every one was made by a kind's writer (``EventCodec.written``) or
        is one it would have made (the caller's, ``EventCodec.read_written``), and the store is told so
        (``EventBatch``).  ``labels``: where each item given came from, by its place (``_label``).

        Every batch is appended on condition that the store is still at the
        position this state reflects.  If another writer got there first
        (``StoreConflict``), the state is brought up to the store and every
        event after the last stored batch is judged again.
        """
        # What the store has confirmed: the next event to judge, the summary
        # so far and the latest accepted time at that point.
        mark: tuple[int, IngestSummary, datetime | None] = (0, _copy(summary), None)
        # The same just after the batch under way (``_flush(soon=True)``): the mark once it is stored.
        sent: tuple[int, IngestSummary, datetime | None] | None = None
        repeats: dict[str, tuple[int, Event, int]] = {}
        engine = cast("Engine", self)
        hooks = self.hooks
        remembered = self._remembered if self.remember_refusals and not self._read_only else None
        if remembered is not None:
            remembered.begin()
        for _ in range(CONFLICT_RETRIES):
            i, kept, latest = mark
            sent = None
            _restore(summary, kept)
            repeats = {ident: seen for ident, seen in repeats.items() if seen[0] < i}
            batch = EventBatch()
            batch_ids: set[str] = set()
            # Every id applied and not forgotten is in _applied; those forgotten (stored before
            # the checkpoint the state came from, or let go since) are asked of the store once
            # per call (PostgreSQL: those beyond the first batch answered while it is judged).
            # An id forgotten during this call and offered again later in it stays in _applied
            # (``_forget``).
            older, later, needed_at = (self._stored_forgotten_soon(decoded, i, batch_size) if self._forgot
                                       else (set(), None, -1))
            # True while the state holds the log only up to the event being judged: after a
            # late event, the stored events are merged in as the later ones are judged
            rewound = False
            try:
                while i < len(decoded):
                    if i == needed_at and later is not None:  # (the ids beyond the first batch, asked
                        older |= later.result()                # while it was judged)
                        needed_at = -1
                    event, place, document = decoded[i]
                    if rewound:
                        self._replay(before=event_order(event))  # the stored events before this one
                        # (none left: the log is whole again, and a replay now would read it from the start)
                        rewound = self._cursor is not None
                    ident = event.id
                    if ident in self._applied or ident in batch_ids or ident in older:
                        repeats.setdefault(ident, (i, event, place))
                        summary.duplicates += 1
                        i += 1
                        continue
                    last = self._last  # (``event_order`` written out: asked for every event)
                    late = (last is not None and (event.time, ident) < last
                            and not self._tied_with_derived(event))
                    if late:
                        # Judge a late event by the state at its own time: rewind
                        # to just before it and decide; the stored events after it
                        # are replayed as the events that follow are judged (a run
                        # of late events costs one rewind and one pass of the log).
                        self._flush(batch, batch_ids)
                        mark, sent = (i, _copy(summary), latest), None
                        again = None if remembered is None else self._refused_again(remembered, decoded, i)
                        if again is not None:  # refused before, and nothing before it changed since
                            summary.refused.append(Refusal(event.id, again, _label(labels, place)))
                            i += 1
                            if progress is not None:
                                progress(i)
                            continue
                        self._mark_late(event.time, event.id)  # (before it is judged: see ``gridcore.timeorder``)
                        self._rewind_to(event)
                        # ids stored anywhere are duplicates, applied yet or not
                        older |= self._stored_among([e.id for e, _, _ in decoded[i + 1:]])
                        rewound = True
                    # (``_advance``'s first step written out: before most events nothing is due)
                    if self._pending:
                        engine._wake()
                    # (``Hooks.on_tick``'s first test written out: every plugin that ticks said nothing of it can
                    # fall due before ``until``, and no registration came since; else the plugins are asked)
                    ticking = hooks.ticking
                    if (ticking is None or not ticking.calm
                            or ticking.generation != hooks.pm.generation  # type: ignore[attr-defined]
                            or (ticking.until is not None and event.time >= ticking.until)):
                        ticked = hooks.on_tick(engine, event.time)
                        if ticked:
                            summary.derived += self._advance(event.time, batch, batch_ids, ticked)
                    reasons = self._refusals(event, offered=True)
                    if reasons:
                        summary.refused.append(Refusal(event.id, reasons, _label(labels, place)))
                        # judged where the log ends: the same verdict while nothing before it changes
                        if (remembered is not None and not late and not rewound
                                and not self._outside_refusals(event)):
                            remembered.note(event, document if document is not None else self.codec.to_dict(event),
                                            reasons, self._position + self._sent_size + len(batch))
                    else:
                        self._apply(event, replaying=False)
                        self._applied.add(ident)
                        if document is None:
                            made = self.codec.written(event)  # (most often: by the kind's writer)
                            if made is not None:
                                batch.add_written(made)
                            else:
                                batch.append(self.codec.to_dict(event))
                        elif written:
                            batch.add_written(document)
                        else:
                            batch.append(document)
                        batch_ids.add(ident)
                        summary.accepted += 1
                        if latest is None or event.time > latest:  # (max: the later time)
                            latest = event.time
                    i += 1
                    if rewound:
                        # stored before events already in the log with a later order
                        self._overtaken = self._overtaken or bool(batch)
                        self._flush(batch, batch_ids)
                        mark, sent = (i, _copy(summary), latest), None
                        rewound = self._cursor is not None
                    elif len(batch) >= batch_size:
                        self._judging = (decoded, i)  # (what ``_forget`` keeps, here or in a checkpoint)
                        if len(self._applied) > self.applied_most:
                            self._settle_append()  # the batch sent before is stored: its ids may go
                            self._forget(batch_ids)
                        # stored while the next events are judged, where the store can; the batch
                        # sent before this one is stored first
                        self._flush(batch, batch_ids, soon=True)
                        mark, sent = sent or mark, (i, _copy(summary), latest)
                        if self._position + self._sent_size - self._checkpointed >= self.checkpoint_every:
                            self._checkpoint_after_write(self.checkpoint_every)
                        self._judging = None
                        if self._sent is None:  # stored already (or by the checkpoint, first)
                            mark, sent = sent, None
                    if progress is not None:
                        progress(i)
                if rewound:
                    self._replay()  # the rest of the log, after the last event judged
                if latest is not None:
                    # what the last events decided on the spot is recorded with them
                    summary.derived += self._advance(latest + DECIDED_WITH, batch, batch_ids)
                self._flush(batch, batch_ids)
                break
            except StoreConflict:
                # Another writer appended first: judge again against what it stored.
                if remembered is not None:
                    remembered.begin()  # (notes made at positions another writer took)
                self._judging = None
                self._settle_append(whatever_came_of_it=True)
                self._rebuild_state()
            except BaseException:
                # Derived state may include events the store never got: rebuild it
                # from what the store really holds.
                self._judging = self._offered = None
                self._settle_append(whatever_came_of_it=True)
                self._rebuild_state()
                raise
        else:
            self._offered = None
            raise StoreError(
                f"the store {self.store.url} kept changing under this writer ({CONFLICT_RETRIES} tries); "
                "nothing after the last stored batch was recorded"
            )
        self._offered = None
        if remembered is not None:
            remembered.write(refusal.event_id for refusal in summary.refused)
        self._checkpoint_after_write()
        self._bound_applied()
        if progress is not None:
            progress(len(decoded))
        self._settle_repeats({ident: (event, _label(labels, place)) for ident, (_, event, place) in repeats.items()},
                             summary)

    def _refused_again(self, remembered: RememberedRefusals,
                       decoded: list[tuple[Event, int, dict[str, Any] | None]], at: int) -> list[str] | None:
        """The reasons the late event ``decoded[at]`` was refused for where the log ended, if that still
        stands (``gridcore.remembered``); None: judge it.  Called with nothing waiting to be stored."""
        event, _, document = decoded[at]
        if self._outside_refusals(event):
            return None  # (what the clock says now is judged now)
        return remembered.reasons(event, document if document is not None else self.codec.to_dict(event),
                                  lambda: [later.id for later, _, _ in decoded[at:]], self._position)

    def _tied_with_derived(self, event: Event) -> bool:
        """True if the only events applied after ``event`` in canonical order are derived ones due at its time.

        Before each event the engine applies what fell due by that event's
        time (``_advance``), so a derived event due at time T is applied before
        every offered event at T, whatever their ids, in an ingest and in a
        replay alike.  An event offered at T after every event offered so far
        therefore lands where a replay would put it: it is not late, and
        nothing need be rewound (a task falling overdue at the very minute of
        the next report used to rewind the whole state to a checkpoint).
        """
        last = self._last
        return (last is not None and last[0] == event.time
                and (self._last_input is None or event_order(event) > self._last_input))

    def _settle_repeats(self, repeats: dict[str, tuple[Event, str]], summary: IngestSummary) -> None:
        """An id seen again is a harmless duplicate only if its content is the same."""
        items = list(repeats.items())
        for start in range(0, len(items), 1000):
            chunk = items[start : start + 1000]
            stored = self.store.find([ident for ident, _ in chunk])
            for ident, (event, label) in chunk:
                if ident not in stored:
                    continue  # decided in memory only (a read-only replay): nothing to compare
                try:
                    before = self.codec.from_dict(stored[ident])
                except EventError:
                    continue
                differing = _differences(before, event)
                if differing:
                    summary.duplicates -= 1
                    reason = (
                        f"conflicts with the stored event {ident}: same id, different "
                        f"{', '.join(differing)} (an event never changes; give a new event a new id; "
                        "事件编号已存在但内容不同，新事件请用新编号)"
                    )
                    summary.refused.append(Refusal(ident, [reason], label))

    def tick(self, now: datetime | None = None) -> list[Event]:
        """Advance time to ``now`` and record every derived event that is due.

        Firing is exactly-once and deterministic: derived events carry the time
        they fell due, not the time of the tick.  Returns the new events.
        """
        when = require_aware(now or self.clock.now())
        self._check_writable("tick")
        if isinstance(self.clock, FixedClock) and when > self.clock.now():
            self.clock.set(when)
        with fewer_full_collections():
            return self._tick(when)

    def _tick(self, when: datetime) -> list[Event]:
        for _ in range(CONFLICT_RETRIES):
            batch = EventBatch()
            ids: set[str] = set()
            try:
                self._advance(when, batch, ids)
                fired = [self.codec.from_dict(doc) for doc in batch]
                self._flush(batch, ids)
                self._checkpoint_after_write()
                self._bound_applied()
                return fired
            except StoreConflict:
                self._rebuild_state()  # another writer may have derived them first
            except BaseException:
                self._rebuild_state()
                raise
        raise StoreError(f"the store {self.store.url} kept changing under this writer ({CONFLICT_RETRIES} tries)")

    def _flush(self, batch: EventBatch, batch_ids: set[str], *, soon: bool = False) -> None:
        """Append ``batch`` if the store is still at ``_position`` (else ``StoreConflict``).

        The batch sent before (``soon``) is stored first.  With ``soon``, where
        the store can (``append_soon``: PostgreSQL, SQLite), the batch is only sent: the
        caller judges the next events while the server stores it, and the next
        ``_flush`` (or ``_settle_append``) waits for it, moves ``_position`` and
        raises its ``StoreConflict`` or ``StoreError``.  Only ``_record_sorted``
        sends, and it settles before it returns, so outside it ``_position`` is
        always what the store confirmed.
        """
        self._settle_append()
        if not batch:
            return
        if self._read_only:
            # A read-only engine keeps what it derives in memory only.
            batch.clear()
            batch_ids.clear()
            return
        # what plugins hand the store between checkpoints (sealed parts), written before the batch: no
        # longer held in memory until the next checkpoint (a document written so and never named by a
        # checkpoint is harmless: it is stored under the hash of its content)
        append_soon = getattr(self.store, "append_soon", None) if soon else None
        holding = getattr(self.store, "holding", None) if append_soon is not None else None
        if holding is not None:
            # (PostgreSQL: what they write is sent with the batch, from the store's thread, before it)
            with holding():
                self.hooks.on_flush(cast("Engine", self))
        else:
            self.hooks.on_flush(cast("Engine", self))
        if not self._position and not self._time_order.kept:
            timeorder.keep(self.store)  # (the store's first events: it keeps whether they come in time order)
            self._time_order = attrs.evolve(self._time_order, kept=True)
            self._late_since = self._time_order.since
        try:
            if append_soon is not None:
                self._sent, self._sent_size = append_soon(batch, expected=self._position), len(batch)
                self._sent_ids = set(batch_ids)
            else:
                stored = self.store.append(batch, expected=self._position)
                self._position += stored
                self._stored_here += stored
                if stored != len(batch):
                    self._check_kept(stored, batch_ids)
        except StoreError:
            raise
        except OSError as exc:
            raise StoreError(f"could not write to {self.store.url}: {exc}") from exc
        batch.clear()
        batch_ids.clear()

    def _check_kept(self, stored: int, ids: set[str]) -> None:
        """Raise ``StoreError`` unless every event of a batch the store said it kept ``stored`` of is stored.

        Every event of a batch was new when it was judged: its id in no earlier batch, not among the events
        applied, not in the store, the store still at the position the state reflects (``expected``).  Only
        a derived event may be stored already (another writer derived the same one, from the same events,
        while this one caught up: the store keeps it once); any other shortfall (a trigger that skips rows,
        a store taking another id as the same one, a document that no longer says what was judged) would
        leave the plugins' state holding events the log has not.  The caller is told, and the state is
        rebuilt from what the store holds (``_record_sorted``, ``_tick``)."""
        missing = sorted(set(ids) - self._stored_among(sorted(ids)))
        if missing:
            named = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise StoreError(
                f"the store {self.store.url} did not keep {len(missing)} of the {len(ids)} events of a batch"
                f" ({named}; it said {stored} were new): something in the store or between the engine and the"
                " store skipped them; nothing stored was lost, the engine's state was rebuilt from what the store"
                " holds, and they can be offered again once the cause is found"
                f" (存储没有保存一批 {len(ids)} 个事件中的 {len(missing)} 个：{named}；已按存储中的内容重建状态，"
                "查明原因后可重新提交)")

    def _settle_append(self, *, whatever_came_of_it: bool = False) -> None:
        """Wait for the batch ``_flush`` sent, if any: ``_position`` moves by what it stored, or its error is
        raised.  ``whatever_came_of_it``: after another error, only wait (the state is then rebuilt from
        what the store holds, with the batch or without it)."""
        sent, size, ids, self._sent, self._sent_size = self._sent, self._sent_size, self._sent_ids, None, 0
        if sent is None:
            return
        try:
            stored = sent.result()
            self._position += stored
            self._stored_here += stored
            if stored != size and not whatever_came_of_it:
                self._check_kept(stored, ids)
        except (StoreError, OSError) as exc:
            if whatever_came_of_it:
                return
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"could not write to {self.store.url}: {exc}") from exc


def _in_canonical_order(decoded: list[tuple[Event, int, dict[str, Any] | None]]) -> bool:
    """True if the events of ``decoded`` never go back in ``event_order`` (sorting them would change
    nothing: the sort is stable), asked without making an order's tuple for each."""
    if not decoded:
        return True
    last = decoded[0][0]
    time, ident = last.time, last.id
    for item in decoded:
        event = item[0]
        now = event.time
        if now < time or (now == time and event.id < ident):
            return False
        time, ident = now, event.id
    return True


def _label(labels: Sequence[str] | None, place: int) -> str:
    """Where the item at ``place`` among those given to ``record_many`` came from (its ``sources``; "" if they
    do not say)."""
    return labels[place] if labels is not None and place < len(labels) else ""


def _copy(summary: IngestSummary) -> IngestSummary:
    return IngestSummary(summary.accepted, summary.duplicates, summary.derived, list(summary.refused))


def _restore(summary: IngestSummary, kept: IngestSummary) -> None:
    summary.accepted, summary.duplicates, summary.derived = kept.accepted, kept.duplicates, kept.derived
    summary.refused[:] = kept.refused


def _differences(stored: Event, given: Event) -> list[str]:
    """The fields in which two events of one id differ (the kind first if it does)."""
    if type(stored) is not type(given):
        return [f"kind ({type(stored).kind} stored, {type(given).kind} given)"]
    return [
        field.name
        for field in attrs.fields(type(stored))
        if getattr(stored, field.name) != getattr(given, field.name)
    ]


def _ident(item: object, n: int) -> str:
    """The id to name a refused item by: its own if it is short text, else its number."""
    ident = item.id if isinstance(item, Event) else item.get("id") if isinstance(item, Mapping) else None
    if isinstance(ident, str) and 0 < len(ident) <= 200 and ident.isprintable():
        return ident
    return f"#{n}"
