"""Who may record the core's events: the core rows of the permission table (docs/security.md).

The core owns four kinds of fact and decides who may record them:

* ``patrol_logged``: staff (any role but ``resident``) holding a role at the
  patrolled node or above; a gridworker patrols their own cells only;
* ``resident_registered``: staff at the node or above, or a resident
  registering someone in their own home cell (a household member);
* ``resident_moved``: the person moving, or staff holding a role at their old
  home or at the new node (or above);
* ``household_moved_in``, ``household_moved_out``, ``household_split``: staff
  holding a role at the household's cell or above (they keep the register);
* ``household_visited``: staff holding a role at the household's cell or
  above, or a member who looks after the household (包联户);
* every kind: never the actor ``system`` from outside, and no person field
  (the member of an activity, a registered person) may name ``system``.

``activity_recorded`` and the kinds of plugins are judged by their plugins
(the points plugin decides who records an activity for whom).  Each function
returns sentences, English then Chinese; an empty list allows the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import (
    SYSTEM_ACTOR,
    Event,
    HouseholdMovedIn,
    HouseholdMovedOut,
    HouseholdSplit,
    HouseholdVisited,
    PatrolLogged,
    ResidentMoved,
    ResidentRegistered,
)
from .roster import RESIDENT_ROLE

if TYPE_CHECKING:
    from collections.abc import Callable

    from .engine import Engine

__all__ = ["RESIDENT_ROLE", "home_of", "is_staff_at", "refusals", "reserved_names", "rule_for"]


def is_staff_at(engine: Engine, person: str, node: str) -> bool:
    """True if ``person`` holds a role other than ``resident`` at ``node`` or above."""
    return engine.community.holds_staff_role_at_or_above(person, node)


def home_of(engine: Engine, person: str) -> str | None:
    """Where ``person`` lives: their registered cell, else the roster's ``home`` (None if neither)."""
    home = engine.registered_home(person)
    if home is None and person in engine.community.members:
        home = engine.community.member(person).home
    return home


#: Event class -> the fields naming a person that may not be ``system`` (found once per class).
_PERSON_FIELDS: dict[type[Event], tuple[str, ...]] = {}


def person_fields(cls: type[Event]) -> tuple[str, ...]:
    """The fields of an event of class ``cls`` that may not name ``system`` when it is offered (``reserved_names``)."""
    fields = _PERSON_FIELDS.get(cls)
    if fields is None:
        fields = _PERSON_FIELDS[cls] = (
            *cls.people, *(("person",) if issubclass(cls, ResidentRegistered | ResidentMoved) else ()))
    return fields


def reserved_names(event: Event) -> list[str]:
    """Refusals for an event from outside that names ``system`` as a person."""
    reasons = []
    if event.actor == SYSTEM_ACTOR:
        reasons.append(
            f"actor {SYSTEM_ACTOR!r} is reserved for the events the engine derives itself; "
            f"name the person who did or recorded this ({SYSTEM_ACTOR} 为系统保留名，请填写实际操作人)"
        )
    cls = type(event)
    fields = _PERSON_FIELDS.get(cls)  # (asked for every event offered: the lookup without a call)
    for name in fields if fields is not None else person_fields(cls):
        if getattr(event, name, None) == SYSTEM_ACTOR:
            reasons.append(
                f"{name.replace('_', ' ')} {SYSTEM_ACTOR!r} is a name reserved for the engine, not a person "
                f"({SYSTEM_ACTOR} 为系统保留名，不能用作人员编号)"
            )
    return reasons


def refusals(engine: Engine, event: Event) -> list[str]:
    """Why the actor may not record this core event (``[]``: they may)."""
    cls = type(event)
    judge = _JUDGES.get(cls)
    if judge is None:  # (dispatched by class: most events are activities, which no core rule judges)
        judge = _JUDGES[cls] = _judge_for(cls)
    return judge(engine, event)


def _no_core_rule(engine: Engine, event: Event) -> list[str]:
    return []  # activities and plugins' kinds: their plugins judge who may record them


def _patrol(engine: Engine, event: Event) -> list[str]:
    actor, node = event.actor, event.node
    if engine.community.holds_staff_role_at_or_above(actor, node):  # (``is_staff_at``: most events are patrols)
        return []
    return [(
        f"{actor} may not log a patrol at {node}: only staff holding a role at {node} or above "
        "patrol it (巡查只能由本网格的工作人员登记)"
    )]


def _registration(engine: Engine, event: Event) -> list[str]:
    actor, node = event.actor, event.node
    home = home_of(engine, actor)
    if is_staff_at(engine, actor, node) or (
        home is not None and engine.community.hierarchy.is_within(node, home)
    ):
        return []
    return [(
        f"{actor} may not register residents at {node}: only staff holding a role at {node} or "
        "above, or a resident of that cell, may (只有本网格的工作人员或本网格居民可以登记居民)"
    )]


def _move(engine: Engine, event: Event) -> list[str]:
    assert isinstance(event, ResidentMoved)
    actor, node = event.actor, event.node
    old = engine.registered_home(event.person)
    if actor == event.person or is_staff_at(engine, actor, node) or (
        old is not None and is_staff_at(engine, actor, old)
    ):
        return []
    return [(
        f"{actor} may not move {event.person}: only {event.person}, or staff holding a role at "
        f"{old or '?'} or at {node} (or above), may (只有本人或所在网格的工作人员可以登记搬迁)"
    )]


def _household_change(engine: Engine, event: Event) -> list[str]:
    assert isinstance(event, HouseholdMovedIn | HouseholdMovedOut | HouseholdSplit)
    actor, node = event.actor, event.node
    if is_staff_at(engine, actor, node):
        return []
    return [(
        f"{actor} may not record that household {event.household} moves or splits at {node}: only staff "
        f"holding a role at {node} or above keep the household register (户的迁入、迁出和分户只能由本网格的工作人员登记)"
    )]


def _visit(engine: Engine, event: Event) -> list[str]:
    assert isinstance(event, HouseholdVisited)
    actor, node = event.actor, event.node
    if is_staff_at(engine, actor, node) or engine.households.looks_after(actor, event.household):
        return []
    return [(
        f"{actor} may not record a home visit to household {event.household} at {node}: only staff holding "
        f"a role at {node} or above, or a member who looks after it (包联户), may "
        "(入户走访只能由本网格的工作人员或包联人登记)"
    )]


def _judge_for(cls: type[Event]) -> Callable[[Engine, Event], list[str]]:
    """The rule judging events of ``cls`` (a subclass is judged as the core class it extends)."""
    if issubclass(cls, PatrolLogged):
        return _patrol
    if issubclass(cls, ResidentRegistered):
        return _registration
    if issubclass(cls, ResidentMoved):
        return _move
    if issubclass(cls, HouseholdMovedIn | HouseholdMovedOut | HouseholdSplit):
        return _household_change
    if issubclass(cls, HouseholdVisited):
        return _visit
    return _no_core_rule


def rule_for(cls: type[Event]) -> Callable[[Engine, Event], list[str]] | None:
    """The core rule ``refusals`` judges events of ``cls`` by (called with the engine and the event), or None
    where no core rule judges them (activities and the kinds of plugins: ``refusals`` answers ``[]``)."""
    judge = _judge_for(cls)
    return None if judge is _no_core_rule else judge


#: Event class -> the rule judging its events, found once per class.
_JUDGES: dict[type[Event], Callable[[Engine, Event], list[str]]] = {}
