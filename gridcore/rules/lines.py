"""Logical lines: where a statement of a ruleset ends.

An item is one line; it continues on the next physical line after a trailing
comma or while a bracket is open, if that line is indented deeper (or starts
with a closing bracket).  The rule is applied twice, in one module so the two
stay the same: ``split_lines`` cuts text into ``LogicalLine`` objects (what
``gridcore fmt``, the lexical checks and error recovery work on; comments,
``#`` to the end of the line outside quotes, are kept), and ``StatementEnds``
is the parser's postlexer, which turns a newline into a statement end (``_NL``)
or drops it, token by token, as the file is parsed.  Errors are recovered at
logical-line boundaries: a bad line never hides the next one.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token
from lark.lark import PostLex

from ..classes import frozen

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


#: The terminals of the grammar (grammar.lark) the postlexer reads and makes.
NEWLINE = "_NEWLINE"
STATEMENT_END = "_NL"
#: A newline before a dated line (``from 2025-01-01: ...``), lexed only where an item
#: is complete; it ends the item's line and says a version of it follows.
DATED_NEXT = "_NL_DATED"
#: What a keyword token is made when its words stand on two statements (no rule takes it).
BROKEN = "BROKEN_KEYWORD"


class StatementEnds(PostLex):
    """The postlexer: a newline ends a statement, unless the line continues.

    Lark's lexer yields each newline as one token with the blank and comment
    lines after it and the next line's indentation (``_NEWLINE``, or
    ``_NL_DATED`` where an item is complete and a dated line follows).  The
    postlexer keeps what ``split_lines`` decides, from the tokens: the open
    brackets, whether the last token ends with a comma and the statement's
    indentation (its first token's column).  A continued newline is dropped;
    one that ends a statement becomes ``_NL`` (``_NL_DATED`` stays itself).
    The decision is made on the newline alone, before the next token is
    lexed (the contextual lexer lexes it in the state the parser is in then),
    except in the one case that needs to see the next line: after a comma or
    inside a bracket, a line not indented deeper continues the statement only
    if it starts with a closing bracket.  Such a statement is wrong either
    way, so lexing that token in the state before the end changes only which
    error the line gets, and the line is then read alone (parser.py).
    Everything is local to one call of ``process``, so one parser serves any
    number of threads.
    """

    always_accept = (NEWLINE,)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        comma = False
        indent = -1  # no statement open
        held: Token | None = None  # a newline that ends the statement unless a bracket closes
        for token in stream:
            if token.type in (NEWLINE, DATED_NEXT):
                if indent < 0:
                    continue
                verdict = _continued(token, depth, comma, indent)
                if verdict is None:
                    held = token
                elif not verdict:
                    yield _end(token)
                    depth, comma, indent = 0, False, -1
                continue
            if held is not None:
                if token.value[:1] not in CLOSE:
                    yield _end(held)
                    depth, comma, indent = 0, False, -1
                held = None
            if indent < 0:
                indent = (token.column or 1) - 1
            if "\n" in token.value and not _keyword_continued(token.value, depth, indent):
                # a keyword of several words written across a statement end ('at' on one
                # line, 'most' on the next): no rule takes this, so the line is reported
                token = Token.new_borrow_pos(BROKEN, token.value, token)
            if token.type != "STRING":
                for ch in token.value:
                    if ch in OPEN:
                        depth += 1
                    elif ch in CLOSE:
                        depth = max(0, depth - 1)
            comma = token.value[-1:] in COMMAS
            yield token
        if held is not None:
            yield _end(held)

    def __repr__(self) -> str:  # part of the parser cache's key: the same in every process
        return "StatementEnds()"


def _end(newline: Token) -> Token:
    if newline.type == DATED_NEXT:
        return newline
    return Token.new_borrow_pos(STATEMENT_END, "", newline)


def _continued(newline: Token, depth: int, comma: bool, indent: int) -> bool | None:
    """Does the statement go on over this newline (the rule of ``split_lines``)?

    None: only if the next line starts with a closing bracket.
    """
    more = depth > 0 or comma
    lines = newline.value.split("\n")[1:]
    for k, line in enumerate(lines):
        if not more:
            return False
        body = line.lstrip(" \t\u3000")
        if k + 1 < len(lines):
            if not body:
                return False  # a blank line
            more = depth > 0  # a comment line: only an open bracket carries on past it
            continue
        return True if len(line) > indent else None
    return False


def _keyword_continued(text: str, depth: int, indent: int) -> bool:
    """Is each newline inside a keyword of several words a continuation?

    Only an open bracket carries a line on past a word, onto a line indented deeper.
    """
    for part in text.split("\n")[1:]:
        body = part.lstrip(" \t\u3000")
        if depth <= 0 or not body.strip() or len(part) - len(body) <= indent:
            return False
    return True
