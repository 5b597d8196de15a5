"""A street office's walk (街道网格办): a street and its communities from a roster workbook with
Chinese headings, the street's ruleset and a community's variant written in Chinese, then the
commands the office runs on them, each through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from gridcore_app.cli import main_group
from gridcore_app.rosterbook import write_template

STREET_RULES = """\
# 东湖街道的规则：街道下各社区共用
继承 "district-base"
规则集 东湖街道
层级：street（街道）> community（社区）> grid（网格）

积分：
  活动 入户走访：每件 2 分，每月最多 40 分
  倾斜 专职网格员：2 倍

考核：
  评定层级：网格

事件流转：
  事件 任意：起始于 网格
  时限 网格：受理时限 4个工作小时，办结时限 3个工作日
  时限 社区：受理时限 1个工作日，办结时限 5个工作日
  时限 街道：受理时限 1个工作日，办结时限 10个工作日
  提级 重大：立即 上报到 社区 当 事件.严重程度 >= 4
"""

COMMUNITY_RULES = """\
# 东湖社区自己的规则
继承 "东湖街道"
规则集 东湖社区
适用于：东湖社区

积分：
  覆盖 活动 入户走访：每件 3 分，每月最多 60 分
  活动 垃圾分类督导：每小时 4 分，每月最多 20 分

事件流转：
  类别 高空抛物：高空抛物，分组 社会治安
  覆盖 时限 网格：受理时限 2个工作小时，办结时限 2个工作日
"""

NODES = [("dh", "东湖街道", "街道", None), ("dh-c1", "东湖社区", "社区", "dh"), ("dh-c2", "西湖社区", "社区", "dh"),
         ("dh-c1-g1", "第一网格", "网格", "dh-c1"), ("dh-c1-g2", "第二网格", "网格", "dh-c1"),
         ("dh-c2-g1", "第一网格", "网格", "dh-c2"), ("dh-c2-g2", "第二网格", "网格", "dh-c2")]
MEMBERS = [("m01", "李书记", "是", "dh"), ("m02", "王专干", "是", "dh"), ("m03", "张网格长", "是", "dh-c1"),
           ("m04", "赵网格长", "否", "dh-c2"), ("m05", "刘网格员", "否", "dh-c1-g1"),
           ("m06", "陈网格员", "否", "dh-c1-g2"), ("m07", "杨网格员", "否", "dh-c2-g1"),
           ("m08", "黄网格员", "否", "dh-c2-g2"), ("m09", "周民警", "否", "dh"), ("m10", "吴居民", "否", "dh-c1-g1")]
ROLES = [("m01", "总网格长", "dh", None), ("m02", "街道网格专干", "dh", None), ("m03", "网格长", "dh-c1", None),
         ("m04", "网格长", "dh-c2", None), ("m05", "专职网格员", "dh-c1-g1", None),
         ("m06", "专职网格员", "dh-c1-g2", None), ("m07", "专职网格员", "dh-c2-g1", None),
         ("m08", "专职网格员", "dh-c2-g2", None), ("m09", "专业网格员", "dh", "police"),
         ("m10", "居民", "dh-c1-g1", None)]


def street_workbook(path: Path) -> Path:
    """东湖街道's roster as the office fills in gridcore's template: Chinese headings and values."""
    import openpyxl

    write_template(path)
    book = openpyxl.load_workbook(path)
    settings = {"名称 name": "东湖街道", "时区 timezone": "Asia/Shanghai", "层级 levels": "street > community > grid",
                "层级名称 level_names": "街道 > 社区 > 网格", "自定义角色 roles": "street_officer=街道网格专干"}
    for row in book["社区 community"].iter_rows(min_row=2):
        if row[0].value in settings:
            row[1].value = settings[row[0].value]
    for node in NODES:
        book["节点 nodes"].append(list(node))
    for id_, name, party, home in MEMBERS:
        book["成员 members"].append([id_, name, "138000000" + id_[1:], party, home])
    for role in ROLES:
        book["职责 roles"].append(list(role))
    book["部门 departments"].append(["police", "派出所"])
    book.save(path)
    return path


@pytest.fixture
def street(tmp_path: Path) -> Path:
    """The office's folder: 花名册.xlsx, the street's ruleset and 东湖社区's variant, a scenario."""
    folder = tmp_path / "东湖"
    folder.mkdir()
    street_workbook(folder / "花名册.xlsx")
    (folder / "东湖街道.rules").write_text(STREET_RULES, encoding="utf-8")
    (folder / "东湖社区.rules").write_text(COMMUNITY_RULES, encoding="utf-8")
    scenario = (REPO / "rulesets" / "yinzhou" / "scenario.yaml").read_text(encoding="utf-8")
    scenario = scenario.replace("whistle: fire, whistle_share: 0.2,\n                routed: fire,", "")
    scenario = scenario.replace("routed: urban_management,", "").split("\ndemo:")[0]
    # a street has no command centre: its cases that climb are taken on by its officers
    scenario = scenario.replace("climbed_handlers: [street_officer, dispatcher, committee_member]",
                                "climbed_handlers: [street_officer, committee_member]")
    (folder / "scenario.yaml").write_text(scenario, encoding="utf-8")
    return folder


def test_simulate_takes_the_roster_workbook_and_the_scenario_beside_it(street: Path) -> None:
    # `gridcore simulate --community 花名册.xlsx` (was: "no community '花名册.xlsx'; known: ...")
    out = street / "week.jsonl"
    done = CliRunner().invoke(main_group, ["simulate", "--community", str(street / "花名册.xlsx"), "--days", "2",
                                           "--start", "2025-03-03", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "events of 东湖街道 (2 days, seed 1)" in done.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and any('"dh-c2-g1"' in line for line in lines)


def test_a_variants_roster_problems_name_the_community_it_governs(street: Path) -> None:
    # 东湖社区's variant names a verifier nobody holds there: the warning is about 东湖社区's grids
    # (was: "the 2 cells of 东湖街道", the street, whose other community the variant does not govern)
    rules = street / "东湖社区.rules"
    rules.write_text(COMMUNITY_RULES.replace("  类别 高空抛物", "  核查人：楼栋长\n  类别 高空抛物"), encoding="utf-8")
    runner = CliRunner()
    english = runner.invoke(main_group, ["check", "--community", str(street / "花名册.xlsx"), str(rules)])
    assert english.exit_code == 1
    assert "东湖社区.rules:11:7: error: no building_leader at or above 2 of the 2 cells of 东湖社区 (第一网格、第二网格)" \
        in english.output
    chinese = runner.invoke(main_group, ["--lang", "zh", "check", "--community", str(street / "花名册.xlsx"), str(rules)])
    assert "东湖社区.rules:11:7: 错误: 东湖社区 的 2 个" in chinese.output and "东湖街道" not in chinese.output
    # a grid cell is 最小网格: 单元 is a level (a building unit) and 单元格 a spreadsheet's cell (was: "2 个单元中有")
    assert "2 个最小网格中有 2 个（第一网格、第二网格）" in chinese.output and "单元" not in chinese.output


def test_overriding_a_limit_the_parent_lacks_says_which_limits_it_has(street: Path) -> None:
    # 楼栋 is no level of the street's rules: no slip to suggest, so the fix lists what can be overridden
    # (was: only "use the name of an item the parent has", which the author cannot see from their file)
    rules = street / "东湖社区.rules"
    rules.write_text(COMMUNITY_RULES.replace("覆盖 时限 网格", "覆盖 时限 楼栋"), encoding="utf-8")
    runner = CliRunner()
    chinese = runner.invoke(main_group, ["--lang", "zh", "check", str(rules)])
    assert chinese.exit_code == 1
    assert "东湖社区.rules:12:3: 错误: '覆盖 时限 楼栋' 要覆盖的条目在上级规则集中不存在" in chinese.output
    assert "修改: 使用上级规则集中已有条目的名称；若要新增条目，去掉“覆盖”（上级规则集中有：时限 网格、时限 社区、时限 街道）" \
        in chinese.output
    english = runner.invoke(main_group, ["check", str(rules)])
    assert "(the parent has: limit 网格, limit 社区, limit 街道)" in english.output
    # a slip keeps its did-you-mean and no list
    rules.write_text(COMMUNITY_RULES.replace("覆盖 活动 入户走访", "覆盖 活动 入户走坊"), encoding="utf-8")
    slip = runner.invoke(main_group, ["--lang", "zh", "check", str(rules)])
    assert "（是不是 '活动 入户走访'？）" in slip.output and "上级规则集中有：" not in slip.output


def test_a_node_row_with_an_unknown_level_names_its_cell_and_the_chinese_levels(tmp_path: Path) -> None:
    # the office writes the level as it says it (小区, a slip 社去): the cell, the levels it may be as the
    # roster names them, and the one probably meant (was: no column, and only 'street > community > grid')
    import openpyxl

    book_path = street_workbook(tmp_path / "花名册.xlsx")
    book = openpyxl.load_workbook(book_path)
    book["节点 nodes"].cell(row=3, column=3).value = "社去"
    book.save(book_path)
    done = CliRunner().invoke(main_group, ["hierarchy", "show", str(book_path)])
    assert done.exit_code == 1
    assert ("花名册.xlsx, sheet 节点 nodes, row 3, column C (level): node 'dh-c1' (东湖社区): unknown level '社去' "
            "(levels are street (街道) > community (社区) > grid (网格); did you mean '社区'?) "
            "(未知层级：层级应填 街道、社区、网格 之一，是不是 社区？)") in done.output


def test_checking_a_folder_without_community_yaml_says_the_tree_was_not_checked(street: Path) -> None:
    # the office keeps its roster in 花名册.xlsx beside the rules: a typo in 适用于 passes unseen unless the
    # workbook is named, so the check says what it did not do and what to add (was: "ok" and nothing else)
    (street / "东湖社区.rules").write_text(COMMUNITY_RULES.replace("适用于：东湖社区", "适用于：东胡社区"),
                                         encoding="utf-8")
    runner = CliRunner()
    chinese = runner.invoke(main_group, ["--lang", "zh", "check", str(street)])
    assert chinese.exit_code == 0
    assert "注意：这里没有 community.yaml，未对照层级树检查" in chinese.output
    assert f"请加 --community {street / '花名册.xlsx'}" in chinese.output
    english = runner.invoke(main_group, ["check", str(street)])
    assert "note: no community.yaml here, so the rulesets were not checked against a tree" in english.output
    # the fix it names works: the typo is found, with its did-you-mean
    fixed = runner.invoke(main_group, ["--lang", "zh", "check", str(street), "--community", str(street / "花名册.xlsx")])
    assert fixed.exit_code == 1 and "东湖社区.rules:4:5" in fixed.output and "是不是想写: 东湖社区" in fixed.output
    assert "注意：这里没有 community.yaml" not in fixed.output


def test_a_residents_open311_report_reads_in_chinese(street: Path) -> None:
    # the street's store set up as the office does (init with the workbook, the variant put in force), served
    from servicekit import START, served

    url = f"sqlite:///{street / 'street.db'}"
    runner = CliRunner()
    for args in (["init", "--community", str(street / "花名册.xlsx"), "--ruleset", str(street / "东湖街道.rules"),
                  "--effective", "2025-03-01T00:00+08:00", "--store", url],
                 ["use", str(street / "东湖社区.rules"), "--effective", "2025-03-01T00:00+08:00", "--store", url]):
        done = runner.invoke(main_group, args)
        assert done.exit_code == 0, done.output
    with served(url, now=START, intake="m02") as server, server.client() as client:
        taken = client.post("/open311/v2/requests.json", data={"service_code": "高空抛物", "node": "dh-c1-g2",
                                                               "description": "楼上扔东西"})
        assert taken.status_code == 201, taken.text
        # was: "community dh-c1: accept by 2025-03-04T09:00:00+08:00" alone
        assert taken.json()[0]["service_notice"] == ("grid dh-c1-g2: accept by 2025-03-03T11:00:00+08:00 "
                                                     "(第二网格（网格）2025-03-03 11:00 前受理)")
        # a roster's refusal passed on whole says its Chinese once (was: the whole message twice over)
        unknown = client.post("/open311/v2/requests.json", data={"service_code": "高空抛物", "address_id": "dh-c1-g9"})
        assert unknown.status_code == 404
        assert unknown.json() == [{"code": 404, "description": "unknown place 'dh-c1-g9' (地址编号不存在)"}]


def test_init_says_it_takes_the_roster_workbook(street: Path) -> None:
    # `gridcore init --community 花名册.xlsx` works; its help said only "the community folder"
    runner = CliRunner()
    assert "roster workbook (花名册.xlsx)" in " ".join(runner.invoke(main_group, ["init", "--help"]).output.split())
    chinese = " ".join(runner.invoke(main_group, ["--lang", "zh", "init", "--help"]).output.split())
    assert "YAML 文件或花名册工作簿（花名册.xlsx）" in chinese
    done = runner.invoke(main_group, ["init", "--community", str(street / "花名册.xlsx"), "--store",
                                      f"sqlite:///{street / 'street.db'}"])
    assert done.exit_code == 0 and "community 东湖街道 (7 nodes, 10 members)" in done.output


def test_the_dashboards_stars_tell_apart_the_grids_that_share_a_name(street: Path) -> None:
    # every community of the street has its 第一网格: on the wall screen each is named with its community
    # (was: 第一网格, 第二网格, 第一网格, 第二网格, with nothing to tell which is whose)
    from servicekit import START, served

    url = f"sqlite:///{street / 'street.db'}"
    runner = CliRunner()
    done = runner.invoke(main_group, ["init", "--community", str(street / "花名册.xlsx"), "--ruleset",
                                      str(street / "东湖街道.rules"), "--effective", "2025-03-01T00:00+08:00",
                                      "--store", url])
    assert done.exit_code == 0, done.output
    with served(url, "--public-dashboard", now=START, intake=None) as server, server.client() as client:
        page = client.get("/dashboard/stars", params={"period": "2025-03"})
        assert page.status_code == 200, page.text
        rows = [cell.split("</td>")[0] for cell in page.text.split('<tr><td>')[1:]]
        assert rows == ["东湖社区 / 第一网格", "东湖社区 / 第二网格", "西湖社区 / 第一网格", "西湖社区 / 第二网格"]
        # the chart beside the table names its bars the same way, with the ids (was: 第一网格 (dh-c1-g1) and
        # 第一网格 (dh-c2-g1), nothing on the wall screen to tell whose is whose); in English too
        english = client.get("/dashboard/stars", params={"period": "2025-03", "lang": "en"}).text
        for shown in (page.text, english):
            chart = shown[shown.index("<svg"):]
            assert all(f"{label} ({node})" in chart for label, node in (
                ("东湖社区 / 第一网格", "dh-c1-g1"), ("西湖社区 / 第一网格", "dh-c2-g1"),
                ("西湖社区 / 第二网格", "dh-c2-g2"))), chart[:2000]
    # the chart `gridcore assess --chart` draws names them so too
    chart = street / "stars.svg"
    done = runner.invoke(main_group, ["assess", "--period", "2025-03", "--store", url, "--now", "2025-04-01T09:00+08:00",
                                      "--dry-run", "--chart", str(chart)])
    assert done.exit_code == 0, done.output
    assert "西湖社区 / 第二网格 (dh-c2-g2)" in chart.read_text(encoding="utf-8")
    # under --lang zh each rated node's level as the roster names it (was: "grid" alone)
    done = runner.invoke(main_group, ["--lang", "zh", "assess", "--period", "2025-03", "--store", url, "--now",
                                      "2025-04-01T09:00+08:00", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert re.search(r"dh-c2-g2 +第二网格 +网格 grid +\d", done.output), done.output


def test_check_against_a_roster_whose_levels_differ_says_so_at_the_levels_line(street: Path) -> None:
    # the roster's levels written in Chinese (街道 > 社区 > 网格), the rules' in English: the engine refuses the
    # ruleset, and check said instead "未知的条线部门 'community'" at the 提级 line, which misleads
    import openpyxl

    book = openpyxl.load_workbook(street / "花名册.xlsx")
    for row in book["社区 community"].iter_rows(min_row=2):
        if row[0].value == "层级 levels":
            row[1].value = "街道 > 社区 > 网格"
    book.save(street / "花名册.xlsx")
    runner = CliRunner()
    for rules in ("东湖街道.rules", "东湖社区.rules"):  # the variant inherits the street's levels line
        done = runner.invoke(main_group, ["--lang", "zh", "check", "--community", str(street / "花名册.xlsx"),
                                          str(street / rules)])
        assert done.exit_code == 1
        assert ("东湖街道.rules:4:1: 错误: 规则集的层级（street > community > grid）与社区的层级（街道 > 社区 > 网格）"
                "不一致：引擎不会接受这个规则集") in done.output
        assert "修改: 在层级行写社区的层级（层级：街道 > 社区 > 网格），或改正花名册中的层级" in done.output
        assert "条线部门" not in done.output and "共 1 个错误" in done.output
