"""The ``points`` / ``积分`` section of the rules language: keywords, item kinds, variables.

The grammar of item bodies is ``points.lark``; this module declares the item
kinds and keywords (English and Chinese) and the variables conditions may
use; compiler.py turns the items in force on a day into a ``PointsPolicy``
(policy.py).  ``SECTION`` is what the plugin registers and what it asks the
ruleset for: ``engine.policy(SECTION, at=event.time)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gridcore
from gridcore.rules import ast
from gridcore.rules import schema as sch
from gridcore.rules.sections import ItemKind, Section

from .nodes import PointsNodes
from .policy import PointsPolicy

GRAMMAR = Path(__file__).with_name("points.lark")

KEYWORDS: dict[str, tuple[str, ...]] = {
    "POINTS": ("points", "point", "pts", "积分", "分"),
    "ITEM": ("items", "item", "pieces", "piece", "件", "份"),
    "OCCASION": ("time", "occasion", "次"),
    "AT_MOST": ("at most", "up to", "最多", "至多", "不超过", "上限"),
    "PER_MEMBER": ("per member", "per person", "each member", "每人"),
    "REDEEM_LIMIT": ("limited to", "限兑"),
    "WHEN": ("when", "only when", "当", "仅当"),
    "COMPUTED": ("computed", "计算"),
    "TIMES": ("x", "×", "times", "倍"),
    "STOCK": ("stock", "库存"),
    "BY": ("by", "由"),
    "ALSO": ("also", "又称"),
    "REFUSE": ("refuse", "refused", "拒绝"),
    "FLAG": ("flag", "flagged", "标记"),
    "SAME_DAY": ("same day", "同日", "同一天"),
    "OVERLAP": ("overlapping", "overlap", "时间重叠"),
    "FOR": ("for",),
    "OF": ("of",),
    "DEDUCT": ("minus", "deduct", "扣"),
    "NO_FLOOR": ("none", "不设"),
    "THE": ("the", "a"),
    "ON_TIME": ("on time", "按时完成", "按时"),
    "MISSED": ("if missed", "missed", "逾期未完成", "逾期"),
}

ITEMS = (
    ItemKind("activity", ("activity", "活动"), "points_activity",
             doc="an activity of the points item list and what it earns",
             doc_zh="积分项目：活动及其积分"),
    ItemKind("task", ("task", "任务"), "points_task",
             doc="points for a task (of the tasks section) done on time, and a deduction when it is missed",
             doc_zh="按时完成专项任务的积分，逾期未完成的扣分"),
    ItemKind("floor", ("floor", "下限"), "points_floor", named=False,
             doc="how low a deduction may take a balance (default 0; 'none' for no floor)",
             doc_zh="扣分后积分余额的下限（默认 0；不设 表示无下限）"),
    ItemKind("cap", ("cap", "封顶"), "points_caps", named=False,
             doc="the most points a member may earn per day/week/month/quarter/year, all activities",
             doc_zh="每人每日/周/月/季/年积分上限（全部活动）"),
    ItemKind("tilt", ("tilt", "倾斜"), "points_tilt",
             doc="a multiplier for members holding a role, or for events at nodes of a level",
             doc_zh="按角色或层级倾斜的倍数",
             names=("role", "level")),
    ItemKind("reward", ("reward", "礼遇"), "points_reward",
             doc="an item of the rewards list: price, stock, per-member limit, validity",
             doc_zh="积分礼遇：所需积分、库存、每人限兑、有效期"),
    ItemKind("expiry", ("expiry", "有效期"), "points_expiry", named=False,
             doc="points expire this long after they were earned (first in, first out)",
             doc_zh="积分自获得起的有效期（先进先出）"),
    ItemKind("recognition", ("recognition", "表扬"), "points_recognition",
             doc="leaders' recognition awards: budget per node of the named level and period, who may award",
             doc_zh="表扬加分：每个该层级节点每期预算、授予人", names=("level",)),
    ItemKind("duplicate", ("duplicate claims", "duplicate", "重复申报"), "points_guard", named=False,
             doc="the same member claiming the same activity twice: refuse or flag",
             doc_zh="同一成员重复申报同一活动：拒绝或标记"),
    ItemKind("outside_cells", ("outside cells", "网格外活动"), "points_guard", named=False,
             doc="an activity outside the member's cells: refuse or flag",
             doc_zh="在本人网格之外的活动：拒绝或标记"),
    ItemKind("self_award", ("self award", "自我表扬"), "points_guard", named=False,
             doc="a leader awarding points to themselves: refuse or flag",
             doc_zh="领导给自己加分：拒绝或标记"),
    ItemKind("self_recorded", ("self recorded", "自行申报"), "points_guard", named=False,
             doc="an activity a resident records for themselves, not confirmed by an organiser: refuse or flag",
             doc_zh="居民自行登记、未经组织者确认的活动：拒绝或标记"),
    ItemKind("self_closed", ("self closed", "自报自结"), "points_guard", named=False,
             doc="an incident reported and resolved or closed by the same person: flag (no points)",
             doc_zh="自己上报又自己办结的事件：标记（不计分）"),
    ItemKind("confirmed_report", ("confirmed report", "确认上报"), "points_scales", named=False,
             doc="points for the reporter of an incident that was verified, when it is closed",
             doc_zh="上报的事件经核实并结案后，上报人所得积分"),
    ItemKind("resolved", ("resolved well", "办结"), "points_scales", named=False,
             doc="points for the member who resolved an incident, when it is closed",
             doc_zh="事件结案时，办结人所得积分"),
    ItemKind("consultation", ("consultation", "会商"), "points_scales", named=False,
             doc="points for each participant of a consultation (会商) on an incident, when it is recorded",
             doc_zh="参加事件会商的每位成员所得积分（会商记录时）"),
    ItemKind("streak", ("streak", "连续活跃"), "points_streak", named=False,
             doc="a bonus for earning activity points in every unit (e.g. month) of a span (e.g. quarter)",
             doc_zh="在一个周期（如季度）内每个小周期（如每月）都有活动积分的奖励"),
)

#: The variables points expressions may use (``gridcore schema`` lists them).
WEEKDAY = sch.Variable("weekday", sch.NUMBER, doc="day of the week of the event, 1 = Monday (community time zone)",
                       zh=("星期几",), doc_zh="记录发生在星期几，1 为星期一（按社区时区）")
HOUR = sch.Variable("hour", sch.NUMBER, doc="hour of the day of the event, 0-23 (community time zone)", zh=("时刻",),
                    doc_zh="记录发生的钟点，0-23（按社区时区）")
SATISFACTION = sch.Variable("satisfaction", sch.NUMBER,
                            doc="incident items: satisfaction score given at verification (1-5)",
                            zh=("满意度",), doc_zh="事件类条目：核查时给出的满意度（1-5）")
RATING = sch.Variable("rating", sch.NUMBER, doc="incident items: mean of residents' satisfaction ratings (1-5)",
                      zh=("平均评价", "平均评分"), doc_zh="事件类条目：居民评价的平均分（1-5）；旧写法 平均评分 同义")


def activity_env() -> sch.Env:
    from gridcore.events import ActivityRecorded

    return sch.Env((sch.MEMBER, sch.NODE, sch.event_var(ActivityRecorded), WEEKDAY, HOUR))


def incident_env() -> sch.Env:
    from gridcore_escalation.events import INCIDENT, IncidentClosed

    return sch.Env((sch.MEMBER, sch.NODE, INCIDENT, sch.event_var(IncidentClosed), WEEKDAY, HOUR,
                    SATISFACTION, RATING))


def section() -> Section[PointsPolicy]:
    """The points section, as registered through ``gridcore_register_sections``."""
    return SECTION


def _compile(items: Sequence[ast.Item], ctx: Any) -> PointsPolicy:
    from .compiler import compile_points

    return compile_points(items, ctx)


SECTION: Section[PointsPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name="points",
    headers=("points", "积分"),
    items=ITEMS,
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=_compile,
    transformer=PointsNodes(),
    keywords=KEYWORDS,
    vocabularies={"activity": "activity", "reward": "reward"},
    # What conditions and computed amounts may read: activity items see
    # member, node, event, weekday, hour; incident items also incident,
    # satisfaction and rating.
    variables={v.name: sch.describe_var(v) for v in incident_env().vars},
    doc="Points (积分): the points item list, caps, tilts, rewards, expiry, recognition, anti-gaming.",
    doc_zh="积分：积分项目、上限、倾斜、积分礼遇清单、过期、表扬加分和防刷分规则。",
)
