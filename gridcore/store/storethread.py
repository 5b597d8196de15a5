"""A store's own thread: an append (or a query) sent from it while the caller goes on.

The engine judges the next batch of events while a store with ``append_soon`` stores the batch before it
(``Recording._flush``).  The PostgreSQL store sends it to its server from this thread; the SQLite store runs
its transaction here, where ``sqlite3`` lets go of the interpreter while SQLite writes the rows and syncs
its log, so the caller's Python runs meanwhile.  One call at a time, in order: the store makes every other
call on it wait first (``settle``), so that call sees what was sent, and the error of a call sent is raised
by its ``result()`` or, if that was never asked, by the next call (never lost).

Forks: a thread alive at a fork may hold a lock the child then waits for forever (Python 3.12 warns of
such a fork); ``stop`` ends the thread before one (``gridcore_app.forking``), and the next call sent
starts it again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class StoreThread:
    """One worker thread, started with the first call sent, and the call sent last (``pending``)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._native_id: int | None = None  # (its operating system id, once it has started)
        #: the call sent and not yet waited for
        self.pending: Future[Any] | None = None

    def send(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``call(*args)`` in the thread; the caller must have settled the call before (``settle``)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcore-append",
                                            initializer=self._started)
        future = self._pool.submit(call, *args)
        self.pending = future
        return future

    def _started(self) -> None:
        self._native_id = threading.get_native_id()

    def settle(self) -> None:
        """Wait for the call sent, if any, raising its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def stop(self) -> None:
        """Wait for the call sent (its error raised), then end the thread; the next ``send`` starts another."""
        self.settle()
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown()
        # (a thread joined has not always left the process yet: on Linux it is counted until its entry in
        # /proc/self/task is gone, a moment later, and Python 3.12 warns of a fork meanwhile)
        ended, self._native_id = f"/proc/self/task/{self._native_id}", None
        waited = 0
        while os.path.exists(ended) and waited < 2000:
            time.sleep(0.0005)
            waited += 1

    def shutdown(self) -> None:
        """End the thread once the call sent is done, whatever came of it (a store being closed)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()


class Pending(Generic[T]):
    """A call sent to a store's own thread (``append_soon``, ``find_ids_soon``): ``result()`` waits for it."""

    def __init__(self, thread: StoreThread, future: Future[T] | None, nothing: T) -> None:
        self._thread = thread
        self._future = future
        self._nothing = nothing  # (the answer when nothing was sent)

    def result(self) -> T:
        """Wait for the call; its answer, or its error (raised here, not again by the store's next call)."""
        future = self._future
        if future is None:
            return self._nothing
        wait = future.result
        if self._thread.pending is future:
            self._thread.pending = None
        return wait()


#: ``append_soon``'s answer: ``result()`` says how many events were new.
PendingAppend = Pending[int]
#: ``find_ids_soon``'s answer: ``result()`` gives the ids asked that are stored.
PendingFind = Pending[set[str]]

__all__ = ["Pending", "PendingAppend", "PendingFind", "StoreThread"]
