"""Replay, reopening and late events: the ledger is a pure function of the stored log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_points_engine import YINQUAN, act, at, engine_factory, later, open_points

from gridcore import Engine, EventRefused
from gridcore_points import api
from gridcore_points.events import PointsRedeemed


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    yield from engine_factory(tmp_path)


def history() -> list[Any]:
    return [
        act("a1", at(0), "res1", "u11", "mediation", quantity=3),
        act("a2", at(1), "res1", "u11", "cleanup"),
        act("a3", at(1), "worker1", "g1", "volunteer_service", hours=2),
        PointsRedeemed(id="p1", time=at(2), actor="res1", node="u11", reward="towel"),
    ]


def test_reopening_the_store_rebuilds_the_same_ledger(tmp_path: Path) -> None:
    first = open_points(tmp_path / "s", YINQUAN)
    first.record_many(history())
    later(first, at(5))
    before = {m: api.entries(first, m) for m in ("res1", "worker1")}
    explained = first.explain("points:a1").render()
    first.close()

    again = open_points(tmp_path / "s", None, now=at(5))  # community and ruleset come from the store
    assert {m: api.entries(again, m) for m in ("res1", "worker1")} == before
    assert again.explain("points:a1").render() == explained
    assert api.balance(again, "res1") == 36 + 12 - 20
    again.close()


def test_recording_the_same_events_again_never_double_credits(engines: Any) -> None:
    engine = engines()
    engine.record_many(history())
    summary = engine.record_many(history())
    assert (summary.accepted, summary.duplicates) == (0, 4)
    for event in history():
        assert engine.record(event) is False
    later(engine, at(5))
    assert api.balance(engine, "res1") == 28
    assert api.balance(engine, "worker1") == 15


def test_a_late_event_gives_the_same_ledger_as_in_order(engines: Any) -> None:
    in_order = engines(name="in-order")
    in_order.record_many(history())
    shuffled = engines(name="late")
    events = history()
    shuffled.record_many([e for e in events if e.id != "a3"])
    shuffled.record(events[2])  # a3 is older than p1, already applied: the engine rebuilds
    later(in_order, at(5))
    later(shuffled, at(5))
    for member in ("res1", "worker1"):
        assert api.entries(shuffled, member) == api.entries(in_order, member)


def test_a_late_redemption_is_judged_at_its_own_time(engines: Any) -> None:
    engine = engines()
    engine.record_many([
        act("a1", at(0), "res1", "u11", "mediation", quantity=3),  # 36
        act("a2", at(10), "res1", "u11", "mediation", quantity=2),  # 24 more, later
    ])
    # At day 5 res1 had 36 points: a rice bag (50) was not affordable then.
    with pytest.raises(EventRefused, match="insufficient balance: res1 has 36 points"):
        engine.record(PointsRedeemed(id="early", time=at(5), actor="res1", node="u11", reward="rice"))
    engine.record(PointsRedeemed(id="p2", time=at(11), actor="res1", node="u11", reward="rice"))
    # A towel at day 5 was affordable then, but would leave the rice at day 11 uncovered (60 - 20 < 50).
    with pytest.raises(EventRefused, match="would leave without enough points"):
        engine.record(PointsRedeemed(id="p1", time=at(5), actor="res1", node="u11", reward="towel"))
    later(engine, at(12))
    assert api.balance(engine, "res1") == 60 - 50
    assert engine.store.count() == 3


def a_fortnight() -> list[Any]:
    """Sixteen days of mediations and volunteering, and three redemptions."""
    days: list[Any] = [act(f"m{d:02}", at(d), "res1", "u11", "mediation", quantity=1) for d in range(16)]
    days += [act(f"v{d:02}", at(d, 14), "worker1", "g1", "volunteer_service", hours=1) for d in range(16)]
    days += [PointsRedeemed(id=f"r{d:02}", time=at(d, 16), actor="res1", node="u11", reward="towel")
             for d in (3, 9, 14)]
    return days


def test_a_late_event_is_rebuilt_from_a_checkpoint_and_leaves_one_that_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Points save their state: a late event rewinds to the checkpoint before it, not to the first event.

    The result is what a replay of the whole log gives, and the engine takes a
    new checkpoint at once (the old ones no longer fit), so the next open
    restores it instead of replaying everything.
    """
    days = a_fortnight()
    late = [act("late-c", at(10, 20), "res1", "u11", "cleanup"),
            PointsRedeemed(id="late-r", time=at(11, 17), actor="worker1", node="g1", reward="towel")]
    engine = open_points(tmp_path / "late", YINQUAN, now=at(20))
    engine.checkpoint_min = engine.checkpoint_every = 8
    engine.checkpoint_share = 1
    engine.record_many(days, batch_size=8)  # checkpoints every 8 events stored
    engine.checkpoint_min = 200  # as by default: a small ingest alone would take none
    restored: list[bool] = []
    bases: list[int] = []
    restore = Engine._restore_checkpoint

    def spy(self: Engine, before: Any = None) -> bool:
        restored.append(restore(self, before))
        bases.append(self._base)
        return restored[-1]

    monkeypatch.setattr(Engine, "_restore_checkpoint", spy)
    summary = engine.record_many(late)
    assert summary.accepted == 2 and restored == [True]  # one rewind for both, from a checkpoint, not the start
    assert 0 < bases[0] < engine.position
    assert engine._base == engine.position  # and the checkpoint taken after them is the new base
    members = ("res1", "worker1")
    seen = {m: api.entries(engine, m) for m in members}
    saved = engine.hooks.save_state(engine, engine._savers()["points#state"])
    position = engine.position
    engine.close()

    in_order = open_points(tmp_path / "in-order", YINQUAN, now=at(20))
    in_order.record_many(sorted([*days, *late], key=lambda e: (e.time, e.id)))
    assert {m: api.entries(in_order, m) for m in members} == seen
    in_order.close()

    restored.clear()
    again = open_points(tmp_path / "late", None, now=at(20))
    try:
        assert restored == [True] and again._base == position  # the checkpoint taken after the late events
        assert {m: api.entries(again, m) for m in members} == seen
        assert again.hooks.save_state(again, again._savers()["points#state"]) == saved
        again.rebuild()  # from the first event, no checkpoint
        assert {m: api.entries(again, m) for m in members} == seen
        assert again.hooks.save_state(again, again._savers()["points#state"]) == saved
    finally:
        again.close()


def test_a_log_whose_older_half_arrives_last_is_merged_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every event of the older half is late, yet the state rewinds once and reads the log once more.

    (Each used to rewind and replay the whole log after it: a month ingested
    after the next one took minutes.)  The ledger, the refusals and what is
    stored are those of an ingest in order; ids stored already are duplicates
    even before the merge reaches them.
    """
    events = a_fortnight()
    # a redemption that the older half's balance cannot cover at its time, and a repeat of a newer event
    events.append(PointsRedeemed(id="early-rice", time=at(1, 17), actor="res1", node="u11", reward="rice"))
    newer = [e for e in events if e.time >= at(8)]
    older = [e for e in events if e.time < at(8)] + [newer[0]]
    rewinds: list[str] = []
    rewind = Engine._rewind_to

    def spy(self: Engine, late: Any) -> None:
        rewinds.append(late.id)
        rewind(self, late)

    monkeypatch.setattr(Engine, "_rewind_to", spy)
    merged = open_points(tmp_path / "merged", YINQUAN, now=at(20))
    assert not merged.record_many(newer).refused
    summary = merged.record_many(older)
    assert len(rewinds) == 1 and summary.duplicates == 1
    in_order = open_points(tmp_path / "in-order", YINQUAN, now=at(20))
    expected = in_order.record_many(events)
    assert [r.event_id for r in summary.refused] == [r.event_id for r in expected.refused] == ["early-rice"]
    assert summary.accepted + len(newer) == expected.accepted
    for member in ("res1", "worker1"):
        assert api.entries(merged, member) == api.entries(in_order, member)
    saved = merged.hooks.save_state(merged, merged._savers()["points#state"])
    assert saved == in_order.hooks.save_state(in_order, in_order._savers()["points#state"])
    assert sorted(d["id"] for d in merged.store.events()) == sorted(d["id"] for d in in_order.store.events())
    merged.rebuild()
    assert merged.hooks.save_state(merged, merged._savers()["points#state"]) == saved
    merged.close()
    in_order.close()


def test_a_late_event_then_a_reused_id_dated_after_its_stored_event_applies_nothing_twice(tmp_path: Path) -> None:
    # Found by test_points_bounded's hypothesis run: a late event rewinds the state, and the stored events after it
    # are replayed as the batch's later events are judged.  An id reused with a later time (a conflict, refused) as
    # the batch's last event replayed every stored event up to it, to the end of the log, and the call's closing
    # replay then read the log again from its start: the stored activity before the late event was applied twice
    # (its points counted twice, or, at the same moment as another lot, the plugin failed on its own lot).
    engine = open_points(tmp_path / "s", YINQUAN, now=at(5))
    engine.record_many([act("a1", at(0), "res1", "u11", "mediation", quantity=3),
                        act("a3", at(2), "res1", "u11", "cleanup")])
    stored_a3 = act("a3", at(3), "res1", "u11", "cleanup")  # the id of a stored event, dated after it
    done = engine.record_many([act("a2", at(1), "res1", "u11", "cleanup"), stored_a3])
    assert done.accepted == 1 and [r.event_id for r in done.refused] == ["a3"], done  # (a conflict)
    live = (api.balance(engine, "res1"), [(e.id, e.amount) for e in api.entries(engine, "res1")],
            engine.hooks.save_state(engine, api.state(engine)))
    engine.rebuild()
    assert (api.balance(engine, "res1"), [(e.id, e.amount) for e in api.entries(engine, "res1")],
            engine.hooks.save_state(engine, api.state(engine))) == live
    assert sorted(e.id for e in api.entries(engine, "res1")) == ["a1", "a2", "a3"]
    engine.close()
