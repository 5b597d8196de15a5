"""Names in the escalation section that only the community's roster can check.

``gridcore check`` sees a ruleset alone; the line departments it routes to
(``route to fire``, ``then to police``) exist only in the community's
``departments.csv``.  This module checks them when a ruleset meets its
community: before ``Engine.use_ruleset`` puts it in force, and in
``gridcore check --community``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gridcore.explain import RuleRef
from gridcore.rules.checker import did_you_mean

from .policy import EscalationPolicy, Immediate, Repeats
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Community
    from gridcore.rules import Diagnostic, Ruleset


def department_problems(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """A diagnostic for every line department the section names that the community lacks."""
    from gridcore.rules import Diagnostic

    policies = [in_force.policy for in_force in ruleset.policies(SECTION)]
    if not policies:
        return []
    known = dict(community.departments)
    by_name = {dept.name: dept_id for dept_id, dept in known.items()}
    problems: list[Diagnostic] = []
    reported: set[tuple[str, RuleRef]] = set()
    for department, ref in _departments(policies, set(community.hierarchy.levels)):
        if department in known or department in by_name or (department, ref) in reported:
            continue
        reported.add((department, ref))
        close = did_you_mean(department, [*known, *by_name])
        listing = ", ".join(f"{d} ({known[d].name})" for d in sorted(known)) or "none"
        problems.append(
            Diagnostic(
                message=f"unknown line department '{department}': {community.name} has {listing}",
                message_zh=f"未知的条线部门 '{department}'：{community.name} 的部门有 {listing}",
                file=ref.file,
                line=ref.line,
                column=ref.column,
                source_line=ref.text,
                suggestion=close,
                fix="use a department id from the community's departments.csv, or add the department there",
                fix_zh="使用社区 departments.csv 中的部门编号，或先在其中添加该部门",
                width=max(1, len(ref.text.rstrip())),
            )
        )
    return problems


def _departments(policies: list[EscalationPolicy], levels: set[str]) -> Iterator[tuple[str, RuleRef]]:
    """Every department named; a target that is no level of the community counts as one."""
    for policy in policies:
        for route in policy.routes:
            for department in route.departments:
                yield department, route.rule
        for limit in policy.limits:
            if limit.then_department:
                yield limit.then_department, limit.rule
        escalations: list[Immediate | Repeats] = [*policy.immediate, *policy.repeats]
        for piece in escalations:
            if piece.department:
                yield piece.department, piece.rule
            if piece.to_level and piece.to_level not in levels:
                yield piece.to_level, piece.rule
