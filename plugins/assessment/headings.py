"""The Chinese headings of the assessment plugin's report columns (考核), by column id: every table it builds
passes them as its ``headings`` (docs/plugins.md, "Reports"), as a third party's plugin would."""

from __future__ import annotations

from collections.abc import Mapping

HEADINGS_ZH: Mapping[str, str] = {
    "acceptance_within_limit": "按时受理率", "amount": "金额", "assessed": "考核期", "status": "状态", "capped from": "名额限制前星级", "change": "变化",
    "closure_within_limit": "按时办结率", "detail": "明细", "level": "层级", "max": "满分", "mean_satisfaction": "平均满意度",
    "member": "成员编号", "metric": "指标", "month": "月份", "name": "名称", "node": "节点编号", "note": "说明",
    "overdue_incidents": "超时事件数", "participation": "居民活动参与率", "patrol_coverage": "巡查覆盖率", "points": "积分",
    "rated": "参评数", "registration_completeness": "登记完整率", "registered_participation": "登记居民活动参与率",
    "role": "角色", "rule": "规则", "score": "得分", "stars": "星级", "term": "项目", "unit": "单位",
    "unresolved_serious_incidents": "未解决重大事件", "value": "数值", "why": "原因",
}  # fmt: skip

#: A deduction's column (``overdue_incidents (adj.)``) is headed as its metric, marked 扣分.
HEADINGS_ZH = {**HEADINGS_ZH, **{f"{column} (adj.)": f"{zh}（扣分）" for column, zh in HEADINGS_ZH.items()}}

#: The Chinese of the inputs a rating's explanation shows (``gridcore --lang zh explain assessment:…``): a
#: metric's value (``metric NAME``) and each term of the score (``weight NAME``, ``deduction NAME`` ...).
INPUTS_ZH: Mapping[str, str] = {
    "metric": "指标", "weight": "权重", "deduction": "扣分", "bonus": "加分", "veto": "一票否决", "cap": "封顶",
    "adjustment": "调整", "score": "得分", "joined": "加入时间", "period start": "考核期开始",
}  # fmt: skip

#: The Chinese of the inputs the assessment plugin's metrics are computed from (``Metric.inputs_zh``), shown
#: with a metric's value in a rating's explanation (``指标 metric patrol_coverage = 57.14（单元数 cells: 7，...）``).
METRIC_INPUTS_ZH: Mapping[str, str] = {
    "cells": "单元数", "slots": "时段数", "required per slot": "每时段要求", "patrols counted": "记录巡查次数",
    "patrols credited": "计入巡查次数", "patrols required": "应巡查次数", "requirement": "巡查要求",
    "people on record": "在册人数", "took part": "参与人数", "residents": "居民数", "registered": "已登记",
    "complete": "信息完整", "households on record": "在册户数", "households assigned": "包联户数",
    "households looked after": "包联户数", "visited": "已走访", "not visited": "未走访",
    "members looking after households": "包联户人员数", "visited all": "全部走访", "not all visited": "未全部走访",
    "members": "人数", "serious severity": "重大事件等级", "open": "未解决", "patrols": "巡查次数",
}  # fmt: skip
