"""The suite's own order: the longest files first (tests/conftest.py's ``SLOW_FIRST``), so the workers end together."""

from __future__ import annotations

import tomllib
from pathlib import Path

from conftest import SLOW_FIRST, slow_first

REPO = Path(__file__).resolve().parent.parent


def test_every_file_the_order_names_is_a_test_file_of_the_suite() -> None:
    assert len(set(SLOW_FIRST)) == len(SLOW_FIRST)
    missing = [name for name in SLOW_FIRST if not (REPO / name).is_file()]
    assert missing == [], f"renamed or gone: take them out of SLOW_FIRST (tests/conftest.py): {missing}"


class Item:
    """What ``slow_first`` reads of a collected test: its file."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name


def test_the_listed_files_come_first_in_the_lists_order_and_each_file_keeps_its_own_order() -> None:
    first, second = SLOW_FIRST[0], SLOW_FIRST[1]
    collected = [Item(REPO / "tests" / "test_a.py", "a1"), Item(REPO / second, "s1"), Item(REPO / first, "f1"),
                 Item(REPO / "rulesets" / "x_test.yaml", "y1"), Item(REPO / second, "s2"),
                 Item(REPO / "tests" / "test_a.py", "a2"), Item(REPO / first, "f2"), Item(Path("/elsewhere.py"), "e")]
    ordered = [item.name for item in slow_first(collected, REPO)]  # type: ignore[arg-type]
    assert ordered == ["f1", "f2", "s1", "s2", "a1", "y1", "a2", "e"]


def test_the_files_go_whole_to_the_workers_in_the_order_given() -> None:
    """pytest-xdist would otherwise send the tests in chunks of consecutive tests (``--dist load``) or reorder the
    files by their number of tests (``--dist loadfile`` alone): either undoes the order above."""
    addopts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"][
        "addopts"].split()
    assert "--no-loadscope-reorder" in addopts
    assert addopts[addopts.index("--dist") + 1] == "loadfile"
