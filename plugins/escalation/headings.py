"""The Chinese headings of the escalation plugin's report columns (事件上报), by column id: every table it builds
passes them as its ``headings`` (docs/plugins.md, "Reports"), as a third party's plugin would."""

from __future__ import annotations

from collections.abc import Mapping

HEADINGS_ZH: Mapping[str, str] = {
    "accept": "受理时限", "actor": "操作人", "age": "已用时", "also, only when": "另有条件时限", "cases": "事件数",
    "category": "事件类别", "closed": "结案数", "department": "条线部门", "detail": "明细", "due": "到期时间",
    "escalated": "提级事件数", "escalations": "提级次数", "incident": "事件编号", "level": "层级", "limit": "时限", "name": "名称",
    "next deadline": "下一时限", "node": "节点编号", "not yet": "尚未报到", "overdue by": "超时", "repeat reports": "重复上报",
    "reported": "上报数", "reported at": "上报时间", "reported in late": "逾时报到", "reported in on time": "按时报到",
    "resolve": "办结时限", "resolved late": "逾时办结", "resolved on time": "按时办结", "rule": "规则", "satisfaction": "满意度",
    "sent back": "退单", "severity": "严重程度", "status": "状态", "step": "环节", "summoned": "召集次数", "time": "时间",
    "times": "次数",
}  # fmt: skip
