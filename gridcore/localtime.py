"""An event's local time and date in the community's zone, worked out once per time object.

The core and every plugin judge an event by its local date (the ruleset in
force that day, the day's periods, the assessment's day) and some by its local
time (a rule's weekday and hour).  Each asked ``when.astimezone(tz)`` of its own
(about 4,000 instructions with a ``ZoneInfo``, with its ``date()``), so a new
time object was converted two or three times per event.  ``LocalTimes``
converts it once: ``Engine.local_time`` and ``Engine.local_date`` are its two
methods, what a plugin calls (``engine.local_date(event.time)``) as the
built-in ones do.

The answer is exactly ``when.astimezone(zone)`` and its ``.date()``, with the
zone the community's at the time of asking (a fold's second time, a time in a
gap, a fixed offset: whatever ``astimezone`` says).  It is kept for the last
time object asked, by identity: the events of a busy minute share one time
object (``gridcore.codec`` reads each time text once), and the core asks
first, before the plugins' hooks.  Keeping the object keeps its ``id`` from
being reused; an equal time held by another object is converted again (two
equal aware times may differ in zone or fold, and so in local time).

A new time object's date is mostly told without converting it: between two of
its changes of offset (its *transitions*) a zone's offset is fixed, so a time
at a fixed offset (the codec's ``timezone``) equal to the zone's in the span
between the transitions around the last time converted, and in that span, is on
the zone's clock already: its own ``date()`` is the local date (about 500
instructions).  The transitions are those of the zone's file (``ZoneInfo``:
read by ``zoneinfo``'s own reader of the TZif format, as ``ZoneInfo`` reads
them); after its last one a zone whose rule has no summer time keeps its
offset; a zone with summer time there, or one not read from a file, converts
every new time.  A fixed-offset ``timezone`` never changes offset.

Such a time is written on the zone's clock already (``on_clock``): its own
``date()`` and ``time()`` are its local ones, what a caller that needs the wall
clock and not a local ``datetime`` (a credit's expiry, months on) reads instead
of converting it.  Except just after a change that set the clocks back: there
the local times repeat the hour before it, and ``astimezone`` marks them as
the fold's second (``fold=1``), so that stretch is left out.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

#: the ``date`` type (in ``LocalTimes``' body its own ``date`` method is that name)
_Date = date


class LocalTimes:
    """The local time and date of a moment in a zone read when a new time object is asked (``zone``)."""

    __slots__ = ("_clock_start", "_day", "_end", "_end_day", "_local", "_start", "_when", "_zone", "_zone_now")

    def __init__(self, zone: Callable[[], tzinfo]) -> None:
        #: the zone to convert to, asked on each new time object (an engine's community may be replaced)
        self._zone = zone
        #: the last time object asked, its local time (None: not worked out) and its local date
        self._when: datetime | None = None
        self._local: datetime | None = None
        self._day = date.min
        #: the span around the last time converted in which the zone's offset is that time's own
        #: (its tzinfo ``_zone_now``, a fixed offset; None: no span kept): from ``_start`` to before ``_end``
        self._zone_now: tzinfo | None = None
        self._start = datetime.min
        self._end = datetime.min
        #: ``_end``'s own date (its wall clock's, at the span's offset)
        self._end_day = date.min
        #: where in that span the local times stop repeating those before its start (a fold's second times
        #: when the clocks went back there): from here to ``_end`` a time's own fields are its local ones
        self._clock_start = datetime.max

    def time(self, when: datetime) -> datetime:
        """``when.astimezone(zone)``: the same moment on the community's clock."""
        if when is self._when and self._local is not None:
            return self._local
        return self._convert(when)

    def date(self, when: datetime) -> date:
        """``when.astimezone(zone).date()``: the community's calendar day ``when`` falls on."""
        if when is self._when:
            return self._day
        # (a time of the fixed offset the zone has in the span kept, and in it: the same wall clock; two
        # times holding one tzinfo compare by their fields)
        if when.tzinfo is self._zone_now and self._start <= when < self._end:
            day = self._day = when.date()
            self._when = when
            self._local = None  # (not converted: ``time`` converts it if asked)
            return day
        self._convert(when)
        return self._day

    def on_clock(self, when: datetime) -> bool:
        """Whether ``when`` is written on the zone's clock: its own ``date()`` and ``time()`` are exactly those
        of ``when.astimezone(zone)`` (fold 0).  False where that is not known without converting it.

        True for a time at the fixed offset the zone has in the span kept (that of the last time converted),
        in it, and past the times of that span that repeat those before it (none, unless the clocks went back
        at its start).
        """
        return when.tzinfo is self._zone_now and self._clock_start <= when < self._end and not when.fold

    def on_clock_until(self, when: datetime, day: _Date) -> bool:
        """Whether ``when`` is on the zone's clock (``on_clock``) and so is every time of the later ``day`` at
        ``when``'s offset: ``day`` is after ``when``'s date and before the date the span kept ends on, so the
        zone's offset all that day is ``when``'s (a credit's expiry, put months on on the zone's clock, is
        then ``when`` whole days on, and the zone need not be asked for its offset there).
        """
        return self.on_clock(when) and when.date() < day < self._end_day

    def forget(self) -> None:
        """Convert the next time asked again (the zone may have changed)."""
        self._when = None
        self._zone_now = None

    def _convert(self, when: datetime) -> datetime:
        zone = self._zone()
        local = when.astimezone(zone)
        self._day = local.date()
        self._local = local
        self._when = when
        if not (when.tzinfo is self._zone_now and self._start <= when < self._end):
            self._keep_span(when, zone, local)  # (a time in the span kept, asked for its local time: kept)
        return local

    def _keep_span(self, when: datetime, zone: tzinfo, local: datetime) -> None:
        """Keep the span of ``zone``'s offset around ``when`` if ``when`` holds a fixed offset equal to it (else
        the span kept stays: it is a fact of the zone, and times of other kinds are asked in between)."""
        own = when.tzinfo
        if type(own) is not timezone or type(when) is not datetime or own.utcoffset(None) != local.utcoffset():
            return
        span = offset_span(zone, when)
        if span is not None:
            self._start = _at(span[0], own, datetime.min)
            self._end = _at(span[1], own, datetime.max)
            self._end_day = self._end.date()
            self._zone_now = own
            self._clock_start = self._start
            if span[0] is not None:
                # (the clocks set back at the span's start by what the offset fell: the local times of so
                # long after it are the fold's second ones, ``astimezone`` says)
                now = own.utcoffset(None)
                try:
                    before = (self._start - _SECOND).astimezone(zone).utcoffset()
                    if before is not None and now is not None and before > now:
                        self._clock_start = self._start + (before - now)
                except OverflowError:  # (a span at the ends of what a ``datetime`` holds: none before or after)
                    self._clock_start = datetime.max.replace(tzinfo=own)


#: a POSIX TZ rule of standard time only (no summer time: the offset after a zone's last transition is fixed)
_STANDARD_ONLY = re.compile(r"(?:[A-Za-z]{3,}|<[+\-0-9A-Za-z]+>)[+-]?\d{1,3}(?::\d{1,2}){0,2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
#: each zone's transitions (UTC seconds) and whether its offset is fixed after the last (None: not read)
_TRANSITIONS: dict[tzinfo, tuple[tuple[int, ...], bool] | None] = {}


def offset_span(zone: tzinfo, when: datetime) -> tuple[int | None, int | None] | None:
    """The span of UTC seconds around ``when`` between two transitions of ``zone`` (its offset fixed in it:
    from the first, inclusive, to the second, exclusive; None: unbounded on that side), or None if not known."""
    if type(zone) is timezone:
        return (None, None)
    if zone in _TRANSITIONS:
        known = _TRANSITIONS[zone]
    else:
        known = _TRANSITIONS[zone] = _read_transitions(zone)
    if known is None:
        return None
    changes, fixed_after = known
    at = bisect_right(changes, (when - _EPOCH) // _SECOND)
    if at == len(changes) and not fixed_after:
        return None
    return (changes[at - 1] if at else None, changes[at] if at < len(changes) else None)


def _read_transitions(zone: tzinfo) -> tuple[tuple[int, ...], bool] | None:
    """``zone``'s transitions from its TZif file, read as ``ZoneInfo`` reads it (None: not a ``ZoneInfo`` of a
    file found, or not readable)."""
    if type(zone) is not ZoneInfo or zone.key is None:
        return None
    try:
        from zoneinfo import _common, _tzpath  # (the reader ``ZoneInfo`` itself uses)

        path = _tzpath.find_tzfile(zone.key)
        with (open(path, "rb") if path is not None else _common.load_tzdata(zone.key)) as source:
            _, changes, _, _, _, rule = _common.load_data(source)
    except (ImportError, AttributeError, OSError, ValueError, TypeError):
        return None
    rule_text = rule.decode("ascii", "replace") if isinstance(rule, bytes) else str(rule or "")
    return (tuple(int(change) for change in changes), bool(_STANDARD_ONLY.fullmatch(rule_text)))


def _at(seconds: int | None, zone: timezone, beyond: datetime) -> datetime:
    """The moment ``seconds`` after 1970 UTC in ``zone``; ``beyond`` in ``zone`` (the least or the greatest
    ``datetime``) for an unbounded side or a moment past what a ``datetime`` holds."""
    if seconds is not None:
        try:
            return (_EPOCH + timedelta(seconds=seconds)).astimezone(zone)
        except OverflowError:
            pass
    return beyond.replace(tzinfo=zone)
