"""Load and save a community the way staff keep it: a YAML file plus CSV sheets.

A community folder holds ``community.yaml`` (name, timezone, levels, optional
``level_names``, extra ``roles`` and ``forest``) and optionally ``nodes.csv``,
``members.csv``, ``roles.csv``, ``departments.csv`` and ``places.csv``, and the
base population: ``households.csv`` (户), ``residents.csv`` (the people known by
name) and ``care.csv`` (包联户: who looks after which households or buildings).
Each list may instead be written inline in ``community.yaml`` (``nodes:``,
``members:`` with each member's ``roles:``, ``assignments:``, ``departments:``,
``places:``, ``households:``, ``residents:``, ``care:``), but not both ways at once.  A path to a single ``.yaml`` file
works too.  Cells may be put on the map: a point per node (``lat``, ``lon``
and optionally ``radius`` columns of ``nodes.csv``, or the same keys inline)
or GeoJSON boundaries in ``cells.geojson`` beside ``community.yaml`` (inline:
a node's ``geometry``).  See docs/community.md for the formats.

Every error names the file and the row (CSV: the spreadsheet row, header = row
1) or the line (YAML), and a roster with several mistakes names them all at
once (``_Mistakes``: each wrong cell of each row, in the file's order, rows that
name a failed one counted, not repeated; ``RosterError.problems``).  Empty
cells mean "not given".  ``save_community`` writes
the same format back, and loading what it wrote gives an equal community: a
text cell a spreadsheet would run as a formula (``=HYPERLINK(...)`` as a
name) is written with a leading apostrophe, which reading drops again.

YAML is read safely and boundedly (``load_yaml``): no Python objects, and a
file whose aliases expand past ``MAX_YAML_VALUES`` values is refused before it
is built.  Messages show values cut short (``shown``).  ``build_community`` is
the builder every roster format shares (the workbook reader in
``gridcore_app.rosterbook`` uses it too).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import attrs
import yaml

from gridcore.classes import frozen
from gridcore.community import Community
from gridcore.errors import (
    GridcoreError,
    HierarchyError,
    RosterError,
    RosterHierarchyError,
    RosterProblem,
    has_chinese,
)
from gridcore.geo import Location
from gridcore.hierarchy import DEDICATED, INDUSTRY, TERRITORIAL, Hierarchy, Node
from gridcore.households import (
    MOST_PEOPLE,
    CareLink,
    Household,
    Resident,
    care_problem,
    household_problem,
    resident_problem,
)
from gridcore.reports import from_spreadsheet_text, printable, spreadsheet_text
from gridcore.roster import (
    ROLES,
    Department,
    Member,
    Place,
    RoleAssignment,
    assignment_problem,
    place_problem,
    role_id,
)

from . import atomic

_T = TypeVar("_T")

COMMUNITY_FILE = "community.yaml"
#: Cell boundaries (or points) as a GeoJSON FeatureCollection; each feature's ``properties.id`` names its node.
GEOMETRY_FILE = "cells.geojson"
#: The optional columns of nodes.csv that put a node on the map as a point.
POINT_COLUMNS = ("lat", "lon", "radius")

#: Each list kept as a CSV sheet: its columns, in the order ``save_community`` writes them.
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "nodes": ("id", "name", "level", "parent", "kind", *POINT_COLUMNS),
    "members": ("id", "name", "phone", "party_member", "home"),
    "roles": ("member", "role", "node", "department"),
    "departments": ("id", "name"),
    "places": ("id", "name", "node"),
    "households": ("id", "name", "node", "place", "people", "floating"),
    "residents": ("id", "name", "household", "floating", "key_person", "special_group"),
    "care": ("member", "household", "place"),
}
#: The lists written only when a community has them (older folders stay as they were).
OPTIONAL_SHEETS = ("households", "residents", "care")
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "nodes": ("id", "name", "level"),
    "members": ("id", "name"),
    "roles": ("member", "role", "node"),
    "departments": ("id", "name"),
    "places": ("id", "name", "node"),
    "households": ("id", "name"),
    "residents": ("id", "name", "household"),
    "care": ("member",),
}
#: The inline key in community.yaml for each sheet (``roles`` there is the vocabulary).
INLINE_KEY: Mapping[str, str] = {
    "nodes": "nodes",
    "members": "members",
    "roles": "assignments",
    "departments": "departments",
    "places": "places",
    "households": "households",
    "residents": "residents",
    "care": "care",
}
TOP_KEYS = ("name", "timezone", "levels", "level_names", "roles", "forest", *INLINE_KEY.values())

KIND_WORDS: Mapping[str, str] = {
    TERRITORIAL: TERRITORIAL, "属地": TERRITORIAL, "属地网格": TERRITORIAL,
    INDUSTRY: INDUSTRY, "行业": INDUSTRY, "行业网格": INDUSTRY,
    DEDICATED: DEDICATED, "专属": DEDICATED, "专属网格": DEDICATED,
}
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "党员"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否"})


@frozen
class _Row:
    """One record read from a sheet or from an inline list, and where it came from.

    ``cells`` names the cell of each column where a reader knows it (a
    workbook's ``column C``), so a bad value is reported at its cell.
    """

    where: str
    values: Mapping[str, Any]
    cells: Mapping[str, str] = attrs.field(factory=dict)

    def at(self, column: str) -> str:
        """Where the value of ``column`` was read: the row, and its cell if known."""
        cell = self.cells.get(column)
        return f"{self.where}, {cell}" if cell else self.where


# ------------------------------------------------------------------ every mistake at once

#: A roster's error lists at most this many mistakes; the rest are counted.
MOST_SHOWN = 50

#: The lists whose rows others name, by the id they are named by: a row that names one that failed is not checked.
_NAMED_LISTS = ("nodes", "members", "departments", "places", "households")

_WORKBOOK_PLACE = re.compile(
    r"^(?P<source>[^,\n]+?), sheet (?P<sheet>[^,\n]+?)(?:, row (?P<row>\d+))?"
    r"(?:, column (?P<column>[A-Z]{1,3})(?: \((?P<field>\w+)\))?)?: "
)
_FILE_PLACE = re.compile(
    r"^(?P<source>[^:\n]+?\.(?:csv|ya?ml|geojson|xlsx))"
    r"(?:(?: row |:| feature )(?P<row>\d+)(?::\d+)?)?: "
)


def problem_of(message: str) -> RosterProblem:
    """A mistake's message (``roster.xlsx, sheet 节点 nodes, row 3, column C (level): ...``) as a
    ``RosterProblem``: where it was read, in English and Chinese, and what is wrong."""
    found = _WORKBOOK_PLACE.match(message)
    if found is not None:
        sheet, row, column, field = found["sheet"], found["row"], found["column"], found["field"]
        named = [word for word in sheet.split() if any(has_chinese(ch) for ch in word)]
        where_zh = f"{named[0] if named else sheet} 表"
        if row:
            where_zh += f"第 {row} 行"
        if column:
            where_zh += f" {column} 列"
        heading = _heading_zh(sheet, field) if field else None
        if heading:
            where_zh += f"（{heading}）"
        return RosterProblem(
            where=message[: found.end() - 2], problem=message[found.end():], where_zh=where_zh,
            source=found["source"], sheet=sheet, row=int(row) if row else None, column=column, field=field,
        )
    found = _FILE_PLACE.match(message)
    if found is not None:
        source, row = found["source"], found["row"]
        kind = "个要素" if " feature " in message[: found.end()] else "行"
        return RosterProblem(
            where=message[: found.end() - 2], problem=message[found.end():],
            where_zh=f"{source} 第 {row} {kind}" if row else source, source=source,
            row=int(row) if row else None,
        )
    return RosterProblem(where="", problem=message)


def _heading_zh(sheet: str, field: str) -> str | None:
    """The Chinese heading of a workbook column (``层级`` for ``level`` in 节点 nodes)."""
    from .rosterbook import HEADINGS, _sheet_key  # the workbook's headings (it imports this module)

    key = _sheet_key(sheet)
    return HEADINGS.get(key or "", {}).get(field)


class _Mistakes:
    """The mistakes found reading one roster, and the ids of what failed.

    A row that names a node, member, department, place or household whose own row failed is
    not checked (its mistake would only repeat that one): it is counted in ``skipped``, and the
    error says how many.  ``check`` raises the ``RosterError`` of every mistake, in the file's
    order (``order``: the sources, and the sheets of a workbook, as the file has them).
    """

    def __init__(self, label: str, order: Iterable[str] = ()) -> None:
        self.label = label
        self.order = list(order)
        self.errors: list[GridcoreError] = []
        self.skipped = 0
        #: a list could not be read at all: its rows cannot be checked against the others
        self.unreadable = False
        self.failed: dict[str, set[str]] = {name: set() for name in _NAMED_LISTS}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, error: GridcoreError) -> None:
        self.errors.append(error)

    def row(self, row: _Row | None = None, failing: str | None = None, known: Container[str] = ()) -> _Caught:
        """A block whose mistake is recorded, not raised: the row's id then fails (``failing`` names
        its list) unless it is one already read (a duplicate: the first one stands)."""
        return _Caught(self, row, failing, known)

    def fail(self, error: GridcoreError, row: _Row | None = None, failing: str | None = None,
             known: Container[str] = ()) -> None:
        """Record ``error``, a mistake of ``row`` (whose id then fails, as ``row`` says)."""
        self.add(error)
        ident = _raw(row, "id") if row is not None else None
        if failing is not None and ident is not None and ident not in known:
            self.failed[failing].add(ident)

    def attempt(self, make: Callable[[], _T], default: _T) -> _T:
        """``make()``, or ``default`` with its mistake recorded."""
        try:
            return make()
        except (RosterError, HierarchyError) as exc:
            self.add(exc)
            return default

    def depends(self, row: _Row, **columns: str) -> bool:
        """True (and the row counted as not checked) if the row names, in the column given for a list
        (``nodes="node"``), something of that list whose own row failed."""
        return bool(self.errors) and self.names_failed(**{kind: _raw(row, column) for kind, column in columns.items()})

    def names_failed(self, **named: str | None) -> bool:
        """True (and counted as not checked) if any of these ids (``nodes="g1"``) is one whose own row failed."""
        if any(ident is not None and ident in self.failed[kind] for kind, ident in named.items()):
            self.skipped += 1
            return True
        return False

    def check(self) -> None:
        """Raise the ``RosterError`` of every mistake found, if any."""
        if not self.errors:
            return
        problems = sorted((problem_of(str(error)) for error in self.errors), key=self._place)
        count = len(problems)
        notes = []
        if count > MOST_SHOWN:
            notes.append(f"and {count - MOST_SHOWN} more (另有 {count - MOST_SHOWN} 处错误未列出)")
        if self.skipped:
            notes.append(f"{self.skipped} rows naming a node, member, department, place or household whose own row "
                         f"is wrong were not checked ({self.skipped} 行引用了出错的行，未检查)")
        if count == 1:
            lines = [str(problems[0]), *(f"  {note}" for note in notes)]
        else:
            lines = [f"{count} mistakes in {self.label} (花名册 {self.label} 有 {count} 处错误)",
                     *(f"  {problem}" for problem in problems[:MOST_SHOWN]), *(f"  {note}" for note in notes)]
        hierarchy = any(isinstance(error, HierarchyError) for error in self.errors)
        cls = RosterHierarchyError if hierarchy else RosterError
        raise cls("\n".join(lines), problems)

    def _place(self, problem: RosterProblem) -> tuple[int, int]:
        """Where a mistake sorts: its source (and sheet) in the file's order, then its row."""
        for n, name in enumerate(self.order):
            if name in (problem.source, problem.sheet):
                return (n, problem.row or 0)
        return (len(self.order), problem.row or 0)


class _Cells:
    """A row's cells read one by one: each cell's mistake is kept, and ``done`` raises them together,
    so a row with two wrong cells names both."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[GridcoreError] = []

    def read(self, read: Callable[..., _T], *args: Any, **options: Any) -> _T | None:
        """``read(*args, **options)``, or None with its mistake kept."""
        try:
            return read(*args, **options)
        except _Several as several:
            self.errors.extend(several.errors)
        except (RosterError, HierarchyError) as exc:
            self.errors.append(exc)
        return None

    def done(self) -> None:
        """Raise the mistakes of the cells read, if any."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise _Several(self.errors)


class _Several(RosterError):
    """The mistakes of several cells of one row (``_Cells``), each recorded on its own."""

    def __init__(self, errors: list[GridcoreError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class _Caught:
    """``_Mistakes.row``'s block: a roster mistake raised in it is recorded and the block left."""

    __slots__ = ("failing", "known", "mistakes", "row")

    def __init__(self, mistakes: _Mistakes, row: _Row | None, failing: str | None, known: Container[str]) -> None:
        self.mistakes, self.row, self.failing, self.known = mistakes, row, failing, known

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> bool:
        if not isinstance(error, RosterError | HierarchyError):
            return False
        for each in error.errors if isinstance(error, _Several) else [error]:
            self.mistakes.fail(each, self.row, self.failing, self.known)
        return True


def _raw(row: _Row, column: str) -> str | None:
    """A cell's text as written (stripped), without checking it: what other rows name it by."""
    value = row.values.get(column)
    if value is None or isinstance(value, (bool, Mapping, list)):
        return None
    return str(value).strip() or None


# ------------------------------------------------------------------ loading


def load_community(path: Path | str) -> Community:
    """Read a community folder (or a single ``community.yaml``-style file).

    Raises ``RosterError`` / ``HierarchyError`` naming the file and row or line; a roster
    with several mistakes raises one ``RosterError`` listing them all (``problems``).
    """
    given = Path(path)
    if given.is_dir():
        yaml_path = given / COMMUNITY_FILE
        if not yaml_path.exists() and (given / "community.yml").exists():
            yaml_path = given / "community.yml"
        if not yaml_path.exists():
            raise RosterError(f"{given}: no {COMMUNITY_FILE} in this folder (文件夹中没有 community.yaml)")
    elif given.exists():
        yaml_path = given
    else:
        raise RosterError(f"{given}: no such community folder or file (社区文件夹或文件不存在)")
    top = _read_yaml(yaml_path)
    label = yaml_path.name
    order = [label, *(f"{sheet}.csv" for sheet in COLUMNS), GEOMETRY_FILE]
    mistakes = _Mistakes(label if given.is_file() else f"{given.resolve().name}/", order)
    for key in top:
        if key not in TOP_KEYS:
            mistakes.add(RosterError(f"{label}:{_line(top, key)}: unknown key {shown(key)} "
                                     f"(expected some of {', '.join(TOP_KEYS)}) (未知的键)"))
    sheets = {sheet: _records(sheet, top, yaml_path, mistakes) for sheet in COLUMNS}
    return build_community(top, sheets, label, lambda key: f"{label}:{_line(top, key)}",
                           geometry=yaml_path.parent / GEOMETRY_FILE, mistakes=mistakes)


def build_community(
    top: Mapping[str, Any],
    sheets: Mapping[str, list[_Row]],
    label: str,
    where: Callable[[str], str],
    *,
    geometry: Path | None = None,
    mistakes: _Mistakes | None = None,
) -> Community:
    """Build a community from its settings (``name``, ``timezone``, ``levels``, ...) and lists.

    Shared by every roster format: ``where(key)`` says where a setting was
    read (``community.yaml:3``, ``roster.xlsx, sheet community, row 3``) and
    each row carries its own place; ``geometry`` is a GeoJSON file of cell
    boundaries, if the format keeps one.  Every mistake is found before one is
    raised: ``mistakes`` holds those the reader found already (a sheet it could
    not read stops here, before the rows are checked against each other).
    Raises ``RosterError``/``HierarchyError``.
    """
    found = mistakes if mistakes is not None else _Mistakes(label)
    name = found.attempt(lambda: _required(top.get("name"), where("name"), "name"), "")
    timezone = found.attempt(lambda: _required(top.get("timezone"), where("timezone"), "timezone"), "")
    no_levels: tuple[str, ...] = ()
    no_names: dict[str, str] = {}
    levels = found.attempt(lambda: _levels(top, where("levels")), no_levels)
    level_names = found.attempt(lambda: _str_map(top.get("level_names"), where("level_names"), "level_names"), no_names)
    extra_roles = found.attempt(lambda: _str_map(top.get("roles"), where("roles"), "roles"), dict(no_names))
    forest = top.get("forest", False)
    if not isinstance(forest, bool):
        found.add(RosterError(f"{where('forest')}: forest must be true or false, got {shown(forest)} (应填 是 或 否)"))
        forest = False
    if found and (not levels or found.unreadable):
        found.check()  # no levels, or a list not read: the rows cannot be checked against each other
    vocabulary = {**ROLES, **extra_roles}

    departments = _departments(sheets.get("departments", []), found)
    hierarchy = _hierarchy(sheets.get("nodes", []), levels, level_names, forest, found)
    members = _members(sheets.get("members", []), hierarchy, vocabulary, departments, found)
    _add_assignments(sheets.get("roles", []), members, hierarchy, vocabulary, departments, found)
    places = _places(sheets.get("places", []), hierarchy, found)
    locations = _locations(sheets.get("nodes", []), geometry, hierarchy, found)
    households = _households(sheets.get("households", []), hierarchy, {p.id: p for p in places}, found)
    residents = _residents(sheets.get("residents", []), households, members, found)
    care = _care(sheets.get("care", []), members, households, {p.id: p for p in places}, found)
    found.check()
    try:
        return Community.build(
            name=name,
            timezone=timezone,
            hierarchy=hierarchy,
            members=members.values(),
            departments=departments.values(),
            places=places,
            roles=extra_roles,
            level_names=level_names,
            locations=locations,
            households=households.values(),
            residents=residents,
            care=care,
        )
    except GridcoreError as exc:
        raise type(exc)(f"{label}: {exc}") from None


def _levels(top: Mapping[str, Any], where: str) -> tuple[str, ...]:
    raw = top.get("levels")
    if isinstance(raw, str):  # "community > grid > unit", as staff say it
        raw = raw.split(">")
    if not isinstance(raw, list) or not raw:
        raise RosterError(
            f"{where}: levels must be a list of level names, top to bottom, e.g. [community, grid, unit] (levels 应为层级名称列表，从高到低)"
        )
    levels = tuple(_required(level, where, "level") for level in raw)
    for n, level in enumerate(levels):
        if level in levels[:n]:
            raise RosterError(f"{where}: level {shown(level)} is declared twice (层级重复声明)")
    return levels


def _departments(rows: list[_Row], mistakes: _Mistakes) -> dict[str, Department]:
    found: dict[str, Department] = {}
    first: dict[str, str] = {}
    for row in rows:
        with mistakes.row(row, "departments", found):
            cells = _Cells()
            ident, name = cells.read(_field, row, "id"), cells.read(_field, row, "name")
            cells.done()
            department = _make(Department, row, id=ident, name=name)
            if department.id in found:
                raise RosterError(f"{row.where}: duplicate department id {shown(department.id)} (first at {first[department.id]}) (部门编号重复)")
            found[department.id] = department
            first[department.id] = row.where
    return found


def _hierarchy(
    rows: list[_Row], levels: tuple[str, ...], level_names: Mapping[str, str], forest: bool, mistakes: _Mistakes
) -> Hierarchy:
    by_label = {label: level for level, label in level_names.items()}
    nodes: list[Node] = []
    where: dict[str, str] = {}
    parents: dict[str, str] = {}  # the cell of each node's parent: what the tree's refusals are about
    for row in rows:
        with mistakes.row(row, "nodes", where):
            cells = _Cells()
            ident, name = cells.read(_field, row, "id"), cells.read(_field, row, "name")
            level = cells.read(_level_of, row, levels, level_names, by_label)
            parent = cells.read(_field, row, "parent", optional=True)
            kind = cells.read(_kind_of, row)
            cells.done()
            node = _make(Node, row, id=ident, name=name, level=level, parent=parent, kind=kind)
            if node.id in where:
                raise HierarchyError(f"{row.where}: duplicate node id {shown(node.id)} (first at {where[node.id]}) (节点编号重复)")
            where[node.id] = row.where
            parents[node.id] = row.at("parent")
            nodes.append(node)
    while True:
        nodes = _without_dependants(nodes, mistakes)
        if not nodes:
            if not mistakes:
                raise HierarchyError("no nodes: give nodes.csv or a nodes: list in community.yaml (没有节点：请提供 nodes.csv 或在 community.yaml 中写 nodes 列表)")
            mistakes.check()
        try:
            return Hierarchy.build(levels, nodes, forest=forest, sources=parents)
        except HierarchyError as exc:
            mistakes.add(exc)
            if exc.node is None:
                mistakes.check()
            mistakes.failed["nodes"].add(str(exc.node))
            nodes = [node for node in nodes if node.id != exc.node]


def _level_of(row: _Row, levels: tuple[str, ...], level_names: Mapping[str, str], by_label: Mapping[str, str]) -> str:
    """A node row's level (by its id or the Chinese name the roster gives it)."""
    level = _required(row.values.get("level"), row.at("level"), "level")
    if level not in levels and level in by_label:
        level = by_label[level]
    if level not in levels and levels:
        raise HierarchyError(_unknown_level(row, level, levels, level_names))
    return level


def _kind_of(row: _Row) -> str:
    """A node row's kind: territorial (the default), industry or dedicated, in English or Chinese."""
    kind_text = _field(row, "kind", optional=True)
    if kind_text is None:
        return TERRITORIAL
    if kind_text.lower() not in KIND_WORDS:
        raise HierarchyError(
            f"{row.at('kind')}: unknown kind {shown(kind_text)} (expected territorial, industry or dedicated) (类型应为 属地、行业 或 专属)"
        )
    return KIND_WORDS[kind_text.lower()]


def _without_dependants(nodes: list[Node], mistakes: _Mistakes) -> list[Node]:
    """``nodes`` without those under a node that failed (each counted as not checked)."""
    failed = mistakes.failed["nodes"]
    while True:
        kept = [node for node in nodes if node.parent is None or node.parent not in failed]
        if len(kept) == len(nodes):
            return kept
        for node in nodes:
            if node.parent is not None and node.parent in failed:
                failed.add(node.id)
                mistakes.skipped += 1
        nodes = kept


def _unknown_level(row: _Row, level: str, levels: tuple[str, ...], level_names: Mapping[str, str]) -> str:
    """A node row's unknown level, at its cell, with the levels by id and by the Chinese names the
    roster gives them (staff fill in 社区, not community) and the likely one meant."""
    node = f"node {shown(row.values.get('id'))} ({row.values.get('name')}): " if row.values.get("id") else ""
    from gridcore.rules.checker import did_you_mean

    named = [f"{lvl} ({level_names[lvl]})" if level_names.get(lvl, lvl) != lvl else lvl for lvl in levels]
    written = [level_names.get(lvl, lvl) for lvl in levels]
    close = did_you_mean(level, [*written, *levels])
    mean = f"; did you mean {shown(close)}?" if close else ""
    mean_zh = f"，是不是 {close}？" if close else ""
    return (f"{row.at('level')}: {node}unknown level {shown(level)} (levels are {' > '.join(named)}{mean}) "
            f"(未知层级：层级应填 {'、'.join(written)} 之一{mean_zh})")


def _members(
    rows: list[_Row],
    hierarchy: Hierarchy,
    vocabulary: Mapping[str, str],
    departments: Mapping[str, Department],
    mistakes: _Mistakes,
) -> dict[str, Member]:
    members: dict[str, Member] = {}
    where: dict[str, str] = {}
    for row in rows:
        with mistakes.row(row, "members", members):
            assignments: list[RoleAssignment] = []
            nested = row.values.get("roles")
            if nested is not None:
                if not isinstance(nested, list):
                    raise RosterError(f"{row.where}: a member's roles must be a list of {{role, node}} entries (成员的角色应为 {{role, node}} 列表)")
                for item in nested:
                    sub = _Row(_where_in(row.where, item), _mapping(item, row.where, "role"))
                    if mistakes.depends(sub, nodes="node", departments="department"):
                        continue
                    with mistakes.row():
                        _only(sub, ("role", "node", "department"))
                        assignments.append(_assignment(sub, hierarchy, vocabulary, departments))
            cells = _Cells()
            ident, name = cells.read(_field, row, "id"), cells.read(_field, row, "name")
            phone = cells.read(_field, row, "phone", optional=True)
            party_member = cells.read(_flag, row, "party_member")
            home = cells.read(_home_of, row, hierarchy, mistakes)
            cells.done()
            member = _make(Member, row, id=ident, name=name, roles=tuple(assignments), phone=phone or "",
                           party_member=party_member, home=home)
            if member.id in members:
                raise RosterError(f"{row.where}: duplicate member id {shown(member.id)} (first at {where[member.id]}) (成员编号重复)")
            _no_repeats(member, row.where)
            members[member.id] = member
            where[member.id] = row.where
    return members


def _home_of(row: _Row, hierarchy: Hierarchy, mistakes: _Mistakes) -> str | None:
    """A member row's home node, if given (None, not checked, when that node's own row failed)."""
    home = _field(row, "home", optional=True)
    if home is None or mistakes.names_failed(nodes=home):
        return None
    if home not in hierarchy:
        raise RosterError(f"{row.at('home')}: member {shown(_raw(row, 'id'))}: home at unknown node {shown(home)} (居住网格的节点编号不存在)")
    return home


def _add_assignments(
    rows: list[_Row],
    members: dict[str, Member],
    hierarchy: Hierarchy,
    vocabulary: Mapping[str, str],
    departments: Mapping[str, Department],
    mistakes: _Mistakes,
) -> None:
    for row in rows:
        if mistakes.depends(row, members="member", nodes="node", departments="department"):
            continue
        with mistakes.row(row):
            cells = _Cells()
            member_id = cells.read(_member_of, row, members)
            assignment = cells.read(_assignment, row, hierarchy, vocabulary, departments)
            cells.done()
            assert member_id is not None and assignment is not None
            member = attrs.evolve(members[member_id], roles=(*members[member_id].roles, assignment))
            _no_repeats(member, row.where)
            members[member_id] = member


def _member_of(row: _Row, members: Mapping[str, Member]) -> str:
    """The member a roles row names, who must be on the members list."""
    member_id = _required(row.values.get("member"), row.at("member"), "member")
    if member_id not in members:
        raise RosterError(f"{row.at('member')}: unknown member {shown(member_id)} (not in the members list) (成员编号不在成员表中)")
    return member_id


def _assignment(
    row: _Row,
    hierarchy: Hierarchy,
    vocabulary: Mapping[str, str],
    departments: Mapping[str, Department],
) -> RoleAssignment:
    cells = _Cells()
    role = cells.read(_role_of, row, vocabulary)
    node = cells.read(_field, row, "node")
    department = cells.read(_field, row, "department", optional=True)
    cells.done()
    assignment = _make(RoleAssignment, row, role=role, node=node, department=department)
    problem = assignment_problem(assignment, hierarchy, vocabulary, departments)
    if problem:
        # the cell at fault, where one is (a workbook's column letter)
        cell = ("node" if assignment.node not in hierarchy else
                "department" if assignment.department is not None and assignment.department not in departments
                else None)
        raise RosterError(f"{row.at(cell) if cell else row.where}: {problem}")
    return assignment


def _role_of(row: _Row, vocabulary: Mapping[str, str]) -> str:
    """A roles row's role id, from its id or its Chinese name."""
    role_text = _required(row.values.get("role"), row.at("role"), "role")
    try:
        return role_id(role_text, vocabulary)
    except RosterError as exc:
        raise RosterError(f"{row.at('role')}: {exc}") from None


def _no_repeats(member: Member, where: str) -> None:
    if len(set(member.roles)) != len(member.roles):
        raise RosterError(f"{where}: member {shown(member.id)} holds the same role at the same node twice (同一职责重复填写)")


def _places(rows: list[_Row], hierarchy: Hierarchy, mistakes: _Mistakes) -> list[Place]:
    places: list[Place] = []
    first: dict[str, str] = {}
    for row in rows:
        if mistakes.depends(row, nodes="node"):
            mistakes.failed["places"].add(_raw(row, "id") or "")
            continue
        with mistakes.row(row, "places", first):
            cells = _Cells()
            ident, name, node = (cells.read(_field, row, column) for column in ("id", "name", "node"))
            cells.done()
            place = _make(Place, row, id=ident, name=name, node=node)
            if place.id in first:
                raise RosterError(f"{row.where}: duplicate place id {shown(place.id)} (first at {first[place.id]}) (地址编号重复)")
            problem = place_problem(place, hierarchy)
            if problem:
                raise RosterError(f"{row.where}: {problem}")
            first[place.id] = row.where
            places.append(place)
    return places


def _households(
    rows: list[_Row], hierarchy: Hierarchy, places: Mapping[str, Place], mistakes: _Mistakes
) -> dict[str, Household]:
    found: dict[str, Household] = {}
    first: dict[str, str] = {}
    for row in rows:
        if mistakes.depends(row, nodes="node", places="place"):
            mistakes.failed["households"].add(_raw(row, "id") or "")
            continue
        with mistakes.row(row, "households", found):
            cells = _Cells()
            ident, name = cells.read(_field, row, "id"), cells.read(_field, row, "name")
            node = cells.read(_field, row, "node", optional=True)
            place = cells.read(_field, row, "place", optional=True)
            people = cells.read(_whole, row, "people", default=1)
            floating = cells.read(_flag, row, "floating")
            cells.done()
            if node is None and place is not None and place in places:
                node = places[place].node  # the address says which cell
            if node is None:
                raise RosterError(f"{row.where}: give the household's node or its place (请填写节点编号或地址编号)")
            household = _make(Household, row, id=ident, name=name, node=node, place=place, people=people,
                              floating=floating)
            if household.id in found:
                raise RosterError(f"{row.where}: duplicate household id {shown(household.id)} "
                                  f"(first at {first[household.id]}) (户编号重复)")
            problem = household_problem(household, hierarchy, places)
            if problem:
                raise RosterError(f"{row.where}: {problem}")
            first[household.id] = row.where
            found[household.id] = household
    return found


def _residents(
    rows: list[_Row], households: Mapping[str, Household], members: Mapping[str, Member], mistakes: _Mistakes
) -> list[Resident]:
    found: list[Resident] = []
    first: dict[str, str] = {}
    named: dict[str, int] = {}
    for row in rows:
        if mistakes.depends(row, households="household"):
            continue
        with mistakes.row(row):
            cells = _Cells()
            ident, name, household_id = (cells.read(_field, row, column) for column in ("id", "name", "household"))
            floating, key_person = cells.read(_flag, row, "floating"), cells.read(_flag, row, "key_person")
            special_group = cells.read(_field, row, "special_group", optional=True)
            cells.done()
            resident = _make(Resident, row, id=ident, name=name, household=household_id, floating=floating,
                             key_person=key_person, special_group=special_group)
            if resident.id in first:
                raise RosterError(f"{row.where}: duplicate resident id {shown(resident.id)} "
                                  f"(first at {first[resident.id]}) (居民编号重复)")
            problem = resident_problem(resident, households)
            if problem:
                raise RosterError(f"{row.where}: {problem}")
            if resident.id in members or resident.id in mistakes.failed["members"]:
                raise RosterError(f"{row.where}: resident {shown(resident.id)} has the id of a roster member; "
                                  "give the resident another id (成员与居民编号重复)")
            named[resident.household] = named.get(resident.household, 0) + 1
            household = households[resident.household]
            if named[household.id] > household.people:
                raise RosterError(f"{row.where}: household {shown(household.id)} has {household.people} people "
                                  f"but this is its resident number {named[household.id]} (在册成员多于户人口)")
            first[resident.id] = row.where
            found.append(resident)
    return found


def _care(
    rows: list[_Row],
    members: Mapping[str, Member],
    households: Mapping[str, Household],
    places: Mapping[str, Place],
    mistakes: _Mistakes,
) -> list[CareLink]:
    found: list[CareLink] = []
    first: dict[CareLink, str] = {}
    for row in rows:
        if mistakes.depends(row, members="member", households="household", places="place"):
            continue
        with mistakes.row(row):
            cells = _Cells()
            member_id = cells.read(_field, row, "member")
            household_id, place_id = (cells.read(_field, row, column, optional=True) for column in ("household", "place"))
            cells.done()
            link = _make(CareLink, row, member=member_id, household=household_id, place=place_id)
            problem = care_problem(link, members, households, places)
            if problem:
                raise RosterError(f"{row.where}: {problem}")
            if link in first:
                raise RosterError(f"{row.where}: the same care link as {first[link]} (重复包联)")
            first[link] = row.where
            found.append(link)
    return found


def _whole(row: _Row, column: str, *, default: int) -> int:
    number = _number(row, column)
    if number is None:
        return default
    if number != int(number) or not 1 <= number <= MOST_PEOPLE:
        raise RosterError(f"{row.at(column)}: {column} must be a whole number from 1 to {MOST_PEOPLE}, "
                          f"got {shown(row.values.get(column))} (应为 1 到 {MOST_PEOPLE} 的整数)")
    return int(number)


def _locations(
    rows: list[_Row], geometry_path: Path | None, hierarchy: Hierarchy, mistakes: _Mistakes
) -> dict[str, Location]:
    """Points from the nodes' ``lat``/``lon``/``radius``, shapes from ``geometry`` or cells.geojson."""
    found: dict[str, Location] = {}
    where: dict[str, str] = {}
    seen: set[str] = set()
    for row in rows:
        node = _raw(row, "id")
        if node is None or node in mistakes.failed["nodes"] or node not in hierarchy or node in seen:
            continue  # its row's mistake is said already
        seen.add(node)
        with mistakes.row(row):
            lat, lon = _number(row, "lat"), _number(row, "lon")
            radius = _number(row, "radius")
            shape = row.values.get("geometry")
            if (lat is None) != (lon is None):
                raise RosterError(f"{row.where}: give both lat and lon (or neither) (经度和纬度须同时填写或都不填)")
            if radius is not None and lat is None:
                raise RosterError(f"{row.where}: radius is the size of a point; give lat and lon too (半径是点的大小：请同时填写经纬度)")
            if shape is not None and lat is not None:
                raise RosterError(f"{row.where}: give lat/lon or a geometry, not both (经纬度和几何只能填一种)")
            if lat is not None and lon is not None:
                found[node] = _located(row.where, Location.point, lat, lon, radius)
            elif shape is not None:
                found[node] = _located(row.where, _from_geojson, shape, None, f"{row.where}: geometry")
            else:
                continue
            where[node] = row.where
    if geometry_path is None or not geometry_path.exists():
        return found
    try:
        collection = json.loads(geometry_path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        mistakes.add(RosterError(f"{geometry_path.name}: not a readable GeoJSON file ({exc}) (GeoJSON 文件无法读取)"))
        return found
    features = collection.get("features") if isinstance(collection, Mapping) else None
    if not isinstance(features, list):
        mistakes.add(RosterError(f"{geometry_path.name}: expected a GeoJSON FeatureCollection with features (应为带 features 的 GeoJSON FeatureCollection)"))
        return found
    for number, feature in enumerate(features, 1):
        label = f"{geometry_path.name} feature {number}"
        properties = feature.get("properties") if isinstance(feature, Mapping) else None
        node = properties.get("id") if isinstance(properties, Mapping) else None
        if isinstance(node, str) and mistakes.names_failed(nodes=node):
            continue
        with mistakes.row():
            if not isinstance(node, str) or node not in hierarchy:
                raise RosterError(f"{label}: properties.id must name a node of nodes.csv, got {shown(node)} (properties.id 须为 nodes.csv 中的节点编号)")
            if node in found:
                raise RosterError(f"{label}: node {node!r} is already located at {where[node]} (该节点已有位置)")
            assert isinstance(properties, Mapping)
            radius = properties.get("radius")
            found[node] = _located(label, _from_geojson, feature.get("geometry") or {}, radius, label)
            where[node] = label
    return found


def _from_geojson(shape: Any, radius: Any, where: str) -> Location:
    return Location.from_geojson(shape, radius=radius, where=where)


def _located(where: str, make: Any, *args: Any) -> Location:
    try:
        location = make(*args)
    except RosterError as exc:
        message = str(exc)
        raise RosterError(message if message.startswith(where) else f"{where}: {message}") from None
    assert isinstance(location, Location)
    return location


def _number(row: _Row, column: str) -> float | None:
    value = row.values.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or math.isinf(number):
        raise RosterError(f"{row.at(column)}: {column} must be a number, got {shown(value)} (应为数字)")
    return number


def _make(cls: type[_T], row: _Row, **values: Any) -> _T:
    """Build a fact, prefixing any refusal with where the row was read."""
    try:
        return cls(**values)
    except GridcoreError as exc:
        raise type(exc)(f"{row.where}: {exc}") from None


# ------------------------------------------------------------------ reading records


def _records(sheet: str, top: Mapping[str, Any], yaml_path: Path, mistakes: _Mistakes) -> list[_Row]:
    """The rows of one list (inline or its CSV file); a list that cannot be read is a mistake that
    stops the roster before its rows are checked against the others (``_Mistakes.unreadable``)."""
    key = INLINE_KEY[sheet]
    csv_path = yaml_path.parent / f"{sheet}.csv"
    inline = top.get(key)
    try:
        if inline is not None and csv_path.exists():
            raise RosterError(
                f"{yaml_path.name}:{_line(top, key)}: {key} are given both here and in {csv_path.name}; keep one (两处都给出了，请只保留一处)"
            )
        if inline is not None:
            where = f"{yaml_path.name}:{_line(top, key)}"
            if not isinstance(inline, list):
                raise RosterError(f"{where}: {key} must be a list (应为列表)")
            allowed = COLUMNS[sheet] + (("roles",) if sheet == "members" else ()) + (
                ("geometry",) if sheet == "nodes" else ()
            )
            rows: list[_Row] = []
            for item in inline:
                with mistakes.row():
                    row = _Row(_where_in(where, item, yaml_path.name), _mapping(item, where, key))
                    with mistakes.row(row, sheet if sheet in _NAMED_LISTS else None):
                        _only(row, allowed)
                        rows.append(row)
            return rows
        if csv_path.exists():
            return _read_csv(sheet, csv_path, mistakes)
    except RosterError as exc:
        mistakes.add(exc)
        mistakes.unreadable = True
    return []


def _read_csv(sheet: str, path: Path, mistakes: _Mistakes) -> list[_Row]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"{path.name}: cannot read: {exc.strerror} (无法读取文件)") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Chinese Windows save "CSV" as GBK; GB18030 is its superset.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise RosterError(f"{path.name}: neither UTF-8 nor GBK text; save it as CSV UTF-8 (既不是 UTF-8 也不是 GBK 文本：请另存为 CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    try:
        header = next(reader, None)
        if header is None:
            return rows
        columns = [cell.strip() for cell in header]
        for column in columns:
            if column not in COLUMNS[sheet]:
                raise RosterError(
                    f"{path.name} row 1: unknown column {shown(column)} (expected {','.join(COLUMNS[sheet])}) (未知列名)"
                )
        for column in REQUIRED[sheet]:
            if column not in columns:
                raise RosterError(f"{path.name} row 1: missing column {column!r} (expected {','.join(COLUMNS[sheet])}) (缺少列)")
        if len(set(columns)) != len(columns):
            raise RosterError(f"{path.name} row 1: a column is named twice (列名重复)")
        for number, cells in enumerate(reader, 2):
            if not any(cell.strip() for cell in cells):
                continue
            where = f"{path.name} row {number}"
            row = _Row(where, dict(zip(columns, cells, strict=False)))
            if len(cells) > len(columns):
                mistakes.fail(RosterError(f"{where}: {len(cells)} cells but only {len(columns)} columns (单元格多于列数)"),
                              row, sheet if sheet in _NAMED_LISTS else None)
                continue
            rows.append(row)
    except csv.Error as exc:
        raise RosterError(f"{path.name} row {reader.line_num}: {exc} (CSV 格式有误)") from None
    return rows


def _field(row: _Row, column: str, *, optional: bool = False) -> str | None:
    return _text(row.values.get(column), row.at(column), column, required=not optional)


def _text(value: Any, where: str, column: str, *, required: bool) -> str | None:
    """Text of a cell: stripped, numbers as written, empty -> None (or an error if required)."""
    if isinstance(value, bool) or (value is not None and not isinstance(value, (str, int))):
        raise RosterError(f"{where}: {column} must be text, got {shown(value)} (应为文字)")
    text = "" if value is None else from_spreadsheet_text(str(value).strip())
    if printable(text) != text:
        # ESC sequences and other controls are never part of a name: they would
        # drive the terminal of whoever prints the roster.
        raise RosterError(f"{where}: {column} holds control characters ({shown(text)}); "
                          "a roster holds plain text (含有控制字符：花名册只能是纯文字)")
    if text:
        return text
    if required:
        raise RosterError(f"{where}: {column} is missing (必填：{column})")
    return None


def _required(value: Any, where: str, column: str) -> str:
    text = _text(value, where, column, required=True)
    assert text is not None  # _text raised otherwise
    return text


def _flag(row: _Row, column: str) -> bool:
    value = row.values.get(column)
    if isinstance(value, bool):
        return value
    text = _text(value, row.at(column), column, required=False)
    if text is None:
        return False
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    raise RosterError(f"{row.at(column)}: {column} must be true or false, got {shown(text)} (应填 是 或 否)")


def _str_map(value: Any, where: str, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RosterError(f"{where}: {key} must be a mapping of id: name (应为 编号: 名称 的映射)")
    return {
        _required(k, where, key): _required(v, where, f"{key}.{k}")
        for k, v in value.items()
    }


def _mapping(item: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise RosterError(f"{_where_in(where, item)}: each entry of {what} must be a mapping, got {shown(item)} (每一项都应为映射)")
    return item


def _only(row: _Row, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for key in row.values:
        if key not in allowed:
            raise RosterError(f"{row.where}: unknown field {shown(key)} (expected some of {', '.join(allowed)}) (未知字段)")


# ------------------------------------------------------------------ YAML with line numbers


class _LineDict(dict[str, Any]):
    """A YAML mapping that remembers the line it started on and each key's line."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """Safe YAML (no Python objects) that keeps line numbers and refuses repeated keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in data.key_lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {shown(key)} is given twice", key_node.start_mark
            )
        data.key_lines[key] = key_node.start_mark.line + 1
        data[key] = loader.construct_object(value_node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _read_yaml(path: Path) -> _LineDict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path.name}: not UTF-8 text ({exc.reason}) (不是 UTF-8 文本)") from None
    except OSError as exc:
        raise RosterError(f"{path.name}: cannot read: {exc.strerror} (无法读取文件)") from None
    top = load_yaml(text, path.name, _Loader)
    if not isinstance(top, _LineDict):
        raise RosterError(f"{path.name}: expected a mapping with name, timezone, levels, ... (应为包含 name、timezone、levels 等的映射)")
    return top


#: At most this many values may a YAML file stand for once its aliases are expanded.
MAX_YAML_VALUES = 200_000
#: Messages show at most this many characters of a value staff wrote.
SHOWN_CHARACTERS = 60


def shown(value: Any) -> str:
    """``repr(value)`` for a message, cut short: a message never prints an unbounded value.

    Containers are not walked (an alias bomb would expand): they are shown by
    type and size.
    """
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} keys"
    if isinstance(value, (list, tuple, set)):
        return f"a list of {len(value)} items"
    text = repr(value)
    if len(text) > SHOWN_CHARACTERS:
        return text[: SHOWN_CHARACTERS - 1] + "…"
    return text


def load_yaml(text: str, source: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """Parse YAML safely and boundedly; ``RosterError`` names ``source`` and the line.

    Aliases are counted before anything is built: a document whose aliases
    expand to more than ``MAX_YAML_VALUES`` values (the "billion laughs"), one
    that contains itself or one nested too deeply is refused with a short
    message, never built or printed.
    """
    reader = loader(text)
    try:
        node = reader.get_single_node()
        if node is None:
            return None
        _check_size(node, source)
        return reader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        place = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise RosterError(f"{place}: {exc.problem or exc} (YAML 格式有误)") from None
    except yaml.YAMLError as exc:
        raise RosterError(f"{source}: {exc} (YAML 格式有误)") from None
    except RecursionError:
        raise RosterError(f"{source}: nested too deeply to be a roster or a scenario (嵌套过深，不是花名册或场景文件)") from None
    finally:
        reader.dispose()


def _check_size(root: yaml.Node, source: str) -> None:
    """Refuse a node graph whose expansion exceeds ``MAX_YAML_VALUES`` or loops."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_YAML_VALUES:
                line = node.start_mark.line + 1
                raise RosterError(
                    f"{source}:{line}: its aliases expand to more than {MAX_YAML_VALUES:,} values; "
                    "write the lists out instead of nesting aliases (展开后内容过多)"
                )
            continue
        if key in sizes:
            continue
        if key in open_:
            raise RosterError(f"{source}:{node.start_mark.line + 1}: a value that contains itself (an alias loop) (值包含自身（别名循环）)")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _line(mapping: Mapping[str, Any], key: str) -> int:
    if isinstance(mapping, _LineDict):
        return mapping.key_lines.get(key, mapping.line)
    return 0


def _where_in(where: str, item: Any, file: str | None = None) -> str:
    """``file:line`` of an inline item (the line its mapping starts on)."""
    if isinstance(item, _LineDict):
        name = file if file is not None else where.split(":", 1)[0]
        return f"{name}:{item.line}"
    return where


# ------------------------------------------------------------------ saving


def save_community(community: Community, folder: Path | str, *, inline: bool = False) -> Path:
    """Write ``community`` as a folder: ``community.yaml`` plus one CSV per list.

    With ``inline=True`` everything goes into ``community.yaml`` (and any of
    the five CSV files already in the folder are removed, so they cannot
    contradict it).  CSV files are UTF-8 with a byte-order mark so spreadsheets
    open them correctly.  Each file is replaced atomically.  Returns the path
    of ``community.yaml``.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    top: dict[str, Any] = {"name": community.name, "timezone": community.timezone,
                           "levels": list(community.hierarchy.levels)}
    if community.level_names:
        top["level_names"] = dict(community.level_names)
    doc = community.to_document()
    if doc["roles"]:
        top["roles"] = doc["roles"]
    if community.hierarchy.forest:
        top["forest"] = True
    sheets = _sheets(community)
    if inline:
        # Only what is given: empty cells, the default kind and "not a party
        # member" are left out, as staff would write them by hand.
        top["departments"] = sheets["departments"]
        top["nodes"] = [_given(row) for row in sheets["nodes"]]
        roles_of: dict[str, list[dict[str, Any]]] = {}
        for row in sheets["roles"]:
            roles_of.setdefault(row["member"], []).append(
                _given({k: v for k, v in row.items() if k != "member"})
            )
        top["members"] = [
            {**_given(row), **({"roles": roles_of[row["id"]]} if row["id"] in roles_of else {})}
            for row in sheets["members"]
        ]
        for row in top["nodes"]:
            shape = community.locations.get(row["id"])
            if shape is not None and shape.kind != "Point":
                row["geometry"] = shape.to_geojson()
        top["places"] = sheets["places"]
        for sheet in OPTIONAL_SHEETS:
            if sheets[sheet]:
                top[sheet] = [_given(row) for row in sheets[sheet]]
        for sheet in COLUMNS:
            (target / f"{sheet}.csv").unlink(missing_ok=True)
        (target / GEOMETRY_FILE).unlink(missing_ok=True)
    else:
        for sheet, rows in sheets.items():
            if sheet in OPTIONAL_SHEETS and not rows:
                (target / f"{sheet}.csv").unlink(missing_ok=True)
                continue
            columns = COLUMNS[sheet]
            if sheet == "nodes" and not any(row.get("lat") is not None for row in rows):
                columns = tuple(c for c in columns if c not in POINT_COLUMNS)
            atomic.write_text(target / f"{sheet}.csv", _csv_text(columns, rows), encoding="utf-8-sig")
        shapes = {n: loc for n, loc in community.locations.items() if loc.kind != "Point"}
        if shapes:
            features = [
                {"type": "Feature", "properties": {"id": node}, "geometry": loc.to_geojson()}
                for node, loc in shapes.items()
            ]
            text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
            atomic.write_text(target / GEOMETRY_FILE, text + "\n", encoding="utf-8")
        else:
            (target / GEOMETRY_FILE).unlink(missing_ok=True)
    text = yaml.safe_dump(top, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path = target / COMMUNITY_FILE
    atomic.write_text(path, text, encoding="utf-8")
    return path


def _sheets(community: Community) -> dict[str, list[dict[str, Any]]]:
    return {
        "departments": [{"id": d.id, "name": d.name} for d in community.departments.values()],
        "nodes": [
            {"id": n.id, "name": n.name, "level": n.level, "parent": n.parent, "kind": n.kind,
             **_point_cells(community.locations.get(n.id))}
            for n in community.hierarchy
        ],
        "members": [
            {"id": m.id, "name": m.name, "phone": m.phone, "party_member": m.party_member, "home": m.home}
            for m in community.members.values()
        ],
        "roles": [
            {"member": m.id, "role": a.role, "node": a.node, "department": a.department}
            for m in community.members.values()
            for a in m.roles
        ],
        "places": [{"id": p.id, "name": p.name, "node": p.node} for p in community.places.values()],
        "households": [
            {"id": h.id, "name": h.name, "node": h.node, "place": h.place, "people": h.people,
             "floating": h.floating}
            for h in community.households.values()
        ],
        "residents": [
            {"id": r.id, "name": r.name, "household": r.household, "floating": r.floating,
             "key_person": r.key_person, "special_group": r.special_group}
            for r in community.residents.values()
        ],
        "care": [{"member": c.member, "household": c.household, "place": c.place} for c in community.care],
    }


def _point_cells(location: Location | None) -> dict[str, Any]:
    if location is None or location.kind != "Point":
        return {}
    lon, lat = location.shape
    return {"lat": lat, "lon": lon, "radius": location.radius}


def _given(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in row.items()
        if v not in (None, "", False) and not (k == "kind" and v == TERRITORIAL)
    }


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A name like "=HYPERLINK(...)" stays text in Excel; reading drops the mark again.
    return spreadsheet_text(str(value))
