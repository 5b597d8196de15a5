"""The Chinese headings of the planning plugin's report columns (网格规划), by column id: every table it builds
passes them as its ``headings`` (docs/plugins.md, "Reports"), as a third party's plugin would."""

from __future__ import annotations

from collections.abc import Mapping

HEADINGS_ZH: Mapping[str, str] = {
    "households": "户数", "level": "层级", "name": "名称", "node": "节点编号", "people": "人数",
    "planned households": "规划户数", "planned people": "规划人数", "rule": "规则", "status": "状态",
}  # fmt: skip
