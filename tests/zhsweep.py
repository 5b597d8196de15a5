"""The sweep for English staff read under Chinese (``--lang zh``, a zh request, a zh editor session).

``english_words(text, names)`` is the rule every sweep (the CLI's, the service's, the language
server's, the schema's) applies: in what staff read in Chinese, an English word may stay only where
it is one of these:

1. an id, a path, a number, a time, a command's option and its value: a word holding a digit or one
   of ``_ . / : @`` (``yq-g1``, ``assessment:2025-01:g1``, ``points.board``, ``/tmp/x``), ``--now
   latest``, or one of ``names``, the names the store, the ruleset or the command knows as they are in
   any language (node and member ids such as ``yq``, plugin names, rules keywords, ``gridcore``), a
   file's extension (``文件.db``, ``.xlsx``), the name of a piece of software (``SOFTWARE``: ``Excel``,
   ``PostgreSQL``), or a placeholder of a command's usage in capitals (``MEMBER``, ``[OPTIONS]``);
2. quoted: what staff typed or wrote, as written (``'nosuch'``, ``"x"``, `` `fmt` ``, ``「a test's
   name」``), and ruleset source after the ``file.rules:line`` it is quoted from;
3. a gloss in brackets after Chinese: ``积分不足（insufficient balance: ...）``, ``评星定级（Star ratings
   2025-01）``, ``'会商' (consultation)``: the English kept for whoever reads both, never in place of
   the Chinese;
4. a single letter (the ``A`` and ``B`` of a comparison, a unit ``s``).

A number is read as it is, but not a span counted in English units: ``616d``, ``06h55`` (``616d 06h55``,
``14h42``: how long an incident has been open) say ``616天6小时55分``, ``14小时42分`` in Chinese.

Everything else is an English word staff would read where Chinese should be: ``规则变化 Rules that
differ``, ``指标 metric x``, ``yq-g1 rated 3 stars``.  A sweep of a command's output runs it on every
line but a table's (its column ids under their Chinese headings, its rows) and quoted ruleset source
(the line a diagnostic's carets point at): ``english_lines``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

#: A word: letters, digits and the punctuation of ids, paths, options and times.
_WORD = re.compile(r"[A-Za-z0-9_./:@+\-]+")
#: A span in English units (``616d``, ``06h55``, ``3d``, ``4h``): a number is not an id when it says days or hours so.
_SPAN_EN = re.compile(r"\d+(?:d|h(?:\d\d)?)")
#: A word read as it is in any language: it holds a digit or an id's punctuation, or is an option.
_ID = re.compile(r".*[\d_./:@].*|--?[A-Za-z].*")
#: Quoted text: as written.
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|「[^」\n]*」|“[^”\n]*”|‘[^’\n]*’")
#: An option and its value (``--now latest``, ``-p node=yq``).
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?:[ =](?!-)[^\s,;，；）)]+)?")
#: Ruleset source quoted after the place it is from: the rest of the line after ``file.rules:12``.
_SOURCE = re.compile(r"\S+\.rules:\d+(?::\d+)?\b.*")
#: A placeholder of a command's usage: ``MEMBER``, ``[OPTIONS]``, ``COMMAND [ARGS]...``.
_PLACEHOLDER = re.compile(r"[A-Z][A-Z_]+")
#: A Python warning a library gave (to stderr: matplotlib's of a font without a glyph), then its source line.
_WARNING = re.compile(r"\S+\.py:\d+: \w*Warning: .*")
_OPEN, _CLOSE = "(（[【", ")）]】"
#: A file's extension, as a path ends (``文件.db``: the word the rule sees is ``.db``).
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]*")
#: Software, named as it is in any language (Chinese text says ``用 Excel 打开``, ``由 uvicorn 提供服务``).
SOFTWARE = frozenset({"Excel", "TinyDB", "SQLite", "PostgreSQL", "Python", "uvicorn", "VS Code", "matplotlib",
                      "Chromium"})
_SOFTWARE = frozenset(word for name in SOFTWARE for word in name.split())
#: A table's rule under its column ids (``----  ----``), and the caret line under quoted source (``  ^^^``).
_RULE, _CARET = re.compile(r"[- ]*-[- ]*"), re.compile(r"\s*[\^~]+\s*")


def _is_chinese(ch: str) -> bool:
    return not ch.isascii() and not ch.isspace()


def _without_glosses(text: str) -> str:
    """``text`` without its bracketed glosses: a bracket (nested ones inside it matched) that opens after
    Chinese on its line, or holds Chinese itself."""
    out: list[str] = []
    at = 0
    while at < len(text):
        ch = text[at]
        if ch in _OPEN:
            depth, end = 0, at
            while end < len(text):
                depth += 1 if text[end] in _OPEN else -1 if text[end] in _CLOSE else 0
                if depth == 0:
                    break
                end += 1
            inside = text[at + 1:end]
            if any(_is_chinese(c) for c in "".join(out)) or any(_is_chinese(c) for c in inside):
                out.append(" ")
                at = end + 1
                continue
        out.append(ch)
        at += 1
    return "".join(out)


def english_words(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The English words of ``text`` that staff reading Chinese should not meet (the module's rule)."""
    text = _QUOTED.sub(lambda m: " 引 " if any(_is_chinese(c) for c in m[0]) else " ", text)
    text = _without_glosses(_OPTION.sub(" ", _SOURCE.sub(" ", text)))
    found = []
    for word in _WORD.findall(text):
        if _EXTENSION.fullmatch(word.rstrip(".:-+")):
            continue
        word = word.rstrip(".:-+").lstrip(".:")
        if _SPAN_EN.fullmatch(word):
            found.append(word)
            continue
        if len(re.sub(r"[^A-Za-z]", "", word)) < 2 or word in names or word.lower() in names or word in _SOFTWARE:
            continue
        if _ID.fullmatch(word) or _PLACEHOLDER.fullmatch(word):
            continue
        found.append(word)
    return found


def read_lines(output: str) -> Iterator[str]:
    """The lines of a command's ``output`` staff read as its messages: not a table's (its column ids under their
    Chinese, its rows under its rule), not ruleset source a diagnostic quotes (the line above its carets), not
    a library's Python warning and its source line; blank lines left out."""
    lines = output.splitlines()
    in_table = False
    for at, line in enumerate(lines):
        text = line.strip()
        if _WARNING.fullmatch(text) or (at > 0 and _WARNING.fullmatch(lines[at - 1].strip())):
            continue  # a library's warning and its source line, not a message of gridcore's
        following = lines[at + 1] if at + 1 < len(lines) else ""
        if not text:
            in_table = False
            continue
        if _RULE.fullmatch(text):
            in_table = True
            continue
        if in_table:
            continue
        if _RULE.fullmatch(following.strip()) and at > 0 and any(_is_chinese(c) for c in lines[at - 1]):
            continue  # a table's column ids, under their Chinese
        if following and _CARET.fullmatch(following):
            continue  # the source line a diagnostic points at
        yield line


def english_lines(output: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The lines of a command's ``output`` holding English words (``english_words``), of those ``read_lines``
    gives, each with the words."""
    return [f"{line}    <- {' '.join(words)}" for line in read_lines(output)
            if (words := english_words(line.strip(), names))]


def table_rows(output: str) -> Iterator[str]:
    """The rows of a command's ``output``'s tables: the lines under a table's rule (``----  ----``) up to the
    blank line that ends it, which ``read_lines`` leaves out."""
    in_table = False
    for line in output.splitlines():
        text = line.strip()
        if not text:
            in_table = False
        elif _RULE.fullmatch(text):
            in_table = True
        elif in_table:
            yield line


#: A table's cell: its columns are set two spaces apart at least.
_CELLS = re.compile(r"\s{2,}")
#: A cell holding a value with its Chinese (``Table.values``: ``获得 earn``, ``办理中（暂停） handling (paused)``,
#: ``派单/改派 assigned by hand``), or a note on a term headed so (``星级 stars: district-base.rules:67``): the
#: Chinese, one space, the value as stored (lower-case words).
_VALUE = re.compile(r"^([^A-Za-z\s]*[^\x00-\x7f][^A-Za-z\s]*) [a-z][a-z_ ]*(?: \([a-z ]+\))?(?=$|: )")


def english_rows(output: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The rows of ``output``'s tables (``table_rows``) holding English words (``english_words``), each with the
    words: the sweep of a table's cells, which ``english_lines`` does not read.  A cell holding a value with its
    Chinese (``获得 earn``: how ``Table.values`` shows a value it has Chinese for) is read as its Chinese."""
    found = []
    for line in table_rows(output):
        cells = [_VALUE.sub(r"\1", cell) for cell in _CELLS.split(line.strip())]
        if words := [w for cell in cells for w in english_words(cell, names)]:
            found.append(f"{line}    <- {' '.join(words)}")
    return found


#: A bracket holding one id-like word: ``（dispute）``, ``(fulltime_gridworker)``.
_BRACKETED_ID = re.compile(r"[（(]([A-Za-z][\w-]*)[）)]")


def bare_ids(output: str, chinese: Mapping[str, str]) -> list[str]:
    """The lines of ``output`` naming in brackets an id whose Chinese name ``chinese`` gives (``chinese_names``:
    a category, a role, a level) without that name just before it, each with the id and the name: ``事件 X
    （dispute）`` where the ruleset names the category 矛盾纠纷. The id after its name (``矛盾纠纷（dispute）``, a
    gloss) may stay; ``english_words`` lets any gloss after Chinese be, so it cannot tell."""
    found = []
    for line in output.splitlines():
        for match in _BRACKETED_ID.finditer(line):
            name = chinese.get(match[1])
            if name and not line[:match.start()].rstrip().endswith(name):
                found.append(f"{line.strip()}    <- {match[1]}: {name}")
    return found


def chinese_names(store: str) -> dict[str, str]:
    """The Chinese names a store's community and rulesets give ids staff read: roles, levels, and what the
    rulesets title (categories, metrics, sources, ...: ``Ruleset.titles``), by id."""
    from gridcore import Engine

    names: dict[str, str] = {}
    with Engine.open(store=store, read_only=True) as engine:
        names.update(engine.community.roles)
        names.update(engine.community.level_names)
        for _, ruleset in engine.rulesets():
            for titles in ruleset.titles.values():
                for title, ident in titles.items():
                    if title != ident and any(_is_chinese(ch) for ch in title):
                        names.setdefault(ident, title)
    return names
