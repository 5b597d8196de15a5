"""The four real communities' rosters and the generator that simulates them."""

from __future__ import annotations

import json
import runpy
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BUILTIN_PLUGINS, IncidentKinds, PointsKinds, TaskKinds
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.codec import EventCodec
from gridcore.community import Community
from gridcore.events import ResidentRegistered, event_order
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import (
    RULESETS_DIR,
    ScenarioError,
    find_community,
    load_scenario,
    simulate,
)
from gridcore_escalation.events import IncidentEvent

COMMUNITIES = ("yinquan", "cuihu", "xingfuwan", "chengqiao")
START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def communities() -> dict[str, Community]:
    return {name: load_community(RULESETS_DIR / name) for name in COMMUNITIES}


def events_of(community: Community, name: str, days: int, seed: int = 1) -> list:
    scenario = load_scenario(RULESETS_DIR / name / "scenario.yaml")
    return list(simulate(community, scenario, days=days, start=START, seed=seed))


# ---------------------------------------------------------------- rosters


def role_count(community: Community, role: str) -> int:
    return sum(1 for m in community.members.values() for a in m.roles if a.role == role)


def test_yinquan_has_the_accounts_sizes(communities: dict[str, Community]) -> None:
    yq = communities["yinquan"]
    assert yq.hierarchy.levels == ("community", "grid", "unit")
    assert len(yq.hierarchy.nodes_at("grid")) == 8
    assert len(yq.hierarchy.nodes_at("unit")) == 53
    assert role_count(yq, "fulltime_gridworker") == 10
    assert role_count(yq, "professional_gridworker") == 16
    assert role_count(yq, "parttime_gridworker") == 22
    assert role_count(yq, "unit_leader") == 53
    # Professional gridworkers come from line departments; every grid has its police officer.
    police = yq.department_members("police")
    assert len(police) == 8
    assert yq.hierarchy.node("yq-g1").name == "银泉社区第一网格"


def test_cuihu_has_building_leaders_and_property_staff(communities: dict[str, Community]) -> None:
    ch = communities["cuihu"]
    buildings = ch.hierarchy.nodes_at("building")
    assert len(buildings) == 235 + 80
    leaders = {m.id for m in ch.members.values() if any(a.role == "building_leader" for a in m.roles)}
    assert len(leaders) == 43
    assert role_count(ch, "building_leader") == 235  # every old building has its leader
    estates = [g for g in ch.hierarchy.nodes_at("grid") if ch.holders(g.id, "property_manager")]
    assert len(estates) == 7


def test_xingfuwan_has_five_levels_and_industry_grids(communities: dict[str, Community]) -> None:
    xf = communities["xingfuwan"]
    assert len(xf.hierarchy.levels) == 5
    industry = [n for n in xf.hierarchy if n.kind == "industry"]
    assert len(industry) == 42
    assert all(n.parent == "xn" for n in industry)
    assert [n.kind for n in xf.hierarchy if n.kind == "dedicated"] == ["dedicated"] * 3
    # 29 estates and 5 natural villages, all inside the community (the account),
    # not villages of the township beside it.
    inside = xf.hierarchy.children("xn-xfw")
    assert len(inside) == 34 and {n.level for n in inside} == {"group"}
    assert sum(1 for n in inside if n.name.endswith("村")) == 5
    territorial_villages = [n.id for n in xf.hierarchy.nodes_at("village") if n.kind == "territorial"]
    assert territorial_villages == ["xn-xfw"]
    # 7,017 households, one micro-grid per ~50 of them.
    assert 130 <= len(xf.hierarchy.nodes_at("microgrid")) <= 150


def party_members(community: Community) -> int:
    return sum(1 for m in community.members.values() if m.party_member)


def test_party_members_are_as_many_as_the_accounts_count(communities: dict[str, Community]) -> None:
    assert party_members(communities["yinquan"]) == 45
    assert party_members(communities["cuihu"]) == 68
    # Their registered residents add none: the accounts' party members are all on the roster.
    for name in ("yinquan", "cuihu"):
        assert load_scenario(RULESETS_DIR / name / "scenario.yaml").population.party_share == 0  # type: ignore[union-attr]


def test_chengqiao_has_a_leader_for_every_microgrid(communities: dict[str, Community]) -> None:
    cq = communities["chengqiao"]
    assert cq.hierarchy.levels == ("town", "grid", "microgrid")
    for micro in cq.hierarchy.nodes_at("microgrid"):
        leaders = cq.holders(micro.id, "microgrid_leader")
        assert len(leaders) == 1 and leaders[0].party_member


def test_roster_files_are_regenerated_exactly(tmp_path: Path) -> None:
    script = runpy.run_path(str(RULESETS_DIR / "tools" / "make_rosters.py"), run_name="make_rosters")
    script["main"](tmp_path)
    for name in COMMUNITIES:
        for made in sorted((tmp_path / name).iterdir()):
            assert made.read_bytes() == (RULESETS_DIR / name / made.name).read_bytes(), made.name


# ---------------------------------------------------------------- the generator


def test_same_seed_same_events_other_seed_other_events(communities: dict[str, Community]) -> None:
    yq = communities["yinquan"]
    codec = EventCodec()
    first = [codec.to_dict(e) for e in events_of(yq, "yinquan", 5, seed=7)]
    again = [codec.to_dict(e) for e in events_of(yq, "yinquan", 5, seed=7)]
    other = [codec.to_dict(e) for e in events_of(yq, "yinquan", 5, seed=8)]
    assert first == again
    assert first != other


@pytest.mark.parametrize("name", COMMUNITIES)
def test_every_event_passes_the_core_checks(name: str, communities: dict[str, Community], tmp_path: Path) -> None:
    community = communities[name]
    events = events_of(community, name, 10)
    kinds = Counter(e.kind for e in events)
    for kind in ("patrol_logged", "incident_reported", "incident_accepted", "incident_resolved",
                 "incident_verified", "activity_recorded", "resident_registered"):
        assert kinds[kind] > 0, kind
    assert events == sorted(events, key=event_order)
    end = datetime(2025, 1, 11, tzinfo=community.tz)
    assert all(datetime(2025, 1, 1, tzinfo=community.tz) <= e.time < end for e in events)
    assert len({e.id for e in events}) == len(events)
    # The core alone (no plugin judging them), knowing the plugins' event kinds.
    kinds = get_plugin_manager(BUILTIN_PLUGINS, extra=[IncidentKinds(), PointsKinds(), TaskKinds()])
    engine = Engine.open(store=tmp_path / "store", community=community,
                         clock=FixedClock(datetime(2025, 1, 1, tzinfo=community.tz)), plugins=kinds)
    with engine:
        summary = engine.record_many(events)
    assert summary.refused == []
    assert summary.accepted == len(events)


def test_incidents_follow_the_closed_loop(communities: dict[str, Community]) -> None:
    order = ["incident_reported", "incident_accepted", "incident_handling_started"]
    loop: dict[str, list[str]] = {}
    for event in events_of(communities["yinquan"], "yinquan", 30):
        if isinstance(event, IncidentEvent):
            loop.setdefault(event.incident, []).append(event.kind)
    assert len(loop) > 50
    for kinds in loop.values():
        # Escalated handling (提级办理) puts an escalation before the acceptance.
        start = [k for k in kinds[:4] if k != "incident_escalated"]
        assert start[: len(order)] == order[: len(start)]
        if "incident_verified" in kinds:
            assert kinds.index("incident_resolved") < kinds.index("incident_verified")
        if kinds.count("incident_verified") == 2:  # unsatisfied first time: taken on again
            assert kinds.count("incident_resolved") == 2
            assert kinds.count("incident_accepted") >= 2
        if "incident_closed" in kinds:
            assert kinds[-1] in ("incident_closed", "satisfaction_rated")
    assert any("incident_escalated" in kinds for kinds in loop.values())
    assert any(kinds.count("incident_verified") == 2 for kinds in loop.values())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), days=st.integers(1, 3))
def test_any_seed_gives_ordered_known_events(seed: int, days: int) -> None:
    community = load_community(RULESETS_DIR / "yinquan")
    registered: set[str] = set()
    events = events_of(community, "yinquan", days, seed=seed)
    assert events == sorted(events, key=event_order)
    for event in events:
        assert event.node in community.hierarchy
        assert event.actor in community.members or event.actor in registered
        if isinstance(event, ResidentRegistered):
            registered.add(event.person)


def test_the_cli_writes_lines_that_ingest_accepts(tmp_path: Path) -> None:
    from gridcore_app.cli import main_group

    runner = CliRunner()
    log = tmp_path / "events.jsonl"
    store = str(tmp_path / "store")
    made = runner.invoke(main_group, ["simulate", "--community", "银泉社区", "--days", "2", "--seed", "3",
                                      "--out", str(log)])
    assert made.exit_code == 0, made.output
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line)["id"].startswith("yq-s3-") for line in lines)
    assert runner.invoke(main_group, ["init", "--community", str(RULESETS_DIR / "yinquan"),
                                      "--store", store]).exit_code == 0
    ingested = runner.invoke(main_group, ["ingest", str(log), "--store", store, "--quiet"])
    assert f"{len(lines)} stored" in ingested.output


def test_communities_are_found_by_folder_name_chinese_name_or_path() -> None:
    assert find_community("yinquan") == find_community("银泉社区") == RULESETS_DIR / "yinquan"
    assert find_community(RULESETS_DIR / "cuihu") == RULESETS_DIR / "cuihu"
    with pytest.raises(ScenarioError, match="known: chengqiao"):
        find_community("atlantis")


def test_nothing_is_produced_after_the_last_day(communities: dict[str, Community]) -> None:
    community = communities["chengqiao"]
    events = events_of(community, "chengqiao", 4)
    end = datetime(2025, 1, 1, tzinfo=community.tz) + timedelta(days=4)
    assert max(e.time for e in events) < end
    assert events_of(community, "chengqiao", 0) == []


def test_chengqiao_runs_its_five_step_loop(communities: dict[str, Community]) -> None:
    """发现—会商—处置—反馈—评价: consulted before handling, the reporter told before the score."""
    events = events_of(communities["chengqiao"], "chengqiao", 30)
    first: dict[tuple[str, str], datetime] = {}
    for event in events:
        if isinstance(event, IncidentEvent):
            first.setdefault((event.incident, event.kind), event.time)
    consulted = [i for (i, kind) in first if kind == "consultation_held"]
    assert consulted
    for incident in consulted:
        assert first[(incident, "incident_accepted")] < first[(incident, "consultation_held")]
        assert first[(incident, "consultation_held")] < first[(incident, "incident_handling_started")]
    verified = [i for (i, kind) in first if kind == "incident_verified"]
    assert verified
    for incident in verified:
        assert first[(incident, "incident_resolved")] < first[(incident, "feedback_given")]
        assert first[(incident, "feedback_given")] < first[(incident, "incident_verified")]
    kinds = Counter(e.kind for e in events)
    assert kinds["extension_requested"] == kinds["extension_approved"] + kinds["extension_refused"] > 0
    # 退单: the department a line matter was routed to sends some back before anyone takes them on
    returned = [e for e in events if e.kind == "incident_returned"]
    assert returned and all(e.department in ("fire", "police", "urban_management") for e in returned)
    for event in returned:
        assert first[(event.incident, "incident_reported")] < event.time < first[(event.incident, "incident_accepted")]
    # 派单: the micro-grid leader (or grid leader) gives some cases to their handler before they take them on
    community = communities["chengqiao"]
    accepted_by = {}
    for event in events:
        if event.kind == "incident_accepted":
            accepted_by.setdefault(event.incident, event.actor)
    assigned = [e for e in events if e.kind == "incident_assigned"]
    assert assigned
    for event in assigned:
        assert first[(event.incident, "incident_reported")] < event.time < first[(event.incident, "incident_accepted")]
        assert event.handler == accepted_by[event.incident] != event.actor
        assert {a.role for a in community.members[event.actor].roles} & {"microgrid_leader", "grid_leader"}


def test_steps_a_scenario_does_not_ask_for_are_not_made(communities: dict[str, Community]) -> None:
    kinds = Counter(e.kind for e in events_of(communities["yinquan"], "yinquan", 10))
    assert kinds["incident_resolved"] > 0
    assert not kinds["consultation_held"] and not kinds["feedback_given"] and not kinds["extension_requested"]
    assert not kinds["incident_returned"] and not kinds["incident_assigned"]


def test_xingfuwan_simulates_campaigns_and_its_households(communities: dict[str, Community]) -> None:
    xf = communities["xingfuwan"]
    events = events_of(xf, "xingfuwan", 10)
    kinds = Counter(e.kind for e in events)
    assert kinds["task_assigned"] and kinds["task_completed"] and kinds["household_visited"] > 100
    cared = {(link.member, link.household) for link in xf.care}
    # a home visit is by a party member of the household's cluster (包联户), never by someone else
    assert all((e.actor, e.household) in cared for e in events if e.kind == "household_visited")  # type: ignore[attr-defined]


def test_a_fixed_population_registers_everyone_on_the_first_day_and_nobody_after(
        communities: dict[str, Community]) -> None:
    yq = communities["yinquan"]
    scenario = load_scenario(RULESETS_DIR / "yinquan" / "scenario.yaml")
    events = list(simulate(yq, scenario, days=20, start=START, seed=2, population=400))
    first_night = datetime(2025, 1, 1, 0, 30, tzinfo=yq.tz)
    registered = [e for e in events if isinstance(e, ResidentRegistered)]
    assert len(registered) == 400 and all(e.time <= first_night for e in registered)
    assert Counter(e.kind for e in events)["resident_moved"] > 0  # moves go on: where, not how many
    growing = events_of(yq, "yinquan", 20, seed=2)
    assert sum(isinstance(e, ResidentRegistered) for e in growing) > scenario.population.initial  # type: ignore[union-attr]
    # households moving in add people too: a fixed population has none
    xf = communities["xingfuwan"]
    kinds = Counter(e.kind for e in simulate(xf, load_scenario(RULESETS_DIR / "xingfuwan" / "scenario.yaml"),
                                             days=20, start=START, seed=1, population=50))
    assert kinds["resident_registered"] == 50 and kinds["household_moved_in"] == 0
    assert kinds["household_visited"] > 0
    assert Counter(e.kind for e in events_of(xf, "xingfuwan", 20))["household_moved_in"] > 0
    with pytest.raises(ScenarioError, match="must not be negative"):
        simulate(yq, scenario, days=1, start=START, seed=1, population=-1)
