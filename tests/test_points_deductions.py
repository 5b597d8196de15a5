"""Deductions (扣分): negative amounts written like positive ones, the floor, every cut explained."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridcore_points
from gridcore import Engine, FixedClock
from gridcore.events import ActivityRecorded
from gridcore.rules import RulesError, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_points.section import section

CST = timezone(timedelta(hours=8))
DAY = datetime(2025, 3, 3, 9, tzinfo=CST)
MINI = Path(__file__).parent / "data" / "community-mini"

EN = """\
ruleset penalties
levels: community > grid > unit
points:
  activity volunteering: 5 per hour
  activity illegal_parking: -10 points
  activity littering: minus 3 per item
  activity late_report: computed 0 - event.quantity * 2.5
  tilt unit: x 2
{floor}"""

ZH = """\
规则集 扣分
层级：community > grid > unit
积分：
  活动 志愿服务：每小时 5 分
  活动 乱停车：扣 10 分
  活动 乱扔垃圾：每件扣 3 分
  活动 迟报：计算 0 - 记录.数量 * 2.5
  倾斜 unit：2 倍
{floor}"""


def engine_with(tmp_path: Path, text: str) -> Engine:
    rules = tmp_path / "p.rules"
    rules.write_text(text, encoding="utf-8")
    return Engine.open(store=str(tmp_path / "store"), community=MINI, ruleset=rules,
                       effective=datetime(2025, 1, 1, tzinfo=CST), clock=FixedClock(DAY))


def activity(ident: str, name: str, hours_later: int, **fields: float) -> ActivityRecorded:
    return ActivityRecorded(id=ident, time=DAY + timedelta(hours=hours_later), actor="m02", node="g1-u1",
                            member="m05", activity=name, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("template,names", [
    (EN, ("volunteering", "illegal_parking", "littering", "late_report")),
    (ZH, ("志愿服务", "乱停车", "乱扔垃圾", "迟报")),
])
def test_deductions_in_english_and_chinese_take_points_off_exactly(
    tmp_path: Path, template: str, names: tuple[str, ...]
) -> None:
    engine = engine_with(tmp_path, template.format(floor=""))
    volunteer, parking, litter, late = names
    engine.record_many([
        activity("a1", volunteer, 0, hours=3),  # 5 x 3 x 2 (unit tilt) = 30
        activity("a2", parking, 1),  # -10: tilts do not scale a deduction
        activity("a3", litter, 2, quantity=2),  # -6
        activity("a4", late, 3, quantity=1),  # -2.5, rounded half up to -3
    ])
    engine.clock.set(DAY + timedelta(days=1))
    assert gridcore_points.balance(engine, "m05") == 30 - 10 - 6 - 3
    amounts = {e.id: (e.kind, e.amount) for e in gridcore_points.entries(engine, "m05")}
    assert amounts == {"a1": ("earn", 30), "a2": ("deduct", -10), "a3": ("deduct", -6), "a4": ("deduct", -3)}
    why = engine.explain("points:a4")
    assert why.inputs["exact"] == "-5/2 = -2.5" and why.inputs["rounded"] == -3
    assert "default floor 0" in str(why.inputs["floor"])
    month = gridcore_points.statement(engine, "m05", "2025-03")
    assert (month.earned, month.deducted, month.closing) == (30, 19, 11)
    engine.close()


def test_the_default_floor_cuts_a_deduction_and_says_so(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EN.format(floor=""))
    engine.record_many([activity("a1", "volunteering", 0, hours=1), activity("a2", "illegal_parking", 1)])
    engine.clock.set(DAY + timedelta(days=1))
    assert gridcore_points.balance(engine, "m05") == 0
    entry = next(e for e in gridcore_points.entries(engine, "m05") if e.id == "a2")
    assert entry.amount == -10 and entry.kind == "deduct" and "cut" not in entry.summary
    engine.record(activity("a3", "illegal_parking", 2))
    engine.clock.set(DAY + timedelta(days=1))
    third = engine.explain("points:a3")
    assert third.result == 0
    assert "cut to 0 by the floor of 0 (balance 0; 扣分以余额下限 0 为限)" in third.summary
    engine.close()


@pytest.mark.parametrize("floor,balance", [
    ("  floor: -15 points\n", -15),
    ("  floor: minus 15\n", -15),
    ("  floor: none\n", -20),
    ("  floor: 0\n", 0),
])
def test_a_ruleset_may_lower_or_lift_the_floor(tmp_path: Path, floor: str, balance: int) -> None:
    engine = engine_with(tmp_path, EN.format(floor=floor))
    engine.record_many([activity("a1", "illegal_parking", 0), activity("a2", "illegal_parking", 1)])
    engine.clock.set(DAY + timedelta(days=1))
    assert gridcore_points.balance(engine, "m05") == balance
    # later earnings pay off what is owed first
    engine.record(activity("a3", "volunteering", 2, hours=3))
    engine.clock.set(DAY + timedelta(days=1))
    assert gridcore_points.balance(engine, "m05") == balance + 30
    engine.close()


def test_chinese_floor_and_a_mistaken_floor(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, ZH.format(floor="  下限：扣 5 分\n"))
    engine.record_many([activity("a1", "乱停车", 0)])
    engine.clock.set(DAY + timedelta(days=1))
    assert gridcore_points.balance(engine, "m05") == -5
    engine.close()
    with pytest.raises(RulesError, match="a floor is a whole number of points"):
        parse_ruleset(EN.format(floor="  floor: -2.5\n"), sections=[section()], name="bad.rules")


def test_redemption_counts_what_was_deducted(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EN.format(floor="") + "  reward towel: 20 points\n")
    engine.record_many([activity("a1", "volunteering", 0, hours=3), activity("a2", "illegal_parking", 1)])
    engine.clock.set(DAY + timedelta(days=1))
    gridcore_points.redeem(engine, "m05", "towel")
    assert gridcore_points.balance(engine, "m05") == 0
    engine.close()


def test_the_cli_explains_a_deduction(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EN.format(floor=""))
    engine.record_many([activity("a1", "volunteering", 0, hours=1), activity("a2", "littering", 1, quantity=4)])
    engine.close()
    store = str(tmp_path / "store")
    runner = CliRunner()
    shown = runner.invoke(main_group, ["explain", "points:a2", "--store", store], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "-12, cut to -10 by the floor of 0" in shown.output
    board = runner.invoke(main_group, ["report", "points.statement", "-p", "member=m05", "-p", "period=2025-03",
                                       "--store", store, "--format", "json"],
                          catch_exceptions=False)
    assert board.exit_code == 0, board.output
    assert "deducted 10" in json.dumps(json.loads(board.output), ensure_ascii=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["volunteering", "illegal_parking", "littering"]), st.integers(1, 4)),
                max_size=10),
       st.sampled_from([None, 0, -20]))
def test_a_balance_never_passes_its_floor_and_equals_its_entries(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]], floor: int | None
) -> None:
    folder = tmp_path_factory.mktemp("floor")
    line = "" if floor == 0 else "  floor: none\n" if floor is None else f"  floor: {floor} points\n"
    engine = engine_with(folder, EN.format(floor=line))
    engine.record_many([activity(f"a{n}", name, n, hours=size, quantity=size) for n, (name, size) in enumerate(steps)])
    engine.clock.set(DAY + timedelta(days=2))
    balance = gridcore_points.balance(engine, "m05")
    assert balance == sum(e.amount for e in gridcore_points.entries(engine, "m05"))
    if floor is not None:
        assert balance >= floor
    engine.close()
