"""Where an incident goes: its starting node, the node above, who is notified.

These functions read the community's hierarchy and roster only; they decide
nothing about time (see ``timers``).
"""

from __future__ import annotations

import weakref
from typing import Any

from gridcore.classes import frozen
from gridcore.explain import RuleRef

from .policy import Notice


@frozen
class Notification:
    """Someone was told about an incident: a role at a node, or a line department."""

    target: str
    node: str | None
    members: tuple[str, ...]
    rule: RuleRef | None

    def describe(self) -> str:
        """One line for timelines: whom, where, which members."""
        where = f" at {self.node}" if self.node else ""
        who = f" ({', '.join(self.members)})" if self.members else " (nobody holds it)"
        return f"notified {self.target}{where}{who}"


def _ident(found: Any) -> str | None:
    if found is None:
        return None
    return found if isinstance(found, str) else str(found.id)


def level_of(community: Any, node: str) -> str:
    """The level name of ``node``."""
    return str(community.hierarchy.node(node).level)


def rank(community: Any, node: str) -> int:
    """Position of ``node``'s level, 0 at the top: smaller is higher."""
    return int(community.hierarchy.level_index(level_of(community, node)))


def node_at_level(community: Any, node: str, level: str) -> str | None:
    """The node at ``level`` that contains ``node`` (``node`` itself at its own level)."""
    if level not in community.hierarchy.levels:
        return None
    if level_of(community, node) == level:
        return node
    return _ident(community.hierarchy.ancestor_at(node, level))


def start_node(community: Any, node: str, level: str | None) -> str:
    """Where an incident reported at ``node`` starts when its route names ``level``.

    An incident reported above the named level stays where it was reported:
    routing never moves an incident down.
    """
    if level is None:
        return node
    found = node_at_level(community, node, level)
    if found is None or rank(community, found) > rank(community, node):
        return node
    return found


def node_above(community: Any, node: str, level: str | None = None) -> str | None:
    """The node an escalation moves to: the one at ``level`` if strictly higher, else the parent.

    Remembered per community (a community never changes): where a breach would send a case is
    asked after every event on it (``timers.next_due``): the tree is walked once per node and level.
    """
    memo = remembered(_ABOVE, community)
    if memo is None:
        return _node_above(community, node, level)
    key = (node, level)
    if key in memo:
        kept: str | None = memo[key]
        return kept
    found = memo[key] = _node_above(community, node, level)
    return found


def _node_above(community: Any, node: str, level: str | None) -> str | None:
    if level is not None:
        found = node_at_level(community, node, level)
        if found is not None and rank(community, found) < rank(community, node):
            return found
    return _ident(community.hierarchy.parent(node))


def is_department(community: Any, name: str) -> bool:
    """True if ``name`` is one of the community's line departments."""
    departments = community.departments
    return name in departments or any(getattr(d, "id", None) == name for d in departments)


#: id of a community -> (a weak reference to it, and what ``department_members`` found in it, by
#: department and node, and each department's posts by ``(department,)``, ``_posts``): a community never
#: changes, and a district's departments have hundreds of officers to sort by branch every time a
#: summoned department takes a case on
_OFFICERS: dict[int, tuple[weakref.ref[Any], dict[Any, Any]]] = {}
#: id of a community -> (a weak reference to it, and ``node_above``'s answers in it by ``(node, level)``)
_ABOVE: dict[int, tuple[weakref.ref[Any], dict[Any, Any]]] = {}


def _officers_of(community: Any) -> dict[Any, Any] | None:
    """What ``department_members`` found in ``community`` (None: it cannot be remembered)."""
    return remembered(_OFFICERS, community)


def remembered(table: dict[int, tuple[weakref.ref[Any], dict[Any, Any]]], community: Any) -> dict[Any, Any] | None:
    """The answers ``table`` keeps for ``community`` (None: it cannot be remembered): a community never
    changes, so what is worked out from it alone may be kept while it lives."""
    key = id(community)
    kept = table.get(key)
    if kept is not None and kept[0]() is community:
        return kept[1]
    try:
        ref = weakref.ref(community, lambda gone: table.pop(key) if table.get(key, (None,))[0] is gone
                          else None)
    except TypeError:
        return None
    found: dict[Any, Any] = {}
    table[key] = (ref, found)
    return found


def department_members(community: Any, department: str, node: str | None = None,
                       reported: str | None = None) -> frozenset[str]:
    """Ids of the members who belong to ``department`` (its officers answering at ``node``, if given).

    In a district a department has officers at many posts (the police station
    of each street, its officer in each grid).  A case now at ``node``,
    reported at ``reported`` (default ``node``), is answered by the officers
    posted on its branch of the tree: at ``node`` or above it (a street's
    officer for a grid of the street; the district's own at the command
    centre), or on the way the case climbed, from ``reported`` up to ``node``
    (a grid's officer when its case went up to its community, its street or
    the command centre).  An officer posted anywhere else below ``node`` (another
    street, another community of the street) does not answer, at any level.
    When the department has no officer on that branch, the officers of the
    nearest enclosing node that has some answer (a department serving the
    whole community or district from one post; all of them at the top).
    """
    if reported is None or node is None:
        reported = node
    memo = _officers_of(community)
    if memo is not None:
        found: frozenset[str] | None = memo.get((department, node, reported))
        if found is None:
            found = memo[(department, node, reported)] = _department_members(community, department, node, reported)
        return found
    return _department_members(community, department, node, reported)


def _department_members(community: Any, department: str, node: str | None, reported: str | None) -> frozenset[str]:
    posts = _posts(community, department)
    hierarchy = community.hierarchy
    if node is None or node not in hierarchy:
        return frozenset(ident for ident, _, _ in posts)
    # The branch: ``node`` and every node above it, and the nodes the case climbed through from ``reported``
    # (those of its chain below ``node``; none when it was reported at ``node``, or moved to another cell).
    up = [n.id for n in hierarchy.ancestors(node, include_self=True)]
    branch = set(up)
    if reported is not None and reported != node and reported in hierarchy and hierarchy.is_within(reported, node):
        for n in hierarchy.ancestors(reported, include_self=True):
            if n.id == node:
                break
            branch.add(n.id)
    near = frozenset(ident for ident, _, nodes in posts if not branch.isdisjoint(nodes))
    if near:
        return near
    # Nobody on the branch: the officers posted within the nearest node above that has any.
    for enclosing in up:
        within = frozenset(ident for ident, reach, _ in posts if enclosing in reach)
        if within:
            return within
    return frozenset(ident for ident, _, _ in posts)


def _posts(community: Any, department: str) -> list[tuple[str, frozenset[str], tuple[str, ...]]]:
    """Each member of ``department``: their id, every node at or above one of their posts for it, and the
    posts (remembered with ``department_members``' answers: worked out once per department, not per node)."""
    memo = _officers_of(community)
    kept: list[tuple[str, frozenset[str], tuple[str, ...]]] | None = (
        memo.get((department,)) if memo is not None else None)
    if kept is not None:
        return kept
    hierarchy = community.hierarchy
    members = {m if isinstance(m, str) else str(m.id): m for m in community.department_members(department)}
    found: list[tuple[str, frozenset[str], tuple[str, ...]]] = []
    for ident, member in members.items():
        nodes = tuple(r.node for r in getattr(member, "roles", ()) if getattr(r, "department", None) == department)
        reach = frozenset(n.id for post in nodes for n in hierarchy.ancestors(post, include_self=True))
        found.append((ident, reach, nodes))
    if memo is not None:
        memo[(department,)] = found
    return found


def notify(
    community: Any, notice: Notice, reported: str, current: str, rule: RuleRef | None
) -> Notification:
    """Resolve one notice: a line department, a level, or the holders of a role.

    A role with a level is looked up at that level above the reported node
    ("the grid leader" of the reporter's grid); without one, at the node that
    now holds the incident.  A level ("notify community") reaches every staff
    member of that level's node above the reported node.
    """
    if is_department(community, notice.name) and notice.level is None:
        members = tuple(sorted(department_members(community, notice.name, current, reported)))
        return Notification(notice.name, None, members, rule)
    if notice.name in community.hierarchy.levels and notice.level is None:
        # "notify community": everyone holding a staff role at that level's node
        node = node_at_level(community, reported, notice.name) or current
        staff = {h.id for h, role in _holders(community, node) if role != "resident"}
        return Notification(f"the {notice.name}", node, tuple(sorted(staff)), rule)
    node = current
    if notice.level is not None:
        node = node_at_level(community, reported, notice.level) or current
    holders = community.holders(node, notice.name)
    members = tuple(sorted({h if isinstance(h, str) else str(h.id) for h in holders}))
    return Notification(notice.name, node, members, rule)


def _holders(community: Any, node: str) -> list[tuple[Any, str]]:
    """``(member, role)`` for every role held exactly at ``node``."""
    return [(m, a.role) for m in community.holders(node) for a in m.roles if a.node == node]
