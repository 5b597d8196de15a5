"""The Chinese headings of the points plugin's report columns (积分), by column id: every table it builds
passes them as its ``headings`` (docs/plugins.md, "Reports"), as a third party's plugin would."""

from __future__ import annotations

from collections.abc import Mapping

HEADINGS_ZH: Mapping[str, str] = {
    "balance": "积分余额", "decision": "决定编号", "earned": "获得积分", "expired": "已过期", "kind": "类别", "level": "层级",
    "limit_per_member": "每人限额", "member": "成员编号", "name": "名称", "node": "节点编号", "points": "积分",
    "price": "所需积分", "rank": "排名", "redeemed": "已兑换", "reward": "礼遇", "role": "角色", "rule": "规则",
    "stock_left": "剩余库存", "time": "时间", "valid": "有效期", "what": "事项",
}  # fmt: skip
