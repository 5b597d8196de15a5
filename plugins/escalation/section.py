"""The ``escalation`` / ``事件流转`` section of the rules language: keywords, item kinds, compiler.

The grammar of item bodies is ``escalation.lark``.  Conditions are compiled by
the language's own expression compiler against the documented ``incident``
record (and ``satisfaction`` for reopening), never evaluated as Python text.
The core picks the version of each item in force on a day and calls
``compile_escalation`` once per span of days; ``SECTION`` is what the plugin
registers and asks the ruleset for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import gridcore
from gridcore.explain import RuleRef
from gridcore.roster import ROLES
from gridcore.rules import CompileContext, Item, Name, Node, Value, Version
from gridcore.rules import schema as sch
from gridcore.rules.checker import did_you_mean
from gridcore.rules.sections import ItemKind, Section

from .events import INCIDENT
from .policy import (
    DEFAULT_REOPEN,
    DEFAULT_VERIFIER,
    Calendar,
    Category,
    Condition,
    Duplicates,
    EscalationPolicy,
    ExtraWorkdays,
    Holiday,
    Immediate,
    LevelLimit,
    Notice,
    Piece,
    Reopen,
    Repeats,
    Route,
    Span,
    Verifier,
    WorkingHours,
)

GRAMMAR = Path(__file__).with_name("escalation.lark")

KEYWORDS: dict[str, tuple[str, ...]] = {
    "ESC_START": (
        "start at",
        "starts at",
        "go straight to",
        "goes straight to",
        "起始于",
        "直接到",
    ),
    "ESC_ROUTE": ("route to", "routed to", "转交", "交由"),
    "ESC_NOTIFY": ("notify", "通知"),
    "ESC_GROUP": ("group", "分组"),
    "ESC_AT": ("at", "于"),
    "ESC_WHEN": ("when", "当"),
    "ESC_ACCEPT": ("accept within", "受理时限", "受理"),
    "ESC_RESOLVE": ("resolve within", "办结时限", "办结"),
    "ESC_THEN_GO": (
        "then go to",
        "then escalate to",
        "then to",
        "超时上报到",
        "超时上报",
        "超时提级到",
    ),
    "ESC_THEN_ROUTE": ("then route to", "超时转交"),
    "ESC_WORKDAYS": ("working days", "working day", "workdays", "个工作日", "工作日"),
    "ESC_WORKHOURS": ("working hours", "working hour", "个工作小时", "工作小时", "工作时间"),
    "ESC_IMMEDIATELY": ("immediately", "at once", "立即", "立刻"),
    "ESC_TO": ("to", "上报到", "提级到"),
    "ESC_REPEATED": ("repeated", "reported", "反复上报", "反复"),
    "ESC_TIMES": ("times", "time", "次"),
    "ESC_WITHIN": ("within", "以内", "内"),
    "ESC_MONDAY": ("monday", "mon", "周一", "星期一"),
    "ESC_TUESDAY": ("tuesday", "tue", "周二", "星期二"),
    "ESC_WEDNESDAY": ("wednesday", "wed", "周三", "星期三"),
    "ESC_THURSDAY": ("thursday", "thu", "周四", "星期四"),
    "ESC_FRIDAY": ("friday", "fri", "周五", "星期五"),
    "ESC_SATURDAY": ("saturday", "sat", "周六", "星期六"),
    "ESC_SUNDAY": ("sunday", "sun", "周日", "星期日", "星期天"),
}

ITEMS = (
    ItemKind(
        "incident",
        ("incident", "事件"),
        "escalation_route",
        doc="where incidents of a category start, which departments and roles hear of them",
        doc_zh="某类事件从哪一级开始办理，转交哪些部门，通知哪些角色",
        aliases={"任意": "any", "所有": "any"},
        names=("category",),
    ),
    ItemKind(
        "category",
        ("category", "类别"),
        "escalation_category",
        doc="an incident category's display name (Chinese first) and group, for intake and reports",
        doc_zh="事件类别的名称（中文）和分组，用于受理与报表",
        titles=lambda body: _category_title(body),
    ),
    ItemKind(
        "limit",
        ("limit", "时限"),
        "escalation_limit",
        doc="how long a level has to accept and to resolve, and where a breach goes",
        doc_zh="某一层级受理、办结的时限，超时上报到哪里",
        names=("level",),
    ),
    ItemKind(
        "escalate",
        ("escalate", "提级"),
        "escalation_escalate",
        doc="escalate at once when a condition holds or a place reports repeatedly",
        doc_zh="满足条件或同一地点反复上报时立即提级",
    ),
    ItemKind(
        "duplicates",
        ("duplicates", "重复上报"),
        "escalation_duplicates",
        named=False,
        doc="a report of the same category at the same place within a window joins the open incident",
        doc_zh="时间窗口内同一地点同类事件的上报并入未办结事件",
    ),
    ItemKind(
        "verifier",
        ("verified by", "verifier", "核查人"),
        "escalation_verifier",
        named=False,
        doc="the role that verifies results (default grid_leader)",
        doc_zh="核查办理结果的角色（默认网格长）",
    ),
    ItemKind(
        "reopen",
        ("reopen", "返工"),
        "escalation_reopen",
        named=False,
        doc="which satisfaction scores reopen an incident (default satisfaction <= 2)",
        doc_zh="满意度多少时退回重办（默认 满意度 <= 2）",
    ),
    ItemKind(
        "calendar",
        ("calendar", "工作日历"),
        "escalation_calendar",
        named=False,
        doc="working hours and working weekdays for limits in working time",
        doc_zh="按工作时间计时的工作时段与工作日",
    ),
    ItemKind(
        "holiday",
        ("holiday", "节假日"),
        "escalation_holiday",
        doc="days off (not counted in working time)",
        doc_zh="不计入工作时间的假日",
    ),
    ItemKind(
        "workday",
        ("extra workday", "补班"),
        "escalation_workday",
        doc="make-up working days (counted even on a weekend)",
        doc_zh="调休上班日（周末也计入工作时间）",
    ),
)

SATISFACTION = sch.Variable(
    "satisfaction", sch.NUMBER, doc="the verification's satisfaction score (1-5)", zh=("满意度",)
)
INCIDENT_ENV = sch.Env((INCIDENT,))
REOPEN_ENV = sch.Env((SATISFACTION,))
CATCH_ALL = ("any", "任意", "所有")
WEEKDAYS = {
    "escalation_mon": 0,
    "escalation_tue": 1,
    "escalation_wed": 2,
    "escalation_thu": 3,
    "escalation_fri": 4,
    "escalation_sat": 5,
    "escalation_sun": 6,
}


def _category_title(body: Node) -> list[str]:
    """A category's display name (``category leaking_pipe: 水管漏水`` -> ``水管漏水``)."""
    return [n.text for n in body.all("name")[:1] if isinstance(n, Name)]


def section() -> Section[EscalationPolicy]:
    """The escalation section, as registered through ``gridcore_register_sections``."""
    return SECTION


def compile_escalation(items: Sequence[Item], ctx: CompileContext) -> EscalationPolicy:
    """Compile the escalation items in force on a day into that day's ``EscalationPolicy``."""
    now: list[Piece] = []
    for item in items:
        piece = _compile(item, item.versions[0], ctx)
        if piece is not None:
            now.append(piece)
    hours = [p for p in now if isinstance(p, WorkingHours)]
    holidays = tuple((p.first, p.last) for p in now if isinstance(p, Holiday))
    extra = frozenset(day for p in now if isinstance(p, ExtraWorkdays) for day in p.days)
    calendar_rules = tuple(
        p.rule for p in now if isinstance(p, WorkingHours | Holiday | ExtraWorkdays)
    )
    base = Calendar()
    calendar = Calendar(
        start=hours[-1].start if hours else base.start,
        end=hours[-1].end if hours else base.end,
        weekdays=hours[-1].weekdays if hours else base.weekdays,
        holidays=holidays,
        extra_workdays=extra,
        rules=calendar_rules,
    )
    verifiers = [p for p in now if isinstance(p, Verifier)]
    reopens = [p for p in now if isinstance(p, Reopen)]
    duplicates = [p for p in now if isinstance(p, Duplicates)]
    return EscalationPolicy(
        routes=tuple(p for p in now if isinstance(p, Route)),
        limits=tuple(p for p in now if isinstance(p, LevelLimit)),
        immediate=tuple(p for p in now if isinstance(p, Immediate)),
        repeats=tuple(p for p in now if isinstance(p, Repeats)),
        duplicates=duplicates[-1] if duplicates else None,
        verifier=verifiers[-1].role if verifiers else DEFAULT_VERIFIER,
        verifier_rule=verifiers[-1].rule if verifiers else None,
        reopen=reopens[-1] if reopens else DEFAULT_REOPEN,
        calendar=calendar,
        categories=tuple(p for p in now if isinstance(p, Category)),
    )


def _compile(item: Item, version: Version, ctx: CompileContext) -> Piece | None:
    body, ref = version.body, version.ref
    name = item.name.text if item.name is not None else ""
    if item.kind == "incident":
        if item.name is not None and name not in CATCH_ALL:
            name = _category(item.name, ctx)
        return _route(name, body, ref, ctx)
    if item.kind == "category":
        names = [n.text for n in body.all("name") if isinstance(n, Name)]
        return Category(name, names[0], names[1] if len(names) > 1 else "", ref)
    if item.kind == "limit":
        level = _level(item.name, ctx) if item.name is not None else None
        return _limit(level or name, body, ref, ctx)
    if item.kind == "escalate":
        return _escalate(body, ref, ctx)
    if item.kind == "duplicates":
        return Duplicates(_duration(body, ctx), ref)
    if item.kind == "verifier":
        role = _name(body)
        if ctx.known("role", role):
            return Verifier(_role_id(role.text), ref)
        return None
    if item.kind == "reopen":
        compiled = ctx.compile_expr(_expr(body), REOPEN_ENV, expect=sch.BOOL)
        return Reopen(compiled.fn, _text(ref.text), ref)
    if item.kind == "calendar":
        return _calendar(body, ref, ctx)
    if item.kind == "holiday":
        days = [v.value for v in body.all("date") if isinstance(v, Value)]
        first, last = days[0], days[-1]
        if last < first:
            ctx.error(
                body,
                f"the holiday ends ({last}) before it starts ({first})",
                f"假期结束日（{last}）早于开始日（{first}）",
            )
        return Holiday(first, last, ref)
    if item.kind == "workday":
        return ExtraWorkdays(tuple(v.value for v in body.all("date") if isinstance(v, Value)), ref)
    return None  # pragma: no cover - every kind is handled above


def _category(name: Name, ctx: CompileContext) -> str:
    """The id of the category ``name`` writes (by id or by its display name).

    Once the ruleset declares categories, one it does not declare is a
    warning here (a route for it still works: the engine takes any category)
    and an error in ``gridcore check``.
    """
    written = ctx.id_of("category", name.text)
    declared = ctx.vocabulary("category")
    if declared and written not in declared:
        pool = sorted(c for c in declared if c not in ctx.titles.get("category", {}))
        listing = ", ".join(f"{c} ({t})" for c, t in _titled(pool, ctx)) or ", ".join(pool)
        ctx.error(name, f"unknown category '{name.text}': the ruleset declares {listing}",
                  f"未知的类别 '{name.text}'：规则集声明的类别有 {listing}",
                  expected=", ".join(pool[:12]), suggestion=did_you_mean(name.text, sorted(declared)),
                  fix="use a category the ruleset declares (its code or its name), or declare it: "
                      f"category {name.text}: <name>",
                  fix_zh=f"使用规则集已声明的类别（代码或名称），或先声明：类别 {name.text}：<名称>",
                  warning=True)
    return written


def _titled(codes: list[str], ctx: CompileContext) -> list[tuple[str, str]]:
    names = {code: title for title, code in ctx.titles.get("category", {}).items()}
    return [(code, names.get(code, code)) for code in codes]


def _parts(body: Node) -> list[Node]:
    return [c for c in body.children if isinstance(c, Node)]


def _name(node: Node) -> Name:
    found = node.first("name")
    assert isinstance(found, Name)
    return found


def _expr(node: Node) -> Any:
    found = node.first("expr")
    if found is None:
        found = next(c for c in node.children if not isinstance(c, (Node, Name, Value)))
    return found


def _text(line: str) -> str:
    head, _, rest = line.partition(":") if ":" in line else line.partition("：")
    return rest.strip() or head.strip()


def _condition(node: Node, ref: RuleRef, ctx: CompileContext) -> Condition:
    expr = _expr(node)
    compiled = ctx.compile_expr(expr, INCIDENT_ENV, expect=sch.BOOL)
    return Condition(compiled.fn, _written(expr, ref) or "the condition")


def _written(expr: Any, ref: RuleRef) -> str:
    """The text of ``expr`` as the author wrote it (the item line's text is stripped)."""
    pos = getattr(expr, "pos", None)
    if pos is None or pos.line != ref.line:
        return ""
    # the end position of a field reference is not reliable: read to the
    # first comma outside brackets instead
    text = ref.text[pos.column - ref.column :]
    depth = 0
    for i, char in enumerate(text):
        if char in "(（[【":
            depth += 1
        elif char in ")）]】":
            depth -= 1
        elif char in ",，、" and depth <= 0:
            return text[:i].strip()
    return text.strip()


def _level(name: Name, ctx: CompileContext) -> str | None:
    """The id of the level ``name`` writes (by id or by its declared Chinese name).

    An unknown level is reported (with did-you-mean) and gives None.  A
    ruleset that declares no levels keeps the name as written.
    """
    if not ctx.known("level", name):
        return None
    return ctx.level_id(name.text) or name.text


def _route(category: str, body: Node, ref: RuleRef, ctx: CompileContext) -> Route:
    start, condition = None, None
    departments: list[str] = []
    notices: list[Notice] = []
    for part in _parts(body):
        if part.kind == "escalation_start":
            start = _level(_name(part), ctx)
        elif part.kind == "escalation_department":
            departments.append(_name(part).text)
        elif part.kind == "escalation_notify":
            notices.extend(_notices(part, ctx))
        elif part.kind == "escalation_when":
            condition = _condition(part, ref, ctx)
    return Route(
        None if category in CATCH_ALL else category,
        ref,
        condition,
        start,
        tuple(departments),
        tuple(notices),
    )


def _notices(part: Node, ctx: CompileContext) -> list[Notice]:
    found = []
    for notice in part.all("escalation_notice"):
        assert isinstance(notice, Node)
        names = [n for n in notice.all("name") if isinstance(n, Name)]
        if len(names) > 1:
            ctx.known("role", names[0])
            level = _level(names[1], ctx)
            found.append(Notice(_role_id(names[0].text), level or names[1].text))
        else:  # a role, a line department, or a level ("notify 社区": its staff)
            written = names[0].text
            found.append(Notice(ctx.level_id(written) or _role_id(written)))
    return found


def _span(node: Node) -> Span:
    span = (
        node.first("escalation_wall")
        or node.first("escalation_workdays")
        or node.first("escalation_workhours")
    )
    assert isinstance(span, Node)
    value = span.children[0]
    assert isinstance(value, Value)
    written = f"{value.value}"
    if span.kind == "escalation_wall":
        amount = value.value
        return Span(amount, False, _show(amount))
    count = float(value.value)
    if span.kind == "escalation_workdays":
        return Span(
            timedelta(0), True, f"{written} working {_plural(count, 'day')}", workdays=count
        )
    return Span(timedelta(hours=count), True, f"{written} working {_plural(count, 'hour')}")


def _plural(count: float, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _show(amount: timedelta) -> str:
    hours = amount.total_seconds() / 3600
    if hours >= 24 and hours % 24 == 0:
        return f"{hours / 24:g} {_plural(hours / 24, 'day')}"
    if hours >= 1:
        return f"{hours:g} {_plural(hours, 'hour')}"
    minutes = amount.total_seconds() / 60
    return f"{minutes:g} {_plural(minutes, 'minute')}"


def _limit(level: str, body: Node, ref: RuleRef, ctx: CompileContext) -> LevelLimit:
    accept = resolve = None
    then_level = then_department = None
    notices: list[Notice] = []
    for part in _parts(body):
        if part.kind == "escalation_accept":
            accept = _span(part)
        elif part.kind == "escalation_resolve":
            resolve = _span(part)
        elif part.kind == "escalation_then_level":
            then_level = _level(_name(part), ctx)
        elif part.kind == "escalation_then_department":
            then_department = _name(part).text
        elif part.kind == "escalation_notify":
            notices.extend(_notices(part, ctx))
    if accept is None and resolve is None:
        ctx.error(
            body,
            "a limit needs 'accept within ...' or 'resolve within ...'",
            "时限需要写明“受理时限 …”或“办结时限 …”",
        )
    return LevelLimit(level, ref, accept, resolve, then_level, then_department, tuple(notices))


def _escalate(body: Node, ref: RuleRef, ctx: CompileContext) -> Immediate | Repeats | None:
    to: str | None = None
    condition: Condition | None = None
    repeated: tuple[int, timedelta] | None = None
    for part in _parts(body):
        if part.kind == "escalation_to":
            to = _name(part).text
        elif part.kind == "escalation_when":
            condition = _condition(part, ref, ctx)
        elif part.kind == "escalation_repeated":
            count = part.first("number")
            window = part.first("duration")
            assert isinstance(count, Value) and isinstance(window, Value)
            if not isinstance(count.value, int) or count.value < 2:
                ctx.error(
                    count, "repeated reports are counted from 2 times up", "反复上报次数至少为 2 次"
                )
            repeated = (int(count.value), window.value)
    if to is not None and ctx.levels:
        level = ctx.level_id(to)
        if level is None:
            pool = [*ctx.levels, *ctx.level_names.values()]
            ctx.error(
                body,
                f"'{to}' is not one of the levels ({', '.join(pool)}): it will be taken as a line department",
                f"'{to}' 不是层级（{'、'.join(pool)}）之一：将视为条线部门",
                warning=True,
            )
        to = level or to
    if repeated is not None:
        return Repeats(repeated[0], repeated[1], ref, to_level=to)
    if condition is None:
        ctx.error(
            body,
            "say when to escalate: 'when <condition>' or 'repeated N times within <duration>'",
            "请写明何时提级：“当 <条件>” 或 “<时长>内 反复上报 N 次”",
        )
        return None
    return Immediate(condition, ref, to_level=to)


def _duration(node: Node, ctx: CompileContext) -> timedelta:
    value = node.first("duration")
    assert isinstance(value, Value)
    if value.value <= timedelta(0):
        ctx.error(value, "the window must be longer than zero", "时间窗口必须大于零")
    return value.value  # type: ignore[no-any-return]


def _calendar(body: Node, ref: RuleRef, ctx: CompileContext) -> WorkingHours:
    start, end = time(8, 30), time(17, 30)
    weekdays: set[int] = set()
    for part in _parts(body):
        if part.kind == "escalation_hours":
            clocks = part.all("escalation_clock")
            start, end = (_clock(c, ctx) for c in clocks)  # type: ignore[arg-type]
            if end <= start:
                ctx.error(
                    part,
                    f"working hours end ({end:%H:%M}) before they start ({start:%H:%M})",
                    f"工作时间结束（{end:%H:%M}）早于开始（{start:%H:%M}）",
                )
        elif part.kind == "escalation_days":
            days = [
                WEEKDAYS[d.kind]
                for d in part.children
                if isinstance(d, Node) and d.kind in WEEKDAYS
            ]
            if len(days) == 2 and days[0] <= days[1]:
                weekdays.update(range(days[0], days[1] + 1))
            elif len(days) == 2:
                weekdays.update([*range(days[0], 7), *range(days[1] + 1)])
            else:
                weekdays.update(days)
    return WorkingHours(start, end, frozenset(weekdays) or frozenset(range(5)), ref)


def _clock(node: Node, ctx: CompileContext) -> time:
    hour, minute = (v.value for v in node.all("number") if isinstance(v, Value))
    if not (
        isinstance(hour, int) and isinstance(minute, int) and 0 <= hour <= 24 and 0 <= minute < 60
    ):
        ctx.error(node, "a time of day is written like 08:30", "时刻的写法如 08:30")
        return time(0, 0)
    return time(min(hour, 23), minute) if hour < 24 else time(23, 59)


def _role_id(text: str) -> str:
    for role, zh in ROLES.items():
        if text == zh:
            return role
    return text


SECTION: Section[EscalationPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name="escalation",
    headers=("escalation", "事件流转"),
    items=ITEMS,
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=compile_escalation,
    keywords=KEYWORDS,
    vocabularies={"category": "category"},
    variables={
        "incident / escalate conditions": [v.name for v in INCIDENT_ENV.vars],
        "reopen": [v.name for v in REOPEN_ENV.vars],
    },
    doc="Escalation (事件流转): routing, time limits per level, immediate escalation, "
    "duplicates, verification and the working-time calendar.",
)
