"""From Lark's parse tree of one statement to frozen AST nodes (ast.py).

Lark's trees and tokens stop here: what leaves this module is ``ast`` objects
carrying file, line and column in the author's file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from lark import Token, Tree

from . import ast
from . import schema as sch

MAX_NUMBER = 10**12
MAX_DEPTH = 60
_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "=": "==", "!=": "!=",
        "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\uff1c": "<", "\uff1e": ">",
        "\uff1d": "=="}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/", "\uff0b": "+", "\uff0d": "-", "\u00d7": "*",
          "\u00f7": "/", "\uff0a": "*", "\uff0f": "/"}
_UNITS = {"unit_minute": timedelta(minutes=1), "unit_hour": timedelta(hours=1),
          "unit_day": timedelta(days=1), "unit_week": timedelta(weeks=1)}
_PERIODS = {"period_day": "day", "period_week": "week", "period_month": "month",
            "period_quarter": "quarter", "period_year": "year"}


class AstError(Exception):
    """A problem found while building the tree (a number too large, a bad date)."""

    def __init__(self, pos: ast.Pos, message: str, message_zh: str, fix: str = "",
                 fix_zh: str = "") -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.message_zh = message_zh
        self.fix = fix
        self.fix_zh = fix_zh

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its fields in another process (``args`` holds only the message)
        return (type(self), (self.pos, self.message, self.message_zh, self.fix, self.fix_zh), self.__dict__)


def tree_depth(tree: Tree[Any]) -> int:
    """Depth of a tree, computed without recursion (to refuse absurd nesting early)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def unquote(text: str) -> str:
    """The text of a STRING token: quotes removed, escapes of the ASCII form resolved."""
    if text[0] != '"':
        return text[1:-1]
    out = []
    i = 1
    while i < len(text) - 1:
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) - 1:
            nxt = text[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class ToAst:
    """Builds AST objects; positions are mapped back to the file.

    The tree's positions are the file's (a statement is parsed as part of the
    whole file, or alone from a slice of it); ``line`` and ``column`` are where
    the statement starts, for a node that covers no text.
    """

    def __init__(self, file: str, line: int, column: int,
                 builders: Mapping[str, Callable[[list[Any], ast.Pos], Any]] | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.builders = builders or {}

    # ---------------------------------------------------------------- positions

    def at(self, thing: Any) -> ast.Pos:
        """Position in the file of a token, tree or AST node."""
        if isinstance(thing, Token):
            return self._pos(thing.line or 1, thing.column or 1, thing.end_line or 0,
                             thing.end_column or 0)
        if isinstance(thing, Tree):
            meta = thing.meta
            if not meta.empty:
                return self._pos(meta.line, meta.column, meta.end_line, meta.end_column)
            for child in thing.children:
                return self.at(child)
        pos = getattr(thing, "pos", None)
        if isinstance(pos, ast.Pos):
            return pos
        return ast.Pos(self.file, self.line, self.column)

    def _pos(self, line: int, column: int, end_line: int, end_column: int) -> ast.Pos:
        return ast.Pos(self.file, line, column, end_line, end_column)

    def _meta_pos(self, children: list[Any], meta: Any) -> ast.Pos:
        if meta is not None and not getattr(meta, "empty", True):
            return self._pos(meta.line, meta.column, meta.end_line, meta.end_column)
        for child in children:
            return self.at(child)
        return ast.Pos(self.file, self.line, self.column)

    def transform_tree(self, tree: Tree[Any]) -> Any:
        """Transform, keeping each tree's meta for positions."""
        return self._walk(tree)

    def _walk(self, tree: Tree[Any]) -> Any:
        children = [self._walk(c) if isinstance(c, Tree) else c for c in tree.children]
        method = getattr(self, f"r_{tree.data}", None)
        meta = tree.meta
        if method is not None:
            return method(children, meta)
        return self.default(str(tree.data), children, meta)

    # ---------------------------------------------------------------- leaves

    def number_value(self, token: Token) -> int | float:
        text = str(token)
        value: int | float = float(text) if "." in text else int(text[:20])
        if len(text.split(".")[0]) > 13 or abs(value) > MAX_NUMBER:
            raise AstError(self.at(token), f"the number {text[:20]} is too large",
                           f"数字 {text[:20]} 太大", fix=f"use a number below {MAX_NUMBER:,}",
                           fix_zh=f"请使用小于 {MAX_NUMBER} 的数字")
        return value

    def date_value(self, token: Token) -> date:
        try:
            y, m, d = (int(p) for p in str(token).split("-"))
            return date(y, m, d)
        except ValueError:
            why, why_zh = _date_problem(str(token))
            raise AstError(self.at(token), f"{token} is not a real date{why}", f"{token} 不是有效日期{why_zh}",
                           fix="write the date as YYYY-MM-DD, e.g. 2025-01-01",
                           fix_zh="日期写成 年-月-日，如 2025-01-01") from None

    def name_text(self, token: Token) -> str:
        return unquote(str(token)) if token.type == "STRING" else str(token)

    # ---------------------------------------------------------------- shared rules

    def r_name(self, c: list[Any], meta: Any) -> ast.Name:
        return ast.Name(self.name_text(c[0]), self.at(c[0]))

    def r_number(self, c: list[Any], meta: Any) -> ast.Value:
        return ast.Value("number", self.number_value(c[0]), self.at(c[0]))

    def r_percent(self, c: list[Any], meta: Any) -> ast.Value:
        return ast.Value("percent", self.number_value(c[0]) / 100, self._meta_pos(c, meta))

    def r_duration(self, c: list[Any], meta: Any) -> ast.Value:
        return ast.Value("duration", self._duration(c), self._meta_pos(c, meta))

    def _duration(self, c: list[Any]) -> timedelta:
        unit = _UNITS[c[1].data] if isinstance(c[1], Tree) else timedelta(hours=1)
        return unit * self.number_value(c[0])

    def r_date(self, c: list[Any], meta: Any) -> ast.Value:
        return ast.Value("date", self.date_value(c[0]), self.at(c[0]))

    def r_string(self, c: list[Any], meta: Any) -> ast.Value:
        return ast.Value("string", unquote(str(c[0])), self.at(c[0]))

    # ---------------------------------------------------------------- expressions

    def r_num(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.NUMBER, self.number_value(c[0]), self.at(c[0]))

    def r_pct(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.NUMBER, self.number_value(c[0]) / 100, self._meta_pos(c, meta))

    def r_dur(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.DURATION, self._duration(c), self._meta_pos(c, meta))

    def r_date_lit(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.DATE, self.date_value(c[0]), self.at(c[0]))

    def r_str_lit(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.TEXT, unquote(str(c[0])), self.at(c[0]))

    def r_true_lit(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.BOOL, True, self._meta_pos(c, meta))

    def r_false_lit(self, c: list[Any], meta: Any) -> ast.Literal:
        return ast.Literal(sch.BOOL, False, self._meta_pos(c, meta))

    def r_var(self, c: list[Any], meta: Any) -> ast.Var:
        return ast.Var(str(c[0]), self.at(c[0]))

    def r_field_ref(self, c: list[Any], meta: Any) -> ast.FieldRef:
        return ast.FieldRef(str(c[0]), str(c[1]), self._meta_pos(c, meta))

    def r_call(self, c: list[Any], meta: Any) -> ast.Call:
        args = tuple(c[1]) if len(c) > 1 else ()
        return ast.Call(str(c[0]), args, self.at(c[0]))

    def r_args(self, c: list[Any], meta: Any) -> list[Any]:
        return c

    def r_list_lit(self, c: list[Any], meta: Any) -> ast.ListExpr:
        return ast.ListExpr(tuple(c[0]) if c else (), self._meta_pos(c, meta))

    def r_conditional(self, c: list[Any], meta: Any) -> ast.Conditional:
        return ast.Conditional(c[0], c[1], c[2], self._meta_pos(c, meta))

    def r_or_op(self, c: list[Any], meta: Any) -> ast.Binary:
        return ast.Binary("or", c[0], c[1], self._meta_pos(c, meta))

    def r_and_op(self, c: list[Any], meta: Any) -> ast.Binary:
        return ast.Binary("and", c[0], c[1], self._meta_pos(c, meta))

    def r_not_op(self, c: list[Any], meta: Any) -> ast.Unary:
        return ast.Unary("not", c[0], self._meta_pos(c, meta))

    def r_sign(self, c: list[Any], meta: Any) -> ast.Expr:
        operand = c[1]
        if _ARITH[str(c[0])] == "+":
            return operand  # type: ignore[no-any-return]
        return ast.Unary("neg", operand, self.at(c[0]))

    def r_arith(self, c: list[Any], meta: Any) -> ast.Binary:
        return ast.Binary(_ARITH[str(c[1])], c[0], c[2], self._meta_pos(c, meta))

    def r_comp_op(self, c: list[Any], meta: Any) -> str:
        return _CMP[str(c[0])]

    def r_op_in(self, c: list[Any], meta: Any) -> str:
        return "in"

    def r_op_not_in(self, c: list[Any], meta: Any) -> str:
        return "not_in"

    def r_compare(self, c: list[Any], meta: Any) -> ast.Compare:
        operands = tuple(c[0::2])
        ops = tuple(c[1::2])
        return ast.Compare(ops, operands, self._meta_pos(c, meta))

    # ---------------------------------------------------------------- ladders

    def r_ladder(self, c: list[Any], meta: Any) -> ast.Ladder:
        steps = tuple(x for x in c if isinstance(x, ast.Step))
        rest = [x for x in c if not isinstance(x, ast.Step)]
        return ast.Ladder(steps, rest[0] if rest else None, self._meta_pos(c, meta))

    def r_step_value_first(self, c: list[Any], meta: Any) -> ast.Step:
        return ast.Step(c[0], c[1], self._meta_pos(c, meta))

    def r_step_condition_first(self, c: list[Any], meta: Any) -> ast.Step:
        return ast.Step(c[1], c[0], self._meta_pos(c, meta))

    # ---------------------------------------------------------------- preamble

    def r_ruleset_decl(self, c: list[Any], meta: Any) -> tuple[str, Any]:
        return ("ruleset", c[0])

    def r_extends_decl(self, c: list[Any], meta: Any) -> tuple[str, Any]:
        return ("extends", c[0])

    def r_applies_decl(self, c: list[Any], meta: Any) -> tuple[str, Any]:
        return ("applies", next(x for x in c if isinstance(x, ast.Name)))

    def r_level(self, c: list[Any], meta: Any) -> tuple[ast.Name, ast.Name | None]:
        return (c[0], c[1] if len(c) > 1 else None)

    def r_levels_decl(self, c: list[Any], meta: Any) -> tuple[str, Any]:
        names = [x for x in c if isinstance(x, tuple)]
        for token in c:
            if isinstance(token, Token) and _CMP.get(str(token)) != ">":
                raise AstError(self.at(token), "levels are separated by '>'",
                               "层级之间用 '>' 分隔", fix="write levels: community > grid > unit",
                               fix_zh="写成 层级：社区 > 网格 > 单元")
        return ("levels", tuple(names))

    # ---------------------------------------------------------------- section rules

    def default(self, data: str, children: list[Any], meta: Any) -> Any:
        if data in _PERIODS:
            return ast.Value("period", _PERIODS[data], self._meta_pos(children, meta))
        if data in _UNITS:
            return Tree(data, [])
        kept: list[Any] = []
        for child in children:
            if isinstance(child, Token):
                if child.type == "NAME" or child.type == "STRING":
                    kept.append(ast.Name(self.name_text(child), self.at(child)))
                elif child.type == "NUMBER":
                    kept.append(ast.Value("number", self.number_value(child), self.at(child)))
                elif child.type == "DATE":
                    kept.append(ast.Value("date", self.date_value(child), self.at(child)))
                else:
                    kept.append(ast.Value("word", child.type, self.at(child)))
            elif isinstance(child, list):
                kept.extend(child)
            else:
                kept.append(child)
        builder = self.builders.get(data)
        if builder is not None:  # the section's own typed node
            return builder(kept, self._meta_pos(children, meta))
        return ast.Node(data, tuple(kept), self._meta_pos(children, meta))


def _date_problem(text: str) -> tuple[str, str]:
    """Why ``text`` (YYYY-MM-DD) is no date: the month, or the days its month has ('', '' if neither)."""
    import calendar

    try:
        y, m, d = (int(p) for p in text.split("-"))
    except ValueError:
        return "", ""
    if not 1 <= m <= 12:
        return f": there is no month {m}", f"：没有 {m} 月"
    days = calendar.monthrange(y, m)[1] if 1 <= y <= 9999 else 31
    if not 1 <= d <= days:
        return f": {y}-{m:02d} has {days} days", f"：{y} 年 {m} 月只有 {days} 天"
    return "", ""
