"""What a plugin registers to add a section to the language (see docs/sections.md).

A ``Section`` names its header words, the kinds of items it accepts (each
``ItemKind`` a keyword, an optional name and a body rule), a Lark grammar
fragment defining the body rules, the keywords the fragment uses (English and
Chinese forms) and the function that compiles the resolved items into the
plugin's policy object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
from attrs import field

from ..classes import frozen

if TYPE_CHECKING:
    from .ast import Item, Pos
    from .context import CompileContext

#: The policy type a section compiles to (a frozen attrs class of its plugin).
P = TypeVar("P")

_SECTION_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_TERMINAL_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _forms(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{attribute.name} needs at least one non-empty form")


# Typed converters (plain ``tuple``/``dict`` would leave callers' arguments untyped).


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _item_kinds(value: Iterable[ItemKind]) -> tuple[ItemKind, ...]:
    return tuple(value)


def _text_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _any_map(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@frozen
class ItemKind:
    """One kind of item: ``KEYWORD [name] : body``.

    ``name`` is the kind (``activity``); ``keywords`` its spellings, English
    and Chinese (``("activity", "活动")``; a space inside a form matches any
    whitespace, and none between Chinese characters); ``body`` the rule of the
    section's fragment for what follows the colon; ``named`` whether a name
    follows the keyword (``activity 志愿服务:``) or not (``stars:``).
    """

    name: str = field(validator=lambda i, a, v: _check(_RULE_NAME, v, "item kind"))
    keywords: tuple[str, ...] = field(converter=_strings, validator=_forms)
    body: str = field(validator=lambda i, a, v: _check(_RULE_NAME, v, "body rule"))
    named: bool = True
    doc: str = ""
    doc_zh: str = ""
    #: What the item's name names: vocabularies among ``role``, ``level``,
    #: ``metric`` (the metrics handed to ``load_ruleset``) and any section's
    #: (``("role", "level")`` for a tilt).  The core keys the item by the id the
    #: name spells, so ``倾斜 专职网格员`` and ``tilt fulltime_gridworker`` are
    #: one item: a child's one replaces the parent's, both in one file are a
    #: duplicate.
    names: tuple[str, ...] = field(default=(), converter=_strings)
    #: Other spellings of names only the plugin knows, spelling -> id
    #: (``{"任意": "any"}``), or a function returning them (called when a
    #: ruleset is compiled).  Names of metrics need none: ``names=("metric",)``
    #: reads the registered metrics' Chinese titles.
    aliases: Mapping[str, str] | Callable[[], Mapping[str, str]] = field(factory=dict, eq=False)
    #: The titles an item of this kind gives itself, read from one version's
    #: body (``category leaking_pipe: 水管漏水`` gives ``水管漏水``).  When the
    #: kind forms a vocabulary (``Section.vocabularies``), each title is
    #: another spelling of the item's id wherever that vocabulary is written:
    #: an item's name (``事件 水管漏水`` is ``incident leaking_pipe`` when the
    #: kind's ``names`` include it) and a value compared with a field of the
    #: vocabulary (``incident.category == "水管漏水"`` compares the id).  Such
    #: a vocabulary is checked only once the ruleset declares at least one item.
    titles: Callable[[Any], Sequence[str]] | None = field(default=None, eq=False)

    def spellings(self) -> Mapping[str, str]:
        """The other spellings of names: spelling -> id."""
        return self.aliases() if callable(self.aliases) else self.aliases


def _check(pattern: re.Pattern[str], value: str, what: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} {value!r} must match {pattern.pattern}")


def _keywords(value: Mapping[str, Sequence[str]]) -> Mapping[str, tuple[str, ...]]:
    out = {}
    for term, forms in dict(value).items():
        _check(_TERMINAL_NAME, term, "keyword terminal")
        forms = tuple(forms)
        if not forms or not all(isinstance(f, str) and f.strip() for f in forms):
            raise ValueError(f"keyword {term} needs at least one non-empty form")
        out[term] = forms
    return out


@frozen
class Section(Generic[P]):
    """A section of the rules language, contributed by a plugin; ``P`` is its policy type.

    * ``name``: the section's id (``points``), also what ``Ruleset.section``
      takes; lower-case ASCII letters and digits.
    * ``headers``: the header words (``("points", "积分")``); the header line is
      a header word and a colon (``积分：``).
    * ``items``: the ``ItemKind`` list.
    * ``grammar``: a Lark fragment defining each item kind's body rule; every
      rule it defines must start with ``<name>_``.  It may use the shared rules
      and terminals listed in docs/sections.md.
    * ``keywords``: terminal name -> forms, for the keywords the fragment uses
      (``{"PER_HOUR": ("per hour", "每小时")}``).  Declare a keyword here rather
      than as a quoted string in the fragment, so Chinese forms and CJK lexing
      work.  Terminals whose name starts with ``_`` are dropped from the tree.
    * ``compile``: ``compile(items, ctx) -> P``; ``items`` are the items in
      force on some day (inheritance applied, in file order, each carrying
      the one version in force), ``ctx`` a ``CompileContext`` (compile
      expressions, report errors).  The core calls it once for each span of
      days over which no item changes; ``Ruleset.policy(section, at=day)``
      gives the plugin the ``P`` of the day's span.
    * ``vocabularies``: vocabulary name -> item kind whose item names form it
      (``{"activity": "activity"}``): names other sections and expressions can
      be checked against.
    * ``variables``: documentation of the variables the section binds in its
      expressions (``gridcore schema`` lists them).
    * ``transformer``: an object whose methods, named after the fragment's
      rules and aliases, build the section's own typed, frozen nodes: each is
      called as ``method(children, pos)`` with the rule's children already
      built (``Name``, ``Value``, ``Expr``, ``Ladder`` or the section's nodes)
      and the ``Pos`` of the text the rule covers.  A rule without a method
      becomes a generic ``Node`` (``kind`` is the rule name).  With a method
      for every rule, the compiler reads typed nodes and never a rule name.
    * ``version``: the plugin's version.  The built parser is cached on disk
      (gridcore/rules/grammar_cache.py) under a key that includes it, so a new
      version of the plugin always rebuilds the parser.
    * ``scoped``: items may name a scope in parentheses after their head
      (``stars (quarterly): ...``, ``指标 巡查覆盖率（季度考核）：...``): items
      of different scopes are different items (for inheritance and
      duplicates), and ``Item.scope`` gives the compiler the scope as written
      (the assessment section's cycles).
    """

    name: str = field(validator=lambda i, a, v: _check(_SECTION_NAME, v, "section name"))
    headers: tuple[str, ...] = field(converter=_strings, validator=_forms)
    items: tuple[ItemKind, ...] = field(converter=_item_kinds)
    grammar: str
    compile: Callable[[Sequence[Item], CompileContext], P] = field(eq=False)
    keywords: Mapping[str, tuple[str, ...]] = field(factory=dict, converter=_keywords)
    vocabularies: Mapping[str, str] = field(factory=dict, converter=_text_map)
    variables: Mapping[str, Any] = field(factory=dict, converter=_any_map, eq=False)
    doc: str = ""
    version: str = ""
    transformer: object | None = field(default=None, eq=False)
    scoped: bool = False
    #: what ``doc`` says, in Chinese (an editor's hover on the header and ``gridcore schema`` show it)
    doc_zh: str = ""

    def builders(self) -> dict[str, Callable[[list[Any], Pos], Any]]:
        """The transformer's methods for rules of this section (their names start with ``<name>_``)."""
        if self.transformer is None:
            return {}
        prefix = f"{self.name}_"
        return {name: getattr(self.transformer, name) for name in dir(self.transformer)
                if name.startswith(prefix) and callable(getattr(self.transformer, name))}

    def item_kind(self, name: str) -> ItemKind | None:
        """The item kind called ``name``."""
        for kind in self.items:
            if kind.name == name:
                return kind
        return None

    def signature(self) -> tuple[Any, ...]:
        """What the parser depends on (the parser cache key)."""
        return (self.name, self.version, self.headers, self.items, self.grammar,
                tuple(sorted(self.keywords.items())), self.scoped)
