"""The syntax tree of a ruleset: frozen attrs nodes that carry their position.

Positions (``pos``) never take part in equality, so a file and its formatted
version give equal trees.  Section compilers receive ``Item`` objects whose
``body`` is built from the section's grammar fragment: the section's own typed
node when it declares a transformer (``Section.transformer``), else a generic
``Node`` whose children are ``Node``, ``Name``, ``Value``, ``Expr`` or ``Ladder``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar, Union

from attrs import field

from ..classes import frozen
from ..explain import RuleRef


@frozen
class Pos:
    """Where something is written: file, 1-based line and column, and its end."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0


NOWHERE = Pos("", 0, 0)


# ------------------------------------------------------------------ leaves


@frozen
class Name:
    """A name written by the author: an identifier (Chinese or not) or a quoted string."""

    kind: ClassVar[str] = "name"
    text: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Value:
    """A literal from a shared rule.

    ``kind`` is one of ``number`` (int or float), ``percent`` (a fraction:
    ``80%`` is 0.8), ``duration`` (``datetime.timedelta``), ``date``
    (``datetime.date``), ``string`` (str), ``period`` (``day``, ``week``,
    ``month``, ``quarter`` or ``year``) or ``word`` (a keyword the fragment
    kept, its canonical terminal name in ``value``).
    """

    kind: str
    value: Any
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ expressions


@frozen
class Expr:
    """Base of expression nodes; pass them to ``CompileContext.compile_expr``."""

    kind: ClassVar[str] = "expr"


@frozen
class Literal(Expr):
    """A constant: number, percent (as a fraction), duration, date, string or boolean."""

    type: str
    value: Any
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Var(Expr):
    """A bare name: a variable the section binds (``score``) or a root (``event``)."""

    name: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class FieldRef(Expr):
    """``root.field``: a field of the documented schema (``event.hours``)."""

    root: str
    name: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Unary(Expr):
    """``-x`` (op ``neg``) or ``not x`` (op ``not``)."""

    op: str
    operand: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Binary(Expr):
    """Arithmetic (``+ - * /``) and boolean ``and``/``or``."""

    op: str
    left: Expr
    right: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Compare(Expr):
    """A comparison chain: ``60 <= score < 80``; ops among ``< <= > >= == != in not_in``."""

    ops: tuple[str, ...]
    operands: tuple[Expr, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Conditional(Expr):
    """``if test then a else b`` (``如果 test 则 a 否则 b``)."""

    test: Expr
    then: Expr
    otherwise: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Call(Expr):
    """A call of an allowed function: ``min``, ``max``, ``abs``, ``round``."""

    function: str
    args: tuple[Expr, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ListExpr(Expr):
    """``[a, b, c]``, for ``in``."""

    items: tuple[Expr, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ ladders


@frozen
class Step:
    """One rung of a ladder: ``value if condition``."""

    value: Expr
    condition: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Ladder:
    """``5 if score >= 90, 4 if score >= 80, otherwise 3``: first matching step wins."""

    kind: ClassVar[str] = "ladder"
    steps: tuple[Step, ...]
    otherwise: Expr | None = None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ section nodes

Child = Union["Node", Name, Value, Expr, Ladder]


@frozen
class Node:
    """A node of a section's own grammar: ``kind`` is the rule (or alias) name.

    Keywords and punctuation are dropped; a terminal the fragment keeps
    (declared without a leading underscore) appears as ``Value("word", NAME)``.
    """

    kind: str
    children: tuple[Child, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)

    def first(self, kind: str) -> Child | None:
        """The first direct child of that kind (``"name"``, ``"expr"``, a rule name ...)."""
        for child in self.children:
            if child.kind == kind:
                return child
        return None

    def all(self, kind: str) -> list[Child]:
        """Every direct child of that kind, in order."""
        return [child for child in self.children if child.kind == kind]

    def walk(self) -> Iterator[Child]:
        """This node and every descendant node or leaf, depth first."""
        stack: list[Child] = [self]
        while stack:
            current = stack.pop()
            yield current
            if isinstance(current, Node):
                stack.extend(reversed(current.children))


# ------------------------------------------------------------------ items


@frozen
class Version:
    """One dated version of an item: the item line itself or a ``from DATE:`` line.

    ``since``/``until`` bound the days it is in force (``until`` excluded);
    ``None`` means unbounded.
    """

    since: date | None
    until: date | None
    #: a ``Node``, or the node the section's transformer built for the body rule
    body: Any
    ref: RuleRef = field(eq=False)
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Item:
    """One item of a section: ``activity 志愿服务: 5 per hour`` and its dated versions.

    ``key`` (kind and name) identifies it for inheritance: a child ruleset's
    item with the same key replaces the parent's.
    """

    kind: str
    name: Name | None
    versions: tuple[Version, ...]
    override: bool = False
    ref: RuleRef = field(default=RuleRef("", 0), eq=False)
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)
    #: the scope written in parentheses after the head (``stars (quarterly):``),
    #: in a section that has scopes (``Section.scoped``); None if none
    scope: Name | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """``(kind, name)``: what a child ruleset overrides or removes (a scoped
        item's kind with its scope: ``("stars (quarterly)", None)``)."""
        return (scoped_kind(self.kind, self.scope), self.name.text if self.name else None)

    @property
    def body(self) -> Any:
        """The body of the first (undated) version."""
        return self.versions[0].body

    def at(self, day: date) -> Version | None:
        """The version in force on ``day``, or None if none is."""
        chosen = None
        for version in self.versions:
            if (version.since is None or version.since <= day) and (
                version.until is None or day < version.until
            ):
                chosen = version
        return chosen


@frozen
class Removal:
    """``remove activity x`` / ``删除 活动 x``: drop an inherited item."""

    kind: str
    name: Name | None
    ref: RuleRef = field(eq=False)
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)
    scope: Name | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """The key of the item removed."""
        return (scoped_kind(self.kind, self.scope), self.name.text if self.name else None)


def scoped_kind(kind: str, scope: Name | None) -> str:
    """An item's kind as its key holds it: with its scope, if it has one (``stars (quarterly)``)."""
    return kind if scope is None else f"{kind} ({scope.text})"


@frozen
class SectionBlock:
    """A section header and what follows it, as written in one file."""

    name: str
    items: tuple[Item, ...]
    removals: tuple[Removal, ...] = ()
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class RulesFile:
    """One parsed ``.rules`` file."""

    name: str | None
    extends: str | None
    levels: tuple[str, ...]
    sections: tuple[SectionBlock, ...]
    file: str = field(default="", eq=False)
    #: (level id, Chinese name) pairs from ``levels: grid (网格) > ...``
    level_names: tuple[tuple[str, str], ...] = ()
    #: the subtree the file governs, as ``applies to: NODE`` / ``适用于：NODE`` writes it
    #: (a node id or name, with where it is written); None: the whole tree
    applies_to: Name | None = None

    def section(self, name: str) -> SectionBlock | None:
        """The first block of that section, or None."""
        for block in self.sections:
            if block.name == name:
                return block
        return None


# ------------------------------------------------------------------ statements
# What one line of a file says, before the file is assembled (the parser's own:
# sections receive ``Item`` and ``Version``).


@frozen
class ItemLine:
    """An item line: ``activity 志愿服务: 5 per hour`` (``override`` if so written)."""

    kind: str
    name: Name | None
    body: Any
    override: bool = False
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)
    scope: Name | None = None


@frozen
class Scope:
    """``(quarterly)`` after an item's head, in a section that has scopes."""

    name: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class DatedLine:
    """A dated line: ``from 2025-01-01 until 2025-07-01: ...``; ``dates`` are one or two."""

    dates: tuple[Value, ...]
    body: Any
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class RemoveLine:
    """A removal line: ``remove activity 志愿服务``."""

    kind: str
    name: Name | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)
    scope: Name | None = None
