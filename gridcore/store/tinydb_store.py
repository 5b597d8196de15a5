"""The embedded default store: a folder of TinyDB JSON files.

TinyDB rewrites its whole file on every write, so one big file gets slower with
every event (see docs/storage.md for the measured costs).  This store bounds
what each write rewrites:

* The event log is cut into **segments**: one TinyDB file per calendar month (in
  UTC) and part, each part holding at most ``segment_events`` events, sorted in
  canonical order and keyed by their **log position** (1, 2, 3, ... in the
  order they were appended).  An append rewrites only the open (last) part of
  each month it touches, plus any new parts.
* Files are never changed in place (copy on write): a write puts its new
  segment (or documents) files under new names, then atomically replaces
  ``manifest.json``, which names the live files with their SHA-256 checksums.
  The manifest switch is the commit point, so a batch spanning several files is
  all or nothing, and a removed or edited file is detected when it is read.
* Plugin documents live in one TinyDB database (one table per collection)
  named by the manifest (``documents-g000042.json``).
* **One writer**: the first write takes an OS lock on ``writer.lock`` and keeps
  it until ``close``; a second writer gets "store in use by process N".  Only
  the lock holder removes files the manifest does not name (left by a killed
  writer), so opening a store never touches a running writer's files.
* **Readers** (any number of processes) see other processes' writes: every read
  first checks whether the manifest changed and, if so, reads only the new
  files.
* The ids of every stored event are held in memory, so ``contains`` and
  duplicate checks cost nothing.

Version 1 stores (no positions, no checksums) are read as they are, their
positions taken in canonical order, and rewritten as version 2 by their first
write.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import evolve

from ..classes import frozen
from ..errors import NO_STORE_ZH, StoreConflict, StoreError
from ..fastjson import written_loads
from ..hookspecs import hookimpl
from .atomicfile import TEMP_SUFFIX, read_json, sync_folder, write_atomic
from .canonical import (
    checked_additions,
    checked_text,
    doc_key,
    from_json,
    json_bytes,
    merged_parts,
    not_an_object,
    to_json,
    unique_new,
    utc_key,
)
from .writerlock import WriterLock

_orjson_dumps: Callable[..., bytes] | None
_orjson_loads: Callable[[bytes], Any] | None
try:  # (``_copy``; orjson is a dependency, optional here as in ``gridcore.fastjson``)
    from orjson import OPT_PASSTHROUGH_DATACLASS, OPT_PASSTHROUGH_DATETIME, OPT_PASSTHROUGH_SUBCLASS
    from orjson import dumps as _orjson_dumps
    from orjson import loads as _orjson_loads

    #: orjson told to refuse, not write its own way, what JSON does not hold (a subclass, a time, a dataclass)
    _ORJSON_STRICT = OPT_PASSTHROUGH_SUBCLASS | OPT_PASSTHROUGH_DATETIME | OPT_PASSTHROUGH_DATACLASS
except ImportError:  # pragma: no cover - without orjson every copy is deep-copied
    _orjson_dumps = _orjson_loads = None
    _ORJSON_STRICT = 0

FORMAT = "gridcore-tinydb-store"
VERSION = 2
MANIFEST = "manifest.json"
LOCK = "writer.lock"
LEGACY_DOCUMENTS = "documents.json"
SEGMENT_EVENTS = 2000
TABLE = "events"
#: Parsed segments kept in memory (LRU): the recent months that range queries read again and again.
CACHED_SEGMENTS = 24
#: Times a reader tries again when a writer replaced the files it was about to read.
RETRIES = 50
#: Seconds a writer keeps the files it replaced, for readers in other processes still reading them.
GRACE_SECONDS = 2.0
_SEGMENT_NAME = re.compile(r"^events-[0-9A-Za-z-]+\.json$")
_DOCUMENTS_NAME = re.compile(r"^documents(-g\d+)?\.json$")
# "sqlite:x.db" is a mistyped URL, not a folder name; "C:\\stores" stays a path.
_LOOKS_LIKE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class _Vanished(Exception):
    """A file the manifest named is gone: a writer replaced it, or the store is damaged."""


class _Part:
    """A segment's events (sorted) and their positions, with canonical keys computed when needed."""

    __slots__ = ("_keys", "docs", "positions")

    def __init__(
        self, docs: list[dict[str, Any]], positions: list[int], keys: list[tuple[str, str]] | None = None
    ) -> None:
        self.docs = docs
        self.positions = positions
        self._keys = keys

    def keys(self) -> list[tuple[str, str]]:
        if self._keys is None:
            self._keys = [doc_key(d) for d in self.docs]
        return self._keys

    def key(self, index: int) -> tuple[str, str]:
        return self._keys[index] if self._keys is not None else doc_key(self.docs[index])


@frozen
class Segment:
    """One live segment file: the ``number``-th part of a UTC ``month`` (``2025-03``).

    ``last`` is the highest log position in it; ``sha256`` the checksum of its
    bytes (None in a version 1 store).
    """

    month: str
    number: int
    file: str
    count: int
    last: int = 0
    sha256: str | None = None


@frozen
class _Manifest:
    version: int
    generation: int
    position: int
    segments: tuple[Segment, ...]
    documents: str | None
    documents_sha256: str | None


@hookimpl(trylast=True)
def gridcore_storage_backend(url: str, create: bool) -> TinyDBStore | None:
    """A plain path (no ``scheme:``) opens the TinyDB store folder there."""
    if _LOOKS_LIKE_URL.match(url):
        return None
    return TinyDBStore(Path(url), create=create)


class TinyDBStore:
    """The TinyDB store in ``folder`` (created if missing, unless ``create=False``).

    See the module docstring.
    """

    def __init__(self, folder: str | Path, *, segment_events: int = SEGMENT_EVENTS, create: bool = True) -> None:
        if segment_events < 1:
            raise StoreError(f"segment_events must be at least 1, got {segment_events}")
        self.folder = Path(folder)
        self.url = str(folder)
        self._segment_events = segment_events
        self._manifest = _Manifest(VERSION, 0, 0, (), None, None)
        self._stat: tuple[int, int, int] | None = None
        self._ids: dict[str, str] = {}  # id -> month
        self._documents: dict[str, dict[str, dict[str, Any]]] = {}
        self._garbage: list[tuple[float, str]] = []  # (retired at, file) of replaced files
        self._cache: OrderedDict[str, _Part] = OrderedDict()
        self._readers = 0
        self._lock: WriterLock | None = None
        #: a version 1 store's positions (it stores none): id -> position in canonical order
        self._legacy: dict[str, int] | None = None
        self._closed = False
        self._open(create)

    # ------------------------------------------------------------ opening

    def _open(self, create: bool) -> None:
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise StoreError(
                f"{folder} is a file, not a gridcore store folder "
                "(a TinyDB store is a folder; use sqlite:///FILE.db for a single file) "
                "(这是一个文件，不是 gridcore 数据库文件夹；单个文件的数据库请写 sqlite:///文件.db)"
            )
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            if not create:
                raise StoreError(f"no gridcore store at {folder} (check the path, or make one with gridcore init; nothing was "
                                 f"created) {NO_STORE_ZH}")
            self._create()
        self._sync(initial=True)

    def _create(self) -> None:
        folder = self.folder
        try:
            if folder.exists():
                strangers = [
                    p.name for p in folder.iterdir() if not p.name.endswith(TEMP_SUFFIX) and p.name != LOCK
                ]
                if strangers:
                    raise StoreError(
                        f"{folder} is not a gridcore store: it has no {MANIFEST} but holds "
                        f"other files ({', '.join(sorted(strangers)[:3])}); choose an empty or new folder "
                        "(这个文件夹不是 gridcore 数据库，且已有其他文件：请选一个空文件夹或新文件夹)"
                    )
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create or open the store folder {folder}: {exc.strerror or exc} (无法创建或打开数据库文件夹)") from None
        self._begin_write()
        if not (folder / MANIFEST).exists():  # another process may have created it meanwhile
            self._write_manifest(self._manifest)

    # ------------------------------------------------------------ following the manifest

    def _sync(self, *, initial: bool = False, force: bool = False) -> None:
        """Bring this handle's view up to the manifest on disk (reading only new files)."""
        if self._lock is not None and not (initial or force):
            return  # nobody else writes while this handle holds the writer lock
        path = self.folder / MANIFEST
        loaded: dict[str, _Part] = {}  # kept across tries: a committed file never changes
        for _ in range(RETRIES):
            try:
                info = os.stat(path)
            except FileNotFoundError:
                raise StoreError(f"store {self.folder} is damaged: its {MANIFEST} is missing (数据库已损坏：缺少清单文件)") from None
            except OSError as exc:
                raise StoreError(f"cannot read the store {self.folder}: {exc.strerror or exc} (无法读取数据库)") from None
            stat = (info.st_ino, info.st_mtime_ns, info.st_size)
            if stat == self._stat:
                return
            manifest = _parse_manifest(read_json(path), path)
            try:
                if initial or manifest.generation != self._manifest.generation:
                    self._adopt(manifest, full=initial, loaded=loaded)
                self._stat = stat
                return
            except _Vanished as gone:
                again = _parse_manifest(read_json(path), path)
                if again.generation == manifest.generation:
                    raise StoreError(f"store {self.folder} is damaged: {gone} is missing (数据库已损坏：缺少文件)") from None
        raise StoreError(f"the store {self.folder} kept changing while it was being read; try again (读取时数据库一直在变化，请重试)")

    def _adopt(self, manifest: _Manifest, *, full: bool, loaded: dict[str, _Part]) -> None:
        """Take ``manifest`` as this handle's view: read the files it names that are new to us."""
        full = full or manifest.version == 1
        known = {s.file for s in self._manifest.segments} if not full else set()
        parts: dict[str, _Part] = {}
        self._legacy = None
        for segment in manifest.segments:
            if segment.file in known:
                continue
            if segment.file not in loaded:
                loaded[segment.file] = self._load_segment(segment)
            parts[segment.file] = loaded[segment.file]
        if manifest.version == 1:
            manifest, self._legacy = _number_legacy(manifest, parts)
        ids = {} if full else dict(self._ids)
        for segment in manifest.segments:
            part = parts.get(segment.file)
            if part is None:
                continue
            month = segment.month
            for doc in part.docs:
                ids[doc["id"]] = month
        if len(ids) != sum(s.count for s in manifest.segments):
            raise StoreError(f"store {self.folder} is damaged: the same event id is stored twice (数据库已损坏：同一事件编号存了两次)")
        documents = self._documents
        if full or manifest.documents != self._manifest.documents:
            documents = self._load_documents(manifest)
        live = {s.file for s in manifest.segments}
        for name in list(self._cache):
            if name not in live:
                self._cache.pop(name)
        self._manifest = manifest
        self._ids = ids
        self._documents = documents
        if not full:  # new files a reader is likely to read next (a full open keeps none)
            for name, part in parts.items():
                self._remember(name, part)

    def _load_segment(self, segment: Segment) -> _Part:
        path = self.folder / segment.file
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise _Vanished(str(path)) from None
        except OSError as exc:
            raise StoreError(f"cannot read store file {path}: {exc.strerror or exc} (无法读取数据库文件)") from None
        if segment.sha256 is not None and hashlib.sha256(raw).hexdigest() != segment.sha256:
            raise StoreError(
                f"store file {path} is damaged: its checksum does not match the manifest "
                "(an event was edited, removed or the file was cut short) (数据库文件已损坏：校验和与清单不符)"
            )
        data = _json(raw, path)
        table = data.get(TABLE) if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise StoreError(f"store file {path} is corrupt (no {TABLE!r} table) (数据库文件已损坏)")
        docs = list(table.values())
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or "time" not in doc:
                raise StoreError(f"store file {path} is corrupt (an event without id or time) (数据库文件已损坏)")
        if len(docs) != segment.count:
            raise StoreError(
                f"store file {path} is corrupt: {len(docs)} events, the manifest says {segment.count} (数据库文件已损坏：事件数与清单不符)"
            )
        if segment.sha256 is None and self._legacy is not None:
            positions = [self._legacy.get(doc["id"], 0) for doc in docs]  # version 1: canonical order
        else:
            try:
                positions = [int(key) for key in table]
            except ValueError:
                raise StoreError(f"store file {path} is corrupt (an event row without a position) (数据库文件已损坏)") from None
        return _Part(docs, positions)

    def _load_documents(self, manifest: _Manifest) -> dict[str, dict[str, dict[str, Any]]]:
        name = manifest.documents
        if manifest.version == 1:
            name = LEGACY_DOCUMENTS if (self.folder / LEGACY_DOCUMENTS).exists() else None
        if name is None:
            return {}
        path = self.folder / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise _Vanished(str(path)) from None
        except OSError as exc:
            raise StoreError(f"cannot read store file {path}: {exc.strerror or exc} (无法读取数据库文件)") from None
        if manifest.documents_sha256 is not None and hashlib.sha256(raw).hexdigest() != manifest.documents_sha256:
            raise StoreError(f"store file {path} is damaged: its checksum does not match the manifest (数据库文件已损坏：校验和与清单不符)")
        data = _json(raw, path)
        out: dict[str, dict[str, dict[str, Any]]] = {}
        if not isinstance(data, dict):
            raise StoreError(f"store file {path} is corrupt (not a TinyDB database) (数据库文件已损坏)")
        for collection, table in data.items():
            if not isinstance(table, dict):
                raise StoreError(f"store file {path} is corrupt (not a TinyDB database) (数据库文件已损坏)")
            rows = out.setdefault(collection, {})
            for row in table.values():
                if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not isinstance(
                    row.get("doc"), dict
                ):
                    raise StoreError(f"store file {path} is corrupt (a document row without key or doc) (数据库文件已损坏)")
                rows[row["key"]] = row["doc"]
        return out

    # ------------------------------------------------------------ writing

    def _begin_write(self) -> None:
        """Take the writer lock (kept until ``close``), catch up, clean up, upgrade."""
        self._check_open()
        if self._lock is not None:
            return
        self._lock = WriterLock.acquire(self.folder / LOCK, str(self.folder))
        try:
            if (self.folder / MANIFEST).exists():
                self._sync(initial=self._stat is None, force=True)
                self._remove_strays()
                if self._manifest.version == 1:
                    self._upgrade()
        except BaseException:
            self._lock.release()
            self._lock = None
            raise

    @contextmanager
    def sole_appender(self) -> Iterator[None]:
        """Within it, this handle alone appends events: a TinyDB store has one writer at a time, so this takes
        the writer lock now (kept until ``close``), a ``StoreError`` naming the process that holds it if
        another does (``gridcore time-order --settle``: docs/storage.md, *One appender*)."""
        self._begin_write()
        yield

    def _remove_strays(self) -> None:
        """Files no manifest names: left by a writer killed mid-write. Only the lock holder calls this."""
        live = {s.file for s in self._manifest.segments}
        if self._manifest.documents:
            live.add(self._manifest.documents)
        if self._manifest.version == 1:
            live.add(LEGACY_DOCUMENTS)
        for path in self.folder.iterdir():
            name = path.name
            stray = name.endswith(TEMP_SUFFIX) or (
                (_SEGMENT_NAME.match(name) or _DOCUMENTS_NAME.match(name)) and name not in live
            )
            if stray:
                try:
                    path.unlink()
                except OSError:
                    pass

    def _upgrade(self) -> None:
        """Rewrite a version 1 store as version 2 (positions in the rows, checksums in the manifest)."""
        old = self._manifest
        generation = old.generation + 1
        segments = []
        written = []
        try:
            for segment in old.segments:
                part = self._part(segment.file)  # positions from the canonical numbering
                name = f"events-{segment.month}-p{segment.number:04d}-g{generation:06d}.json"
                digest = self._write_segment(name, part)
                written.append(name)
                segments.append(evolve(segment, file=name, sha256=digest))
            docs_name, docs_sha = self._write_documents(self._documents, generation)
            if docs_name:
                written.append(docs_name)
            manifest = _Manifest(VERSION, generation, old.position, tuple(segments), docs_name, docs_sha)
            self._write_manifest(manifest)
        except BaseException:
            self._unlink(written)
            raise
        self._retire([s.file for s in old.segments])
        if (self.folder / LEGACY_DOCUMENTS).exists():
            self._retire([LEGACY_DOCUMENTS])
        self._manifest = manifest
        self._legacy = None
        self._cache.clear()
        self._collect_garbage()

    # ------------------------------------------------------------ events

    def position(self) -> int:
        """The log position: the position of the last event appended (0 when empty)."""
        self._check_open()
        self._sync()
        return self._manifest.position

    def append(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> int:
        """Append a batch atomically; return how many were new (see ``Store.append``)."""
        self._check_open()
        new = unique_new(docs, ())
        self._begin_write()
        if expected is not None and expected != self._manifest.position:
            raise StoreConflict(
                f"the store {self.folder} moved from position {expected} to {self._manifest.position}"
            )
        new = [item for item in new if item[0] not in self._ids]
        if not new:
            return 0
        old = self._manifest
        generation = old.generation + 1
        by_month: dict[str, list[tuple[tuple[str, str], int, dict[str, Any]]]] = {}
        for n, (ident, _kind, key, doc) in enumerate(new, 1):
            by_month.setdefault(key[:7], []).append(((key, ident), old.position + n, dict(doc)))
        open_parts = _open_parts(old.segments)
        segments = list(old.segments)
        written: list[str] = []
        replaced: list[str] = []
        fresh: list[tuple[str, _Part]] = []
        try:
            for month in sorted(by_month):
                arriving = sorted(by_month[month], key=lambda item: item[0])
                tail = open_parts.get(month)
                if tail is not None and tail.count < self._segment_events:
                    part = self._part(tail.file)
                    kept = list(zip(part.keys(), part.positions, part.docs, strict=True))
                    merged = list(heapq.merge(kept, arriving, key=lambda item: item[0]))
                    number = tail.number
                    segments.remove(tail)
                    replaced.append(tail.file)
                else:
                    merged = arriving
                    number = tail.number + 1 if tail is not None else 0
                size = self._segment_events
                for start in range(0, len(merged), size):
                    chunk = merged[start : start + size]
                    name = f"events-{month}-p{number:04d}-g{generation:06d}.json"
                    part = _Part([d for _, _, d in chunk], [p for _, p, _ in chunk], [k for k, _, _ in chunk])
                    digest = self._write_segment(name, part)
                    written.append(name)
                    fresh.append((name, part))
                    segments.append(Segment(month, number, name, len(chunk), max(part.positions), digest))
                    number += 1
            segments.sort(key=lambda s: (s.month, s.number))
            manifest = evolve(
                old, generation=generation, position=old.position + len(new), segments=tuple(segments)
            )
            self._write_manifest(manifest)
        except BaseException as exc:
            self._unlink(written)
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write to the store {self.folder}: {exc.strerror or exc} (无法写入数据库)") from None
            raise
        self._manifest = manifest
        for ident, _, key, _ in new:
            self._ids[ident] = key[:7]
        self._retire(replaced)
        for name in replaced:
            self._cache.pop(name, None)
        for name, part in fresh:  # only now: a failed batch's names are used again by the next one
            self._remember(name, part)
        self._collect_garbage()
        return len(new)

    def _write_segment(self, name: str, part: _Part) -> str:
        table = {str(position): doc for position, doc in zip(part.positions, part.docs, strict=True)}
        return self._write_file(name, to_json({TABLE: table}, "an event of this batch"))

    def _write_file(self, name: str, text: str | bytearray) -> str:
        """Write a new file durably (``text``, or its UTF-8 already made); return the SHA-256 of its bytes."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        path = self.folder / name
        with open(path, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return hashlib.sha256(data).hexdigest()

    def _write_manifest(self, manifest: _Manifest) -> None:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "generation": manifest.generation,
            "position": manifest.position,
            "documents": None
            if manifest.documents is None
            else {"file": manifest.documents, "sha256": manifest.documents_sha256},
            "segments": [
                {"month": s.month, "number": s.number, "file": s.file, "count": s.count, "last": s.last,
                 "sha256": s.sha256}
                for s in manifest.segments
            ],
        }
        # write_atomic fsyncs the folder, which also makes the new files' names durable.
        path = self.folder / MANIFEST
        write_atomic(path, to_json(doc, "manifest"))
        info = os.stat(path)
        self._stat = (info.st_ino, info.st_mtime_ns, info.st_size)

    def _unlink(self, names: list[str]) -> None:
        for name in names:
            try:
                (self.folder / name).unlink()
            except OSError:
                pass

    def _retire(self, names: list[str]) -> None:
        now = time.monotonic()
        self._garbage.extend((now, name) for name in names)

    def _collect_garbage(self, *, everything: bool = False) -> None:
        """Delete replaced files once readers in other processes have had time to finish with them.

        A reader that still misses one re-reads the manifest and tries again.
        """
        if self._readers:
            return  # an events() iterator of this handle may still read them
        cutoff = time.monotonic() - GRACE_SECONDS
        due = [name for when, name in self._garbage if everything or when <= cutoff]
        if not due:
            return
        self._unlink(due)
        sync_folder(self.folder)
        self._garbage = [(when, name) for when, name in self._garbage if not (everything or when <= cutoff)]

    def contains(self, event_id: str) -> bool:
        """True if an event with this id is stored."""
        self._check_open()
        self._sync()
        return event_id in self._ids

    def count(self) -> int:
        """How many events are stored."""
        self._check_open()
        self._sync()
        return len(self._ids)

    def find(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored documents of those ``event_ids`` that are stored, by id."""
        self._check_open()
        self._sync()
        months: dict[str, set[str]] = {}
        for ident in event_ids:
            month = self._ids.get(ident)
            if month is not None:
                months.setdefault(month, set()).add(ident)
        found: dict[str, dict[str, Any]] = {}
        for month, wanted in months.items():
            for doc in self._read_month(month, None, None):
                if doc["id"] in wanted:
                    found[doc["id"]] = dict(doc)
        return found

    def find_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Those of ``event_ids`` that are stored (from the ids held in memory: no segment is read)."""
        self._check_open()
        self._sync()
        return {ident for ident in event_ids if ident in self._ids}

    def orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]:
        """``(position, time in UTC, id)`` of the events appended after ``position``, in log order (no copy made)."""
        self._check_open()
        self._sync()
        found: list[tuple[int, datetime, str]] = []
        for segment in self._manifest.segments:
            if segment.last <= position:
                continue
            part = self._part_retrying(segment)
            found.extend((p, datetime.fromisoformat(d["time"]).astimezone(UTC), d["id"])
                         for p, d in zip(part.positions, part.docs, strict=True) if p > position)
        found.sort(key=lambda entry: entry[0])
        return iter(found)

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Events appended after ``position``, in the order they were appended, with their positions."""
        self._check_open()
        self._sync()
        found: list[tuple[int, dict[str, Any]]] = []
        for segment in self._manifest.segments:
            if segment.last <= position:
                continue
            part = self._part_retrying(segment)
            found.extend((p, dict(d)) for p, d in zip(part.positions, part.docs, strict=True) if p > position)
        found.sort(key=lambda pair: pair[0])
        return iter(found)

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events in canonical order, filtered (see ``Store.events``).

        Reads one month at a time; events appended meanwhile (by this handle or
        another process) may or may not be seen, but none is seen twice and the
        order stays canonical.
        """
        self._check_open()
        self._sync()
        low = utc_key(since) if since is not None else None
        high = utc_key(until) if until is not None else None
        wanted = set(kinds) if kinds is not None else None
        months = sorted({
            s.month
            for s in self._manifest.segments
            if (low is None or s.month >= low[:7]) and (high is None or s.month <= high[:7])
        })
        return self._iterate(months, wanted, low, high)

    def _iterate(
        self, months: list[str], wanted: set[str] | None, low: str | None, high: str | None
    ) -> Iterator[dict[str, Any]]:
        self._readers += 1
        try:
            for month in months:
                # Keys are needed only in the months where a bound falls.
                bounded = (low is not None and month == low[:7]) or (high is not None and month == high[:7])
                for doc in self._read_month(month, low if bounded else None, high if bounded else None):
                    if wanted is None or doc.get("kind") in wanted:
                        yield dict(doc)  # a copy: the parsed segments are cached
        finally:
            self._readers -= 1
            if not self._closed:
                self._collect_garbage()

    def _read_month(self, month: str, low: str | None, high: str | None) -> Iterator[dict[str, Any]]:
        """One month's events in canonical order within the bounds (its parts loaded first)."""
        for _ in range(RETRIES):
            names = [s for s in self._manifest.segments if s.month == month]
            try:
                parts = [self._part_or_vanish(s) for s in names]
            except _Vanished as gone:
                before = self._manifest.generation
                self._sync()
                if self._manifest.generation == before:  # not replaced by a writer: lost
                    raise StoreError(f"store {self.folder} is damaged: {gone} is missing (数据库已损坏：缺少文件)") from None
                continue
            return _merge_month(parts, low, high)
        raise StoreError(f"the store {self.folder} kept changing while it was being read; try again (读取时数据库一直在变化，请重试)")

    def _part_retrying(self, segment: Segment) -> _Part:
        try:
            return self._part_or_vanish(segment)
        except _Vanished as gone:
            self._sync()
            if segment in self._manifest.segments:
                raise StoreError(f"store {self.folder} is damaged: {gone} is missing (数据库已损坏：缺少文件)") from None
            raise StoreError(f"the store {self.folder} changed while it was being read; try again (读取时数据库发生了变化，请重试)") from None

    def _part(self, name: str) -> _Part:
        segment = next((s for s in self._manifest.segments if s.file == name), None)
        if segment is None:
            raise StoreError(f"store {self.folder}: no live segment {name} (数据库中没有这个数据段)")
        try:
            return self._part_or_vanish(segment)
        except _Vanished as gone:
            raise StoreError(f"store {self.folder} is damaged: {gone} is missing (数据库已损坏：缺少文件)") from None

    def _part_or_vanish(self, segment: Segment) -> _Part:
        """A segment's events, parsed once: segment files never change, so they are cached by name."""
        part = self._cache.get(segment.file)
        if part is None:
            part = self._load_segment(segment)
            self._remember(segment.file, part)
        else:
            self._cache.move_to_end(segment.file)
        return part

    def _remember(self, name: str, part: _Part) -> None:
        self._cache[name] = part
        self._cache.move_to_end(name)
        while len(self._cache) > CACHED_SEGMENTS:
            self._cache.popitem(last=False)

    # ------------------------------------------------------------ documents

    def put(self, collection: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store (or replace) a plugin-owned document, atomically."""
        self.put_many(collection, {key: doc})

    def put_text(self, collection: str, key: str, text: str) -> None:
        """Store (or replace) a plugin-owned document given as its JSON text (a part's canonical text,
        ``gridcore.parts``), atomically, if it is the JSON of an object (this store holds it decoded)."""
        self._check_open()
        _check_name(collection, key)
        what = f"document {collection}/{key}"
        checked_text(text, what)
        try:
            doc = json.loads(text, parse_constant=_not_json)
        except (ValueError, RecursionError):
            raise not_an_object(what) from None
        if not isinstance(doc, dict):
            raise not_an_object(what)
        self._put_decoded(collection, {key: doc})

    def put_many(self, collection: str, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Store (or replace) several documents of one collection at once: one new file, all or none."""
        self._check_open()
        decoded = {}
        for key, doc in docs.items():
            _check_name(collection, key)
            # (a copy of its own, through its JSON: the caller may change ``doc`` or what it holds afterwards;
            # made one document at a time, so no two documents' texts are held at once)
            decoded[key] = from_json(to_json(doc, f"document {collection}/{key}"))
        self._put_decoded(collection, decoded)

    def merge_parts(self, collection: str, additions: Mapping[str, Mapping[str, int]]) -> None:
        """Merge part entries into name documents (name -> {part key: position}, see ``Store``): read,
        merged and written as one new documents file while this handle holds the writer lock (the one
        writer of the store), so no addition is lost; all or none."""
        self._check_open()
        checked = checked_additions(collection, additions)
        if not checked:
            return
        self._begin_write()  # (the one writer from here: what is read below is what is replaced)
        rows = self._documents.get(collection, {})
        decoded = {}
        for name, parts in checked.items():
            _check_name(collection, name)
            doc = merged_parts(collection, name, rows.get(name), parts)
            decoded[name] = from_json(to_json(doc, f"document {collection}/{name}"))
        self._put_decoded(collection, decoded)

    def _put_decoded(self, collection: str, decoded: dict[str, dict[str, Any]]) -> None:
        """Write documents decoded from their JSON texts (copies of their own, shared with no caller)."""
        self._begin_write()
        documents = {name: dict(rows) for name, rows in self._documents.items()}
        documents.setdefault(collection, {}).update(decoded)
        old = self._manifest
        generation = old.generation + 1
        name, digest = self._write_documents(documents, generation)
        try:
            manifest = evolve(old, generation=generation, documents=name, documents_sha256=digest)
            self._write_manifest(manifest)
        except BaseException as exc:
            self._unlink([name] if name else [])
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write to the store {self.folder}: {exc.strerror or exc} (无法写入数据库)") from None
            raise
        self._manifest = manifest
        self._documents = documents
        if old.documents:
            self._retire([old.documents])
        self._collect_garbage()

    def _write_documents(
        self, documents: dict[str, dict[str, dict[str, Any]]], generation: int
    ) -> tuple[str | None, str | None]:
        """Write the documents as a TinyDB database under a new name; ``(name, sha256)``."""
        if not any(documents.values()):
            return None, None
        database = {
            collection: {str(n): {"key": key, "doc": rows[key]} for n, key in enumerate(sorted(rows), 1)}
            for collection, rows in sorted(documents.items())
            if rows
        }
        name = f"documents-g{generation:06d}.json"
        try:
            # (its UTF-8 made a piece at a time: every document of the store is in this file)
            return name, self._write_file(name, json_bytes(database, "a document"))
        except OSError as exc:
            self._unlink([name])
            raise StoreError(f"cannot write to the store {self.folder}: {exc.strerror or exc} (无法写入数据库)") from None

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``collection``/``key``, or None."""
        self._check_open()
        self._sync()
        doc = self._documents.get(collection, {}).get(key)
        return None if doc is None else _copy(doc)

    def get_many(self, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The documents stored under those of ``keys`` that are stored in ``collection``, by key."""
        self._check_open()
        self._sync()
        rows = self._documents.get(collection, {})
        return {key: _copy(rows[key]) for key in keys if key in rows}

    def items(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every ``(key, doc)`` of a collection, ordered by key."""
        self._check_open()
        self._sync()
        rows = self._documents.get(collection, {})
        return iter([(key, _copy(rows[key])) for key in sorted(rows)])

    def collections(self) -> list[str]:
        """Names of the collections that hold at least one document, sorted."""
        self._check_open()
        self._sync()
        return sorted(name for name, rows in self._documents.items() if rows)

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        """Release the store and its writer lock (every write is already durable). Twice is harmless."""
        if self._closed:
            return
        self._readers = 0
        try:
            if self._lock is not None:
                self._collect_garbage(everything=True)
        finally:
            self._closed = True
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.folder} is closed")

    def __repr__(self) -> str:
        return f"TinyDBStore({self.url!r}, events={len(self._ids)}, segments={len(self._manifest.segments)})"


# ---------------------------------------------------------------- helpers


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored document that shares nothing with it (the caller may change it).

    Every document held here was decoded from JSON (its file, or its text when put: ``put_many``), so it
    holds only dicts, lists, texts, whole numbers of 64 bits at most, finite floats, flags and None, none
    shared: orjson writes it and reads it back as ``copy.deepcopy`` copies it (equal values of the same
    types, floats to the bit), three times as fast (a checkpoint's documents: 12 ms against 33 ms on a
    30-day demo store, the most of a read command's reading).  Anything orjson refuses is deep-copied.
    """
    if _orjson_dumps is not None and _orjson_loads is not None:
        try:
            copied = _orjson_loads(_orjson_dumps(doc, option=_ORJSON_STRICT))
        except (TypeError, ValueError):
            pass
        else:
            if type(copied) is dict:
                return copied
    import copy

    return copy.deepcopy(doc)


def _json(raw: bytes, path: Path) -> Any:
    """A store file's JSON (a text this store wrote): read by orjson where it reads it as ``json`` does
    (``written_loads``; a third of the time, most of a read command's opening of a store), else by ``json``,
    whose error names what is wrong."""
    try:
        return written_loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"store file {path} is corrupt (not valid JSON: {exc}) (数据库文件已损坏)") from None


def _open_parts(segments: Sequence[Segment]) -> dict[str, Segment]:
    last: dict[str, Segment] = {}
    for segment in segments:
        if segment.month not in last or segment.number > last[segment.month].number:
            last[segment.month] = segment
    return last


def _merge_month(parts: list[_Part], low: str | None, high: str | None) -> Iterator[dict[str, Any]]:
    """One month's parts in canonical order within the bounds: chained, or merged if they overlap."""
    slices = []
    for part in parts:
        start = bisect_left(part.keys(), (low,)) if low is not None else 0
        stop = bisect_left(part.keys(), (high,)) if high is not None else len(part.docs)
        if start < stop:
            slices.append((part, start, stop))
    if len(slices) == 1:
        part, start, stop = slices[0]
        return iter(part.docs[start:stop])
    ends = sorted(
        ((part.key(start), part.key(stop - 1), n) for n, (part, start, stop) in enumerate(slices)),
    )
    if all(ends[i][1] < ends[i + 1][0] for i in range(len(ends) - 1)):
        # Time-ordered ingestion fills parts one after another: no merge needed.
        ordered = [slices[n] for _, _, n in ends]
        return (doc for part, start, stop in ordered for doc in part.docs[start:stop])
    keyed = [zip(part.keys()[start:stop], part.docs[start:stop], strict=True) for part, start, stop in slices]
    return (doc for _, doc in heapq.merge(*keyed, key=lambda pair: pair[0]))


def _number_legacy(manifest: _Manifest, parts: dict[str, _Part]) -> tuple[_Manifest, dict[str, int]]:
    """Positions for a version 1 store, which has none: 1, 2, 3, ... in canonical order."""
    keyed = sorted((key, name, i) for name, part in parts.items() for i, key in enumerate(part.keys()))
    numbering: dict[str, int] = {}
    for position, (_, name, i) in enumerate(keyed, 1):
        parts[name].positions[i] = position
        numbering[parts[name].docs[i]["id"]] = position
    segments = tuple(
        evolve(s, last=max(parts[s.file].positions, default=0)) for s in manifest.segments
    )
    return evolve(manifest, position=len(keyed), segments=segments), numbering


def _parse_manifest(manifest: Any, path: Path) -> _Manifest:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{path} is not a gridcore TinyDB store manifest (不是 gridcore TinyDB 数据库的清单文件)")
    version = manifest.get("version")
    if version not in (1, VERSION):
        raise StoreError(f"{path} has store format version {version!r}; this gridcore reads versions 1 and {VERSION} "
                         "(数据库格式版本不符：请用与之相符的 gridcore 版本打开)")
    try:
        generation = int(manifest["generation"])
        segments = tuple(
            Segment(
                str(s["month"]),
                int(s["number"]),
                str(s["file"]),
                int(s["count"]),
                int(s.get("last", 0)),
                None if s.get("sha256") is None else str(s["sha256"]),
            )
            for s in manifest["segments"]
        )
        documents = manifest.get("documents") if version == VERSION else None
        position = int(manifest.get("position", 0))
        docs_name = None if documents is None else str(documents["file"])
        docs_sha = None if documents is None else str(documents["sha256"])
    except (KeyError, TypeError, ValueError):
        raise StoreError(f"{path} is corrupt (a malformed segment list) (数据库清单已损坏)") from None
    for segment in segments:
        if not _SEGMENT_NAME.match(segment.file):
            raise StoreError(f"{path} is corrupt (bad segment file name {segment.file!r}) (数据库清单已损坏)")
        if version == VERSION and segment.sha256 is None:
            raise StoreError(f"{path} is corrupt (segment {segment.file} has no checksum) (数据库清单已损坏)")
    if docs_name is not None and not _DOCUMENTS_NAME.match(docs_name):
        raise StoreError(f"{path} is corrupt (bad documents file name {docs_name!r}) (数据库文件已损坏)")
    return _Manifest(int(version), generation, position, segments, docs_name, docs_sha)


def _check_name(collection: str, key: str) -> None:
    if not isinstance(collection, str) or not collection:
        raise StoreError("a document collection must be a non-empty string")
    if not isinstance(key, str):
        raise StoreError(f"a document key must be a string, got {type(key).__name__}")
