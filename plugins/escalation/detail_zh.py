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

from attrs import evolve

from gridcore.classes import frozen
from gridcore.explain import Explanation
from gridcore.roster import ROLES


@frozen
class Names:
    """The Chinese the texts name things by: levels (community), categories (rulesets)."""

    levels: Mapping[str, str]
    categories: Mapping[str, str]
    departments: Mapping[str, str] = {}
    #: the roster's roles (id -> Chinese name), its own among them; the built-in ones are known anyway
    roles: Mapping[str, str] = {}
    #: the channels' Chinese names (code -> name), as the rulesets' ``channel`` items give them
    channels: Mapping[str, str] = {}

    def level(self, code: str) -> str:
        """``街道 street``'s Chinese alone, the code when the community names none."""
        return self.levels.get(code, code)

    def category(self, code: str) -> str:
        """``水管漏水（leaking_pipe）``; the code alone when no ruleset names it."""
        zh = self.categories.get(code)
        return f"{zh}（{code}）" if zh else code

    def channel(self, code: str) -> str:
        """``电话（phone）``; the code alone when no ruleset names it."""
        zh = self.channels.get(code)
        return f"{zh}（{code}）" if zh else code

    def department(self, code: str) -> str:
        """``消防救援站（fire）``; the code alone when the community names none."""
        zh = self.departments.get(code)
        return f"{zh}（{code}）" if zh and zh != code else code


_SPAN = re.compile(r"^(\d+(?:\.\d+)?) (working day|working hour|day|hour|minute)s?$")
#: An extension of days and hours (``1 working day 4 hours``: the hours are working ones too).
_EXTRA = re.compile(r"(\d+ (?:working )?days?) (\d+) hours?")
_UNITS = {"working day": "个工作日", "working hour": "个工作小时", "day": "天", "hour": "小时", "minute": "分钟"}
_VERB = {"accepted": "受理", "resolved": "办结"}
_CLOCK = {"level": "本级", "handler": "办理人"}


def names(engine: Any, node: str | None = None) -> Names:
    """The community's level names and the category and channel names of the rulesets in force (at
    ``node``'s)."""
    from .views import categories, channels

    found = {c.code: c.name for c in categories(engine) if c.name and c.name != c.code}
    ways = {c.code: c.name for c in channels(engine) if c.name != c.code}
    if node is not None:
        found.update({c.code: c.name for c in categories(engine, node=node)
                      if c.name and c.name != c.code and c.code not in found})
        ways.update({c.code: c.name for c in channels(engine, node=node) if c.name != c.code and c.code not in ways})
    departments = {d.id: d.name for d in engine.community.departments.values()}
    return Names(dict(engine.community.level_names), found, departments, dict(engine.community.roles), ways)


def span(text: str) -> str:
    """``3 working days`` -> ``3个工作日``, an extension's ``1 working day 4 hours`` -> ``1个工作日4个工作小时``;
    another text as written."""
    found = _SPAN.match(text)
    if found:
        return f"{found[1]}{_UNITS[found[2]]}"
    if (extra := _EXTRA.fullmatch(text)) is not None:
        working = "working " if "working" in extra[1] else ""
        return span(extra[1]) + span(f"{extra[2]} {working}hours")
    return text


#: A span as ``timers.duration`` shows it: ``616d 06h55``, ``14h42``.
_ELAPSED = re.compile(r"(?:(\d+)d )?(\d+)h(\d+)")


def elapsed(text: str) -> str:
    """A span ``timers.duration`` showed, as staff read it in Chinese: ``616d 06h55`` -> ``616天6小时55分``,
    ``14h42`` -> ``14小时42分``, ``0h05`` -> ``0小时5分`` (the same numbers); another text as written."""
    found = _ELAPSED.fullmatch(text)
    if found is None:
        return text
    days, hours, minutes = (int(g) if g else 0 for g in found.groups())
    return f"{days}天{hours}小时{minutes}分" if days else f"{hours}小时{minutes}分"


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
_REPEATS = re.compile(r"^(\d+) reports of (\S+) at the same place within (.+)$")


def reason(text: str, names: Names) -> str:
    """Why the plugin moved an incident: a limit breached, a reopening, a rule's condition."""
    if found := _BREACH.match(text):
        verb, within, level, node, clock, started, paused, due = found.groups()
        stopped = f"，暂停 {elapsed(paused)}" if paused else ""
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
    if found := _REPEATS.match(text):
        return f"{span(found[3])}内同一地点 {found[1]} 次上报{names.category(found[2])}"
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


_ASKED = re.compile(r"^(?:(\d+) (working )?days?)? ?(?:(\d+) (working )?hours?)?$")


def asked(text: str) -> str:
    """An extension as staff read it: ``2 working days`` -> ``2个工作日``, ``1 day 4 hours`` -> ``1天4小时``."""
    found = _ASKED.match(text)
    if not text or not found:
        return text
    days, working_days, hours, working_hours = found.groups()
    working = bool(working_days or working_hours)
    return (f"{days}{'个工作日' if working else '天'}" if days else "") + (
        f"{hours}{'个工作小时' if working else '小时'}" if hours else "")


def _status(text: str) -> str:
    """``incident was closed`` -> ``事件当时已结案``; ``..., no request waiting`` -> ``...，没有待批的延期申请``."""
    from .lifecycle import STATUS_ZH

    found = re.match(r"^incident was (\w+)(, no request waiting)?$", text)
    if not found:
        return text
    return f"事件当时{STATUS_ZH.get(found[1], found[1])}" + ("，没有待批的延期申请" if found[2] else "")


def why(text: str) -> str:
    """A reason the plugin wrote in both languages (``English (中文)``) as its Chinese; ``incident was X`` in
    Chinese; another text as written."""
    english, _, chinese = text.removesuffix(")").rpartition(" (")
    if english and text.endswith(")") and re.search(r"[\u4e00-\u9fff]", chinese):
        return chinese
    return _status(text)


_FLAG_STEPS = {"reported": "上报", "resolved": "办结", "closed": "结案"}


def _closed(detail: str, names: Names) -> str:
    """``flagged: reported and resolved by X`` (the reporter closed their own case)."""
    found = re.match(r"^flagged: (.+) by (\S+)$", detail)
    if not found:
        return detail
    steps = re.split(r", | and ", found[1])
    if any(s not in _FLAG_STEPS for s in steps):
        return detail
    return f"标记：{'、'.join(_FLAG_STEPS[s] for s in steps)}均由 {found[2]} 完成（上报人自己办结或结案）"


def _assigned(detail: str, names: Names) -> str:
    found = re.match(r"^to (\S+)(?: \((\w+)\))?(?:: (.*))?$", detail, re.DOTALL)
    if not found:
        return detail
    role = f"（{ROLES.get(found[2], found[2])}）" if found[2] else ""
    return f"派给 {found[1]}{role}" + (f"：{found[3]}" if found[3] else "")


def _consulted(detail: str, names: Names) -> str:
    found = re.match(r"^with (.+?): (.*)$", detail, re.DOTALL)
    return f"参加人 {found[1].replace(', ', '、')}：{found[2]}" if found else detail


def _feedback(detail: str, names: Names) -> str:
    parts = []
    for part in detail.split("; "):
        if found := re.match(r"^(within|late:) the limit, due (\S+)$", part):
            parts.append(f"{'未超时限' if found[1] == 'within' else '已超时限'}（{found[2]} 到期）")
        elif part.startswith("by "):
            parts.append(f"方式 {names.channel(part[len('by '):])}")
        else:
            parts.append(part)
    return "；".join(parts)


def _extension_requested(detail: str, names: Names) -> str:
    found = re.match(r"^(.+?): (.*)$", detail, re.DOTALL)
    return f"申请延期 {asked(found[1])}：{found[2]}" if found and _ASKED.match(found[1]) else detail


def _extension_approved(detail: str, names: Names) -> str:
    found = re.match(r"^\+(.+?): (.*)$", detail)
    if not found:
        return detail
    if moved := re.match(r"^resolve due (\S+) -> (\S+)$", found[2]):
        return f"延期 {asked(found[1])}：办结时限 {moved[1]} -> {moved[2]}"
    if found[2] == "the clock is paused: the resolve limit grows when it runs again":
        return f"延期 {asked(found[1])}：计时已暂停，恢复计时后办结时限顺延"
    return detail


def _extension_refused(detail: str, names: Names) -> str:
    found = re.match(r"^(.+?) asked by (\S+): (.*)$", detail, re.DOTALL)
    return f"{found[2]} 申请的 {asked(found[1])} 不予批准：{found[3]}" if found else detail


_LAPSED_WHY = {"the case was returned": "事件已退单", "resolved before an answer": "批复前已办结"}


def _extension_lapsed(detail: str, names: Names) -> str:
    found = re.match(r"^(.+?) asked (\S+): (.*)$", detail, re.DOTALL)
    if not found:
        return detail
    because = _LAPSED_WHY.get(found[3], found[3])
    if to := re.match(r"^the case was assigned to (\S+)$", found[3]):
        because = f"事件已改派给 {to[1]}"
    elif to := re.match(r"^the case went to (\S+) (\S+)$", found[3]):
        because = f"事件已转至{names.level(to[1])} {to[2]}"
    return f"{found[2]} 申请的 {asked(found[1])} 已失效：{because}"


def _reopen_ignored(detail: str, names: Names) -> str:
    found = re.match(r"^reopening ignored: (.*)$", detail, re.DOTALL)
    return f"重新办理已忽略：{why(found[1])}" if found else detail


_REFUSED_LATE = re.compile(r"^(.+?): refused in time order: (.*?)(?:; (\S+) \((.+) at (.+)\) recorded late \(补录\))?$",
                           re.DOTALL)


def _step_ignored(detail: str, names: Names) -> str:
    """``assigned: refused in time order: WHY (中文); ID (resolved at 11:00) recorded late (补录)`` (a stored step
    a late event made refusable) -> ``派单：按时间顺序应拒绝：中文；ID（11:00 办结）补录``; ``STEP of REPORT: WHY``
    (a step of a report now a repeat report) -> ``REPORT 的STEP：WHY``."""
    refused = _REFUSED_LATE.match(detail)
    if refused:
        step = _EVENT_STEPS_ZH.get(refused[1], refused[1])
        said = f"{step}：按时间顺序应拒绝：{why(refused[2])}"
        if refused[3]:
            said += f"；{refused[3]}（{refused[5]} {_EVENT_STEPS_ZH.get(refused[4], refused[4])}）补录"
        return said
    found = re.match(r"^(.+?) of (\S+): (.*)$", detail, re.DOTALL)
    if not found:
        return detail
    return f"{found[2]} 的{_EVENT_STEPS_ZH.get(found[1], found[1])}：{why(found[3])}"


def _join_ignored(detail: str, names: Names) -> str:
    """``R joined I: WHY (中文)`` (a stored join a late, earlier report moved) -> ``R 并入 I：中文``."""
    found = re.match(r"^(\S+) joined (\S+): (.*)$", detail, re.DOTALL)
    return f"{found[1]} 并入 {found[2]}：{why(found[3])}" if found else detail


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
    "closed": _closed,
    "assigned": _assigned,
    "consulted": _consulted,
    "feedback given": _feedback,
    "extension requested": _extension_requested,
    "extension approved": _extension_approved,
    "extension refused": _extension_refused,
    "extension lapsed": _extension_lapsed,
    "reopen ignored": _reopen_ignored,
    "step ignored": _step_ignored,
    "join ignored": _join_ignored,
    "escalation ignored": lambda d, n: why(d),
    "assignment ignored": lambda d, n: why(d),
    "return ignored": lambda d, n: why(d),
    "extension request ignored": lambda d, n: why(d),
    "extension approval ignored": lambda d, n: why(d),
    "extension refusal ignored": lambda d, n: why(d),
}

#: Each kind of timeline line (its ``what``, the step column) in Chinese: every kind the plugin writes
#: (tests/test_escalation_steps_zh.py finds them in the plugin's source and checks each is here).
STEPS_ZH: Mapping[str, str] = {
    "reported": "上报", "repeat report": "重复上报", "no policy": "无上报规则", "routed": "分派",
    "not routed": "未分派", "notified": "通知", "not escalated": "未能提级", "accepted": "受理",
    "handling started": "开始办理", "resolved": "办结", "verified": "核查", "closed": "结案", "rated": "评价",
    "paused": "暂停计时", "resumed": "恢复计时", "escalated": "提级", "reopened": "重新办理", "assigned": "派单",
    "returned": "退单", "consulted": "会商", "feedback given": "反馈", "extension requested": "申请延期",
    "extension approved": "批准延期", "extension refused": "不予延期", "extension lapsed": "延期申请失效",
    "escalation ignored": "提级（已忽略）", "reopen ignored": "重新办理（已忽略）", "step ignored": "步骤（已忽略）",
    "join ignored": "并入（已忽略）",
    "assignment ignored": "派单（已忽略）", "return ignored": "退单（已忽略）",
    "extension request ignored": "申请延期（已忽略）", "extension approval ignored": "批准延期（已忽略）",
    "extension refusal ignored": "不予延期（已忽略）",
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
    elif found := re.match(r"^report (\S+) joined open incident (\S+) as repeat report #(\d+)$", summary):
        summary = f"上报 {found[1]} 并入未结案事件 {found[2]}，为第 {found[3]} 次重复上报"
    return evolve(answer, summary=summary, result=result, inputs={key: _value(key, value, names)
                                                                  for key, value in answer.inputs.items()})


#: A holiday and its days as an explanation writes them: ``national_day (国庆节) 2025-10-01 to 2025-10-08``.
_HOLIDAY = re.compile(r"^(\S+)(?: \((.+)\))? (\d{4}-\d\d-\d\d(?:(?: to |, )\d{4}-\d\d-\d\d)*)$")


def _holiday_zh(text: str) -> str:
    """``national_day (国庆节) 2025-10-01 to 2025-10-08`` -> ``国庆节（national_day）2025-10-01 至 2025-10-08``."""
    found = _HOLIDAY.match(text)
    if found is None:
        return text
    days = found[3].replace(" to ", " 至 ").replace(", ", "，")
    return f"{found[2]}（{found[1]}）{days}" if found[2] else f"{found[1]} {days}"


#: An input's value the plugin writes in English when there is none (``resolve limit`` = ``(none)``).
_NONE_ZH = {"(none)": "（无）", "(paused)": "（已暂停）"}


def _value(key: str, value: Any, names: Names) -> Any:
    """An input's value in Chinese: a node by its level's name (``from`` = ``grid yq-g7`` -> ``网格 yq-g7``), a
    level (``网格（grid）``), a category and a channel by their rulesets' names (``水管漏水（leaking_pipe）``), a
    status, a limit's step and a clock (``已上报（reported）``, ``受理（accept）``, ``本级（level）``), what a limit
    applies as (``网格层级时限``), a time span (``window`` = ``2 hours`` -> ``2小时``, ``paused`` = ``1h30`` ->
    ``1小时30分``), a rule's condition quoted
    as written (``「when satisfaction <= 2」``); another as it is."""
    if not isinstance(value, str):
        return value
    if value in _NONE_ZH:
        return _NONE_ZH[value]
    if key in ("from", "to", "level") and (found := re.fullmatch(r"(\w+) (\S+)", value)) and found[1] in names.levels:
        return f"{names.level(found[1])} {found[2]}"
    if key in ("when", "reopens when"):
        return f"「{value}」"  # (a rule's condition, quoted as the ruleset writes it)
    if key in ("days off", "make-up days"):
        return "；".join(_holiday_zh(part) for part in value.split("; "))
    if key == "category":
        return names.category(value)
    if key == "channel":
        return names.channel(value)
    if key == "level" and value in names.levels:
        return _glossed(names.level(value), value)
    if key == "status" and value in _status_zh():
        return _glossed(_status_zh()[value], value)
    if key == "limit" and value in LIMIT_ZH:
        return _glossed(LIMIT_ZH[value], value)
    if key == "clock" and value in _CLOCK:
        return _glossed(_CLOCK[value], value)
    if key == "paused":
        return elapsed(value)
    if key == "applies as":
        from .limits import source_zh

        return source_zh(value, names)
    return span(value) if key in ("window", "span", "limit", "resolve limit", "asked") else value


def _glossed(chinese: str, code: str) -> str:
    """``网格（grid）``; the code alone when it has no Chinese of its own."""
    return f"{chinese}（{code}）" if chinese != code else code


#: A limit's step in Chinese (an escalation's ``limit`` input, the limits' and the overdue list's columns).
LIMIT_ZH = {"accept": "受理", "resolve": "办结"}


def _status_zh() -> Mapping[str, str]:
    from .lifecycle import STATUS_ZH

    return STATUS_ZH


def _departments(text: str, names: Names) -> str:
    """``fire, police`` -> ``消防救援站（fire）、外海派出所（police）``."""
    return "、".join(names.department(d) for d in text.split(", "))


def _where_department(text: str, names: Names) -> str:
    """``community yz-c16 (department fire)`` -> ``社区 yz-c16（条线部门 fire）``."""
    found = re.match(r"^(.+?) \(department (\S+)\)$", text)
    return _where(f"{found[1]}, department {found[2]}" if found else text, names)


#: A step of a repeat report (``step ignored``) is named by its event's kind (``consultation held``).
_EVENT_STEPS_ZH = {**STEPS_ZH, "consultation held": "会商", "satisfaction rated": "评价"}
