"""A restored points state builds accounts from their rows as saved, and sweeps as a replay does.

It works out what falls due when only once it is swept.
"""

from __future__ import annotations

import gc
import itertools
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import BACKENDS, StoreFactory
from test_points_bounded import SHORT, events, points_only
from test_points_engine import DATA, YINQUAN, open_points
from test_points_invariants import START

from gridcore import Engine, FixedClock
from gridcore.events import ActivityRecorded, Event
from gridcore_points import api
from gridcore_points.ledger import Account


def cleanup(ident: str, member: str, node: str, when: datetime) -> ActivityRecorded:
    return ActivityRecorded(id=ident, time=when, actor=member, node=node, activity="cleanup")


def test_a_restored_state_sweeps_a_quiet_account_as_a_replay_does(tmp_path: Path) -> None:
    # res1 earns once and is never heard of again: its lot expires a month later (SHORT's expiry),
    # and the sweep books that at res2's later event, whether the state was restored in between or not
    first = [cleanup("a1", "res1", "u11", datetime(2025, 1, 10, 9, tzinfo=CST)),
             cleanup("a2", "res2", "u21", datetime(2025, 1, 11, 9, tzinfo=CST))]
    rest = [cleanup("a3", "res2", "u21", datetime(2025, 3, 20, 9, tzinfo=CST))]
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(first + rest)
        want = whole.hooks.save_state(whole, api.state(whole))
        order = [record.entry.id for record in api.state(whole).booked()]
    assert "expire:a1" in order and order.index("expire:a1") < order.index("a3")
    with open_points(tmp_path / "cut", SHORT, now=start) as cut:
        cut.record_many(first)
        cut.checkpoint()
    with open_points(tmp_path / "cut", SHORT, now=start) as restored:
        state = api.state(restored)
        assert state.accounts["res1"].packed is not None  # restored from the checkpoint, not replayed
        assert not state._due  # nothing worked out yet: a read does not need it
        restored.record_many(rest)
        assert [record.entry.id for record in state.booked()] == order
        assert restored.hooks.save_state(restored, state) == want


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=events(), ruleset=st.sampled_from([SHORT, DATA / "yinquan.rules", YINQUAN]))
def test_an_account_built_from_its_row_is_the_account_saved(history: list[Event], ruleset: Path) -> None:
    # A restored state builds each account from its checkpoint row when first used: the account built
    # holds what the live one held (its lots once read back), and what the row says of it unbuilt (when
    # the sweep looks at it, the streak bonuses a board may ask about) is what the built account says
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch, \
            open_points(Path(tmp) / "store", ruleset, now=START) as live:
        patch.setattr("gridcore_points.checkpoint.LOT_PART", 2)  # (lots in parts of 2: most read from parts)
        live.record_many(history)
        live.checkpoint()
        with Engine.open(store=str(Path(tmp) / "store"), clock=FixedClock(START), plugins=points_only(),
                         read_only=True) as restored:
            rows, built = api.state(restored).accounts, api.state(live).accounts
            assert list(rows) == sorted(built)
            paying = api.state(restored).paying()
            windows = [(START + timedelta(days=d), START + timedelta(days=d + w)) for d in (0, 20, 90, 400)
                       for w in (0, 1, 7, 40)]
            for member in sorted(built):
                row = rows.row(member)
                assert row is not None
                due = rows.next_due(member)
                between = [sorted(rows.bonus_between(member, since, until, paying, api.state(restored).calendar.end))
                           for since, until in windows]
                assert rows.row(member) is not None  # asked of the row: not built
                account, want = rows[member], built[member]
                assert rows.row(member) is None
                assert due == account.next_due() == want.next_due()
                assert between == [sorted(want.bonus_between(since, until, paying)) for since, until in windows]
                assert between == [sorted(account.bonus_between(since, until, paying)) for since, until in windows]
                assert account.packed is not None
                account.unpack()
                assert _open_part(account) == _open_part(want)


def _open_part(account: Account) -> dict[str, Any]:
    """What an account holds that a checkpoint keeps (cap counters of past periods and marks no span reads: not)."""
    return {
        "totals": [account.balance, account.debt, account.net, account.credited, account.redeemed, account.expired,
                   account.deducted],
        "lots": [(lot.entry_id, lot.time, lot.node, lot.remaining, lot.expires, lot.expiry_rule)
                 for lot in account.lots],
        "earned": account.current_earned(),
        "marks": account.readable_marks(),
        "spans": account.open_spans,
        "nodes": account.span_node,
        "rules": account.rules,
        "advanced_to": account.advanced_to,
    }


def _busy_weeks(days: int) -> list[Event]:
    """res1 and res2 clean up every day (lots of a month), spend some of it and are docked now and then."""
    from gridcore_points.events import PointsRedeemed

    out: list[Event] = []
    for day in range(days):
        when = datetime(2025, 1, 2, 9, tzinfo=CST) + timedelta(days=day)
        out.append(cleanup(f"c{day}", "res1", "u11", when))
        if day % 3:
            out.append(cleanup(f"d{day}", "res2", "u21", when + timedelta(hours=1)))
        if day % 5 == 4:
            out.append(PointsRedeemed(id=f"r{day}", time=when + timedelta(hours=2), actor="res1", node="u11",
                                      reward="towel", quantity=1))
        if day % 11 == 10:
            out.append(ActivityRecorded(id=f"m{day}", time=when + timedelta(hours=3), actor="res2", node="u21",
                                        activity="mediation"))
    return out


def test_lots_are_stored_in_sealed_parts_written_once_wherever_checkpoints_fall(tmp_path: Path) -> None:
    # Every LOT_PART lots an account opens go to one part of the store, under the hash of what they opened
    # with: a state restored from checkpoints taken anywhere and one replayed whole save the same document,
    # every part it names is stored, and a checkpoint writes only the parts sealed since the last one. A
    # part none of whose lots is open any more when it would be sealed is never named, so it may be left
    # out (``Account._leave_out_spent``): which such parts a store holds depends on where checkpoints fell.
    from gridcore_points.checkpoint import LOT_PART, LOTS

    history = _busy_weeks(70)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(history)
        whole.checkpoint()
        want = whole.hooks.save_state(whole, api.state(whole))
        parts = dict(whole.store.items(LOTS))
        accounts = api.state(whole).accounts
        opened = {member: accounts[member].opened for member in accounts}
        lots = {member: [(lot.number, lot.entry_id, lot.remaining, lot.expires) for lot in accounts[member].lots]
                for member in accounts}
    assert opened["res1"] > 4 * LOT_PART and opened["res2"] > 2 * LOT_PART
    assert 0 < len(parts) <= sum(n // LOT_PART for n in opened.values())
    thirds = [history[:40], history[40:41], history[41:90], history[90:]]
    written = []
    for some in thirds:
        with open_points(tmp_path / "cut", SHORT, now=start) as cut:
            cut.record_many(some)
            cut.checkpoint()
        with open_points(tmp_path / "cut", SHORT, now=start) as cut:
            written.append(dict(cut.store.items(LOTS)))
    assert all(set(a) <= set(b) for a, b in itertools.pairwise(written))  # only added to
    with open_points(tmp_path / "cut", SHORT, now=start) as restored:
        state = api.state(restored)
        assert state.accounts.row("res1") is not None  # restored, not replayed
        assert restored.hooks.save_state(restored, state) == want
        for member, built in lots.items():  # every part the checkpoint names is stored: each reads back whole
            account = state.accounts[member]
            account.unpack()
            assert [(lot.number, lot.entry_id, lot.remaining, lot.expires) for lot in account.lots] == built
        account = state.accounts["res1"]
        assert [lot.number for lot in account.lots] == sorted(lot.number for lot in account.lots)
        assert any(lot.number < account.opened - len(account.fresh) for lot in account.lots)  # read from parts


def test_a_save_stores_lots_a_few_parts_at_a_time_and_keeps_those_the_store_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A save stores the sealed parts of lots every LOTS_BATCH parts as it dumps the accounts, not all at the end
    # (what it holds at once stays small); a store that fails part way loses no part: the checkpoint is not
    # stored, the parts not written wait in the state, and the next save stores them before naming them. A
    # state restored from that checkpoint reads every lot back and saves what a full replay saves.
    from gridcore.errors import StoreError
    from gridcore_points import checkpoint

    monkeypatch.setattr(checkpoint, "LOT_PART", 2)
    monkeypatch.setattr(checkpoint, "LOTS_BATCH", 3)
    history = _busy_weeks(70)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(history)
        whole.checkpoint()
        want = whole.hooks.save_state(whole, api.state(whole))
        accounts = api.state(whole).accounts
        lots = {member: [(lot.number, lot.entry_id, lot.remaining, lot.expires) for lot in accounts[member].lots]
                for member in accounts}
    stored = checkpoint.put_all
    batches: list[set[str]] = []

    def failing_once(store: Any, collection: str, docs: dict[str, Any]) -> None:
        batches.append(set(docs))
        if len(batches) == 2:  # the store fails while the first save is under way (after it stored some parts)
            raise StoreError("disk full")
        stored(store, collection, docs)

    monkeypatch.setattr(checkpoint, "put_all", failing_once)
    with open_points(tmp_path / "cut", SHORT, now=start) as cut:
        cut.checkpoint_min = 10**6  # (the checkpoints below only)
        cut.record_many(history[:-3])
        assert not cut.checkpoint()
        assert any("disk full" in warning for warning in cut.warnings)
        assert set(api.state(cut).lots_waiting) == batches[1]  # (the batch the store did not take)
        cut.record_many(history[-3:])
        assert cut.checkpoint()
        assert not api.state(cut).lots_waiting
    assert batches[1] <= batches[2]  # stored first by the next save
    with open_points(tmp_path / "cut", SHORT, now=start) as restored:
        state = api.state(restored)
        assert state.accounts.row("res1") is not None  # restored, not replayed
        for member, built in lots.items():  # every part the checkpoint names is stored: each reads back whole
            account = state.accounts[member]
            account.unpack()
            assert [(lot.number, lot.entry_id, lot.remaining, lot.expires) for lot in account.lots] == built
        assert restored.hooks.save_state(restored, state) == want


def test_saved_rows_are_kept_untracked_and_saves_between_events_write_what_one_save_writes(tmp_path: Path) -> None:
    """What a save keeps of each account for the next (``Records.saved_accounts``: its row, the rows of its
    fresh lots reused by the next dump) is strings and tuples the garbage collector does not track; saves
    taken between events give the document one save after them all gives."""
    history = _busy_weeks(60)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(history)
        want = whole.hooks.save_state(whole, api.state(whole))
    with open_points(tmp_path / "saves", SHORT, now=start) as engine:
        state = api.state(engine)
        for at in range(0, len(history), 17):
            engine.record_many(history[at:at + 17])
            engine.hooks.save_state(engine, state)
        assert engine.hooks.save_state(engine, state) == want
        for _ in range(3):  # (a collection untracks a tuple once what it holds is untracked: tuples in tuples
            gc.collect()    # may take one a level)
        assert {"res1", "res2"} <= set(state.saved_accounts)
        assert not any(gc.is_tracked(saved) for saved in state.saved_accounts.values())


def test_restored_rows_are_untracked_and_build_the_accounts_saved(tmp_path: Path) -> None:
    """A restored state holds each account's row (``Accounts.row``) as tuples and strings the garbage collector
    does not track (the checkpoint's lists were objects every full collection walked), and builds from them the
    accounts a replay builds: the document saved again is the one restored."""
    history = _busy_weeks(60)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "store", SHORT, now=start) as engine:
        engine.record_many(history)
        engine.checkpoint()
        want = engine.hooks.save_state(engine, api.state(engine))
    with open_points(tmp_path / "store", SHORT, now=start) as restored:
        state = api.state(restored)
        members = sorted(state.accounts)
        rows = [state.accounts.row(member) for member in members]
        assert {"res1", "res2"} <= set(members) and all(type(row) is tuple for row in rows)
        assert any(row[2] for row in rows if row is not None)  # (open streak spans: tuples in the row too)
        for _ in range(3):  # (a collection untracks a tuple once what it holds is untracked: a level each)
            gc.collect()
        assert not any(gc.is_tracked(row) for row in rows)
        assert restored.hooks.save_state(restored, state) == want
        assert all(state.accounts.row(member) is not None for member in members)  # (saving built none)
        for member in members:
            state.accounts[member].unpack()
        assert restored.hooks.save_state(restored, state) == want


def test_lots_read_back_from_parts_hold_the_rule_objects_the_accounts_hold(tmp_path: Path) -> None:
    """A restored account's lots read from sealed parts name their expiry rule by the object its rules and the
    other accounts' lots hold (each part lists its rules: read back one equal object per part before), and
    the state is the one a replay builds."""
    from gridcore_points.checkpoint import LOT_PART

    history = _busy_weeks(70)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "store", SHORT, now=start) as engine:
        engine.record_many(history)
        engine.checkpoint()
        built = {member: _open_part(account) for member, account in api.state(engine).accounts.items()}
    with open_points(tmp_path / "store", SHORT, now=start) as restored:
        state = api.state(restored)
        rules: dict[Any, Any] = {}
        from_parts = 0
        for member in sorted(state.accounts):
            account = state.accounts[member]
            account.unpack()
            assert _open_part(account) == built[member]
            base = account.opened - len(account.fresh)
            for lot in account.lots:
                if lot.expiry_rule is not None and lot.number < base:
                    from_parts += 1
                    assert any(lot.expiry_rule is rule for rule in account.rules)
                    assert rules.setdefault(lot.expiry_rule, lot.expiry_rule) is lot.expiry_rule
        assert from_parts > 2 * LOT_PART


def test_lots_in_expiry_order_as_each_pair_is_judged() -> None:
    """``_in_expiry_order`` (one pass) says what judging each neighbouring pair says (no expiry: the latest)."""
    from gridcore_points.ledger import Lot, _expires_by, _in_expiry_order

    moments = [None, START, START + timedelta(days=1), START + timedelta(days=1), START + timedelta(days=30)]
    for length in range(5):
        for expiries in itertools.product(moments, repeat=length):
            lots = [Lot(f"e{n}", START, "u11", 1, expires, None) for n, expires in enumerate(expiries)]
            want = all(_expires_by(before, lot, None) for before, lot in itertools.pairwise(lots))
            assert _in_expiry_order(lots) is want, expiries


def test_a_long_run_without_checkpoints_holds_only_the_parts_of_lots_still_open(tmp_path: Path) -> None:
    # Between checkpoints (a replay takes none) an account's fresh lots keep only what a checkpoint could
    # still name: the leading parts' worth none of whose lots is open are left out, so a long replay does not
    # hold every lot ever opened (it did: 731,931 lots after replaying 898,948 events, 18,899 restored)
    from gridcore_points.ledger import FRESH_LOOK, LOT_PART

    history = _busy_weeks(70)
    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(history)
        account = api.state(whole).accounts["res1"]
        account.unpack()
        first_open = min(lot.number for lot in account.lots)
        assert account.opened > 2 * FRESH_LOOK
        base = account.opened - len(account.fresh)
        assert base > 0 and base % LOT_PART == 0 and base <= first_open  # some left out, none still open
        assert [lot.number for lot in account.fresh] == list(range(base, account.opened))
        assert len(account.fresh) <= FRESH_LOOK + LOT_PART + (account.opened - first_open)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restored_account_reads_all_its_parts_of_lots_in_one_store_call(backend: str, tmp_path: Path) -> None:
    # res1's lots fill several sealed parts: unpacking the restored account reads them all with one call
    # (get_texts on SQLite, get_many on TinyDB and PostgreSQL: one round trip to a server), and gives
    # the lots an account built by the same events holds
    from gridcore_points.checkpoint import LOT_PART

    stores = StoreFactory(backend, tmp_path)
    try:
        url = stores.url()
        history = _busy_weeks(70)
        start = datetime(2025, 1, 1, tzinfo=CST)
        with open_points(tmp_path / "whole", SHORT, now=start) as whole:
            whole.record_many(history)
            built = api.state(whole).accounts["res1"]
            want = [(lot.number, lot.entry_id, lot.remaining, lot.expires, lot.expiry_rule) for lot in built.lots]
        with open_points(url, SHORT, now=start) as engine:  # type: ignore[arg-type]
            engine.record_many(history)
            engine.checkpoint()
        with open_points(url, SHORT, now=start) as engine:  # type: ignore[arg-type]
            store = engine.store
            reads: list[list[str]] = []
            name = "get_texts" if backend == "sqlite" else "get_many"
            real = getattr(store, name)

            def counted(collection: str, keys: list[str]) -> dict[str, Any]:
                reads.append(list(keys))
                return real(collection, keys)  # type: ignore[no-any-return]

            setattr(store, name, counted)
            account = api.state(engine).accounts["res1"]
            assert account.packed is not None
            account.unpack()
            got = [(lot.number, lot.entry_id, lot.remaining, lot.expires, lot.expiry_rule) for lot in account.lots]
            assert got == want
            sealed = {lot.number // LOT_PART for lot in account.lots if lot.number < account.opened - len(account.fresh)}
            assert len(sealed) >= 2 and len(reads) == 1 and len(reads[0]) == len(sealed)
    finally:
        stores.cleanup()


def test_accounts_read_back_share_their_marks_keys_and_ends(tmp_path: Path) -> None:
    # res1 and res2 are both active in the same days and months: read back from a checkpoint, their
    # marks are the same (kind, label) and end objects (one pair per period), and equal to a replay's
    start = datetime(2025, 1, 1, tzinfo=CST)
    history = _busy_weeks(20)
    with open_points(tmp_path / "whole", SHORT, now=start) as whole:
        whole.record_many(history)
        want = {member: dict(api.state(whole).accounts[member].active) for member in ("res1", "res2")}
    with open_points(tmp_path / "cut", SHORT, now=start) as cut:
        cut.record_many(history)
        cut.checkpoint()
    with open_points(tmp_path / "cut", SHORT, now=start) as engine:
        accounts = api.state(engine).accounts
        one, two = accounts["res1"], accounts["res2"]
        assert one.packed is not None and two.packed is not None
        one.unpack()
        two.unpack()
        assert {"res1": one.active, "res2": two.active} == want
        keys = {key: key for key in one.active}
        common = [key for key in two.active if key in keys]
        assert len(common) >= 2
        for key in common:
            assert keys[key] is next(k for k in two.active if k == key)
            assert one.active[key] is two.active[key]


def test_an_altered_part_of_lots_is_a_store_error(tmp_path: Path) -> None:
    from gridcore.errors import StoreError
    from gridcore_points.checkpoint import LOTS

    start = datetime(2025, 1, 1, tzinfo=CST)
    with open_points(tmp_path / "store", SHORT, now=start) as engine:
        engine.record_many(_busy_weeks(25))
        engine.checkpoint()
    with open_points(tmp_path / "store", SHORT, now=start) as engine:
        for key, _ in list(engine.store.items(LOTS)):
            engine.store.put(LOTS, key, {"format": 1, "lots": [], "rules": []})
        account = api.state(engine).accounts["res1"]
        with pytest.raises(StoreError, match="rebuild"):
            account.unpack()


def test_lot_times_read_back_as_read_time_reads_them() -> None:
    # _time_reader reads a lot's time by its offset's text and the rest without a zone: the same time as
    # read_time, holding the same shared zone object, for each offset (a second text of one offset is read
    # the quick way); anything else (another offset form, not a time) as read_time reads or refuses it
    from datetime import UTC, timezone

    from gridcore.codec import read_time
    from gridcore_points.checkpoint import _time_reader

    read = _time_reader()
    moments = [datetime(2025, 3, 1, 9, 30, tzinfo=CST), datetime(2025, 3, 1, 9, 30, 15, 250, tzinfo=CST),
               datetime(2026, 1, 31, 23, 59, tzinfo=UTC), datetime(2025, 7, 4, 8, tzinfo=timezone(-timedelta(hours=5))),
               datetime(2025, 7, 4, 8, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15)))]
    for moment in moments + [when + timedelta(days=400, minutes=7) for when in moments]:
        text = moment.isoformat()
        got, want = read(text), read_time(text)
        assert got == want and got.isoformat() == text
        assert got.tzinfo is want.tzinfo
    for text in ("2025-03-01T09:30:00Z", "2025-03-01T09:30:00", "2025-03-01T09:30+08:00"):
        assert read(text) == read_time(text) and read(text).tzinfo is read_time(text).tzinfo
    with pytest.raises(ValueError):
        read("2025-02-30T09:30:00+08:00")
    with pytest.raises(ValueError):
        read("not a time+08:00")
