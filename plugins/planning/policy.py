"""The planning policy: what a ruleset's ``planning`` section compiles to."""

from __future__ import annotations

from attrs import field

from gridcore.classes import frozen
from gridcore.explain import RuleRef
from gridcore.rules import Pos
from gridcore.rules.ast import NOWHERE

#: How far a cell may be off its planned size when the line does not say.
DEFAULT_TOLERANCE = 0.5


@frozen
class Part:
    """One part of a ``size`` line: ``households``, ``people`` or ``within`` and its number."""

    what: str
    value: float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Size:
    """The cells of ``level`` should hold about ``households`` households and ``people`` people."""

    level: str
    rule: RuleRef
    households: int | None = None
    people: int | None = None
    tolerance: float = DEFAULT_TOLERANCE

    def bounds(self, planned: int) -> tuple[float, float]:
        """The least and most a cell may hold for a planned number."""
        return planned * (1 - self.tolerance), planned * (1 + self.tolerance)


@frozen
class PlanningPolicy:
    """The planned sizes a ruleset sets, by level."""

    sizes: tuple[Size, ...] = ()
