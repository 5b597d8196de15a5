"""Conditions in the assessment section: checked expressions -> the policy's condition tree.

Star ladders (``5 if score >= 90 and unresolved_serious_incidents == 0``),
subsidy ladders (``1.5 if stars >= 5``) and ``serious: severity >= 4`` are
written in the language's shared expression syntax; here they become the small
``policy`` conditions (compare a name with a number; and, or, not).  Anything
else (field access, calls, arithmetic) is refused with a message: ruleset text
never becomes code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from .policy import AllOf, AnyOf, Compare, Condition, Negation, NoneOf

#: How problems are reported: ``CompileContext.error``.
Report = Callable[..., None]

#: Words that mean the score in conditions.
SCORE_WORDS = ("score", "得分", "分数", "总分")
#: Words that mean the node's stars in a subsidy ladder.
STARS_WORDS = ("stars", "star", "星级", "星数")
#: Words for an incident's severity in ``serious:``.
SEVERITY_WORDS = ("severity", "严重程度", "严重等级", "等级")


def to_condition(expr: Any, report: Report, own_words: Sequence[str], own: str) -> Condition | None:
    """Translate a checked expression into a condition over ``own`` (score/stars) and metrics.

    Accepted: comparisons of a name with a number (either side, chains too),
    ``and``, ``or``, ``not``, and a bare metric name (true when it is not 0).
    """
    from gridcore.rules import ast

    if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
        left = to_condition(expr.left, report, own_words, own)
        right = to_condition(expr.right, report, own_words, own)
        if left is None or right is None:
            return None
        cls = AllOf if expr.op == "and" else AnyOf
        parts = [*(left.parts if isinstance(left, cls) else (left,)), *(right.parts if isinstance(right, cls) else (right,))]
        return cls(tuple(parts))
    if isinstance(expr, ast.Unary) and expr.op == "not":
        if isinstance(expr.operand, ast.Var):
            return NoneOf(_subject(expr.operand.name, own_words, own))
        inner = to_condition(expr.operand, report, own_words, own)
        return None if inner is None else Negation(inner)
    if isinstance(expr, ast.Var):
        return Compare(_subject(expr.name, own_words, own), ">", 0.0)
    if isinstance(expr, ast.Compare):
        pairs = []
        for op, (lhs, rhs) in zip(expr.ops, itertools.pairwise(expr.operands)):
            pair = _pair(op, lhs, rhs, own_words, own)
            if pair is None:
                report(expr, "compare a name (score or a metric) with a number, e.g. score >= 90",
                       "请用名称（得分或指标）与数字比较，如 得分 >= 90")
                return None
            pairs.append(pair)
        return pairs[0] if len(pairs) == 1 else AllOf(tuple(pairs))
    report(expr, "a condition here compares score or a metric with a number (and, or, not allowed)",
           "这里的条件只能把得分或指标与数字比较（可用 且、或、不）")
    return None


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


def _pair(op: str, left: Any, right: Any, own_words: Sequence[str], own: str) -> Compare | None:
    from gridcore.rules import ast

    if op not in _FLIP:
        return None
    if isinstance(left, ast.Var) and is_number(right):
        return Compare(_subject(left.name, own_words, own), op, float(right.value))
    if isinstance(right, ast.Var) and is_number(left):
        return Compare(_subject(right.name, own_words, own), _FLIP[op], float(left.value))
    return None


def is_number(expr: Any) -> bool:
    from gridcore.rules import ast

    return isinstance(expr, ast.Literal) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool)


def _subject(name: str, own_words: Sequence[str], own: str) -> str:
    return own if name.lower() in own_words or name in own_words else name


def stars_threshold(condition: Condition) -> int | None:
    if isinstance(condition, Compare) and condition.subject == "stars":
        if condition.op == ">=":
            return int(condition.number)
        if condition.op == ">":
            return int(condition.number) + 1
        if condition.op == "==":
            return int(condition.number)
    return None
