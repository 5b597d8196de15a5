"""Which time limit applies where: every category's ladder, level by level, with the rule that wins.

``limits_table(policy, levels)`` lists, for each category the policy names
(then every other category) and each level its cases can reach, the accept
and resolve limits that apply (the most specific, ``EscalationPolicy.applied``)
with the rule (``file:line``) and what it applies as; limits that apply only
when a condition holds are listed beside them, then a summoned department's
limits and a handler role's (with whom a breach passes the case to).  ``gridcore incidents limits FILE`` prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs

from gridcore import Table

from .compiler import categories_named, ladder
from .policy import AppliedLimit, EscalationPolicy, IncidentFacts


def limits_table(policy: EscalationPolicy, levels: Sequence[str]) -> Table:
    """The applied limits of every category at every level of its ladder, as a table."""
    rows = []
    unconditional = attrs.evolve(
        policy, category_limits=tuple(c for c in policy.category_limits if c.condition is None)
    )
    for category in categories_named(policy):
        facts = IncidentFacts(id="", category=category or "", severity=1, level="", key_person=False,
                              channel="", age=timedelta(0))
        for level in reversed(ladder(policy, levels, category)):
            found = unconditional.applied(attrs.evolve(facts, level=level), level)
            sometimes = [
                f"{c.limit} within {c.span} when {c.condition} ({_where(c.rule)})"
                for c in policy.category_limits
                if c.condition is not None and c.category in (category, None) and c.level in (level, None)
            ]
            rows.append((category or "(any other)", level, _cell(found.get("accept")),
                         _cell(found.get("resolve")), "; ".join(sometimes)))
    for summoned in policy.department_limits:
        rows.append((f"department {summoned.department}", "(summoned)",
                     _cell(AppliedLimit("accept", summoned.report, summoned.rule, "report in"))
                     if summoned.report else "-",
                     _cell(AppliedLimit("resolve", summoned.resolve, summoned.rule, "department"))
                     if summoned.resolve else "-", ""))
    for handler in policy.handler_limits:
        passed = f"(then to {handler.then_role})" if handler.then_role else "(handling)"
        rows.append((f"handler {handler.role}", passed,
                     _cell(AppliedLimit("accept", handler.accept, handler.rule, "handler"))
                     if handler.accept else "-",
                     _cell(AppliedLimit("resolve", handler.resolve, handler.rule, "handler"))
                     if handler.resolve else "-", ""))
    notes = (("the most specific limit wins: a summoned department's, then the handler's role's, the "
              "category's at the level, the category's, the level's; '-' is no limit (a case there is never overdue)"),)
    return Table("Time limits by category and level", ("category", "level", "accept", "resolve",
                                                         "also, only when"), tuple(rows), notes)


def _cell(found: AppliedLimit | None) -> str:
    if found is None:
        return "-"
    return f"{found.span} ({found.source}, {_where(found.rule)})"


def _where(rule: object) -> str:
    file = getattr(rule, "file", "")
    return f"{str(file).rsplit('/', 1)[-1]}:{getattr(rule, 'line', 0)}"
