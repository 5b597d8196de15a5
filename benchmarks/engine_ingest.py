"""Engine ingest as one store grows: cost per event at 10k and 100k events (1M with --large).

One community (Yinquan's roster, seed 1) simulated over as many years as the
largest size needs, recorded through ``Engine.record_many`` in calls of about
1,000 events (cut where the time steps on, as ``gridcore ingest`` cuts a file)
with every installed plugin and the community's ruleset in force, into one
store per backend.  At each size N the table shows the cost per event over
the last 10% before N, beside the same documents appended straight to a fresh
store of the same backend (the store-only baseline): flat means neither the
engine nor the store slows down as the log grows.

Beside wall time the child reports its CPU time per event (other work on a
shared machine counts less in it) and its resident memory at each size N: the
events are simulated a call at a time as they are recorded (and simulated
again, identically, for the baseline), so what the process holds is the
engine's own state, not the benchmark's list of events.

Run ``python benchmarks/engine_ingest.py [--quick] [--large] [--backends sqlite]
[--sizes 10000,100000]``.
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
    #: CPU µs per event over the same window (the child's process time)
    engine_cpu_us: float = 0.0
    #: the child's resident memory when the store held ``n`` events, MiB
    rss_mb: float = 0.0
    #: CPU seconds of the engine's calls from the first event to ``n`` (checkpoints included)
    cpu_seconds: float = 0.0


def marginal(points: list[tuple[int, float]], size: int) -> float:
    """µs per event over the last 10% (at least one call) before ``size``."""
    window = max(size // 10, CALL)
    end = next(t for n, t in points if n >= size)
    n0, t0 = max(((n, t) for n, t in points if n <= size - window), default=(0, 0.0))
    return (end - t0) / max(size - n0, 1) * 1e6


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (``VmRSS``; 0 where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def days_for(size: int) -> int:
    """Days of Yinquan's simulation that hold at least ``size`` events (from a 60-day sample)."""
    _, sample = district.year_of(COMMUNITY, 1, 60)
    return int(60 * size / max(len(sample), 1) * 1.1) + 30


def calls(size: int, days: int) -> Any:
    """``(community, iterator of lists of about CALL events)``: the first ``size`` events, simulated as they
    are read, cut as ``gridcore ingest`` cuts a file (``chunks_of_events``): a call ends only where the time
    steps on by more than the engine's ``DECIDED_WITH``.  A call ending inside a run of events at one time
    would record the last event's on-the-spot decisions (due ``DECIDED_WITH`` after it) before the next
    call's events at that time, which are then late: exact, but a rewind to the last checkpoint before
    them (docs/architecture.md); this is how an embedder is told to cut its calls."""
    from itertools import islice

    from gridcore.engine import DECIDED_WITH
    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    folder = district.REPO / "rulesets" / COMMUNITY
    community = load_community(folder)
    stream = islice(simulate(community, load_scenario(folder / "scenario.yaml"), days=days,
                             start=district.START, seed=1), size)

    def cut() -> Any:
        chunk: list[Any] = []
        last = None
        for event in stream:
            if len(chunk) >= CALL and last is not None and event.time > last + DECIDED_WITH:
                yield chunk
                chunk, last = [], None
            chunk.append(event)
            last = event.time if last is None else max(last, event.time)
        if chunk:
            yield chunk

    return community, cut()


def grow(backend: str, folder: str, sizes: tuple[int, ...], postgres: str | None, out: Any) -> None:
    """Child process: one engine fed up to the largest size; then the store-only baseline."""
    import gc

    from gridcore import Engine, FixedClock
    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    days = days_for(max(sizes))
    gc.collect()
    community, chunks = calls(max(sizes), days)
    rules = district.ruleset_files(COMMUNITY)
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    engine = Engine.open(store=district.store_url(backend, Path(folder), "growth", postgres), community=community,
                         clock=FixedClock(first), ruleset=rules[0] if rules else None, effective=first)
    points: list[tuple[int, float]] = []
    cpu_points: list[tuple[int, float]] = []
    memory: dict[int, float] = {}
    total = cpu = 0.0
    done = 0
    with engine:
        for chunk in chunks:
            t0, c0 = time.perf_counter(), time.process_time()
            engine.record_many(chunk)
            total += time.perf_counter() - t0
            cpu += time.process_time() - c0
            done += len(chunk)
            points.append((done, total))
            cpu_points.append((done, cpu))
            if any(done >= n and n not in memory for n in sizes):
                memory.update({n: rss_mb() for n in sizes if done >= n and n not in memory})
    codec = EventCodec()
    base = open_store(district.store_url(backend, Path(folder), "growthbase", postgres))
    base_points: list[tuple[int, float]] = []
    base_total = 0.0
    done = 0
    for chunk in calls(max(sizes), days)[1]:
        docs = [codec.to_dict(e) for e in chunk]
        t0 = time.perf_counter()
        base.append(docs)
        base_total += time.perf_counter() - t0
        done += len(docs)
        base_points.append((done, base_total))
    base.close()
    rows = [(n, marginal(points, n), marginal(base_points, n), next(t for m, t in points if m >= n),
             marginal(cpu_points, n), memory.get(n, 0.0), next(t for m, t in cpu_points if m >= n)) for n in sizes]
    out.put({"rows": rows})


def run(quick: bool = False, large: bool = False, backends: tuple[str, ...] = ("tinydb", "sqlite", "postgresql"),
        sizes: tuple[int, ...] | None = None) -> tuple[list[GrowthRow], list[str]]:
    """Every backend asked for; rows and notes."""
    if sizes is None:
        sizes = (2_000, 5_000) if quick else ((10_000, 100_000, 1_000_000) if large else (10_000, 100_000))
    postgres = os.environ.get("GRIDCORE_TEST_POSTGRES_URL") or os.environ.get("GRIDCORE_BENCH_POSTGRES_URL")
    rows: list[GrowthRow] = []
    notes: list[str] = []
    if not large and not quick and max(sizes) < 1_000_000:
        notes.append("1M events through one engine is measured only with `--large` (not run for this page).")
    for backend in backends:
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
        rows.extend(GrowthRow(backend, *row) for row in got["rows"])
    return rows, notes


def table(rows: list[GrowthRow]) -> str:
    lines = [
        ("| backend | events in the store | engine µs/event at N | engine CPU µs/event at N | events/s at N "
         "| store-only µs/event at N | ratio | engine s to N | engine CPU s to N | memory MiB at N |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.engine_us / r.store_us if r.store_us else float("inf")
        lines.append(f"| {r.backend} | {r.n:,} | {r.engine_us:.0f} | {r.engine_cpu_us:.0f} | {1e6 / r.engine_us:,.0f} "
                     f"| {r.store_us:.1f} | {ratio:.1f}× | {r.seconds:.1f} | {r.cpu_seconds:.1f} | {r.rss_mb:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Engine ingest cost as one store grows")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--large", action="store_true", help="also 1M events through one engine")
    parser.add_argument("--backends", default="tinydb,sqlite,postgresql", help="comma-separated backends")
    parser.add_argument("--sizes", default="", help="comma-separated store sizes (default: by --quick/--large)")
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(",") if n) or None
    rows, notes = run(args.quick, args.large, tuple(b for b in args.backends.split(",") if b), sizes)
    print(table(rows))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
