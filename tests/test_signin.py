"""Sign-in sheets (签到表) through the CLI: the template, imports in Chinese and English, every mistake at once."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gridcore import Engine
from gridcore.events import ActivityRecorded
from gridcore.plugin_host import get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_app.signin import activity_id, heading_column

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"
RULES = REPO / "tests" / "data" / "points" / "yinquan.rules"
CST = timezone(timedelta(hours=8))
DAY = "2025-03-08"
#: the options of an import of a volunteer morning in the first grid, recorded by its grid leader (m02)
OPTIONS = ("--activity", "志愿服务", "--date", DAY, "--node", "g1", "--recorded-by", "m02")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini community (plus a second 王芳, m10, living in the first grid) under the points rules."""
    root = tmp_path_factory.mktemp("signin")
    community = root / "community"
    shutil.copytree(MINI, community)
    with (community / "members.csv").open("a", encoding="utf-8") as members:
        members.write("m10,王芳,13900000010,false,g1-u2\n")
    return initialized(root / "store", community, RULES)


def initialized(store: Path, community: Path, rules: Path) -> Path:
    """``store``, made by ``gridcore init`` of ``community`` under ``rules`` from 2025-01-01."""
    code, said = run("init", "--community", str(community), "--ruleset", str(rules), "--effective", "2025-01-01",
                     "--store", str(store))
    assert code == 0, said
    return store


@pytest.fixture
def store(template_store: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template_store, tmp_path / "store"))


def write_csv(path: Path, rows: Sequence[Sequence[Any]], headings: Sequence[str] = ("姓名", "成员编号", "时长（小时）",
                                                                                     "备注")) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headings)
        writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], headings: Sequence[str] = ("name", "member", "hours",
                                                                                      "note")) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "签到表"
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def activities(store: Path) -> list[ActivityRecorded]:
    with Engine.open(store=store, plugins=get_plugin_manager(), read_only=True) as engine:
        found = list(engine.events(kinds=["activity_recorded"]))
    assert all(isinstance(e, ActivityRecorded) for e in found)
    return found  # type: ignore[return-value]


def snapshot(store: Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """What the store holds of activities, and every plugin's outcomes (the points balances)."""
    with Engine.open(store=store, plugins=get_plugin_manager(), read_only=True) as engine:
        events = sorted((e.id, e.time, e.actor, e.node, e.activity, e.member, e.hours, e.quantity, e.note)
                        for e in engine.events(kinds=["activity_recorded"]) if isinstance(e, ActivityRecorded))
        outcomes = {f"{o.plugin}:{o.subject}": o.value for o in engine.outcomes()}
    return events, outcomes


# ------------------------------------------------------------------ the template


def test_the_template_as_a_workbook_and_as_a_csv_for_excel(tmp_path: Path, store: Path) -> None:
    code, said = run("activities", "template", str(tmp_path / "签到表.xlsx"))
    assert code == 0, said
    sheet = load_workbook(tmp_path / "签到表.xlsx")["签到表 sign-in"]
    assert [c.value for c in sheet[1]] == ["姓名 name", "成员编号 member", "时长（小时） hours", "数量 quantity",
                                           "备注 note"]
    assert str(sheet["A2"].value).startswith("填写说明")
    code, said = run("activities", "template", str(tmp_path / "签到表.csv"))
    assert code == 0, said
    raw = (tmp_path / "签到表.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens it as UTF-8
    assert raw.decode("utf-8-sig").splitlines()[0] == "姓名 name,成员编号 member,时长（小时） hours,数量 quantity,备注 note"
    # filled in as it is, the instructions row is read past: the sheet names no one
    code, said = run("activities", "import", str(tmp_path / "签到表.csv"), *OPTIONS, "--store", str(store))
    assert code == 1 and "no one signed in" in said
    code, said = run("activities", "template", str(tmp_path / "签到表.txt"))
    assert code == 1 and ".xlsx or .csv" in said


def test_headings_in_chinese_english_or_both() -> None:
    assert heading_column("时长（小时） hours") == "hours"
    assert heading_column("时长(小时)") == "hours"
    assert heading_column("Hours") == "hours"
    assert heading_column("成员编号") == heading_column("member") == heading_column("编号 id") == "member"
    assert heading_column("姓名 name") == heading_column("名字") == "name"
    assert heading_column("序号") == heading_column("签名") == ""
    assert heading_column("姓名 hours") is None  # two columns at once
    assert heading_column("年龄") is None


# ------------------------------------------------------------------ importing


def test_a_workbook_with_english_headings_is_recorded_with_its_points(tmp_path: Path, store: Path) -> None:
    sheet = write_xlsx(tmp_path / "sheet.xlsx", [
        ("陈强", None, 2, None),          # by name (one member alone bears it)
        (None, "m02", "1.5", "组长"),     # by number; hours typed as text
        ("王芳", "m10", "2小时", None),   # a name two members bear, with the number: the number decides
        ("李明", None, 3, None),          # the community's master grid leader: above the grid, inside it
    ])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 0, said
    assert "4 stored, 0 already stored" in said
    found = {e.member: e for e in activities(store)}
    assert set(found) == {"m03", "m02", "m10", "m01"}
    volunteer = found["m03"]
    # the alias 志愿服务 is stored as the item's own name; the time without a zone is the community's wall time
    assert volunteer.activity == "volunteer_service" and volunteer.actor == "m02" and volunteer.node == "g1"
    assert volunteer.time == datetime(2025, 3, 8, 9, 0, tzinfo=CST) and volunteer.hours == 2
    assert volunteer.id == "signin:2025-03-08T09:00:volunteer_service:m03"
    assert activity_id("volunteer_service", datetime(2025, 3, 8, 1, tzinfo=UTC), "m03", CST) == volunteer.id
    assert found["m02"].hours == 1.5 and found["m02"].note == "组长" and found["m10"].hours == 2
    # the points each row earned, read back from the ledger: 5 per hour, tilted by role
    assert "points these rows earned:" in said and "row 2 陈强 (m03):" in said and "row 5 李明 (m01):" in said


def test_a_csv_with_a_bom_and_chinese_headings_in_chinese(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "签到表.csv", [("周丽", None, "1", None), ("赵刚", "m04", "２.５", "")])
    code, said = run("--lang", "zh", "activities", "import", str(sheet), *OPTIONS, "--time", "14:30",
                     "--store", str(store))
    assert code == 0, said
    assert "新存入 2 条，已存入 0 条" in said and "这些记录获得积分：共" in said and "第 2 行 周丽（m05）" in said
    assert {(e.member, e.hours, e.time.hour) for e in activities(store)} == {("m05", 1, 14), ("m04", 2.5, 14)}


def test_a_phone_column_names_people_too(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [(None, "138 0000 0003", 1), ("王芳", "13900000010", 1),
                                               ("周丽", "13800000004", 1), (None, "13000000000", 1)],
                      headings=("姓名 name", "手机号", "hours"))
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1 and "2 mistakes" in said
    assert "row 4: phone 13800000004 is 赵刚's (m04) on the roster, not '周丽'" in said
    assert "row 5: no member has phone '13000000000'" in said
    sheet = write_csv(tmp_path / "sheet.csv", [(None, "138 0000 0003", 1), ("王芳", "13900000010", 1)],
                      headings=("姓名 name", "手机号", "hours"))
    assert run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))[0] == 0
    assert sorted(e.member for e in activities(store)) == ["m03", "m10"]


def test_importing_the_same_sheet_again_stores_nothing_new(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None), ("周丽", None, 1, None)])
    assert run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))[0] == 0
    before = snapshot(store)
    # the same rows under the activity's English name, in another order: the same events
    again = write_csv(tmp_path / "again.csv", [("周丽", "m05", 1, None), ("陈强", None, 2, None)])
    code, said = run("activities", "import", str(again), "--activity", "volunteer_service", *OPTIONS[2:],
                     "--store", str(store))
    assert code == 0, said
    assert "0 stored, 2 already stored" in said
    assert snapshot(store) == before


@pytest.fixture(scope="module")
def sessions_store(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini community under the points rules with a second claim of an activity refused only when its hours
    overlap the first's (``duplicate claims: refuse, overlapping``), not for the whole day: a morning's and an
    afternoon's session both earn."""
    root = tmp_path_factory.mktemp("sessions")
    rules = root / "yinquan.rules"
    text = RULES.read_text(encoding="utf-8")
    assert "  duplicate claims: refuse, same day\n" in text
    rules.write_text(text.replace("  duplicate claims: refuse, same day\n", "  duplicate claims: refuse, overlapping\n"),
                     encoding="utf-8")
    return initialized(root / "store", template_store.parent / "community", rules)


@pytest.fixture
def sessions(sessions_store: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sessions_store, tmp_path / "sessions"))


def test_a_morning_and_an_afternoon_session_are_two_sign_ins(tmp_path: Path, sessions: Path) -> None:
    """The same activity held twice a day (09:00 and 14:00), the same people at both: each session's rows are
    sign-ins of their own (their ids differ by the start), and each sheet imported again is nothing new (the
    afternoon's was refused as 'same id, different time', its place in English under zh)."""
    morning = write_csv(tmp_path / "morning.csv", [("陈强", None, 2, None), ("周丽", None, 1, None)])
    afternoon = write_csv(tmp_path / "afternoon.csv", [("周丽", None, 1, None), ("陈强", None, 2, None)])
    assert run("activities", "import", str(morning), *OPTIONS, "--store", str(sessions))[0] == 0
    code, said = run("--lang", "zh", "activities", "import", str(afternoon), *OPTIONS, "--time", "14:00",
                     "--store", str(sessions))
    assert code == 0, said
    assert said.splitlines() == ["新存入 2 条，已存入 0 条", "这些记录获得积分：共 20 分", "  第 2 行 周丽（m05）：5 分",
                                 "  第 3 行 陈强（m03）：15 分"]
    assert sorted(e.id for e in activities(sessions)) == [
        "signin:2025-03-08T09:00:volunteer_service:m03", "signin:2025-03-08T09:00:volunteer_service:m05",
        "signin:2025-03-08T14:00:volunteer_service:m03", "signin:2025-03-08T14:00:volunteer_service:m05"]
    before = snapshot(sessions)
    for sheet, at in ((afternoon, "14:00"), (morning, "09:00")):
        code, said = run("activities", "import", str(sheet), *OPTIONS, "--time", at, "--store", str(sessions))
        assert code == 0 and "0 stored, 2 already stored" in said, said
    assert snapshot(sessions) == before


def test_the_afternoon_under_rules_refusing_a_second_claim_of_the_day(tmp_path: Path, store: Path) -> None:
    """Rules that refuse a member's second claim of an activity the same day (``duplicate claims: refuse, same
    day``) have their say on the afternoon's sign-ins: the sheet is refused whole, each row named."""
    morning = write_csv(tmp_path / "morning.csv", [("陈强", None, 2, None)])
    assert run("activities", "import", str(morning), *OPTIONS, "--store", str(store))[0] == 0
    before = snapshot(store)
    afternoon = write_csv(tmp_path / "afternoon.csv", [("周丽", None, 1, None), ("陈强", None, 2, None)])
    code, said = run("activities", "import", str(afternoon), *OPTIONS, "--time", "14:00", "--store", str(store))
    assert code == 1
    assert ("afternoon.csv row 3: m03 already claimed volunteer_service (the same day) in event "
            "signin:2025-03-08T09:00:volunteer_service:m03") in said
    assert snapshot(store) == before  # 周丽's row is not stored either


def test_a_row_overlapping_a_stored_sign_in_is_a_mistake_named_in_chinese(tmp_path: Path, sessions: Path) -> None:
    """A row whose hours overlap a stored sign-in of its member and activity (a correction, or the morning's rows
    written again with another start) is a mistake, named with both sign-ins and what to do; nothing is stored."""
    morning = write_csv(tmp_path / "morning.csv", [("陈强", None, 2, None)])
    assert run("activities", "import", str(morning), *OPTIONS, "--store", str(sessions))[0] == 0
    before = snapshot(sessions)
    late = write_csv(tmp_path / "late.csv", [("周丽", None, 1, None), ("陈强", None, 1, None)])
    code, said = run("--lang", "zh", "activities", "import", str(late), *OPTIONS, "--time", "10:00",
                     "--store", str(sessions))
    assert code == 1
    assert said.splitlines()[-1] == (
        "错误：late.csv 第 3 行：陈强（m03）的志愿服务已登记 09:00-11:00（signin:2025-03-08T09:00:volunteer_service:m03），"
        "与本行的 10:00-11:00 重叠：同一人同一活动的签到时间不能重叠。若本行是更正已登记的记录，请删去这一行（已登记的记录不能修改）；"
        "若是另一场活动，请写明其开始时刻，不早于 11:00（--time）")
    code, said = run("activities", "import", str(late), "--activity", "volunteer_service", *OPTIONS[2:],
                     "--time", "08:30", "--store", str(sessions))
    assert code == 1
    assert ("late.csv row 3: 陈强 (m03) has volunteer_service recorded already 09:00-11:00 (event "
            "signin:2025-03-08T09:00:volunteer_service:m03), overlapping the row at 08:30-09:30; sign-ins of one member to "
            "one activity do not overlap. If the row corrects that sign-in, leave it out, as a recorded event never "
            "changes; if it is another session, give its start with --time, at 11:00 or later") in said
    assert snapshot(sessions) == before
    # from 11:00, when the morning's ends, it is another session
    code, said = run("activities", "import", str(late), *OPTIONS, "--time", "11:00", "--store", str(sessions))
    assert code == 0 and "2 stored, 0 already stored" in said, said


def test_a_row_recorded_already_with_other_hours_or_note_is_named_and_nothing_stored(tmp_path: Path,
                                                                                     store: Path) -> None:
    """The morning's sheet again with other hours or a note: the sign-in recorded never changes; the row is named
    with what was recorded."""
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None)])
    assert run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))[0] == 0
    before = snapshot(store)
    other = write_csv(tmp_path / "other.csv", [("周丽", None, 1, None), ("陈强", None, 3, "迟到")])
    code, said = run("activities", "import", str(other), *OPTIONS, "--store", str(store))
    assert code == 1
    assert ("other.csv row 3: 陈强 (m03) has volunteer_service at 09:00 on 2025-03-08 recorded already (event "
            "signin:2025-03-08T09:00:volunteer_service:m03), with hours 2, note ''; a recorded event never changes: "
            "leave the row out, or if it is another session, give its start with --time") in said
    code, said = run("--lang", "zh", "activities", "import", str(other), *OPTIONS, "--store", str(store))
    assert code == 1 and said.splitlines()[-1] == (
        "错误：other.csv 第 3 行：陈强（m03）的志愿服务已于 2025-03-08 09:00 登记过（signin:2025-03-08T09:00:volunteer_service:m03），"
        "登记的时长 2，备注 ''；已登记的记录不能修改：请删去这一行，若是另一场活动，请写明其开始时刻（--time）")
    assert snapshot(store) == before  # 周丽's row is not stored either: the sheet is refused whole


def test_a_sheet_imported_before_sessions_were_told_apart(tmp_path: Path, sessions: Path) -> None:
    """A store whose sign-ins were given ids of the day alone (``signin:2025-03-08:volunteer_service:m03``, as
    imports did before a day's sessions were told apart): the same sheet again is nothing new, not counted a
    second time; a row overlapping one is named by its id; the afternoon's is a sign-in of its own."""
    morning = datetime(2025, 3, 8, 9, tzinfo=CST)
    with Engine.open(store=sessions, plugins=get_plugin_manager()) as engine:
        # the events the importer stored for ``sheet.csv`` (陈强 2 hours, 周丽 1) before
        engine.record_many([
            ActivityRecorded(id=f"signin:2025-03-08:volunteer_service:{member}", time=morning, actor="m02",
                             node="g1", activity="volunteer_service", member=member, hours=hours)
            for member, hours in (("m03", 2.0), ("m05", 1.0))])
    before = snapshot(sessions)
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None), ("周丽", None, 1, None)])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(sessions))
    assert code == 0 and "0 stored, 2 already stored" in said and ": 15" in said, said
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--dry-run", "--store", str(sessions))
    assert code == 0 and "0 would be stored, 2 already stored" in said, said
    assert snapshot(sessions) == before
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--time", "10:00", "--store", str(sessions))
    assert code == 1  # (周丽's 10:00-11:00 follows her 09:00-10:00: nothing is stored of a sheet with a mistake)
    assert ("sheet.csv row 2: 陈强 (m03) has volunteer_service recorded already 09:00-11:00 (event "
            "signin:2025-03-08:volunteer_service:m03), overlapping the row at 10:00-12:00") in said
    assert snapshot(sessions) == before
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--time", "14:00", "--store", str(sessions))
    assert code == 0 and "2 stored, 0 already stored" in said, said
    assert len(activities(sessions)) == 4


def test_a_dry_run_changes_nothing(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None)])
    before = sorted(p.read_bytes() for p in store.rglob("*") if p.is_file())
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--dry-run", "--store", str(store))
    assert code == 0, said
    assert "1 would be stored, 0 already stored; nothing was stored" in said
    assert sorted(p.read_bytes() for p in store.rglob("*") if p.is_file()) == before
    assert activities(store) == []


def test_every_mistake_at_once_with_its_row_and_nothing_stored(tmp_path: Path, store: Path) -> None:
    sheet = write_xlsx(tmp_path / "sheet.xlsx", [
        ("陈强", None, 2, None),          # row 2: fine
        ("王芳", None, 1, None),          # row 3: two members bear the name
        ("王小二", None, 1, None),        # row 4: nobody bears it
        ("刘洋", None, 1, None),          # row 5: m07 belongs to the second grid
        ("周丽", None, "一个半", None),   # row 6: hours in words
        ("赵刚", None, "1,5", None),      # row 7: a comma
        ("陈强", None, 1, None),          # row 8: a second row for m03
        ("张三", "m04", 1, None),         # row 9: m04 is 赵刚, not 张三
        (None, "m99", 1, None),           # row 10: no such number
        (None, None, 2, "无人"),          # row 11: nobody named
    ])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1
    assert "10 mistakes" not in said and "9 mistakes in sheet.xlsx; nothing was stored" in said
    lines = said.splitlines()

    def line(row: int) -> str:
        return next(text for text in lines if f"row {row}," in text or f"row {row}:" in text)

    assert "2 members on the roster have the name '王芳': m02 (g1, g1-u1); m10 (g1-u2)" in line(3)
    assert "no member named '王小二'" in line(4)
    assert "outside g1 第一网格's subtree" in line(5)
    assert "written in words" in line(6) and "column C (hours)" in line(6)
    assert "a comma" in line(7)
    assert "row 2 already" in line(8)
    assert "m04 is 赵刚 on the roster, not '张三'" in line(9)
    assert "no member number 'm99'" in line(10)
    assert "neither a name nor a member number" in line(11)
    assert not any("row 2:" in text or "row 2," in text for text in lines)
    assert activities(store) == []


def test_a_formula_or_a_time_of_day_in_a_workbook_is_named_with_the_rest(tmp_path: Path, store: Path) -> None:
    sheet = write_xlsx(tmp_path / "sheet.xlsx", [
        ("陈强", None, "=1+0.5", None),       # row 2: a formula
        ("周丽", None, time(1, 30), None),    # row 3: typed as a time of day
        ("赵刚", None, 1.5, None),            # row 4: fine (a number with a fraction)
        ("王小二", None, 1, None),            # row 5: nobody bears the name
    ])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1
    assert "3 mistakes in sheet.xlsx" in said
    assert "row 2, column C: a formula" in said and "row 3, column C: 01:30:00 is a date or a time" in said
    assert "row 5, column A (name): no member named '王小二'" in said
    assert activities(store) == []


def test_the_sheet_wide_mistakes_too(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None), ("刘洋", None, 2, None)])
    code, said = run("activities", "import", str(sheet), "--activity", "cleanip", "--date", "2025-03-08",
                     "--node", "g1", "--recorded-by", "m05", "--store", str(store))
    assert code == 1
    assert "3 mistakes" in said
    assert "unknown activity 'cleanip'; did you mean cleanup?" in said
    assert "know: cleanup," in said  # the close match first, then every name the rules know
    assert "m05 holds no role at g1 or above" in said
    assert "sheet.csv row 3: 刘洋 (m07) belongs to g2, outside g1" in said
    code, said = run("activities", "import", str(sheet), "--activity", "cleanup", "--date", "2099-03-08",
                     "--node", "第一网格", "--recorded-by", "王芳", "--store", str(store))
    assert code == 1
    assert "is after today" in said  # (the node by its name; a recorder's name two bear is refused)
    assert "'王芳' names 2 members (m02, m10)" in said
    assert activities(store) == []


def test_in_chinese_each_mistake_by_its_row(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, "一个半", None), ("王小二", None, 1, None)])
    code, said = run("--lang", "zh", "activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1
    assert "签到表 sheet.csv 有 2 处错误，未存入任何记录" in said
    assert "sheet.csv 第 2 行：请用数字填写" in said and "sheet.csv 第 3 行：花名册中没有叫 王小二 的成员" in said


def test_a_row_the_points_rules_refuse_stores_nothing(tmp_path: Path, store: Path) -> None:
    # m03 claimed the same activity that day already (through the API, under another id): the rules refuse
    # a duplicate claim, so the sheet is refused whole, the row named
    with Engine.open(store=store, plugins=get_plugin_manager()) as engine:
        engine.record(ActivityRecorded(id="api-1", time=datetime(2025, 3, 8, 8, tzinfo=CST), actor="m02",
                                       node="g1", activity="volunteer_service", member="m03", hours=1))
    sheet = write_csv(tmp_path / "sheet.csv", [("周丽", None, 1, None), ("陈强", None, 2, None),
                                               ("赵刚", None, None, None)])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1
    assert "2 mistakes in sheet.csv" in said
    assert "sheet.csv row 3: m03 already claimed volunteer_service (the same day) in event api-1" in said
    assert "sheet.csv row 4: volunteer_service earns points per hour" in said  # no hours for a per-hour activity
    assert [e.id for e in activities(store)] == ["api-1"]


def test_a_sheet_of_last_week_imported_after_later_events(tmp_path: Path, store: Path) -> None:
    # the store already holds what happened after the activity (the usual case: the sheet comes in days later),
    # m03's own claim that evening among it: the sheet's morning row is judged at its own place in time, as the
    # first claim of the day, and the evening's becomes the claim made again (flagged, no points)
    with Engine.open(store=store, plugins=get_plugin_manager()) as engine:
        engine.record_many([
            ActivityRecorded(id="later-1", time=datetime(2025, 3, 12, 9, tzinfo=CST), actor="m02", node="g1",
                             activity="cleanup", member="m04"),
            ActivityRecorded(id="evening", time=datetime(2025, 3, 8, 19, tzinfo=CST), actor="m02", node="g1",
                             activity="volunteer_service", member="m03", hours=1),
        ])
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None), ("赵刚", None, 1, None)])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 0, said
    assert "2 stored, 0 already stored" in said and "row 2 陈强 (m03): 15" in said  # 5 per hour x 2 h x 1.5
    import gridcore_points

    with Engine.open(store=store, plugins=get_plugin_manager(), read_only=True) as engine:
        evening = [e for e in gridcore_points.entries(engine, "m03") if e.cause == "evening"]
    assert [(e.kind, e.amount) for e in evening] == [("flag", 0)]
    assert "claimed again (earlier claim signin:2025-03-08T09:00:volunteer_service:m03)" in evening[0].summary


def test_a_late_sheet_whose_row_duplicates_an_older_claim_stores_nothing(tmp_path: Path, store: Path) -> None:
    # m03 claimed the activity that morning; the store has gone on to later days since (the state no longer
    # holds that day's claims): the row is still judged at its place, refused, and the sheet stores nothing
    with Engine.open(store=store, plugins=get_plugin_manager()) as engine:
        engine.record_many([
            ActivityRecorded(id="api-1", time=datetime(2025, 3, 8, 8, tzinfo=CST), actor="m02", node="g1",
                             activity="volunteer_service", member="m03", hours=1),
            ActivityRecorded(id="later-1", time=datetime(2025, 3, 20, 9, tzinfo=CST), actor="m02", node="g1",
                             activity="cleanup", member="m04"),
        ])
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None), ("赵刚", None, 1, None)])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 1
    assert "sheet.csv row 2: m03 already claimed volunteer_service (the same day) in event api-1" in said
    assert sorted(e.id for e in activities(store)) == ["api-1", "later-1"]


def test_without_the_points_plugin_only_the_count(tmp_path: Path, store: Path) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", [("陈强", None, 2, None)])
    code, said = run("-p", "no:points", "activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    assert code == 0, said
    assert "1 stored, 0 already stored" in said and "points" not in said.split("stored (")[-1]
    assert "recorded as written" in said  # no rules in force name activities: the name is not checked
    assert [e.activity for e in activities(store)] == ["志愿服务"]


# ------------------------------------------------------------------ the same store, however the rows come

#: rows any sheet may hold: (how the person is written, their id)
PEOPLE = [(("陈强", None), "m03"), ((None, "m02"), "m02"), (("王芳", "m10"), "m10"), (("周丽", None), "m05"),
          (("赵刚", "m04"), "m04"), (("李明", None), "m01")]
HOURS = [1, 1.5, 2, "2.5", "3小时", "０.５"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.tuples(st.sampled_from(range(len(PEOPLE))), st.sampled_from(HOURS)),
                       min_size=1, max_size=6, unique_by=lambda pair: pair[0]),
       split=st.integers(min_value=0, max_value=6), data=st.data())
def test_any_valid_rows_in_any_order_or_split_in_two_give_the_same_store(
        template_store: Path, tmp_path_factory: pytest.TempPathFactory, chosen: list[tuple[int, Any]], split: int,
        data: st.DataObject) -> None:
    rows = [(*PEOPLE[person][0], hours, None) for person, hours in chosen]
    root = tmp_path_factory.mktemp("property")
    whole, halves = root / "whole", root / "halves"
    shutil.copytree(template_store, whole)
    shutil.copytree(template_store, halves)
    code, said = run("activities", "import", str(write_xlsx(root / "all.xlsx", rows)), *OPTIONS, "--store", str(whole))
    assert code == 0, said
    shuffled = data.draw(st.permutations(rows))
    first, second = shuffled[:split], shuffled[split:]
    for name, part in (("a.csv", first), ("b.csv", second)):
        if part:
            code, said = run("activities", "import", str(write_csv(root / name, part)), *OPTIONS,
                             "--store", str(halves))
            assert code == 0, said
    # and the whole sheet again on top: nothing new
    code, said = run("activities", "import", str(write_csv(root / "again.csv", shuffled)), *OPTIONS,
                     "--store", str(halves))
    assert code == 0 and f"0 stored, {len(rows)} already stored" in said
    assert snapshot(whole) == snapshot(halves)



#: claims made through other ways before a sheet comes in: (member, hours after the sheet's 09:00, hours, activity)
CLAIMS = st.lists(st.tuples(st.sampled_from(["m02", "m03", "m04", "m05"]), st.integers(min_value=-30, max_value=30),
                            st.sampled_from([1, 2]), st.sampled_from(["volunteer_service", "cleanup"])),
                  max_size=5)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=CLAIMS, later=st.sampled_from([None, 1, 12]),
       people=st.lists(st.sampled_from(range(len(PEOPLE))), min_size=1, max_size=4, unique=True))
def test_a_sheet_is_stored_whole_or_not_at_all(template_store: Path, tmp_path_factory: pytest.TempPathFactory,
                                               claims: list[tuple[str, int, int, str]], later: int | None,
                                               people: list[int]) -> None:
    """Whatever was claimed before the sheet comes in, and however far the store has gone on since (``later``
    days: the state's claims of the sheet's day forgotten), an import either stores every row or none."""
    root = tmp_path_factory.mktemp("whole")
    store = root / "store"
    shutil.copytree(template_store, store)
    at = datetime(2025, 3, 8, 9, tzinfo=CST)
    before = [ActivityRecorded(id=f"c{n}", time=at + timedelta(hours=offset), actor="m02", node="g1",
                               activity=activity, member=member, hours=hours)
              for n, (member, offset, hours, activity) in enumerate(claims)]
    if later is not None:
        before.append(ActivityRecorded(id="later", time=at + timedelta(days=later), actor="m02", node="g1",
                                       activity="cleanup", member="m04"))
    with Engine.open(store=store, plugins=get_plugin_manager()) as engine:
        engine.record_many(before)
    stored = {e.id for e in activities(store)}
    sheet = write_csv(root / "sheet.csv", [(*PEOPLE[person][0], 1, None) for person in people])
    code, said = run("activities", "import", str(sheet), *OPTIONS, "--store", str(store))
    after = {e.id for e in activities(store)}
    if code == 0:
        assert "refused" not in said and len(after - stored) == len(people), said
    else:
        assert after == stored, said
