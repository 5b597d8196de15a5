"""The plugin host: entry points, blocking, the hook facade, a third-party plugin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import BUILTIN_PLUGINS, START, small_community
from thirdparty import install_plugin, uninstall

from gridcore import Engine, PluginError, get_plugin_manager
from gridcore.events import ActivityRecorded
from gridcore.plugin_host import Hooks
from gridcore_app.cli import main_group

PLUGIN_SOURCE = '''
import click
from gridcore import hookimpl
from gridcore.explain import Explanation
from gridcore.metrics import Metric, MetricValue
from gridcore.reports import Report, Table

CALLS = []


class Counter:
    def __init__(self):
        self.events = 0

    @hookimpl
    def gridcore_on_event(self, event, replaying):
        CALLS.append(("on_event", event.id, replaying))
        self.events += 1

    @hookimpl
    def gridcore_validate_event(self, event):
        CALLS.append(("validate", event.id))
        return []


@hookimpl
def gridcore_on_open(engine):
    CALLS.append(("on_open",))
    engine.attach("counter", Counter())


@hookimpl
def gridcore_on_close(engine):
    CALLS.append(("on_close",))


@hookimpl
def gridcore_on_ruleset_loaded(engine, ruleset, effective):
    CALLS.append(("ruleset", ruleset.name))


@hookimpl
def gridcore_explain(engine, decision):
    if decision.startswith("counter:"):
        return Explanation(decision=decision, summary="counted", result=engine.state("counter").events)
    return None


@hookimpl
def gridcore_collect_outcomes(engine):
    from gridcore.explain import Outcome
    return [Outcome(plugin="counter", subject="events", value=engine.state("counter").events)]


@hookimpl
def gridcore_register_metrics():
    def count(engine, node, start, end):
        n = sum(1 for e in engine.events(since=start, until=end)
                if engine.community.hierarchy.is_within(e.node, node))
        return MetricValue(float(n), {"events": n})
    return [Metric(name="event_count", title="Events", unit="events", compute=count)]


@hookimpl
def gridcore_register_reports():
    def build(engine, params):
        return Table(title="Counter", columns=("events",), rows=((engine.state("counter").events,),))
    return [Report(name="counter.total", description="How many events", build=build)]


@hookimpl
def gridcore_register_commands():
    @click.command()
    @click.argument("who")
    def hello(who):
        """Say hello."""
        click.echo(f"你好, {who}")
    return [hello]
'''


@pytest.fixture
def counter_plugin(tmp_path: Path) -> Iterator[Any]:
    site = tmp_path / "site"
    install_plugin(site, "gridcore-counter", "gridcore_counter", PLUGIN_SOURCE)
    import gridcore_counter  # type: ignore[import-not-found]

    gridcore_counter.CALLS.clear()
    yield gridcore_counter
    uninstall(site, "gridcore_counter")


def test_builtin_plugins_come_from_entry_points() -> None:
    names = dict(Hooks(get_plugin_manager()).describe_plugins())
    for name in ("points", "escalation", "assessment"):
        assert name in names and "entry point of gridcore" in names[name]
    assert "gridcore core" in names["gridcore.store.tinydb_store"]


def test_disabled_plugins_are_blocked() -> None:
    pm = get_plugin_manager(["points"])
    assert pm.get_plugin("points") is None
    assert pm.get_plugin("escalation") is not None


def test_each_manager_is_fresh() -> None:
    assert get_plugin_manager() is not get_plugin_manager()


def test_an_installed_third_party_plugin_is_called(counter_plugin: Any, tmp_path: Path) -> None:
    pm = get_plugin_manager(BUILTIN_PLUGINS)
    assert pm.get_plugin("gridcore-counter") is counter_plugin
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
        event = ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="clean_up")
        engine.record(event)
        assert engine.state("counter").events == 1
        assert engine.explain("counter:x").result == 1
        assert [o.value for o in engine.outcomes()] == [1]
        assert engine.metric("event_count", "g1", START, START + timedelta(days=1)).value == 1.0  # type: ignore[union-attr]
        assert engine.report("counter.total").rows == ((1,),)
    assert counter_plugin.CALLS == [("on_open",), ("validate", "a1"), ("on_event", "a1", False), ("on_close",)]


def test_a_third_party_command_and_report_reach_the_cli(counter_plugin: Any) -> None:
    runner = CliRunner()
    result = runner.invoke(main_group, ["hello", "网格员"])
    assert result.exit_code == 0, result.output
    assert "你好, 网格员" in result.output
    listing = runner.invoke(main_group, ["plugins"])
    assert "gridcore-counter" in listing.output and "entry point of gridcore-counter 1.0" in listing.output
    reports = runner.invoke(main_group, ["report"])
    assert "counter.total" in reports.output


def test_register_hooks_must_return_lists(tmp_path: Path) -> None:
    from gridcore import hookimpl

    class Bad:
        @hookimpl
        def gridcore_register_reports(self) -> Any:
            return "not a list"

    with pytest.raises(PluginError, match="must return a list"):
        Hooks(get_plugin_manager(extra=[Bad()])).register_reports()


def test_duplicate_event_kinds_are_refused(tmp_path: Path) -> None:
    from gridcore import hookimpl

    class Dup:
        @hookimpl
        def gridcore_register_event_types(self) -> Any:
            return [ActivityRecorded.__mro__[0]] if False else [type("Clash", (ActivityRecorded,), {"kind": "patrol_logged"})]

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Dup()])
    with pytest.raises((PluginError, TypeError)):
        Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm)


def test_unknown_store_scheme_is_a_clear_error(tmp_path: Path) -> None:
    from gridcore import StoreError

    with pytest.raises(StoreError, match="no storage backend"):
        Hooks(get_plugin_manager()).storage_backend("ftp://example/store")


def test_disabling_an_unknown_plugin_is_an_error() -> None:
    with pytest.raises(PluginError, match="cannot disable 'pointz': no such plugin"):
        get_plugin_manager(["pointz"])


def test_gridcore_load_community_reads_through_the_hook_and_refuses_unknown_formats(tmp_path: Path) -> None:
    from gridcore import Community, RosterError, hookimpl
    from gridcore.plugin_host import Hooks

    seen: list[Path] = []

    class Recorder:
        @hookimpl
        def gridcore_load_community(self, path: Path) -> Community | None:
            seen.append(path)
            return None  # not ours: the YAML/CSV reader answers

    folder = Path(__file__).parent / "data" / "community-mini"
    hooks = Hooks(get_plugin_manager(extra=[Recorder()]))
    community = hooks.load_community(folder)
    assert seen == [folder] and community.name
    with pytest.raises(RosterError):
        Hooks(get_plugin_manager(disabled=["rosters"])).load_community(folder)


# ---------------------------------------------------------------- a sturdy platform

BROKEN_SOURCE = '''
import gridcore_no_such_dependency  # the import every command would otherwise crash on
'''


@pytest.fixture
def broken_plugin(tmp_path: Path) -> Iterator[None]:
    site = tmp_path / "broken-site"
    install_plugin(site, "gridcore-broken", "gridcore_broken", BROKEN_SOURCE)
    yield
    uninstall(site, "gridcore_broken")


def test_a_plugin_that_fails_to_import_is_named_and_skipped(broken_plugin: None) -> None:
    from gridcore.plugin_host import PluginWarning

    with pytest.warns(PluginWarning, match="plugin 'gridcore-broken'"):
        pm = get_plugin_manager()
    assert [f.name for f in pm.failures] == ["gridcore-broken"]
    assert "ModuleNotFoundError" in pm.failures[0].error
    assert pm.get_plugin("points") is not None  # the others still load
    with pytest.raises(PluginError, match="plugin 'gridcore-broken' .* could not be loaded: ModuleNotFoundError"):
        get_plugin_manager(strict=True)


#: The guide's plugin in five minutes (docs/plugins.md) copied into a module as it stands: its hooks are
#: methods of classes, so registering the module registers no hook at all.
HOOKLESS_SOURCE = '''
from gridcore import hookimpl


class Counter:
    def __init__(self):
        self.seen = []

    @hookimpl
    def gridcore_on_event(self, event, replaying):
        self.seen.append(event.id)


class CounterPlugin:
    @hookimpl
    def gridcore_on_open(self, engine):
        engine.attach("counter", Counter())
'''


def test_a_plugin_that_implements_no_hook_is_named_and_skipped_with_how_to_name_its_hooks(tmp_path: Path) -> None:
    """An entry point naming a module whose hooks sit in a class loaded, was listed as a plugin and did nothing;
    it is a failure now, saying how to name an object holding the hooks, and named so it works."""
    from gridcore.plugin_host import PluginWarning

    site = tmp_path / "hookless-site"
    install_plugin(site, "gridcore-hookless", "gridcore_hookless", HOOKLESS_SOURCE)
    try:
        with pytest.warns(PluginWarning, match="plugin 'gridcore-hookless'"):
            pm = get_plugin_manager()
        (failure,) = [f for f in pm.failures if f.name == "gridcore-hookless"]
        assert "implements no gridcore hook" in failure.error and "gridcore_hookless:plugin" in failure.error
        assert "没有实现任何 gridcore 钩子" in failure.error
        assert not pm.has_plugin("gridcore-hookless") and pm.get_plugin("points") is not None
        with pytest.raises(PluginError, match="plugin 'gridcore-hookless' .* implements no gridcore hook"):
            get_plugin_manager(strict=True)
        listing = CliRunner().invoke(main_group, ["plugins"]).output
        line = next(row for row in listing.splitlines() if row.startswith("gridcore-hookless"))
        assert "FAILED to load" in line and "implements no gridcore hook" in line
    finally:
        uninstall(site, "gridcore_hookless")

    site = tmp_path / "named-site"
    install_plugin(site, "gridcore-named", "gridcore_named", HOOKLESS_SOURCE + "\n\nplugin = CounterPlugin()\n",
                   target="gridcore_named:plugin")
    try:
        pm = get_plugin_manager()
        assert pm.has_plugin("gridcore-named") and not [f for f in pm.failures if f.name == "gridcore-named"]
        with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
            engine.record(ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="x"))
            assert engine.state("counter").seen == ["a1"]
    finally:
        uninstall(site, "gridcore_named")


def test_the_cli_still_works_and_lists_a_broken_plugin(broken_plugin: None) -> None:
    runner = CliRunner()
    listing = runner.invoke(main_group, ["plugins"])
    assert listing.exit_code == 0, listing.output
    assert listing.exception is None or isinstance(listing.exception, SystemExit)
    line = next(row for row in listing.output.splitlines() if row.startswith("gridcore-broken"))
    assert "FAILED to load" in line and "No module named 'gridcore_no_such_dependency'" in line
    assert "warning: plugin 'gridcore-broken'" in listing.output and "警告：插件" in listing.output
    assert "Traceback" not in listing.output
    # Other commands run (the plugin is skipped); --strict-plugins refuses, naming it.
    assert runner.invoke(main_group, ["report"]).exit_code == 0
    strict = runner.invoke(main_group, ["--strict-plugins", "report"])
    assert strict.exit_code == 1
    assert "plugin 'gridcore-broken'" in strict.output and "could not be loaded" in strict.output
    assert "Traceback" not in strict.output


def test_plugins_can_be_disabled_on_the_command_line() -> None:
    runner = CliRunner()
    assert "points" in runner.invoke(main_group, ["--help"]).output
    for args in (["-p", "no:points"], ["--disable", "points"]):
        helped = runner.invoke(main_group, [*args, "--help"])
        commands = helped.output.split("Commands (命令):")[1]
        assert "\n  points " not in commands and "\n  incidents " in commands, args
        listing = runner.invoke(main_group, [*args, "plugins"]).output
        assert re.search(r"^points\s+disabled$", listing, re.MULTILINE), listing
        assert "points.board" not in runner.invoke(main_group, [*args, "report"]).output
    wrong = runner.invoke(main_group, ["-p", "points", "plugins"])
    assert wrong.exit_code == 2 and "write -p no:NAME" in wrong.output
    unknown = runner.invoke(main_group, ["-p", "no:pointz", "plugins"])
    assert unknown.exit_code == 1 and "cannot disable 'pointz': no such plugin" in unknown.output


def test_an_environment_variable_pins_the_plugin_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcore.plugin_host import PLUGINS_ENV

    monkeypatch.setenv(PLUGINS_ENV, "points, rosters")
    listing = CliRunner().invoke(main_group, ["plugins"]).output
    loaded = {row.split()[0] for row in listing.splitlines() if "entry point of" in row and "disabled" not in row}
    assert loaded == {"points", "rosters"}
    assert re.search(r"^escalation\s+disabled$", listing, re.MULTILINE)
    monkeypatch.setenv(PLUGINS_ENV, "points,pointz")
    refused = CliRunner().invoke(main_group, ["plugins"])
    assert refused.exit_code == 1 and "cannot choose 'pointz'" in refused.output


def test_an_exception_in_a_hook_names_the_plugin_and_the_hook(tmp_path: Path) -> None:
    from gridcore import hookimpl

    class Careless:
        @hookimpl
        def gridcore_on_event(self, event: Any) -> None:
            if event.id == "a2":
                {}["missing"]

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Careless()])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
        engine.record(ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="x"))
        with pytest.raises(PluginError) as caught:
            engine.record(ActivityRecorded(id="a2", time=START, actor="res1", node="u11", activity="x"))
        assert str(caught.value) == ("plugin 'Careless' failed in gridcore_on_event on event a2 (activity_recorded): "
                                     "KeyError: 'missing' (插件 'Careless' 处理事件 a2 时出错)")
        assert (caught.value.plugin, caught.value.event) == ("Careless", "a2")
        assert isinstance(caught.value.__cause__, KeyError)  # the traceback is kept for its author
        assert engine.store.count() == 1


FAILING_SOURCE = '''
from gridcore import hookimpl


class Failing:
    @hookimpl
    def gridcore_on_event(self, event):
        if event.id == "bad":
            raise RuntimeError("cannot count this one")


@hookimpl
def gridcore_on_open(engine):
    engine.attach("failing", Failing())
'''


def test_an_ingest_a_plugin_fails_in_names_the_line_and_loses_nothing(tmp_path: Path) -> None:
    """A third-party plugin that raises on one event of a long file: the ingest (a real ``gridcore``
    process) says at which line and in which plugin it stopped, and how to go on, in English and
    Chinese; ingested again without the plugin, every line is stored once."""
    import json
    import os
    import subprocess
    import sys

    site = tmp_path / "site"
    install_plugin(site, "gridcore-failing", "gridcore_failing", FAILING_SOURCE)
    uninstall(site, "gridcore_failing")  # (installed for the processes below only)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    store = f"sqlite:///{tmp_path / 'd.db'}"
    community = Path(__file__).parent / "data" / "community-mini"

    def gridcore(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(Path(sys.executable).with_name("gridcore")), *args], env=env, cwd=tmp_path,
                              check=False, capture_output=True, text=True, timeout=300)

    assert gridcore("init", "--community", str(community), "--store", store).returncode == 0
    ids = [f"p{n:04}" for n in range(250)] + ["bad"] + [f"q{n}" for n in range(5)]
    with (tmp_path / "events.jsonl").open("w", encoding="utf-8") as out:
        for n, ident in enumerate(ids):
            out.write(json.dumps({"kind": "patrol_logged", "id": ident, "actor": "m03", "node": "g1",
                                  "time": (START + timedelta(minutes=n)).isoformat()}) + "\n")
    stopped = gridcore("ingest", "events.jsonl", "--store", store, "--batch-size", "100")
    assert stopped.returncode == 1
    assert ("ingest stopped at events.jsonl:251: plugin 'gridcore-failing' failed in gridcore_on_event on event "
            "bad (patrol_logged): RuntimeError: cannot count this one") in stopped.stderr
    assert "gridcore -p no:gridcore-failing" in stopped.stderr
    assert "导入于 events.jsonl:251 中止" in stopped.stderr and "Traceback" not in stopped.stderr
    again = gridcore("-p", "no:gridcore-failing", "ingest", "events.jsonl", "--store", store)
    assert again.returncode == 0, again.stderr
    stored, already = (int(n) for n in re.findall(r"(\d+) stored, (\d+) already stored", again.stdout)[0])
    assert stored + already == len(ids) and already == 200   # the two whole batches before the failure
    with Engine.open(store=store, read_only=True, plugins=get_plugin_manager(BUILTIN_PLUGINS)) as engine:
        assert sorted(e.id for e in engine.events()) == sorted(ids)


def test_contract_breaches_name_the_plugin_not_a_number() -> None:
    from gridcore import hookimpl

    class Misfit:
        @hookimpl
        def gridcore_on_event(self, event: Any, colour: str) -> None: ...

    with pytest.raises(PluginError) as caught:
        get_plugin_manager(load_entry_points=False, extra=[Misfit()])
    assert "plugin 'Misfit' for hook 'gridcore_on_event'" in str(caught.value)
    assert "colour" in str(caught.value)

    class Typo:
        @hookimpl
        def gridcore_on_evnt(self, event: Any) -> None: ...

    with pytest.raises(PluginError, match=r"plugin 'Typo' implements 'gridcore_on_evnt', which is not a "
                                          r"gridcore hook \(did you mean gridcore_on_event\?\)"):
        get_plugin_manager(load_entry_points=False, extra=[Typo()])


def test_two_engines_from_one_manager_keep_their_own_state(tmp_path: Path) -> None:
    import gridcore_points

    pm = get_plugin_manager()
    community = small_community()
    rules = Path(__file__).parent / "data" / "engine" / "cleanup.rules"
    first = Engine.open(store=str(tmp_path / "a"), community=community, plugins=pm, ruleset=rules, effective=START)
    second = Engine.open(store=str(tmp_path / "b"), community=community, plugins=pm, ruleset=rules, effective=START)
    with first, second:
        first.record(ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="clean_up", hours=2))
        assert first.state("points") is not second.state("points")
        assert gridcore_points.entries(second, "res1") == []
        assert gridcore_points.entries(first, "res1") != []


def test_a_stored_section_no_loaded_plugin_reads_is_reported_on_open(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    rules = Path(__file__).parent / "data" / "engine" / "cleanup.rules"
    with Engine.open(store=store, community=small_community(), ruleset=rules, effective=START) as engine:
        assert engine.warnings == []
        sections = set(engine.ruleset.items)  # type: ignore[union-attr]
    assert "points" in sections
    with Engine.open(store=store, plugins=get_plugin_manager(["points"])) as engine:
        assert len(engine.warnings) == 1
        assert "section 'points' that no loaded plugin reads" in engine.warnings[0]
        assert "栏目 'points'" in engine.warnings[0]
    result = CliRunner().invoke(main_group, ["-p", "no:points", "report", "escalation.open", "--store", store])
    assert result.exit_code == 0, result.output
    assert "warning: the stored ruleset" in result.output and "'points'" in result.output


def test_the_cli_says_which_plugin_failed_and_shows_the_traceback_on_request(tmp_path: Path) -> None:
    site = tmp_path / "oops-site"
    install_plugin(site, "gridcore-oops", "gridcore_oops", '''
from gridcore import hookimpl

@hookimpl
def gridcore_register_reports():
    return [1 / 0]
''')
    try:
        runner = CliRunner()
        result = runner.invoke(main_group, ["report"])
        assert result.exit_code == 1
        assert "plugin 'gridcore-oops' failed in gridcore_register_reports: ZeroDivisionError" in result.output
        assert "Traceback" not in result.output
        debug = runner.invoke(main_group, ["--traceback", "report"])
        assert isinstance(debug.exception, PluginError)
        assert isinstance(debug.exception.__cause__, ZeroDivisionError)
    finally:
        uninstall(site, "gridcore_oops")


def test_a_failing_report_or_metric_is_a_plugin_error_naming_it(tmp_path: Path) -> None:
    from gridcore import Report, hookimpl
    from gridcore.metrics import Metric

    def broken(*args: Any) -> Any:
        raise ValueError("no such column")

    class Faulty:
        @hookimpl
        def gridcore_register_reports(self) -> list[Report]:
            return [Report(name="faulty.table", description="breaks", build=broken)]

        @hookimpl
        def gridcore_register_metrics(self) -> list[Metric]:
            return [Metric(name="faulty_rate", title="breaks", unit="", compute=broken)]

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Faulty()])
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
        with pytest.raises(PluginError, match="report 'faulty.table' failed: ValueError: no such column"):
            engine.report("faulty.table")
        with pytest.raises(PluginError, match="metric 'faulty_rate' failed: ValueError: no such column"):
            engine.metric("faulty_rate", "g1", START, START + timedelta(days=1))


def test_an_event_whose_plugin_is_not_loaded_is_refused_not_stored(tmp_path: Path) -> None:
    from gridcore import EventError
    from gridcore_escalation.events import IncidentReported

    report = IncidentReported(id="r1", time=START, actor="res1", node="u11", incident="i1", category="fire")
    with Engine.open(store=str(tmp_path / "s"), community=small_community(),
                     plugins=get_plugin_manager(BUILTIN_PLUGINS)) as engine:
        with pytest.raises(EventError, match="incident_reported: no loaded plugin registers this event kind"):
            engine.record(report)
        assert engine.store.count() == 0
    with Engine.open(store=str(tmp_path / "s")) as engine:  # escalation loaded: the same event is fine
        assert engine.record(report) is True


def test_per_event_hooks_are_called_as_pluggy_would_and_follow_registrations(tmp_path: Path) -> None:
    """The engine's direct calls of per-event hooks keep pluggy's order, arguments and answers."""
    from gridcore import hookimpl

    calls: list[str] = []

    class Plain:
        @hookimpl
        def gridcore_validate_event(self, event: Any) -> list[str] | None:  # fewer arguments than the spec
            calls.append("plain")
            return ["plain says no"] if event.id == "no" else None

    class First:
        @hookimpl(tryfirst=True)
        def gridcore_validate_event(self, event: Any, engine: Any) -> list[str]:  # another order
            assert isinstance(engine, Engine)
            calls.append("first")
            return ["first says no"] if event.id == "no" else []

    class Last:
        @hookimpl(trylast=True)
        def gridcore_validate_event(self, engine: Any, event: Any) -> None:
            calls.append("last")

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Last(), Plain(), First()])
    hooks = Hooks(pm)
    event = ActivityRecorded(id="no", time=START, actor="res1", node="u11", activity="x")
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
        expected = pm.hook.gridcore_validate_event(engine=engine, event=event)
        order = list(calls)
        calls.clear()
        assert hooks.validate_event(engine, event) == [r for answer in expected if answer for r in answer]
        assert calls == order == ["first", "plain", "last"]

        class Later:
            @hookimpl
            def gridcore_validate_event(self, event: Any) -> list[str]:
                calls.append("later")
                return ["later says no"]

        calls.clear()
        later = Later()
        pm.register(later)  # a plan made before is not used again
        assert hooks.validate_event(engine, event) == ["first says no", "later says no", "plain says no"]
        assert calls == ["first", "later", "plain", "last"]
        pm.unregister(later)
        calls.clear()
        assert hooks.validate_event(engine, event) == ["first says no", "plain says no"]

        # with pluggy's tracing on, calls go through pluggy (which traces them; the plugins' declared
        # kinds, gridcore_event_kinds, are asked again then, through pluggy too)
        traced: list[str] = []
        undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: traced.append(name), lambda *a: None)
        hooks.validate_event(engine, event)
        assert [name for name in traced if name != "gridcore_event_kinds"] == ["gridcore_validate_event"]
        undo()
        traced.clear()
        hooks.validate_event(engine, event)
        assert traced == []


@pytest.mark.parametrize("traced", [False, True])
def test_a_tick_answer_that_is_no_list_is_refused_once_every_plugin_was_asked(tmp_path: Path, traced: bool) -> None:
    """``Hooks.on_tick`` (called before every event) gives every plugin's due events in pluggy's order, and
    refuses an answer that is no list only after asking every plugin, as pluggy's call does (with tracing
    on, the call goes through pluggy)."""
    from gridcore import hookimpl

    asked: list[str] = []
    wrong: list[Any] = []
    due = ActivityRecorded(id="due", time=START, actor="res1", node="u11", activity="x")

    class Early:
        @hookimpl(tryfirst=True)
        def gridcore_on_tick(self, now: Any) -> Any:
            asked.append("early")
            return wrong[0] if wrong else ()

    class Plain:
        @hookimpl
        def gridcore_on_tick(self, engine: Any, now: Any) -> list[Any]:
            asked.append("plain")
            return [due] if now >= START else []

    class Late:
        @hookimpl(trylast=True)
        def gridcore_on_tick(self, now: Any, engine: Any) -> None:
            asked.append("late")

    pm = get_plugin_manager(BUILTIN_PLUGINS, extra=[Late(), Plain(), Early()])
    hooks = Hooks(pm)
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), plugins=pm) as engine:
        undo = pm.add_hookcall_monitoring(lambda *a: None, lambda *a: None) if traced else None
        expected = [e for answer in pm.hook.gridcore_on_tick(engine=engine, now=START) if answer for e in answer]
        asked.clear()
        assert hooks.on_tick(engine, START) == expected == [due]
        assert asked == ["early", "plain", "late"]
        asked.clear()
        assert hooks.on_tick(engine, START - timedelta(days=1)) == []
        for answer in ("no list", 0, {"a": due}):
            wrong[:] = [answer]
            asked.clear()
            with pytest.raises(PluginError, match=f"gridcore_on_tick must return a list, got {type(answer).__name__}$"):
                hooks.on_tick(engine, START)
            assert asked == ["early", "plain", "late"]
        if undo is not None:
            undo()
