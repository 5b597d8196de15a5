"""An archive of a plugin's entries that can hardly change any more, in sealed parts in the store.

What a plugin settles for good (a closed incident, a settled task) need not
stay in its state, nor in every checkpoint: the state writes an *entry* for
it here and forgets it.  Entries are appended, in the order they were made,
to an *open part*; a part of ``part_size`` entries is *sealed*, and at the
next checkpoint (``save``) every sealed part is written to the store under
the SHA-256 of its content (``gridcore.parts``), then dropped from memory,
and the names its entries answer to go to the plugin's names collection
(``gridcore.partnames``).  A checkpoint names each sealed part by its key,
with what the plugin keeps of it to pass parts over on reading (the times
its entries span), and carries the open part itself.

``PartArchive`` does what every such archive does the same way; a plugin
subclasses it with its ``Part`` (what it keeps of a sealed part), how a part
is sealed and written in a checkpoint, and what an entry answers to, and
adds its own reads (``current``).  Parts are cut by count only and never
change: a later entry for the same name supersedes an earlier one, and a
late event that changes history gives new parts from where it landed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from .partnames import PartNames, Where
from .parts import (
    Loader,
    ManyLoader,
    PartCache,
    PartLoader,
    PartsLoader,
    Writer,
    part_text,
    read_entries,
    read_many_entries,
    text_key,
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


class PartArchive(Generic[P]):
    """The entries of one plugin state, in the order they were made: sealed parts, then the open part."""

    #: the store collection holding the sealed parts
    COLLECTION: ClassVar[str]
    #: the shape of a part document (and of the archive in a checkpoint)
    FORMAT: ClassVar[int]
    #: what the entries are, in messages (``"closed incidents"``)
    WHAT: ClassVar[str]

    def __init__(self, loader: PartLoader | None, names: Loader | None, *, part_size: int, cached_parts: int,
                 many_names: ManyLoader | None = None, many_parts: PartsLoader | None = None) -> None:
        #: reads a sealed part from the store by its key (None: nothing was stored)
        self.loader = loader
        #: reads several sealed parts at once (``walk``; None: one ``loader`` call each)
        self.many_parts = many_parts
        self.cached_parts = cached_parts
        self.part_size = part_size
        self.parts: list[P] = []
        self.open: list[dict[str, Any]] = []
        #: where the newest entry answering to each name is (the stored parts' names are in the store;
        #: ``many_names`` reads several names' documents at once: ``PartNames.prefetch``)
        self.names = PartNames(names, many_names)
        self._cache: PartCache[list[dict[str, Any]]] = PartCache(cached_parts, by_items=False)

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

    # ------------------------------------------------------------ writing

    @property
    def size(self) -> int:
        """How many entries were ever made (it only grows)."""
        return sum(p.count for p in self.parts) + len(self.open)

    def add(self, entry: dict[str, Any]) -> None:
        """Append an entry (it supersedes the earlier entries answering to its names)."""
        self.open.append(entry)
        self.names.note(self.entry_names(entry), (len(self.parts), len(self.open) - 1))
        if len(self.open) >= self.part_size:
            self.seal()

    def seal(self) -> None:
        """Close the open part (it is written to the store at the next save)."""
        if not self.open:
            return
        self.parts.append(self.sealed(self.open))
        self.open = []

    # ------------------------------------------------------------ reading

    def find(self, name: str) -> tuple[Where, dict[str, Any]] | None:
        """Where the newest entry answering to ``name`` is, and the entry; None if none does."""
        where = self.names.locate(name)
        return None if where is None else (where, self.entries(where[0])[where[1]])

    def entries(self, number: int) -> list[dict[str, Any]]:
        """The entries of part ``number`` (``len(parts)``: the open part), read from the store if need be."""
        if number == len(self.parts):
            return self.open
        part = self.parts[number]
        if part.entries is not None:
            return part.entries
        assert part.key is not None
        return read_entries(self.loader, self._cache, part.key, collection=self.COLLECTION,
                            what=f"{self.WHAT}'", format=self.FORMAT)

    def walk(self, numbers: Sequence[int]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """``(number, entries(number))`` for each of ``numbers`` in turn: a stored part not cached is
        read with the next ones not cached (as many as the cache keeps) in one call (``many_parts``),
        not one each (a quarter's closed incidents: about 117 parts)."""
        for at, number in enumerate(numbers):
            if self.many_parts is not None and number < len(self.parts):
                part = self.parts[number]
                if part.entries is None and part.key is not None and self._cache.get(part.key) is None:
                    keys = [self.parts[n].key for n in numbers[at:] if n < len(self.parts)
                            and self.parts[n].entries is None][:self.cached_parts]
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
        stored: list[tuple[int, str, list[list[str]]]] = []
        for number, part in enumerate(self.parts):
            if part.entries is None:
                continue
            doc = {"format": self.FORMAT, "entries": part.entries}
            text = part_text(doc)
            key = part.key = text_key(text)
            if writer is not None and names is not None:
                writer(key, text, doc)
                self._cache.put(key, part.entries)
                stored.append((number, key, [self.entry_names(e) for e in part.entries]))
        if stored:
            assert names is not None
            self.names.stored(stored, names, self._forget(stored))
        return {"format": self.FORMAT, "parts": [self.part_row(p) for p in self.parts], "open": self.open}

    def _forget(self, stored: list[tuple[int, str, list[list[str]]]]) -> Iterator[tuple[Where, list[str]]]:
        """Once the names of the parts just stored are written (this runs when first read from):
        their entries leave memory, and what is left unstored is given (else they are stored again)."""
        for number, _, _ in stored:
            self.parts[number].entries = None
        yield from self._unstored()

    def _unstored(self) -> Iterator[tuple[Where, list[str]]]:
        """Where each entry not yet in the store is, with its names, oldest first."""
        for number, part in enumerate(self.parts):
            for position, entry in enumerate(part.entries or ()):
                yield (number, position), self.entry_names(entry)
        for position, entry in enumerate(self.open):
            yield (len(self.parts), position), self.entry_names(entry)

    def restored(self, document: Mapping[str, Any]) -> None:
        """Take what a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        if document.get("format") != self.FORMAT:
            raise ValueError(f"{self.WHAT} of format {document.get('format')!r}, expected {self.FORMAT}")
        self.parts = [self.part_from_row(row) for row in document["parts"]]
        self.open = [dict(entry) for entry in document["open"]]
        self.names.restore({str(p.key): n for n, p in enumerate(self.parts)}, self._unstored())


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
