"""Python's cyclic garbage collector during a long ingest: fewer full collections.

A full collection walks every object the process holds (an engine's state, the
events of the file being read): during an ingest that state only grows, so the
collections find almost nothing, and the more the process holds the longer
each takes (10% of an ingest's CPU at 100,000 events).  While the engine
records, replays its store or gives a plugin its state from a checkpoint
(tens of megabytes of JSON for the points ledger of a big store: a third of
that CPU went to full collections), ``fewer_full_collections`` raises the collector's third threshold
(full collections after ``FULL_EVERY`` collections of the middle generation
instead of Python's 10); the young generations are collected as usual, so short-lived
cycles are freed as promptly as before.  The thresholds are restored when the
last ingest running in the process ends.  Nothing else changes: no object is
kept alive or freed differently, only later.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Collections of the middle generation between two full collections while the engine records.
FULL_EVERY = 100

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Full collections at most every ``FULL_EVERY`` middle ones while inside (nested and threads alike)."""
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            if len(_saved) == 3 and _saved[2] < FULL_EVERY:
                gc.set_threshold(_saved[0], _saved[1], FULL_EVERY)
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and len(_saved) == 3 and gc.get_threshold()[2] == FULL_EVERY:
                gc.set_threshold(*_saved)
