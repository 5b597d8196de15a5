"""The escalation policy: what a community's ``escalation`` section says, as frozen facts.

Every item carries the ``RuleRef`` (file:line and text) of the rule that wrote
it, so each routing, timer and escalation can name its rule.  The policy is
built by ``compiler.compile_escalation`` from a ruleset, or directly in Python by an
embedder; nothing here executes code from a ruleset: conditions are a tiny
closed AST evaluated over the documented incident facts only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.explain import RuleRef

from .quick import quick_init

DEFAULT_VERIFIER = "grid_leader"
#: An unsatisfied verification (score at or below this) reopens the incident.
DEFAULT_REOPEN_AT_MOST = 2


# ---------------------------------------------------------------- durations and calendars


@frozen
class Span:
    """A time limit: ``amount`` of wall-clock time, or of working time when ``working``.

    Working time counts only the calendar's working hours; ``workdays`` adds
    that many working days' worth of working hours (``3 working days`` is
    three times the length of the calendar's working day).
    """

    amount: timedelta
    working: bool = False
    text: str = ""
    workdays: float = 0.0

    def total(self, calendar: Calendar) -> timedelta:
        """The limit's length under ``calendar``."""
        return self.amount + self.workdays * calendar.day_length

    def __str__(self) -> str:
        if self.text:
            return self.text
        hours = self.amount.total_seconds() / 3600
        return f"{hours:g} {'working ' if self.working else ''}hours"

    def extended(self, days: int, hours: int, text: str) -> Span:
        """This limit with ``days`` and ``hours`` more, counted like it (working or wall time)."""
        if not days and not hours:
            return self
        label = f"{self} + {text} extension"
        if self.working:
            return Span(self.amount + timedelta(hours=hours), True, label, self.workdays + days)
        return Span(self.amount + timedelta(days=days, hours=hours), False, label, self.workdays)

    def length(self, days: int, hours: int, calendar: Calendar) -> timedelta:
        """How long ``days`` and ``hours`` are when counted like this limit."""
        day = calendar.day_length if self.working else timedelta(days=1)
        return days * day + timedelta(hours=hours)


@frozen
class Calendar:
    """Working hours, working weekdays (0 = Monday), holidays and make-up working days."""

    start: time = time(8, 30)
    end: time = time(17, 30)
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: tuple[tuple[date, date], ...] = ()
    extra_workdays: frozenset[date] = frozenset()
    rules: tuple[RuleRef, ...] = ()
    #: the ``holiday`` and ``extra workday`` items ``holidays`` and ``extra_workdays`` come from, with the
    #: holidays' ids and names (for explanations; a holiday's name decides nothing, so it is not compared)
    named_days: tuple[Holiday | ExtraWorkdays, ...] = field(default=(), eq=False, repr=False)

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` has working hours (make-up days win over weekends and holidays)."""
        if day in self.extra_workdays:
            return True
        if day.weekday() not in self.weekdays:
            return False
        return not any(first <= day <= last for first, last in self.holidays)

    def named_between(self, first: date, last: date) -> tuple[Holiday | ExtraWorkdays, ...]:
        """The holidays and make-up days of ``named_days`` that touch the days ``first`` to ``last``."""
        out: list[Holiday | ExtraWorkdays] = []
        for named in self.named_days:
            if isinstance(named, Holiday):
                if named.first <= last and first <= named.last:
                    out.append(named)
            elif any(first <= day <= last for day in named.days):
                out.append(named)
        return tuple(out)

    @property
    def day_length(self) -> timedelta:
        """Length of one working day."""
        return timedelta(
            hours=self.end.hour - self.start.hour, minutes=self.end.minute - self.start.minute
        )


# ---------------------------------------------------------------- conditions


@quick_init
@frozen
class IncidentFacts:
    """What a condition may read about an incident: the documented ``incident`` record.

    Rulesets reach these fields only through expressions compiled against the
    schema (``incident.severity``, ``事件.严重程度``); ``age`` excludes paused time.
    """

    id: str
    category: str
    severity: int
    level: str
    key_person: bool
    channel: str
    age: timedelta
    place: str = ""
    repeats: int = 1


@frozen
class Condition:
    """A compiled test of ``IncidentFacts`` and the text it was written as."""

    test: Callable[[IncidentFacts], Any] = field(eq=False)
    text: str

    def holds(self, facts: IncidentFacts) -> bool:
        """True if the test is true for these facts (a test that cannot be evaluated is false)."""
        try:
            return bool(self.test(facts))
        except (ArithmeticError, TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------- policy items


@frozen
class Notice:
    """Whom to notify: a role (at a level, default the incident's node) or a line department."""

    name: str
    level: str | None = None

    def __str__(self) -> str:
        return f"{self.name} at {self.level}" if self.level else self.name


@frozen
class Route:
    """Where an incident of ``category`` (``None``: any) starts, and who hears of it.

    ``condition`` (e.g. ``incident.severity >= 3``) restricts the route.
    ``start_level`` is a level id (the node at that level above the reported
    node takes it); ``departments`` are line departments it is routed to.
    """

    category: str | None
    rule: RuleRef
    condition: Condition | None = None
    start_level: str | None = None
    departments: tuple[str, ...] = ()
    notify: tuple[Notice, ...] = ()

    def matches(self, facts: IncidentFacts) -> bool:
        """True if this route applies to the incident these facts describe."""
        if self.category is not None and self.category != facts.category:
            return False
        return self.condition is None or self.condition.holds(facts)


@frozen
class Category:
    """An incident category's name as people read it (``name``, Chinese first) and its ``group``.

    ``code`` is the category as events and rules spell it (``leaking_pipe``).
    """

    code: str
    name: str
    group: str
    rule: RuleRef


@frozen
class CategoryList:
    """``categories: closed`` (类别清单：仅限所列): whether only the ``category`` items are taken."""

    closed: bool
    rule: RuleRef


@frozen
class LevelLimit:
    """How long a level has to accept and to resolve, and where a breach sends the incident.

    With neither ``then_level`` nor ``then_department`` a breach moves the
    incident one level up.  ``notify`` is told whenever an incident arrives at
    the level.
    """

    level: str
    rule: RuleRef
    accept: Span | None = None
    resolve: Span | None = None
    then_level: str | None = None
    then_department: str | None = None
    notify: tuple[Notice, ...] = ()


@frozen
class LimitClause:
    """One limit of a ``limit for CATEGORY`` item: ``accept`` or ``resolve`` within ``span``,
    at ``level`` only (``None``: every level), when ``condition`` holds (``None``: always).

    ``category`` ``None`` is ``limit for any``.
    """

    category: str | None
    rule: RuleRef
    limit: str  # "accept" or "resolve"
    span: Span
    level: str | None = None
    condition: Condition | None = None

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """What makes a limit more specific, in order: a category, a level, a condition."""
        return (self.category is not None, self.level is not None, self.condition is not None)

    def applies(self, facts: IncidentFacts, level: str) -> bool:
        """True if this clause covers an incident these facts describe at ``level``."""
        if self.category is not None and self.category != facts.category:
            return False
        if self.level is not None and self.level != level:
            return False
        return self.condition is None or self.condition.holds(facts)

    def describe(self) -> str:
        """``fire_hazard at community when incident.severity >= 4``: where it applies."""
        where = [self.category or "any category"]
        if self.level:
            where.append(f"at {self.level}")
        if self.condition is not None:
            where.append(f"when {self.condition}")
        return " ".join(where)


@frozen
class DepartmentLimit:
    """How long a summoned line department (吹哨报到) has to report in and to resolve."""

    department: str
    rule: RuleRef
    report: Span | None = None
    resolve: Span | None = None


@frozen
class HandlerLimit:
    """The limits of whoever handles a case, by their ``role``; a breach passes it to ``then_role``
    in the cell (its holder at the case's node, else the nearest above) instead of moving it up."""

    role: str
    rule: RuleRef
    accept: Span | None = None
    resolve: Span | None = None
    then_role: str | None = None


@frozen
class AppliedLimit:
    """The limit that applies to one incident at one level: which rule, and why it won."""

    limit: str  # "accept" or "resolve"
    span: Span
    rule: RuleRef
    #: what it was chosen as: "department fire", "fire_hazard at community", "level grid" ...
    source: str


@frozen
class Immediate:
    """Escalate at once when ``condition`` holds for a new report."""

    condition: Condition
    rule: RuleRef
    to_level: str | None = None
    department: str | None = None


@frozen
class Repeats:
    """``count`` reports of the same category at the same place within ``window`` escalate."""

    count: int
    window: timedelta
    rule: RuleRef
    to_level: str | None = None
    department: str | None = None


@frozen
class Duplicates:
    """A report of the same category at the same place within ``window`` joins the open incident."""

    window: timedelta
    rule: RuleRef


@frozen
class Reopen:
    """An unsatisfied verification reopens the incident: ``test(satisfaction)``."""

    test: Callable[[int], Any] = field(eq=False)
    text: str
    rule: RuleRef | None = None

    def unsatisfied(self, satisfaction: int) -> bool:
        """True if a verification with this score reopens the incident."""
        return bool(self.test(satisfaction))


DEFAULT_REOPEN = Reopen(
    lambda score: score <= DEFAULT_REOPEN_AT_MOST, f"satisfaction <= {DEFAULT_REOPEN_AT_MOST}"
)


@frozen
class ExtensionRule:
    """May a handler ask for more time (``extension``): how often, how much at once, who approves.

    ``times`` and ``most`` are ``None`` when the rule sets no bound.
    """

    rule: RuleRef
    approver: str = DEFAULT_VERIFIER
    times: int | None = None
    most: Span | None = None


@frozen
class ConsultationRule:
    """Incidents of ``category`` (``None``: any) need a consultation (会商) before handling.

    ``condition`` (e.g. ``incident.severity >= 3``) restricts the rule.
    """

    category: str | None
    rule: RuleRef
    condition: Condition | None = None

    def applies(self, facts: IncidentFacts) -> bool:
        """True if the incident these facts describe needs a consultation."""
        if self.category is not None and self.category != facts.category:
            return False
        return self.condition is None or self.condition.holds(facts)


@frozen
class FeedbackRule:
    """The reporter is told the result (反馈) within ``within`` of the resolution (``None``: no limit);
    ``required`` means verification waits for it."""

    rule: RuleRef
    within: Span | None = None
    required: bool = False


@frozen
class Channel:
    """How incidents come in (``channel phone: 电话``): ``code`` as events and rules spell it (``phone``),
    ``name`` as staff read it; either spelling, written in an event or a rule, means the code."""

    code: str
    name: str
    rule: RuleRef


@frozen
class EscalationPolicy:
    """Everything the ``escalation`` section of a ruleset says."""

    routes: tuple[Route, ...] = ()
    limits: tuple[LevelLimit, ...] = ()
    immediate: tuple[Immediate, ...] = ()
    repeats: tuple[Repeats, ...] = ()
    duplicates: Duplicates | None = None
    verifier: str = DEFAULT_VERIFIER
    verifier_rule: RuleRef | None = None
    reopen: Reopen = DEFAULT_REOPEN
    calendar: Calendar = field(factory=Calendar)
    categories: tuple[Category, ...] = ()
    #: the ``channel`` items: how incidents come in, each with its name
    channels: tuple[Channel, ...] = ()
    #: ``None``: the ruleset allows no extensions
    extension: ExtensionRule | None = None
    consultations: tuple[ConsultationRule, ...] = ()
    feedback: FeedbackRule | None = None
    category_limits: tuple[LimitClause, ...] = ()
    department_limits: tuple[DepartmentLimit, ...] = ()
    handler_limits: tuple[HandlerLimit, ...] = ()
    #: ``categories: closed``: a report of a category not among ``categories`` is refused (``None``: open, any
    #: category is taken)
    closed_list: RuleRef | None = None
    #: the codes of ``categories`` (``lists``: one lookup a report under a closed list)
    codes: frozenset[str] = field(init=False, eq=False, repr=False)

    @codes.default
    def _codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.categories)

    def lists(self, code: str) -> bool:
        """True if a report of category ``code`` (a code, not a name) is taken: listed, or the list is open."""
        return self.closed_list is None or code in self.codes

    def route_for(self, facts: IncidentFacts) -> Route | None:
        """The route for an incident: category rules first, then catch-alls, in file order."""
        for wanted in (True, False):
            for route in self.routes:
                if (route.category is not None) == wanted and route.matches(facts):
                    return route
        return None

    def consultation_for(self, facts: IncidentFacts) -> ConsultationRule | None:
        """The rule requiring a consultation for this incident (category rules first), or None."""
        for wanted in (True, False):
            for item in self.consultations:
                if (item.category is not None) == wanted and item.applies(facts):
                    return item
        return None

    def limit_for(self, level: str) -> LevelLimit | None:
        """The time limits of ``level`` (the last rule written for it wins)."""
        found = None
        for limit in self.limits:
            if limit.level == level:
                found = limit
        return found

    def department_limit(self, department: str) -> DepartmentLimit | None:
        """The limits of a summoned department (the last rule written for it wins)."""
        found = None
        for limit in self.department_limits:
            if limit.department == department:
                found = limit
        return found

    def handler_limit(self, role: str) -> HandlerLimit | None:
        """The limits of handlers holding ``role`` (the last rule written for it wins)."""
        found = None
        for limit in self.handler_limits:
            if limit.role == role:
                found = limit
        return found

    def applied(
        self, facts: IncidentFacts, level: str, department: str | None = None, handler_role: str | None = None
    ) -> dict[str, AppliedLimit]:
        """The accept and resolve limits that apply to an incident at ``level`` (each may be missing).

        The most specific wins: the limits of a summoned ``department``; then
        those of the case's handler's role (``handler limit``); then
        ``limit for`` clauses that name the category, then ``limit for any``,
        a clause naming the level before one that does not, one with a
        condition (that holds) before one without, the last written on a tie;
        the ``limit LEVEL`` item is as specific as ``limit for any: at LEVEL``
        and loses the tie to it.
        """
        out: dict[str, AppliedLimit] = {}
        if department is not None:
            summoned = self.department_limit(department)
            if summoned is not None:
                for name, span in (("accept", summoned.report), ("resolve", summoned.resolve)):
                    if span is not None:
                        out[name] = AppliedLimit(name, span, summoned.rule, f"department {department}")
        handler = self.handler_limit(handler_role) if handler_role is not None else None
        if handler is not None:
            for name, span in (("accept", handler.accept), ("resolve", handler.resolve)):
                if span is not None and name not in out:
                    out[name] = AppliedLimit(name, span, handler.rule, f"handler {handler_role}")
        plain = self.limit_for(level)
        for name in ("accept", "resolve"):
            if name in out:
                continue
            best: LimitClause | None = None
            for clause in self.category_limits:
                if clause.limit == name and clause.applies(facts, level) and (
                    best is None or clause.specificity >= best.specificity
                ):
                    best = clause
            span = None if plain is None else (plain.accept if name == "accept" else plain.resolve)
            if best is not None and (span is None or best.specificity >= (False, True, False)):
                out[name] = AppliedLimit(name, best.span, best.rule, best.describe())
            elif plain is not None and span is not None:
                out[name] = AppliedLimit(name, span, plain.rule, f"level {level}")
            elif best is not None:
                out[name] = AppliedLimit(name, best.span, best.rule, best.describe())
        return out

    def levels_named(self) -> set[str]:
        """Every level name the policy mentions (checked against the community's levels)."""
        names = {r.start_level for r in self.routes} | {
            n.level for r in self.routes for n in r.notify
        }
        names |= {limit.level for limit in self.limits} | {
            limit.then_level for limit in self.limits
        }
        names |= {i.to_level for i in self.immediate} | {r.to_level for r in self.repeats}
        names |= {c.level for c in self.category_limits}
        return {n for n in names if n}


# ---------------------------------------------------------------- rules over time


@frozen
class Verifier:
    """The role that verifies results (``verified by: grid_leader``)."""

    role: str
    rule: RuleRef


@frozen
class WorkingHours:
    """``working hours 08:30-17:30, monday to friday``."""

    start: time
    end: time
    weekdays: frozenset[int]
    rule: RuleRef


@frozen
class Holiday:
    """Days off from ``first`` to ``last`` (inclusive); ``holiday`` is its id, ``title`` the name it
    gives itself ("" if none)."""

    first: date
    last: date
    rule: RuleRef
    holiday: str = ""
    title: str = ""


@frozen
class ExtraWorkdays:
    """Make-up working days (调休上班) that count even on a weekend, of the holiday with id ``holiday``."""

    days: tuple[date, ...]
    rule: RuleRef
    holiday: str = ""


Piece = (
    Route
    | Category
    | Channel
    | CategoryList
    | LevelLimit
    | Immediate
    | Repeats
    | Duplicates
    | Verifier
    | Reopen
    | WorkingHours
    | Holiday
    | ExtraWorkdays
    | ExtensionRule
    | ConsultationRule
    | FeedbackRule
    | tuple[LimitClause, ...]
    | DepartmentLimit
    | HandlerLimit
)
