"""The main job and its helpers on the command line: ``simulate``, ``demo``, ``diff``.

``commands()`` gives the click commands the root ``gridcore`` group adds:

* ``gridcore simulate``: a community's simulated days as JSON lines (what
  ``gridcore ingest`` reads);
* ``gridcore demo``: builds a community in a fresh store, simulates a quarter,
  runs every plugin and prints what happened;
* ``gridcore diff``: the same event log under two rulesets, every difference
  with the rules behind it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from attrs import frozen

from gridcore.clock import FixedClock
from gridcore.engine import Engine, Refusal
from gridcore.errors import GridcoreError
from gridcore.periods import period_containing
from gridcore.plugin_host import Hooks
from gridcore.reports import Table, display_width

from .cli import format_option, parse_time, plugin_manager
from .simulate import SCENARIO_FILE, find_community, load_scenario, simulate, write_jsonl

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_COMMUNITY = "yinquan"
#: A quarter that is exactly 90 days: 2025-Q1.
DEFAULT_START = date(2025, 1, 1)


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-01") from None


def community_option(func: F) -> F:
    """``--community NAME|DIR`` (a folder, a name under rulesets/, or the Chinese name)."""
    return click.option(
        "--community", "community_name", default=DEFAULT_COMMUNITY, show_default=True, metavar="NAME|DIR",
        help="A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao) "
             "or its Chinese name (银泉社区).",
    )(func)


@click.command("simulate")
@community_option
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file (default: scenario.yaml in the community folder).")
@click.option("--days", default=90, show_default=True, type=click.IntRange(0, 3660), help="How many days.")
@click.option("--start", callback=_date, metavar="DATE", help="First day (default 2025-01-01).")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same events.")
@click.option("--out", "out_path", default="-", show_default=True, metavar="FILE",
              help="Where to write the JSON lines ('-' for standard output).")
def simulate_command(community_name: str, scenario_path: Path | None, days: int, start: date | None,
                     seed: int, out_path: str) -> None:
    """Write a community's simulated days as JSON lines for `gridcore ingest`."""
    from .rosterio import load_community

    try:
        folder = find_community(community_name)
        community = load_community(folder)
        scenario = load_scenario(scenario_path or folder / SCENARIO_FILE)
        events = simulate(community, scenario, days=days, start=start or DEFAULT_START, seed=seed)
        if out_path == "-":
            count = write_jsonl(events, sys.stdout)
        else:
            with open(out_path, "w", encoding="utf-8") as out:
                count = write_jsonl(events, out)
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    where = "standard output" if out_path == "-" else out_path
    click.echo(f"{count} events of {community.name} ({days} days, seed {seed}) written to {where}", err=True)


@click.command("demo")
@community_option
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3660), help="How many days.")
@click.option("--start", callback=_date, metavar="DATE", help="First day (default 2025-01-01, a 90-day quarter).")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same quarter.")
@click.option("--ruleset", "ruleset_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ruleset to run (default: <community>.rules in the community folder).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default ./gridcore-out/<community>); its store/ is rebuilt.")
def demo_command(community_name: str, days: int, start: date | None, seed: int, ruleset_path: Path | None,
                 out_dir: Path | None) -> None:
    """The main job: simulate a community's quarter under its rules and show what happened.

    Builds the community in a fresh store, simulates DAYS days (seed SEED),
    runs every plugin, ticks to the end, assesses the period and prints the
    points board, incidents by level, overdue cases and star ratings, with
    where the files went.
    """
    try:
        folder = find_community(community_name)
        result = run_demo(folder, days=days, start=start or DEFAULT_START, seed=seed, ruleset=ruleset_path,
                          out=out_dir or Path("gridcore-out") / folder.name,
                          progress=sys.stderr.isatty())
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.render(), nl=False)


# ---------------------------------------------------------------- the run


@frozen
class DemoResult:
    """What a demo run did and produced; ``render()`` is what ``gridcore demo`` prints."""

    community: str
    ruleset: str
    start: date
    days: int
    seed: int
    period: str
    simulated: int
    accepted: int
    derived: int
    refused: int
    refusal_kinds: tuple[tuple[str, int], ...]
    sections: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        """A readable summary: the run, each section, where the files went."""
        out = [
            (f"{self.community}: {self.days} days from {self.start.isoformat()} (seed {self.seed}), "
            f"ruleset {self.ruleset}"),
            (f"  {self.simulated} events simulated: {self.accepted} stored, {self.refused} refused, "
            f"{self.derived} derived by the plugins (escalations and other timed decisions)"),
        ]
        for reason, count in self.refusal_kinds:
            out.append(f"    refused {count:>4} x {reason}")
        for title, text in self.sections:
            out.append("")
            out.append(f"== {title}")
            out.append(text.rstrip("\n"))
        out.append("")
        out.append("== Files")
        width = max((display_width(label) for label, _ in self.files), default=0)
        for label, where in self.files:
            out.append(f"  {label}{' ' * (width - display_width(label))}  {where}")
        out.extend(self.notes)
        return "\n".join(out) + "\n"


def default_ruleset(folder: Path) -> Path:
    """The community's own ruleset: ``<folder name>.rules`` in its folder (or its only .rules file)."""
    named = folder / f"{folder.name}.rules"
    if named.is_file():
        return named
    found = sorted(folder.glob("*.rules"))
    if len(found) == 1:
        return found[0]
    raise GridcoreError(f"no ruleset in {folder}: expected {named.name} (or give --ruleset)")


def months_between(first: date, last: date) -> list[str]:
    """Month labels (``2025-01``) from the month of ``first`` to that of ``last``."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def run_demo(
    folder: Path,
    *,
    days: int = 90,
    start: date = DEFAULT_START,
    seed: int = 1,
    ruleset: Path | None = None,
    out: Path,
    progress: bool = False,
) -> DemoResult:
    """Simulate a community under its ruleset in a fresh store in ``out`` and collect the results.

    ``out/store`` is removed and rebuilt; ``out/events.jsonl`` holds the
    simulated log (what ``gridcore ingest`` and ``gridcore diff`` read);
    ``out/reports/`` the plugins' reports as text and CSV; ``out/stars.svg``
    the assessment chart.
    """
    from gridcore.rules import load_ruleset

    from .rosterio import load_community

    community = load_community(folder)
    scenario = load_scenario(folder / SCENARIO_FILE)
    # Check everything before touching the output folder: a broken ruleset is
    # refused with its file:line and the previous run's files stay as they were.
    pm = plugin_manager()
    rules = load_ruleset(ruleset or default_ruleset(folder), sections=Hooks(pm).register_sections())
    if rules.levels and tuple(rules.levels) != tuple(community.hierarchy.levels):
        raise GridcoreError(f"ruleset {rules.name} expects levels {' > '.join(rules.levels)}, but "
                            f"{community.name} has {' > '.join(community.hierarchy.levels)}")
    first = datetime.combine(start, time(0), tzinfo=community.tz)
    end = first + timedelta(days=days)
    last_day = (end - timedelta(seconds=1)).date()
    # Rate the quarter the simulation ends in (a year's run: its last quarter),
    # and say so when the simulated days do not cover all of it.
    quarter = period_containing("quarter", end - timedelta(seconds=1), community.tz)
    period = quarter.label
    events = list(simulate(community, scenario, days=days, start=first, seed=seed))

    out.mkdir(parents=True, exist_ok=True)
    store = out / "store"
    if store.is_dir():
        shutil.rmtree(store)
    elif store.exists():
        raise GridcoreError(f"{store} is in the way of the demo's store (a file); move it or give another --out")
    reports = out / "reports"
    if reports.is_dir():
        shutil.rmtree(reports)
    reports.mkdir()
    log = out / "events.jsonl"
    with log.open("w", encoding="utf-8") as handle:
        write_jsonl(events, handle)

    sections: list[tuple[str, str]] = []
    notes: list[str] = []
    if quarter.start < first or quarter.end > end:
        notes.append(f"note: the {days} simulated days do not cover all of {period}; its figures and "
                     "star ratings count only the simulated days")
    written: list[Path] = []
    engine = Engine.open(store=str(store), community=community, ruleset=rules, effective=first,
                         clock=FixedClock(first), plugins=pm)
    with engine:
        ruleset_name = rules.name
        if progress:
            with click.progressbar(length=len(events), label="replaying the quarter", file=sys.stderr) as bar:
                done = [0]

                def advance(count: int) -> None:
                    bar.update(count - done[0])
                    done[0] = count

                summary = engine.record_many(events, progress=advance)
        else:
            summary = engine.record_many(events)
        derived = summary.derived + len(engine.tick(end))

        def report(name: str, params: dict[str, str], stem: str) -> Table | None:
            try:
                table = engine.report(name, params)
            except GridcoreError as exc:
                notes.append(f"note: report {name} not written: {exc}")
                return None
            for fmt in ("txt", "csv"):
                path = reports / f"{stem}.{fmt}"
                path.write_text(table.render("text" if fmt == "txt" else "csv"), encoding="utf-8")
                written.append(path)
            return table

        root = community.hierarchy.roots()[0].id
        months = months_between(start, last_day)
        board = None
        for month in months:
            board = report("points.board", {"node": root, "month": month}, f"points-board-{month}")
        if board is not None:
            sections.append((f"Points board (积分公示), {months[-1]}: top 10", _head(board, 10, title=False)))
        report("points.totals", {"node": root, "period": period}, f"points-totals-{period}")
        stats = report("escalation.stats", {"period": period}, f"incidents-{period}")
        if stats is not None:
            sections.append((f"Incidents by the level they reached, {period}",
                             _by_level(stats, community.hierarchy.levels, community.level_names)))
        overdue = report("escalation.overdue", {}, "incidents-overdue")
        if overdue is not None:
            sections.append((f"Overdue at the end: {len(overdue.rows)}",
                             _head(overdue, 8) if overdue.rows else "none: every open case is within its limits\n"))
        report("escalation.open", {}, "incidents-open")
        # 评星定级 is monthly in some communities and quarterly in others: rate both.
        monthly = [(month, report("assessment.ratings", {"period": month}, f"assessment-ratings-{month}"))
                   for month in months]
        ratings = report("assessment.ratings", {"period": period}, f"assessment-ratings-{period}")
        report("assessment.breakdown", {"period": period}, f"assessment-breakdown-{period}")
        report("assessment.subsidies", {"period": period}, f"assessment-subsidies-{period}")
        if ratings is not None:
            sections.append((f"Star ratings (评星定级), {period}", _stars(ratings, community.hierarchy.levels)))
        by_month = _monthly(monthly)
        if by_month:
            sections.append(("Star ratings month by month", by_month))

    # The assessment plugin's own command stores the period's rating (so later
    # `gridcore assess compare` has history) and draws the chart.
    chart = out / "stars.svg"
    _assess(store, period, end, chart, notes)

    files = [("store", f"{store}  (gridcore report ... --store {store})"), ("events", f"{log}  ({len(events)} lines)"),
             ("reports", f"{reports}/  ({len(written)} files: text and CSV)")]
    if chart.exists():
        files.append(("chart", str(chart)))
    return DemoResult(
        community=f"{community.name} ({folder.name})", ruleset=ruleset_name, start=start, days=days, seed=seed,
        period=period, simulated=len(events), accepted=summary.accepted, derived=derived,
        refused=len(summary.refused), refusal_kinds=_refusal_kinds(summary.refused),
        sections=tuple(sections), files=tuple(files), notes=tuple(notes),
    )


def _assess(store: Path, period: str, end: datetime, chart: Path, notes: list[str]) -> bool:
    """Rate the period and draw the chart through the assessment plugin's own command."""
    commands = {c.name: c for c in Hooks(plugin_manager()).register_commands()}
    assess = commands.get("assess")
    if assess is None:
        notes.append("note: no `assess` command (is the assessment plugin installed?): no star ratings")
        return False
    args = ["--period", period, "--chart", str(chart), "--store", str(store), "--now", end.isoformat()]
    quiet = io.StringIO()
    # Run under this invocation's context, so the command uses the same plugin manager.
    parent = click.get_current_context(silent=True)
    try:
        with (contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet),
              assess.make_context("assess", args, parent=parent) as sub):
            assess.invoke(sub)
    except (click.ClickException, GridcoreError) as exc:
        notes.append(f"note: assessment of {period} failed: {exc}")
        return False
    return True


def _by_level(stats: Table, levels: tuple[str, ...], names: Mapping[str, str]) -> str:
    """Sum the category-by-level table per level, top level first (the full table is in reports/)."""
    if "level" not in stats.columns:
        return stats.render("text")
    at = stats.columns.index("level")
    numeric = [i for i, c in enumerate(stats.columns) if c not in ("category", "level")]
    totals: dict[str, list[float]] = {}
    for row in stats.rows:
        sums = totals.setdefault(str(row[at]), [0.0] * len(numeric))
        for k, i in enumerate(numeric):
            sums[k] += float(row[i] or 0)
    order = sorted(totals, key=lambda lv: levels.index(lv) if lv in levels else len(levels))
    rows = [(f"{names.get(lv, '')} {lv}".strip(), *(int(v) for v in totals[lv])) for lv in order]
    grand = [int(sum(totals[lv][k] for lv in totals)) for k in range(len(numeric))]
    rows.append(("total", *grand))
    table = Table(title="", columns=("level", *(stats.columns[i] for i in numeric)), rows=tuple(rows))
    return table.render("text").lstrip("\n") + "(by category: reports/incidents-*)\n"


def _monthly(monthly: list[tuple[str, Table | None]]) -> str:
    """How many rated nodes held each star, month by month (empty for a single month)."""
    rows = []
    for month, table in monthly:
        if table is None or "stars" not in table.columns:
            continue
        at = table.columns.index("stars")
        counts = Counter(int(row[at]) for row in table.rows)
        rows.append((month, *(counts[star] for star in range(5, 0, -1)), len(table.rows)))
    if len(rows) < 2:
        return ""
    return Table(title="", columns=("month", "5★", "4★", "3★", "2★", "1★", "rated"),
                 rows=tuple(rows)).render("text").lstrip("\n") + "(each month's ratings: reports/assessment-ratings-*)\n"


def _stars(ratings: Table, levels: tuple[str, ...], most: int = 16) -> str:
    """Each rated node's stars; for many nodes, how many hold each star per level, then the first few."""
    columns = ratings.columns
    if len(ratings.rows) <= most or "stars" not in columns or "level" not in columns:
        return _compact(ratings, ("node", "name", "stars", "score"))
    at_level, at_stars = columns.index("level"), columns.index("stars")
    counts: Counter[tuple[str, int]] = Counter((str(r[at_level]), int(r[at_stars])) for r in ratings.rows)
    order = sorted({lv for lv, _ in counts}, key=lambda lv: levels.index(lv) if lv in levels else len(levels))
    rows = tuple((lv, *(counts[(lv, star)] for star in range(5, 0, -1)), sum(counts[(lv, k)] for k in range(6)))
                 for lv in order)
    spread = Table(title=f"{ratings.title}: how many nodes hold each star",
                   columns=("level", "5★", "4★", "3★", "2★", "1★", "rated"), rows=rows)
    first = Table(title=f"the first {most // 2} of {len(ratings.rows)}", columns=ratings.columns,
                  rows=ratings.rows[: most // 2])
    return spread.render("text") + "\n" + _compact(first, ("node", "name", "level", "stars", "score"))


def _compact(table: Table, wanted: tuple[str, ...]) -> str:
    """Only the ``wanted`` columns that the table has (the full table is in reports/)."""
    keep = [i for i, c in enumerate(table.columns) if c in wanted]
    if not keep:
        return table.render("text")
    shown = Table(title=table.title, columns=tuple(table.columns[i] for i in keep),
                  rows=tuple(tuple(row[i] for i in keep) for row in table.rows))
    return shown.render("text") + "(every term of every score, with its rule: reports/assessment-breakdown-*)\n"


def _head(table: Table, count: int, *, title: bool = True) -> str:
    shown = Table(title=table.title if title else "", columns=table.columns, rows=table.rows[:count],
                  notes=table.notes)
    more = f"... and {len(table.rows) - count} more (see reports/)\n" if len(table.rows) > count else ""
    return shown.render("text").lstrip("\n") + more


def _refusal_kinds(refused: list[Refusal]) -> tuple[tuple[str, int], ...]:
    """Refusal reasons with ids and numbers blanked out, most common first (top 6)."""
    counts: Counter[str] = Counter()
    for refusal in refused:
        for reason in refusal.reasons[:1]:
            text = re.sub(r"'[^']*'|\"[^\"]*\"|\S*\d\S*", "…", reason)
            head, colon, _ = text.partition(": ")
            counts[head if colon and len(head) <= 60 else text] += 1
    return tuple(counts.most_common(6))


@click.command("diff")
@click.option("--events", "events_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The event log (JSON lines, e.g. a demo's events.jsonl or an export).")
@click.option("--ruleset", "rulesets", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Give it twice: A (e.g. the ruleset in force) then B (the proposal).")
@click.option("--community", "community_name", metavar="NAME|DIR",
              help="The community (default: the folder of ruleset B or A, if it holds community.yaml).")
@click.option("--until", callback=parse_time, metavar="TIME",
              help="Tick both replays to this time (default: the last event's time).")
@click.option("--limit", default=25, show_default=True, help="Text output: at most this many lines per kind.")
@format_option
def diff_command(events_path: Path, rulesets: tuple[Path, ...], community_name: str | None,
                 until: datetime | None, limit: int, fmt: str) -> None:
    """Replay an event log under two rulesets and show every difference, with the rules behind it."""
    from gridcore.rules import RulesError

    from .whatif import diff

    if len(rulesets) != 2:
        raise click.UsageError("give --ruleset exactly twice: the ruleset in force (A), then the proposal (B)")
    try:
        folder = find_community(community_name) if community_name else _community_beside(rulesets)
        docs = _read_jsonl(events_path)
        result = diff(docs, rulesets[0], rulesets[1], folder, until=until, plugins=plugin_manager())
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.render(fmt, limit=limit), nl=False)


def _community_beside(rulesets: tuple[Path, ...]) -> Path:
    for ruleset in reversed(rulesets):
        if (ruleset.parent / "community.yaml").is_file():
            return ruleset.parent
    raise GridcoreError("which community? give --community (neither ruleset's folder holds community.yaml)")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    docs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GridcoreError(f"{path.name}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(doc, dict):
                raise GridcoreError(f"{path.name}:{number}: expected an event object")
            docs.append(doc)
    return docs


def commands() -> list[click.Command]:
    """The commands this module adds to ``gridcore``."""
    return [simulate_command, demo_command, diff_command]
