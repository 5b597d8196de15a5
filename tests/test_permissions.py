"""The permission table of docs/security.md, row by row, and its input limits.

The table is read from the document itself: each row is built as an event in
a fresh store and recorded, and the decision must be the row's. A row the
test cannot build fails, so the document and the code cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import REPO, START, small_community

from gridcore import Community, Engine, EventRefused, FixedClock, get_plugin_manager, limits
from gridcore.errors import RosterError
from gridcore.events import (
    ActivityRecorded,
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    PatrolLogged,
    ResidentMoved,
    ResidentRegistered,
)
from gridcore.households import CareLink, Household
from gridcore.roster import Member, RoleAssignment
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
)
from gridcore_points.events import PointsRedeemed, RecognitionAwarded
from gridcore_tasks.events import TaskAssigned, TaskCompleted

SECURITY = REPO / "docs" / "security.md"
RULES = """\
ruleset permissions
levels: community > grid > unit
points:
  activity cleanup: 10 points
  reward towel: 5 points
  recognition grid: 30 points per month, by grid_leader
escalation:
  incident any: start at unit
  limit unit: accept within 30 days
  verified by: grid_leader
tasks:
  task sweep: within 3 days, by grid_leader, to fulltime_gridworker
"""
#: The table's actors and places, as people and nodes of the test community.
ACTORS = {"gridworker": "worker1", "grid leader": "leader1", "resident": "res1", "`system`": "system"}
OWN, OTHER = "u11", "u21"


def table(marker: str) -> list[dict[str, str]]:
    """The rows of the markdown table between ``<!-- marker -->`` and ``<!-- /marker -->``."""
    text = SECURITY.read_text(encoding="utf-8")
    body = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    lines = [line.strip() for line in body.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


def community() -> Community:
    """The small community, with a gridworker for grid g2 (to handle incidents there) and two households.

    王家 (h11) lives in u11, 李家 (h21) in u21; the gridworker of g1 looks after 李家 (包联户).
    """
    base = small_community()
    worker2 = Member(id="worker2", name="周专职", roles=(RoleAssignment("fulltime_gridworker", "g2"),))
    return attrs.evolve(base, members={**base.members, "worker2": worker2},
                        households={"h11": Household("h11", "王家", OWN, people=3),
                                    "h21": Household("h21", "李家", OTHER, people=2)},
                        care=(CareLink("worker1", household="h21"),))


def household(node: str) -> str:
    """The household on record in ``node``."""
    return "h11" if node == OWN else "h21"


def at(minutes: int) -> Any:
    return START + timedelta(minutes=minutes)


def setup_events() -> list[Event]:
    """Residents registered (res3 in u11, res4 in u21), and points for res1, res3 and res4."""
    events: list[Event] = [
        ResidentRegistered(id="reg-res1", time=at(0), actor="worker1", node=OWN, person="res1"),
        ResidentRegistered(id="reg-res3", time=at(0), actor="worker1", node=OWN, person="res3"),
        ResidentRegistered(id="reg-res4", time=at(0), actor="worker2", node=OTHER, person="res4"),
    ]
    for member, node, staff in (("res1", OWN, "worker1"), ("res3", OWN, "worker1"), ("res4", OTHER, "worker2")):
        events.append(ActivityRecorded(id=f"earn-{member}", time=at(1), actor=staff, node=node,
                                       activity="cleanup", member=member))
    return events


def incident(node: str, *, resolved: bool) -> list[Event]:
    """An incident at ``node`` reported by a grid leader; accepted and resolved by its gridworker."""
    staff = "worker1" if node == OWN else "worker2"
    events: list[Event] = [IncidentReported(id="i-rep", time=at(2), actor="leader1", node=node, incident="I1",
                                            category="leaking_pipe")]
    if resolved:
        events += [IncidentAccepted(id="i-acc", time=at(3), actor=staff, node=node, incident="I1"),
                   IncidentResolved(id="i-res", time=at(4), actor=staff, node=node, incident="I1")]
    return events


Build = Callable[[str, str], tuple[list[Event], Event]]
WHEN = at(10)


def _common(actor: str, node: str) -> dict[str, Any]:
    return {"id": "x", "time": WHEN, "actor": actor, "node": node}


#: (event, case) of a row -> given the actor and node, what comes first and the event judged.
SCENARIOS: dict[tuple[str, str], Build] = {
    ("any", "any event"): lambda a, n: ([], PatrolLogged(**_common(a, n))),
    ("`patrol_logged`", "a patrol"): lambda a, n: ([], PatrolLogged(**_common(a, n), minutes=30)),
    ("`resident_registered`", "a new resident"):
        lambda a, n: ([], ResidentRegistered(**_common(a, n), person="newcomer")),
    ("`resident_registered`", "a new resident called `system`"):
        lambda a, n: ([], ResidentRegistered(**_common(a, n), person="system")),
    ("`resident_moved`", "another resident"):
        lambda a, n: ([], ResidentMoved(**_common(a, n), person="res3" if n == OWN else "res4")),
    ("`resident_moved`", "their own home"): lambda a, n: ([], ResidentMoved(**_common(a, n), person=a)),
    ("`activity_recorded`", "their own"): lambda a, n: ([], ActivityRecorded(**_common(a, n), activity="cleanup")),
    ("`activity_recorded`", "their own, ruleset says `self recorded: refuse`"):
        lambda a, n: ([], ActivityRecorded(**_common(a, n), activity="cleanup")),
    ("`activity_recorded`", "for another member"):
        lambda a, n: ([], ActivityRecorded(**_common(a, n), activity="cleanup", member="res3")),
    ("`activity_recorded`", "for `system`"):
        lambda a, n: ([], ActivityRecorded(**_common(a, n), activity="cleanup", member="system")),
    ("`points_redeemed`", "their own points"): lambda a, n: ([], PointsRedeemed(**_common(a, n), reward="towel")),
    ("`points_redeemed`", "another member's points"):
        lambda a, n: ([], PointsRedeemed(**_common(a, n), reward="towel", member="res3" if n == OWN else "res4")),
    ("`recognition_awarded`", "to a member"):
        lambda a, n: ([], RecognitionAwarded(**_common(a, n), member="res3" if n == OWN else "res4", points=5,
                                             reason="helped a neighbour")),
    ("`incident_reported`", "a new incident"):
        lambda a, n: ([], IncidentReported(**_common(a, n), incident="I9", category="leaking_pipe")),
    ("`incident_accepted`", "an incident reported there"):
        lambda a, n: (incident(n, resolved=False), IncidentAccepted(**_common(a, n), incident="I1")),
    ("`incident_verified`", "a resolved incident"):
        lambda a, n: (incident(n, resolved=True), IncidentVerified(**_common(a, n), incident="I1", satisfaction=5)),
    ("`task_assigned`", "a sweep of the cell"):
        lambda a, n: ([], TaskAssigned(**_common(a, n), task="T9", task_kind="sweep")),
    ("`task_completed`", "their part of a sweep of the grid"):
        lambda a, n: ([TaskAssigned(id="t-a", time=at(2), actor="leader1", node="g1", task="T1", task_kind="sweep")],
                      TaskCompleted(**_common(a, n), task="T1")),
    ("`household_moved_in`", "a new household"):
        lambda a, n: ([], HouseholdMovedIn(**_common(a, n), household="h-new", name="吴家", size=2)),
    ("`household_moved_out`", "a household on record there"):
        lambda a, n: ([], HouseholdMovedOut(**_common(a, n), household=household(n))),
    ("`household_split`", "a household on record there"):
        lambda a, n: ([], HouseholdSplit(**_common(a, n), household=household(n), new_household="h-split",
                                         name="王小", size=1)),
    ("`household_visited`", "a household there"):
        lambda a, n: ([], HouseholdVisited(**_common(a, n), household=household(n))),
    ("`household_visited`", "a household they look after (包联户)"):
        lambda a, n: ([], HouseholdVisited(**_common(a, n), household=household(n))),
    ("`satisfaction_rated`", "a resolved incident"):
        lambda a, n: (incident(n, resolved=True), SatisfactionRated(**_common(a, n), incident="I1", score=4)),
}
#: A "someone a resident of another cell registered there": res2 (of u21) registers a person in u11.
FAKE = "someone a resident of another cell registered there"

ROWS = table("permission-table")


def engine_for(tmp_path: Path, strict: bool) -> Engine:
    rules = tmp_path / "permissions.rules"
    text = RULES.replace("  recognition grid:", "  self recorded: refuse\n  recognition grid:") if strict else RULES
    rules.write_text(text, encoding="utf-8")
    return Engine.open(store=str(tmp_path / "store"), community=community(), ruleset=rules,
                       effective=START - timedelta(days=1), clock=FixedClock(START),
                       plugins=get_plugin_manager(("assessment",)))


@pytest.mark.parametrize("row", ROWS, ids=[" | ".join(r.values()) for r in ROWS])
def test_every_row_of_the_permission_table_holds(row: dict[str, str], tmp_path: Path) -> None:
    build = SCENARIOS.get((row["event"], row["case"]))
    node = {"own cell": OWN, "another cell": OTHER}[row["where"]]
    with engine_for(tmp_path, strict="self recorded: refuse" in row["case"]) as engine:
        engine.record_many(setup_events())
        if row["actor"] == FAKE:
            # res2 lives in u21; the person they register in u11 is refused, so cannot rate there
            with pytest.raises(EventRefused, match="res2 may not register residents at u11"):
                engine.record(ResidentRegistered(id="fake", time=at(1), actor="res2", node=OWN, person="fake1"))
            actor = "fake1"
            build = SCENARIOS[(row["event"], row["case"])]
        else:
            actor = ACTORS[row["actor"]]
        assert build is not None, f"no scenario for the row {row}: add one to SCENARIOS"
        before, event = build(actor, node)
        summary = engine.record_many(before)
        assert not summary.refused, summary.refused
        count = engine.store.count()
        if row["decision"] == "allowed":
            assert engine.record(event), row
            assert engine.store.count() > count
        else:
            assert row["decision"] == "refused", row
            with pytest.raises(EventRefused) as refused:
                engine.record(event)
            assert engine.store.count() == count
            assert refused.value.reasons and all(reason.strip() for reason in refused.value.reasons)


def test_the_table_covers_every_scenario_and_both_decisions() -> None:
    used = {(row["event"], row["case"]) for row in ROWS}
    assert used == set(SCENARIOS), set(SCENARIOS) ^ used
    assert {row["decision"] for row in ROWS} == {"allowed", "refused"}
    assert {row["actor"] for row in ROWS} == {*ACTORS, FAKE}


def test_every_refusal_of_the_core_says_why_in_english_and_chinese(tmp_path: Path) -> None:
    with engine_for(tmp_path, strict=False) as engine:
        engine.record_many(setup_events())
        cases = [
            (PatrolLogged(**_common("worker1", OTHER)), "worker1 may not log a patrol at u21", "巡查只能由"),
            (ResidentRegistered(**_common("res1", OTHER), person="n"), "res1 may not register residents at u21",
             "只有本网格的工作人员或本网格居民可以登记居民"),
            (ResidentMoved(**_common("res1", OWN), person="res3"), "res1 may not move res3", "只有本人或所在网格"),
            (HouseholdMovedOut(**_common("res1", OWN), household="h11"), "res1 may not record that household h11",
             "户的迁入、迁出和分户只能由本网格的工作人员登记"),
            (HouseholdVisited(**_common("leader1", OTHER), household="h21"),
             "leader1 may not record a home visit to household h21", "入户走访只能由本网格的工作人员或包联人登记"),
            (PatrolLogged(**_common("system", OWN)), "actor 'system' is reserved", "system 为系统保留名"),
        ]
        for event, english, chinese in cases:
            with pytest.raises(EventRefused) as refused:
                engine.record(event)
            [reason] = refused.value.reasons
            assert english in reason and chinese in reason


def test_system_is_refused_from_a_log_and_a_roster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gridcore_app.cli import main_group

    base = small_community()
    with pytest.raises(RosterError, match="the id 'system' is reserved"):
        attrs.evolve(base, members={**base.members, "system": Member(id="system", name="系统")})
    folder = tmp_path / "community"
    shutil.copytree(REPO / "tests" / "data" / "escalation" / "community", folder)
    members = folder / "members.csv"
    with members.open("a", encoding="utf-8") as out:
        out.write("system,系统,,false,u21\n")
    result = CliRunner().invoke(main_group, ["hierarchy", "show", str(folder)])
    assert result.exit_code != 0 and "'system' is reserved" in result.output, result.output
    # from a JSON-lines log: refused by line, the other lines stored
    store = tmp_path / "store"
    with Engine.open(store=str(store), community=base, clock=FixedClock(START)):
        pass
    log = tmp_path / "events.jsonl"
    log.write_text(
        '{"kind": "patrol_logged", "id": "p1", "time": "2025-03-01T09:00+08:00", "actor": "system", "node": "g1"}\n'
        '{"kind": "patrol_logged", "id": "p2", "time": "2025-03-01T09:00+08:00", "actor": "worker1", "node": "g1"}\n',
        encoding="utf-8")
    result = CliRunner().invoke(main_group, ["ingest", str(log), "--store", str(store)])
    assert result.exit_code == 1 and "events.jsonl:1" in result.output and "reserved" in result.output
    with Engine.open(store=str(store), clock=FixedClock(START), create=False) as engine:
        assert [e.id for e in engine.events()] == ["p2"]


def test_the_documented_limits_are_the_limits_in_force() -> None:
    rows = table("limits-table")
    assert {row["limit"].strip("`"): int(row["value"]) for row in rows} == {
        name: getattr(limits, name) for name in dir(limits) if name.startswith("MAX_")}


def test_a_time_beyond_the_clock_plus_the_tolerance_is_refused(tmp_path: Path) -> None:
    from gridcore.engine import FUTURE_TOLERANCE

    assert FUTURE_TOLERANCE == timedelta(days=1)  # as docs/security.md says
    assert "more than **one day** after the clock's now" in SECURITY.read_text(encoding="utf-8")
    with Engine.open(store=str(tmp_path / "store"), community=small_community(), clock=FixedClock(START),
                     future_tolerance=FUTURE_TOLERANCE) as engine:
        engine.record(PatrolLogged(id="ok", time=START + FUTURE_TOLERANCE, actor="worker1", node="g1"))
        typo = START.replace(year=2125)
        with pytest.raises(EventRefused, match=re.escape("is more than 1 day after now")) as refused:
            engine.record(PatrolLogged(id="typo", time=typo, actor="worker1", node="g1"))
        assert "a mistyped date?" in refused.value.reasons[0] and "时间晚于当前时间" in refused.value.reasons[0]
        assert engine.store.count() == 1
