"""Each plugin's checkpoint document: its size, and the CPU time to give the plugin its state back.

For each store given (SQLite stores built by ``open_read.build``, possibly by
different trees), the newest checkpoint's document of each plugin named is
measured: its size in bytes (as stored: JSON text, with its pages) and the CPU time of
``engine.state(plugin)`` on an engine opened read-only (the plugin's state
restored from the document, nothing replayed), in several rounds alternating
between the stores; the medians are printed, with each store's ratio to the
first one's.

Run ``python benchmarks/state_size.py STORE.db [STORE.db ...] [--plugins escalation,tasks] [--rounds 7]``.
A store whose checkpoint does not fit the tree running this (another plugin
version) is replayed instead: run each store with the tree that built it.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import time
from pathlib import Path


def document_size(path: Path, plugin: str) -> int:
    """Bytes of the newest checkpoint's document of ``plugin`` in the SQLite store at ``path``."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        index = json.loads(db.execute(
            "SELECT doc FROM documents WHERE collection = 'checkpoints' AND key = 'index'").fetchone()[0])
        slot = max(index["slots"], key=lambda k: int(index["slots"][k]))
        key = f"slot-{slot}.{plugin}#state"
        # (with its pages, ``<key>/<field>/<n>``, those of the same checkpoint: its stamp)
        row = db.execute("SELECT sum(length(page.doc)) FROM documents AS page, documents AS part "
                         "WHERE part.collection = 'checkpoints' AND part.key = :key "
                         "AND page.collection = 'checkpoints' AND (page.key = :key OR (substr(page.key, 1, "
                         "length(:key) + 1) = :key || '/' AND json_extract(page.doc, '$.stamp') = "
                         "json_extract(part.doc, '$.stamp')))", {"key": key}).fetchone()
        return int(row[0]) if row and row[0] is not None else 0
    finally:
        db.close()


def restore_seconds(path: Path, plugin: str) -> float:
    """CPU seconds of giving ``plugin`` its state from the newest checkpoint (the engine already open)."""
    from gridcore import Engine

    with Engine.open(store=f"sqlite:///{path}", read_only=True) as engine:
        gc.collect()
        started = time.process_time()
        engine.state(plugin)
        return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stores", nargs="+", type=Path)
    parser.add_argument("--plugins", default="escalation,tasks")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    plugins = args.plugins.split(",")
    times: dict[tuple[Path, str], list[float]] = {(s, p): [] for s in args.stores for p in plugins}
    for store in args.stores:  # a first open compiles the rulesets (cached for the rounds)
        restore_seconds(store, plugins[0])
    for _ in range(args.rounds):
        for plugin in plugins:
            for store in args.stores:
                times[(store, plugin)].append(restore_seconds(store, plugin))
    for plugin in plugins:
        first = None
        for store in args.stores:
            size = document_size(store, plugin)
            median = statistics.median(times[(store, plugin)])
            first = first or (size, median)
            print(f"{plugin:12} {store}: {size:>10,} bytes ({size / first[0]:.2f}x), restore "
                  f"{median * 1000:8.1f} ms CPU ({median / first[1]:.2f}x), median of {args.rounds}")


if __name__ == "__main__":
    main()
