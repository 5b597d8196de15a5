"""The Chinese of the help texts of ``gridcore tasks`` and its sub-commands (专项任务), by their English:
shown instead of it when the CLI speaks Chinese (``lazy_command(..., chinese=HELP_ZH)``; docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    "Tasks (专项任务): assign to the staff of a subtree, record completions, list what is overdue.":
        "专项任务：派给某个范围的工作人员，记录完成情况，列出逾期未完成的。",
    "Assign TASK to the members holding its roles at NODE or below.": "把任务 TASK 派给在节点 NODE 及其下级担任相应角色的成员。",
    "The kind of task, as the ruleset's tasks section names it.": "任务类别，按规则集“专项任务”栏目中的名称。",
    "The subtree whose staff the task goes to.": "任务派给哪个范围的工作人员。",
    "Due before this time (without a zone, the community's: 2025-03-31T18:00; default: the ruleset's 'within' after "
    "now).": "完成期限（不带时区即社区所在时区：2025-03-31T18:00；默认：现在加上规则集规定的期限）。",
    "A role it goes to (repeat; default: the ruleset's 'to').": "派给哪个角色（可重复；默认：规则集规定的角色）。",
    "What the task is, in words.": "任务内容说明。",
    "Who does it (a member's id or name).": "操作人（成员编号或姓名）。",
    "The event's id (default: made from the task and time).": "这条记录的编号（默认：由任务和时间生成）。",
    "Call TASK off: nothing of it is overdue any more.": "取消任务 TASK：此后不再算逾期。",
    "Why it is called off.": "取消的原因。",
    "Record that --actor did their part of TASK.": "记录 --actor 已完成任务 TASK 中自己的部分。",
    "Where the work was done.": "在哪里完成的。",
    "How many things it found.": "发现了多少项。",
    "What was found, in words.": "发现情况说明。",
    "Tasks with their assignments by status and the share done on time.": "任务列表：按状态统计的派发情况和按时完成率。",
    "Only tasks due in PERIOD: 2025-Q1, 2025-03, 2025-W10 ...": "只列期限在时段 PERIOD 内的任务：2025-Q1、2025-03、2025-W10……",
    "Only tasks assigned at NODE or below.": "只列派给节点 NODE 及其下级的任务。",
    "Assignments past their deadline and not done.": "已过期限仍未完成的任务派发。",
    "Only assignments for NODE or below.": "只列节点 NODE 及其下级的派发。",
    "One task's assignments: whose, for which cell, status, what was found.": "一个任务的派发情况：派给谁、哪个网格、状态、发现了什么。",
}  # fmt: skip
