"""Period stamps: when a plugin's state last changed, as a read of one period sees it.

A read of a past period (a roll-up of last month) can be kept while events of
other periods arrive, if every plugin whose state it reads can say whether that
state changed *for that period* since.  A plugin answers
``gridcore_period_stamp`` (``gridcore.hookspecs``) with a value that changes
whenever such a change happens; ``Engine.period_stamp`` gathers them (and says
``None``, "ask the whole log position", when a stateful plugin does not
answer), and the service keys its roll-up cache with them
(``gridcore_app.service.rollups``).

``PeriodStamps`` is the bookkeeping a plugin needs for that, and all the
built-in plugins use: call ``note(when)`` whenever the state changes in a way
that can change what a read of a period ending after ``when`` answers, and
answer the hook with ``stamp(end)``.  ``when`` is the earliest time the change
reaches: an event's own time for a ledger entry booked at it, the report's
time for a step of an incident (a read of the month the incident was reported
in counts how it was closed), the time of the previous event for what is
swept lazily when the next event comes (expiries).

A stamp is a number drawn from one counter of the process: every note, and
every new ``PeriodStamps``, takes the next one.  So two stamps of a period are
equal only if no note since reached it; stamps are never stored and mean
nothing in another process.  Notes are kept by the hour (an hour whose start
is before ``end`` counts for it: exact for periods that begin and end on the
hour, and on the safe side for any other end): a state a year old keeps at
most some 9,000 of them, fewer as later notes make earlier ones moot.

A state built anew (restored from a checkpoint and replayed: a late event
rewinds it, another writer's late event rebuilds it) keeps the stamps of the
periods nothing replayed can have changed, when its plugin takes its
``PeriodStamps`` from the engine (``Engine.period_stamps``, a ``StampBook``):
the state restored holds the events up to the checkpoint, as the state before
did once; the two differ only by what each applied after it, and each note
says how far back that reached.  So the book keeps ``marks`` (the counter's
number when the state held exactly the events up to an order: at each
checkpoint stored, at each rebuild, at the end of a replay), and at a rebuild
from a checkpoint every stamps ``carry`` the number of the newest mark at or
before it: the periods that no note numbered after it reached (the old state's
notes of the events after the checkpoint) keep their stamps, every later
period gets a new one, and the replay's own notes (the late event's, and the
events after it applied again) reach back as they do.  A late event so changes
the stamps of the periods it, or an event after the checkpoint, reaches: its
own period and those after it, and those of the cases and tasks its steps and
the later ones' belong to.  A rebuild from the start, one after another
ruleset or a grown roster, and ``Engine.rebuild``, renew every stamp.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timezone

#: one counter for the whole process: no two notes, and no two ``PeriodStamps``, share a number
_COUNTER = itertools.count(1)
#: notes are kept by the hour (hours since 1970, signed 64-bit)
_HOUR = 3600


class PeriodStamps:
    """When one plugin's state last changed for periods ending after each hour (``note``, ``stamp``).

    Kept as a staircase: hours ascending, each with the number of the last
    note at or after it that a period ending after that hour sees; a note
    makes every later hour's entry moot, so it replaces them.
    """

    __slots__ = ("_base", "_hours", "_last", "_numbers")

    def __init__(self) -> None:
        #: what a period no note reached answers: new for every new state
        self._base = next(_COUNTER)
        self._hours = array("q")
        self._numbers = array("q")
        #: the time object of the last note, whose hour is the last kept (None: none since the staircase changed)
        self._last: datetime | None = None

    def note(self, when: datetime) -> None:
        """The state changed in a way that may change what a read of any period ending after ``when`` answers."""
        if when is self._last:  # (the events of a busy minute share one time object: its hour is the last kept)
            self._numbers[-1] = next(_COUNTER)
            return
        self._last = when
        kept = _HOURS_OF.get(id(when))  # (most notes: a time another plugin noted first)
        hour = kept[1] if kept is not None and kept[0] is when else _hour(when)
        hours = self._hours
        number = next(_COUNTER)
        if hours and hours[-1] >= hour:
            if hours[-1] == hour:  # (most often: the same hour as the note before)
                self._numbers[-1] = number
                return
            cut = bisect_left(hours, hour)
            del hours[cut:]
            del self._numbers[cut:]
        hours.append(hour)
        self._numbers.append(number)

    def note_all(self) -> None:
        """The state changed in a way that may change what a read of any period answers (a name read as it
        is now)."""
        self._base = next(_COUNTER)
        del self._hours[:]
        del self._numbers[:]
        self._last = None

    def carry(self, number: int) -> None:
        """The state was built anew from one that had taken only the notes numbered up to ``number`` (a
        checkpoint's, replayed): the periods that no later note reached keep their stamps, the rest change.

        The later notes are those of the state before (after the checkpoint) and are kept as the hours they
        reached: numbers ascend with the hours, so the first hour whose number is above ``number`` is the
        earliest any of them reached (a note reaching further back would have replaced it).
        """
        if self._base > number:  # built anew or noted everywhere since: every period
            self.note_all()
            return
        self._last = None
        at = bisect_right(self._numbers, number)
        if at == len(self._numbers):
            return  # nothing noted since: as it was then
        hour = self._hours[at]
        del self._hours[at:]
        del self._numbers[at:]
        self._hours.append(hour)
        self._numbers.append(next(_COUNTER))

    def stamp(self, end: datetime) -> int:
        """A number that changes whenever a note reaches a period ending at ``end`` (or the state is new)."""
        seconds = end.timestamp()
        limit = -int(-seconds // _HOUR)  # the hours that start before ``end``: those below this
        at = bisect_left(self._hours, limit) - 1
        return self._numbers[at] if at >= 0 else self._base


#: The hour (``int(when.timestamp() // _HOUR)``) of the times noted most recently, by the time object's
#: ``id``, beside the object itself (held here, so no other object has its ``id`` while it is): several
#: plugins note each event's time, and events come in runs at one minute holding one time object; a
#: time's ``timestamp`` asks its zone for the offset (about 6,000 instructions).  Emptied when full.
_HOURS_OF: dict[int, tuple[datetime, int]] = {}
_MOST_HOURS = 4096
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: 1970-01-01 UTC in the fixed offset ``_hour`` was last asked about (held: its ``tzinfo`` is that object)
_ZONE_EPOCH = _UTC_EPOCH


def _hour(when: datetime) -> int:
    """The hour since 1970 that ``when`` falls in, for a time not in ``_HOURS_OF`` (kept there).

    For a ``datetime`` in a fixed ``timezone``, worked out in whole
    microseconds: the time less 1970-01-01 UTC held in that very zone
    object, subtracted on their fields (neither asked for its offset), what
    ``timestamp`` works out before its float: the same hour, as the float
    of a time at least a second before the next hour cannot reach it; a
    time in that last second (its float may reach the next hour), or in
    another zone, asks ``timestamp``.
    """
    global _ZONE_EPOCH
    zone = when.tzinfo
    hour = -1
    last_second = True
    if type(zone) is timezone and type(when) is datetime:
        epoch = _ZONE_EPOCH
        if epoch.tzinfo is not zone:
            epoch = _ZONE_EPOCH = _UTC_EPOCH.astimezone(zone)
        # (``divmod(when - epoch, timedelta(hours=1))`` on the difference's own fields, its seconds from 0 to 86,399:
        # the timedelta's divmod makes both into microseconds as Python's big integers, about 5,000
        # instructions; its hours are the days' and the seconds' whole hours, and it is in the hour's last
        # second when the seconds past the hour are 3,599, whatever its microseconds)
        since = when - epoch
        seconds = since.seconds
        hour = since.days * 24 + seconds // _HOUR
        last_second = seconds % _HOUR == _HOUR - 1
    if last_second:
        hour = int(when.timestamp() // _HOUR)
    if len(_HOURS_OF) >= _MOST_HOURS:
        _HOURS_OF.clear()
    _HOURS_OF[id(when)] = (when, hour)
    return hour


#: marks a book keeps (a rebuild from a checkpoint older than all of them renews every stamp)
MARKS = 64


class StampBook:
    """One engine's ``PeriodStamps``, by plugin, kept across the states built anew (``carry``).

    ``marks``: (order, number) pairs, orders ascending: when the counter gave
    ``number``, the state held exactly the events up to ``order`` (None: none),
    so every note numbered above it is one of a later event.
    """

    __slots__ = ("_marks", "_stamps")

    def __init__(self) -> None:
        self._stamps: dict[str, PeriodStamps] = {}
        self._marks: list[tuple[tuple[datetime, str] | None, int]] = []

    def of(self, name: str) -> PeriodStamps:
        """Plugin ``name``'s stamps (new the first time)."""
        stamps = self._stamps.get(name)
        if stamps is None:
            stamps = self._stamps[name] = PeriodStamps()
        return stamps

    def mark(self, last: tuple[datetime, str] | None) -> None:
        """The state holds exactly the events up to ``last`` (an event's order; None: no event)."""
        marks = self._marks
        if marks and last is not None and marks[-1][0] is not None and marks[-1][0] > last:
            return  # (only a rebuild goes back: it marks after dropping the later ones)
        marks.append((last, next(_COUNTER)))
        if len(marks) > MARKS:
            del marks[0]

    def rebuilt(self, last: tuple[datetime, str] | None) -> None:
        """The state was built anew from a checkpoint holding the events up to ``last`` (None: from the
        start): each plugin's stamps carry the newest mark at or before it (none: every stamp is new)."""
        kept = [(order, number) for order, number in self._marks
                if order is None or (last is not None and order <= last)]
        for stamps in self._stamps.values():
            if kept and last is not None:
                stamps.carry(kept[-1][1])
            else:
                stamps.note_all()
        self._marks = kept
        self.mark(last)

    def renew(self) -> None:
        """Every stamp is new (the rulesets or the roster changed, or the state is rebuilt from the start)."""
        for stamps in self._stamps.values():
            stamps.note_all()
        self._marks.clear()


__all__ = ["MARKS", "PeriodStamps", "StampBook"]
