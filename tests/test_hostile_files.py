"""Hostile names and files: formulas in spreadsheets, terminal escapes, YAML alias bombs."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from gridcore.codec import EventCodec
from gridcore.errors import RosterError
from gridcore.events import CORE_EVENT_TYPES, ActivityRecorded, Event
from gridcore.reports import BOM, Table, from_spreadsheet_text, printable, spreadsheet_text
from gridcore_app.cli import main, main_group, printable_output
from gridcore_app.rosterbook import load_workbook_roster, save_workbook
from gridcore_app.rosterio import MAX_YAML_VALUES, load_community, save_community
from gridcore_app.scenario import ScenarioError, load_scenario
from gridcore_escalation.events import INCIDENT_EVENT_TYPES, IncidentReported

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"
RULES = REPO / "tests" / "data" / "points" / "yinquan.rules"
CST = timezone(timedelta(hours=8))
#: What a hostile roster might name its members.
FORMULAS = {
    "m05": '=HYPERLINK("http://evil.example","点我领奖")',
    "m03": "@SUM(1+1)*cmd|' /C calc'!A0",
    "m02": "+1+2",
    "m04": "-2+3",
}
ESCAPES = "\x1b[2J\x1b]0;owned\x07清屏"
DESCRIPTION = "楼道\x1b[2J\x1b]0;owned\x07漏水"


def hostile_community(tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    shutil.copytree(MINI, folder)
    members = (folder / "members.csv").read_text(encoding="utf-8").splitlines()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(members):
        if row[0] in FORMULAS:
            row[1] = FORMULAS[row[0]]
        writer.writerow(row)
    (folder / "members.csv").write_text(out.getvalue(), encoding="utf-8")
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.output


@pytest.fixture
def store(tmp_path: Path) -> str:
    folder = hostile_community(tmp_path)
    where = str(tmp_path / "store")
    code, text = run("init", "--community", str(folder), "--ruleset", str(RULES),
                     "--effective", "2024-01-01T00:00+08:00", "--store", where)
    assert code == 0, text
    day = datetime(2025, 3, 3, 9, tzinfo=CST)
    codec = EventCodec([*CORE_EVENT_TYPES, *INCIDENT_EVENT_TYPES])
    events: list[Event] = [
        ActivityRecorded(id=f"a{n}", time=day + timedelta(hours=n), actor=m, node="g1-u1", activity="志愿服务",
                         hours=2)
        for n, m in enumerate(FORMULAS)
    ]
    # A log can carry escapes too: in a resident's description of a leak.
    events.append(IncidentReported(id="r1", time=day, actor="m05", node="g1-u1", incident="i1",
                                   category="leaking_pipe", severity=2, description=DESCRIPTION))
    lines = [json.dumps(codec.to_dict(e), ensure_ascii=False) for e in events]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text = run("ingest", str(tmp_path / "events.jsonl"), "--store", where)
    assert code == 0, text
    return where


# ---------------------------------------------------------------- formulas


def test_every_csv_report_starts_with_a_bom_and_holds_no_live_formula(store: str) -> None:
    code, text = run("report", "points.board", "-p", "node=yq", "-p", "month=2025-03", "--store", store,
                     "--format", "csv")
    assert code == 0, text
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    names = {row[1]: row[2] for row in rows[1:]}
    for member, name in FORMULAS.items():
        assert names[member] == "'" + name
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_an_excel_report_keeps_hostile_names_as_text(store: str, tmp_path: Path) -> None:
    out = tmp_path / "board.xlsx"
    code, text = run("report", "points.board", "-p", "node=yq", "-p", "month=2025-03", "--store", store,
                     "--out", str(out))
    assert code == 0, text
    sheet = load_workbook(out).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:3] == ["排名 rank", "成员编号 member", "名称 name"]
    names = {row[1].value: row[2] for row in sheet.iter_rows(min_row=3)}
    for member, name in FORMULAS.items():
        assert names[member].value == name  # the exact text ...
        assert names[member].data_type == "s"  # ... stored as text, not as a formula
    for row in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in row)


def test_text_and_csv_output_carry_no_terminal_escapes(store: str) -> None:
    for fmt in ("text", "csv"):
        code, text = run("report", "escalation.timeline", "-p", "incident=i1", "--store", store, "--format", fmt)
        assert code == 0, text
        assert "楼道" in text and "漏水" in text
        assert "\x1b" not in text and "\x07" not in text


def test_the_console_strips_escapes_from_whatever_a_command_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with printable_output():
        click.echo("before\x1b[2J\x1b]0;owned\x07after")
        click.echo("错误\x1b[31m", err=True)
    got = capsys.readouterr()
    assert got.out == "beforeafter\n" and got.err == "错误\n"
    # The console entry point runs every command that way.
    monkeypatch.setattr(sys, "argv", ["gridcore", "hierarchy", "show", str(MINI)])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 0
    assert "银泉社区 [yq]" in capsys.readouterr().out


def test_a_roster_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    folder = hostile_community(tmp_path)
    members = (folder / "members.csv").read_text(encoding="utf-8").replace("黄磊", ESCAPES)
    (folder / "members.csv").write_text(members, encoding="utf-8")
    with pytest.raises(RosterError, match=r"members\.csv row 10: name holds control characters .*plain text"):
        load_community(folder)


def test_rosters_saved_for_excel_keep_formula_names_inert_and_read_back_unchanged(tmp_path: Path) -> None:
    community = load_community(hostile_community(tmp_path))
    saved = tmp_path / "saved"
    save_community(community, saved)
    raw = (saved / "members.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in raw and "\n" + "m02,'+1+2" in raw
    assert load_community(saved) == community
    book = save_workbook(community, tmp_path / "roster.xlsx")
    cells = {row[0].value: row[1] for row in load_workbook(book)["成员 members"].iter_rows(min_row=2)}
    assert cells["m05"].value == FORMULAS["m05"] and cells["m05"].data_type == "s"
    assert load_workbook_roster(book) == community


@given(st.text())
def test_marking_a_text_for_a_spreadsheet_is_undone_exactly(text: str) -> None:
    marked = spreadsheet_text(text)
    assert from_spreadsheet_text(marked) == text
    assert not marked.startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.text())
def test_printable_text_has_no_control_characters_but_tab_and_line_breaks(text: str) -> None:
    clean = printable(text)
    assert all(ch in "\t\n\r" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in clean)
    assert printable(clean) == clean


def test_table_csv_leaves_numbers_alone() -> None:
    table = Table("t", ("name", "points"), (("-x", -3), ("ok", 2.5)))
    assert table.render("csv") == BOM + "name,points\n'-x,-3\nok,2.5\n"


# ---------------------------------------------------------------- YAML alias bombs


def bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\ntimezone: Asia/Shanghai\nlevels: [community]\n"


def test_a_roster_alias_bomb_is_refused_with_a_short_message(tmp_path: Path) -> None:
    (tmp_path / "community.yaml").write_text(bomb(), encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        load_community(tmp_path)
    message = str(caught.value)
    assert f"aliases expand to more than {MAX_YAML_VALUES:,} values" in message
    assert len(message) < 300 and "哈" not in message
    code, text = run("hierarchy", "show", str(tmp_path))
    assert code == 1 and "aliases expand" in text and len(text) < 400


def test_a_few_aliases_are_fine_and_a_loop_or_a_deep_nest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "community.yaml").write_text(bomb(3).replace("name: *a2", "name: 小区"), encoding="utf-8")
    with pytest.raises(RosterError, match="unknown key 'a0'"):  # 729 values: read, then refused by key
        load_community(tmp_path)
    (tmp_path / "community.yaml").write_text("name: &x [*x]\n", encoding="utf-8")
    with pytest.raises(RosterError, match=r"community\.yaml:1: a value that contains itself"):
        load_community(tmp_path)
    (tmp_path / "community.yaml").write_text("name: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(RosterError, match="nested too deeply"):
        load_community(tmp_path)


def test_a_long_value_is_cut_short_in_messages(tmp_path: Path) -> None:
    (tmp_path / "community.yaml").write_text(
        "name: 小区\ntimezone: Asia/Shanghai\nlevels: [community]\nforest: " + "x" * 10_000 + "\n",
        encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        load_community(tmp_path)
    assert "forest must be true or false" in str(caught.value) and len(str(caught.value)) < 200


def test_a_scenario_alias_bomb_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(bomb().replace("name:", "channels:"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="aliases expand to more than"):
        load_scenario(tmp_path / "scenario.yaml")
