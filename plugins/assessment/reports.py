"""Tables of ratings, score breakdowns, subsidies and period comparisons.

Each function turns an assessment (or a comparison) into a ``gridcore.reports.Table``
that renders as text, CSV or JSON.  ``REPORTS`` registers them for
``gridcore report assessment.ratings period=2025-Q1`` and ``Engine.report``;
those read the stored assessment of the period, or assess it afresh without
saving when it was never stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from gridcore.errors import GridcoreError, chinese_first
from gridcore.periods import Period, label_zh, parse_period, periods_between
from gridcore.reports import PER_PERIOD, Cell, Report, Showcase, Table

from .archive import StarChange, compare, stored_or_fresh
from .chart import rated_labels, write_chart
from .headings import HEADINGS_ZH, INPUTS_ZH
from .rating import Assessment
from .scoring import shown

if TYPE_CHECKING:
    from gridcore import Engine


def ratings_table(assessment: Assessment) -> Table:
    """One row per rated node: stars, score and the points of each term."""
    names = _term_names(assessment)
    columns = ("node", "name", "level", "stars", "score", "max", *names, "capped from")
    rows = []
    for r in assessment.ratings:
        points = {f"{t.metric}" if t.kind == "weight" else f"{t.metric} (adj.)": shown(t.points) for t in r.terms}
        rows.append(
            (r.node, r.name, r.level, r.stars, shown(r.score), r.max_score, *(points.get(n) for n in names),
             r.capped_from)
        )  # fmt: skip
    notes = [f"period {assessment.period} ({assessment.start} to {assessment.end}), ruleset {assessment.ruleset}"
             + (f", cycle {assessment.cycle} (考核周期)" if assessment.cycle else "")
             + f" (时段 {assessment.period}：{assessment.start} 至 {assessment.end}；规则集 {assessment.ruleset})"]
    notes += [f"{name}: {rule}" for name, rule in _term_rules(assessment).items()]
    notes += list(assessment.notes)
    return Table(f"Star ratings {assessment.named} 评星定级", tuple(columns), tuple(rows), tuple(notes),
                 headings=HEADINGS_ZH, title_zh=f"评星定级，{assessment.named_zh}")


def people_table(assessment: Assessment) -> Table:
    """One row per rated person (人员考核): their role, stars, score and the points of each term."""
    names = list(dict.fromkeys(t.metric if t.kind == "weight" else f"{t.metric} (adj.)"
                               for r in assessment.people for t in r.terms))
    rows = []
    for r in assessment.people:
        points = {t.metric if t.kind == "weight" else f"{t.metric} (adj.)": shown(t.points) for t in r.terms}
        rows.append((r.node, r.name, r.level, r.stars, shown(r.score), r.max_score, *(points.get(n) for n in names)))
    notes = [(f"period {assessment.period}, ruleset {assessment.ruleset}; each person's terms: "
             f"gridcore explain assessment:{assessment.key}:person:<member> (时段 {assessment.period}，"
             f"规则集 {assessment.ruleset}；每人的得分构成：gridcore explain assessment:{assessment.key}:person:<成员编号>)")]
    return Table(f"People rated {assessment.named} 人员考核", ("member", "name", "role", "stars", "score", "max",
                                                              *names), tuple(rows), tuple(notes),
                 headings=HEADINGS_ZH, title_zh=f"人员考核，{assessment.named_zh}")


def breakdown_table(assessment: Assessment) -> Table:
    """One row per term of every score: metric value, points, and the rule (file:line) behind it."""
    rows: list[tuple[Cell, ...]] = []
    for r in assessment.ratings:
        for t in r.terms:
            rows.append((r.node, r.name, t.kind, t.metric, shown(t.value), shown(t.points), str(t.rule), t.note))
        rows.append((r.node, r.name, "stars", "", shown(r.score), r.stars, str(r.star_rule),
                     f"capped from {r.capped_from} ({r.cap_rule})" if r.capped_from else ""))  # fmt: skip
    columns = ("node", "name", "term", "metric", "value", "points", "rule", "note")
    return Table(f"Score breakdown {assessment.named} 得分明细", columns, tuple(rows), assessment.notes,
                 headings=HEADINGS_ZH, title_zh=f"得分明细，{assessment.named_zh}")


def subsidies_table(assessment: Assessment, roles: Mapping[str, str] | None = None) -> Table:
    """One row per person: total subsidy and where each part comes from.

    ``roles`` (a role's Chinese name by its id) says each part in Chinese, for staff reading it so
    (``--lang zh``): ``专职网格员@g1：200（2 星，yinquan.rules:76）``; JSON and English keep the English.
    """
    people: dict[str, list[str]] = {}
    totals: dict[str, Fraction] = {}  # exact; each person's total rounded once, where shown
    names: dict[str, str] = {}
    for line in assessment.subsidies:
        names[line.member] = line.name
        totals[line.member] = totals.get(line.member, Fraction(0)) + line.amount
        # a line not paid or cut says why (its basis: docs/assessment.md), not a bare 0
        why = [part for part in line.basis.split("; ")[1:] if part.startswith(("not paid:", "cut from "))]
        if roles is None:
            part = (f"{line.role}@{line.node}: {shown(line.amount)} ({shown(line.stars)} stars, {line.rule}"
                    f"{''.join(f'; {w}' for w in why)})")
        else:
            part = (f"{roles.get(line.role, line.role)}@{line.node}：{shown(line.amount)}（{shown(line.stars)} 星，"
                    f"{line.rule}{''.join(f'；{_unpaid_zh(w, roles)}' for w in why)}）")
        people.setdefault(line.member, []).append(part)
    rows = tuple((m, names[m], shown(totals[m]), ("; " if roles is None else "；").join(people[m]))
                 for m in sorted(people))
    return Table(
        f"Subsidies {assessment.named} 补贴", ("member", "name", "amount", "detail"), rows, assessment.notes,
        headings=HEADINGS_ZH, title_zh=f"补贴，{assessment.named_zh}",
    )


def _unpaid_zh(why: str, roles: Mapping[str, str]) -> str:
    """Why a subsidy line is not paid or cut (its basis: ``gridcore_assessment.rating.pay_per_person``), in Chinese
    alone, saying all the English does: ``每人只发一次，已按 总网格长@yq 发放（规则 s.rules:9）``, ``按每人补贴上限 600 由
    650 减为 600（规则 s.rules:9）``; another reason Chinese first (``chinese_first``)."""
    where = r" \((?:rule (?P<rule>.+)|(?P<default>default: once per person))\)"
    if found := re.fullmatch(rf"not paid: a person is paid once, for (\S+) at (\S+){where} \(每人只发一次\)", why):
        rule = f"规则 {found['rule']}" if found["rule"] else "默认每人一次"
        return f"每人只发一次，已按 {roles.get(found[1], found[1])}@{found[2]} 发放（{rule}）"
    if found := re.fullmatch(r"cut from (\S+) to (\S+) by the cap of (\S+) a person \(rule (.+)\) \(每人补贴上限\)",
                             why):
        return f"按每人补贴上限 {found[3]} 由 {found[1]} 减为 {found[2]}（规则 {found[4]}）"
    return chinese_first(why)


def basis_zh(basis: str, names: Mapping[str, str]) -> str:
    """A subsidy line's basis (``gridcore_assessment.rating``: whose stars pay it, why it is not paid or cut) in
    Chinese alone, ``names`` the Chinese of roles and levels: ``yq 下 4 个已评星网格的平均；每人只发一次，已按
    总网格长@yq 发放（规则 s.rules:9）``."""
    return _in_parts(basis, (
        (r"(\S+) rated (\S+) stars", lambda found: f"{found[1]} 评 {found[2]} 星"),
        (r"(\S+) \(above (\S+)\) rated (\S+) stars", lambda found: f"{found[2]} 的上级 {found[1]} 评 {found[3]} 星"),
        (r"mean of (\d+) rated (\S+) nodes under (\S+)",
         lambda found: f"{found[3]} 下 {found[1]} 个已评星{names.get(found[2], found[2])}的平均"),
    ), lambda part: _unpaid_zh(part, names))


def _in_parts(text: str, said: Sequence[tuple[str, Callable[[re.Match[str]], str]]],
              otherwise: Callable[[str], str]) -> str:
    """``text``'s parts (``; `` between) each in Chinese, by the first pattern of ``said`` it matches whole (else
    ``otherwise``), ``；`` between."""
    out = []
    for part in text.split("; "):
        found = next(((match, say) for pattern, say in said if (match := re.fullmatch(pattern, part))), None)
        out.append(found[1](found[0]) if found is not None else otherwise(part))
    return "；".join(out)


def compare_table(before: Assessment, after: Assessment) -> Table:
    """Who gained or lost stars between two periods, and why."""
    rows = tuple(_compare_row(c) for c in compare(before, after))
    title = f"Stars {before.named} -> {after.named} 星级变化"
    columns = ("node", "name", "level", before.key, after.key, "change", "why")
    return Table(title, columns, rows, headings=HEADINGS_ZH, title_zh=f"星级变化，{before.named_zh} -> {after.named_zh}")


def _compare_row(change: StarChange) -> tuple[Cell, ...]:
    return (change.node, change.name, change.level, change.stars_before, change.stars_after, change.change,
            change.why)  # fmt: skip


def _term_names(assessment: Assessment) -> list[str]:
    names: list[str] = []
    for r in assessment.ratings:
        for t in r.terms:
            names.append(t.metric if t.kind == "weight" else f"{t.metric} (adj.)")
    return list(dict.fromkeys(names))


#: How a node's stars changed between two periods, in Chinese (``StarChange.change``: a compare table's column).
CHANGE_ZH = {"gained": "升星", "lost": "降星", "same": "不变", "new": "新评", "gone": "未再评"}


def in_chinese(engine: Engine, table: Table) -> Table:
    """A ratings, people, breakdown or compare table as staff read it in Chinese (``--lang zh``): a level as
    the community names it (``网格 grid``), how stars changed (``升星 gained``), a role by its Chinese name (``专职网格员 fulltime_gridworker``), and
    each ``term: file:line`` line under the table headed by the term's Chinese too (``巡查覆盖率
    patrol_coverage: district-base.rules:58``). JSON and English keep the ids."""
    chinese = {"level": dict(engine.community.level_names), "role": dict(engine.community.roles),
               "change": CHANGE_ZH}
    if {"term", "note"} <= set(table.columns):
        # a breakdown: each term by its Chinese (权重 weight), how its points were worked out in Chinese alone
        # (满分 25 的 83.7%, 扣 2 × 2), as the node's explanation says them
        chinese["term"] = {"weight": INPUTS_ZH["weight"], "adjustment": INPUTS_ZH["adjustment"], "stars": "星级"}
        at = table.columns.index("note")
        table = attrs.evolve(table, rows=tuple(row[:at] + (_note_zh(row[at]),) + row[at + 1:] for row in table.rows))
    values = {**table.values, **{c: v for c, v in chinese.items() if c in table.columns}}
    # a metric another plugin contributes (overdue_tasks: 逾期任务数) by the Chinese it gives it
    metrics = {name: m.title_zh for name, m in engine.metrics().items() if m.title_zh}
    if "why" in table.columns:
        # a compare table: why the stars changed in Chinese alone (得分 82.59 -> 75.45；巡查覆盖率 +1.18（...）)
        at = table.columns.index("why")
        table = attrs.evolve(table, rows=tuple(row[:at] + (_why_zh(row[at], metrics),) + row[at + 1:]
                                               for row in table.rows))
    metrics.update({f"{name} (adj.)": f"{zh}（扣分）" for name, zh in metrics.items()})
    terms = {**metrics, **HEADINGS_ZH, **INPUTS_ZH, "stars": "星级"}
    headings = {**{c: metrics[c] for c in table.columns if c in metrics}, **table.headings}
    notes = []
    for note in table.notes:
        term, sep, rule = note.partition(": ")
        zh = terms.get(term, term)
        notes.append(f"{zh} {term}{sep}{rule}" if sep and zh != term and _is_rule(rule) else note)
    return attrs.evolve(table, values=values, notes=tuple(notes), headings=headings)


def _note_zh(note: Cell) -> Cell:
    """A breakdown's note in Chinese: a term's working (``explain.note_zh``), a rating held back by a cap
    (``由 3 星因名额限制降级（district-base.rules:70）``)."""
    from .explain import note_zh

    if not isinstance(note, str):
        return note
    capped = re.fullmatch(r"capped from (\S+) \((.+)\)", note)
    return f"因名额限制由 {capped[1]} 星降级（{capped[2]}）" if capped else note_zh(note)


def _why_zh(why: Cell, metrics: Mapping[str, str]) -> Cell:
    """A compare table's ``why`` (``gridcore_assessment.archive``'s) in Chinese: each part as the English says it
    (``score 82.59 -> 75.45``: ``得分 82.59 -> 75.45``; ``patrol_coverage +1.18 (district-base.rules:58)``: ``巡查覆盖率
    +1.18（district-base.rules:58）``; the cap, the star rule), ``；`` between."""
    if not isinstance(why, str):
        return why
    if why == "rated in only one of the two periods":
        return "仅在其中一个时期评星"
    return _in_parts(why, (
        (r"score (\S+) -> (\S+)", lambda found: f"得分 {found[1]} -> {found[2]}"),
        (r"held back from (\S+) stars by the cap \((.+)\)", lambda found: f"因名额限制由 {found[1]} 星降级（{found[2]}）"),
        (r"star rule (.+)", lambda found: f"星级规则 {found[1]}"),
        (r"(\S+) ([+-]?\S+) \((.+)\)",
         lambda found: f"{metrics.get(found[1], found[1])} {found[2]}（{found[3]}）"),
    ), lambda part: part)


def _is_rule(text: str) -> bool:
    """Whether ``text`` is a rule's place, ``district-base.rules:58`` (a note's tail after ``term: ``)."""
    place, _, line = text.rpartition(":")
    return place.endswith(".rules") and line.isdigit()


def _in_chinese(engine: Engine, params: Mapping[str, str], table: Table) -> Table:
    return in_chinese(engine, table)


def _term_rules(assessment: Assessment) -> dict[str, str]:
    rules: dict[str, str] = {}
    for r in assessment.ratings:
        for t in r.terms:
            rules.setdefault(t.metric if t.kind == "weight" else f"{t.metric} (adj.)", str(t.rule))
        rules.setdefault("stars", str(r.star_rule))
        if r.cap_rule is not None:
            rules.setdefault("cap", str(r.cap_rule))
    return rules


def _param(params: Mapping[str, str], name: str) -> str:
    if not params.get(name):
        raise GridcoreError(f"this report needs {name}=..., e.g. {name}=2025-Q1 (请填写参数 {name}，如 {name}=2025-Q1)")
    return params[name]


def spread_table(assessment: Assessment, level_names: Mapping[str, str] | None = None) -> Table:
    """How many rated nodes hold each star, per level (top level first); ``level_names``: the
    community's Chinese for each level, shown beside it (``网格 grid``; JSON keeps the id)."""
    levels: dict[str, Counter[int]] = {}
    for r in assessment.ratings:
        levels.setdefault(r.level, Counter())[r.stars] += 1
    top = max([5, *(s for counts in levels.values() for s in counts)])
    stars = range(top, 0, -1)
    rows: tuple[tuple[Cell, ...], ...] = tuple((level, *(counts[s] for s in stars), sum(counts.values()))
                                               for level, counts in levels.items())
    return Table(f"Star ratings {assessment.named}: how many nodes hold each star (各星级节点数)",
                 ("level", *(f"{s}★" for s in stars), "rated"), rows, headings=HEADINGS_ZH,
                 values={"level": dict(level_names or {})}, title_zh=f"各星级节点数，{assessment.named_zh}")


def months_table(engine: Engine, period: str) -> Table:
    """How many rated nodes held each star in each month of ``period`` (each month rated on its own).

    Only months wholly inside the period: a week's "months" would rate a
    month mostly outside it.
    """
    span = parse_period(period, engine.community.tz)
    rows: list[tuple[Cell, ...]] = []
    for month in periods_between("month", span.start, span.end, engine.community.tz):
        if month.start < span.start or month.end > span.end:
            continue
        counts = Counter(r.stars for r in stored_or_fresh(engine, month.label).ratings)
        rows.append((month.label, *(counts[s] for s in range(5, 0, -1)), sum(counts.values())))
    return Table(f"Star ratings month by month, {period} (逐月评星)", ("month", "5★", "4★", "3★", "2★", "1★", "rated"),
                 tuple(rows), headings=HEADINGS_ZH, title_zh=f"逐月评星，{label_zh(period)}")


def held_periods(engine: Engine, period: str, cycle: str | None = None) -> tuple[Period, str | None, list[Period]]:
    """``period``'s span, the kind of its assessment periods (None: no assessment in force) and the
    assessment periods wholly inside it (a year's quarters; a quarter's own), or, when it holds none (a
    week, a day, a month of a quarterly ruleset), those it falls in (a week across two quarters: both)."""
    from .metrics import policy_at
    from .rating import cycle_policy, split_key

    label, written = split_key(period)
    tz = engine.community.tz
    span = parse_period(label, tz)
    policy = policy_at(engine, span.start)
    if policy is None:
        return span, None, [span]
    kind = cycle_policy(engine, policy, cycle or written or "").period
    touching = list(periods_between(kind, span.start, span.end, tz))
    inside = [p for p in touching if span.start <= p.start and p.end <= span.end]
    return span, kind, inside or touching


def period_state(engine: Engine, part: Period) -> str:
    """``ended`` (over by the engine's clock), ``provisional`` (under way: rated so far) or
    ``not begun``."""
    now = engine.clock.now()
    return ENDED if part.end <= now else PROVISIONAL if part.start <= now else NOT_BEGUN


def _clock(engine: Engine) -> str:
    return f"{engine.clock.now().astimezone(engine.community.tz):%Y-%m-%d}"


def stars_table(engine: Engine, period: str, cycle: str | None = None) -> Table:
    """The stars of the assessment periods ``period`` holds or falls in (所属考核期的评星).

    Stars are rated per assessment period (``周期：季``: a quarter): a week is
    not rated on its own, it shows the stars of the quarter it falls in (of
    both, across two); a year shows each of its quarters'.  Each row names its
    assessment period (``assessed``) and whether that period is over by the
    engine's clock (``status``: ``ended``; ``provisional``, under way and rated
    on what is recorded so far); a period not begun is left out.  Notes
    (starting ``STARS_NOTE``) say which periods are shown and why.
    """
    span, kind, held = held_periods(engine, period, cycle)
    _, written = _split(period)
    rows: list[tuple[Cell, ...]] = []
    shown_parts: list[str] = []
    provisional: list[str] = []
    left_out: list[str] = []
    for part in held:
        state = period_state(engine, part)
        if state == NOT_BEGUN and kind is not None:
            left_out.append(part.label)
            continue
        assessment = stored_or_fresh(engine, part.label, cycle or written) if kind is not None else \
            stored_or_fresh(engine, period, cycle)
        shown_parts.append(part.label)
        if state == PROVISIONAL:
            provisional.append(part.label)
        rows += [(r.node, r.name, r.level, r.stars, shown(r.score), part.label, state) for r in assessment.ratings]
    notes: list[str] = []
    if kind is not None:
        kind_zh = KINDS_ZH.get(kind, kind)
        same = [span.label] == shown_parts and not left_out
        if not same:
            how = "holds" if held and span.start <= held[0].start and held[-1].end <= span.end else "falls in"
            how_zh = "含" if how == "holds" else "属于"
            notes.append(f"{STARS_NOTE}{kind} (the ruleset's assessment period): {span.label} {how} "
                         f"{', '.join(p.label for p in held)}; each row is the stars of its assessment period "
                         f"(星级按考核期（{kind_zh}）评定：{span.label} {how_zh} {'、'.join(p.label for p in held)}，"
                         "各行为其考核期的星级)")
        if provisional:
            notes.append(f"{STARS_NOTE}{kind}: {', '.join(provisional)} not over by the engine's clock "
                         f"({_clock(engine)}): provisional, rated on what is recorded so far "
                         f"(星级按{kind_zh}评定：按引擎时钟（{_clock(engine)}），{'、'.join(provisional)} 尚未结束："
                         "星级为暂定，按目前已记录的计算)")
        if left_out:
            notes.append(f"{STARS_NOTE}{kind}: {', '.join(left_out)} not begun by the engine's clock "
                         f"({_clock(engine)}): not rated, left out ({'、'.join(left_out)} 尚未开始：不评星，不列入)")
    return Table(f"Star ratings of the assessment periods of {span.label} 所属考核期的评星",
                 ("node", "name", "level", "stars", "score", "assessed", "status"), tuple(rows), tuple(notes),
                 headings=HEADINGS_ZH, values={"status": STATES_ZH}, title_zh=f"所属考核期的评星，{label_zh(span.label)}")


def _split(period: str) -> tuple[str, str | None]:
    from .rating import split_key

    return split_key(period)


def paid_table(engine: Engine, period: str, cycle: str | None = None,
               roles: Mapping[str, str] | None = None) -> Table:
    """Each person's subsidies of the assessment periods ``period`` holds (所含考核期的补贴).

    Subsidies belong to assessment periods: the per-star amounts a ruleset writes
    are paid per period of its assessment cycle (``周期：季``: a quarter).  A
    period of that kind is its own assessment's subsidies (``subsidies_table``,
    the same table; while it is under way by the engine's clock a note says
    they are provisional); a longer one (a year of quarters) sums, per person,
    those of the assessment periods wholly inside it that are over by the
    engine's clock (one under way or not begun is left out, a note naming it);
    a shorter one (a month of a quarterly ruleset, a week, a day) holds none,
    and the table says so, rather than pay a whole period's amount for a part
    of it.  ``roles``: as ``subsidies_table``'s, each part in Chinese (``--lang zh``).
    """
    _, written = _split(period)
    cycle = cycle or written
    span, kind, held = held_periods(engine, period, cycle)
    if kind is None:  # nothing rated: the assessment's own table says why
        return subsidies_table(stored_or_fresh(engine, period, cycle), roles)
    kind_zh = KINDS_ZH.get(kind, kind)
    if kind == span.kind:
        table = subsidies_table(stored_or_fresh(engine, period, cycle), roles)
        if period_state(engine, span) == ENDED:
            return table
        note = (f"{PAID_NOTE}{kind} once it is over: {span.label} is not over by the engine's clock "
                f"({_clock(engine)}): these subsidies are provisional, not yet due "
                f"(补贴按考核期（{kind_zh}）在其结束后发放：按引擎时钟（{_clock(engine)}），{span.label} 尚未结束，以上为暂定金额)")
        return attrs.evolve(table, notes=(*table.notes, note))
    inside = [p for p in held if span.start <= p.start and p.end <= span.end]
    over = [p for p in inside if period_state(engine, p) == ENDED]
    pending = [p for p in inside if p not in over]
    totals: dict[str, Fraction] = {}
    names: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    for part in over:
        for member, name, amount, _ in subsidies_table(stored_or_fresh(engine, part.label, cycle)).rows:
            key = str(member)
            names[key] = str(name)
            totals[key] = totals.get(key, Fraction(0)) + Fraction(str(amount))
            parts.setdefault(key, []).append(f"{part.label}: {amount:g}")
    rows = tuple((m, names[m], float(round(totals[m], 2)), "; ".join(parts[m])) for m in sorted(totals))
    held_text = ", ".join(p.label for p in inside)
    notes = [(f"{PAID_NOTE}{kind} (the ruleset's assessment period): {span.label} holds "
              + (f"{len(inside)} ({held_text}), their subsidies summed" if inside else "none, so none are paid for it")
              + f" (补贴按考核期（{kind_zh}）发放：{span.label} "
              + (f"含 {len(inside)} 个考核期（{held_text}），补贴为其合计)" if inside else "不含完整的考核期，不计补贴)"))]
    if pending:
        names_text = ", ".join(f"{p.label} ({period_state(engine, p)})" for p in pending)
        notes.append(f"{PAID_NOTE}{kind} once it is over: {names_text} not over by the engine's clock "
                     f"({_clock(engine)}): left out, not paid; `gridcore assess subsidies --period "
                     f"{pending[0].label}` shows the provisional amounts "
                     f"(补贴按考核期（{kind_zh}）在其结束后发放：{'、'.join(p.label for p in pending)} 尚未结束，"
                     "不计入、不发放)")
    return Table(f"Subsidies of the assessment periods in {span.label} 补贴", ("member", "name", "amount", "detail"),
                 rows, tuple(notes), headings=HEADINGS_ZH, title_zh=f"所属考核期的补贴，{label_zh(span.label)}")


#: The Chinese of the period kinds, for notes.
KINDS_ZH = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年"}
#: How the notes of ``paid_table`` begin when the period is not one assessment period, or not over
#: (a roll-up carries them).
PAID_NOTE = "subsidies are paid per "
#: How the notes of ``stars_table`` begin (a roll-up carries them).
STARS_NOTE = "stars are rated per "
#: An assessment period's state by the engine's clock (``period_state``), and its Chinese.
ENDED, PROVISIONAL, NOT_BEGUN = "ended", "provisional", "not begun"
STATES_ZH = {ENDED: "已结束", PROVISIONAL: "暂定（未结束）", NOT_BEGUN: "未开始"}


def _chart(engine: Engine, params: Mapping[str, str], path: Path) -> Path:
    found = stored_or_fresh(engine, _param(params, "period"), params.get("cycle"))
    return write_chart(found, path, rated_labels(engine.community.hierarchy, found.ratings), params.get("lang", "en"))


REPORTS = [
    Report("assessment.ratings", "Stars and scores of every rated node for a period (评星定级)",
           lambda e, p: ratings_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle"))), ("period", "cycle"),
           showcase=Showcase(PER_PERIOD, "Star ratings (评星定级), {label}", rows=16, title=False,
                             heading_zh="评星定级，{label}",
                             columns=("node", "name", "stars", "score"), order=40, figure=_chart),
           chinese=_in_chinese),
    Report("assessment.spread", "How many rated nodes hold each star, per level, for a period (各星级节点数)",
           lambda e, p: spread_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle")),
                                     e.community.level_names), ("period", "cycle"),
           showcase=Showcase(PER_PERIOD, "How many rated nodes hold each star (各星级节点数), {label}", title=False, order=45,
                             heading_zh="各星级节点数，{label}")),
    Report("assessment.months", "How many rated nodes held each star, month by month (逐月评星)",
           lambda e, p: months_table(e, _param(p, "period")), ("period",),
           showcase=Showcase(PER_PERIOD, "Star ratings month by month (逐月评星)", title=False, order=50,
                             heading_zh="逐月评星",
                             empty="none: the period holds no whole month (无：该周期不含完整的月份)")),
    Report("assessment.people", "Stars and scores of every rated person (rated people) for a period (人员考核)",
           lambda e, p: people_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle"))), ("period", "cycle"),
           showcase=Showcase(PER_PERIOD, "People rated (人员考核), {label}: {rows}", rows=10, title=False,
                             heading_zh="人员考核，{label}：{rows} 人",
                             columns=("member", "name", "role", "stars", "score"), empty="none (无)", order=47),
           chinese=_in_chinese),
    Report("assessment.breakdown", "Every term of every score, with its rule (file:line) (得分明细及其规则)",
           lambda e, p: breakdown_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle"))), ("period", "cycle"),
           showcase=Showcase(PER_PERIOD), chinese=_in_chinese),
    Report("assessment.subsidies", "Each person's subsidy for a period, from the stars (补贴)",
           lambda e, p: subsidies_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle"))), ("period", "cycle"),
           showcase=Showcase(PER_PERIOD),
           chinese=lambda e, p, t: subsidies_table(stored_or_fresh(e, _param(p, "period"), p.get("cycle")),
                                                   e.community.roles)),
    Report("assessment.paid", "Each person's subsidies of the assessment periods a period holds (所含考核期的补贴)",
           lambda e, p: paid_table(e, _param(p, "period"), p.get("cycle")), ("period", "cycle"),
           chinese=lambda e, p, t: paid_table(e, _param(p, "period"), p.get("cycle"), e.community.roles)),
    Report("assessment.stars", "The stars of the assessment periods a period holds or falls in (所属考核期的评星)",
           lambda e, p: stars_table(e, _param(p, "period"), p.get("cycle")), ("period", "cycle"),
           chinese=_in_chinese),
    Report("assessment.compare", "Who gained or lost stars between two periods, and why (星级变化及原因)",
           lambda e, p: compare_table(stored_or_fresh(e, _param(p, "before"), p.get("cycle")),
                                      stored_or_fresh(e, _param(p, "after"), p.get("cycle"))),
           ("before", "after", "cycle"), chinese=_in_chinese),
]  # fmt: skip
