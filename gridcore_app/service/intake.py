"""Reports coming in over the network: which cell, which category, which event.

Shared by the JSON API and Open311.  A report names where it is in one of
four ways, tried in this order: a ``node``; a ``place`` id (an address of the
roster, which knows its leaf cell); an ``address`` (a place's id or name as
written on the roster); or a latitude/longitude, which finds the cell whose
location holds it (``Community.cell_at``: the deepest node, so a unit wins
over its grid).  A spot outside every located cell is refused with the
nearest cells named.  A category is its code or its name in the ruleset in
force (``category leaking_pipe: 水管漏水`` makes ``水管漏水`` work too).
"""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from gridcore import Engine, EventError, EventRefused
from gridcore_escalation import Category, categories

from .problems import Problem, passed_on


def category_code(engine: Engine, given: str, *, strict: bool,
                  node: str | None = None) -> tuple[str, Category | None]:
    """The category code ``given`` names (a code or a name in force at ``node``: under the ruleset
    governing it, a community's own variant's), and its declaration if any.

    ``strict`` (Open311: the service must be on the list) refuses a category
    the ruleset does not list; otherwise an unlisted code is kept as written,
    as the engine accepts any category.
    """
    text = given.strip()
    listed = categories(engine, node=node)
    for category in listed:
        if text in (category.code, category.name):
            return category.code, category
    if strict:
        close = difflib.get_close_matches(text, [c.code for c in listed] + [c.name for c in listed], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise Problem(
            "not-found",
            f"unknown service_code {text!r}{hint}; GET services lists them",
            f"未知的事件类别 {text!r}" + (f"（是不是：{'、'.join(close)}？）" if close else ""),
        )
    if not text:
        raise Problem("invalid-request", "category is empty", "事件类别为空")
    return text, None


def locate(
    engine: Engine,
    *,
    node: str | None = None,
    place: str | None = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> tuple[str, str | None]:
    """The ``(node, place)`` a report belongs to; a ``Problem`` saying why if none."""
    community = engine.community
    if node:
        community.hierarchy.node(node)  # HierarchyError: unknown node
        return node, place or None
    if place:
        return community.leaf_of(place).id, place
    if address:
        return _by_address(engine, address)
    if lat is not None and lon is not None:
        return _by_spot(engine, lat, lon), None
    raise Problem(
        "invalid-request",
        "say where: a node, a place, an address, or lat and long",
        "请说明位置：节点、地址编号、地址或经纬度",
    )


def _by_address(engine: Engine, address: str) -> tuple[str, str]:
    places = engine.community.places
    if not places:  # (a district's roster, as Yinzhou's, keeps none)
        raise Problem(
            "not-found",
            f"the roster keeps no places, so no address is known ({address.strip()!r}); say where with node "
            "(a cell's id or name) instead",
            f"花名册中没有登记地址，无法按地址 {address.strip()!r} 定位；请用 node 写明网格（编号或名称）",
        )
    wanted = " ".join(address.split()).casefold()
    for place in places.values():
        if wanted in (place.id.casefold(), " ".join(place.name.split()).casefold()):
            return place.node, place.id
    close = difflib.get_close_matches(address.strip(), [p.name for p in places.values()], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise Problem(
        "not-found",
        f"no place on the roster is called {address.strip()!r}{hint}",
        f"花名册中没有名为 {address.strip()!r} 的地址",
        {"suggestions": close},
    )


def _by_spot(engine: Engine, lat: float, lon: float) -> str:
    community = engine.community
    try:
        found = community.cell_at(lat, lon)
    except ValueError as exc:
        raise passed_on("invalid-request", str(exc)) from None
    if found is not None:
        return found
    if not community.locations:
        raise Problem(
            "outside-cells",
            f"{community.name} has no cell locations on its roster; report with an address or a place",
            f"{community.name} 的花名册没有标注网格的位置，请用地址或地址编号上报",
            {"nearest": []},
        )
    near = community.nearest_cells(lat, lon)
    named = ", ".join(f"{community.hierarchy.node(n).name} ({n}) {metres:.0f} m" for n, metres in near)
    raise Problem(
        "outside-cells",
        f"lat {lat} long {lon} is outside every cell of {community.name}; nearest: {named}",
        f"经纬度 {lat}, {lon} 不在 {community.name} 的任何网格内；最近的是：{named}",
        {"nearest": [
            {"node": n, "name": community.hierarchy.node(n).name, "metres": round(metres)} for n, metres in near
        ]},
    )


#: Actions arriving within the same instant as the latest event are ordered after it by this much.
TICK = timedelta(microseconds=1)
#: an action is stamped just after the latest event when that is at most this far ahead of now
STAMP_AHEAD = timedelta(seconds=1)


def local_now(engine: Engine) -> datetime:
    """The time to record an action at: now, in the community's time zone.

    The engine orders events by (time, id); two actions in the same instant
    (a report and its acceptance under a test clock, or within one
    microsecond) would be ordered by their ids, not by arrival.  So an action
    is recorded a microsecond after the latest event when that is now or just
    ahead of it (within a second); arrival order is the engine's order.
    """
    now = engine.clock.now()
    latest = engine.latest_event_time
    if latest is not None and now <= latest < now + STAMP_AHEAD:
        now = latest + TICK
    return now.astimezone(engine.community.tz)


def stamp(engine: Engine, event_id: str | None) -> datetime:
    """The time to record an action with id ``event_id`` at: ``local_now``, or for a retry the stored time.

    A client that sends its own id (an idempotency key) and sends the request
    again must get "already stored", not a conflict on the time the service
    stamped the first time.
    """
    if event_id is not None:
        stored = engine.store.find([event_id]).get(event_id)
        if stored is not None and isinstance(stored.get("time"), str):
            try:
                return datetime.fromisoformat(stored["time"])
            except ValueError:
                pass  # not a time: the engine names the conflict
    return local_now(engine)


def new_incident_id(when: datetime) -> str:
    """A fresh incident id: the day and 8 random hex digits (unique across worker processes)."""
    return f"R{when:%Y%m%d}-{secrets.token_hex(4)}"


def report(
    engine: Engine,
    *,
    actor: str,
    category: str,
    node: str,
    place: str | None,
    description: str = "",
    severity: int = 1,
    channel: str = "api",
    key_person: bool = False,
    incident: str | None = None,
    event_id: str | None = None,
) -> tuple[str, bool]:
    """Record an ``incident_reported`` through the engine (its validation, its refusals).

    Returns the incident id and whether the event was new.  Decisions taken
    at report time (immediate escalation) are recorded with it by the engine.
    """
    when = stamp(engine, event_id)
    if incident is None and event_id is not None:
        # a retry answers the incident the first request opened
        first = engine.store.find([event_id]).get(event_id)
        if first is not None and isinstance(first.get("incident"), str):
            incident = first["incident"]
    ident = incident or new_incident_id(when)
    doc: dict[str, Any] = {
        "kind": "incident_reported",
        "id": event_id or f"{ident}:report",
        "time": when.isoformat(),
        "actor": actor,
        "node": node,
        "incident": ident,
        "category": category,
        "severity": severity,
        "place": place,
        "channel": channel,
        "key_person": key_person,
        "description": description,
    }
    stored, _ = record(engine, doc)
    return ident, stored


def record(engine: Engine, doc: Mapping[str, Any]) -> tuple[bool, int]:
    """Record one event; whether it was new and how many events it decided on the spot.

    Raises the engine's ``EventError`` or ``EventRefused`` as ``Engine.record`` does.
    """
    summary = engine.record_many([doc])
    if summary.refused:
        refusal = summary.refused[0]
        if refusal.malformed:
            raise EventError(refusal.reasons[0])
        raise EventRefused(refusal.event_id, refusal.reasons)
    return summary.accepted == 1, summary.derived


def fields(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse keys of ``body`` outside ``allowed``, naming them."""
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise Problem(
            "invalid-request",
            f"unknown field(s) {', '.join(extra)} (expected some of {', '.join(allowed)})",
            f"未知字段 {', '.join(extra)}",
        )
