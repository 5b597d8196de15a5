"""The grid hierarchy: queries, every refusal, and invariants over random trees."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore import HierarchyError
from gridcore.community import Community
from gridcore.hierarchy import DEDICATED, INDUSTRY, Hierarchy, Node

LEVELS = ("community", "grid", "unit")


def yinquan() -> Hierarchy:
    return Hierarchy.build(
        LEVELS,
        [
            Node("yq", "银泉社区", "community", None),
            Node("g1", "第一网格", "grid", "yq"),
            Node("g1-u1", "1单元", "unit", "g1"),
            Node("g1-u2", "2单元", "unit", "g1"),
            Node("g2", "第二网格", "grid", "yq"),
            Node("g2-u1", "3单元", "unit", "g2"),
            Node("学校", "银泉小学专属网格", "unit", "yq", kind=DEDICATED),
            Node("fire", "消防行业网格", "grid", "yq", kind=INDUSTRY),
        ],
    )


# ------------------------------------------------------------ queries


def test_container_and_order() -> None:
    h = yinquan()
    assert len(h) == 8
    assert "g1" in h and "学校" in h and "nope" not in h
    assert [n.id for n in h] == ["yq", "g1", "g1-u1", "g1-u2", "g2", "g2-u1", "学校", "fire"]
    assert h.levels == LEVELS


def test_order_is_depth_first_whatever_the_declaration_order() -> None:
    nodes = list(yinquan())
    shuffled = [nodes[5], nodes[2], nodes[0], nodes[7], nodes[1], nodes[4], nodes[6], nodes[3]]
    again = Hierarchy.build(LEVELS, shuffled)
    assert [n.id for n in again] == ["yq", "fire", "g1", "g1-u1", "g1-u2", "g2", "g2-u1", "学校"]
    assert again.is_within("g1-u2", "g1")


def test_node_parent_children() -> None:
    h = yinquan()
    assert h.node("g1").name == "第一网格"
    assert h.parent("g1-u1") == h.node("g1")
    assert h.parent("yq") is None
    assert [n.id for n in h.children("yq")] == ["g1", "g2", "学校", "fire"]
    assert h.children("g1-u1") == ()
    with pytest.raises(HierarchyError, match="unknown node 'x'"):
        h.node("x")
    with pytest.raises(HierarchyError, match="unknown node 'x'"):
        h.children("x")
    # staff write a node's name where its id is wanted: the error says which id, in Chinese too
    with pytest.raises(HierarchyError) as named:
        h.node("第一网格")
    assert str(named.value) == ("unknown node '第一网格' (未知节点); '第一网格' is the name of node 'g1': "
                                "write its id (请写节点编号 g1)")
    with pytest.raises(HierarchyError) as close:
        h.node("g1-u9")
    assert str(close.value).startswith("unknown node 'g1-u9' (未知节点); did you mean 'g1-u")


def test_ancestors_and_descendants() -> None:
    h = yinquan()
    assert [n.id for n in h.ancestors("g1-u1")] == ["g1", "yq"]
    assert [n.id for n in h.ancestors("g1-u1", include_self=True)] == ["g1-u1", "g1", "yq"]
    assert h.ancestors("yq") == ()
    assert [n.id for n in h.descendants("g1")] == ["g1-u1", "g1-u2"]
    assert [n.id for n in h.descendants("g1", include_self=True)] == ["g1", "g1-u1", "g1-u2"]
    assert len(h.descendants("yq")) == 7


def test_ancestor_at_and_levels() -> None:
    h = yinquan()
    assert h.ancestor_at("g1-u2", "grid") == h.node("g1")
    assert h.ancestor_at("g1-u2", "community") == h.node("yq")
    assert h.ancestor_at("g1-u2", "unit") == h.node("g1-u2")
    # the dedicated grid skips the grid level
    assert h.ancestor_at("学校", "grid") is None
    assert h.ancestor_at("g1", "unit") is None
    with pytest.raises(HierarchyError, match="unknown level 'street'"):
        h.ancestor_at("g1", "street")
    assert h.level_index("community") == 0 and h.level_index("unit") == 2
    assert [n.id for n in h.nodes_at("grid")] == ["g1", "g2", "fire"]


def test_is_within() -> None:
    h = yinquan()
    assert h.is_within("g1-u1", "g1")
    assert h.is_within("g1", "g1")
    assert h.is_within("学校", "yq")
    assert not h.is_within("g1", "g1-u1")
    assert not h.is_within("g2-u1", "g1")
    with pytest.raises(HierarchyError):
        h.is_within("g1", "nowhere")


def test_leaves_and_side_grids() -> None:
    h = yinquan()
    assert [n.id for n in h.leaves()] == ["g1-u1", "g1-u2", "g2-u1"]
    assert [n.id for n in h.side_grids("yq")] == ["学校", "fire"]
    assert h.side_grids("g1") == ()
    assert h.is_cell("g1-u1") and h.is_cell("学校") and not h.is_cell("g1")


def test_a_grid_whose_only_children_are_side_grids_is_a_leaf() -> None:
    h = Hierarchy.build(
        LEVELS,
        [
            Node("c", "社区", "community", None),
            Node("g", "网格", "grid", "c"),
            Node("s", "市场专属网格", "unit", "g", kind=DEDICATED),
        ],
    )
    assert [n.id for n in h.leaves()] == ["g"]
    assert h.side_grids("g") == (h.node("s"),)


def test_path_and_render() -> None:
    h = yinquan()
    assert h.path("g1-u1") == "银泉社区 > 第一网格 > 1单元"
    assert h.path("yq") == "银泉社区"
    text = h.render({"grid": "网格"})
    lines = text.splitlines()
    assert lines[0] == "银泉社区 [yq] (community)"
    assert lines[1] == "  第一网格 [g1] (网格 grid)"
    assert lines[2] == "    1单元 [g1-u1] (unit)"
    assert lines[-1] == "  消防行业网格 [fire] (网格 grid, industry)"


def test_equality_and_hash() -> None:
    assert yinquan() == yinquan()
    assert hash(yinquan()) == hash(yinquan())
    other = Hierarchy.build(LEVELS, [Node("yq", "银泉社区", "community", None)])
    assert other != yinquan()


def test_five_levels_with_skips() -> None:
    levels = ("county", "township", "village", "group", "microgrid")
    h = Hierarchy.build(
        levels,
        [
            Node("xn", "宁县", "county", None),
            Node("t1", "某镇", "township", "xn"),
            Node("v1", "某村", "village", "t1"),
            Node("grp", "一组", "group", "v1"),
            Node("mg", "微网格一", "microgrid", "grp"),
            # a village whose micro-grids hang straight under it: skipping "group" is allowed
            Node("v2", "幸福湾社区", "village", "t1"),
            Node("mg2", "微网格二", "microgrid", "v2"),
            Node("ind", "教育行业网格", "township", "xn", kind=INDUSTRY),
        ],
    )
    assert h.ancestor_at("mg2", "group") is None
    assert h.ancestor_at("mg2", "township") == h.node("t1")
    assert [n.id for n in h.leaves()] == ["mg", "mg2"]


def test_deep_tree_builds_without_recursion() -> None:
    levels = tuple(f"L{i}" for i in range(3000))
    nodes = [Node("n0", "n0", "L0", None)] + [
        Node(f"n{i}", f"n{i}", f"L{i}", f"n{i - 1}") for i in range(1, 3000)
    ]
    h = Hierarchy.build(levels, nodes)
    assert h.is_within("n2999", "n0")
    assert len(h.ancestors("n2999")) == 2999


def test_district_sized_tree_builds() -> None:
    """~5,000 nodes: the shape of Yinzhou district (street > community > grid > household)."""
    levels = ("district", "street", "community", "grid", "household")
    nodes = [Node("d", "银州区", "district", None)]
    for s in range(8):
        nodes.append(Node(f"s{s}", f"街道{s}", "street", "d"))
        for c in range(8):
            nodes.append(Node(f"s{s}c{c}", f"社区{c}", "community", f"s{s}"))
            for g in range(8):
                nodes.append(Node(f"s{s}c{c}g{g}", f"网格{g}", "grid", f"s{s}c{c}"))
                nodes.append(Node(f"s{s}c{c}g{g}h", "户", "household", f"s{s}c{c}g{g}"))
    h = Hierarchy.build(levels, nodes)
    assert len(h) == 1 + 8 + 64 + 512 * 2
    assert h.is_within("s7c7g7h", "s7")
    assert not h.is_within("s7c7g7h", "s6")


# ------------------------------------------------------------ refusals


def refused(levels: tuple[str, ...], nodes: list[Node], *, forest: bool = False) -> str:
    with pytest.raises(HierarchyError) as info:
        Hierarchy.build(levels, nodes, forest=forest)
    return str(info.value)


def test_refuses_a_cycle() -> None:
    message = refused(
        LEVELS,
        [
            Node("yq", "银泉社区", "community", None),
            Node("a", "甲", "grid", "b"),
            Node("b", "乙", "unit", "a"),
        ],
    )
    assert "cycle" in message and "'a'" in message and "b" in message


def test_refuses_a_node_that_is_its_own_parent() -> None:
    message = refused(LEVELS, [Node("yq", "银泉社区", "community", None), Node("g", "网格", "grid", "g")])
    assert "cycle" in message and "'g'" in message


def test_refuses_a_child_at_the_same_level_as_its_parent() -> None:
    message = refused(
        LEVELS,
        [Node("yq", "银泉社区", "community", None), Node("g1", "第一网格", "grid", "yq"),
         Node("g2", "第二网格", "grid", "g1")],
    )
    assert "'g2'" in message and "below its parent" in message


def test_refuses_a_child_above_its_parent() -> None:
    message = refused(
        LEVELS,
        [Node("yq", "银泉社区", "community", None), Node("u", "单元", "unit", "yq"),
         Node("g", "网格", "grid", "u")],
    )
    assert "'g'" in message and "'u'" in message


def test_refuses_a_duplicate_id() -> None:
    message = refused(
        LEVELS,
        [Node("yq", "银泉社区", "community", None), Node("g1", "第一网格", "grid", "yq"),
         Node("g1", "第二网格", "grid", "yq")],
    )
    assert "duplicate node id 'g1'" in message


def test_refuses_an_unknown_parent() -> None:
    message = refused(LEVELS, [Node("yq", "银泉社区", "community", None), Node("g1", "第一网格", "grid", "nowhere")])
    assert "'g1'" in message and "unknown parent 'nowhere'" in message


def test_refuses_an_unknown_level() -> None:
    message = refused(LEVELS, [Node("yq", "银泉社区", "community", None), Node("g1", "第一网格", "street", "yq")])
    assert "'g1'" in message and "unknown level 'street'" in message


def test_refuses_a_second_root_unless_forest() -> None:
    nodes = [Node("a", "甲街道", "community", None), Node("b", "乙街道", "community", None)]
    assert "second root" in refused(LEVELS, nodes) and "'b'" in refused(LEVELS, nodes)
    h = Hierarchy.build(LEVELS, nodes, forest=True)
    assert [n.id for n in h.roots()] == ["a", "b"]
    assert h.path("b") == "乙街道"


def test_refuses_a_root_below_the_top_level() -> None:
    message = refused(LEVELS, [Node("g", "网格", "grid", None)])
    assert "'g'" in message and "top level" in message


def test_refuses_a_side_grid_without_a_parent() -> None:
    message = refused(LEVELS, [Node("yq", "社区", "community", None), Node("s", "学校", "grid", None, kind=DEDICATED)])
    assert "'s'" in message and "attached" in message


def test_refuses_a_territorial_node_under_a_side_grid() -> None:
    message = refused(
        LEVELS,
        [Node("yq", "社区", "community", None), Node("s", "学校", "grid", "yq", kind=DEDICATED),
         Node("u", "单元", "unit", "s")],
    )
    assert "territorial node 'u'" in message


def test_refuses_a_side_grid_at_its_parents_level() -> None:
    message = refused(
        LEVELS,
        [Node("yq", "社区", "community", None), Node("g", "网格", "grid", "yq"),
         Node("s", "学校", "grid", "g", kind=DEDICATED)],
    )
    assert "'s'" in message and "below its parent" in message


def test_refuses_bad_levels_and_empty_trees() -> None:
    assert "at least one level" in refused((), [])
    assert "declared twice" in refused(("a", "a"), [])
    assert "at least one node" in refused(LEVELS, [])


def test_refuses_bad_node_fields() -> None:
    with pytest.raises(HierarchyError, match="unknown kind 'special'"):
        Node("x", "x", "grid", "yq", kind="special")
    with pytest.raises(HierarchyError, match="id must be non-empty"):
        Node(" ", "x", "grid", None)


def test_sources_prefix_messages() -> None:
    with pytest.raises(HierarchyError, match=r"^nodes.csv row 3: node 'g1'"):
        Hierarchy.build(
            LEVELS,
            [Node("yq", "社区", "community", None), Node("g1", "网格", "grid", "nowhere")],
            sources={"yq": "nodes.csv row 2", "g1": "nodes.csv row 3"},
        )


# ------------------------------------------------------------ invariants over random trees

ids = st.text(
    alphabet=st.sampled_from("abcxyz019-_网格单元社区银泉楼栋"), min_size=1, max_size=6
).filter(lambda s: s.strip() == s)


@st.composite
def trees(draw: st.DrawFn) -> tuple[tuple[str, ...], list[Node]]:
    """A random valid tree: levels, then nodes in a shuffled declaration order."""
    depth = draw(st.integers(1, 5))
    levels = tuple(f"L{i}" for i in range(depth))
    names = draw(st.lists(ids, min_size=1, max_size=40, unique=True))
    nodes = [Node(names[0], f"根{names[0]}", levels[0], None)]
    for name in names[1:]:
        candidates = [n for n in nodes if levels.index(n.level) < depth - 1]
        if not candidates:
            break
        parent = draw(st.sampled_from(candidates))
        low = levels.index(parent.level) + 1
        level = levels[draw(st.integers(low, depth - 1))]
        side = parent.kind != "territorial" or draw(st.integers(0, 5)) == 0
        kind = draw(st.sampled_from((INDUSTRY, DEDICATED))) if side else "territorial"
        nodes.append(Node(name, f"名{name}", level, parent.id, kind=kind))
    order = draw(st.permutations(nodes))
    return levels, list(order)


@settings(max_examples=150, deadline=None)
@given(trees())
def test_random_trees_are_consistent(tree: tuple[tuple[str, ...], list[Node]]) -> None:
    levels, nodes = tree
    h = Hierarchy.build(levels, nodes)
    assert len(h) == len(nodes) and {n.id for n in h} == {n.id for n in nodes}
    roots = [n for n in h if n.parent is None]
    assert len(roots) == 1
    for x in h:
        ancestors = h.ancestors(x.id)
        # no cycle: the chain of parents ends at the root, visiting each node once
        assert len(set(ancestors)) == len(ancestors) < len(h)
        assert (ancestors[-1] if ancestors else x) == roots[0]
        if x.parent is not None:
            assert h.parent(x.id) == h.node(x.parent)
            assert sum(1 for p in h if x in h.children(p.id)) == 1
        for level in levels:
            found = h.ancestor_at(x.id, level)
            chain = h.ancestors(x.id, include_self=True)
            expected = [n for n in chain if n.level == level]
            assert found == (expected[0] if expected else None)
        for a in h:
            below = x in h.descendants(a.id)
            assert below == (a in ancestors)
            assert h.is_within(x.id, a.id) == (below or a == x)
    for leaf in h.leaves():
        assert leaf.kind == "territorial"
        assert all(c.kind != "territorial" for c in h.children(leaf.id))


@settings(max_examples=60, deadline=None)
@given(trees())
def test_random_trees_round_trip_through_documents(tree: tuple[tuple[str, ...], list[Node]]) -> None:
    levels, nodes = tree
    community = Community.build("测试社区", "Asia/Shanghai", Hierarchy.build(levels, nodes))
    assert Community.from_document(community.to_document()) == community


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.integers(0, 2), st.randoms(use_true_random=False))
def test_random_mutations_are_refused(
    tree: tuple[tuple[str, ...], list[Node]], mutation: int, rnd: random.Random
) -> None:
    levels, nodes = tree
    h = Hierarchy.build(levels, nodes)
    victim = rnd.choice(nodes)
    changed = list(nodes)
    if mutation == 0:  # a cycle: hang a node under itself or one of its descendants
        below = rnd.choice(h.descendants(victim.id, include_self=True))
        changed[changed.index(victim)] = Node(victim.id, victim.name, victim.level, below.id, kind=victim.kind)
        expected = "cycle"
    elif mutation == 1:  # a duplicate id
        changed.insert(rnd.randrange(len(changed) + 1), Node(victim.id, "重复", victim.level, victim.parent))
        expected = "duplicate node id"
    else:  # an unknown parent
        changed[changed.index(victim)] = Node(victim.id, victim.name, victim.level, "不存在的节点", kind=victim.kind)
        expected = "unknown parent"
    with pytest.raises(HierarchyError, match=expected) as info:
        Hierarchy.build(levels, changed)
    assert (victim.id if mutation == 0 else repr(victim.id)) in str(info.value)
