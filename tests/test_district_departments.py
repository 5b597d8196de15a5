"""Line departments answer at their own level of a district (吹哨报到): the street's officers for the street.

Issue 14: "street and district departments answer whistles at their level".
The small Yinzhou-shaped district (2 streets, 4 communities) has a police
officer at each street and one in each grid.  A case whistled to the police is
answered by the officers on its branch of the tree: the street's own officer
and the officers of the street's grids, never another street's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from conftest import DISTRICT_MONDAY as MONDAY

from gridcore import Engine

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
