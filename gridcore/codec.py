"""Events to and from plain dicts (JSON documents), through one private cattrs converter.

Stores only ever see dicts; this module is the only place that turns them into
event objects and back, and every document is held to the input limits of
``gridcore.limits`` before it becomes an event.  A document that does not validate raises ``EventError``
naming the field and the reason, e.g. ``severity: must be between 1 and 5``.

Every event read from a file or a store passes here, so the common document (a
flat object of plain texts, numbers, flags and times, every field known) takes
a quick path planned once per kind (``_Plan``): one pass over its fields that
holds them to the limits and to their types and builds the event.  Anything
else, or anything wrong, takes the full path (the limits' walk, then cattrs),
which gives the same event or the message naming what is wrong: the quick path
only ever accepts what the full path accepts, and builds the same event
(``tests/test_codec_quick.py``).
"""

from __future__ import annotations

import inspect
import keyword
import math
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone, tzinfo
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from .classes import frozen
from .errors import EventError, has_chinese
from .events import (
    CORE_EVENT_TYPES,
    FIRST_YEAR,
    LARGEST_AMOUNT,
    LAST_YEAR,
    Event,
    _aware,
    non_empty,
    not_negative,
)
from .limits import (
    MAX_FIELDS,
    MAX_NAME_CHARS,
    MAX_NUMBER_CHARS,
    MAX_TEXT_CHARS,
    check_document,
    is_text_field,
)

KIND = "kind"

#: One ``timezone`` object per UTC offset for every time read from text.  Two
#: times holding the same tzinfo object compare field by field; holding two
#: equal ones, they compare by asking each for its offset, about ten times
#: slower, and events are compared by time everywhere (canonical order, the
#: latest event, what falls due).  ``fromisoformat`` makes a new object for
#: each time it reads (equal, unnamed): the value is the same time either way.
_ZONES: dict[tzinfo, tzinfo] = {}
#: Offsets kept (a file can hold only so many: past this, times keep their own object).
_MOST_ZONES = 1000
#: The times read most recently, by their text: events come in runs at one minute (a
#: datetime never changes, so one object can be every event's time).  Emptied when full.
_TIMES: dict[str, datetime] = {}
_MOST_TIMES = 4096


#: Whether ``isoformat`` writes each time text read as it is (``_read_quick``), by text; emptied when full.
_AS_WRITTEN: dict[str, bool] = {}
#: The pieces of the texts found to be written as ``isoformat`` writes a time of whole seconds
#: (``_written_as_read``): dates (``2025-01-07``), clocks (``08:52:00``) and offsets (``+08:00``).
#: Each is emptied when full.
_DAY_TEXTS: set[str] = set()
_CLOCK_TEXTS: set[str] = set()
_OFFSET_TEXTS: set[str] = set()
_MOST_PIECES = 4096


def _written_as_read(text: str) -> bool:
    """True if the time ``text`` is read as is written again as ``text`` (``ValueError`` if it is no time)."""
    same = _AS_WRITTEN.get(text)
    if same is None:
        if len(_AS_WRITTEN) >= _MOST_TIMES:
            _AS_WRITTEN.clear()
        same = _AS_WRITTEN[text] = _isoformat_gives(_read_time(text), text)
    return same


def _isoformat_gives(when: datetime, text: str) -> bool:
    """``when.isoformat() == text``, for the time ``text`` was read as, most often without writing it.

    For a time of whole seconds ``isoformat`` writes the date's own isoformat,
    ``T``, the clock's (``HH:MM:SS``) and the offset's: a text made of a
    date, a clock and an offset each found in a text ``isoformat`` wrote so
    is one it writes, of the time it reads as (about a fifth of the cost of
    writing it: events come in runs at one minute, on a few days, at one
    offset).  Any other text is compared with what ``isoformat`` writes, and
    the pieces of one it writes so are kept.
    """
    if (text[10:11] == "T" and text[:10] in _DAY_TEXTS and text[11:19] in _CLOCK_TEXTS
            and text[19:] in _OFFSET_TEXTS):
        return True
    same = when.isoformat() == text
    if same and len(text) > 19 and text[19] in "+-":  # (whole seconds: no fraction before the offset)
        for pieces, piece in ((_DAY_TEXTS, text[:10]), (_CLOCK_TEXTS, text[11:19]), (_OFFSET_TEXTS, text[19:])):
            if len(pieces) >= _MOST_PIECES:
                pieces.clear()
            pieces.add(piece)
    return same


#: ``isoformat`` of the times written most recently (``_time_text``), by the time object's ``id``, beside the
#: object itself (held here, so no other object has its ``id`` while it is): events come in runs at one
#: minute, often holding one time object (``_TIMES``), and a time is written again for the events derived
#: at it.  Emptied when full.
_TEXTS_OF: dict[int, tuple[datetime, str]] = {}
#: The offset ``isoformat`` writes for every time in each fixed ``timezone`` (``+08:00``).
_ZONE_OFFSETS: dict[timezone, str] = {}
#: ``f"{n:02d}"`` of 0 to 99
_TWO_DIGITS = [f"{n:02d}" for n in range(100)]
#: The date ``isoformat`` writes (``2025-01-07T``, with the separator), by the date's ordinal (``toordinal``):
#: events fall on a few days, each written again for thousands of times.  Emptied when full.
_DATE_TEXTS: dict[int, str] = {}


def _time_text(when: datetime) -> str:
    """``when.isoformat()``: how every event's time is written (``to_dict``, the store's documents).

    For a ``datetime`` in a fixed ``timezone`` (every time read from text,
    and most made in Python) written from its fields and its zone's offset
    text, two digits at a time, its date's text written once a day
    (``_DATE_TEXTS``, by ordinal: a date of ``datetime``'s own fields, as
    ``isoformat`` writes it): ``isoformat`` asks the zone for its offset and
    formats each piece through a format string, about 11,000 instructions a
    time, this about 6,000 (8,000 with the date written each time), and a
    time written lately (the same object) is not written again.  Any other
    time is its ``isoformat``.
    """
    kept = _TEXTS_OF.get(id(when))
    if kept is not None and kept[0] is when:
        return kept[1]
    zone = when.tzinfo
    if type(when) is not datetime or type(zone) is not timezone:
        return when.isoformat()
    offset = _ZONE_OFFSETS.get(zone)  # (equal zones have one offset, and isoformat writes no name)
    if offset is None:
        if len(_ZONE_OFFSETS) >= _MOST_ZONES:
            _ZONE_OFFSETS.clear()
        offset = _ZONE_OFFSETS[zone] = datetime(2000, 1, 1, tzinfo=zone).isoformat()[19:]
    two = _TWO_DIGITS
    ordinal = when.toordinal()
    date_text = _DATE_TEXTS.get(ordinal)
    if date_text is None:
        if len(_DATE_TEXTS) >= _MOST_TIMES:
            _DATE_TEXTS.clear()
        date_text = _DATE_TEXTS[ordinal] = f"{when.year:04d}-{two[when.month]}-{two[when.day]}T"
    text = f"{date_text}{two[when.hour]}:{two[when.minute]}:{two[when.second]}"
    micro = when.microsecond
    text = f"{text}.{micro:06d}{offset}" if micro else text + offset
    if len(_TEXTS_OF) >= _MOST_TIMES:
        _TEXTS_OF.clear()
    _TEXTS_OF[id(when)] = (when, text)
    return text


#: ``when.isoformat()``, as the codec writes every event's time (``_time_text``): for plugins that write
#: times into their own documents, which are mostly the times of events just written (kept by object)
time_text = _time_text


def read_time(text: str) -> datetime:
    """A time from its ISO 8601 text, as ``datetime.fromisoformat`` reads it but holding the one
    ``timezone`` object the codec keeps for its offset (``ValueError`` if it is no time).

    For plugins reading times back from their own documents (a checkpoint):
    times holding the same tzinfo object compare field by field, about 17 times
    faster than two equal but distinct ones (each asked for its offset), and a
    restored state's times are compared with every event's.
    """
    return _read_time(text)


_combine = datetime.combine


def _read_time(text: str) -> datetime:
    """``datetime.fromisoformat(text)``, its offset's ``timezone`` shared (``ValueError`` if it is no time)."""
    when = _TIMES.get(text)
    if when is not None:
        return when
    when = datetime.fromisoformat(text)
    zone = when.tzinfo
    if zone is not None:
        shared = _ZONES.get(zone)
        if shared is None and len(_ZONES) < _MOST_ZONES and type(zone) is timezone:
            shared = _ZONES[zone] = zone
        if shared is not None and shared is not zone:
            # (the same fields, ``fold`` with the clock, and the shared zone: what ``replace(tzinfo=shared)``
            # makes, at a fifth of its cost)
            when = _combine(when.date(), when.time(), shared)
    if len(_TIMES) >= _MOST_TIMES:
        _TIMES.clear()
    _TIMES[text] = when
    return when


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, _time_text)

    def parse_time(value: Any, _: type) -> datetime:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise TypeError("expected an ISO 8601 time string (应为 ISO 8601 格式的时间)")
        try:
            return _read_time(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 time like 2025-03-01T09:00:00+08:00, got {value!r} "
                             "(时间格式不对)") from None

    conv.register_structure_hook(datetime, parse_time)

    def strict_float(value: Any, _: type) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a number, got {value!r} (应为数字)")
        return float(value)

    def strict_int(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"expected a whole number, got {value!r} (应为整数)")
        return value

    def strict_str(value: Any, _: type) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected text, got {value!r} (应为文本)")
        return value

    def strict_bool(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r} (应为 true 或 false)")
        return value

    conv.register_structure_hook(float, strict_float)
    conv.register_structure_hook(int, strict_int)
    conv.register_structure_hook(str, strict_str)
    conv.register_structure_hook(bool, strict_bool)
    return conv


# What a field holds, as the quick path knows it (anything else takes the full path).
_TEXT, _TIME, _WHOLE, _NUMBER, _FLAG, _TEXTS = "text", "time", "whole", "number", "flag", "texts"
_SHAPES: dict[object, str] = {str: _TEXT, datetime: _TIME, int: _WHOLE, float: _NUMBER, bool: _FLAG,
                              tuple[str, ...]: _TEXTS}
#: Whole numbers below this in size are within the limits (``gridcore.limits``).
_BIG = 10**MAX_NUMBER_CHARS
#: A kind's writer writes whole numbers from ``-_WHOLE64`` to below it (64 bits: orjson refuses larger ones).
_WHOLE64 = 1 << 63


# Which of the core's validators a field has, checked by the quick path itself as it reads the field
# when it builds the event without ``__init__`` (``_Plan.direct``): none, ``non_empty``, ``_aware``,
# ``not_negative``, or another (called as attrs calls it, once every field is set).
_NO_CHECK, _NON_EMPTY, _AWARE, _NOT_NEGATIVE, _OTHER = 0, 1, 2, 3, 4
_CHECKS: dict[object, int] = {None: _NO_CHECK, non_empty: _NON_EMPTY, _aware: _AWARE, not_negative: _NOT_NEGATIVE}


@frozen
class _Field:
    """One field of a kind on the quick path: what it holds, whether ``None`` may stand for it, its text
    limit, and which validator it has (``_CHECKS``)."""

    shape: str
    optional: bool
    limit: int
    check: int = _OTHER
    #: sets the field of an event being built ``direct``: its slot's ``__set__`` (what ``object.__setattr__``
    #: finds and calls, without the looking)
    put: Any = attrs.field(default=None, eq=False, repr=False)


@frozen
class _Plan:
    """How the quick path reads and writes one kind: its class and its fields, in the class's order.

    ``direct``: the class's ``__init__`` is the one attrs wrote, only setting each field and running
    its validator (no converter, no default made from the instance, no ``__attrs_pre_init__`` or
    ``__attrs_post_init__``), and its fields are slots, so the quick path builds the event as it does,
    without the call: it sets each field it reads (through its slot), checks the core's validators as it reads the field (the same tests,
    for the values it can hold there), sets the defaults of the fields the document leaves out and
    calls the other validators (``late``) as attrs calls them, with every field set.  Anything
    refused there is left to the full path, for its message.
    """

    cls: type[Event]
    fields: Mapping[str, _Field]
    direct: bool = False
    #: (name, attribute) of every field, in the class's order (the defaults of those left out)
    attributes: tuple[tuple[str, attrs.Attribute[Any]], ...] = ()
    #: (name, attribute) of the fields whose validator is another (``_OTHER``), in the class's order
    late: tuple[tuple[str, attrs.Attribute[Any]], ...] = ()
    #: the keys of the document ``to_dict`` writes: every field in the class's order, then the kind
    order: tuple[str, ...] = ()
    #: ``_read_quick`` for this kind, written out field by field (``_reader``; compiled when first called:
    #: ``_reader_when_first_called``); None: ``_read_fields`` reads
    reader: Any = attrs.field(default=None, eq=False, repr=False)
    #: ``to_dict`` of an event of this kind, held to the limits, written out (``_writer``; compiled once the kind
    #: is written often: ``_writer_when_written_often``); None: cattrs writes
    writer: Any = attrs.field(default=None, eq=False, repr=False)


#: Each class's plan once made (``_plan``): what it reads is the class's own fields, annotations, validators
#: and slots and this module's limits, none of which change once the class is made; a plan's reader and
#: writer hold nothing of a codec.  Every engine a process opens registers every kind again (its own codec):
#: the annotations' evaluation and the two functions' compilation were about 2 ms a kind, 60 ms an open with
#: the built-in plugins (a fifth of the test suite's time).  Kept for the process's life, as the classes are
#: (a class made and dropped, as a test may, stays with its plan: a few kilobytes).
_PLANS: dict[type[Event], _Plan | None] = {}


def _plan(cls: type[Event], *, written: bool = False) -> _Plan | None:
    """The quick path's plan for ``cls``, or None if any of its fields needs the full path to be read exactly
    (made once a class: ``_PLANS``; ``written``: asked for to write an event of it, see ``_make_plan``)."""
    try:
        return _PLANS[cls]
    except KeyError:
        made = _PLANS[cls] = _make_plan(cls, written)
        return made


def _make_plan(cls: type[Event], written: bool = False) -> _Plan | None:
    """``_plan``'s answer, made.  Its writer is compiled at once for a kind first met as a document read (the
    events given to an engine, which most often are written too when given as objects); for one first met as
    an event to write (what a plugin derives: a few of a kind), once the kind is written often
    (``_writer_when_written_often``)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - a plugin's annotation unresolvable here: cattrs decides
        return None
    kind = cls.kind
    if not (isinstance(kind, str) and kind.isascii() and len(kind) <= MAX_NAME_CHARS):
        return None
    fields: dict[str, _Field] = {}
    for a in attrs.fields(cls):
        name = a.name
        if (not a.init or a.alias != name or not name.isascii() or len(name) > MAX_NAME_CHARS
                or "." in name or "[" in name or name == KIND):
            return None
        hint = hints.get(name)
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            args = typing.get_args(hint)
            if len(args) != 2 or type(None) not in args:
                return None
            hint = args[0] if args[1] is type(None) else args[1]
            optional = True
        shape = _SHAPES.get(hint)
        if shape is None or (optional and shape == _TEXTS):
            return None
        fields[name] = _Field(shape, optional, MAX_TEXT_CHARS if is_text_field(name) else MAX_NAME_CHARS,
                              _CHECKS.get(a.validator, _OTHER))
    if len(fields) + 1 > MAX_FIELDS:
        return None
    found = attrs.fields(cls)
    direct = _built_by_attrs(cls)
    if direct:
        slots = {name: inspect.getattr_static(cls, name, None) for name in fields}
        direct = all(type(slot) is types.MemberDescriptorType for slot in slots.values())
        if direct:
            fields = {name: attrs.evolve(spec, put=slots[name].__set__) for name, spec in fields.items()}
    plan = _Plan(cls, fields, direct, tuple((a.name, a) for a in found),
                 tuple((a.name, a) for a in found if fields[a.name].check == _OTHER),
                 (*(a.name for a in found), KIND))
    # (the reader compiled when first called: an ingest writes the events its plugins derive and reads none of
    # them back; the writer of a kind first met as an event to write once the kind is written often)
    if direct:
        _set(plan, "reader", _reader_when_first_called(plan))
    if _writable(plan):
        _set(plan, "writer", _writer_when_written_often(plan) if written else _writer(plan))
    return plan


#: Events of a kind written field by field (``_write_fields``) before its writer is compiled (``_writer``): the
#: events an ingest's plugins derive are a few of a kind (an incident reopened, a task overdue), and compiling
#: a writer costs about 0.4 ms (2.4 million instructions), what writing some 400 events field by field costs
#: over the compiled writer (2.1 against 1.0 µs an activity, docs/benchmarks.md): a kind written often pays
#: less than a tenth more, one written a few times no compilation.
WRITTEN_BEFORE_COMPILED = 32


def _writer_when_written_often(plan: _Plan) -> Any:
    """A stand-in for ``plan``'s writer: the first ``WRITTEN_BEFORE_COMPILED - 1`` events are written by
    ``_write_fields`` (the same document, or None where the writer gives None); at the next the writer is
    compiled (``_writer``), put in the plan in its place and called, and every later event finds it there."""
    written = 0

    def write(event: Event) -> dict[str, Any] | None:
        nonlocal written
        written += 1
        if written < WRITTEN_BEFORE_COMPILED:
            return _write_fields(plan, event)
        made = _writer(plan)
        _set(plan, "writer", made)
        found: dict[str, Any] | None = made(event)
        return found

    return write


def _writable(plan: _Plan) -> bool:
    """Whether ``plan``'s kind has a writer (``_writer`` gives one): no list of texts, and every field's name
    one a function's text can hold."""
    return not any(spec.shape == _TEXTS for spec in plan.fields.values()) and all(
        name.isidentifier() and not keyword.iskeyword(name) for name in plan.fields)


def _write_fields(plan: _Plan, event: Event) -> dict[str, Any] | None:
    """What ``_writer(plan)`` gives for ``event``, worked out field by field (the same tests in the same order,
    the same document)."""
    out: dict[str, Any] = {}
    for name, spec in plan.fields.items():
        value = getattr(event, name)
        shape = spec.shape
        if shape == _TIME:
            if type(value) is datetime:
                value = _time_text(value)
            elif value is not None or not spec.optional:
                return None
        elif value is None and spec.optional:
            pass
        elif shape == _TEXT:
            limit = spec.limit
            if type(value) is not str or not (len(value) <= limit and (
                    value.isascii() or value in _PLAIN_TEXTS or _plain_text(value, limit))):
                return None
        elif shape == _WHOLE:
            if type(value) is not int or not -_WHOLE64 <= value < _WHOLE64:
                return None
        elif shape == _NUMBER:
            if not ((type(value) is float and (1e-4 <= value < 1e16 or -1e16 < value <= -1e-4 or value == 0.0))
                    or (type(value) is int and -_WHOLE64 <= value < _WHOLE64)):
                return None
        elif shape == _FLAG:
            if type(value) is not bool:
                return None
        else:  # pragma: no cover - _plan gives a plan only for the shapes above, and no writer for lists
            raise AssertionError(shape)
        out[name] = value
    out[KIND] = plan.cls.kind
    return out


def _reader_when_first_called(plan: _Plan) -> Any:
    """A stand-in for ``plan``'s reader: when first called, the reader is compiled (``_reader``), put in the
    plan in its place (as attrs sets a frozen class's fields: ``object.__setattr__``) and called; every
    later read finds it there."""

    def first(doc: dict[str, Any]) -> tuple[Event, bool | int] | None:
        made = _reader(plan)
        _set(plan, "reader", made)
        found: tuple[Event, bool | int] | None = made(doc)
        return found

    return first


def _built_by_attrs(cls: type[Event]) -> bool:
    """True if ``cls(**fields)`` only sets each field (its default if not given) and runs its validator:
    the ``__init__`` attrs writes, with nothing else for it to do (``_Plan.direct``)."""
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False  # (an __init__ of the class's own, or inherited)
    if "_attrs_cached_hash" in code.co_consts or any(
            hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__")):
        return False
    for a in attrs.fields(cls):
        if a.converter is not None or (isinstance(a.default, attrs.Factory) and a.default.takes_self):  # type: ignore[arg-type]
            return False
    return True


#: Texts of other than ASCII found valid Unicode lately (``_plain_text``), of at most ``_SHORT_TEXT``
#: characters: the names of activities, people and places events repeat, each written as UTF-8 once (a
#: ``bytes`` made and freed, about 700 instructions, where a lookup is about 100).  Emptied when full.
_PLAIN_TEXTS: set[str] = set()
_SHORT_TEXT = 64


def _plain_text(value: str, limit: int) -> bool:
    """True if the ``str`` ``value`` is within ``limit`` and valid Unicode (what the limits hold every text
    to)."""
    if len(value) > limit:
        return False
    if value.isascii() or value in _PLAIN_TEXTS:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    if len(value) <= _SHORT_TEXT:
        if len(_PLAIN_TEXTS) >= _MOST_TIMES:
            _PLAIN_TEXTS.clear()
        _PLAIN_TEXTS.add(value)
    return True


_new = object.__new__
_set = object.__setattr__  # (what attrs' own __init__ sets a frozen class's fields with)


def _quick(plan: _Plan, doc: dict[str, Any]) -> Event | None:
    """The event a plain document of ``plan``'s kind makes, or None: the full path then decides.

    Accepts only what ``check_document`` passes and cattrs structures, and gives
    the values cattrs would give (an integral float for a whole number becomes
    an int, a whole number for a number a float); the class's own validators
    run as they always do (a refusal there is left to the full path, for its
    message): in ``__init__``, or, for a class built ``direct``, as the fields
    are read and once they are all set.
    """
    found = _read_quick(plan, doc)
    return None if found is None else found[0]


def _read_quick(plan: _Plan, doc: dict[str, Any]) -> tuple[Event, bool | int] | None:
    """``_quick``'s event, and whether ``to_dict`` writes it as ``doc`` itself, but perhaps for the order of
    the keys: nothing was converted (a whole number given for a number, an integral number for a whole
    one, a list for a tuple, a time written another way than ``isoformat`` writes it), so the same keys
    hold the same values (the texts, numbers and flags the event holds are the document's own objects)."""
    reader = plan.reader
    return _read_fields(plan, doc) if reader is None else reader(doc)


#: What a kind's reader (``_reader``) answers beside an event read from a document that is its ``to_dict``
#: (``as_given``) and is what the kind's writer writes too (``EventBatch.add_written``): each number in it a
#: whole number of 64 bits or a float ``json`` writes without an exponent (orjson writes others otherwise).
#: Every other value such a document holds is one a writer writes: a text within its limit and valid Unicode
#: (a time's text among them), a flag, None (a list of texts is read as a tuple: not as given).  True: as
#: given, not known to be so.  (Truthy, as ``as_given`` is.)
_WRITTEN = 2
#: ``_WRITTEN``, and the document's keys are in the order ``to_dict`` writes them (its plan's ``order``): the
#: document is the one the kind's writer makes, keys and all (``EventCodec.read_written``).  (Truthy too.)
_IN_ORDER = 3


def _read_fields(plan: _Plan, doc: dict[str, Any]) -> tuple[Event, bool | int] | None:
    """``_read_quick`` by the plan's fields, a key of the document at a time (``_WRITTEN`` or ``_IN_ORDER`` for
    ``as_given`` where it is so)."""
    fields = plan.fields
    direct = plan.direct
    as_given = True
    if direct:
        event = _new(plan.cls)
    else:
        args: dict[str, Any] = {}
    budget = MAX_FIELDS - len(doc)  # the limits count every key and every item of a list
    for key, value in doc.items():
        spec = fields.get(key)
        if spec is None:
            if key == KIND:
                continue
            return None
        shape = spec.shape
        vtype = type(value)
        if vtype is str:
            if not (len(value) <= spec.limit and value.isascii()) and not _plain_text(value, spec.limit):
                return None
            if shape is _TIME:
                try:
                    text, value = value, _read_time(value)
                except ValueError:
                    return None
                if as_given:
                    same = _AS_WRITTEN.get(text)
                    as_given = same if same is not None else _written_as_read(text)
            elif shape is not _TEXT:
                return None
        elif vtype is int:
            if not -_BIG < value < _BIG:
                return None
            if shape is _NUMBER:
                value = float(value)
                as_given = False
            elif shape is not _WHOLE:
                return None
        elif vtype is float:
            if not math.isfinite(value):
                return None
            if shape is _WHOLE and value.is_integer():
                value = int(value)
                as_given = False
            elif shape is not _NUMBER:
                return None
        elif vtype is bool:
            if shape is not _FLAG:
                return None
        elif value is None:
            if not spec.optional:
                return None
        elif vtype is list and shape is _TEXTS:
            # a short list of plain texts (the limits' walk accepts it; cattrs makes it a tuple)
            budget -= len(value)
            if budget < 0:
                return None
            for item in value:
                if type(item) is not str or not _plain_text(item, spec.limit):
                    return None
            value = tuple(value)
            as_given = False
        else:
            return None
        if not direct:
            args[key] = value
            continue
        # the core's validators, as they test the values a field can hold here (``gridcore.events``)
        check = spec.check
        if check == _NON_EMPTY:
            if type(value) is not str or not value or value.isspace():
                return None
        elif check == _AWARE:
            if not isinstance(value, datetime):
                return None
            zone = value.tzinfo
            if (zone is None or (type(zone) is not timezone and value.utcoffset() is None)
                    or not FIRST_YEAR <= value.year <= LAST_YEAR):
                return None
        elif check == _NOT_NEGATIVE and (type(value) not in (int, float) or not 0 <= value <= LARGEST_AMOUNT):
            return None  # (NaN too)
        spec.put(event, value)
    if not direct:
        try:
            return plan.cls(**args), as_given and _numbers_written(plan, doc)
        except Exception:  # noqa: BLE001 - a field missing, or refused by a validator: the full path says which
            return None
    if len(doc) - (KIND in doc) != len(fields):
        # fields the document leaves out: their defaults, checked by their validators as attrs checks them
        for name, attribute in plan.attributes:
            if name in doc:
                continue
            default = attribute.default
            if default is attrs.NOTHING:
                return None  # (a field missing)
            value = default.factory() if isinstance(default, attrs.Factory) else default  # type: ignore[arg-type, union-attr]
            _set(event, name, value)
            if attribute.validator is not None and fields[name].check != _OTHER:
                try:
                    attribute.validator(event, attribute, value)
                except Exception:  # noqa: BLE001
                    return None
    for name, attribute in plan.late:
        try:
            attribute.validator(event, attribute, getattr(event, name))  # type: ignore[misc]
        except Exception:  # noqa: BLE001
            return None
    return event, as_given and _numbers_written(plan, doc)


def _numbers_written(plan: _Plan, doc: dict[str, Any]) -> int:
    """``_WRITTEN`` if each number of ``doc``, read as given, is one orjson writes as ``json`` does (as
    ``_written_test`` tests it in a kind's reader), ``_IN_ORDER`` if its keys are in its plan's ``order`` too,
    else True."""
    for name, spec in plan.fields.items():
        value = doc.get(name)
        if value is None:
            continue
        if spec.shape == _WHOLE:
            if not -_WHOLE64 <= value < _WHOLE64:
                return True
        elif spec.shape == _NUMBER and not (1e-4 <= value < 1e16 or -1e16 < value <= -1e-4 or value == 0.0):
            return True
    return _IN_ORDER if tuple(doc) == plan.order else _WRITTEN


def _writer(plan: _Plan) -> Any:
    """``to_dict`` of an event of ``plan``'s kind held to the limits, written out as one function of its own:
    the document cattrs writes (every field in the class's order, a time as ``_time_text`` writes it, then
    the kind), when every field holds a plain value of its shape within the limits (a text of at most its
    field's length and valid Unicode, a whole number of 64 bits, a number ``json`` writes without an
    exponent (0, or at least 1e-4 and under 1e16 in size: orjson writes others otherwise), a flag, a
    ``datetime``, ``None`` where the field is optional): what ``check_document`` passes without its walk,
    and what orjson writes as ``json`` does (``gridcore.store.EventBatch``).  Else None, and the caller
    asks cattrs and the limits as always (the same document).  None (no writer) for a kind with a list of
    texts (cattrs writes a list, which the limits walk).
    """
    names = list(plan.fields)
    if not _writable(plan):
        return None
    ns: dict[str, Any] = {"_plain_text": _plain_text, "_PLAIN_TEXTS": _PLAIN_TEXTS, "_WHOLE64": _WHOLE64,
                          "datetime": datetime, "_time_text": _time_text, "_TEXTS_OF": _TEXTS_OF}
    out = ["def write(event):"]
    for i, (name, spec) in enumerate(plan.fields.items()):
        v, limit = f"v{i}", spec.limit
        given = f"{v} is not None and " if spec.optional else ""
        out.append(f"    {v} = event.{name}")
        shape = spec.shape
        if shape == _TEXT:
            out += [(f"    if {given}(type({v}) is not str"
                     f" or not (len({v}) <= {limit} and ({v}.isascii() or {v} in _PLAIN_TEXTS"
                     f" or _plain_text({v}, {limit})))):"),
                    "        return None"]
        elif shape == _TIME:
            # (``_time_text``'s lookup first, without a call: a time written lately, its text)
            out += [f"    if type({v}) is datetime:", f"        kept = _TEXTS_OF.get(id({v}))",
                    f"        {v} = kept[1] if kept is not None and kept[0] is {v} else _time_text({v})",
                    f"    elif {v} is not None:" if spec.optional else "    else:", "        return None"]
        elif shape == _WHOLE:
            out += [f"    if {given}(type({v}) is not int or not -_WHOLE64 <= {v} < _WHOLE64):", "        return None"]
        elif shape == _NUMBER:
            out += [(f"    if {given}not ((type({v}) is float and (1e-4 <= {v} < 1e16 or -1e16 < {v} <= -1e-4"
                     f" or {v} == 0.0)) or (type({v}) is int and -_WHOLE64 <= {v} < _WHOLE64)):"), "        return None"]
        elif shape == _FLAG:
            out += [f"    if {given}type({v}) is not bool:", "        return None"]
        else:  # pragma: no cover - _plan gives a plan only for the shapes above
            raise AssertionError(shape)
    out.append("    return {" + "".join(f"{name!r}: v{i}, " for i, name in enumerate(names))
               + f"{KIND!r}: {plan.cls.kind!r}}}")
    exec(compile("\n".join(out), f"<gridcore codec writer {plan.cls.kind}>", "exec"), ns)  # noqa: S102 - our own text
    return ns["write"]


#: The texts read lately as an event's time (a field that must hold a time with a zone, ``_aware``) that passed:
#: a plain text within the limits, a time, with a zone, within the years; each with the time ``_read_time``
#: made of it and whether ``isoformat`` writes it as it is (``_written_as_read``), for a kind's reader
#: (``_reader``): events come in runs at one minute, and a text read before is then one lookup, not the
#: text's checks, two lookups and the validator's tests.  Emptied when full.
_EVENT_TIMES: dict[str, tuple[datetime, bool]] = {}


def _keep_event_time(text: str, when: datetime) -> bool:
    """Keep ``text``, found to be an event's time ``when`` (``_EVENT_TIMES``); whether ``isoformat`` writes it
    as it is."""
    same = _written_as_read(text)
    if len(text) <= MAX_NAME_CHARS:  # (within every field's limit: a time's text is never near it)
        if len(_EVENT_TIMES) >= _MOST_TIMES:
            _EVENT_TIMES.clear()
        _EVENT_TIMES[text] = (when, same)
    return same


def _reader(plan: _Plan) -> Any:
    """``_read_fields`` for a kind built ``direct``, written out as one function of its own (as attrs writes
    ``__init__``): for a document that gives every field and the kind (what ``to_dict`` writes, in any
    order), each field is read by the lines its shape and validator need, with its limit, its slot and its
    validator at hand; any other document is read by ``_read_fields``.  A document whose keys are in the
    order ``to_dict`` writes them (most: one a file or a store holds) has its values read in that order, and
    is found to be in it (``_IN_ORDER``) without a lookup for each key or a tuple of its keys.

    The same tests in the same terms, so the same event or None: which field fails first does not
    matter (None either way), the list budget only falls, and the validators of ``late`` run in the
    class's order once every field is set, as there.
    """
    names = list(plan.fields)
    ns: dict[str, Any] = {
        "_read_fields": _read_fields, "plan": plan, "cls": plan.cls, "_new": _new, "_plain_text": _plain_text,
        "_read_time": _read_time, "_TIMES": _TIMES, "_AS_WRITTEN": _AS_WRITTEN, "_written_as_read": _written_as_read,
        "_EVENT_TIMES": _EVENT_TIMES, "_keep_event_time": _keep_event_time,
        "_isfinite": math.isfinite, "_BIG": _BIG, "datetime": datetime, "timezone": timezone,
        "FIRST_YEAR": FIRST_YEAR, "LAST_YEAR": LAST_YEAR, "LARGEST_AMOUNT": LARGEST_AMOUNT, "_WRITTEN": _WRITTEN,
        "_IN_ORDER": _IN_ORDER,
    }
    keys = "".join(f"k{i}, " for i in range(len(plan.order)))  # (a key, or the value, at each place of ``order``)
    out = [
        "def read(doc):",
        f"    if len(doc) != {len(names) + 1}:",
        "        return _read_fields(plan, doc)",
        f"    {keys}= doc",
        f"    if {' and '.join(f'k{i} == {key!r}' for i, key in enumerate(plan.order))}:",
        f"        {''.join(f'v{i}, ' for i in range(len(names)))}k{len(names)}, = doc.values()",  # (the kind's, not read)
        "        in_order = _IN_ORDER",
        f"    elif {KIND!r} not in doc:",
        "        return _read_fields(plan, doc)",
        "    else:",
        "        try:",
        *(f"            v{i} = doc[{name!r}]" for i, name in enumerate(names)),
        "        except KeyError:",
        "            return _read_fields(plan, doc)",
        "        in_order = _WRITTEN",
        "    as_given = True",
        f"    budget = {MAX_FIELDS - len(names) - 1}",
        "    event = _new(cls)",
    ]
    for i, spec in enumerate(plan.fields.values()):
        v, limit = f"v{i}", spec.limit
        ns[f"put{i}"] = spec.put
        text_ok = f"not (len({v}) <= {limit} and {v}.isascii()) and not _plain_text({v}, {limit})"
        none = [f"    elif {v} is None:", "        pass"] if spec.optional else []
        shape = spec.shape
        check = spec.check
        # (a field that may not be None holds here what its shape reads: a text, a datetime, an int, a float;
        # its validator's test of the type is then left out, as always true)
        sure = not spec.optional
        if sure and check == _AWARE and shape == _TIME:
            # (a text read before as such a time: ``_EVENT_TIMES``, one lookup; else read and checked as below, and
            # kept there)
            out += [f"    kept = _EVENT_TIMES.get({v}) if type({v}) is str else None", "    if kept is not None:",
                    f"        {v} = kept[0]", "        if not kept[1]:", "            as_given = False",
                    f"    elif type({v}) is str:", f"        if {text_ok}:", "            return None",
                    f"        text = {v}", "        try:", f"            {v} = _read_time(text)",
                    "        except ValueError:", "            return None",
                    f"        zone = {v}.tzinfo",
                    f"        if (zone is None or (type(zone) is not timezone and {v}.utcoffset() is None)",
                    f"                or not FIRST_YEAR <= {v}.year <= LAST_YEAR):", "            return None",
                    f"        if not _keep_event_time(text, {v}):", "            as_given = False",
                    "    else:", "        return None", f"    put{i}(event, {v})"]
            continue
        if sure and check == _NOT_NEGATIVE and shape in (_WHOLE, _NUMBER):
            # (the type read, then the validator's range, which holds the limits' size too (``LARGEST_AMOUNT`` is
            # below ``_BIG``), and refuses NaN and the infinities)
            same, other = ("int", "float") if shape == _WHOLE else ("float", "int")
            whole = [f"        if not {v}.is_integer():", "            return None"] if shape == _WHOLE else []
            out += [f"    if type({v}) is {same}:", f"        if not 0 <= {v} <= LARGEST_AMOUNT:", "            return None",
                    f"    elif type({v}) is {other}:", f"        if not 0 <= {v} <= LARGEST_AMOUNT:", "            return None",
                    *whole, f"        {v} = {same}({v})", "        as_given = False",
                    "    else:", "        return None", f"    put{i}(event, {v})"]
            continue
        if shape == _TEXT:
            out += [f"    if type({v}) is str:", f"        if {text_ok}:", "            return None", *none,
                    "    else:", "        return None"]
        elif shape == _TIME:
            # (``_read_time``'s own lookup first: most times were read before)
            out += [f"    if type({v}) is str:", f"        if {text_ok}:", "            return None",
                    f"        text = {v}", f"        {v} = _TIMES.get(text)", f"        if {v} is None:",
                    "            try:", f"                {v} = _read_time(text)",
                    "            except ValueError:", "                return None",
                    "        if as_given:", "            same = _AS_WRITTEN.get(text)",
                    "            as_given = same if same is not None else _written_as_read(text)",
                    *none, "    else:", "        return None"]
        elif shape == _WHOLE:
            out += [f"    if type({v}) is int:", f"        if not -_BIG < {v} < _BIG:", "            return None",
                    f"    elif type({v}) is float:", f"        if not _isfinite({v}) or not {v}.is_integer():",
                    "            return None", f"        {v} = int({v})", "        as_given = False",
                    *none, "    else:", "        return None"]
        elif shape == _NUMBER:
            out += [f"    if type({v}) is float:", f"        if not _isfinite({v}):", "            return None",
                    f"    elif type({v}) is int:", f"        if not -_BIG < {v} < _BIG:", "            return None",
                    f"        {v} = float({v})", "        as_given = False",
                    *none, "    else:", "        return None"]
        elif shape == _FLAG:
            out += [f"    if type({v}) is bool:", "        pass", *none, "    else:", "        return None"]
        elif shape == _TEXTS:
            out += [f"    if type({v}) is list:", f"        budget -= len({v})", "        if budget < 0:",
                    "            return None", f"        for item in {v}:",
                    f"            if type(item) is not str or not _plain_text(item, {limit}):",
                    "                return None", f"        {v} = tuple({v})", "        as_given = False",
                    *none, "    else:", "        return None"]
        else:  # pragma: no cover - _plan gives a plan only for the shapes above
            raise AssertionError(shape)
        if check == _NON_EMPTY:
            if sure and shape == _TEXT:
                out += [f"    if not {v} or {v}.isspace():", "        return None"]
            else:
                out += [f"    if type({v}) is not str or not {v} or {v}.isspace():", "        return None"]
        elif check == _AWARE:
            if not (sure and shape == _TIME):
                out += [f"    if not isinstance({v}, datetime):", "        return None"]
            out += [f"    zone = {v}.tzinfo",
                    f"    if (zone is None or (type(zone) is not timezone and {v}.utcoffset() is None)",
                    f"            or not FIRST_YEAR <= {v}.year <= LAST_YEAR):", "        return None"]
        elif check == _NOT_NEGATIVE:
            if sure and shape in (_WHOLE, _NUMBER):
                out += [f"    if not 0 <= {v} <= LARGEST_AMOUNT:", "        return None"]  # (NaN too)
            else:
                out += [f"    if type({v}) not in (int, float) or not 0 <= {v} <= LARGEST_AMOUNT:", "        return None"]
        out.append(f"    put{i}(event, {v})")
    for j, (name, attribute) in enumerate(plan.late):
        ns[f"check{j}"], ns[f"attribute{j}"] = attribute.validator, attribute
        out += ["    try:", f"        check{j}(event, attribute{j}, v{names.index(name)})",
                "    except Exception:", "        return None"]
    test = _written_test(plan)
    out.append(f"    return event, as_given and ({test} and in_order or True)" if test
               else "    return event, as_given and in_order")
    exec(compile("\n".join(out), f"<gridcore codec reader {plan.cls.kind}>", "exec"), ns)  # noqa: S102 - our own text
    return ns["read"]


def _written_test(plan: _Plan) -> str:
    """The text of the test ``_reader`` makes of a document read as given (each number read into ``v<i>``
    as it is: an int in a field of whole numbers, a float in one of numbers, or None) for ``_WRITTEN``; ""
    when there is nothing to test (no number, or only amounts, whole numbers up to ``LARGEST_AMOUNT``)."""
    tests = []
    for i, spec in enumerate(plan.fields.values()):
        v = f"v{i}"
        amount = spec.check == _NOT_NEGATIVE and not spec.optional  # (0 to LARGEST_AMOUNT, below 1e16)
        if spec.shape == _WHOLE and not amount:
            tests.append(f"({v} is None or -{_WHOLE64} <= {v} < {_WHOLE64})")
        elif spec.shape == _NUMBER:
            tests.append(f"({v} == 0.0 or 1e-4 <= {v})" if amount else
                         f"({v} is None or 1e-4 <= {v} < 1e16 or -1e16 < {v} <= -1e-4 or {v} == 0.0)")
    return " and ".join(tests)


class EventCodec:
    """Knows every registered event kind; turns events into dicts and back."""

    def __init__(self, types: Iterable[type[Event]] = CORE_EVENT_TYPES) -> None:
        self._conv = _make_converter()
        self._types: dict[str, type[Event]] = {}
        #: the quick path's plan of each kind that has one, once made (``plan``)
        self._plans: dict[str, _Plan] = {}
        #: the kinds registered whose plan is not made yet: made when the kind is first read or written
        #: (a command that reads a checkpoint and shows a report writes and reads no event: making every
        #: kind's plan, its annotations evaluated and its reader and writer compiled, was about a tenth of
        #: such a command's time)
        self._unplanned: dict[str, type[Event]] = {}
        #: the keys of the document of each kind ``read`` last found in the order ``to_dict`` writes (its plan's
        #: ``order``), as that document held them
        self._in_order: dict[str, tuple[str, ...]] = {}
        for cls in types:
            self.register(cls)

    def register(self, cls: type[Event]) -> None:
        """Add an event class; its ``kind`` must be new."""
        if not (isinstance(cls, type) and issubclass(cls, Event) and hasattr(cls, "__attrs_attrs__")):
            raise TypeError(f"{cls!r} is not an attrs Event class")
        existing = self._types.get(cls.kind)
        if existing is not None and existing is not cls:
            raise ValueError(f"event kind {cls.kind!r} is registered twice ({existing.__name__}, {cls.__name__})")
        self._types[cls.kind] = cls
        if cls.kind not in self._plans:
            self._unplanned[cls.kind] = cls

    def plan(self, kind: str, *, written: bool = False) -> _Plan | None:
        """The quick path's plan of the kind registered as ``kind`` (made when first asked for; ``written``: to
        write an event of it, ``_make_plan``), or None: no such kind, or one whose every document the full path
        reads."""
        found = self._plans.get(kind)
        if found is None:
            cls = self._unplanned.pop(kind, None)
            if cls is not None:
                found = _plan(cls, written=written)
                if found is not None:
                    self._plans[kind] = found
        return found

    def registered(self, cls: type[Event]) -> bool:
        """True if ``cls`` is the class registered for its kind (asked for every event recorded)."""
        return self._types.get(cls.kind) is cls

    @property
    def kinds(self) -> dict[str, type[Event]]:
        """Every registered kind and its class."""
        return dict(self._types)

    def to_dict(self, event: Event) -> dict[str, Any]:
        """A JSON-ready dict of the event, tagged with its ``kind``."""
        cls = type(event)
        plan = self._plans.get(cls.kind)
        if plan is None and self._unplanned:
            plan = self.plan(cls.kind, written=True)
        if plan is not None and plan.cls is cls and plan.writer is not None:
            written: dict[str, Any] | None = plan.writer(event)  # (the same dict, made without cattrs)
            if written is not None:
                return written
        doc: dict[str, Any] = self._conv.unstructure(event)
        doc[KIND] = cls.kind
        return doc

    def written(self, event: Event) -> dict[str, Any] | None:
        """``checked_dict(event)`` as its kind's writer makes it, for an event of the class registered for its
        kind whose every value is plain and within the limits (what the engine asks first of an event built
        in Python: one call); else None, and ``registered`` and ``checked_dict`` say what it is."""
        cls = type(event)
        plan = self._plans.get(cls.kind)
        if plan is None and self._unplanned:
            plan = self.plan(cls.kind, written=True)
        if plan is not None and plan.cls is cls and plan.writer is not None:  # (the class registered: its plan)
            written: dict[str, Any] | None = plan.writer(event)
            return written
        return None

    def checked_dict(self, event: Event) -> dict[str, Any]:
        """``to_dict`` for an event built in Python, held to the input limits (``EventError``)."""
        cls = type(event)
        if cls.kind not in self._types:
            known = ", ".join(sorted(self._types))
            raise EventError(f"kind: unknown event kind {cls.kind!r} (known: {known}) (未知的事件类型)")
        plan = self._plans.get(cls.kind)
        if plan is None and self._unplanned:
            plan = self.plan(cls.kind, written=True)
        if plan is not None and plan.cls is cls and plan.writer is not None:
            written: dict[str, Any] | None = plan.writer(event)  # (every value plain and within the limits)
            if written is not None:
                return written
        doc = self.to_dict(event)
        check_document(doc)
        return doc

    def from_dict(self, doc: Mapping[str, Any]) -> Event:
        """Build and validate an event; raise ``EventError`` with field and reason.

        The document is first held to the input limits of ``gridcore.limits``
        (text length per field, valid Unicode, nesting, number size).
        """
        quick = self._quick(doc)
        return quick[1][0] if quick is not None else self._from_dict_fully(doc)

    def read(self, doc: Mapping[str, Any]) -> tuple[Event, dict[str, Any] | None]:
        """``from_dict``, and ``doc`` itself when it already is the event's ``to_dict`` (else None).

        A document written by ``to_dict`` (a log exported, a store copied) comes back as it was: the
        engine then stores it rather than writing the event again (the same JSON).
        """
        event, given, _ = self.read_written(doc)
        return event, given

    def read_written(self, doc: Mapping[str, Any]) -> tuple[Event, dict[str, Any] | None, bool]:
        """``read``, and whether the document it gives back is one the kind's writer would have made (each number
        in it one orjson writes as ``json`` does: ``_WRITTEN``), for the store to encode it so
        (``EventBatch.add_written``); False where that is not known."""
        # (``_quick`` written out: every event read from a file or given to ``record_many`` comes here)
        if type(doc) is dict:
            kind: Any = doc.get(KIND)  # (a text wherever a plan is found)
            plan = self._plans.get(kind) if type(kind) is str else None
            if plan is None and self._unplanned and type(kind) is str:
                plan = self.plan(kind)
            if plan is not None:
                reader = plan.reader
                found = _read_fields(plan, doc) if reader is None else reader(doc)
                if found is not None:
                    event, as_given = found
                    if as_given == _IN_ORDER:  # (what ``to_dict`` writes, keys and all: most documents)
                        return event, doc, plan.writer is not None
                    if not as_given:
                        return event, None, False
                    # (every field given, in the class's order, then the kind: what ``to_dict`` writes; compared
                    # with the keys of the last document found so, most often the same objects (orjson keeps one
                    # object per key it reads) and then not compared text by text)
                    keys = tuple(doc)
                    if keys == self._in_order.get(kind, plan.order):
                        self._in_order[kind] = keys
                        return event, doc, as_given == _WRITTEN and plan.writer is not None
                    return event, None, False
        return self._from_dict_fully(doc), None, False

    def _quick(self, doc: Mapping[str, Any]) -> tuple[_Plan, tuple[Event, bool | int]] | None:
        """The kind's plan and ``_read_quick``'s event for a plain dict of a quickly built kind, else None."""
        if type(doc) is dict:
            kind = doc.get(KIND)
            plan = self._plans.get(kind) if type(kind) is str else None
            if plan is None and self._unplanned and type(kind) is str:
                plan = self.plan(kind)
            if plan is not None:
                reader = plan.reader  # (``_read_quick``, one call fewer)
                found = _read_fields(plan, doc) if reader is None else reader(doc)
                if found is not None:
                    return plan, found
        return None

    def _from_dict_fully(self, doc: Mapping[str, Any]) -> Event:
        """``from_dict`` by the full path: the limits' walk, then cattrs (every message of what is wrong)."""
        if not isinstance(doc, Mapping):
            raise EventError(f"an event must be a JSON object, got {type(doc).__name__} (事件须为 JSON 对象)")
        check_document(doc)
        kind = doc.get(KIND)
        if kind is None:
            raise EventError("kind: missing (say which event this is, e.g. \"activity_recorded\") (缺少事件类型 kind)")
        cls = self._types.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(sorted(self._types))
            raise EventError(f"kind: unknown event kind {kind!r} (known: {known}) (未知的事件类型)")
        body = {k: v for k, v in doc.items() if k != KIND}
        try:
            return self._conv.structure(body, cls)
        except ClassValidationError as exc:
            raise EventError(_describe(exc, kind)) from None
        except (ValueError, TypeError) as exc:
            raise EventError(f"{kind}: {_glossed(str(exc))}") from None


def _describe(exc: ClassValidationError, kind: str) -> str:
    messages: list[str] = []
    for leaf, path in _leaves(exc, "$"):
        if isinstance(leaf, ForbiddenExtraKeysError):
            messages.append("unknown field(s) " + ", ".join(sorted(leaf.extra_fields)) + " (未知字段)")
        elif isinstance(leaf, KeyError):
            messages.append(f"{path.removeprefix('$.')}: missing (缺少字段)")
        elif path == "$":
            messages.append(_glossed(str(leaf)))
        else:
            messages.append(f"{path.removeprefix('$.')}: {_glossed(str(leaf))}")
    return f"{kind}: " + "; ".join(messages)


def _glossed(message: str) -> str:
    """A field's problem as the validator said it, with its Chinese: a message from outside gridcore
    (cattrs, a plugin's own validator) that has none gets the general one (字段值不符合要求)."""
    return message if has_chinese(message) else f"{message} (字段值不符合要求)"


def _leaves(exc: BaseException, path: str) -> Iterable[tuple[BaseException, str]]:
    if isinstance(exc, cattrs.BaseValidationError):
        for sub in exc.exceptions:
            note = getattr(sub, "__notes__", None) or []
            name = ""
            for n in note:
                if isinstance(n, str) and "attribute" in n:
                    name = n.rsplit(" ", 1)[-1]
            yield from _leaves(sub, f"{path}.{name}" if name else path)
    else:
        yield exc, path
