"""``gridcore lsp``: a language server for ``.rules`` files over stdio (pygls).

Diagnostics on open and change are those of ``gridcore check`` (the same
code: gridcore_app/checking.py), in the user's language: the client's
``initializationOptions`` ``{"lang": "zh"}``, else its locale, else the
environment's.  Completion offers every keyword (English and Chinese) and
the names in scope (a role by its key and its Chinese name; one the roster
beside the file adds is marked ``role (roster)``); hover explains a keyword with an example, or says where
a name is defined; go to definition follows names and ``extends`` into the
parent files; formatting is ``gridcore fmt``; document symbols are the
sections and their items.  Positions: LSP counts UTF-16 code units, the
rules language characters; ``_utf16``/``_chars`` convert.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pluggy import PluginManager
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from gridcore.plugin_host import Hooks
from gridcore.rules.errors import Diagnostic, default_lang
from gridcore.rules.formatter import format_source

from ..checking import check_text, community_beside
from .knowledge import Scope, find_parent, hover_text, keyword_zh, keywords, vocabulary_zh, word_at

LANGUAGE_ID = "gridcore-rules"


class RulesServer(LanguageServer):
    """The server's state: the plugins, the user's language, the last scope per document."""

    def __init__(self, plugins: PluginManager) -> None:
        super().__init__("gridcore-lsp", "0.1.0", text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.plugins = plugins
        hooks = Hooks(plugins)
        self.sections = hooks.register_sections()
        self.metrics = [(m.name, m.title_zh) for m in hooks.register_metrics()]
        self.lang = default_lang()

    def scope(self, uri: str) -> tuple[Scope, str, Path]:
        """The scope of an open document, its text and its path."""
        document = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri) or uri)
        scope = Scope.of(document.source, path, sections=self.sections, metrics=self.metrics,
                         community=community_beside(path))
        return scope, document.source, path


_FEATURES: list[tuple[str, Any, Callable[..., Any]]] = []


def _on(feature: str, options: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        _FEATURES.append((feature, options, handler))
        return handler

    return register


def make_server(plugins: PluginManager) -> RulesServer:
    """A server for the sections and metrics of ``plugins``, every feature registered."""
    ls = RulesServer(plugins)
    for feature, options, handler in _FEATURES:
        ls.feature(feature, options)(handler)
    return ls


@_on(lsp.INITIALIZE)
def initialize(ls: RulesServer, params: lsp.InitializeParams) -> None:
    """Pick the user's language: initializationOptions, then the client's locale."""
    options = params.initialization_options
    lang = options.get("lang") if isinstance(options, dict) else None
    if lang in ("en", "zh"):
        ls.lang = lang
    elif params.locale:
        ls.lang = "zh" if params.locale.lower().startswith("zh") else "en"


@_on(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: RulesServer, params: lsp.DidOpenTextDocumentParams) -> None:
    """Check the document as soon as it is opened."""
    publish(ls, params.text_document.uri)


@_on(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: RulesServer, params: lsp.DidChangeTextDocumentParams) -> None:
    """Check the document again on every change."""
    publish(ls, params.text_document.uri)


@_on(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: RulesServer, params: lsp.DidSaveTextDocumentParams) -> None:
    """Check again on save (a community file beside it may have changed)."""
    publish(ls, params.text_document.uri)


def publish(ls: RulesServer, uri: str) -> None:
    """Send the document's diagnostics, as ``gridcore check`` would report them."""
    document = ls.workspace.get_text_document(uri)
    path = Path(to_fs_path(uri) or uri)
    result = check_text(document.source, path, plugins=ls.plugins, sections=ls.sections)
    lines = document.source.splitlines()
    extends_line = Scope.of(document.source, path, sections=ls.sections).extends_line \
        if any(d.file != str(path) for d in result.diagnostics) else 0
    out = [to_lsp(d, lines, ls.lang, here=str(path), extends_line=extends_line)
           for d in result.diagnostics]
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, diagnostics=out, version=document.version))


def to_lsp(d: Diagnostic, lines: list[str], lang: str, *, here: str, extends_line: int = 0) -> lsp.Diagnostic:
    """One diagnostic for the editor: a parent's problem is shown on the ``extends`` line."""
    from ..checking import diagnostic_json

    doc = diagnostic_json(d)
    zh = lang == "zh"
    message = doc["message"]["zh" if zh else "en"]
    expected = doc["expected"]["zh" if zh else "en"]
    fix = doc["fix"]["zh" if zh else "en"]
    parts = [message]
    if expected:
        parts.append(("应为：" if zh else "expected: ") + expected)
    if d.suggestion:
        parts.append(("是不是想写：" if zh else "did you mean: ") + d.suggestion)
    if fix:
        parts.append(("修改：" if zh else "fix: ") + fix)
    if d.file == here and d.line:
        line = d.line - 1
        text = lines[line] if line < len(lines) else ""
        start = _utf16(text, max(0, d.column - 1))
        end = _utf16(text, max(0, d.column - 1) + max(1, d.width))
    else:
        line = max(0, extends_line - 1)
        text = lines[line] if line < len(lines) else ""
        start, end = 0, _utf16(text, len(text))
        if d.file and d.file != here:
            parts[0] = f"{Path(d.file).name}:{d.line}: {parts[0]}" if d.line else \
                f"{Path(d.file).name}: {parts[0]}"
    return lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=line, character=start),
                        end=lsp.Position(line=line, character=max(end, start + 1))),
        message="\n".join(parts),
        severity=lsp.DiagnosticSeverity.Error if d.is_error else lsp.DiagnosticSeverity.Warning,
        code=doc["code"],
        source="gridcore",
    )


def _utf16(text: str, chars: int) -> int:
    """The UTF-16 offset of the character offset ``chars`` in ``text``."""
    return len(text[:chars].encode("utf-16-le")) // 2


def _chars(text: str, units: int) -> int:
    """The character offset of the UTF-16 offset ``units`` in ``text``."""
    count = 0
    for n, ch in enumerate(text):
        if count >= units:
            return n
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


@_on(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=[" ", ".", "：", ":", '"']))
def completion(ls: RulesServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    """Every keyword in both languages, and every name in scope."""
    scope, _, _ = ls.scope(params.text_document.uri)
    items = []
    kinds = {"keyword": lsp.CompletionItemKind.Keyword, "item": lsp.CompletionItemKind.Keyword,
             "section": lsp.CompletionItemKind.Module}
    zh = ls.lang == "zh"
    for form, what, detail in keywords(ls.sections, ls.lang):
        items.append(lsp.CompletionItem(label=form, kind=kinds[what], detail=detail))
    for d in scope.definitions:
        # a role the roster adds is marked so (its other spelling beside it: 街道网格专干 · street_officer)
        vocabulary = vocabulary_zh(d.vocabulary) if zh else d.vocabulary
        roster = (f" · 花名册（{d.roster}）" if zh else f" · roster {d.roster} (花名册)") if d.roster else ""
        items.append(lsp.CompletionItem(label=d.name, kind=lsp.CompletionItemKind.Value,
                                        detail=vocabulary + (f" · {d.text}" if d.text and not d.line else "")
                                        + roster,
                                        label_details=lsp.CompletionItemLabelDetails(
                                            description=vocabulary + ((" (花名册)" if zh else " (roster)")
                                                                      if d.roster else ""))))
    return lsp.CompletionList(is_incomplete=False, items=items)


def _word(ls: RulesServer, scope: Scope, text: str, position: lsp.Position) -> tuple[str, int] | None:
    lines = text.splitlines()
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    candidates = [k[0] for k in keywords(ls.sections)] + [d.name for d in scope.definitions]
    return word_at(line, _chars(line, position.character), candidates)


@_on(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: RulesServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """What a keyword means (with an example), or where a name is defined."""
    scope, text, _ = ls.scope(params.text_document.uri)
    found = _word(ls, scope, text, params.position)
    if found is None:
        return None
    word, start = found
    body = hover_text(word, scope, ls.lang)
    if not body:
        return None
    line = text.splitlines()[params.position.line]
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=body),
        range=lsp.Range(start=lsp.Position(line=params.position.line, character=_utf16(line, start)),
                        end=lsp.Position(line=params.position.line,
                                         character=_utf16(line, start + len(word)))))


@_on(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: RulesServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    """Where a name is defined (here or in a parent), or the file ``extends`` names."""
    scope, text, path = ls.scope(params.text_document.uri)
    lines = text.splitlines()
    if params.position.line == scope.extends_line - 1 and scope.parents:
        return [_location(scope.parents[0], 1, 0)]
    found = _word(ls, scope, text, params.position)
    if found is None:
        return []
    d = scope.lookup(found[0])
    if d is None or not d.file or not d.line:
        if d is not None and d.file:  # a roster name: the community file
            return [_location(Path(d.file), 1, 0)]
        return []
    target = Path(d.file)
    target_lines = lines if target == path else _read_lines(target)
    line_text = target_lines[d.line - 1] if d.line <= len(target_lines) else ""
    return [_location(target, d.line, _utf16(line_text, d.column), len(d.name), line_text)]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _location(path: Path, line: int, character: int, length: int = 0, text: str = "") -> lsp.Location:
    end = _utf16(text, _chars(text, character) + length) if text else character
    return lsp.Location(uri=from_fs_path(str(path)) or str(path),
                        range=lsp.Range(start=lsp.Position(line=line - 1, character=character),
                                        end=lsp.Position(line=line - 1, character=end)))


@_on(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: RulesServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    """``gridcore fmt``'s layout, as one edit of the whole document (none if already formatted)."""
    text = ls.workspace.get_text_document(params.text_document.uri).source
    formatted = format_source(text)
    if formatted == text:
        return []
    lines = text.split("\n")
    end = lsp.Position(line=len(lines) - 1, character=_utf16(lines[-1], len(lines[-1])))
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=formatted)]


@_on(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: RulesServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    """The sections of the document, each with its items (what each is, in Chinese in a Chinese session)."""
    scope, text, _ = ls.scope(params.text_document.uri)
    lines = text.splitlines()
    zh = ls.lang == "zh"

    def make(symbol: Any) -> lsp.DocumentSymbol:
        last = lines[symbol.end_line - 1] if 0 < symbol.end_line <= len(lines) else ""
        first = lines[symbol.line - 1] if 0 < symbol.line <= len(lines) else ""
        full = lsp.Range(start=lsp.Position(line=symbol.line - 1, character=0),
                         end=lsp.Position(line=symbol.end_line - 1, character=_utf16(last, len(last))))
        chosen = lsp.Range(start=lsp.Position(line=symbol.line - 1, character=_utf16(first, symbol.column)),
                           end=lsp.Position(line=symbol.line - 1, character=_utf16(first, len(first))))
        return lsp.DocumentSymbol(
            name=symbol.name,
            kind=lsp.SymbolKind.Namespace if symbol.kind == "section" else lsp.SymbolKind.Field,
            range=full, selection_range=chosen, detail=keyword_zh(symbol.kind, scope.sections) if zh else symbol.kind,
            children=[make(c) for c in symbol.children])

    return [make(s) for s in scope.symbols]


def serve_stdio(plugins: PluginManager) -> None:
    """Speak LSP over the process's real standard input and output until the client exits."""
    import os

    # Copies of the descriptors: the server closes its streams on exit, and
    # the process's own sys.stdout (wrapped by the CLI) must still flush after.
    with os.fdopen(os.dup(0), "rb", buffering=0) as stdin, os.fdopen(os.dup(1), "wb") as stdout:
        make_server(plugins).start_io(stdin, stdout)


__all__ = ["LANGUAGE_ID", "RulesServer", "find_parent", "make_server", "serve_stdio"]
