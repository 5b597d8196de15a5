"""Processes for the test of ``gridcore time-order --settle`` beside another writer (tests/test_time_order_settle.py).

Usage:
  python settle_worker.py settle URL HELD GO   run ``gridcore time-order --settle --store URL``; at the first event
                                               its replay gives, create the file HELD and wait (at most 60 s) for
                                               the file GO, then go on
  python settle_worker.py report URL           open an engine on URL and record one report dated before the
                                               store's latest event (late), printing one JSON line: stored or why not

The command runs as ``gridcore`` runs it (``main_group``), with one plugin more on its own plugin manager
(``plugin_manager()``, the invocation's): the pause, which only waits.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from gridcore import EventRefused, StoreError, hookimpl


class Pause:
    """At the first event the replay gives: say so (the file ``held``), then wait for the file ``go``."""

    def __init__(self, held: Path, go: Path) -> None:
        self.held, self.go, self.paused = held, go, False

    @hookimpl
    def gridcore_on_event(self, engine: Any, event: Any, replaying: bool) -> None:
        if self.paused:
            return
        self.paused = True
        self.held.write_text("held", encoding="utf-8")
        for _ in range(6000):
            if self.go.exists():
                return
            time.sleep(0.01)
        raise SystemExit("GO never came")


def settle(url: str, held: Path, go: Path) -> None:
    from gridcore_app.cli import main_group, plugin_manager

    ctx = main_group.make_context("gridcore", ["time-order", "--settle", "--store", url])
    with ctx:
        plugin_manager().register(Pause(held, go), name="pause")
        main_group.invoke(ctx)


def report(url: str) -> None:
    from test_escalation_late import hours, open_engine
    from test_escalation_late import report as reported

    try:
        with open_engine(url) as engine:
            engine.record(reported("I9", hours(0.25), node="u12"))  # before I1's report: late
        print(json.dumps({"stored": True}), flush=True)
    except (EventRefused, StoreError) as exc:
        print(json.dumps({"stored": False, "why": str(exc)}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "settle":
        settle(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        report(sys.argv[2])
