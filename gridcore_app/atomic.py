"""Files written whole or not at all, with the permissions a plain write would give them.

A temporary file in the target's folder, then a rename: a crash mid-write leaves the
previous file.  ``tempfile.mkstemp`` makes that file readable by its owner only (0600),
so a roster workbook, a report or a ruleset rewritten by ``gridcore fmt`` became
unreadable to the colleagues, the office's shared folder or the service user that read
it before.  ``replace`` gives the new file the mode of the file it replaces, or the
mode a new file gets under the process's umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


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
