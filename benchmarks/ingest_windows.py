"""Does an event cost more because the store is long, or because the community is older?

``engine_ingest.py --population N`` shows an event costing more at 1,000,000 events in the store than at
10,000.  Two things grow together there: the log (the store's indexes, archives, anything kept per event
ever recorded) and the community's domain work (in Yinquan's rules no point expires before its 12th month,
no streak bonus before the first quarter's end, few balances reach a reward's price in the first weeks).
This benchmark separates them.  The same fixed-population stream (Yinquan, ``simulate(..., population=N)``,
seed 1, calls of about 1,000 events cut as ``engine_ingest.py`` cuts them) is recorded twice, under two
rulesets:

* ``standard``: Yinquan's own (``rulesets/yinquan/yinquan.rules``);
* ``steady``: Yinquan's with points that expire after one month and a streak bonus for every week of a
  month (``STEADY_RULES``: the only two lines that change), so that expiries, bonuses and the redemptions
  that balances allow reach their steady level within the first two months of the stream (about
  30,000 events), not after a year.

For each ruleset one engine records the stream up to the last window; at the start of each window it takes
a checkpoint and copies the store (SQLite's backup).  A *window at N* is the ``--width`` events that end
at N.  Each window is then recorded again in a fresh process: the copy opened (from that checkpoint, so
nothing is replayed: ``Engine.open_report`` is checked, and a copy not restored stops the benchmark; the
table's last column is what each open replayed after the checkpoint), every points account read back, ``--warm`` events recorded uncounted, then the
window's events recorded with checkpoints off (what the events cost, the checkpoints apart).  Per window:

* CPU µs an event (``time.process_time``; the median of ``--rounds`` runs, each in its own process);
* with ``--callgrind``, the instructions an event (one run under ``valgrind --tool=callgrind
  --instr-atstart=no``, collection switched on for the window alone by ``callgrind_control``,
  ``PYTHONHASHSEED=0``): repeatable whatever else runs on the machine;
* the domain work an event: points ledger entries by kind (earnings, expiries, redemptions, streak
  bonuses, the rest), counted in a separate run, and events the engine derived (escalations, deadlines);
* instructions (or µs) per ledger entry.

With the ``steady`` rules the windows at about 60,000 and at 1,000,000 do the same domain work per event:
whatever still costs more at 1,000,000 grows with the length of the log.  Between the ``standard`` rules'
windows the difference is both.

Run ``python benchmarks/ingest_windows.py [--rules standard,steady] [--at 10000,60000,1000000]
[--width 5000] [--warm 1000] [--rounds 3] [--callgrind] [--population 5128] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

import district  # the shared helpers: store URLs, the repository
import engine_ingest  # the stream: calls(), days_for()


def beside(store: Path) -> list[Path]:
    """A window's working copy and the files SQLite and the store keep beside it (its WAL, shared memory and the
    appends' lock file, ``<file>-appending``), all removed with the copy."""
    return [store] + [store.with_name(store.name + end) for end in ("-wal", "-shm", "-appending")]


#: The two lines the ``steady`` ruleset changes in Yinquan's: expiry and streak over short periods.
STEADY_RULES = """\
extends "yinquan"
ruleset 银泉社区稳态

points:
  expiry: 1 month
  streak: 20 points for each week of the month
"""
#: Ledger entry kinds reported on their own (the rest are counted together).
KINDS = ("earn", "expire", "redeem", "bonus")
NEVER = 10**15  # checkpoint spacing that never comes in a window


@attrs.frozen
class Window:
    """One window's measurements."""

    rules: str
    at: int
    events: int
    cpu_us: float
    #: each round's CPU µs an event
    rounds: tuple[float, ...]
    #: ledger entries booked in the window, by kind (``KINDS``, "other")
    entries: dict[str, int]
    #: events the engine derived in the window
    derived: int
    #: instructions over the window (0 if not counted)
    instructions: int = 0
    #: log entries the window's open replayed after the checkpoint it restored (``Engine.open_report``: a
    #: window whose copy was not restored from its checkpoint stops the benchmark)
    replayed: int = 0

    def entries_per_event(self) -> float:
        return sum(self.entries.values()) / self.events


def ruleset(rules: str, folder: Path) -> Path:
    """The ruleset file for ``rules`` (the steady one written into ``folder``)."""
    if rules == "standard":
        return district.REPO / "rulesets" / "yinquan" / "yinquan.rules"
    path = folder / "steady.rules"
    path.write_text(STEADY_RULES, encoding="utf-8")
    return path


def open_engine(store: Path, rules: str, folder: Path) -> Any:
    from gridcore import Engine, FixedClock
    from gridcore_app.rosterio import load_community

    community = load_community(district.REPO / "rulesets" / "yinquan")
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    return Engine.open(store=f"sqlite:///{store}", community=community, clock=FixedClock(first),
                       ruleset=ruleset(rules, folder), effective=first,
                       search_path=[district.REPO / "rulesets" / "yinquan"])


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite store (its backup API: the engine may hold it open)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def build(rules: str, ats: tuple[int, ...], width: int, warm: int, population: int, folder: Path) -> None:
    """One engine records the stream to the last window; at each window's start a checkpoint, a copy of the
    store (``<rules>-<at>.db``) and the window's calls (``<rules>-<at>.jsonl``, warm-up first)."""
    size = max(ats) + 3 * engine_ingest.CALL  # (the last window ends at a call's end, at or after its N)
    _, chunks = engine_ingest.calls(size, engine_ingest.days_for(size, population), population)
    engine = open_engine(folder / f"{rules}-build.db", rules, folder)
    codec = engine.codec  # (knows the plugins' event kinds)
    starts = {at: max(at - width - warm, 0) for at in ats}
    files: dict[int, Any] = {}
    done = 0
    with engine:
        for chunk in chunks:
            for at, start in starts.items():
                if at not in files and done >= start:
                    engine.checkpoint()
                    copy_store(folder / f"{rules}-build.db", folder / f"{rules}-{at}.db")
                    files[at] = open(folder / f"{rules}-{at}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
            for at, out in list(files.items()):
                if not out.closed:
                    out.write(json.dumps([codec.to_dict(e) for e in chunk], ensure_ascii=False) + "\n")
                    if done + len(chunk) >= at:
                        out.close()
            engine.record_many(chunk)
            done += len(chunk)
    for out in files.values():
        out.close()


def window(rules: str, at: int, warm: int, folder: Path, mode: str) -> dict[str, Any]:
    """In a process of its own: the window at ``at`` recorded into a fresh copy of its store.  ``mode``:
    ``time`` (CPU time), ``count`` (ledger entries by kind), ``callgrind`` (collection on for the window) or
    ``profile`` (``cProfile`` over the window, its statistics in ``profile.<rules>.<at>``: calls per function
    are exact whatever the load)."""
    from gridcore_points import api

    work = folder / f"{rules}-{at}.work{os.getpid()}.db"
    for old in beside(work):
        old.unlink(missing_ok=True)
    copy_store(folder / f"{rules}-{at}.db", work)
    engine = open_engine(work, rules, folder)
    report = engine.open_report  # the copy restored from the checkpoint taken before it was made, not replayed
    if not report.restored:
        raise SystemExit(f"window {rules} at {at}: the copy's open was not restored from its checkpoint: {report}")
    engine.checkpoint_every = engine.checkpoint_min = engine.checkpoint_max = NEVER
    codec = engine.codec
    with open(folder / f"{rules}-{at}.jsonl", encoding="utf-8") as lines:
        calls = [[codec.from_dict(doc) for doc in json.loads(line)] for line in lines]
    points = api.state(engine)
    for account in points.accounts.values():
        account.unpack()
    kept = 0
    while calls and kept < warm:
        kept += len(calls[0])
        engine.record_many(calls.pop(0))
    kinds: Counter[str] = Counter()
    if mode == "count":
        add = points.history.add

        def counted(record: Any) -> None:
            kind = record.entry.kind
            kinds[kind if kind in KINDS else "other"] += 1
            add(record)

        points.history.add = counted  # type: ignore[method-assign]
    events = sum(len(c) for c in calls)
    if mode == "callgrind":
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    profile = None
    if mode == "profile":
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    derived = 0
    c0 = time.process_time()
    for chunk in calls:
        derived += engine.record_many(chunk).derived
    cpu = time.process_time() - c0
    if profile is not None:
        profile.disable()
        profile.dump_stats(folder / f"profile.{rules}.{at}")
    if mode == "callgrind":
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    for old in beside(work):
        old.unlink(missing_ok=True)  # (the engine is left open: closing would take a checkpoint)
    return {"events": events, "cpu": cpu, "entries": dict(kinds), "derived": derived, "replayed": report.replayed}


def run_window(rules: str, at: int, warm: int, folder: Path, mode: str) -> dict[str, Any]:
    """``window`` in a child process (under callgrind for ``callgrind``); its result, and the instructions."""
    command = [sys.executable, __file__, "--child", json.dumps([rules, at, warm, str(folder), mode])]
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = folder / f"callgrind.{rules}.{at}"
    if mode == "callgrind":
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                   *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"window {rules} at {at} ({mode}) failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if mode == "callgrind":
        result["instructions"] = instructions(out)
    return result


def instructions(path: Path) -> int:
    """The instructions a callgrind output file counted (its ``totals:`` line: with ``--instr-atstart=no`` its
    ``summary:`` line says 0)."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def measure(rules_list: tuple[str, ...], ats: tuple[int, ...], width: int, warm: int, rounds: int,
            callgrind: bool, profile: bool, population: int, folder: Path) -> list[Window]:
    for rules in rules_list:
        if not all((folder / f"{rules}-{at}.jsonl").exists() for at in ats):
            district.in_child(_build_child, rules, ats, width, warm, population, str(folder))
    rows: list[Window] = []
    for rules in rules_list:
        for at in ats:
            counted = run_window(rules, at, warm, folder, "count")
            times: list[float] = []
            for _ in range(rounds):  # (rounds of the windows of one ruleset interleaved would be fairer; cheap)
                got = run_window(rules, at, warm, folder, "time")
                times.append(got["cpu"] / got["events"] * 1e6)
            ir = run_window(rules, at, warm, folder, "callgrind")["instructions"] if callgrind else 0
            if profile:
                run_window(rules, at, warm, folder, "profile")
            rows.append(Window(rules, at, counted["events"], statistics.median(times), tuple(times),
                               counted["entries"], counted["derived"], ir, counted["replayed"]))
    return rows


def _build_child(rules: str, ats: tuple[int, ...], width: int, warm: int, population: int, folder: str,
                 out: Any) -> None:
    build(rules, ats, width, warm, population, Path(folder))
    out.put({})


def table(rows: list[Window]) -> str:
    lines = [
        ("| rules | window ends at N | events | CPU µs/event (median) | instructions/event | ledger entries/event "
         "| earned | expired | redeemed | bonus | other | derived events/event | instructions/entry | µs/entry "
         "| replayed at open |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n = r.events
        per = r.entries_per_event()
        ir = r.instructions / n if r.instructions else 0.0
        lines.append(
            f"| {r.rules} | {r.at:,} | {n:,} | {r.cpu_us:.0f} | {ir / 1e3:,.1f}k | {per:.3f} "
            + " ".join(f"| {r.entries.get(k, 0) / n:.3f}" for k in (*KINDS, "other"))
            + f" | {r.derived / n:.3f} | {ir / per / 1e3 if per and ir else 0:,.0f}k | {r.cpu_us / per if per else 0:.0f} "
            f"| {r.replayed:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Engine ingest: cost per event by the store's length and by "
                                                 "the community's domain work")
    parser.add_argument("--rules", default="standard,steady", help="standard, steady or both")
    parser.add_argument("--at", default="10000,60000,1000000", help="where the windows end (events in the store)")
    parser.add_argument("--width", type=int, default=5000, help="events counted in a window")
    parser.add_argument("--warm", type=int, default=1000, help="events recorded before a window, not counted")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each window (the median is shown)")
    parser.add_argument("--callgrind", action="store_true", help="also count each window's instructions")
    parser.add_argument("--profile", action="store_true",
                        help="also profile each window (cProfile, its statistics kept in the folder: use --keep)")
    parser.add_argument("--population", type=int, default=5128, help="the fixed population")
    parser.add_argument("--keep", default="", help="a folder for the stores and windows (kept; reused if there)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        rules, at, warm, folder, mode = json.loads(args.child)
        print(json.dumps(window(rules, at, warm, Path(folder), mode)))
        return 0
    ats = tuple(int(n) for n in args.at.split(",") if n)
    rules_list = tuple(r for r in args.rules.split(",") if r)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        rows = measure(rules_list, ats, args.width, args.warm, args.rounds, args.callgrind, args.profile, args.population,
                       Path(args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="gridcore-windows-") as folder:
            rows = measure(rules_list, ats, args.width, args.warm, args.rounds, args.callgrind, args.profile, args.population,
                           Path(folder))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
