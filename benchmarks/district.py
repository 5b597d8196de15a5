"""District benchmark: a simulated Yinzhou year in one store, through the whole engine, on each backend.

Yinzhou district (``rulesets/yinzhou``: 7 streets, 64 communities, 384 grids,
about 3,000 gridworkers) keeps its whole tree in one store under its ruleset
(which extends ``rulesets/district-base.rules``).  Its year is simulated
(``gridcore_app.simulate`` with ``rulesets/yinzhou/scenario.yaml``, or
``scenario-busy.yaml``: part-time gridworkers patrolling most days, which gives
the account-sized year of about 1.5 million events).  For each backend, in a
child process (so peak memory is its own):

* **baseline**: the same event documents appended straight to a fresh store of
  the same backend, in batches of 1,000 (what storage alone costs);
* **ingest and evaluate**: the year written to a JSON-lines file (as ``gridcore
  simulate --out`` writes it; not timed), then ``Engine.open`` with every
  installed plugin and the district's ruleset and the file read as ``gridcore
  ingest`` reads it (a ``record_many`` call per chunk of 20,000 lines, written in
  batches of 1,000), a
  ``tick`` at the end of the year, then the district's roll-up for each quarter (``gridcore rollup yz --period
  2025-Qn``: the three rates, overdue cases, stars of every grid, points,
  subsidies): wall and CPU time, events/s, ratio to the baseline, peak memory;
* **open and read**: a fresh process opening the store read-only (the
  checkpoint is restored: ``Engine.open_report`` is checked after the read,
  and one that replayed the log instead stops the benchmark; the table says
  what the open replayed after the checkpoint) and rolling up the last
  quarter again.

Then **what-if** (``gridcore_app.whatif.diff``, what ``gridcore diff`` runs):
the year's primary events judged under the district ruleset and under the same
ruleset over a changed district base (volunteer service worth 6 points an hour
instead of 5), each replayed into an in-memory store.

Only the public API is used.  ``--quick``: a generated district of 2 streets
and 4 communities for 3 days (to check that everything runs).  Run
``python benchmarks/district.py [--quick] [--days D] [--busy] [--backends sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue as queue_module
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

REPO = Path(__file__).resolve().parent.parent
YINZHOU = REPO / "rulesets" / "yinzhou"
START = date(2025, 1, 1)
BATCH = 1000
YEAR_FILE = "year.jsonl"


@attrs.frozen
class BackendResult:
    """What one backend did with the district's year."""

    backend: str
    events: int
    accepted: int
    refused: int
    derived: int
    ingest_seconds: float  # wall: ingest, tick and the four quarterly roll-ups
    ingest_cpu: float
    rollup_seconds: float  # of which the roll-ups
    store_only_seconds: float
    open_read_seconds: float
    ingest_peak_mb: float
    open_peak_mb: float
    #: log entries the open + read replayed after the checkpoint it restored (``Engine.open_report``; an open
    #: not restored from the checkpoint stops the benchmark)
    open_replayed: int = 0


@attrs.frozen
class WhatIfResult:
    """The year judged under two rulesets."""

    events: int
    seconds: float
    peak_mb: float
    changes: int
    rulesets: tuple[str, str]


def roster(folder: Path, quick: bool) -> Path:
    """The district's roster folder: Yinzhou's own, or (quick) a small district of the same shape."""
    if not quick:
        return YINZHOU
    import runpy

    make = runpy.run_path(str(REPO / "rulesets" / "tools" / "make_yinzhou.py"))
    make["district"](folder, key="mini", streets=2, communities=4, name="小银州区")
    return folder / "mini"


def ruleset_files(name: str) -> list[Path]:
    """A community folder's ruleset files, its own ``<name>.rules`` first (for the other benchmarks)."""
    folder = REPO / "rulesets" / name
    files = sorted(folder.glob("*.rules"))
    own = folder / f"{name}.rules"
    return ([own] if own in files else []) + [f for f in files if f != own]


def year_of(name: str, seed: int, days: int) -> tuple[Any, list[Any]]:
    """One community of ``rulesets/`` and its simulated days (for the other benchmarks)."""
    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    folder = REPO / "rulesets" / name
    community = load_community(folder)
    scenario = load_scenario(folder / "scenario.yaml")
    return community, list(simulate(community, scenario, days=days, start=START, seed=seed))


def district_year(where: Path, days: int, busy: bool) -> tuple[Any, list[Any]]:
    """The district and its simulated days (deterministic: seed 1)."""
    from gridcore_app.ladder import Ladder
    from gridcore_app.rosterio import load_community
    from gridcore_app.simulate import load_scenario, simulate

    community = load_community(where)
    scenario = load_scenario(YINZHOU / ("scenario-busy.yaml" if busy else "scenario.yaml"))
    # (the ladder of the ruleset it is ingested under: a case its timers carry up is taken on where it reached)
    ladder = Ladder.of_files(community, [YINZHOU / "yinzhou.rules"], at=START)
    return community, list(simulate(community, scenario, days=days, start=START, seed=1, ladder=ladder))


def quarters(days: int) -> list[str]:
    """The roll-up periods of the simulated span: the quarters it touches (a week for short spans)."""
    end = START + timedelta(days=days - 1)
    if days < 28:
        return [f"{START.isocalendar().year}-W{START.isocalendar().week:02d}"]
    return [f"{START.year}-Q{q}" for q in range(1, (end.month - 1) // 3 + 2)]


def store_url(backend: str, folder: Path, name: str, postgres: str | None) -> str:
    """Where a store lives: a folder, a SQLite file, or a schema named after the run."""
    if backend == "tinydb":
        return str(folder / name)
    if backend == "sqlite":
        return f"sqlite:///{folder / name}.db"
    assert postgres is not None
    sep = "&" if "?" in postgres else "?"
    return f"{postgres}{sep}schema=bench_{Path(folder).name[-8:]}_{name}"


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``VmHWM``: a spawned child starts afresh)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(backend: str, folder: str, where: str, days: int, busy: bool, postgres: str | None, out: Any) -> None:
    """Child process: the year simulated and written as a JSON-lines file, and the store-only baseline."""
    from gridcore.codec import EventCodec
    from gridcore.store.url import open_store

    _, events = district_year(Path(where), days, busy)
    codec = EventCodec()
    docs = [codec.to_dict(e) for e in events]
    base = open_store(store_url(backend, Path(folder), "base", postgres))
    t0 = time.perf_counter()
    for start in range(0, len(docs), BATCH):
        base.append(docs[start : start + BATCH])
    store_s = time.perf_counter() - t0
    base.close()
    # the year as `gridcore simulate --out` writes it (in canonical order)
    with (Path(folder) / YEAR_FILE).open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    out.put({"events": len(docs), "store_only_seconds": store_s})


def ingest(backend: str, folder: str, where: str, days: int, postgres: str | None, workers: int, out: Any) -> None:
    """Child process: the year's file through the engine, as `gridcore ingest` reads it, ticked and rolled up.

    The quarters' roll-ups run at once with ``workers`` forked workers (``gridcore_app.rollup.rollups``;
    1: one after the other); the CPU time counted is this process's and its workers'.
    """
    from gridcore import Engine, FixedClock
    from gridcore.garbage import fewer_full_collections
    from gridcore_app.cli import INGEST_CHUNK
    from gridcore_app.jsonl import bounded_lines, chunks_of_events
    from gridcore_app.rollup import rollups
    from gridcore_app.rosterio import load_community

    community = load_community(Path(where))
    year_file = Path(folder) / YEAR_FILE
    first = datetime.combine(START, datetime.min.time(), tzinfo=community.tz)
    end = first + timedelta(days=days)
    accepted = refused = derived = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with Engine.open(store=store_url(backend, Path(folder), "district", postgres), community=community,
                     clock=FixedClock(end), ruleset=YINZHOU / "yinzhou.rules", effective=first) as engine, \
            year_file.open("rb") as lines:
        # as `gridcore ingest year.jsonl` reads it: a file in canonical order, a chunk of
        # INGEST_CHUNK lines per `record_many` call (each written in batches of 1,000),
        # with full garbage collections as rare between the calls as within them
        with fewer_full_collections():
            for chunk in chunks_of_events(bounded_lines(lines), year_file.name, INGEST_CHUNK):
                summary = engine.record_many(chunk.docs, batch_size=BATCH)
                accepted += summary.accepted
                refused += len(summary.refused) + len(chunk.bad)
                derived += summary.derived
        derived += len(engine.tick(end))
        r0 = time.perf_counter()
        rollups(engine, [("yz", period) for period in quarters(days)], workers=workers)
        rollup_s = time.perf_counter() - r0
    out.put({"accepted": accepted, "refused": refused, "derived": derived,
             "ingest_seconds": time.perf_counter() - t0, "ingest_cpu": time.process_time() - c0 + _workers_cpu(),
             "rollup_seconds": rollup_s, "peak_mb": peak_mb()})


def _workers_cpu() -> float:
    """CPU seconds of this process's children that ended (the roll-ups' forked workers)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def open_read(backend: str, folder: str, days: int, postgres: str | None, workers: int, out: Any) -> None:
    """Child process: open the district's store read-only and roll up its last period."""
    from gridcore import Engine, FixedClock
    from gridcore.garbage import fewer_collections_while_reading
    from gridcore_app.rollup import rollup

    t0 = time.perf_counter()
    # as `gridcore rollup` opens it: read-only, the clock read once (the whole roll-up is as at one now),
    # with fewer garbage collections from the open on
    with fewer_collections_while_reading(), \
            Engine.open(store=store_url(backend, Path(folder), "district", postgres), read_only=True,
                        clock=FixedClock(datetime.now(UTC))) as engine:
        rollup(engine, "yz", quarters(days)[-1], workers=workers)
        report = engine.open_report  # (after the read: a state built again meanwhile is no restore either)
    if not report.restored:
        raise RuntimeError(f"the open + read was not restored from the store's checkpoint: {report}")
    out.put({"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "replayed": report.replayed})


def changed_base(folder: Path) -> Path:
    """The district ruleset over a changed district base (volunteer service 6 points an hour, not 5)."""
    target = folder / "changed-base"
    target.mkdir()
    base = (REPO / "rulesets" / "district-base.rules").read_text(encoding="utf-8")
    old = "activity 志愿服务: 5 per hour"
    assert old in base, "district-base.rules no longer has the line the benchmark changes"
    (target / "district-base.rules").write_text(base.replace(old, "activity 志愿服务: 6 per hour"), encoding="utf-8")
    shutil.copy(YINZHOU / "yinzhou.rules", target / "yinzhou.rules")
    return target / "yinzhou.rules"


def whatif(folder: str, where: str, days: int, busy: bool, out: Any) -> None:
    """Child process: the year under the district ruleset and under a changed district base."""
    from gridcore_app.whatif import diff

    community, events = district_year(Path(where), days, busy)
    changed = changed_base(Path(folder))
    t0 = time.perf_counter()
    result = diff(events, YINZHOU / "yinzhou.rules", changed, community)
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


def run_backend(backend: str, where: Path, days: int, busy: bool, postgres: str | None, workers: int = 1
                ) -> BackendResult:
    with tempfile.TemporaryDirectory(prefix=f"gridcore-district-{backend}-") as folder:
        try:
            got = in_child(baseline, backend, folder, str(where), days, busy, postgres)
            got |= in_child(ingest, backend, folder, str(where), days, postgres, workers)
            back = in_child(open_read, backend, folder, days, postgres, workers)
        finally:
            if backend == "postgresql" and postgres is not None:
                _drop_schemas(postgres, f"bench_{Path(folder).name[-8:]}_")
    return BackendResult(
        backend, got["events"], got["accepted"], got["refused"], got["derived"], got["ingest_seconds"],
        got["ingest_cpu"], got["rollup_seconds"], got["store_only_seconds"], back["seconds"], got["peak_mb"],
        back["peak_mb"], back["replayed"],
    )


def _drop_schemas(postgres: str, prefix: str) -> None:
    import psycopg

    from gridcore.store.postgres_store import split_url

    with psycopg.connect(split_url(postgres)[0], autocommit=True) as conn:
        for (schema,) in conn.execute("SELECT nspname FROM pg_namespace").fetchall():
            if schema.startswith(prefix):
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run(quick: bool = False, days: int | None = None, busy: bool = False,
        backends: tuple[str, ...] = ("sqlite", "postgresql"), whatif_too: bool = True, workers: int = 1,
        ) -> tuple[list[BackendResult], list[WhatIfResult], list[str]]:
    """The district's year on each backend, then the what-if; returns results and notes.

    ``workers``: forked workers of the roll-ups (``gridcore rollup --workers``; 1: none)."""
    days = days or (3 if quick else 365)
    notes: list[str] = []
    postgres = os.environ.get("GRIDCORE_TEST_POSTGRES_URL") or os.environ.get("GRIDCORE_BENCH_POSTGRES_URL")
    results: list[BackendResult] = []
    whatifs: list[WhatIfResult] = []
    with tempfile.TemporaryDirectory(prefix="gridcore-district-roster-") as scratch:
        where = roster(Path(scratch), quick)
        for backend in backends:
            if backend == "postgresql" and not postgres:
                notes.append("PostgreSQL not measured: set GRIDCORE_TEST_POSTGRES_URL (e.g. from .ci/postgres.sh).")
                continue
            try:
                results.append(run_backend(backend, where, days, busy, postgres, workers))
                print(table(results[-1:]), file=sys.stderr, flush=True)  # as it comes: a year takes long
            except RuntimeError as exc:  # a plugin failing mid-run is reported, not hidden
                notes.append(f"{backend}: the district run failed: {_last_line(exc)}")
        outcomes = {(r.events, r.accepted, r.refused, r.derived) for r in results}
        if len(outcomes) > 1:
            notes.append("The backends disagree on events/accepted/refused/derived counts: the same simulated "
                         "year must give the same results on every store, so there is a bug.")
        elif len(results) > 1:
            notes.append("Every backend gave the same counts of events, refusals and derived events.")
        for r in results:
            verdict = ("within" if r.ingest_seconds <= 300 else "over") + " the 5-minute target for a district year"
            notes.append(f"{r.backend}: {r.events:,} events of {days} days ingested and evaluated in "
                         f"{r.ingest_seconds:.0f} s" + (f" ({verdict})." if days >= 365 else "."))
        if whatif_too:
            try:
                got = in_child(whatif, scratch, str(where), days, busy)
                print(f"what-if: {got}", file=sys.stderr, flush=True)
                whatifs.append(WhatIfResult(got["events"], got["seconds"], got["peak_mb"], got["changes"],
                                            ("yinzhou.rules", "yinzhou.rules over a changed district-base")))
                verdict = ("within" if got["seconds"] <= 600 else "over") + " the 10-minute target for a year"
                notes.append(f"What-if of {days} days: {got['seconds']:.0f} s" + (f" ({verdict})." if days >= 365 else "."))
            except RuntimeError as exc:
                notes.append(f"What-if failed: {_last_line(exc)}")
    return results, whatifs, notes


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    where = [line for line in lines if line.startswith("File ")]
    first = lines[0] if lines else repr(exc)
    return f"{first} ({where[-1]})" if where else first


def table(results: list[BackendResult]) -> str:
    lines = [
        ("| backend | events | refused | derived | ingest+evaluate s (CPU s) | of which roll-ups s | events/s "
         "| store-only baseline s | ratio | open + read s | peak MiB (ingest / open) | replayed at open |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rate = r.events / r.ingest_seconds if r.ingest_seconds else 0.0
        ratio = r.ingest_seconds / r.store_only_seconds if r.store_only_seconds else float("inf")
        lines.append(
            f"| {r.backend} | {r.events:,} | {r.refused:,} | {r.derived:,} | {r.ingest_seconds:.1f} "
            f"({r.ingest_cpu:.1f}) | {r.rollup_seconds:.1f} | {rate:,.0f} | {r.store_only_seconds:.2f} "
            f"| {ratio:.1f}× | {r.open_read_seconds:.1f} | {r.ingest_peak_mb:.0f} / {r.open_peak_mb:.0f} "
            f"| {r.open_replayed:,} |"
        )
    return "\n".join(lines)


def whatif_table(results: list[WhatIfResult]) -> str:
    lines = ["| events | rulesets | wall s | peak MiB | changes |", "|---:|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.events:,} | {' vs '.join(r.rulesets)} | {r.seconds:.1f} | {r.peak_mb:.0f} "
                     f"| {r.changes:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A district year in one store, through the whole engine")
    parser.add_argument("--quick", action="store_true", help="a small generated district for 3 days")
    parser.add_argument("--days", type=int, help="days simulated (default 365; 3 with --quick)")
    parser.add_argument("--busy", action="store_true",
                        help="scenario-busy.yaml: the account-sized year (about 1.5 million events)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: tinydb, sqlite, postgresql (empty: the what-if alone)")
    parser.add_argument("--no-whatif", action="store_true", help="skip the what-if")
    parser.add_argument("--workers", type=int, default=1,
                        help="forked workers of the roll-ups (gridcore rollup --workers; default 1: none)")
    args = parser.parse_args(argv)
    results, whatifs, notes = run(args.quick, args.days, args.busy, tuple(b for b in args.backends.split(",") if b),
                                  not args.no_whatif, max(1, args.workers))
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
