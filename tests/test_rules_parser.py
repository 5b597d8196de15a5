"""The whole-file parse: a file is read in one parse, and a bad line is read alone.

Reading every line alone (what the parser does from a line the file's
grammar rejects to the next section header) must give exactly what the
whole-file parse gives: the same tree, the same positions, the same
diagnostics, for real rulesets and for any edit of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedToken
from rules_toy import CHORES

from gridcore.rules.grammar_build import build_grammar
from gridcore.rules.lines import BROKEN, DATED_NEXT, STATEMENT_END, split_lines
from gridcore.rules.parser import _Reader, read_source
from gridcore.rules.sections import Section

REPO = Path(__file__).resolve().parent.parent
RULESETS = sorted((REPO / "rulesets").rglob("*.rules"))


@pytest.fixture(scope="module")
def builtin() -> list[Section[Any]]:
    from gridcore.plugin_host import Hooks, get_plugin_manager

    return Hooks(get_plugin_manager()).register_sections()


def canon(thing: Any) -> Any:
    """Everything a node holds, positions included (``==`` on nodes leaves them out)."""
    if attrs.has(type(thing)):
        return (type(thing).__name__, *(canon(getattr(thing, f.name)) for f in attrs.fields(type(thing))))
    if isinstance(thing, list | tuple):
        return tuple(canon(x) for x in thing)
    return repr(thing)


def whole(text: str, sections: list[Section[Any]]) -> tuple[Any, Any, int]:
    reader = _Reader(build_grammar(sections), text, "t.rules")
    parsed = reader.run()
    return canon(parsed), canon(reader.diagnostics), reader.read_alone


def line_by_line(text: str, sections: list[Section[Any]]) -> tuple[Any, Any]:
    reader = _Reader(build_grammar(sections), text, "t.rules")
    reader.check_indentation(reader.lines)
    reader.recover(0, to_end=True)
    return canon(reader.result()), canon(reader.diagnostics)


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_a_ruleset_is_read_in_one_parse(path: Path, builtin: list[Section[Any]]) -> None:
    text = path.read_text(encoding="utf-8")
    tree, diagnostics, alone = whole(text, builtin)
    assert alone == 0 and diagnostics == ()
    assert (tree, diagnostics) == line_by_line(text, builtin)


@pytest.mark.parametrize("line", ["删除家务 扫地", "规则集扣分", "removechore x", "from 2025: 1 per hour"])
def test_a_word_glued_to_the_next_is_read_as_it_always_was(line: str) -> None:
    """``删除家务 扫地`` is not a removal, nor ``规则集扣分`` a ruleset's name: an error, as before."""
    text = f"chores:\n  chore x: 1 per hour\n  {line}\n"
    tree, diagnostics, alone = whole(text, [CHORES])
    assert alone == 1 and (tree, diagnostics) == line_by_line(text, [CHORES])
    assert read_source(text, sections=[CHORES], file="t.rules")[1][0].line == 3


def test_after_a_bad_line_the_parse_resumes_at_the_next_header() -> None:
    text = ("chores:\n  chore a: 1 per hour\n  chore b 2 per hour\n  chore c: 3 per hour\n"
            "家务积分：\n  家务 d：每小时 4 分\n  家务 e：每小时 5 分\n")
    tree, diagnostics, alone = whole(text, [CHORES])
    assert alone == 2  # the bad line and the one after it, up to the header
    assert (tree, diagnostics) == line_by_line(text, [CHORES])
    parsed, found = read_source(text, sections=[CHORES], file="t.rules")
    assert [i.name.text for i in parsed.sections[0].items if i.name] == ["a", "c", "d", "e"]
    assert [(d.line, d.message) for d in found] == [(3, "a colon is missing (found '2')")]


EDITS = [",", "(", ")", "（", "）", "[", "\n", "\n  ", "\n      ", "\n\n", "# note\n", ":", "：",
         "from 2025-01-01: ", "自 2025-01-01 起：", "remove ", "override ", "  ", "\t", "x", "\"",
         "“", "5", " per hour", "，", "chores:\n", "家务积分：\n", "levels: a > b\n", "at\n most",
         "删除", "remove", "规则集", "ruleset x\n", "继承", "from", "自", "家务积分", "Chores :\n", "奖励：\n"]


TOY = """ruleset "toy"
levels: community > grid > unit
chores:
  chore sweeping: 5 per hour, at most 40 per month
    from 2025-01-01: (6 + 1) per hour,
      at most 40 points per month
  # a comment line
  bonus: 2 if event.hours >= 4, otherwise 0
  remove chore mopping
家务积分：
  override 家务 扫地：每小时 5 分，每月最多 40 分
  限定 x：grid
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1), st.sampled_from(EDITS), st.integers(0, 6)), min_size=1,
                max_size=4))
def test_any_edit_reads_the_same_whole_or_line_by_line(edits: list[tuple[float, str, int]]) -> None:
    text = TOY
    for where, insert, cut in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut:]
    tree, diagnostics, _ = whole(text, [CHORES])
    assert (tree, diagnostics) == line_by_line(text, [CHORES])


PIECES = ["chore", "x", "5", "per", "hour", ",", "，", "(", ")", "[", "]", "（", "）", '"a,(b"',
          "“（”", "# c(", " ", "\t", "\n", "\n  ", "\n    ", "\n\n", "\n  # note\n  ", "at most", "at\n   most",
          "\n  from 2025-01-01: "]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_the_postlexer_ends_statements_where_split_lines_does(pieces: list[str]) -> None:
    """Where the statements end is decided twice (lines.py): both must agree."""
    text = "".join(pieces) + "\n"
    lines, _ = split_lines(text)
    expected = []
    for line in lines:
        last = line.end_line
        comment_lines = {c.line for c in line.comments if not c.trailing}
        while last > line.line and last in comment_lines:
            last -= 1
        expected.append(last)
    grammar = build_grammar([CHORES])
    tokens = list(grammar.lark.lex(text))
    ends = [t.line for t in tokens if t.type in (STATEMENT_END, DATED_NEXT)]
    if any(t.type == BROKEN for t in tokens):
        # 'at' and 'most' on two statements: one token no rule takes, so the file's
        # parse stops there and the lines are read alone
        with pytest.raises(UnexpectedToken):
            grammar.lark.parse(text, start="rules_file")
    else:
        assert ends == expected
