"""``gridcore fmt``: canonical, idempotent, meaning and comments kept (with hypothesis)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_toy import CHORES

from gridcore.rules import RulesError, parse_ruleset, parse_source
from gridcore.rules.formatter import format_source

MESSY = """\
# 家务 rules
ruleset   "玩具"
levels :community>grid >  unit


chores :
chore sweeping :5 per hour ,at most 40 per month   # trailing
\t  from 2025-01-01 :6 per hour
      # a comment before an item
   chore mopping: ( event.hours+1 )per hour,
        at most 10 per week
家务积分：
    家务 扫地 ： 每小时 5 分 ， 每月最多 40 分
"""

CANONICAL = """\
# 家务 rules
ruleset "玩具"
levels: community>grid > unit

chores:
  chore sweeping: 5 per hour, at most 40 per month  # trailing
    from 2025-01-01: 6 per hour
  # a comment before an item
  chore mopping: (event.hours+1) per hour,
      at most 10 per week

家务积分：
  家务 扫地：每小时 5 分，每月最多 40 分
"""


def test_messy_file_gets_the_canonical_layout() -> None:
    formatted = format_source(MESSY)
    assert formatted == CANONICAL
    assert format_source(formatted) == formatted
    assert parse_source(formatted, sections=[CHORES]) == parse_source(MESSY, sections=[CHORES])


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("\n\n# only\n\n") == "# only\n"


# ---------------------------------------------------------------------- hypothesis

NAMES = ["sweeping", "扫地", "活动室清扫", "mopping", "每日清扫", "a1", "x_y", '"quoted name"']
SPACE = st.sampled_from([" ", "  ", "\t", " \t "])
COMMA = st.sampled_from([",", "，", " ,", ", "])
COLON = st.sampled_from([":", "：", " :", ": "])


@st.composite
def exprs(draw: st.DrawFn, depth: int = 0) -> str:
    leaves = st.sampled_from(["1", "2.5", "event.hours", "记录.时长", "50%", "event.quantity"])
    if depth > 2 or draw(st.booleans()):
        return draw(leaves)
    kind = draw(st.sampled_from(["arith", "paren", "cond", "call"]))
    a, b = draw(exprs(depth + 1)), draw(exprs(depth + 1))
    if kind == "arith":
        return f"{a}{draw(SPACE)}{draw(st.sampled_from(['+', '*', '-', '/']))}{draw(SPACE)}{b}"
    if kind == "paren":
        return f"{draw(st.sampled_from(['(', '（']))}{a}{draw(st.sampled_from([')', '）']))}"
    if kind == "cond":
        word = draw(st.sampled_from([("if", "then", "else"), ("如果", "则", "否则")]))
        return f"({word[0]} event.hours >= {a} {word[1]} {b} {word[2]} 0)"
    return f"min({a}{draw(COMMA)}{b})"


@st.composite
def items(draw: st.DrawFn, name: str) -> str:
    amount = draw(exprs())
    english = draw(st.booleans())
    if english:
        line = f"chore {name}{draw(COLON)}({amount}){draw(SPACE)}per hour"
        if draw(st.booleans()):
            line += f"{draw(COMMA)}at most {draw(st.integers(1, 99))} per month"
    else:
        line = f"家务 {name}{draw(COLON)}每小时 ({amount}) 分"
        if draw(st.booleans()):
            line += f"{draw(COMMA)}每月最多 {draw(st.integers(1, 99))} 分"
    if draw(st.booleans()):
        line += "  # note " + draw(st.sampled_from(["a", "说明", "x: y"]))
    indent = draw(st.sampled_from(["", "  ", "    ", "\t"]))
    out = [indent + line]
    for year in sorted(draw(st.sets(st.integers(2020, 2030), max_size=2))):
        word = draw(st.sampled_from(["from", "自"]))
        out.append(f"{draw(SPACE)}{word} {year}-01-01{draw(COLON)}{amount} per hour")
    return "\n".join(out)


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    lines = []
    if draw(st.booleans()):
        lines.append('ruleset "r"')
    if draw(st.booleans()):
        lines.append("levels: community > grid")
    lines.append(draw(st.sampled_from(["chores:", "家务积分：", "chores :"])))
    for name in names:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# comment", "   # 注释"])))
        lines.append(draw(items(name)))
    if draw(st.booleans()):
        lines.append("  bonus: 2 if event.hours >= 4, otherwise 0")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


def comments(text: str) -> list[str]:
    return [m.group(0).rstrip() for m in re.finditer(r"#[^\n]*", text)]


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rulesets())
def test_format_keeps_meaning_and_comments_and_is_idempotent(text: str) -> None:
    parsed = parse_source(text, sections=[CHORES])
    formatted = format_source(text)
    assert parse_source(formatted, sections=[CHORES]) == parsed
    assert format_source(formatted) == formatted
    assert comments(formatted) == comments(text)
    # and the formatted file still compiles to a ruleset
    parse_ruleset(formatted, sections=[CHORES])


GRAMMARISH = st.text(
    alphabet=st.sampled_from(list("chores: 家务积分：每小时分最多月 perhourat most,，()（）#\"\n\t12.5%"
                                  "_ifthenelse如果则否则event.hours>=-*/[]【】")),
    max_size=120,
)


@SETTINGS
@given(st.one_of(st.text(max_size=200), GRAMMARISH))
def test_random_text_only_ever_raises_rules_error(text: str) -> None:
    try:
        parse_ruleset(text, sections=[CHORES])
    except RulesError:
        pass
    formatted = format_source(text)
    assert format_source(formatted) == formatted


def test_every_ruleset_in_the_repository_formats_without_changing_meaning() -> None:
    from pathlib import Path

    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    repo = Path(__file__).resolve().parent.parent
    sections = Hooks(get_plugin_manager()).register_sections()
    files = sorted([*repo.glob("rulesets/**/*.rules"), *repo.glob("tests/data/**/*.rules")])
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        formatted = format_source(text)
        assert format_source(formatted) == formatted, path
        assert comments(formatted) == comments(text), path
        try:
            before = parse_source(text, sections=sections, file=path.name)
        except RulesError:
            continue  # a deliberately broken fixture: formatting it is still idempotent
        assert parse_source(formatted, sections=sections, file=path.name) == before, path


WORDS = ["points:", "积分：", "assessment:", "escalation:", "\n  ", "\n    ", "activity", "活动",
         "志愿服务", ":", "：", "5", "per", "hour", "每小时", "分", ",", "，", "at most", "month",
         "when", "member.party_member", "stars", "if", "score", ">=", "90", "otherwise", "否则",
         "from 2025-01-01:", "incident", "fire_hazard", "community", "limit", "remove", "override",
         "levels: community > grid > unit\n", "cap", "tilt", "x 1.5", "reward", "(", ")", '"', "#",
         "48h", "3 days", "period", "quarter", "rate", "grid", "metric", "weight"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join))
def test_word_soup_with_the_built_in_sections_only_raises_rules_error(text: str) -> None:
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    sections = Hooks(get_plugin_manager()).register_sections()
    try:
        parse_ruleset(text, sections=sections)
    except RulesError:
        pass
