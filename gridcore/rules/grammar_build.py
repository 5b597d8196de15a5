"""Composing the full grammar: core rules + generated keywords + each section's fragment.

The result is one LALR parser per set of sections (cached).  For every
section ``S`` and item kind ``K`` this generates::

    S__item: S__entry | _OVERRIDE S__entry -> S__override
    S__item_K: _ITEM_S_K name _COLON <body rule>        (named kinds)
    S__dated_K: _FROM date (_UNTIL date)? _SINCE_END? _COLON <body rule>
    S__remove: _REMOVE S__head

A keyword form that two keywords share (``分`` is the points' "points" and
the assessment's) is one terminal of its own, and each of the two keywords an
inlined rule over its terminals (``split_shared``): the LALR parser, not the
lexer, tells them apart by where they stand, with Lark's ordinary contextual
lexer and nothing of Lark's replaced.

The core grammar is the file grammar.lark next to this module; it is read and
composed with the fragments into one grammar text (rather than loaded with
``Lark.open``) because the fragments and the keyword terminals, whose Chinese
lookaheads depend on every keyword of every section, are only known here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen
from lark import Lark
from lark.exceptions import GrammarError, LarkError

from ..errors import PluginError
from .grammar_cache import build_lark, cache_key
from .keywords import CORE_KEYWORDS, is_cjk, keyword_pattern, merge_keywords
from .sections import Section

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")
_RULE_DEF = re.compile(r"^\s*[?!]*([a-z_][a-z0-9_]*)(?:\.\d+)?\s*:", re.MULTILINE)
_TERM_DEF = re.compile(r"^\s*(_?[A-Z][A-Z0-9_]*)(?:\.\d+)?\s*:", re.MULTILINE)
SHARED_RULES = ("name", "number", "percent", "duration", "date", "string", "period", "expr",
                "ladder")


@frozen
class Grammar:
    """A built parser and what it knows: keywords, sections, start rules."""

    lark: Lark
    keywords: dict[str, tuple[str, ...]]
    sections: dict[str, Section[Any]]
    headers: dict[str, str]  # header word (lower-cased) -> section name
    #: terminal of the built parser -> the keyword terminals it stands for (shared forms)
    originals: dict[str, tuple[str, ...]] = field(factory=dict)
    #: keyword terminal that shares forms -> the terminals of the built parser for it
    pieces: dict[str, frozenset[str]] = field(factory=dict)
    #: rule or alias name -> the method of its section's transformer that builds its node
    builders: dict[str, Callable[[list[Any], Any], Any]] = field(factory=dict)
    #: the built parser's cache key (what it was built from: grammar_cache.py)
    key: str = ""

    def keywords_expected(self, terminals: Iterable[str]) -> list[str]:
        """The keyword terminals (as sections declare them) behind the parser's terminals.

        A keyword whose forms are shared is several terminals in the parser;
        it was expected when all of them are, and is not listed beside a
        keyword that covers more of them (``each``/``每`` alone is the
        assessment's ``each``; with ``per`` it is the core's ``per``).
        """
        found = set(terminals)
        out = {t for t in found if t not in self.originals}
        candidates = {original for t in found for original in self.originals.get(t, ())
                      if self.pieces[original] <= found}
        for original in candidates:
            if not any(self.pieces[original] < self.pieces[other] for other in candidates):
                out.add(original)
        return sorted(out)

    def item_start(self, section: str) -> str:
        """Start rule for an item line."""
        return f"{section}__item"

    def dated_start(self, section: str, kind: str) -> str:
        """Start rule for a dated line of an item kind."""
        return f"{section}__dated_{kind}"

    def remove_start(self, section: str) -> str:
        """Start rule for a removal line."""
        return f"{section}__remove"


@frozen
class SharedKeyword:
    """A keyword terminal some of whose forms another keyword also has.

    The lexer cannot tell such a form apart (LALR merges the lookaheads of
    different contexts), so each group of forms shared by the same keywords is
    one terminal of its own, ``pieces``, and the keyword is the inlined rule
    ``rule`` over its pieces: the parser, not the lexer, decides which keyword
    a shared form is, by where it stands.
    """

    rule: str
    pieces: tuple[str, ...]
    forms: dict[str, tuple[str, ...]]  # piece -> its forms


def split_shared(terminals: Mapping[str, tuple[str, ...]]) -> dict[str, SharedKeyword]:
    """For each keyword terminal sharing a form with another, how it is split."""
    owners: dict[str, set[str]] = {}
    for term, forms in terminals.items():
        for form in forms:
            owners.setdefault(_norm(form), set()).add(term)
    groups: dict[frozenset[str], str] = {}
    for owned in sorted(owners.values(), key=sorted):
        if len(owned) > 1 and frozenset(owned) not in groups:
            groups[frozenset(owned)] = f"SHARED_{len(groups) + 1}"
    out: dict[str, SharedKeyword] = {}
    for term, forms in terminals.items():
        by_piece: dict[str, list[str]] = {}
        for form in forms:
            holders = frozenset(owners[_norm(form)])
            by_piece.setdefault(groups[holders] if len(holders) > 1 else term, []).append(form)
        if len(by_piece) == 1 and term in by_piece:
            continue
        out[term] = SharedKeyword(f"_kw_{term.lower()}", tuple(sorted(by_piece)),
                                  {p: tuple(f) for p, f in by_piece.items()})
    return out


def _norm(form: str) -> str:
    return " ".join(form.lower().split())


_CACHE: dict[tuple[object, ...], Grammar] = {}


def build_grammar(sections: Sequence[Section[Any]]) -> Grammar:
    """The parser for these sections (cached by what the sections declare)."""
    key = tuple((s.signature(), id(s.transformer)) for s in sections)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    grammar = _build(sections)
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = grammar
    return grammar


def _build(sections: Sequence[Section[Any]]) -> Grammar:
    seen: dict[str, Section[Any]] = {}
    headers: dict[str, str] = {}
    for section in sections:
        if not section.items:
            raise PluginError(f"section {section.name!r} declares no item kinds")
        if section.name in seen:
            raise PluginError(f"two plugins register a section named {section.name!r}")
        seen[section.name] = section
        for word in section.headers:
            low = word.lower()
            if low in headers:
                raise PluginError(
                    f"sections {headers[low]!r} and {section.name!r} both use the header {word!r}"
                )
            headers[low] = section.name
    try:
        keywords = merge_keywords([CORE_KEYWORDS, *(s.keywords for s in sections)])
    except ValueError as exc:
        raise PluginError(str(exc)) from None
    parts = [GRAMMAR_FILE.read_text(encoding="utf-8")]
    starts = ["preamble_line", "expr", "ladder"]
    item_terms: dict[str, tuple[str, ...]] = {}
    for section in sections:
        _check_fragment(section)
        parts.append(f"// ---- section {section.name}\n{section.grammar}")
        parts.append(_generated_rules(section, item_terms))
        starts.append(f"{section.name}__item")
        starts.append(f"{section.name}__remove")
        starts.extend(f"{section.name}__dated_{kind.name}" for kind in section.items)
    all_terms = {**keywords, **item_terms}
    # keyword_pattern looks only at the first character of the Chinese forms
    cjk_forms = sorted({f[0] for forms in all_terms.values() for f in forms if is_cjk(f[0])})
    shared = split_shared(all_terms)
    text = "\n\n".join(parts)
    terminals: list[str] = []
    for term, kw in sorted(shared.items()):
        # Every use of the keyword becomes an inlined rule over its pieces.
        text = re.sub(rf"(?<![A-Za-z0-9_])_{term}(?![A-Za-z0-9_])", kw.rule, text)
        terminals.append(f"{kw.rule}: " + " | ".join(f"_{piece}" for piece in kw.pieces))
    pieces = {term: forms for term, forms in all_terms.items() if term not in shared}
    for kw in shared.values():
        pieces.update(kw.forms)
    for term, forms in sorted(pieces.items()):
        pattern = keyword_pattern(forms, cjk_forms)
        terminals.append(f"_{term}.3: /{pattern.replace('/', chr(92) + '/')}/")
    text += "\n\n// ---- keywords (generated)\n" + "\n".join(terminals)
    versions = [(s.name, s.version) for s in sections]
    options: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "start": starts,
                               "propagate_positions": True, "maybe_placeholders": False}
    try:
        lark = build_lark(text, versions=versions, **options)
    except GrammarError as exc:
        names = ", ".join(s.name for s in sections)
        raise PluginError(f"the grammar of sections {names} does not build: {exc}") from None
    except LarkError as exc:
        names = ", ".join(s.name for s in sections)
        raise PluginError(f"the grammar of sections {names} is not LALR: {exc}") from None
    originals = {f"_{piece}": tuple(f"_{t}" for t, kw in sorted(shared.items()) if piece in kw.pieces)
                 for kw in shared.values() for piece in kw.pieces}
    pieces_of = {f"_{t}": frozenset(f"_{p}" for p in kw.pieces) for t, kw in shared.items()}
    builders = {rule: fn for section in sections for rule, fn in section.builders().items()}
    return Grammar(lark, dict(keywords), seen, headers, originals, pieces_of, builders,
                   cache_key(text, options, versions))


def _check_fragment(section: Section[Any]) -> None:
    prefix = f"{section.name}_"
    for rule in _RULE_DEF.findall(section.grammar):
        if not rule.startswith(prefix) or rule.startswith(f"{section.name}__"):
            raise PluginError(
                f"section {section.name!r}: grammar rule {rule!r} must start with {prefix!r} "
                f"(and not {section.name + '__'!r}, which gridcore generates)"
            )
    for term in _TERM_DEF.findall(section.grammar):
        raise PluginError(
            f"section {section.name!r}: declare keyword {term!r} in Section.keywords, "
            "not as a terminal in the fragment"
        )
    for kind in section.items:
        if not re.search(rf"^\s*[?!]*{re.escape(kind.body)}\s*:", section.grammar, re.MULTILINE):
            raise PluginError(
                f"section {section.name!r}: item kind {kind.name!r} names body rule "
                f"{kind.body!r}, which the fragment does not define"
            )


def _generated_rules(section: Section[Any], item_terms: dict[str, tuple[str, ...]]) -> str:
    s = section.name
    lines = [f"{s}__item: {s}__entry\n    | _OVERRIDE {s}__entry -> {s}__override"]
    entries, heads = [], []
    for kind in section.items:
        term = f"ITEM_{s.upper()}_{kind.name.upper()}"
        item_terms[term] = kind.keywords
        head = f"_{term} name" if kind.named else f"_{term}"
        lines.append(f"{s}__item_{kind.name}: {head} _COLON {kind.body}")
        lines.append(f"{s}__head_{kind.name}: {head}")
        lines.append(
            f"{s}__dated_{kind.name}: _FROM date (_UNTIL date)? _SINCE_END? _COLON {kind.body}"
        )
        entries.append(f"{s}__item_{kind.name}")
        heads.append(f"{s}__head_{kind.name}")
    lines.append(f"?{s}__entry: " + " | ".join(entries))
    lines.append(f"{s}__remove: _REMOVE ({' | '.join(heads)})")
    return "\n".join(lines)
