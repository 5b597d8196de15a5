"""The store keeps whether its log was recorded in time order (``Engine.time_order``, ``gridcore.timeorder``).

A replayed step need be judged again (escalation: ``step ignored``) only where
an event recorded late comes before it in time order; a log recorded in time
order is replayed without judging any again.  The fact is kept by the store,
survives reopening, is read by other processes, and a store written before it
was kept is taken as one where any event may have come late.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storefixtures import StoreFactory, open_store, stores_fixture
from test_escalation_late import DATA, RULES, T0, act, hours, open_engine, report

import gridcore_escalation as esc
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import Event
from gridcore_escalation.events import IncidentAccepted, IncidentResolved

stores = stores_fixture()


def _ignored(engine: Engine, incident: str) -> list[str]:
    return [e.event for e in esc.timeline(engine, incident) if e.what == "step ignored"]


def test_the_store_keeps_whether_and_from_where_events_came_late(stores: StoreFactory) -> None:
    url = stores.url()
    engine = open_engine(url)
    assert not engine.time_order.kept  # (nothing stored yet)
    steps: list[Event] = [report("I1", T0), act(IncidentAccepted, "I1", hours(1)),
                          act(IncidentResolved, "I1", hours(3)), report("I2", hours(4))]
    for event in steps:
        engine.record(event)
    order = engine.time_order
    assert order.kept and order.in_time_order and order.late_from is None and order.in_order_through is None
    assert not any(engine.late_before(event) for event in steps)
    reader = Engine.open(store=url, read_only=True, plugins=get_plugin_manager(("points", "assessment")),
                         clock=FixedClock(T0))
    assert reader.time_order == order
    engine.close()
    engine = open_engine(url)
    assert engine.time_order == order  # kept by the store, not the process

    # typed in late: dated before the stored resolution, recorded after it
    position = engine.position
    late = act(IncidentAccepted, "I1", hours(2), actor="unitlead")
    summary = engine.record_many([late])
    assert summary.refused  # (already accepted: a late event refused still marks, on the safe side)
    order = engine.time_order
    assert not order.in_time_order and order.late_from == (late.time, late.id)
    assert order.in_order_through == position
    assert [engine.late_before(event) for event in steps] == [False, False, True, True]
    # a later event typed late after it keeps the earliest; an earlier one moves it
    engine.record_many([act(IncidentAccepted, "I2", hours(6))])
    engine.record_many([act(IncidentAccepted, "I2", hours(5), actor="unitlead")])
    assert engine.time_order == order
    earlier = report("I0", T0 - timedelta(minutes=30))
    engine.record(earlier)
    assert engine.time_order.late_from == (earlier.time, earlier.id)
    assert engine.time_order.in_order_through == position
    assert all(engine.late_before(event) for event in steps)
    # another process sees it (refresh reads what was appended, and the fact after it); reopening keeps it
    reader.refresh()
    assert reader.time_order == engine.time_order
    reader.close()
    kept = engine.time_order
    engine.close()
    engine = open_engine(url)
    assert engine.time_order == kept
    engine.close()


def test_a_store_written_before_the_fact_was_kept_is_judged_again_throughout(stores: StoreFactory) -> None:
    """Events a store holds without the fact (an older gridcore's) may have come late anywhere: every stored
    step is judged again, so one time order refuses is ignored as before."""
    kept_url, old_url = stores.url(), stores.url()
    events = [report("I1", T0), act(IncidentAccepted, "I1", hours(2)),
              act(IncidentAccepted, "I1", hours(1), actor="unitlead")]  # (the last typed in late)
    engine = open_engine(kept_url)
    for event in events:
        engine.record(event)
    assert _ignored(engine, "I1") == [events[1].id]
    engine.rebuild()
    assert _ignored(engine, "I1") == [events[1].id]
    # the same log, appended as a store of an older gridcore holds it: no fact (its roster and rulesets)
    old, kept = open_store(old_url), open_store(kept_url)
    old.append([engine.codec.to_dict(event) for event in events])
    for collection in ("meta", "rulesets"):
        for key, doc in kept.items(collection):
            if (collection, key) != ("meta", "time order"):
                old.put(collection, key, doc)
    old.close()
    kept.close()
    engine.close()
    engine = open_engine(old_url)
    assert not engine.time_order.kept and engine.time_order.since is not None
    assert all(engine.late_before(event) for event in events)
    assert _ignored(engine, "I1") == [events[1].id]
    # more events recorded there in time order do not make it known
    engine.record(act(IncidentResolved, "I1", hours(4), actor="unitlead"))
    assert not engine.time_order.kept
    engine.close()


def test_a_ruleset_put_in_force_back_dated_counts_as_late_from_its_start(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    engine = open_engine(store)
    engine.record(report("I1", T0))
    engine.record(act(IncidentAccepted, "I1", hours(1)))
    assert engine.time_order.in_time_order
    start = hours(-1)
    engine.use_ruleset(DATA / "ladder-unit.rules", effective=start)
    assert engine.time_order.late_from == (start, "")
    # one put in force after the latest event is not
    other = open_engine(str(tmp_path / "other"))
    other.record(report("I1", T0))
    other.use_ruleset(RULES, effective=hours(2))
    assert other.time_order.in_time_order
    engine.close()
    other.close()
