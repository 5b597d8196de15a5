"""The demo communities' quarters (90 days from 2025-01-01, seed 1), each built once a test session and shared by
the files that read it: tests/test_demo_realism.py (the store, the run's refusals), tests/test_chinese_demos.py
(the store, its tables under ``--lang zh``) and, for Yinquan, tests/test_demo.py (``gridcore demo`` as the README
runs it: what it printed, its report files, its store).

Yinquan's quarter is what ``gridcore demo`` makes with no option (Yinquan, its scenario's 90 days from 2025-01-01,
seed 1), so it is made by that command, through the CLI, with its report files; the run's ``DemoResult`` is the one
the command printed (``gridcore_app.demo.run_demo``'s, kept as it returns).  The other quarters are made by
``run_demo`` with no report files (the tests read their stores; the demo's files are tests/test_demo.py's).  Its
store is the same either way (with and without its report files: byte for byte).  Every test only reads a quarter
(``built_once``): a store is opened ``read_only=True``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessionshare import built_once

from gridcore_app import demo
from gridcore_app.cli import main_group
from gridcore_app.demo import DemoResult, run_demo
from gridcore_app.simulate import RULESETS_DIR

START = date(2025, 1, 1)
#: The community ``gridcore demo`` runs with no ``--community`` (and its quarter with no other option).
DEFAULT = "yinquan"


class Quarter:
    """A quarter's folder (``out``: ``store``, ``events.jsonl``, ``reports``), its run's result, and what
    ``gridcore demo`` printed and its exit code (the default community's; for the others ``printed`` is empty)."""

    def __init__(self, out: Path, result: DemoResult, code: int, printed: str) -> None:
        self.out, self.result, self.code, self.printed = out, result, code, printed

    @property
    def store(self) -> Path:
        return self.out / "store"


def _by_the_cli(out: Path) -> tuple[DemoResult, int, str]:
    """``gridcore demo --out OUT`` run through the CLI (in English whatever ``GRIDCORE_LANG`` the shell sets: the
    other files' quarters are English runs); the result its ``run_demo`` returned, its exit code and output."""
    kept: list[DemoResult] = []

    def run_and_keep(*args: object, **kwargs: object) -> DemoResult:
        result = run_demo(*args, **kwargs)  # type: ignore[arg-type]
        kept.append(result)
        return result

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(demo, "run_demo", run_and_keep)
        done = CliRunner(env={"GRIDCORE_LANG": "en"}).invoke(main_group, ["demo", "--out", str(out)])
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise done.exception
    assert len(kept) == 1, done.output
    result = kept[0]
    assert (result.days, result.start, result.seed) == (90, START, 1), result  # (the other files' quarter)
    return result, done.exit_code, done.output


def quarter(factory: pytest.TempPathFactory, name: str) -> Quarter:
    """``name``'s quarter, built by the first test process of the session to ask for it."""

    def build(out: Path) -> tuple[DemoResult, int, str]:
        if name == DEFAULT:
            return _by_the_cli(out)
        result = run_demo(RULESETS_DIR / name, days=90, start=START, seed=1, out=out, write_reports=False)
        assert not any((out / "reports").iterdir())
        return result, 0, ""

    out, (result, code, printed) = built_once(factory, f"demo-quarter-{name}", build)
    return Quarter(out, result, code, printed)
