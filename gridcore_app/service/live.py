"""The engine kept open: one per process, every request served from it one at a time.

A worker process opens its engine once, at start-up, and keeps it for its whole
life; requests never replay history.  The engine (and its store's connection,
which SQLite ties to the thread that opened it) lives on one dedicated thread:
every call runs there, one at a time (``LiveEngine.run``), which keeps the
event loop free to accept connections meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pluggy

from gridcore import Engine, FixedClock, SystemClock
from gridcore.clock import Clock
from gridcore.errors import StoreError
from gridcore.plugin_host import get_plugin_manager

T = TypeVar("T")


class LiveEngine:
    """An open engine on its own thread.

    The clock is the system clock in service; a ``FixedClock`` (``gridcore
    serve --test-clock``) lets tests move time with ``tick``.
    """

    def __init__(self, executor: ThreadPoolExecutor, engine: Engine) -> None:
        self._executor = executor
        self.engine = engine

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
        try:
            engine = executor.submit(lambda: Engine.open(store=store, clock=clock, plugins=pm)).result()
        except BaseException:
            executor.shutdown()
            raise
        return cls(executor, engine)

    @property
    def test_clock(self) -> bool:
        """True when time only moves when told (``tick``)."""
        return isinstance(self.engine.clock, FixedClock)

    async def run(self, work: Callable[[Engine], T]) -> T:
        """Run ``work(engine)`` on the engine's thread, alone, and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self.engine)

    def call(self, work: Callable[[Engine], T]) -> T:
        """Run ``work(engine)`` on the engine's thread and wait for it (outside the event loop)."""
        return self._executor.submit(work, self.engine).result()

    def close(self) -> None:
        """Close the engine (and its store) and stop its thread."""
        try:
            self.call(lambda engine: engine.close())
        finally:
            self._executor.shutdown()


def _must_exist(store: str) -> None:
    """A service never creates a store: a mistyped path or file is an error naming it."""
    local = store.removeprefix("sqlite:///") if store.startswith("sqlite:///") else store
    if "://" not in local and not Path(local).exists():
        raise StoreError(
            f"no store at {store}; create one first (gridcore init --community DIR --store {store}) "
            "or check the path"
        )
