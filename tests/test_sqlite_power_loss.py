"""SQLite's durability contract (docs/storage.md): batches and ``put`` are durable when they return; the
documents written between batches (sealed parts, their names, checkpoints, remembered refusals) commit
without a sync of SQLite's log (``synchronous=NORMAL``) and are durable with the next write that syncs.

A power loss can then lose the log's unsynced tail.  SQLite reads its log back only up to the first frame
that did not reach the disk whole, so what is left is the store as some earlier commit left it, never older
than the last sync.  The engine test kills a real writer process in the middle of its work, then cuts copies
of its log at every kind of point a power loss could leave (after each commit since the last batch the writer
was told was stored, and inside a frame), and opens each: the file is whole, every batch stored before the
cut's point is there, and the engine's state restored from whatever checkpoint and parts survived is exactly
the state of a full replay of what survived.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from engine_power_writer import small_parts, wal_frames
from storefixtures import REPO
from test_checkpoint_properties import CLOCK, plugins, snapshot

from gridcore import Engine, FixedClock
from gridcore.store.sqlite_store import SQLiteStore


def traced(store: SQLiteStore) -> list[str]:
    """The statements ``store``'s connection runs from now on."""
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    return seen


def test_batches_and_put_sync_the_log_and_documents_between_batches_do_not(tmp_path: Path) -> None:
    """Each commit that stores events or a ``put`` document runs with ``synchronous=FULL`` (the log synced,
    and with it every write before); sealed parts, their names and ``put_many`` run with ``NORMAL``; ``close``
    syncs what is not synced yet, and only then."""
    store = SQLiteStore(tmp_path / "s.db")
    seen = traced(store)
    doc = {"id": "e1", "kind": "patrol_logged", "time": "2025-03-01T09:00:00+08:00", "actor": "w", "node": "n"}

    def setting() -> int:
        return int(store._db.execute("PRAGMA synchronous").fetchone()[0])

    store.put_text("points.ledger", "k1", '{"a":1}')
    assert setting() == 1  # NORMAL
    store.merge_parts("escalation.names", {"i1": {"k1": 0}})
    assert setting() == 1 and store._unsynced
    store.append([doc])
    assert setting() == 2 and not store._unsynced  # FULL: the batch, and the documents before it, synced
    store.put_many("checkpoints", {"c": {"position": 1}})
    assert setting() == 1 and store._unsynced
    assert store.append([doc]) == 0  # nothing new: nothing written, nothing synced
    assert store._unsynced
    store.put("rulesets", "r", {"name": "银泉"})
    assert setting() == 2 and not store._unsynced
    store.put_text("points.ledger", "k2", '{"a":2}')
    del seen[:]
    store.close()
    assert any(s.startswith("UPDATE gridcore_store") for s in seen)  # the unsynced document made durable
    again = SQLiteStore(tmp_path / "s.db")
    assert again.get_text("points.ledger", "k2") == '{"a":2}' and again.count() == 1
    seen = traced(again)
    again.append([dict(doc, id="e2")])
    again.close()
    assert not any(s.startswith("UPDATE gridcore_store") for s in seen)  # (all synced: nothing more to do)
    # a throwaway store never syncs, whatever it writes
    throwaway = SQLiteStore(tmp_path / "t.db", durable=False)
    throwaway.append([doc])
    throwaway.put_text("points.ledger", "k1", '{"a":1}')
    assert int(throwaway._db.execute("PRAGMA synchronous").fetchone()[0]) == 0
    seen = traced(throwaway)
    throwaway.close()
    assert not seen


def cut_copy(folder: Path, db: Path, wal: bytes, at: int, name: str) -> Path:
    """A copy of the store ``db`` whose log is ``wal`` cut at byte ``at`` (what a power loss may leave of
    it), without the log's index (rebuilt from the log, as after a reboot)."""
    target = folder / name
    target.mkdir()
    shutil.copyfile(db, target / "d.sqlite")
    (target / "d.sqlite-wal").write_bytes(wal[:at])
    return target / "d.sqlite"


def killed_writer(tmp_path: Path, rng: random.Random, seed: int) -> tuple[Path, list[dict[str, Any]]]:
    """The store of a writer (tests/engine_power_writer.py) killed while it writes the documents that follow
    one of its batches, and what it was told of each batch stored.

    The writer asks before each batch and is let go on until it has stored ``want`` batches and written a
    document after the last: then it is killed within 10 ms, while it writes the documents that follow (or
    waits, done with them, to store another batch, which it is not let store).  So the kill always lands
    after a document written since the last batch, however busy the machine: a writer let run on by itself
    could run ahead of a test waiting for a core, and be killed just after a batch (nothing written since it
    to cut) or after it had finished and closed its store."""
    path = tmp_path / f"live{seed}" / "d.sqlite"
    path.parent.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "engine_power_writer.py"), f"sqlite:///{path}",
                             str(seed)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    told: list[dict[str, Any]] = []
    try:
        want = rng.randint(20, 40)
        while True:
            line = proc.stdout.readline()
            assert line and line != "done\n", f"writer ended early: {proc.stderr.read() if proc.stderr else ''}"
            if line.startswith("{"):
                told.append(json.loads(line))
            elif line == "batch?\n":  # (one more, until a document follows the last of ``want`` batches)
                proc.stdin.write("go\n")
                proc.stdin.flush()
            elif len(told) >= want:  # a document after a batch: kill somewhere in the writes after it
                break
        time.sleep(rng.uniform(0, 0.01))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not any(line.startswith("{") for line in proc.stdout)  # (no batch stored after the document)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    return path, told


def test_a_power_loss_after_a_killed_writer_leaves_a_whole_store_and_an_exact_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer killed in the middle of the documents it writes after a batch, then its log cut where a power
    loss could cut it: at each commit since the last batch stored (none of them synced) and inside a frame."""
    small_parts(monkeypatch.setattr)  # (as the writer has them)
    rng = random.Random(5)
    tested_later = restored_from_checkpoints = 0
    for seed in range(3, 8):  # (until a kill lands after documents written since the last batch)
        path, told = killed_writer(tmp_path, rng, seed)
        wal = Path(f"{path}-wal").read_bytes()
        db = path.parent / "db-as-killed"
        shutil.copyfile(path, db)  # (as the kill left it: the log not checkpointed into it)
        salt, ends, frame = wal_frames(wal)
        last = told[-1]
        durable = int(last["end"]) if last["salt"] == salt else 32  # (a log reused since: it was checkpointed)
        later = [end for end in ends if end > durable]
        cuts = sorted({durable, *rng.sample(later, min(4, len(later))), *later[-1:],
                       (later[0] if later else durable) + frame // 2})
        for n, at in enumerate(cuts):
            copy = cut_copy(path.parent, db, wal, at, f"cut{n}")
            with sqlite3.connect(copy) as raw:  # the file is whole
                assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                position = raw.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            assert position >= int(last["position"]), f"cut at {at}: a stored batch was lost"
            engine = Engine.open(store=f"sqlite:///{copy}", clock=FixedClock(CLOCK), plugins=plugins(),
                                 read_only=True)
            try:
                assert engine.position == position
                restored_from_checkpoints += engine._base > 0
                for name in ("escalation", "points", "tasks", "assessment"):
                    engine.state(name)
                seen = snapshot(engine)
                engine.rebuild()  # from the first event, no checkpoint
                assert seen == snapshot(engine), f"cut at {at}: checkpoint and tail differ from a full replay"
            finally:
                engine.close()
        tested_later += len(later)
        if tested_later:
            break
    assert tested_later, "no kill landed after documents written since the last batch: nothing was cut there"
    assert restored_from_checkpoints, "no cut restored from a checkpoint: nothing of the parts was read"
