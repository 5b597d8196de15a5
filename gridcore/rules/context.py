"""``CompileContext``: what a section compiler uses to compile expressions and report errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from ..explain import RuleRef
from ..metrics import Metric
from . import ast
from . import schema as sch
from .checker import Checker, did_you_mean, ladder_problems, vocabulary_zh
from .compiler import CompiledExpr, compile_function
from .diagnose import make
from .errors import WARNING, Diagnostic
from .roles import Roles


class CompileContext:
    """Handed to ``Section.compile``; collects diagnostics for the whole ruleset.

    ``levels`` are the ruleset's declared levels; ``section`` the section
    being compiled; ``metrics`` the metrics the enabled plugins register
    (id -> ``Metric``), empty when whoever loads the ruleset passed none.
    Every ``error`` is collected (compilation goes on, so all errors are
    reported at once); if any was reported, the ruleset is rejected after
    every section has been compiled.
    """

    def __init__(self, section: str, levels: tuple[str, ...],
                 vocabularies: Mapping[str, frozenset[str]],
                 sources: Mapping[str, Sequence[str]],
                 level_names: Mapping[str, str] | None = None,
                 titles: Mapping[str, Mapping[str, str]] | None = None,
                 metrics: Mapping[str, Metric] | None = None, *,
                 own_file: str = "", removals: Sequence[ast.Removal] = (),
                 roles: Roles | None = None) -> None:
        self.section = section
        #: the roles a rule may name: the built-in ones and the roster's own (``roles.roster``
        #: False: compiled without a roster, see ``gridcore.rules.roles``); ``role`` resolves one
        self.roles = roles or Roles.of(None)
        #: the file being loaded (the last of its chain: a community's variant, not the
        #: district's base it extends): what its author can change.  A problem the whole
        #: chain makes (a level left without a time limit) is best said there
        self.own_file = own_file
        #: the items of this section that file removes from its parent (``remove limit street``)
        self.removals = tuple(removals)
        self.levels = levels
        #: metric id -> the ``Metric`` a plugin registers (``gridcore_register_metrics``)
        #: of the plugins enabled where the ruleset is loaded: a section that names
        #: metrics reads their ids, titles and what they are about here, and never
        #: builds a plugin manager of its own.  Empty: no metrics were given
        #: (a ruleset compiled with its sections only), so check nothing against them.
        self.metrics: Mapping[str, Metric] = dict(metrics or {})
        #: level id -> Chinese name, when the ruleset declares them
        self.level_names = dict(level_names or {})
        #: vocabulary -> title -> id (``ItemKind.titles``: a category's display name)
        self.titles = {vocab: dict(found) for vocab, found in (titles or {}).items()}
        self._vocabularies = dict(vocabularies)
        self._sources = sources
        self.diagnostics: list[Diagnostic] = []
        # The compiler runs once per span of days (timeline.py): an expression
        # written once is checked and compiled once, whatever the spans.
        self._compiled: dict[tuple[int, sch.Env, str | None, float, float], tuple[Any, CompiledExpr]] = {}

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
        return Checker(env, self._report, self._vocabularies, self.roles).expect(expr, expect)

    def compile_expr(self, expr: ast.Expr, env: sch.Env, *,
                     expect: str | None = None) -> CompiledExpr:
        """Check ``expr`` in ``env`` and compile it to a function of the env's variables.

        After an error the returned function is still callable (it returns
        None); the ruleset will be rejected anyway.
        """
        key = (id(expr), env, expect, 0.0, 0.0)
        found = self._compiled.get(key)
        if found is not None:
            return found[1]
        compiled = self._compile_expr(expr, env, expect)
        self._compiled[key] = (expr, compiled)
        return compiled

    def _compile_expr(self, expr: ast.Expr, env: sch.Env, expect: str | None) -> CompiledExpr:
        before = len(self.diagnostics)
        type_ = self.check_expr(expr, env, expect=expect)
        ref = self.ref(expr)
        if len(self.diagnostics) > before and self.failed:
            return _broken(env, ref, self.text(expr))
        return compile_function(_level_ids(expr, env, self._id), env, ref, type_,
                                self.text(expr))

    def compile_ladder(self, ladder: ast.Ladder, env: sch.Env, *, expect: str | None = None,
                       low: float = float("-inf"), high: float = float("inf")) -> CompiledExpr:
        """Check a ladder (values, conditions, overlaps, gaps, unreachable steps) and compile it.

        ``low``/``high`` is the range the tested value can take (for gaps).
        The compiled function returns the first matching step's value, the
        ``otherwise`` value, or None.
        """
        key = (id(ladder), env, expect, low, high)
        found = self._compiled.get(key)
        if found is not None:
            return found[1]
        compiled = self._compile_ladder(ladder, env, expect, low, high)
        self._compiled[key] = (ladder, compiled)
        return compiled

    def _compile_ladder(self, ladder: ast.Ladder, env: sch.Env, expect: str | None, low: float,
                        high: float) -> CompiledExpr:
        before = len(self.diagnostics)
        checker = Checker(env, self._report, self._vocabularies, self.roles)
        for step in ladder.steps:
            checker.expect(step.value, expect)
            checker.expect(step.condition, sch.BOOL)
        if ladder.otherwise is not None:
            checker.expect(ladder.otherwise, expect)
        for at, en, zh in ladder_problems(ladder, low=low, high=high):
            self.error(at, en, zh)
        ref = self.ref(ladder)
        if len(self.diagnostics) > before and self.failed:
            return _broken(env, ref, self.text(ladder))
        ladder = attrs.evolve(
            ladder,
            steps=tuple(attrs.evolve(s, value=_level_ids(s.value, env, self._id),
                                     condition=_level_ids(s.condition, env, self._id))
                        for s in ladder.steps),
            otherwise=None if ladder.otherwise is None
            else _level_ids(ladder.otherwise, env, self._id))
        return compile_function(ladder, env, ref, expect or sch.ANY, self.text(ladder))

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
        if vocabulary == "role":
            return self.role(name, at) is not None
        known = self._vocabularies.get(vocabulary)
        if known is None or text in known:
            return True
        pool = sorted(known)
        self.error(at if at is not None else name, f"unknown {vocabulary} '{text}'",
                   f"未知的{vocabulary_zh(vocabulary)} '{text}'",
                   expected=", ".join(pool[:12]) or f"no {vocabulary} is declared",
                   expected_zh="、".join(pool[:12]) or "尚未声明",
                   suggestion=did_you_mean(text, pool),
                   fix=f"use one of the {vocabulary} names listed, or declare it in the ruleset",
                   fix_zh=f"使用列出的{vocabulary_zh(vocabulary)}，或先在规则集中声明")
        return False

    def role(self, name: ast.Name | ast.Value | str, at: Any = None) -> str | None:
        """The id of the role ``name`` writes, by id or Chinese name, among the built-in roles
        and the roster's own (``街道网格专干`` -> ``street_officer``).

        A name that is no role is reported at ``at`` (default: the name), listing the
        roles and the closest one, and gives None.  Compiled without a roster, a name
        that is no slip of a built-in role is kept as written with a warning
        (``role-unchecked``): the roster may declare it.
        """
        text = name.text if isinstance(name, ast.Name) else (
            str(name.value) if isinstance(name, ast.Value) else name)
        found = self.roles.id_of(text)
        if found is not None:
            return found
        problem = self.roles.problem(text)
        self.error(at if at is not None else name, problem.message, problem.message_zh,
                   expected=problem.expected, expected_zh=problem.expected_zh, suggestion=problem.suggestion,
                   fix=problem.fix, fix_zh=problem.fix_zh, warning=problem.warning)
        return text if problem.warning else None

    def id_of(self, vocabulary: str, name: str) -> str:
        """The id ``name`` spells in ``vocabulary``: a level's Chinese name, a core role's
        (``网格长`` -> ``grid_leader``), an item's title (``水管漏水`` -> ``leaking_pipe``), or
        ``name`` itself."""
        if vocabulary == "level":
            return self.level_id(name) or name
        if vocabulary == "role":
            return self.roles.id_of(name) or name
        return self.titles.get(vocabulary, {}).get(name, name)

    def _id(self, vocabulary: str, name: str) -> str | None:
        if vocabulary in ("level", "role") or vocabulary in self.titles:
            return self.id_of(vocabulary, name)
        return None

    def level_id(self, name: str) -> str | None:
        """The level id for a level written by id or by its declared Chinese name."""
        if name in self.levels:
            return name
        for level, zh in self.level_names.items():
            if zh == name:
                return level
        return None

    # ------------------------------------------------------------------ references

    def text(self, at: Any) -> str:
        """The source text of anything with a position, exactly as the author wrote it.

        ``ctx.text(expr)`` is what an explanation shows for a condition or a
        formula (``incident.severity >= 4``); the whole line when the position
        has no end.
        """
        pos = _pos_of(at)
        lines = self._sources.get(pos.file, ())
        if not 0 < pos.line <= len(lines):
            return ""
        if pos.end_line < pos.line or (pos.end_line == pos.line and pos.end_column <= pos.column):
            return lines[pos.line - 1].strip()
        if pos.end_line == pos.line:
            return lines[pos.line - 1][pos.column - 1:pos.end_column - 1].strip()
        parts = [lines[pos.line - 1][pos.column - 1:]]
        parts.extend(lines[n - 1].strip() for n in range(pos.line + 1, pos.end_line))
        parts.append(lines[pos.end_line - 1][:pos.end_column - 1].strip())
        return " ".join(p.strip() for p in parts if p.strip())

    def ref(self, at: Any) -> RuleRef:
        """The ``RuleRef`` (file, line, column, line text) of anything with a position."""
        if isinstance(at, (ast.Item, ast.Version)):
            return at.ref
        pos = _pos_of(at)
        lines = self._sources.get(pos.file, ())
        text = lines[pos.line - 1].strip() if 0 < pos.line <= len(lines) else ""
        return RuleRef(pos.file, pos.line, pos.column, text)


def _pos_of(at: Any) -> ast.Pos:
    pos = getattr(at, "pos", None)
    if isinstance(pos, ast.Pos):
        return pos
    ref = getattr(at, "ref", None)
    if isinstance(ref, RuleRef):
        return ast.Pos(ref.file, ref.line, ref.column)
    return ast.NOWHERE


#: ``(vocabulary, name) -> id``, or None when the vocabulary has no other spellings.
IdOf = Callable[[str, str], "str | None"]


def _level_ids(expr: Any, env: sch.Env, id_of: IdOf) -> Any:
    """``expr`` with names compared to a field of a vocabulary (``node.level == "网格"``,
    ``incident.category == "水管漏水"``) as ids.

    The checker accepts a level by its id or its declared Chinese name, and an
    item by its id or its title; at run time the field holds the id, so the
    name is replaced by its id here.
    """
    if isinstance(expr, ast.Compare):
        operands = [_level_ids(o, env, id_of) for o in expr.operands]
        for i in range(len(expr.ops)):
            for field_side, other in ((i, i + 1), (i + 1, i)):
                vocabulary = _vocabulary_of(operands[field_side], env)
                if vocabulary is not None:
                    operands[other] = _level_value(operands[other], functools.partial(id_of, vocabulary))
        return attrs.evolve(expr, operands=tuple(operands))
    if isinstance(expr, ast.Unary):
        return attrs.evolve(expr, operand=_level_ids(expr.operand, env, id_of))
    if isinstance(expr, ast.Binary):
        return attrs.evolve(expr, left=_level_ids(expr.left, env, id_of),
                            right=_level_ids(expr.right, env, id_of))
    if isinstance(expr, ast.Conditional):
        return attrs.evolve(expr, test=_level_ids(expr.test, env, id_of),
                            then=_level_ids(expr.then, env, id_of),
                            otherwise=_level_ids(expr.otherwise, env, id_of))
    if isinstance(expr, ast.Call):
        return attrs.evolve(expr, args=tuple(_level_ids(a, env, id_of) for a in expr.args))
    return expr


def _vocabulary_of(expr: Any, env: sch.Env) -> str | None:
    """The vocabulary of a field reference (``level``, ``category`` ...), if it has one."""
    if not isinstance(expr, ast.FieldRef):
        return None
    found = env.lookup(expr.root)
    f = found[1].field_named(expr.name) if found else None
    return f.vocabulary if f is not None else None


def _level_value(expr: Any, level_id: Callable[[str], str | None]) -> Any:
    if isinstance(expr, ast.ListExpr):
        return attrs.evolve(expr, items=tuple(_level_value(x, level_id) for x in expr.items))
    if isinstance(expr, ast.Literal) and expr.type == sch.TEXT and isinstance(expr.value, str):
        return attrs.evolve(expr, value=level_id(expr.value) or expr.value)
    return expr


def _broken(env: sch.Env, ref: RuleRef, text: str) -> CompiledExpr:
    params = ", ".join(f"v{i}" for i in range(len(env.vars)))
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(f"def _rule({params}):\n    return None\n", namespace)  # noqa: S102 - fixed text
    return CompiledExpr(namespace["_rule"], tuple(v.name for v in env.vars), ref, "", sch.ANY,
                        text=text)
