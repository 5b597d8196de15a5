"""Serious incidents open at an earlier end: a scan continued from a kept one equals a scan from the first event.

``logindex.open_serious`` reads the incident events before ``end`` when the
state cannot answer (an end before the latest event).  It keeps each scan of
the log (until the store grows) and continues a new end from the latest kept
scan before it instead of reading again from the first event.  Whatever the
order the ends are asked in (later, earlier, the same again, with another
threshold) and wherever they fall (on an incident event's time, just after it,
a midnight), every answer must be what a scan from the first event gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_checkpoint_properties import CLOCK, CST, RULES, community, day_of_events, plugins

from gridcore import Engine, FixedClock
from gridcore_assessment import logindex

#: a scan from the first event for every (end, threshold), once per module
_FROM_SCRATCH: dict[tuple[datetime, int], dict[str, list[str]]] = {}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = str(tmp_path_factory.mktemp("continued") / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as writer:
        writer.record_many(day_of_events(3))
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as reader:
        yield reader


def incident_times(engine: Engine) -> list[datetime]:
    return sorted({event.time for event in engine.events(kinds=logindex.INCIDENT_KINDS)})


def ends_of(engine: Engine) -> list[datetime]:
    """Every incident event's time, the instant after it and each midnight, all before the latest event
    (a later end is answered by the state, not the log)."""
    times = incident_times(engine)
    last = engine.state("assessment").last
    days = {datetime(t.astimezone(CST).year, t.astimezone(CST).month, t.astimezone(CST).day, tzinfo=CST)
            for t in times}
    ends = set(times) | {t + timedelta(microseconds=1) for t in times} | days
    return sorted(end for end in ends if end <= last)


def from_scratch(engine: Engine, end: datetime, threshold: int) -> dict[str, list[str]]:
    if (end, threshold) not in _FROM_SCRATCH:
        cache = engine.state("assessment").cache
        cache.clear()  # (nothing kept: the scan starts from the first event)
        _FROM_SCRATCH[(end, threshold)] = logindex.open_serious(engine, end, threshold)
        cache.clear()
    return _FROM_SCRATCH[(end, threshold)]


def test_the_log_has_every_kind_of_incident_event(engine: Engine) -> None:
    kinds = Counter(event.kind for event in engine.events(kinds=logindex.INCIDENT_KINDS))
    assert kinds["incident_reported"] > 10 and kinds["incident_resolved"] + kinds["incident_closed"] > 5
    # events share a time, so an end on one splits nothing: the continuation must take all of them
    times = Counter(event.time for event in engine.events(kinds=logindex.INCIDENT_KINDS))
    assert max(times.values()) > 1


@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 5)), min_size=1, max_size=12))
def test_a_continued_scan_answers_as_a_scan_from_the_first_event(engine: Engine,
                                                                 picks: list[tuple[int, int]]) -> None:
    ends = ends_of(engine)
    asked = [(ends[i % len(ends)], threshold) for i, threshold in picks]
    expected = [from_scratch(engine, end, threshold) for end, threshold in asked]
    cache = engine.state("assessment").cache
    cache.clear()
    try:
        found = [logindex.open_serious(engine, end, threshold) for end, threshold in asked]
    finally:
        cache.clear()
    assert found == expected


def test_every_end_in_turn_then_back(engine: Engine) -> None:
    """All the ends in order (each continues the one before), then backwards (each from a kept scan)."""
    ends = ends_of(engine)
    cache = engine.state("assessment").cache
    cache.clear()
    forwards = [logindex.open_serious(engine, end, 1) for end in ends]
    assert len(cache["incident scans"]) == len(ends)
    backwards = [logindex.open_serious(engine, end, 3) for end in reversed(ends)]
    cache.clear()
    assert forwards == [from_scratch(engine, end, 1) for end in ends]
    assert backwards == [from_scratch(engine, end, 3) for end in reversed(ends)]
    assert any(forwards) and len({str(answer) for answer in forwards}) > 3  # not vacuous: the answers move
