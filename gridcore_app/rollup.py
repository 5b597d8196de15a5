"""Roll-ups (汇总): a street's communities or a district's streets side by side.

``rollup(engine, node, period)`` puts every child of ``node`` in a row, with
the node itself as the total, built from what the plugins register (it names
their metrics and reports, the way an office names the columns it wants; it
imports none of them):

* **the three rates by month** (``months``): the same three metrics for
  each child and the node in each calendar month the period touches (a
  week's or a day's roll-up has one row per child, its month cut to the
  period), so a quarter shows how the rates moved;
* **the three rates** a street is judged on (三率): the metrics
  ``acceptance_within_limit`` (按时受理率), ``closure_within_limit`` (按时办结率)
  and ``mean_satisfaction`` (群众满意度) of each child's subtree, and the
  metric ``overdue_incidents`` (超时事件数, incidents that missed a limit in the
  period); the total row is the same metric over the whole node, never an
  average of averages;
* **line departments** (条线部门): the report ``escalation.departments`` for
  the node's cases (summoned, reported in and resolved on time or late, sent
  back);
* **star ratings side by side** (评星定级): every rated node under ``node``
  from the report ``assessment.stars``, grouped by child.  Stars belong to
  assessment periods: a roll-up shows those of the assessment periods it
  holds (a quarter's own, for a quarterly ruleset; a year's four, each row
  naming its quarter) or, holding none (a week, a day, a month), of those it
  falls in, each row marked ``ended`` or ``provisional`` (under way by the
  engine's clock, rated so far); a period not begun is left out;
* **points** (积分): the report ``points.totals``, each child's row;
* **points boards per child** (``boards``, 积分公示, when asked for with
  ``boards=True``): the report ``points.board`` of each child for every
  calendar month the period touches, its first ``BOARD_ROWS`` places (ties at
  the last place kept), side by side.  Not by default (ranking each month's
  members is work the other tables do not need): a month's board reads the
  points entries dated in that month and the accounts of those who earned
  there (about 7 s of CPU for a busy district year's first quarter);
* **subsidies** (补贴): the report ``assessment.paid``, each person's
  amount counted to the child where they hold their roles (a person holding
  roles under two children, or above them, is counted apart, so nothing is
  counted twice).  Subsidies belong to assessment periods: a roll-up pays
  those of the assessment periods it holds (a quarter's, for a quarterly
  ruleset; a year's four, those over by the engine's clock), and a shorter
  one (a week, a day) none, saying so.

A metric or report no installed plugin provides leaves its columns or table
out and says so in a note.  Numbers stay exact (``Fraction``) until they are
shown; a rate is shown to one decimal place, a mean to two.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import attrs
import click
from attrs import field

from gridcore import Engine, GridcoreError, Table
from gridcore.classes import frozen
from gridcore.errors import UnknownNameError, chinese_first_line
from gridcore.garbage import fewer_collections_while_reading
from gridcore.periods import Period, label_zh, parse_period
from gridcore.reports import Cell, count_cell

from .cli import (
    _NOW_LATEST,
    _NOW_LOCAL,
    fail,
    for_staff,
    format_option,
    help_lang,
    now_option,
    open_engine,
    parse_period_written,
    plugin_manager,
    store_option,
)
from .forking import may_fork

#: The Chinese headings of the roll-up's own columns (its tables' ``headings``).
HEADINGS_ZH: Mapping[str, str] = {
    "incidents": "事件数", "mean stars": "平均星级", "paid": "领补贴人数", "subsidies": "补贴金额",
    "child": "下级编号", "child name": "下级名称", "rated": "参评数", "earned": "获得积分",
    "redeemed": "已兑换", "stars": "星级", "score": "得分", "amount": "金额",
    "acceptance_within_limit": "按时受理率", "closure_within_limit": "按时办结率",
    "mean_satisfaction": "平均满意度", "overdue_incidents": "超时事件数",
    "rank": "排名", "role": "角色", "balance": "积分余额", "assessed": "考核期", "status": "状态",
}  # fmt: skip

#: The metrics of the summary, with how many decimals they are shown with.
RATES = (("acceptance_within_limit", 1), ("closure_within_limit", 1), ("mean_satisfaction", 2))
OVERDUE = "overdue_incidents"
#: How the note of the report ``assessment.paid`` begins when the period is not one assessment period
#: (the summary carries it: a week holds no quarter, so nothing is paid for it).
PAID_NOTE = "subsidies are paid per "
#: How the notes of the report ``assessment.stars`` begin (which assessment periods' stars a roll-up shows).
STARS_NOTE = "stars are rated per "
#: The reports a roll-up reads (name -> what it gives).
DEPARTMENTS = "escalation.departments"
RATINGS = "assessment.stars"
#: The ``status`` of a row of ``RATINGS`` whose assessment period is under way by the engine's clock
PROVISIONAL = "provisional"
POINTS = "points.totals"
BOARD = "points.board"
#: How many places of each child's monthly board the ``boards`` table shows (ties at the last kept).
BOARD_ROWS = 10
SUBSIDIES = "assessment.paid"
TOTAL = "合计 total"
SUMMARY = "summary"
MONTHS = "months"
BOARDS = "boards"
TABLES = (SUMMARY, MONTHS, "departments", "stars", BOARDS, "subsidies")


def _own_names(names: Mapping[str, str]) -> dict[str, str]:
    """A roll-up's own copy of the community's level names."""
    return dict(names)


@frozen
class Rollup:
    """A node's children side by side over a period: ``tables`` by name, ``notes`` on what is left out."""

    node: str
    name: str
    level: str
    period: str
    tables: Mapping[str, Table]
    notes: tuple[str, ...] = ()
    #: the community's Chinese name of each level (``grid``: ``网格``), for the ``level`` cells under ``--lang zh``
    level_names: Mapping[str, str] = field(factory=dict, converter=_own_names, hash=False)

    @property
    def provisional(self) -> bool:
        """Whether it shows the stars of an assessment period under way by the engine's clock (``status``
        ``provisional``: rated on what is recorded so far, and so by the clock's very time: an incident turns
        overdue at its deadline's minute), which a roll-up of a period that has ended can (its week falls in
        a quarter under way)."""
        stars = self.tables.get("stars")
        if stars is None or "status" not in stars.columns:
            return False
        at = stars.columns.index("status")
        return any(row[at] == PROVISIONAL for row in stars.rows)

    def render(self, fmt: str = "text", table: str | None = None) -> str:
        """Every table as text or JSON; one table (default ``summary``) as CSV with a byte-order mark.

        With a ``Format`` in Chinese (``--lang zh``), text and CSV show a level by the
        community's name for it, then its code (``网格 grid``); JSON keeps the codes.
        """
        chosen = [table] if table is not None else [name for name in TABLES if name in self.tables]
        missing = [name for name in chosen if name not in self.tables]
        if missing:
            asked = " (made when asked for: --boards, boards=True)" if missing[0] == BOARDS else ""
            raise UnknownNameError(f"no roll-up table {missing[0]!r} (this one has: {', '.join(self.tables)}){asked} "
                                   "(没有这张汇总表)")
        if fmt == "csv":
            return self._shown(table or "summary", fmt).render(fmt)  # (a Format carries the header's language)
        if fmt == "json":
            return json.dumps({
                "node": self.node, "name": self.name, "level": self.level, "period": self.period,
                "tables": {name: json.loads(self.tables[name].render("json")) for name in chosen},
                "notes": list(self.notes),
            }, ensure_ascii=False, indent=2)
        lang = getattr(fmt, "lang", "en")
        heading = (f"汇总：{self.name} [{self.node}]（{self.level}），{label_zh(self.period)}" if lang == "zh"
                   else f"汇总 roll-up: {self.name} [{self.node}] ({self.level}), {self.period}")
        parts = [heading, "=" * len(heading), ""] + [self._shown(name, fmt).render("text", lang) for name in chosen]
        said = chinese_first_line if lang == "zh" else str
        return "\n".join(parts) + "".join(f"{said(note)}\n" for note in self.notes)

    def _shown(self, name: str, fmt: str) -> Table:
        return self.in_language(name, getattr(fmt, "lang", "en"))

    def in_language(self, name: str, lang: str = "en") -> Table:
        """Table ``name`` as staff read it in ``lang``: under ``zh`` a ``level`` cell is ``网格 grid`` (the
        community's name for the level, then its code); else as it is."""
        found = self.tables[name]
        names = {code: zh for code, zh in self.level_names.items() if zh and zh != code}
        if lang != "zh" or "level" not in found.columns or not names:
            return found
        return attrs.evolve(found, values={**found.values, "level": names})


def shown(value: Fraction | float | None, places: int) -> Decimal | None:
    """An exact value rounded half up for display (None stays None)."""
    if value is None:
        return None
    exact = value if isinstance(value, Fraction) else Fraction(value)
    step = Decimal(1).scaleb(-places)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(step, rounding=ROUND_HALF_UP)


def rollup(engine: Engine, node: str, period: str, *, built: MutableMapping[tuple[str, str], Table] | None = None,
           workers: int = 1, boards: bool = False) -> Rollup:
    """Roll ``node``'s children up over ``period`` (``2025-Q1``, ``2025-03``, ``2025-W10``).

    ``built``: the district-wide reports (ratings, subsidies) already built,
    by (report, period), shared by the roll-ups of one run: they cover every
    node, so a run rolling up many nodes builds each once (an assessment of
    a district's hundreds of cells is the costly part).

    ``workers``: how many processes compute its parts at once (``rollups``);
    1, the default, computes them here, one after the other.

    ``boards``: also the ``boards`` table, each child's monthly points boards.

    A roll-up decodes a period's parts of the store into objects it keeps
    until it is done, so it runs with fewer garbage collections
    (``gridcore.garbage.fewer_collections_while_reading``).
    """
    return rollups(engine, [(node, period)], built=built, workers=workers, boards=boards)[0]


def rollups(engine: Engine, asked: Sequence[tuple[str, str]], *,
            built: MutableMapping[tuple[str, str], Table] | None = None, workers: int = 1,
            boards: bool = False) -> list[Rollup]:
    """The roll-up of each ``(node, period)`` of ``asked``, in that order, each as ``rollup`` gives it.

    Each roll-up is made of parts that read the engine's state and nothing
    else (``_parts``): a period's district-wide assessment with the rates
    (and rates by month, and line departments) of every node asked for it,
    and each roll-up's points.
    With ``workers`` above 1, and where processes can be forked (Linux), up to
    that many forked processes compute the parts at once from the state this
    process holds (inherited, not copied), each reading the store through a
    connection of its own, and send back the finished parts as plain values;
    the tables are put together here exactly as when the parts are computed
    here one after the other (``workers=1``, or no ``fork``): the same rows,
    the same bytes.  A part a worker could not compute (it could not open the
    store, or it failed) is computed here afterwards, so an error is raised as
    the serial roll-up raises it.  An unknown node or period is refused before
    anything is computed.

    The roll-ups are one read (``Engine.reading``): the store's log position is
    asked once, before any part is computed (workers inherit the answer), and
    every part answers as at that moment: whether the engine's state reflects
    every stored event is decided once for them all, not once per metric.
    """
    with fewer_collections_while_reading(), engine.reading():
        kept: MutableMapping[tuple[str, str], Table] = {} if built is None else built
        plans = {(node, period): _plan(engine, node, period, boards) for node, period in asked}
        parts = _parts(list(plans.values()))
        engine.stored_position()  # (asked here, once: a forked worker's parts answer as at this moment too)
        found = _computed(engine, parts, plans, kept, workers)
        return [_assembled(engine, plans[(node, period)], found, kept) for node, period in asked]


@frozen
class _Plan:
    """One roll-up asked for, checked: its node, period, children and what the plugins provide."""

    node: str
    period: str
    span: Period
    children: tuple[tuple[str, str], ...]  # (id, name) of each territorial child
    levels: str  # the children's level labels (``街道``)
    rates: tuple[tuple[str, int], ...]  # the three rates the plugins provide, with their decimals
    overdue: bool
    reports: frozenset[str]
    notes: tuple[str, ...]
    boards: bool = False  # the boards table asked for


def _plan(engine: Engine, node: str, period: str, boards: bool = False) -> _Plan:
    hierarchy = engine.community.hierarchy
    if node not in hierarchy:
        raise UnknownNameError(hierarchy.unknown(node))
    span = parse_period(period, engine.community.tz)
    joined = engine.community.joined(node)
    if joined is not None and joined >= span.end:
        day = f"{joined.astimezone(engine.community.tz):%Y-%m-%d}"
        raise GridcoreError(f"{node} joined the store on {day}, after {span.label}: nothing to roll up for a period "
                            f"before it joined ({node} 于 {day} 加入，{span.label} 时尚未加入，无可汇总)")
    children = [c for c in hierarchy.children(node) if c.kind == "territorial"]
    if not children:
        raise GridcoreError(f"{node!r} has no territorial cells below it: nothing to roll up (无下级网格可汇总)")
    children, joining = _joined_by(engine, children, span)
    metrics = engine.metrics()
    reports = frozenset(r.name for r in engine.hooks.register_reports())
    notes = [f"note: no plugin provides the metric {name} (没有插件提供指标 {name}：未安装)"
             for name, _ in RATES if name not in metrics]
    notes += [f"note: no plugin provides the report {name} (未安装)"
              for name in (RATINGS, POINTS, BOARD, SUBSIDIES, DEPARTMENTS) if name not in reports]
    notes += joining
    return _Plan(node, period, span, tuple((c.id, c.name) for c in children), _level_of(engine, children),
                 tuple((name, places) for name, places in RATES if name in metrics), OVERDUE in metrics,
                 reports, tuple(notes), boards)


def _joined_by(engine: Engine, children: list[Any], span: Period) -> tuple[list[Any], list[str]]:
    """The children there in ``span`` (a child that joined the store, ``gridcore.growth``, at or after its
    end is left out), and a note for each child left out or joining within it."""
    tz = engine.community.tz
    kept, notes = [], []
    for child in children:
        joined = engine.community.joined(child.id)
        day = "" if joined is None else f"{joined.astimezone(tz):%Y-%m-%d}"
        if joined is None or joined <= span.start:
            kept.append(child)
        elif joined >= span.end:
            notes.append(f"note: {child.id} {child.name} left out: it joined on {day}, after {span.label} "
                         f"({child.id} {child.name} 于 {day} 加入，晚于 {span.label}，不列入)")
        else:
            kept.append(child)
            notes.append(f"note: {child.id} {child.name} joined on {day}, within {span.label}: its cases count from "
                         "then; its cells are not rated, nor its staff paid, for an assessment period that started "
                         f"before it joined ({child.id} {child.name} 于 {day} 加入：事件自加入起计入；加入前已开始的"
                         "考核期不参评、不发补贴)")
    return kept, notes


#: A part of one or more roll-ups: ``("period", period, nodes)``: the district-wide reports of the
#: period not built yet, then for each node the summary's metrics of its children and itself, its
#: rates by month and its line departments (all read the period's incidents: one process reads them
#: once); ``("points", node, period)``: a roll-up's points (its totals, and its children's boards).
_Part = tuple[Any, ...]


def _parts(plans: Sequence[_Plan]) -> list[_Part]:
    """The parts of ``plans`` in the order asked (as one process computes them: a period's, then its
    points, roll-up after roll-up, so what a period's parts read is still at hand)."""
    nodes: dict[str, list[str]] = {}
    for plan in plans:
        nodes.setdefault(plan.period, []).append(plan.node)
    parts: list[_Part] = []
    for plan in plans:
        parts.append(("period", plan.period, tuple(dict.fromkeys(nodes[plan.period]))))
        if POINTS in plan.reports:
            parts.append(("points", plan.node, plan.period))
    return list(dict.fromkeys(parts))


def _costliest_first(parts: Sequence[_Part], plans: Mapping[tuple[str, str], _Plan],
                     kept: Mapping[tuple[str, str], Table]) -> list[_Part]:
    """``parts`` as workers take them up: the periods whose assessment is still to make (the costliest
    parts), the other periods, then the points."""
    def cost(part: _Part) -> int:
        if part[0] != "period":
            return 2
        reports = plans[(part[2][0], part[1])].reports
        return 0 if any((name, part[1]) not in kept for name in (RATINGS, SUBSIDIES) if name in reports) else 1

    return sorted(parts, key=cost)


def _part(engine: Engine, part: _Part, plans: Mapping[tuple[str, str], _Plan],
          kept: Mapping[tuple[str, str], Table]) -> Any:
    """What one part computes, as plain values (tables, numbers, text)."""
    kind = part[0]
    if kind == "period":
        _, period, nodes = part
        reports, span = plans[(nodes[0], period)].reports, plans[(nodes[0], period)].span
        tables = {(name, period): engine.report(name, {"period": period})
                  for name in (RATINGS, SUBSIDIES) if name in reports and (name, period) not in kept}
        values = {}
        months = {}
        departments = {}
        for node in nodes:
            plan = plans[(node, period)]
            for subject in [c for c, _ in plan.children] + [node]:
                values[(node, subject)] = _values(engine, plan, subject)
            if plan.rates:
                months[node] = _months(engine, node, span, plan.children, plan.rates)
            if DEPARTMENTS in reports:
                departments[node] = engine.report(DEPARTMENTS, {"period": period, "within": node})
        return tables, values, months, departments
    _, node, period = part
    plan = plans[(node, period)]
    boards = _boards(engine, plan) if plan.boards and BOARD in plan.reports else None
    return _points(engine, node, period), boards


def _values(engine: Engine, plan: _Plan, subject: str) -> list[Any]:
    """A subject's incidents, three rates and overdue cases over the plan's period."""
    span = plan.span
    row: list[Any] = []
    counted = None
    for name, places in plan.rates:
        found = engine.metric(name, subject, span.start, span.end)
        if found is not None and counted is None and name == "closure_within_limit":
            counted = found.inputs.get("incidents")
        row.append(shown(found.value, places) if found is not None else None)
    if plan.overdue:
        found = engine.metric(OVERDUE, subject, span.start, span.end)
        row.append(int(found.value) if found is not None else 0)
    return [counted or 0, *row]


def _computed(engine: Engine, parts: Sequence[_Part], plans: Mapping[tuple[str, str], _Plan],
              kept: MutableMapping[tuple[str, str], Table], workers: int) -> dict[_Part, Any]:
    """Every part's value, by part: from forked workers when asked and possible, else (and for what they
    did not give back) computed here in order.  The district-wide tables made go into ``kept``."""
    found: dict[_Part, Any] = {}
    if workers > 1 and len(parts) > 1 and can_fork() and may_fork(engine.store):  # (no other thread: forking.py)
        found = _in_workers(engine, _costliest_first(parts, plans, kept), plans, kept, min(workers, len(parts)))
    for part in parts:
        if part not in found:
            found[part] = _part(engine, part, plans, kept)
        if part[0] == "period":
            kept.update(found[part][0])
    return found


def default_workers() -> int:
    """The CPUs this process may run on (``gridcore rollup``'s default ``--workers``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """True where a roll-up's parts can be computed by forked workers (``fork`` exists: Linux)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _in_workers(engine: Engine, parts: Sequence[_Part], plans: Mapping[tuple[str, str], _Plan],
                kept: Mapping[tuple[str, str], Table], workers: int) -> dict[_Part, Any]:
    """The parts ``workers`` forked processes computed (each takes the next part left as it finishes one)."""
    context = multiprocessing.get_context("fork")
    todo = context.SimpleQueue()
    for k in range(len(parts)):
        todo.put(k)
    for _ in range(workers):
        todo.put(None)  # one stop for each worker
    readers, processes = [], []
    ended = False
    try:
        for n in range(workers):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(engine, parts, plans, kept, todo, send),
                                      name=f"gridcore-rollup-{n + 1}", daemon=True)
            process.start()
            send.close()  # (the worker's end: its end of file is the worker's end)
            readers.append(receive)
            processes.append(process)
        found: dict[_Part, Any] = {}
        waiting: list[Any] = list(readers)
        while waiting:
            for reader in wait(waiting):
                try:
                    k, value = reader.recv()  # type: ignore[union-attr, call-arg]
                except EOFError:
                    waiting.remove(reader)
                    continue
                found[parts[k]] = value
        ended = True
    finally:
        for reader in readers:
            reader.close()
        for process in processes:
            if ended:
                process.join(timeout=5)  # (it sent its last part and closed its end: it is exiting)
            if process.is_alive():
                process.kill()  # interrupted here: the workers' parts are not waited for
            process.join()
    return found


#: Store handles a forked worker inherited: kept (never closed, never collected) until it exits.
_INHERITED: list[Any] = []


def _worker(engine: Engine, parts: Sequence[_Part], plans: Mapping[tuple[str, str], _Plan],
            kept: Mapping[tuple[str, str], Table], todo: Any, send: Any) -> None:
    """A forked worker: computes parts as it takes them up and sends each back (a part it could not
    compute is not sent: the parent computes it).

    It reads the store through a handle of its own (``Engine.store_again``),
    closed when it is done: the inherited handle's connection is the
    parent's (a SQLite connection must not cross a fork, a PostgreSQL one
    would mix two processes' messages), so it is neither used nor closed
    here, and the worker ends with ``os._exit`` (multiprocessing's fork),
    which runs no finalizer.
    """
    own = None
    try:
        try:
            _INHERITED.append(engine.store)
            engine.store = own = engine.store_again()
        except Exception:  # noqa: BLE001 - the parent computes what this worker does not
            return
        while (k := todo.get()) is not None:
            try:
                value = _part(engine, parts[k], plans, kept)
            except Exception:  # noqa: BLE001, S112 - the parent computes it again, and raises what it raises
                continue
            send.send((k, value))
    finally:
        send.close()
        if own is not None:
            own.close()


def _assembled(engine: Engine, plan: _Plan, found: Mapping[_Part, Any],
               kept: Mapping[tuple[str, str], Table]) -> Rollup:
    """The roll-up of ``plan`` from its computed parts."""
    node, period, span, reports = plan.node, plan.period, plan.span, plan.reports
    hierarchy = engine.community.hierarchy
    _, values, months, departments = found[("period", period, _nodes_of(found, period))]
    children = plan.children
    stars = _stars(engine, kept[(RATINGS, period)], node, period, children) if RATINGS in reports else None
    points, boards = found[("points", node, period)] if POINTS in reports else (None, None)
    paid = _subsidies(engine, kept[(SUBSIDIES, period)], node, period, children) if SUBSIDIES in reports else None

    columns = ["node", "name", "incidents", *(name for name, _ in plan.rates)]
    columns += [OVERDUE] if plan.overdue else []
    columns += ["rated", "mean stars"] if stars is not None else []
    columns += ["earned", "redeemed"] if points is not None else []
    columns += ["paid", "subsidies"] if paid is not None else []
    rows: list[tuple[Any, ...]] = []
    for subject, name in [*children, (node, TOTAL)]:
        row = [subject, name, *values[(node, subject)]]
        if stars is not None:
            row += list(_star_summary(hierarchy.levels, stars.rows if subject == node else
                                      [r for r in stars.rows if r[0] == subject]))
        if points is not None:
            row += list(points.get(subject, (0, 0)))
        if paid is not None:
            row += list(paid[1].get(subject, (0, Decimal(0)))) if subject != node else list(paid[2])
        rows.append(tuple(row))
    summary_notes = [(f"{span.label}: {span.start.date()} to {span.end.date()} (end exclusive); the total row "
                      "computes each rate over the whole node, not as a mean of the rows "
                      f"({span.label}：{span.start.date()} 起至 {span.end.date()} 前；合计行的各率按整个节点计算，不是各行的平均)")]
    if stars is not None:
        summary_notes += [note for note in stars.notes if note.startswith(STARS_NOTE)]
    if paid is not None:
        summary_notes += [note for note in kept[(SUBSIDIES, period)].notes if note.startswith(PAID_NOTE)]
    if paid is not None and paid[0]:
        summary_notes.append(f"subsidies of people holding roles across or above the children: {paid[0]} "
                             "(跨下级或在其上级任职人员的补贴)")
    tables: dict[str, Table] = {
        "summary": Table(f"三率与汇总 the three rates, overdue cases, stars, points and subsidies by "
                         f"{plan.levels}, {period}", tuple(columns), tuple(rows), tuple(summary_notes), HEADINGS_ZH,
                         title_zh=f"三率与汇总（各{plan.levels}的三率、超时事件、星级、积分和补贴），{label_zh(period)}"),
    }
    if plan.rates:
        tables[MONTHS] = months[node]
    if DEPARTMENTS in reports:
        tables["departments"] = departments[node]
    if stars is not None:
        tables["stars"] = stars
    if boards is not None:
        tables[BOARDS] = boards
    if paid is not None:
        tables["subsidies"] = paid[3]
    top = hierarchy.node(node)
    return Rollup(node, top.name, engine.community.level_label(top.level), period, tables, plan.notes,
                  engine.community.level_names)


def _nodes_of(found: Mapping[_Part, Any], period: str) -> tuple[str, ...]:
    return next(part[2] for part in found if part[0] == "period" and part[1] == period)


def _months(engine: Engine, node: str, span: Period, children: Sequence[tuple[str, str]],
            rates: Sequence[tuple[str, int]]) -> Table:
    """The three rates of each child and of ``node`` in each calendar month ``span`` touches (cut to ``span``)."""
    tz = engine.community.tz
    rows: list[tuple[Any, ...]] = []
    month = parse_period(f"{span.start.astimezone(tz):%Y-%m}", tz)
    while month.start < span.end:
        start, end = max(month.start, span.start), min(month.end, span.end)
        for subject, name in [*children, (node, TOTAL)]:
            found = [engine.metric(metric, subject, start, end) for metric, _ in rates]
            rows.append((month.label, subject, name,
                         *(shown(f.value, places) if f is not None else None for f, (_, places) in zip(found, rates))))
        month = parse_period(f"{month.end.astimezone(tz):%Y-%m}", tz)
    return Table(f"三率按月 the three rates by month, {span.label}", ("month", "node", "name", *(m for m, _ in rates)),
                 tuple(rows), ((f"each month cut to {span.label}; an empty cell: nothing to divide by that month "
                                      f"(各月只计 {span.label} 之内；空格：该月无可计算)"),), HEADINGS_ZH,
                 title_zh=f"三率按月，{label_zh(span.label)}")


def _level_of(engine: Engine, children: Sequence[Any]) -> str:
    levels = dict.fromkeys(engine.community.level_label(c.level) for c in children)
    return " / ".join(levels)


def _child_of(engine: Engine, node: str, cell: str) -> str | None:
    """The child of ``node`` that holds ``cell`` (None if ``cell`` is not strictly under ``node``)."""
    for ancestor in engine.community.hierarchy.ancestors(cell, include_self=True):
        if ancestor.parent == node:
            return str(ancestor.id)
    return None


def _stars(engine: Engine, ratings: Table, node: str, period: str, children: Sequence[tuple[str, str]]
           ) -> Table:
    """Every rated node under ``node``, grouped by child (评星定级, side by side), each row naming its
    assessment period and whether it is over (``assessment.stars``)."""
    col = {name: k for k, name in enumerate(ratings.columns)}
    names = dict(children)
    order = {child: k for k, (child, _) in enumerate(children)}
    rows = []
    for row in ratings.rows:
        child = _child_of(engine, node, str(row[col["node"]]))
        if child is not None:
            rows.append((child, names[child], row[col["node"]], row[col["name"]], row[col["level"]],
                         row[col["stars"]], row[col["score"]], row[col["assessed"]], row[col["status"]]))
    depth = {level: k for k, level in enumerate(engine.community.hierarchy.levels)}
    rows.sort(key=lambda r: (order[r[0]], depth.get(str(r[4]), len(depth)), str(r[2]), str(r[7])))
    assessed = ", ".join(dict.fromkeys(str(row[col["assessed"]]) for row in ratings.rows)) or "none"
    return Table(f"评星定级 star ratings under {node}, {period} (assessment periods 考核期: {assessed}), side by side",
                 ("child", "child name", "node", "name", "level", "stars", "score", "assessed", "status"),
                 tuple(rows), tuple(ratings.notes), headings=HEADINGS_ZH, values=ratings.values,
                 title_zh=f"评星定级：{node} 下各级并列，{label_zh(period)}（考核期：{'无' if assessed == 'none' else assessed}）")


def _star_summary(levels: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> tuple[int, Decimal | None]:
    """How many nodes were rated at the lowest level rated here, and their mean stars (over every
    assessment period shown: a year's mean is over each cell's four quarters)."""
    if not rows:
        return 0, None
    # The lowest level rated (grids), so a community's own stars do not mix in.
    lowest = max({str(r[4]) for r in rows}, key=lambda level: levels.index(level) if level in levels else -1)
    stars = [int(r[5]) for r in rows if r[4] == lowest]
    return len({r[2] for r in rows if r[4] == lowest}), shown(Fraction(sum(stars), len(stars)), 2)


def _points(engine: Engine, node: str, period: str) -> dict[str, tuple[int, int]]:
    table = engine.report(POINTS, {"node": node, "period": period})
    col = {name: k for k, name in enumerate(table.columns)}
    return {str(r[col["node"]]): (count_cell(r[col["earned"]]), count_cell(r[col["redeemed"]])) for r in table.rows}


def _boards(engine: Engine, plan: _Plan) -> Table:
    """Each child's public points board (积分公示) in each calendar month the plan's period touches: its
    first ``BOARD_ROWS`` places, the children side by side month by month."""
    tz = engine.community.tz
    rows: list[tuple[Cell, ...]] = []
    cut = 0
    month = parse_period(f"{plan.span.start.astimezone(tz):%Y-%m}", tz)
    while month.start < plan.span.end:
        for child, child_name in plan.children:
            board = engine.report(BOARD, {"node": child, "month": month.label})
            col = {name: k for k, name in enumerate(board.columns)}
            shown_rows = [r for r in board.rows if count_cell(r[col["rank"]]) <= BOARD_ROWS]
            cut += len(board.rows) - len(shown_rows)
            rows += [(month.label, child, child_name, *(r[col[c]] for c in _BOARD_COLUMNS)) for r in shown_rows]
        month = parse_period(f"{month.end.astimezone(tz):%Y-%m}", tz)
    notes = [(f"the first {BOARD_ROWS} places of each board, a month's points earned under the child; balance at the "
              f"month's end; {cut} more rows: gridcore report points.board -p node=CHILD -p month=MONTH "
              f"(每个公示榜的前 {BOARD_ROWS} 名：下级范围内当月获得的积分，积分余额为月末余额；另有 {cut} 行见完整公示榜："
              f"gridcore report points.board -p node=下级编号 -p month=月份)")]
    return Table(f"积分公示 points boards of each child, {plan.period}",
                 ("month", "child", "child name", *_BOARD_COLUMNS), tuple(rows), tuple(notes), HEADINGS_ZH,
                 title_zh=f"积分公示：各下级的公示榜，{label_zh(plan.period)}")


_BOARD_COLUMNS = ("rank", "member", "name", "role", "earned", "balance")


def _subsidies(engine: Engine, table: Table, node: str, period: str, children: Sequence[tuple[str, str]]
               ) -> tuple[int, dict[str, tuple[int, Decimal]], tuple[int, Decimal], Table]:
    """Subsidies per child: (people counted apart, per child (people, amount), total, per-person table)."""
    col = {name: k for k, name in enumerate(table.columns)}
    community = engine.community
    hierarchy = community.hierarchy
    names = dict(children)
    per_child: dict[str, tuple[int, Decimal]] = {}
    apart = 0
    total = (0, Decimal(0))
    rows = []
    for row in table.rows:
        member = str(row[col["member"]])
        if member not in community.members:
            continue
        seats = {a.node for a in community.member(member).roles}
        if not any(hierarchy.is_within(seat, node) for seat in seats):
            continue  # paid outside this node
        amount = Decimal(str(row[col["amount"]]))
        total = (total[0] + 1, total[1] + amount)
        held = {_child_of(engine, node, seat) for seat in seats}
        child = held.pop() if len(held) == 1 else None
        if child is None:
            apart += 1
        else:
            people, sums = per_child.get(child, (0, Decimal(0)))
            per_child[child] = (people + 1, sums + amount)
        rows.append((child or "", names.get(child or "", ""), member, row[col["name"]], amount))
    order = {child: k for k, (child, _) in enumerate(children)}
    rows.sort(key=lambda r: (order.get(str(r[0]), len(order)), str(r[2])))
    people_table = Table(f"补贴 subsidies under {node}, {period}, by person",
                         ("child", "child name", "member", "name", "amount"), tuple(rows),
                         headings=HEADINGS_ZH, title_zh=f"补贴：{node} 及其下级，{label_zh(period)}，按人")
    return apart, per_child, total, people_table


# ---------------------------------------------------------------- the command


@click.command("rollup")
@click.argument("node")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD", help="2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.")
@click.option("--table", type=click.Choice(TABLES), help="Only this table (CSV: the summary unless given).")
@click.option("--chart", "chart", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw mean stars per child and the three rates by month (.png, .svg or .pdf).")
@click.option("--boards", is_flag=True, help="Also each child's monthly points boards (the boards table; "
              "implied by --table boards): each month's boards read that month's points entries.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes computing the roll-up's parts at once (default: the CPUs; 1: one after the other).")
@now_option
@store_option
@format_option
def rollup_command(node: str, period: str, table: str | None, chart: Path | None, boards: bool, workers: int | None,
                   now: datetime | None, store: str, fmt: str) -> None:
    """A street's communities or a district's streets side by side: three rates, overdue, stars, points, subsidies."""
    plugin_manager()
    try:
        if chart is not None:
            from gridcore.charts import check_target

            check_target(chart)  # refused before anything is computed
        # one instant for the whole roll-up: every table is as at the same now, and the
        # district-wide assessment its ratings and subsidies both read is made once; opening
        # the store decodes its checkpoint, a read too (gridcore.garbage)
        # (--now: as at that time, the assessment periods over by then paid and the one under way provisional;
        # --now latest: at the store's newest event)
        meta = click.get_current_context().meta  # (--now latest, --now 2025-03-01: open_engine sets the clock)
        at = now if now is not None else None if meta.get(_NOW_LATEST) or meta.get(_NOW_LOCAL) is not None \
            else datetime.now(UTC)
        with fewer_collections_while_reading(), open_engine(store, read_only=True, now=at) as engine:
            # a node by its id or its name (红旗街道), as --node options take it
            found = rollup(engine, engine.community.hierarchy.find(node).id, period,
                           workers=workers or default_workers(),
                           boards=boards or table == BOARDS)
            text = found.render(fmt, table)
        if chart is not None:
            from .rollup_chart import write_chart

            write_chart(found, chart, help_lang())  # (the CLI's language: gridcore --lang zh)
    except GridcoreError as exc:
        fail(str(exc))
    click.echo(text, nl=False)
    if chart is not None:
        click.echo(for_staff(f"chart written to {chart} (图表已写入：{chart})"), err=True)


__all__ = ["Rollup", "can_fork", "default_workers", "rollup", "rollup_command", "rollups", "shown"]
