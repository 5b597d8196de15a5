"""The engine kept open: one per process, every request served from it one at a time.

A worker process opens its engine once, at start-up, and keeps it for its whole
life; requests never replay history.  The engine (and its store's connection,
which SQLite ties to the thread that opened it) lives on one dedicated thread:
every call runs there, one at a time (``LiveEngine.run``), which keeps the
event loop free to accept connections meanwhile.

Several worker processes (``gridcore serve --workers N``) share one store.
Before a request is served its engine catches up with what the others
appended (``Engine.refresh``: only the events after its log position, never a
replay).  An action takes the service's write lock first, a file lock every
process writing the same store on this machine shares, then catches up,
judges and appends: the engine always judges against the latest state, so an
event is never stored twice and a derived event (an escalation falling due)
is derived once, by whichever worker gets there first.  Without the lock the
result would be the same (a store appends only at the position its writer
judged against), but a worker that lost a race would rebuild its state.
``gridcore ingest`` and ``gridcore tick`` take the same lock
(``gridcore_app.writelock``); an action finding it held waits off the
engine's thread, so the worker answers reads meanwhile, and for at most
``gridcore serve --lock-wait`` seconds: then it is answered 503 with
``Retry-After`` (``StoreBusy``), nothing stored, and the phone sends it again.

A test clock (``--test-clock``) is shared the same way: ``tick`` stores the
time it moved to, and every worker moves its clock there before it serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pluggy

from gridcore import Engine, FixedClock, SystemClock
from gridcore.clock import Clock
from gridcore.errors import StoreError
from gridcore.garbage import settle
from gridcore.plugin_host import STATE_SUFFIX, get_plugin_manager
from gridcore_app.writelock import Holder, WriteLock

from .intake import STAMP_AHEAD

T = TypeVar("T")

#: where a test clock's time is kept in the store, for every worker to follow
TEST_CLOCK = "service.test_clock"
#: requests served between two ``gridcore.garbage.settle`` (garbage in cycles among the objects frozen freed)
SETTLE_EVERY = 10_000


#: seconds between two tries of a write lock another process holds: first, and at most
LOCK_POLL = (0.01, 0.2)


class WriteLockBusy(Exception):
    """The write lock is held by another process (``LiveEngine.acting``)."""


class StoreBusy(Exception):
    """An action waited ``waited`` seconds for the write lock and gave up, nothing done (``LiveEngine.act``);
    ``holder`` is who declared they hold it (``gridcore ingest``), if anyone did."""

    def __init__(self, waited: float, holder: Holder | None) -> None:
        super().__init__(f"the write lock is held; gave up after {waited:.1f} s")
        self.waited = waited
        self.holder = holder


class LiveEngine:
    """An open engine on its own thread.

    The clock is the system clock in service; a ``FixedClock`` (``gridcore
    serve --test-clock``) lets tests move time with ``tick``.
    """

    def __init__(self, executor: ThreadPoolExecutor, engine: Engine, lock: WriteLock | None = None) -> None:
        self._executor = executor
        self.engine = engine
        self._lock = lock
        self._served = 0

    @classmethod
    def open(
        cls,
        store: str,
        *,
        now: datetime | None = None,
        disabled_plugins: Iterable[str] = (),
        plugins: pluggy.PluginManager | None = None,
    ) -> LiveEngine:
        """Open the engine on an existing store (``StoreError`` if there is none at ``store``)."""
        _must_exist(store)
        clock: Clock = FixedClock(now) if now is not None else SystemClock()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcore-engine")
        pm = plugins if plugins is not None else get_plugin_manager(tuple(disabled_plugins))
        lock = WriteLock.for_store(store)
        try:
            engine = executor.submit(lambda: Engine.open(store=store, clock=clock, plugins=pm,
                                                                 create=False)).result()
        except BaseException:
            executor.shutdown()
            if lock is not None:
                lock.close()
            raise
        return cls(executor, engine, lock)

    @property
    def test_clock(self) -> bool:
        """True when time only moves when told (``tick``)."""
        return isinstance(self.engine.clock, FixedClock)

    async def run(self, work: Callable[[Engine], T]) -> T:
        """Run ``work(engine)`` on the engine's thread, alone, and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self.engine)

    def reading(self, engine: Engine, work: Callable[[Engine], T]) -> T:
        """On the engine's thread: catch up with the store, then run ``work(engine)`` (a read).

        Every ``SETTLE_EVERY`` requests, first ``gridcore.garbage.settle``
        (while the service runs: garbage in cycles among what the collector
        leaves out is freed, docs/service.md).
        """
        self._served += 1
        if self._served % SETTLE_EVERY == 0:
            settle()
        self._catch_up(engine)
        return work(engine)

    def acting(self, engine: Engine, work: Callable[[Engine], T]) -> T:
        """On the engine's thread: take the write lock, catch up, then run ``work(engine)`` (an action).

        ``WriteLockBusy`` if another process holds the lock: the caller waits
        off the engine's thread and tries again (``act``), so the engine serves
        reads meanwhile.  (Waiting on the engine's thread stopped every read
        of the worker while a ``gridcore ingest`` beside it held the lock.)
        """
        if self._lock is None:  # pragma: no cover - not on POSIX
            return self.reading(engine, work)
        if not self._lock.try_acquire():
            raise WriteLockBusy
        try:
            return self.reading(engine, work)
        finally:
            self._lock.__exit__()

    async def act(self, call: Callable[[Engine], T], *, wait: float | None = None) -> T:
        """Run ``call(engine)`` on the engine's thread, again while it raises ``WriteLockBusy`` (``call`` runs
        ``acting``): the event loop waits between two tries, and the engine serves reads meanwhile.

        After ``wait`` seconds of tries (None: no limit), ``StoreBusy``: every try found the lock held and
        did nothing, so nothing of the action is stored.
        """
        pause = LOCK_POLL[0]
        started = time.monotonic()
        while True:
            try:
                return await self.run(call)
            except WriteLockBusy:
                waited = time.monotonic() - started
                if wait is not None and waited >= wait:
                    raise StoreBusy(waited, self._lock.holder() if self._lock is not None else None) from None
                await asyncio.sleep(pause if wait is None else min(pause, wait - waited))
                pause = min(pause * 2, LOCK_POLL[1])

    def _catch_up(self, engine: Engine) -> None:
        """The test clock where another worker moved it, and every event other writers appended."""
        if isinstance(engine.clock, FixedClock):
            shared = engine.store.get(TEST_CLOCK, "now")
            if shared is not None:
                when = datetime.fromisoformat(str(shared["now"]))
                if when > engine.clock.now():
                    engine.clock.set(when)
        engine.refresh()
        if isinstance(engine.clock, FixedClock):
            # A test clock stands still, but actions are stamped just after the latest event
            # (intake.local_now): reads see them, as they would a moment later on the system clock.
            now, latest = engine.clock.now(), engine.latest_event_time
            if latest is not None and now < latest < now + STAMP_AHEAD:
                engine.clock.set(latest)

    def call(self, work: Callable[[Engine], T]) -> T:
        """Run ``work(engine)`` on the engine's thread and wait for it (outside the event loop)."""
        return self._executor.submit(work, self.engine).result()

    def close(self) -> None:
        """Close the engine (and its store) and stop its thread."""
        try:
            self.call(lambda engine: engine.close())
        finally:
            self._executor.shutdown()
            if self._lock is not None:
                self._lock.close()


def load_every_state(engine: Engine) -> None:
    """Every plugin's state restored now, where an engine opened from a checkpoint leaves it in the store
    until first used: the service loads it when it starts (before it leaves it out of garbage collections,
    ``gridcore.garbage.serving``), not in its first request."""
    for name, plugin in engine.plugins.list_name_plugin():
        if plugin is not None and name.endswith(STATE_SUFFIX):
            engine.state(name.removesuffix(STATE_SUFFIX))


def share_test_clock(engine: Engine, when: datetime) -> None:
    """Keep ``when`` as the test clock's time in the store: every worker moves its clock there."""
    engine.store.put(TEST_CLOCK, "now", {"now": when.isoformat()})


def _must_exist(store: str) -> None:
    """A service never creates a store: a mistyped path or file is an error naming it."""
    local = store.removeprefix("sqlite:///") if store.startswith("sqlite:///") else store
    if "://" not in local and not Path(local).exists():
        raise StoreError(
            f"no store at {store}; create one first (gridcore init --community DIR --store {store}) "
            f"or check the path (没有这个存储：{store}；请先用 gridcore init 创建，或检查路径)"
        )
