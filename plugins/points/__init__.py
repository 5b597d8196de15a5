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

from .api import (
    BoardRow,
    NodeTotals,
    RewardStatus,
    Statement,
    balance,
    board,
    entries,
    flags,
    home_of,
    node_totals,
    redeem,
    redemption_id,
    rewards,
    role_label,
    state,
    statement,
)
from .events import RecognitionAwarded
from .ledger import Entry

__all__ = [
    "BoardRow",
    "Entry",
    "NodeTotals",
    "RecognitionAwarded",
    "RewardStatus",
    "Statement",
    "balance",
    "board",
    "entries",
    "flags",
    "home_of",
    "node_totals",
    "redeem",
    "redemption_id",
    "rewards",
    "role_label",
    "state",
    "statement",
]
