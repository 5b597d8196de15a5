"""Reading a file once: the trees of its lines are kept on disk, and reading them gives what parsing gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lark import Lark

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import grammar_build, parser
from gridcore.rules.grammar_cache import CACHE_ENV
from gridcore.rules.sections import Section

REPO = Path(__file__).resolve().parent.parent
FILES = sorted((REPO / "rulesets").glob("*/*.rules")) + [REPO / "rulesets" / "district-base.rules"]
BROKEN = """\
ruleset "broken"
levels: community > grid > unit
points:
  activity 志愿服务: 5 per hour
  activity cleanup: ten points
"""


@pytest.fixture(scope="module")
def sections() -> list[Section[Any]]:
    return Hooks(get_plugin_manager()).register_sections()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gridcore"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    monkeypatch.setattr(parser, "_PARSED", {})  # nothing from this process's own memory
    return folder


def read(text: str, sections: list[Section[Any]], file: str) -> tuple[Any, list[str]]:
    parser._PARSED.clear()
    tree, diagnostics = parser.read_source(text, sections=sections, file=file)
    return tree, [d.render() for d in diagnostics]


def test_every_ruleset_read_from_its_saved_trees_is_what_parsing_gives(
        cache: Path, sections: list[Section[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = {path: read(path.read_text(encoding="utf-8"), sections, path.name) for path in FILES}
    assert len(list(cache.glob("trees-*.json"))) == len(FILES)

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a line was parsed again")

    monkeypatch.setattr(Lark, "parse", no_parsing)
    for path, expected in parsed.items():
        assert read(path.read_text(encoding="utf-8"), sections, path.name) == expected


def test_a_line_that_does_not_parse_is_reported_again(cache: Path, sections: list[Section[Any]]) -> None:
    first = read(BROKEN, sections, "broken.rules")
    assert any("ten" in message for message in first[1])
    assert read(BROKEN, sections, "broken.rules") == first


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "gridcore-trees 1", "lines": [["x"]]}'])
def test_a_damaged_tree_file_is_parsed_again_never_fatal(cache: Path, sections: list[Section[Any]],
                                                          damage: bytes) -> None:
    text = FILES[0].read_text(encoding="utf-8")
    expected = read(text, sections, "a.rules")
    [saved] = cache.glob("trees-*.json")
    saved.write_bytes(damage)
    assert read(text, sections, "a.rules") == expected


def test_a_file_read_from_its_saved_trees_never_loads_the_parser(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a store compiles texts read before: the built parser is loaded only to parse something new."""
    monkeypatch.setattr(grammar_build, "_CACHE", {})
    text = 'ruleset "core only"\nlevels: community > grid > unit\n'
    first = read(text, [], "a.rules")
    assert grammar_build.build_grammar([]).parser.loaded  # not in the disk cache yet: built at once
    grammar_build._CACHE.clear()  # as a new process would start
    assert read(text, [], "a.rules") == first
    grammar = grammar_build.build_grammar([])
    assert not grammar.parser.loaded  # its file is on disk, and the text's trees were saved
    bad = read('ruleset "core only"\nlevels community\n', [], "b.rules")
    assert grammar.parser.loaded and any("levels community" in message for message in bad[1])
