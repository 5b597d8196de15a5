"""The code catalogue (gridcore/rules/codes.py): each example fails with its code, and passes once
its fix is applied; docs/check-messages.md ("when check complains") is generated from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore.rules.codes import CODES, Code, markdown
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
CHECKED = [c for c in CODES if c.example and not c.community]


def _check(folder: Path, text: str) -> dict[str, object]:
    path = folder / "example.rules"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main_group, ["check", "--format", "json", str(path)])
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


@pytest.mark.parametrize("entry", CHECKED, ids=[c.code for c in CHECKED])
def test_each_example_fails_with_its_code_and_its_fix_passes(entry: Code, tmp_path: Path) -> None:
    before = _check(tmp_path, entry.example_text())
    codes = [d["code"] for d in before["diagnostics"]]  # type: ignore[attr-defined,index]
    assert entry.code in codes, before
    assert entry.edit[0] in entry.example_text()
    after = _check(tmp_path, entry.fixed_text())
    assert after["ok"] is True, after


def test_the_page_lists_every_code_and_is_up_to_date() -> None:
    page = (REPO / "docs" / "check-messages.md").read_text(encoding="utf-8")
    assert page == markdown(), "regenerate: python -m gridcore.rules.codes docs/check-messages.md"
    for c in CODES:
        assert f"| `{c.code}` |" in page
