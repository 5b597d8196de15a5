"""A roster that grows under a running store: a new grid or community joins, nothing is judged again.

Issue 14: "adding a community to a running district (a new subtree in the
roster files, then gridcore picks it up) needs no rebuild of the others'
results."  The stores here are built with a roster missing one subtree, then
opened with the whole roster: the engine must restore its checkpoint, apply no
recorded event again, and end in exactly the state a store built with the
whole roster from the start holds.  A roster that changes or removes what is
there is still refused, with what changed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from gridcore import Engine, FixedClock, GridcoreError, get_plugin_manager
from gridcore.community import Community
from gridcore.events import Event, HouseholdMovedIn
from gridcore.growth import roster_growth
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community, save_community
from gridcore_app.scenario import load_scenario
from gridcore_app.service.live import load_every_state
from gridcore_app.simulate import RULESETS_DIR, simulate

YINQUAN = RULESETS_DIR / "yinquan"
NEW_GRID = "yq-g5"


def without(community: Community, root: str) -> Community:
    """The community as it was before the subtree under ``root`` was added to its roster."""
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


def events_for(community: Community, days: int = 4, limit: int = 400) -> list[Event]:
    scenario = load_scenario(YINQUAN / "scenario.yaml")
    return list(islice(simulate(community, scenario, days=days, start=date(2025, 1, 1), seed=5), limit))


def states(engine: Engine) -> dict[str, Any]:
    """Every built-in plugin's saved state, as a checkpoint would hold it."""
    load_every_state(engine)  # (a state restored from a checkpoint is given to its plugin when first used)
    found = {}
    for impl in engine.plugins.hook.gridcore_save_state.get_hookimpls():
        saved = engine.hooks.save_state(engine, impl.plugin)
        found[impl.plugin_name] = json.loads(json.dumps(saved, sort_keys=True, default=str))
    return found


GROWN_AT = datetime(2025, 2, 1, tzinfo=load_community(YINQUAN).tz)


def open_engine(url: str, community: Community | None, **kwargs: Any) -> Engine:
    return Engine.open(store=url, community=community, clock=FixedClock(GROWN_AT),
                       plugins=get_plugin_manager(), **kwargs)


def as_files_give_it(community: Community) -> Community:
    """The community without the joining times the store recorded (roster files carry none)."""
    return attrs.evolve(community, nodes_joined={}, members_joined={})


def community_tz() -> Any:
    return load_community(YINQUAN).tz


def build(url: str, community: Community, events: Iterable[Event]) -> None:
    with open_engine(url, community, ruleset=YINQUAN / "yinquan.rules",
                     effective=datetime(2025, 1, 1, tzinfo=community.tz)) as engine:
        assert engine.record_many(list(events)).accepted > 300
        engine.checkpoint()


def test_growth_is_told_apart_from_a_change() -> None:
    whole = load_community(YINQUAN)
    before = without(whole, NEW_GRID)
    growth = roster_growth(before.to_document(), whole.to_document())
    assert growth.grows and not growth.changed
    assert NEW_GRID in growth.added["nodes"] and "nodes / 节点" in growth.summary()
    assert not roster_growth(whole.to_document(), before.to_document()).grows  # a removal
    renamed = whole.to_document()
    renamed["nodes"][1] = {**renamed["nodes"][1], "name": "改名网格"}
    changed = roster_growth(whole.to_document(), renamed)
    assert not changed.grows and "changed" in changed.changed[0] and "改名网格" in changed.changed[0]


def test_a_grown_roster_is_taken_on_without_judging_any_event_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = load_community(YINQUAN)
    before = without(whole, NEW_GRID)
    events = events_for(before)
    grown_url, fresh_url = f"sqlite:///{tmp_path / 'grown.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"
    build(grown_url, before, events)
    build(fresh_url, whole, events)  # the whole roster from the start: what growing must equal

    applied: list[str] = []
    real_apply = Engine._apply

    def apply(self: Engine, event: Event, *, replaying: bool) -> None:
        applied.append(event.id)
        real_apply(self, event, replaying=replaying)

    monkeypatch.setattr(Engine, "_apply", apply)
    with open_engine(grown_url, whole) as grown:
        assert applied == []  # restored from the checkpoint: nothing judged again
        assert as_files_give_it(grown.community) == whole
        # what the growth added joined at the engine's clock, saved with the roster
        assert grown.community.nodes_joined == {n.id: GROWN_AT
                                                for n in whole.hierarchy.descendants(NEW_GRID, include_self=True)}
        assert set(grown.community.members_joined) == set(whole.members) - set(before.members)
        assert set(grown.community.members_joined.values()) == {GROWN_AT}
        assert any("roster grown" in warning and "花名册已扩充" in warning for warning in grown.warnings)
        grown_states = states(grown)
        grown_board = grown.report("points.board", {"node": "yq", "month": "2025-01"}).rows
    monkeypatch.setattr(Engine, "_apply", real_apply)
    with open_engine(fresh_url, None, read_only=True) as fresh:
        assert states(fresh) == grown_states
        assert fresh.report("points.board", {"node": "yq", "month": "2025-01"}).rows == grown_board

    # the grown store keeps its roster, and the new grid now takes events like any other
    with open_engine(grown_url, None) as again:
        assert as_files_give_it(again.community) == whole and again.community.nodes_joined
        gridworker = next(m for m in whole.members.values() if any(r.node == NEW_GRID for r in m.roles))
        assert again.record({"kind": "patrol_logged", "id": "new-grid-patrol", "actor": gridworker.id,
                             "node": NEW_GRID, "time": "2025-01-20T09:00:00+08:00"})


def test_a_roster_that_changes_what_is_there_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    whole = load_community(YINQUAN)
    url = f"sqlite:///{tmp_path / 'yq.db'}"
    build(url, whole, events_for(whole, days=2, limit=320))
    doc = whole.to_document()
    doc["nodes"] = [{**n, "name": "新名字"} if n["id"] == "yq-g1-u4" else n for n in doc["nodes"]]
    renamed = Community.from_document(doc)
    with pytest.raises(GridcoreError, match=r"yq-g1-u4 changed \(name: .* -> '新名字'\).*花名册只能在已有记录之上新增"):
        open_engine(url, renamed)
    with open_engine(url, None, read_only=True) as engine:
        assert engine.community == whole


def test_gridcore_init_on_a_running_store_picks_up_a_new_grid(tmp_path: Path) -> None:
    whole = load_community(YINQUAN)
    before = without(whole, NEW_GRID)
    old_folder, new_folder = tmp_path / "old", tmp_path / "new"
    save_community(before, old_folder)
    save_community(whole, new_folder)
    store = f"sqlite:///{tmp_path / 'yq.db'}"
    build(store, before, events_for(before, days=2, limit=320))
    runner = CliRunner()
    result = runner.invoke(main_group, ["init", "--store", store, "--community", str(new_folder)])
    assert result.exit_code == 0, result.output
    assert "roster grown" in result.output and "花名册已扩充" in result.output
    shown = runner.invoke(main_group, ["hierarchy", "show", "--store", store])
    assert shown.exit_code == 0 and NEW_GRID in shown.output


MINI = Path(__file__).parent / "data" / "community-mini"


def mini_with_households(tmp_path: Path, households: str, care: str = "member,household,place\n") -> Community:
    target = tmp_path / f"mini-{len(list(tmp_path.glob('mini-*')))}"
    shutil.copytree(MINI, target)
    (target / "households.csv").write_text("\ufeffid,name,node,place,people,floating\n" + households, encoding="utf-8")
    (target / "care.csv").write_text("\ufeff" + care, encoding="utf-8")
    return load_community(target)


def test_new_households_on_the_roster_join_the_register_and_a_clash_with_an_event_is_refused(
        tmp_path: Path) -> None:
    from conftest import BUILTIN_PLUGINS, START

    before = mini_with_households(tmp_path, "h1,王家,g1-u1,p1,3,\n")
    grown = mini_with_households(tmp_path, "h1,王家,g1-u1,p1,3,\nh4,周家,g2-u1,p5,1,\n",
                                 "member,household,place\nm08,h4,\n")
    clashing = mini_with_households(tmp_path, "h1,王家,g1-u1,p1,3,\nh4,周家,g2-u1,p5,1,\nh5,吴家,g2-u1,p5,2,\n",
                                    "member,household,place\nm08,h4,\n")

    def opened(store: Path, community: Community | None) -> Engine:
        return Engine.open(store=str(store), community=community, clock=FixedClock(START),
                           plugins=get_plugin_manager(BUILTIN_PLUGINS))

    with opened(tmp_path / "store", before) as engine:
        engine.record(HouseholdMovedIn(id="e1", time=START, actor="m01", node="g2-u1", household="h5",
                                       name="吴家", place="p5", size=2))
    with opened(tmp_path / "store", grown) as engine:
        assert set(engine.households.households) == {"h1", "h4", "h5"}
        assert [c.event for c in engine.households.history("h4")] == ["roster"]
        assert engine.households.counts("g2-u1").households == 2
        assert engine.households.looked_after_by("m08") == ("h4",)
    # h5 came by an event: a roster that also lists it as its own is refused, and nothing changes
    with pytest.raises(GridcoreError, match="household h5 is already on record through an event"):
        opened(tmp_path / "store", clashing)
    with opened(tmp_path / "store", None) as engine:
        assert engine.community == grown


def test_what_a_growth_adds_is_rated_from_the_first_period_starting_when_it_joined(tmp_path: Path) -> None:
    """The grid joins at the very start of February (``GROWN_AT``): not rated, nor its gridworker rated or
    paid, for the first quarter, which started before; rated for February, which starts then."""
    from gridcore_assessment import assess

    whole = load_community(YINQUAN)
    before = without(whole, NEW_GRID)
    url = f"sqlite:///{tmp_path / 'grown.db'}"
    build(url, before, events_for(before))
    with open_engine(url, whole) as engine:
        gridworker = next(m.id for m in whole.members.values()
                          if any(r.node == NEW_GRID and r.role == "fulltime_gridworker" for r in m.roles))
        quarter = assess(engine, "2025-Q1", save=False)
        assert NEW_GRID not in {r.node for r in quarter.ratings} and quarter.ratings
        assert gridworker not in {p.node for p in quarter.people} and quarter.people  # rated people, too
        assert gridworker not in {s.member for s in quarter.subsidies}
        assert any(note.startswith("not rated for 2025-Q1") for note in quarter.notes)
        february = assess(engine, "2025-02@月度评星", save=False)
        assert NEW_GRID in {r.node for r in february.ratings}
        assert not any(note.startswith("not rated") for note in february.notes)
        told = engine.explain(f"assessment:2025-Q1:person:{gridworker}")
        assert "joined on 2025-02-01" in told.summary and "不发补贴" in told.summary
