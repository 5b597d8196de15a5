"""Line departments answer at their own level of a district (吹哨报到): the street's officers for the street.

Issue 14: "street and district departments answer whistles at their level".
The small Yinzhou-shaped district (2 streets, 4 communities) has a police
officer at each street and one in each grid.  A case whistled to the police is
answered by the officers on its branch of the tree: the street's own officer
and the officers of the street's grids, never another street's.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import DISTRICT_MONDAY as MONDAY
from conftest import DISTRICT_RULES, REPO

from gridcore import Engine, FixedClock
from gridcore_app.cli import main_group

# The small district and an engine on it are conftest.py's (mini_district, district_engine).


def event(kind: str, ident: str, incident: str, actor: str, node: str, when: datetime, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "id": ident, "time": when.isoformat(), "actor": actor, "node": node,
            "incident": incident, **more}


def test_a_case_whistled_to_the_police_at_the_street_is_answered_by_that_streets_police(district_engine: Engine) -> None:
    # the gravest matters go to the street at once (提级 特大, severity 5)
    district_engine.record(event("incident_reported", "r1", "治安-1", "yz-c1-g1-r1", "yz-c1-g1", MONDAY,
                        category="assistance", severity=5, channel="phone"))
    whistle = MONDAY + timedelta(minutes=30)
    district_engine.record(event("incident_escalated", "w1", "治安-1", "yz-s1-o1", "yz-s1", whistle,
                        to_node="yz-s1", department="police", reason="吹哨报到"))
    later = whistle + timedelta(minutes=30)
    refused = district_engine.record_many([event("incident_accepted", "a-other-street", "治安-1", "yz-s2-p1", "yz-s1", later)])
    assert len(refused.refused) == 1
    reasons = " ".join(refused.refused[0].reasons)
    assert "another branch of the tree" in reasons and "条线部门人员只办理本辖区的事件" in reasons
    taken = district_engine.record_many([event("incident_accepted", "a-own-street", "治安-1", "yz-s1-p1", "yz-s1", later)])
    assert not taken.refused
    # the street's police reported in on time: the summons is answered, in the street's department record
    table = district_engine.report("escalation.departments", {"period": "2025-03", "within": "yz-s1"})
    police = next(dict(zip(table.columns, row)) for row in table.rows if row[0] == "police")
    assert (police["summoned"], police["reported in on time"]) == (1, 1)


def test_a_grid_case_for_the_police_is_for_the_officers_of_its_own_branch(district_engine: Engine) -> None:
    district_engine.record(event("incident_reported", "r2", "治安-2", "yz-c1-g1-r1", "yz-c1-g1", MONDAY,
                        category="assistance", severity=1, channel="phone"))
    district_engine.record(event("incident_escalated", "w2", "治安-2", "yz-c1-g1-fw", "yz-c1-g1",
                        MONDAY + timedelta(minutes=10), to_node="yz-c1-g1", department="police"))
    later = MONDAY + timedelta(minutes=20)
    # another street's grid officer and another grid's are off this branch; the grid's own is on it
    off_branch = district_engine.record_many([
        event("incident_accepted", "x1", "治安-2", "yz-c3-g1-pw", "yz-c1-g1", later),
        event("incident_accepted", "x2", "治安-2", "yz-c1-g2-pw", "yz-c1-g1", later),
    ])
    assert len(off_branch.refused) == 2
    on_branch = district_engine.record_many([event("incident_accepted", "x3", "治安-2", "yz-c1-g1-pw", "yz-c1-g1", later)])
    assert not on_branch.refused


def whistled_to_the_command_centre(engine: Engine, incident: str) -> datetime:
    """A 红旗街道 (yz-s1) case at its street, whistled to the police at the command centre; the whistle's time."""
    engine.record(event("incident_reported", f"r-{incident}", incident, "yz-c1-g1-r1", "yz-c1-g1", MONDAY,
                        category="assistance", severity=5, channel="phone"))
    whistle = MONDAY + timedelta(minutes=30)
    engine.record(event("incident_escalated", f"w-{incident}", incident, "yz-s1-o1", "yz-s1", whistle,
                        to_node="yz", department="police", reason="吹哨报到"))
    return whistle + timedelta(minutes=30)


def test_a_case_whistled_at_the_command_centre_is_not_for_another_streets_police(district_engine: Engine) -> None:
    later = whistled_to_the_command_centre(district_engine, "治安-3")
    outcomes = sorted((o.subject, repr(o.value)) for o in district_engine.outcomes())
    timeline = district_engine.report("escalation.departments", {"period": "2025-03"}).rows
    # 工人街道's police officer, and an officer of one of its grids, are on another branch of the tree
    refused = district_engine.record_many([
        event("incident_accepted", "a-s2", "治安-3", "yz-s2-p1", "yz-s1", later),
        event("incident_accepted", "a-s2-grid", "治安-3", "yz-c3-g1-pw", "yz-s1", later),
    ])
    assert len(refused.refused) == 2
    # the refusal docs/district.md shows, word for word
    shown = " ".join((REPO / "docs" / "district.md").read_text(encoding="utf-8").split())
    assert refused.refused[0].reasons[0] in shown
    for one in refused.refused:
        reasons = " ".join(one.reasons)
        assert "is at yz and" in reasons and "another branch of the tree" in reasons
        assert "条线部门人员只办理本辖区的事件" in reasons and "事件不在其辖区，无权受理" in reasons
    # nothing changed: the summons is still waiting, the case where it was
    assert sorted((o.subject, repr(o.value)) for o in district_engine.outcomes()) == outcomes
    assert district_engine.report("escalation.departments", {"period": "2025-03"}).rows == timeline
    # the case's own street's officer (the branch it climbed) answers the whistle
    taken = district_engine.record_many([event("incident_accepted", "a-s1", "治安-3", "yz-s1-p1", "yz-s1", later)])
    assert not taken.refused
    police = next(dict(zip(district_engine.report("escalation.departments", {"period": "2025-03"}).columns, row))
                  for row in district_engine.report("escalation.departments", {"period": "2025-03"}).rows
                  if row[0] == "police")
    assert (police["summoned"], police["reported in on time"]) == (1, 1)


def test_another_grid_of_the_street_does_not_answer_a_case_that_climbed_from_its_neighbour(
        district_engine: Engine) -> None:
    later = whistled_to_the_command_centre(district_engine, "治安-4")
    # yz-c2 is in the same street as the case's yz-c1, but the case never went through it
    assert district_engine.record_many([event("incident_accepted", "a-c2", "治安-4", "yz-c2-g1-pw", "yz-s1",
                                              later)]).refused
    # the grid it was reported in is on its branch
    assert not district_engine.record_many([event("incident_accepted", "a-g1", "治安-4", "yz-c1-g1-pw", "yz-s1",
                                                  later)]).refused


def test_the_cli_refuses_another_streets_officer_at_the_command_centre(mini_district: Path, tmp_path: Path) -> None:
    from gridcore_app.rosterio import load_community

    store = tmp_path / "store"
    with Engine.open(store=str(store), community=load_community(mini_district), ruleset=DISTRICT_RULES,
                     effective=MONDAY - timedelta(days=2), clock=FixedClock(MONDAY)) as engine:
        later = whistled_to_the_command_centre(engine, "治安-5")
    runner = CliRunner()
    refused = runner.invoke(main_group, ["incidents", "accept", "治安-5", "--actor", "yz-s2-p1", "--node", "yz-s1",
                                         "--store", str(store), "--now", later.isoformat()])
    assert refused.exit_code != 0
    assert "another branch of the tree" in refused.output and "条线部门人员只办理本辖区的事件" in refused.output
    taken = runner.invoke(main_group, ["incidents", "accept", "治安-5", "--actor", "yz-s1-p1", "--node", "yz-s1",
                                       "--store", str(store), "--now", later.isoformat()])
    assert taken.exit_code == 0, taken.output


def test_the_districts_own_police_answer_at_the_command_centre_another_streets_do_not(
        mini_district: Path, tmp_path: Path) -> None:
    from gridcore_app.rosterio import load_community

    # the small district with a police officer of its own at the command centre (区公安分局)
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    with (folder / "members.csv").open("a", encoding="utf-8") as members:
        members.write("yz-police,区公安分局值班员,13800009999,false,\n")
    with (folder / "roles.csv").open("a", encoding="utf-8") as roles:
        roles.write("yz-police,professional_gridworker,yz,police\n")
    with Engine.open(store=str(tmp_path / "store"), community=load_community(folder), ruleset=DISTRICT_RULES,
                     effective=MONDAY - timedelta(days=2), clock=FixedClock(MONDAY)) as engine:
        later = whistled_to_the_command_centre(engine, "治安-6")
        # the district's own officer answers at the command centre, 工人街道's does not
        assert engine.record_many([event("incident_accepted", "a-s2", "治安-6", "yz-s2-p1", "yz-s1", later)]).refused
        assert not engine.record_many([event("incident_accepted", "a-yz", "治安-6", "yz-police", "yz-s1",
                                             later)]).refused
