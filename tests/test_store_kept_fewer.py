"""A store that keeps fewer events of a batch than the engine sent is an error, not a silent divergence.

Every event of a batch the engine sends is new: its id is in no earlier batch, not among the events applied, not
in the store, and the store is still at the position the state reflects.  A store keeping fewer (here a real
trigger in the database that skips one row, as a trigger or rule someone added to the table would) used to leave
the plugins' state holding an event the log never got: ``record_many`` said accepted 3 and the store held 2
(the SQLite store's ``INSERT OR IGNORE`` is how a generator reusing one dict lost events before 54d51a4).
Now it raises ``StoreError`` naming the events not kept, and the state is rebuilt from what the store holds.
A derived event another writer stored first (both derived it from the same events) is the one event a store
may rightly skip: tests/test_service_workers.py and test_points_later.py have two writers do so.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, StoreError
from gridcore.events import ActivityRecorded

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "rulesets" / "yinquan"
RULESET = COMMUNITY / "yinquan.rules"
CST = timezone(timedelta(hours=8))
SKIPPED = "act-002"


stores = stores_fixture(["sqlite", "postgresql"])


def _open(url: str) -> Engine:
    return Engine.open(store=url, community=COMMUNITY, ruleset=RULESET)


def _activity(n: int) -> ActivityRecorded:
    return ActivityRecorded(id=f"act-{n:03}", time=datetime(2025, 3, 4 + n, 10, 0, tzinfo=CST), actor="yq-v1",
                            node="yq-g4-u1", activity="环境整治", hours=1.0 + n)


def _skip_one(stores: StoreFactory, url: str, *, on: bool) -> None:
    """Add (or drop) a trigger in the store's own database that silently skips the insert of ``SKIPPED``."""
    if stores.backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            if on:
                db.execute(f"CREATE TRIGGER skip_one BEFORE INSERT ON events WHEN NEW.id = '{SKIPPED}' "
                           "BEGIN SELECT RAISE(IGNORE); END")
            else:
                db.execute("DROP TRIGGER skip_one")
        return
    import psycopg

    from gridcore.store.postgres_store import split_url

    base, schema = split_url(url)
    with psycopg.connect(base, autocommit=True) as conn:
        if on:
            conn.execute(f'CREATE FUNCTION "{schema}".skip_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
                         f"IF NEW.id = '{SKIPPED}' THEN RETURN NULL; END IF; RETURN NEW; END $$")
            conn.execute(f'CREATE TRIGGER skip_one BEFORE INSERT ON "{schema}".events '
                         f'FOR EACH ROW EXECUTE FUNCTION "{schema}".skip_one()')
        else:
            conn.execute(f'DROP TRIGGER skip_one ON "{schema}".events')


def _replayed(url: str) -> tuple[list[str], list[str]]:
    """The ids stored and the outcomes of a replay of them, by an engine of its own."""
    with _open(url) as engine:
        engine.rebuild()
        return [event.id for event in engine.events()], sorted(map(repr, engine.outcomes()))


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_a_batch_the_store_kept_less_of_is_an_error_and_the_state_follows_the_store(
        stores: StoreFactory, batch_size: int) -> None:
    url = stores.url()
    with _open(url) as engine:
        assert engine.record_many([_activity(0)]).accepted == 1  # (the store's tables made)
    _skip_one(stores, url, on=True)
    offered = [_activity(n) for n in range(1, 6)]
    with _open(url) as engine:
        with pytest.raises(StoreError) as raised:
            engine.record_many(offered, batch_size=batch_size)
        message = str(raised.value)
        assert "did not keep 1 of the " in message and SKIPPED in message and "存储没有保存" in message
        ids, outcomes = _replayed(url)
        assert SKIPPED not in ids and "act-000" in ids
        # what this engine holds is what the store holds: the skipped event was not applied
        assert [event.id for event in engine.events()] == ids
        assert sorted(map(repr, engine.outcomes())) == outcomes

        # the cause gone, the events it did not keep are offered again and recorded; nothing twice
        _skip_one(stores, url, on=False)
        again = engine.record_many(offered)
        assert again.refused == []
        assert again.accepted == len(offered) - (len(ids) - 1)
        live = sorted(map(repr, engine.outcomes()))
    ids, outcomes = _replayed(url)
    assert sorted(ids) == [f"act-{n:03}" for n in range(6)]
    assert outcomes == live


def test_the_guard_costs_nothing_when_every_event_is_kept(stores: StoreFactory) -> None:
    """The same batches with no trigger: no error, all stored (the guard only compares two counts)."""
    url = stores.url()
    with _open(url) as engine:
        summary = engine.record_many([_activity(n) for n in range(6)], batch_size=2)
        assert (summary.accepted, summary.refused) == (6, [])
    ids, _ = _replayed(url)
    assert sorted(ids) == [f"act-{n:03}" for n in range(6)]

