"""Costly work a test session does once, shared by every test process that asks for it; a store's engine
opened once for a test's many commands.

pytest-xdist runs the tests in several worker processes, each with its own
session- and module-scoped fixtures: a store or a demo quarter built by such a
fixture is built again in every worker one of its tests lands in.  ``built_once``
builds it once for the whole session: the first process to ask builds it in a
folder of the session's (its workers' temporary folders share a parent), under a
lock the others wait on, and keeps its result (pickled) beside it for them.  What
is built there must only be read afterwards: every process reads the same folder.

``opened_once`` keeps the engine the first of a test's CLI commands on a store opens for the commands after it:
opening the store is most of what a command that only reads does on a demo's store (0.4-0.8 s of CPU).
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from gridcore import Engine

T = TypeVar("T")


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> tuple[Path, T]:
    """The folder ``build`` filled and its result, built by the first test process of this session to ask for
    ``name`` (a build that raised is tried again by the next process to ask, which then sees the error itself)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # this session's, shared by its workers (each has its own folder in it)
    folder, kept = root / f"built-once-{name}", root / f"built-once-{name}.pickle"
    with open(root / f"built-once-{name}.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not kept.exists():
            folder.mkdir(exist_ok=True)
            result = build(folder)
            writing = kept.with_suffix(".writing")
            writing.write_bytes(pickle.dumps(result))
            writing.replace(kept)
    result_read: T = pickle.loads(kept.read_bytes())
    return folder, result_read


@contextmanager
def opened_once(store: str) -> Iterator[None]:
    """While it lasts, the CLI's commands on ``store`` that only read share one engine: the first such command's
    ``open_engine`` opens it as ever (read-only, that invocation's plugins) and keeps it open; each later one's is
    given that engine, its clock set as its open would set it (``--now``, else the system clock; ``--now latest``:
    ``open_engine`` moves it to the newest event, as ever).  A command that writes (``gridcore assess`` stores its
    ratings) opens the store itself, as ever, and the engine kept before it is closed: the next command that reads
    opens the store again and sees what it wrote.  Closed at the end.  A command on another store (a missing one,
    a scratch one) opens it itself, as ever."""
    real_open = Engine.open
    kept: list[Engine] = []

    def close_kept() -> None:
        if kept:
            Engine.close(kept.pop())

    def open_kept(*args: object, **kwargs: object) -> Engine:
        if kwargs.get("store") != store:
            return real_open(*args, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("read_only") is not True:
            close_kept()
            return real_open(*args, **kwargs)  # type: ignore[arg-type]
        if not kept:
            engine = real_open(*args, **kwargs)  # type: ignore[arg-type]
            engine.close = lambda: None  # type: ignore[method-assign]  # (open_engine's, at each command's end)
            kept.append(engine)
        kept[0].clock = kwargs["clock"]  # type: ignore[assignment]
        return kept[0]

    try:
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(Engine, "open", open_kept)
            yield
    finally:
        close_kept()
