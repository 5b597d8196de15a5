"""The caret under a ruleset's mistake, as a terminal shows it: each Chinese character is two columns
(East Asian Width W/F), so a caret under Chinese text is two ``^`` per character, starting under the first
and ending under the last, never half a character; a mistake about an item underlines its head as written
(``办理人时限 微网格员``), in Chinese and English alike (a duplicated 办理人时限 line had one character's
``^^`` under it)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_refusals_chinese import CHINESE_MISTAKES, REPO

from gridcore_app.cli import main_group

#: Mistakes about an item, and the head the caret underlines.
HEADS = [
    ("  办理人时限 微网格长：受理时限 2个工作小时\n",
     "  办理人时限 微网格长：受理时限 2个工作小时\n  办理人时限 微网格员：办结时限 3个工作日\n", "办理人时限 微网格员"),
    ("  倾斜 微网格长：1.5 倍\n", "  倾斜 微网格长：1.5 倍\n  倾斜 微网格长：2 倍\n", "倾斜 微网格长"),
    ("删除 活动 环境整治", "删除 活动 环境正治", "删除 活动 环境正治"),
]


def columns(text: str) -> list[tuple[int, int, str]]:
    """Each character of ``text`` with the terminal columns it takes: (first, past the last, character)."""
    out, at = [], 0
    for ch in text:
        wide = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        out.append((at, at + wide, ch))
        at += wide
    return out


def underlined(source: str, carets: str) -> str:
    """The characters of ``source`` the ``^`` of ``carets`` stand under; fails on a caret under half of one."""
    start = len(carets) - len(carets.lstrip(" "))
    end = len(carets.rstrip())
    assert set(carets[start:end]) == {"^"}, carets
    chars = columns(source)
    assert any(a == start for a, _, _ in chars) or start == chars[-1][1], (source, carets)  # starts on a character
    assert any(b == end for _, b, _ in chars), (source, carets)  # ends with one, not within it
    return "".join(ch for a, b, ch in chars if a >= start and b <= end)


def carets_of(output: str) -> list[tuple[str, str]]:
    """Every (source line, caret line) pair of ``gridcore check``'s text output (the 4 spaces stripped)."""
    lines = output.splitlines()
    return [(lines[n - 1][4:], line[4:]) for n, line in enumerate(lines) if line.strip() and set(line.strip()) == {"^"}]


@pytest.fixture
def chengqiao(tmp_path: Path) -> Path:
    folder = tmp_path / "chengqiao"
    shutil.copytree(REPO / "rulesets" / "chengqiao", folder)
    shutil.copy(REPO / "rulesets" / "district-base.rules", folder)
    return folder / "chengqiao.rules"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_mistake_about_an_item_underlines_its_head(chengqiao: Path, lang: str) -> None:
    text = chengqiao.read_text(encoding="utf-8")
    for right, wrong, head in HEADS:
        assert right in text
        chengqiao.write_text(text.replace(right, wrong, 1), encoding="utf-8")
        result = CliRunner().invoke(main_group, ["--lang", lang, "check", str(chengqiao)])
        assert result.exit_code == 1, result.output
        pairs = carets_of(result.output)
        assert pairs, result.output
        assert [underlined(source, carets) for source, carets in pairs] == [head], result.output


def test_every_caret_under_chinese_text_covers_whole_characters(chengqiao: Path) -> None:
    text = chengqiao.read_text(encoding="utf-8")
    seen = 0
    for right, wrong in CHINESE_MISTAKES:
        chengqiao.write_text(text.replace(right, wrong, 1), encoding="utf-8")
        result = CliRunner().invoke(main_group, ["--lang", "zh", "check", str(chengqiao)])
        for source, carets in carets_of(result.output):
            assert underlined(source, carets).strip(), (wrong, source, carets)
            seen += 1
    assert seen >= len(CHINESE_MISTAKES) - 2
