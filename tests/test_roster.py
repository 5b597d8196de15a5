"""People, roles, departments, places and the Community built from them."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import GridcoreError, RosterError
from gridcore.community import Community
from gridcore.hierarchy import DEDICATED, Hierarchy, Node
from gridcore.roster import ROLES, Department, Member, Place, RoleAssignment, role_id
from gridcore_app.rosterio import load_community

MINI = Path(__file__).parent / "data" / "community-mini"


@pytest.fixture(scope="module")
def mini() -> Community:
    return load_community(MINI)


def small_hierarchy() -> Hierarchy:
    return Hierarchy.build(
        ("community", "grid", "unit"),
        [
            Node("yq", "银泉社区", "community", None),
            Node("g1", "第一网格", "grid", "yq"),
            Node("u1", "1单元", "unit", "g1"),
            Node("g2", "第二网格", "grid", "yq"),
            Node("school", "学校专属网格", "grid", "yq", kind=DEDICATED),
        ],
    )


def community(**changes: object) -> Community:
    parts: dict[str, object] = {
        "name": "银泉社区",
        "timezone": "Asia/Shanghai",
        "hierarchy": small_hierarchy(),
        "members": [Member("m1", "王芳", (RoleAssignment("grid_leader", "g1"),))],
        "departments": [Department("police", "派出所")],
        "places": [Place("p1", "1栋", "u1")],
    }
    parts.update(changes)
    return Community.build(**parts)  # type: ignore[arg-type]


# ------------------------------------------------------------ vocabulary


def test_role_ids_and_chinese_names() -> None:
    assert ROLES["grid_leader"] == "网格长"
    assert role_id("网格长") == "grid_leader"
    assert role_id("grid_leader") == "grid_leader"
    assert role_id(" 专业网格员 ") == "professional_gridworker"
    assert role_id("安全员", {**ROLES, "safety_officer": "安全员"}) == "safety_officer"
    with pytest.raises(RosterError, match="unknown role '保安'"):
        role_id("保安")


# ------------------------------------------------------------ queries on the sample community


def test_basic_facts(mini: Community) -> None:
    assert mini.name == "银泉社区"
    assert mini.tz == ZoneInfo("Asia/Shanghai")
    assert mini.level_names["unit"] == "最小单元"
    assert mini.level_label("grid") == "网格"
    assert mini.roles["safety_officer"] == "安全员"
    assert mini.roles["grid_leader"] == "网格长"
    assert mini.member("张伟").name == "张伟"
    with pytest.raises(RosterError, match="unknown member 'nobody'"):
        mini.member("nobody")


def test_holders(mini: Community) -> None:
    assert [m.id for m in mini.holders("g1")] == ["m02", "m03", "m04"]
    assert [m.id for m in mini.holders("g1", "grid_leader")] == ["m02"]
    assert [m.id for m in mini.holders("g2", "professional_gridworker")] == ["m04"]
    assert mini.holders("g1-u2") == ()
    with pytest.raises(Exception, match="unknown node"):
        mini.holders("nowhere")


def test_roles_at(mini: Community) -> None:
    assert mini.roles_at("张伟", "g2") == ("parttime_gridworker", "volunteer")
    assert mini.roles_at("m01", "yq") == ("master_grid_leader", "committee_member")
    assert mini.roles_at("m02", "g2") == ()


def test_holds_role_at_or_above(mini: Community) -> None:
    assert mini.holds_role_at_or_above("m02", "g1-u1", ["grid_leader"])
    assert mini.holds_role_at_or_above("m02", "g1")
    assert not mini.holds_role_at_or_above("m02", "g2-u1")
    assert not mini.holds_role_at_or_above("m02", "yq")
    assert mini.holds_role_at_or_above("m01", "g2-u1", {"master_grid_leader"})
    assert not mini.holds_role_at_or_above("m01", "g2-u1", ["grid_leader"])
    assert not mini.holds_role_at_or_above("a-resident", "g1")


def test_cells(mini: Community) -> None:
    assert mini.cells_of("m02") == ("g1", "g1-u1")  # role node, then home
    assert mini.cells_of("m05") == ("g1-u1",)  # home equals role node: no repeat
    assert mini.cells_of("m08") == ("g2-u1",)
    assert mini.is_within_cells("m02", "g1-u2")
    assert not mini.is_within_cells("m02", "g2")
    assert mini.is_within_cells("m01", "school")
    assert not mini.is_within_cells("not-a-member", "g1")


def test_departments_and_places(mini: Community) -> None:
    assert [m.id for m in mini.department_members("police")] == ["m04"]
    assert [m.id for m in mini.department_members("fire-dept")] == ["m09"]
    assert mini.department_members("urban") == ()
    with pytest.raises(RosterError, match="unknown department 'tax'"):
        mini.department_members("tax")
    assert mini.leaf_of("p1").id == "g1-u1"
    assert mini.leaf_of("p4").name == "银泉小学专属网格"
    with pytest.raises(RosterError, match="unknown place 'p99'"):
        mini.leaf_of("p99")


def test_document_round_trip(mini: Community) -> None:
    doc = mini.to_document()
    again = Community.from_document(json.loads(json.dumps(doc, ensure_ascii=False)))
    assert again == mini
    assert again.to_document() == doc
    assert doc["roles"] == {"safety_officer": "安全员"}  # only the community's own


def test_malformed_documents_are_refused(mini: Community) -> None:
    doc = mini.to_document()
    with pytest.raises(RosterError, match=r"members\[0\]\.party_member"):
        Community.from_document({**doc, "members": [{**doc["members"][0], "party_member": "yes"}]})
    with pytest.raises(RosterError, match="name"):
        Community.from_document({k: v for k, v in doc.items() if k != "name"})
    with pytest.raises(RosterError, match="version 9"):
        Community.from_document({**doc, "version": 9})
    with pytest.raises(RosterError, match="extra"):
        Community.from_document({**doc, "surprise": 1})


def test_community_is_frozen(mini: Community) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        mini.name = "别的社区"  # type: ignore[misc]
    with pytest.raises(TypeError):
        mini.members["x"] = Member("x", "某人")  # type: ignore[index]


# ------------------------------------------------------------ refusals


def test_refuses_a_role_at_an_unknown_node() -> None:
    with pytest.raises(RosterError, match="member 'm2' \\(陈强\\): role grid_leader at unknown node 'g9'"):
        community(members=[Member("m2", "陈强", (RoleAssignment("grid_leader", "g9"),))])


def test_refuses_an_unknown_role() -> None:
    with pytest.raises(RosterError, match="member 'm2'.*unknown role 'boss'"):
        community(members=[Member("m2", "陈强", (RoleAssignment("boss", "g1"),))])


def test_community_roles_extend_the_vocabulary() -> None:
    made = community(
        members=[Member("m2", "陈强", (RoleAssignment("safety_officer", "g1"),))],
        roles={"safety_officer": "安全员"},
    )
    assert made.roles_at("m2", "g1") == ("safety_officer",)


def test_refuses_two_roles_sharing_a_chinese_name() -> None:
    with pytest.raises(RosterError, match="share the name '网格长'"):
        community(roles={"other_leader": "网格长"})


def test_refuses_a_professional_gridworker_without_a_department() -> None:
    with pytest.raises(RosterError, match="member 'm2'.*needs a department"):
        community(members=[Member("m2", "赵刚", (RoleAssignment("professional_gridworker", "g1"),))])


def test_refuses_an_unknown_department() -> None:
    with pytest.raises(RosterError, match="member 'm2'.*unknown department 'tax'"):
        community(members=[Member("m2", "赵刚", (RoleAssignment("professional_gridworker", "g1", "tax"),))])


def test_refuses_a_home_at_an_unknown_node() -> None:
    with pytest.raises(RosterError, match="member 'm2'.*home at unknown node 'x'"):
        community(members=[Member("m2", "赵刚", home="x")])


def test_refuses_a_place_at_an_unknown_node_or_not_in_a_cell() -> None:
    with pytest.raises(RosterError, match="place 'p2' \\(2栋\\) at unknown node 'u9'"):
        community(places=[Place("p2", "2栋", "u9")])
    with pytest.raises(RosterError, match="place 'p2'.*leaf cell.*'g1'"):
        community(places=[Place("p2", "2栋", "g1")])


def test_refuses_duplicate_ids() -> None:
    with pytest.raises(RosterError, match="duplicate member id 'm1'"):
        community(members=[Member("m1", "甲"), Member("m1", "乙")])
    with pytest.raises(RosterError, match="duplicate department id 'police'"):
        community(departments=[Department("police", "甲"), Department("police", "乙")])
    with pytest.raises(RosterError, match="duplicate place id 'p1'"):
        community(places=[Place("p1", "甲", "u1"), Place("p1", "乙", "u1")])


def test_refuses_a_repeated_assignment() -> None:
    twice = (RoleAssignment("grid_leader", "g1"), RoleAssignment("grid_leader", "g1"))
    with pytest.raises(RosterError, match="listed twice"):
        community(members=[Member("m2", "甲", twice)])


def test_refuses_an_unknown_time_zone_and_level_names() -> None:
    with pytest.raises(RosterError, match="unknown time zone 'Mars/Olympus'"):
        community(timezone="Mars/Olympus")
    with pytest.raises(RosterError, match="unknown level 'street'"):
        community(level_names={"street": "街道"})


def test_refuses_malformed_facts() -> None:
    with pytest.raises(RosterError, match="id must be non-empty"):
        Member("", "某人")
    with pytest.raises(RosterError, match="party_member must be true or false"):
        Member("m", "某人", party_member="yes")  # type: ignore[arg-type]
    with pytest.raises(RosterError, match="RoleAssignment"):
        Member("m", "某人", ("grid_leader",))
    with pytest.raises(RosterError, match="filed under the id 'x'"):
        Community(name="社区", timezone="Asia/Shanghai", hierarchy=small_hierarchy(),
                  members={"x": Member("m1", "王芳")})


# ------------------------------------------------------------ a larger roster


def test_district_sized_roster_queries() -> None:
    """3,000 members over ~1,100 nodes: built once, then every query is a lookup."""
    levels = ("street", "community", "grid", "household")
    nodes = [Node("s", "街道", "street", None)]
    members = []
    for c in range(20):
        nodes.append(Node(f"c{c}", f"社区{c}", "community", "s"))
        for g in range(27):
            nodes.append(Node(f"c{c}g{g}", f"网格{g}", "grid", f"c{c}"))
            nodes.append(Node(f"c{c}g{g}h", "户", "household", f"c{c}g{g}"))
    for n in range(3000):
        grid = f"c{n % 20}g{n % 27}"
        members.append(Member(f"m{n}", f"网格员{n}", (RoleAssignment("fulltime_gridworker", grid),)))
    made = Community.build("银州区", "Asia/Shanghai", Hierarchy.build(levels, nodes), members)
    assert made.holds_role_at_or_above("m0", "c0g0h")
    assert not made.holds_role_at_or_above("m1", "c0g0h")
    assert len(made.holders("c0g0")) == len([n for n in range(3000) if n % 20 == 0 and n % 27 == 0])


# ------------------------------------------------------------ round trip with random rosters

member_ids = st.text(alphabet=st.sampled_from("abc123张王李网格"), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.lists(
    st.tuples(member_ids, st.sampled_from(["g1", "u1", "g2", "school"]), st.sampled_from(sorted(ROLES)),
              st.booleans(), st.sampled_from([None, "u1", "g2"])),
    max_size=12, unique_by=lambda t: t[0],
))
def test_random_rosters_round_trip(rows: list[tuple[str, str, str, bool, str | None]]) -> None:
    members = [
        Member(ident, f"名{ident}", (RoleAssignment(role, node, "police" if role == "professional_gridworker" else None),),
               party_member=party, home=home)
        for ident, node, role, party, home in rows
    ]
    made = community(members=members)
    assert Community.from_document(made.to_document()) == made
    for member in members:
        assert made.holds_role_at_or_above(member.id, member.roles[0].node, [member.roles[0].role])
        assert member in made.holders(member.roles[0].node, member.roles[0].role)


def test_equal_communities_hash_alike(mini: Community) -> None:
    again = Community.from_document(mini.to_document())
    assert hash(again) == hash(mini)
    assert {mini: 1}[again] == 1


def test_a_document_with_a_bad_node_is_refused(mini: Community) -> None:
    doc = mini.to_document()
    nodes = [{**doc["nodes"][0], "kind": "special"}, *doc["nodes"][1:]]
    with pytest.raises(GridcoreError, match="unknown kind 'special'"):
        Community.from_document({**doc, "nodes": nodes})
    with pytest.raises(RosterError, match="malformed"):
        Community.from_document("not a document")  # type: ignore[arg-type]


def test_pickle_and_deepcopy(mini: Community) -> None:
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(mini)) == mini
    assert copy.deepcopy(mini) == mini
    assert pickle.loads(pickle.dumps(mini.hierarchy)) == mini.hierarchy


def test_unknown_nodes_raise_in_queries_whoever_asks(mini: Community) -> None:
    with pytest.raises(GridcoreError, match="unknown node 'nowhere'"):
        mini.holds_role_at_or_above("not-a-member", "nowhere")
    with pytest.raises(GridcoreError, match="unknown node 'nowhere'"):
        mini.is_within_cells("not-a-member", "nowhere")


def test_responsible_for(mini: Community) -> None:
    assert [m.id for m in mini.responsible_for("g1-u2", "grid_leader")] == ["m02"]
    assert [m.id for m in mini.responsible_for("g1-u1", "unit_leader")] == ["m05"]
    assert [m.id for m in mini.responsible_for("school", "master_grid_leader")] == ["m01"]
    assert mini.responsible_for("g1-u2", "unit_leader") == ()
