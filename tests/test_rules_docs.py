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


def test_gridcore_schema_describes_every_variable_field_and_section_in_chinese_too() -> None:
    """``gridcore schema`` (what editors and docs read): each built-in section, variable and field with
    an English description has its Chinese (``doc_zh``), so a new English-only one fails here."""
    from gridcore.errors import has_chinese
    from gridcore.plugin_host import Hooks
    from gridcore.rules.vocabulary import describe_schema

    hooks = Hooks(get_plugin_manager(only=list(BUILTIN_PLUGINS)))
    doc = describe_schema(hooks.register_sections(), hooks.register_event_types())
    described = [(s["name"], s["doc"], s["doc_zh"]) for s in doc["sections"]]
    variables = doc["variables"] + [v for s in hooks.register_sections() for v in s.variables.values()
                                    if isinstance(v, dict)]
    for var in variables:
        described.append((var["name"], var["doc"], var["doc_zh"]))
        described += [(f"{var['name']}.{f['name']}", f["doc"], f["doc_zh"]) for f in var["fields"]]
    assert len(described) > 30
    assert [name for name, en, zh in described if en and not has_chinese(zh)] == []
