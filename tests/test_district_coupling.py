"""benchmarks/district_coupling.py: the key model that says which events share state, checked by ingesting.

A small generated district (2 streets, 4 communities) is simulated for a few
busy days; the tool splits its events into shards that share no key of any
plugin, and ingesting each shard apart must give exactly the serial ingest's
stored events (derived ones too), refusals, and every plugin's outcomes but
the assessment's (a rating reads every event of its cell, so a shard's is
partial: assessment needs its counts added up, see docs/district.md).
"""

from __future__ import annotations

import json
import runpy
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gridcore.codec import EventCodec
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import load_scenario, simulate

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
import district_coupling as coupling

sys.path.remove(str(REPO / "benchmarks"))


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A district of 2 streets and 4 communities, and 3 busy days of its events as documents."""
    root = tmp_path_factory.mktemp("coupling")
    make = runpy.run_path(str(REPO / "rulesets" / "tools" / "make_yinzhou.py"))
    make["district"](root, key="small", streets=2, communities=4, name="小银州区")
    community = load_community(root / "small")
    scenario = load_scenario(REPO / "rulesets" / "yinzhou" / "scenario-busy.yaml")
    codec = EventCodec()
    docs = [json.loads(json.dumps(codec.to_dict(event), ensure_ascii=False, default=str))
            for event in simulate(community, scenario, days=3, start=date(2025, 3, 3), seed=5)]
    return root / "small", docs


def roster_of(folder: Path) -> frozenset[str]:
    return frozenset(load_community(folder).members)


def test_the_shards_share_no_key(district: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, docs = district
    roster = roster_of(folder)
    shards = coupling.split(docs, roster, 2)
    assert sorted(n for shard in shards for n in shard) == list(range(len(docs)))
    assert all(shards)
    for plugin in coupling.PLUGINS:
        keys = [{key for n in shard for key in coupling.keys_of(docs[n], plugin, roster, False)} for shard in shards]
        assert not keys[0] & keys[1], plugin


def test_a_resident_moving_to_another_street_joins_the_streets(
        district: tuple[Path, list[dict[str, Any]]]) -> None:
    folder, _ = district
    community = load_community(folder)
    roster = frozenset(community.members)

    def event(ident: str, kind: str, node: str, actor: str, **fields: Any) -> dict[str, Any]:
        return {"id": ident, "time": f"2025-03-03T09:0{ident[-1]}:00+08:00", "kind": kind, "node": node,
                "actor": actor, **fields}

    docs = [
        event("e1", "resident_registered", "yz-c1-g1", "yz-c1-g1-fw", person="p1", name="张梅"),
        event("e2", "patrol_logged", "yz-c1-g1", "yz-c1-g1-fw"),
        event("e3", "resident_registered", "yz-c3-g1", "yz-c3-g1-fw", person="p2", name="李强"),
        event("e4", "activity_recorded", "yz-c3-g1", "yz-c3-g1-fw", activity="志愿服务", member="p2", hours=1),
    ]
    streets = coupling.shard_names(docs, community.hierarchy, "street")
    assert streets == ["yz-s1", "yz-s1", "yz-s2", "yz-s2"]
    apart = coupling.measure(docs, streets, coupling.PLUGINS, roster)
    assert (apart["shard_groups"], apart["largest_component"], apart["events_in_crossing_components"]) == (2, 2, 0)
    moved = [*docs, event("e5", "resident_moved", "yz-c3-g1", "yz-c3-g1-fw", person="p1")]
    joined = coupling.measure(moved, coupling.shard_names(moved, community.hierarchy, "street"),
                              coupling.PLUGINS, roster)
    assert (joined["shard_groups"], joined["largest_group_share"], joined["events_in_crossing_components"]) \
        == (1, 1.0, 2)
    # the patrol (a roster member at their own cell) touches no key: it joins nothing
    assert joined["components"] == 3
    # who acts in more than one community: p1, registered in yz-c1 and moved to yz-c3 (earning nowhere)
    across = coupling.people_across(moved, community.hierarchy, roster)
    assert (across["in_several_communities"], across["staff"], across["residents_in_several"],
            across["residents_who_moved"]) == (1, 0, 1, 1)
    assert across["earning_or_spending_in_several"] == {"staff": 0, "residents": 0}
    # a street's police officer resolving cases of two communities, one of them sent up to the street
    cases = [*moved,
             event("e6", "incident_reported", "yz-c1-g1", "p1", incident="i1", category="leaking_pipe"),
             event("e7", "incident_resolved", "yz-s1", "yz-s1-p1", incident="i1"),
             event("e8", "incident_reported", "yz-c2-g1", "yz-c2-g1-fw", incident="i2", category="leaking_pipe"),
             event("e9", "incident_resolved", "yz-c2-g1", "yz-s1-p1", incident="i2")]
    across = coupling.people_across(cases, community.hierarchy, roster)
    assert (across["in_several_communities"], across["staff"]) == (2, 1)
    assert across["earning_or_spending_in_several"] == {"staff": 1, "residents": 0}


def test_shards_ingested_apart_give_the_serial_results(district: tuple[Path, list[dict[str, Any]]],
                                                       tmp_path: Path) -> None:
    folder, docs = district
    found = coupling.verify_split(docs, roster_of(folder), folder, REPO / "rulesets" / "yinzhou" / "yinzhou.rules",
                                  2, tmp_path)
    differences = found["differences"]
    for what in ("stored", "refused"):
        d = differences[what]
        assert (d["only_serial_count"], d["only_shards_count"], d["unequal_count"]) == (0, 0, 0), (what, d)
        assert d["clashes_between_shards"] == 0
    assert differences["stored"]["serial"] > len(docs) * 0.9  # nearly every event was stored, and compared
    outcomes = differences["outcomes"]
    assert outcomes["only_serial_count"] == outcomes["only_shards_count"] == 0
    assert set(outcomes["by_plugin"]) <= {"assessment"}
    assert sum(found["shards"]) == len(docs) and min(found["shards"]) > 0
