"""What one event may hold: the documented input limits (docs/security.md).

Every event document is checked against these limits on its own, before any
batch is written, whether it came from a JSON-lines file, a command or
``Engine.record``.  A document beyond them is refused with the field and the
reason; the events around it are unaffected.  The limits are far above what
daily work produces (a patrol note is a few sentences) and far below what
would slow every later batch (a 10 MB note) or crash a reader (text that is
not Unicode, nesting a parser cannot follow, numbers with thousands of digits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import EventError

#: Bytes in one line of a JSON-lines event file (UTF-8, before parsing).
MAX_LINE_BYTES = 64 * 1024
#: Characters in a free-text field (``note``, ``description``, ``reason``, ``*_note``).
MAX_TEXT_CHARS = 4000
#: Characters in any other text: ids, names, nodes, categories, activities.
MAX_NAME_CHARS = 200
#: Levels of nesting in a document (an event is one object: 1).
MAX_DEPTH = 8
#: Digits in a number as written (a whole number, or a decimal's mantissa and exponent together).
MAX_NUMBER_CHARS = 30
#: Fields (keys) in one document, nested ones included.
MAX_FIELDS = 200

TEXT_FIELDS = frozenset({"note", "description", "reason", "comment", "status_notes"})


def is_text_field(name: str) -> bool:
    """True for free-text fields, which may be longer than names and ids."""
    return name in TEXT_FIELDS or name.endswith("_note")


def check_document(doc: Mapping[str, Any]) -> None:
    """Raise ``EventError`` naming the field if ``doc`` is beyond the limits.

    Checks nesting depth, the number of fields, that every text is valid
    Unicode (no lone surrogates, which no file or database can hold) within its
    field's length, and that every number is finite and of a sane size.
    """
    if not isinstance(doc, Mapping):
        _check(doc, "", 1, [MAX_FIELDS])
        return
    # The common case, checked without building paths: a flat object of short
    # texts and plain numbers.  Anything else (or anything wrong) takes the
    # general walk below, which names the field.
    if len(doc) > MAX_FIELDS:
        _check(doc, "", 1, [MAX_FIELDS])
        return
    for key, item in doc.items():
        if type(key) is not str or len(key) > MAX_NAME_CHARS or not key.isascii() or "." in key or "[" in key:
            break
        kind = type(item)
        if kind is str:
            if len(item) > MAX_NAME_CHARS and (len(item) > MAX_TEXT_CHARS or not is_text_field(key)):
                break
            if not item.isascii() and not _encodable(item):
                break
        elif kind is int:
            if not -_BIG < item < _BIG:
                break
        elif kind is float:
            if not math.isfinite(item):
                break
        elif item is not None and kind is not bool:
            break
    else:
        return
    _check(doc, "", 1, [MAX_FIELDS])


#: Whole numbers below this in size have at most ``MAX_NUMBER_CHARS`` digits.
_BIG = 10**MAX_NUMBER_CHARS


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(value: Any, path: str, depth: int, budget: list[int]) -> None:
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if len(str(abs(value))) > MAX_NUMBER_CHARS:
            raise EventError(f"{path or 'document'}: number too large (more than {MAX_NUMBER_CHARS} digits) "
                             "(数字过大)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise EventError(f"{path or 'document'}: not a finite number (不是有限的数字)")
    elif isinstance(value, Mapping):
        if depth > MAX_DEPTH:
            raise EventError(f"{path or 'document'}: nested deeper than {MAX_DEPTH} levels (嵌套层数过多)")
        for key, item in value.items():
            budget[0] -= 1
            if budget[0] < 0:
                raise EventError(f"more than {MAX_FIELDS} fields in one event (一个事件的字段过多)")
            if not isinstance(key, str):
                raise EventError(f"{path or 'document'}: field names must be text, got {key!r} (字段名须为文本)")
            _check_text(key, f"{path}.{key}" if path else key, name=True)
            _check(item, f"{path}.{key}" if path else key, depth + 1, budget)
    elif isinstance(value, (list, tuple)):
        if depth > MAX_DEPTH:
            raise EventError(f"{path or 'document'}: nested deeper than {MAX_DEPTH} levels (嵌套层数过多)")
        for n, item in enumerate(value):
            budget[0] -= 1
            if budget[0] < 0:
                raise EventError(f"more than {MAX_FIELDS} fields in one event (一个事件的字段过多)")
            _check(item, f"{path}[{n}]", depth + 1, budget)


def _check_text(text: str, path: str, *, name: bool = False) -> None:
    field = path.rsplit(".", 1)[-1].split("[", 1)[0]
    limit = MAX_NAME_CHARS if name or not is_text_field(field) else MAX_TEXT_CHARS
    if len(text) > limit:
        what = "field name" if name else "text"
        raise EventError(f"{path}: {what} too long ({len(text):,} characters; at most {limit:,}) "
                         f"({'字段名' if name else '文本'}过长)")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = text[exc.start : exc.end]
            code = f"\\u{ord(bad[0]):04x}" if bad else "?"
            raise EventError(
                f"{path}: not valid Unicode text (a lone surrogate {code} at character {exc.start + 1}) "
                "(不是有效的 Unicode 文本)"
            ) from None
