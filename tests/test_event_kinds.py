"""``gridcore_event_kinds``: a plugin's per-event hooks see only the events it declared, with the same results.

A plugin that does not declare its kinds (a third party written before the
hook, or one that needs every event) keeps receiving every event; one that
declares them is called only for those, in pluggy's order among the others,
on every path the engine calls the hooks by (direct calls, pluggy with call
monitoring, a partial replay, a replay of the store).  The built-ins declare
theirs, and an ingest with their declarations leaves exactly what one
calling every plugin for every event leaves.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILTIN_PLUGINS, START, small_community
from test_checkpoint_properties import (
    CLOCK,
    CST,
    RULES,
    community,
    day_of_events,
    plugins,
    snapshot,
)
from thirdparty import install_plugin, uninstall

from gridcore import Engine, EventKinds, FixedClock, PluginError, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, Event, PatrolLogged, ResidentRegistered

PLUGIN_SOURCE = '''
from gridcore import EventKinds, hookimpl
from gridcore.events import ActivityRecorded

CALLS = []


class Everything:
    """Written before gridcore_event_kinds: it declares nothing, so it sees every event."""

    @hookimpl
    def gridcore_validate_event(self, event):
        CALLS.append(("everything", "validate", event.id))

    @hookimpl
    def gridcore_on_event(self, event, replaying):
        CALLS.append(("everything", "on_event", event.id, replaying))


class Patrols:
    """Judges patrols only (a kind, by name) and follows activities only (a class)."""

    @hookimpl
    def gridcore_event_kinds(self):
        return EventKinds(validate_event=["patrol_logged"], on_event=[ActivityRecorded])

    @hookimpl
    def gridcore_validate_event(self, event):
        CALLS.append(("patrols", "validate", event.id))
        return ["no patrols at night"] if event.time.hour < 6 else None

    @hookimpl
    def gridcore_on_event(self, event, replaying):
        CALLS.append(("patrols", "on_event", event.id, replaying))


@hookimpl
def gridcore_on_open(engine):
    engine.attach("everything", Everything())
    engine.attach("patrols", Patrols())
'''


@pytest.fixture
def kinds_plugin(tmp_path: Path) -> Any:
    site = tmp_path / "site"
    install_plugin(site, "gridcore-kinds", "gridcore_kinds", PLUGIN_SOURCE)
    import gridcore_kinds  # type: ignore[import-not-found]

    gridcore_kinds.CALLS.clear()
    yield gridcore_kinds
    uninstall(site, "gridcore_kinds")


def mixed(day: datetime) -> list[Event]:
    return [
        PatrolLogged(id="p1", time=day.replace(hour=9), actor="worker1", node="g1"),
        ActivityRecorded(id="a1", time=day.replace(hour=10), actor="res1", node="u11", activity="x"),
        ResidentRegistered(id="r1", time=day.replace(hour=11), actor="worker1", node="u11", person="res9"),
        PatrolLogged(id="p2", time=day.replace(hour=2), actor="worker1", node="g1"),  # refused by "patrols"
    ]


def test_a_plugin_that_declares_nothing_sees_every_event_and_one_that_declares_sees_its_kinds(
        kinds_plugin: Any, tmp_path: Path) -> None:
    calls = kinds_plugin.CALLS
    url = str(tmp_path / "s")
    with Engine.open(store=url, community=small_community(), clock=FixedClock(START + timedelta(days=2)),
                     plugins=get_plugin_manager(BUILTIN_PLUGINS)) as engine:
        summary = engine.record_many(mixed(START))
        assert [(r.event_id, r.reasons) for r in summary.refused] == [("p2", ["no patrols at night"])]
    # (in canonical order: p2, at 02:00, first; every plugin judges it, "patrols" refuses it)
    assert [c[1:] for c in calls if c[0] == "everything"] == [
        ("validate", "p2"), ("validate", "p1"), ("on_event", "p1", False), ("validate", "a1"),
        ("on_event", "a1", False), ("validate", "r1"), ("on_event", "r1", False)]
    assert [c[1:] for c in calls if c[0] == "patrols"] == [
        ("validate", "p2"), ("validate", "p1"), ("on_event", "a1", False)]

    # Opening again replays the store through states that save nothing: the same choice, replaying=True.
    calls.clear()
    with Engine.open(store=url, clock=FixedClock(START + timedelta(days=2)),
                     plugins=get_plugin_manager(BUILTIN_PLUGINS)) as engine:
        engine.state("patrols")
    assert [c[1:] for c in calls if c[0] == "patrols"] == [("on_event", "a1", True)]
    assert [c[1:] for c in calls if c[0] == "everything"] == [
        ("on_event", "p1", True), ("on_event", "a1", True), ("on_event", "r1", True)]


def test_declared_kinds_keep_pluggys_order_and_follow_registrations(tmp_path: Path) -> None:
    order: list[str] = []

    class Plain:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def gridcore_validate_event(self, event: Event) -> None:
            order.append(self.name)

    class Declared(Plain):
        @hookimpl
        def gridcore_event_kinds(self) -> EventKinds:
            return EventKinds(validate_event=[PatrolLogged])

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Plain("a"), Declared("b"), Plain("c")])
    patrol, activity = mixed(START)[:2]
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine:
        hooks, pm = engine.hooks, engine.plugins  # (the engine's own copy of the manager)
        pm.hook.gridcore_validate_event(engine=engine, event=patrol)  # pluggy itself, every plugin
        expected = list(order)
        order.clear()
        hooks.validate_event(engine, patrol)
        assert order == expected == ["c", "b", "a"]  # pluggy's order: the last registered first
        order.clear()
        hooks.validate_event(engine, activity)
        assert order == ["c", "a"]

        later = Declared("later")
        pm.register(later)  # routes worked out before are not used again
        order.clear()
        hooks.validate_event(engine, patrol)
        assert order == ["later", "c", "b", "a"]
        order.clear()
        hooks.validate_event(engine, activity)
        assert order == ["c", "a"]
        pm.unregister(later)

        # through pluggy (call monitoring on): the same choice, and pluggy traces the call
        traced: list[str] = []
        undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: traced.append(name), lambda *a: None)
        order.clear()
        hooks.validate_event(engine, activity)
        hooks.validate_event(engine, patrol)
        assert order == ["c", "a", "c", "b", "a"]
        assert [name for name in traced if name != "gridcore_event_kinds"] == ["gridcore_validate_event"] * 2
        undo()

        # a partial replay's hooks (some plugins left out) choose the same way
        skip = [p for p in pm.get_plugins() if isinstance(p, Plain) and p.name == "a"]
        order.clear()
        partial = hooks.without(skip)
        partial.validate_event(engine, activity)
        partial.validate_event(engine, patrol)
        assert order == ["c", "c", "b"]


def test_a_wrong_declaration_is_a_plugin_error_naming_the_plugin(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="collection"):
        EventKinds(validate_event="patrol_logged")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not 3"):
        EventKinds(on_event=[3])  # type: ignore[list-item]

    class Sloppy:
        @hookimpl
        def gridcore_event_kinds(self) -> list[str]:
            return ["patrol_logged"]

        @hookimpl
        def gridcore_on_event(self, event: Event) -> None:
            pass

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Sloppy()])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), clock=FixedClock(START),
                     plugins=pm) as engine, pytest.raises(PluginError, match=r"'Sloppy'.*gridcore_event_kinds"):
        engine.record(mixed(START)[0])


def test_the_builtins_declare_their_kinds(tmp_path: Path) -> None:
    """Not vacuous: a patrol reaches no built-in's validation and neither escalation's nor tasks' on_event."""
    with Engine.open(store=str(tmp_path / "s"), community=community(), clock=FixedClock(CLOCK),
                     plugins=plugins()) as engine:
        for name in ("points", "escalation", "assessment", "tasks"):
            engine.state(name)

        def owners(hook: str, cls: type) -> set[str]:
            return {type(function.__self__).__name__ for function, _ in engine.hooks._route(hook, cls)
                    if hasattr(function, "__self__")}

        assert owners("gridcore_validate_event", PatrolLogged) == set()
        assert owners("gridcore_on_event", PatrolLogged) == {"PointsState", "AssessmentState"}
        assert owners("gridcore_validate_event", ActivityRecorded) == {"PointsState"}
        incident = engine.codec.kinds["incident_reported"]
        assert owners("gridcore_validate_event", incident) == {"EscalationState"}
        assert owners("gridcore_on_event", incident) == {"PointsState", "AssessmentState", "EscalationState"}
        task = engine.codec.kinds["task_completed"]
        assert owners("gridcore_on_event", task) == {"PointsState", "AssessmentState", "TasksState"}


@pytest.mark.parametrize("seed", [2, 7])
def test_the_builtins_declarations_change_no_result(seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest with the built-ins' declarations leaves what calling every plugin for every event leaves:
    the log, the refusals and their reasons, derived events, states, outcomes, explanations."""
    events = list(day_of_events(seed))
    half = len(events) // 2
    staff = next(e for e in events if isinstance(e, PatrolLogged))
    when = events[half].time.isoformat()
    wrong = [  # refused by points, escalation and tasks (each for its own reason)
        {"kind": "points_redeemed", "id": "bad-r", "time": when, "actor": staff.actor, "node": staff.node,
         "reward": "a golden toaster"},
        {"kind": "incident_closed", "id": "bad-c", "time": when, "actor": staff.actor, "node": staff.node,
         "incident": "no-such-incident"},
        {"kind": "task_completed", "id": "bad-t", "time": when, "actor": staff.actor, "node": staff.node,
         "task": "no-such-task"},
    ]

    def ingest(folder: str) -> tuple[str, list[Any], list[Any]]:
        with Engine.open(store=str(tmp_path / folder), community=community(), ruleset=RULES,
                         effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                         plugins=plugins()) as engine:
            engine.checkpoint_min = 1
            engine.checkpoint_every = 50
            refused = []
            # the second half first: the first half then brings late events (rewinds)
            for chunk in (events[half:], [*events[:half], *wrong]):
                refused += [(r.event_id, r.reasons) for r in engine.record_many(chunk, batch_size=40).refused]
            log = [engine.codec.to_dict(e) for e in engine.events()]
            return snapshot(engine), refused, log

    declared = ingest("declared")
    with monkeypatch.context() as patch:
        patch.setattr(EventKinds, "wants", lambda self, hook, cls: True)  # every plugin sees every event
        everything = ingest("everything")
    assert {r[0] for r in declared[1]} >= {"bad-r", "bad-c", "bad-t"}
    assert declared[1] == everything[1]
    assert declared[2] == everything[2]
    assert any(doc["actor"] == "system" for doc in declared[2])  # derived events are compared too
    assert json.loads(declared[0]) == json.loads(everything[0])
