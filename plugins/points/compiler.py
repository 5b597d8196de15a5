"""Compiling the points section: the items in force on a day to a ``PointsPolicy``.

The core picks the version of each item in force (gridcore/rules/timeline.py)
and calls ``compile_points`` once per span of days; conditions and computed
amounts are compiled by the rules language (``CompileContext.compile_expr``)
against the documented schema, so ruleset text never reaches ``eval``.  Every
mistake is reported through the context with its position, and compilation
carries on so that all of them are shown at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from gridcore.explain import RuleRef
from gridcore.periods import KINDS
from gridcore.rules import ast
from gridcore.rules import schema as sch
from gridcore.rules.checker import did_you_mean
from gridcore.rules.keywords import is_cjk

from . import nodes
from .facts import Check, Facts, Formula
from .policy import (
    ActivityItem,
    Amount,
    Cap,
    Expiry,
    Floor,
    Guard,
    IncidentItem,
    PointsPolicy,
    Recognition,
    Reward,
    Streak,
    TaskItem,
    Tilt,
)
from .section import activity_env, incident_env


class _Compiler:
    """Turns the section's items into ``Part`` values, reporting mistakes through ``ctx``."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def error(self, at: Any, message: str, message_zh: str, fix: str = "", fix_zh: str = "") -> None:
        self.ctx.error(at, message, message_zh, fix=fix, fix_zh=fix_zh)

    def expr(self, expr: ast.Expr, env: sch.Env, wanted: str, ref: RuleRef) -> Callable[[Facts], Any] | None:
        """The expression as a function of the ``Facts`` record (its attributes are the env's variables)."""
        before = len(self.ctx.diagnostics)
        compiled = self.ctx.compile_expr(expr, env, expect=wanted)
        if any(d.is_error for d in self.ctx.diagnostics[before:]):
            return None
        return compiled.on_record()  # type: ignore[no-any-return]

    def check(self, expr: ast.Expr, env: sch.Env, ref: RuleRef) -> Check | None:
        before = len(self.ctx.diagnostics)
        compiled = self.ctx.compile_expr(expr, env, expect=sch.BOOL)
        if any(d.is_error for d in self.ctx.diagnostics[before:]):
            return None
        return Check(text=_text_of(ref, expr), test=compiled.on_record(), reads=_reads(expr, env),
                     holds=compiled.on_record(test=True))

    def formula(self, expr: ast.Expr, env: sch.Env, ref: RuleRef) -> Formula | None:
        fn = self.expr(expr, env, sch.NUMBER, ref)
        if fn is None:
            return None
        return Formula(text=_text_of(ref, expr), compute=fn, reads=_reads(expr, env))


_SINGLE = {"expiry", "recognition", "floor"}
_TUPLES = {"activities", "caps", "incidents"}


def compile_points(items: Sequence[ast.Item], ctx: Any) -> PointsPolicy:
    """Compile the points items in force on a day into the ``PointsPolicy`` of that day."""
    comp = _Compiler(ctx)
    fields: dict[str, list[Any]] = {}
    single: dict[str, Any] = {}
    for item in items:
        value = _compile_version(comp, item, item.versions[0])
        if value is None:
            continue
        kind, payload = value
        if kind in _SINGLE:
            single[kind] = payload
        elif kind in _TUPLES:
            assert isinstance(payload, tuple)
            fields.setdefault(kind, []).extend(payload)
        else:
            fields.setdefault(kind, []).append(payload)
    return PointsPolicy(
        activities=tuple(fields.get("activities", ())),
        caps=tuple(fields.get("caps", ())),
        tilts=tuple(fields.get("tilts", ())),
        incidents=tuple(fields.get("incidents", ())),
        rewards=tuple(fields.get("rewards", ())),
        expiry=single.get("expiry"),
        recognition=single.get("recognition"),
        guards=tuple(fields.get("guards", ())),
        streaks=tuple(fields.get("streaks", ())),
        tasks=tuple(fields.get("tasks", ())),
        **({"floor": single["floor"]} if "floor" in single else {}),
    )


def _compile_version(comp: _Compiler, item: ast.Item, version: ast.Version) -> tuple[str, object] | None:
    body, ref = version.body, version.ref
    name = item.name.text if item.name is not None else ""
    if isinstance(body, nodes.Activity):
        return "activities", _activity(comp, name, body, ref)
    if isinstance(body, nodes.Caps):
        return "caps", tuple(_cap(c, ref) for c in body.caps)
    if isinstance(body, nodes.Floor):
        return _floor(comp, body, ref)
    if isinstance(body, nodes.Tilt):
        factor = _fraction(body.factor)
        if factor <= 0:
            comp.error(body, f"a tilt must be a positive multiplier, got {body.factor}",
                       f"倾斜倍数必须大于 0，而不是 {body.factor}", fix="write e.g. x 1.5",
                       fix_zh="写大于 0 的倍数，如 1.5 倍")
            return None
        return _tilt(comp, item.name, factor, ref)
    if isinstance(body, nodes.Reward):
        return _reward(comp, name, body, ref)
    if isinstance(body, nodes.Expiry):
        if body.months <= 0:
            comp.error(body, "points must stay valid for at least one month", "有效期至少一个月")
            return None
        return "expiry", Expiry(body.months, ref)
    if isinstance(body, nodes.Recognition):
        return _recognition(comp, name, body, ref, item.name or body)
    if isinstance(body, nodes.Guard):
        return _guard(comp, item.kind, body, ref)
    if isinstance(body, nodes.Scales):
        return _incident_items(comp, item.kind, body, ref)
    if isinstance(body, nodes.Streak):
        return _streak(comp, body, ref)
    if isinstance(body, nodes.TaskPoints) and item.name is not None:
        return _task(comp, item.name, body, ref)
    comp.error(body, f"unknown points item {item.kind!r}", f"未知的积分条目 {item.kind!r}")  # pragma: no cover
    return None


def _activity(comp: _Compiler, name: str, body: nodes.Activity, ref: RuleRef) -> tuple[ActivityItem, ...]:
    env = activity_env()
    caps = tuple(_cap(c, ref) for c in body.caps)
    aliases = body.aliases
    out = []
    for scale in _ordered_scales(comp, name, body.scales):
        when = comp.check(scale.when, env, ref) if scale.when is not None else None
        amount = _amount(comp, scale.term, env, ref)
        if amount is None:
            continue
        out.append(ActivityItem(activity=name, amount=amount, rule=ref, caps=caps, when=when, aliases=aliases))
    return tuple(out)


def _ordered_scales(comp: _Compiler, name: str, scales: Sequence[nodes.Scale]) -> list[nodes.Scale]:
    """Scales with a condition in the order written, then the one without (the default).

    ``5, 10 when incident.severity >= 4`` and ``10 when incident.severity >= 4, 5``
    mean the same; two scales without a condition are an error.
    """
    conditional = [s for s in scales if s.when is not None]
    default = [s for s in scales if s.when is None]
    if len(default) > 1:
        comp.error(default[1], f"{name}: only one amount may go without 'when' (the default)",
                   f"{name}：只能有一个不带条件（当 …）的分值（默认分值）",
                   fix="add 'when <condition>' to all amounts but one",
                   fix_zh="除一个分值外，其余分值都加上“当 <条件>”")
    return conditional + default[:1]


def _amount(comp: _Compiler, term: nodes.Term, env: sch.Env, ref: RuleRef) -> Amount | None:
    if isinstance(term, nodes.Computed):
        formula = comp.formula(term.expr, env, ref)
        return Amount(formula=formula) if formula is not None else None
    value = _fraction(term.points)
    if isinstance(term, nodes.PerHour):
        return Amount(per_hour=value)
    if isinstance(term, nodes.PerItem):
        return Amount(per_unit=value)
    return Amount(fixed=value)


def _floor(comp: _Compiler, body: nodes.Floor, ref: RuleRef) -> tuple[str, object] | None:
    if body.points is None:
        return "floor", Floor(None, ref)
    limit = _fraction(body.points)
    if limit.denominator != 1:
        comp.error(body, f"a floor is a whole number of points, got {body.points:g}",
                   f"下限须为整数分，而不是 {body.points:g}", fix="write e.g. floor: -50 points",
                   fix_zh="写成整数分，如 下限：扣 50 分")
        return None
    return "floor", Floor(int(limit), ref)


def _cap(node: nodes.Cap, ref: RuleRef) -> Cap:
    return Cap(int(node.points), node.period, ref)


def _tilt(comp: _Compiler, name: ast.Name | None, factor: Fraction, ref: RuleRef) -> tuple[str, object] | None:
    assert name is not None
    ctx = comp.ctx
    role = ctx.roles.id_of(name.text)  # a built-in role or the roster's own, by id or Chinese name
    if role is not None:
        return "tilts", Tilt(factor, ref, role=role)
    if ctx.levels and ctx.level_id(name.text) is None:
        problem = ctx.roles.problem(name.text, also={level: ctx.level_names.get(level, level) for level in ctx.levels})
        if problem.warning:  # no roster given: a role it may declare, kept as written
            return "tilts", Tilt(factor, ref, role=ctx.role(name) or name.text)
    level = _level(comp, name.text, name, roles=True)
    if level is None:
        return None
    return "tilts", Tilt(factor, ref, level=level)


def _level(comp: _Compiler, written: str, at: Any, *, roles: bool = False) -> str | None:
    """The id of the level ``written`` names, by id or by its declared Chinese name.

    Only the ruleset's own levels line counts (``levels: grid (网格) > ...``),
    so ``gridcore check`` gives the same verdict as the engine; the
    community's labels (community.yaml ``level_names``) are not consulted.
    An unknown level is reported with did-you-mean (None).  A ruleset that
    declares no levels keeps the name as written.
    """
    ctx = comp.ctx
    levels = tuple(ctx.levels)
    if not levels:
        return written
    found = ctx.level_id(written)
    if found is not None:
        return str(found)
    pool = [*levels, *ctx.level_names.values()]
    shown_zh = [ctx.level_names.get(level, level) for level in levels]
    if roles:
        pool = [*ctx.roles.names, *ctx.roles.names.values(), *pool]
        shown_zh = [*ctx.roles.names.values(), *shown_zh]
    fix = fix_zh = ""
    if is_cjk(written):
        example = " > ".join(f"{level} (Chinese name)" if i == 1 else level for i, level in enumerate(levels))
        example_zh = " > ".join(f"{level}（中文名）" if i == 1 else level for i, level in enumerate(levels))
        fix = ("write a role listed, or a level's id; a level may be given a Chinese name in the levels "
               f"line: levels: {example}" if roles else
               f"write the level's id, or give the level a Chinese name in the levels line: levels: {example}")
        fix_zh = (f"写列出的角色或层级编号；层级也可在层级行中加上中文名：层级：{example_zh}" if roles else
                  f"写层级编号，或在层级行中给层级加上中文名：层级：{example_zh}")
    ctx.error(
        at,
        f"'{written}' is neither a role nor a level of this ruleset" if roles
        else f"'{written}' is not a level of this ruleset",
        f"'{written}' 既不是角色，也不是本规则集的层级" if roles else f"'{written}' 不是本规则集的层级",
        expected=", ".join(p for p in pool if p.isascii()), expected_zh="、".join(shown_zh),
        suggestion=did_you_mean(written, pool), fix=fix, fix_zh=fix_zh,
    )
    return None


def _reward(comp: _Compiler, name: str, body: nodes.Reward, ref: RuleRef) -> tuple[str, object] | None:
    price = body.all(nodes.Price)
    if len(price) != 1:
        comp.error(body, f"reward {name}: give its price once, e.g. 200 points",
                   f"礼遇 {name}：写一次所需积分，如 200 分")
        return None
    stock = body.all(nodes.Stock)
    limit = body.all(nodes.Limit)
    starts = body.all(nodes.ValidFrom)
    ends = body.all(nodes.ValidUntil)
    valid_from = starts[0].day if starts else None
    valid_until = ends[0].day if ends else None
    if valid_from and valid_until and valid_until < valid_from:
        comp.error(body, f"reward {name}: valid until {valid_until} is before valid from {valid_from}",
                   f"礼遇 {name}：截止日期 {valid_until} 早于开始日期 {valid_from}")
        return None
    cost = int(price[0].points)
    if cost <= 0:
        comp.error(price[0], f"reward {name}: the price must be at least 1 point", f"礼遇 {name}：所需积分至少 1 分")
        return None
    return "rewards", Reward(
        name=name,
        price=cost,
        rule=ref,
        stock=int(stock[0].count) if stock else None,
        limit=int(limit[0].count) if limit else None,
        limit_period=limit[0].period if limit else None,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _recognition(comp: _Compiler, level: str, body: nodes.Recognition, ref: RuleRef,
                 at: Any) -> tuple[str, object] | None:
    budget = body.budget
    found = _level(comp, level, at)
    if found is None:
        return None
    level = found
    roles: list[str] = []
    for written in body.by:
        role = comp.ctx.role(written)
        if role is None:
            return None
        roles.append(role)
    amount = int(budget.points)
    if amount <= 0:
        comp.error(budget, "a recognition budget must be at least 1 point", "表扬预算至少 1 分")
        return None
    return "recognition", Recognition(
        budget=amount, level=level, period=budget.period, rule=ref,
        roles=tuple(roles) or ("grid_leader", "master_grid_leader"),
    )


def _guard(comp: _Compiler, kind: str, body: nodes.Guard, ref: RuleRef) -> tuple[str, object] | None:
    action = body.action
    window = "day"
    if body.window is not None:
        if kind != "duplicate":
            comp.error(body, "only 'duplicate' takes a window (same day / overlapping)",
                       "只有“重复申报”可以写时间范围（同日 / 时间重叠）")
            return None
        window = body.window
    if kind == "self_closed" and action == "refuse":
        comp.error(body, "self-closed incidents can only be flagged: their events belong to the incident's handlers",
                   "自报自结只能标记，不能拒绝：事件的记录属于办理流程", fix="write: self closed: flag",
                   fix_zh="写成 自报自结：标记")
        return None
    return "guards", Guard(kind, action, ref, window=window)


def _incident_items(comp: _Compiler, kind: str, body: nodes.Scales, ref: RuleRef) -> tuple[str, object] | None:
    env = incident_env()
    out = []
    for scale in _ordered_scales(comp, kind.replace("_", " "), body.scales):
        term = scale.term
        if not isinstance(term, nodes.Fixed):
            comp.error(term, "incident items earn a fixed number of points, e.g. 10 points",
                       "事件积分只能是固定分值，如 10 分")
            continue
        when = comp.check(scale.when, env, ref) if scale.when is not None else None
        out.append(IncidentItem(kind, int(term.points), ref, when=when))
    return "incidents", tuple(out)


def _streak(comp: _Compiler, body: nodes.Streak, ref: RuleRef) -> tuple[str, object] | None:
    unit, span = body.unit, body.span
    if KINDS.index(unit) >= KINDS.index(span):
        comp.error(body, f"a streak counts {unit}s inside a longer period, not a {span}",
                   "连续活跃的小周期必须短于大周期", fix="write e.g. 20 points for each month of the quarter",
                   fix_zh="写成如 连续活跃：每季度 每月 20 分")
        return None
    return "streaks", Streak(int(body.points), unit, span, ref)


def _task(comp: _Compiler, name: ast.Name, body: nodes.TaskPoints, ref: RuleRef) -> tuple[str, object] | None:
    if not comp.ctx.known("task", name):
        return None
    amounts: dict[type, int] = {}
    for part in body.parts:
        term = part.term
        if type(part) in amounts:
            comp.error(part, "write 'on time' and 'if missed' once each", "“按时完成”与“逾期”各写一次")
            return None
        if not isinstance(term, nodes.Fixed) or not float(term.points).is_integer():
            comp.error(term, "a task earns or loses a whole number of points, e.g. 10 points",
                       "专项任务的积分须为整数分值，如 10 分")
            return None
        points = int(term.points)
        if isinstance(part, nodes.OnTime) and points < 0:
            comp.error(term, "a task done on time cannot lose points; write the deduction with 'if missed'",
                       "按时完成不能扣分；扣分请写在“逾期”后", fix="write e.g. 10 points on time, minus 5 points if missed",
                       fix_zh="写成如 按时完成 10 分，逾期扣 5 分")
            return None
        if isinstance(part, nodes.Missed) and points > 0:
            comp.error(term, "a missed task cannot earn points: write it as a deduction (minus 5 points if missed)",
                       "逾期不能加分：请写成扣分（逾期扣 5 分）", fix="write e.g. minus 5 points if missed",
                       fix_zh="写成如 逾期扣 5 分")
            return None
        amounts[type(part)] = points
    return "tasks", TaskItem(name.text, ref, on_time=amounts.get(nodes.OnTime, 0),
                             missed=amounts.get(nodes.Missed, 0))


# ---------------------------------------------------------------------------- helpers


def _fraction(value: float) -> Fraction:
    return Fraction(str(value))


def _reads(expr: ast.Expr, env: sch.Env) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[Any] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, ast.FieldRef):
            hit = env.lookup(e.root)
            if hit is not None:
                field_ = hit[1].field_named(e.name)
                found.append(f"{hit[1].name}.{field_.name if field_ else e.name}")
        elif isinstance(e, ast.Var):
            hit = env.lookup(e.name)
            if hit is not None and hit[1].type != sch.RECORD:
                found.append(hit[1].name)
        elif e is not None and hasattr(e, "__attrs_attrs__"):
            for attribute in e.__attrs_attrs__:
                value = getattr(e, attribute.name)
                if isinstance(value, tuple):
                    stack.extend(v for v in value if isinstance(v, ast.Expr))
                elif isinstance(value, ast.Expr):
                    stack.append(value)
    return tuple(dict.fromkeys(sorted(found)))


def _text_of(ref: RuleRef, expr: ast.Expr) -> str:
    """The expression as written: from its start to the next top-level comma of the line."""
    pos = getattr(expr, "pos", None)
    lines = (ref.text or "").splitlines()
    if pos is None or pos.line != ref.line or not lines or pos.column < ref.column:
        return (ref.text or "").strip()
    rest = lines[0][pos.column - ref.column:]
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "([（【":
            depth += 1
        elif ch in ")]）】":
            depth -= 1
        elif ch in ",，、" and depth == 0:
            return rest[:i].strip()
    return rest.strip()
