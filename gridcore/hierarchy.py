"""The grid hierarchy (网格): nested cells whose levels are data, not code.

A community declares its levels top to bottom (``community > grid > unit``, or
five levels, or three) and its nodes.  ``Hierarchy.build`` checks the tree and
precomputes parents, children, ancestors and subtree spans once, so the queries
plugins call for every event (``is_within``, ``ancestors``) cost O(1) or
O(depth) even for a district of thousands of nodes.

Rules a tree must follow (each refusal names the node):

* every id is unique and non-empty; every level is one of the declared levels;
* a parent must exist and no chain of parents may loop back (a cycle);
* a child's level is strictly below its parent's.  Levels may be skipped going
  down (a dedicated grid under a township sits at the bottom level), never
  repeated or reversed;
* a node without a parent (a root) sits at the top level.  There is exactly one
  root unless the hierarchy is built with ``forest=True`` (e.g. a file holding
  several streets and no district node);
* side grids (kind ``industry`` 行业网格 or ``dedicated`` 专属网格) are attached
  under a node (territorial or another side grid); territorial nodes only sit
  under territorial nodes.  Side grids are never leaves of the territorial tree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from .classes import frozen
from .errors import HierarchyError, InvalidTypeError, UnknownNodeError

TERRITORIAL = "territorial"
INDUSTRY = "industry"
DEDICATED = "dedicated"
#: Every node kind: the territorial tree and the two kinds of side grid.
KINDS: tuple[str, ...] = (TERRITORIAL, INDUSTRY, DEDICATED)


def _identifier(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise HierarchyError(f"node {attribute.name} must be non-empty text, got {value!r} (须为非空文字)")


def _parent(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise HierarchyError(f"node parent must be a node id or None, got {value!r} (上级须为节点编号或留空)")


def _kind(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in KINDS:
        raise HierarchyError(
            f"node {getattr(instance, 'id', '?')!r}: unknown kind {value!r} "
            f"(expected one of {', '.join(KINDS)}) (类型应为 属地、行业 或 专属)"
        )


@frozen
class Node:
    """One cell of the hierarchy: a stable id, a name, its level and its parent's id."""

    id: str = attrs.field(validator=_identifier)
    name: str = attrs.field(validator=_identifier)
    level: str = attrs.field(validator=_identifier)
    parent: str | None = attrs.field(validator=_parent)
    kind: str = attrs.field(default=TERRITORIAL, validator=_kind)

    @property
    def is_side_grid(self) -> bool:
        """True for industry (行业网格) and dedicated (专属网格) grids."""
        return self.kind != TERRITORIAL


class Hierarchy:
    """An immutable, validated grid tree.  Build it with ``Hierarchy.build``.

    Iterating gives the nodes depth-first, roots and siblings in the order
    they were declared.  Two hierarchies are equal when they have the same
    levels, the same ``forest`` setting and the same nodes in that order.
    """

    __slots__ = (
        "_ancestors",
        "_at_level",
        "_children",
        "_end",
        "_hash",
        "_leaves",
        "_level_index",
        "_nodes",
        "_order",
        "_pos",
        "forest",
        "ids",
        "levels",
    )

    levels: tuple[str, ...]
    forest: bool
    #: every node's id (``node_id in hierarchy.ids`` is ``node_id in hierarchy``, without a call: asked of
    #: every event's node)
    ids: frozenset[str]
    _nodes: dict[str, Node]
    _order: tuple[Node, ...]
    _pos: dict[str, int]
    _end: dict[str, int]
    _children: dict[str, tuple[Node, ...]]
    _ancestors: dict[str, tuple[Node, ...]]
    _level_index: dict[str, int]
    _at_level: dict[str, tuple[Node, ...]]
    _leaves: tuple[Node, ...]
    _hash: int

    def __init__(self) -> None:  # pragma: no cover - guarded
        raise InvalidTypeError("build a Hierarchy with Hierarchy.build(levels, nodes)")

    # ------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        levels: Iterable[str],
        nodes: Iterable[Node],
        *,
        forest: bool = False,
        sources: Mapping[str, str] | None = None,
    ) -> Hierarchy:
        """Check ``nodes`` against ``levels`` (top to bottom) and build the tree.

        ``sources`` may map node ids to where they were read (``nodes.csv:4``);
        messages then start with that location.  Raises ``HierarchyError``.
        """
        where = sources or {}

        def fail(node_id: str | None, message: str) -> HierarchyError:
            prefix = f"{where[node_id]}: " if node_id is not None and node_id in where else ""
            error = HierarchyError(prefix + message)
            error.node = node_id
            return error

        level_tuple = tuple(levels)
        if not level_tuple:
            raise HierarchyError("a hierarchy needs at least one level (至少要有一个层级)")
        level_index: dict[str, int] = {}
        for level in level_tuple:
            if not isinstance(level, str) or not level.strip():
                raise HierarchyError(f"level names must be non-empty text, got {level!r} (层级名称须为非空文字)")
            if level in level_index:
                raise HierarchyError(f"level {level!r} is declared twice (层级重复声明)")
            level_index[level] = len(level_index)

        by_id: dict[str, Node] = {}
        for node in nodes:
            if not isinstance(node, Node):
                raise HierarchyError(f"expected a Node, got {node!r} (须为 Node)")
            if node.id in by_id:
                raise fail(node.id, f"duplicate node id {node.id!r} ({by_id[node.id].name} and {node.name}) (节点编号重复)")
            if node.level not in level_index:
                raise fail(
                    node.id,
                    f"node {node.id!r} ({node.name}): unknown level {node.level!r} "
                    f"(levels are {' > '.join(level_tuple)}) (未知层级)",
                )
            by_id[node.id] = node
        if not by_id:
            raise HierarchyError("a hierarchy needs at least one node (至少要有一个节点)")

        for node in by_id.values():
            if node.parent is not None and node.parent not in by_id:
                raise fail(node.id, f"node {node.id!r} ({node.name}): unknown parent {node.parent!r} (上级编号不存在)")
        _refuse_cycles(by_id, fail)

        roots: list[Node] = []
        children: dict[str, list[Node]] = {node_id: [] for node_id in by_id}
        for node in by_id.values():
            if node.parent is None:
                if node.is_side_grid:
                    raise fail(
                        node.id,
                        f"{node.kind} grid {node.id!r} ({node.name}) must be attached under a node (行业网格和专属网格须挂在某个节点下)",
                    )
                if level_index[node.level] != 0:
                    raise fail(
                        node.id,
                        f"node {node.id!r} ({node.name}) has no parent but its level {node.level!r} "
                        f"is not the top level {level_tuple[0]!r} (只有最高层级的节点可以不填上级)",
                    )
                if roots and not forest:
                    raise fail(
                        node.id,
                        f"node {node.id!r} ({node.name}) is a second root besides "
                        f"{roots[0].id!r}; give it a parent (or declare forest: true) (只能有一个顶层节点：请填写上级编号，或声明 forest: true)",
                    )
                roots.append(node)
                continue
            parent = by_id[node.parent]
            if level_index[node.level] <= level_index[parent.level]:
                raise fail(
                    node.id,
                    f"node {node.id!r} ({node.name}) at level {node.level!r} cannot sit under "
                    f"{parent.id!r} ({parent.name}) at level {parent.level!r}: a child's level "
                    "must be below its parent's (下级节点的层级须低于上级节点)",
                )
            if not node.is_side_grid and parent.is_side_grid:
                raise fail(
                    node.id,
                    f"territorial node {node.id!r} ({node.name}) cannot sit under "
                    f"{parent.kind} grid {parent.id!r} ({parent.name}) (属地网格不能挂在行业网格或专属网格下)",
                )
            children[parent.id].append(node)
        return cls._assemble(level_tuple, level_index, by_id, roots, children, forest)

    @classmethod
    def _assemble(
        cls,
        levels: tuple[str, ...],
        level_index: dict[str, int],
        by_id: dict[str, Node],
        roots: list[Node],
        children: dict[str, list[Node]],
        forest: bool,
    ) -> Hierarchy:
        self = object.__new__(cls)
        order: list[str] = []
        pos: dict[str, int] = {}
        end: dict[str, int] = {}
        ancestors: dict[str, tuple[Node, ...]] = {}
        # Iterative depth-first walk: deep trees must not hit the recursion limit.
        stack: list[tuple[Node, bool]] = [(root, False) for root in reversed(roots)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                end[node.id] = len(order)
                continue
            pos[node.id] = len(order)
            order.append(node.id)
            parent = node.parent
            ancestors[node.id] = () if parent is None else (by_id[parent], *ancestors[parent])
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children[node.id]))
        at_level: dict[str, list[Node]] = {level: [] for level in levels}
        for node_id in order:
            at_level[by_id[node_id].level].append(by_id[node_id])
        self.levels = levels
        self.forest = forest
        self._nodes = {node_id: by_id[node_id] for node_id in order}
        self.ids = frozenset(self._nodes)
        self._order = tuple(self._nodes.values())
        self._pos = pos
        self._end = end
        self._children = {k: tuple(v) for k, v in children.items()}
        self._ancestors = ancestors
        self._level_index = level_index
        self._at_level = {k: tuple(v) for k, v in at_level.items()}
        self._leaves = tuple(
            n for n in self._order
            if not n.is_side_grid and not any(not c.is_side_grid for c in self._children[n.id])
        )
        self._hash = hash((levels, forest, self._order))
        return self

    # ------------------------------------------------------------ container

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hierarchy):
            return NotImplemented
        return (self.levels, self.forest, self._order) == (other.levels, other.forest, other._order)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"<Hierarchy {' > '.join(self.levels)}: {len(self)} nodes>"

    # ------------------------------------------------------------ queries

    def node(self, node_id: str) -> Node:
        """The node with this id; ``UnknownNodeError`` (a ``HierarchyError`` and an
        ``UnknownNameError``) if there is none."""
        try:
            return self._nodes[node_id]
        except (KeyError, TypeError):
            raise UnknownNodeError(self.unknown(node_id)) from None

    def unknown(self, written: object) -> str:
        """What to say of a node id the tree does not hold, in English and Chinese: the node ``written``
        names when it is a node's name (staff write 第一网格 for ``g1``), else the closest id or name."""
        text = str(written)
        named = [n.id for n in self._order if n.name == text]
        if len(named) == 1:
            hint = f"; {text!r} is the name of node {named[0]!r}: write its id (请写节点编号 {named[0]})"
        elif named:
            shown = ", ".join(named[:8]) + (", ..." if len(named) > 8 else "")
            hint = f"; {text!r} is the name of {len(named)} nodes ({shown}): write the id (请写节点编号)"
        else:
            close = difflib.get_close_matches(text, [*self._nodes, *(n.name for n in self._order)], n=1,
                                              cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown node {written!r} (未知节点){hint}"

    def find(self, written: str) -> Node:
        """The node ``written`` names: its id, else its name as ``nodes.csv`` gives it
        (``银州社区``) when one node alone bears it (every community's ``第一网格`` must be
        its id).  ``HierarchyError`` otherwise, saying which ids share the name or which
        node was meant (the name resolution of ``--node`` options and ``node=`` parameters)."""
        found = self._nodes.get(written)
        if found is not None:
            return found
        named = [n for n in self._order if n.name == written]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(n.id for n in named[:8]) + (", ..." if len(named) > 8 else "")
            raise HierarchyError(f"{written!r} names {len(named)} nodes ({ids}): give the node's id "
                                 f"(节点名称重复，请写节点编号)")
        close = difflib.get_close_matches(written, [*self._nodes, *(n.name for n in self._order)], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise HierarchyError(f"unknown node {written!r} (未知节点){hint}")

    def parent(self, node_id: str) -> Node | None:
        """The node's parent, or None for a root."""
        found = self.node(node_id).parent
        return None if found is None else self._nodes[found]

    def children(self, node_id: str) -> tuple[Node, ...]:
        """Direct children (territorial and side grids), in declaration order."""
        self.node(node_id)
        return self._children[node_id]

    def ancestors(self, node_id: str, *, include_self: bool = False) -> tuple[Node, ...]:
        """The chain of parents up to the root, nearest first."""
        node = self.node(node_id)
        chain = self._ancestors[node_id]
        return (node, *chain) if include_self else chain

    def descendants(self, node_id: str, *, include_self: bool = False) -> tuple[Node, ...]:
        """Every node below this one (side grids included), depth-first."""
        self.node(node_id)
        start = self._pos[node_id]
        return self._order[start if include_self else start + 1 : self._end[node_id]]

    def ancestor_at(self, node_id: str, level: str) -> Node | None:
        """The node at ``level`` on the way up (the node itself if it is at that level).

        None when the chain skips that level or the level is below the node.
        """
        self.level_index(level)
        for node in self.ancestors(node_id, include_self=True):
            if node.level == level:
                return node
        return None

    def is_within(self, node_id: str, ancestor_id: str) -> bool:
        """True if ``node_id`` is ``ancestor_id`` or lies below it."""
        self.node(node_id)
        self.node(ancestor_id)
        return self._pos[ancestor_id] <= self._pos[node_id] < self._end[ancestor_id]

    def is_within_any(self, node_id: str, ancestor_ids: Iterable[str]) -> bool:
        """True if ``node_id`` is one of ``ancestor_ids`` or lies below one (``is_within`` for each)."""
        self.node(node_id)
        pos, end = self._pos, self._end
        at = pos[node_id]
        for ancestor_id in ancestor_ids:
            start = pos.get(ancestor_id)
            if start is None:
                self.node(ancestor_id)  # HierarchyError, as is_within
            elif start <= at < end[ancestor_id]:
                return True
        return False

    def level_index(self, level: str) -> int:
        """Depth of a level: 0 is the top.  ``HierarchyError`` for an unknown level."""
        try:
            return self._level_index[level]
        except (KeyError, TypeError):
            raise HierarchyError(
                f"unknown level {level!r} (levels are {' > '.join(self.levels)}) (未知层级)"
            ) from None

    def nodes_at(self, level: str) -> tuple[Node, ...]:
        """Every node at ``level`` (side grids included), depth-first."""
        self.level_index(level)
        return self._at_level[level]

    def roots(self) -> tuple[Node, ...]:
        """The nodes without a parent (one, unless built with ``forest=True``)."""
        return tuple(n for n in self._order if n.parent is None)

    def leaves(self) -> tuple[Node, ...]:
        """Territorial nodes without territorial children: the cells of the territory."""
        return self._leaves

    def is_cell(self, node_id: str) -> bool:
        """True for a territorial leaf, or a side grid with no grid below it.

        Places (buildings, addresses) sit in cells.
        """
        node = self.node(node_id)
        if node.is_side_grid:
            return not self._children[node_id]
        return not any(not c.is_side_grid for c in self._children[node_id])

    def side_grids(self, node_id: str) -> tuple[Node, ...]:
        """Industry and dedicated grids attached directly under ``node_id``."""
        return tuple(c for c in self.children(node_id) if c.is_side_grid)

    def path(self, node_id: str) -> str:
        """Names from the root down, e.g. ``银泉社区 > 第一网格 > 1单元``."""
        chain = self.ancestors(node_id, include_self=True)
        return " > ".join(n.name for n in reversed(chain))

    def render(self, level_names: Mapping[str, str] | None = None, notes: Mapping[str, str] | None = None) -> str:
        """An indented tree, one node a line, each labelled with its level (and kind).

        ``notes`` adds text after a node's line (e.g. its households and population).
        """
        names = level_names or {}
        extra = notes or {}
        lines = []
        for node in self._order:
            depth = len(self._ancestors[node.id])
            label = node.level if node.level not in names else f"{names[node.level]} {node.level}"
            if node.is_side_grid:
                label = f"{label}, {node.kind}"
            note = f"  {extra[node.id]}" if node.id in extra else ""
            lines.append(f"{'  ' * depth}{node.name} [{node.id}] ({label}){note}")
        return "\n".join(lines)


def _refuse_cycles(by_id: dict[str, Node], fail: Any) -> None:
    """Raise if following parents from any node comes back to a node on the same walk."""
    done: set[str] = set()
    for start in by_id:
        walk: list[str] = []
        on_walk: set[str] = set()
        current: str | None = start
        while current is not None and current not in done:
            if current in on_walk:
                loop = walk[walk.index(current):] + [current]
                raise fail(current, f"node {current!r} is in a cycle of parents: {' -> '.join(loop)} (上级关系形成循环)")
            walk.append(current)
            on_walk.add(current)
            current = by_id[current].parent
        done.update(walk)
