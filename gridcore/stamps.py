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
every new ``PeriodStamps`` (a state rebuilt, restored from a checkpoint,
rewound for a late event), takes the next one.  So two stamps of a period are
equal only if no note since reached it and the state was not rebuilt
meanwhile; stamps are never stored and mean nothing in another process.
Notes are kept by the hour (an hour whose start is before ``end`` counts for
it: exact for periods that begin and end on the hour, and on the safe side for
any other end): a state a year old keeps at most some 9,000 of them, fewer as
later notes make earlier ones moot.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left
from datetime import datetime

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

    __slots__ = ("_base", "_hours", "_numbers")

    def __init__(self) -> None:
        #: what a period no note reached answers: new for every new state
        self._base = next(_COUNTER)
        self._hours = array("q")
        self._numbers = array("q")

    def note(self, when: datetime) -> None:
        """The state changed in a way that may change what a read of any period ending after ``when`` answers."""
        hour = int(when.timestamp() // _HOUR)
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

    def stamp(self, end: datetime) -> int:
        """A number that changes whenever a note reaches a period ending at ``end`` (or the state is new)."""
        seconds = end.timestamp()
        limit = -int(-seconds // _HOUR)  # the hours that start before ``end``: those below this
        at = bisect_left(self._hours, limit) - 1
        return self._numbers[at] if at >= 0 else self._base


__all__ = ["PeriodStamps"]
