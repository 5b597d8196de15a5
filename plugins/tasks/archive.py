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
a part of ``PART_SIZE`` entries is sealed, and with the engine's next batch (``gridcore_on_flush``) every
sealed part is written to the store's ``tasks.settled`` collection under the
SHA-256 of its content (``gridcore.parts``) and the task ids of its entries to
``tasks.names`` (``gridcore.partnames``).  A checkpoint names each sealed part
by its key, with its number of entries, the span of its tasks' deadlines and
the latest time one of them was done with, and carries the open part.  Only
the newest ``CHAPTER_PARTS`` to ``2 * CHAPTER_PARTS - 1`` stored parts are
named so: every ``CHAPTER_PARTS`` older ones are a *chapter* (``gridcore.archive``),
one document in the same collection, of which the state keeps a summary (the
parts' entries, the span of their deadlines, the latest time one was done
with), read back only when a read or a late event reaches one of its parts.

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

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import field

from gridcore.archive import PartArchive, Span, dump_span, load_span, overlaps
from gridcore.classes import define
from gridcore.partnames import Where
from gridcore.parts import Loader, ManyLoader, PartLoader

#: The store collection holding sealed parts of the archive.
COLLECTION = "tasks.settled"
#: The store collection naming the sealed parts that hold each task.
NAMES = "tasks.names"
#: Entries per sealed part.
PART_SIZE = 100
#: Sealed parts kept in memory after they were read or stored (the least recently read go first).
#: A part of 100 of Yinquan's settled tasks is about 0.39 MB in memory (0.12 MB of JSON): 32 of them
#: would be 12.5 MB, kept because they were written; an ingest reads back only the newest (a late
#: completion) and a period's read a part or two, as with the escalation archive's 8.
CACHED_PARTS = 8
#: Stored parts put in a chapter at a time (``gridcore.archive``): the archive keeps in memory, and in
#: its checkpoints, between this many and twice as many stored parts, and a summary of each chapter
#: (as the escalation archive does), not a line per part of 100 settled tasks for ever.
CHAPTER_PARTS = 32
#: The shape of a part document (and of the archive in a checkpoint; a part's document is the same in
#: both, the checkpoint's archive has chapters since the state's version 3).
FORMAT = 1


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


class Archive(PartArchive[Part]):
    """The settled tasks of one tasks state, in the order their entries were made."""

    COLLECTION = COLLECTION
    FORMAT = FORMAT
    WHAT = "settled tasks"

    def __init__(self, loader: PartLoader | None = None, names: Loader | None = None,
                 many_names: ManyLoader | None = None) -> None:
        super().__init__(loader, names, part_size=PART_SIZE, cached_parts=CACHED_PARTS, many_names=many_names,
                         chapter_size=CHAPTER_PARTS)

    @staticmethod
    def entry_names(entry: Mapping[str, Any]) -> list[str]:
        """What an entry ``{"task": document, "done": time or None}`` answers to: its task's id."""
        return [str(entry["task"]["id"])]

    def sealed(self, entries: list[dict[str, Any]]) -> Part:
        """The part holding ``entries``, with its tasks' deadlines and the latest time one was done with."""
        deadlines = [_deadline(e) for e in entries]
        done = [when for when in map(_done, entries) if when is not None]
        return Part(len(entries), (min(deadlines), max(deadlines)), max(done, default=None), entries=entries)

    def merged(self, parts: list[Part]) -> Part:
        """What a chapter keeps of its parts: their entries' count, the span of their deadlines, the
        latest time one of their tasks was done with (what ``current`` passes parts over by)."""
        spans = [p.deadlines for p in parts if p.deadlines is not None]
        done = [p.done for p in parts if p.done is not None]
        deadlines = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
        return Part(sum(p.count for p in parts), deadlines, max(done, default=None))

    def part_row(self, part: Part) -> list[Any]:
        """A stored part as the checkpoint names it: key, deadlines' span, latest done, count."""
        return [part.key, dump_span(part.deadlines), None if part.done is None else part.done.isoformat(),
                part.count]

    @classmethod
    def part_from_row(cls, row: list[Any]) -> Part:
        """The part ``part_row`` wrote."""
        key, deadlines, done, count = row
        return Part(int(count), load_span(deadlines), None if done is None else datetime.fromisoformat(done),
                    key=str(key))

    # ------------------------------------------------------------ reading

    def current(self, *, due: tuple[datetime | None, datetime | None] | None = None,
                undone_at: datetime | None = None) -> Iterator[tuple[Where, dict[str, Any]]]:
        """The newest entry of each settled task, from every part that may hold what is asked for.

        ``due``: tasks whose deadline is in ``[start, end)`` (either bound None: open);
        ``undone_at``: tasks done with only after then (those with a part
        still overdue, ``done`` None, are not among them).
        """
        def keep(part: Part) -> bool:  # (true of a chapter's summary whenever of one of its parts)
            return (due is None or overlaps(part.deadlines, *due)) and (
                undone_at is None or part.done is not None and part.done > undone_at)

        wanted = self.numbered(keep)
        wanted.append(self.sealed_count)  # the open part: its entries are checked one by one
        for number in wanted:
            found = []
            for position, entry in enumerate(self.entries(number)):
                deadline = _deadline(entry)
                if due is not None and not overlaps((deadline, deadline), *due):
                    continue
                if undone_at is not None:
                    done = _done(entry)
                    if done is None or done <= undone_at:
                        continue
                found.append((position, entry, str(entry["task"]["id"])))
            # (the ids of a part's entries asked of the store at once: ``PartNames.prefetch``)
            self.names.prefetch(ident for _, _, ident in found)
            for position, entry, ident in found:
                if self.names.locate(ident) == (number, position):
                    yield (number, position), entry

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: PartLoader | None, names: Loader | None,
                many_names: ManyLoader | None = None) -> Archive:
        """The archive a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        archive = cls(loader, names, many_names)
        archive.restored(document)
        return archive
