"""The storage contract, run against every backend (TinyDB, SQLite, PostgreSQL).

Each test gets ``stores``, a factory of fresh stores of one backend; PostgreSQL
is skipped with the reason when no server is reachable (see storefixtures.py).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import (
    BACKENDS,
    BASE,
    CST,
    REPO,
    StoreFactory,
    canonical,
    event,
    ids,
    open_store,
    postgres_base_url,
    stores_fixture,
)

from gridcore import StoreConflict, StoreError, hookimpl
from gridcore.parts import part_text, stored_part, stored_parts, text_key
from gridcore.plugin_host import get_plugin_manager
from gridcore.store import Store
from gridcore.store.migrate import MigrationSummary
from gridcore.store.migrate import migrate as migrate_with
from gridcore.store.postgres_store import PostgresStore
from gridcore.store.sqlite_store import SQLiteStore
from gridcore.store.tinydb_store import TinyDBStore
from gridcore.store.url import open_store as open_store_with

KINDS = {"tinydb": TinyDBStore, "sqlite": SQLiteStore, "postgresql": PostgresStore}


stores = stores_fixture()


@pytest.fixture
def postgres_stores(tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh PostgreSQL stores, for what only that backend does (skipped, saying why,
    where no server is reachable)."""
    factory = StoreFactory("postgresql", tmp_path)
    yield factory
    factory.cleanup()


#: a factory of fresh stores of each backend with ``append_soon`` (an append from a thread of the store's own)
sql_stores = stores_fixture(("sqlite", "postgresql"), name="sql_stores")


def test_the_url_chooses_the_backend(stores: StoreFactory) -> None:
    store = stores.open()
    assert isinstance(store, KINDS[stores.backend])
    assert isinstance(store, Store)
    assert store.count() == 0


def test_events_come_back_in_canonical_order_with_filters(stores: StoreFactory) -> None:
    store = stores.open()
    docs = [event(n, kind="patrol_logged" if n % 3 else "incident_reported") for n in range(40)]
    # Same instant in different zones, and ties broken by id (Chinese ids sort by code point).
    docs.append(event(100, hours=5, tz=UTC) | {"id": "事件-乙"})
    docs.append(event(101, hours=5, tz=timezone(timedelta(hours=-5))) | {"id": "事件-甲"})
    docs.append(event(102, hours=5) | {"id": "e000005a"})
    random.Random(7).shuffle(docs)
    assert store.append(docs[:20]) == 20
    assert store.append(docs[20:]) == len(docs) - 20
    assert ids(store.events()) == canonical(docs)
    assert ids(store.events())[5:9] == ["e000005", "e000005a", "事件-乙", "事件-甲"]  # 乙 U+4E59 < 甲 U+7532
    since, until = BASE + timedelta(hours=10), BASE + timedelta(hours=20)
    window = [d for d in docs if since <= datetime.fromisoformat(d["time"]) < until]
    assert ids(store.events(since=since, until=until)) == canonical(window)
    assert len(window) == 10
    reported = [d for d in docs if d["kind"] == "incident_reported"]
    assert ids(store.events(kinds=["incident_reported"])) == canonical(reported)
    assert ids(store.events(kinds=["incident_reported"], since=since.astimezone(UTC))) == canonical(
        [d for d in reported if datetime.fromisoformat(d["time"]) >= since]
    )
    assert list(store.events(kinds=[])) == []
    assert ids(store.events(kinds=["patrol_logged", "incident_reported"])) == canonical(
        [d for d in docs if d["kind"] in ("patrol_logged", "incident_reported")]
    )
    first = next(store.events())
    assert first == next(d for d in docs if d["id"] == first["id"])  # documents come back unchanged


def test_events_across_months_and_years(stores: StoreFactory) -> None:
    store = stores.open()
    docs = [event(n, hours=n * 24 * 11) for n in range(60)]  # ~2 years, several per month
    store.append(docs[::2])
    store.append(docs[1::2])
    assert ids(store.events()) == canonical(docs)
    since = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)  # midnight 1 July in CST
    until = datetime(2026, 2, 1, tzinfo=CST)
    expected = [d for d in docs if since <= datetime.fromisoformat(d["time"]) < until]
    assert ids(store.events(since=since, until=until)) == canonical(expected)


def test_appending_an_id_twice_is_a_no_op(stores: StoreFactory) -> None:
    store = stores.open()
    assert store.append([event(1), event(2), event(1)]) == 2
    assert store.append([event(2), event(3)]) == 1
    assert store.append([event(1) | {"note": "a different body, same id"}]) == 0
    assert store.append([]) == 0
    assert store.count() == 3
    assert store.contains("e000001") and store.contains("e000003")
    assert not store.contains("e000004")
    assert "note" not in next(store.events())


def test_a_bad_document_refuses_the_whole_batch(stores: StoreFactory) -> None:
    store = stores.open()
    store.append([event(1)])
    for bad in ({"kind": "x", "time": BASE.isoformat()}, event(3) | {"time": "yesterday"},
                event(3) | {"time": "2025-01-01T08:00:00"}, event(3) | {"kind": None}):
        with pytest.raises(StoreError):
            store.append([event(2), bad])
    with pytest.raises(StoreError):
        store.append([event(2), event(3) | {"note": object()}])
    assert ids(store.events()) == ["e000001"]
    assert store.count() == 1 and not store.contains("e000002")


def test_documents_put_get_items(stores: StoreFactory) -> None:
    store = stores.open()
    assert store.get("meta", "community") is None
    assert list(store.items("meta")) == []
    store.put("meta", "community", {"name": "银泉社区", "levels": ["community", "grid", "unit"]})
    store.put("meta", "community", {"name": "银泉社区", "levels": ["community", "grid"]})
    store.put("assessment.stars", "第二网格|2025-03", {"stars": 4, "score": 91.5})
    store.put("assessment.stars", "第一网格|2025-03", {"stars": 5, "score": 97.0})
    store.put("assessment.stars", "a", {"nested": {"list": [1, 2, {"x": None}]}, "flag": True})
    assert store.get("meta", "community") == {"name": "银泉社区", "levels": ["community", "grid"]}
    keys = [key for key, _ in store.items("assessment.stars")]
    assert keys == sorted(keys) == ["a", "第一网格|2025-03", "第二网格|2025-03"]
    assert dict(store.items("assessment.stars"))["a"] == {"nested": {"list": [1, 2, {"x": None}]}, "flag": True}
    assert store.get("assessment.stars", "nope") is None
    assert store.collections() == ["assessment.stars", "meta"]  # type: ignore[attr-defined]
    with pytest.raises(StoreError):
        store.put("meta", "bad", {"when": object()})
    assert store.get("meta", "bad") is None


def test_a_document_given_as_its_json_text_is_stored_as_any_other(stores: StoreFactory) -> None:
    """``put_text`` (each built-in store has it; gridcore.parts writes a part's canonical text with it):
    the document comes back as ``put`` would give it, and a text that is not the JSON of an object,
    or is not valid Unicode, is refused with nothing written."""
    url = stores.url()
    store = open_store(url)
    doc = {"entries": [["e1", 5, "王芳", None, True, 1.5]], "format": 1, "rules": {"a": {"b": []}}}
    text = part_text(doc)
    store.put_text("points.ledger", text_key(text), text)  # type: ignore[attr-defined]
    store.put_text("points.ledger", "again", text)  # type: ignore[attr-defined]
    store.put_text("points.ledger", "again", '{"format":2}')  # type: ignore[attr-defined]  # replaced
    assert store.get("points.ledger", text_key(text)) == doc
    assert dict(store.items("points.ledger")) == {text_key(text): doc, "again": {"format": 2}}
    for bad in ("[1, 2]", '"text"', "{'format': 1}", '{"format": 1', '{"a": NaN}', "", " ", "\n[{}]", ' "{}"',
                "\ufeff{}", "\v{}", "\f{}", "\xa0{}", "{} {}", "{}]", "1"):
        with pytest.raises(StoreError, match="document points.ledger/bad cannot be stored"):
            store.put_text("points.ledger", "bad", bad)  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="not valid Unicode"):
        store.put_text("points.ledger", "bad", '{"a": "\ud800"}')  # type: ignore[attr-defined]
    assert store.get("points.ledger", "bad") is None
    # JSON's whitespace before and after the object is JSON (anything else first is not an object, above)
    store.put_text("points.spaced", "spaced", ' \t\r\n{"format":3} \n')  # type: ignore[attr-defined]
    assert store.get("points.spaced", "spaced") == {"format": 3}
    # the text it holds, where the store holds the text (SQLite): what gridcore.parts checks a part by
    assert hasattr(store, "get_text") == (stores.backend == "sqlite")
    assert stored_part(store, "points.ledger", text_key(text)) == (text if stores.backend == "sqlite" else doc)
    assert stored_part(store, "points.ledger", "nope") is None
    store.put("points.ledger", "put", doc)
    found = stored_part(store, "points.ledger", "put")
    assert (json.loads(found) if isinstance(found, str) else found) == doc
    store.close()
    assert open_store(url).get("points.ledger", text_key(text)) == doc  # durable


def test_many_documents_are_read_at_once(stores: StoreFactory) -> None:
    """``get_many`` (every built-in store; ``gridcore.parts.stored_parts`` reads a restored account's
    parts of lots with it): the documents of the keys that are stored, by key, as ``get`` gives each;
    keys not stored, and keys of another collection, are left out; a key asked twice is answered once.
    ``get_texts`` (SQLite, beside ``get_text``) gives the texts held, as ``get_text`` gives each."""
    store = stores.open()
    docs = {f"k{n:04d}": {"format": 1, "lots": [[f"e{n}", n, "王芳", None]], "n": n} for n in range(1200)}
    store.put_many("points.lots", docs)  # type: ignore[attr-defined]
    store.put("other", "k0001", {"format": 9})
    text = part_text({"format": 1, "lots": [], "rules": []})
    store.put_text("points.lots", text_key(text), text)  # type: ignore[attr-defined]
    asked = ["k0001", "nope", "k0001", *sorted(docs)[::-1], text_key(text)]  # (more keys than one query takes)
    found = store.get_many("points.lots", asked)  # type: ignore[attr-defined]
    assert found == {**docs, text_key(text): {"format": 1, "lots": [], "rules": []}}
    assert found == {key: store.get("points.lots", key) for key in found}
    assert store.get_many("points.lots", []) == {} and store.get_many("none", ["k0001"]) == {}  # type: ignore[attr-defined]
    found["k0001"]["n"] = -1  # (a copy: the store's document is not changed)
    assert store.get("points.lots", "k0001") == docs["k0001"]
    assert hasattr(store, "get_texts") == (stores.backend == "sqlite")
    parts = stored_parts(store, "points.lots", asked)
    assert set(parts) == set(found)
    if stores.backend == "sqlite":
        assert parts == store.get_texts("points.lots", asked)  # type: ignore[attr-defined]
        assert parts == {key: store.get_text("points.lots", key) for key in parts}  # type: ignore[attr-defined]
        assert parts[text_key(text)] == text
    else:
        assert parts == {**docs, text_key(text): {"format": 1, "lots": [], "rules": []}}
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_many("points.lots", ["k0001"])  # type: ignore[attr-defined]


def test_everything_persists_across_reopen(stores: StoreFactory) -> None:
    url = stores.url()
    store = open_store(url)
    docs = [event(n) for n in range(25)]
    store.append(docs)
    store.put("rulesets", "2025-01-01|0000", {"name": "银泉", "effective": BASE.isoformat()})
    store.close()
    store.close()  # closing twice is harmless
    again = stores.open(url)
    assert again.count() == 25
    assert ids(again.events()) == canonical(docs)
    assert again.contains("e000024")
    assert again.append(docs) == 0
    assert again.get("rulesets", "2025-01-01|0000") == {"name": "银泉", "effective": BASE.isoformat()}


def test_appending_while_iterating(stores: StoreFactory) -> None:
    # The engine appends derived events while it replays the log.
    store = stores.open()
    store.append([event(n) for n in range(0, 6000, 2)])
    seen = []
    for n, doc in enumerate(store.events()):
        seen.append(doc["id"])
        if n % 500 == 0:
            store.append([event(n + 1, hours=n + 0.5)])
    assert seen[:3000:500] == [f"e{n:06d}" for n in range(0, 6000, 1000)]
    assert set(seen) >= {f"e{n:06d}" for n in range(0, 6000, 2)}
    assert len(seen) == len(set(seen))
    assert store.count() == 3000 + 6


def test_a_killed_writer_leaves_whole_batches(stores: StoreFactory) -> None:
    killed_writers_leave_whole_batches(stores.url(), "append")


def test_a_writer_killed_while_its_store_thread_stores_a_batch_leaves_whole_batches(
        sql_stores: StoreFactory) -> None:
    killed_writers_leave_whole_batches(sql_stores.url(), "append_soon")


def killed_writers_leave_whole_batches(url: str, how: str) -> None:
    """Writers killed at random moments while appending batches of 400 leave only whole batches."""
    open_store(url).close()  # create it
    size = 400
    first = 0
    rng = random.Random(11)
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "store_writer.py"), url, str(size), str(first),
             *(["soon"] if how == "append_soon" else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        assert proc.stdout is not None
        committed = []
        want = rng.randint(2, 5)
        while len(committed) < want:
            line = proc.stdout.readline()
            assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
            committed.append(int(line))
        time.sleep(rng.uniform(0, 0.03))  # land somewhere inside the next batch's write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        store = open_store(url)
        try:
            stored = ids(store.events())
            count = store.count()
        finally:
            store.close()
        assert count == len(stored)
        assert count % size == 0, f"a partial batch was stored: {count} events"
        batches = sorted({i.split("-")[0] for i in stored})
        assert batches == [f"b{b:05d}" for b in range(len(batches))], "stored batches are not a prefix"
        assert len(batches) >= committed[-1] + 1, "a batch reported as committed was lost"
        first = len(batches)


def test_a_corrupt_or_foreign_store_is_a_store_error(stores: StoreFactory, tmp_path: Path) -> None:
    if stores.backend == "tinydb":
        file = tmp_path / "a-file"
        file.write_text("hello")
        foreign = tmp_path / "foreign"
        foreign.mkdir()
        (foreign / "notes.txt").write_text("not a store")
        for url in (str(file), str(foreign)):
            with pytest.raises(StoreError, match="not a gridcore store|is a file"):
                open_store(url)
        url = stores.url()
        store = open_store(url)
        store.append([event(n) for n in range(10)])
        store.close()
        segment = next(p for p in Path(url).iterdir() if p.name.startswith("events-"))
        segment.write_text('{"events": {"1": {"id": "e1", "ti')
        with pytest.raises(StoreError, match="corrupt"):
            open_store(url)
        (Path(url) / "manifest.json").write_text("{not json")
        with pytest.raises(StoreError, match="corrupt"):
            open_store(url)
    elif stores.backend == "sqlite":
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"this is not a database at all" * 100)
        with pytest.raises(StoreError, match="corrupt or not a SQLite database"):
            open_store(f"sqlite:///{garbage}")
        import sqlite3

        other = tmp_path / "other.db"
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE customers (id TEXT)")
        with pytest.raises(StoreError, match="not a gridcore store"):
            open_store(f"sqlite:///{other}")
        with pytest.raises(StoreError, match="folder"):
            open_store(f"sqlite:///{tmp_path}")
        # A store damaged in the middle: every call is a StoreError, never sqlite3's own.
        url = stores.url()
        store = open_store(url)
        store.append([event(n, note="巡查" * 50) for n in range(3000)])
        store.put("meta", "community", {"name": "银泉"})
        store.close()
        path = Path(url.removeprefix("sqlite:///"))
        data = bytearray(path.read_bytes())
        data[len(data) // 3 : len(data) // 3 + 20000] = b"\xff" * 20000
        path.write_bytes(bytes(data))
        calls = [lambda s: s.count(), lambda s: list(s.events()), lambda s: s.contains("e000001"),
                 lambda s: s.get("meta", "community"), lambda s: list(s.items("meta")), lambda s: s.collections(),
                 lambda s: s.position(), lambda s: list(s.events_after(0)), lambda s: s.find(["e000001"]),
                 lambda s: s.append([event(5000)]), lambda s: s.put("meta", "x", {})]
        failures = 0
        try:
            damaged = open_store(url)
        except StoreError:
            failures += 1
        else:
            for call in calls:
                try:
                    call(damaged)
                except StoreError as exc:
                    failures += 1
                    assert "SQLite store" in str(exc) or "damaged" in str(exc)
            damaged.close()
        assert failures
    else:
        import psycopg

        url = stores.url()
        schema = url.rsplit("schema=", 1)[1]
        from gridcore.store.postgres_store import split_url

        with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'CREATE TABLE "{schema}".events (id text)')
        with pytest.raises(StoreError, match="not a gridcore store"):
            open_store(url)
        base = postgres_base_url()[0]
        assert base is not None
        wrong = base.replace("://", "://nobody_here:wrong@", 1) if "@" not in base else \
            base.split("://", 1)[0] + "://nobody_here:secret@" + base.split("@", 1)[1]
        with pytest.raises(StoreError, match="cannot connect") as info:
            open_store(wrong)
        assert "secret" not in str(info.value)


def test_a_closed_store_refuses_work(stores: StoreFactory) -> None:
    store = stores.open()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.append([event(1)])


# ---------------------------------------------------------------- migration


def migrate(source: Any, target: Any, **options: Any) -> MigrationSummary:
    """Migrate with the core backends only (the plugins under development stay out)."""
    return migrate_with(source, target, plugins=get_plugin_manager(load_entry_points=False), **options)


def _filled(store: Store, n: int) -> list[dict[str, Any]]:
    docs = [event(i, kind=("patrol_logged", "incident_reported", "activity_recorded")[i % 3],
                  note=f"第{i}次巡查", hours_spent=i / 4) for i in range(n)]
    store.append(docs[: n // 2])
    store.append(docs[n // 2 :])
    store.put("meta", "community", {"name": "银泉社区", "tz": "Asia/Shanghai"})
    for k in range(7):
        store.put("assessment.stars", f"g{k}|2025-0{k + 1}", {"stars": k % 5 + 1, "score": 80 + k / 3})
    store.put("rulesets", "2025-01-01T00:00:00+00:00|0000", {"name": "银泉", "text": "积分 { }"})
    return docs


@pytest.mark.parametrize("target_backend", BACKENDS)
def test_migrate_copies_everything(stores: StoreFactory, target_backend: str, tmp_path: Path) -> None:
    targets = StoreFactory(target_backend, tmp_path / "targets")
    try:
        (tmp_path / "targets").mkdir()
        source = stores.open()
        docs = _filled(source, 1234)
        target_url = targets.url()
        seen: list[tuple[int, int]] = []
        summary = migrate(source, target_url, batch_size=500, progress=lambda d, t: seen.append((d, t)))
        assert isinstance(summary, MigrationSummary)
        assert (summary.events, summary.copied, summary.skipped) == (1234, 1234, 0)
        assert summary.documents == {"assessment.stars": 7, "meta": 1, "rulesets": 1}
        assert seen[-1] == (1234, 1234) and seen[0] == (500, 1234)
        assert "1234 events" in summary.describe()
        target = targets.open(target_url)
        assert target.count() == 1234
        assert list(target.events()) == list(source.events())
        assert ids(target.events()) == canonical(docs)
        assert ids(target.events(kinds=["incident_reported"])) == ids(source.events(kinds=["incident_reported"]))
        for collection in ("meta", "assessment.stars", "rulesets"):
            assert list(target.items(collection)) == list(source.items(collection))
        # A second run into the now non-empty target is refused and changes nothing...
        with pytest.raises(StoreError, match="not empty"):
            migrate(source, target)
        # ... unless merging is allowed: nothing new to copy.
        merged = migrate(source, target, allow_non_empty=True)
        assert (merged.copied, merged.skipped) == (0, 1234)
        assert target.count() == 1234
    finally:
        targets.cleanup()


def test_migrate_by_url_and_refusals(stores: StoreFactory) -> None:
    source_url = stores.url()
    source = open_store(source_url)
    docs = _filled(source, 50)
    source.close()
    with pytest.raises(StoreError, match="same store"):
        migrate(source_url, source_url)
    target_url = stores.url()
    summary = migrate(source_url, target_url)
    assert summary.copied == 50
    target = stores.open(target_url)
    assert target.count() == 50
    partial = stores.open()
    partial.append([docs[0], event(999)])
    with pytest.raises(StoreError, match="not empty"):
        migrate(source_url, partial)
    assert partial.count() == 2
    merged = migrate(source_url, partial, allow_non_empty=True)
    assert (merged.copied, merged.skipped) == (49, 1)
    assert partial.count() == 51
    conflicting = stores.open()
    conflicting.append([docs[3] | {"note": "another body under the same id"}])
    with pytest.raises(StoreError, match="e000003 differs after migration"):
        migrate(source_url, conflicting, allow_non_empty=True)


# ---------------------------------------------------------------- invariants


@st.composite
def split_batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    n = draw(st.integers(min_value=0, max_value=60))
    hours = draw(st.lists(st.integers(min_value=0, max_value=24 * 90), min_size=n, max_size=n))
    docs = [event(i, hours=h / 3) for i, h in enumerate(hours)]
    repeats = draw(st.lists(st.sampled_from(docs), max_size=10)) if docs else []
    stream = draw(st.permutations(docs + repeats))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=8)))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    return docs, batches


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=split_batches())
def test_any_split_into_batches_stores_the_same_sequence(
    backend: str, case: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]
) -> None:
    docs, batches = case
    with tempfile.TemporaryDirectory() as folder:
        factory = StoreFactory(backend, Path(folder))
        try:
            store = factory.open()
            added = sum(store.append(batch) for batch in batches)
            assert added == len(docs) == store.count()
            assert ids(store.events()) == canonical(docs)
        finally:
            factory.cleanup()


# ---------------------------------------------------------------- the hook


class ArchiveBackend:
    """A third-party backend: ``archive://NAME`` keeps stores as SQLite files in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def gridcore_storage_backend(self, url: str) -> SQLiteStore | None:
        if not url.startswith("archive://"):
            return None
        return SQLiteStore(self.folder / f"{url.removeprefix('archive://')}.db", url=url)


def test_gridcore_storage_backend_chooses_by_scheme_and_plugins_can_add_one(tmp_path: Path) -> None:
    pm = get_plugin_manager(load_entry_points=False, extra=[ArchiveBackend(tmp_path)])
    store = open_store_with("archive://银泉", plugins=pm)
    assert store.url == "archive://银泉" and (tmp_path / "银泉.db").exists()
    store.append([event(1)])
    store.close()
    # The built-in backends still answer their own schemes through the same manager.
    assert isinstance(open_store_with(str(tmp_path / "tiny"), plugins=pm), TinyDBStore)
    with pytest.raises(StoreError, match="no storage backend knows the store URL 'ftp://x'"):
        open_store_with("ftp://x", plugins=pm)
    for typo in ("sqlite://relative.db", "sqlite:relative.db"):
        with pytest.raises(StoreError, match="sqlite:///path"):
            open_store_with(typo, plugins=pm)
    with pytest.raises(StoreError, match="no storage backend knows the store URL 'mysql:x'"):
        open_store_with("mysql:x", plugins=pm)
    summary = migrate_with("archive://银泉", str(tmp_path / "copy"), plugins=pm)
    assert summary.copied == 1


# ---------------------------------------------------------------- log positions


def test_positions_count_appends_in_log_order(stores: StoreFactory) -> None:
    store = stores.open()
    assert store.position() == 0
    assert list(store.events_after(0)) == []
    first = [event(n) for n in (5, 1, 3)]  # positions follow the batch, not time
    assert store.append(first) == 3
    assert store.position() == 3
    assert store.append([event(1), event(9), event(0)]) == 2  # a repeated id takes no position
    assert store.position() == 5
    assert [(p, d["id"]) for p, d in store.events_after(0)] == [
        (1, "e000005"), (2, "e000001"), (3, "e000003"), (4, "e000009"), (5, "e000000")]
    assert [p for p, _ in store.events_after(3)] == [4, 5]
    assert list(store.events_after(5)) == []
    assert next(store.events_after(4))[1] == event(0)  # documents come back unchanged
    assert store.append([]) == 0 and store.position() == 5


@pytest.mark.parametrize("path", ["inline", "copied"])
def test_postgres_appends_alike_in_one_round_trip_and_copied(postgres_stores: StoreFactory, path: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL batch goes in one round trip (pipeline mode, the batch as one JSON array) or, when
    large, is ``COPY``-ed: positions, repeated ids, conflicts, a batch the server refuses (nothing of
    it stored, the connection usable after) and documents come out the same."""
    from gridcore.store import postgres_store

    if path == "copied":
        monkeypatch.setattr(postgres_store, "INLINE_ROWS", 2)
    store = postgres_stores.open()
    odd = event(4, note='引号"\\ \t\n', ratio=1e-7, big=2**70, nested={"b": [1, {"a": None}], "a": True})
    assert store.append([event(5), event(1), event(3), event(5)]) == 3
    assert store.append([event(1), event(9), odd, event(0, tz=UTC) | {"id": "事件-乙"}], expected=3) == 3
    assert [(p, d["id"]) for p, d in store.events_after(0)] == [
        (1, "e000005"), (2, "e000001"), (3, "e000003"), (4, "e000009"), (5, "e000004"), (6, "事件-乙")]
    assert store.find(["e000004"])["e000004"] == odd
    with pytest.raises(StoreConflict, match="moved from position 5 to 6"):
        store.append([event(7), event(8), event(10)], expected=5)
    with pytest.raises(StoreError, match="cannot write"):  # (jsonb refuses a NUL character)
        store.append([event(7), event(8) | {"note": "a\x00b"}, event(10)], expected=6)
    assert store.position() == 6 and not store.contains("e000007")
    assert store.append([event(7)], expected=6) == 1 and store.append([], expected=7) == 0
    assert ids(store.events()) == canonical([event(n) for n in (1, 3, 4, 5, 7, 9)]
                                            + [event(0, tz=UTC) | {"id": "事件-乙"}])


def _refuse_in_the_store(store: Any, ident: str) -> None:
    """Make the store itself refuse to write event ``ident`` (the append's transaction fails there)."""
    if isinstance(store, SQLiteStore):
        store._db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = '{ident}' "
                          "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END")
    else:
        store._conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                            f"IF NEW.id = '{ident}' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; "
                            "RETURN NEW; END $$")
        store._conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()")


def test_append_soon_stores_while_the_caller_works(sql_stores: StoreFactory) -> None:
    """``append_soon`` is ``append`` in a thread of the store's: the same positions and counts, one at a
    time and in order; every later call waits for it (and sees the batch); its error comes from
    ``result()`` or, if that was not called, from the next call, once, with nothing of the batch stored."""
    url = sql_stores.url()
    store = sql_stores.open(url)
    assert isinstance(store, (SQLiteStore, PostgresStore))
    first = store.append_soon([event(n) for n in range(1000)], expected=0)
    second = store.append_soon([event(n) for n in range(995, 2000)], expected=1000)  # (waits for the first)
    assert store.count() == 2000 and store.position() == 2000  # (waits for the second: sees it)
    assert (first.result(), second.result()) == (1000, 1000)
    assert [p for p, _ in store.events_after(998)][:3] == [999, 1000, 1001]
    assert store.append_soon([event(1)]).result() == 0 and store.append_soon([]).result() == 0
    with pytest.raises(StoreError, match="ISO 8601"):  # refused before anything is sent
        store.append_soon([event(3000), event(3001) | {"time": "yesterday"}])

    other = sql_stores.open(url)
    other.append([event(5000)])
    stale = store.append_soon([event(3000)], expected=2000)
    with pytest.raises(StoreConflict, match="moved from position 2000 to 2001"):
        store.contains("e003000")  # the next call raises what result() was not asked for
    assert not store.contains("e003000")  # once
    with pytest.raises(StoreConflict):
        stale.result()  # (the append's own answer stays its error)
    _refuse_in_the_store(other, "e003001")
    refused = store.append_soon([event(3000), event(3001)], expected=2001)
    with pytest.raises(StoreError, match="cannot write"):
        refused.result()
    assert store.position() == 2001 and not store.contains("e003000")  # then the store is usable

    last = store.append_soon([event(n) for n in range(3002, 3502)], expected=2001)
    store.close()  # waits for it
    assert other.count() == 2501 and last.result() == 500
    failing = sql_stores.open(url)
    failing.append_soon([event(6000)], expected=0)  # type: ignore[attr-defined]
    with pytest.raises(StoreConflict):
        failing.close()  # an error not asked for is not lost: close raises it, and closes
    with pytest.raises(StoreError, match="closed"):
        failing.count()
    assert not other.contains("e006000")


def test_postgres_find_ids_soon_answers_as_find_ids_while_the_caller_works(postgres_stores: StoreFactory) -> None:
    """``find_ids_soon`` is ``find_ids`` in the store's thread: the same set, as of when it was asked (after an
    append under way, before anything asked after it); every later call waits for it; its error comes from
    ``result()`` or, if that was not called, from the next call."""
    url = postgres_stores.url()
    store = postgres_stores.open(url)
    assert isinstance(store, PostgresStore)
    sent = store.append_soon([event(n) for n in range(1000)], expected=0)
    asked = ["nope", "e000003", "e000003", *[f"e{n:06d}" for n in range(0, 2000, 2)]]
    pending = store.find_ids_soon(asked)  # (after the append under way: it sees the batch)
    assert store.append_soon([event(n) for n in range(1000, 1500)], expected=1000).result() == 500  # (waits)
    assert pending.result() == {f"e{n:06d}" for n in range(0, 1000, 2)} | {"e000003"}  # (not the later ones)
    assert sent.result() == 1000
    assert store.find_ids_soon(asked).result() == store.find_ids(asked) == {  # type: ignore[attr-defined]
        f"e{n:06d}" for n in range(0, 1500, 2)} | {"e000003"}
    assert store.find_ids_soon([]).result() == set()
    with store._conn.cursor() as cur:  # the next query fails: no events table in the schema searched
        cur.execute("SET search_path TO pg_catalog")
    failing = store.find_ids_soon(["e000003"])
    with pytest.raises(StoreError, match="cannot read"):
        store.position()  # the next call raises what result() was not asked for
    with pytest.raises(StoreError, match="cannot read"):
        failing.result()


def test_postgres_holds_a_flushs_documents_for_the_next_append_soon(postgres_stores: StoreFactory) -> None:
    """Within ``holding()``, ``put_text`` and ``merge_parts`` are held and sent by the next ``append_soon``
    from its thread, before its batch: another connection sees neither before, both after ``result()``;
    a read of this store sees them at once (it writes them first); an error of one is the append's, and
    its batch is not stored; ``close`` writes what is still held."""
    url = postgres_stores.url()
    store = postgres_stores.open(url)
    other = postgres_stores.open(url)
    assert isinstance(store, PostgresStore)
    with store.holding():
        store.put_text("parts", "p1", '{"entries": [1, 2]}')
        store.merge_parts("names", {"n1": {"p1": 1}})
    assert other.get("parts", "p1") is None and other.get("names", "n1") is None  # (held: not sent)
    sent = store.append_soon([event(1), event(2)], expected=0)
    assert sent.result() == 2
    assert other.get("parts", "p1") == {"entries": [1, 2]} and other.get("names", "n1") == {"parts": {"p1": 1}}
    assert other.count() == 2

    with store.holding():
        store.put_text("parts", "p2", '{"entries": [3]}')
        assert store.get("parts", "p2") == {"entries": [3]}  # a read writes what is held first
    assert other.get("parts", "p2") == {"entries": [3]}

    with store.holding():
        store.put_text("parts", "p3", "[1, 2]")  # (not an object: refused when it is written)
        store.put_text("parts", "p4", '{"entries": [4]}')
    refused = store.append_soon([event(3)], expected=2)
    with pytest.raises(StoreError, match="not.*object"):
        refused.result()
    assert other.count() == 2 and other.get("parts", "p3") is None and other.get("parts", "p4") is None
    assert store.append_soon([event(3)], expected=2).result() == 1  # (then the store is usable)

    with store.holding():
        store.merge_parts("names", {"n2": {"p5": 5}})
    store.close()  # writes what is held
    assert other.get("names", "n2") == {"parts": {"p5": 5}}


def test_postgres_compresses_large_documents_with_lz4(postgres_stores: StoreFactory) -> None:
    """A large document (a checkpoint's, a sealed part) is compressed with lz4 where the server has it
    (about twice as fast to store as pglz), and reads back the same."""
    url = postgres_stores.url()
    store = postgres_stores.open(url)
    assert isinstance(store, PostgresStore)
    if not store._conn.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                               "AND 'lz4' = ANY(enumvals)").fetchall():
        pytest.skip("this server has no lz4 (PostgreSQL before 14, or built without it)")
    big = {"entries": [event(n, note="巡查记录 " * 20) for n in range(300)]}
    store.put("checkpoints", "big", big)
    store.put_many("checkpoints", {"many": big})
    store.put_text("points.ledger", "text", json.dumps(big))  # type: ignore[attr-defined]
    found = store._conn.execute("SELECT key, pg_column_compression(doc) FROM documents ORDER BY key").fetchall()
    assert found == [("big", "lz4"), ("many", "lz4"), ("text", "lz4")]
    assert store.get("checkpoints", "big") == big == postgres_stores.open(url).get("points.ledger", "text")


def test_postgres_plans_every_statement_for_its_values(postgres_stores: StoreFactory) -> None:
    """psycopg prepares a statement run five times, and the server would then keep one plan for any values
    (chosen by those it saw first: a page of a common kind planned as for a rare one read every matching
    event for each page); the store's connection plans each run for its values.  A statement the server
    would plan once for all (an id looked up, run six times) shows its value in the plan, not ``$1``."""
    store = postgres_stores.open()
    assert isinstance(store, PostgresStore)
    store.append([event(1)])
    conn = store._conn
    conn.execute("PREPARE probe(text) AS SELECT seq FROM events WHERE id = $1")
    for _ in range(6):
        conn.execute("EXECUTE probe('e000001')")
    plan = "\n".join(row[0] for row in conn.execute("EXPLAIN EXECUTE probe('e000001')"))
    assert "'e000001'" in plan and "$1" not in plan
    conn.execute("DEALLOCATE probe")


def test_positions_page_through_large_logs(stores: StoreFactory) -> None:
    store = stores.open()
    docs = [event(n, hours=n / 7) for n in range(4500)]
    store.append(docs[:2500])
    store.append(docs[2500:])
    after = list(store.events_after(1000))
    assert [p for p, _ in after] == list(range(1001, 4501))
    assert [d["id"] for _, d in after] == [d["id"] for d in docs[1000:]]


def test_a_conditional_append_refuses_a_moved_log_and_stores_nothing(stores: StoreFactory) -> None:
    store = stores.open()
    store.append([event(1)])
    assert store.append([event(2)], expected=1) == 1
    with pytest.raises(StoreConflict, match="moved from position 1 to 2"):
        store.append([event(3)], expected=1)
    with pytest.raises(StoreConflict):
        store.append([event(2)], expected=7)  # even a batch of duplicates
    assert store.position() == 2 and not store.contains("e000003")
    assert store.append([event(3)], expected=2) == 1
    assert isinstance(StoreConflict("x"), StoreError)


def test_find_returns_stored_documents_by_id(stores: StoreFactory) -> None:
    store = stores.open()
    docs = [event(n, hours=n * 24 * 20, note=f"第{n}次") for n in range(30)]
    store.append(docs)
    found = store.find(["e000003", "e000029", "nope", "e000003"])
    assert found == {"e000003": docs[3], "e000029": docs[29]}
    assert store.find([]) == {}


def test_find_ids_gives_the_ids_find_gives(stores: StoreFactory) -> None:
    """``find_ids`` (every built-in store; the engine asks it which events of a call are stored already):
    ``set(find(ids))`` without the documents, more ids than one query takes, repeats answered once."""
    store = stores.open()
    docs = [event(n, hours=n * 24 * 3) for n in range(1300)]
    store.append(docs)
    asked = ["nope", "e000003", "e000003", *[f"e{n:06d}" for n in range(0, 2600, 2)][::-1], "E000005", ""]
    found = store.find_ids(asked)  # type: ignore[attr-defined]
    assert found == set(store.find(asked)) == {f"e{n:06d}" for n in range(0, 1300, 2)} | {"e000003"}
    assert store.find_ids([]) == set() and store.find_ids(["nope"]) == set()  # type: ignore[attr-defined]
    url = stores.url()
    writer, reader = stores.open(url), stores.open(url)
    assert reader.find_ids(["e005000"]) == set()  # type: ignore[attr-defined]
    writer.append([event(5000)])
    assert reader.find_ids(["e005000", "e000003"]) == {"e005000"}  # type: ignore[attr-defined]  (another handle's append)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.find_ids(["e000003"])  # type: ignore[attr-defined]


def test_a_second_handle_sees_appends_and_documents_without_reopening(stores: StoreFactory) -> None:
    url = stores.url()
    writer = stores.open(url)
    writer.append([event(1)])
    reader = stores.open(url)
    assert reader.count() == 1
    writer.append([event(2), event(3, hours=24 * 40)])
    writer.put("meta", "community", {"name": "银泉"})
    assert reader.position() == 3
    assert reader.count() == 3 and reader.contains("e000003")
    assert ids(reader.events()) == ["e000001", "e000002", "e000003"]
    assert [p for p, _ in reader.events_after(1)] == [2, 3]
    assert reader.get("meta", "community") == {"name": "银泉"}
    assert reader.find(["e000002"]) == {"e000002": event(2)}


def test_opening_without_create_never_creates(stores: StoreFactory, tmp_path: Path) -> None:
    url = stores.url()
    with pytest.raises(StoreError, match="no gridcore store|cannot connect") as info:
        open_store_with(url, plugins=get_plugin_manager(load_entry_points=False), create=False)
    assert "nothing was created" in str(info.value) or stores.backend == "postgresql"
    if stores.backend == "tinydb":
        assert not Path(url).exists()
    elif stores.backend == "sqlite":
        assert not Path(url.removeprefix("sqlite:///")).exists()
    stores.open(url).append([event(1)])
    again = open_store_with(url, plugins=get_plugin_manager(load_entry_points=False), create=False)
    assert again.count() == 1
    again.close()


@pytest.mark.parametrize("writers", [2])
def test_two_processes_appending_conditionally_lose_and_repeat_nothing(stores: StoreFactory, writers: int) -> None:
    url = stores.url()
    open_store(url).close()  # create it
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    procs = [
        subprocess.Popen([sys.executable, str(REPO / "tests" / "store_appender.py"), url, f"w{k}", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for k in range(writers)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    store = stores.open(url)
    if stores.backend == "tinydb":
        # One writer at a time: a second process is refused with the holder's id, never corrupts.
        done = [o for o in outcomes if o.startswith("done")]
        refused = [o for o in outcomes if o.startswith("error")]
        assert len(done) + len(refused) == writers and done
        for message in refused:
            assert re.search(r"in use by process \d+", message)
        assert store.count() == 60 * len(done)
    else:
        assert all(o.startswith("done") for o in outcomes), outcomes
        assert store.count() == 60 * writers
    after = list(store.events_after(0))
    assert [p for p, _ in after] == list(range(1, store.count() + 1))
    assert len({d["id"] for _, d in after}) == store.count()


def test_a_throwaway_sqlite_store_is_not_synced_and_works_as_any(tmp_path: Path) -> None:
    """``durable=False`` (a what-if's replay) only stops syncing each commit; the default syncs fully."""
    path = tmp_path / "throwaway.db"
    store = SQLiteStore(path, durable=False)
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
    docs = [event(n) for n in range(25)]
    assert store.append(docs) == 25
    store.put("rulesets", "2025-01-01|0000", {"name": "银泉"})
    store.close()
    again = SQLiteStore(path)
    assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert ids(again.events()) == canonical(docs)
    assert again.get("rulesets", "2025-01-01|0000") == {"name": "银泉"}
    again.close()


def test_sqlite_stores_a_batch_as_its_rows_one_at_a_time_would(tmp_path: Path) -> None:
    """A batch goes in statements of many rows (``_insert_events``): the rows stored (positions, ids, kinds,
    keys, texts, the text's type), and the count of new ones, are those one ``INSERT OR IGNORE`` a row gives,
    for batches of every size around the statements' (ids already stored and repeated ones among them)."""
    import sqlite3

    from gridcore.store.canonical import encoded_events
    from gridcore.store.sqlite_store import ROWS_AT_ONCE

    store = SQLiteStore(tmp_path / "many.db")
    alike = sqlite3.connect(tmp_path / "one.db", isolation_level=None)
    alike.executescript("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
                        "time_utc TEXT NOT NULL, doc TEXT NOT NULL)")
    rng = random.Random(5)
    n = 0
    for size in (1, 2, 3, ROWS_AT_ONCE - 1, ROWS_AT_ONCE, ROWS_AT_ONCE + 1, 2 * ROWS_AT_ONCE + 37, 1000, 0, 7):
        docs = [event(n + i, note=rng.choice(["", "巡查", "a\"b"])) for i in range(size)]
        docs += [event(rng.randrange(n + size)) for _ in range(size // 3)]  # stored before, or in this batch
        rng.shuffle(docs)
        n += size
        before = alike.total_changes
        alike.executemany("INSERT OR IGNORE INTO events (id, kind, time_utc, doc) VALUES (?, ?, ?, CAST(? AS TEXT))",
                          encoded_events(docs, utf8=True))
        assert store.append(docs) == alike.total_changes - before
    rows = "SELECT seq, id, kind, time_utc, doc, typeof(doc) FROM events ORDER BY seq"
    assert store._db.execute(rows).fetchall() == alike.execute(rows).fetchall()
    assert store.count() == n
    store.close()
    alike.close()


#: The schema of SQLite stores made before 2026-12-03: documents in a WITHOUT ROWID table.
OLD_SQLITE_SCHEMA = """
CREATE TABLE gridcore_store (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                     time_utc TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX events_time ON events (time_utc, id);
CREATE INDEX events_kind ON events (kind, time_utc, id);
CREATE TABLE documents (collection TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,
                        PRIMARY KEY (collection, key)) WITHOUT ROWID;
INSERT INTO gridcore_store VALUES ('format', 'gridcore-sql-store'), ('version', '1');
"""


def _documents_table(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        return str(db.execute("SELECT sql FROM sqlite_master WHERE name = 'documents'").fetchone()[0])


def test_an_older_sqlite_store_is_read_as_is_and_upgraded_by_its_first_document_write(tmp_path: Path) -> None:
    """A store whose documents are in the older WITHOUT ROWID table (a key lookup there walks the pages of
    other, large documents) reads as before; the first document written moves them into the indexed table,
    keeping every one, and a handle opened before the upgrade goes on reading and writing."""
    import sqlite3

    path = tmp_path / "older.db"
    big = {"text": "记" * 200_000}
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SQLITE_SCHEMA)
        db.executemany("INSERT INTO documents VALUES (?, ?, ?)",
                       [("checkpoints", f"slot-{n}", f'{{"n": {n}, "text": "{big["text"]}"}}') for n in range(4)]
                       + [("rulesets", "2025-01-01|0000", '{"name": "银泉"}')])
    docs = [event(n) for n in range(10)]
    earlier = SQLiteStore(path, create=False)
    assert earlier.append(docs) == 10  # events are written as ever
    assert "WITHOUT ROWID" in _documents_table(path)
    assert earlier.get("rulesets", "2025-01-01|0000") == {"name": "银泉"}
    assert earlier.get("checkpoints", "slot-9") is None
    before = {c: dict(earlier.items(c)) for c in earlier.collections()}

    writer = SQLiteStore(path, create=False)
    writer.put("checkpoints", "index", {"slots": {"0": 10}})
    assert "WITHOUT ROWID" not in _documents_table(path)
    assert writer.get("checkpoints", "index") == {"slots": {"0": 10}}
    after = {c: dict(writer.items(c)) for c in writer.collections()}
    assert after["checkpoints"].pop("index") == {"slots": {"0": 10}}
    assert after == before
    assert after["checkpoints"]["slot-3"] == {"n": 3, **big}

    # the handle opened before the upgrade reads the moved documents and writes (nothing to upgrade again)
    assert earlier.get("checkpoints", "index") == {"slots": {"0": 10}}
    earlier.put_many("checkpoints", {"slot-0": {"n": 0}, "index": {"slots": {}}})
    assert writer.get("checkpoints", "slot-0") == {"n": 0}
    assert ids(writer.events()) == canonical(docs)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
            "gridcore_store", "events", "documents"}
    earlier.close()
    writer.close()


def test_a_new_sqlite_store_keys_its_documents_by_an_index(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "new.db")
    store.put("meta", "a", {"x": 1})
    assert "WITHOUT ROWID" not in _documents_table(tmp_path / "new.db")
    plan = store._db.execute("EXPLAIN QUERY PLAN SELECT doc FROM documents WHERE collection = ? AND key = ?",
                             ("meta", "a")).fetchall()
    assert "USING INDEX" in " ".join(str(row[-1]) for row in plan)
    store.close()


def test_a_new_sqlite_store_has_larger_pages_and_one_made_before_keeps_its_own(tmp_path: Path) -> None:
    """A store made now has pages of ``PAGE_SIZE`` bytes; one made before, with SQLite's 4,096, keeps its pages
    (a page size changes only by rewriting the file) and is read and appended to as ever, from two handles."""
    import sqlite3

    from gridcore.store.canonical import utc_key
    from gridcore.store.sqlite_store import FORMAT, PAGE_SIZE, SCHEMA, VERSION

    docs = [event(n) for n in range(12)]
    first = event(999999, hours=-1)  # (stored by the gridcore that made the store)
    new = SQLiteStore(tmp_path / "new.db")
    assert new.append(docs[:6]) == 6
    assert new._db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE != 4096
    new.close()
    assert SQLiteStore(tmp_path / "new.db", create=False)._db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE

    path = tmp_path / "before.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute("INSERT INTO gridcore_store VALUES ('format', ?), ('version', ?)", (FORMAT, VERSION))
        db.execute("INSERT INTO events (id, kind, time_utc, doc) VALUES (?, ?, ?, ?)",
                   (first["id"], first["kind"], utc_key(datetime.fromisoformat(first["time"])), json.dumps(first)))
    db.close()
    writer = SQLiteStore(path)  # (as the engine opens it: a store is made if missing)
    other = SQLiteStore(path, create=False)
    assert writer.append(docs[:6], expected=1) == 6
    assert other.append(docs[6:], expected=7) == 6
    assert ids(other.events()) == canonical([first, *docs]) == ids(writer.events())
    for store in (writer, other):
        assert store._db.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store.close()


def test_merge_parts_creates_and_extends_name_documents_all_or_none(stores: StoreFactory) -> None:
    url = stores.url()
    store = stores.open(url)
    store.put("names", "old", {"parts": {"k0": 3, "k1": 1}})
    store.merge_parts("names", {"old": {"k1": 4, "k2": 0}, "new": {"k2": 1}, "新名": {"k2": 2, "k3": 0}})
    assert store.get("names", "old") == {"parts": {"k0": 3, "k1": 4, "k2": 0}}  # gained, a key it had moved
    assert store.get("names", "new") == {"parts": {"k2": 1}}
    assert store.get("names", "新名") == {"parts": {"k2": 2, "k3": 0}}
    store.merge_parts("names", {})  # nothing to do
    assert stores.open(url).get("names", "old") == {"parts": {"k0": 3, "k1": 4, "k2": 0}}  # another handle
    before = dict(store.items("names"))
    for refused in ({"old": {"k9": 1}, "other": {"k9": "1"}}, {"old": {"k9": 1}, "other": {"k9": True}},
                    {"old": {"k9": 1}, "other": ["k9"]}, {"old": {"k9": 1}, 7: {"k9": 1}}):
        with pytest.raises(StoreError):
            store.merge_parts("names", refused)  # type: ignore[dict-item]
        assert dict(store.items("names")) == before  # none of it
    store.put("names", "bad", {"parts": ["k0"]})
    before = dict(store.items("names"))
    with pytest.raises(StoreError, match="not an object"):
        store.merge_parts("names", {"aaa": {"k9": 1}, "bad": {"k9": 1}, "old": {"k9": 1}, "zzz": {"k9": 1}})
    assert dict(store.items("names")) == before


@pytest.mark.parametrize("merge", ["on"])
def test_two_processes_merging_into_the_same_names_lose_nothing(stores: StoreFactory, merge: str) -> None:
    """Two writers store parts named by the same names at once (``PartNames.stored``): every part is in
    every name's document.  (With ``merge`` "off", the read-then-write of a store without ``merge_parts``,
    this fails: additions are lost.)"""
    if stores.backend == "tinydb":
        pytest.skip("TinyDB has one writer process at a time")
    url = stores.url()
    open_store(url).close()  # create it
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    rounds, start = 60, time.time() + 3
    procs = [
        subprocess.Popen([sys.executable, str(REPO / "tests" / "store_merger.py"), url, f"w{k}", str(rounds),
                          str(start), *(["off"] if merge == "off" else [])],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for k in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == "done", err
    store = stores.open(url)
    found = dict(store.items("names"))
    assert sorted(found) == [f"n{n:02d}" for n in range(12)]
    for n in range(12):  # (name n answers to the entry at position n of every part)
        parts = found[f"n{n:02d}"]["parts"]
        missing = sorted({f"w{k}-{r}" for k in range(2) for r in range(rounds)} - set(parts))
        assert not missing, f"n{n:02d} lost {len(missing)} additions: {missing[:5]}"
        assert parts == {f"w{k}-{r}": n for k in range(2) for r in range(rounds)}


def test_orders_after_gives_what_events_after_gives_without_the_documents(stores: StoreFactory) -> None:
    """``orders_after`` (every built-in store; the engine checks a checkpoint's or a remembered refusal's
    tail with it): ``(position, time in UTC, id)`` in log order, for a log appended out of canonical order,
    in other zones, across more than a page of an SQL store's query."""
    store = stores.open()
    hours = [-100.0] + [n * 0.37 for n in range(1, 1201)]  # 1,201 events, the first the earliest
    docs = [event(n, hours=h, tz=CST if n % 2 else timezone(timedelta(hours=-5))) for n, h in enumerate(hours)]
    store.append(docs[600:])
    store.append(docs[:600])  # positions no longer in canonical order
    for after in (0, 1, 599, 1200, 1201):
        got = list(store.orders_after(after))  # type: ignore[attr-defined]
        want = [(p, datetime.fromisoformat(d["time"]).astimezone(UTC), d["id"]) for p, d in store.events_after(after)]
        assert got == want
        assert all(when.utcoffset() == timedelta(0) for _, when, _ in got)
    assert [p for p, _, _ in store.orders_after(1198)] == [1199, 1200, 1201]  # type: ignore[attr-defined]
    store.close()


def test_events_of_several_kinds_across_pages(stores: StoreFactory) -> None:
    """Several kinds over more than a page of an SQL store's query (SQLite reads each kind in its index's order
    and merges them): the canonical order of those kinds, with bounds in time, a kind named twice read once."""
    store = stores.open()
    kinds = ("patrol_logged", "incident_reported", "activity_recorded")
    docs = [event(n, kind=kinds[n * 7 % 3], hours=(n * 37) % 4500 / 3) for n in range(4500)]
    random.Random(3).shuffle(docs)
    store.append(docs[:2500])
    store.append(docs[2500:])
    wanted = ["incident_reported", "activity_recorded", "incident_reported"]
    assert ids(store.events(kinds=wanted)) == canonical([d for d in docs if d["kind"] in wanted])
    since, until = BASE + timedelta(hours=100), BASE + timedelta(hours=1200)
    assert ids(store.events(kinds=wanted, since=since, until=until)) == canonical(
        [d for d in docs if d["kind"] in wanted and since <= datetime.fromisoformat(d["time"]) < until])
    assert ids(store.events(kinds=["patrol_logged", "patrol_logged"])) == canonical(
        [d for d in docs if d["kind"] == "patrol_logged"])
    store.close()


def _event_indexes(store: SQLiteStore) -> dict[str, str | None]:
    return dict(store._db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"))


def test_a_sqlite_store_reads_kinds_from_its_index_of_kinds_and_one_made_without_it_reads_the_same(
        tmp_path: Path) -> None:
    """A SQLite store keeps an index of kinds for reads by kind (reports read so all day); a store made
    without it (main between d11664d and its revert, 2026-12-06: the kind inside the index of canonical
    order) gives the same events for any kinds, bounds and pages, a read opening it changes nothing, and a
    writer opening it adds the index."""
    import sqlite3

    kinds = ("patrol_logged", "incident_reported", "activity_recorded", "incident_closed")
    docs = [event(n, kind=kinds[n * 7 % 4], hours=(n * 37) % 4500 / 3) for n in range(4500)]
    random.Random(4).shuffle(docs)
    new = SQLiteStore(tmp_path / "new.db")
    new.append(docs[:3000])
    new.append(docs[3000:])
    indexes = _event_indexes(new)
    assert re.sub(r"\s+", " ", str(indexes["events_kind"])) == "CREATE INDEX events_kind ON events (kind, time_utc, id)"
    assert re.sub(r"\s+", " ", str(indexes["events_time"])) == "CREATE INDEX events_time ON events (time_utc, id)"
    assert new._kind_index
    without = SQLiteStore(tmp_path / "without.db")
    without.append(docs)
    without.close()
    with sqlite3.connect(tmp_path / "without.db") as db:  # (as a store made between d11664d and its revert)
        db.executescript("DROP INDEX events_kind; DROP INDEX events_time; "
                         "CREATE INDEX events_time ON events (time_utc, id, kind);")
    db.close()
    reader = SQLiteStore(tmp_path / "without.db", create=False)
    assert not reader._kind_index
    assert "events_kind" not in _event_indexes(reader)
    since, until = BASE + timedelta(hours=100), BASE + timedelta(hours=1200)
    times = {d["id"]: datetime.fromisoformat(d["time"]) for d in docs}
    for wanted in ([], ["incident_closed"], ["incident_reported", "activity_recorded", "incident_reported"],
                   list(kinds), ["no_such_kind", "incident_closed"]):
        for bounds in ({}, {"since": since}, {"since": since, "until": until}):
            expected = canonical([d for d in docs if d["kind"] in wanted
                                  and ("since" not in bounds or times[d["id"]] >= since)
                                  and ("until" not in bounds or times[d["id"]] < until)])
            assert ids(new.events(kinds=wanted, **bounds)) == expected, (wanted, bounds)
            assert ids(reader.events(kinds=wanted, **bounds)) == expected, (wanted, bounds)
    reader.close()
    writer = SQLiteStore(tmp_path / "without.db")  # (create=True: the schema's statements run)
    assert writer._kind_index and "events_kind" in _event_indexes(writer)
    assert ids(writer.events(kinds=list(kinds))) == canonical(docs)
    writer.close()
    new.close()
