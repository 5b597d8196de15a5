"""The assessment policy a ruleset's ``assessment`` section compiles to.

Frozen attrs facts, each carrying the ``RuleRef`` of the line that wrote it, so
every term of a score and every star can name its rule.  Conditions (the
minimum conditions of a star level) are a tiny tree evaluated here in Python
against named numbers: ruleset text never reaches ``eval``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from fractions import Fraction

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.explain import RuleRef

#: What a condition's ``score`` subject is called; every other subject is a metric.
SCORE = "score"

_OPS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip


def exact(value: Fraction | float) -> Fraction:
    """A number as an exact fraction: a float by its shortest decimal form (``0.1`` -> 1/10)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _positive(instance: object, attribute: object, value: float) -> None:
    if value <= 0:
        raise ValueError(f"must be positive, got {value!r}")


@frozen
class Compare:
    """``subject op number``: ``score >= 90``, ``patrol_coverage >= 80``."""

    subject: str
    op: str = field()
    number: float

    @op.validator
    def _known_op(self, attribute: object, value: str) -> None:
        if value not in _OPS:
            raise ValueError(f"unknown comparison {value!r}")

    def holds(self, values: Mapping[str, Fraction | float | None]) -> bool:
        """True if the subject has a value and the comparison holds exactly (no value: False)."""
        value = values.get(self.subject)
        return value is not None and _OPS[self.op](exact(value), exact(self.number))

    def describe(self) -> str:
        """The condition as written."""
        return f"{self.subject} {self.op} {self.number:g}"


@frozen
class NoneOf:
    """``no unresolved_serious_incidents``: the metric is 0 (or not applicable)."""

    subject: str

    def holds(self, values: Mapping[str, Fraction | float | None]) -> bool:
        """True when the counted thing did not happen."""
        return not values.get(self.subject)

    def describe(self) -> str:
        """The condition as written."""
        return f"no {self.subject}"


@frozen
class AllOf:
    """Every part holds (``and``)."""

    parts: tuple[Condition, ...]

    def holds(self, values: Mapping[str, Fraction | float | None]) -> bool:
        """True when every part holds."""
        return all(p.holds(values) for p in self.parts)

    def describe(self) -> str:
        """The condition as written."""
        return " and ".join(_wrap(p) for p in self.parts)


@frozen
class AnyOf:
    """At least one part holds (``or``)."""

    parts: tuple[Condition, ...]

    def holds(self, values: Mapping[str, Fraction | float | None]) -> bool:
        """True when any part holds."""
        return any(p.holds(values) for p in self.parts)

    def describe(self) -> str:
        """The condition as written."""
        return " or ".join(_wrap(p) for p in self.parts)


@frozen
class Negation:
    """The part does not hold (``not``)."""

    part: Condition

    def holds(self, values: Mapping[str, Fraction | float | None]) -> bool:
        """True when the part does not hold."""
        return not self.part.holds(values)

    def describe(self) -> str:
        """The condition as written."""
        return f"not {_wrap(self.part)}"


Condition = Compare | NoneOf | AllOf | AnyOf | Negation


def condition_subjects(condition: Condition) -> set[str]:
    """Every name (``score`` or a metric) a condition reads."""
    if isinstance(condition, (Compare, NoneOf)):
        return {condition.subject}
    if isinstance(condition, Negation):
        return condition_subjects(condition.part)
    out: set[str] = set()
    for part in condition.parts:
        out |= condition_subjects(part)
    return out


def _wrap(condition: Condition) -> str:
    text = condition.describe()
    return f"({text})" if isinstance(condition, (AllOf, AnyOf)) else text


@frozen
class MetricTerm:
    """A metric that counts toward the score.

    The metric's value is mapped linearly from ``low`` (0 points) to ``high``
    (``weight`` points) and clipped to that range; ``low > high`` means lower is
    better.  A metric that is not applicable (nothing to divide by) scores 0, or
    the full weight when ``when_missing`` is ``"full"``.
    """

    metric: str
    weight: float = field(validator=_positive)
    rule: RuleRef
    low: float = 0.0
    high: float = 100.0
    when_missing: str = field(default="zero")

    @when_missing.validator
    def _known(self, attribute: object, value: str) -> None:
        if value not in ("zero", "full"):
            raise ValueError(f"when_missing must be 'zero' or 'full', got {value!r}")


@frozen
class Adjustment:
    """``minus 5 per overdue_incidents`` (``points`` < 0) or a bonus (``points`` > 0).

    ``limit`` bounds the total this line can add or take away.
    """

    metric: str
    points: float
    rule: RuleRef
    limit: float | None = None


@frozen
class StarLevel:
    """``5 if score >= 90 and no unresolved_serious_incidents``; ``condition`` None = otherwise."""

    stars: int
    condition: Condition | None
    rule: RuleRef


@frozen
class StarCap:
    """At most ``count`` nodes (or ``share`` percent of them) of a rated level hold ``stars``.

    ``level`` None means every rated level, each counted separately.
    """

    stars: int
    rule: RuleRef
    count: int | None = None
    share: float | None = None
    level: str | None = None


@frozen
class Subsidy:
    """What a rated role earns for its node's stars.

    Either ``per_star`` (amount = per_star x stars) or ``base`` with
    ``multipliers`` (stars -> factor, the first whose stars are reached applies,
    else ``otherwise``).
    """

    role: str
    rule: RuleRef
    per_star: float | None = None
    base: float | None = None
    multipliers: tuple[tuple[int, float], ...] = ()
    otherwise: float = 0.0

    def amount(self, stars: Fraction) -> Fraction:
        """The subsidy for a node holding ``stars`` (may be a mean over several nodes), exact.

        Rounded only where shown (``scoring.shown``): 100 yuan a star for a
        mean of 10/3 stars is 1000/3 yuan, shown as 333.33.
        """
        if self.per_star is not None:
            return exact(self.per_star) * stars
        factor = exact(self.otherwise)
        for needed, multiplier in sorted(self.multipliers, reverse=True):
            if stars >= needed:
                factor = exact(multiplier)
                break
        return exact(self.base or 0) * factor


@frozen
class SubsidyPaying:
    """How a person's subsidy lines add up in a period.

    ``once``: a person is paid once, the largest of their lines, whatever
    number of roles they hold (the default); otherwise once per role held.
    ``cap``: the most one person is paid in a period, if any.
    """

    once: bool = True
    cap: float | None = None
    rule: RuleRef | None = None


#: Without a ``subsidies`` item: once per person, no cap.
DEFAULT_PAYING = SubsidyPaying()


@frozen
class PatrolRequirement:
    """Each cell at ``level`` (the leaves when None) must be patrolled ``times`` per ``per``."""

    times: int
    per: str
    rule: RuleRef
    level: str | None = None


@frozen
class AssessmentPolicy:
    """Everything the ``assessment`` section says.

    ``stars`` is the ladder, best first, ending with an ``otherwise`` level.
    ``period`` is a kind from ``gridcore.periods.KINDS``; ``levels`` the rated levels.
    """

    levels: tuple[str, ...]
    terms: tuple[MetricTerm, ...]
    stars: tuple[StarLevel, ...]
    period: str = "quarter"
    period_rule: RuleRef | None = None
    levels_rule: RuleRef | None = None
    adjustments: tuple[Adjustment, ...] = ()
    caps: tuple[StarCap, ...] = ()
    subsidies: tuple[Subsidy, ...] = ()
    paying: SubsidyPaying = DEFAULT_PAYING
    patrol: PatrolRequirement | None = None
    serious_severity: int = 4
    serious_rule: RuleRef | None = None
    #: roles whose holders are rated as persons (``rated people:``), by their own metrics and ladder
    people: tuple[str, ...] = ()
    people_rule: RuleRef | None = None
    person_terms: tuple[MetricTerm, ...] = ()
    person_adjustments: tuple[Adjustment, ...] = ()
    person_stars: tuple[StarLevel, ...] = ()
    #: this policy's cycle: "" for the section's own, else the name written after
    #: the items' heads (``stars (quarterly):``), and the line of its first item
    cycle: str = ""
    cycle_rule: RuleRef | None = None
    #: the other cycles of the section (on the section's own policy only), in file order
    cycles: tuple[AssessmentPolicy, ...] = ()

    def in_cycle(self, name: str | None) -> AssessmentPolicy | None:
        """The policy of the cycle ``name`` ("" or None: the section's own), or None if there is none."""
        if not name:
            return self
        return next((c for c in self.cycles if c.cycle == name), None)

    def all_cycles(self) -> tuple[AssessmentPolicy, ...]:
        """The section's own cycle, then every other, in file order."""
        return (self, *self.cycles)

    def for_people(self) -> AssessmentPolicy:
        """The policy a person is scored by: the person metrics, adjustments and ladder (no caps)."""
        return attrs.evolve(self, terms=self.person_terms, adjustments=self.person_adjustments,
                            stars=self.person_stars, caps=())

    @property
    def max_score(self) -> float:
        """The best possible score: the sum of the weights."""
        return float(sum(t.weight for t in self.terms))

    def metric_names(self) -> list[str]:
        """Every metric the policy reads (terms, adjustments, conditions), in first-use order."""
        names: list[str] = []
        for term in self.terms:
            names.append(term.metric)
        for adjustment in self.adjustments:
            names.append(adjustment.metric)
        for level in self.stars:
            if level.condition is not None:
                names.extend(sorted(condition_subjects(level.condition) - {SCORE}))
        return list(dict.fromkeys(names))

    def subsidy_for(self, role: str) -> Subsidy | None:
        """The subsidy line for ``role``, if any."""
        for subsidy in self.subsidies:
            if subsidy.role == role:
                return subsidy
        return None
