"""A restored points state works out what falls due when only once it is swept, and sweeps as a replay does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from conftest import CST
from test_points_bounded import SHORT
from test_points_engine import open_points

from gridcore.events import ActivityRecorded
from gridcore_points import api


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
