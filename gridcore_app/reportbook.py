"""Reports as Excel workbooks: one sheet per report, Chinese headings, text kept as text.

``write_tables(path, [("积分公示 2025-03", table), ...])`` writes each
``gridcore.Table`` on its own sheet: the report's title in the first row, the
headings in the second (Chinese, then the column's id: ``获得积分 earned``),
the rows below and the notes after a blank row.  Numbers stay numbers; text is
stored as text, never as a formula, whatever it starts with (a member named
``=HYPERLINK(...)`` shows as that text and links nowhere), and terminal
control characters, which a workbook cannot hold, are removed.

``gridcore report NAME --out board.xlsx`` and ``gridcore demo`` (its
``reports/reports.xlsx``) use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from gridcore.errors import chinese_first_line, has_chinese
from gridcore.periods import label_zh
from gridcore.reports import Table, bilingual_header, display_width, printable

from . import atomic

#: What Excel forbids in sheet names, and their length limit.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_SHEET_LENGTH = 31


def heading(column: str, table: Table | None = None) -> str:
    """A column's heading in a workbook: its Chinese name (``table``'s own headings first), then its id
    (``获得积分 earned``)."""
    return table.bilingual(column) if table is not None else bilingual_header(column)


def write_tables(path: Path | str, tables: Iterable[tuple[str, Table]], lang: str = "en") -> Path:
    """Write each (sheet name, table) on its own sheet of a new workbook at ``path`` (atomically); for staff
    reading Chinese (``lang="zh"``: ``gridcore --lang zh report ... --out x.xlsx``, ``gridcore --lang zh demo``)
    each title and note Chinese first, as text under ``--lang zh`` says them."""
    said = chinese_first_line if lang == "zh" else _same
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for name, table in tables:
        sheet = book.create_sheet(_sheet_name(name, used))
        title = table.title_zh if lang == "zh" and table.title_zh else said(table.title)
        sheet.cell(1, 1, value=printable(title) or name).font = Font(bold=True)
        widths = [display_width(heading(c, table)) for c in table.columns]
        for c, column in enumerate(table.columns, 1):
            cell = sheet.cell(2, c)
            _put(cell, heading(column, table))
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
        for r, row in enumerate(table.shown_rows(), 3):
            for c, value in enumerate(row, 1):
                shown = _put(sheet.cell(r, c), value)
                if c <= len(widths):
                    widths[c - 1] = max(widths[c - 1], min(60, display_width(shown)))
        after = 3 + len(table.rows) + 1
        for n, note in enumerate(table.notes):
            _put(sheet.cell(after + n, 1), said(note))
        for c, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(c)].width = width + 2
        sheet.freeze_panes = "A3"
    if not used:
        book.create_sheet("(empty)")
    return atomic.save_book(book, Path(path))


def sheet_name_zh(table: Table, name: str, period: str = "") -> str:
    """The sheet name staff reading Chinese see for ``table``: the Chinese name its title leads with
    (``积分公示：银泉社区（yq），2025-03`` -> ``积分公示``; ``name``, a report's id, when it has none) and the
    period in Chinese (``2025-03`` -> ``积分公示 2025年3月``).  ``write_tables`` then keeps it within Excel's
    limits (31 characters, none of ``[]:*?/\\``, unique)."""
    title = table.title_zh or chinese_first_line(table.title)
    lead = _LEAD.match(title.strip())
    said = lead[0] if lead is not None and has_chinese(lead[0]) else name
    return f"{said} {label_zh(period)}" if period else said


#: A title's leading name: up to its first bracket, colon, comma or space.
_LEAD = re.compile(r"[^\s（(：:，,]+")


def _same(text: str) -> str:
    return text


def _put(cell: Any, value: Any) -> str:
    """Store ``value`` in ``cell`` (numbers as numbers, anything else as inert text); return it as shown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        cell.value = value
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        cell.value = value
        return str(value)
    if isinstance(value, Fraction):
        cell.value = float(value)
        return str(cell.value)
    text = printable(str(value))
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever it starts with
    if text[:1] in ("=", "+", "-", "@"):
        cell.quotePrefix = True  # and Excel keeps it text when someone edits it
    return text


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub("-", printable(name)).strip("'") or "report"
    base = base[:_SHEET_LENGTH]
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = base[: _SHEET_LENGTH - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate
