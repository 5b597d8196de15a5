"""Reports: statement, public board, totals per node, rewards, flags (``gridcore report points.*``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING

import attrs

from gridcore import GridcoreError, Report, Table
from gridcore.periods import label_zh
from gridcore.reports import PER_MONTH, PER_PERIOD, Showcase

from . import api
from .display import KINDS_ZH, limit_zh, shown
from .headings import HEADINGS_ZH

if TYPE_CHECKING:
    from gridcore import Engine


def statement_table(engine: Engine, member: str, period: str) -> Table:
    """A member's statement: one row per entry, with the running balance."""
    found = api.statement(engine, member, period)
    rows = []
    running = found.opening
    for entry in found.entries:
        running += entry.amount
        rows.append(
            (
                entry.time.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M"),
                entry.kind,
                entry.amount,
                running,
                shown(entry.summary),
                str(entry.rule) if entry.rule is not None else "",
                entry.decision,
            )
        )
    return Table(
        title=f"积分明细 points statement: {found.name} ({member}), {period}",
        title_zh=f"积分明细：{found.name}（{member}），{label_zh(period)}",
        columns=("time", "kind", "points", "balance", "what", "rule", "decision"),
        rows=tuple(rows),
        notes=(
            (
                f"opening {found.opening}, earned {found.earned}, redeemed {found.redeemed}, "
                f"expired {found.expired}, "
                f"{f'deducted {found.deducted}, ' if found.deducted else ''}closing {found.closing} "
                f"(期初 {found.opening}，获得 {found.earned}，兑换 {found.redeemed}，过期 {found.expired}，"
                f"{f'扣减 {found.deducted}，' if found.deducted else ''}期末 {found.closing})"
            ),
            *_no_policy_note(engine),
        ),
        headings=HEADINGS_ZH,
        values={"kind": KINDS_ZH},
    )


def board_table(engine: Engine, node: str, month: str) -> Table:
    """The monthly public board (积分公示) of a node: members ranked by points earned."""
    rows = api.board(engine, node, month)
    name = engine.community.hierarchy.node(node).name
    return Table(
        title=f"积分公示 points board: {name} ({node}), {month}",
        title_zh=f"积分公示：{name}（{node}），{label_zh(month)}",
        columns=("rank", "member", "name", "role", "earned", "balance"),
        rows=tuple((r.rank, r.member, r.name, r.role, r.earned, r.balance) for r in rows),
        notes=_no_policy_note(engine),
        headings=HEADINGS_ZH,
    )


def totals_table(engine: Engine, node: str, period: str) -> Table:
    """Points earned, redeemed and expired per node (each row counts its subtree)."""
    rows = api.node_totals(engine, node, period)
    return Table(
        title=f"积分汇总 points totals under {node}, {period}",
        title_zh=f"积分汇总：{node} 及其下级，{label_zh(period)}",
        columns=("node", "name", "level", "earned", "redeemed", "expired"),
        rows=tuple((r.node, r.name, r.level, r.earned, r.redeemed, r.expired) for r in rows),
        notes=_no_policy_note(engine),
        headings=HEADINGS_ZH,
    )


def flags_table(engine: Engine, node: str | None, period: str | None) -> Table:
    """Claims the anti-gaming rules flagged for review."""
    found = api.flags(engine, node, period)
    return Table(
        title="积分异常 flagged claims" + (f" under {node}" if node else "") + (f", {period}" if period else ""),
        title_zh="积分异常" + (f"：{node} 及其下级" if node else "") + (f"，{label_zh(period)}" if period else ""),
        columns=("time", "member", "node", "what", "rule", "decision"),
        rows=tuple(
            (
                e.time.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M"),
                e.member,
                e.node,
                shown(e.summary),
                str(e.rule) if e.rule is not None else "",
                e.decision,
            )
            for e in found
        ),
        headings=HEADINGS_ZH,
    )


def deductions_table(engine: Engine, node: str | None, period: str | None) -> Table:
    """Deductions (扣分) booked over a period: whose, for what, how much was taken, by which rule."""
    found = api.deductions(engine, node, period)
    names = engine.community.members
    return Table(
        title="积分扣减 deductions" + (f" under {node}" if node else "") + (f", {period}" if period else ""),
        title_zh="积分扣减" + (f"：{node} 及其下级" if node else "") + (f"，{label_zh(period)}" if period else ""),
        columns=("time", "member", "name", "node", "points", "what", "rule", "decision"),
        rows=tuple(
            (
                e.time.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M"),
                e.member,
                names[e.member].name if e.member in names else e.member,
                e.node,
                e.amount,
                shown(e.summary),
                str(e.rule) if e.rule is not None else "",
                e.decision,
            )
            for e in found
        ),
        headings=HEADINGS_ZH,
    )


def rewards_table(engine: Engine, node: str | None = None) -> Table:
    """The rewards list in force now (积分礼遇清单) at ``node`` (None: the whole tree's), with the stock left.

    When rulesets are in force for subtrees, a note says which ruleset governs the node and its file."""
    rows = api.rewards(engine, node=node)
    return Table(
        title="积分礼遇清单 rewards list",
        title_zh="积分礼遇清单",
        columns=("reward", "price", "stock_left", "limit_per_member", "valid", "rule"),
        rows=tuple((r.name, r.price, r.stock_left, r.limit, r.valid, r.rule) for r in rows),
        notes=governing_note(engine, node) + _no_policy_note(engine, node),
        headings=HEADINGS_ZH,
        values={"limit_per_member": {r.limit: limit_zh(r.limit) for r in rows if r.limit}},
    )


def governing_note(engine: Engine, node: str | None) -> tuple[str, ...]:
    """``ruleset 银州社区 (yz-c1.rules) governs yz-c1 银州社区``, when some ruleset is in force for a
    subtree only (a store with one whole-tree ruleset prints as it always did)."""
    if all(entry.node is None for entry in engine.rulesets_in_force()):
        return ()
    ruleset = engine.ruleset_at(engine.clock.now(), node)
    where = "the whole tree (整个层级树)" if node is None else f"{node} {engine.community.hierarchy.node(node).name}"
    if ruleset is None:
        return (f"note: no ruleset governs {where} (无规则集)",)
    return (f"note: ruleset {ruleset.name} ({PurePath(ruleset.entry).name}) governs {where} (适用规则集)",)


def _no_policy_note(engine: Engine, node: str | None = None) -> tuple[str, ...]:
    ruleset = engine.ruleset if node is None else engine.ruleset_at(engine.clock.now(), node)
    if ruleset is None:
        return ("note: no ruleset is in force, so no points are earned (尚未有规则集生效，不产生积分)",)
    if not ruleset.has("points"):
        return ((f"note: ruleset {ruleset.name} has no points section, so no points are earned "
                f"(规则集 {ruleset.name} 没有积分栏目，不产生积分)"),)
    return ()


def in_chinese(engine: Engine, table: Table) -> Table:
    """A points table as staff read it in Chinese (``--lang zh``): what an entry was in Chinese alone, as its
    explanation says it (``入户走访：每件 3 分 × 5 件 × 2 = 30``), a level as the community names it (``社区
    community``), an incident's category as the ruleset names it (``事件 X（矛盾纠纷）``), a reward's limit in Chinese
    alone (``每月最多 1 件``). JSON and English keep the English."""
    said = {"what": api.said_zh(engine), "limit_per_member": limit_zh}
    at = {table.columns.index(c): say for c, say in said.items() if c in table.columns}
    rows = tuple(tuple(at[i](v) if i in at and isinstance(v, str) else v for i, v in enumerate(row))
                 for row in table.rows)
    values = {c: v for c, v in table.values.items() if c not in said}
    if "level" in table.columns:
        values["level"] = dict(engine.community.level_names)
    return attrs.evolve(table, rows=rows, values=values)


def _in_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    return in_chinese(engine, table)


def _node_param(engine: Engine, written: str | None) -> str | None:
    """A ``node=`` parameter, as its id or its name (``银州社区``); None stays None (the whole tree)."""
    return None if written is None else engine.community.hierarchy.find(written).id


def _need(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise GridcoreError(f"this report needs the parameter {name}=... (请填写参数“{name}”)")
    return value


def registered_reports() -> list[Report]:
    """The reports ``gridcore report`` lists."""
    return [
        Report(
            "points.statement",
            "a member's points entries over a period (积分明细)",
            lambda engine, p: statement_table(engine, _need(p, "member"), _need(p, "period")),
            params=("member", "period"),
            chinese=_in_chinese,
        ),
        Report(
            "points.board",
            "the monthly public points board of a node (ranking) (积分公示)",
            lambda engine, p: board_table(engine, _need(p, "node"), _need(p, "month")),
            params=("node", "month"),
            showcase=Showcase(PER_MONTH, "Points board (积分公示), {label}: top 10", rows=10, title=False,
                              heading_zh="积分公示，{label}：前 10 名",
                              order=10),
            chinese=_in_chinese,
        ),
        Report(
            "points.totals",
            "points earned, redeemed and expired per node over a period (积分汇总：获得、兑换、过期)",
            lambda engine, p: totals_table(engine, _need(p, "node"), _need(p, "period")),
            params=("node", "period"),
            showcase=Showcase(PER_PERIOD),
            chinese=_in_chinese,
        ),
        Report(
            "points.rewards",
            "the rewards list in force (at node=NODE: the ruleset governing it), with the stock left (积分礼遇清单及剩余库存)",
            lambda engine, p: rewards_table(engine, _node_param(engine, p.get("node") or None)),
            params=("node",),
            chinese=_in_chinese,
        ),
        Report(
            "points.deductions",
            "deductions over a period: whose, for what, how much, by which rule (扣分：谁、因何、多少、依据哪条规则)",
            lambda engine, p: deductions_table(engine, p.get("node") or None, p.get("period") or None),
            params=("node", "period"),
            showcase=Showcase(PER_PERIOD, "Deductions (扣分), {label}: {rows}", rows=8, title=False,
                              heading_zh="扣分，{label}：{rows} 条",
                              columns=("time", "member", "name", "points", "what"), empty="none (无)", order=15),
            chinese=_in_chinese,
        ),
        Report(
            "points.flags",
            "claims flagged by the anti-gaming rules (防刷分规则标记的积分申报)",
            lambda engine, p: flags_table(engine, p.get("node") or None, p.get("period") or None),
            params=("node", "period"),
            chinese=_in_chinese,
        ),
    ]
