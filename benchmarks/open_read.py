"""Reading a big store: a read command as a real process, with and without a checkpoint.

Stores of one community's simulated days (银泉社区, ``gridcore_app.simulate``)
are recorded through ``Engine.record_many`` (every installed plugin, the
community's ruleset, calls of about 1,000 events cut where the time steps on) into SQLite; the engine stores its
checkpoints as it goes.  A copy of each store has its checkpoints deleted
(what every store looked like before checkpoints existed).  Then read
commands run as fresh ``gridcore`` processes on each store, several rounds
interleaved: ``incidents list`` (the open incidents), ``points board ROOT
--month M`` (the last month's board) and ``assess --period M --dry-run`` (the
last month's star ratings, not stored).  Reported per store size and command:
median CPU time and peak memory of the process with the checkpoint and
without, and the ratio of the CPU time to the same command on the smallest
store (the target: a read on a large store within 2x of the same read on a
10,000-event store).  ``Engine.open`` is also timed in this process, with
where its time goes: compiling the stored rulesets, restoring the
checkpoint, replaying what follows it.  Opening replays only the events after the newest
checkpoint for plugins that save their state; a plugin without the hooks is
still replayed in full, which the table shows as it is.

Every measured open says how it built its state (``Engine.open_report``; the
commands print it with ``GRIDCORE_OPEN_REPORT=1``): one "with checkpoint" that
was not restored from the checkpoint (a store built where other plugins were
installed, whose checkpoints fit no open here) or was built again afterwards,
and one "without" that was, stops the benchmark with that report, rather than
tabulate a full replay as a restore.

Run ``python benchmarks/open_read.py [--quick] [--sizes 10000,100000] [--bare-up-to 100000] [--stores DIR]``.
``--stores DIR`` keeps the stores built in ``DIR`` and uses those it finds there
(a 1,000,000-event store takes most of an hour to build on a shared machine):
only with the tree that built them, since a checkpoint written by another
version of a plugin is ignored and every command would replay the log.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sqlite3
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from attrs import frozen

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cold_start import bytecode_env, run_once

SIZES = (10_000, 100_000)
QUICK_SIZES = (300, 1_200)
PER_DAY = 100  # fewer than a simulated 银泉 day holds (about 115), so the days simulated hold enough


@frozen
class Row:
    """One command on one store: medians with and without the checkpoint."""

    events: int
    command: str
    stored: int  # what the store holds: the events accepted and those derived (a few are refused)
    cpu: float
    rss_kib: int
    cpu_without: float | None  # None: not measured (--bare-up-to)
    rss_without_kib: int | None
    ratio: float  # cpu / the same command's cpu on the smallest store (both with checkpoints)


@frozen
class OpenRow:
    """``Engine.open`` in this process (rulesets compiled by a first open): seconds with and without."""

    events: int
    with_checkpoint: float
    without: float | None
    #: of ``with_checkpoint``: compiling the stored rulesets, restoring the checkpoint, replaying the tail
    phases: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: after the open: giving every plugin its state from the checkpoint (each plugin's document is read
    #: when the plugin is first used, so a read command pays only for those it shows)
    every_plugin: float = 0.0
    #: how the opens "with checkpoint" built the state (``str(Engine.open_report)``, the last round's)
    report: str = ""


def build(folder: Path, events: int) -> tuple[str, str, datetime, int]:
    """Record ``events`` simulated events into a fresh SQLite store (or use the one ``folder`` holds).

    Its URL, a copy's without checkpoints, the last event's time and how many
    events the store holds.
    """
    path, bare = folder / f"store-{events}.db", folder / f"store-{events}-bare.db"
    if path.exists() and bare.exists():
        from gridcore import Engine

        with Engine.open(store=f"sqlite:///{path}", read_only=True) as kept:
            assert kept.latest_event_time is not None
            return f"sqlite:///{path}", f"sqlite:///{bare}", kept.latest_event_time, kept.position
    from gridcore import Engine, FixedClock, get_plugin_manager
    from gridcore_app.rosterio import load_community
    from gridcore_app.scenario import load_scenario
    from gridcore_app.simulate import RULESETS_DIR, simulate

    where = RULESETS_DIR / "yinquan"
    community = load_community(where)
    start = date(2025, 1, 1)
    days = events // PER_DAY + 2
    stream = simulate(community, load_scenario(where / "scenario.yaml"), days=days, start=start, seed=7)
    url = f"sqlite:///{path}"
    clock = FixedClock(datetime.combine(start, datetime.min.time(), tzinfo=community.tz) + timedelta(days=days + 1))
    with Engine.open(store=url, community=community, ruleset=where / "yinquan.rules",
                     effective=datetime(2024, 1, 1, tzinfo=community.tz), clock=clock,
                     plugins=get_plugin_manager()) as engine:
        from gridcore.engine import DECIDED_WITH

        batch: list[Any] = []
        total = 0
        for event in stream:
            # calls of about 1,000 cut where the time steps on, as `gridcore ingest` cuts a file: a call
            # ending inside a minute would make the next call's events at that minute late (a rewind)
            if len(batch) >= 1000 and event.time > batch[-1].time + DECIDED_WITH:
                engine.record_many(batch)
                total += len(batch)
                batch = []
            batch.append(event)
            if total + len(batch) >= events:
                break
        if batch:
            engine.record_many(batch)
        last = engine.latest_event_time
        stored = engine.position
        engine.checkpoint()
    assert last is not None
    shutil.copyfile(path, bare)
    with sqlite3.connect(bare) as db:
        db.execute("DELETE FROM documents WHERE collection = 'checkpoints'")
    return url, f"sqlite:///{bare}", last, stored


def time_open(url: str, rounds: int, env: dict[str, str] | None = None, *, restored: bool = True
              ) -> tuple[float, tuple[float, float, float], float, str]:
    """Median process time of a read-only ``Engine.open`` + close (after one warm-up open), its phases, and more.

    Each open runs in a fresh process (nothing compiled or cached in memory
    by an earlier one, as for a command); the phases are the medians of
    compiling the stored rulesets, restoring the checkpoint and replaying.
    Last, the median time to give every plugin its state afterwards (what an
    open cost before each plugin's state was restored only when first used), and how the last open built
    its state (``Engine.open_report``), each open's checked to be ``restored`` or not as asked.
    """
    import json
    import subprocess

    probe = (
        "import json, sys, time\n"
        "t0 = time.process_time()\n"
        "import gridcore.engine as E\n"
        "from gridcore import Engine, get_plugin_manager\n"
        "spent = {}\n"
        "def timed(name, f):\n"
        "    def g(self, *a, **k):\n"
        "        s = time.process_time(); r = f(self, *a, **k)\n"
        "        spent[name] = spent.get(name, 0) + time.process_time() - s; return r\n"
        "    return g\n"
        "for name in ('_restore_rulesets', '_restore_checkpoint', '_replay'):\n"
        "    setattr(E.Engine, name, timed(name, getattr(E.Engine, name)))\n"
        "pm = get_plugin_manager()\n"
        "s = time.process_time()\n"
        "e = Engine.open(store=sys.argv[1], plugins=pm, read_only=True)\n"
        "opened = time.process_time() - s\n"
        "s = time.process_time()\n"
        "e._savers()  # every plugin given its state\n"
        "woken = time.process_time() - s\n"
        "report = e.open_report\n"
        "e.close()\n"
        "print(json.dumps([opened, spent, woken, report.restored, str(report)]))\n"
    )
    samples = []
    for n in range(rounds + 1):
        done = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True, env=env)
        sample = json.loads(done.stdout)
        check_open(url, sample[3], sample[4], restored)
        if n:
            samples.append(sample)
    phases = tuple(statistics.median(s[1].get(k, 0.0) for s in samples)
                   for k in ("_restore_rulesets", "_restore_checkpoint", "_replay"))
    return (statistics.median(s[0] for s in samples), (phases[0], phases[1], phases[2]),
            statistics.median(s[2] for s in samples), samples[-1][4])


def check_open(store: str, restored: bool, report: str, expected: bool) -> None:
    """Stop the benchmark when an open did not build its state as its column says: "with checkpoint"
    restored from it and not built again, "without" replayed (``report``: ``str(Engine.open_report)``)."""
    if restored != expected:
        raise SystemExit(f"{store}: an open measured {'with' if expected else 'without'} a checkpoint was "
                         f"not what it claims: {report}")


def reported(sample: Any, store: str, expected: bool) -> Any:
    """``sample`` (a command run with ``GRIDCORE_OPEN_REPORT=1``) once its open report is checked."""
    line = next((text for text in sample.stderr.splitlines() if text.startswith("open report: ")), None)
    if line is None:
        raise SystemExit(f"{store}: the command printed no open report: {sample.stderr[-500:]}")
    report = line.removeprefix("open report: ")
    check_open(store, report.startswith("restored from the checkpoint") and "built again" not in report, report,
               expected)
    return sample


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, rounds: int | None = None,
        only: str | None = None, bare_up_to: int | None = None,
        stores: Path | None = None) -> tuple[list[Row], list[OpenRow]]:
    """Build the stores, time the commands and the opens; rows by size then command.

    ``bare_up_to``: the copy without checkpoints (a full replay per command) is
    measured only for stores of at most this many events (None: every store).
    ``stores``: where the stores are kept, and found if they were built before.
    """
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    rounds = rounds or (2 if quick else 3)
    python = sys.executable
    gridcore = [python, "-c", "from gridcore_app.cli import main; main()"]
    rows: list[Row] = []
    opens: list[OpenRow] = []
    with tempfile.TemporaryDirectory(prefix="gridcore-open-") as tmp:
        folder = Path(tmp)
        env = {**bytecode_env(folder), "GRIDCORE_OPEN_REPORT": "1"}
        base: dict[str, float] = {}
        for size in sizes:
            # Built in a child process: a child's peak memory (ru_maxrss) starts from the size of
            # the process it was forked from, so this one must stay small.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                url, bare, last, stored = pool.submit(build, stores or folder, size).result()
            measure_bare = bare_up_to is None or size <= bare_up_to
            opened, phases, woken, report = time_open(url, rounds, env)
            opens.append(OpenRow(size, opened, time_open(bare, rounds, env, restored=False)[0] if measure_bare
                                 else None, phases, woken, report))
            now = (last + timedelta(hours=1)).isoformat()
            month = last.strftime("%Y-%m")
            todo = {
                "incidents list": ["incidents", "list", "--now", now],
                f"points board yq --month {month}": ["points", "board", "yq", "--month", month, "--now", now],
                f"assess --period {month} --dry-run": ["assess", "--period", month, "--dry-run", "--now", now],
            }
            for name, args in todo.items():
                if only is not None and not name.startswith(only):
                    continue
                # (a first, unmeasured, run of each: bytecode, grammar and tree caches, the OS's file cache)
                with_cp = [reported(run_once([*gridcore, *args, "--store", url], folder, env), url, True)
                           for _ in range(rounds + 1)][1:]
                without = [reported(run_once([*gridcore, *args, "--store", bare], folder, env), bare, False)
                           for _ in range(rounds + 1)][1:] if measure_bare else []
                cpu = statistics.median(s.cpu for s in with_cp)
                key = name.split(" --")[0]
                base.setdefault(key, cpu)
                rows.append(Row(size, key, stored, cpu,
                                int(statistics.median(s.rss_kib for s in with_cp)),
                                statistics.median(s.cpu for s in without) if without else None,
                                int(statistics.median(s.rss_kib for s in without)) if without else None,
                                cpu / base[key]))
    return rows, opens


def table(rows: list[Row]) -> str:
    out = [("| events offered | events in store | command | CPU ms with checkpoint | peak MiB | CPU ms without | "
            "peak MiB without | CPU ratio to the smallest store |"), "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r.events:,} | {r.stored:,} | `{r.command}` | {r.cpu * 1000:.0f} | {r.rss_kib / 1024:.1f} | "
                   f"{_ms(r.cpu_without)} | {_mib(r.rss_without_kib)} | {r.ratio:.2f}× |")
    return "\n".join(out) + "\n"


def open_table(rows: list[OpenRow]) -> str:
    out = ["| events in store | open ms with checkpoint | open ms without | speed-up |", "|---:|---:|---:|---:|"]
    for r in rows:
        speed = "" if r.without is None else f"{r.without / r.with_checkpoint:.1f}×"
        out.append(f"| {r.events:,} | {r.with_checkpoint * 1000:.0f} | {_ms(r.without)} | {speed} |")
    out += ["", ("| events in store | open ms with checkpoint | compiling the rulesets ms | restoring the checkpoint ms "
                 "| replaying ms | then giving every plugin its state ms | the open (`Engine.open_report`) |"),
            "|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        rulesets, restore, replay = (p * 1000 for p in r.phases)
        out.append(f"| {r.events:,} | {r.with_checkpoint * 1000:.0f} | {rulesets:.0f} | {restore:.0f} | {replay:.0f} "
                   f"| {r.every_plugin * 1000:.0f} | {r.report} |")
    return "\n".join(out) + "\n"


def _ms(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds * 1000:.0f}"


def _mib(kib: int | None) -> str:
    return "" if kib is None else f"{kib / 1024:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny stores: check that it runs")
    parser.add_argument("--sizes", help="comma-separated store sizes in events (default 10000,100000)")
    parser.add_argument("--rounds", type=int, help="rounds per command and per open (default 3)")
    parser.add_argument("--smoke", action="store_true", help="one small store, one command, one round (the tests)")
    parser.add_argument("--bare-up-to", type=int, help="measure the stores without checkpoints only up to this size "
                        "(a full replay per command: minutes at 1,000,000 events)")
    parser.add_argument("--stores", type=Path, help="keep the stores built in this folder and use those found there")
    args = parser.parse_args(argv)
    if args.stores is not None:
        args.stores.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    if args.smoke:
        rows, opens = run(True, (150,), 1, only="incidents list", stores=args.stores)
    else:
        rows, opens = run(args.quick, sizes, args.rounds, bare_up_to=args.bare_up_to, stores=args.stores)
    sys.stdout.write(table(rows) + "\n" + open_table(opens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
