"""``gridcore.partnames``: which stored parts hold a name, in the store, read as little as possible."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import partnames
from gridcore.partnames import PartNames, SeenNames


@pytest.fixture(autouse=True)
def seen_here(monkeypatch: pytest.MonkeyPatch) -> SeenNames:
    """Each test its own ``SEEN``: the part keys here are made up ("k0"), and one test's "k0" is not
    another's (real keys are the SHA-256 of a part's content, the same names for ever)."""
    fresh = SeenNames()
    monkeypatch.setattr(partnames, "SEEN", fresh)
    return fresh


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


def test_a_name_no_stored_part_holds_is_not_read_from_the_store() -> None:
    """The parts this process stored are known by name (``SEEN``): a new name (a report's id, looked up
    before it is taken) is answered without a read, but for about 1 in 100 false alarms of the filter."""
    docs: dict[str, dict[str, Any]] = {}
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    parts = [(n, f"k{n}", [[f"inc-{n}-{p}", f"event:e-{n}-{p}"] for p in range(500)]) for n in range(40)]
    names.stored(parts, Merging(docs), unstored=[])
    assert len(docs) == 40_000
    fresh = PartNames(counting(docs, reads))  # as after a rewind: restored from this process's checkpoint
    fresh.restore({f"k{n}": n for n in range(40)}, unstored=[])
    assert all(fresh.locate(f"new-{k}") is None for k in range(2000))
    assert len(reads) < 100  # (about 10 expected; the filter's hashes differ from one process to the next)
    reads.clear()
    assert fresh.locate("inc-7-3") == (7, 3) and fresh.locate("event:e-39-499") == (39, 499)
    assert reads == ["inc-7-3", "event:e-39-499"]  # a name a part holds is read


def test_a_part_this_process_did_not_store_sends_every_lookup_to_the_store() -> None:
    docs: dict[str, dict[str, Any]] = {"x": {"parts": {"theirs": 0}}}  # a part another process stored
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    names.stored([(0, "mine", [["a"]])], Merging(docs), unstored=[])
    assert names.locate("x") is None and reads == []  # not a part of this archive: filtered out
    other = PartNames(counting(docs, reads))
    other.restore({"mine": 0, "theirs": 1}, unstored=[])
    assert other.locate("x") == (1, 0) and reads == ["x"]  # (SEEN does not know "theirs")
    assert other.locate("y") is None and reads == ["x", "y"]
    other.stored([(2, "later", [["b"]])], Merging(docs), unstored=[])
    assert other.locate("z") is None and reads == ["x", "y", "z"]  # still not covered


def test_past_its_limit_the_filter_covers_no_more_parts(seen_here: SeenNames) -> None:
    seen_here.limit = 1000
    docs: dict[str, dict[str, Any]] = {}
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    names.stored([(0, "k0", [[f"a{i}"] for i in range(600)])], Merging(docs), unstored=[])
    assert seen_here.covers(["k0"]) and names.locate("new") is None and reads == []
    names.stored([(1, "k1", [[f"b{i}"] for i in range(600)])], Merging(docs), unstored=[])
    assert not seen_here.covers(["k1"]) and seen_here.covers(["k0"])
    assert names.locate("new") is None and reads == ["new"]
    assert names.locate("b599") == (1, 599) and reads == ["new"]  # (kept when stored)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from([f"n{i}" for i in range(30)]), max_size=3), min_size=1,
                         max_size=6), min_size=1, max_size=8),
       st.lists(st.integers(0, 7), max_size=8), st.lists(st.integers(0, 7), max_size=8))
def test_the_filter_never_changes_an_answer(contents: list[list[list[str]]], mine: list[int],
                                            theirs: list[int]) -> None:
    """Parts stored by this process (``mine``) and by another (``theirs``: written to the store's names,
    not seen here), restored in any mix: every lookup answers as the store alone would (the newest
    part of the archive holding the name, and the last entry there answering to it)."""
    seen = SeenNames()
    docs: dict[str, dict[str, Any]] = {}
    keys = [f"part{n}:" + repr(entries) for n, entries in enumerate(contents)]  # a key names one content
    for n in sorted(set(theirs) & set(range(len(contents))) - set(mine)):
        for position, entry in enumerate(contents[n]):
            for name in entry:
                docs.setdefault(name, {"parts": {}})["parts"][keys[n]] = position
    here = [n for n in dict.fromkeys(mine) if n < len(contents)]
    partnames.SEEN, before = seen, partnames.SEEN
    try:
        writer = PartNames(counting(docs, []))
        for n in here:
            writer.stored([(n, keys[n], contents[n])], Merging(docs), unstored=[])
        archive = sorted(set(here) | {n for n in theirs if n < len(contents)})
        restored = PartNames(counting(docs, []))
        restored.restore({keys[n]: number for number, n in enumerate(archive)}, unstored=[])
        for name in [f"n{i}" for i in range(30)]:
            expected = None
            for number, n in enumerate(archive):
                last = [p for p, entry in enumerate(contents[n]) if name in entry]
                if last:
                    expected = (number, last[-1])
            assert restored.locate(name) == expected, name
    finally:
        partnames.SEEN = before


def test_only_the_newest_stored_names_are_kept_the_others_are_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Of the names just stored only the newest ``KEPT_STORED`` stay in memory (memory does not grow
    with the history); an older one is read from the store, with the same answer, and a name the
    store had said nothing of before is not answered from that out-of-date reply."""
    monkeypatch.setattr(partnames, "KEPT_STORED", 2)
    docs: dict[str, dict[str, Any]] = {}
    reads: list[str] = []
    names = PartNames(counting(docs, reads))
    names.restore({"k0": 0}, unstored=[])
    assert names.locate("late") is None and reads == ["late"]  # (no document: kept as such)
    names.stored([(1, "k1", [["a"], ["b"], ["late"], ["c"]])], docs.update, unstored=[])
    assert len(names._stored) == 2 and "late" not in names._asked
    reads.clear()
    assert (names.locate("c"), names.locate("late")) == ((1, 3), (1, 2)) and reads == []
    assert (names.locate("a"), names.locate("b")) == ((1, 0), (1, 1)) and reads == ["a", "b"]
    names.stored([(2, "k2", [["d"], ["e"], ["f"]])], docs.update, unstored=[])
    assert list(names._stored) == ["e", "f"]
    reads.clear()
    assert names.locate("late") == (1, 2) and reads == ["late"]


def test_prefetch_asks_the_store_once_and_locate_answers_as_without_it(seen_here: SeenNames) -> None:
    docs: dict[str, dict[str, Any]] = {"a": {"parts": {"k0": 0, "k1": 2}}, "b": {"parts": {"k0": 1}},
                                       "other": {"parts": {"elsewhere": 0}}}
    reads: list[str] = []
    batches: list[list[str]] = []

    def many(names: Any) -> dict[str, dict[str, Any]]:
        batches.append(list(names))
        return {name: docs[name] for name in names if name in docs}

    plain = PartNames(counting(docs, reads))
    batched = PartNames(counting(docs, reads), many)
    for names in (plain, batched):
        names.restore({"k0": 0, "k1": 1}, unstored=[((2, 0), ["new"])])
    asked = ["a", "b", "other", "absent", "new", "a"]
    batched.prefetch(asked)
    # one read for every name the store is to answer ("new" is not stored yet: answered here)
    assert batches == [["a", "b", "other", "absent"]] and reads == []
    assert [batched.locate(name) for name in asked] == [plain.locate(name) for name in asked]
    assert [batched.locate(name) for name in asked] == [(1, 2), (0, 1), None, None, (2, 0), (1, 2)]
    assert reads == ["a", "b", "other", "absent"]  # only ``plain`` read them, one by one
    batched.prefetch(["a", "b", "c"])  # one name left to ask: ``locate`` reads it as cheaply
    assert len(batches) == 1

