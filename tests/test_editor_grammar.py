"""editors/vscode: the TextMate grammar is generated from the parser's keyword tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gridcore.rules.keywords import CORE_KEYWORDS
from gridcore_app.lsp.textmate import builtin_sections, render

VSCODE = Path(__file__).resolve().parent.parent / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "rules.tmLanguage.json"


def test_the_grammar_file_is_what_the_keyword_tables_generate() -> None:
    assert GRAMMAR.read_text(encoding="utf-8") == render(), (
        "regenerate: python -m gridcore_app.lsp.textmate editors/vscode/syntaxes/rules.tmLanguage.json")


def _pattern(scope: str) -> re.Pattern[str]:
    doc = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    [found] = [p["match"] for p in doc["patterns"] if p["name"] == scope]
    return re.compile(found)


def test_every_keyword_english_and_chinese_is_highlighted() -> None:
    core = _pattern("keyword.control.gridcore-rules")
    items = _pattern("keyword.other.item.gridcore-rules")
    headers = _pattern("entity.name.section.gridcore-rules")
    for forms in CORE_KEYWORDS.values():
        for form in forms:
            assert core.fullmatch(form), form
    for section in builtin_sections():
        for header in section.headers:
            assert headers.match(f"{header}：") and headers.match(f"{header}:"), header
        for kind in section.items:
            for form in kind.keywords:
                assert items.match(f"  {form} "), form
        for forms in section.keywords.values():
            for form in forms:
                assert core.fullmatch(form), form
    # a name that merely starts like an English keyword is not one
    assert not core.fullmatch("person") and not core.search("personnel")


def test_the_extension_starts_gridcore_lsp_for_rules_files() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [language] = package["contributes"]["languages"]
    assert language["extensions"] == [".rules"]
    [grammar] = package["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).resolve() == GRAMMAR.resolve()
    assert grammar["scopeName"] == json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"]
    script = (VSCODE / package["main"]).read_text(encoding="utf-8")
    assert 'args: ["lsp"]' in script and "initializationOptions: { lang }" in script
