"""A serious repeat report joined to an incident counts through that incident, not on its own.

The escalation plugin joins a report of the same category at the same place to
the open incident (``duplicates: within 3 hours``) and publishes the join as a
derived ``repeat_report_joined`` event; ``unresolved_serious_incidents``
(assessment) reads it: the repeat is no incident of its own, it is open exactly
while the incident it joined is, and a serious repeat makes that incident
serious.  The same whether the metric reads the state (the current period) or
the log (an earlier end), after a checkpoint, and whatever the ticks.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from loopkit import T0, at, loop_event, open_loop

import gridcore_escalation as esc
from gridcore import Engine, EventRefused
from gridcore.events import SYSTEM_ACTOR
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    RepeatReportJoined,
)

RULES = """\
ruleset repeats
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 working hours, resolve within 40 working hours
  duplicates: within 3 hours
  calendar: working hours 08:30-17:30, monday to friday

assessment:
  rate: unit
  metric closure_within_limit: weight 100
  serious: severity >= 4
  stars: 5 if unresolved_serious_incidents == 0, otherwise 2
"""


def open_engine(tmp_path: Path, name: str = "store") -> Engine:
    return open_loop(tmp_path, RULES, name, without=("points",))


def report(engine: Engine, incident: str, hour: float, severity: int) -> None:
    engine.record(loop_event(IncidentReported, hour, "unitlead", incident, category="leaking_pipe",
                             severity=severity))


def serious(engine: Engine, hours: float) -> tuple[int, str]:
    """Unresolved serious incidents in unit u11 at ``at(hours)``: how many, and which."""
    value = engine.metric("unresolved_serious_incidents", "u11", T0 - timedelta(days=1), at(hours))
    assert value is not None
    return int(value.value), str(value.inputs["open"])


def close(engine: Engine, incident: str, hour: float) -> None:
    for n, (cls, actor, extra) in enumerate(((IncidentAccepted, "leader1", {}),
                                             (IncidentResolved, "leader1", {}),
                                             (IncidentVerified, "leader1", {"satisfaction": 5}),
                                             (IncidentClosed, "leader1", {}))):
        engine.record(loop_event(cls, hour + n * 0.25, actor, incident, **extra))


def test_a_serious_repeat_counts_once_while_open_and_not_after_closing(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    report(engine, "I1", 0, severity=2)
    report(engine, "I2", 1, severity=5)  # joins I1: I1 becomes serious
    engine.tick(at(1.5))
    joined = [e for e in engine.events(kinds=["repeat_report_joined"])]
    assert [(e.incident, e.report, e.severity, e.actor) for e in joined] == [("I1", "I2", 5, SYSTEM_ACTOR)]
    assert isinstance(joined[0], RepeatReportJoined) and joined[0].rule.endswith("store.rules:7")
    assert esc.incident(engine, "I2").id == "I1"
    assert serious(engine, 2) == (1, "I1")  # one incident, not two
    close(engine, "I1", 3)
    assert serious(engine, 5) == (0, "none")
    # an earlier end reads the log up to it: the same answer as the state then
    assert serious(engine, 1.5) == (1, "I1")
    assert serious(engine, 0.5) == (0, "none")  # I1 alone is not serious


def test_the_repeat_follows_a_reopening_of_the_incident_it_joined(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    report(engine, "I1", 0, severity=4)
    report(engine, "I2", 1, severity=4)
    engine.record(loop_event(IncidentAccepted, 2, "leader1", "I1"))
    engine.record(loop_event(IncidentResolved, 3, "leader1", "I1"))
    assert serious(engine, 4) == (0, "none")
    engine.record(loop_event(IncidentReopened, 4, "leader1", "I1", reason="还在漏"))
    assert serious(engine, 5) == (1, "I1")


def test_a_report_outside_the_window_stays_an_incident_of_its_own(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    report(engine, "I1", 0, severity=4)
    report(engine, "I2", 4, severity=4)  # more than 3 hours after I1's report: its own incident
    engine.tick(at(5))
    assert list(engine.events(kinds=["repeat_report_joined"])) == []
    assert serious(engine, 5) == (2, "I1, I2")
    close(engine, "I1", 6)
    assert serious(engine, 8) == (1, "I2")


def test_the_same_after_reopening_the_store_and_whatever_the_ticks(tmp_path: Path) -> None:
    answers = []
    for n, ticks in enumerate(([], [1.0, 1.0000001, 2.0], [h / 4 for h in range(40)])):
        engine = open_engine(tmp_path, f"s{n}")
        report(engine, "I1", 0, severity=1)
        report(engine, "I2", 1, severity=4)
        for hour in ticks:
            engine.tick(at(hour))
        engine.checkpoint()
        engine.close()
        engine = open_engine(tmp_path, f"s{n}")
        answers.append(serious(engine, 2.5))
        close(engine, "I1", 3)
        answers.append(serious(engine, 6))
        assert [e.report for e in engine.events(kinds=["repeat_report_joined"])] == ["I2"]
        engine.close()
    assert answers == [(1, "I1"), (0, "none")] * 3


def test_a_checkpoint_taken_before_the_join_is_applied_keeps_it_due(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    # a checkpoint inside the ingest, right after the repeat report (the join falls due just after it)
    engine.checkpoint_every, engine.checkpoint_min = 1, 1_000
    first = [loop_event(IncidentReported, h, "unitlead", i, category="leaking_pipe", severity=s)
             for h, i, s in ((0, "I1", 1), (1, "I2", 4))]
    engine.record_many([*first, loop_event(IncidentAccepted, 1.5, "leader1", "I1")], batch_size=2)
    [join] = engine.events(kinds=["repeat_report_joined"])
    slots = {n: engine.store.get("checkpoints", f"slot-{n}") for n in range(4)}
    [slot] = [n for n, doc in slots.items() if doc is not None and doc["position"] == 2]
    saved = engine.store.get("checkpoints", f"slot-{slot}.escalation#state")
    assert saved is not None
    engine.close()
    reopened = open_engine(tmp_path)
    assert serious(reopened, 2.5) == (1, "I1")
    # what that checkpoint saved gives back the join still due (as a process that stopped there resumes)
    state = reopened.state("escalation")
    state.gridcore_restore_state(reopened, saved["state"])
    assert list(state.joins_due.values()) == [join]
    assert state.gridcore_save_state()["joins due"] == saved["state"]["joins due"]


def test_a_join_cannot_be_recorded(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    report(engine, "I1", 0, severity=4)
    report(engine, "I3", 0.5, severity=4)
    forged = RepeatReportJoined(id="forged", time=at(1), actor="leader1", node="u11", incident="I1",
                                report="I3", severity=4)
    with pytest.raises(EventRefused) as info:
        engine.record(forged)
    assert "重复上报并入由规则判定" in str(info.value)
