"""District benchmark: simulated community years through the whole engine, on each backend.

A district is many communities, each with its own store (Yinzhou district has 64
communities).  The communities here are the rosters in ``rulesets/`` (Yinquan,
Cuihu, Xingfuwan, Chengqiao), taken in turn with different seeds.  For each
backend the benchmark measures, in a child process (so peak memory is its own):

* **ingest and evaluate**: ``Engine.open`` with every installed plugin and the
  community's ruleset (when ``rulesets/<name>/<name>.rules`` exists), then
  ``record_many`` of the simulated year and a final ``tick``: wall time,
  events/s, beside the baseline of appending the same documents straight to a
  fresh store of the same backend (the ratio is what the engine and the
  plugins cost on top of storage);
* **replay**: reopening every store, which replays its log through the plugins:
  wall time and peak memory;
* **what-if** (``gridcore_app.whatif.diff``, what ``gridcore diff`` runs) of one
  community's year under two rulesets, when a community folder holds two.

Only the public API is used: ``Engine.open``, ``record_many``, ``tick``,
``gridcore_app.simulate.simulate`` and ``gridcore_app.whatif.diff``.

Run ``python benchmarks/district.py [--quick] [--communities N] [--days D]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queue_module
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import attrs

REPO = Path(__file__).resolve().parent.parent
ROSTERS = ("yinquan", "cuihu", "xingfuwan", "chengqiao")
START = date(2025, 1, 1)


@attrs.frozen
class BackendResult:
    """What one backend did with the district."""

    backend: str
    communities: int
    events: int
    accepted: int
    refused: int
    derived: int
    ingest_seconds: float
    store_only_seconds: float
    replay_seconds: float
    ingest_peak_mb: float
    replay_peak_mb: float
    rulesets: int


@attrs.frozen
class WhatIfResult:
    """One community's year replayed under two rulesets."""

    community: str
    events: int
    seconds: float
    peak_mb: float
    changes: int
    rulesets: tuple[str, str]


def ruleset_files(name: str) -> list[Path]:
    """The community's ruleset files, its own ``<name>.rules`` first."""
    folder = REPO / "rulesets" / name
    files = sorted(folder.glob("*.rules"))
    own = folder / f"{name}.rules"
    return ([own] if own in files else []) + [f for f in files if f != own]


def district(communities: int) -> list[tuple[str, int]]:
    """``(roster name, seed)`` for each community of the district."""
    return [(ROSTERS[i % len(ROSTERS)], 1 + i) for i in range(communities)]


def year_of(name: str, seed: int, days: int) -> tuple[Any, list[Any]]:
    """The community and its simulated events (deterministic for the seed)."""
    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    folder = REPO / "rulesets" / name
    community = load_community(folder)
    scenario = load_scenario(folder / "scenario.yaml")
    return community, list(simulate(community, scenario, days=days, start=START, seed=seed))


def store_url(backend: str, folder: Path, name: str, postgres: str | None) -> str:
    """Where community ``name`` is stored: a folder, a SQLite file, or a schema named after the run."""
    if backend == "tinydb":
        return str(folder / name)
    if backend == "sqlite":
        return f"sqlite:///{folder / name}.db"
    assert postgres is not None
    sep = "&" if "?" in postgres else "?"
    return f"{postgres}{sep}schema=bench_{Path(folder).name[-8:]}_{name}"


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` belongs to the address space, so it starts afresh in a
    spawned child; ``ru_maxrss`` would carry the parent's peak across exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(backend: str, folder: str, plan: list[tuple[str, int]], days: int, postgres: str | None,
           out: Any) -> None:
    """Child process: simulate and ingest every community; report through ``out``."""
    from gridcore import Engine, FixedClock
    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    totals = {"events": 0, "accepted": 0, "refused": 0, "derived": 0, "rulesets": 0}
    ingest_s = store_s = 0.0
    codec = EventCodec()
    for i, (name, seed) in enumerate(plan):
        community, events = year_of(name, seed, days)
        rules = ruleset_files(name)
        first = datetime.combine(START, clock_time(0), tzinfo=community.tz)
        url = store_url(backend, Path(folder), f"c{i:02d}", postgres)
        t0 = time.perf_counter()
        engine = Engine.open(store=url, community=community, clock=FixedClock(first),
                             ruleset=rules[0] if rules else None, effective=first)
        with engine:
            summary = engine.record_many(events)
            if events:
                engine.tick(max(e.time for e in events))
        ingest_s += time.perf_counter() - t0
        totals["events"] += len(events)
        totals["accepted"] += summary.accepted
        totals["refused"] += len(summary.refused)
        totals["derived"] += summary.derived
        totals["rulesets"] += bool(rules)
        # Baseline: the same documents straight into a fresh store of this backend.
        docs = [codec.to_dict(e) for e in events]
        base = open_store(store_url(backend, Path(folder), f"base{i:02d}", postgres))
        t0 = time.perf_counter()
        for start in range(0, len(docs), 1000):
            base.append(docs[start : start + 1000])
        store_s += time.perf_counter() - t0
        base.close()
    out.put({**totals, "ingest_seconds": ingest_s, "store_only_seconds": store_s, "peak_mb": peak_mb()})


def replay(backend: str, folder: str, plan: list[tuple[str, int]], postgres: str | None, out: Any) -> None:
    """Child process: reopen every community's store (the engine replays its log)."""
    from gridcore import Engine

    t0 = time.perf_counter()
    for i, _ in enumerate(plan):
        with Engine.open(store=store_url(backend, Path(folder), f"c{i:02d}", postgres)):
            pass
    out.put({"replay_seconds": time.perf_counter() - t0, "peak_mb": peak_mb()})


def whatif(name: str, days: int, out: Any) -> None:
    """Child process: one community's year under its two rulesets."""
    from gridcore_app.whatif import diff

    rules = ruleset_files(name)
    community, events = year_of(name, 1, days)
    t0 = time.perf_counter()
    result = diff(events, rules[0], rules[1], community)
    out.put({"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "events": len(events),
             "changes": len(result.changes)})


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    """Run ``target(*args, queue)`` in a fresh process; its result (or its error)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_guarded, args=(target, args, queue))
    process.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=1)
            break
        except queue_module.Empty:
            if not process.is_alive():
                raise RuntimeError(f"benchmark child {target.__name__} died (exit code {process.exitcode})") from None
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def _guarded(target: Any, args: tuple[Any, ...], queue: Any) -> None:
    sys.path.insert(0, str(REPO))
    try:
        target(*args, queue)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        import traceback

        queue.put({"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"})


def run_backend(backend: str, communities: int, days: int, postgres: str | None) -> BackendResult:
    plan = district(communities)
    with tempfile.TemporaryDirectory(prefix=f"gridcore-district-{backend}-") as folder:
        try:
            got = in_child(ingest, backend, folder, plan, days, postgres)
            back = in_child(replay, backend, folder, plan, postgres)
        finally:
            if backend == "postgresql" and postgres is not None:
                _drop_schemas(postgres, f"bench_{Path(folder).name[-8:]}_")
    return BackendResult(
        backend, communities, got["events"], got["accepted"], got["refused"], got["derived"],
        got["ingest_seconds"], got["store_only_seconds"], back["replay_seconds"], got["peak_mb"],
        back["peak_mb"], got["rulesets"],
    )


def _drop_schemas(postgres: str, prefix: str) -> None:
    import psycopg

    from gridcore.store.postgres_store import split_url

    with psycopg.connect(split_url(postgres)[0], autocommit=True) as conn:
        for (schema,) in conn.execute("SELECT nspname FROM pg_namespace").fetchall():
            if schema.startswith(prefix):
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(quick: bool = False, communities: int | None = None, days: int | None = None,
        backends: tuple[str, ...] = ("tinydb", "sqlite", "postgresql")) -> tuple[list[BackendResult],
                                                                              list[WhatIfResult], list[str]]:
    """The district on each backend, then the what-if; returns results and notes."""
    communities = communities or (2 if quick else 4)
    days = days or (7 if quick else 365)
    notes: list[str] = []
    postgres = os.environ.get("GRIDCORE_TEST_POSTGRES_URL") or os.environ.get("GRIDCORE_BENCH_POSTGRES_URL")
    results = []
    for backend in backends:
        if backend == "postgresql" and not postgres:
            notes.append("PostgreSQL not measured: set GRIDCORE_TEST_POSTGRES_URL (e.g. from .ci/postgres.sh).")
            continue
        try:
            results.append(run_backend(backend, communities, days, postgres))
        except RuntimeError as exc:  # a plugin failing mid-run is reported, not hidden
            notes.append(f"{backend}: the district run failed: {_last_line(exc)}")
    outcomes = {(r.events, r.accepted, r.refused, r.derived) for r in results}
    if len(outcomes) > 1:
        notes.append(
            "The backends disagree on events/accepted/refused/derived counts: the same simulated year must "
            "give the same results on every store, so either the code changed during the run or there is a bug."
        )
    elif results:
        notes.append("Every backend gave the same counts of events, refusals and derived events.")
    for r in results:
        if r.communities and r.ingest_seconds:
            per = r.ingest_seconds / r.communities
            notes.append(
                f"{r.backend}: {per:.0f} s of ingest and evaluation per community-{days}-days; a district of "
                f"64 such communities (Yinzhou) would take about {64 * per / 60:.0f} min on one core "
                "(communities are independent stores, so two cores halve it)."
            )
    missing = [name for name, _ in district(communities) if not ruleset_files(name)]
    if missing:
        notes.append(
            "No ruleset file yet for " + ", ".join(sorted(set(missing))) + ": those communities ran with every "
            "plugin on but no policy in force, so the plugins validate and track events but award nothing."
        )
    whatifs: list[WhatIfResult] = []
    pair = next((name for name in ROSTERS if len(ruleset_files(name)) >= 2), None)
    if pair is None:
        notes.append("What-if not measured: no community folder holds two rulesets to compare.")
    else:
        try:
            got = in_child(whatif, pair, days)
        except RuntimeError as exc:
            notes.append(f"What-if failed: {_last_line(exc)}")
            return results, whatifs, notes
        rules = ruleset_files(pair)
        whatifs.append(WhatIfResult(pair, got["events"], got["seconds"], got["peak_mb"], got["changes"],
                                    (rules[0].name, rules[1].name)))
    return results, whatifs, notes


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    where = [line for line in lines if line.startswith("File ")]
    first = lines[0] if lines else repr(exc)
    return f"{first} ({where[-1]})" if where else first


def table(results: list[BackendResult]) -> str:
    lines = [
        (
            "| backend | communities | events | refused | derived | ingest+evaluate s | events/s "
            "| store-only baseline s | ratio | replay s | peak MiB (ingest / replay) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rate = r.events / r.ingest_seconds if r.ingest_seconds else 0.0
        ratio = r.ingest_seconds / r.store_only_seconds if r.store_only_seconds else float("inf")
        lines.append(
            f"| {r.backend} | {r.communities} | {r.events:,} | {r.refused:,} | {r.derived:,} "
            f"| {r.ingest_seconds:.1f} | {rate:,.0f} | {r.store_only_seconds:.2f} | {ratio:.1f}× "
            f"| {r.replay_seconds:.1f} | {r.ingest_peak_mb:.0f} / {r.replay_peak_mb:.0f} |"
        )
    return "\n".join(lines)


def whatif_table(results: list[WhatIfResult]) -> str:
    lines = ["| community | events | rulesets | wall s | peak MiB | changes |", "|---|---:|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.community} | {r.events:,} | {' vs '.join(r.rulesets)} | {r.seconds:.1f} "
                     f"| {r.peak_mb:.0f} | {r.changes:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="District benchmark through the whole engine")
    parser.add_argument("--quick", action="store_true", help="two communities, one week: check that it runs")
    parser.add_argument("--communities", type=int, help="how many communities (default 4; 2 with --quick)")
    parser.add_argument("--days", type=int, help="days simulated per community (default 365; 7 with --quick)")
    args = parser.parse_args(argv)
    results, whatifs, notes = run(args.quick, args.communities, args.days)
    print(table(results))
    if whatifs:
        print()
        print(whatif_table(whatifs))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
