"""Loading and saving community folders: formats, round trips, and errors that name file and row."""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import GridcoreError, HierarchyError, RosterError
from gridcore.community import Community
from gridcore.errors import has_chinese
from gridcore.hierarchy import Hierarchy, Node
from gridcore.roster import Department, Member, Place, RoleAssignment
from gridcore_app.rosterio import load_community, save_community

MINI = Path(__file__).parent / "data" / "community-mini"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the sample community that a test may break."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def refusal(path: Path, error: type[GridcoreError] = RosterError) -> str:
    with pytest.raises(error) as info:
        load_community(path)
    return str(info.value)


# ------------------------------------------------------------ reading the sample


def test_loads_the_sample_community() -> None:
    mini = load_community(MINI)
    assert mini.name == "银泉社区"
    assert mini.timezone == "Asia/Shanghai"
    assert mini.hierarchy.levels == ("community", "grid", "unit")
    assert len(mini.hierarchy) == 8 and len(mini.members) == 9
    assert len(mini.departments) == 3 and len(mini.places) == 5
    # Chinese role names, level labels and kinds are accepted on input
    assert mini.roles_at("m02", "g1") == ("grid_leader",)
    assert mini.hierarchy.node("g1-u2").level == "unit"
    assert mini.hierarchy.node("fire").kind == "industry"
    assert mini.hierarchy.node("school").kind == "dedicated"
    # empty cells mean "not given"; 是 means a party member
    assert mini.member("m01").home is None
    assert mini.member("m05").phone == "" and mini.member("m05").party_member is True
    assert mini.member("张伟").party_member is False
    assert mini.member("m04").roles[0] == RoleAssignment("professional_gridworker", "g1", "police")


def test_loads_from_a_string_path() -> None:
    assert load_community(str(MINI)) == load_community(MINI)


def test_a_handwritten_inline_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "崔湖社区.yaml"
    path.write_text(
        """\
name: 翠湖社区
timezone: Asia/Shanghai
levels: [community, grid, building]
level_names: {building: 楼栋}
departments:
  - {id: police, name: 派出所}
nodes:
  - {id: ch, name: 翠湖社区, level: community}
  - {id: g1, name: 第一网格, level: grid, parent: ch}
  - {id: b1, name: 1栋, level: 楼栋, parent: g1}
members:
  - id: m1
    name: 陈楼长
    phone: 13900000000
    party_member: true
    home: b1
    roles:
      - {role: 楼栋长, node: b1}
  - id: m2
    name: 民警小李
    roles:
      - {role: professional_gridworker, node: g1, department: police}
assignments:
  - {member: m1, role: volunteer, node: g1}
places:
  - {id: p1, name: 1栋, node: b1}
""",
        encoding="utf-8",
    )
    made = load_community(path)
    assert made.member("m1").phone == "13900000000"
    assert made.member("m1").roles == (RoleAssignment("building_leader", "b1"), RoleAssignment("volunteer", "g1"))
    assert made.hierarchy.path("b1") == "翠湖社区 > 第一网格 > 1栋"
    assert made.leaf_of("p1").id == "b1"


# ------------------------------------------------------------ writing and round trips


def test_save_and_load_csv_variant(tmp_path: Path) -> None:
    mini = load_community(MINI)
    path = save_community(mini, tmp_path / "out")
    assert path == tmp_path / "out" / "community.yaml"
    assert load_community(tmp_path / "out") == mini
    nodes = (tmp_path / "out" / "nodes.csv").read_bytes()
    assert nodes.startswith(b"\xef\xbb\xbfid,name,level,parent,kind\r\n")  # UTF-8 for spreadsheets
    members = (tmp_path / "out" / "members.csv").read_text(encoding="utf-8-sig").splitlines()
    assert members[1] == "m01,李明,13800000001,true,"
    assert "m03,陈强,13800000003,false," in members
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_save_and_load_inline_variant(tmp_path: Path) -> None:
    mini = load_community(MINI)
    save_community(mini, tmp_path / "csv")
    path = save_community(mini, tmp_path / "csv", inline=True)
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["community.yaml"]
    assert load_community(path) == mini  # a single YAML file
    assert load_community(tmp_path / "csv") == mini  # or its folder
    text = path.read_text(encoding="utf-8")
    assert "网格长" not in text and "name: 银泉社区" in text  # ids, and Chinese written as is


def test_round_trip_of_a_community_built_in_python(tmp_path: Path) -> None:
    hierarchy = Hierarchy.build(
        ("street", "community", "grid"),
        [Node("a", "甲街道, 东", "street", None), Node("b", '乙"街道"', "street", None),
         Node("c", "丙社区", "community", "a"), Node("g", "网格\n二", "grid", "c")],
        forest=True,
    )
    made = Community.build(
        "两街道", "Asia/Shanghai", hierarchy,
        [Member("m", "某人", (RoleAssignment("safety_officer", "g"),), phone="0750-1234567", home="g")],
        [Department("d", "部门")], [Place("p", "某处", "g")],
        roles={"safety_officer": "安全员"}, level_names={"grid": "网格"},
    )
    for inline in (False, True):
        save_community(made, tmp_path / str(inline), inline=inline)
        assert load_community(tmp_path / str(inline)) == made


names = st.text(alphabet=st.sampled_from('ab,"\n 张王李网格 单元'), min_size=1, max_size=6).filter(
    lambda s: s.strip() == s
)


@settings(max_examples=25, deadline=None)
@given(st.lists(names, min_size=1, max_size=6), st.lists(st.tuples(names, st.booleans(), names), max_size=6),
       st.booleans())
def test_random_names_round_trip(node_names: list[str], people: list[tuple[str, bool, str]], inline: bool) -> None:
    nodes = [Node("root", node_names[0], "community", None)] + [
        Node(f"n{i}", name, "grid", "root") for i, name in enumerate(node_names[1:])
    ]
    members = [
        Member(f"m{i}", name, (RoleAssignment("volunteer", "root"),), phone=phone, party_member=party)
        for i, (name, party, phone) in enumerate(people)
    ]
    made = Community.build("社区", "Asia/Shanghai", Hierarchy.build(("community", "grid"), nodes), members)
    with tempfile.TemporaryDirectory() as tmp:
        save_community(made, tmp, inline=inline)
        assert load_community(tmp) == made


def test_a_failed_save_leaves_the_previous_files(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    changed = Community.build("别的社区", "Asia/Shanghai", Hierarchy.build(["c"], [Node("x", "某地", "c", None)]))

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        save_community(changed, folder)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert load_community(folder) == load_community(MINI)


def test_gbk_sheets_from_chinese_excel_are_read(folder: Path) -> None:
    text = (folder / "places.csv").read_text(encoding="utf-8")
    (folder / "places.csv").write_bytes(text.encode("gbk"))
    assert load_community(folder).places["p4"].name == "银泉小学"


# ------------------------------------------------------------ refusals name file and row


def test_missing_folder_and_file(tmp_path: Path) -> None:
    assert "no such community folder" in refusal(tmp_path / "nope")
    assert "no community.yaml" in refusal(tmp_path)


def test_yaml_syntax_error_names_line_and_column(folder: Path) -> None:
    append(folder / "community.yaml", "forest: [true")
    message = refusal(folder)
    assert message.startswith("community.yaml:13:")


def test_yaml_unknown_and_repeated_keys(folder: Path) -> None:
    yaml_path = folder / "community.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(original + "timezon: Asia/Shanghai\n", encoding="utf-8")
    assert refusal(folder).startswith("community.yaml:12: unknown key 'timezon'")
    yaml_path.write_text(original + "name: 又一个\n", encoding="utf-8")
    assert "key 'name' is given twice" in refusal(folder)
    assert "community.yaml:12" in refusal(folder)


def test_missing_name_levels_and_bad_timezone(folder: Path) -> None:
    yaml_path = folder / "community.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(original.replace("name: 银泉社区\n", ""), encoding="utf-8")
    assert "name is missing" in refusal(folder)
    yaml_path.write_text(original.replace("levels: [community, grid, unit]\n", ""), encoding="utf-8")
    assert "levels must be a list" in refusal(folder)
    yaml_path.write_text(original.replace("Asia/Shanghai", "Asia/Nowhere"), encoding="utf-8")
    assert refusal(folder).startswith("community.yaml: community 银泉社区: unknown time zone 'Asia/Nowhere'")


def test_a_list_given_twice_is_refused(folder: Path) -> None:
    append(folder / "community.yaml", "places:\n  - {id: p9, name: 9栋, node: g1-u1}")
    assert "places are given both here and in places.csv" in refusal(folder)


def test_node_errors_name_the_row(folder: Path) -> None:
    nodes = folder / "nodes.csv"
    original = nodes.read_text(encoding="utf-8")
    cases = {
        "g3,第三网格,grid,nowhere,": ("nodes.csv row 10: node 'g3' (第三网格): unknown parent 'nowhere'", HierarchyError),
        "g1,又一个,grid,yq,": ("nodes.csv row 10: duplicate node id 'g1' (first at nodes.csv row 3)", HierarchyError),
        "g3,第三网格,street,yq,": ("nodes.csv row 10: node 'g3' (第三网格): unknown level 'street'", HierarchyError),
        "g3,第三网格,grid,g1,": ("nodes.csv row 10: node 'g3' (第三网格) at level 'grid' cannot sit under", HierarchyError),
        "g3,第三网格,grid,yq,special": ("nodes.csv row 10: unknown kind 'special'", HierarchyError),
        "g3,,grid,yq,": ("nodes.csv row 10: name is missing", RosterError),
        "yq2,另一个社区,community,,": ("nodes.csv row 10: node 'yq2' (另一个社区) is a second root", HierarchyError),
    }
    for line, (expected, error) in cases.items():
        nodes.write_text(original + line + "\n", encoding="utf-8")
        message = refusal(folder, error)
        assert message.startswith(expected), line
        assert has_chinese(message[len(expected):]), message  # and says it in Chinese (花名册 staff)


def test_a_cycle_in_nodes_csv_is_refused(folder: Path) -> None:
    nodes = folder / "nodes.csv"
    text = nodes.read_text(encoding="utf-8").replace("g1,第一网格,grid,yq,", "g1,第一网格,grid,g1-u1,")
    nodes.write_text(text, encoding="utf-8")
    message = refusal(folder, HierarchyError)
    assert "cycle" in message and "g1" in message and "nodes.csv row" in message


def test_forest_is_declared_in_community_yaml(folder: Path) -> None:
    append(folder / "nodes.csv", "yq2,另一个社区,community,,")
    append(folder / "community.yaml", "forest: true")
    assert [n.id for n in load_community(folder).hierarchy.roots()] == ["yq", "yq2"]


def test_role_errors_name_the_row(folder: Path) -> None:
    roles = folder / "roles.csv"
    original = roles.read_text(encoding="utf-8")
    cases = {
        "m03,保安,g1,": "roles.csv row 15: unknown role '保安'",
        "m03,网格长,g9,": "roles.csv row 15: role grid_leader at unknown node 'g9'",
        # the node's name where its id is wanted: which id to write
        "m03,网格长,第二网格,": ("roles.csv row 15: role grid_leader at unknown node '第二网格' (节点编号不存在); "
                                "'第二网格' is the name of node 'g2': write its id"),
        "m99,网格长,g1,": "roles.csv row 15: unknown member 'm99'",
        "m03,专业网格员,g1,": "roles.csv row 15: a professional_gridworker (专业网格员) needs a department",
        "m03,专业网格员,g1,tax": "roles.csv row 15: unknown department 'tax'",
        "m02,grid_leader,g1,": "roles.csv row 15: member 'm02' holds the same role at the same node twice",
    }
    for line, expected in cases.items():
        roles.write_text(original + line + "\n", encoding="utf-8")
        message = refusal(folder)
        assert message.startswith(expected), line
        assert has_chinese(message[len(expected):]), message  # and says it in Chinese (花名册 staff)


def test_member_errors_name_the_row(folder: Path) -> None:
    members = folder / "members.csv"
    original = members.read_text(encoding="utf-8")
    cases = {
        "m10,某人,,maybe,": "members.csv row 11: party_member must be true or false, got 'maybe'",
        "m10,某人,,,g9": "members.csv row 11: member 'm10': home at unknown node 'g9'",
        "m01,某人,,,": "members.csv row 11: duplicate member id 'm01' (first at members.csv row 2)",
        ",某人,,,": "members.csv row 11: id is missing",
        "m10,某人,,,,extra": "members.csv row 11: 6 cells but only 5 columns",
    }
    for line, expected in cases.items():
        members.write_text(original + line + "\n", encoding="utf-8")
        message = refusal(folder)
        assert message.startswith(expected), line
        assert has_chinese(message[len(expected):]), message  # and says it in Chinese (花名册 staff)


def test_place_and_department_errors_name_the_row(folder: Path) -> None:
    append(folder / "places.csv", "p9,9栋,g9")
    assert refusal(folder).startswith("places.csv row 7: place 'p9' (9栋) at unknown node 'g9'")
    shutil.copy(MINI / "places.csv", folder / "places.csv")
    append(folder / "places.csv", "p9,9栋,g1")
    assert refusal(folder).startswith("places.csv row 7: place 'p9' (9栋) must sit in a leaf cell")
    shutil.copy(MINI / "places.csv", folder / "places.csv")
    append(folder / "departments.csv", "police,另一个派出所")
    assert refusal(folder).startswith("departments.csv row 5: duplicate department id 'police'")


def test_column_errors(folder: Path) -> None:
    places = folder / "places.csv"
    places.write_text("id,name,node,note\np1,1栋,g1-u1,\n", encoding="utf-8")
    assert refusal(folder).startswith("places.csv row 1: unknown column 'note' (expected id,name,node)")
    places.write_text("id,name\np1,1栋\n", encoding="utf-8")
    assert refusal(folder).startswith("places.csv row 1: missing column 'node'")


def test_blank_rows_are_skipped_and_columns_may_be_reordered(folder: Path) -> None:
    (folder / "places.csv").write_text("node,id,name\n\ng1-u1,p1,1栋\n,,\n", encoding="utf-8")
    assert load_community(folder).places["p1"].node == "g1-u1"


def test_inline_errors_name_the_yaml_line(tmp_path: Path) -> None:
    path = tmp_path / "community.yaml"
    path.write_text(
        """\
name: 测试社区
timezone: Asia/Shanghai
levels: [community, grid]
nodes:
  - {id: c, name: 社区, level: community}
  - {id: g, name: 网格, level: grid, parent: c}
members:
  - id: m1
    name: 某人
    roles:
      - {role: 网格长, node: g}
      - {role: 网格长, node: nowhere}
""",
        encoding="utf-8",
    )
    assert refusal(path).startswith("community.yaml:12: role grid_leader at unknown node 'nowhere'")
    path.write_text(path.read_text(encoding="utf-8").replace("node: nowhere}", "node: g, note: x}"),
                    encoding="utf-8")
    assert refusal(path).startswith("community.yaml:12: unknown field 'note'")
    path.write_text(path.read_text(encoding="utf-8").replace("parent: c}", "parent: z}"), encoding="utf-8")
    assert refusal(path, HierarchyError).startswith("community.yaml:6: node 'g' (网格): unknown parent 'z'")


def test_a_failed_load_changes_nothing(folder: Path) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    append(folder / "roles.csv", "m03,保安,g1,")
    refusal(folder)
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert after.pop("roles.csv") != before.pop("roles.csv")
    assert after == before


def test_the_tree_shown_in_the_docs_is_the_real_one() -> None:
    mini = load_community(MINI)
    doc = (Path(__file__).parent.parent / "docs" / "community.md").read_text(encoding="utf-8")
    assert "```text\n" + mini.hierarchy.render(mini.level_names) + "\n```" in doc


def test_levels_may_be_written_as_staff_say_them(folder: Path) -> None:
    yaml_path = folder / "community.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(original.replace("[community, grid, unit]", "community > grid > unit"), encoding="utf-8")
    assert load_community(folder) == load_community(MINI)
    yaml_path.write_text(original.replace("[community, grid, unit]", "[community, grid, grid]"), encoding="utf-8")
    assert refusal(folder).startswith("community.yaml:5: level 'grid' is declared twice")


# ------------------------------------------------------------ through the CLI


def test_cli_hierarchy_show(folder: Path) -> None:
    from click.testing import CliRunner

    from gridcore_app.cli import main_group

    result = CliRunner().invoke(main_group, ["hierarchy", "show", str(MINI)])
    assert result.exit_code == 0, result.output
    assert "  第一网格 [g1] (" in result.output
    assert "    1单元 [g1-u1] (" in result.output
    append(folder / "roles.csv", "m03,保安,g1,")
    result = CliRunner().invoke(main_group, ["hierarchy", "show", str(folder)])
    assert result.exit_code != 0
    assert "roles.csv row 15: unknown role '保安'" in result.output
    assert "Traceback" not in result.output


#: Where the roster's and the tree's messages are written (map positions, households, YAML
#: and workbook structure, the stored community document).
ROSTER_SOURCES = ("gridcore/community.py", "gridcore/roster.py", "gridcore/households.py", "gridcore/geo.py",
                  "gridcore/hierarchy.py", "gridcore_app/rosterio.py", "gridcore_app/rosterbook.py",
                  "gridcore_app/scenario.py", "gridcore_app/rollup.py", "gridcore_app/jsonl.py",
                  "gridcore_app/service/api.py", "gridcore_app/service/context.py", "gridcore_app/service/intake.py",
                  "gridcore_app/service/app.py", "gridcore_app/service/dashboard.py", "gridcore_app/service/open311.py",
                  "gridcore_app/service/auth.py", "gridcore_app/service/guards.py", "gridcore_app/service/live.py")
#: Errors no office meets: a Python type passed wrongly (the cattrs TypeError becomes "community
#: document is malformed", which carries its Chinese), YAML's own, rewrapped with its Chinese, and
#: json's own wording of a stray byte-order mark, which jsonl.py shows inside "not valid JSON (...) (不是有效的 JSON)".
NOT_SEEN = {"TypeError", "InvalidTypeError", "ConstructorError", "JSONDecodeError"}


def _english_only(call_or_text: ast.expr) -> bool:
    """A message written here with English words and no Chinese (a wrapper that ends with the
    ``problem`` or exception it passes on, already in both, is not one)."""
    if isinstance(call_or_text, ast.JoinedStr) and call_or_text.values:
        last = call_or_text.values[-1]
        if isinstance(last, ast.FormattedValue) and isinstance(last.value, ast.Name) \
                and last.value.id in ("problem", "exc", "message"):
            return False
    text = "".join(n.value for n in ast.walk(call_or_text) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return bool(re.search("[A-Za-z]{2}", text)) and not has_chinese(text)


def test_every_roster_and_tree_message_carries_its_chinese() -> None:
    """Every message the roster, the tree, positions and households raise (and every
    ``*_problem`` reason) ends with its Chinese, as refusals do: a new English-only one fails here."""
    root = Path(__file__).resolve().parent.parent
    english: list[str] = []
    for name in ROSTER_SOURCES:
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                func = node.exc.func
                kind = getattr(func, "id", None) or getattr(func, "attr", None)
                if kind in ("Problem", "passed_on"):  # the service's: (slug, detail, detail_zh)
                    if len(node.exc.args) >= 2 and _english_only(node.exc.args[1]) and len(node.exc.args) < 3 \
                            and not any(k.arg == "detail_zh" for k in node.exc.keywords):
                        english.append(f"{name}:{node.lineno}")
                elif kind == "Open311Error":  # (status, description): the description ends with its Chinese
                    if len(node.exc.args) >= 2 and _english_only(node.exc.args[1]):
                        english.append(f"{name}:{node.lineno}")
                elif kind not in NOT_SEEN and _english_only(node.exc.args[0]):
                    english.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "problems" and node.args \
                    and _english_only(node.args[0]):
                english.append(f"{name}:{node.lineno}")  # scenario_problems' list
            if isinstance(node, ast.FunctionDef) and (node.name.endswith("_problem") or node.name == "crowded"
                                                      or node.name == "_say"):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.JoinedStr | ast.Constant) \
                            and _english_only(ret.value):
                        english.append(f"{name}:{ret.lineno}")
    assert not english, english
    # The check finds what it should: cc4b7c2's roster mistakes, and a message made up here.
    assert _english_only(ast.parse('f"{where}: levels must be a list"', mode="eval").body)
    assert not _english_only(ast.parse('f"{where}: levels must be a list (应为列表)"', mode="eval").body)


def test_positions_and_documents_are_refused_in_chinese_too(folder: Path) -> None:
    """Two of them through the loader: a position without its longitude, a YAML mistake."""
    nodes = folder / "nodes.csv"
    lines = nodes.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",lat,lon"] + [line + (",22.56," if line.startswith("g1,") else ",,") for line in lines[1:]]
    nodes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"give both lat and lon \(or neither\) \(经度和纬度须同时填写或都不填\)"):
        load_community(folder)
    shutil.copy(MINI / "nodes.csv", nodes)
    yaml_path = folder / "community.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "\nextra: [unclosed\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"\(YAML 格式有误\)$"):
        load_community(folder)
