"""What the points plugin remembers besides the ledger: claims, incidents, what was spent.

Each keeps only what a later event can still read: claims of the current day
or still running (to spot the same activity claimed twice), incidents not yet
settled, counters of the current period only.
"""

from __future__ import annotations

from datetime import datetime

from attrs import define, field

from .facts import IncidentRecord


@define
class Claim:
    """An activity a member was credited for (to spot the same one claimed twice)."""

    event_id: str
    start: datetime
    end: datetime
    day: str


class Claims:
    """Credited claims per (member, activity) that a later claim may still duplicate.

    Claims arrive in canonical (time) order.  A later claim starting at ``t``
    is a duplicate of an earlier one on the same day (window ``day``) or
    overlapping it in time (window ``overlap``), so a claim can go once its day
    is over and it ended before ``t``.
    """

    def __init__(self) -> None:
        self.by_activity: dict[tuple[str, str], list[Claim]] = {}

    def add(self, member: str, activity: str, claim: Claim) -> None:
        """Remember a credited claim, forgetting those no later claim can duplicate."""
        key = (member, activity)
        kept = [
            old for old in self.by_activity.get(key, ())
            if old.day == claim.day or old.end > claim.start or old.start == claim.start
        ]
        kept.append(claim)
        self.by_activity[key] = kept

    def duplicate_of(self, member: str, activity: str, event_id: str, start: datetime, end: datetime,
                     day: str, window: str) -> str | None:
        """The id of an earlier claim of ``activity`` by ``member`` in the window, if any."""
        claims = self.by_activity.get((member, activity), [])
        if window == "day":
            # The first claim of that day (they are kept in time order).
            return next((c.event_id for c in claims if c.day == day and c.event_id != event_id), None)
        if window == "overlap":
            for claim in claims:
                if claim.event_id != event_id and (
                    (claim.start < end and start < claim.end) or claim.start == start
                ):
                    return claim.event_id
        return None

    def copy(self) -> Claims:
        """An independent copy."""
        copied = Claims()
        copied.by_activity = {key: list(claims) for key, claims in self.by_activity.items()}
        return copied


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


class PeriodCounter:
    """Amounts per key in the current period only (limits per member, budgets per grid).

    Events come in time order, so a count for an earlier period is never read
    again: a new label replaces it.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], tuple[str, int]] = {}

    def get(self, key: tuple[str, ...], label: str) -> int:
        """The amount counted for ``key`` in the period labelled ``label``."""
        was = self.counts.get(key)
        return was[1] if was is not None and was[0] == label else 0

    def add(self, key: tuple[str, ...], label: str, amount: int) -> int:
        """Count ``amount`` more for ``key`` in ``label``; the new total."""
        total = self.get(key, label) + amount
        self.counts[key] = (label, total)
        return total

    def copy(self) -> PeriodCounter:
        """An independent copy."""
        copied = PeriodCounter()
        copied.counts = dict(self.counts)
        return copied
