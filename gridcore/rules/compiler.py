"""Compiling checked expressions to plain Python functions (the way Jinja2 compiles templates).

Each expression becomes the source of one small function, compiled once.
Ruleset text reaches that source only as ``repr`` of str/int/float/bool
literals; other constants (dates, durations) are passed in as named values;
variables become positional parameters ``v0, v1, ...`` in the env's order;
field access uses the attribute the schema names (never the author's text);
calls go to a fixed allow-list.  The code runs with no builtins at all.

``CompiledExpr.on_record()`` is the same expression as a function of one
value that holds every variable as an attribute of the variable's name (a
plugin's facts record): ``r.event.hours`` where the plain function reads
``v2.hours``.  A plugin that has its facts in one record calls that function
directly, with nothing between it and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from attrs import field

from ..classes import frozen
from ..explain import RuleRef
from . import ast
from . import schema as sch


def _div(a: Any, b: Any) -> Any:
    """Division where dividing by zero gives 0 (a rule never crashes a plugin)."""
    if not b:
        return 0 * a if not isinstance(a, timedelta) else timedelta(0)
    return a / b


#: What a value missing from a record raises when a condition reads it (the condition is then false).
MISSING = (TypeError, ValueError, ArithmeticError, AttributeError)
#: A variable in a body as ``Codegen`` writes it.
_PARAM = re.compile("\x00([0-9]+)\x00")

ALLOWED: dict[str, Any] = {"_min": min, "_max": max, "_abs": abs, "_round": round, "_div": _div}
_OPS = {"+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=",
        ">": ">", ">=": ">=", "in": "in", "not_in": "not in", "and": "and", "or": "or"}


@frozen
class CompiledExpr:
    """A compiled expression: call it with the env's variables, in order or by name.

    ``fn`` is the plain function (fastest: positional arguments in the env's
    order); ``ref`` the rule it came from; ``text`` the expression as the
    author wrote it (for explanations); ``source`` the generated Python.
    """

    fn: Callable[..., Any] = field(repr=False)
    params: tuple[str, ...]
    ref: RuleRef
    source: str = field(repr=False)
    type: str = sch.ANY
    #: what the expression reads: (label like "event.hours", parameter index, attribute or None)
    reads: tuple[tuple[str, int, str | None], ...] = ()
    text: str = ""
    #: the body with each variable as ``\x00<index>\x00``, and the constants it names (for ``on_record``)
    body: str = field(default="", repr=False)
    constants: dict[str, Any] = field(factory=dict, repr=False, eq=False)
    _record: dict[bool, Callable[[Any], Any]] = field(factory=dict, repr=False, eq=False, alias="_record")

    def on_record(self, *, test: bool = False) -> Callable[[Any], Any]:
        """The expression as a function of one record holding each variable as an attribute of its name.

        With ``test``, a condition's test: True or False, and False when a
        value it reads is missing (``None`` compared, a field absent) instead
        of an error.  Compiled once, on first use.  ``ValueError`` if a
        variable's name is not a plain identifier (it could not be an
        attribute).
        """
        found = self._record.get(test)
        if found is None:
            names = self.params
            if not all(name.isidentifier() and not name.startswith("_") for name in names):
                raise ValueError(f"variables {names} cannot all be attributes of a record")
            body = _PARAM.sub(lambda m: f"r.{names[int(m[1])]}", self.body) if self.body else "None"
            if test:
                source = (f"def _rule(r):\n    try:\n        return True if {body} else False\n"
                          "    except _missing:\n        return False\n")
            else:
                source = f"def _rule(r):\n    return {body}\n"
            namespace: dict[str, Any] = {"__builtins__": {}, **ALLOWED, **self.constants, "_missing": MISSING}
            exec(compile(source, f"<rule {self.ref.file}:{self.ref.line}>", "exec"), namespace)  # noqa: S102
            found = self._record[test] = namespace["_rule"]
        return found

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = args + tuple(kwargs[name] for name in self.params[len(args):])
        return self.fn(*args)

    def inputs(self, *args: Any) -> dict[str, Any]:
        """The values the expression read for these arguments, for an ``Explanation``.

        ``{"event.hours": 2.0, "member.party_member": True}``; call it with the
        same positional arguments as the expression.
        """
        out: dict[str, Any] = {}
        for label, index, attr in self.reads:
            value = args[index] if index < len(args) else None
            out[label] = getattr(value, attr, None) if attr is not None else value
        return out


class Codegen:
    """Python source for one expression; constants collected by name."""

    def __init__(self, env: sch.Env) -> None:
        self.env = env
        self.constants: dict[str, Any] = {}
        self.reads: dict[str, tuple[int, str | None]] = {}

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def literal(self, value: Any) -> str:
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int):
            return repr(int(value))
        if isinstance(value, float):
            return repr(float(value))
        if isinstance(value, str):
            return repr(str(value))
        if isinstance(value, (date, timedelta)):
            return self.constant(value)
        raise TypeError(f"no literal form for {type(value).__name__}")  # pragma: no cover

    def gen(self, e: Any) -> str:
        """Source text of ``e``."""
        if isinstance(e, ast.Literal):
            return self.literal(e.value)
        if isinstance(e, ast.Var):
            found = self.env.lookup(e.name)
            if found is None:  # pragma: no cover - the checker refused it
                raise KeyError(e.name)
            self.reads.setdefault(found[1].name, (found[0], None))
            return f"\x00{found[0]}\x00"
        if isinstance(e, ast.FieldRef):
            found = self.env.lookup(e.root)
            f = found[1].field_named(e.name) if found else None
            if found is None or f is None:  # pragma: no cover - the checker refused it
                raise KeyError(f"{e.root}.{e.name}")
            self.reads.setdefault(f"{found[1].name}.{f.name}", (found[0], f.attribute))
            return f"\x00{found[0]}\x00.{f.attribute}"
        if isinstance(e, ast.Unary):
            return f"(not {self.gen(e.operand)})" if e.op == "not" else f"(-{self.gen(e.operand)})"
        if isinstance(e, ast.Binary):
            if e.op == "/":
                return f"_div({self.gen(e.left)}, {self.gen(e.right)})"
            return f"({self.gen(e.left)} {_OPS[e.op]} {self.gen(e.right)})"
        if isinstance(e, ast.Compare):
            parts = [self.gen(e.operands[0])]
            for op, operand in zip(e.ops, e.operands[1:]):
                parts.append(_OPS[op])
                parts.append(self.gen(operand))
            return "(" + " ".join(parts) + ")"
        if isinstance(e, ast.Conditional):
            return f"({self.gen(e.then)} if {self.gen(e.test)} else {self.gen(e.otherwise)})"
        if isinstance(e, ast.Call):
            fn = sch.FUNCTIONS[e.function]
            return f"_{fn}({', '.join(self.gen(a) for a in e.args)})"
        if isinstance(e, ast.ListExpr):
            inner = ", ".join(self.gen(x) for x in e.items)
            return f"({inner},)" if e.items else "()"
        if isinstance(e, ast.Ladder):
            out = self.gen(e.otherwise) if e.otherwise is not None else "None"
            for step in reversed(e.steps):
                out = f"({self.gen(step.value)} if {self.gen(step.condition)} else {out})"
            return out
        raise TypeError(f"cannot compile {e!r}")  # pragma: no cover


def compile_function(body: Any, env: sch.Env, ref: RuleRef, type_: str = sch.ANY,
                     text: str = "") -> CompiledExpr:
    """Compile an expression (or ladder) to a function of the env's variables."""
    codegen = Codegen(env)
    expr = codegen.gen(body)  # variables as \x00<index>\x00: no literal's repr holds a NUL
    params = ", ".join(f"v{i}" for i in range(len(env.vars)))
    source = f"def _rule({params}):\n    return {_PARAM.sub(lambda m: f'v{m[1]}', expr)}\n"
    namespace: dict[str, Any] = {"__builtins__": {}, **ALLOWED, **codegen.constants}
    code = compile(source, f"<rule {ref.file}:{ref.line}>", "exec")
    exec(code, namespace)  # noqa: S102 - generated from the checked AST only (see module doc)
    reads = tuple((label, index, attr) for label, (index, attr) in codegen.reads.items())
    return CompiledExpr(namespace["_rule"], tuple(v.name for v in env.vars), ref, source, type_,
                        reads, text, expr, dict(codegen.constants))
