"""Splitting a ruleset into logical lines, keeping comments and indentation.

An item is one line; it continues on the next physical line after a trailing
comma or while a bracket is open.  Comments (``#`` to the end of the line,
outside quotes) are kept for ``gridcore fmt``.  Errors are recovered at
logical-line boundaries: a bad line never hides the next one.
"""

from __future__ import annotations

from attrs import frozen

OPEN = "([（【"
CLOSE = ")]）】"
COMMAS = ",，、"
QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d"}


@frozen
class Comment:
    """A ``#`` comment: the line it is on, and whether code precedes it."""

    line: int
    text: str
    trailing: bool


@frozen
class LogicalLine:
    """One logical line: its code (comments blanked out), where it starts, its indentation.

    ``code`` spans ``line`` .. ``end_line`` and starts at the first non-blank
    character (column ``indent_width + 1`` of the first physical line).
    """

    line: int
    end_line: int
    indent: str
    code: str
    comments: tuple[Comment, ...]
    depth: int  # brackets still open at the end (an unclosed bracket)
    blank_before: bool = False


def split_lines(text: str) -> tuple[list[LogicalLine], list[Comment]]:
    """Logical lines of code, and the comments that stand on lines of their own."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[LogicalLine] = []
    loose: list[Comment] = []
    i = 0
    blank = False
    while i < len(physical):
        raw = physical[i]
        stripped = raw.lstrip(" \t\u3000")
        if not stripped:
            blank = True
            i += 1
            continue
        if stripped.startswith("#"):
            loose.append(Comment(i + 1, stripped.rstrip(), trailing=False))
            i += 1
            continue
        indent = raw[: len(raw) - len(stripped)]
        start = i
        codes: list[str] = []
        comments: list[Comment] = []
        depth = 0
        first = True
        while True:
            segment = physical[i] if not first else stripped
            code, comment, depth = _scan(segment, depth)
            if comment is not None:
                comments.append(Comment(i + 1, comment, trailing=bool(code.strip())))
            codes.append(code)
            first = False
            tail = code.rstrip(" \t\u3000")
            more = depth > 0 or (tail[-1:] in COMMAS if tail else False)
            if not more or i + 1 >= len(physical) or not _continues(physical[i + 1], indent):
                break
            i += 1
        lines.append(LogicalLine(start + 1, i + 1, indent, "\n".join(codes), tuple(comments),
                                 depth, blank_before=blank))
        blank = False
        i += 1
    return lines, loose


def _continues(nxt: str, indent: str) -> bool:
    """A continuation line is indented deeper than its item (or starts with a closing bracket).

    So an unclosed bracket or a stray trailing comma swallows nothing but
    deeper lines, and the next item is still read and checked.
    """
    body = nxt.lstrip(" \t\u3000")
    if not body or body.startswith("#"):
        return bool(body)
    if body[0] in CLOSE:
        return True
    return len(nxt) - len(body) > len(indent)


def unclosed(code: str) -> tuple[int, int] | None:
    """(line offset, column) of the first bracket of ``code`` that is never closed."""
    stack: list[tuple[int, int]] = []
    for offset, segment in enumerate(code.split("\n")):
        quote: str | None = None
        j = 0
        while j < len(segment):
            ch = segment[j]
            if quote is not None:
                if ch == "\\" and quote == '"':
                    j += 2
                    continue
                if ch == quote:
                    quote = None
            elif ch in QUOTES:
                quote = QUOTES[ch]
            elif ch in OPEN:
                stack.append((offset, j + 1))
            elif ch in CLOSE and stack:
                stack.pop()
            j += 1
    return stack[0] if stack else None


def _scan(segment: str, depth: int) -> tuple[str, str | None, int]:
    """Code part of one physical line (comment replaced by spaces), the comment, new depth."""
    quote: str | None = None
    j = 0
    while j < len(segment):
        ch = segment[j]
        if quote is not None:
            if ch == "\\" and quote == '"':
                j += 2
                continue
            if ch == quote:
                quote = None
        elif ch in QUOTES:
            quote = QUOTES[ch]
        elif ch == "#":
            return segment[:j] + " " * (len(segment) - j), segment[j:].rstrip(), depth
        elif ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        j += 1
    return segment, None, depth
