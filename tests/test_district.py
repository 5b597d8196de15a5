"""A whole district in one store (issue 14): the climb to the command centre, streets' permissions, roll-ups.

Tests build a small district with the Yinzhou generator (2 streets x 2
communities, the same shape and roles as rulesets/yinzhou) and run it under
the real Yinzhou ruleset; only the generator's files and `hierarchy show` /
`check` touch the full district.
"""

from __future__ import annotations

import json
import re
import runpy
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DISTRICT_MONDAY, DISTRICT_RULES, REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from sessionshare import opened_once

import gridcore_escalation as escalation
from gridcore import Engine, FixedClock, GridcoreError
from gridcore.periods import parse_period
from gridcore.reports import Format
from gridcore_app.cli import main_group
from gridcore_app.ladder import Ladder
from gridcore_app.rollup import TOTAL, rollup
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import load_scenario, simulate

YINZHOU = REPO / "rulesets" / "yinzhou"
RULES = DISTRICT_RULES
TZ = timezone(timedelta(hours=8))
MONDAY = DISTRICT_MONDAY


def generator() -> dict[str, Any]:
    return runpy.run_path(str(REPO / "rulesets" / "tools" / "make_yinzhou.py"), run_name="make_yinzhou")


def test_the_small_district_has_two_streets_of_two_communities(mini_district: Path) -> None:
    # (mini_district and district_engine, shared with test_district_departments.py, are conftest.py's)
    hierarchy = load_community(mini_district).hierarchy
    streets = [n.id for n in hierarchy.nodes_at("street")]
    assert streets == ["yz-s1", "yz-s2"] and hierarchy.node("yz").name == "小银州区"
    assert [[c.id for c in hierarchy.children(s)] for s in streets] == [["yz-c1", "yz-c2"], ["yz-c3", "yz-c4"]]


def report(incident: str, node: str, actor: str, when: datetime = MONDAY) -> dict[str, Any]:
    return {"kind": "incident_reported", "id": f"r-{incident}", "time": when.isoformat(), "actor": actor,
            "node": node, "incident": incident, "category": "assistance", "severity": 1, "channel": "phone"}


def accept(incident: str, actor: str, node: str, when: datetime) -> dict[str, Any]:
    return {"kind": "incident_accepted", "id": f"a-{incident}-{actor}", "time": when.isoformat(),
            "actor": actor, "node": node, "incident": incident}


def where(engine: Engine, incident: str) -> tuple[str, str, int]:
    found = {o.subject: o.value for o in engine.outcomes() if o.plugin == "escalation"}
    return (found[f"incident:{incident}:level"], found[f"incident:{incident}:node"],
            found[f"incident:{incident}:escalations"])


# ---------------------------------------------------------------- the roster


def test_the_committed_district_is_what_the_generator_writes(tmp_path: Path) -> None:
    generator()["main"](tmp_path)
    made = sorted(p.name for p in (tmp_path / "yinzhou").iterdir())
    assert made == sorted(["community.yaml", "nodes.csv", "members.csv", "roles.csv", "departments.csv",
                           "places.csv"])
    for name in made:
        assert (tmp_path / "yinzhou" / name).read_bytes() == (YINZHOU / name).read_bytes(), name


def test_yinzhou_has_the_accounts_shape() -> None:
    district = load_community(YINZHOU)
    h = district.hierarchy
    assert h.levels == ("district", "street", "community", "grid")
    assert len(h.nodes_at("community")) == 64
    gridworkers = {m.id for m in district.members.values() for a in m.roles
                   if a.role in ("fulltime_gridworker", "professional_gridworker", "parttime_gridworker")}
    assert 2800 <= len(gridworkers) <= 3200  # "about 3,000"
    grids = len(h.nodes_at("grid"))
    assert 350 <= grids <= 420  # ~115,000 households at ~300 a grid


def test_yinzhou_plans_its_grids_at_the_accounts_size() -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import load_ruleset

    ruleset = load_ruleset(RULES, sections=Hooks(get_plugin_manager()).register_sections())
    (planning,) = [s for s in Hooks(get_plugin_manager()).register_sections() if s.name == "planning"]
    (size,) = ruleset.policies(planning)[-1].policy.sizes
    assert (size.level, size.households, size.people) == ("grid", 300, 1000)


def test_hierarchy_show_and_check_read_the_whole_district() -> None:
    runner = CliRunner()
    shown = runner.invoke(main_group, ["hierarchy", "show", str(YINZHOU)])
    assert shown.exit_code == 0, shown.output
    assert "银州区" in shown.output and "红旗街道" in shown.output
    checked = runner.invoke(main_group, ["check", str(RULES), "--community", str(YINZHOU)])
    assert checked.exit_code == 0, checked.output
    assert "ok (银州区)" in checked.output


# ---------------------------------------------------------------- the ladder


def test_an_incident_climbs_from_a_grid_to_the_district_command_centre(district_engine: Engine) -> None:
    district_engine.record(report("求助-1", "yz-c1-g1", "yz-c1-g1-r1"))
    # Each level's acceptance limit in turn: grid 4 working hours, community and street a working day.
    steps = [
        (MONDAY + timedelta(hours=3, minutes=59), ("grid", "yz-c1-g1", 0)),
        (MONDAY + timedelta(hours=4, minutes=1), ("community", "yz-c1", 1)),
        (MONDAY + timedelta(days=1, hours=3, minutes=59), ("community", "yz-c1", 1)),
        (MONDAY + timedelta(days=1, hours=4, minutes=1), ("street", "yz-s1", 2)),
        (MONDAY + timedelta(days=2, hours=3, minutes=59), ("street", "yz-s1", 2)),
        (MONDAY + timedelta(days=2, hours=4, minutes=1), ("district", "yz", 3)),
        (MONDAY + timedelta(days=30), ("district", "yz", 3)),  # the top: nowhere further to go
    ]
    for when, expected in steps:
        district_engine.tick(when)
        assert where(district_engine, "求助-1") == expected, when
    explained = next(o for o in district_engine.outcomes() if o.subject == "incident:求助-1:level")
    assert any("时限 street" in rule.text for rule in explained.rules)


def test_a_street_acts_on_its_own_communities_cases_and_no_one_elses(district_engine: Engine) -> None:
    district_engine.record_many([report("东-1", "yz-c1-g1", "yz-c1-g1-r1"), report("西-1", "yz-c3-g1", "yz-c3-g1-r1")])
    later = MONDAY + timedelta(days=1, hours=5)  # both at their street now
    district_engine.tick(later)
    assert where(district_engine, "东-1")[:2] == ("street", "yz-s1")
    assert where(district_engine, "西-1")[:2] == ("street", "yz-s2")
    # 工人街道's officer may not take 红旗街道's case, nor its secretary; 红旗街道's officer may.
    refused = district_engine.record_many([accept("东-1", "yz-s2-o1", "yz-c1-g1", later),
                                  accept("东-1", "yz-s2-sec", "yz-c1-g1", later)])
    assert len(refused.refused) == 2
    assert all("holds no role there or above" in " ".join(r.reasons) for r in refused.refused)
    # (in Chinese, 辖区: a street's, not a grid's, "网格")
    assert all(r.reasons[-1].endswith("(事件不在其辖区，无权受理)") for r in refused.refused)
    taken = district_engine.record_many([accept("东-1", "yz-s1-o1", "yz-c1-g1", later),
                                accept("西-1", "yz-s2-o1", "yz-c3-g1", later)])
    assert not taken.refused
    # A community's staff cannot take a case once it is at the street; the command centre can.
    district_engine.record(report("东-2", "yz-c2-g1", "yz-c2-g1-r1", later))
    thursday = later + timedelta(days=2, hours=4)  # grid, then the community's working day, ran out
    district_engine.tick(thursday)
    assert where(district_engine, "东-2")[:2] == ("street", "yz-s1")
    assert district_engine.record_many([accept("东-2", "yz-c2-sec", "yz-c2-g1", thursday)]).refused
    assert not district_engine.record_many([accept("东-2", "yz-cc-d1", "yz-c2-g1", thursday)]).refused


# ---------------------------------------------------------------- roll-ups


@pytest.fixture(scope="module")
def simulated(mini_district: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Two simulated days of the small district (the scenario's rates are the whole district's)."""
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    first = datetime(2025, 3, 3, tzinfo=TZ)
    events = list(simulate(community, scenario, days=2, start=first, seed=3))
    store = tmp_path_factory.mktemp("rollup") / "store"
    with Engine.open(store=str(store), community=community, ruleset=RULES, effective=first,
                     clock=FixedClock(first)) as opened:
        opened.record_many(events)
        opened.tick(first + timedelta(days=2))
        yield opened


def by_node(table: Any) -> dict[str, dict[str, Any]]:
    return {str(row[0]): dict(zip(table.columns, row)) for row in table.rows}


#: District-wide reports built once per period for the whole module (as the demo shares them).
BUILT: dict[tuple[str, str], Any] = {}


@settings(max_examples=5, deadline=None)
@given(node=st.sampled_from(["yz", "yz-s1", "yz-s2"]),
       period=st.sampled_from(["2025-03-03", "2025-03-04", "2025-W10", "2025-Q1", "2025"]))
def test_a_rollup_is_the_sum_of_its_children(simulated: Engine, node: str, period: str) -> None:
    found = rollup(simulated, node, period, built=BUILT)
    rows = by_node(found.tables["summary"])
    children = [c.id for c in simulated.community.hierarchy.children(node)]
    assert list(rows) == [*children, node] and rows[node]["name"] == TOTAL
    total = rows.pop(node)
    # Every incident and every cell of the node lies in one of its (territorial) children.
    for column in ("incidents", "overdue_incidents", "earned", "redeemed", "paid", "rated"):
        assert sum(r[column] for r in rows.values()) == total[column], column
    assert sum((r["subsidies"] for r in rows.values()), Decimal(0)) == total["subsidies"]
    # Each child's row is that child's own figures, as the child's own roll-up totals them.
    for child in children:
        if simulated.community.hierarchy.children(child):
            own = by_node(rollup(simulated, child, period, built=BUILT).tables["summary"])[child]
            for column in ("incidents", "acceptance_within_limit", "closure_within_limit", "mean_satisfaction",
                           "overdue_incidents", "earned", "paid", "subsidies", "rated", "mean stars"):
                assert own[column] == rows[child][column], (child, column)
    # ... and the figures each child's plugins give for it alone (their own reports and metrics)
    span = parse_period(period, simulated.community.tz)
    totals = by_node(simulated.report("points.totals", {"node": node, "period": period}))
    for child in children:
        assert (rows[child]["earned"], rows[child]["redeemed"]) == (totals[child]["earned"], totals[child]["redeemed"])
        closure = simulated.metric("closure_within_limit", child, span.start, span.end)
        assert rows[child]["incidents"] == (closure.inputs.get("incidents") or 0 if closure is not None else 0)
        overdue = simulated.metric("overdue_incidents", child, span.start, span.end)
        assert rows[child]["overdue_incidents"] == (int(overdue.value) if overdue is not None else 0)
    # subsidies: the assessment's own lines of the people whose every post lies in the child
    paid = simulated.report("assessment.paid", {"period": period})
    col = {name: k for k, name in enumerate(paid.columns)}
    hierarchy = simulated.community.hierarchy
    for child in children:
        mine = [Decimal(str(line[col["amount"]])) for line in paid.rows
                if str(line[col["member"]]) in simulated.community.members
                and all(hierarchy.is_within(a.node, child)
                        for a in simulated.community.member(str(line[col["member"]])).roles)]
        assert (rows[child]["paid"], rows[child]["subsidies"]) == (len(mine), sum(mine, Decimal(0))), child
    # The rate of the whole is computed over the whole: it lies between its children's.
    rates = [r["closure_within_limit"] for r in rows.values() if r["closure_within_limit"] is not None]
    if rates:
        assert min(rates) <= total["closure_within_limit"] <= max(rates)


def test_the_simulated_days_have_something_to_roll_up(simulated: Engine) -> None:
    total = by_node(rollup(simulated, "yz", "2025-03-03", built=BUILT).tables["summary"])["yz"]
    assert total["incidents"] > 20 and total["earned"] > 0 and total["rated"] > 0
    assert by_node(rollup(simulated, "yz", "2025-Q1", built=BUILT).tables["summary"])["yz"]["subsidies"] > 0


def test_a_rollup_shows_stars_side_by_side_and_renders_three_ways(simulated: Engine) -> None:
    found = rollup(simulated, "yz-s1", "2025-03-03")
    stars = found.tables["stars"]
    assert {row[0] for row in stars.rows} == {"yz-c1", "yz-c2"}
    assert {row[4] for row in stars.rows} == {"community", "grid"}
    grids = [row for row in stars.rows if row[4] == "grid"]
    assert len(grids) == len([n for c in ("yz-c1", "yz-c2") for n in simulated.community.hierarchy.children(c)])
    text = found.render("text")
    assert text.startswith("汇总 roll-up: 红旗街道 [yz-s1] (街道), 2025-03-03")
    assert "Line departments" in text and "评星定级" in text
    csv = found.render("csv")
    assert csv.startswith("\ufeffnode,name,incidents,acceptance_within_limit")
    assert found.render("csv", "stars").startswith("\ufeffchild,child name,node")
    doc = json.loads(found.render("json"))
    assert doc["node"] == "yz-s1" and list(doc["tables"]) == ["summary", "months", "departments", "stars", "subsidies"]
    assert doc["tables"]["summary"]["rows"][-1]["name"] == TOTAL


def test_the_stars_level_cells_are_in_chinese_under_lang_zh(simulated: Engine) -> None:
    """`rollup --table stars --lang zh`: a level is the community's name for it, then its code (网格 grid), as
    levels_table and incidents list show it; JSON and English keep the codes."""
    runner = CliRunner()
    store = simulated.store.url
    names = simulated.community.level_names
    assert names["grid"] == "网格" and names["community"] == "社区"

    def cells(*extra: str) -> set[str]:
        done = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-03-03", "--table", "stars",
                                          "--store", store, "--workers", "1", *extra])
        assert done.exit_code == 0, done.output
        return {line.split(",")[4] for line in done.stdout.lstrip("\ufeff").splitlines()[1:]}

    assert cells("--format", "csv", "--lang", "zh") == {"社区 community", "网格 grid"}
    assert cells("--format", "csv", "--lang", "en") == {"community", "grid"}
    english = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-03-03", "--table", "stars",
                                         "--store", store, "--workers", "1"])
    assert "网格 grid" not in english.stdout and " grid " in english.stdout
    zh_text = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-03-03", "--table", "stars",
                                         "--store", store, "--workers", "1", "--lang", "zh"])
    assert "网格 grid" in zh_text.stdout and "社区 community" in zh_text.stdout
    doc = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-03-03", "--table", "stars", "--format",
                                     "json", "--lang", "zh", "--store", store, "--workers", "1"])
    assert doc.exit_code == 0, doc.output
    assert {r["level"] for r in json.loads(doc.stdout)["tables"]["stars"]["rows"]} == {"community", "grid"}


def test_a_rollup_puts_each_communitys_points_board_side_by_side(simulated: Engine) -> None:
    """The points boards per community (积分公示): each child's own monthly board, its first places."""
    found = rollup(simulated, "yz-s1", "2025-W10", boards=True)
    boards = found.tables["boards"]
    assert list(found.tables) == ["summary", "months", "departments", "stars", "boards", "subsidies"]
    assert rollup(simulated, "yz-s1", "2025-W10", boards=True, workers=2) == found  # (forked workers, where fork is)
    with pytest.raises(GridcoreError, match="made when asked for"):
        rollup(simulated, "yz-s1", "2025-W10").render("csv", "boards")  # not made unless asked for
    assert boards.columns == ("month", "child", "child name", "rank", "member", "name", "role", "earned", "balance")
    shown = 0
    for child in ("yz-c1", "yz-c2"):
        own = simulated.report("points.board", {"node": child, "month": "2025-03"})
        first = [row for row in own.rows if int(str(row[0])) <= 10]
        mine = [row[3:] for row in boards.rows if row[1] == child]
        assert first and mine == first, child  # the community's own board, its first ten places and ties
        assert all(row[0] == "2025-03" for row in boards.rows)
        shown += len(own.rows) - len(first)
    assert f"{shown} more rows" in boards.notes[0]
    # earned on a child's board is earned under it: its sum never exceeds the child's summary total
    summary = by_node(found.tables["summary"])
    for child in ("yz-c1", "yz-c2"):
        assert sum(int(str(r[7])) for r in boards.rows if r[1] == child) <= summary[child]["earned"]
    runner = CliRunner()
    csv = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-W10", "--table", "boards", "--format", "csv",
                                     "--lang", "zh", "--store", simulated.store.url])
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.startswith("\ufeff月份 month,下级编号 child,下级名称 child name,排名 rank,"), csv.stdout[:80]
    assert "红旗街道" not in csv.stdout and "银州社区" in csv.stdout
    every = runner.invoke(main_group, ["rollup", "yz-s1", "--period", "2025-W10", "--boards", "--format", "json",
                                       "--store", simulated.store.url])
    assert every.exit_code == 0 and "boards" in json.loads(every.stdout)["tables"], every.output


def test_rollup_refuses_what_cannot_be_rolled_up(simulated: Engine) -> None:
    from gridcore import GridcoreError

    with pytest.raises(GridcoreError, match="unknown node"):
        rollup(simulated, "nowhere", "2025-03-03")
    with pytest.raises(GridcoreError, match="nothing to roll up"):
        rollup(simulated, "yz-c1-g1", "2025-03-03")
    with pytest.raises(GridcoreError):
        rollup(simulated, "yz", "2025-13")


def test_a_rollup_leaves_out_what_no_plugin_provides(mini_district: Path, tmp_path: Path) -> None:
    from gridcore import get_plugin_manager

    pm = get_plugin_manager(disabled=("points", "assessment"))
    with Engine.open(store=str(tmp_path / "store"), community=load_community(mini_district), plugins=pm,
                     clock=FixedClock(MONDAY)) as opened:
        found = rollup(opened, "yz", "2025-03")
    assert "earned" not in found.tables["summary"].columns and "stars" not in found.tables
    assert any("points.totals" in note for note in found.notes)


def test_the_rollup_command(simulated: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    store = simulated.store.url
    shown = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-03-03", "--store", store, "--format", "csv"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("\ufeffnode,name,incidents")
    assert "红旗街道" in shown.output
    wrong = runner.invoke(main_group, ["rollup", "nowhere", "--period", "2025-03-03", "--store", store])
    assert wrong.exit_code == 1 and "unknown node" in wrong.output


def test_staff_name_a_street_or_community_by_its_name_as_by_its_id(simulated: Engine) -> None:
    """A street office writes 红旗街道, not yz-s1: the roll-up, the points board and totals and the incident
    lists take a node's name when one node alone bears it, as --node options do (they were refused with
    "'红旗街道' is the name of node 'yz-s1': write its id")."""
    runner = CliRunner()
    store = simulated.store.url
    asked = [
        ["rollup", "{}", "--period", "2025-03-03", "--format", "csv", "--workers", "1"],
        ["points", "board", "{}", "--month", "2025-03", "--now", "latest"],
        ["points", "totals", "{}", "--period", "2025-03", "--now", "latest"],
        ["points", "flags", "--node", "{}", "--now", "latest"],
        ["incidents", "list", "--within", "{}", "--status", "all", "--now", "latest"],
        ["incidents", "stats", "--period", "2025-03", "--within", "{}", "--now", "latest"],
    ]
    with opened_once(store):  # (they only read: one engine for all, each command still run whole)
        for args in asked:
            for node, name in (("yz-s1", "红旗街道"), ("yz-c1", "银州社区")):
                by_id = runner.invoke(main_group, [a.format(node) for a in args] + ["--store", store])
                by_name = runner.invoke(main_group, [a.format(name) for a in args] + ["--store", store])
                assert by_id.exit_code == 0, (args, by_id.output)
                assert (by_name.exit_code, by_name.stdout) == (0, by_id.stdout), (args, by_name.output)
        shared = runner.invoke(main_group, ["rollup", "第一网格", "--period", "2025-03-03", "--store", store])
    assert shared.exit_code == 1 and "give the node's id" in shared.output


def test_the_rates_by_month_agree_with_the_summary(simulated: Engine) -> None:
    found = rollup(simulated, "yz", "2025-03-03", built=BUILT)
    months, summary = by_node(found.tables["summary"]), found.tables["months"]
    assert summary.columns == ("month", "node", "name", "acceptance_within_limit", "closure_within_limit",
                               "mean_satisfaction")
    # a day's roll-up has one month, cut to the day: each row is the summary's rates of that child
    assert [row[1] for row in summary.rows] == ["yz-s1", "yz-s2", "yz"]
    for row in summary.rows:
        assert row[0] == "2025-03"
        assert row[3:] == tuple(months[row[1]][m] for m in summary.columns[3:]), row
    # a quarter has a row per child and month, January to March, each month's own rates
    quarter = rollup(simulated, "yz", "2025-Q1", built=BUILT).tables["months"]
    assert [row[0] for row in quarter.rows] == ["2025-01"] * 3 + ["2025-02"] * 3 + ["2025-03"] * 3
    march = [row for row in quarter.rows if row[0] == "2025-03"]
    whole_march = rollup(simulated, "yz", "2025-03", built=BUILT).tables["months"]
    assert march == list(whole_march.rows)


def test_a_rollup_chart_draws_what_the_tables_say(simulated: Engine, tmp_path: Path) -> None:
    from gridcore.charts import installed_cjk_font
    from gridcore_app.rollup_chart import draw

    found = rollup(simulated, "yz", "2025-03-03", built=BUILT)
    svg = draw(found, "svg").decode("utf-8")
    for child in ("yz-s1", "yz-s2"):
        assert f'id="stars-{child}"' in svg
    total = by_node(found.tables["summary"])["yz"]
    for metric in ("acceptance_within_limit", "closure_within_limit", "mean_satisfaction"):
        # the total's line in each rate's panel, or a panel that says there is nothing to show
        assert (f'id="rate-{metric}-yz"' in svg) == (total[metric] is not None), metric
        assert (f'id="rate-{metric}-none"' in svg) == (total[metric] is None), metric
    assert total["acceptance_within_limit"] is not None
    assert "红旗街道" in svg and "total" in svg and "合计" not in svg
    # a day is not rated on its own: the stars drawn are its quarter's, under way (the tables' notes say so too)
    assert "of the assessment periods: 2025-Q1 provisional" in svg and "考核期" not in svg  # English alone
    assert re.search(r"\(\d+ rated\)", svg)  # each child's count of rated cells
    chinese = draw(found, "svg", "zh").decode("utf-8")  # (gridcore --lang zh rollup ... --chart)
    assert "考核期：2025-Q1 暂定" in chinese and re.search(r"（已评定 \d+ 个）", chinese) and "合计" in chinese
    assert "provisional" not in chinese and "rated" not in chinese and "accepted on time" not in chinese
    assert draw(found, "svg") == draw(found, "svg")  # the same roll-up gives the same file
    runner = CliRunner()
    store = simulated.store.url
    wrong = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-03-03", "--store", store,
                                       "--chart", str(tmp_path / "chart.txt")])
    assert wrong.exit_code == 1 and "extension must be one of" in wrong.output
    assert not (tmp_path / "chart.txt").exists()
    if installed_cjk_font() is None:
        pytest.skip("no CJK font installed here (Debian: fonts-noto-cjk): the PNG is not drawn")
    done = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-03-03", "--store", store,
                                      "--table", "months", "--chart", str(tmp_path / "chart.png")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "三率按月" in done.output


def test_the_demo_rolls_up_the_levels_its_scenario_names(simulated: Engine, tmp_path: Path) -> None:
    from gridcore_app.demo import Shown, _with_rollups
    from gridcore_app.scenario import DemoPlan

    # Yinzhou's demo: a week from Monday 3 March, then the district's and each street's roll-up.
    plan = load_scenario(YINZHOU / "scenario.yaml").demo
    assert plan == DemoPlan(days=7, start=date(2025, 3, 3), rollups=("district", "street"),
                            variants=("yz-c1.rules", "yz-c2.rules", "yz-c3.rules"))
    shown = _with_rollups(simulated, Shown((), (), (), ()), tmp_path, plan.rollups, "2025-03-03")
    assert [title for title, _ in shown.sections] == [
        "Roll-up (汇总) of 小银州区 [yz], 2025-03-03",
        "Roll-up (汇总) of 红旗街道 [yz-s1], 2025-03-03",
        "Roll-up (汇总) of 工人街道 [yz-s2], 2025-03-03",
    ]
    assert "合计 total" in shown.sections[0][1] and "工人街道" in shown.sections[0][1]
    assert (tmp_path / "rollup-yz-summary-2025-03-03.csv").read_text(encoding="utf-8").startswith("\ufeffnode,name")
    assert len(shown.tables) == 3 * 5


def test_a_scenario_names_only_levels_the_community_has(mini_district: Path) -> None:
    from gridcore_app.scenario import parse_scenario, scenario_problems

    scenario = parse_scenario({"channels": {"patrol": 1}, "handling": {"handlers": ["fulltime_gridworker"], "verifier": ["grid_leader"]},
                               "demo": {"rollups": ["province"]}})
    assert scenario_problems(scenario, load_community(mini_district)) == [
        "demo.rollups: unknown level 'province' (expected one of district, street, community, grid) (未知层级)"]


def test_rollups_of_one_run_build_the_district_wide_reports_once(simulated: Engine) -> None:
    built: dict[tuple[str, str], Any] = {}
    first = rollup(simulated, "yz-s1", "2025-03-03", built=built)
    assert set(built) == {("assessment.stars", "2025-03-03"), ("assessment.paid", "2025-03-03")}
    kept = dict(built)
    second = rollup(simulated, "yz-s2", "2025-03-03", built=built)
    assert all(built[key] is kept[key] for key in kept)
    assert first == rollup(simulated, "yz-s1", "2025-03-03")
    assert second.tables["summary"] == rollup(simulated, "yz-s2", "2025-03-03").tables["summary"]


# ---------------------------------------------------------------- roll-ups in forked workers


def every_rendering(found: Any) -> str:
    """A roll-up as text, as JSON and every table as CSV: what must not change by a byte."""
    return "\n".join([found.render("text"), found.render("json"), *(found.render("csv", t) for t in found.tables)])


@pytest.fixture(scope="module", params=["tinydb", "sqlite", "postgresql"])
def stored(request: pytest.FixtureRequest, mini_district: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The small district's two simulated days in a store of each backend (ticked: as after an ingest)."""
    from storefixtures import StoreFactory

    factory = StoreFactory(request.param, tmp_path_factory.mktemp(f"parallel-{request.param}"))
    community = load_community(mini_district)
    first = datetime(2025, 3, 3, tzinfo=TZ)
    events = list(simulate(community, load_scenario(YINZHOU / "scenario.yaml"), days=2, start=first, seed=5))
    try:
        with Engine.open(store=factory.url(), community=community, ruleset=RULES, effective=first,
                         clock=FixedClock(first + timedelta(days=2))) as opened:
            opened.record_many(events)
            opened.tick(first + timedelta(days=2))
            yield opened
    finally:
        factory.cleanup()


def test_rollups_in_forked_workers_are_the_serial_ones_byte_for_byte(stored: Engine) -> None:
    from gridcore_app.rollup import can_fork, rollups

    if not can_fork():
        pytest.skip("no fork here: roll-ups run one part after the other")
    asked = [("yz", "2025-W10"), ("yz-s1", "2025-W10"), ("yz", "2025-03-03"), ("yz-s2", "2025-Q1")]
    # the workers first: forked from a state no serial roll-up has warmed
    built: dict[tuple[str, str], Any] = {}
    parallel = rollups(stored, asked, built=built, workers=3)
    assert set(built) == {(name, period) for name in ("assessment.stars", "assessment.paid")
                          for period in ("2025-W10", "2025-03-03", "2025-Q1")}
    serial = rollups(stored, asked, workers=1)
    assert [every_rendering(r) for r in parallel] == [every_rendering(r) for r in serial]
    assert parallel == serial
    # one roll-up alone, and one whose district-wide reports were built by an earlier one
    assert every_rendering(rollup(stored, "yz", "2025-Q1", workers=2)) == every_rendering(
        rollup(stored, "yz", "2025-Q1"))
    assert rollup(stored, "yz-s1", "2025-Q1", built=built, workers=2) == rollup(stored, "yz-s1", "2025-Q1")
    # the store is still this engine's to read and write after the workers ended
    assert stored.report("points.totals", {"node": "yz", "period": "2025-W10"}).rows
    stored.tick(datetime(2025, 3, 5, 1, tzinfo=TZ))


def test_every_part_of_a_rollup_comes_back_from_the_workers(stored: Engine) -> None:
    from gridcore_app import rollup as module

    if not module.can_fork():
        pytest.skip("no fork here: roll-ups run one part after the other")
    plans = {(node, "2025-W10"): module._plan(stored, node, "2025-W10") for node in ("yz", "yz-s1")}
    parts = module._parts(list(plans.values()))
    assert [part[0] for part in parts] == ["period", "points", "points"]
    found = module._in_workers(stored, parts, plans, {}, 2)
    assert set(found) == set(parts)  # none left for this process to compute
    here = {part: module._part(stored, part, plans, {}) for part in parts}
    assert found == here


def test_the_rollup_command_takes_workers(simulated: Engine) -> None:
    runner = CliRunner()
    store = simulated.store.url
    shown = {n: runner.invoke(main_group, ["rollup", "yz", "--period", "2025-W10", "--store", store,
                                           "--format", "json", "--workers", str(n)]) for n in (1, 2)}
    assert shown[1].exit_code == 0, shown[1].output
    assert shown[2].output == shown[1].output and '"summary"' in shown[1].output
    wrong = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-W10", "--store", store, "--workers", "0"])
    assert wrong.exit_code != 0


def test_store_again_is_a_handle_of_its_own_on_the_same_store(stored: Engine) -> None:
    again = stored.store_again()
    try:
        assert again is not stored.store
        assert again.position() == stored.store.position() == stored.position
        assert again.get("meta", "community") == stored.store.get("meta", "community")
    finally:
        again.close()
    assert stored.store.position() == stored.position  # the engine's own handle is open still


def test_a_rollup_pays_the_subsidies_of_the_assessment_periods_it_holds(simulated: Engine) -> None:
    """Subsidies belong to assessment periods (Yinzhou rates each quarter): a day's or a week's roll-up
    holds no quarter and pays nothing, saying so; a quarter's pays that quarter's (provisional while it is
    under way by the engine's clock, here early March); a year's, its quarters' that are over."""
    quarter = simulated.report("assessment.subsidies", {"period": "2025-Q1"})
    paid = sum((Decimal(str(row[2])) for row in quarter.rows), Decimal(0))
    assert paid > 0
    for period in ("2025-03-03", "2025-W10", "2025-03"):
        found = rollup(simulated, "yz", period, built=BUILT)
        total = by_node(found.tables["summary"])["yz"]
        assert (total["paid"], total["subsidies"]) == (0, 0), period
        assert any(f"{period} holds none" in note and "不计补贴" in note for note in found.tables["summary"].notes)
    found = rollup(simulated, "yz", "2025-Q1", built=BUILT)
    assert by_node(found.tables["summary"])["yz"]["subsidies"] == paid
    assert any("2025-Q1 is not over by the engine's clock (2025-03-05)" in note and "暂定" in note
               for note in found.tables["summary"].notes)
    # the clock in early March: no quarter of 2025 is over, so the year pays none of them
    year = simulated.report("assessment.paid", {"period": "2025"})
    assert year.rows == ()
    assert "2025 holds 4 (2025-Q1, 2025-Q2, 2025-Q3, 2025-Q4)" in year.notes[0]
    assert "2025-Q1 (provisional), 2025-Q2 (not begun)" in year.notes[1] and "不发放" in year.notes[1]
    # the report of one assessment period is that period's own table
    assert simulated.report("assessment.paid", {"period": "2025-Q1"}).rows == quarter.rows


@pytest.fixture(scope="module")
def mid_year(simulated: Engine) -> Iterator[Engine]:
    """The simulated store read with the engine's clock in mid-August 2025: Q1 and Q2 over, Q3 under way."""
    with Engine.open(store=simulated.store.url, read_only=True,
                     clock=FixedClock(datetime(2025, 8, 15, 10, tzinfo=TZ))) as opened:
        yield opened


def test_a_years_rollup_pays_only_the_quarters_over_by_the_engines_clock(mid_year: Engine) -> None:
    quarters = {q: mid_year.report("assessment.subsidies", {"period": q}) for q in ("2025-Q1", "2025-Q2", "2025-Q3")}
    due: dict[str, Decimal] = {}
    for q in ("2025-Q1", "2025-Q2"):
        for row in quarters[q].rows:
            due[str(row[0])] = due.get(str(row[0]), Decimal(0)) + Decimal(str(row[2]))
    year = mid_year.report("assessment.paid", {"period": "2025"})
    assert {str(row[0]): Decimal(str(row[2])) for row in year.rows} == due
    assert all("2025-Q3" not in str(row[3]) for row in year.rows)
    assert "2025-Q3 (provisional), 2025-Q4 (not begun) not over by the engine's clock (2025-08-15)" in year.notes[1]
    assert sum(Decimal(str(row[2])) for row in quarters["2025-Q3"].rows) > 0  # (Q3's would pay: left out)
    found = rollup(mid_year, "yz", "2025")
    summary = found.tables["summary"]
    assert by_node(summary)["yz"]["subsidies"] == sum(due.values(), Decimal(0))
    assert any("left out, not paid" in note and "2025-Q3、2025-Q4 尚未结束" in note for note in summary.notes)
    # the stars: each quarter's begun by the clock, each row naming its quarter; Q3 provisional, Q4 left out
    stars = found.tables["stars"]
    col = {name: k for k, name in enumerate(stars.columns)}
    assert {(row[col["assessed"]], row[col["status"]]) for row in stars.rows} == {
        ("2025-Q1", "ended"), ("2025-Q2", "ended"), ("2025-Q3", "provisional")}
    assert any("2025-Q4 not begun" in note and "尚未开始" in note for note in summary.notes)
    grids = [row for row in stars.rows if row[col["level"]] == "grid"]
    total = by_node(summary)["yz"]
    assert total["rated"] == len({row[col["node"]] for row in grids}) == len(grids) // 3
    assert total["mean stars"] == (Decimal(sum(int(row[col["stars"]]) for row in grids))
                                   / len(grids)).quantize(Decimal("0.01"))
    for q in ("2025-Q1", "2025-Q2", "2025-Q3"):
        own = {(r[0], r[3]) for r in mid_year.report("assessment.ratings", {"period": q}).rows}
        assert {(r[col["node"]], r[col["stars"]]) for r in stars.rows if r[col["assessed"]] == q} <= own, q


def test_the_rollup_command_reads_as_at_now(simulated: Engine) -> None:
    """`gridcore rollup --now TIME`: the roll-up as the engine's clock at TIME finds it (quarters over by then
    paid, the one under way provisional); `--now latest`: at the store's newest event."""
    runner = CliRunner()
    common = ["rollup", "yz", "--period", "2025", "--format", "json", "--workers", "1", "--store", simulated.store.url]
    august = runner.invoke(main_group, [*common, "--now", "2025-08-15T10:00+08:00"])
    assert august.exit_code == 0, august.output
    rows = json.loads(august.stdout)["tables"]["stars"]["rows"]
    assert {(r["assessed"], r["status"]) for r in rows} == {
        ("2025-Q1", "ended"), ("2025-Q2", "ended"), ("2025-Q3", "provisional")}
    latest = runner.invoke(main_group, [*common, "--now", "latest"])
    assert latest.exit_code == 0, latest.output
    doc = json.loads(latest.stdout)
    assert {(r["assessed"], r["status"]) for r in doc["tables"]["stars"]["rows"]} == {("2025-Q1", "provisional")}
    assert Decimal(str(doc["tables"]["summary"]["rows"][-1]["subsidies"])) == 0  # no quarter over yet
    today = runner.invoke(main_group, common)  # the system clock: 2025 is over
    assert today.exit_code == 0, today.output
    assert {r["status"] for r in json.loads(today.stdout)["tables"]["stars"]["rows"]} == {"ended"}


def test_a_weeks_rollup_shows_the_stars_of_the_quarter_it_falls_in(simulated: Engine, mid_year: Engine) -> None:
    """A week, a day or a month of a quarterly ruleset is not rated on its own: its roll-up shows the stars
    of the quarter it falls in, marked provisional while that quarter is under way, in every rendering."""
    own = {(r[0], r[3], r[4]) for r in simulated.report("assessment.ratings", {"period": "2025-Q1"}).rows}
    for period in ("2025-03-03", "2025-W10", "2025-03"):
        found = rollup(simulated, "yz-s1", period, built=BUILT)
        stars = found.tables["stars"]
        col = {name: k for k, name in enumerate(stars.columns)}
        assert {(row[col["assessed"]], row[col["status"]]) for row in stars.rows} == {("2025-Q1", "provisional")}
        assert {(r[col["node"]], r[col["stars"]], r[col["score"]]) for r in stars.rows} <= own
        notes = found.tables["summary"].notes
        assert any(f"{period} falls in 2025-Q1" in note and "属于 2025-Q1" in note for note in notes), period
        assert any("2025-Q1 not over by the engine's clock (2025-03-05): provisional" in note and "暂定" in note
                   for note in notes), period
    found = rollup(simulated, "yz-s1", "2025-W10", built=BUILT)
    assert "2025-W10 (assessment periods 考核期: 2025-Q1)" in found.tables["stars"].title
    csv_zh = found.render(Format("csv", "zh"), "stars")
    assert csv_zh.startswith("\ufeff下级编号 child,") and ",考核期 assessed,状态 status\n" in csv_zh
    assert ",2025-Q1,暂定（未结束） provisional\n" in csv_zh
    assert ",2025-Q1,provisional\n" in found.render("csv", "stars")
    doc = json.loads(found.render("json"))
    assert {(r["assessed"], r["status"]) for r in doc["tables"]["stars"]["rows"]} == {("2025-Q1", "provisional")}
    text = found.render("text")
    assert "stars are rated per quarter" in text and "星级按考核期（季度）评定" in text
    # a week across two quarters (31 March to 6 April) shows both, the second once it has begun
    across = rollup(mid_year, "yz-s1", "2025-W14").tables["stars"]
    assert {(r[7], r[8]) for r in across.rows} == {("2025-Q1", "ended"), ("2025-Q2", "ended")}
    early = rollup(simulated, "yz-s1", "2025-W14", built=BUILT)
    assert {(r[7], r[8]) for r in early.tables["stars"].rows} == {("2025-Q1", "provisional")}
    assert any("2025-Q2 not begun" in note for note in early.tables["summary"].notes)


# ---------------------------------------------------------------- the simulator and the ladder


def test_the_simulator_takes_on_cases_where_the_ladder_carried_them(mini_district: Path, tmp_path: Path) -> None:
    """Given the ruleset's ladder, a simulated case that nobody took on in time, or that a rule sent up at
    once, is taken on at the level it reached: by a street's officers, at the command centre by its
    dispatchers.  Without it those cases climbed to the command centre and waited there for good (the
    90-day Yinzhou quarter: 220 of them, none ever handled)."""
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    first = datetime(2025, 3, 3, tzinfo=TZ)
    days = 10
    ladder = Ladder.of_files(community, [RULES], at=first.date())
    events = list(simulate(community, scenario, days=days, start=first, seed=8, ladder=ladder))
    assert events == list(simulate(community, scenario, days=days, start=first, seed=8, ladder=ladder))
    end = first + timedelta(days=days)
    with Engine.open(store=str(tmp_path / "store"), community=community, ruleset=RULES, effective=first,
                     clock=FixedClock(end)) as engine:
        summary = engine.record_many(events)
        engine.tick(end)
        kinds = {e.id: type(e).__name__ for e in events}
        # only the scenario's mistakes on purpose are refused (ratings from outside, redemptions too early)
        assert {kinds[r.event_id] for r in summary.refused} <= {"SatisfactionRated", "PointsRedeemed"}
        views = escalation.incidents(engine)
        up = [v for v in views if v.current_level in ("street", "district")]
        waiting = [v.id for v in up if v.status == "reported" and end - v.reported_at > timedelta(days=3)]
        assert waiting == []
        taken_by = {community.member(v.accepted_by).roles[0].role for v in up if v.accepted_by is not None}
        assert {"street_officer", "dispatcher"} <= taken_by
        # the climbs are the engine's own: a missed accept limit carried each case the dispatchers took
        at_top = [v for v in up if v.current_level == "district" and v.accepted_by is not None]
        assert at_top and all(any(e.actor == "system" for e in v.escalations) for v in at_top)
