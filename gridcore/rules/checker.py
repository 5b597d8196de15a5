"""Type-checking expressions against the schema, and checks shared by all sections.

``infer`` gives an expression's type in an ``Env``, reporting unknown names
and fields, type mismatches and unknown vocabulary values through a
``report`` callback (with a did-you-mean).  ``date_problems`` and
``ladder_problems`` find overlapping or gapped date ranges and threshold
ladders that overlap, leave a gap or can never be reached.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from . import ast
from . import schema as sch

if TYPE_CHECKING:
    from .roles import Roles


class Report(Protocol):
    """How the checker reports a problem."""

    def __call__(self, at: Any, message: str, message_zh: str, *, expected: str = "",
                 expected_zh: str = "", suggestion: str = "", fix: str = "", fix_zh: str = "",
                 warning: bool = False) -> None: ...


_VOCAB_ZH = {"level": "层级", "role": "角色", "activity": "活动", "category": "类别", "metric": "指标",
             "department": "条线部门", "reward": "礼遇", "task": "专项任务", "channel": "渠道",
             "holiday": "节假日"}


def vocabulary_zh(vocabulary: str) -> str:
    """What a vocabulary's names are called in Chinese (a third party's own: its id, said to be a name)."""
    return _VOCAB_ZH.get(vocabulary, f"名称（{vocabulary}）")


def did_you_mean(word: str, pool: Sequence[str]) -> str:
    """The spelling in ``pool`` that ``word`` is a slip of, or ''.

    Only a close match counts: at most one edit (a letter or character added,
    dropped, changed, or two swapped) per three letters, at least one.  A
    looser likeness suggests unrelated names (``cleanup`` -> ``checkup``).
    """
    limit = max(1, len(word) // 3)
    best: tuple[int, float, str] | None = None
    for other in dict.fromkeys(pool):
        distance = edits(word.lower(), other.lower(), limit)
        if distance <= limit:
            rank = (distance, -difflib.SequenceMatcher(None, word, other).ratio(), other)
            best = rank if best is None or rank < best else best
    return best[2] if best else ""


def edits(a: str, b: str, limit: int) -> int:
    """Edits from ``a`` to ``b`` (swaps of neighbours count one), or ``limit + 1`` if more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return min(row[-1], limit + 1)


def _words(t: str) -> tuple[str, str]:
    return sch.TYPE_WORDS.get(t, (t, t))


class Checker:
    """Infers types; remembers nothing between expressions but the env and vocabularies."""

    def __init__(self, env: sch.Env, report: Report,
                 vocabularies: Mapping[str, frozenset[str]], roles: Roles | None = None) -> None:
        self.env = env
        self.report = report
        self.vocabularies = vocabularies
        #: the roles in force (``gridcore.rules.roles``): a role compared to a name they lack
        #: is reported as they say (a warning when no roster was given)
        self.roles = roles

    def expect(self, expr: ast.Expr, wanted: str | None) -> str:
        """Infer and check against ``wanted`` (None: anything)."""
        got = self.infer(expr)
        if wanted and got not in (wanted, sch.ANY) and wanted != sch.ANY:
            en, zh = _words(wanted)
            gen, gzh = _words(got)
            self.report(expr, f"expected {en} here, but this is {gen}", f"这里应为{zh}，但写的是{gzh}",
                        expected=en, expected_zh=zh)
        return got

    def infer(self, e: ast.Expr) -> str:
        """The type of ``e`` (``any`` after an error, so one mistake is reported once)."""
        if isinstance(e, ast.Literal):
            return e.type
        if isinstance(e, ast.Var):
            found = self.env.lookup(e.name)
            if found is None:
                from .catalogue import NUMBER_WORDS

                digits = NUMBER_WORDS.get(e.name.lower())
                self.report(e, f"unknown name '{e.name}'", f"未知的名称 '{e.name}'",
                            expected=", ".join(self.env.names()) or "no names here",
                            expected_zh="、".join(self.env.names()) or "此处不能使用名称",
                            suggestion=did_you_mean(e.name, self.env.names()),
                            fix=f"write {digits}, not {e.name}" if digits is not None else "",
                            fix_zh=f"写成 {digits}，不要写 '{e.name}'" if digits is not None else "")
                return sch.ANY
            return found[1].type
        if isinstance(e, ast.FieldRef):
            return self._field(e)[0]
        if isinstance(e, ast.Unary):
            if e.op == "not":
                self.expect(e.operand, sch.BOOL)
                return sch.BOOL
            t = self.infer(e.operand)
            if t not in (sch.NUMBER, sch.DURATION, sch.ANY):
                self._mismatch(e, "-", t)
                return sch.ANY
            return t
        if isinstance(e, ast.Binary):
            return self._binary(e)
        if isinstance(e, ast.Compare):
            return self._compare(e)
        if isinstance(e, ast.Conditional):
            self.expect(e.test, sch.BOOL)
            a = self.infer(e.then)
            b = self.infer(e.otherwise)
            if sch.ANY not in (a, b) and a != b:
                self.report(e.otherwise, "both branches must give the same kind of value",
                            "两个分支的值必须同类", expected=_words(a)[0], expected_zh=_words(a)[1])
            return a if a != sch.ANY else b
        if isinstance(e, ast.Call):
            return self._call(e)
        if isinstance(e, ast.ListExpr):
            types = {self.infer(x) for x in e.items} - {sch.ANY}
            if len(types) > 1:
                self.report(e, "a list must hold one kind of value", "列表中的值必须同类")
            return sch.LIST
        raise TypeError(f"not an expression: {e!r}")  # pragma: no cover

    def _field(self, e: ast.FieldRef) -> tuple[str, sch.Field | None]:
        found = self.env.lookup(e.root)
        if found is None:
            # the position is the whole ``root.field``: so is the suggestion
            close = did_you_mean(e.root, self.env.names())
            self.report(e, f"unknown name '{e.root}'", f"未知的名称 '{e.root}'",
                        expected=", ".join(self.env.names()),
                        expected_zh="、".join(self.env.names()),
                        suggestion=f"{close}.{e.name}" if close else "")
            return sch.ANY, None
        var = found[1]
        f = var.field_named(e.name)
        if f is None:
            names = [x.name for x in var.fields] + [z for x in var.fields for z in x.zh]
            self.report(e, f"'{var.name}' has no field '{e.name}'",
                        f"'{e.root}' 没有字段 '{e.name}'",  # (成员, as the author wrote it, not member)
                        expected=", ".join(x.name for x in var.fields) or "no fields",
                        expected_zh="、".join(x.zh[0] if x.zh else x.name for x in var.fields) or "没有字段",
                        suggestion=(f"{e.root}.{s}" if (s := did_you_mean(e.name, names)) else ""))
            return sch.ANY, None
        return f.type, f

    def _mismatch(self, e: Any, op: str, t: str) -> None:
        en, zh = _words(t)
        self.report(e, f"'{op}' cannot be used with {en}", f"'{op}' 不能用于{zh}")

    def _binary(self, e: ast.Binary) -> str:
        if e.op in ("and", "or"):
            self.expect(e.left, sch.BOOL)
            self.expect(e.right, sch.BOOL)
            return sch.BOOL
        a, b = self.infer(e.left), self.infer(e.right)
        if sch.ANY in (a, b):
            return a if b == sch.ANY else b
        n, d, dt = sch.NUMBER, sch.DURATION, sch.DATE
        table = {
            ("+", n, n): n, ("-", n, n): n, ("*", n, n): n, ("/", n, n): n,
            ("+", d, d): d, ("-", d, d): d, ("*", d, n): d, ("*", n, d): d, ("/", d, n): d,
            ("/", d, d): n, ("+", dt, d): dt, ("-", dt, d): dt, ("-", dt, dt): d,
        }
        result = table.get((e.op, a, b))
        if result is None:
            aen, azh = _words(a)
            ben, bzh = _words(b)
            self.report(e, f"cannot compute {aen} {e.op} {ben}", f"无法计算 {azh} {e.op} {bzh}")
            return sch.ANY
        return result

    def _compare(self, e: ast.Compare) -> str:
        types = [self.infer(x) for x in e.operands]
        for i, op in enumerate(e.ops):
            left, right = types[i], types[i + 1]
            if op in ("in", "not_in"):
                if right not in (sch.LIST, sch.TEXT, sch.ANY):
                    self.report(e.operands[i + 1], "'in' needs a list like [a, b] on its right",
                                "'属于' 右边应是列表，如 [甲, 乙]")
                self._vocabulary(e.operands[i], e.operands[i + 1])
                continue
            if sch.ANY in (left, right) or left == right:
                if op not in ("==", "!=") and left in (sch.BOOL, sch.TEXT, sch.LIST):
                    self._mismatch(e, op, left)
                self._vocabulary(e.operands[i], e.operands[i + 1])
                self._vocabulary(e.operands[i + 1], e.operands[i])
                continue
            aen, azh = _words(left)
            ben, bzh = _words(right)
            self.report(e.operands[i + 1], f"cannot compare {aen} with {ben}",
                        f"无法比较{azh}和{bzh}", expected=aen, expected_zh=azh)
        return sch.BOOL

    def _vocabulary(self, field_side: ast.Expr, value_side: ast.Expr) -> None:
        if not isinstance(field_side, ast.FieldRef):
            return
        found = self.env.lookup(field_side.root)
        f = found[1].field_named(field_side.name) if found else None
        if f is None or f.vocabulary is None or f.vocabulary not in self.vocabularies:
            return
        known = self.vocabularies[f.vocabulary]
        values = value_side.items if isinstance(value_side, ast.ListExpr) else (value_side,)
        for v in values:
            if isinstance(v, ast.Literal) and v.type == sch.TEXT and v.value not in known:
                if f.vocabulary == "role" and self.roles is not None:
                    problem = self.roles.problem(v.value)
                    self.report(v, problem.message, problem.message_zh, expected=problem.expected,
                                expected_zh=problem.expected_zh, suggestion=problem.suggestion,
                                fix=problem.fix, fix_zh=problem.fix_zh, warning=problem.warning)
                    continue
                self.report(v, f"unknown {f.vocabulary} '{v.value}'",
                            f"未知的{vocabulary_zh(f.vocabulary)} '{v.value}'",
                            expected=", ".join(sorted(known)[:12]),
                            expected_zh="、".join(sorted(known)[:12]),
                            suggestion=did_you_mean(v.value, sorted(known)),
                            fix=f"use one of the {f.vocabulary} names listed, or declare it in the ruleset",
                            fix_zh=f"使用列出的{vocabulary_zh(f.vocabulary)}，或先在规则集中声明")

    def _call(self, e: ast.Call) -> str:
        fn = sch.FUNCTIONS.get(e.function)
        if fn is None:
            self.report(e, f"unknown function '{e.function}'", f"未知的函数 '{e.function}'",
                        expected="min, max, abs, round", expected_zh="最小、最大、绝对值、取整",
                        suggestion=did_you_mean(e.function, list(sch.FUNCTIONS)))
            return sch.ANY
        types = [self.infer(a) for a in e.args]
        arity = {"min": (1, 99), "max": (1, 99), "abs": (1, 1), "round": (1, 2)}[fn]
        if not arity[0] <= len(e.args) <= arity[1]:
            self.report(e, f"'{e.function}' takes {arity[0]}-{arity[1]} values, got {len(e.args)}",
                        f"'{e.function}' 需要 {arity[0]}-{arity[1]} 个值，实际 {len(e.args)} 个")
            return sch.ANY
        if fn == "round":
            for a, t in zip(e.args, types):
                if t not in (sch.NUMBER, sch.ANY):
                    self.expect(a, sch.NUMBER)
            return sch.NUMBER
        known = {t for t in types if t != sch.ANY}
        if len(known) > 1 or known - {sch.NUMBER, sch.DURATION}:
            self.report(e, f"'{e.function}' needs numbers (or durations) of one kind",
                        f"'{e.function}' 需要同类的数字或时长")
            return sch.ANY
        return known.pop() if known else sch.ANY


# ------------------------------------------------------------------ dates and ladders

Problem = tuple[Any, str, str]  # (where, English, Chinese)


def date_problems(item: ast.Item) -> list[Problem]:
    """Overlapping or gapped date ranges among an item's versions, and dates out of order."""
    out: list[Problem] = []
    dated = [v for v in item.versions if v.since is not None]
    for prev, cur in itertools.pairwise(dated):
        assert prev.since is not None and cur.since is not None
        if cur.since <= prev.since:
            out.append((cur, f"this date ({cur.since}) is not after the one above ({prev.since})",
                        f"这个日期（{cur.since}）不晚于上一行（{prev.since}）"))
        elif prev.until is not None and cur.since < prev.until:
            out.append((cur, f"{cur.since} overlaps the range above, which runs until {prev.until}",
                        f"{cur.since} 与上一行的日期范围重叠（上一行到 {prev.until} 为止）"))
        elif prev.until is not None and cur.since > prev.until:
            out.append((cur, f"nothing is in force from {prev.until} to {cur.since}",
                        f"{prev.until} 至 {cur.since} 之间没有生效的规则"))
    return out


def dropped_parts(item: ast.Item) -> list[tuple[ast.Version, list[Any]]]:
    """Parts a dated version no longer says that the version before it said.

    A dated version replaces the whole body, so ``5 per hour, at most 40 per
    month`` followed by ``from 2025-01-01: 6 per hour`` has no cap from 2025
    on.  Reported (as a warning) when a version drops more kinds of part than
    it adds: changing one part for another (``refuse`` to ``flag``) is not a
    drop.
    """
    out: list[tuple[ast.Version, list[Any]]] = []
    ordered = sorted(item.versions, key=lambda v: (v.since is not None, v.since or date.min))
    for prev, cur in itertools.pairwise(ordered):
        before = _parts(prev.body)
        after = set(_parts(cur.body))
        missing = [node for kind, node in before.items() if kind not in after]
        if missing and len(missing) > len(after - set(before)):
            out.append((cur, missing))
    return out


def _parts(body: Any) -> dict[str, Any]:
    """A body's parts by kind: a ``Node``'s node children, or a section's typed node's parts.

    A typed node's parts are its fields holding nodes with a position (alone,
    or in a tuple); an empty optional field is a part not written.
    """
    if isinstance(body, ast.Node):
        return {c.kind: c for c in body.children if isinstance(c, ast.Node)}
    found: dict[str, Any] = {}
    if attrs.has(type(body)):
        for f in attrs.fields(type(body)):
            value = getattr(body, f.name)
            for part in value if isinstance(value, tuple) else (value,):
                if attrs.has(type(part)) and isinstance(getattr(part, "pos", None), ast.Pos):
                    found.setdefault(f"{f.name}:{type(part).__qualname__}", part)
    return found


def _bound(cond: ast.Expr) -> tuple[str, float, float] | None:
    """``(subject, low, high)`` for ``x >= c``, ``x < c``, ``a <= x < b`` ... (half-open)."""
    if not isinstance(cond, ast.Compare):
        return None
    low, high = -math.inf, math.inf
    subject: str | None = None
    for i, op in enumerate(cond.ops):
        a, b = cond.operands[i], cond.operands[i + 1]
        if isinstance(b, ast.Literal) and b.type == sch.NUMBER and not isinstance(a, ast.Literal):
            name, value, flipped = _subject(a), float(b.value), False
        elif isinstance(a, ast.Literal) and a.type == sch.NUMBER and not isinstance(b, ast.Literal):
            name, value, flipped = _subject(b), float(a.value), True
        else:
            return None
        if name is None or (subject is not None and name != subject):
            return None
        subject = name
        if flipped:
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        eps = 1e-9
        if op == ">=":
            low = max(low, value)
        elif op == ">":
            low = max(low, value + eps)
        elif op == "<":
            high = min(high, value)
        elif op == "<=":
            high = min(high, value + eps)
        else:
            return None
    return (subject, low, high) if subject is not None else None


def _subject(e: ast.Expr) -> str | None:
    if isinstance(e, ast.Var):
        return e.name
    if isinstance(e, ast.FieldRef):
        return f"{e.root}.{e.name}"
    return None


def ladder_problems(ladder: ast.Ladder, *, low: float = -math.inf,
                    high: float = math.inf) -> list[Problem]:
    """Steps that can never be reached, overlap an earlier step, or leave a gap.

    Applies when every step's condition bounds the same value with constants
    (``score >= 90``, ``60 <= score < 80``); ``low``/``high`` is the value's
    whole range (e.g. 0 and 100.000001 for a score out of 100).
    """
    bounds = [_bound(step.condition) for step in ladder.steps]
    if not bounds or any(b is None for b in bounds):
        return []
    subjects = {b[0] for b in bounds if b is not None}
    if len(subjects) != 1:
        return []
    out: list[Problem] = []
    covered: list[tuple[float, float]] = []
    bands: list[tuple[float, float]] = []  # steps bounded on both sides
    for step, b in zip(ladder.steps, bounds):
        assert b is not None
        lo, hi = max(b[1], low), min(b[2], high)
        band = b[1] != -math.inf and b[2] != math.inf
        rest = _subtract([(lo, hi)], covered)
        if lo >= hi or not rest:
            out.append((step, "this step can never be reached: the steps before it already cover it",
                        "这一档永远不会用到：前面的档已经覆盖了它"))
        elif rest != [(lo, hi)] and (band or _subtract([(lo, hi)], bands) != [(lo, hi)]):
            # Descending thresholds (>= 90, >= 80, ...) overlap by design; a band
            # (60 <= score < 80) that overlaps another step is a mistake.
            out.append((step, "this step overlaps an earlier one (the first matching step wins)",
                        "这一档与前面的档重叠（按先匹配的档计算）"))
        covered.append((lo, hi))
        if band:
            bands.append((lo, hi))
    if ladder.otherwise is None:
        gaps = _subtract([(low, high)], covered)
        gaps = [(a, b) for a, b in gaps if b - a > 1e-6]
        if gaps:
            gap_low, gap_high = gaps[0]
            subject = next(iter(subjects))
            span = f"{subject} < {gap_high:g}" if gap_low == -math.inf else (
                f"{subject} >= {gap_low:g}" if gap_high == math.inf
                else f"{gap_low:g} <= {subject} < {gap_high:g}")
            out.append((ladder, f"no step applies when {span}; add 'otherwise ...' or a step",
                        f"当 {span} 时没有适用的档；请加上 '否则 ...' 或补一档"))
    return out


def _subtract(ranges: list[tuple[float, float]],
              cut: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = list(ranges)
    for c_lo, c_hi in cut:
        nxt = []
        for lo, hi in out:
            if c_hi <= lo or c_lo >= hi:
                nxt.append((lo, hi))
                continue
            if lo < c_lo:
                nxt.append((lo, c_lo))
            if c_hi < hi:
                nxt.append((c_hi, hi))
        out = nxt
    return [(a, b) for a, b in out if b > a]

