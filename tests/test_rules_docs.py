"""docs/language.md's vocabulary tables are generated from ``gridcore schema`` and kept current."""

from __future__ import annotations

from pathlib import Path

from conftest import BUILTIN_PLUGINS

from gridcore import get_plugin_manager
from gridcore.rules.vocabulary import END_MARK, START_MARK, installed_tables, with_tables

LANGUAGE = Path(__file__).resolve().parent.parent / "docs" / "language.md"


def test_vocabulary_tables_are_up_to_date() -> None:
    text = LANGUAGE.read_text(encoding="utf-8")
    assert START_MARK in text and END_MARK in text
    # The language as gridcore ships it: the built-in plugins, whatever else is installed.
    builtins = get_plugin_manager(only=[*BUILTIN_PLUGINS, "rosters"])
    assert with_tables(text, installed_tables(builtins)) == text, (
        "docs/language.md's vocabulary tables are stale; regenerate them with\n"
        f"  GRIDCORE_PLUGINS={','.join(BUILTIN_PLUGINS)} .venv/bin/python -m gridcore.rules.vocabulary "
        "docs/language.md"
    )


def test_sections_doc_covers_every_shared_rule() -> None:
    from gridcore.rules.grammar_build import SHARED_RULES

    text = (LANGUAGE.parent / "sections.md").read_text(encoding="utf-8")
    for rule in SHARED_RULES:
        assert f"| `{rule}` |" in text, rule
