"""A chart of an assessment, drawn with matplotlib: stars per node, and each score's components.

The format follows the file's extension: ``.png`` (a raster image), ``.svg``
(text kept as text, so the names stay searchable) or ``.pdf``; any other
extension is refused before anything is drawn.  Node names are Chinese, so a
PNG or PDF needs a font with CJK glyphs: one is looked up among the installed
fonts (Noto Sans CJK, Source Han Sans, WenQuanYi, ...), or named by the
``GRIDCORE_CHART_FONT`` environment variable (a font file).  Without one, a
PNG or PDF is refused with a message saying what to install, never drawn with
empty boxes for every name.

Every bar carries an SVG id (``stars-<node>``, ``component-<node>-<metric>``,
``penalty-<node>``) so tests and tools can read an SVG chart back.  Scores
are printed rounded (``scoring.shown``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from gridcore.errors import GridcoreError

from .rating import Assessment
from .scoring import shown

#: Extensions a chart can be written as, and matplotlib's name for each format.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Environment variable naming a font file with CJK glyphs to draw names with.
FONT_VARIABLE = "GRIDCORE_CHART_FONT"
#: Font families known to carry simplified Chinese, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "Microsoft YaHei",
    "PingFang SC", "SimHei", "Noto Serif CJK SC", "AR PL UMing CN",
)  # fmt: skip
#: A character every Chinese grid name needs (网, "grid").
PROBE = "网"
PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac")
PENALTY = "#e15759"
STARS = "#f1c40f"
ROW_INCHES = 0.32


class ChartError(GridcoreError):
    """A chart cannot be written: an unknown extension, or no font for Chinese names."""


def chart_format(path: str | Path) -> str:
    """The format a chart at ``path`` is written in; ``ChartError`` for an extension it cannot write."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise ChartError(
            f"cannot write a chart as {Path(path).name!r}: the extension must be one of {known} "
            f"(图表文件的扩展名须为 {known})"
        )
    return FORMATS[suffix]


def check_target(path: str | Path) -> None:
    """Refuse, before anything is done, a chart that could not be written (extension, font)."""
    if chart_format(path) != "svg":
        cjk_font()


@cache
def _installed_cjk_font() -> str | None:
    from matplotlib import font_manager

    fonts = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in fonts and _has_glyph(fonts[family]):
            return fonts[family]
    # Any other installed font that draws Chinese will do.
    for name, fname in sorted(fonts.items()):
        if ("CJK" in name or "Hei" in name or "Han" in name) and _has_glyph(fname):
            return fname
    return None


def _has_glyph(fname: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        return ord(PROBE) in FT2Font(fname).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False


def cjk_font() -> str:
    """The font file names are drawn with; ``ChartError`` saying what to install when there is none."""
    named = os.environ.get(FONT_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise ChartError(f"{FONT_VARIABLE}={named}: no such font file")
        if not _has_glyph(named):
            raise ChartError(
                f"{FONT_VARIABLE}={named}: this font has no Chinese characters, so node names "
                "would be drawn as empty boxes; name a CJK font (e.g. NotoSansCJK-Regular.ttc)"
            )
        return named
    found = _installed_cjk_font()
    if found is None:
        raise ChartError(
            "no font with Chinese characters is installed, so node names would be drawn as empty "
            "boxes: install one (Debian: apt-get install fonts-noto-cjk) or set "
            f"{FONT_VARIABLE} to a font file, or write the chart as .svg "
            "(未找到中文字体：请安装 fonts-noto-cjk，或改用 .svg)"
        )
    return found


@contextmanager
def _style(fmt: str) -> Iterator[None]:
    import matplotlib
    from matplotlib import font_manager

    families: list[str] = []
    try:
        path = cjk_font()
    except ChartError:
        if fmt != "svg":
            raise
        # SVG keeps its text as text: the viewer's fonts draw the names
        families = list(CJK_FAMILIES)
    else:
        font_manager.fontManager.addfont(path)
        families = [font_manager.FontProperties(fname=path).get_name()]
    with matplotlib.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [*families, "DejaVu Sans"],
            "svg.fonttype": "none",  # names stay text in an SVG
            "pdf.fonttype": 42,  # the CJK font is embedded in a PDF
            "axes.unicode_minus": False,
            "svg.hashsalt": "gridcore",  # the same chart gives the same file
        }
    ):
        yield


def draw(assessment: Assessment, fmt: str) -> bytes:
    """The chart as the bytes of a ``png``, ``svg`` or ``pdf`` file."""
    import logging

    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    ratings = list(assessment.ratings)
    metrics = list(dict.fromkeys(t.metric for r in ratings for t in r.terms if t.kind == "weight"))
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    rows = max(len(ratings), 1)
    with _style(fmt):
        figure = Figure(figsize=(10, 2.6 + 2 * rows * ROW_INCHES), layout="constrained")
        stars_ax, score_ax = figure.subplots(2, 1, height_ratios=[1, 1])
        labels = [f"{r.name} ({r.node})" for r in ratings]
        places = list(range(len(ratings)))

        most = max([5, *(r.stars for r in ratings)])
        for y, r in zip(places, ratings):
            bar = stars_ax.barh(y, r.stars, color=STARS, height=0.7)[0]
            bar.set_gid(f"stars-{r.node}")
            stars_ax.text(r.stars + 0.08, y, "★" * r.stars + f" {r.stars}", va="center", fontsize=9)
        stars_ax.set_xlim(0, most + 1.2)
        stars_ax.set_title(f"{assessment.named} 星级 stars per node", loc="left", fontweight="bold")

        top = max([1.0, *(r.max_score for r in ratings)])
        for y, r in zip(places, ratings):
            left = 0.0
            for t in r.terms:
                if t.kind != "weight" or t.points <= 0:
                    continue
                width = float(t.points)
                part = score_ax.barh(y, width, left=left, color=colours[t.metric], height=0.7)[0]
                part.set_gid(f"component-{r.node}-{t.metric}")
                left += width
            lost = float(r.penalty_points)
            if lost > 0:
                width = min(lost, left)
                cut = score_ax.barh(y, width, left=left - width, color=PENALTY, alpha=0.6, height=0.7)[0]
                cut.set_gid(f"penalty-{r.node}")
            score_ax.text(top * 1.01, y, f"{shown(r.score)} / {r.max_score:g}", va="center", fontsize=9)
        score_ax.set_xlim(0, top * 1.18)
        score_ax.set_title(f"{assessment.named} 得分构成 score components", loc="left", fontweight="bold")

        for ax in (stars_ax, score_ax):
            ax.set_yticks(places, labels)
            ax.invert_yaxis()
            ax.spines[["top", "right"]].set_visible(False)
        handles = [Patch(color=c, label=m) for m, c in colours.items()]
        handles.append(Patch(color=PENALTY, alpha=0.6, label="penalties 扣分"))
        # the legend sits inside the canvas, under the bars, however many metrics there are
        figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)

        out = io.BytesIO()
        quiet = logging.getLogger("matplotlib.font_manager")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            figure.savefig(out, format=fmt, dpi=110, metadata=_metadata(fmt))
        finally:
            quiet.setLevel(level)
    return out.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # no creation dates: the same assessment gives the same file
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None, "ModDate": None}
    return {}


def render_svg(assessment: Assessment) -> str:
    """The chart as an SVG document (a string)."""
    return draw(assessment, "svg").decode("utf-8")


def write_chart(assessment: Assessment, path: str | Path) -> Path:
    """Write the chart to ``path`` in the format its extension names; return the path.

    ``ChartError`` (nothing written) for an extension other than ``.png``,
    ``.svg`` or ``.pdf``, or for a PNG or PDF when no font can draw Chinese.
    """
    target = Path(path)
    data = draw(assessment, chart_format(target))
    target.write_bytes(data)
    return target
