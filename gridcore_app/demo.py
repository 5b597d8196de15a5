"""The main job and its helpers on the command line: ``simulate``, ``demo``, ``diff``.

``commands()`` gives the click commands the root ``gridcore`` group adds:

* ``gridcore simulate``: a community's simulated days as JSON lines (what
  ``gridcore ingest`` reads);
* ``gridcore demo``: builds a community in a fresh store, simulates a quarter,
  runs every plugin and prints what happened: every report a plugin showcases
  (``gridcore.reports.Showcase``), without naming any plugin;
* ``gridcore diff``: the same event log under two rulesets, every difference
  with the rules behind it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath
from typing import Any, TypeVar

import attrs
import click

from gridcore.classes import frozen
from gridcore.clock import FixedClock
from gridcore.community import Community
from gridcore.engine import Engine, Refusal
from gridcore.errors import GridcoreError, chinese_first, chinese_first_line, chinese_of
from gridcore.governing import RulesetInForce
from gridcore.periods import Period, label_zh, periods_between
from gridcore.plugin_host import Hooks
from gridcore.reports import PER_MONTH, PER_PERIOD, Report, Showcase, Table, display_width

from .cli import for_staff, format_option, help_lang, parse_time, plugin_manager, rulesets_option
from .ladder import Ladder
from .simulate import (
    EARLY_REDEMPTION,
    OUTSIDER_RATING,
    REDEMPTION,
    SCENARIO_FILE,
    Scenario,
    find_community,
    load_scenario,
    simulate,
    write_jsonl,
)

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
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-01 (日期应写成 2025-01-01 这样)") from None


def community_option(func: F) -> F:
    """``--community NAME|DIR`` (a folder, a name under rulesets/, or the Chinese name)."""
    return click.option(
        "--community", "community_name", default=DEFAULT_COMMUNITY, show_default=True, metavar="NAME|DIR",
        help="A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao) "
             "or its Chinese name (银泉社区).",
    )(func)


def roster_option(func: F) -> F:
    """``--community NAME|DIR|FILE``: as ``community_option``, or a roster file (a workbook, a YAML file)."""
    return click.option(
        "--community", "community_name", default=DEFAULT_COMMUNITY, show_default=True, metavar="NAME|DIR|FILE",
        help="A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao), "
             "its Chinese name (银泉社区), or a roster file (花名册.xlsx, community.yaml); the scenario is then "
             "looked for beside it.",
    )(func)


@click.command("simulate")
@roster_option
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file (default: scenario.yaml in the community folder, or beside the roster file).")
@click.option("--days", default=90, show_default=True, type=click.IntRange(0, 3660), help="How many days.")
@click.option("--start", callback=_date, metavar="DATE", help="First day (default 2025-01-01).")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same events.")
@click.option("--out", "out_path", default="-", show_default=True, metavar="FILE",
              help="Where to write the JSON lines ('-' for standard output).")
@click.option("--ruleset", "ruleset_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ruleset the events will be judged under: its escalation ladder tells where a case nobody "
                   "took on in time is waiting (default: <folder>.rules in the community's folder, with the "
                   "scenario's demo.variants).")
@rulesets_option()
def simulate_command(community_name: str, scenario_path: Path | None, days: int, start: date | None,
                     seed: int, out_path: str, ruleset_path: Path | None, rulesets: tuple[Path, ...]) -> None:
    """Write a community's simulated days as JSON lines for `gridcore ingest`."""
    try:
        # a community folder, a name under rulesets/, or a file (YAML, roster workbook), as `gridcore diff`
        given = Path(community_name)
        folder = given.parent if given.is_file() else find_community(community_name)
        community = Hooks(plugin_manager()).load_community(given if given.is_file() else folder)
        scenario = load_scenario(scenario_path or folder / SCENARIO_FILE)
        first = start or DEFAULT_START
        ladder: Ladder | None
        if ruleset_path is not None:
            ladder = Ladder.of_files(community, [ruleset_path], at=first, search_path=rulesets)
        else:
            ladder = folder_ladder(folder, community, scenario, at=first, search_path=rulesets)
            if ladder is None:
                click.echo(no_ladder_warning(folder), err=True)
        later = scenario_rulesets(scenario, community, datetime.combine(first, time(0), tzinfo=community.tz),
                                  search_path=rulesets)
        if later and ladder is None:
            raise GridcoreError("the scenario puts rulesets in force during the run, but there is no ruleset for "
                                "the days before them: give it with --ruleset FILE (场景在模拟期间启用规则集，"
                                "但此前没有规则集：请用 --ruleset FILE 指定)")
        if later and ladder is not None:
            ladder = Ladder.in_force(community, [*ladder.entries, *later])
            click.echo(said_in_force(later, community), err=True)
        events = simulate(community, scenario, days=days, start=first, seed=seed, ladder=ladder)
        if out_path == "-":
            count = write_jsonl(events, sys.stdout)
        else:
            with open(out_path, "w", encoding="utf-8") as out:
                count = write_jsonl(events, out)
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    where, where_zh = ("standard output", "标准输出") if out_path == "-" else (out_path, out_path)
    click.echo(for_staff(f"{count} events of {community.name} ({days} days, seed {seed}) written to {where} "
                         f"(已写出{community.name} {days} 天的 {count} 个事件，随机种子 {seed}：{where_zh})"), err=True)


@click.command("demo")
@community_option
@click.option("--days", type=click.IntRange(1, 3660),
              help="How many days (default 90, or the scenario's demo.days: a district runs a week).")
@click.option("--start", callback=_date, metavar="DATE",
              help="First day (default 2025-01-01, a 90-day quarter; or the scenario's demo.start).")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same quarter.")
@click.option("--ruleset", "ruleset_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ruleset to run (default: <community>.rules in the community folder).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default ./gridcore-out/<community>); its store/ is rebuilt.")
@rulesets_option()
def demo_command(community_name: str, days: int | None, start: date | None, seed: int, ruleset_path: Path | None,
                 out_dir: Path | None, rulesets: tuple[Path, ...]) -> None:
    """The main job: simulate a community's quarter under its rules and show what happened.

    Builds the community in a fresh store, simulates DAYS days (seed SEED),
    runs every plugin, ticks to the end and prints what the plugins showcase
    (with the built-ins: the points board, incidents by level, overdue cases,
    star ratings), with where the files went.
    """
    try:
        folder = find_community(community_name)
        plan = load_scenario(folder / SCENARIO_FILE).demo
        result = run_demo(folder, days=days or plan.days or 90, start=start or plan.start or DEFAULT_START,
                          seed=seed, ruleset=ruleset_path,
                          out=out_dir or Path("gridcore-out") / folder.name,
                          progress=sys.stderr.isatty(), search_path=rulesets, lang=help_lang())
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.render(help_lang()), nl=False)


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
    rated: str = ""
    #: the refused events by what the simulator made them (``simulate``'s ``staged``), with those it did
    #: not mean to be refused counted as ``NOT_INTENDED``
    intended: tuple[tuple[str, int], ...] = ()
    #: the ruleset as said in Chinese (``银州区 及 3 个社区变体``); empty: as ``ruleset`` says it
    ruleset_zh: str = ""

    def render(self, lang: str = "en") -> str:
        """A readable summary: the run, each section, where the files went (each line in Chinese too;
        Chinese first for ``lang="zh"``)."""
        if lang == "zh":
            return self._in_chinese()
        out = [
            (f"{self.community}: {self.days} days from {self.start.isoformat()} (seed {self.seed}), "
             f"ruleset {self.ruleset} (模拟 {self.days} 天，自 {self.start.isoformat()} 起，随机种子 {self.seed}；"
             f"规则集 {self.ruleset_zh or self.ruleset})"),
            (f"  {self.simulated} events simulated: {self.accepted} stored, {self.refused} refused, "
             f"{self.derived} derived by the plugins (escalations and other timed decisions) "
             f"(模拟事件 {self.simulated} 条：保存 {self.accepted} 条，被拒 {self.refused} 条，"
             f"插件派生 {self.derived} 条：提级等到时的决定)"),
        ]
        for reason, count in self.refusal_kinds:
            out.append(f"    refused (被拒) {count:>4} x {reason}")
        if self.intended:
            said = ", ".join(f"{count} {STAGED_LABELS.get(kind, kind)}" for kind, count in self.intended)
            out.append(f"  refused, as the simulator made them (被拒事件按模拟器的本意): {said}")
        if self.rated:
            out.append(f"  {self.rated}")
        for title, text in self.sections:
            out.append("")
            out.append(f"== {title}")
            out.append(text.rstrip("\n"))
        out.append("")
        out.append("== Files (文件)")
        out += _aligned(self.files)
        out.extend(self.notes)
        return "\n".join(out) + "\n"

    def _in_chinese(self) -> str:
        """``render()`` as staff reading Chinese see it: the run, each section's heading (a report's
        ``Showcase.heading_zh``), the files and notes in Chinese; the tables as they were built (under zh)."""
        out = [
            (f"{self.community}：模拟 {self.days} 天，自 {self.start.isoformat()} 起，随机种子 {self.seed}；"
             f"规则集 {self.ruleset_zh or self.ruleset}"),
            (f"  模拟事件 {self.simulated} 条：保存 {self.accepted} 条，被拒 {self.refused} 条，"
             f"插件派生 {self.derived} 条（提级等到时的决定）"),
        ]
        out += [f"    被拒 {count:>4} × {chinese_first(reason)}" for reason, count in self.refusal_kinds]
        if self.intended:
            said = "，".join(f"{_chinese_of(STAGED_LABELS.get(kind, kind))} {count} 条" for kind, count in self.intended)
            out.append(f"  被拒事件按模拟器的本意：{said}")
        if self.rated:
            out.append(f"  {chinese_first_line(self.rated)}")
        for title, text in self.sections:
            out += ["", f"== {_chinese_first(title)}", text.rstrip("\n")]
        out += ["", "== 文件"]
        out += _aligned([(label.split(" ", 1)[-1], _SAID_TWICE.sub(r"（\g<chinese>）", where))
                         for label, where in self.files])
        out += [chinese_first_line(note) for note in self.notes]
        return "\n".join(out) + "\n"


def _aligned(files: Sequence[tuple[str, str]]) -> list[str]:
    """The run's files, a line each: its label, padded to the widest (in terminal columns), and where it is."""
    width = max((display_width(label) for label, _ in files), default=0)
    return [f"  {label}{' ' * (width - display_width(label))}  {where}" for label, where in files]


def _chinese_of(label: str) -> str:
    """The Chinese of a label said in English and, in brackets at its end, Chinese; the label if it has none."""
    parts = chinese_of(label)
    return parts[1] if parts is not None else label


#: A file's note said twice, ``(993 lines / 993 行)``: its Chinese half.
_SAID_TWICE = re.compile(r"\((?P<english>[^()]*) / (?P<chinese>[^()]*)\)")


#: A table's rule under its column ids.
_TABLE_RULE = re.compile(r"[- ]*-[- ]*")
#: A line whose Chinese is in brackets after its first words: ``== Points board (积分公示), 2025-01: top 10``.
_MIDDLE = re.compile(r"^(?P<indent>\s*)(?P<mark>== )?(?P<english>[A-Za-z][^()（]*?) \((?P<chinese>[^()]*[\u4e00-\u9fff][^()]*)\)"
                     r"(?P<rest>.*)$")


def _chinese_first(line: str) -> str:
    """A line of the demo's summary Chinese first: by ``chinese_first_line``, or its bracketed Chinese after its
    first words moved before them (``== 积分公示（Points board）, 2025-01: top 10``)."""
    found = _MIDDLE.match(line)
    if found is not None and found["rest"].strip():
        return f"{found['indent']}{found['mark'] or ''}{found['chinese']}（{found['english']}）{found['rest']}"
    mark = "== " if line.startswith("== ") else ""
    return mark + chinese_first_line(line[len(mark):])


def variants_section(engine: Engine, lang: str = "en") -> tuple[str, str]:
    """The rulesets in force for a subtree only, and how many outcomes their own rules decided (in Chinese
    for ``lang="zh"``).

    An outcome counts for a variant when a rule behind it is written in the
    variant's own file (what it changed), not in the district's file it extends.
    """
    outcomes = engine.outcomes()
    lines = []
    for entry in engine.rulesets_in_force():
        if entry.node is None:
            continue
        file = PurePath(entry.ruleset.entry).name
        own = sum(1 for outcome in outcomes if any(rule.name == file for rule in outcome.rules))
        node = engine.community.hierarchy.node(entry.node)
        day = entry.effective.date().isoformat()
        lines.append(f"{entry.node} {node.name}：{entry.ruleset.name}（{file}），自 {day} 起；{own} 项结果由其自己的规则决定"
                     if lang == "zh" else
                     f"{entry.node} {node.name}: {entry.ruleset.name} ({file}) from {day}, {own} outcome(s) decided "
                     f"by its own rules （自 {day} 起；{own} 项结果由其自己的规则决定）")
    if lang == "zh":
        return "社区规则变体：各社区自己的规则集（在区规则集之上）", "\n".join(lines) + "\n"
    return "Community variants (社区规则变体): the ruleset of each, over the district's", "\n".join(lines) + "\n"


def folder_ladder(folder: Path, community: Community, scenario: Scenario, *, at: date,
                  search_path: Sequence[Path] = ()) -> Ladder | None:
    """The ladder of the rulesets ``gridcore demo`` puts in force for the folder (its own ruleset and the
    scenario's ``demo.variants``), for ``gridcore simulate``; None for a folder without a ruleset."""
    try:
        path = default_ruleset(folder)
    except GridcoreError:
        return None
    return Ladder.of_files(community, [path, *(folder / v for v in scenario.demo.variants)], at=at,
                           search_path=search_path)


def scenario_rulesets(scenario: Scenario, community: Community, first: datetime, *,
                      search_path: Sequence[Path] = ()) -> list[RulesetInForce]:
    """The rulesets the scenario puts in force during the run (its ``rulesets:``), compiled, each from
    midnight of its day (the run's first moment for a day before it) for the subtree its ``applies to``
    names; a broken file is refused with its file:line, a ruleset of other levels or for a node the tree
    lacks with what is wrong."""
    from gridcore.rules import load_ruleset
    from gridcore.rules.subtree import governed_node

    hooks = Hooks(plugin_manager())
    found = []
    for plan in scenario.rulesets:
        ruleset = load_ruleset(plan.file, sections=hooks.register_sections(), metrics=hooks.register_metrics(),
                               search_path=search_path, roles=community.roles)
        if ruleset.levels and tuple(ruleset.levels) != tuple(community.hierarchy.levels):
            raise GridcoreError(f"ruleset {ruleset.name} ({plan.file}) expects levels {' > '.join(ruleset.levels)}, "
                                f"but {community.name} has {' > '.join(community.hierarchy.levels)} "
                                "(规则集的层级与社区不符)")
        when = max(datetime.combine(plan.effective, time(0), tzinfo=community.tz), first)
        found.append(RulesetInForce(when, ruleset, governed_node(ruleset, community.hierarchy)))
    return found


def said_in_force(entries: Sequence[RulesetInForce], community: Community) -> str:
    """What ``gridcore simulate`` says of the rulesets its scenario puts in force, in English and Chinese."""
    lines = []
    for entry in entries:
        where = entry.node or community.hierarchy.roots()[0].id
        name = community.hierarchy.node(where).name
        day = entry.effective.date().isoformat()
        file = PurePath(entry.ruleset.entry).name
        lines.append(f"ruleset {entry.ruleset.name} ({file}) in force from {day} for {where} {name}, as the "
                     f"scenario says: the cases reported from then are simulated under it; put it in force where "
                     f"the events are judged too (gridcore use {file} --effective {entry.effective.isoformat(timespec='minutes')}) "
                     f"(场景规定：规则集 {entry.ruleset.name}（{file}）自 {day} 起在 {name} 生效，此后上报的事件按它模拟；"
                     f"评判这些事件的存储也须让它同时生效)")
    return "\n".join(lines)


def no_ladder_warning(folder: Path) -> str:
    """What ``gridcore simulate`` says when the folder has no ruleset to read the ladder from."""
    named = folder / f"{folder.name}.rules"
    found = sorted(p.name for p in folder.glob("*.rules"))
    seen = (f"found {', '.join(found)}: more than one, none named so" if found
            else "there is no .rules file in that folder")
    seen_zh = f"有 {'、'.join(found)} 多个，但没有这个名字的" if found else "该文件夹中没有 .rules 文件"
    return (f"warning: no ruleset to read the escalation ladder from: looked for {named} ({seen}); every case is "
            "taken on as the scenario plans it, whatever a ruleset's limits would have done with it by then "
            "(cases nobody took on in time are not handed up). Give the ruleset the events will be judged under "
            "with --ruleset FILE.\n"
            f"警告：没有找到规则集，无法读取事件流转（逐级上报）的规则：查找的是 {named}（{seen_zh}）；"
            "每个事件都按场景的安排受理，不考虑规则集的时限会把它上报到哪里（超时未受理的事件不会交给上级）。"
            "请用 --ruleset FILE 指定这些事件将依据的规则集。")


def default_ruleset(folder: Path) -> Path:
    """The community's own ruleset: ``<folder name>.rules`` in its folder (or its only .rules file)."""
    named = folder / f"{folder.name}.rules"
    if named.is_file():
        return named
    found = sorted(folder.glob("*.rules"))
    if len(found) == 1:
        return found[0]
    raise GridcoreError(f"no ruleset in {folder}: expected {named.name} (or give --ruleset) "
                        f"(文件夹中没有规则集 {named.name}：请放入该文件，或用 --ruleset 指定)")


@frozen
class RatingPlan:
    """What a demo rates: the whole periods inside the simulated days.

    ``headline`` is the longest whole period that ends last (a quarter, else a
    month, else an ISO week; None when the days hold no whole week): the
    reports built "for the period" are built for it.  ``months`` are the whole
    months, ``partial`` the quarters and months the days only touch.
    """

    headline: Period | None
    months: tuple[Period, ...]
    partial: tuple[Period, ...]

    def describe(self, days: int) -> str:
        """One line saying what was rated and what was not, and why."""
        if self.headline is None:
            said = (f"rated: nothing: the {days} simulated days hold no whole week, month or quarter "
                    "(run at least --days 7; a month or a quarter is rated when the days cover it)")
            said_zh = f"不评星：模拟的 {days} 天不含完整的周、月或季度（至少 --days 7；模拟覆盖整月或整季才评该月或该季）"
        else:
            whole = [m.label for m in self.months] + ([self.headline.label] if self.headline not in self.months
                                                      else [])
            said = f"rated: {', '.join(whole)} (whole periods inside the {days} simulated days)"
            said_zh = f"评星：{'、'.join(whole)}（模拟的 {days} 天内的完整周期）"
        if self.partial:
            said += (f"; not rated: {', '.join(p.label for p in self.partial)} (only partly simulated: "
                     "a partial period would be charged for patrols and activities on days never simulated)")
            said_zh += (f"；不评星：{'、'.join(p.label for p in self.partial)}（只模拟了一部分：未模拟的日子"
                        "会被算作没有巡查和活动）")
        said += f" ({said_zh})"
        return said


def rating_plan(first: datetime, end: datetime, tz: Any) -> RatingPlan:
    """The whole quarters, months and weeks inside ``[first, end)`` and the ones cut short."""

    def inside(kind: str) -> list[Period]:
        return [p for p in periods_between(kind, first, end, tz) if first <= p.start and p.end <= end]

    quarters, months = inside("quarter"), inside("month")
    partial = [p for kind in ("quarter", "month") for p in periods_between(kind, first, end, tz)
               if p not in quarters and p not in months]
    found = quarters or months or inside("week")
    return RatingPlan(found[-1] if found else None, tuple(months), tuple(partial))


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
    search_path: Sequence[Path] = (),
    lang: str = "en",
    write_reports: bool = True,
) -> DemoResult:
    """Simulate a community under its ruleset in a fresh store in ``out`` and collect the results.

    ``search_path``: where the ruleset's ``extends`` looks after its own folder. ``lang="zh"``
    (``gridcore --lang zh demo``): each report as staff read it in Chinese (``Report.chinese``), printed
    and written, its CSV headed for Excel (``获得积分 earned``).

    ``out/store`` is removed and rebuilt; ``out/events.jsonl`` holds the
    simulated log (what ``gridcore ingest`` and ``gridcore diff`` read);
    ``out/reports/`` every report the plugins showcase, as text and CSV, all
    of them again in ``reports.xlsx`` (a sheet each), and the charts they
    draw, as SVG.  ``write_reports=False``: the store and the log alone, for a
    caller that reads the store itself (``reports/`` is left empty and nothing
    is printed of them: about half of a quarter's run is its reports and charts).
    """
    from gridcore.rules import load_ruleset
    from gridcore.rules.subtree import governed_node

    from .rosterio import load_community

    community = load_community(folder)
    scenario = load_scenario(folder / SCENARIO_FILE)
    # Check everything before touching the output folder: a broken ruleset is
    # refused with its file:line and the previous run's files stay as they were.
    pm = plugin_manager()
    rules = load_ruleset(ruleset or default_ruleset(folder), sections=Hooks(pm).register_sections(),
                         metrics=Hooks(pm).register_metrics(), search_path=search_path, roles=community.roles)
    variants = [load_ruleset(folder / name, sections=Hooks(pm).register_sections(),
                             metrics=Hooks(pm).register_metrics(), search_path=search_path, roles=community.roles)
                for name in scenario.demo.variants] if ruleset is None else []
    for checked in (rules, *variants):
        if checked.levels and tuple(checked.levels) != tuple(community.hierarchy.levels):
            raise GridcoreError(f"ruleset {checked.name} expects levels {' > '.join(checked.levels)}, but "
                                f"{community.name} has {' > '.join(community.hierarchy.levels)} "
                                f"(规则集的层级与社区的层级树不符：{' > '.join(checked.levels)} 对 "
                                f"{' > '.join(community.hierarchy.levels)})")
        governed_node(checked, community.hierarchy)  # a variant for a node the tree lacks: refused here
    first = datetime.combine(start, time(0), tzinfo=community.tz)
    end = first + timedelta(days=days)
    last_day = (end - timedelta(seconds=1)).date()
    # Rate only whole periods inside the simulated days: a quarter or month cut
    # short would count patrols and activities it never had the days for.
    plan = rating_plan(first, end, community.tz)
    period = plan.headline.label if plan.headline is not None else ""
    later = scenario_rulesets(scenario, community, first, search_path=search_path)
    ladder = Ladder.of_rulesets(community, [rules, *variants], at=start)
    if later:
        ladder = Ladder.in_force(community, [*ladder.entries, *later])
    staged: dict[str, str] = {}
    events = list(simulate(community, scenario, days=days, start=first, seed=seed, ladder=ladder, staged=staged))

    out.mkdir(parents=True, exist_ok=True)
    store = out / "store"
    if store.is_dir():
        shutil.rmtree(store)
    elif store.exists():
        raise GridcoreError(f"{store} is in the way of the demo's store (a file); move it or give another --out "
                            "(演示数据库的位置上已有一个文件：请移走它，或用 --out 另选文件夹)")
    reports = out / "reports"
    if reports.is_dir():
        shutil.rmtree(reports)
    reports.mkdir()
    log = out / "events.jsonl"
    with log.open("w", encoding="utf-8") as handle:
        write_jsonl(events, handle)

    notes: list[str] = []
    engine = Engine.open(store=str(store), community=community, ruleset=rules, effective=first,
                         clock=FixedClock(first), plugins=pm)
    with engine:
        ruleset_name = rules.name
        for variant in variants:  # each for the subtree it names, from the same start
            engine.use_ruleset(variant, effective=first)
        for entry in later:  # the scenario's, each from its day
            engine.use_ruleset(entry.ruleset, effective=entry.effective, node=entry.node)
        ruleset_zh = rules.name
        if variants:
            ruleset_name += f" and {len(variants)} community variant{'s' if len(variants) > 1 else ''}"
            ruleset_zh += f" 及 {len(variants)} 个社区变体"
        for entry in later:
            day = entry.effective.date().isoformat()
            ruleset_name += f", then {entry.ruleset.name} from {day}"
            ruleset_zh += f"，自 {day} 起 {entry.ruleset.name}"
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
        shown = Shown((), (), (), ())
        if write_reports:
            root = community.hierarchy.roots()[0].id
            shown = showcase(engine, Hooks(pm).register_reports(), reports, root=root,
                             months=months_between(start, last_day), period=period or None, lang=lang)
        if write_reports and period and scenario.demo.rollups:
            shown = _with_rollups(engine, shown, reports, scenario.demo.rollups, period, lang)
        if variants:
            shown = attrs.evolve(shown, sections=(variants_section(engine, lang), *shown.sections))
    notes.extend(shown.notes)
    files = [("store 数据库", f"{store}  (gridcore report ... --store {store})"),
             ("events 事件", f"{log}  ({len(events)} lines / {len(events)} 行)")]
    if write_reports:
        # Every report again as one workbook, a sheet each, for the office's Excel.
        from .reportbook import write_tables

        workbook = write_tables(reports / "reports.xlsx", shown.tables, lang)
        files += [("reports 报表", (f"{reports}/  ({len(shown.written)} files: text and CSV / {len(shown.written)} "
                                  "个文件：文本和 CSV)")),
                  ("workbook 工作簿", (f"{workbook}  ({len(shown.tables)} sheets, Chinese headings / "
                                    f"{len(shown.tables)} 个工作表，中文表头)"))]
    files.extend(("chart 图表", str(path)) for path in shown.figures)
    return DemoResult(
        community=f"{community.name} ({folder.name})", ruleset=ruleset_name, ruleset_zh=ruleset_zh, start=start,
        days=days, seed=seed,
        period=period, simulated=len(events), accepted=summary.accepted, derived=derived,
        refused=len(summary.refused), refusal_kinds=_refusal_kinds(summary.refused),
        intended=_intended(summary.refused, staged),
        sections=shown.sections, files=tuple(files), notes=tuple(notes), rated=plan.describe(days),
    )


@frozen
class Shown:
    """What ``showcase`` printed and wrote."""

    sections: tuple[tuple[str, str], ...]
    written: tuple[Path, ...]
    figures: tuple[Path, ...]
    notes: tuple[str, ...]
    tables: tuple[tuple[str, Table], ...] = ()


def showcase(engine: Engine, reports: Iterable[Report], folder: Path, *, root: str, months: Sequence[str],
             period: str | None, lang: str = "en") -> Shown:
    """Build every report a plugin showcases, write each build to ``folder``, and the sections to print.

    The demo names no plugin: each report's ``Showcase`` says whether it is
    built once, per month or for the period, and how it is printed.  A report
    that fails is left out with a note.  Without a ``period`` (no whole period
    was simulated) reports built per period are left out.
    """
    sections: list[tuple[int, str, str]] = []
    written: list[Path] = []
    figures: list[Path] = []
    notes: list[str] = []
    tables: list[tuple[str, Table]] = []
    for report in sorted((r for r in reports if r.showcase is not None), key=lambda r: r.name):
        show = report.showcase
        assert show is not None
        if show.per == PER_MONTH:
            builds = [(month, {"node": root, "month": month}) for month in months]
        elif show.per == PER_PERIOD:
            builds = [(period, {"node": root, "period": period})] if period else []
        else:
            builds = [("", {"node": root})]
        stem = report.name.replace(".", "-")
        table = None
        for label, params in builds:
            try:
                table = engine.report(report.name, params, lang=lang)
            except GridcoreError as exc:
                notes.append(f"note: report {report.name} not written: {exc} (报表 {report.name} 未写出)")
                table = None
                continue
            name = f"{stem}-{label}" if label else stem
            for fmt, suffix in (("text", "txt"), ("csv", "csv")):
                path = folder / f"{name}.{suffix}"
                path.write_text(table.render(fmt, lang=lang), encoding="utf-8", newline="")
                written.append(path)
            tables.append((_sheet(table, name, label, lang), table))
            if show.figure is not None and (label, params) == builds[-1]:
                figure = folder / f"{name}.svg"
                show.figure(engine, {**params, "lang": lang}, figure)  # (its words in the run's language)
                figures.append(figure)
        if table is not None and show.heading:
            said = show.heading_zh if lang == "zh" and show.heading_zh else show.heading
            label = label_zh(builds[-1][0]) if lang == "zh" else builds[-1][0]  # (2025年3月 under zh)
            heading = said.format(label=label, rows=len(table.rows))
            sections.append((show.order, heading, _shown(table, show, lang)))
    sections.sort(key=lambda s: s[0])  # stable: reports of one order stay in name order
    return Shown(tuple((h, t) for _, h, t in sections), tuple(written), tuple(figures), tuple(notes),
                 tuple(tables))


def _with_rollups(engine: Engine, shown: Shown, folder: Path, levels: Sequence[str], period: str,
                  lang: str = "en") -> Shown:
    """``shown`` with the roll-up of every node at ``levels`` (the scenario's ``demo.rollups``) added.

    Each roll-up's summary is printed; every table is written to ``folder``
    (text and CSV) and to the workbook.
    """
    from .rollup import rollup

    sections = list(shown.sections)
    written = list(shown.written)
    tables = list(shown.tables)
    notes = list(shown.notes)
    built: dict[tuple[str, str], Table] = {}  # district-wide reports, built once for every roll-up
    for node in (n for level in levels for n in engine.community.hierarchy.nodes_at(level)
                 if n.kind == "territorial"):
        try:
            found = rollup(engine, node.id, period, built=built)
        except GridcoreError as exc:
            notes.append(f"note: roll-up of {node.id} not written: {exc} ({node.id} 的汇总未写出)")
            continue
        summary = found.tables["summary"]
        sections.append((f"汇总：{found.name} [{node.id}]，{label_zh(period)}" if lang == "zh" else
                         f"Roll-up (汇总) of {found.name} [{node.id}], {period}",
                         Table("", summary.columns, summary.rows, headings=summary.headings).render("text", lang)
                         .lstrip("\n")))
        for name in found.tables:
            table = found.in_language(name, lang)  # (under zh a level as the community names it: 网格 grid)
            stem = f"rollup-{node.id}-{name}-{period}"
            for fmt, suffix in (("text", "txt"), ("csv", "csv")):
                path = folder / f"{stem}.{suffix}"
                path.write_text(table.render(fmt, lang=lang), encoding="utf-8", newline="")
                written.append(path)
            tables.append((_sheet(table, stem, period, lang, node.name), table))
    return Shown(tuple(sections), tuple(written), shown.figures, tuple(notes), tuple(tables))


def _sheet(table: Table, name: str, period: str, lang: str, node: str = "") -> str:
    """The workbook's sheet for ``table``: its file's name (``points-board-2025-03``), or under zh its Chinese
    name and period (``积分公示 2025年3月``; a roll-up's led by its node's name: ``东湖社区 三率与汇总 2025年一季度``)."""
    if lang != "zh":
        return name
    from .reportbook import sheet_name_zh

    said = sheet_name_zh(table, name, period)
    return f"{node} {said}" if node else said


def _shown(table: Table, show: Showcase, lang: str = "en") -> str:
    """The table as the showcase asks: some columns, the first rows, with or without its title.

    (Its notes, and every row and column, are in the files.)
    """
    if not table.rows and show.empty:
        return (chinese_first_line(show.empty) if lang == "zh" else show.empty) + "\n"
    keep = [i for i, c in enumerate(table.columns) if c in show.columns] or list(range(len(table.columns)))
    rows = table.rows[: show.rows] if show.rows else table.rows
    columns = tuple(table.columns[i] for i in keep)
    # the Chinese of the values the table gives (a level as the community names it: 网格 grid), as its files show them
    part = Table(title=table.title if show.title else "", columns=columns,
                 rows=tuple(tuple(row[i] for i in keep) for row in rows), headings=table.headings,
                 values={c: v for c, v in table.values.items() if c in columns},
                 title_zh=table.title_zh if show.title else "")
    left = len(table.rows) - len(rows)
    more = ("" if not left else f"……另有 {left} 行，见 reports/\n" if lang == "zh"
            else f"... and {left} more (see reports/) (另有 {left} 行，见 reports/)\n")
    return part.render("text", lang).lstrip("\n") + more


#: How the demo names what the simulator made an event it may see refused (``simulate``'s ``staged``).
NOT_INTENDED = "not intended"
STAGED_LABELS = {
    EARLY_REDEMPTION: "redemptions too early, on purpose (提前兑换，有意为之)",
    OUTSIDER_RATING: "ratings from outside the cell, on purpose (网格外评价，有意为之)",
    REDEMPTION: "redemptions the simulator cannot judge: it knows nothing of points (模拟器不计积分，无法预判的兑换)",
    NOT_INTENDED: "not intended (非有意，模拟与规则不符)",
}


def _intended(refused: list[Refusal], staged: dict[str, str]) -> tuple[tuple[str, int], ...]:
    """The refused events counted by what the simulator made them (every kind, ``NOT_INTENDED`` last)."""
    if not refused:
        return ()
    counts = Counter(staged.get(refusal.event_id, NOT_INTENDED) for refusal in refused)
    return tuple((kind, counts[kind]) for kind in (OUTSIDER_RATING, EARLY_REDEMPTION, REDEMPTION, NOT_INTENDED)
                 if counts[kind] or kind == NOT_INTENDED)


def _refusal_kinds(refused: list[Refusal]) -> tuple[tuple[str, int], ...]:
    """Refusal reasons with ids and numbers blanked out, most common first (top 6)."""
    counts: Counter[str] = Counter()
    for refusal in refused:
        for reason in refusal.reasons[:1]:
            text = re.sub(r"'[^']*'|\"[^\"]*\"|\S*\d\S*", "…", reason)
            head, colon, _ = text.partition(": ")
            if not colon or len(head) > 60:
                counts[text] += 1
                continue
            # the reason's Chinese (its closing bracket) kept with the head it is cut to
            chinese = _CHINESE_TAIL.search(text)
            counts[head + (f" {chinese[0]}" if chinese and chinese[0] not in head else "")] += 1
    return tuple(counts.most_common(6))


#: A reason's closing bracket holding its Chinese: ``... (rule yinzhou.rules:27) (积分不足)``.
_CHINESE_TAIL = re.compile(r"[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]$")


@click.command("diff")
@click.option("--events", "events_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The event log (JSON lines, e.g. a demo's events.jsonl or an export).")
@click.option("--ruleset", "rulesets", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Give it twice: A (e.g. the ruleset in force) then B (the proposal).")
@click.option("--community", "community_name", metavar="NAME|DIR",
              help="The community: a folder, a YAML file or a roster workbook (.xlsx), or a name under "
                   "rulesets/ (default: the folder of ruleset B or A, if it holds community.yaml).")
@click.option("--until", callback=parse_time, metavar="TIME",
              help="Tick both replays to this time (default: the last event's time).")
@click.option("--limit", default=25, show_default=True, help="Text output: at most this many lines per kind.")
@click.option("--jobs", type=click.IntRange(1, 2), default=None,
              help="2: replay both rulesets at once (two processes); 1: one after the other. "
                   "Default: 2 from 20,000 events on (a district's year), else 1.")
@rulesets_option("search_path")
@format_option
def diff_command(events_path: Path, rulesets: tuple[Path, ...], community_name: str | None,
                 until: datetime | None, limit: int, jobs: int | None, search_path: tuple[Path, ...],
                 fmt: str) -> None:
    """Replay an event log under two rulesets and show every difference, with the rules behind it."""
    from gridcore.rules import RulesError, load_ruleset

    from .whatif import diff

    if len(rulesets) != 2:
        raise click.UsageError("give --ruleset exactly twice: the ruleset in force (A), then the proposal (B)"
                               " (--ruleset 须给两次：先现行规则集，再拟议规则集)")
    try:
        # a community folder, a name under rulesets/, or a file (YAML, roster workbook)
        folder = (Path(community_name) if community_name and Path(community_name).is_file()
                  else find_community(community_name) if community_name else _community_beside(rulesets))
        docs = _read_jsonl(events_path)
        hooks = Hooks(plugin_manager())
        sections, metrics = hooks.register_sections(), hooks.register_metrics()
        # each ruleset's parents found where --rulesets says (then $GRIDCORE_RULESETS)
        rules_a, rules_b = (load_ruleset(path, sections=sections, metrics=metrics, search_path=search_path)
                            for path in rulesets)
        result = diff(docs, rules_a, rules_b, folder, until=until, plugins=plugin_manager(), jobs=jobs)
    except RulesError as exc:
        raise click.ClickException(str(exc)) from None
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.render(fmt, limit=limit), nl=False)


def _community_beside(rulesets: tuple[Path, ...]) -> Path:
    for ruleset in reversed(rulesets):
        if (ruleset.parent / "community.yaml").is_file():
            return ruleset.parent
    raise GridcoreError("which community? give --community (neither ruleset's folder holds community.yaml) "
                        "(哪个社区？请用 --community 指定：两个规则集的文件夹中都没有 community.yaml)")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    docs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GridcoreError(f"{path.name}:{number}: not valid JSON ({exc.msg} at column {exc.colno}) "
                                    f"(第 {number} 行不是有效的 JSON)") from None
            if not isinstance(doc, dict):
                raise GridcoreError(f"{path.name}:{number}: expected an event object (第 {number} 行应是一个事件对象)")
            docs.append(doc)
    return docs


def commands() -> list[click.Command]:
    """The commands this module adds to ``gridcore``."""
    return [simulate_command, demo_command, diff_command]
