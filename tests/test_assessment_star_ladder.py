"""A star ladder out of order or without 'otherwise': the fix offered, written in, passes ``check``."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore_app.cli import main_group

HEAD = "ruleset t\nlevels: community > grid > unit\nassessment:\n  rate: grid\n  metric patrol_coverage: weight 100\n"
FIX = {"en": "fix: write the ladder as: ", "zh": "修改: 把星级规则改为："}


def check(path: Path, ladder: str, lang: str) -> tuple[int, str]:
    keyword = "stars: " if lang == "en" else "星级："
    path.write_text(HEAD + f"  {keyword}{ladder}\n", encoding="utf-8")
    result = CliRunner().invoke(main_group, ["check", "--lang", lang, str(path)])
    return result.exit_code, result.output


def fixed(output: str, lang: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(FIX[lang])]
    assert len(lines) == 1, output
    return lines[0].removeprefix(FIX[lang])


def apply_fix_and_check(path: Path, ladder: str, lang: str) -> str:
    code, output = check(path, ladder, lang)
    assert code == 1, output
    fix = fixed(output, lang)
    code, output = check(path, fix, lang)
    assert code == 0, f"the fix {fix!r} does not pass:\n{output}"
    return fix


@pytest.mark.parametrize(
    "lang,ladder,expected",
    [
        # 5 must come first: the fix says so (it used to say "put 5 after 4").
        ("en", "4 if score >= 80, 5 if score >= 90, otherwise 3", "5 if score >= 90, 4 if score >= 80, otherwise 3"),
        ("zh", "若 得分 >= 80 则 4，若 得分 >= 90 则 5，否则 3", "若 得分 >= 90 则 5，若 得分 >= 80 则 4，否则 3"),
        # No 'otherwise' below a 1-star step: 'otherwise 1' would be a second error.
        ("en", "5 if score >= 90, 3 if score >= 70, 1 if score >= 50", "5 if score >= 90, 3 if score >= 70, 1 if score >= 50, otherwise 0"),
        ("zh", "若 得分 >= 90 则 5，若 得分 >= 50 则 1", "若 得分 >= 90 则 5，若 得分 >= 50 则 1，否则 0"),
        ("en", "5 if score >= 90, 0 if score >= 10", "5 if score >= 90, otherwise 0"),
        # Two steps for the same stars are joined with 'or'; an 'otherwise' above a step goes below it.
        ("en", "4 if score >= 80, 4 if patrol_coverage >= 90, else 3", "4 if (score >= 80) or (patrol_coverage >= 90), else 3"),
        ("zh", "若 得分 >= 80 则 4，若 得分 >= 60 则 2，否则 3", "若 得分 >= 80 则 4，若 得分 >= 60 则 2，否则 1"),
    ],
)
def test_the_fix_offered_is_the_ladder_that_passes(tmp_path: Path, lang: str, ladder: str, expected: str) -> None:
    assert apply_fix_and_check(tmp_path / "t.rules", ladder, lang) == expected


@settings(max_examples=25, deadline=None)
@given(
    stars=st.lists(st.integers(0, 10), min_size=1, max_size=5),
    otherwise=st.one_of(st.none(), st.integers(0, 10)),
    lang=st.sampled_from(["en", "zh"]),
)
def test_any_refused_ladder_fixed_as_told_passes(tmp_path_factory: pytest.TempPathFactory, stars: list[int],
                                                 otherwise: int | None, lang: str) -> None:
    thresholds = [90 - 10 * i for i in range(len(stars))]
    if lang == "en":
        steps = [f"{s} if score >= {t}" for s, t in zip(stars, thresholds)]
        steps += [f"otherwise {otherwise}"] if otherwise is not None else []
        ladder = ", ".join(steps)
    else:
        steps = [f"若 得分 >= {t} 则 {s}" for s, t in zip(stars, thresholds)]
        steps += [f"否则 {otherwise}"] if otherwise is not None else []
        ladder = "，".join(steps)
    path = tmp_path_factory.mktemp("ladder") / "t.rules"
    code, output = check(path, ladder, lang)
    given_order = [*stars, *([otherwise] if otherwise is not None else [])]
    passes = otherwise is not None and all(a > b for a, b in itertools.pairwise(given_order))
    assert (code == 0) == passes, output
    if not passes:
        apply_fix_and_check(path, ladder, lang)
