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
    "ASMT_AT_MOST": ("at most", "最多", "至多"),
    "ASMT_WITH": ("with", "获"),
    "ASMT_STARS": ("stars", "star", "星"),
    "ASMT_UNITS": ("个",),
    "ASMT_YUAN": ("yuan", "元"),
    "ASMT_BASE": ("base", "基数"),
    "ASMT_TIMES": ("times", "time", "次"),
    "ASMT_IN": ("in each", "in every", "in"),
    "ASMT_ONCE": ("once per person", "每人一次"),
    "ASMT_PER_ROLE": ("per role", "按角色"),
}

#: item kind, keywords (English, Chinese), body rule, named, doc
ITEMS = (
    ("period", ("period", "周期", "考核周期"), "assessment_period", False,
     "how often nodes are rated: day, week, month, quarter or year"),
    ("rate", ("rate", "rated levels", "评定层级", "评星层级"), "assessment_rate", False,
     "the hierarchy levels whose nodes are rated"),
    ("metric", ("metric", "指标"), "assessment_metric", True,
     "a metric that counts toward the score, its weight and scale"),
    ("penalty", ("penalty", "扣分"), "assessment_adjust", True,
     "points taken off per unit of a metric (per overdue incident)"),
    ("bonus", ("bonus", "加分"), "assessment_adjust", True,
     "points added per unit of a metric"),
    ("stars", ("stars", "星级", "评星"), "assessment_stars", False,
     "the star ladder: stars by score and minimum conditions"),
    ("cap", ("cap", "名额", "名额上限"), "assessment_cap", True,
     "how many nodes of a level may hold a star level"),
    ("subsidy", ("subsidy", "补贴"), "assessment_subsidy", True,
     "what a rated role earns for its node's stars"),
    ("subsidies", ("subsidies", "每人补贴"), "assessment_subsidies", False,
     "how a person's subsidies add up: once per person (default) or per role, and a cap"),
    ("people", ("rated people", "评定人员"), "assessment_rate", False,
     "the roles whose holders are rated as persons, by the person metrics and their own ladder"),
    ("person_metric", ("person metric", "人员指标"), "assessment_metric", True,
     "a per-person metric that counts toward a person's score, its weight and scale"),
    ("person_penalty", ("person penalty", "人员扣分"), "assessment_adjust", True,
     "points taken off a person's score per unit of a per-person metric"),
    ("person_stars", ("person stars", "人员星级"), "assessment_stars", False,
     "the star ladder of people: stars by their score and minimum conditions"),
    ("patrol", ("patrol", "巡查"), "assessment_patrol", False,
     "the patrol frequency patrol_coverage is measured against"),
    ("serious", ("serious", "重大事件"), "assessment_serious", False,
     "the severity from which an incident counts as serious"),
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
    items=tuple(ItemKind(name, keywords, body, named=named, doc=doc, names=NAMES.get(name, ()))
                for name, keywords, body, named, doc in ITEMS),
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=_compile,
    transformer=AssessmentNodes(),
    keywords=KEYWORDS,
    doc="Star ratings: metrics, weights, penalties, star ladder, caps, subsidies (评星定级).",
    scoped=True,  # an assessment cycle besides the main one: `stars (quarterly):`
)
