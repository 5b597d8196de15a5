"""An SVG chart of an assessment: stars per node, and each score's components as bars.

Written by hand (no plotting dependency): the file is plain SVG 1.1 that any
browser opens, with CJK labels (the font list prefers common Chinese fonts).
Every bar carries ``class`` and ``data-*`` attributes (node, metric, value) so
tests and tools can read the chart back.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .rating import Assessment
from .scoring import shown

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac")
PENALTY = "#e15759"
ROW = 26
LABEL = 220
BAR = 480
TOP_STARS = 5


def render_svg(assessment: Assessment) -> str:
    """The chart as an SVG document (a string)."""
    ratings = assessment.ratings
    metrics = list(dict.fromkeys(t.metric for r in ratings for t in r.terms if t.kind == "weight"))
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    most_stars = max([TOP_STARS, *(r.stars for r in ratings)])
    out: list[str] = []
    y = 30
    out.append(_text(10, y, f"{assessment.period} 星级 stars per node", size=16, weight="bold"))
    y += 14
    for r in ratings:
        width = BAR * r.stars / most_stars
        out.append(_text(10, y + 17, f"{r.name} ({r.node})"))
        out.append(
            f'<rect class="stars" data-node={quoteattr(r.node)} data-stars="{r.stars}" x="{LABEL}" y="{y + 4}" '
            f'width="{width:.1f}" height="{ROW - 8}" fill="#f1c40f"/>'
        )
        out.append(_text(LABEL + width + 6, y + 17, "★" * r.stars + f" {r.stars}"))
        y += ROW
    y += 30
    out.append(_text(10, y, f"{assessment.period} 得分构成 score components", size=16, weight="bold"))
    y += 14
    for r in ratings:
        scale = BAR / r.max_score if r.max_score else 0.0
        out.append(_text(10, y + 17, f"{r.name} ({r.node})"))
        x = float(LABEL)
        for t in r.terms:
            if t.kind != "weight" or t.points <= 0:
                continue
            width = float(t.points) * scale
            out.append(
                f'<rect class="component" data-node={quoteattr(r.node)} data-metric={quoteattr(t.metric)} '
                f'data-points="{shown(t.points)}" x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" '
                f'fill="{colours[t.metric]}"><title>{escape(t.metric)}: {shown(t.points)} ({escape(str(t.rule))})'
                "</title></rect>"
            )
            x += width
        lost = float(r.penalty_points)
        if lost > 0:
            width = min(lost * scale, x - LABEL)
            out.append(
                f'<rect class="penalty" data-node={quoteattr(r.node)} data-points="{shown(-r.penalty_points)}" '
                f'x="{x - width:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" fill="{PENALTY}" '
                'fill-opacity="0.6"/>'
            )
        out.append(_text(LABEL + BAR + 8, y + 17, f"{shown(r.score)} / {r.max_score:g}"))
        y += ROW
    y += 20
    x = 10.0
    for metric, colour in [*colours.items(), ("penalties 扣分", PENALTY)]:
        out.append(f'<rect class="legend" x="{x:.0f}" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, y + 11, metric, size=12))
        x += 40 + 8 * len(metric)
    height = y + 30
    width = LABEL + BAR + 120
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={quoteattr(FONT)} font-size="13">\n'
        f'<rect width="{width}" height="{height}" fill="white"/>\n'
    )
    return head + "\n".join(out) + "\n</svg>\n"


def write_chart(assessment: Assessment, path: str | Path) -> Path:
    """Write the chart to ``path`` (UTF-8 SVG) and return the path."""
    target = Path(path)
    target.write_text(render_svg(assessment), encoding="utf-8")
    return target


def _text(x: float, y: float, text: str, *, size: int = 13, weight: str = "normal") -> str:
    return f'<text x="{x:.1f}" y="{y}" font-size="{size}" font-weight="{weight}">{escape(text)}</text>'
