"""The assessment with every installed plugin: Yinquan's real ruleset over a simulated month.

The metrics the ruleset counts come from three plugins (escalation: closure,
acceptance, satisfaction, overdue; this plugin: patrols, participation,
registration; the district base names them all), so this is where the
contract between them is exercised.  Skipped if a built-in plugin is missing.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import REPO

from gridcore import Engine, FixedClock
from gridcore.events import Event
from gridcore_app.rosterio import load_community
from gridcore_assessment import assess, history
from gridcore_escalation.events import (
    IncidentClosed,
    IncidentEscalated,
    IncidentEvent,
    IncidentReopened,
    IncidentVerified,
)

pytest.importorskip("gridcore_escalation.plugin")
pytest.importorskip("gridcore_points.plugin")
simulate_module = pytest.importorskip("gridcore_app.simulate")

YINQUAN = REPO / "rulesets" / "yinquan"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    community = load_community(YINQUAN)
    tz = community.tz
    scenario = simulate_module.load_scenario(YINQUAN / "scenario.yaml")
    events = list(simulate_module.simulate(community, scenario, days=31, start=date(2025, 1, 1), seed=3))
    store = tmp_path_factory.mktemp("yinquan") / "store"
    opened = Engine.open(store=str(store), community=community, ruleset=YINQUAN / "yinquan.rules",
                         clock=FixedClock(datetime(2025, 2, 1, tzinfo=tz)), effective=datetime(2025, 1, 1, tzinfo=tz))
    opened.record_many(events)
    return opened


def test_every_grid_is_rated_from_every_plugins_metrics(engine: Engine) -> None:
    result = assess(engine, "2025-01")
    grids = [n.id for n in engine.community.hierarchy.nodes_at("grid")]
    assert sorted(r.node for r in result.ratings) == sorted(grids)
    contributed = engine.metrics()
    for rating in result.ratings:
        assert 0 <= rating.score <= rating.max_score == 100
        assert set(rating.values) <= set(contributed)
        assert {"closure_within_limit", "patrol_coverage", "participation"} <= set(rating.values)
        # the district's weights; Yinquan's own penalty for campaign parts missed (奖惩)
        assert all("district-base.rules:" in str(t.rule) for t in rating.terms if t.kind == "weight")
        assert [t.metric for t in rating.terms if "yinquan.rules:" in str(t.rule)] == ["overdue_tasks"]
        assert 1 <= rating.stars <= 5
    assert [a.period for a in history(engine)] == ["2025-01"]


def test_explanations_and_outcomes_with_every_plugin(engine: Engine) -> None:
    result = assess(engine, "2025-01")
    first = result.ratings[0]
    text = engine.explain(f"assessment:2025-01:{first.node}").render()
    assert f"rated {first.stars} stars" in text and "district-base.rules:65" in text
    subjects = {o.subject for o in engine.outcomes() if o.plugin == "assessment"}
    assert f"node:{first.node}:stars:2025-Q1" in subjects  # the district base rates quarterly


def _build(events: list[Event], folder: Path) -> Engine:
    community = load_community(YINQUAN)
    tz = community.tz
    opened = Engine.open(store=str(folder), community=community, ruleset=YINQUAN / "yinquan.rules",
                         clock=FixedClock(datetime(2025, 2, 1, tzinfo=tz)), effective=datetime(2025, 1, 1, tzinfo=tz))
    opened.record_many(events)
    return opened


def test_with_the_real_plugins_a_satisfied_on_time_incident_never_lowers_a_score(tmp_path: Path) -> None:
    community = load_community(YINQUAN)
    scenario = simulate_module.load_scenario(YINQUAN / "scenario.yaml")
    events = list(simulate_module.simulate(community, scenario, days=31, start=date(2025, 1, 1), seed=3))
    full = _build(events, tmp_path / "full")
    try:
        stored_events = list(full.events())
        with_all = {r.node: r.score for r in assess(full, "2025-01", save=False).ratings}
    finally:
        full.close()
    # incidents verified with full satisfaction, never escalated nor reopened: the ideal cases
    by_incident: dict[str, list[Event]] = {}
    for event in stored_events:
        if isinstance(event, IncidentEvent):
            by_incident.setdefault(event.incident, []).append(event)
    ideal = sorted(
        ident for ident, evs in by_incident.items()
        if any(isinstance(e, IncidentVerified) and e.satisfaction == 5 for e in evs)
        and any(isinstance(e, IncidentClosed) for e in evs)
        and not any(isinstance(e, (IncidentEscalated, IncidentReopened)) for e in evs)
    )
    assert ideal, "the simulated month has no ideal incident to take away"
    for n, ident in enumerate(ideal[:2]):
        without = [e for e in events if not (isinstance(e, IncidentEvent) and e.incident == ident)]
        engine = _build(without, tmp_path / f"without-{n}")
        try:
            scores = {r.node: r.score for r in assess(engine, "2025-01", save=False).ratings}
        finally:
            engine.close()
        assert all(with_all[node] >= score for node, score in scores.items()), (ident, scores, with_all)
