"""No SQL of ours binds a sequence to numbered placeholders (``?1``).

Python 3.12 warns that a sequence given for ``?1`` ("a named parameter") is deprecated, and 3.14 raises
``sqlite3.ProgrammingError``: the SQLite store wrote documents (``put_text``) and merged part names that way,
and Python 3.12's run of the suite showed the warnings.  Plain ``?`` (a value bound twice where it is used
twice) or ``:name`` with a mapping are what every Python takes.  This reads every string literal of the
project's Python for one.
"""

from __future__ import annotations

import io
import re
import tokenize
import warnings
from pathlib import Path

import pytest

from gridcore.errors import StoreError

ROOT = Path(__file__).resolve().parents[1]
NUMBERED = re.compile(r"\?\d")
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES)\b", re.IGNORECASE)


def _numbered_in_sql() -> list[str]:
    found = []
    for folder in ("gridcore", "gridcore_app", "plugins", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type == tokenize.STRING and NUMBERED.search(token.string) and (
                        SQL.search(token.string) or "CAST(" in token.string or "json_each" in token.string):
                    found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string[:60]}")
    return found


def test_no_sql_string_uses_numbered_placeholders() -> None:
    assert _numbered_in_sql() == []


def test_the_scan_finds_one() -> None:
    assert NUMBERED.search("'SELECT ?1, CAST(?3 AS TEXT)'") and SQL.search("'SELECT ?1'")


def test_a_document_written_as_text_and_names_merged_warn_of_nothing(tmp_path: Path) -> None:
    from gridcore.store.url import open_store

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            store.put_text("meta", "k", '{"a": 1}')
            store.merge_parts("names", {"n1": {"p1": 1}})
            store.merge_parts("names", {"n1": {"p2": 2}, "n2": {"p1": 1}})
        assert store.get("meta", "k") == {"a": 1}
        assert store.get("names", "n1") == {"parts": {"p1": 1, "p2": 2}}
        with pytest.raises(StoreError):  # (not a JSON object: refused as before)
            store.put_text("meta", "bad", "[1, 2]")
    finally:
        store.close()
