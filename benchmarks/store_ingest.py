"""Store ingest: events per second into each backend as the store grows, beside a baseline.

Each backend gets a fresh store and is fed batches of 1,000 event documents
(time-ordered, as the engine writes them: about one every 31 seconds, the rate
of a district year).  At each checkpoint N the table shows the cumulative rate
and the cost per event of the last stretch before N (the marginal cost: flat
means the store does not slow down as it grows).  Every figure sits beside a
hand-written baseline that does the same durable work with no store around it,
measured in the same run:

* TinyDB store (segmented folder)  vs  JSON-lines append + fsync per batch;
  also the naive TinyDB way (one file, ``insert_multiple``), up to 100k.
* SQLite store  vs  raw ``sqlite3`` ``executemany`` into a keyed table, WAL,
  one transaction per batch.
* PostgreSQL store  vs  raw psycopg ``COPY`` into a keyed table, one
  transaction per batch.

Run ``python benchmarks/store_ingest.py [--quick]``; ``benchmarks/run.py`` runs it
with the others and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

CST = timezone(timedelta(hours=8))
START = datetime(2025, 1, 1, tzinfo=CST)
BATCH = 1000
NAIVE_LIMIT = 100_000
KINDS = ("patrol_logged", "incident_reported", "activity_recorded", "incident_resolved")

FULL_SIZES = {"tinydb": (1_000, 10_000, 50_000, 100_000, 1_000_000), "sqlite": (1_000, 10_000, 100_000, 1_000_000),
              "postgresql": (1_000, 10_000, 100_000, 1_000_000)}
QUICK_SIZES = {"tinydb": (1_000, 3_000), "sqlite": (1_000, 3_000), "postgresql": (1_000, 3_000)}


#: Opens a writer in a folder: ``(append, close)``.
Opener = Callable[[Path], tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]]


@attrs.frozen
class Checkpoint:
    """Measurements of one writer at ``n`` events."""

    n: int
    seconds: float  # cumulative wall time of the appends
    marginal_us: float  # µs per event over the last stretch before n


@attrs.frozen
class Row:
    """One table row: a store beside its baseline at the same size."""

    backend: str
    n: int
    store: Checkpoint
    baseline: Checkpoint
    baseline_name: str


@attrs.frozen
class ReadRow:
    """Reopening a store of ``n`` events and reading it all in canonical order, beside a baseline."""

    backend: str
    n: int
    open_seconds: float
    read_seconds: float
    baseline_name: str
    baseline_seconds: float


def documents(first: int, count: int) -> list[dict[str, Any]]:
    """``count`` event documents numbered from ``first``, in time order."""
    docs = []
    for n in range(first, first + count):
        docs.append({
            "id": f"ev-{n:08d}",
            "kind": KINDS[n % 4],
            "time": (START + timedelta(seconds=31 * n)).isoformat(),
            "actor": f"gw{n % 3000:04d}",
            "node": f"c{n % 64:02d}-g{n % 9}-u{n % 53:02d}",
            "minutes": 30 + n % 90,
            "note": "巡查楼道消防通道" if n % 4 == 0 else "",
        })
    return docs


def measure(append: Callable[[list[dict[str, Any]]], object], sizes: tuple[int, ...]) -> list[Checkpoint]:
    """Feed batches up to the largest size; the marginal cost is over the last 10% before each size."""
    points = [(0, 0.0)]  # (events stored, cumulative seconds) after each batch
    done = 0
    total = 0.0
    out: list[Checkpoint] = []
    for size in sizes:
        while done < size:
            batch = documents(done, min(BATCH, size - done))
            t0 = time.perf_counter()
            append(batch)
            total += time.perf_counter() - t0
            done += len(batch)
            points.append((done, total))
        window = max(size // 10, BATCH)
        n0, t0 = max((p for p in points if p[0] <= size - window), default=(0, 0.0))
        out.append(Checkpoint(size, total, (total - t0) / max(done - n0, 1) * 1e6))
    return out


# ---------------------------------------------------------------- writers


def tinydb_store(folder: Path) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    from gridcore.store.tinydb_store import TinyDBStore

    store = TinyDBStore(folder / "store")
    return store.append, store.close


def jsonl_baseline(folder: Path) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    out = open(folder / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed by the returned closer

    def append(batch: list[dict[str, Any]]) -> None:
        out.write("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in batch))
        out.flush()
        os.fsync(out.fileno())

    return append, out.close


def naive_tinydb(folder: Path) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    from tinydb import TinyDB

    db = TinyDB(folder / "naive.json")
    return db.insert_multiple, db.close


def sqlite_store(folder: Path) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    from gridcore.store.sqlite_store import SQLiteStore

    store = SQLiteStore(folder / "store.db")
    return store.append, store.close


def sqlite_baseline(folder: Path) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE events (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

    def append(batch: list[dict[str, Any]]) -> None:
        db.execute("BEGIN")
        db.executemany("INSERT INTO events VALUES (?, ?)", [(d["id"], json.dumps(d)) for d in batch])
        db.execute("COMMIT")

    return append, db.close


def postgres_store(url: str) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    from gridcore.store.postgres_store import PostgresStore

    store = PostgresStore(url)
    return store.append, store.close


def postgres_baseline(url: str) -> tuple[Callable[[list[dict[str, Any]]], object], Callable[[], None]]:
    import psycopg

    from gridcore.store.postgres_store import split_url

    conninfo, schema = split_url(url)
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    conn.execute(f'SET search_path TO "{schema}"')
    conn.execute("CREATE TABLE raw_events (id text PRIMARY KEY, doc jsonb NOT NULL)")

    def append(batch: list[dict[str, Any]]) -> None:
        with conn.transaction(), conn.cursor() as cur, cur.copy("COPY raw_events (id, doc) FROM STDIN") as copy:
            for d in batch:
                copy.write_row((d["id"], json.dumps(d)))

    return append, conn.close


# ---------------------------------------------------------------- runs


def read_store(make: Callable[[], Any]) -> tuple[float, float, int]:
    """``(open seconds, read seconds, events read)`` for an existing store."""
    t0 = time.perf_counter()
    store = make()
    t1 = time.perf_counter()
    n = sum(1 for _ in store.events())
    t2 = time.perf_counter()
    store.close()
    return t1 - t0, t2 - t1, n


def read_jsonl(folder: Path) -> int:
    with open(folder / "events.jsonl", encoding="utf-8") as stream:
        docs = [json.loads(line) for line in stream]
    docs.sort(key=lambda d: (datetime.fromisoformat(d["time"]).astimezone(UTC), d["id"]))
    return len(docs)


def read_sqlite(folder: Path) -> int:
    db = sqlite3.connect(folder / "raw.db")
    n = sum(1 for (doc,) in db.execute("SELECT doc FROM events ORDER BY id") if json.loads(doc))
    db.close()
    return n


def read_postgres(url: str) -> int:
    import psycopg

    from gridcore.store.postgres_store import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo) as conn, conn.cursor(name="raw") as cur:
        cur.execute(f'SELECT doc::text FROM "{schema}".raw_events ORDER BY id')
        return sum(1 for (doc,) in cur if json.loads(doc))


def timed(read: Callable[[], int]) -> float:
    t0 = time.perf_counter()
    read()
    return time.perf_counter() - t0


def run_backend(
    backend: str, sizes: tuple[int, ...], postgres_url: str | None, reads: list[ReadRow] | None = None
) -> Iterator[Row]:
    """Measure one backend and its baseline(s) at each size; append read timings to ``reads``."""
    with tempfile.TemporaryDirectory(prefix=f"gridcore-bench-{backend}-") as tmp:
        folder = Path(tmp)
        schema = None
        url: str | None = None
        pairs: list[tuple[str, Opener, Opener]]
        if backend == "tinydb":
            pairs = [("JSON-lines append + fsync", tinydb_store, jsonl_baseline)]
            pairs.append(("naive TinyDB, one file, insert_multiple", tinydb_store, naive_tinydb))
        elif backend == "sqlite":
            pairs = [("raw sqlite3 executemany, WAL", sqlite_store, sqlite_baseline)]
        else:
            assert postgres_url is not None
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            sep = "&" if "?" in postgres_url else "?"
            url = f"{postgres_url}{sep}schema={schema}"
            pg_url = url
            pairs = [("raw psycopg COPY", lambda _f: postgres_store(pg_url), lambda _f: postgres_baseline(pg_url))]
        try:
            store_points: list[Checkpoint] | None = None
            for baseline_name, make_store, make_baseline in pairs:
                if store_points is None:
                    append, close = make_store(folder)
                    try:
                        store_points = measure(append, sizes)
                    finally:
                        close()
                # One file rewritten per batch is quadratic: stop it at 100k.
                base_sizes = tuple(n for n in sizes if n <= NAIVE_LIMIT) if "naive" in baseline_name else sizes
                append, close = make_baseline(folder)
                try:
                    base_points = measure(append, base_sizes)
                finally:
                    close()
                for s, b in zip(store_points, base_points, strict=False):
                    yield Row(backend, s.n, s, b, baseline_name)
            if reads is not None:
                reads.append(_read_row(backend, folder, postgres_url and url, max(sizes)))
        finally:
            if schema is not None and postgres_url is not None:
                _drop_schema(postgres_url, schema)


def _read_row(backend: str, folder: Path, url: str | None, n: int) -> ReadRow:
    from gridcore.store.postgres_store import PostgresStore
    from gridcore.store.sqlite_store import SQLiteStore
    from gridcore.store.tinydb_store import TinyDBStore

    if backend == "tinydb":
        opened, read, got = read_store(lambda: TinyDBStore(folder / "store"))
        name, base = "JSON-lines: parse all, sort", timed(lambda: read_jsonl(folder))
    elif backend == "sqlite":
        opened, read, got = read_store(lambda: SQLiteStore(folder / "store.db"))
        name, base = "raw sqlite3 SELECT ... ORDER BY id", timed(lambda: read_sqlite(folder))
    else:
        assert url is not None
        opened, read, got = read_store(lambda: PostgresStore(url))
        name, base = "raw psycopg server cursor, ORDER BY id", timed(lambda: read_postgres(url))
    assert got == n, f"{backend}: read {got} events, stored {n}"
    return ReadRow(backend, n, opened, read, name, base)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    from gridcore.store.postgres_store import split_url

    with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_url() -> tuple[str | None, str]:
    """The server to benchmark against: GRIDCORE_TEST_POSTGRES_URL, or none and why."""
    url = os.environ.get("GRIDCORE_TEST_POSTGRES_URL") or os.environ.get("GRIDCORE_BENCH_POSTGRES_URL")
    if url:
        return url, ""
    return None, "set GRIDCORE_TEST_POSTGRES_URL (e.g. from .ci/postgres.sh) to include PostgreSQL"


def run(quick: bool = False) -> tuple[list[Row], list[ReadRow], list[str]]:
    """Every backend at its sizes; returns the rows, the read rows and notes (e.g. a skipped backend)."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    rows: list[Row] = []
    reads: list[ReadRow] = []
    notes: list[str] = []
    pg, reason = postgres_url()
    for backend in ("tinydb", "sqlite", "postgresql"):
        if backend == "postgresql" and pg is None:
            notes.append(f"PostgreSQL not measured: {reason}.")
            continue
        rows.extend(run_backend(backend, sizes[backend], pg, reads))
    return rows, reads, notes


def table(rows: list[Row]) -> str:
    """A Markdown table of the rows."""
    lines = [
        "| backend | events | total s | events/s | µs/event at N | baseline | baseline µs/event at N | ratio |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        rate = r.n / r.store.seconds if r.store.seconds else float("inf")
        ratio = r.store.marginal_us / r.baseline.marginal_us if r.baseline.marginal_us else float("inf")
        lines.append(
            f"| {r.backend} | {r.n:,} | {r.store.seconds:.2f} | {rate:,.0f} | {r.store.marginal_us:.1f} "
            f"| {r.baseline_name} | {r.baseline.marginal_us:.1f} | {ratio:.2f}× |"
        )
    return "\n".join(lines)


def read_table(reads: list[ReadRow]) -> str:
    """A Markdown table of the read rows."""
    lines = [
        "| backend | events | open s | read all s | µs/event | baseline | baseline s | ratio |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in reads:
        ratio = r.read_seconds / r.baseline_seconds if r.baseline_seconds else float("inf")
        lines.append(
            f"| {r.backend} | {r.n:,} | {r.open_seconds:.2f} | {r.read_seconds:.2f} "
            f"| {r.read_seconds / r.n * 1e6:.1f} | {r.baseline_name} | {r.baseline_seconds:.2f} | {ratio:.2f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    args = parser.parse_args(argv)
    rows, reads, notes = run(args.quick)
    print(table(rows))
    print()
    print(read_table(reads))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
