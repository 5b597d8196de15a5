"""Chinese first for tables too: every report table the built-in plugins and the application build has a
title with its Chinese, as staff read the reasons (docs/embedding.md). A title written in English only
(``"Open incidents"``) fails here, naming the file and line, before anyone prints it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO

from gridcore.errors import has_chinese

#: Where report tables are built.
FOLDERS = ("plugins", "gridcore_app")
#: A piece of an English sentence (a word of four letters or more).
WORDS = re.compile(r"[A-Za-z]{4,}")


def _title(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "title"), None)


def _text(expr: ast.expr) -> str:
    """The literal text of a title (an f-string's literal parts; what is put into it is not written here)."""
    return "".join(node.value for node in ast.walk(expr) if isinstance(node, ast.Constant)
                   and isinstance(node.value, str))


def english_only_titles(root: Path) -> list[str]:
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Table":
                    title = _title(node)
                    text = _text(title) if title is not None else ""
                    if WORDS.search(text) and not has_chinese(text):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: {text[:60]!r}")
    return found


def test_every_report_table_title_has_its_chinese() -> None:
    assert english_only_titles(REPO) == []


def test_the_title_check_finds_an_english_only_title(tmp_path: Path) -> None:
    (tmp_path / "plugins" / "x").mkdir(parents=True)
    (tmp_path / "gridcore_app").mkdir()
    (tmp_path / "plugins" / "x" / "reports.py").write_text(
        'def t(period):\n    return Table(f"Open incidents in {period}", (), ())\n'
        'def u():\n    return Table("积分公示 points board", (), ())\n', encoding="utf-8")
    assert english_only_titles(tmp_path) == ["plugins/x/reports.py:2: 'Open incidents in '"]
