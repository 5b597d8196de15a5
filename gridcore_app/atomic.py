"""Files written whole or not at all, with the permissions a plain write would give them.

A temporary file in the target's folder, then a rename: a crash mid-write leaves the
previous file.  ``tempfile.mkstemp`` makes that file readable by its owner only (0600),
so a roster workbook, a report or a ruleset rewritten by ``gridcore fmt`` became
unreadable to the colleagues, the office's shared folder or the service user that read
it before.  ``replace`` gives the new file the mode of the file it replaces, or the
mode a new file gets under the process's umask.  ``write_text`` (a roster's CSV, a
ruleset ``gridcore fmt`` rewrote) and ``save_book`` (a workbook) are the two ways
the application writes a file whole.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Protocol


class Book(Protocol):
    """What ``save_book`` saves: anything with ``save(filename)`` (an openpyxl ``Workbook``)."""

    def save(self, filename: str) -> None: ...


def write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write a whole file or nothing: a temporary file in the same folder, synced, then renamed (``replace``)."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def save_book(book: Book, target: Path) -> Path:
    """Save a workbook whole or not at all (its folder made if missing): saved to a temporary file beside
    ``target``, then renamed over it (``replace``); returns ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".xlsx", dir=target.parent)
    os.close(handle)
    try:
        book.save(temp)
        replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def replace(temp: str | Path, target: str | Path) -> None:
    """Rename ``temp`` over ``target``, giving it ``target``'s permissions (or the umask's)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(temp, mode)
    os.replace(temp, target)


def _umask() -> int:
    """The process's umask, read without changing it where the system tells (Linux), else set back."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current
