"""A running engine takes on a roster another process grew (``gridcore init --community`` on its store).

A district adds a community while its service runs: ``Engine.refresh`` must
notice the grown roster and end in exactly the state opening the store again
gives, then accept events naming what is new.  The growth runs in a real
``gridcore init`` process beside the engine kept open here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from gridcore import Engine, EventRefused, FixedClock, GridcoreError, get_plugin_manager
from gridcore.community import Community
from gridcore.events import PatrolLogged
from gridcore_app.rosterio import load_community, save_community
from gridcore_app.scenario import load_scenario
from gridcore_app.service.live import load_every_state
from gridcore_app.simulate import RULESETS_DIR, simulate

YINQUAN = RULESETS_DIR / "yinquan"
NEW_GRID = "yq-g5"
GRIDCORE = Path(sys.executable).parent / "gridcore"


def without(community: Community, root: str) -> Community:
    """The community before the subtree under ``root`` was added to its roster."""
    doc = community.to_document()
    gone = {node.id for node in community.hierarchy.descendants(root, include_self=True)}
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] not in gone]
    doc["members"] = [m for m in doc["members"] if not any(r["node"] in gone for r in m["roles"])
                      and m.get("home") not in gone]
    doc["places"] = [p for p in doc["places"] if p["node"] not in gone]
    doc["locations"] = {k: v for k, v in doc.get("locations", {}).items() if k not in gone}
    for key in ("households", "residents", "care"):
        doc.pop(key, None)
    return Community.from_document(doc)


def states(engine: Engine) -> dict[str, Any]:
    """Every plugin's saved state, as a checkpoint holds it."""
    found = {}
    for impl in engine.plugins.hook.gridcore_save_state.get_hookimpls():
        saved = engine.hooks.save_state(engine, impl.plugin)
        found[impl.plugin_name] = json.loads(json.dumps(saved, sort_keys=True, default=str))
    return found


def picture(engine: Engine) -> dict[str, Any]:
    """What a fresh open and a refreshed engine must agree on."""
    load_every_state(engine)  # (a state restored from a checkpoint is given to its plugin when first used)
    return {"community": engine.community.to_document(), "position": engine.position,
            "states": states(engine), "households": sorted(engine.households.households),
            "board": engine.report("points.board", {"node": "yq", "month": "2025-01"}).rows}


WHOLE = load_community(YINQUAN)
TZ = WHOLE.tz
GROWN_AT = datetime(2025, 1, 6, 10, tzinfo=TZ)


def new_member() -> str:
    """A member who holds a post in the new grid only."""
    inside = {node.id for node in WHOLE.hierarchy.descendants(NEW_GRID, include_self=True)}
    return next(m.id for m in WHOLE.members.values() if m.roles and all(r.node in inside for r in m.roles))


def patrol(ident: str, actor: str, node: str, when: datetime) -> PatrolLogged:
    return PatrolLogged(id=ident, time=when, actor=actor, node=node, minutes=30)


@pytest.fixture
def grown_beside(tmp_path: Path) -> tuple[str, Path]:
    """A store with the roster before the new grid and some days of events, and the whole roster's folder."""
    before = without(WHOLE, NEW_GRID)
    url = f"sqlite:///{tmp_path / 'yq.db'}"
    events = list(islice(simulate(before, load_scenario(YINQUAN / "scenario.yaml"), days=4,
                                  start=date(2025, 1, 1), seed=5), 300))
    with Engine.open(store=url, community=before, ruleset=YINQUAN / "yinquan.rules",
                     effective=datetime(2025, 1, 1, tzinfo=TZ), clock=FixedClock(GROWN_AT)) as engine:
        assert engine.record_many(events).accepted > 200
    save_community(WHOLE, tmp_path / "whole")
    return url, tmp_path / "whole"


def grow(url: str, folder: Path) -> None:
    """``gridcore init --community`` on the store, in a process of its own."""
    done = subprocess.run([str(GRIDCORE), "init", "--store", url, "--community", str(folder),
                           "--now", GROWN_AT.isoformat()], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "花名册已扩充" in done.stdout + done.stderr


def test_refresh_takes_on_a_roster_another_process_grew_as_opening_the_store_does(
        grown_beside: tuple[str, Path]) -> None:
    url, folder = grown_beside
    member = new_member()
    running = Engine.open(store=url, clock=FixedClock(GROWN_AT + timedelta(hours=1)), plugins=get_plugin_manager())
    try:
        with pytest.raises(EventRefused, match="unknown"):
            running.record(patrol("pat-new-0", member, NEW_GRID, GROWN_AT))
        assert running.refresh() == 0 and NEW_GRID not in running.community.hierarchy

        grow(url, folder)
        assert running.refresh() == 0  # the growth appends no event
        assert NEW_GRID in running.community.hierarchy
        assert running.community.joined(NEW_GRID) == GROWN_AT  # the store's record, not this clock's
        assert any("花名册已扩充" in warning for warning in running.warnings)
        with Engine.open(store=url, clock=FixedClock(GROWN_AT + timedelta(hours=1)), read_only=True) as fresh:
            assert picture(running) == picture(fresh)
            # both from the checkpoint the growth took under the grown roster, not a replay of the whole log
            assert running._base == fresh._base == fresh.position > 0

        assert running.record(patrol("pat-new-1", member, NEW_GRID, GROWN_AT + timedelta(minutes=30)))
        with Engine.open(store=url, clock=FixedClock(GROWN_AT + timedelta(hours=1)), read_only=True) as fresh:
            assert picture(running) == picture(fresh)
            assert any(e.id == "pat-new-1" for e in fresh.events(kinds=["patrol_logged"]))
    finally:
        running.close()


def test_a_reader_refreshing_after_a_growth_and_new_events_has_them_all(grown_beside: tuple[str, Path]) -> None:
    url, folder = grown_beside
    member = new_member()
    later = FixedClock(GROWN_AT + timedelta(hours=2))
    with Engine.open(store=url, clock=later, read_only=True) as reader:
        grow(url, folder)
        with Engine.open(store=url, clock=later) as writer:  # a worker that opened after the growth
            assert writer.record(patrol("pat-new-2", member, NEW_GRID, GROWN_AT + timedelta(hours=1)))
        before = reader.position
        assert reader.refresh() == reader.store.position() - before >= 1  # the patrol (and what it derived)
        assert any(e.id == "pat-new-2" for e in reader.events(kinds=["patrol_logged"]))
        with Engine.open(store=url, clock=later, read_only=True) as fresh:
            assert picture(reader) == picture(fresh)
        assert reader.refresh() == 0  # taken on once


def test_a_saved_roster_changed_otherwise_than_by_growing_is_refused_and_the_state_kept(
        grown_beside: tuple[str, Path]) -> None:
    url, _ = grown_beside
    with Engine.open(store=url, clock=FixedClock(GROWN_AT), plugins=get_plugin_manager()) as running:
        kept = picture(running)
        doc = running.community.to_document()
        doc["nodes"] = [{**n, "name": "改名网格"} if n["id"] == "yq-g1" else n for n in doc["nodes"]]
        running.store.put("meta", "community", doc)  # what no gridcore command writes
        running.store.put("meta", "roster", {"fingerprint": "changed"})
        with pytest.raises(GridcoreError, match="otherwise than by growing.*重新打开存储"):
            running.refresh()
        assert picture(running) == kept


def test_a_running_service_lets_the_new_communitys_staff_act_without_a_restart(
        grown_beside: tuple[str, Path]) -> None:
    from servicekit import served

    url, folder = grown_beside
    member = new_member()
    with served(url, now=GROWN_AT + timedelta(hours=1)) as server:
        grow(url, folder)
        issued = subprocess.run([str(GRIDCORE), "tokens", "issue", member, "--store", url], check=False,
                                capture_output=True, text=True, timeout=300)
        assert issued.returncode == 0, issued.stderr
        with server.client(issued.stdout.strip()) as staff:
            me = staff.get("/api/v1/me")
            assert me.status_code == 200, me.text
            assert me.json()["staff"] and {role["node"] for role in me.json()["roles"]} <= {
                node.id for node in WHOLE.hierarchy.descendants(NEW_GRID, include_self=True)}
            reply = staff.post("/api/v1/events", json={"kind": "patrol_logged", "node": NEW_GRID, "minutes": 30})
            assert reply.status_code == 201, reply.text
            stored = reply.json()["event"]
    with Engine.open(store=url, clock=FixedClock(GROWN_AT + timedelta(hours=1)), read_only=True) as fresh:
        assert [e.actor for e in fresh.events(kinds=["patrol_logged"]) if e.id == stored] == [member]
