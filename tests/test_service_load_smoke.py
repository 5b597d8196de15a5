"""The service load benchmark runs (quick: 2 reporters, 3 s) and finds nothing lost; no timing is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_load_benchmark_runs_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "load.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "service_load.py"), "--quick", "--output", str(out)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    assert "## Service under load" in page and "| Open311 POST requests (reports) |" in page
    assert "0 lost, 0 duplicated, 0 stored without an answer" in page


def test_the_long_run_samples_every_interval_and_checks_the_service_against_a_replay(tmp_path: Path) -> None:
    out = tmp_path / "soak.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "service_load.py"), "--soak", "0.1", "--interval", "2",
         "--staff", "2", "--readers", "1", "--ingest-every", "3", "--output", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    assert "## Service over time" in page and "| minute | requests |" in page
    rows = [line for line in page.splitlines() if line.startswith("| 0.")]
    assert len(rows) == 3  # one a sampled interval: 6 s in 2 s intervals (an ingest 3 s in: one at least)
    assert "answered, not stored 0" in page and "ingested, not stored 0" in page and "ingested 0," not in page
    assert "The running service's answers equal a fresh engine's full replay of the store." in page
