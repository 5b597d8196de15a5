"""What the points plugin remembers besides the ledger: claims, incidents, what was spent.

Each keeps only what a later event can still read: claims of the current day
or still running (to spot the same activity claimed twice), incidents not yet
settled, counters of the current period only.  Claims and counters leave when
time passes them, whoever they belong to: each is queued by the moment after
which no later event can read it, and ``prune`` (called by the state with
every event's time) drops those whose moment came, so a member who claims or
redeems once and never again leaves nothing behind.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import field

from gridcore.classes import define
from gridcore.codec import read_time

from .facts import IncidentRecord
from .ledger import time_text, utc_key


def claim_end(start: datetime, hours: float) -> datetime:
    """``start + timedelta(hours=hours)``: when a claim of ``hours`` from ``start`` ends.

    One object per (``start`` object, hours) of the last few thousand asked:
    an activity's end is worked out to check it and again to book it, and the
    events of a busy minute share their time (and most their hours), so the
    claims share one end, whose ``utc_key`` is then looked up, not worked out.
    """
    key = (id(start), hours)
    found = _ENDS.get(key)
    if found is None or found[0] is not start:
        if len(_ENDS) >= 4096:
            _ENDS.clear()
        span = _SPANS.get(hours)
        if span is None:
            if len(_SPANS) >= 256:
                _SPANS.clear()
            span = _SPANS[hours] = timedelta(hours=hours)
        found = _ENDS[key] = (start, start + span)
    return found[1]


#: by (``id`` of a start, hours): the start (kept, so its id is not reused while it is here) and ``claim_end``
_ENDS: dict[tuple[int, float], tuple[datetime, datetime]] = {}
#: ``timedelta(hours=hours)`` by hours (records repeat a few; equal hours, as 2 and 2.0, give equal spans)
_SPANS: dict[float, timedelta] = {}


#: An activity a member was credited for (to spot the same one claimed twice): its event's id, its start, its
#: end, its day's label, and the moment (a ``utc_key``) after which no later claim can duplicate it (``Claims``).
#: A tuple, not a class: one is kept for each activity until its day is over, and a tuple of texts, times and a
#: span is made without a call and is an object the garbage collector stops walking once it has looked at it
#: (an instance of a class, as a claim was until 2026-12-07, it walked in every collection of its generation)
Claim = tuple[str, datetime, datetime, str, timedelta]


class Claims:
    """Credited claims per (member, activity) that a later claim may still duplicate.

    Claims arrive in canonical (time) order.  A later claim starting at ``t``
    is a duplicate of an earlier one on the same day (window ``day``) or
    overlapping it in time (window ``overlap``), so a claim can go once its day
    is over and it ended before ``t``.
    """

    def __init__(self) -> None:
        #: the claims kept of each (member, activity), in time order: a list, or the claim itself while it is
        #: the only one (most keys: a list of one for each was an object the garbage collector walked while kept)
        self.by_activity: dict[tuple[str, str], list[Claim] | Claim] = {}
        #: claims added so far (``prune`` only forgets: no claim a check found none of came since)
        self.added = 0
        #: the moments (``utc_key``s) claims kept can go at, each once: a heap (most claims of a day go
        #: at its end, so a claim costs a list append, not a push and a pop of its own)
        self.due: list[timedelta] = []
        #: the (member, activity) keys of ``by_activity`` with a claim that can go at each of those moments
        self._going: dict[timedelta, list[tuple[str, str]]] = {}

    def add(self, member: str, activity: str, event_id: str, start: datetime, end: datetime, day: str,
            day_end: timedelta) -> None:
        """Remember a credited claim from ``start`` to ``end`` on the day labelled ``day`` (which ends at
        ``day_end``, a ``utc_key``), forgetting those no later claim can duplicate."""
        goes = utc_key(end)
        if goes < day_end:  # noqa: PLR1730  # (``max``, without its call: most claims end within their day)
            goes = day_end
        claim = (event_id, start, end, day, goes)
        key = (member, activity)
        earlier = self.by_activity.get(key)
        if earlier is None:  # (most claims: the member's first of the activity still kept)
            self.by_activity[key] = claim
        else:
            # (those of its day, running past its start, or starting with it; a claim is (id, start, end, day, goes))
            kept = [old for old in _listed(earlier) if old[3] == day or old[2] > start or old[1] == start]
            kept.append(claim)
            self.by_activity[key] = kept if len(kept) > 1 else claim
        self.added += 1
        going = self._going.get(goes)  # (``_going_at`` written out: one claim per activity)
        if going is None:
            going = self._going[goes] = []
            heapq.heappush(self.due, goes)
        going.append(key)

    def _going_at(self, when: timedelta) -> list[tuple[str, str]]:
        """The keys of the claims that can go at ``when`` (a ``utc_key``), the moment queued if new."""
        going = self._going.get(when)
        if going is None:
            going = self._going[when] = []
            heapq.heappush(self.due, when)
        return going

    def prune(self, until: timedelta) -> None:
        """Forget the claims no claim starting at ``until`` (a ``utc_key``) or later can duplicate.

        Such a claim's day is over (a later claim is on a later day) and it
        ended by ``until`` (a later claim neither overlaps it nor starts with it):
        every claim whose moment (its last field) came, of each key queued at a
        moment that came.
        """
        expiry = self.due
        while expiry and expiry[0] <= until:
            for key in self._going.pop(heapq.heappop(expiry)):
                claims = self.by_activity.get(key)
                if claims is None:
                    continue
                if not isinstance(claims, list):  # (the one claim of its key)
                    if claims[4] <= until:
                        del self.by_activity[key]
                    continue
                kept = [claim for claim in claims if claim[4] > until]
                if not kept:
                    del self.by_activity[key]
                elif len(kept) < len(claims):
                    self.by_activity[key] = kept

    @classmethod
    def restore(cls, rows: Sequence[Sequence[Any]], day_end: Callable[[str], datetime]) -> Claims:
        """The claims a checkpoint saved (``dump``), queued (``day_end``: the end of a day by its label)."""
        claims = cls()
        for member, activity, kept in rows:
            key = (str(member), str(activity))
            made: list[Claim] = []
            for ident, start, end, day in kept:
                begun, ended = read_time(start), read_time(end)
                goes = max(utc_key(ended), utc_key(day_end(str(day))))
                made.append((str(ident), begun, ended, str(day), goes))
                claims._going_at(goes).append(key)
            claims.by_activity[key] = made
        return claims

    def dump(self) -> list[list[Any]]:
        """The claims as a checkpoint saves them: ``[member, activity, [[event id, start, end, day], ...]]`` by
        (member, activity)."""
        return [[member, activity, [[ident, time_text(begun), time_text(ended), day]
                                    for ident, begun, ended, day, _ in _listed(claims)]]
                for (member, activity), claims in sorted(self.by_activity.items())]

    def duplicate_of(self, member: str, activity: str, event_id: str, start: datetime, end: datetime,
                     day: str, window: str) -> str | None:
        """The id of an earlier claim of ``activity`` by ``member`` in the window, if any."""
        found = self.by_activity.get((member, activity))
        if not found:
            return None  # (most claims: the member's first of the activity kept)
        claims = _listed(found)
        if window == "day":
            # The first claim of that day (they are kept in time order).
            for ident, _, _, claimed, _ in claims:
                if claimed == day and ident != event_id:
                    return ident
            return None
        if window == "overlap":
            for ident, begun, ended, _, _ in claims:
                if ident != event_id and ((begun < end and start < ended) or begun == start):
                    return ident
        return None

    def copy(self) -> Claims:
        """An independent copy."""
        copied = Claims()
        copied.by_activity = {key: list(claims) if isinstance(claims, list) else claims
                              for key, claims in self.by_activity.items()}
        copied.due = list(self.due)
        copied._going = {when: list(going) for when, going in self._going.items()}
        return copied


def _listed(claims: list[Claim] | Claim) -> Sequence[Claim]:
    """The claims a value of ``Claims.by_activity`` holds: the list, or the one claim alone."""
    return claims if isinstance(claims, list) else (claims,)


@define
class IncidentTrack:
    """What the points plugin remembers of an incident (from the incident events)."""

    id: str
    reporter: str
    node: str
    reported: datetime
    category: str
    severity: int
    channel: str
    key_person: bool
    resolver: str | None = None
    satisfaction: int | None = None
    ratings: list[int] = field(factory=list)
    verified: bool = False

    def record(self, level: str, now: datetime) -> IncidentRecord:
        """The ``incident`` record rules read."""
        return IncidentRecord(
            id=self.id,
            category=self.category,
            severity=self.severity,
            level=level,
            key_person=self.key_person,
            channel=self.channel,
            age=now - self.reported,
        )

    @property
    def rating(self) -> float | None:
        """The mean of residents' satisfaction ratings, if any."""
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    def dump(self) -> list[Any]:
        """The track as a JSON list of its fields in their order (a dormant one's, sealed.py)."""
        return [self.id, self.reporter, self.node, self.reported.isoformat(), self.category, self.severity,
                self.channel, self.key_person, self.resolver, self.satisfaction, list(self.ratings), self.verified]

    @classmethod
    def load(cls, doc: Sequence[Any]) -> IncidentTrack:
        """The track ``dump`` wrote."""
        (ident, reporter, node, reported, category, severity, channel, key_person, resolver, satisfaction,
         ratings, verified) = doc
        return cls(ident, reporter, node, read_time(reported), category, severity, channel,
                   key_person, resolver, satisfaction, list(ratings), verified)


class PeriodCounter:
    """Amounts per key in the current period only (limits per member, budgets per grid).

    Events come in time order, so a count for an earlier period is never read
    again: a new label replaces it, and ``prune`` drops it once its period has
    ended (the key's last item names its period kind).
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], tuple[str, int]] = {}
        #: (end of the period counted as a ``utc_key``, key, label) of each count: a heap
        self.ends: list[tuple[timedelta, tuple[str, ...], str]] = []

    def get(self, key: tuple[str, ...], label: str) -> int:
        """The amount counted for ``key`` in the period labelled ``label``."""
        was = self.counts.get(key)
        return was[1] if was is not None and was[0] == label else 0

    def add(self, key: tuple[str, ...], label: str, amount: int, end: timedelta) -> int:
        """Count ``amount`` more for ``key`` in ``label`` (a period ending at ``end``, a ``utc_key``); the new total."""
        was = self.counts.get(key)
        if was is not None and was[0] == label:
            total = was[1] + amount
        else:
            total = amount
            heapq.heappush(self.ends, (end, key, label))
        self.counts[key] = (label, total)
        return total

    def prune(self, until: timedelta) -> None:
        """Drop the counts of periods that ended by ``until`` (a ``utc_key``: no later event reads them)."""
        ends = self.ends
        while ends and ends[0][0] <= until:
            _, key, label = heapq.heappop(ends)
            was = self.counts.get(key)
            if was is not None and was[0] == label:
                del self.counts[key]

    def restored(self, end: Callable[[str, str], datetime]) -> None:
        """Queue the counts a checkpoint restored (``end``: a period's end by its kind and label)."""
        self.ends = [(utc_key(end(key[-1], label)), key, label) for key, (label, _) in self.counts.items()]
        heapq.heapify(self.ends)

    def copy(self) -> PeriodCounter:
        """An independent copy."""
        copied = PeriodCounter()
        copied.counts = dict(self.counts)
        copied.ends = list(self.ends)
        return copied
