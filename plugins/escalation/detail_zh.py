"""The Chinese of a timeline line's detail and of an escalation's explanation, for staff under ``--lang zh``.

The timeline keeps its lines in English (the store, JSON and English output hold them so); this module
reads the few shapes the plugin writes them in and says them in Chinese, a level by the community's name
for it (``街道 yz-s3``), a category by its ruleset's name (``水管漏水 leaking_pipe``), the ids, times,
amounts and rule texts unchanged. A text it does not know (what a handler wrote) is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import evolve, frozen

from gridcore.explain import Explanation
from gridcore.roster import ROLES


@frozen
class Names:
    """The Chinese the texts name things by: levels (community), categories (rulesets)."""

    levels: Mapping[str, str]
    categories: Mapping[str, str]
    departments: Mapping[str, str] = {}

    def level(self, code: str) -> str:
        """``街道 street``'s Chinese alone, the code when the community names none."""
        return self.levels.get(code, code)

    def category(self, code: str) -> str:
        """``水管漏水（leaking_pipe）``; the code alone when no ruleset names it."""
        zh = self.categories.get(code)
        return f"{zh}（{code}）" if zh else code

    def department(self, code: str) -> str:
        """``消防救援站（fire）``; the code alone when the community names none."""
        zh = self.departments.get(code)
        return f"{zh}（{code}）" if zh and zh != code else code


_SPAN = re.compile(r"^(\d+(?:\.\d+)?) (working day|working hour|day|hour|minute)s?$")
_UNITS = {"working day": "个工作日", "working hour": "个工作小时", "day": "天", "hour": "小时", "minute": "分钟"}
_VERB = {"accepted": "受理", "resolved": "办结"}
_CLOCK = {"level": "本级", "handler": "办理人"}


def names(engine: Any, node: str | None = None) -> Names:
    """The community's level names and the category names of the rulesets in force (at ``node``'s)."""
    from .views import categories

    found = {c.code: c.name for c in categories(engine) if c.name and c.name != c.code}
    if node is not None:
        found.update({c.code: c.name for c in categories(engine, node=node)
                      if c.name and c.name != c.code and c.code not in found})
    departments = {d.id: d.name for d in engine.community.departments.values()}
    return Names(dict(engine.community.level_names), found, departments)


def span(text: str) -> str:
    """``3 working days`` -> ``3个工作日``; another text as written."""
    found = _SPAN.match(text)
    return f"{found[1]}{_UNITS[found[2]]}" if found else text


def _where(text: str, names: Names) -> str:
    """Where an escalation sent a case: ``community yz-c9`` -> ``提级至社区 yz-c9``; with ``, department
    fire`` -> ``交条线部门 消防救援站（fire）办理（社区 yz-c9）``."""
    text, _, department = text.partition(", department ")
    level, _, node = text.partition(" ")
    shown = f"{names.level(level)} {node}" if node else text
    return f"交条线部门 {names.department(department)} 办理（{shown}）" if department else f"提级至{shown}"


_BREACH = re.compile(r"^not (accepted|resolved) within (.+?) at (\S+) (\S+) \((\w+) clock started (\S+)"
                     r"(?:, paused ([^,]+))?, due (\S+)\)$")
_PASSED = re.compile(r"^not (accepted|resolved) within (.+?) by the (\S+) \(handler clock started (\S+), "
                     r"due (\S+)\): passed to the (\S+)$")
_REOPEN = re.compile(r"^verification scored satisfaction (\S+) \((.+) reopens\)$")
_HOLDS = re.compile(r"^(.+) holds$")


def reason(text: str, names: Names) -> str:
    """Why the plugin moved an incident: a limit breached, a reopening, a rule's condition."""
    if found := _BREACH.match(text):
        verb, within, level, node, clock, started, paused, due = found.groups()
        stopped = f"，暂停 {paused}" if paused else ""
        return (f"{names.level(level)} {node} 未在{span(within)}内{_VERB[verb]}，{_VERB[verb]}时限已超"
                f"（{_CLOCK.get(clock, clock)}计时自 {started} 起{stopped}，{due} 到期）")
    if found := _PASSED.match(text):
        verb, within, role, started, due, then = found.groups()
        return (f"{role} 未在{span(within)}内{_VERB[verb]}（办理人计时自 {started} 起，{due} 到期）："
                f"转交 {then}")
    if found := _REOPEN.match(text):
        return f"核查满意度 {found[1]}（规则：{found[2]} 时重新办理）"
    if found := _HOLDS.match(text):
        return f"条件 {found[1]} 成立"
    return text


def _reported(detail: str, names: Names) -> str:
    first, *rest = detail.split("; ")
    found = re.match(r"^(\S+), severity (\d+)$", first)
    if not found:
        return detail
    parts = [f"{names.category(found[1])}，严重程度 {found[2]}"]
    for part in rest:
        if part.startswith("place "):
            parts.append(f"地点 {part[len('place '):]}")
        elif part == "key person involved":
            parts.append("涉及重点人员")
        else:
            parts.append(part)
    return "；".join(parts)


def _routed(detail: str, names: Names) -> str:
    found = re.match(r"^starts at (\S+) (\S+)(?:, routed to (.+))?$", detail)
    if not found:
        return detail
    out = f"从{names.level(found[1])} {found[2]} 开始办理"
    return out + (f"，分派至条线部门 {_departments(found[3], names)}" if found[3] else "")


def _escalated(detail: str, names: Names) -> str:
    found = re.match(r"^to (.+?): (.*)$", detail, re.DOTALL)
    if not found:
        return detail
    return f"{_where(found[1], names)}，因为{reason(found[2], names)}"


def _not_escalated(detail: str, names: Names) -> str:
    if found := re.match(r"^(.*), but there is nowhere higher to go from (\S+)$", detail, re.DOTALL):
        return f"{reason(found[1], names)}，但 {found[2]} 已无更高层级可上报"
    if found := re.match(r"^(.*), but (\S+) is neither a level nor a line department of (.+)$", detail, re.DOTALL):
        return f"{reason(found[1], names)}，但 {found[2]} 既不是{found[3]}的层级，也不是条线部门"
    return detail


def _notified(detail: str, names: Names) -> str:
    if found := re.match(r"^(\S+) (\S+) told: (\S+) goes on handling it$", detail):
        return f"已告知{names.level(found[1])} {found[2]}：{found[3]} 继续办理"
    if found := re.match(r"^notified (.+?)(?: at (\S+))? \((.*)\)$", detail):
        target, node, members = found.groups()
        who = "无人担任" if members == "nobody holds it" else members.replace(", ", "、")
        if target.startswith("the "):  # every staff member of a level's node
            return f"已通知{names.level(target[len('the '):])} {node} 的工作人员：{who}"
        role = ROLES.get(target)
        whom = f"{role}（{target}）" if role else names.department(target)
        return f"已通知 {whom}" + (f"，在 {node}" if node else "") + f"：{who}"
    return detail


def _returned(detail: str, names: Names) -> str:
    if found := re.match(r"^by (\S+): (.*?)(?:; back to (\S+) (\S+) to be taken on again)?$", detail, re.DOTALL):
        back = f"；退回{names.level(found[3])} {found[4]}重新受理" if found[3] else ""
        return f"条线部门 {names.department(found[1])} 退回：{found[2]}{back}"
    if found := re.match(r"^(?:to (\S+): )?(.*); routed again$", detail, re.DOTALL):
        return (f"改到 {found[1]}：" if found[1] else "") + f"{found[2]}；重新分派"
    return detail


def _verified(detail: str, names: Names) -> str:
    found = re.match(r"^satisfaction (\S+)(?:, unsatisfied: (.+))?$", detail)
    if not found:
        return detail
    return f"满意度 {found[1]}" + (f"，不满意（{found[2]}）" if found[2] else "")


def _repeat(detail: str, names: Names) -> str:
    found = re.match(r"^(\S+) joined as repeat report #(\d+): (.*)$", detail, re.DOTALL)
    if not found:
        return detail
    return f"{found[1]} 作为第 {found[2]} 次重复上报并入：{_reported(found[3], names)}"


def _fixed(english: str, chinese: str) -> Callable[[str, Names], str]:
    return lambda detail, names: chinese if detail == english else detail


_KINDS: dict[str, Callable[[str, Names], str]] = {
    "reported": _reported,
    "routed": _routed,
    "not routed": lambda d, n: re.sub(r"^(\S+) is not a line department of (.+): not routed there$",
                                      r"\1 不是\2的条线部门：未分派", d),
    "no policy": _fixed("no escalation policy in force: no routing, limits or automatic escalation",
                        "没有生效的上报规则：不分派、无时限、不自动提级"),
    "accepted": lambda d, n: re.sub(r"^at (\S+)$", r"在 \1 受理", d),
    "escalated": _escalated,
    "not escalated": _not_escalated,
    "notified": _notified,
    "returned": _returned,
    "verified": _verified,
    "rated": lambda d, n: re.sub(r"^satisfaction (\S+)$", r"满意度 \1", d),
    "reopened": lambda d, n: reason(d, n),
    "repeat report": _repeat,
}


def detail(what: str, text: str, names: Names) -> str:
    """The Chinese of the detail of a timeline line of kind ``what`` (as written when it has none)."""
    if not text or what not in _KINDS:
        return text
    return _KINDS[what](text, names)


def explanation(answer: Explanation, names: Names) -> Explanation:
    """An escalation, reopening or start explained in Chinese: its summary and result."""
    summary, result = answer.summary, answer.result
    if found := re.match(r"^(.+?) escalated incident (\S+) to (.+?): (.*?)( \(rule .*\))?$", summary, re.DOTALL):
        who = "系统" if found[1] == "the system" else f"{found[1]} "
        rule = f"（规则 {found[5][len(' (rule '):-1]}）" if found[5] else ""
        summary = f"{who}将事件 {found[2]} {_where_department(found[3], names)}，因为" \
                  f"{reason(found[4], names)}{rule}"
        if isinstance(result, str):
            place, _, department = result.removesuffix(")").partition(" (department ")
            level, _, node = place.partition(" ")
            result = (f"{names.level(level)} {node}" if node else place) + (
                f"（条线部门 {names.department(department)}）" if department else "")
    elif found := re.match(r"^(.+?) reopened incident (\S+): (.*)$", summary, re.DOTALL):
        who = "系统" if found[1] == "the system" else f"{found[1]} "
        summary = f"{who}重新办理事件 {found[2]}：{reason(found[3], names)}"
    elif found := re.match(r"^incident (\S+) started where it was reported: (.*)$", summary):
        why = {"no route in the ruleset matched": "规则集中没有匹配的分派规则",
               "no escalation policy was in force": "没有生效的上报规则"}.get(found[2], found[2])
        summary = f"事件 {found[1]} 从上报的节点开始办理：{why}"
    elif found := re.match(r"^incident (\S+) started at (\S+)(?:, routed to (.+))?$", summary):
        routed = f"，分派至条线部门 {_departments(found[3], names)}" if found[3] else ""
        summary = f"事件 {found[1]} 从 {found[2]} 开始办理{routed}"
    else:
        return answer
    return evolve(answer, summary=summary, result=result)


def _departments(text: str, names: Names) -> str:
    """``fire, police`` -> ``消防救援站（fire）、外海派出所（police）``."""
    return "、".join(names.department(d) for d in text.split(", "))


def _where_department(text: str, names: Names) -> str:
    """``community yz-c16 (department fire)`` -> ``社区 yz-c16（条线部门 fire）``."""
    found = re.match(r"^(.+?) \(department (\S+)\)$", text)
    return _where(f"{found[1]}, department {found[2]}" if found else text, names)
