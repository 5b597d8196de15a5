"""Charts of an assessment: a real PNG with Chinese names, SVG, and refusals for what cannot be drawn."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib
import pytest
from click.testing import CliRunner
from test_assessment_cli import store  # noqa: F401  (the fixture: a January of Yinquan's work)

from gridcore import Engine
from gridcore_app.cli import main_group
from gridcore_assessment.chart import FONT_VARIABLE, ChartError, installed_cjk_font, write_chart
from gridcore_assessment.rating import assess

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NO_CJK = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
needs_cjk = pytest.mark.skipif(
    installed_cjk_font() is None, reason="no CJK font installed here (Debian: fonts-noto-cjk)"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.output


@needs_cjk
def test_a_png_chart_is_a_real_png_with_every_chinese_name_drawn(store: str, tmp_path: Path) -> None:  # noqa: F811
    target = tmp_path / "星级.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, output = run("assess", "--store", store, "--period", "2025-01", "--chart", str(target), "--dry-run")
    assert code == 0, output
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC)
    # a glyph the font lacks is drawn as an empty box, and matplotlib says so
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


def test_an_extension_it_cannot_write_is_refused_before_anything_is_done(store: str, tmp_path: Path) -> None:  # noqa: F811
    target = tmp_path / "stars.gif"
    code, output = run("assess", "--store", store, "--period", "2025-01", "--chart", str(target))
    assert code == 1
    assert "the extension must be one of .png, .svg, .pdf" in output and "扩展名" in output
    assert not target.exists()
    assert "Star ratings" not in output  # refused before rating
    code, _ = run("assess", "history", "--store", store)
    assert code == 0


def test_without_a_cjk_font_a_png_is_refused_not_drawn_with_boxes(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv(FONT_VARIABLE, NO_CJK)
    target = tmp_path / "stars.png"
    code, output = run("assess", "--store", store, "--period", "2025-01", "--chart", str(target), "--dry-run")
    assert code == 1 and "has no Chinese characters" in output
    assert not target.exists()
    # SVG keeps names as text for the viewer's fonts, so it is still written
    code, output = run("assess", "chart", "--store", store, "--period", "2025-01", "--output",
                       str(tmp_path / "stars.svg"))
    assert code == 0, output
    assert "第一网格" in (tmp_path / "stars.svg").read_text(encoding="utf-8")


def test_the_api_refuses_a_format_it_cannot_write(store: str, tmp_path: Path) -> None:  # noqa: F811
    with Engine.open(store=store) as engine:
        result = assess(engine, "2025-01", save=False)
        with pytest.raises(ChartError, match="extension must be one of"):
            write_chart(result, tmp_path / "stars.bmp")
        assert write_chart(result, tmp_path / "stars.svg").read_bytes().startswith(b"<?xml")
    assert not (tmp_path / "stars.bmp").exists()


def test_a_charts_words_are_in_the_clis_language_one_at_a_time(store: str, tmp_path: Path) -> None:  # noqa: F811
    """``gridcore --lang zh assess --chart``: titles and legend Chinese (各节点星级, 得分构成, 扣分), no English;
    in English: English alone (stars per node, score components, penalties; this ruleset names its metrics in
    Chinese, 巡查覆盖率, and the legend names each by its name)."""
    said = {}
    for lang in ("zh", "en"):
        target = tmp_path / f"{lang}.svg"
        code, output = run("--lang", lang, "assess", "--store", store, "--period", "2025-01", "--chart", str(target),
                           "--dry-run")
        assert code == 0, output
        said[lang] = target.read_text(encoding="utf-8")
    assert "各节点星级" in said["zh"] and "得分构成" in said["zh"] and "扣分" in said["zh"]
    shown = re.sub(r'id="[^"]*"', "", said["zh"])  # (what is drawn: the marks' ids name the metrics)
    assert re.findall(r"stars per node|score components|patrol_coverage|penalties", shown) == []
    assert "stars per node" in said["en"] and "score components" in said["en"] and "penalties" in said["en"]
    assert "各节点星级" not in said["en"] and "得分构成" not in said["en"] and "扣分" not in said["en"]
