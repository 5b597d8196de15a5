"""Building the parser once: a built Lark parser is kept on disk between processes.

Building the LALR tables of the composed grammar (the core plus every
section's fragment) is most of what ``gridcore check`` of a small file costs.
The built parser is saved with Lark's own serialisation (``Lark.save`` /
``Lark.load``) in a private per-user folder and loaded by the next process.

The file's name is a hash of everything the parser depends on: the grammar
text (which contains every fragment and every keyword form), the start
rules and options, the versions of Lark and Python, and each section's name
and plugin version.  A changed plugin, a new Lark or a different set of
plugins therefore looks for another file and builds (and saves) it.

The folder is ``$GRIDCORE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/gridcore``,
else ``~/.cache/gridcore``; it is created readable by its owner only (0700),
and it is used only if it is a real folder owned by the current user that no
one else may write to (the files are read back with ``pickle``, as Lark does).
Anything wrong with the cache (a missing or read-only folder, a truncated or
corrupt file, a file from another Lark) means the parser is built as if there
were no cache: the cache can make a command faster, never make it fail.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lark
from lark import Lark

CACHE_ENV = "GRIDCORE_CACHE_DIR"
#: Parser files kept in the folder; older ones are removed when a new one is saved.
KEEP = 8
_MAGIC = b"gridcore-grammar-cache 1\n"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the built parsers are kept (see the module's doc)."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gridcore"


def cache_key(text: str, options: Mapping[str, Any], versions: Sequence[tuple[str, str]]) -> str:
    """The hash naming a parser file: grammar, options, Lark, Python and plugin versions."""
    digest = hashlib.sha256()
    for part in (lark.__version__, "{}.{}".format(*sys.version_info[:2]), repr(sorted(options.items())),
                 repr(list(versions)), text):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:40]


def build_lark(text: str, *, versions: Sequence[tuple[str, str]] = (), **options: Any) -> Lark:
    """``Lark(text, **options)``, loaded from the cache when it was built before.

    Grammar errors are raised as Lark raises them (nothing is cached for a
    grammar that does not build).
    """
    folder = _usable_folder(cache_dir())
    if folder is None:
        return Lark(text, **options)
    key = cache_key(text, options, versions)
    path = folder / f"grammar-{key}.lark"
    loaded = _load(path, key)
    if loaded is not None:
        return loaded
    parser = Lark(text, **options)
    _save(parser, folder, path, key)
    return parser


def is_cached(text: str, *, versions: Sequence[tuple[str, str]] = (), **options: Any) -> bool:
    """Whether ``build_lark`` with these arguments would find its parser's file (not yet read)."""
    folder = _usable_folder(cache_dir())
    if folder is None:
        return False
    return (folder / f"grammar-{cache_key(text, options, versions)}.lark").is_file()


def _usable_folder(folder: Path) -> Path | None:
    """The folder, created 0700 if missing; None if it is not safely ours."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None  # a symbolic link or a file: not ours to trust
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        return None  # someone else could put a file there
    return folder


def _load(path: Path, key: str) -> Lark | None:
    try:
        with path.open("rb") as f:
            if f.readline() != _MAGIC or f.readline().strip() != key.encode("ascii"):
                return None
            parser = Lark.load(f)
        os.utime(path)  # recently used: kept when older files are pruned
        return parser
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a corrupt or foreign file: build instead
        return None


def _save(parser: Lark, folder: Path, path: Path, key: str) -> None:
    """Write atomically (a temporary file renamed), so a reader never sees half a file."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".grammar-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + key.encode("ascii") + b"\n")
            parser.save(f)
        os.replace(tmp, path)
        tmp = None
        _prune(folder)
    except Exception:  # noqa: BLE001, S110 - a read-only or full disk: work without the cache
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("grammar-*.lark"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass
