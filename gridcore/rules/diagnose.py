"""Turning Lark's parse errors into diagnostics in the author's words.

Expected terminals are described as the author writes them (``'per' (每)``,
"a number"), never as Lark terminal names; an unexpected word close to an
expected keyword gets a did-you-mean; the catalogue (catalogue.py) names the
mistakes staff really make.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import ERROR, Diagnostic
from .keywords import describe, is_cjk

if TYPE_CHECKING:
    from .grammar_build import Grammar
    from .lines import LogicalLine
    from .sections import Section

_HIDDEN = {"ADDOP", "MULOP", "CMP", "_LPAR", "_LSQB", "_DOT", "_PERCENT", "_TRUE", "_FALSE",
           "_NOT", "_IF", "_IN"}


def make(file: str, source_lines: Sequence[str], line: int, column: int, message: str,
         message_zh: str, *, severity: str = ERROR, **more: Any) -> Diagnostic:
    """A diagnostic with the source line filled in."""
    text = source_lines[line - 1] if 0 < line <= len(source_lines) else ""
    return Diagnostic(message=message, message_zh=message_zh, file=file, line=line,
                      column=column, source_line=text, severity=severity, **more)


def _terminal_forms(grammar: Grammar, term: str) -> tuple[str, ...]:
    bare = term.lstrip("_")
    if bare in grammar.keywords:
        return grammar.keywords[bare]
    for section in grammar.sections.values():
        for kind in section.items:
            if bare == f"ITEM_{section.name.upper()}_{kind.name.upper()}":
                return kind.keywords
    return ()


#: The most words an error lists as expected: a section's every item word (points has 20) fits.
MOST_WORDS = 24


def expected_words(grammar: Grammar, expected: Sequence[str], lang: str) -> str:
    """A readable list of what could come next."""
    words: list[str] = []
    table = dict(grammar.keywords)
    for section in grammar.sections.values():
        for kind in section.items:
            table[f"ITEM_{section.name.upper()}_{kind.name.upper()}"] = kind.keywords
    # An expression can start with many things: say so once.
    if "NAME" in expected and "NUMBER" in expected and "_LPAR" in expected:
        words.append("a value or expression" if lang == "en" else "值或表达式")
        expected = [t for t in expected if t not in _HIDDEN and t not in ("NAME", "NUMBER",
                                                                        "STRING", "DATE")]
    for term in sorted(set(expected), key=lambda t: (t.lstrip("_") not in table, t)):
        if term in ("ADDOP", "MULOP"):
            continue
        word = describe(term, table, lang)
        if word == term.lstrip("_").lower():  # an anonymous string of a fragment: show it
            word = _literal_of(grammar, term) or word
        if word not in words:
            words.append(word)
    if len(words) > MOST_WORDS:
        words = words[:MOST_WORDS] + ["…"]
    sep = "、" if lang == "zh" else ", "
    return sep.join(words)


def _literal_of(grammar: Grammar, term: str) -> str:
    try:
        pattern = grammar.lark.get_terminal(term).pattern
    except KeyError:
        return ""
    return f"'{pattern.value}'" if pattern.type == "str" else ""


def from_lark(exc: UnexpectedInput, grammar: Grammar, start: str, line: LogicalLine, file: str,
              source_lines: Sequence[str]) -> Diagnostic:
    """A diagnostic for a parse error in one logical line (parsed alone, at its place in the file)."""
    from .catalogue import explain_mistake

    indent = len(line.indent)
    # where in the line's code (which starts after the indentation) the error is
    row = (exc.line or line.line) - line.line + 1
    col = (exc.column or 1) - (indent if row == 1 else 0)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken)
                                          and exc.token.type == "$END"):
        expected = grammar.keywords_expected(exc.expected)
        last = line.code.rstrip().split("\n")
        at_line = line.line + len(last) - 1
        at_col = len(source_lines[at_line - 1].rstrip()) + 1 if at_line <= len(source_lines) else 1
        got = None
        got_en, got_zh = "the line ends too early", "这一行提前结束了"
    elif isinstance(exc, UnexpectedToken):
        expected = grammar.keywords_expected(exc.accepts or exc.expected)
        at_line = line.line + row - 1
        at_col = col + (indent if row == 1 else 0)
        got = str(exc.token)
        got_en, got_zh = f"unexpected '{got}'", f"此处不应出现 '{got}'"
    elif isinstance(exc, UnexpectedCharacters):
        expected = grammar.keywords_expected(exc.allowed or ())
        at_line = line.line + row - 1
        at_col = col + (indent if row == 1 else 0)
        rest = line.code.split("\n")[row - 1][col - 1:]
        got = _word_at(rest)
        got_en, got_zh = f"unexpected '{got}'", f"此处不应出现 '{got}'"
    else:  # pragma: no cover - every UnexpectedInput is one of the above
        raise exc
    rows = line.code.split("\n")
    at = sum(len(r) + 1 for r in rows[:row - 1]) + col - 1 if 0 < row <= len(rows) else None
    mistake = explain_mistake(exc, grammar, start, line.code, at)
    suggestion = _did_you_mean(grammar, got, expected) if got else ""
    numeral = _numeral_fix(grammar, start, line, at, got, expected) if got and at is not None else None
    if numeral is not None:
        # 两小时内受理, 七天内: the number in digits, the rest as written (not 当天内 for a 'misspelt' 七天内)
        suggestion, mistake = numeral
    glued = _glued_keyword(grammar, got, expected) if got and numeral is None else ""
    if glued:
        from .catalogue import NUMBER_WORDS, chinese_number

        message_glued = ("a keyword and a name are written together", "关键词和名称连在一起了")
        keyword, _, rest = glued.partition(" ")
        digits: int | str | None = NUMBER_WORDS.get(rest.lower())
        glued_number = chinese_number(rest) if digits is None else None
        if glued_number is not None and rest[glued_number[1]:] and \
                any(rest[glued_number[1]:] in forms for forms in grammar.keywords.values()):
            digits = f"{glued_number[0]} {rest[glued_number[1]:]}"  # 每小时五分: 每小时 5 分
        if digits is not None and at is not None and (
                _parses(grammar, start, line.code.replace(got or "", f"{keyword} {digits}", 1))
                or _parses_past(grammar, start, line, at, got or "", f"{keyword} {digits}")):
            # 每月最多三十: a space alone would leave a number in words, refused next; say both at once
            suggestion = f"{keyword} {digits}"
            mistake = (*message_glued,
                       f"put a space between the keyword and the number, written with digits: {suggestion}",
                       f"在关键词和数字之间加一个空格，并用阿拉伯数字书写：{suggestion}")
        elif at is None or _parses_past(grammar, start, line, at, got or "", glued):
            suggestion = glued
            mistake = (*message_glued, "put a space between the keyword and the name",
                       "在关键词和名称之间加一个空格")
        else:
            glued = ""  # (每越最多: 每月 mistyped; '每 越最多' reads no better)
    # (a word the did-you-mean already spells whole, 家物 for the item word 家务, keeps it)
    whole = bool(suggestion) and len(suggestion) == len(got or "")
    misspelt = _misspelt_keywords(grammar, start, line, at, got, source_lines) \
        if got and at is not None and not glued and not whole and numeral is None else ()
    if len(misspelt) == 1:
        suggestion = misspelt[0]
        mistake = ("a keyword is misspelt", "关键词写错了", f"write {suggestion}", f"写成 {suggestion}")
    elif misspelt:  # 每周最多, 每月最多 ... each reads, and the file uses none of them: say which could be meant
        suggestion = ""
        mistake = ("a keyword is misspelt", "关键词写错了", f"write one of {', '.join(misspelt)}",
                   f"写成其中之一：{'、'.join(misspelt)}")
    if got and at is not None and not glued and not misspelt and numeral is None and is_cjk(got):
        # 2个工作曰 (日 mistyped): the token read is 个, but the word is 个工作曰; a did-you-mean for 个 alone
        # (个小时) would leave 工作曰 behind.  Suggest for the whole run of Chinese characters it starts.
        run = re.match(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", line.code[at:])
        word = run.group(0) if run else got
        close = _did_you_mean(grammar, word, expected) if len(word) > len(got) else ""
        if close and _slip(word, close) and _parses_past(grammar, start, line, at, word, close):
            got, suggestion = word, close
            mistake = ("a keyword is misspelt", "关键词写错了", f"write {close}", f"写成 {close}")
    working = _working_time(grammar, expected, got, line.code, at) if got and at is not None else None
    if working is not None:
        suggestion, mistake = working
    if not glued and suggestion and at is not None and not _parses_past(grammar, start, line, at, got or "",
                                                                           suggestion):
        suggestion = ""  # the did-you-mean would not make the line read further: say nothing
    if got and at is not None and got in _STRAY:
        # 80 分；每月最多 1 件 / 80 分。 typed with a Chinese input method: no separator, no full stop here
        if line.code[at + len(got):].strip():
            suggestion = "，" if _parses_past(grammar, start, line, at, got, "，") else ""
            mistake = (f"'{got}' does not separate the parts of a line", f"'{got}' 不能用来分隔一行中的各项",
                       "separate the parts with a comma ('，' or ',')", "各项之间用逗号（'，' 或 ','）分隔")
        else:
            suggestion = ""
            mistake = (f"a line does not end with '{got}'", f"行末不加 '{got}'",
                       f"delete the '{got}' at the end of the line", f"删去行末的 '{got}'")
    written = _DOTTED_DATE.match(line.code[at:]) if got and at is not None and "DATE" in expected else None
    if written is not None:
        # 2025.4.1, 2025/4/1, 2025年4月1日: the language writes 2025-04-01
        iso = _iso_date(written)
        if iso and at is not None and _parses_past(grammar, start, line, at, written.group(0), iso):
            got, suggestion = written.group(0), iso
            mistake = ("a date is written YYYY-MM-DD", "日期要写成 年-月-日", f"write {iso}", f"写成 {iso}")
    if mistake is None and got and at is not None and set(expected) <= {"_COMMA", "_NL", "$END"} \
            and "_COMMA" in expected:
        # 节假日 x：国庆 2025-10-01 ...: only a comma could come here, and one before it reads on
        comma = "，" if any(is_cjk(c) for c in line.code) else ", "
        if _parses_past(grammar, start, line, at, got, comma + got):
            suggestion = comma + got
            mistake = (f"a comma is missing before '{got}'", f"'{got}' 前缺少逗号",
                       f"put a comma before '{got}' (',' or '，')", f"在 '{got}' 前加上逗号（'，' 或 ','）")
    inside = _keyword_inside_name(grammar, start, line, at, expected) \
        if got and at is not None and mistake is None and isinstance(exc, UnexpectedToken) else None
    back = 0
    if inside is not None and at is not None:
        # 不未解决重大事件为5星: the name read on through the keyword 为 (a name may mix characters and digits)
        word, split, form, word_at = inside
        back, got, suggestion = at - word_at, word, split
        mistake = (f"a name and the keyword '{form}' are written together", f"名称和关键词 '{form}' 连在一起了",
                   f"put a space before '{form}': {split}", f"在 '{form}' 前加一个空格：{split}")
    if got and at is not None and not suggestion and (mistake is None or mistake[0] == "this word does not fit here"):
        missing = _missing_word(grammar, start, line, at, got, expected)
        if missing:
            # 2小时受理: 内 is missing before 受理 (2小时内受理)
            suggestion = missing + got
            mistake = (f"'{missing}' is missing before '{got}'", f"'{got}' 前缺少 '{missing}'",
                       f"write {suggestion}", f"写成 {suggestion}")
    if got and at is not None and mistake is None and not suggestion and isinstance(exc, UnexpectedToken) \
            and got.strip() and _is_keyword_form(grammar, got) \
            and line.code[at + len(got):].strip() and _reads_on(grammar, start, line, at, got, ""):
        # 受理 2 小时内: the line reads on without the word (受理 2 小时)
        mistake = (f"'{got}' is not needed here", f"此处不需要 '{got}'", f"delete '{got}'", f"删去 '{got}'")
    elsewhere = _item_elsewhere(grammar, start, got) if got and mistake is not None else None
    if elsewhere is not None and mistake is not None and mistake[0] == "this is not a known item":
        suggestion, mistake = "", elsewhere  # a did-you-mean of this section's words would mislead
    width = max(1, len(got or " "))
    at_col -= back
    quoted, before = _name_with_trailing_digits(exc, row, col, line.code, got)
    if quoted:
        # the suggestion replaces the whole name, not only its digits
        at_col -= before
        width = len(quoted)
        suggestion = f'"{quoted}"'
        mistake = ("a name that ends in digits must be written in quotes",
                   "以数字结尾的名称要加引号",
                   f'write the name in quotes: "{quoted}"',
                   f'给名称加上引号："{quoted}"')
    message, message_zh = got_en, got_zh
    fix, fix_zh = "", ""
    if mistake is not None:
        message, message_zh, fix, fix_zh = mistake
        if got:
            message = f"{message} (found '{got}')"
            message_zh = f"{message_zh}（此处是 '{got}'）"
    return make(file, source_lines, at_line, at_col, message, message_zh,
                expected=expected_words(grammar, expected, "en"),
                expected_zh=expected_words(grammar, expected, "zh"),
                suggestion=suggestion, fix=fix, fix_zh=fix_zh, width=width)


def _cjk_keyword_forms(grammar: Grammar) -> frozenset[str]:
    """Every Chinese form of the language's keywords and item words."""
    forms = {f for fs in grammar.keywords.values() for f in fs if is_cjk(f)}
    forms.update(f for section in grammar.sections.values() for kind in section.items
                 for f in kind.keywords if is_cjk(f))
    return frozenset(forms)


def _keywords_only(text: str, forms: frozenset[str], longest: int) -> bool:
    """True if ``text`` is keyword forms written one after another (每月最多 = 每 月 最多)."""
    reached = [True] + [False] * len(text)
    for i in range(len(text)):
        if reached[i]:
            for size in range(1, min(longest, len(text) - i) + 1):
                if text[i:i + size] in forms:
                    reached[i + size] = True
    return reached[-1]


def _misspelt_keywords(grammar: Grammar, start: str, line: LogicalLine, at: int, got: str,
                       source_lines: Sequence[str]) -> tuple[str, ...]:
    """Chinese keywords written together with one character wrong (每越最多 for 每月最多): the
    spellings that differ by that character, are keywords only and let the line read on.  One the
    file already uses is the one meant (each of 每周最多, 每月最多 ... would read; the file says
    which); else every one that reads (up to six), or none."""
    if not all(is_cjk(c) for c in got) or not 2 <= len(got) <= 8:
        return ()
    forms = _cjk_keyword_forms(grammar)
    longest = max(map(len, forms), default=0)
    if _keywords_only(got, forms, longest):
        return ()
    chars = sorted({c for f in forms for c in f})
    spelt = [got[:i] + c + got[i + 1:] for i in range(len(got)) for c in chars if c != got[i]]
    spelt = [s for s in spelt if _keywords_only(s, forms, longest)]
    text = "\n".join(source_lines)
    used = [s for s in spelt if s in text]
    for pool in (used, spelt):
        reads = [s for s in pool if _reads_on(grammar, start, line, at, got, s)]
        if reads and pool is used:
            return (reads[0],)
        if reads and len(reads) <= 6:
            return tuple(reads)
    return ()


def _reads_on(grammar: Grammar, start: str, line: LogicalLine, at: int, got: str, spelt: str) -> bool:
    """True if the line with ``spelt`` in place of ``got`` parses, or fails only after it."""
    code = line.code
    changed = code[:at] + spelt + code[at + len(got):]
    try:
        grammar.lark.parse(line.indent + changed, start=start)
    except UnexpectedEOF:
        return True
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        where: int | None = exc.pos_in_stream if isinstance(exc, UnexpectedCharacters) else getattr(
            token, "start_pos", None)
        if where is None or token is not None and token.type == "$END":
            return True
        return where - len(line.indent) >= at + len(spelt)
    return True


#: the units of a span counted in calendar time, by the words their working-time twins end with
_CALENDAR_UNITS = (("hours", "_HOUR", "hours", "小时", "时间"), ("hour", "_HOUR", "hour", "小时", "时间"),
                   ("days", "_DAY", "days", "天", "日"), ("day", "_DAY", "day", "天", "日"),
                   ("小时", "_HOUR", "hours", "小时", "时间"), ("日", "_DAY", "days", "天", "日"))


def _working_time(grammar: Grammar, expected: Sequence[str], got: str, code: str,
                  at: int) -> tuple[str, tuple[str, str, str, str]] | None:
    """A span of working time (3个工作日, 4 working hours) where the span counts calendar time
    (a repeat window: 7天内): the reason, and the calendar unit in its place (3天内)."""
    if "_DAY" not in expected or not re.search(r"work|工作", got, re.IGNORECASE):
        return None
    word = got.lower()
    found = next((u for u in _CALENDAR_UNITS if word.endswith(u[0])), None)
    if found is None or found[1] not in expected:
        return None
    _, _, english, chinese, zh_word = found
    unit = chinese if re.search(r"[\u4e00-\u9fff]", got) else english
    number = re.search(r"(\d+(?:\.\d+)?)\s*$", code[:at])
    amount = number.group(1) if number else "3"
    after = re.match(r"\s*(以内|内)", code[at + len(got):])
    zh_example = f"{amount}{chinese}{after.group(1) if after else '内'}"
    example = zh_example if unit == chinese else f"{amount} {english}"
    return unit, (
        "working time cannot be counted here: this span is calendar time, every day and hour alike",
        "这里不能按工作时间计：这段时间按自然时间计算，每天、每小时都算",
        f"write the span in calendar {english}: {example}", f"按自然{zh_word}写：{example}")


def _parses_past(grammar: Grammar, start: str, line: LogicalLine, at: int, got: str,
                 suggestion: str) -> bool:
    """False if the line with ``got`` (at offset ``at`` of its code) replaced by ``suggestion``
    still fails inside the replaced text: a suggestion that does not work when applied.

    True when the line then parses, fails only after the replacement, or cannot be judged
    (the line alone does not fail where the file's parse did).
    """
    code = line.code
    if code[at:at + len(got)] != got:
        return True
    try:
        grammar.lark.parse(line.indent + code, start=start)
    except UnexpectedInput:
        pass
    else:
        return True
    return _reads_on(grammar, start, line, at, got, suggestion)


def _name_with_trailing_digits(exc: UnexpectedInput, row: int, col: int, code: str,
                               got: str | None) -> tuple[str, int]:
    """``大米2024`` lexes as a name and a number: the whole name, if that is what happened, and
    how many characters of it come before the digits."""
    if not (isinstance(exc, UnexpectedToken) and got and got.isdigit() and row == 1):
        return "", 0
    before = code.split("\n")[0][: col - 1]
    name = ""
    while before and (is_cjk(before[-1]) or before[-1].isalnum() or before[-1] == "_"):
        name = before[-1] + name
        before = before[:-1]
    if not name or not is_cjk(name[-1]):
        return "", 0
    rest = code.split("\n")[0][col - 1 + len(got):]
    tail = ""
    for ch in rest:
        if not (is_cjk(ch) or ch.isalnum() or ch == "_"):
            break
        tail += ch
    return name + got + tail, len(name)


def _word_at(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch.isspace() or (out and (ch in ",:，：()（）")):
            break
        out.append(ch)
        if not (ch.isalnum() or ch == "_"):
            break
    return "".join(out) or text[:1]


def _parses(grammar: Grammar, start: str, code: str) -> bool:
    try:
        grammar.lark.parse(code, start=start)
    except UnexpectedInput:
        return False
    return True


def _numeral_fix(grammar: Grammar, start: str, line: LogicalLine, at: int, got: str,
                 expected: Sequence[str]) -> tuple[str, tuple[str, str, str, str]] | None:
    """A number written in Chinese numerals where a number is expected (两小时内受理, 七天内, 三个工作日):
    the text with the number in digits, if the line then reads on, and the mistake to tell."""
    from .catalogue import MESSAGES, chinese_number

    if "NUMBER" not in expected or not is_cjk(got[:1]):
        return None
    numeral = chinese_number(got)
    if numeral is None:
        return None
    written = f"{numeral[0]}{got[numeral[1]:]}"
    if not _reads_on(grammar, start, line, at, got, written):
        return None
    en, zh, _, _ = MESSAGES["number_in_words"]
    return written, (en, zh, f"write {written}, not {got}", f"写成 {written}，不要写 '{got}'")


#: the most keyword terminals tried, one at a time, as a word missing before the one found
_MOST_MISSING = 3


def _missing_word(grammar: Grammar, start: str, line: LogicalLine, at: int, got: str,
                  expected: Sequence[str]) -> str:
    """A keyword form that, written before ``got``, makes the line read on (2小时受理: 内), else ''."""
    keywords = [t for t in expected if t.startswith("_") and t.lstrip("_") in grammar.keywords]
    if not keywords or len(keywords) > _MOST_MISSING or len(keywords) != len(expected):
        return ""
    cjk = is_cjk(got[:1])
    for term in keywords:
        for form in sorted(_terminal_forms(grammar, term), key=len):
            if is_cjk(form) == cjk and _reads_on(grammar, start, line, at, got,
                                                  form + ("" if cjk else " ") + got):
                return form + ("" if cjk else " ")
    return ""


#: a run of a name's characters (letters, digits, _, Chinese) at the end of a text
_NAME_RUN_END = re.compile(r"[A-Za-z0-9_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


def _keyword_inside_name(grammar: Grammar, start: str, line: LogicalLine, at: int,
                         expected: Sequence[str]) -> tuple[str, str, str, int] | None:
    """The word before the error, the same with a space before an expected Chinese keyword inside it that
    makes the line read on (未解决重大事件为5星 -> 未解决重大事件 为5星), the keyword, and where the word starts."""
    before = line.code[:at].rstrip()
    found = _NAME_RUN_END.search(before)
    if found is None:
        return None
    word, word_at = found.group(0), found.start()
    keywords = _cjk_keyword_forms(grammar)
    while word:  # the name starts after digits and keywords written before it (90且不未解决重大事件为5星)
        lead = re.match(r"[0-9]+", word) or next(
            (re.match(re.escape(k), word) for k in sorted(keywords, key=len, reverse=True) if word.startswith(k)), None)
        if lead is None:
            break
        word, word_at = word[lead.end():], word_at + lead.end()
    if not word:
        return None
    forms = sorted({f for term in expected for f in _terminal_forms(grammar, term) if is_cjk(f)},
                   key=len, reverse=True)
    for form in forms:
        i = word.find(form, 1)
        while i > 0:
            split = f"{word[:i]} {word[i:]}"
            if _reads_on(grammar, start, line, word_at, word, split):
                return word, split, form, word_at
            i = word.find(form, i + 1)
    return None


def _is_keyword_form(grammar: Grammar, word: str) -> bool:
    return any(word.lower() in (f.lower() for f in forms) for forms in grammar.keywords.values())


def _glued_keyword(grammar: Grammar, got: str, expected: Sequence[str]) -> str:
    """``活动志愿服务`` where the keyword ``活动`` was expected: ``活动 志愿服务``."""
    if not is_cjk(got):
        return ""
    forms = sorted({f for term in expected for f in _terminal_forms(grammar, term) if is_cjk(f)},
                   key=len, reverse=True)
    for form in forms:
        if got.startswith(form) and len(got) > len(form):
            return f"{form} {got[len(form):]}"
    return ""


def _did_you_mean(grammar: Grammar, got: str, expected: Sequence[str]) -> str:
    candidates: list[str] = []
    for term in expected:
        candidates.extend(_terminal_forms(grammar, term))
    if not candidates:
        return ""
    pool = [c for c in candidates if is_cjk(c) == is_cjk(got) and c.lower() != got.lower()]
    pool = pool or [c for c in candidates if c.lower() != got.lower()]
    cutoff = 0.5 if is_cjk(got) else 0.7
    close = difflib.get_close_matches(got.lower(), [c.lower() for c in pool], n=1, cutoff=cutoff)
    if close:
        for c in pool:
            if c.lower() == close[0]:
                return c
    return ""


def _slip(word: str, close: str) -> bool:
    """True if ``word`` is a slip of ``close`` (one character wrong per three), as did-you-means are."""
    from .checker import did_you_mean

    return did_you_mean(word, [close]) == close


#: Punctuation a Chinese input method types that the language never uses (its commas, colons and
#: brackets mean what the ASCII ones do; docs/language.md).
_STRAY = ("；", ";", "。", "！", "？")


def _item_elsewhere(grammar: Grammar, start: str, got: str) -> tuple[str, str, str, str] | None:
    """An item word of another section written in this one (时限 under 考核：): which section it
    belongs to and where to move the line; None when ``got`` is no other section's item word."""
    here = next((name for name in grammar.sections if start.startswith(f"{name}__")), None)
    if here is None:
        return None
    word = got.lower()
    found = [section for name, section in grammar.sections.items() if name != here
             and any(form.split()[0].lower() == word for kind in section.items for form in kind.keywords)]
    if not found:
        return None

    def en(section: Section[Any]) -> str:
        return next((h for h in section.headers if not is_cjk(h)), section.name)

    def zh(section: Section[Any]) -> str:
        return next((h for h in section.headers if is_cjk(h)), section.name)

    this = grammar.sections[here]
    names_en = " or ".join(f"'{en(s)}'" for s in found)
    names_zh = "或".join(f"“{zh(s)}”" for s in found)
    return (f"'{got}' is an item of the {names_en} section, and this line is in the '{en(this)}' section",
            f"'{got}' 是{names_zh}栏目的条目，而这一行在“{zh(this)}”栏目中",
            f"move the line under '{en(found[0])}:' (or write that header above it)",
            f"把这一行移到 '{zh(found[0])}：' 下面（或在它前面写上 '{zh(found[0])}：'）")


#: A date written the way people write it elsewhere (2025.4.1, 2025/04/01, 2025年4月1日)
_DOTTED_DATE = re.compile(r"(\d{4})\s*[./年]\s*(\d{1,2})\s*[./月]\s*(\d{1,2})(?:\s*日)?")


def _iso_date(found: re.Match[str]) -> str:
    """The date as the language writes it (2025-04-01), or '' if it is no date."""
    from datetime import date

    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
    except ValueError:
        return ""
