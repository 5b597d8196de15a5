"""Conditions on points items (``when member.party_member``), as data.

A condition is a small tree of frozen attrs nodes evaluated against a flat
mapping of *facts* (``member.party_member`` -> ``True``).  Only the fields in
``FIELDS`` exist: a ruleset naming anything else is rejected when it is
compiled, and evaluation is a dictionary lookup, never ``eval`` or
``getattr``, so a ruleset cannot reach anything outside this schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

#: Every field a condition may read, with its meaning (documented in docs/points.md).
FIELDS: dict[str, str] = {
    "member.id": "the member's id",
    "member.role": "the member's roles (== tests whether one of them is the value)",
    "member.party_member": "true if the member is a party member",
    "node.id": "the id of the node the event happened in",
    "node.level": "the level of that node (e.g. grid, unit)",
    "event.activity": "the activity's name",
    "event.hours": "hours recorded",
    "event.quantity": "units recorded",
    "event.weekday": "day of the week, 1 = Monday ... 7 = Sunday (community time zone)",
    "event.hour": "hour of the day, 0-23 (community time zone)",
    "incident.category": "the incident's category",
    "incident.severity": "the incident's severity, 1-5",
    "incident.channel": "how the incident came in (patrol, phone, ...)",
    "incident.satisfaction": "the satisfaction score given at verification, 1-5",
    "incident.rating": "the mean of residents' satisfaction ratings",
}

#: Chinese spellings of the fields.
FIELD_ALIASES: dict[str, str] = {
    "成员.编号": "member.id",
    "成员.角色": "member.role",
    "成员.党员": "member.party_member",
    "节点.编号": "node.id",
    "节点.层级": "node.level",
    "活动.名称": "event.activity",
    "活动.小时": "event.hours",
    "活动.数量": "event.quantity",
    "活动.星期": "event.weekday",
    "活动.时刻": "event.hour",
    "事件.类别": "incident.category",
    "事件.严重程度": "incident.severity",
    "事件.渠道": "incident.channel",
    "事件.满意度": "incident.satisfaction",
    "事件.评分": "incident.rating",
}

Value = str | int | float | bool


@frozen
class Field:
    """A fact read by name (one of ``FIELDS``)."""

    name: str


@frozen
class Literal:
    """A constant: a number, true/false, or a name (role, level, category ...)."""

    value: Value


@frozen
class Compare:
    """``left op right`` with op one of == != < <= > >= in."""

    op: str
    left: Field
    right: Literal | tuple[Literal, ...]


@frozen
class Within:
    """``node within X``: the event's node is X or below it."""

    ancestor: str


@frozen
class Truth:
    """A field used alone (``when member.party_member``)."""

    field: Field


@frozen
class All:
    """Every part holds (``and`` / ``且``)."""

    parts: tuple[Condition, ...]


@frozen
class Any_:
    """At least one part holds (``or`` / ``或``)."""

    parts: tuple[Condition, ...]


@frozen
class Not:
    """The part does not hold (``not`` / ``非``)."""

    part: Condition


Condition = Compare | Within | Truth | All | Any_ | Not


def canonical_field(name: str) -> str | None:
    """The schema name of a field spelled in English or Chinese, or None if unknown."""
    if name in FIELDS:
        return name
    return FIELD_ALIASES.get(name)


def holds(condition: Condition | None, facts: Mapping[str, Any], within: Any = None) -> bool:
    """Evaluate ``condition`` against ``facts``; a missing fact makes a test false.

    ``within(ancestor)`` answers ``node within ancestor``.
    """
    if condition is None:
        return True
    if isinstance(condition, All):
        return all(holds(part, facts, within) for part in condition.parts)
    if isinstance(condition, Any_):
        return any(holds(part, facts, within) for part in condition.parts)
    if isinstance(condition, Not):
        return not holds(condition.part, facts, within)
    if isinstance(condition, Within):
        return bool(within(condition.ancestor)) if within is not None else False
    if isinstance(condition, Truth):
        value = facts.get(condition.field.name)
        if isinstance(value, (set, frozenset)):
            return bool(value)
        return bool(value)
    return _compare(condition, facts.get(condition.left.name))


def _compare(cond: Compare, value: Any) -> bool:
    if value is None:
        return False
    if cond.op == "in":
        options = cond.right if isinstance(cond.right, tuple) else (cond.right,)
        wanted = {str(o.value) if isinstance(value, (str, set, frozenset)) else o.value for o in options}
        if isinstance(value, (set, frozenset)):
            return bool(wanted & {str(v) for v in value})
        return value in wanted
    assert isinstance(cond.right, Literal)
    right = cond.right.value
    if isinstance(value, (set, frozenset)):
        found = str(right) in {str(v) for v in value}
        if cond.op == "==":
            return found
        if cond.op == "!=":
            return not found
        return False
    if isinstance(value, bool) or isinstance(right, bool):
        if cond.op == "==":
            return value == right
        if cond.op == "!=":
            return value != right
        return False
    if isinstance(value, (int, float)) and isinstance(right, (int, float)):
        return _numeric(cond.op, float(value), float(right))
    left_s, right_s = str(value), str(right)
    if cond.op == "==":
        return left_s == right_s
    if cond.op == "!=":
        return left_s != right_s
    return False


def _numeric(op: str, left: float, right: float) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    return False


def describe(condition: Condition | None) -> str:
    """The condition as text, for explanations."""
    if condition is None:
        return ""
    if isinstance(condition, All):
        return " and ".join(_wrap(p) for p in condition.parts)
    if isinstance(condition, Any_):
        return " or ".join(_wrap(p) for p in condition.parts)
    if isinstance(condition, Not):
        return f"not {_wrap(condition.part)}"
    if isinstance(condition, Within):
        return f"node within {condition.ancestor}"
    if isinstance(condition, Truth):
        return condition.field.name
    right = (
        "[" + ", ".join(str(o.value) for o in condition.right) + "]"
        if isinstance(condition.right, tuple)
        else str(condition.right.value)
    )
    return f"{condition.left.name} {condition.op} {right}"


def _wrap(condition: Condition) -> str:
    text = describe(condition)
    return f"({text})" if isinstance(condition, (All, Any_)) else text


def fields_used(condition: Condition | None) -> set[str]:
    """The field names a condition reads (to show them as inputs)."""
    if condition is None:
        return set()
    if isinstance(condition, (All, Any_)):
        out: set[str] = set()
        for part in condition.parts:
            out |= fields_used(part)
        return out
    if isinstance(condition, Not):
        return fields_used(condition.part)
    if isinstance(condition, Within):
        return {"node.id"}
    if isinstance(condition, Truth):
        return {condition.field.name}
    return {condition.left.name}
