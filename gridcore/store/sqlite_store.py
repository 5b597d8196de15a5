"""The SQLite store (standard library ``sqlite3``), selected by ``sqlite:///path.db``.

One file (pages of 16 KiB in a store made since 2026-12-07: ``PAGE_SIZE``), WAL journal, one transaction per
batch.  A batch is durable when ``append`` returns (sent with ``append_soon``, run in a thread of the store's own
while the caller goes on: when its ``result()`` or any later call returns), and a document when ``put`` does (their commits run with
``synchronous=FULL``: the log file is synced).  The documents the engine writes
between and beside its batches (``put_text``, ``put_many``, ``merge_parts``:
sealed parts, their names, checkpoints, remembered refusals) commit with
``synchronous=NORMAL``, without a sync of their own: SQLite's log is written in
order and read back after a crash only up to its first damaged frame, so such a
document is durable once any later write that syncs has returned (the next
batch appended, a ``put``) or ``close`` has; a power loss before that loses only
the newest of them, never one without what was written before it, never a
batch, and leaves the file whole (as PostgreSQL's store does with
``synchronous_commit``).  ``durable=False``, for a throwaway store such as a
what-if's replay, leaves all syncing to the operating system.  The log position is the ``seq`` column
(SQLite's rowid: appended rows take max + 1, so positions are dense and in
commit order, since SQLite has one writer at a time).  Events are rows keyed by their id, with
the canonical sort key ``time_utc`` (fixed-width UTC text, see
``gridcore.store.canonical``) and indexes on ``id``, ``(time_utc, id)`` and
``(kind, time_utc, id)`` (``KIND_INDEX``); the document itself is JSON text.  Cost per event stays flat as the
store grows (docs/benchmarks.md).  Several processes may read and write one
file; SQLite serialises the writers.  ``sole_appender`` keeps every other handle's
appends waiting while one handle (``gridcore time-order --settle``) replays the
whole log: a file lock beside the store (``<file>-appending``) that each append
holds shared, SQLite's own locks being whole-file.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from ..errors import NO_STORE_ZH, StoreConflict, StoreError
from ..hookspecs import hookimpl
from ..parts import PartBytes
from .canonical import (
    checked_additions,
    checked_text,
    checked_utf8,
    document_json,
    encoded_events,
    from_json,
    keyset_pages,
    kinds_merged,
    merged_parts,
    new_parts_text,
    not_an_object,
    position_orders,
    position_pages,
    to_json,
    utc_key,
)
from .storethread import PendingAppend, StoreThread

FORMAT = "gridcore-sql-store"
VERSION = "1"
SCHEME = "sqlite://"

SCHEMA = """
CREATE TABLE IF NOT EXISTS gridcore_store (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    time_utc TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time_utc, id);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, time_utc, id);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
"""

#: Reads by kind (the assessment's and escalation's metrics, reports a street office runs all day) go
#: through an index of their own, ``events_kind`` on ``(kind, time_utc, id)``: one query a kind, merged
#: (``kinds_merged``).  Appending without it costs about 3,900 instructions an event fewer (of about
#: 350,000, callgrind), but reads by kind then walk the whole time range asked and took 0.9-3.6 times as
#: long on a district's first 400,000 events (docs/benchmarks.md, 2026-12-06): the index is kept.  A store
#: made on 2026-12-06 between d11664d and its revert has ``events_time`` on ``(time_utc, id, kind)`` and no
#: index of kinds; it is read by one walk of the time index (``kind IN``), and a writer opening it adds the
#: index of kinds (the schema's ``IF NOT EXISTS``).
KIND_INDEX = "events_kind"

#: The page size of a store made from now on (SQLite's own is 4,096 bytes).  An append writes every page it
#: changed to the log (WAL) and copies it into the file at the next checkpoint, a system call or two a page:
#: pages four times as large are a quarter as many for the same rows, and their B-trees split less often.
#: Recording the busy district's first 60 days (231,214 events): a third of the writes and a quarter of the
#: reads of the files (system calls); the store alone appending the first 30,000, 1,470 instructions an
#: event fewer (callgrind; docs/benchmarks.md, 2026-12-07).  Only a new file takes it: a store made before keeps its
#: pages of 4,096 bytes, read and written as ever (SQLite changes a file's page size only by rewriting it).
PAGE_SIZE = 16384

#: Writes a document given as its JSON text, or as that text's UTF-8 bytes (``document_json``): SQLite
#: reads the bytes as the text they are (a database in UTF-8), so the row holds the same text.
_PUT = "INSERT OR REPLACE INTO documents VALUES (?, ?, CAST(? AS TEXT))"

#: Writes a document given as its JSON text (``put_text``: collection, key, text, opens, text again) if the
#: text is JSON (``json_valid``) and ``opens``, which says the text opens an object (``_OPENS_OBJECT``): a JSON
#: text is an object exactly when its first character past the whitespace is ``{``, so this writes what
#: ``json_type(text) = 'object'`` did, without parsing the text a second time.  (``opens`` is tested first: a
#: text that is no object is not parsed.)  Plain ``?`` placeholders, the text bound twice: numbered ones
#: (``?3``) given a sequence are deprecated since Python 3.12 and an error from 3.14.
_PUT_TEXT = ("INSERT OR REPLACE INTO documents SELECT ?, ?, CAST(? AS TEXT) "
             "WHERE ? AND json_valid(CAST(? AS TEXT))")

#: Matches a text whose first character past the whitespace is ``{`` (the whitespace of JSON, and the
#: vertical tab and form feed some SQLite versions also skip: ``json_valid`` refuses them where it does not).
_OPENS_OBJECT = re.compile(r"[ \t\n\r\v\f]*\{").match

#: Those of the ids given as a JSON array (``_id_array``) that are stored (``find_ids``): each id of the
#: array looked up in the index of ``id``.
_IDS_STORED = "SELECT e.id FROM json_each(?) AS j JOIN events AS e ON e.id = j.value"

#: The documents of a collection under those of the keys given as a JSON array (``_ID_ARRAY``; bound first,
#: then the collection) that are stored (``merge_parts``): each key of the array looked up in the table's key
#: (``CROSS JOIN``: the array first, else SQLite may read every document of the collection for each key).
_NAMES_STORED = ("SELECT d.key, d.doc FROM json_each(?) AS j CROSS JOIN documents AS d "
                 "ON d.collection = ? AND d.key = j.value")

#: Keys asked for in one query by ``get_many`` and ``get_texts`` (well under SQLite's bound on a
#: statement's parameters, 999 before SQLite 3.32).
KEYS_AT_ONCE = 500


def _id_array(ids: Iterable[str]) -> str:
    """Ids as a JSON array of strings (``_IDS_STORED``); ``StoreError`` for an id that is not a string.
    (Escaped to ASCII: an id that is not valid Unicode is looked up too, and not found, as every stored id
    is valid Unicode.)"""
    ids = list(ids)
    if not all(isinstance(ident, str) for ident in ids):
        raise StoreError("event ids must be strings")
    return _ID_ARRAY(ids)


_ID_ARRAY = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


#: Rows of events inserted by one statement at most (``_insert_events``): 512 parameters, under SQLite's bound
#: on a statement's parameters (999 before SQLite 3.32).
ROWS_AT_ONCE = 128

#: ``INSERT OR IGNORE`` of as many events as its ``VALUES`` has rows (a power of two up to ``ROWS_AT_ONCE``), by
#: that number: each row ``(id, kind, time_utc, doc)``, the document given as its text or that text's UTF-8.
_INSERT_EVENTS = {
    size: "INSERT OR IGNORE INTO events (id, kind, time_utc, doc) VALUES "
          + ",".join(["(?, ?, ?, CAST(? AS TEXT))"] * size)
    for size in (1 << bits for bits in range(ROWS_AT_ONCE.bit_length()))
}


def _insert_events(db: sqlite3.Connection, rows: Sequence[tuple[str, str, str, str | bytes | bytearray]]) -> None:
    """Insert the rows ``encoded_events`` gives, in order, as ``executemany`` of the one-row ``INSERT OR
    IGNORE`` would: the same rows, positions and changes counted.

    Up to ``ROWS_AT_ONCE`` rows a statement, the rest in statements of
    fewer rows, a power of two each (so a handful of statements, each
    prepared once and kept in the connection's cache, serve every
    batch).  ``executemany`` runs its statement once for each row (reset,
    bind, step: and the lock Python lets go of around each step); here
    SQLite inserts a statement's rows in one step.  Measured on 40,000 of
    m1's events: 4.7-5.9 µs of CPU an event with ``executemany``,
    3.6-4.4 µs so (commits included).
    """
    at, left = 0, len(rows)
    while left:
        size = ROWS_AT_ONCE if left >= ROWS_AT_ONCE else 1 << (left.bit_length() - 1)
        db.execute(_INSERT_EVENTS[size], list(chain.from_iterable(rows[at:at + size])))
        at += size
        left -= size


def _text(data: str | bytearray) -> str:
    """A document's JSON as text (for a store not in UTF-8, where SQLite would read bytes as another
    encoding)."""
    return data if isinstance(data, str) else data.decode()

#: Stores made before 2026-12-03 keep their documents in a ``WITHOUT ROWID``
#: table: every row, a checkpoint's megabytes included, sits in the key's own
#: B-tree, so finding one key walks pages of other documents (3-7 ms a lookup
#: in a 1,000,000-event store, against microseconds in a table whose key has an
#: index of its own).  The first write of a document upgrades such a store.
_OLD_DOCUMENTS = "WITHOUT ROWID"


@hookimpl
def gridcore_storage_backend(url: str, create: bool) -> SQLiteStore | None:
    """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` opens a SQLite store."""
    if not url.startswith("sqlite:"):
        return None
    return SQLiteStore(sqlite_path(url), url=url, create=create)


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names (three slashes then the path, as in SQLAlchemy)."""
    rest = url[len(SCHEME) :]
    if not url.startswith(SCHEME) or not rest.startswith("/") or len(rest) < 2:
        raise StoreError(f"a SQLite store URL looks like sqlite:///path/to/store.db, got {url!r} "
                             "(数据库地址写法不对：SQLite 数据库应写成 sqlite:///路径/数据库.db)")
    return Path(rest[1:])


class SQLiteStore:
    """A store in the SQLite file ``path`` (created if missing, unless ``create=False``).

    ``durable=False`` skips syncing each commit to disk (``synchronous=OFF``):
    only for a store that is thrown away afterwards (a crash may lose or
    corrupt what was written).  Else appends and ``put`` commit with
    ``synchronous=FULL`` and the documents written between batches with
    ``NORMAL`` (``_sync``; see the module's docstring).
    """

    def __init__(self, path: str | Path, *, url: str | None = None, create: bool = True,
                 durable: bool = True) -> None:
        self.path = Path(path)
        self._durable = durable
        #: the ``synchronous`` setting of the connection: True for FULL (``_sync``)
        self._full = durable
        #: True after a document write committed without a sync of the log (NORMAL), until a write that
        #: syncs it (an append that added events, ``put``) or ``close`` makes it durable
        self._unsynced = False
        self.url = url or f"{SCHEME}/{self.path}"
        self._closed = False
        #: True while the documents are in the table of stores made before 2026-12-03 (``_upgrade_documents``)
        self._old_documents = False
        #: the lock file every append holds shared and ``sole_appender`` exclusive (opened at the first append),
        #: and whether this handle is the sole appender now
        self._appending_fd: int | None = None
        self._sole = False
        #: False only for a store made without the index of kinds (``KIND_INDEX``), read with ``kind IN``
        self._kind_index = False
        #: the store's own thread, and the append under way in it (``append_soon``)
        self._thread = StoreThread()
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; a SQLite store is a file (这是文件夹；SQLite 数据库是一个文件)")
        if not create and not self.path.is_file():
            raise StoreError(f"no gridcore store at {self.path} (check the path, or make one with gridcore init; "
                             f"nothing was created) {NO_STORE_ZH}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # (used by one thread at a time: an append sent to the store's own thread is waited for by any other call)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the SQLite store {self.path}: {exc} (无法打开 SQLite 数据库)") from None
        try:
            self._setup(create)
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot open the SQLite store {self.path}: {_reason(exc)} (无法打开 SQLite 数据库)") from None
        except StoreError:
            self._db.close()
            raise

    def _setup(self, create: bool) -> None:
        db = self._db
        if create:
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # (taken by a new file only: see ``PAGE_SIZE``)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL" if self._durable else "PRAGMA synchronous=OFF")
        # (every store gridcore makes is in UTF-8; documents are given to one in another encoding as text)
        self._utf8 = str(db.execute("PRAGMA encoding").fetchone()[0]).upper() == "UTF-8"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if (tables or not create) and "gridcore_store" not in tables:
            raise StoreError(f"{self.path} is a SQLite database but not a gridcore store "
                                 "(这是一个 SQLite 数据库，但不是 gridcore 数据库)")
        if not create:
            self._check_format()
            self._old_documents = self._documents_without_rowid()
            self._kind_index = self._has_kind_index()
            return
        db.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT OR IGNORE INTO gridcore_store VALUES ('format', ?), ('version', ?)", (FORMAT, VERSION))
        db.execute("COMMIT")
        self._check_format()
        self._old_documents = self._documents_without_rowid()
        self._kind_index = self._has_kind_index()

    def _has_kind_index(self) -> bool:
        """True when the store has its index for reads by kind (``KIND_INDEX``): every store but one made without it."""
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                                (KIND_INDEX,)).fetchone() is not None

    def _documents_without_rowid(self) -> bool:
        found = self._db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'").fetchone()
        return found is not None and _OLD_DOCUMENTS in str(found[0]).upper()

    def _upgrade_documents(self) -> None:
        """Move the documents of a store made before 2026-12-03 into a table whose key is indexed.

        One transaction: a crash leaves the old table whole, and another
        writer that upgraded first is seen (checked again once the write
        lock is held).  Readers of the old table carry on (SQLite prepares
        their statements again).  The file does not shrink: the old table's
        pages are reused by later writes.
        """
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            if self._documents_without_rowid():
                db.execute("ALTER TABLE documents RENAME TO documents_before_upgrade")
                db.execute(SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS documents"):].split(";")[0])
                db.execute("INSERT INTO documents (collection, key, doc) "
                           "SELECT collection, key, doc FROM documents_before_upgrade")
                db.execute("DROP TABLE documents_before_upgrade")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot write to the SQLite store {self.path}: {_reason(exc)} (无法写入 SQLite 数据库)") from None
        self._old_documents = False

    def _sync(self, full: bool) -> None:
        """Commit what comes next with ``synchronous=FULL`` (``full``: the log synced at the commit, and so
        everything written to it before) or ``NORMAL`` (no sync: durable with the next commit that syncs).
        Only for a durable store, and outside a transaction."""
        if self._durable and self._full is not full:
            self._db.execute("PRAGMA synchronous=FULL" if full else "PRAGMA synchronous=NORMAL")
            self._full = full

    def _check_format(self) -> None:
        found = dict(self._db.execute("SELECT name, value FROM gridcore_store").fetchall())
        if found.get("format") != FORMAT or found.get("version") != VERSION:
            raise StoreError(
                f"{self.path} has store format {found.get('format')!r} version {found.get('version')!r}; "
                f"this gridcore reads {FORMAT} version {VERSION} (数据库格式版本不符：请用与之相符的 gridcore 版本打开)"
            )

    # ------------------------------------------------------------ events

    def position(self) -> int:
        """The log position: the position of the last event appended (0 when empty)."""
        return int(self._rows("SELECT coalesce(max(seq), 0) FROM events", [])[0][0])

    def append(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> int:
        """Append a batch in one transaction; return how many were new (see ``Store.append``)."""
        self._check_open()
        # (a text of other than ASCII given as its UTF-8, made once: see ``put_text``)
        rows = encoded_events(docs, utf8=self._utf8)
        if not rows and expected is None:
            return 0
        return self._append_locked(rows, expected)

    def append_soon(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> PendingAppend:
        """Start appending a batch and return at once: the caller works while SQLite writes it.

        The same append as ``append`` (one transaction, the same positions, ``expected`` the same), its
        transaction run in a thread of the store's own (``gridcore.store.storethread``), where SQLite writes
        the rows and syncs its log without holding the interpreter; the documents are checked and encoded
        here first (a batch that is not valid is refused before anything is sent).  ``result()`` of what
        it gives back says how many were new, or raises the append's ``StoreConflict`` or ``StoreError``.
        One append at a time, in order: every other call on this store (a read, a document, another
        append, ``close``) first waits for it, so it sees the batch, and raises its error if ``result()``
        has not.  The batch is durable once ``result()`` (or any later call) has returned; a process
        killed before that leaves the store as it was before the batch, or after it, never in between.
        """
        self._check_open()
        rows = encoded_events(docs, utf8=self._utf8)
        if not rows and expected is None:
            return PendingAppend(self._thread, None, 0)
        return PendingAppend(self._thread, self._thread.send(self._append_locked, rows, expected), 0)

    def _append_locked(self, rows: list[tuple[str, str, str, str | bytes | bytearray]], expected: int | None) -> int:
        """``append``'s transaction, holding the lock of appenders shared (``append_soon``'s thread)."""
        shared = None if self._sole else self._appending()
        if shared is not None:
            _flock(shared, _SHARED)  # (waits while another handle is the sole appender: ``sole_appender``)
        try:
            return self._append_rows(self._db, rows, expected)
        finally:
            if shared is not None:
                _flock(shared, _UNLOCK)

    def _append_rows(self, db: sqlite3.Connection, rows: list[tuple[str, str, str, str | bytes | bytearray]],
                     expected: int | None) -> int:
        """``append``'s transaction."""
        try:
            self._sync(True)  # (the batch, and every document written before it, durable at COMMIT)
            db.execute("BEGIN IMMEDIATE")  # the one writer from here to COMMIT
            if expected is not None:
                now = int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
                if now != expected:
                    db.execute("ROLLBACK")
                    raise StoreConflict(f"the store {self.url} moved from position {expected} to {now}")
            before = db.total_changes
            _insert_events(db, rows)
            added = db.total_changes - before
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot write to the SQLite store {self.path}: {_reason(exc)} (无法写入 SQLite 数据库)") from None
        if added:
            self._unsynced = False  # (a commit that wrote nothing syncs nothing)
        return added

    @contextmanager
    def sole_appender(self) -> Iterator[None]:
        """Within it, this handle alone appends events: every other handle's ``append`` (this process's or
        another's) waits until the block ends; an append under way is waited for first.  Documents are
        written as before.  ``gridcore time-order --settle`` holds it while it replays the whole log, so no
        event is stored that its replay did not judge (docs/storage.md, *One appender*).

        A file lock beside the store (``<file>-appending``), held shared by each append: the kernel
        releases it when its holder dies, so a killed holder never leaves the store locked.  Another
        handle of this process appending inside the block would wait for ever: use this handle."""
        self._check_open()  # (an append under way first)
        fd = self._appending()
        if fd is None:  # pragma: no cover - not on POSIX: as before, nothing keeps other writers out
            yield
            return
        _flock(fd, _EXCLUSIVE)
        self._sole = True
        try:
            yield
        finally:
            self._sole = False
            if self._appending_fd is not None:  # (closed with the store: let go with it)
                _flock(fd, _UNLOCK)

    def _appending(self) -> int | None:
        """The lock file every append holds shared (``sole_appender``), opened once; None without POSIX locks."""
        fd = self._appending_fd
        if fd is None:
            try:
                import fcntl  # noqa: F401
            except ImportError:  # pragma: no cover - not on POSIX
                return None
            where = self.path.with_name(self.path.name + APPENDING_SUFFIX)
            try:
                fd = self._appending_fd = os.open(where, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(f"cannot write to the SQLite store {self.path}: cannot open {where}: "
                                 f"{exc.strerror or exc} (无法写入 SQLite 数据库：无法打开其锁文件)") from None
        return fd

    def contains(self, event_id: str) -> bool:
        """True if an event with this id is stored."""
        return bool(self._rows("SELECT 1 FROM events WHERE id = ?", [event_id]))

    def count(self) -> int:
        """How many events are stored."""
        return int(self._rows("SELECT count(*) FROM events", [])[0][0])

    def find(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored documents of those ``event_ids`` that are stored, by id."""
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(event_ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = f"SELECT id, doc FROM events WHERE id IN ({', '.join('?' * len(chunk))})"
            for ident, doc in self._rows(query, chunk):
                found[ident] = from_json(doc)
        return found

    def find_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Those of ``event_ids`` that are stored (their documents are not read), in one query however many.

        The ids are given as one JSON array (``_IDS_STORED``): the engine asks for every id of a call it does
        not know (``Engine._stored_forgotten``, 20,000 a call of ``gridcore ingest``), and a statement per
        500 ids, each with as many parameters, cost nearly twice as much an id (0.61 against 0.34 µs of CPU
        on a 115,000-event store).
        """
        if not event_ids:
            self._check_open()
            return set()
        return {ident for (ident,) in self._rows(_IDS_STORED, [_id_array(event_ids)])}

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Events appended after ``position``, in the order they were appended, with their positions."""
        self._check_open()
        return position_pages(self._rows, position, mark="?")

    def orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]:
        """``(position, time in UTC, id)`` of the events appended after ``position``, in log order (no document read)."""
        self._check_open()
        return position_orders(self._rows, position, mark="?", time_of=_utc_time)

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events in canonical order, filtered (see ``Store.events``).

        Read in pages by key, so the caller may append while iterating (events
        it appends that sort after the current position are seen).
        """
        self._check_open()
        where = []
        params: list[Any] = []
        if since is not None:
            where.append("time_utc >= ?")
            params.append(utc_key(since))
        if until is not None:
            where.append("time_utc < ?")
            params.append(utc_key(until))
        if kinds is not None and len(set(kinds)) > 1:
            if self._kind_index:
                return kinds_merged(self._rows, where, params, kinds, mark="?")  # (each kind in its index's order)
            # (the index of canonical order holds each event's kind: one walk of it, for every kind asked)
            unique = list(dict.fromkeys(kinds))
            where.append(f"kind IN ({', '.join('?' * len(unique))})")
            params.extend(unique)
        elif kinds is not None:
            where.append("kind = ?" if kinds else "0")
            params.extend(kinds[:1])
        return self._pages(where, params)

    def _pages(self, where: list[str], params: list[Any]) -> Iterator[dict[str, Any]]:
        return keyset_pages(self._rows, where, params, mark="?")

    def _rows(self, query: str, args: list[Any]) -> list[Any]:
        self._check_open()
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the SQLite store {self.path}: {_reason(exc)} (无法读取 SQLite 数据库)") from None

    # ------------------------------------------------------------ documents

    def put(self, collection: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store (or replace) a plugin-owned document, atomically."""
        self._check_open()
        if self._old_documents:
            self._upgrade_documents()
        data = document_json(doc, f"document {collection}/{key}")
        try:
            self._sync(True)
            self._db.execute(_PUT, (collection, key, data if self._utf8 else _text(data)))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the SQLite store {self.path}: {_reason(exc)} (无法写入 SQLite 数据库)") from None
        self._unsynced = False

    def put_text(self, collection: str, key: str, text: str) -> None:
        """Store (or replace) a plugin-owned document given as its JSON text, written as it is given (a
        part's canonical text, ``gridcore.parts``): atomically, and only if it is the JSON of an object."""
        self._check_open()
        what = f"document {collection}/{key}"
        # A text of other than ASCII is given as its UTF-8, made once (and checked) here: bound as a text, it
        # would be made again and kept inside the text (Python's ``sqlite3`` binds a text's cached UTF-8)
        data = checked_utf8(text, what) if self._utf8 else checked_text(text, what)
        self._put_json(collection, key, data, _OPENS_OBJECT(text) is not None, what)

    def put_utf8(self, collection: str, key: str, data: bytes) -> None:
        """``put_text`` of a text given as its UTF-8 (a part's canonical text as it was hashed,
        ``gridcore.parts.part_bytes``), written as those bytes, not encoded again: atomically, and only if
        they are valid UTF-8 and the text is the JSON of an object."""
        self._check_open()
        what = f"document {collection}/{key}"
        if type(data) is PartBytes and self._utf8:
            # (``part_bytes`` made them of a dict: the UTF-8 of an object's JSON, written without checking either)
            self._put_json(collection, key, data, True, what, checked=True)
            return
        if type(data) is not bytes and type(data) is not PartBytes:
            raise StoreError(f"{what} must be given as the UTF-8 of its JSON text, got {type(data).__name__}")
        try:
            text = data.decode()  # (checks the bytes are UTF-8; SQLite would keep them as they are)
        except UnicodeDecodeError:
            raise StoreError(f"{what} cannot be stored: it is not valid UTF-8") from None
        self._put_json(collection, key, data if self._utf8 else checked_text(text, what),
                       _OPENS_OBJECT(text) is not None, what)

    def _put_json(self, collection: str, key: str, data: str | bytes, opens_object: bool, what: str, *,
                  checked: bool = False) -> None:
        """Write a document's checked JSON text (or its UTF-8) unless ``opens_object`` is False or SQLite
        finds it is not JSON (``not_an_object``); ``checked``: known to be an object's JSON (``PartBytes``),
        written as it is."""
        if self._old_documents:
            self._upgrade_documents()
        db = self._db
        try:
            self._sync(False)  # (durable with the next batch: see the module's docstring)
            before = db.total_changes
            # (SQLite checks the text is JSON in C: far cheaper than decoding it in Python; that the JSON is
            # an object is told by its first character, ``_OPENS_OBJECT``, so the text is parsed once)
            if checked:
                db.execute(_PUT, (collection, key, data))
            else:
                db.execute(_PUT_TEXT, (collection, key, data, opens_object, data))
            written = db.total_changes - before
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the SQLite store {self.path}: {_reason(exc)} (无法写入 SQLite 数据库)") from None
        if not written:
            raise not_an_object(what)
        self._unsynced = self._durable

    def put_many(self, collection: str, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Store (or replace) several documents of one collection in one transaction: all or none."""
        self._check_open()
        if self._old_documents:
            self._upgrade_documents()
        # Each document encoded as SQLite takes it, and let go once written: one document's JSON held at a
        # time, not every one's (a checkpoint's pages: 12 MiB at once at 100,000 events of a fixed population
        # of 5,128, until 2026-12-06, when they were all encoded before the transaction); a large one (a
        # checkpoint's state) as its UTF-8 made a piece at a time (``document_json``): neither its text nor a
        # second copy of its bytes (what SQLite is given of a text) is held beside them.  Other writers wait
        # on the encoding (this handle holds the write lock); a document that is not JSON refuses them all:
        # its ``StoreError`` rolls the transaction back.
        utf8 = self._utf8

        def each_once() -> Iterator[tuple[str, str, str | bytearray]]:
            for key, doc in docs.items():
                data = document_json(doc, f"document {collection}/{key}")
                yield collection, key, data if utf8 else _text(data)

        with self._writing(sync=False) as db:
            db.executemany(_PUT, each_once())

    @contextmanager
    def _writing(self, *, sync: bool) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (this handle the one writer until ``COMMIT``): committed
        if the block ends, rolled back if it raises (an SQLite error becomes ``StoreError``).  ``sync``:
        the commit syncs the log (``_sync``); else it is durable with the next that does."""
        db = self._db
        try:
            self._sync(sync)
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
            self._unsynced = self._durable and (self._unsynced or not sync)
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot write to the SQLite store {self.path}: {_reason(exc)} (无法写入 SQLite 数据库)") from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def merge_parts(self, collection: str, additions: Mapping[str, Mapping[str, int]]) -> None:
        """Merge part entries into name documents (name -> {part key: position}, see ``Store``) in one
        ``BEGIN IMMEDIATE`` transaction: the documents are read, merged and written while this handle is
        the one writer, so no other writer's addition is lost; all or none."""
        self._check_open()
        checked = checked_additions(collection, additions)
        if not checked:
            return
        if self._old_documents:
            self._upgrade_documents()
        with self._writing(sync=False) as db:
            # (one statement whatever the number of names, kept prepared: a ``key IN (?, ...)`` of each
            # length was prepared anew, its parameters bound one by one)
            before: dict[str, Any] = dict(db.execute(_NAMES_STORED, (_ID_ARRAY(list(checked)), collection)).fetchall())
            rows = []
            for name, parts in checked.items():
                had = before.get(name)
                # (a name's first document written out: most are, each name of a closed case stored once)
                text = new_parts_text(parts) if had is None else None
                if text is None:
                    doc = merged_parts(collection, name, None if had is None else from_json(had), parts)
                    text = to_json(doc, f"document {collection}/{name}")
                rows.append((collection, name, text))
            db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", rows)

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``collection``/``key``, or None."""
        rows = self._rows("SELECT doc FROM documents WHERE collection = ? AND key = ?", [collection, key])
        return None if not rows else dict(from_json(rows[0][0]))

    def get_text(self, collection: str, key: str) -> str | None:
        """The JSON text stored under ``collection``/``key`` as it is held, or None (a part is checked
        against its key by hashing this text, ``gridcore.parts.read_part``)."""
        rows = self._rows("SELECT doc FROM documents WHERE collection = ? AND key = ?", [collection, key])
        return None if not rows else str(rows[0][0])

    def get_many(self, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The documents stored under those of ``keys`` that are stored in ``collection``, by key (one
        query per ``KEYS_AT_ONCE`` keys)."""
        return {key: dict(from_json(doc)) for key, doc in self._documents_of(collection, keys)}

    def get_texts(self, collection: str, keys: Iterable[str]) -> dict[str, str]:
        """The JSON texts stored under those of ``keys`` that are stored in ``collection``, as they are
        held, by key (``get_text`` for many keys at once: ``gridcore.parts.stored_parts``)."""
        return {key: str(doc) for key, doc in self._documents_of(collection, keys)}

    def _documents_of(self, collection: str, keys: Iterable[str]) -> list[Any]:
        wanted = list(dict.fromkeys(keys))
        rows: list[Any] = []
        for at in range(0, len(wanted), KEYS_AT_ONCE):
            some = wanted[at:at + KEYS_AT_ONCE]
            rows += self._rows(f"SELECT key, doc FROM documents WHERE collection = ? AND key IN "
                               f"({', '.join('?' * len(some))})", [collection, *some])
        return rows

    def items(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every ``(key, doc)`` of a collection, ordered by key."""
        rows = self._rows("SELECT key, doc FROM documents WHERE collection = ? ORDER BY key", [collection])
        return iter([(key, dict(from_json(doc))) for key, doc in rows])

    def collections(self) -> list[str]:
        """Names of the collections that hold at least one document, sorted."""
        return [row[0] for row in self._rows("SELECT DISTINCT collection FROM documents ORDER BY 1", [])]

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        """Close the connection (every batch is already committed), once the documents written without a
        sync of the log are durable (``_unsynced``). Closing twice is harmless."""
        if self._closed:
            return
        try:
            self._thread.settle()  # (an append under way: its error, if ``result()`` did not raise it, raised here)
            if self._unsynced:
                self._sync_log()
        finally:
            self._closed = True
            self._thread.shutdown()
            self._db.close()
            if self._appending_fd is not None:
                os.close(self._appending_fd)
                self._appending_fd = None

    def _sync_log(self) -> None:
        """Make every write so far durable: a write committed with ``synchronous=FULL`` (a row of the
        store's own table written as it is) syncs the log up to its commit, so for every write before it."""
        try:
            with self._writing(sync=True) as db:
                db.execute("UPDATE gridcore_store SET value = value WHERE name = 'version'")
        finally:
            self._unsynced = False

    def _check_open(self) -> None:
        """Raise if closed; else wait for an append under way (``append_soon``), raising its error."""
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")
        if self._thread.pending is not None:
            self._thread.settle()

    def stop_thread(self) -> None:
        """End the store's own thread (``append_soon``) once its append is done (its error raised here, as
        any later call would raise it); the next ``append_soon`` starts it again.  Called before a fork that
        shares this process's state (``gridcore_app.forking``)."""
        self._thread.stop()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"


#: the lock file beside a store that appends hold shared and ``sole_appender`` exclusive (``store.db-appending``)
APPENDING_SUFFIX = "-appending"
_SHARED, _EXCLUSIVE, _UNLOCK = 1, 2, 8  # (fcntl's LOCK_SH, LOCK_EX, LOCK_UN: the same on every POSIX system)


def _flock(fd: int, how: int) -> None:
    """``fcntl.flock``, waiting (Python retries the wait a signal breaks)."""
    import fcntl

    fcntl.flock(fd, how)


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"the file is corrupt or not a SQLite database ({text})"
    return text


def _utc_time(key: str) -> datetime:
    """The time a ``time_utc`` column holds (``canonical.utc_key``'s text)."""
    return datetime.fromisoformat(key).replace(tzinfo=UTC)
