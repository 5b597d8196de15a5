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

#: The Chinese of the inputs an escalation's explanation shows (``gridcore --lang zh explain escalation:…``).
INPUTS_ZH: Mapping[str, str] = {
    "applies as": "适用为", "approved by": "批准人", "asked": "申请延期", "at most": "最多次数", "category": "事件类别",
    "clock": "计时", "clock_started": "开始计时", "deadline": "时限截止", "deadline after": "延期后截止",
    "deadline before": "延期前截止", "extensions so far": "已延期次数", "from": "原节点", "incident": "事件",
    "limit": "时限", "paused": "已暂停", "reported at": "上报节点", "requested by": "申请人", "resolve limit": "办结时限",
    "severity": "严重程度", "span": "时长", "working_time": "工作时间", "window": "时间窗", "open incident": "未结案事件",
    "its last report before": "此前最后一次上报", "place": "地址", "to": "提级到", "department": "条线部门",
    "handler": "办理人", "role": "角色", "source": "来源", "when": "条件",
    # (what an ignored step, escalation, reopening, pass or join says: ignored.py)
    "step": "环节", "late event": "补录事件", "recorded": "录入顺序", "refused in time order": "按时间顺序应拒绝",
    "ignored because": "忽略原因", "counts": "是否计入", "case then": "事件当时", "its reason": "原因",
    "joined now": "现并入", "latest step before it": "此前最后一步",
    # (what a rule's condition read: an escalation's, a reopening's)
    "reopening": "第几次返工", "reopens when": "返工条件", "satisfaction": "满意度", "repeats": "重复上报次数",
    "key_person": "涉及重点人员", "channel": "上报渠道",
    # (the holidays and make-up days a limit in working time ran over)
    "days off": "节假日", "make-up days": "补班日",
}  # fmt: skip

#: The Chinese of the inputs the escalation plugin's metrics are computed from (``Metric.inputs_zh``), shown
#: with a metric's value in a rating's explanation (``按时受理 accepted within limit: 17，事件数 incidents: 17``).
METRIC_INPUTS_ZH: Mapping[str, str] = {
    "incidents": "事件数", "accepted within limit": "按时受理", "closed within limits": "按时办结", "reopened": "返工",
    "escalated": "上报", "told within limit": "按时反馈", "reported in on time": "按时报到",
    "resolved on time": "按时办结", "summoned": "召集次数", "sent back": "退单", "verifications": "回访评价数",
    "limits missed": "超时次数", "overdue": "超时事件", "patrols": "巡查次数", "cases resolved": "办结事件数",
    "within limits": "未超时", "late": "超时",
}  # fmt: skip
