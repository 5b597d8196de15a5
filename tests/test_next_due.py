"""``gridcore_next_due``: a plugin's ``gridcore_on_tick`` is asked only when something of its can fall due.

A plugin that says when (the escalation and tasks plugins, and the guide's
follow-ups) has its tick skipped while the time ticked to is before its
answer, and is asked again after anything that may change it: an event its
``gridcore_on_event`` takes, its own tick, a restored state, a ruleset.  A
plugin without the hook (a third party's written before it) is ticked before
every event, as before.  The skipped ticks would have done nothing: random
incidents and tasks, in and out of time order, with explicit ticks between,
leave the same stored rows, refusals, checkpoint documents and outcomes with
the hints heeded and with every plugin asked before every event.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILTIN_PLUGINS, START, small_community
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_escalation_invariants import T0, build, late_ops, natural, open_engine
from test_tasks import RULES as TASK_RULES
from test_tasks import done, sweep
from thirdparty import install_plugin, uninstall

from gridcore import Engine, EventRefused, FixedClock, PluginError, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, Event
from gridcore.plugin_host import Hooks


@contextmanager
def hints(heed: bool) -> Iterator[None]:
    """Engines opened inside heed ``gridcore_next_due`` (True, the default) or ask every plugin before every
    event (False)."""
    was = Hooks.heed_next_due
    Hooks.heed_next_due = heed
    try:
        yield
    finally:
        Hooks.heed_next_due = was


def activity(n: int, when: datetime) -> ActivityRecorded:
    return ActivityRecorded(id=f"a{n}", time=when, actor="res1", node="u11", activity="x")


class Reminder:
    """A reminder due two hours after each activity, answered by ``gridcore_next_due``; every call noted."""

    def __init__(self, calls: list[tuple[str, Any]], *, hinted: bool = True) -> None:
        self.calls = calls
        self.due: dict[str, datetime] = {}
        self.hinted = hinted

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        if event.id.startswith("reminded:"):
            self.due.pop(event.id.removeprefix("reminded:"), None)
        elif isinstance(event, ActivityRecorded):
            self.due[event.id] = event.time + timedelta(hours=2)

    @hookimpl
    def gridcore_on_tick(self, now: datetime) -> list[Event]:
        self.calls.append(("tick", now))
        return [ActivityRecorded(id=f"reminded:{ident}", time=due, actor="system", node="u11", activity="reminder")
                for ident, due in sorted(self.due.items()) if due <= now]

    @hookimpl
    def gridcore_next_due(self) -> datetime | None:
        self.calls.append(("next_due", None))
        return min(self.due.values(), default=None)


class Unhinted(Reminder):
    """The same without ``gridcore_next_due`` (as a plugin written before it): ticked before every event."""

    gridcore_next_due = None  # type: ignore[assignment]


def test_a_tick_is_skipped_before_the_plugins_answer_and_asked_again_after_its_events(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []
    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Reminder(calls)])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine:
        engine.record_many([activity(1, START), activity(2, START + timedelta(minutes=30)),
                            activity(3, START + timedelta(hours=1))])
        # asked before a1 (nothing waits: None), then after each activity (it changed): a1's reminder is
        # due at 10:00, so none of the ticks before the events and the one after the last is called
        assert calls == [("next_due", None)] * 4
        calls.clear()
        # ticks before the earliest reminder (a1's, at 10:00) call nothing at all
        assert engine.tick(START + timedelta(hours=1, minutes=59)) == []
        assert calls == []
        fired = engine.tick(START + timedelta(hours=2, minutes=30))
        assert [e.id for e in fired] == ["reminded:a1", "reminded:a2"]
        # ticked once; the reminders applied, asked again: a3's at 11:00, so not ticked again at 10:30
        assert calls == [("tick", START + timedelta(hours=2, minutes=30)), ("next_due", None)]
        calls.clear()
        engine.record(activity(4, START + timedelta(hours=2, minutes=40)))  # a3's not due yet; a4 asks again
        assert calls == [("next_due", None)]
        assert [e.id for e in engine.tick(START + timedelta(hours=3))] == ["reminded:a3"]


def test_a_plugin_without_the_hook_is_ticked_before_every_event_beside_one_with_it(tmp_path: Path) -> None:
    hinted: list[tuple[str, Any]] = []
    plain: list[tuple[str, Any]] = []
    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Reminder(hinted), Unhinted(plain)])
    times = [START + timedelta(minutes=10 * n) for n in range(6)]
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine:
        engine.record_many([activity(n, when) for n, when in enumerate(times)])
        assert plain == [("tick", when) for when in times] + [("tick", times[-1] + timedelta(microseconds=1))]
        # (the first reminder is due at 10:00: the plugin that says so is not ticked in the meantime)
        assert [c for c in hinted if c[0] == "tick"] == []
        assert engine.tick(START + timedelta(hours=2))[0].id == "reminded:a0"
        assert hinted[-2:] == [("tick", START + timedelta(hours=2)), ("next_due", None)]  # (then a1's: 10:10)


@pytest.mark.parametrize("answer, shown", [("soon", "str"), (datetime(2025, 3, 1, 9), "the naive datetime")])
def test_an_answer_that_is_no_aware_time_is_refused_naming_the_hook(tmp_path: Path, answer: Any, shown: str) -> None:
    class Wrong(Reminder):
        @hookimpl
        def gridcore_next_due(self) -> Any:
            return answer

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Wrong([])])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine:
        with pytest.raises(PluginError, match=f"gridcore_next_due must return an aware datetime or None, got {shown}"):
            engine.record(activity(1, START))
        assert list(engine.events()) == []


def test_with_tracing_on_every_plugin_is_ticked_through_pluggy(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []
    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Reminder(calls)])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine:
        engine.record(activity(1, START))
        undo = engine.plugins.add_hookcall_monitoring(lambda *a: None, lambda *a: None)
        calls.clear()
        engine.record(activity(2, START + timedelta(minutes=5)))
        assert ("tick", START + timedelta(minutes=5)) in calls and ("next_due", None) not in calls
        undo()


THIRD_PARTY = '''
from gridcore import hookimpl

TICKS = []


@hookimpl
def gridcore_on_tick(now):
    TICKS.append(now)
'''


def test_a_third_partys_plugin_without_the_hook_is_still_ticked_before_every_event(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_plugin(site, "gridcore-ticker", "gridcore_ticker", THIRD_PARTY)
    try:
        import gridcore_ticker  # type: ignore[import-not-found]

        times = [START + timedelta(hours=n) for n in range(4)]
        with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                         plugins=get_plugin_manager()) as engine:
            assert "gridcore_ticker" in str(engine.hooks.describe_plugins())
            engine.record_many([activity(n, when) for n, when in enumerate(times)])
        assert gridcore_ticker.TICKS == [*times, times[-1] + timedelta(microseconds=1)]
    finally:
        uninstall(site, "gridcore_ticker")


# ------------------------------------------------------------------ the skipped ticks do nothing


def results(engine: Engine, refusals: list[Any], folder: str) -> dict[str, Any]:
    """What a stream leaves: the stored rows, the refusals, every stateful plugin's checkpoint document, the
    outcomes (their rules' files named without ``folder``, where each run writes its own)."""
    states = {}
    for name in ("escalation", "tasks", "points", "assessment"):
        try:
            state = engine.state(name)
        except PluginError:
            continue
        states[name] = engine.hooks.save_state(engine, state)
    return {"rows": list(engine.store.events()), "refusals": refusals, "states": states,
            "outcomes": [repr(o).replace(folder, "") for o in engine.outcomes()]}


def play_incidents(script: list[tuple[int, tuple[Any, ...], int]], ruleset: str, heed: bool) -> dict[str, Any]:
    with hints(heed), tempfile.TemporaryDirectory() as folder:
        engine = open_engine(folder + "/store", ruleset)
        with engine:
            when = T0
            refusals = []
            for serial, (minutes, op, back) in enumerate(script):
                when += timedelta(minutes=minutes)
                if op[0] == "next":
                    op = natural(engine, op) or ("tick",)
                if op[0] == "tick":
                    engine.tick(when)
                    continue
                try:  # (``back``: recorded late, dated before what came before it)
                    engine.record(build(op[0], op[1], when - timedelta(minutes=back), op, serial))
                except EventRefused as refused:
                    refusals.append((serial, refused.reasons))
            engine.tick(when + timedelta(days=30))
            return results(engine, refusals, folder)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(late_ops, st.sampled_from(("ladder-unit.rules", "ladder-grid.rules")))
def test_incidents_give_the_same_results_with_and_without_the_hints(
        script: tuple[tuple[int, tuple[Any, ...], int], ...], ruleset: str) -> None:
    heeded = play_incidents(list(script), ruleset, heed=True)
    asked = play_incidents(list(script), ruleset, heed=False)
    assert heeded == asked


@st.composite
def task_streams(draw: st.DrawFn) -> list[tuple[list[Event], int]]:
    """Assignments and completions at random hours, in random batches (out of time order), each batch
    followed by a tick to a random hour."""
    events: list[Event] = []
    for task, start in (("t1", START), ("t2", START + timedelta(days=1)), ("t3", START + timedelta(hours=5))):
        events.append(sweep(task, when=start))
        for member in draw(st.lists(st.sampled_from(["worker1", "police1"]), unique=True)):
            events.append(done(member, start + timedelta(hours=draw(st.integers(1, 120))), task=task))
    order = draw(st.permutations(events))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(order) - 1), max_size=4))))
    return [(order[a:b], draw(st.integers(0, 150))) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]


def play_tasks(stream: list[tuple[list[Event], int]], heed: bool) -> dict[str, Any]:
    with hints(heed), tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "tasks.rules"
        rules.write_text(TASK_RULES, encoding="utf-8")
        with Engine.open(store=folder + "/store", community=small_community(), ruleset=rules,
                         effective=START - timedelta(days=1), clock=FixedClock(START + timedelta(days=30))) as engine:
            refusals = []
            for batch, hours in stream:
                summary = engine.record_many(batch)
                refusals.append([(r.event_id, r.reasons) for r in summary.refused])
                engine.tick(START + timedelta(hours=hours))
            engine.tick(START + timedelta(days=30))
            return results(engine, refusals, folder)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task_streams())
def test_tasks_give_the_same_results_with_and_without_the_hints(stream: list[tuple[list[Event], int]]) -> None:
    assert play_tasks(stream, heed=True) == play_tasks(stream, heed=False)
