"""Consultation (会商) and feedback to the reporter (反馈) as steps of the loop.

A ruleset may require a consultation before handling for some categories
(and conditions) and pay each participant through the points plugin's own
``consultation`` item (the points plugin reads the event; escalation never
imports points); feedback has its own limit from the resolution and may be
required before verification.  Whether feedback was on time is a fact of the
events' times, whatever ``tick`` does.  Through the Python API and the
command line, English and Chinese rules alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopkit import COMMUNITY, T0, TZ, at, loop_event, open_loop

import gridcore_escalation as esc
import gridcore_points as points
from gridcore import Engine, EventRefused
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    ConsultationHeld,
    FeedbackGiven,
    IncidentAccepted,
    IncidentClosed,
    IncidentHandlingStarted,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

RULES = """\
ruleset steps
levels: street > community > grid > unit

points:
  consultation: 3 points when incident.severity >= 3, 1 point

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours
  consultation fire_hazard: required before handling
  consultation any: required before handling, when incident.severity >= 4
  feedback: within 1 working day, required before verification
  calendar: working hours 08:30-17:30, monday to friday
"""

RULES_ZH = """\
规则集 steps
层级: street > community > grid > unit

积分：
  会商：3 分 当 事件.严重程度 >= 3，1 分

事件流转：
  事件 任意：起始于 unit
  时限 unit：受理时限 2小时，办结时限 48小时
  会商 fire_hazard：处置前必须
  会商 任意：处置前必须，当 事件.严重程度 >= 4
  反馈：1个工作日内，核查前必须
  工作日历：工作时间 08:30-17:30，周一至周五
"""


def open_engine(tmp_path: Path, rules: str = RULES, name: str = "store") -> Engine:
    return open_loop(tmp_path, rules, name, without=("assessment",))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    yield the_engine
    the_engine.close()


def ev(cls: type, hour: float, actor: str, incident: str = "I1", **kw: Any) -> Any:
    return loop_event(cls, hour, actor, incident, **kw)


def report(engine: Engine, incident: str = "I1", category: str = "fire_hazard", severity: int = 2) -> None:
    engine.record(IncidentReported(id=f"{incident}-r", time=T0, actor="worker1", node="u11", incident=incident,
                                   category=category, severity=severity))
    engine.record(ev(IncidentAccepted, 0.5, "unitlead", incident))


def refusal(engine: Engine, event: Any) -> str:
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    return caught.value.reasons[0]


def test_a_required_consultation_comes_before_handling_and_pays_its_participants(engine: Engine) -> None:
    report(engine)
    why = refusal(engine, ev(IncidentHandlingStarted, 1, "unitlead"))
    assert "needs a consultation (会商) before handling: rule" in why and "store.rules:10" in why
    assert "needs a consultation" in refusal(engine, ev(IncidentResolved, 1, "unitlead"))
    engine.record(ev(ConsultationHeld, 2, "leader1", participants=("leader1", "unitlead", "police1"),
                     decision="消防与物业联合清理楼道"))
    engine.record(ev(IncidentHandlingStarted, 3, "unitlead"))
    [held] = esc.incident(engine, "I1").consultations
    assert held.participants == ("leader1", "unitlead", "police1") and held.level == "unit"
    line = next(e for e in esc.timeline(engine, "I1") if e.what == "consulted")
    assert line.detail == "with leader1, unitlead, police1: 消防与物业联合清理楼道"
    # severity 2: the second scale (1 point) for each participant, booked when recorded
    assert [points.balance(engine, m, at(3)) for m in ("leader1", "unitlead", "police1")] == [1, 1, 1]
    [entry] = points.entries(engine, "police1", at(3))  # the clock is still at the report: ask as at hour 3
    assert entry.rule.line == 5 and entry.inputs["decision"] == "消防与物业联合清理楼道"


def test_which_incidents_need_one(engine: Engine) -> None:
    report(engine, "leak", "leaking_pipe", severity=2)  # no rule for leaks below severity 4
    engine.record(ev(IncidentHandlingStarted, 1, "unitlead", "leak"))
    report(engine, "grave", "leaking_pipe", severity=4)  # the catch-all's condition holds
    assert "needs a consultation" in refusal(engine, ev(IncidentHandlingStarted, 1, "unitlead", "grave"))
    assert "unknown participant(s) nobody" in refusal(
        engine, ev(ConsultationHeld, 1, "leader1", "grave", participants=("leader1", "nobody"), decision="x"))
    assert "res2 may not record a consultation on incident grave" in refusal(
        engine, ev(ConsultationHeld, 1, "res2", "grave", participants=("res2",), decision="x"))
    engine.record(ev(ConsultationHeld, 1, "leader1", "grave", participants=("leader1",), decision="上报社区"))
    assert points.balance(engine, "leader1", at(1)) == 3  # severity 4: 3 points
    with pytest.raises(ValueError, match="participants"):
        ev(ConsultationHeld, 2, "leader1", "grave", participants=(), decision="x")


def resolved(engine: Engine, incident: str = "I1") -> None:
    report(engine, incident, "leaking_pipe")
    engine.record(ev(IncidentResolved, 30, "unitlead", incident))  # Tuesday 15:00


def test_feedback_comes_before_verification_and_has_its_own_limit(engine: Engine) -> None:
    resolved(engine)
    view = esc.incident(engine, "I1")
    # 1 working day from Tuesday 15:00: Wednesday 15:00
    assert view.feedback_due == datetime(2025, 3, 5, 15, 0, tzinfo=TZ) and view.feedback_at is None
    why = refusal(engine, ev(IncidentVerified, 31, "leader1", satisfaction=5))
    assert "must be told the result (反馈) before it is verified" in why
    assert "res2 may not give feedback on incident I1" in refusal(engine, ev(FeedbackGiven, 31, "res2"))
    engine.record(ev(FeedbackGiven, 31, "unitlead", note="已修好，请查看", channel="phone"))
    view = esc.incident(engine, "I1")
    assert (view.feedback_by, view.feedback_late) == ("unitlead", False)
    assert esc.timeline(engine, "I1")[-1].detail == (
        "已修好，请查看; by phone; within the limit, due 2025-03-05T15:00+08:00")
    assert "already given by unitlead" in refusal(engine, ev(FeedbackGiven, 32, "leader1"))
    engine.record(ev(IncidentVerified, 32, "leader1", satisfaction=5))
    engine.record(ev(IncidentClosed, 33, "leader1"))
    assert esc.incident(engine, "I1").status == "closed"


def test_late_feedback_is_late_whatever_the_ticks(tmp_path: Path) -> None:
    results = []
    for n, ticks in enumerate(([], [40.0, 50.0, 54.0, 60.0], [h * 1.0 for h in range(30, 80)])):
        engine = open_engine(tmp_path, name=f"s{n}")
        resolved(engine)
        for hour in ticks:
            engine.tick(at(hour))
        engine.record(ev(FeedbackGiven, 56, "unitlead", note="已修好"))  # Wednesday 17:00: two hours late
        view = esc.incident(engine, "I1")
        results.append((view.feedback_late, view.feedback_due, esc.timeline(engine, "I1")[-1].detail))
        march = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
        value = engine.metric("feedback_within_limit", "yq", *march)
        assert value is not None and value.value == 0
        engine.close()
    assert results[0] == results[1] == results[2]
    assert results[0][0] is True and results[0][2].endswith("late: the limit, due 2025-03-05T15:00+08:00")


def test_a_reopened_incident_needs_new_feedback(engine: Engine) -> None:
    resolved(engine)
    engine.record(ev(FeedbackGiven, 31, "unitlead"))
    engine.record(ev(IncidentVerified, 32, "leader1", satisfaction=1))  # unsatisfied: reopened at once
    assert esc.incident(engine, "I1").status == "reported"
    assert esc.incident(engine, "I1").feedback_at is None
    engine.record(ev(IncidentAccepted, 33, "unitlead"))
    engine.record(ev(IncidentResolved, 34, "unitlead"))
    assert "must be told the result" in refusal(engine, ev(IncidentVerified, 35, "leader1", satisfaction=4))
    assert [e.what for e in esc.timeline(engine, "I1")].count("reopened") == 1


def test_english_and_chinese_rules_are_the_same(tmp_path: Path) -> None:
    outcomes = []
    for name, rules in (("en", RULES), ("zh", RULES_ZH), ("zh-glossary", RULES_ZH.replace("处置前必须", "办理前必须"))):
        engine = open_engine(tmp_path, rules, name)
        report(engine, severity=3)
        refused = refusal(engine, ev(IncidentHandlingStarted, 1, "unitlead"))
        engine.record(ev(ConsultationHeld, 2, "leader1", participants=("leader1", "unitlead"), decision="清理"))
        engine.record(ev(IncidentResolved, 30, "unitlead"))
        view = esc.incident(engine, "I1")
        outcomes.append((refused.split(": rule")[0], view.feedback_due,
                         points.balance(engine, "unitlead", at(30))))
        engine.close()
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0][2] == 3


def test_before_handling_is_written_with_the_glossary_word_or_the_older_one() -> None:
    """办理 is the glossary's word for handling: 办理前必须 means what 处置前必须 means (the same
    compiled ruleset, only the rules' texts as written differ), and gridcore fmt keeps what was written."""
    import attrs

    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks
    from gridcore.rules import parse_ruleset
    from gridcore.rules.formatter import format_source
    from gridcore_escalation.section import SECTION

    sections = Hooks(get_plugin_manager()).register_sections()
    glossary = RULES_ZH.replace("处置前必须", "办理前必须")
    assert glossary.count("办理前必须") == 2
    older = parse_ruleset(RULES_ZH, sections=sections, name="steps.rules")
    newer = parse_ruleset(glossary, sections=sections, name="steps.rules")
    assert newer.warnings == older.warnings

    def as_older(policy: Any) -> Any:
        return attrs.evolve(policy, consultations=tuple(
            attrs.evolve(c, rule=attrs.evolve(c.rule, text=c.rule.text.replace("办理前必须", "处置前必须")))
            for c in policy.consultations))

    old_policies = [p.policy for p in older.policies(SECTION)]
    new_policies = [p.policy for p in newer.policies(SECTION)]
    assert [len(p.consultations) for p in new_policies] == [2]
    assert new_policies != old_policies  # (each rule keeps its text as written)
    assert [as_older(p) for p in new_policies] == old_policies
    assert format_source(glossary) == glossary
    short = parse_ruleset(RULES_ZH.replace("处置前必须", "办理前"), sections=sections, name="steps.rules")
    assert [len(p.policy.consultations) for p in short.policies(SECTION)] == [2]


def run(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_consultation_and_feedback_from_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "steps.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "cli")
    assert run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
               "--effective", "2025-03-01T00:00+08:00", "--store", store).exit_code == 0

    def step(*args: str, now: str) -> str:
        result = run("incidents", *args, "--store", store, "--now", now)
        assert result.exit_code == 0, result.output
        return str(result.output)

    step("report", "F1", "--category", "fire_hazard", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")
    step("accept", "F1", "--actor", "unitlead", now="2025-03-03T09:10+08:00")
    refused = run("incidents", "handle", "F1", "--actor", "unitlead", "--store", store,
                  "--now", "2025-03-03T09:20+08:00")
    assert refused.exit_code == 1 and "needs a consultation (会商) before handling" in refused.output
    said = step("consult", "F1", "--actor", "leader1", "--with", "leader1", "--with", "fire1",
                "--decision", "清理楼道堆物", now="2025-03-03T10:00+08:00")
    assert "consulted (with leader1, fire1: 清理楼道堆物); incident F1 is accepted at unit u11" in said
    step("handle", "F1", "--actor", "unitlead", now="2025-03-03T10:30+08:00")
    step("resolve", "F1", "--actor", "unitlead", now="2025-03-03T15:00+08:00")
    said = step("feedback", "F1", "--actor", "unitlead", "--note", "已清理", "--channel", "visit",
                now="2025-03-03T16:00+08:00")
    assert "feedback given (已清理; by visit; within the limit, due 2025-03-04T15:00+08:00)" in said
    step("verify", "F1", "--actor", "leader1", "--satisfaction", "5", now="2025-03-04T09:00+08:00")
    rows = json.loads(run("incidents", "timeline", "F1", "--store", store, "--format", "json").stdout)["rows"]
    assert [r["step"] for r in rows if r["actor"] != "system"] == [
        "reported", "accepted", "consulted", "handling started", "resolved", "feedback given", "verified"]
