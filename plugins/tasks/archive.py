"""Settled tasks: in the store, read when asked for; only tasks that may still fall due stay in memory.

A task is *settled* when nothing more can fall due for it: it was cancelled,
or every assignment was completed or fell overdue.  It can still change a
little (an overdue part completed late, a finished task cancelled), and most
reads ask for one period's tasks or one task, so keeping every task ever
assigned in the state (and in every checkpoint) made opening a store cost its
whole history.  When a task settles, the state writes its *entry* here (the
task as the checkpoint writes it, and when it was *done with*: the latest
completion or its cancellation, None while a part is overdue and not done)
and forgets it, as the escalation plugin does with closed incidents
(``plugins/escalation/archive.py``): entries are appended to an *open part*;
a part of ``PART_SIZE`` entries is sealed, and at the next checkpoint every
sealed part is written to the store's ``tasks.settled`` collection under the
SHA-256 of its content (``gridcore.parts``) and the task ids of its entries to
``tasks.names`` (``gridcore.partnames``).  A checkpoint names each sealed part
by its key, with its number of entries, the span of its tasks' deadlines and
the latest time one of them was done with, and carries the open part.

A later entry for the same task supersedes an earlier one (a settled task is
taken back into memory for the event that changes it, and written again: it
is still settled).  Reads over a period load only the parts whose deadlines
meet it, and tell a task's newest entry by looking its id up.  Parts are cut
by count only and never change: a late event gives new parts from where it
landed on, and the checkpoints that named the old ones stop fitting.  A part
is checked against its key when it is read; a missing or altered part is a
``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import define, field

from gridcore.partnames import PartNames, Where
from gridcore.parts import Loader, PartCache, part_key, read_entries

#: The store collection holding sealed parts of the archive.
COLLECTION = "tasks.settled"
#: The store collection naming the sealed parts that hold each task.
NAMES = "tasks.names"
#: Entries per sealed part.
PART_SIZE = 100
#: Sealed parts kept in memory after they were read (the least recently read go first).
CACHED_PARTS = 32
#: The shape of a part document (and of the archive in a checkpoint).
FORMAT = 1

Span = tuple[datetime, datetime]


@define(eq=False)
class Part:
    """A sealed part: its entries' number, their tasks' deadlines, the latest time one was done with."""

    count: int
    deadlines: Span | None
    #: the latest time one of its tasks was done with (None: none was, each has a part still overdue)
    done: datetime | None
    key: str | None = None
    #: the entries, while they are not yet in the store
    entries: list[dict[str, Any]] | None = field(default=None, repr=False)


def _deadline(entry: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["task"]["deadline"])


def _done(entry: Mapping[str, Any]) -> datetime | None:
    return None if entry["done"] is None else datetime.fromisoformat(entry["done"])


class Archive:
    """The settled tasks of one tasks state, in the order their entries were made."""

    def __init__(self, loader: Loader | None = None, names: Loader | None = None) -> None:
        self.loader = loader
        self.parts: list[Part] = []
        self.open: list[dict[str, Any]] = []
        #: where the newest entry of each task is (the stored parts' task ids are in the store)
        self.names = PartNames(names)
        self._cache: PartCache[list[dict[str, Any]]] = PartCache(CACHED_PARTS, by_items=False)

    @property
    def size(self) -> int:
        """How many entries were ever made (it only grows)."""
        return sum(p.count for p in self.parts) + len(self.open)

    # ------------------------------------------------------------ writing

    def add(self, entry: dict[str, Any]) -> None:
        """Append an entry ``{"task": document, "done": time or None}``."""
        self.open.append(entry)
        self.names.note((str(entry["task"]["id"]),), (len(self.parts), len(self.open) - 1))
        if len(self.open) >= PART_SIZE:
            self.seal()

    def seal(self) -> None:
        """Close the open part (it is written to the store at the next save)."""
        if not self.open:
            return
        deadlines = [_deadline(e) for e in self.open]
        done = [when for when in map(_done, self.open) if when is not None]
        self.parts.append(Part(len(self.open), (min(deadlines), max(deadlines)), max(done, default=None),
                               entries=self.open))
        self.open = []

    # ------------------------------------------------------------ reading

    def find(self, ident: str) -> tuple[Where, dict[str, Any]] | None:
        """Where the newest entry of task ``ident`` is, and the entry; None if it is not archived."""
        where = self.names.locate(ident)
        return None if where is None else (where, self.entries(where[0])[where[1]])

    def current(self, *, due: tuple[datetime | None, datetime | None] | None = None,
                undone_at: datetime | None = None) -> Iterator[tuple[Where, dict[str, Any]]]:
        """The newest entry of each settled task, from every part that may hold what is asked for.

        ``due``: tasks whose deadline is in ``[start, end)`` (either bound None: open);
        ``undone_at``: tasks done with only after then (those with a part
        still overdue, ``done`` None, are not among them).
        """
        wanted = []
        for number, part in enumerate(self.parts):
            if due is not None and not _overlaps(part.deadlines, *due):
                continue
            if undone_at is not None and (part.done is None or part.done <= undone_at):
                continue
            wanted.append(number)
        wanted.append(len(self.parts))
        for number in wanted:
            for position, entry in enumerate(self.entries(number)):
                deadline = _deadline(entry)
                if due is not None and not _overlaps((deadline, deadline), *due):
                    continue
                if undone_at is not None:
                    done = _done(entry)
                    if done is None or done <= undone_at:
                        continue
                if self.names.locate(str(entry["task"]["id"])) == (number, position):
                    yield (number, position), entry

    def entries(self, number: int) -> list[dict[str, Any]]:
        """The entries of part ``number`` (``len(parts)``: the open part), read from the store if need be."""
        if number == len(self.parts):
            return self.open
        part = self.parts[number]
        if part.entries is not None:
            return part.entries
        assert part.key is not None
        return read_entries(self.loader, self._cache, part.key, collection=COLLECTION, what="settled tasks'",
                            format=FORMAT)

    # ------------------------------------------------------------ saving

    def save(self, writer: Callable[[str, dict[str, Any]], None] | None,
             names: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> dict[str, Any]:
        """The archive as part of a checkpoint; sealed parts not yet stored go to ``writer`` first, then
        their task ids to ``names`` (all at once).  Without them (a read-only engine) the parts stay in
        memory and their keys are computed all the same."""
        stored: list[tuple[int, str, list[list[str]]]] = []
        for number, part in enumerate(self.parts):
            if part.entries is None:
                continue
            doc = {"format": FORMAT, "entries": part.entries}
            part.key = part_key(doc)
            if writer is not None and names is not None:
                writer(part.key, doc)
                self._cache.put(part.key, part.entries)
                stored.append((number, part.key, [[str(e["task"]["id"])] for e in part.entries]))
        if stored:
            assert names is not None
            self.names.stored(stored, names, self._forget(stored))
        return {
            "format": FORMAT,
            "parts": [[p.key, _dump_span(p.deadlines), None if p.done is None else p.done.isoformat(), p.count]
                      for p in self.parts],
            "open": self.open,
        }

    def _forget(self, stored: list[tuple[int, str, list[list[str]]]]) -> Iterator[tuple[Where, list[str]]]:
        """Once the ids of the parts just stored are written (this runs when first read from): their
        entries leave memory, and what is left unstored is given (else they are stored again)."""
        for number, _, _ in stored:
            self.parts[number].entries = None
        yield from self._unstored()

    def _unstored(self) -> Iterator[tuple[Where, list[str]]]:
        for number, part in enumerate(self.parts):
            for position, entry in enumerate(part.entries or ()):
                yield (number, position), [str(entry["task"]["id"])]
        for position, entry in enumerate(self.open):
            yield (len(self.parts), position), [str(entry["task"]["id"])]

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: Loader | None, names: Loader | None) -> Archive:
        """The archive a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        if document.get("format") != FORMAT:
            raise ValueError(f"settled tasks of format {document.get('format')!r}, expected {FORMAT}")
        archive = cls(loader, names)
        for key, deadlines, done, count in document["parts"]:
            archive.parts.append(Part(int(count), None if deadlines is None else (
                datetime.fromisoformat(deadlines[0]), datetime.fromisoformat(deadlines[1])),
                None if done is None else datetime.fromisoformat(done), key=str(key)))
        archive.open = [dict(entry) for entry in document["open"]]
        archive.names.restore({str(p.key): n for n, p in enumerate(archive.parts)}, archive._unstored())
        return archive


def _overlaps(span: Span | None, start: datetime | None, end: datetime | None) -> bool:
    """True if ``span`` may hold a time in ``[start, end)`` (either bound open when None)."""
    if span is None:
        return False
    return (end is None or span[0] < end) and (start is None or span[1] >= start)


def _dump_span(span: Span | None) -> list[str] | None:
    return None if span is None else [span[0].isoformat(), span[1].isoformat()]
