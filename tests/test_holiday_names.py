"""A holiday named by its id or by the name it gives itself (``holiday national_day: 国庆节, ...``) is one holiday.

Chinese first: every name staff write works in Chinese and English alike and means the same item.  A holiday
had an id only (``national_day``; ``节假日 国庆`` was another holiday, 国庆, that nothing else named), and a
make-up day (补班, ``extra workday NAME``) could name anything.  Now a holiday may give itself a name before
its dates, as a category does (``ItemKind.titles``: one mechanism); a make-up day, a child's holiday that
replaces its parent's and an explanation take either spelling, and make-up days naming no holiday the
ruleset declares are refused, in English and in Chinese.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import gridcore_escalation as esc
from gridcore import Engine, FixedClock
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_app.whatif import rule_changes
from gridcore_escalation.events import IncidentReported
from gridcore_escalation.policy import Calendar, ExtraWorkdays, Holiday
from gridcore_escalation.section import SECTION

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CST = timezone(timedelta(hours=8))
BEFORE = datetime(2025, 9, 30, 16, 0, tzinfo=CST)  # the Tuesday before the National Day holiday

HEAD = """\
ruleset 节假日
levels: street > community (社区) > grid (网格) > unit (单元)
escalation:
  incident any: start at grid
  limit grid: accept within 4 working hours, resolve within 3 working days, then go to street
"""
ENGLISH = HEAD + """\
  holiday national_day: 国庆节, 2025-10-01 to 2025-10-07
  extra workday 国庆节: 2025-09-28, 2025-10-11
"""
CHINESE = HEAD + """\
  节假日 national_day：国庆节，2025-10-01 至 2025-10-07
  补班 national_day：2025-09-28，2025-10-11
"""


def sections() -> list[object]:
    return Hooks(get_plugin_manager()).register_sections()


def calendar(text: str, name: str = "<string>") -> Calendar:
    ruleset = parse_ruleset(text, sections=sections(), name=name)
    policy = ruleset.policy(SECTION, at=date(2025, 10, 1))
    assert policy is not None
    return policy.calendar


def days(of: Calendar) -> tuple[object, ...]:
    """What a calendar decides: its hours, working weekdays, days off and make-up days."""
    return of.start, of.end, of.weekdays, of.holidays, of.extra_workdays


def check(folder: Path, text: str, *options: str) -> tuple[int, str]:
    path = folder / "holidays.rules"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main_group, [*options[:2], "check", *options[2:], str(path)])
    return result.exit_code, result.output


def test_a_holiday_and_its_make_up_days_written_in_either_language_are_one_calendar() -> None:
    english, chinese = calendar(ENGLISH), calendar(CHINESE)
    assert days(english) == days(chinese)
    assert english.is_working_day(date(2025, 9, 28))  # a Sunday, made up
    assert not english.is_working_day(date(2025, 10, 1))
    for named in (english, chinese):  # 补班 国庆节 by the name, 补班 national_day by the id
        [holiday, make_up] = named.named_days
        assert isinstance(holiday, Holiday) and isinstance(make_up, ExtraWorkdays)
        assert (holiday.holiday, holiday.title, make_up.holiday) == ("national_day", "国庆节", "national_day")


def test_make_up_days_by_the_holidays_name_and_by_its_id_are_one_item() -> None:
    both = ENGLISH + "  补班 national_day：2025-10-12\n"
    with pytest.raises(RulesError) as refused:
        parse_ruleset(both, sections=sections())
    assert "'workday national_day' is defined twice in this section" in str(refused.value)


def test_one_name_for_two_holidays_is_refused() -> None:
    with pytest.raises(RulesError) as refused:
        parse_ruleset(ENGLISH + "  holiday golden_week: 国庆节, 2025-10-08\n", sections=sections())
    assert "'国庆节' already names 'national_day'" in str(refused.value)


@pytest.mark.parametrize("holidays", [
    "  holiday national_day: 国庆节, 2025-10-01 to 2025-10-07\n",
    "",  # no holiday at all
])
def test_make_up_days_naming_no_holiday_are_refused_in_english_and_in_chinese(tmp_path: Path,
                                                                             holidays: str) -> None:
    text = HEAD + holidays + "  extra workday national_dya: 2025-09-28\n"
    line = text.count("\n")
    code, english = check(tmp_path, text)
    assert code == 1
    assert f"holidays.rules:{line}:17: error: extra workday 'national_dya' names no holiday" in english
    assert "fix: name the holiday the make-up days belong to (its id or its name), or declare it first: " \
           "holiday national_dya: <name>, DATE to DATE" in english
    code, chinese = check(tmp_path, text, "--lang", "zh")
    assert code == 1
    assert f"holidays.rules:{line}:17: 错误: 补班 'national_dya' 没有对应的节假日" in chinese
    assert "修改: 写出调休所属的节假日（编号或名称），或先声明：节假日 national_dya：<名称>，开始日期 至 结束日期" in chinese
    if holidays:
        assert "the ruleset declares national_day (国庆节)" in english
        assert "规则集声明的节假日有 国庆节（national_day）" in chinese
        assert "应为: 国庆节" in chinese
        assert "did you mean: national_day" in english
    else:
        assert "the ruleset declares none" in english
        assert "规则集声明的节假日有 无" in chinese
    code, found = check(tmp_path, text, "--lang", "en", "--format", "json")
    [problem] = json.loads(found)["diagnostics"]
    assert problem["code"] == "extra-workday-without-holiday"
    assert problem["message"]["zh"].startswith("补班 'national_dya' 没有对应的节假日")


def test_a_childs_holiday_named_by_the_parents_title_replaces_the_parents(tmp_path: Path) -> None:
    child = tmp_path / "child.rules"
    child.write_text('extends "district-base"\nruleset 子\nlevels: community > grid > unit\n\nescalation:\n'
                     "  节假日 春节：2026-02-15 至 2026-02-23\n  补班 春节：2026-02-14\n", encoding="utf-8")
    ruleset = load_ruleset(child, sections=sections())
    policy = ruleset.policy(SECTION, at=date(2026, 2, 16))
    assert policy is not None
    days = policy.calendar
    assert not days.is_working_day(date(2026, 2, 16))  # the child's Spring Festival, a Monday
    assert days.is_working_day(date(2026, 2, 14))  # its make-up Saturday
    assert days.is_working_day(date(2025, 1, 28))  # the parent's 2025 dates are replaced
    assert not days.is_working_day(date(2025, 10, 1))  # the other holidays are inherited
    assert ruleset.id_of("holiday", "春节") == "spring_festival"
    shown = CliRunner().invoke(main_group, ["show", "--against-parent", str(child)])
    assert "changed  escalation: holiday spring_festival" in shown.output
    assert "changed  escalation: workday spring_festival" in shown.output


def test_the_district_base_names_every_holiday_in_chinese() -> None:
    ruleset = load_ruleset(REPO / "rulesets" / "district-base.rules", sections=sections())
    policy = ruleset.policy(SECTION, at=date(2025, 1, 1))
    assert policy is not None
    named = {d.holiday: d.title for d in policy.calendar.named_days if isinstance(d, Holiday)}
    assert named == {"new_year": "元旦", "spring_festival": "春节", "qingming": "清明节", "labour_day": "劳动节",
                     "dragon_boat": "端午节", "national_day": "国庆节"}


def escalated(folder: Path, text: str) -> tuple[Engine, list[object]]:
    rules = folder / "holidays.rules"
    rules.write_text(text, encoding="utf-8")
    engine = Engine.open(store=str(folder / "store"), community=COMMUNITY, ruleset=rules,
                         effective=datetime(2025, 9, 1, tzinfo=CST), clock=FixedClock(BEFORE))
    engine.record(IncidentReported(id="I1-report", time=BEFORE, actor="worker1", node="u11", incident="I1",
                                   category="leaking_pipe"))
    return engine, engine.tick(BEFORE + timedelta(days=10))


def test_an_escalation_whose_clock_ran_over_a_holiday_names_it_in_either_language(tmp_path: Path) -> None:
    engine, fired = escalated(tmp_path, ENGLISH)
    with engine:
        # 1.5 working hours on Tuesday, the holiday, then 2.5 from Wednesday 8 October 08:30
        assert [e.time for e in fired] == [datetime(2025, 10, 8, 11, 0, tzinfo=CST)]
        english = engine.explain(f"escalation:{fired[0].id}")
        assert english.inputs["days off"] == "national_day (国庆节) 2025-10-01 to 2025-10-07"
        assert "make-up days" not in english.inputs  # 28 September and 11 October are outside the clock
        assert [r.line for r in english.rules] == [5, 6]  # the limit, and the holiday
        chinese = engine.explain(f"escalation:{fired[0].id}", lang="zh").render("zh")
        assert "节假日（days off） = 国庆节（national_day）2025-10-01 至 2025-10-07" in chinese


def test_an_explanation_names_the_make_up_days_the_clock_counted(tmp_path: Path) -> None:
    sunday = HEAD + "  holiday national_day: 国庆节, 2025-10-01 to 2025-10-07\n  补班 国庆节：2025-10-05\n"
    engine, fired = escalated(tmp_path, sunday)
    with engine:
        # the Sunday in the holiday made up: 1.5 hours on Tuesday, 2.5 on Sunday 5 October
        assert [e.time for e in fired] == [datetime(2025, 10, 5, 11, 0, tzinfo=CST)]
        english = engine.explain(f"escalation:{fired[0].id}")
        assert english.inputs["make-up days"] == "national_day (国庆节) 2025-10-05"
        chinese = engine.explain(f"escalation:{fired[0].id}", lang="zh").render("zh")
        assert "补班日（make-up days） = 国庆节（national_day）2025-10-05" in chinese


def test_a_title_change_changes_the_fingerprint_and_no_decision(tmp_path: Path) -> None:
    """The title is in the file's text: a new fingerprint (a ruleset to put in force again, its checkpoints
    re-made), a change ``gridcore diff`` lists as it lists a category's new name; nothing decided moves."""
    renamed = ENGLISH.replace("国庆节, 2025", "国庆, 2025").replace("extra workday 国庆节", "extra workday 国庆")
    a = parse_ruleset(ENGLISH, sections=sections(), name="a.rules")
    b = parse_ruleset(renamed, sections=sections(), name="a.rules")
    assert a.fingerprint != b.fingerprint
    assert days(calendar(ENGLISH)) == days(calendar(renamed))
    changes = rule_changes(a, b, sections())
    assert [c.item for c in changes] == ["holiday national_day"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, fired_a = escalated(tmp_path / "a", ENGLISH)
    second, fired_b = escalated(tmp_path / "b", renamed)
    with first, second:
        assert [(e.time, e.to_node) for e in fired_a] == [(e.time, e.to_node) for e in fired_b]
        assert esc.incident(first, "I1").escalations[0].facts == esc.incident(second, "I1").escalations[0].facts
        assert second.explain(f"escalation:{fired_b[0].id}").inputs["days off"] == \
            "national_day (国庆) 2025-10-01 to 2025-10-07"
