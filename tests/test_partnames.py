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
