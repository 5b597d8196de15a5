"""Reading a file once: its parse trees, kept on disk between processes.

Opening a store compiles every ruleset it holds from its text, and most of
that is the lexer: Lark builds the regular expressions of each parser state
it meets the first time it meets it, in every new process.  So the trees of
a file (Lark's ``Tree`` and ``Token``, as plain JSON: the whole file's, or
after a mistake those of each stretch and line read alone, by start rule and
place in the text) are saved in the parser cache's folder (grammar_cache.py:
private to the user, never making a command fail) under a hash of the built
parser's key and the file's text; the next process reads a tree instead of
parsing.  What did not parse is never saved: it is parsed (and reported)
again.  A changed file, grammar, plugin or Lark version looks for another
file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lark import Token, Tree
from lark.tree import Meta

from ..fastjson import written_loads
from .grammar_cache import _usable_folder, cache_dir

#: Tree files kept in the folder; older ones are removed when a new one is saved.
KEEP = 64
_FORMAT = "gridcore-trees 1"
#: What a tree's position holds (``propagate_positions``).
_META = ("line", "column", "end_line", "end_column", "start_pos", "end_pos")
_TOKEN = ("start_pos", "line", "column", "end_line", "end_column", "end_pos")

Lines = dict[tuple[str, str], Tree[Token]]


def path_for(grammar_key: str, text: str) -> Path | None:
    """Where the trees of ``text`` parsed by the parser ``grammar_key`` are kept (None: no cache)."""
    if not grammar_key:
        return None
    folder = _usable_folder(cache_dir())
    if folder is None:
        return None
    digest = hashlib.sha256(f"{_FORMAT}\0{grammar_key}\0{text}".encode()).hexdigest()[:40]
    return folder / f"trees-{digest}.json"


def load(path: Path | None) -> Lines:
    """The saved trees by ``(start rule, where)``; empty if there are none or they cannot be read."""
    if path is None:
        return {}
    try:
        doc = written_loads(path.read_bytes())  # (json's values, by orjson where it reads them alike)
        if doc.get("format") != _FORMAT:
            return {}
        found = {(str(start), str(code)): _tree(raw) for start, code, raw in doc["lines"]}
        os.utime(path)  # recently used: kept when older files are pruned
        return found
    except FileNotFoundError:
        return {}
    except Exception:  # noqa: BLE001 - a damaged or foreign file: parse instead
        return {}


def save(path: Path | None, lines: Lines) -> None:
    """Write the trees atomically; a read-only or full disk is no error."""
    if path is None or not lines:
        return
    tmp = None
    try:
        doc = {"format": _FORMAT, "lines": [[start, code, _plain(tree)] for (start, code), tree in lines.items()]}
        fd, tmp = tempfile.mkstemp(prefix=".trees-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
        tmp = None
        _prune(path.parent)
    except Exception:  # noqa: BLE001, S110 - work without the cache
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("trees-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass


def _plain(node: Any) -> Any:
    if isinstance(node, Token):
        return {"k": [node.type, str(node), *(getattr(node, name, None) for name in _TOKEN)]}
    if isinstance(node, Tree):
        meta = None if node.meta.empty else [getattr(node.meta, name, None) for name in _META]
        return {"t": _plain(node.data) if isinstance(node.data, Token) else str(node.data), "m": meta,
                "c": [_plain(child) for child in node.children]}
    if node is None:
        return None
    raise TypeError(f"a parse tree holds a {type(node).__name__}")


def _tree(raw: Any) -> Any:
    if raw is None:
        return None
    if "k" in raw:
        kind, value, *where = raw["k"]
        return Token(kind, value, *where)
    data = raw["t"]
    meta = Meta()  # type: ignore[no-untyped-call]
    if raw["m"] is not None:
        for name, value in zip(_META, raw["m"], strict=True):
            setattr(meta, name, value)
        meta.empty = False
    return Tree(_tree(data) if isinstance(data, dict) else data, [_tree(child) for child in raw["c"]], meta)
