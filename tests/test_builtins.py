"""Adding a built-in plugin touches one table: pyproject.toml's [tool.gridcore] builtin-plugins."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from conftest import BUILTIN_PLUGINS, REPO, START, small_community

from gridcore import get_plugin_manager


def test_every_plugin_folder_is_in_the_table_and_nothing_else_is() -> None:
    folders = sorted(p.name for p in (REPO / "plugins").iterdir() if (p / "__init__.py").is_file())
    assert folders == sorted(BUILTIN_PLUGINS)


def test_the_installed_entry_points_follow_the_table() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="gridcore") if ep.dist and ep.dist.name == "gridcore"}
    assert found == {"rosters": "gridcore_app.rosters", "workbook": "gridcore_app.workbooks",
                     **{name: f"gridcore_{name}.plugin" for name in BUILTIN_PLUGINS}}
    pm = get_plugin_manager()
    for name in BUILTIN_PLUGINS:
        assert pm.get_plugin(name).__name__ == f"gridcore_{name}.plugin"


def test_no_other_packaging_file_names_a_builtin() -> None:
    """The mapping, package data and entry points are derived (setup.py), never listed again.

    The one exception is mypy's list of modules it cannot follow (it takes no
    gridcore_* pattern): it must name exactly the built-ins.
    """
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    unfollowed = {m for o in config["tool"]["mypy"]["overrides"] for m in o["module"] if m.startswith("gridcore_")}
    assert unfollowed == {m for name in BUILTIN_PLUGINS for m in (f"gridcore_{name}", f"gridcore_{name}.*")}
    mypy_part = re.compile(r"\[\[tool\.mypy\.overrides\]\].*?\n\n", re.DOTALL)
    for path in (REPO / "pyproject.toml", REPO / "setup.py", REPO / ".ci" / "run"):
        text = mypy_part.sub("", path.read_text(encoding="utf-8"))
        for name in BUILTIN_PLUGINS:
            assert not re.search(rf"gridcore_{name}\b|plugins/{name}\b", text), (path.name, name)


def test_the_built_ins_share_one_layout(tmp_path: Path) -> None:
    """The same module names for the same roles (docs/plugins.md, "The layout of a plugin").

    What each built-in registers comes from the module of its role: the
    section from section.py (its typed nodes from nodes.py, with policy.py and
    compiler.py beside), commands from commands.py, reports from reports.py,
    metrics from metrics.py, the state it attaches from state.py.
    """
    from gridcore import Engine, FixedClock
    from gridcore_app.cli import LazyCommand

    pm = get_plugin_manager()
    engine = Engine.open(store=str(tmp_path / "store"), community=small_community(), clock=FixedClock(START),
                         plugins=pm)
    states = {type(p).__module__ for p in engine.plugins.get_plugins() if not inspect.ismodule(p)}
    engine.close()
    for name in BUILTIN_PLUGINS:
        package = f"gridcore_{name}"
        plugin = pm.get_plugin(name)
        assert plugin.__name__ == f"{package}.plugin"  # the hooks
        hooks = {n for n in dir(plugin) if n.startswith("gridcore_")}
        for section in plugin.gridcore_register_sections() if "gridcore_register_sections" in hooks else ():
            assert importlib.import_module(f"{package}.section").SECTION is section, name
            assert type(section.transformer).__module__ == f"{package}.nodes", name
            for role in ("policy", "compiler"):
                assert importlib.util.find_spec(f"{package}.{role}") is not None, (name, role)
        for command in plugin.gridcore_register_commands() if "gridcore_register_commands" in hooks else ():
            assert isinstance(command, LazyCommand) and command.target.startswith(f"{package}.commands:"), name
        for report in plugin.gridcore_register_reports() if "gridcore_register_reports" in hooks else ():
            assert report.build.__module__ == f"{package}.reports", (name, report.name)
        for metric in plugin.gridcore_register_metrics() if "gridcore_register_metrics" in hooks else ():
            assert metric.compute.__module__.startswith((f"{package}.metrics", f"{package}.person_metrics")), (
                name, metric.name)
        if "gridcore_on_open" in hooks:
            assert f"{package}.state" in states, name
        for retired in ("cli", "items"):  # the names these roles had before
            assert importlib.util.find_spec(f"{package}.{retired}") is None, (name, retired)


def test_the_layout_table_names_the_modules_the_built_ins_share() -> None:
    """A module most built-ins have (four of five or more) is a role: docs/plugins.md's layout table lists it.

    A third-party author copies the layout from that table; a module every built-in keeps but the
    table leaves out (their Chinese help texts, their Chinese headings) is one the author never writes.
    """
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    table = text.split("## The layout of a plugin", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+\.py)` \|", table, re.MULTILINE))
    counts: dict[str, int] = {}
    for name in BUILTIN_PLUGINS:
        for path in (REPO / "plugins" / name).glob("*.py"):
            counts[path.name] = counts.get(path.name, 0) + 1
    shared = {module for module, n in counts.items() if n * 5 >= len(BUILTIN_PLUGINS) * 4} - {"__init__.py"}
    assert shared - listed == set(), f"docs/plugins.md's layout table lacks {sorted(shared - listed)}"
