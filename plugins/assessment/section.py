"""The ``assessment`` section of the rules language: its grammar and its compiler.

The grammar fragment is ``assessment.lark``; ``section()`` is what the plugin
registers (``SECTION``).  The core picks the version of each item in force on
a day and calls ``compile_section`` once per span of days; it turns those items
into the day's ``AssessmentPolicy``.  Conditions and ladders are translated into the small condition tree of
``policy.py``; only ``score`` (得分) and metric names may appear in them, compared
with numbers, so ruleset text never becomes code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from attrs import frozen

import gridcore
from gridcore.errors import GridcoreError
from gridcore.explain import RuleRef
from gridcore.roster import role_id
from gridcore.rules import ItemKind, Section
from gridcore.rules.checker import did_you_mean

from .conditions import Report
from .items import compile_body, names
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

#: What the names of items name: a cap names a level, a subsidy a role.
NAMES = {"cap": ("level",), "subsidy": ("role",)}


def metric_titles() -> dict[str, str]:
    """Metrics written by their Chinese title (``巡查覆盖率``) are the metric of that id."""
    from gridcore.plugin_host import Hooks, get_plugin_manager

    try:
        metrics = Hooks(get_plugin_manager()).register_metrics()
    except GridcoreError:
        return {}
    return {m.title_zh: m.name for m in metrics if m.title_zh}


@frozen
class Fact:
    """One compiled item: what it sets."""

    kind: str
    key: str | None
    value: Any


def assemble(facts: Sequence[Fact]) -> AssessmentPolicy:
    """Build a policy from the facts in force (in file order)."""
    values: dict[str, Any] = {}
    for fact in facts:
        if fact.kind in ("metric", "penalty", "bonus", "cap", "subsidy", "person_metric", "person_penalty"):
            values.setdefault(fact.kind, []).append(fact.value)
        else:
            values[fact.kind] = fact.value
    period = values.get("period")
    levels = values.get("rate")
    serious = values.get("serious")
    caps = [c for group in values.get("cap", []) for c in group]
    return AssessmentPolicy(
        levels=levels[0] if levels else (),
        levels_rule=levels[1] if levels else None,
        terms=tuple(values.get("metric", [])),
        stars=values.get("stars", ()),
        period=period[0] if period else "quarter",
        period_rule=period[1] if period else None,
        adjustments=tuple(values.get("penalty", []) + values.get("bonus", [])),
        caps=tuple(caps),
        subsidies=tuple(values.get("subsidy", [])),
        **({"paying": values["subsidies"]} if "subsidies" in values else {}),
        patrol=values.get("patrol"),
        serious_severity=serious[0] if serious else 4,
        serious_rule=serious[1] if serious else None,
        people=values["people"][0] if "people" in values else (),
        people_rule=values["people"][1] if "people" in values else None,
        person_terms=tuple(values.get("person_metric", [])),
        person_adjustments=tuple(values.get("person_penalty", [])),
        person_stars=values.get("person_stars", ()),
    )


def section() -> Section[AssessmentPolicy]:
    """The ``Section`` the plugin registers through ``gridcore_register_sections``."""
    return SECTION


def compile_section(items: Sequence[Item], ctx: CompileContext) -> AssessmentPolicy:
    """``Section.compile``: the items in force on a day; problems go to ``ctx.error``."""
    report = ctx.error
    facts: list[Fact] = []
    kinds = {item.kind for item in items}
    for item in items:
        name = item.name.text if item.name is not None else None
        if item.kind == "cap" and item.name is not None:
            name = _level(item.name, ctx)
        if item.kind == "subsidy" and item.name is not None:
            _check_role(item.name, ctx)
        for version in item.versions:
            kind = "penalty" if item.kind == "person_penalty" else item.kind
            value = compile_body(kind, name, version.body, version.ref, report, ctx.text)
            if value is not None and item.kind in ("rate", "patrol"):
                value = _with_level_ids(item.kind, value, version.body, ctx)
            if value is not None and item.kind == "people":
                value = (tuple(_role_of(n, ctx) for n in names(version.body)), value[1])
            if value is not None:
                facts.append(Fact(item.kind, name, value))
    if items and "stars" not in kinds:
        report(items[0], "the assessment section has no star ladder",
               "考核部分缺少星级规则", fix="add: stars: 5 if score >= 90, 4 if score >= 80, otherwise 3",
               fix_zh="加上：星级：若 得分 >= 90 则 5，若 得分 >= 80 则 4，否则 3")
    if items and "metric" not in kinds:
        report(items[0], "the assessment section counts no metric",
               "考核部分没有计分指标", fix="add: metric patrol_coverage: weight 100", fix_zh="加上：指标 巡查覆盖率：权重 100")
    if items and "rate" not in kinds:
        report(items[0], "the assessment section does not say which levels are rated",
               "考核部分没有写明评定层级", fix="add: rate: grid", fix_zh="加上：评定层级：grid")
    if "people" in kinds:
        for needed, fix, fix_zh in (("person_metric", "person metric patrols_logged: weight 100, scale 0 to 60",
                                     "人员指标 巡查次数：权重 100，区间 0 至 60"),
                                    ("person_stars", "person stars: 5 if score >= 90, 4 if score >= 70, otherwise 3",
                                     "人员星级：若 得分 >= 90 则 5，若 得分 >= 70 则 4，否则 3")):
            if needed not in kinds:
                report(next(i for i in items if i.kind == "people"), f"people are rated, but there is no {needed}",
                       f"评定人员，但缺少{'人员指标' if needed == 'person_metric' else '人员星级'}", fix=f"add: {fix}",
                       fix_zh=f"加上：{fix_zh}")
    elif any(i.kind.startswith("person_") for i in items):
        first = next(i for i in items if i.kind.startswith("person_"))
        report(first, "person metrics and stars need 'rated people: ROLES'", "人员指标与人员星级须先写“评定人员”",
               fix="add: rated people: fulltime_gridworker", fix_zh="加上：评定人员：专职网格员")
    _check_caps(facts, report)
    _warn_unknown_metrics(items, report)
    return assemble(facts)


def _level(name: Any, ctx: CompileContext) -> str:
    """The id of the level ``name`` writes (by id or by its declared Chinese name).

    An unknown level is reported with did-you-mean (the ruleset is then
    rejected); a ruleset that declares no levels keeps the name as written.
    """
    if not ctx.known("level", name):
        return str(name.text)
    return ctx.level_id(name.text) or str(name.text)


def _with_level_ids(kind: str, value: Any, body: Any, ctx: CompileContext) -> Any:
    """A ``rate`` or ``patrol`` value with its levels as ids (each written name checked)."""
    levels = tuple(_level(n, ctx) for n in names(body))
    if kind == "rate":
        return (levels, value[1])
    return attrs.evolve(value, level=levels[0]) if levels else value


def _role_of(name: Any, ctx: CompileContext) -> str:
    """The id of a role written by id or Chinese name (a community's own role: warned about, kept)."""
    _check_role(name, ctx)
    try:
        return role_id(name.text)
    except GridcoreError:
        return str(name.text)


def _check_role(name: Any, ctx: CompileContext) -> None:
    """A subsidy names a role: a core role (id or Chinese name) or, with a warning, the community's own."""
    try:
        role_id(name.text)
    except GridcoreError:
        known = sorted(ctx.vocabulary("role"))
        close = did_you_mean(name.text, known)
        ctx.error(name, f"'{name.text}' is not a core role; it must be one the community declares",
                  f"'{name.text}' 不是内置角色，须是社区自行声明的角色", expected=", ".join(known[:14]),
                  suggestion=close, warning=True)


def _warn_unknown_metrics(items: Sequence[Item], report: Report) -> None:
    """Warn (``gridcore check``) about metric names no installed plugin contributes.

    Only a warning: an embedder may register a plugin directly, and a plugin may
    be disabled at run time; ``assess`` then fails with a clear error.
    """
    from gridcore.plugin_host import Hooks, get_plugin_manager

    try:
        metrics = Hooks(get_plugin_manager()).register_metrics()
    except GridcoreError:
        return
    known = {m.name for m in metrics} | {m.title_zh for m in metrics if m.title_zh}
    for item in items:
        if item.kind in METRIC_ITEMS and item.name is not None and item.name.text not in known:
            pool = sorted(known)
            close = did_you_mean(item.name.text, pool)
            report(item.name, f"no installed plugin contributes a metric named '{item.name.text}'",
                   f"没有已安装的插件提供指标 '{item.name.text}'", expected=", ".join(sorted(m.name for m in metrics)),
                   suggestion=close, warning=True)


def _check_caps(facts: list[Fact], report: Report) -> None:
    ladders = [f.value for f in facts if f.kind == "stars"]
    if not ladders:
        return
    levels = {s.stars for ladder in ladders for s in ladder}
    lowest = min(levels)
    for fact in facts:
        if fact.kind != "cap":
            continue
        for cap in fact.value:
            if cap.stars not in levels or cap.stars == lowest:
                report(_located(cap.rule), f"a cap on {cap.stars} stars: the ladder has no higher level to hold it above",
                       f"{cap.stars} 星名额：星级规则中没有可设名额的这一档",
                       expected=", ".join(str(s) for s in sorted(levels - {lowest}, reverse=True)))


@frozen
class _Located:
    pos: Any


def _located(ref: RuleRef) -> _Located:
    from gridcore.rules import Pos

    return _Located(Pos(ref.file, ref.line, ref.column))



SECTION: Section[AssessmentPolicy] = Section(
    version=gridcore.__version__,  # part of the parser cache's key
    name=NAME,
    headers=("assessment", "考核", "评星定级"),
    items=tuple(ItemKind(name, keywords, body, named=named, doc=doc, names=NAMES.get(name, ()),
                         aliases=metric_titles if name in METRIC_ITEMS else {})
                for name, keywords, body, named, doc in ITEMS),
    grammar=GRAMMAR.read_text(encoding="utf-8"),
    compile=compile_section,
    transformer=AssessmentNodes(),
    keywords=KEYWORDS,
    doc="Star ratings: metrics, weights, penalties, star ladder, caps, subsidies (评星定级).",
)
