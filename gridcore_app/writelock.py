"""The write lock every process writing one store on this machine shares: the service's workers, and
``gridcore ingest`` and ``gridcore tick`` beside them.

A store appends a batch only at the log position its writer judged it against
(docs/storage.md), so two writers never lose or double an event; but a writer
that loses that race rebuilds its state and judges again.  Beside a busy
service (an action stored every fraction of a second) a CLI ingest whose
judging takes longer than the gap between two of the service's actions (a
district's, whose events come before what the service stored: it rewinds)
lost every race, rebuilding its state each time, for as long as the service
was busy.  Taking the lock around each judge-and-append, as the service's
actions do, makes them take turns: the CLI catches up with the store under
the lock and appends at once.

A command holding the lock writes who it is into the lock's file
(``WriteLock.declare``: ``gridcore ingest``, its process id, since when) and
clears it before it lets go, so a service action that gave up waiting
(docs/service.md, *When an ingest holds the lock*) can tell the phone what it
waited for.  The service's own workers hold the lock for one action at a time
and declare nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

from gridcore.classes import frozen

if TYPE_CHECKING:
    from gridcore import Engine


@frozen
class Holder:
    """Who declared they hold a write lock (``WriteLock.declare``): a command, its process, since when."""

    what: str
    pid: int
    since: datetime

    def held_for(self, now: datetime | None = None) -> float:
        """Seconds it has held the lock."""
        return max(0.0, ((now or datetime.now(UTC)) - self.since).total_seconds())


class WriteLock:
    """An exclusive file lock every process serving one store shares, taken around each action.

    ``fcntl.flock`` as the store's own writer lock (``gridcore.store.writerlock``):
    the kernel releases it when a holder dies, so a killed worker never
    leaves it taken.  Waiting is blocking: it happens on the engine's thread,
    never on the event loop.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @classmethod
    def for_store(cls, store: str) -> WriteLock | None:
        """The lock for ``store`` (None where POSIX file locks are missing: the store still refuses conflicts)."""
        try:
            import fcntl  # noqa: F401
        except ImportError:  # pragma: no cover - not on POSIX
            return None
        return cls(lock_path(store))

    def __enter__(self) -> Self:
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def try_acquire(self) -> bool:
        """Take the lock if it is free (True), else return False at once."""
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def declare(self, what: str) -> None:
        """While holding the lock: write ``what`` (a command's name), this process and the time into the lock's
        file, for a process that waits for it to read (``holder``)."""
        note = f"{what}\t{os.getpid()}\t{datetime.now(UTC).isoformat()}\n".encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, note, 0)

    def undeclare(self) -> None:
        """While still holding the lock: clear what ``declare`` wrote."""
        os.ftruncate(self._fd, 0)

    def holder(self) -> Holder | None:
        """Who declared they hold the lock, if they still run (None: nobody declared, e.g. a service worker
        judging one action, or the note is a dead process's: the kernel released its lock)."""
        try:
            text = os.pread(self._fd, 4096, 0).decode("utf-8", "replace")
            what, pid, since = text.rstrip("\n").split("\t")
            holder = Holder(what, int(pid), datetime.fromisoformat(since))
            os.kill(holder.pid, 0)
        except (OSError, ValueError):
            return None
        return holder

    def close(self) -> None:
        """Close the lock's file (released if held). Twice is harmless."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def lock_path(store: str) -> Path:
    """The write lock's file for ``store``: in the temporary folder, named by a hash of the store's address.

    A local store's path is made absolute first, so every spelling of it
    shares one lock; a server's address is hashed, never written out (it may
    hold a password).
    """
    local = store.removeprefix("sqlite:///") if store.startswith("sqlite:///") else store
    key = str(Path(local).resolve()) if "://" not in local else store
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"gridcore-serve-{digest}.lock"


@contextmanager
def writing(engine: Engine, store: str, what: str) -> Iterator[None]:
    """Hold the write lock of ``store`` (as ``--store`` gave it: the service keys its lock the same way),
    ``engine`` caught up with what others stored, while the block writes.

    For a command that writes beside a service (``gridcore ingest``, a chunk
    at a time, and ``gridcore tick``): the service's actions wait meanwhile,
    reads do not.  ``what`` (the command, ``gridcore ingest``) is declared in the
    lock's file while it is held (``WriteLock.declare``): a service action that
    gives up waiting names it.
    """
    lock = WriteLock.for_store(store)
    if lock is None:  # pragma: no cover - not on POSIX
        yield
        return
    try:
        with lock:
            lock.declare(what)
            try:
                engine.refresh()
                yield
            finally:
                lock.undeclare()
    finally:
        lock.close()


__all__ = ["Holder", "WriteLock", "lock_path", "writing"]
