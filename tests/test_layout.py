"""The core is a library: it imports nothing of the application beside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP_IMPORT = re.compile(r"^\s*(?:from|import)\s+gridcore_app\b", re.MULTILINE)


def test_no_core_module_names_the_application() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "gridcore").rglob("*.py")
                 if APP_IMPORT.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_whole_core_imports_without_the_application() -> None:
    code = (
        "import sys, pkgutil, importlib, gridcore\n"
        "for m in pkgutil.walk_packages(gridcore.__path__, 'gridcore.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.startswith('gridcore_app') or n == 'click')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_code_is_ruff_clean() -> None:
    """The same lint every contributor runs; a finding fails here, not months later."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise",
         "gridcore", "plugins", "gridcore_app", "tests", "benchmarks"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
