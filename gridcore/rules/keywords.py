"""Keywords: their English and Chinese forms, and the lexer patterns built from them.

Chinese is written without spaces, so a keyword pattern must not swallow the
start of an identifier (``活动室`` is a name, not ``活动`` + ``室``) while still
splitting runs of keywords (``每月最多`` is ``每`` ``月`` ``最多``).  Each keyword's
pattern therefore ends with a lookahead: after a Chinese form, the next
character must not be a Chinese character unless another keyword starts there;
after an English form, no letter, digit or underscore may follow.  (Only the
first character of the next keyword is checked: a name glued to a keyword
without a space, ``活动每日一练``, needs the space or quotes.)
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: "The next character is not a letter or digit outside ASCII": the lookahead after
#: a Chinese keyword form.  It is written with the ``\w`` category rather than the
#: ranges of CJK: a class of tens of thousands of characters takes Python's ``re``
#: milliseconds to compile, once per keyword in every lexer state's pattern, which
#: made loading a parser slow.  Every Chinese character is such a letter.
NOT_CJK_NEXT = r"(?![^\W\d_A-Za-z])"

#: The core's keywords: terminal -> forms.  Sections reuse these by name.
CORE_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "RULESET": ("ruleset", "规则集"),
    "EXTENDS": ("extends", "继承"),
    "LEVELS": ("levels", "层级"),
    "APPLIES": ("applies to", "适用于"),
    "FROM": ("from", "自", "从"),
    "UNTIL": ("until", "至", "到"),
    "SINCE_END": ("起",),
    "REMOVE": ("remove", "删除"),
    "OVERRIDE": ("override", "覆盖"),
    "IF": ("if", "如果", "若"),
    "THEN": ("then", "则", "那么"),
    "ELSE": ("else", "otherwise", "否则", "其他", "其余"),
    "AND": ("and", "且", "并且", "而且"),
    "OR": ("or", "或", "或者"),
    "NOT": ("not", "不", "非"),
    "IN": ("in", "属于"),
    "TRUE": ("true", "yes", "真"),
    "FALSE": ("false", "no", "假"),
    "PER": ("per", "each", "每"),
    "MINUTE": ("minutes", "minute", "mins", "min", "分钟"),
    "HOUR": ("hours", "hour", "h", "小时", "个小时"),
    "DAY": ("days", "day", "d", "天", "日"),
    "WEEK": ("weeks", "week", "w", "周", "星期"),
    "MONTH": ("months", "month", "个月", "月"),
    "QUARTER": ("quarters", "quarter", "季度", "季"),
    "YEAR": ("years", "year", "年"),
}

#: human words for terminals in messages: (English, Chinese)
PUNCTUATION_WORDS: Mapping[str, tuple[str, str]] = {
    "NAME": ("a name", "名称"),
    "STRING": ('a quoted text like "…"', "带引号的文本"),
    "NUMBER": ("a number", "数字"),
    "DATE": ("a date like 2025-01-01", "日期（如 2025-01-01）"),
    "COLON": ("':'", "'：'"),
    "COMMA": ("','", "'，'"),
    "LPAR": ("'('", "'（'"),
    "RPAR": ("')'", "'）'"),
    "LSQB": ("'['", "'['"),
    "RSQB": ("']'", "']'"),
    "DOT": ("'.'", "'.'"),
    "PERCENT": ("'%'", "'%'"),
    "GT": ("'>'", "'>'"),
    "PLUS": ("'+'", "'+'"),
    "MINUS": ("'-'", "'-'"),
    "STAR": ("'*'", "'*'"),
    "SLASH": ("'/'", "'/'"),
    "CMP": ("a comparison (>=, <, ==, ...)", "比较符（>=、<、== 等）"),
    "$END": ("the end of the line", "行尾"),
}


def is_cjk(text: str) -> bool:
    """True if ``text`` contains a Chinese character."""
    for ch in text:
        code = ord(ch)
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            return True
    return False


def _form_pattern(form: str) -> str:
    words = form.split()
    out = re.escape(words[0])
    for prev, word in itertools.pairwise(words):
        sep = r"\s*" if is_cjk(prev[-1]) or is_cjk(word[0]) else r"\s+"
        out += sep + re.escape(word)
    return out


def keyword_pattern(forms: Iterable[str], cjk_starts: Iterable[str]) -> str:
    """A regex for one keyword terminal (all its forms), with the right lookaheads.

    ``cjk_starts`` are every Chinese keyword form of the grammar: a Chinese form
    may be followed directly by one of them.
    """
    # Only the first character of the next keyword is looked at: exact enough
    # (a name glued to a keyword is rare and can be quoted) and it keeps the
    # lexer's regexes small, which makes building the parser several times faster.
    follow = _follow(tuple(cjk_starts))
    alternatives = []
    for form in sorted(set(forms), key=lambda f: (-len(f), f)):
        body = _form_pattern(form)
        if is_cjk(form[-1]):
            alternatives.append(f"{body}(?:{NOT_CJK_NEXT}|{follow})")
        else:
            alternatives.append(f"(?i:{body})(?![A-Za-z0-9_])")
    return "(?:" + "|".join(alternatives) + ")"


@functools.lru_cache(maxsize=8)
def _follow(cjk_starts: tuple[str, ...]) -> str:
    """The lookahead of a Chinese form: the first character of a Chinese keyword form."""
    firsts = sorted({s[0] for s in cjk_starts if is_cjk(s[0])})
    return f"(?=[{''.join(firsts)}])" if firsts else "(?!)"


def merge_keywords(tables: Iterable[Mapping[str, tuple[str, ...]]]) -> dict[str, tuple[str, ...]]:
    """Merge keyword tables; the same terminal must have the same forms everywhere."""
    merged: dict[str, tuple[str, ...]] = {}
    for table in tables:
        for term, forms in table.items():
            if term in merged and set(merged[term]) != set(forms):
                raise ValueError(
                    f"keyword {term} is declared twice with different forms: "
                    f"{merged[term]} and {forms}"
                )
            merged[term] = tuple(forms)
    return merged


def describe(term: str, keywords: Mapping[str, tuple[str, ...]], lang: str = "en") -> str:
    """How a terminal is written, for 'expected ...' messages."""
    bare = term.lstrip("_")
    if term in keywords or bare in keywords:
        forms = keywords.get(term) or keywords[bare]
        en = [f for f in forms if not is_cjk(f)]
        zh = [f for f in forms if is_cjk(f)]
        picked = (zh or en) if lang == "zh" else (en or zh)
        other = en if lang == "zh" else zh
        text = " / ".join(f"'{f}'" for f in picked[:2])
        if other and other[0] not in picked:
            text += f" ({other[0]})"
        return text
    if bare in PUNCTUATION_WORDS:
        en_word, zh_word = PUNCTUATION_WORDS[bare]
        return zh_word if lang == "zh" else en_word
    return bare.lower()
