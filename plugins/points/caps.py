"""Points a member earned toward caps in one scope, in the current period of each kind.

Every credit under a cap counts toward its scope (an activity, or ``*`` for
all points) in the day, week, month, quarter and year containing it, and a
cap reads the count of one kind for the period it is in.  Rather than adding
each credit to five counters, ``CapCount`` keeps a running total of the
scope and, per kind, the total when that kind's current period began: a
credit adds to the total once, and only a credit on another day than the
last looks at the kinds (those whose period changed begin again).  A kind
whose period ended is never read again (``count`` finds its label past); the
account drops its counters once every period they count in ended
(``Account.advance``), and leaves out what ended when it is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from gridcore.periods import KINDS

_V = TypeVar("_V")

#: Each kind's place in a ``CapCount``'s lists.
PLACE = {kind: n for n, kind in enumerate(KINDS)}
_DAY, _WEEK, _YEAR = PLACE["day"], PLACE["week"], PLACE["year"]
#: the kinds whose periods of one day end in this order (a month ends with or before its quarter, and
#: that with or before its year); the day ends first of all, the week after the day
_NESTED = (PLACE["month"], PLACE["quarter"], _YEAR)


def _step(day: object, periods: dict[str, tuple[str, datetime]], ends: dict[str, timedelta],
          ) -> tuple[tuple[tuple[int, str, timedelta], ...], timedelta | None]:
    """From the periods of ``day`` to those of another day (``Calendar.periods_and_ends``, one object per
    day): ``(place, label, end)`` of each kind whose period differs, and the earliest of those ends (None:
    none), worked out once per pair of days (every counter moving on between them asks the same)."""
    key = (id(day), id(periods))
    found = _STEPS.get(key)
    if found is None or found[0] is not day or found[1] is not periods:
        if len(_STEPS) >= 4096:
            _STEPS.clear()
        before: Any = day
        changed = []
        began: timedelta | None = None
        for n, kind in enumerate(KINDS):
            label = periods[kind][0]
            if before[kind][0] != label:
                end = ends[kind]
                changed.append((n, label, end))
                if began is None or end < began:
                    began = end
        found = _STEPS[key] = (day, periods, tuple(changed), began)
    return found[2], found[3]


#: ``_step`` by the ``id``s of the two days' periods: those objects (kept, so their ids are not reused
#: while here), the kinds that changed and the earliest of their ends
_STEPS: dict[tuple[int, int], tuple[object, object, tuple[tuple[int, str, timedelta], ...], timedelta | None]] = {}


class CapCount:
    """Points counted toward caps in one scope: per period kind, the current period's label, end and count."""

    __slots__ = ("day", "ends", "first", "labels", "last", "starts", "total")

    def __init__(self) -> None:
        #: the calendar's periods of the day of the last credit (``Calendar.periods_and_ends``; None: not known)
        self.day: object | None = None
        self.total = 0
        #: per kind (``KINDS`` order): the current period's label (None: none, or dropped), its end as a
        #: ``utc_key``, and ``total`` when it began.  Tuples, replaced whole when one changes: the labels and
        #: ends of a day's periods are one pair of tuples for every counter that counted on that day
        #: (``_day_tuples``), so a counter's first credit makes no container of its own (lists made three
        #: for each, objects the garbage collector then walked as long as the counter stayed)
        self.labels: tuple[str | None, ...] = _NO_LABELS
        self.ends: tuple[timedelta, ...] = _NO_ENDS
        self.starts: tuple[int, ...] = _ZEROS
        #: the earliest and the latest end among the current periods (None: none), kept as they change
        self.first: timedelta | None = None
        self.last: timedelta | None = None

    def add(self, amount: int, periods: dict[str, tuple[str, datetime]], ends: dict[str, timedelta],
            ) -> timedelta | None:
        """Count ``amount`` in the periods of a day (``Calendar.periods_and_ends``).

        Returns the earliest end of the periods that began with it (None: none began).
        """
        began: timedelta | None = None
        day = self.day
        if day is not periods:
            total = self.total
            if day is None:
                # (a new or restored counter: the kinds whose label differs begin again; then every kind holds
                # the period of the new day, its labels and ends those of that day's periods, shared)
                found = _day_tuples(periods, ends)
                labels, day_ends = found[1], found[2]
                held = self.labels
                if held != labels:
                    starts = list(self.starts)
                    for n, label in enumerate(labels):
                        if held[n] != label:
                            starts[n] = total
                            end = day_ends[n]
                            if began is None or end < began:
                                began = end
                    self.starts = tuple(starts)
                self.labels, self.ends = labels, day_ends
            else:
                # (every kind holds the period of ``day``: the kinds whose period differs on the new day
                # begin again; then every kind holds the period of the new day, its labels and ends those
                # of that day's periods)
                changed, began = _step(day, periods, ends)
                if changed:
                    starts = list(self.starts)
                    for n, _, _ in changed:
                        starts[n] = total
                    self.starts = tuple(starts)
                    found = _day_tuples(periods, ends)
                    self.labels, self.ends = found[1], found[2]
            self.day = periods
            if began is not None:
                # every kind now has its period of this day: the day ends first, and the week or the
                # year last (a month or quarter ends with or before its year; a week may cross it)
                ends_ = self.ends
                self.first = ends_[_DAY]
                week, year = ends_[_WEEK], ends_[_YEAR]
                self.last = year if year > week else week  # noqa: FURB136  # (``max``, without its call)
        self.total += amount
        return began

    @classmethod
    def opened(cls, amount: int, periods: dict[str, tuple[str, datetime]], ends: dict[str, timedelta],
               ) -> CapCount:
        """``CapCount()`` then ``add(amount, periods, ends)``: a scope's first credit, its counter built at once
        from the periods of its day (worked out once per day: every member's first credit of a day asks)."""
        found = _day_tuples(periods, ends)
        count = cls.__new__(cls)
        count.day, count.total = periods, amount
        count.labels, count.ends, count.starts = found[1], found[2], _ZEROS
        count.first, count.last = found[3], found[4]
        return count

    @classmethod
    def opened_two(cls, amount: int, periods: dict[str, tuple[str, datetime]], ends: dict[str, timedelta],
                   ) -> tuple[CapCount, CapCount]:
        """Two counters as ``opened(amount, periods, ends)`` builds each (a new member's first credit: its
        activity's and ``*``'s), the periods of the day looked up once."""
        found = _day_tuples(periods, ends)
        one, two = cls.__new__(cls), cls.__new__(cls)
        one.day = two.day = periods
        one.total = two.total = amount
        one.labels = two.labels = found[1]
        one.ends = two.ends = found[2]
        one.starts = two.starts = _ZEROS
        one.first = two.first = found[3]
        one.last = two.last = found[4]
        return one, two

    def count(self, kind: str, label: str) -> int:
        """Points counted in the period of ``kind`` labelled ``label`` (0 if that is not its current one)."""
        n = PLACE[kind]
        return self.total - self.starts[n] if self.labels[n] == label else 0

    def set(self, kind: str, label: str, points: int, end: timedelta) -> None:
        """Hold ``points`` for the period of ``kind`` labelled ``label``, ending at ``end`` (a restore)."""
        n = PLACE[kind]
        fresh = self.labels[n] is None
        self.labels = _put(self.labels, n, label)
        self.ends = _put(self.ends, n, end)
        self.starts = _put(self.starts, n, self.total - points)
        self.day = None
        if fresh:  # (a kind added, as a restore adds each: the bounds only widen to its end)
            if self.first is None or end < self.first:
                self.first = end
            if self.last is None or end > self.last:
                self.last = end
        else:
            self._bounds()

    def items(self) -> Iterator[tuple[str, str, int, timedelta]]:
        """``(kind, label, points, end)`` of each kind with a current period."""
        for n, label in enumerate(self.labels):
            if label is not None:
                yield KINDS[n], label, self.total - self.starts[n], self.ends[n]

    def drop_ended(self, now: timedelta) -> bool:
        """Drop the kinds whose period ended by ``now``; True if none is left."""
        if self.first is None or self.first > now:
            return self.first is None
        labels, ends = list(self.labels), self.ends
        if self.day is not None:
            # Every kind holds the period of the credits' one day (``add``): the day ended (it ends
            # first), then the month, quarter and year in order, and the week on its own.
            labels[_DAY] = None
            nested = None  # (the earliest end kept among the month, quarter and year)
            for n in _NESTED:
                if ends[n] > now:
                    nested = ends[n]
                    break
                labels[n] = None
            week = ends[_WEEK]
            if week <= now:
                labels[_WEEK] = None
                self.first, self.last = (None, None) if nested is None else (nested, ends[_YEAR])
            elif nested is None:
                self.first = self.last = week
            else:
                self.first, self.last = min(week, nested), max(week, ends[_YEAR])
            self.day = None
            self.labels = tuple(labels)
            return self.first is None
        first = last = None
        for n, label in enumerate(labels):
            if label is not None:
                end = ends[n]
                if end <= now:
                    labels[n] = None
                    continue
                if first is None or end < first:
                    first = end
                if last is None or end > last:
                    last = end
        self.first, self.last = first, last
        self.labels = tuple(labels)
        self.day = None  # (a credit on that day again would find the kinds gone)
        return first is None

    def _bounds(self) -> None:
        ends = [end for end, label in zip(self.ends, self.labels, strict=True) if label is not None]
        self.first = min(ends, default=None)
        self.last = max(ends, default=None)

    def copy(self) -> CapCount:
        """A copy that counts apart from this one."""
        copied = CapCount()
        copied.day, copied.total = self.day, self.total
        copied.labels, copied.ends, copied.starts = self.labels, self.ends, self.starts  # (tuples: shared)
        copied.first, copied.last = self.first, self.last
        return copied


def _day_tuples(periods: dict[str, tuple[str, datetime]], ends: dict[str, timedelta],
                ) -> tuple[object, tuple[str | None, ...], tuple[timedelta, ...], timedelta, timedelta]:
    """The periods of a day (``Calendar.periods_and_ends``, one object per day) as a counter holds them: each
    kind's label and end (tuples, shared by every counter counting on that day), the earliest end and the
    latest (the week's or the year's); worked out once per day (every member's first credit of a day asks)."""
    key = id(periods)
    found = _DAYS.get(key)
    if found is None or found[0] is not periods:
        if len(_DAYS) >= 256:
            _DAYS.clear()
        at = tuple([ends[kind] for kind in KINDS])
        found = (periods, tuple([periods[kind][0] for kind in KINDS]), at, min(at), max(at[_WEEK], at[_YEAR]))
        _DAYS[key] = found
    return found


def _put(values: tuple[_V, ...], n: int, value: _V) -> tuple[_V, ...]:
    """``values`` with its ``n``th item replaced by ``value``."""
    return (*values[:n], value, *values[n + 1:])


#: ``_day_tuples`` by the ``id`` of a day's periods: those periods (kept, so their id is not reused while
#: here), each kind's label and end, the earliest end and the latest (the week's or the year's)
_DAYS: dict[int, tuple[object, tuple[str | None, ...], tuple[timedelta, ...], timedelta, timedelta]] = {}
#: a new counter's labels, ends and starts: no period of any kind
_NO_LABELS: tuple[str | None, ...] = (None,) * len(KINDS)
_NO_ENDS: tuple[timedelta, ...] = (timedelta.min,) * len(KINDS)
_ZEROS: tuple[int, ...] = (0,) * len(KINDS)
