"""gridcore's built-in points plugin (import name ``gridcore_points``).

Points (积分) for activities and incident work under each community's ruleset,
a ledger with first-in-first-out expiry, rewards, recognition, anti-gaming
rules, statements and the monthly public board.  See docs/points.md.

The Python API takes an engine::

    import gridcore_points
    gridcore_points.balance(engine, "m01")
    gridcore_points.statement(engine, "m01", "2025-03")
    gridcore_points.redeem(engine, "m01", "大米", quantity=1)
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        BoardRow,
        NodeTotals,
        RewardStatus,
        Statement,
        activity_names,
        activity_refusals,
        balance,
        board,
        deductions,
        entries,
        flags,
        home_of,
        node_totals,
        redeem,
        redemption_id,
        rewards,
        role_label,
        said_zh,
        state,
        statement,
    )
    from .events import RecognitionAwarded
    from .ledger import Entry

# Imported on first use, so loading the plugin (its entry point) stays cheap.
_LAZY = {
    "BoardRow": ".api",
    "NodeTotals": ".api",
    "RewardStatus": ".api",
    "Statement": ".api",
    "activity_names": ".api",
    "activity_refusals": ".api",
    "balance": ".api",
    "board": ".api",
    "deductions": ".api",
    "entries": ".api",
    "flags": ".api",
    "home_of": ".api",
    "node_totals": ".api",
    "redeem": ".api",
    "redemption_id": ".api",
    "rewards": ".api",
    "role_label": ".api",
    "said_zh": ".api",
    "state": ".api",
    "statement": ".api",
    "RecognitionAwarded": ".events",
    "Entry": ".ledger",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps the function ``state`` from being replaced by the submodule of the same name when it loads."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "BoardRow",
    "Entry",
    "NodeTotals",
    "RecognitionAwarded",
    "RewardStatus",
    "Statement",
    "activity_names",
    "activity_refusals",
    "balance",
    "board",
    "deductions",
    "entries",
    "flags",
    "home_of",
    "node_totals",
    "redeem",
    "redemption_id",
    "rewards",
    "role_label",
    "said_zh",
    "state",
    "statement",
]
