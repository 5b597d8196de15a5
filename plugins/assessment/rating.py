"""Rating every node of the rated levels for one period, and the subsidies that follow.

``assess(engine, "2025-Q1")`` reads the policy in force at the period's start,
computes every metric it names for every node at the rated levels, scores and
stars them (``scoring``), works out each person's subsidy, and (unless
``save=False``) stores the result under ``engine.store`` collection
``assessment`` keyed by the period label, so periods can be compared later.

A ruleset may hold several cycles (``stars (quarterly): ...``): ``assess(engine,
"2025-Q1", cycle="quarterly")`` rates by that cycle's own metrics, ladder and
subsidies, and stores the result under ``2025-Q1@quarterly`` (``key``); that
key is accepted wherever a period label is (``stored``, reports, explanations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from gridcore.classes import frozen
from gridcore.errors import GridcoreError
from gridcore.explain import RuleRef
from gridcore.metrics import Metric
from gridcore.periods import Period, label_zh, parse_period

from .logindex import memo
from .metrics import node_id, policy_at
from .people import member_present, person_metric_names, rate_people, wrong_kind
from .policy import AssessmentPolicy, SubsidyPaying, condition_subjects, exact
from .scoring import NodeFacts, Rating, rate_nodes, shown

if TYPE_CHECKING:
    from gridcore import Engine

COLLECTION = "assessment"


class AssessmentError(GridcoreError):
    """An assessment cannot be made (a metric the ruleset names is missing, an unknown level)."""


@frozen
class SubsidyLine:
    """What one person earns in one role for one period, and from which stars."""

    member: str
    name: str
    role: str
    node: str
    #: the stars the line is paid for, exact (a mean over several nodes may be 10/3)
    stars: Fraction
    #: exact; rounded half up to two decimals only where shown
    amount: Fraction
    basis: str
    rule: RuleRef


@frozen
class Assessment:
    """One period's ratings and subsidies, as stored."""

    period: str
    kind: str
    start: str
    end: str
    ruleset: str
    ratings: tuple[Rating, ...]
    subsidies: tuple[SubsidyLine, ...] = ()
    notes: tuple[str, ...] = ()
    #: people rated (``rated people``): each a ``Rating`` whose ``node`` is the person's id
    people: tuple[Rating, ...] = ()
    #: the assessment cycle ("" for the assessment section's own)
    cycle: str = ""

    @property
    def key(self) -> str:
        """What it is stored and explained under: the period label, with ``@cycle`` for another cycle."""
        return cycle_key(self.period, self.cycle)

    @property
    def named(self) -> str:
        """The period and the cycle for headings: ``2025-Q1`` or ``2025-Q1 (quarterly)``."""
        return f"{self.period} ({self.cycle})" if self.cycle else self.period

    @property
    def named_zh(self) -> str:
        """The same for headings in Chinese: ``2025年一季度``, ``2025年一季度（quarterly）``."""
        return f"{label_zh(self.period)}（{self.cycle}）" if self.cycle else label_zh(self.period)

    def rating(self, node: str) -> Rating | None:
        """The rating of ``node``, if it was rated."""
        for rating in self.ratings:
            if rating.node == node:
                return rating
        return None

    def person(self, member: str) -> Rating | None:
        """The rating of the person ``member``, if they were rated."""
        for rating in self.people:
            if rating.node == member:
                return rating
        return None


def cycle_key(period: str, cycle: str | None) -> str:
    """``2025-Q1`` for the section's own cycle, ``2025-Q1@quarterly`` for another."""
    return f"{period}@{cycle}" if cycle else period


def split_key(key: str) -> tuple[str, str]:
    """``2025-Q1@quarterly`` -> ``("2025-Q1", "quarterly")``; a plain label's cycle is ``""``."""
    period, _, cycle = key.partition("@")
    return period, cycle


def cycle_policy(engine: Engine, policy: AssessmentPolicy, cycle: str) -> AssessmentPolicy:
    """The policy of ``cycle`` ("" for the section's own); ``AssessmentError`` naming the cycles if unknown."""
    found = policy.in_cycle(cycle)
    if found is None:
        known = ", ".join(c.cycle for c in policy.cycles) or "none besides the section's own"
        raise AssessmentError(f"the ruleset in force has no assessment cycle {cycle!r} (cycles: {known}) "
                              f"/ 规则集中没有考核周期“{cycle}”")
    return found


def resolve_period(engine: Engine, period: str | Period) -> Period:
    """A Period from a label, in the community's time zone."""
    return period if isinstance(period, Period) else parse_period(period, engine.community.tz)


def resolve_metrics(engine: Engine, policy: AssessmentPolicy) -> dict[str, Metric]:
    """Each metric name the policy uses -> the Metric (by name or Chinese title).

    ``AssessmentError`` names the rule and the metrics that are available when a
    name is not contributed by any enabled plugin.
    """
    available = engine.metrics()
    by_title = {m.title_zh: m for m in available.values() if m.title_zh}
    found: dict[str, Metric] = {}
    missing: list[str] = []
    for name in [*policy.metric_names(), *person_metric_names(policy)]:
        metric = available.get(name) or by_title.get(name)
        if metric is None:
            missing.append(f"{_where(policy, name)}: the ruleset counts metric {name!r}")
        else:
            found[name] = metric
    if missing:
        known = ", ".join(sorted(available)) or "none"
        them = "it" if len(missing) == 1 else "them"
        raise AssessmentError(
            "; ".join(missing) + f", but no enabled plugin contributes {them} "
            f"(available: {known}); is the plugin that provides {them} disabled? "
            "(考核用到的指标没有已启用的插件提供，请检查提供该指标的插件是否已停用)"
        )
    return found


def check_policy(engine: Engine, policy: AssessmentPolicy) -> list[str]:
    """Problems with a policy for this engine: unknown metrics, levels or roles."""
    problems = []
    try:
        problems.extend(wrong_kind(resolve_metrics(engine, policy), policy))
    except AssessmentError as exc:
        problems.append(str(exc))
    levels = tuple(engine.community.hierarchy.levels)
    for level in policy.levels:
        if level not in levels:
            where = policy.levels_rule or ""
            problems.append(f"{where}: rated level {level!r} is not a level of this community ({', '.join(levels)})")
    return problems


def assess(engine: Engine, period: str | Period, *, save: bool = True, cycle: str | None = None) -> Assessment:
    """Rate every node at the rated levels for ``period`` (see the module docstring).

    ``cycle`` names one of the ruleset's other assessment cycles (or write the
    period as ``2025-Q1@quarterly``); without it, the section's own cycle.
    The result is kept until the store grows, the rulesets change or the
    clock moves: asking again (each report of a demo does) costs nothing.
    """
    rulesets = tuple((entry.effective, entry.ruleset.fingerprint, entry.node) for entry in engine.rulesets_in_force())
    key = ("assessment", period, cycle, engine.clock.now(), rulesets)
    with engine.reading():  # one read: every metric of every rated node as at one moment
        result = memo(engine, key, lambda: _assess(engine, period, cycle))
    if save:
        from .archive import save_assessment

        save_assessment(engine, result)
    return result


def _assess(engine: Engine, period: str | Period, cycle: str | None) -> Assessment:
    if isinstance(period, str) and "@" in period:
        period, written = split_key(period)
        cycle = cycle or written
    cycle = cycle or ""
    the_period = resolve_period(engine, period)
    policy = policy_at(engine, the_period.start)
    ruleset = engine.ruleset_at(the_period.start)
    if policy is None:
        why = "no ruleset is in force" if ruleset is None else f"ruleset {ruleset.name!r} has no assessment section"
        if cycle:
            raise AssessmentError(f"no assessment cycle {cycle!r} for {the_period.label}: {why} (没有这个考核周期)")
        result = _empty(the_period, ruleset, f"nothing rated: {why}")
    else:
        policy = cycle_policy(engine, policy, cycle)
        label = cycle_key(the_period.label, cycle)
        governing = _governing(engine, the_period, policy, cycle)
        for under in {id(p): p for p in (policy, *governing.values())}.values():
            problems = check_policy(engine, under)
            if problems:
                raise AssessmentError("; ".join(problems))
        rated: dict[str, Rating] = {}
        start = the_period.start
        for under, nodes in _groups(engine, policy, governing, start):
            metrics = resolve_metrics(engine, under)
            of_nodes = {name: metrics[name] for name in under.metric_names()}
            facts = [_facts(engine, node, of_nodes, the_period) for node in nodes]
            rated.update((r.node, r) for r in rate_nodes(under, label, facts))
        order = rated_nodes(engine, policy, governing, start)
        ratings = tuple(rated[node] for node in order)
        metrics = resolve_metrics(engine, policy)
        people = rate_people(engine, policy, {name: metrics[name] for name in person_metric_names(policy)},
                             the_period, label)
        notes: tuple[str, ...] = ()
        now = engine.clock.now()
        if now < the_period.end:
            notes = ((f"the period is not over yet (now {now.isoformat()}): the rating may still change "
                     f"(本期尚未结束（现在 {now.isoformat()}）：评定结果可能还会变化)"),)
        notes += joined_note(engine, [n for n in rated_nodes(engine, policy, governing) if n not in rated],
                             the_period)
        result = Assessment(
            the_period.label, the_period.kind, the_period.start.isoformat(), the_period.end.isoformat(),
            ruleset.name if ruleset is not None else "", ratings,
            subsidies(engine, policy, ratings, people, governing, start), notes,
            people, cycle,
        )  # fmt: skip
    return result


def rated_nodes(engine: Engine, policy: AssessmentPolicy,
                governing: Mapping[str, AssessmentPolicy] | None = None, start: datetime | None = None) -> list[str]:
    """Every node at a rated level, level by level (top first), by id within a level.

    ``governing``: node -> the policy of the subtree ruleset governing it, where that is not
    ``policy`` (the whole tree's); such a node is rated if its own policy rates its level.
    ``start``: the period's start; a node that joined the store after it is left out (``present``).
    """
    hierarchy = engine.community.hierarchy
    governing = governing or {}
    levels = set(policy.levels).union(*(p.levels for p in governing.values()))
    out: list[str] = []
    for level in sorted(levels, key=hierarchy.level_index):
        out.extend(sorted(node_id(n) for n in hierarchy.nodes_at(level)
                          if level in governing.get(node_id(n), policy).levels
                          and (start is None or present(engine, node_id(n), start))))
    return out


def present(engine: Engine, node: str, start: datetime) -> bool:
    """Whether ``node`` is rated in a period starting at ``start``: it was there from the start of the
    store, or joined it (a growth, ``gridcore.growth``) at or before ``start``.  A node that joins in
    the middle of a period is rated, and its staff paid, from the next one, as a variant ruleset put
    in force in the middle of a period rates from the next one."""
    joined = engine.community.joined(node)
    return joined is None or joined <= start


_JOINED = "not rated for "


def joined_note(engine: Engine, nodes: Sequence[str], period: Period) -> tuple[str, ...]:
    """The note saying which nodes of a rated level were left out of ``period`` as they joined after its
    start (nothing when none were)."""
    if not nodes:
        return ()
    joined = {node: engine.community.joined(node) for node in nodes}
    dates = sorted({f"{when.astimezone(engine.community.tz):%Y-%m-%d}" for when in joined.values() if when})
    shown_nodes = ", ".join(nodes[:8]) + (f" (and {len(nodes) - 8} more)" if len(nodes) > 8 else "")
    note = (f"{_JOINED}{period.label}, nor their staff paid: {len(nodes)} nodes that joined on "
            f"{', '.join(dates)}, after the period's start ({shown_nodes}); they are rated from the first period "
            f"starting at or after they joined (未参评：{len(nodes)} 个节点于 {'、'.join(dates)} 加入，晚于本期开始，"
            "本期不参评、其工作人员不发补贴；自加入后第一个完整考核期起参评、领补贴)")
    return (note,)


def _governing(engine: Engine, period: Period, policy: AssessmentPolicy,
               cycle: str) -> dict[str, AssessmentPolicy]:
    """Node -> the assessment policy (of ``cycle``) of the subtree ruleset governing it at the
    period's start, for the nodes a ruleset other than the whole tree's governs."""
    if all(entry.node is None for entry in engine.rulesets_in_force()):
        return {}  # one ruleset for the whole tree: nothing to look up node by node
    root = policy_at(engine, period.start)
    compiled: dict[int, AssessmentPolicy] = {}
    out: dict[str, AssessmentPolicy] = {}
    for node in engine.community.hierarchy:
        here = policy_at(engine, period.start, node.id)
        if here is None or here is root:
            continue
        if id(here) not in compiled:
            compiled[id(here)] = cycle_policy(engine, here, cycle)
        out[node.id] = compiled[id(here)]
    return out


def _groups(engine: Engine, policy: AssessmentPolicy, governing: Mapping[str, AssessmentPolicy],
            start: datetime) -> list[tuple[AssessmentPolicy, list[str]]]:
    """The rated nodes by the policy that rates them (the whole tree's first): a ladder's caps
    count the nodes rated under the same rules."""
    groups: dict[int, tuple[AssessmentPolicy, list[str]]] = {id(policy): (policy, [])}
    for node in rated_nodes(engine, policy, governing, start):
        under = governing.get(node, policy)
        groups.setdefault(id(under), (under, []))[1].append(node)
    return [group for group in groups.values() if group[1]]


def subsidies(engine: Engine, policy: AssessmentPolicy, ratings: tuple[Rating, ...],
              persons: tuple[Rating, ...] = (),
              governing: Mapping[str, AssessmentPolicy] | None = None,
              start: datetime | None = None) -> tuple[SubsidyLine, ...]:
    """Each person's subsidy per role they hold, from the stars of their node, paid per ``policy.paying``.

    A role held at a rated node uses that node's stars; at a node below a rated
    one, the nearest rated ancestor's; at a node above rated ones, the mean
    stars of the rated nodes under it (at the highest rated level below it).
    A role the ruleset rates people in (``rated people``) uses the person's own
    stars instead: their subsidy follows their own rating.  A role held at a
    node a subtree's ruleset governs (``governing``: node -> its policy) is paid
    by that ruleset's subsidy line; how lines are paid per person is ``policy``'s.
    ``start``: the period's start; a person, or a role at a node, that joined the store after it
    has no line (``member_present``, ``present``).
    """
    governing = governing or {}
    if not policy.subsidies and not any(p.subsidies for p in governing.values()):
        return ()
    stars = {r.node: r for r in ratings}
    own = {r.node: r for r in persons}
    people = sorted(engine.community.members.values(), key=lambda m: m.id)
    if start is not None and (engine.community.members_joined or engine.community.nodes_joined):
        people = [m for m in people if member_present(engine, m.id, start)]
    lines = []
    for member in people:
        for assignment in member.roles:
            line = governing.get(assignment.node, policy).subsidy_for(assignment.role)
            if line is None or (start is not None and not present(engine, assignment.node, start)):
                continue
            rated = own.get(member.id) if assignment.role in policy.people else None
            basis = ((Fraction(rated.stars), f"{member.id} rated {rated.stars} stars as {rated.level} (their own rating)")
                     if rated is not None else _basis(engine, assignment.node, stars))
            if basis is None:
                continue
            value, text = basis
            lines.append(
                SubsidyLine(member.id, member.name, assignment.role, assignment.node, value,
                            line.amount(value), text, line.rule)
            )  # fmt: skip
    return tuple(pay_per_person(lines, policy.paying))


def pay_per_person(lines: list[SubsidyLine], paying: SubsidyPaying) -> list[SubsidyLine]:
    """Each person's lines as paid: once per person (the largest line) unless per role, then the cap.

    A line not paid, or cut, stays in the list with its amount lowered and its
    basis saying why and under which rule (the default when the ruleset is silent).
    """
    where = f" (rule {paying.rule})" if paying.rule is not None else " (default: once per person)"
    out: list[SubsidyLine] = []
    by_member: dict[str, list[SubsidyLine]] = {}
    for line in lines:
        by_member.setdefault(line.member, []).append(line)
    for member_lines in by_member.values():
        paid = member_lines
        if paying.once and len(member_lines) > 1:
            best = max(member_lines, key=lambda line: line.amount)  # the first of equals
            paid = [
                line if line is best else attrs.evolve(
                    line, amount=Fraction(0),
                    basis=f"{line.basis}; not paid: a person is paid once, for {best.role} at {best.node}"
                          f"{where} (每人只发一次)")
                for line in member_lines
            ]
        if paying.cap is not None:
            cap = exact(paying.cap)
            left = cap
            capped = []
            for line in paid:
                if line.amount > left:
                    rest = max(left, Fraction(0))
                    line = attrs.evolve(line, amount=rest,
                                        basis=f"{line.basis}; cut from {shown(line.amount)} to {shown(rest)} "
                                              f"by the cap of {shown(cap)} a person (rule {paying.rule}) "
                                              "(每人补贴上限)")
                left -= line.amount
                capped.append(line)
            paid = capped
        out.extend(paid)
    return out


def _basis(engine: Engine, node: str, stars: Mapping[str, Rating]) -> tuple[Fraction, str] | None:
    if node in stars:
        return Fraction(stars[node].stars), f"{node} rated {stars[node].stars} stars"
    hierarchy = engine.community.hierarchy
    for ancestor in hierarchy.ancestors(node):
        aid = node_id(ancestor)
        if aid in stars:
            return Fraction(stars[aid].stars), f"{aid} (above {node}) rated {stars[aid].stars} stars"
    below = [stars[node_id(n)] for n in hierarchy.descendants(node) if node_id(n) in stars]
    if not below:
        return None
    top = min(hierarchy.level_index(r.level) for r in below)
    chosen = [r for r in below if hierarchy.level_index(r.level) == top]
    mean = Fraction(sum(r.stars for r in chosen), len(chosen))  # exact: 10/3, not 3.33
    return mean, f"mean of {len(chosen)} rated {chosen[0].level} nodes under {node}"


def _facts(engine: Engine, node: str, metrics: Mapping[str, Metric], period: Period) -> NodeFacts:
    values: dict[str, Fraction | None] = {}
    inputs: dict[str, Mapping[str, Any]] = {}
    for name, metric in metrics.items():
        result = metric.compute(engine, node, period.start, period.end)
        known = result is not None and not (isinstance(result.value, float) and not math.isfinite(result.value))
        values[name] = exact(result.value) if result is not None and known else None
        inputs[name] = {} if result is None else {str(k): _plain(v) for k, v in result.inputs.items()}
    record = engine.community.hierarchy.node(node)
    return NodeFacts(node, record.name, record.level, values, inputs)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _empty(period: Period, ruleset: Any, note: str) -> Assessment:
    name = ruleset.name if ruleset is not None else ""
    return Assessment(period.label, period.kind, period.start.isoformat(), period.end.isoformat(), name, (), (), (note,))


def _where(policy: AssessmentPolicy, name: str) -> str:
    for term in policy.terms:
        if term.metric == name:
            return str(term.rule)
    for adjustment in policy.adjustments:
        if adjustment.metric == name:
            return str(adjustment.rule)
    for level in policy.stars:
        if level.condition is not None and name in condition_subjects(level.condition):
            return str(level.rule)
    return "assessment"


def within(engine: Engine, assessment: Assessment, node: str) -> Assessment:
    """The part of ``assessment`` about ``node``'s subtree: its ratings there, its subsidy lines
    for people holding roles there, under the name and file of the ruleset governing ``node`` at
    the period's start (a community's own variant: ``试点社区 (pilot.rules)``)."""
    from pathlib import PurePath

    hierarchy = engine.community.hierarchy
    start = parse_period(assessment.period, engine.community.tz).start
    ruleset = engine.ruleset_at(start, node)
    named = f"{ruleset.name} ({PurePath(ruleset.entry).name})" if ruleset is not None else ""
    where = f"{node} {hierarchy.node(node).name}"
    inside = {n.id for n in hierarchy.descendants(node, include_self=True)}
    notes = [note for note in assessment.notes if not note.startswith(_JOINED)]
    if len(notes) < len(assessment.notes):  # the nodes left out as they joined later: this subtree's only
        levels = {r.level for r in assessment.ratings}
        late = sorted((n for n in hierarchy.descendants(node, include_self=True)
                       if n.level in levels and not present(engine, n.id, start)),
                      key=lambda n: (hierarchy.level_index(n.level), n.id))
        notes += joined_note(engine, [n.id for n in late], parse_period(assessment.period, engine.community.tz))
    return attrs.evolve(
        assessment,
        ruleset=named,
        ratings=tuple(r for r in assessment.ratings if r.node in inside),
        subsidies=tuple(s for s in assessment.subsidies if s.node in inside),
        people=tuple(p for p in assessment.people if _holds_role_in(engine, p.node, inside)),
        notes=(_governed(engine, where, named, ruleset, start), *notes),
    )


def _governed(engine: Engine, where: str, named: str, ruleset: Any, start: datetime) -> str:
    """The note naming the ruleset a subtree's assessment was made under, and why that one: in force at
    the period's start, or (a period begun before any ruleset) the earliest, from when it took effect."""
    head = f"only {where} and below (本节点及以下), governed by ruleset {named or '(none)'}, "
    took = [entry.effective for entry in engine.rulesets_in_force() if entry.ruleset is ruleset]
    if took and min(took) > start:
        first = min(took).astimezone(engine.community.tz)
        return (head + f"the earliest put in force, from {first:%Y-%m-%d}: none was in force at the period's "
                f"start, {start:%Y-%m-%d} (适用规则集：考核期开始时 {start:%Y-%m-%d} 尚无规则集生效，"
                f"以最早生效的为准，{first:%Y-%m-%d} 起)")
    return (head + f"the one in force at the period's start, {start:%Y-%m-%d} "
            f"(适用规则集：以考核期开始时 {start:%Y-%m-%d} 生效的为准)")


def _holds_role_in(engine: Engine, member: str, nodes: set[str]) -> bool:
    found = engine.community.members.get(member)
    return found is not None and any(a.node in nodes for a in found.roles)
