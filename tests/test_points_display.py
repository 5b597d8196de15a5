"""Entries' summaries shown with their Chinese (``plugins/points/display.py``), the stored text unchanged."""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_points_cli import COMMUNITY, NOW
from test_points_engine import YINQUAN

from gridcore.codec import EventCodec
from gridcore.errors import has_chinese
from gridcore.events import CORE_EVENT_TYPES, ActivityRecorded
from gridcore_app.cli import main_group
from gridcore_points.display import PHRASES, chinese, shown

REPO = Path(__file__).resolve().parent.parent
POINTS = REPO / "plugins" / "points"

#: one summary of each shape the plugin writes (ids of one letter and digits: no English word of their own)
SAMPLES = (
    "志愿服务: 4 per hour x 3 h x 1.2 = 14.4, rounded to 14",
    "志愿服务: 5 per hour x 4 h x 1.2 = 24, cut to 8 by a cap",
    "志愿服务: 5 per hour x 4 h = 20, cut to 0 by a cap",
    "清理: 10 + 2 per item x 3 x 1.5 = 24",
    "清理: 2 per item x 2.5 = 5",
    "违规: -2.5, rounded to -3, cut to -1 by the floor of 0 (balance 1; 扣分以余额下限 0 为限)",
    "志愿服务 claimed again (earlier claim a1): no points, flagged",
    "志愿服务 recorded by m5 for themselves, not by an organiser: no points, flagged",
    "志愿服务 at g2-u1, outside m5's cells: no points, flagged",
    "跑步 is not on the points item list (did you mean 跑腿?): no points, flagged",
    "跑步 is not on the points item list: no points, flagged",
    "党课: no item's condition holds, no points",
    "redemption of unknown reward '米' not booked",
    "redemption of 2 x 米 not covered after replay (30 points, 100 needed): not booked",
    "redeemed 2 x 毛巾 at 20 points",
    "recognition award with no recognition rule in force: not booked",
    "m2 awarded points to themselves: no points, flagged",
    "incident i7 reported and resolved by m5: no points, flagged",
    "incident i7 reported, resolved and closed by m5: no points, flagged",
    "recognition by m2: 楼道清理",
    "18 unspent points of a1 expired",
    "streak bonus: active in every month of 2025-Q1",
    "consultation on incident i7 (噪音): 3",
    "incident i7 (噪音), reporter: 20",
    "incident i7 (噪音), resolver: 5 x 1.5 = 7.5, rounded to 8",
    "task t1 (巡查) done on time: 2",
    "task t1 (巡查) not done by its deadline (逾期未完成): -2 = -2",
)

#: the modules that write entries' summaries (a new one goes here)
WRITERS = ("booking.py", "deduction.py", "ledger.py", "taskpoints.py", "policy.py", "history.py", "accounts.py")

_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize("summary", SAMPLES)
def test_every_shape_reads_in_chinese(summary: str) -> None:
    zh = chinese(summary)
    assert not _WORD.findall(zh), zh
    assert shown(summary) == f"{summary} ({zh})"


def test_every_phrase_is_met_by_a_sample() -> None:
    for pattern, _ in PHRASES:
        assert any(re.search(pattern, s) for s in SAMPLES), pattern


def test_a_summary_without_english_is_shown_as_it_is() -> None:
    assert shown("志愿服务: 5") == "志愿服务: 5"
    assert shown("志愿服务: 5 x 1.2 = 6") == "志愿服务: 5 x 1.2 = 6 (志愿服务：5 × 1.2 = 6)"


def _summary_texts() -> list[tuple[str, str]]:
    """Every literal piece of text the points plugin puts into an entry's summary, with where it is."""
    found: list[tuple[str, str]] = []

    def take(node: ast.AST, where: str) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                found.append((sub.value, where))

    for path in sorted(POINTS / name for name in WRITERS):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                at = {"flag": 3, "earn": 8, "deduct": 8, "Entry": 7}.get(name)
                if at is not None and len(node.args) > at:
                    take(node.args[at], where)
                for keyword in node.keywords:
                    if keyword.arg == "summary":
                        take(keyword.value, where)
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "") for t in targets}
                if "summary" in names or ("text" in names and path.name == "booking.py"):
                    take(node.value, where)
            elif isinstance(node, ast.FunctionDef) and node.name in ("worked", "_self_closed_steps", "_times"):
                for statement in node.body[1:]:  # (not the docstring)
                    take(statement, where)
    return found


def test_no_english_phrase_the_display_does_not_put_into_chinese() -> None:
    """A new English word in a summary the plugin writes fails here: give ``display.PHRASES`` its Chinese."""
    known = {w for pattern, _ in PHRASES for w in _WORD.findall(pattern)}
    writing = {p.name for p in POINTS.glob("*.py") if re.search(r"\bEntry\(|\.flag\(|\.earn\(", p.read_text("utf-8"))}
    assert writing <= set(WRITERS), writing - set(WRITERS)
    texts = _summary_texts()
    assert len(texts) > 30, texts  # (the walk finds the plugin's summaries)
    missing = sorted({(w, where) for text, where in texts for w in _WORD.findall(text) if w not in known})
    assert not missing, missing


def _events(path: Path) -> Path:
    cst = timezone(timedelta(hours=8))
    day = datetime(2025, 3, 3, 9, tzinfo=cst)
    events = [
        ActivityRecorded(id="a1", time=day, actor="m05", node="g1-u1", activity="志愿服务", hours=3),
        ActivityRecorded(id="a2", time=day + timedelta(days=1), actor="m05", node="g1-u1", activity="志愿服务",
                         hours=2.3),
        ActivityRecorded(id="a3", time=day + timedelta(days=2), actor="m05", node="g1-u1", activity="志愿服务",
                         hours=4),
        ActivityRecorded(id="a4", time=day + timedelta(days=3), actor="m05", node="g1-u1", activity="跑步"),
    ]
    codec = EventCodec(list(CORE_EVENT_TYPES))
    path.write_text("".join(json.dumps(codec.to_dict(e), ensure_ascii=False) + "\n" for e in events), "utf-8")
    return path


def test_statement_explain_and_flags_through_the_cli_with_the_stored_text_unchanged(tmp_path: Path) -> None:
    runner = CliRunner()
    where = str(tmp_path / "store")
    result = runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(YINQUAN),
                                        "--effective", "2024-01-01T00:00+08:00", "--store", where])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main_group, ["ingest", str(_events(tmp_path / "events.jsonl")), "--store", where])
    assert result.exit_code == 0, result.output

    result = runner.invoke(main_group, ["points", "statement", "m05", "--period", "2025-03", "--store", where,
                                        "--now", NOW, "--format", "json"])
    assert result.exit_code == 0, result.output
    what = [row["what"] for row in json.loads(result.stdout)["rows"]]
    assert what == [
        "志愿服务: 5 per hour x 3 h x 1.2 = 18 (志愿服务：每小时 5 分 × 3 小时 × 1.2 = 18)",
        ("志愿服务: 5 per hour x 2.3 h x 1.2 = 13.8, rounded to 14 "
         "(志愿服务：每小时 5 分 × 2.3 小时 × 1.2 = 13.8，四舍五入为 14)"),
        "志愿服务: 5 per hour x 4 h x 1.2 = 24, cut to 8 by a cap (志愿服务：每小时 5 分 × 4 小时 × 1.2 = 24，因封顶（上限）削减为 8)",
        "跑步 is not on the points item list: no points, flagged (跑步 不在积分项目清单上：不计分，已标记待核)",
    ], what

    result = runner.invoke(main_group, ["explain", "points:a3", "--store", where])
    assert result.exit_code == 0, result.output
    assert "cut to 8 by a cap (志愿服务：每小时 5 分 × 4 小时 × 1.2 = 24，因封顶（上限）削减为 8)" in result.stdout

    result = runner.invoke(main_group, ["report", "points.flags", "--store", where, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "(跑步 不在积分项目清单上：不计分，已标记待核)" in result.stdout

    # The ledger keeps the English as the plugin wrote it: the Chinese is the display's.
    from gridcore_app.cli import open_engine
    from gridcore_points import api

    with open_engine(where, now=datetime.fromisoformat(NOW)) as engine:
        stored = [e.summary for e in api.statement(engine, "m05", "2025-03").entries]
    assert stored[2] == "志愿服务: 5 per hour x 4 h x 1.2 = 24, cut to 8 by a cap"
    assert all("（" not in s and "四舍五入" not in s for s in stored), stored


def test_every_kind_the_ledger_writes_has_its_chinese() -> None:
    """Every entry kind (the ledger's credits, debits and flags, and every ``kind=`` the plugin's sources
    write) is shown with its Chinese; the stored id is kept after it."""
    from gridcore_points import ledger
    from gridcore_points.display import KINDS_ZH, kind_shown

    written = set()
    for path in (REPO / "plugins" / "points").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "kind" and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                written.add(node.value.value)
    kinds = {*ledger.CREDITS, *ledger.DEBITS, ledger.FLAG} | written
    assert {"earn", "redeem", "expire", "bonus"} <= kinds
    missing = sorted(kind for kind in kinds if not has_chinese(KINDS_ZH.get(kind, "")))
    assert missing == []
    assert kind_shown("earn") == "获得 earn" and kind_shown("no_such_kind") == "no_such_kind"


def test_the_statement_shows_kinds_in_chinese_for_staff_and_ids_for_scripts(tmp_path: Path) -> None:
    runner = CliRunner()
    where = str(tmp_path / "store")
    assert runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(YINQUAN),
                                      "--effective", "2024-01-01T00:00+08:00", "--store", where]).exit_code == 0
    assert runner.invoke(main_group, ["ingest", str(_events(tmp_path / "events.jsonl")), "--store", where]).exit_code == 0
    args = ["points", "statement", "m05", "--period", "2025-03", "--store", where, "--now", NOW]
    kinds = {}
    for fmt in ("json", "csv-en", "csv-zh", "text"):
        extra = ["--format", fmt.split("-")[0], *(["--lang", fmt[4:]] if "-" in fmt else [])]
        result = runner.invoke(main_group, [*args, *extra], env={"GRIDCORE_LANG": ""})
        assert result.exit_code == 0, result.output
        kinds[fmt] = result.stdout
    assert {row["kind"] for row in json.loads(kinds["json"])["rows"]} == {"earn", "flag"}
    assert ",earn," in kinds["csv-en"] and "获得" not in kinds["csv-en"]
    assert ",获得 earn," in kinds["csv-zh"] and ",标记待核 flag," in kinds["csv-zh"]
    assert "获得 earn" in kinds["text"]
    result = runner.invoke(main_group, ["explain", "points:a3", "--store", where])
    assert result.stdout.startswith("points:a3: 获得 earn +8 for m05"), result.stdout
