"""A line department's officer (条线部门人员: a professional gridworker a department sent down) acts on a
case the department was called to: whistled to it (吹哨报到) or routed to it by the ruleset
(``route to police``). A case of the grid never routed there is the grid's own: the officer posted in
the grid may not accept it, nor be assigned it, and is told why in English and Chinese; nothing is stored.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result
from zhladder import DATA, init_store

from gridcore_app.cli import main_group

REFUSED = ("police1 may not accept incident I1: they serve at g1 for the line department police (外海派出所), "
           "and the case is not its: it was not routed nor whistled to it (or it sent the case back); a line "
           "department acts on the cases it is called to (吹哨报到) or its ruleset routes to it (route to police) "
           "(police1 是条线部门 外海派出所 的人员，此事件未分派、未吹哨召集该部门（或该部门已退单），无权受理)")


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def step(store: str, *args: str, now: str) -> Result:
    return run("incidents", *args, "--store", store, "--now", f"2025-03-03T{now}+08:00")


def _accepted(store: str, incident: str) -> list[str]:
    shown = run("incidents", "timeline", incident, "--store", store, "--now", "2025-03-03T12:00+08:00",
                "--format", "json")
    return [r["actor"] for r in json.loads(shown.stdout)["rows"] if r["step"] == "accepted"]


def test_an_officer_may_not_take_a_case_never_called_to_the_department(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    assert step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "张伟",
                now="09:00").exit_code == 0
    refused = step(store, "accept", "I1", "--actor", "police1", now="09:10")
    assert refused.exit_code != 0 and REFUSED in refused.output, refused.output
    said = run("--lang", "zh", "incidents", "accept", "I1", "--actor", "police1", "--store", store,
               "--now", "2025-03-03T09:10+08:00")
    assert "无权受理" in said.output, said.output
    assigned = step(store, "assign", "I1", "--actor", "leader1", "--to", "police1", now="09:12")
    assert assigned.exit_code != 0 and "police1 cannot handle incident I1: they serve at g1 for the line " \
        "department police (外海派出所), and the case is not its" in assigned.output
    assert _accepted(store, "I1") == []  # nothing stored
    # whistled to the police (吹哨报到): its officer reports in and takes it
    assert step(store, "escalate", "I1", "--actor", "worker1", "--department", "police", "--reason", "需要民警到场",
                now="09:20").exit_code == 0
    taken = step(store, "accept", "I1", "--actor", "police1", now="09:30")
    assert taken.exit_code == 0, taken.output
    assert _accepted(store, "I1") == ["police1"]


def test_a_case_the_ruleset_routes_to_the_department_is_its_officers(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    # fire_hazard: go straight to community, route to fire (fire1 serves at yq for the fire station)
    assert step(store, "report", "F1", "--category", "fire_hazard", "--node", "u11", "--actor", "worker1",
                now="09:00").exit_code == 0
    assert step(store, "report", "D1", "--category", "dispute", "--node", "yq", "--actor", "worker1",
                now="09:05").exit_code == 0
    assert step(store, "accept", "F1", "--actor", "fire1", now="09:10").exit_code == 0
    other = step(store, "accept", "D1", "--actor", "fire1", now="09:15")
    assert other.exit_code != 0 and "fire1 may not accept incident D1: they serve at yq for the line department " \
        "fire (消防救援站)" in other.output, other.output
    assert (_accepted(store, "F1"), _accepted(store, "D1")) == (["fire1"], [])


def test_an_officer_who_also_holds_a_role_of_the_grid_acts_as_its_staff(tmp_path: Path) -> None:
    community = tmp_path / "community"
    shutil.copytree(DATA / "community", community)
    with (community / "roles.csv").open("a", encoding="utf-8") as roles:
        roles.write("police1,parttime_gridworker,g1,\n")
    store = str(tmp_path / "store")
    init = run("init", "--community", str(community), "--ruleset", str(DATA / "ladder-unit.rules"),
               "--effective", "2025-03-01T00:00+08:00", "--store", store)
    assert init.exit_code == 0, init.output
    assert step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "张伟",
                now="09:00").exit_code == 0
    taken = step(store, "accept", "I1", "--actor", "police1", now="09:10")
    assert taken.exit_code == 0, taken.output
