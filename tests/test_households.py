"""Households (户) on the roster and in the engine: files, counts up the tree, events, history, refusals."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore import Engine, RosterError
from gridcore.community import Community
from gridcore.events import (
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    ResidentMoved,
    ResidentRegistered,
)
from gridcore.households import CareLink, Counts, Household, Resident
from gridcore_app.cli import main_group as main
from gridcore_app.rosterbook import load_workbook_roster, save_workbook
from gridcore_app.rosterio import load_community, save_community

MINI = Path(__file__).parent / "data" / "community-mini"
BOM = "\ufeff"

HOUSEHOLDS = (
    "id,name,node,place,people,floating\n"
    "h1,王家,g1-u1,p1,3,\n"
    "h2,李家,,p2,2,是\n"
    "h3,陈家,g1-u2,,4,false\n"
    "h4,周家,g2-u1,p5,1,\n"
)
RESIDENTS = (
    "id,name,household,floating,key_person,special_group\n"
    "r1,王奶奶,h1,,,独居老人\n"
    "r2,李租客,h2,是,,\n"
    "r3,陈某,h3,,是,\n"
)
CARE = "member,household,place\nm05,h1,\nm05,,p2\nm08,h4,\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The sample community with households, residents and care links, as staff save them (BOM)."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    (target / "households.csv").write_text(BOM + HOUSEHOLDS, encoding="utf-8")
    (target / "residents.csv").write_text(BOM + RESIDENTS, encoding="utf-8")
    (target / "care.csv").write_text(BOM + CARE, encoding="utf-8")
    return target


def test_households_load_with_their_counts_adding_up_the_tree(folder: Path) -> None:
    mini = load_community(folder)
    assert mini.households["h2"] == Household("h2", "李家", "g1-u1", place="p2", people=2, floating=True)
    assert mini.residents["r1"].special_group == "独居老人"
    assert mini.counts("g1-u1") == Counts(households=2, population=5, floating=2, special=1, key=0)
    assert mini.counts("g1") == Counts(households=3, population=9, floating=2, special=1, key=1)
    assert mini.counts("yq") == Counts(households=4, population=10, floating=2, special=1, key=1)
    assert mini.counts("school") == Counts()
    # 包联户: a household directly, and every household of a building
    assert mini.looked_after_by("m05") == ("h1", "h2")
    assert mini.looked_after_by("m01") == ()


def test_saved_and_loaded_again_the_same_community(folder: Path, tmp_path: Path) -> None:
    mini = load_community(folder)
    assert Community.from_document(mini.to_document()) == mini
    out = tmp_path / "out"
    save_community(mini, out)
    assert (out / "households.csv").read_text(encoding="utf-8").startswith(BOM + "id,name,node")
    assert load_community(out) == mini
    save_community(mini, tmp_path / "inline", inline=True)
    assert load_community(tmp_path / "inline") == mini
    book = save_workbook(mini, tmp_path / "roster.xlsx")
    assert load_workbook_roster(book) == mini


def test_a_community_without_households_writes_no_household_files(tmp_path: Path) -> None:
    save_community(load_community(MINI), tmp_path / "plain")
    assert not (tmp_path / "plain" / "households.csv").exists()
    assert "households" not in load_community(MINI).to_document()


def test_workbook_sheets_may_be_headed_in_chinese(folder: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = save_workbook(load_community(folder), tmp_path / "r.xlsx")
    book = load_workbook(path)
    sheet = book["户 households"]
    for cell, zh in zip(sheet[1], ("户号", "户主", "节点编号", "地址编号", "人口", "流动户"), strict=True):
        cell.value = zh
    book.save(path)
    assert load_workbook_roster(path).households["h1"].people == 3


@pytest.mark.parametrize(
    "sheet,line,message",
    [
        ("households", "h9,孙家,g1,,2,", "must sit in a leaf cell"),
        ("households", "h9,孙家,g2-u1,p1,2,", "its place 'p1' (1栋) is in 'g1-u1'"),
        ("households", "h9,孙家,g2-u1,,0,", "people must be a whole number from 1"),
        ("households", "h9,孙家,g2-u1,,2.5,", "people must be a whole number from 1"),
        ("households", "h9,孙家,,,2,", "give the household's node or its place"),
        ("households", "h1,又一个王家,g1-u1,,2,", "duplicate household id 'h1'"),
        ("residents", "r9,某人,h404,,,", "unknown household 'h404'"),
        ("residents", "r9,某人,h4,,,\nr10,某人,h4,,,", "household 'h4' has 1 people"),
        ("residents", "m01,李明,h1,,,", "the id of a roster member"),
        ("care", "m404,h1,", "unknown member 'm404'"),
        ("care", "m05,,p404", "unknown place 'p404'"),
        ("care", "m05,h1,p1", "name a household or a place, exactly one"),
        ("care", "m05,h1,", "the same care link"),
    ],
)
def test_roster_mistakes_are_refused_naming_the_row(folder: Path, sheet: str, line: str, message: str) -> None:
    path = folder / f"{sheet}.csv"
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    with pytest.raises(RosterError) as info:
        load_community(folder)
    assert message in str(info.value)
    assert f"{sheet}.csv" in str(info.value)


def test_hierarchy_show_prints_households_and_population_with_totals(folder: Path) -> None:
    result = CliRunner().invoke(main, ["hierarchy", "show", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("银泉社区 [yq]") and "4户 10人" in line for line in lines)
    assert any("第一网格 [g1]" in line and "3户 9人 (floating 流动 2, special 特殊 1, key 重点 1)" in line
               for line in lines)
    assert any("1单元 [g1-u1]" in line and "2户 5人" in line for line in lines)
    assert lines[-1] == "total / 合计: 4户 10人 (floating 流动 2, special 特殊 1, key 重点 1)"
    plain = CliRunner().invoke(main, ["hierarchy", "show", str(MINI)])
    assert "户" not in plain.output


# ------------------------------------------------------------ events


def at(hours: float) -> object:
    return START + timedelta(hours=hours)


@pytest.fixture
def engine(folder: Path, tmp_path: Path) -> Engine:
    from conftest import BUILTIN_PLUGINS

    from gridcore import FixedClock, get_plugin_manager

    opened = Engine.open(store=str(tmp_path / "store"), community=load_community(folder),
                         clock=FixedClock(START), plugins=get_plugin_manager(BUILTIN_PLUGINS))
    yield opened
    opened.close()


def test_moved_in_out_and_split_keep_counts_and_history(engine: Engine) -> None:
    register = engine.households
    engine.record(HouseholdMovedIn(id="e1", time=START, actor="m01", node="g2-u1", household="h5",
                                   name="吴家", place="p5", size=3))
    engine.record(HouseholdSplit(id="e2", time=START + timedelta(days=1), actor="m01", node="g1-u1",
                                 household="h1", new_household="h1b", name="王小", size=1,
                                 residents=("r1",), place="p1"))
    engine.record(HouseholdMovedOut(id="e3", time=START + timedelta(days=2), actor="m01", node="g1-u2",
                                    household="h3", note="迁往县城"))
    assert engine.households is register or engine.households.household("h5") is not None
    assert engine.households.counts("yq") == Counts(households=5, population=9, floating=2, special=1, key=0)
    assert engine.households.household("h1").people == 2
    assert engine.households.named_in("h1b")[0].id == "r1"
    assert [c.event for c in engine.households.history("h1")] == ["roster", "e2"]
    assert "moved out" in engine.households.history("h3")[-1].text
    assert engine.households.looked_after_by("m08") == ("h4",)
    # the roster's building link now takes in a household that moved into the building
    engine.record(HouseholdMovedIn(id="e4", time=START + timedelta(days=3), actor="m01", node="g1-u1",
                                   household="h6", name="郑家", place="p2"))
    assert engine.households.looked_after_by("m05") == ("h1", "h2", "h6")
    # and a rebuild from the log gives the same register
    before = (engine.households.counts("yq"), engine.households.history("h1"))
    engine.rebuild()
    assert (engine.households.counts("yq"), engine.households.history("h1")) == before


@pytest.mark.parametrize(
    "event,reason",
    [
        (HouseholdMovedIn(id="x", time=START, actor="m01", node="g1-u1", household="h1", name="王家"),
         "household 'h1' is already on record (户号已在册)"),
        (HouseholdMovedIn(id="x", time=START, actor="m01", node="g1", household="h9", name="孙家"),
         "must live in a leaf cell"),
        (HouseholdMovedIn(id="x", time=START, actor="m01", node="g2-u1", household="h9", name="孙家", place="p1"),
         "place 'p1' is in 'g1-u1', not 'g2-u1' (地址不在该网格内)"),
        (HouseholdMovedOut(id="x", time=START, actor="m01", node="g1-u1", household="h404"),
         "household 'h404' is not on record (户不在册)"),
        (HouseholdMovedOut(id="x", time=START, actor="m01", node="g2-u1", household="h1"),
         "household 'h1' lives in 'g1-u1', not 'g2-u1'"),
        (HouseholdVisited(id="x", time=START, actor="m05", node="g1-u1", household="h404"),
         "not on record"),
        (HouseholdSplit(id="x", time=START, actor="m01", node="g2-u1", household="h4", new_household="h9",
                        name="周小", size=1), "at most 0 can split off, one must stay"),
        (HouseholdSplit(id="x", time=START, actor="m01", node="g1-u1", household="h1", new_household="h9",
                        name="王小", size=1, residents=("r3",)), "not named in household 'h1': r3"),
        (HouseholdSplit(id="x", time=START, actor="m01", node="g1-u1", household="h1", new_household="h2",
                        name="王小", size=1), "household 'h2' is already on record"),
        (ResidentRegistered(id="x", time=START, actor="m05", node="g1-u1", person="r1", household="h1"),
         "resident 'r1' is already on record in household 'h1'"),
        (ResidentRegistered(id="x", time=START, actor="m08", node="g2-u1", person="r9", household="h1"),
         "household 'h1' lives in 'g1-u1', not 'g2-u1'"),
    ],
)
def test_events_that_do_not_fit_the_record_are_refused_and_change_nothing(
    engine: Engine, event: object, reason: str
) -> None:
    before = (engine.households.counts("yq"), engine.households.history("h1"), engine.store.count())
    summary = engine.record_many([event])
    assert summary.accepted == 0
    assert any(reason in r for r in summary.refused[0].reasons), summary.refused[0].reasons
    assert (engine.households.counts("yq"), engine.households.history("h1"), engine.store.count()) == before


def test_a_registered_resident_joins_a_household_and_leaves_it_when_moving(engine: Engine) -> None:
    engine.record(ResidentRegistered(id="e1", time=START, actor="m08", node="g2-u1", person="r9",
                                     name="周阿姨", household="h4", special_group="残疾人"))
    household = engine.households.household("h4")
    assert household is not None and household.people == 1  # the one person of h4 now has a name
    engine.record(ResidentRegistered(id="e1b", time=START, actor="m08", node="g2-u1", person="r10",
                                     name="周小弟", household="h4"))
    household = engine.households.household("h4")
    assert household is not None and household.people == 2  # a newcomer: one more person
    assert engine.households.counts("g2-u1").special == 1
    engine.record(ResidentMoved(id="e2", time=START + timedelta(days=1), actor="m08", node="g1-u2",
                                person="r9", from_node="g2-u1"))
    assert [r.id for r in engine.households.named_in("h4")] == ["r10"]
    assert engine.households.counts("g2-u1") == Counts(households=1, population=1)
    # a resident the roster names may act and be moved like a registered one
    assert engine.knows_person("r1")


def test_the_household_events_go_through_the_cli(folder: Path, tmp_path: Path) -> None:
    import json

    store = tmp_path / "cli-store"
    runner = CliRunner()
    made = runner.invoke(main, ["init", "--community", str(folder), "--store", str(store)])
    assert made.exit_code == 0, made.output
    log = tmp_path / "events.jsonl"
    lines = [
        {"kind": "household_moved_in", "id": "c1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01",
         "node": "g2-u1", "household": "h7", "name": "钱家", "size": 2},
        {"kind": "household_split", "id": "c2", "time": "2025-03-02T09:00:00+08:00", "actor": "m01",
         "node": "g1-u2", "household": "h3", "new_household": "h3b", "name": "陈二", "size": 1,
         "residents": ["r3"]},
        {"kind": "household_moved_out", "id": "c3", "time": "2025-03-03T09:00:00+08:00", "actor": "m01",
         "node": "g1-u1", "household": "h404"},
    ]
    log.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result = runner.invoke(main, ["ingest", str(log), "--store", str(store)])
    assert result.exit_code == 1
    assert "h404" in result.output and "户不在册" in result.output
    with Engine.open(store=str(store), read_only=True) as opened:
        assert opened.households.counts("yq").households == 6
        assert opened.households.named_in("h3b")[0].name == "陈某"
    # the counts as the events changed them, and one household's history
    shown = runner.invoke(main, ["hierarchy", "show", "--store", str(store)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[-1] == "total / 合计: 6户 12人 (floating 流动 2, special 特殊 1, key 重点 1)"
    assert any("[g1-u2]" in line and "2户 4人" in line for line in shown.output.splitlines())  # 陈家 split in two
    told = runner.invoke(main, ["hierarchy", "household", "h3b", "--store", str(store)])
    assert told.exit_code == 0, told.output
    assert "h3b 陈二" in told.output and "resident 居民 r3 陈某 (key 重点)" in told.output
    assert "c2" in told.output and "split from h3: 1 people (分户)" in told.output
    cared = runner.invoke(main, ["hierarchy", "household", "h1", "--store", str(store)]).output
    assert "looked after by 包联 m05" in cared and "on the roster: 3 people" in cared
    unknown = runner.invoke(main, ["hierarchy", "household", "h404", "--store", str(store)])
    assert unknown.exit_code == 1 and "never on record" in unknown.output and "户不在册" in unknown.output
    neither = runner.invoke(main, ["hierarchy", "show"])
    assert neither.exit_code == 2 and "or --store" in neither.output


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["in", "out", "split"]), st.integers(0, 5), st.integers(1, 4)),
                max_size=12))
def test_counts_always_match_the_households_on_record(folder: Path, steps: list[tuple[str, int, int]]) -> None:
    from conftest import BUILTIN_PLUGINS

    from gridcore import FixedClock, get_plugin_manager

    community = load_community(folder)
    with tempfile.TemporaryDirectory() as scratch, Engine.open(
        store=f"sqlite:///{scratch}/s.db", community=community, clock=FixedClock(START),
        plugins=get_plugin_manager(BUILTIN_PLUGINS),
    ) as opened:
        for n, (what, pick, people) in enumerate(steps):
            ids = sorted(opened.households.households)
            when = START + timedelta(hours=n)
            target = ids[pick % len(ids)] if ids else "h1"
            household = opened.households.household(target)
            node = household.node if household else "g1-u1"
            if what == "in":
                event: object = HouseholdMovedIn(id=f"e{n}", time=when, actor="m01", node="g2-u1",
                                                 household=f"n{n}", name="新户", size=people)
            elif what == "out":
                event = HouseholdMovedOut(id=f"e{n}", time=when, actor="m01", node=node, household=target)
            else:
                event = HouseholdSplit(id=f"e{n}", time=when, actor="m01", node=node, household=target,
                                       new_household=f"s{n}", name="分户", size=people)
            opened.record_many([event])
            on_record = opened.households.households.values()
            assert opened.households.counts("yq").households == len(on_record)
            assert opened.households.counts("yq").population == sum(h.people for h in on_record)
            assert all(h.people >= 1 for h in on_record)


def test_records_refuse_bad_values() -> None:
    with pytest.raises(RosterError, match="exactly one"):
        CareLink("m1")
    with pytest.raises(RosterError, match="must be non-empty text"):
        Resident("", "x", "h1")
    with pytest.raises(RosterError, match="户人口"):
        Household("h1", "王家", "u1", people=-1)


def test_a_checkpoint_keeps_the_register_an_open_restores_it(folder: Path, tmp_path: Path) -> None:
    """Opening from a checkpoint gives the register a full replay gives (households moved, split, out)."""
    from conftest import BUILTIN_PLUGINS

    from gridcore import FixedClock, get_plugin_manager
    from gridcore.checkpointing import CHECKPOINTS

    url = str(tmp_path / "cp-store")
    with Engine.open(store=url, community=load_community(folder), clock=FixedClock(START),
                     plugins=get_plugin_manager(BUILTIN_PLUGINS)) as engine:
        engine.record(HouseholdMovedIn(id="e1", time=START, actor="m01", node="g2-u1", household="h5",
                                       name="吴家", place="p5", size=3))
        engine.record(HouseholdSplit(id="e2", time=START + timedelta(days=1), actor="m01", node="g1-u1",
                                     household="h1", new_household="h1b", name="王小", size=1,
                                     residents=("r1",), place="p1"))
        engine.record(HouseholdMovedOut(id="e3", time=START + timedelta(days=2), actor="m01", node="g1-u2",
                                        household="h3", note="迁往县城"))
        assert engine.checkpoint()
        expected = (engine.households.counts("yq"), engine.households.history("h1"),
                    engine.households.named_in("h1b"), engine.households.household("h3"))
        assert any(True for _ in engine.store.items(CHECKPOINTS))
    with Engine.open(store=url, clock=FixedClock(START), plugins=get_plugin_manager(BUILTIN_PLUGINS)) as again:
        assert again._base > 0, "the state did not come from the checkpoint"
        got = (again.households.counts("yq"), again.households.history("h1"),
               again.households.named_in("h1b"), again.households.household("h3"))
        assert got == expected
        again.rebuild()  # and a replay from the start agrees
        assert (again.households.counts("yq"), again.households.history("h1"),
                again.households.named_in("h1b"), again.households.household("h3")) == expected
