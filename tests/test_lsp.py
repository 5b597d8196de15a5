"""``gridcore lsp`` in a real client session: a subprocess, JSON-RPC over its pipes, no mocks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lspclient import LspClient

from gridcore.rules.formatter import format_source

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"

VILLAGE = """\
extends "district-base"
ruleset "杨柳村"
levels: community > grid > unit

points:
  override activity 志愿服务: 6 per hour, at most 40 per month
  activity 扫雪: 4 per hour

escalation:
  incident fire_hazard: start at grid, route to fire
"""


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A village ruleset beside a community roster (Yinquan's), extending the district base."""
    folder = tmp_path_factory.mktemp("village")
    for item in YINQUAN.iterdir():
        if item.suffix in (".csv", ".yaml", ".geojson") and not item.name.endswith("_test.yaml"):
            shutil.copy(item, folder / item.name)
    path = folder / "village.rules"
    path.write_text(VILLAGE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def client(village: Path) -> Iterator[LspClient]:
    session = LspClient(env={"LANG": "en_US.UTF-8"})
    result = session.initialize(village.parent)
    assert result["capabilities"]["completionProvider"] is not None
    yield session
    assert session.close() == 0


def _labels(result: object) -> set[str]:
    items = result["items"] if isinstance(result, dict) else result
    assert isinstance(items, list)
    return {item["label"] for item in items}


def test_diagnostics_on_open_and_change_are_checks(client: LspClient, village: Path) -> None:
    path = village.with_name("typo.rules")
    text = VILLAGE.replace("activity 扫雪: 4 per hour", "activity 扫雪 4 per hour")
    path.write_text(text, encoding="utf-8")
    uri = client.open(path)
    published = client.wait_for("textDocument/publishDiagnostics", uri)
    [problem] = published["diagnostics"]
    assert problem["code"] == "missing-colon" and problem["severity"] == 1
    assert problem["range"] == {"start": {"line": 6, "character": 14},
                                "end": {"line": 6, "character": 15}}
    assert problem["message"].startswith("a colon is missing (found '4')")
    assert "fix: put ':' (or '：') between the item's name and its rule" in problem["message"]
    client.change(uri, VILLAGE, 2)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    # A department the community beside the file lacks: the roster check, as in `check`.
    client.change(uri, VILLAGE.replace("route to fire", "route to fier"), 3)
    [problem] = client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]
    assert problem["code"] == "unknown-department" and "did you mean: fire" in problem["message"]


def test_diagnostics_speak_the_users_language(village: Path) -> None:
    session = LspClient(env={"LANG": "en_US.UTF-8"})
    try:
        session.initialize(village.parent, lang="zh")
        uri = session.open(village.with_name("zh.rules"), VILLAGE.replace("4 per hour", "four per hour"))
        [problem] = session.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]
        assert problem["code"] == "number-in-words"
        assert problem["message"].startswith("这里应是数字（用阿拉伯数字）")
        assert "修改：写成 4，不要写 'four'" in problem["message"]
    finally:
        assert session.close() == 0


def test_completion_offers_keywords_in_both_languages_and_names_in_scope(
        client: LspClient, village: Path) -> None:
    uri = client.open(village)
    client.wait_for("textDocument/publishDiagnostics", uri)
    labels = _labels(client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 6, "character": 2}}))
    # keywords, English and Chinese, core and sections'
    assert {"activity", "活动", "per", "每", "otherwise", "否则", "points", "积分", "stars", "星级"} <= labels
    assert {"扫雪", "志愿服务", "大米"} <= labels            # activities and rewards, here and in the parent
    assert {"patrol_coverage", "巡查覆盖率"} & labels        # metrics the plugins contribute
    assert {"community", "grid", "unit"} <= labels           # levels
    assert {"grid_leader", "micro_grid_leader"} & labels     # roles
    assert "fire" in labels and "police" in labels           # departments of the roster beside it
    assert "fire_hazard" in labels                           # categories the parent declares


def test_hover_explains_a_keyword_with_an_example_and_a_name_with_its_origin(
        client: LspClient, village: Path) -> None:
    uri = client.open(village)
    client.wait_for("textDocument/publishDiagnostics", uri)
    keyword = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": 6, "character": 4}})
    text = keyword["contents"]["value"]
    assert "an activity of the points item list and what it earns" in text
    assert "Example:" in text and "```rules\nactivity " in text
    name = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": 5, "character": 22}})
    assert "**志愿服务** (activity)" in name["contents"]["value"]
    assert "defined in district-base.rules:" in name["contents"]["value"]


def test_completion_and_hover_know_the_closed_category_list(client: LspClient, village: Path) -> None:
    """``categories: closed`` / ``类别清单：仅限所列`` (docs/escalation.md): offered in both languages, explained."""
    path = village.with_name("closed.rules")
    path.write_text(VILLAGE + "  类别清单：仅限所列\n", encoding="utf-8")
    uri = client.open(path)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    labels = _labels(client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 10, "character": 2}}))
    assert {"categories", "类别清单", "closed", "仅限所列", "open", "不限"} <= labels
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": 10, "character": 3}})
    assert "**categories / 类别清单** (escalation)" in hover["contents"]["value"]
    assert "a report of a category the ruleset does not list is refused" in hover["contents"]["value"]


def test_go_to_definition_follows_extends(client: LspClient, village: Path) -> None:
    uri = client.open(village)
    client.wait_for("textDocument/publishDiagnostics", uri)
    base = (REPO / "rulesets" / "district-base.rules").resolve()
    [where] = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": {"line": 5, "character": 22}})
    assert where["uri"] == base.as_uri()
    line = base.read_text(encoding="utf-8").splitlines()[where["range"]["start"]["line"]]
    assert line.strip().startswith("activity 志愿服务:")
    assert line[where["range"]["start"]["character"]:where["range"]["end"]["character"]] == "志愿服务"
    [parent] = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 12}})
    assert parent["uri"] == base.as_uri() and parent["range"]["start"]["line"] == 0


def test_formatting_is_fmt(client: LspClient, village: Path) -> None:
    messy = VILLAGE.replace("  activity 扫雪: 4 per hour", "      activity   扫雪 :4 per hour")
    uri = client.open(village.with_name("messy.rules"), messy)
    client.wait_for("textDocument/publishDiagnostics", uri)
    [edit] = client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert edit["newText"] == format_source(messy) and "  activity 扫雪: 4 per hour\n" in edit["newText"]
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    tidy = client.open(village.with_name("tidy.rules"), format_source(VILLAGE))
    client.wait_for("textDocument/publishDiagnostics", tidy)
    assert client.request("textDocument/formatting", {
        "textDocument": {"uri": tidy}, "options": {"tabSize": 2, "insertSpaces": True}}) == []


def test_document_symbols_are_sections_and_their_items(client: LspClient, village: Path) -> None:
    uri = client.open(village)
    client.wait_for("textDocument/publishDiagnostics", uri)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert [s["name"] for s in symbols] == ["points", "escalation"]
    assert [c["name"] for c in symbols[0]["children"]] == ["activity 志愿服务", "activity 扫雪"]
    assert symbols[0]["range"]["start"]["line"] == 4 and symbols[0]["range"]["end"]["line"] == 6
    assert symbols[1]["children"][0]["name"] == "incident fire_hazard"


def test_hover_says_what_a_section_a_variable_and_a_field_mean_in_the_editors_language() -> None:
    """A section's header, a variable of expressions (成员) and a field (党员, 严重程度) are explained in
    Chinese to a Chinese editor (their English only before), and in English to an English one."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks
    from gridcore_app.lsp.knowledge import Scope, hover_text

    path = REPO / "rulesets" / "chengqiao" / "chengqiao.rules"
    scope = Scope.of(path.read_text(encoding="utf-8"), path, sections=Hooks(get_plugin_manager()).register_sections())
    said = {(word, lang): hover_text(word, scope, lang) for word in ("积分", "成员", "党员", "严重程度")
            for lang in ("zh", "en")}
    assert said["积分", "zh"] == "**points / 积分**\n\n积分：积分项目、上限、倾斜、积分礼遇清单、过期、表扬加分和防刷分规则。"
    assert said["成员", "zh"] == "**member / 成员**\n\n所涉及的成员"
    assert said["党员", "zh"] == "**member.party_member** / 成员.党员\n\n是党员时为真"
    assert said["党员", "en"].endswith("true for party members")
    assert said["严重程度", "zh"].endswith("1（轻微）到 5（严重）") and said["严重程度", "en"].endswith("1 (minor) to 5 (grave)")


def test_a_holiday_and_a_category_are_found_by_the_names_they_give_themselves(client: LspClient, village: Path) -> None:
    """``补班 国庆节`` names the holiday ``national_day: 国庆节, ...`` (docs/escalation.md): completion offers the
    district's holidays and categories by id and by name, and go-to-definition and hover find the name's line."""
    path = village.with_name("holidays.rules")
    path.write_text(VILLAGE + "  holiday golden_week: 黄金周, 2025-10-01 to 2025-10-07\n"
                    "  补班 黄金周：2025-09-28\n", encoding="utf-8")
    uri = client.open(path)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    labels = _labels(client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": {"line": 11, "character": 5}}))
    assert {"golden_week", "黄金周", "spring_festival", "春节", "national_day", "国庆节"} <= labels
    assert {"dispute", "矛盾纠纷"} <= labels  # a category of the district base, by code and by name
    [where] = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": {"line": 11, "character": 6}})
    assert where["uri"] == path.resolve().as_uri() and where["range"]["start"]["line"] == 10
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": {"line": 11, "character": 6}})
    assert "**黄金周** (holiday)" in hover["contents"]["value"]
    base = (REPO / "rulesets" / "district-base.rules").resolve()
    path.write_text(VILLAGE + "  补班 春节：2025-01-26\n", encoding="utf-8")
    uri = client.open(path)
    client.wait_for("textDocument/publishDiagnostics", uri)
    [parent] = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": {"line": 10, "character": 6}})
    assert parent["uri"] == base.as_uri()
    assert "holiday spring_festival: 春节" in base.read_text(encoding="utf-8").splitlines()[
        parent["range"]["start"]["line"]]
