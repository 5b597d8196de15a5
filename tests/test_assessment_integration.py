"""The assessment with every installed plugin: Yinquan's real ruleset over a simulated month.

The metrics the ruleset counts come from three plugins (escalation: closure,
acceptance, satisfaction, overdue; this plugin: patrols, participation,
registration; the district base names them all), so this is where the
contract between them is exercised.  Skipped if a built-in plugin is missing.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import REPO
from gridcore_assessment import assess, history

from gridcore import Engine, FixedClock
from gridcore.rosterio import load_community

pytest.importorskip("gridcore_escalation.plugin")
pytest.importorskip("gridcore_points.plugin")
simulate_module = pytest.importorskip("gridcore.simulate")

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
        assert all("district-base.rules:" in str(t.rule) for t in rating.terms)
        assert 1 <= rating.stars <= 5
    assert [a.period for a in history(engine)] == ["2025-01"]


def test_explanations_and_outcomes_with_every_plugin(engine: Engine) -> None:
    result = assess(engine, "2025-01")
    first = result.ratings[0]
    text = engine.explain(f"assessment:2025-01:{first.node}").render()
    assert f"rated {first.stars} stars" in text and "district-base.rules:65" in text
    subjects = {o.subject for o in engine.outcomes() if o.plugin == "assessment"}
    assert f"node:{first.node}:stars:2025-Q1" in subjects  # the district base rates quarterly
