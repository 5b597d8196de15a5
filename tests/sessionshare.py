"""Costly work a test session does once, shared by every test process that asks for it.

pytest-xdist runs the tests in several worker processes, each with its own
session- and module-scoped fixtures: a store or a demo quarter built by such a
fixture is built again in every worker one of its tests lands in.  ``built_once``
builds it once for the whole session: the first process to ask builds it in a
folder of the session's (its workers' temporary folders share a parent), under a
lock the others wait on, and keeps its result (pickled) beside it for them.  What
is built there must only be read afterwards: every process reads the same folder.
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

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
