"""Views follow the node they are about (issue 14): a community with its own variant sees its own numbers.

A small district (2 streets x 4 communities, Yinzhou's shape) under the
district's rules, with a variant in force for 银州社区 (yz-c1) only: its
haircut voucher costs 30 points (the district: 50) and its grids accept a case
within 2 working hours (the district: 4); it rates monthly (the district:
quarterly) and pays full-time gridworkers 120 yuan a star (the district: 100);
it declares a category of its own (独居老人求助), reported by that name.
The rewards list, the time limits and the assessment, through the command line
and the service (served for real in this process), show the variant's numbers
and file for yz-c1 (by id or by name) and the district's for yz-c2.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from click.testing import CliRunner
from conftest import REPO, make_mini_district

from gridcore import Engine, FixedClock
from gridcore.errors import HierarchyError
from gridcore.hierarchy import Hierarchy
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community
from gridcore_app.service import Settings, auth, create_app
from gridcore_app.service.testing import running

YINZHOU = REPO / "rulesets" / "yinzhou"
TZ = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
START = datetime(2025, 1, 1, tzinfo=TZ)
VARIANT = """\
继承 "yinzhou"
规则集 试点社区
适用于：银州社区

积分：
  覆盖 礼遇 理发券：30 分，每月最多 2 件

事件流转：
  覆盖 时限 grid：受理时限 2个工作小时，办结时限 3个工作日
  category elderly_alone: 独居老人求助, group 民生服务

考核：
  周期：月
  覆盖 补贴 专职网格员：每星 120 元
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A sqlite store of the mini district: the district's rules for all, the variant for yz-c1."""
    root = tmp_path_factory.mktemp("subtree-views")
    mini = make_mini_district(root)  # its own copy: places are added to it
    with (mini / "places.csv").open("a", encoding="utf-8") as places:  # a building in each of two grids
        places.write("yz-c1-g1-b1,银州小区1栋,yz-c1-g1\nyz-c2-g1-b1,龙山小区1栋,yz-c2-g1\n")
    variant = root / "pilot.rules"
    variant.write_text(VARIANT, encoding="utf-8")
    url = f"sqlite:///{root / 'district.db'}"
    with Engine.open(store=url, community=load_community(mini), ruleset=YINZHOU / "yinzhou.rules",
                     effective=START, clock=FixedClock(MONDAY)) as engine:
        engine.use_ruleset(variant, effective=START, search_path=[YINZHOU])
        assert engine.community.hierarchy.node("yz-c1").name == "银州社区"
        assert [e.node for e in engine.rulesets_in_force()] == [None, "yz-c1"]
        engine.record({"kind": "incident_reported", "id": "r-c1", "time": MONDAY.isoformat(),
                       "actor": "yz-c1-g1-fw", "node": "yz-c1-g1", "incident": "c1-case",
                       "category": "assistance", "severity": 1, "channel": "phone"})
    return url


@pytest.fixture
def mini_hierarchy(store: str) -> Hierarchy:
    with Engine.open(store=store, clock=FixedClock(MONDAY)) as engine:
        return engine.community.hierarchy


def run(*args: str) -> str:
    result = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
    assert result.exit_code != 0, result.output
    return result.output


def haircut(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("理发券"))


def grid_row(output: str, category: str = "assistance") -> str:
    return next(line for line in output.splitlines() if line.split()[:2] == [category, "grid"])


# ---------------------------------------------------------------- points rewards


def test_the_rewards_list_is_the_variants_for_its_community_and_the_districts_next_door(store: str) -> None:
    now = ("--store", store, "--now", MONDAY.isoformat())
    own = run("points", "rewards", "--node", "yz-c1", *now)
    assert haircut(own).split()[1] == "30" and "pilot.rules:" in haircut(own)
    assert "note: ruleset 试点社区 (pilot.rules) governs yz-c1 银州社区" in own
    assert run("points", "rewards", "--node", "银州社区", *now) == own  # by its name as nodes.csv gives it
    assert haircut(run("points", "rewards", "--node", "yz-c1-g1", *now)).split()[1] == "30"  # a grid of it
    assert haircut(run("points", "rewards", "--member", "yz-c1-g1-fw", *now)).split()[1] == "30"
    other = run("points", "rewards", "--node", "yz-c2", *now)
    assert haircut(other).split()[1] == "50" and "yinzhou.rules:27" in haircut(other)
    assert "note: ruleset 银州区 (yinzhou.rules) governs yz-c2" in other
    whole = run("points", "rewards", *now)  # nothing says which node: the whole tree's
    assert haircut(whole).split()[1] == "50" and "governs the whole tree" in whole


def test_the_rewards_report_takes_the_node_too(store: str) -> None:
    now = ("--store", store)
    own = run("report", "points.rewards", "-p", "node=银州社区", *now)
    assert haircut(own).split()[1] == "30" and "试点社区 (pilot.rules)" in own
    assert haircut(run("report", "points.rewards", "-p", "node=yz-c3", *now)).split()[1] == "50"


def test_a_node_is_found_by_its_id_or_the_name_it_alone_bears(mini_hierarchy: Hierarchy) -> None:
    assert mini_hierarchy.find("yz-c1").name == "银州社区"
    assert mini_hierarchy.find("银州社区").id == "yz-c1"
    with pytest.raises(HierarchyError, match=r"names 4 nodes \(yz-c1-g1, yz-c2-g1, yz-c3-g1, yz-c4-g1\)"):
        mini_hierarchy.find("第一网格")
    with pytest.raises(HierarchyError, match="unknown node 'yz-c9'"):
        mini_hierarchy.find("yz-c9")


def test_an_unknown_or_shared_node_name_is_refused_with_why(store: str) -> None:
    now = ("--store", store, "--now", MONDAY.isoformat())
    assert "unknown node '银洲社区'" in refused("points", "rewards", "--node", "银洲社区", *now)
    assert "did you mean '银州社区'" in refused("points", "rewards", "--node", "银洲社区", *now)
    shared = refused("points", "rewards", "--node", "第一网格", *now)
    assert "names 4 nodes" in shared and "yz-c1-g1" in shared


# ---------------------------------------------------------------- escalation limits


def test_the_time_limits_are_the_variants_for_its_community_and_the_districts_next_door(store: str) -> None:
    now = ("--store", store, "--now", MONDAY.isoformat())
    own = run("incidents", "limits", "--node", "银州社区", *now)
    assert "2 working hours (level grid, pilot.rules:9)" in grid_row(own)
    assert "ruleset 试点社区 (pilot.rules) governs yz-c1 银州社区" in own
    other = run("incidents", "limits", "--node", "yz-c2-g1", *now)
    assert "4 working hours (level grid, yinzhou.rules:43)" in grid_row(other)
    assert "ruleset 银州区 (yinzhou.rules) governs yz-c2-g1" in other
    assert grid_row(run("incidents", "limits", "--incident", "c1-case", *now)) == grid_row(own)
    before = run("incidents", "limits", "--node", "yz-c1", "--on", "2024-12-31", *now)  # the variant is from 2025
    assert grid_row(before) == grid_row(other) and "ruleset 银州区 (yinzhou.rules) governs yz-c1" in before
    assert grid_row(run("incidents", "limits", *now)) == grid_row(other)  # the whole tree's
    # a file given prints that file's limits, as before; --node belongs to the store's reading
    assert "yinzhou.rules:43" in grid_row(run("incidents", "limits", str(YINZHOU / "yinzhou.rules")))
    assert "without FILE" in refused("incidents", "limits", str(YINZHOU / "yinzhou.rules"), "--node", "yz-c1")


# ---------------------------------------------------------------- the service


@attrs.frozen
class Server:
    """The service served for real in this process (gridcore_app.service.testing.running)."""

    url: str

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def service(store: str) -> Iterator[tuple[Server, dict[str, str]]]:
    with Engine.open(store=store, clock=FixedClock(MONDAY)) as engine:
        tokens = {who: auth.issue(engine, who, who)[1] for who in ("yz-c1-g1-fw", "yz-c2-g1-fw")}
    with running(create_app(Settings(store=store, test_clock=MONDAY))) as url:
        yield Server(url), tokens


def test_the_service_answers_each_node_by_the_ruleset_governing_it(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service

    def price(rows: list[dict[str, Any]]) -> tuple[int, str]:
        found = next(r for r in rows if r["name"] == "理发券")
        return found["price"], found["rule"].split(":")[0]

    with server.client(tokens["yz-c2-g1-fw"]) as client:
        assert price(client.get("/api/v1/points/rewards").json()) == (50, "yinzhou.rules")  # the caller's home
        assert price(client.get("/api/v1/points/rewards", params={"node": "银州社区"}).json()) == (30, "pilot.rules")
        limits = client.get("/api/v1/incidents/limits", params={"node": "yz-c1"}).json()
        district = client.get("/api/v1/incidents/limits", params={"node": "yz-c2"}).json()
        whole = client.get("/api/v1/incidents/limits").json()
        unknown = client.get("/api/v1/incidents/limits", params={"node": "银洲社区"})
        shared = client.get("/api/v1/points/rewards", params={"node": "第一网格"})
    with server.client(tokens["yz-c1-g1-fw"]) as client:
        assert price(client.get("/api/v1/points/rewards").json()) == (30, "pilot.rules")
    assert (limits["ruleset"], limits["file"], limits["node"]) == ("试点社区", "pilot.rules", "yz-c1")
    assert (district["ruleset"], district["file"], district["node"]) == ("银州区", "yinzhou.rules", "yz-c2")
    assert (whole["file"], whole["node"]) == ("yinzhou.rules", None)

    def grid(answer: dict[str, Any]) -> tuple[str, str]:
        row = next(r for r in answer["rows"] if r["name"] == "assistance" and r["level"] == "grid")
        return row["accept"]["span"], row["accept"]["rule"]["rule"]

    assert grid(limits) == ("2 working hours", "pilot.rules:9")
    assert grid(district) == grid(whole) == ("4 working hours", "yinzhou.rules:43")
    assert unknown.status_code == 404 and "银州社区" in unknown.text
    assert shared.status_code == 400 and "yz-c1-g1" in shared.text


def test_the_service_shows_a_subtrees_assessment_under_its_ruleset(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    with server.client(tokens["yz-c2-g1-fw"]) as client:
        own = client.get("/api/v1/assessments/2025-02", params={"node": "银州社区"}).json()["assessment"]
        other = client.get("/api/v1/assessments/2025-02", params={"node": "yz-c2"}).json()["assessment"]
        every = client.get("/api/v1/assessments/2025-02").json()["assessment"]
    assert own["ruleset"] == "试点社区 (pilot.rules)" and other["ruleset"] == "银州区 (yinzhou.rules)"
    assert {r["node"] for r in own["ratings"]} == {"yz-c1", *(f"yz-c1-g{i}" for i in range(1, 8))}
    # the variant's own rate for full-time gridworkers; the grid leaders' it inherits from the district
    assert {(s["role"], s["rule"]["rule"]) for s in own["subsidies"]} == {
        ("fulltime_gridworker", "pilot.rules:14"), ("grid_leader", "yinzhou.rules:35")}
    assert {(s["role"], s["rule"]["rule"]) for s in other["subsidies"]} == {
        ("fulltime_gridworker", "yinzhou.rules:34"), ("grid_leader", "yinzhou.rules:35")}
    assert len(every["ratings"]) > len(own["ratings"]) + len(other["ratings"])


# ---------------------------------------------------------------- assessment


def test_assess_by_node_takes_the_period_of_its_ruleset_and_shows_its_subtree(store: str) -> None:
    now = ("--store", store, "--now", MONDAY.isoformat())
    own = run("assess", "--node", "银州社区", "--dry-run", *now)  # the variant rates monthly: February is over
    assert own.startswith("Star ratings 2025-02")
    assert "ruleset 试点社区 (pilot.rules)" in own and "only yz-c1 银州社区 and below" in own
    rated = [line.split()[0] for line in own.splitlines() if line.startswith("yz-")]
    assert rated and all(node == "yz-c1" or node.startswith("yz-c1-") for node in rated)
    other = run("assess", "--node", "yz-c2", "--dry-run", *now)  # the district rates quarterly
    assert other.startswith("Star ratings 2024-Q4") and "ruleset 银州区 (yinzhou.rules)" in other
    assert run("assess", "--dry-run", *now).startswith("Star ratings 2024-Q4")  # the whole tree's, as before
    paid = run("assess", "subsidies", "--period", "2025-02", "--node", "yz-c1", *now)
    assert "fulltime_gridworker@yz-c1-g1: 120 (1 stars, pilot.rules:14)" in paid and "yz-c2" not in paid
    # which ruleset, and why that one: a variant put in force mid-period pays from the next period on
    assert ("governed by ruleset 试点社区 (pilot.rules), the one in force at the period's start, 2025-02-01 "
            "(适用规则集：以考核期开始时 2025-02-01 生效的为准)") in paid, paid
    next_door = run("assess", "subsidies", "--period", "2025-02", "--node", "龙山社区", *now)
    assert "fulltime_gridworker@yz-c2-g1: 100 (1 stars, yinzhou.rules:34)" in next_door and "yz-c1" not in next_door
    # a period begun before any ruleset took effect is judged by the earliest: the note says so, not "in force"
    before = run("assess", "subsidies", "--period", "2024-Q4", "--node", "龙山社区", *now)
    assert ("governed by ruleset 银州区 (yinzhou.rules), the earliest put in force, from 2025-01-01: none was in "
            "force at the period's start, 2024-10-01 (适用规则集：考核期开始时 2024-10-01 尚无规则集生效，"
            "以最早生效的为准，2025-01-01 起)") in before, before


def test_a_category_only_the_variant_declares_is_taken_where_it_governs(
        service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    form = {"service_code": "独居老人求助", "api_key": tokens["yz-c1-g1-fw"]}
    with server.client(tokens["yz-c1-g1-fw"]) as client:
        taken = client.post("/open311/v2/requests.json", data={**form, "address_id": "yz-c1-g1-b1"})
        next_door = client.post("/open311/v2/requests.json", data={**form, "address_id": "yz-c2-g1-b1"})
        assert taken.status_code == 201, taken.text
        ident = taken.json()[0]["service_request_id"]
        shown = client.get(f"/open311/v2/requests/{ident}.json").json()[0]
        case = client.get(f"/api/v1/incidents/{ident}").json()
    assert shown["service_code"] == "elderly_alone" and shown["service_name"] == "独居老人求助"
    assert case["category"] == "elderly_alone" and case["ruleset"] == "试点社区"
    assert next_door.status_code == 404 and "独居老人求助" in next_door.text  # the district declares no such service


def test_the_dashboards_stars_page_shows_a_subtree_under_its_ruleset(
        service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    with httpx.Client(base_url=server.url, cookies={"gridcore_token": tokens["yz-c2-g1-fw"]}, timeout=30) as client:
        own = client.get("/dashboard/stars", params={"node": "银州社区"})
        other = client.get("/dashboard/stars", params={"node": "yz-c2"})
    assert own.status_code == 200 and other.status_code == 200
    assert "· 2025-02</h1>" in own.text and "试点社区 (pilot.rules)" in own.text  # its variant rates monthly
    assert 'name="node" value="银州社区"' in own.text and "龙山社区" not in own.text
    assert "· 2024-Q4</h1>" in other.text and "银州区 (yinzhou.rules)" in other.text


def test_open311_services_follow_the_jurisdiction_as_reports_there_are_judged(
        service: tuple[Server, dict[str, str]]) -> None:
    server, _ = service

    def codes(params: dict[str, str]) -> set[str]:
        answer = anonymous.get("/open311/v2/services.json", params=params)
        assert answer.status_code == 200, answer.text
        return {s["service_code"] for s in answer.json()}

    with httpx.Client(base_url=server.url, timeout=30) as anonymous:  # the list needs no token
        own = codes({"jurisdiction_id": "银州社区"})
        assert codes({"node": "yz-c1"}) == codes({"jurisdiction_id": "yz-c1-g1"}) == own  # by id, a grid of it
        district, whole = codes({"jurisdiction_id": "yz-c2"}), codes({})
        xml = anonymous.get("/open311/v2/services.xml", params={"jurisdiction_id": "yz-c1"}).text
        defined = anonymous.get("/open311/v2/services/独居老人求助.json", params={"jurisdiction_id": "yz-c1"})
        undefined = anonymous.get("/open311/v2/services/独居老人求助.json", params={"jurisdiction_id": "yz-c2"})
        unknown = anonymous.get("/open311/v2/services.json", params={"jurisdiction_id": "银洲社区"})
        shared = anonymous.get("/open311/v2/services.json", params={"node": "第一网格"})
        disagree = anonymous.get("/open311/v2/services.json", params={"jurisdiction_id": "yz-c1", "node": "yz-c2"})
    assert "elderly_alone" in own and "elderly_alone" not in district and district == whole
    assert own - {"elderly_alone"} == district  # the rest it inherits from the district
    assert "<service_code>elderly_alone</service_code>" in xml
    assert defined.status_code == 200 and defined.json()["service_code"] == "elderly_alone"
    assert undefined.status_code == 404 and "at yz-c2" in undefined.json()[0]["description"]
    assert unknown.status_code == 404 and "did you mean '银州社区'" in unknown.json()[0]["description"]
    assert shared.status_code == 400 and "yz-c1-g1" in shared.json()[0]["description"]
    assert disagree.status_code == 400 and "yz-c1, yz-c2" in disagree.json()[0]["description"]


def test_assess_compare_and_chart_show_a_subtree(store: str, tmp_path: Path) -> None:
    import shutil
    import xml.etree.ElementTree as ET

    copy = tmp_path / "district.db"  # assessments are stored: not in the module's store
    shutil.copyfile(store.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    now = ("--store", url, "--now", MONDAY.isoformat())
    for period in ("2025-01", "2025-02"):
        run("assess", "--period", period, *now)
    own = run("assess", "compare", "2025-01", "2025-02", "--node", "银州社区", "--store", url)
    assert "only yz-c1 银州社区 and below" in own and "试点社区 (pilot.rules)" in own
    rows = [line.split()[0] for line in own.splitlines() if line.startswith("yz-")]
    assert rows and all(node == "yz-c1" or node.startswith("yz-c1-") for node in rows)
    whole = run("assess", "compare", "2025-01", "2025-02", "--store", url)
    assert "only yz-c1" not in whole and "yz-c2-g1 " in whole
    assert "unknown node '银洲社区'" in refused("assess", "compare", "2025-01", "2025-02", "--node", "银洲社区",
                                                "--store", url)
    chart = tmp_path / "stars.svg"
    run("assess", "chart", "--period", "2025-02", "--output", str(chart), "--node", "yz-c2", *now)
    ids = [g.get("id", "") for g in ET.parse(chart).getroot().iter("{http://www.w3.org/2000/svg}g")]
    charted = [i[len("stars-"):] for i in ids if i.startswith("stars-")]
    assert charted and all(node == "yz-c2" or node.startswith("yz-c2-") for node in charted)
