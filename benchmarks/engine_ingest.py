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
shared machine counts less in it) and its memory at each size N: resident
memory then (``VmRSS``) and the process's peak so far (``VmHWM``, the most it
held at any moment up to N: a checkpoint's document included); the events are
simulated a call at a time as they are recorded (and simulated again,
identically, for the baseline in a child of its own, whose peak is the
simulator's and the store's share), so what the engine's process holds
beyond the baseline's is the engine's own state, not the benchmark's list of
events.  The CPU is also split: the checkpoints the engine takes (its
``_checkpoint``, timed wherever it runs: the plugins' saves, the sealed parts
they write, the store's writes) to N, how many it took (the engine spaces them
so that they take about ``Engine.checkpoint_share`` of its CPU: a cheaper
checkpoint shows as more of them, not as less CPU per event), and the CPU per event over the same
window with the checkpoints taken in it left out (what the events themselves
cost; a checkpoint falls in one window and not the next, so the engine column
jumps where the events' does not).  The tail columns are what the share trades that CPU for: the
events stored after the last checkpoint as each call returned, on average over the calls to N and at
most (an open at that moment, a reader beside the ingest or one after a crash, replays them; closing
takes a checkpoint, so a read after the ingest replays none).  ``--checkpoint-share`` and
``--checkpoint-max`` set the engine's ``checkpoint_share`` and ``checkpoint_max`` to measure another
spacing; ``--checkpoints-every N`` turns the engine's own spacing off and takes a checkpoint after the call
that reaches each multiple of N events (``fixed_checkpoints``), so two trees whose checkpoints cost
differently take theirs at the same events (the engine's spacing by CPU puts them elsewhere, and what a
checkpoint leaves in memory depends on where it fell).  The residents column counts the residents the engine knows at N
(registered by events; the roster's members come on top).

Yinquan's simulation registers residents every day (about 5,000 by 1M
events), so its population grows with the log.  ``--population N`` tells the
two apart: N residents registered on the first day and nobody after
(``simulate(..., population=N)``), so whatever still grows with N events at a
fixed population is state that grows with the log.  Each backend's notes give
the last checkpoint's size (the JSON of its documents, per plugin) and what
building it took at most (``tracemalloc``'s peak over one more checkpoint
taken at the end).

Run ``python benchmarks/engine_ingest.py [--quick] [--large] [--backends sqlite]
[--sizes 10000,100000] [--population 5128] [--checkpoint-share 0.05] [--checkpoint-max 100000]
[--checkpoints-every 100000]``.
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
    #: the engine's process's peak resident memory up to ``n`` (VmHWM), MiB
    peak_mb: float = 0.0
    #: the store-only baseline's process's peak resident memory up to ``n`` (same events simulated), MiB
    store_peak_mb: float = 0.0
    #: residents the engine knows at ``n`` (registered by events; the roster comes on top)
    residents: int = 0
    #: CPU seconds of the checkpoints the engine took from the first event to ``n`` (``Engine._checkpoint``,
    #: inside ``cpu_seconds``: what the events deferred to them, the plugins' saves, the store's writes)
    checkpoint_cpu_seconds: float = 0.0
    #: CPU µs per event over the same window as ``engine_cpu_us``, less the checkpoints taken in it
    events_cpu_us: float = 0.0
    #: how many checkpoints the engine took from the first event to ``n`` (``checkpoint_cpu_seconds`` over
    #: it is what one cost on average: the engine spaces them by ``Engine.checkpoint_share``, so a cheaper
    #: checkpoint is taken more often rather than costing less CPU per event)
    checkpoints: int = 0
    #: events stored after the last checkpoint when a call returned (what an open at that moment replays: a
    #: reader beside the ingest, or after a crash), on average over the calls to ``n`` and at most
    tail_mean: float = 0.0
    tail_max: int = 0


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


def days_for(size: int, population: int | None = None) -> int:
    """Days of Yinquan's simulation that hold at least ``size`` events (from a 60-day sample)."""
    from gridcore_app.simulate import simulate

    community, _ = district.year_of(COMMUNITY, 1, 0)
    sample = sum(1 for _ in simulate(community, scenario(), days=60, start=district.START, seed=1,
                                     population=population))
    return int(60 * size / max(sample, 1) * 1.1) + 30


def scenario() -> Any:
    from gridcore_app.simulate import load_scenario

    return load_scenario(district.REPO / "rulesets" / COMMUNITY / "scenario.yaml")


def calls(size: int, days: int, population: int | None = None) -> Any:
    """``(community, iterator of lists of about CALL events)``: the first ``size`` events, simulated as they
    are read, cut as ``gridcore ingest`` cuts a file (``chunks_of_events``): a call ends only where the time
    steps on by more than the engine's ``DECIDED_WITH``.  A call ending inside a run of events at one time
    would record the last event's on-the-spot decisions (due ``DECIDED_WITH`` after it) before the next
    call's events at that time, which are then late: exact, but a rewind to the last checkpoint before
    them (docs/architecture.md); this is how an embedder is told to cut its calls.  ``population``: a fixed
    population (``simulate``'s), else the scenario's growing one."""
    from itertools import islice

    from gridcore.engine import DECIDED_WITH
    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    folder = district.REPO / "rulesets" / COMMUNITY
    community = load_community(folder)
    stream = islice(simulate(community, load_scenario(folder / "scenario.yaml"), days=days,
                             start=district.START, seed=1, population=population), size)

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


def fixed_checkpoints(engine: Any, every: int) -> Any:
    """The engine's own checkpoint spacing turned off (but the checkpoint an engine takes after a late event,
    which the same stream makes at the same events whatever the tree), and a function to call after each
    call with the events recorded so far: it takes a checkpoint after the call that reaches each multiple
    of ``every`` (calls are cut the same in every tree, so the checkpoints fall at the same events) and
    returns its position, else None; ``before``, if given, is called just before it is taken."""
    engine.checkpoint_share = 1
    engine.checkpoint_min = engine.checkpoint_every = engine.checkpoint_max = 1 << 62
    due = [every]

    def after_call(done: int, before: Any = None) -> int | None:
        if done < due[0]:
            return None
        while due[0] <= done:
            due[0] += every
        if before is not None:
            before()
        engine.checkpoint()
        return int(engine.position)

    return after_call


def grow(backend: str, folder: str, sizes: tuple[int, ...], postgres: str | None, population: int | None,
         spacing: tuple[float | None, int | None], every: int | None, out: Any) -> None:
    """Child process: one engine fed up to the largest size; its checkpoint measured at the end.  ``spacing``:
    ``Engine.checkpoint_share`` and ``checkpoint_max`` if not the defaults; ``every``: checkpoints at fixed
    event counts instead (``fixed_checkpoints``)."""
    import gc

    from gridcore import Engine, FixedClock

    days = days_for(max(sizes), population)
    gc.collect()
    community, chunks = calls(max(sizes), days, population)
    rules = district.ruleset_files(COMMUNITY)
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    engine = Engine.open(store=district.store_url(backend, Path(folder), "growth", postgres), community=community,
                         clock=FixedClock(first), ruleset=rules[0] if rules else None, effective=first)
    share, most = spacing
    if share is not None:
        engine.checkpoint_share = share
    if most is not None:
        engine.checkpoint_max = most
    after_call = None if every is None else fixed_checkpoints(engine, every)
    points: list[tuple[int, float]] = []
    tails: list[int] = []  # events after the last checkpoint as each call returned
    cpu_points: list[tuple[int, float]] = []
    checkpoint_points: list[tuple[int, float]] = []
    checkpoints = 0.0
    taken = 0  # checkpoints taken so far
    taken_points: list[tuple[int, int]] = []
    take = engine._checkpoint

    def timed_checkpoint() -> bool:
        # (the engine's own checkpoints, wherever it takes them: in ``record_many``, or at close)
        nonlocal checkpoints, taken
        taken += 1
        c0 = time.process_time()
        try:
            return take()
        finally:
            checkpoints += time.process_time() - c0

    engine._checkpoint = timed_checkpoint  # type: ignore[method-assign]
    memory: dict[int, tuple[float, float, int]] = {}
    total = cpu = 0.0
    done = 0
    with engine:
        for chunk in chunks:
            t0, c0 = time.perf_counter(), time.process_time()
            engine.record_many(chunk)
            done += len(chunk)
            if after_call is not None:
                after_call(done)
            total += time.perf_counter() - t0
            cpu += time.process_time() - c0
            points.append((done, total))
            cpu_points.append((done, cpu))
            checkpoint_points.append((done, checkpoints))
            taken_points.append((done, taken))
            tails.append(engine.position - engine._checkpointed)
            if any(done >= n and n not in memory for n in sizes):
                now = (rss_mb(), district.peak_mb(), len(engine._population))
                memory.update({n: now for n in sizes if done >= n and n not in memory})
        checkpoint = checkpoint_size(engine)
    events_points = [(n, c - k) for (n, c), (_, k) in zip(cpu_points, checkpoint_points, strict=True)]
    rows = [(n, marginal(points, n), next(t for m, t in points if m >= n), marginal(cpu_points, n),
             *memory.get(n, (0.0, 0.0, 0)), next(t for m, t in cpu_points if m >= n),
             next(t for m, t in checkpoint_points if m >= n), marginal(events_points, n),
             next(k for m, k in taken_points if m >= n), *tail_to(tails, points, n)) for n in sizes]
    out.put({"rows": rows, "checkpoint": checkpoint})


def tail_to(tails: list[int], points: list[tuple[int, float]], size: int) -> tuple[float, int]:
    """The mean and the most of ``tails`` over the calls up to the one that reached ``size``."""
    upto = next(k for k, (m, _) in enumerate(points) if m >= size) + 1
    return sum(tails[:upto]) / upto, max(tails[:upto])


def checkpoint_size(engine: Any) -> dict[str, Any]:
    """One more checkpoint, taken now: the peak bytes ``tracemalloc`` saw while it was taken (what building
    the whole document in memory costs at once, beyond what the engine held before), its position and the
    JSON bytes of its documents (the core's and each plugin's)."""
    import json
    import tracemalloc

    from gridcore.checkpointing import CHECKPOINTS

    engine._checkpointed = -1  # so that checkpoint() takes one more at the same position
    tracemalloc.start()
    engine.checkpoint()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store = engine.store
    index = store.get(CHECKPOINTS, "index") or {"slots": {}}
    if not index["slots"]:
        return {}
    slot, position = max(index["slots"].items(), key=lambda item: int(item[1]))
    sizes: dict[str, int] = {}
    stamp = (store.get(CHECKPOINTS, f"slot-{slot}") or {}).get("stamp")
    for key, doc in store.items(CHECKPOINTS):
        if key == f"slot-{slot}":
            sizes["core"] = len(json.dumps(doc, ensure_ascii=False).encode())
        elif key.startswith(f"slot-{slot}.") and doc.get("stamp") == stamp:
            # (a plugin's document and its pages, ``slot-N.<plugin>/<field>/<n>``, together; a page of an older
            # checkpoint in the slot has another stamp)
            name = key.split(".", 1)[1].split("/", 1)[0]
            sizes[name] = sizes.get(name, 0) + len(json.dumps(doc, ensure_ascii=False).encode())
    return {"position": int(position), "sizes": sizes, "build_peak": peak}


def store_only(backend: str, folder: str, sizes: tuple[int, ...], postgres: str | None, population: int | None,
               out: Any) -> None:
    """Child process: the same events simulated again and appended straight to a fresh store."""
    import gc

    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    days = days_for(max(sizes), population)
    gc.collect()
    codec = EventCodec()
    base = open_store(district.store_url(backend, Path(folder), "growthbase", postgres))
    base_points: list[tuple[int, float]] = []
    peaks: dict[int, float] = {}
    base_total = 0.0
    done = 0
    for chunk in calls(max(sizes), days, population)[1]:
        docs = [codec.to_dict(e) for e in chunk]
        t0 = time.perf_counter()
        base.append(docs)
        base_total += time.perf_counter() - t0
        done += len(docs)
        base_points.append((done, base_total))
        peaks.update({n: district.peak_mb() for n in sizes if done >= n and n not in peaks})
    base.close()
    out.put({"rows": [(marginal(base_points, n), peaks.get(n, 0.0)) for n in sizes]})


def run(quick: bool = False, large: bool = False, backends: tuple[str, ...] = ("tinydb", "sqlite", "postgresql"),
        sizes: tuple[int, ...] | None = None, population: int | None = None,
        spacing: tuple[float | None, int | None] = (None, None), every: int | None = None,
        ) -> tuple[list[GrowthRow], list[str]]:
    """Every backend asked for; rows and notes.  ``population``: a fixed one (``--population``); ``spacing``:
    the engine's ``checkpoint_share`` and ``checkpoint_max`` (``--checkpoint-share``, ``--checkpoint-max``);
    ``every``: checkpoints at fixed event counts instead (``--checkpoints-every``)."""
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
                got = district.in_child(grow, backend, folder, sizes, postgres, population, spacing, every)
                base = district.in_child(store_only, backend, folder, sizes, postgres, population)
            except RuntimeError as exc:
                notes.append(f"{backend}: engine ingest failed: {district._last_line(exc)}")
                continue
            finally:
                if backend == "postgresql" and postgres:
                    district._drop_schemas(postgres, f"bench_{Path(folder).name[-8:]}_")
        for (n, engine_us, seconds, cpu_us, rss, peak, residents, cpu_s, checkpoint_s, events_us, taken, tail,
             tail_max), (store_us, store_peak) in zip(got["rows"], base["rows"], strict=True):
            rows.append(GrowthRow(backend, n, engine_us, store_us, seconds, cpu_us, rss, cpu_s, peak, store_peak,
                                  residents, checkpoint_s, events_us, taken, tail, tail_max))
        notes.append(checkpoint_note(backend, got["checkpoint"]))
    if spacing != (None, None):
        notes.append(f"Checkpoints spaced by checkpoint_share {spacing[0]} and checkpoint_max {spacing[1]} (None: "
                     "the engine's default).")
    if every is not None:
        notes.append(f"Checkpoints after the call reaching each multiple of {every:,} events (the engine's own "
                     "spacing off; one after a late event all the same).")
    if population is not None:
        notes.append(f"A fixed population: {population:,} residents registered on the first day, nobody after "
                     "(simulate(..., population=N)).")
    return rows, notes


def checkpoint_note(backend: str, found: dict[str, Any]) -> str:
    if not found:
        return f"{backend}: no checkpoint stored."
    mib = 1024 * 1024
    parts = ", ".join(f"{name} {size / mib:.1f}" for name, size in sorted(found["sizes"].items(),
                                                                          key=lambda item: -item[1]))
    return (f"{backend}: a checkpoint at the end ({found['position']:,} events in the store) is "
            f"{sum(found['sizes'].values()) / mib:.1f} MiB of JSON ({parts}); taking it "
            f"allocated at most {found['build_peak'] / mib:.1f} MiB at once (tracemalloc peak).")


def table(rows: list[GrowthRow]) -> str:
    lines = [
        ("| backend | events in the store | engine µs/event at N | engine CPU µs/event at N "
         "| of which events (no checkpoints) CPU µs/event at N | events/s at N "
         "| store-only µs/event at N | ratio | engine s to N | engine CPU s to N | of which checkpoints CPU s to N "
         "| checkpoints to N | tail after a call to N, mean | tail most | memory MiB at N | peak MiB to N "
         "| store-only peak MiB to N | residents at N |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.engine_us / r.store_us if r.store_us else float("inf")
        lines.append(f"| {r.backend} | {r.n:,} | {r.engine_us:.0f} | {r.engine_cpu_us:.0f} | {r.events_cpu_us:.0f} "
                     f"| {1e6 / r.engine_us:,.0f} | {r.store_us:.1f} | {ratio:.1f}× | {r.seconds:.1f} "
                     f"| {r.cpu_seconds:.1f} | {r.checkpoint_cpu_seconds:.1f} | {r.checkpoints:,} | {r.tail_mean:,.0f} "
                     f"| {r.tail_max:,} | {r.rss_mb:.0f} "
                     f"| {r.peak_mb:.0f} | {r.store_peak_mb:.0f} | {r.residents:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Engine ingest cost as one store grows")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--large", action="store_true", help="also 1M events through one engine")
    parser.add_argument("--backends", default="tinydb,sqlite,postgresql", help="comma-separated backends")
    parser.add_argument("--sizes", default="", help="comma-separated store sizes (default: by --quick/--large)")
    parser.add_argument("--population", type=int, default=None,
                        help="a fixed population: N residents registered on the first day, nobody after")
    parser.add_argument("--checkpoint-share", type=float, default=None,
                        help="Engine.checkpoint_share for the ingest (default: the engine's, CHECKPOINT_SHARE)")
    parser.add_argument("--checkpoint-max", type=int, default=None,
                        help="Engine.checkpoint_max for the ingest (default: the engine's, CHECKPOINT_MAX)")
    parser.add_argument("--checkpoints-every", type=int, default=None,
                        help="a checkpoint after the call reaching each multiple of N events, the engine's own "
                             "spacing off (the same events in every tree)")
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(",") if n) or None
    rows, notes = run(args.quick, args.large, tuple(b for b in args.backends.split(",") if b), sizes,
                      args.population, (args.checkpoint_share, args.checkpoint_max), args.checkpoints_every)
    print(table(rows))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
