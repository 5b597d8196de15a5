"""Every member's history of ledger entries: sealed parts in the store, the newest in memory.

Statements, boards, totals, flags and explanations read the history; booking
never does.  So the history does not live in the points state's memory: the
entries are appended, in the order they were booked, to an *open part*; when
it holds ``PART_SIZE`` entries it is *sealed*, and with the engine's next
batch of events (``gridcore_on_flush``; at the next checkpoint,
``gridcore_save_state``, if none came) every sealed part is encoded to its
canonical text (``dump_records``: a row per entry), written to the store's
``points.ledger`` collection under the SHA-256 of that text
(``gridcore.parts``), then dropped from memory; a writable engine's replay,
which writes no batch, asks for the same every ``Engine.replay_flush_every``
events.  Where nothing is written (a read-only engine; a replay between two
of those calls), all but the newest ``RAW_PARTS`` sealed parts
are encoded at once and kept compressed (zlib: about 40 bytes an entry, where
its objects take about 740: the entries booked between two checkpoints hold
little memory however far apart they are).  A checkpoint names its parts
by those keys and carries the open part itself, so it stays small however
long the log grows, and opening reads no part at all.  A read loads only the
parts whose entries' times overlap what it asks for, keeping the last few it
loaded: a month's board (a member's statement, mostly) reads the parts that
may hold that month, none booked after it, since each entry carries its
member's net (``Record.net``: the balance at a month's end is the net of the
member's last entry dated in it).

The list of sealed parts grows with the log too (a line each: key, size and
the times it spans, about 350 bytes of memory and 120 characters of
checkpoint per 1,000 entries), so only the newest ``CHAPTER_PARTS`` to
``2 * CHAPTER_PARTS - 1`` parts are listed in memory and in the checkpoint:
once ``2 * CHAPTER_PARTS`` are held, the oldest ``CHAPTER_PARTS`` become a
*chapter*, one document in the same collection listing their lines (under
the SHA-256 of its canonical text, checked when read), of which the history
keeps only its key, its parts' count and size and the times they span.  A
chapter is read back (the last ``CACHED_CHAPTERS`` kept) when a read
reaches one of its parts.  Chapters are cut every ``CHAPTER_PARTS`` parts
from the first, whenever the cut is made, so they too are the same however
the history was built; a read-only engine, which stores nothing, keeps a
chapter's parts in memory and names it by the same key.

Parts are cut by count only, so a store's history is cut the same way
whether it was built in one replay or restored from a checkpoint and
replayed from there: both give the same keys.  A part is never changed: a
late event that changes history gives new parts (new keys) from where it
landed on, and the checkpoints that named the old ones stop fitting.  A part
is checked against its key when it is read; a missing or altered part is a
``StoreError``.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from functools import partial
from operator import itemgetter
from typing import Any

from attrs import field

from gridcore.classes import define
from gridcore.errors import StoreError
from gridcore.explain import RuleRef
from gridcore.parts import (
    PartCache,
    PartLoader,
    PartsLoader,
    Writer,
    bytes_key,
    part_bytes,
    read_part,
    read_parts,
)

from .ledger import Entry, Record, first_and_last

#: The store collection holding sealed parts of the history.
COLLECTION = "points.ledger"
#: Entries per sealed part.
PART_SIZE = 1000
#: Entries of loaded parts kept in memory for later reads (the least recently read go first).
CACHED_ENTRIES = 50_000
#: The shape of a part document (3: each entry with its member's net, ``Record.net``; 2, still read: without
#: it; 1, still read: an entry's inputs as an object, not as the index of their names and their values).
PART_FORMAT = 3
#: The shape of the history in a checkpoint (3: its open part of ``PART_FORMAT`` 3; 2 and 1, still read: of 2
#: and of 1).
HISTORY_FORMAT = 3
#: The shape of a chapter document.
CHAPTER_FORMAT = 1
#: Sealed parts kept as their records while they wait to be stored (a replay's, a read-only engine's):
#: beyond these, the oldest are encoded and kept as their compressed text.
RAW_PARTS = 2
#: Stored parts a read over a period asks the store for at once (``select``): one round trip for
#: them, not one each (a district quarter's roll-up read 126 parts one ``get`` at a time).
READ_AHEAD = 16
#: Sealed parts put in a chapter at a time (once twice as many are held).
CHAPTER_PARTS = 32
#: Chapters whose lists of parts are kept in memory after they were read (the least recently read go first).
CACHED_CHAPTERS = 2

@define(eq=False)
class Part:
    """A sealed part: its key (the SHA-256 of its text), its size and the span of its entries' times."""

    first: datetime
    last: datetime
    size: int
    #: None while its records are not yet encoded (``records``)
    key: str | None
    #: its canonical text in UTF-8 (``records_bytes``), compressed (zlib), while it is not yet in the store
    text: bytes | None = field(default=None, repr=False)
    #: its records, while they are neither encoded nor stored (``History.seal``)
    records: list[Record] | None = field(default=None, repr=False)

    @property
    def held(self) -> bool:
        """True while the part is not in the store (its records or its text are held)."""
        return self.records is not None or self.text is not None

    @property
    def stored(self) -> str | None:
        """Its key once it is in the store (nothing of it held), else None."""
        return None if self.held else self.key

    def encode(self) -> bytes:
        """Its canonical text in UTF-8, from its records (its key set, its records let go) or its compressed
        text."""
        if self.records is not None:
            raw = records_bytes(self.records)
            self.key = bytes_key(raw)
            self.records = None
            return raw
        assert self.text is not None
        return zlib.decompress(self.text)

    def row(self) -> list[Any]:
        """Its line in a checkpoint or a chapter: key, first and last time, size."""
        assert self.key is not None
        return [self.key, self.first.isoformat(), self.last.isoformat(), self.size]

    @classmethod
    def from_row(cls, row: list[Any]) -> Part:
        """The part a ``row`` names (``ValueError``, ``TypeError``: not a part's line)."""
        key, first, last, size = row
        return cls(datetime.fromisoformat(first), datetime.fromisoformat(last), int(size), key=str(key))


@define(eq=False)
class Chapter:
    """``CHAPTER_PARTS`` sealed parts listed in one stored document: its key, the times and entries they span."""

    first: datetime
    last: datetime
    #: entries in its parts
    size: int
    #: its parts
    count: int
    key: str
    #: its parts, while the chapter is not in the store (a read-only engine stores nothing)
    parts: list[Part] | None = field(default=None, repr=False)


class History:
    """The entries of one points state, in the order they were booked."""

    def __init__(self, loader: PartLoader | None = None, part_size: int | None = None,
                 many: PartsLoader | None = None) -> None:
        self.loader = loader
        #: reads several stored parts at once (``select``; None: one ``loader`` call each)
        self.many = many
        self.part_size = part_size or PART_SIZE
        #: the newest sealed parts (the older ones are in ``chapters``)
        self.parts: list[Part] = []
        self.chapters: list[Chapter] = []
        self._chapter_parts: OrderedDict[str, list[Part]] = OrderedDict()
        self.open: list[Record] = []
        #: ids of the open part's entries booked for events (guarding against booking one twice)
        self.guarded: dict[str, Record] = {}
        self._cache: PartCache[list[Record]] = PartCache(CACHED_ENTRIES)

    # ------------------------------------------------------------ booking

    def add(self, record: Record) -> None:
        """Append a booked entry."""
        self.open.append(record)
        if record.kind in GUARDED_KINDS:
            self.guarded[record.id] = record
        if len(self.open) >= self.part_size:
            self.seal()

    def seal(self) -> None:
        """Close the open part: kept as its records until it is written to the store (``store_sealed``).

        Encoded only then, so its text goes to the store as it is made.  The
        engine stores sealed parts with its next batch of events
        (``gridcore_on_flush``; a replay every ``Engine.replay_flush_every``
        events), so few wait; where none is written (a read-only engine), beyond ``RAW_PARTS`` parts waiting the oldest is
        encoded at once and kept as its compressed text (about 40 bytes an
        entry, where its objects take about 740).  Either way a part's text,
        and so its key, is the same.
        """
        if not self.open:
            return
        first, last = first_and_last([r.time for r in self.open])
        self.parts.append(Part(first, last, len(self.open), None, records=self.open))
        self.open = []
        self.guarded = {}
        parts = self.parts
        if len(parts) > RAW_PARTS and parts[-RAW_PARTS - 1].records is not None:
            self._compress(parts[-RAW_PARTS - 1])

    @staticmethod
    def _compress(part: Part) -> None:
        """Keep ``part``'s records as its compressed text."""
        part.text = zlib.compress(part.encode(), 1)

    # ------------------------------------------------------------ reading

    @property
    def booked_count(self) -> int:
        """How many entries were booked (every one sealed or open)."""
        return (sum(chapter.size for chapter in self.chapters) + sum(part.size for part in self.parts)
                + len(self.open))

    def select(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Record]:
        """Entries booked, in booking order, from every part that may hold times in ``[since, until]``.

        A coarse filter (whole parts): callers filter the entries they get.  Stored parts not
        cached are read ``READ_AHEAD`` at a time (``many``), the same records as one by one.
        A chapter is read only if the times of its parts meet ``[since, until]``.
        """
        wanted = [part for part in self._sealed(since, until)
                  if (since is None or part.last >= since) and (until is None or part.first <= until)]
        for number, part in enumerate(wanted):
            key = part.stored
            if self.many is not None and key is not None and self._cache.get(key) is None:
                self._read_ahead(wanted, number)
            yield from self._records(part)
        yield from self.open

    def _sealed(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Part]:
        """The sealed parts, oldest first, but those of chapters whose times are all outside ``[since, until]``."""
        for chapter in self.chapters:
            if (since is None or chapter.last >= since) and (until is None or chapter.first <= until):
                yield from self.chapter_parts(chapter)
        yield from self.parts

    def _read_ahead(self, wanted: list[Part], number: int) -> None:
        """Part ``number`` of ``wanted`` and the next stored ones ``select`` will read (up to ``READ_AHEAD``,
        not cached), read from the store at once, checked against their keys and cached."""
        keys: list[str] = []
        for part in wanted[number:]:
            if len(keys) >= READ_AHEAD:
                break
            key = part.stored
            if key is not None and (key == wanted[number].key or self._cache.get(key) is None):
                keys.append(key)
        found = read_parts(self.many, keys, collection=COLLECTION, what="points ledger")
        for key in dict.fromkeys(keys):
            self._cache.put(key, load_records(found[key]))

    def find(self, entry_id: str) -> Record | None:
        """The entry booked under ``entry_id`` (the newest parts are searched first)."""
        for record in reversed(self.open):
            if record.id == entry_id:
                return record
        for part in reversed(self.parts):
            for record in self._records(part):
                if record.id == entry_id:
                    return record
        for chapter in reversed(self.chapters):
            for part in reversed(self.chapter_parts(chapter)):
                for record in self._records(part):
                    if record.id == entry_id:
                        return record
        return None

    def chapter_parts(self, chapter: Chapter) -> list[Part]:
        """The parts ``chapter`` lists, read from the store (checked against its key) unless kept."""
        if chapter.parts is not None:
            return chapter.parts
        found = self._chapter_parts.get(chapter.key)
        if found is None:
            doc = read_part(self.loader, chapter.key, collection=COLLECTION, what="points ledger chapter's")
            try:
                if doc.get("format") != CHAPTER_FORMAT:
                    raise ValueError(f"format {doc.get('format')!r}")
                found = [Part.from_row(row) for row in doc["chapter"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise StoreError(f"the points ledger chapter {chapter.key} in the store's {COLLECTION!r} collection "
                                 f"is not a chapter ({type(exc).__name__}: {exc}); rebuild the state "
                                 "(gridcore rebuild)") from exc
            if len(found) != chapter.count or sum(part.size for part in found) != chapter.size:
                raise StoreError(f"the points ledger chapter {chapter.key} lists {len(found)} parts, not "
                                 f"{chapter.count}; rebuild the state (gridcore rebuild)")
            self._chapter_parts[chapter.key] = found
            while len(self._chapter_parts) > CACHED_CHAPTERS:
                self._chapter_parts.popitem(last=False)
        self._chapter_parts.move_to_end(chapter.key)
        return found

    def _records(self, part: Part) -> list[Record]:
        if part.records is not None:
            # (read as a stored part is: its entries as their text gives them back, the same whenever read)
            self._compress(part)
        assert part.key is not None
        found = self._cache.get(part.key)
        if found is not None:
            return found
        if part.text is not None:  # sealed, not in the store yet
            records = load_records(json.loads(zlib.decompress(part.text)))
        else:
            records = load_records(read_part(self.loader, part.key, collection=COLLECTION, what="points ledger"))
        self._cache.put(part.key, records)
        return records

    # ------------------------------------------------------------ saving

    @property
    def waiting(self) -> bool:
        """True if sealed parts wait to be stored (``store_sealed``: the newest, as it stores every one)."""
        return bool(self.parts) and self.parts[-1].held

    def store_sealed(self, writer: Writer) -> None:
        """Write the sealed parts not yet stored to ``writer`` and keep only their keys and spans.

        Called by ``save`` at a checkpoint, and between checkpoints with the
        engine's next batch of events (``gridcore_on_flush``), so that sealed
        parts do not wait in memory for the next checkpoint; where they are
        stored changes no part, key or checkpoint document.  (They are the
        newest: every earlier one was stored with them.)
        """
        parts = self.parts
        start = len(parts)
        while start > 0 and parts[start - 1].held:
            start -= 1
        for part in parts[start:]:
            raw = part.encode()  # (made once, as UTF-8: hashed for its key, and written as it is)
            assert part.key is not None
            writer(part.key, raw, partial(json.loads, raw))
            part.text = None
        self._make_chapters(writer)

    def _make_chapters(self, writer: Writer | None) -> None:
        """While ``2 * CHAPTER_PARTS`` sealed parts are held, the oldest ``CHAPTER_PARTS`` go to a chapter:
        written to ``writer`` (their parts were stored first), or kept with its parts without one."""
        size = CHAPTER_PARTS
        while len(self.parts) >= 2 * size:
            moved, self.parts = self.parts[:size], self.parts[size:]
            # (its rows typed by ``Part.row``: texts and a whole number)
            raw = part_bytes({"format": CHAPTER_FORMAT, "chapter": [part.row() for part in moved]}, typed=True)
            key = bytes_key(raw)
            chapter = Chapter(min(p.first for p in moved), max(p.last for p in moved), sum(p.size for p in moved),
                              len(moved), key)
            if writer is None:
                chapter.parts = moved
            else:
                writer(key, raw, partial(json.loads, raw))
                self._chapter_parts[key] = moved
                while len(self._chapter_parts) > CACHED_CHAPTERS:
                    self._chapter_parts.popitem(last=False)
            self.chapters.append(chapter)

    def save(self, writer: Writer | None) -> dict[str, Any]:
        """The history as part of a checkpoint; sealed parts not yet stored go to ``writer`` first.

        Without a writer (a read-only engine) the parts and chapters stay in
        memory and their keys are computed all the same.
        """
        if writer is not None:
            self.store_sealed(writer)
        else:
            for part in self.parts:
                if part.records is not None:
                    self._compress(part)
            self._make_chapters(None)
        return {
            "format": HISTORY_FORMAT,
            "chapters": [[c.key, c.first.isoformat(), c.last.isoformat(), c.size, c.count] for c in self.chapters],
            "parts": [p.row() for p in self.parts],
            # (the open part's inputs in the order booked, as they were read back before format 2)
            "open": dump_records(self.open, sort=False),
        }

    @classmethod
    def restore(cls, document: Mapping[str, Any], loader: PartLoader | None,
                part_size: int | None = None, many: PartsLoader | None = None) -> History:
        """The history a checkpoint saved (of ``HISTORY_FORMAT``, or 1); ``ValueError`` if it cannot be read."""
        if document.get("format") not in (1, 2, HISTORY_FORMAT):
            raise ValueError(f"points history of format {document.get('format')!r}, expected {HISTORY_FORMAT}")
        history = cls(loader, part_size, many)
        for key, first, last, size, count in document["chapters"]:
            history.chapters.append(Chapter(datetime.fromisoformat(first), datetime.fromisoformat(last), int(size),
                                            int(count), str(key)))
        history.parts.extend(Part.from_row(row) for row in document["parts"])
        for record in load_records(document["open"]):
            history.open.append(record)
            if record.kind in GUARDED_KINDS:
                history.guarded[record.id] = record
        return history


#: Kinds of entries booked for events (expiry and streak bonuses are booked by time passing).
GUARDED_KINDS = ("earn", "flag", "redeem", "recognition", "deduct")


# ---------------------------------------------------------------- part documents

def records_bytes(records: list[Record]) -> bytes:
    """A sealed part's canonical text in UTF-8 (``part_bytes(dump_records(records))``, whose SHA-256 is its
    key), made by orjson without ``gridcore.fastjson``'s walk where the types its rows are built of vouch for
    it (``dump_records``: texts, whole numbers, truth values, None, and the inputs' floats, checked alike)."""
    doc, typed = _dumped(records, True)
    return part_bytes(doc, typed=typed)


def dump_records(records: list[Record], *, sort: bool = True) -> dict[str, Any]:
    """Records as a compact document (``PART_FORMAT``): one row per entry, each rule and each set of
    input names written once.

    A part is dumped once, when it is stored, but every entry of the log is:
    each rule is looked up by its object first (equal rules that are other
    objects by equality, once); an entry's inputs are the index of their
    names (a *shape*: the names in sorted order, listed once per part) and
    their values in that order, at the end of its row, rather than an object
    whose names are written and sorted for each entry; values of JSON's own
    kinds, most of them, are written as they are rather than encoded one by one.

    A part's text depends on its entries' content alone, whether they were
    booked or read back, as its key must; its shapes' names are sorted, as an
    object's names were in format 1 (so an entry is read back with its inputs
    in that order).  ``sort=False`` keeps each entry's names in their own
    order (a checkpoint's open part, read back as it was booked).
    """
    return _dumped(records, sort)[0]


def _dumped(records: list[Record], sort: bool) -> tuple[dict[str, Any], bool]:
    """``dump_records``, and whether its rows are typed for ``gridcore.fastjson.typed_json``: built of what
    orjson writes as ``json`` does, or refuses (its fields are typed: texts, whole numbers, None, lists of
    them), but for the inputs' values, of any kind: True if each float among them is one the two write
    alike."""
    rules: dict[RuleRef, int] = {}
    by_object: dict[int, int] = {}  # (the records hold every rule while this runs: no id is reused)

    def ref(rule: RuleRef | None) -> int | None:
        if rule is None:
            return None
        found = by_object.get(id(rule))
        if found is None:
            found = rules.get(rule)
            if found is None:
                found = rules[rule] = len(rules)
            by_object[id(rule)] = found
        return found

    # the shapes by their names in sorted order; by the names in the order an entry's inputs hold them, its
    # number and what gives the values in its order
    shapes: dict[tuple[Any, ...], int] = {}
    by_names: dict[tuple[Any, ...], tuple[int, Callable[[Any], Any], int]] = {}
    # the rows' lists of rules, by the object of the tuple listing them (records share them)
    listed: dict[int, list[int | None]] = {}
    plainly = _PLAIN.issuperset
    exactly = _EXACT.issuperset
    typed = True
    rows: list[list[Any]] = []
    append = rows.append
    # an entry's time: the microseconds since the time of the entry before it where both have one offset
    # from UTC, else its ISO text (a subtraction, where the ISO text formats each field). Which is written
    # depends on the times' texts alone, not on their objects: the text of a part is the same whether its
    # records were booked or read back (the offset of a fixed zone, most times', is asked once per zone)
    last_time: Any = None
    last_offset: Any = _NO_ZONE
    fixed: Any = _NO_ZONE
    fixed_offset: Any = None
    # an inputs dict's shape and values, by its ``id`` (records hold one dict for many entries, ``Record``, never
    # changed, and the records hold every dict while this runs: no id is reused)
    by_inputs: dict[int, tuple[int, Sequence[Any]]] = {}
    for e in records:  # (an ``Entry``'s fields, and the record's own)
        inputs = e.inputs
        known = by_inputs.get(id(inputs))
        if known is not None:
            number, values = known
        else:
            names = tuple(inputs)
            shape = by_names.get(names)
            if shape is None:
                ordered = tuple(sorted(names)) if sort else names
                found = shapes.get(ordered)
                if found is None:
                    found = shapes[ordered] = len(shapes)
                shape = by_names[names] = (found, itemgetter(*ordered) if ordered else _nothing, len(ordered))
            number, values_of, count = shape
            values = values_of(inputs)
            if count == 1:
                values = (values,)
            if not exactly(map(type, values)):  # (a float, mostly)
                if not plainly(map(type, values)):
                    values = [encode_value(v) for v in values]
                for value in values:  # (a float out of ``[1e-4, 1e16)``, NaN or infinite orjson writes otherwise)
                    if type(value) is float and not (1e-4 <= value < 1e16 or -1e16 < value <= -1e-4 or value == 0.0):
                        typed = False
            by_inputs[id(inputs)] = (number, values)
        time = e.time
        if time is last_time:
            when: int | str = 0
        else:
            zone = time.tzinfo
            if zone is fixed:
                offset = fixed_offset
            else:
                offset = time.utcoffset()
                if type(zone) is timezone:
                    fixed, fixed_offset = zone, offset
            if offset == last_offset:
                when = (time - last_time) // _MICROSECOND
            else:
                when = time.isoformat()
                last_offset = offset
            last_time = time
        rule = e.rule
        at = None if rule is None else by_object.get(id(rule))
        if at is None and rule is not None:
            at = ref(rule)
        extra = e.rules
        numbers = None
        if extra is not None:
            numbers = listed.get(id(extra))
            if numbers is None:
                numbers = listed[id(extra)] = [ref(r) for r in extra]
        taken = e.taken
        append([
            e.id, e.kind, e.amount, e.member, e.node, when, at, e.summary, e.cause, e.activity, numbers,
            None if taken is None else list(map(list, taken)), e.net, number, *values,
        ])
    return {"format": PART_FORMAT,
            "rules": [[r.file, r.line, r.column, r.text] for r in rules],
            "shapes": [list(names) for names in shapes],
            "entries": rows}, typed


#: Kinds of input values JSON holds as they are (``encode_value`` gives them back unchanged).
_PLAIN = frozenset({str, int, bool, float, type(None)})
#: Those of them that orjson writes as ``json`` does, whatever their value (``_dumped``).
_EXACT = frozenset({str, int, bool, type(None)})
#: The fields of a row before its inputs' values (``dump_records``; one fewer in ``PART_FORMAT`` 2: no net).
_FIELDS = 14
_MICROSECOND = timedelta(microseconds=1)
#: No offset from UTC (``dump_records``: no entry before).
_NO_ZONE = object()


def _nothing(inputs: Any) -> tuple[()]:
    return ()


def load_records(doc: Mapping[str, Any]) -> list[Record]:
    """The records ``dump_records`` wrote (or, for a part stored before it, its format 2: no nets; 1: each
    entry's inputs an object); ``ValueError`` if the document cannot be read."""
    try:
        format = doc.get("format")
        if format == 1:
            return _load_records_1(doc)
        if format not in (2, PART_FORMAT):
            raise ValueError(f"format {format!r}, expected {PART_FORMAT}")
        fields = _FIELDS if format == PART_FORMAT else _FIELDS - 1
        rules = [RuleRef(str(f), int(line), int(col), str(text)) for f, line, col, text in doc["rules"]]
        shapes = [tuple(map(str, names)) for names in doc["shapes"]]
        out = []
        at = datetime.fromisoformat
        time: datetime | None = None
        net: Any = None
        for row in doc["entries"]:
            if fields == _FIELDS:
                (ident, kind, amount, member, node, when, rule, summary, cause, activity, extra, taken, net,
                 shape) = row[:_FIELDS]
            else:
                (ident, kind, amount, member, node, when, rule, summary, cause, activity, extra, taken,
                 shape) = row[:fields]
            if type(when) is str:
                time = at(when)
            elif type(when) is int and time is not None:
                if when:
                    time = time + timedelta(microseconds=when)
            else:
                raise ValueError(f"an entry's time {when!r}")
            names = shapes[shape]
            if len(row) != fields + len(names):
                raise ValueError(f"an entry of {len(row) - fields} input values, {len(names)} names")
            values = row[fields:]
            for value in values:
                if isinstance(value, dict):
                    values = [decode_value(v) for v in values]
                    break
            # (Entry's fields in their order, then the record's: a period's read decodes every entry of its
            # parts; its ``Entry`` is made when first read, ``Record.entry``)
            out.append(Record(
                str(ident), str(kind), int(amount), str(member), str(node), time,
                None if rule is None else rules[rule], str(summary), None if cause is None else str(cause),
                None if activity is None else str(activity), dict(zip(names, values)),
                None if extra is None else tuple(None if r is None else rules[r] for r in extra),
                None if taken is None else tuple((str(lot), int(n)) for lot, n in taken),
                None if net is None else int(net),
            ))
        return out
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"unreadable points ledger part: {type(exc).__name__}: {exc}") from exc


def _load_records_1(doc: Mapping[str, Any]) -> list[Record]:
    """The records of a part of format 1 (each entry's inputs an object, its names sorted)."""
    rules = [RuleRef(str(f), int(line), int(col), str(text)) for f, line, col, text in doc["rules"]]
    out = []
    at = datetime.fromisoformat
    for (ident, kind, amount, member, node, time, rule, summary, cause, activity, inputs, extra,
         taken) in doc["entries"]:
        entry = Entry(
            str(ident), str(kind), int(amount), str(member), str(node), at(time),
            None if rule is None else rules[rule], str(summary), None if cause is None else str(cause),
            None if activity is None else str(activity), _decode_inputs(inputs),
        )
        out.append(Record.of(
            entry,
            None if extra is None else tuple(None if r is None else rules[r] for r in extra),
            None if taken is None else tuple((str(lot), int(n)) for lot, n in taken),
        ))
    return out


# An entry's inputs are what its rule read: text, numbers, truth values, and
# now and then a span (an incident's age) or a moment.  JSON holds the first
# kinds as they are; the others are tagged so they come back as they were.
_TAG = "$"


def encode_value(value: Any) -> Any:
    """An input value as JSON (``ValueError`` for a kind no rule produces)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Fraction):
        return {_TAG: "fraction", "v": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}
    raise ValueError(f"a ledger entry's input of type {type(value).__name__} cannot be saved")


def _decode_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's inputs as ``dump_records`` wrote them, decoded: most hold no tagged value (a dict) and
    are copied as they are, without a call per value (a period's read decodes every entry of its parts)."""
    for value in inputs.values():
        if isinstance(value, dict):
            return {str(k): decode_value(v) for k, v in inputs.items()}
    return dict(inputs)


def decode_value(value: Any) -> Any:
    """The value ``encode_value`` wrote."""
    if not isinstance(value, dict):
        return value
    tag, raw = value[_TAG], value["v"]
    if tag == "datetime":
        return datetime.fromisoformat(raw)
    if tag == "date":
        return date.fromisoformat(raw)
    if tag == "timedelta":
        return timedelta(raw[0], raw[1], raw[2])
    if tag == "fraction":
        return Fraction(raw)
    if tag == "decimal":
        return Decimal(raw)
    raise ValueError(f"unknown input kind {tag!r}")
