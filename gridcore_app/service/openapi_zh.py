"""The Chinese of the service's OpenAPI description, by the English it stands beside.

``openapi.build`` puts each beside its English: ``x-summary-zh`` beside an operation's
``summary``, ``x-description-zh`` beside every ``description`` (an operation's, a
parameter's, a request body's fields', the problem document's and the token's).
Keyed by the English as written, so an English text changed here and not in Chinese
fails tests/test_help_chinese.py.
"""

from __future__ import annotations

from collections.abc import Mapping

DESCRIPTIONS_ZH: Mapping[str, str] = {
    # the frame of every operation
    "OK": "成功",
    "A problem (RFC 9457) with the reason": "问题文档（RFC 9457），附原因",
    "RFC 9457 problem details; refused events carry `event` and every one of the engine's `reasons`":
        "RFC 9457 问题文档；被拒绝的事件附 event 及引擎给出的全部拒绝原因 reasons",
    "A member's API token (gridcore tokens issue MEMBER)": "成员的接口令牌（由 gridcore tokens issue 成员 签发）",
    # the JSON API
    "Rate a period (评星定级) and store the result, as `gridcore assess` does (community staff only)":
        "对某一时段评星定级并保存结果，与 gridcore assess 相同（仅限社区工作人员）",
    "An assessment with every term of every score (the stored one, else a fresh one that is not stored)":
        "评星结果及每项得分的全部构成（已保存的结果，否则重新评定但不保存）",
    "a node id or name: only the rated nodes of its subtree, `ruleset` naming the ruleset governing it and its "
    "file; default: every node":
        "节点编号或名称：只含其下被评定的节点，ruleset 为适用于它的规则集及其文件；默认：全部节点",
    "The community: name, levels, nodes (with their map location if any, and households and people on record)":
        "社区：名称、层级、节点（如有地图位置一并给出，以及登记的户数和人数）",
    "Record an event (or a batch) as the token's member": "以令牌所属成员的身份记录一条事件（或一批）",
    "Explain a decision (a points entry, an escalation, a rating) by its id":
        "按编号解释一项决定（一条积分记录、一次提级、一次评星）",
    "A household (户) on record: where it lives, its named residents, who looks after it, its history (community "
    "staff only: it names people)":
        "登记的一户：住在哪里、有名有姓的居民、由谁负责、变动记录（仅限社区工作人员：其中有人名）",
    "Incidents (open ones by default)": "事件列表（默认只列未结案的）",
    "open (default), all, or one status": "open（未结案，默认）、all（全部）或某一状态",
    "a node: reported there or below": "节点：只列在该节点及其下级上报的事件",
    "Report an incident (anonymous residents too: recorded as the intake member, answered with a report key)":
        "上报事件（匿名居民也可以：记在受理账号名下，返回上报凭证）",
    "Which time limit applies where (gridcore incidents limits): each category at each level of its ladder, "
    "summoned departments and handler roles, each limit with the rule that wins":
        "哪里适用哪个时限（同 gridcore incidents limits）：每个类别在其提级路线每一层级、被召集的部门和办理人"
        "角色的时限，以及起作用的规则",
    "`ruleset` and `file`: the ruleset governing `node` (null: the whole tree) and its file; `rows`: `applies_to` "
    "(category, department or handler), `name` (the category, null for any other; the department; the role), "
    "`level`, `accept` and `resolve` (null: no limit; else `span`, `working`, `source` and `rule`), `only_when` "
    "(limits applying there only when their condition holds), `then_role` (who takes over a handler's breached "
    "case); `precedence` says how the winner is chosen.":
        "ruleset 和 file：适用于 node 的规则集（null 为整棵树的）及其文件；rows：applies_to（类别、部门或办理人）、"
        "name（类别，null 为其他类别；部门；角色）、level（层级）、accept 和 resolve（受理和办结时限，null 为不限；"
        "否则含 span、working、source 和 rule）、only_when（仅在条件成立时适用的时限）、then_role（办理人超时后由谁"
        "接手）；precedence 说明如何决定哪条规则起作用。",
    "YYYY-MM-DD: the rules in force that day (at its start); default: now": "YYYY-MM-DD：当天（零时）现行的规则；默认：现在",
    "a node id or name: the limits of the ruleset governing it (a community's own variant); default: the whole "
    "tree's":
        "节点编号或名称：适用于它的规则集（社区自己的变体）的时限；默认：整棵树的",
    "Open incidents past their time limit, with the limit that ran out": "已超过时限的未结案事件，附已超的时限",
    "One incident": "一个事件",
    "An incident's timeline, each automatic step with the rule and explanation behind it":
        "一个事件的经过，自动环节附所依据的规则和解释",
    "Take one step of an incident's loop (accept, handle, pause, resume, escalate, resolve, verify, rate, reopen, "
    "close, consult, feedback, assign, return, extend, approve-extension, refuse-extension) as the token's member; "
    "anonymous reporters may rate with their report_key":
        "以令牌所属成员的身份办理事件闭环的一个环节（受理、办理、暂停、恢复、提级、办结、核查、评价、返工、结案、"
        "会商、反馈、派单、退单、申请延期、批准延期、不批准延期）；匿名上报人可凭上报凭证 report_key 评价",
    "Who the token belongs to": "令牌属于谁",
    "This description (OpenAPI 3.1)": "本接口说明（OpenAPI 3.1）",
    "The month's public points board (积分公示) of a node": "某节点当月的积分公示",
    "default: the top node": "默认：顶层节点",
    "YYYY-MM; default: the month of the latest event": "YYYY-MM；默认：最新事件所在的月份",
    "A member's points balance now (the member themself, or community staff)": "成员现在的积分余额（本人或社区工作人员可查）",
    "A member's points statement over a period (the member themself, or community staff)":
        "成员某一时段的积分明细（本人或社区工作人员可查）",
    "2025-03, 2025-Q1, 2025 ...; default: the month of the latest event": "时段：2025-03、2025-Q1、2025……；默认：最新事件所在的月份",
    "Redeem a reward (积分兑换) with the token's member as the actor": "以令牌所属成员为操作人兑换积分礼遇",
    "The rewards list in force (积分礼遇清单) with the stock left: that of the ruleset governing the node (a "
    "community's own variant has its own list)":
        "现行的积分礼遇清单及剩余库存：适用于该节点的规则集的清单（社区自己的变体有自己的清单）",
    "a node id or name: the list of the ruleset governing it; default: the caller's home": "节点编号或名称：适用于它的规则集的清单；默认：调用者的居住地",
    "Every named report plugins contribute": "插件提供的全部报表",
    "Build a named report (query parameters are its parameters)": "生成一张报表（查询参数即报表参数）",
    "A node's children side by side over a period (汇总), as `gridcore rollup` gives it: the three rates, overdue "
    "cases, stars, points and subsidies of a street's communities or a district's streets (staff only: its "
    "subsidies name people); computed in a forked copy of the worker's state, off the engine's thread, and kept "
    "until something that period reads or the day change (`Cache-Status`); the stars and subsidies are those of "
    "the assessment periods the period falls in or holds, provisional while one is under way":
        "某一时段并列比较一个节点的各下级（汇总，同 gridcore rollup）：街道各社区或区各街道的三率、超时事件、星级、"
        "积分和补贴（仅限工作人员：补贴中有人名）；在工作进程状态的分叉副本中计算，不占用引擎线程，"
        "结果保留到该时段所读数据或日期变化为止（`Cache-Status`）；星级和补贴为该时段所属或所含考核期的，"
        "考核期未结束时为暂定",
    "2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025 (required)": "时段：2025-Q1、2025-03、2025-W10、2025-03-05 或 2025（必填）",
    "only this table: summary, months, departments, stars, boards (each child's monthly points "
    "boards, made only when asked for) or subsidies; default: every one but boards":
        "只要这张表：summary（汇总）、months（按月）、departments（部门）、stars（星级）、boards（各下级每月积分公示，"
        "仅在指定时生成）或 subsidies（补贴）；默认：除 boards 外全部",
    "json (default), or csv: one table (the summary unless `table` names another), with a BOM":
        "json（默认）或 csv：一张表（不指定 table 时为汇总表），带 BOM",
    "Move the test clock to `now` and record everything that falls due (only with gridcore serve --test-clock)":
        "把测试时钟推进到 now 并记录所有到期事项（仅用于 gridcore serve --test-clock）",
    # request bodies
    'An event document (any registered kind, see components.schemas event.*); `actor` defaults to the token\'s '
    'member and must be it, `time` defaults to now, `id` to a fresh one. Or {"events": [...]} to record a batch '
    "(refusals are listed, the rest stored).":
        "一条事件（任何已登记的类别，见 components.schemas event.*）；actor 默认且必须是令牌所属成员，time 默认为"
        "现在，id 默认新生成。或写 {\"events\": [...]} 记录一批（列出被拒绝的，其余存入）。",
    "code (leaking_pipe) or name in force (水管漏水)": "事件类别：编号（如 leaking_pipe）或现行规则集中的名称（如 水管漏水）",
    "a place id of the roster": "花名册上的地址编号",
    "a place's name or id as on the roster": "花名册上的地址名称或编号",
    "the incident id (default: a fresh one)": "事件编号（默认新生成）",
    "the step's own fields (note, reason, to_node, department, satisfaction, score, participants, decision, "
    "channel, handler, days, hours), optionally node, event_id, and report_key for an anonymous rating":
        "该环节自己的字段（note 说明、reason 原因、to_node 提级到、department 部门、satisfaction 满意度、score 评价、"
        "participants 参加人、decision 商定结果、channel 反馈方式、handler 办理人、days 天数、hours 小时数），"
        "可另给 node、event_id，匿名评价时给 report_key",
    "whose points (default: the token's member)": "谁的积分（默认：令牌所属成员）",
    # Open311
    "Open311: where the endpoint is and what it speaks": "Open311：接口地址及其支持的格式",
    "Open311: requests, newest window first": "Open311：事件列表，最新的在前",
    "comma-separated ids": "以逗号分隔的编号",
    "comma-separated codes": "以逗号分隔的类别编号",
    "ISO 8601; default: 90 days before end_date": "ISO 8601 时间；默认：end_date 之前 90 天",
    "ISO 8601; default: the latest event's time": "ISO 8601 时间；默认：最新事件的时间",
    "open, closed or both (comma-separated)": "open（未结案）、closed（已结案）或两者（以逗号分隔）",
    "Open311: report a problem (form or JSON; api_key optional: anonymous reports get a report_key)":
        "Open311：上报问题（表单或 JSON；api_key 可不填：匿名上报返回上报凭证 report_key）",
    "Open311: one request": "Open311：一个事件",
    "Open311: the incident categories of the ruleset in force (at jurisdiction_id or node: the ruleset governing "
    "it)":
        "Open311：现行规则集的事件类别（给出 jurisdiction_id 或 node 时为适用于它的规则集）",
    "a node id or the name it alone bears: the services of the ruleset governing it (a community's own variant); "
    "default: the whole tree's":
        "节点编号或其独有的名称：适用于它的规则集（社区自己的变体）的事件类别；默认：整棵树的",
    "the same as jurisdiction_id (a gridcore extension)": "同 jurisdiction_id（gridcore 的扩展）",
    "Open311: one service's definition (its attributes)": "Open311：一个事件类别的定义（其属性）",
    "service_code, lat+long or address_string or address_id or node (a gridcore extension: the cell, by id or the "
    "name it alone bears), description, media_url, attribute[severity], api_key (contact fields are not stored)":
        "service_code（类别）、lat+long 或 address_string 或 address_id 或 node（gridcore 的扩展：节点编号或其独有的"
        "名称）、description（描述）、media_url（图片）、attribute[severity]（严重程度）、api_key（联系方式不保存）",
}  # fmt: skip
