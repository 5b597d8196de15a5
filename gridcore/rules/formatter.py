"""``gridcore fmt``: one canonical layout, same meaning, comments kept.

The formatter never re-spells anything: it only changes whitespace, so the
tokens (and so the meaning) stay exactly the same.  Layout:

* the preamble (``ruleset``, ``extends``, ``levels``) and section headers at
  column 0, one blank line before each section header;
* items indented 2 spaces, dated lines 4, continuation lines 4 more than
  their item;
* runs of spaces and tabs become one space; no space before ``, : ) ] %``
  nor after ``( [``; one space after an ASCII ``, : ) ]``; none around
  full-width punctuation (``，：（）``), as Chinese is typeset;
* at most one blank line in a row; comments keep their place (a comment on
  its own line takes the indentation of the line below it; a trailing
  comment is separated by two spaces); the file ends with one newline.
"""

from __future__ import annotations

from .lines import LogicalLine, split_lines
from .parser import _DATED, _HEADER, _PREAMBLE

NO_SPACE_BEFORE = set(",，、:：)）]】%％")
NO_SPACE_AFTER = set("(（[【")
FULLWIDTH = set("，、：（）【】％")
SPACE_AFTER = set(",:)]")
QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d"}


def format_source(text: str) -> str:
    """The canonical layout of a ruleset's text."""
    text = text.removeprefix("\ufeff")
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines, _ = split_lines(text)
    by_start = {line.line: line for line in lines}
    covered: set[int] = set()
    for line in lines:
        covered.update(range(line.line + 1, line.end_line + 1))
    out: list[str] = []
    pending_blank = False
    for number, raw in enumerate(physical, 1):
        if number in covered:
            continue
        stripped = raw.strip(" \t\u3000")
        if not stripped:
            pending_blank = True
            continue
        if number in by_start:
            line = by_start[number]
            kind = _kind(line.code.strip())
            if out and out[-1] != "" and (pending_blank or kind == "header"):
                out.append("")
            out.extend(_format_logical(line, kind))
        else:  # a comment on its own line
            if out and out[-1] != "" and pending_blank:
                out.append("")
            indent = _next_indent(lines, number)
            out.append(indent + stripped.rstrip())
        pending_blank = False
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _kind(code: str) -> str:
    if _PREAMBLE.match(code):
        return "preamble"
    if _HEADER.match(code):
        return "header"
    if _DATED.match(code):
        return "dated"
    return "item"


_INDENT = {"preamble": "", "header": "", "item": "  ", "dated": "    "}


def _next_indent(lines: list[LogicalLine], number: int) -> str:
    for line in lines:
        if line.line > number:
            return _INDENT[_kind(line.code.strip())]
    return ""


def _format_logical(line: LogicalLine, kind: str) -> list[str]:
    indent = _INDENT[kind]
    comments = {c.line: c.text for c in line.comments}
    out = []
    for offset, code in enumerate(line.code.split("\n")):
        number = line.line + offset
        body = format_code(code)
        prefix = indent if offset == 0 else indent + "    "
        comment = comments.get(number)
        if body and comment:
            out.append(f"{prefix}{body}  {comment}")
        elif comment:
            out.append(f"{prefix}{comment}")
        else:
            out.append(f"{prefix}{body}")
    return out


def format_code(code: str) -> str:
    """Canonical spacing of one physical line of code (no comment)."""
    chunks: list[tuple[str, bool]] = []  # (text, whitespace before it)
    i = 0
    space = False
    while i < len(code):
        ch = code[i]
        if ch in " \t\u3000":
            space = True
            i += 1
            continue
        if ch in QUOTES:
            close = QUOTES[ch]
            j = i + 1
            while j < len(code) and code[j] != close:
                j += 2 if (code[j] == "\\" and ch == '"') else 1
            j = min(j + 1, len(code))
            chunks.append((code[i:j], space))
        elif ch in NO_SPACE_BEFORE or ch in NO_SPACE_AFTER:
            chunks.append((ch, space))
            j = i + 1
        else:
            j = i
            while j < len(code) and code[j] not in " \t\u3000" and code[j] not in QUOTES and \
                    (code[j] not in NO_SPACE_BEFORE or _clock_colon(code, j)) and \
                    code[j] not in NO_SPACE_AFTER:
                j += 1
            chunks.append((code[i:j], space))
        space = False
        i = j
    out: list[str] = []
    prev = ""
    for text, had_space in chunks:
        if out:
            if text in NO_SPACE_BEFORE or prev in NO_SPACE_AFTER or prev in FULLWIDTH or \
                    text in FULLWIDTH:
                sep = ""
            elif prev in SPACE_AFTER:
                sep = " "
            else:
                sep = " " if had_space else ""
            out.append(sep)
        out.append(text)
        prev = text
    return "".join(out)


def _clock_colon(code: str, j: int) -> bool:
    """A colon inside a time of day (``08:30``) stays glued to its digits."""
    return code[j] == ":" and 0 < j < len(code) - 1 and code[j - 1].isdigit() and code[j + 1].isdigit()
