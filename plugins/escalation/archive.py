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
(``plugins/points/history.py``; both through ``gridcore.parts``), and the
names its entries answer to (the incident's id, its repeat reports' ids, its
escalations' and decisions' event ids) to the ``escalation.names`` collection
(``gridcore.partnames``: one document per name, naming the parts that hold
it).  A checkpoint names each sealed part by its key, with the times its
incidents span and how many entries it holds, and carries the open part
itself: nothing in it grows with the names of the history.

A later entry for the same incident supersedes an earlier one (a rating after
closing writes the incident again); a *removal* entry says it is no longer
closed (a stored event replayed after a late one reopened it, and the state
took it back).  A name is looked up among the entries not yet stored, then
in its document in the store (kept for the next lookups until the next
save); reads over a period load only the parts whose incidents span it, tell
an incident's newest entry by looking its id up, and
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

from gridcore.partnames import PartNames
from gridcore.parts import Loader, PartCache, part_key, read_entries

#: The store collection holding sealed parts of the archive.
COLLECTION = "escalation.closed"
#: Entries per sealed part.
PART_SIZE = 100
#: Sealed parts kept in memory after they were read (the least recently read go first).
CACHED_PARTS = 64
#: The store collection naming the sealed parts that hold each name (``gridcore.partnames``).
NAMES = "escalation.names"
#: The shape of a part document (and of the archive in a checkpoint): 2, the names of the parts'
#: entries in the store, not in the checkpoint
FORMAT = 2

#: How an event's id is written among the names (incident and report ids are written as they are).
EVENT = "event:"

Span = tuple[datetime, datetime]


@define(eq=False)
class Part:
    """A sealed part: how many entries it holds, the times they span, its key (None until it is saved).

    ``reported`` is the earliest and latest report of its incidents, ``active``
    the earliest report and the latest step (None: the part holds only removals).
    """

    count: int
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

    def __init__(self, loader: Loader | None = None, names: Loader | None = None) -> None:
        self.loader = loader
        self.parts: list[Part] = []
        self.open: list[dict[str, Any]] = []
        #: where the newest entry answering to each name is (the stored parts' names are in the store)
        self.names = PartNames(names)
        self._cache: PartCache[list[dict[str, Any]]] = PartCache(CACHED_PARTS, by_items=False)

    @property
    def size(self) -> int:
        """How many entries were ever made (it only grows)."""
        return sum(p.count for p in self.parts) + len(self.open)

    # ------------------------------------------------------------ writing

    def add(self, entry: dict[str, Any]) -> None:
        """Append an entry: a closed incident, or a removal (``{"removed": id, "names": [...]}``)."""
        self.open.append(entry)
        self.names.note(entry_names(entry), (len(self.parts), len(self.open) - 1))
        if len(self.open) >= PART_SIZE:
            self.seal()

    def seal(self) -> None:
        """Close the open part (it is written to the store at the next save)."""
        if not self.open:
            return
        reported, active = _spans(self.open)
        self.parts.append(Part(len(self.open), reported, active, entries=self.open))
        self.open = []

    # ------------------------------------------------------------ reading

    def find(self, name: str) -> tuple[tuple[int, int], dict[str, Any]] | None:
        """Where the newest entry answering to ``name`` is, and the entry; None if none, or it was removed."""
        where = self.names.locate(name)
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
        the incidents they get by what happened in the period.  Whether an
        entry is its incident's newest is looked up by the incident's id.
        """
        wanted = [number for number, part in enumerate(self.parts)
                  if (reported is None or _overlaps(part.reported, *reported))
                  and (active is None or _overlaps(part.active, *active))]
        wanted.append(len(self.parts))  # the open part: no span kept, its entries are checked one by one
        for number in wanted:
            for position, entry in enumerate(self.entries(number)):
                incident = entry.get("incident")
                if incident is None:
                    continue
                if reported is not None or active is not None:
                    at = datetime.fromisoformat(incident["reported_at"])
                    if reported is not None and not _overlaps((at, at), *reported):
                        continue
                    if active is not None and not _overlaps((at, datetime.fromisoformat(entry["last"])), *active):
                        continue
                if self.names.locate(str(incident["id"])) != (number, position):
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
        return read_entries(self.loader, self._cache, part.key, collection=COLLECTION, what="closed incidents'",
                            format=FORMAT)

    # ------------------------------------------------------------ saving

    def save(self, writer: Callable[[str, dict[str, Any]], None] | None,
             names: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> dict[str, Any]:
        """The archive as part of a checkpoint; sealed parts not yet stored go to ``writer`` first, then
        the names of their entries to ``names`` (all at once).

        Without a writer (a read-only engine) the parts and their names stay in
        memory and their keys are computed all the same.
        """
        stored: list[tuple[int, str, list[list[str]]]] = []
        for number, part in enumerate(self.parts):
            if part.entries is None:
                continue
            doc = {"format": FORMAT, "entries": part.entries}
            key = part_key(doc)
            part.key = key
            if writer is not None and names is not None:
                writer(key, doc)
                self._cache.put(key, part.entries)
                stored.append((number, key, [entry_names(e) for e in part.entries]))
        if stored:
            assert names is not None
            self.names.stored(stored, names, self._forget(stored))
        return {
            "format": FORMAT,
            "parts": [[p.key, _dump_span(p.reported), _dump_span(p.active), p.count] for p in self.parts],
            "open": self.open,
        }

    def _forget(self, stored: list[tuple[int, str, list[list[str]]]]) -> Iterator[tuple[tuple[int, int], list[str]]]:
        """Once the names of the parts just stored are written (this runs when first read from):
        their entries leave memory, and what is left unstored is given (else they are stored again)."""
        for number, _, _ in stored:
            self.parts[number].entries = None
        yield from self._unstored()

    def _unstored(self) -> Iterator[tuple[tuple[int, int], list[str]]]:
        """Where each entry not yet in the store is, with its names, oldest first."""
        for number, part in enumerate(self.parts):
            for position, entry in enumerate(part.entries or ()):
                yield (number, position), entry_names(entry)
        for position, entry in enumerate(self.open):
            yield (len(self.parts), position), entry_names(entry)

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: Loader | None, names: Loader | None = None) -> Archive:
        """The archive a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        if document.get("format") != FORMAT:
            raise ValueError(f"closed incidents of format {document.get('format')!r}, expected {FORMAT}")
        archive = cls(loader, names)
        for key, reported, active, count in document["parts"]:
            archive.parts.append(Part(int(count), _load_span(reported), _load_span(active), key=str(key)))
        archive.open = [dict(entry) for entry in document["open"]]
        archive.names.restore({str(p.key): n for n, p in enumerate(archive.parts)}, archive._unstored())
        return archive


def _dump_span(span: Span | None) -> list[str] | None:
    return None if span is None else [span[0].isoformat(), span[1].isoformat()]


def _load_span(value: Any) -> Span | None:
    return None if value is None else (datetime.fromisoformat(value[0]), datetime.fromisoformat(value[1]))
