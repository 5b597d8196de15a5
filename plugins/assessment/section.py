"""The ``assessment`` section of the rules language: its grammar and its compiler.

The grammar fragment is ``assessment.lark``; ``section()`` is what the plugin
registers.  ``compile_items`` turns the checked items into an
``AssessmentSection``: every item version keeps its dates, and
``AssessmentSection.at(day)`` assembles the ``AssessmentPolicy`` in force on a
day.  Conditions and ladders are translated into the small condition tree of
``policy.py``; only ``score`` (得分) and metric names may appear in them, compared
with numbers, so ruleset text never becomes code.
"""

from __future__ import annotations

import difflib
import functools
import itertools
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from gridcore.errors import GridcoreError
from gridcore.explain import RuleRef
from gridcore.roster import role_id

from .periods import PeriodError, normalise_kind
from .policy import (
    SCORE,
    Adjustment,
    AllOf,
    AnyOf,
    AssessmentPolicy,
    Compare,
    Condition,
    MetricTerm,
    Negation,
    NoneOf,
    PatrolRequirement,
    StarCap,
    StarLevel,
    Subsidy,
)

if TYPE_CHECKING:
    from gridcore.rules import CompileContext, Item, Section

NAME = "assessment"
GRAMMAR = Path(__file__).with_name("assessment.lark")

#: Words that mean the score in conditions.
SCORE_WORDS = ("score", "得分", "分数", "总分")
#: Words that mean the node's stars in a subsidy ladder.
STARS_WORDS = ("stars", "star", "星级", "星数")
#: Words for an incident's severity in ``serious:``.
SEVERITY_WORDS = ("severity", "严重程度", "严重等级", "等级")

KEYWORDS = {
    "ASMT_WEIGHT": ("weight", "权重"),
    "ASMT_SCALE": ("scale", "range", "区间", "范围"),
    "ASMT_TO": ("to", "至", "到"),
    "ASMT_FULL": ("full if missing", "full when missing", "无数据计满分", "无数据满分"),
    "ASMT_EACH": ("each", "every", "每个", "每件", "每起", "每项", "每次"),
    "ASMT_POINTS": ("points", "point", "分"),
    "ASMT_AT_MOST": ("at most", "最多", "至多"),
    "ASMT_WITH": ("with", "获"),
    "ASMT_STARS": ("stars", "star", "星"),
    "ASMT_UNITS": ("个",),
    "ASMT_YUAN": ("yuan", "元"),
    "ASMT_BASE": ("base", "基数"),
    "ASMT_TIMES": ("times", "time", "次"),
    "ASMT_IN": ("in each", "in every", "in"),
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
    ("patrol", ("patrol", "巡查"), "assessment_patrol", False,
     "the patrol frequency patrol_coverage is measured against"),
    ("serious", ("serious", "重大事件"), "assessment_serious", False,
     "the severity from which an incident counts as serious"),
)  # fmt: skip

Report = Callable[..., None]


@frozen
class Fact:
    """One compiled item version: what it sets, and the days it is in force."""

    kind: str
    key: str | None
    value: Any
    since: date | None
    until: date | None


@frozen
class AssessmentSection:
    """The compiled ``assessment`` section; ``at(day)`` gives the policy in force that day."""

    facts: tuple[Fact, ...]

    def at(self, day: date) -> AssessmentPolicy:
        """The policy assembled from every item version in force on ``day``."""
        return _policy_on(self, day)


@functools.lru_cache(maxsize=256)
def _policy_on(section: AssessmentSection, day: date) -> AssessmentPolicy:
    in_force = [
        f for f in section.facts if (f.since is None or f.since <= day) and (f.until is None or day < f.until)
    ]
    latest: dict[tuple[str, str | None], Fact] = {}
    for fact in in_force:  # a later-starting version of an item replaces an earlier one
        key = (fact.kind, fact.key)
        if key not in latest or (fact.since or date.min) >= (latest[key].since or date.min):
            latest[key] = fact
    order = {id(f): n for n, f in enumerate(section.facts)}
    return assemble(sorted(latest.values(), key=lambda f: order[id(f)]))


def assemble(facts: Sequence[Fact]) -> AssessmentPolicy:
    """Build a policy from the facts in force (in file order)."""
    values: dict[str, Any] = {}
    for fact in facts:
        if fact.kind in ("metric", "penalty", "bonus", "cap", "subsidy"):
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
        patrol=values.get("patrol"),
        serious_severity=serious[0] if serious else 4,
        serious_rule=serious[1] if serious else None,
    )


def section() -> Section:
    """The ``Section`` the plugin registers through ``gridcore_register_sections``."""
    from gridcore.rules import ItemKind, Section

    kinds = tuple(
        ItemKind(name, keywords, body, named=named, doc=doc)  # type: ignore[arg-type]
        for name, keywords, body, named, doc in ITEMS
    )
    return Section(
        name=NAME,
        headers=("assessment", "考核", "评星定级"),  # type: ignore[arg-type]
        items=kinds,  # type: ignore[arg-type]
        grammar=GRAMMAR.read_text(encoding="utf-8"),
        compile=compile_section,
        keywords=KEYWORDS,
        doc="Star ratings: metrics, weights, penalties, star ladder, caps, subsidies (评星定级).",
    )


def compile_section(items: Sequence[Item], ctx: CompileContext) -> AssessmentSection:
    """``Section.compile``: every version of every item; problems go to ``ctx.error``."""
    report = ctx.error
    facts: list[Fact] = []
    kinds = {item.kind for item in items}
    for item in items:
        name = item.name.text if item.name is not None else None
        for version in item.versions:  # level names must be the ruleset's levels
            if item.kind in ("rate", "patrol"):
                for level in _names(version.body):
                    ctx.known("level", level)
        if item.kind == "cap" and item.name is not None:
            ctx.known("level", item.name)
        if item.kind == "subsidy" and item.name is not None:
            _check_role(item.name, ctx)
        for version in item.versions:
            value = _compile_body(item.kind, name, version.body, version.ref, report)
            if value is not None:
                facts.append(Fact(item.kind, name, value, version.since, version.until))
    if items and "stars" not in kinds:
        report(items[0], "the assessment section has no star ladder",
               "考核部分缺少星级规则", suggestion="add: stars: 5 if score >= 90, 4 if score >= 80, otherwise 3")
    if items and "metric" not in kinds:
        report(items[0], "the assessment section counts no metric",
               "考核部分没有计分指标", suggestion="add: metric patrol_coverage: weight 100")
    if items and "rate" not in kinds:
        report(items[0], "the assessment section does not say which levels are rated",
               "考核部分没有写明评定层级", suggestion="add: rate: grid")
    _check_caps(facts, report)
    _warn_unknown_metrics(items, report)
    return AssessmentSection(tuple(facts))


def _check_role(name: Any, ctx: CompileContext) -> None:
    """A subsidy names a role: a core role (id or Chinese name) or, with a warning, the community's own."""
    try:
        role_id(name.text)
    except GridcoreError:
        known = sorted(ctx.vocabulary("role"))
        close = difflib.get_close_matches(name.text, known, n=1, cutoff=0.6)
        ctx.error(name, f"'{name.text}' is not a core role; it must be one the community declares",
                  f"'{name.text}' 不是内置角色，须是社区自行声明的角色", expected=", ".join(known[:14]),
                  suggestion=close[0] if close else "", warning=True)


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
        if item.kind in ("metric", "penalty", "bonus") and item.name is not None and item.name.text not in known:
            pool = sorted(known)
            close = difflib.get_close_matches(item.name.text, pool, n=1, cutoff=0.6)
            report(item.name, f"no installed plugin contributes a metric named '{item.name.text}'",
                   f"没有已安装的插件提供指标 '{item.name.text}'", expected=", ".join(sorted(m.name for m in metrics)),
                   suggestion=close[0] if close else "", warning=True)


# ---------------------------------------------------------------- item bodies


def _compile_body(kind: str, name: str | None, body: Any, ref: RuleRef, report: Report) -> Any:
    if kind == "period":
        period = _first_value(body, "period")
        try:
            return (normalise_kind(str(period)), ref)
        except PeriodError:
            report(body, f"unknown period {period!r}", f"未知周期 {period!r}", expected="day, week, month, quarter or year")
            return None
    if kind == "rate":
        return (tuple(n.text for n in _names(body)), ref)
    if kind == "metric":
        return _metric(name or "", body, ref, report)
    if kind in ("penalty", "bonus"):
        return _adjustment(kind, name or "", body, ref, report)
    if kind == "stars":
        return _stars(body, ref, report)
    if kind == "cap":
        return _caps(name or "", body, ref, report)
    if kind == "subsidy":
        return _subsidy(name or "", body, ref, report)
    if kind == "patrol":
        return _patrol(body, ref, report)
    if kind == "serious":
        return _serious(body, ref, report)
    return None


def _metric(name: str, body: Any, ref: RuleRef, report: Report) -> MetricTerm | None:
    numbers = _numbers(body)
    weight = numbers[0]
    if weight <= 0:
        report(body, f"the weight of {name} must be more than 0", f"{name} 的权重必须大于 0")
        return None
    low, high, missing = 0.0, 100.0, "zero"
    for option in body.children:
        if getattr(option, "kind", "") == "assessment_scale":
            low, high = (float(n) for n in _numbers(option))
            if low == high:
                report(option, "a scale needs two different ends", "区间两端不能相同", suggestion="scale 0 to 100")
                return None
        elif getattr(option, "kind", "") == "assessment_full":
            missing = "full"
    return MetricTerm(name, float(weight), ref, low=low, high=high, when_missing=missing)


def _adjustment(kind: str, name: str, body: Any, ref: RuleRef, report: Report) -> Adjustment:
    points = float(_numbers(body)[0])
    limit_node = _child(body, "assessment_limit")
    limit = float(_numbers(limit_node)[0]) if limit_node is not None else None
    return Adjustment(name, -points if kind == "penalty" else points, ref, limit=limit)


def _stars(body: Any, ref: RuleRef, report: Report) -> tuple[StarLevel, ...] | None:
    ladder = _child(body, "ladder")
    levels: list[StarLevel] = []
    ok = True
    for step in ladder.steps:
        stars = _whole(step.value, report, "stars", "星数")
        condition = to_condition(step.condition, report, SCORE_WORDS, SCORE)
        if stars is None or condition is None:
            ok = False
            continue
        levels.append(StarLevel(stars, condition, _ref_at(ref, step)))
    if ladder.otherwise is None:
        report(ladder, "the star ladder needs a last 'otherwise N' step",
               "星级规则最后需要一档 '否则 N'", suggestion="end with: otherwise 1")
        return None
    last = _whole(ladder.otherwise, report, "stars", "星数")
    if last is None or not ok:
        return None
    levels.append(StarLevel(last, None, _ref_at(ref, ladder.otherwise)))
    for before, after in itertools.pairwise(levels):
        if after.stars >= before.stars:
            report(ladder, "list star levels from most to fewest stars",
                   "星级请从高到低排列", suggestion=f"put {after.stars} after {before.stars}")
            return None
    from gridcore.rules.checker import ladder_problems

    for at, message, message_zh in ladder_problems(ladder, low=0.0, high=1e12):
        report(at, message, message_zh, warning=True)
    return tuple(levels)


def _caps(level: str, body: Any, ref: RuleRef, report: Report) -> tuple[StarCap, ...]:
    caps = []
    for part in body.children:
        if getattr(part, "kind", "") not in ("assessment_cap_en", "assessment_cap_zh"):
            continue
        quota = _child(part, "assessment_quota")
        stars_value = [c for c in part.children if getattr(c, "kind", "") == "number"]
        stars = int(stars_value[0].value)
        amount = quota.children[0]
        if amount.kind == "percent":
            caps.append(StarCap(stars, _ref_at(ref, part), share=float(amount.value) * 100, level=level))
        else:
            caps.append(StarCap(stars, _ref_at(ref, part), count=int(amount.value), level=level))
    return tuple(caps)


def _subsidy(role_name: str, body: Any, ref: RuleRef, report: Report) -> Subsidy | None:
    try:
        role = role_id(role_name)
    except GridcoreError:  # a role the community declares itself: kept as written
        role = role_name
    if body.kind == "assessment_per_star":
        return Subsidy(role, ref, per_star=float(_numbers(body)[0]))
    base = float(_numbers(body)[0])
    ladder = _child(body, "ladder")
    steps = []
    for step in ladder.steps:
        condition = to_condition(step.condition, report, STARS_WORDS, "stars")
        factor = _number(step.value, report)
        if condition is None or factor is None:
            return None
        needed = _stars_threshold(condition)
        if needed is None:
            report(step, "a subsidy step must say 'stars >= N'", "补贴每一档须写成 '星级 >= N'",
                   suggestion="1.5 if stars >= 5")
            return None
        steps.append((needed, factor))
    otherwise = _number(ladder.otherwise, report) if ladder.otherwise is not None else 0.0
    if otherwise is None:
        return None
    return Subsidy(role, ref, base=base, multipliers=tuple(steps), otherwise=otherwise)


def _patrol(body: Any, ref: RuleRef, report: Report) -> PatrolRequirement | None:
    times = int(_numbers(body)[0])
    if times < 1:
        report(body, "patrols must be required at least once", "巡查次数至少为 1", suggestion="1 per day")
        return None
    per = str(_first_value(body, "period"))
    if per not in ("day", "week", "month"):
        report(body, "patrols are counted per day, week or month", "巡查按天、周或月计", suggestion="1 per day")
        return None
    names = _names(body)
    return PatrolRequirement(times, per, ref, level=names[0].text if names else None)


def _serious(body: Any, ref: RuleRef, report: Report) -> tuple[int, RuleRef] | None:
    condition = to_condition(body.children[0], report, SEVERITY_WORDS, "severity")
    if isinstance(condition, Compare) and condition.subject == "severity" and condition.op in (">=", ">"):
        threshold = int(condition.number) + (1 if condition.op == ">" else 0)
        if 1 <= threshold <= 5:
            return (threshold, ref)
    report(body, "write the serious threshold as 'severity >= N' (N from 1 to 5)",
           "重大事件写成 '严重程度 >= N'（N 为 1 到 5）", suggestion="serious: severity >= 4")
    return None


# ---------------------------------------------------------------- conditions


def to_condition(expr: Any, report: Report, own_words: Sequence[str], own: str) -> Condition | None:
    """Translate a checked expression into a condition over ``own`` (score/stars) and metrics.

    Accepted: comparisons of a name with a number (either side, chains too),
    ``and``, ``or``, ``not``, and a bare metric name (true when it is not 0).
    """
    from gridcore.rules import ast

    if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
        left = to_condition(expr.left, report, own_words, own)
        right = to_condition(expr.right, report, own_words, own)
        if left is None or right is None:
            return None
        cls = AllOf if expr.op == "and" else AnyOf
        parts = [*(left.parts if isinstance(left, cls) else (left,)), *(right.parts if isinstance(right, cls) else (right,))]
        return cls(tuple(parts))
    if isinstance(expr, ast.Unary) and expr.op == "not":
        if isinstance(expr.operand, ast.Var):
            return NoneOf(_subject(expr.operand.name, own_words, own))
        inner = to_condition(expr.operand, report, own_words, own)
        return None if inner is None else Negation(inner)
    if isinstance(expr, ast.Var):
        return Compare(_subject(expr.name, own_words, own), ">", 0.0)
    if isinstance(expr, ast.Compare):
        pairs = []
        for op, (lhs, rhs) in zip(expr.ops, itertools.pairwise(expr.operands)):
            pair = _pair(op, lhs, rhs, own_words, own)
            if pair is None:
                report(expr, "compare a name (score or a metric) with a number, e.g. score >= 90",
                       "请用名称（得分或指标）与数字比较，如 得分 >= 90")
                return None
            pairs.append(pair)
        return pairs[0] if len(pairs) == 1 else AllOf(tuple(pairs))
    report(expr, "a condition here compares score or a metric with a number (and, or, not allowed)",
           "这里的条件只能把得分或指标与数字比较（可用 且、或、不）")
    return None


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


def _pair(op: str, left: Any, right: Any, own_words: Sequence[str], own: str) -> Compare | None:
    from gridcore.rules import ast

    if op not in _FLIP:
        return None
    if isinstance(left, ast.Var) and _is_number(right):
        return Compare(_subject(left.name, own_words, own), op, float(right.value))
    if isinstance(right, ast.Var) and _is_number(left):
        return Compare(_subject(right.name, own_words, own), _FLIP[op], float(left.value))
    return None


def _is_number(expr: Any) -> bool:
    from gridcore.rules import ast

    return isinstance(expr, ast.Literal) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool)


def _subject(name: str, own_words: Sequence[str], own: str) -> str:
    return own if name.lower() in own_words or name in own_words else name


def _stars_threshold(condition: Condition) -> int | None:
    if isinstance(condition, Compare) and condition.subject == "stars":
        if condition.op == ">=":
            return int(condition.number)
        if condition.op == ">":
            return int(condition.number) + 1
        if condition.op == "==":
            return int(condition.number)
    return None


# ---------------------------------------------------------------- helpers


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


def _whole(expr: Any, report: Report, what: str, what_zh: str) -> int | None:
    value = _number(expr, report)
    if value is None or value != int(value) or not 0 <= value <= 10:
        report(expr, f"{what} must be a whole number from 0 to 10", f"{what_zh}必须是 0 到 10 的整数")
        return None
    return int(value)


def _number(expr: Any, report: Report) -> float | None:
    if _is_number(expr):
        return float(expr.value)
    report(expr, "a plain number is expected here", "这里应为数字")
    return None


def _numbers(node: Any) -> list[float]:
    return [c.value for c in node.children if getattr(c, "kind", "") == "number"]


def _names(node: Any) -> list[Any]:
    return [c for c in node.children if getattr(c, "kind", "") == "name"]


def _child(node: Any, kind: str) -> Any:
    for child in node.children:
        if getattr(child, "kind", "") == kind:
            return child
    return None


def _first_value(node: Any, kind: str) -> Any:
    for child in node.walk():
        if getattr(child, "kind", "") == kind and hasattr(child, "value"):
            return child.value
    return None


def _ref_at(ref: RuleRef, thing: Any) -> RuleRef:
    pos = getattr(thing, "pos", None)
    if pos is None or not getattr(pos, "line", 0):
        return ref
    return RuleRef(ref.file, pos.line, pos.column, ref.text)
