"""The ``escalation`` / ``事件流转`` section of the rules language: keywords, item kinds, variables.

The grammar of item bodies is ``escalation.lark``; nodes.py builds the
section's typed nodes from it and compiler.py turns the items in force on a
day into an ``EscalationPolicy`` (policy.py).  ``SECTION`` is what the plugin
registers and what it asks the ruleset for: ``engine.policy(SECTION, at=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gridcore
from gridcore.rules import CompileContext, Item
from gridcore.rules import schema as sch
from gridcore.rules.sections import ItemKind, Section

from .events import INCIDENT
from .nodes import CategoryName, ChannelName, EscalationNodes, HolidayDays
from .policy import EscalationPolicy

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
        "逾期上报到",
        "逾期上报",
    ),
    "ESC_THEN_ROUTE": ("then route to", "超时转交", "逾期转交"),
    "ESC_WORKDAYS": ("working days", "working day", "workdays", "个工作日", "工作日"),
    "ESC_WORKHOURS": ("working hours", "working hour", "个工作小时", "工作小时", "工作时间"),
    "ESC_IMMEDIATELY": ("immediately", "at once", "立即", "立刻"),
    "ESC_TO": ("to", "上报到", "提级到"),
    "ESC_REPEATED": ("repeated", "reported", "反复上报", "反复"),
    "ESC_TIMES": ("times", "time", "次"),
    "ESC_WITHIN": ("within", "以内", "内"),
    "ESC_AT_MOST": ("at most", "up to", "最多", "不超过"),
    "ESC_EACH": ("each", "every time", "每次"),
    "ESC_APPROVED_BY": ("approved by", "审批人"),
    # 办理 is the glossary's word for handling (docs/embedding.md); 处置 the older one, kept
    "ESC_BEFORE_HANDLING": ("required before handling", "before handling", "办理前必须", "办理前", "处置前必须",
                            "处置前"),
    "ESC_BEFORE_VERIFICATION": (
        "required before verification",
        "before verification",
        "核查前必须",
        "核查前",
    ),
    "ESC_REPORT_IN": ("report within", "arrive within", "报到时限", "报到"),
    "ESC_THEN_PASS": ("then pass to", "then hand to", "超时转给", "超时移交", "逾期转给"),
    "ESC_CLOSED": ("closed", "only those listed", "listed only", "仅限所列", "仅限所列类别"),
    "ESC_OPEN": ("open", "不限", "不限类别"),
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
        "channel",
        ("channel", "渠道"),
        "escalation_channel",
        doc="how incidents come in (patrol, phone ...) and the channel's name staff read (Chinese); either "
        "spelling means the channel in a report and in a rule",
        doc_zh="事件的上报渠道（巡查、电话……）及其名称（中文）；上报和规则中写编号或名称均可",
        titles=lambda body: _channel_title(body),
    ),
    ItemKind(
        "categories",
        ("categories", "类别清单"),
        "escalation_categories",
        named=False,
        doc="closed: a report of a category the ruleset does not list is refused (open, the default: any "
        "category is taken, the catch-all route takes those not listed)",
        doc_zh="仅限所列：规则集未列出的类别的上报不予受理（不限，默认：受理任何类别，未列出的类别按“任意”事件规则流转）",
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
        "category_limit",
        ("limit for", "类别时限"),
        "escalation_category_limit",
        doc="limits for a category (any: 任意), optionally at a level or when a condition holds; "
        "the most specific limit wins",
        doc_zh="某类事件的时限（任意：所有类别），可限定层级或条件；最具体的时限优先",
        aliases={"任意": "any", "所有": "any"},
        names=("category",),
    ),
    ItemKind(
        "department_limit",
        ("department limit", "部门时限"),
        "escalation_department_limit",
        doc="how long a summoned line department (吹哨报到) has to report in and to resolve",
        doc_zh="被召集的条线部门（吹哨报到）报到、办结的时限",
    ),
    ItemKind(
        "handler_limit",
        ("handler limit", "办理人时限"),
        "escalation_handler_limit",
        doc="limits of whoever handles a case, by their role, and whom in the cell a breach passes it to",
        doc_zh="按办理人角色的时限，以及超时后在本网格内转给谁",
        names=("role",),
    ),
    ItemKind(
        "escalate",
        ("escalate", "提级"),
        "escalation_escalate",
        doc="escalate at once when a condition holds or a place reports repeatedly",
        doc_zh="满足条件或同一地址反复上报时立即提级",
    ),
    ItemKind(
        "duplicates",
        ("duplicates", "重复上报"),
        "escalation_duplicates",
        named=False,
        doc="a report of the same category at the same place within a window joins the open incident",
        doc_zh="时间窗口内同一地址同类事件的上报并入未办结事件",
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
        "extension",
        ("extension", "延期"),
        "escalation_extension",
        named=False,
        doc="whether a handler may ask for more time to resolve: how often, how much, who approves",
        doc_zh="办理人可否申请延期：最多几次、每次最多多久、由谁审批",
    ),
    ItemKind(
        "consultation",
        ("consultation", "会商"),
        "escalation_consultation",
        doc="incidents of a category (any: 任意) need a consultation (会商) before handling starts",
        doc_zh="某类事件（任意：所有类别）须先会商再处置",
        aliases={"任意": "any", "所有": "any"},
        names=("category",),
    ),
    ItemKind(
        "feedback",
        ("feedback", "反馈"),
        "escalation_feedback",
        named=False,
        doc="the reporter is told the result (反馈) within a limit after resolution; optionally before verification",
        doc_zh="办结后在时限内向上报人反馈结果；可要求核查前必须反馈",
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
        doc="days off (not counted in working time), and optionally the holiday's name staff read before the "
        "dates (holiday spring_festival: 春节, 2025-01-28 to 2025-02-04); either spelling means the holiday",
        doc_zh="不计入工作时间的假日，日期前可写节日名称（节假日 spring_festival：春节，2025-01-28 至 2025-02-04）；"
        "写编号或名称均指同一节假日",
        names=("holiday",),
        titles=lambda body: _holiday_title(body),
    ),
    ItemKind(
        "workday",
        ("extra workday", "补班"),
        "escalation_workday",
        doc="make-up working days (counted even on a weekend) of a holiday the ruleset declares, named by its id "
        "or its name",
        doc_zh="某个节假日的调休上班日（周末也计入工作时间）；写规则集已声明的节假日的编号或名称",
        names=("holiday",),
    ),
)

SATISFACTION = sch.Variable(
    "satisfaction", sch.NUMBER, doc="the verification's satisfaction score (1-5)", zh=("满意度",),
    doc_zh="核查时给出的满意度（1-5）",
)
INCIDENT_ENV = sch.Env((INCIDENT,))
REOPEN_ENV = sch.Env((SATISFACTION,))
CATCH_ALL = ("any", "任意", "所有")


def _category_title(body: object) -> list[str]:
    """A category's display name (``category leaking_pipe: 水管漏水`` -> ``水管漏水``)."""
    return [body.display] if isinstance(body, CategoryName) else []


def _channel_title(body: object) -> list[str]:
    """A channel's name (``channel phone: 电话`` -> ``电话``)."""
    return [body.display] if isinstance(body, ChannelName) else []


def _holiday_title(body: object) -> list[str]:
    """A holiday's name (``holiday spring_festival: 春节, 2025-01-28 to 2025-02-04`` -> ``春节``)."""
    return [body.title] if isinstance(body, HolidayDays) and body.title else []


def section() -> Section[EscalationPolicy]:
    """The escalation section, as registered through ``gridcore_register_sections``."""
    return SECTION


def _compile(items: Sequence[Item], ctx: CompileContext) -> EscalationPolicy:
    # imported when a ruleset is compiled, not when the plugin is listed
    from .compiler import compile_escalation

    return compile_escalation(items, ctx)


SECTION: Section[EscalationPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name="escalation",
    headers=("escalation", "事件流转"),
    items=ITEMS,
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=_compile,
    transformer=EscalationNodes(),
    keywords=KEYWORDS,
    vocabularies={"category": "category", "channel": "channel", "holiday": "holiday"},
    variables={
        "incident / escalate conditions": [v.name for v in INCIDENT_ENV.vars],
        "reopen": [v.name for v in REOPEN_ENV.vars],
    },
    doc="Escalation (事件流转): routing, time limits per level, immediate escalation, "
    "duplicates, consultation, feedback, verification, extensions and the working-time calendar.",
    doc_zh="事件流转：派单转交、各层级时限、立即上报、重复上报、会商、反馈、核查、延期和工作时间日历。",
)
