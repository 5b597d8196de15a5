"""Serious incidents still open at the end of the current period are read from the state, not the log.

``logindex.open_serious`` used to read every incident event from the start of
the log (at 1,000,000 events, most of ``assess``'s time).  For an end after
every event the assessment state's incidents not resolved answer it; they must
give exactly what reading the log gives, for every threshold, after a restore
from a checkpoint as after a replay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_checkpoint_properties import CLOCK, CST, RULES, community, day_of_events, plugins

from gridcore import Engine, FixedClock
from gridcore_assessment import logindex


def reading_is_not_needed(**_: object) -> None:
    raise AssertionError("the log was read")


def read_from_the_log(engine: Engine, end: datetime, threshold: int) -> dict[str, list[str]]:
    state = engine.state("assessment")
    kept = state.unresolved
    state.unresolved = None  # (the log is read when the state cannot answer)
    state.cache.clear()
    try:
        return logindex.open_serious(engine, end, threshold)
    finally:
        state.unresolved = kept
        state.cache.clear()


def test_the_state_answers_as_the_log_does(tmp_path: Path) -> None:
    events = day_of_events(3)
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        engine.record_many(events)
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as engine:
        state = engine.state("assessment")
        assert state.unresolved  # restored from the checkpoint
        end = engine.latest_event_time + timedelta(days=1)
        for threshold in range(1, 6):
            state.cache.clear()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(engine, "events", reading_is_not_needed)
                found = logindex.open_serious(engine, end, threshold)
            assert found == read_from_the_log(engine, end, threshold)
        assert logindex.open_serious(engine, end, 1)  # not vacuous: some are open
        engine.rebuild()
        assert logindex.open_serious(engine, end, 2) == read_from_the_log(engine, end, 2)
