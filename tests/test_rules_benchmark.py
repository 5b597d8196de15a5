"""benchmarks/rules_eval.py runs and ends with its ratio line (no timing is checked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_rules_eval_benchmark_runs() -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "rules_eval.py"), "--quick"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"compiled/hand-written ratio: \d+\.\d\d", last)
