"""Subsidy roles that only the community's roster can check.

A subsidy names a role (``subsidy fulltime_gridworker: 100 yuan per star``,
``补贴 微网格员：每星 50 元``): a core role, or one the community declares in its
``roles.csv``.  Compiled alone, a ruleset cannot tell a community's own role
from a slip, so a name that is no core role is only a warning there.  Beside
its community (``gridcore check``, ``Engine.use_ruleset``) the roles are known:
a name that is none of them pays nobody, and ``gridcore check`` makes this
warning an error (``subsidy-role-unknown``), with the role the author meant.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gridcore.explain import RuleRef
from gridcore.rules import Diagnostic
from gridcore.rules.checker import did_you_mean
from gridcore.rules.errors import WARNING
from gridcore.rules.keywords import is_cjk

from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Community
    from gridcore.rules import Ruleset

    from .policy import AssessmentPolicy


def subsidy_problems(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """A warning for each subsidy whose role the community has neither by id nor by Chinese name."""
    names = set(community.roles) | set(community.roles.values())
    problems: list[Diagnostic] = []
    seen: set[tuple[str, int]] = set()
    for in_force in ruleset.policies(SECTION):
        policy: AssessmentPolicy = in_force.policy
        for subsidy in (s for p in (policy, *policy.cycles) for s in p.subsidies):
            where = (subsidy.rule.file, subsidy.rule.line)
            if subsidy.role in names or where in seen:
                continue
            seen.add(where)
            problems.append(_unknown(community, ruleset, subsidy.role, subsidy.rule))
    return problems


def _unknown(community: Community, ruleset: Ruleset, written: str, ref: RuleRef) -> Diagnostic:
    roles = list(community.roles)
    column, width = _role_in(ref, written)
    # by id, or by Chinese name if so written; none in a file the ruleset extends (not the author's to edit)
    pool = [community.roles[r] for r in roles] if is_cjk(written) else roles
    own = ref.file == ruleset.entry and width == len(written)
    return Diagnostic(
        message=f"{community.name} has no role '{written}': its subsidy pays no one",
        message_zh=f"{community.name} 没有“{written}”这个角色：这条补贴不会发给任何人",
        file=ref.file, line=ref.line, column=column, source_line=" " * max(0, ref.column - 1) + ref.text,
        width=width, expected=", ".join(roles), expected_zh="、".join(community.roles[r] for r in roles),
        suggestion=did_you_mean(written, pool) if own else "",
        fix=f"name a role {community.name} has (listed), or declare {written} in its roles.csv",
        fix_zh=f"写{community.name}已有的角色（见所列），或在花名册的 roles.csv 中声明“{written}”",
        severity=WARNING, code="subsidy-role-unknown")


def _role_in(ref: RuleRef, word: str) -> tuple[int, int]:
    """The column and width of the role ``word`` on the subsidy's first line (before its colon), else
    the whole line's: a did-you-mean replaces what the caret is under."""
    first = ref.text.split("\n")[0]
    found = re.search(rf"(?<![\w.]){re.escape(word)}(?![\w.])", first)
    if found is None:
        return ref.column, max(1, len(first.rstrip()))
    return ref.column + found.start(), len(word)
