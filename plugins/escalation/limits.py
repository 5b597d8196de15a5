"""Which time limit applies where: every category's ladder, level by level, with the rule that wins.

``applied_limits(policy, levels)`` lists, for each category the policy names
(then every other category) and each level its cases can reach, the accept
and resolve limits that apply (the most specific, ``EscalationPolicy.applied``)
with the rule (``file:line``) and what it applies as; limits that apply only
when a condition holds are listed beside them, then a summoned department's
limits and a handler role's (with whom a breach passes the case to).
``limits_table`` renders those rows: ``gridcore incidents limits FILE`` prints
it; the service answers the rows themselves (``GET /api/v1/incidents/limits``).
Given the Chinese names (``names``: under ``--lang zh``), every row says it in
Chinese: a category by its ruleset's name, a level by the community's,
``4个工作小时（网格层级时限，yinzhou.rules:43）``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs

from gridcore import Table
from gridcore.classes import frozen
from gridcore.roster import ROLES

from .compiler import categories_named, ladder
from .detail_zh import LIMIT_ZH, Names, span
from .headings import HEADINGS_ZH
from .policy import AppliedLimit, EscalationPolicy, IncidentFacts, LimitClause


@frozen
class LimitsRow:
    """The limits that apply to one kind of case at one place.

    ``applies_to`` is ``category`` (``name`` the category, None for any other;
    ``level`` a level of its ladder), ``department`` (a summoned line
    department: ``accept`` is its report-in limit) or ``handler`` (whoever
    handles a case by their role; ``then_role`` takes a breached case over).
    ``only_when`` are the category's limits that apply at the level only when
    their condition holds.
    """

    applies_to: str
    name: str | None
    level: str | None
    accept: AppliedLimit | None
    resolve: AppliedLimit | None
    only_when: tuple[LimitClause, ...] = ()
    then_role: str | None = None


#: how the most specific limit is chosen, under every listing of the limits
PRECEDENCE = ("the most specific limit wins: a summoned department's, the category's at the level, the "
              "category's, the level's, counted from the case's arrival at the level; a handler role's limits "
              "run beside them, from the latest assignment (the first deadline wins; a department's replace "
              "them); '-' is no limit (a case there is never overdue) (最具体的时限优先：被召集部门的时限、该类别在该"
              "层级的时限、该类别的时限、该层级的时限，从事件到达该层级时起算；办理人角色的时限与之并行，从最近一次派单"
              "起算（先到期者为准，部门的时限取代它们）；'-' 表示无时限，该处的事件不会超时)")

#: the same, for staff under ``--lang zh``: its Chinese alone
PRECEDENCE_ZH = PRECEDENCE[PRECEDENCE.index("(最具体") + 1:-1]


def applied_limits(policy: EscalationPolicy, levels: Sequence[str]) -> list[LimitsRow]:
    """The applied limits of every category at every level of its ladder (top level first), then
    the summoned departments' and the handler roles' limits."""
    rows = []
    unconditional = attrs.evolve(
        policy, category_limits=tuple(c for c in policy.category_limits if c.condition is None)
    )
    for category in categories_named(policy):
        facts = IncidentFacts(id="", category=category or "", severity=1, level="", key_person=False,
                              channel="", age=timedelta(0))
        for level in reversed(ladder(policy, levels, category)):
            found = unconditional.applied(attrs.evolve(facts, level=level), level)
            sometimes = tuple(
                c for c in policy.category_limits
                if c.condition is not None and c.category in (category, None) and c.level in (level, None)
            )
            rows.append(LimitsRow("category", category, level, found.get("accept"), found.get("resolve"),
                                  sometimes))
    for summoned in policy.department_limits:
        rows.append(LimitsRow(
            "department", summoned.department, None,
            AppliedLimit("accept", summoned.report, summoned.rule, "report in") if summoned.report else None,
            AppliedLimit("resolve", summoned.resolve, summoned.rule, "department") if summoned.resolve else None,
        ))
    for handler in policy.handler_limits:
        rows.append(LimitsRow(
            "handler", handler.role, None,
            AppliedLimit("accept", handler.accept, handler.rule, "handler") if handler.accept else None,
            AppliedLimit("resolve", handler.resolve, handler.rule, "handler") if handler.resolve else None,
            then_role=handler.then_role,
        ))
    return rows


def limits_table(policy: EscalationPolicy, levels: Sequence[str], names: Names | None = None) -> Table:
    """The applied limits of every category at every level of its ladder, as a table; with ``names``
    (the Chinese of levels, categories and departments), each row in Chinese."""
    rows = []
    for row in applied_limits(policy, levels):
        if names is not None:
            rows.append(_row_zh(row, names))
            continue
        if row.applies_to == "category":
            who, where = row.name or "(any other)", row.level or ""
        elif row.applies_to == "department":
            who, where = f"department {row.name}", "(summoned)"
        else:
            who, where = f"handler {row.name}", f"(then to {row.then_role})" if row.then_role else "(handling)"
        sometimes = "; ".join(f"{c.limit} within {c.span} when {c.condition} ({c.rule})"
                              for c in row.only_when)
        rows.append((who, where, _cell(row.accept), _cell(row.resolve), sometimes))
    return Table("Time limits by category and level (各类事件各层级时限)", ("category", "level", "accept", "resolve",
                                                         "also, only when"), tuple(rows),
                 (PRECEDENCE if names is None else PRECEDENCE_ZH,),
                                                         headings=HEADINGS_ZH)


def _cell(found: AppliedLimit | None) -> str:
    if found is None:
        return "-"
    return f"{found.span} ({found.source}, {found.rule})"


def _row_zh(row: LimitsRow, names: Names) -> tuple[str, ...]:
    """A row of the table in Chinese: ``水管漏水 leaking_pipe``, ``网格 grid``, ``4个工作小时（网格层级时限，...）``."""
    if row.applies_to == "category":
        who = _category(row.name, names)
        where = f"{names.level(row.level)} {row.level}" if row.level and names.level(row.level) != row.level \
            else row.level or ""
    elif row.applies_to == "department":
        who, where = f"条线部门 {names.department(row.name or '')}", "（被召集）"
    else:
        who = f"办理人 {_role(row.name or '', names)}"
        where = f"（超时转交 {_role(row.then_role, names)}）" if row.then_role else "（办理中）"
    sometimes = "；".join(f"{LIMIT_ZH.get(c.limit, c.limit)}时限 {span(str(c.span))}，当 {c.condition}（{c.rule}）"
                         for c in row.only_when)
    return (who, where, _cell_zh(row.accept, names), _cell_zh(row.resolve, names), sometimes)


def _cell_zh(found: AppliedLimit | None, names: Names) -> str:
    if found is None:
        return "-"
    return f"{span(str(found.span))}（{source_zh(found.source, names)}，{found.rule}）"


def source_zh(source: str, names: Names) -> str:
    """What a limit applies as, in Chinese: ``level grid`` -> ``网格层级时限``, ``report in`` -> ``报到时限``,
    ``fire_hazard at community when ...`` -> ``类别时限 消防隐患 fire_hazard，在社区，当 ...``."""
    fixed = {"report in": "部门报到时限", "department": "部门办结时限", "handler": "办理人时限"}
    if source in fixed:
        return fixed[source]
    kind, _, rest = source.partition(" ")
    if kind == "level":
        return f"{names.level(rest)}层级时限"
    if kind == "department":
        return f"条线部门 {names.department(rest)} 时限"
    if kind == "handler":
        return f"办理人 {_role(rest, names)} 时限"
    category, _, rest = source.partition(" ")
    at, when = "", ""
    rest = rest.removeprefix("category ")  # "any category ..."
    if rest.startswith("at "):
        level, _, rest = rest[len("at "):].partition(" ")
        at = f"在{names.level(level)}"
    if rest.startswith("when "):
        when = f"当 {rest[len('when '):]}"
    shown = "任意类别" if category == "any" else _category(category, names)
    return "类别时限 " + "，".join(part for part in (shown, at, when) if part)


def _category(code: str | None, names: Names) -> str:
    if code is None:
        return "（其他类别）"
    zh = names.categories.get(code)
    return f"{zh} {code}" if zh else code


def _role(code: str, names: Names) -> str:
    """``街道网格专干（street_officer）``: the roster's Chinese name, else the built-in one's."""
    zh = names.roles.get(code) or ROLES.get(code)
    return f"{zh}（{code}）" if zh else code
