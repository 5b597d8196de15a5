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
CHECKED = [c for c in CODES if c.example]
#: Codes whose example would not fit the page, or that no built-in section can give.
WITHOUT_EXAMPLE = {
    "line-too-long",  # a line of thousands of characters
    "nested-too-deeply",  # dozens of brackets
    "unknown-vocabulary",  # a vocabulary of a third party's section (built-in ones have their own codes)
    "ladder-gap",  # a third party's ladder without 'otherwise' (star ladders must have one)
}


def _community(entry: Code) -> Path | None:
    """The community an example is checked beside: a folder of rulesets/, or <name> in tests/data/."""
    if not entry.community:
        return None
    if entry.community.startswith("<"):
        return REPO / "tests" / "data" / entry.community.strip("<>")
    return REPO / "rulesets" / entry.community


def _check(folder: Path, text: str, community: Path | None = None) -> dict[str, object]:
    path = folder / "example.rules"
    path.write_text(text, encoding="utf-8")
    beside = ["--community", str(community)] if community is not None else []
    result = CliRunner().invoke(main_group, ["check", "--format", "json", str(path), *beside])
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


@pytest.mark.parametrize("entry", CHECKED, ids=[c.code for c in CHECKED])
def test_each_example_fails_with_its_code_and_its_fix_passes(entry: Code, tmp_path: Path) -> None:
    before = _check(tmp_path, entry.example_text(), _community(entry))
    codes = [d["code"] for d in before["diagnostics"]]  # type: ignore[attr-defined,index]
    assert entry.code in codes, before
    assert entry.edit[0] in entry.example_text()
    after = _check(tmp_path, entry.fixed_text(), _community(entry))
    assert after["ok"] is True, after


def test_every_code_of_a_ruleset_has_an_example_or_a_reason() -> None:
    missing = {c.code for c in CODES if c.kind == "rules" and not c.example}
    assert missing == WITHOUT_EXAMPLE


def test_the_page_lists_every_code_and_is_up_to_date() -> None:
    page = (REPO / "docs" / "check-messages.md").read_text(encoding="utf-8")
    assert page == markdown(), "regenerate: python -m gridcore.rules.codes docs/check-messages.md"
    for c in CODES:
        assert f"| `{c.code}` |" in page


def test_the_page_names_every_warning_that_is_an_error_in_check() -> None:
    from gridcore_app.checking import KNOWN_WHEN_INSTALLED

    page = (REPO / "docs" / "check-messages.md").read_text(encoding="utf-8")
    said = page.split("errors in\n`check`", 1)[1].split("\n\n", 1)[0]
    assert {code for code in KNOWN_WHEN_INSTALLED if f"`{code}`" in said} == KNOWN_WHEN_INSTALLED
