"""A district office over the service (issue 14), as curl would use it: roll-ups of a street and of the
district, and who may read them, through a real ``gridcore serve`` on a small district's SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import DISTRICT_RULES, REPO
from servicekit import Server, served

from gridcore import Engine, FixedClock
from gridcore_app.rollup import rollup
from gridcore_app.rosterio import load_community
from gridcore_app.service import auth
from gridcore_app.simulate import load_scenario, simulate

TZ = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, tzinfo=TZ)
HOLDERS = {"street1": "yz-s1-o1", "street2": "yz-s2-o1", "centre": "yz-cc-d1", "resident": "yz-c1-g1-r1",
           "c1": "yz-c1-sec"}


@pytest.fixture(scope="module")
def district(mini_district: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    """Two simulated days of the small district, served; the tokens of HOLDERS and the roll-ups computed
    in this process (what the service must answer)."""
    community = load_community(mini_district)
    events = list(simulate(community, load_scenario(REPO / "rulesets" / "yinzhou" / "scenario.yaml"), days=2,
                           start=MONDAY, seed=3))
    url = f"sqlite:///{tmp_path_factory.mktemp('served-district') / 'd.db'}"
    with Engine.open(store=url, community=community, ruleset=DISTRICT_RULES, effective=MONDAY,
                     clock=FixedClock(MONDAY)) as engine:
        engine.record_many(events)
        engine.tick(MONDAY + timedelta(days=2))
        tokens = {who: auth.issue(engine, member, who)[1] for who, member in HOLDERS.items()}
    with Engine.open(store=url, read_only=True, clock=FixedClock(MONDAY + timedelta(days=2))) as engine:
        expected = {(node, period): rollup(engine, node, period)
                    for node, period in (("yz-s1", "2025-W10"), ("yz", "2025-03-03"))}
    with served(url, now=MONDAY + timedelta(days=2), intake="yz-cc-d1") as server:
        yield server, {"tokens": tokens, "expected": expected}


def test_a_street_and_the_district_are_rolled_up_over_the_api(district: tuple[Server, dict[str, Any]]) -> None:
    server, made = district
    with server.client(made["tokens"]["street1"]) as client:
        street = client.get("/api/v1/rollups/yz-s1", params={"period": "2025-W10"})
        assert street.status_code == 200, street.text
        assert street.text == made["expected"]["yz-s1", "2025-W10"].render("json")  # as `gridcore rollup`
        by_name = client.get("/api/v1/rollups/小银州区", params={"period": "2025-03-03", "table": "summary"})
        assert by_name.json()["node"] == "yz" and list(by_name.json()["tables"]) == ["summary"]
        assert by_name.text == made["expected"]["yz", "2025-03-03"].render("json", "summary")
        csv = client.get("/api/v1/rollups/yz-s1", params={"period": "2025-W10", "format": "csv", "table": "stars"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.content.decode("utf-8") == made["expected"]["yz-s1", "2025-W10"].render("csv", "stars")
        assert csv.content.startswith("\ufeffchild,child name,node".encode())
        # the period as staff write it in Chinese: the same roll-up
        assert client.get("/api/v1/rollups/yz-s1", params={"period": "2025年第10周", "format": "csv", "table": "stars"}
                          ).content == csv.content
    with server.client(made["tokens"]["street2"]) as client:  # another street's staff read it too: rates are open
        assert client.get("/api/v1/rollups/yz-s1", params={"period": "2025-W10"}).status_code == 200


@pytest.mark.parametrize(("who", "path", "params", "status", "zh"), [
    ("resident", "/api/v1/rollups/yz-s1", {"period": "2025-W10"}, 403, "汇总只供工作人员查看"),
    (None, "/api/v1/rollups/yz-s1", {"period": "2025-W10"}, 401, "需要令牌"),
    ("street1", "/api/v1/rollups/yz-s1", {}, 400, "请填写汇总周期"),
    ("street1", "/api/v1/rollups/yz-s1", {"period": "2025年五季度"}, 400, "无法识别的周期"),
    ("street1", "/api/v1/rollups/yz-s1", {"period": "2025-W10", "table": "rates"}, 400, "没有汇总表 'rates'"),
    ("street1", "/api/v1/rollups/yz-s1", {"period": "2025-W10", "format": "xlsx"}, 400, "格式 'xlsx' 应为 json 或 csv"),
    ("street1", "/api/v1/rollups/yz-s9", {"period": "2025-W10"}, 404, "未知节点"),
    ("street1", "/api/v1/rollups/yz-c1-g1", {"period": "2025-W10"}, 400, "无下级网格可汇总"),
])
def test_a_rollup_that_cannot_be_made_is_a_problem_with_its_chinese(
        district: tuple[Server, dict[str, Any]], who: str | None, path: str, params: dict[str, str], status: int,
        zh: str) -> None:
    server, made = district
    with server.client(made["tokens"][who] if who else None) as client:
        answer = client.get(path, params=params)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json" and problem["status"] == status
    assert zh in problem.get("detail_zh", "") or zh in problem["detail"], problem


def test_open311_takes_a_report_by_its_cell_where_the_roster_keeps_no_places(
        district: tuple[Server, dict[str, Any]]) -> None:
    """A district's roster (Yinzhou's) keeps no places and no map: Open311 takes the cell as `node` (a
    gridcore extension, as for the services list), by id or the name it alone bears."""
    server, _ = district
    with server.client() as client:  # an anonymous resident, recorded as the intake member
        nowhere = client.post("/open311/v2/requests.json", data={"service_code": "leaking_pipe"})
        assert nowhere.status_code == 400 and "节点" in nowhere.json()[0]["description"]
        taken = client.post("/open311/v2/requests.json",
                            data={"service_code": "leaking_pipe", "node": "yz-c3-g1", "description": "漏水"})
        assert taken.status_code == 201, taken.text
        ident = taken.json()[0]["service_request_id"]
        found = client.get(f"/open311/v2/requests/{ident}.json").json()[0]
        assert found["service_code"] == "leaking_pipe" and found["status"] == "open"
        by_name = client.post("/open311/v2/requests.json", data={"service_code": "leaking_pipe", "node": "工人街道"})
        assert by_name.status_code == 201, by_name.text
        shared = client.post("/open311/v2/requests.json", data={"service_code": "leaking_pipe", "node": "第一网格"})
        assert shared.status_code == 400 and "第一网格" in shared.json()[0]["description"]
        address = client.post("/open311/v2/requests.json",
                              data={"service_code": "leaking_pipe", "address_string": "银州社区第一网格"})
        assert address.status_code == 404 and "请用 node 写明网格" in address.json()[0]["description"]
        unknown = client.post("/open311/v2/requests.json", data={"service_code": "leaking_pipe", "node": "yz-c9-g1"})
        assert unknown.status_code == 404 and "未知节点" in unknown.json()[0]["description"]
    with server.client(district[1]["tokens"]["street2"]) as client:
        listed = client.get("/api/v1/incidents", params={"within": "yz-s2"}).json()
        assert {case["node"] for case in listed if case["channel"] == "open311"} == {"yz-c3-g1", "yz-s2"}


@pytest.mark.parametrize(("reader", "member", "allowed"), [
    ("street1", "yz-c1-g1-r1", True),   # a street's officer: the members of its communities
    ("centre", "yz-c3-g1-fw", True),    # the command centre: everyone in the district
    ("c1", "yz-c1-g2-fw", True),        # a community's secretary: its grids' people
    ("street2", "yz-c1-g1-r1", False),  # another street's officer: never
    ("c1", "yz-c3-g1-fw", False),       # another street's community
    ("c1", "yz-s1-o1", False),          # the street's own officer sits above the community
    ("resident", "yz-c1-g1-fw", False),
])
def test_a_members_points_are_read_by_the_staff_of_where_they_belong_not_another_streets(
        district: tuple[Server, dict[str, Any]], reader: str, member: str, allowed: bool) -> None:
    server, made = district
    with server.client(made["tokens"][reader]) as client:
        for path, params in ((f"/api/v1/points/members/{member}/balance", {}),
                             (f"/api/v1/points/members/{member}/statement", {"period": "2025-03"}),
                             ("/api/v1/reports/points.statement", {"member": member, "period": "2025-03"})):
            answer = client.get(path, params=params)
            assert answer.status_code == (200 if allowed else 403), (path, answer.text)
            if not allowed:
                assert "只供本人及其所在网格或上级的工作人员查看" in answer.json()["detail_zh"]
    with httpx.Client(base_url=server.url, timeout=30) as browser:  # the dashboard: signed in with the token
        signed = browser.post("/dashboard/login", data={"token": made["tokens"][reader]})
        assert signed.status_code == 303 and browser.cookies
        page = browser.get(f"/dashboard/members/{member}")
        assert page.status_code == (200 if allowed else 403), page.text[:300]


def test_reports_naming_other_people_are_for_staff(district: tuple[Server, dict[str, Any]]) -> None:
    """A resident's token read every gridworker's subsidy and every flagged claim through /reports: a table
    naming other people is now staff's; what names no one (open cases) and their own rows stay theirs."""
    server, made = district
    with server.client(made["tokens"]["resident"]) as resident, server.client(made["tokens"]["street2"]) as staff:
        refused = resident.get("/api/v1/reports/assessment.subsidies", params={"period": "2025-03-03"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail_zh"] == "报表 assessment.subsidies 含有他人信息，只供工作人员查看"
        assert staff.get("/api/v1/reports/assessment.subsidies", params={"period": "2025-03-03"}).json()["rows"]
        # a table of people that names no one (no claim was flagged these two days) refuses nothing
        assert resident.get("/api/v1/reports/points.flags", params={"period": "2025-03-03"}).json()["rows"] == []
        assert resident.get("/api/v1/reports/escalation.open").status_code == 200
        own = resident.get("/api/v1/reports/points.statement", params={"member": HOLDERS["resident"],
                                                                         "period": "2025-03"})
        assert own.status_code == 200, own.text
        assert resident.get("/api/v1/points/board", params={"node": "yz-c1"}).status_code == 200  # public


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, but those that have ended (zombies, not yet waited for)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, parent = stat.rsplit(")", 1)[1].split()[:2]
            if int(parent) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def _resume(stopped: list[int]) -> None:
    """SIGCONT to each process stopped (one that has ended since needs none)."""
    import os
    import signal

    for child in stopped:
        try:
            os.kill(child, signal.SIGCONT)
        except ProcessLookupError:
            pass


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the roll-up's process in /proc")
def test_a_rollup_is_computed_off_the_engine_and_kept_until_the_store_changes(
        mini_district: Path, tmp_path: Path) -> None:
    # A district's roll-up is seconds of CPU. Computed on the engine's thread it held up every action of the
    # worker meanwhile; now a forked copy of the state computes it. Stopped (SIGSTOP) while it computes, an
    # action is still answered and stored; the roll-up then answers as the state was when it was asked. Asked
    # again with nothing new, it is kept (Cache-Status: hit); after a new event it is computed again, right.
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    community = load_community(mini_district)
    events = list(simulate(community, load_scenario(REPO / "rulesets" / "yinzhou" / "scenario.yaml"), days=2,
                           start=MONDAY, seed=3))
    url = f"sqlite:///{tmp_path / 'd.db'}"
    now = MONDAY + timedelta(days=2)
    with Engine.open(store=url, community=community, ruleset=DISTRICT_RULES, effective=MONDAY,
                     clock=FixedClock(MONDAY)) as engine:
        engine.record_many(events)
        engine.tick(now)
        tokens = {who: auth.issue(engine, member, who)[1] for who, member in HOLDERS.items()}

    def expected(period: str, fmt: str = "json", table: str | None = None) -> str:
        with Engine.open(store=url, read_only=True, clock=FixedClock(now)) as engine:
            return rollup(engine, "yz", period, boards=table == "boards").render(fmt, table)

    before = {period: expected(period) for period in ("2025-W10", "2025-03-03", "2025-03-04")}
    with served(url, now=now, intake="yz-cc-d1") as server, server.client(tokens["centre"]) as client, \
            server.client(tokens["c1"]) as c1, ThreadPoolExecutor(max_workers=1) as pool:
        # each day's roll-up until the test catches its process computing (a small district's is quick)
        for period in ("2025-03-03", "2025-03-04", "2025-W10"):
            asked = pool.submit(client.get, "/api/v1/rollups/yz", params={"period": period})
            stopped: list[int] = []
            while not asked.done() and not stopped:
                for child in _children(server.process.pid):
                    try:
                        os.kill(child, signal.SIGSTOP)
                    except ProcessLookupError:
                        continue  # (ended between the listing and the signal)
                    stopped.append(child)
            if stopped:
                # caught as it ended, its answer already sent, the request completes all the same: too late,
                # let it go on and try the next period (under load the catch can fall so)
                time.sleep(1)
                if not asked.done():
                    break
                _resume(stopped)
                stopped.clear()
            assert asked.result().text == before[period]
        assert stopped, "no roll-up was seen computing in a process of its own"
        try:  # the engine takes an action while the roll-up's process is stopped
            patrol = c1.post("/api/v1/events", json={"kind": "patrol_logged", "node": "yz-c1-g1", "minutes": 30,
                                                     "visits": 1, "hazards_found": 0, "note": "巡查"})
            assert patrol.status_code == 201, patrol.text
            assert not asked.done()
        finally:
            _resume(stopped)
        answer = asked.result()
        assert answer.status_code == 200 and answer.headers["cache-status"] == "gridcore; fwd=miss"
        assert answer.text == before[period]  # as the state was when it was asked, before the patrol
        # asked again: right (computed again if the patrol can change it: this week's does, a day's that has
        # ended may be kept, tests/test_rollup_stamps.py)
        again = client.get("/api/v1/rollups/yz", params={"period": period})
        assert again.text == expected(period)
        if period == "2025-W10":
            assert again.headers["cache-status"] == "gridcore; fwd=miss"
        # nothing new since: kept, for every format and table alike
        kept = client.get("/api/v1/rollups/yz", params={"period": period})
        assert kept.headers["cache-status"] == "gridcore; hit" and kept.text == again.text
        csv = {"period": period, "format": "csv", "table": "stars"}
        assert client.get("/api/v1/rollups/yz", params=csv).headers["cache-status"] == "gridcore; fwd=miss"
        hit = client.get("/api/v1/rollups/yz", params=csv)
        assert hit.headers["cache-status"] == "gridcore; hit"
        assert hit.content.decode("utf-8") == expected(period, "csv", "stars")
        # a report this week's roll-up counts: computed again, and it shows
        week = {"period": "2025-W10"}
        client.get("/api/v1/rollups/yz", params=week)
        kept = client.get("/api/v1/rollups/yz", params=week)
        assert kept.headers["cache-status"] == "gridcore; hit" and kept.text == expected("2025-W10")
        reported = c1.post("/api/v1/incidents", json={"category": "leaking_pipe", "node": "yz-c1-g1"})
        assert reported.status_code == 201, reported.text
        after = client.get("/api/v1/rollups/yz", params=week)
        assert after.headers["cache-status"] == "gridcore; fwd=miss" and after.text == expected("2025-W10")
        assert after.text != kept.text
        # the points boards, made only when asked for (gridcore rollup --table boards)
        boards = client.get("/api/v1/rollups/yz", params={**week, "table": "boards"})
        assert boards.status_code == 200, boards.text
        assert boards.text == expected("2025-W10", "json", "boards") and "boards" in boards.json()["tables"]
    assert "Traceback" not in server.log


def test_a_closed_periods_rollup_is_computed_again_after_an_event_dated_after_it(
        mini_district: Path, tmp_path: Path) -> None:
    # Why the roll-up cache is keyed on the plugins' stamps of the period, not on the events dated in it: a
    # case reported on Monday and closed on Wednesday changes Monday's roll-up (its closure rate, and with it
    # the stars), so an event dated after a period that has ended can change it. Kept while nothing that
    # reaches Monday is stored (a patrol on Wednesday); computed again after a late patrol dated Monday that
    # another process stores (service/rollups.py).
    import gridcore_escalation as esc

    community = load_community(mini_district)
    events = list(simulate(community, load_scenario(REPO / "rulesets" / "yinzhou" / "scenario.yaml"), days=2,
                           start=MONDAY, seed=3))
    url = f"sqlite:///{tmp_path / 'd.db'}"
    now = MONDAY + timedelta(days=2)
    with Engine.open(store=url, community=community, ruleset=DISTRICT_RULES, effective=MONDAY,
                     clock=FixedClock(MONDAY)) as engine:
        engine.record_many(events)
        engine.tick(now)
        case = next(i for i in esc.incidents(engine)
                    if i.status == "verified" and i.reported_at < MONDAY + timedelta(days=1))
        leader = engine.community.responsible_for(case.current_node, "grid_leader")[0].id
        tokens = {"centre": auth.issue(engine, HOLDERS["centre"], "centre")[1],
                  "leader": auth.issue(engine, leader, "leader")[1], "c1": auth.issue(engine, HOLDERS["c1"], "c1")[1]}

    def expected() -> str:
        with Engine.open(store=url, read_only=True, clock=FixedClock(now)) as engine:
            return rollup(engine, "yz", "2025-03-03").render("json")

    monday = {"period": "2025-03-03"}
    with served(url, now=now, intake="yz-cc-d1") as server, server.client(tokens["centre"]) as client, \
            server.client(tokens["leader"]) as gridleader, server.client(tokens["c1"]) as c1:
        first = client.get("/api/v1/rollups/yz", params=monday)
        assert first.status_code == 200, first.text
        kept = client.get("/api/v1/rollups/yz", params=monday)
        assert kept.headers["cache-status"] == "gridcore; hit" and kept.text == first.text == expected()
        # Monday's case closed on Wednesday: computed again, and Monday's closure rate shows it
        closed = gridleader.post(f"/api/v1/incidents/{case.id}/close", json={})
        assert closed.status_code == 201, closed.text
        after = client.get("/api/v1/rollups/yz", params=monday)
        assert after.headers["cache-status"] == "gridcore; fwd=miss" and after.text == expected()
        assert after.json()["tables"]["summary"] != first.json()["tables"]["summary"]
        # a patrol on Wednesday: Monday's own figures are the same, but computed again: the stars shown are the
        # first quarter's (Monday is not rated on its own), under way and so provisional: the patrol may move
        # them (the assessment's period stamp reaches to the quarter's end)
        patrol = c1.post("/api/v1/events", json={"kind": "patrol_logged", "node": "yz-c1-g1", "minutes": 30,
                                                 "visits": 1, "hazards_found": 0, "note": "巡查"})
        assert patrol.status_code == 201, patrol.text
        again = client.get("/api/v1/rollups/yz", params=monday)
        assert again.headers["cache-status"] == "gridcore; fwd=miss" and again.text == expected()
        assert own_figures(again.json()) == own_figures(after.json())
        assert {row["assessed"] for row in again.json()["tables"]["stars"]["rows"]} == {"2025-Q1"}
        assert {row["status"] for row in again.json()["tables"]["stars"]["rows"]} == {"provisional"}
        # a patrol dated Monday, stored by another process (gridcore ingest): computed again, and right
        late = tmp_path / "late.jsonl"
        late.write_text(json.dumps({"id": "late-monday", "kind": "patrol_logged", "time": (MONDAY + timedelta(
            hours=15)).isoformat(), "actor": HOLDERS["c1"], "node": "yz-c1-g1", "minutes": 30, "visits": 1,
            "hazards_found": 0, "note": "纸质记录"}, ensure_ascii=False) + "\n", encoding="utf-8")
        done = subprocess.run([str(Path(sys.executable).parent / "gridcore"), "ingest", str(late), "--store", url,
                               "--quiet"], check=False, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        refreshed = client.get("/api/v1/rollups/yz", params=monday)
        assert refreshed.headers["cache-status"] == "gridcore; fwd=miss" and refreshed.text == expected()
    assert "Traceback" not in server.log


def own_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """A roll-up's figures of its own period: every table but the stars (its assessment period's), and the
    summary's rows without their stars."""
    tables = {name: table for name, table in doc["tables"].items() if name != "stars"}
    tables["summary"] = [{k: v for k, v in row.items() if k not in ("rated", "mean stars")}
                         for row in tables["summary"]["rows"]]
    return tables


def test_an_ended_periods_rollup_is_kept_for_the_day_of_the_clock_unless_its_stars_are_provisional(
        district_engine: Engine) -> None:
    """A day that has ended shows its quarter's stars as the clock finds them: once the quarter is over too
    they change only from one day to the next, so its roll-up is kept for the clock's day; while the quarter
    is under way they are provisional (rated on what is recorded so far, which the clock's very time changes
    as incidents turn overdue), so it is kept only for that moment (Python 3.12's run of
    tests/test_rollup_cache_contract.py found one kept for the day and stale 8 hours on)."""
    from gridcore_app.rollup import rollup
    from gridcore_app.service.rollups import Rollups

    clock = district_engine.clock
    assert isinstance(clock, FixedClock)

    def key() -> tuple[Any, ...]:
        return Rollups().key(district_engine, "yz", "2025-03-01", "json", None)

    assert rollup(district_engine, "yz", "2025-03-01").provisional  # (its quarter under way by the clock)
    monday = key()
    settled, provisional = Rollups(), Rollups()
    settled.keep(monday, "settled")
    provisional.keep(monday, "provisional", provisional=True)
    clock.set(clock.now() + timedelta(hours=3))
    later = key()
    assert later[:-1] == monday[:-1] and later != monday  # the same day, another moment
    assert settled.kept(later) == "settled" and provisional.kept(later) is None
    assert provisional.kept(monday) == "provisional"  # (that very moment: a test clock asking again)
    clock.set(clock.now() + timedelta(days=1))
    assert settled.kept(key()) is None  # the next day: computed again
