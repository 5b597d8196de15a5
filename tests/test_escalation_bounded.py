"""The escalation state does not grow with the history: it keeps what later events can still read.

Report times are kept only as far back as the longest repeat window of any
ruleset in force reaches from the latest report at each place; a ruleset
with a longer window put in force later reads the older times back from the
incidents (open and archived), so every decision stays what a full replay gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
)
from gridcore_escalation.views import state_of

DATA = Path(__file__).parent / "data" / "escalation"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday, 09:00
#: ladder-unit.rules with the repeat rule's window at 40 days instead of 7
LONGER = (DATA / "ladder-unit.rules").read_text(encoding="utf-8").replace(
    "ruleset ladder_unit", "ruleset ladder_unit_longer").replace("3 times within 7 days", "3 times within 40 days")


def report(incident: str, when: datetime, **kw: Any) -> IncidentReported:
    return IncidentReported(id=f"{incident}-report", time=when, node="u11", incident=incident, actor="worker1",
                            category="leaking_pipe", place="b1", **kw)


def closed(incident: str, when: datetime) -> list[Any]:
    """Reported at ``when``, then accepted, resolved, verified and closed within four hours."""
    def act(cls: type, hours: float, actor: str, **kw: Any) -> Any:
        return cls(id=f"{incident}-{cls.kind}", time=when + timedelta(hours=hours), actor=actor, node="u11",
                   incident=incident, **kw)
    return [report(incident, when), act(IncidentAccepted, 0.2, "master"), act(IncidentResolved, 1, "master"),
            act(IncidentVerified, 2, "leader1", satisfaction=4), act(IncidentClosed, 3, "leader1")]


@pytest.fixture
def opener(tmp_path: Path) -> Iterator[Any]:
    engines: list[Engine] = []

    def make(name: str) -> Engine:
        engine = Engine.open(store=str(tmp_path / name), community=DATA / "community",
                             ruleset=DATA / "ladder-unit.rules", effective=T0 - timedelta(days=30),
                             clock=FixedClock(T0 + timedelta(days=400)),
                             plugins=get_plugin_manager(("points", "assessment")))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def test_report_times_stay_within_the_longest_repeat_window(opener: Any) -> None:
    engine = opener("store")
    kept = []
    for n in range(60):  # one report at b1 every five days, each incident closed the same day
        engine.record_many(closed(f"R{n}", T0 + timedelta(days=5 * n)))
        kept.append(len(state_of(engine).reports_at[("leaking_pipe", "place:b1")]))
    # 7 days reach back to the report before: never more than two times, however long the history
    assert max(kept) == 2 and kept[-1] == 2
    assert len(state_of(engine).reports_at) == 1


def test_places_reported_at_long_ago_are_dropped_and_a_checkpoint_gives_what_a_replay_gives(
        opener: Any) -> None:
    live = opener("store")
    keys = []
    events = []
    for n in range(40):  # a new place every five days (none reported at twice): a district's many places
        steps = [attrs.evolve(e, place=f"b{n}") if isinstance(e, IncidentReported) else e
                 for e in closed(f"P{n}", T0 + timedelta(days=5 * n))]
        events += steps
        live.record_many(steps)
        keys.append(sorted(state_of(live).reports_at))
        if n == 20:
            live.checkpoint()
    # the 7-day window reaches back to the place reported five days before, never further
    assert keys[0] == [("leaking_pipe", "place:b0")]
    assert keys[-1] == [("leaking_pipe", "place:b38"), ("leaking_pipe", "place:b39")]
    assert max(len(k) for k in keys) == 2
    live.close()
    reopened = opener("store")  # from the checkpoint after P20, the tail replayed
    replayed = opener("replayed")
    replayed.record_many(events)
    late = [attrs.evolve(e, place="b39") if isinstance(e, IncidentReported) else e
            for e in closed("P40", T0 + timedelta(days=5 * 39 + 3))]
    for engine in (reopened, replayed):
        engine.record_many(late)  # b39 again, three days later: b38 (eight days before) is dropped
    # (as stored: JSON text; the archive's open part read back from a checkpoint holds lists where
    # the live one holds tuples)
    documents = [json.loads(json.dumps(engine.hooks.save_state(engine, state_of(engine))))
                 for engine in (reopened, replayed)]
    assert documents[0] == documents[1]
    assert documents[0]["reports_at"] == [["leaking_pipe", "place:b39", [
        (T0 + timedelta(days=5 * 39)).isoformat(), (T0 + timedelta(days=5 * 39 + 3)).isoformat()]]]


def test_a_longer_window_put_in_force_later_reads_the_older_reports_back(opener: Any, tmp_path: Path) -> None:
    live = opener("live")
    when = T0
    for n in range(4):  # reports 10 days apart: never 3 within 7 days
        live.record_many(closed(f"R{n}", when))
        when += timedelta(days=10)
    assert len(state_of(live).reports_at[("leaking_pipe", "place:b1")]) == 1
    later = tmp_path / "longer.rules"
    later.write_text(LONGER, encoding="utf-8")
    live.use_ruleset(later, effective=when - timedelta(days=1))  # after every event: nothing is judged again
    live.record(report("R4", when))  # R0 to R4 within 40 days (10 days apart, the last two within 7)
    fired = state_of(live).incidents["R4"].escalations  # (derived just after the report)
    assert [step.reason for step in fired] == ["5 reports of leaking_pipe at the same place within 40 days"]
    replayed = opener("replayed")
    replayed.use_ruleset(later, effective=when - timedelta(days=1))
    replayed.record_many(live.events())
    for engine in (live, replayed):
        engine.tick(when + timedelta(hours=1))
    assert attrs.asdict(esc.incident(live, "R4")) == attrs.asdict(esc.incident(replayed, "R4"))
    state = state_of(live)
    document = live.hooks.save_state(live, state)
    assert document == replayed.hooks.save_state(replayed, state_of(replayed))
    assert document["reports_at"] == [["leaking_pipe", "place:b1",
                                       [(T0 + timedelta(days=10 * n)).isoformat() for n in range(5)]]]


def test_the_checkpoint_names_no_archived_incident_and_lookups_read_the_store(
        opener: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gridcore_escalation.archive.PART_SIZE", 4)
    monkeypatch.setattr("gridcore_escalation.archive.CHAPTER_PARTS", 2)
    engine = opener("store")
    sizes = []
    chapters = []
    for n in range(48):  # 10 days apart: no repeat rule fires
        engine.record_many(closed(f"inc-{n:03d}", T0 + timedelta(days=10 * n)))
        if n % 16 == 15:
            engine.checkpoint()
            document = engine.hooks.save_state(engine, state_of(engine))
            text = json.dumps(document)
            assert "inc-000" not in text and f"inc-{n - 4:03d}" not in text  # (in stored parts)
            sizes.append(len(json.dumps({k: v for k, v in document.items() if k != "closed"})))
            # the checkpoint names the newest two stored parts (the open part is empty), the older in chapters
            assert len(document["closed"]["parts"]) == 2 and not document["closed"]["open"]
            chapters.append(len(document["closed"]["chapters"]))
    assert len(set(sizes)) == 1  # what is not the list of parts does not grow at all
    assert chapters == [1, 3, 5]  # (16, 32, 48 closed: 4, 8, 12 parts, two a chapter)
    engine.close()
    again = opener("store")
    with pytest.raises(EventRefused) as refused:
        again.record(attrs.evolve(report("inc-003", T0 + timedelta(days=500)), id="again"))
    assert refused.value.reasons == ["incident inc-003 was already reported (事件编号已上报过)"]
    assert esc.incident(again, "inc-003").status == "closed"
    assert [i.id for i in esc.incidents(again, status="closed")][:2] == ["inc-000", "inc-001"]


def test_a_checkpoint_writes_again_only_the_incidents_changed_since_the_last_and_gives_a_fresh_dump(
        opener: Any) -> None:
    """Open incidents unchanged since the last checkpoint are written as they were then; every
    document equals the one dumping each incident afresh gives, and the one a full replay gives."""
    live = opener("store")
    when = T0
    for n in range(6):
        steps = closed(f"C{n}", when)
        joined = attrs.evolve(report(f"J{n}", when + timedelta(minutes=30)), severity=5)  # joins C{n}
        rated = SatisfactionRated(id=f"C{n}-rated", time=when + timedelta(hours=5), actor="worker1", node="u11",
                                  incident=f"C{n}", score=3)  # after closing: the closed incident changes
        waiting = attrs.evolve(report(f"W{n}", when + timedelta(hours=6)), place=f"w{n}")  # left open: escalated
        for batch in ([steps[0], joined], steps[1:3], steps[3:], [rated, waiting]):
            live.record_many(batch)
            state = state_of(live)
            document = live.hooks.save_state(live, state)
            assert set(state.dumped) <= set(state.incidents)  # (only open incidents are kept)
            state.dumped.clear()
            assert live.hooks.save_state(live, state) == document
            live.checkpoint()
        when += timedelta(days=1)
        live.tick(when)
        live.checkpoint()
    state = state_of(live)
    assert any(i.escalations for i in state.incidents.values())
    replayed = opener("replayed")
    replayed.record_many(live.events())
    assert json.loads(json.dumps(live.hooks.save_state(live, state))) == json.loads(
        json.dumps(replayed.hooks.save_state(replayed, state_of(replayed))))
