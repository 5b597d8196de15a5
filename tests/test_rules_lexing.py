"""Chinese as a first-class authoring language: keywords, identifiers, full-width punctuation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rules_toy import CHORES

from gridcore.rules import RulesError, parse_expression, parse_ruleset, parse_source
from gridcore.rules import ast as A


def chores(text: str) -> A.SectionBlock:
    parsed = parse_source(text, sections=[CHORES], file="t.rules")
    block = parsed.sections[0]
    return block


def test_the_issue_example_in_chinese() -> None:
    block = chores("家务积分：\n  家务 志愿服务：每小时 5 分，每月最多 40 分\n")
    (item,) = block.items
    assert item.kind == "chore" and item.name == A.Name("志愿服务")
    amount, cap = item.body.children
    assert amount.kind == "chores_per_hour" and amount.first("expr") == A.Literal("number", 5)
    assert cap.first("period") == A.Value("period", "month")
    assert cap.first("expr") == A.Literal("number", 40)


def test_chinese_and_english_forms_give_the_same_tree() -> None:
    zh = chores("家务积分：\n  家务 扫地：每小时 5 分，每月最多 40 分\n").items[0]
    en = chores("chores:\n  chore 扫地: per hour 5 points, per month at most 40 points\n").items[0]
    assert zh == en


def test_keywords_run_together_without_spaces() -> None:
    item = chores("家务积分：\n  家务 扫地：每小时5分，每月最多40分\n").items[0]
    assert item.body.children[1].first("expr") == A.Literal("number", 40)


@pytest.mark.parametrize("name", ["活动室清扫", "每小时清扫", "家务整理", "最多人参加", "分类回收"])
def test_identifiers_that_begin_with_a_keyword(name: str) -> None:
    item = chores(f"家务积分：\n  家务 {name}：每小时 5 分\n").items[0]
    assert item.name == A.Name(name)


def test_a_keyword_spelt_as_a_name_in_a_name_position() -> None:
    item = chores("chores:\n  chore per: 5 per hour\n").items[0]
    assert item.name == A.Name("per")


def test_fullwidth_punctuation_means_the_same() -> None:
    ascii_ = parse_expression("min(event.hours, 4) * 2")
    full = parse_expression("min（event.hours，4）* 2")
    assert ascii_ == full
    assert parse_expression("【1，2】") == parse_expression("[1, 2]")
    assert parse_expression("80％") == A.Literal("number", 0.8)


def test_chinese_operators_and_conditionals() -> None:
    e = parse_expression("如果 成员.党员 且 不 记录.时长 < 2 则 6 否则 5")
    assert isinstance(e, A.Conditional)
    assert isinstance(e.test, A.Binary) and e.test.op == "and"
    assert parse_expression("成员.角色 属于 [\"网格长\", \"单元长\"]").ops == ("in",)
    assert parse_expression("a 不 属于 [1]").ops == ("not_in",)


def test_durations_in_both_languages() -> None:
    assert parse_expression("48h") == A.Literal("duration", timedelta(hours=48))
    assert parse_expression("3 days") == A.Literal("duration", timedelta(days=3))
    assert parse_expression("48小时") == A.Literal("duration", timedelta(hours=48))
    assert parse_expression("3天") == A.Literal("duration", timedelta(days=3))
    assert parse_expression("30 分钟") == A.Literal("duration", timedelta(minutes=30))


def test_english_keywords_ignore_case_and_never_match_inside_words() -> None:
    assert chores("Chores:\n  CHORE x: 5 Per Hour\n").items[0].name == A.Name("x")
    e = parse_expression("income + notable")
    assert e == A.Binary("+", A.Var("income"), A.Var("notable"))


def test_quoted_names_and_chinese_quotes() -> None:
    item = chores("chores:\n  chore \"每日 一练\": 1 per hour\n  chore “晨练”: 2 per hour\n")
    assert [i.name for i in item.items] == [A.Name("每日 一练"), A.Name("晨练")]


def test_comments_continuations_and_dated_lines() -> None:
    text = (
        "# 家务\n"
        "chores:  # header comment\n"
        "  chore sweeping: 5 per hour,   # trailing comma continues\n"
        "      at most 40 per month\n"
        "    from 2025-01-01: 6 per hour\n"
        "    自 2026-01-01 至 2026-07-01 起：每小时 7 分\n"
    )
    (item,) = chores(text).items
    assert [(v.since, v.until) for v in item.versions][1:] == [
        (__import__("datetime").date(2025, 1, 1), None),
        (__import__("datetime").date(2026, 1, 1), __import__("datetime").date(2026, 7, 1)),
    ]
    assert item.versions[2].ref.line == 6


def test_ruleset_preamble_in_chinese() -> None:
    parsed = parse_source('规则集 "银泉社区"\n层级：社区 > 网格 > 单元\n家务积分：\n  家务 a：每小时 1 分\n',
                          sections=[CHORES])
    assert parsed.name == "银泉社区" and parsed.levels == ("社区", "网格", "单元")


def test_levels_need_greater_than() -> None:
    with pytest.raises(RulesError, match="levels are separated by '>'"):
        parse_ruleset("levels: community < grid\n", sections=[CHORES])


def test_windows_files_with_a_byte_order_mark_and_crlf() -> None:
    text = "\ufeffchores:\r\n  chore 扫地: 5 per hour\r\n"
    assert chores(text).items[0].name == A.Name("扫地")
    from gridcore.rules.formatter import format_source

    assert format_source(text) == "chores:\n  chore 扫地: 5 per hour\n"


def test_fullwidth_digits_are_numbers() -> None:
    from datetime import date

    assert parse_expression("５ + ２.５") == parse_expression("5 + 2.5")
    assert parse_expression("２０２５-０１-０１") == A.Literal("date", date(2025, 1, 1))


def test_levels_with_their_chinese_names() -> None:
    ruleset = parse_ruleset("层级：community（社区）> grid (网格) > unit (单元)\n家务积分：\n  限定 甲：网格\n"
                            "  limit b: unit\n", sections=[CHORES])
    assert ruleset.levels == ("community", "grid", "unit")
    assert ruleset.level_names == {"community": "社区", "grid": "网格", "unit": "单元"}
    with pytest.raises(RulesError, match="unknown level '网络'"):
        parse_ruleset("levels: grid (网格)\nchores:\n  limit a: 网络\n", sections=[CHORES])
