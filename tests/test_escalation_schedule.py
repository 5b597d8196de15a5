"""What the escalation state keeps between events is what it would work out afresh (hypothesis).

The state keeps each open case's deadlines and works them out again only when
what they are worked out from changes (``timers.clock_inputs``), counts working
time from calendars whose days it keeps (``worktime``), and on a tick visits
only the heap entries due by then.  Under random steps (acceptance, assignment,
pauses, extensions, escalation, resolution, reopening) on working-time and
handler limits, after every step: the kept deadlines equal ``timers.deadlines``
worked out afresh, what falls due equals ``timers.next_due`` afresh, and a tick
finds exactly the entries a scan of the whole heap finds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopkit import T0, TZ, at, loop_event, open_loop

from gridcore import Engine, EventRefused
from gridcore_escalation import timers, worktime
from gridcore_escalation.events import (
    ExtensionApproved,
    ExtensionRequested,
    IncidentAccepted,
    IncidentAssigned,
    IncidentClosed,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentVerified,
)
from gridcore_escalation.policy import Calendar, Span

RULES = """\
ruleset schedule
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 working hours, resolve within 1 working day, then go to grid
  limit grid: accept within 4 working hours, resolve within 2 working days, then go to street
  limit community: accept within 1 hour, resolve within 3 hours
  handler limit unit_leader: resolve within 3 working hours, then pass to fulltime_gridworker
  extension: at most 2 times, up to 2 days each, approved by grid_leader
  reopen: when satisfaction <= 2
  calendar: working hours 08:30-17:30, monday to friday
  holiday spring: 2025-03-05 to 2025-03-06
"""

#: the rules again with a category's own limits: without a condition (a state keeps the limits a
#: category is given at a level, ``timers.Known``), and with one (they are asked for every time)
VARIANTS = {
    "plain": RULES,
    "category": RULES + "  limit for fire_hazard: at unit accept within 1 working hour, resolve within 5 working hours\n",
    "condition": RULES + "  limit for fire_hazard: when incident.severity >= 3 resolve within 5 working hours\n",
}

#: runs of steps a script draws from, each (event class, actor, extra fields), half an hour apart
CHAINS: list[list[tuple[type, str, dict[str, Any]]]] = [
    [(IncidentAccepted, "unitlead", {}), (ExtensionRequested, "unitlead", {"days": 1, "reason": "等待配件"}),
     (ExtensionApproved, "leader1", {})],
    [(IncidentAssigned, "leader1", {"handler": "unitlead"}), (IncidentAccepted, "unitlead", {})],
    [(IncidentAssigned, "leader1", {"handler": "worker1"}), (IncidentHandlingStarted, "worker1", {})],
    [(IncidentAccepted, "worker1", {}), (IncidentHandlingStarted, "worker1", {})],
    [(IncidentPaused, "unitlead", {"reason": "等待配件"})],
    [(IncidentResumed, "unitlead", {})],
    [(ExtensionRequested, "unitlead", {"hours": 3, "reason": "等待配件"}), (ExtensionApproved, "leader1", {})],
    [(IncidentResolved, "unitlead", {}), (IncidentVerified, "leader1", {"satisfaction": 1})],
    [(IncidentResolved, "unitlead", {}), (IncidentVerified, "leader1", {"satisfaction": 5}),
     (IncidentClosed, "leader1", {})],
]

script = st.lists(
    st.tuples(st.integers(1, 16), st.sampled_from(["report", "tick", *range(len(CHAINS))]), st.integers(0, 1)),
    min_size=1,
    max_size=20,
)


def due_by_scan(state: Any, now: datetime) -> set[str]:
    """What a scan of the whole heap finds due by ``now`` (the walk's reference)."""
    return {state.due[ident].event.id for when, ident, version in state._heap
            if when <= now and state.current((when, ident, version))}


def check(engine: Engine, now: datetime) -> None:
    state = engine.state("escalation")
    tz = engine.community.tz
    for incident in state.incidents.values():
        assert state.running(incident) == timers.deadlines(incident, tz), incident.id
        assert state.due[incident.id] == timers.next_due(engine.community, incident, tz), incident.id
    joins = {e.id for e in state.joins_due.values() if e.time <= now}
    assert {e.id for e in state.gridcore_on_tick(engine, now)} == due_by_scan(state, now) | joins


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@given(script)
def test_kept_deadlines_and_what_falls_due_equal_what_is_worked_out_afresh(
        tmp_path: Path, variant: str, steps: list[tuple[int, Any, int]]) -> None:
    engine = open_loop(tmp_path, VARIANTS[variant], name=f"s{len(list(tmp_path.iterdir()))}")
    try:
        hour = 0.0
        reported = 1
        engine.record(IncidentReported(id="I0-r", time=T0, actor="worker1", node="u11", incident="I0",
                                       category="leaking_pipe"))
        for gap, step, which in steps:
            hour += gap / 2
            incident = f"I{min(which, reported - 1)}"
            if step == "tick":
                engine.tick(at(hour))
            else:
                if step == "report":
                    incident = f"I{reported}"
                    reported += 1
                    # (every other one a fire hazard, of severities 1 to 4: the variants' own limits)
                    event: Any = IncidentReported(id=f"{incident}-r", time=at(hour), actor="worker1", node="u11",
                                                  incident=incident, severity=1 + reported % 4,
                                                  category="fire_hazard" if reported % 2 else "leaking_pipe")
                    events = [event]
                else:
                    events = [loop_event(cls, hour + n / 2, actor, incident, actor_in_id=True, **extra)
                              for n, (cls, actor, extra) in enumerate(CHAINS[step])]
                    hour += (len(events) - 1) / 2
                for event in events:
                    try:
                        engine.record(event)
                    except EventRefused:
                        pass
                    check(engine, event.time)
            check(engine, at(hour))
        engine.tick(at(hour + 200))
        check(engine, at(hour + 200))
    finally:
        engine.close()


def test_a_calendars_working_days_are_its_own() -> None:
    """Two calendars alike but for a holiday count differently, however often each is asked."""
    plain = Calendar()
    holiday = Calendar(holidays=((T0.date(), T0.date()),))
    tz = TZ
    for _ in range(2):
        assert worktime.elapsed(True, T0, at(8), plain, tz) == timedelta(hours=8)
        assert worktime.elapsed(True, T0, at(8), holiday, tz) == timedelta(0)
        # Monday 09:00 + 9 working hours: 8.5 on Monday, 0.5 from Tuesday 08:30; the holiday's: Tuesday 17:30
        nine = Span(timedelta(hours=9), working=True)
        assert worktime.add(nine, T0, timedelta(0), plain, tz) == at(24)
        assert worktime.add(nine, T0, timedelta(0), holiday, tz) == at(32.5)


def test_a_deadline_is_reused_only_when_everything_it_was_worked_out_from_is_the_same(tmp_path: Path) -> None:
    """``timers.deadlines(kept=...)`` takes an earlier deadline as it is only when its clock, limit, span,
    start, closed stretches, calendar, zone, rule and level limit are the same: an acceptance leaves the
    resolve deadline (the same object), a restarted clock, a pause and resume, other stretches before the
    running one or an extension do not."""
    engine = open_loop(tmp_path, RULES)
    try:
        engine.record(IncidentReported(id="I0-r", time=T0, actor="worker1", node="u11", incident="I0",
                                       category="leaking_pipe"))
        incident = engine.state("escalation").incidents["I0"]
        tz = engine.community.tz
        made: list[timers.Worked] = []
        first = timers.deadlines(incident, tz, (), made)
        assert [d.limit for d in first] == ["accept", "resolve"]

        def again() -> list[timers.Deadline]:
            nonlocal made
            kept, made = made, []
            found = timers.deadlines(incident, tz, kept, made)
            assert found == timers.deadlines(incident, tz)  # the same as worked out afresh
            return found

        engine.record(loop_event(IncidentAccepted, 0.5, "worker1", "I0"))  # (no handler limit of his own)
        accepted = again()
        assert [d.limit for d in accepted] == ["resolve"] and accepted[0] is first[1]
        incident.restart_clock(at(1))  # the same level, its clock from 10:00: counted again
        restarted = again()
        assert restarted[0].time == first[1].time + timedelta(hours=1)
        incident.pause(at(2))
        incident.resume(at(4))  # two hours stood still: counted again
        resumed = again()
        assert resumed[0].time == restarted[0].time + timedelta(hours=2)
        incident.segments = [[at(4), None]]  # running from 13:00 as before, with no stretch before it
        alone = again()
        assert alone[0].time == resumed[0].time + timedelta(hours=1)
        incident.extra_hours = 3  # an extension: another span
        assert again()[0].time == alone[0].time + timedelta(hours=3)
    finally:
        engine.close()
