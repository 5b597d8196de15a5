"""The suite keeps gridcore's parser cache in a folder of its own (tests/conftest.py), not the user's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gridcore.rules.grammar_cache import CACHE_ENV, cache_dir

REPO = Path(__file__).resolve().parent.parent


def test_the_suite_parses_into_a_temporary_folder_of_its_own_not_the_users_cache() -> None:
    folder = Path(os.environ[CACHE_ENV])
    users = cache_dir({k: v for k, v in os.environ.items() if k != CACHE_ENV})
    assert folder != users and folder.is_dir()
    assert folder.name.startswith("gridcore-tests-cache-")
    # a process the tests start (here `gridcore check` of a ruleset no other test changes) fills that folder
    ruleset = REPO / "rulesets" / "yinquan" / "yinquan.rules"
    done = subprocess.run([str(Path(sys.executable).parent / "gridcore"), "check", str(ruleset)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert any(folder.glob("trees-*.json")) and any(folder.iterdir())
