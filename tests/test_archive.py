"""gridcore.archive: a plugin's settled entries in sealed parts, found by name after a save and a restore."""

from __future__ import annotations

import json
from typing import Any

import pytest
from attrs import define, field
from hypothesis import given
from hypothesis import strategies as st

from gridcore import StoreError
from gridcore.archive import PartArchive, dump_span, key_bits, load_span, overlaps
from gridcore.parts import Loader


@define(eq=False)
class Part:
    count: int
    key: str | None = None
    entries: list[dict[str, Any]] | None = field(default=None, repr=False)


class Patrols(PartArchive[Part]):
    """A toy archive: entries ``{"id": ..., "n": ...}``, three a part."""

    COLLECTION = "patrols.done"
    FORMAT = 1
    WHAT = "patrols"

    def __init__(self, loader: Loader | None = None, names: Loader | None = None, many_parts: Any = None,
                 chapter_size: int | None = None) -> None:
        super().__init__(loader, names, part_size=3, cached_parts=2, many_parts=many_parts, chapter_size=chapter_size)

    @staticmethod
    def entry_names(entry: Any) -> list[str]:
        return [str(entry["id"])]

    def sealed(self, entries: list[dict[str, Any]]) -> Part:
        return Part(len(entries), entries=entries)

    def part_row(self, part: Part) -> list[Any]:
        return [part.key, part.count]

    @classmethod
    def part_from_row(cls, row: list[Any]) -> Part:
        return Part(int(row[1]), key=str(row[0]))

    def merged(self, parts: list[Part]) -> Part:
        return Part(sum(p.count for p in parts))


class Store:
    """Two collections in dicts: the parts and the names."""

    def __init__(self, chapter_size: int | None = None) -> None:
        self.parts: dict[str, dict[str, Any]] = {}
        self.names: dict[str, dict[str, Any]] = {}
        self.chapter_size = chapter_size

    def restored(self, document: dict[str, Any]) -> Patrols:
        archive = Patrols(self.parts.get, self.names.get, chapter_size=self.chapter_size)
        archive.restored(document)
        return archive

    def save(self, archive: Patrols) -> dict[str, Any]:
        def write(key: str, text: str, doc: Any) -> None:
            assert json.loads(text) == doc
            self.parts[key] = json.loads(text)

        return archive.save(write, self.names.update)


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 9)), max_size=20),
       st.sets(st.integers(0, 20), max_size=4), st.sampled_from([None, 1, 2]))
def test_after_saves_and_restores_every_name_finds_its_newest_entry(adds: list[tuple[str, int]],
                                                                    saves_after: set[int],
                                                                    chapter_size: int | None) -> None:
    store = Store(chapter_size)
    archive = Patrols(store.parts.get, store.names.get, chapter_size=chapter_size)
    newest: dict[str, dict[str, Any]] = {}
    for done, (ident, n) in enumerate(adds):
        if done in saves_after:
            archive = store.restored(store.save(archive))
        entry = {"id": ident, "n": n}
        archive.add(entry)
        newest[ident] = entry
    assert archive.size == len(adds)
    assert archive.sealed_count == len(adds) // 3 and len(archive.open) == len(adds) % 3
    again = store.restored(store.save(archive))
    assert again.size == len(adds) and again.sealed_count == len(adds) // 3
    if chapter_size is not None:  # (the newest chapter_size to 2 * chapter_size - 1 stored parts kept)
        assert len(again.parts) == min(again.sealed_count, chapter_size + again.sealed_count % chapter_size)
    for ident in "abcde":
        for kept in (archive, again):
            found = kept.find(ident)
            assert (found and found[1]) == newest.get(ident)
    assert [again.entries(n) for n in range(again.sealed_count + 1)] == [
        archive.entries(n) for n in range(archive.sealed_count + 1)]


def test_a_chapter_holds_the_oldest_stored_parts_and_is_checked_against_its_key() -> None:
    """With a chapter size, the checkpoint names only the newest stored parts and each chapter; a
    chapter is read back when a lookup reaches its parts, and one altered in the store is refused."""
    store = Store(2)
    archive = Patrols(store.parts.get, store.names.get, chapter_size=2)
    for n in range(16):
        archive.add({"id": f"p{n}", "n": n})
    document = json.loads(json.dumps(store.save(archive)))  # five parts stored: the first two in a chapter
    assert len(document["chapters"]) == 1 and len(document["parts"]) == 3 and document["open"] == [
        {"id": "p15", "n": 15}]
    key, count, parts, mask = document["chapters"][0]
    oldest = [archive.part(0).key, archive.part(1).key]
    assert count == 6 and parts == 2 and store.parts[key]["parts"] == [[k, 3] for k in oldest]
    assert int(mask, 16) == key_bits(str(oldest[0])) | key_bits(str(oldest[1]))
    again = store.restored(document)
    assert again.find("p4") == ((1, 1), {"id": "p4", "n": 4}) and again.first == 2
    with pytest.raises(ValueError, match="patrols with chapters"):
        Store().restored(document)
    store.parts[key]["parts"][0][1] = 2  # altered
    with pytest.raises(StoreError, match="chapter .* does not match its key: it was altered"):
        store.restored(document).find("p1")


def test_a_checkpoint_of_another_format_or_an_altered_part_is_refused() -> None:
    store = Store()
    archive = Patrols(store.parts.get, store.names.get)
    for n in range(4):
        archive.add({"id": f"p{n}", "n": n})
    document = store.save(archive)
    assert document["parts"] == [[archive.parts[0].key, 3]] and document["open"] == [{"id": "p3", "n": 3}]
    with pytest.raises(ValueError, match="patrols of format 2, expected 1"):
        store.restored({**document, "format": 2})
    key = archive.parts[0].key
    assert key is not None
    store.parts[key] = {"format": 1, "entries": [{"id": "p0", "n": 7}, {"id": "p1", "n": 1}, {"id": "p2", "n": 2}]}
    with pytest.raises(StoreError, match="patrols' part .* does not match its key: it was altered"):
        store.restored(document).find("p0")


def test_spans() -> None:
    from datetime import UTC, datetime

    first, last = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 5, tzinfo=UTC)
    assert load_span(dump_span((first, last))) == (first, last) and load_span(dump_span(None)) is None
    assert overlaps((first, last), last, None) and not overlaps((first, last), None, first)
    assert not overlaps(None, None, None)


def test_walk_reads_stored_parts_as_many_at_once_as_the_cache_keeps() -> None:
    store = Store()
    archive = Patrols(store.parts.get, store.names.get)
    for n in range(16):
        archive.add({"id": f"p{n}", "n": n})
    document = store.save(archive)  # five parts stored, one entry open
    calls: list[list[str]] = []

    def many(keys: Any) -> dict[str, Any]:
        calls.append(list(keys))
        return {key: store.parts[key] for key in keys if key in store.parts}

    plain = store.restored(document)
    batched = Patrols(store.parts.get, store.names.get, many)
    batched.restored(document)
    numbers = [0, 1, 3, 4, 5]  # (5: the open part)
    assert [(n, e) for n, e in batched.walk(numbers)] == [(n, plain.entries(n)) for n in numbers]
    assert [len(keys) for keys in calls] == [2, 2]  # parts 0-1, then 3-4: two a call (the cache keeps two)
    store.parts[str(batched.parts[2].key)]["entries"][0]["n"] = 99  # altered in the store
    with pytest.raises(StoreError, match="altered"):
        list(batched.walk([2]))


def test_a_name_only_another_history_s_parts_hold_is_not_found_in_this_one_s_chapters() -> None:
    """Two archives in one store (a history left behind by a late event, and the new one): a name whose
    document names only the other's parts is none of this one's, whether its parts are in chapters or
    not, and a name both hold is found in this one's own part."""
    store = Store(1)
    old = Patrols(store.parts.get, store.names.get, chapter_size=1)
    new = Patrols(store.parts.get, store.names.get, chapter_size=1)
    for n in range(12):
        old.add({"id": f"p{n}", "n": n})
        new.add({"id": f"p{n}" if n % 2 else f"q{n}", "n": n + 100})
    store.save(old)
    again = store.restored(store.save(new))
    assert len(again.chapters) == 3 and len(again.parts) == 1
    for kept in (new, again):
        assert kept.find("p0") is None and kept.find("p4") is None  # (named only by the old history's parts)
        assert kept.find("p1") == ((0, 1), {"id": "p1", "n": 101}) and kept.find("q0") == ((0, 0), {"id": "q0", "n": 100})
        assert kept.find("p11") == ((3, 2), {"id": "p11", "n": 111})


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 9)), max_size=30),
       st.sets(st.integers(0, 30), max_size=3), st.sets(st.integers(0, 30), max_size=3),
       st.sampled_from([None, 1, 2]))
def test_parts_waiting_to_be_stored_are_held_compressed_and_read_as_if_stored(
        adds: list[tuple[str, int]], stores_after: set[int], read_only_saves_after: set[int],
        chapter_size: int | None) -> None:
    """Sealed parts nothing stores (a read-only engine, a replay between two stores) are kept as their
    entries only for the newest ``RAW_PARTS``, the older ones as their compressed text: every read answers
    as from an archive that stored each part at once, and storing them later gives the same parts, keys,
    names and checkpoint."""
    from gridcore.archive import RAW_PARTS

    waiting, at_once = Store(chapter_size), Store(chapter_size)
    archive = Patrols(waiting.parts.get, waiting.names.get, chapter_size=chapter_size)
    stored = Patrols(at_once.parts.get, at_once.names.get, chapter_size=chapter_size)
    newest: dict[str, dict[str, Any]] = {}
    unstored = 0  # (the first part not stored)
    for done, (ident, n) in enumerate(adds):
        if done in stores_after:
            waiting.save(archive)
            unstored = archive.sealed_count
        if done in read_only_saves_after:
            archive.save(None, None)  # (keys computed, nothing stored: held parts stay held)
        entry = {"id": ident, "n": n}
        archive.add(entry)
        stored.add(dict(entry))
        at_once.save(stored)
        newest[ident] = entry
        assert sum(part.entries is not None for part in archive.parts) <= RAW_PARTS
        assert set(archive.held) == {archive.part(n).key for n in range(unstored, archive.sealed_count - RAW_PARTS)}
        assert archive.waiting == (archive.sealed_count > unstored)
    for ident in "abcde":
        found = archive.find(ident)
        assert (found and found[1]) == newest.get(ident) and found == stored.find(ident)
    numbers = range(archive.sealed_count + 1)
    assert [archive.entries(n) for n in numbers] == [stored.entries(n) for n in numbers]
    assert list(archive.walk(list(numbers))) == list(stored.walk(list(numbers)))
    document = waiting.save(archive)
    assert archive.held == {} and not archive.waiting
    assert document == at_once.save(stored) and waiting.parts == at_once.parts
    assert waiting.names == at_once.names
    again = waiting.restored(json.loads(json.dumps(document)))
    for ident in "abcde":
        assert again.find(ident) == stored.find(ident)


def test_a_part_of_typed_entries_is_not_walked_and_its_names_are_not_asked_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``add(..., typed=True)``: a sealed part whose every entry is typed is written without the walk
    (``gridcore.fastjson.typed_json``: json's bytes all the same), and the names ``add`` was given are
    written, not asked of ``entry_names`` again; one untyped entry (or one restored from a checkpoint)
    makes its part walked as ever."""
    import gridcore.parts as parts_module

    walks: list[int] = []
    same_json = parts_module.same_json

    def counted(doc: Any, **kwargs: Any) -> Any:
        walks.append(1)
        return same_json(doc, **kwargs)

    monkeypatch.setattr(parts_module, "same_json", counted)
    asked: list[str] = []
    names_of = Patrols.entry_names
    monkeypatch.setattr(Patrols, "entry_names", staticmethod(lambda e: asked.append(e["id"]) or names_of(e)))
    texts: dict[str, bytes] = {}
    written: dict[str, dict[str, Any]] = {}
    archive = Patrols()
    for n in range(3):
        archive.add({"id": f"p{n}", "n": n, "who": "网格员"}, typed=True)
    asked.clear()
    archive.store_sealed(lambda key, raw, doc: texts.__setitem__(key, raw), written.update)  # type: ignore[arg-type]
    assert walks == [] and asked == []
    (key, raw), = texts.items()
    doc = {"format": 1, "entries": [{"id": f"p{n}", "n": n, "who": "网格员"} for n in range(3)]}
    assert raw == json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert written == {f"p{n}": {"parts": {key: n}} for n in range(3)}
    archive.add({"id": "q0", "n": 0}, typed=True)
    archive.add({"id": "q1", "n": 1.5})  # (untyped: its maker's types prove nothing)
    archive.add({"id": "q2", "n": 2}, typed=True)
    archive.store_sealed(lambda key, raw, doc: texts.__setitem__(key, raw), written.update)  # type: ignore[arg-type]
    assert walks == [1]
    restored = Patrols(texts.get, written.get)  # type: ignore[arg-type]
    archive.add({"id": "r0", "n": 0}, typed=True)
    restored.restored(archive.save(None))
    restored.add({"id": "r1", "n": 1}, typed=True)
    restored.add({"id": "r2", "n": 2}, typed=True)
    restored.store_sealed(lambda key, raw, doc: texts.__setitem__(key, raw), written.update)  # type: ignore[arg-type]
    assert walks == [1, 1]  # (r0 was read back from the checkpoint: walked)
