"""What is particular to the TinyDB store: bounded segments, copy-on-write, recovery, one writer."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storefixtures import BASE, canonical, event, ids, open_store
from tinydb import TinyDB

from gridcore import StoreError
from gridcore.store.tinydb_store import TinyDBStore


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("events-")}


def test_a_plain_path_is_a_tinydb_store_folder(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "社区" / "store"))
    assert isinstance(store, TinyDBStore)
    assert (tmp_path / "社区" / "store" / "manifest.json").exists()
    store.close()


def test_segments_stay_bounded_and_are_tinydb_files(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s", segment_events=50)
    docs = [event(n, hours=n * 2.5) for n in range(500)]  # about 52 days: two months
    for start in range(0, 500, 30):
        store.append(docs[start : start + 30])
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    segments = manifest["segments"]
    assert {s["month"] for s in segments} == {"2025-01", "2025-02"}
    assert sum(s["count"] for s in segments) == 500
    assert all(s["count"] <= 50 for s in segments)
    assert sorted(files(tmp_path / "s")) == sorted(s["file"] for s in segments)
    for segment in segments:
        with TinyDB(tmp_path / "s" / segment["file"]) as db:  # plain TinyDB reads each segment
            assert len(db.table("events")) == segment["count"]
    assert ids(store.events()) == canonical(docs)
    store.close()


def test_an_append_rewrites_only_the_months_it_touches(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s", segment_events=100)
    store.append([event(n, hours=n) for n in range(300)])  # January
    store.append([event(n, hours=24 * 40 + n) for n in range(300, 350)])  # February
    january = {k: v for k, v in files(tmp_path / "s").items() if "-2025-01-" in k}
    store.append([event(n, hours=24 * 40 + n) for n in range(350, 420)])  # February again
    after = files(tmp_path / "s")
    assert {k: v for k, v in after.items() if "-2025-01-" in k} == january
    # A late event for January rewrites January's open part only.
    store.append([event(999, hours=5.5)])
    late = files(tmp_path / "s")
    assert sum(1 for k in late if k not in after) == 1
    assert store.count() == 421
    store.close()


def test_files_left_by_a_killed_writer_are_ignored_and_removed(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    store = TinyDBStore(folder)
    store.append([event(n) for n in range(10)])
    store.close()
    # What a writer killed before its manifest switch leaves behind.
    (folder / "events-2025-01-p0000-g000002.json").write_text('{"events": {"1": {"id": "ghost", "time": "x"}}}')
    (folder / "manifest.json.4242.tmp").write_text('{"format": "half a manifest')
    again = TinyDBStore(folder)
    assert again.count() == 10 and not again.contains("ghost")
    assert not (folder / "manifest.json.4242.tmp").exists()
    assert not (folder / "events-2025-01-p0000-g000002.json").exists()
    again.append([event(10)])
    assert ids(again.events())[-1] == "e000010"
    again.close()


def test_a_second_writer_is_refused_instead_of_losing_events(tmp_path: Path) -> None:
    first = TinyDBStore(tmp_path / "s")
    second = TinyDBStore(tmp_path / "s")
    first.append([event(1)])
    with pytest.raises(StoreError, match="changed by another process"):
        second.append([event(2)])
    first.close()
    second.close()
    assert ids(TinyDBStore(tmp_path / "s").events()) == ["e000001"]


def test_a_missing_segment_is_reported(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.append([event(1), event(2, hours=24 * 45)])
    store.close()
    victim = next(iter(files(tmp_path / "s")))
    (tmp_path / "s" / victim).unlink()
    with pytest.raises(StoreError, match="missing"):
        TinyDBStore(tmp_path / "s")


def test_documents_are_a_plain_tinydb_database(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.put("meta", "community", {"name": "银泉社区"})
    store.close()
    with TinyDB(tmp_path / "s" / "documents.json") as db:
        assert db.table("meta").all() == [{"key": "community", "doc": {"name": "银泉社区"}}]
    assert "银泉社区" in (tmp_path / "s" / "documents.json").read_text(encoding="utf-8")


def test_since_and_until_skip_whole_months(tmp_path: Path) -> None:
    writer = TinyDBStore(tmp_path / "s")
    docs = [event(n, hours=24 * 10 * n) for n in range(36)]  # about a year
    writer.append(docs)
    writer.close()
    store = TinyDBStore(tmp_path / "s")  # a fresh handle: nothing read through it is cached yet
    # Remove a month the query does not need: it must not be read.
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    january = [s["file"] for s in manifest["segments"] if s["month"] == "2025-01"]
    for name in january:
        (tmp_path / "s" / name).unlink()
    since = BASE + timedelta(days=100)
    got = ids(store.events(since=since, until=since + timedelta(days=60)))
    assert got == [f"e{n:06d}" for n in range(10, 16)]
    with pytest.raises(StoreError, match="missing"):
        list(store.events())
    store.close()


@settings(max_examples=40, deadline=None)
@given(
    hours=st.lists(st.integers(min_value=0, max_value=24 * 70), min_size=1, max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=6),
    bounds=st.tuples(st.integers(min_value=-24, max_value=24 * 75), st.integers(min_value=0, max_value=24 * 80)),
)
def test_small_segments_in_any_order_read_back_in_canonical_order(
    hours: list[int], cuts: list[int], bounds: tuple[int, int]
) -> None:
    # Tiny parts make months hold many overlapping parts, merged on read.
    docs = [event(i, hours=h) for i, h in enumerate(hours)]
    edges = sorted(c for c in cuts if c <= len(docs))
    with tempfile.TemporaryDirectory() as folder:
        store = TinyDBStore(Path(folder) / "s", segment_events=3)
        for a, b in zip([0, *edges], [*edges, len(docs)], strict=True):
            store.append(docs[a:b])
        assert ids(store.events()) == canonical(docs)
        since, until = BASE + timedelta(hours=bounds[0]), BASE + timedelta(hours=bounds[1])
        inside = [d for d in docs if since <= datetime.fromisoformat(d["time"]) < until]
        assert ids(store.events(since=since, until=until)) == canonical(inside)
        store.close()
        assert ids(TinyDBStore(Path(folder) / "s").events()) == canonical(docs)


def test_a_corrupt_documents_file_is_reported_on_open(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.put("meta", "community", {"name": "银泉社区"})
    store.close()
    (tmp_path / "s" / "documents.json").write_text('{"meta": {"1": {"key": "comm', encoding="utf-8")
    with pytest.raises(StoreError, match=r"documents\.json is corrupt"):
        TinyDBStore(tmp_path / "s")


def test_a_failed_write_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    import os

    store = TinyDBStore(tmp_path / "s")
    store.append([event(1)])
    before = sorted(p.name for p in (tmp_path / "s").iterdir())
    # Block the manifest's temporary file (as a full disk or an I/O error would).
    (tmp_path / "s" / f"manifest.json.{os.getpid()}.tmp").mkdir()
    with pytest.raises(StoreError, match="cannot write"):
        store.append([event(2), event(3, hours=24 * 40)])
    (tmp_path / "s" / f"manifest.json.{os.getpid()}.tmp").rmdir()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == before  # new segments removed
    assert store.count() == 1 and not store.contains("e000002")
    assert store.append([event(2)]) == 1  # and the store still works
    store.close()
    assert ids(TinyDBStore(tmp_path / "s").events()) == ["e000001", "e000002"]


def test_cached_segments_are_copies_for_the_caller(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.append([event(1), event(2)])
    first = next(store.events())
    first["note"] = "changed by the caller"
    assert "note" not in next(store.events())
    store.close()
