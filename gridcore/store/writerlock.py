"""One writer at a time for a store that is a folder of files: an OS file lock.

``fcntl.flock`` (POSIX: Linux, macOS, the BSDs) rather than a lock library:
the lock is released by the kernel when its holder exits or is killed, so no
stale lock is ever left behind, and the holder writes its process id into
the lock file so that the loser can say who holds it.  A lock library would
add a dependency and hide that id.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import StoreError


class WriterLock:
    """An exclusive lock on ``path`` held by this process until ``release``."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, path: Path, store: str) -> WriterLock:
        """Take the lock without waiting; ``StoreError`` naming the holder's process if taken."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            raise StoreError(
                f"the store {store} needs POSIX file locks to be written safely; "
                "use a SQLite store (sqlite:///FILE.db) on this system "
                "(此系统不支持 POSIX 文件锁，无法安全写入：请改用 SQLite 数据库)"
            ) from None
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot lock the store {store} for writing: {exc.strerror or exc} (无法锁定数据库以写入)") from None
        holder = ""
        for _ in range(_ATTEMPTS):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                # Refuse at once when a live holder has named itself; with no id yet the
                # holder is between taking the lock and writing its id, or has just let
                # go, so try again rather than refuse without saying who holds it.
                holder = _holder(fd)
                if holder:
                    break
        else:
            holder = "?"
        if holder:
            os.close(fd)
            who = (
                f"another handle in this process ({holder})"
                if holder == str(os.getpid())
                else f"process {holder}" if holder != "?" else "another process"
            )
            raise StoreError(
                f"the store {store} is in use by {who}: a TinyDB store has one writer at a time. "
                "Wait for it to finish (or close it), or use sqlite:/// or postgresql:// for "
                "several writers (store in use; 存储正被其他进程写入)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    @property
    def held(self) -> bool:
        """True until released."""
        return self._fd is not None

    def release(self) -> None:
        """Let the next writer in (closing the file releases the lock). Twice is harmless."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)  # no stale id for the next loser to report
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


_ATTEMPTS = 10


def _holder(fd: int) -> str:
    """The holder's process id; it may take the holder a moment to write it, so look a few times."""
    for _ in range(40):
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            return ""
        if text.isdigit() and _alive(int(text)):
            return text
        time.sleep(0.005)
    return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
