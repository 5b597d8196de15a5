"""Who a task goes to: the members holding its roles in the task's subtree.

A task assigned at ``node`` goes to every member holding one of its roles at
``node`` or any node below it; each assignee has one assignment, for the
highest node where they hold such a role (nearest the task's node, then by
node id).  When nobody in the subtree holds a role, the task goes to whoever
answers for the node in that role: the holders at the nearest node above
(``Community.responsible_for``), their assignment being for ``node`` itself;
so a unit's sweep reaches the grid's gridworker.
"""

from __future__ import annotations

from gridcore.community import Community
from gridcore.errors import RosterError
from gridcore.roster import role_id


def role_ids(community: Community, written: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The role ids for roles written by id or Chinese name, and the ones the community does not know."""
    found, unknown = [], []
    for text in written:
        try:
            found.append(role_id(text, community.roles))
        except RosterError:
            unknown.append(text)
    return list(dict.fromkeys(found)), unknown


def assignees(community: Community, node: str, roles: list[str]) -> dict[str, str]:
    """Member id -> the node their assignment is for, in a stable order (by node depth, node id, member)."""
    hierarchy = community.hierarchy
    below = sorted(hierarchy.descendants(node, include_self=True),
                   key=lambda n: (len(hierarchy.ancestors(n.id)), n.id))
    found: dict[str, str] = {}
    for role in roles:
        holders = [(cell.id, member.id) for cell in below for member in community.holders(cell.id, role)]
        if not holders:
            holders = [(node, member.id) for member in community.responsible_for(node, role)]
        for cell, member in holders:
            if member not in found or _higher(community, cell, found[member]):
                found[member] = cell
    order = sorted(found, key=lambda m: (len(hierarchy.ancestors(found[m])), found[m], m))
    return {member: found[member] for member in order}


def _higher(community: Community, cell: str, other: str) -> bool:
    hierarchy = community.hierarchy
    return (len(hierarchy.ancestors(cell)), cell) < (len(hierarchy.ancestors(other)), other)
