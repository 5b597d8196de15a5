"""The Chinese of the help texts of ``gridcore points`` and its sub-commands (积分), by their English:
shown instead of it when the CLI speaks Chinese (``lazy_command(..., chinese=HELP_ZH)``; docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    "Points (积分): balances, statements, the monthly board, redemption.": "积分：余额、明细、每月公示、兑换。",
    "Show MEMBER's points balance now (after expiry).": "显示成员 MEMBER 现在的积分余额（已扣除过期积分）。",
    "Show the monthly public points board (ranking) of NODE.": "显示节点 NODE 的每月积分公示（排名）。",
    "The month to publish, e.g. 2025-03 (or another period: 2025-Q1, 2025, 2025-W09).":
        "公示哪个月，如 2025-03（也可以是其他时段：2025-Q1、2025、2025-W09）。",
    "List claims the anti-gaming rules flagged.": "列出被防刷分规则标记待核的申报。",
    "Only under this node.": "只看这个节点及其下级。",
    "Only in this period.": "只看这个时段。",
    "Redeem REWARD for MEMBER; refused with the reason if it cannot be done.": "为成员 MEMBER 兑换礼遇 REWARD；不能兑换时拒绝并说明原因。",
    "How many.": "兑换几件。",
    "Where it is redeemed (default: the member's home or cell).": "在哪个节点兑换（默认：成员的居住地或所在网格）。",
    "Who records it (default: the member).": "操作人（默认：成员本人）。",
    "Event id (default: made from member, reward and time).": "记录编号（默认：由成员、礼遇和时间生成）。",
    "Show the rewards list in force (积分礼遇清单) and the stock left. A community with its own variant of the "
    "district's rules has its own list: ``--node`` (or ``--member``, for the member's home) shows it.":
        "显示现行的积分礼遇清单和剩余库存。社区有自己的规则集变体时有自己的清单：用 --node"
        "（或 --member，按成员的居住地）查看。",
    "The list of the ruleset governing this node (its id or name; default: the member's home, else the whole tree's).":
        "适用于这个节点（编号或名称）的规则集的清单（默认：成员的居住地，否则为整棵树的）。",
    "Whose list: that of the ruleset governing the member's home.": "看谁的清单：适用于该成员居住地的规则集的清单。",
    "Show MEMBER's points entries over a period.": "显示成员 MEMBER 某一时段的积分明细。",
    "2025-03, 2025-Q1, 2025, 2025-W09 or 2025-03-01.": "时段：2025-03、2025-Q1、2025、2025-W09 或 2025-03-01（也可写 2025年3月、2025年一季度）。",
    "Show points earned, redeemed and expired per node under NODE.": "按节点 NODE 下的各节点汇总获得、兑换和过期的积分。",
    "2025-03, 2025-Q1, 2025 ...": "时段：2025-03、2025-Q1、2025……",
}  # fmt: skip
