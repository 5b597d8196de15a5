"""The plugin's reports: open incidents, overdue list, one incident's timeline, counts per period.

Each is a ``gridcore.reports.Report`` (``gridcore report escalation.open``) and
also a plain function returning a ``Table`` for embedders and the CLI.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from gridcore import Report, Table
from gridcore.events import SYSTEM_ACTOR
from gridcore.periods import label_zh, parse_period
from gridcore.reports import PER_PERIOD, Cell, Showcase, count_cell

from . import detail_zh, views
from .headings import HEADINGS_ZH
from .lifecycle import STATUS_ZH
from .timers import duration

if TYPE_CHECKING:
    from gridcore import Engine


def _when(when: datetime | None, engine: Engine) -> str:
    if when is None:
        return ""
    return when.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M")


def _span(delta: timedelta) -> str:
    return duration(delta)


def _no_policy_note(engine: Engine) -> tuple[str, ...]:
    from .intake import policy_at

    policy, _ = policy_at(engine, engine.clock.now())
    return (
        ()
        if policy is not None
        else (("note: no escalation policy is in force now (no ruleset or no escalation section) "
              "(当前没有生效的事件流转规则：没有规则集或规则集没有事件流转栏目)"),)
    )


#: A limit's step in Chinese (the overdue list's ``limit`` column).
LIMIT_ZH = detail_zh.LIMIT_ZH


def in_chinese(engine: Engine, table: Table) -> Table:
    """``table`` as staff read it in Chinese (``--lang zh``): a category by the name its ruleset's
    ``category`` item gives it (``水管漏水 leaking_pipe``), a level by the community's name for it
    (``区 district``), a status and a limit's step in Chinese (``已受理 accepted``, ``受理 accept``);
    the codes stay beside them, and in JSON alone.  An incident's age and how long it is overdue in Chinese
    alone (``616天6小时55分``; ``616d 06h55`` in English and JSON)."""
    names = {c.code: c.name for c in views.categories(engine) if c.name and c.name != c.code}
    if "category" in table.columns:
        at = table.columns.index("node") if "node" in table.columns else None
        for row in table.rows:
            code = row[table.columns.index("category")]
            if at is not None and code not in names:  # a category only a subtree's own ruleset names
                names.update({c.code: c.name for c in views.categories(engine, node=str(row[at]))
                              if c.code == code and c.name and c.name != c.code})
    status = {**STATUS_ZH, **{f"{s} (paused)": f"{zh}（暂停）" for s, zh in STATUS_ZH.items()}}
    chinese = {"category": names, "level": dict(engine.community.level_names), "status": status,
               "limit": LIMIT_ZH}
    spans = [at for at, column in enumerate(table.columns) if column in ("age", "overdue by")]
    rows = tuple(tuple(detail_zh.elapsed(cell) if at in spans and isinstance(cell, str) else cell
                       for at, cell in enumerate(row)) for row in table.rows) if spans else table.rows
    return attrs.evolve(table, rows=rows, values={c: v for c, v in chinese.items() if c in table.columns})


def timeline_in_chinese(engine: Engine, incident_id: str, table: Table) -> Table:
    """``table`` (``timeline_table``) as staff read it in Chinese: each line's detail in Chinese, a level by
    the community's name for it and a category by its ruleset's, each line's step named in Chinese
    (``受理 accepted``), the title's category and a flag said in Chinese too; the ids, times and amounts
    as they are."""
    item = views.incident(engine, incident_id)
    names = detail_zh.names(engine, item.node)
    step, detail = table.columns.index("step"), table.columns.index("detail")
    rows = tuple(tuple(detail_zh.detail(str(row[step]), str(row[detail]), names) if at == detail else cell
                       for at, cell in enumerate(row)) for row in table.rows)
    named = names.categories.get(item.category)
    title = table.title.replace(f"({item.category})", f"({named} {item.category})", 1) if named else table.title
    flag = item.self_closed_flag
    notes = tuple(f"{note} ({detail_zh.detail('closed', note, names)})" if flag and note == flag else
                  _decisions_zh(note) for note in table.notes)
    return attrs.evolve(table, title=title, rows=rows, notes=notes,
                        values={**table.values, "step": detail_zh.STEPS_ZH, "actor": {SYSTEM_ACTOR: "系统"}},
                        title_zh=f"事件办理过程：{item.id}（{named or item.category}）")


#: The timeline's note of the decisions ``gridcore explain`` takes (``timeline_table``).
_DECISIONS = re.compile(r"explain: gridcore explain (\S+) \(where it started\)(?:; each escalation: ([^;]+?))?"
                        r"(?:; each ignored: ([^;]+?))? \(决定说明：起始 / 每次上报(?: / (已忽略的\w+))?\)")


def _decisions_zh(note: str) -> str:
    """The note of the decisions to explain in Chinese alone, with the command staff run (``决定说明：起始 gridcore
    explain escalation:route:i1；每次上报：escalation:esc:i1:1；已忽略的上报：...``); another note as it is."""
    found = _DECISIONS.fullmatch(note)
    if found is None:
        return note
    started, escalations, ignored, ignored_zh = found.groups()
    said = f"决定说明：起始 gridcore explain {started}"
    said += f"；每次上报：{'、'.join(escalations.split(', '))}" if escalations else ""
    return said + (f"；{ignored_zh or '已忽略的事项'}：{'、'.join(ignored.split(', '))}" if ignored else "")


def _values_in_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    return in_chinese(engine, table)


def _timeline_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    return timeline_in_chinese(engine, params["incident"], table)


def open_table(engine: Engine, within: str | None = None, now: datetime | None = None) -> Table:
    """Open incidents per current node, with age, current level and next deadline."""
    when = now or engine.clock.now()
    rows = []
    for item in views.incidents(engine, status="open", within=within):
        rows.append(
            (
                item.current_node,
                item.current_level,
                item.id,
                item.category,
                item.severity,
                item.status + (" (paused)" if item.paused else ""),
                _span(item.age(when)),
                len(item.escalations),
                _when(item.next_deadline, engine),
            )
        )
    rows.sort(key=lambda r: (str(r[0]), str(r[2])))
    columns = (
        "node",
        "level",
        "incident",
        "category",
        "severity",
        "status",
        "age",
        "escalations",
        "next deadline",
    )
    return Table("Open incidents (未结案事件)", columns, tuple(rows), _no_policy_note(engine),
                 headings=HEADINGS_ZH)


def overdue_table(engine: Engine, now: datetime | None = None) -> Table:
    """Open incidents whose current limit has run out."""
    when = now or engine.clock.now()
    rows = tuple(
        (
            item.id,
            item.category,
            item.current_level,
            item.current_node,
            deadline.limit,
            _when(deadline.time, engine),
            _span(when - deadline.time),
            str(deadline.rule),
        )
        for item, deadline in views.overdue(engine, when)
    )
    columns = ("incident", "category", "level", "node", "limit", "due", "overdue by", "rule")
    return Table("Overdue incidents (超时事件)", columns, rows, _no_policy_note(engine), headings=HEADINGS_ZH)


def timeline_table(engine: Engine, incident_id: str) -> Table:
    """Every step of one incident."""
    item = views.incident(engine, incident_id)
    steps = views.timeline(engine, incident_id)
    rows = tuple((_when(e.time, engine), e.what, e.actor, e.node, e.detail, e.rule) for e in steps)
    zh = detail_zh.names(engine, item.current_node)
    ruleset = item.ruleset or "(none)"
    status = (f"status: {item.status} at {item.current_level} {item.current_node}; ruleset {ruleset}"
              f" (状态：{STATUS_ZH.get(item.status, item.status)}，在{zh.level(item.current_level)} "
              f"{item.current_node}；规则集 {item.ruleset or '（无）'})")
    notes = [status]
    # the decisions `gridcore explain` takes for this case (a staff trial guessed 'esc:js-i1:1' and 'js-i1')
    decisions = [f"escalation:route:{item.id}", *(f"escalation:{e.event}" for e in item.escalations)]
    # (each ignored line that explains itself: escalations, a step of a report made a repeat report late,
    # and the reopenings and passes the system derived)
    ignored = [f"escalation:{e.event}" for e in steps if e.event and (
        e.what in ("escalation ignored", "step ignored", "join ignored")
        or (e.what in ("reopen ignored", "assignment ignored") and e.actor == SYSTEM_ACTOR))]
    only_escalations = all(e.what == "escalation ignored" for e in steps if e.what.endswith(" ignored"))
    notes.append(f"explain: gridcore explain {decisions[0]} (where it started)"
                 + (f"; each escalation: {', '.join(decisions[1:])}" if decisions[1:] else "")
                 + (f"; each ignored: {', '.join(ignored)}" if ignored else "")
                 + " (决定说明：起始 / 每次上报"
                 + ((" / 已忽略的上报" if only_escalations else " / 已忽略的事项") if ignored else "") + ")")
    if item.self_closed:
        notes.append(item.self_closed_flag)
    return Table(
        f"Incident {item.id} ({item.category}), step by step (事件办理过程)",
        ("time", "step", "actor", "node", "detail", "rule"),
        rows,
        tuple(notes),
        headings=HEADINGS_ZH,
    )


def stats_table(engine: Engine, period: str, within: str | None = None) -> Table:
    """Incidents reported in ``period``, by category and the highest level they reached."""
    span = parse_period(period, engine.community.tz)
    counts: Counter[tuple[str, str, str]] = Counter()
    for item in views.reported_in(engine, span.start, span.end, within):
        if not span.contains(item.reported_at):
            continue
        top = item.escalations[-1].to_level if item.escalations else item.current_level
        key = (item.category, top)
        counts[(*key, "reported")] += 1
        counts[(*key, "escalated")] += bool(item.escalations)
        counts[(*key, "repeats")] += len(item.repeat_reports)
        counts[(*key, "closed")] += item.status == "closed"
    keys = sorted({(c, lv) for c, lv, _ in counts})
    rows = tuple(
        (
            c,
            lv,
            counts[(c, lv, "reported")],
            counts[(c, lv, "repeats")],
            counts[(c, lv, "escalated")],
            counts[(c, lv, "closed")],
        )
        for c, lv in keys
    )
    columns = ("category", "level", "reported", "repeat reports", "escalated", "closed")
    return Table(f"Incidents in {period} (事件统计)", columns, rows, headings=HEADINGS_ZH,
                 title_zh=f"事件统计，{label_zh(period)}")


def levels_table(engine: Engine, period: str, within: str | None = None) -> Table:
    """Incidents reported in ``period`` by the highest level they reached, top level first, with a total."""
    stats = stats_table(engine, period, within)
    numeric = stats.columns[2:]
    levels = engine.community.hierarchy.levels
    totals: dict[str, list[int]] = {}
    for row in stats.rows:
        sums = totals.setdefault(str(row[1]), [0] * len(numeric))
        for k, value in enumerate(row[2:]):
            sums[k] += count_cell(value)
    order = sorted(totals, key=lambda lv: levels.index(lv) if lv in levels else len(levels))
    names = engine.community.level_names
    rows: list[tuple[Cell, ...]] = [(f"{names.get(lv, '')} {lv}".strip(), *totals[lv]) for lv in order]
    rows.append(("合计 total", *(sum(totals[lv][k] for lv in totals) for k in range(len(numeric)))))
    return Table(f"Incidents in {period} by the level they reached (按所到层级统计事件)", ("level", *numeric), tuple(rows),
                 ("by category: escalation.stats (按类别统计见 escalation.stats)",), headings=HEADINGS_ZH,
                 title_zh=f"按所到层级统计事件，{label_zh(period)}")


def _build_open(engine: Engine, params: Mapping[str, str]) -> Table:
    return open_table(engine, params.get("within"))


def _build_overdue(engine: Engine, params: Mapping[str, str]) -> Table:
    return overdue_table(engine)


def _needs_period(report: str) -> Exception:
    """What a report built without its period raises (over the API or the command line)."""
    from gridcore import GridcoreError

    return GridcoreError(f"{report} needs period=2025-03 (or 2025, 2025-Q1, 2025-W10, 2025-03-08) "
                         "(请填写周期 period：月写 2025-03，季度写 2025-Q1，周写 2025-W10，日写 2025-03-08，年写 2025)")


def _build_timeline(engine: Engine, params: Mapping[str, str]) -> Table:
    from gridcore import GridcoreError

    if "incident" not in params:
        raise GridcoreError("escalation.timeline needs incident=ID (请填写事件编号 incident)")
    return timeline_table(engine, params["incident"])


def _build_stats(engine: Engine, params: Mapping[str, str]) -> Table:

    if "period" not in params:
        raise _needs_period("escalation.stats")
    return stats_table(engine, params["period"], params.get("within"))


def _build_departments(engine: Engine, params: Mapping[str, str]) -> Table:

    from .departments import departments_table

    if "period" not in params:
        raise _needs_period("escalation.departments")
    return departments_table(engine, params["period"], params.get("within"))


def _build_loop(engine: Engine, params: Mapping[str, str]) -> Table:

    from .loop import loop_table

    if "period" not in params:
        raise _needs_period("escalation.loop")
    return loop_table(engine, params["period"], params.get("within"))


def _build_levels(engine: Engine, params: Mapping[str, str]) -> Table:

    if "period" not in params:
        raise _needs_period("escalation.levels")
    return levels_table(engine, params["period"], params.get("within"))


REPORTS = (
    Report(
        "escalation.open",
        "Open incidents per node with age and current level (各节点未结案事件：已用时、当前层级)",
        _build_open,
        ("within",),
        showcase=Showcase(),
        chinese=_values_in_chinese,
    ),
    Report("escalation.overdue", "Open incidents past their time limit (超时事件)", _build_overdue,
           showcase=Showcase(heading="Overdue at the end (超时事件): {rows}", rows=8,
                             heading_zh="期末超时事件：{rows} 件",
                             empty="none: every open case is within its limits (无：未结案事件均未超时)", order=30),
           chinese=_values_in_chinese),
    Report("escalation.timeline", "Every step of one incident (事件办理过程)", _build_timeline, ("incident",),
           chinese=_timeline_chinese),
    Report(
        "escalation.stats",
        "Incidents by category and level in a period (按类别和层级统计事件)",
        _build_stats,
        ("period", "within"),
        showcase=Showcase(PER_PERIOD),
        chinese=_values_in_chinese,
    ),
    Report(
        "escalation.levels",
        "Incidents in a period by the highest level they reached (按所到层级统计事件)",
        _build_levels,
        ("period", "within"),
        showcase=Showcase(PER_PERIOD, "Incidents by the level they reached (按所到层级统计事件), {label}", title=False, order=20,
                            heading_zh="按所到层级统计事件，{label}"),
    ),
    Report("escalation.departments", "Line departments: summoned cases answered and resolved on time, returns (条线部门吹哨报到：按时报到、按时办结、退单)",
           _build_departments, ("period", "within")),
    Report("escalation.loop", "The incident loop step by step: cases that had each step, times it happened (事件闭环各环节)",
           _build_loop, ("period", "within"),
           showcase=Showcase(PER_PERIOD, "The incident loop step by step (事件闭环各环节), {label}", title=False,
                             order=22, heading_zh="事件闭环各环节，{label}")),
)
