"""What every chart needs: the file formats, a font that draws Chinese, one style, reproducible bytes.

Charts are drawn with matplotlib (imported only when a chart is drawn).  The
format follows the file's extension: ``.png`` (a raster image), ``.svg``
(text kept as text, so names stay searchable) or ``.pdf``; any other
extension is refused before anything is drawn.  Node names are Chinese, so a
PNG or PDF needs a font with CJK glyphs: one is looked up among the installed
fonts (Noto Sans CJK, Source Han Sans, WenQuanYi, ...; a font installed after
matplotlib cached its font list is found by its file in the usual font folders,
``FONT_FOLDERS``), or named by the ``GRIDCORE_CHART_FONT`` environment variable
(a font file).  Without one, a
PNG or PDF is refused with a message saying what to install, never drawn with
empty boxes for every name.  The same chart gives the same bytes (no dates in
the file, a fixed SVG hash salt).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GridcoreError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
#: Where fonts are installed (Linux, macOS, Windows): searched for a CJK font's file when matplotlib's font
#: list, cached before the font was installed, does not know it.
FONT_FOLDERS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts", "/Library/Fonts",
    "~/Library/Fonts", "/System/Library/Fonts", "%WINDIR%/Fonts", "%LOCALAPPDATA%/Microsoft/Windows/Fonts",
)  # fmt: skip
#: How the files of the families above are named (lower case, by the start of the name), best first.
CJK_FILES = (
    "notosanscjk", "notosanssc", "sourcehansans", "wqy-microhei", "wqy-zenhei", "wenquanyi", "droidsansfallback",
    "msyh", "pingfang", "simhei", "notoserifcjk", "sourcehanserif", "uming",
)  # fmt: skip
#: A character every Chinese grid name needs (网, "grid").
PROBE = "网"
#: Colours of series, in order.
PALETTE = ("#4e79a7", "#59a14f", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac")


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
def installed_cjk_font() -> str | None:
    """An installed font file that draws Chinese, or None."""
    from matplotlib import font_manager

    fonts = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in fonts and _has_glyph(fonts[family]):
            return fonts[family]
    # Any other installed font that draws Chinese will do.
    for name, fname in sorted(fonts.items()):
        if ("CJK" in name or "Hei" in name or "Han" in name) and _has_glyph(fname):
            return fname
    # Installed after matplotlib cached its font list: found by its file, and added to the list.
    for path in cjk_font_files():
        if _has_glyph(str(path)):
            font_manager.fontManager.addfont(str(path))
            return str(path)
    return None


def cjk_font_files(folders: tuple[str, ...] = FONT_FOLDERS) -> list[Path]:
    """The font files in ``folders`` (and their sub-folders) named as a CJK family's are (``CJK_FILES``):
    the best family first, a regular face before a bold one."""
    found = []
    for folder in folders:
        root = Path(os.path.expandvars(os.path.expanduser(folder)))
        if "%" in str(root) or not root.is_dir():
            continue  # (a variable not set: %WINDIR% off Windows)
        for path in root.rglob("*"):
            name = path.name.lower()
            if path.suffix.lower() in (".ttc", ".ttf", ".otf") and name.startswith(CJK_FILES):
                rank = next(at for at, start in enumerate(CJK_FILES) if name.startswith(start))
                found.append((rank, "regular" not in name, str(path), path))
    return [path for *_, path in sorted(found)]


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
    found = installed_cjk_font()
    if found is None:
        raise ChartError(
            "no font with Chinese characters is installed, so node names would be drawn as empty "
            "boxes: install one (Debian: apt-get install fonts-noto-cjk) or set "
            f"{FONT_VARIABLE} to a font file, or write the chart as .svg "
            "(未找到中文字体：请安装 fonts-noto-cjk，或改用 .svg)"
        )
    return found


@contextmanager
def chart_style(fmt: str) -> Iterator[None]:
    """Within the block, figures draw names with the CJK font (``ChartError`` for a PNG or PDF without one)."""
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


def figure_bytes(figure: Figure, fmt: str) -> bytes:
    """``figure`` saved as a ``png``, ``svg`` or ``pdf`` file's bytes, with no creation date in it."""
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
    # no creation dates: the same chart gives the same file
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None, "ModDate": None}
    return {}


__all__ = [
    "CJK_FAMILIES",
    "FONT_VARIABLE",
    "FORMATS",
    "PALETTE",
    "ChartError",
    "chart_format",
    "chart_style",
    "check_target",
    "cjk_font",
    "cjk_font_files",
    "figure_bytes",
    "installed_cjk_font",
]
