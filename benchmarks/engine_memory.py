"""Where the memory an engine holds goes, at a fixed population, as one store grows.

The same run as ``engine_ingest.py --population N`` (Yinquan's roster, seed 1,
N residents registered on the first day and nobody after, calls of about
1,000 events into one SQLite store), in a child process of its own.  At each
size the child runs a full collection (what it frees is reported: garbage in
cycles waiting for the collector, which runs its full collections rarely
while the engine records, ``gridcore.garbage``), then reports its resident
memory (``VmRSS``) and peak (``VmHWM``) and what the allocators hold of it:
CPython's small-object allocator (its arenas, the bytes of the blocks in use
and of the free blocks in them; ``sys._debugmallocstats``) and glibc's
``malloc`` (the bytes in use and free in its heap, and those it mapped for
large blocks; ``mallinfo2``), and of what is in use, SQLite's own (its page
cache and statements; ``sqlite3_memory_used``).  Free bytes the allocators keep are memory the
process holds but no object uses: what a transient peak (a checkpoint's
document) left behind.

At the last size (or at each, ``--walk-each``) it then walks what the
engine holds: the reachable size of each attribute of each plugin's state
(two levels down), of the engine's own attributes, of the community, codec and
store, and of the module-level caches of ``gridcore`` and its plugins, each
object counted once, first where it is found in that order (the community
first: the population, loaded once).  A walk takes memory of its own (a set
of every object's id), which the allocators keep after it: the sizes after
a walk are not comparable with those before it, so by default only the last
size is walked.

``--checkpoints-every N`` takes the checkpoints after the call reaching each multiple of N events, the
engine's own spacing (by their CPU) off (``engine_ingest.fixed_checkpoints``), so that two trees take theirs
at the same events, and tabulates each: resident memory and the allocators just before and just after it
(no collection run), the peak after it, and its CPU time.

Run ``python benchmarks/engine_memory.py [--sizes 10000,100000,1000000] [--population 5128] [--walk-each]
[--least 0.1] [--checkpoints-every 100000]``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import district  # the shared helpers: simulated years, store URLs, child processes
import engine_ingest  # the same run: its days, its calls

MIB = 2**20
#: Objects a walk does not enter: code and the machinery of modules and classes (not state).
NOT_STATE = frozenset({"module", "function", "builtin_function_or_method", "method", "cell", "code", "frame",
                       "getset_descriptor", "wrapper_descriptor", "method_descriptor", "member_descriptor",
                       "mappingproxy", "weakref"})
#: Values a walk does not go into attribute by attribute.
PLAIN = (dict, list, set, frozenset, tuple, str, int, bytes, bytearray, float)


def reachable(obj: Any, seen: set[int]) -> int:
    """Bytes of ``obj`` and of what it reaches (``gc.get_referents``) not already in ``seen``; adds to it."""
    total = 0
    stack = [obj]
    while stack:
        found = stack.pop()
        ident = id(found)
        if ident in seen:
            continue
        seen.add(ident)
        if isinstance(found, type) or type(found).__name__ in NOT_STATE:
            continue
        total += sys.getsizeof(found)
        stack.extend(gc.get_referents(found))
    return total


def attributes(obj: Any) -> list[tuple[str, Any]]:
    """An object's attributes, from its ``__dict__`` and its classes' ``__slots__``."""
    out = list(vars(obj).items()) if isinstance(getattr(obj, "__dict__", None), dict) else []
    for klass in type(obj).__mro__:
        slots = getattr(klass, "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                out.append((name, getattr(obj, name)))
    return out


def walk(engine: Any) -> dict[str, int]:
    """Bytes held by each piece of what ``engine`` holds, by a dotted name (see the module's docstring)."""
    gc.collect()
    core = (engine.community, engine.codec, engine.store, engine.plugins, engine.clock)
    seen = {id(engine), *map(id, core)}
    pieces: dict[str, int] = {}

    def enter(name: str, obj: Any, depth: int) -> None:
        for attr, value in attributes(obj):
            if id(value) in seen:
                continue
            if depth == 0 or isinstance(value, PLAIN) or not attributes(value):
                pieces[f"{name}.{attr}"] = reachable(value, seen)
            else:
                seen.add(id(value))
                enter(f"{name}.{attr}", value, depth - 1)

    for label, obj in (("community", engine.community), ("codec", engine.codec), ("store", engine.store)):
        seen.discard(id(obj))
        enter(label, obj, 0)
    for name, plugin in engine.plugins.list_name_plugin():
        if type(plugin).__name__ == "module" or id(plugin) in seen:
            continue  # (a plugin that is a module holds no state of its own, but its globals: below)
        seen.add(id(plugin))
        enter(name, plugin, 2)
    enter("engine", engine, 0)
    for name, module in sorted(sys.modules.items()):
        if module is None or not name.startswith("gridcore"):
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, type) or type(value).__name__ in NOT_STATE or id(value) in seen:
                continue
            size = reachable(value, seen)
            if size:
                pieces[f"{name}.{attr} (module)"] = size
    return pieces


def allocators() -> dict[str, float]:
    """MiB the allocators hold: CPython's arenas (blocks in use, free blocks) and glibc's heap (in use, free,
    mapped); what cannot be read here (another allocator, another libc) is left out."""
    out: dict[str, float] = {}
    read, write = os.pipe()
    saved = os.dup(2)
    os.dup2(write, 2)
    try:
        sys._debugmallocstats()  # (CPython only: on stderr, read back here)
    except AttributeError:
        pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    stats = b"".join(chunks).decode("ascii", "replace")
    for key, label in (("python_arenas", "Total"), ("python_in_use", "# bytes in allocated blocks"),
                       ("python_free_blocks", "# bytes in available blocks")):
        found = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", stats)
        if found:
            out[key] = int(found.group(1).replace(",", "")) / MIB

    class MallInfo2(ctypes.Structure):
        _fields_ = [(field, ctypes.c_size_t) for field in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                           "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")  # (the library Python's sqlite3 module uses, where shared)
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        out["sqlite"] = sqlite.sqlite3_memory_used() / MIB
    except (OSError, AttributeError):
        pass
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return out
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    out |= {"malloc_in_use": info.uordblks / MIB, "malloc_free": info.fordblks / MIB,
            "malloc_mapped": info.hblkhd / MIB}
    return out


def measure(folder: str, sizes: tuple[int, ...], population: int, walk_each: bool, every: int | None,
            out: Any) -> None:
    """Child process: one engine fed up to the largest size; memory at each size, the walk at the last;
    ``every``: checkpoints at fixed event counts, each measured (``checkpoint_rows``)."""
    from gridcore import Engine, FixedClock

    days = engine_ingest.days_for(max(sizes), population)
    community, chunks = engine_ingest.calls(max(sizes), days, population)
    rules = district.ruleset_files(engine_ingest.COMMUNITY)
    first = datetime.combine(district.START, clock_time(0), tzinfo=community.tz)
    engine = Engine.open(store=district.store_url("sqlite", Path(folder), "memory", None), community=community,
                         clock=FixedClock(first), ruleset=rules[0] if rules else None, effective=first)
    rows: list[dict[str, Any]] = []
    walks: dict[int, dict[str, int]] = {}
    taken: list[dict[str, Any]] = []
    after_call = None if every is None else engine_ingest.fixed_checkpoints(engine, every)

    def just_before() -> None:
        taken.append({"before": {"rss": engine_ingest.rss_mb(), **allocators()}, "cpu": time.process_time()})

    done = 0
    with engine:
        for chunk in chunks:
            engine.record_many(chunk)
            done += len(chunk)
            if after_call is not None and (at := after_call(done, just_before)) is not None:
                taken[-1] |= {"at": at, "cpu": time.process_time() - taken[-1]["cpu"],
                              "after": {"rss": engine_ingest.rss_mb(), "peak": district.peak_mb(), **allocators()}}
            reached = [n for n in sizes if done >= n and all(r["n"] != n for r in rows)]
            if not reached:
                continue
            before = allocators().get("python_in_use")
            collected = gc.collect()
            after = allocators()
            garbage = None if before is None else before - after.get("python_in_use", before)
            rows.extend({"n": n, "rss": engine_ingest.rss_mb(), "peak": district.peak_mb(), **after,
                         "garbage": garbage, "collected": collected, "cpu": time.process_time()} for n in reached)
            if walk_each or done >= max(sizes):
                walks[reached[-1]] = walk(engine)
    out.put({"rows": rows, "walks": walks, "checkpoints": taken})


def checkpoint_rows(taken: list[dict[str, Any]]) -> str:
    """Each checkpoint taken at a fixed event count: memory just before and just after it, its CPU."""
    lines = [("| checkpoint at (events stored) | CPU s | memory MiB (VmRSS) before -> after | peak MiB after "
              "| CPython arenas MiB before -> after | of which in use | of which free blocks | malloc in use MiB |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pair(key: str) -> str:
        a, b = (row.get(key) for row in (one["before"], one["after"]))
        return "-" if a is None or b is None else f"{a:.1f} -> {b:.1f}"

    for one in taken:
        lines.append(f"| {one['at']:,} | {one['cpu']:.2f} | {pair('rss')} | {one['after']['peak']:.1f} "
                     f"| {pair('python_arenas')} | {pair('python_in_use')} | {pair('python_free_blocks')} "
                     f"| {pair('malloc_in_use')} |")
    return "\n".join(lines)


def report(rows: list[dict[str, Any]], walks: dict[int, dict[str, int]], least: float) -> str:
    """The memory table, then each walk's pieces of at least ``least`` MiB (largest first)."""
    lines = [("| events in the store | memory MiB (VmRSS) | peak MiB to N | CPython arenas MiB | of which in use "
              "| of which free blocks | garbage freed by a full collection MiB (objects) | malloc in use MiB "
              "| of which SQLite's MiB | malloc free MiB | malloc mapped MiB |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        cells = ["-" if row.get(k) is None else f"{row[k]:.0f}" for k in ("python_arenas", "python_in_use",
                                                                         "python_free_blocks")]
        cells.append("-" if row.get("garbage") is None else f"{row['garbage']:.1f} ({row['collected']:,})")
        cells += ["-" if row.get(k) is None else f"{row[k]:.0f}" for k in ("malloc_in_use", "sqlite", "malloc_free",
                                                                          "malloc_mapped")]
        lines.append(f"| {row['n']:,} | {row['rss']:.0f} | {row['peak']:.0f} | " + " | ".join(cells) + " |")
    sizes = sorted(walks)
    names = sorted({name for pieces in walks.values() for name in pieces},
                   key=lambda name: -max(pieces.get(name, 0) for pieces in walks.values()))
    lines += ["", "| what the engine holds | " + " | ".join(f"MiB at {n:,}" for n in sizes) + " |",
              "|:---|" + "---:|" * len(sizes)]
    shown = [name for name in names if max(walks[n].get(name, 0) for n in sizes) >= least * MIB]
    for name in shown:
        lines.append(f"| `{name}` | " + " | ".join(f"{walks[n].get(name, 0) / MIB:.2f}" for n in sizes) + " |")
    lines.append("| the rest (smaller pieces) | " + " | ".join(
        f"{sum(v for k, v in walks[n].items() if k not in shown) / MIB:.2f}" for n in sizes) + " |")
    lines.append("| **walked in all** | " + " | ".join(f"**{sum(walks[n].values()) / MIB:.1f}**" for n in sizes)
                 + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Where the memory an engine holds goes, at a fixed population")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated store sizes")
    parser.add_argument("--population", type=int, default=5128, help="residents registered on the first day")
    parser.add_argument("--walk-each", action="store_true", help="walk at every size, not only the last")
    parser.add_argument("--least", type=float, default=0.1, help="smallest piece listed, MiB")
    parser.add_argument("--checkpoints-every", type=int, default=None,
                        help="a checkpoint after the call reaching each multiple of N events, the engine's own "
                             "spacing off (the same events in every tree), each measured")
    args = parser.parse_args(argv)
    sizes = tuple(sorted(int(n) for n in args.sizes.split(",") if n))
    with tempfile.TemporaryDirectory(prefix="gridcore-memory-") as folder:
        got = district.in_child(measure, folder, sizes, args.population, args.walk_each, args.checkpoints_every)
    print(report(got["rows"], {int(n): w for n, w in got["walks"].items()}, args.least))
    if got["checkpoints"]:
        print()
        print(checkpoint_rows(got["checkpoints"]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(district.REPO))
    sys.exit(main())
