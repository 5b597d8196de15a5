"""orjson's JSON of a document, where it is byte for byte what the standard library writes; else None.

The store writes every event's document as compact JSON (``json`` with
``ensure_ascii=False``, ``separators=(",", ":")``, ``allow_nan=False``:
``gridcore.store.canonical``) and every sealed part as the same with sorted
keys (``gridcore.parts.part_bytes``, whose SHA-256 is the part's key), so the
text must never change.  orjson (a dependency, optional here as in
``gridcore_app.jsonl``) writes the same UTF-8 for such documents far faster
(an activity's document of ten fields: 10,100 instructions with the walk
below, against 28,200 with the standard library's C encoder, which builds its
text from pieces joined twice; callgrind), except where the two differ:

* a float outside ``[1e-4, 1e16)`` (and not 0): ``json`` writes ``1e-05`` and
  ``1e+16``, orjson ``0.00001`` and ``1e16``; NaN and infinities, which ``json``
  refuses here, orjson writes as ``null``;
* anything but a plain ``dict``, ``list``, ``tuple``, ``str``, ``int``,
  ``float``, ``bool`` or ``None``: a subclass (an ``IntEnum``, an
  ``OrderedDict``), a ``datetime`` or a ``UUID``, which orjson writes and
  ``json`` refuses or writes otherwise;
* what orjson refuses (a key that is not text, a whole number beyond 64
  bits, a lone surrogate) and a document nested deeper than ``MAX_DEPTH``
  (a cycle among them).

``same_json`` walks the document first and answers None for any of these: the
caller then encodes it as it always did (the same text, or the same error).
``typed_json`` does without the walk for a document whose maker's types vouch
that it holds none of them (a points ledger part's rows; a closed incident's
entry, its fields of type ``Any`` walked where it was made: ``plain``): orjson
is then told to refuse what it would write and ``json`` would not
(``_REFUSING``), and where it refuses, the caller encodes as ever.
Texts are the same over every code point, sorted keys in the same order (by
code point, which is UTF-8's byte order); ``tests/test_fastjson.py`` holds the
two to the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

_dumps: Callable[..., bytes] | None
_loads: Callable[[bytes], Any] | None
try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a dependency; without it, every text is read by json
    _loads = None
try:
    from orjson import OPT_PASSTHROUGH_DATACLASS, OPT_PASSTHROUGH_DATETIME, OPT_PASSTHROUGH_SUBCLASS
    from orjson import OPT_SORT_KEYS as _SORT_KEYS
    from orjson import dumps as _dumps
    #: What orjson is told for ``typed_json``: to refuse (not write its own way) a subclass of ``str``, ``int``,
    #: ``dict`` or ``list``, a ``datetime``, ``date`` or ``time``, and a dataclass.
    _REFUSING = OPT_PASSTHROUGH_SUBCLASS | OPT_PASSTHROUGH_DATETIME | OPT_PASSTHROUGH_DATACLASS
except ImportError:  # pragma: no cover - orjson is a dependency; without it, every document takes json's path
    _dumps = None
    _SORT_KEYS = _REFUSING = 0

#: Nesting walked at most (deeper, or a cycle: None, and ``json`` says what it always said).
MAX_DEPTH = 100

#: Each byte that can be part of a number as written (``-+0123456789.eE``) as ``x``, any other as a space:
#: a text holds a run of ``_LONG_NUMBER``'s length of them only where one may be a number orjson reads
#: otherwise than ``json`` (``written_loads``).
_NUMBER_BYTES = bytes(0x78 if chr(byte) in "-+0123456789.eE" else 0x20 for byte in range(256))
_LONG_NUMBER = b"x" * 19


def same_json(doc: dict[str, Any], *, sort_keys: bool = False) -> bytes | None:
    """The UTF-8 of ``json``'s compact text of ``doc`` (``ensure_ascii=False``, ``separators=(",", ":")``,
    ``allow_nan=False``, and ``sort_keys``) made by orjson, or None where the two might differ (see the
    module's docstring) or orjson is not installed."""
    if _dumps is None or type(doc) is not dict:
        return None
    for value in doc.values():  # (``_plain(doc.values(), 1)`` written out: a call fewer for every event stored)
        kind = type(value)
        if kind is str or kind is bool or kind is int or value is None:
            continue
        if kind is float:
            if 1e-4 <= value < 1e16 or -1e16 < value <= -1e-4 or value == 0.0:
                continue
            return None
        if kind is dict:
            if not _plain(value.values(), 2):
                return None
        elif kind is list or kind is tuple:
            if not _plain(value, 2):
                return None
        else:
            return None
    try:
        return _dumps(doc, option=_SORT_KEYS) if sort_keys else _dumps(doc)
    except TypeError:  # (orjson.JSONEncodeError: a key not text, a number beyond 64 bits, a lone surrogate)
        return None


def typed_json(doc: dict[str, Any], *, sort_keys: bool = False) -> bytes | None:
    """``same_json(doc)`` without its walk, for a document whose maker's types vouch for it: built of
    ``dict`` (text keys), ``list``, ``tuple``, ``str``, ``int``, ``bool`` and ``None`` alone, and of floats only
    in ``[1e-4, 1e16)`` (or their negatives, or 0), as the rows of a points ledger part are
    (``gridcore_points.history``).  What orjson would otherwise write its own way and ``json`` writes
    otherwise or refuses (a subclass, a ``datetime``, a dataclass) orjson is told to refuse; where it refuses
    (those, a key not text, a number beyond 64 bits, a lone surrogate) the answer is None, for the caller
    to encode the document as it always did.  Left to the maker's types: floats out of that range (orjson
    writes ``0.00001`` where ``json`` writes ``1e-05``, ``null`` for NaN), an ``Enum`` and a ``UUID``."""
    if _dumps is None or type(doc) is not dict:
        return None
    try:
        return _dumps(doc, option=_REFUSING | _SORT_KEYS if sort_keys else _REFUSING)
    except TypeError:  # (orjson.JSONEncodeError)
        return None


def written_loads(raw: bytes) -> Any:
    """``json.loads`` of ``raw``, the UTF-8 of a JSON text this code wrote (a part whose SHA-256 is its key:
    ``gridcore.parts.checked_part``), read by orjson: the same values, type for type, in about three
    quarters of the instructions (a closed incidents' part of about 230 kB; callgrind).

    Left to ``json`` (its answer, or its error): a text holding a run of 19 or more characters that can
    make up a number (a whole number beyond 64 bits, which orjson reads as a float, or a float written
    with more digits than it needs; ``gridcore_app.jsonl`` reads an event's line the same way), and what
    orjson refuses (a lone surrogate, a number beyond a float's range, nesting deeper than orjson's
    limit).  A text nested nearly as deep as ``json``'s recursion limit (which orjson's exceeds) is no
    text this code writes: its documents nest a few levels.
    """
    if _loads is not None and _LONG_NUMBER not in raw.translate(_NUMBER_BYTES):
        try:
            return _loads(raw)
        except ValueError:  # (orjson.JSONDecodeError) read again below: json's answer, or its error
            pass
    return json.loads(raw.decode())


def plain(value: Any) -> bool:
    """True if ``value`` (and every value inside, to ``MAX_DEPTH``) is written the same by orjson and ``json``:
    the walk ``same_json`` makes, for a part of a document its maker's types do not vouch for (a field of type
    ``Any`` in one they do: ``typed_json``)."""
    return _plain((value,), 0)


def dumps_written() -> Callable[..., bytes] | None:
    """orjson's ``dumps``, for the documents an event kind's writer made (their bytes are ``json``'s by
    construction: ``gridcore.store.EventBatch``), or None if orjson is not installed."""
    return _dumps


def _plain(values: Iterable[Any], depth: int) -> bool:
    """True if every value (and every value inside, to ``MAX_DEPTH``) is written the same by both."""
    for value in values:
        kind = type(value)
        if kind is str or kind is bool or kind is int or value is None:  # (a whole number beyond 64 bits:
            continue                                                      # orjson refuses it)
        if kind is float:
            if 1e-4 <= value < 1e16 or -1e16 < value <= -1e-4 or value == 0.0:
                continue
            return False
        if depth >= MAX_DEPTH:
            return False
        if kind is dict:
            if not _plain(value.values(), depth + 1):
                return False
        elif kind is list or kind is tuple:
            if not _plain(value, depth + 1):
                return False
        else:
            return False
    return True
