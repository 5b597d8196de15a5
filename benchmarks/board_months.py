"""A month's public points board on a long store and on a short one: the first month and the last.

A board (``gridcore points board NODE --month M``) ranks what was earned in
its month and shows each member's balance at the month's end.  It reads the
history's parts that may hold that month and nothing booked after it, so the
board of an early month of a long log should cost what that month holds, not
what came after it.  Two stores of one community's simulated days (银泉社区,
built as ``open_read.py`` builds them, checkpointed) are read: a short one
(10,000 events by default) and a long one (100,000).  For each store, the
board of the root node for its **first** month (the same month on both
stores, so the same entries) and its **last** month, as fresh ``gridcore``
processes (median CPU time of several rounds after a warm-up run), and the
board alone in this process (median CPU time of ``points.board`` on a freshly
opened read-only engine: the open, the interpreter's start and the imports
left out).  The ratio is to the short store's figure for the same month (the
first) or the same position (the last).

``--stores DIR`` keeps the stores built and uses those found there;
``--long URL --short URL`` reads two stores of any community instead (a
district year, say), each from its own first and last month; ``--node`` is
the board's node then (default: the root).  Every open is checked to have restored its state from the
store's checkpoint (``Engine.open_report``; the commands print it with ``GRIDCORE_OPEN_REPORT=1``): one that
replayed the log instead stops the benchmark with its report.  Run ``python
benchmarks/board_months.py [--quick] [--sizes 10000,100000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from attrs import frozen

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cold_start import bytecode_env, run_once
from open_read import build, check_open, reported

SIZES = (10_000, 100_000)
QUICK_SIZES = (300, 1_200)


@frozen
class Row:
    """One board: a store, which month, the medians, and the ratios to the short store's."""

    store: str
    events: int
    which: str  # "first" or "last"
    month: str
    rows: int
    board_cpu: float  # points.board alone, in this process
    command_cpu: float  # the whole `gridcore points board` process
    board_ratio: float
    command_ratio: float


def stored_span(url: str) -> tuple[int, datetime, datetime, str]:
    """Events in the store, its first and last event's times, and its root node."""
    from gridcore import Engine

    with Engine.open(store=url, read_only=True) as engine:
        first = next(iter(engine.events()), None)
        assert first is not None and engine.latest_event_time is not None
        root = engine.community.hierarchy.roots()[0].id
        tz = engine.community.tz
        return engine.position, first.time.astimezone(tz), engine.latest_event_time.astimezone(tz), root


def board_cpu(url: str, node: str, month: str, now: datetime, rounds: int) -> tuple[float, int]:
    """Median CPU seconds of ``points.board`` on a freshly opened read-only engine, and its rows."""
    from gridcore import Engine, FixedClock, get_plugin_manager

    plugins = get_plugin_manager()
    samples = []
    rows = 0
    for _ in range(rounds + 1):  # (the first: rulesets compiled, caches warm)
        with Engine.open(store=url, read_only=True, clock=FixedClock(now), plugins=plugins) as engine:
            engine.state("points")  # (the checkpoint's points document read: part of the open)
            start = time.process_time()
            table = engine.report("points.board", {"node": node, "month": month})
            samples.append(time.process_time() - start)
            rows = len(table.rows)
            check_open(url, engine.open_report.restored, str(engine.open_report), True)
    return statistics.median(samples[1:]), rows


def measure(stores: list[tuple[str, str]], node: str | None, rounds: int, folder: Path) -> list[Row]:
    """``stores``: (name, URL), the short one first; the first and last month's boards of each."""
    env = {**bytecode_env(folder), "GRIDCORE_OPEN_REPORT": "1"}
    gridcore = [sys.executable, "-c", "from gridcore_app.cli import main; main()"]
    rows: list[Row] = []
    base: dict[str, tuple[float, float]] = {}
    for name, url in stores:
        events, first, last, root = stored_span(url)
        now = last + timedelta(hours=1)
        for which, moment in (("first", first), ("last", last)):
            month = moment.strftime("%Y-%m")
            args = ["points", "board", node or root, "--month", month, "--now", now.isoformat(), "--store", url]
            command = statistics.median(s.cpu for s in [reported(run_once([*gridcore, *args], folder, env), url, True)
                                                        for _ in range(rounds + 1)][1:])
            alone, shown = board_cpu(url, node or root, month, now, rounds)
            short_board, short_command = base.setdefault(which, (alone, command))
            rows.append(Row(name, events, which, month, shown, alone, command, alone / short_board,
                            command / short_command))
    return rows


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, rounds: int | None = None,
        stores: Path | None = None, urls: tuple[str, str] | None = None, node: str | None = None) -> list[Row]:
    rounds = rounds or (1 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="gridcore-board-") as tmp:
        folder = Path(tmp)
        if urls is not None:
            return measure([("short", urls[0]), ("long", urls[1])], node, rounds, folder)
        found = []
        for size in sorted(sizes or (QUICK_SIZES if quick else SIZES)):
            # built in a child process, as open_read.py builds its stores
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                url = pool.submit(build, stores or folder, size).result()[0]
            found.append((f"{size:,} events", url))
        return measure(found, node, rounds, folder)


def table(rows: list[Row]) -> str:
    out = [("| store | events in store | month | board rows | board CPU ms | ratio | `gridcore points board` CPU ms "
            "| ratio |"), "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r.store} | {r.events:,} | {r.which}: {r.month} | {r.rows:,} | {r.board_cpu * 1000:.0f} | "
                   f"{r.board_ratio:.2f}× | {r.command_cpu * 1000:.0f} | {r.command_ratio:.2f}× |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny stores, one round: check that it runs")
    parser.add_argument("--sizes", help="comma-separated store sizes in events (default 10000,100000)")
    parser.add_argument("--rounds", type=int, help="rounds per board (default 3)")
    parser.add_argument("--stores", type=Path, help="keep the stores built in this folder and use those found there")
    parser.add_argument("--short", help="the URL of a short store to read instead (with --long)")
    parser.add_argument("--long", help="the URL of a long store to read instead (with --short)")
    parser.add_argument("--node", help="the board's node (default: the root)")
    args = parser.parse_args(argv)
    if (args.short is None) != (args.long is None):
        parser.error("--short and --long go together")
    if args.stores is not None:
        args.stores.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    urls = (args.short, args.long) if args.short is not None else None
    sys.stdout.write(table(run(args.quick, sizes, args.rounds, args.stores, urls, args.node)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
