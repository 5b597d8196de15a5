"""Cold start: how long the ``gridcore`` command takes to begin, beside importing its dependencies.

Each command runs as a fresh process (``subprocess``), several rounds, the
commands interleaved within a round so a busy machine slows them alike.  The
baseline is ``python -c "import <the core's runtime dependencies>"`` (pluggy,
lark, attrs, cattrs, tinydb, click, PyYAML, psycopg) in the same run: no command
can start faster than the libraries it is built on load, so the ratio is what
gridcore itself adds.  A second row imports every runtime dependency, the
application's (matplotlib, openpyxl, Starlette, uvicorn, Jinja2) included, for
scale: the commands measured import none of those (tests/test_startup.py).  Reported per command: the median wall
time, the median CPU time (user + system, from ``os.wait4``: steadier than wall
time on a shared machine), both as ratios to the baseline, and the peak memory
(maximum resident set) of the process.

* ``gridcore --help``: lists every command, the plugins' included (plugins are
  loaded, their commands' modules are not imported).
* ``gridcore check small.rules``: parses, checks and compiles a three-line
  ruleset with every installed plugin's section (the grammar is cached on
  disk after the first run; the rounds measure the usual, cached case).
* ``gridcore points board``: a read command, on the store of a ``gridcore demo``
  of 银泉社区 (30 days; 3 with ``--quick``) made first, unmeasured: plugins
  loaded, the store opened, the stored ruleset compiled, the checkpoint
  restored, the month's board printed.  Reported beside the others; the target
  is the two above's.

Run ``python benchmarks/cold_start.py [--quick] [--rounds N]``.  Target: ``--help``
and ``check`` at most 2x the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attrs import frozen

#: Import names of the core's runtime dependencies in pyproject.toml (PyYAML is yaml):
#: the baseline, and what the ratios are computed against.
DEPENDENCIES = ("pluggy", "lark", "attrs", "cattrs", "tinydb", "click", "yaml", "psycopg")
#: The application's further dependencies (charts, spreadsheets, the web service).  No
#: command below should import them; a second row imports them all, for scale.
APP_DEPENDENCIES = ("matplotlib.pyplot", "openpyxl", "starlette.applications", "uvicorn", "jinja2")

SMALL_RULESET = """\
ruleset "small"
levels: community > grid > unit
points:
  activity 志愿服务: 5 per hour
"""


@frozen
class Sample:
    """One run of one command: wall seconds, CPU seconds, peak resident memory in KiB, and what it wrote on
    stderr (with ``GRIDCORE_OPEN_REPORT=1``, how its open built the state: ``open_read.py`` checks it)."""

    wall: float
    cpu: float
    rss_kib: int
    stderr: str = ""


@frozen
class Row:
    """A command's medians over the rounds, and its ratios to the baseline's."""

    name: str
    wall: float
    cpu: float
    rss_kib: int
    wall_ratio: float
    cpu_ratio: float


def bytecode_env(folder: Path) -> dict[str, str]:
    """The environment with compiled modules kept, in ``folder`` (as on a user's machine).

    With ``PYTHONDONTWRITEBYTECODE`` set (as in some sandboxes and CI images),
    every process compiles gridcore's modules from source again (an editable
    install has no ``.pyc`` files), which is not what a user's command costs;
    the dependencies, installed by pip, come with theirs.  The measured
    processes keep every module's bytecode in ``folder`` instead
    (``PYTHONPYCACHEPREFIX``), written by the first, unmeasured, run: the
    dependencies and gridcore alike, so the worktree is not written to.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def run_once(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run ``argv`` to completion; its own wall time, CPU time and peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}): {error[-500:]}")
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss, error)


#: The commands the target (at most 2x the baseline) is for: the read command is reported beside them.
TARGETED = ("gridcore --help", "gridcore check small.rules")
#: The read command's month (the demo starts on 2025-01-01)
BOARD_MONTH = "2025-01"


def commands(folder: Path, everything: bool = True, demo_days: int = 30) -> dict[str, list[str]]:
    """The commands measured, the baseline first (``everything``: also every dependency).

    The read command's store is made here by ``gridcore demo --days demo_days`` (not measured)."""
    ruleset = folder / "small.rules"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    python = sys.executable
    gridcore = [python, "-c", "from gridcore_app.cli import main; main()"]
    subprocess.run([*gridcore, "demo", "--days", str(demo_days), "--out", str(folder / "demo")], cwd=folder,
                   env=bytecode_env(folder), stdout=subprocess.DEVNULL, check=True)
    return {
        f"baseline: python -c \"import {', '.join(DEPENDENCIES)}\"": [python, "-c", f"import {', '.join(DEPENDENCIES)}"],
        **({"every runtime dependency (for scale)": [
            python, "-c", f"import {', '.join(DEPENDENCIES + APP_DEPENDENCIES)}"]} if everything else {}),
        "gridcore --help": [*gridcore, "--help"],
        "gridcore check small.rules": [*gridcore, "check", str(ruleset)],
        f"gridcore points board 银泉社区 --month {BOARD_MONTH} ({demo_days}-day demo store)": [
            *gridcore, "points", "board", "--store", str(folder / "demo" / "store"), "银泉社区",
            "--month", BOARD_MONTH, "--now", "latest"],
    }


def run(rounds: int = 9, everything: bool = True, demo_days: int = 30) -> list[Row]:
    """Measure every command ``rounds`` times (after one warm-up round); the baseline is the first row."""
    with tempfile.TemporaryDirectory(prefix="gridcore-cold-") as tmp:
        folder = Path(tmp)
        todo = commands(folder, everything, demo_days)
        env = bytecode_env(folder)
        samples: dict[str, list[Sample]] = {name: [] for name in todo}
        for round_ in range(rounds + 1):
            for name, argv in todo.items():
                sample = run_once(argv, folder, env)
                if round_:  # the first round fills the OS's file cache, the bytecode and the grammar cache
                    samples[name].append(sample)
    rows: list[Row] = []
    base_wall = base_cpu = 0.0
    for name, got in samples.items():
        wall = statistics.median(s.wall for s in got)
        cpu = statistics.median(s.cpu for s in got)
        rss = int(statistics.median(s.rss_kib for s in got))
        if not rows:
            base_wall, base_cpu = wall, cpu
        rows.append(Row(name, wall, cpu, rss, wall / base_wall, cpu / base_cpu))
    return rows


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    out = ["| command | wall ms (median) | CPU ms (median) | peak memory MiB | wall ratio | CPU ratio |",
           "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| `{r.name}` | {r.wall * 1000:.0f} | {r.cpu * 1000:.0f} | {r.rss_kib / 1024:.1f} | "
                   f"{r.wall_ratio:.2f}× | {r.cpu_ratio:.2f}× |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="three rounds: check that it runs")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per command (default 9)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick and args.rounds == 9 else args.rounds
    rows = run(rounds, everything=not args.quick, demo_days=3 if args.quick else 30)
    sys.stdout.write(table(rows))
    worst = max(r.cpu_ratio for r in rows if r.name in TARGETED)
    sys.stdout.write(f"worst CPU ratio to the baseline: {worst:.2f} (target: at most 2)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
