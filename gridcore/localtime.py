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
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo


class LocalTimes:
    """The local time and date of a moment in a zone read when a new time object is asked (``zone``)."""

    __slots__ = ("_day", "_local", "_when", "_zone")

    def __init__(self, zone: Callable[[], tzinfo]) -> None:
        #: the zone to convert to, asked on each new time object (an engine's community may be replaced)
        self._zone = zone
        #: the last time object asked, its local time and its local date
        self._when: datetime | None = None
        self._local = datetime.min
        self._day = date.min

    def time(self, when: datetime) -> datetime:
        """``when.astimezone(zone)``: the same moment on the community's clock."""
        if when is self._when:
            return self._local
        return self._convert(when)

    def date(self, when: datetime) -> date:
        """``when.astimezone(zone).date()``: the community's calendar day ``when`` falls on."""
        if when is self._when:
            return self._day
        self._convert(when)
        return self._day

    def forget(self) -> None:
        """Convert the next time asked again (the zone may have changed)."""
        self._when = None

    def _convert(self, when: datetime) -> datetime:
        local = when.astimezone(self._zone())
        self._day = local.date()
        self._local = local
        self._when = when
        return local
