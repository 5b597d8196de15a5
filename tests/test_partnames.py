"""``gridcore.partnames``: which stored parts hold a name, in the store, read as little as possible."""

from __future__ import annotations

from typing import Any

from gridcore.partnames import PartNames


def counting(docs: dict[str, dict[str, Any]], reads: list[str]) -> Any:
    def loader(name: str) -> dict[str, Any] | None:
        reads.append(name)
        return docs.get(name)
    return loader


def test_the_newest_stored_part_of_this_archive_answers_and_other_histories_are_kept() -> None:
    docs: dict[str, dict[str, Any]] = {"a": {"parts": {"elsewhere": 3}}}  # a part of another history
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    names.note(["a", "event:e1"], (0, 0))
    names.note(["b"], (0, 1))
    names.note(["a"], (1, 0))
    names.stored([(0, "k0", [["a", "event:e1"], ["b"]]), (1, "k1", [["a"]])], docs.update, unstored=[])
    assert docs["a"] == {"parts": {"elsewhere": 3, "k0": 0, "k1": 0}}  # merged, not overwritten
    assert docs["event:e1"] == {"parts": {"k0": 0}} and docs["b"] == {"parts": {"k0": 1}}
    again = PartNames(counting(docs, reads))
    again.restore({"k0": 0, "k1": 1}, unstored=[])
    assert (again.locate("a"), again.locate("b"), again.locate("c")) == ((1, 0), (0, 1), None)
    reads.clear()
    assert (again.locate("a"), again.locate("c")) == ((1, 0), None) and reads == []  # kept, not read again


def test_an_entry_whose_own_name_has_no_document_is_written_without_reads() -> None:
    docs: dict[str, dict[str, Any]] = {"old": {"parts": {"k0": 0}}}
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    names.restore({"k0": 0}, unstored=[])
    assert names.locate("new") is None and names.locate("old") == (0, 0)  # as a report's id is looked up
    reads.clear()
    names.note(["new", "event:x"], (1, 0))
    names.note(["old", "event:y"], (1, 1))
    names.stored([(1, "k1", [["new", "event:x"], ["old", "event:y"]])], docs.update, unstored=[])
    # "new" had no document, so neither can its other names: only the names of "old"'s entry are read
    assert sorted(reads) == ["event:y", "old"]
    assert docs["new"] == {"parts": {"k1": 0}} and docs["old"] == {"parts": {"k0": 0, "k1": 1}}
    assert names.locate("new") == (1, 0) and names.locate("event:x") == (1, 0)


class Merging:
    """A names writer with ``merge`` (as ``gridcore.parts.NamesWriter`` over a store with ``merge_parts``)."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.merged: list[dict[str, dict[str, int]]] = []

    def __call__(self, docs: dict[str, dict[str, Any]]) -> None:
        raise AssertionError("whole documents are not written where the store merges")

    def merge(self, additions: dict[str, dict[str, int]]) -> None:
        self.merged.append(additions)
        for name, parts in additions.items():
            self.docs[name] = {"parts": {**self.docs.get(name, {"parts": {}})["parts"], **parts}}


def test_a_store_that_merges_gets_the_same_documents_with_no_reads() -> None:
    parts = [(0, "k0", [["a", "event:e1"], ["b"]]), (1, "k1", [["a"]])]
    start = {"a": {"parts": {"elsewhere": 3}}, "b": {"parts": {"k9": 2}}}
    by_read: dict[str, dict[str, Any]] = {k: dict(v) for k, v in start.items()}
    PartNames(counting(by_read, [])).stored(parts, by_read.update, unstored=[])
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in start.items()}
    reads: list[str] = []
    names = PartNames(counting(merged, reads))
    writer = Merging(merged)
    names.stored(parts, writer, unstored=[((2, 0), ["c"])])
    assert merged == by_read and reads == []
    assert writer.merged == [{"a": {"k0": 0, "k1": 0}, "event:e1": {"k0": 0}, "b": {"k0": 1}}]
    assert (names.locate("a"), names.locate("b"), names.locate("c")) == ((1, 0), (0, 1), (2, 0))


def test_the_names_writer_merges_into_stores_that_can(tmp_path: Any) -> None:
    from gridcore.parts import NamesWriter
    from gridcore.store.sqlite_store import SQLiteStore

    store = SQLiteStore(tmp_path / "s.db")
    writer = NamesWriter(store, "names")
    assert writer.merge is not None
    names = PartNames(lambda name: store.get("names", name))
    names.stored([(0, "k0", [["a"], ["b", "a"]])], writer, unstored=[])
    names.stored([(1, "k1", [["b"]])], writer, unstored=[])
    assert dict(store.items("names")) == {"a": {"parts": {"k0": 1}}, "b": {"parts": {"k0": 1, "k1": 0}}}

    class Plain:  # a plugin's backend without merge_parts
        def __init__(self) -> None:
            self.docs: dict[str, dict[str, Any]] = {}

        def put(self, collection: str, key: str, doc: dict[str, Any]) -> None:
            self.docs[key] = doc

    plain = Plain()
    assert NamesWriter(plain, "names").merge is None
    NamesWriter(plain, "names")({"a": {"parts": {"k0": 0}}})
    assert plain.docs == {"a": {"parts": {"k0": 0}}}
    store.close()
