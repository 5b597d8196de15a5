"""The engine facade: recording, refusing, ordering, ticking, replaying."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILTIN_PLUGINS, REPO, START, small_community
from hypothesis import given, settings
from hypothesis import strategies as st
from recorder import RecorderPlugin

from gridcore import EventError, EventRefused, FixedClock, GridcoreError, StoreError
from gridcore.events import ActivityRecorded, PatrolLogged, ResidentMoved, ResidentRegistered


def activity(n: int, *, hours: float = 0, activity: str = "clean_up", actor: str = "res1", node: str = "u11") -> ActivityRecorded:
    return ActivityRecorded(
        id=f"a{n}", time=START + timedelta(hours=n), actor=actor, node=node, activity=activity, hours=hours
    )


def test_record_stores_and_notifies_plugins(open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin())
    assert engine.record(activity(1)) is True
    assert engine.store.count() == 1
    assert engine.state("recorder").seen == [("a1", False)]
    assert [e.id for e in engine.events()] == ["a1"]


def test_recording_the_same_id_twice_is_a_no_op(open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin())
    assert engine.record(activity(1)) is True
    assert engine.record(activity(1)) is False
    summary = engine.record_many([activity(1), activity(1), activity(2)])
    assert (summary.accepted, summary.duplicates) == (1, 2)
    assert engine.store.count() == 2
    assert [s for s, _ in engine.state("recorder").seen] == ["a1", "a2"]


@pytest.mark.parametrize(
    "event,reason",
    [
        (activity(1, node="nowhere"), "unknown node 'nowhere'"),
        (activity(1, actor="stranger"), "unknown actor 'stranger'"),
        (activity(1, activity="forbidden"), "activity 'forbidden' is not allowed here"),
    ],
)
def test_refused_events_change_nothing(open_engine: Any, event: ActivityRecorded, reason: str) -> None:
    engine = open_engine(RecorderPlugin())
    engine.record(activity(0))
    with pytest.raises(EventRefused) as info:
        engine.record(event)
    assert any(reason in r for r in info.value.reasons)
    assert engine.store.count() == 1
    assert engine.state("recorder").seen == [("a0", False)]


def test_malformed_documents_name_the_field(open_engine: Any) -> None:
    engine = open_engine()
    good = engine.codec.to_dict(activity(1))
    with pytest.raises(EventError, match="hours: must not be negative|hours must not be negative"):
        engine.record({**good, "hours": -2})
    summary = engine.record_many([{**good, "time": "yesterday"}, {**good, "kind": "nonsense"}])
    assert len(summary.refused) == 2
    assert "time" in summary.refused[0].reasons[0] or "time" in summary.refused[1].reasons[0]
    assert engine.store.count() == 0


def test_residents_must_be_registered_before_they_act(open_engine: Any) -> None:
    engine = open_engine()
    newcomer = activity(2, actor="newcomer")
    with pytest.raises(EventRefused, match="unknown actor"):
        engine.record(newcomer)
    engine.record(ResidentRegistered(id="r1", time=START, actor="worker1", node="u12", person="newcomer", name="新居民"))
    assert engine.record(newcomer)
    with pytest.raises(EventRefused, match="already registered"):
        engine.record(ResidentRegistered(id="r2", time=START, actor="worker1", node="u12", person="newcomer"))
    with pytest.raises(EventRefused, match="never registered"):
        engine.record(ResidentMoved(id="m1", time=START, actor="worker1", node="u21", person="ghost"))
    engine.record(ResidentMoved(id="m2", time=START + timedelta(days=1), actor="worker1", node="u21", person="newcomer"))
    assert engine.residents() == {"newcomer": "u21"}


def test_events_are_applied_in_canonical_order(open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin())
    engine.record_many([activity(3), activity(1), activity(2)])
    assert [s for s, _ in engine.state("recorder").seen] == ["a1", "a2", "a3"]
    # An event older than what was applied rebuilds the state in order.
    engine.record(activity(0))
    assert [s for s, _ in engine.state("recorder").seen] == ["a0", "a1", "a2", "a3"]


def test_reopening_replays_the_store(tmp_path: Path, open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin(), store=str(tmp_path / "s"))
    engine.record_many([activity(1), activity(2, activity="reminder")])
    engine.tick(START + timedelta(days=3))
    engine.close()
    again = open_engine(RecorderPlugin(), store=str(tmp_path / "s"))
    seen = again.state("recorder").seen
    assert seen == [("a1", True), ("a2", True), ("due:a2", True)]
    assert again.store.count() == 3
    # The community was saved in the store: reopening without it works.
    third = open_engine(RecorderPlugin(), store=str(tmp_path / "s"), community=None)
    assert third.community == small_community()


def test_tick_fires_due_events_once_at_their_due_time(open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin())
    engine.record(activity(1, activity="reminder"))
    assert engine.tick(START + timedelta(hours=12)) == []
    fired = engine.tick(START + timedelta(hours=30))
    assert [(e.id, e.time) for e in fired] == [("due:a1", START + timedelta(hours=25))]
    assert engine.tick(START + timedelta(hours=40)) == []
    assert engine.store.count() == 2


def test_due_events_fire_before_later_events_without_any_tick(open_engine: Any) -> None:
    engine = open_engine(RecorderPlugin())
    engine.record_many([activity(1, activity="reminder"), activity(40)])
    assert [s for s, _ in engine.state("recorder").seen] == ["a1", "due:a1", "a40"]


@settings(max_examples=25, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=12, unique=True),
    ticks=st.lists(st.integers(min_value=0, max_value=260), max_size=8),
    batch=st.integers(min_value=1, max_value=5),
)
def test_results_do_not_depend_on_ticks_or_batches(tmp_path_factory: Any, offsets: list[int], ticks: list[int], batch: int) -> None:
    from gridcore import Engine, get_plugin_manager

    events = [activity(n, activity="reminder" if n % 2 else "clean_up") for n in offsets]
    end = START + timedelta(hours=300)

    def run(tick_hours: list[int], size: int) -> list[tuple[str, Any]]:
        pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[RecorderPlugin()])
        store = tmp_path_factory.mktemp("s")
        with Engine.open(store=str(store), community=small_community(), clock=FixedClock(START), plugins=pm) as engine:
            timeline = sorted([(START + timedelta(hours=h), None) for h in tick_hours], key=lambda p: p[0])
            pending = sorted(events, key=lambda e: e.time)
            for i in range(0, len(pending), size):
                chunk = pending[i : i + size]
                for when, _ in [t for t in timeline if t[0] <= chunk[0].time]:
                    engine.tick(when)
                timeline = [t for t in timeline if t[0] > chunk[0].time]
                engine.record_many(chunk)
            engine.tick(end)
            return [(e.id, e.time) for e in engine.events()]

    assert run(ticks, batch) == run([], len(events))


class BrokenStore:
    """Wraps a real store and fails the n-th append, like a full disk would."""

    def __init__(self, inner: Any, fail_on: int) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.appends = 0
        self.url = inner.url

    def append(self, docs: Any, *, expected: int | None = None) -> int:
        self.appends += 1
        if self.appends == self.fail_on:
            raise OSError("No space left on device")
        return int(self.inner.append(docs, expected=expected))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_write_leaves_state_matching_the_store(tmp_path: Path, open_engine: Any) -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager

    inner = Hooks(get_plugin_manager(BUILTIN_PLUGINS)).storage_backend(str(tmp_path / "b"))
    engine = open_engine(RecorderPlugin(), store=BrokenStore(inner, fail_on=3))
    engine.record_many([activity(1), activity(2)], batch_size=1)
    with pytest.raises(StoreError, match="No space left"):
        engine.record_many([activity(3), activity(4)], batch_size=1)
    stored = [e.id for e in engine.events()]
    assert stored == ["a1", "a2"]
    assert [s for s, _ in engine.state("recorder").seen] == stored
    # The engine still works afterwards, and a retry stores what failed.
    engine.record_many([activity(3), activity(4)], batch_size=1)
    assert [e.id for e in engine.events()] == ["a1", "a2", "a3", "a4"]


def test_explain_and_report_unknown_names(open_engine: Any) -> None:
    engine = open_engine()
    with pytest.raises(GridcoreError, match="no plugin knows"):
        engine.explain("nothing:1")
    with pytest.raises(GridcoreError, match="no report named"):
        engine.report("nothing")
    with pytest.raises(GridcoreError, match="no metric named"):
        engine.metric("nothing", "yq", START, START + timedelta(days=1))


def test_patrols_record(open_engine: Any) -> None:
    engine = open_engine()
    assert engine.record(PatrolLogged(id="p1", time=START, actor="worker1", node="g1", minutes=45, visits=3))


def test_a_late_event_is_judged_by_the_state_at_its_own_time(open_engine: Any) -> None:
    from gridcore_escalation.events import IncidentAccepted, IncidentReported

    engine = open_engine(builtins=True, ruleset=REPO / "tests" / "data" / "engine" / "minimal.rules")
    engine.record(IncidentReported(id="r1", incident="i1", time=START + timedelta(days=2), actor="worker1",
                                   node="u11", category="leaking_pipe"))
    # An acceptance dated before the report came in: at its own time there was nothing to accept.
    with pytest.raises(EventRefused):
        engine.record(IncidentAccepted(id="a-early", incident="i1", time=START + timedelta(days=1),
                                       actor="worker1", node="u11"))
    assert [e.id for e in engine.events()] == ["r1"]
    # A late event that was valid at its time is accepted, and what follows is replayed after it.
    engine.record(activity(5))
    engine.record(activity(1))
    assert [e.id for e in engine.events()] == ["a1", "a5", "r1"]


def test_a_store_with_events_keeps_its_community(tmp_path: Path, open_engine: Any) -> None:
    from gridcore_app.rosterio import load_community

    store = str(tmp_path / "kept")
    engine = open_engine(store=store)
    engine.record(activity(1))
    engine.close()
    other = load_community(REPO / "tests" / "data" / "community-mini")
    with pytest.raises(GridcoreError, match="holds the events of 银泉社区|different roster"):
        open_engine(store=store, community=other)
    # Nothing was written: the store still opens with its own community.
    again = open_engine(store=store, community=None)
    assert again.community == small_community() and again.store.count() == 1



def test_recording_raises_the_full_collection_threshold_only_while_it_records(open_engine: Any) -> None:
    import gc

    from gridcore.garbage import FULL_EVERY, NO_MIDDLE

    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        engine = open_engine(RecorderPlugin())
        seen = []
        append = engine.store.append

        def watched(docs: Any, **kw: Any) -> int:
            seen.append(gc.get_threshold())
            return int(append(docs, **kw))

        engine.store.append = watched
        engine.record_many([activity(1), activity(2)])
        assert seen == [(700, NO_MIDDLE, FULL_EVERY)]  # (and no middle collections: gridcore.garbage.recording)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*saved)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0, 8, -5]), st.sampled_from(["a", "b", "c"])),
                max_size=8))
def test_events_are_taken_as_in_canonical_order_exactly_when_sorting_changes_nothing(
        picks: list[tuple[int, int, str]]) -> None:
    """``record_many`` sorts what it is given only when it is not in canonical order already (equal
    instants written with other offsets, and the same id twice, among them)."""
    from datetime import timezone

    from gridcore.events import event_order
    from gridcore.recording import _in_canonical_order

    decoded: list[tuple[Any, str, None]] = []
    for n, (minutes, hours, ident) in enumerate(picks):
        zone = timezone(timedelta(hours=hours))
        when = (START + timedelta(minutes=minutes)).astimezone(zone)
        decoded.append((PatrolLogged(id=ident, time=when, actor="m", node="g", minutes=30), str(n), None))
    ordered = sorted(decoded, key=lambda item: event_order(item[0]))
    assert _in_canonical_order(decoded) == ([item[1] for item in ordered] == [item[1] for item in decoded])


@pytest.mark.parametrize("given", ["list", "short list", "generator", "labels"])
def test_refusals_name_where_each_item_came_from(open_engine: Any, given: str) -> None:
    """``record_many``'s ``sources`` label each item's refusal (malformed, refused, or a conflicting duplicate),
    whatever order the items are judged in, from a sequence read only for the items refused (``gridcore ingest``'s
    ``jsonl.Labels``) or any iterable, read along with the items; an item without a source has none ("")."""
    from gridcore_app.jsonl import Labels

    engine = open_engine(RecorderPlugin())
    engine.record(activity(1))
    items = [activity(5), activity(4, node="nowhere"), {"kind": "activity_recorded", "id": "m"},
             ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="clean_up", hours=2),
             activity(3, actor="stranger")]
    names = [f"f:{n}" for n in range(10, 15)]
    sources = {"list": names, "short list": names[:3], "generator": (name for name in names),
               "labels": Labels("f", list(range(10, 15)))}[given]
    summary = engine.record_many(items, sources=sources)
    found = {refusal.event_id: refusal.source for refusal in summary.refused}
    expected = {"a4": "f:11", "m": "f:12", "a1": "f:13", "a3": "f:14"}
    if given == "short list":
        expected = {**expected, "a1": "", "a3": ""}
    assert found == expected
    assert summary.accepted == 1 and [e.id for e in engine.events()] == ["a1", "a5"]
