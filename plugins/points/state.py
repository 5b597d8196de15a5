"""Per-engine points state: applies events to the ledger, refuses bad ones.

``PointsState`` is attached to each engine as ``"points"`` (see plugin.py).  It
is derived only from the events it is given, in canonical order, under the
ruleset in force at each event's time, so replaying a store rebuilds it
exactly and an event id is never credited twice.

It owns its methods: booking (booking.py) and refusals (checks.py) are mixed
in.  What it keeps is keyed by what is still open (unspent lots, claims of
the current day, unsettled incidents, counters of the current periods); the
history of entries, which statements, boards and explanations read, is in
the store but for its newest part (history.py).  Its checkpoint document
(checkpoint.py) is what is open plus the keys of the history's parts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridcore import EventKinds, Explanation, Outcome, hookimpl
from gridcore.events import ActivityRecorded, Event, ResidentMoved, ResidentRegistered
from gridcore.parts import part_writer
from gridcore_escalation.events import (
    ConsultationHeld,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    RepeatReportJoined,
    SatisfactionRated,
    category_code,
)

from .checks import Checks
from .events import PointsRedeemed, RecognitionAwarded
from .explain import BALANCES, NAME, balances, explain
from .history import COLLECTION
from .ledger import utc_key
from .taskpoints import TaskBooking
from .tracking import IncidentTrack

if TYPE_CHECKING:
    from gridcore import Engine

__all__ = ["BALANCES", "NAME", "PointsState"]

#: the method applying an event (``PointsState._handler``; None: nothing), by (state class, event class)
_HANDLERS: dict[tuple[type, type], Callable[[Any, Any], None] | None] = {}
#: ``_HANDLERS`` has no answer for a pair yet
_UNKNOWN: Any = object()


class PointsState(TaskBooking, Checks):
    """The ledger of one engine, and the hooks that keep it."""

    #: the shape of the document ``gridcore_save_state`` gives (``checkpoint.py``)
    STATE_VERSION = 17  # 17: an activity at a node above a roster member's cell is within their cells (flagged
    # outside them before: a checkpoint by an older version may hold such a claim flagged: replayed); 16: a stored incident step the escalation plugin ignores on replay is not booked
    # (gridcore_validate_stored), so a checkpoint written after such a rewind by an older version may hold it
    # paid: replayed; 15: each account with its first entry's time (14: each history entry with its
    # member's net; 13: repeat reports' tracks in sealed parts; 12: task parts done and missed in sealed parts;
    # 11: settled incidents' ids in sealed parts; 10: the history's oldest parts listed in chapters; 9:
    # an account's head a list, in ASCII; 8: marks by kind, days as steps; 7: lots in sealed parts of the
    # store, by number; 6: accounts as rows built when first used; 5: when each account was advanced; 4: lots
    # and marks packed, past periods dropped)

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        #: ``last_time`` and ``last_order`` as ``_apply`` last saw them, with their ``utc_key``s
        self._seen: tuple[Any, timedelta | None, Any, timedelta | None] = (None, None, None, None)
        #: when the state last changed for each period (``gridcore_period_stamp``)
        self.stamps = engine.period_stamps("points")
        #: ``_HANDLERS``' answers for this state's class, by event class (looked up without a pair made per event)
        self._handlers: dict[type, Callable[[Any, Any], None] | None] = {}

    @hookimpl
    def gridcore_on_ruleset_loaded(self, engine: Engine, ruleset: Any, effective: Any) -> None:
        """A ruleset was put in force: which streak spans can pay is worked out again."""
        self.forget_streak_spans()
        self.forget_policies()

    # ------------------------------------------------------------ validation

    @hookimpl
    def gridcore_event_kinds(self) -> EventKinds:
        """Only activities, redemptions and awards can be refused (``check_event``); every event is booked
        (its time sweeps expiries and periods)."""
        return EventKinds(validate_event=[ActivityRecorded, PointsRedeemed, RecognitionAwarded])

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse duplicate or out-of-cell claims (when the rules say refuse), bad redemptions and awards."""
        if type(event) is ActivityRecorded:  # (``check_event``'s first case, without its call: most events)
            return self.check_activity(event) or None
        return self.check_event(event) or None

    def check_event(self, event: Event) -> list[str]:
        """Every reason to refuse ``event``; empty if the points rules accept it."""
        if isinstance(event, ActivityRecorded):
            return self.check_activity(event)
        if isinstance(event, (PointsRedeemed, RecognitionAwarded)):
            if self.last_time is not None and event.time < self.last_time:
                return self.check_late(event, self.later_events(event))
            # Judged at its own place (in order, or on a state rewound to just before it):
            # refused there, it is refused whatever comes after it (``check_late`` judges it
            # first on a copy of this very state), so the store is asked for the later events
            # only for one that passes.  A file offered again re-judges the events refused the
            # first time on a rewound state: each would otherwise read the rest of the log.
            reasons = (self.check_redemption(event) if isinstance(event, PointsRedeemed)
                       else self.check_recognition(event))
            if reasons:
                return reasons
            future = self.later_events(event)
            return self.check_late(event, future) if future else []
        return []

    # ------------------------------------------------------------ applying events

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Book what ``event`` earns, spends or flags."""
        before = self.last_time
        # a resident's name and home are read as they are now, for any period: a move, or a registration
        # of someone registered before, reaches every period (a newcomer has no entry before it)
        everywhere = type(event) is not ActivityRecorded and (isinstance(event, ResidentMoved) or (
            isinstance(event, ResidentRegistered) and (event.person in self.homes or event.person in self.names)))
        # (``apply``, written out: a call less for every event)
        self.sweep(event.time)
        try:
            self._apply(event)
        finally:
            if self._touched:  # (an event that booked on no account queues nothing: no call)
                self.queue_touched()
        if everywhere:
            self.stamps.note_all()
        else:
            # what the event books is dated at its time; what falls due before it (expiries, a period's
            # end) is swept as it comes, dated after the event before
            self.stamps.note(event.time if before is None or event.time < before else before)

    @hookimpl
    def gridcore_period_stamp(self, end: datetime) -> int:
        """When the points booked last changed for a period ending at ``end`` (``gridcore.stamps``)."""
        return self.stamps.stamp(end)

    def apply(self, event: Event) -> None:
        """Book what ``event`` earns, spends or flags (events come in canonical order)."""
        self.sweep(event.time)
        try:
            self._apply(event)
        finally:
            self.queue_touched()

    def _apply(self, event: Event) -> None:
        # Compared as ``utc_key``s (``sweep`` worked out the event's): aware times of
        # different zones cost a zone lookup on each side of every comparison.
        now = self.now_key if self.now_key is not None else utc_key(event.time)
        last_time, last_order = self.last_time, self.last_order
        seen = self._seen
        if seen[0] is not last_time or seen[2] is not last_order:
            seen = self._seen = (last_time, None if last_time is None else utc_key(last_time),
                                 last_order, None if last_order is None else utc_key(last_order[0]))
        time_key, order_key = seen[1], seen[3]
        moved = False
        if time_key is None or now > time_key:
            self.last_time = last_time = event.time
            time_key, moved = now, True
        # (``(now, event.id) > (order_key, last id)`` without the two tuples)
        if order_key is None or last_order is None or now > order_key or (
                now == order_key and event.id > last_order[1]):
            self.last_order = last_order = (event.time, event.id)
            order_key, moved = now, True
        if moved:
            self._seen = (last_time, time_key, last_order, order_key)
        kind = type(event)
        handler = self._handlers.get(kind, _UNKNOWN)
        if handler is _UNKNOWN:
            key = (type(self), kind)
            handler = _HANDLERS.get(key, _UNKNOWN)
            if handler is _UNKNOWN:
                handler = _HANDLERS[key] = self._handler(kind)
            self._handlers[kind] = handler
        if handler is not None:
            handler(self, event)

    @classmethod
    def _handler(cls, kind: type[Event]) -> Callable[[Any, Any], None] | None:
        """The method that applies an event of class ``kind`` (None: nothing), found once per class.

        The first of these that ``kind`` is a subclass of; an event of a class
        that is none of them goes to ``on_task``, which books only the tasks
        plugin's events.
        """
        for handled, name in (
            (ActivityRecorded, "on_activity"),
            (PointsRedeemed, "on_redemption"),
            (RecognitionAwarded, "on_recognition"),
            (ResidentRegistered, "_on_registered"),
            (ResidentMoved, "_on_moved"),
            (IncidentReported, "_on_reported"),
            (IncidentResolved, "_on_resolved"),
            (IncidentVerified, "_on_verified"),
            (SatisfactionRated, "_on_rated"),
            (RepeatReportJoined, "_on_joined"),
            (IncidentClosed, "on_closed"),
            (ConsultationHeld, "on_consultation"),
        ):
            if issubclass(kind, handled):
                return getattr(cls, name)  # type: ignore[no-any-return]
        return cls.on_task if cls.books_task(kind) else None

    def _on_registered(self, event: ResidentRegistered) -> None:
        self.homes[event.person] = event.node
        self.party[event.person] = event.party_member
        if event.name:
            self.names[event.person] = event.name

    def _on_moved(self, event: ResidentMoved) -> None:
        self.homes[event.person] = event.node

    def _on_reported(self, event: IncidentReported) -> None:
        ident = event.incident
        # (a second report of an id opens nothing: open, settled, or a dormant repeat report)
        if ident not in self.incidents and ident not in self.settled and ident not in self.dormant:
            self.incidents[ident] = IncidentTrack(
                ident,
                event.actor,
                event.node,
                event.time,
                # by its code, however the report wrote it (水管漏水 is leaking_pipe)
                category_code(self.engine.ruleset_at(event.time, event.node), event.category),
                event.severity,
                event.channel,
                event.key_person,
            )

    def _on_resolved(self, event: IncidentResolved) -> None:
        track = self.track(event.incident)
        if track is not None:
            track.resolver = event.actor

    def _on_verified(self, event: IncidentVerified) -> None:
        track = self.track(event.incident)
        if track is not None:
            track.verified = True
            track.satisfaction = event.satisfaction

    def _on_rated(self, event: SatisfactionRated) -> None:
        track = self.track(event.incident)
        if track is not None:
            track.ratings.append(event.score)

    def _on_joined(self, event: RepeatReportJoined) -> None:
        # A repeat report is resolved and closed with the incident it joined, never on its own: its
        # track leaves memory (taken back by ``track`` if a replayed event ever reaches it).
        track = self.incidents.pop(event.report, None)
        if track is not None:
            self.dormant.put(event.report, track.dump())

    # ------------------------------------------------------------ checkpoints

    @hookimpl
    def gridcore_on_flush(self, engine: Engine) -> None:
        """The sealed parts of the history and of the sets of ids (settled incidents, task parts) stored with
        the engine's next batch, not held until the checkpoint."""
        if self.history.waiting:
            self.history.store_sealed(part_writer(engine.store, COLLECTION))
        for ids in self.sealed_sets():
            if ids.waiting:
                ids.store_sealed(part_writer(engine.store, ids.collection))

    @hookimpl
    def gridcore_save_state(self, engine: Engine) -> dict[str, Any]:
        """What is open, and the keys of the history's parts (stored first), for a checkpoint."""
        from .checkpoint import save

        return save(self, engine)

    @hookimpl
    def gridcore_restore_state(self, engine: Engine, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved (the history's parts are read from the store when asked for)."""
        from .checkpoint import restore

        restore(self, document)

    # ------------------------------------------------------------ decisions

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str, lang: str) -> Explanation | None:
        """Explain ``points:<entry id>``: the entry, its rule(s) and inputs (headed in Chinese for ``zh``)."""
        return explain(self, decision, lang)

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each member's balance now, with the rules that produced it."""
        return balances(self)
