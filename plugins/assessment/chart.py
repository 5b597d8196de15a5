"""A chart of an assessment, drawn with matplotlib: stars per node, and each score's components.

The format follows the file's extension (``.png``, ``.svg`` or ``.pdf``), and
Chinese names need a CJK font for a PNG or PDF: both as ``gridcore.charts``
says (a ``ChartError`` before anything is drawn otherwise).

Every bar carries an SVG id (``stars-<node>``, ``component-<node>-<metric>``,
``penalty-<node>``) so tests and tools can read an SVG chart back.  Scores
are printed rounded (``scoring.shown``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gridcore.charts import (
    FONT_VARIABLE,
    PALETTE,
    ChartError,
    chart_format,
    chart_style,
    check_target,
    figure_bytes,
    installed_cjk_font,
)

from .headings import HEADINGS_ZH
from .rating import Assessment
from .scoring import shown

if TYPE_CHECKING:
    from gridcore.hierarchy import Hierarchy

    from .scoring import Rating

PENALTY = "#e15759"
STARS = "#f1c40f"
ROW_INCHES = 0.32


def rated_labels(hierarchy: Hierarchy, ratings: Sequence[Rating]) -> dict[str, str]:
    """Each rated node as staff tell it apart: its name, or its parent's name and its own where other
    rated nodes bear the same name (a street's every community has its 第一网格: ``东湖社区 / 第一网格``,
    as a roll-up's child and name)."""
    names = Counter(r.name for r in ratings)
    labels: dict[str, str] = {}
    for r in ratings:
        parent = hierarchy.parent(r.node) if names[r.name] > 1 and r.node in hierarchy else None
        labels[r.node] = f"{parent.name} / {r.name}" if parent is not None else r.name
    return labels


def draw(assessment: Assessment, fmt: str, labels: Mapping[str, str] | None = None, lang: str = "en") -> bytes:
    """The chart as the bytes of a ``png``, ``svg`` or ``pdf`` file; ``labels``: each node's name as
    the chart shows it (``rated_labels``; default: its own name), its id beside it.  Its titles and legend
    in English (``stars per node``, a metric by its name), in Chinese for ``lang="zh"`` (``各节点星级``, a
    metric by its Chinese heading, its name where it has none): one language at a time."""
    zh = lang == "zh"
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    ratings = list(assessment.ratings)
    metrics = list(dict.fromkeys(t.metric for r in ratings for t in r.terms if t.kind == "weight"))
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    rows = max(len(ratings), 1)
    with chart_style(fmt):
        figure = Figure(figsize=(10, 2.6 + 2 * rows * ROW_INCHES), layout="constrained")
        stars_ax, score_ax = figure.subplots(2, 1, height_ratios=[1, 1])
        shown_as = labels or {}
        ticks = [f"{shown_as.get(r.node, r.name)} ({r.node})" for r in ratings]
        places = list(range(len(ratings)))

        # one ``barh`` an axis, not one a bar (each call updates the axis's limits: 3,000 bars a district's
        # week), and each title at y=1.0, where matplotlib places it above these axes' bottom ticks anyway
        # (its placement measures every tick label again): the same file, byte for byte, for less CPU
        most = max([5, *(r.stars for r in ratings)])
        if ratings:
            bars = stars_ax.barh(places, [r.stars for r in ratings], color=STARS, height=0.7)
            for bar, r in zip(bars, ratings):
                bar.set_gid(f"stars-{r.node}")
        for y, r in zip(places, ratings):
            stars_ax.text(r.stars + 0.08, y, "★" * r.stars + f" {r.stars}", va="center", fontsize=9)
        stars_ax.set_xlim(0, most + 1.2)
        stars_ax.set_title(f"{assessment.named} {'各节点星级' if zh else 'stars per node'}", loc="left",
                           fontweight="bold", y=1.0)

        top = max([1.0, *(r.max_score for r in ratings)])
        parts: list[tuple[int, float, float, str, str]] = []  # each bar: its row, width, left, colour, gid
        cuts: set[int] = set()  # the penalties among them (drawn at alpha 0.6)
        for y, r in zip(places, ratings):
            left = 0.0
            for t in r.terms:
                if t.kind != "weight" or t.points <= 0:
                    continue
                width = float(t.points)
                parts.append((y, width, left, colours[t.metric], f"component-{r.node}-{t.metric}"))
                left += width
            lost = float(r.penalty_points)
            if lost > 0:
                width = min(lost, left)
                cuts.add(len(parts))
                parts.append((y, width, left - width, PENALTY, f"penalty-{r.node}"))
        if parts:
            rows_of, widths, lefts, fills, gids = zip(*parts)
            bars = score_ax.barh(rows_of, widths, left=lefts, color=fills, height=0.7)
            for i, (bar, gid) in enumerate(zip(bars, gids)):
                bar.set_gid(gid)
                if i in cuts:
                    bar.set_alpha(0.6)
        for y, r in zip(places, ratings):
            score_ax.text(top * 1.01, y, f"{shown(r.score)} / {r.max_score:g}", va="center", fontsize=9)
        score_ax.set_xlim(0, top * 1.18)
        score_ax.set_title(f"{assessment.named} {'得分构成' if zh else 'score components'}", loc="left",
                           fontweight="bold", y=1.0)

        for ax in (stars_ax, score_ax):
            ax.set_yticks(places, ticks)
            ax.invert_yaxis()
            ax.spines[["top", "right"]].set_visible(False)
        # each metric by its Chinese (巡查覆盖率) under zh, by its id (patrol_coverage) otherwise
        handles = [Patch(color=c, label=HEADINGS_ZH.get(m, m) if zh else m)
                   for m, c in colours.items()]
        handles.append(Patch(color=PENALTY, alpha=0.6, label="扣分" if zh else "penalties"))
        # the legend sits inside the canvas, under the bars, however many metrics there are
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)

        return figure_bytes(figure, fmt)


def render_svg(assessment: Assessment, labels: Mapping[str, str] | None = None, lang: str = "en") -> str:
    """The chart as an SVG document (a string)."""
    return draw(assessment, "svg", labels, lang).decode("utf-8")


def write_chart(assessment: Assessment, path: str | Path, labels: Mapping[str, str] | None = None,
                lang: str = "en") -> Path:
    """Write the chart to ``path`` in the format its extension names, its words in ``lang``; return the path.

    ``ChartError`` (nothing written) for an extension other than ``.png``,
    ``.svg`` or ``.pdf``, or for a PNG or PDF when no font can draw Chinese.
    """
    target = Path(path)
    data = draw(assessment, chart_format(target), labels, lang)
    target.write_bytes(data)
    return target


__all__ = ["FONT_VARIABLE", "ChartError", "check_target", "draw", "installed_cjk_font", "rated_labels", "render_svg",
           "write_chart"]
