"""The storage contract: an append-only event log plus plugin-owned documents.

Stores see only plain dicts (the codec in ``gridcore.codec`` turns events into
them).  A store is opened from a URL through the ``gridcore_storage_backend``
hook; a plain path means the embedded TinyDB store.  Every backend passes the
same contract tests (``tests/test_store_contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

DEFAULT_STORE = "gridcore-store"


@runtime_checkable
class Store(Protocol):
    """What every storage backend provides.

    Event documents are dicts with at least ``id`` (str), ``kind`` (str) and
    ``time`` (an ISO 8601 string with a zone offset).  The log is append-only:
    nothing is ever updated or deleted.

    **Log positions.**  Every stored event has a position: 1, 2, 3, ... in the
    order events were appended (not their canonical order), dense, never
    reused, the same for every handle and process.  ``position()`` is the
    position of the last one.  ``append(docs, expected=P)`` stores the batch
    only if the position is still ``P`` (the state the writer judged its
    events against), else raises ``StoreConflict``; ``events_after(P)`` reads
    what other writers appended since a reader last looked.  A backend must
    serialise appends so that positions commit in order: a reader that saw
    position ``P`` never later finds an event below ``P`` it had not seen.
    Checkpoints of derived state are keyed by this position.

    Built-in backends: ``tinydb_store`` (a plain path), ``sqlite_store``
    (``sqlite:///path.db``) and ``postgres_store`` (``postgresql://...``); open
    one by URL with ``gridcore.store.url.open_store``.  Besides this protocol
    they provide ``collections() -> list[str]`` (the document collections that
    hold something), which ``gridcore.store.migrate.migrate`` needs from a
    source store, and ``put_many(collection, {key: doc, ...})``, which stores
    several documents of one collection all or none (the engine writes a
    checkpoint's documents with it; without it they are put one by one, in an
    order that a crash between two puts cannot make unsafe); a plugin backend
    should provide both.  ``put_text(collection, key, text)`` stores a document
    given as its JSON text (``gridcore.parts`` writes a part's canonical text
    with it, so the part is not encoded twice), refusing with ``StoreError``
    a text that is not the JSON of an object; without it, parts are ``put``.
    ``put_utf8(collection, key, data)`` (SQLite) is ``put_text`` of the text
    given as its UTF-8, written as those bytes (checked to be UTF-8): a part's
    text is encoded once, for its key and the store alike (``part_bytes``);
    where a store lacks it, ``gridcore.parts`` decodes the bytes for ``put_text``.
    ``get_text(collection, key)`` gives a document's JSON text as the store
    holds it (SQLite), so a part written as its canonical text is checked by
    hashing the text rather than encoding the decoded document again; a store
    that does not hold the text (TinyDB holds documents decoded, PostgreSQL's
    ``jsonb`` a form of its own) does not provide it.
    ``get_many(collection, keys)`` gives the documents of those ``keys``
    that are stored (by key, each as ``get`` gives it; a key not stored is
    left out) in one query, so one round trip to a server (``gridcore.parts``
    reads a restored points account's sealed parts of lots with it; without
    it, they are read one ``get`` each), and SQLite's ``get_texts`` gives
    their texts as ``get_text`` gives one.
    ``find_ids(event_ids)`` gives the set of those ``event_ids`` that are
    stored, as ``set(find(event_ids))`` but without reading their documents
    (the engine asks it which events of a call are stored already, after a
    checkpoint or a rewind; without it, ``find``); ``find_ids_soon(event_ids)``
    (PostgreSQL) asks the same and returns at once, ``result()`` of what it
    returns giving the set, every other call on the store waiting for it first.
    ``orders_after(position)`` gives ``(position, time in UTC, id)`` of the events
    appended after ``position``, in log order, as ``events_after`` but without
    the documents (the engine checks with it that no event stored after a
    checkpoint or a remembered refusal comes before it: a tail of hundreds of
    thousands of events read as documents took seconds and held them all;
    without it, ``events_after``).
    ``merge_parts(collection, {name: {part key: position}})`` merges part
    entries into name documents ``{"parts": {part key: position}}`` (an
    archive's names, ``gridcore.partnames``) atomically, every name of one call
    in one transaction, all or none: an existing document's ``parts`` gains
    those keys (a key it had takes the new position), a missing one is created
    as ``{"parts": {...}}``; names and part keys must be strings and positions
    integers, and a document whose ``parts`` is not an object is refused
    (``StoreError``, nothing written).  Two writers merging into the same
    names at once both keep their additions; without it, a name's document is
    read, then written, and one of two such additions could be lost.  ``append_soon(docs,
    expected=P)`` (PostgreSQL, SQLite) starts an append and returns at once; ``result()`` of what it
    returns is what ``append`` would have returned or raised, and every other call on the store
    first waits for it (docs/storage.md).  ``sole_appender()``, a context manager:
    within it this handle alone appends events, every other handle's (and
    process's) ``append`` waiting until it ends, or (TinyDB, one writer) a
    ``StoreError`` naming the writer that holds the store
    (``gridcore time-order --settle`` replays the whole log under it; without
    it, that command warns that nothing keeps other writers out).  A malformed batch or
    document, a corrupt store and an unreachable server raise
    ``gridcore.errors.StoreError``.  See docs/storage.md.
    """

    url: str

    def append(self, docs: Sequence[Mapping[str, Any]], *, expected: int | None = None) -> int:
        """Append a batch atomically; return how many were new.

        Documents whose ``id`` is already stored (or repeated in the batch) are
        skipped silently: appending the same event twice is a no-op.  Either the
        whole batch is stored or, on any failure (including the process being
        killed), none of it is and the store is as it was.  The k new events
        take positions ``position() + 1`` to ``position() + k`` in batch order.

        With ``expected``, the batch is stored only if ``position()`` is still
        ``expected`` when the write begins; otherwise ``StoreConflict`` is raised
        and nothing is stored.
        """
        ...

    def position(self) -> int:
        """The log position: the position of the last event appended (0 for an empty store)."""
        ...

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(position, doc)`` of every event appended after ``position``, in log order."""
        ...

    def find(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored documents of those of ``event_ids`` that are stored, keyed by id."""
        ...

    def contains(self, event_id: str) -> bool:
        """True if an event with this id is stored."""
        ...

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events in canonical order (time in UTC, then id).

        ``kinds`` keeps only those kinds; ``since`` (inclusive) and ``until``
        (exclusive) bound the time.
        """
        ...

    def count(self) -> int:
        """How many events are stored."""
        ...

    def put(self, collection: str, key: str, doc: Mapping[str, Any]) -> None:
        """Store (or replace) a plugin-owned document, atomically."""
        ...

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``collection``/``key``, or None."""
        ...

    def items(self, collection: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every ``(key, doc)`` of a collection, ordered by key."""
        ...

    def close(self) -> None:
        """Flush and release the store. Closing twice is harmless."""
        ...


class EventBatch(list[dict[str, Any]]):
    """A batch for ``Store.append`` that says which of its documents the engine's codec wrote.

    A list of event documents, as every store takes a batch; beside it,
    ``written`` holds the positions of the documents an event kind's writer
    made (``EventCodec.written``, ``add_written``).  Such a document is one
    level deep and holds only texts of valid Unicode, whole numbers of at most
    64 bits, numbers ``json`` writes without an exponent, flags and None, so
    orjson writes it as ``json`` does by construction: a store encodes it
    without ``gridcore.fastjson.same_json``'s walk (``encoded_events``).
    Every other document (the caller's own, one read from a file, one cattrs
    made) is walked as ever.  Only ``append``, ``add_written`` and ``clear``
    change a batch.
    """

    __slots__ = ("written",)

    def __init__(self) -> None:
        super().__init__()
        #: the positions of the documents the codec's writer made
        self.written: set[int] = set()

    def add_written(self, doc: dict[str, Any]) -> None:
        """Add a document an event kind's writer made (``EventCodec.written``), and nothing else."""
        self.written.add(len(self))
        self.append(doc)

    def clear(self) -> None:
        super().clear()
        self.written.clear()
