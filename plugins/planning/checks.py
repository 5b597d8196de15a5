"""Cells far from their planned size: warnings for ``gridcore check`` and ``Engine.use_ruleset``.

Called through ``gridcore_check_ruleset`` with the community the ruleset will
run on: every territorial cell at a planned level whose households or people
(the roster's, ``Community.counts``) lie outside the planned size give or take
the tolerance is a warning at the ``size`` line, naming the cell, its count
and the range (English and Chinese).  A plan never refuses a ruleset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcore.rules import Diagnostic

from .policy import Size
from .section import SECTION

if TYPE_CHECKING:
    from gridcore import Community
    from gridcore.rules import Ruleset

#: How many cells one line names before it sums up the rest.
SHOWN = 10


def off_plan(community: Community, size: Size) -> list[tuple[str, str, int, int, tuple[float, float]]]:
    """(node, what, count, planned, bounds) for each cell of the size's level outside its range."""
    hierarchy = community.hierarchy
    if size.level not in hierarchy.levels:
        return []
    found = []
    for node in hierarchy.nodes_at(size.level):
        if node.is_side_grid:
            continue  # an industry or dedicated grid is not planned by the households living in it
        counts = community.counts(node.id)
        for what, planned, count in (("households", size.households, counts.households),
                                     ("people", size.people, counts.population)):
            if planned is None:
                continue
            low, high = size.bounds(planned)
            if not low <= count <= high:
                found.append((node.id, what, count, planned, (low, high)))
    return found


def size_warnings(community: Community, ruleset: Ruleset) -> list[Diagnostic]:
    """A warning per ``size`` line whose cells are off plan (the first few named, the rest counted)."""
    if not community.households:
        return []  # a roster without households says nothing about sizes
    out: list[Diagnostic] = []
    seen: set[Size] = set()
    for in_force in ruleset.policies(SECTION):
        for size in in_force.policy.sizes:
            if size in seen:
                continue
            seen.add(size)
            cells = off_plan(community, size)
            if not cells:
                continue
            by_cell: dict[str, list[tuple[str, int]]] = {}
            for node, what, count, _, _ in cells:
                by_cell.setdefault(node, []).append((what, count))
            shown = list(by_cell.items())[:SHOWN]
            names = [f"{node} ({community.hierarchy.node(node).name}): "
                     + ", ".join(f"{count} {what}" for what, count in found) for node, found in shown]
            zh_names = [f"{node}（{community.hierarchy.node(node).name}）"
                        + "、".join(f"{count}{'户' if what == 'households' else '人'}" for what, count in found)
                        for node, found in shown]
            more = f" and {len(by_cell) - SHOWN} more" if len(by_cell) > SHOWN else ""
            planned = ", ".join(f"{n} {w}" for w, n in (("households", size.households), ("people", size.people))
                                if n is not None)
            ref = size.rule
            out.append(Diagnostic(
                message=f"{len(by_cell)} {size.level} cell(s) of {community.name} are off the planned size "
                        f"({planned}, within {size.tolerance:.0%}): {'; '.join(names)}{more}",
                message_zh=f"{community.name} 有 {len(by_cell)} 个 {size.level} 层级网格偏离规划规模"
                           f"（浮动 {size.tolerance:.0%}）：{'；'.join(zh_names)}{'等' if more else ''}",
                file=ref.file, line=ref.line, column=ref.column, source_line=ref.text,
                fix="split or merge those cells, or change the plan", fix_zh="拆分或合并这些网格，或调整规划",
                severity="warning", width=max(1, len(ref.text.rstrip())), code="off-plan-size",
            ))
    return out
