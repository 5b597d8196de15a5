"""The plugin's published event: a drill was held (other plugins may import this module)."""

from __future__ import annotations

from typing import ClassVar

from attrs import field, frozen

from gridcore.events import Event, between, non_empty


@frozen(kw_only=True)
class DrillHeld(Event):
    """A drill (``drill``: its name as the ruleset spells it) was held in the cell ``node``.

    ``participants`` is how many people took part (residents, staff, volunteers).
    """

    kind: ClassVar[str] = "drill_held"
    drill: str = field(validator=non_empty)
    participants: int = field(default=0, validator=between(0, 100_000))
    note: str = ""
