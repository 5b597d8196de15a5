"""The benchmarks run (quick sizes) and write their page; no timing is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sessionshare import built_once

REPO = Path(__file__).resolve().parent.parent


def bench(where: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``benchmarks/<script> args`` run in ``where``; it must succeed."""
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=600, check=False, cwd=where)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="session")
def smoke_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One ``benchmarks/open_read.py --smoke --stores DIR`` for the whole test session (``built_once``): the folder of
    the stores it built and what it printed.  The tests below read its output and its stores; none writes to them."""
    where, printed = built_once(
        tmp_path_factory, "open-read-smoke",
        lambda folder: bench(folder, "open_read.py", "--smoke", "--stores", str(folder / "stores")).stdout)
    return where / "stores", printed


def test_benchmarks_run_quick_and_write_the_page(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--output", str(out)],
        capture_output=True, text=True, timeout=1200, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    for heading in ("## Store ingest", "## Reading a whole store", "## Engine ingest as one store grows",
                    "## District: a year in one store", "## Rules: compiled rules beside hand-written Python"):
        assert heading in page
    for backend in ("| tinydb | 1,000 |", "| sqlite | 3,000 |", "| tinydb | 5,000 |"):
        assert backend in page
    district = page[page.index("## District: a year in one store"):]
    sqlite = next(line for line in district.splitlines() if line.startswith("| sqlite | "))
    assert sqlite.endswith("| 0 |"), sqlite  # the open + read restored the checkpoint closing took: none replayed
    assert "\n| sqlite | " in district and "### What-if (`gridcore diff`) under a changed district base" in district
    assert "JSON-lines append + fsync" in page and "raw sqlite3 executemany" in page
    assert "×" in page  # ratios beside the baselines
    assert "| ruleset load ms |" in page, "benchmarks/rules_eval.py did not run"
    assert "## Cold start" in page and "| `gridcore --help` |" in page
    assert "## Rules: loading rulesets" in page and "| this tree, parser from the disk cache |" in page


def test_only_the_language_sections_are_replaced_on_the_page() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    page = "# Benchmarks\n\n## Store ingest\n\nkept\n\n## Cold start\n\nold figures\n\n## Later\n\nalso kept\n"
    new = run.splice(page, ["## Cold start\n", "new figures\n", "## Rules: loading rulesets\n", "loaded\n"])
    assert "kept" in new and "also kept" in new and "old figures" not in new
    assert new.index("## Store ingest") < new.index("new figures") < new.index("## Later")
    assert new.rstrip().endswith("## Rules: loading rulesets\n\nloaded")


def test_the_open_and_read_benchmark_runs(smoke_stores: tuple[Path, str]) -> None:
    """benchmarks/open_read.py on one small store: a real `gridcore incidents list`, with and without checkpoint."""
    _, printed = smoke_stores
    assert "| 150 | `incidents list` |" in printed
    assert "| events in store | open ms with checkpoint | open ms without | speed-up |" in printed
    assert "| restored from the checkpoint at 15" in printed  # (Engine.open_report, in the table)


def test_the_open_and_read_benchmark_stops_when_its_checkpoint_is_not_restored(
        tmp_path: Path, smoke_stores: tuple[Path, str]) -> None:
    """A store built where other plugins were installed: its checkpoints fit no command here, every read would
    replay the whole log (last session's 4x).  The benchmark stops, saying so, rather than tabulate it."""
    import os

    stores, _ = smoke_stores  # (built by the benchmark with every plugin installed)
    run = [sys.executable, str(REPO / "benchmarks" / "open_read.py"), "--smoke", "--stores", str(stores)]
    # the commands run with a plugin fewer than the store was built with (as in a venv without it)
    fewer = {**os.environ, "GRIDCORE_PLUGINS": "rosters,workbook,points,escalation,assessment,planning"}
    done = subprocess.run(run, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path, env=fewer)
    assert done.returncode != 0
    assert "an open measured with a checkpoint was not what it claims: no checkpoint restored" in done.stderr
    assert re.search(r"plugins loaded then and not now: (drills, )?tasks\)", done.stderr), done.stderr[-1000:]


def test_the_state_size_benchmark_runs(tmp_path: Path, smoke_stores: tuple[Path, str]) -> None:
    """benchmarks/state_size.py (the page's *Escalation and tasks checkpoints as the log grows*) on the smoke store."""
    stores, _ = smoke_stores
    done = bench(tmp_path, "state_size.py", str(stores / "store-150.db"), "--rounds", "1")
    for plugin in ("escalation", "tasks"):
        line = next(line for line in done.stdout.splitlines() if line.startswith(plugin))
        assert re.search(r": +[1-9][\d,]* bytes \(1\.00x\), restore +[\d.]+ ms CPU", line), line


def test_the_memory_benchmark_runs_and_walks_the_engine(tmp_path: Path) -> None:
    """benchmarks/engine_memory.py at two tiny sizes: the memory table, and a walk reaching each plugin's state."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "engine_memory.py"), "--sizes", "1000,2000", "--walk-each",
         "--least", "0"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| 1,000 | " in done.stdout and "| 2,000 | " in done.stdout
    assert "| what the engine holds | MiB at 1,000 | MiB at 2,000 |" in done.stdout
    for piece in ("`points#state.accounts._all`", "`escalation#state.", "`tasks#state.", "`engine._applied`",
                  "`community.", "(module)`"):
        assert piece in done.stdout, piece


def test_the_ingest_windows_benchmark_runs(tmp_path: Path) -> None:
    """benchmarks/ingest_windows.py at small sizes: each ruleset's windows recorded again, entries counted.  The
    windows end at 6,000 and 7,500, just past the fixed population's 5,128 registrations (a window before them books
    no points): each ruleset's stream is built to 10,500 events, not 15,000 (at 9,000 and 12,000, about 3 s of CPU
    more for the same checks)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "ingest_windows.py"), "--at", "6000,7500", "--width", "1500",
         "--warm", "500", "--rounds", "1", "--keep", str(tmp_path / "windows")],
        capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| standard |", "| steady |"))]
    assert [row.split("|")[1:3] for row in rows] == [[" standard ", " 6,000 "], [" standard ", " 7,500 "],
                                                      [" steady ", " 6,000 "], [" steady ", " 7,500 "]]
    for row in rows:
        cells = row.split("|")
        assert int(cells[3].replace(",", "")) >= 1000  # events counted in the window (whole calls of about 1,000)
        assert float(cells[6]) > 0  # ledger entries an event: the points plugin booked in the window
        assert cells[-2].strip() == "0"  # its copy's open restored the checkpoint taken at the copy: nothing replayed


def test_the_board_months_benchmark_runs(tmp_path: Path) -> None:
    """benchmarks/board_months.py on two tiny stores: the first and last month's boards, with their ratios."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "board_months.py"), "--quick"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| store | events in store | month | board rows | board CPU ms | ratio |" in done.stdout
    assert "| 300 events | " in done.stdout and "| 1,200 events | " in done.stdout
    assert done.stdout.count("first: 2025-01") == 2 and "| 1.00× |" in done.stdout
