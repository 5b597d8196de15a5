"""Python's cyclic garbage collector during a long ingest: fewer full collections.

A full collection walks every object the process holds (an engine's state, the
events of the file being read): during an ingest that state only grows, so the
collections find almost nothing, and the more the process holds the longer
each takes (10% of an ingest's CPU at 100,000 events).  While the engine
records, ticks, stores a checkpoint (its documents live until stored),
replays its store or gives a plugin its state from a checkpoint (tens of
megabytes of JSON for the points ledger of a big store: a third of that CPU
went to full collections), and while ``gridcore ingest`` reads the next
chunk of a file between two calls, ``fewer_full_collections`` raises the
collector's third threshold (full collections after ``FULL_EVERY``
collections of the middle generation instead of Python's 10); the young
generations are collected as usual, so short-lived cycles are freed as
promptly as before.  The thresholds are restored when the
last ingest running in the process ends.  Nothing else changes: no object is
kept alive or freed differently, only later.

``FULL_EVERY`` is 1,000: a full collection after about 7,000,000 young
allocations, where 100 made one every 700,000 (every 60,000 events of a
fixed-population log at 900,000 events, 11.6 allocations an event).  Each
walked what the process held then (358,000 tracked objects at 900,000
events: 0.3 s of CPU, 5 to 7 us an event on average) and found nothing:
recording makes no garbage in cycles (15 objects after 7,337 events of a
simulated community with its checkpoints, all of them functions cattrs
generates once; 135 in a whole ingest of 114,716 district events, the plugin
manager an engine replaces when it opens; ``tests/test_garbage.py`` checks
it).  What waits longer for a full collection is only what a plugin leaves in
cycles.

``Engine.record_many`` goes further (``recording``): while it runs, no
collection of the middle generation at all (its threshold ``NO_MIDDLE``, never
reached).  A middle collection walks what the young collections kept since the
last (during an ingest: the state being built, which lives on) before moving
it to the oldest generation, and finds almost nothing (3 objects in 190 middle
collections over 100,000 events of a fixed population): without them the
standard window of ``benchmarks/ingest_windows.py`` counts 1.5% fewer
instructions an event.  When the last call recording in the process ends
after young collections were made, the young generation is collected once
more (garbage in cycles made and dropped while recording is freed then, as a
young collection would have) and what survives, with what the middle
generation holds, is moved to the oldest generation without a walk
(``gc.freeze()`` then ``gc.unfreeze()``); a call that made none (one event)
leaves what it kept in the young generation, as before.  The middle threshold
is given back (unless the application set another meanwhile) on every way
out, exceptions included.

It does so only with the collector enabled and nothing frozen (by
``command_started``, so not in ``gridcore ingest``, whose young collections are
rarer and middle ones few; a read, ``serving``, or the application itself: a
server that froze its objects before forking keeps them frozen; the few hundred
objects CPython 3.12 keeps frozen from its start-up do not count), and a read or
``serving`` that begins meanwhile,
in any thread, ends it first (the middle threshold given back): otherwise
recording is as ``fewer_full_collections``.  Full collections come as often
as before: the young collections made while recording are counted, and once
they would have made ``FULL_EVERY`` middle collections (each after the middle
threshold plus one young ones) the end of a call makes a full collection.
Garbage in cycles that survives a young collection while recording waits for
that full collection instead of a middle one: recording makes almost none
(below; 100,000 events of a fixed population, in one call or in calls of
1,000, left the same garbage for the next full collection as before, measured
in ``docs/benchmarks.md``).  An application that freezes objects in another
thread at the moment a recording call ends could find them given back to the
collector: freeze from the thread that records, or around ``serving``.

A read that decodes a period's worth of the store (a district's roll-up: a
quarter's parts of the points ledger and of the closed incidents, tens of
megabytes of JSON made into objects it keeps until it is done) meets the
same collector: almost every object it makes survives, so each young
collection finds nothing and each full one walks the objects the process
already held (an ingest's whole state, when the roll-up runs in the process
that recorded) plus all the read made so far; a third of a quarter's roll-up
went to it.  ``fewer_collections_while_reading`` leaves out of collections
what the process held when the read began (``gc.freeze``), collects the
young generation every ``YOUNG_EVERY`` allocations instead of Python's 700,
and full collections as ``fewer_full_collections`` does; everything is
given back (thresholds, and the frozen objects to the collector) when the
last such read ends.  Garbage the read makes in cycles is freed later, never
kept.

A process that serves from an engine it keeps open (``gridcore serve``: a
request records an event or reads, then the process waits for the next) is
neither: what it holds is the engine's state, loaded once at start, and each
full collection between two calls walks all of it (a month of a district:
220,000 tracked objects, 90-100 ms of CPU a collection, one every 140 requests
with Python's thresholds; the request that meets it waits that long).
``serving`` holds, for as long as the block runs, what such a process needs:
one full collection on entering (what opening left in cycles is freed), then
``gc.freeze`` (what the process holds then, the state, is left out of later
collections), and full collections as rare as while recording
(``fewer_full_collections``); the young generations are collected as usual.
Objects frozen are still freed when nothing refers to them; only garbage in
cycles among them waits, for ``settle`` (the objects given back to the
collector, one full collection, what survives frozen again: the server calls
it now and then, and the engine after it rebuilt its state, whose old state
is just such garbage: ``serving_now``) or the end of the block, which gives
everything back.  A
read inside (``fewer_collections_while_reading``) leaves frozen what was
frozen when it began.

A command (``gridcore points board``, ``gridcore check``: a process that
imports the plugins, opens a store, prints and ends) meets the collector
while it starts: its imports make about 80,000 objects that live as long as
the process, and Python's first threshold of 700 allocations had a read
command collect about 200 times, each young collection walking what the last
imports made and each middle and full one what every import made (a tenth of
the command's CPU time).  ``command_started`` (the command line calls it
once, first thing in ``main``) leaves what the imports made out of later
collections (``gc.freeze``) and collects the young generation every
``COMMAND_YOUNG_EVERY`` allocations; the other thresholds are Python's (a
long command, an ingest or ``gridcore serve``, then sets its own as above).
Garbage in cycles is freed as before, in larger batches.

Memory freed is not memory given back.  A checkpoint makes a few large
blocks at once (each plugin's document as JSON, a copy of it in the store's
driver: megabytes each for the points state of a big community) and frees
them when stored; glibc's ``malloc`` then keeps the freed space in its heap
for later, unless it lies at the top, and after the first large block freed
it takes later ones from that heap too (its mapping threshold rises to that
size).  A process recording all day so held tens of megabytes no object used
(41 MiB free in its heap at 300,000 events of a fixed population:
``benchmarks/engine_memory.py``).  ``give_back_free_memory`` asks glibc to
return what is free in its heap to the system (``malloc_trim``): the engine
calls it after each checkpoint it stores.  Nothing is freed that was in use;
elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

#: Collections of the middle generation between two full collections while the engine records.
FULL_EVERY = 1000
#: Allocations (of container objects, net of those freed) between two young collections while reading.
YOUNG_EVERY = 100_000
#: ... and in a command's process (``command_started``)
COMMAND_YOUNG_EVERY = 10_000
#: The middle generation's threshold while the engine records (``recording``): never reached
NO_MIDDLE = 1 << 30
#: Seconds ``settle`` waits at most for a collection another thread is making to end
SETTLE_WAIT = 5.0

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] = ()
_reading = 0
_read_saved: tuple[int, ...] = ()
_read_set: tuple[int, ...] = ()
_serving = 0
_recording = 0
_middle: int | None = None  # the middle threshold ``recording`` replaced by ``NO_MIDDLE`` (None: it did not)
_middle_was = 10  # ... the last it replaced
_young_at = 0  # the young collections since the last middle one when it did
_skipped = 0  # young collections made without a middle one while recording since the last full collection it made
_command = False  # ``command_started`` was called (what the imports made is frozen)
#: What the permanent generation held when this module was imported: CPython 3.12 keeps a few hundred objects of its
#: own there from start-up (3.12.1: 375; 3.11 and 3.13 none). Only more than that is an application's ``gc.freeze()``.
_FROZEN_AT_IMPORT = gc.get_freeze_count()


def _application_froze() -> bool:
    """Whether the application froze objects (``gc.freeze``) that ``recording`` must leave frozen."""
    return gc.get_freeze_count() > _FROZEN_AT_IMPORT


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Full collections at most every ``FULL_EVERY`` middle ones while inside (nested and threads alike)."""
    with _lock:
        _full_rarer()
    try:
        yield
    finally:
        with _lock:
            _full_back()


def _full_rarer() -> None:
    """(Under ``_lock``.)  ``fewer_full_collections`` begins."""
    global _running, _saved
    if _running == 0:
        _saved = gc.get_threshold()
        if len(_saved) == 3 and _saved[2] < FULL_EVERY:
            gc.set_threshold(_saved[0], _saved[1], FULL_EVERY)
    _running += 1


def _full_back() -> None:
    """(Under ``_lock``.)  ``fewer_full_collections`` ends."""
    global _running
    _running -= 1
    if _running == 0 and len(_saved) == 3 and gc.get_threshold()[2] == FULL_EVERY:
        gc.set_threshold(*_saved)


@contextmanager
def recording() -> Iterator[None]:
    """While the engine records: as ``fewer_full_collections``, and, while nothing is frozen, no middle-generation
    collections; when the last such block ends after young collections, one more and what survives moved to the
    oldest generation without a walk, and a full collection once as many middle ones were left out as make one
    (nested and threads alike; see the module's text)."""
    global _recording, _skipped
    with _lock:
        _full_rarer()  # (``fewer_full_collections``, written out: entered for every call recording)
        if _recording == 0:
            _no_middle()
        _recording += 1
    young = 0
    try:
        yield
    finally:
        with _lock:
            _recording -= 1
            if _recording == 0:
                young = _middle_back()
            _full_back()
    if young > 0:  # (none: what the call kept is still in the young generation, collected as ever)
        # (outside the lock: a finalizer the collection runs may record, and so take it)
        gc.collect(0)  # garbage in cycles made and dropped while recording freed, as a young collection does
        with _lock:
            full = False
            if not (_reading or _serving or _command) and gc.isenabled() and not _application_froze():
                gc.freeze()  # (everything the collector tracks, into the permanent generation: no walk)
                gc.unfreeze()  # (... and all of it into the oldest generation)
                _skipped += young
                full = _skipped >= max(gc.get_threshold()[2], FULL_EVERY) * (_middle_was + 1)
                if full:
                    _skipped = 0
        if full:
            gc.collect()  # (as often as the middle collections left out would have made one)


def _no_middle() -> None:
    """(Under ``_lock``, as the first call recording begins.)  No middle-generation collections from now, when
    the collector is enabled and nothing is frozen."""
    global _middle, _middle_was, _young_at
    if _reading or _serving or _command or not gc.isenabled() or _application_froze():
        return
    thresholds = gc.get_threshold()
    if len(thresholds) == 3 and thresholds[1] < NO_MIDDLE:
        _middle = _middle_was = max(thresholds[1], 0)
        _young_at = gc.get_count()[1]  # (the young collections since the last middle one)
        gc.set_threshold(thresholds[0], NO_MIDDLE, thresholds[2])


def _middle_back() -> int:
    """(Under ``_lock``.)  The middle threshold ``_no_middle`` replaced given back (unless the application set
    another meanwhile); how many young collections were made meanwhile (-1: it replaced none)."""
    global _middle
    if _middle is None:
        return -1
    thresholds = gc.get_threshold()
    if thresholds[1] == NO_MIDDLE:
        gc.set_threshold(thresholds[0], _middle, thresholds[2])
    _middle = None
    return max(gc.get_count()[1] - _young_at, 0)


@contextmanager
def fewer_collections_while_reading() -> Iterator[None]:
    """Young collections every ``YOUNG_EVERY`` allocations, full ones at most every ``FULL_EVERY`` middle
    ones, and what the process held before left out of them, while inside (nested and threads alike).

    Thresholds set meanwhile by the application are left alone; an ingest
    still running in another thread keeps its rarer full collections.
    """
    global _reading, _read_saved, _read_set, _saved
    with _lock:
        if _reading == 0:
            _middle_back()  # (a recording under way collects as ``fewer_full_collections`` now)
            _read_saved = gc.get_threshold()
            if len(_read_saved) == 3:
                _read_set = (max(_read_saved[0], YOUNG_EVERY), _read_saved[1], max(_read_saved[2], FULL_EVERY))
                gc.set_threshold(*_read_set)
            gc.freeze()
        _reading += 1
    try:
        yield
    finally:
        with _lock:
            _reading -= 1
            if _reading == 0:
                if not _serving:
                    gc.unfreeze()  # (while serving, what was frozen stays so: ``serving`` gives it back)
                if _running and _saved == _read_set:
                    _saved = _read_saved  # an ingest began meanwhile: it gives back what was there before
                if len(_read_saved) == 3 and gc.get_threshold() == _read_set:
                    young, middle, full = _read_saved
                    gc.set_threshold(young, middle, max(full, FULL_EVERY) if _running else full)


@contextmanager
def serving() -> Iterator[None]:
    """While inside: what the process holds on entering left out of collections (after one full collection),
    and full collections at most every ``FULL_EVERY`` middle ones; everything given back when the outermost
    block ends (nested and threads alike).

    For a process that keeps an engine open and serves from it (``gridcore
    serve``); see the module's text.
    """
    global _serving
    with _lock:
        first = _serving == 0
        _serving += 1
        _middle_back()
    if first:  # (outside the lock: a finalizer the collection runs may record, and so take it)
        gc.collect()
        gc.freeze()
    try:
        with fewer_full_collections():
            yield
    finally:
        with _lock:
            _serving -= 1
            if _serving == 0 and _reading == 0:
                gc.unfreeze()


def command_started() -> None:
    """In a command's process, once its imports are done: what they made left out of later collections, and
    young collections every ``COMMAND_YOUNG_EVERY`` allocations (see the module's text)."""
    global _command
    with _lock:
        _command = True
        _middle_back()
    gc.freeze()
    thresholds = gc.get_threshold()
    if len(thresholds) == 3 and thresholds[0] < COMMAND_YOUNG_EVERY:
        gc.set_threshold(COMMAND_YOUNG_EVERY, thresholds[1], thresholds[2])


def serving_now() -> bool:
    """True inside ``serving`` (in any thread)."""
    return _serving > 0


def settle() -> bool:
    """While ``serving`` and no read is under way: the frozen objects given back to the collector, one full
    collection (garbage in cycles among them freed), and what survives frozen again; True if done (False
    also when another thread's collection kept it from collecting for ``SETTLE_WAIT`` seconds).

    One full collection of everything the process holds: call it rarely, and
    from the thread that reads (a read beginning meanwhile in another thread
    would find its objects given back).
    """
    with _lock:
        if not _serving or _reading:
            return False
    gc.unfreeze()
    try:
        return _collected_fully()
    finally:
        gc.freeze()


def _collected_fully() -> bool:
    """One full collection made here; False if another thread's collection held it off for ``SETTLE_WAIT`` s.

    ``gc.collect()`` does nothing and returns 0 while another thread is
    collecting (its collection runs Python code, a finalizer or a callback of
    ``gc.callbacks``, and the interpreter switched threads meanwhile): a
    settle that met one freed nothing and said it had (a service's own test,
    in a long test process, on Python 3.13).  Whether a full collection ran is
    in ``gc.get_stats()``: until one did, wait for the other thread's to end
    and collect again.
    """
    waited_until = time.monotonic() + SETTLE_WAIT
    while True:
        made = gc.get_stats()[-1]["collections"]
        gc.collect()
        if gc.get_stats()[-1]["collections"] > made:
            return True
        if time.monotonic() >= waited_until:
            return False
        time.sleep(0.001)  # (the other thread's collection ends meanwhile)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None where the C library has none)."""
    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # (the C library the process was linked with)
    except (OSError, TypeError):
        return None
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast(Callable[[int], int], trim)


def give_back_free_memory() -> None:
    """Give the C allocator's free memory back to the system (glibc's ``malloc_trim``; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
