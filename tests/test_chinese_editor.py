"""Chinese throughout what an editor shows: ``gridcore lsp`` in a Chinese-language session (a real client
session: a subprocess, JSON-RPC over its pipes) and ``gridcore schema``'s descriptions.

The sweep is ``zhsweep.english_words``: the rules language's keywords, in either language, and the names a
ruleset or roster defines are names staff wrote and may stay; so may quoted source (a hover's example, in a
code block).  An English session is as it was.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lspclient import LspClient
from zhsweep import english_words

from gridcore.errors import has_chinese
from gridcore_app.cli import main_group
from gridcore_app.rosterio import load_community

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"
#: mistakes whose diagnostics the session shows: a missing colon, an unknown item, a number in words,
#: an unknown name
BROKEN = '\npoints:\n  activity 扫雪 4 per hour\n  earn x: five points\n  activity 巡逻: four per hour\n' \
         'escalation:\n  incident fire_hazard: start at grid, route to fier\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Yinquan's ruleset beside its roster, extending the district base."""
    here = tmp_path_factory.mktemp("editor")
    for item in YINQUAN.iterdir():
        if item.suffix in (".csv", ".yaml", ".geojson", ".rules") and not item.name.endswith("_test.yaml"):
            shutil.copy(item, here / item.name)
    return here


def _names() -> frozenset[str]:
    """Every keyword of the rules language and its sections (English and Chinese forms), the sections' names,
    the variables rules read (``member``, ``event``) and their fields."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks
    from gridcore_app.lsp.knowledge import keywords

    sections = Hooks(get_plugin_manager()).register_sections()
    forms = {word for form, _, _ in keywords(sections) for word in re.findall(r"[A-Za-z_]+", form)}
    described = [v for s in sections for v in s.variables.values() if isinstance(v, dict)]
    variables = {v["name"] for v in described} | {f["name"] for v in described for f in v.get("fields", ())}
    return frozenset(forms | variables | {s.name for s in sections})


@pytest.fixture(scope="module")
def session(folder: Path) -> Iterator[LspClient]:
    """A Chinese-language session (``initializationOptions {"lang": "zh"}``) on a machine in English."""
    client = LspClient(env={"LANG": "en_US.UTF-8"})
    client.initialize(folder, lang="zh")
    yield client
    assert client.close() == 0


def _items(result: Any) -> list[dict[str, Any]]:
    return list(result["items"] if isinstance(result, dict) else result)


def _shown(client: LspClient, uri: str, text: str) -> list[tuple[str, str]]:
    """What the session shows of ``text``: (where, what) for each completion's detail, each hover (outside its
    code blocks) over every word, each document symbol's detail."""
    shown: list[tuple[str, str]] = []
    for item in _items(client.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}})):
        shown += [(f"completion {item['label']}", item.get("detail") or ""),
                  (f"completion {item['label']}", (item.get("labelDetails") or {}).get("description") or "")]
    seen: set[str] = set()
    asked: set[str] = set()
    for at, line in enumerate(text.splitlines()):
        for word in re.finditer(r"[A-Za-z_\u4e00-\u9fff]+", line):
            if word.group() in asked:
                continue
            asked.add(word.group())
            hover = client.request("textDocument/hover", {
                "textDocument": {"uri": uri}, "position": {"line": at, "character": word.start()}})
            value = hover["contents"]["value"] if hover else ""
            if value and value not in seen:
                seen.add(value)
                shown += [(f"hover {word.group()}", said) for said in re.sub(r"```.*?```", "", value, flags=re.DOTALL)
                          .splitlines()]

    def walk(symbols: list[dict[str, Any]]) -> None:
        for symbol in symbols:
            shown.append((f"symbol {symbol['name']}", symbol.get("detail") or ""))
            walk(symbol.get("children") or [])

    walk(client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}))
    return shown


def test_a_chinese_session_shows_no_english_word(session: LspClient, folder: Path) -> None:
    """Diagnostics, hovers over every word of Yinquan's ruleset, completions' details and document symbols'
    details, in a Chinese session: no English word but keywords, names, ids and quoted source."""
    path = folder / "yinquan.rules"
    text = path.read_text(encoding="utf-8")
    uri = session.open(path, text)
    assert session.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    shown = _shown(session, uri, text)
    assert len(shown) > 300, len(shown)  # every completion, every hover, every symbol
    # the names the ruleset and the roster define (offered as completions), and the roster's role ids
    defined = {item["label"] for item in _items(session.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}}))}
    names = _names() | defined | set(load_community(folder).roles)
    found = [f"{where}: {said}  <- {words}" for where, said in shown if (words := english_words(said, names))]
    assert found == []
    session.change(uri, text + BROKEN, 2)
    messages = [d["message"] for d in session.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]]
    assert len(messages) >= 3, messages
    found = [f"{line}  <- {words}" for message in messages for line in message.splitlines()
             if (words := english_words(line, names))]
    assert found == [] and all(has_chinese(message.splitlines()[0]) for message in messages), messages


def test_an_english_session_shows_what_it_showed(folder: Path) -> None:
    """In English, completions' details, a hover's section and a symbol's detail are as they were."""
    client = LspClient(env={"LANG": "en_US.UTF-8"})
    try:
        client.initialize(folder)
        path = folder / "yinquan.rules"
        uri = client.open(path, path.read_text(encoding="utf-8"))
        client.wait_for("textDocument/publishDiagnostics", uri)
        details = {item["label"]: item.get("detail") for item in _items(client.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}}))}
        assert details["activity"] == "points: activity" and details["and"] == "and"
        symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert {s["detail"] for s in symbols} == {"section"}
    finally:
        assert client.close() == 0
    chinese = LspClient(env={"LANG": "en_US.UTF-8"})
    try:
        chinese.initialize(folder, lang="zh")
        uri = chinese.open(path, path.read_text(encoding="utf-8"))
        chinese.wait_for("textDocument/publishDiagnostics", uri)
        details = {item["label"]: item.get("detail") for item in _items(chinese.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}}))}
        assert details["activity"] == "积分：活动" and details["and"] == "且、并且、而且"
        symbols = chinese.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert {s["detail"] for s in symbols} == {"规则节"}
    finally:
        assert chinese.close() == 0


def test_every_description_schema_gives_has_its_chinese(folder: Path) -> None:
    """``gridcore schema`` (and with a ruleset): every ``doc`` has a ``doc_zh`` in Chinese, which holds no
    English word but ids and names (an event's fields were described in neither language)."""
    names = _names()
    for args in (["schema"], ["schema", str(folder / "yinquan.rules")]):
        shown = CliRunner().invoke(main_group, args, env={"GRIDCORE_LANG": "zh"})
        assert shown.exit_code == 0, shown.output
        described = list(_described(json.loads(shown.stdout), ""))
        found = [f"{where}: {value.get('doc')!r} / {said!r}" for where, value in described
                 if not has_chinese(said := value.get("doc_zh", ""))
                 or english_words(said, names | {value.get("name", "")})]
        assert len(described) > 100 and found == []


def _described(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of a schema document with a ``doc``, with where it is."""
    if isinstance(value, dict):
        if "doc" in value:
            yield where, value
        for key, inner in value.items():
            yield from _described(inner, f"{where}/{key}")
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _described(inner, f"{where}/{n}")
