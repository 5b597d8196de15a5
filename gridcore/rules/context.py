"""``CompileContext``: what a section compiler uses to compile expressions and report errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..explain import RuleRef
from . import ast
from . import schema as sch
from .checker import Checker, did_you_mean, ladder_problems
from .compiler import CompiledExpr, compile_function
from .diagnose import make
from .errors import WARNING, Diagnostic


class CompileContext:
    """Handed to ``Section.compile``; collects diagnostics for the whole ruleset.

    ``levels`` are the ruleset's declared levels; ``section`` the section
    being compiled.  Every ``error`` is collected (compilation goes on, so all
    errors are reported at once); if any was reported, the ruleset is rejected
    after every section has been compiled.
    """

    def __init__(self, section: str, levels: tuple[str, ...],
                 vocabularies: Mapping[str, frozenset[str]],
                 sources: Mapping[str, Sequence[str]],
                 level_names: Mapping[str, str] | None = None) -> None:
        self.section = section
        self.levels = levels
        #: level id -> Chinese name, when the ruleset declares them
        self.level_names = dict(level_names or {})
        self._vocabularies = dict(vocabularies)
        self._sources = sources
        self.diagnostics: list[Diagnostic] = []

    # ------------------------------------------------------------------ reporting

    def error(self, at: Any, message: str, message_zh: str = "", *, expected: str = "",
              expected_zh: str = "", suggestion: str = "", fix: str = "", fix_zh: str = "",
              warning: bool = False) -> None:
        """Report a problem at ``at`` (anything with ``pos``: a Node, Name, Value, Expr, Item).

        ``message_zh`` is the Chinese message (defaults to the English one).
        With ``warning=True`` it is shown but does not reject the ruleset.
        """
        pos = _pos_of(at)
        lines = self._sources.get(pos.file, ())
        width = 1
        if pos.end_line == pos.line and pos.end_column > pos.column:
            width = pos.end_column - pos.column
        self.diagnostics.append(make(
            pos.file, lines, pos.line, pos.column, message, message_zh or message,
            expected=expected, expected_zh=expected_zh or expected, suggestion=suggestion,
            fix=fix, fix_zh=fix_zh or fix, severity=WARNING if warning else "error", width=width))

    def _report(self, at: Any, message: str, message_zh: str, *, expected: str = "",
                expected_zh: str = "", suggestion: str = "", fix: str = "", fix_zh: str = "",
                warning: bool = False) -> None:
        self.error(at, message, message_zh, expected=expected, expected_zh=expected_zh,
                   suggestion=suggestion, fix=fix, fix_zh=fix_zh, warning=warning)

    @property
    def failed(self) -> bool:
        """True once an error (not a warning) was reported."""
        return any(d.is_error for d in self.diagnostics)

    # ------------------------------------------------------------------ expressions

    def check_expr(self, expr: ast.Expr, env: sch.Env, *, expect: str | None = None) -> str:
        """Type-check without compiling; returns the type (``any`` after an error)."""
        return Checker(env, self._report, self._vocabularies).expect(expr, expect)

    def compile_expr(self, expr: ast.Expr, env: sch.Env, *,
                     expect: str | None = None) -> CompiledExpr:
        """Check ``expr`` in ``env`` and compile it to a function of the env's variables.

        After an error the returned function is still callable (it returns
        None); the ruleset will be rejected anyway.
        """
        before = len(self.diagnostics)
        type_ = self.check_expr(expr, env, expect=expect)
        ref = self.ref(expr)
        if len(self.diagnostics) > before and self.failed:
            return _broken(env, ref)
        return compile_function(expr, env, ref, type_)

    def compile_ladder(self, ladder: ast.Ladder, env: sch.Env, *, expect: str | None = None,
                       low: float = float("-inf"), high: float = float("inf")) -> CompiledExpr:
        """Check a ladder (values, conditions, overlaps, gaps, unreachable steps) and compile it.

        ``low``/``high`` is the range the tested value can take (for gaps).
        The compiled function returns the first matching step's value, the
        ``otherwise`` value, or None.
        """
        before = len(self.diagnostics)
        checker = Checker(env, self._report, self._vocabularies)
        for step in ladder.steps:
            checker.expect(step.value, expect)
            checker.expect(step.condition, sch.BOOL)
        if ladder.otherwise is not None:
            checker.expect(ladder.otherwise, expect)
        for at, en, zh in ladder_problems(ladder, low=low, high=high):
            self.error(at, en, zh)
        ref = self.ref(ladder)
        if len(self.diagnostics) > before and self.failed:
            return _broken(env, ref)
        return compile_function(ladder, env, ref, expect or sch.ANY)

    def constant(self, expr: Any, *, expect: str | None = None) -> Any:
        """The value of a constant expression or ``Value`` (None after reporting an error)."""
        if isinstance(expr, ast.Value):
            return expr.value
        if isinstance(expr, ast.Name):
            return expr.text
        compiled = self.compile_expr(expr, sch.Env(()), expect=expect)
        return compiled.fn()

    # ------------------------------------------------------------------ vocabularies

    def vocabulary(self, name: str) -> frozenset[str]:
        """The names in a vocabulary (``level``, ``role``, ``activity`` ...); empty if unknown."""
        return self._vocabularies.get(name, frozenset())

    def known(self, vocabulary: str, name: ast.Name | ast.Value | str, at: Any = None) -> bool:
        """True if ``name`` is in ``vocabulary``; otherwise report it (with did-you-mean)."""
        text = name.text if isinstance(name, ast.Name) else (
            str(name.value) if isinstance(name, ast.Value) else name)
        known = self._vocabularies.get(vocabulary)
        if known is None or text in known:
            return True
        pool = sorted(known)
        self.error(at if at is not None else name, f"unknown {vocabulary} '{text}'",
                   f"未知的{_VOCAB_ZH.get(vocabulary, vocabulary)} '{text}'",
                   expected=", ".join(pool[:12]) or f"no {vocabulary} is declared",
                   expected_zh="、".join(pool[:12]) or "尚未声明",
                   suggestion=did_you_mean(text, pool),
                   fix=f"use one of the {vocabulary} names listed, or declare it in the ruleset",
                   fix_zh=f"使用列出的{_VOCAB_ZH.get(vocabulary, vocabulary)}名称，或先在规则集中声明")
        return False

    def level_id(self, name: str) -> str | None:
        """The level id for a level written by id or by its declared Chinese name."""
        if name in self.levels:
            return name
        for level, zh in self.level_names.items():
            if zh == name:
                return level
        return None

    # ------------------------------------------------------------------ references

    def ref(self, at: Any) -> RuleRef:
        """The ``RuleRef`` (file, line, column, line text) of anything with a position."""
        if isinstance(at, (ast.Item, ast.Version)):
            return at.ref
        pos = _pos_of(at)
        lines = self._sources.get(pos.file, ())
        text = lines[pos.line - 1].strip() if 0 < pos.line <= len(lines) else ""
        return RuleRef(pos.file, pos.line, pos.column, text)


_VOCAB_ZH = {"level": "层级", "role": "角色", "activity": "活动", "category": "类别",
             "department": "部门", "reward": "礼遇"}


def _pos_of(at: Any) -> ast.Pos:
    pos = getattr(at, "pos", None)
    if isinstance(pos, ast.Pos):
        return pos
    ref = getattr(at, "ref", None)
    if isinstance(ref, RuleRef):
        return ast.Pos(ref.file, ref.line, ref.column)
    return ast.NOWHERE


def _broken(env: sch.Env, ref: RuleRef) -> CompiledExpr:
    params = ", ".join(f"v{i}" for i in range(len(env.vars)))
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(f"def _rule({params}):\n    return None\n", namespace)  # noqa: S102 - fixed text
    return CompiledExpr(namespace["_rule"], tuple(v.name for v in env.vars), ref, "", sch.ANY)
