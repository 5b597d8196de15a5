"""The escalation section's syntax tree: typed, frozen nodes built from escalation.lark.

``EscalationNodes`` is the section's transformer (``Section.transformer``):
each method is named after a rule or alias of the fragment and receives that
rule's children, already built (the core's ``Name``, ``Value`` and ``Expr``
nodes, or the nodes below), with the position of the text it covers.  The
compiler (compiler.py) reads these nodes with ``isinstance``; it never sees a
rule name.

A body written as a list of parts (``accept within 2 hours, resolve within 3
working days``) keeps them in ``parts``, in the order written: the core
compares the parts of dated versions by their types (a version that no longer
says something its predecessor said is warned about), so a part is a node and
a plain leaf (a category's display name, a holiday's dates) is not.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.rules import Expr, Name, Pos, Value
from gridcore.rules.ast import NOWHERE

# ------------------------------------------------------------------ shared parts


@frozen
class When:
    """``when <condition>`` / ``当 <条件>``."""

    expr: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Notice:
    """``grid_leader at grid`` / ``网格长 于 网格``, or one name (a role, a department, a level)."""

    who: Name
    at: Name | None
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Notify:
    """``notify A and B at grid`` / ``通知 …``."""

    notices: tuple[Notice, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ incident (routes)


@frozen
class StartAt:
    """``start at community`` / ``起始于 社区``: the level the incident starts at."""

    level: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class RouteTo:
    """``route to fire`` / ``转交 消防``: a line department that hears of it."""

    department: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Route:
    """The body of an ``incident`` item: its parts in the order written."""

    parts: tuple[StartAt | RouteTo | Notify | When, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ limits


@frozen
class WallTime:
    """``2 hours`` / ``3天``: clock time."""

    amount: timedelta
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class WorkingDays:
    """``3 working days`` / ``3个工作日``."""

    count: float
    written: int | float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class WorkingHours:
    """``4 working hours`` / ``4个工作小时``."""

    count: float
    written: int | float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


Span = WallTime | WorkingDays | WorkingHours


@frozen
class AcceptWithin:
    """``accept within <span>`` / ``受理时限 <时长>``."""

    span: Span
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ResolveWithin:
    """``resolve within <span>`` / ``办结时限 <时长>``."""

    span: Span
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ThenLevel:
    """``then go to street`` / ``超时上报 街道``: where a breach goes (a level)."""

    level: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ThenDepartment:
    """``then route to fire`` / ``超时转交 消防``: where a breach goes (a line department)."""

    department: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Limit:
    """The body of a ``limit`` item: its parts in the order written."""

    parts: tuple[AcceptWithin | ResolveWithin | ThenLevel | ThenDepartment | Notify, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Clause:
    """One clause of ``limit for CATEGORY``: a limit, at a level and/or when a condition holds."""

    level: Name | None
    when: Expr | None
    limit: AcceptWithin | ResolveWithin
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class CategoryLimit:
    """The body of ``limit for CATEGORY``: its clauses in the order written."""

    parts: tuple[Clause, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ReportIn:
    """``report within <span>`` / ``报到时限 <时长>``: a summoned department must arrive."""

    span: Span
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class DepartmentLimit:
    """The body of ``department limit DEPT``: its parts in the order written."""

    parts: tuple[ReportIn | ResolveWithin, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ThenPass:
    """``then pass to microgrid_leader`` / ``超时转给 微网格长``: the next handler in the cell."""

    role: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class HandlerLimit:
    """The body of ``handler limit ROLE``: its parts in the order written."""

    parts: tuple[AcceptWithin | ResolveWithin | ThenPass, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ escalate


@frozen
class Immediately:
    """``immediately`` / ``立即``."""

    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class EscalateTo:
    """``to community`` / ``上报到 社区``: a level or a line department."""

    target: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Repeated:
    """``repeated 3 times within 7 days`` / ``7天内 反复上报 3 次``."""

    count: Value
    window: Value
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Escalate:
    """The body of an ``escalate`` item: its parts in the order written."""

    parts: tuple[Immediately | EscalateTo | When | Repeated, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ one-line items


@frozen
class CategoryName:
    """The body of a ``category`` item: display name and group (plain text, as written)."""

    display: str
    group: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ChannelName:
    """The body of a ``channel`` item: the channel's name as staff read it (plain text, as written)."""

    display: str
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class CategoryList:
    """The body of ``categories``: ``closed`` (仅限所列: only the categories listed are taken) or open (不限)."""

    closed: bool
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Duplicates:
    """The body of ``duplicates``: the window (a duration ``Value``, kept for its position)."""

    window: Value
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Verifier:
    """The body of ``verified by``: the role as written."""

    role: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Reopen:
    """The body of ``reopen``: the condition on ``satisfaction``."""

    expr: Expr
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ extension


@frozen
class ExtensionTimes:
    """``at most 2 times`` / ``最多 2 次``: extensions per incident."""

    count: Value
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ExtensionSpan:
    """``up to 3 working days each`` / ``每次最多 3个工作日``: the most one extension grants."""

    span: Span
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ExtensionApprover:
    """``approved by grid_leader`` / ``审批人 网格长``."""

    role: Name
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Extension:
    """The body of ``extension``: its parts in the order written."""

    parts: tuple[ExtensionTimes | ExtensionSpan | ExtensionApprover, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ consultation and feedback


@frozen
class BeforeHandling:
    """``required before handling`` / ``处置前必须``."""

    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Consultation:
    """The body of ``consultation``: its parts in the order written."""

    parts: tuple[BeforeHandling | When, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class FeedbackWithin:
    """``within 1 working day`` / ``1个工作日内``: the feedback limit, from the resolution."""

    span: Span
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class BeforeVerification:
    """``required before verification`` / ``核查前必须``."""

    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Feedback:
    """The body of ``feedback``: its parts in the order written."""

    parts: tuple[FeedbackWithin | BeforeVerification, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ calendar


@frozen
class Clock:
    """``08:30``: hour and minute as written (checked by the compiler)."""

    hour: int | float
    minute: int | float
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Dash:
    """``-`` / ``to`` / ``至`` between two clocks or weekdays."""

    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Weekday:
    """A day of the week, 0 = Monday."""

    day: int
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Hours:
    """``working hours 08:30-17:30`` / ``工作时间 08:30-17:30``."""

    start: Clock
    end: Clock
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Days:
    """``monday to friday`` (a range, wrapping over Sunday if written so) or one weekday."""

    days: tuple[Weekday, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class Calendar:
    """The body of ``calendar``: its parts in the order written."""

    parts: tuple[Hours | Days, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class HolidayDays:
    """The body of ``holiday``: first and last day off (the same for one day), and the title the
    holiday may give itself before its dates (``holiday spring_festival: 春节, ...``; "" if none)."""

    first: date
    last: date
    title: str = ""
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


@frozen
class ExtraWorkdays:
    """The body of ``extra workday``: make-up working days."""

    days: tuple[date, ...]
    pos: Pos = field(default=NOWHERE, eq=False, repr=False)


# ------------------------------------------------------------------ the transformer


def _names(c: list[Any]) -> list[Name]:
    return [x for x in c if isinstance(x, Name)]


def _values(c: list[Any], kind: str) -> list[Value]:
    return [x for x in c if isinstance(x, Value) and x.kind == kind]


def _expr(c: list[Any]) -> Expr:
    return next(x for x in c if isinstance(x, Expr))


def _count(c: list[Any]) -> tuple[float, int | float]:
    written = _values(c, "number")[0].value
    return float(written), written


class EscalationNodes:
    """The transformer of the escalation section: one method per rule or alias of escalation.lark."""

    # ---------------------------------------------------------------- shared

    def escalation_when(self, c: list[Any], pos: Pos) -> When:
        return When(_expr(c), pos)

    def escalation_notice(self, c: list[Any], pos: Pos) -> Notice:
        names = _names(c)
        return Notice(names[0], names[1] if len(names) > 1 else None, pos)

    def escalation_notify(self, c: list[Any], pos: Pos) -> Notify:
        return Notify(tuple(x for x in c if isinstance(x, Notice)), pos)

    # ---------------------------------------------------------------- incident

    def escalation_route(self, c: list[Any], pos: Pos) -> Route:
        return Route(tuple(c), pos)

    def escalation_start(self, c: list[Any], pos: Pos) -> StartAt:
        return StartAt(_names(c)[0], pos)

    def escalation_department(self, c: list[Any], pos: Pos) -> RouteTo:
        return RouteTo(_names(c)[0], pos)

    # ---------------------------------------------------------------- limit

    def escalation_limit(self, c: list[Any], pos: Pos) -> Limit:
        return Limit(tuple(c), pos)

    def escalation_accept(self, c: list[Any], pos: Pos) -> AcceptWithin:
        return AcceptWithin(c[0], pos)

    def escalation_resolve(self, c: list[Any], pos: Pos) -> ResolveWithin:
        return ResolveWithin(c[0], pos)

    def escalation_then_level(self, c: list[Any], pos: Pos) -> ThenLevel:
        return ThenLevel(_names(c)[0], pos)

    def escalation_then_department(self, c: list[Any], pos: Pos) -> ThenDepartment:
        return ThenDepartment(_names(c)[0], pos)

    def escalation_wall(self, c: list[Any], pos: Pos) -> WallTime:
        return WallTime(_values(c, "duration")[0].value, pos)

    def escalation_workdays(self, c: list[Any], pos: Pos) -> WorkingDays:
        return WorkingDays(*_count(c), pos)

    def escalation_workhours(self, c: list[Any], pos: Pos) -> WorkingHours:
        return WorkingHours(*_count(c), pos)

    def escalation_category_limit(self, c: list[Any], pos: Pos) -> CategoryLimit:
        return CategoryLimit(tuple(c), pos)

    def escalation_clause(self, c: list[Any], pos: Pos) -> Clause:
        level = next((x for x in c if isinstance(x, Name)), None)
        when = next((x for x in c if isinstance(x, Expr)), None)
        return Clause(level, when, c[-1], pos)

    def escalation_department_limit(self, c: list[Any], pos: Pos) -> DepartmentLimit:
        return DepartmentLimit(tuple(c), pos)

    def escalation_report_in(self, c: list[Any], pos: Pos) -> ReportIn:
        return ReportIn(c[0], pos)

    def escalation_handler_limit(self, c: list[Any], pos: Pos) -> HandlerLimit:
        return HandlerLimit(tuple(c), pos)

    def escalation_then_pass(self, c: list[Any], pos: Pos) -> ThenPass:
        return ThenPass(_names(c)[0], pos)

    # ---------------------------------------------------------------- escalate

    def escalation_escalate(self, c: list[Any], pos: Pos) -> Escalate:
        return Escalate(tuple(c), pos)

    def escalation_immediately(self, c: list[Any], pos: Pos) -> Immediately:
        return Immediately(pos)

    def escalation_to(self, c: list[Any], pos: Pos) -> EscalateTo:
        return EscalateTo(_names(c)[0], pos)

    def escalation_repeated(self, c: list[Any], pos: Pos) -> Repeated:
        # written either way round: "repeated 3 times within 7 days" or "7天内 反复上报 3 次"
        return Repeated(_values(c, "number")[0], _values(c, "duration")[0], pos)

    # ---------------------------------------------------------------- one-line items

    def escalation_category(self, c: list[Any], pos: Pos) -> CategoryName:
        names = [n.text for n in _names(c)]
        return CategoryName(names[0], names[1] if len(names) > 1 else "", pos)

    def escalation_channel(self, c: list[Any], pos: Pos) -> ChannelName:
        return ChannelName(_names(c)[0].text, pos)

    def escalation_closed_list(self, c: list[Any], pos: Pos) -> CategoryList:
        return CategoryList(True, pos)

    def escalation_open_list(self, c: list[Any], pos: Pos) -> CategoryList:
        return CategoryList(False, pos)

    def escalation_duplicates(self, c: list[Any], pos: Pos) -> Duplicates:
        return Duplicates(_values(c, "duration")[0], pos)

    def escalation_verifier(self, c: list[Any], pos: Pos) -> Verifier:
        return Verifier(_names(c)[0], pos)

    def escalation_reopen(self, c: list[Any], pos: Pos) -> Reopen:
        return Reopen(_expr(c), pos)

    # ---------------------------------------------------------------- extension

    def escalation_extension(self, c: list[Any], pos: Pos) -> Extension:
        return Extension(tuple(c), pos)

    def escalation_extension_times(self, c: list[Any], pos: Pos) -> ExtensionTimes:
        return ExtensionTimes(_values(c, "number")[0], pos)

    def escalation_extension_span(self, c: list[Any], pos: Pos) -> ExtensionSpan:
        return ExtensionSpan(c[0], pos)

    def escalation_extension_approver(self, c: list[Any], pos: Pos) -> ExtensionApprover:
        return ExtensionApprover(_names(c)[0], pos)

    # ---------------------------------------------------------------- consultation and feedback

    def escalation_consultation(self, c: list[Any], pos: Pos) -> Consultation:
        return Consultation(tuple(c), pos)

    def escalation_before_handling(self, c: list[Any], pos: Pos) -> BeforeHandling:
        return BeforeHandling(pos)

    def escalation_feedback(self, c: list[Any], pos: Pos) -> Feedback:
        return Feedback(tuple(c), pos)

    def escalation_feedback_within(self, c: list[Any], pos: Pos) -> FeedbackWithin:
        return FeedbackWithin(c[0], pos)

    def escalation_before_verification(self, c: list[Any], pos: Pos) -> BeforeVerification:
        return BeforeVerification(pos)

    # ---------------------------------------------------------------- calendar

    def escalation_calendar(self, c: list[Any], pos: Pos) -> Calendar:
        return Calendar(tuple(c), pos)

    def escalation_hours(self, c: list[Any], pos: Pos) -> Hours:
        start, end = (x for x in c if isinstance(x, Clock))
        return Hours(start, end, pos)

    def escalation_days(self, c: list[Any], pos: Pos) -> Days:
        return Days(tuple(x for x in c if isinstance(x, Weekday)), pos)

    def escalation_clock(self, c: list[Any], pos: Pos) -> Clock:
        hour, minute = (v.value for v in _values(c, "number"))
        return Clock(hour, minute, pos)

    def escalation_dash(self, c: list[Any], pos: Pos) -> Dash:
        return Dash(pos)

    def escalation_mon(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(0, pos)

    def escalation_tue(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(1, pos)

    def escalation_wed(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(2, pos)

    def escalation_thu(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(3, pos)

    def escalation_fri(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(4, pos)

    def escalation_sat(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(5, pos)

    def escalation_sun(self, c: list[Any], pos: Pos) -> Weekday:
        return Weekday(6, pos)

    # ---------------------------------------------------------------- days off

    def escalation_holiday(self, c: list[Any], pos: Pos) -> HolidayDays:
        days = [v.value for v in _values(c, "date")]
        titles = _names(c)
        return HolidayDays(days[0], days[-1], titles[0].text if titles else "", pos)

    def escalation_workday(self, c: list[Any], pos: Pos) -> ExtraWorkdays:
        return ExtraWorkdays(tuple(v.value for v in _values(c, "date")), pos)
