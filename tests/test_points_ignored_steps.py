"""Points pay for incident work as time order does, whatever order the steps arrived in.

The escalation plugin ignores a stored step that a late (earlier-dated) event
makes refusable in time order (``step ignored``), and the steps of a report a
late, earlier report made a repeat report.  The points plugin pays a case's
reporter and resolver when it is closed, from the steps it saw: it must not
see an ignored one either.  The engine hands it none: a stored event a plugin
judges refused in time order (``gridcore_validate_stored``) reaches every plugin
through ``gridcore_on_event_ignored``, not ``gridcore_on_event``.  So the
accounts after an ingest in arrival order equal those after one in time order.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_escalation_late import DATA, RULES, T0, act, report

import gridcore_escalation as esc
import gridcore_points as points
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import Event
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

#: ladder-unit.rules with incident points: the reporter of a verified case, its resolver
POINTS = "\npoints:\n  confirmed report: 10 points\n  resolved well: 3 points\n"
MEMBERS = ("worker1", "worker2", "unitlead", "leader1")


def _engine(folder: Path, name: str, now: datetime) -> Engine:
    rules = folder / RULES.name
    if not rules.exists():
        rules.write_text(RULES.read_text(encoding="utf-8") + POINTS, encoding="utf-8")
    return Engine.open(store=str(folder / name), community=DATA / "community", ruleset=rules,
                       effective=T0 - timedelta(days=30), clock=FixedClock(now),
                       plugins=get_plugin_manager(("assessment",)))


def _accounts(engine: Engine) -> dict[str, list[tuple[str, str, Any]]]:
    """Each member's entries (id, kind, amount) and balance."""
    return {m: [*((e.id, e.kind, e.amount) for e in points.entries(engine, m)), ("balance", "", points.balance(engine, m))]
            for m in MEMBERS}


def _ingest(folder: Path, name: str, batches: Iterable[list[Event]], now: datetime) -> tuple[Any, set[str]]:
    """The accounts after recording ``batches`` one after the other, the same after a full replay and after
    opening again; and the ids refused."""
    refused: set[str] = set()
    with _engine(folder, name, now) as engine:
        for batch in batches:
            refused |= {r.event_id for r in engine.record_many(batch).refused}
        engine.tick(now)
        accounts = _accounts(engine)
        engine.rebuild()
        assert _accounts(engine) == accounts
    with _engine(folder, name, now) as again:
        assert _accounts(again) == accounts
    return accounts, refused


def test_a_resolution_ignored_after_a_late_one_is_not_paid(tmp_path: Path) -> None:
    """worker1 accepts I1 at 10:00 and resolves it at 11:00; leader1 verifies and closes it.  unitlead's
    resolution at 10:30, typed in afterwards, is the one time order keeps (worker1's is refused: already
    resolved): unitlead is paid as the resolver, worker1 only as the reporter, as in time order."""
    steps = [report("I1", T0),
             act(IncidentAccepted, "I1", T0 + timedelta(hours=1)),
             act(IncidentResolved, "I1", T0 + timedelta(hours=2)),
             act(IncidentVerified, "I1", T0 + timedelta(hours=2, minutes=30), "leader1", satisfaction=5),
             act(IncidentClosed, "I1", T0 + timedelta(hours=3), "leader1"),
             act(IncidentResolved, "I1", T0 + timedelta(hours=1, minutes=30), "unitlead")]
    now = T0 + timedelta(days=1)
    arrival, refused = _ingest(tmp_path, "arrival", [[e] for e in steps], now)
    assert refused == set()
    in_order, refused = _ingest(tmp_path, "in-order", [sorted(steps, key=lambda e: e.time)], now)
    assert refused == {steps[2].id}
    assert arrival == in_order
    assert [(i, a) for i, _, a in arrival["unitlead"]] == [("I1-incident_closed-031200:resolver", 3), ("balance", 3)]
    assert [(i, a) for i, _, a in arrival["worker1"]] == [("I1-incident_closed-031200:reporter", 10),
                                                          ("balance", 10)]
    with _engine(tmp_path, "arrival", now) as engine:
        assert [e.what for e in esc.timeline(engine, "I1")].count("step ignored") == 1


def test_a_report_made_a_repeat_report_late_pays_no_one_for_its_steps(tmp_path: Path) -> None:
    """I2, reported at 10:00 by worker1, is accepted, resolved, verified and closed; a report at the same
    place dated 09:00 (I1, by worker2) is typed in afterwards: in time order I2 joins I1 as a repeat report
    and its steps are refused, so no one is paid for it, as in time order."""
    steps = [report("I2", T0 + timedelta(hours=1)),
             act(IncidentAccepted, "I2", T0 + timedelta(hours=1, minutes=10)),
             act(IncidentResolved, "I2", T0 + timedelta(hours=1, minutes=20)),
             act(IncidentVerified, "I2", T0 + timedelta(hours=1, minutes=30), "leader1", satisfaction=5),
             act(IncidentClosed, "I2", T0 + timedelta(hours=1, minutes=40), "leader1"),
             IncidentReported(id="I1-report", time=T0, actor="worker2", node="u11", incident="I1",
                              category="leaking_pipe")]
    now = T0 + timedelta(days=1)
    arrival, _ = _ingest(tmp_path, "arrival", [[e] for e in steps], now)
    in_order, refused = _ingest(tmp_path, "in-order", [sorted(steps, key=lambda e: e.time)], now)
    assert refused == {e.id for e in steps[1:5]}
    assert arrival == in_order
    assert all(rows == [("balance", "", 0)] for rows in arrival.values()), arrival


#: The steps that pay: by two people who may each take the case on and resolve it, its verification and closing
PAYING: tuple[tuple[type, str, dict[str, Any]], ...] = (
    (IncidentAccepted, "worker1", {}),
    (IncidentAccepted, "unitlead", {}),
    (IncidentResolved, "worker1", {}),
    (IncidentResolved, "unitlead", {}),
    (IncidentVerified, "leader1", {"satisfaction": 5}),
    (IncidentClosed, "leader1", {}),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.integers(1, 5 * 60), min_size=len(PAYING), max_size=len(PAYING), unique=True),
    st.sets(st.integers(0, len(PAYING) - 1), min_size=3),
    st.booleans(), st.booleans(),
    st.one_of(st.none(), st.integers(1, 150)),
    st.data(),
)
def test_points_after_steps_in_any_order_equal_those_in_time_order(
    minutes: list[int], chosen: set[int], accepts_swapped: bool, resolves_swapped: bool, earlier: int | None,
    data: st.DataObject,
) -> None:
    """The paying steps of case I1 (two acceptances and resolutions, in either order, a verification and a
    closing; some left out), some typed in late in any order and batches, and perhaps a report at the same
    place dated before I1's typed in last (I1 is then a repeat report): the points accounts, live, after a
    full replay and after opening again, equal those of the stored events recorded in time order
    (hypothesis)."""
    order = [1, 0] if accepts_swapped else [0, 1]
    order += [3, 2] if resolves_swapped else [2, 3]
    order += [4, 5]
    times = dict(zip(order, sorted(minutes)))
    steps = []
    for n in sorted(chosen):
        cls, actor, kw = PAYING[n]
        steps.append(act(cls, "I1", T0 + timedelta(minutes=times[n]), actor, **kw))
    steps.sort(key=lambda e: e.time)
    late = data.draw(st.sets(st.sampled_from([e.id for e in steps])))
    arrival = [report("I1", T0), *(e for e in steps if e.id not in late),
               *data.draw(st.permutations([e for e in steps if e.id in late]))]
    if earlier is not None:
        arrival.append(IncidentReported(id="I0-report", time=T0 - timedelta(minutes=earlier), actor="worker2",
                                        node="u11", incident="I0", category="leaking_pipe"))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=len(arrival) - 1)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)])]
    now = max(e.time for e in arrival) + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        accounts, refused = _ingest(folder, "late", batches, now)
        kept = [e for e in arrival if e.id not in refused]
        in_order, _ = _ingest(folder, "in-order", [sorted(kept, key=lambda e: (e.time, e.id))], now)
        assert accounts == in_order
