"""The ``tasks`` / ``专项任务`` section, and the points section's ``task`` items: forms, policies, mistakes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gridcore.rules import RulesError, parse_ruleset
from gridcore_points.section import section as points_section
from gridcore_tasks.policy import DEFAULT_ASSIGNERS
from gridcore_tasks.section import SECTION

EN = """\
ruleset sweeps
levels: community > grid > unit
tasks:
  task door_to_door: within 7 days, by grid_leader or master_grid_leader, to fulltime_gridworker, parttime_gridworker
  task callout: to fulltime_gridworker
points:
  task door_to_door: 10 points on time, minus 5 points if missed
  task callout: minus 2 points if missed
"""

ZH = """\
规则集 排查
层级：community > grid > unit
专项任务：
  任务 入户排查：限时 7 天，由 网格长 或 总网格长 下达，派给 专职网格员、兼职网格员
  任务 紧急召集：派给 专职网格员
积分：
  任务 入户排查：按时完成 10 分，逾期扣 5 分
  任务 紧急召集：逾期扣 2 分
"""


def load(text: str) -> object:
    return parse_ruleset(text, sections=[SECTION, points_section()], name="t.rules")


@pytest.mark.parametrize("text,names", [(EN, ("door_to_door", "callout")), (ZH, ("入户排查", "紧急召集"))])
def test_english_and_chinese_say_the_same(text: str, names: tuple[str, str]) -> None:
    ruleset = parse_ruleset(text, sections=[SECTION, points_section()], name="t.rules")
    tasks = ruleset.policy(SECTION, at=date(2025, 3, 1))
    sweep, callout = (tasks.kind(n) for n in names)
    assert sweep is not None and callout is not None
    assert (sweep.within, sweep.by, sweep.to) == (
        timedelta(days=7), ("grid_leader", "master_grid_leader"), ("fulltime_gridworker", "parttime_gridworker"))
    assert (callout.within, callout.by, callout.to) == (None, DEFAULT_ASSIGNERS, ("fulltime_gridworker",))
    assert str(sweep.rule) == "t.rules:4"
    points = ruleset.policy(points_section(), at=date(2025, 3, 1))
    paid = points.task(names[0])
    assert paid is not None and (paid.on_time, paid.missed, str(paid.rule)) == (10, -5, "t.rules:7")
    assert (points.task(names[1]).on_time, points.task(names[1]).missed) == (0, -2)  # type: ignore[union-attr]


def test_the_parts_come_in_any_order_with_the_roles_last() -> None:
    ruleset = load("levels: community > grid\ntasks:\n  task a: by grid_leader, within 48h\n"
                   "专项任务：\n  任务 b：3 天内，派给 楼栋长\n")
    tasks = ruleset.policy(SECTION, at=date(2025, 1, 1))  # type: ignore[attr-defined]
    assert tasks.kind("a").within == timedelta(hours=48) and tasks.kind("a").by == ("grid_leader",)
    assert tasks.kind("b").within == timedelta(days=3) and tasks.kind("b").to == ("building_leader",)


@pytest.mark.parametrize("body,message", [
    ("tasks:\n  task a: within 0 days", "a task needs some time"),
    ("tasks:\n  task a: within 2 days, within 3 days", "'within (限时)' is written twice for task a"),
    ("tasks:\n  task a: within 2 days\npoints:\n  task b: 5 points on time", "unknown task 'b'"),
    ("tasks:\n  task a: within 2 days\npoints:\n  task a: 5 points if missed", "a missed task cannot earn points"),
    ("tasks:\n  task a: within 2 days\npoints:\n  task a: minus 5 points on time", "a task done on time cannot lose"),
    ("tasks:\n  task a: within 2 days\npoints:\n  task a: 5 per hour on time", "a whole number of points"),
    ("tasks:\n  task a: within 2 days\npoints:\n  task a: 5 points on time, 3 points on time", "once each"),
])
def test_mistakes_are_reported_where_they_are(body: str, message: str) -> None:
    with pytest.raises(RulesError) as caught:
        load("levels: community > grid\n" + body + "\n")
    assert message in str(caught.value)


def test_a_role_no_core_list_has_is_a_warning_not_an_error() -> None:
    """Compiled without a roster, a role that is no built-in one (and no slip of one) may be the roster's own."""
    ruleset = load("levels: community > grid\ntasks:\n  task a: within 1 day, to safety_officer\n")
    assert ruleset.policy(SECTION, at=date(2025, 1, 1)).kind("a").to == ("safety_officer",)  # type: ignore[attr-defined]
    assert any("'safety_officer' is no built-in role and no roster was given" in str(w)
               for w in ruleset.warnings)  # type: ignore[attr-defined]


def test_the_chinese_message_of_a_mistake() -> None:
    with pytest.raises(RulesError) as caught:
        load("层级：community > grid\n专项任务：\n  任务 甲：限时 0 天\n")
    assert "完成时限须大于零" in caught.value.render("zh")
