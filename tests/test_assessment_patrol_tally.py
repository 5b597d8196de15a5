"""Patrols per cell and slot, and who took part in activities, come from the state, not the log.

``logindex.patrol_tally`` (what ``patrol_coverage`` reads) used to decode every
patrol event of the period: rating a district's quarter decoded a quarter's
hundreds of thousands of patrols.  The assessment state now counts patrols per
local day and node as events are applied; the tally from those counts must be
exactly what reading the log gives, for every period, slot kind and level,
after a restore from a checkpoint as after a replay, and a span that is not
whole days is still read from the log.  The same holds for the people who took
part in an activity in a period (``logindex.participants``, what participation
reads).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from test_checkpoint_properties import CLOCK, CST, RULES, community, day_of_events, plugins

from gridcore import Engine, Event, FixedClock
from gridcore.periods import parse_period
from gridcore_assessment import logindex


def reading_is_not_needed(**_: object) -> None:
    raise AssertionError("the log was read")


def read_from_the_log(engine: Engine, start: datetime, end: datetime, per: str,
                      level: str | None) -> Counter[tuple[str, str]]:
    state = engine.state("assessment")
    kept = state.patrols
    state.patrols = None  # (the log is read when the state cannot answer)
    state.cache.clear()
    try:
        return logindex.patrol_tally(engine, start, end, per, level)
    finally:
        state.patrols = kept
        state.cache.clear()


def from_the_state(engine: Engine, start: datetime, end: datetime, per: str,
                   level: str | None) -> Counter[tuple[str, str]]:
    engine.state("assessment").cache.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "events", reading_is_not_needed)
        return logindex.patrol_tally(engine, start, end, per, level)


def participants(engine: Engine, start: datetime, end: datetime, *, from_state: bool) -> set[str]:
    state = engine.state("assessment")
    kept = state.participants
    state.cache.clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            if from_state:
                patch.setattr(engine, "events", reading_is_not_needed)
            else:
                state.participants = None
            return logindex.participants(engine, start, end)
    finally:
        state.participants = kept
        state.cache.clear()


PERIODS = ("2025-03-29", "2025-03-31", "2025-W13", "2025-W14", "2025-03", "2025-Q1", "2025-Q2", "2025")


def same_tallies(engine: Engine) -> int:
    counted = 0
    for period in PERIODS:
        span = parse_period(period, CST)
        for per in ("day", "week", "month"):
            for level in (None, "grid", "community"):
                found = from_the_state(engine, span.start, span.end, per, level)
                assert found == read_from_the_log(engine, span.start, span.end, per, level), (period, per, level)
                counted += sum(found.values())
        people = participants(engine, span.start, span.end, from_state=True)
        assert people == participants(engine, span.start, span.end, from_state=False), period
        counted += len(people)
    return counted


def at_night() -> list[Event]:
    """Patrols and activities timed in UTC just after and before local midnight (another day in UTC
    than in Shanghai), the activities by people who took part in none that day."""
    patrol = next(e for e in day_of_events(3) if e.kind == "patrol_logged")
    activity = next(e for e in day_of_events(3) if e.kind == "activity_recorded")
    others = sorted({e.participant for e in day_of_events(3) if e.kind == "activity_recorded"} - {activity.participant})
    times = (datetime(2025, 3, 30, 16, 30, tzinfo=UTC), datetime(2025, 3, 31, 15, 59, tzinfo=UTC),
             datetime(2025, 3, 31, 16, 0, tzinfo=UTC))
    return [attrs.evolve(patrol, id=f"night-{k}", time=when) for k, when in enumerate(times)] + [
        attrs.evolve(activity, id=f"night-a{k}", time=when, actor=person, member=None)
        for k, (when, person) in enumerate(zip(times, others, strict=False))]


def test_the_state_counts_patrols_and_participants_as_the_log_does(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        assert not engine.record_many([*day_of_events(3), *at_night()]).refused
        assert same_tallies(engine) > 0  # not vacuous: patrols were counted
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as engine:
        state = engine.state("assessment")
        assert state.patrols  # restored from the checkpoint
        same_tallies(engine)
        # a span that is not whole local days: read from the log
        start = parse_period("2025-03-30", CST).start + timedelta(hours=9)
        end = start + timedelta(hours=5)
        state.cache.clear()
        part = logindex.patrol_tally(engine, start, end, "day", None)
        assert part == read_from_the_log(engine, start, end, "day", None)
        assert 0 < sum(part.values()) < sum(read_from_the_log(engine, start - timedelta(hours=9), end + timedelta(
            hours=10), "day", None).values())
        engine.rebuild()
        same_tallies(engine)


def test_the_state_keeps_only_the_last_days_and_older_periods_read_the_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcore_assessment import state as assessment_state

    monkeypatch.setattr(assessment_state, "KEPT_DAYS", 1)
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        assert not engine.record_many([*day_of_events(3), *at_night()]).refused
        kept = engine.state("assessment")
        days = sorted({*kept.patrols, *kept.participants})
        assert kept.kept_from is not None and days and days[0] >= kept.kept_from
        assert (days[-1] - days[0]).days <= 1  # the latest event's day and the one before
        before = [logindex.patrol_tally(engine, parse_period(p, CST).start, parse_period(p, CST).end, "day", None)
                  for p in PERIODS]
        assert sum(sum(found.values()) for found in before) > 0
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as engine:
        assert engine.state("assessment").kept_from == kept.kept_from  # from the checkpoint
        for period, found in zip(PERIODS, before, strict=True):
            span = parse_period(period, CST)
            assert found == read_from_the_log(engine, span.start, span.end, "day", None), period
            engine.state("assessment").cache.clear()
            assert logindex.patrol_tally(engine, span.start, span.end, "day", None) == found, period
            assert participants(engine, span.start, span.end, from_state=False) == \
                logindex.participants(engine, span.start, span.end), period


def test_a_day_restored_from_a_checkpoint_takes_more_participants(tmp_path: Path) -> None:
    """A restored day's participants are kept as the checkpoint's list until the day gains someone."""
    url = str(tmp_path / "store")
    events = day_of_events(3)
    activities = [e for e in events if e.kind == "activity_recorded"]
    last = max(activities, key=lambda e: e.time)
    latest = max(e.time for e in events)  # (the new activities come after every event: no rewind)
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        assert not engine.record_many(events).refused
    day = last.time.astimezone(CST).date()
    span = parse_period(day.isoformat(), CST)
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        state = engine.state("assessment")
        assert isinstance(state.participants[day], list)  # as restored
        before = set(state.participants[day])
        newcomer = min({e.participant for e in activities} - before)
        assert latest.astimezone(CST).date() == day
        assert not engine.record_many([
            attrs.evolve(last, id="newcomer", time=latest + timedelta(minutes=2), actor=newcomer, member=None),
        ]).refused
        assert engine.state("assessment") is state and state.participants[day] == before | {newcomer}
        assert participants(engine, span.start, span.end, from_state=True) == \
            participants(engine, span.start, span.end, from_state=False)
        saved = state.gridcore_save_state()
        engine.rebuild()
        assert engine.state("assessment").gridcore_save_state() == saved


def kept_on(state: object, day: date) -> object:
    """Who took part on ``day`` as the state keeps it (in memory, or in a sealed month read back)."""
    found = state.kept_days("participants", day, day + timedelta(days=1))  # type: ignore[attr-defined]
    return found[0][1] if found else None


def test_a_day_over_keeps_its_participants_as_a_list_and_takes_a_late_one(tmp_path: Path) -> None:
    """A live engine's past days hold the sorted list a checkpoint saves (a set takes up to ten times the memory);
    a late activity on such a day makes it a set again and counts, as the log does."""
    events = day_of_events(4)
    activities = [e for e in events if e.kind == "activity_recorded"]
    days = sorted({e.time.astimezone(CST).date() for e in activities})
    assert len(days) >= 3
    with Engine.open(store=str(tmp_path / "store"), community=community(), ruleset=RULES,
                     effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        assert not engine.record_many(events).refused
        state = engine.state("assessment")
        # (the days of a month before the latest event's are sealed in the store: read back)
        assert days[0].month < days[-1].month and days[0].replace(day=1) in state.sealed
        assert all(day.month == days[-1].month for day in state.participants)
        for day in days[:-1]:
            assert isinstance(kept_on(state, day), list)
            assert kept_on(state, day) == sorted({e.participant for e in activities
                                                  if e.time.astimezone(CST).date() == day})
        day = days[0]
        first = min((e for e in activities if e.time.astimezone(CST).date() == day), key=lambda e: e.time)
        newcomer = min({e.participant for e in activities} - set(kept_on(state, day)))
        assert not engine.record_many([attrs.evolve(first, id="late-one", time=first.time + timedelta(minutes=1),
                                                    actor=newcomer, member=None)]).refused
        state = engine.state("assessment")
        assert newcomer in kept_on(state, day)
        span = parse_period(day.isoformat(), CST)
        assert participants(engine, span.start, span.end, from_state=True) == \
            participants(engine, span.start, span.end, from_state=False)
        saved = state.gridcore_save_state()
        engine.rebuild()
        assert engine.state("assessment").gridcore_save_state() == saved


def test_a_sealed_month_is_read_back_checked_against_its_key(tmp_path: Path) -> None:
    """The months before the latest event's are in the store's ``assessment.days``, one document a month
    under the SHA-256 of its text; one that was altered is a ``StoreError`` saying to rebuild, not a count."""
    from gridcore.errors import StoreError

    url = str(tmp_path / "store")
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        engine.checkpoint_min = 1
        assert not engine.record_many([*day_of_events(3), *at_night()]).refused
        march = engine.state("assessment").sealed[date(2025, 3, 1)]
        assert march.text is None  # (stored with the next batch, or by the checkpoint)
        assert sorted(key for key, _ in engine.store.items("assessment.days")) == [march.key]
    span = parse_period("2025-03", CST)
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        assert participants(engine, span.start, span.end, from_state=True) == \
            participants(engine, span.start, span.end, from_state=False) != set()
        engine.store.put("assessment.days", march.key, {"format": 1, "patrols": {}, "participants": {}})
    with Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins()) as engine, \
            pytest.raises(StoreError, match="does not match its key"):
        logindex.participants(engine, span.start, span.end)


def test_an_old_event_on_a_sealed_month_seals_it_again_with_the_event(tmp_path: Path) -> None:
    """An event of a day of a sealed month given to the state (only a replay of old events could bring one):
    the month is read back, counts it, and is sealed again (a new document), as if it had come in order."""
    events = day_of_events(4)
    activities = [e for e in events if e.kind == "activity_recorded"]
    with Engine.open(store=str(tmp_path / "store"), community=community(), ruleset=RULES,
                     effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK), plugins=plugins()) as engine:
        assert not engine.record_many(events).refused
        state = engine.state("assessment")
        first = min(activities, key=lambda e: e.time)
        day = first.time.astimezone(CST).date()
        before = state.sealed[day.replace(day=1)]
        newcomer = min({e.participant for e in activities} - set(kept_on(state, day)))
        state.gridcore_on_event(attrs.evolve(first, id="old-one", actor=newcomer, member=None))
        again = state.sealed[day.replace(day=1)]
        assert again.key != before.key and again.text is not None  # (stored with the next batch)
        assert not any(found.month == day.month for found in state.participants)
        assert newcomer in kept_on(state, day)
