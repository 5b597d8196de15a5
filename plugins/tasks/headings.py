"""The Chinese headings of the tasks plugin's report columns (专项任务), by column id: every table it builds
passes them as its ``headings`` (docs/plugins.md, "Reports"), as a third party's plugin would."""

from __future__ import annotations

from collections.abc import Mapping

HEADINGS_ZH: Mapping[str, str] = {
    "assigned": "派发时间", "assignees": "承办人数", "deadline": "截止时间", "done": "已完成", "kind": "类别", "member": "成员编号",
    "name": "名称", "node": "节点编号", "note": "说明", "on time %": "按时完成率%", "open": "未完成", "overdue": "逾期未完成",
    "overdue by": "超时", "late": "逾期完成", "task": "专项任务", "title": "标题", "completed": "完成时间", "found": "发现情况",
    "status": "状态",
}  # fmt: skip

#: The Chinese of the inputs a task's explanation shows (``gridcore --lang zh explain tasks:…``).
INPUTS_ZH: Mapping[str, str] = {
    "assigned": "派发时间", "assigned by": "派发人", "assignment": "派发", "cell": "网格", "deadline": "期限",
    "found": "发现", "kind": "任务类别", "roles": "角色", "cancelled": "已取消", "completed": "完成情况",
}  # fmt: skip

#: The Chinese of the inputs the tasks plugin's metrics are computed from (``Metric.inputs_zh``).
METRIC_INPUTS_ZH: Mapping[str, str] = {
    "assignments due": "应完成派发数", "done on time": "按时完成", "done late": "逾期完成", "not done": "逾期未完成",
    "still open": "尚未到期", "missed": "未按时完成", "assignments missed": "逾期派发数", "parts due": "应完成部分",
}  # fmt: skip
