"""Ruleset test cases (``*_test.yaml``) as pytest items, with readable failures.

Loaded through the ``pytest11`` entry point ``gridcore-rules``; each case of each
case file is one item.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .casetest import CASE_SUFFIX, CaseResult, load_cases, run_cases


class CaseFailed(Exception):
    """A ruleset case did not come out as expected."""


class CaseFile(pytest.File):
    """A ``*_test.yaml`` file: runs all its cases once, reports them one by one."""

    _results: dict[str, CaseResult] | None = None

    def collect(self) -> Iterator[pytest.Item]:
        doc = load_cases(Path(self.path))
        for case in doc["cases"]:
            yield CaseItem.from_parent(self, name=str(case["name"]))

    def results(self) -> dict[str, CaseResult]:
        if self._results is None:
            report = run_cases(Path(self.path))
            self._results = {r.name: r for r in report.results}
        return self._results


class CaseItem(pytest.Item):
    """One case."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, CaseFile)
        result = parent.results()[self.name]
        if not result.passed:
            raise CaseFailed(result.render())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.path), 0, f"ruleset case: {self.name}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> CaseFile | None:
    """Collect ``*_test.yaml`` files as ruleset case files."""
    if file_path.name.endswith(CASE_SUFFIX):
        return CaseFile.from_parent(parent, path=file_path)
    return None
