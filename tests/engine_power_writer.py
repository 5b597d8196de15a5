"""A writer for the power-loss test (tests/test_sqlite_power_loss.py): records simulated days of 银泉 into a
SQLite store in small calls and batches, with checkpoints and sealed parts written often, until it is killed.

Usage: python engine_power_writer.py STORE_URL SEED

Before each batch it prints ``batch?`` and waits for a line on its standard input: the test lets it store
batches until it wants to kill it, so it never runs ahead of the test, whatever the machine's load.  After
each batch the store appended (its ``append`` returned: a commit that syncs SQLite's log), one line is
printed: the log position and where the current generation of the store's ``-wal`` file ended then
(``wal_end``, as JSON); after each document written between batches (a write that changed the store),
``document``.  Everything up to that point of the log is durable; what is written after it without a sync
(sealed parts, their names, checkpoints) may be lost by a power loss, the test's cuts of the log.
"""

from __future__ import annotations

import json
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


def telling(write: Any, changes: Any) -> Any:
    """``write``, printing ``document`` each time it returns having changed the store (``changes()``: the
    rows the store's connection has changed so far; a merge of nothing writes nothing)."""
    def write_and_tell(*args: Any, **kwargs: Any) -> None:
        before = changes()
        write(*args, **kwargs)
        if changes() != before:
            print("document", flush=True)

    return write_and_tell


def main() -> None:
    url, seed = sys.argv[1], int(sys.argv[2])
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
    append = engine.store.append

    def append_and_tell(docs: Any, **kwargs: Any) -> int:
        print("batch?", flush=True)
        if not sys.stdin.readline():
            raise SystemExit("the test is gone")
        added = append(docs, **kwargs)
        print(json.dumps({"position": engine.store.position(), **wal_end(wal)}), flush=True)
        return added

    engine.store.append = append_and_tell  # type: ignore[method-assign]
    for name in ("put_text", "put_utf8", "put_many", "merge_parts"):  # (the writes between batches: told as they return)
        setattr(engine.store, name, telling(getattr(engine.store, name), lambda: engine.store._db.total_changes))
    for at in range(0, len(events), 30):
        engine.record_many(events[at:at + 30], batch_size=7)
    print("done", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
