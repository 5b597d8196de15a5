"""Which sealed parts of a plugin's archive hold an entry for a name, kept in the store, not in the state.

A plugin that archives what can hardly change any more (closed incidents,
finished tasks) in parts (``gridcore.parts``) still has to find an entry by
name: is this id already taken, which closed incident does this late rating
reach.  Keeping every name in the state made the state (and each checkpoint)
grow with the history.  ``PartNames`` keeps in memory only the names of the
parts not yet stored (the newest); once a part is stored, its names go to the
store, one document per name in the plugin's *names collection*
(``{"parts": {part key: position}}``: every stored part holding an entry
answering to the name, by its key, with the position of the last such entry
in it), and a lookup reads that document and keeps the newest of those parts
that belong to this archive (its number, from ``numbers``).

A name document only ever gains parts: parts of another history of the log
(left behind by a late event, or by a writer that crashed before its
checkpoint) stay named there, and are passed over because this archive does
not hold them.  Where the store has ``merge_parts`` (every built-in backend),
the parts are merged into the name documents atomically, with no read first
(``writer.merge``), so two writers adding parts to the same name at once both
keep their additions.  On a store without it (a plugin's backend) a name's
document is read, then written with its new parts, and two writers adding parts
to the same name at once could lose one of the two additions; SQL stores give
each writer its own checkpoints, and parts with the same content have the same
key, so only writers whose logs differ could meet this.

Most lookups are of names no entry answers to yet (a report's new id, checked
before it is taken), and each such lookup was a read of the store (a round
trip to a PostgreSQL server).  A part's key is the SHA-256 of its content
(``gridcore.parts``), so the names its entries answer to are a fact about the
key that no writer, in this process or another, can change.  ``SEEN`` keeps, for
the process, a compact filter of the names of every part stored through
``PartNames.stored`` (a Bloom filter: a name absent from it is surely held by
none of those parts; one present may be a false alarm, about 1 in 100).  A
lookup of a name the filter rules out for every part of the archive is answered
"none" without reading the store: the store's answer could only have been the
same, since a name's document gains a part only when that part holds an entry
answering to the name, and parts not of this archive are passed over.  An archive with a part whose names this process has not
seen (restored from a checkpoint another process wrote) reads the store as
before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .parts import Loader, ManyLoader

#: Where an entry is: (part number, position in the part).
Where = tuple[int, int]
#: Lookups in the store kept (the least recently asked for go first): a name is read once, not at every
#: lookup; one known to have no document is written without being read first.
KEPT = 20_000
#: Names of the newest entries just stored kept with where they are (the least recently stored go
#: first), so that a late event on what was just archived (a rating of an incident closed the day
#: before) is not a read of the store.  Every stored name was kept (in ``KEPT``): the ids of every
#: closed incident, about 230 bytes each, so memory grew with the history up to 4.5 MB.
KEPT_STORED = 1_024


#: The bits of a name's hash each of the two numbers of its probes is taken from (``SeenNames``): 28, so that
#: the probes' sums stay within one digit of Python's whole numbers (30 bits), whose arithmetic is the
#: quickest (with the hash's 64 bits and 32-bit numbers it was about 11,000 instructions a name added),
#: and a layer's bit index (at most 2**26 bits: ``limit``) is drawn from all of them.
_PROBE = (1 << 28) - 1


class SeenNames:
    """The names answered to by the entries of parts whose content this process has seen, by part key.

    ``add(key, names)`` records a part's names (every name of every entry);
    ``covers(keys)`` says whether every one of ``keys`` was added;
    ``may_hold(name)`` is False only if no added part has an entry answering to
    ``name`` (True may be a false alarm).  Names go into a Bloom filter of 16 bits
    a name and 3 probes (two numbers from the name's hash, ``_PROBE``), in layers that double in size as names come (65,536
    names, then 131,072 ...): a full layer gives a false alarm about 1 time in
    200, and a name is looked for in every layer, so with a million names (four
    layers, 2 MiB) about 1 lookup in 50 of a name no part holds still reads the
    store.  Past ``limit`` names nothing more is added, and parts added no more
    are not covered (their archives' lookups read the store).  Part keys must name their content (``gridcore.parts`` keys are the
    SHA-256 of it): a key added with one part's names and later used for
    another content could make ``may_hold`` wrongly False.  Safe to share
    between threads (adding holds a lock; a key counts as covered only once all
    its names are in).
    """

    FIRST = 1 << 16  # names the first layer is made for

    def __init__(self, limit: int = 1 << 23) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        #: (bits, mask of a bit index) of each layer, oldest first
        self._layers: list[tuple[bytearray, int]] = []
        self._room = 0  # names the newest layer takes before the next one is made
        self._names = 0

    def add(self, key: str, names: Iterable[Iterable[str]]) -> None:
        """Part ``key``'s entries answer to ``names`` (a list of names per entry)."""
        if key in self._keys:
            return
        with self._lock:
            if key in self._keys:
                return
            for entry in names:
                for name in entry:
                    if self._names >= self.limit:
                        return  # (key not covered: its archives' lookups read the store)
                    if self._room <= 0:
                        size = self.FIRST << len(self._layers)
                        self._layers.append((bytearray(2 * size), 16 * size - 1))
                        self._room = size
                    bits, mask = self._layers[-1]
                    h = hash(name)
                    a, b = h & _PROBE, ((h >> 28) & _PROBE) | 1
                    index = a & mask
                    bits[index >> 3] |= 1 << (index & 7)
                    index = (a + b) & mask
                    bits[index >> 3] |= 1 << (index & 7)
                    index = (a + 2 * b) & mask
                    bits[index >> 3] |= 1 << (index & 7)
                    self._room -= 1
                    self._names += 1
            self._keys.add(key)

    def covers(self, keys: Iterable[str]) -> bool:
        """True if the names of every part of ``keys`` were added."""
        known = self._keys
        return all(key in known for key in keys)

    def may_hold(self, name: str) -> bool:
        """False only if no entry of an added part answers to ``name``."""
        h = hash(name)
        a, b = h & _PROBE, ((h >> 28) & _PROBE) | 1
        for bits, mask in self._layers:
            index = a & mask
            if not bits[index >> 3] & (1 << (index & 7)):
                continue
            index = (a + b) & mask
            if not bits[index >> 3] & (1 << (index & 7)):
                continue
            index = (a + 2 * b) & mask
            if bits[index >> 3] & (1 << (index & 7)):
                return True
        return False


#: The names of the parts this process stored (for every archive: keys are the SHA-256 of the content).
SEEN = SeenNames()


class PartNames:
    """Name -> where the newest entry answering to it is, for the parts of one archive."""

    def __init__(self, loader: Loader | None = None, many: ManyLoader | None = None) -> None:
        #: reads a name's document from the names collection (None: nothing was stored)
        self.loader = loader
        #: reads several names' documents at once (``prefetch``; None: one ``loader`` call each)
        self.many = many
        #: key -> number of each part of this archive whose names are in the store (but for those in the
        #: archive's chapters: ``older``)
        self.numbers: dict[str, int] = {}
        #: where the newest entry is among the parts of the archive's chapters, for a name whose document
        #: names the parts given (key -> position); None if none of them (``PartArchive`` sets it)
        self.older: Callable[[Mapping[str, Any]], Where | None] | None = None
        #: True once some stored parts are in chapters (not in ``numbers``)
        self.chaptered_any = False
        #: True while ``SEEN`` knows the names of every part in the archive's chapters
        self._chapters_seen = True
        #: names of the entries not yet in the store (the newest parts and the open one)
        self._recent: dict[str, Where] = {}
        #: what the store said of names: where the newest entry is, None (the name has no document), or
        #: False (it has one, naming none of this archive's parts)
        self._asked: OrderedDict[str, Where | None | bool] = OrderedDict()
        #: where the newest entries just stored are, by name (``KEPT_STORED``)
        self._stored: OrderedDict[str, Where] = OrderedDict()
        #: True when ``SEEN`` knows the names of every stored part of this archive
        self._seen = False

    def note(self, names: Iterable[str], where: Where) -> None:
        """An entry not yet in the store, at ``where``, answers to ``names`` (it supersedes older ones)."""
        for name in names:
            self._recent[name] = where

    def locate(self, name: str) -> Where | None:
        """Where the newest entry answering to ``name`` is; None if none does."""
        found = self._recent.get(name) or self._stored.get(name)
        if found is not None:
            return found
        if name in self._asked:
            self._asked.move_to_end(name)
            kept = self._asked[name]
            return kept if isinstance(kept, tuple) else None
        if self.loader is None or not (self.numbers or self.chaptered_any):
            return None  # (nothing of this archive is stored: not asked, not kept)
        if self._seen and not SEEN.may_hold(name):
            return None  # (no stored part of this archive answers to it: the store would say so too)
        said = self._said(self.loader(name))
        self._keep(name, said)
        return said if isinstance(said, tuple) else None

    def prefetch(self, names: Iterable[str]) -> None:
        """Ask the store at once (``many``) what ``locate`` would ask it one name at a time for those
        of ``names`` that need it, and keep the answers (as ``locate`` keeps them).

        A read going through many stored entries (an archive's ``current``: a
        period's closed incidents) looks up each entry's own name to tell
        whether it is the newest: one read of the store for the names of a
        part's entries, not one per name (a round trip each on PostgreSQL).
        ``locate`` then answers exactly as it would have without it.
        """
        if self.many is None or self.loader is None or not (self.numbers or self.chaptered_any):
            return
        asked, recent, stored = self._asked, self._recent, self._stored
        seen = self._seen
        wanted = [name for name in dict.fromkeys(names)
                  if name not in recent and name not in stored and name not in asked
                  and (not seen or SEEN.may_hold(name))]
        if len(wanted) < 2:
            return  # (one name: ``locate`` reads it as cheaply)
        docs = self.many(wanted)
        for name in wanted:
            self._keep(name, self._said(docs.get(name)))

    def _said(self, doc: Mapping[str, Any] | None) -> Where | None | bool:
        """What a name's document says of this archive: where its newest entry is, None (no document),
        or False (a document naming none of this archive's parts)."""
        if doc is None:
            return None
        best: Where | None = None
        for key, position in doc["parts"].items():
            number = self.numbers.get(key)
            if number is not None and (best is None or number > best[0]):
                best = (number, int(position))
        if best is None and self.chaptered_any and self.older is not None:
            best = self.older(doc["parts"])  # (the parts in chapters are older than every one in ``numbers``)
        return best if best is not None else False

    def _keep(self, name: str, said: Where | None | bool) -> None:
        self._asked[name] = said
        self._asked.move_to_end(name)
        while len(self._asked) > KEPT:
            self._asked.popitem(last=False)

    def stored(self, parts: list[tuple[int, str, list[list[str]]]],
               writer: Callable[[dict[str, dict[str, Any]]], None],
               unstored: Iterable[tuple[Where, Iterable[str]]]) -> None:
        """Parts ``(number, key, names of each entry)`` were just written to the store: write their
        names' documents (through ``writer``: merged with ``writer.merge`` where it has one, else read and
        written all at once), and keep in memory only the names of the
        entries still not stored (``unstored``: where each is, and its names, oldest first; read only
        once the documents are written, so a generator may drop the stored entries as it starts)."""
        added: dict[str, dict[str, int]] = {}
        newest: dict[str, Where] = {}
        for number, key, written in parts:
            for position, entry in enumerate(written):
                for name in entry:
                    added.setdefault(name, {})[key] = position
                    newest[name] = (number, position)
        merge: Callable[[dict[str, dict[str, int]]], None] | None = getattr(writer, "merge", None)
        if merge is not None:
            if added:
                merge(added)  # (atomic in the store: nothing read first, no other writer's addition lost)
        else:
            self._read_then_write(parts, added, writer)
        for number, key, written in parts:
            self.numbers[key] = number
            SEEN.add(key, written)
        self._seen = self._chapters_seen and SEEN.covers(self.numbers)
        stored = self._stored
        for name in newest:
            self._asked.pop(name, None)  # (what the store said of it before is out of date)
            stored.pop(name, None)
        # what the store now says of the names of the newest entries (an entry not yet stored comes first)
        for name, where in sorted(newest.items(), key=lambda item: item[1])[-KEPT_STORED:]:
            stored[name] = where
        while len(stored) > KEPT_STORED:
            stored.popitem(last=False)
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)

    def _read_then_write(self, parts: list[tuple[int, str, list[list[str]]]], added: dict[str, dict[str, int]],
                         writer: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        """The name documents with their new parts, for a store without ``merge_parts``: each read, then
        all written (another writer's addition between the two is lost)."""
        docs = {}
        # An entry's first name is its own (an incident's id, a task's): when the store was seen to have
        # no document for it, no entry answering to it was ever stored, so none of its other names has
        # one either, and they are written without being read first (each id is looked up when it is
        # first reported or assigned, so most names are written so)
        fresh = {name for _, _, written in parts for entry in written if entry
                 and entry[0] in self._asked and self._asked[entry[0]] is None for name in entry}
        for name, keys in added.items():
            before = None if name in fresh or self.loader is None else self.loader(name)
            docs[name] = {"parts": {**(before["parts"] if before is not None else {}), **keys}}
        if docs:
            writer(docs)

    def chaptered(self, parts: Mapping[str, int], chapter: str) -> None:
        """Stored parts (key -> number) were put in the archive's chapter ``chapter``: they are no longer
        in ``numbers`` (``older`` finds them); ``SEEN`` is told the chapter's names are known where those of
        each of its parts are."""
        for key, number in parts.items():
            if self.numbers.get(key) == number:
                del self.numbers[key]
        self.chaptered_any = True
        if SEEN.covers(parts):
            SEEN.add(chapter, ())  # (the chapter's names are its parts' names, every one of them added)
        else:
            self._chapters_seen = False
        self._seen = self._chapters_seen and SEEN.covers(self.numbers)

    def restore(self, keys: Mapping[str, int], unstored: Iterable[tuple[Where, Iterable[str]]],
                chapters: Iterable[str] = ()) -> None:
        """Restored from a checkpoint: the stored parts (key -> number) and the entries not stored (and the
        keys of the archive's chapters, which hold the older stored parts)."""
        self.numbers = dict(keys)
        chapters = list(chapters)
        self.chaptered_any = bool(chapters)
        self._chapters_seen = SEEN.covers(chapters)
        self._seen = self._chapters_seen and SEEN.covers(self.numbers)
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)
        self._asked.clear()
        self._stored.clear()
