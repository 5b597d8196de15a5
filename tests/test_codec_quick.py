"""The codec's quick path gives exactly what the full path gives (gridcore/codec.py).

A plain document is decoded by a plan made once per kind; anything else takes
the full path (the limits' walk, then cattrs).  For generated documents, plain
and hostile, ``from_dict`` must give the event the full path gives (the same
values of the same types) or refuse with the same message; ``to_dict`` must give
cattrs' document, key for key in the same order.
"""

from __future__ import annotations

import json
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore import EventError
from gridcore.codec import (
    _IN_ORDER,
    _WRITTEN,
    KIND,
    WRITTEN_BEFORE_COMPILED,
    EventCodec,
    _plan,
    _quick,
    _read_fields,
    _write_fields,
    _writer,
    read_time,
)
from gridcore.events import CORE_EVENT_TYPES, Event, HouseholdSplit, PatrolLogged
from gridcore.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS
from gridcore.store.canonical import to_json
from gridcore_escalation.events import INCIDENT_EVENT_TYPES
from gridcore_points.events import POINTS_EVENT_TYPES
from gridcore_tasks.events import TASK_EVENT_TYPES


@attrs.frozen(kw_only=True)
class Sampled(Event):
    """A kind of every shape the quick path reads, with no validators of its own (a plugin's may have none):
    the limits and the types alone decide, so the quick path must hold to them itself."""

    kind: typing.ClassVar[str] = "sampled_for_test"
    count: int = 0
    ratio: float = 0.0
    label: str | None = None
    when: datetime | None = None
    flag: bool = False
    tags: tuple[str, ...] = ()
    note: str = ""
    maybe_count: typing.Optional[int] = None  # noqa: UP045 - the other spelling of an optional field


ALL_TYPES: tuple[type[Event], ...] = (*CORE_EVENT_TYPES, *INCIDENT_EVENT_TYPES, *POINTS_EVENT_TYPES,
                                      *TASK_EVENT_TYPES, Sampled)
codec = EventCodec(ALL_TYPES)
CST = timezone(timedelta(hours=8))


def _outcome(decode: Any, doc: Any) -> tuple[Any, ...]:
    try:
        event = decode(doc)
    except EventError as exc:
        return ("refused", str(exc))
    return ("event", type(event), [(a.name, type(getattr(event, a.name)), getattr(event, a.name))
                                   for a in attrs.fields(type(event))])


def _hint(cls: type[Event], name: str) -> Any:
    """The type of a field, ``X`` for ``X | None``."""
    hint = typing.get_type_hints(cls)[name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


_good_times = st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2210, 1, 1),
                           timezones=st.sampled_from([UTC, CST])).map(lambda t: t.isoformat())
_times = st.one_of(
    _good_times,
    st.datetimes().map(lambda t: t.isoformat()),  # no time zone
    st.sampled_from(["2025-03-01", "2025-02-30T09:00:00+08:00", "yesterday", ""]),
)
_texts = st.one_of(
    st.sampled_from(["m01", "g1-u1", "", "  ", "system", "网格一", "a.b", "\ud800", "a\udfffb"]),
    st.text(max_size=6),
    st.sampled_from([MAX_NAME_CHARS, MAX_NAME_CHARS + 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1]).map(lambda n: "x" * n),
    st.sampled_from([MAX_NAME_CHARS, MAX_NAME_CHARS + 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1]).map(lambda n: "我" * n),
)
#: values at the edges of the limits and of the types (each is right for some field, wrong for most)
EDGES: list[Any] = [
    None, True, False, 0, -1, 1, 2001, 10**30 - 1, 10**30, -(10**30), 10**40, 1.0, 2.5, -1.0, 1e300, 1e31,
    float("nan"), float("inf"), float("-inf"), [], ["r"], ["r", 1], [["r"]], ["x" * 201], ["r"] * 199, ["r"] * 201,
    {}, {"a": 1}, "2025-03-01", "2025-02-30T09:00:00+08:00", "2025-03-01T09:00:00", "1850-01-01T00:00:00+00:00",
    "2025-03-01T09:00:00+08:00", "", " ", "m01", "\ud800", "我", *("x" * n for n in (200, 201, 4000, 4001)),
    *("我" * n for n in (200, 201, 4000, 4001)),
]
_edges = st.sampled_from(EDGES)
_hostile = st.one_of(_edges, _texts, _times, st.integers(), st.floats(), st.lists(_texts, max_size=3))


def _good(hint: Any) -> st.SearchStrategy[Any]:
    if hint is str:
        return st.sampled_from(["m01", "g1-u1", "note", "网格一", "x" * MAX_NAME_CHARS])
    if hint is datetime:
        return _good_times
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-2, 2000) | st.sampled_from([3.0, 1.5])
    if hint is float:
        return st.integers(-2, 20) | st.floats(-2, 1e7, allow_nan=False)
    if hint == tuple[str, ...]:
        return st.lists(st.sampled_from(["r1", "r2", "居民"]), max_size=3)
    return _hostile


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A document of a known kind: plain, plain but for one thing, or messy."""
    cls = draw(st.sampled_from(ALL_TYPES + (Sampled,) * 6))
    doc: dict[Any, Any] = {a.name: draw(_good(_hint(cls, a.name))) for a in attrs.fields(cls)}
    names = list(doc)
    mode = draw(st.sampled_from(["plain", "one", "one", "one", "messy"]))
    if mode == "one":
        name = draw(st.sampled_from(names))
        change = draw(st.sampled_from(["hostile", "hostile", "hostile", "left out", "extra"]))
        if change == "hostile":
            doc[name] = draw(_hostile)
        elif change == "left out":
            del doc[name]
        else:
            doc[draw(st.sampled_from(["extra", "a.b", 3, "kind2", "x" * 201]))] = draw(_hostile)
    elif mode == "messy":
        for name in names:
            roll = draw(st.integers(0, 9))
            if roll == 0:
                del doc[name]
            elif roll < 4:
                doc[name] = draw(_hostile)
    doc[KIND] = draw(st.sampled_from([cls.kind] * 12 + ["no_such_kind", 3, None]) if mode == "messy"
                     else st.just(cls.kind))
    order = draw(st.permutations(list(doc)))
    return {key: doc[key] for key in order}


def _plain(cls: type[Event]) -> dict[str, Any]:
    plain = {str: "m01", datetime: "2025-03-01T09:00:00+08:00", bool: True, int: 3, float: 1.5,
             tuple[str, ...]: ["r1"]}
    return {a.name: plain[_hint(cls, a.name)] for a in attrs.fields(cls)}


def test_one_thing_changed_in_a_plain_document_gives_what_the_full_path_gives() -> None:
    """Every field of every kind, set to every edge value, left out, or joined by an unknown one."""
    checked = quick = 0
    for cls in ALL_TYPES:
        plain = {**_plain(cls), KIND: cls.kind}
        changed: list[dict[Any, Any]] = [plain]
        for name in _plain(cls):
            changed += [{**plain, name: value} for value in EDGES]
            changed.append({k: v for k, v in plain.items() if k != name})
        changed += [{**plain, key: 1} for key in ("extra", "a.b", 3, "x" * 201)]
        for doc in changed:
            outcome = _outcome(codec.from_dict, doc)
            assert outcome == _outcome(codec._from_dict_fully, doc), doc
            checked += 1
            quick += _quick(codec.plan(cls.kind), doc) is not None
    assert quick > checked // 10  # the quick path is taken, not just left to the full one


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_from_dict_equals_the_full_path(doc: dict[Any, Any]) -> None:
    quick = _outcome(codec.from_dict, doc)
    assert quick == _outcome(codec._from_dict_fully, doc)
    if quick[0] == "event":
        event = codec.from_dict(doc)
        # written back as cattrs writes it: the same keys in the same order, the same values
        old = {**codec._conv.unstructure(event), KIND: type(event).kind}
        assert list(codec.to_dict(event).items()) == list(old.items())
        assert json.dumps(codec.to_dict(event)) == json.dumps(old)
    _read_gives_what_to_dict_writes(doc)


def _read_by_fields_and_by_reader(doc: dict[Any, Any]) -> None:
    """A kind's written-out reader (``_Plan.reader``) gives what reading its fields one key at a time
    gives: the same event (values and types) and the same answer to whether ``to_dict`` writes ``doc``."""
    plan = codec.plan(doc.get(KIND))  # type: ignore[arg-type]
    if plan is None or plan.reader is None:
        assert plan is None or not plan.direct  # (only a kind built without its __init__ has one)
        return
    by_fields, by_reader = _read_fields(plan, doc), plan.reader(doc)
    if by_fields is None or by_reader is None:
        assert by_fields is by_reader is None, doc
        return
    assert _outcome(lambda _: by_reader[0], doc) == _outcome(lambda _: by_fields[0], doc)
    assert by_reader[1] is by_fields[1], doc
    if by_reader[1] in (_WRITTEN, _IN_ORDER):  # (its numbers as orjson writes them: in to_dict's order or not)
        assert (by_reader[1] == _IN_ORDER) == (list(doc) == list(codec.to_dict(by_reader[0]))), doc


def test_every_field_changed_is_read_alike_by_fields_and_by_the_reader() -> None:
    taken = 0
    for cls in ALL_TYPES:
        plain = {**_plain(cls), KIND: cls.kind}
        for name in _plain(cls):
            for value in EDGES:
                doc = {**plain, name: value}
                _read_by_fields_and_by_reader(doc)
                taken += _quick(codec.plan(cls.kind), doc) is not None
            _read_by_fields_and_by_reader({k: v for k, v in plain.items() if k != name})
            _read_by_fields_and_by_reader({**plain, "extra": 1})
            del plain[name]
            plain[name] = _plain(cls)[name]  # (the same document in another order)
            _read_by_fields_and_by_reader(plain)
    assert taken > 100
    plans = [codec.plan(kind) for kind in codec.kinds]
    assert sum(plan is not None and plan.reader is not None for plan in plans) > len(ALL_TYPES) // 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_the_reader_reads_as_the_fields_do(doc: dict[Any, Any]) -> None:
    _read_by_fields_and_by_reader(doc)


def _read_gives_what_to_dict_writes(doc: Any) -> None:
    """``read`` decodes as ``from_dict`` does, and gives the document back only when it is ``to_dict``'s."""
    try:
        expected = codec.from_dict(doc)
    except EventError as exc:
        with pytest.raises(EventError) as raised:
            codec.read(doc)
        assert str(raised.value) == str(exc)
        return
    event, stored = codec.read(doc)
    assert _outcome(lambda _: event, doc) == _outcome(lambda _: expected, doc)
    again, stored_again, as_written = codec.read_written(doc)
    assert _outcome(lambda _: again, doc) == _outcome(lambda _: event, doc) and stored_again is stored
    if stored is not None:
        written = codec.to_dict(event)
        assert stored is doc
        assert [(k, type(v), v) for k, v in stored.items()] == [(k, type(v), v) for k, v in written.items()]
        assert json.dumps(stored, ensure_ascii=False) == json.dumps(written, ensure_ascii=False)
    if as_written:  # (what a kind's writer would have made: orjson writes it as the store's json does)
        assert stored is not None
        assert orjson.dumps(stored) == to_json(stored, "a test document").encode()


def test_a_document_given_back_is_known_as_written_unless_a_number_is_written_otherwise_by_orjson() -> None:
    activity = {"id": "a1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1",
                "activity": "志愿服务", "member": "m01", "hours": 2.5, "quantity": 1.0, "note": "", KIND: "activity_recorded"}
    read = {hours: codec.read_written({**activity, "hours": hours}) for hours in (2.5, 0.0, 1e-4, 1e-05, 0.5e-4)}
    assert all(stored is not None for _, stored, _ in read.values())  # (each given back: to_dict's own)
    assert {hours: as_written for hours, (_, _, as_written) in read.items()} == {
        2.5: True, 0.0: True, 1e-4: True, 1e-05: False, 0.5e-4: False}
    assert orjson.dumps({"hours": 1e-05}) != json.dumps({"hours": 1e-05}, separators=(",", ":")).encode()
    assert codec.read_written({**activity, "hours": 2})[1:] == (None, False)  # (a float's field given an int)


def test_every_built_in_kind_has_a_plan_and_plain_documents_take_it() -> None:
    for cls in ALL_TYPES:
        assert codec.plan(cls.kind) is not None, cls
    doc = {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1",
           "minutes": 30.0, "note": "巡查", KIND: "patrol_logged"}
    event = _quick(codec.plan("patrol_logged"), doc)
    assert event == PatrolLogged(id="e1", time=datetime(2025, 3, 1, 9, tzinfo=CST), actor="m01", node="g1-u1",
                                 minutes=30, note="巡查")
    assert type(event.minutes) is int
    split = {"id": "e2", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1",
             "household": "h1", "new_household": "h2", "name": "王", "residents": ["r1"], KIND: "household_split"}
    assert _quick(codec.plan("household_split"), split) == codec._from_dict_fully(split)
    assert isinstance(codec.from_dict(split), HouseholdSplit)


@pytest.mark.parametrize("doc", [
    {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1", "minutes": -1},
    {"id": "e1", "time": "2025-03-01T09:00:00", "actor": "m01", "node": "g1-u1"},
    {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01"},
    {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1", "minutes": 1.5},
    {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1", "extra": 1},
    {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1-u1", "note": "\ud800"},
])
def test_what_is_wrong_is_left_to_the_full_path(doc: dict[str, Any]) -> None:
    doc = {**doc, KIND: "patrol_logged"}
    assert _quick(codec.plan("patrol_logged"), doc) is None
    with pytest.raises(EventError) as raised:
        codec.from_dict(doc)
    with pytest.raises(EventError) as fully:
        codec._from_dict_fully(doc)
    assert str(raised.value) == str(fully.value)


def test_a_kind_the_quick_path_cannot_read_exactly_has_no_plan() -> None:
    @attrs.frozen(kw_only=True)
    class Measured(Event):
        kind: typing.ClassVar[str] = "measured_for_test"
        readings: list[int] = attrs.field(factory=list)

    assert _plan(Measured) is None
    local = EventCodec([Measured])
    doc = {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1", "readings": [1, 2],
           KIND: "measured_for_test"}
    assert local.from_dict(doc) == Measured(id="e1", time=datetime(2025, 3, 1, 9, tzinfo=CST), actor="m01",
                                            node="g1", readings=[1, 2])
    assert local.to_dict(local.from_dict(doc)) == doc


def test_times_read_share_one_zone_object_per_offset_and_stay_the_same_times() -> None:
    """Times read with the same offset hold one ``timezone`` object (they then compare field by field)."""
    base = {"actor": "m01", "node": "g1-u1", KIND: "patrol_logged"}
    first = codec.from_dict({**base, "id": "a", "time": "2025-03-01T09:00:00+08:00"})
    second = codec.from_dict({**base, "id": "b", "time": "2025-03-01T01:00:00+00:00"})
    third = codec._from_dict_fully({**base, "id": "c", "time": "2025-03-02T09:00:00+08:00", "minutes": 1})
    assert first.time.tzinfo is third.time.tzinfo
    assert first.time == second.time == datetime(2025, 3, 1, 9, tzinfo=CST)
    assert first.time.isoformat() == "2025-03-01T09:00:00+08:00" and second.time.isoformat().endswith("+00:00")
    assert second.time.tzinfo is UTC


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(" \t\n\u3000\u00a0\u2028\x1c\x85"), max_size=6))
def test_a_non_empty_text_is_one_with_something_but_white_space(value: str) -> None:
    """``non_empty`` asks ``not value or value.isspace()``: the same as ``not value.strip()``, without a copy."""
    from gridcore.errors import InvalidValueError
    from gridcore.events import non_empty

    field = attrs.fields(PatrolLogged).id
    try:
        non_empty(None, field, value)
        refused = False
    except InvalidValueError:
        refused = True
    assert refused == (not value.strip())


def test_a_time_read_twice_is_the_same_time() -> None:
    text = "2025-03-01T09:00:00+08:00"
    assert codec_time(text) is codec_time(text) and codec_time(text) == datetime(2025, 3, 1, 9, tzinfo=CST)


def codec_time(text: str) -> datetime:
    from gridcore.codec import _read_time

    return _read_time(text)


@attrs.frozen(kw_only=True)
class Bounded(Event):
    """A plugin's kind with a validator reading another field and a default made by a factory."""

    kind: typing.ClassVar[str] = "bounded_for_test"
    low: int = 0
    high: int = attrs.field(default=10)
    tags: tuple[str, ...] = attrs.field(factory=tuple)

    @high.validator
    def _above_low(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < self.low:
            raise ValueError(f"high {value} is below low {self.low}")


@attrs.frozen(kw_only=True)
class Stamped(Event):
    """A plugin's kind whose class checks itself after ``__init__``."""

    kind: typing.ClassVar[str] = "stamped_for_test"
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.note == "bad":
            raise ValueError("a bad note")


def test_a_kind_built_without_its_init_gives_what_its_init_gives() -> None:
    """A kind whose ``__init__`` only sets fields and validates them is built without the call (``direct``):
    every validator still runs (one reading another field once all are set, a default's), defaults are
    set (a factory's made afresh), and what is refused is refused with the full path's message.  A kind
    whose class does more (``__attrs_post_init__``) is built by its ``__init__``."""
    local = EventCodec([Bounded, Stamped, *CORE_EVENT_TYPES])
    assert local.plan("bounded_for_test").direct and local.plan("patrol_logged").direct
    assert not local.plan("stamped_for_test").direct
    base = {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1"}
    for kind, changes in [("bounded_for_test", {}), ("bounded_for_test", {"low": 3}), ("bounded_for_test", {"low": 30}),
                          ("bounded_for_test", {"high": 2, "low": 1}), ("bounded_for_test", {"high": 2, "low": 5}),
                          ("bounded_for_test", {"tags": ["a"]}), ("bounded_for_test", {"id": " "}),
                          ("stamped_for_test", {"note": "ok"}), ("stamped_for_test", {"note": "bad"}),
                          ("patrol_logged", {}), ("patrol_logged", {"minutes": 2_000_000}),
                          ("patrol_logged", {"time": "1850-03-01T09:00:00+08:00"})]:
        doc = {**base, **changes, KIND: kind}
        assert _outcome(local.from_dict, doc) == _outcome(local._from_dict_fully, doc), doc
    made = [local.from_dict({**base, KIND: "bounded_for_test"}) for _ in range(2)]
    assert made[0].tags == () and made[0] == Bounded(id="e1", time=datetime(2025, 3, 1, 9, tzinfo=CST), actor="m01",
                                                     node="g1")
    assert _quick(local.plan("bounded_for_test"), {**base, "low": 30, KIND: "bounded_for_test"}) is None


def test_a_document_as_to_dict_writes_it_is_read_back_with_itself() -> None:
    """``read`` gives the document back only when ``to_dict`` would write it so: every field in the class's
    order, then the kind, nothing converted; the engine stores (a copy of) it as it is."""
    event = PatrolLogged(id="e1", time=datetime(2025, 3, 1, 9, tzinfo=CST), actor="m01", node="g1-u1", minutes=30)
    doc = codec.to_dict(event)
    assert codec.read(doc) == (event, doc) and codec.read(doc)[1] is doc
    others = [
        {**doc, "time": "2025-03-01T09:00+08:00"},  # the same time, written otherwise
        {**doc, "minutes": 30.0},  # a whole number given as a float
        {k: v for k, v in doc.items() if k != "note"},  # a default left out
        {KIND: doc[KIND], **{k: v for k, v in doc.items() if k != KIND}},  # the kind first
    ]
    activity = {**codec.to_dict(codec.from_dict({"id": "e2", "time": "2025-03-01T09:00:00+08:00", "actor": "m01",
                                                 "node": "g1-u1", "activity": "clean-up", KIND: "activity_recorded"}))}
    others.append({**activity, "hours": 2})  # a whole number for a number
    for other in others:
        read, stored = codec.read(other)
        assert stored is None and read == codec.from_dict(other)
        _read_gives_what_to_dict_writes(other)
    assert codec.read(activity)[1] == activity
    split = codec.to_dict(codec.from_dict({"id": "e3", "time": "2025-03-01T09:00:00+08:00", "actor": "m01",
                                           "node": "g1-u1", "household": "h1", "new_household": "h2", "name": "王",
                                           "residents": ["r1"], KIND: "household_split"}))
    assert codec.read(split)[1] is None  # (a list read as a tuple)


def test_read_time_shares_one_zone_per_offset_with_the_events_read() -> None:
    """``read_time`` (for plugins reading their checkpoints): the value ``fromisoformat`` gives, holding the
    codec's own ``timezone`` for its offset, the one events read from documents hold (so they compare field
    by field, not by asking each for its offset)."""
    texts = ["2025-01-06T09:00:00+08:00", "2026-03-01T23:59:59.500000+08:00", "2025-01-06T01:00:00+00:00",
             "2025-07-01T12:00:00-05:00"]
    for text in texts:
        assert read_time(text) == datetime.fromisoformat(text)
        assert read_time(text).isoformat() == datetime.fromisoformat(text).isoformat()
    assert read_time(texts[0]).tzinfo is read_time(texts[1]).tzinfo
    event = EventCodec().from_dict({"id": "a", "kind": "patrol_logged", "time": "2025-02-03T10:00:00+08:00",
                                    "actor": "w1", "node": "g1"})
    assert event.time.tzinfo is read_time(texts[1]).tzinfo
    with pytest.raises(ValueError):
        read_time("not a time")


_STYLES = ("iso", "space", "micro", "zulu", "minus_zero", "seconds_offset", "minutes")


def _written(when: datetime, style: str) -> str:
    """A text of ``when`` as a file might hold it (many read as times, not all as ``isoformat`` writes them)."""
    text = when.isoformat(sep=" " if style == "space" else "T",
                          timespec={"micro": "microseconds", "minutes": "minutes"}.get(style, "auto"))
    if style == "zulu" and text.endswith("+00:00"):
        return text[:-6] + "Z"
    if style == "minus_zero" and text.endswith("+00:00"):
        return text[:-6] + "-00:00"
    if style == "seconds_offset" and len(text) > 6 and text[-6] in "+-":
        return text + ":00"
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30),
                 timezones=st.none()).map(lambda d: d.replace(second=d.second % 3 * 20)),
    st.sampled_from([0, 1, 8 * 60, -5 * 60, 5 * 60 + 30, -(23 * 60 + 59)]),
    st.sampled_from([0, 0, 0, 500_000, 1]),
    st.sampled_from(_STYLES)), min_size=1, max_size=12))
def test_times_are_read_and_found_written_as_isoformat_writes_them_alike(items: list[Any]) -> None:
    """``_read_time`` gives what ``fromisoformat`` gives (its zone shared), and ``_written_as_read`` says
    whether ``isoformat`` writes the text again, whether it asks ``isoformat`` or tells it by the pieces
    of the texts read before (their dates, clocks and offsets mixed)."""
    from gridcore import codec as module

    for cache in (module._TIMES, module._AS_WRITTEN, module._DAY_TEXTS, module._CLOCK_TEXTS, module._OFFSET_TEXTS):
        cache.clear()
    texts = [_written(naive.replace(microsecond=micro, tzinfo=timezone(timedelta(minutes=offset))), style)
             for naive, offset, micro, style in items]
    # the same clocks, days and offsets mixed: texts made of pieces of those read before
    texts += [texts[-1][:11] + text[11:] for text in texts]
    for text in texts * 2:
        expected = datetime.fromisoformat(text)
        got = module._read_time(text)
        assert got == expected and got.isoformat() == expected.isoformat() and got.fold == expected.fold
        assert got.utcoffset() == expected.utcoffset() and type(got.tzinfo) is type(expected.tzinfo)
        assert module._written_as_read(text) == (expected.isoformat() == text), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.none()),
    st.sampled_from([0, 8 * 60, -5 * 60, 5 * 60 + 30, -(23 * 60 + 59), 23 * 60 + 59]),
    st.booleans()), min_size=1, max_size=20), st.integers(min_value=1, max_value=4))
def test_a_time_is_written_as_isoformat_writes_it(items: list[Any], most: int) -> None:
    """``_time_text`` writes every time in a fixed zone as ``isoformat`` does (years before 1000, fractions
    of a second, any offset), its date's text kept by ordinal (``_DATE_TEXTS``, here emptied every few days)
    for times of the same date in other zones and at other clocks alike."""
    from gridcore import codec as module

    kept = module._MOST_TIMES
    module._DATE_TEXTS.clear()
    module._TEXTS_OF.clear()
    module._MOST_TIMES = most
    try:
        times = [naive.replace(microsecond=naive.microsecond if fraction else 0,
                               tzinfo=timezone(timedelta(minutes=offset)))
                 for naive, offset, fraction in items]
        times += [when.replace(hour=(when.hour + 7) % 24, tzinfo=UTC) for when in times]  # (the same dates)
        for when in times * 2:
            assert module._time_text(when) == when.isoformat()
    finally:
        module._MOST_TIMES = kept
        module._DATE_TEXTS.clear()
        module._TEXTS_OF.clear()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8") | st.characters(categories=["Cs"]), max_size=80),
                min_size=1, max_size=12), st.integers(min_value=1, max_value=100))
def test_a_text_is_plain_as_the_limits_say_whether_seen_before_or_not(texts: list[str], limit: int) -> None:
    """``_plain_text`` (the writer's and the reader's test of a text) says what the limits say, a text
    within its limit of valid Unicode, the first time and again (``_PLAIN_TEXTS`` kept or emptied)."""
    from gridcore import codec as module

    module._PLAIN_TEXTS.clear()
    for round_ in range(3):
        for text in texts:
            try:
                text.encode("utf-8")
                valid = True
            except UnicodeEncodeError:
                valid = False
            assert module._plain_text(text, limit) == (len(text) <= limit and valid), text
        if round_ == 1:
            module._PLAIN_TEXTS.clear()
    assert all(len(text) <= module._SHORT_TEXT and not text.isascii() for text in module._PLAIN_TEXTS)


def _cattrs_dict(event: Event) -> dict[str, Any]:
    """What ``to_dict`` wrote through cattrs alone (the time by ``isoformat``)."""
    from gridcore.codec import _make_converter

    conv = _CONVERTER.get("conv")
    if conv is None:
        conv = _CONVERTER["conv"] = _make_converter()
        conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    doc: dict[str, Any] = conv.unstructure(event)
    doc[KIND] = type(event).kind
    return doc


_CONVERTER: dict[str, Any] = {}
_zones = st.sampled_from([UTC, CST, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3, seconds=7)),
                          timezone(timedelta(hours=8), "CST"), timezone(timedelta(microseconds=-5))])
_any_times = st.one_of(st.datetimes(timezones=_zones), st.datetimes(),
                       st.datetimes(timezones=st.timezones()))  # (ZoneInfo: written by isoformat itself)


@st.composite
def built_events(draw: st.DrawFn) -> Event:
    """An event built in Python with anything in its fields (no validator asked): plain values of every
    shape, and hostile ones (texts beyond the limits, lone surrogates, numbers too large, NaN, the wrong
    types)."""
    cls = draw(st.sampled_from(ALL_TYPES + (Sampled,) * 4))
    event = object.__new__(cls)
    for a in attrs.fields(cls):
        hint = _hint(cls, a.name)
        good = _any_times if hint is datetime else _good(hint).map(
            lambda v, hint=hint: tuple(v) if hint == tuple[str, ...] and isinstance(v, list) else v)
        roll = draw(st.integers(0, 19))  # (one field in seven hostile: most events reach the writer's every test)
        value = draw(good if roll > 2 or (hint is datetime and roll) else _hostile if roll else _any_times)
        object.__setattr__(event, a.name, value)
    return event


@given(built_events())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_to_dict_and_checked_dict_write_what_cattrs_and_the_limits_write(event: Event) -> None:
    """A kind's writer (``_writer``) gives cattrs' document, key for key in the same order, and
    ``checked_dict`` the same document or the same refusal as cattrs' document held to the limits."""
    from gridcore.limits import check_document

    try:
        old: dict[str, Any] | None = _cattrs_dict(event)
    except Exception as exc:  # noqa: BLE001 - a value cattrs cannot write: to_dict fails as it did
        with pytest.raises(type(exc)):
            codec.to_dict(event)
        return
    assert old is not None
    written = codec.to_dict(event)
    assert list(written) == list(old)
    assert [(type(v), v) for v in written.values()] == [(type(v), v) for v in old.values()] or (
        json.dumps(written, allow_nan=True) == json.dumps(old, allow_nan=True))
    try:
        check_document(old)
    except EventError as exc:
        with pytest.raises(EventError) as refused:
            codec.checked_dict(event)
        assert str(refused.value) == str(exc)
        return
    checked = codec.checked_dict(event)
    assert list(checked.items()) == list(old.items()) or json.dumps(checked, allow_nan=True) == json.dumps(
        old, allow_nan=True)


@given(built_events())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_an_event_is_written_field_by_field_as_its_kinds_writer_writes_it(event: Event) -> None:
    """What a kind's first events are written by (``_write_fields``) gives what its compiled writer gives: the
    same document, key for key and type for type, or None alike."""
    plan = _plan(type(event))
    assert plan is not None
    compiled = _writer(plan)
    if compiled is None:
        return
    by_fields, written = _write_fields(plan, event), compiled(event)
    assert (by_fields is None) == (written is None)
    if written is not None:
        assert by_fields is not None
        assert list(by_fields.items()) == list(written.items())
        assert [type(v) for v in by_fields.values()] == [type(v) for v in written.values()]


def test_every_built_in_kind_but_those_with_lists_has_a_writer() -> None:
    """The kinds whose documents are flat are written without cattrs (``_Plan.writer``)."""
    for cls in ALL_TYPES:
        plan = _plan(cls)
        assert plan is not None
        lists = any(_hint(cls, a.name) == tuple[str, ...] for a in attrs.fields(cls))
        assert (plan.writer is None) == lists, cls


@attrs.frozen(kw_only=True)
class Lazily(Event):
    """A plugin's kind no test reads before ``test_a_kind_is_planned_when_first_read_or_written``."""

    kind: typing.ClassVar[str] = "planned_lazily_for_test"
    count: int = 0


def test_a_kind_is_planned_when_first_read_or_written_not_when_registered() -> None:
    """Registering a kind makes nothing of its plan (a command that reads no event compiles no reader or
    writer); the first document read of it makes the plan, and then the same event as the full path."""
    from gridcore.codec import _PLANS

    local = EventCodec([Lazily, *CORE_EVENT_TYPES])
    assert Lazily not in _PLANS
    doc = {"id": "e1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1", "count": 2,
           KIND: "planned_lazily_for_test"}
    event, stored = local.read(doc)
    assert Lazily in _PLANS and local.plan("planned_lazily_for_test") is _PLANS[Lazily]
    # (first met as a document read: its writer compiled at once, as most kinds read are written too)
    assert _PLANS[Lazily].writer.__code__.co_filename == "<gridcore codec writer planned_lazily_for_test>"
    assert event == local._from_dict_fully(doc) and stored is doc
    assert local.to_dict(event) == doc
    again = EventCodec([Lazily])  # (a second codec of the process: the plan made once)
    assert again.to_dict(event) == doc and again.plan("planned_lazily_for_test") is _PLANS[Lazily]
    assert local.plan("no_such_kind") is None



@attrs.frozen(kw_only=True)
class OnlyWritten(Event):
    """A kind no other test reads or writes: written first, read later (``test_a_plans_reader_...``)."""

    kind: typing.ClassVar[str] = "written_first_for_test"
    count: int = 0
    label: str = ""


def _compiled(function: Any, what: str) -> bool:
    """True if ``function`` is the plan's reader or writer itself (``what``), not a stand-in."""
    return function.__code__.co_filename == f"<gridcore codec {what} written_first_for_test>"


def test_a_plans_reader_is_compiled_when_first_called() -> None:
    """An event written makes its kind's plan (first met as an event to write, as the events plugins derive
    are) and compiles neither its writer (until the kind is written often) nor its reader (an ingest writes the events the plugins derive and reads none of them); the first document
    read compiles the reader, which stays in the plan and reads as the fields do; the writer is compiled at
    the ``WRITTEN_BEFORE_COMPILED``-th event written, and writes the same."""
    local = EventCodec([OnlyWritten, *CORE_EVENT_TYPES])
    event = OnlyWritten(id="w1", time=datetime(2025, 3, 1, 9, tzinfo=CST), actor="m01", node="g1", count=3,
                        label="巡查")
    doc = local.to_dict(event)
    plan = local.plan("written_first_for_test")
    assert plan is not None
    assert not _compiled(plan.writer, "writer") and not _compiled(plan.reader, "reader")
    for _ in range(WRITTEN_BEFORE_COMPILED - 2):
        assert local.to_dict(event) == doc and not _compiled(plan.writer, "writer")
    assert local.to_dict(event) == doc and _compiled(plan.writer, "writer")
    assert doc == {"id": "w1", "time": "2025-03-01T09:00:00+08:00", "actor": "m01", "node": "g1", "count": 3,
                   "label": "巡查", KIND: "written_first_for_test"}
    read, stored = local.read(doc)
    assert read == event and stored is doc
    reader = plan.reader
    assert _compiled(reader, "reader")
    again = dict(doc, count=4)
    assert local.from_dict(again) == attrs.evolve(event, count=4) and plan.reader is reader
    assert reader(again) == _read_fields(plan, again)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2300, 12, 30), timezones=st.none()),
              st.sampled_from([None, 0, 8 * 60, -5 * 60]), st.sampled_from(_STYLES)).map(
        lambda t: _written(t[0] if t[1] is None else t[0].replace(tzinfo=timezone(timedelta(minutes=t[1]))), t[2])),
    st.sampled_from(["2025-03-01T09:00:00+08:00", "2025-03-01T09:00:00", "1850-01-01T00:00:00+00:00",
                     "2025-03-01\ud80009:00:00+08:00", "2025-03-01\u00e909:00:00+08:00", "2025-02-30T09:00:00+08:00",
                     "x" * 201, ""])), min_size=1, max_size=8))
def test_an_events_time_read_again_is_read_as_the_first_time(texts: list[str]) -> None:
    """The reader keeps the texts found to be an event's time (``_EVENT_TIMES``): a text read again (kept) is
    read as ``_read_fields`` reads it, as it was the first time (not kept): the same event, or None, and the
    same answer to whether ``to_dict`` writes the document as it is."""
    from gridcore import codec as module

    module._EVENT_TIMES.clear()
    plan = codec.plan(PatrolLogged.kind)
    assert plan is not None and plan.reader is not None
    plain = {**_plain(PatrolLogged), KIND: PatrolLogged.kind}
    for text in texts * 2:
        doc = {**plain, "time": text}
        by_fields, by_reader = _read_fields(plan, doc), plan.reader(doc)
        if by_fields is None or by_reader is None:
            assert by_fields is by_reader is None, doc
            assert text not in module._EVENT_TIMES
            continue
        read, expected = by_reader[0], by_fields[0]
        assert _outcome(lambda _, event=read: event, doc) == _outcome(lambda _, event=expected: event, doc)
        assert read.time.tzinfo is expected.time.tzinfo
        assert by_reader[1] is by_fields[1], doc
        assert module._EVENT_TIMES[text][0] == expected.time
