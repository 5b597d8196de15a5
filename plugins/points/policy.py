"""The points policy: what a ruleset's ``points`` section compiles to.

Frozen attrs facts only; every item carries the ``RuleRef`` of the line that
wrote it, so each ledger entry can name the rule that decided it.  Amounts are
whole points: computed amounts are rounded half up once, after tilts.
"""

from __future__ import annotations

import functools
from datetime import date
from fractions import Fraction

from attrs import field

from gridcore.classes import frozen
from gridcore.explain import RuleRef
from gridcore.periods import KINDS

from .facts import Check, Facts, Formula

ACTIONS = ("refuse", "flag")


def _period(instance: object, attribute: object, value: str) -> None:
    if value not in KINDS:
        raise ValueError(f"unknown period {value!r}; use one of {', '.join(KINDS)}")


def _action(instance: object, attribute: object, value: str) -> None:
    if value not in ACTIONS:
        raise ValueError(f"unknown action {value!r}; use refuse or flag")


def _positive(instance: object, attribute: object, value: int) -> None:
    if value <= 0:
        raise ValueError(f"must be positive, got {value}")


@frozen
class Amount:
    """An amount: ``fixed + per_hour * hours + per_unit * quantity``, or a ``formula``."""

    fixed: Fraction = Fraction(0)
    per_hour: Fraction = Fraction(0)
    per_unit: Fraction = Fraction(0)
    formula: Formula | None = None
    #: ``quote`` worked out per (hours, quantity) as written (few distinct ones; bounded)
    _quoted: dict[tuple[str, str], tuple[Fraction, str]] = field(factory=dict, init=False, eq=False, repr=False)

    def quote(self, hours: float, quantity: float) -> tuple[Fraction, str]:
        """``of`` and ``worked`` of an amount without a formula, kept per (hours, quantity).

        Exact arithmetic is most of pricing an activity, and records repeat the
        same few hours and quantities.
        """
        key = (repr(hours), repr(quantity))
        found = self._quoted.get(key)
        if found is None:
            if len(self._quoted) >= 1024:
                self._quoted.clear()
            value = self.of(hours, quantity)
            found = self._quoted[key] = (value, self.worked(hours, quantity, value))
        return found

    def of(self, hours: float, quantity: float, facts: Facts | None = None) -> Fraction:
        """The exact amount for an activity of ``hours`` and ``quantity``; negative for a deduction.

        A computed amount that cannot be worked out (a missing value) is 0; a
        negative one is a deduction, never cut to 0.
        """
        if self.formula is not None:
            if facts is None:
                raise ValueError("a computed amount needs the facts it reads")
            try:
                value = Fraction(str(float(self.formula.compute(facts))))
            except (TypeError, ValueError, ArithmeticError, AttributeError):
                value = Fraction(0)
            return value
        # (terms that are 0 are left out: Fraction arithmetic is most of an activity's pricing)
        total = self.fixed
        if self.per_hour:
            total = total + self.per_hour * _exact(hours)
        if self.per_unit:
            total = total + self.per_unit * _exact(quantity)
        return total

    def worked(self, hours: float, quantity: float, value: Fraction) -> str:
        """How the amount was worked out for one event (``5 per hour x 2 h``)."""
        if self.formula is not None:
            return f"{self.formula.text} = {_num(value)}"
        parts = []
        if self.fixed:
            parts.append(_num(self.fixed))
        if self.per_hour:
            parts.append(f"{_num(self.per_hour)} per hour x {hours:g} h")
        if self.per_unit:
            parts.append(f"{_num(self.per_unit)} per item x {quantity:g}")
        return " + ".join(parts) or "0"

    def describe(self) -> str:
        """How the amount reads in a rule (``10 + 5 per hour``)."""
        if self.formula is not None:
            return self.formula.text
        parts = []
        if self.fixed:
            parts.append(f"{_num(self.fixed)}")
        if self.per_hour:
            parts.append(f"{_num(self.per_hour)} per hour")
        if self.per_unit:
            parts.append(f"{_num(self.per_unit)} per unit")
        return " + ".join(parts) or "0"


@frozen
class Cap:
    """At most ``limit`` points per member per ``period`` (community time zone)."""

    limit: int
    period: str = field(validator=_period)
    rule: RuleRef


@frozen
class ActivityItem:
    """One line of the points item list: an activity and what it earns.

    Several items may name the same activity with different conditions (a
    separate scale per role): the first whose condition holds decides.
    """

    activity: str
    amount: Amount
    rule: RuleRef
    caps: tuple[Cap, ...] = ()
    when: Check | None = None
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every name an ``ActivityRecorded`` may use for this activity."""
        return (self.activity, *self.aliases)


@frozen
class Tilt:
    """A multiplier for members holding ``role``, or for events at nodes of ``level``.

    Of the role tilts that match, the largest applies; it multiplies with the
    largest matching level tilt.
    """

    factor: Fraction
    rule: RuleRef
    role: str | None = None
    level: str | None = None


INCIDENT_TRIGGERS = ("confirmed_report", "resolved", "consultation")


@frozen
class IncidentItem:
    """Points for incident work.

    ``confirmed_report`` pays the reporter of an incident that was verified,
    ``resolved`` the member who resolved it, both when the incident is first
    closed; ``consultation`` pays each participant of a consultation (会商)
    when it is recorded.  ``when`` may read ``incident``, ``satisfaction`` and
    ``rating``.
    """

    trigger: str = field()
    points: int
    rule: RuleRef
    when: Check | None = None

    @trigger.validator
    def _check(self, attribute: object, value: str) -> None:
        if value not in INCIDENT_TRIGGERS:
            raise ValueError(f"unknown incident trigger {value!r}")


@frozen
class TaskItem:
    """Points for a kind of task (the tasks plugin's ``task_completed`` and ``task_overdue``).

    ``on_time`` is paid to an assignee who completes their part before the
    deadline; ``missed`` (negative: a deduction, down to the floor) is taken
    when the deadline passes with their part not done.  A part done late
    earns nothing.
    """

    task: str
    rule: RuleRef
    on_time: int = 0
    missed: int = 0


@frozen
class Reward:
    """One item of the rewards list."""

    name: str
    price: int = field(validator=_positive)
    rule: RuleRef
    stock: int | None = None
    limit: int | None = None
    limit_period: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@frozen
class Expiry:
    """Points expire ``months`` after they were earned, first in first out."""

    months: int = field(validator=_positive)
    rule: RuleRef


@frozen
class Floor:
    """How low a deduction may take a balance: ``limit`` points (None: no floor).

    Without a ``floor`` item the floor is 0: a balance never goes below zero.
    """

    limit: int | None
    rule: RuleRef | None = None


#: The floor when the ruleset says nothing: a balance never goes below zero.
DEFAULT_FLOOR = Floor(0, None)


@frozen
class Recognition:
    """Leaders may award points with a reason, within ``budget`` per node of ``level`` per ``period``.

    ``roles`` are the roles allowed to award (held at or above the event's node).
    """

    budget: int = field(validator=_positive)
    level: str
    period: str = field(validator=_period)
    rule: RuleRef
    roles: tuple[str, ...] = ("grid_leader", "master_grid_leader")


GUARDS = ("duplicate", "outside_cells", "self_award", "self_closed", "self_recorded")


@frozen
class Guard:
    """An anti-gaming rule: what to do (``refuse`` or ``flag``) when ``what`` happens.

    ``duplicate`` (the same member claims the same activity twice) uses
    ``window``: ``day`` (same calendar day) or ``overlap`` (time ranges overlap).
    ``self_closed`` can only ``flag``: the incident events belong to others.
    ``self_recorded``: an activity its member recorded for themselves without
    holding a staff role at its node (an organiser must record it for them).
    """

    what: str
    action: str = field(validator=_action)
    rule: RuleRef
    window: str = "day"


@frozen
class Streak:
    """A bonus for members who earned activity points in every ``unit`` of a ``span``."""

    points: int = field(validator=_positive)
    unit: str = field(validator=_period)
    span: str = field(validator=_period)
    rule: RuleRef


@frozen
class Pricing:
    """What pricing one activity under one policy needs, worked out once (``PointsPolicy.pricing``).

    The items that may price it, in the order written, and for each the names
    its decision shows and the caps it counts toward: all of it depends on the
    policy and the activity's name only, never on the event.
    """

    items: tuple[ActivityItem, ...]
    #: per item: the names its condition and amount read, sorted (what its entry shows)
    shown: tuple[tuple[str, ...], ...]
    #: per item: its own caps (counted for its activity), then the whole list's (counted for ``*``)
    caps: tuple[tuple[tuple[Cap, str], ...], ...]
    #: every name the items' conditions read, sorted (what an entry shows when no condition holds)
    conditions_read: tuple[str, ...]
    #: True if an item has a condition or a computed amount: only then are the facts gathered
    reads_facts: bool
    #: the first item that pays per hour (a record of it without hours is refused)
    per_hour: ActivityItem | None
    #: the policy's guards of an activity's claim: ``duplicate``, ``self_recorded``, ``outside_cells`` (None: none)
    guards: tuple[Guard | None, Guard | None, Guard | None] = (None, None, None)


def _pricing(policy: PointsPolicy, activity: str) -> Pricing | None:
    items = tuple(item for item in policy.activities if activity in item.names())
    if not items:
        return None
    whole = tuple((cap, "*") for cap in policy.caps)
    return Pricing(
        items=items,
        shown=tuple(
            tuple(sorted(set(item.when.reads if item.when else ())
                         | set(item.amount.formula.reads if item.amount.formula else ())))
            for item in items),
        caps=tuple(tuple((cap, item.activity) for cap in item.caps) + whole for item in items),
        conditions_read=tuple(sorted({name for item in items if item.when for name in item.when.reads})),
        reads_facts=any(item.when is not None or item.amount.formula is not None for item in items),
        per_hour=next((item for item in items if item.amount.per_hour), None),
        guards=(policy.guard("duplicate"), policy.guard("self_recorded"), policy.guard("outside_cells")),
    )


@frozen
class PointsPolicy:
    """Everything a ``points`` section says."""

    activities: tuple[ActivityItem, ...] = ()
    caps: tuple[Cap, ...] = ()
    tilts: tuple[Tilt, ...] = ()
    incidents: tuple[IncidentItem, ...] = ()
    rewards: tuple[Reward, ...] = ()
    expiry: Expiry | None = None
    recognition: Recognition | None = None
    guards: tuple[Guard, ...] = ()
    streaks: tuple[Streak, ...] = ()
    floor: Floor = DEFAULT_FLOOR
    tasks: tuple[TaskItem, ...] = ()
    #: ``pricing`` worked out per activity name (only names on the list are kept: bounded)
    _priced: dict[str, Pricing] = field(factory=dict, init=False, eq=False, repr=False)
    #: ``tilts_for`` worked out per key (a member's roles, a node's level)
    _tilted: dict[tuple[str, ...], Tilt | None] = field(factory=dict, init=False, eq=False, repr=False)
    #: ``guard`` by what it guards (filled when first asked)
    _guarded: dict[str, Guard] = field(factory=dict, init=False, eq=False, repr=False)

    def pricing(self, activity: str) -> Pricing | None:
        """How ``activity`` is priced (None: no item names it), worked out once per name.

        A policy is a frozen fact in force for a span of days: what depends on
        it and the activity's name alone is kept with it.
        """
        found = self._priced.get(activity)
        if found is None:
            found = _pricing(self, activity)
            if found is not None:
                self._priced[activity] = found
        return found

    def role_tilt(self, roles: tuple[str, ...]) -> Tilt | None:
        """The largest tilt for a role among ``roles`` (the first written of equals), if any."""
        key = ("role", *roles)
        if key in self._tilted:
            return self._tilted[key]
        matching = [tilt for tilt in self.tilts if tilt.role is not None and tilt.role in roles]
        found = self._tilted[key] = max(matching, key=lambda tilt: tilt.factor) if matching else None
        return found

    def level_tilt(self, level: str, label: str) -> Tilt | None:
        """The largest tilt for a node's ``level`` (by its id or the community's ``label`` for it), if any."""
        key = ("level", level, label)
        if key in self._tilted:
            return self._tilted[key]
        labels = {level, label}
        matching = [tilt for tilt in self.tilts if tilt.level is not None and tilt.level in labels]
        found = self._tilted[key] = max(matching, key=lambda tilt: tilt.factor) if matching else None
        return found

    def task(self, kind: str) -> TaskItem | None:
        """The points item for a kind of task, if the list has one."""
        for item in self.tasks:
            if item.task == kind:
                return item
        return None

    def items_for(self, activity: str) -> list[ActivityItem]:
        """The items that may price ``activity``, in the order written."""
        return [item for item in self.activities if activity in item.names()]

    def reward(self, name: str) -> Reward | None:
        """The reward called ``name``, if the list has it."""
        for reward in self.rewards:
            if reward.name == name:
                return reward
        return None

    def guard(self, what: str) -> Guard | None:
        """The anti-gaming rule for ``what``, if any (the first written for it)."""
        guarded = self._guarded
        if not guarded and self.guards:
            for guard in self.guards:
                guarded.setdefault(guard.what, guard)
        return guarded.get(what)


def _num(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def round_points(value: Fraction) -> int:
    """Round half up to whole points (2.5 -> 3)."""
    # floor(value + 1/2) in integers: (2n + d) // 2d.
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


@functools.lru_cache(maxsize=256)
def _exact(value: float) -> Fraction:
    """A number as written (``2.5`` is 5/2, ``0.1`` is 1/10), not its binary approximation."""
    return Fraction(str(value))
