"""The points plugin's events (its published module): redemptions and recognition awards.

Registered through ``gridcore_register_event_types`` like any plugin's events;
other plugins may import this module to read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.events import Event, between, non_empty


def _positive_points(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive whole number, got {value!r} (须为正整数)")


def _reason(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("reason must say why the points are awarded (须写明加分理由)")


@frozen(kw_only=True)
class RecognitionAwarded(Event):
    """A leader (the actor) awards ``points`` to ``member`` for ``reason`` (表扬加分).

    Allowed only by a ruleset's ``recognition`` line, by the roles it names, at
    or above the event's node, within the budget per grid and period; a leader
    awarding themselves is refused (or flagged, if the ruleset says so).
    """

    kind: ClassVar[str] = "recognition_awarded"
    title_zh: ClassVar[str] = "表扬加分"
    doc_zh: ClassVar[str] = "领导（操作人）因 reason 给 member 表扬加分 points 分。"
    fields_zh: ClassVar[Mapping[str, str]] = {"member": "受表扬成员", "points": "积分"}
    member: str = field(validator=attrs.validators.instance_of(str))
    points: int = field(validator=_positive_points)
    reason: str = field(validator=_reason)


@frozen(kw_only=True)
class PointsRedeemed(Event):
    """A member spent points on an item of the rewards list (积分礼遇清单)."""

    kind: ClassVar[str] = "points_redeemed"
    title_zh: ClassVar[str] = "积分兑换"
    doc_zh: ClassVar[str] = "成员用积分兑换积分礼遇清单中的一项。"
    fields_zh: ClassVar[Mapping[str, str]] = {"member": "兑换人"}
    people: ClassVar[tuple[str, ...]] = ("member",)
    reward: str = field(validator=non_empty)
    quantity: int = field(default=1, validator=between(1, 1_000_000))
    member: str | None = None

    @property
    def redeemer(self) -> str:
        """The member whose points are spent: ``member`` if given, else the actor."""
        return self.member or self.actor


#: Every event kind of the points plugin.
POINTS_EVENT_TYPES: tuple[type[Event], ...] = (PointsRedeemed, RecognitionAwarded)
