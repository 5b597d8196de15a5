"""What the points plugin remembers besides the ledger: claims made and incidents seen."""

from __future__ import annotations

from datetime import datetime

from attrs import define, field

from gridcore_points.facts import IncidentRecord


@define
class Claim:
    """An activity a member was credited for (to spot the same one claimed twice)."""

    event_id: str
    start: datetime
    end: datetime
    day: str


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
    settled: bool = False

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
