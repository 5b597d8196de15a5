"""The core's permission checks, made cheaper, decide exactly as before (gridcore/permissions.py).

``is_staff_at`` reads an index of the nodes where each member holds a role
other than ``resident`` (``Community.holds_staff_role_at_or_above``), the
rules are dispatched by event class and the fields that may not name
``system`` are found once per class.  The functions below are the code these
replaced, kept as the reference: for generated events (every core kind, every
actor, node and person of a small community with households, residents
registered and care links) the reasons are the same, in the same order.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_permissions import community, setup_events

from gridcore import Community, Engine, FixedClock, get_plugin_manager, permissions
from gridcore.errors import HierarchyError
from gridcore.events import (
    SYSTEM_ACTOR,
    ActivityRecorded,
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    PatrolLogged,
    ResidentMoved,
    ResidentRegistered,
)
from gridcore.hierarchy import Hierarchy

RESIDENT_ROLE = "resident"


# ------------------------------------------------------------ the reference: the code before

def old_is_staff_at(engine: Engine, person: str, node: str) -> bool:
    community = engine.community
    staff = [role for role in community.roles if role != RESIDENT_ROLE]
    return bool(community.holds_role_at_or_above(person, node, staff))


def old_reserved_names(event: Event) -> list[str]:
    reasons = []
    if event.actor == SYSTEM_ACTOR:
        reasons.append(
            f"actor {SYSTEM_ACTOR!r} is reserved for the events the engine derives itself; "
            f"name the person who did or recorded this ({SYSTEM_ACTOR} 为系统保留名，请填写实际操作人)"
        )
    fields = [*type(event).people, *(["person"] if isinstance(event, ResidentRegistered | ResidentMoved) else [])]
    for name in fields:
        if getattr(event, name, None) == SYSTEM_ACTOR:
            reasons.append(
                f"{name.replace('_', ' ')} {SYSTEM_ACTOR!r} is a name reserved for the engine, not a person "
                f"({SYSTEM_ACTOR} 为系统保留名，不能用作人员编号)"
            )
    return reasons


def old_refusals(engine: Engine, event: Event) -> list[str]:
    actor, node = event.actor, event.node
    if isinstance(event, PatrolLogged):
        if old_is_staff_at(engine, actor, node):
            return []
        return [(
            f"{actor} may not log a patrol at {node}: only staff holding a role at {node} or above "
            "patrol it (巡查只能由本网格的工作人员登记)"
        )]
    if isinstance(event, ResidentRegistered):
        home = permissions.home_of(engine, actor)
        if old_is_staff_at(engine, actor, node) or (
            home is not None and engine.community.hierarchy.is_within(node, home)
        ):
            return []
        return [(
            f"{actor} may not register residents at {node}: only staff holding a role at {node} or "
            "above, or a resident of that cell, may (只有本网格的工作人员或本网格居民可以登记居民)"
        )]
    if isinstance(event, ResidentMoved):
        old = engine.registered_home(event.person)
        if actor == event.person or old_is_staff_at(engine, actor, node) or (
            old is not None and old_is_staff_at(engine, actor, old)
        ):
            return []
        return [(
            f"{actor} may not move {event.person}: only {event.person}, or staff holding a role at "
            f"{old or '?'} or at {node} (or above), may (只有本人或所在网格的工作人员可以登记搬迁)"
        )]
    if isinstance(event, HouseholdMovedIn | HouseholdMovedOut | HouseholdSplit):
        if old_is_staff_at(engine, actor, node):
            return []
        return [(
            f"{actor} may not record that household {event.household} moves or splits at {node}: only staff "
            f"holding a role at {node} or above keep the household register (户的迁入、迁出和分户只能由本网格的工作人员登记)"
        )]
    if isinstance(event, HouseholdVisited):
        if old_is_staff_at(engine, actor, node) or engine.households.looks_after(actor, event.household):
            return []
        return [(
            f"{actor} may not record a home visit to household {event.household} at {node}: only staff holding "
            f"a role at {node} or above, or a member who looks after it (包联户), may "
            "(入户走访只能由本网格的工作人员或包联人登记)"
        )]
    return []


# ------------------------------------------------------------ the comparison

@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder: Path = tmp_path_factory.mktemp("permissions_quick")
    with Engine.open(store=str(folder / "store"), community=community(), clock=FixedClock(START + timedelta(days=1)),
                     plugins=get_plugin_manager(("assessment",))) as opened:
        opened.record_many(setup_events())
        yield opened


def _nodes() -> list[str]:
    return [node.id for node in community().hierarchy]


PEOPLE = [*sorted(community().members), "res1", "res3", "res4", "stranger", SYSTEM_ACTOR]


@st.composite
def core_events(draw: st.DrawFn) -> Event:
    """An event of a core kind by anyone, anywhere, naming anyone (known or not)."""
    base: dict[str, Any] = {"id": "e", "time": START + timedelta(hours=1), "actor": draw(st.sampled_from(PEOPLE)),
                            "node": draw(st.sampled_from(_nodes()))}
    person = draw(st.sampled_from(PEOPLE))
    household = draw(st.sampled_from(["h11", "h21", "h99"]))
    made: list[Event] = [
        PatrolLogged(**base),
        ActivityRecorded(**base, activity="cleanup", member=draw(st.sampled_from([None, *PEOPLE]))),
        ResidentRegistered(**base, person=person),
        ResidentMoved(**base, person=person),
        HouseholdMovedIn(**base, household=household, name="家"),
        HouseholdMovedOut(**base, household=household),
        HouseholdSplit(**base, household=household, new_household="h77", name="家"),
        HouseholdVisited(**base, household=household),
    ]
    return draw(st.sampled_from(made))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=core_events())
def test_refusals_are_those_of_the_reference(engine: Engine, event: Event) -> None:
    assert permissions.refusals(engine, event) == old_refusals(engine, event)
    assert permissions.reserved_names(event) == old_reserved_names(event)


def _staff_outcome(check: Any, *args: str) -> Any:
    try:
        return check(*args)
    except HierarchyError as exc:
        return str(exc)


@pytest.mark.parametrize("made", ["small", "district"])
def test_staff_at_every_node_as_the_reference(made: str, engine: Engine) -> None:
    """Every member (and non-members, and unknown nodes) at every node of a small community and of a district."""
    if made == "small":
        subject: Community = engine.community
    else:
        from conftest import REPO

        from gridcore_app.rosterio import load_community
        subject = load_community(REPO / "rulesets" / "yinzhou")
    staff = [role for role in subject.roles if role != RESIDENT_ROLE]
    members = sorted(subject.members)
    people = [*members[:: max(1, len(members) // 60)], "stranger", SYSTEM_ACTOR]
    nodes = [node.id for node in subject.hierarchy][:: max(1, len(subject.hierarchy) // 80)] + ["nowhere"]
    staff_seen = 0
    for person in people:
        for node in nodes:
            new = _staff_outcome(subject.holds_staff_role_at_or_above, person, node)
            assert new == _staff_outcome(lambda p, n: bool(subject.holds_role_at_or_above(p, n, staff)), person, node)
            staff_seen += new is True
    assert staff_seen  # the comparison saw staff, not only refusals


def test_within_any_is_within_one_of_them() -> None:
    hierarchy: Hierarchy = community().hierarchy
    nodes = [node.id for node in hierarchy]
    for node in nodes:
        for first in nodes:
            for second in nodes:
                assert hierarchy.is_within_any(node, (first, second)) == (
                    hierarchy.is_within(node, first) or hierarchy.is_within(node, second))
        assert not hierarchy.is_within_any(node, ())
    with pytest.raises(HierarchyError):
        hierarchy.is_within_any("nowhere", ())
    with pytest.raises(HierarchyError):
        hierarchy.is_within_any(nodes[-1], ("nowhere",))


def test_the_time_zone_is_the_community_s() -> None:
    made = community()
    assert made.tz.key == made.timezone and made.tz is made.tz
