"""People in the grid: members, the roles they hold at nodes, line departments, places.

A member holds any number of roles, each at one node of the hierarchy (a grid
leader of 第一网格, a unit leader of 1单元).  Professional gridworkers (专业网格员)
are sent down by a line department (条线部门: police, urban management, fire),
so their role names it.  Roles are ids from a vocabulary (``ROLES``); Chinese
names are accepted wherever staff type a role (``role_id("网格长")``).

These are plain facts; checking them against a hierarchy happens when a
``Community`` is built (see ``assignment_problem``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .classes import frozen
from .errors import RosterError
from .hierarchy import Hierarchy

PROFESSIONAL_GRIDWORKER = "professional_gridworker"
#: The role that makes someone a resident, not staff, of a cell.
RESIDENT_ROLE = "resident"

#: The core role vocabulary: role id -> Chinese name.  A community may add more.
ROLES: Mapping[str, str] = MappingProxyType({
    "master_grid_leader": "总网格长",
    "grid_leader": "网格长",
    "fulltime_gridworker": "专职网格员",
    "professional_gridworker": "专业网格员",
    "parttime_gridworker": "兼职网格员",
    "unit_leader": "单元长",
    "building_leader": "楼栋长",
    "microgrid_leader": "微网格长",
    "microgridworker": "微网格员",
    "volunteer": "志愿者",
    "resident": "居民",
    "property_manager": "物业人员",
    "committee_member": "两委委员",
})


def _text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RosterError(f"{type(instance).__name__} {attribute.name} must be non-empty text, got {value!r} (须为非空文字)")


def _optional_text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _phone(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise RosterError(f"member phone must be text, got {value!r} (电话须为文字)")


def _flag(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise RosterError(f"member {attribute.name} must be true or false, got {value!r} (应填 是 或 否)")


def _assignments(value: Any) -> tuple[RoleAssignment, ...]:
    return tuple(value)


def _all_assignments(instance: Any, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    for item in value:
        if not isinstance(item, RoleAssignment):
            raise RosterError(f"member roles must be RoleAssignment values, got {item!r} (角色须为 RoleAssignment)")


@frozen
class Department:
    """A line department (条线部门) that sends professional gridworkers down."""

    id: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)


@frozen
class RoleAssignment:
    """A role held at one node; ``department`` says who sent a professional gridworker."""

    role: str = attrs.field(validator=_text)
    node: str = attrs.field(validator=_text)
    department: str | None = attrs.field(default=None, validator=_optional_text)


@frozen
class Member:
    """A person on the roster: staff, volunteers, leaders, residents with a role."""

    id: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)
    roles: tuple[RoleAssignment, ...] = attrs.field(
        default=(), converter=_assignments, validator=_all_assignments
    )
    phone: str = attrs.field(default="", validator=_phone)
    party_member: bool = attrs.field(default=False, validator=_flag)
    #: the node where the member lives, if known
    home: str | None = attrs.field(default=None, validator=_optional_text)


@frozen
class Place:
    """A building, address or site, and the cell (node) it belongs to."""

    id: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)
    node: str = attrs.field(validator=_text)


def role_id(name_or_zh: str, roles: Mapping[str, str] = ROLES) -> str:
    """The role id for an id or a Chinese name (``网格长`` -> ``grid_leader``).

    ``roles`` is the vocabulary in force (a community's ``roles``); an unknown
    role raises ``RosterError`` listing the known ones.
    """
    text = name_or_zh.strip() if isinstance(name_or_zh, str) else name_or_zh
    if text in roles:
        return str(text)
    for ident, zh in roles.items():
        if zh == text:
            return ident
    known = ", ".join(f"{ident} ({zh})" for ident, zh in roles.items())
    raise RosterError(f"unknown role {name_or_zh!r}{_role_meant(str(text), roles)} (known: {known}) (未知角色)")


def _role_meant(written: str, roles: Mapping[str, str]) -> str:
    """A did-you-mean for a misspelt role (专职网格元 -> 专职网格员 fulltime_gridworker), else ""."""
    from .rules.checker import (
        did_you_mean,  # only on this error: the rules package is not loaded for rosters
    )

    close = did_you_mean(written, [*roles, *roles.values()])
    if not close:
        return ""
    ident = close if close in roles else next(i for i, zh in roles.items() if zh == close)
    return f"; did you mean {close!r} ({ident}, {roles[ident]})? (是不是想写“{roles[ident]}”？)"


def assignment_problem(
    assignment: RoleAssignment,
    hierarchy: Hierarchy,
    roles: Mapping[str, str],
    departments: Mapping[str, Department],
) -> str | None:
    """Why a role assignment is invalid in this community, or None if it is fine.

    The role must be in the vocabulary, the node in the hierarchy; a
    professional gridworker needs a department; any department named must exist.
    """
    if assignment.role not in roles:
        return f"unknown role {assignment.role!r} (known: {', '.join(roles)}) (未知角色)"
    if assignment.node not in hierarchy:
        return f"role {assignment.role} at unknown node {assignment.node!r} (节点编号不存在){_named(hierarchy, assignment.node)}"
    if assignment.department is None:
        if assignment.role == PROFESSIONAL_GRIDWORKER:
            return f"a {PROFESSIONAL_GRIDWORKER} (专业网格员) needs a department (at node {assignment.node!r}) (专业网格员须填写部门编号)"
        return None
    if assignment.department not in departments:
        known = ", ".join(f"{d} ({departments[d].name})" for d in departments) or "none declared"
        named = [d for d in departments if departments[d].name == assignment.department]
        hint = (f"; {assignment.department!r} is the name of department {named[0]!r}: write its id "
                f"(请填写部门编号 {named[0]})" if named else "")
        return f"unknown department {assignment.department!r} (known: {known}){hint} (部门编号不存在)"
    return None


def _named(hierarchy: Hierarchy, written: str) -> str:
    """A node written by its name where its id is wanted (第一网格 for g1): which id to write, else ""."""
    ids = [node.id for node in hierarchy if node.name == written]
    if len(ids) == 1:
        return f"; {written!r} is the name of node {ids[0]!r}: write its id (请填写节点编号 {ids[0]})"
    if ids:
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        return f"; {written!r} is the name of {len(ids)} nodes ({shown}): write the id (请填写节点编号)"
    return ""


def place_problem(place: Place, hierarchy: Hierarchy) -> str | None:
    """Why a place is invalid in this hierarchy (unknown node, not a cell), or None."""
    if place.node not in hierarchy:
        return f"place {place.id!r} ({place.name}) at unknown node {place.node!r} (节点编号不存在){_named(hierarchy, place.node)}"
    if not hierarchy.is_cell(place.node):
        return (
            f"place {place.id!r} ({place.name}) must sit in a leaf cell, but node "
            f"{place.node!r} has cells below it (地址须在最小网格中)"
        )
    return None
