"""What ``record_many`` stores is what it read: the caller's documents are never kept.

A document given as its event's ``to_dict`` writes it (every line ``gridcore ingest`` reads) is stored without
being made again; it used to be stored as the caller's own dict, read when its batch was written.  A generator
that reuses one dict for every line (a common way to write a reader) then stored the last line's document once,
under every event it had accepted (the others ignored as the same id), with the plugins' state holding all
of them: accepted 3, stored 1.  Now each is copied as it is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine
from gridcore.events import ActivityRecorded

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "rulesets" / "yinquan"
RULESET = COMMUNITY / "yinquan.rules"
CST = timezone(timedelta(hours=8))
N = 5


stores = stores_fixture()


def _open(url: str) -> Engine:
    return Engine.open(store=url, community=COMMUNITY, ruleset=RULESET)


def _activity(engine: Engine, n: int) -> dict[str, Any]:
    """Activity ``n``'s document as its kind's writer writes it: the caller's dict is stored as given."""
    event = ActivityRecorded(id=f"act-{n:03}", time=datetime(2025, 3, 4 + n, 10, 0, tzinfo=CST), actor="yq-v1",
                             node="yq-g4-u1", activity="环境整治", hours=1.0 + n)
    doc = engine.codec.to_dict(event)
    _, kept, _ = engine.codec.read_written(doc)
    assert kept is doc  # (the path this file is about: the document as given)
    return doc


def _stored(url: str) -> list[dict[str, Any]]:
    with _open(url) as engine:
        return [engine.codec.to_dict(event) for event in engine.events()]


def _outcomes(url: str) -> list[Any]:
    with _open(url) as engine:
        engine.rebuild()  # (a replay of what is stored, not a checkpoint of what was applied)
        return sorted(map(repr, engine.outcomes()))


def test_a_generator_reusing_one_dict_stores_every_line(stores: StoreFactory) -> None:
    url = stores.url()
    with _open(url) as engine:
        wanted = [_activity(engine, n) for n in range(N)]

        def lines() -> Iterator[dict[str, Any]]:
            doc: dict[str, Any] = {}
            for one in wanted:
                doc.clear()
                doc.update(one)
                yield doc

        summary = engine.record_many(lines())
        assert (summary.accepted, summary.refused) == (N, [])
        live = sorted(map(repr, engine.outcomes()))
    assert _stored(url) == wanted
    assert _outcomes(url) == live


def test_documents_changed_after_the_call_or_by_progress_are_stored_as_read(stores: StoreFactory) -> None:
    url = stores.url()
    with _open(url) as engine:
        docs = [_activity(engine, n) for n in range(N)]
        wanted = [dict(doc) for doc in docs]

        def progress(done: int) -> None:  # (called while the documents wait in a batch)
            for doc in docs[:done]:
                doc["hours"] = 99.0

        summary = engine.record_many(docs, batch_size=2, progress=progress)
        assert summary.accepted == N
        for doc in docs:
            doc["activity"] = "changed"
    assert _stored(url) == wanted


def test_a_list_read_without_a_callback_is_stored_as_given_and_kept_by_no_one(stores: StoreFactory) -> None:
    """From a list, and no ``progress``, nothing of the caller's runs before the batches are written: the
    documents are stored without a copy (``gridcore ingest``'s path), and changing them afterwards changes
    nothing, read through the same engine or another."""
    url = stores.url()
    with _open(url) as engine:
        docs = [_activity(engine, n) for n in range(N)]
        wanted = [dict(doc) for doc in docs]
        assert engine.record_many(docs, batch_size=2).accepted == N
        for doc in docs:
            doc["activity"] = "changed"
            doc["hours"] = 99.0
        assert [engine.codec.to_dict(event) for event in engine.events()] == wanted
    assert _stored(url) == wanted
