"""Messages staff read from the command line under ``--lang zh``, found English only by a sweep of every
command on good and bad input (a missing store, an unknown member, a report's parameters, a migration
with nothing to migrate, the plugin list): each says itself in Chinese too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from zhladder import init_store

from gridcore_app.cli import main_group

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, ["--lang", "zh", *args], catch_exceptions=False)


def said(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("where", ["nostore", "sqlite:///{tmp}/no.db"])
def test_a_missing_store_is_said_in_chinese(tmp_path: Path, where: str) -> None:
    store = where.format(tmp=tmp_path) if "{" in where else str(tmp_path / where)
    line = said(run("points", "balance", "m1", "--store", store))
    # Chinese first (gridcore.errors.chinese_first), the English after it in brackets
    assert line.startswith("错误：没有找到 gridcore 数据库：请检查路径，或用 gridcore init 新建") and "no gridcore store at" in line
    assert not (tmp_path / "nostore").exists() and not (tmp_path / "no.db").exists()  # nothing was created


def test_a_file_given_for_a_folder_store_is_said_in_chinese(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    line = said(run("rulesets", "--store", str(tmp_path / "events.jsonl")))
    assert "is a file, not a gridcore store folder" in line and line.startswith("错误：这是一个文件，不是 gridcore 数据库文件夹")


def test_an_unknown_member_and_bad_report_options_are_said_in_chinese(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    line = said(run("points", "balance", "nobody", "--store", store))
    assert line == "错误：花名册和居民登记中都没有 'nobody'", line  # (its Chinese says it all: chinese_first)
    line = said(run("report", "escalation.timeline", "-p", "incident", "--store", store))
    assert "KEY=VALUE" in line and line.startswith("错误：报表参数应写成 名称=值")
    line = said(run("report", "escalation.timeline", "-p", "incident=I1", "--out", str(tmp_path / "x.doc"),
                    "--store", store))
    assert "give a file ending in .xlsx" in line and line.startswith("错误：输出文件的扩展名应为 .xlsx、.csv、.json、.txt")
    line = said(run("migrate", "--from", str(tmp_path / "nostore"), "--to", str(tmp_path / "other")))
    assert "nothing to migrate" in line and line.startswith("错误：没有找到数据库，无可迁移：请检查路径")


def test_the_plugin_list_says_where_each_came_from_in_chinese() -> None:
    listing = run("plugins").output.splitlines()
    assert listing and all(CHINESE.search(row) for row in listing), listing
    assert any("entry point of gridcore" in row and "入口点（entry point of gridcore" in row for row in listing)
    english = CliRunner().invoke(main_group, ["--lang", "en", "plugins"]).output
    assert not CHINESE.search(english)


def test_tokens_say_their_refusals_and_results_in_chinese(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    line = said(run("tokens", "issue", "nobody", "--store", store))
    assert line.startswith("错误：'nobody' 既不在花名册中，也不是已登记的居民"), line
    assert said(run("tokens", "revoke", "nope", "--store", store)).startswith("错误：没有令牌 'nope'")
    issued = run("tokens", "issue", "worker1", "--store", store)
    assert issued.exit_code == 0 and "令牌只显示这一次，请妥善保管" in issued.output, issued.output
    ident = re.search(r"已为 worker1 签发令牌 (\S+)；", issued.output)  # (Chinese first: it says it all)
    assert ident is not None, issued.output
    revoked = run("tokens", "revoke", ident[1], "--store", store)
    assert revoked.exit_code == 0 and revoked.output.startswith(f"已撤销 worker1 的令牌 {ident[1]}"), revoked.output


def test_ingest_says_each_line_wholly_in_chinese_under_lang_zh(tmp_path: Path) -> None:
    """`gridcore --lang zh ingest`: the counts and every refused line in Chinese, from the first word (拒绝,
    not refused), each reason's Chinese first and its English after it only where that names what the
    Chinese does not; in file order, a line that is no JSON among them. English is as it was."""
    store = init_store(tmp_path)
    events = tmp_path / "events.jsonl"
    lines = [{"node": "nowhere"}, None, {"node": "yq", "minutes": "a while"}]
    events.write_text("".join("not json\n" if more is None else json.dumps(
        {"kind": "patrol_logged", "id": f"p{n}", "time": "2025-03-03T09:00:00+08:00", "actor": "secretary", **more})
        + "\n" for n, more in enumerate(lines, 1)), encoding="utf-8")
    chinese = run("ingest", str(events), "--store", store)
    assert chinese.exit_code == 1
    lines = chinese.output.splitlines()
    assert lines[0] == "新存入 0 条，已存入 0 条，派生 0 条，拒绝 3 条", lines
    assert [line.split("：")[0] for line in lines[1:]] == [f"  拒绝 events.jsonl:{n}" for n in (1, 2, 3)], lines
    assert lines[1].endswith("未知节点（unknown node 'nowhere'）"), lines
    assert lines[2].endswith("不是有效的 JSON（not valid JSON (Expecting value at column 1)）"), lines
    assert not any(line.lstrip().startswith("refused") or " stored" in line for line in lines)
    assert all(CHINESE.search(line.split("：", 1)[1][:4]) for line in lines[1:]), lines  # Chinese first

    english = CliRunner().invoke(main_group, ["--lang", "en", "ingest", str(events), "--store", store])
    assert english.output.splitlines() == [
        "0 stored, 0 already stored, 0 derived, 3 refused (新存入 0 条，已存入 0 条，派生 0 条，拒绝 3 条)",
        "  refused events.jsonl:1: unknown node 'nowhere' (未知节点)",
        "  refused events.jsonl:2: not valid JSON (Expecting value at column 1) (不是有效的 JSON)",
        english.output.splitlines()[3]]
    assert english.output.splitlines()[3].startswith("  refused events.jsonl:3: ")


def test_a_reasons_chinese_comes_first_with_what_only_its_english_names() -> None:
    from gridcore.errors import chinese_first, chinese_of

    assert chinese_of("unknown node 'x' (未知节点)") == ("unknown node 'x'", "未知节点")
    assert chinese_of("no bracket") is None and chinese_of("names (fire, 疏散)") is None
    assert chinese_first("unknown node 'x' (未知节点)") == "未知节点（unknown node 'x'）"
    assert chinese_first("unknown drill 'flood' (未知演练 'flood')") == "未知演练 'flood'"
    assert chinese_first("insufficient balance: res1 has 36 points (积分不足)") == \
        "积分不足（insufficient balance: res1 has 36 points）"
    assert chinese_first("said in English only") == "said in English only"


def test_results_a_sweep_of_every_command_found_in_english_only_say_themselves_in_chinese(tmp_path: Path) -> None:
    """Found by the --lang zh sweep of every command: `simulate`'s, `migrate`'s and `assess chart`'s result
    lines were English only, and `assess compare` showed gained/same and grid without their Chinese."""
    out = tmp_path / "sim.jsonl"
    simulated = CliRunner().invoke(main_group, ["--lang", "zh", "simulate", "--community", "yinquan", "--days", "1",
                                                "--out", str(out)], catch_exceptions=False)
    assert simulated.exit_code == 0, simulated.output
    assert re.search(r"^已写出银泉社区 1 天的 \d+ 个事件，随机种子 1：", simulated.stderr), simulated.stderr
    store = init_store(tmp_path)
    line = run("migrate", "--from", store, "--to", f"sqlite:///{tmp_path / 'copy.db'}").output.strip()
    assert re.search(r"^已迁移 \d+ 个事件、\d+ 份文档（\d+ 个集合）（copied \d+ events .*）$", line), line


def test_assess_compare_and_chart_say_themselves_in_chinese(tmp_path: Path) -> None:
    from test_assessment_subsidies import rated

    engine, store = rated(tmp_path, "")
    engine.close()
    chart = run("assess", "chart", "--period", "2025-Q1", "--store", store, "--output", str(tmp_path / "c.svg"))
    assert chart.exit_code == 0 and chart.output.strip().splitlines()[-1] == f"图表已写入：{tmp_path / 'c.svg'}", \
        chart.output
    for period in ("2025-Q1", "2025-Q2"):
        assert run("assess", "--period", period, "--store", store).exit_code == 0
    compared = run("assess", "compare", "2025-Q1", "2025-Q2", "--store", store)
    assert compared.exit_code == 0, compared.output
    assert re.search(r"(升星 gained|降星 lost|不变 same|新评 new|未再评 gone)", compared.stdout), compared.stdout
    assert "社区 community" in compared.stdout or "网格 grid" in compared.stdout, compared.stdout
    reported = run("report", "assessment.compare", "-p", "before=2025-Q1", "-p", "after=2025-Q2", "--store", store)
    assert reported.exit_code == 0 and re.search(r"(升星|降星|不变|新评|未再评) ", reported.stdout), reported.stdout
    plain = CliRunner().invoke(main_group, ["--lang", "en", "assess", "compare", "2025-Q1", "2025-Q2", "--store",
                                            store, "--lang", "en"])
    assert not re.search(r"升星|降星|不变|新评|未再评", plain.stdout), plain.stdout


def test_a_store_that_cannot_be_opened_or_read_is_said_in_chinese(tmp_path: Path) -> None:
    """A malformed SQLite address, a SQLite file that is not a store, a folder of other files, a store file
    cut short: each said Chinese first, its English (and the cause) in brackets after."""
    line = said(run("rulesets", "--store", "sqlite:relative.db"))
    assert line.startswith("错误：数据库地址写法不对：SQLite 数据库应写成 sqlite:///路径/数据库.db（a SQLite store URL")
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    line = said(run("rulesets", "--store", f"sqlite:///{other}"))
    assert line.startswith("错误：这是一个 SQLite 数据库，但不是 gridcore 数据库（") and "not a gridcore store" in line
    crowded = tmp_path / "crowded"
    crowded.mkdir()
    (crowded / "notes.txt").write_text("x", encoding="utf-8")
    line = said(run("init", "--community", "tests/data/escalation/community", "--store", str(crowded)))
    assert line.startswith("错误：这个文件夹不是 gridcore 数据库，且已有其他文件：请选一个空文件夹或新文件夹（")
    store = Path(init_store(tmp_path))
    manifest = store / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8")[:20], encoding="utf-8")
    line = said(run("rulesets", "--store", str(store)))
    assert line.startswith("错误：数据库文件已损坏（"), line


#: What a store raises for a caller's mistake in code (a wrong type, a closed store, a bad argument, a writer
#: that lost a race and retries): never a message staff read.
_FOR_PROGRAMMERS = re.compile(r"must be|must map|got \{type|is closed|at least 1|takes a mapping|moved from position|"
                              r"event ids|document without|event document|has no zone offset|is not ISO 8601|time with a zone|"
                              r"holds text that is not valid Unicode|cannot be stored|merge parts|parts merged")


def test_every_store_error_staff_can_meet_is_written_with_its_chinese() -> None:
    """By source: a store's errors on opening, reading, writing, locking and migrating carry their Chinese."""
    import ast

    repo = Path(__file__).resolve().parent.parent
    missing = []
    for path in sorted((repo / "gridcore" / "store").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args \
                    and ast.unparse(node.exc.func) in ("StoreError", "StoreConflict"):
                text = ast.get_source_segment(source, node.exc.args[0]) or ""
                if not CHINESE.search(text) and "NO_STORE_ZH" not in text and not _FOR_PROGRAMMERS.search(text):
                    missing.append(f"{path.name}:{node.lineno}: {' '.join(text.split())[:80]}")
    assert missing == []


def test_a_case_file_and_a_demo_that_cannot_run_are_said_in_chinese_naming_the_file(tmp_path: Path) -> None:
    """``gridcore test`` on a case file of the wrong shape, ``gridcore demo`` of a community without a scenario:
    Chinese first, naming the file (they were English only)."""
    cases = tmp_path / "cases.yaml"
    cases.write_text("- just a list\n", encoding="utf-8")
    assert said(run("test", str(cases))).startswith(f"错误：用例文件 {cases} 应含 cases 列表")
    cases.write_text("cases:\n  - given: []\n", encoding="utf-8")
    line = said(run("test", str(cases)))
    assert line.startswith(f"错误：用例文件 {cases} 的第 1 个用例缺少 name"), line
    (tmp_path / "a.rules").write_text("ruleset a\n", encoding="utf-8")
    (tmp_path / "b.rules").write_text("ruleset b\n", encoding="utf-8")
    cases.write_text("cases:\n  - name: one\n", encoding="utf-8")
    line = said(run("test", str(cases)))
    assert line.startswith(f"错误：用例文件 {cases} 请写明用哪个规则集：ruleset: 名称.rules；同一文件夹中有 2 个"), line
    community = Path(__file__).resolve().parent / "data" / "escalation" / "community"
    line = said(run("demo", "--community", str(community), "--days", "1", "--out", str(tmp_path / "out")))
    assert line.startswith(f"错误：无法读取场景文件 {community / 'scenario.yaml'}"), line
