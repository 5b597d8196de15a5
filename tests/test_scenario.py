"""Scenario files: what a day in a community looks like, checked before anything is simulated."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs
import pytest

from gridcore.community import Community
from gridcore_app.rosterio import load_community
from gridcore_app.scenario import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_problems,
    with_role_ids,
)
from gridcore_app.simulate import RULESETS_DIR, simulate

COMMUNITIES = ("yinquan", "cuihu", "xingfuwan", "chengqiao")
START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def communities() -> dict[str, Community]:
    return {name: load_community(RULESETS_DIR / name) for name in COMMUNITIES}


@pytest.mark.parametrize("name", COMMUNITIES)
def test_every_real_scenario_fits_its_community(name: str, communities: dict[str, Community]) -> None:
    scenario = load_scenario(RULESETS_DIR / name / "scenario.yaml")
    assert scenario_problems(scenario, communities[name]) == []
    assert scenario.incidents and scenario.patrols and scenario.activities
    assert all(plan.per_day > 0 for plan in scenario.incidents)



@pytest.mark.parametrize("name", COMMUNITIES)
def test_every_role_a_scenarios_handling_names_is_taken_in_chinese(name: str, communities: dict[str, Community]) -> None:
    """Every field of the handling plan that names roles (handlers, verifier, escalated, severe and climbed
    handlers, whom to consult, who approves extensions, who assigns tasks) is read in either language: the
    real plan written in the roster's Chinese names comes back in ids, field for field."""
    community = communities[name]
    english = load_scenario(RULESETS_DIR / name / "scenario.yaml")
    plan = english.handling
    # the plan's fields that hold role ids here (a list of roles and nothing else), found from the plan itself
    named = {a.name: value for a in attrs.fields(type(plan)) if isinstance(value := getattr(plan, a.name), tuple)
             and value and all(isinstance(n, str) and n in community.roles for n in value)}
    assert {"handlers", "verifier"} <= set(named)
    chinese = attrs.evolve(english, handling=attrs.evolve(
        plan, **{field: tuple(community.roles[n] for n in roles) for field, roles in named.items()}))
    assert chinese.handling != plan and scenario_problems(chinese, community) == []
    assert with_role_ids(chinese, community).handling == plan

def test_scenario_mistakes_are_reported_with_their_path(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"chance must be a share between 0 and 1, got 2.0 @ activities\.扫地"):
        parse_scenario({"channels": {"patrol": 1}, "handling": {"handlers": ["x"], "verifier": ["y"]},
                        "activities": {"扫地": {"roles": ["volunteer"], "chance": 2}}})
    with pytest.raises(ScenarioError, match=r"required setting missing @ handling\.verifier \(缺少必填设置\)"):
        parse_scenario({"channels": {"patrol": 1}, "handling": {"handlers": ["x"]}})
    with pytest.raises(ScenarioError, match=r"got 'soon' @ demo\.start \(应为日期，如 2025-03-03\)"):
        parse_scenario({"channels": {"patrol": 1}, "handling": {"handlers": ["x"], "verifier": ["y"]},
                        "demo": {"start": "soon"}})
    with pytest.raises(ScenarioError, match=r"@ patrols\.p\.coverage \(值的形式不对\)$"):  # Python's own wording
        parse_scenario({"channels": {"patrol": 1}, "handling": {"handlers": ["x"], "verifier": ["y"]},
                        "patrols": {"p": {"chance": 1, "coverage": 5}}})
    bad = tmp_path / "scenario.yaml"
    bad.write_text("patrols: [1, 2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)


def test_a_scenario_must_fit_its_community(communities: dict[str, Community]) -> None:
    scenario = parse_scenario({
        "channels": {"patrol": 1},
        "handling": {"handlers": ["fulltime_gridworker"], "verifier": ["网格长"], "climbed_handlers": ["dispatcher"]},
        "incidents": {"fire_hazard": {"per_day": 1, "whistle": "coast_guard"}},
    })
    with pytest.raises(ScenarioError) as caught:
        list(simulate(communities["yinquan"], scenario, days=1, start=START, seed=1))
    # 网格长 is grid_leader's Chinese name: a scenario, like a ruleset, takes either (test_roster_roles)
    assert "网格长" not in str(caught.value)
    assert "handling: unknown role 'dispatcher'" in str(caught.value)  # Yinquan has no command centre
    assert "unknown department 'coast_guard'" in str(caught.value)




def test_tasks_deductions_and_households_are_checked_and_leave_the_rest_of_the_log_alone(
        communities: dict[str, Community]) -> None:
    base = {"channels": {"patrol": 1}, "handling": {"handlers": ["fulltime_gridworker"], "verifier": ["grid_leader"]}}
    with pytest.raises(ScenarioError, match=r"done must be a share between 0 and 1, got 1.5 @ tasks\.入户排查"):
        parse_scenario({**base, "tasks": {"入户排查": {"by": "grid_leader", "to": ["x"], "per_month": 1, "done": 1.5}}})
    odd = parse_scenario({**base, "tasks": {"入户排查": {"by": "grid_boss", "to": ["fulltime_gridworker"],
                                                    "per_month": 1}},
                          "deductions": {"巡查缺勤": {"roles": ["fulltime_gridworker"], "chance": 0.1,
                                                   "recorder": "chief"}},
                          "households": {"registrars": ["clerk"]}})
    assert scenario_problems(odd, communities["yinquan"]) == [
        "deductions.巡查缺勤.recorder: unknown role 'chief' (未知角色)",
        "tasks.入户排查: unknown role 'grid_boss' (未知角色)", "households.registrars: unknown role 'clerk' (未知角色)"]
    # Yinquan's scenario with and without its campaigns and deductions: every other event is the same
    folder = RULESETS_DIR / "yinquan"
    full = load_scenario(folder / "scenario.yaml")
    assert full.tasks and full.deductions
    import attrs

    bare = attrs.evolve(full, tasks=(), deductions=())
    with_them = list(simulate(communities["yinquan"], full, days=30, start=START, seed=3))
    without = list(simulate(communities["yinquan"], bare, days=30, start=START, seed=3))
    extra = [e for e in with_them if e.id.startswith(("yq-s3-t", "yq-s3-d"))]
    assert {e.kind for e in extra} == {"task_assigned", "task_completed", "activity_recorded"}
    assert [e for e in with_them if e not in extra] == without
