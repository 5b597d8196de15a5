"""The simulator's households (户): home visits by those who look after them, moves in and out, splits.

It starts from the roster's households and care links (包联户) and keeps the
households on record as it goes, so every event fits the register the engine
keeps.  It draws from a random source of its own (``<seed>:households``) and
gives its events ids of their own (``<root>-s<seed>-h<n>``), so a scenario
that gains a ``households`` plan leaves every other event as it was.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from gridcore.community import Community, care_index
from gridcore.events import (
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
)
from gridcore.households import Household

from .scenario import HouseholdPlan

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董袁潘"


class Homes:
    """The households of one simulation, as they change (see the module's docstring)."""

    def __init__(self, community: Community, plan: HouseholdPlan, prefix: str, seed: int,
                 diligence: dict[str, float], push: Callable[[Event], None]) -> None:
        self.community = community
        self.plan = plan
        self.prefix = prefix
        self.diligence = diligence
        self.push = push
        self.tz = community.tz
        self.rng = random.Random(f"{seed}:households")
        self.households: dict[str, Household] = dict(community.households)
        #: households with people known by name: never split (who goes where is theirs to say)
        self.named = {r.household for r in community.residents.values()}
        self.count = 0
        self.new = 0
        self.places: dict[str, list[str]] = {}
        for place in sorted(community.places.values(), key=lambda p: p.id):
            self.places.setdefault(place.node, []).append(place.id)
        self.leaves = sorted({h.node for h in self.households.values()}) or sorted(self.places)
        self._care: dict[str, tuple[str, ...]] | None = None
        #: the visits planned, by day: (member, household)
        self.visits: dict[date, list[tuple[str, str]]] = {}
        self.planned: tuple[int, int] | None = None  # the (year, month) whose round is planned

    def next_id(self) -> str:
        self.count += 1
        return f"{self.prefix}-h{self.count:06d}"

    def at(self, day: date, hour: float) -> datetime:
        minutes = max(0, min(round(hour * 60), 24 * 60 - 1))
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)

    def carers(self) -> dict[str, tuple[str, ...]]:
        if self._care is None:
            self._care = care_index(self.community.care, self.households)
        return self._care

    def registrar(self, node: str) -> str | None:
        for role in self.plan.registrars:
            found = self.community.responsible_for(node, role)
            if found:
                return self.rng.choice(sorted(m.id for m in found))
        return None

    def day(self, day: date) -> None:
        """One day: the month's round planned on its first simulated day, the day's moves and splits, visits."""
        rng = self.rng
        if self.planned != (day.year, day.month):
            self.planned = (day.year, day.month)
            self.plan_round(day)
        for _ in range(_poisson(rng, self.plan.move_in_per_day)):
            self.move_in(day)
        for _ in range(_poisson(rng, self.plan.move_out_per_day)):
            self.move_out(day)
        for _ in range(_poisson(rng, self.plan.split_per_day)):
            self.split(day)
        # after the day's moves: a household that moved out today is no longer visited
        hour = rng.uniform(9.0, 10.0)
        for member, ident in self.visits.pop(day, []):
            if ident in self.households:  # it may have moved out
                hour = hour + rng.uniform(0.2, 0.6) if hour < 17 else rng.uniform(9.0, 10.0)
                self.push(HouseholdVisited(id=self.next_id(), time=self.at(day, hour), actor=member,
                                           node=self.households[ident].node, household=ident))

    def plan_round(self, day: date) -> None:
        """Who visits which household on which working day of the rest of ``day``'s month."""
        rng = self.rng
        days = []
        current = day
        while current.month == day.month:
            if current.weekday() < 5:
                days.append(current)
            current += timedelta(days=1)
        if not days:
            return
        for member, households in sorted(self.carers().items()):
            whole = rng.random() < self.plan.round * self.diligence.get(member, 1.0)
            for ident in households:
                if whole or rng.random() < self.plan.partial:
                    self.visits.setdefault(rng.choice(days), []).append((member, ident))

    def move_in(self, day: date) -> None:
        if not self.leaves:
            return
        node = self.rng.choice(self.leaves)
        actor = self.registrar(node)
        if actor is None:
            return
        self.new += 1
        ident = f"{self.prefix}-hh{self.new:05d}"
        place = self.rng.choice(self.places[node]) if self.places.get(node) else None
        size = self.rng.choice((1, 2, 2, 3, 3, 3, 4, 5))
        name = self.rng.choice(_SURNAMES) + "家"
        floating = self.rng.random() < self.plan.floating
        self.push(HouseholdMovedIn(id=self.next_id(), time=self.at(day, self.rng.uniform(9.0, 17.0)), actor=actor,
                                   node=node, household=ident, name=name, place=place, size=size,
                                   floating=floating))
        self.households[ident] = Household(ident, name, node, place, size, floating)
        self._care = None

    def move_out(self, day: date) -> None:
        movable = sorted(h for h in self.households if h not in self.named)
        if not movable:
            return
        household = self.households[self.rng.choice(movable)]
        actor = self.registrar(household.node)
        if actor is None:
            return
        self.push(HouseholdMovedOut(id=self.next_id(), time=self.at(day, self.rng.uniform(9.0, 17.0)),
                                    actor=actor, node=household.node, household=household.id, note="搬离"))
        del self.households[household.id]
        self._care = None

    def split(self, day: date) -> None:
        splittable = sorted(h.id for h in self.households.values() if h.people >= 3 and h.id not in self.named)
        if not splittable:
            return
        old = self.households[self.rng.choice(splittable)]
        actor = self.registrar(old.node)
        if actor is None:
            return
        self.new += 1
        ident = f"{self.prefix}-hh{self.new:05d}"
        size = self.rng.randint(1, old.people - 2)
        self.push(HouseholdSplit(id=self.next_id(), time=self.at(day, self.rng.uniform(9.0, 17.0)), actor=actor,
                                 node=old.node, household=old.id, new_household=ident, name=old.name,
                                 size=size, place=old.place))
        self.households[old.id] = Household(old.id, old.name, old.node, old.place, old.people - size, old.floating)
        self.households[ident] = Household(ident, old.name, old.node, old.place, size, old.floating)
        self._care = None


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (rates here are small)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
