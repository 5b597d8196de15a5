"""The closed loop without any ruleset: transitions, permissions, refusals, the reopen loop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentEscalated,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentVerified,
    SatisfactionRated,
)

COMMUNITY = Path(__file__).parent / "data" / "escalation" / "community"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    pm = get_plugin_manager(("points", "assessment"))
    the_engine = Engine.open(
        store=str(tmp_path / "store"), community=COMMUNITY, clock=FixedClock(T0), plugins=pm
    )
    yield the_engine
    the_engine.close()


def report(
    incident: str, minutes: float = 0, actor: str = "worker1", node: str = "u11", **kw: Any
) -> IncidentReported:
    kw.setdefault("category", "leaking_pipe")
    return IncidentReported(
        id=f"{incident}-report", time=at(minutes), actor=actor, node=node, incident=incident, **kw
    )


def step(cls: type, incident: str, minutes: float, actor: str, **kw: Any) -> Any:
    return cls(
        id=f"{incident}-{cls.kind}-{minutes}-{actor}",
        time=at(minutes),
        actor=actor,
        node="u11",
        incident=incident,
        **kw,
    )


def refused(engine: Engine, event: Any) -> list[str]:
    before = engine.store.count()
    view_before = (
        esc.incident(engine, event.incident)
        if event.incident in engine.state("escalation").incidents
        else None
    )
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    assert engine.store.count() == before
    if view_before is not None:
        assert esc.incident(engine, event.incident) == view_before
    return caught.value.reasons


def test_the_whole_loop_is_recorded_step_by_step(engine: Engine) -> None:
    engine.record(report("I1", description="3楼水管漏水"))
    engine.record(step(IncidentAccepted, "I1", 10, "worker1"))
    engine.record(step(IncidentHandlingStarted, "I1", 20, "worker1"))
    engine.record(step(IncidentPaused, "I1", 30, "worker1", reason="waiting for parts"))
    engine.record(step(IncidentResumed, "I1", 90, "worker1"))
    engine.record(step(IncidentResolved, "I1", 120, "leader1"))
    engine.record(step(IncidentVerified, "I1", 130, "leader1", satisfaction=5))
    engine.record(step(SatisfactionRated, "I1", 140, "张伟", score=4))
    engine.record(step(IncidentClosed, "I1", 150, "leader1"))
    view = esc.incident(engine, "I1")
    assert view.status == "closed"
    assert view.satisfaction == 5 and view.ratings == {"张伟": 4}
    assert view.resolved_at == at(120) and view.closed_at == at(150)
    assert not view.self_closed
    steps = [e.what for e in esc.timeline(engine, "I1")]
    assert steps == [
        "reported",
        "no policy",
        "accepted",
        "handling started",
        "paused",
        "resumed",
        "resolved",
        "verified",
        "rated",
        "closed",
    ]


def test_illegal_transitions_are_refused_with_a_reason_and_change_nothing(engine: Engine) -> None:
    engine.record(report("I1"))
    assert (
        "must be accepted before it can be resolved"
        in refused(engine, step(IncidentResolved, "I1", 5, "worker1"))[0]
    )
    assert (
        "cannot verify"
        in refused(engine, step(IncidentVerified, "I1", 5, "leader1", satisfaction=4))[0]
    )
    assert "cannot resume" in refused(engine, step(IncidentResumed, "I1", 5, "worker1"))[0]
    engine.record(step(IncidentAccepted, "I1", 10, "worker1"))
    assert "not paused" in refused(engine, step(IncidentResumed, "I1", 11, "worker1"))[0]
    assert (
        "already accepted by worker1"
        in refused(engine, step(IncidentAccepted, "I1", 11, "leader1"))[0]
    )
    engine.record(step(IncidentResolved, "I1", 20, "worker1"))
    engine.record(step(IncidentVerified, "I1", 30, "leader1", satisfaction=4))
    assert refused(engine, step(IncidentVerified, "I1", 31, "leader1", satisfaction=4)) == [
        "incident I1 was already verified (事件已核查)"
    ]
    engine.record(step(IncidentClosed, "I1", 40, "leader1"))
    assert "is closed" in refused(engine, step(IncidentReopened, "I1", 50, "leader1"))[0]
    assert "is closed" in refused(engine, step(IncidentAccepted, "I1", 50, "worker1"))[0]


def test_unknown_and_repeated_incident_ids_are_refused(engine: Engine) -> None:
    assert refused(engine, step(IncidentAccepted, "I9", 1, "worker1")) == [
        "no incident I9 has been reported (查无此事件)"
    ]
    engine.record(report("I1"))
    again = IncidentReported(
        id="other", time=at(1), actor="worker1", node="u11", incident="I1", category="x"
    )
    assert refused(engine, again) == ["incident I1 was already reported (事件编号已上报过)"]


def test_only_people_responsible_at_the_node_or_above_may_act(engine: Engine) -> None:
    engine.record(report("I1", node="u11"))
    reasons = refused(engine, step(IncidentAccepted, "I1", 1, "worker2"))
    assert reasons == [
        ("worker2 may not accept incident I1: it is at u11 and worker2 holds no role there or above "
        "(事件不在其辖区，无权受理)")
    ]
    # a resident's role does not make them staff
    assert "may not accept" in refused(engine, step(IncidentAccepted, "I1", 1, "张伟"))[0]
    # the police officer sent down to grid g1 acts on the cases the police are called to (吹哨报到), not
    # on every case of its units
    assert refused(engine, step(IncidentAccepted, "I1", 2, "police1"))[0].startswith(
        "police1 may not accept incident I1: they serve at g1 for the line department police (外海派出所), "
        "and the case is not its")
    engine.record(step(IncidentEscalated, "I1", 3, "worker1", to_node="u11", department="police",
                       reason="需要民警到场"))
    engine.record(step(IncidentAccepted, "I1", 4, "police1"))
    assert esc.incident(engine, "I1").status == "accepted"


def test_the_grid_leader_verifies_and_residents_of_the_cell_rate(engine: Engine) -> None:
    engine.record(report("I1"))
    engine.record(step(IncidentAccepted, "I1", 1, "worker1"))
    engine.record(step(IncidentResolved, "I1", 2, "worker1"))
    assert (
        "only the grid_leader of u11 or above"
        in refused(engine, step(IncidentVerified, "I1", 3, "worker1", satisfaction=5))[0]
    )
    assert (
        "may not verify"
        in refused(engine, step(IncidentVerified, "I1", 3, "leader2", satisfaction=5))[0]
    )
    engine.record(step(IncidentVerified, "I1", 3, "leader1", satisfaction=5))
    assert (
        "only its reporter or residents of u11"
        in refused(engine, step(SatisfactionRated, "I1", 4, "res2", score=1))[0]
    )
    engine.record(step(SatisfactionRated, "I1", 4, "worker1", score=5))  # the reporter
    engine.record(step(SatisfactionRated, "I1", 5, "张伟", score=3))  # lives in u11
    assert refused(engine, step(SatisfactionRated, "I1", 6, "张伟", score=3)) == [
        "张伟 already rated incident I1 (已评价过此事件)"
    ]


def test_an_unsatisfied_verification_reopens_the_incident(engine: Engine) -> None:
    engine.record(report("I1"))
    engine.record(step(IncidentAccepted, "I1", 1, "worker1"))
    engine.record(step(IncidentResolved, "I1", 2, "worker1"))
    engine.record(step(IncidentVerified, "I1", 3, "leader1", satisfaction=2))
    # decided by the verification, recorded with it: no tick needed
    view = esc.incident(engine, "I1")
    assert view.status == "reported" and view.reopens == 1
    reopened = [e for e in engine.events(kinds=["incident_reopened"])]
    assert [e.id for e in reopened] == ["reopen:I1:1"]
    assert reopened[0].actor == "system" and isinstance(reopened[0], IncidentReopened)
    assert reopened[0].time == at(3) + timedelta(microseconds=1)
    assert engine.tick(at(4)) == []
    # its new clock starts at the reopening: deadlines carry no stray microsecond
    view = esc.incident(engine, "I1")
    assert view.status == "reported" and view.reopens == 1
    # ticking again fires nothing more
    assert engine.tick(at(60)) == []
    assert "cannot close" in refused(engine, step(IncidentClosed, "I1", 61, "leader1"))[0]


def test_a_case_reported_and_resolved_by_the_same_person_is_flagged(engine: Engine) -> None:
    engine.record(report("I1", actor="worker1"))
    engine.record(step(IncidentAccepted, "I1", 1, "worker1"))
    engine.record(step(IncidentResolved, "I1", 2, "worker1"))
    engine.record(step(IncidentVerified, "I1", 3, "leader1", satisfaction=5))
    engine.record(step(IncidentClosed, "I1", 4, "leader1"))
    assert esc.incident(engine, "I1").self_closed
    note = engine.report("escalation.timeline", {"incident": "I1"}).notes[-1]
    assert note == "flagged: reported and resolved by worker1"
    assert esc.timeline(engine, "I1")[-1].detail == "flagged: reported and resolved by worker1"
    engine.record(report("I2", actor="张伟"))
    engine.record(step(IncidentAccepted, "I2", 1, "worker1"))
    engine.record(step(IncidentResolved, "I2", 2, "worker1"))
    assert not esc.incident(engine, "I2").self_closed


def test_whistle_blowing_moves_an_incident_up_only(engine: Engine) -> None:
    engine.record(report("I1"))
    down = step(IncidentEscalated, "I1", 1, "worker1", to_node="u12")
    assert "can only move up" in refused(engine, down)[0]
    sideways = step(IncidentEscalated, "I1", 1, "worker1", to_node="n1")
    assert "can only move up" in refused(engine, sideways)[0]
    engine.record(
        step(IncidentEscalated, "I1", 2, "worker1", to_node="yq", reason="needs the community")
    )
    view = esc.incident(engine, "I1")
    assert (view.current_node, view.current_level, view.status) == ("yq", "community", "reported")
    # the gridworker of g1 is below the community now; the community's master grid leader accepts
    assert "may not accept" in refused(engine, step(IncidentAccepted, "I1", 3, "worker1"))[0]
    engine.record(step(IncidentAccepted, "I1", 3, "master"))
    explanation = engine.explain(f"escalation:{view.escalations[0].event}")
    assert "worker1 escalated incident I1 to community yq" in explanation.summary


def test_chinese_ids_and_categories_work(engine: Engine) -> None:
    engine.record(
        IncidentReported(
            id="报告一", time=at(0), actor="张伟", node="u11", incident="事件一", category="漏水"
        )
    )
    engine.record(
        IncidentAccepted(id="受理一", time=at(5), actor="worker1", node="u11", incident="事件一")
    )
    assert esc.incident(engine, "事件一").category == "漏水"
    table = engine.report("escalation.open")
    assert "事件一" in table.render("text") and "漏水" in table.render("csv")


def test_state_rebuilt_from_the_store_is_the_same(engine: Engine, tmp_path: Path) -> None:
    engine.record(report("I1"))
    engine.record(step(IncidentAccepted, "I1", 1, "worker1"))
    engine.record(step(IncidentResolved, "I1", 2, "worker1"))
    engine.record(step(IncidentVerified, "I1", 3, "leader1", satisfaction=1))
    engine.tick(at(10))
    before = esc.incidents(engine)
    engine.close()
    pm = get_plugin_manager(("points", "assessment"))
    with Engine.open(store=str(tmp_path / "store"), clock=FixedClock(at(10)), plugins=pm) as again:
        assert esc.incidents(again) == before


def test_recording_the_same_event_twice_changes_nothing(engine: Engine) -> None:
    first = report("I1")
    assert engine.record(first) is True
    before = esc.incidents(engine)
    assert engine.record(first) is False
    assert engine.record_many([first, first]).duplicates == 2
    assert esc.incidents(engine) == before
    assert len(esc.timeline(engine, "I1")) == 2


def test_a_registered_resident_of_the_cell_may_rate(engine: Engine) -> None:
    from gridcore.events import ResidentRegistered

    engine.record(report("I1"))
    engine.record(
        ResidentRegistered(id="reg1", time=at(1), actor="worker1", node="u11", person="李阿姨")
    )
    engine.record(
        ResidentRegistered(id="reg2", time=at(1), actor="nxworker", node="n11", person="南溪居民")
    )
    engine.record(step(IncidentAccepted, "I1", 2, "worker1"))
    engine.record(step(IncidentResolved, "I1", 3, "worker1"))
    engine.record(step(SatisfactionRated, "I1", 4, "李阿姨", score=5))
    assert (
        "may not rate" in refused(engine, step(SatisfactionRated, "I1", 5, "南溪居民", score=1))[0]
    )
    assert esc.incident(engine, "I1").ratings == {"李阿姨": 5}
