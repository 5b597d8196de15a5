"""Parts of a plugin's state kept in the store under the hash of their content (for checkpoints).

A plugin's checkpoint document is written whole at every checkpoint, so what
grows with the log (the points ledger's history, the closed incidents) goes to
the store in *parts* that never change, each under the SHA-256 of its canonical
JSON (``part_key``), and the document names the parts by their keys.  Reading
one back (``read_part``) checks it against its key, so a part that is missing
or was altered is a clear ``StoreError`` rather than a wrong answer, and
``PartCache`` keeps the last parts read within a budget.  How a part is cut and
what it holds is the plugin's own (docs/plugins.md, "Checkpoints").
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any, Generic, TypeVar

from .errors import StoreError
from .fastjson import same_json, typed_json, written_loads

T = TypeVar("T", bound=Sized)
E = TypeVar("E")

#: Reads a document from the store by its key (None if there is none):
#: ``lambda key: engine.store.get(collection, key)``.
Loader = Callable[[str], "dict[str, Any] | None"]
#: Reads a part from the store by its key: the JSON text the store holds where it gives it, else the
#: document (None if there is none): ``lambda key: stored_part(engine.store, collection, key)``.
PartLoader = Callable[[str], "dict[str, Any] | str | None"]


#: Reads documents from the store by their keys, all at once: those stored, by key:
#: ``lambda keys: stored_documents(engine.store, collection, keys)``.
ManyLoader = Callable[[Sequence[str]], "Mapping[str, dict[str, Any]]"]

#: Reads parts from the store by their keys, all at once: those stored, by key, each as a ``PartLoader``
#: gives one: ``lambda keys: stored_parts(engine.store, collection, keys)``.
PartsLoader = Callable[[Sequence[str]], "Mapping[str, dict[str, Any] | str]"]


#: Writes a sealed part into its collection: its key, its canonical text's UTF-8 (``part_bytes``: what the
#: key is the SHA-256 of, written as it is where the store can) or that text (``part_text``), and the
#: document itself, or a function giving it (called only by a writer that needs the document: a part
#: kept as its text is decoded only then) (``part_writer``).
Writer = Callable[[str, "str | bytes", "Mapping[str, Any] | Callable[[], Mapping[str, Any]]"], None]

#: What ``part_bytes`` writes with where orjson does not (``json.dumps`` with these options builds an
#: encoder per call).  Without the check for circular references (a set of the ids of the lists and dicts
#: being written, one add and one removal each): a part is a tree built from records, and the text is the
#: same either way.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                              check_circular=False)


class PartBytes(bytes):
    """The bytes ``part_bytes`` made: the UTF-8 of the JSON of an object, as the encoder wrote them.

    A store may write them as they are without checking either (SQLite's ``put_utf8``: no decoding of
    them in Python nor ``json_valid`` in SQLite, about 5.6 million instructions for a sealed part of the
    points history, docs/benchmarks.md).  Made only here: any other bytes are checked as before.
    """

    __slots__ = ()


def part_bytes(doc: Mapping[str, Any], *, typed: bool = False) -> bytes:
    """A part's canonical JSON text in UTF-8: sorted keys, no spaces, text as it is; made once, it is what
    the part's key is the SHA-256 of (``bytes_key``) and what the store is given to write (``part_writer``),
    as ``PartBytes`` for a ``dict`` (which a store need not check).

    Made by orjson where its bytes are ``json``'s (``gridcore.fastjson``: a part of the points history in a
    fifth of the instructions): found by walking the document (``same_json``), or, with ``typed``, vouched
    for by the types of what the caller built it from (``typed_json``: no walk); else by ``json``.
    """
    if type(doc) is dict:  # (a dict's JSON is an object's, and ``encode`` refuses a lone surrogate)
        raw = typed_json(doc, sort_keys=True) if typed else same_json(doc, sort_keys=True)
        return PartBytes(raw if raw is not None else _CANONICAL.encode(doc).encode())
    return _CANONICAL.encode(doc).encode()


def part_text(doc: Mapping[str, Any]) -> str:
    """A part's canonical JSON text (``part_bytes`` as a text: a part kept or compared as its text)."""
    return part_bytes(doc).decode()


def text_key(text: str) -> str:
    """The key of a part whose canonical text is ``text``: its SHA-256 (hex)."""
    return bytes_key(text.encode())


def bytes_key(raw: bytes) -> str:
    """The key of a part whose canonical text in UTF-8 is ``raw`` (``part_bytes``): its SHA-256 (hex)."""
    return hashlib.sha256(raw).hexdigest()


def part_key(doc: Mapping[str, Any]) -> str:
    """The key of a part: the SHA-256 (hex) of its canonical JSON (sorted keys, no spaces, UTF-8)."""
    return bytes_key(part_bytes(doc))


def read_entries(loader: PartLoader | None, cache: PartCache[list[E]], key: str, *, collection: str, what: str,
                 format: int | str) -> list[E]:
    """The ``entries`` of the part stored under ``key`` (a document ``{"format": format, "entries": [...]}``).

    From ``cache`` if it holds them, else read (``read_part``), checked to be
    of ``format`` (``StoreError`` saying to rebuild if not) and kept in ``cache``.
    """
    found = cache.get(key)
    if found is not None:
        return found
    return _cached_entries(read_part(loader, key, collection=collection, what=what), cache, key,
                           collection=collection, what=what, format=format)


def read_many_entries(loader: PartsLoader | None, cache: PartCache[list[E]], keys: Sequence[str], *,
                      collection: str, what: str, format: int | str) -> None:
    """The parts stored under ``keys`` read at once (``read_parts``) and their ``entries`` kept in
    ``cache``, each checked as ``read_entries`` checks one (a part ``cache`` holds is not read again)."""
    wanted = [key for key in dict.fromkeys(keys) if cache.get(key) is None]
    found = read_parts(loader, wanted, collection=collection, what=what)
    for key in wanted:
        _cached_entries(found[key], cache, key, collection=collection, what=what, format=format)


def _cached_entries(doc: dict[str, Any], cache: PartCache[list[E]], key: str, *, collection: str, what: str,
                    format: int | str) -> list[E]:
    if doc.get("format") != format:
        raise StoreError(f"the {what} part {key} in the store's {collection!r} collection is of format "
                         f"{doc.get('format')!r}, expected {format}; rebuild the state (gridcore rebuild)")
    entries: list[E] = list(doc["entries"])
    cache.put(key, entries)
    return entries


def put_all(store: Any, collection: str, docs: Mapping[str, Mapping[str, Any]]) -> None:
    """Store ``docs`` (key -> document) in ``collection``: in one ``put_many`` (all or none) where the
    store has it, else one ``put`` at a time."""
    put_many = getattr(store, "put_many", None)
    if put_many is not None:
        put_many(collection, docs)
        return
    for key, doc in docs.items():
        store.put(collection, key, doc)


def part_writer(store: Any, collection: str) -> Writer:
    """A writer of sealed parts into ``collection``: the store writes a part's canonical text as it is
    given (``put_text``) where it can, so the part is not encoded again, and a text given as its UTF-8
    (``part_bytes``) as those bytes where the store takes them (``put_utf8``: SQLite), else decoded for
    ``put_text``; a store with neither (a plugin's backend) is given the document (``put``; decoded from
    the text first if it is given as a function)."""
    put_text = getattr(store, "put_text", None)
    put_utf8 = getattr(store, "put_utf8", None)

    def write_part(key: str, text: str | bytes, doc: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        if isinstance(text, bytes) and put_utf8 is not None:
            put_utf8(collection, key, text)
        elif put_text is not None:
            put_text(collection, key, text.decode() if isinstance(text, bytes) else text)
        else:
            store.put(collection, key, doc() if callable(doc) else doc)

    return write_part


class NamesWriter:
    """A writer of an archive's name documents into the collection ``names`` (``PartNames.stored``):
    called with whole documents it stores them all at once (``put_all``); ``merge``, where the store
    has ``merge_parts``, merges part entries (name -> {part key: position}) into the documents
    atomically, with no read first (None for a store without it)."""

    def __init__(self, store: Any, names: str) -> None:
        self.store = store
        self.names = names
        merge_parts = getattr(store, "merge_parts", None)
        self.merge: Callable[[dict[str, dict[str, int]]], None] | None = None
        if merge_parts is not None:
            def merge(additions: dict[str, dict[str, int]]) -> None:
                merge_parts(names, additions)
            self.merge = merge

    def __call__(self, docs: dict[str, dict[str, Any]]) -> None:
        put_all(self.store, self.names, docs)


def part_writers(store: Any, collection: str, names: str) -> tuple[Writer, NamesWriter]:
    """What an archive's ``save`` is given to store its sealed parts: a writer of one part into
    ``collection`` (``part_writer``), and a writer of its name documents into ``names`` (all at once,
    ``put_all``, or merged atomically where the store has ``merge_parts``: ``NamesWriter``)."""
    return part_writer(store, collection), NamesWriter(store, names)


def stored_part(store: Any, collection: str, key: str) -> dict[str, Any] | str | None:
    """The part stored under ``key`` in ``collection`` as the store holds it: its JSON text where the
    store gives it (``get_text``: SQLite), else the document (``get``); None if there is none."""
    get_text = getattr(store, "get_text", None)
    if get_text is not None:
        found: str | None = get_text(collection, key)
        return found
    return store.get(collection, key)  # type: ignore[no-any-return]


def stored_parts(store: Any, collection: str, keys: Sequence[str]) -> dict[str, dict[str, Any] | str]:
    """The parts stored under those of ``keys`` that are stored in ``collection``, by key, as the store
    holds them (``stored_part``), read at once: their JSON texts where the store gives them
    (``get_texts``: SQLite), else the documents (``get_many``: one query, so one round trip on
    PostgreSQL); a store with neither (a plugin's backend) is asked for one part at a time."""
    get_texts = getattr(store, "get_texts", None)
    if get_texts is not None:
        texts: dict[str, dict[str, Any] | str] = get_texts(collection, keys)
        return texts
    get_many = getattr(store, "get_many", None)
    if get_many is not None:
        docs: dict[str, dict[str, Any] | str] = get_many(collection, keys)
        return docs
    found: dict[str, dict[str, Any] | str] = {}
    for key in dict.fromkeys(keys):
        part = stored_part(store, collection, key)
        if part is not None:
            found[key] = part
    return found


def stored_documents(store: Any, collection: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The documents stored under those of ``keys`` that are stored in ``collection``, by key, read at
    once (``get_many``: one query, so one round trip on PostgreSQL); a store without it (a plugin's
    backend) is asked for one document at a time."""
    get_many = getattr(store, "get_many", None)
    if get_many is not None:
        docs: dict[str, dict[str, Any]] = get_many(collection, keys)
        return docs
    found: dict[str, dict[str, Any]] = {}
    for key in dict.fromkeys(keys):
        doc = store.get(collection, key)
        if doc is not None:
            found[key] = doc
    return found


def read_part(loader: PartLoader | None, key: str, *, collection: str, what: str) -> dict[str, Any]:
    """The part stored under ``key`` in ``collection``, checked against its key.

    ``what`` names the part in messages (``"closed incidents'"``).  ``StoreError``
    when it is missing (or there is no ``loader``: nothing was stored) or its
    content does not hash to its key; both say to rebuild the state.  Given
    the stored text (``stored_part``), a part written as its canonical text
    is checked by hashing that text, and only decoded; one written otherwise
    (before parts were written so, or through a store without ``put_text``)
    is decoded and encoded again to be checked.
    """
    return checked_part(loader(key) if loader is not None else None, key, collection=collection, what=what)


def read_parts(loader: PartsLoader | None, keys: Sequence[str], *, collection: str, what: str
               ) -> dict[str, dict[str, Any]]:
    """The parts stored under ``keys`` in ``collection``, read at once (``stored_parts``), by key, each
    checked against its key as ``read_part`` checks one (``StoreError``: one missing or altered)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    found = loader(wanted) if loader is not None else {}
    return {key: checked_part(found.get(key), key, collection=collection, what=what) for key in wanted}


def checked_part(found: dict[str, Any] | str | None, key: str, *, collection: str, what: str) -> dict[str, Any]:
    """A part as the store gave it (``stored_part``; None: missing), checked against its key and decoded
    (``read_part``)."""
    if found is None:
        raise StoreError(f"the {what} part {key} named by the checkpoint is missing from the store's "
                         f"{collection!r} collection; rebuild the state (gridcore rebuild)")
    if isinstance(found, str):
        raw = found.encode()
        exact = bytes_key(raw) == key
        try:
            # (a text that is its key's is one this code wrote: read by orjson where it reads the same)
            doc = written_loads(raw) if exact else json.loads(found)
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict) or not exact and not _matches(doc, key):
            raise _altered(what, key, collection)
        return doc
    if not _matches(found, key):
        raise _altered(what, key, collection)
    return found


def _matches(doc: Mapping[str, Any], key: str) -> bool:
    try:
        return part_key(doc) == key
    except ValueError:  # (NaN or infinity: no canonical JSON)
        return False


def _altered(what: str, key: str, collection: str) -> StoreError:
    return StoreError(f"the {what} part {key} in the store's {collection!r} collection does not match "
                      "its key: it was altered; rebuild the state (gridcore rebuild)")


class PartCache(Generic[T]):
    """The parts read last, by key, within ``budget`` (counted by ``len`` of each part's items, or
    1 per part with ``by_items=False``); the least recently read go first, the newest always stays."""

    def __init__(self, budget: int, *, by_items: bool = True) -> None:
        self.budget = budget
        self.by_items = by_items
        self._parts: OrderedDict[str, T] = OrderedDict()
        self._held = 0

    def get(self, key: str) -> T | None:
        """The part kept under ``key`` (now the most recently read), or None."""
        found = self._parts.get(key)
        if found is not None:
            self._parts.move_to_end(key)
        return found

    def put(self, key: str, items: T) -> None:
        """Keep ``items`` under ``key``, dropping the least recently read beyond the budget."""
        if key in self._parts:
            self._held -= self._weight(self._parts.pop(key))
        self._parts[key] = items
        self._held += self._weight(items)
        while self._held > self.budget and len(self._parts) > 1:
            _, dropped = self._parts.popitem(last=False)
            self._held -= self._weight(dropped)

    def clear(self) -> None:
        """Forget every part."""
        self._parts.clear()
        self._held = 0

    def __len__(self) -> int:
        return len(self._parts)

    def _weight(self, items: T) -> int:
        return len(items) if self.by_items else 1
