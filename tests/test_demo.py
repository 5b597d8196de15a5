"""``gridcore demo``: the main job, run through the CLI as the README runs it."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import quarters
from click.testing import CliRunner
from openpyxl import load_workbook

import gridcore_escalation as escalation
from gridcore import Engine
from gridcore_app.cli import main_group
from gridcore_app.simulate import RULESETS_DIR


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_the_default_demo_runs_the_yinquan_quarter(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``gridcore demo`` with no option: Yinquan's quarter, through the CLI (run once a session and read here, by
    tests/test_demo_realism.py and by tests/test_chinese_demos.py: ``quarters.quarter``)."""
    built = quarters.quarter(tmp_path_factory, quarters.DEFAULT)
    out, code, text = built.out, built.code, built.printed
    assert code == 0, text
    assert text.startswith("银泉社区 (yinquan): 90 days from 2025-01-01 (seed 1), ruleset 银泉社区")
    for heading in ("== Points board", "== Incidents by the level they reached (按所到层级统计事件), 2025-Q1",
                    "== Overdue at the end (超时事件)",
                    "== Star ratings (评星定级), 2025-Q1", "== Files"):
        assert heading in text
    # Every grid is rated, with stars and a score.
    for g in range(1, 9):
        assert re.search(rf"yq-g{g}\s+\S+\s+[1-5]\s+\d", text), g
    stored = int(re.search(r"(\d+) stored", text).group(1))  # type: ignore[union-attr]
    # each kind of refusal keeps its reason's Chinese (was: "refused 1 x insufficient balance")
    refusals = [line for line in text.splitlines() if line.startswith("    refused ")]
    assert refusals and all(re.search(r"[\u4e00-\u9fff]", line) for line in refusals), refusals
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert f"{len(lines)} events simulated" in text
    assert (out / "reports" / "assessment-ratings-2025-Q1.svg").read_text(encoding="utf-8").startswith("<?xml")
    assert (out / "reports" / "points-board-2025-03.csv").exists()
    assert (out / "reports" / "assessment-ratings-2025-Q1.txt").exists()
    # The store holds what the summary says, and the quarter's assessment.
    with Engine.open(store=str(out / "store"), read_only=True) as engine:
        primary = sum(1 for e in engine.events() if e.actor != "system")
        assert primary == stored
        assert engine.ruleset is not None and engine.ruleset.name == "银泉社区"
    # Every report is in one workbook too, a sheet each with Chinese headings, and
    # reads back through openpyxl as the CSV beside it says (which opens in Excel: a BOM).
    book = load_workbook(out / "reports" / "reports.xlsx")
    board_csv = (out / "reports" / "points-board-2025-03.csv").read_text(encoding="utf-8")
    assert board_csv.startswith("\ufeff")
    assert len(book.sheetnames) == len(list((out / "reports").glob("*.csv")))
    sheet = book["points-board-2025-03"]
    assert [c.value for c in sheet[2]] == ["排名 rank", "成员编号 member", "名称 name", "角色 role",
                                           "获得积分 earned", "积分余额 balance"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3) if row[0].value is not None]
    from_csv = list(csv.reader(io.StringIO(board_csv.removeprefix("\ufeff"))))[1:]
    assert [[str(v) for v in row] for row in rows] == from_csv
    assert all(cell.data_type != "f" for ws in book for row in ws.iter_rows() for cell in row)
    # The points board is tilted toward gridworkers: the top is full-time staff.
    board = text.split("== Points board")[1].split("==")[0]
    assert board.count("专职网格员") >= 5

    # What-if over the quarter just simulated: the proposal's every change shows,
    # each explained by the proposal's own lines.
    rules = RULESETS_DIR / "yinquan"
    code, report = run("diff", "--events", str(out / "events.jsonl"), "--ruleset", str(rules / "yinquan.rules"),
                       "--ruleset", str(rules / "yinquan-proposal.rules"), "--format", "json")
    assert code == 0
    doc = json.loads(report)
    assert doc["events"] == len(lines)
    assert set(doc["summary"]) >= {"points", "incidents", "stars", "scores"}
    for kind in ("points", "incidents", "stars"):
        cited = {r["file"] for c in doc["changes"] if c["kind"] == kind for r in c["rules_b"]}
        assert any(f.endswith("yinquan-proposal.rules") for f in cited), kind


def test_a_rerun_rebuilds_the_store_and_gives_the_same_summary(tmp_path: Path) -> None:
    out = tmp_path / "again"
    first = run("demo", "--days", "12", "--seed", "5", "--out", str(out))
    log = (out / "events.jsonl").read_bytes()
    second = run("demo", "--days", "12", "--seed", "5", "--out", str(out))
    assert first == second
    assert (out / "events.jsonl").read_bytes() == log
    other = run("demo", "--days", "12", "--seed", "6", "--out", str(tmp_path / "other"))
    assert other[1] != first[1].replace(str(out), str(tmp_path / "other"))


def test_the_demo_log_is_what_ingest_and_diff_read(tmp_path: Path) -> None:
    out = tmp_path / "log"
    run("demo", "--days", "3", "--out", str(out))
    for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        assert {"id", "time", "actor", "node", "kind"} <= set(doc)


def test_unknown_community_and_missing_ruleset_are_clear_errors(tmp_path: Path) -> None:
    code, text = run("demo", "--community", "atlantis", "--out", str(tmp_path / "x"))
    assert code == 1
    assert "no community 'atlantis'; known: chengqiao (城桥镇), cuihu (翠湖社区)" in text
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("community.yaml", "nodes.csv", "members.csv", "roles.csv", "departments.csv", "places.csv",
                 "scenario.yaml"):
        (bare / name).write_bytes((RULESETS_DIR / "yinquan" / name).read_bytes())
    code, text = run("demo", "--community", str(bare), "--days", "2", "--out", str(tmp_path / "y"))
    assert code == 1
    assert "no ruleset in" in text and "give --ruleset" in text


@pytest.mark.parametrize("name", ["cuihu", "xingfuwan", "chengqiao"])
def test_every_community_runs_a_short_demo(name: str, tmp_path: Path) -> None:
    code, text = run("demo", "--community", name, "--start", "2025-03-03", "--days", "14",
                     "--out", str(tmp_path / name))
    assert code == 0, text
    assert "== Star ratings (评星定级), 2025-W11" in text and "== Points board" in text
    assert "rated: 2025-W11 (whole periods inside the 14 simulated days); not rated: 2025-Q1, 2025-03" in text
    # each level of the stars' spread as the community names it (was: "grid", "microgrid" alone)
    spread = text.split("== How many rated nodes hold each star (各星级节点数), 2025-W11\n")[1].split("\n\n")[0]
    rows = spread.splitlines()[3:]
    assert rows and all(re.match(r"[\u4e00-\u9fff]+ [a-z_]+ ", row) for row in rows), spread
    if name == "xingfuwan":  # its households against the district's grid size (Yinzhou's 300 households)
        sizes = text.split("== Households and people against the planned grid size (网格规划): ")[1].split("==")[0]
        assert sizes.startswith("34 cells") and "xn-xfw-e1  幸福湾一期" in sizes and "in plan" in sizes


def test_a_broken_ruleset_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    out = tmp_path / "kept"
    assert run("demo", "--days", "2", "--out", str(out))[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.rules"
    bad.write_text('extends "district-base"\nlevels: community > grid > unit\npoints:\n'
                   "  activity 志愿服务 6 per hour\n", encoding="utf-8")
    code, text = run("demo", "--days", "2", "--ruleset", str(bad), "--out", str(out))
    assert code == 1
    assert "bad.rules:4:17: error: a colon is missing" in text
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    wrong = tmp_path / "five.rules"
    wrong.write_text('extends "district-base"\nlevels: county > township > village > group > microgrid\n'
                     "assessment:\n  rate: group\n", encoding="utf-8")
    code, text = run("demo", "--days", "2", "--ruleset", str(wrong), "--out", str(out))
    assert code == 1 and "expects levels county > township" in text


def test_the_demo_shows_what_plugins_showcase_without_naming_them(tmp_path: Path) -> None:
    """A third party's showcased report is built and printed like the built-ins' are."""
    from thirdparty import install_plugin, uninstall

    site = tmp_path / "site"
    install_plugin(site, "gridcore-patrolboard", "gridcore_patrolboard", '''
from gridcore import Table, hookimpl
from gridcore.reports import PER_MONTH, Report, Showcase

def build(engine, params):
    count = sum(1 for e in engine.events(kinds=["patrol_logged"]) if e.time.strftime("%Y-%m") == params["month"])
    return Table(title="patrols", columns=("month", "patrols"), rows=((params["month"], count),))

@hookimpl
def gridcore_register_reports():
    return [Report("patrolboard.month", "Patrols in a month", build, ("month",),
                   showcase=Showcase(PER_MONTH, "Patrols logged, {label}", order=5))]
''')
    try:
        code, text = run("demo", "--days", "35", "--out", str(tmp_path / "out"))
    finally:
        uninstall(site, "gridcore_patrolboard")
    assert code == 0, text
    section = text.split("== Patrols logged, 2025-02")[1].split("==")[0]
    assert re.search(r"2025-02\s+\d+", section)
    assert text.index("== Patrols logged") < text.index("== Points board")  # order 5 before 10
    for month in ("2025-01", "2025-02"):
        assert (tmp_path / "out" / "reports" / f"patrolboard-month-{month}.csv").exists()


def english_runs(line: str) -> list[str]:
    """Runs of two or more English words in ``line`` (ids, codes, dates and paths are single words)."""
    return re.findall(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,})+", line)


def test_the_demo_and_assess_say_their_lines_in_chinese_under_lang_zh(tmp_path: Path) -> None:
    """Every line of the demo's opening and its files says itself in Chinese too, the people rated show their
    role by its Chinese name, and ``assess --lang zh`` heads each term's rule and its period with Chinese
    (each was English only)."""
    out = tmp_path / "yq"
    code, text = run("--lang", "zh", "demo", "--start", "2025-03-03", "--days", "14", "--out", str(out))
    assert code == 0, text
    head = text.split("\n\n== ")[0].splitlines()
    files = text.split("== 文件\n")[1].splitlines()  # (Chinese first under zh: gridcore_app.demo)
    assert head[0] == "银泉社区 (yinquan)：模拟 14 天，自 2025-03-03 起，随机种子 1；规则集 银泉社区", head[0]
    for line in head + files:
        assert re.search(r"[\u4e00-\u9fff]", line.split(")")[-2] if ")" in line else line), line
    assert "\n  评星：2025-W11（模拟的 14 天内的完整周期）；不评星：2025-Q1、2025-03（" in text
    chart = (out / "reports" / "assessment-ratings-2025-W11.svg").read_text(encoding="utf-8")
    # the run's language: the legend names each metric in Chinese alone (巡查覆盖率), no English title
    drawn = re.sub(r'id="[^"]*"', "", chart)  # (what is drawn: the marks' ids name the metrics)
    assert "巡查覆盖率" in drawn and "patrol_coverage" not in drawn and "stars per node" not in drawn
    people = text.split("== 人员考核，2025年第11周：")[1].split("\n\n")[0]
    assert "专职网格员 fulltime_gridworker" in people, people
    code, said = run("--lang", "zh", "assess", "--period", "2025-W11", "--dry-run", "--store", str(out / "store"))
    assert code == 0, said
    footer = said.split("\n")[said.split("\n").index(next(line for line in said.splitlines()
                                                          if line.startswith("时段 2025-W11："))):]
    assert "规则集 银泉社区" in footer[0], footer[0]
    rules = [line for line in footer[1:] if re.search(r"\.rules:\d+$", line)]
    assert rules and all(re.match(r"[\u4e00-\u9fff]", line) for line in rules), rules
    assert "巡查覆盖率 patrol_coverage: district-base.rules:" in said
    assert "逾期任务数（扣分） overdue_tasks (adj.): yinquan.rules:" in said
    english = run("assess", "--period", "2025-W11", "--dry-run", "--store", str(out / "store"))[1]
    assert "\npatrol_coverage: district-base.rules:" in english  # English keeps the id alone


def test_a_scenario_ruleset_put_in_force_mid_run_is_judged_and_simulated_from_its_day(tmp_path: Path) -> None:
    """The scenario's ``rulesets:`` puts a ruleset in force from a day inside the run (its units get a
    working hour to accept from the second Monday): the demo puts it in force in the store from that day,
    the simulator reads the ladder of both, and nothing is refused but what was meant; the run's line says
    which ruleset from when, in English and Chinese.  A ruleset file that is not there is a clear error."""
    folder = tmp_path / "yq"
    folder.mkdir()
    for name in ("community.yaml", "nodes.csv", "members.csv", "roles.csv", "departments.csv", "places.csv"):
        (folder / name).write_bytes((RULESETS_DIR / "yinquan" / name).read_bytes())
    (folder / "yq.rules").write_bytes((RULESETS_DIR / "yinquan" / "yinquan.rules").read_bytes())
    (folder / "tight.rules").write_text('extends "yq"\nruleset 单元一小时受理\n\nescalation:\n'
                                        "  override limit unit: accept within 1 working hour, resolve within 3 working days\n",
                                        encoding="utf-8")
    scenario = (RULESETS_DIR / "yinquan" / "scenario.yaml").read_text("utf-8")
    (folder / "scenario.yaml").write_text(scenario + "\n规则集:\n  - {生效日期: 2025-03-10, 文件: tight.rules}\n",
                                          encoding="utf-8")
    code, text = run("demo", "--community", str(folder), "--start", "2025-03-03", "--days", "14",
                     "--out", str(tmp_path / "out"))
    assert code == 0, text
    first = text.splitlines()[0]
    assert first.endswith("ruleset 银泉社区, then 单元一小时受理 from 2025-03-10 (模拟 14 天，自 2025-03-03 起，随机种子 1；"
                          "规则集 银泉社区，自 2025-03-10 起 单元一小时受理)"), first
    assert "0 not intended (非有意，模拟与规则不符)" in text, text
    with Engine.open(store=str(tmp_path / "out" / "store")) as engine:
        assert [(e.effective.date().isoformat(), e.ruleset.name) for e in engine.rulesets_in_force()] == [
            ("2025-03-03", "银泉社区"), ("2025-03-10", "单元一小时受理")]
        # its hour carried cases up from their units from that Monday, and the simulator had them taken on there
        tightened = [v for v in escalation.incidents(engine)
                     if any(s.rule is not None and s.rule.name == "tight.rules" for s in v.escalations)]
        assert tightened and all(v.reported_at.date().isoformat() >= "2025-03-10" for v in tightened)
    (folder / "scenario.yaml").write_text(scenario + "\nrulesets:\n  - {effective: 2025-03-10, file: changes/tight.rules}\n",
                                          encoding="utf-8")
    code, text = run("demo", "--community", str(folder), "--days", "2", "--out", str(tmp_path / "out"))
    assert code == 1
    assert (f"rulesets[0].file: no ruleset file 'changes/tight.rules' in {folder} (a path relative to the scenario file) "
            "(找不到规则集文件：路径相对于场景文件)") in text
