"""gridcore.parts: pieces of a state in the store under the hash of their content (ledger history, closed incidents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore import StoreError
from gridcore.parts import (
    PartBytes,
    PartCache,
    bytes_key,
    part_bytes,
    part_key,
    part_text,
    part_writer,
    read_part,
    stored_part,
    text_key,
)
from gridcore.store.sqlite_store import SQLiteStore


def test_a_key_is_the_hash_of_the_canonical_json_whatever_the_order_of_keys() -> None:
    assert part_key({"b": [1, "二"], "a": None}) == part_key({"a": None, "b": [1, "二"]})
    assert part_key({"a": 1}) != part_key({"a": 2})
    assert part_key({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256("{}")


def test_a_part_is_read_back_checked_against_its_key() -> None:
    stored: dict[str, dict[str, Any]] = {}
    doc = {"format": 1, "entries": [["e1", 5]]}
    stored[part_key(doc)] = doc
    assert read_part(stored.get, part_key(doc), collection="c", what="test") == doc
    with pytest.raises(StoreError, match="test part .* is missing from the store's 'c' collection; rebuild"):
        read_part(stored.get, "0" * 64, collection="c", what="test")
    with pytest.raises(StoreError, match="is missing"):
        read_part(None, part_key(doc), collection="c", what="test")  # nothing was ever stored
    stored[part_key(doc)] = {"format": 1, "entries": [["e1", 6]]}  # altered in place
    with pytest.raises(StoreError, match="does not match its key: it was altered"):
        read_part(stored.get, part_key(doc), collection="c", what="test")


def test_a_part_s_text_is_its_canonical_json_and_its_key_the_hash_of_that_text() -> None:
    doc = {"format": 1, "entries": [["e1", 5, {"z": 1, "a": "二"}]]}
    text = part_text(doc)
    assert text == '{"entries":[["e1",5,{"a":"二","z":1}]],"format":1}'
    assert text == json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert text_key(text) == part_key(doc) == part_key(json.loads(text))
    with pytest.raises(ValueError):
        part_text({"x": float("nan")})


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=12)


@given(st.dictionaries(st.text(max_size=4), JSON | st.floats(allow_nan=False, allow_infinity=False), max_size=4))
def test_a_part_s_text_is_what_json_dumps_writes_with_the_canonical_options(doc: dict[str, Any]) -> None:
    """``part_text`` skips the check for circular references: the same text as ``json.dumps`` with it."""
    assert part_text(doc) == json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                        allow_nan=False)


class WithoutText:
    """A store from a plugin that has no ``put_text``: it is given the document."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], Any] = {}

    def put(self, collection: str, key: str, doc: Any) -> None:
        self.docs[(collection, key)] = doc


@given(st.dictionaries(st.text(max_size=4), JSON, max_size=4))
def test_a_part_is_written_as_its_canonical_text_where_the_store_can(doc: dict[str, Any]) -> None:
    text = part_text(doc)
    plain = WithoutText()
    part_writer(plain, "c")(text_key(text), text, doc)
    assert plain.docs == {("c", text_key(text)): doc}
    given_later = WithoutText()  # the document given as a function (a part kept as its text): called
    part_writer(given_later, "c")(text_key(text), text, lambda: json.loads(text))
    assert given_later.docs == {("c", text_key(text)): doc}


def test_a_sqlite_store_holds_the_very_text_whose_hash_is_the_key(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    doc = {"format": 1, "entries": [["e1", 5, {"z": 1, "a": "二"}]]}
    text = part_text(doc)
    part_writer(store, "c")(text_key(text), text, doc)
    held = store._db.execute("SELECT doc FROM documents WHERE key = ?", (text_key(text),)).fetchone()[0]
    assert held == text
    assert read_part(lambda k: store.get("c", k), text_key(text), collection="c", what="test") == doc
    store.close()


@given(st.dictionaries(st.text(max_size=4), JSON | st.floats(allow_nan=False, allow_infinity=False), max_size=4))
def test_a_part_s_bytes_are_its_text_in_utf8_and_their_hash_its_key(doc: dict[str, Any]) -> None:
    raw = part_bytes(doc)
    assert raw == part_text(doc).encode()
    assert bytes_key(raw) == text_key(part_text(doc)) == part_key(doc)


def test_a_part_s_bytes_are_refused_as_its_text_is() -> None:
    with pytest.raises(ValueError):
        part_bytes({"x": float("nan")})
    with pytest.raises(UnicodeEncodeError):  # (a lone surrogate: no UTF-8; ``text_key`` of its text refuses it too)
        part_bytes({"x": "\ud800"})


@pytest.mark.parametrize("doc", [{"format": 1, "entries": [["e1", 5, {"z": 1, "a": "二"}]]}, {"ascii": [True, None]}])
def test_a_part_given_as_its_bytes_is_held_as_the_same_text(tmp_path: Path, doc: dict[str, Any]) -> None:
    """SQLite writes the bytes that were hashed (``put_utf8``), the same row ``put_text`` writes of the text;
    a store without ``put_utf8`` is given the text, and one with neither the document."""
    raw, text = part_bytes(doc), part_text(doc)
    store = SQLiteStore(tmp_path / "s.db")
    part_writer(store, "c")(bytes_key(raw), raw, doc)
    store.put_text("c", "as text", text)
    rows = dict(store._db.execute("SELECT key, typeof(doc) || ':' || doc FROM documents").fetchall())
    assert rows == {bytes_key(raw): "text:" + text, "as text": "text:" + text}
    assert stored_part(store, "c", bytes_key(raw)) == text
    assert read_part(lambda k: stored_part(store, "c", k), bytes_key(raw), collection="c", what="test") == doc
    store.close()

    class TextOnly:
        def __init__(self) -> None:
            self.texts: dict[tuple[str, str], str] = {}

        def put_text(self, collection: str, key: str, given: str) -> None:
            assert type(given) is str
            self.texts[(collection, key)] = given

    text_only, plain = TextOnly(), WithoutText()
    part_writer(text_only, "c")(bytes_key(raw), raw, doc)
    part_writer(plain, "c")(bytes_key(raw), raw, lambda: json.loads(raw))
    assert text_only.texts == {("c", bytes_key(raw)): text} and plain.docs == {("c", bytes_key(raw)): doc}


@pytest.mark.parametrize(("given", "said"), [
    (b'{"a":"\xe4\xb8"}', "is not valid UTF-8"),  # (a character cut short)
    (b'{"a":"\xed\xa0\x80"}', "is not valid UTF-8"),  # (a surrogate's bytes)
    (b"[1,2]", "is not the JSON of an object"),
    (b'{"a":', "is not the JSON of an object"),
    ('{"a":1}', "must be given as the UTF-8 of its JSON text, got str"),
])
def test_sqlite_put_utf8_refuses_what_is_not_the_utf8_of_a_json_object(tmp_path: Path, given: Any, said: str) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.put_utf8("c", "k", b'{"kept":"\xe4\xba\x8c"}')
    with pytest.raises(StoreError, match=said):
        store.put_utf8("c", "k", given)
    assert store.get("c", "k") == {"kept": "二"}  # nothing written
    store.close()


def test_sqlite_writes_part_bytes_unchecked_and_other_bytes_checked(tmp_path: Path) -> None:
    """``part_bytes`` of a dict gives ``PartBytes`` (the UTF-8 of an object's JSON, made by the encoder): SQLite
    writes them without parsing them again (no ``json_valid``), the same row as the same text checked; bytes
    made elsewhere, equal or not, are still checked (and refused when they are no object's JSON)."""
    doc = {"format": 1, "entries": [["e1", 5, {"z": 1, "a": "二"}]]}
    raw = part_bytes(doc)
    assert type(raw) is PartBytes and raw == bytes(raw) == part_text(doc).encode()
    assert type(part_bytes(doc, typed=True)) is PartBytes
    store = SQLiteStore(tmp_path / "s.db")
    said: list[str] = []
    store._db.set_trace_callback(said.append)
    store.put_utf8("c", "made", raw)
    assert said and not any("json_valid" in statement for statement in said)
    said.clear()
    store.put_utf8("c", "given", bytes(raw))
    assert any("json_valid" in statement for statement in said)
    store._db.set_trace_callback(None)
    rows = dict(store._db.execute("SELECT key, typeof(doc) || ':' || doc FROM documents").fetchall())
    assert rows == {"made": "text:" + part_text(doc), "given": "text:" + part_text(doc)}
    with pytest.raises(StoreError, match="is not the JSON of an object"):
        store.put_utf8("c", "k", b"[1,2]")
    store.close()


def test_a_part_is_checked_from_the_text_the_store_holds(tmp_path: Path) -> None:
    """SQLite gives the text it holds: a part written as its canonical text is checked by hashing it;
    one written as a document (before parts were written as text, or by ``put``) is checked by encoding
    it again; either one altered in the store is refused with the same error as before."""
    store = SQLiteStore(tmp_path / "s.db")
    doc = {"format": 1, "entries": [["e1", 5, {"z": 1, "a": "二"}]]}
    text = part_text(doc)
    key = text_key(text)

    def read() -> dict[str, Any]:
        return read_part(lambda k: stored_part(store, "c", k), key, collection="c", what="test")

    part_writer(store, "c")(key, text, doc)
    assert stored_part(store, "c", key) == text and read() == doc
    store.put("c", key, doc)  # as parts were stored before: keys in the order they were built
    assert stored_part(store, "c", key) != text and read() == doc
    store._db.execute("UPDATE documents SET doc = ? WHERE key = ?", (json.dumps(doc, indent=1), key))
    assert read() == doc  # the same content, written otherwise
    for altered in (text.replace('"z":1', '"z":2'), text.replace("二", "三"), text[:-1], "[1]", '{"a": NaN}'):
        store._db.execute("UPDATE documents SET doc = ? WHERE key = ?", (altered, key))
        with pytest.raises(StoreError, match=f"the test part {key} in the store's 'c' collection does not "
                                             "match its key: it was altered; rebuild the state"):
            read()
    store.put("c", key, {"format": 1, "entries": [["e1", 6, {"z": 1, "a": "二"}]]})
    with pytest.raises(StoreError, match="does not match its key: it was altered"):
        read()
    store._db.execute("DELETE FROM documents WHERE key = ?", (key,))
    with pytest.raises(StoreError, match="is missing from the store's 'c' collection"):
        read()
    store.close()


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 6)), max_size=40), st.integers(1, 10),
       st.booleans())
def test_the_cache_keeps_the_newest_within_its_budget(puts: list[tuple[str, int]], budget: int,
                                                     by_items: bool) -> None:
    cache: PartCache[list[int]] = PartCache(budget, by_items=by_items)
    held: dict[str, list[int]] = {}
    for key, size in puts:
        items = list(range(size))
        cache.put(key, items)
        held[key] = items
        assert cache.get(key) is items  # the newest always stays
        kept = {k: v for k in held if (v := cache._parts.get(k)) is not None}
        weight = sum(len(v) if by_items else 1 for v in kept.values())
        assert len(kept) == 1 or weight <= budget
        assert all(v is held[k] for k, v in kept.items())  # never a stale part under a key


@given(st.dictionaries(st.text(max_size=70), st.integers(-(2**70), 2**70) | st.booleans(), max_size=5))
def test_a_name_s_first_document_is_written_out_as_to_json_writes_it(parts_of: dict[str, Any]) -> None:
    """``canonical.new_parts_text`` (the SQLite store's ``merge_parts`` for a name with no document yet): the
    text ``to_json`` gives the merged document, or None where a key or position is not plainly written."""
    from gridcore.store.canonical import merged_parts, new_parts_text, to_json

    text = new_parts_text(parts_of)
    if text is not None:
        assert text == to_json(merged_parts("c", "n", None, parts_of), "n")
    hexed = {format(abs(hash(k)), "x") + "ab": abs(v) if type(v) is int else 0 for k, v in parts_of.items()}
    assert new_parts_text(hexed) == to_json(merged_parts("c", "n", None, hexed), "n")
