"""Did-you-mean names only what a name is a slip of, never a merely similar-looking one."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules_toy import CHORES

from gridcore.rules import RulesError, load_ruleset
from gridcore.rules.checker import did_you_mean


@pytest.mark.parametrize("word,pool,expected", [
    ("gird", ["grid", "unit"], "grid"),            # two letters swapped
    ("chorse", ["chores"], "chores"),
    ("activty", ["activity", "cap"], "activity"),  # a letter dropped
    ("patrol_coverag", ["patrol_coverage"], "patrol_coverage"),
    ("志愿服物", ["志愿服务", "环境整治"], "志愿服务"),
    ("cleanup", ["donation", "checkup"], ""),      # alike, not a slip
    ("meeting", ["mediation"], ""),
    ("大米", ["食用油"], ""),
])
def test_only_a_slip_is_suggested(word: str, pool: list[str], expected: str) -> None:
    assert did_you_mean(word, pool) == expected


@given(st.text(alphabet="abcdefgh", min_size=3, max_size=9), st.integers(0, 8), st.sampled_from("xyz"))
def test_one_changed_letter_is_always_found(word: str, at: int, letter: str) -> None:
    slip = word[:at % len(word)] + letter + word[at % len(word) + 1:]
    assert did_you_mean(slip, [word, "zzzzzzzzzzzzzz"]) == word


def test_an_override_of_a_new_name_suggests_no_unrelated_inherited_item(tmp_path: Path) -> None:
    # With the kind in front ('chore cleanup', 'chore donation'), any two items
    # of one kind looked alike: the parent's 'checkup' was offered for 'cleanup'.
    (tmp_path / "base.rules").write_text("chores:\n  chore checkup: 5 per hour\n  chore sweeping: 1 per hour\n",
                                         encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('extends "base"\nchores:\n  override chore cleanup: 6 per hour\n  remove chore cleanup\n'
                     "  override chore sweepng: 2 per hour\n", encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(child, sections=[CHORES])
    assert [d.message for d in info.value.errors] == [
        "'override chore cleanup' overrides something the parent ruleset does not have",
        "cannot remove 'chore cleanup': the parent ruleset has no such item",
        ("'override chore sweepng' overrides something the parent ruleset does not have "
        "(did you mean 'chore sweeping'?)"),
    ]
