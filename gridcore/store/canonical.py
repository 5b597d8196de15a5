"""What every backend shares: checking event documents and their canonical sort key.

The canonical order of the log is (time in UTC, then id).  Every backend sorts
on the same key, a fixed-width UTC text ``YYYY-MM-DDTHH:MM:SS.ffffff``, so plain
string comparison (SQL ``ORDER BY`` with a byte-wise collation, or Python's
``sorted``) gives the same order everywhere.  Ids compare by code point, which
is the byte order of their UTF-8 text.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import fastjson
from ..errors import StoreError
from ..fastjson import same_json
from . import EventBatch


def utc_key(moment: datetime) -> str:
    """The fixed-width UTC text of an aware datetime, which sorts like the time itself."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"store queries need a time with a zone, got {moment.isoformat()}")
    return _utc_text(moment)


def _utc_text(moment: datetime) -> str:
    """``moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")`` of an aware time.

    Written from the fields, two digits at a time from a list: ``replace`` and
    ``isoformat`` were half the cost of a new time text (23,700 instructions
    a text, 12,300 now).
    """
    utc = moment.astimezone(UTC)
    two = _TWO_DIGITS
    return (f"{utc.year:04d}-{two[utc.month]}-{two[utc.day]}T{two[utc.hour]}:{two[utc.minute]}:{two[utc.second]}"
            f".{utc.microsecond:06d}")


#: ``f"{n:02d}"`` of 0 to 99
_TWO_DIGITS = [f"{n:02d}" for n in range(100)]


def checked_event(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(id, kind, utc_key)`` of an event document, or ``StoreError`` saying what is wrong."""
    if type(doc) is not dict and not isinstance(doc, Mapping):  # (a dict, most often: no ABC asked)
        raise StoreError(f"an event document must be a mapping, got {type(doc).__name__}")
    ident = doc.get("id")
    kind = doc.get("kind")
    time = doc.get("time")
    if not isinstance(ident, str) or not ident:
        raise StoreError(f"event document without a string id: {_short(doc)}")
    if not isinstance(kind, str) or not kind:
        raise StoreError(f"event {ident}: document without a string kind")
    if not isinstance(time, str):
        raise StoreError(f"event {ident}: document without an ISO 8601 time string")
    key = _KEYS.get(time)
    if key is None:
        key = _key_by_hour(time)
        if key is None:
            try:
                moment = datetime.fromisoformat(time)
            except ValueError:
                raise StoreError(f"event {ident}: time {time!r} is not ISO 8601") from None
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise StoreError(f"event {ident}: time {time!r} has no zone offset")
            key = _utc_text(moment)
        if len(_KEYS) >= _MOST_KEYS:
            _KEYS.clear()
        _KEYS[time] = key
    return ident, kind, key


#: The ``utc_key`` of the time texts checked most recently (``checked_event``), by text: events come in
#: runs at one minute, and a text always has the same key.  Emptied when full.
_KEYS: dict[str, str] = {}
_MOST_KEYS = 4096


def _key_by_hour(time: str) -> str | None:
    """The ``utc_key`` of a time text ``YYYY-MM-DDTHH:MM:SS+HH:00`` (an offset of whole hours, as every
    simulated and most real events have) from that of its hour; None for any other text.

    Under such an offset the minutes and seconds in UTC are those written, so the key is the hour's in
    UTC (``_HOURS``: read once an hour, as ``checked_event`` reads a text) and the minutes and seconds as
    written, once they are seen to be what ``datetime.fromisoformat`` takes (00 to 59): the same key,
    without a time made and moved to UTC for each new minute (a fixed population's events fall on
    a new minute nearly three times in four).
    """
    if len(time) != 25:
        return None
    minute = time[13:19]
    if minute not in _MINUTES:
        return None
    hour = time[:13] + time[19:]
    start = _HOURS.get(hour)  # (a text found here was read with an offset of whole hours)
    if start is None:
        if time[22:] != ":00" or time[19] not in "+-":
            return None
        try:
            moment = datetime.fromisoformat(time[:13] + ":00:00" + time[19:])
        except ValueError:
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None
        if len(_HOURS) >= _MOST_KEYS:
            _HOURS.clear()
        start = _HOURS[hour] = _utc_text(moment)[:13]
    return start + minute + ".000000"


#: The UTC hour (``YYYY-MM-DDTHH``) of a local hour and offset (``YYYY-MM-DDTHH+HH:00``) (``_key_by_hour``).
_HOURS: dict[str, str] = {}
#: ``:00:00`` to ``:59:59``: minutes and seconds as ``datetime.fromisoformat`` takes them (``_key_by_hour``).
_MINUTES = frozenset(f":{n // 60:02d}:{n % 60:02d}" for n in range(3600))


def doc_key(doc: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical sort key ``(utc_key, id)`` of a stored (already checked) document."""
    moment = datetime.fromisoformat(doc["time"])
    return utc_key(moment), doc["id"]


#: What ``to_json`` writes with (``json.dumps`` with these options builds an encoder per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _make_encode() -> Callable[[Any], str] | None:
    """``_ENCODER.encode`` for a dict, without what it makes again for every call; None without the C encoder.

    ``encode`` builds a C encoder of its options for each call (and a dict of the
    containers it is in, to find a cycle), a third of the time it takes for an
    event's document.  This one is built once, without that dict, so it keeps no
    state between calls (threads may share it): a cycle then ends in
    ``RecursionError``, and whatever it raises, ``to_json`` encodes the document
    again with ``_ENCODER`` for its own error (``Circular reference detected``).
    The text is the same: ``encode`` calls the same C encoder, with these options.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None or _ENCODER.indent is not None:
        return None
    c_encode = make(None, _ENCODER.default, json.encoder.encode_basestring, None, _ENCODER.key_separator,
                    _ENCODER.item_separator, _ENCODER.sort_keys, _ENCODER.skipkeys, _ENCODER.allow_nan)
    join = "".join

    def encode(doc: Any) -> str:
        return join(c_encode(doc, 0))

    return encode


_ENCODE = _make_encode()


def to_json(doc: Mapping[str, Any], what: str) -> str:
    """Compact JSON text of a document (Chinese kept readable); ``StoreError`` if not JSON."""
    try:
        if _ENCODE is not None and type(doc) is dict:
            try:
                text = _ENCODE(doc)
            except Exception:  # noqa: BLE001 - _ENCODER says what is wrong, as it always did
                text = _ENCODER.encode(doc)
        else:
            text = _ENCODER.encode(doc)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from None
    return _unicode(text, what)


def json_bytes(doc: Mapping[str, Any], what: str) -> bytearray:
    """The UTF-8 bytes of ``to_json(doc, what)`` (the same bytes), made a piece at a time.

    For a large document (a checkpoint's state).  ``to_json`` holds every piece
    the encoder makes (in 3.11, a few text pieces as long as the whole text), then
    the text they join into, then (to check it is valid Unicode) its UTF-8 again;
    a store that binds the text holds yet another UTF-8 copy.  Here the document
    is encoded in pieces (``_pieces``), each turned into UTF-8 as it comes and
    let go: the bytes are what is left (a 26 MiB state: 80 MiB at most, against
    160 with ``to_json``).  ``StoreError`` as ``to_json`` gives it (a document
    both not JSON and not valid Unicode is refused as not JSON, as there).
    """
    out = bytearray()
    unicode = True
    try:
        # (a small document, most of them, is encoded at once: its pieces would cost more than they save)
        for piece in _pieces(doc, 0) if _large(doc) else (_ENCODER.encode(doc),):
            try:
                out += piece.encode("utf-8")
            except UnicodeEncodeError:
                unicode = False  # (said once the rest is known to be JSON, as ``to_json`` does)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from None
    if not unicode:
        raise StoreError(f"{what} cannot be stored: it holds text that is not valid Unicode (a lone surrogate)")
    return out


#: ``_pieces`` goes into the items of an object or array this many levels deep (a checkpoint's document,
#: its state, the state's collections), and encodes those deeper in runs of ``_RUN`` items; a document
#: with no more than ``_LARGE`` items two levels down (``_large``) is encoded at once.
_SPLIT_DEPTH = 2
_RUN = 64
_LARGE = 2048


def _large(doc: Any) -> bool:
    """True if the objects and arrays of ``doc`` and of its items hold more than ``_LARGE`` items (a
    checkpoint's state: its collections; cheap to ask of the many small documents a checkpoint writes)."""
    if type(doc) is not dict:
        return False
    count = len(doc)
    for value in doc.values():
        kind = type(value)
        if kind is dict:
            value = value.values()
        elif kind is not list and kind is not tuple:
            continue
        count += len(value)
        if count > _LARGE:
            return True
        for item in value:
            kind = type(item)
            if kind is dict or kind is list or kind is tuple:
                count += len(item)
    return count > _LARGE


def _pieces(value: Any, depth: int) -> Iterator[str]:
    """The JSON text ``_ENCODER`` gives ``value``, in pieces that join into it.

    An object or array (exactly ``dict``, ``list`` or ``tuple``, with string
    keys: what the encoder writes so) less than ``_SPLIT_DEPTH`` levels deep
    is written item by item; one deeper, in runs of ``_RUN`` items, each run
    encoded at once as an object or array of its own without its brackets
    (the separators are the encoder's, so the text is the same).  Anything
    else is encoded whole.  A cycle is still found by the encoder: every
    cycle reaches a part that is encoded whole.
    """
    kind = type(value)
    if kind is dict and value and all(type(key) is str for key in value):
        if depth < _SPLIT_DEPTH:
            comma = "{"
            for key, item in value.items():
                yield comma + _ENCODER.encode(key) + ":"
                yield from _pieces(item, depth + 1)
                comma = ","
            yield "}"
            return
        if len(value) > _RUN:
            items = iter(value.items())
            comma = "{"
            while run := dict(islice(items, _RUN)):
                yield comma + _ENCODER.encode(run)[1:-1]
                comma = ","
            yield "}"
            return
    elif (kind is list or kind is tuple) and value:
        if depth < _SPLIT_DEPTH:
            comma = "["
            for item in value:
                yield comma
                yield from _pieces(item, depth + 1)
                comma = ","
            yield "]"
            return
        if len(value) > _RUN:
            for start in range(0, len(value), _RUN):
                yield ("[" if start == 0 else ",") + _ENCODER.encode(value[start:start + _RUN])[1:-1]
            yield "]"
            return
    yield _ENCODER.encode(value)


def checked_text(text: Any, what: str) -> str:
    """The JSON text a caller gives ``put_text``, checked to be text of valid Unicode (``StoreError``
    if not); that it is the JSON of an object is checked by the backend as it stores it."""
    if not isinstance(text, str):
        raise StoreError(f"{what} must be given as JSON text, got {type(text).__name__}")
    return _unicode(text, what)


def document_json(doc: Mapping[str, Any], what: str) -> str | bytearray:
    """What a store writes for a document: ``to_json``'s text, or for a large one (a checkpoint's state:
    ``_large``) the UTF-8 of that same text, made a piece at a time (``json_bytes``).  ``StoreError`` as
    ``to_json`` gives it.

    A document ``same_json`` vouches for (a checkpoint's pages, a plugin's parts, a remembered refusal: most
    of them) is written by orjson: the same text (its UTF-8 as a ``bytearray`` unless it is ASCII), in about
    two thirds of the time ``json``'s encoder takes for the checkpoints of the district's first 60 days
    (docs/benchmarks.md, District, 2026-12-07 16:05).
    """
    if _large(doc):
        return json_bytes(doc, what)
    raw = same_json(doc) if type(doc) is dict else None
    if raw is not None:
        return raw.decode() if raw.isascii() else bytearray(raw)
    return to_json(doc, what)


def checked_utf8(text: Any, what: str) -> str | bytes:
    """``checked_text``, as a store that writes UTF-8 is best given it: ``text`` itself if it is ASCII
    (its own UTF-8), else its UTF-8 bytes, made once (which checks it is valid Unicode)."""
    if not isinstance(text, str) or text.isascii():
        return checked_text(text, what)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{what} cannot be stored: it holds text that is not valid Unicode (a lone surrogate)") from None


def _unicode(text: str, what: str) -> str:
    """``text``, if it is valid Unicode (it can be written as UTF-8), else ``StoreError``."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise StoreError(f"{what} cannot be stored: it holds text that is not valid Unicode (a lone surrogate)") from None
    return text


def not_an_object(what: str) -> StoreError:
    """The refusal of a text given to ``put_text`` that is not the JSON of an object."""
    return StoreError(f"{what} cannot be stored: its text is not the JSON of an object (a mapping); nothing was written")


def from_json(text: str) -> Any:
    """A stored document's JSON text, parsed; ``StoreError`` if the store holds something else."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"a stored document is damaged (not valid JSON: {exc}) (数据库中的一份文档已损坏)") from None


def unique_new(
    docs: Any, known: Any
) -> list[tuple[str, str, str, Mapping[str, Any]]]:
    """Check a batch and keep the first of each id not in ``known`` (anything with ``in``).

    Returns ``(id, kind, utc_key, doc)`` tuples in batch order.  The whole batch
    is checked before anything is returned, so a bad document refuses the batch.
    """
    out = []
    seen: set[str] = set()
    for doc in docs:
        ident, kind, key = checked_event(doc)
        if ident in seen or ident in known:
            continue
        seen.add(ident)
        out.append((ident, kind, key, doc))
    return out


def encoded_events(docs: Any, *, utf8: bool = False) -> list[tuple[str, str, str, str | bytes | bytearray]]:
    """``unique_new(docs, ())``, each document given as its ``to_json`` text: ``(id, kind, utc_key, text)``;
    with ``utf8``, a text of other than ASCII as its UTF-8 (made once, which checks it is valid Unicode:
    what a store that writes UTF-8 is best given, see ``checked_utf8``), orjson's as a ``bytearray``
    (Python's ``sqlite3`` binds one as it is, where it first asks its adapters about ``bytes``: about
    450 instructions a document).

    What a store appends.  The same rows and the same errors: every document
    is checked before any is refused for its JSON (the first in the batch that
    cannot be written), as ``to_json`` refuses it.  A plain document (a dict
    whose id, kind and time are texts, the time one checked lately) is checked
    and encoded here without a call for each step; one the codec's writer made
    (``docs.written`` of an ``EventBatch``) by orjson without ``same_json``'s walk.
    """
    out: list[tuple[str, str, str, str | bytes | bytearray]] = []
    seen: set[str] = set()
    keys = _KEYS
    encode = _ENCODE
    same = same_json
    dumps = fastjson.dumps_written()
    written = docs.written if type(docs) is EventBatch and dumps is not None else _NONE_WRITTEN
    failed: StoreError | None = None  # the first document that is not JSON, raised once all are checked
    for at, doc in enumerate(docs):
        if type(doc) is dict:
            ident = doc.get("id")
            kind = doc.get("kind")
            time = doc.get("time")
            if type(ident) is not str or not ident or type(kind) is not str or not kind or type(time) is not str:
                ident, kind, key = checked_event(doc)
            else:
                found = keys.get(time)
                if found is None:
                    # (``checked_event`` written out for a text of a new minute: its key from its hour's)
                    found = _key_by_hour(time)
                    if found is None:
                        ident, kind, found = checked_event(doc)
                    else:
                        if len(keys) >= _MOST_KEYS:
                            keys.clear()
                        keys[time] = found
                key = found
        else:
            ident, kind, key = checked_event(doc)
        if ident in seen:
            continue
        seen.add(ident)
        if failed is not None:
            continue
        # (orjson's bytes where they are json's: ``gridcore.fastjson``; else None)
        if at in written:
            try:
                raw = dumps(doc)  # type: ignore[misc]
            except TypeError:  # pragma: no cover - (never, for what a writer makes: walked as any other)
                raw = same(doc)
        else:
            raw = same(doc)
        if raw is not None:
            out.append((ident, kind, key, raw.decode() if not utf8 or raw.isascii() else bytearray(raw)))
            continue
        text: str | None = None
        if encode is not None and type(doc) is dict:
            try:
                text = encode(doc)
            except Exception:  # noqa: BLE001 - to_json says what is wrong
                text = None
        data: str | bytes
        try:
            if text is None:
                data = to_json(doc, f"event {ident}")
                if utf8 and not data.isascii():
                    data = data.encode("utf-8")  # (valid Unicode: to_json checked)
            elif text.isascii():
                data = text
            else:
                data = checked_utf8(text, f"event {ident}") if utf8 else _unicode(text, f"event {ident}")
        except StoreError as exc:
            failed = exc
            continue
        out.append((ident, kind, key, data))
    if failed is not None:
        raise failed
    return out


#: No position of a batch: no document the codec's writer made (``encoded_events``).
_NONE_WRITTEN: frozenset[int] = frozenset()


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and ``Store.url``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _short(doc: Mapping[str, Any]) -> str:
    text = repr(dict(doc))
    return text if len(text) <= 120 else text[:117] + "..."


#: Events read per query when paging through an SQL store.
PAGE = 2000


def keyset_pages(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    where: Sequence[str],
    params: Sequence[Any],
    *,
    mark: str,
    doc_column: str = "doc",
) -> Iterator[dict[str, Any]]:
    """Events of an SQL store in canonical order, a page at a time, keyed by ``(time_utc, id)``.

    ``fetch(query, args)`` runs a query and returns its rows; ``mark`` is the
    driver's placeholder (``?`` or ``%s``).  Paging by key keeps no cursor
    open while the caller works, and events appended meanwhile that sort
    after the current position are still seen.
    """
    for row in keyset_rows(fetch, where, params, mark=mark, doc_column=doc_column):
        yield from_json(row[2])


def keyset_rows(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    where: Sequence[str],
    params: Sequence[Any],
    *,
    mark: str,
    doc_column: str = "doc",
) -> Iterator[Sequence[Any]]:
    """The rows ``(time_utc, id, document text)`` ``keyset_pages`` reads, not decoded."""
    after: tuple[Any, str] | None = None
    while True:
        clauses = list(where)
        args = list(params)
        if after is not None:
            clauses.append(f"(time_utc, id) > ({mark}, {mark})")
            args.extend(after)
        query = f"SELECT time_utc, id, {doc_column} FROM events"
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += f" ORDER BY time_utc, id LIMIT {PAGE}"
        rows = fetch(query, args)
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1][0], rows[-1][1])


def kinds_merged(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    where: Sequence[str],
    params: Sequence[Any],
    kinds: Sequence[str],
    *,
    mark: str,
    doc_column: str = "doc",
) -> Iterator[dict[str, Any]]:
    """``keyset_pages`` of the events of any of several ``kinds``: each kind read in canonical order on its own
    (its index gives that order) and the kinds merged here.

    One query with ``kind IN (...)`` and ``ORDER BY`` reads every matching
    event after the page's start, documents and all, into a sort for each page
    of 2,000 (SQLite's plan: the kind index, then a temporary B-tree for the
    order), so reading a kind's events over a whole store cost the square of
    their number: on a 1,150,000-event store, 2.4 s for 190,000 incident events.
    """
    streams = [keyset_rows(fetch, [*where, f"kind = {mark}"], [*params, kind], mark=mark, doc_column=doc_column)
               for kind in dict.fromkeys(kinds)]
    for row in heapq.merge(*streams, key=_row_order):
        yield from_json(row[2])


def _row_order(row: Sequence[Any]) -> tuple[Any, str]:
    return row[0], row[1]


def position_pages(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    position: int,
    *,
    mark: str,
    doc_column: str = "doc",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Events of an SQL store appended after ``position``, in log order, a page at a time."""
    after = position
    while True:
        rows = fetch(
            f"SELECT seq, {doc_column} FROM events WHERE seq > {mark} ORDER BY seq LIMIT {PAGE}", [after]
        )
        for row in rows:
            yield int(row[0]), from_json(row[1])
        if len(rows) < PAGE:
            return
        after = int(rows[-1][0])


def position_orders(
    fetch: Callable[[str, list[Any]], Sequence[Sequence[Any]]],
    position: int,
    *,
    mark: str,
    time_of: Callable[[Any], datetime],
) -> Iterator[tuple[int, datetime, str]]:
    """``(position, time, id)`` of the events of an SQL store appended after ``position``, in log order, a page
    at a time, from the indexed columns (no document is read); ``time_of`` makes the column's value a time."""
    after = position
    while True:
        rows = fetch(f"SELECT seq, time_utc, id FROM events WHERE seq > {mark} ORDER BY seq LIMIT {PAGE}", [after])
        for row in rows:
            yield int(row[0]), time_of(row[1]), str(row[2])
        if len(rows) < PAGE:
            return
        after = int(rows[-1][0])


def checked_additions(collection: str, additions: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """The part entries ``merge_parts`` is given (name -> {part key: position}), checked: names and
    part keys strings, positions integers; ``StoreError`` saying what is wrong otherwise (nothing is
    written then)."""
    if not isinstance(collection, str) or not collection:
        raise StoreError("a document collection must be a non-empty string")
    if not isinstance(additions, Mapping):
        raise StoreError(f"merge_parts takes a mapping of names to parts, got {type(additions).__name__}")
    checked: dict[str, dict[str, int]] = {}
    for name, parts in additions.items():
        if not isinstance(name, str):
            raise StoreError(f"a document key must be a string, got {type(name).__name__}")
        if not isinstance(parts, Mapping):
            raise StoreError(f"the parts merged into {collection}/{name} must be a mapping, got {type(parts).__name__}")
        for key, position in parts.items():
            if not isinstance(key, str) or isinstance(position, bool) or not isinstance(position, int):
                raise StoreError(f"the parts merged into {collection}/{name} must map part keys (strings) to "
                                 f"positions (integers), got {key!r}: {position!r}")
        checked[name] = dict(parts)
    return checked


def new_parts_text(parts: Mapping[str, int]) -> str | None:
    """``to_json(merged_parts(collection, name, None, parts), ...)`` (a name's first document), written out where
    every part key is ASCII letters and digits (a part's key: a SHA-256 in hex), so written as it is, and every
    position a whole number of type ``int``; None for any other (the caller encodes the document as ever)."""
    pieces = []
    for key, position in parts.items():
        if type(position) is not int or type(key) is not str or not (key.isascii() and key.isalnum()):
            return None
        pieces.append(f'"{key}":{position}')
    return '{"parts":{' + ",".join(pieces) + "}}"


def merged_parts(collection: str, name: str, before: Mapping[str, Any] | None,
                 parts: Mapping[str, int]) -> dict[str, Any]:
    """A name document after ``merge_parts``: ``before`` (None: there was none) whose ``parts`` gained
    ``parts`` (a key it had takes the new position); ``StoreError`` if ``before`` has ``parts`` that is
    not an object."""
    if before is None:
        return {"parts": dict(parts)}
    had = before.get("parts", {})
    if not isinstance(had, Mapping):
        raise StoreError(f"cannot merge parts into {collection}/{name}: its 'parts' is not an object; nothing was written")
    return {**before, "parts": {**had, **parts}}
