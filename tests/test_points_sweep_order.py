"""Accounts swept together are advanced in the order of (next due, member), however they were queued.

A member's own events can move the moment its account falls due later than the moment it was queued for
(``Records.queue_touched`` keeps the earlier key: it is looked at again then).  If another account falls
due between the two, a replay that swept the first account at its old key booked its entries before the
other's, while a state restored from a checkpoint (which queues every account at its due moment) booked
them after: the same entries in another order in the history, so a save differed from a fresh one's.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_points_bounded import SHORT
from test_points_engine import open_points
from test_points_invariants import START

from gridcore.events import ActivityRecorded, Event
from gridcore_points import api


def _cleanup(ident: str, days: float, member: str, node: str) -> Event:
    return ActivityRecorded(id=ident, time=START + timedelta(days=days), actor=member, node=node, activity="cleanup")


#: res1's lot expires on day 31 (queued then); its own activity on day 20 moves its next sweep to day 50 (IDLE after
#: it), while res2's lot, from day 2, falls due on day 32 (its sweep not before day 32 either); worker1's
#: activity on day 60 sweeps both
HISTORY = [_cleanup("a", 0, "res1", "u11"), _cleanup("b", 2, "res2", "u21"), _cleanup("c", 20, "res1", "u11"),
           _cleanup("d", 60, "worker1", "g1")]


def _history_order(engine) -> list[tuple[str, str, str]]:
    return [(e.member, e.kind, e.time.isoformat()) for m in ("res1", "res2") for e in api.entries(engine, m)]


@pytest.mark.parametrize("reopen", [False, True])
def test_swept_accounts_book_in_the_order_they_fell_due(tmp_path: Path, reopen: bool) -> None:
    store = tmp_path / "store"
    engine = open_points(store, SHORT, now=START)
    try:
        engine.record_many(HISTORY[:3])
        if reopen:  # (restored from a checkpoint: every account queued at its due moment)
            engine.checkpoint()
            engine.close()
            engine = open_points(store, SHORT, now=START)
            assert engine.open_report.restored_from == 3
        engine.record_many(HISTORY[3:])
        saved = engine.hooks.save_state(engine, api.state(engine))
        shutil.copytree(store, tmp_path / "copy")
        with open_points(tmp_path / "copy", SHORT, now=START) as fresh:
            fresh.rebuild()
            want = fresh.hooks.save_state(fresh, api.state(fresh))
        booked = [(row[3], row[1], row[5]) for row in saved["history"]["open"]["entries"]]
        assert json.dumps(saved) == json.dumps(want), booked
    finally:
        engine.close()
