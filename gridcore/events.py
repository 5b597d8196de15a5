"""The facts of daily work, as frozen attrs classes.

Every event has an ``id`` (unique in a store; appending it twice is a no-op), a
timezone-aware ``time``, an ``actor`` (the member who did or recorded it, or
``"system"`` for events the engine derives on ``tick``) and a ``node`` (the cell
of the hierarchy it happened in).  Each class has a ``kind`` string used as the
tag in JSON documents.

The core defines only the facts every plugin shares: who took part in an
activity (``ActivityRecorded``), a gridworker's patrol (``PatrolLogged``) and
the population of the cells (``ResidentRegistered``, ``ResidentMoved``) and
its households (``HouseholdMovedIn``, ``HouseholdMovedOut``, ``HouseholdSplit``,
``HouseholdVisited``; see ``gridcore.register``).  Every
other kind belongs to the plugin whose domain it is and is registered through
the ``gridcore_register_event_types`` hook, exactly as a third party's would be:
the incident lifecycle is the escalation plugin's (``gridcore_escalation.events``),
redemptions and recognition awards are the points plugin's
(``gridcore_points.events``).  Facts carry no policy: what an activity is worth,
when an incident moves up or how a grid is rated is decided by the rulesets and
plugins, never here.

The validators below (``non_empty``, ``between``, ``not_negative``) are public
so plugins' event classes check their fields the way the core's do.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

import attrs
from attrs import field, frozen

from .errors import InvalidTypeError, InvalidValueError

SYSTEM_ACTOR = "system"


def non_empty(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    """attrs validator: a string with something in it."""
    if not isinstance(value, str) or not value or value.isspace():  # (``not value.strip()``, with no copy)
        raise InvalidValueError(f"{attribute.name} must be a non-empty string (不能为空)")


# Times outside these years are typing mistakes (and would overflow date arithmetic).
FIRST_YEAR, LAST_YEAR = 1900, 2200
# No quantity in daily work comes near this; larger numbers are mistakes.
LARGEST_AMOUNT = 1_000_000


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime) -> None:
    if not isinstance(value, datetime):
        raise InvalidTypeError(f"{attribute.name} must be a datetime (应为时间)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(f"{attribute.name} must carry a time zone, e.g. 2025-03-01T09:00:00+08:00 "
                                "(时间须带时区)")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidValueError(f"{attribute.name} {value.isoformat()} is not between {FIRST_YEAR} and {LAST_YEAR} "
                                f"(年份须在 {FIRST_YEAR} 至 {LAST_YEAR} 之间)")


def between(low: float, high: float) -> Any:
    """attrs validator: a number from ``low`` to ``high`` (``None`` passes, for optional fields)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not low <= value <= high:
            raise InvalidValueError(f"{attribute.name} must be between {low:g} and {high:g}, got {value!r} "
                                    f"(须在 {low:g} 至 {high:g} 之间)")

    return check


def not_negative(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    """attrs validator: a number from 0 to ``LARGEST_AMOUNT``."""
    if isinstance(value, bool) or not 0 <= value <= LARGEST_AMOUNT:  # also refuses NaN
        if math.isnan(value) or value > LARGEST_AMOUNT:
            raise InvalidValueError(f"{attribute.name} must be a number from 0 to {LARGEST_AMOUNT:,}, got {value!r} "
                                    f"(须为 0 至 {LARGEST_AMOUNT:,} 的数)")
        raise InvalidValueError(f"{attribute.name} must not be negative, got {value!r} (不能为负数)")


@frozen(kw_only=True)
class Event:
    """Base of every event: who did what, where, when."""

    kind: ClassVar[str] = "event"
    #: True for events the engine derives itself (on ``tick``); a what-if replay
    #: drops them and lets the other ruleset derive its own.
    derived: ClassVar[bool] = False
    #: Fields (besides ``actor``) that name a person the engine must know (a roster
    #: member or a registered resident); an event naming someone unknown is refused.
    people: ClassVar[tuple[str, ...]] = ()

    id: str = field(validator=non_empty)
    time: datetime = field(validator=_aware)
    actor: str = field(validator=non_empty)
    node: str = field(validator=non_empty)


# ---------------------------------------------------------------- daily work


@frozen(kw_only=True)
class ActivityRecorded(Event):
    """A member took part in an activity (volunteer service, clean-up, party study, ...).

    ``activity`` is the activity's name as the community's ruleset spells it.
    ``member`` is who took part (defaults to the actor, who may have recorded it
    for someone else).  ``hours`` and ``quantity`` feed per-hour and per-unit rules.
    """

    kind: ClassVar[str] = "activity_recorded"
    people: ClassVar[tuple[str, ...]] = ("member",)
    activity: str = field(validator=non_empty)
    member: str | None = None
    hours: float = field(default=0.0, validator=not_negative)
    quantity: float = field(default=1.0, validator=not_negative)
    note: str = ""

    @property
    def participant(self) -> str:
        """The member who took part: ``member`` if given, else the actor."""
        return self.member or self.actor


@frozen(kw_only=True)
class PatrolLogged(Event):
    """A gridworker walked their cell and logged it (巡查走访)."""

    kind: ClassVar[str] = "patrol_logged"
    minutes: int = field(default=0, validator=not_negative)
    visits: int = field(default=0, validator=not_negative)
    hazards_found: int = field(default=0, validator=not_negative)
    note: str = ""


# ---------------------------------------------------------------- population


@frozen(kw_only=True)
class ResidentRegistered(Event):
    """A resident (or floating-population member) was registered in a unit."""

    kind: ClassVar[str] = "resident_registered"
    person: str = field(validator=non_empty)
    name: str = ""
    floating: bool = False
    key_person: bool = False
    special_group: str | None = None
    party_member: bool = False
    #: the household (户) on record they belong to, if known; ``node`` must be its cell
    household: str | None = None


@frozen(kw_only=True)
class ResidentMoved(Event):
    """A registered resident moved; ``node`` is the new cell, ``from_node`` the old."""

    kind: ClassVar[str] = "resident_moved"
    person: str = field(validator=non_empty)
    from_node: str | None = None


def _people(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise InvalidValueError(f"{attribute.name} must be a whole number from 1 to 1000, got {value!r} "
                                "(须为 1 至 1000 的整数)")


@frozen(kw_only=True)
class HouseholdMovedIn(Event):
    """A household moved into a leaf cell (``node``), at ``place`` if known (迁入)."""

    kind: ClassVar[str] = "household_moved_in"
    household: str = field(validator=non_empty)
    name: str = field(validator=non_empty)
    place: str | None = None
    #: how many people the household has (户人口)
    size: int = field(default=1, validator=_people)
    floating: bool = False


@frozen(kw_only=True)
class HouseholdMovedOut(Event):
    """A household on record left the community (迁出); ``node`` is the cell it lived in."""

    kind: ClassVar[str] = "household_moved_out"
    household: str = field(validator=non_empty)
    note: str = ""


@frozen(kw_only=True)
class HouseholdSplit(Event):
    """Part of a household became a household of its own (分户).

    ``size`` people of ``household`` move to ``new_household`` (named ``name``),
    in the leaf cell ``node`` at ``place`` if given; ``residents`` are the
    named residents who go with them.
    """

    kind: ClassVar[str] = "household_split"
    household: str = field(validator=non_empty)
    new_household: str = field(validator=non_empty)
    name: str = field(validator=non_empty)
    size: int = field(default=1, validator=_people)
    residents: tuple[str, ...] = field(default=(), converter=tuple)
    place: str | None = None


@frozen(kw_only=True)
class HouseholdVisited(Event):
    """A member visited a household at home (入户走访); ``node`` is the household's cell."""

    kind: ClassVar[str] = "household_visited"
    household: str = field(validator=non_empty)
    note: str = ""


CORE_EVENT_TYPES: tuple[type[Event], ...] = (
    ActivityRecorded,
    PatrolLogged,
    ResidentRegistered,
    ResidentMoved,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
)


def event_order(event: Event) -> tuple[datetime, str]:
    """The canonical order of events: by time, then by id (ties never depend on arrival)."""
    return (event.time, event.id)
