"""A built-in plugin imports only the core API the plugin guide lists (docs/plugins.md).

The table under "What a plugin may import" is read from the guide itself, so
the guide and this test cannot drift apart: a built-in that imports another
name of gridcore, another plugin's modules (its published ``events`` module
aside) or Lark (whose trees never reach a plugin) fails here, naming the file,
the line and what it imported.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from conftest import BUILTIN_PLUGINS, REPO

GUIDE = REPO / "docs" / "plugins.md"
PUBLIC = "public"


def allowed() -> dict[str, set[str] | str]:
    """Module -> the names a plugin may import from it (or ``PUBLIC``), from the guide's table."""
    text = GUIDE.read_text(encoding="utf-8")
    table = text.split("## What a plugin may import", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str] | str] = {}
    for row in re.findall(r"^\| (.+?) \| (.+?) \|$", table, re.MULTILINE):
        modules = [m for m in re.findall(r"`([\w.]+)`", row[0]) if m.startswith("gridcore")]
        cell = row[1]
        for module in modules:
            if cell.startswith("public"):
                out[module] = PUBLIC
            elif f"`{module}.__all__`" in cell:
                out[module] = set(importlib.import_module(module).__all__)
            else:
                out[module] = {n for n in re.findall(r"`(\w+)`", cell)}
        for dotted in re.findall(r"`(gridcore[\w]*(?:\.\w+)+)`", cell):  # a module's name given in full
            module, name = dotted.rsplit(".", 1)
            if module not in modules:
                names = out.setdefault(module, set())
                if isinstance(names, set):
                    names.add(name)
    return out


def imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every import in a file, ``""`` as the name of ``import module``."""
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, "") for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.lineno, node.module, alias.name) for alias in node.names)
    return found


def problem(plugin: str, module: str, name: str, table: dict[str, set[str] | str]) -> str | None:
    """Why importing ``name`` from ``module`` is not a plugin's to do, or None."""
    if module == f"gridcore_{plugin}" or module.startswith(f"gridcore_{plugin}."):
        return None
    if module == "lark" or module.startswith("lark."):
        return "Lark is the core's: a plugin reads typed nodes"
    other = re.match(r"gridcore_(\w+)", module)
    if other and other.group(1) in BUILTIN_PLUGINS and not module.startswith("gridcore_app"):
        return None if module.endswith(".events") and module.count(".") == 1 else "another plugin's module"
    if not module.startswith("gridcore"):
        return None
    if module == "gridcore" and name == "":
        return None  # ``import gridcore``: its attributes are checked below
    if f"{module}.{name}" in table:
        return None  # a listed module, imported from its package (``from gridcore.rules import ast``)
    names = table.get(module)
    if names is None:
        return "a module the guide does not list"
    if names == PUBLIC:
        return "a private name" if name.startswith("_") else None
    return None if name in names else "a name the guide does not list"


@pytest.mark.parametrize("plugin", BUILTIN_PLUGINS)
def test_a_built_in_imports_only_the_listed_core_api(plugin: str) -> None:
    table = allowed()
    assert {"gridcore", "gridcore.rules", "gridcore.events", "gridcore_app.cli"} <= set(table)
    wrong: list[str] = []
    for path in sorted((REPO / "plugins" / plugin).glob("*.py")):
        for line, module, name in imports(path):
            why = problem(plugin, module, name, table)
            if why is not None:
                wrong.append(f"{path.relative_to(REPO)}:{line}: {module} {name}: {why}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # gridcore.X after ``import gridcore``
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "gridcore"
                    and node.attr not in table["gridcore"] and node.attr != "__version__"):
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno}: gridcore.{node.attr}: not in gridcore.__all__")
    assert wrong == []


def test_the_check_finds_what_it_should() -> None:
    table = allowed()
    assert problem("points", "gridcore.engine", "Engine", table) == "a module the guide does not list"
    assert problem("points", "gridcore.rules", "_Reader", table) == "a name the guide does not list"
    assert problem("points", "gridcore.rules.ast", "_private", table) == "a private name"
    assert problem("points", "gridcore_escalation.state", "X", table) == "another plugin's module"
    assert problem("points", "lark", "Tree", table) is not None
    assert problem("points", "gridcore_escalation.events", "IncidentClosed", table) is None
    assert problem("points", "gridcore_escalation.events", "category_code", table) is None
    assert problem("assessment", "gridcore.plugin_host", "get_plugin_manager", table) == \
        "a module the guide does not list"
    assert problem("points", "gridcore_points.ledger", "Ledger", table) is None
    assert problem("points", "gridcore_app.cli", "lazy_command", table) is None


def test_the_guide_s_examples_import_only_what_the_guide_lists() -> None:
    """A plugin author copies the guide's examples: they import from gridcore only the names its table lists
    (the storage and roster examples once reached ``gridcore.plugin_host.Hooks``, which it does not)."""
    table = allowed()
    text = GUIDE.read_text(encoding="utf-8")
    wrong: list[str] = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        first = text.count("\n", 0, match.start()) + 2
        for node in ast.walk(ast.parse(match.group(1))):
            found: list[tuple[str, str]] = []
            if isinstance(node, ast.Import):
                found = [(alias.name, "") for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [(node.module, alias.name) for alias in node.names]
            for module, name in found:
                why = problem("guide", module, name, table)
                if why is not None:
                    wrong.append(f"docs/plugins.md:{first + node.lineno - 1}: {module} {name}: {why}")
    assert wrong == []
