"""The plugin's published event: a drill was held (other plugins may import this module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from attrs import field, frozen

from gridcore.events import Event, between, non_empty


@frozen(kw_only=True)
class DrillHeld(Event):
    """A drill (``drill``: its name as the ruleset spells it) was held in the cell ``node``.

    ``participants`` is how many people took part (residents, staff, volunteers).
    """

    kind: ClassVar[str] = "drill_held"
    title_zh: ClassVar[str] = "消防演练"
    doc_zh: ClassVar[str] = "在网格 node 举行了一次演练（drill：规则集中的演练名称）。"
    fields_zh: ClassVar[Mapping[str, str]] = {"drill": "演练", "participants": "参加人数", "note": "说明"}
    drill: str = field(validator=non_empty)
    participants: int = field(default=0, validator=between(0, 100_000))
    note: str = ""
