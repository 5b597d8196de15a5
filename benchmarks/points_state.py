"""The points state as the log grows: CPU per event, peak memory and what the plugin holds.

One community (Yinquan's roster, seed 1) simulated over as many days as the
largest size needs, recorded through ``Engine.record_many`` (calls of 1,000
events, every installed plugin, the community's ruleset) into a SQLite store,
in a child process per size.  Reported per size N: CPU seconds (process time,
so other work on the machine counts less than in wall time), events per CPU
second, CPU µs per event over the last 10% before N, the child's peak memory,
the memory the points plugin's objects hold at N (tracemalloc, second run),
and the store-only baseline: the same documents appended straight to a fresh
SQLite store in the same child.

Run ``python benchmarks/points_state.py [--sizes 10000,100000]``; set
``PYTHONPATH`` to a folder holding another ``gridcore_points`` to measure it
instead (how the figures of the earlier state were taken).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import district  # the shared helpers: simulated years, store URLs, child processes

CALL = 1000


def events_for(size: int) -> tuple[Any, list[Any]]:
    """Yinquan's community and at least ``size`` simulated events."""
    community, events = district.year_of("yinquan", 1, 60)
    if len(events) < size:
        community, events = district.year_of("yinquan", 1, int(60 * size / max(len(events), 1)) + 10)
    return community, events[:size]


def measure(size: int, traced: bool, out: Any) -> None:
    """Child process: ingest ``size`` events; CPU, peak memory, points memory, store-only baseline."""
    from gridcore import Engine, FixedClock
    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    community, events = events_for(size)
    rules = district.ruleset_files("yinquan")
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    with tempfile.TemporaryDirectory(prefix="gridcore-points-") as folder:
        engine = Engine.open(store=f"sqlite:///{folder}/engine.db", community=community, clock=FixedClock(first),
                             ruleset=rules[0], effective=first)
        if traced:
            tracemalloc.start(1)
        marks: list[float] = []
        start_cpu = time.process_time()
        with engine:
            for start in range(0, len(events), CALL):
                engine.record_many(events[start : start + CALL])
                marks.append(time.process_time() - start_cpu)
            held = 0
            if traced:
                snapshot = tracemalloc.take_snapshot()
                held = sum(stat.size for stat in snapshot.statistics("filename")
                           if "gridcore_points" in stat.traceback[0].filename
                           or "plugins/points" in stat.traceback[0].filename)
                tracemalloc.stop()
        docs = [EventCodec().to_dict(e) for e in events]
        base = open_store(f"sqlite:///{folder}/base.db")
        base_start = time.process_time()
        for start in range(0, len(docs), CALL):
            base.append(docs[start : start + CALL])
        base_cpu = time.process_time() - base_start
        base.close()
    tail = max(len(marks) // 10, 1)
    last = (marks[-1] - (marks[-tail - 1] if len(marks) > tail else 0.0)) / (tail * CALL) * 1e6
    out.put({"n": len(events), "cpu": marks[-1], "last_us": last, "peak": district.peak_mb(),
             "points_mb": held / 2**20, "base_us": base_cpu / len(docs) * 1e6})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The points state as the log grows")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args(argv)
    print("| events | CPU s | events/CPU s | CPU µs/event, last 10% | store-only µs/event | peak MiB "
          "| points plugin holds MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        run = district.in_child(measure, size, False)
        traced = district.in_child(measure, size, True)
        print(f"| {run['n']:,} | {run['cpu']:.1f} | {run['n'] / run['cpu']:,.0f} | {run['last_us']:.0f} "
              f"| {run['base_us']:.1f} | {run['peak']:.0f} | {traced['points_mb']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
