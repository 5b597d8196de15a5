"""Rosters in Excel workbooks: read, written, templated, and refused with the sheet, row and column."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from gridcore import Engine, FixedClock
from gridcore.errors import RosterError
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_app.rosterbook import SHEET_TITLE, load_workbook_roster, save_workbook, write_template
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import RULESETS_DIR

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["yinquan", "cuihu", "xingfuwan", "chengqiao"])
def test_every_real_roster_round_trips_through_a_workbook(name: str, tmp_path: Path) -> None:
    community = load_community(RULESETS_DIR / name)
    path = save_workbook(community, tmp_path / f"{name}.xlsx")
    assert load_workbook_roster(path) == community
    # Read back through openpyxl on its own: the sheets staff see.
    book = load_workbook(path)
    assert book.sheetnames == ["说明 instructions", "社区 community", "节点 nodes", "成员 members", "职责 roles",
                               "部门 departments", "场所 places", "户 households", "居民 residents",
                               "包联 care"]
    members = book["成员 members"]
    assert [c.value for c in members[1]] == ["编号 id", "姓名 name", "电话 phone", "党员 party_member",
                                             "居住网格 home"]
    assert members.max_row == len(community.members) + 1


def test_the_mini_community_with_its_extra_role_and_level_names(tmp_path: Path) -> None:
    mini = load_community(MINI)
    path = save_workbook(mini, tmp_path / "mini.xlsx")
    assert load_workbook_roster(path) == mini
    settings = load_workbook(path)["社区 community"]
    rows = {row[0].value: row[1].value for row in settings.iter_rows(min_row=2)}
    assert rows["层级 levels"] == "community > grid > unit"
    assert rows["层级名称 level_names"] == "社区 > 网格 > 最小单元"
    assert rows["自定义角色 roles"] == "safety_officer=安全员"


def test_an_engine_and_the_cli_open_a_workbook_through_the_hook(tmp_path: Path) -> None:
    path = save_workbook(load_community(MINI), tmp_path / "花名册.xlsx")
    assert Hooks(get_plugin_manager()).load_community(path) == load_community(MINI)
    clock = FixedClock(datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8))))
    with Engine.open(store=tmp_path / "store", community=str(path), clock=clock) as engine:
        assert engine.community.name == "银泉社区"
    code, text = run("hierarchy", "show", str(path))
    assert code == 0 and "银泉社区 [yq]" in text
    code, text = run("init", "--community", str(path), "--store", str(tmp_path / "s2"))
    assert code == 0, text


def test_staff_may_write_sheets_and_headings_in_chinese_or_english(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "community"
    for row in (("name", "小区"), ("时区", "Asia/Shanghai"), ("levels", "community > unit"), ("多个顶层", "否")):
        sheet.append(row)
    nodes = book.create_sheet("节点")
    nodes.append(("编号", "名称", "level", "上级编号 parent"))
    nodes.append(("c", "小区", "community", None))
    nodes.append(("u1", "一单元", "unit", "c"))
    members = book.create_sheet("Members")
    members.append(("id", "姓名", "党员"))
    members.append(("m1", "李明", "是"))
    members.append(("m2", "王芳", None))
    members.append((13800000001, "张三", "否"))  # an id typed as a number
    roles = book.create_sheet("职责 roles")
    roles.append(("成员编号", "角色", "网格编号"))
    roles.append(("m1", "网格长", "c"))
    book.save(tmp_path / "hand.xlsx")
    community = load_workbook_roster(tmp_path / "hand.xlsx")
    assert [n.id for n in community.hierarchy] == ["c", "u1"]
    assert community.members["m1"].party_member and not community.members["m2"].party_member
    assert "13800000001" in community.members
    assert community.members["m1"].roles[0].role == "grid_leader"


def test_a_nodes_id_is_headed_as_the_glossary_says_and_the_old_heading_still_reads(tmp_path: Path) -> None:
    """A node column is headed 节点编号 (docs/embedding.md: a node may be a street or a community, not only
    a grid); a workbook filled in under the old 网格编号, or headed in English, reads back the same."""
    mini = load_community(MINI)
    path = save_workbook(mini, tmp_path / "r.xlsx")
    book = load_workbook(path)
    for title in ("职责 roles", "场所 places", "户 households"):
        headings = [c.value for c in book[title][1]]
        assert "节点编号 node" in headings and not any("网格编号" in h for h in headings), (title, headings)
    for heading in ("网格编号", "网格编号 node", "节点编号", "node", "节点编号（node）"):
        for title in ("职责 roles", "场所 places"):
            column = next(c for c in book[title][1] if c.value == "节点编号 node")
            column.value = heading
        book.save(tmp_path / "old.xlsx")
        assert load_workbook_roster(tmp_path / "old.xlsx") == mini, heading
        book = load_workbook(path)
    template = load_workbook(write_template(tmp_path / "t.xlsx"))
    assert "网格编号" not in "".join(str(c.value) for sheet in template for row in sheet.iter_rows() for c in row)


def test_mistakes_name_the_sheet_row_and_column(tmp_path: Path) -> None:
    path = save_workbook(load_community(MINI), tmp_path / "r.xlsx")
    book = load_workbook(path)
    book["成员 members"]["D3"] = "maybe"
    book.save(path)
    with pytest.raises(RosterError, match=r"r\.xlsx, sheet 成员 members, row 3, column D \(party_member\): "
                                          r"party_member must be true or false, got 'maybe'"):
        load_workbook_roster(path)
    book["成员 members"]["D3"] = "是"
    book["职责 roles"]["A4"] = "nobody"
    book.save(path)
    with pytest.raises(RosterError, match=r"sheet 职责 roles, row 4, column A \(member\): unknown member 'nobody'"):
        load_workbook_roster(path)
    book["职责 roles"]["A4"] = "m01"
    book["节点 nodes"]["F1"] = "颜色"
    book.save(path)
    with pytest.raises(RosterError, match=r"sheet 节点 nodes, row 1, column F: unknown column '颜色' "
                                          r"\(expected 编号 id, 名称 name"):
        load_workbook_roster(path)
    code, text = run("hierarchy", "show", str(path))
    assert code == 1 and "column F: unknown column '颜色'" in text and "Traceback" not in text


def test_formulas_are_refused_and_old_or_broken_files_are_clear_errors(tmp_path: Path) -> None:
    path = save_workbook(load_community(MINI), tmp_path / "f.xlsx")
    book = load_workbook(path)
    book["成员 members"]["B2"] = "=CONCAT(\"李\",\"明\")"
    book.save(path)
    with pytest.raises(RosterError, match=r"sheet 成员 members, row 2, column B: a formula; a roster holds values"):
        load_workbook_roster(path)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really")
    with pytest.raises(RosterError, match=r"old\.xls: an old \.xls workbook; save it as \.xlsx"):
        Hooks(get_plugin_manager()).load_community(tmp_path / "old.xls")
    (tmp_path / "broken.xlsx").write_text("just text", encoding="utf-8")
    with pytest.raises(RosterError, match=r"broken\.xlsx: not an Excel workbook"):
        load_workbook_roster(tmp_path / "broken.xlsx")
    book = Workbook()
    book.save(tmp_path / "bare.xlsx")
    with pytest.raises(RosterError, match=r"no sheet 社区 community"):
        load_workbook_roster(tmp_path / "bare.xlsx")


def test_the_template_has_both_headings_and_instructions(tmp_path: Path) -> None:
    code, text = run("roster", "template", str(tmp_path / "模板.xlsx"))
    assert code == 0, text
    out = tmp_path / "模板.xlsx"
    assert f"(花名册模板已写入 {out}：填好各表后用 `gridcore hierarchy show {out}` 检查)" in text
    # under zh the Chinese comes first and says the command itself (it once said "the command above")
    code, text = run("--lang", "zh", "roster", "template", str(tmp_path / "模板2.xlsx"))
    assert code == 0 and text.startswith(f"花名册模板已写入 {tmp_path / '模板2.xlsx'}：填好各表后用 `gridcore hierarchy show "), text
    book = load_workbook(tmp_path / "模板.xlsx")
    assert book.sheetnames[0] == "说明 instructions"
    notes = [row[0].value for row in book["说明 instructions"].iter_rows()]
    assert notes[0] == "花名册填写说明" and any("公式" in (n or "") for n in notes)
    for key in ("nodes", "members", "roles", "departments", "places"):
        headings = [c.value for c in book[SHEET_TITLE[key]][1]]
        assert all(" " in h and h.split()[0] != h.split()[1] for h in headings), headings
        assert book[SHEET_TITLE[key]].max_row == 1
    # Filled in by hand, the empty template says what is missing first.
    with pytest.raises(RosterError, match="sheet 社区 community, row 2, column B: name is missing"):
        load_workbook_roster(tmp_path / "模板.xlsx")
    assert run("roster", "template", str(tmp_path / "x.csv"))[0] == 1
    assert write_template(tmp_path / "again.xlsx").exists()


def test_export_turns_a_community_folder_into_a_workbook(tmp_path: Path) -> None:
    code, text = run("roster", "export", str(RULESETS_DIR / "cuihu"), str(tmp_path / "cuihu.xlsx"))
    assert code == 0, text
    assert "翠湖社区: 328 nodes" in text and "(花名册已导出：328 个节点，" in text
    assert load_workbook_roster(tmp_path / "cuihu.xlsx") == load_community(RULESETS_DIR / "cuihu")


def test_check_reads_a_roster_workbook_given_as_the_community(tmp_path: Path) -> None:
    # Staff who keep the roster in Excel check a ruleset against that workbook; it was read as a
    # UTF-8 text file and refused ("not UTF-8 text"), so only a folder could be checked against.
    book = save_workbook(load_community(MINI), tmp_path / "花名册.xlsx")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "yq.rules").write_text('规则集 "yq"\n层级：community > grid > unit\n'
                                    "事件流转：\n  事件 fire：起始于 grid，转交 城管\n", encoding="utf-8")
    code, text = run("check", "--lang", "zh", "--community", str(book), str(rules / "yq.rules"))
    assert code == 1 and "不是 UTF-8" not in text, text
    # the roster's departments were read from the workbook: the unknown one is named with the known ones
    assert "yq.rules:4:23: 错误: 未知的条线部门 '城管'" in text and "城管中队（urban）" in text, text
    assert "花名册的“部门 departments”表" in text, text
    (rules / "yq.rules").write_text('规则集 "yq"\n层级：community > grid > unit\n'
                                    "事件流转：\n  事件 fire：起始于 grid，转交 urban\n", encoding="utf-8")
    code, text = run("check", "--community", str(book), str(rules))  # a folder: which ruleset governs what
    assert code == 0 and "yq.rules: ok (yq)" in text, text
    assert "the ruleset governing each community:\n  yq 银泉社区: yq (yq.rules)" in text, text


def test_diff_replays_against_a_roster_workbook(tmp_path: Path) -> None:
    # `gridcore diff --community 花名册.xlsx` answered "no community ...; give a folder"
    book = save_workbook(load_community(MINI), tmp_path / "花名册.xlsx")
    for name, amount in (("a", 5), ("b", 6)):
        (tmp_path / f"{name}.rules").write_text(f'ruleset "{name}"\nlevels: community > grid > unit\n'
                                                f"points:\n  activity 志愿服务: {amount} per hour\n", encoding="utf-8")
    (tmp_path / "e.jsonl").write_text('{"kind": "activity_recorded", "id": "a1", "time": "2025-03-03T09:00:00+08:00", '
                                      '"actor": "m05", "node": "g1-u1", "activity": "志愿服务", "hours": 2}\n',
                                      encoding="utf-8")
    code, text = run("diff", "--events", str(tmp_path / "e.jsonl"), "--ruleset", str(tmp_path / "a.rules"),
                     "--ruleset", str(tmp_path / "b.rules"), "--community", str(book))
    assert code == 0 and "member:m05:balance 周丽: 10 -> 12  (+2)" in text, text


def test_a_mistyped_role_or_a_department_by_name_gets_a_suggestion_at_its_cell(tmp_path: Path) -> None:
    # A staff user typed 专职网格元 for 专职网格员 and got the list of fifteen roles and nothing else, and a
    # department's Chinese name (or a nickname) in its column got "row 4116" with the ids only.
    path = save_workbook(load_community(MINI), tmp_path / "r.xlsx")
    book = load_workbook(path)
    roles = book["职责 roles"]
    row = next(r for r in range(2, roles.max_row + 1) if roles[f"D{r}"].value == "police")
    roles[f"B{row}"] = "专业网格元"
    book.save(path)
    with pytest.raises(RosterError, match=rf"row {row}, column B \(role\): unknown role '专业网格元'; did you mean "
                                          r"'专业网格员' \(professional_gridworker, 专业网格员\)\? \(是不是想写“专业网格员”？\)"):
        load_workbook_roster(path)
    roles[f"B{row}"] = "专业网格员"
    roles[f"D{row}"] = "外海派出所"
    book.save(path)
    code, text = run("hierarchy", "show", str(path))
    assert code == 1, text
    assert (f"row {row}, column D (department): unknown department '外海派出所' (known: police (外海派出所), "
            "urban (城管中队), fire-dept (消防救援站)); '外海派出所' is the name of department 'police': write its id "
            "(请填写部门编号 police) (部门编号不存在)") in text
    roles[f"D{row}"] = "城管"
    book.save(path)
    with pytest.raises(RosterError, match=rf"row {row}, column D \(department\): unknown department '城管' \(known: "
                                          r"police \(外海派出所\), urban \(城管中队\), fire-dept \(消防救援站\)\) \(部门编号不存在\)"):
        load_workbook_roster(path)


def test_the_roles_sheet_shows_roles_by_their_chinese_names(tmp_path: Path) -> None:
    # The 职责 sheet a staff trial opened listed master_grid_leader, dispatcher, fulltime_gridworker ...
    # in a workbook with Chinese headings; the Chinese names read back as the same ids.
    community = load_community(RULESETS_DIR / "yinzhou")
    path = save_workbook(community, tmp_path / "银州区.xlsx")
    shown = [row[1] for row in load_workbook(path)["职责 roles"].iter_rows(min_row=2, max_row=6, values_only=True)]
    assert shown == ["总网格长", "指挥中心调度员", "指挥中心调度员", "指挥中心调度员", "总网格长"], shown
    assert load_workbook_roster(path) == community
