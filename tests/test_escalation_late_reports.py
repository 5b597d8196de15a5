"""The same incident id reported twice, the later report stored first and the earlier one recorded late.

In order, a second report of an id already reported is refused (``incident I0 was
already reported``).  Recorded late, the earlier report is judged at its own time,
where the id is new, and accepted; the stored report of the same id, replayed after
it, is then judged as in order: refused in time order, so kept in the log, ignored
and explained in the case's timeline, and its join (if it made one) ignored with it.
It never joins the case as a repeat report of itself, which left a case whose own
escalations the plugin refused (the tick raised, and the store could not go on).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_escalation_invariants import T0, build, open_engine
from test_next_due import play_incidents

import gridcore_escalation as esc
from gridcore import Engine, EventRefused
from gridcore_escalation import views

# (minutes after the one before, op, minutes recorded late): test_next_due's scripts
REPORT = ("report", 0, "u11", "leaking_pipe", 1, None)
SCRIPT = [(0, ("accept", 0, "secretary", 1), 0),
          (0, REPORT, 0),
          (0, ("accept", 0, "secretary", 1), 0),
          (0, REPORT, 0),
          (0, REPORT, 30)]


def test_a_late_earlier_report_of_a_stored_id_leaves_a_store_that_goes_on() -> None:
    # (before the fix: PluginError, "derived event esc:I0:1 was refused: incident I0 joined incident I0 as a
    # repeat report", from the tick after the late report)
    heeded = play_incidents(SCRIPT, "ladder-unit.rules", heed=True)
    asked = play_incidents(SCRIPT, "ladder-unit.rules", heed=False)
    assert heeded == asked
    assert heeded["refusals"] == [(0, ["no incident I0 has been reported (查无此事件)"]),
                                  (3, ["incident I0 was already reported (事件编号已上报过)"])]
    # the late report (e4) and the stored one (e1) are both in the log
    assert [e["id"] for e in heeded["rows"] if e["kind"] == "incident_reported"] == ["e4", "e1"]


# I1 and I0 each reported three times, the later reports dated up to ten hours before the stored ones
REPORTED_AGAIN = [(40, ("accept", 0, "secretary", 5), 30),
                  (38, ("report", 1, "u11", "dispute", 2, None), 0),
                  (111, ("verify", 1, "fire1", 4), 30),
                  (150, ("report", 2, "n11", "fire_hazard", 5, "b1"), 0),
                  (9, ("resolve", 0, "secretary", 5), 0),
                  (23, ("report", 0, "u12", "dispute", 2, None), 30),
                  (89, ("handle", 2, "secretary", 2), 600),
                  (21, ("report", 1, "u21", "leaking_pipe", 4, None), 0),
                  (74, ("next", 2, "", 5), 0),
                  (38, ("report", 1, "u12", "dispute", 2, None), 600),
                  (23, ("report", 0, "u11", "dispute", 4, "b1"), 0),
                  (117, ("report", 0, "u12", "dispute", 3, "b1"), 600)]


def test_a_stored_report_replayed_as_a_new_case_derives_nothing_after_the_time_ticked_to() -> None:
    # (before the fix: the stored report of I1 at u11, replayed after I1's late report at u12, replaced the
    # case, and a tick at 10:13 was given esc:I1:1 due at 11:18: PluginError "plugin returned event esc:I1:1
    # due at ..., after ...")
    heeded = play_incidents(REPORTED_AGAIN, "ladder-unit.rules", heed=True)
    assert heeded == play_incidents(REPORTED_AGAIN, "ladder-unit.rules", heed=False)
    again = [(serial, reasons) for serial, reasons in heeded["refusals"] if "already reported" in reasons[0]]
    assert again == [(7, ["incident I1 was already reported (事件编号已上报过)"]),
                     (10, ["incident I0 was already reported (事件编号已上报过)"])]


def record(engine: Engine, minutes: int, op: tuple[Any, ...], serial: int, back: int = 0) -> bool:
    return engine.record(build(op[0], op[1], T0 + timedelta(minutes=minutes - back), op, serial))


def case(engine: Engine) -> tuple[Any, ...]:
    view = esc.incident(engine, "I0")
    return (view.id, view.status, view.current_node, view.repeat_reports,
            [(e.time, e.to_node, e.reason) for e in view.escalations])


def test_the_stored_report_is_ignored_and_explained_as_a_second_report_in_order_is_refused(tmp_path: Path) -> None:
    with open_engine(str(tmp_path / "late"), "ladder-unit.rules") as engine:
        assert record(engine, 0, REPORT, 1)
        assert record(engine, 10, ("accept", 0, "secretary", 1), 2)
        assert record(engine, 0, REPORT, 3, back=30)  # the same id, dated 30 minutes earlier, recorded late
        engine.tick(T0 + timedelta(days=30))  # (before the fix: PluginError)
        assert views.state_of(engine).primary_of("I0") is None  # never a repeat report of itself
        ignored = [e for e in esc.timeline(engine, "I0") if e.event == "e1"]
        detail = ("reported: refused in time order: incident I0 was already reported (事件编号已上报过); "
                  "e3 (reported at 07:30) recorded late (补录)")
        assert [(e.what, e.detail) for e in ignored] == [("step ignored", detail)]
        assert ("步骤（已忽略）", "上报：按时间顺序应拒绝：事件编号已上报过；e3（07:30 上报）补录") in esc.timeline_zh(engine, "I0")
        assert engine.ignored_stored("e1") == ["incident I0 was already reported (事件编号已上报过)"]
        said = engine.explain("escalation:e1")
        assert "is ignored" in said.summary and "e3" in said.summary
        late = case(engine)
    # recorded in time order, the second report is refused: the case goes the same way
    with open_engine(str(tmp_path / "ordered"), "ladder-unit.rules") as engine:
        assert record(engine, 0, REPORT, 3, back=30)
        with pytest.raises(EventRefused, match="incident I0 was already reported"):
            record(engine, 0, REPORT, 1)
        assert record(engine, 10, ("accept", 0, "secretary", 1), 2)
        engine.tick(T0 + timedelta(days=30))
        assert case(engine) == late
    # and the store read again from its log (every stored event replayed) gives the same
    with open_engine(str(tmp_path / "late"), "ladder-unit.rules") as engine:
        engine.tick(T0 + timedelta(days=30))
        assert case(engine) == late


def test_a_stored_repeat_reports_id_reported_late_earlier_drops_its_join(tmp_path: Path) -> None:
    first = ("report", 0, "u11", "leaking_pipe", 1, "b1")
    second = ("report", 1, "u11", "leaking_pipe", 1, "b1")
    with open_engine(str(tmp_path / "s"), "ladder-unit.rules") as engine:
        assert record(engine, 0, first, 1)
        assert record(engine, 60, second, 2)  # joins I0 as a repeat report (within 3 hours)
        assert views.state_of(engine).primary_of("I1") == "I0"
        assert record(engine, 0, second, 3, back=300)  # I1 again, dated five hours before I0: a case of its own
        engine.tick(T0 + timedelta(days=30))
        assert views.state_of(engine).primary_of("I1") is None
        assert esc.incident(engine, "I0").repeat_reports == ()
        assert engine.ignored_stored("e2") == ["incident I1 was already reported (事件编号已上报过)"]
        assert engine.ignored_stored("joined:e2") == [
            "joined:e2: its report of I1 is ignored: incident I1 was already reported (此次上报已忽略：事件编号已上报过)"]
        assert [e.what for e in esc.timeline(engine, "I1") if e.event == "e2"] == ["step ignored"]


def test_a_case_whose_stored_report_is_ignored_still_falls_due(tmp_path: Path) -> None:
    """Not accepted, the case a late, earlier report took escalates as in time order (before the fix: never;
    the stored report's note in the timeline left the case's deadline stale, and nothing else fell due)."""
    with open_engine(str(tmp_path / "late"), "ladder-unit.rules") as engine:
        assert record(engine, 0, REPORT, 1)
        assert record(engine, 0, REPORT, 3, back=30)  # the same id, dated 30 minutes earlier, recorded late
        engine.tick(T0 + timedelta(days=30))
        late = case(engine)
        assert late[4] and late[4][0][0] == T0 + timedelta(hours=1, minutes=30), late  # (not accepted in 2 hours)
    with open_engine(str(tmp_path / "ordered"), "ladder-unit.rules") as engine:
        assert record(engine, 0, REPORT, 3, back=30)
        with pytest.raises(EventRefused, match="incident I0 was already reported"):
            record(engine, 0, REPORT, 1)
        engine.tick(T0 + timedelta(days=30))
        assert case(engine) == late
    with open_engine(str(tmp_path / "late"), "ladder-unit.rules") as engine:  # (every stored event replayed)
        engine.tick(T0 + timedelta(days=30))
        assert case(engine) == late
