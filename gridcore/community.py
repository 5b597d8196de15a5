"""A community: its grid hierarchy, its roster, its time zone and its vocabulary.

``Community`` is a frozen fact checked when it is made: every role sits at a
known node and names a known role, professional gridworkers name a known
department, homes and places sit at known nodes.  Lookups plugins make for
every event (who holds which role where, is this node inside a member's cells)
are indexed once at construction.

``to_document`` / ``from_document`` give a JSON-ready dict and back, exactly:
``Community.from_document(c.to_document()) == c``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs
from cattrs.errors import BaseValidationError

from . import geo
from .classes import frozen
from .errors import RosterError, UnknownMemberError
from .events import SYSTEM_ACTOR
from .geo import Location, locations_from_document, locations_to_document
from .hierarchy import Hierarchy, Node
from .households import (
    CareLink,
    Counts,
    Household,
    Resident,
    care_problem,
    counts_by_node,
    crowded,
    household_problem,
    resident_problem,
)
from .roster import (
    RESIDENT_ROLE,
    ROLES,
    Department,
    Member,
    Place,
    RoleAssignment,
    assignment_problem,
    place_problem,
)

DOCUMENT_VERSION = 1


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def _links(value: Iterable[CareLink]) -> tuple[CareLink, ...]:
    return tuple(value)


def _with_core_roles(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({**ROLES, **(value or {})})


@frozen
class _Index:
    """Lookups computed once per community."""

    holders: Mapping[str, tuple[tuple[Member, str], ...]]
    roles_at: Mapping[str, Mapping[str, tuple[str, ...]]]
    cells: Mapping[str, tuple[str, ...]]
    departments: Mapping[str, tuple[Member, ...]]
    counts: Mapping[str, Counts]
    cared_by: Mapping[str, tuple[str, ...]]
    #: member id -> the nodes where they hold a role other than ``resident`` (members with none left out)
    staff_at: Mapping[str, frozenset[str]]
    tz: ZoneInfo


@frozen
class Community:
    """One community: hierarchy + members + departments + places + time zone.

    ``households`` and their named ``residents`` are the base population as the
    roster files give it (``gridcore.households``); ``care`` says which member
    looks after which households or buildings (包联户).  Mappings are keyed by id.  ``roles`` is the role vocabulary in force (the
    core ``ROLES`` plus the community's own); ``level_names`` gives Chinese
    labels for levels.  Prefer ``Community.build`` with plain lists.
    Hashable (by name, time zone and hierarchy), so it can key a cache.
    """

    name: str
    timezone: str
    hierarchy: Hierarchy
    members: Mapping[str, Member] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    departments: Mapping[str, Department] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    places: Mapping[str, Place] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    roles: Mapping[str, str] = attrs.field(factory=dict, converter=_with_core_roles, hash=False)
    level_names: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    #: node id -> where it is on the map (optional; see ``gridcore.geo``)
    locations: Mapping[str, Location] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    households: Mapping[str, Household] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    residents: Mapping[str, Resident] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    care: tuple[CareLink, ...] = attrs.field(default=(), converter=_links, hash=False)
    #: node id -> when it joined a running store (``gridcore.growth``): only nodes added by a growth
    nodes_joined: Mapping[str, datetime] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    #: member id -> when they joined a running store: only members added by a growth
    members_joined: Mapping[str, datetime] = attrs.field(factory=dict, converter=_frozen_map, hash=False)
    _index: _Index = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check(self)
        object.__setattr__(self, "_index", _build_index(self))

    @classmethod
    def build(
        cls,
        name: str,
        timezone: str,
        hierarchy: Hierarchy,
        members: Iterable[Member] = (),
        departments: Iterable[Department] = (),
        places: Iterable[Place] = (),
        roles: Mapping[str, str] | None = None,
        level_names: Mapping[str, str] | None = None,
        locations: Mapping[str, Location] | None = None,
        households: Iterable[Household] = (),
        residents: Iterable[Resident] = (),
        care: Iterable[CareLink] = (),
        nodes_joined: Mapping[str, datetime] | None = None,
        members_joined: Mapping[str, datetime] | None = None,
    ) -> Community:
        """Make a community from lists, refusing duplicate ids (``RosterError``)."""
        return cls(
            name=name,
            timezone=timezone,
            hierarchy=hierarchy,
            members=_by_id(members, "member"),
            departments=_by_id(departments, "department"),
            places=_by_id(places, "place"),
            roles=roles or {},
            level_names=level_names or {},
            locations=locations or {},
            households=_by_id(households, "household"),
            residents=_by_id(residents, "resident"),
            care=_links(care),
            nodes_joined=nodes_joined or {},
            members_joined=members_joined or {},
        )

    # ------------------------------------------------------------ time

    @property
    def tz(self) -> ZoneInfo:
        """The community's time zone; periods (day, week, month) are computed in it."""
        return self._index.tz  # ZoneInfo(self.timezone), asked for by every event

    def joined(self, node_id: str) -> datetime | None:
        """When ``node_id`` (or the nearest ancestor added with it) joined a running store; None for
        a node there from the start (``gridcore.growth``)."""
        if not self.nodes_joined:
            return None
        for node in self.hierarchy.ancestors(node_id, include_self=True):
            if node.id in self.nodes_joined:
                return self.nodes_joined[node.id]
        return None

    def member_joined(self, member_id: str) -> datetime | None:
        """When ``member_id`` joined a running store; None for a member there from the start."""
        return self.members_joined.get(member_id)

    # ------------------------------------------------------------ queries

    def member(self, member_id: str) -> Member:
        """The member with this id; ``UnknownMemberError`` (a ``RosterError`` and an
        ``UnknownNameError``) if not on the roster."""
        try:
            return self.members[member_id]
        except (KeyError, TypeError):
            raise UnknownMemberError(f"unknown member {member_id!r} (成员编号不存在)") from None

    def find_member(self, written: str) -> Member:
        """The member ``written`` names: their id, else their name on the roster (``白国辉``) when
        one member alone bears it.  ``UnknownMemberError`` otherwise, saying which ids share the
        name or which member was meant (the name resolution of the command line's MEMBER and
        ``--actor``, as ``Hierarchy.find`` is of its nodes)."""
        found = self.members.get(written)
        if found is not None:
            return found
        named = [m for m in self.members.values() if m.name == written]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(m.id for m in named[:8]) + (", ..." if len(named) > 8 else "")
            raise UnknownMemberError(f"{written!r} names {len(named)} members ({ids}): give the member's id "
                                     f"(成员姓名重复，请写成员编号)")
        meant = self.member_meant(written)
        hint, hint_zh = (f"; did you mean {meant!r}?", f"，是不是 '{meant}'？") if meant else ("", "")
        raise UnknownMemberError(f"unknown member {written!r}: no member has that id or name{hint} "
                                 f"(花名册中没有 '{written}' 这个编号或姓名{hint_zh})")

    def member_meant(self, written: str) -> str | None:
        """The member id or name on the roster closest to ``written`` (a typo's did-you-mean), or None."""
        close = difflib.get_close_matches(written, [*self.members, *(m.name for m in self.members.values())],
                                          n=1, cutoff=0.6)
        return close[0] if close else None

    def holders(self, node_id: str, role: str | None = None) -> tuple[Member, ...]:
        """Members holding ``role`` (any role if None) exactly at ``node_id``, roster order."""
        self.hierarchy.node(node_id)
        found: list[Member] = []
        for member, held in self._index.holders.get(node_id, ()):
            if (role is None or held == role) and member not in found:
                found.append(member)
        return tuple(found)

    def responsible_for(self, node_id: str, role: str) -> tuple[Member, ...]:
        """Holders of ``role`` at the nearest node on the way up from ``node_id`` that has any.

        E.g. the grid leader answering for an incident in a unit; () if nobody
        up to the root holds the role.
        """
        for node in self.hierarchy.ancestors(node_id, include_self=True):
            found = self.holders(node.id, role)
            if found:
                return found
        return ()

    def roles_at(self, member_id: str, node_id: str) -> tuple[str, ...]:
        """The roles ``member_id`` holds exactly at ``node_id``."""
        self.member(member_id)
        return self._index.roles_at[member_id].get(node_id, ())

    def holds_role_at_or_above(
        self, member_id: str, node_id: str, roles: Iterable[str] | None = None
    ) -> bool:
        """True if the member holds one of ``roles`` (any if None) at the node or an ancestor.

        False (not an error) for someone not on the roster, e.g. a resident.
        """
        chain = self.hierarchy.ancestors(node_id, include_self=True)
        held_by = self._index.roles_at.get(member_id)
        if not held_by:
            return False
        wanted = None if roles is None else set(roles)
        for node in chain:
            held = held_by.get(node.id, ())
            if held and (wanted is None or not wanted.isdisjoint(held)):
                return True
        return False

    def holds_staff_role_at_or_above(self, member_id: str, node_id: str) -> bool:
        """True if the member holds a role other than ``resident`` at the node or an ancestor.

        ``holds_role_at_or_above`` with every role of the vocabulary but
        ``resident`` (who is staff there: the question of most permissions),
        answered from an index made once.  False for someone not on the roster;
        ``HierarchyError`` for an unknown node.
        """
        staff = self._index.staff_at.get(member_id)
        if staff and node_id in staff:
            return True  # (staff at the node itself, most often: a node of the index is a known one)
        chain = self.hierarchy.ancestors(node_id)
        if not staff:
            return False
        for node in chain:
            if node.id in staff:
                return True
        return False

    def cells_of(self, member_id: str) -> tuple[str, ...]:
        """Nodes where the member holds any role, then their home, without repeats."""
        self.member(member_id)
        return self._index.cells[member_id]

    def is_within_cells(self, member_id: str, node_id: str) -> bool:
        """True if ``node_id`` is one of the member's cells or lies below one."""
        return self.hierarchy.is_within_any(node_id, self._index.cells.get(member_id, ()))

    def department_members(self, department_id: str) -> tuple[Member, ...]:
        """Members holding a role for this department; ``RosterError`` if it is unknown."""
        if department_id not in self.departments:
            raise RosterError(f"unknown department {department_id!r} (部门编号不存在)")
        return self._index.departments.get(department_id, ())

    def leaf_of(self, place_id: str) -> Node:
        """The leaf cell a place belongs to; ``RosterError`` for an unknown place."""
        try:
            place = self.places[place_id]
        except (KeyError, TypeError):
            raise RosterError(f"unknown place {place_id!r} (地址编号不存在)") from None
        return self.hierarchy.node(place.node)

    def cell_at(self, lat: float, lon: float) -> str | None:
        """The node whose location holds the spot (the deepest, then the nearest), or None.

        ``ValueError`` for a latitude/longitude that is no place on Earth.
        """
        hierarchy = self.hierarchy
        depth = {node: hierarchy.level_index(hierarchy.node(node).level) for node in self.locations}
        return geo.cell_at(self.locations, depth, lat, lon)

    def nearest_cells(self, lat: float, lon: float, count: int = 3) -> list[tuple[str, float]]:
        """The located nodes nearest the spot, nearest first, with the distance in metres.

        Leaf cells are preferred (they are where reports belong); other
        located nodes are named only when no leaf has a location.
        """
        leaves = {node.id for node in self.hierarchy.leaves()} & set(self.locations)
        return geo.nearest(self.locations, lat, lon, count, among=leaves or None)

    def counts(self, node_id: str) -> Counts:
        """The planning counts of ``node_id``'s subtree as the roster gives them (events aside)."""
        self.hierarchy.node(node_id)
        return self._index.counts[node_id]

    def looked_after_by(self, member_id: str) -> tuple[str, ...]:
        """The households a member looks after (包联户), directly or through a building, roster order."""
        self.member(member_id)
        return self._index.cared_by.get(member_id, ())

    def level_label(self, level: str) -> str:
        """The Chinese label of a level if declared, else the level id."""
        self.hierarchy.level_index(level)
        return self.level_names.get(level, level)

    # ------------------------------------------------------------ documents

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # Read-only mappings cannot be pickled or deep-copied as they are; the
        # document is an exact, checked copy.
        return (Community.from_document, (self.to_document(),))

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready dict holding everything; ``from_document`` reads it back."""
        extra_roles = {k: v for k, v in self.roles.items() if ROLES.get(k) != v}
        return {
            "version": DOCUMENT_VERSION,
            "name": self.name,
            "timezone": self.timezone,
            "levels": list(self.hierarchy.levels),
            "forest": self.hierarchy.forest,
            "level_names": dict(self.level_names),
            "roles": extra_roles,
            "nodes": [_CONVERTER.unstructure(n) for n in self.hierarchy],
            "departments": [_CONVERTER.unstructure(d) for d in self.departments.values()],
            "members": [_CONVERTER.unstructure(m) for m in self.members.values()],
            "places": [_CONVERTER.unstructure(p) for p in self.places.values()],
            # written only when given, so documents of communities without a map stay as they were
            **({"locations": locations_to_document(self.locations)} if self.locations else {}),
            # likewise households, their named residents and care links
            **({"households": [_CONVERTER.unstructure(h) for h in self.households.values()]}
               if self.households else {}),
            **({"residents": [_CONVERTER.unstructure(r) for r in self.residents.values()]}
               if self.residents else {}),
            **({"care": [_CONVERTER.unstructure(c) for c in self.care]} if self.care else {}),
            # and when what a growth added joined (a store that never grew: no key at all)
            **({"joined": _joined_document(self.nodes_joined, self.members_joined)}
               if self.nodes_joined or self.members_joined else {}),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Community:
        """Rebuild a community from ``to_document``'s dict; ``RosterError`` if it is malformed."""
        try:
            shape = _CONVERTER.structure(dict(doc), _Document)
        except BaseValidationError as exc:
            problems = "; ".join(cattrs.transform_error(exc, path="$"))
            raise RosterError(f"community document is malformed: {problems} (社区文档格式有误)") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise RosterError(f"community document is malformed: {exc} (社区文档格式有误)") from None
        if shape.version != DOCUMENT_VERSION:
            raise RosterError(f"community document version {shape.version} is not supported (不支持这个版本的社区文档)")
        hierarchy = Hierarchy.build(shape.levels, shape.nodes, forest=shape.forest)
        nodes_joined, members_joined = _joined_from_document(shape.joined)
        return cls.build(
            name=shape.name,
            timezone=shape.timezone,
            hierarchy=hierarchy,
            members=shape.members,
            departments=shape.departments,
            places=shape.places,
            roles=shape.roles,
            level_names=shape.level_names,
            locations=locations_from_document(shape.locations),
            households=shape.households,
            residents=shape.residents,
            care=shape.care,
            nodes_joined=nodes_joined,
            members_joined=members_joined,
        )


def _joined_document(nodes: Mapping[str, datetime], members: Mapping[str, datetime]) -> dict[str, dict[str, str]]:
    return {"nodes": {k: v.isoformat() for k, v in nodes.items()},
            "members": {k: v.isoformat() for k, v in members.items()}}


def _joined_from_document(doc: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, datetime], dict[str, datetime]]:
    unknown = set(doc) - {"nodes", "members"}
    if unknown:
        raise RosterError(f"community document is malformed: joined has {sorted(unknown)} besides nodes and members "
                          "(社区文档格式有误)")
    found: list[dict[str, datetime]] = []
    for kind in ("nodes", "members"):
        times: dict[str, datetime] = {}
        for key, text in doc.get(kind, {}).items():
            try:
                times[key] = datetime.fromisoformat(text)
            except (TypeError, ValueError):
                raise RosterError(f"community document is malformed: joined {kind} {key!r}: {text!r} is no time "
                                  "(社区文档格式有误：加入时间不是时间)") from None
        found.append(times)
    return found[0], found[1]


@frozen
class _Document:
    """The shape of a stored community document (what cattrs checks)."""

    name: str
    timezone: str
    levels: list[str]
    nodes: list[Node]
    version: int = DOCUMENT_VERSION
    forest: bool = False
    level_names: dict[str, str] = attrs.field(factory=dict)
    roles: dict[str, str] = attrs.field(factory=dict)
    departments: list[Department] = attrs.field(factory=list)
    members: list[Member] = attrs.field(factory=list)
    places: list[Place] = attrs.field(factory=list)
    locations: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    households: list[Household] = attrs.field(factory=list)
    residents: list[Resident] = attrs.field(factory=list)
    care: list[CareLink] = attrs.field(factory=list)
    joined: dict[str, dict[str, str]] = attrs.field(factory=dict)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)

    def strict(kind: type, label: str) -> Any:
        def check(value: Any, _: type) -> Any:
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise TypeError(f"expected {label}, got {value!r}")
            return value

        return check

    conv.register_structure_hook(str, strict(str, "text"))
    conv.register_structure_hook(bool, strict(bool, "true or false"))
    conv.register_structure_hook(int, strict(int, "a whole number"))
    conv.register_unstructure_hook(Member, lambda m: {
        "id": m.id,
        "name": m.name,
        "phone": m.phone,
        "party_member": m.party_member,
        "home": m.home,
        "roles": [{"role": a.role, "node": a.node, "department": a.department} for a in m.roles],
    })

    return conv


_CONVERTER = _make_converter()


def _by_id(items: Iterable[Any], what: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        if item.id in found:
            raise RosterError(f"duplicate {what} id {item.id!r} ({found[item.id].name} and {item.name}) (编号重复)")
        found[item.id] = item
    return found


def _check(community: Community) -> None:
    """Refuse a community whose parts do not fit together (``RosterError``)."""
    if not isinstance(community.name, str) or not community.name.strip():
        raise RosterError("a community needs a name (社区须有名称)")
    try:
        ZoneInfo(community.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RosterError(
            f"community {community.name}: unknown time zone {community.timezone!r} "
            "(use an IANA name such as Asia/Shanghai) (未知时区，请写 Asia/Shanghai 这样的名称)"
        ) from None
    if not isinstance(community.hierarchy, Hierarchy):
        raise RosterError(f"community {community.name}: hierarchy must be a Hierarchy (hierarchy 须为 Hierarchy)")
    hierarchy = community.hierarchy
    for level in community.level_names:
        if level not in hierarchy.levels:
            raise RosterError(
                f"level_names names unknown level {level!r} (levels are {' > '.join(hierarchy.levels)}) (level_names 中的层级不存在)"
            )
    seen_zh: dict[str, str] = {}
    for ident, zh in community.roles.items():
        if not isinstance(ident, str) or not ident.strip() or not isinstance(zh, str) or not zh.strip():
            raise RosterError(f"role {ident!r}: ids and names must be non-empty text (角色编号和名称须为非空文字)")
        if zh in seen_zh:
            raise RosterError(f"roles {seen_zh[zh]!r} and {ident!r} share the name {zh!r} (两个角色的中文名相同)")
        seen_zh[zh] = ident
    for key, department in community.departments.items():
        _same_key(key, department, Department, "department")
    for key, member in community.members.items():
        _same_key(key, member, Member, "member")
        problem = member_problem(member, community)
        if problem:
            raise RosterError(f"member {member.id!r} ({member.name}): {problem}")
    for key, place in community.places.items():
        _same_key(key, place, Place, "place")
        problem = place_problem(place, hierarchy)
        if problem:
            raise RosterError(problem)
    for node, location in community.locations.items():
        if node not in hierarchy:
            raise RosterError(f"a location is given for unknown node {node!r} (给出位置的节点不存在)")
        if not isinstance(location, Location):
            raise RosterError(f"location of node {node!r}: expected a Location, got {location!r} (位置类型不对)")
    for key, household in community.households.items():
        _same_key(key, household, Household, "household")
        problem = household_problem(household, hierarchy, community.places)
        if problem:
            raise RosterError(problem)
    for key, resident in community.residents.items():
        _same_key(key, resident, Resident, "resident")
        problem = resident_problem(resident, community.households)
        if problem:
            raise RosterError(problem)
        if resident.id in community.members:
            raise RosterError(
                f"resident {resident.id!r} ({resident.name}) has the id of a roster member; "
                "give the resident another id (成员与居民编号重复)"
            )
    problem = crowded(community.households, community.residents.values())
    if problem:
        raise RosterError(problem)
    seen_links: set[CareLink] = set()
    for link in community.care:
        if not isinstance(link, CareLink):
            raise RosterError(f"care links must be CareLink values, got {link!r} (联系户须为 CareLink)")
        problem = care_problem(link, community.members, community.households, community.places)
        if problem:
            raise RosterError(problem)
        if link in seen_links:
            raise RosterError(f"member {link.member!r} looks after {link.target!r} twice (重复包联)")
        seen_links.add(link)
    for what, joined, known in (("node", community.nodes_joined, hierarchy),
                                ("member", community.members_joined, community.members)):
        for key, when in joined.items():
            if key not in known:
                raise RosterError(f"a joining time is given for unknown {what} {key!r} (给出加入时间的编号不存在)")
            if not isinstance(when, datetime) or when.tzinfo is None:
                raise RosterError(f"{what} {key!r} joined at {when!r}: expected a time with its offset "
                                  "(加入时间须为带时区的时间)")


def member_problem(member: Member, community: Community) -> str | None:
    """Why a member does not fit this community (roles, home), or None."""
    if member.id == SYSTEM_ACTOR:
        return (f"the id {SYSTEM_ACTOR!r} is reserved for the events the engine derives itself; "
                f"give this member another id ({SYSTEM_ACTOR} 为系统保留名，请换一个编号)")
    if member.home is not None and member.home not in community.hierarchy:
        return f"home at unknown node {member.home!r} (居住网格的节点编号不存在)"
    seen: set[RoleAssignment] = set()
    for assignment in member.roles:
        problem = assignment_problem(
            assignment, community.hierarchy, community.roles, community.departments
        )
        if problem:
            return problem
        if assignment in seen:
            return f"role {assignment.role} at {assignment.node!r} is listed twice (同一职责重复填写)"
        seen.add(assignment)
    return None


def _same_key(key: str, item: Any, kind: type, what: str) -> None:
    if not isinstance(item, kind):
        raise RosterError(f"{what} {key!r}: expected a {kind.__name__}, got {item!r} (类型不对)")
    ident = getattr(item, "id", None)
    if ident != key:
        raise RosterError(f"{what} {ident!r} is filed under the id {key!r} (编号与登记的键不一致)")


def _build_index(community: Community) -> _Index:
    holders: dict[str, list[tuple[Member, str]]] = {}
    roles_at: dict[str, dict[str, tuple[str, ...]]] = {}
    cells: dict[str, tuple[str, ...]] = {}
    departments: dict[str, list[Member]] = {}
    for member in community.members.values():
        by_node: dict[str, list[str]] = {}
        for assignment in member.roles:
            holders.setdefault(assignment.node, []).append((member, assignment.role))
            held = by_node.setdefault(assignment.node, [])
            if assignment.role not in held:
                held.append(assignment.role)
            if assignment.department is not None:
                members = departments.setdefault(assignment.department, [])
                if member not in members:
                    members.append(member)
        roles_at[member.id] = {node: tuple(held) for node, held in by_node.items()}
        mine = list(by_node)
        if member.home is not None and member.home not in by_node:
            mine.append(member.home)
        cells[member.id] = tuple(mine)
    staff_roles = {role for role in community.roles if role != RESIDENT_ROLE}
    staff_at = {member: frozenset(node for node, held in by_node.items() if not staff_roles.isdisjoint(held))
                for member, by_node in roles_at.items()}
    return _Index(
        holders={k: tuple(v) for k, v in holders.items()},
        roles_at=roles_at,
        cells=cells,
        departments={k: tuple(v) for k, v in departments.items()},
        counts=counts_by_node(community.hierarchy, community.households, community.residents),
        cared_by=care_index(community.care, community.households),
        staff_at={member: nodes for member, nodes in staff_at.items() if nodes},
        tz=ZoneInfo(community.timezone),
    )


def care_index(care: Iterable[CareLink], households: Mapping[str, Household]) -> dict[str, tuple[str, ...]]:
    """Member id -> the households they look after (a building's households through its place)."""
    at_place: dict[str, list[str]] = {}
    for household in households.values():
        if household.place is not None:
            at_place.setdefault(household.place, []).append(household.id)
    found: dict[str, dict[str, None]] = {}  # member -> households in the order first linked
    for link in care:
        mine = found.setdefault(link.member, {})
        targets = [link.household] if link.household is not None else at_place.get(str(link.place), [])
        mine.update((h, None) for h in targets if h is not None and h in households)
    return {member: tuple(ids) for member, ids in found.items()}
