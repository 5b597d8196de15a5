"""A community added to a running district joins the store at the growth, and is rated and paid from then.

Issue 14: a roll-up or an assessment of a period before a community was added
rated its cells as if it had been there with nothing recorded, and paid its
staff's subsidy lines.  The store now records when each node and member a
growth adds joined (the engine's clock at the growth, saved with the roster),
and every assessment, subsidy line and roll-up leaves them out of a period that
started before they joined; the period they join in is rated from the next
one, as a variant ruleset put in force in the middle of a period is.  Stores
that never grew are as before.

The small district (2 streets, 4 communities) starts here with three: its
fourth, yz-c4 under street yz-s2, joins on Wednesday 5 March 2025 at 10:00.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CST, DISTRICT_RULES, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore import Engine, FixedClock
from gridcore.community import Community
from gridcore.periods import parse_period
from gridcore_app.cli import main_group
from gridcore_app.rollup import rollup
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import load_scenario, simulate

NEW = "yz-c4"
FIRST = datetime(2025, 3, 3, tzinfo=CST)
GROWN = datetime(2025, 3, 5, 10, 0, tzinfo=CST)


@pytest.fixture(scope="module")
def folders(mini_district: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The district's roster files without yz-c4 (``before``) and with it (the whole)."""
    before = tmp_path_factory.mktemp("growth") / "before"
    shutil.copytree(mini_district, before)
    for name in ("nodes.csv", "members.csv", "roles.csv"):
        path = before / name
        lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        path.write_text("\ufeff" + "".join(line for line in lines if NEW not in line), encoding="utf-8")
    return before, mini_district


@pytest.fixture(scope="module")
def three(folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the three communities' first two simulated days (3 and 4 March), never grown."""
    community = load_community(folders[0])
    events = list(simulate(community, load_scenario(REPO / "rulesets/yinzhou/scenario.yaml"), days=2,
                           start=FIRST, seed=4))
    path = tmp_path_factory.mktemp("three") / "three.db"
    with Engine.open(store=f"sqlite:///{path}", community=community, ruleset=DISTRICT_RULES, effective=FIRST,
                     clock=FixedClock(FIRST)) as engine:
        assert engine.record_many(events).accepted > 100
    return path


def copy_of(store: Path, tmp_path: Path, name: str = "grown.db") -> str:
    target = tmp_path / name
    shutil.copy(store, target)
    return f"sqlite:///{target}"


def opened(url: str, at: datetime, community: Community | Path | None = None, **kwargs: Any) -> Engine:
    return Engine.open(store=url, community=community, clock=FixedClock(at), **kwargs)


@pytest.fixture
def grown(three: Path, folders: tuple[Path, Path], tmp_path: Path) -> Iterator[str]:
    """A copy of the three communities' store that took on yz-c4 at ``GROWN``."""
    url = copy_of(three, tmp_path)
    with opened(url, GROWN, load_community(folders[1])) as engine:
        assert any("roster grown" in w for w in engine.warnings)
    yield url


def new_nodes(engine: Engine) -> set[str]:
    return {n.id for n in engine.community.hierarchy.descendants(NEW, include_self=True)}


def assessed(engine: Engine, period: str) -> Any:
    return engine.report("assessment.ratings", {"period": period}), engine.report("assessment.subsidies",
                                                                                   {"period": period})


def test_the_store_records_when_what_a_growth_adds_joined_and_every_opening_reads_it(
        grown: str, three: Path, folders: tuple[Path, Path]) -> None:
    with opened(grown, GROWN + timedelta(days=40), read_only=True) as engine:
        community = engine.community
        assert dict(community.nodes_joined) == dict.fromkeys(new_nodes(engine), GROWN)
        added = {m.id for m in community.members.values() if any(a.node in new_nodes(engine) for a in m.roles)}
        assert added and dict(community.members_joined) == dict.fromkeys(added, GROWN)
        assert community.joined("yz-c4-g1") == GROWN and community.joined("yz-c3-g1") is None
        saved = engine.store.get("meta", "community")
        assert saved["joined"]["nodes"]["yz-c4"] == "2025-03-05T10:00:00+08:00"
        assert Community.from_document(saved) == community
    # opened again with the roster files (which carry no joining times): the store's times are kept,
    # nothing is written, and a later clock does not move them
    with opened(grown, GROWN + timedelta(days=60), load_community(folders[1])) as engine:
        assert engine.community.joined("yz-c4-g1") == GROWN and not any("roster grown" in w for w in engine.warnings)
        assert engine.store.get("meta", "community") == saved
    # a store that never grew has no joining times: its document is as before
    with opened(f"sqlite:///{three}", GROWN, read_only=True) as engine:
        assert "joined" not in engine.store.get("meta", "community") and not engine.community.nodes_joined


def test_a_checkpoint_and_a_replay_agree_on_who_joined_when(grown: str) -> None:
    later = datetime(2025, 4, 2, tzinfo=CST)
    with opened(grown, later) as engine:
        checkpointed = [engine.report(name, {"period": p}).render("json")
                        for name in ("assessment.ratings", "assessment.subsidies") for p in ("2025-03", "2025-04")]
        engine.rebuild()  # every event replayed from the start, no checkpoint
        replayed = [engine.report(name, {"period": p}).render("json")
                    for name in ("assessment.ratings", "assessment.subsidies") for p in ("2025-03", "2025-04")]
        assert replayed == checkpointed
        march, april = ({row["node"] for row in json.loads(text)["rows"]} for text in checkpointed[:2])
        assert "yz-c4-g1" not in march and "yz-c4-g1" in april


def test_a_node_is_rated_and_its_staff_paid_from_the_first_period_starting_after_it_joined(
        grown: str, three: Path) -> None:
    at = datetime(2025, 4, 2, tzinfo=CST)
    with opened(f"sqlite:///{three}", at, read_only=True) as before, opened(grown, at, read_only=True) as after:
        new = new_nodes(after)
        staff = set(after.community.members_joined)
        # the periods that started before it joined: as if the growth had not happened (it joined within
        # March and the week of 3 March, after the day of 4 March)
        for period in ("2025-03", "2025-W10", "2025-03-04", "2025-03-05"):
            ratings, paid = assessed(after, period)
            assert (ratings.rows, paid.rows) == tuple(t.rows for t in assessed(before, period)), period
        # from the first period starting at or after it joined: rated, and its staff paid
        for period in ("2025-04", "2025-W11", "2025-03-06"):
            ratings, paid = assessed(after, period)
            col = {name: k for k, name in enumerate(ratings.columns)}
            assert new <= {r[col["node"]] for r in ratings.rows}, period
            members = {r[0] for r in paid.rows}
            assert staff & members, period
        # the assessment says why they are left out, in both languages, and explains each
        from gridcore_assessment import assess, within

        march = assess(after, "2025-03", save=False)
        note = next(n for n in march.notes if n.startswith("not rated for 2025-03"))
        assert "joined on 2025-03-05" in note and "yz-c4-g1" in note and "未参评" in note
        assert not {r.node for r in march.ratings} & new
        assert not {s.member for s in march.subsidies} & staff
        # one subtree's part names only what joined there
        assert not any(n.startswith("not rated") for n in within(after, march, "yz-s1").notes)
        assert any("yz-c4-g2" in n for n in within(after, march, "yz-s2").notes)
        node = after.explain("assessment:2025-03:yz-c4-g1")
        assert "not rated for 2025-03" in node.summary and "2025-03-05 加入" in node.summary
        zh = after.explain("assessment:2025-03:yz-c4-g1", lang="zh")
        assert zh.inputs["加入时间（joined）"] == "2025-03-05T10:00:00+08:00"
        gridworker = next(m for m in sorted(staff) if m.startswith("yz-c4-g1"))
        told = after.explain(f"assessment:2025-03:subsidy:{gridworker}")
        assert "not paid" in told.summary and "不发补贴" in told.summary
        assert after.explain(f"assessment:2025-04:subsidy:{gridworker}").result > 0


def test_a_rollup_leaves_out_a_community_for_the_periods_before_it_joined(grown: str, three: Path) -> None:
    at = datetime(2025, 4, 2, tzinfo=CST)
    with opened(f"sqlite:///{three}", at, read_only=True) as before, opened(grown, at, read_only=True) as after:
        week = rollup(after, "yz-s2", "2025-W09")  # 24 February to 3 March: before yz-c4 joined
        assert [row[0] for row in week.tables["summary"].rows] == ["yz-c3", "yz-s2"]
        assert any("yz-c4" in n and "left out" in n and "不列入" in n for n in week.notes)
        unchanged = rollup(before, "yz-s2", "2025-W09")
        assert {k: t.render("json") for k, t in week.tables.items()} == \
            {k: t.render("json") for k, t in unchanged.tables.items()}
        # the month it joined in: its row is there (its cases count from then), unrated and unpaid
        march = rollup(after, "yz-s2", "2025-03")
        rows = {row[0]: dict(zip(march.tables["summary"].columns, row)) for row in march.tables["summary"].rows}
        assert list(rows) == ["yz-c3", "yz-c4", "yz-s2"]
        assert (rows["yz-c4"]["rated"], rows["yz-c4"]["paid"], rows["yz-c4"]["subsidies"]) == (0, 0, 0)
        assert any("joined on 2025-03-05, within 2025-03" in n for n in march.notes)
        # the first quarter (Yinzhou's assessment period) starting after it joined: rated and paid
        quarter = rollup(after, "yz-s2", "2025-Q2")
        rows = {row[0]: dict(zip(quarter.tables["summary"].columns, row)) for row in quarter.tables["summary"].rows}
        grids = [n for n in after.community.hierarchy.children("yz-c4") if n.level == "grid"]
        assert rows["yz-c4"]["rated"] == len(grids) and rows["yz-c4"]["paid"] > 0
        with pytest.raises(Exception, match=r"yz-c4 joined the store on 2025-03-05, after 2025-W09.*尚未加入"):
            rollup(after, "yz-c4", "2025-W09")


def test_the_cli_dates_a_growth_and_assess_rollup_and_explain_agree(
        three: Path, folders: tuple[Path, Path], tmp_path: Path) -> None:
    url = copy_of(three, tmp_path)
    runner = CliRunner()
    grew = runner.invoke(main_group, ["init", "--store", url, "--community", str(folders[1]),
                                      "--now", "2025-03-05T10:00:00+08:00"])
    assert grew.exit_code == 0, grew.output
    assert "花名册已扩充" in grew.output
    now = ["--store", url, "--now", "2025-04-02T00:00:00+08:00"]
    march = runner.invoke(main_group, ["assess", "--period", "2025-03", "--dry-run", *now])
    assert march.exit_code == 0, march.output
    assert "not rated for 2025-03" in march.stdout and "未参评" in march.stdout
    rated = {}
    for month in ("2025-03", "2025-04"):
        shown = runner.invoke(main_group, ["assess", "--period", month, "--dry-run", "--format", "json", *now])
        assert shown.exit_code == 0, shown.output
        rated[month] = {row["node"] for row in json.loads(shown.stdout)["rows"]}
    assert "yz-c4-g1" not in rated["2025-03"] and "yz-c3-g1" in rated["2025-03"] and "yz-c4-g1" in rated["2025-04"]
    paid = runner.invoke(main_group, ["assess", "subsidies", "--period", "2025-03", "--format", "json", *now])
    assert paid.exit_code == 0, paid.output
    assert not any(str(row["member"]).startswith(NEW) for row in json.loads(paid.stdout)["rows"])
    paid = runner.invoke(main_group, ["assess", "subsidies", "--period", "2025-04", "--format", "json", *now])
    assert any(str(row["member"]).startswith(NEW) for row in json.loads(paid.stdout)["rows"])
    rolled = runner.invoke(main_group, ["rollup", "yz-s2", "--period", "2025-W09", "--format", "json",
                                        "--workers", "1", "--store", url])
    assert rolled.exit_code == 0, rolled.output
    found = json.loads(rolled.stdout)
    assert [row["node"] for row in found["tables"]["summary"]["rows"]] == ["yz-c3", "yz-s2"]
    told = runner.invoke(main_group, ["--lang", "zh", "explain", "assessment:2025-03:yz-c4-g1", "--store", url])
    assert told.exit_code == 0, told.output
    assert "2025-03-05 加入" in told.stdout and "加入时间（joined）" in told.stdout
    late = runner.invoke(main_group, ["init", "--store", url, "--community", str(folders[1]), "--now", "tomorrow"])
    assert late.exit_code != 0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.integers(min_value=0, max_value=24 * 12))
def test_what_was_made_for_periods_before_a_growth_stays_as_it_was(
        three: Path, folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, hours: int) -> None:
    """Whenever a community joins: a roll-up of a period that ended by then is the roll-up made without it,
    an assessment of a period that started before then rates and pays what it did without it, and one
    starting at or after then rates its every grid."""
    at = FIRST + timedelta(hours=hours)
    url = copy_of(three, tmp_path_factory.mktemp("prop"))
    with opened(url, at, load_community(folders[1])) as after, \
            opened(f"sqlite:///{three}", at, read_only=True) as before:
        assert after.community.joined(NEW) == at
        for period in ("2025-03-03", "2025-03-04", "2025-03-07", "2025-03-10", "2025-W10", "2025-W11", "2025-03"):
            span = parse_period(period, after.community.tz)
            if span.end <= at:
                for node in ("yz", "yz-s2"):
                    made, unmade = (json.loads(rollup(e, node, period).render("json")) for e in (after, before))
                    assert made["tables"] == unmade["tables"], (node, period)  # (a note says who is left out)
            ratings, paid = assessed(after, period)
            col = {name: k for k, name in enumerate(ratings.columns)}
            rated = {r[col["node"]] for r in ratings.rows}
            if span.start < at:
                assert (ratings.rows, paid.rows) == tuple(t.rows for t in assessed(before, period)), period
            else:
                assert new_nodes(after) <= rated, period


# ---------------------------------------------------------------- a store grown the old way


def grown_the_old_way(url: str) -> None:
    """The store as a growth made before joining times (f5812b9) and the roster's stamp (785125a) left it:
    the roster saved without its ``joined`` key, no ``meta/roster`` (written directly, as the tests of
    older STATE_VERSIONs write their old documents)."""
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db, db:
        (text,) = db.execute("SELECT doc FROM documents WHERE collection = 'meta' AND key = 'community'").fetchone()
        old = json.loads(text)
        del old["joined"]
        db.execute("UPDATE documents SET doc = ? WHERE collection = 'meta' AND key = 'community'",
                   (json.dumps(old, ensure_ascii=False),))
        db.execute("DELETE FROM documents WHERE collection = 'meta' AND key = 'roster'")


def a_patrol_of_the_new_community(url: str, at: datetime) -> str:
    """Stores a patrol of a yz-c4 grid's gridworker at ``at``; its id."""
    with opened(url, at) as engine:
        grid = "yz-c4-g1"
        (member, *_) = sorted(m.id for m in engine.community.members.values()
                              if any(a.node == grid and "gridworker" in a.role for a in m.roles))
        engine.record({"kind": "patrol_logged", "id": "pat-c4-1", "time": at.isoformat(), "actor": member,
                       "node": grid, "minutes": 30, "visits": 1, "hazards_found": 0, "note": "巡查"})
    return "pat-c4-1"


def test_a_store_grown_the_old_way_is_given_its_joining_times_and_stamp(grown: str, tmp_path: Path) -> None:
    """`gridcore hierarchy joined NODE --at TIME` records what a growth made before joining times were
    recorded did not: the node's (its subtree's, its members') joining time, checked against the events
    stored there, and the roster's stamp; the store then rates and pays as one grown today."""
    first = GROWN + timedelta(hours=1)
    a_patrol_of_the_new_community(grown, first)
    reference = copy_of(Path(grown.removeprefix("sqlite:///")), tmp_path, "reference.db")  # grown today
    grown_the_old_way(grown)
    later = datetime(2025, 4, 2, tzinfo=CST)
    with opened(grown, later, read_only=True) as engine:
        assert engine.community.joined(NEW) is None and engine.store.get("meta", "roster") is None
        assert "yz-c4-g1" in {str(row[0]) for row in engine.report("assessment.ratings", {"period": "2025-03"}).rows}
        before = engine.store.get("meta", "community")
    runner = CliRunner()
    listed = runner.invoke(main_group, ["hierarchy", "joined", "--store", grown])
    assert listed.exit_code == 0, listed.output
    assert "no node joined after the store was made" in listed.output and "stamp is not saved" in listed.output
    # after its first event: refused, nothing written
    late = runner.invoke(main_group, ["hierarchy", "joined", NEW, "--at", "2025-03-05T12:00+08:00", "--store", grown])
    assert late.exit_code == 1
    assert "yz-c4 cannot have joined on 2025-03-05 12:00" in late.output and "pat-c4-1" in late.output
    assert "加入时间不能晚于此" in late.output
    with opened(grown, later, read_only=True) as engine:
        assert engine.store.get("meta", "community") == before  # no joining time written
        assert engine.store.get("meta", "roster") is not None  # (the stamp, which the writer's open records)
    # by its name (柴河社区) as by its id, at the time it was added
    done = runner.invoke(main_group, ["hierarchy", "joined", "柴河社区", "--at", "2025-03-05T10:00+08:00",
                                      "--store", grown])
    assert done.exit_code == 0, done.output
    with opened(reference, later, read_only=True) as right:
        grown_today = right.community
        assert "recorded: yz-c4 joined on 2025-03-05 10:00, with " \
               f"{len(grown_today.nodes_joined)} node(s) and {len(grown_today.members_joined)} member(s)" in done.output
        expected = [right.report(name, {"period": p}).render("json")
                    for name in ("assessment.ratings", "assessment.subsidies") for p in ("2025-03", "2025-04")]
        stamp = right.store.get("meta", "roster")
    with opened(grown, later, read_only=True) as engine:
        assert engine.community.nodes_joined == grown_today.nodes_joined
        assert engine.community.members_joined == grown_today.members_joined
        assert engine.store.get("meta", "roster") == stamp  # the same roster, so the same stamp
        assert [engine.report(name, {"period": p}).render("json")
                for name in ("assessment.ratings", "assessment.subsidies") for p in ("2025-03", "2025-04")] == expected
        assert engine._base == engine.position  # restored from the checkpoint taken under the dated roster
    listed = runner.invoke(main_group, ["hierarchy", "joined", "--store", grown])
    assert "yz-c4 柴河社区: joined 加入 2025-03-05 10:00" in listed.output and "stamp" not in listed.output
    # again: nothing to do; another time: refused
    again = runner.invoke(main_group, ["hierarchy", "joined", NEW, "--at", "2025-03-05T10:00+08:00", "--store", grown])
    assert again.exit_code == 0 and "recorded as joined on 2025-03-05 10:00 already" in again.output
    moved = runner.invoke(main_group, ["hierarchy", "joined", NEW, "--at", "2025-03-05T09:00+08:00", "--store", grown])
    assert moved.exit_code == 1 and "已记录的加入时间不再改动" in moved.output
    unknown = runner.invoke(main_group, ["hierarchy", "joined", "nowhere", "--at", "2025-03-05T09:00+08:00",
                                         "--store", grown])
    assert unknown.exit_code == 1 and "nowhere" in unknown.output


def test_an_engine_kept_running_takes_on_the_joining_times_recorded(grown: str) -> None:
    grown_the_old_way(grown)
    running = opened(grown, datetime(2025, 4, 2, tzinfo=CST), read_only=True)
    try:
        assert "yz-c4-g1" in {str(r[0]) for r in running.report("assessment.ratings", {"period": "2025-03"}).rows}
        assert running.refresh() == 0 and running.community.joined(NEW) is None
        with opened(grown, datetime(2025, 4, 2, tzinfo=CST)) as keeper:
            nodes, members = keeper.record_joined(NEW, GROWN)
            assert NEW in nodes and members
        assert running.refresh() == 0
        assert running.community.joined("yz-c4-g1") == GROWN
        assert "yz-c4-g1" not in {str(r[0]) for r in running.report("assessment.ratings", {"period": "2025-03"}).rows}
    finally:
        running.close()
    with opened(grown, datetime(2025, 4, 2, tzinfo=CST)) as keeper, pytest.raises(Exception, match="later than"):
        keeper.record_joined(NEW, datetime(2025, 4, 3, tzinfo=CST))


def drop_the_stamp(url: str) -> None:
    """What a gridcore before 785125a left: no ``meta/roster`` (written directly, as ``grown_the_old_way``)."""
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db, db:
        db.execute("DELETE FROM documents WHERE collection = 'meta' AND key = 'roster'")


def test_a_store_without_the_roster_s_stamp_is_told_at_open_and_its_first_writer_records_it(
        three: Path, folders: tuple[Path, Path], tmp_path: Path) -> None:
    """A store saved before the roster's stamp (785125a): an engine kept running on it never noticed another
    process growing it.  A reader is told at open what to do, in English and Chinese; the first writer records
    the stamp, after which the running engine's refresh takes the growth on."""
    url = copy_of(three, tmp_path, "old.db")
    drop_the_stamp(url)
    later = GROWN + timedelta(days=1)
    with opened(url, later, read_only=True) as reader:
        (warned,) = [w for w in reader.warnings if "roster's stamp is not saved" in w]
        assert "gridcore serve" in warned and "库中未保存花名册标记" in warned
        assert "gridcore hierarchy joined NODE --at TIME" in warned and "补记其加入时间" in warned
        assert reader.store.get("meta", "roster") is None  # a reader writes nothing
    running = opened(url, later, read_only=True)
    try:
        # a gridcore of before the stamp grows the store while `running` serves it: the roster saved, no stamp
        with opened(url, GROWN, load_community(folders[1])):
            pass
        drop_the_stamp(url)
        running.refresh()
        assert NEW not in running.community.hierarchy  # unnoticed: nothing it reads changed
        with opened(url, later) as writer:  # the next writer (any command that writes) records it
            (told,) = [w for w in writer.warnings if "roster's stamp was not saved" in w]
            assert "recorded now" in told and "现已写入" in told
            stamp = writer.store.get("meta", "roster")
            assert stamp is not None
        running.refresh()
        assert NEW in running.community.hierarchy  # taken on
        assert running.community.joined(NEW) == GROWN
    finally:
        running.close()
    with opened(url, later) as again, opened(url, later, read_only=True) as reader:
        assert again.store.get("meta", "roster") == stamp  # recorded once
        assert not [w for w in [*again.warnings, *reader.warnings] if "stamp" in w]


def test_assessments_stored_before_the_joining_times_are_never_shown_as_stored(grown: str, tmp_path: Path) -> None:
    """Assessments saved on a store grown the old way rate the new community for the periods before it
    joined; once `gridcore hierarchy joined` records the time, such a stored assessment is outdated: every
    read assesses the period afresh (not stored) with a note, `assess compare` refuses it, and `gridcore
    assess --period` stores it again.  One of a period begun after it joined stays as stored."""
    from gridcore_assessment import OUTDATED, history, outdated_stored, stored

    reference = copy_of(Path(grown.removeprefix("sqlite:///")), tmp_path, "reference.db")  # grown today
    grown_the_old_way(grown)
    runner = CliRunner()
    now = ["--store", grown, "--now", "2025-05-02T00:00:00+08:00"]
    later = datetime(2025, 5, 2, tzinfo=CST)
    for month in ("2025-03", "2025-04"):  # saved while the store had no joining times
        saved = runner.invoke(main_group, ["assess", "--period", month, *now])
        assert saved.exit_code == 0, saved.output
    with opened(grown, later, read_only=True) as engine:
        march = stored(engine, "2025-03")
        assert march is not None and march.rating("yz-c4-g1") is not None  # rated before it joined
    done = runner.invoke(main_group, ["hierarchy", "joined", NEW, "--at", GROWN.isoformat(), "--store", grown])
    assert done.exit_code == 0, done.output
    assert "is no longer shown" in done.output and "不再显示" in done.output
    with opened(grown, later, read_only=True) as engine, opened(reference, later, read_only=True) as right:
        late = outdated_stored(engine, "2025-03")
        assert "yz-c4-g1" in late and any(m.startswith("yz-c4-g1") for m in late if m != "yz-c4-g1")
        assert stored(engine, "2025-03") is None  # never given as stored
        april = stored(engine, "2025-04")
        assert april is not None and april.rating("yz-c4-g1") is not None  # begun after it joined: as stored
        assert outdated_stored(engine, "2025-04") == ()
        fresh = engine.report("assessment.ratings", {"period": "2025-03"})
        assert fresh.rows == right.report("assessment.ratings", {"period": "2025-03"}).rows  # as grown today
        (note,) = [n for n in fresh.notes if n.startswith(OUTDATED)]
        assert "2025-03 rates or pays yz-c4, yz-c4-g1, " in note and "gridcore assess --period 2025-03" in note
        assert "已保存的 2025-03 考核结果" in note
        paid = engine.report("assessment.subsidies", {"period": "2025-03"})
        assert paid.rows == right.report("assessment.subsidies", {"period": "2025-03"}).rows
        past = {a.period: a for a in history(engine)}
        assert past["2025-03"].rating("yz-c4-g1") is None and past["2025-04"].rating("yz-c4-g1") is not None
        told = engine.explain("assessment:2025-03:yz-c4-g1")
        assert "not rated for 2025-03" in told.summary
    shown = runner.invoke(main_group, ["assess", "history", "--format", "json", "--store", grown])
    assert shown.exit_code == 0, shown.output
    rows = {row["node"]: row for row in json.loads(shown.stdout)["rows"]}
    assert rows["yz-c4-g1"]["2025-03"] is None and rows["yz-c4-g1"]["2025-04"] is not None
    assert OUTDATED + "2025-03" in shown.stdout
    paid_cli = runner.invoke(main_group, ["assess", "subsidies", "--period", "2025-03", "--format", "json", *now])
    assert paid_cli.exit_code == 0, paid_cli.output
    assert not any(str(row["member"]).startswith(NEW) for row in json.loads(paid_cli.stdout)["rows"])
    refused = runner.invoke(main_group, ["assess", "compare", "2025-03", "2025-04", "--store", grown])
    assert refused.exit_code == 1
    assert "rates or pays yz-c4, yz-c4-g1" in refused.output and "gridcore assess --period 2025-03" in refused.output
    again = runner.invoke(main_group, ["assess", "--period", "2025-03", *now])  # stored again
    assert again.exit_code == 0, again.output
    with opened(grown, later, read_only=True) as engine:
        march = stored(engine, "2025-03")
        assert march is not None and march.rating("yz-c4-g1") is None and outdated_stored(engine, "2025-03") == ()
        assert not any(n.startswith(OUTDATED) for n in march.notes)
    compared = runner.invoke(main_group, ["assess", "compare", "2025-03", "2025-04", "--store", grown])
    assert compared.exit_code == 0, compared.output
