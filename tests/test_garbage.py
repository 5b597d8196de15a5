"""The collector's thresholds while the engine records, and after (``gridcore.garbage``)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from gridcore import garbage
from gridcore.garbage import (
    FULL_EVERY,
    NO_MIDDLE,
    YOUNG_EVERY,
    _malloc_trim,
    fewer_collections_while_reading,
    fewer_full_collections,
    recording,
    serving,
    settle,
)


@pytest.fixture(autouse=True)
def python_defaults() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    # Nothing in the permanent generation as each test begins: CPython 3.12 starts with a few hundred objects of its
    # own there (``garbage._FROZEN_AT_IMPORT``), which the tests' counts would otherwise include.
    gc.unfreeze()
    yield
    gc.set_threshold(*saved)


def test_full_collections_are_rarer_inside_and_the_thresholds_come_back_after() -> None:
    with fewer_full_collections():
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
        with fewer_full_collections():  # nested: still raised, restored only by the outer one
            pass
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(ValueError), fewer_full_collections():
        raise ValueError("an ingest that fails")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_or_one_set_meanwhile_is_left_alone() -> None:
    gc.set_threshold(700, 10, FULL_EVERY * 5)
    with fewer_full_collections():
        assert gc.get_threshold() == (700, 10, FULL_EVERY * 5)
    assert gc.get_threshold() == (700, 10, FULL_EVERY * 5)
    gc.set_threshold(700, 10, 10)
    with fewer_full_collections():
        gc.set_threshold(1000, 20, 30)  # the embedding application's own choice wins
    assert gc.get_threshold() == (1000, 20, 30)


@pytest.mark.parametrize(("policy", "middle"), [(fewer_full_collections, 10), (recording, NO_MIDDLE)])
def test_two_threads_recording_at_once_restore_the_thresholds_once_both_end(
        policy: Callable[[], AbstractContextManager[None]], middle: int) -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with policy():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with policy():
        pass
    assert gc.get_threshold() == (700, middle, FULL_EVERY)  # the other thread is still recording
    leave.set()
    thread.join(5)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_read_collects_the_young_generation_less_often_and_leaves_out_what_was_held_before() -> None:
    held = [[n] for n in range(1000)]  # tracked containers the process held before the read
    before = gc.get_freeze_count()
    with fewer_collections_while_reading():
        assert gc.get_threshold() == (YOUNG_EVERY, 10, FULL_EVERY)
        assert gc.get_freeze_count() >= before + len(held)
        with fewer_collections_while_reading():  # nested: the outer one gives everything back
            pass
        assert gc.get_threshold() == (YOUNG_EVERY, 10, FULL_EVERY)
        assert gc.get_freeze_count() >= before + len(held)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError), fewer_collections_while_reading():
        raise ValueError("a read that fails")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_made_during_a_read_is_freed_after_it() -> None:
    class Cell:
        pass

    with fewer_collections_while_reading():
        made = Cell()
        made.self = made  # type: ignore[attr-defined]
        gone = weakref.ref(made)
        del made
    gc.collect()
    assert gone() is None


def test_a_read_during_an_ingest_keeps_its_rarer_full_collections_whichever_ends_first() -> None:
    with fewer_full_collections():
        with fewer_collections_while_reading():
            assert gc.get_threshold() == (YOUNG_EVERY, 10, FULL_EVERY)
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
    assert gc.get_threshold() == (700, 10, 10)
    # the ingest begins inside the read and outlives it (two threads)
    reading = fewer_collections_while_reading()
    recording = fewer_full_collections()
    reading.__enter__()
    recording.__enter__()
    reading.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, FULL_EVERY)
    recording.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(700, 10, 10)
    with fewer_collections_while_reading():
        gc.set_threshold(1000, 20, 30)  # the embedding application's own choice wins
    assert gc.get_threshold() == (1000, 20, 30)


class Cell:
    """A container that can refer to itself (garbage in a cycle once dropped)."""

    me: object = None


def _middle_collections() -> int:
    return int(gc.get_stats()[1]["collections"])


def test_recording_makes_no_middle_collections_and_leaves_what_it_kept_in_the_oldest_generation() -> None:
    kept: list[object] = []
    with recording():
        assert gc.get_threshold() == (700, NO_MIDDLE, FULL_EVERY)
        with recording():  # nested: the outer one gives everything back
            pass
        assert gc.get_threshold() == (700, NO_MIDDLE, FULL_EVERY)
        middle = _middle_collections()
        young = gc.get_stats()[0]["collections"]
        kept.extend([n] for n in range(20_000))  # (about 28 young collections' worth, all kept)
        assert gc.get_stats()[0]["collections"] > young + 10
        assert _middle_collections() == middle
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    oldest = {id(made) for made in gc.get_objects(generation=2)}
    assert all(id(made) in oldest for made in kept)  # moved there without a middle collection's walk
    with pytest.raises(ValueError), recording():
        raise ValueError("an ingest that fails")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


_FULL_AS_OFTEN = """
import gc, json, weakref
from gridcore.garbage import FULL_EVERY, recording

class Cell:
    me = None

old = Cell()
old.me = old
gone = weakref.ref(old)
gc.collect()  # (``old`` in the oldest generation, and no generation's count above its threshold)
del old  # garbage in cycles among the oldest generation: only a full collection frees it
gc.set_threshold(100, 2, 3)  # (inside: a full collection every FULL_EVERY middle ones, each every 3 young)
kept = []
full = gc.get_stats()[2]["collections"]
with recording():
    kept.extend([n] for n in range(100 * 3 * (FULL_EVERY - 10)))  # (not quite enough)
first = [gc.get_stats()[2]["collections"] - full, gone() is None]
with recording():
    kept.extend([n] for n in range(100 * 3 * 40))  # (enough: the young collections of both calls, counted from a
    # middle one, pass FULL_EVERY middle ones' worth)
print(json.dumps([first, [gc.get_stats()[2]["collections"] - full, gone() is None], gc.get_threshold()]))
"""


def test_recording_makes_a_full_collection_as_often_as_the_middle_collections_it_left_out_would_have() -> None:
    # In a process of its own: in a test worker, a collection another thread makes (a server's, a store's, one an
    # earlier test left running) counts among the full ones (the clean-clone run of 2026-12-07 12:04 counted 1).
    done = subprocess.run([sys.executable, "-c", _FULL_AS_OFTEN], capture_output=True, text=True, check=True,
                          timeout=120)
    # no full collection while FULL_EVERY middle ones' worth are not reached; then one, which frees ``old``
    assert json.loads(done.stdout) == [[0, False], [1, True], [100, 2, 3]], done.stdout


def test_garbage_in_cycles_made_while_recording_is_freed_at_its_end_or_by_the_next_full_collection() -> None:
    with recording():
        older = Cell()
        older.me = older
        older_gone = weakref.ref(older)
        gc.collect(0)  # (``older`` survives a young collection: it waits in the middle generation)
        young = Cell()
        young.me = young
        young_gone = weakref.ref(young)
        del young, older
    assert young_gone() is None  # freed by the young collection at the end
    assert older_gone() is not None  # not walked by a middle collection: in the oldest generation now
    gc.collect()
    assert older_gone() is None


def test_recording_leaves_what_the_application_froze_frozen_and_an_application_threshold_alone() -> None:
    held = [[n] for n in range(1000)]
    gc.freeze()  # (as a server does before it forks its workers)
    try:
        frozen = gc.get_freeze_count()
        with recording():
            assert gc.get_threshold() == (700, 10, FULL_EVERY)  # as ``fewer_full_collections``
        assert gc.get_freeze_count() >= frozen >= len(held)
    finally:
        gc.unfreeze()
    with recording():
        gc.set_threshold(1000, 20, 30)  # the embedding application's own choice wins
    assert gc.get_threshold() == (1000, 20, 30)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    try:
        with recording():
            assert gc.get_threshold() == (700, 10, FULL_EVERY)  # (the collector off: nothing to spare)
    finally:
        gc.enable()


def test_a_read_or_serving_beginning_while_recording_ends_its_mode_and_everything_comes_back() -> None:
    for other in (fewer_collections_while_reading, serving):
        # the read (or the service) begins inside the recording and outlives it (two threads)
        recorded = recording()
        recorded.__enter__()
        assert gc.get_threshold() == (700, NO_MIDDLE, FULL_EVERY)
        begun = other()
        begun.__enter__()
        assert gc.get_threshold()[1] == 10
        recorded.__exit__(None, None, None)
        assert gc.get_freeze_count() > 0  # (what the read or the service froze stays so)
        begun.__exit__(None, None, None)
        assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_freeze_count() == 0
        # ... and a recording inside it
        held = [[n] for n in range(1000)]
        with other():
            with recording():
                assert gc.get_threshold()[1] == 10
            walked = {id(made) for made in gc.get_objects()}
            assert not any(id(made) in walked for made in held)  # still frozen
        assert gc.get_threshold() == (700, 10, 10)
        assert gc.get_freeze_count() == 0


def test_serving_leaves_what_the_process_held_out_of_collections_until_it_ends() -> None:
    held = [[n] for n in range(1000)]
    assert settle() is False  # (nothing to settle outside serving)
    with serving():
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
        assert gc.get_freeze_count() >= len(held)
        with fewer_full_collections():  # the engine's own, inside: still rare after it
            pass
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
        frozen = gc.get_freeze_count()
        with fewer_collections_while_reading():  # a read inside leaves frozen what was frozen
            pass
        assert gc.get_freeze_count() >= frozen
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError), serving():
        raise ValueError("a service that fails")
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_garbage_in_cycles_made_while_serving_is_collected_and_among_the_frozen_once_settled() -> None:
    old = Cell()
    old.me = old  # held when serving begins: frozen with the rest
    old_gone = weakref.ref(old)
    with serving():
        new = Cell()
        new.me = new  # made while serving: collected as ever
        new_gone = weakref.ref(new)
        del new, old
        gc.collect()
        assert new_gone() is None
        assert old_gone() is not None  # frozen: left out, not freed
        assert settle() is True
        assert old_gone() is None
        assert gc.get_freeze_count() > 0  # (what survived frozen again)
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
        with fewer_collections_while_reading():
            assert settle() is False  # (never during a read: it leaves out what it found)
    assert gc.get_freeze_count() == 0


def test_a_read_outliving_serving_gives_the_frozen_objects_back_when_it_ends() -> None:
    reading = fewer_collections_while_reading()
    with serving():
        reading.__enter__()
    assert gc.get_freeze_count() > 0  # the read still leaves them out
    reading.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == (700, 10, 10)


def _collecting_in_another_thread(callbacks: list[object]) -> tuple[threading.Thread, threading.Event]:
    """Another thread in a young collection, held open (as by a finalizer or a ``gc.callbacks`` function
    that waits) until the event returned is set; ``gc.collect()`` here does nothing meanwhile."""
    inside, leave = threading.Event(), threading.Event()

    def holding(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and threading.current_thread() is other:
            inside.set()
            leave.wait(10)

    other = threading.Thread(target=gc.collect, args=(0,))
    callbacks.append(holding)
    other.start()
    assert inside.wait(10)
    return other, leave


def test_settling_waits_for_a_collection_another_thread_is_making() -> None:
    # A long test process on Python 3.13 (pytest-xdist's thread, hypothesis's gc callback) had a service's
    # settle meet another thread's collection: its gc.collect() did nothing, the garbage stayed frozen and
    # settle said True.
    old = Cell()
    old.me = old
    old_gone = weakref.ref(old)
    with serving():
        del old
        other, leave = _collecting_in_another_thread(gc.callbacks)
        try:
            threading.Timer(0.2, leave.set).start()  # the other collection ends while settle waits
            assert settle() is True
        finally:
            leave.set()
            other.join(10)
            gc.callbacks.pop()
        assert old_gone() is None
        assert gc.get_freeze_count() > 0


def test_settling_held_off_too_long_says_so_and_leaves_everything_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    import gridcore.garbage

    monkeypatch.setattr(gridcore.garbage, "SETTLE_WAIT", 0.05)
    old = Cell()
    old.me = old
    old_gone = weakref.ref(old)
    with serving():
        del old
        frozen = gc.get_freeze_count()
        other, leave = _collecting_in_another_thread(gc.callbacks)
        try:
            assert settle() is False
            assert gc.get_freeze_count() >= frozen and old_gone() is not None
        finally:
            leave.set()
            other.join(10)
            gc.callbacks.pop()
        assert settle() is True  # the next settle, once the other collection ended
        assert old_gone() is None


#: In a process of its own: 400 blocks of 64 KiB from the C heap (below glibc's mapping threshold), written to,
#: one more kept above them, then the 400 freed: 25 MiB free inside the heap, still resident.  Prints how many
#: KiB of resident memory ``give_back_free_memory`` gave back.
_FREED_INSIDE_THE_HEAP = """
import ctypes
from gridcore.garbage import give_back_free_memory

def resident_kib():
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
blocks = [libc.malloc(64 * 1024) for _ in range(400)]
for block in blocks:
    ctypes.memset(block, 1, 64 * 1024)
kept = libc.malloc(64 * 1024)  # (the heap's top stays in use: freeing the rest cannot shrink it)
ctypes.memset(kept, 1, 64 * 1024)
for block in blocks:
    libc.free(block)
before = resident_kib()
give_back_free_memory()
print(before - resident_kib())
"""


@pytest.mark.skipif(_malloc_trim() is None or sys.platform != "linux", reason="glibc's malloc_trim only")
def test_memory_freed_inside_the_c_heap_is_given_back_to_the_system() -> None:
    done = subprocess.run([sys.executable, "-c", _FREED_INSIDE_THE_HEAP], capture_output=True, text=True,
                          check=True, timeout=120)
    assert int(done.stdout) > 16 * 1024  # of the 25 MiB freed


def _yinquan_days(days: int) -> tuple[Any, Any, list[Any], Any]:
    """Yinquan's folder, community, ``days`` simulated days from 2025-01-06 (seed 1) and their first moment."""
    from datetime import date, datetime
    from pathlib import Path

    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    folder = Path(__file__).resolve().parent.parent / "rulesets" / "yinquan"
    community = load_community(folder)
    events = list(simulate(community, load_scenario(folder / "scenario.yaml"), days=days, start=date(2025, 1, 6),
                           seed=1))
    return folder, community, events, datetime(2025, 1, 6, tzinfo=community.tz)


def test_recording_with_every_built_in_plugin_and_its_checkpoints_leaves_no_garbage_in_cycles(tmp_path) -> None:
    # Full collections are rare while the engine records (FULL_EVERY) because they would find nothing: what
    # recording drops is freed as it is dropped.  A plugin that left garbage in cycles for each event (or each
    # checkpoint) would hold it until a full collection: this fails then.
    from datetime import timedelta

    from gridcore import Engine, FixedClock

    folder, community, events, start = _yinquan_days(24)
    half = len(events) // 2

    def recorded(name: str, measured: bool) -> int:
        """Garbage in cycles the second half of the stream left, recorded with the collector off if ``measured``."""
        with Engine.open(store=f"sqlite:///{tmp_path / name}", community=community, ruleset=folder / "yinquan.rules",
                         clock=FixedClock(start + timedelta(days=400)), effective=start) as engine:
            engine.checkpoint_min = engine.checkpoint_every = 200
            engine.checkpoint_share = 1.0
            engine.record_many(events[:half])
            gc.collect()
            if measured:
                gc.disable()
            try:
                checkpointed = engine._checkpointed
                for start_at in range(half, len(events), 300):
                    engine.record_many(events[start_at : start_at + 300])
                assert engine._checkpointed > checkpointed  # (checkpoints were stored meanwhile)
                return gc.collect()
            finally:
                gc.enable()

    # First the whole stream once, as it is recorded then: what is made once in a process (plugins' caches,
    # cattrs' generated functions, the methods ``gridcore.classes`` has attrs write when first used, each on a
    # class of its own that is garbage in cycles then) is made here, whichever tests ran before in the process.
    recorded("warm.sqlite", measured=False)
    found = recorded("d.sqlite", measured=True)
    assert len(events) - half > 1000
    assert found == 0


def test_the_engine_records_without_middle_collections_and_gives_the_thresholds_back(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from gridcore import Engine, FixedClock

    # The young collections left out so far counted from nothing: in a test worker, what earlier tests' recording
    # left out adds up (a full collection after 1,000 middle ones' worth), and the end of this call made one (the
    # loaded clean-clone run of 2026-12-07 12:17 saw generation 2 here).
    monkeypatch.setattr(garbage, "_skipped", 0)

    folder, community, events, start = _yinquan_days(6)
    collected: list[int] = []

    def noted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    with Engine.open(store=f"sqlite:///{tmp_path / 'd.sqlite'}", community=community, ruleset=folder / "yinquan.rules",
                     clock=FixedClock(start + timedelta(days=400)), effective=start) as engine:
        gc.collect()  # (no generation's count above its threshold as recording begins)
        gc.set_threshold(100, 2, 10)  # (a middle collection every 300 allocations, were there any)
        gc.callbacks.append(noted)
        try:
            summary = engine.record_many(events)
        finally:
            gc.callbacks.remove(noted)
        assert gc.get_threshold() == (100, 2, 10)
        assert gc.get_freeze_count() == 0
    assert summary.accepted > 500
    assert len(collected) > 20
    assert set(collected) == {0}  # the young generation collected as usual (and once at the end), nothing else


#: In a process of its own, as ``gridcore``'s ``main`` does first: the command line imported, then
#: ``command_started``; prints the thresholds, whether an object made by the imports is still walked by
#: collections, and whether garbage in cycles made afterwards is freed.
_COMMAND_STARTED = """
import gc, weakref
import gridcore_app.cli
from gridcore.garbage import COMMAND_YOUNG_EVERY, command_started

command_started()
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
gc.collect()
print(gc.get_threshold() == (COMMAND_YOUNG_EVERY, 10, 10), gc.get_freeze_count() > 10_000, gone() is None)
"""


def test_a_command_leaves_what_its_imports_made_out_of_collections_and_collects_the_young_less_often() -> None:
    done = subprocess.run([sys.executable, "-c", _COMMAND_STARTED], capture_output=True, text=True, check=True,
                          timeout=120)
    assert done.stdout.split() == ["True", "True", "True"]
