"""A font that draws Chinese, found when matplotlib's font list does not know it.

matplotlib caches the list of installed fonts the first time it runs.  A CJK font
installed after that (``apt-get install fonts-noto-cjk`` after a first chart)
is not in the list: ``gridcore.charts.installed_cjk_font`` finds its file in the
usual font folders and adds it, rather than refusing a PNG for want of a font.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from matplotlib import font_manager

from gridcore import charts

#: Noto CJK's files as Debian's fonts-noto-cjk installs them (found here without gridcore's search).
NOTO = sorted(Path("/usr/share/fonts").glob("**/NotoSansCJK-Regular.tt[cf]")) if Path("/usr/share/fonts").is_dir() \
    else []
needs_noto = pytest.mark.skipif(not NOTO, reason="no Noto Sans CJK file here (Debian: fonts-noto-cjk)")


@pytest.fixture
def stale_font_list(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """matplotlib's font list as cached before a CJK font was installed: none of its fonts draws Chinese."""
    kept = [font for font in font_manager.fontManager.ttflist if not charts._has_glyph(font.fname)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)
    charts.installed_cjk_font.cache_clear()
    yield
    charts.installed_cjk_font.cache_clear()


@needs_noto
def test_a_cjk_font_missing_from_matplotlibs_cached_list_is_found_by_its_file(stale_font_list: None) -> None:
    assert not any("CJK" in font.name for font in font_manager.fontManager.ttflist)
    found = charts.installed_cjk_font()
    assert found == str(NOTO[0])
    # added to matplotlib's list: a chart names it by its family, and draws its characters
    assert font_manager.FontProperties(fname=found).get_name() in [
        font.name for font in font_manager.fontManager.ttflist if font.fname == found]
    assert charts.cjk_font() == found


@needs_noto
def test_a_png_chart_is_drawn_with_the_font_found_by_its_file(stale_font_list: None, tmp_path: Path) -> None:
    import warnings

    from matplotlib.figure import Figure

    with charts.chart_style("png"), warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the font is a warning: none here
        figure = Figure()
        figure.add_subplot().set_title("第一网格")
        data = charts.figure_bytes(figure, "png")
    assert data.startswith(b"\x89PNG")


def test_the_search_ranks_files_by_family_and_face_and_skips_missing_folders(tmp_path: Path) -> None:
    """Sans before serif, regular before bold, other fonts left out; a folder that is not there (or a
    variable that is not set, ``%WINDIR%`` off Windows) is passed over."""
    for name in ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "DejaVuSans.ttf", "deep/NotoSansCJK-Regular.ttc",
                 "wqy-microhei.ttc", "NotoSansCJK-Regular.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = charts.cjk_font_files((str(tmp_path / "none"), "%NO_SUCH_VARIABLE%/Fonts", str(tmp_path)))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "deep/NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "wqy-microhei.ttc", "NotoSerifCJK-Regular.ttc"]
