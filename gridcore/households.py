"""Households (户) and the people in them: the base a grid is planned by (一标三实).

A ``Household`` sits in one leaf cell, at a place (a standard address, a
building) if known, and says how many people live in it (``people``) and
whether it is a floating (renting, 流动) household.  The people a gridworker
must know by name (三必清: special groups, floating and key persons, and
anyone registered) are ``Resident`` records naming their household.  A
``CareLink`` says a member looks after a household or a whole building
(包联户, a party member at the centre of a cluster of households).

``Counts`` are the planning figures of a cell: households, resident
population, floating population, special groups, key persons; they add up the
tree (``counts_by_node``).

These are plain facts checked when a ``Community`` is built
(``household_problem``, ``resident_problem``, ``care_problem``); events keep
them up to date in ``gridcore.register``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .classes import frozen
from .errors import RosterError
from .hierarchy import Hierarchy
from .roster import Place

#: Households in a single record are bounded: more is a typing mistake.
MOST_PEOPLE = 1000


def _text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RosterError(f"{type(instance).__name__.lower()} {attribute.name} must be non-empty text, got {value!r} (须为非空文字)")


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _flag(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise RosterError(f"{type(instance).__name__.lower()} {attribute.name} must be true or false, got {value!r} (应填 是 或 否)")


def _people(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST_PEOPLE:
        raise RosterError(
            f"household people must be a whole number from 1 to {MOST_PEOPLE}, got {value!r} "
            f"(户人口须为 1 至 {MOST_PEOPLE} 的整数)"
        )


@frozen
class Household:
    """A household (户): where it lives, how many people, floating or not."""

    id: str = attrs.field(validator=_text)
    #: the household's name as staff keep it: usually the head's (户主)
    name: str = attrs.field(validator=_text)
    #: the leaf cell it lives in
    node: str = attrs.field(validator=_text)
    #: its standard address or building, if known (a place in the same cell)
    place: str | None = attrs.field(default=None, validator=_optional_text)
    people: int = attrs.field(default=1, validator=_people)
    #: a floating (renting, not locally registered) household: all its people are floating
    floating: bool = attrs.field(default=False, validator=_flag)


@frozen
class Resident:
    """A person of a household known by name: registered, or one of the people to know."""

    id: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)
    household: str = attrs.field(validator=_text)
    floating: bool = attrs.field(default=False, validator=_flag)
    key_person: bool = attrs.field(default=False, validator=_flag)
    #: the special group (特殊人群) they belong to, e.g. 独居老人, if any
    special_group: str | None = attrs.field(default=None, validator=_optional_text)


@frozen
class CareLink:
    """A member looks after a household, or every household of a building (包联户)."""

    member: str = attrs.field(validator=_text)
    household: str | None = attrs.field(default=None, validator=_optional_text)
    place: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if (self.household is None) == (self.place is None):
            raise RosterError(
                f"care link of member {self.member!r}: name a household or a place, exactly one "
                "(包联对象须为一户或一处楼栋)"
            )

    @property
    def target(self) -> str:
        """The household or place looked after."""
        return self.household if self.household is not None else str(self.place)


@frozen
class Counts:
    """The planning figures of a cell or a subtree."""

    households: int = 0
    population: int = 0
    floating: int = 0
    special: int = 0
    key: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.households + other.households, self.population + other.population,
                      self.floating + other.floating, self.special + other.special, self.key + other.key)

    def describe(self) -> str:
        """``12 households, 36 people (4 floating, 2 special, 1 key)``."""
        return (
            f"{self.households} households, {self.population} people "
            f"({self.floating} floating, {self.special} special, {self.key} key) / "
            f"{self.households}户 {self.population}人"
        )


def household_counts(household: Household, residents: Iterable[Resident]) -> Counts:
    """The counts of one household and its named residents."""
    named = list(residents)
    floating = household.people if household.floating else sum(1 for r in named if r.floating)
    return Counts(
        households=1,
        population=household.people,
        floating=floating,
        special=sum(1 for r in named if r.special_group),
        key=sum(1 for r in named if r.key_person),
    )


def counts_by_node(
    hierarchy: Hierarchy,
    households: Mapping[str, Household],
    residents: Mapping[str, Resident],
) -> dict[str, Counts]:
    """Every node's counts, its subtree included (a node with no household counts zeros)."""
    named: dict[str, list[Resident]] = {}
    for resident in residents.values():
        named.setdefault(resident.household, []).append(resident)
    # Each cell's own households first, then each cell's sum added up its chain once
    # (a district's thousands of households, not each household up the chain).
    own: dict[str, Counts] = {}
    for household in households.values():
        counts = household_counts(household, named.get(household.id, ()))
        own[household.node] = own[household.node] + counts if household.node in own else counts
    totals: dict[str, Counts] = {node.id: Counts() for node in hierarchy}
    for cell, counts in own.items():
        for node in hierarchy.ancestors(cell, include_self=True):
            totals[node.id] = totals[node.id] + counts
    return totals


def household_problem(household: Household, hierarchy: Hierarchy, places: Mapping[str, Place]) -> str | None:
    """Why a household does not fit the community (cell, address), or None."""
    if household.node not in hierarchy:
        return f"household {household.id!r} ({household.name}) in unknown node {household.node!r} (网格不存在)"
    if not hierarchy.is_cell(household.node):
        return (
            f"household {household.id!r} ({household.name}) must sit in a leaf cell, but node "
            f"{household.node!r} has cells below it (户须落在最小网格)"
        )
    if household.place is not None:
        place = places.get(household.place)
        if place is None:
            return f"household {household.id!r} ({household.name}) at unknown place {household.place!r} (地址不存在)"
        if place.node != household.node:
            return (
                f"household {household.id!r} ({household.name}) is in {household.node!r} but its place "
                f"{place.id!r} ({place.name}) is in {place.node!r} (户与地址不在同一网格)"
            )
    return None


def resident_problem(resident: Resident, households: Mapping[str, Household]) -> str | None:
    """Why a named resident does not fit (unknown household), or None."""
    if resident.household not in households:
        return f"resident {resident.id!r} ({resident.name}) of unknown household {resident.household!r} (户不存在)"
    return None


def care_problem(
    link: CareLink,
    members: Mapping[str, Any],
    households: Mapping[str, Household],
    places: Mapping[str, Place],
) -> str | None:
    """Why a care link does not fit (unknown member, household or place), or None."""
    if link.member not in members:
        return f"care link of unknown member {link.member!r} (成员不存在)"
    if link.household is not None and link.household not in households:
        return f"member {link.member!r} looks after unknown household {link.household!r} (户不存在)"
    if link.place is not None and link.place not in places:
        return f"member {link.member!r} looks after unknown place {link.place!r} (楼栋不存在)"
    return None


def crowded(households: Mapping[str, Household], residents: Iterable[Resident]) -> str | None:
    """A household with more named residents than people, described; or None."""
    named: dict[str, int] = {}
    for resident in residents:
        named[resident.household] = named.get(resident.household, 0) + 1
    for ident, count in named.items():
        household = households.get(ident)
        if household is not None and count > household.people:
            return (
                f"household {ident!r} ({household.name}) names {count} residents but has "
                f"{household.people} people (在册成员多于户人口)"
            )
    return None
