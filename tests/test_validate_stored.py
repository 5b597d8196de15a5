"""``gridcore_validate_stored`` and ``gridcore_on_event_ignored``: a stored event refused in time order is
applied by no plugin.

A late event is judged at its own time and the stored events after it are
replayed; one a plugin now refuses (``gridcore_validate_stored``) stays in the
log but reaches every plugin through ``gridcore_on_event_ignored``, with the
reasons, never through ``gridcore_on_event``: the state is the one the same
events give recorded in time order.  Tested with throwaway plugins.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gridcore import Engine, EventKinds, FixedClock, PluginError, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, Event, PatrolLogged

CST = timezone(timedelta(hours=8))
START = datetime(2025, 3, 3, 8, 0, tzinfo=CST)
COMMUNITY = Path(__file__).parent / "data" / "community-mini"


class FirstPatrol:
    """Judges: a gridworker's first patrol of a day counts; later ones are refused."""

    def __init__(self, answer: Any = None) -> None:
        self.days: set[tuple[str, Any]] = set()
        self.asked: list[str] = []
        self.ignored: list[tuple[str, list[str]]] = []
        self.answer = answer

    def refusal(self, event: Event) -> list[str] | None:
        if isinstance(event, PatrolLogged) and (event.actor, event.time.date()) in self.days:
            return [f"{event.actor} already patrolled that day (当天已巡查)"]
        return None

    @hookimpl
    def gridcore_event_kinds(self) -> EventKinds:
        return EventKinds(on_event=[PatrolLogged])

    @hookimpl
    def gridcore_validate_event(self, event: Event) -> list[str] | None:
        return self.refusal(event)

    @hookimpl
    def gridcore_validate_stored(self, event: Event) -> Any:
        self.asked.append(event.id)
        return self.answer if self.answer is not None else self.refusal(event)

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        if isinstance(event, PatrolLogged):
            self.days.add((event.actor, event.time.date()))

    @hookimpl
    def gridcore_on_event_ignored(self, event: Event, reasons: list[str]) -> None:
        self.ignored.append((event.id, reasons))


class Follower:
    """Follows every event, judges none: what it is given."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.ignored: list[str] = []

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        self.applied.append(event.id)

    @hookimpl
    def gridcore_on_event_ignored(self, event: Event) -> None:
        self.ignored.append(event.id)


class Plugins:
    def __init__(self, answer: Any = None) -> None:
        self.answer = answer

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        engine.attach("first-patrol", FirstPatrol(self.answer))
        engine.attach("follower", Follower())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, clock=FixedClock(START + timedelta(days=1)),
                     plugins=get_plugin_manager(extra=[Plugins()])) as opened:
        yield opened


def _patrol(ident: str, hour: int) -> PatrolLogged:
    return PatrolLogged(id=ident, time=START.replace(hour=hour), actor="m03", node="g1")


def test_a_stored_event_refused_in_time_order_reaches_no_plugin_as_applied(engine: Engine) -> None:
    """p-10 is stored; p-08, the same day, is typed in late: p-10, replayed after it, is refused by the
    first-patrol rule, so no plugin applies it (the follower, which judges nothing, included); both get it
    through ``gridcore_on_event_ignored``; it stays in the log.  The same after a rebuild."""
    engine.record_many([_patrol("p-10", 10), ActivityRecorded(id="a-11", time=START.replace(hour=11), actor="m03",
                                                              node="g1", activity="cleanup")])
    assert engine.state("first-patrol").asked == []  # (new events: judged by gridcore_validate_event)
    engine.record(_patrol("p-08", 8))
    for _ in range(2):
        judge, follower = engine.state("first-patrol"), engine.state("follower")
        assert judge.ignored == [("p-10", ["m03 already patrolled that day (当天已巡查)"])]
        assert (follower.applied, follower.ignored) == (["p-08", "a-11"], ["p-10"])
        assert "a-11" not in judge.asked  # (restricted as its gridcore_on_event is: patrols only)
        assert [e.id for e in engine.events()] == ["p-08", "p-10", "a-11"]
        engine.rebuild()


def test_an_answer_that_is_no_list_names_the_hook(tmp_path: Path) -> None:
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, clock=FixedClock(START + timedelta(days=1)),
                     plugins=get_plugin_manager(extra=[Plugins(answer="no")])) as engine:
        engine.record(_patrol("p-10", 10))
        with pytest.raises(PluginError, match="gridcore_validate_stored must return a list of reasons"):
            engine.record(_patrol("p-08", 8))
