"""A catalogue of the mistakes staff really make, each with what to change.

Mistakes in the core's own lines are recognised with Lark's
``match_examples`` (the parser state of the error is compared with the state
reached by each malformed example); mistakes inside a section's items are
recognised from what the parser expected at that point (a missing colon, a
value without its unit, an unfinished comparison).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

if TYPE_CHECKING:
    from .grammar_build import Grammar

Explained = tuple[str, str, str, str]

#: label -> malformed examples, for the core's own start rules
EXAMPLES: Mapping[str, Mapping[str, list[str]]] = {
    "preamble_line": {
        "levels_colon": ["levels community > grid", "层级 社区 > 网格"],
        "levels_separator": ["levels: community, grid", "层级：社区，网格"],
        "ruleset_name": ["ruleset", "规则集", "extends", "继承"],
    },
    "expr": {
        "unfinished": ["event.hours >=", "1 +", "a and", "event.hours >= 2 and"],
        "double_operator": ["1 + + 2", "event.hours >= >= 2"],
    },
}

MESSAGES: Mapping[str, Explained] = {
    "levels_colon": ("a colon is missing after 'levels'", "'层级' 后面缺少冒号",
                     "write levels: community > grid > unit", "写成 层级：社区 > 网格 > 单元"),
    "levels_separator": ("levels are separated by '>'", "层级之间用 '>' 分隔",
                         "write levels: community > grid > unit", "写成 层级：社区 > 网格 > 单元"),
    "ruleset_name": ("a name is missing", "缺少名称", 'add the name in quotes, e.g. ruleset "银泉社区"',
                     '加上带引号的名称，例如 规则集 "银泉社区"'),
    "unfinished": ("the expression is unfinished", "表达式不完整",
                   "add the value after the operator", "在运算符后补上数值"),
    "double_operator": ("two operators in a row", "连续出现两个运算符",
                        "remove one of them", "删掉其中一个"),
    "ends_early": ("the line ends too early", "这一行提前结束了",
                   "finish the item with one of the things listed under 'expected'",
                   "用'应为'中列出的内容把条目写完整"),
    "number_in_words": ("a number is expected here, written with digits", "这里应是数字（用阿拉伯数字）",
                        "write the number with digits, e.g. 5", "用阿拉伯数字书写，例如 5"),
    "empty_rule": ("nothing follows the colon", "冒号后面没有内容",
                   "write the rule after the colon, on the same line",
                   "在冒号后面（同一行）写上规则"),
    "trailing_comma": ("the item ends with a comma", "条目以逗号结尾",
                       "remove the comma, or continue the item on the next line, indented deeper",
                       "删掉逗号，或在下一行（缩进更深）接着写"),
    "dated_colon": ("a colon is missing after the date", "日期后面缺少冒号",
                    "write from 2025-01-01: followed by the new rule",
                    "写成 自 2025-01-01 起：再接新的规则"),
    "wrong_word": ("this word does not fit here", "这个词用在这里不对",
                   "use one of the words listed under 'expected'", "改用'应为'中列出的词"),
    "missing_colon": ("a colon is missing", "缺少冒号",
                      "put ':' (or '：') between the item's name and its rule",
                      "在条目名称和规则之间加上 '：'"),
    "missing_unit": ("a value is missing its unit", "数值缺少单位",
                     "write the unit after the number, e.g. '5 points' or '48h'",
                     "在数字后写上单位，例如 '5 分' 或 '48小时'"),
    "name_expected": ("a name is expected here", "这里应是名称",
                      "write the item's name (quote it if it is unusual)",
                      "写上条目名称（特殊名称请加引号）"),
    "keyword_expected": ("this is not a known item", "这不是已知的条目",
                         "start the line with one of the item words listed", "以下列条目词之一开头"),
}

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "hundred": 100,
    "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
    "九": 9, "十": 10, "二十": 20, "三十": 30, "四十": 40, "五十": 50, "一百": 100,
}
_DIGIT_WORDS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                "九": 9}
_MAGNITUDES = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> tuple[int, int] | None:
    """The number a run of Chinese numerals at the start of ``text`` writes, and how many characters it takes.

    ``四十分`` -> (40, 2), ``十二件`` -> (12, 2), ``一百二十`` -> (120, 4), ``两`` -> (2, 1); None if ``text``
    does not start with one.  Up to 9,999 (what a points list or a time limit holds); a run that is not a
    well-formed number (``三三``) reads as far as it is one.
    """
    total, digit, used, last_magnitude = 0, None, 0, 10_000
    for i, ch in enumerate(text):
        if ch in _DIGIT_WORDS:
            if digit is not None and digit != 0:
                break  # two digits in a row (三三): the number ended before
            digit = _DIGIT_WORDS[ch]
            used = i + 1
        elif ch in _MAGNITUDES:
            magnitude = _MAGNITUDES[ch]
            if magnitude >= last_magnitude:
                break
            total += (1 if digit is None else digit) * magnitude
            digit, last_magnitude, used = None, magnitude, i + 1
        else:
            break
    if used == 0:
        return None
    return total + (digit or 0), used


_PUNCTUATION = {"COLON", "COMMA", "LPAR", "RPAR", "LSQB", "RSQB", "DOT", "PERCENT"}
_UNIT_TERMS = {"_MINUTE", "_HOUR", "_DAY", "_WEEK", "_PERCENT"}


def explain_mistake(exc: UnexpectedInput, grammar: Grammar, start: str,
                    code: str, at: int | None = None) -> Explained | None:
    """(message, message_zh, fix, fix_zh) for a recognised mistake, else None.

    ``code`` is the logical line's code; ``at`` where in it the error is.
    """
    examples = EXAMPLES.get(start)
    if examples is not None and exc.state is not None:
        def parse(text: str) -> Tree[Token]:
            return grammar.lark.parse(text, start=start)

        try:
            label = exc.match_examples(parse, examples, use_accepts=True)
        except (AssertionError, UnexpectedInput):
            label = None
        if label is not None:
            return MESSAGES[label]
    token_type = exc.token.type if isinstance(exc, UnexpectedToken) else ""
    if token_type in ("CMP", "MULOP") and at is not None and _after_operator(code[:at]):
        return MESSAGES["double_operator"]
    if code.rstrip()[-1:] in (",", "，", "、") and token_type in ("$END", ""):
        return MESSAGES["trailing_comma"]
    if code.rstrip()[-1:] in (":", "：") and token_type in ("$END", ""):
        return MESSAGES["empty_rule"]
    expected = set(grammar.keywords_expected(getattr(exc, "accepts", None)
                                             or getattr(exc, "expected", None)
                                             or getattr(exc, "allowed", None) or ()))
    if "_COLON" in expected and ":" not in code and "：" not in code:
        return MESSAGES["dated_colon" if "__dated_" in start else "missing_colon"]
    if {"NAME", "NUMBER", "_LPAR"} <= expected and token_type in ("$END", "_COMMA", "_RPAR", ""):
        return MESSAGES["unfinished"]
    if "NAME" in expected and start.endswith("__item") and len(expected) <= 3:
        return MESSAGES["name_expected"]
    if start.endswith("__item") and expected and all(t.startswith("_ITEM_") or t == "_OVERRIDE"
                                                     for t in expected):
        return MESSAGES["keyword_expected"]
    if "NUMBER" in expected and "NAME" not in expected and token_type == "NAME":
        word = str(getattr(exc, "token", "")).lower()
        digits = NUMBER_WORDS.get(word)
        en, zh, fix, fix_zh = MESSAGES["number_in_words"]
        if digits is not None:
            return en, zh, f"write {digits}, not {word}", f"写成 {digits}，不要写 '{word}'"
        numeral = chinese_number(word)
        rest = word[numeral[1]:] if numeral is not None else ""
        if numeral is not None and (not rest or any(rest in forms for forms in grammar.keywords.values())):
            # 十分, 四十分, 两件: a number in words glued to its unit
            written = f"{numeral[0]} {rest}".rstrip()
            return en, zh, f"write {written}, not {word}", f"写成 {written}，不要写 '{word}'"
        return en, zh, fix, fix_zh
    keywords_only = bool(expected) and all(
        t.startswith("_") and t.lstrip("_") not in _PUNCTUATION for t in expected)
    wordlike = token_type == "NAME" or (
        token_type.startswith("_") and token_type.lstrip("_") not in _PUNCTUATION)
    if keywords_only and wordlike:
        return MESSAGES["wrong_word"]
    unit_like = [t for t in expected if t in _UNIT_TERMS or _is_section_unit(grammar, t)]
    if unit_like and token_type in ("$END", "_COMMA", "") and len(unit_like) >= 1 and \
            "NUMBER" not in expected:
        return MESSAGES["missing_unit"]
    if token_type in ("$END", ""):
        return MESSAGES["ends_early"]
    return None


#: The end of a comparison or arithmetic operator (``>=``, ``＋``, ``×`` ...).
_OPERATOR_END = re.compile(r"(<=|>=|==|!=|[<>=+\-*/\u2264\u2265\u2260\uff1c\uff1e\uff1d\uff0b\uff0d\uff0a\uff0f\u00d7\u00f7])$")


def _after_operator(before: str) -> bool:
    """True if the code ``before`` an unexpected operator ends with another one (``>= >= 2``)."""
    return bool(_OPERATOR_END.search(before.rstrip()))


def _is_section_unit(grammar: Grammar, term: str) -> bool:
    bare = term.lstrip("_")
    for section in grammar.sections.values():
        if bare in section.keywords and bare.endswith(("UNIT", "POINTS", "STARS")):
            return True
    return False
