"""Engine ingest as one store grows: cost per event at 10k and 100k events (1M with --large).

One community (Yinquan's roster, seed 1) simulated over as many years as the
largest size needs, recorded through ``Engine.record_many`` in calls of 1,000
events with every installed plugin and the community's ruleset in force, into
one store per backend.  At each size N the table shows the cost per event over
the last 10% before N, beside the same documents appended straight to a fresh
store of the same backend (the store-only baseline): flat means neither the
engine nor the store slows down as the log grows.

Run ``python benchmarks/engine_ingest.py [--quick] [--large]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

import district  # the shared helpers: simulated years, store URLs, child processes

CALL = 1000
COMMUNITY = "yinquan"


@attrs.frozen
class GrowthRow:
    """Engine and store-only cost per event at ``n`` events in one store."""

    backend: str
    n: int
    engine_us: float
    store_us: float
    seconds: float


def marginal(points: list[tuple[int, float]], size: int) -> float:
    """µs per event over the last 10% (at least one call) before ``size``."""
    window = max(size // 10, CALL)
    end = next(t for n, t in points if n >= size)
    n0, t0 = max(((n, t) for n, t in points if n <= size - window), default=(0, 0.0))
    return (end - t0) / max(size - n0, 1) * 1e6


def grow(backend: str, folder: str, sizes: tuple[int, ...], postgres: str | None, out: Any) -> None:
    """Child process: one engine fed up to the largest size; then the store-only baseline."""
    from gridcore import Engine, FixedClock
    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    community, events = district.year_of(COMMUNITY, 1, 400)
    while len(events) < max(sizes):  # about 55k events a year: simulate enough years
        community, events = district.year_of(COMMUNITY, 1, int(400 * max(sizes) / max(len(events), 1)) + 30)
    events = events[: max(sizes)]
    rules = district.ruleset_files(COMMUNITY)
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    engine = Engine.open(store=district.store_url(backend, Path(folder), "growth", postgres), community=community,
                         clock=FixedClock(first), ruleset=rules[0] if rules else None, effective=first)
    points: list[tuple[int, float]] = []
    total = 0.0
    with engine:
        for start in range(0, len(events), CALL):
            t0 = time.perf_counter()
            engine.record_many(events[start : start + CALL])
            total += time.perf_counter() - t0
            points.append((start + CALL, total))
    codec = EventCodec()
    docs = [codec.to_dict(e) for e in events]
    base = open_store(district.store_url(backend, Path(folder), "growthbase", postgres))
    base_points: list[tuple[int, float]] = []
    base_total = 0.0
    for start in range(0, len(docs), CALL):
        t0 = time.perf_counter()
        base.append(docs[start : start + CALL])
        base_total += time.perf_counter() - t0
        base_points.append((start + CALL, base_total))
    base.close()
    rows = [(n, marginal(points, n), marginal(base_points, n), next(t for m, t in points if m >= n)) for n in sizes]
    out.put({"rows": rows})


def run(quick: bool = False, large: bool = False) -> tuple[list[GrowthRow], list[str]]:
    """Every backend; rows and notes."""
    sizes = (2_000, 5_000) if quick else ((10_000, 100_000, 1_000_000) if large else (10_000, 100_000))
    postgres = os.environ.get("GRIDCORE_TEST_POSTGRES_URL") or os.environ.get("GRIDCORE_BENCH_POSTGRES_URL")
    rows: list[GrowthRow] = []
    notes: list[str] = []
    if not large and not quick:
        notes.append("1M events through one engine is measured only with `--large` (not run for this page).")
    for backend in ("tinydb", "sqlite", "postgresql"):
        if backend == "postgresql" and not postgres:
            notes.append("PostgreSQL not measured: set GRIDCORE_TEST_POSTGRES_URL (e.g. from .ci/postgres.sh).")
            continue
        with tempfile.TemporaryDirectory(prefix=f"gridcore-growth-{backend}-") as folder:
            try:
                got = district.in_child(grow, backend, folder, sizes, postgres)
            except RuntimeError as exc:
                notes.append(f"{backend}: engine ingest failed: {district._last_line(exc)}")
                continue
            finally:
                if backend == "postgresql" and postgres:
                    district._drop_schemas(postgres, f"bench_{Path(folder).name[-8:]}_")
        rows.extend(GrowthRow(backend, n, e, s, t) for n, e, s, t in got["rows"])
    return rows, notes


def table(rows: list[GrowthRow]) -> str:
    lines = [
        "| backend | events in the store | engine µs/event at N | store-only µs/event at N | ratio | engine s to N |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.engine_us / r.store_us if r.store_us else float("inf")
        lines.append(f"| {r.backend} | {r.n:,} | {r.engine_us:.0f} | {r.store_us:.1f} | {ratio:.1f}× | {r.seconds:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Engine ingest cost as one store grows")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--large", action="store_true", help="also 1M events through one engine")
    args = parser.parse_args(argv)
    rows, notes = run(args.quick, args.large)
    print(table(rows))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
