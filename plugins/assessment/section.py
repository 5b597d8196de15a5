"""The ``assessment`` / ``考核`` section of the rules language: keywords, item kinds.

The grammar of item bodies is ``assessment.lark`` (its typed nodes: nodes.py);
this module declares the item kinds and keywords (English and Chinese);
compiler.py turns the items in force on a day into an ``AssessmentPolicy``
(policy.py).  ``SECTION`` is what the plugin registers and what it asks the
ruleset for: ``engine.policy(SECTION, at=time)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import gridcore
from gridcore.rules import ItemKind, Section

from .nodes import AssessmentNodes
from .policy import AssessmentPolicy

if TYPE_CHECKING:
    from gridcore.rules import CompileContext, Item

NAME = "assessment"
GRAMMAR = Path(__file__).with_name("assessment.lark")

KEYWORDS = {
    "ASMT_WEIGHT": ("weight", "权重"),
    "ASMT_SCALE": ("scale", "range", "区间", "范围"),
    "ASMT_TO": ("to", "至", "到"),
    "ASMT_FULL": ("full if missing", "full when missing", "无数据计满分", "无数据满分"),
    "ASMT_EACH": ("each", "every", "每个", "每件", "每起", "每项", "每次"),
    "ASMT_POINTS": ("points", "point", "分"),
    "ASMT_MINUS": ("minus", "扣"),
    "ASMT_PLUS": ("plus", "加"),
    "ASMT_AT_MOST": ("at most", "up to", "最多", "至多", "不超过", "上限"),
    "ASMT_WITH": ("with", "获"),
    "ASMT_STARS": ("stars", "star", "星"),
    "ASMT_UNITS": ("个",),
    "ASMT_YUAN": ("yuan", "元"),
    "ASMT_BASE": ("base", "基数"),
    "ASMT_TIMES": ("times", "time", "次"),
    "ASMT_IN": ("in each", "in every", "in"),
    "ASMT_ONCE": ("once per person", "每人一次"),
    "ASMT_PER_ROLE": ("per role", "按角色"),
    "ASMT_AS": ("gives", "为"),
}

#: item kind, keywords (English, Chinese), body rule, named, doc, doc in Chinese
ITEMS = (
    ("period", ("period", "周期", "考核周期"), "assessment_period", False,
     "how often nodes are rated: day, week, month, quarter or year", "多久评定一次：日、周、月、季度或年"),
    ("rate", ("rate", "rated levels", "评定层级", "评星层级"), "assessment_rate", False,
     "the hierarchy levels whose nodes are rated", "评定哪些层级的节点"),
    ("metric", ("metric", "指标"), "assessment_metric", True,
     "a metric that counts toward the score, its weight and scale", "计入得分的指标，及其权重和区间"),
    ("penalty", ("penalty", "扣分"), "assessment_adjust", True,
     "points taken off per unit of a metric (per overdue incident)", "按指标每个单位扣的分（如每起超时事件）"),
    ("bonus", ("bonus", "加分"), "assessment_adjust", True,
     "points added per unit of a metric", "按指标每个单位加的分"),
    ("stars", ("stars", "星级", "评星"), "assessment_stars", False,
     "the star ladder: stars by score and minimum conditions", "星级规则：按得分和最低条件评定星级"),
    ("cap", ("cap", "名额", "名额上限"), "assessment_cap", True,
     "how many nodes of a level may hold a star level", "某层级的节点中最多有多少可获某一星级（名额）"),
    ("subsidy", ("subsidy", "补贴"), "assessment_subsidy", True,
     "what a rated role earns for its node's stars", "被评定角色按其节点星级所得的补贴"),
    ("subsidies", ("subsidies", "每人补贴"), "assessment_subsidies", False,
     "how a person's subsidies add up: once per person (default) or per role, and a cap", "每人补贴如何合计：每人一次（默认）或按角色，及上限"),
    ("people", ("rated people", "评定人员"), "assessment_rate", False,
     "the roles whose holders are rated as persons, by the person metrics and their own ladder", "按人员评定的角色：按人员指标和人员星级规则评定担任该角色的人"),
    ("person_metric", ("person metric", "人员指标"), "assessment_metric", True,
     "a per-person metric that counts toward a person's score, its weight and scale", "计入个人得分的人员指标，及其权重和区间"),
    ("person_penalty", ("person penalty", "人员扣分"), "assessment_adjust", True,
     "points taken off a person's score per unit of a per-person metric", "按人员指标每个单位从个人得分中扣的分"),
    ("person_stars", ("person stars", "人员星级"), "assessment_stars", False,
     "the star ladder of people: stars by their score and minimum conditions", "人员星级规则：按个人得分和最低条件评定星级"),
    ("patrol", ("patrol", "巡查"), "assessment_patrol", False,
     "the patrol frequency patrol_coverage is measured against", "巡查覆盖率所对照的巡查频次"),
    ("serious", ("serious", "重大事件"), "assessment_serious", False,
     "the severity from which an incident counts as serious", "事件从哪个严重程度起算作重大事件"),
)  # fmt: skip


#: Items named by a metric (written by its id or its Chinese title).
METRIC_ITEMS = ("metric", "penalty", "bonus", "person_metric", "person_penalty")

#: What the names of items name: a cap names a level, a subsidy a role, a
#: metric item a metric (the core keys ``指标 巡查覆盖率`` as ``metric
#: patrol_coverage`` by the titles of the metrics the plugins register).
NAMES = {"cap": ("level",), "subsidy": ("role",), **{kind: ("metric",) for kind in METRIC_ITEMS}}


def section() -> Section[AssessmentPolicy]:
    """The ``Section`` the plugin registers through ``gridcore_register_sections``."""
    return SECTION


def _compile(items: Sequence[Item], ctx: CompileContext) -> AssessmentPolicy:
    from .compiler import compile_section

    return compile_section(items, ctx)


SECTION: Section[AssessmentPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("assessment", "考核", "评星定级"),
    items=tuple(ItemKind(name, keywords, body, named=named, doc=doc, doc_zh=doc_zh, names=NAMES.get(name, ()))
                for name, keywords, body, named, doc, doc_zh in ITEMS),
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=_compile,
    transformer=AssessmentNodes(),
    keywords=KEYWORDS,
    doc="Star ratings: metrics, weights, penalties, star ladder, caps, subsidies (评星定级).",
    doc_zh="评星定级：指标、权重、扣分、星级阶梯、名额限制和补贴。",
    scoped=True,  # an assessment cycle besides the main one: `stars (quarterly):`
)
