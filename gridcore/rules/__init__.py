"""The rules language: each community's policies as ``.rules`` files.

Public API (see docs/language.md for authors, docs/sections.md for plugins)::

    from gridcore.rules import load_ruleset, parse_ruleset, Ruleset, RulesError, Section

``load_ruleset(path, sections=..., metrics=...)`` parses, checks and compiles a
file and the files it ``extends``; plugins contribute ``Section`` objects through
the ``gridcore_register_sections`` hook (and the metrics a section may name
through ``gridcore_register_metrics``) and read their typed policy back with
``ruleset.policy(section, at=day)`` (or ``Engine.policy(section, at=time)``).
"""

from . import schema
from .ast import (
    Binary,
    Call,
    Compare,
    Conditional,
    Expr,
    FieldRef,
    Item,
    Ladder,
    ListExpr,
    Literal,
    Name,
    Node,
    Pos,
    Removal,
    RulesFile,
    Step,
    Unary,
    Value,
    Var,
    Version,
)
from .compiler import CompiledExpr
from .context import CompileContext
from .errors import Diagnostic, RulesError
from .parser import parse_expression, parse_source
from .ruleset import Ruleset, Source, compile_chain, load_ruleset, parse_ruleset
from .schema import Env, Field, Variable
from .sections import ItemKind, Section
from .timeline import InForce

__all__ = [
    "Binary",
    "Call",
    "Compare",
    "CompileContext",
    "CompiledExpr",
    "Conditional",
    "Diagnostic",
    "Env",
    "Expr",
    "Field",
    "FieldRef",
    "InForce",
    "Item",
    "ItemKind",
    "Ladder",
    "ListExpr",
    "Literal",
    "Name",
    "Node",
    "Pos",
    "Removal",
    "RulesError",
    "RulesFile",
    "Ruleset",
    "Section",
    "Source",
    "Step",
    "Unary",
    "Value",
    "Var",
    "Variable",
    "Version",
    "compile_chain",
    "load_ruleset",
    "parse_expression",
    "parse_ruleset",
    "parse_source",
    "schema",
]
