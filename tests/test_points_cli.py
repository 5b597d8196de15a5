"""``gridcore points ...`` and the points reports, through the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_points_engine import CUIHU, YINQUAN

from gridcore.codec import EventCodec
from gridcore.events import CORE_EVENT_TYPES, ActivityRecorded
from gridcore_app.cli import main_group
from gridcore_points.events import RecognitionAwarded

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "community-mini"
NOW = "2025-03-10T09:00+08:00"


def write_events(path: Path) -> Path:
    from datetime import datetime, timedelta, timezone

    cst = timezone(timedelta(hours=8))
    day = datetime(2025, 3, 3, 9, tzinfo=cst)
    events = [
        ActivityRecorded(id="a1", time=day, actor="m05", node="g1-u1", activity="志愿服务", hours=3),
        ActivityRecorded(id="a2", time=day + timedelta(days=1), actor="m03", node="g1", activity="patrol", hours=4),
        ActivityRecorded(id="a3", time=day + timedelta(days=2), actor="m08", node="g2-u1", activity="cleanup"),
        ActivityRecorded(id="a4", time=day + timedelta(days=2), actor="张伟", node="g2-u1", activity="cleanup"),
        RecognitionAwarded(id="r1", time=day + timedelta(days=3), actor="m02", node="g1", member="m05", points=10,
                           reason="楼道清理"),
    ]
    codec = EventCodec([*CORE_EVENT_TYPES, RecognitionAwarded])
    path.write_text("".join(json.dumps(codec.to_dict(e), ensure_ascii=False) + "\n" for e in events), "utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> str:
    runner = CliRunner()
    where = str(tmp_path / "store")
    result = runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(YINQUAN),
                                        "--effective", "2024-01-01T00:00+08:00", "--store", where])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main_group, ["ingest", str(write_events(tmp_path / "events.jsonl")), "--store", where])
    assert result.exit_code == 0, result.output
    return where


def points(store: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, ["points", *args, "--store", store, "--now", NOW])
    return result.exit_code, result.stdout, result.stderr


def test_balance_in_text_and_json(store: str) -> None:
    assert points(store, "balance", "m05") == (0, "周丽 (m05): 28 points (积分余额 28 分)\n", "")
    code, out, _ = points(store, "balance", "张伟", "--format", "json")
    assert code == 0 and json.loads(out) == {"member": "张伟", "name": "张伟", "balance": 12}


def test_statement_for_a_month(store: str) -> None:
    code, out, _ = points(store, "statement", "m05", "--period", "2025-03")
    assert code == 0
    assert "志愿服务: 5 per hour x 3 h x 1.2 = 18" in out
    assert "yinquan.rules:17" in out and "points:r1" in out
    assert "opening 0, earned 28, redeemed 0, expired 0, closing 28" in out
    code, out, _ = points(store, "statement", "m05", "--period", "2025-02", "--format", "json")
    assert code == 0 and json.loads(out)["rows"] == []


def test_board_ranks_members_and_shares_ties(store: str) -> None:
    code, out, _ = points(store, "board", "yq", "--month", "2025-03", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert [(r["rank"], r["member"], r["earned"]) for r in rows] == [
        ("1", "m05", "28"), ("2", "m03", "18"), ("3", "m08", "12"), ("3", "张伟", "12"),
    ]
    code, out, _ = points(store, "board", "g2", "--month", "2025-03")
    assert code == 0 and "孙悦" in out and "周丽" not in out
    # --period, as statement, totals and every other command say the period, is the same option
    assert points(store, "board", "yq", "--period", "2025-03", "--format", "csv") == points(
        store, "board", "yq", "--month", "2025-03", "--format", "csv")


def test_totals_per_node(store: str) -> None:
    code, out, _ = points(store, "totals", "yq", "--period", "2025-Q1", "--format", "json")
    assert code == 0
    rows = {r["node"]: r for r in json.loads(out)["rows"]}
    assert rows["yq"]["earned"] == 70 and rows["g2"]["earned"] == 24 and rows["g1-u1"]["earned"] == 18


def test_redeem_and_refusal_with_reason(store: str) -> None:
    code, out, _ = points(store, "redeem", "m05", "towel")
    assert code == 0 and "balance now 8" in out and "余额 8 分" in out  # and in Chinese
    code, out, _ = points(store, "redeem", "m05", "towel")  # the same redemption at the same --now
    assert code == 0 and out.startswith("already recorded: ") and "balance now 8" in out
    # A minute later (at the very same instant, canonical order by id would put
    # "p2" before the first redemption and judge it there).
    result = CliRunner().invoke(main_group, ["points", "redeem", "m05", "towel", "--quantity", "2", "--id", "p2",
                                             "--store", store, "--now", "2025-03-10T09:01+08:00"])
    code, err = result.exit_code, result.stderr
    assert code == 1
    assert "refused: insufficient balance: m05 has 8 points, 2 x towel costs 40" in err
    assert points(store, "balance", "m05")[1] == "周丽 (m05): 8 points (积分余额 8 分)\n"


def test_rewards_list_with_stock_left(store: str) -> None:
    code, out, _ = points(store, "rewards", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert [(r["reward"], r["price"], r["stock_left"], r["limit_per_member"], r["valid"]) for r in rows] == [
        ("rice", "50", "3", "1 per month", "2025-01-01 - 2025-12-31"), ("towel", "20", "", "", ""),
    ]
    # under --lang zh the limit is said in Chinese alone (a table's rows read Chinese: 214f58d)
    shown = CliRunner().invoke(main_group, ["--lang", "zh", "points", "rewards", "--store", store])
    assert shown.exit_code == 0 and "每月最多 1 件" in shown.output and "per month" not in shown.output, shown.output


def test_unknown_member_node_and_period_are_clear_errors(store: str) -> None:
    code, _, err = points(store, "balance", "nobody")
    assert code == 1 and "unknown member 'nobody'" in err
    code, _, err = points(store, "board", "nowhere", "--month", "2025-03")
    assert code == 1 and "unknown node 'nowhere' (未知节点)" in err
    # a node's name, when one node alone bears it, is that node (staff write 第一网格 for g1)
    assert points(store, "board", "第一网格", "--month", "2025-03")[:2] == points(store, "board", "g1", "--month",
                                                                                  "2025-03")[:2]
    code, _, err = points(store, "board", "第一网各", "--month", "2025-03")
    assert code == 1 and "unknown node '第一网各' (未知节点); did you mean '第一网格'?" in err
    code, _, err = points(store, "statement", "m05", "--period", "March")
    assert code == 2 and "not understood" in err
    # a period as staff write it in Chinese is the same period
    assert points(store, "statement", "m05", "--period", "2025年3月") == points(store, "statement", "m05", "--period",
                                                                               "2025-03")
    assert points(store, "totals", "yq", "--period", "2025年一季度", "--format", "csv") == points(
        store, "totals", "yq", "--period", "2025-Q1", "--format", "csv")


def test_reports_and_explain_through_the_core_commands(store: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main_group, ["report", "points.board", "-p", "node=yq", "-p", "month=2025-03",
                                        "--store", store, "--format", "csv"])
    assert result.exit_code == 0 and result.stdout.startswith("\ufeffrank,member,name,role,earned,balance\n1,m05,周丽,单元长,28,28")
    result = runner.invoke(main_group, ["explain", "points:a2", "--store", store])
    assert result.exit_code == 0
    assert "patrol: 3 per hour x 4 h x 1.5 = 18" in result.stdout
    assert "yinquan.rules:10" in result.stdout and "yinquan.rules:12" in result.stdout
    # Each line's label in English and Chinese (staff read gridcore explain).
    labels = [line.split(":", 1)[0] for line in result.stdout.splitlines()[1:]]
    assert {"  result 结果", "  rule 规则"} <= set(labels), result.stdout
    assert all(label.startswith(("  result 结果", "  rule 规则", "  input 输入")) for label in labels), labels


def test_the_same_events_under_another_ruleset_give_other_balances(tmp_path: Path) -> None:
    runner = CliRunner()
    where = str(tmp_path / "cuihu")
    runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(CUIHU),
                               "--effective", "2024-01-01T00:00+08:00", "--store", where])
    runner.invoke(main_group, ["ingest", str(write_events(tmp_path / "events.jsonl")), "--store", where])
    # 8 per hour x 3 h, and recognition (50 a month per grid under cuihu)
    assert points(where, "balance", "m05")[1] == "周丽 (m05): 34 points (积分余额 34 分)\n"
    assert points(where, "balance", "m03")[1] == "陈强 (m03): 0 points (积分余额 0 分)\n"  # cuihu has no patrol item
