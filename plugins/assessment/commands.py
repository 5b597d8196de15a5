"""``gridcore assess``: rate a period, compare periods, subsidies, history, charts.

    gridcore assess --period 2025-Q1 [--cycle quarterly] [--breakdown] [--chart stars.svg] [--dry-run]
    gridcore assess compare 2025-Q1 2025-Q2 [--cycle quarterly] [--node yz-c1]
    gridcore assess subsidies --period 2025-Q1 [--cycle quarterly]
    gridcore assess history [--node g1] [--cycle quarterly]
    gridcore assess chart --period 2025-Q1 --output stars.svg [--cycle quarterly] [--node yz-c1]
    gridcore assess metrics --period 2025-Q1 [--node g1]

Without ``--period`` the period (of the kind the ruleset sets: monthly,
quarterly) of the latest recorded event is rated if it is over by ``--now``,
else the one before it.  ``--cycle NAME`` rates by one of the ruleset's other
assessment cycles (``stars (quarterly): ...``; ``--period 2025-Q1@quarterly``
says the same); without it, the assessment section's own.
"""

from __future__ import annotations

from datetime import datetime

import click

from gridcore import Engine
from gridcore.metrics import MEMBER
from gridcore.periods import label_zh, period_containing
from gridcore.reports import Table
from gridcore_app.cli import (
    fail,
    for_staff,
    format_option,
    help_lang,
    now_option,
    open_engine,
    parse_period_written,
    store_option,
)

from .archive import OUTDATED, history, outdated_stored, stored, stored_or_fresh
from .chart import check_target, rated_labels, write_chart
from .headings import HEADINGS_ZH
from .metrics import node_id, policy_at
from .rating import assess, cycle_policy, resolve_period, split_key, within
from .reports import breakdown_table, compare_table, in_chinese, ratings_table, subsidies_table
from .scoring import shown


def default_period(engine: Engine, now: datetime, cycle: str = "", node: str | None = None) -> str:
    """The period of the latest recorded event if it is complete by ``now``, else the one before.

    A store of last year's events is rated for its own last period, not for
    an empty period next to the wall clock.  The period's kind is the cycle's,
    in the ruleset governing ``node`` (a community's own variant; None: the whole tree's).
    """
    policy = policy_at(engine, now, node)
    if policy is not None:
        policy = cycle_policy(engine, policy, cycle)
    kind = policy.period if policy is not None else "quarter"
    latest = engine.latest_event_time
    when = min(latest, now) if latest is not None else now
    period = period_containing(kind, when, engine.community.tz)
    if period.end > now:
        period = period.previous()
    return period.label


CYCLE_HELP = "One of the ruleset's other assessment cycles (考核周期), as written: stars (NAME): ..."


@click.group("assess", invoke_without_command=True)
@click.option("--period", callback=parse_period_written, metavar="PERIOD", help="2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.")
@click.option("--breakdown", is_flag=True, help="One row per term of every score, with its rule.")
@click.option("--chart", "chart_path", metavar="FILE",
              help="Also write a chart of stars and score components: FILE.png, FILE.svg or FILE.pdf.")
@click.option("--dry-run", is_flag=True, help="Rate without storing the result.")
@click.option("--cycle", default=None, metavar="NAME", help=CYCLE_HELP)
@click.option("--node", default=None, metavar="NODE",
              help="Show the rated nodes of this subtree (its id or name), the default period being that of "
                   "the ruleset governing it (a community's own variant).")
@store_option
@now_option
@format_option
@click.pass_context
def assess_group(
    ctx: click.Context,
    period: str | None,
    breakdown: bool,
    chart_path: str | None,
    dry_run: bool,
    cycle: str | None,
    node: str | None,
    store: str,
    now: datetime | None,
    fmt: str,
) -> None:
    """Rate every node at the rated levels for a period (评星定级) and store the result."""
    if ctx.invoked_subcommand is not None:
        return
    if chart_path:
        check_target(chart_path)  # refused before anything is rated or stored
    with open_engine(store, now=now, read_only=dry_run) as engine:
        at = _found_node(engine, node) if node is not None else None
        label, cycle = _period_and_cycle(period, cycle)
        label = label or default_period(engine, engine.clock.now(), cycle, at)
        result = assess(engine, label, save=not dry_run, cycle=cycle)
        if at is not None:
            result = within(engine, result, at)
        table = breakdown_table(result) if breakdown else ratings_table(result)
        if getattr(fmt, "lang", "en") == "zh" and fmt != "json":
            # a level as the community names it (社区 community), each term's rule headed by its Chinese
            # (巡查覆盖率 patrol_coverage: ...); JSON and English keep the id alone
            table = in_chinese(engine, table)
        click.echo(table.render(fmt), nl=False)
        if chart_path:
            write_chart(result, chart_path, rated_labels(engine.community.hierarchy, result.ratings), help_lang())
            click.echo(for_staff(f"chart written to {chart_path} (图表已写入：{chart_path})"), err=True)


def _found_node(engine: Engine, written: str) -> str:
    """The id of the node ``written`` names (its id or its name, ``银州社区``), else a clear error."""
    from gridcore import GridcoreError

    try:
        return engine.community.hierarchy.find(written).id
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None


def _period_and_cycle(period: str | None, cycle: str | None) -> tuple[str | None, str]:
    """``--period 2025-Q1@quarterly`` is ``--period 2025-Q1 --cycle quarterly``."""
    if period is None:
        return None, cycle or ""
    label, written = split_key(period)
    if cycle and written and cycle != written:
        fail(f"--period {period} names cycle {written!r}, --cycle says {cycle!r}: give one")
    return label, cycle or written


SUBTREE_HELP = "Only the rated nodes of this subtree (its id or name), as gridcore assess --node shows them."


@assess_group.command("compare")
@click.argument("before", callback=parse_period_written)
@click.argument("after", callback=parse_period_written)
@click.option("--cycle", default=None, metavar="NAME", help=CYCLE_HELP)
@click.option("--node", default=None, metavar="NODE", help=SUBTREE_HELP)
@store_option
@format_option
def compare_command(before: str, after: str, cycle: str | None, node: str | None, store: str, fmt: str) -> None:
    """Who gained or lost a star between two assessed periods, and why."""
    with open_engine(store, read_only=True) as engine:
        at = _found_node(engine, node) if node is not None else None
        first, second = stored(engine, before, cycle), stored(engine, after, cycle)
        missing = [p for p, a in ((before, first), (after, second)) if a is None]
        if missing or first is None or second is None:
            also = f" --cycle {cycle}" if cycle else ""
            late = outdated_stored(engine, missing[0], cycle)
            if late:  # stored before joining times were recorded: it rates someone for before they joined
                fail(f"the assessment stored for {missing[0]} rates or pays {', '.join(late[:6])}, who joined after "
                     f"the period began (their joining time was recorded after it was stored); assess it again: "
                     f"gridcore assess --period {missing[0]}{also} (已保存的考核结果含本期开始后才加入的节点或人员，"
                     "请重新考核)")
            fail(f"period {', '.join(missing)} has not been assessed yet; run: gridcore assess --period {missing[0]}"
                 f"{also} (考核期 {'、'.join(missing)} 尚未考核；请先运行 gridcore assess --period {missing[0]}{also})")
            return
        if at is not None:
            first, second = within(engine, first, at), within(engine, second, at)
        table = compare_table(first, second)
        if at is not None:  # which subtree, under which ruleset (as gridcore assess --node says)
            table = Table(table.title, table.columns, table.rows, (first.notes[0],), headings=table.headings,
                          title_zh=table.title_zh)
        if getattr(fmt, "lang", "en") == "zh" and fmt != "json":  # (升星 gained, 网格 grid; JSON keeps the ids)
            table = in_chinese(engine, table)
        click.echo(table.render(fmt), nl=False)


@assess_group.command("subsidies")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD",
              help="2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.")
@click.option("--cycle", default=None, metavar="NAME", help=CYCLE_HELP)
@click.option("--node", default=None, metavar="NODE", help="Only the roles held in this subtree (its id or name).")
@store_option
@now_option
@format_option
def subsidies_command(period: str, cycle: str | None, node: str | None, store: str, now: datetime | None,
                      fmt: str) -> None:
    """Each person's subsidy for a period (the stored assessment, or a fresh one)."""
    with open_engine(store, now=now, read_only=True) as engine:
        at = _found_node(engine, node) if node is not None else None
        result = stored_or_fresh(engine, period, cycle)
        if at is not None:
            result = within(engine, result, at)
        # under --lang zh each part said in Chinese (JSON and English keep the English)
        roles = engine.community.roles if getattr(fmt, "lang", "en") == "zh" and fmt != "json" else None
        click.echo(subsidies_table(result, roles).render(fmt), nl=False)


@assess_group.command("history")
@click.option("--node", "node", default=None, help="Only this node.")
@click.option("--cycle", default="", metavar="NAME", help=CYCLE_HELP)
@store_option
@format_option
def history_command(node: str | None, cycle: str, store: str, fmt: str) -> None:
    """Stars of every node in every stored period (of one cycle)."""
    with open_engine(store, read_only=True) as engine:
        past = history(engine, cycle)
        nodes = list(dict.fromkeys(r.node for a in past for r in a.ratings if node in (None, r.node)))
        if node is not None and not nodes:
            fail(f"node {node!r} was never rated")
        rows = []
        for n in nodes:
            stars = [a.rating(n) for a in past]
            name = next(r.name for r in stars if r is not None)
            rows.append((n, name, *(None if r is None else r.stars for r in stars)))
        columns = ("node", "name", *(a.period for a in past))
        title = f"Star history ({cycle}) 星级历史" if cycle else "Star history 星级历史"
        # (a period whose stored assessment is outdated is shown assessed afresh: its note says so)
        notes = tuple(note for a in past for note in a.notes if note.startswith(OUTDATED))
        click.echo(Table(title, columns, tuple(rows), notes, headings=HEADINGS_ZH,
                         title_zh=f"星级历史（{cycle}）" if cycle else "星级历史").render(fmt), nl=False)


@assess_group.command("chart")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD",
              help="2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.")
@click.option("--output", required=True, metavar="FILE", help="Where to write it: FILE.png, FILE.svg or FILE.pdf.")
@click.option("--cycle", default=None, metavar="NAME", help=CYCLE_HELP)
@click.option("--node", default=None, metavar="NODE", help=SUBTREE_HELP)
@store_option
@now_option
def chart_command(period: str, output: str, cycle: str | None, node: str | None, store: str,
                  now: datetime | None) -> None:
    """Write a chart (PNG, SVG or PDF) of stars per node and score components."""
    check_target(output)
    with open_engine(store, now=now, read_only=True) as engine:
        at = _found_node(engine, node) if node is not None else None
        result = stored_or_fresh(engine, period, cycle)
        if at is not None:
            result = within(engine, result, at)
        write_chart(result, output, rated_labels(engine.community.hierarchy, result.ratings), help_lang())
        click.echo(for_staff(f"chart written to {output} (图表已写入：{output})"))


@assess_group.command("metrics")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD",
              help="2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.")
@click.option("--node", "node", default=None, help="A node (default: the community's top nodes and every grid).")
@store_option
@now_option
@format_option
def metrics_command(period: str, node: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """Every metric any enabled plugin contributes, for nodes over a period."""
    with open_engine(store, now=now, read_only=True) as engine:
        the_period = resolve_period(engine, period)
        hierarchy = engine.community.hierarchy
        nodes = [node] if node else [node_id(n) for level in hierarchy.levels[:2] for n in hierarchy.nodes_at(level)]
        # metrics about a person (patrols_logged ...) are not about nodes: assessment.people shows them
        metrics = {name: m for name, m in engine.metrics().items() if m.about != MEMBER}
        rows = []
        zh = getattr(fmt, "lang", "en") == "zh" and fmt != "json"
        for n in nodes:
            hierarchy.node(n)
            for name in sorted(metrics):
                value = metrics[name].compute(engine, n, the_period.start, the_period.end)
                # under zh the unit in Chinese where the metric gives it (件, 每次巡查); JSON and English keep it
                unit = metrics[name].unit_zh if zh and metrics[name].unit_zh else metrics[name].unit
                rows.append((n, name, metrics[name].title_zh, None if value is None else shown(value.value), unit))
        title = f"Metrics {the_period.label} 指标"  # (under zh: 指标，2025年3月)
        click.echo(Table(title, ("node", "metric", "名称", "value", "unit"), tuple(rows),
                         headings=HEADINGS_ZH, title_zh=f"指标，{label_zh(the_period.label)}").render(fmt), nl=False)
