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
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs
from attrs import field

from .classes import frozen
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
    #: Chinese first: the kind's name as staff say it (``巡查走访``) and what the docstring's first
    #: paragraph says, in Chinese; shown beside the English wherever the kind is described to staff
    #: (the service's OpenAPI description: ``x-title-zh``, ``x-description-zh``). Each kind says its own:
    #: a subclass's kind is not described by its parent's.
    title_zh: ClassVar[str] = ""
    doc_zh: ClassVar[str] = ""
    #: The Chinese of fields, by name: a class's own, then its bases' (these: every event's), then the
    #: names the rules language gives event fields (``gridcore.rules.schema``); ``event_field_zh`` looks.
    fields_zh: ClassVar[Mapping[str, str]] = {
        "kind": "记录类别", "id": "记录编号", "time": "时间", "actor": "操作人", "node": "节点编号",
    }

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
    title_zh: ClassVar[str] = "活动记录"
    doc_zh: ClassVar[str] = "成员参加了一项活动（志愿服务、环境整治、党员学习等）。"
    fields_zh: ClassVar[Mapping[str, str]] = {"member": "参加人", "note": "说明"}
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
    title_zh: ClassVar[str] = "巡查走访"
    doc_zh: ClassVar[str] = "网格员巡查了自己的网格并作了记录。"
    fields_zh: ClassVar[Mapping[str, str]] = {"note": "说明"}
    minutes: int = field(default=0, validator=not_negative)
    visits: int = field(default=0, validator=not_negative)
    hazards_found: int = field(default=0, validator=not_negative)
    note: str = ""


# ---------------------------------------------------------------- population


@frozen(kw_only=True)
class ResidentRegistered(Event):
    """A resident (or floating-population member) was registered in a unit."""

    kind: ClassVar[str] = "resident_registered"
    title_zh: ClassVar[str] = "居民登记"
    doc_zh: ClassVar[str] = "一位居民（或流动人口）在某单元登记。"
    fields_zh: ClassVar[Mapping[str, str]] = {"person": "居民编号", "household": "户号"}
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
    title_zh: ClassVar[str] = "居民迁移"
    doc_zh: ClassVar[str] = "已登记的居民搬迁；node 为新的网格，from_node 为原来的网格。"
    fields_zh: ClassVar[Mapping[str, str]] = {"person": "居民编号", "from_node": "原节点编号"}
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
    title_zh: ClassVar[str] = "迁入"
    doc_zh: ClassVar[str] = "一户迁入某个最小网格（node），已知地址时在 place。"
    fields_zh: ClassVar[Mapping[str, str]] = {"household": "户号", "name": "户名", "place": "地址编号", "size": "户人口", "floating": "流动户"}
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
    title_zh: ClassVar[str] = "迁出"
    doc_zh: ClassVar[str] = "在册的一户迁出社区；node 为其原来所在的网格。"
    fields_zh: ClassVar[Mapping[str, str]] = {"household": "户号", "note": "说明"}
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
    title_zh: ClassVar[str] = "分户"
    doc_zh: ClassVar[str] = "一户中有人分出去另立一户。"
    fields_zh: ClassVar[Mapping[str, str]] = {"household": "原户号", "new_household": "新户号", "name": "新户名", "size": "分出人数", "residents": "随同分出的居民", "place": "地址编号"}
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
    title_zh: ClassVar[str] = "入户走访"
    doc_zh: ClassVar[str] = "成员上门走访一户；node 为该户所在的网格。"
    fields_zh: ClassVar[Mapping[str, str]] = {"household": "户号", "note": "说明"}
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
