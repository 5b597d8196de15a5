"""The facts a points rule may read, and compiled rule expressions over them.

A condition (``when member.party_member``) or a computed amount is written in
the rules language's shared expression language and compiled by it against
the documented schema (``gridcore.rules.schema``); what the points plugin
passes in is a ``Facts`` value made of the plain records below.  Nothing else
is reachable from a ruleset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from attrs import Factory, field

from gridcore.classes import frozen
from gridcore.events import Event


@frozen
class MemberRecord:
    """``member``: the person a rule is about (schema ``gridcore.rules.schema.MEMBER``)."""

    id: str
    name: str
    role: str
    roles: tuple[str, ...]
    party_member: bool


@frozen
class NodeRecord:
    """``node``: the cell an event happened in (schema ``NODE``)."""

    id: str
    name: str
    level: str
    kind: str


@frozen
class IncidentRecord:
    """``incident``: an incident as the points plugin saw it (schema ``INCIDENT``)."""

    id: str
    category: str
    severity: int
    level: str
    key_person: bool
    channel: str
    age: timedelta


@frozen
class Facts:
    """Everything a points rule may read about one decision.

    ``weekday`` (1 = Monday) and ``hour`` are the event's local time in the
    community's zone; ``satisfaction`` (1-5, at verification) and ``rating``
    (mean of residents' ratings) are set for incident items.
    """

    member: MemberRecord
    node: NodeRecord
    event: Event
    weekday: int
    hour: int
    incident: IncidentRecord | None = None
    satisfaction: float | None = None
    rating: float | None = None

    def show(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The values of ``names`` (``member.party_member``, ``weekday``) for explanations."""
        out: dict[str, Any] = {}
        for name in names:
            root, _, attr = name.partition(".")
            value: Any = _ROOTS[root](self) if root in _ROOTS else None
            if attr and value is not None:
                value = _field(value, attr)
            if isinstance(value, tuple):
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)  # 3, not 3.0, however the event was decoded
            out[name] = value
        return out


def _field(record: Any, attr: str) -> Any:
    # Only attrs fields of our own records and events are shown, never other attributes.
    names = {f.name for f in getattr(type(record), "__attrs_attrs__", ())}
    return getattr(record, attr) if attr in names else None


_ROOTS: dict[str, Callable[[Facts], Any]] = {
    "member": lambda f: f.member,
    "node": lambda f: f.node,
    "event": lambda f: f.event,
    "incident": lambda f: f.incident,
    "weekday": lambda f: f.weekday,
    "hour": lambda f: f.hour,
    "satisfaction": lambda f: f.satisfaction,
    "rating": lambda f: f.rating,
}


@frozen
class Check:
    """A compiled condition: ``test(facts)``; ``text`` as written; ``reads`` the names it uses."""

    text: str
    test: Callable[[Facts], bool] = field(eq=False, repr=False)
    reads: tuple[str, ...] = ()
    #: ``holds(facts)``: True if the condition holds; a missing value (no rating yet) makes it
    #: false.  By default ``test`` guarded; the compiler gives one function doing both.
    holds: Callable[[Facts], bool] = field(eq=False, repr=False,
                                          default=Factory(lambda self: _guarded(self.test), takes_self=True))


def _guarded(test: Callable[[Facts], Any]) -> Callable[[Facts], bool]:
    def holds(facts: Facts) -> bool:
        try:
            return bool(test(facts))
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            return False

    return holds


@frozen
class Formula:
    """A compiled computed amount: ``compute(facts)`` gives a number of points."""

    text: str
    compute: Callable[[Facts], float] = field(eq=False, repr=False)
    reads: tuple[str, ...] = ()
