"""Names in the escalation section that only the community's roster can check.

``gridcore check`` sees a ruleset alone; the line departments it routes to
(``route to fire``, ``then to police``) exist only in the community's
``departments.csv``, and the roles it relies on (the verifier, a notified
role, a handler limit's roles) only in its ``roles.csv``.  This module checks them when a ruleset
meets its community: before ``Engine.use_ruleset`` puts it in force, and in
``gridcore check --community`` (or with a community.yaml beside the file).

An unknown department is an error everywhere.  A role nobody holds is a
warning when a ruleset is put in force (the roster may gain the people
later; nothing breaks until a case needs them).  The verifier and a notified
role nobody holds are errors in ``gridcore check``: a village whose grids are
led by micro-grid leaders only, under the default verifier (the grid leader),
could never verify a case.  A handler limit's role nobody holds stays a
warning there too: the limit binds no one, and a case it would pass on climbs
the ladder as it would without the limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gridcore.errors import RosterError
from gridcore.explain import RuleRef
from gridcore.roster import ROLES, role_id
from gridcore.rules.checker import did_you_mean
from gridcore.rules.keywords import is_cjk

from .policy import EscalationPolicy, Immediate, Notice, Repeats
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
    levels = community.hierarchy.levels
    for department, ref, target in _departments(policies, set(levels)):
        if department in known or department in by_name or (department, ref) in reported:
            continue
        reported.add((department, ref))
        # an escalation's target that is no level may be a level misspelt (``to comunity``)
        close = did_you_mean(department, [*known, *by_name]) or (did_you_mean(department, levels) if target else "")
        listing = ", ".join(f"{d} ({known[d].name})" for d in sorted(known)) or "none"
        listing_zh = "、".join(f"{known[d].name}（{d}）" for d in sorted(known)) or "无"
        column, width = _word_in(ref, department)
        problems.append(
            Diagnostic(
                message=f"unknown line department '{department}': {community.name} has {listing}",
                message_zh=f"未知的条线部门 '{department}'：{community.name}的条线部门有 {listing_zh}",
                file=ref.file,
                line=ref.line,
                column=column,
                source_line=_line(ref),
                # a did-you-mean replaces what the caret is under: only when that is the name itself
                suggestion=close if width == len(department) else "",
                fix="use a department id or name from the community's departments (departments.csv, or the roster "
                "workbook's 部门 departments sheet), or add the department there"
                + (f" (or, if a level was meant, write the level: {close})" if close in levels else ""),
                fix_zh="使用社区部门表（departments.csv，或花名册的“部门 departments”表）中的部门编号或名称，或先在其中添加该部门"
                + (f"（如果想写的是层级，请写 {close}）" if close in levels else ""),
                expected=", ".join(sorted(known)),
                expected_zh="、".join(known[d].name for d in sorted(known)),
                width=width,
            )
        )
    return _own(problems, ruleset)


def _word_in(ref: RuleRef, word: str, *, named: bool = False) -> tuple[int, int]:
    """The column and width of ``word`` standing alone in the rule (after its colon, else before
    it; ``named``: the item's own name, before the colon first), else the whole rule's: a
    did-you-mean replaces what the caret is under."""
    text = ref.text
    after = max(text.find(":"), text.find("："))
    pattern = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w.])")
    if named and after >= 0:
        found = pattern.search(text, 0, after) or pattern.search(text, after + 1)
    else:
        found = pattern.search(text, after + 1) if after >= 0 else None
        found = found or pattern.search(text, 0, max(after, 0))
    if found is None:
        return ref.column, _width(ref)
    return ref.column + found.start(), len(word)


def _departments(policies: list[EscalationPolicy], levels: set[str]) -> Iterator[tuple[str, RuleRef, bool]]:
    """Every department named (and whether it stands where a level may: an escalation's target);
    a target that is no level of the community counts as one."""
    for policy in policies:
        for route in policy.routes:
            for department in route.departments:
                yield department, route.rule, False
        for limit in policy.limits:
            if limit.then_department:
                yield limit.then_department, limit.rule, True
        escalations: list[Immediate | Repeats] = [*policy.immediate, *policy.repeats]
        for piece in escalations:
            if piece.department:
                yield piece.department, piece.rule, True
            if piece.to_level and piece.to_level not in levels:
                yield piece.to_level, piece.rule, True


#: Roles that are not staff: never offered as the verifier.
NOT_STAFF = frozenset({"resident", "volunteer"})


def role_problems(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """A warning for the verifier missing above some cells, a notified role nobody holds, and a handler
    limit's role (or the role it passes cases to) nobody holds."""
    problems: list[Diagnostic] = []
    seen: set[tuple[str, str, str]] = set()
    for in_force in ruleset.policies(SECTION):
        policy = in_force.policy
        problem = _verifier_problem(community, ruleset, policy)
        if problem is not None and (problem.message, problem.file, str(problem.line)) not in seen:
            seen.add((problem.message, problem.file, str(problem.line)))
            problems.append(problem)
        found = [_notice_problem(community, notice, ref) for notice, ref in _notices(policy)]
        found += [_handler_problem(community, limit.role, f"handler limit {limit.role}", "applies to no one",
                                   "不适用于任何人", limit.rule, named=True) for limit in policy.handler_limits]
        found += [_handler_problem(community, limit.then_role, f"then pass to {limit.then_role}",
                                   "passes cases to no one (they go up the tree instead)",
                                   "不会把事件转给任何人（事件将直接上报）", limit.rule)
                  for limit in policy.handler_limits if limit.then_role is not None]
        for problem in found:
            if problem is not None and (problem.message, problem.file, str(problem.line)) not in seen:
                seen.add((problem.message, problem.file, str(problem.line)))
                problems.append(problem)
    return _own(problems, ruleset)


def _handler_problem(community: Community, written: str, said: str, outcome: str, outcome_zh: str,
                     ref: RuleRef, *, named: bool = False) -> Diagnostic | None:
    """A handler limit for a role nobody holds (``named``: the item's own role), or one that passes
    cases to a role nobody holds; the caret under the role as the line writes it."""
    from gridcore.rules import Diagnostic
    from gridcore.rules.errors import WARNING

    role = _role(community, written)
    if role is not None and any(community.holders(node.id, role) for node in community.hierarchy):
        return None
    held = sorted({a.role for m in community.members.values() for a in m.roles if a.role not in NOT_STAFF})
    name_zh = community.roles.get(role or "", written)
    # the role as the line writes it: its id, or its Chinese name (办理人时限 单元长 holds unit_leader)
    shown = next((w for w in (written, ROLES.get(written, ""), community.roles.get(written, ""))
                  if w and _word_in(ref, w, named=named)[1] == len(w)), written)
    column, width = _word_in(ref, shown, named=named)
    return Diagnostic(
        message=f"nobody in {community.name} holds {written}: '{said}' {outcome}",
        message_zh=f"{community.name} 中没有人担任{name_zh}：该办理人时限{outcome_zh}",
        file=ref.file, line=ref.line, column=column, source_line=_line(ref), width=width,
        expected=", ".join(held), expected_zh="、".join(community.roles.get(r, r) for r in held),
        suggestion=_suggest(community, shown, held) if width == len(shown) else "",
        fix=f"name a role {community.name} has ({', '.join(held) or 'none'}), or add {written} to the roster",
        fix_zh=f"写{community.name}已有的角色（{'、'.join(community.roles.get(r, r) for r in held) or '无'}），"
               f"或在名册中补上{name_zh}",
        severity=WARNING, code="handler-role-missing")


def _own(problems: list[Diagnostic], ruleset: Ruleset) -> list[Diagnostic]:
    """The problems, with no did-you-mean in a file the ruleset extends: the author checking their
    own file does not edit the district's base (the fix says what to write in theirs)."""
    import attrs

    return [attrs.evolve(p, suggestion="") if p.suggestion and p.file != ruleset.entry else p for p in problems]


def _suggest(community: Community, written: str, held: list[str]) -> str:
    """The role held there that ``written`` is a slip of: by its id, or by its Chinese name if so written."""
    if is_cjk(written):
        return did_you_mean(written, [community.roles.get(r, r) for r in held])
    return did_you_mean(written, held)


def _role(community: Community, written: str) -> str | None:
    """The community's role id for a role written by id or Chinese name (None: it has no such role)."""
    try:
        return role_id(written, community.roles)
    except RosterError:
        return None


def _covered(community: Community, cell: str, role: str) -> bool:
    return any(community.holders(node.id, role)
               for node in community.hierarchy.ancestors(cell, include_self=True))


def _verifier_problem(community: Community, ruleset: Ruleset, policy: EscalationPolicy) -> Diagnostic | None:
    from gridcore.rules import Diagnostic
    from gridcore.rules.errors import WARNING

    cells = [node.id for node in community.hierarchy.leaves()]
    role = _role(community, policy.verifier)
    missing = [cell for cell in cells if role is None or not _covered(community, cell, role)]
    if not missing:
        return None
    written = policy.verifier
    zh = community.roles.get(role or "", written)
    names = "、".join(community.hierarchy.node(cell).name for cell in missing[:3]) + (
        " …" if len(missing) > 3 else "")
    ref = policy.verifier_rule or _first_rule(ruleset)
    default = policy.verifier_rule is None
    # the role as the line writes it: its id, or its Chinese name (核查人：楼栋长 holds building_leader)
    shown = next((w for w in (written, ROLES.get(written, ""), community.roles.get(written, ""))
                  if w and not default and _word_in(ref, w)[1] == len(w)), written)
    column, width = (ref.column, _width(ref)) if default else _word_in(ref, shown)
    candidates = sorted(
        (r for r in community.roles if r not in NOT_STAFF and all(_covered(community, c, r) for c in cells)),
        key=lambda r: (-sum(1 for node in community.hierarchy if community.holders(node.id, r)), r))
    if candidates:
        best = candidates[0]
        fix = (f"write 'verified by: {best}' (every cell has a {best} at or above it), "
               f"or add a {written} for those cells to the roster")
        fix_zh = (f"写 '核查人：{community.roles.get(best, best)}'（每个最小网格本级或上级都有），"
                  f"或在名册中为这些最小网格补上{zh}")
    else:
        fix = f"add a {written} for those cells to the roster (roles.csv), or name another role in 'verified by:'"
        fix_zh = f"在名册（roles.csv）中为这些最小网格补上{zh}，或在 '核查人：' 中写另一个角色"
    return Diagnostic(
        message=(f"no {written} at or above {len(missing)} of the {len(cells)} cells of {community.name} "
                 f"({names}): cases reported there can never be verified"
                 + (" (the verifier is the grid leader unless 'verified by:' says otherwise)" if default else "")),
        message_zh=(f"{community.name} 的 {len(cells)} 个最小网格中有 {len(missing)} 个（{names}）本级及上级都没有{zh}："
                    "在那里上报的事件永远无法核查" + ("（未写 '核查人：' 时默认由网格长核查）" if default else "")),
        file=ref.file, line=ref.line, column=column, source_line=_line(ref),
        width=width, fix=fix, fix_zh=fix_zh,
        # in place of the role 'verified by:' names; with no such line the fix says what to add
        suggestion=(community.roles.get(candidates[0], candidates[0]) if is_cjk(shown) else candidates[0])
        if candidates and not default and width == len(shown) else "",
        severity=WARNING, code="verifier-missing")


def _notice_problem(community: Community, notice: Notice, ref: RuleRef) -> Diagnostic | None:
    from gridcore.rules import Diagnostic
    from gridcore.rules.errors import WARNING

    levels = community.hierarchy.levels
    if notice.level is None and (notice.name in levels or notice.name in community.departments
                                 or any(d.name == notice.name for d in community.departments.values())):
        return None  # "notify community" (its staff) or a line department
    role = _role(community, notice.name)
    where = ([n.id for n in community.hierarchy.nodes_at(notice.level)]
             if notice.level is not None and notice.level in levels else [n.id for n in community.hierarchy])
    if role is not None and any(community.holders(node, role) for node in where):
        return None
    at = f" at a {notice.level}" if notice.level else ""
    at_zh = f"（{community.level_label(notice.level)}一级）" if notice.level in levels else ""
    held = sorted({r for node in where for m in community.holders(node) for a in m.roles
                   if a.node == node and (r := a.role) not in NOT_STAFF})
    shown = str(notice)
    name_zh = community.roles.get(role or "", notice.name)
    shown_zh = name_zh + (f" 于 {community.level_label(notice.level)}" if notice.level in levels else "")
    column, width = _word_in(ref, notice.name)
    return Diagnostic(
        message=f"nobody in {community.name} holds {notice.name}{at}: 'notify {shown}' tells no one",
        message_zh=f"{community.name} 中没有人担任{name_zh}{at_zh}：'通知 {shown_zh}' 不会通知到任何人",
        file=ref.file, line=ref.line, column=column, source_line=_line(ref), width=width,
        expected=", ".join(held), expected_zh="、".join(community.roles.get(r, r) for r in held),
        suggestion=_suggest(community, notice.name, held) if width == len(notice.name) else "",
        fix=f"notify a role {community.name} has{at} ({', '.join(held) or 'none'}), or add {notice.name} "
            "to the roster",
        fix_zh=f"通知{community.name}{at_zh}已有的角色（{'、'.join(community.roles.get(r, r) for r in held) or '无'}），"
               f"或在名册中补上{community.roles.get(role or '', notice.name)}",
        severity=WARNING, code="notified-role-missing")


def _notices(policy: EscalationPolicy) -> Iterator[tuple[Notice, RuleRef]]:
    for route in policy.routes:
        for notice in route.notify:
            yield notice, route.rule
    for limit in policy.limits:
        for notice in limit.notify:
            yield notice, limit.rule


def _first_rule(ruleset: Ruleset) -> RuleRef:
    """Where a default the section does not write is pinned: its first line in the ruleset."""
    items = ruleset.items.get(SECTION.name, ())
    return items[0].ref if items else RuleRef(ruleset.entry, 0)


def _line(ref: RuleRef) -> str:
    """The rule's line as written: its text after the indentation it starts at (so the caret
    falls under it)."""
    return " " * max(0, ref.column - 1) + ref.text


def _width(ref: RuleRef) -> int:
    return max(1, len(ref.text.rstrip()))
