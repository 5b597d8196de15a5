"""The points section's syntax tree: typed, frozen nodes built from points.lark.

``PointsNodes`` is the section's transformer (``Section.transformer``): each
method is named after a rule or alias of the fragment and receives that rule's
children, already built (the core's ``Name``, ``Value`` and ``Expr`` nodes, or
the nodes below), with the position of the text it covers.  The compiler
(compiler.py) reads these nodes with ``isinstance``; it never sees a rule name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.rules import Expr, Name, Pos, Value
from gridcore.rules.ast import NOWHERE


def _number(value: Value) -> float:
    return float(value.value)


# ------------------------------------------------------------------ amounts


@frozen
class Fixed:
    """``5`` / ``5 分``: a fixed number of points."""

    points: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class PerHour:
    """``5 per hour`` / ``每小时 5 分``."""

    points: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class PerItem:
    """``2 per item`` / ``每件 2 分``."""

    points: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Computed:
    """``computed event.hours * 5``: a formula."""

    expr: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


Term = Fixed | PerHour | PerItem | Computed


@frozen
class Floor:
    """``floor: -50 points`` / ``下限：扣 50 分`` / ``floor: none``: how low a deduction may go."""

    points: float | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


def _signed(c: list[Any]) -> float:
    """The number of an amount, negative when written as a deduction (``-10``, ``扣 10``)."""
    number = _number(c[-1])
    return -number if c[0] == "-" else number


@frozen
class Scale:
    """An amount and the condition it applies under (``when ...``), if any."""

    term: Term
    when: Expr | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Scales:
    """Several scales: the body of incident items (``confirmed report: 10 when ..., 5``)."""

    scales: tuple[Scale, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ limits


@frozen
class Cap:
    """``at most 40 per month`` / ``每月最多 40 分``."""

    points: float
    period: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Caps:
    """The body of the ``cap`` item: one or more caps."""

    caps: tuple[Cap, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Alias:
    """``also 志愿活动``: another name the activity is recorded under."""

    name: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Activity:
    """The body of an ``activity`` item: its scales, caps and aliases in the order written."""

    parts: tuple[Scale | Cap | Alias, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)

    @property
    def scales(self) -> tuple[Scale, ...]:
        return tuple(p for p in self.parts if isinstance(p, Scale))

    @property
    def caps(self) -> tuple[Cap, ...]:
        return tuple(p for p in self.parts if isinstance(p, Cap))

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, Alias))


@frozen
class Tilt:
    """``x 1.5`` / ``1.5 倍``."""

    factor: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ rewards


@frozen
class Price:
    """A reward's price in points."""

    points: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Stock:
    """``stock 50``."""

    count: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Limit:
    """``at most 1 per month``: per member."""

    count: float
    period: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ValidFrom:
    """``from 2025-01-01`` / ``2025-01-01 起``."""

    day: date
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ValidUntil:
    """``until 2025-12-31``."""

    day: date
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Reward:
    """The body of a ``reward`` item: its parts in the order written."""

    parts: tuple[Price | Stock | Limit | ValidFrom | ValidUntil, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)

    def all(self, kind: type[Any]) -> list[Any]:
        """The parts of one kind (``Price``, ``Stock`` ...)."""
        return [p for p in self.parts if isinstance(p, kind)]


# ------------------------------------------------------------------ the rest


@frozen
class Expiry:
    """``12 months`` / ``1 year``, in months."""

    months: int
    written: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Budget:
    """``200 points per month``: a recognition budget."""

    points: float
    period: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Recognition:
    """The body of ``recognition``: the budget and who may award (role names as written)."""

    budget: Budget
    by: tuple[Name, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Guard:
    """``refuse`` or ``flag``, and for duplicates the window (``day`` or ``overlap``, if written)."""

    action: str
    window: str | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Streak:
    """``20 points for every month of the quarter``: amount, unit period, span period."""

    points: float
    unit: str
    span: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class OnTime:
    """``10 points on time`` / ``按时完成 10 分``: paid for a task done before its deadline."""

    term: Term
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Missed:
    """``minus 5 points if missed`` / ``逾期扣 5 分``: taken when the deadline passes with the task not done."""

    term: Term
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class TaskPoints:
    """The body of a ``task`` item: what is paid on time and taken when missed, in the order written."""

    parts: tuple[OnTime | Missed, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


class PointsNodes:
    """The transformer of the points section: one method per rule or alias of points.lark."""

    def points_activity(self, c: list[Any], pos: Pos) -> Activity:
        return Activity(tuple(c), pos)

    def points_alias(self, c: list[Any], pos: Pos) -> Alias:
        return Alias(c[0].text, pos)

    def points_scales(self, c: list[Any], pos: Pos) -> Scales:
        return Scales(tuple(c), pos)

    def points_scale(self, c: list[Any], pos: Pos) -> Scale:
        return Scale(c[0], c[1] if len(c) > 1 else None, pos)

    def points_sign(self, c: list[Any], pos: Pos) -> str:
        return "-"

    def points_fixed(self, c: list[Any], pos: Pos) -> Fixed:
        return Fixed(_signed(c), pos)

    def points_per_hour(self, c: list[Any], pos: Pos) -> PerHour:
        return PerHour(_signed(c), pos)

    def points_floor_at(self, c: list[Any], pos: Pos) -> Floor:
        return Floor(_signed(c), pos)

    def points_floor_none(self, c: list[Any], pos: Pos) -> Floor:
        return Floor(None, pos)

    def points_per_item(self, c: list[Any], pos: Pos) -> PerItem:
        return PerItem(_signed(c), pos)

    def points_computed(self, c: list[Any], pos: Pos) -> Computed:
        return Computed(c[0], pos)

    def points_cap(self, c: list[Any], pos: Pos) -> Cap:
        return Cap(_number(_one(c, "number")), str(_one(c, "period").value), pos)

    def points_task(self, c: list[Any], pos: Pos) -> TaskPoints:
        return TaskPoints(tuple(c), pos)

    def points_on_time(self, c: list[Any], pos: Pos) -> OnTime:
        return OnTime(c[0], pos)

    def points_missed(self, c: list[Any], pos: Pos) -> Missed:
        return Missed(c[0], pos)

    def points_caps(self, c: list[Any], pos: Pos) -> Caps:
        return Caps(tuple(c), pos)

    def points_tilt(self, c: list[Any], pos: Pos) -> Tilt:
        return Tilt(_number(c[0]), pos)

    def points_reward(self, c: list[Any], pos: Pos) -> Reward:
        return Reward(tuple(c), pos)

    def points_price(self, c: list[Any], pos: Pos) -> Price:
        return Price(_number(c[0]), pos)

    def points_stock(self, c: list[Any], pos: Pos) -> Stock:
        return Stock(_number(c[0]), pos)

    def points_limit(self, c: list[Any], pos: Pos) -> Limit:
        return Limit(_number(_one(c, "number")), str(_one(c, "period").value), pos)

    def points_valid_from(self, c: list[Any], pos: Pos) -> ValidFrom:
        return ValidFrom(_one(c, "date").value, pos)

    def points_valid_until(self, c: list[Any], pos: Pos) -> ValidUntil:
        return ValidUntil(_one(c, "date").value, pos)

    def points_expiry_months(self, c: list[Any], pos: Pos) -> Expiry:
        return Expiry(int(_number(c[0])), _number(c[0]), pos)

    def points_expiry_years(self, c: list[Any], pos: Pos) -> Expiry:
        return Expiry(int(_number(c[0])) * 12, _number(c[0]), pos)

    def points_budget(self, c: list[Any], pos: Pos) -> Budget:
        return Budget(_number(_one(c, "number")), str(_one(c, "period").value), pos)

    def points_recognition(self, c: list[Any], pos: Pos) -> Recognition:
        return Recognition(c[0], tuple(n for n in c[1:] if isinstance(n, Name)), pos)

    def points_guard(self, c: list[Any], pos: Pos) -> Guard:
        return Guard(c[0], c[1] if len(c) > 1 else None, pos)

    def points_refuse(self, c: list[Any], pos: Pos) -> str:
        return "refuse"

    def points_flag(self, c: list[Any], pos: Pos) -> str:
        return "flag"

    def points_same_day(self, c: list[Any], pos: Pos) -> str:
        return "day"

    def points_overlap(self, c: list[Any], pos: Pos) -> str:
        return "overlap"

    def points_streak_en(self, c: list[Any], pos: Pos) -> Streak:
        periods = [str(v.value) for v in c if isinstance(v, Value) and v.kind == "period"]
        return Streak(_number(_one(c, "number")), periods[0], periods[1], pos)

    def points_streak_zh(self, c: list[Any], pos: Pos) -> Streak:
        periods = [str(v.value) for v in c if isinstance(v, Value) and v.kind == "period"]
        return Streak(_number(_one(c, "number")), periods[1], periods[0], pos)


def _one(children: list[Any], kind: str) -> Value:
    for child in children:
        if isinstance(child, Value) and child.kind == kind:
            return child
    raise ValueError(f"no {kind} among {children!r}")  # pragma: no cover - the grammar requires one
