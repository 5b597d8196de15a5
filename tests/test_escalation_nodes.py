"""The escalation section reads typed nodes, never grammar rule names.

Every rule and alias of escalation.lark has a method on ``EscalationNodes``,
so no item body of the built-in rulesets (or of one exercising every part, in
English and in Chinese) holds a generic ``Node``; both spellings build equal
nodes and compile to the same policy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from gridcore import get_plugin_manager
from gridcore.plugin_host import Hooks
from gridcore.rules import load_ruleset, parse_ruleset
from gridcore.rules.ast import Node
from gridcore_escalation import nodes
from gridcore_escalation.section import GRAMMAR, SECTION

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = Hooks(get_plugin_manager()).register_sections()

ENGLISH = """\
ruleset every_part
levels: community > grid > unit

escalation:
  incident any: start at unit, notify grid_leader at grid and community
  incident fire_hazard: start at grid, route to fire, notify grid_leader, when incident.severity >= 3
  category fire_hazard: 火灾隐患, group safety
  limit unit: accept within 2 hours, resolve within 3 working days, then go to community
  limit grid: accept within 4 working hours, then route to fire, notify grid_leader
  escalate grave: immediately to community when incident.severity >= 4
  escalate repeats: repeated 3 times within 7 days, to grid
  duplicates: within 24 hours
  verified by: grid_leader
  reopen: when satisfaction <= 2
  calendar: working hours 08:30-17:30, monday to friday
  holiday national_day: 2025-10-01 to 2025-10-07
  extra workday national_day: 2025-09-28, 2025-10-11
  extension: at most 2 times, up to 3 working days each, approved by grid_leader
"""

CHINESE = """\
ruleset every_part
levels: community > grid > unit

事件流转:
  事件 任意: 起始于 unit, 通知 网格长 于 grid 且 community
  事件 fire_hazard: 起始于 grid, 转交 fire, 通知 网格长, 当 事件.严重程度 >= 3
  类别 fire_hazard: 火灾隐患, 分组 safety
  时限 unit: 受理时限 2小时, 办结时限 3个工作日, 超时上报 community
  时限 grid: 受理时限 4个工作小时, 超时转交 fire, 通知 网格长
  提级 grave: 立即 上报到 community 当 事件.严重程度 >= 4
  提级 repeats: 7天内 反复上报 3 次, 上报到 grid
  重复上报: 24小时内
  核查人: 网格长
  返工: 当 满意度 <= 2
  工作日历: 工作时间 08:30-17:30, 周一至周五
  节假日 national_day: 2025-10-01 至 2025-10-07
  补班 national_day: 2025-09-28, 2025-10-11
  延期：最多 2 次，每次最多 3个工作日，审批人 网格长
"""


def _generic(value: Any) -> list[Node]:
    """Every generic ``Node`` inside ``value`` (a typed node, a tuple, a leaf)."""
    if isinstance(value, Node):
        return [value]
    if isinstance(value, tuple):
        return [found for part in value for found in _generic(part)]
    if attrs.has(type(value)):
        return [found for f in attrs.fields(type(value)) for found in _generic(getattr(value, f.name))]
    return []


def test_every_rule_and_alias_of_the_fragment_has_a_builder() -> None:
    grammar = GRAMMAR.read_text(encoding="utf-8")
    blocks = re.findall(r"^(escalation_\w+):(.*?)(?=^\S|\Z)", grammar, re.MULTILINE | re.DOTALL)
    defined = {name for name, _ in blocks}
    aliases = set(re.findall(r"-> (escalation_\w+)", grammar))
    # a rule whose every alternative is aliased never appears in a tree
    fully_aliased = {name for name, body in blocks
                     if body.count("->") == 1 + len(re.findall(r"^\s*\|", body, re.MULTILINE))}
    assert {"escalation_route_part", "escalation_weekday", "escalation_span"} <= fully_aliased
    assert set(SECTION.builders()) == (defined - fully_aliased) | aliases


@pytest.mark.parametrize("path", sorted(ROOT.glob("rulesets/*/*.rules")), ids=lambda p: p.name)
def test_builtin_rulesets_hold_only_typed_escalation_nodes(path: Path) -> None:
    ruleset = load_ruleset(path, sections=SECTIONS)
    items = ruleset.items.get("escalation", ())
    for item in items:
        for version in item.versions:
            assert _generic(version.body) == [], f"{path.name}:{item.ref.line}"


def test_english_and_chinese_build_equal_nodes_and_policies() -> None:
    english = parse_ruleset(ENGLISH, sections=SECTIONS, name="en.rules")
    chinese = parse_ruleset(CHINESE, sections=SECTIONS, name="zh.rules")
    en_items, zh_items = english.items["escalation"], chinese.items["escalation"]
    assert [type(i.body) for i in en_items] == [
        nodes.Route, nodes.Route, nodes.CategoryName, nodes.Limit, nodes.Limit, nodes.Escalate,
        nodes.Escalate, nodes.Duplicates, nodes.Verifier, nodes.Reopen, nodes.Calendar,
        nodes.HolidayDays, nodes.ExtraWorkdays, nodes.Extension]
    assert all(_generic(i.body) == [] for i in (*en_items, *zh_items))
    # the same parts in the same order (names and conditions as each file spells them)
    shape = [[type(p) for p in getattr(i.body, "parts", ())] for i in en_items]
    assert shape == [[type(p) for p in getattr(i.body, "parts", ())] for i in zh_items]
    en, zh = english.policies(SECTION)[0].policy, chinese.policies(SECTION)[0].policy
    assert en.calendar.weekdays == zh.calendar.weekdays == frozenset(range(5))
    assert en.calendar.holidays == zh.calendar.holidays
    assert en.calendar.extra_workdays == zh.calendar.extra_workdays
    limits = {(x.level, str(x.accept), str(x.resolve), x.then_level, x.then_department) for x in en.limits}
    assert limits == {(x.level, str(x.accept), str(x.resolve), x.then_level, x.then_department)
                      for x in zh.limits}
    assert ("unit", "2 hours", "3 working days", "community", None) in limits
    assert [(r.count, r.window, r.to_level) for r in en.repeats] == [
        (r.count, r.window, r.to_level) for r in zh.repeats]
    assert [(r.category, r.start_level, r.departments) for r in en.routes] == [
        (r.category, r.start_level, r.departments) for r in zh.routes]
    assert en.duplicates is not None and zh.duplicates is not None
    assert en.duplicates.window == zh.duplicates.window
    assert en.verifier == zh.verifier == "grid_leader"
    assert en.extension is not None and zh.extension is not None
    assert (en.extension.times, str(en.extension.most), en.extension.approver) == (
        zh.extension.times, str(zh.extension.most), zh.extension.approver) == (2, "3 working days", "grid_leader")
    assert [(c.code, c.name, c.group) for c in en.categories] == [(c.code, c.name, c.group) for c in zh.categories]


def test_a_limit_written_as_a_notice_says_it_is_the_same_limit() -> None:
    """``2小时内受理，3个工作日内办结，逾期上报 community`` (within 2 hours accept ...: how a notice on the wall
    says a limit) compiles to what ``受理时限 2小时，办结时限 3个工作日，超时上报 community`` does; so do a
    category's clauses, a department's ``2小时内报到`` and a handler's ``逾期转给``."""
    plain = CHINESE + ("  类别时限 fire_hazard: 受理时限 1小时, 于 grid 办结时限 4小时, 当 事件.严重程度 >= 4 办结时限 2小时\n"
                       "  部门时限 fire: 报到时限 2小时, 办结时限 3天\n"
                       "  办理人时限 专职网格员: 办结时限 1个工作日, 超时转给 网格长\n")
    notice = plain.replace("受理时限 2小时, 办结时限 3个工作日, 超时上报 community",
                           "2小时内受理，3个工作日内办结，逾期上报 community")
    notice = notice.replace("受理时限 4个工作小时, 超时转交 fire", "4个工作小时内受理, 逾期转交 fire")
    notice = notice.replace("受理时限 1小时, 于 grid 办结时限 4小时, 当 事件.严重程度 >= 4 办结时限 2小时",
                            "1小时内受理, 于 grid 4小时内办结, 当 事件.严重程度 >= 4 2小时内办结")
    notice = notice.replace("报到时限 2小时, 办结时限 3天", "2小时内报到, 3天内办结")
    notice = notice.replace("办结时限 1个工作日, 超时转给 网格长", "1个工作日内办结, 逾期转给 网格长")
    assert notice.count("内") > plain.count("内") + 6
    a = parse_ruleset(plain, sections=SECTIONS, name="plain.rules").policies(SECTION)[0].policy
    b = parse_ruleset(notice, sections=SECTIONS, name="notice.rules").policies(SECTION)[0].policy

    def limits(p: Any) -> object:
        def unsourced(x: object) -> str:  # the same parts, written on other lines of other files
            text = re.sub(r"RuleRef\(file='[^']*', line=\d+, column=\d+, text='[^']*'\)", "", repr(x))
            return re.sub(r" at 0x[0-9a-f]+", "", text)  # a condition's compiled test, made twice

        return ({(x.level, str(x.accept), str(x.resolve), x.then_level, x.then_department) for x in p.limits},
                unsourced(p.category_limits), unsourced(p.department_limits), unsourced(p.handler_limits))

    assert limits(a) == limits(b)
    assert ("unit", "2 hours", "3 working days", "community", None) in limits(b)[0]  # type: ignore[index]
