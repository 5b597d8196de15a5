"""Composing the full grammar: core rules + generated keywords + each section's fragment.

The result is one LALR parser per set of sections (cached), whose start rule
``rules_file`` reads a whole file.  For every section ``S`` and item kind
``K`` this generates::

    rules_file: (file_preamble _NL)* (S__block | ...)*
    file_preamble: preamble_line, its words as _LINE_ words
    S__block: S__header _NL (S__item _NL | _LINE_REMOVE S__head_K _NL -> S__remove)*
    S__header: _HEADER_S _COLON                          (S's header words)
    S__item: S__entry | _OVERRIDE S__entry -> S__override
    S__entry: S__item_K | ...
    S__item_K: _ITEM_S_K name _COLON <body rule> (_NL_DATED S__dated_K)*
    S__dated_K: _FROM date (_UNTIL date)? _SINCE_END? _COLON <body rule>
    S__remove: _REMOVE S__head_K

The statements (``preamble_line``, ``S__item``, ``S__dated_K``,
``S__remove``) are start rules too: a line the file's parse rejects is parsed
alone from the one it looks like, to say what is wrong with it.  An item
line read alone ends before its dated lines (``_NL_DATED`` is the newline
before one), so it gives the same tree as in the file.

A ``_LINE_`` word (``ruleset``, ``extends``, ``levels``, ``remove``) is the
keyword followed by no letter or digit: a line that starts with it glued to
a name (``删除活动 x``) has always been read as an item, and is.

The file's rules follow a statement only with ``_NL`` or ``_NL_DATED``, which
never occur inside a line read alone: LALR merges the states of a statement
read in the file and read alone, and all it adds to their lookaheads is those
two, so a bad line's message (what was expected where) is what it was when
every line was parsed alone.  A rule shared between the item kinds' dated
lines, say, would change it: keep it so.

Each generated rule has a builder (``Grammar.builders``) that makes the
statement's typed node (``ast.ItemLine``, ``ast.DatedLine``,
``ast.RemoveLine``); ``Grammar.blocks``, ``Grammar.items`` and
``Grammar.dated`` say what a rule of the file's tree is, so nothing reads a
rule's name to find out.

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

import attrs
from attrs import field
from lark import Lark
from lark.exceptions import GrammarError, LarkError

from ..classes import frozen
from ..errors import PluginError
from . import ast
from .grammar_cache import build_lark, cache_key, is_cached
from .keywords import CJK, CORE_KEYWORDS, is_cjk, keyword_pattern, merge_keywords
from .lines import DATED_NEXT, NEWLINE, STATEMENT_END, StatementEnds
from .sections import ItemKind, Section

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")
_RULE_DEF = re.compile(r"^\s*[?!]*([a-z_][a-z0-9_]*)(?:\.\d+)?\s*:", re.MULTILINE)
_TERM_DEF = re.compile(r"^\s*(_?[A-Z][A-Z0-9_]*)(?:\.\d+)?\s*:", re.MULTILINE)
#: A rule's definition as an item kind's body must be written (no priority): ``[?!]*name:`` at a line's start.
_BODY_DEF = re.compile(r"^\s*[?!]*(\w+)\s*:", re.MULTILINE)
SHARED_RULES = ("name", "number", "percent", "duration", "date", "string", "period", "expr",
                "ladder")
#: The start rule of a whole file.
FILE_START = "rules_file"
#: Terminals of line ends, never shown to an author as "expected".
LINE_ENDS = frozenset({STATEMENT_END, DATED_NEXT, NEWLINE})
#: The words of a header line as ``gridcore`` has always read them: a letter (or
#: ``_``, or a Chinese character), then letters, digits and single spaces.
_HEADER_FORM = re.compile(rf"[A-Za-z_{CJK}]\w*(?: \w+)*")


def _unbuilt(sections: Sequence[Section[Any]], names: str, what: str, exc: Exception) -> str:
    """Why the grammar did not build, naming the section(s) whose fragment's rules Lark names (every
    rule a fragment defines starts with its section's name), and how to go on without the plugin."""
    said = str(exc)
    named = [s.name for s in sections if re.search(rf"(?<![A-Za-z0-9_]){re.escape(s.name)}_", said)]
    if not named:
        return f"the grammar of sections {names} {what}: {said} (栏目语法无法构建)"
    which = ", ".join(repr(n) for n in named)
    return (f"the grammar fragment of section {which} {what}: {said}. Fix the plugin that registers it, or run "
            f"without it (gridcore -p no:PLUGIN ...; gridcore plugins lists them) "
            f"(栏目 {which} 的语法片段无法构建：请修复注册它的插件，或停用该插件后再运行)")


class LazyParser:
    """The built Lark parser, loaded from the disk cache the first time it is needed.

    Most commands that compile rulesets never parse: opening a store compiles
    its rulesets from their stored text, and the trees of a text parsed before
    come from the tree cache (tree_cache.py).  Loading the built parser is then
    the largest part of what compiling costs, so it is put off until a text
    must really be parsed (or a mistake explained).  A grammar whose parser is
    not in the disk cache is built at once, so a fragment that does not build
    is reported where the sections are composed, as always.
    """

    def __init__(self, load: Callable[[], Lark]) -> None:
        self._load: Callable[[], Lark] | None = load
        self._parser: Lark | None = None

    @classmethod
    def built(cls, parser: Lark) -> LazyParser:
        """A parser already built."""
        lazy = cls(lambda: parser)
        lazy._parser = parser
        return lazy

    @property
    def loaded(self) -> bool:
        """Whether the parser has been loaded (or built) in this process."""
        return self._parser is not None

    def get(self) -> Lark:
        """The parser, loaded on the first call."""
        if self._parser is None:
            assert self._load is not None
            self._parser, self._load = self._load(), None
        return self._parser


@frozen
class Grammar:
    """A built parser and what it knows: keywords, sections, start rules."""

    parser: LazyParser
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
    #: block rule of the file's grammar -> its section
    blocks: dict[str, str] = field(factory=dict)
    #: the rules (and aliases) of an item statement: ``S__item``, ``S__override``
    items: frozenset[str] = frozenset()
    #: the rules of a dated line: ``S__dated_K``
    dated: frozenset[str] = frozenset()

    @property
    def lark(self) -> Lark:
        """The built Lark parser (loaded from the disk cache on first use)."""
        return self.parser.get()

    def keywords_expected(self, terminals: Iterable[str]) -> list[str]:
        """The keyword terminals (as sections declare them) behind the parser's terminals.

        A keyword whose forms are shared is several terminals in the parser;
        it was expected when all of them are, and is not listed beside a
        keyword that covers more of them (``each``/``每`` alone is the
        assessment's ``each``; with ``per`` it is the core's ``per``).
        """
        found = set(terminals) - LINE_ENDS
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
    starts = [FILE_START, "preamble_line", "expr", "ladder"]
    item_terms: dict[str, tuple[str, ...]] = {}
    header_terms: list[str] = []
    blocks: dict[str, str] = {}
    for section in sections:
        _check_fragment(section)
        parts.append(f"// ---- section {section.name}\n{section.grammar}")
        parts.append(_generated_rules(section, item_terms))
        header = _header_terminal(section)
        if header:
            header_terms.append(header)
            parts.append(_block_rules(section))
            blocks[f"{section.name}__block"] = section.name
        starts.append(f"{section.name}__item")
        starts.append(f"{section.name}__remove")
        starts.extend(f"{section.name}__dated_{kind.name}" for kind in section.items)
    file_blocks = " | ".join(blocks)
    parts.append("// ---- a whole file (generated)\n"
                 f"{FILE_START}: (file_preamble _NL)*" + (" _rules_block*" if blocks else "")
                 + (f"\n_rules_block: {file_blocks}" if blocks else "")
                 + "\n?file_preamble: _LINE_RULESET name -> ruleset_decl"
                 "\n    | _LINE_EXTENDS name -> extends_decl"
                 "\n    | _LINE_LEVELS _COLON level (CMP level)* -> levels_decl"
                 "\n    | _LINE_APPLIES _COLON? name -> applies_decl")
    all_terms = {**keywords, **item_terms}
    # keyword_pattern looks only at the first character of the Chinese forms
    cjk_forms = sorted({f[0] for forms in all_terms.values() for f in forms if is_cjk(f[0])})
    shared = split_shared(all_terms)
    text = "\n\n".join(parts)
    terminals: list[str] = []
    if shared:
        # Every use of a shared keyword becomes an inlined rule over its pieces (one pass).
        uses = re.compile(r"(?<![A-Za-z0-9_])_(" + "|".join(map(re.escape, sorted(shared, key=len, reverse=True)))
                          + r")(?![A-Za-z0-9_])")
        text = uses.sub(lambda m: shared[m.group(1)].rule, text)
    for term, kw in sorted(shared.items()):
        terminals.append(f"{kw.rule}: " + " | ".join(f"_{piece}" for piece in kw.pieces))
    pieces = {term: forms for term, forms in all_terms.items() if term not in shared}
    for kw in shared.values():
        pieces.update(kw.forms)
    for term, forms in sorted(pieces.items()):
        pattern = keyword_pattern(forms, cjk_forms)
        terminals.append(f"_{term}.3: /{pattern.replace('/', chr(92) + '/')}/")
    text += "\n\n// ---- keywords (generated)\n" + "\n".join(terminals + header_terms)
    text += "\n" + _dated_newline() + "\n" + _line_words()
    versions = [(s.name, s.version) for s in sections]
    options: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "start": starts,
                               "propagate_positions": True, "maybe_placeholders": False,
                               "postlex": StatementEnds()}
    names = ", ".join(s.name for s in sections)

    def build() -> Lark:
        try:
            return build_lark(text, versions=versions, **options)
        except GrammarError as exc:
            raise PluginError(_unbuilt(sections, names, "does not build", exc)) from None
        except LarkError as exc:
            raise PluginError(_unbuilt(sections, names, "is not LALR", exc)) from None

    # Built before (its file is in the disk cache): loaded when first needed.
    parser = LazyParser(build) if is_cached(text, versions=versions, **options) else LazyParser.built(build())
    originals = {f"_{piece}": tuple(f"_{t}" for t, kw in sorted(shared.items()) if piece in kw.pieces)
                 for kw in shared.values() for piece in kw.pieces}
    pieces_of = {f"_{t}": frozenset(f"_{p}" for p in kw.pieces) for t, kw in shared.items()}
    builders = {rule: fn for section in sections for rule, fn in section.builders().items()}
    for section in sections:
        builders.update(_statement_builders(section))
    items = frozenset(f"{s.name}__{rule}" for s in sections for rule in ("item", "override"))
    dated = frozenset(f"{s.name}__dated_{kind.name}" for s in sections for kind in s.items)
    return Grammar(parser, dict(keywords), seen, headers, originals, pieces_of, builders,
                   cache_key(text, options, versions), blocks, items, dated)


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
    # the rules the fragment defines, in one pass (a pattern of each body's own compiled 53 a process): a body
    # (a word, ItemKind checks) is defined where ``^\s*[?!]*BODY\s*:`` would match
    defined = set(_BODY_DEF.findall(section.grammar))
    for kind in section.items:
        if kind.body not in defined:
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
        if section.scoped:
            head += f" {s}__scope?"
        lines.append(f"{s}__item_{kind.name}: {head} _COLON {kind.body} "
                     f"({DATED_NEXT} {s}__dated_{kind.name})*")
        lines.append(f"{s}__head_{kind.name}: {head}")
        lines.append(
            f"{s}__dated_{kind.name}: _FROM date (_UNTIL date)? _SINCE_END? _COLON {kind.body}"
        )
        entries.append(f"{s}__item_{kind.name}")
        heads.append(f"{s}__head_{kind.name}")
    lines.append(f"?{s}__entry: " + " | ".join(entries))
    if section.scoped:
        lines.append(f"{s}__scope: _LPAR name _RPAR")
    lines.append(f"{s}__remove: _REMOVE ({' | '.join(heads)})")
    return "\n".join(lines)


def _header_terminal(section: Section[Any]) -> str:
    """The terminal of the section's header words, or "" if none can be written.

    A header word is matched as ``gridcore`` has always matched it: any case,
    words separated by spaces, and only right before the colon.  Its priority
    is below every other terminal's: where the parser takes a name too (a
    mistake's message), ``积分：`` is the name it always was.
    """
    forms = sorted({h for h in section.headers if _HEADER_FORM.fullmatch(h)}, key=lambda h: (-len(h), h))
    if not forms:
        return ""
    words = "|".join(" +".join(re.escape(w) for w in form.split(" ")) for form in forms)
    pattern = f"(?i:{words})(?=[^\\S\\n]*[:\\uff1a])"
    return f"_HEADER_{section.name.upper()}.-1: /{pattern.replace('/', chr(92) + '/')}/"


def _line_words() -> str:
    """The words that start a preamble line or a removal, as a line's first word.

    As the old reader told these lines apart: the word, in any case, followed
    by no letter or digit.  Below the keywords' priority, so where a line is
    parsed alone and both match, the keyword is what the message names.
    """
    out = []
    for term in ("RULESET", "EXTENDS", "LEVELS", "APPLIES", "REMOVE"):
        # a form of two words (``applies to``) takes any spaces between them
        forms = "|".join(re.escape(f).replace(r"\ ", r"[ \t]+")
                         for f in sorted(CORE_KEYWORDS[term], key=len, reverse=True))
        out.append(f"_LINE_{term}.2: /(?i:{forms})(?!\\w)/")
    return "\n".join(out)


def _dated_newline() -> str:
    """The newline before a dated line, as ``from 2025-01-01`` (any form of 'from') starts it."""
    forms = "|".join(re.escape(f) for f in sorted(CORE_KEYWORDS["FROM"], key=lambda f: (-len(f), f)))
    before = "(?:\\n[ \\t\\u3000]*(?:#[^\\n]*)?)*\\n[ \\t\\u3000]*"
    return f"{DATED_NEXT}.2: /{before}(?=(?i:{forms})[^\\S\\n]*\\d)/"


def _block_rules(section: Section[Any]) -> str:
    """A section's block in a whole file: its header line, then its statements."""
    s = section.name
    heads = " | ".join(f"{s}__head_{kind.name}" for kind in section.items)
    return "\n".join([f"{s}__block: {s}__header _NL {s}__statement*",
                      f"{s}__header: _HEADER_{s.upper()} _COLON",
                      f"?{s}__statement: {s}__item _NL | _LINE_REMOVE ({heads}) _NL -> {s}__remove"])


def _statement_builders(section: Section[Any]) -> dict[str, Callable[[list[Any], ast.Pos], Any]]:
    """Builders of the statements' typed nodes, for the rules ``_generated_rules`` makes."""
    s = section.name
    out: dict[str, Callable[[list[Any], ast.Pos], Any]] = {
        f"{s}__item": lambda c, pos: c[0],
        f"{s}__override": lambda c, pos: attrs.evolve(c[0], override=True),
        f"{s}__remove": lambda c, pos: c[0],
    }
    for kind in section.items:
        out[f"{s}__item_{kind.name}"] = _item_line(kind)
        out[f"{s}__head_{kind.name}"] = _remove_line(kind)
        out[f"{s}__dated_{kind.name}"] = _dated_line
    if section.scoped:
        out[f"{s}__scope"] = lambda c, pos: ast.Scope(c[0], pos)
    return out


def _item_line(kind: ItemKind) -> Callable[[list[Any], ast.Pos], ast.ItemLine]:
    def build(children: list[Any], pos: ast.Pos) -> ast.ItemLine:
        return ast.ItemLine(kind.name, children[0] if kind.named else None, children[-1], pos=pos,
                            scope=_scope_of(children))
    return build


def _scope_of(children: list[Any]) -> ast.Name | None:
    """The scope an item's head writes (``stars (quarterly):``), if any."""
    return next((c.name for c in children if isinstance(c, ast.Scope)), None)


def _remove_line(kind: ItemKind) -> Callable[[list[Any], ast.Pos], ast.RemoveLine]:
    def build(children: list[Any], pos: ast.Pos) -> ast.RemoveLine:
        name = children[0] if children and not isinstance(children[0], ast.Scope) else None
        return ast.RemoveLine(kind.name, name, pos, scope=_scope_of(children))
    return build


def _dated_line(children: list[Any], pos: ast.Pos) -> ast.DatedLine:
    dates = tuple(c for c in children if isinstance(c, ast.Value) and c.kind == "date")
    return ast.DatedLine(dates, children[-1], pos)
