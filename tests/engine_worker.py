"""An engine in its own process, for the tests of several writers on one store.

Usage:
  python engine_worker.py redeem URL BARRIER EVENT_ID    spend 3 towels of res1's points
  python engine_worker.py tick URL BARRIER TIME          record what fell due by TIME
  python engine_worker.py ingest URL BARRIER PREFIX N     record N patrols, one per batch
  python engine_worker.py ingest-many URL BARRIER PREFIX N  record N patrols in one call, 2 a batch

Each prints ``ready`` once its engine is open, waits (at most 60 s) for the
file BARRIER to exist, so that the processes act at the same moment, then
prints one JSON line with what happened.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore.events import PatrolLogged
from gridcore_points.events import PointsRedeemed

CST = timezone(timedelta(hours=8))
WHEN = datetime(2025, 1, 20, 9, tzinfo=CST)


def wait(barrier: Path) -> None:
    print("ready", flush=True)
    for _ in range(6000):
        if barrier.exists():
            return
        time.sleep(0.01)
    raise SystemExit("the barrier never opened")


def main() -> None:
    mode, url, barrier = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    if mode == "redeem":
        engine = Engine.open(store=url, clock=FixedClock(WHEN), plugins=get_plugin_manager(("escalation", "assessment")))
        wait(barrier)
        event = PointsRedeemed(id=sys.argv[4], time=WHEN, actor="res1", node="u11", reward="towel", quantity=3)
        try:
            engine.record(event)
            print(json.dumps({"stored": True}), flush=True)
        except EventRefused as exc:
            print(json.dumps({"stored": False, "reasons": exc.reasons}), flush=True)
    elif mode == "tick":
        when = datetime.fromisoformat(sys.argv[4])
        engine = Engine.open(store=url, clock=FixedClock(when), plugins=get_plugin_manager(("points", "assessment")))
        wait(barrier)
        fired = engine.tick(when)
        print(json.dumps({"fired": [e.id for e in fired]}), flush=True)
    else:
        prefix, count = sys.argv[4], int(sys.argv[5])
        engine = Engine.open(store=url, clock=FixedClock(WHEN), plugins=get_plugin_manager(("escalation", "assessment")))
        wait(barrier)
        events = [PatrolLogged(id=f"{prefix}-{n:04d}", time=WHEN - timedelta(minutes=count - n),
                               actor="worker1", node="g1", minutes=30, note=prefix) for n in range(count)]
        if mode == "ingest-many":
            # batches sent ahead (PostgreSQL's append_soon) while the next ones are judged
            accepted = engine.record_many(events, batch_size=2).accepted
        else:
            accepted = sum(engine.record_many([event]).accepted for event in events)
        print(json.dumps({"accepted": accepted}), flush=True)
    engine.close()


if __name__ == "__main__":
    main()
