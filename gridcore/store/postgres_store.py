"""The PostgreSQL store (psycopg 3), selected by ``postgresql://...``.

The choice for a district or city with many writers.  The URL is a libpq URL
(``postgresql://user:password@host:port/database``); one gridcore-specific query
parameter, ``schema=NAME``, keeps one community's tables in their own schema so
many communities share one database (default: the ``public`` schema).  The
database and schema are created if missing (when the role may).

Events are rows keyed by id (``COLLATE "C"``, so ids order by code point as in
Python), with ``time_utc timestamptz``, ``kind`` and the document as ``jsonb``
(queryable: ``doc->>'category'``).  A batch is one transaction, inserted with
the next log positions (``seq``) under a transaction-scoped advisory lock per
schema, so appends are serialised: positions are dense and commit in order, and
a reader that asks for the events after position P never misses one committed
late.  The lock, the insert (the batch given as one JSON array) and ``COMMIT``
are sent together in pipeline mode, one round trip; a very large batch is
``COPY``-ed into a temporary table first.

Documents put with ``put_text``, ``put_many`` and ``merge_parts`` (sealed parts,
their names, checkpoints, refusal notes: what the engine writes between and
beside its batches) are committed without waiting for the server to flush its
log to disk (``synchronous_commit`` off for that transaction alone): the server
writes its log in order, so such a document is durable once any later write that
waits has returned (the next batch appended, a ``put``) or ``close`` has; a
server crash before that loses only the newest of them, never one without what
was written before it.  Appends and ``put`` wait as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import NO_STORE_ZH, StoreConflict, StoreError
from ..hookspecs import hookimpl
from .canonical import (
    checked_additions,
    checked_text,
    document_json,
    encoded_events,
    from_json,
    keyset_pages,
    kinds_merged,
    not_an_object,
    position_orders,
    position_pages,
    redact,
    to_json,
    utc_key,
)
from .storethread import PendingAppend, PendingFind, StoreThread

FORMAT = "gridcore-sql-store"
VERSION = "1"
SCHEMES = ("postgresql://", "postgres://")

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS gridcore_store (name text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS events (
        seq bigserial PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        kind text COLLATE "C" NOT NULL,
        time_utc timestamptz NOT NULL,
        doc jsonb NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time_utc, id)",
    "CREATE INDEX IF NOT EXISTS events_kind ON events (kind, time_utc, id)",
    """CREATE TABLE IF NOT EXISTS documents (
        collection text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (collection, key)
    )""",
]


#: Batches up to this many events (and this many characters of JSON) are appended in one round trip.
INLINE_ROWS = 10_000
INLINE_CHARS = 32 << 20

#: The insert of a batch given as one JSON array, at the log's position (``now``): the new events
#: (ids not stored yet; the batch has none twice) take positions now + 1, now + 2 ... in batch order;
#: answers ``(now, how many were inserted)``.  ``APPEND_AT`` inserts nothing unless now is ``expected``.
_APPEND = (
    "WITH m AS (SELECT coalesce(max(seq), 0) AS now FROM events), "
    "given AS (SELECT b.r ->> 0 AS id, b.r ->> 1 AS kind, (b.r ->> 2)::timestamptz AS time_utc, "
    "b.r -> 3 AS doc, b.ord FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS b(r, ord)), "
    "added AS (INSERT INTO events (seq, id, kind, time_utc, doc) "
    "SELECT m.now + row_number() OVER (ORDER BY g.ord), g.id, g.kind, g.time_utc, g.doc FROM m, given g "
    "WHERE {} NOT EXISTS (SELECT 1 FROM events e WHERE e.id = g.id) RETURNING 1) "
    "SELECT m.now, (SELECT count(*) FROM added) FROM m"
)
APPEND_ANY = _APPEND.format("%s::bigint IS NULL AND")
APPEND_AT = _APPEND.format("m.now = %s AND")


@hookimpl
def gridcore_storage_backend(url: str, create: bool) -> PostgresStore | None:
    """``postgresql://`` (or ``postgres://``) URLs open a PostgreSQL store."""
    if not url.startswith(SCHEMES):
        return None
    return PostgresStore(url, create=create)


def split_url(url: str) -> tuple[str, str]:
    """``(libpq_url, schema)``: the URL without gridcore's ``schema`` parameter, and that schema."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    rest = [(name, value) for name, value in query if name != "schema"]
    schema = schemas[-1] if schemas else "public"
    if not schema:
        raise StoreError(f"empty schema name in store URL {redact(url)} (数据库地址中的 schema 名称为空)")
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


class PostgresStore:
    """A store in a PostgreSQL database (and schema) named by ``url``.

    The database and schema are created when missing, unless ``create=False``.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        import psycopg

        self.url = redact(url)
        self._closed = True
        #: True after a document write committed without waiting for the disk (``_NO_WAIT``), until a
        #: write that waits (an append, ``put``) or ``close`` makes it durable
        self._unflushed = False
        #: the document writes held for the next ``append_soon`` (``holding``), and whether writes are held now
        self._held: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._holding = False
        #: the store's own thread, and the append or query under way in it (``append_soon``, ``find_ids_soon``)
        self._thread = StoreThread()
        conninfo, self.schema = split_url(url)
        self._conn = _connect(conninfo, self.url, create=create)
        self._closed = False
        try:
            self._setup(create)
        except psycopg.Error as exc:
            self._conn.close()
            self._closed = True
            raise StoreError(f"cannot open the PostgreSQL store {self.url}: {_first_line(exc)} "
                             "(无法打开 PostgreSQL 数据库：请检查地址、用户名和密码，以及数据库是否在运行)") from None
        except BaseException:
            self._conn.close()
            self._closed = True
            raise

    def _setup(self, create: bool) -> None:
        import psycopg
        from psycopg import sql

        conn = self._conn
        schema = sql.Identifier(self.schema)
        if not create:
            found = conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'gridcore_store'",
                (self.schema,),
            ).fetchone()
            if found is None:
                raise StoreError(
                    f"no gridcore store in schema {self.schema!r} of {self.url} (check the URL, or make one with "
                    f"gridcore init; nothing was created) {NO_STORE_ZH}"
                )
        with conn.transaction():
            # Two processes creating the same store at once must not collide.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('gridcore-store-setup'))")
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            conn.execute(sql.SQL("SET search_path TO {}").format(schema))
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                )
            }
            if tables & {"events", "documents"} and "gridcore_store" not in tables:
                raise StoreError(
                    f"schema {self.schema!r} of {self.url} has an events or documents table that "
                    "is not a gridcore store; choose another schema (?schema=NAME) "
                    "(这个 schema 中已有不属于 gridcore 的 events 或 documents 表：请换一个 schema，如 ?schema=名称)"
                )
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO gridcore_store VALUES ('format', %s), ('version', %s) ON CONFLICT DO NOTHING",
                (FORMAT, VERSION),
            )
            found = dict(conn.execute("SELECT name, value FROM gridcore_store").fetchall())
        # SET inside the transaction is kept after commit; repeat it outside for clarity.
        conn.execute(sql.SQL("SET search_path TO {}").format(schema))
        # Every statement planned for the values it is given: psycopg prepares a statement run five times,
        # and the server may then keep one plan for any values, chosen by the values it saw first (a page of
        # events of one kind planned for a rare kind: the kind index, every matching row after the page's
        # start fetched and sorted for each page of 2,000, 0.5 s a page for a common kind in a 1.5M store)
        try:
            conn.execute("SET plan_cache_mode = force_custom_plan")
        except psycopg.Error:  # (before PostgreSQL 12, which has no such setting)
            pass
        # Large documents (a checkpoint's, a sealed part) are compressed by the server as they are
        # stored: lz4 where the server has it (PostgreSQL 14 and later, built with it, as Debian's
        # is), about twice as fast as the default pglz, else the default.
        try:
            conn.execute("SET default_toast_compression = 'lz4'")
        except psycopg.Error:
            pass
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS gridcore_appending "
            '(ord int, id text COLLATE "C", kind text, time_utc timestamptz, doc jsonb) ON COMMIT DELETE ROWS'
        )
        self._append_lock = f"gridcore-append:{self.schema}"
        # (pipeline mode needs libpq 14 or later: psycopg's binary wheel has it; an older one COPYs)
        self._pipelined = psycopg.Pipeline.is_supported()
        if found.get("format") != FORMAT or found.get("version") != VERSION:
            raise StoreError(
                f"{self.url} has store format {found.get('format')!r} version {found.get('version')!r}; "
                f"this gridcore reads {FORMAT} version {VERSION} (数据库格式版本不符：请用与之相符的 gridcore 版本打开)"
            )

    # ------------------------------------------------------------ events

    def position(self) -> int:
        """The log position: the position of the last event appended (0 when empty)."""
        row = self._one("SELECT coalesce(max(seq), 0) FROM events", ())
        return int(row[0])

    def append(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> int:
        """Append a batch in one transaction; return how many were new (see ``Store.append``).

        A batch of up to ``INLINE_ROWS`` events (and ``INLINE_CHARS`` of JSON) goes in one round
        trip (where libpq has pipeline mode, 14 and later): the lock, the insert (given the batch as
        one JSON array) and COMMIT are sent together in pipeline mode, and the insert takes the
        events only if the log is still at ``expected`` (when given), so a conflict commits nothing
        and is raised once the answer is in.  A larger batch is ``COPY``-ed into a temporary table
        first (a few round trips, no size limit).
        """
        self._check_open()
        rows, texts = _encoded(docs)
        if not rows and expected is None:
            return 0
        return self._append_rows(rows, texts, expected)

    def append_soon(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> PendingAppend:
        """Start appending a batch and return at once, so the caller works while the server does.

        The same append as ``append`` (one transaction, the same positions, ``expected`` the
        same), sent from a thread of the store's own while this one goes on; what it gives back
        says, from ``result()``, how many were new, or raises the append's ``StoreConflict`` or
        ``StoreError``.  A batch that is not valid is refused here, before anything is sent.
        One append at a time, in order: every other call on this store (another append, a read,
        a document, ``close``) first waits for it, so it sees the batch, and raises its error if
        ``result()`` has not (an error is never lost, and nothing after a failed append runs).
        The batch is durable once ``result()`` (or any later call) has returned; a process killed
        before that leaves the store as it was before the batch, or after it, never in between.
        """
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")
        self._settle()
        rows, texts = _encoded(docs)
        held, self._held = self._held, []
        if not rows and expected is None and not held:
            return PendingAppend(self._thread, None, 0)
        return PendingAppend(self._thread, self._thread.send(self._append_after, held, rows, texts, expected), 0)

    def _append_after(self, held: list[tuple[Callable[..., None], tuple[Any, ...]]],
                      rows: list[tuple[str, str, str, Any]], texts: list[str], expected: int | None) -> int:
        """``append_soon``'s thread: the writes held (``holding``), in order, then the batch (if any)."""
        for write, args in held:
            write(*args)
        if not rows and expected is None:
            return 0
        return self._append_rows(rows, texts, expected)

    def _append_rows(self, rows: list[tuple[str, str, str, Any]], texts: list[str], expected: int | None) -> int:
        """Store checked rows and their JSON texts (``append``; ``append_soon``'s thread)."""
        import psycopg

        try:
            if len(rows) <= INLINE_ROWS and self._pipelined:
                batch = _batch_json(rows, texts)
                if len(batch) <= INLINE_CHARS:
                    added = self._append_inline(batch, expected)
                    self._unflushed = False  # (its commit waited for the log, and so for what was before it)
                    return added
            added = self._append_copied(rows, texts, expected)
            self._unflushed = False
            return added
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None

    def _append_inline(self, batch: str, expected: int | None) -> int:
        """``append`` in one round trip: ``batch`` is the JSON array ``[[id, kind, time, doc], ...]``."""
        conn = self._conn
        with conn.pipeline(), conn.cursor() as cur:
            with conn.transaction():
                # One appender per store at a time, until COMMIT: positions are
                # taken and committed in the same order.  (Each statement after the
                # lock sees what was committed before it was granted.)
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._append_lock,))
                cur.execute(APPEND_ANY if expected is None else APPEND_AT, (batch, expected))
            row = cur.fetchone()
        now, added = (int(row[0]), int(row[1])) if row else (0, 0)
        if expected is not None and now != expected:
            raise StoreConflict(f"the store {self.url} moved from position {expected} to {now}")
        return added

    def _append_copied(self, rows: list[tuple[str, str, str, Any]], texts: list[str],
                       expected: int | None) -> int:
        """``append`` of a large batch: ``COPY`` into a temporary table, then one insert from it."""
        conn = self._conn
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._append_lock,))
            cur.execute("SELECT coalesce(max(seq), 0) FROM events")
            row = cur.fetchone()
            now = int(row[0]) if row else 0
            if expected is not None and now != expected:
                raise StoreConflict(f"the store {self.url} moved from position {expected} to {now}")
            with cur.copy("COPY gridcore_appending (ord, id, kind, time_utc, doc) FROM STDIN") as copy:
                for n, ((ident, kind, key, _), text) in enumerate(zip(rows, texts)):
                    copy.write_row((n, ident, kind, key + "+00:00", text))
            cur.execute(
                "INSERT INTO events (seq, id, kind, time_utc, doc) "
                "SELECT %s + row_number() OVER (ORDER BY s.ord), s.id, s.kind, s.time_utc, s.doc "
                "FROM gridcore_appending s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.id)",
                (now,),
            )
            return max(int(cur.rowcount), 0)

    @contextmanager
    def sole_appender(self) -> Iterator[None]:
        """Within it, this handle alone appends events: every other handle's ``append`` (any process's, on any
        machine) waits until the block ends; an append under way is waited for first.  Documents are
        written as before.  ``gridcore time-order --settle`` holds it while it replays the whole log, so no
        event is stored that its replay did not judge (docs/storage.md, *One appender*).

        The schema's append lock (the advisory lock each append takes for its transaction) held by this
        handle's session: its own appends take it again (a session holds a lock it holds), the server
        releases it if the connection drops, so a killed holder never leaves the store locked."""
        import psycopg

        self._check_open()
        try:
            self._conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (self._append_lock,))
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None
        try:
            yield
        finally:
            if not self._closed:
                try:
                    self._settle()
                finally:
                    try:
                        self._conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._append_lock,))
                    except psycopg.Error:
                        pass  # (the connection is gone, and the lock with it)

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Within it, ``put_text`` and ``merge_parts`` (what a flush writes: sealed parts and their names)
        are checked and held, not sent: the next ``append_soon`` sends them from its thread, each as it
        would have been (its own transaction, in order), before its batch, so the caller does not wait
        for the server to store them.  An error of one is the append's (``result()``), and its batch is
        not sent then.  Any other call (a read, another write, ``append``, ``close``) first writes what is
        held, in order, as those calls would have, so it sees them."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _write(self, write: Callable[..., None], *args: Any) -> None:
        """Run a document write now, or hold it (``holding``)."""
        if self._holding:
            self._settle()
            self._held.append((write, args))
            return
        self._check_open()
        write(*args)

    def _write_held(self) -> None:
        """The writes held (``holding``), in order (an error stops them: the rest are dropped)."""
        held, self._held = self._held, []
        for write, args in held:
            write(*args)

    def find(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored documents of those ``event_ids`` that are stored, by id."""
        wanted = list(dict.fromkeys(event_ids))
        rows = self._all("SELECT id, doc::text FROM events WHERE id = ANY(%s)", (wanted,)) if wanted else []
        return {ident: from_json(doc) for ident, doc in rows}

    def find_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Those of ``event_ids`` that are stored, in one query (their documents are not read)."""
        wanted = list(dict.fromkeys(event_ids))
        rows = self._all("SELECT id FROM events WHERE id = ANY(%s)", (wanted,)) if wanted else []
        return {ident for (ident,) in rows}

    def find_ids_soon(self, event_ids: Sequence[str]) -> PendingFind:
        """``find_ids`` asked from the store's own thread: returns at once, and ``result()`` gives the set
        (or raises its ``StoreError``).  The engine asks so for the ids of a long call beyond its first
        batch while it judges that batch (a query of 20,000 ids took about 80 ms of the server's CPU in a
        1,500,000-event store, the caller waiting).  As with ``append_soon``, every other call on this
        store first waits for it, so it answers as of the moment it was asked, and its error is never
        lost."""
        self._check_open()  # (an append under way, and writes held, go first)
        wanted = list(dict.fromkeys(event_ids))
        if not wanted:
            return PendingFind(self._thread, None, set())
        return PendingFind(self._thread, self._thread.send(self._find_ids_now, wanted), set())

    def _find_ids_now(self, wanted: list[str]) -> set[str]:
        """``find_ids_soon``'s thread: the query (not through ``_all``, which would wait for itself)."""
        import psycopg

        try:
            rows = self._conn.execute("SELECT id FROM events WHERE id = ANY(%s)", (wanted,)).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the PostgreSQL store {self.url}: {_first_line(exc)} (无法读取 PostgreSQL 数据库)") from None
        return {ident for (ident,) in rows}

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Events appended after ``position``, in the order they were appended, with their positions."""
        self._check_open()
        return position_pages(self._all, position, mark="%s", doc_column="doc::text")

    def orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]:
        """``(position, time in UTC, id)`` of the events appended after ``position``, in log order (no document read)."""
        self._check_open()
        return position_orders(self._all, position, mark="%s", time_of=lambda when: when.astimezone(UTC))

    def contains(self, event_id: str) -> bool:
        """True if an event with this id is stored."""
        return self._one("SELECT 1 FROM events WHERE id = %s", (event_id,)) is not None

    def count(self) -> int:
        """How many events are stored."""
        row = self._one("SELECT count(*) FROM events", ())
        return int(row[0]) if row else 0

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events in canonical order, filtered (see ``Store.events``).

        Read in pages by key, so no transaction stays open while the caller
        works (events appended meanwhile that sort later are seen).
        """
        self._check_open()
        where = []
        params: list[Any] = []
        if since is not None:
            where.append("time_utc >= %s")
            params.append(utc_key(since) + "+00:00")
        if until is not None:
            where.append("time_utc < %s")
            params.append(utc_key(until) + "+00:00")
        if kinds is not None and len(set(kinds)) > 1:
            # each kind read in the kind index's order (kind, time_utc, id) and merged here: with kind = ANY(...)
            # the plan reads the time index and fetches every row of the range to look at its kind, or
            # sorts every matching row after the page's start for each page
            return kinds_merged(self._all, where, params, kinds, mark="%s", doc_column="doc::text")
        if kinds is not None:
            where.append("kind = %s" if kinds else "false")
            params.extend(kinds[:1])
        return self._pages(where, params)

    def _pages(self, where: list[str], params: list[Any]) -> Iterator[dict[str, Any]]:
        return keyset_pages(self._all, where, params, mark="%s", doc_column="doc::text")

    # ------------------------------------------------------------ documents

    def put(self, collection: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store (or replace) a plugin-owned document, atomically."""
        import psycopg

        self._check_open()
        data = document_json(doc, f"document {collection}/{key}")
        try:
            self._conn.execute(_PUT, (collection, key, _jsonb(data)))
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None
        self._unflushed = False

    def put_text(self, collection: str, key: str, text: str) -> None:
        """Store (or replace) a plugin-owned document given as its JSON text (a part's canonical text,
        ``gridcore.parts``; the server parses it into ``jsonb``): atomically, and only if it is the JSON
        of an object.  Within ``holding()``, sent with the next ``append_soon`` (see there)."""
        self._check_closed()
        what = f"document {collection}/{key}"
        checked_text(text, what)
        self._write(self._put_text, collection, key, text)

    def _put_text(self, collection: str, key: str, text: str) -> None:
        import psycopg

        what = f"document {collection}/{key}"
        try:
            # (one statement, its own transaction: the setting, made for it alone, lets its commit not wait
            # for the disk: durable with the next write that waits, see the module's docstring)
            cur = self._conn.execute(
                "INSERT INTO documents SELECT %s, %s, d FROM (SELECT %s::jsonb AS d, "
                "set_config('synchronous_commit', 'off', true)) AS given "
                "WHERE jsonb_typeof(d) = 'object' "
                "ON CONFLICT (collection, key) DO UPDATE SET doc = EXCLUDED.doc",
                (collection, key, text),
            )
            self._unflushed = True
        except psycopg.errors.DataError as exc:
            raise StoreError(f"{what} cannot be stored: its text is not JSON ({_first_line(exc)}); "
                             "nothing was written") from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None
        if cur.rowcount < 1:
            raise not_an_object(what)

    def put_many(self, collection: str, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Store (or replace) several documents of one collection in one transaction: all or none."""
        import psycopg

        self._check_open()

        def each() -> Iterator[tuple[str, str, Any]]:
            for key, doc in docs.items():
                yield collection, key, _jsonb(document_json(doc, f"document {collection}/{key}"))

        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute(_NO_WAIT)
                self._unflushed = True
                # One document at a time, each made as it is sent (``executemany`` takes them as they come, in
                # pipeline mode: no round trip each), a large one as its UTF-8 made a piece at a time and sent
                # as it is (``document_json``: no text, no second copy); a document that is not JSON refuses
                # them all (the transaction is rolled back)
                cur.executemany(_PUT, each())
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None

    def merge_parts(self, collection: str, additions: Mapping[str, Mapping[str, int]]) -> None:
        """Merge part entries into name documents (name -> {part key: position}, see ``Store``) in one
        statement: a missing document is inserted as ``{"parts": {...}}``, an existing one's ``parts``
        gains the keys (``||`` of the two ``jsonb`` objects) under the row's lock, so no other writer's
        addition is lost; all or none (refused, nothing written, if a document's ``parts`` is not an
        object).  Rows are taken in key order, so two writers merging the same names do not deadlock.
        Within ``holding()``, sent with the next ``append_soon`` (see there)."""
        self._check_closed()
        checked = checked_additions(collection, additions)
        if not checked:
            self._check_open()
            return
        text = to_json(checked, f"the parts merged into {collection}")
        self._write(self._merge_parts, collection, checked, text)

    def _merge_parts(self, collection: str, checked: dict[str, dict[str, int]], text: str) -> None:
        import psycopg

        for attempt in range(5):
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.execute(_NO_WAIT)
                    self._unflushed = True
                    cur.execute(
                        "INSERT INTO documents (collection, key, doc) "
                        "SELECT %s, given.key, jsonb_build_object('parts', given.value) "
                        "FROM jsonb_each(%s::jsonb) AS given ORDER BY given.key "
                        "ON CONFLICT (collection, key) DO UPDATE SET doc = jsonb_set(documents.doc, '{parts}', "
                        "coalesce(documents.doc -> 'parts', '{}'::jsonb) || (EXCLUDED.doc -> 'parts')) "
                        "WHERE coalesce(jsonb_typeof(documents.doc -> 'parts'), 'object') = 'object'",
                        (collection, text),
                    )
                    if cur.rowcount != len(checked):
                        raise StoreError(f"cannot merge parts into {collection}: the 'parts' of a document "
                                         "there is not an object; nothing was written")
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise StoreError(f"cannot write to the PostgreSQL store {self.url}: deadlock (无法写入 PostgreSQL 数据库：死锁)") from None
            except psycopg.Error as exc:
                raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``collection``/``key``, or None."""
        row = self._one("SELECT doc::text FROM documents WHERE collection = %s AND key = %s", (collection, key))
        return None if row is None else dict(from_json(row[0]))

    def get_many(self, collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The documents stored under those of ``keys`` that are stored in ``collection``, by key: one
        query (one round trip) for them all."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            self._check_open()
            return {}
        rows = self._all("SELECT key, doc::text FROM documents WHERE collection = %s AND key = ANY(%s)",
                         (collection, wanted))
        return {key: dict(from_json(doc)) for key, doc in rows}

    def items(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every ``(key, doc)`` of a collection, ordered by key."""
        rows = self._all("SELECT key, doc::text FROM documents WHERE collection = %s ORDER BY key", (collection,))
        return iter([(key, dict(from_json(doc))) for key, doc in rows])

    def collections(self) -> list[str]:
        """Names of the collections that hold at least one document, sorted."""
        return [row[0] for row in self._all("SELECT DISTINCT collection FROM documents ORDER BY 1", ())]

    # ------------------------------------------------------------ plumbing

    def _one(self, query: str, args: Sequence[Any]) -> Any:
        rows = self._all(query, args)
        return rows[0] if rows else None

    def _all(self, query: str, args: Sequence[Any]) -> list[Any]:
        import psycopg

        self._check_open()
        try:
            rows: list[Any] = self._conn.execute(query, args).fetchall()
            return rows
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the PostgreSQL store {self.url}: {_first_line(exc)} (无法读取 PostgreSQL 数据库)") from None

    def close(self) -> None:
        """Close the connection, once an append under way (``append_soon``) is done; its error, if
        ``result()`` did not raise it, is raised here (after closing). Closing twice is harmless."""
        if self._closed:
            return
        try:
            self._settle()
            self._write_held()
            if self._unflushed:
                self._flush_log()
        finally:
            self._closed = True
            self._thread.shutdown()
            self._conn.close()

    def stop_thread(self) -> None:
        """End the store's own thread (``append_soon``, ``find_ids_soon``) once what it runs is done (its
        error raised here, as any later call would raise it); the next of those starts it again.  Called
        before a fork that shares this process's state (``gridcore_app.forking``, ``StoreThread.stop``)."""
        self._thread.stop()

    def _flush_log(self) -> None:
        """Wait until the server's log is on disk up to now: a transaction that writes (a row of the store's
        own table written as it is) commits waiting for the log up to its commit, so for every write before
        it (those committed without waiting: ``_NO_WAIT``)."""
        import psycopg

        try:
            self._conn.execute("UPDATE gridcore_store SET value = value WHERE name = 'version'")
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to the PostgreSQL store {self.url}: {_first_line(exc)} (无法写入 PostgreSQL 数据库)") from None
        self._unflushed = False

    def _check_closed(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")

    def _check_open(self) -> None:
        self._check_closed()
        if self._thread.pending is not None:
            self._thread.settle()
        if self._held:
            self._write_held()

    def _settle(self) -> None:
        """Wait for the append or query under way (``append_soon``, ``find_ids_soon``), raising its error."""
        self._thread.settle()

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"


def _connect(conninfo: str, shown: str, *, create: bool = True) -> Any:
    """An autocommit connection; creates the database if it is missing and the role may."""
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        message = _first_line(exc)
        if "does not exist" not in message or "database" not in message or not create:
            raise StoreError(f"cannot connect to the PostgreSQL store {shown}: {message} (无法连接 PostgreSQL 数据库)") from None
    from psycopg import sql

    parts = urlsplit(conninfo)
    database = parts.path.lstrip("/")
    try:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.errors.DuplicateDatabase:
        pass
    except psycopg.Error as exc:
        raise StoreError(
            f"the database of {shown} does not exist and could not be created: {_first_line(exc)} "
            "(数据库不存在，也无法创建)"
        ) from None
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the PostgreSQL store {shown}: {_first_line(exc)} (无法连接 PostgreSQL 数据库)") from None


def _encoded(docs: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[str, str, str, Any]], list[str]]:
    """A batch checked (``StoreError`` for a bad document: nothing is stored), each id once, and the
    JSON text of each document."""
    rows = encoded_events(docs)
    return rows, [row[3] for row in rows]  # type: ignore[misc]


def _batch_json(rows: list[tuple[str, str, str, Any]], texts: list[str]) -> str:
    """A batch as the JSON array ``[[id, kind, UTC time, doc], ...]`` (each doc already JSON text).

    Each id and kind written by the encoder's own function for a text (``_ENCODE_STRING``), without the
    method around it; a batch's few kinds each written once.
    """
    string = _ENCODE_STRING
    kinds: dict[str, str] = {}
    pieces = []
    for (ident, kind, key, _), text in zip(rows, texts):
        quoted = kinds.get(kind)
        if quoted is None:
            quoted = kinds[kind] = string(kind)
        pieces.append(f'[{string(ident)},{quoted},"{key}+00:00",{text}]')
    return "[" + ",".join(pieces) + "]"


#: Made the first statement of a transaction that writes documents (``put_many``, ``merge_parts``): its commit
#: does not wait for the server to flush its log to disk (durable with the next write that waits, or ``close``).
_NO_WAIT = "SET LOCAL synchronous_commit TO off"


#: Writes a document given as its JSON (``_jsonb``), in text format (``%t``: the binary format would
#: copy the bytes of a large one to put a version byte before them).
_PUT = ("INSERT INTO documents VALUES (%s, %s, %t::jsonb) "
        "ON CONFLICT (collection, key) DO UPDATE SET doc = EXCLUDED.doc")


def _jsonb(data: str | bytearray) -> Any:
    """A document's JSON (``document_json``) to send as ``jsonb``: its text, or a large one's UTF-8 as
    these very bytes (psycopg would otherwise encode a text to UTF-8 once more)."""
    if isinstance(data, str):
        return data
    from psycopg.types.json import Jsonb

    return Jsonb(data, dumps=_as_they_are)


def _as_they_are(data: Any) -> Any:
    return data


#: A JSON string as ``to_json`` writes it (Chinese kept readable): what ``json.JSONEncoder(ensure_ascii=False)
#: .encode`` gives a text, from the function it calls for one.
_ENCODE_STRING = json.encoder.encode_basestring


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
