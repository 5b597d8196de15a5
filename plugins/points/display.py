"""The Chinese of an entry's summary, put in when it is shown, never when it is stored.

An entry's summary (``志愿服务: 4 per hour x 3 h x 1.2 = 14.4, rounded to 14``)
is stored in the ledger and in checkpoints as the plugin wrote it, and stored
bytes do not change.  Statements, explanations and the flags and deductions
lists show it through ``shown``: the English followed by its Chinese in
brackets (``… (志愿服务：每小时 4 分 × 3 小时 × 1.2 = 14.4，四舍五入为 14)``),
as refusal reasons are shown.  The Chinese is built from the summary's own
fixed English phrases (``PHRASES``, the patterns the plugin writes: see
``booking.py``, ``deduction.py``, ``ledger.py``, ``taskpoints.py``); names,
ids and numbers are kept as they are.  A summary with no English phrase in it
(``志愿服务: 5``) is shown as it is.  ``tests/test_points_display.py`` fails
if the plugin writes an English word no phrase here covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: The Chinese of an entry's kind (stored as the id on the left), shown with it (``获得 earn``): every kind
#: the ledger writes (``ledger.CREDITS``, ``ledger.DEBITS``, ``ledger.FLAG``; tests/test_points_display.py).
KINDS_ZH = {"earn": "获得", "bonus": "连续活跃奖励", "recognition": "表扬加分", "redeem": "兑换", "expire": "过期",
            "deduct": "扣分", "flag": "标记待核"}


#: The Chinese of the inputs a points entry's explanation shows (``gridcore --lang zh explain points:…``).
INPUTS_ZH = {
    "activity": "活动", "hours": "时长", "quantity": "数量", "rounded": "四舍五入", "exact": "精确值",
    "taken_from": "扣自", "reward": "礼遇", "price": "所需积分", "balance_before": "兑换前余额",
    "balance before": "扣前余额", "balance after": "扣后余额", "floor": "余额下限", "awarded_by": "表扬人",
    "budget": "表扬额度", "budget_node": "额度所属节点", "budget_period": "额度时段", "budget_used": "已用额度",
    "cap": "上限", "tilt": "倾斜", "span": "时段", "units": "活跃时段", "satisfaction": "满意度", "rating": "平均评价",
    "incident": "事件", "category": "事件类别", "severity": "严重程度", "task": "任务", "kind": "类别",
    "done": "完成情况", "deadline": "期限", "weekday": "星期几", "hour": "时刻", "channel": "上报渠道",
    "key_person": "涉及重点人员", "party_member": "党员", "role": "角色", "level": "层级",
    "reporter": "上报人", "resolver": "办结人", "closer": "结案人", "as": "身份",
}  # fmt: skip


def kind_shown(kind: str) -> str:
    """An entry's kind as staff see it: its Chinese, then the id (``获得 earn``); the id alone if none."""
    return f"{KINDS_ZH[kind]} {kind}" if kind in KINDS_ZH else kind


_N = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
#: The Chinese of a period's kind, as in ``每月`` (a limit, a cap, a streak).
PERIODS_ZH = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年"}
_ROLES = {"reporter": "上报人", "resolver": "办结人", "participant": "参与人"}
_STEPS = {"reported": "上报", "resolved": "办结", "closed": "结案"}


def limit_zh(limit: str) -> str:
    """A reward's limit per member in Chinese: ``1 per month`` -> ``每月最多 1 件`` (as written if not that shape)."""
    found = re.fullmatch(r"(\d+) per (\w+)", limit)
    return f"每{PERIODS_ZH.get(found[2], found[2])}最多 {found[1]} 件" if found else limit


def _steps(match: re.Match[str]) -> str:
    words = [_STEPS.get(w.strip(), w.strip()) for w in re.split(r",| and ", match.group(2))]
    return f"事件 {match.group(1)} 由 {match.group(3)} 本人{'、'.join(words)}"


#: (English pattern, its Chinese): every fixed English phrase an entry's summary can hold, in the order tried
PHRASES: tuple[tuple[str, object], ...] = (
    # redemptions first (their ``2 x name`` is no tilt)
    (r"^redemption of unknown reward (.+) not booked$", r"未知礼遇 \1 的兑换未记账"),
    (rf"^redemption of ({_N}) x (.+) not covered after replay \(({_N}) points, ({_N}) needed\): not booked$",
     r"重放后 \1 件 \2 的兑换积分不足（余额 \3 分，需 \4 分）：未记账"),
    (rf"^redeemed ({_N}) x (.+) at ({_N}) points$", r"兑换 \1 件 \2，每件 \3 分"),
    # the amount's working (booking.py, policy.py ``worked``, deduction.py)
    (rf"({_N}) per hour x ({_N}) h\b", r"每小时 \1 分 × \2 小时"),
    (rf"({_N}) per item x ({_N})", r"每件 \1 分 × \2 件"),
    (rf" x ({_N})", r" × \1"),
    (rf", rounded to ({_N})", r"，四舍五入为 \1"),
    (rf", cut to ({_N}) by a cap", r"，因封顶（上限）削减为 \1"),
    (rf", cut to ({_N}) by the floor of ({_N}) \(balance ({_N}); 扣分以余额下限 \S+ 为限\)",
     r"，因余额下限 \2 削减为 \1（扣前余额 \3）"),
    # flags (booking.py)
    (r"^incident (\S+) ((?:reported|resolved|closed)(?:, (?:resolved|closed))*(?: and (?:resolved|closed))?) by ([^\s:]+)",
     _steps),
    (r" claimed again \(earlier claim ([^)]*)\)", r" 重复申报（前次申报 \1）"),
    (r" recorded by (\S+) for themselves, not by an organiser", r" 由 \1 本人登记，而非组织者登记"),
    (r" at (\S+), outside (\S+)'s cells", r" 在 \1，不在 \2 的网格内"),
    (r" is not on the points item list \(did you mean (.+)\?\)", r" 不在积分项目清单上（是否指 \1？）"),
    (r" is not on the points item list", r" 不在积分项目清单上"),
    (r": no item's condition holds, no points$", r"：没有一项的条件成立，不计分"),
    (r": no points, flagged$", r"：不计分，已标记待核"),
    (r"^recognition award with no recognition rule in force: not booked$", r"没有有效表彰规则的表彰奖励：未记账"),
    (r"^(\S+) awarded points to themselves", r"\1 给自己奖励积分"),
    # other entries
    (r"^recognition by (\S+): ", r"\1 表彰："),
    (rf"^({_N}) unspent points of (\S+) expired$", r"\2 未用的 \1 分已过期"),
    (r"^streak bonus: active in every (\w+) of (\S+)$",
     lambda m: f"连续活跃奖励：{m.group(2)} 的每个{PERIODS_ZH.get(m.group(1), m.group(1))}都有活动"),
    (r"^consultation on incident (\S+) \((.+?)\): ", r"事件 \1（\2）会商："),
    (r"^incident (\S+) \((.+?)\), (reporter|resolver): ",
     lambda m: f"事件 {m.group(1)}（{m.group(2)}），{_ROLES[m.group(3)]}："),
    (r"^task (\S+) \((.+?)\) done on time: ", r"任务 \1（\2）按时完成："),
    (r"^task (\S+) \((.+?)\) not done by its deadline \(逾期未完成\): ", r"任务 \1（\2）逾期未完成："),
)

_COMPILED = tuple((re.compile(p), r) for p, r in PHRASES)


def chinese(summary: str) -> str:
    """``summary`` with each of its fixed English phrases put into Chinese (names, ids, numbers kept)."""
    text = summary
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)  # type: ignore[call-overload]
    # an activity's ``name: working`` and an incident's ``…: n``: the Chinese colon
    return re.sub(r"^([^:：\s][^:：]*?): ", r"\1：", text)


def shown(summary: str) -> str:
    """How staff see ``summary``: the English followed by its Chinese in brackets, if it has English phrases."""
    zh = chinese(summary)
    if zh.replace("：", ": ") == summary:
        return summary
    return f"{summary} ({zh})"


def said_in_chinese(cell: str) -> str:
    """A cell ``shown`` wrote (``summary (its Chinese)``, or the summary alone) as staff reading Chinese see it:
    the Chinese alone, as the entry's explanation says it (``chinese(summary)``)."""
    for at in (i for i in range(len(cell)) if cell.startswith(" (", i)):
        if shown(cell[:at]) == cell:
            return chinese(cell[:at])
    return chinese(cell)


#: an incident entry's Chinese as ``chinese`` gives it: ``事件 yq-i35（dispute）``, its category in brackets
_INCIDENT_ZH = re.compile(r"^(事件 \S+)（([^）]+)）")


def category_titles(titles: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Category id -> the title a ruleset gives it (``category dispute: 矛盾纠纷``), from rulesets' ``titles["category"]``
    (title -> id; a later mapping's title wins)."""
    out: dict[str, str] = {}
    for named in titles:
        for title, ident in named.items():
            if title != ident:
                out[ident] = title
    return out


def category_named(text: str, titles: Mapping[str, str]) -> str:
    """An entry's Chinese with its incident's category as the ruleset names it (``事件 X（dispute）`` ->
    ``事件 X（矛盾纠纷）``); ``text`` as it is for a category the ruleset gives no title."""
    return _INCIDENT_ZH.sub(lambda m: f"{m[1]}（{titles.get(m[2], m[2])}）", text, count=1)
