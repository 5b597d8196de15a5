"""``gridcore --lang zh report NAME``: a report reads in Chinese as the command that shows the same table does.

``gridcore report escalation.timeline`` under ``--lang zh`` (text, a CSV for Excel, a workbook) says each
line's step and detail in Chinese as ``gridcore incidents timeline`` does, the title's category and the
self-closing flag too; ``escalation.open`` and ``escalation.stats`` name categories, levels and statuses in
Chinese. JSON and English keep the codes and the English the store holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from openpyxl import load_workbook
from test_escalation_detail_zh import LATE, _store, english_left, run


def _report(store: str, name: str, *args: str, lang: str = "zh", fmt: str = "text") -> str:
    shown = run("--lang", lang, "report", name, *args, "--format", fmt, "--store", store)
    assert shown.exit_code == 0, shown.output
    return shown.output


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # a CSV for Excel keeps its byte-order mark
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_timeline_report_reads_in_chinese_as_incidents_timeline_does(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for incident in ("I1", "I3", "F1", "G1", "G2"):
        shown = run("--lang", "zh", "incidents", "timeline", incident, "--format", "csv", "--store", store,
                    "--now", LATE).output
        reported = _report(store, "escalation.timeline", "-p", f"incident={incident}", fmt="csv")
        assert _rows(reported) == _rows(shown)
        rows = _rows(reported)
        assert rows[0][:2] == ["时间 time", "环节 step"]
        for row in rows[1:]:
            assert re.search(r"[\u4e00-\u9fff]", row[1]), row  # 受理 accepted
            assert not row[4] or (re.search(r"[\u4e00-\u9fff]", row[4]) and not english_left(row[4])), row
    text = _report(store, "escalation.timeline", "-p", "incident=I1")
    # (the title in Chinese alone: the incident and its category by the ruleset's name)
    assert text.startswith("事件办理过程：I1（水管漏水）\n")
    assert "核查满意度 1（规则：when satisfaction <= 2 时重新办理）" in text
    out = tmp_path / "I1.xlsx"
    written = run("--lang", "zh", "report", "escalation.timeline", "-p", "incident=I1", "--out", str(out),
                  "--store", store)
    assert written.exit_code == 0, written.output
    lines = len(_rows(_report(store, "escalation.timeline", "-p", "incident=I1", fmt="csv"))) - 1
    assert f"\n已写出 {lines} 行：{out}\n" in f"\n{written.output}", written.output  # (Chinese first: alone)
    sheet = load_workbook(out).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "受理 accepted" in cells and "退单 returned" in cells
    assert "条线部门 外海派出所（police） 退回：不属于公安职责" in cells
    # the sheet's title as text says it under zh, Chinese first; in English as before
    assert sheet["A1"].value == text.splitlines()[0] == "事件办理过程：I1（水管漏水）"
    english = tmp_path / "I1-en.xlsx"
    assert run("--lang", "en", "report", "escalation.timeline", "-p", "incident=I1", "--out", str(english),
               "--store", store).exit_code == 0
    assert load_workbook(english).active["A1"].value == "Incident I1 (leaking_pipe), step by step (事件办理过程)"


def test_a_self_closed_case_flags_itself_in_chinese(tmp_path: Path) -> None:
    store = _store(tmp_path)
    steps = [("report", "S1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1"),
             ("accept", "S1", "--actor", "worker1"), ("resolve", "S1", "--actor", "worker1"),
             ("verify", "S1", "--actor", "leader1", "--satisfaction", "5"), ("close", "S1", "--actor", "leader1")]
    for minute, step in enumerate(steps):
        done = run("incidents", *step, "--store", store, "--now", f"2025-03-04T09:{minute:02d}+08:00")
        assert done.exit_code == 0, done.output
    text = _report(store, "escalation.timeline", "-p", "incident=S1")
    flag = next(line for line in text.splitlines() if line.startswith("标记："))  # (Chinese first: it says it all)
    assert flag == "标记：上报、办结均由 worker1 完成（上报人自己办结或结案）", flag


def test_open_and_stats_name_categories_levels_and_statuses_in_chinese(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = _rows(_report(store, "escalation.open", fmt="csv"))
    header = rows[0]
    record = {h.split(" ")[-1]: cell for h, cell in zip(header, next(r for r in rows[1:] if r[2] == "I3"))}
    assert record["category"].endswith(" leaking_pipe") and re.search(r"[\u4e00-\u9fff]", record["category"])
    assert re.match(r"[\u4e00-\u9fff]+ ", record["level"]) and re.match(r"[\u4e00-\u9fff]+", record["status"])
    stats = _rows(_report(store, "escalation.stats", "-p", "period=2025-03", fmt="csv"))
    assert all(re.match(r"[\u4e00-\u9fff]", row[1]) for row in stats[1:]), stats
    assert ["水管漏水 leaking_pipe" in row[0] for row in stats[1:]].count(True) >= 1, stats


def test_json_and_english_keep_the_codes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rows = json.loads(_report(store, "escalation.timeline", "-p", "incident=I3", fmt="json"))["rows"]
    assert [r["step"] for r in rows][:2] == ["reported", "routed"]
    assert any(r["detail"].startswith("to grid g1: not accepted within 2 hours") for r in rows)
    english = _report(store, "escalation.timeline", "-p", "incident=I3", lang="en")
    assert "to grid g1: not accepted within 2 hours at unit u11" in english
    assert english.startswith("Incident I3 (leaking_pipe), step by step")
    assert _rows(_report(store, "escalation.open", lang="en", fmt="csv"))[0][:3] == ["node", "level", "incident"]


def test_a_workbooks_sheet_is_named_in_chinese_under_zh_and_by_the_report_in_english(tmp_path: Path) -> None:
    """A sheet's name is what Excel's tabs show: under zh the report's Chinese name and the period in Chinese
    (``2025年3月``, which ``--period`` reads back), in English the report's id as before."""
    store = _store(tmp_path)
    chinese, english = tmp_path / "stats.xlsx", tmp_path / "stats-en.xlsx"
    for lang, out in (("zh", chinese), ("en", english)):
        written = run("--lang", lang, "report", "escalation.stats", "-p", "period=2025-03", "--out", str(out),
                      "--store", store)
        assert written.exit_code == 0, written.output
    assert load_workbook(chinese).sheetnames == ["事件统计 2025年3月"]
    assert load_workbook(english).sheetnames == ["escalation.stats"]
    timeline = tmp_path / "I1.xlsx"
    assert run("--lang", "zh", "report", "escalation.timeline", "-p", "incident=I1", "--out", str(timeline),
               "--store", store).exit_code == 0
    assert load_workbook(timeline).sheetnames == ["事件办理过程"]


def test_sheet_names_keep_within_excels_limits(tmp_path: Path) -> None:
    """Chinese names long or alike stay 31 characters at most, without Excel's forbidden characters, and unique."""
    from gridcore import Table
    from gridcore_app.reportbook import sheet_name_zh, write_tables

    long = Table("条线部门吹哨报到按时报到按时办结退单统计表及其明细及各街道社区汇总 (Departments)", ("a",), [(1,)])
    odd = Table("Odd [x]: y/z? (积分*公示)", ("a",), [(1,)])
    assert sheet_name_zh(long, "escalation.departments", "2025-Q1").endswith("2025年一季度")
    assert sheet_name_zh(odd, "x.y") == "积分*公示"
    assert sheet_name_zh(Table("Plain English", ("a",), []), "points.board", "2025-03") == "points.board 2025年3月"
    path = Path(write_tables(tmp_path / "b.xlsx",
                             [(sheet_name_zh(long, "d", "2025-Q1"), long)] * 2 + [(sheet_name_zh(odd, "x"), odd)],
                             "zh"))
    names = load_workbook(path).sheetnames
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)
    assert not any(c in n for n in names for c in "[]:*?/\\")
