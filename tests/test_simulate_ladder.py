"""The simulator predicts, the engine decides: a simulated district under the rulesets in force is refused
nothing the simulator did not make on purpose.

Each test runs the small district (2 streets x 2 communities, Yinzhou's shape)
under the Yinzhou rulesets with the ladder the simulator reads from them, and
ingests what it made: every refusal must be one ``simulate``'s ``staged``
names (a mistake on purpose, or a redemption it cannot judge).
"""

from __future__ import annotations

import io
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from conftest import CST, DISTRICT_RULES, REPO

import gridcore_escalation as escalation
from gridcore import Engine, FixedClock
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore_app.cli import main_group
from gridcore_app.demo import folder_ladder
from gridcore_app.ladder import Ladder
from gridcore_app.rosterbook import save_workbook
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import (
    EARLY_REDEMPTION,
    OUTSIDER_RATING,
    REDEMPTION,
    RULESETS_DIR,
    load_scenario,
    simulate,
    write_jsonl,
)
from gridcore_escalation.events import IncidentAssigned, IncidentEscalated, IncidentReported

YINZHOU = REPO / "rulesets" / "yinzhou"
START = datetime(2025, 3, 3, tzinfo=CST)


def ingest(folder: Path, store: Path, events: list[Event], days: int, *, ruleset: Path = DISTRICT_RULES
           ) -> tuple[list[str], Engine]:
    """The ids the engine refused when ``events`` were recorded and ticked to the end (the engine open)."""
    community = load_community(folder)
    engine = Engine.open(store=str(store), community=community, ruleset=ruleset, effective=START,
                         clock=FixedClock(START + timedelta(days=days)))
    summary = engine.record_many(events)
    engine.tick(START + timedelta(days=days))
    return [r.event_id for r in summary.refused], engine


def test_repeat_reports_never_chain_another_case_onto_theirs(mini_district: Path, tmp_path: Path) -> None:
    """The duplicates window counts from a case's *last* report: a repeat report moves it on, so a case
    reported at the same place up to the window after the repeat joins the first case and its own
    handling is refused.  The simulator read the window from the first report only: in the 90-day
    Yinzhou quarter (seed 1) a repeat at 10:09 chained a leak reported at 11:52 onto a case of 09:24,
    and the 11:52 case's five steps were refused.  Repeat reports made often here to meet it."""
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    often = tuple(attrs.evolve(plan, duplicates=0.9) if plan.duplicates else plan for plan in scenario.incidents)
    scenario = attrs.evolve(scenario, incidents=often)
    ladder = Ladder.of_files(community, [DISTRICT_RULES], at=START.date())
    assert ladder.duplicates_window("yz-c1-g1") == timedelta(hours=2)  # district-base.rules: within 2 hours
    days = 12
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=2, ladder=ladder, staged=staged))
    refused, engine = ingest(mini_district, tmp_path / "store", events, days)
    with engine:
        reports = [e for e in events if isinstance(e, IncidentReported)]
        joined = [v for v in escalation.incidents(engine) if v.repeat_reports]
        assert len(joined) >= 20  # repeat reports were made, and joined their cases
    assert len(reports) > 600
    assert {staged.get(ident) for ident in refused} <= {EARLY_REDEMPTION, OUTSIDER_RATING, REDEMPTION}


def test_simulate_says_when_it_has_no_ruleset_for_the_ladder_and_takes_one(mini_district: Path,
                                                                             tmp_path: Path) -> None:
    """A roster workbook in a folder without ``<folder>.rules`` was simulated without the ladder, silently:
    cases nobody took on in time were taken on below as planned, and the engine refused their steps.
    ``gridcore simulate`` now says so, in English and Chinese, naming what it looked for and how to give
    the ruleset; ``--ruleset`` gives it."""
    folder = tmp_path / "street"
    folder.mkdir()
    book = save_workbook(load_community(mini_district), folder / "花名册.xlsx")
    shutil.copy(YINZHOU / "scenario.yaml", folder / "scenario.yaml")
    runner = CliRunner()
    args = ["simulate", "--community", str(book), "--days", "3", "--start", "2025-03-03"]
    bare = runner.invoke(main_group, [*args, "--out", str(tmp_path / "bare.jsonl")])
    assert bare.exit_code == 0, bare.output
    assert (f"warning: no ruleset to read the escalation ladder from: looked for {folder / 'street.rules'} "
            "(there is no .rules file in that folder)") in bare.stderr
    assert "Give the ruleset the events will be judged under with --ruleset FILE." in bare.stderr
    assert f"警告：没有找到规则集，无法读取事件流转（逐级上报）的规则：查找的是 {folder / 'street.rules'}" in bare.stderr
    assert "请用 --ruleset FILE 指定" in bare.stderr
    ruled = runner.invoke(main_group, [*args, "--ruleset", str(DISTRICT_RULES), "--out", str(tmp_path / "r.jsonl")])
    assert ruled.exit_code == 0 and "warning" not in ruled.stderr, ruled.output
    # the ruleset's ladder is the one the events are made with: those of the API given it, not those without
    community = load_community(mini_district)  # (what the workbook holds)
    scenario = load_scenario(folder / "scenario.yaml")
    ladder = Ladder.of_files(community, [DISTRICT_RULES], at=START.date())
    expected = io.StringIO()
    write_jsonl(simulate(community, scenario, days=3, start=START.date(), seed=1, ladder=ladder), expected)
    assert (tmp_path / "r.jsonl").read_text("utf-8") == expected.getvalue()
    assert (tmp_path / "bare.jsonl").read_text("utf-8") != (tmp_path / "r.jsonl").read_text("utf-8")
    # two .rules files, neither named for the folder: which one is not said, so the warning names them
    (folder / "a.rules").write_text('ruleset "a"\n', encoding="utf-8")
    (folder / "b.rules").write_text('ruleset "b"\n', encoding="utf-8")
    both = runner.invoke(main_group, [*args, "--out", str(tmp_path / "both.jsonl")])
    assert "(found a.rules, b.rules: more than one, none named so)" in both.stderr, both.stderr


def test_a_department_that_does_not_report_in_in_time_leaves_the_case_to_the_level_above(
        mini_district: Path, tmp_path: Path) -> None:
    """A handler calls the police in (吹哨报到); the ruleset gives the department a working hour to report in
    (部门时限).  When the officer would come later, the engine has sent the case up by then: the simulator
    reads the department's limit from the ladder and has the case taken on where it went (a community's
    committee member, or a street officer), as any case the ladder carries up.  (The engine would also
    take the late officer's step there: without the prediction the officers took them on, late.)"""
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("yinzhou/yinzhou.rules", "district-base.rules"):
        shutil.copy(REPO / "rulesets" / name, rules)
    short = rules / "short.rules"
    short.write_text('继承 "yinzhou"\n规则集 派出所一小时报到\n\n事件流转：\n'
                     "  覆盖 部门时限 police：报到时限 1个工作小时，办结时限 5个工作日\n", encoding="utf-8")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    whistled = tuple(attrs.evolve(plan, whistle_share=1.0) if plan.whistle == "police" else plan
                     for plan in scenario.incidents)
    scenario = attrs.evolve(scenario, incidents=whistled)
    ladder = Ladder.of_files(community, [short], at=START.date())
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=3, ladder=ladder, staged=staged))
    refused, engine = ingest(mini_district, tmp_path / "store", events, days, ruleset=short)
    with engine:
        views = {v.id: v for v in escalation.incidents(engine)}
    assert {staged.get(ident) for ident in refused} <= {EARLY_REDEMPTION, OUTSIDER_RATING, REDEMPTION}
    calls = [e for e in events if isinstance(e, IncidentEscalated) and e.department == "police"]
    assert len(calls) >= 20
    # the engine's own decisions: the cases a missed report limit carried up, and who took them on there
    missed = [views[e.incident] for e in calls
              if any(s.actor == SYSTEM_ACTOR and s.time > e.time for s in views[e.incident].escalations)]
    assert len(missed) >= 5
    for view in missed:
        # taken on where the engine had it: by a committee member at the community, or, when none came
        # within the community's own limit, by a street officer at the street
        assert view.current_level in ("community", "street"), view.id
        taker = community.member(view.accepted_by) if view.accepted_by else None
        assert taker is not None and any(a.node == view.current_node and a.role in scenario.handling.climbed_handlers
                                         for a in taker.roles), view.id
    assert any(view.current_level == "community" for view in missed)
    # and the officers who came in time took on the others (but those called in on the last evening)
    answered = [views[e.incident] for e in calls if views[e.incident] not in missed
                and views[e.incident].status != "reported"]
    assert answered and all(any(a.department == "police" for a in community.member(v.accepted_by).roles)
                            for v in answered if v.accepted_by is not None)


@pytest.mark.parametrize("name", ["yinquan", "cuihu", "xingfuwan", "chengqiao"])
def test_a_community_whose_cases_never_climb_simulates_the_same_log_with_or_without_the_ladder(name: str) -> None:
    """The four single-community rulesets: what the ladder reads (limits, the duplicates window, a called-in
    department's report limit) changes nothing in their 90-day logs (docs/district.md says so)."""
    folder = RULESETS_DIR / name
    community = load_community(folder)
    scenario = load_scenario(folder / "scenario.yaml")
    first = date(2025, 1, 1)
    ladder = folder_ladder(folder, community, scenario, at=first)
    assert ladder is not None and ladder.duplicates_window(community.hierarchy.roots()[0].id) == timedelta(hours=2)
    laddered, plain = io.StringIO(), io.StringIO()
    write_jsonl(simulate(community, scenario, days=90, start=first, seed=1, ladder=ladder), laddered)
    write_jsonl(simulate(community, scenario, days=90, start=first, seed=1), plain)
    assert laddered.getvalue() == plain.getvalue()


# ---------------------------------------------------------------- the engine's rules, as the simulator follows them


def judged(folder: Path, store: Path, events: list[Event], days: int, in_force: list[tuple[datetime, Path]],
           staged: dict[str, str]) -> tuple[list[str], int, Engine]:
    """Record ``events`` under the rulesets ``in_force`` (each from its time) and tick to the end: the
    refusals the simulator did not mean (``staged`` names those it did), the cases overdue at the end,
    and the engine (open)."""
    community = load_community(folder)
    end = START + timedelta(days=days)
    (first, base), *later = in_force
    engine = Engine.open(store=str(store), community=community, ruleset=base, effective=first, clock=FixedClock(end))
    for when, path in later:
        engine.use_ruleset(path, effective=when)
    summary = engine.record_many(events)
    engine.tick(end)
    meant = {EARLY_REDEMPTION, OUTSIDER_RATING, REDEMPTION}
    unmeant = [r.event_id for r in summary.refused if staged.get(r.event_id) not in meant]
    return unmeant, len(escalation.overdue(engine, end)), engine


def variant(tmp_path: Path, name: str, text: str) -> Path:
    """A ruleset extending Yinzhou's, written beside copies of its parents."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    for parent in ("yinzhou/yinzhou.rules", "district-base.rules"):
        shutil.copy(REPO / "rulesets" / parent, rules)
    path = rules / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_ruleset_put_in_force_mid_run_governs_the_simulated_cases_reported_from_then(mini_district: Path,
                                                                                         tmp_path: Path) -> None:
    """The district tightens its grids' accept limit to one working hour from the Thursday (a ruleset put
    in force mid-run).  The simulator read the ladder on the first day only: the gridworkers who took on
    a case after that hour did so at a grid the engine had already passed it up from, and their steps
    were refused (8 days of the small district, seed 4: 624 refused).  With
    the ladder of the rulesets in force at each time (``Ladder.in_force``, what the engine lists), the
    cases reported from Thursday are taken on where the engine has them: nothing refused but what was
    staged, nothing overdue, as the simulator expects."""
    tight = variant(tmp_path, "tight.rules", '继承 "yinzhou"\n规则集 网格一小时受理\n\n事件流转：\n'
                                             "  覆盖 时限 grid：受理时限 1个工作小时，办结时限 3个工作日\n")
    in_force = [(START, DISTRICT_RULES), (START + timedelta(days=3), tight)]
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    days = 8
    first_day = Ladder.of_files(community, [DISTRICT_RULES], at=START.date())
    with Engine.open(store=str(tmp_path / "listed"), community=community, ruleset=DISTRICT_RULES, effective=START,
                     clock=FixedClock(START)) as lister:
        lister.use_ruleset(tight, effective=in_force[1][0])
        ladder = Ladder.in_force(community, lister.rulesets_in_force())
    grid = "yz-c1-g1"
    assert ladder.policy(grid, START + timedelta(days=2, hours=12)) == first_day.policy(grid, START)
    assert ladder.policy(grid, START + timedelta(days=3)) != first_day.policy(grid, START)
    runs = {}
    for name, used in (("first day", first_day), ("in force", ladder)):
        staged: dict[str, str] = {}
        events = list(simulate(community, scenario, days=days, start=START, seed=4, ladder=used, staged=staged))
        unmeant, overdue, engine = judged(mini_district, tmp_path / name, events, days, in_force, staged)
        engine.close()
        runs[name] = (len(unmeant), overdue)
    assert runs["first day"][0] > 20  # the divergence: steps at a grid the case had left
    assert runs["in force"] == (0, 0)


def test_a_case_nobody_where_it_starts_takes_on_stays_open_and_is_taken_on_where_the_ladder_carries_it(
        mini_district: Path, tmp_path: Path) -> None:
    """A grid without gridworkers (roster: its full-time and part-time gridworkers gone): its residents'
    reports found no handler.  The simulator closed such a case at once (nothing after the report), the
    engine kept it open and carried it up to the command centre, where it sat overdue, and a later report
    there joined it, its own steps refused (8 days, seed 5: 7 overdue at the end, 2 refused).  Now the
    case waits at the grid until its accept limit runs out and
    is taken on at the community by a committee member (the scenario's ``climbed_handlers``), as the
    engine has it there: nothing refused but what was staged, nothing overdue."""
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    roles = folder / "roles.csv"
    gone = ("fulltime_gridworker,yz-c1-g1,", "parttime_gridworker,yz-c1-g1,")
    lines = roles.read_text("utf-8-sig").splitlines()
    kept = [line for line in lines if not line.endswith(gone)]
    assert len(lines) - len(kept) == 6
    roles.write_text("\ufeff" + "\n".join(kept) + "\n", encoding="utf-8")
    community = load_community(folder)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=5,
                           ladder=Ladder.of_files(community, [DISTRICT_RULES], at=START.date()), staged=staged))
    unmeant, overdue, engine = judged(folder, tmp_path / "store", events, days, [(START, DISTRICT_RULES)], staged)
    with engine:
        there = [v for v in escalation.incidents(engine) if v.node == "yz-c1-g1"]
    assert len(there) >= 5
    assert (unmeant, overdue) == ([], 0)
    taken = [v for v in there if v.accepted_by is not None]
    assert len(taken) >= 10
    # the others came in the last days: still waiting, within the limit of where they wait
    end = START + timedelta(days=days)
    assert all(v.status == "reported" and v.next_deadline and v.next_deadline > end for v in there if v not in taken)
    for view in taken:
        # by a committee member there (or the officer of the line department they called in)
        assert view.current_node == "yz-c1", view.id
        assert any((a.node == "yz-c1" and a.role == "committee_member") or a.department in view.departments
                   for a in community.member(view.accepted_by or "").roles), view.id


def test_a_repeats_rule_sends_the_simulated_case_up_as_the_engine_does(mini_district: Path, tmp_path: Path) -> None:
    """A ruleset whose repeats rule sends a leak reported twice at the same place within 7 days to the
    community.  The simulator followed the scenario's mirror of such rules (Yinzhou's has none): the
    second report's gridworker took on a case the engine had sent to the community, and was refused
    (10 days of the small district, seed 6: 2,633 refused, 349 overdue at the end).
    It now reads the rules in force from the ladder (``Ladder.repeated``): such a case is taken on above
    the grid, and its repeat reports do not send up a case someone below is working on."""
    twice = variant(tmp_path, "twice.rules", 'extends "yinzhou"\nruleset twice\n\nescalation:\n'
                                             "  escalate repeats: when repeated 2 times within 7 days, to community\n")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    assert scenario.handling.repeat_reports == 0  # (the scenario mirrors no repeats rule)
    ladder = Ladder.of_files(community, [twice], at=START.date())
    days = 10
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=6, ladder=ladder, staged=staged))
    unmeant, overdue, engine = judged(mini_district, tmp_path / "store", events, days, [(START, twice)], staged)
    with engine:
        climbed = [v for v in escalation.incidents(engine)
                   if any("reports of" in (e.reason or "") for e in v.escalations)]
    assert len(climbed) >= 5
    assert (unmeant, overdue) == ([], 0)
    assert all(v.current_level == "community" for v in climbed)


def test_a_handler_limit_passes_the_simulated_case_to_the_role_it_names_as_the_engine_does(
        mini_district: Path, tmp_path: Path) -> None:
    """A handler limit (办理人时限): a full-time gridworker has a working day to resolve a case, then the
    rules pass it to the grid leader (worker to leader, as Chengqiao's micro-grids do).  The simulator's
    gridworkers ignored it: they resolved cases the engine had passed on by then, and were refused
    (8 days of the small district, seed 7: 557 refused, 2 overdue at the end).  It now reads each
    handler's limit from the ladder (``Ladder.handler_due``, pauses and extensions counted): past it, the
    gridworker does no more, and the grid leader the engine passes the case to takes it on and resolves
    it."""
    limited = variant(tmp_path, "limited.rules", 'extends "yinzhou"\nruleset limited\n\nescalation:\n'
                      "  handler limit fulltime_gridworker: resolve within 1 working day, then pass to grid_leader\n")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    ladder = Ladder.of_files(community, [limited], at=START.date())
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=7, ladder=ladder, staged=staged))
    unmeant, overdue, engine = judged(mini_district, tmp_path / "store", events, days, [(START, limited)], staged)
    with engine:
        views = list(escalation.incidents(engine))
    passed = [v for v in views if any(a.actor == SYSTEM_ACTOR for a in v.assignments)]
    assert len(passed) >= 50
    assert (unmeant, overdue) == ([], 0)
    for view in passed:  # taken on by the grid leader it was passed to
        assert view.accepted_by is not None or view.status == "reported", view.id
        if view.accepted_by is not None:
            assert any(a.role == "grid_leader" for a in community.member(view.accepted_by).roles), view.id


def test_a_handler_assigned_a_case_who_does_not_take_it_on_in_time_leaves_it_to_the_role_named(
        mini_district: Path, tmp_path: Path) -> None:
    """A handler's own accept limit runs on a case assigned to them (派单): a full-time gridworker has a
    working hour to take on what the grid leader gives them, then the rules pass it back to the grid
    leader.  The simulator's gridworkers took such cases on however late, after the engine had passed
    them on (8 days of the small district, seed 8, half the cases assigned: 268 refused, 25 overdue at
    the end).  It now reads the accept limit from the ladder: past it, the grid leader takes the case
    on."""
    limited = variant(tmp_path, "prompt.rules", 'extends "yinzhou"\nruleset prompt\n\nescalation:\n'
                      "  handler limit fulltime_gridworker: accept within 1 working hour, then pass to grid_leader\n")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    # (no escalated handling here: a case the leader above takes up (提级办理) is held there to the
    # assignee's accept limit too, test_a_case_taken_up_by_the_level_above_is_taken_on_there_...)
    scenario = attrs.evolve(scenario, handling=attrs.evolve(scenario.handling, assign_share=0.5,
                                                            assigned_by=("grid_leader",),
                                                            escalated_share=(0.0,) * 5))
    ladder = Ladder.of_files(community, [limited], at=START.date())
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=8, ladder=ladder, staged=staged))
    unmeant, overdue, engine = judged(mini_district, tmp_path / "store", events, days, [(START, limited)], staged)
    with engine:
        views = list(escalation.incidents(engine))
    passed = [v for v in views if any(a.actor == SYSTEM_ACTOR for a in v.assignments)]
    assert len(passed) >= 10
    assert (unmeant, overdue) == ([], 0)
    for view in passed:
        if view.accepted_by is not None:
            assert any(a.role == "grid_leader" for a in community.member(view.accepted_by).roles), view.id


def test_a_case_taken_up_by_the_level_above_is_taken_on_there_as_the_engine_holds_it(
        mini_district: Path, tmp_path: Path) -> None:
    """Escalated handling (提级办理): the committee member in charge of the grid takes a case up to the
    community and takes it on there.  While it waits there the engine still holds it to its gridworker's
    own accept limit (一个工作小时, from its arrival; the grid leader it would pass it to sits at the grid,
    so it goes up): the committee member who came 10 to 90 minutes later was refused, and the case sat
    at the command centre (8 days of the small district, seed 9, a third of the cases taken up, half
    assigned: 114 refused, 27 overdue at the end).  The simulator now reads both clocks while it waits
    (``Ladder.handler_due`` beside the level's): it is taken on where the engine has it then."""
    limited = variant(tmp_path, "prompt.rules", 'extends "yinzhou"\nruleset prompt\n\nescalation:\n'
                      "  handler limit fulltime_gridworker: accept within 1 working hour, then pass to grid_leader\n")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    scenario = attrs.evolve(scenario, handling=attrs.evolve(scenario.handling, assign_share=0.5,
                                                            assigned_by=("grid_leader",),
                                                            escalated_share=(0.3,) * 5))
    ladder = Ladder.of_files(community, [limited], at=START.date())
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=9, ladder=ladder, staged=staged))
    unmeant, overdue, engine = judged(mini_district, tmp_path / "store", events, days, [(START, limited)], staged)
    end = START + timedelta(days=days)
    with engine:
        views = {v.id: v for v in escalation.incidents(engine)}
        late = escalation.overdue(engine, end)
    taken_up = [views[e.incident] for e in events
                if isinstance(e, IncidentEscalated) and e.reason and e.reason.startswith("提级办理")]
    assert len(taken_up) >= 50
    assert unmeant == []
    # what is overdue at the end waits at the top, carried there on the last day (nobody came yet)
    assert overdue <= 3 and all(v.current_level == "district" and v.reported_at > end - timedelta(days=2)
                                for v, _ in late)
    carried = [v for v in taken_up if any(s.actor == SYSTEM_ACTOR for s in v.escalations)]
    assert len(carried) >= 10
    taken = [v for v in carried if v.status != "reported"]  # (the others: those of the last day)
    assert len(taken) >= 10
    for view in taken:  # taken on where the engine had it: at the street or the command centre
        assert view.current_level in ("street", "district"), view.id
        assert any(a.node == view.current_node for a in community.member(view.accepted_by or "").roles), view.id


def test_a_handler_limit_passing_to_a_role_nobody_holds_sends_the_simulated_case_up_as_the_engine_does(
        mini_district: Path, tmp_path: Path) -> None:
    """A handler limit whose ``then pass to`` role nobody holds (unit_leader: ``gridcore check`` warns
    ``handler-role-missing``): the engine binds nobody, and the case its gridworker does not resolve in a
    working day goes up to the community with the gridworker still on it.  The simulator kept it at the
    grid: when the residents were unsatisfied and the case was reopened at the community, the gridworker
    took the rework on and was refused, and the case stayed open (8 days of the small district, seed 9:
    34 refused, 1 overdue at the end).  It now follows the case up (``Ladder.handler_due``'s ``above``): the rework is taken on
    at the community, by a committee member."""
    nobody = variant(tmp_path, "nobody.rules", 'extends "yinzhou"\nruleset nobody\n\nescalation:\n'
                     "  handler limit fulltime_gridworker: resolve within 1 working day, then pass to unit_leader\n")
    community = load_community(mini_district)
    assert not [m for m in community.members.values() if any(a.role == "unit_leader" for a in m.roles)]
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    scenario = attrs.evolve(scenario, handling=attrs.evolve(scenario.handling, escalated_share=(0.0,) * 5))
    ladder = Ladder.of_files(community, [nobody], at=START.date())
    days = 8
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=9, ladder=ladder, staged=staged))
    unmeant, overdue, engine = judged(mini_district, tmp_path / "store", events, days, [(START, nobody)], staged)
    with engine:
        views = list(escalation.incidents(engine))
    assert (unmeant, overdue) == ([], 0)
    sent = [v for v in views if any(s.actor == SYSTEM_ACTOR and "handler clock" in (s.reason or "")
                                    for s in v.escalations)]
    assert len(sent) >= 20 and not [v for v in views if any(a.actor == SYSTEM_ACTOR for a in v.assignments)]
    # reopened after it went up: the rework taken on where it is, by a committee member there
    def seated(view: escalation.IncidentView) -> set[str]:
        return {a.role for a in community.member(view.accepted_by or "").roles if a.node == view.current_node}

    reworked = [v for v in sent if v.reopens and v.status == "closed" and v.current_level != "grid"]
    assert len(reworked) >= 3
    assert len([v for v in reworked if "committee_member" in seated(v)]) >= 3



def test_a_level_resolve_limit_that_sends_the_simulated_case_up_is_followed_to_where_it_went(
        mini_district: Path, tmp_path: Path) -> None:
    """A grid gets one working day to resolve (the district's three cut short): a case its gridworker
    resolves later has been sent up to the community by then, the gridworker still on it.  The simulator
    kept it at the grid: an unsatisfied verification reopened it at the community, the gridworker took the
    rework on and was refused (8 days of the small district, seed 1: 58 refused), and a committee member
    took up (提级办理) to the community a case already there (seed 9, a third taken up: 43 refused, 5 of
    them such escalations).  The simulator now reads the level's resolve limit too
    (``Ladder.resolve_due``): the case is followed up, the rework taken on where it is."""
    short = variant(tmp_path, "short.rules", 'extends "yinzhou"\nruleset short\n\nescalation:\n'
                    "  override limit grid: accept within 4 working hours, resolve within 1 working day\n")
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    ladder = Ladder.of_files(community, [short], at=START.date())
    days = 8
    for seed, share in ((1, 0.0), (9, 0.3)):
        taken_up = attrs.evolve(scenario, handling=attrs.evolve(scenario.handling, escalated_share=(share,) * 5))
        staged: dict[str, str] = {}
        events = list(simulate(community, taken_up, days=days, start=START, seed=seed, ladder=ladder, staged=staged))
        unmeant, overdue, engine = judged(mini_district, tmp_path / f"store{seed}", events, days, [(START, short)],
                                          staged)
        with engine:
            views = list(escalation.incidents(engine))
        assert (unmeant, overdue) == ([], 0), seed
        sent = [v for v in views if any(s.actor == SYSTEM_ACTOR and "not resolved within" in (s.reason or "")
                                        for s in v.escalations)]
        assert len(sent) >= 20, seed
        assert [v for v in sent if v.reopens and v.status == "closed" and v.current_level != "grid"], seed


def test_a_scenario_puts_a_ruleset_in_force_mid_run_and_simulate_and_demo_follow_it(mini_district: Path,
                                                                                     tmp_path: Path) -> None:
    """A scenario's ``rulesets:`` (规则集) puts a ruleset in force from a day of the run, its file named
    relative to the scenario: ``gridcore simulate`` reads the ladder of both, each from its time, and makes
    the log the API makes with the ladder of an engine that has both in force (``Ladder.in_force``); judged
    under both, nothing is refused but what was staged.  The same days simulated without the entry are
    judged under both with hundreds of refusals (the gridworkers come after the tightened hour); the
    scenario's settings are also written in Chinese (生效日期, 文件)."""
    folder = tmp_path / "district"
    shutil.copytree(mini_district, folder)
    variant(tmp_path, "tight.rules", '继承 "yinzhou"\n规则集 网格一小时受理\n\n事件流转：\n'
                                     "  覆盖 时限 grid：受理时限 1个工作小时，办结时限 3个工作日\n")
    rules = tmp_path / "rules"
    base = (YINZHOU / "scenario.yaml").read_text("utf-8")
    (folder / "plain.yaml").write_text(base, encoding="utf-8")
    (folder / "scenario.yaml").write_text(base + "\nrulesets:\n  - {effective: 2025-03-06, file: ../rules/tight.rules}\n",
                                          encoding="utf-8")
    (folder / "场景.yaml").write_text(base + "\n规则集:\n  - {生效日期: 2025-03-06, 文件: ../rules/tight.rules}\n",
                                    encoding="utf-8")
    days = 8
    runner = CliRunner()
    made = {}
    for name in ("scenario.yaml", "场景.yaml", "plain.yaml"):
        out = tmp_path / f"{name}.jsonl"
        result = runner.invoke(main_group, ["simulate", "--community", str(folder), "--scenario", str(folder / name),
                                            "--ruleset", str(DISTRICT_RULES), "--days", str(days), "--start",
                                            "2025-03-03", "--seed", "4", "--out", str(out)])
        assert result.exit_code == 0, result.output
        made[name] = (out.read_text("utf-8"), result.stderr)
    said = made["scenario.yaml"][1]
    assert ("ruleset 网格一小时受理 (tight.rules) in force from 2025-03-06 for yz 小银州区, as the scenario says" in said
            and "(gridcore use tight.rules --effective 2025-03-06T00:00+08:00)" in said), said
    assert "场景规定：规则集 网格一小时受理（tight.rules）自 2025-03-06 起在 小银州区 生效" in said
    assert made["scenario.yaml"][0] == made["场景.yaml"][0] != made["plain.yaml"][0]
    # without a ruleset for the days before (the folder has none): refused, not simulated under the new one alone
    bare = runner.invoke(main_group, ["simulate", "--community", str(folder), "--days", "1", "--out",
                                      str(tmp_path / "bare.jsonl")])
    assert bare.exit_code == 1 and "there is no ruleset for the days before them: give it with --ruleset FILE" in (
        bare.output) and "请用 --ruleset FILE 指定" in bare.output, bare.output
    # the API's log with the ladder of an engine that has both in force
    community = load_community(folder)
    in_force = [(START, DISTRICT_RULES), (START + timedelta(days=3), rules / "tight.rules")]
    with Engine.open(store=str(tmp_path / "listed"), community=community, ruleset=DISTRICT_RULES, effective=START,
                     clock=FixedClock(START)) as lister:
        lister.use_ruleset(in_force[1][1], effective=in_force[1][0])
        ladder = Ladder.in_force(community, lister.rulesets_in_force())
    staged: dict[str, str] = {}
    events = list(simulate(community, load_scenario(folder / "scenario.yaml"), days=days, start=START, seed=4,
                           ladder=ladder, staged=staged))
    expected = io.StringIO()
    write_jsonl(events, expected)
    assert made["scenario.yaml"][0] == expected.getvalue()
    unmeant, overdue, engine = judged(folder, tmp_path / "store", events, days, in_force, staged)
    engine.close()
    assert (unmeant, overdue) == ([], 0)
    staged = {}
    plain = list(simulate(community, load_scenario(folder / "plain.yaml"), days=days, start=START, seed=4,
                          ladder=Ladder.of_files(community, [DISTRICT_RULES], at=START.date()), staged=staged))
    unmeant, _, engine = judged(folder, tmp_path / "plain", plain, days, in_force, staged)
    engine.close()
    assert len(unmeant) > 20


SUMMONED = ('extends "yinzhou"\nruleset summoned\n\nescalation:\n'
            "  override limit community: accept within 1 working hour, resolve within 1 working day, then route to police\n"
            "  override department limit police: report within 1 working hour, resolve within 1 working day\n"
            "  override limit street: accept within 2 working hours, resolve within 10 working days, "
            "then route to market_supervision\n"
            "  department limit market_supervision: report within 1 working hour, resolve within 3 working days\n")


def test_a_breach_that_routes_to_a_line_department_summons_it_in_the_simulator_as_in_the_engine(
        mini_district: Path, tmp_path: Path) -> None:
    """A level's limit that routes a breached case to a line department (``then route to police`` / 超时转交:
    吹哨报到 by the rules, here at the community and at the street): the engine keeps the case where it is,
    summons the department (its officers on the case's branch may act, under its own ``department limit``),
    and at the next breach, the department being on the case, sends it one level up.  The simulator stopped
    the ladder at such a level and had its staff take the case on however late: the engine had carried it
    on by then, and their steps were refused (8 days of the small district: seed 1, 132 refused and 21
    overdue at the end; seed 9 with a third of the cases taken up, 163 and 28).  It now reads the breach as
    the plugin does (``Stop.department``): the department's officers report in where it was summoned, 20
    minutes to 2 hours after (as a department whistled in), or, past its report limit, the case goes on up
    and that level's staff take it on."""
    summoned = variant(tmp_path, "summoned.rules", SUMMONED)
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    ladder = Ladder.of_files(community, [summoned], at=START.date())
    days = 8
    for seed, share in ((1, 0.0), (9, 0.3)):
        taken_up = attrs.evolve(scenario, handling=attrs.evolve(scenario.handling, escalated_share=(share,) * 5))
        staged: dict[str, str] = {}
        events = list(simulate(community, taken_up, days=days, start=START, seed=seed, ladder=ladder, staged=staged))
        unmeant, overdue, engine = judged(mini_district, tmp_path / f"store{seed}", events, days,
                                          [(START, summoned)], staged)
        with engine:
            views = list(escalation.incidents(engine))
        assert (unmeant, overdue) == ([], 0), seed
        # the engine's own decisions: each case a breach summoned a department to, and who took it on
        called = {v.id: next(s for s in v.escalations if s.actor == SYSTEM_ACTOR and s.department)
                  for v in views if any(s.actor == SYSTEM_ACTOR and s.department for s in v.escalations)}
        assert {s.department for s in called.values()} == {"police", "market_supervision"}, seed
        assert len(called) >= 20, seed

        def officer(view: escalation.IncidentView, department: str | None) -> bool:
            taker = community.member(view.accepted_by) if view.accepted_by else None
            return taker is not None and any(a.department == department for a in taker.roles)

        views_by_id = {v.id: v for v in views}
        answered = [i for i, s in called.items() if views_by_id[i].current_node == s.to_node
                    and officer(views_by_id[i], s.department)]
        assert len(answered) >= 5, seed
        went_on = [views_by_id[i] for i, s in called.items()
                   if any(e.actor == SYSTEM_ACTOR and e.time > s.time and e.to_node != s.to_node
                          for e in views_by_id[i].escalations)]
        assert went_on, seed  # (its report limit ran out: taken on above, by that level's staff or officers)


EXTENDED = ('extends "yinzhou"\nruleset extended\n\nescalation:\n'
            "  override limit grid: accept within 4 working hours, resolve within 1 working day\n"
            "  override limit community: accept within 1 working day, resolve within 1 working day\n"
            "  handler limit fulltime_gridworker: resolve within 4 working hours, then pass to parttime_gridworker\n"
            "  extension: at most 1 times, up to 1 working day each, approved by grid_leader\n")


def test_an_approved_extension_holds_as_the_engine_holds_it_when_the_case_is_passed_on_or_sent_up(
        mini_district: Path, tmp_path: Path) -> None:
    """An approved extension (延期) adds its day to the level's resolve limit and to the handler's own.  The
    engine keeps it on the level's clock when a handler limit passes the case to another handler in the
    cell (``restart_handler_clock``: the level's clock runs on from the arrival, the new handler's from the
    pass, without it), and drops both when the case moves to another level or is reopened
    (``restart_clock``).  The simulator restarted the level's clock at a pass, without the extension, and
    counted an extension approved after the pass (the request had lapsed): it kept at the grid cases the
    engine had sent up, whose steps were refused there (8 days of the small district, every gridworker
    asking and the grid leader approving: seed 1, 689 refused and 49 overdue at the end; seed 9, 567 and
    35).  Now it follows the engine's clocks; and whoever takes on a rework up there first reassigns it
    (改派): the engine still names the part-time gridworker, who may not act there."""
    extended = variant(tmp_path, "extended.rules", EXTENDED)
    community = load_community(mini_district)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    scenario = attrs.evolve(scenario, handling=attrs.evolve(
        scenario.handling, escalated_share=(0.0,) * 5, extension_share=1.0, extension_approver=("grid_leader",)))
    ladder = Ladder.of_files(community, [extended], at=START.date())
    days = 8
    for seed in (1, 9):
        staged: dict[str, str] = {}
        events = list(simulate(community, scenario, days=days, start=START, seed=seed, ladder=ladder, staged=staged))
        unmeant, overdue, engine = judged(mini_district, tmp_path / f"store{seed}", events, days,
                                          [(START, extended)], staged)
        with engine:
            views = list(escalation.incidents(engine))
        assert (unmeant, overdue) == ([], 0), seed
        # the engine's own judgment of the extended cases passed on in the cell: sent up at the grid's
        # extended deadline, counted from the arrival (2 working days and the approved one), not from the pass
        extended_cases = [v for v in views if v.extensions]
        assert len(extended_cases) >= 100, seed
        passed = [v for v in extended_cases if any(a.actor == SYSTEM_ACTOR for a in v.assignments)]
        sent = [(v, s) for v in passed for s in v.escalations
                if s.actor == SYSTEM_ACTOR and s.from_level == "grid" and "not resolved within" in s.reason]
        assert len(sent) >= 5, seed
        kept = [view for view, up in sent if "+ 1 working day extension" in up.reason
                and f"level clock started {view.reported_at.astimezone(CST).isoformat(timespec='minutes')}" in up.reason
                and up.time > next(a.time for a in view.assignments if a.actor == SYSTEM_ACTOR)]
        assert kept, seed
        # reworks taken on up there, reassigned first to whoever took them on
        reassigned = [e for e in events if isinstance(e, IncidentAssigned) and e.actor == e.handler]
        assert all(views_by.accepted_by in (None, e.actor) or views_by.status == "closed"
                   for e in reassigned for views_by in [next(v for v in views if v.id == e.incident)]), seed


def test_the_yinzhou_district_is_refused_nothing_the_simulator_did_not_mean(tmp_path: Path) -> None:
    """Yinzhou itself (448 cells, its ruleset and the three community variants, as ``gridcore demo`` puts
    them in force), two weeks from the demo's Monday: every refusal is one the simulator staged, nothing is
    overdue at the end but what the command centre holds, and the paths the ladder reads are all taken:
    a case sent up at once (severity 5 to the street), accept limits that carried cases up (银州社区's two
    working hours at its grids), escalated handling (提级办理), whistles, departments sending cases back,
    problems that came back, repeat reports joined.  (The 90-day quarter, too long for the suite, was
    counted by hand after each change to the simulator: docs/district.md.)"""
    community = load_community(YINZHOU)
    scenario = load_scenario(YINZHOU / "scenario.yaml")
    ladder = folder_ladder(YINZHOU, community, scenario, at=START.date())
    assert ladder is not None
    days = 14
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=START, seed=1, ladder=ladder, staged=staged))
    in_force = [(START, YINZHOU / "yinzhou.rules"), *((START, YINZHOU / name) for name in scenario.demo.variants)]
    unmeant, overdue, engine = judged(YINZHOU, tmp_path / "store", events, days, in_force, staged)
    with engine:
        views = list(escalation.incidents(engine))
    assert unmeant == []
    assert overdue <= 3, overdue
    by = {v.id: v for v in views}
    hand = [e for e in events if isinstance(e, IncidentEscalated)]
    assert [e for e in hand if e.reason and e.reason.startswith("提级办理")]
    assert [e for e in hand if e.department is not None]
    derived = [s for v in views for s in v.escalations if s.actor == SYSTEM_ACTOR]
    assert [s for s in derived if s.to_level == "street" and "holds" in (s.reason or "")]  # severity 5, at once
    assert len([s for s in derived if "not accepted within" in (s.reason or "")]) >= 3
    assert [v for v in by.values() if v.returns] and [v for v in by.values() if v.repeat_reports]
    assert [v for v in by.values() if v.reopens]
