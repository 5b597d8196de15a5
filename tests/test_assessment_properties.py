"""Invariants of assessment (hypothesis): bounds, monotonicity, order independence."""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_assessment_engine import MONTHLY_ZH, QUARTERLY, incident, open_engine, patrols

from gridcore.events import ActivityRecorded, Event
from gridcore_assessment.rating import assess
from gridcore_assessment.scoring import Rating
from gridcore_escalation.events import IncidentEvent

UNITS = ("u11", "u12", "u21")
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def workloads(draw: st.DrawFn) -> list[Event]:
    """A quarter's random patrols, incidents (on time or late, satisfied or not, open) and activities; ids
    reused (an incident reported again, a step of one never reported), so in random order some come late."""
    events: list[Event] = []
    for unit in UNITS:
        days = draw(st.sets(st.integers(1, 90), max_size=40))
        events += patrols(unit, sorted(days))
    for n in range(draw(st.integers(0, 5))):
        close_after = draw(st.one_of(st.none(), st.floats(1, 240)))
        events += incident(
            f"w{n}", draw(st.sampled_from(UNITS)), draw(st.integers(1, 80)),
            close_after=close_after, satisfaction=draw(st.one_of(st.none(), st.integers(1, 5))),
            severity=draw(st.integers(1, 5)),
        )  # fmt: skip
    # reused ids: an incident reported again under a new id (dated before or after its report), a step of an
    # incident never reported
    for n, event in enumerate(draw(st.lists(st.sampled_from(events), max_size=3)) if events else []):
        if isinstance(event, IncidentEvent):
            shift = timedelta(hours=draw(st.integers(-72, 72)))
            incident_id = event.incident if draw(st.booleans()) else "w99"
            events.append(attrs.evolve(event, id=f"again{n}", time=event.time + shift, incident=incident_id))
    if draw(st.booleans()):
        events.append(ActivityRecorded(id="act", time=patrols("u11", [3])[0].time, actor="res1", node="u11",
                                       activity="clean_up"))
    return events


def ratings(events: list[Event], rules: Path, period: str, batches: list[list[Event]] | None = None) -> list[Rating]:
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(Path(folder) / "s", rules)
        try:
            for batch in batches or [events]:
                engine.record_many(batch)
            return list(assess(engine, period, save=False).ratings)
        finally:
            engine.close()


@SETTINGS
@given(workloads(), st.sampled_from(UNITS), st.integers(1, 85), st.floats(0.5, 72), st.integers(1, 5))
def test_a_satisfied_on_time_incident_never_lowers_a_grid_score(
    events: list[Event], unit: str, day: int, hours: float, severity: int
) -> None:
    before = ratings(events, QUARTERLY, "2025-Q1")
    extra = incident("extra", unit, day, close_after=hours, satisfaction=5, severity=severity)
    after = ratings(events + extra, QUARTERLY, "2025-Q1")
    for old, new in zip(before, after):
        assert old.node == new.node
        assert 0 <= new.score <= new.max_score == 100
        assert new.score >= old.score, (old.node, old.terms, new.terms)


@SETTINGS
@given(workloads(), st.randoms(use_true_random=False), st.sampled_from([(QUARTERLY, "2025-Q1"), (MONTHLY_ZH, "2025-02")]))
def test_results_do_not_depend_on_event_order(events: list[Event], rnd: random.Random, case: tuple[Path, str]) -> None:
    rules, period = case
    expected = ratings(events, rules, period)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    cut = sorted(rnd.sample(range(len(shuffled) + 1), k=min(3, len(shuffled) + 1)))
    batches = [shuffled[a:b] for a, b in zip([0, *cut], [*cut, len(shuffled)])]
    assert ratings(events, rules, period, batches) == expected
    assert all(0 <= r.score <= r.max_score for r in expected)
