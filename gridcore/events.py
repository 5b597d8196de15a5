"""The facts of daily work, as frozen attrs classes.

Every event has an ``id`` (unique in a store; appending it twice is a no-op), a
timezone-aware ``time``, an ``actor`` (the member who did or recorded it, or
``"system"`` for events the engine derives on ``tick``) and a ``node`` (the cell
of the hierarchy it happened in).  Each class has a ``kind`` string used as the
tag in JSON documents.

The core defines the facts listed here; plugins add their own event classes
through the ``gridcore_register_event_types`` hook.  Facts carry no policy: what
an activity is worth, when an incident moves up or how a grid is rated is
decided by the rulesets and plugins, never here.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

import attrs
from attrs import field, frozen

SYSTEM_ACTOR = "system"


def _non_empty(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


# Times outside these years are typing mistakes (and would overflow date arithmetic).
FIRST_YEAR, LAST_YEAR = 1900, 2200
# No quantity in daily work comes near this; larger numbers are mistakes.
LARGEST_AMOUNT = 1_000_000


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{attribute.name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must carry a time zone, e.g. 2025-03-01T09:00:00+08:00")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{attribute.name} {value.isoformat()} is not between {FIRST_YEAR} and {LAST_YEAR}")


def _between(low: float, high: float) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{attribute.name} must be between {low:g} and {high:g}, got {value!r}")

    return check


def _not_negative(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not 0 <= value <= LARGEST_AMOUNT:  # also refuses NaN
        if math.isnan(value) or value > LARGEST_AMOUNT:
            raise ValueError(f"{attribute.name} must be a number from 0 to {LARGEST_AMOUNT:,}, got {value!r}")
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@frozen(kw_only=True)
class Event:
    """Base of every event: who did what, where, when."""

    kind: ClassVar[str] = "event"
    #: True for events the engine derives itself (on ``tick``); a what-if replay
    #: drops them and lets the other ruleset derive its own.
    derived: ClassVar[bool] = False

    id: str = field(validator=_non_empty)
    time: datetime = field(validator=_aware)
    actor: str = field(validator=_non_empty)
    node: str = field(validator=_non_empty)


# ---------------------------------------------------------------- daily work


@frozen(kw_only=True)
class ActivityRecorded(Event):
    """A member took part in an activity (volunteer service, clean-up, party study, ...).

    ``activity`` is the activity's name as the community's ruleset spells it.
    ``member`` is who took part (defaults to the actor, who may have recorded it
    for someone else).  ``hours`` and ``quantity`` feed per-hour and per-unit rules.
    """

    kind: ClassVar[str] = "activity_recorded"
    activity: str = field(validator=_non_empty)
    member: str | None = None
    hours: float = field(default=0.0, validator=_not_negative)
    quantity: float = field(default=1.0, validator=_not_negative)
    note: str = ""

    @property
    def participant(self) -> str:
        """The member who took part: ``member`` if given, else the actor."""
        return self.member or self.actor


@frozen(kw_only=True)
class PatrolLogged(Event):
    """A gridworker walked their cell and logged it (巡查走访)."""

    kind: ClassVar[str] = "patrol_logged"
    minutes: int = field(default=0, validator=_not_negative)
    visits: int = field(default=0, validator=_not_negative)
    hazards_found: int = field(default=0, validator=_not_negative)
    note: str = ""


# ---------------------------------------------------------------- incidents


@frozen(kw_only=True)
class IncidentEvent(Event):
    """Base of every event about one incident, named by ``incident``."""

    kind: ClassVar[str] = "incident_event"
    incident: str = field(validator=_non_empty)


@frozen(kw_only=True)
class IncidentReported(IncidentEvent):
    """A hazard or problem was found on patrol or reported by a resident.

    ``severity`` runs from 1 (minor) to 5 (grave). ``place`` is an optional place
    id (building, address) inside ``node``; ``channel`` says how it came in.
    """

    kind: ClassVar[str] = "incident_reported"
    category: str = field(validator=_non_empty)
    severity: int = field(default=1, validator=_between(1, 5))
    place: str | None = None
    channel: str = "patrol"
    key_person: bool = False
    description: str = ""


@frozen(kw_only=True)
class IncidentAccepted(IncidentEvent):
    """Someone responsible at the incident's current level took it on."""

    kind: ClassVar[str] = "incident_accepted"


@frozen(kw_only=True)
class IncidentHandlingStarted(IncidentEvent):
    """Handling began (on site, consultation held)."""

    kind: ClassVar[str] = "incident_handling_started"
    note: str = ""


@frozen(kw_only=True)
class IncidentPaused(IncidentEvent):
    """The clock stops: waiting for the resident, for parts, ..."""

    kind: ClassVar[str] = "incident_paused"
    reason: str = field(validator=_non_empty)


@frozen(kw_only=True)
class IncidentResumed(IncidentEvent):
    """The clock runs again after a pause."""

    kind: ClassVar[str] = "incident_resumed"


@frozen(kw_only=True)
class IncidentEscalated(IncidentEvent):
    """The incident moved up a level, or out to a line department.

    Usually derived by the escalation plugin on ``tick`` (actor ``system``) or
    recorded by a handler who "blows the whistle".  ``to_node`` is the node now
    responsible; ``department`` is set when it was routed to a line department.
    ``rule`` names the rule (``file:line``) that decided, ``reason`` the facts.
    """

    kind: ClassVar[str] = "incident_escalated"
    to_node: str = field(validator=_non_empty)
    department: str | None = None
    reason: str = ""
    rule: str = ""


@frozen(kw_only=True)
class IncidentResolved(IncidentEvent):
    """The handler says the problem is solved."""

    kind: ClassVar[str] = "incident_resolved"
    note: str = ""


@frozen(kw_only=True)
class IncidentVerified(IncidentEvent):
    """The verifier checked the result with the residents' satisfaction score (1-5)."""

    kind: ClassVar[str] = "incident_verified"
    satisfaction: int = field(validator=_between(1, 5))
    note: str = ""


@frozen(kw_only=True)
class SatisfactionRated(IncidentEvent):
    """A resident (the reporter or someone in the cell) rated the outcome (1-5)."""

    kind: ClassVar[str] = "satisfaction_rated"
    score: int = field(validator=_between(1, 5))


@frozen(kw_only=True)
class IncidentReopened(IncidentEvent):
    """An unsatisfied verification or a resident's complaint reopened the incident."""

    kind: ClassVar[str] = "incident_reopened"
    reason: str = ""


@frozen(kw_only=True)
class IncidentClosed(IncidentEvent):
    """The loop is closed."""

    kind: ClassVar[str] = "incident_closed"


# ---------------------------------------------------------------- points


@frozen(kw_only=True)
class PointsRedeemed(Event):
    """A member spent points on an item of the rewards list."""

    kind: ClassVar[str] = "points_redeemed"
    reward: str = field(validator=_non_empty)
    quantity: int = field(default=1, validator=_between(1, 1_000_000))
    member: str | None = None

    @property
    def redeemer(self) -> str:
        """The member whose points are spent: ``member`` if given, else the actor."""
        return self.member or self.actor


# ---------------------------------------------------------------- population


@frozen(kw_only=True)
class ResidentRegistered(Event):
    """A resident (or floating-population member) was registered in a unit."""

    kind: ClassVar[str] = "resident_registered"
    person: str = field(validator=_non_empty)
    name: str = ""
    floating: bool = False
    key_person: bool = False
    special_group: str | None = None
    party_member: bool = False


@frozen(kw_only=True)
class ResidentMoved(Event):
    """A registered resident moved; ``node`` is the new cell, ``from_node`` the old."""

    kind: ClassVar[str] = "resident_moved"
    person: str = field(validator=_non_empty)
    from_node: str | None = None


CORE_EVENT_TYPES: tuple[type[Event], ...] = (
    ActivityRecorded,
    PatrolLogged,
    IncidentReported,
    IncidentAccepted,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentResumed,
    IncidentEscalated,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
    IncidentReopened,
    IncidentClosed,
    PointsRedeemed,
    ResidentRegistered,
    ResidentMoved,
)


def event_order(event: Event) -> tuple[datetime, str]:
    """The canonical order of events: by time, then by id (ties never depend on arrival)."""
    return (event.time, event.id)
