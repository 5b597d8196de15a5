"""The assessment section's syntax tree: typed, frozen nodes built from assessment.lark.

``AssessmentNodes`` is the section's transformer (``Section.transformer``):
each method is named after a rule or alias of the fragment and receives its
children, already built (the core's ``Name``, ``Value``, ``Expr`` and
``Ladder``, or the nodes below), with the position of the text it covers.
compiler.py reads these nodes with ``isinstance``; it never sees a rule name.
"""

from __future__ import annotations

from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.rules import Expr, Ladder, Literal, Name, Pos, Step, Value, schema
from gridcore.rules.ast import NOWHERE


@frozen
class Period:
    """``period: quarter``."""

    period: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Rate:
    """``rate: grid, microgrid``: the rated levels as written."""

    levels: tuple[Name, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Scale:
    """``scale 0 to 100``: the metric's range."""

    low: float
    high: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class FullIfMissing:
    """``full if missing``: a missing value scores full marks."""

    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Metric:
    """``weight 30, scale 0 to 100, full if missing``."""

    weight: float
    options: tuple[Scale | FullIfMissing, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Sign:
    """``minus`` / ``plus`` written in a penalty or bonus."""

    plus: bool
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Limit:
    """``at most 20 points`` (``最多扣 20 分``: the sign if written)."""

    points: float
    sign: Sign | None = None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Adjust:
    """The body of ``penalty`` and ``bonus``: points (each), the sign if written, a limit."""

    points: float
    sign: Sign | None
    limit: Limit | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Stars:
    """``stars: 5 if score >= 90, ..., otherwise 3``."""

    ladder: Ladder
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class CapPart:
    """``at most 2 with 5 stars`` / ``5 星最多 2 个``: ``quota`` a number or a percent ``Value``."""

    stars: int
    quota: Value
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Caps:
    """The body of ``cap LEVEL``."""

    parts: tuple[CapPart, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class PerStar:
    """``100 yuan per star``."""

    amount: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Base:
    """``base 600, 1.5 if stars >= 5, otherwise 1``."""

    amount: float
    ladder: Ladder
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Paying:
    """``subsidies: once per person, at most 800 yuan`` / ``每人补贴：按角色``."""

    parts: tuple[str | float, ...]  # "once", "per role", or a cap in yuan
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Patrol:
    """``2 times per week in grid``: times, the period, the level as written (if any)."""

    times: float
    period: str
    level: Name | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Serious:
    """``serious: severity >= 4``."""

    condition: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


class AssessmentNodes:
    """The transformer of the assessment section: one method per rule or alias of assessment.lark."""

    def assessment_period(self, c: list[Any], pos: Pos) -> Period:
        return Period(str(_value(c, "period").value), pos)

    def assessment_rate(self, c: list[Any], pos: Pos) -> Rate:
        return Rate(tuple(n for n in c if isinstance(n, Name)), pos)

    def assessment_metric(self, c: list[Any], pos: Pos) -> Metric:
        return Metric(float(_value(c, "number").value),
                      tuple(o for o in c if isinstance(o, Scale | FullIfMissing)), pos)

    def assessment_scale(self, c: list[Any], pos: Pos) -> Scale:
        low, high = (float(v.value) for v in c if isinstance(v, Value) and v.kind == "number")
        return Scale(low, high, pos)

    def assessment_full(self, c: list[Any], pos: Pos) -> FullIfMissing:
        return FullIfMissing(pos)

    def assessment_adjust(self, c: list[Any], pos: Pos) -> Adjust:
        sign = next((s for s in c if isinstance(s, Sign)), None)
        limit = next((x for x in c if isinstance(x, Limit)), None)
        return Adjust(float(_value(c, "number").value), sign, limit, pos)

    def assessment_minus(self, c: list[Any], pos: Pos) -> Sign:
        return Sign(False, pos)

    def assessment_plus(self, c: list[Any], pos: Pos) -> Sign:
        return Sign(True, pos)

    def assessment_per(self, c: list[Any], pos: Pos) -> tuple[Name, ...]:
        return tuple(n for n in c if isinstance(n, Name))  # "each" / "per incident": read as written

    def assessment_limit(self, c: list[Any], pos: Pos) -> Limit:
        sign = next((s for s in c if isinstance(s, Sign)), None)
        return Limit(float(_value(c, "number").value), sign, pos)

    def assessment_stars(self, c: list[Any], pos: Pos) -> Stars:
        return Stars(c[0], pos)

    def assessment_star_rung(self, c: list[Any], pos: Pos) -> Step:
        stars = _value(c, "number")  # 得分>=90为5星: the step "5 if 得分 >= 90"
        return Step(Literal(schema.NUMBER, stars.value, stars.pos), c[0], pos)

    def assessment_stars_as(self, c: list[Any], pos: Pos) -> Stars:
        steps = tuple(x for x in c if isinstance(x, Step))
        rest = [x for x in c if isinstance(x, Value) and x.kind == "number"]
        otherwise = Literal(schema.NUMBER, rest[0].value, rest[0].pos) if rest else None
        return Stars(Ladder(steps, otherwise, pos), pos)

    def assessment_cap(self, c: list[Any], pos: Pos) -> Caps:
        return Caps(tuple(p for p in c if isinstance(p, CapPart)), pos)

    def assessment_cap_en(self, c: list[Any], pos: Pos) -> CapPart:
        return CapPart(int(_value(c, "number").value), _quota(c), pos)

    def assessment_cap_zh(self, c: list[Any], pos: Pos) -> CapPart:
        return CapPart(int(_value(c, "number").value), _quota(c), pos)

    def assessment_quota(self, c: list[Any], pos: Pos) -> tuple[Value]:
        return (c[0],)  # a one-tuple, so the cap's own number is not confused with it

    def assessment_per_star(self, c: list[Any], pos: Pos) -> PerStar:
        return PerStar(float(_value(c, "number").value), pos)

    def assessment_base(self, c: list[Any], pos: Pos) -> Base:
        return Base(float(_value(c, "number").value), next(x for x in c if isinstance(x, Ladder)), pos)

    def assessment_subsidies(self, c: list[Any], pos: Pos) -> Paying:
        return Paying(tuple(c), pos)

    def assessment_once(self, c: list[Any], pos: Pos) -> str:
        return "once"

    def assessment_per_role(self, c: list[Any], pos: Pos) -> str:
        return "per role"

    def assessment_person_cap(self, c: list[Any], pos: Pos) -> float:
        return float(_value(c, "number").value)

    def assessment_patrol_en(self, c: list[Any], pos: Pos) -> Patrol:
        return _patrol(c, pos)

    def assessment_patrol_zh(self, c: list[Any], pos: Pos) -> Patrol:
        return _patrol(c, pos)

    def assessment_serious(self, c: list[Any], pos: Pos) -> Serious:
        return Serious(c[0], pos)


def _patrol(c: list[Any], pos: Pos) -> Patrol:
    level = next((n for n in c if isinstance(n, Name)), None)
    return Patrol(float(_value(c, "number").value), str(_value(c, "period").value), level, pos)


def _quota(c: list[Any]) -> Value:
    for child in c:
        if isinstance(child, tuple):
            return child[0]  # type: ignore[no-any-return]
    raise ValueError("no quota")  # pragma: no cover - the grammar requires one


def _value(children: list[Any], kind: str) -> Value:
    for child in children:
        if isinstance(child, Value) and child.kind == kind:
            return child
    raise ValueError(f"no {kind} among {children!r}")  # pragma: no cover - the grammar requires one
