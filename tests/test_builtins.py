"""Adding a built-in plugin touches one table: pyproject.toml's [tool.gridcore] builtin-plugins."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import entry_points

from conftest import BUILTIN_PLUGINS, REPO

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
