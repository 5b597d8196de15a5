"""docs/benchmarks.md's "Targets at a glance": each row says what the section it links to says.

The table at the top of the page is what the owner reads; the dated blocks below it are where each figure was
measured.  A figure copied wrongly, or a link to a section renamed since, would make the table say what no
measurement said: every link must reach a heading of the page, and every number of a row's figure and baseline
must be written in a section the row links to.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "benchmarks.md"
TITLE = "## Targets at a glance"
COLUMNS = ["target", "latest figure", "baseline, same run", "ratio", "verdict", "measured (tree, load)", "detail"]


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading: lower case, punctuation dropped, spaces to -."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def sections(page: str) -> dict[str, str]:
    """Each heading's anchor and its text, up to the next heading of its level or above."""
    found = list(re.finditer(r"^(#{2,6}) (.+)$", page, re.MULTILINE))
    out: dict[str, str] = {}
    for i, match in enumerate(found):
        level = len(match.group(1))
        end = next((m.start() for m in found[i + 1:] if len(m.group(1)) <= level), len(page))
        out[slug(match.group(2))] = page[match.start():end]
    return out


def table_rows(page: str) -> list[list[str]]:
    start = page.index(TITLE)
    end = page.index("\n## ", start + len(TITLE))
    lines = [line for line in page[start:end].splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == COLUMNS, header
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def numbers(text: str) -> set[str]:
    """The figures written in a cell (thousands' commas dropped), leaving out those of issue numbers."""
    text = re.sub(r"#\d+", "", text)
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def written_in(number: str, text: str) -> bool:
    plain = text.replace(",", "")
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", plain) is not None


def test_the_targets_table_is_the_page_s_first_section() -> None:
    page = PAGE.read_text(encoding="utf-8")
    first = re.search(r"^## .+$", page, re.MULTILINE)
    assert first is not None and first.group(0) == TITLE


def test_every_row_links_to_a_section_that_holds_its_figures() -> None:
    page = PAGE.read_text(encoding="utf-8")
    anchors = sections(page)
    rows = table_rows(page)
    assert len(rows) >= 10
    for row in rows:
        assert len(row) == len(COLUMNS), row
        target, figure, baseline, _ratio, verdict, _when, detail = row
        assert verdict.startswith(("met", "**not met**")), (target, verdict)
        links = re.findall(r"\]\(#([^)]+)\)", detail)
        assert links, (target, detail)
        for link in links:
            assert link in anchors, f"{target}: no heading of the page has the anchor #{link}"
        linked = "\n".join(anchors[link] for link in links)
        for number in numbers(figure) | numbers(baseline):
            assert written_in(number, linked), f"{target}: {number} is not in the sections it links to"


def test_a_figure_missing_from_its_section_is_caught() -> None:
    """The check above fails where it should: a figure the linked section does not hold."""
    page = PAGE.read_text(encoding="utf-8")
    anchors = sections(page)
    assert written_in("130.6", anchors["district-a-year-in-one-store"])
    assert not written_in("130.7", anchors["district-a-year-in-one-store"])
    assert not written_in("130", "130.6 s")  # (a figure's leading digits are not the figure)
    assert slug("What-if (`gridcore diff`) under a changed district base") == (
        "what-if-gridcore-diff-under-a-changed-district-base")
