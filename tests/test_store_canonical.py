"""``json_bytes``: a document's JSON made a piece at a time is the same bytes as ``to_json``'s text.

The SQL stores and TinyDB's documents file write documents so (a checkpoint's
state is tens of MiB); what they store must not change by a byte, and a
document that cannot be stored must be refused as ``to_json`` refuses it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import StoreError
from gridcore.store import canonical
from gridcore.store.canonical import (
    checked_event,
    encoded_events,
    json_bytes,
    to_json,
    unique_new,
    utc_key,
)
from gridcore.store.sqlite_store import SQLiteStore

#: JSON values, with what is not JSON among them: NaN and infinities, lone surrogates, keys that are not
#: strings (the encoder writes numbers, booleans and None as keys), tuples, objects of other types
leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
          | st.sampled_from(["张三", "引号\"\\ \t\n", "\ud800", "é", ""]))
keys = st.text(max_size=6) | st.integers(-3, 3) | st.sampled_from([None, True, 1.5, "名"])
values = st.recursive(
    leaves,
    lambda inner: (st.lists(inner, max_size=9) | st.lists(inner, max_size=9).map(tuple)
                   | st.dictionaries(keys, inner, max_size=9)
                   | st.dictionaries(st.text(max_size=6), inner, max_size=9)),
    max_leaves=60,
) | st.just(object()) | st.just(b"bytes")
documents = st.dictionaries(st.text(max_size=6), values, max_size=9)


def outcome(make: Any, doc: Any) -> bytes | str:
    """The bytes ``make`` gives, or the ``StoreError`` it refuses with."""
    try:
        made = make(doc, "document c/k")
    except StoreError as exc:
        return f"refused: {exc}"
    return made.encode("utf-8") if isinstance(made, str) else bytes(made)


@contextmanager
def split(depth: int, run: int, large: int = 0) -> Iterator[None]:
    """``json_bytes`` going ``depth`` levels into a document with more than ``large`` items in those levels
    and encoding deeper containers ``run`` items at a time (the defaults are made for checkpoints; small
    ones split every document this test makes)."""
    was = canonical._SPLIT_DEPTH, canonical._RUN, canonical._LARGE
    canonical._SPLIT_DEPTH, canonical._RUN, canonical._LARGE = depth, run, large
    try:
        yield
    finally:
        canonical._SPLIT_DEPTH, canonical._RUN, canonical._LARGE = was


@settings(max_examples=300, deadline=None)
@given(documents)
def test_json_bytes_are_to_json_bytes_and_refuse_alike(doc: dict[str, Any]) -> None:
    expected = outcome(lambda d, what: to_json(d, what), doc)
    for depth, run, large in ((2, 64, 2048), (2, 64, 0), (0, 1, 0), (1, 2, 0), (3, 1, 0), (9, 3, 0), (2, 3, 10)):
        with split(depth, run, large):
            assert outcome(json_bytes, doc) == expected, (depth, run, large)


def reference_to_json(doc: Any, what: str) -> str:
    """``to_json`` as ``json.dumps`` with its options writes and refuses (what it always gave)."""
    try:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{what} cannot be stored: it holds text that is not valid Unicode (a lone surrogate)") from None
    return text


@settings(max_examples=300, deadline=None)
@given(documents | values)
def test_to_json_writes_and_refuses_as_json_dumps(doc: Any) -> None:
    """``to_json`` encodes a dict with a C encoder made once (``_ENCODE``): the same text, the same refusal."""
    assert outcome(to_json, doc) == outcome(reference_to_json, doc)


def test_to_json_says_what_json_dumps_says_of_a_cycle_or_a_depth() -> None:
    deep: list[Any] = []
    for _ in range(100_000):  # (Python 3.13's encoder nests 5,000 deep; every version stops before this)
        deep = [deep]
    for doc in ({"deep": deep}, {"self": []}, {"a": {"b": {"x": float("inf")}}}):
        if "self" in doc:
            doc["self"].append(doc)
        assert outcome(to_json, doc) == outcome(reference_to_json, doc)
        assert outcome(to_json, doc).startswith("refused: document c/k cannot be stored as JSON: ")
    assert outcome(to_json, {"ok": 1}) == b'{"ok":1}'  # (nothing left over from a refusal)


times = st.sampled_from(["2025-03-01T09:00:00+08:00", "2025-03-01T01:00:00+00:00", "2025-03-01T09:00:00.5+08:00",
                         "2025-03-01T09:00:00", "2025-03-01 09:00+08:00", "not a time", "2025-02-30T00:00:00Z",
                         "2025-03-01T09:00:00-23:59", "0001-01-01T00:00:00+00:00", "2025-03-01T09:00:00Z"])


def reference_checked(doc: dict[str, Any]) -> tuple[str, str, str] | str:
    """``checked_event``'s key made from the time every time (no texts remembered), or the refusal."""
    from datetime import datetime
    try:
        ident, kind, _ = checked_event({**doc, "time": "2025-01-01T00:00:00+00:00"})
        moment = datetime.fromisoformat(doc["time"])
    except (StoreError, ValueError) as exc:
        return f"refused: {exc}" if isinstance(exc, StoreError) else "refused: time"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return "refused: zone"
    return ident, kind, utc_key(moment)


#: zones: fixed offsets (of seconds and microseconds too), UTC, and the zones of the tz database (folds, gaps)
zones = (st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23, minutes=59, seconds=59),
                                            max_value=timedelta(hours=23, minutes=59, seconds=59)))
         | st.just(UTC) | st.timezones())


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones,
                    allow_imaginary=True),
       st.sampled_from([None, 0, 1, 500_000, 999_999]), st.booleans())
def test_utc_key_is_the_utc_time_written_with_microseconds(moment: datetime, micro: int | None, fold: bool) -> None:
    """``utc_key`` writes what ``astimezone(UTC)``, ``replace(tzinfo=None)`` and ``isoformat`` with
    microseconds write (the store's order rests on it), whatever the zone, the fold and the microseconds."""
    moment = moment.replace(fold=int(fold)) if micro is None else moment.replace(microsecond=micro, fold=int(fold))
    expected = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    assert utc_key(moment) == expected and len(expected) == 26
    with pytest.raises(StoreError):
        utc_key(moment.replace(tzinfo=None))


@settings(max_examples=200, deadline=None)
@given(st.lists(times, min_size=1, max_size=30), st.integers(1, 4))
def test_checked_event_keys_are_the_times_own(texts: list[str], most: int) -> None:
    """``checked_event`` remembers the key of each time text it read (``_KEYS``, emptied when full)."""
    was = canonical._MOST_KEYS
    canonical._MOST_KEYS = most
    try:
        for text in texts:
            doc = {"id": "e1", "kind": "k", "time": text}
            try:
                found: tuple[str, str, str] | str = checked_event(doc)
            except StoreError as exc:
                found = str(exc)
            expected = reference_checked(doc)
            if isinstance(expected, str):
                assert isinstance(found, str) and text in found
            else:
                assert found == expected
            assert len(canonical._KEYS) <= most
    finally:
        canonical._MOST_KEYS = was
        canonical._KEYS.clear()


#: times written ``YYYY-MM-DDTHH:MM:SS+HH:MM`` with any two digits in each place (days, hours, minutes,
#: seconds and offsets out of range too), and the other separators ``fromisoformat`` takes or refuses
hour_texts = st.builds(
    lambda y, mo, d, sep, h, mi, s, sign, oh, om: f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{sign}{oh:02d}:{om:02d}",
    st.sampled_from([1, 2024, 2025, 9999]), st.integers(0, 13), st.integers(0, 32), st.sampled_from("T T_"),
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), st.sampled_from("+-+"),
    st.sampled_from([0, 5, 8, 14, 23, 24]), st.sampled_from([0, 0, 30, 60]))


@settings(max_examples=400, deadline=None)
@given(st.lists(hour_texts, min_size=1, max_size=20), st.integers(1, 3))
def test_a_new_minute_is_keyed_from_its_hour(texts: list[str], most: int) -> None:
    """A time under an offset of whole hours is keyed from its hour's key (``_HOURS``): the same key as the
    time's own, or the same refusal, whatever the digits (a minute or second of 60, an hour of 24)."""
    was = canonical._MOST_KEYS
    canonical._MOST_KEYS = most
    canonical._HOURS.clear()
    try:
        for text in texts:
            canonical._KEYS.clear()
            doc = {"id": "e1", "kind": "k", "time": text}
            try:
                found: tuple[str, str, str] | str = checked_event(doc)
            except (StoreError, OverflowError) as exc:
                found = f"{type(exc).__name__}: {exc}"
            try:
                expected: tuple[str, str, str] | str = reference_checked(doc)
            except OverflowError as exc:
                expected = f"OverflowError: {exc}"
            if isinstance(expected, str) and expected.startswith("refused"):
                assert isinstance(found, str) and text in found
            else:
                assert found == expected
            assert len(canonical._HOURS) <= most
    finally:
        canonical._MOST_KEYS = was
        canonical._KEYS.clear()
        canonical._HOURS.clear()


def test_cycles_are_refused_wherever_they_close() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    inner: list[Any] = []
    through = {"a": {"b": inner}}
    inner.append(through)
    many: list[Any] = []
    wide = {"a": {"b": [many] * 100}}
    many.append(wide)
    for doc in (loop, through, wide):
        for depth, run in ((2, 64), (0, 1), (5, 2)):
            with split(depth, run):
                assert outcome(json_bytes, doc) == outcome(to_json, doc) == (
                    "refused: document c/k cannot be stored as JSON: Circular reference detected")


def test_a_large_document_in_runs() -> None:
    """A checkpoint-like state: collections of many items two levels down, encoded in runs."""
    doc: dict[str, Any] = {"stamp": "s", "state": {
        "accounts": [[f"r{i}", "张三", i, [i / 7, None]] for i in range(3000)],
        "names": {f"id{i}": {"parts": {"k": i}} for i in range(777)},
        "few": {"a": [1, 2, 3]}, "none": [], "empty": {}}}
    assert canonical._large(doc)  # (split as a checkpoint's state is)
    assert json_bytes(doc, "d") == to_json(doc, "d").encode("utf-8")


@pytest.mark.parametrize("large", [2048, 0])  # (0: every document is written as its UTF-8, as a large one is)
def test_sqlite_stores_the_bytes_as_the_same_text(tmp_path: Path, large: int) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    docs = {"a": {"名": "张三", "x": [1, 2.5, None], "q": '引号"\\'}, "b": {}}
    with split(2, 64, large):
        store.put_many("c", docs)
        store.put("c", "d", {"é": True})
    parts = {"p1": '{"名":"张三","n":[1,2]}', "p2": '{"ascii":true}'}  # (put_text: a part's text, as given)
    for key, text in parts.items():
        store.put_text("c", key, text)
    with sqlite3.connect(tmp_path / "s.db") as db:
        rows = dict(db.execute("SELECT key, typeof(doc) || ':' || doc FROM documents").fetchall())
    assert rows == {**{key: "text:" + to_json(doc, key) for key, doc in {**docs, "d": {"é": True}}.items()},
                    **{key: "text:" + text for key, text in parts.items()}}
    assert store.get_text("c", "a") == to_json(docs["a"], "a")
    assert store.get_text("c", "p1") == parts["p1"]
    store.close()


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": "\ud800"}, {"x": object()}])
def test_sqlite_put_many_writes_nothing_when_one_document_is_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.put("c", "a", {"v": 1})
    with pytest.raises(StoreError, match="document c/z cannot be stored"):
        store.put_many("c", {"a": {"v": 2}, "y": {"v": 3}, "z": bad})
    assert dict(store.items("c")) == {"a": {"v": 1}}
    store.close()


def reference_rows(docs: list[Any], utf8: bool) -> list[tuple[str, str, str, str | bytes]] | str:
    """What ``encoded_events`` always was: ``unique_new`` (every document checked), then ``to_json`` of each
    one kept; with ``utf8`` a text of other than ASCII as its UTF-8.  Or the refusal."""
    try:
        rows = [(ident, kind, key, to_json(doc, f"event {ident}")) for ident, kind, key, doc in unique_new(docs, ())]
    except StoreError as exc:
        return f"refused: {exc}"
    return [(i, k, key, text.encode("utf-8") if utf8 and not text.isascii() else text) for i, k, key, text in rows]


class Mapped(Mapping[str, Any]):
    """An event document that is a mapping but not a dict."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self._doc = doc

    def __getitem__(self, key: str) -> Any:
        return self._doc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc)

    def __len__(self) -> int:
        return len(self._doc)


class Named(str):
    """A text that is not exactly ``str``."""


event_docs = st.builds(
    lambda ident, kind, time, extra: {"id": ident, "kind": kind, "time": time, **extra},
    st.sampled_from(["e1", "e2", "e3", "", Named("e1"), 7, None]),
    st.sampled_from(["patrol_logged", "", Named("k"), None]),
    times | st.sampled_from([Named("2025-03-01T09:00:00+08:00"), 5]),
    st.dictionaries(st.sampled_from(["name", "n", "x"]), leaves, max_size=3),
) | st.builds(Mapped, st.fixed_dictionaries({"id": st.sampled_from(["e1", "e4"]), "kind": st.just("k"),
                                             "time": times, "name": leaves})) | st.sampled_from([["not", "a", "dict"]])


@settings(max_examples=400, deadline=None)
@given(st.lists(event_docs, max_size=8), st.booleans())
def test_encoded_events_are_unique_new_then_to_json(docs: list[Any], utf8: bool) -> None:
    """``encoded_events`` (a store's batch: checked, each id once, encoded) gives the rows and the refusals
    ``unique_new`` and ``to_json`` give, in the same order: a document that is not an event is refused
    before any document that is not JSON, whichever comes first in the batch."""
    try:
        found: Any = encoded_events(docs, utf8=utf8)
    except StoreError as exc:
        found = f"refused: {exc}"
    assert found == reference_rows(docs, utf8)


def test_sqlite_stores_an_event_as_text(tmp_path: Path) -> None:
    """An event's document of other than ASCII, given to SQLite as its UTF-8, is stored as the same text."""
    store = SQLiteStore(tmp_path / "s.db")
    docs = [{"id": "e1", "time": "2025-03-01T09:00:00+08:00", "name": "张三", "kind": "k"},
            {"id": "e2", "time": "2025-03-01T09:00:00+08:00", "name": "ascii", "kind": "k"}]
    assert store.append(docs, expected=0) == 2
    with sqlite3.connect(tmp_path / "s.db") as db:
        rows = db.execute("SELECT id, typeof(doc), doc FROM events ORDER BY seq").fetchall()
    assert rows == [(doc["id"], "text", to_json(doc, "d")) for doc in docs]
    assert [doc for doc in store.events()] == docs
    store.close()
