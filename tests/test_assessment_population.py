"""The residents registered, and the household register, at the end of the current period come from state.

``logindex.population`` (what participation and registration completeness
read) and ``logindex.households_at`` (what the household rates read) used to
decode every registration and move since the first event, for any period: at
1,000,000 events, years of them for a month's ratings.  For an end after every
event the assessment state's registered residents and the engine's own
household register answer them; they must give exactly what reading the log
gives, after a restore from a checkpoint as after a replay, and an earlier end
still reads the log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_assessment_households import APRIL, MARCH
from test_assessment_households import store as households_store  # noqa: F401  (a fixture)
from test_checkpoint_properties import CLOCK, CST, RULES, community, day_of_events, plugins

from gridcore import Engine, FixedClock
from gridcore_assessment import logindex


def reading_is_not_needed(**_: object) -> None:
    raise AssertionError("the log was read")


def from_the_state(engine: Engine, read: Any, end: datetime) -> Any:
    engine.state("assessment").cache.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "events", reading_is_not_needed)
        return read(engine, end)


def from_the_log(engine: Engine, read: Any, end: datetime) -> Any:
    state = engine.state("assessment")
    state.cache.clear()
    with pytest.MonkeyPatch.context() as patch:
        # (the state cannot answer for an engine behind its store: the log is read)
        patch.setattr(type(engine), "position", property(lambda _: -1))
        found = read(engine, end)
    state.cache.clear()
    return found


def test_the_registered_residents_are_the_logs(tmp_path: Path) -> None:
    events = day_of_events(3)
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        engine.record_many(events)
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as engine:
        assert engine.state("assessment").registered  # restored from the checkpoint
        end = engine.latest_event_time + timedelta(days=1)
        found = from_the_state(engine, logindex.population, end)
        assert found == from_the_log(engine, logindex.population, end)
        moved = {e.person for e in events if e.kind == "resident_moved"}
        assert len(found) > 10 and moved & set(found)  # not vacuous: people registered, some of them moved
        assert from_the_state(engine, logindex.registrations_by_node, end) == \
            from_the_log(engine, logindex.registrations_by_node, end)
        engine.rebuild()
        assert from_the_state(engine, logindex.population, end) == found
        # an end before the last event reads the log (the state holds only the residents now)
        earlier = engine.latest_event_time - timedelta(days=2)
        with pytest.raises(AssertionError, match="the log was read"):
            from_the_state(engine, logindex.population, earlier)
        assert from_the_log(engine, logindex.population, earlier) != found


def register_of(register: Any, nodes: tuple[str, ...]) -> Any:
    return (sorted(register.households.items()), sorted(register.residents.items()), sorted(register.carers().items()),
            [register.counts(n) for n in nodes], {h: register.history(h) for h in sorted(register.households)})


def test_the_household_register_is_the_logs(households_store: str) -> None:  # noqa: F811
    with Engine.open(store=households_store, read_only=True, clock=FixedClock(APRIL)) as engine:
        nodes = ("g1", "g2", "g1-u1")
        found = register_of(from_the_state(engine, logindex.households_at, APRIL), nodes)
        assert found == register_of(from_the_log(engine, logindex.households_at, APRIL), nodes)
        assert "h5" in dict(found[0]) and "h4" not in dict(found[0])  # not vacuous: moved in and out
        mid = datetime(2025, 3, 15, tzinfo=MARCH.tzinfo)
        with pytest.raises(AssertionError, match="the log was read"):
            from_the_state(engine, logindex.households_at, mid)
