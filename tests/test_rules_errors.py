"""Golden tests: the exact messages for a catalogue of realistic mistakes (English and Chinese).

Each was tried as a new user would; the message says where, what was expected and what to change.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules_toy import CHORES

from gridcore.rules import RulesError, parse_ruleset
from gridcore.rules.catalogue import chinese_number

GOLDEN: dict[str, tuple[str, str, str]] = {
    "misspelt_keyword": (
        "chores:\n  chor sweeping: 5 per hour\n",
        "en",
        ("t.rules:2:3: error: this is not a known item (found 'chor')\n"
        "      chor sweeping: 5 per hour\n"
        "      ^^^^\n"
        "  expected: 'bonus' (奖励), 'chore' (家务), 'limit' (限定), 'override' (覆盖)\n"
        "  did you mean: chore\n"
        "  fix: start the line with one of the item words listed\n"
        "1 error"),
    ),
    "misspelt_keyword_zh": (
        "家务积分：\n  家物 扫地：每小时 5 分\n",
        "zh",
        ("t.rules:2:3: 错误: 这不是已知的条目（此处是 '家物'）\n"
        "      家物 扫地：每小时 5 分\n"
        "      ^^^^\n"
        "  应为: '奖励' (bonus)、'家务' (chore)、'限定' (limit)、'覆盖' (override)\n"
        "  是不是想写: 家务\n"
        "  修改: 以下列条目词之一开头\n"
        "共 1 个错误"),
    ),
    "missing_colon": (
        "chores:\n  chore sweeping 5 per hour\n",
        "en",
        ("t.rules:2:18: error: a colon is missing (found '5')\n"
        "      chore sweeping 5 per hour\n"
        "                     ^\n"
        "  expected: ':'\n"
        "  fix: put ':' (or '：') between the item's name and its rule\n"
        "1 error"),
    ),
    "missing_colon_zh": (
        "家务积分：\n  家务 扫地 每小时 5 分\n",
        "zh",
        "t.rules:2:9: 错误: 缺少冒号（此处是 '每'）\n      家务 扫地 每小时 5 分\n                ^^\n  应为: '：'\n  修改: 在条目名称和规则之间加上 '：'\n共 1 个错误",
    ),
    "unknown_activity": (
        'chores:\n  chore sweeping: 5 per hour\n  bonus: 2 if event.activity == "sweepin", otherwise 0\n',
        "en",
        ("t.rules:3:33: error: unknown activity 'sweepin'\n"
         '      bonus: 2 if event.activity == "sweepin", otherwise 0\n'
         '                                    ^^^^^^^^^\n'
         '  expected: sweeping\n'
         '  did you mean: sweeping\n'
         '  fix: use one of the activity names listed, or declare it in the ruleset\n'
         '1 error'),
    ),
    "unknown_level": (
        "levels: community > grid\nchores:\n  limit x: gird\n",
        "en",
        ("t.rules:3:12: error: unknown level 'gird'\n"
         '      limit x: gird\n'
         '               ^^^^\n'
         '  expected: community, grid\n'
         '  did you mean: grid\n'
         '  fix: use one of the level names listed, or declare it in the ruleset\n'
         '1 error'),
    ),
    "wrong_unit": (
        "chores:\n  chore sweeping: 5 per hour, at most 40 per mnth\n",
        "en",
        ("t.rules:2:46: error: this word does not fit here (found 'mnth')\n"
         '      chore sweeping: 5 per hour, at most 40 per mnth\n'
         '                                                 ^^^^\n'
         "  expected: 'days' / 'day' (天), 'months' / 'month' (个月), 'quarters' / 'quarter' (季度), 'weeks' / 'week' (周), 'years' / 'year' (年)\n"
         '  did you mean: month\n'
         "  fix: use one of the words listed under 'expected'\n"
         '1 error'),
    ),
    "value_without_unit": (
        "chores:\n  chore sweeping: 5\n",
        "en",
        ("t.rules:2:20: error: a value is missing its unit\n"
        "      chore sweeping: 5\n"
        "                       ^\n"
        "  expected: 'per' / 'each' (每), 'points' / 'point' (分)\n"
        "  fix: write the unit after the number, e.g. '5 points' or '48h'\n"
        "1 error"),
    ),
    "value_without_unit_zh": (
        "家务积分：\n  家务 扫地：每小时 5\n",
        "zh",
        "t.rules:2:14: 错误: 数值缺少单位\n      家务 扫地：每小时 5\n                         ^\n  应为: '分' (points)\n  修改: 在数字后写上单位，例如 '5 分' 或 '48小时'\n共 1 个错误",
    ),
    "mixed_indentation": (
        "chores:\n \t chore sweeping: 5 per hours\n  chore mopping: 5 per hour,\n",
        "en",
        ("t.rules:2:1: warning: this line's indentation mixes tabs and spaces\n"
        "     \t chore sweeping: 5 per hours\n"
        "    ^^^\n"
        "  fix: indent with spaces only (gridcore fmt does it)\n"
        "t.rules:3:29: error: the item ends with a comma\n"
        "      chore mopping: 5 per hour,\n"
        "                                ^\n"
        "  expected: 'at most' (最多), 'per' / 'each' (每)\n"
        "  fix: remove the comma, or continue the item on the next line, indented deeper\n"
        "1 error"),
    ),
    "unknown_section": (
        "chorse:\n  chore x: 1 per hour\n",
        "en",
        "t.rules:1:1: error: unknown section 'chorse'\n    chorse:\n    ^^^^^^\n  expected: 'chores:'\n  did you mean: chores\n  fix: use the header of an installed section (a plugin disabled with -p no:NAME brings none)\n1 error",
    ),
    "unknown_field": (
        "chores:\n  chore sweeping: event.hourss per hour\n",
        "en",
        ("t.rules:2:19: error: 'event' has no field 'hourss'\n"
        "      chore sweeping: event.hourss per hour\n"
        "                      ^^^^^^^^^^^^\n"
        "  expected: id, time, actor, node, activity, member, hours, quantity, note\n"
        "  did you mean: event.hours\n"
        "1 error"),
    ),
    "type_mismatch": (
        'chores:\n  chore sweeping: "5" per hour\n',
        "en",
        't.rules:2:19: error: expected a number here, but this is text\n      chore sweeping: "5" per hour\n                      ^^^\n  expected: a number\n1 error',
    ),
    "unclosed_bracket": (
        "chores:\n  chore sweeping: (5 per hour\n  chore mopping: 1 per hour\n",
        "en",
        "t.rules:2:19: error: this bracket is opened but never closed\n      chore sweeping: (5 per hour\n                      ^\n  fix: add the closing bracket\n1 error",
    ),
    'levels_missing_colon': (
        'levels community > grid\n',
        'en',
        ("t.rules:1:8: error: a colon is missing after 'levels' (found 'community')\n"
         '    levels community > grid\n'
         '           ^^^^^^^^^\n'
         "  expected: ':'\n"
         '  fix: write levels: community > grid > unit\n'
         '1 error'),
    ),
    'unfinished_expression': (
        'chores:\n  bonus: 2 if event.hours >=, otherwise 0\n',
        'en',
        ("t.rules:2:29: error: the expression is unfinished (found ',')\n"
         '      bonus: 2 if event.hours >=, otherwise 0\n'
         '                                ^\n'
         '  expected: a value or expression\n'
         '  fix: add the value after the operator\n'
         '1 error'),
    ),
    'dated_missing_colon_zh': (
        '家务积分：\n  家务 扫地：每小时 5 分\n    自 2025-01-01 起 每小时 6 分\n',
        'zh',
        ("t.rules:3:20: 错误: 日期后面缺少冒号（此处是 '每'）\n"
         '        自 2025-01-01 起 每小时 6 分\n'
         '                         ^^\n'
         "  应为: '：'\n"
         '  修改: 写成 自 2025-01-01 起：再接新的规则\n'
         '共 1 个错误'),
    ),
    'unknown_name_zh': (
        '家务积分：\n  家务 扫地：每小时 (记录.时长 * 工时) 分\n',
        'zh',
        ("t.rules:2:22: 错误: 未知的名称 '工时'\n"
         '      家务 扫地：每小时 (记录.时长 * 工时) 分\n'
         '                                     ^^^^\n'
         '  应为: event、记录、member、成员\n'
         '共 1 个错误'),
    ),
    'empty_rule': (
        'chores:\n  bonus:\n  chore a: 1 per hour\n',
        'en',
        ('t.rules:2:9: error: nothing follows the colon\n'
         '      bonus:\n'
         '            ^\n'
         '  expected: a value or expression\n'
         '  fix: write the rule after the colon, on the same line\n'
         '1 error'),
    ),
    'glued_keyword_zh': (
        '家务积分：\n  家务扫地：每小时 5 分\n',
        'zh',
        ("t.rules:2:3: 错误: 关键词和名称连在一起了（此处是 '家务扫地'）\n"
         '      家务扫地：每小时 5 分\n'
         '      ^^^^^^^^\n'
         "  应为: '奖励' (bonus)、'家务' (chore)、'限定' (limit)、'覆盖' (override)\n"
         '  是不是想写: 家务 扫地\n'
         '  修改: 在关键词和名称之间加一个空格\n'
         '共 1 个错误'),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_message(name: str) -> None:
    text, lang, expected = GOLDEN[name]
    with pytest.raises(RulesError) as info:
        parse_ruleset(text, sections=[CHORES], name="t.rules")
    assert info.value.render(lang) == expected


def test_every_error_of_a_file_is_reported_at_once() -> None:
    text = (
        "chores:\n"
        "  chor sweeping: 5 per hour\n"  # misspelt keyword
        "  chore mopping 5 per hour\n"  # missing colon
        "  chore washing: event.hourz per hour\n"  # unknown field
        "  chore dusting: 5 per hour\n"  # fine
        "  bonus: 2 if event.activity == \"dustin\", otherwise 0\n"  # unknown activity
    )
    with pytest.raises(RulesError) as info:
        parse_ruleset(text, sections=[CHORES], name="t.rules")
    assert [(d.line, d.column) for d in info.value.errors] == [(2, 3), (3, 17), (4, 18), (6, 33)]
    assert str(info.value).endswith("4 errors")


def test_locale_chooses_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcore.rules.errors import default_lang

    for var in ("GRIDCORE_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert default_lang() == "en"


def test_simple_error_and_its_text() -> None:
    error = RulesError.simple("ruleset 'x' expects levels a > b", "规则集 'x' 需要层级 a > b")
    assert str(error) == "<ruleset>: error: ruleset 'x' expects levels a > b\n1 error"
    assert "规则集" in error.render("zh")
    assert isinstance(error, __import__("gridcore").GridcoreError)


def test_a_plugin_compiler_crash_is_not_blamed_on_the_author() -> None:
    from gridcore.errors import PluginError
    from gridcore.rules import ItemKind, Section

    def crash(items: object, ctx: object) -> object:
        raise ZeroDivisionError("oops")

    broken = Section(name="broken", headers=("broken",), items=(ItemKind("x", ("x",), "broken_v"),),
                     grammar="broken_v: expr\n", compile=crash)
    with pytest.raises(PluginError, match="the compiler of section 'broken' failed") as info:
        parse_ruleset("broken:\n  x a: 1\n", sections=[broken])
    assert "ZeroDivisionError: oops; the plugin that registers it has a bug" in str(info.value)
    assert "不是规则文件的错误" in str(info.value)


def test_tabs_on_some_lines_and_spaces_on_others() -> None:
    ruleset = parse_ruleset("chores:\n  chore a: 1 per hour\n\tchore b: 2 per hour\n", sections=[CHORES],
                            name="t.rules")
    (warning,) = ruleset.warnings
    assert warning.render() == (
        "t.rules:3:1: warning: this line is indented with tabs but earlier lines with spaces\n"
        "    \tchore b: 2 per hour\n    ^\n  fix: indent with spaces only (gridcore fmt does it)")


def test_numbers_written_in_words() -> None:
    with pytest.raises(RulesError) as info:
        parse_ruleset("chores:\n  chore a: five per hour\n  chore b: 1 per hour, 每月最多 十 分\n",
                      sections=[CHORES], name="t.rules")
    first, second = info.value.errors
    assert first.message == "unknown name 'five'" and first.fix == "write 5, not five"
    assert second.message == "unknown name '十'"
    assert second.fix == "write 10, not 十"


def test_a_keyword_glued_to_a_number_in_words_is_told_both_fixes_at_once() -> None:
    """``每月最多三十``: a space alone would leave ``三十``, refused on the next check; the suggestion is the
    keyword, a space and the number in digits, and a keyword glued to a name is told as before."""
    with pytest.raises(RulesError) as info:
        parse_ruleset("家务积分：\n  家务 扫地：每小时 1 分，每月最多三十 分\n  家务拖地：每小时 1 分\n",
                      sections=[CHORES], name="t.rules")
    number, name = info.value.errors
    assert number.message == "a keyword and a name are written together (found '最多三十')"
    assert number.suggestion == "最多 30"
    assert number.fix == "put a space between the keyword and the number, written with digits: 最多 30"
    assert number.fix_zh == "在关键词和数字之间加一个空格，并用阿拉伯数字书写：最多 30"
    assert (name.suggestion, name.fix) == ("家务 拖地", "put a space between the keyword and the name")
    fixed = "家务积分：\n  家务 扫地：每小时 1 分，每月最多 30 分\n  家务 拖地：每小时 1 分\n"
    parse_ruleset(fixed, sections=[CHORES], name="t.rules")


def _numeral(n: int) -> str:
    """``n`` (1 to 9,999) in Chinese numerals as people write it: 十二, 一百零五, 两千零一十."""
    digits = "零一二三四五六七八九"
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(("两" if d == 2 and value >= 1000 else digits[d]) + unit)
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


@given(st.integers(min_value=1, max_value=9999), st.sampled_from(["", "分", "件", "次", "小时"]))
def test_chinese_numerals_read_as_their_number(n: int, unit: str) -> None:
    """What an error suggests for a number in Chinese numerals is that number: 四十分 -> 40 (then 分)."""
    assert chinese_number(_numeral(n) + unit) == (n, len(_numeral(n)))


def test_a_time_limit_as_a_notice_writes_it_is_told_the_fix_that_reads() -> None:
    """What staff write from a notice, each told the fix that makes the line read (checked by parsing it):
    a number in numerals (两小时内受理, 七天内: not 当天内, a 'misspelt' keyword), a word left out (2小时受理:
    内), a word too many (受理 2 小时内: 内)."""
    from gridcore_escalation.section import section as escalation

    def error(line: str) -> RulesError:
        with pytest.raises(RulesError) as info:
            parse_ruleset(f"ruleset t\nlevels: street > community > grid > unit\n\n事件流转：\n  {line}\n",
                          sections=[escalation()], name="t.rules")
        return info.value

    numeral = error("时限 grid：两小时内受理，3个工作日内办结").errors[0]
    assert (numeral.suggestion, numeral.fix_zh) == ("2小时内受理", "写成 2小时内受理，不要写 '两小时内受理'")
    week = error("提级 反复：七天内 反复上报 3 次").errors[0]
    assert (week.suggestion, week.fix) == ("7天内", "write 7天内, not 七天内")
    missing = error("时限 grid：2小时受理，3个工作日内办结").errors[0]
    assert (missing.message_zh, missing.suggestion) == ("'受理' 前缺少 '内'（此处是 '受理'）", "内受理")
    extra = error("时限 grid：受理 2 小时内，办结 3 个工作日").errors[0]
    assert (extra.message_zh, extra.fix_zh) == ("此处不需要 '内'（此处是 '内'）", "删去 '内'")
    for fixed in ("时限 grid：2小时内受理，3个工作日内办结", "提级 反复：7天内 反复上报 3 次",
                  "时限 grid：受理 2 小时，办结 3 个工作日"):
        parse_ruleset(f"ruleset t\nlevels: street > community > grid > unit\n\n事件流转：\n  {fixed}\n",
                      sections=[escalation()], name="t.rules")
