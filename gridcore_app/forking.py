"""Forks that share this process's state: a roll-up's workers (``gridcore_app.rollup``), the what-if's
second replay (``gridcore_app.whatif``) and the service's roll-ups (``gridcore_app.service.rollups``).

A forked child holds a copy of its parent with one thread, the one that forked: a lock another thread held
at that moment stays held in the child, and the child waits for it forever if it takes it (Python 3.12 and
later warn of such a fork: ``DeprecationWarning: This process ... is multi-threaded, use of fork() may lead
to deadlocks in the child``).  The children here need the parent's state (an engine's, the events kept), so
they are forked, not spawned (a spawned process imports gridcore again and rebuilds the state: docs/district.md
measures it), and so no other thread may be alive when they are: the only thread gridcore starts in such a
process, a PostgreSQL or SQLite store's (``append_soon``: ``gridcore.store.storethread``), is ended first (it starts again with the next
append), and a roll-up or a what-if in a process running threads of its own (an embedding application's)
computes its parts here, one after the other, with the same results.  Only Python's threads are counted:
gridcore starts no other, and a test runner's own (pytest-xdist's) is none of the process's work.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any


def end_store_thread(store: Any) -> None:
    """End ``store``'s own thread, if it has one (``stop_thread`` of a PostgreSQL or SQLite store), once its work is done."""
    stop = getattr(store, "stop_thread", None)
    if stop is not None:
        stop()


def may_fork(store: Any = None) -> bool:
    """True when this process can fork a child that shares its state safely: ``fork`` exists, and, once
    ``store``'s own thread is ended, no Python thread but this one is alive."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    end_store_thread(store)
    return threading.active_count() == 1


__all__ = ["end_store_thread", "may_fork"]
