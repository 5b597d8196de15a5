"""Per-engine assessment state: the span of events seen, and the hooks that read it.

Ratings are computed from the event log when they are asked for (rating.py);
the state only remembers the first and last event times (so outcomes cover
the periods between) and a cache of log slices the metrics read.  It answers
explanations (``assessment:<period>:<node>``) and the outcomes a what-if
compares.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridcore import hookimpl
from gridcore.explain import Explanation, Outcome, OutcomeKind

if TYPE_CHECKING:
    from gridcore import Engine
    from gridcore.events import Event

    from .rating import Assessment

NAME = "assessment"
PREFIX = "assessment:"
_INSTANT = timedelta(microseconds=1)

# What the assessment plugin reports to a what-if comparison.
STARS = OutcomeKind("stars", "Grids that gain or lose stars", "stars")
SUBSIDIES = OutcomeKind("subsidies", "Subsidies that change", "yuan")
SCORES = OutcomeKind("scores", "Assessment scores that change")


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


class AssessmentState:
    """Per-engine state: the span of events seen (for outcomes) and the hooks that read it."""

    #: the shape of the document ``gridcore_save_state`` gives
    STATE_VERSION = 1

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.first: datetime | None = None
        self.last: datetime | None = None
        #: slices of the event log the metrics read, dropped whenever the store grows
        self.cache: dict[tuple[object, ...], object] = {}

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        """Remember the first and last event times (outcomes cover the periods between)."""
        if self.first is None or event.time < self.first:
            self.first = event.time
        if self.last is None or event.time > self.last:
            self.last = event.time

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        """The span of events seen, for checkpoints (the metrics' cache is rebuilt when needed)."""
        return {"first": _iso(self.first), "last": _iso(self.last)}

    @hookimpl
    def gridcore_restore_state(self, document: dict[str, Any]) -> None:
        """Take back the span a checkpoint saved."""
        first, last = document["first"], document["last"]
        self.first = None if first is None else datetime.fromisoformat(first)
        self.last = None if last is None else datetime.fromisoformat(last)
        self.cache.clear()

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str) -> Explanation | None:
        """Explain ``assessment:<period>:<node>`` or ``assessment:<period>:subsidy:<member>``."""
        if not decision.startswith(PREFIX):
            return None
        from .explain import explain_decision

        return explain_decision(engine, decision[len(PREFIX) :])

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Stars, score and subsidies of every rated node (and stars of every rated person) for every period
        of every cycle (a cycle's outcomes name it: ``node:g1:stars:2025-Q1@quarterly``)."""
        from .scoring import shown

        out: list[Outcome] = []
        for assessment in self.assessments_spanned(engine):
            for rating in assessment.ratings:
                subject = f"node:{rating.node}"
                out.append(Outcome(NAME, f"{subject}:stars:{assessment.key}", rating.stars, rating.rules,
                                   f"score {shown(rating.score)}", STARS))
                # outcomes are compared and shown: the score rounded for display
                out.append(Outcome(NAME, f"{subject}:score:{assessment.key}", shown(rating.score),
                                   tuple(t.rule for t in rating.terms), kind=SCORES))
            for rating in assessment.people:
                out.append(Outcome(NAME, f"member:{rating.node}:stars:{assessment.key}", rating.stars,
                                   rating.rules, f"{rating.level}, score {shown(rating.score)}", STARS))
            totals: dict[str, float] = {}
            for line in assessment.subsidies:
                totals[line.member] = round(totals.get(line.member, 0.0) + line.amount, 2)
            for member, amount in sorted(totals.items()):
                rules = tuple(dict.fromkeys(s.rule for s in assessment.subsidies if s.member == member))
                out.append(Outcome(NAME, f"member:{member}:subsidy:{assessment.key}", amount, rules,
                                   kind=SUBSIDIES))
        return out

    def assessments_spanned(self, engine: Engine) -> list[Assessment]:
        """Fresh (unsaved) assessments of every period of every cycle from the first event to the last."""
        from gridcore.periods import PeriodError, periods_between

        from .metrics import policy_at
        from .rating import assess

        if self.first is None or self.last is None:
            return []
        policy = policy_at(engine, self.last)
        if policy is None:
            return []
        tz = engine.community.tz
        out: list[Assessment] = []
        for cycle in policy.all_cycles():  # each cycle rates its own periods (monthly, quarterly ...)
            try:
                periods = list(periods_between(cycle.period, self.first, self.last + _INSTANT, tz))
            except PeriodError:
                continue
            out.extend(assess(engine, p, save=False, cycle=cycle.cycle) for p in periods)
        return out

