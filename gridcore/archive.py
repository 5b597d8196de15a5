"""An archive of a plugin's entries that can hardly change any more, in sealed parts in the store.

What a plugin settles for good (a closed incident, a settled task) need not
stay in its state, nor in every checkpoint: the state writes an *entry* for
it here and forgets it.  Entries are appended, in the order they were made,
to an *open part*; a part of ``part_size`` entries is *sealed*, and with the
engine's next batch of events (``store_sealed``, from the plugin's ``gridcore_on_flush``; else at the
next checkpoint, ``save``) every sealed part is written to the store under
the SHA-256 of its content (``gridcore.parts``), then dropped from memory,
and the names its entries answer to go to the plugin's names collection
(``gridcore.partnames``).  Where nothing is stored (a read-only engine's
replay), all but the newest ``RAW_PARTS`` sealed parts are encoded at once
and kept as their compressed text (``held``), read back as a stored part
is, as the points history keeps its own.  A checkpoint names each sealed part by its key,
with what the plugin keeps of it to pass parts over on reading (the times
its entries span), and carries the open part itself.

``PartArchive`` does what every such archive does the same way; a plugin
subclasses it with its ``Part`` (what it keeps of a sealed part), how a part
is sealed and written in a checkpoint, and what an entry answers to, and
adds its own reads (``current``).  Parts are cut by count only and never
change: a later entry for the same name supersedes an earlier one, and a
late event that changes history gives new parts from where it landed on.

An archive made with a ``chapter_size`` keeps in memory (and in its
checkpoints) only its newest sealed parts: once ``2 * chapter_size`` stored
parts are held, the oldest ``chapter_size`` of them become a *chapter*, one
document in the same collection (``{"format": ..., "parts": [row, ...]}``,
each part as ``part_row`` writes it, under the SHA-256 of its text), and the
archive keeps of it only a summary: its key, the number of its first part,
how many parts it holds, what ``merged`` makes of them (the count of their
entries and the times they span, to pass the chapter over on reading) and a
filter of its parts' keys (1,024 bits, three a key: whether a name's document
can name one of them without reading the chapter).  A chapter is read back
(and checked against its key) when a read reaches one of its parts; chapters
are cut at every ``chapter_size`` parts from the first, so a store's
chapters are the same whether the archive was built in one replay or restored
from a checkpoint.  What is kept in memory then grows by one summary per
``chapter_size`` parts (for closed incidents, 833 bytes of memory and 458
characters of checkpoint per 3,200), not by a row per part.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from .errors import StoreError
from .partnames import PartNames, Where
from .parts import (
    Loader,
    ManyLoader,
    PartCache,
    PartLoader,
    PartsLoader,
    Writer,
    bytes_key,
    part_bytes,
    read_entries,
    read_many_entries,
    read_part,
)

#: A span of times (earliest, latest).
Span = tuple[datetime, datetime]


class SealedPart(Protocol):
    """What the archive needs of a sealed part; a plugin's ``Part`` adds what it keeps to pass it over."""

    #: how many entries it holds
    count: int
    #: its key in the store (None until it is saved)
    key: str | None
    #: the entries, while they are not yet in the store
    entries: list[dict[str, Any]] | None


P = TypeVar("P", bound=SealedPart)

#: Chapters whose parts are kept in memory after they were read (the least recently read go first).
CACHED_CHAPTERS = 2
#: Bits of a chapter's filter of its parts' keys (``key_bits``).
FILTER_BITS = 1024
#: Sealed parts kept as their entries while they wait to be stored (a read-only engine's, a replay's between
#: two ``store_sealed``): beyond these, the oldest are encoded and kept as their compressed text (``held``).
RAW_PARTS = 2


def key_bits(key: str) -> int:
    """The bits a part's key sets in a chapter's filter: three, read from its first hex digits (a key is
    the SHA-256 of the part's text, so they are as good as random)."""
    return (1 << (int(key[0:3], 16) % FILTER_BITS)) | (1 << (int(key[3:6], 16) % FILTER_BITS)) | (
        1 << (int(key[6:9], 16) % FILTER_BITS))


class Chapter(Generic[P]):
    """Sealed parts of an archive stored as one document, as the archive keeps them in memory."""

    __slots__ = ("count", "first", "mask", "summary")

    def __init__(self, summary: P, first: int, count: int, mask: int) -> None:
        #: what ``merged`` made of its parts, with the chapter's key
        self.summary = summary
        #: the number of its first part
        self.first = first
        #: how many parts it holds
        self.count = count
        #: the filter of its parts' keys (``key_bits`` of each, or-ed)
        self.mask = mask


class PartArchive(Generic[P]):
    """The entries of one plugin state, in the order they were made: sealed parts, then the open part."""

    #: the store collection holding the sealed parts
    COLLECTION: ClassVar[str]
    #: the shape of a part document (and of the archive in a checkpoint)
    FORMAT: ClassVar[int]
    #: what the entries are, in messages (``"closed incidents"``)
    WHAT: ClassVar[str]

    def __init__(self, loader: PartLoader | None, names: Loader | None, *, part_size: int, cached_parts: int,
                 many_names: ManyLoader | None = None, many_parts: PartsLoader | None = None,
                 chapter_size: int | None = None) -> None:
        #: reads a sealed part from the store by its key (None: nothing was stored)
        self.loader = loader
        #: reads several sealed parts at once (``walk``; None: one ``loader`` call each)
        self.many_parts = many_parts
        self.cached_parts = cached_parts
        self.part_size = part_size
        #: stored parts put in a chapter at a time (None: every sealed part stays in memory)
        self.chapter_size = chapter_size
        #: the sealed parts kept in memory, numbered from ``first`` on (the older ones are in ``chapters``)
        self.parts: list[P] = []
        self.first = 0
        self.chapters: list[Chapter[P]] = []
        self.open: list[dict[str, Any]] = []
        #: the names of each entry of the open part (``add``), and whether every one of them is typed
        self._open_names: list[list[str]] = []
        self._open_typed = True
        #: the names of the entries of each sealed part not yet stored, by number (what ``add`` was given:
        #: written to the names collection as they are, not asked of ``entry_names`` again)
        self._sealed_names: dict[int, list[list[str]]] = {}
        #: the numbers of the sealed parts not yet stored whose every entry is typed (``add``)
        self._typed_parts: set[int] = set()
        #: entries of the sealed parts, chapters' included
        self._sealed_entries = 0
        #: where the newest entry answering to each name is (the stored parts' names are in the store;
        #: ``many_names`` reads several names' documents at once: ``PartNames.prefetch``)
        self.names = PartNames(names, many_names)
        self.names.older = self._older
        self._cache: PartCache[list[dict[str, Any]]] = PartCache(cached_parts, by_items=False)
        #: the parts of the chapters read last, by the chapter's key
        self._chapter_parts: OrderedDict[str, list[P]] = OrderedDict()
        #: sealed parts not yet stored, beyond the newest ``RAW_PARTS``: their canonical text in UTF-8,
        #: compressed (zlib), by key (their ``entries`` let go)
        self.held: dict[str, bytes] = {}

    # ------------------------------------------------------------ what a plugin says

    @staticmethod
    def entry_names(entry: Mapping[str, Any]) -> list[str]:
        """What an entry answers to (its own name first)."""
        raise NotImplementedError

    def sealed(self, entries: list[dict[str, Any]]) -> P:
        """The part holding ``entries`` (not yet stored)."""
        raise NotImplementedError

    def part_row(self, part: P) -> list[Any]:
        """A stored part as the checkpoint names it (its key first)."""
        raise NotImplementedError

    @classmethod
    def part_from_row(cls, row: list[Any]) -> P:
        """The part ``part_row`` wrote."""
        raise NotImplementedError

    def merged(self, parts: list[P]) -> P:
        """What a chapter of ``parts`` keeps of them (their entries' count, the times they span: what
        passes the parts over on reading), without a key: needed only with a ``chapter_size``."""
        raise NotImplementedError

    # ------------------------------------------------------------ writing

    @property
    def size(self) -> int:
        """How many entries were ever made (it only grows)."""
        return self._sealed_entries + len(self.open)

    @property
    def sealed_count(self) -> int:
        """How many parts were sealed (the open part's number)."""
        return self.first + len(self.parts)

    def add(self, entry: dict[str, Any], names: list[str] | None = None, *, typed: bool = False) -> None:
        """Append an entry (it supersedes the earlier entries answering to its names; ``names``: its
        ``entry_names``, if the caller has them).  ``typed``: the caller's types prove the entry plain
        (``gridcore.fastjson.typed_json``), so a part of such entries is written without the walk."""
        if names is None:
            names = self.entry_names(entry)
        self.open.append(entry)
        self._open_names.append(names)
        if not typed:
            self._open_typed = False
        self.names.note(names, (self.first + len(self.parts), len(self.open) - 1))
        if len(self.open) >= self.part_size:
            self.seal()

    def seal(self) -> None:
        """Close the open part (it is written to the store at the next ``store_sealed``).

        The engine stores sealed parts with its next batch of events
        (``gridcore_on_flush``; a replay every ``Engine.replay_flush_every``
        events), so few wait; where none is written (a read-only engine),
        beyond ``RAW_PARTS`` parts waiting the oldest is encoded at once and
        kept as its compressed text (``held``: a closed incident's entry takes
        about 6 kB as objects, a few hundred bytes so), and read back from it
        as a stored part is read from the store.  Either way a part's text,
        and so its key, is the same.
        """
        if not self.open:
            return
        part = self.sealed(self.open)
        parts = self.parts
        number = self.first + len(parts)
        parts.append(part)
        self._sealed_names[number] = self._open_names
        if self._open_typed:
            self._typed_parts.add(number)
        self._sealed_entries += part.count
        self.open = []
        self._open_names = []
        self._open_typed = True
        if len(parts) > RAW_PARTS and parts[-RAW_PARTS - 1].entries is not None:
            self._hold(parts[-RAW_PARTS - 1], number - RAW_PARTS)

    def _hold(self, part: P, number: int) -> None:
        """Keep a sealed part not yet stored as its compressed text (its key set, its entries let go)."""
        assert part.entries is not None
        raw = part_bytes({"format": self.FORMAT, "entries": part.entries}, typed=number in self._typed_parts)
        self._typed_parts.discard(number)
        self._sealed_names.pop(number, None)  # (read back from its text if need be, as its entries are)
        key = part.key = bytes_key(raw)
        self.held[key] = zlib.compress(raw, 1)
        part.entries = None

    def _held_doc(self, key: str) -> dict[str, Any]:
        """The document of a part held as its compressed text (as the store would give it back)."""
        found: dict[str, Any] = json.loads(zlib.decompress(self.held[key]))
        return found

    # ------------------------------------------------------------ reading

    def find(self, name: str) -> tuple[Where, dict[str, Any]] | None:
        """Where the newest entry answering to ``name`` is, and the entry; None if none does."""
        where = self.names.locate(name)
        return None if where is None else (where, self.entries(where[0])[where[1]])

    def part(self, number: int) -> P:
        """Sealed part ``number``, from its chapter (read from the store if need be) if it is in one."""
        if number >= self.first:
            return self.parts[number - self.first]
        if number < 0:
            raise IndexError(number)
        chapter = self.chapters[bisect.bisect_right(self.chapters, number, key=lambda c: c.first) - 1]
        return self.chapter_parts(chapter)[number - chapter.first]

    def numbered(self, keep: Callable[[P], bool]) -> list[int]:
        """The numbers of the sealed parts ``keep`` holds true of, oldest first; a chapter is read only if
        ``keep`` holds true of what ``merged`` made of its parts (so ``keep`` must hold of that whenever
        it holds of one of them)."""
        out: list[int] = []
        for chapter in self.chapters:
            if keep(chapter.summary):
                out.extend(chapter.first + n for n, part in enumerate(self.chapter_parts(chapter)) if keep(part))
        first = self.first
        out.extend(first + n for n, part in enumerate(self.parts) if keep(part))
        return out

    def chapter_parts(self, chapter: Chapter[P]) -> list[P]:
        """The parts of ``chapter``, read from the store (checked against its key) unless kept."""
        key = chapter.summary.key
        assert key is not None
        found = self._chapter_parts.get(key)
        if found is not None:
            self._chapter_parts.move_to_end(key)
            return found
        what = f"{self.WHAT}' chapter"
        doc = read_part(self.loader, key, collection=self.COLLECTION, what=what)
        if doc.get("format") != self.FORMAT or not isinstance(doc.get("parts"), list):
            raise StoreError(f"the {what} {key} in the store's {self.COLLECTION!r} collection is not a chapter "
                             f"of format {self.FORMAT}; rebuild the state (gridcore rebuild)")
        found = [self.part_from_row(row) for row in doc["parts"]]
        if len(found) != chapter.count:
            raise StoreError(f"the {what} {key} in the store's {self.COLLECTION!r} collection holds "
                             f"{len(found)} parts, not {chapter.count}; rebuild the state (gridcore rebuild)")
        self._keep_chapter(key, found)
        return found

    def _keep_chapter(self, key: str, parts: list[P]) -> None:
        self._chapter_parts[key] = parts
        self._chapter_parts.move_to_end(key)
        while len(self._chapter_parts) > CACHED_CHAPTERS:
            self._chapter_parts.popitem(last=False)

    def _older(self, parts: Mapping[str, Any]) -> Where | None:
        """Where the newest entry is among the chapters' parts, for a name whose document names the parts
        ``parts`` (key -> position of its entry); None if no chapter holds one of them (``PartNames``)."""
        if not self.chapters:
            return None
        wanted = [(key, key_bits(key)) for key in parts]
        for chapter in reversed(self.chapters):
            if not any(chapter.mask & bits == bits for _, bits in wanted):
                continue
            best = None
            for offset, part in enumerate(self.chapter_parts(chapter)):
                key = part.key
                if key is not None and key in parts:
                    best = offset, key
            if best is not None:
                return chapter.first + best[0], int(parts[best[1]])
        return None

    def entries(self, number: int) -> list[dict[str, Any]]:
        """The entries of part ``number`` (``sealed_count``: the open part), read from the store if need be."""
        if number == self.first + len(self.parts):
            return self.open
        part = self.part(number)
        if part.entries is not None:
            return part.entries
        assert part.key is not None
        if part.key in self.held:  # (sealed, not in the store yet)
            found = self._cache.get(part.key)
            if found is None:
                found = self._held_doc(part.key)["entries"]
                self._cache.put(part.key, found)
            return found
        return read_entries(self.loader, self._cache, part.key, collection=self.COLLECTION,
                            what=f"{self.WHAT}'", format=self.FORMAT)

    def walk(self, numbers: Sequence[int]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """``(number, entries(number))`` for each of ``numbers`` in turn: a stored part not cached is
        read with the next ones not cached (as many as the cache keeps) in one call (``many_parts``),
        not one each (a quarter's closed incidents: about 117 parts)."""
        sealed = self.sealed_count
        held = self.held
        for at, number in enumerate(numbers):
            if self.many_parts is not None and number < sealed:
                part = self.part(number)
                if (part.entries is None and part.key is not None and part.key not in held
                        and self._cache.get(part.key) is None):
                    keys = [p.key for p in (self.part(n) for n in numbers[at:] if n < sealed)
                            if p.entries is None and p.key not in held][:self.cached_parts]
                    read_many_entries(self.many_parts, self._cache, [k for k in keys if k is not None],
                                      collection=self.COLLECTION, what=f"{self.WHAT}'", format=self.FORMAT)
            yield number, self.entries(number)

    # ------------------------------------------------------------ saving

    def save(self, writer: Writer | None,
             names: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> dict[str, Any]:
        """The archive as part of a checkpoint; sealed parts not yet stored go to ``writer`` first, then
        the names of their entries to ``names`` (all at once).

        Without them (a read-only engine) the parts and their names stay in
        memory and their keys are computed all the same.
        """
        self.store_sealed(writer, names)
        document: dict[str, Any] = {"format": self.FORMAT}
        if self.chapter_size is not None:
            document["chapters"] = [[*self.part_row(c.summary), c.count, format(c.mask, "x")] for c in self.chapters]
        document["parts"] = [self.part_row(p) for p in self.parts]
        document["open"] = self.open
        return document

    @property
    def waiting(self) -> bool:
        """True if sealed parts wait to be stored (``store_sealed``: they are the newest, as it stores every
        one it finds)."""
        return bool(self.parts) and (self.parts[-1].entries is not None or self.parts[-1].key in self.held)

    def store_sealed(self, writer: Writer | None,
                     names: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> None:
        """Write the sealed parts not yet stored to ``writer``, then the names of their entries to ``names``
        (all at once), and keep only their keys (and the parts the cache keeps).

        Called by ``save`` at a checkpoint, and by a plugin between
        checkpoints (``gridcore_on_flush``, with the engine's next batch of
        events), so that sealed parts do not wait in memory for the next
        checkpoint: where they are stored never changes a part, its key or
        the checkpoint that names it.  With a ``chapter_size``, the oldest
        stored parts then go to chapters (``_make_chapters``).  Without
        ``writer`` and ``names`` (a read-only engine) the parts stay in memory
        and only their keys are computed (those held compressed, ``seal``,
        stay so).
        """
        stored: list[tuple[int, str, list[list[str]]]] = []
        writing = writer is not None and names is not None
        for number, part in enumerate(self.parts, self.first):
            if part.entries is None:
                if not writing or part.key not in self.held:
                    continue
                assert writer is not None and part.key is not None
                key = part.key
                raw = zlib.decompress(self.held[key])
                doc = json.loads(raw)
                writer(key, raw, doc)
                self._cache.put(key, doc["entries"])
                stored.append((number, key, self._names_of(number, doc["entries"])))
                continue
            # (its text's UTF-8 made once: hashed for its key, and written as it is)
            doc = {"format": self.FORMAT, "entries": part.entries}
            raw = part_bytes(doc, typed=number in self._typed_parts)
            key = part.key = bytes_key(raw)
            if writer is not None and names is not None:
                writer(key, raw, doc)
                self._cache.put(key, part.entries)
                stored.append((number, key, self._names_of(number, part.entries)))
        if writing:
            self.held = {}  # (every part held was just stored)
            self._typed_parts.clear()
        if stored:
            assert names is not None
            self.names.stored(stored, names, self._forget(stored))
        if self.chapter_size is not None and writer is not None and names is not None:
            # (here, not only at a checkpoint: between two, as a replay stores no checkpoint, the rows of the
            # stored parts and their keys in ``names`` would grow with the log; chapters are cut at the
            # same parts whenever they are made)
            self._make_chapters(writer)

    def _names_of(self, number: int, entries: list[dict[str, Any]]) -> list[list[str]]:
        """The names of the entries of sealed part ``number``, as ``add`` was given them (then forgotten)."""
        found = self._sealed_names.pop(number, None)
        return found if found is not None else [self.entry_names(e) for e in entries]

    def _make_chapters(self, writer: Writer) -> None:
        """While ``2 * chapter_size`` stored parts are held, the oldest ``chapter_size`` go to a chapter."""
        size = self.chapter_size
        assert size is not None and size > 0
        while len(self.parts) >= 2 * size and all(p.entries is None and p.key is not None and p.key not in self.held
                                                  for p in self.parts[:size]):
            moved = self.parts[:size]
            doc = {"format": self.FORMAT, "parts": [self.part_row(p) for p in moved]}
            raw = part_bytes(doc)
            key = bytes_key(raw)
            writer(key, raw, doc)
            summary = self.merged(moved)
            summary.key = key
            mask = 0
            for part in moved:
                assert part.key is not None
                mask |= key_bits(part.key)
            self.chapters.append(Chapter(summary, self.first, size, mask))
            self._keep_chapter(key, moved)
            self.names.chaptered({str(p.key): n for n, p in enumerate(moved, self.first)}, key)
            del self.parts[:size]
            self.first += size

    def _forget(self, stored: list[tuple[int, str, list[list[str]]]]) -> Iterator[tuple[Where, list[str]]]:
        """Once the names of the parts just stored are written (this runs when first read from):
        their entries leave memory, and what is left unstored is given (else they are stored again)."""
        for number, _, _ in stored:
            self.parts[number - self.first].entries = None
        yield from self._unstored()

    def _unstored(self) -> Iterator[tuple[Where, list[str]]]:
        """Where each entry not yet in the store is, with its names, oldest first."""
        for number, part in enumerate(self.parts, self.first):
            kept = self._sealed_names.get(number)
            if kept is not None:
                for position, names in enumerate(kept):
                    yield (number, position), names
                continue
            entries = part.entries
            if entries is None and part.key in self.held:
                entries = self._held_doc(part.key)["entries"]
            for position, entry in enumerate(entries or ()):
                yield (number, position), self.entry_names(entry)
        for position, names in enumerate(self._open_names):
            yield (self.first + len(self.parts), position), names

    def restored(self, document: Mapping[str, Any]) -> None:
        """Take what a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        if document.get("format") != self.FORMAT:
            raise ValueError(f"{self.WHAT} of format {document.get('format')!r}, expected {self.FORMAT}")
        if (self.chapter_size is not None) != ("chapters" in document):
            raise ValueError(f"{self.WHAT} {'without' if self.chapter_size is not None else 'with'} chapters")
        self.chapters = []
        first = 0
        for row in document.get("chapters", ()):
            summary = self.part_from_row(row[:-2])
            count = int(row[-2])
            self.chapters.append(Chapter(summary, first, count, int(row[-1], 16)))
            first += count
        self.first = first
        self.parts = [self.part_from_row(row) for row in document["parts"]]
        self._sealed_entries = sum(c.summary.count for c in self.chapters) + sum(p.count for p in self.parts)
        self.open = [dict(entry) for entry in document["open"]]
        # (read back from JSON: no type proves them plain)
        self._open_names = [self.entry_names(entry) for entry in self.open]
        self._open_typed = False
        self._sealed_names = {}
        self._typed_parts = set()
        self._chapter_parts.clear()
        self.held = {}
        self.names.restore({str(p.key): n for n, p in enumerate(self.parts, first)}, self._unstored(),
                           [str(c.summary.key) for c in self.chapters])


def overlaps(span: Span | None, start: datetime | None, end: datetime | None) -> bool:
    """True if ``span`` may hold a time in ``[start, end)`` (either bound open when None)."""
    if span is None:
        return False
    return (end is None or span[0] < end) and (start is None or span[1] >= start)


def dump_span(span: Span | None) -> list[str] | None:
    """A span as a checkpoint writes it."""
    return None if span is None else [span[0].isoformat(), span[1].isoformat()]


def load_span(value: Any) -> Span | None:
    """The span ``dump_span`` wrote."""
    return None if value is None else (datetime.fromisoformat(value[0]), datetime.fromisoformat(value[1]))
