"""What is particular to the TinyDB store: bounded segments, copy-on-write, recovery, one writer."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
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
    store.close()  # replaced files are kept a moment for readers elsewhere; closing removes them
    store = TinyDBStore(tmp_path / "s")
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


def test_files_left_by_a_killed_writer_are_ignored_then_removed_by_the_next_writer(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    store = TinyDBStore(folder)
    store.append([event(n) for n in range(10)])
    store.close()
    # What a writer killed before its manifest switch leaves behind.
    (folder / "events-2025-01-p0000-g000099.json").write_text('{"events": {"1": {"id": "ghost", "time": "x"}}}')
    (folder / "documents-g000002.json").write_text("{}")
    (folder / "manifest.json.4242.tmp").write_text('{"format": "half a manifest')
    again = TinyDBStore(folder)
    assert again.count() == 10 and not again.contains("ghost")
    # Opening removes nothing (those could be a running writer's files) ...
    assert (folder / "manifest.json.4242.tmp").exists()
    # ... the next writer, holding the lock, does.
    again.append([event(10)])
    assert not (folder / "manifest.json.4242.tmp").exists()
    assert not (folder / "events-2025-01-p0000-g000099.json").exists()
    assert not (folder / "documents-g000002.json").exists()
    assert ids(again.events())[-1] == "e000010"
    again.close()


def test_a_second_writer_is_refused_instead_of_losing_events(tmp_path: Path) -> None:
    first = TinyDBStore(tmp_path / "s")
    second = TinyDBStore(tmp_path / "s")
    first.append([event(1)])
    with pytest.raises(StoreError, match=r"in use by another handle in this process \(\d+\)"):
        second.append([event(2)])
    with pytest.raises(StoreError, match="in use"):
        second.put("meta", "x", {})
    assert second.count() == 1  # ... but it reads what the writer wrote
    first.close()
    assert second.append([event(2)]) == 1  # the lock is free again: second catches up and writes
    second.close()
    assert ids(TinyDBStore(tmp_path / "s").events()) == ["e000001", "e000002"]


def test_a_missing_segment_is_reported(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.append([event(1), event(2, hours=24 * 45)])
    store.close()
    victim = next(iter(files(tmp_path / "s")))
    (tmp_path / "s" / victim).unlink()
    with pytest.raises(StoreError, match="missing"):
        TinyDBStore(tmp_path / "s")


def documents_file(folder: Path) -> Path:
    return folder / json.loads((folder / "manifest.json").read_text())["documents"]["file"]


def test_documents_are_a_plain_tinydb_database(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.put("meta", "community", {"name": "银泉社区"})
    store.close()
    with TinyDB(documents_file(tmp_path / "s")) as db:
        assert db.table("meta").all() == [{"key": "community", "doc": {"name": "银泉社区"}}]
    assert "银泉社区" in documents_file(tmp_path / "s").read_text(encoding="utf-8")


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
    documents_file(tmp_path / "s").write_text('{"meta": {"1": {"key": "comm', encoding="utf-8")
    with pytest.raises(StoreError, match=r"documents-g\d+\.json is damaged: its checksum"):
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


# ---------------------------------------------------------------- damage is detected


def test_an_edited_or_removed_event_is_detected_on_open(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.append([event(n, note="巡查") for n in range(5)])
    store.close()
    (segment,) = files(tmp_path / "s")
    path = tmp_path / "s" / segment
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("巡查", "改过"), encoding="utf-8")  # same count, edited content
    with pytest.raises(StoreError, match="damaged: its checksum does not match"):
        TinyDBStore(tmp_path / "s")
    data = json.loads(original)
    del data["events"][next(iter(data["events"]))]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # one event removed
    with pytest.raises(StoreError, match="damaged"):
        TinyDBStore(tmp_path / "s")
    path.unlink()
    with pytest.raises(StoreError, match="damaged: .* is missing"):
        TinyDBStore(tmp_path / "s")


def test_a_missing_documents_file_is_damage_not_an_empty_store(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "s")
    store.append([event(1)])
    store.put("meta", "community", {"name": "银泉社区"})
    store.close()
    documents_file(tmp_path / "s").unlink()
    with pytest.raises(StoreError, match=r"damaged: .*documents-g\d+\.json is missing"):
        TinyDBStore(tmp_path / "s")


def test_a_version_1_store_is_read_then_upgraded_by_its_first_write(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    docs = [event(n, hours=n * 24 * 20) for n in range(6)]  # four months
    by_month: dict[str, list[dict[str, object]]] = {}
    for doc in docs:
        month = datetime.fromisoformat(str(doc["time"])).astimezone(UTC).strftime("%Y-%m")
        by_month.setdefault(month, []).append(doc)
    segments = []
    for month, rows in sorted(by_month.items()):
        name = f"events-{month}-p0000-g000001.json"
        (folder / name).write_text(json.dumps({"events": {str(n): d for n, d in enumerate(rows, 1)}}))
        segments.append({"month": month, "number": 0, "file": name, "count": len(rows)})
    (folder / "manifest.json").write_text(json.dumps(
        {"format": "gridcore-tinydb-store", "version": 1, "generation": 1, "segments": segments}))
    (folder / "documents.json").write_text(json.dumps({"meta": {"1": {"key": "community", "doc": {"name": "银泉"}}}}))
    old = TinyDBStore(folder)
    assert ids(old.events()) == canonical(docs)
    assert old.position() == 6 and [p for p, _ in old.events_after(4)] == [5, 6]
    assert old.get("meta", "community") == {"name": "银泉"}
    assert old.append([event(99, hours=1)]) == 1  # the first write upgrades the folder
    old.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == 2 and manifest["position"] == 7
    assert not (folder / "documents.json").exists()
    again = TinyDBStore(folder)
    assert [(p, d["id"]) for p, d in again.events_after(0)] == [
        *((n + 1, f"e{n:06d}") for n in range(6)), (7, "e000099")]
    assert again.get("meta", "community") == {"name": "银泉"}
    again.close()


# ---------------------------------------------------------------- other processes


def test_opening_while_another_process_writes_never_touches_its_files(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from storefixtures import REPO

    url = str(tmp_path / "s")
    TinyDBStore(url).close()
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    writer = subprocess.Popen([sys.executable, str(REPO / "tests" / "store_writer.py"), url, "300", "0", "30"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline()  # it is writing
        seen = 0
        for _ in range(40):  # readers open, read and close while the writer goes on (30 batches, then holds)
            reader = TinyDBStore(url)
            count = reader.count()
            assert count % 300 == 0 and count >= seen
            got = ids(reader.events())  # a paging read may also see batches committed meanwhile
            assert len(got) == len(set(got)) >= count
            seen = count
            reader.close()
            with pytest.raises(StoreError, match=rf"in use by process {writer.pid}"):
                TinyDBStore(url).append([event(1)])
        assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
        if writer.stderr:
            writer.stderr.close()
    final = TinyDBStore(url)
    assert final.count() % 300 == 0 and final.count() >= seen
    assert final.append([event(1)]) == 1  # the killed writer's lock died with it
    final.close()


def test_two_ingest_commands_started_together_never_both_claim_the_same_store(tmp_path: Path) -> None:
    """Issue 19: two ``gridcore ingest`` runs into one store both said "50 stored" and 50 were kept."""
    import os
    import subprocess
    import sys

    from storefixtures import REPO

    gridcore = Path(sys.executable).with_name("gridcore")
    store = tmp_path / "s"
    community = REPO / "tests" / "data" / "escalation" / "community"
    init = subprocess.run([str(gridcore), "init", "--community", str(community), "--store", str(store)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text("".join(
            f'{{"kind": "patrol_logged", "id": "{name}-{n:03d}", "time": "2025-03-01T{8 + n // 60:02d}:{n % 60:02d}'
            f':00+08:00", "actor": "worker1", "node": "g1"}}\n' for n in range(50)), encoding="utf-8")
    stored = 0
    for _ in range(1):  # one round of two processes (the store-level race is in test_store_contract.py)
        procs = [subprocess.Popen([str(gridcore), "ingest", str(tmp_path / f"{name}.jsonl"), "--store", str(store)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
                 for name in ("a", "b")]
        outcomes = [(p.wait(timeout=300), *(s.read() for s in (p.stdout, p.stderr) if s is not None)) for p in procs]
        for proc in procs:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        for code, out, err in outcomes:
            if code == 0:
                assert out.startswith(("50 stored", "0 stored, 50 already stored")), out
                stored += out.startswith("50 stored")
            else:
                assert re.search(r"in use by process \d+", err), (code, out, err)
        reader = TinyDBStore(store)
        assert reader.count() == 50 * stored  # every run that said "stored" is in the store
        reader.close()
    assert stored >= 1


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


def _typed(value: object) -> object:
    """``value`` with every leaf's type beside it, floats by their bits (so 1 and 1.0, 0.0 and -0.0 differ)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value.hex() if isinstance(value, float) else value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=5))
def test_a_document_read_is_the_one_put_and_a_copy_of_its_own(doc: dict[str, object]) -> None:
    """get, get_many and items give what was put, value for value and type for type (whole numbers beyond
    64 bits, floats to the bit), as a copy the caller may change without changing the store's."""
    with tempfile.TemporaryDirectory() as tmp:
        store = TinyDBStore(Path(tmp) / "s")
        store.put("c", "k", {"doc": doc, "list": [doc, [1, 2.5]]})
        for reopened in (False, True):
            if reopened:
                store.close()
                store = TinyDBStore(Path(tmp) / "s")
            expected = _typed({"doc": doc, "list": [doc, [1, 2.5]]})
            got = store.get("c", "k")
            assert got is not None and _typed(got) == expected
            got["doc"]["added"] = 1
            got["list"][1].append(3)
            assert _typed(store.get_many("c", ["k"])["k"]) == expected
            assert [(key, _typed(value)) for key, value in store.items("c")] == [("k", expected)]
        store.close()
