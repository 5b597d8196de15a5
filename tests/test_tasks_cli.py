"""``gridcore tasks ...`` and the tasks reports, through the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "community-mini"
RULES = """\
规则集 "排查"
层级：community > grid > unit
专项任务：
  任务 入户排查：限时 3 天，由 网格长 下达，派给 专职网格员、专业网格员
积分：
  任务 入户排查：按时完成 10 分，逾期扣 5 分
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> str:
    rules = tmp_path / "tasks.rules"
    rules.write_text(RULES, encoding="utf-8")
    where = str(tmp_path / "store")
    code, out, err = run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
                         "--effective", "2025-01-01T00:00+08:00", "--store", where)
    assert code == 0, out + err
    return where


def test_assign_complete_and_see_what_is_overdue(store: str) -> None:
    code, out, err = run("tasks", "assign", "sweep-03", "--kind", "入户排查", "--node", "g1", "--actor", "m02",
                         "--title", "汛期入户排查", "--store", store, "--now", "2025-03-03T09:00+08:00")
    assert code == 0, err
    assert out == "assigned sweep-03 (入户排查) to 2: m03, m04; due before 2025-03-06T09:00:00+08:00\n"
    code, out, err = run("tasks", "complete", "sweep-03", "--node", "g1-u1", "--found", "2", "--note", "两处隐患",
                         "--actor", "m03", "--store", store, "--now", "2025-03-04T15:00+08:00")
    assert (code, out) == (0, "recorded: m03's part of sweep-03 is done (按时完成)\n"), err
    code, out, err = run("tasks", "overdue", "--store", store, "--now", "2025-03-07T09:00+08:00",
                         "--format", "json")
    rows = json.loads(out)["rows"]
    assert [(r["member"], r["name"], r["overdue by"]) for r in rows] == [("m04", "赵刚", "1d 0h")]
    code, out, err = run("tasks", "list", "--period", "2025-03", "--store", store, "--now",
                         "2025-03-07T09:00+08:00", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert [(r["task"], r["done"], r["overdue"], r["on time %"]) for r in table] == [("sweep-03", "1", "1", "50")]
    code, out, err = run("tasks", "show", "sweep-03", "--store", store, "--now", "2025-03-07T09:00+08:00")
    assert "两处隐患" in out and "overdue 逾期未完成" in out and "done 按时完成" in out
    # the deduction is booked at the deadline once time has passed it (tick), with the rule that decided it
    assert run("tick", "--store", store, "--now", "2025-03-07T09:00+08:00")[0] == 0
    code, out, err = run("explain", "points:sweep-03:overdue:m04", "--store", store)
    assert "task sweep-03 (入户排查) not done by its deadline" in out and "tasks.rules:6" in out


def test_a_refused_step_says_why_and_changes_nothing(store: str) -> None:
    code, out, err = run("tasks", "assign", "s1", "--kind", "入户排查", "--node", "g1", "--actor", "m03",
                         "--store", store, "--now", "2025-03-03T09:00+08:00")
    assert code == 1 and "m03 may not assign 入户排查 at g1" in err and "无权下达此任务" in err
    code, out, err = run("tasks", "list", "--store", store, "--now", "2025-03-03T09:00+08:00")
    assert "(no rows / 无记录)" in out
    code, out, err = run("tasks", "show", "s1", "--store", store)
    assert code == 1 and "unknown task 's1'" in err


def test_the_reports_are_reachable_by_name(store: str) -> None:
    run("tasks", "assign", "s1", "--kind", "入户排查", "--node", "g1", "--actor", "m02", "--store", store,
        "--now", "2025-03-03T09:00+08:00")
    code, out, err = run("report", "tasks.task", "-p", "task=s1", "--store", store, "--format", "json")
    assert code == 0, err
    assert [r["member"] for r in json.loads(out)["rows"]] == ["m03", "m04"]
    code, out, err = run("tasks", "cancel", "s1", "--reason", "台风", "--actor", "m02", "--store", store,
                         "--now", "2025-03-04T09:00+08:00")
    assert (code, out) == (0, "cancelled s1\n"), err
    assert "cancelled" in run("tasks", "list", "--store", store, "--now", "2025-03-09T09:00+08:00")[1]


def test_under_zh_a_tasks_cells_and_notes_are_chinese(store: str) -> None:
    """Under ``--lang zh`` (text and a CSV for staff) a status Chinese first (``逾期未完成 overdue``), a cancelled
    task's note so (``已取消 cancelled``), ``tasks show``'s notes in Chinese alone, how late in days and hours
    (``1天0小时``); ``gridcore report`` says them so too. English and JSON as before."""
    from zhsweep import english_rows

    now = ("--store", store, "--now", "2025-03-07T09:00+08:00")
    assert run("tasks", "assign", "sweep-03", "--kind", "入户排查", "--node", "g1", "--actor", "m02", "--title",
               "汛期入户排查", "--store", store, "--now", "2025-03-03T09:00+08:00")[0] == 0
    assert run("tasks", "complete", "sweep-03", "--node", "g1-u1", "--found", "2", "--actor", "m03", "--store", store,
               "--now", "2025-03-04T15:00+08:00")[0] == 0
    assert run("tasks", "assign", "sweep-04", "--kind", "入户排查", "--node", "g1", "--actor", "m02", "--store", store,
               "--now", "2025-03-05T09:00+08:00")[0] == 0
    assert run("tasks", "cancel", "sweep-04", "--reason", "台风", "--actor", "m02", "--store", store,
               "--now", "2025-03-05T10:00+08:00")[0] == 0
    names = frozenset({"m02", "m03", "m04", "g1"})
    shown = {call: run("--lang", "zh", "tasks", *call.split(), *now)[1]
             for call in ("show sweep-03", "show sweep-04", "overdue", "list")}
    reported = run("--lang", "zh", "report", "tasks.task", "-p", "task=sweep-03", "--store", store)[1]
    assert [line for text in shown.values() for line in english_rows(text, names)] == []
    assert "逾期未完成 overdue" in shown["show sweep-03"] and "按时完成 done" in shown["show sweep-03"]
    assert "入户排查（g1）：m02 于 2025-03-03 09:00 派发，2025-03-06 09:00 前完成" in shown["show sweep-03"]
    assert "已取消：m02 于 2025-03-05 10:00 取消，原因：台风" in shown["show sweep-04"]
    assert "1天0小时" in shown["overdue"] and "已取消 cancelled" in shown["list"]
    assert "入户排查（g1）：m02 于 2025-03-03 09:00 派发" in reported and "派发，2025-03-06 09:00 前完成" in reported
    csv_zh = run("--lang", "zh", "tasks", "show", "sweep-03", *now, "--format", "csv")[1]
    assert "逾期未完成 overdue" in csv_zh and csv_zh.startswith("\ufeff")
    # English and JSON as they were
    english = run("--lang", "en", "tasks", "show", "sweep-03", *now)[1]
    assert "overdue 逾期未完成" in english and "入户排查 at g1, assigned by m02 2025-03-03 09:00, due before " in english
    assert "1d 0h" in run("--lang", "en", "tasks", "overdue", *now)[1]
    rows = json.loads(run("--lang", "zh", "tasks", "show", "sweep-03", *now, "--format", "json")[1])["rows"]
    assert {r["status"] for r in rows} == {"done 按时完成", "overdue 逾期未完成"}
