"""A stored step that a late event makes refusable in time order is ignored on replay, and says why.

The standard: the same events give the same results in any batch size or
order.  A step by a person is judged on the log as it stands when it comes; a
step dated before it that comes later (typed in the next day) is judged at its
own time, and the stored ones after it are replayed.  One that time order
would refuse (an acceptance of a case a late acceptance had already taken on, a
resolution of a case a late closing had closed) is kept in the case's timeline
as ``step ignored``, changes nothing, and explains itself, naming the late
event.  So the cases come out as the same events accepted, recorded in time
order, give.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_escalation_late import DATA, RULES, T0, act, hours, open_engine, report

import gridcore_escalation as esc
from gridcore import Engine
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentResolved,
    IncidentResumed,
    IncidentReturned,
    IncidentVerified,
)

#: The steps a case may get, by whom (each at most once, at a minute drawn after the report).
POOL: tuple[tuple[type, str, dict[str, Any]], ...] = (
    (IncidentAccepted, "worker1", {}),
    (IncidentAccepted, "unitlead", {}),
    (IncidentHandlingStarted, "worker1", {}),
    (IncidentPaused, "worker1", {"reason": "waiting for parts"}),
    (IncidentResumed, "worker1", {}),
    (IncidentResolved, "worker1", {}),
    (IncidentResolved, "unitlead", {}),
    (IncidentVerified, "leader1", {"satisfaction": 5}),
    (IncidentVerified, "leader1", {"satisfaction": 1}),
    (IncidentClosed, "leader1", {}),
    (IncidentReturned, "worker1", {"to_node": "u12", "reason": "wrong cell"}),
)

IGNORED = ("step ignored", "return ignored")


def _step(n: int, minute: int) -> Event:
    cls, actor, kw = POOL[n]
    event: Event = act(cls, "I1", T0 + timedelta(minutes=minute), actor, **kw)
    return event


def _counted(engine: Engine) -> list[Any]:
    """Where each case ends and its timeline, its ignored lines and the derived events' ids left out."""
    out: list[Any] = []
    for view in esc.incidents(engine):
        out.append((view.id, view.status, view.current_node, view.current_level, view.departments, view.paused,
                    view.accepted_at, view.resolved_at, view.verified_at, view.closed_at, view.satisfaction,
                    view.reopens, [(b.time, b.limit, b.node) for b in view.breaches],
                    [(e.time, e.to_node, e.reason) for e in view.escalations]))
        out.append([(e.time, e.what, e.actor, e.detail, e.event if e.actor != SYSTEM_ACTOR else "")
                    for e in esc.timeline(engine, view.id) if not e.what.endswith(" ignored")])
    return out


def _ignored(engine: Engine) -> dict[str, datetime]:
    return {e.event: e.time for view in esc.incidents(engine) for e in esc.timeline(engine, view.id)
            if e.what in IGNORED and e.actor != SYSTEM_ACTOR}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.tuples(st.integers(0, len(POOL) - 1), st.integers(1, 5 * 60)), min_size=2, max_size=7,
             unique_by=(lambda t: t[0], lambda t: t[1])),
    st.integers(1, 60),  # I0 at u21, hours after 09:00: it moves the log on
    st.data(),
)
def test_a_step_refusable_in_time_order_is_ignored_and_the_cases_end_as_in_time_order(
    drawn: list[tuple[int, int]], other: int, data: st.DataObject,
) -> None:
    """The steps of a case arrive in any order and batches (its report first): each stored step that the
    same accepted events recorded in time order refuse is kept in the timeline as ignored (explained,
    naming the late event, recorded after it), and the cases end as in time order (hypothesis)."""
    steps = sorted((_step(n, minute) for n, minute in drawn), key=lambda e: e.time)
    # most come in time order; those drawn late come after the rest (typed in the next day), in any order
    late = data.draw(st.sets(st.sampled_from([e.id for e in steps]), min_size=1))
    # and perhaps I1 reported again, typed in late too: dated before its report (the stored report is then
    # the one refused in time order: kept ignored) or after it (refused when it comes)
    again = data.draw(st.one_of(st.none(), st.integers(-120, 120)))
    typed = [e for e in steps if e.id in late]
    if again is not None:
        typed.append(attrs.evolve(report("I1", T0 + timedelta(minutes=again)), id="I1-again"))
    arrival = [report("I1", T0), *(e for e in steps if e.id not in late), report("I0", hours(other), node="u21"),
               *data.draw(st.permutations(typed))]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=len(arrival) - 1)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)])]
    # the order they are recorded in: by batch, and in time order within one (``record_many``)
    recorded = {e.id: n for n, e in enumerate(e for batch in batches for e in sorted(batch, key=lambda e: (e.time, e.id)))}
    now = max(e.time for e in arrival) + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(str(Path(folder) / "late"))
        for n, batch in enumerate(batches):
            engine.record_many(batch)
            if n == 0:
                engine.checkpoint()
        engine.tick(now)
        counted, ignored = _counted(engine), _ignored(engine)
        stored = {e.id for e in engine.events()}
        for ident in ignored:
            explained = engine.explain(f"escalation:{ident}")
            assert explained.result == "ignored (已忽略)", explained
            assert "is ignored: " in explained.summary and "已忽略" in explained.summary
            if explained.inputs.get("late event"):  # (a return of a case no longer open says only its status)
                late = explained.inputs["late event"].split(": ")[0]
                # (recorded after it; or derived after it: an escalation a late, earlier report of I1 brought)
                assert late in stored and recorded.get(late, len(recorded)) > recorded[ident], (ident, late, explained)
                assert explained.inputs["recorded"].startswith(f"after step {ident} was stored")
        # the same from a full replay, and from the first batch's checkpoint and the rest
        engine.rebuild()
        assert (_counted(engine), _ignored(engine)) == (counted, ignored)
        engine.close()
        with open_engine(str(Path(folder) / "late"), now) as again:
            assert (_counted(again), _ignored(again)) == (counted, ignored)
        # the events stored from outside, recorded in time order: those ignored are refused, the rest accepted,
        # and the cases end the same
        mine = [e for e in arrival if e.id in stored]
        with open_engine(str(Path(folder) / "in-order")) as in_order:
            refused = {r.event_id for r in in_order.record_many(mine).refused}
            in_order.tick(now)
            assert refused == set(ignored)
            assert _counted(in_order) == counted


def test_a_late_acceptance_makes_a_stored_one_ignored_and_the_command_line_explains_it(tmp_path: Path) -> None:
    """worker1 accepts I1 at 10:00 and resolves it; unitlead's acceptance at 09:30 is typed in afterwards:
    the case is unitlead's from 09:30, and worker1's acceptance, refused in time order (already accepted),
    is ignored and explained, in English and Chinese, through ``gridcore explain`` and the timeline."""
    store = str(tmp_path / "store")
    run = CliRunner().invoke
    assert run(main_group, ["init", "--community", str(DATA / "community"), "--ruleset", str(RULES),
                            "--effective", "2025-03-01T00:00+08:00", "--store", store]).exit_code == 0
    for args in (["report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
                  "--now", "2025-03-03T09:00+08:00"],
                 ["accept", "I1", "--actor", "worker1", "--event-id", "I1-accept", "--now", "2025-03-03T10:00+08:00"],
                 ["resolve", "I1", "--actor", "worker1", "--now", "2025-03-03T11:00+08:00"],
                 ["accept", "I1", "--actor", "unitlead", "--event-id", "I1-late", "--now", "2025-03-03T09:30+08:00"]):
        done = run(main_group, ["incidents", *args, "--store", store], catch_exceptions=False)
        assert done.exit_code == 0, done.output
    # the late acceptance's confirmation says which stored step it made ignored, and why, in both languages
    assert done.stdout.startswith(
        "recorded I1-late: accepted, stored step I1-accept (accepted at 10:00 by worker1) now ignored because of "
        "I1-late: incident I1 was already accepted by unitlead (因补录 I1-late，已录入的步骤 I1-accept（worker1 10:00 "
        "受理）现已忽略：事件已被受理); incident I1 is resolved at unit u11 (已记录受理；"), done.stdout
    shown = run(main_group, ["incidents", "timeline", "I1", "--store", store, "--now", "latest"])
    lines = shown.stdout.splitlines()
    assert any("step ignored" in line and "accepted: refused in time order: incident I1 was already accepted by "
               "unitlead (事件已被受理); I1-late (accepted at 09:30) recorded late (补录)" in line for line in lines), lines
    note = next(line for line in lines if line.startswith("explain: "))
    assert "each ignored: escalation:I1-accept" in note
    explained = run(main_group, ["explain", "escalation:I1-accept", "--store", store])
    assert explained.exit_code == 0, explained.output
    said = explained.stdout.splitlines()
    assert said[0] == (
        "escalation:I1-accept: accepted I1-accept of incident I1 at 2025-03-03 10:00 (by worker1) is ignored: "
        "accepted at 09:30 (I1-late, by unitlead), dated before it, was recorded after it; replayed in time order, "
        "the step is refused: incident I1 was already accepted by unitlead. It is kept in the timeline but changes "
        "nothing and counts in no metric; the case stayed accepted at unit u11 (worker1 的受理已忽略：09:30 的受理在"
        "其后补录；按时间顺序重放，此步骤应被拒绝：事件已被受理。此步骤保留在办理过程中，但不改变事件，不计入任何指标)")
    assert "  result 结果: ignored (已忽略)" in said
    assert "  input 输入: late event = I1-late: accepted at 2025-03-03 09:30 by unitlead" in said
    assert "  input 输入: recorded = after step I1-accept was stored (dated 2025-03-03 10:00), though dated 09:30 " \
           "(补录：09:30 的受理在此步骤之后才录入)" in said
    with open_engine(store) as engine:
        case = esc.incident(engine, "I1")
        # unitlead took it on; worker1's resolution still holds (worker1 holds a role at u11)
        assert (case.status, case.accepted_at) == ("resolved", T0 + timedelta(minutes=30))
        assert engine.explain("escalation:I1-accept") == engine.explain("escalation:I1-accept")


def test_a_late_earlier_report_says_which_stored_steps_it_made_ignored(tmp_path: Path) -> None:
    """I2 (10:00 at u12) is accepted; a report there dated 09:50 (I0) is typed in afterwards: I2 joins I0 as
    a repeat report, and the late report's confirmation says so and that I2's stored acceptance is now
    ignored because of it, in English and Chinese (not that the late report itself is ignored)."""
    store = str(tmp_path / "store")
    run = CliRunner().invoke
    assert run(main_group, ["init", "--community", str(DATA / "community"), "--ruleset", str(RULES),
                            "--effective", "2025-03-01T00:00+08:00", "--store", store]).exit_code == 0
    for args in (["report", "I2", "--category", "leaking_pipe", "--node", "u12", "--actor", "worker1",
                  "--now", "2025-03-03T10:00+08:00"],
                 ["accept", "I2", "--actor", "worker1", "--event-id", "I2-accept", "--now", "2025-03-03T10:10+08:00"],
                 ["report", "I0", "--category", "leaking_pipe", "--node", "u12", "--actor", "worker2",
                  "--now", "2025-03-03T09:50+08:00"]):
        done = run(main_group, ["incidents", *args, "--store", store], catch_exceptions=False)
        assert done.exit_code == 0, done.output
    assert done.stdout == (
        "recorded I0:report: reported, I2 joined incident I0 as repeat report #1, stored step I2-accept (accepted "
        "at 10:10 by worker1) now ignored because of I0:report: I2 is a repeat report of I0 (recorded late) "
        "(因补录 I0:report，已录入的步骤 I2-accept（worker1 10:10 受理）现已忽略：I2 已作为重复上报并入 I0，补录); "
        "incident I0 is reported at unit u12 (已记录上报；事件 I0 已上报，位于最小单元 u12)\n"), done.stdout


# ---------------------------------------------------------------- a repeat report's join follows time order


def _joins(engine: Engine) -> dict[str, str]:
    """Each joined report and the case its latest join on the log names (the log in time order, then id)."""
    out: dict[str, str] = {}
    for event in engine.events():
        if event.kind == "repeat_report_joined":
            out[event.report] = event.incident  # type: ignore[attr-defined]
    return out


def _cases(engine: Engine) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {v.id: (v.status, v.repeat_reports) for v in esc.incidents(engine)}


def test_a_late_earlier_report_moves_a_stored_join_to_the_case_and_says_why(tmp_path: Path) -> None:
    """I1 (10:00) and I3 (11:00) at the same place: I3 joins I1 (joined:I3:report stored).  A report there
    dated 09:00 (I2) is typed in: in time order I1 and I3 both join I2.  The log then says so: a join of I3
    to I2 is derived under the next free id, and the stored one, naming I1, is kept and ignored, and explains
    itself, naming the late report; the same from a full replay and from a checkpoint."""
    store = str(tmp_path / "store")
    engine = open_engine(store)
    engine.record(report("I1", hours(1)))
    engine.record(report("I3", hours(2)))
    assert _joins(engine) == {"I3": "I1"}
    engine.record(report("I2", T0))
    assert _cases(engine) == {"I2": ("reported", ("I1", "I3"))}
    joins = {e.id: e.incident for e in engine.events() if e.kind == "repeat_report_joined"}  # type: ignore[attr-defined]
    assert joins == {"joined:I1-report": "I2", "joined:I3-report": "I1", "joined:I3-report:2": "I2"}
    assert _joins(engine) == {"I1": "I2", "I3": "I2"}
    lines = [(e.what, e.event) for e in esc.timeline(engine, "I2") if "join" in e.what or e.what == "repeat report"]
    assert lines == [("repeat report", "I1-report"), ("repeat report", "I3-report"),
                     ("join ignored", "joined:I3-report")], lines
    explained = engine.explain("escalation:joined:I3-report")
    assert explained.result == "ignored (已忽略)"
    assert explained.summary.startswith(
        "repeat report join joined:I3-report at 2025-03-03 11:00 (derived by the system: report I3 joined I1) is "
        "ignored: I2's report (I2-report, by worker1), dated 09:00 at the same place, was recorded after it; "
        "replayed in time order, I1 is itself a repeat report of I2, and I3 joined I2 (joined:I3-report:2)"), \
        explained.summary
    assert "重复上报并入已忽略" in explained.summary
    assert explained.inputs["late event"] == "I2-report: I2 reported at 2025-03-03 09:00 by worker1"
    assert explained.inputs["joined now"] == "joined:I3-report:2: I3 joined I2"
    assert [str(r) for r in explained.rules] == ["ladder-unit.rules:14"]
    live = (_cases(engine), [(e.what, e.event, e.detail) for e in esc.timeline(engine, "I2")], explained)
    engine.rebuild()
    assert (_cases(engine), [(e.what, e.event, e.detail) for e in esc.timeline(engine, "I2")],
            engine.explain("escalation:joined:I3-report")) == live
    assert {e.id for e in engine.events() if e.kind == "repeat_report_joined"} == set(joins)
    engine.checkpoint()
    engine.close()
    with open_engine(store) as again:
        assert (_cases(again), [(e.what, e.event, e.detail) for e in esc.timeline(again, "I2")],
                again.explain("escalation:joined:I3-report")) == live


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.integers(0, 150), min_size=2, max_size=4, unique=True), st.data())
def test_joins_in_any_order_and_batches_name_the_case_time_order_gives(minutes: list[int],
                                                                         data: st.DataObject) -> None:
    """Reports at one place within the duplicates window arrive in any order and batches: the latest join
    the log holds for each repeat report names the case it is in, and the cases are those time order gives."""
    reports = [report(f"R{n}", T0 + timedelta(minutes=m)) for n, m in enumerate(minutes)]
    arrival = list(data.draw(st.permutations(reports)))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=len(arrival) - 1)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)])]
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(str(Path(folder) / "late"))
        for batch in batches:
            engine.record_many(batch)
        engine.tick(hours(3))  # (what the last report decided on the spot)
        cases = _cases(engine)
        held = {r: case for case, (_, repeats) in cases.items() for r in repeats}
        assert _joins(engine) == held
        for event in engine.events():
            if event.kind == "repeat_report_joined" and held.get(event.report) != event.incident:  # type: ignore[attr-defined]
                assert engine.explain(f"escalation:{event.id}").result == "ignored (已忽略)"
        engine.rebuild()
        assert _cases(engine) == cases and _joins(engine) == held
        engine.close()
        with open_engine(str(Path(folder) / "in-order")) as in_order:
            in_order.record_many(reports)
            in_order.tick(hours(3))
            assert _cases(in_order) == cases
