"""The points history: sealed parts in the store, named by checkpoints, read only when asked for.

(That a checkpoint plus its tail answers exactly as a full replay is the
property of tests/test_checkpoint_properties.py and tests/test_points_bounded.py.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from conftest import BUILTIN_PLUGINS, CST, IncidentKinds, small_community
from hypothesis import given, settings
from hypothesis import strategies as st
from test_points_bounded import points_only
from test_points_engine import EFFECTIVE, YINQUAN

from gridcore import Engine, FixedClock, StoreError, get_plugin_manager, hookimpl
from gridcore.checkpointing import CHECKPOINTS
from gridcore.events import ActivityRecorded
from gridcore.explain import RuleRef
from gridcore.parts import part_key, part_text, text_key
from gridcore.periods import parse_period
from gridcore_points import api
from gridcore_points.history import (
    COLLECTION,
    HISTORY_FORMAT,
    RAW_PARTS,
    History,
    decode_value,
    dump_records,
    encode_value,
    load_records,
    records_bytes,
)
from gridcore_points.ledger import Entry, Record

START = datetime(2025, 1, 6, 9, 0, tzinfo=CST)
NOW = datetime(2025, 7, 1, tzinfo=CST)


def activities(days: int) -> list[ActivityRecorded]:
    """A cleanup and a volunteer hour by res1, and a patrol by worker1, every day."""
    out = []
    for day in range(days):
        when = START + timedelta(days=day)
        out.append(ActivityRecorded(id=f"c{day}", time=when, actor="res1", node="u11", activity="cleanup"))
        out.append(ActivityRecorded(id=f"v{day}", time=when + timedelta(hours=2), actor="res1", node="u11",
                                    activity="volunteer_service", hours=1))
        out.append(ActivityRecorded(id=f"p{day}", time=when + timedelta(hours=3), actor="worker1", node="g1",
                                    activity="patrol", hours=2))
    return out


def open_store(url: str, **kw: Any) -> Engine:
    kw.setdefault("clock", FixedClock(NOW))
    return Engine.open(store=url, plugins=points_only(), **kw)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    """A SQLite store with 150 days of activities, checkpointed, its history cut in parts of 20 entries."""
    url = f"sqlite:///{tmp_path / 'points.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 20)
        with open_store(url, community=small_community(), ruleset=YINQUAN, effective=EFFECTIVE) as engine:
            engine.record_many(activities(150))
            assert engine.checkpoint() or engine.store.get(CHECKPOINTS, "index")
        yield url


class Counting:
    """Counts the parts a store hands out."""

    def __init__(self, engine: Engine) -> None:
        self.parts: list[str] = []
        self.calls = 0  # reads of the store that handed out parts
        get, get_text = engine.store.get, engine.store.get_text  # type: ignore[attr-defined]  # (SQLite)
        get_texts = engine.store.get_texts  # type: ignore[attr-defined]

        def counted(collection: str, key: str) -> dict[str, Any] | None:
            if collection == COLLECTION:
                self.parts.append(key)
                self.calls += 1
            return get(collection, key)

        def counted_text(collection: str, key: str) -> str | None:
            if collection == COLLECTION:
                self.parts.append(key)
                self.calls += 1
            return get_text(collection, key)  # type: ignore[no-any-return]

        def counted_texts(collection: str, keys: Any) -> dict[str, str]:
            keys = list(keys)
            if collection == COLLECTION:
                self.parts.extend(keys)
                self.calls += 1
            return get_texts(collection, keys)  # type: ignore[no-any-return]

        engine.store.get = counted  # type: ignore[method-assign]
        engine.store.get_text = counted_text  # type: ignore[attr-defined]
        engine.store.get_texts = counted_texts  # type: ignore[attr-defined]


def test_opening_reads_no_part_and_a_month_reads_only_its_own(store: str) -> None:
    with open_store(store) as writer:
        stored = dict(writer.store.items(COLLECTION))
        assert len(stored) >= 10  # about 450 entries in parts of 20: in the store, not in memory
        points = api.state(writer)
        assert all(part.text is None for part in points.history.parts)
        assert len(points.history.open) < 20
    with open_store(store, read_only=True) as reader:
        counting = Counting(reader)
        points = api.state(reader)
        assert reader._base == reader.position  # restored from the checkpoint, nothing replayed
        assert counting.parts == []
        may = api.board(reader, "yq", "2025-05")
        # only the parts holding May's entries and what follows (about 90 entries a month, 20 a part)
        assert 0 < len(counting.parts) <= 7 < len(points.history.parts)
        assert [row.member for row in may] == ["worker1", "res1"]
        april = api.statement(reader, "res1", "2025-04")
        everything = api.entries(reader, "res1")
        assert len(counting.parts) >= len(points.history.parts)  # res1's whole history reads every part
        assert len(set(counting.parts)) == len(counting.parts)  # each once
        # stored parts read READ_AHEAD at a time (one query for them), not one query each
        assert counting.calls <= 2 + len(counting.parts) // 16 < len(counting.parts)
        assert april.opening == sum(e.amount for e in everything if e.time < april.start)
        assert april.closing == april.opening + sum(e.amount for e in april.entries)
        assert api.balance(reader, "res1") == sum(e.amount for e in everything)
        explained = reader.explain("points:c0")  # the first entry, found in its part
        assert explained is not None and explained.result == 12  # 10 x 1.2 for a unit


def test_an_early_months_board_reads_only_the_parts_that_may_hold_that_month(store: str) -> None:
    """A month's board reads the parts whose entries' times meet the month, none booked after it: each
    member's balance at the month's end is the net of its last entry dated in the month (``Record.net``)."""
    with open_store(store, read_only=True) as reader:
        counting = Counting(reader)
        history = api.state(reader).history
        for month in ("2025-01", "2025-03"):
            counting.parts.clear()
            board = api.board(reader, "yq", month)
            span = parse_period(month, CST)
            meeting = {p.key for p in history.parts if p.last >= span.start and p.first <= span.end}
            assert set(counting.parts) <= meeting and len(meeting) <= 6 < len(history.parts)
            assert [row.member for row in board] == ["worker1", "res1"]
            for row in board:
                everything = api.entries(reader, row.member)
                assert row.balance == sum(e.amount for e in everything if e.time < span.end)
                assert row.earned == sum(e.amount for e in everything
                                         if span.contains(e.time) and e.kind in ("earn", "bonus"))


def test_the_boards_of_a_month_read_its_parts_once_until_an_entry_is_booked(store: str) -> None:
    """The boards of one month for several nodes (a roll-up's children) read the month's parts once; an
    entry booked since is on the next board."""
    with open_store(store, read_only=True) as fresh:
        grid = api.board(fresh, "g1", "2025-02")
    with open_store(store, read_only=True) as reader:
        counting = Counting(reader)
        assert len(api.board(reader, "yq", "2025-02")) == 2
        read = len(counting.parts)
        assert read and api.board(reader, "g1", "2025-02") == grid
        assert len(counting.parts) == read  # (the month as the first board read it)
    with open_store(store, clock=FixedClock(datetime(2025, 6, 5, 12, tzinfo=CST))) as writer:
        before = {row.member: row for row in api.board(writer, "yq", "2025-06")}
        writer.record(ActivityRecorded(id="late-june", time=datetime(2025, 6, 5, 11, tzinfo=CST), actor="res1",
                                       node="u11", activity="volunteer_service", hours=1))
        after = {row.member: row for row in api.board(writer, "yq", "2025-06")}
        assert after["res1"].earned > before["res1"].earned and after["res1"].balance > before["res1"].balance
        assert after["worker1"] == before["worker1"]


def _format_2(doc: dict[str, Any]) -> dict[str, Any]:
    """A part document as format 2 wrote it: no net in its rows."""
    return {**doc, "format": 2, "entries": [row[:12] + row[13:] for row in doc["entries"]]}


def _without_nets(reader: Engine) -> None:
    """The reader's points history as it would be had every part been stored as format 2: without nets."""
    points = api.state(reader)
    texts: dict[str, str] = {}
    rows = []
    booked = list(points.history.select())
    assert not points.history.chapters
    for part in points.history.parts:
        text = part_text(_format_2(dump_records(booked[:part.size])))
        del booked[:part.size]
        texts[text_key(text)] = text
        rows.append([text_key(text), part.first.isoformat(), part.last.isoformat(), part.size])
    points.history = History.restore(
        {"format": 2, "chapters": [], "parts": rows,
         "open": _format_2(dump_records(points.history.open, sort=False))}, loader=texts.get)
    assert all(record.net is None for record in points.history.select())


def test_a_board_over_parts_stored_without_nets_is_the_same(store: str) -> None:
    """Parts stored before entries kept their member's net (format 2) are read without it, and a board over
    them sums what was booked after its month, as before: the same rows."""
    with open_store(store, read_only=True) as reader:
        months = [f"2025-{m:02d}" for m in range(1, 8)]
        expected = {month: api.board(reader, "yq", month) for month in months}
        _without_nets(reader)
        assert {month: api.board(reader, "yq", month) for month in months} == expected


def test_an_early_months_statement_reads_only_the_parts_that_may_hold_that_month(store: str) -> None:
    """A member's statement for a month it has entries in reads the parts whose entries' times meet the
    month, none booked after it: its opening balance is the net of its last entry dated before the month
    (``Record.net``), its month's entries' taken off the last one's."""
    with open_store(store, read_only=True) as reader:
        counting = Counting(reader)
        history = api.state(reader).history
        for month in ("2025-01", "2025-03"):
            span = parse_period(month, CST)
            meeting = {p.key for p in history.parts if p.last >= span.start and p.first <= span.end}
            assert len(meeting) <= 6 < len(history.parts)
            for member in ("res1", "worker1"):
                counting.parts.clear()
                found = api.statement(reader, member, month)
                assert set(counting.parts) <= meeting
                everything = api.entries(reader, member)
                assert found.opening == sum(e.amount for e in everything if e.time < span.start)
                assert list(found.entries) == [e for e in everything if span.contains(e.time)] != []
                assert found.closing == sum(e.amount for e in everything if e.time < span.end)


def test_a_statement_before_a_members_first_entry_reads_only_the_parts_that_may_hold_it(store: str) -> None:
    """A period before the member's first entry, its account advanced past it: its balance then was nothing
    (``Account.first``, restored with the account), so only the parts that may hold the period are read,
    not those after it up to the member's first entry."""
    with open_store(store, read_only=True) as reader:
        counting = Counting(reader)
        history = api.state(reader).history
        for member in ("res1", "worker1"):
            for period in ("2025-01-02", "2025-01-05"):  # (the first entries: 6 January)
                span = parse_period(period, CST)
                meeting = {p.key for p in history.parts if p.last >= span.start and p.first <= span.end}
                counting.parts.clear()
                found = api.statement(reader, member, period)
                assert (found.opening, found.entries, found.closing) == (0, (), 0)
                assert set(counting.parts) <= meeting
                assert counting.parts == []  # (no entry was booked before 6 January: no part may hold it)
        assert api.state(reader).accounts["res1"].first is not None


def test_statements_over_parts_stored_without_nets_are_the_same(store: str) -> None:
    """Statements over parts stored without nets (format 2) sum what was booked after their period, as
    before: the same statements, for periods with and without the member's entries."""
    periods = ["2025-01-02", *(f"2025-{m:02d}" for m in range(1, 8)), "2025-Q2", "2025", "2024-12"]
    with open_store(store, read_only=True) as reader:
        members = ("res1", "worker1")
        expected = {(m, p): api.statement(reader, m, p) for m in members for p in periods}
        _without_nets(reader)
        assert {(m, p): api.statement(reader, m, p) for m in members for p in periods} == expected


def test_a_part_altered_in_the_text_the_store_holds_is_an_error_naming_it(store: str) -> None:
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        key, text = db.execute("SELECT key, doc FROM documents WHERE collection = ? ORDER BY key LIMIT 1",
                               (COLLECTION,)).fetchone()
        assert text_key(text) == key and '"earn"' in text  # written as its canonical text
        db.execute("UPDATE documents SET doc = ? WHERE collection = ? AND key = ?",
                   (text.replace('"earn"', '"flag"', 1), COLLECTION, key))
    with open_store(store, read_only=True) as reader, pytest.raises(StoreError, match=f"{key}.*altered"):
        api.entries(reader, "res1")


def test_a_missing_or_altered_part_is_an_error_naming_it(store: str) -> None:
    with open_store(store) as writer:
        key, doc = next(iter(writer.store.items(COLLECTION)))
        doc["entries"][0][2] += 1  # one amount changed by hand
        writer.store.put(COLLECTION, key, doc)
    with open_store(store, read_only=True) as reader, pytest.raises(StoreError, match=f"{key}.*altered"):
        api.entries(reader, "res1")
    saved = {"format": 1, "chapters": [], "parts": [["0" * 64, START.isoformat(), START.isoformat(), 3]], "open": dump_records([])}
    history = History.restore(saved, loader=lambda key: None)
    with pytest.raises(StoreError, match=f"{'0' * 64} named by the checkpoint is missing"):
        list(history.select())


def test_parts_are_written_with_the_next_batch_and_leave_memory(tmp_path: Path) -> None:
    """``gridcore_on_flush``: sealed parts go to the store with the batch of events that follows, not at
    the next checkpoint; a replay told not to store them (no batch written) keeps them as their texts until
    the checkpoint, which then names the same parts."""
    url = f"sqlite:///{tmp_path / 'points.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 10)
        with open_store(url, community=small_community(), ruleset=YINQUAN, effective=EFFECTIVE) as engine:
            engine.checkpoint_min = 10**9
            engine.record_many(activities(20))
            assert list(engine.store.items(CHECKPOINTS)) == []
            history = api.state(engine).history
            assert history.parts and all(part.text is None for part in history.parts)  # stored with the batch
            assert sorted(key for key, _ in engine.store.items(COLLECTION)) == sorted(p.key for p in history.parts)
            stored = [r.entry for r in history.select()]  # read back from the store
            live = engine.hooks.save_state(engine, api.state(engine))
            engine.replay_flush_every = 10**9
            engine.rebuild()  # (a replay writes no batch: told not to store, its sealed parts wait for the checkpoint)
            history = api.state(engine).history
            # the newest RAW_PARTS held as their records, the older encoded and held as their compressed texts
            assert len(history.parts) > RAW_PARTS and all(part.held for part in history.parts)
            assert [part.records is not None for part in history.parts] == (
                [False] * (len(history.parts) - RAW_PARTS) + [True] * RAW_PARTS)
            before = [r.entry for r in history.select()]  # decoded from the sealed parts' texts
            assert before == stored
            # (each entry as its text gives it back, whether its part was held as records or as text: its
            # inputs in their names' order, as a stored part's)
            assert [list(entry.inputs) for entry in before] == [list(entry.inputs) for entry in stored]
            assert engine.hooks.save_state(engine, api.state(engine)) == live
            assert all(part.text is None for part in history.parts)
            assert len(list(engine.store.items(COLLECTION))) == len(history.parts)
            assert [r.entry for r in history.select()] == before  # read back from the store
    # the same entries as booked by a state that sealed nothing (its records the objects booked)
    with open_store(f"sqlite:///{tmp_path / 'whole.db'}", community=small_community(), ruleset=YINQUAN,
                    effective=EFFECTIVE) as whole:
        whole.checkpoint_min = 10**9
        whole.record_many(activities(20))
        kept = api.state(whole).history
        assert kept.parts == [] and [r.entry for r in kept.select()] == before


class HeldParts:
    """Notes, at each event a replay applies, how many of the points history's sealed parts are held in
    memory (not in the store)."""

    def __init__(self) -> None:
        self.held: list[int] = []

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Any, replaying: bool) -> None:
        if replaying:
            history = api.state(engine).history
            self.held.append(sum(part.held for part in history.parts)
                             + sum(len(chapter.parts or ()) for chapter in history.chapters))


def test_a_replay_stores_its_sealed_parts_as_it_goes_and_reads_as_before(tmp_path: Path) -> None:
    """A writable engine's replay (a rebuild) has plugins store their sealed parts every
    ``replay_flush_every`` events (``gridcore_on_flush``): at most the parts sealed since are held,
    however long the log; what the state answers and the checkpoint it gives are those of an ingest.
    A read-only engine's replay writes nothing and holds them all."""
    url = f"sqlite:///{tmp_path / 'points.db'}"
    watcher = HeldParts()
    plugins = get_plugin_manager(tuple(p for p in BUILTIN_PLUGINS if p != "points"),
                                 extra=[IncidentKinds(), watcher])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 10)
        patch.setattr("gridcore_points.history.CHAPTER_PARTS", 2)
        with Engine.open(store=url, plugins=plugins, clock=FixedClock(NOW), community=small_community(),
                         ruleset=YINQUAN, effective=EFFECTIVE) as engine:
            engine.checkpoint_min = engine.checkpoint_every = engine.checkpoint_max = 10**9
            engine.record_many(activities(40))
            live = engine.hooks.save_state(engine, api.state(engine))
            answers = (api.entries(engine, "res1"), api.statement(engine, "worker1", "2025-02"),
                       engine.explain("points:c0").render(), engine.explain("points:p39").render())
            stored = sorted(key for key, _ in engine.store.items(COLLECTION))

            engine.replay_flush_every = 5
            watcher.held.clear()
            engine.rebuild()
            history = api.state(engine).history
            assert len(watcher.held) == 120 and len(history.chapters) >= 2
            # flushed every 5 events (fewer than 10 entries): never more than one part waits, nor at the end
            assert max(watcher.held) <= 1 and sum(part.held for part in history.parts) <= 1
            assert stored == sorted(key for key, _ in engine.store.items(COLLECTION))
            assert (api.entries(engine, "res1"), api.statement(engine, "worker1", "2025-02"),
                    engine.explain("points:c0").render(), engine.explain("points:p39").render()) == answers
            assert engine.hooks.save_state(engine, api.state(engine)) == live

            engine.replay_flush_every = 10**9  # (no flush: every part waits until the end)
            watcher.held.clear()
            engine.rebuild()
            sealed = len(api.state(engine).history.parts)
            assert sealed > 4 and max(watcher.held) >= sealed - 1
        with open_store(url, read_only=True) as reader:
            documents = {name: sorted(reader.store.items(name)) for name in reader.store.collections()}
            reader.replay_flush_every = 5
            reader.rebuild()
            assert sum(part.held for part in api.state(reader).history.parts) > 4  # (nothing stored)
            assert reader.explain("points:c0").render() == answers[2]
            assert {name: sorted(reader.store.items(name)) for name in reader.store.collections()} == documents


values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False, allow_infinity=False),
    st.timedeltas(), st.dates(), st.datetimes(timezones=st.just(CST)), st.fractions(),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=40)
@given(value=values)
def test_an_input_value_comes_back_as_it_was(value: Any) -> None:
    back = decode_value(encode_value(value))
    assert back == value and type(back) is type(value)


def test_a_part_document_round_trips_and_names_its_content() -> None:
    entry = Entry(id="e1", kind="earn", amount=5, member="res1", node="u11", time=START, rule=None,
                  summary="cleanup", cause="e1", activity="cleanup",
                  inputs={"age": timedelta(hours=3), "share": Fraction(1, 3), "day": date(2025, 1, 6),
                          "amount": Decimal("1.5"), "hours": 2.5, "party": True})
    doc = dump_records([Record.of(entry, rules=(None,), taken=(("lot", 2),))])
    [back] = load_records(doc)
    assert back.entry == entry and back.rules == (None,) and back.taken == (("lot", 2),)
    assert part_key(doc) != part_key(dump_records([Record.of(entry)]))
    with pytest.raises(ValueError, match="set cannot be saved"):
        encode_value({1, 2})


def _booked(n: int, time: datetime, **inputs: Any) -> Record:
    return Record.of(Entry(id=f"e{n}", kind="earn", amount=n, member="res1", node="u11", time=time, rule=None,
                           summary="cleanup", cause=f"e{n}", activity="cleanup", inputs=inputs))


def _read(records: Any) -> list[tuple[Any, ...]]:
    """What a read gives of each record: the entry, its inputs' names in order, its time's text."""
    return [(r.entry, list(r.entry.inputs), r.entry.time.isoformat(), r.rules, r.taken, r.net) for r in records]


def test_a_sealed_part_reads_the_same_held_as_records_as_text_or_stored() -> None:
    """A sealed part is read as its stored text gives it back (inputs in their names' order, times in fixed
    offsets) whether it is still held as its records, held as its compressed text or read from the store."""
    stored: dict[str, str] = {}
    history = History(loader=stored.get, part_size=2)
    for n in range(7):  # (inputs named out of order)
        history.add(_booked(n, START + timedelta(hours=n), b=n, a="x"))
    assert [part.records is not None for part in history.parts] == [False] + [True] * RAW_PARTS
    assert [part.text is not None for part in history.parts] == [True, False, False]
    held = _read(history.select())
    assert [names for _, names, *_ in held] == [["a", "b"]] * 6 + [["b", "a"]]  # the open part as booked
    assert all(part.text is not None for part in history.parts)  # (read as their text gives them)

    fresh = History(loader=stored.get, part_size=2)
    for n in range(7):
        fresh.add(_booked(n, START + timedelta(hours=n), b=n, a="x"))
    # (as a store with ``put_text`` holds a part given as its UTF-8: ``part_writer``)
    fresh.store_sealed(lambda key, raw, doc: stored.__setitem__(key, raw.decode() if isinstance(raw, bytes) else raw))
    assert all(not part.held for part in fresh.parts) and len(stored) == 3
    assert [part.key for part in fresh.parts] == [part.key for part in history.parts]
    assert _read(fresh.select()) == held


def test_a_checkpoint_keeps_its_open_part_as_booked() -> None:
    """The open part in a checkpoint is read back as it was booked (inputs in the order booked, as a full
    replay holds them), while a sealed part's are in their names' order (its text depends on content alone)."""
    history = History(part_size=3)
    for n in range(5):
        history.add(_booked(n, START + timedelta(hours=n), b=n, a="x"))
    saved = json.loads(json.dumps(history.save(None)))
    back = History.restore(saved, loader=None)
    back.parts = history.parts  # (the sealed part, held by the history that saved it)
    assert _read(back.select()) == _read(history.select())
    assert [names for _, names, *_ in _read(back.select())] == [["a", "b"]] * 3 + [["b", "a"]] * 2


ZONES = [CST, UTC, timezone(-timedelta(hours=5, minutes=30)), ZoneInfo("America/New_York"),
         ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=8), "CST")]


@settings(max_examples=60)
@given(times=st.lists(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
                                   timezones=st.sampled_from(ZONES)), min_size=1, max_size=12),
       shared=st.lists(st.booleans(), min_size=12, max_size=12))
def test_entry_times_come_back_as_they_were(times: list[datetime], shared: list[bool]) -> None:
    """An entry's time is written as the microseconds since the entry before it where both have one offset
    from UTC, else as its text: either way it comes back the same moment with the same text, in any zone,
    microseconds and earlier times after later ones included (and one time object shared by entries); and the
    part's text is that of the records read back, or of some read back and the rest as booked (whatever zone
    objects the times were booked in)."""
    records = []
    for n, when in enumerate(times):
        if n and shared[n]:
            when = records[-1].entry.time
        records.append(_booked(n, when, unspent=n))
    text = part_text(dump_records(records))
    back = load_records(json.loads(text))
    assert part_text(dump_records(back)) == text
    for cut in range(len(records)):  # (a checkpoint's open part read back, then more booked)
        restored = load_records(json.loads(part_text(dump_records(records[:cut]))))
        assert part_text(dump_records(restored + records[cut:])) == text
    # (as instants in UTC: Python never finds a time a zone's clocks show twice equal to one in another zone)
    assert [(r.entry.time.astimezone(UTC), r.entry.time.isoformat()) for r in back] == [
        (r.entry.time.astimezone(UTC), r.entry.time.isoformat()) for r in records]


class Name(str):
    """A text of a subclass of ``str`` (orjson would write it; it is told to refuse it, and ``json`` writes it)."""


#: Inputs of every kind an entry's can hold: floats orjson writes otherwise than ``json`` among them.
INPUT_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e-5, -1e-7, 1e16, 2.5e300, 5e-324, 0.0001]),
    st.fractions(max_denominator=50), st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.timedeltas(), st.dates(), st.builds(Name, st.text(max_size=3)),
)


@settings(max_examples=150)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "时长", "z"]), INPUT_VALUES, max_size=3), max_size=8),
       st.booleans())
def test_a_part_s_bytes_are_its_canonical_text_however_its_rows_are_typed(inputs: list[dict[str, Any]],
                                                                       named: bool) -> None:
    """``records_bytes`` (orjson without the walk where the rows' types vouch for it) gives the UTF-8 of
    ``part_text(dump_records(...))``, whose SHA-256 is the key: inputs of every kind (floats ``json`` writes
    as ``1e-05`` and orjson as ``0.00001``, whole numbers beyond 64 bits, tagged kinds, texts of a subclass
    of ``str``, an input named by one), times in other zones, shared rules and lists of rules."""
    rule = RuleRef("a.rules", 3, 1, "activity cleanup: 10")
    records = [Record.of(Entry(id=f"e{n}", kind="earn", amount=n - 3, member="res1", node="u11",
                               time=START + timedelta(minutes=7 * n), rule=rule if n % 2 else None, summary="清洁",
                               cause=f"e{n}", activity="cleanup",
                               inputs={Name(k) if named and n == 1 else k: v for k, v in given_inputs.items()}),
                         (rule, None) if n % 3 == 0 else None, (("e0", n),) if n == 2 else None, n)
               for n, given_inputs in enumerate(inputs)]
    raw = records_bytes(records)
    assert raw == part_text(dump_records(records)).encode()
    assert text_key(raw.decode()) == part_key(dump_records(records))


def test_a_part_of_a_float_json_refuses_is_refused_as_before() -> None:
    """NaN is refused by ``json`` (``allow_nan=False``); orjson would write ``null``: refused all the same."""
    with pytest.raises(ValueError):
        records_bytes([_booked(0, START, hours=float("nan"))])


def test_a_part_of_format_1_is_read_as_it_was() -> None:
    """A part stored before format 2 (each entry's inputs an object) and a checkpoint's history of format 1 are
    read: the same entries as the records written as format 2."""
    text = (  # (as the code before format 2 wrote it)
        '{"entries":[["c0","earn",12,"res1","u11","2025-01-06T09:00:00+08:00",0,"cleanup: 10 x 1.2","c0",'
        '"cleanup",{"activity":"cleanup","rounded":12,"tilt unit":"x 1.2"},[0,null],null],["expire:c0","expire",'
        '-12,"res1","u11","2026-01-06T09:00:00+08:00",null,"12 unspent points of c0 expired",null,null,'
        '{"earned_at":"2025-01-06T09:00:00+08:00","lot":"c0","unspent":12},null,null],["r1","redeem",-5,"res1",'
        '"u11","2025-02-01T10:00:00+08:00",null,"redeemed","r1",null,{"age":{"$":"timedelta","v":[0,3600,0]}},'
        'null,[["c0",5]]]],"format":1,"rules":[["a.rules",3,1,"activity cleanup: 10"]]}'
    )
    old = load_records(json.loads(text))
    assert [r.entry.id for r in old] == ["c0", "expire:c0", "r1"]
    assert list(old[0].entry.inputs) == ["activity", "rounded", "tilt unit"]  # (as its object's names sort)
    assert old[2].entry.inputs == {"age": timedelta(hours=1)} and old[2].taken == (("c0", 5),)
    assert old[0].rules == (old[0].entry.rule, None) and old[0].entry.rule is not None
    assert _read(load_records(json.loads(part_text(dump_records(old))))) == _read(old)
    key = text_key(text)
    history = History.restore({"format": 1, "chapters": [], "parts": [[key, "2025-01-06T09:00:00+08:00",
                                                                      "2026-01-06T09:00:00+08:00", 3]],
                               "open": json.loads(text)}, loader={key: text}.get)
    assert _read(history.select()) == _read(old) * 2
    assert history.save(None)["format"] == HISTORY_FORMAT == 3


def test_the_oldest_parts_are_listed_in_chapters_read_only_when_a_read_reaches_them(tmp_path: Path) -> None:
    """Every ``CHAPTER_PARTS`` older sealed parts are one chapter in the store: the checkpoint lists the
    newest parts and the chapters, a read reads the chapters whose times meet what it asks for, and every
    answer is the one of a history listing every part."""
    docs: dict[int, dict[str, Any]] = {}
    answers: dict[int, Any] = {}
    for size in (10**6, 4):  # (10**6: no chapter)
        url = f"sqlite:///{tmp_path / f'{size}.db'}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("gridcore_points.history.PART_SIZE", 20)
            patch.setattr("gridcore_points.history.CHAPTER_PARTS", size)
            with open_store(url, community=small_community(), ruleset=YINQUAN, effective=EFFECTIVE) as engine:
                for day in range(0, 150, 10):  # (chapters cut as parts are stored, between checkpoints)
                    engine.record_many(activities(150)[3 * day: 3 * day + 30])
                engine.checkpoint()
                docs[size] = engine.hooks.save_state(engine, api.state(engine))["history"]
            with open_store(url, read_only=True) as reader:
                counting = Counting(reader)
                history = api.state(reader).history
                assert counting.parts == []  # (opening reads no part, no chapter)
                may = api.board(reader, "yq", "2025-05")
                may_reads = list(counting.parts)
                april = api.statement(reader, "res1", "2025-04")
                everything = api.entries(reader, "res1")
                explained = reader.explain("points:c0")  # the first entry: in the first chapter's first part
                answers[size] = (may, april, everything, explained)
                if size == 4:
                    chapters = [chapter.key for chapter in history.chapters]
                    assert not set(chapters) & set(may_reads)  # May's parts are all newer than the chapters
                    assert set(chapters) <= set(counting.parts)  # the whole history reads every chapter
                    # listed again: the parts of every chapter, then the newest, are those of a history
                    # without chapters, in the same order
                    listed = [part.row() for chapter in history.chapters for part in history.chapter_parts(chapter)]
                    assert listed + docs[4]["parts"] == docs[10**6]["parts"]
                    # a replay from the first event, storing nothing, cuts the same chapters
                    reader.rebuild()
                    assert reader.hooks.save_state(reader, api.state(reader))["history"] == docs[4]
                    assert [r.entry for r in api.state(reader).history.select()] == [
                        r.entry for r in history.select()]
    assert len(docs[4]["chapters"]) == 4 and len(docs[4]["parts"]) == 22 - 16  # 22 parts of 20, 450 entries
    assert docs[10**6]["chapters"] == [] and sum(size for *_, size, _ in docs[4]["chapters"]) == 16 * 20
    assert answers[4] == answers[10**6]


def test_an_altered_or_missing_chapter_is_an_error_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'points.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 20)
        patch.setattr("gridcore_points.history.CHAPTER_PARTS", 4)
        with open_store(url, community=small_community(), ruleset=YINQUAN, effective=EFFECTIVE) as engine:
            engine.record_many(activities(150))
            engine.checkpoint()
            key = api.state(engine).history.chapters[0].key
            text = engine.store.get_text(COLLECTION, key)  # type: ignore[attr-defined]
            assert text_key(text) == key and '"chapter"' in text
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("UPDATE documents SET doc = ? WHERE collection = ? AND key = ?",
                       (text.replace('",20]', '",21]', 1), COLLECTION, key))
        with open_store(url, read_only=True) as reader, pytest.raises(StoreError, match=f"{key}.*altered"):
            api.entries(reader, "res1")
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("DELETE FROM documents WHERE collection = ? AND key = ?", (COLLECTION, key))
        with open_store(url, read_only=True) as reader, pytest.raises(StoreError, match=f"{key}.*missing"):
            reader.explain("points:c0")



def test_an_entry_booked_while_recording_is_read_as_the_entry_of_its_fields(tmp_path: Path) -> None:
    """An activity's earning and a lot's expiry are booked as a ``Record`` of their fields (ledger.py: no
    frozen ``Entry`` made while recording, and no object besides the record): ``Record.entry`` gives the
    ``Entry`` of its fields, made once, and the part written from the records is the part written from
    records of those entries."""
    from test_points_engine import act, at, open_points

    engine = open_points(tmp_path / "store")
    try:
        engine.record_many([act("a1", at(0), "res1", "u11", "cleanup"),
                            act("a2", at(1), "res1", "u11", "volunteer_service", hours=1),
                            act("a3", at(400), "worker1", "g1", "patrol", hours=2)])  # (a1 and a2 expire)
        records = list(engine.state("points").history.open)
        assert [(type(r), r.kind, r.made) for r in records] == [
            (Record, "earn", None), (Record, "earn", None), (Record, "expire", None), (Record, "expire", None),
            (Record, "earn", None)]
        text = records_bytes(records)
        fields = [a.name for a in attrs.fields(Entry)]
        own = [Entry(**{name: getattr(r, name) for name in fields}) for r in records]
        entries = [r.entry for r in records]
        assert entries == own
        assert all(type(r.entry) is Entry and r.entry is r.made is e for r, e in zip(records, entries, strict=True))
        assert entries[2] == Entry(id="expire:a1", kind="expire", amount=-12, member="res1", node="u11",
                                   time=entries[2].time, rule=entries[2].rule,
                                   summary="12 unspent points of a1 expired", cause=None, activity=None,
                                   inputs={"earned_at": at(0).isoformat(), "lot": "a1", "unspent": 12})
        made = [Record.of(e, r.rules, r.taken, r.net) for r, e in zip(records, entries, strict=True)]
        assert all(m.entry is e for m, e in zip(made, entries, strict=True))
        assert records_bytes(made) == text
        assert [(r.rules, r.taken, r.net) for r in records] == [(m.rules, m.taken, m.net) for m in made]
        engine.clock.set(at(401))  # type: ignore[attr-defined]
        assert api.statement(engine, "res1", "2025-01").entries == tuple(entries[:2])
    finally:
        engine.close()


def test_earnings_of_one_kind_share_their_inputs_while_booked_and_each_entry_has_its_own(tmp_path: Path) -> None:
    """Earnings no cap cuts of one item, name, hours and quantity are booked as records holding one dict of
    inputs (``booking.Uncut``: never changed); each ``Entry`` read of them has its own copy, so what a reader
    does to one entry's inputs reaches no other entry, no record, and no later earning."""
    from test_points_engine import act, at, open_points

    engine = open_points(tmp_path / "store")
    try:
        engine.record_many([act("a1", at(0), "res1", "u11", "cleanup"),
                            act("a2", at(1), "res1", "u11", "cleanup")])
        records = list(engine.state("points").history.open)
        assert records[0].inputs is records[1].inputs  # (one dict while booked)
        first, second = records[0].entry, records[1].entry
        assert first.inputs == second.inputs and first.inputs is not second.inputs
        shown = dict(second.inputs)
        first.inputs["activity"] = "changed by a reader"  # type: ignore[index]
        assert second.inputs == shown
        engine.record_many([act("a3", at(40), "res1", "u11", "cleanup")])
        third = engine.state("points").history.open[-1]
        assert third.inputs == shown and third.entry.inputs == shown
    finally:
        engine.close()
