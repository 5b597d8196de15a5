"""SQLite's durability contract (docs/storage.md): batches and ``put`` are durable when they return; the
documents written between batches (sealed parts, their names, checkpoints, remembered refusals) commit
without a sync of SQLite's log (``synchronous=NORMAL``) and are durable with the next write that syncs.

A power loss can then lose the log's unsynced tail.  SQLite reads its log back only up to the first frame
that did not reach the disk whole, so what is left is the store as some earlier commit left it, never older
than the last sync.  In the engine test a real writer process kills itself (SIGKILL) at points the test
chooses: before its first checkpoint, inside a batch, between a batch and its checkpoint, after a checkpoint.
The test then cuts copies of its log where a power loss could cut it (at the end of the last batch stored,
at commits since, and inside a frame), and opens each: the file is whole, it holds exactly the writes before
the cut (every batch the writer was told was stored), the engine restores the newest checkpoint it holds,
and the state restored from it and the parts that survived is exactly the state of a full replay.  (The kill
was once timed from outside, 0-10 ms after a document: under load it could land where no cut held a whole
checkpoint; a point the writer stops at is the same in every run.)
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


#: Where the writer kills itself (``WHEN KIND N``: tests/engine_power_writer.py), and what that point is.  The
#: writer's writes for a seed are the same in every run (a seeded simulation, a fixed clock, a checkpoint every
#: 10 events), so each run cuts at the same points, whatever the machine's load; ``stopped_writer`` checks
#: that the writer got there.  (Seed 3's 57th batch is followed by a document, then its checkpoint, the 34th.)
POINTS = {
    "before checkpoint 1": "before any checkpoint: every cut replays from the first event",
    "inside batch 40": "inside a batch, at its COMMIT (its rows written in its transaction): the batch is not stored",
    "before checkpoint 34": "between a batch and its checkpoint, a document written after the batch (a cut at "
                            "the batch's end is the store as a kill as the batch returned leaves it)",
    "after checkpoint 34": "after a checkpoint (not synced): a cut that keeps it restores from it",
}
SEED = 3


def stopped_writer(folder: Path, stop: str) -> subprocess.Popen[str]:
    """A writer (tests/engine_power_writer.py) recording into ``folder/d.sqlite`` until it kills itself at
    ``stop``."""
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "engine_power_writer.py"),
                             f"sqlite:///{folder / 'd.sqlite'}", str(SEED), stop],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def writes_until_stopped(proc: subprocess.Popen[str], stop: str) -> list[dict[str, Any]]:
    """What the writer said it wrote (in order, each where the log ended as the write returned), once it
    killed itself at ``stop``, checked to be there: a write ``after`` is the last, a write ``before`` or
    ``inside`` is not among them, nor any write after it."""
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, f"the writer did not stop at {stop!r} ({proc.returncode}): {err}"
    wrote = [json.loads(line) for line in out.splitlines()]
    when, kind, n = stop.split()
    last = max((w["n"] for w in wrote if w["wrote"] == kind), default=0)
    if when == "after":
        assert (wrote[-1]["wrote"], wrote[-1]["n"]) == (kind, int(n)), f"{stop!r}: the writer stopped elsewhere"
    else:
        assert last < int(n), f"{stop!r}: the write was stored"
    return wrote


def test_a_power_loss_after_a_killed_writer_leaves_a_whole_store_and_an_exact_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer killed at each point of ``POINTS``, then its log cut where a power loss could cut it: at the
    end of its last batch (synced), at commits since (none of them synced), and inside a frame.  Each cut is
    whole, holds exactly the writes before its point (every batch the writer was told was stored), and the
    engine restores the newest checkpoint it holds, then replays to the state of a full replay."""
    small_parts(monkeypatch.setattr)  # (as the writer has them)
    writers = {stop: stopped_writer(tmp_path / f"w{n}", stop) for n, stop in enumerate(POINTS)}  # (at once)
    restored: dict[str, set[int]] = {stop: set() for stop in POINTS}  # the checkpoints the cuts restored
    checkpoints: dict[str, list[int]] = {}  # the checkpoints each writer stored
    cut_later: set[str] = set()  # the points with a cut at a commit after the last batch stored
    for n, (stop, proc) in enumerate(writers.items()):
        wrote = writes_until_stopped(proc, stop)
        path = tmp_path / f"w{n}" / "d.sqlite"
        wal = Path(f"{path}-wal").read_bytes()
        db = path.parent / "db-as-killed"
        shutil.copyfile(path, db)  # (as the kill left it: the log not checkpointed into it)
        salt, ends, frame = wal_frames(wal)
        told = [w for w in wrote if w["wrote"] == "batch"][-1]
        durable = int(told["end"]) if told["salt"] == salt else 32  # (a log reused since: it was checkpointed)
        later = [end for end in ends if end > durable]
        rng = random.Random(stop)
        cuts = sorted({durable, *rng.sample(later, min(4, len(later))), *later[-1:],
                       *(later[0] + frame // 2 for _ in later[:1])})  # (the last: inside a frame)
        replayed: dict[int, Any] = {}  # position -> the state of a full replay to it
        # (the writes of an older generation of the log are in the file: SQLite reuses its log only once all
        # of it is checkpointed into the file)
        current = next((i for i, w in enumerate(wrote) if w["salt"] == salt), len(wrote))
        for c, at in enumerate(cuts):
            kept = [w for i, w in enumerate(wrote) if i < current or w["end"] <= at]
            newest = max((w["checkpoint"] for w in kept if w["wrote"] == "checkpoint"), default=0)
            copy = cut_copy(path.parent, db, wal, at, f"cut{c}")
            with sqlite3.connect(copy) as raw:  # the file is whole
                assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                position = raw.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            assert position >= int(told["position"]), f"{stop}, cut at {at}: a stored batch was lost"
            assert position == kept[-1]["position"], f"{stop}, cut at {at}: not the store as its writes left it"
            engine = Engine.open(store=f"sqlite:///{copy}", clock=FixedClock(CLOCK), plugins=plugins(),
                                 read_only=True)
            try:
                assert engine.position == position
                assert engine._base == newest, f"{stop}, cut at {at}: not restored from the newest checkpoint"
                for name in ("escalation", "points", "tasks", "assessment"):
                    engine.state(name)
                seen = snapshot(engine)
                if position not in replayed:  # (the same events: the same replay, whatever documents follow)
                    engine.rebuild()  # from the first event, no checkpoint
                    replayed[position] = snapshot(engine)
                assert seen == replayed[position], f"{stop}, cut at {at}: checkpoint and tail differ from a full replay"
            finally:
                engine.close()
            restored[stop].add(newest)
            if at > durable and at in ends:
                cut_later.add(stop)
        checkpoints[stop] = [w["checkpoint"] for w in wrote if w["wrote"] == "checkpoint"]
    # what each point covers, checked (the same in every run)
    assert restored["before checkpoint 1"] == {0} and not checkpoints["before checkpoint 1"]
    for stop in ("inside batch 40", "before checkpoint 34", "after checkpoint 34"):
        assert min(restored[stop]) > 0, f"{stop}: a cut restored from no checkpoint"
    assert cut_later >= {"inside batch 40", "before checkpoint 34", "after checkpoint 34"}, "no document after a batch cut"
    # (the checkpoint written last, not synced: kept by a cut, lost by another; one before it kept by all)
    assert restored["after checkpoint 34"] == set(checkpoints["after checkpoint 34"][-2:])
    assert restored["before checkpoint 34"] == set(checkpoints["before checkpoint 34"][-1:])
    assert restored["inside batch 40"] == set(checkpoints["inside batch 40"][-2:])
