"""The Chinese of the help texts of ``gridcore incidents`` and its sub-commands (事件), by their English:
shown instead of it when the CLI speaks Chinese (``lazy_command(..., chinese=HELP_ZH)``; docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    "Incidents through the closed loop: report, accept, handle, resolve, verify, close (事件).":
        "事件闭环：上报、受理、办理、办结、核查、结案。",
    "Accept an incident at its current node.": "在事件当前所在的节点受理事件。",
    "Member (their id or name) or registered resident doing it.": "操作人：花名册上的成员（写编号或姓名）或已登记的居民。",
    "Where it happened: a node's id or name (default: where the incident was reported).":
        "发生在哪个节点：写节点编号或名称（默认：事件上报的节点）。",
    "Id of the event (default: INCIDENT:STEP:TIME, with :ACTOR when another person's step holds that id).":
        "这条记录的编号（默认：事件编号:环节:时间；该编号已被他人的记录占用时再加 :操作人）。",
    "Approve the extension request waiting on an incident (延期批准): its resolve deadline moves.":
        "批准事件待批的延期申请：办结时限随之顺延。",
    "Assign (派单) or reassign a case to a named handler, who takes it on under their role's limits.":
        "派单或改派：把事件交给指定的办理人，按其角色的时限办理。",
    "Why (shown in the timeline).": "原因（显示在事件经过中）。",
    "Who handles it (their id or name).": "由谁办理（写编号或姓名）。",
    "Close a verified incident.": "对已核查的事件结案。",
    "Record a consultation (会商) on an incident: who took part and what they decided.": "记录事件的会商：谁参加、商定了什么。",
    "What the consultation decided.": "会商商定的结果。",
    "A participant, their id or name (repeat for each: --with leader1 --with police1).":
        "参加人，写编号或姓名（每人写一次：--with leader1 --with police1）。",
    "Blow the whistle: move the incident up to NODE, or hand it to a line department (--department alone keeps it "
    "where it is and adds the department), or both.":
        "吹哨报到：把事件提级到上级节点 NODE，或交给条线部门（只给 --department 时事件留在原处并召集该部门），"
        "或两者都做。",
    "Why it is escalated (shown in the timeline and explain).": "提级的原因（显示在事件经过和 explain 中）。",
    "A line department (条线部门) to hand it to, e.g. fire, police, housing.": "交给哪个条线部门，填部门编号，如 “fire”（消防）、“police”（公安）、“housing”（住建）。",
    "The node above to move it to (default: where it is now; needs --department then).":
        "提级到哪个上级节点（默认：留在当前节点，此时须给 --department）。",
    "Ask for more time to resolve (延期申请): --days and/or --hours, counted like the level's resolve limit "
    "(working days and hours when it is in working time).":
        "申请延期办结：--days 和/或 --hours，与该层级的办结时限同样计算（时限按工作时间计时即为工作日和工作小时）。",
    "Why more time is needed.": "需要延期的原因。",
    "Tell the reporter the result (反馈) of a resolved incident.": "把已办结事件的结果反馈给上报人。",
    "How (phone, visit, wechat ...).": "反馈方式（电话、上门、微信……）。",
    "What the reporter was told.": "告诉上报人的内容。",
    "Start handling an accepted incident.": "开始办理已受理的事件。",
    "Which time limit applies where: each category at each level of its ladder, and the rule that wins. FILE: as "
    "that ruleset file writes them. Without FILE: as the store's rulesets in force, those of the ruleset governing "
    "``--node`` (a community's own variant).":
        "哪里适用哪个时限：每个类别在其提级路线每一层级的时限，以及起作用的规则。给出 FILE：按该规则集文件；"
        "不给 FILE：按库中现行的规则集，即适用于 --node 的规则集（社区自己的变体）。",
    "Where 'extends' also looks (after the file's own folder).": "继承（extends）还在哪里查找上级规则集（在文件自己的文件夹之后）。",
    "The day (default: the latest version; without FILE: now).": "哪一天（默认：最新版本；不给 FILE 时为现在）。",
    "Without FILE: the limits of the ruleset governing this node in the store (its id or name; default: the "
    "incident's node, else the whole tree's).":
        "不给 FILE 时：库中适用于这个节点（编号或名称）的规则集的时限（默认：事件所在节点，否则为整棵树的）。",
    "Without FILE: the limits of the ruleset governing where this incident was reported.":
        "不给 FILE 时：适用于这个事件上报地点的规则集的时限。",
    "Incidents with their current level, status and age (open ones by default: --status open).":
        "事件列表：当前层级、状态和已用时（默认只列未结案的：--status open）。",
    "Which incidents: open ones, all, or one status.": "列哪些事件：未结案的（open）、全部（all）或某一状态的。",
    "Only incidents reported at NODE or below.": "只列在节点 NODE 及其下级上报的事件。",
    "Open incidents past their time limit.": "已超过时限的未结案事件。",
    "Stop the incident's clock (waiting for the resident, for parts...).": "暂停事件计时（等待居民、等配件……）。",
    "Rate the outcome as its reporter or a resident of the cell (1-5).": "以上报人或本网格居民的身份评价办理结果（1-5 分）。",
    "Refuse the extension request waiting on an incident (延期不批准).": "不批准事件待批的延期申请。",
    "Why it is refused.": "不批准的原因。",
    "Reopen a resolved or verified incident.": "重新打开已办结或已核查的事件（返工）。",
    "Report a new incident (a repeat of an open one joins it).": "上报新事件（与未结案事件重复的并入该事件）。",
    "Category: its code (fire_hazard) or the name the ruleset gives it (消防隐患).": "事件类别：编号（如 fire_hazard）或规则集中的名称（如 消防隐患）。",
    "Cell where it was found: its id or its name.": "在哪个网格发现：写节点编号或名称。",
    "Who reports it (a member's id or name, or a resident's id).": "上报人（成员写编号或姓名，居民写编号）。",
    "Place id (building, address) inside the cell.": "网格内的地址编号（楼栋、门牌）。",
    "A key person is involved.": "涉及重点人员。",
    "Id of the event (default: INCIDENT:report).": "这条记录的编号（默认：事件编号:report）。",
    "How serious, 1 (minor) to 5 (grave): the ruleset's escalations and limits may depend on it.":
        "严重程度，1（轻微）至 5（重大）：规则集的提级和时限可能据此而定。",
    "How it came in: its code (phone) or the name the ruleset gives it (电话).":
        "上报渠道：编号（如 phone）或规则集中的名称（如 电话）。",
    "What was found, in the reporter's words.": "发现了什么，用上报人的话说。",
    "A note for the timeline (what is being done).": "记入事件经过的说明（正在做什么）。",
    "Why the clock stops (shown in the timeline).": "暂停计时的原因（显示在事件经过中）。",
    "How it was solved (shown in the timeline).": "如何解决的（显示在事件经过中）。",
    "The residents' satisfaction with the result, 1 (very poor) to 5 (very good).":
        "居民对办理结果的满意度，1（很不满意）至 5（很满意）。",
    "What the check found (shown in the timeline).": "核查发现的情况（显示在事件经过中）。",
    "The rating, 1 (very poor) to 5 (very good).": "评价，1（很不满意）至 5（很满意）。",
    "Days more (working days when the limit is in working time).": "延长的天数（时限按工作时间计时为工作日）。",
    "Hours more (working hours when the limit is in working time).": "延长的小时数（时限按工作时间计时为工作小时）。",
    "A note for the timeline.": "记入事件经过的说明。",
    "Say the problem is solved.": "报告问题已解决（办结）。",
    "Restart the clock, keeping the time already spent.": "恢复计时，已用的时间照算。",
    "Send a case back (退单) with a reason: --department DEPT for a line department that finds it is not its remit "
    "(it leaves the case), --to NODE for a case that belongs to another cell (routed again there), or neither "
    "(routed again from where it was reported).":
        "退单并说明原因：--department 部门 用于条线部门认为不属其职责（部门退出该事件）；--to 节点 用于事件属于"
        "另一个网格（改派到那里）；两者都不给则从上报地点重新派单。",
    "The department sending it back.": "退单的部门。",
    "The cell it belongs to.": "事件应属的网格。",
    "Why it is sent back.": "退单的原因。",
    "Counts by category and level for a period.": "某一时段按类别和层级统计的事件数。",
    "2025, 2025-Q1, 2025-03, 2025-W10 or 2025-03-08 (community time zone).": "时段：2025、2025-Q1、2025-03、2025-W10 或 2025-03-08（按社区时区；也可写 2025年一季度、2025年3月）。",
    "Every step of one incident, with the rule behind each automatic one.": "一个事件的全部经过，自动环节注明所依据的规则。",
    "Verify the result with the residents' satisfaction (1-5).": "核查办理结果，给出居民满意度（1-5）。",
}  # fmt: skip
