"""The household register: the households on record now, kept up to date by events.

It starts from the community's roster (``Community.households`` and named
``residents``) and follows the log: a household moves in
(``HouseholdMovedIn``) or out (``HouseholdMovedOut``), splits
(``HouseholdSplit``), a resident is registered into a household
(``ResidentRegistered`` with ``household``) or moves away
(``ResidentMoved``).  Each change is kept in the household's history.  An
event that does not fit what is on record is refused with a reason in English
and Chinese (``refusals``), before anything changes.

The engine holds one register (``Engine.register``) and rebuilds it with
every other derived state; plugins read it (counts per cell, the households a
member looks after) and never change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs

from .classes import frozen
from .community import Community, care_index
from .events import (
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    ResidentMoved,
    ResidentRegistered,
)
from .households import Counts, Household, Resident, counts_by_node

#: The kinds of event the register follows; it ignores every other.
_ABOUT_IT = (HouseholdMovedIn, HouseholdMovedOut, HouseholdSplit, HouseholdVisited, ResidentRegistered, ResidentMoved)
#: Whether events of a class are about the register (a subclass of one of ``_ABOUT_IT``), by class: asked
#: for every event judged and applied, most of them about something else (``about_register``).
_ABOUT: dict[type, bool] = {}


def about_register(cls: type) -> bool:
    """True if events of class ``cls`` can change the register or be refused by it."""
    about = _ABOUT.get(cls)
    if about is None:
        about = _ABOUT[cls] = issubclass(cls, _ABOUT_IT)
    return about


@frozen
class Change:
    """One line of a household's history: when, which event, what changed."""

    time: datetime | None  # None for what the roster gave
    event: str  # the event id ("roster" for the roster)
    text: str


class HouseholdRegister:
    """Households and named residents on record, and each household's history."""

    def __init__(self, community: Community) -> None:
        self.community = community
        self.households: dict[str, Household] = dict(community.households)
        self.residents: dict[str, Resident] = dict(community.residents)
        #: every household ever on record (moved-out ones too): id -> its history
        self._history: dict[str, list[Change]] = {
            h: [Change(None, "roster", f"on the roster: {household.people} people (花名册)")]
            for h, household in community.households.items()
        }
        self._counts: dict[str, Counts] | None = None  # derived lookups, dropped on every change
        self._cared: dict[str, tuple[str, ...]] | None = None
        self._by_node: dict[str, list[Household]] | None = None

    def grow(self, community: Community, households: tuple[str, ...], residents: tuple[str, ...]) -> list[str]:
        """Take on a grown roster: its new households and residents join the register.

        ``households`` and ``residents`` are the ids the roster added
        (``gridcore.growth``).  Returns the problems that forbid it (an added id
        already on record through an event), and changes nothing then.
        """
        problems = [f"household {h} is already on record through an event / 户 {h} 已通过事件登记在册"
                    for h in households if h in self._history]
        problems += [f"resident {r} is already on record through an event / 居民 {r} 已通过事件登记在册"
                     for r in residents if r in self.residents]
        if problems:
            return problems
        self.community = community
        for h in households:
            household = community.households[h]
            self.households[h] = household
            self._history[h] = [Change(None, "roster", f"on the roster: {household.people} people (花名册)")]
        for r in residents:
            self.residents[r] = community.residents[r]
        self._forget()
        return []

    # ------------------------------------------------------------ queries

    def household(self, household_id: str) -> Household | None:
        """The household on record now under this id (None if it moved out or never was)."""
        return self.households.get(household_id)

    def history(self, household_id: str) -> list[Change]:
        """Every change of a household, oldest first ([] for an id never on record)."""
        return list(self._history.get(household_id, ()))

    def counts(self, node_id: str) -> Counts:
        """The planning counts of ``node_id``'s subtree now."""
        self.community.hierarchy.node(node_id)
        if self._counts is None:
            self._counts = counts_by_node(self.community.hierarchy, self.households, self.residents)
        return self._counts[node_id]

    def households_in(self, node_id: str) -> list[Household]:
        """The households on record in ``node_id``'s subtree, by id."""
        if self._by_node is None:
            self._by_node = {}
            for household in self.households.values():
                self._by_node.setdefault(household.node, []).append(household)
        found = [h for node in self.community.hierarchy.descendants(node_id, include_self=True)
                 for h in self._by_node.get(node.id, ())]
        return sorted(found, key=lambda h: h.id)

    def named_in(self, household_id: str) -> list[Resident]:
        """The named residents of a household, by id."""
        return sorted((r for r in self.residents.values() if r.household == household_id), key=lambda r: r.id)

    def looked_after_by(self, member_id: str) -> tuple[str, ...]:
        """Households on record now that a member looks after (包联户), directly or by building."""
        return self._care().get(member_id, ())

    def looks_after(self, member_id: str, household_id: str) -> bool:
        """True if the household is on record and the member looks after it (包联户), by name or by building."""
        return household_id in self._care().get(member_id, ())

    def carers(self) -> Mapping[str, tuple[str, ...]]:
        """Member id -> households they look after now (members with none are left out)."""
        return {m: hs for m, hs in self._care().items() if hs}

    def _care(self) -> dict[str, tuple[str, ...]]:
        if self._cared is None:
            self._cared = care_index(self.community.care, self.households)
        return self._cared

    def knows(self, person: str) -> bool:
        """True for a named resident on record now."""
        return person in self.residents

    # ------------------------------------------------------------ events

    def refusals(self, event: Event) -> list[str]:
        """Why ``event`` does not fit the register as it is now ([] if it fits or is not about it)."""
        about = _ABOUT.get(type(event))
        if not (about if about is not None else about_register(type(event))):
            return []  # (most events: asked for every one, and again as it is applied)
        if isinstance(event, HouseholdMovedIn):
            return self._place_refusals(event.household, event.node, event.place, new=True)
        if isinstance(event, (HouseholdMovedOut, HouseholdVisited)):
            return self._on_record(event.household, event.node)
        if isinstance(event, HouseholdSplit):
            return self._split_refusals(event)
        if isinstance(event, ResidentRegistered):
            reasons = []
            if event.person in self.residents:
                held = self.residents[event.person].household
                reasons.append(f"resident {event.person!r} is already on record in household {held!r} (已在册)")
            if event.household is not None:
                reasons.extend(self._on_record(event.household, event.node))
            return reasons
        return []

    def apply(self, event: Event) -> None:
        """Take an accepted event into the register (others are ignored).

        A stored event judged before a late, earlier one was recorded may no
        longer fit on a replay; it changes what it still can (never raises).
        """
        about = _ABOUT.get(type(event))
        if not (about if about is not None else about_register(type(event))) or self.refusals(event):
            return
        if isinstance(event, HouseholdMovedIn):
            self.households[event.household] = Household(
                id=event.household, name=event.name, node=event.node, place=event.place,
                people=event.size, floating=event.floating,
            )
            self._note(event, event.household, f"moved in: {event.size} people (迁入)")
        elif isinstance(event, HouseholdMovedOut):
            gone = self.households.pop(event.household)
            for resident in self.named_in(gone.id):
                del self.residents[resident.id]
            self._note(event, gone.id, f"moved out (迁出){': ' + event.note if event.note else ''}")
        elif isinstance(event, HouseholdSplit):
            self._split(event)
        elif isinstance(event, ResidentRegistered) and event.household is not None:
            household = self.households[event.household]
            if len(self.named_in(household.id)) >= household.people:
                household = attrs.evolve(household, people=household.people + 1)
                self.households[household.id] = household
            self.residents[event.person] = Resident(
                id=event.person, name=event.name or event.person, household=household.id,
                floating=event.floating, key_person=event.key_person, special_group=event.special_group,
            )
            self._note(event, household.id, f"resident {event.person} registered (登记)")
        elif isinstance(event, ResidentMoved) and event.person in self.residents:
            resident = self.residents.pop(event.person)
            left = self.households.get(resident.household)
            if left is not None:
                if left.people > 1:
                    self.households[left.id] = attrs.evolve(left, people=left.people - 1)
                self._note(event, left.id, f"resident {event.person} moved to {event.node} (迁出本户)")
        elif isinstance(event, HouseholdVisited):
            return  # a visit changes nothing on record
        else:
            return
        self._forget()

    # ------------------------------------------------------------ checkpoints

    def to_document(self) -> dict[str, Any]:
        """What the log changed, as a JSON-able document (for the engine's checkpoints)."""
        return {
            "households": [_CONVERTER.unstructure(h) for _, h in sorted(self.households.items())],
            "residents": [_CONVERTER.unstructure(r) for _, r in sorted(self.residents.items())],
            "history": {h: [_CONVERTER.unstructure(c) for c in changes]
                        for h, changes in sorted(self._history.items())},
        }

    def restore(self, document: Mapping[str, Any]) -> None:
        """Put back what ``to_document`` gave (raises ``ValueError`` on a damaged document)."""
        try:
            households = [_CONVERTER.structure(h, Household) for h in document["households"]]
            residents = [_CONVERTER.structure(r, Resident) for r in document["residents"]]
            history = {str(h): [_CONVERTER.structure(c, Change) for c in changes]
                       for h, changes in document["history"].items()}
        except (KeyError, TypeError, AttributeError, cattrs.BaseValidationError) as exc:
            raise ValueError(f"a damaged household register in a checkpoint: {exc}") from exc
        self.households = {h.id: h for h in households}
        self.residents = {r.id: r for r in residents}
        self._history = history
        self._forget()

    # ------------------------------------------------------------ internals

    def _forget(self) -> None:
        """Drop the derived lookups (after a change)."""
        self._counts = self._cared = self._by_node = None

    def _note(self, event: Event, household: str, text: str) -> None:
        self._history.setdefault(household, []).append(Change(event.time, event.id, text))

    def _on_record(self, household_id: str, node: str) -> list[str]:
        household = self.households.get(household_id)
        if household is None:
            was = " (it moved out)" if household_id in self._history else ""
            return [f"household {household_id!r} is not on record{was} (户不在册)"]
        if household.node != node:
            return [f"household {household_id!r} lives in {household.node!r}, not {node!r} (户所在网格不符)"]
        return []

    def _place_refusals(self, household_id: str, node: str, place: str | None, *, new: bool) -> list[str]:
        reasons = []
        hierarchy = self.community.hierarchy
        if new and household_id in self.households:
            reasons.append(f"household {household_id!r} is already on record (户号已在册)")
        elif new and household_id in self._history:
            reasons.append(f"household {household_id!r} was on record before; give a returning household "
                           "a new id (户号曾使用)")
        if node in hierarchy and not hierarchy.is_cell(node):
            reasons.append(f"a household must live in a leaf cell; {node!r} has cells below it (户须落在最小网格)")
        if place is not None:
            found = self.community.places.get(place)
            if found is None:
                reasons.append(f"unknown place {place!r} (地址不存在)")
            elif found.node != node:
                reasons.append(f"place {place!r} is in {found.node!r}, not {node!r} (地址不在该网格内)")
        return reasons

    def _split_refusals(self, event: HouseholdSplit) -> list[str]:
        old = self.households.get(event.household)
        if old is None:
            return self._on_record(event.household, event.node)
        reasons = self._place_refusals(event.new_household, event.node, event.place, new=True)
        if event.new_household == event.household:
            reasons.append("a household cannot split into itself (新户号须不同)")
        if event.size >= old.people:
            reasons.append(f"household {old.id!r} has {old.people} people; at most {old.people - 1} can "
                           "split off, one must stay (分出人数须少于原户人口)")
        named = {r.id for r in self.named_in(old.id)}
        strangers = [p for p in event.residents if p not in named]
        if strangers:
            reasons.append(f"not named in household {old.id!r}: {', '.join(strangers)} (非本户在册成员)")
        if len(set(event.residents)) > event.size:
            reasons.append(f"{len(set(event.residents))} residents named but only {event.size} people split off "
                           "(随迁成员多于分出人数)")
        staying = len(named - set(event.residents))
        if not reasons and staying > old.people - event.size:
            reasons.append(f"{staying} named residents stay in {old.id!r} but only "
                           f"{old.people - event.size} people would (留户成员多于剩余人口)")
        return reasons

    def _split(self, event: HouseholdSplit) -> None:
        old = self.households[event.household]
        self.households[old.id] = attrs.evolve(old, people=old.people - event.size)
        self.households[event.new_household] = Household(
            id=event.new_household, name=event.name, node=event.node, place=event.place,
            people=event.size, floating=old.floating,
        )
        for person in event.residents:
            self.residents[person] = attrs.evolve(self.residents[person], household=event.new_household)
        self._note(event, old.id, f"split: {event.size} people to {event.new_household} (分户)")
        self._note(event, event.new_household, f"split from {old.id}: {event.size} people (分户)")


_CONVERTER = cattrs.Converter()
_CONVERTER.register_unstructure_hook(datetime, datetime.isoformat)
_CONVERTER.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
