"""A writer for the power-loss test (tests/test_sqlite_power_loss.py): records simulated days of 银泉 into a
SQLite store in small calls and batches, with checkpoints and sealed parts written often, and kills itself
(SIGKILL: no cleanup, nothing flushed or closed beyond what SQLite already wrote) at the point it is given.

Usage: python engine_power_writer.py STORE_URL SEED STOP

``STOP`` is ``WHEN KIND N``: ``WHEN`` one of ``before`` (as the write is called), ``inside`` (at its
``COMMIT``: its rows written in its transaction, not committed) or ``after`` (as it returns, committed);
``KIND`` one of ``batch`` (the store's ``append``, or ``append_soon`` waited for at once), ``checkpoint`` (a ``put_many`` of checkpoints) or
``document`` (any other write between batches: sealed parts, their names, remembered refusals); ``N`` which
of them, from 1.  The point is chosen by the test, so every run cuts where it says, whatever the machine's
load (a kill timed from outside lands where it happens to).  A writer that reaches no such point prints
``done`` and exits 0.

What it prints as it goes (each line flushed before the next write): after each batch the store appended
(its ``append`` returned: a commit that syncs SQLite's log), the log position and where the current
generation of the store's ``-wal`` file ended then (``wal_end``), as JSON; after each checkpoint stored,
``{"checkpoint": position}``; after each other document written between batches (a write that changed the
store), ``document``.  Everything up to the last batch's point of the log is durable; what is written after
it without a sync (sealed parts, their names, checkpoints) may be lost by a power loss, the test's cuts of
the log.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

CST = timezone(timedelta(hours=8))


def wal_end(wal: Path) -> dict[str, Any]:
    """``{"salt": [s1, s2], "end": n}``: the salts of the log's current generation and the byte just past its
    last commit frame (32, the header's size, when it has none; salt None without a log)."""
    salt, ends, _ = wal_frames(wal.read_bytes() if wal.exists() else b"")
    return {"salt": salt, "end": ends[-1] if ends else 32}


def wal_frames(data: bytes) -> tuple[list[int] | None, list[int], int]:
    """``(salt, ends, frame)`` of a SQLite WAL file's bytes: the salts of its header, the offsets just past
    each commit frame of that generation (frames carry their generation's salts: a log reused after a
    checkpoint keeps the older generation's frames after the new ones), and a frame's size."""
    import struct

    if len(data) < 32:
        return None, [], 0
    page_size, salt1, salt2 = struct.unpack(">I", data[8:12])[0], *struct.unpack(">II", data[16:24])
    frame = 24 + page_size
    ends = []
    at = 32
    while at + frame <= len(data):
        _, commit, s1, s2 = struct.unpack(">IIII", data[at:at + 16])
        if (s1, s2) != (salt1, salt2):
            break
        at += frame
        if commit:
            ends.append(at)
    return [salt1, salt2], ends, frame


#: What is made small (module, name, value), so parts are sealed, stored and named between batches (as
#: tests/test_checkpoint_properties.py does); the reader of the writer's store must use the same.
SMALL_PARTS = (("gridcore_points.history", "PART_SIZE", 4), ("gridcore_points.history", "CHAPTER_PARTS", 1),
               ("gridcore_points.sealed", "PART_IDS", 2), ("gridcore_points.sealed", "MAP_PART_IDS", 2),
               ("gridcore_points.checkpoint", "LOT_PART", 2), ("gridcore_escalation.archive", "PART_SIZE", 2),
               ("gridcore_escalation.archive", "CHAPTER_PARTS", 1), ("gridcore_tasks.archive", "PART_SIZE", 1),
               ("gridcore_tasks.archive", "CHAPTER_PARTS", 1), ("gridcore.checkpointing", "CHECKPOINT_PAGE", 3))


def small_parts(setattr: Any) -> None:
    """Make parts small with ``setattr(module, name, value)`` (``builtins.setattr``, or pytest's
    ``MonkeyPatch.setattr``)."""
    import importlib

    for module, name, value in SMALL_PARTS:
        setattr(importlib.import_module(module), name, value)


class Stop:
    """The point ``WHEN KIND N`` where the writer kills itself, and the count of each kind of write so far."""

    KINDS = ("batch", "checkpoint", "document")

    def __init__(self, spec: str, changes: Any) -> None:
        when, kind, n = spec.split()
        if when not in ("before", "inside", "after") or kind not in self.KINDS or not n.isdigit() or int(n) < 1:
            raise SystemExit(f"not a stop point: {spec!r}")
        self.when, self.kind, self.n = when, kind, int(n)
        self.changes = changes  # (the rows the store's connection has changed so far)
        self.counts = dict.fromkeys(self.KINDS, 0)
        self.writing: str | None = None  # (the kind of the write under way)

    def at(self, when: str, kind: str) -> None:
        """Kill this process if ``when`` in the current write of ``kind`` is the point."""
        if (when, kind, self.counts[kind]) == (self.when, self.kind, self.n):
            os.kill(os.getpid(), signal.SIGKILL)  # (as a kill from outside: no cleanup, no flush, no close)

    def statement(self, sql: str) -> None:
        """The connection's trace callback: ``inside`` is the ``COMMIT`` of the write under way."""
        if self.writing is not None and sql == "COMMIT":
            self.at("inside", self.writing)

    def wrap(self, write: Any, tell: Any) -> Any:
        """``write`` (``append`` counted as ``batch``, a ``put_many`` of checkpoints as ``checkpoint``, other
        writes between batches as ``document``), its stop points checked, and, as it returns having changed
        the store (a merge of nothing writes nothing), a line saying what it wrote and ``tell()``: where the
        log ended then."""
        def stopping(*args: Any, **kwargs: Any) -> Any:
            kind = ("batch" if write.__name__ in ("append", "append_soon") else
                    "checkpoint" if args and args[0] == "checkpoints" else "document")
            self.counts[kind] += 1
            self.at("before", kind)
            before = self.changes()
            self.writing = kind
            try:
                result = write(*args, **kwargs)
                if write.__name__ == "append_soon":
                    result.result()  # (the batch stored in the store's thread: waited for here, so its points
                    # fall where an ``append``'s do; its COMMIT is traced in that thread, ``inside`` killing there)
            finally:
                self.writing = None
            if self.changes() != before:
                said: dict[str, Any] = {"wrote": kind, "n": self.counts[kind]}
                if kind == "checkpoint":  # (the position it restores: its slot's document says)
                    said["checkpoint"] = next(doc["position"] for key, doc in args[1].items()
                                              if key.startswith("slot-") and key[5:].isdigit())
                print(json.dumps({**said, **tell()}), flush=True)
            self.at("after", kind)
            return result

        return stopping


def main() -> None:
    url, seed = sys.argv[1], int(sys.argv[2])
    stop = Stop(sys.argv[3], lambda: store._db.total_changes)
    from gridcore import Engine, FixedClock, get_plugin_manager
    from gridcore.store.sqlite_store import sqlite_path
    from gridcore_app.rosterio import load_community
    from gridcore_app.scenario import load_scenario
    from gridcore_app.simulate import RULESETS_DIR, simulate

    small_parts(setattr)
    folder = RULESETS_DIR / "yinquan"
    community = load_community(folder)
    events = list(simulate(community, load_scenario(folder / "scenario.yaml"), days=6, start=date(2025, 3, 27), seed=seed))
    wal = Path(f"{sqlite_path(url)}-wal")
    engine = Engine.open(store=url, community=community, ruleset=folder / "yinquan.rules",
                         effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(datetime(2025, 6, 1, tzinfo=CST)),
                         plugins=get_plugin_manager())
    engine.checkpoint_min = 1
    engine.checkpoint_every = 10
    engine.checkpoint_share = 1  # every checkpoint those say
    store = engine.store
    store._db.set_trace_callback(stop.statement)
    for name in ("append", "append_soon", "put_text", "put_utf8", "put_many", "merge_parts"):
        setattr(store, name, stop.wrap(getattr(store, name), lambda: {"position": store.position(), **wal_end(wal)}))
    for at in range(0, len(events), 30):
        engine.record_many(events[at:at + 30], batch_size=7)
    print("done", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
