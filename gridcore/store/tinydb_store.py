"""The embedded default store: a folder of TinyDB JSON files.

TinyDB rewrites its whole file on every write, so one big file gets slower with
every event (see docs/storage.md for the measured costs).  This store bounds
what each write rewrites:

* The event log is cut into **segments**: one TinyDB file per calendar month (in
  UTC) and part, each part holding at most ``segment_events`` events, sorted in
  canonical order.  An append rewrites only the open (last) part of each month
  it touches, plus any new parts.
* Segments are never changed in place (copy on write): a batch writes its new
  segment files under new names, then atomically replaces ``manifest.json``,
  which names the live segments.  The manifest switch is the commit point, so a
  batch spanning several files is all or nothing.  On open, files the manifest
  does not name (left by a killed writer) are removed.
* Plugin documents live in ``documents.json``, a plain TinyDB database (one
  table per collection) written through ``AtomicJSONStorage``.
* The ids of every stored event are held in memory (loaded on open), so
  ``contains`` and duplicate checks cost nothing.

One process writes a store at a time; a writer that finds the manifest changed
under it refuses to write rather than lose the other writer's events.
"""

from __future__ import annotations

import heapq
import os
import re
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import frozen
from tinydb import Query, TinyDB

from ..errors import StoreError
from ..hookspecs import hookimpl
from .atomicfile import TEMP_SUFFIX, AtomicJSONStorage, read_json, write_atomic
from .canonical import doc_key, to_json, unique_new, utc_key

FORMAT = "gridcore-tinydb-store"
VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
SEGMENT_EVENTS = 2000
TABLE = "events"
#: Parsed segments kept in memory (LRU): the recent months that range queries read again and again.
CACHED_SEGMENTS = 24
_SEGMENT_NAME = re.compile(r"^events-.*\.json$")
# "sqlite:x.db" is a mistyped URL, not a folder name; "C:\\stores" stays a path.
_LOOKS_LIKE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class _Part:
    """A segment's events (sorted), with their canonical keys computed when first needed."""

    __slots__ = ("_keys", "docs")

    def __init__(self, docs: list[dict[str, Any]], keys: list[tuple[str, str]] | None = None) -> None:
        self.docs = docs
        self._keys = keys

    def keys(self) -> list[tuple[str, str]]:
        if self._keys is None:
            self._keys = [doc_key(d) for d in self.docs]
        return self._keys

    def key(self, index: int) -> tuple[str, str]:
        return self._keys[index] if self._keys is not None else doc_key(self.docs[index])


@frozen
class Segment:
    """One live segment file: the ``number``-th part of a UTC ``month`` (``2025-03``)."""

    month: str
    number: int
    file: str
    count: int


@hookimpl(trylast=True)
def gridcore_storage_backend(url: str) -> TinyDBStore | None:
    """A plain path (no ``scheme:``) opens the TinyDB store folder there."""
    if _LOOKS_LIKE_URL.match(url):
        return None
    return TinyDBStore(Path(url))


class TinyDBStore:
    """The TinyDB store in ``folder`` (created if missing). See the module docstring."""

    def __init__(self, folder: str | Path, *, segment_events: int = SEGMENT_EVENTS) -> None:
        if segment_events < 1:
            raise StoreError(f"segment_events must be at least 1, got {segment_events}")
        self.folder = Path(folder)
        self.url = str(folder)
        self._segment_events = segment_events
        self._segments: list[Segment] = []
        self._generation = 0
        self._ids: set[str] = set()
        # month -> (canonical key, doc) of each event in its open part, kept to merge appends into
        self._tails: dict[str, list[tuple[tuple[str, str], dict[str, Any]]]] = {}
        self._garbage: list[str] = []
        self._cache: OrderedDict[str, _Part] = OrderedDict()
        self._readers = 0
        self._closed = False
        self._open()
        self._documents = TinyDB(self.folder / DOCUMENTS, storage=AtomicJSONStorage)

    # ------------------------------------------------------------ opening

    def _open(self) -> None:
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise StoreError(
                f"{folder} is a file, not a gridcore store folder "
                "(a TinyDB store is a folder; use sqlite:///FILE.db for a single file)"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            manifest_path = folder / MANIFEST
            if not manifest_path.exists():
                strangers = [p.name for p in folder.iterdir() if not p.name.endswith(TEMP_SUFFIX)]
                if strangers:
                    raise StoreError(
                        f"{folder} is not a gridcore store: it has no {MANIFEST} but holds "
                        f"other files ({', '.join(sorted(strangers)[:3])}); choose an empty or new folder"
                    )
                self._write_manifest(0, [])
        except OSError as exc:
            raise StoreError(f"cannot create or open the store folder {folder}: {exc.strerror or exc}") from None
        manifest = read_json(manifest_path)
        self._generation, self._segments = _parse_manifest(manifest, manifest_path)
        live = {s.file for s in self._segments}
        open_parts = {s.file for s in self._open_parts().values() if s.count < self._segment_events}
        for segment in self._segments:
            docs = self._read_segment(segment.file)
            if len(docs) != segment.count:
                raise StoreError(
                    f"store file {folder / segment.file} is corrupt: {len(docs)} events, "
                    f"the manifest says {segment.count}"
                )
            self._ids.update(doc["id"] for doc in docs)
            if segment.file in open_parts:
                self._tails[segment.month] = [(doc_key(d), d) for d in docs]
        if len(self._ids) != sum(s.count for s in self._segments):
            raise StoreError(f"store {folder} is corrupt: the same event id is stored twice")
        # Leftovers of a writer killed mid-batch: never named by the manifest.
        for path in folder.iterdir():
            stray = path.name.endswith(TEMP_SUFFIX) or (_SEGMENT_NAME.match(path.name) and path.name not in live)
            if stray:
                try:
                    path.unlink()
                except OSError:
                    pass
        if (folder / DOCUMENTS).exists():
            AtomicJSONStorage(folder / DOCUMENTS).read()  # corrupt -> StoreError now, not later

    def _read_segment(self, name: str) -> list[dict[str, Any]]:
        path = self.folder / name
        data = read_json(path)
        table = data.get(TABLE) if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise StoreError(f"store file {path} is corrupt (no {TABLE!r} table)")
        docs = list(table.values())
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or "time" not in doc:
                raise StoreError(f"store file {path} is corrupt (an event without id or time)")
        return docs

    def _open_parts(self) -> dict[str, Segment]:
        last: dict[str, Segment] = {}
        for segment in self._segments:
            if segment.month not in last or segment.number > last[segment.month].number:
                last[segment.month] = segment
        return last

    # ------------------------------------------------------------ events

    def append(self, docs: Sequence[Mapping[str, Any]]) -> int:
        """Append a batch atomically; return how many were new (see ``Store.append``)."""
        self._check_open()
        new = unique_new(docs, self._ids)
        if not new:
            return 0
        by_month: dict[str, list[tuple[tuple[str, str], dict[str, Any]]]] = {}
        for ident, _kind, key, doc in new:
            by_month.setdefault(key[:7], []).append(((key, ident), dict(doc)))
        generation = self._generation + 1
        open_parts = self._open_parts()
        segments = list(self._segments)
        tails = dict(self._tails)
        written: list[str] = []
        replaced: list[str] = []
        fresh: list[tuple[str, _Part]] = []
        try:
            self._check_not_changed()
            for month in sorted(by_month):
                arriving = sorted(by_month[month], key=lambda pair: pair[0])
                tail = open_parts.get(month)
                if tail is not None and tail.count < self._segment_events:
                    merged = list(heapq.merge(tails[month], arriving, key=lambda pair: pair[0]))
                    number = tail.number
                    segments.remove(tail)
                    replaced.append(tail.file)
                else:
                    merged = arriving
                    number = tail.number + 1 if tail is not None else 0
                chunks = [merged[i : i + self._segment_events] for i in range(0, len(merged), self._segment_events)]
                for chunk in chunks:
                    name = f"events-{month}-p{number:04d}-g{generation:06d}.json"
                    part = _Part([doc for _, doc in chunk], [key for key, _ in chunk])
                    self._write_segment(name, part.docs)
                    written.append(name)
                    fresh.append((name, part))
                    segments.append(Segment(month, number, name, len(chunk)))
                    number += 1
                last = chunks[-1]
                if len(last) < self._segment_events:
                    tails[month] = last
                else:
                    tails.pop(month, None)
            segments.sort(key=lambda s: (s.month, s.number))
            self._write_manifest(generation, segments)
        except BaseException as exc:
            for name in written:
                try:
                    (self.folder / name).unlink()
                except OSError:
                    pass
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write to the store {self.folder}: {exc.strerror or exc}") from None
            raise
        self._generation = generation
        self._segments = segments
        self._tails = tails
        self._ids.update(ident for ident, _, _, _ in new)
        self._garbage.extend(replaced)
        for name in replaced:
            self._cache.pop(name, None)
        for name, part in fresh:  # only now: a failed batch's names are used again by the next one
            self._remember(name, part)
        self._collect_garbage()
        return len(new)

    def _write_segment(self, name: str, docs: list[dict[str, Any]]) -> None:
        table = {str(n): doc for n, doc in enumerate(docs, 1)}
        text = to_json({TABLE: table}, "an event of this batch")
        path = self.folder / name
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())

    def _write_manifest(self, generation: int, segments: list[Segment]) -> None:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "generation": generation,
            "segments": [
                {"month": s.month, "number": s.number, "file": s.file, "count": s.count} for s in segments
            ],
        }
        # write_atomic fsyncs the folder, which also makes the new segments' names durable.
        write_atomic(self.folder / MANIFEST, to_json(manifest, "manifest"))

    def _check_not_changed(self) -> None:
        generation, _ = _parse_manifest(read_json(self.folder / MANIFEST), self.folder / MANIFEST)
        if generation != self._generation:
            raise StoreError(
                f"the store {self.folder} was changed by another process since it was opened; "
                "a TinyDB store has one writer at a time (reopen it, or use SQLite/PostgreSQL "
                "for several writers)"
            )

    def _collect_garbage(self) -> None:
        if self._readers:
            return  # an events() iterator may still read them
        for name in self._garbage:
            try:
                (self.folder / name).unlink()
            except OSError:
                pass
        self._garbage.clear()

    def contains(self, event_id: str) -> bool:
        """True if an event with this id is stored."""
        return event_id in self._ids

    def count(self) -> int:
        """How many events are stored."""
        return len(self._ids)

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events in canonical order, filtered (see ``Store.events``).

        Reads one month at a time; the events are those stored when iteration
        began, even if the caller appends meanwhile.
        """
        self._check_open()
        low = utc_key(since) if since is not None else None
        high = utc_key(until) if until is not None else None
        wanted = set(kinds) if kinds is not None else None
        by_month: dict[str, list[str]] = {}
        for segment in self._segments:
            if low is not None and segment.month < low[:7]:
                continue
            if high is not None and segment.month > high[:7]:
                continue
            by_month.setdefault(segment.month, []).append(segment.file)
        return self._iterate(by_month, wanted, low, high)

    def _iterate(
        self, by_month: dict[str, list[str]], wanted: set[str] | None, low: str | None, high: str | None
    ) -> Iterator[dict[str, Any]]:
        self._readers += 1
        try:
            for month in sorted(by_month):
                # Keys are needed only in the months where a bound falls.
                bounded = (low is not None and month == low[:7]) or (high is not None and month == high[:7])
                for doc in self._month(by_month[month], low if bounded else None, high if bounded else None):
                    if wanted is None or doc.get("kind") in wanted:
                        yield dict(doc)  # a copy: the parsed segments are cached
        finally:
            self._readers -= 1
            if not self._closed:
                self._collect_garbage()

    def _month(self, names: list[str], low: str | None, high: str | None) -> Iterator[dict[str, Any]]:
        """One month's events in canonical order within the bounds: parts chained, or merged if they overlap."""
        slices = []
        for name in names:
            part = self._part(name)
            start = bisect_left(part.keys(), (low,)) if low is not None else 0
            stop = bisect_left(part.keys(), (high,)) if high is not None else len(part.docs)
            if start < stop:
                slices.append((part, start, stop))
        if len(slices) == 1:
            part, start, stop = slices[0]
            return iter(part.docs[start:stop])
        ends = sorted((part.key(start), part.key(stop - 1), part, start, stop) for part, start, stop in slices)
        if all(ends[i][1] < ends[i + 1][0] for i in range(len(ends) - 1)):
            # Time-ordered ingestion fills parts one after another: no merge needed.
            return (doc for _, _, part, start, stop in ends for doc in part.docs[start:stop])
        keyed = [zip(part.keys()[start:stop], part.docs[start:stop], strict=True) for part, start, stop in slices]
        return (doc for _, doc in heapq.merge(*keyed, key=lambda pair: pair[0]))

    def _part(self, name: str) -> _Part:
        """A segment's events, parsed once: segment files never change, so they are cached by name."""
        part = self._cache.get(name)
        if part is None:
            part = _Part(self._read_segment(name))
            self._remember(name, part)
        else:
            self._cache.move_to_end(name)
        return part

    def _remember(self, name: str, part: _Part) -> None:
        self._cache[name] = part
        self._cache.move_to_end(name)
        while len(self._cache) > CACHED_SEGMENTS:
            self._cache.popitem(last=False)

    # ------------------------------------------------------------ documents

    def put(self, collection: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store (or replace) a plugin-owned document, atomically."""
        self._check_open()
        _check_name(collection, key)
        to_json(doc, f"document {collection}/{key}")
        self._documents.table(collection).upsert({"key": key, "doc": dict(doc)}, Query().key == key)

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``collection``/``key``, or None."""
        self._check_open()
        row = self._documents.table(collection).get(Query().key == key)
        if row is None:
            return None
        return dict(row["doc"])

    def items(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every ``(key, doc)`` of a collection, ordered by key."""
        self._check_open()
        rows = sorted(self._documents.table(collection).all(), key=lambda row: row["key"])
        return iter([(row["key"], dict(row["doc"])) for row in rows])

    def collections(self) -> list[str]:
        """Names of the collections that hold at least one document, sorted."""
        self._check_open()
        return sorted(name for name in self._documents.tables() if len(self._documents.table(name)))

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        """Release the store (every write is already durable). Closing twice is harmless."""
        if self._closed:
            return
        self._readers = 0
        self._collect_garbage()
        self._closed = True
        self._documents.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.folder} is closed")

    def __repr__(self) -> str:
        return f"TinyDBStore({self.url!r}, events={len(self._ids)}, segments={len(self._segments)})"


def _parse_manifest(manifest: Any, path: Path) -> tuple[int, list[Segment]]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{path} is not a gridcore TinyDB store manifest")
    if manifest.get("version") != VERSION:
        raise StoreError(
            f"{path} has store format version {manifest.get('version')!r}; this gridcore reads version {VERSION}"
        )
    try:
        generation = int(manifest["generation"])
        segments = [
            Segment(str(s["month"]), int(s["number"]), str(s["file"]), int(s["count"]))
            for s in manifest["segments"]
        ]
    except (KeyError, TypeError, ValueError):
        raise StoreError(f"{path} is corrupt (a malformed segment list)") from None
    for segment in segments:
        if not _SEGMENT_NAME.match(segment.file) or "/" in segment.file:
            raise StoreError(f"{path} is corrupt (bad segment file name {segment.file!r})")
    return generation, segments


def _check_name(collection: str, key: str) -> None:
    if not isinstance(collection, str) or not collection:
        raise StoreError("a document collection must be a non-empty string")
    if not isinstance(key, str):
        raise StoreError(f"a document key must be a string, got {type(key).__name__}")
