"""A roll-up as a chart: mean stars per child, and the three rates month by month.

Drawn from the roll-up's own tables (``summary`` and ``months``), so the chart
shows exactly the numbers the tables print; the stars' title names the
assessment periods they are of (``stars``: a week's roll-up shows its
quarter's) and marks those still under way provisional (暂定).  The format follows the file's
extension (``gridcore.charts``: PNG, SVG or PDF, Chinese names drawn with a
CJK font).  Every mark carries an SVG id (``stars-<node>``,
``rate-<metric>-<node>``) so tests and tools can read an SVG back.  Its titles, axes and
legends are Chinese for ``lang="zh"`` (``gridcore --lang zh rollup ... --chart``), English otherwise: one
language at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridcore.charts import PALETTE, chart_format, chart_style, figure_bytes

from .rollup import MONTHS, RATES, SUMMARY, TOTAL, Rollup

STARS = "#f1c40f"
TITLES = {"acceptance_within_limit": "accepted on time (%)", "closure_within_limit": "closed on time (%)",
          "mean_satisfaction": "satisfaction (1-5)"}
TITLES_ZH = {"acceptance_within_limit": "按时受理率（%）", "closure_within_limit": "按时办结率（%）",
             "mean_satisfaction": "群众满意度（1-5）"}
#: The words of the chart, by language.
WORDS = {"en": {"rated": "({n} rated)", "none": "no star ratings (no assessment plugin)",
                "title": "{name} {period}: mean stars under each child", "provisional": "provisional",
                "not over": "\n(provisional: the period is not over)", "periods": "\nof the assessment periods: {periods}",
                "nothing": "nothing to divide by in this period", "total": "total"},
         "zh": {"rated": "（已评定 {n} 个）", "none": "无星级评定（未装考核插件）", "title": "{name} {period}：下级平均星级",
                "provisional": "暂定", "not over": "\n（暂定：考核期未结束）", "periods": "\n考核期：{periods}",
                "nothing": "本时段无数据", "total": "合计"}}


def draw(found: Rollup, fmt: str, lang: str = "en") -> bytes:
    """The chart as the bytes of a ``png``, ``svg`` or ``pdf`` file, its words in ``lang`` (``en`` or ``zh``)."""
    words = WORDS["zh" if lang == "zh" else "en"]
    from matplotlib.figure import Figure

    summary = found.tables[SUMMARY]
    col = {name: k for k, name in enumerate(summary.columns)}
    children = [row for row in summary.rows if row[1] != TOTAL]
    months = found.tables.get(MONTHS)
    rates = [name for name, _ in RATES if months is not None and name in months.columns]
    with chart_style(fmt):
        figure = Figure(figsize=(11, 2.2 + 0.32 * len(children) + 2.6 * len(rates)), layout="constrained")
        axes = figure.subplots(1 + len(rates), 1, height_ratios=[max(len(children), 2) * 0.32 + 1] + [2.4] * len(rates),
                               squeeze=False)[:, 0]
        _stars(axes[0], found, children, col, words)
        if months is not None:
            for ax, metric in zip(axes[1:], rates):
                _rate(ax, months, metric, words)
        return figure_bytes(figure, fmt)


def _stars(ax: Any, found: Rollup, children: list[tuple[Any, ...]], col: dict[str, int], words: dict[str, str]) -> None:
    labels = [f"{row[1]} ({row[0]})" for row in children]
    places = list(range(len(children)))
    if "mean stars" in col:
        for y, row in zip(places, children):
            stars = float(row[col["mean stars"]] or 0)
            ax.barh(y, stars, color=STARS, height=0.7)[0].set_gid(f"stars-{row[0]}")
            rated = row[col["rated"]]
            ax.text(stars + 0.05, y, f"{row[col['mean stars']] or '-'} ★  {words['rated'].format(n=rated)}", va="center",
                    fontsize=9)
        ax.set_xlim(0, 6)
    else:
        ax.text(0.5, 0.5, words["none"], ha="center", transform=ax.transAxes)
    ax.set_yticks(places, labels)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(words["title"].format(name=found.name, period=found.period) + _assessed(found, words), loc="left",
                 fontweight="bold")


def _assessed(found: Rollup, words: dict[str, str]) -> str:
    """Which assessment periods the stars are of (a week's roll-up shows its quarter's), and whether any
    is provisional (under way by the engine's clock), as the stars table names them."""
    stars = found.tables.get("stars")
    if stars is None or "assessed" not in stars.columns:
        return ""
    col = {name: k for k, name in enumerate(stars.columns)}
    periods = list(dict.fromkeys(str(row[col["assessed"]]) for row in stars.rows))
    if not periods or periods == [found.period]:
        provisional = any(row[col["status"]] == "provisional" for row in stars.rows)
        return words["not over"] if provisional else ""
    marked = [p + (f" {words['provisional']}" if any(row[col["assessed"]] == p and row[col["status"]] == "provisional"
                                             for row in stars.rows) else "") for p in periods]
    return words["periods"].format(periods=", ".join(marked))


def _rate(ax: Any, months: Any, metric: str, words: dict[str, str]) -> None:
    col = {name: k for k, name in enumerate(months.columns)}
    labels = list(dict.fromkeys(str(row[col["month"]]) for row in months.rows))
    nodes = list(dict.fromkeys((row[col["node"]], row[col["name"]]) for row in months.rows))
    drawn = 0
    for k, (node, name) in enumerate(nodes):
        points = [(labels.index(str(row[col["month"]])), row[col[metric]])
                  for row in months.rows if row[col["node"]] == node and row[col[metric]] is not None]
        if not points:
            continue
        total = name == TOTAL
        xs, ys = [x for x, _ in points], [float(y) for _, y in points]
        line = ax.plot(xs, ys, marker="o", label=words["total"] if total else name, color="black" if total else PALETTE[k % len(PALETTE)],
                       linewidth=2.4 if total else 1.2, linestyle="--" if total else "-",
                       clip_on=False)[0]  # no clip path: its SVG id would differ from one drawing to the next
        line.set_gid(f"rate-{metric}-{node}")
        drawn += 1
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_ylim(*((0, 105) if metric != "mean_satisfaction" else (0, 5.3)))
    ax.spines[["top", "right"]].set_visible(False)
    titles = TITLES_ZH if words is WORDS["zh"] else TITLES
    ax.set_title(titles.get(metric, metric), loc="left", fontweight="bold")
    if drawn:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)
    else:
        ax.text(0.5, 0.5, words["nothing"], ha="center", va="center",
                transform=ax.transAxes, gid=f"rate-{metric}-none")


def write_chart(found: Rollup, path: str | Path, lang: str = "en") -> Path:
    """Write the chart to ``path`` in the format its extension names, its words in ``lang`` (``ChartError``:
    nothing written)."""
    target = Path(path)
    target.write_bytes(draw(found, chart_format(target), lang))
    return target


__all__ = ["draw", "write_chart"]
