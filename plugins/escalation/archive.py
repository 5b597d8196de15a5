"""Closed incidents: in the store, read when asked for; only open incidents stay in memory.

A closed incident can hardly change any more (a late rating, a stored event
replayed after a late one), and most reads ask only for open incidents or for
one period's, so keeping every incident ever reported in the state (and in
every checkpoint) made opening a store cost its whole history.  When an
incident closes, the state writes its *entry* here (the incident as the
checkpoint writes it, with the explanations and escalations decided for it)
and forgets it.  Entries are appended, in the order they were made, to an
*open part*; a part of ``PART_SIZE`` entries is *sealed*, and at the next
checkpoint (``gridcore_save_state``) every sealed part is written to the
store's ``escalation.closed`` collection under the SHA-256 of its content,
then dropped from memory, as the points plugin does with its ledger's history
(``plugins/points/history.py``; both through ``gridcore.parts``).  A checkpoint names each sealed part by its
key, with the times its incidents span and the names each entry answers to
(the incident's id, its repeat reports' ids, its escalations' and decisions'
event ids), and carries the open part itself.

A later entry for the same incident supersedes an earlier one (a rating after
closing writes the incident again); a *removal* entry says it is no longer
closed (a stored event replayed after a late one reopened it, and the state
took it back).  Lookups go through an index of names built from the parts'
names the first time one is asked for; reads over a period load only the
parts whose incidents span it, tell an incident's newest entry from the names
of those parts and the later ones (a recent period reads no older names), and
decode only the incidents whose own span meets the period.  Parts are cut by count only, so a store's
archive is cut the same way whether it was built in one replay or restored
from a checkpoint and replayed from there, and a part is never changed: a
late event that changes history gives new parts from where it landed on, and
the checkpoints that named the old ones stop fitting.  A part is checked
against its key when it is read; a missing or altered part is a
``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import define, field

from gridcore import StoreError
from gridcore.parts import Loader, PartCache, part_key, read_part

#: The store collection holding sealed parts of the archive.
COLLECTION = "escalation.closed"
#: Entries per sealed part.
PART_SIZE = 100
#: Sealed parts kept in memory after they were read (the least recently read go first).
CACHED_PARTS = 64
#: The shape of a part document (and of the archive in a checkpoint).
FORMAT = 1

#: How an event's id is written among the names (incident and report ids are written as they are).
EVENT = "event:"

Span = tuple[datetime, datetime]


@define(eq=False)
class Part:
    """A sealed part: its key (None until it is saved), the names of its entries, the times they span.

    ``reported`` is the earliest and latest report of its incidents, ``active``
    the earliest report and the latest step (None: the part holds only removals).
    """

    names: list[list[str]]
    reported: Span | None
    active: Span | None
    key: str | None = None
    #: the entries, while they are not yet in the store
    entries: list[dict[str, Any]] | None = field(default=None, repr=False)


def entry_names(entry: Mapping[str, Any]) -> list[str]:
    """What an entry answers to: the incident, its repeat reports, its escalations' and decisions' events."""
    if "removed" in entry:
        return [str(name) for name in entry["names"]]
    incident = entry["incident"]
    return [str(incident["id"]), *(str(r[0]) for r in incident["repeats"]),
            *(EVENT + str(e) for e in entry["escalations"]), *(EVENT + str(d) for d in entry["decisions"])]


def _spans(entries: list[dict[str, Any]]) -> tuple[Span | None, Span | None]:
    kept = [e for e in entries if "incident" in e]
    if not kept:
        return None, None
    reported = [datetime.fromisoformat(e["incident"]["reported_at"]) for e in kept]
    last = [datetime.fromisoformat(e["last"]) for e in kept]
    return (min(reported), max(reported)), (min(reported), max(last))


def _overlaps(span: Span | None, start: datetime | None, end: datetime | None) -> bool:
    """True if ``span`` may hold a time in ``[start, end)`` (either bound open when None)."""
    if span is None:
        return False
    return (end is None or span[0] < end) and (start is None or span[1] >= start)


class Archive:
    """The closed incidents of one escalation state, in the order their entries were made."""

    def __init__(self, loader: Loader | None = None) -> None:
        self.loader = loader
        self.parts: list[Part] = []
        self.open: list[dict[str, Any]] = []
        #: name -> (part number, position) of the newest entry answering to it (built when first asked)
        self._index: dict[str, tuple[int, int]] | None = None
        #: the same for the names of the parts from a number on (``_index_from``), kept as ``_index`` is
        self._tail: tuple[int, dict[str, tuple[int, int]]] | None = None
        self._cache: PartCache[list[dict[str, Any]]] = PartCache(CACHED_PARTS, by_items=False)

    @property
    def size(self) -> int:
        """How many entries were ever made (it only grows)."""
        return sum(len(p.names) for p in self.parts) + len(self.open)

    # ------------------------------------------------------------ writing

    def add(self, entry: dict[str, Any]) -> None:
        """Append an entry: a closed incident, or a removal (``{"removed": id, "names": [...]}``)."""
        self.open.append(entry)
        where = (len(self.parts), len(self.open) - 1)
        for kept in (self._index, None if self._tail is None else self._tail[1]):
            if kept is not None:
                for name in entry_names(entry):
                    kept[name] = where
        if len(self.open) >= PART_SIZE:
            self.seal()

    def seal(self) -> None:
        """Close the open part (it is written to the store at the next save)."""
        if not self.open:
            return
        reported, active = _spans(self.open)
        self.parts.append(Part([entry_names(e) for e in self.open], reported, active, entries=self.open))
        self.open = []

    # ------------------------------------------------------------ reading

    def index(self) -> dict[str, tuple[int, int]]:
        """Every name an entry answers to, and where its newest entry is."""
        if self._index is None:
            self._index = self._names_from(0)
        return self._index

    def _index_from(self, first: int) -> dict[str, tuple[int, int]]:
        """Where the newest entry answering to each name of parts ``first`` on is (the open part too).

        For an entry of those parts it says what ``index`` says: an entry that
        supersedes it can only come later.  A read of a recent period reads
        the names of the recent parts, not those of the whole history.  Kept
        for the next read (from the same part or a later one); reaching back
        over half the parts builds the whole ``index`` instead.
        """
        if self._index is not None:
            return self._index
        if self._tail is not None and self._tail[0] <= first:
            return self._tail[1]
        if first <= len(self.parts) // 2:
            return self.index()
        found = self._names_from(first)
        self._tail = (first, found)
        return found

    def _names_from(self, first: int) -> dict[str, tuple[int, int]]:
        """Where the newest entry answering to each name is, among parts ``first`` on and the open part."""
        found: dict[str, tuple[int, int]] = {}
        for number in range(first, len(self.parts)):
            for position, names in enumerate(self.parts[number].names):
                for name in names:
                    found[name] = (number, position)
        tail = len(self.parts)
        for position, entry in enumerate(self.open):
            for name in entry_names(entry):
                found[name] = (tail, position)
        return found

    def find(self, name: str) -> tuple[tuple[int, int], dict[str, Any]] | None:
        """Where the newest entry answering to ``name`` is, and the entry; None if none, or it was removed."""
        where = self.index().get(name)
        if where is None:
            return None
        entry = self.entries(where[0])[where[1]]
        return None if "removed" in entry else (where, entry)

    def current(self, *, reported: tuple[datetime | None, datetime | None] | None = None,
                active: tuple[datetime | None, datetime | None] | None = None,
                ) -> Iterator[tuple[tuple[int, int], dict[str, Any]]]:
        """The newest entry of each closed incident, from every part that may hold what is asked for.

        ``reported``: incidents reported in ``[start, end)``; ``active``:
        incidents whose report-to-last-step span overlaps ``[start, end)``.
        Parts are passed over by their spans, then entries by their own (read
        from the entry's text, before an incident is decoded): callers filter
        the incidents they get by what happened in the period.
        """
        wanted = [number for number, part in enumerate(self.parts)
                  if (reported is None or _overlaps(part.reported, *reported))
                  and (active is None or _overlaps(part.active, *active))]
        wanted.append(len(self.parts))  # the open part: no span kept, its entries are checked one by one
        index = self._index_from(wanted[0])
        for number in wanted:
            for position, entry in enumerate(self.entries(number)):
                incident = entry.get("incident")
                if incident is None or index.get(str(incident["id"])) != (number, position):
                    continue
                if reported is not None or active is not None:
                    at = datetime.fromisoformat(incident["reported_at"])
                    if reported is not None and not _overlaps((at, at), *reported):
                        continue
                    if active is not None and not _overlaps((at, datetime.fromisoformat(entry["last"])), *active):
                        continue
                yield (number, position), entry

    def entries(self, number: int) -> list[dict[str, Any]]:
        """The entries of part ``number`` (``len(parts)``: the open part), read from the store if need be."""
        if number == len(self.parts):
            return self.open
        part = self.parts[number]
        if part.entries is not None:
            return part.entries
        assert part.key is not None
        found = self._cache.get(part.key)
        if found is not None:
            return found
        doc = read_part(self.loader, part.key, collection=COLLECTION, what="closed incidents'")
        if doc.get("format") != FORMAT:
            raise StoreError(f"the closed incidents' part {part.key} in the store's {COLLECTION!r} collection is "
                             f"of format {doc.get('format')!r}, expected {FORMAT}; rebuild the state (gridcore rebuild)")
        entries = list(doc["entries"])
        self._cache.put(part.key, entries)
        return entries

    # ------------------------------------------------------------ saving

    def save(self, writer: Callable[[str, dict[str, Any]], None] | None) -> dict[str, Any]:
        """The archive as part of a checkpoint; sealed parts not yet stored go to ``writer`` first.

        Without a writer (a read-only engine) the parts stay in memory and
        their keys are computed all the same.
        """
        for part in self.parts:
            if part.entries is None:
                continue
            doc = {"format": FORMAT, "entries": part.entries}
            key = part_key(doc)
            part.key = key
            if writer is not None:
                writer(key, doc)
                self._cache.put(key, part.entries)
                part.entries = None
        return {
            "format": FORMAT,
            "parts": [[p.key, _dump_span(p.reported), _dump_span(p.active), p.names] for p in self.parts],
            "open": self.open,
        }

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: Loader | None) -> Archive:
        """The archive a checkpoint saved; ``ValueError`` if it cannot be read."""
        if document.get("format") != FORMAT:
            raise ValueError(f"closed incidents of format {document.get('format')!r}, expected {FORMAT}")
        archive = cls(loader)
        for key, reported, active, names in document["parts"]:
            archive.parts.append(Part(names, _load_span(reported), _load_span(active), key=str(key)))
        archive.open = [dict(entry) for entry in document["open"]]
        return archive


def _dump_span(span: Span | None) -> list[str] | None:
    return None if span is None else [span[0].isoformat(), span[1].isoformat()]


def _load_span(value: Any) -> Span | None:
    return None if value is None else (datetime.fromisoformat(value[0]), datetime.fromisoformat(value[1]))
