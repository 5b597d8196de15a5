"""The plugin host: entry points, blocking, the hook facade, a third-party plugin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import START, small_community
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
    pm = get_plugin_manager(("points", "escalation", "assessment"))
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

    pm = get_plugin_manager(("points", "escalation", "assessment"), extra=[Dup()])
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
