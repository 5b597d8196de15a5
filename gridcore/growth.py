"""A roster that only grows: a new community (or street, grid, household) added to a running store.

A district adds a community by adding its subtree to the roster files and
opening the store with them (``gridcore init --community DIR`` on the existing
store).  Nothing recorded so far can name what is new: events naming unknown
nodes or people were refused.  So the results already derived stand, and the
engine takes the new roster on without judging a single event again.

That holds only when the new roster keeps every item of the saved one exactly
as it was and adds to it.  ``roster_growth`` compares the two documents
(``Community.to_document``) and says what was added, or what changed that is
not an addition (a renamed node, a member who lost a role, a different time
zone): such a change is refused, as before.

The store records when each node and member a growth adds joined: the
engine's clock at the growth (``stamp_joined``), saved with the roster
(``Community.nodes_joined``, ``members_joined``), so every process opening the
store, a checkpoint and a replay read the same times.  Roster files carry no
such time; ``carry_joined`` gives a roster read from them the times the store
recorded.  Nodes and members there from the start have none: an assessment
rates them in every period, as before; one that joined is rated and paid from
the first period starting at or after it joined (``plugins/assessment``).

A store that grew before joining times were recorded has none for what it
added: ``date_joined`` (``Engine.record_joined``, ``gridcore hierarchy joined
NODE --at TIME``) records them afterwards, refusing a time after the events
already stored there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .classes import frozen

if TYPE_CHECKING:
    from .community import Community
    from .events import Event

#: Lists of items with an ``id``: an old id must keep its item exactly; new ids are additions.
_BY_ID = ("nodes", "departments", "members", "places", "households", "residents")
#: Lists of items without an id (care links): every old item must still be there.
_BY_VALUE = ("care",)
#: Mappings: every old key must keep its value; new keys are additions.
_BY_KEY = ("level_names", "roles", "locations")
#: Values that must not change at all (``joined``, the store's own record, is carried, not compared).
_FIXED = ("version", "name", "timezone", "levels", "forest")

#: What staff read, per kind of item (Chinese first in the CLI's messages).
_NAMES = {
    "nodes": "nodes / 节点", "departments": "departments / 部门", "members": "members / 人员",
    "places": "places / 地址", "households": "households / 户", "residents": "residents / 居民",
    "care": "care links / 包联关系", "level_names": "level names / 层级名称", "roles": "roles / 角色",
    "locations": "locations / 位置",
}


@frozen
class Growth:
    """What a new roster adds to a saved one, and what it changes that is not an addition."""

    #: kind ("nodes", "members", ...) -> the ids (or keys) added, in the new roster's order
    added: Mapping[str, tuple[str, ...]]
    #: each change that is not an addition, said for staff (empty: the roster only grew)
    changed: tuple[str, ...]

    @property
    def grows(self) -> bool:
        """True when the new roster keeps every saved item and adds at least one."""
        return not self.changed and any(self.added.values())

    def summary(self) -> str:
        """The additions counted by kind, e.g. ``+1 nodes / 节点, +12 members / 人员``."""
        return ", ".join(f"+{len(ids)} {_NAMES.get(kind, kind)}" for kind, ids in self.added.items() if ids)


def roster_growth(saved: Mapping[str, Any], new: Mapping[str, Any]) -> Growth:
    """Compare a saved community document with a new one (both from ``Community.to_document``)."""
    added: dict[str, tuple[str, ...]] = {}
    changed: list[str] = []
    for key in _FIXED:
        if saved.get(key) != new.get(key):
            changed.append(f"{key} changed from {saved.get(key)!r} to {new.get(key)!r}")
    for key in _BY_ID:
        old = {str(item["id"]): item for item in saved.get(key, ())}
        now = {str(item["id"]): item for item in new.get(key, ())}
        added[key] = _kept_and_added(_NAMES[key], old, now, changed,
                                     lambda a, b: f"changed ({_difference(a, b)})")
    for key in _BY_VALUE:
        old_items = {_canonical(item) for item in saved.get(key, ())}
        new_items = [_canonical(item) for item in new.get(key, ())]
        for item in sorted(old_items - set(new_items)):
            changed.append(f"{_NAMES[key]}: {item} was removed")
        added[key] = tuple(item for item in new_items if item not in old_items)
    for key in _BY_KEY:
        added[key] = _kept_and_added(_NAMES[key], saved.get(key) or {}, new.get(key) or {}, changed,
                                     lambda a, b: f"changed from {a!r} to {b!r}")
    return Growth(added={k: v for k, v in added.items() if v}, changed=tuple(changed))


def _kept_and_added(kind: str, old: Mapping[str, Any], now: Mapping[str, Any], changed: list[str],
                    how: Callable[[Any, Any], str]) -> tuple[str, ...]:
    """The names ``now`` adds to ``old``; each old name removed or changed goes to ``changed``."""
    for name, value in old.items():
        if name not in now:
            changed.append(f"{kind}: {name} was removed")
        elif now[name] != value:
            changed.append(f"{kind}: {name} {how(value, now[name])}")
    return tuple(name for name in now if name not in old)


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)


def _difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    fields = sorted({*old, *new})
    return "; ".join(f"{name}: {old.get(name)!r} -> {new.get(name)!r}"
                     for name in fields if old.get(name) != new.get(name))


def stamp_joined(community: Community, growth: Growth, now: datetime) -> Community:
    """``community`` with each node and member ``growth`` adds recorded as joined at ``now``."""
    nodes = {key: now for key in growth.added.get("nodes", ())}
    members = {key: now for key in growth.added.get("members", ())}
    if not nodes and not members:
        return community
    return attrs.evolve(community, nodes_joined={**community.nodes_joined, **nodes},
                        members_joined={**community.members_joined, **members})


def carry_joined(saved: Community, community: Community) -> Community:
    """``community`` (a roster as read from its files) with the joining times the store recorded in
    ``saved`` for the nodes and members it still holds (a time the files' own community gives for
    one of them is replaced by the store's)."""
    nodes = {k: v for k, v in saved.nodes_joined.items() if k in community.hierarchy}
    members = {k: v for k, v in saved.members_joined.items() if k in community.members}
    if dict(community.nodes_joined) == {**community.nodes_joined, **nodes} and \
            dict(community.members_joined) == {**community.members_joined, **members}:
        return community
    return attrs.evolve(community, nodes_joined={**community.nodes_joined, **nodes},
                        members_joined={**community.members_joined, **members})


def date_joined(community: Community, node: str, when: datetime, events: Iterable[Event]
                ) -> tuple[Community, tuple[str, ...], tuple[str, ...]]:
    """``community`` with ``node`` (its subtree) and the members holding roles in it recorded as joined at
    ``when``: for a store that grew before joining times were recorded (``Engine.record_joined``).

    Returns the community and the node and member ids newly dated (none when ``node`` already has that
    time).  Refused (``GridcoreError``, nothing changed): an unknown node; a node recorded as joined at
    another time (itself or an ancestor); a node under it recorded as joined before ``when``; and a time
    after the first of ``events`` (in canonical order) naming a node of the subtree or one of those
    members: what was recorded there was there by then.
    """
    from .errors import GridcoreError, UnknownNameError

    hierarchy = community.hierarchy
    if node not in hierarchy:
        raise UnknownNameError(hierarchy.unknown(node))
    tz = community.tz
    shown = f"{when.astimezone(tz):%Y-%m-%d %H:%M}"
    recorded = community.joined(node)
    if recorded is not None and recorded != when:
        raise GridcoreError(f"{node} is recorded as joined on {recorded.astimezone(tz):%Y-%m-%d %H:%M} (its own time "
                            "or the node's above it it was added with): a recorded joining time is not changed "
                            f"({node} 已记录于 {recorded.astimezone(tz):%Y-%m-%d %H:%M} 加入，已记录的加入时间不再改动)")
    subtree = {n.id for n in hierarchy.descendants(node, include_self=True)}
    earlier = sorted(k for k in subtree if k in community.nodes_joined and community.nodes_joined[k] < when)
    if earlier:
        raise GridcoreError(f"{earlier[0]}, under {node}, is recorded as joined on "
                            f"{community.nodes_joined[earlier[0]].astimezone(tz):%Y-%m-%d %H:%M}, before {shown} "
                            f"({earlier[0]} 已记录的加入时间早于 {shown})")
    members = {m.id for m in community.members.values() if any(a.node in subtree for a in m.roles)}
    for event in events:
        named = {event.actor, *(str(getattr(event, f)) for f in type(event).people if getattr(event, f, None))}
        if event.node in subtree or named & members:
            if event.time < when:
                first = f"{event.time.astimezone(tz):%Y-%m-%d %H:%M}"
                raise GridcoreError(
                    f"{node} cannot have joined on {shown}: the store holds its events from {first} on (the first: "
                    f"{event.id}, {event.kind} at {event.node} by {event.actor}); give a time at or before {first} "
                    f"({node} 的事件最早记于 {first}（{event.id}），加入时间不能晚于此)")
            break
    nodes = tuple(sorted(k for k in subtree if k not in community.nodes_joined)) if recorded is None else ()
    dated = tuple(sorted(m for m in members if m not in community.members_joined)) if recorded is None else ()
    if not nodes and not dated:
        return community, (), ()
    return (attrs.evolve(community, nodes_joined={**community.nodes_joined, **dict.fromkeys(nodes, when)},
                         members_joined={**community.members_joined, **dict.fromkeys(dated, when)}),
            nodes, dated)
