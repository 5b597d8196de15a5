"""orjson's text (``gridcore.fastjson.same_json``) is the standard library's, byte for byte, or not used.

Whatever the document: every code point, floats of every size (NaN and
infinities too), whole numbers beyond 64 bits, keys that are not text,
subclasses, nesting and cycles.  Where ``same_json`` answers, its bytes are
``json``'s (the store's event text, a part's canonical text); the documents
the engine writes every event (flat, plain values) are answered.  Through the
store's ``encoded_events`` and ``part_text`` too: the same rows and texts
with orjson as without it, and for the documents a kind's writer made
(``EventBatch``), which are not walked.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import fastjson, parts
from gridcore.codec import EventCodec
from gridcore.events import CORE_EVENT_TYPES, Event
from gridcore.store import EventBatch, canonical

orjson = pytest.importorskip("orjson")

EVENT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
PART = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True)

texts = st.text(st.characters(codec="utf-8") | st.sampled_from(["\ud800", "\x00", "\x7f", "\u2028", "\ufeff"]),
                max_size=10)
floats = st.floats() | st.sampled_from([1e-4, -1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, -0.0, 5e-324])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
                    floats, texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=20)


class Level(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


def json_bytes(doc: Any, *, sort_keys: bool) -> bytes | Exception:
    try:
        return (PART if sort_keys else EVENT).encode(doc).encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        return exc


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(texts, values, max_size=6), st.booleans())
def test_same_bytes_or_none(doc: dict[str, Any], sort_keys: bool) -> None:
    got = fastjson.same_json(doc, sort_keys=sort_keys)
    if got is not None:
        assert got == json_bytes(doc, sort_keys=sort_keys)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                                        st.floats(min_value=1e-4, max_value=1e15), texts.filter(str.isprintable)),
                       max_size=12))
def test_plain_documents_are_answered(doc: dict[str, Any]) -> None:
    # (an event's document: texts, whole numbers, floats of daily sizes; lone surrogates aside)
    if any(isinstance(v, str) and "\ud800" in v for v in (*doc, *doc.values())):
        return
    got = fastjson.same_json(doc)
    assert got is not None
    assert got == EVENT.encode(doc).encode("utf-8")


@pytest.mark.parametrize("value", [
    1e-5, 1e16, -1e17, float("nan"), float("inf"), 2**64, Level.ONE, Text("x"), datetime(2025, 1, 1, tzinfo=UTC),
    OrderedDict(a=1), "\ud800",
])
def test_what_differs_is_left_to_json(value: Any) -> None:
    assert fastjson.same_json({"a": value}) is None
    assert fastjson.same_json({"a": [{"b": (value,)}]}, sort_keys=True) is None
    assert fastjson.same_json({1: "a"}) is None  # (json writes the key as text)


#: What a document ``typed_json`` is given holds (its maker's types vouch for it): floats only in range.
typed_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70), texts,
              st.floats(min_value=1e-4, max_value=9.9e15) | st.floats(min_value=-9.9e15, max_value=-1e-4)
              | st.sampled_from([0.0, -0.0, 1e-4, 9999999999999998.0])),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(texts, typed_values, max_size=6), st.booleans())
def test_typed_documents_are_json_s_bytes_unwalked(doc: dict[str, Any], sort_keys: bool) -> None:
    """Without the walk: ``json``'s bytes, or None where orjson refuses (a number beyond 64 bits, a lone
    surrogate) and ``json`` writes the document (or refuses it: a lone surrogate has no UTF-8)."""
    got = fastjson.typed_json(doc, sort_keys=sort_keys)
    if got is not None:
        assert got == json_bytes(doc, sort_keys=sort_keys)
    else:
        assert fastjson.same_json(doc, sort_keys=sort_keys) is None


@dataclasses.dataclass
class Pair:
    a: int = 1


@pytest.mark.parametrize("value", [
    Text("x"), datetime(2025, 1, 1, tzinfo=UTC), date(2025, 1, 1), OrderedDict(a=1), Pair(), 2**64, "\ud800",
])
def test_what_orjson_writes_its_own_way_it_refuses_for_a_typed_document(value: Any) -> None:
    """A subclass, a time, a dataclass (which ``json`` writes otherwise or refuses) are refused, not written
    orjson's way: the caller encodes the document as ``json`` does."""
    assert fastjson.typed_json({"a": [value]}, sort_keys=True) is None
    assert fastjson.typed_json({Text("k"): 1}) is None and fastjson.typed_json({1: "a"}) is None

    def made(typed: bool) -> bytes | str:
        try:
            return parts.part_bytes({"a": [value]}, typed=typed)
        except (TypeError, UnicodeEncodeError) as exc:  # (what json says of it, either way)
            return repr(exc)

    assert made(True) == made(False)


def test_a_cycle_and_deep_nesting_are_left_to_json() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert fastjson.same_json({"a": loop}) is None
    deep: Any = 1
    for _ in range(fastjson.MAX_DEPTH + 5):
        deep = [deep]
    assert fastjson.same_json({"a": deep}) is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(texts, values, max_size=5), min_size=1, max_size=5), st.booleans())
def test_store_rows_and_part_texts_are_the_same_without_orjson(docs: list[dict[str, Any]], utf8: bool) -> None:
    events = [{**doc, "id": f"e{n}", "kind": "k", "time": "2025-01-01T08:00:00+08:00"} for n, doc in enumerate(docs)]

    def made() -> tuple[Any, Any]:
        try:
            rows: Any = canonical.encoded_events(events, utf8=utf8)
        except Exception as exc:  # noqa: BLE001 - the same error either way
            rows = repr(exc)
        try:
            text: Any = parts.part_text({"format": 1, "entries": docs})
        except Exception as exc:  # noqa: BLE001
            text = type(exc).__name__
        return rows, text

    fast = made()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(fastjson, "_dumps", None)
        assert made() == fast


@attrs.frozen(kw_only=True)
class Measured(Event):
    """A kind with a number and a whole number: its writer declines what orjson writes otherwise."""

    kind: typing.ClassVar[str] = "measured_for_test"
    ratio: float = 0.0
    count: int = 0
    label: str = ""


_CODEC = EventCodec((*CORE_EVENT_TYPES, Measured))
_EDGES = st.sampled_from([0.0, -0.0, 1e-4, -1e-4, 9.999999999999999e-05, 1e16, -1e16, 9999999999999998.0, 5e-324,
                          1.5, float("inf"), float("nan")])


@settings(max_examples=300, deadline=None)
@given(st.one_of(_EDGES, st.floats(), st.integers(-(2**70), 2**70)), st.integers(-(2**70), 2**70) | st.sampled_from(
    [2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64]), texts, st.booleans())
def test_a_kind_writer_makes_only_what_orjson_writes_as_json(ratio: Any, count: int, label: str, utf8: bool) -> None:
    """What a kind's writer makes (``EventCodec.written``) orjson writes as ``json`` does; and a batch that
    says which documents the writer made (``EventBatch``) gives the rows of a plain list, with orjson and
    without."""
    event = object.__new__(Measured)
    for name, value in (("id", "e1"), ("time", datetime(2025, 3, 1, 9, tzinfo=UTC)), ("actor", "m01"),
                        ("node", "g1"), ("ratio", ratio), ("count", count), ("label", label)):
        object.__setattr__(event, name, value)
    doc = _CODEC.written(event)
    if doc is None:
        return
    assert fastjson.dumps_written() is not None
    assert orjson.dumps(doc) == json_bytes(doc, sort_keys=False)
    batch = EventBatch()
    batch.add_written(doc)
    batch.append({"id": "e2", "kind": "k", "time": "2025-03-01T09:00:00+08:00", "ratio": ratio, "label": label})
    assert batch.written == {0}

    def rows(docs: Any) -> Any:
        try:
            return canonical.encoded_events(docs, utf8=utf8)
        except Exception as exc:  # noqa: BLE001 - the same error either way
            return repr(exc)

    plain = rows(list(batch))
    assert rows(batch) == plain
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(fastjson, "_dumps", None)
        assert rows(batch) == plain


def test_a_batch_forgets_what_it_held_when_cleared() -> None:
    batch = EventBatch()
    batch.add_written({"id": "e1"})
    batch.append({"id": "e2"})
    batch.clear()
    batch.append({"id": "e3"})
    assert batch == [{"id": "e3"}] and batch.written == set()


@settings(max_examples=200, deadline=None)
@given(values)
def test_plain_is_what_same_json_walks(value: Any) -> None:
    # (``same_json`` answers for a document whose values the walk passes, unless orjson refuses it)
    if fastjson.plain(value):
        got = fastjson.same_json({"a": value})
        assert got is None or got == json_bytes({"a": value}, sort_keys=False)
    else:
        assert fastjson.same_json({"a": value}) is None


def test_a_typed_part_is_not_walked_and_hashes_as_json_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"format": 3, "entries": [{"incident": {"id": "i1", "severity": 2, "tags": ["甲", "b"], "ok": True,
                                                  "place": None}, "last": "2025-01-02T08:00:00+08:00"}]}
    expected = PART.encode(doc).encode("utf-8")

    def walked(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(parts, "same_json", walked)
    assert parts.part_bytes(doc, typed=True) == expected
    with pytest.raises(AssertionError, match="walked"):
        parts.part_bytes(doc)


def _typed(value: Any) -> Any:
    """``value`` with every number and text tagged by its type (``1`` and ``1.0`` differ; so do ``0.0`` and ``-0.0``)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, repr(value))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(texts, values, max_size=6), st.booleans(), st.booleans())
def test_a_written_text_reads_as_json_reads_it(doc: dict[str, Any], sort_keys: bool, ascii_only: bool) -> None:
    """``written_loads`` (a part's text whose key it is) gives ``json.loads``' values, type for type: whole
    numbers beyond 64 bits, floats of every size, escapes, lone surrogates written as escapes."""
    try:
        text = json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":"), allow_nan=False, sort_keys=sort_keys)
        raw = text.encode()
    except (ValueError, UnicodeEncodeError):
        return  # (NaN, or a lone surrogate no UTF-8 holds: no text this code writes)
    assert _typed(fastjson.written_loads(raw)) == _typed(json.loads(text))


@pytest.mark.parametrize("text", ['{"a":18446744073709551616}', '{"a":-9223372036854775809}', '{"a":1e400}',
                                  '{"a":"\\ud800"}', '{"a":0.1000000000000000055511151231257827}', '{"a":[1,]}'])
def test_what_orjson_reads_otherwise_or_refuses_is_json_s(text: str) -> None:
    try:
        expected: Any = _typed(json.loads(text))
    except ValueError as exc:
        expected = type(exc)
    try:
        got: Any = _typed(fastjson.written_loads(text.encode()))
    except ValueError as exc:
        got = type(exc)
    assert got == expected
