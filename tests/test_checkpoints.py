"""Checkpoints of plugin state: the hook pair, the engine's checkpoints, and their equivalence to a replay."""

from __future__ import annotations

import inspect
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CST, small_community
from recorder import RecorderPlugin
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, FixedClock, PluginError, get_plugin_manager, hookimpl
from gridcore.checkpointing import CHECKPOINTS
from gridcore.events import ActivityRecorded, Event


def test_the_state_hooks_are_gridcore_hooks() -> None:
    """gridcore_save_state / gridcore_restore_state are accepted; a misspelling is named."""

    class Saver:
        @hookimpl
        def gridcore_save_state(self, engine: Any) -> dict[str, Any]:
            return {}

        @hookimpl
        def gridcore_restore_state(self, engine: Any, document: dict[str, Any]) -> None:
            return None

    pm = get_plugin_manager(load_entry_points=False, extra=[Saver()])
    assert pm.hook.gridcore_save_state.get_hookimpls()
    assert pm.hook.gridcore_restore_state.get_hookimpls()

    class Typo:
        @hookimpl
        def gridcore_save_sate(self, engine: Any) -> dict[str, Any]:
            return {}

    with pytest.raises(PluginError, match=r"did you mean gridcore_save_state\?"):
        get_plugin_manager(load_entry_points=False, extra=[Typo()])


# ---------------------------------------------------------------- the engine's checkpoints

START = datetime(2025, 3, 3, 8, 0, tzinfo=CST)


class Tally:
    """A saving plugin's state: activities per actor, and every event id it was given since it was made."""

    STATE_VERSION = 1

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.given: list[str] = []

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        self.given.append(event.id)
        if isinstance(event, ActivityRecorded):
            self.counts[event.actor] = self.counts.get(event.actor, 0) + 1

    @hookimpl
    def gridcore_save_state(self, engine: Any) -> dict[str, Any]:
        return {"counts": dict(sorted(self.counts.items()))}

    @hookimpl
    def gridcore_restore_state(self, engine: Any, document: dict[str, Any]) -> None:
        self.counts = {str(k): int(v) for k, v in document["counts"].items()}


class TallyPlugin:
    version = 1

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        state = Tally()
        state.STATE_VERSION = TallyPlugin.version  # type: ignore[misc]
        engine.attach("tally", state)


def activity(n: int, *, hours: float | None = None, kind: str = "mediation") -> ActivityRecorded:
    when = START + timedelta(hours=n if hours is None else hours)
    return ActivityRecorded(id=f"a{n:04d}", time=when, actor="res1" if n % 3 else "worker1", node="u11",
                            activity="reminder" if n % 5 == 0 else kind)


def open_toy(url: Any, **kw: Any) -> Engine:
    pm = get_plugin_manager(load_entry_points=False, extra=[TallyPlugin(), RecorderPlugin()])
    kw.setdefault("clock", FixedClock(START + timedelta(days=400)))
    return Engine.open(store=url, plugins=pm, **kw)


stores = stores_fixture(("tinydb", "sqlite"))


def test_opening_restores_the_checkpoint_and_replays_only_the_tail(stores: StoreFactory) -> None:
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 41)])
        assert engine.store.get(CHECKPOINTS, "index") is not None
        stored = engine.position
    with open_toy(url) as again:
        tally = again.state("tally")
        assert tally.given == []  # restored, not replayed
        assert again.position == stored
        recorder = again.state("recorder")  # no hooks: it sees every event again, as before
        assert len(recorder.seen) == stored
        again.checkpoint_min = 10_000
        again.record_many([activity(n) for n in range(41, 46)])
        counts = dict(tally.counts)
    with open_toy(url) as third:
        given = third.state("tally").given  # the tail only: five activities and a reminder they made due
        assert [i for i in given if i.startswith("a")] == [f"a{n:04d}" for n in range(41, 46)]
        assert len(given) == third.position - stored
        assert third.state("tally").counts == counts
        third.rebuild()  # from the start: the same state
        assert third.state("tally").counts == counts


def test_a_checkpoint_of_other_plugins_or_rulesets_is_ignored(stores: StoreFactory) -> None:
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
    TallyPlugin.version = 2
    try:
        with open_toy(url) as again:
            assert len(again.state("tally").given) == 10  # replayed: the state's version changed
    finally:
        TallyPlugin.version = 1
    plain = get_plugin_manager(load_entry_points=False, extra=[TallyPlugin()])
    with Engine.open(store=url, plugins=plain, clock=FixedClock(START)) as fewer:
        assert len(fewer.state("tally").given) == 10  # another set of plugins



def test_a_checkpoint_of_another_version_of_a_plugin_is_ignored(stores: StoreFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The fit holds each plugin's version (its module's ``__version__``, as well as its origin and
    ``STATE_VERSION``): an upgraded plugin replays rather than read what its older self saved."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
    with open_toy(url, read_only=True) as same:
        assert same.state("tally").given == []  # it fits: restored
    monkeypatch.setattr(sys.modules[TallyPlugin.__module__], "__version__", "2.0", raising=False)
    with open_toy(url, read_only=True) as upgraded:
        assert len(upgraded.state("tally").given) == upgraded.position == 10  # replayed


def test_a_checkpoint_taken_under_other_rulesets_or_effective_dates_is_ignored(stores: StoreFactory,
                                                                               tmp_path: Path) -> None:
    """A checkpoint's fit holds each ruleset's effective time and fingerprint (and node): after a writer
    puts a ruleset in force, or the same one from another time, and dies before its own checkpoint, the
    older checkpoints no longer fit and a reader replays from the start (issue #13)."""
    toy = tmp_path / "toy.rules"
    toy.write_text('ruleset "toy"\nlevels: community > grid > unit\n', encoding="utf-8")
    other = tmp_path / "other.rules"
    other.write_text('ruleset "other"\nlevels: community > grid > unit\n', encoding="utf-8")
    url = stores.url()
    with open_toy(url, community=small_community(), ruleset=toy, effective=START) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
        counts = dict(engine.state("tally").counts)
    with open_toy(url, read_only=True) as reader:
        assert reader.state("tally").given == []  # it fits: restored, not replayed
    changes = [(toy, START + timedelta(days=30), None),  # the same ruleset, from another time too
               (other, START + timedelta(days=60), None),  # another ruleset
               (other, START + timedelta(days=90), "g1"),  # another for one grid's subtree
               (toy, START - timedelta(days=1), None)]  # back-dated: the writer replays, then dies
    for path, effective, node in changes:
        with open_toy(url) as writer:
            writer.checkpoint = lambda: False  # type: ignore[method-assign]
            writer.use_ruleset(path, effective=effective, node=node)
        with open_toy(url, read_only=True) as reader:
            assert len(reader.state("tally").given) == reader.position  # replayed from the start
            assert reader.state("tally").counts == counts
        with open_toy(url) as writer:
            assert writer.checkpoint()  # one under the rulesets now in force
        with open_toy(url, read_only=True) as reader:
            assert reader.state("tally").given == []

def test_a_late_event_stored_after_a_checkpoint_makes_it_unusable(stores: StoreFactory) -> None:
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 21)])
        before = engine.position
    with open_toy(url) as writer:
        # a writer that dies before its checkpoint (one that lives takes one at once after a late
        # event: test_points_replay.py): the old one stays the newest
        writer.checkpoint = lambda: False  # type: ignore[method-assign]
        writer.record(activity(99, hours=1.5))  # earlier than most of the stored events
        assert writer.position > before
        counts = dict(writer.state("tally").counts)
    with open_toy(url) as reader:
        assert reader.state("tally").counts == counts
        assert len(reader.state("tally").given) == reader.position  # replayed from the start


def test_events_stored_without_a_checkpoint_are_the_tail(stores: StoreFactory) -> None:
    """A crash between the event write and the checkpoint write: the older checkpoint and a longer tail."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 21)])
        codec = engine.codec
        # what a writer killed after appending, before its checkpoint, leaves behind
        engine.store.append([codec.to_dict(activity(n)) for n in range(21, 31)], expected=engine.position)
    with open_toy(url) as reader:
        assert [i for i in reader.state("tally").given if i.startswith("a")] == [f"a{n:04d}" for n in range(21, 31)]
        expected = open_toy(stores.url(), community=small_community())
        expected.record_many([activity(n) for n in range(1, 31)])
        assert reader.state("tally").counts == expected.state("tally").counts
        assert reader.state("recorder").pending == expected.state("recorder").pending
        expected.close()


def test_a_late_event_is_judged_from_the_nearest_checkpoint_before_it(stores: StoreFactory) -> None:
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = engine.checkpoint_every = 5
        engine.checkpoint_share = 1
        engine.record_many([activity(n) for n in range(1, 41)], batch_size=5)
        tally = engine.state("tally")
        engine.record(activity(99, hours=30.5))  # between a0030 and a0031
        given = engine.state("tally").given
        assert tally is not engine.state("tally")  # rewound: a fresh state, restored
        # restored from a checkpoint taken after a0025, not replayed from a0001
        assert "a0001" not in given and "a0099" in given
        assert given.index("a0099") < given.index("a0031")
        counts = dict(engine.state("tally").counts)
        engine.rebuild()
        assert engine.state("tally").counts == counts


def test_an_event_timed_beyond_the_clock_and_its_tolerance_is_refused(tmp_path: Path) -> None:
    from gridcore import EventRefused

    now = START + timedelta(days=3)
    with open_toy(str(tmp_path / "store"), community=small_community(), clock=FixedClock(now),
                  future_tolerance=timedelta(days=1)) as engine:
        assert engine.record(activity(1, hours=72 + 20))  # 20 hours ahead: clocks disagree, accepted
        mistyped = ActivityRecorded(id="typo", time=START.replace(year=2125), actor="res1", node="u11",
                                    activity="mediation")
        with pytest.raises(EventRefused, match=r"more than 1 day after now .*mistyped date"):
            engine.record(mistyped)
        assert engine.position == 1


def test_checkpoints_after_writes_take_a_bounded_share_and_closing_takes_the_last(stores: StoreFactory) -> None:
    """In a process that records call after call, checkpoints may not cost more than their share."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
        first = engine.store.get(CHECKPOINTS, "index")
        assert first is not None  # an engine's first checkpoint is always allowed
        engine._checkpoint_cost = 10.0**6  # as if the last one had cost a great deal of CPU time
        engine.record_many([activity(n) for n in range(11, 21)])
        engine.tick(START + timedelta(days=2))
        assert engine.store.get(CHECKPOINTS, "index") == first  # the share does not allow another yet
        engine.checkpoint_share = 1  # no limit
        engine.record_many([activity(n) for n in range(21, 26)])
        second = engine.store.get(CHECKPOINTS, "index")
        assert second != first
        engine.checkpoint_share, engine._checkpoint_cost = 0.1, 10.0**6
        engine.record_many([activity(n) for n in range(26, 31)])
        assert engine.store.get(CHECKPOINTS, "index") == second
        position = engine.position
    with open_toy(url, read_only=True) as reader:  # closing stored what the last calls left
        assert reader._base == position


@pytest.mark.parametrize("backend", ["tinydb", "sqlite", "postgresql"])
def test_closing_after_a_long_ingest_leaves_no_tail_and_a_short_writer_leaves_its_few(
        tmp_path: Path, backend: str) -> None:
    """An engine that stored ``checkpoint_min`` events or more checkpoints whatever tail it leaves on closing,
    so an open after it gives no plugin its state until it is read; one that stored fewer leaves them."""
    factory = StoreFactory(backend, tmp_path)
    try:
        url = factory.url()
        with open_toy(url, community=small_community()) as engine:
            engine.checkpoint_min = 5
            engine.record_many([activity(n) for n in range(1, 11)])
            checkpointed = engine._checkpointed
            assert checkpointed == engine.position  # the first one is always allowed
            engine._checkpoint_cost = 10.0**6  # the share allows no other before closing
            engine.record_many([activity(n) for n in range(11, 13)])  # fewer than checkpoint_min
            assert engine._checkpointed == checkpointed < engine.position
            position = engine.position
        with open_toy(url, read_only=True) as reader:
            assert reader._base == position  # closing stored the two events' checkpoint
            assert reader.position == position
            assert sorted(reader._pending) == ["tally#state"]  # no tail replayed: the state waits to be read
            counts = dict(reader.state("tally").counts)
            reader.rebuild()
            assert reader.state("tally").counts == counts
        with open_toy(url) as short:
            short.checkpoint_min = 5
            short.record(activity(13))  # one event: a short writer, no checkpoint for it
            tail = short.position
        with open_toy(url, read_only=True) as reader:
            assert reader._base == position < tail == reader.position
            assert reader._pending == {}  # the tail replayed: every plugin given its state
    finally:
        factory.cleanup()


@pytest.mark.parametrize("backend", ["tinydb", "sqlite", "postgresql"])
def test_a_long_call_after_a_checkpoint_finds_every_stored_id_wherever_it_falls(tmp_path: Path, backend: str) -> None:
    """After a checkpoint the engine asks the store which ids of a call it holds (PostgreSQL: those beyond the
    first batch while that batch is judged, ``find_ids_soon``): every stored one is a duplicate."""
    factory = StoreFactory(backend, tmp_path)
    try:
        url = factory.url()
        with open_toy(url, community=small_community()) as engine:
            engine.record_many([activity(n) for n in range(1, 1501)])
            assert engine._checkpointed == engine.position and engine._forgot and not engine._applied
            summary = engine.record_many([activity(n) for n in range(1, 2001)], batch_size=100)
            assert (summary.duplicates, summary.accepted, summary.refused) == (1500, 500, [])
            counts = dict(engine.state("tally").counts)
            position = engine.position
        with open_toy(url, read_only=True) as reader:
            assert reader.position == position
            reader.rebuild()
            assert reader.state("tally").counts == counts
            assert sum(counts.values()) == 2000
    finally:
        factory.cleanup()


def test_checkpoint_max_bounds_the_interval_whatever_the_share_says(stores: StoreFactory) -> None:
    """However costly the last checkpoint was, ``checkpoint_max`` events after it a new one is stored."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min, engine.checkpoint_max = 1, 8
        engine.record_many([activity(n) for n in range(1, 11)])
        first = engine.store.get(CHECKPOINTS, "index")
        assert first is not None
        engine._checkpoint_cost = 10.0**6  # the share allows none for a long while
        engine.record_many([activity(n) for n in range(11, 18)])  # 7 events: fewer than checkpoint_max
        assert engine.store.get(CHECKPOINTS, "index") == first
        engine.record_many([activity(18)])  # the 8th
        second = engine.store.get(CHECKPOINTS, "index")
        assert second != first
        assert engine._checkpointed == engine.position


def test_slots_taken_under_another_fit_are_not_read(stores: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index says what each slot was taken under: opening reads only the slots that may fit."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
    read: list[str] = []
    with open_toy(url, read_only=True) as probe:
        cls = type(probe.store)
    get = cls.get

    def counted(self: Any, collection: str, key: str) -> Any:
        if collection == CHECKPOINTS:
            read.append(key)
        return get(self, collection, key)

    monkeypatch.setattr(cls, "get", counted)
    TallyPlugin.version = 2
    try:
        with open_toy(url, read_only=True) as other:
            assert len(other.state("tally").given) == 10  # replayed: nothing fits
        assert [key for key in read if key.startswith("slot-")] == []
    finally:
        TallyPlugin.version = 1
    with open_toy(url, read_only=True) as same:
        assert [key for key in read if key.startswith("slot-")] == ["slot-0"]  # the plugin's part waits
        assert same.state("tally").given == []  # restored, when first used
    assert [key for key in read if key.startswith("slot-")] == ["slot-0", "slot-0.tally#state"]


def test_a_checkpoint_reads_the_index_once_and_keeps_every_slot_it_names(
        stores: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each checkpoint reads the index from the store once (not once for the slots and again for their fits),
    and the index it writes names the newest slots with what each was taken under; the newest restores."""
    url = stores.url()
    reads: list[int] = []
    with open_toy(url, community=small_community()) as engine:
        get = type(engine.store).get

        def counted(self: Any, collection: str, key: str) -> Any:
            if collection == CHECKPOINTS and key == "index":
                reads[-1] += 1
            return get(self, collection, key)

        monkeypatch.setattr(type(engine.store), "get", counted)
        engine.checkpoint_min = 10_000  # only the checkpoints asked for below
        positions = []
        for n in range(1, 8):  # more checkpoints than slots: the oldest slots are taken again
            engine.record_many([activity(n * 10 + k) for k in range(3)])
            reads.append(0)
            assert engine.checkpoint()
            positions.append(engine.position)
        monkeypatch.undo()
        assert reads == [1] * 7
        index = engine.store.get(CHECKPOINTS, "index")
        fit = engine._checkpoint_fit()
        counts = dict(engine.state("tally").counts)
    assert sorted(index["slots"].values()) == positions[-4:]  # CHECKPOINT_SLOTS of them
    assert set(index["about"]) == set(index["fits"]) == set(index["slots"])
    assert all(taken == fit for taken in index["fits"].values())
    with open_toy(url, read_only=True) as again:
        assert again._base == positions[-1]
        assert again.state("tally").given == [] and again.state("tally").counts == counts


def test_an_event_at_the_very_time_a_derived_one_fell_due_is_not_late(stores: StoreFactory) -> None:
    """Derived events due at T are applied before every event offered at T: a later one at T is in place."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.record_many([activity(5), activity(6)])  # a0005 is a reminder: due:a0005 falls due 24 h later
        due = START + timedelta(hours=5 + 24)
        engine.record(ActivityRecorded(id="b1", time=due, actor="res1", node="u11", activity="mediation"))
        tally = engine.state("tally")
        # "b2" sorts before "due:a0005", which was applied before b1: still not late, nothing rewound
        engine.record(ActivityRecorded(id="b2", time=due, actor="res1", node="u11", activity="mediation"))
        assert engine.state("tally") is tally
        assert tally.given[-3:] == ["due:a0005", "b1", "b2"]
        counts, pending = dict(tally.counts), dict(engine.state("recorder").pending)
        engine.record(ActivityRecorded(id="a0000", time=due, actor="res1", node="u11", activity="mediation"))
        assert engine.state("tally") is not tally  # before b1 and b2, which were offered: late, rewound
        engine.rebuild()
        assert engine.state("tally").counts == {**counts, "res1": counts["res1"] + 1}
        assert engine.state("recorder").pending == pending


# ---------------------------------------------------------------- each plugin's state restored when first used


class EchoPlugin:
    """A second saving plugin (the same state as the tally, attached as "echo")."""

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        state = Tally()
        state.STATE_VERSION = 1  # type: ignore[misc]
        engine.attach("echo", state)


def open_two(url: str | Any, **kw: Any) -> Engine:
    pm = get_plugin_manager(load_entry_points=False, extra=[TallyPlugin(), EchoPlugin()])
    kw.setdefault("clock", FixedClock(START + timedelta(days=400)))
    return Engine.open(store=url, plugins=pm, **kw)


def counting_reads(monkeypatch: pytest.MonkeyPatch, url: str) -> list[str]:
    """The keys of the checkpoint documents read from now on (every store of ``url``'s class)."""
    read: list[str] = []
    with open_two(url, read_only=True) as probe:
        cls = type(probe.store)
    get = cls.get

    def counted(self: Any, collection: str, key: str) -> Any:
        if collection == CHECKPOINTS and key != "index":
            read.append(key)
        return get(self, collection, key)

    monkeypatch.setattr(cls, "get", counted)
    return read


def test_a_read_restores_only_the_state_it_uses(stores: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each plugin's state is a document of its own, read when the plugin is first used, once."""
    url = stores.url()
    with open_two(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 21)])
        counts = dict(engine.state("tally").counts)
    read = counting_reads(monkeypatch, url)
    with open_two(url, read_only=True) as reader:
        assert read == ["slot-0"]  # the core's state only
        assert reader.state("tally").counts == counts
        assert reader.state("tally").given == []  # restored, not replayed
        assert read == ["slot-0", "slot-0.tally#state"]  # the echo's state was never read
    read.clear()
    with open_two(url) as writer:  # an event reaches every plugin: each is given its state first
        writer.record_many([activity(21)])
        assert sorted(read) == ["slot-0", "slot-0.echo#state", "slot-0.tally#state"]
        assert writer.state("echo").counts == writer.state("tally").counts != counts
        assert writer.state("echo").given == writer.state("tally").given == ["a0021"]


class Crash(BaseException):
    """The process dies here (nothing catches it)."""


class OneByOne:
    """A store without ``put_many`` (a third-party backend): documents are put one at a time.

    After ``budget`` more puts of checkpoint documents it "crashes": the put raises ``Crash``
    and nothing after it is written.
    """

    def __init__(self, store: Any, budget: int | None = None) -> None:
        self._store = store
        self.budget = budget
        self.url = store.url

    def put(self, collection: str, key: str, doc: Any) -> None:
        if collection == CHECKPOINTS and self.budget is not None:
            if self.budget == 0:
                raise Crash(key)
            self.budget -= 1
        self._store.put(collection, key, doc)

    def __getattr__(self, name: str) -> Any:
        if name == "put_many":
            raise AttributeError(name)
        return getattr(self._store, name)


@pytest.mark.parametrize("crash_after", range(5))
def test_a_crash_between_the_documents_of_a_checkpoint_loses_nothing(tmp_path: Path, crash_after: int) -> None:
    """Put one by one, a checkpoint into a reused slot is safe whichever put the crash interrupts.

    The fifth checkpoint reuses the oldest slot: it takes the slot out of the index, writes
    the two plugins' documents, the slot's document, and the index again (five puts).
    """
    from gridcore.store.sqlite_store import SQLiteStore

    path = tmp_path / "store.db"
    with open_two(OneByOne(SQLiteStore(path)), community=small_community()) as engine:
        for round_ in range(4):  # four checkpoints: every slot taken
            engine.record_many([activity(n) for n in range(10 * round_ + 1, 10 * round_ + 11)])
            assert engine.checkpoint()
        engine.checkpoint_min = 10**9
        engine.record_many([activity(n) for n in range(41, 51)])
        engine.store.budget = crash_after  # type: ignore[attr-defined]
        with pytest.raises(Crash):
            engine.checkpoint()
        engine.store._store.close()  # type: ignore[attr-defined]
        engine._closed = True  # the process died: nothing more is written
    url = f"sqlite:///{path}"
    with open_two(url, read_only=True) as reader:
        seen = {name: dict(reader.state(name).counts) for name in ("tally", "echo")}
        assert reader.position == engine.position
        reader.rebuild()
        assert seen == {name: reader.state(name).counts for name in ("tally", "echo")}
        assert sum(seen["tally"].values()) == 50


@pytest.mark.parametrize("backend", ["tinydb", "sqlite", "postgresql"])
def test_a_plugin_document_of_another_checkpoint_spoils_it(tmp_path: Path, backend: str) -> None:
    """Two writers storing one slot at once could leave it mixed: the stamp tells, and the state is rebuilt."""
    factory = StoreFactory(backend, tmp_path)
    try:
        url = factory.url()
        with open_two(url, community=small_community()) as engine:
            engine.record_many([activity(n) for n in range(1, 11)])
            assert engine.checkpoint()
            engine.record_many([activity(n) for n in range(11, 21)])
            assert engine.checkpoint()  # slot 1, the newest
            older = engine.store.get(CHECKPOINTS, "slot-0.tally#state")
            assert older is not None
            engine.store.put(CHECKPOINTS, "slot-1.tally#state", older)  # the newest now holds an older part
        with open_two(url, read_only=True) as reader:
            assert reader._base == 20  # the newest checkpoint is restored ...
            tally = reader.state("tally")  # ... and its tally document does not belong to it
            assert any("passed over" in warning and "(检查点无法读取，已跳过，改为重放事件；结果不变)" in warning
                       for warning in reader.warnings)
            assert reader._base == 10  # restored again from the older one, and the tail replayed
            counts = dict(tally.counts)
            reader.rebuild()
            assert counts == reader.state("tally").counts
            assert sum(counts.values()) == 20
        with open_two(url) as writer:  # a writer gets past it the same way
            writer.record_many([activity(21)])
            assert sum(writer.state("tally").counts.values()) == 21
    finally:
        factory.cleanup()


class Seen:
    """A saving plugin's state whose document holds a long list, the ids of the activities it was given, and a
    long object, each id's place in it."""

    STATE_VERSION = 1

    def __init__(self) -> None:
        self.ids: list[str] = []

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        if isinstance(event, ActivityRecorded):
            self.ids.append(event.id)

    @hookimpl
    def gridcore_save_state(self, engine: Any) -> dict[str, Any]:
        return {"ids": list(self.ids), "count": len(self.ids), "at": {ident: n for n, ident in enumerate(self.ids)}}

    @hookimpl
    def gridcore_restore_state(self, engine: Any, document: dict[str, Any]) -> None:
        self.ids = [str(ident) for ident in document["ids"]]
        assert len(self.ids) == document["count"]
        assert list(document["at"].items()) == [(ident, n) for n, ident in enumerate(self.ids)]


class SeenPlugin:
    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        engine.attach("seen", Seen())


def open_seen(url: str | Any, **kw: Any) -> Engine:
    pm = get_plugin_manager(load_entry_points=False, extra=[SeenPlugin()])
    kw.setdefault("clock", FixedClock(START + timedelta(days=400)))
    return Engine.open(store=url, plugins=pm, **kw)


@pytest.mark.parametrize("backend", ["tinydb", "sqlite", "postgresql"])
def test_a_long_list_of_a_plugin_document_is_stored_in_pages(tmp_path: Path, backend: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A list or object longer than ``CHECKPOINT_PAGE`` at the top of a plugin's document is stored in pages, each a
    document with the checkpoint's stamp, and the plugin is given it whole; a page of another checkpoint
    spoils the checkpoint as a document of another does (the state is rebuilt from an older one)."""
    monkeypatch.setattr("gridcore.checkpointing.CHECKPOINT_PAGE", 4)
    factory = StoreFactory(backend, tmp_path)
    try:
        url = factory.url()
        with open_seen(url, community=small_community()) as engine:
            engine.record_many([activity(n) for n in range(1, 11)])
            assert engine.checkpoint()  # slot 0: ten ids, in pages of 4, 4 and 2
            document = engine.store.get(CHECKPOINTS, "slot-0.seen#state")
            assert document is not None and document["pages"] == {"ids": 3, "at": 3}
            assert document["state"] == {"ids": [], "count": 10, "at": {}}
            assert engine.store.get(CHECKPOINTS, "slot-0.seen#state/at/2") == {
                "stamp": document["stamp"], "items": {"a0009": 8, "a0010": 9}}
            last = engine.store.get(CHECKPOINTS, "slot-0.seen#state/ids/2")
            assert last is not None and last == {"stamp": document["stamp"], "items": ["a0009", "a0010"]}
            engine.record_many([activity(n) for n in range(11, 21)])
            assert engine.checkpoint()  # slot 1, the newest
        every = [f"a{n:04d}" for n in range(1, 21)]
        with open_seen(url, read_only=True) as reader:
            assert reader.state("seen").ids == every
            assert reader._base == 20 and not reader.warnings
        with open_seen(url) as writer:
            older = writer.store.get(CHECKPOINTS, "slot-0.seen#state/ids/1")
            assert older is not None
            writer.store.put(CHECKPOINTS, "slot-1.seen#state/ids/1", older)  # the newest holds an older page
        with open_seen(url, read_only=True) as reader:
            assert reader._base == 20  # the newest checkpoint is restored ...
            ids = list(reader.state("seen").ids)  # ... and one of its pages does not belong to it
            assert any("passed over" in warning for warning in reader.warnings)
            assert reader._base == 10  # restored again from the older one, and the tail replayed
            assert ids == every
    finally:
        factory.cleanup()


class WithoutFindIds:
    """A store as a plugin's backend may be: without ``find_ids`` (the engine asks ``find`` instead)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.found: list[int] = []

    def find(self, event_ids: Any) -> dict[str, Any]:
        self.found.append(len(event_ids))
        return dict(self.inner.find(event_ids))

    def __getattr__(self, name: str) -> Any:
        if name == "find_ids":
            raise AttributeError(name)
        return getattr(self.inner, name)


@pytest.mark.parametrize("ids_only", [True, False], ids=["find_ids", "find"])
def test_after_a_checkpoint_the_ids_applied_are_asked_of_the_store_and_nothing_counts_twice(
        stores: StoreFactory, ids_only: bool) -> None:
    """A long-running engine does not hold every id it ever applied: once a checkpoint is stored at the
    store's position, those ids are asked of the store (``find_ids``, or ``find`` of a store without
    it), as after opening from that checkpoint."""
    url = stores.url()
    store: Any = url if ids_only else WithoutFindIds(stores.open(url))
    with open_toy(store, community=small_community()) as engine:
        engine.checkpoint_min = 1
        first = engine.record_many([activity(n) for n in range(1, 31)])
        assert first.accepted == 30
        assert engine._applied == set()  # forgotten: the checkpoint holds them
        counts = dict(engine.state("tally").counts)
        position = engine.position
        # the same events again, alone and mixed with new ones: duplicates, each applied once
        again = engine.record_many([activity(n) for n in range(1, 31)])
        assert (again.accepted, again.duplicates) == (0, 30)
        mixed = engine.record_many([activity(n) for n in range(25, 41)])
        assert (mixed.accepted, mixed.duplicates) == (10, 6)
        assert engine.position > position
        live = dict(engine.state("tally").counts)
        assert sum(live.values()) == sum(counts.values()) + 10  # a31..a40, each once
        assert ids_only or store.found  # (the ids were asked of find)
    with open_toy(url) as reopened:
        reopened.rebuild()  # the whole log from the start: the same state as the live engine's
        assert reopened.state("tally").counts == live


def test_ids_stay_known_while_another_writer_stored_after_the_checkpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    with open_toy(url, community=small_community()) as one, open_toy(url) as two:
        one.checkpoint_min = two.checkpoint_min = 10_000
        one.record_many([activity(n) for n in range(1, 11)])
        two.refresh()
        two.record_many([activity(n) for n in range(11, 16)])  # stored after one's position
        assert one.checkpoint()
        assert one._applied  # the store moved past it: its ids stay known
        one.refresh()
        assert one.state("tally").counts == two.state("tally").counts


class CountingFinds:
    """A store counting the queries for ids (``find_ids``) and how many ids each asked."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[int] = []

    def find_ids(self, event_ids: Any) -> set[str]:
        self.asked.append(len(event_ids))
        return set(self.inner.find_ids(event_ids))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("most", [3, 10_000], ids=["few-ids-kept", "default"])
@pytest.mark.parametrize("every", [5, 1_000_000], ids=["checkpoints-within", "no-checkpoint-within"])
def test_an_id_offered_again_later_in_the_same_call_is_never_applied_twice(
        stores: StoreFactory, most: int, every: int) -> None:
    """Ids forgotten during a call (a checkpoint within it, or past ``applied_most``) that the same call
    offers again later stay known: a repeat with other content is refused, not applied a second time
    (a checkpoint within the call used to forget a0020, accepted here before and counted twice)."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = engine.checkpoint_every = 1_000_000
        engine.checkpoint_share = 1
        engine.applied_most = most
        engine.record_many([activity(n) for n in range(1, 11)], batch_size=5)  # a0005 known before the call
        engine.checkpoint_min = engine.checkpoint_every = every
        offered = [activity(n) for n in range(11, 41)]
        again = [activity(5, hours=35.5), activity(20, hours=36.5), activity(3), activity(33)]
        summary = engine.record_many(offered + again, batch_size=5)
        assert (summary.accepted, summary.duplicates) == (30, 2)  # a0003 and a0033: the same events
        assert sorted(r.event_id for r in summary.refused) == ["a0005", "a0020"]  # other times: conflicts
        live = dict(engine.state("tally").counts)
        assert sum(live.values()) == 40  # a0001..a0040, each once
        engine.rebuild()
        assert engine.state("tally").counts == live


def test_the_ids_kept_in_memory_are_bounded_and_the_rest_asked_of_the_store_once_a_call(
        stores: StoreFactory) -> None:
    """Without a checkpoint, past ``applied_most`` the stored ids are forgotten (and asked of the store:
    one query a call, for the ids of the call not known, never one an event); results are the same."""
    url = stores.url()
    store = CountingFinds(stores.open(url))
    with open_toy(store, community=small_community()) as engine:
        engine.checkpoint_min = engine.checkpoint_every = 1_000_000  # no checkpoint: only the bound forgets
        engine.applied_most = 8
        for start in range(1, 61, 6):
            engine.record_many([activity(n) for n in range(start, start + 6)], batch_size=4)
            assert len(engine._applied) <= engine.applied_most
        assert engine._forgot and store.asked and all(n <= 6 for n in store.asked)
        calls = len(store.asked)
        again = engine.record_many([activity(n) for n in range(1, 61)] + [activity(61)])
        assert (again.accepted, again.duplicates, again.refused) == (1, 60, [])
        assert len(store.asked) == calls + 1  # one query for the 61 ids
        live = dict(engine.state("tally").counts)
        assert sum(live.values()) == 61
        engine.rebuild()
        assert engine.state("tally").counts == live


def test_a_calls_ids_are_asked_in_queries_of_at_most_ids_at_once(
        stores: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ids of a call not known go to ``find_ids`` in one query up to ``IDS_AT_ONCE`` (every id of a
    ``gridcore ingest`` call), in queries of that many past it: the same duplicates either way."""
    monkeypatch.setattr("gridcore.replaying.IDS_AT_ONCE", 4)
    url = stores.url()
    store = CountingFinds(stores.open(url))
    with open_toy(store, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
        assert engine._forgot and not engine._applied  # (the checkpoint forgot them)
        asked = len(store.asked)
        again = engine.record_many([activity(n) for n in range(1, 19)])
        assert (again.accepted, again.duplicates, again.refused) == (8, 10, [])
        assert store.asked[asked:] == [4, 4, 4, 4, 2]  # the 18 ids, 4 a query
        monkeypatch.setattr("gridcore.replaying.IDS_AT_ONCE", 50)
        asked = len(store.asked)
        mixed = engine.record_many([activity(n) for n in range(15, 31)])
        assert (mixed.accepted, mixed.duplicates, mixed.refused) == (12, 4, [])
        assert len(store.asked) == asked + 1  # one query for those not known
        live = dict(engine.state("tally").counts)
        assert sum(live.values()) == 30
        engine.rebuild()
        assert engine.state("tally").counts == live


class AppendsWhileReplayed:
    """A reader's store: another writer appends ``docs`` just as the reader's replay starts reading (after it
    asked the store's position): the events it reads may then go past that position."""

    def __init__(self, inner: Any, writer: Any, docs: list[dict[str, Any]], during: str = "_stored_after_base") -> None:
        self.inner, self.writer, self.docs, self.during = inner, writer, docs, during

    def _race(self) -> None:
        if self.docs and any(frame.function == self.during for frame in inspect.stack()):
            docs, self.docs = self.docs, []
            self.writer.append(docs, expected=self.writer.position())

    def events_after(self, position: int) -> Any:
        self._race()
        return self.inner.events_after(position)

    def events(self, **kw: Any) -> Any:
        self._race()
        return self.inner.events(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("appended", [1, 5])
@pytest.mark.parametrize("checkpoint", [True, False], ids=["tail", "whole-log"])
def test_events_stored_while_a_replay_reads_are_applied_once(
        stores: StoreFactory, appended: int, checkpoint: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader opening while a writer appends: what the replay reads past the position it asked is applied
    once, not again by the catching up after it (a replay keeps no ids: since a7ac830 one such event was
    applied twice, and more than one made the reader rebuild its state), and nothing is rebuilt."""
    rebuilt: list[int] = []
    rebuild = Engine._rebuild_state
    monkeypatch.setattr(Engine, "_rebuild_state", lambda self, **kw: (rebuilt.append(1), rebuild(self, **kw))[1])
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1 if checkpoint else 10**9
        engine.record_many([activity(n) for n in range(1, 11)])
        engine.checkpoint_min = engine.checkpoint_every = 10**9
        engine.record_many([activity(n) for n in range(11, 21)])  # (the tail)
        docs = [engine.codec.to_dict(activity(n)) for n in range(21, 21 + appended)]
    writer = stores.open(url)
    store = AppendsWhileReplayed(stores.open(url), writer, docs)
    with open_toy(store, read_only=True) as reader:
        assert not store.docs  # (appended while the replay read)
        given = [i for i in reader.state("tally").given if i.startswith("a")]
        counts = dict(reader.state("tally").counts)
        assert reader.position == 20 + appended
    assert len(given) == len(set(given)) and not rebuilt  # each applied once, in the replay
    with open_toy(url, read_only=True) as fresh:
        fresh.rebuild()
        assert fresh.state("tally").counts == counts
    writer.close()


def test_a_plugin_replayed_in_full_is_given_events_stored_meanwhile_once(stores: StoreFactory) -> None:
    """A plugin without the checkpoint hooks (the recorder) is replayed the log up to the checkpoint while
    the others are restored: events another writer stores just then sort after the checkpoint's last
    event, so that replay stops before them and the catching up gives them to every plugin, once."""
    url = stores.url()
    with open_toy(url, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 11)])
        engine.checkpoint_min = engine.checkpoint_every = 10**9
        engine.record_many([activity(n) for n in range(11, 16)])  # (the tail)
        docs = [engine.codec.to_dict(activity(n)) for n in range(16, 19)]
    writer = stores.open(url)
    store = AppendsWhileReplayed(stores.open(url), writer, docs, during="_replay_only")
    with open_toy(store, read_only=True) as reader:
        assert not store.docs  # (appended while the recorder was replayed)
        seen = [ident for ident, _ in reader.state("recorder").seen if ident.startswith("a")]
        assert reader.position == 18
    assert sorted(seen) == sorted(set(seen)) == [f"a{n:04d}" for n in range(1, 19)]
    writer.close()


def test_a_writer_that_refreshes_or_opens_keeps_the_ids_bounded_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer reading what another stores takes no checkpoint of its own: refresh bounds its ids too,
    and so does opening (a tail replayed without a checkpoint)."""
    url = f"sqlite:///{tmp_path / 'two.db'}"
    with open_toy(url, community=small_community()) as one, open_toy(url) as two:
        one.checkpoint_min = two.checkpoint_min = one.checkpoint_every = 1_000_000
        two.applied_most = 5
        for start in range(1, 41, 4):
            one.record_many([activity(n) for n in range(start, start + 4)])
            assert two.refresh() > 0
            assert len(two._applied) <= two.applied_most
        again = two.record_many([activity(n) for n in range(1, 42)])
        assert (again.accepted, again.duplicates, again.refused) == (1, 40, [])
        one.refresh()
        assert one.state("tally").counts == two.state("tally").counts
        assert sum(one.state("tally").counts.values()) == 41
    tail = f"sqlite:///{tmp_path / 'tail.db'}"
    with open_toy(tail, community=small_community()) as writer:
        # what a writer killed before its first checkpoint leaves behind: a log and no checkpoint
        writer.store.append([writer.codec.to_dict(activity(n)) for n in range(1, 31)], expected=writer.position)
        writer.checkpoint = lambda: False  # type: ignore[method-assign]
    monkeypatch.setattr("gridcore.enginestate.APPLIED_MOST", 5)
    with open_toy(tail) as reader:  # the whole log replayed, then its ids forgotten
        assert reader.store.get(CHECKPOINTS, "index") is None
        assert reader._forgot and len(reader._applied) <= reader.applied_most == 5
        summary = reader.record_many([activity(n) for n in range(28, 33)])
        assert (summary.accepted, summary.duplicates) == (2, 3)
        assert sum(reader.state("tally").counts.values()) == 32


class ThresholdWitness:
    """A saving plugin that notes the collector's thresholds each time it is asked for its state."""

    STATE_VERSION = 1

    def __init__(self) -> None:
        self.seen: list[tuple[int, ...]] = []

    @hookimpl
    def gridcore_save_state(self, engine: Any) -> dict[str, Any]:
        import gc

        self.seen.append(gc.get_threshold())
        return {}

    @hookimpl
    def gridcore_restore_state(self, engine: Any, document: dict[str, Any]) -> None:
        return None


def test_a_checkpoint_and_a_tick_run_with_rarer_full_collections(tmp_path: Path) -> None:
    # a checkpoint makes the state's documents, alive until stored: full collections walking the
    # whole state meanwhile find nothing (gridcore.garbage); the thresholds come back after
    import gc

    from gridcore.garbage import FULL_EVERY

    witness = ThresholdWitness()

    class WitnessPlugin:
        @hookimpl
        def gridcore_on_open(self, engine: Engine) -> None:
            engine.attach("witness", witness)

    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        pm = get_plugin_manager(load_entry_points=False, extra=[WitnessPlugin()])
        with Engine.open(store=f"sqlite:///{tmp_path / 's.db'}", plugins=pm, community=small_community(),
                         clock=FixedClock(START + timedelta(days=400))) as engine:
            engine.record_many([activity(n) for n in range(5)])
            assert gc.get_threshold() == (700, 10, 10)
            assert engine.checkpoint() is True
            assert gc.get_threshold() == (700, 10, 10)
            engine.tick(START + timedelta(days=2))
            assert gc.get_threshold() == (700, 10, 10)
        assert witness.seen and all(seen == (700, 10, FULL_EVERY) for seen in witness.seen)
    finally:
        gc.set_threshold(*saved)


def test_the_community_in_a_checkpoints_fit_is_its_document_made_once_per_community(
        stores: StoreFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_checkpoint_fit`` names the community by the SHA-256 of its document: encoded once per
    community object (immutable), again for another community (a grown roster)."""
    import hashlib
    import json

    import attrs

    from gridcore import Community

    def digest(community: Community) -> str:
        return hashlib.sha256(json.dumps(community.to_document(), sort_keys=True, default=str).encode()).hexdigest()

    with open_toy(stores.url(), community=small_community()) as engine:
        made: list[str] = []
        to_document = Community.to_document

        def counted(self: Community) -> dict[str, Any]:
            made.append(self.name)
            return to_document(self)

        monkeypatch.setattr(Community, "to_document", counted)
        first = engine._checkpoint_fit()["community"]
        assert engine._checkpoint_fit()["community"] == first and len(made) <= 1
        monkeypatch.setattr(Community, "to_document", to_document)
        assert first == digest(engine.community)
        renamed = attrs.evolve(engine.community, name="金泉社区")
        engine.community = renamed
        assert engine._checkpoint_fit()["community"] == digest(renamed) != first
        engine.community = attrs.evolve(renamed, name=small_community().name)  # equal, another object
        assert engine._checkpoint_fit()["community"] == first
