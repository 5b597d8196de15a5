"""A store written before the time-order fact was kept gets it once: ``gridcore time-order --settle``.

Without the fact (an older gridcore's store) every stored step is judged again
at each replay, for good.  ``--settle`` replays the whole log once, judging
every stored event again, and marks the events stored late (as the engine
would have marked them) and the earliest stored event that replay ignored;
then the store keeps the fact, replays judge again only from the earliest
mark, and the state they give is the one the old store gave.  On TinyDB,
SQLite and PostgreSQL (``GRIDCORE_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from storefixtures import BACKENDS, StoreFactory, open_store
from test_escalation_late import T0, act, hours, open_engine, report

import gridcore_escalation as esc
from gridcore import Engine
from gridcore.events import Event
from gridcore_app.cli import main_group
from gridcore_escalation.events import IncidentAccepted, IncidentResolved


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


def _state(engine: Engine) -> list[tuple[Any, ...]]:
    """Where the cases stand, and their ignored steps."""
    return [(v.id, v.status, v.current_node, v.accepted_by,
             [e.event for e in esc.timeline(engine, v.id) if e.what.endswith(" ignored")])
            for v in esc.incidents(engine)]


def _old_store(stores: StoreFactory, events: list[Event], *, appended: bool = False) -> tuple[str, Any]:
    """A store holding ``events`` as an older gridcore left it (no time-order fact), and the fact the same
    events recorded by this gridcore give (``appended``: the events go straight into the log, in this order,
    as a gridcore that judged them otherwise stored them)."""
    kept_url, old_url = stores.url(), stores.url()
    engine = open_engine(kept_url)
    if appended:
        engine.store.append([engine.codec.to_dict(event) for event in events], expected=engine.position)
    else:
        for event in events:
            engine.record(event)
    fact = engine.time_order
    stored = [doc for _, doc in engine.store.events_after(0)]
    engine.close()
    old, kept = open_store(old_url), open_store(kept_url)
    old.append(stored)
    for collection in ("meta", "rulesets"):
        for key, doc in kept.items(collection):
            if (collection, key) != ("meta", "time order"):
                old.put(collection, key, doc)
    old.close()
    kept.close()
    return old_url, fact


def _run(*args: str) -> str:
    done = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


def test_settle_marks_the_events_stored_late_and_replays_give_the_same_state(stores: StoreFactory) -> None:
    events = [report("I2", T0, node="u21"), report("I0", hours(0.5), node="u12"), report("I1", hours(1)),
              act(IncidentAccepted, "I1", hours(3)), act(IncidentResolved, "I1", hours(4)),
              act(IncidentAccepted, "I1", hours(2), actor="unitlead"),  # (typed in late)
              report("I3", hours(5), node="u21")]
    url, fact = _old_store(stores, events)
    assert fact.late_from == (events[5].time, events[5].id)
    with open_engine(url) as old:
        assert not old.time_order.kept and all(old.late_before(e) for e in events)
        before = _state(old)
    assert events[3].id in next(case[4] for case in before if case[0] == "I1")  # (worker1's acceptance, refused in time order: ignored)
    assert _run("time-order", "--store", url).startswith("not known: the store was written before gridcore kept it")
    said = _run("time-order", "--settle", "--store", url)
    assert said == (f"settled (已确定): recorded late from event {events[5].id} at {events[5].time.isoformat()} in "
                    "time order: replays judge stored events again from there (自 "
                    f"{events[5].time.isoformat()} 的事件 {events[5].id}起有补录：重放时从此处起重新评判已存事件)\n")
    with open_engine(url) as settled:
        assert settled.time_order.kept and settled.time_order.late_from == fact.late_from
        assert [settled.late_before(e) for e in events] == [False, False, False, True, True, True, True]
        assert _state(settled) == before
        settled.rebuild()
        assert _state(settled) == before
    # once: settled again, nothing changes
    assert _run("time-order", "--settle", "--store", url) == said.removeprefix("settled (已确定): ")


def test_settle_marks_the_first_step_a_full_replay_ignores(stores: StoreFactory) -> None:
    """A log stored in time order by a gridcore that accepted what this one refuses (here a second acceptance,
    appended as it was): no event came late, but a full replay ignores it; the mark starts there, so replays
    still ignore it (marked nowhere, it would be applied)."""
    events = [report("I1", T0), act(IncidentAccepted, "I1", hours(1)),
              act(IncidentAccepted, "I1", hours(2), actor="unitlead"), report("I2", hours(3), node="u21")]
    url, _ = _old_store(stores, events, appended=True)
    with open_engine(url) as old:
        before = _state(old)
    assert [case[4] for case in before if case[0] == "I1"] == [[events[2].id]]
    _run("time-order", "--settle", "--store", url)
    with open_engine(url) as settled:
        assert settled.time_order.kept and settled.time_order.late_from == (events[2].time, events[2].id)
        assert [settled.late_before(e) for e in events] == [False, False, True, True]
        assert _state(settled) == before


def test_a_store_in_time_order_settles_in_time_order(stores: StoreFactory) -> None:
    events = [report("I1", T0), act(IncidentAccepted, "I1", hours(1)), act(IncidentResolved, "I1", hours(2))]
    url, fact = _old_store(stores, events)
    assert fact.in_time_order
    assert _run("time-order", "--settle", "--store", url) == (
        "settled (已确定): every event was recorded in time order (所有事件均按时间顺序录入)\n")
    with open_engine(url) as settled:
        assert settled.time_order.in_time_order and not any(settled.late_before(e) for e in events)
    assert _run("time-order", "--store", url) == "every event was recorded in time order (所有事件均按时间顺序录入)\n"
