"""Packaging that follows the built-in plugin table in pyproject.toml ([tool.gridcore]).

Everything static lives in pyproject.toml; this file only derives, from the
list of built-in plugins, what setuptools needs to know about each one: the
folder plugins/<name>/ installed as the package gridcore_<name> (with its
grammar fragments and py.typed) and its entry point in the `gridcore` group.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
BUILTINS: list[str] = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["gridcore"][
    "builtin-plugins"
]
PLUGINS = {f"gridcore_{name}": f"plugins/{name}" for name in BUILTINS}
# What ships beside the modules: grammar fragments, py.typed (PEP 561), the
# application's templates and static files.
DATA = ["*.lark", "py.typed", "templates/*", "static/*"]
CORE = find_packages(include=["gridcore", "gridcore.*", "gridcore_app", "gridcore_app.*"])

setup(
    # plugins/<name>/ is importable as gridcore_<name>, so nothing claims the
    # top-level name "plugins" in site-packages.  gridcore_app/ holds the
    # application (command line, demo, simulator, what-if, roster files); the
    # core never imports it.
    package_dir={"": ".", **PLUGINS},
    packages=[*CORE, *PLUGINS],
    package_data={name: DATA for name in [*CORE, *PLUGINS]},
    entry_points={
        "console_scripts": ["gridcore = gridcore_app.cli:main"],
        # Built-in plugins are found exactly like third-party ones: through this group.
        "gridcore": [
            # The application's roster files (community.yaml + CSV) are a format plugin too.
            "rosters = gridcore_app.rosters",
            # Roster workbooks (.xlsx, one sheet per list) are a second format plugin.
            "workbook = gridcore_app.workbooks",
            *(f"{name} = gridcore_{name}.plugin" for name in BUILTINS),
        ],
        # Ruleset test cases (*_test.yaml beside a ruleset) run as pytest items
        # wherever gridcore is installed, so staff can run `pytest rulesets/`.
        "pytest11": ["gridcore-rules = gridcore_app.pytest_plugin"],
    },
)
