"""Chinese names with digits: accepted between characters, quoted at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset


def sections() -> list:  # type: ignore[type-arg]
    return Hooks(get_plugin_manager()).register_sections()


def test_digits_between_chinese_characters_make_one_name(tmp_path: Path) -> None:
    path = tmp_path / "r.rules"
    path.write_text('ruleset "t"\npoints:\n  reward 大米5斤: 200 points\n  reward "油2024": 100 points\n',
                    encoding="utf-8")
    ruleset = load_ruleset(path, sections=sections())
    assert ruleset.has("points")


def test_a_name_ending_in_digits_is_told_to_use_quotes(tmp_path: Path) -> None:
    path = tmp_path / "r.rules"
    path.write_text('ruleset "t"\npoints:\n  activity 志愿服务2024: 5 per hour\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(path, sections=sections())
    assert info.value.render("en").splitlines()[0].endswith(
        "r.rules:3:12: error: a name that ends in digits must be written in quotes (found '2024')"
    )
    # the caret and the suggestion cover the whole name: applied, the suggestion gives a ruleset that loads
    diagnostic = info.value.diagnostics[0]
    assert (diagnostic.column, diagnostic.width, diagnostic.suggestion) == (12, 8, '"志愿服务2024"')
    line = diagnostic.source_line
    path.write_text('ruleset "t"\npoints:\n' + line[:diagnostic.column - 1] + diagnostic.suggestion
                    + line[diagnostic.column - 1 + diagnostic.width:] + "\n", encoding="utf-8")
    assert load_ruleset(path, sections=sections()).has("points")
    assert 'fix: write the name in quotes: "志愿服务2024"' in str(info.value)
    assert '给名称加上引号："志愿服务2024"' in info.value.render("zh")
