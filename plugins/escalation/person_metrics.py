"""Per-person metrics of the incident loop (``about=MEMBER``): what an assessment rates handlers by.

* ``handled_within_limit`` (个人按时办结率, %): of the cases the person resolved
  in the period, the share whose time limits all held while the case was
  theirs: from when they took it on, or it was assigned to them (派单), to
  their resolution.  A limit missed before it came to them (by whoever had it
  first, or by a level that let it wait) is not theirs; one missed in their
  time is, whether it sent the case up, passed it on inside the cell or was
  missed at the top.  A reopened case starts a new round.  None when they
  resolved nothing in the period.
* ``handled_satisfaction`` (个人满意度, 1-5): the mean satisfaction of the
  verifications made in the period of cases the person resolved (each
  verification scores whoever made the resolution it verifies).  None when
  none was verified.

Both are worked out for everybody at once per period (kept until the records
change), and read only the events (never the clock), so the same log gives
the same values.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from attrs import field

from gridcore.classes import define
from gridcore.metrics import MEMBER, Metric, MetricValue

from .headings import METRIC_INPUTS_ZH
from .incident import Incident
from .views import state_of

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import EscalationState


@define
class _Record:
    """One person's handled cases in a period."""

    resolved: list[tuple[str, bool]] = field(factory=list)  # (incident, within its limits)
    scores: list[int] = field(factory=list)


_MEMO: WeakKeyDictionary[EscalationState, dict[tuple[datetime, datetime, int, int, int], dict[str, _Record]]] = (
    WeakKeyDictionary()
)


def _records(engine: Engine, start: datetime, end: datetime) -> dict[str, _Record]:
    state = state_of(engine)
    memo = _MEMO.setdefault(state, {})
    # (a back-dated ruleset judges the same log again: the records' versions say it changed)
    key = (start, end, engine.position, *state.stamp())
    if key not in memo:
        memo.clear()  # only the newest position is worth keeping
        out: defaultdict[str, _Record] = defaultdict(_Record)
        for incident in state.active_between(start, end):  # (what happened in the period: resolutions, verifications)
            _rounds(incident, start, end, out)
        memo[key] = dict(out)
    return memo[key]


def _rounds(incident: Incident, start: datetime, end: datetime, out: defaultdict[str, _Record]) -> None:
    """Walk the case's timeline: who had it since when, who resolved each round, who each verification scores."""
    given = {a.event: a.handler for a in incident.assignments}
    since: dict[str, datetime] = {}
    resolver: str | None = None
    verifications = iter(incident.verifications)
    for entry in incident.timeline:
        if entry.what == "accepted":
            since.setdefault(entry.actor, entry.time)
        elif entry.what == "assigned" and entry.event in given:
            since.setdefault(given[entry.event], entry.time)
        elif entry.what == "resolved":
            began = since.get(entry.actor, entry.time)
            if start <= entry.time < end:
                late = any(began < b.time <= entry.time for b in incident.breaches)
                out[entry.actor].resolved.append((incident.id, not late))
            resolver = entry.actor
            since.clear()
        elif entry.what == "verified":
            when, score, _ = next(verifications, (entry.time, 0, ""))
            if resolver is not None and score and start <= when < end:
                out[resolver].scores.append(score)
        elif entry.what == "reopened":
            since.clear()


def handled_within_limit(engine: Engine, member: str, start: datetime, end: datetime) -> MetricValue | None:
    """Share (%) of the cases ``member`` resolved in ``[start, end)`` with no limit missed while they had them."""
    record = _records(engine, start, end).get(member)
    if record is None or not record.resolved:
        return None
    late = [incident for incident, within in record.resolved if not within]
    total = len(record.resolved)
    return MetricValue(Fraction(100 * (total - len(late)), total),
                       {"cases resolved": total, "within limits": total - len(late),
                        "late": ", ".join(late[:10]) + (" ..." if len(late) > 10 else "") or "none"})


def handled_satisfaction(engine: Engine, member: str, start: datetime, end: datetime) -> MetricValue | None:
    """Mean satisfaction (1-5) of the period's verifications of cases ``member`` resolved."""
    record = _records(engine, start, end).get(member)
    if record is None or not record.scores:
        return None
    return MetricValue(Fraction(sum(record.scores), len(record.scores)), {"verifications": len(record.scores)})


PERSON_METRICS = (
    Metric("handled_within_limit", "Cases the person resolved with no limit missed while they had them", "%",
           handled_within_limit, title_zh="个人按时办结率", about=MEMBER, inputs_zh=METRIC_INPUTS_ZH),
    Metric("handled_satisfaction", "Mean satisfaction of the cases the person resolved", "score",
           handled_satisfaction, title_zh="个人满意度", about=MEMBER, inputs_zh=METRIC_INPUTS_ZH, unit_zh="分"),
)
