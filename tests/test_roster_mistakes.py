"""A roster with several mistakes names every one of them at once (workbook, CSV folder, inline YAML).

Staff filling a 500-row roster should not need twenty rounds of fix-and-run: loading it reports each
mistake with its sheet or file, row and column, in the file's order, then fails as before (exit 1,
nothing saved).  Rows that only fail because a row they name failed (the roles at a node whose level is
wrong, the units under it) are not reported again: they are counted as not checked.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gridcore import Engine
from gridcore.errors import GridcoreError, HierarchyError, RosterError, RosterProblem
from gridcore_app.cli import main_group
from gridcore_app.rosterbook import SHEET_COLUMNS, SHEET_TITLE, load_workbook_roster, write_template
from gridcore_app.rosterio import COLUMNS, MOST_SHOWN, load_community

Sheets = Mapping[str, list[dict[str, str]]]

SETTINGS = {"name": "银泉社区", "timezone": "Asia/Shanghai", "levels": "community > grid > unit"}
BASE: Sheets = {
    "nodes": [
        {"id": "yq", "name": "银泉社区", "level": "community"},
        {"id": "g1", "name": "第一网格", "level": "grid", "parent": "yq"},
        {"id": "g2", "name": "第二网格", "level": "grid", "parent": "yq"},
        {"id": "u1", "name": "一单元", "level": "unit", "parent": "g1"},
        {"id": "u2", "name": "二单元", "level": "unit", "parent": "g2"},
    ],
    "members": [
        {"id": "m1", "name": "李明", "phone": "13800000001"},
        {"id": "m2", "name": "王芳", "phone": "13800000002", "party_member": "是"},
        {"id": "m3", "name": "陈强"},
    ],
    "roles": [
        {"member": "m1", "role": "网格长", "node": "g1"},
        {"member": "m2", "role": "grid_leader", "node": "g2"},
        {"member": "m3", "role": "单元长", "node": "u1"},
    ],
    "places": [{"id": "p1", "name": "1栋", "node": "u1"}],
}

#: Each kind of mistake: its sheet, the row that makes it, and what its message says.
MISTAKES: Mapping[str, tuple[str, dict[str, str], str]] = {
    "unknown level": ("nodes", {"id": "g3", "name": "第三网格", "level": "网格区", "parent": "yq"},
                      "unknown level '网格区'"),
    "unknown parent": ("nodes", {"id": "u9", "name": "九单元", "level": "unit", "parent": "g9"},
                       "unknown parent 'g9'"),
    "missing name": ("nodes", {"id": "u8", "level": "unit", "parent": "g1"}, "name is missing"),
    "flag": ("members", {"id": "m8", "name": "某人", "party_member": "也许"}, "party_member must be true or false"),
    "missing id": ("members", {"name": "无名"}, "id is missing"),
    "unknown role": ("roles", {"member": "m3", "role": "保安", "node": "g1"}, "unknown role '保安'"),
    "unknown node": ("roles", {"member": "m3", "role": "网格长", "node": "g8"}, "at unknown node 'g8'"),
    "unknown member": ("roles", {"member": "m99", "role": "网格长", "node": "g1"}, "unknown member 'm99'"),
    "place at unknown node": ("places", {"id": "p9", "name": "9栋", "node": "g7"}, "at unknown node 'g7'"),
    "duplicate node": ("nodes", {"id": "u2", "name": "又一个", "level": "unit", "parent": "g1"},
                       "duplicate node id 'u2'"),
    "duplicate member": ("members", {"id": "m1", "name": "重名"}, "duplicate member id 'm1'"),
}
#: The mistakes that repeat an id: put after every row (the first row with an id stands, the later one is wrong).
LAST = ("duplicate node", "duplicate member")
#: The lists in the order every format keeps them (the workbook's sheets, the CSV files, the YAML lists).
ORDER = ("nodes", "members", "roles", "places")
FORMATS = ("xlsx", "csv", "yaml")


def write(form: str, sheets: Sheets, folder: Path) -> tuple[Path, dict[tuple[str, int], tuple[str, str | None, int]]]:
    """The roster in ``form`` under ``folder``, and where each row landed: (list, index) -> (source,
    sheet, row or line)."""
    folder.mkdir(parents=True, exist_ok=True)
    at: dict[tuple[str, int], tuple[str, str | None, int]] = {}
    if form == "xlsx":
        path = write_template(folder / "花名册.xlsx")
        book = load_workbook(path)
        settings_sheet = book[SHEET_TITLE["community"]]
        for r, key in enumerate(("name", "timezone", "levels"), 2):
            assert str(settings_sheet.cell(r, 1).value).endswith(key)
            settings_sheet.cell(r, 2).value = SETTINGS[key]
        for key, rows in sheets.items():
            sheet = book[SHEET_TITLE[key]]
            for n, row in enumerate(rows):
                for c, column in enumerate(SHEET_COLUMNS[key], 1):
                    sheet.cell(n + 2, c).value = row.get(column)
                at[key, n] = ("花名册.xlsx", SHEET_TITLE[key], n + 2)
        book.save(path)
        return path, at
    lines = [f"name: {SETTINGS['name']}", f"timezone: {SETTINGS['timezone']}", "levels: [community, grid, unit]"]
    for key, rows in sheets.items():
        if form == "csv":
            text = ",".join(COLUMNS[key]) + "\n" + "".join(
                ",".join(row.get(column, "") for column in COLUMNS[key]) + "\n" for row in rows)
            (folder / f"{key}.csv").write_text(text, encoding="utf-8-sig")
            at.update({(key, n): (f"{key}.csv", None, n + 2) for n in range(len(rows))})
            continue
        lines.append(f"{'assignments' if key == 'roles' else key}:")
        for n, row in enumerate(rows):
            lines.append(f"  - {json.dumps(row, ensure_ascii=False)}")
            at[key, n] = ("community.yaml", None, len(lines))
    (folder / "community.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return (folder if form == "csv" else folder / "community.yaml"), at


def refused(path: Path) -> RosterError:
    with pytest.raises(RosterError) as caught:
        load_workbook_roster(path) if path.suffix == ".xlsx" else load_community(path)
    return caught.value


def with_mistakes(chosen: list[tuple[str, int]]) -> tuple[dict[str, list[dict[str, str]]], list[tuple[str, int, str]]]:
    """BASE with each chosen mistake inserted at its position in its list; the mistakes as (list, index,
    what its message says), by where they ended up."""
    sheets = {key: list(rows) for key, rows in BASE.items()}
    placed: list[tuple[str, dict[str, str], str]] = []
    for kind, position in sorted(chosen, key=lambda m: m[0] in LAST):
        key, row, said = MISTAKES[kind]
        position = len(sheets[key]) if kind in LAST else position
        sheets[key].insert(min(position, len(sheets[key])), row)
        placed.append((key, row, said))
    found = [(key, next(n for n, r in enumerate(sheets[key]) if r is row), said) for key, row, said in placed]
    return sheets, sorted(found, key=lambda m: (ORDER.index(m[0]), m[1]))


@pytest.mark.parametrize("form", FORMATS)
def test_every_kind_of_mistake_is_named_at_once_in_the_files_order(form: str, tmp_path: Path) -> None:
    sheets, expected = with_mistakes([(kind, 99) for kind in MISTAKES])
    path, at = write(form, sheets, tmp_path)
    error = refused(path)
    assert isinstance(error, HierarchyError)  # node mistakes among them: a HierarchyError, as they always were
    assert len(error.problems) == len(MISTAKES)
    lines = str(error).splitlines()
    assert lines[0] == f"{len(MISTAKES)} mistakes in {path.name if form != 'csv' else path.name + '/'} " \
        f"(花名册 {path.name if form != 'csv' else path.name + '/'} 有 {len(MISTAKES)} 处错误)"
    for (key, index, said), problem, line in zip(expected, error.problems, lines[1:], strict=False):
        source, sheet, row = at[key, index]
        assert (problem.source, problem.sheet, problem.row) == (source, sheet, row), problem
        assert said in problem.problem
        assert line == f"  {problem}"
        assert problem.where_zh and problem.where in str(problem)


def test_the_workbook_names_the_cell_in_english_and_chinese(tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("unknown level", 99), ("flag", 99), ("unknown node", 99)])
    error = refused(write("xlsx", sheets, tmp_path)[0])
    level, flag, node = error.problems
    assert level == RosterProblem(
        where="花名册.xlsx, sheet 节点 nodes, row 7, column C (level)", where_zh="节点 表第 7 行 C 列（层级）",
        problem=level.problem, source="花名册.xlsx", sheet="节点 nodes", row=7, column="C", field="level")
    assert (flag.where_zh, flag.field, node.where_zh) == ("成员 表第 5 行 D 列（党员）", "party_member",
                                                          "职责 表第 5 行 C 列（节点编号）")
    assert level.in_chinese().startswith("节点 表第 7 行 C 列（层级）：未知层级：")
    assert "unknown level '网格区'" in level.in_chinese()  # the English follows, in brackets, without the place
    assert "sheet" not in level.in_chinese()


def test_a_node_the_tree_refuses_is_named_at_its_parent_cell(tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("unknown parent", 99)])
    sheets["nodes"][1] = {**sheets["nodes"][1], "parent": "u1"}  # g1 under its own unit: a cycle
    (cycle, unknown) = refused(write("xlsx", sheets, tmp_path)[0]).problems
    assert (cycle.row, cycle.column, cycle.field, unknown.row, unknown.column) == (3, "D", "parent", 7, "D")
    assert unknown.where_zh == "节点 表第 7 行 D 列（上级编号）" and "unknown parent 'g9'" in unknown.problem


def test_the_cli_lists_every_mistake_in_english_and_in_chinese(tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("unknown level", 1), ("unknown role", 99), ("flag", 99)])
    path, _ = write("xlsx", sheets, tmp_path)
    english = CliRunner().invoke(main_group, ["hierarchy", "show", str(path)])
    assert english.exit_code == 1
    assert english.output.splitlines() == [
        "Error (错误): 3 mistakes in 花名册.xlsx (花名册 花名册.xlsx 有 3 处错误)",
        *(f"  {problem}" for problem in refused(path).problems),
    ]
    chinese = CliRunner().invoke(main_group, ["--lang", "zh", "hierarchy", "show", str(path)])
    assert chinese.exit_code == 1
    lines = chinese.output.splitlines()
    assert lines[0] == "错误：花名册 花名册.xlsx 有 3 处错误"
    assert lines[1].startswith("  节点 表第 3 行 C 列（层级）：未知层级：层级应填 community、grid、unit 之一（node 'g3'")
    assert lines[2].startswith("  成员 表第 5 行 D 列（党员）：应填 是 或 否（party_member must be true or false, got '也许'")
    assert lines[3].startswith("  职责 表第 5 行 B 列（角色）：未知角色（unknown role '保安'")
    assert len(lines) == 4


def test_one_mistake_reads_as_it_always_did_and_in_chinese_names_its_cell(tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("unknown level", 1)])
    path, _ = write("xlsx", sheets, tmp_path)
    error = refused(path)
    assert str(error).startswith("花名册.xlsx, sheet 节点 nodes, row 3, column C (level): node 'g3' (第三网格): "
                                 "unknown level '网格区'")
    assert "\n" not in str(error) and len(error.problems) == 1
    result = CliRunner().invoke(main_group, ["--lang", "zh", "hierarchy", "show", str(path)])
    assert result.output.startswith("错误：节点 表第 3 行 C 列（层级）：未知层级：")


@pytest.mark.parametrize("form", FORMATS)
def test_rows_that_name_a_failed_row_are_counted_not_reported(form: str, tmp_path: Path) -> None:
    """g1's level is wrong: the unit under it, the roles at both and the place in the unit are not
    checked again (one line says how many), while a mistake of their own elsewhere is still named."""
    sheets = {key: [dict(row) for row in rows] for key, rows in BASE.items()}
    sheets["nodes"][1]["level"] = "网格区"
    sheets["roles"].append({"member": "m1", "role": "保安", "node": "g2"})
    path, at = write(form, sheets, tmp_path)
    error = refused(path)
    assert [(p.source, p.row) for p in error.problems] == [at["nodes", 1][::2], at["roles", 3][::2]]
    assert str(error).splitlines()[-1] == (
        "  4 rows naming a node, member, department, place or household whose own row is wrong were not checked "
        "(4 行引用了出错的行，未检查)")  # u1, m1's and m3's roles, p1


def test_a_node_wrong_in_the_tree_drops_its_subtree_once(tmp_path: Path) -> None:
    """A node the tree refuses (a second root, a cycle) is named once, its subtree is not checked again."""
    sheets = {key: [dict(row) for row in rows] for key, rows in BASE.items()}
    sheets["nodes"][1]["parent"] = "u1"  # g1 -> u1 -> g1: a cycle (and a unit above a grid)
    sheets["nodes"].append({"id": "yq2", "name": "另一个社区", "level": "community"})
    error = refused(write("csv", sheets, tmp_path)[0])
    assert [p.row for p in error.problems] == [3, 7]
    assert "cycle of parents" in error.problems[0].problem or "cannot sit under" in error.problems[0].problem
    assert "second root" in error.problems[1].problem


def test_the_list_is_cut_at_fifty_and_the_rest_counted(tmp_path: Path) -> None:
    sheets = {key: list(rows) for key, rows in BASE.items()}
    sheets["members"] += [{"id": f"x{n}", "name": "某人", "party_member": "也许"} for n in range(MOST_SHOWN + 7)]
    error = refused(write("csv", sheets, tmp_path)[0])
    assert len(error.problems) == MOST_SHOWN + 7
    lines = str(error).splitlines()
    assert len(lines) == 1 + MOST_SHOWN + 1
    assert lines[-1] == "  and 7 more (另有 7 处错误未列出)"
    assert error.render("zh").splitlines()[-1] == "  另有 7 处错误未列出"


def test_the_error_keeps_its_problems_across_processes(tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("flag", 99), ("unknown role", 99)])
    error = refused(write("yaml", sheets, tmp_path)[0])
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error) and again.problems == error.problems


@pytest.mark.parametrize("form", FORMATS)
def test_init_saves_nothing_and_says_every_mistake(form: str, tmp_path: Path) -> None:
    sheets, _ = with_mistakes([("unknown parent", 99), ("unknown member", 99)])
    path, _ = write(form, sheets, tmp_path / "roster")
    store = tmp_path / "store"
    result = CliRunner().invoke(main_group, ["--lang", "zh", "init", "--community", str(path), "--store", str(store)])
    assert result.exit_code == 1
    assert "有 2 处错误" in result.output and "上级编号不存在" in result.output and "成员编号不在成员表中" in result.output
    with pytest.raises(GridcoreError, match="has no community yet"):
        Engine.open(store=store, create=False)


positions = st.lists(st.tuples(st.sampled_from(sorted(MISTAKES)), st.integers(0, 6)), min_size=1, max_size=8,
                     unique_by=lambda m: m[0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=positions, form=st.sampled_from(("csv", "yaml")))
def test_any_set_of_independent_row_mistakes_is_reported_in_full_in_file_order(
    chosen: list[tuple[str, int]], form: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """However many independent mistakes, wherever they sit among good rows: each is named once, at its
    row, in the file's order, and nothing else is."""
    sheets, expected = with_mistakes(chosen)
    path, at = write(form, sheets, tmp_path_factory.mktemp("roster"))
    error = refused(path)
    assert [(p.source, p.row) for p in error.problems] == [at[key, n][::2] for key, n, _ in expected]
    assert all(said in p.problem for p, (_, _, said) in zip(error.problems, expected, strict=True))
    assert "not checked" not in str(error)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=positions)
def test_a_workbook_reports_any_set_of_independent_mistakes_in_full(
    chosen: list[tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    sheets, expected = with_mistakes(chosen)
    path, at = write("xlsx", sheets, tmp_path_factory.mktemp("roster"))
    error = refused(path)
    assert [(p.sheet, p.row) for p in error.problems] == [at[key, n][1:] for key, n, _ in expected]


@pytest.mark.parametrize("form", FORMATS)
def test_a_row_with_several_wrong_cells_names_each(form: str, tmp_path: Path) -> None:
    sheets = {key: list(rows) for key, rows in BASE.items()}
    sheets["members"].append({"id": "m8", "party_member": "也许", "home": "g9"})
    sheets["roles"].append({"member": "m99", "role": "保安", "node": "g1"})
    path, at = write(form, sheets, tmp_path)
    error = refused(path)
    said = ["name is missing", "party_member must be true or false", "home at unknown node 'g9'",
            "unknown member 'm99'", "unknown role '保安'"]
    assert [(p.source, p.row) for p in error.problems] == [at["members", 3][::2]] * 3 + [at["roles", 3][::2]] * 2
    assert all(words in p.problem for p, words in zip(error.problems, said, strict=True))
    if form == "xlsx":
        assert [p.column for p in error.problems] == ["B", "D", "E", "A", "B"]


def test_gridcore_check_says_the_rosters_mistakes_in_chinese_too(tmp_path: Path) -> None:
    """A ruleset beside a roster with mistakes: ``gridcore check`` under zh lists them with Chinese places;
    a missing cell names its column in the Chinese too (a CSV row has no heading in Chinese to name it)."""
    repo = Path(__file__).resolve().parent.parent
    folder = tmp_path / "yinquan"
    shutil.copytree(repo / "rulesets" / "yinquan", folder)
    shutil.copy(repo / "rulesets" / "district-base.rules", tmp_path)
    with (folder / "members.csv").open("a", encoding="utf-8") as members:
        members.write("m-x,,,也许,\n")
    rows = len((folder / "members.csv").read_text(encoding="utf-8-sig").splitlines())
    result = CliRunner().invoke(main_group, ["--lang", "zh", "check", str(folder / "yinquan.rules")])
    assert result.exit_code == 1
    assert "规则集旁边的社区资料无法读取：花名册 yinquan/ 有 2 处错误" in result.output
    assert f"  members.csv 第 {rows} 行：必填：name\n" in result.output
    assert f"  members.csv 第 {rows} 行：应填 是 或 否（party_member must be true or false, got '也许'）" in result.output


def test_a_folder_given_as_dot_is_named_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheets, _ = with_mistakes([("flag", 99), ("unknown role", 99)])
    write("csv", sheets, tmp_path / "银泉")
    monkeypatch.chdir(tmp_path / "银泉")
    assert str(refused(Path("."))).startswith("2 mistakes in 银泉/ (花名册 银泉/ 有 2 处错误)\n")
