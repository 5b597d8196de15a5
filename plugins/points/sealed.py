"""Sets of ids that only grow, mostly in the store (the ids of settled incidents, the task parts done, ...).

The points state remembers each incident it settled (paid or flagged when
first closed), so that a second report of the same id, which only a replay
can bring (a report judged late, on the state of its own time, is stored
before a later report of the same id), does not open it again.  Kept as a
set, those ids grew with the log (1.1 MiB at a million events).
``SealedIds`` keeps in memory only the ids added since its newest *sealed
part*: every ``PART_IDS`` ids added are sealed, in the order added, into a
part stored (``gridcore.parts``: its canonical text under its SHA-256,
checked on reading) in the state's collection with the engine's next batch
of events (``gridcore_on_flush``) or at the next checkpoint, whichever comes
first; the state keeps of a part its key and a Bloom filter of its ids
(``FILTER_BITS`` bits an id, ``PROBES`` probes: an id not in the part is
let through about once in 1,700 lookups), 2 bytes an id where the set held
about 80.  A lookup of an id not added since the newest part (a new report's
id, almost always) reads a part only when that part's filter lets the id
through.  So that a lookup does not grow with the log (a part's filter
asked for each of the parts, and a part read in vain once in 1,700 parts
asked), every ``GROUP_PARTS`` parts in order, from the first, also share a
filter of all their ids (as many bits an id: 4 bytes an id in all): a
lookup asks the parts' own filters only in a group whose filter lets the
id through, so an id held nowhere costs one filter a group, and a lookup
reads only parts it read before (less those whose group's filter turned
the id away: the same answers, as a filter never turns away an id it
holds).  A checkpoint names the parts by their keys and carries the ids
added since; the filters are not in it: they are built, in memory, from
the parts themselves the first time a lookup needs them after a restore
(one read of the store for every part), the groups' with the parts' (each
id's probes worked out once: a part's filter is its bits in its group's
filter, folded), so a restored state asks one filter a group as a state
built from the first event does, not one a part.  Parts are cut by count in the order the
ids were added (the canonical order of the events that settled them), so a
replay from the first event and a restore followed by the same tail cut the
same parts under the same keys.

What stays in memory grows with the ids added, bounded per id: a part's
filter and its group's (16 bits an id each), a part's key and count (about
0.3 bytes an id) and one group filter more every ``GROUP_PARTS`` parts
(16,384 ids): 4.4 bytes an id measured (``tracemalloc``, the parts stored),
with at most ``PART_IDS`` ids held as they are.  It cannot be bounded by
what is still open: a report of any settled id, however old, must open
nothing when a replay brings it.  A store of Yinquan's fixed population at
a million events holds 10 parts of settled ids (10,769 incidents closed:
under 0.05 MiB), a busy district year's 23 (24,209 closed: about 0.1 MiB):
a group filter more every million and a half events of the first.

The task parts (task, member) done and those missed (``TaskBooking``) are kept
the same way, each as one text (``task_part``): a completion or an overdue
part read them, and only a replay can bring either again for a part done.
``SealedMap`` keeps a value with each id the same way: the tracks of repeat
reports that joined an incident (``Records.track``), which are resolved and
closed with that incident and never on their own.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from gridcore.errors import StoreError
from gridcore.parts import PartLoader, PartsLoader, Writer, bytes_key, checked_part, part_bytes

#: The store collection of the sealed parts of the settled incidents' ids, and what messages call them.
SETTLED = "points.settled"
SETTLED_WHAT = "points settled incidents'"
#: The store collection of the sealed parts of the task parts done and missed (``task_part``), and what
#: messages call them.
TASKS = "points.tasks"
TASKS_DONE_WHAT = "points task parts done"
TASKS_MISSED_WHAT = "points task parts missed"
#: The store collection of the sealed parts of the repeat reports' tracks, and what messages call them.
DORMANT = "points.dormant"
DORMANT_WHAT = "points repeat reports'"
#: Ids sealed into a part.
PART_IDS = 1024
#: Ids with a value sealed into a part of a ``SealedMap`` (the values put since the newest part are held
#: as they are: a repeat report's track is about 250 bytes as a list).
MAP_PART_IDS = 128
#: Bits of a part's filter per id (a power of two of bits in all, at least 1,024).
FILTER_BITS = 16
#: Bits of the filter each id sets.
PROBES = 8
#: Parts that share a filter of all their ids as well (``SealedIds._find``: one filter asked per group).
GROUP_PARTS = 16
#: The shape of a part document (and of the set in a checkpoint).
FORMAT = 1
#: Parts whose ids are kept in memory after a lookup read them (the least recently read go first): none, as
#: a lookup reads a part only for an id it holds, or by chance about once in 1,700 per part, and a part's
#: 1,024 ids take about 90 KiB.
CACHED_PARTS = 0


class SealedPart:
    """A sealed part: its key, how many ids it holds, its filter (None until built) and, until stored, its text."""

    __slots__ = ("count", "filter", "key", "text")

    def __init__(self, key: str, count: int, filter: tuple[bytearray, int] | None = None,
                 text: bytes | None = None) -> None:
        self.key = key
        self.count = count
        #: the filter's bits and the mask of a bit index
        self.filter = filter
        #: its canonical text in UTF-8, compressed (zlib), while it is not yet in the store
        self.text = text


def task_part(task: str, member: str) -> str:
    """The text a (task, member) part is kept as: the task's length, the task and the member (one text per
    pair, whatever the ids hold)."""
    return f"{len(task)}:{task}{member}"


def _probes(ident: str) -> tuple[int, int]:
    """The two numbers the probes of ``ident`` are made of (from the process's hash of the text: a filter
    is never saved, only built by the process that reads it)."""
    h = hash(ident) & 0xFFFFFFFFFFFFFFFF
    return h & 0xFFFFFFFF, (h >> 32) | 1


def build_filter(ids: Iterable[str], count: int) -> tuple[bytearray, int]:
    """A Bloom filter of ``ids`` (``count`` of them): its bits and the mask of a bit index."""
    size = _filter_size(count)
    found = bytearray(size // 8), size - 1
    add_to_filter(found, ids)
    return found


def add_to_filter(filter: tuple[bytearray, int], ids: Iterable[str]) -> None:
    """Set the bits of ``ids`` in a filter ``build_filter`` made."""
    bits, mask = filter
    for ident in ids:
        a, b = _probes(ident)
        for i in range(PROBES):
            index = (a + i * b) & mask
            bits[index >> 3] |= 1 << (index & 7)


def _filter_size(count: int) -> int:
    """The bits of the filter ``build_filter`` makes for ``count`` ids (a power of two, at least 1,024)."""
    size = 1024
    while size < FILTER_BITS * count:
        size *= 2
    return size


def _folded(wide: int, size: int) -> tuple[bytearray, int]:
    """The filter of ``size`` bits of the ids whose filter of a multiple of that size has the bits ``wide``.

    A probe sets bit ``p & mask`` of a filter, and the mask of a smaller
    filter (a power of two of bits) keeps the low bits of a larger one's:
    bit ``j`` of the smaller is set if a bit ``j + k * size`` of the larger
    is, so each slice of ``size`` bits is OR'ed in (whole integers: no probe
    worked out again).  The same bits ``build_filter`` sets.
    """
    low = (1 << size) - 1
    folded = 0
    while wide:
        folded |= wide & low
        wide >>= size
    return bytearray(folded.to_bytes(size // 8, "little")), size - 1


def _group_filter(part_ids: int) -> tuple[bytearray, int]:
    """An empty filter for the ids of ``GROUP_PARTS`` parts of ``part_ids`` ids each."""
    return build_filter((), GROUP_PARTS * part_ids)


def _lets_through(filter: tuple[bytearray, int], a: int, b: int, probes: dict[int, list[tuple[int, int]]]) -> bool:
    """True if ``filter`` may hold the id whose probes are made of ``a`` and ``b`` (``_probes``); ``probes``
    keeps the (byte, bit) of each probe by the filters' size, worked out once per lookup."""
    bits, mask = filter
    found = probes.get(mask)
    if found is None:
        found = probes[mask] = [(index >> 3, 1 << (index & 7)) for index in ((a + i * b) & mask for i in range(PROBES))]
    return all(bits[byte] & bit for byte, bit in found)


def _copied_groups(groups: list[tuple[bytearray, int] | None]) -> list[tuple[bytearray, int] | None]:
    """``groups`` for a copy: the newest group's filter its own (sealing a part adds to it), the others shared
    (full groups never change)."""
    copied = list(groups)
    if copied and copied[-1] is not None:
        bits, mask = copied[-1]
        copied[-1] = (bytearray(bits), mask)
    return copied


class SealedIds:
    """Ids added (never removed), in the store but for those added since the newest sealed part."""

    def __init__(self, collection: str, what: str, loader: PartLoader | None = None,
                 many: PartsLoader | None = None) -> None:
        #: the store collection of the parts, and what messages call them
        self.collection, self.what = collection, what
        #: reads one stored part, and several at once (None: nothing can be read)
        self.loader, self.many = loader, many
        #: the ids added since the newest sealed part
        self.recent: set[str] = set()
        self.parts: list[SealedPart] = []
        #: the filter of the ids of every ``GROUP_PARTS`` parts (group ``g``: parts ``g * GROUP_PARTS`` on);
        #: None for a group begun before a restore (its parts' filters asked one by one)
        self.groups: list[tuple[bytearray, int] | None] = []
        #: the ids (or entries: ``SealedMap``) of the parts read last, by key
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def add(self, ident: str) -> None:
        """Add ``ident`` (the ids added since the newest part are sealed once there are ``PART_IDS``)."""
        self.recent.add(ident)
        if len(self.recent) >= PART_IDS:
            self.seal()

    def seal(self) -> None:
        """Seal the ids added since the newest part into a part, kept as its text until it is stored."""
        if not self.recent:
            return
        ids = sorted(self.recent)
        text = part_bytes({"format": FORMAT, "ids": ids}, typed=True)  # (texts alone: ``add`` takes a text)
        self.parts.append(SealedPart(bytes_key(text), len(ids), build_filter(ids, len(ids)),
                                     zlib.compress(text, 1)))
        self._group_sealed(ids)
        self.recent = set()

    def _group_sealed(self, ids: list[str]) -> None:
        """Add the ids of the part just sealed (the newest) to its group's filter (a new group: a new filter)."""
        number = len(self.parts) - 1
        group = number // GROUP_PARTS
        while len(self.groups) < group:
            self.groups.append(None)  # (groups begun before a restore have none: ``_build_filters``)
        if len(self.groups) == group:
            self.groups.append(_group_filter(len(ids)) if number % GROUP_PARTS == 0 else None)
        group_filter = self.groups[group]
        if group_filter is not None:
            add_to_filter(group_filter, ids)

    def __contains__(self, ident: object) -> bool:
        return ident in self.recent or (isinstance(ident, str) and self._find(ident) is not None)

    def _find(self, ident: str) -> Any:
        """The ids (or entries) of the newest sealed part holding ``ident``; None if none does."""
        parts = self.parts
        if not parts:
            return None
        groups = self.groups
        if len(groups) * GROUP_PARTS < len(parts) or groups[0] is None:  # (restored, not read yet)
            self._build_filters(ident)
        a, b = _probes(ident)
        probes: dict[int, list[tuple[int, int]]] = {}  # (byte, bit) of each probe, by the filters' size
        for group in range(len(groups) - 1, -1, -1):
            group_filter = groups[group]
            assert group_filter is not None  # (every group has one once ``_build_filters`` ran)
            if not _lets_through(group_filter, a, b, probes):
                continue  # (none of its parts holds the id)
            for part in reversed(parts[group * GROUP_PARTS:(group + 1) * GROUP_PARTS]):
                assert part.filter is not None
                if _lets_through(part.filter, a, b, probes):
                    held = self._ids(part)
                    if ident in held:
                        return held
        return None

    def __iter__(self) -> Iterator[str]:
        """Every id added, those of the oldest part first (reads every stored part)."""
        for part in self.parts:
            yield from sorted(self._ids(part))
        yield from sorted(self.recent)

    def __len__(self) -> int:
        return sum(part.count for part in self.parts) + len(self.recent)

    def _ids(self, part: SealedPart) -> Any:
        found = self._cache.get(part.key)
        if found is None:
            if part.text is not None:
                doc = json.loads(zlib.decompress(part.text))
            else:
                doc = checked_part(self.loader(part.key) if self.loader is not None else None, part.key,
                                   collection=self.collection, what=self.what)
            found = self._read(part, doc)
        self._keep(part.key, found)
        return found

    def _read(self, part: SealedPart, doc: Mapping[str, Any]) -> Any:
        """The ids of a part's document (``StoreError`` if it is not one of ``part.count`` ids)."""
        ids = doc.get("ids") if doc.get("format") == FORMAT else None
        if not isinstance(ids, list) or len(ids) != part.count or not all(isinstance(i, str) for i in ids):
            raise StoreError(f"the {self.what} part {part.key} in the store's {self.collection!r} collection is "
                             f"not a part of {part.count} ids; rebuild the state (gridcore rebuild)")
        return frozenset(ids)

    def _keep(self, key: str, ids: Any) -> None:
        self._cache[key] = ids
        self._cache.move_to_end(key)
        while len(self._cache) > CACHED_PARTS:
            self._cache.popitem(last=False)

    def _build_filters(self, ident: str) -> None:
        """Build the filter of every part without one and of every group without one (restored, or begun
        before the restore): their parts' ids read from the store at once (the part holding ``ident``, if
        one does, kept for the lookup that asked).

        A part of a group without a filter has its ids' bits set once, in a
        filter of the group's size: OR'ed into the group's and folded into
        the part's own (``_folded``), so a restored state's first lookup
        works out each id's probes once, as it did when only the parts'
        filters were built.
        """
        parts = self.parts
        groups = self.groups
        while len(groups) * GROUP_PARTS < len(parts):
            groups.append(None)
        #: the bits of the groups' filters built here (as integers, OR'ed), by group, and their size
        building: dict[int, list[int]] = {}
        for group, found in enumerate(groups):
            if found is None:
                building[group] = [0, _filter_size(GROUP_PARTS * parts[group * GROUP_PARTS].count)]
        wanted = [(number, part) for number, part in enumerate(parts)
                  if part.filter is None or number // GROUP_PARTS in building]
        stored = [part.key for _, part in wanted if part.text is None and part.key not in self._cache]
        found_docs: Mapping[str, Any] = {}
        if stored and self.many is not None:
            found_docs = self.many(stored)
        for number, part in wanted:
            if part.key in found_docs:
                doc = checked_part(found_docs[part.key], part.key, collection=self.collection, what=self.what)
                ids = self._read(part, doc)
                if ident in ids:
                    self._keep(part.key, ids)
            else:
                ids = self._ids(part)
            group_bits = building.get(number // GROUP_PARTS)
            own = _filter_size(part.count)
            if group_bits is None or own > group_bits[1]:
                if part.filter is None:
                    part.filter = build_filter(ids, part.count)
                if group_bits is None:
                    continue
            wide = bytearray(group_bits[1] // 8), group_bits[1] - 1
            add_to_filter(wide, ids)
            bits = int.from_bytes(wide[0], "little")
            group_bits[0] |= bits
            if part.filter is None:
                part.filter = _folded(bits, own)
        for group_number, (bits, size) in building.items():  # (only once every part was read: a part missing
            groups[group_number] = bytearray(bits.to_bytes(size // 8, "little")), size - 1  # is an error)

    # ------------------------------------------------------------ saving

    @property
    def waiting(self) -> bool:
        """True if sealed parts wait to be stored (``store_sealed``: the newest, as it stores every one)."""
        return bool(self.parts) and self.parts[-1].text is not None

    def store_sealed(self, writer: Writer) -> None:
        """Write the sealed parts not yet stored to ``writer`` and keep only their keys and filters."""
        store_waiting(self.parts, writer)

    def save(self, writer: Writer | None) -> dict[str, Any]:
        """The set as part of a checkpoint; sealed parts not yet stored go to ``writer`` first (without one,
        a read-only engine's, they stay in memory and their keys are computed all the same)."""
        if writer is not None:
            self.store_sealed(writer)
        return {"format": FORMAT, "parts": [[part.key, part.count] for part in self.parts],
                "recent": sorted(self.recent)}

    @classmethod
    def restore(cls, document: Mapping[str, Any], collection: str, what: str, loader: PartLoader | None,
                many: PartsLoader | None = None) -> SealedIds:
        """The set a checkpoint saved (``ValueError`` if it cannot be read); filters built when first needed."""
        if document.get("format") != FORMAT:
            raise ValueError(f"{what} of format {document.get('format')!r}, expected {FORMAT}")
        found = cls(collection, what, loader, many)
        found.parts = [SealedPart(str(key), int(count)) for key, count in document["parts"]]
        found.recent = {str(ident) for ident in document["recent"]}
        return found

    def copy(self) -> SealedIds:
        """A copy sharing the sealed parts (never changed) that adds to its own ids (a scratch state's)."""
        copied = SealedIds(self.collection, self.what, self.loader, self.many)
        copied.parts = list(self.parts)
        copied.groups = _copied_groups(self.groups)
        copied.recent = set(self.recent)
        return copied



class SealedMap(SealedIds):
    """Ids with a value each (JSON), in the store but for those put since the newest sealed part.

    A value put again for an id supersedes the earlier one: ``get`` reads the
    ids put since the newest part, then the parts, newest first.
    """

    def __init__(self, collection: str, what: str, loader: PartLoader | None = None,
                 many: PartsLoader | None = None) -> None:
        super().__init__(collection, what, loader, many)
        #: the values put since the newest sealed part, by id
        self.recent: dict[str, Any] = {}  # type: ignore[assignment]

    def add(self, ident: str) -> None:
        """(A value is put with its id: ``put``.)"""
        raise TypeError("SealedMap.put(ident, value), not add")

    def put(self, ident: str, value: Any) -> None:
        """Put ``value`` (JSON) for ``ident`` (sealed with the others once there are ``MAP_PART_IDS``)."""
        self.recent[ident] = value
        if len(self.recent) >= MAP_PART_IDS:
            self.seal()

    def get(self, ident: str) -> Any:
        """The value put last for ``ident``; None if none was."""
        if ident in self.recent:
            return self.recent[ident]
        found = self._find(ident)
        return None if found is None else found[ident]

    def seal(self) -> None:
        """Seal the values put since the newest part into a part, kept as its text until it is stored."""
        if not self.recent:
            return
        ids = sorted(self.recent)
        values = [self.recent[ident] for ident in ids]
        text = part_bytes({"format": FORMAT, "ids": ids, "values": values})
        self.parts.append(SealedPart(bytes_key(text), len(ids), build_filter(ids, len(ids)),
                                     zlib.compress(text, 1)))
        self._group_sealed(ids)
        self.recent = {}

    def _read(self, part: SealedPart, doc: Mapping[str, Any]) -> dict[str, Any]:
        ids = super()._read(part, doc)
        values = doc.get("values")
        if not isinstance(values, list) or len(values) != len(ids):
            raise StoreError(f"the {self.what} part {part.key} in the store's {self.collection!r} collection is "
                             f"not a part of {part.count} values; rebuild the state (gridcore rebuild)")
        return dict(zip(doc["ids"], values, strict=True))

    def save(self, writer: Writer | None) -> dict[str, Any]:
        """The map as part of a checkpoint (``SealedIds.save``; the values put since the newest part by id)."""
        if writer is not None:
            self.store_sealed(writer)
        return {"format": FORMAT, "parts": [[part.key, part.count] for part in self.parts],
                "recent": [[ident, self.recent[ident]] for ident in sorted(self.recent)]}

    @classmethod
    def restore(cls, document: Mapping[str, Any], collection: str, what: str, loader: PartLoader | None,
                many: PartsLoader | None = None) -> SealedMap:
        """The map a checkpoint saved (``ValueError`` if it cannot be read)."""
        if document.get("format") != FORMAT:
            raise ValueError(f"{what} of format {document.get('format')!r}, expected {FORMAT}")
        found = cls(collection, what, loader, many)
        found.parts = [SealedPart(str(key), int(count)) for key, count in document["parts"]]
        found.recent = {str(ident): value for ident, value in document["recent"]}
        return found

    def copy(self) -> SealedMap:
        """A copy sharing the sealed parts that puts its own values (a scratch state's)."""
        copied = SealedMap(self.collection, self.what, self.loader, self.many)
        copied.parts = list(self.parts)
        copied.groups = _copied_groups(self.groups)
        copied.recent = dict(self.recent)
        return copied


def store_waiting(parts: list[Any], writer: Writer) -> None:
    """Write to ``writer`` the sealed parts whose text is still held (each part's ``key`` and its canonical text,
    kept compressed in ``text``), then let go of that text. They are the newest: every earlier one was stored
    with them. (The sealed ids' parts; the points history's are kept as their records until stored and
    encoded then: ``History.store_sealed``.)"""
    start = len(parts)
    while start > 0 and parts[start - 1].text is not None:
        start -= 1
    for part in parts[start:]:
        assert part.text is not None
        raw = zlib.decompress(part.text)  # (the UTF-8 hashed for its key, written as it is)
        writer(part.key, raw, partial(json.loads, raw))
        part.text = None
