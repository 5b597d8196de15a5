"""Reading a JSON-lines event file, one line at a time, whatever the lines hold.

``read_events`` never raises for what a line contains: each non-blank line
becomes either a parsed document or a refusal with the line number and a
reason (not UTF-8, longer than the line limit, not JSON, nested too deeply,
a number too long to be a quantity, not an object).  One hostile line never
costs the lines around it.  The limits are those of ``gridcore.limits``
(docs/security.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO, overload

from attrs import Factory

from gridcore.classes import define, frozen
from gridcore.codec import read_time
from gridcore.engine import DECIDED_WITH
from gridcore.limits import MAX_DEPTH, MAX_LINE_BYTES, MAX_NUMBER_CHARS

#: orjson's ``loads``, or None (optional: without it every line takes the standard library's path, with the
#: same results)
_orjson_loads: Callable[[bytes], Any] | None
try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; a copy of gridcore without it still reads
    _orjson_loads = None


@frozen
class Line:
    """A line that parsed as a JSON object: ``doc``, from ``label`` (``file:line``)."""

    label: str
    doc: dict[str, Any]


@frozen
class BadLine:
    """A line refused before it became an event: ``label`` (``file:line``) and why."""

    label: str
    reason: str


class _Refused(Exception):
    """Raised from inside the JSON parser's callbacks to stop at a hostile value."""


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"not accepted: a number with {len(text):,} characters (at most {MAX_NUMBER_CHARS}) (数字位数过多，不被接受)")
    return int(text)


def _float(text: str) -> float:
    # the parser calls this for numbers with a fraction or an exponent only
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"not accepted: a number with {len(text):,} characters (at most {MAX_NUMBER_CHARS}) (数字位数过多，不被接受)")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"not accepted: the number {text} is too large (数字太大，不被接受)")
    return value


def _constant(text: str) -> Any:
    raise _Refused(f"not accepted: {text} is not a number JSON allows (JSON 不允许这种数字，不被接受)")


#: What ``json.loads(line, parse_int=_int, parse_float=_float, parse_constant=_constant)`` would build
#: for every line: built once (a decoder and its scanner per line were a tenth of reading a file).
_DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)


def _may_nest_deeper(line: str) -> bool:
    """False if ``line`` cannot hold JSON nested deeper than ``MAX_DEPTH``: each level opens with
    its own ``{`` or ``[`` (brackets inside strings only add to the count), so a line with at most
    ``MAX_DEPTH`` of them is shallow enough without walking what it parsed to."""
    return line.count("{") + line.count("[") > MAX_DEPTH


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


#: ``_DECODER``'s scanner: what ``decode`` runs on a line after matching the whitespace around it.  It
#: is only run on a line that starts with "{", so what it reads is an object.  (typeshed does not
#: declare ``scan_once``, which ``JSONDecoder.__init__`` sets on every decoder.)
_SCAN: Callable[[str, int], tuple[dict[str, Any], int]] = _DECODER.scan_once  # type: ignore[attr-defined]
#: What may follow an object at the end of a line, for ``_decode`` to take it as it is
_LINE_ENDS = ("", "\n", "\r\n", "\r")


def _decode(line: str) -> Any:
    """``_DECODER.decode(line)`` of a line not nested deeper than the limits allow (``_may_nest_deeper``):
    the same value or the same exception.

    A line that begins with ``{`` and ends just after the object (a line
    ending aside), as event lines do, is scanned as it is: ``decode`` would
    match the whitespace before and after it with a regular expression (two
    matches a line).  Anything else, or anything the scanner cannot take, is
    decoded by ``decode`` itself, for its value or its message.  (A line that
    may nest deeper is left to ``decode``: nested near the interpreter's
    recursion limit, the frames ``decode`` adds could make it fail where
    the scanner alone would not.)
    """
    if line.startswith("{"):
        try:
            doc, end = _SCAN(line, 0)
        except StopIteration:
            return _DECODER.decode(line)  # (its message: the scanner's own says nothing)
        if line[end:] in _LINE_ENDS:
            return doc
    return _DECODER.decode(line)


#: Each byte as ``x`` if a JSON number may hold it, else as a space: a line translated so holds a run of
#: ``_LONG_NUMBER`` where it may hold a number that orjson reads otherwise than the standard library
#: here: a whole number of 19 digits or more (orjson makes one beyond 64 bits a float; ``json`` keeps it
#: whole) or any number longer than ``MAX_NUMBER_CHARS`` (refused here).  A number is written as such
#: a run between other bytes, so a line without one holds none.  (A regular expression for the run
#: took five times as long as the translation and the search.)
_NUMBER_BYTES = bytes(0x78 if chr(byte) in "-+0123456789.eE" else 0x20 for byte in range(256))
_LONG_NUMBER = b"x" * 19
#: The types of the values of an object orjson reads exactly as the standard library here, whatever its bytes
#: (``parse_line``): looking at its values costs half what the bytes' checks cost (callgrind)
_PLAIN_VALUES = frozenset((str, int, bool, type(None)))


def parse_line(raw: bytes, *, first: bool = False) -> dict[str, Any] | str | None:
    """One line: its JSON object, or a reason (str) it is refused, or None if blank.

    An event's line (an object, shallow, no long number) is parsed by orjson when it is installed, from
    its bytes: the same object the standard library's scanner makes, in a third of the time
    (``tests/test_jsonl_fast.py`` holds the two to the same answers).  Whatever orjson refuses or might
    read otherwise (a number of 19 characters or more, a byte-order mark, not UTF-8, a lone surrogate,
    ``NaN``, a number too large for a float, anything but an object) takes the standard library's path,
    which says why a line is refused.
    """
    if _orjson_loads is not None and raw.startswith(b"{") and len(raw) <= MAX_LINE_BYTES:
        try:
            doc = _orjson_loads(raw)
        except ValueError:  # (orjson.JSONDecodeError) read again below, which says what is wrong
            pass
        else:
            # An object of texts, whole numbers, flags and nulls alone (most events' lines) is read alike, its
            # bytes not looked at again: it nests no deeper than itself, and orjson makes a whole number of 64
            # bits or less (at most 20 digits) an int, as ``json`` does, and any other a float.  Anything
            # else is taken only if shallow and without a long number (``_LONG_NUMBER``), as said above.
            if type(doc) is dict and (_PLAIN_VALUES.issuperset(map(type, doc.values())) or (
                    raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH and _LONG_NUMBER not in raw.translate(_NUMBER_BYTES))):
                return doc
    if len(raw) > MAX_LINE_BYTES and len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
        return f"line too long (more than {MAX_LINE_BYTES:,} bytes) (这一行太长)"
    try:
        line = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text (save the file as UTF-8) (不是 UTF-8 文本，请以 UTF-8 编码保存文件)"
    if line.startswith("{") and line.count("{") + line.count("[") <= MAX_DEPTH:
        # An event's line, most often: ``_may_nest_deeper`` and ``_decode`` written out, the same object.  A
        # line the scanner cannot take, or that goes on after its object, is read again below for its reason.
        try:
            doc, end = _SCAN(line, 0)
        except Exception:  # noqa: BLE001, S110 - read again below, which says what is wrong
            pass
        else:
            if line[end:] in _LINE_ENDS:
                return doc  # (an object: the scanner read one from its "{")
    if not line.startswith("{") and not line.strip(" \t\r\n"):  # JSON's own whitespace only: anything else is refused
        return None
    try:
        if line.startswith("\ufeff"):  # as json.loads says it: a byte-order mark is only for the first line
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
        deep = _may_nest_deeper(line)
        doc = _DECODER.decode(line) if deep else _decode(line)
    except _Refused as exc:
        return str(exc)  # "not accepted: ..." in English and Chinese
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno}) (不是有效的 JSON)"
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)"
    if not isinstance(doc, dict):
        return f"an event must be a JSON object {{...}}, got {type(doc).__name__} (事件须为 JSON 对象)"
    if deep and _depth(doc) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)"
    return doc


def bounded_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a binary stream; a line longer than the limit is cut (and refused later).

    Never holds more than one line's limit in memory, however long a line is.
    """
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 2)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES + 1 and not raw.endswith(b"\n"):
            while True:  # skip the rest of the overlong line
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
        yield raw


def read_events(lines: Iterable[bytes], name: str) -> Iterator[Line | BadLine]:
    """Each non-blank line of a JSON-lines file (``lines``: raw bytes), parsed or refused.

    ``name`` labels the lines (``name:number``).  A UTF-8 byte-order mark on
    the first line is allowed (Excel and Notepad write one).
    """
    for number, raw in enumerate(lines, 1):
        label = f"{name}:{number}"
        found = parse_line(raw, first=number == 1)
        if found is None:
            continue
        if isinstance(found, str):
            yield BadLine(label, found)
        else:
            yield Line(label, found)


def _order_key(doc: dict[str, Any]) -> tuple[datetime, str] | None:
    """The canonical order of the event a document would be (time, then id); None if it cannot be one."""
    time, ident = doc.get("time"), doc.get("id")
    if not isinstance(time, str) or not isinstance(ident, str):
        return None
    when = _WHEN.get(time, _UNREAD)
    if when is _UNREAD:
        try:
            # (``datetime.fromisoformat`` holding the codec's one zone object for its offset: times
            # compare about ten times faster when their zones are the same object, and every line's
            # time is compared with the latest so far, ``chunks_of_events``)
            when = read_time(time)
        except ValueError:
            when = None
        else:
            if when.tzinfo is None:
                when = None
        if len(_WHEN) >= _MOST_WHEN:
            _WHEN.clear()
        _WHEN[time] = when
    return None if when is None else (when, ident)


#: The time each time text read most recently is (None: no time with a zone), by text, for ``_order_key``:
#: lines come in runs at one minute.  Emptied when full.
_WHEN: dict[str, datetime | None] = {}
_MOST_WHEN = 4096
#: What ``_WHEN`` never holds (a time without a zone is held as None)
_UNREAD = datetime.min


#: A line opening with its ``id`` and ``time`` as plain strings (no escapes), either first, as exports and
#: ``gridcore simulate`` write them: the names (bytes) and values, for ``_line_key``.
_OPENING = re.compile(rb'\{[ \t\r\n]*"(id|time)"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)"[ \t\r\n]*,'
                      rb'[ \t\r\n]*"(id|time)"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)"')
#: What ``_line_key`` answers for a line it cannot tell without parsing it
_PARSE = object()


def _line_key(raw: bytes) -> Any:
    """The order key (``_order_key``) of the event a raw line holds if the line is JSON, read without
    parsing it, or ``_PARSE`` when that cannot be told so.

    A line without a backslash writes every string as it is, and each ``"``
    opens or closes one, so in a line that is JSON ``"id"`` and ``"time"``
    are strings wherever they occur: if each occurs once, in the opening,
    the object's ``id`` and ``time`` are the ones there.  A line that is
    not JSON (refused wherever it is) may still get a key here.
    """
    if b"\\" in raw or raw.count(b'"id"') != 1 or raw.count(b'"time"') != 1:
        return _PARSE
    if raw.startswith(b'{"id": "'):  # as json.dumps writes them (without the expression, for speed)
        end = raw.find(b'"', 8)
        if not raw.startswith(b'", "time": "', end):
            return _PARSE
        ident, after = raw[8:end], end + 12
        time = raw[after:raw.find(b'"', after)]
    else:
        match = _OPENING.match(raw)
        if match is None or match[1] == match[3]:
            return _PARSE
        ident, time = (match[2], match[4]) if match[1] == b"id" else (match[4], match[2])
    when = _WHEN_BYTES.get(time, _UNREAD)
    try:
        if when is _UNREAD:
            found = _order_key({"time": time.decode("utf-8"), "id": ""})
            when = None if found is None else found[0]
            if len(_WHEN_BYTES) >= _MOST_WHEN:
                _WHEN_BYTES.clear()
            _WHEN_BYTES[time] = when
        return None if when is None else (when, ident.decode("utf-8"))
    except UnicodeDecodeError:
        return _PARSE


#: ``_WHEN`` for ``_line_key``: by the time's bytes
_WHEN_BYTES: dict[bytes, datetime | None] = {}


def surely_in_time_order(lines: Iterable[bytes]) -> bool:
    """True only if ``in_time_order`` is True for these lines; False if it may not be.

    Most lines are not parsed (``_line_key``): the keys counted are those of
    the events plus, maybe, some of lines that will be refused, and if these
    never go back, the events' alone never do.  The other way round, a
    refused line may make a file in order look out of order: False then
    only says to ask ``in_time_order``.
    """
    def keys() -> Iterator[tuple[datetime, str] | None]:
        for number, raw in enumerate(lines, 1):
            key = _line_key(raw)
            if key is _PARSE:
                found = parse_line(raw, first=number == 1)
                key = _order_key(found) if isinstance(found, dict) else None
            yield key

    return _never_back(keys())


def in_time_order(lines: Iterable[bytes], name: str) -> bool:
    """True if the events of a file never go back in canonical order (time, then id).

    Lines that cannot be events are not counted: they are refused wherever they are.
    """
    return _never_back(None if isinstance(found, BadLine) else _order_key(found.doc)
                       for found in read_events(lines, name))


def _never_back(keys: Iterable[tuple[datetime, str] | None]) -> bool:
    """True if the keys (None: a line not counted) never go back."""
    last: tuple[datetime, str] | None = None
    for key in keys:
        if key is None:
            continue
        if last is not None and key < last:
            return False
        last = key
    return True


class Labels(Sequence[str]):
    """The labels (``file:line``) of a chunk's lines, each written when asked for: an ingest asks for those of
    the lines it refuses (``Engine.record_many``'s ``sources``), most often none."""

    __slots__ = ("name", "numbers")

    def __init__(self, name: str, numbers: list[int]) -> None:
        self.name = name
        #: the number in the file of each line
        self.numbers = numbers

    @overload
    def __getitem__(self, at: int) -> str: ...

    @overload
    def __getitem__(self, at: slice) -> list[str]: ...

    def __getitem__(self, at: int | slice) -> str | list[str]:
        if isinstance(at, slice):
            return [f"{self.name}:{number}" for number in self.numbers[at]]
        return f"{self.name}:{self.numbers[at]}"

    def __len__(self) -> int:
        return len(self.numbers)


@define
class Chunk:
    """Consecutive lines of a file: those that parsed, and those refused, each in file order.

    A line that parsed is its document (``docs``) and its number in the file ``name`` (``numbers``): its
    ``Line``, label and all, is made only when asked for (``lines``, ``labels``): an ingest needs the
    label of a refused line only.
    """

    docs: list[dict[str, Any]] = Factory(list)
    numbers: list[int] = Factory(list)
    bad: list[BadLine] = Factory(list)
    name: str = ""

    @property
    def labels(self) -> Labels:
        """The label (``file:line``) of each line that parsed, in the order of ``docs``, made when asked for."""
        return Labels(self.name, self.numbers)

    @property
    def lines(self) -> list[Line]:
        """Each line that parsed, as a ``Line`` (its label and document), made now."""
        name, made = self.name, []
        for number, doc in zip(self.numbers, self.docs):
            line = _new(Line)  # (``Line(label, doc)`` without attrs' ``__init__``: ``_set_label``)
            _set_label(line, f"{name}:{number}")
            _set_doc(line, doc)
            made.append(line)
        return made


def chunks_of_events(lines: Iterable[bytes], name: str, size: int | None) -> Iterator[Chunk]:
    """``read_events`` in chunks of about ``size`` parsed lines (refused lines ride along); None: one chunk.

    A chunk ends only where the time steps on by more than the engine's
    ``DECIDED_WITH``, so no event of the next chunk is due with the last of
    this one.  Holds one chunk in memory at a time; every line of the input
    is in exactly one chunk.

    (``read_events`` and ``_order_key`` written out here: the same lines, labels and keys, without a
    generator, an attrs ``__init__`` and a call for each line; about a fifth of reading a file.  A line's
    ``Line`` and label are made only when asked for: ``Chunk``.)
    """
    chunk = Chunk(name=name)
    parsed, numbers = chunk.docs, chunk.numbers
    last: datetime | None = None  # the latest time of the chunk's events so far
    when_of = _WHEN
    for number, raw in enumerate(lines, 1):
        found = parse_line(raw, first=number == 1)
        if found is None:
            continue
        if isinstance(found, str):
            chunk.bad.append(BadLine(f"{name}:{number}", found))
            continue
        # the time of the event's order key (``_order_key``; None: it has none), read once its text was
        time, ident = found.get("time"), found.get("id")
        if type(time) is not str or type(ident) is not str or (when := when_of.get(time, _UNREAD)) is _UNREAD:
            key = _order_key(found)
            when = None if key is None else key[0]
        if size is not None and len(parsed) >= size and (
                when is None or last is None or when > last + DECIDED_WITH):
            yield chunk
            chunk, last = Chunk(name=name), None
            parsed, numbers = chunk.docs, chunk.numbers
        parsed.append(found)
        numbers.append(number)
        if when is not None and (last is None or when > last):  # (``max``: the earlier of equal times kept)
            last = when
    if parsed or chunk.bad:
        yield chunk


#: What ``Line(label, doc)`` does, without attrs' ``__init__`` (its fields are slots: set through their
#: descriptors, as a frozen class's ``__init__`` sets them), for ``Chunk.lines``
_new = object.__new__
_set_label = Line.__dict__["label"].__set__
_set_doc = Line.__dict__["doc"].__set__
