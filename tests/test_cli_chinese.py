"""Messages staff read from the command line under ``--lang zh``, found English only by a sweep of every
command on good and bad input (a missing store, an unknown member, a report's parameters, a migration
with nothing to migrate, the plugin list): each says itself in Chinese too."""

from __future__ import annotations

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
    assert "no gridcore store at" in line and "(没有找到 gridcore 数据库：请检查路径，或用 gridcore init 新建" in line
    assert not (tmp_path / "nostore").exists() and not (tmp_path / "no.db").exists()  # nothing was created


def test_a_file_given_for_a_folder_store_is_said_in_chinese(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    line = said(run("rulesets", "--store", str(tmp_path / "events.jsonl")))
    assert "is a file, not a gridcore store folder" in line and "(这是一个文件，不是 gridcore 数据库文件夹" in line


def test_an_unknown_member_and_bad_report_options_are_said_in_chinese(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    line = said(run("points", "balance", "nobody", "--store", store))
    assert line.endswith("(花名册和居民登记中都没有 'nobody')"), line
    line = said(run("report", "escalation.timeline", "-p", "incident", "--store", store))
    assert "KEY=VALUE" in line and "(报表参数应写成 名称=值" in line
    line = said(run("report", "escalation.timeline", "-p", "incident=I1", "--out", str(tmp_path / "x.doc"),
                    "--store", store))
    assert "give a file ending in .xlsx" in line and "(输出文件的扩展名应为 .xlsx、.csv、.json、.txt)" in line
    line = said(run("migrate", "--from", str(tmp_path / "nostore"), "--to", str(tmp_path / "other")))
    assert "nothing to migrate" in line and "(没有找到数据库，无可迁移：请检查路径)" in line


def test_the_plugin_list_says_where_each_came_from_in_chinese() -> None:
    listing = run("plugins").output.splitlines()
    assert listing and all(CHINESE.search(row) for row in listing), listing
    assert any("entry point of gridcore" in row and row.endswith("(入口点)") for row in listing)
    english = CliRunner().invoke(main_group, ["--lang", "en", "plugins"]).output
    assert not CHINESE.search(english)


def test_tokens_say_their_refusals_and_results_in_chinese(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    line = said(run("tokens", "issue", "nobody", "--store", store))
    assert line.endswith("('nobody' 既不在花名册中，也不是已登记的居民)"), line
    assert said(run("tokens", "revoke", "nope", "--store", store)).endswith("(没有令牌 'nope')")
    issued = run("tokens", "issue", "worker1", "--store", store)
    assert issued.exit_code == 0 and "令牌只显示这一次，请妥善保管" in issued.output, issued.output
    ident = re.search(r"token (\S+) for worker1 issued", issued.output)
    assert ident is not None, issued.output
    revoked = run("tokens", "revoke", ident[1], "--store", store)
    assert revoked.exit_code == 0 and f"(已撤销 worker1 的令牌 {ident[1]})" in revoked.output, revoked.output
