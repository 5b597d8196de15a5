"""editors/vscode: the extension starts a real ``gridcore lsp`` the way VS Code does, and stops it.

``extension.js`` is run by Node (tests/vscode_host.js), which plays VS Code's
part (the ``vscode`` module: the user's settings, the editor's language).  The
language client is a small stand-in that launches the server as
``vscode-languageclient`` does (a command with ``transport: stdio`` gets
``--stdio`` appended, which ``gridcore lsp`` did not accept: the extension could
never start), and, when Node can find it (``npm install`` in editors/vscode, or
``GRIDCORE_TEST_VSCODE_MODULES=<a node_modules folder>``), the real
``vscode-languageclient`` too.  VS Code itself is not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lspclient import gridcore_command

REPO = Path(__file__).resolve().parent.parent
EXTENSION = REPO / "editors" / "vscode"
HOST = Path(__file__).with_name("vscode_host.js")
NODE = shutil.which("node")
MODULES = os.environ.get("GRIDCORE_TEST_VSCODE_MODULES", "")
REAL_CLIENT = bool(MODULES) or (EXTENSION / "node_modules" / "vscode-languageclient").is_dir()
#: A ruleset with one mistake: a number written in words.
RULES = "ruleset x\npoints:\n  activity 扫地: five per hour\n"

needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def run_extension(tmp_path: Path, *, language: str, editor_language: str, client: str) -> list[dict[str, Any]]:
    found = gridcore_command()
    if len(found) != 1:
        pytest.skip("no gridcore script beside this interpreter to give the extension as gridcore.command")
    command = found[0]
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"command": command, "language": language, "editorLanguage": editor_language}),
                        encoding="utf-8")
    rules = tmp_path / "x.rules"
    rules.write_text(RULES, encoding="utf-8")
    env = {**os.environ, "GRIDCORE_VSCODE_CLIENT": client}
    if MODULES:
        env["NODE_PATH"] = MODULES
    assert NODE is not None
    done = subprocess.run([NODE, str(HOST), str(EXTENSION / "extension.js"), str(settings), str(rules)],
                          check=False, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, (steps, done.stderr)
    return steps


def step(steps: list[dict[str, Any]], key: str) -> Any:
    return next(s[key] for s in steps if key in s)


def test_the_package_declares_what_the_extension_uses() -> None:
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    source = (EXTENSION / "extension.js").read_text(encoding="utf-8")
    assert package["main"] == "./extension.js"
    [language] = package["contributes"]["languages"]
    assert f'language: "{language["id"]}"' in source and language["extensions"] == [".rules"]
    assert package["contributes"]["grammars"][0]["language"] == language["id"]
    assert set(package["contributes"]["configuration"]["properties"]) == {"gridcore.command", "gridcore.language"}
    assert 'require("vscode-languageclient/node")' in source and "vscode-languageclient" in package["dependencies"]


@needs_node
def test_the_extension_starts_the_server_checks_in_the_editors_language_and_stops_it(tmp_path: Path) -> None:
    steps = run_extension(tmp_path, language="", editor_language="zh-cn", client="stand-in")
    assert step(steps, "client") == "stand-in"
    launched = step(steps, "spawned")
    assert launched["args"] == ["lsp", "--stdio"] and launched["command"].endswith("gridcore")
    [problem] = step(steps, "diagnostics")
    assert problem["code"] == "number-in-words" and problem["range"]["start"] == {"line": 2, "character": 15}
    assert problem["message"].startswith("这里应是数字（用阿拉伯数字）")  # the editor speaks Chinese
    assert step(steps, "stopped") == {"code": 0}


@needs_node
@pytest.mark.skipif(not REAL_CLIENT, reason="vscode-languageclient is not installed (npm install in editors/vscode, "
                                            "or GRIDCORE_TEST_VSCODE_MODULES=<node_modules>)")
def test_with_the_real_language_client_the_setting_chooses_the_language(tmp_path: Path) -> None:
    steps = run_extension(tmp_path, language="en", editor_language="zh-cn", client="real")
    assert step(steps, "client") == "vscode-languageclient"
    assert step(steps, "spawned")["args"] == ["lsp", "--stdio"]
    [problem] = step(steps, "diagnostics")
    assert problem["message"].startswith("a number is expected here, written with digits")
    assert step(steps, "stopped") == {"code": 0}
