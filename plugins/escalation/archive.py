"""Closed incidents: in the store, read when asked for; only open incidents stay in memory.

A closed incident can hardly change any more (a late rating, a stored event
replayed after a late one), and most reads ask only for open incidents or for
one period's, so keeping every incident ever reported in the state (and in
every checkpoint) made opening a store cost its whole history.  When an
incident closes, the state writes its *entry* here (the incident as the
checkpoint writes it, with the explanations and escalations decided for it)
and forgets it.  Entries are appended, in the order they were made, to an
*open part*; a part of ``PART_SIZE`` entries is *sealed*, and with the
engine's next batch of events (``gridcore_on_flush``; else at the next
checkpoint, ``gridcore_save_state``) every sealed part is written to the
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
among the newest entries just stored (``gridcore.partnames.KEPT_STORED``), then
in its document in the store (the answer kept for the next lookups); reads over a period load only the parts whose incidents span it, tell
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

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import field

from gridcore.archive import PartArchive, Span, dump_span, load_span, overlaps
from gridcore.classes import define
from gridcore.parts import Loader, ManyLoader, PartLoader, PartsLoader

#: The store collection holding sealed parts of the archive.
COLLECTION = "escalation.closed"
#: Entries per sealed part.
PART_SIZE = 100
#: Sealed parts kept in memory after they were read or stored (the least recently read go first).
#: A part of a busy district's closed incidents is about 1 MB in memory: 64 of them were 25 times
#: the open incidents, and bought nothing: an ingest reads back only the newest parts (a late
#: rating), and a quarter's read passes over more parts than 64 in order, so it found none of them.
CACHED_PARTS = 8
#: Stored parts put in a chapter at a time (``gridcore.archive``): the archive keeps in memory, and in
#: its checkpoints, between this many and twice as many stored parts, and a summary of each chapter.
CHAPTER_PARTS = 32
#: The store collection naming the sealed parts that hold each name (``gridcore.partnames``).
NAMES = "escalation.names"
#: The shape of a part document (and of the archive in a checkpoint): 2, the names of the parts'
#: entries in the store, not in the checkpoint; 3, an incident's fields at their default left out
#: (``checkpoint._dump_incident``): a part of format 2 is refused (rebuild), never read as this one
FORMAT = 3

#: Names kept as answering to no entry (``Archive.find``) before they are all forgotten: about the open
#: incidents' ids (each asked on every event on it) and the ids just reported, checked before they are taken.
ABSENT = 16_384

#: How an event's id is written among the names (incident and report ids are written as they are).
EVENT = "event:"


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
    #: the part as the checkpoint names it once stored (``Archive.part_row``), written once: every
    #: checkpoint names every part
    row: list[Any] | None = field(default=None, repr=False)


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


def _union(spans: list[Span | None]) -> Span | None:
    """The span from the earliest to the latest of ``spans`` (None: none is a span)."""
    kept = [span for span in spans if span is not None]
    if not kept:
        return None
    return min(span[0] for span in kept), max(span[1] for span in kept)


class Archive(PartArchive[Part]):
    """The closed incidents of one escalation state, in the order their entries were made."""

    COLLECTION = COLLECTION
    FORMAT = FORMAT
    WHAT = "closed incidents"

    def __init__(self, loader: PartLoader | None = None, names: Loader | None = None,
                 many_names: ManyLoader | None = None, many_parts: PartsLoader | None = None) -> None:
        super().__init__(loader, names, part_size=PART_SIZE, cached_parts=CACHED_PARTS, many_names=many_names,
                         many_parts=many_parts, chapter_size=CHAPTER_PARTS)
        #: entries added (``add``), and the last ``find``: the name, the entries added when it was asked, its answer
        self._added = 0
        self._found: tuple[str, int, tuple[tuple[int, int], dict[str, Any]] | None] | None = None
        #: names ``find`` answered None for, no entry answering to them added since (at most ``ABSENT``)
        self._absent: set[str] = set()

    entry_names = staticmethod(entry_names)

    def sealed(self, entries: list[dict[str, Any]]) -> Part:
        """The part holding ``entries``, with the times its incidents span."""
        reported, active = _spans(entries)
        return Part(len(entries), reported, active, entries=entries)

    def merged(self, parts: list[Part]) -> Part:
        """What a chapter keeps of its parts: how many entries they hold, the times they span."""
        return Part(sum(p.count for p in parts), _union([p.reported for p in parts]),
                    _union([p.active for p in parts]))

    def part_row(self, part: Part) -> list[Any]:
        """A stored part as the checkpoint names it: key, reported span, active span, count."""
        if part.row is None or part.row[0] != part.key:
            part.row = [part.key, dump_span(part.reported), dump_span(part.active), part.count]
        return part.row

    @classmethod
    def part_from_row(cls, row: list[Any]) -> Part:
        """The part ``part_row`` wrote."""
        key, reported, active, count = row
        return Part(int(count), load_span(reported), load_span(active), key=str(key))

    # ------------------------------------------------------------ reading

    def find(self, name: str) -> tuple[tuple[int, int], dict[str, Any]] | None:
        """Where the newest entry answering to ``name`` is, and the entry; None if none, or it was removed.

        The last answer is kept until an entry is added: an event is looked up by its incident's id
        when it is judged and again when it is applied (a report three times: is its id taken, is it
        a repeat report's, was it archived), and only ``add`` (or a restore) changes what a name finds:
        sealing, storing the sealed parts or putting them in chapters moves entries, never where they
        are numbered, and the store's names of parts not of this archive are passed over.  So is
        "none" for each name, until an entry answering to it is added (``_absent``): every event on
        an open incident asks whether its id is a repeat report's (``Records.primary_of``), and the
        names were asked again each time (a filter of the stored parts' names, whose layers grow with
        the history, or the store itself in a process restored from another's checkpoint).
        """
        kept = self._found
        if kept is not None and kept[0] == name and kept[1] == self._added:
            return kept[2]
        absent = self._absent
        if name in absent:
            return None
        found = super().find(name)
        if found is not None and "removed" in found[1]:
            found = None
        self._found = (name, self._added, found)
        if found is None:
            if len(absent) >= ABSENT:
                absent.clear()
            absent.add(name)
        return found

    def add(self, entry: dict[str, Any], names: list[str] | None = None, *, typed: bool = False) -> None:
        """Append an entry (``PartArchive.add``): what ``find`` found before may have changed."""
        self._added += 1
        if names is None:
            names = entry_names(entry)
        if self._absent:
            self._absent.difference_update(names)
        super().add(entry, names, typed=typed)

    def add_closed(self, entry: dict[str, Any], *, typed: bool = False) -> tuple[int, int]:
        """Append an incident's entry (``add``); where it is: its part's number and its place in it, where
        ``find`` finds the incident's id from now on (as it would answer, not looked up)."""
        where = (self.sealed_count, len(self.open))
        self.add(entry, typed=typed)
        return where

    def restored(self, document: Mapping[str, Any]) -> None:
        """Take what a checkpoint saved (``PartArchive.restored``), forgetting the last ``find``."""
        self._found = None
        self._absent = set()
        super().restored(document)

    def current(self, *, reported: tuple[datetime | None, datetime | None] | None = None,
                active: tuple[datetime | None, datetime | None] | None = None,
                ) -> Iterator[tuple[tuple[int, int], dict[str, Any]]]:
        """The newest entry of each closed incident, from every part that may hold what is asked for.

        ``reported``: incidents reported in ``[start, end)``; ``active``:
        incidents whose report-to-last-step span overlaps ``[start, end)``.
        Parts are passed over by their spans, then entries by their own (read
        from the entry's text, before an incident is decoded): callers filter
        the incidents they get by what happened in the period.  Whether an
        entry is its incident's newest is looked up by the incident's id (the ids of a part's
        entries asked of the store at once: ``PartNames.prefetch``).
        """
        wanted = self.numbered(lambda part: (reported is None or overlaps(part.reported, *reported))
                               and (active is None or overlaps(part.active, *active)))
        wanted.append(self.sealed_count)  # the open part: no span kept, its entries are checked one by one
        for number, entries in self.walk(wanted):
            found = []
            for position, entry in enumerate(entries):
                incident = entry.get("incident")
                if incident is None:
                    continue
                if reported is not None or active is not None:
                    at = datetime.fromisoformat(incident["reported_at"])
                    if reported is not None and not overlaps((at, at), *reported):
                        continue
                    if active is not None and not overlaps((at, datetime.fromisoformat(entry["last"])), *active):
                        continue
                found.append((position, entry, str(incident["id"])))
            # (the names of a part's entries asked of the store at once, not one round trip each)
            self.names.prefetch(ident for _, _, ident in found)
            for position, entry, ident in found:
                if self.names.locate(ident) == (number, position):
                    yield (number, position), entry

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: PartLoader | None, names: Loader | None = None,
                many_names: ManyLoader | None = None, many_parts: PartsLoader | None = None) -> Archive:
        """The archive a checkpoint saved (every sealed part stored); ``ValueError`` if it cannot be read."""
        archive = cls(loader, names, many_names, many_parts)
        archive.restored(document)
        return archive
