"""Compile the escalation items in force on a day into that day's ``EscalationPolicy``.

Reads the section's typed nodes (nodes.py) with ``isinstance``; it never sees
a grammar rule name.  Conditions are compiled by the language's own
expression compiler against the documented ``incident`` record (and
``satisfaction`` for reopening), never evaluated as Python text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import attrs

from gridcore.explain import RuleRef
from gridcore.rules import CompileContext, Item, Name, Version
from gridcore.rules import schema as sch
from gridcore.rules.checker import did_you_mean

from . import nodes as n
from .policy import (
    DEFAULT_REOPEN,
    DEFAULT_VERIFIER,
    Calendar,
    Category,
    CategoryList,
    Channel,
    Condition,
    ConsultationRule,
    DepartmentLimit,
    Duplicates,
    EscalationPolicy,
    ExtensionRule,
    ExtraWorkdays,
    FeedbackRule,
    HandlerLimit,
    Holiday,
    Immediate,
    IncidentFacts,
    LevelLimit,
    LimitClause,
    Notice,
    Piece,
    Reopen,
    Repeats,
    Route,
    Span,
    Verifier,
    WorkingHours,
)
from .section import CATCH_ALL, INCIDENT_ENV, REOPEN_ENV


def compile_escalation(items: Sequence[Item], ctx: CompileContext) -> EscalationPolicy:
    """Compile the escalation items in force on a day into that day's ``EscalationPolicy``."""
    now: list[Piece] = []
    closed = _closed_list(items)
    for item in items:
        piece = _compile(item, item.versions[0], ctx, closed=closed is not None and closed.closed)
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
        named_days=tuple(p for p in now if isinstance(p, Holiday | ExtraWorkdays)),
    )
    _check_round_the_clock(items, calendar, ctx)
    verifiers = [p for p in now if isinstance(p, Verifier)]
    reopens = [p for p in now if isinstance(p, Reopen)]
    duplicates = [p for p in now if isinstance(p, Duplicates)]
    extensions = [p for p in now if isinstance(p, ExtensionRule)]
    feedback = [p for p in now if isinstance(p, FeedbackRule)]
    policy = EscalationPolicy(
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
        channels=tuple(p for p in now if isinstance(p, Channel)),
        extension=extensions[-1] if extensions else None,
        consultations=tuple(p for p in now if isinstance(p, ConsultationRule)),
        feedback=feedback[-1] if feedback else None,
        category_limits=tuple(c for p in now if isinstance(p, tuple) for c in p),
        department_limits=tuple(p for p in now if isinstance(p, DepartmentLimit)),
        handler_limits=tuple(p for p in now if isinstance(p, HandlerLimit)),
        closed_list=next((p.rule for p in now if isinstance(p, CategoryList) and p.closed), None),
    )
    _check_closed_list(policy, closed, ctx)
    _check_gaps(policy, items, ctx)
    return policy


def _compile(item: Item, version: Version, ctx: CompileContext, *, closed: bool = False) -> Piece | None:
    body, ref = version.body, version.ref
    name = item.name.text if item.name is not None else ""
    if isinstance(body, n.Route):
        if item.name is not None and name not in CATCH_ALL:
            name = _category(item.name, ctx, closed=closed)
        return _route(name, body, ref, ctx)
    if isinstance(body, n.CategoryName):
        return Category(name, body.display, body.group, ref)
    if isinstance(body, n.ChannelName):
        return Channel(name, body.display, ref)
    if isinstance(body, n.CategoryList):
        return CategoryList(body.closed, ref)
    if isinstance(body, n.Limit):
        level = _level(item.name, ctx) if item.name is not None else None
        return _limit(level or name, body, ref, ctx)
    if isinstance(body, n.Escalate):
        return _escalate(body, ref, ctx)
    if isinstance(body, n.Duplicates):
        return Duplicates(_window(body.window, ctx), ref)
    if isinstance(body, n.Verifier):
        if ctx.known("role", body.role):
            return Verifier(_role_id(body.role.text, ctx), ref)
        return None
    if isinstance(body, n.Reopen):
        compiled = ctx.compile_expr(body.expr, REOPEN_ENV, expect=sch.BOOL)
        return Reopen(compiled.fn, _text(ref.text), ref)
    if isinstance(body, n.Calendar):
        return _calendar(body, ctx, ref)
    if isinstance(body, n.Extension):
        return _extension(body, ref, ctx)
    if isinstance(body, n.Consultation):
        if item.name is not None and name not in CATCH_ALL:
            name = _category(item.name, ctx, closed=closed)
        return _consultation(None if name in CATCH_ALL else name, body, ref, ctx)
    if isinstance(body, n.Feedback):
        return _feedback(body, ref, ctx)
    if isinstance(body, n.CategoryLimit):
        if item.name is not None and name not in CATCH_ALL:
            name = _category(item.name, ctx, closed=closed)
        return _clauses(None if name in CATCH_ALL else name, body, ref, ctx)
    if isinstance(body, n.DepartmentLimit):
        return _department_limit(name, body, ref, ctx)
    if isinstance(body, n.HandlerLimit):
        if item.name is None or not ctx.known("role", item.name):
            return None
        return _handler_limit(_role_id(name, ctx), body, ref, ctx)
    if isinstance(body, n.HolidayDays):
        if body.last < body.first:
            ctx.error(
                body,
                f"the holiday ends ({body.last}) before it starts ({body.first})",
                f"假期结束日（{body.last}）早于开始日（{body.first}）",
            )
        return Holiday(body.first, body.last, ref, ctx.id_of("holiday", name), body.title)
    if isinstance(body, n.ExtraWorkdays):
        holiday = _holiday(item.name, ctx) if item.name is not None else ""
        return ExtraWorkdays(body.days, ref, holiday)
    return None  # pragma: no cover - the transformer builds one of the bodies above


def _category(name: Name, ctx: CompileContext, *, closed: bool = False) -> str:
    """The id of the category ``name`` writes (by id or by its display name).

    Once the ruleset declares categories, one it does not declare is a
    warning here (a route for it still works: the engine takes any category)
    and an error in ``gridcore check``; an error here too when the ruleset
    closes its list (``categories: closed``): no report of it is ever taken.
    """
    written = ctx.id_of("category", name.text)
    declared = ctx.vocabulary("category")
    if declared and written not in declared:
        pool = sorted(c for c in declared if c not in ctx.titles.get("category", {}))
        titled = _titled(pool, ctx)
        listing = ", ".join(f"{c} ({t})" if t != c else c for c, t in titled)
        listing_zh = "、".join(f"{t}（{c}）" if t != c else c for c, t in titled)
        ctx.error(name, f"unknown category '{name.text}': the ruleset declares {listing}",
                  f"未知的类别 '{name.text}'：规则集声明的类别有 {listing_zh}",
                  expected=", ".join(pool[:12]), expected_zh="、".join(t for _, t in titled[:12]),
                  suggestion=did_you_mean(name.text, sorted(declared)),
                  fix="use a category the ruleset declares (its code or its name), or declare it: "
                      f"category {name.text}: <name>",
                  fix_zh=f"使用规则集已声明的类别（代码或名称），或先声明：类别 {name.text}：<名称>",
                  warning=not closed)
    return written


def _holiday(name: Name, ctx: CompileContext) -> str:
    """The id of the holiday an ``extra workday`` names (by its id or its title).

    Make-up days (调休) belong to a holiday: one naming no holiday the ruleset
    declares is refused (a slip such as ``national_dya`` would otherwise be a
    holiday of its own that nothing else names).
    """
    written = ctx.id_of("holiday", name.text)
    titles = ctx.titles.get("holiday", {})
    declared = sorted(h for h in ctx.vocabulary("holiday") if h not in titles)
    if written in declared:
        return written
    named = {code: title for title, code in titles.items()}
    listing = ", ".join(f"{h} ({named[h]})" if h in named else h for h in declared) or "none"
    listing_zh = "、".join(f"{named[h]}（{h}）" if h in named else h for h in declared) or "无"
    ctx.error(name, f"extra workday '{name.text}' names no holiday: the ruleset declares {listing}",
              f"补班 '{name.text}' 没有对应的节假日：规则集声明的节假日有 {listing_zh}",
              expected=", ".join(declared[:12]) or "a holiday declared by a 'holiday' line",
              expected_zh="、".join(named.get(h, h) for h in declared[:12]) or "“节假日”行声明的节假日",
              suggestion=did_you_mean(name.text, sorted(ctx.vocabulary("holiday"))),
              fix="name the holiday the make-up days belong to (its id or its name), or declare it first: "
                  f"holiday {name.text}: <name>, DATE to DATE",
              fix_zh=f"写出调休所属的节假日（编号或名称），或先声明：节假日 {name.text}：<名称>，开始日期 至 结束日期")
    return written


def _closed_list(items: Sequence[Item]) -> n.CategoryList | None:
    """The body of the ``categories`` item in force, if any."""
    found = None
    for item in items:
        body = item.versions[0].body
        if isinstance(body, n.CategoryList):
            found = body
    return found


def _check_closed_list(policy: EscalationPolicy, closed: n.CategoryList | None, ctx: CompileContext) -> None:
    """A closed list must list something; a catch-all route beside it is not a contradiction (it routes the
    listed categories without a route of their own), but one that no listed category can reach is said.

    (A route, limit or consultation for a category the list does not declare is ``_category``'s error.)
    """
    if closed is None or not closed.closed:
        return
    at = closed
    if not policy.categories:
        ctx.error(at, "a closed category list that lists no category refuses every report: declare the "
                      "categories it takes (category CODE: NAME) or open it",
                  "类别清单仅限所列，却未列出任何类别，所有上报都将不予受理：请声明受理的类别（类别 代码：名称），或改为不限",
                  fix="declare the categories: category leaking_pipe: 水管漏水",
                  fix_zh="声明类别：类别 leaking_pipe：水管漏水")
        return
    catch_all = [r for r in policy.routes if r.category is None]
    own = {r.category for r in policy.routes if r.category is not None and r.condition is None}
    if catch_all and all(c.code in own for c in policy.categories):
        ctx.error(at, "the catch-all route is never used: the category list is closed and every category it "
                      "lists has an unconditional route of its own",
                  "“任意”事件规则永远用不到：类别清单仅限所列，且所列每个类别都有自己的无条件规则",
                  fix="remove the catch-all route (incident any), or open the list",
                  fix_zh="删除“任意”事件规则（事件 任意），或把类别清单改为不限", warning=True)


def _titled(codes: list[str], ctx: CompileContext) -> list[tuple[str, str]]:
    names = {code: title for title, code in ctx.titles.get("category", {}).items()}
    return [(code, names.get(code, code)) for code in codes]


def _text(line: str) -> str:
    head, _, rest = line.partition(":") if ":" in line else line.partition("：")
    return rest.strip() or head.strip()


def _condition(when: n.When, ref: RuleRef, ctx: CompileContext) -> Condition:
    compiled = ctx.compile_expr(when.expr, INCIDENT_ENV, expect=sch.BOOL)
    return Condition(compiled.fn, _written(when.expr, ref) or "the condition")


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


def _written_before(expr: Any, after: Any, ref: RuleRef) -> str:
    """The text of ``expr`` as written, up to the part that follows it (``... resolve within``)."""
    start, end = getattr(expr, "pos", None), getattr(after, "pos", None)
    if start is None or end is None or start.line != ref.line or end.line != ref.line:
        return _written(expr, ref)
    return ref.text[start.column - ref.column : end.column - ref.column].strip()


def _level(name: Name, ctx: CompileContext) -> str | None:
    """The id of the level ``name`` writes (by id or by its declared Chinese name).

    An unknown level is reported (with did-you-mean) and gives None.  A
    ruleset that declares no levels keeps the name as written.
    """
    if not ctx.known("level", name):
        return None
    return ctx.level_id(name.text) or name.text


def _route(category: str, body: n.Route, ref: RuleRef, ctx: CompileContext) -> Route:
    start, condition = None, None
    departments: list[str] = []
    notices: list[Notice] = []
    for part in body.parts:
        if isinstance(part, n.StartAt):
            start = _level(part.level, ctx)
        elif isinstance(part, n.RouteTo):
            departments.append(part.department.text)
        elif isinstance(part, n.Notify):
            notices.extend(_notices(part, ctx))
        elif isinstance(part, n.When):
            condition = _condition(part, ref, ctx)
    return Route(
        None if category in CATCH_ALL else category,
        ref,
        condition,
        start,
        tuple(departments),
        tuple(notices),
    )


def _notices(part: n.Notify, ctx: CompileContext) -> list[Notice]:
    found = []
    for notice in part.notices:
        if notice.at is not None:
            ctx.known("role", notice.who)
            level = _level(notice.at, ctx)
            found.append(Notice(_role_id(notice.who.text, ctx), level or notice.at.text))
        else:  # a role, a line department, or a level ("notify 社区": its staff)
            written = notice.who.text
            found.append(Notice(ctx.level_id(written) or _role_id(written, ctx)))
    return found


def _span(span: n.Span) -> Span:
    if isinstance(span, n.WallTime):
        return Span(span.amount, False, _show(span.amount))
    if isinstance(span, n.WorkingDays):
        return Span(
            timedelta(0),
            True,
            f"{span.written} working {_plural(span.count, 'day')}",
            workdays=span.count,
        )
    return Span(
        timedelta(hours=span.count), True, f"{span.written} working {_plural(span.count, 'hour')}"
    )


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


def _limit(level: str, body: n.Limit, ref: RuleRef, ctx: CompileContext) -> LevelLimit:
    accept = resolve = None
    then_level = then_department = None
    notices: list[Notice] = []
    for part in body.parts:
        if isinstance(part, n.AcceptWithin):
            accept = _span(part.span)
            _check_not_zero(part, accept, ctx)
        elif isinstance(part, n.ResolveWithin):
            resolve = _span(part.span)
            _check_not_zero(part, resolve, ctx)
        elif isinstance(part, n.ThenLevel):
            then_level = _level(part.level, ctx)
        elif isinstance(part, n.ThenDepartment):
            then_department = part.department.text
        elif isinstance(part, n.Notify):
            notices.extend(_notices(part, ctx))
    if accept is None and resolve is None:
        ctx.error(
            body,
            "a limit needs 'accept within ...' or 'resolve within ...'",
            "时限需要写明“受理时限 …”或“办结时限 …”",
        )
    return LevelLimit(level, ref, accept, resolve, then_level, then_department, tuple(notices))


def _check_not_zero(part: n.AcceptWithin | n.ResolveWithin | n.ReportIn, span: Span, ctx: CompileContext) -> None:
    """A limit of no time at all cannot be met: every case would be overdue as it arrives."""
    if span.amount > timedelta(0) or span.workdays > 0:
        return
    written = ctx.text(part)
    ctx.error(
        part,
        f"'{written}' cannot be met: a case is overdue the moment it arrives",
        f"'{written}' 无法做到：事件一到就已超时",
        fix="give the time allowed (e.g. 'accept within 2 working hours'); to send cases up at once, "
        "write 'escalate NAME: immediately to LEVEL when CONDITION'",
        fix_zh="写明允许的时间（如 '受理时限 2个工作小时'）；如要立即上报，请写 '提级 名称：立即 上报到 层级 当 条件'",
    )


def ladder(policy: EscalationPolicy, levels: Sequence[str], category: str | None) -> list[str]:
    """The levels a case of ``category`` may pass through: from where it starts up to the top.

    It starts where its unconditional route says (a category's own, else the
    catch-all), else at the lowest level; ``levels`` run top to bottom.
    """
    routes = [r for r in policy.routes if r.condition is None and r.category in (category, None)]
    own = [r for r in routes if r.category == category and category is not None]
    chosen = own or [r for r in routes if r.category is None]
    start = chosen[0].start_level if chosen and chosen[0].start_level in levels else None
    start = start or levels[-1]
    return list(levels[: levels.index(start) + 1])


def categories_named(policy: EscalationPolicy) -> list[str | None]:
    """Every category the policy names (declared, or given a route or limits), then ``None`` for the rest."""
    named: list[str | None] = []
    for code in [c.code for c in policy.categories] + [r.category for r in policy.routes] + [
        c.category for c in policy.category_limits
    ]:
        if code is not None and code not in named:
            named.append(code)
    return [*named, None]


def _check_gaps(policy: EscalationPolicy, items: Sequence[Item], ctx: CompileContext) -> None:
    """Warn about a level on a category's ladder where no limit applies to it.

    A category's ladder runs from where its cases start up to the top; at a
    level where neither its own limits nor the level's apply (counting only
    limits that apply whatever the case: a condition may not hold), a case is
    never overdue and never moves up.  For a category with limits of its own
    every such level is said; for the others (the levels' own ladder) a level
    without limits below one with limits: the top of a ladder may be left
    without one on purpose, a gap in the middle never is.
    """
    if not ctx.levels:
        return
    own = {c.category for c in policy.category_limits}
    always = attrs.evolve(policy, category_limits=tuple(c for c in policy.category_limits if c.condition is None))
    gaps: dict[tuple[str, ...], list[str | None]] = {}
    for category in categories_named(policy):
        facts = IncidentFacts(id="", category=category or "", severity=1, level="", key_person=False,
                              channel="", age=timedelta(0))
        steps = ladder(policy, ctx.levels, category)  # top first
        limited = [level for level in steps if always.applied(attrs.evolve(facts, level=level), level)]
        if category in own:
            missing = tuple(level for level in steps if level not in limited)
        else:
            missing = _stuck_at(policy, steps, limited)
        if missing:
            gaps.setdefault(missing, []).append(category)
    for missing, categories in gaps.items():
        at = _gap_at(items, categories, missing, ctx)
        if at is None:
            continue
        names = [c for c in categories if c is not None]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        what = (f"category {shown}" if len(names) == 1 else f"categories {shown}") if names else ""
        if None in categories:
            what = f"{what} and any other category" if what else "any category"
        where = ", ".join(reversed(missing))
        message = f"cases of {what} have no time limit at {where}: there a case is never overdue and never moves up"
        if any(d.message == message for d in ctx.diagnostics):
            continue  # said for an earlier span of days
        zh_what = "、".join(t for _, t in _titled(names[:4], ctx)) + (f" 等 {len(names)} 类" if len(names) > 4 else "")
        if None in categories:
            zh_what = f"{zh_what}及其他类别" if zh_what else "所有类别"
        top = missing[0]
        name = names[0] if names else "any"
        # say in which file: the one being checked (a community's variant), not the base it extends
        own_file = Path(ctx.own_file).name if ctx.own_file else ""
        removed = not isinstance(at, Item)  # a ``remove limit LEVEL`` line
        where_en = (f" (or delete this line, which removes the {top} limit {own_file} inherits)" if removed
                    else f" to the escalation section of {own_file}" if own_file else "")
        where_zh = (f"（或删去这一行：它删除了 {own_file} 继承的 {top} 时限）" if removed
                    else f"（写在 {own_file} 的事件流转栏目中）" if own_file else "")
        ctx.error(at, message, f"{zh_what}的事件在 {'、'.join(reversed(missing))} 没有时限：到了那里永不超时，也不会上报",
                  fix=f"add 'limit {top}: accept within ...' or 'limit for {name}: at {top} resolve within ...'"
                  + where_en,
                  fix_zh=f"加上 '时限 {top}：受理时限 …' 或 '类别时限 {name}：于 {top} 办结时限 …'" + where_zh,
                  warning=True)


def _gap_at(items: Sequence[Item], categories: Sequence[str | None], missing: Sequence[str],
            ctx: CompileContext) -> Any:
    """Where to say that ``categories`` have no limit at ``missing``: in the file being checked when
    it can be (the line removing such a limit, else its route or category line, else a limit or any
    line of the section there), else where the category is declared or the first limit."""
    for removal in ctx.removals:
        if removal.kind == "limit" and removal.name is not None and ctx.id_of("level", removal.name.text) in missing:
            return removal
    own = [item for item in items if item.pos.file == ctx.own_file] if ctx.own_file else []
    found = (next((f for c in categories if (f := _item_of(own, c, ctx)) is not None), None)
             or next((item for item in own if item.kind == "limit"), None) or next(iter(own), None))
    if found is not None:
        return found
    return (next((f for c in categories if (f := _item_of(items, c, ctx)) is not None), None)
            or next((item for item in items if item.kind == "limit"), None))


def _stuck_at(policy: EscalationPolicy, steps: Sequence[str], limited: Sequence[str]) -> tuple[str, ...]:
    """Where a case of the levels' own ladder stops below a level with limits: followed from its start
    as breaches move it (``then go to`` may skip a level, which is then no gap)."""
    level = steps[-1] if steps else None
    while level is not None:
        if level not in limited:
            return (level,) if any(steps.index(up) < steps.index(level) for up in limited) else ()
        then = policy.limit_for(level)
        up = then.then_level if then is not None and then.then_level in steps else None
        at = steps.index(level)
        level = up if up is not None and steps.index(up) < at else (steps[at - 1] if at > 0 else None)
    return ()


def _item_of(items: Sequence[Item], category: str | None, ctx: CompileContext) -> Item | None:
    """Where to say something about a category: its route, else its ``category`` line (``None``: the catch-all)."""
    for kinds in (("incident",), ("category", "category_limit")):
        for item in items:
            if item.kind not in kinds or item.name is None:
                continue
            written = item.name.text
            if (written in CATCH_ALL) if category is None else ctx.id_of("category", written) == category:
                return item
    return None


def _check_round_the_clock(items: Sequence[Item], calendar: Calendar, ctx: CompileContext) -> None:
    """Warn about a round-the-clock limit shorter than the shortest time nobody is at work.

    ``accept within 2 hours`` counts the night too: a case that arrives as work
    stops (17:30) is overdue at 19:30, long before work starts again (08:30),
    so it is met only if someone is on duty then.  Counted in working time
    (``2 working hours``) it can always be met.
    """
    closed = _shortest_closure(calendar)
    if closed is None:
        return
    for item in items:
        body = item.versions[0].body
        if not isinstance(body, n.Limit | n.HandlerLimit):
            continue
        for part in body.parts:
            if not isinstance(part, n.AcceptWithin | n.ResolveWithin) or not isinstance(part.span, n.WallTime):
                continue
            amount = part.span.amount
            if not timedelta(0) < amount < closed:
                continue
            written = ctx.text(part)
            hours = f"{amount / timedelta(hours=1):g}"
            due = (datetime.combine(date.min, calendar.end) + amount).time()
            keyword = re.match(r"[\u4e00-\u9fff]+", written)
            if keyword is not None:
                better = f"{keyword.group()} {hours}个工作小时"
            else:
                head = "accept" if isinstance(part, n.AcceptWithin) else "resolve"
                better = f"{head} within {hours} working {_plural(float(hours), 'hour')}"
            ctx.error(
                part,
                f"'{written}' may not be met: it counts round the clock, and a case that arrives at "
                f"{calendar.end:%H:%M} as work stops is overdue at {due:%H:%M}, before work starts "
                f"again at {calendar.start:%H:%M}",
                f"'{written}' 可能无法做到：它按全天计时，{calendar.end:%H:%M} 下班时到达的事件在 "
                f"{due:%H:%M} 就已超时，而 {calendar.start:%H:%M} 才重新上班",
                fix=f"count it in working time: '{better}' (keep it only if someone is on duty then)",
                fix_zh=f"按工作时间计：'{better}'（夜间有人值班才保留原写法）",
                warning=True,
            )


def _shortest_closure(calendar: Calendar) -> timedelta | None:
    """The shortest stretch between the end of one working day and the start of the next."""
    days = sorted(calendar.weekdays)
    if not days:
        return None
    stops = []
    for i, weekday in enumerate(days):
        following = days[(i + 1) % len(days)]
        apart = (following - weekday) % 7 or 7
        stops.append(apart * timedelta(days=1) - calendar.day_length)
    return min(stops)


def _escalate(body: n.Escalate, ref: RuleRef, ctx: CompileContext) -> Immediate | Repeats | None:
    to: str | None = None
    target: Any = body
    condition: Condition | None = None
    repeated: tuple[int, timedelta] | None = None
    for part in body.parts:
        if isinstance(part, n.EscalateTo):
            to = part.target.text
            target = part.target
        elif isinstance(part, n.When):
            condition = _condition(part, ref, ctx)
        elif isinstance(part, n.Repeated):
            count = part.count
            if not isinstance(count.value, int) or count.value < 2:
                ctx.error(
                    count, "repeated reports are counted from 2 times up", "反复上报次数至少为 2 次"
                )
            repeated = (int(count.value), part.window.value)
    if to is not None and ctx.levels:
        level = ctx.level_id(to)
        if level is None:
            pool = [*ctx.levels, *ctx.level_names.values()]
            close = did_you_mean(to, pool)
            ctx.error(
                target,
                f"'{to}' is not one of the levels ({', '.join(pool)}): it will be taken as a line department",
                f"'{to}' 不是层级（{'、'.join(pool)}）之一：将视为条线部门",
                suggestion=close,
                fix=f"write the level ({close}), or a line department of the community" if close else
                "write one of the levels, or a line department of the community",
                fix_zh=f"写层级（{close}），或社区的条线部门" if close else "写其中一个层级，或社区的条线部门",
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


def _extension(body: n.Extension, ref: RuleRef, ctx: CompileContext) -> ExtensionRule:
    times: int | None = None
    most: Span | None = None
    approver = DEFAULT_VERIFIER
    for part in body.parts:
        if isinstance(part, n.ExtensionTimes):
            count = part.count.value
            if not isinstance(count, int) or count < 1:
                ctx.error(part.count, "extensions are counted in whole times, from 1 up",
                          "延期次数须为正整数")
            else:
                times = count
        elif isinstance(part, n.ExtensionSpan):
            most = _span(part.span)
        elif ctx.known("role", part.role):
            approver = _role_id(part.role.text, ctx)
    return ExtensionRule(ref, approver, times, most)


def _consultation(
    category: str | None, body: n.Consultation, ref: RuleRef, ctx: CompileContext
) -> ConsultationRule:
    condition = None
    required = False
    for part in body.parts:
        if isinstance(part, n.When):
            condition = _condition(part, ref, ctx)
        else:
            required = True
    if not required:
        ctx.error(body, "say when the consultation is needed: 'required before handling'",
                  "请写明何时须会商：“办理前必须”")
    return ConsultationRule(category, ref, condition)


def _feedback(body: n.Feedback, ref: RuleRef, ctx: CompileContext) -> FeedbackRule:
    within = None
    required = False
    for part in body.parts:
        if isinstance(part, n.FeedbackWithin):
            within = _span(part.span)
        else:
            required = True
    return FeedbackRule(ref, within, required)


def _clauses(
    category: str | None, body: n.CategoryLimit, ref: RuleRef, ctx: CompileContext
) -> tuple[LimitClause, ...]:
    out = []
    for clause in body.parts:
        level = _level(clause.level, ctx) if clause.level is not None else None
        if clause.level is not None and level is None:
            continue  # reported by _level
        condition = None
        if clause.when is not None:
            compiled = ctx.compile_expr(clause.when, INCIDENT_ENV, expect=sch.BOOL)
            condition = Condition(compiled.fn, _written_before(clause.when, clause.limit, ref) or "the condition")
        which = "accept" if isinstance(clause.limit, n.AcceptWithin) else "resolve"
        span = _span(clause.limit.span)
        _check_not_zero(clause.limit, span, ctx)
        out.append(LimitClause(category, ref, which, span, level, condition))
    return tuple(out)


def _department_limit(
    department: str, body: n.DepartmentLimit, ref: RuleRef, ctx: CompileContext
) -> DepartmentLimit:
    report = resolve = None
    for part in body.parts:
        span = _span(part.span)
        _check_not_zero(part, span, ctx)
        if isinstance(part, n.ReportIn):
            report = span
        else:
            resolve = span
    return DepartmentLimit(department, ref, report, resolve)


def _handler_limit(role: str, body: n.HandlerLimit, ref: RuleRef, ctx: CompileContext) -> HandlerLimit:
    accept = resolve = None
    then_role = None
    for part in body.parts:
        if isinstance(part, n.ThenPass):
            if ctx.known("role", part.role):
                then_role = _role_id(part.role.text, ctx)
            continue
        span = _span(part.span)
        _check_not_zero(part, span, ctx)
        if isinstance(part, n.AcceptWithin):
            accept = span
        else:
            resolve = span
    if accept is None and resolve is None:
        ctx.error(body, "a handler limit needs 'accept within ...' or 'resolve within ...'",
                  "办理人时限需要写明“受理时限 …”或“办结时限 …”")
    if then_role == role:
        ctx.error(body, f"'then pass to {then_role}' passes the case to the same role", "超时转给了同一个角色")
    return HandlerLimit(role, ref, accept, resolve, then_role)


def _window(value: Any, ctx: CompileContext) -> timedelta:
    window: timedelta = value.value
    if window <= timedelta(0):
        ctx.error(value, "the window must be longer than zero", "时间窗口必须大于零")
    return window


def _calendar(body: n.Calendar, ctx: CompileContext, ref: RuleRef) -> WorkingHours:
    start, end = time(8, 30), time(17, 30)
    weekdays: set[int] = set()
    for part in body.parts:
        if isinstance(part, n.Hours):
            start, end = _clock(part.start, ctx), _clock(part.end, ctx)
            if end <= start:
                ctx.error(
                    part,
                    f"working hours end ({end:%H:%M}) before they start ({start:%H:%M})",
                    f"工作时间结束（{end:%H:%M}）早于开始（{start:%H:%M}）",
                )
        else:
            days = [d.day for d in part.days]
            if len(days) == 2 and days[0] <= days[1]:
                weekdays.update(range(days[0], days[1] + 1))
            elif len(days) == 2:
                weekdays.update([*range(days[0], 7), *range(days[1] + 1)])
            else:
                weekdays.update(days)
    return WorkingHours(start, end, frozenset(weekdays) or frozenset(range(5)), ref)


def _clock(clock: n.Clock, ctx: CompileContext) -> time:
    hour, minute = clock.hour, clock.minute
    if not (
        isinstance(hour, int) and isinstance(minute, int) and 0 <= hour <= 24 and 0 <= minute < 60
    ):
        ctx.error(clock, "a time of day is written like 08:30", "时刻的写法如 08:30")
        return time(0, 0)
    return time(min(hour, 23), minute) if hour < 24 else time(23, 59)


def _role_id(text: str, ctx: CompileContext) -> str:
    """The id of a role written by id or Chinese name (a built-in role or the roster's own), else ``text``."""
    return ctx.roles.id_of(text) or text
