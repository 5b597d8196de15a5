"""Run every benchmark and write the results to docs/benchmarks.md.

    python benchmarks/run.py            # full sizes (about 15 minutes on 2 cores)
    python benchmarks/run.py --large    # also 1M events through one engine
    python benchmarks/run.py --quick    # tiny sizes, to check that everything runs
    python benchmarks/run.py --only-language   # only the rules language's sections of the page

PostgreSQL is included when ``GRIDCORE_TEST_POSTGRES_URL`` is set (``.ci/postgres.sh``
prints one).  ``--output`` writes elsewhere (the smoke test uses it).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

import district
import engine_ingest
import store_ingest

INTRO = """\
# Benchmarks

Written by `python benchmarks/run.py{quick}` on {when} ({machine}; load average
{load} when it started, {load_end} when it ended: other work on the machine slows
every figure, baselines included). Every figure is
measured in the same run as the baseline beside it; ratios above 1 mean slower than
the baseline. Timings vary from run to run by 10-20%; the shape (flat or growing)
is what to read. What each benchmark does is described at the top of its file in
`benchmarks/`; `docs/storage.md` draws the advice from these numbers.
"""


def machine() -> str:
    cpus = os.cpu_count() or 0
    return f"{platform.system()} {platform.machine()}, {cpus} cores, Python {platform.python_version()}"


def load() -> str:
    """The 1-minute load average (how busy the machine was)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def render(quick: bool, days: int | None, large: bool = False) -> str:
    """Run everything; the Markdown page."""
    parts = [INTRO.format(quick=" --quick" if quick else "", when=time.strftime("%Y-%m-%d"), machine=machine(),
                          load=load(), load_end="{load_end}")]

    t0 = time.perf_counter()
    rows, reads, notes = store_ingest.run(quick)
    parts.append("## Store ingest\n")
    parts.append(
        "Batches of 1,000 time-ordered event documents into a fresh store. *µs/event at N* is the "
        "cost per event over the last 10% before N (flat = the store does not slow down as it grows); "
        "the baseline does the same durable writes by hand.\n"
    )
    parts.append(store_ingest.table(rows) + "\n")
    parts.append("## Reading a whole store\n")
    parts.append(
        "Reopening the largest store of each backend, then reading every event in canonical order "
        "(what the engine does when it opens and replays), beside a hand-written read of the "
        "baseline's data.\n"
    )
    parts.append(store_ingest.read_table(reads) + "\n")
    parts.extend(f"* {note}\n" for note in notes)
    parts.append(f"_Store benchmarks took {time.perf_counter() - t0:.0f} s._\n")

    t0 = time.perf_counter()
    growth, gnotes = engine_ingest.run(quick, large)
    parts.append("## Engine ingest as one store grows\n")
    parts.append(
        "One community's simulated years recorded through `Engine.record_many` (calls of 1,000 events, "
        "every installed plugin, the community's ruleset in force) into one store; the cost per event "
        "over the last 10% before N, beside the same documents appended straight to a fresh store of "
        "the same backend.\n"
    )
    parts.append(engine_ingest.table(growth) + "\n")
    parts.extend(f"* {note}\n" for note in gnotes)
    parts.append(f"_Engine ingest took {time.perf_counter() - t0:.0f} s._\n")

    t0 = time.perf_counter()
    results, whatifs, dnotes = district.run(quick, days, busy=not quick)
    parts.append("## District: a year in one store\n")
    parts.append(
        "Yinzhou district's whole tree (7 streets, 64 communities, 384 grids; a small generated district "
        "with `--quick`) in one store: its simulated year (`rulesets/yinzhou/scenario-busy.yaml`, the "
        "account-sized year) recorded through one `Engine.record_many` call (as `gridcore ingest` makes) with every "
        "installed plugin and the district's ruleset, ticked to the end of the year, then the district's "
        "roll-up for every quarter; the baseline appends the same documents straight to a store of the same "
        "backend. *Open + read* is a new process opening the store and rolling up the last quarter. Peak "
        "memory is that of the child process doing the work.\n"
    )
    parts.append(district.table(results) + "\n")
    if whatifs:
        parts.append("### What-if (`gridcore diff`) under a changed district base\n")
        parts.append(district.whatif_table(whatifs) + "\n")
    parts.extend(f"* {note}\n" for note in dnotes)
    parts.append(f"_District benchmarks took {time.perf_counter() - t0:.0f} s._\n")

    parts.extend(language_sections(quick))
    parts.append("## Reading a big store: checkpoints\n")
    parts.append(open_read_section(quick))
    page = "\n".join(parts)
    return page.replace("{load_end}", load(), 1)


def language_sections(quick: bool, stamp: bool = False) -> list[str]:
    """The rules language's benchmarks: evaluation, loading rulesets, cold start.

    ``stamp``: say when and how busy the machine was (the sections are run apart
    from the rest of the page, ``--only-language``).
    """
    sections = ["## Rules: compiled rules beside hand-written Python\n", rules_section(quick),
                "## Rules: loading rulesets\n", rules_load_section(quick),
                "## Cold start\n", cold_start_section(quick)]
    if stamp:
        note = (f"_Measured by `python benchmarks/run.py --only-language{' --quick' if quick else ''}` on "
                f"{time.strftime('%Y-%m-%d')} (load average {load()} at the end)._\n\n")
        sections[1::2] = [note + body for body in sections[1::2]]
    return sections


def splice(page: str, sections: list[str]) -> str:
    """``page`` with each ``## Heading`` of ``sections`` replaced (or appended if missing)."""
    for heading, body in zip(sections[0::2], sections[1::2], strict=True):
        start = page.find(heading)
        if start < 0:
            page = page.rstrip("\n") + "\n\n" + heading + "\n" + body
            continue
        end = page.find("\n## ", start + len(heading))
        page = page[:start] + heading + "\n" + body + ("\n" + page[end + 1:] if end >= 0 else "")
    return page


def rules_load_section(quick: bool) -> str:
    """``benchmarks/rules_load.py``: this tree's pipeline beside the baseline commit's."""
    import rules_load

    rounds = 1 if quick else 5
    rows, notes = rules_load.run(rounds, 100 if quick else 2000,
                                 None if quick else rules_load.BASELINE, cold=not quick)
    return (
        "Fresh processes with every installed plugin: the first ruleset (building the parser, or "
        "loading it from the disk cache, then parsing, checking and compiling three lines), then "
        "every ruleset of `rulesets/` parsed, checked and compiled, per 1,000 lines; this tree beside "
        f"commit `{rules_load.BASELINE}` (before the parser was cached and the pipeline rebuilt), "
        f"measured in the same run (CPU medians of {rounds} rounds; see the top of "
        "`benchmarks/rules_load.py`).\n\n" + rules_load.table(rows) + "\n"
        + "".join(f"* {note}\n" for note in notes)
    )


def rules_section(quick: bool) -> str:
    """``benchmarks/rules_eval.py`` (written with the rules language): its figures as a table."""
    try:
        import rules_eval
    except Exception as exc:  # noqa: BLE001 - a missing or broken benchmark is reported on the page
        return f"* Not measured: benchmarks/rules_eval.py could not be loaded ({type(exc).__name__}: {exc}).\n"
    events, rounds = (5_000, 3) if quick else (200_000, 7)
    r = rules_eval.run(events, rounds)
    hand, compiled = r["hand_s"] * 1e9 / events, r["compiled_s"] * 1e9 / events
    return (
        "The same points-like rules evaluated over the same events, compiled by gridcore's rules "
        f"compiler and written by hand in Python (best of {rounds} rounds of {events:,} events; "
        "see the top of `benchmarks/rules_eval.py`).\n\n"
        "| ruleset load ms | compiled ns/event | hand-written ns/event | ratio |\n|---:|---:|---:|---:|\n"
        f"| {r['load_s'] * 1000:.1f} | {compiled:.0f} | {hand:.0f} | {compiled / hand:.2f}× |\n"
    )


def cold_start_section(quick: bool) -> str:
    """``benchmarks/cold_start.py``: the command's start beside importing its dependencies."""
    # Run from a small process of its own: a child's peak memory (ru_maxrss) counts the
    # pages of the process it was forked from, and this one has grown large by now.
    rounds = 1 if quick else 9  # (--quick checks that it runs: one measured round after the warm-up)
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "cold_start.py"), "--rounds", str(rounds),
                           *(["--quick"] if quick else [])], capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()
    table, worst = "\n".join(lines[:-1]) + "\n", float(lines[-1].split(":")[1].split()[0])
    return (
        "Each command as a fresh process, beside `python -c \"import <the core's runtime dependencies>\"` "
        f"in the same run (medians of {rounds} rounds, the commands interleaved; see the top of "
        "`benchmarks/cold_start.py`); the parser comes from the disk cache, as it does after a "
        "command's first run. A second row imports every runtime dependency, the application's "
        "(charts, spreadsheets, web service) included, which no command here imports. "
        "Target: at most 2× the baseline.\n\n" + table
        + f"\nWorst CPU ratio of a command to the baseline: {worst:.2f}× (target: at most 2×).\n"
    )



def open_read_section(quick: bool) -> str:
    """``benchmarks/open_read.py``: read commands on big stores, with and without checkpoints."""
    if quick:
        return ("* Not measured with `--quick` (every read is a fresh process on a store built first); "
                "`python benchmarks/open_read.py --smoke` checks that it runs.\n")
    import open_read

    rows, opens = open_read.run(False)
    return (
        "Read commands as fresh processes on SQLite stores of one community's simulated days, with the "
        "checkpoints the engine stored while recording them and on a copy without (see the top of "
        "`benchmarks/open_read.py`); then `Engine.open` alone, in one process. Target: a read on a large "
        "store within 2× of the same read on a 10,000-event store.\n\n"
        + open_read.table(rows) + "\n" + open_read.open_table(opens)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark and write docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that everything runs")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--days", type=int, help="days of the district benchmark (default 365; 3 with --quick)")
    parser.add_argument("--large", action="store_true", help="also 1M events through one engine")
    parser.add_argument("--only-language", action="store_true",
                        help="run only the rules language's benchmarks and update their sections of the page")
    args = parser.parse_args(argv)
    if args.only_language:
        old = args.output.read_text(encoding="utf-8") if args.output.exists() else INTRO
        page = splice(old, language_sections(args.quick, stamp=True))
    else:
        page = render(args.quick, args.days, args.large)
    args.output.write_text(page, encoding="utf-8")
    print(page)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
