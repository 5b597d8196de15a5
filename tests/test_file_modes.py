"""Files gridcore writes whole (rosters, workbooks, a ruleset `gridcore fmt` rewrites) get the
permissions a plain write gives: the replaced file's, or the umask's for a new one.  They were
written through ``tempfile.mkstemp`` and renamed, so every one came out 0600: a roster workbook a
colleague or the office's shared folder could not open, a ruleset the service user could no
longer read after ``gridcore fmt``."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community, save_community

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_follow_the_umask_and_rewritten_ones_keep_their_mode(tmp_path: Path, umask: None) -> None:
    book = tmp_path / "花名册.xlsx"
    result = CliRunner().invoke(main_group, ["roster", "export", str(MINI), str(book)])
    assert result.exit_code == 0, result.output
    assert mode(book) == 0o644
    template = tmp_path / "template.xlsx"
    assert CliRunner().invoke(main_group, ["roster", "template", str(template)]).exit_code == 0
    assert mode(template) == 0o644
    save_community(load_community(MINI), tmp_path / "folder")
    assert {mode(p) for p in (tmp_path / "folder").iterdir()} == {0o644}
    rules = tmp_path / "r.rules"
    rules.write_text("points:\n      activity 志愿服务: 5 per hour\n", encoding="utf-8")
    rules.chmod(0o640)  # the office's group may read it, nobody else
    result = CliRunner().invoke(main_group, ["fmt", str(rules)])
    assert result.exit_code == 0, result.output
    assert rules.read_text(encoding="utf-8") == "points:\n  activity 志愿服务: 5 per hour\n"
    assert mode(rules) == 0o640
