"""Per-person metrics the assessment plugin contributes (``about=MEMBER``): what a person is rated by.

* ``patrols_logged`` (巡查次数): patrols the person logged in the period;
* ``households_visited`` (包联户走访率, %): of the households the person looks
  after (包联户, as at the period's end), the share they visited themselves in
  the period; ``households_visited == 100`` is "visited every household they
  look after".  None when they look after none.

Each reads the log once per period for everybody (``logindex``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from gridcore.metrics import MEMBER, Metric, MetricValue

from . import logindex
from .headings import METRIC_INPUTS_ZH

if TYPE_CHECKING:
    from gridcore import Engine


def patrols_logged(engine: Engine, member: str, start: datetime, end: datetime) -> MetricValue:
    """How many patrols ``member`` logged in ``[start, end)``."""
    counts = logindex.memo(engine, ("patrols by", start, end),
                           lambda: Counter(e.actor for e in logindex.events(engine, ["patrol_logged"], start, end)))
    return MetricValue(Fraction(counts[member]), {"patrols": counts[member]})


def households_visited(engine: Engine, member: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the households ``member`` looks after (as at ``end``) that they visited in the period."""
    mine = logindex.households_at(engine, end).looked_after_by(member)
    if not mine:
        return None
    seen = logindex.visits_by(engine, start, end)
    missed = [h for h in mine if (member, h) not in seen]
    return MetricValue(Fraction(100 * (len(mine) - len(missed)), len(mine)),
                       {"households looked after": len(mine), "visited": len(mine) - len(missed),
                        "not visited": ", ".join(missed[:10]) + (" ..." if len(missed) > 10 else "") or "none"})


PERSON_METRICS = [
    Metric("patrols_logged", "Patrols logged by the person", "patrols", patrols_logged, title_zh="巡查次数",
           about=MEMBER, inputs_zh=METRIC_INPUTS_ZH, unit_zh="次"),
    Metric("households_visited", "Households the person looks after that they visited", "%", households_visited,
           title_zh="包联户走访率", about=MEMBER, inputs_zh=METRIC_INPUTS_ZH),
]
