"""Compiling the assessment section: the items in force on a day to an ``AssessmentPolicy``.

The core picks the version of each item in force on a day and calls
``compile_section`` once per span of days.  ``compile_body(kind, name, body,
ref, report)`` returns what one item version sets (a ``MetricTerm``, the star
ladder, the caps of a level, ...) or None after reporting a problem through
``report`` (``CompileContext.error``); ``assemble`` makes the policy of them.
It reads the section's typed nodes (nodes.py) and never a grammar rule name.
Conditions and ladders are translated into the small condition tree of
policy.py; only ``score`` (得分) and metric names may appear in them, compared
with numbers, so ruleset text never becomes code.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from gridcore.classes import frozen
from gridcore.errors import GridcoreError
from gridcore.explain import RuleRef
from gridcore.periods import PeriodError, normalise_kind
from gridcore.roster import role_id
from gridcore.rules import Name
from gridcore.rules.checker import did_you_mean

from . import nodes
from .conditions import (
    SCORE_WORDS,
    SEVERITY_WORDS,
    STARS_WORDS,
    Report,
    is_number,
    stars_threshold,
    to_condition,
)
from .policy import (
    SCORE,
    Adjustment,
    AssessmentPolicy,
    Compare,
    MetricTerm,
    PatrolRequirement,
    StarCap,
    StarLevel,
    Subsidy,
    SubsidyPaying,
)
from .section import METRIC_ITEMS
from .star_ladder import Gap, Text, lower_bound_only, ordered_ladder, star_gap

if TYPE_CHECKING:
    from gridcore.rules import CompileContext, Item


@frozen
class Fact:
    """One compiled item: what it sets."""

    kind: str
    key: str | None
    value: Any


def assemble(facts: Sequence[Fact], cycle: str = "") -> AssessmentPolicy:
    """Build a policy from the facts in force (in file order); ``cycle`` names a cycle's own."""
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
        cycle=cycle,
        cycle_rule=values.get("cycle_rule"),
    )


#: Kinds that say how metrics are measured, for every cycle alike: never scoped.
SHARED = ("patrol", "serious")


def compile_section(items: Sequence[Item], ctx: CompileContext) -> AssessmentPolicy:
    """``Section.compile``: the items in force on a day; problems go to ``ctx.error``.

    Items without a scope are the section's own cycle (the main policy); each
    scope written after an item's head (``stars (quarterly):``) is another
    assessment cycle, compiled from its own items alone and kept in
    ``AssessmentPolicy.cycles``.  ``patrol`` and ``serious`` are shared.
    """
    main = [item for item in items if item.scope is None]
    scoped: dict[str, list[Item]] = {}
    for item in items:
        if item.scope is None:
            continue
        if item.kind in SHARED:
            ctx.error(item.scope, f"'{item.kind}' is shared by every assessment cycle: it cannot name one",
                      f"'{item.kind}' 为各考核周期共用，不能指定周期",
                      fix=f"write it without '({item.scope.text})'", fix_zh=f"去掉“（{item.scope.text}）”")
            continue
        if not _CYCLE_NAME.fullmatch(item.scope.text):
            ctx.error(item.scope, f"an assessment cycle is named by a word: '{item.scope.text}'",
                      f"考核周期的名称须是一个词：'{item.scope.text}'", fix="e.g. (quarterly) or （季度考核）",
                      fix_zh="如 (quarterly) 或（季度考核）")
            continue
        scoped.setdefault(item.scope.text, []).append(item)
    policy = _compile_cycle(main, ctx, "")
    if scoped and not main:
        first = next(iter(scoped.values()))[0]
        ctx.error(first, "an assessment cycle needs the section's own cycle beside it",
                  "考核周期须与本栏目自身的考核并存", fix="write the main rating without a cycle: rate:, metric ...:, stars:",
                  fix_zh="先写不带周期的考核：评定层级、指标、星级")
    cycles = tuple(_compile_cycle(found, ctx, name, shared=main) for name, found in scoped.items())
    return attrs.evolve(policy, cycles=cycles)


#: A cycle's name: letters, digits, underscores or Chinese characters (it is part of a stored key).
_CYCLE_NAME = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]+")


def _compile_cycle(items: Sequence[Item], ctx: CompileContext, cycle: str,
                   shared: Sequence[Item] = ()) -> AssessmentPolicy:
    """One cycle's policy: its own items, and (for a named cycle) the shared ``patrol`` and ``serious``."""
    report = ctx.error
    facts: list[Fact] = []
    kinds = {item.kind for item in items}
    what, what_zh = (f"assessment cycle '{cycle}'", f"考核周期“{cycle}”") if cycle else \
        ("the assessment section", "考核栏目")
    items = [*items, *(i for i in shared if i.kind in SHARED)]
    for item in items:
        name = item.name.text if item.name is not None else None
        if item.kind == "cap" and item.name is not None:
            name = _level(item.name, ctx)
        if item.kind == "subsidy" and item.name is not None:
            name = ctx.role(item.name) or item.name.text  # a built-in role or the roster's own: its id
        for version in item.versions:
            kind = "penalty" if item.kind == "person_penalty" else item.kind
            value = compile_body(kind, name, version.body, version.ref, report, ctx.text)
            if value is not None and item.kind in ("rate", "patrol"):
                value = _with_level_ids(item.kind, value, version.body, ctx)
            if value is not None and item.kind == "people":
                value = (tuple(_role_of(n, ctx) for n in names(version.body)), value[1])
            if value is not None:
                facts.append(Fact(item.kind, name, value))
    scope = f" ({cycle})" if cycle else ""
    scope_zh = f"（{cycle}）" if cycle else ""
    if items and "stars" not in kinds:
        report(items[0], f"{what} has no star ladder",
               f"{what_zh}缺少星级规则", fix=f"add: stars{scope}: 5 if score >= 90, 4 if score >= 80, otherwise 3",
               fix_zh=f"加上：星级{scope_zh}：若 得分 >= 90 则 5，若 得分 >= 80 则 4，否则 3")
    if items and "metric" not in kinds:
        report(items[0], f"{what} counts no metric",
               f"{what_zh}没有计分指标", fix=f"add: metric patrol_coverage{scope}: weight 100",
               fix_zh=f"加上：指标 巡查覆盖率{scope_zh}：权重 100")
    if items and "rate" not in kinds:
        report(items[0], f"{what} does not say which levels are rated",
               f"{what_zh}没有写明评定层级", fix=f"add: rate{scope}: grid", fix_zh=f"加上：评定层级{scope_zh}：grid")
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
    _warn_unknown_metrics(items, ctx)
    if cycle:
        facts.append(Fact("cycle_rule", None, items[0].ref))
    return assemble(facts, cycle)


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
    """The id of a role written by id or Chinese name, a built-in role or the roster's own
    (reported when it is neither: ``CompileContext.role``)."""
    return ctx.role(name) or str(name.text)


def _warn_unknown_metrics(items: Sequence[Item], ctx: CompileContext) -> None:
    """Warn (``gridcore check``) about metric names no enabled plugin contributes.

    The metrics are the ones the core hands the compiler (``ctx.metrics``: what
    the plugins enabled where the ruleset is loaded register); with none given
    nothing is checked.  Only a warning: an embedder may register a plugin
    directly, and a plugin may be disabled at run time; ``assess`` then fails
    with a clear error.
    """
    metrics = ctx.metrics.values()
    if not metrics:
        return
    known = {m.name for m in metrics} | {m.title_zh for m in metrics if m.title_zh}
    for item in items:
        if item.kind in METRIC_ITEMS and item.name is not None and item.name.text not in known:
            pool = sorted(known)
            close = did_you_mean(item.name.text, pool)
            ctx.error(item.name, f"no installed plugin contributes a metric named '{item.name.text}'",
                      f"没有已安装的插件提供指标 '{item.name.text}'", expected=", ".join(sorted(m.name for m in metrics)),
                      expected_zh="、".join(sorted(m.title_zh or m.name for m in metrics)),
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



def compile_body(kind: str, name: str | None, body: Any, ref: RuleRef, report: Report,
                 text: Text = lambda _: "") -> Any:
    """What one item version sets; ``text`` gives the source of a node (for fixes written out)."""
    if isinstance(body, nodes.Period):
        try:
            return (normalise_kind(body.period), ref)
        except PeriodError:
            report(body, f"unknown period {body.period!r}", f"未知周期 {body.period!r}",
                   expected="day, week, month, quarter or year", expected_zh="日、周、月、季度或年")
            return None
    if isinstance(body, nodes.Rate):
        return (tuple(n.text for n in body.levels), ref)
    if isinstance(body, nodes.Metric):
        return _metric(name or "", body, ref, report)
    if isinstance(body, nodes.Adjust):
        return _adjustment(kind, name or "", body, ref, report)
    if isinstance(body, nodes.Stars):
        return _stars(body, ref, report, text)
    if isinstance(body, nodes.Caps):
        return _caps(name or "", body, ref, report)
    if isinstance(body, nodes.PerStar | nodes.Base):
        return _subsidy(name or "", body, ref, report)
    if isinstance(body, nodes.Paying):
        return _paying(body, ref, report)
    if isinstance(body, nodes.Patrol):
        return _patrol(body, ref, report)
    if isinstance(body, nodes.Serious):
        return _serious(body, ref, report)
    return None


def names(body: Any) -> list[Name]:
    """The level names a ``rate`` or ``patrol`` body writes."""
    if isinstance(body, nodes.Rate):
        return list(body.levels)
    if isinstance(body, nodes.Patrol) and body.level is not None:
        return [body.level]
    return []


def _metric(name: str, body: nodes.Metric, ref: RuleRef, report: Report) -> MetricTerm | None:
    if body.weight <= 0:
        report(body, f"the weight of {name} must be more than 0", f"{name} 的权重必须大于 0")
        return None
    low, high, missing = 0.0, 100.0, "zero"
    for option in body.options:
        if isinstance(option, nodes.Scale):
            low, high = option.low, option.high
            if low == high:
                report(option, "a scale needs two different ends", "区间两端不能相同", fix="e.g. scale 0 to 100", fix_zh="如 区间 0 至 100")
                return None
        else:
            missing = "full"
    return MetricTerm(name, body.weight, ref, low=low, high=high, when_missing=missing)


def _adjustment(kind: str, name: str, body: nodes.Adjust, ref: RuleRef, report: Report) -> Adjustment | None:
    for sign in (body.sign, body.limit.sign if body.limit is not None else None):
        if sign is not None and sign.plus != (kind == "bonus"):
            word, word_zh = ("minus", "扣") if kind == "bonus" else ("plus", "加")
            report(sign, f"a {kind} cannot say '{word}'", f"{'加分' if kind == 'bonus' else '扣分'}不能写“{word_zh}”",
                   fix=f"write a {'penalty' if kind == 'bonus' else 'bonus'} item instead",
                   fix_zh=f"请改写成{'扣分' if kind == 'bonus' else '加分'}项")
            return None
    points = body.points
    limit = body.limit.points if body.limit is not None else None
    return Adjustment(name, -points if kind == "penalty" else points, ref, limit=limit)


def _stars(body: nodes.Stars, ref: RuleRef, report: Report, text: Text) -> tuple[StarLevel, ...] | None:
    ladder = body.ladder
    levels: list[StarLevel] = []
    ok = True
    for step in ladder.steps:
        stars = _whole(step.value, report, "stars", "星数")
        condition = to_condition(step.condition, report, SCORE_WORDS, SCORE)
        if stars is None or condition is None:
            ok = False
            continue
        levels.append(StarLevel(stars, condition, _ref_at(ref, step)))
    last = _whole(ladder.otherwise, report, "stars", "星数") if ladder.otherwise is not None else None
    if not ok or (ladder.otherwise is not None and last is None):
        return None
    in_order = all(after.stars < before.stars for before, after in itertools.pairwise(
        [*levels, *([StarLevel(last, None, ref)] if last is not None else [])]))
    if last is None or not in_order:
        # The fix is the whole ladder written out again, so writing it in passes.
        fixed = ordered_ladder(ladder, [level.stars for level in levels], last, text)
        fix = f"write the ladder as: {fixed}" if fixed else ""
        fix_zh = f"把星级规则改为：{fixed}" if fixed else ""
        if last is None:
            report(ladder, "the star ladder needs a last 'otherwise N' step",
                   "星级规则最后需要一档 '否则 N'", fix=fix or "end the ladder with: otherwise 0",
                   fix_zh=fix_zh or "在最后加上：否则 0")
        else:
            report(ladder, "list star levels from most to fewest stars, 'otherwise' giving the fewest",
                   "星级请从高到低排列，'否则' 一档最少", fix=fix, fix_zh=fix_zh)
        return None
    gap = star_gap(levels, last)
    if gap is not None:
        _report_gap(gap, ladder, levels[gap.giver], report, text)
        return None
    levels.append(StarLevel(last, None, _ref_at(ref, ladder.otherwise)))
    from gridcore.rules.checker import ladder_problems

    for at, message, message_zh in ladder_problems(ladder, low=0.0, high=1e12):
        report(at, message, message_zh, warning=True)
    return tuple(levels)


def _report_gap(gap: Gap, ladder: Any, giving: StarLevel, report: Report, text: Text) -> None:
    """Scores that get fewer stars than lower scores: reported at the step that leaves them out."""
    giver = ladder.steps[gap.giver]
    written = text(giver)
    english = bool(written) and written.startswith(text(giver.value))
    said = text(ladder.steps[gap.step]) if gap.step is not None else ""
    where, where_zh = (f"'{said}'", f"'{said}'") if said else ("'otherwise'", "'否则'")
    condition = text(giver.condition)
    word = next((w for w in SCORE_WORDS if w in condition), "score" if english else "得分")
    shown = gap.piece.describe(word)
    below = gap.below.describe(word)
    bound = lower_bound_only(giving)
    if bound and written:
        value = text(giver.value)
        rewritten = f"{value} if {word} {bound}" if english else f"若 {word} {bound} 则 {value}"
        fix = f"write '{written}' as '{rewritten}' (the steps above it already take the higher scores)"
        fix_zh = f"把 '{written}' 改为 '{rewritten}'（更高的得分已由前面的档计算）"
    else:
        fix = f"add a step for {shown}, or let the steps meet"
        fix_zh = f"为 {shown} 补一档，或让相邻的档首尾相接"
    report(giver, f"no step covers {shown}: those scores get {gap.stars} stars ({where}), "
                  f"fewer than the {gap.more} that {below} gets",
           f"没有一档覆盖 {shown}：这些得分只得 {gap.stars} 星（{where_zh}），少于 {below} 所得的 {gap.more} 星",
           fix=fix, fix_zh=fix_zh)


def _caps(level: str, body: nodes.Caps, ref: RuleRef, report: Report) -> tuple[StarCap, ...]:
    caps = []
    for part in body.parts:
        amount = part.quota
        if amount.kind == "percent":
            caps.append(StarCap(part.stars, _ref_at(ref, part), share=float(amount.value) * 100, level=level))
        else:
            caps.append(StarCap(part.stars, _ref_at(ref, part), count=int(amount.value), level=level))
    return tuple(caps)


def _subsidy(role_name: str, body: nodes.PerStar | nodes.Base, ref: RuleRef, report: Report) -> Subsidy | None:
    try:
        role = role_id(role_name)
    except GridcoreError:  # a role the community declares itself: kept as written
        role = role_name
    if isinstance(body, nodes.PerStar):
        return Subsidy(role, ref, per_star=body.amount)
    base = body.amount
    ladder = body.ladder
    steps = []
    for step in ladder.steps:
        condition = to_condition(step.condition, report, STARS_WORDS, "stars")
        factor = _number(step.value, report)
        if condition is None or factor is None:
            return None
        needed = stars_threshold(condition)
        if needed is None:
            report(step, "a subsidy step must say 'stars >= N'", "补贴每一档须写成 '星级 >= N'",
                   fix="e.g. 1.5 if stars >= 5", fix_zh="如 若 星级 >= 5 则 1.5")
            return None
        steps.append((needed, factor))
    otherwise = _number(ladder.otherwise, report) if ladder.otherwise is not None else 0.0
    if otherwise is None:
        return None
    return Subsidy(role, ref, base=base, multipliers=tuple(steps), otherwise=otherwise)


def _paying(body: nodes.Paying, ref: RuleRef, report: Report) -> SubsidyPaying | None:
    if "once" in body.parts and "per role" in body.parts:
        report(body, "say either 'once per person' or 'per role', not both", "只能写 每人一次 或 按角色 之一")
        return None
    caps = [part for part in body.parts if isinstance(part, float)]
    if any(cap <= 0 for cap in caps):
        report(body, "a person's subsidy cap must be more than 0", "每人补贴上限必须大于 0")
        return None
    return SubsidyPaying(once="per role" not in body.parts, cap=caps[-1] if caps else None, rule=ref)


def _patrol(body: nodes.Patrol, ref: RuleRef, report: Report) -> PatrolRequirement | None:
    times = int(body.times)
    if times < 1:
        report(body, "patrols must be required at least once", "巡查次数至少为 1", fix="e.g. patrol: 1 per day", fix_zh="如 巡查：每天 1 次")
        return None
    per = body.period
    if per not in ("day", "week", "month"):
        report(body, "patrols are counted per day, week or month", "巡查按天、周或月计", fix="e.g. patrol: 1 per day", fix_zh="如 巡查：每天 1 次")
        return None
    return PatrolRequirement(times, per, ref, level=body.level.text if body.level is not None else None)


def _serious(body: nodes.Serious, ref: RuleRef, report: Report) -> tuple[int, RuleRef] | None:
    condition = to_condition(body.condition, report, SEVERITY_WORDS, "severity")
    if isinstance(condition, Compare) and condition.subject == "severity" and condition.op in (">=", ">"):
        threshold = int(condition.number) + (1 if condition.op == ">" else 0)
        if 1 <= threshold <= 5:
            return (threshold, ref)
    report(body, "write the serious threshold as 'severity >= N' (N from 1 to 5)",
           "重大事件写成 '严重程度 >= N'（N 为 1 到 5）", fix="e.g. serious: severity >= 4", fix_zh="如 重大事件：严重程度 >= 4")
    return None


def _whole(expr: Any, report: Report, what: str, what_zh: str) -> int | None:
    value = _number(expr, report)
    if value is None or value != int(value) or not 0 <= value <= 10:
        report(expr, f"{what} must be a whole number from 0 to 10", f"{what_zh}必须是 0 到 10 的整数")
        return None
    return int(value)


def _number(expr: Any, report: Report) -> float | None:
    if is_number(expr):
        return float(expr.value)
    report(expr, "a plain number is expected here", "这里应为数字")
    return None


def _ref_at(ref: RuleRef, thing: Any) -> RuleRef:
    pos = getattr(thing, "pos", None)
    if pos is None or not getattr(pos, "line", 0):
        return ref
    return RuleRef(ref.file, pos.line, pos.column, ref.text)
