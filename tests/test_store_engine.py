"""The engine on every backend: the same events give the same log and the same replay."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from attrs import frozen
from conftest import BUILTIN_PLUGINS, START, small_community
from recorder import RecorderPlugin
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, Event, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, PatrolLogged
from gridcore.store.migrate import migrate

stores = stores_fixture()


def open_engine(url: str) -> Engine:
    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[RecorderPlugin()])
    return Engine.open(store=url, community=small_community(), clock=FixedClock(START), plugins=pm)


def day_of_work() -> list[ActivityRecorded | PatrolLogged]:
    events: list[ActivityRecorded | PatrolLogged] = []
    for n in range(60):
        when = START + timedelta(minutes=37 * n)
        if n % 3:
            events.append(PatrolLogged(id=f"巡查-{n:03d}", time=when, actor="worker1", node="u11", minutes=30))
        else:
            activity = "reminder" if n % 9 == 0 else "clean_up"
            events.append(ActivityRecorded(id=f"活动-{n:03d}", time=when, actor="res1", node="u11",
                                           activity=activity, hours=1.5))
    return events


def test_record_reopen_and_replay_on_every_backend(stores: StoreFactory) -> None:
    url = stores.url()
    events = day_of_work()
    shuffled = list(events)
    random.Random(3).shuffle(shuffled)
    engine = open_engine(url)
    summary = engine.record_many(shuffled[:25], batch_size=7)
    summary.merge(engine.record_many(shuffled[25:], batch_size=7))
    engine.tick(START + timedelta(days=2))
    assert summary.accepted == 60 and not summary.refused
    stored = [e.id for e in engine.events()]
    seen = [event_id for event_id, _ in engine.state("recorder").seen]
    assert stored == seen  # applied in canonical order, whatever order they came in
    assert sum(1 for i in stored if i.startswith("due:")) == 5  # reminders due by the tick, stored too
    engine.close()

    again = open_engine(url)
    assert [e.id for e in again.events()] == stored
    assert again.state("recorder").seen == [(i, True) for i in stored]  # replayed, each once
    assert again.record_many(events).duplicates == 60
    assert again.store.count() == len(stored)
    again.close()


def test_an_engine_opens_on_a_migrated_store(stores: StoreFactory, tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "tiny"))
    engine.record_many(day_of_work())
    engine.tick(START + timedelta(days=2))
    stored = [e.id for e in engine.events()]
    engine.close()
    target = stores.url()
    migrate(str(tmp_path / "tiny"), target, plugins=get_plugin_manager(BUILTIN_PLUGINS))
    moved = open_engine(target)
    assert [e.id for e in moved.events()] == stored
    assert [event_id for event_id, _ in moved.state("recorder").seen] == stored
    assert moved.community == small_community()  # the community document came along
    moved.close()


def test_a_stored_event_missing_its_kind_is_reported_naming_the_store(tmp_path: Path) -> None:
    import sqlite3

    from gridcore import StoreError

    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    with open_engine(url) as engine:
        engine.record_many(day_of_work()[:3])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET doc = json_remove(doc, '$.kind') WHERE id = ?", ("巡查-001",))
    with pytest.raises(StoreError) as info:
        open_engine(url)
    message = str(info.value)
    assert f"the store {url} holds an event that cannot be read (巡查-001): kind: missing" in message
    assert "The store is damaged" in message


@frozen(kw_only=True)
class Checked(Event):
    """A third-party plugin's event, as its first release stored it."""

    kind: ClassVar[str] = "sorting_checked"
    household: str


@frozen(kw_only=True)
class CheckedLater(Event):
    """The same kind in its next release: a field added without a default."""

    kind: ClassVar[str] = "sorting_checked"
    household: str
    bins: int


class Release:
    def __init__(self, event: type[Event]) -> None:
        self.event = event

    @hookimpl
    def gridcore_register_event_types(self) -> list[type[Event]]:
        return [self.event]


def test_an_event_its_plugin_now_reads_otherwise_says_the_event_class_changed(tmp_path: Path) -> None:
    """A third-party plugin's new release adds a field without a default to its event: the stored events
    lack it. Opening says which kind and class, and what a plugin author must do, not that the plugin is
    missing (it is installed); and in Chinese."""
    from gridcore import StoreError

    url = f"sqlite:///{tmp_path / 's.db'}"
    first = get_plugin_manager(BUILTIN_PLUGINS, extra=[Release(Checked)])
    with Engine.open(store=url, community=small_community(), clock=FixedClock(START), plugins=first) as engine:
        engine.record(Checked(id="w0", time=START, actor="worker1", node="g1", household="h1"))
    later = get_plugin_manager(BUILTIN_PLUGINS, extra=[Release(CheckedLater)])
    with pytest.raises(StoreError) as info:
        Engine.open(store=url, clock=FixedClock(START), plugins=later)
    message = str(info.value)
    assert f"the store {url} holds a sorting_checked event that the installed " in message
    assert "CheckedLater cannot read (w0): sorting_checked: bins: missing" in message
    assert "a field added to an event needs a default" in message and "新增字段须有默认值" in message
    assert "not installed" not in message


def test_a_sql_store_without_its_documents_is_damaged_not_new(tmp_path: Path) -> None:
    """Events without the community they belong to: refused on open, not taken for a new store."""
    import sqlite3

    from click.testing import CliRunner

    from gridcore import StoreError
    from gridcore_app.cli import main_group

    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    with open_engine(url) as engine:
        engine.record_many(day_of_work()[:3])
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM documents")
    for community in (None, small_community()):
        with pytest.raises(StoreError, match=r"is damaged: it holds 3 events but not the community") as info:
            Engine.open(store=url, community=community, clock=FixedClock(START))
        assert "do not run gridcore init on it" in str(info.value)
    result = CliRunner().invoke(main_group, ["points", "board", "g1", "--month", "2025-03", "--store", url])
    assert result.exit_code != 0 and "is damaged" in result.output and "gridcore init --community" not in result.output
