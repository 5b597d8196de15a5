"""Reports: named tables that plugins contribute, rendered as text, CSV or JSON.

What leaves gridcore for a terminal or a spreadsheet is made safe on the way
out, whatever a roster or a log put in a name or a note:

* every CSV starts with a UTF-8 byte-order mark, so Chinese Excel opens it as
  UTF-8 instead of guessing GBK;
* a text cell that a spreadsheet would run as a formula (it starts with
  ``= + - @``, a tab or a carriage return) is written with a leading
  apostrophe (``spreadsheet_text``), the way Excel itself marks text, so
  ``=HYPERLINK(...)`` in a member's name shows as text, never as a live link;
* terminal control sequences (``ESC [ ...``, other C0 and C1 controls but tab
  and line breaks) are removed from text and CSV output (``printable``), so a
  name cannot clear a screen or retitle a window.

A table's ``headings`` give its columns' Chinese headings (the plugin that
builds it names them; ``HEADERS_ZH`` those of gridcore's own tables), for
spreadsheets staff read (``Table.heading``). A table as text heads its columns
with a line of their Chinese above their ids; as CSV its header row holds the
ids (what scripts read), or with ``lang="zh"`` each column's Chinese and id
(``获得积分 earned``, as the workbooks head them: ``bilingual_header``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeAlias

from attrs import field

from .classes import frozen
from .errors import InvalidValueError, chinese_first_line

if TYPE_CHECKING:
    from .engine import Engine

FORMATS = ("text", "csv", "json")
#: The languages of a CSV's header row: the column ids (``en``), or each column's Chinese and id (``zh``).
LANGS = ("en", "zh")


class Format(str):
    """An output format (``text``, ``csv``, ``json``) as a command was given it, with ``lang``: the
    language of a CSV's header row (``gridcore ... --format csv --lang zh``). ``Table.render``
    takes it where it takes a format's name."""

    lang: str

    def __new__(cls, fmt: str, lang: str = "en") -> Self:
        made = super().__new__(cls, fmt)
        made.lang = lang
        return made

#: The UTF-8 byte-order mark every CSV starts with (Excel reads the file as UTF-8).
BOM = "\ufeff"

#: Characters that make a spreadsheet cell a formula (or a DDE call) when they lead it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# ESC-introduced sequences (CSI with its parameters, OSC up to BEL or ST, and
# two-character escapes), then any other C0/C1 control but tab and line breaks.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI: colours, cursor moves, screen clears
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-Z\\-_]"                   # other two-character escapes
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def printable(text: str) -> str:
    """``text`` without terminal control sequences (tab, newline and carriage return are kept)."""
    return _ESCAPES.sub("", text)


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a leading apostrophe when it would be a formula.

    A text that already starts with an apostrophe followed by such a character
    gets one more, so a reader that drops one leading apostrophe
    (``from_spreadsheet_text``) always gets back what was written.
    """
    if text.startswith(FORMULA_START) or (text.startswith("'") and text[1:2] in FORMULA_START + ("'",)):
        return "'" + text
    return text


def from_spreadsheet_text(text: str) -> str:
    """Undo ``spreadsheet_text``: drop the apostrophe that marked a formula-like text."""
    if text.startswith("'") and text[1:2] in FORMULA_START + ("'",):
        return text[1:]
    return text


def spreadsheet_cell(value: Any) -> Any:
    """A report value for a CSV cell: numbers as they are, text made printable and inert."""
    if isinstance(value, str):
        return spreadsheet_text(printable(value))
    return value


#: Chinese headings of the columns of gridcore's own tables (the hierarchy's and members' ids and
#: names, rulesets in force, API tokens); a plugin gives its columns' headings with its table
#: (``Table.headings``), and so do the application's roll-ups and what-if comparisons.
HEADERS_ZH: Mapping[str, str] = {
    "node": "节点编号", "name": "名称", "member": "成员编号", "month": "月份", "level": "层级",
    # rulesets in force, API tokens
    "effective": "生效时间", "subtree": "适用范围", "ruleset": "规则集", "file": "文件",
    "token": "令牌", "label": "备注", "issued": "签发时间", "revoked": "撤销时间",
}  # fmt: skip


def chinese_header(column: str, headings: Mapping[str, str] | None = None) -> str:
    """The Chinese heading of a report column: ``headings``' (a table's own), else the one gridcore
    gives that id in its own tables (``HEADERS_ZH``), else the column's id as it is."""
    if headings and column in headings:
        return headings[column]
    return HEADERS_ZH.get(column, column)


def bilingual_header(column: str, headings: Mapping[str, str] | None = None) -> str:
    """A column's heading for staff: its Chinese, then its id (``获得积分 earned``); the id alone if none."""
    zh = chinese_header(column, headings)
    return column if zh == column else f"{zh} {column}"


def _own_headings(headings: Mapping[str, str]) -> dict[str, str]:
    """A table's own copy of the headings it was given."""
    return dict(headings)


def _own_values(values: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """A table's own copy of the Chinese of its columns' values."""
    return {column: dict(chinese) for column, chinese in values.items()}


#: What a report's cell may hold: text, a number (exact: ``int``, ``Fraction`` or ``Decimal``; a
#: ``float`` only where a plugin computed a ratio for display), a date or time, or nothing (``None``,
#: an empty cell). Text shows it as it is, CSV writes it, JSON writes numbers as numbers and the
#: rest as text.
Cell: TypeAlias = str | int | float | Decimal | Fraction | date | None


def count_cell(value: Cell) -> int:
    """A count read back from a report's cell: an ``int`` as it is, an empty cell 0.

    Raises ``TypeError`` for a cell that holds no whole number (a text, a date, a fraction
    that is not whole), rather than guessing.
    """
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction | Decimal) and value == int(value):
        return int(value)
    raise TypeError(f"a report cell holds {value!r}, not a count")


@frozen
class Table:
    """A report's result: a title, column names and rows of plain values.

    ``headings`` gives the Chinese heading of columns by their id (``{"earned": "获得积分"}``):
    what text shows above the ids, and a CSV or workbook for staff before them. The plugin that
    builds a table names its own columns' Chinese there; a column it leaves out gets the heading
    gridcore gives that id in its own tables (``HEADERS_ZH``: ``node`` 节点编号, ``name`` 名称,
    ``member`` 成员编号 ...) or none. JSON keys stay the ids.

    ``title_zh``, the title staff reading Chinese see (text under ``zh``) when the plugin gives one; else the
    title Chinese first (``gridcore.errors.chinese_first_line``). JSON keeps ``title``.

    ``values`` gives the Chinese of the values a column holds, by column (``{"kind": {"earn": "获得"}}``):
    text, a CSV for staff (``lang="zh"``) and a workbook show such a value as its Chinese and the value
    (``获得 earn``); JSON and a CSV for scripts keep the value as stored.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...] = ()
    notes: tuple[str, ...] = ()
    headings: Mapping[str, str] = field(factory=dict, converter=_own_headings, hash=False)
    values: Mapping[str, Mapping[str, str]] = field(factory=dict, converter=_own_values, hash=False)
    title_zh: str = field(default="", kw_only=True)

    def heading(self, column: str) -> str:
        """The Chinese heading of ``column`` (its id when it has none)."""
        return chinese_header(column, self.headings)

    def bilingual(self, column: str) -> str:
        """``column``'s heading for staff: its Chinese, then its id (``获得积分 earned``); the id alone if none."""
        return bilingual_header(column, self.headings)

    def shown_rows(self) -> tuple[tuple[Cell, ...], ...]:
        """The rows as staff see them: a value ``values`` gives Chinese for shown as ``获得 earn``."""
        if not self.values:
            return self.rows
        chinese = [self.values.get(column, {}) for column in self.columns]
        return tuple(tuple(f"{zh[v]} {v}" if isinstance(v, str) and v in zh else v for v, zh in zip(row, chinese))
                     for row in self.rows)

    def render(self, fmt: str = "text", lang: str | None = None) -> str:
        """Render as ``text`` (aligned, CJK-aware), ``csv`` (with a byte-order mark) or ``json``.

        Text heads the columns with their Chinese (a line above their ids). A CSV's
        header row holds the column ids, or with ``lang="zh"`` (default: a ``Format``'s
        own ``lang``) each column's Chinese and id, for staff opening it in Excel; JSON
        keys are the ids. Text and CSV are printable (no terminal control sequences) and
        CSV cells that a spreadsheet would run as formulas are marked as text; JSON
        escapes every control character itself.
        """
        lang = lang or getattr(fmt, "lang", "en")
        if lang not in LANGS:
            raise InvalidValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)} (语言应为 en 或 zh)")
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            header = self.columns if lang == "en" else tuple(self.bilingual(c) for c in self.columns)
            writer.writerow([spreadsheet_cell(c) for c in header])
            writer.writerows([spreadsheet_cell(v) for v in row] for row in (self.rows if lang == "en" else self.shown_rows()))
            return BOM + buf.getvalue()
        if fmt == "json":
            records = [dict(zip(self.columns, row)) for row in self.rows]
            return json.dumps(
                {"title": self.title, "rows": records, "notes": list(self.notes)},
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        if fmt == "text":
            return self._text(lang)
        raise InvalidValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)} (格式应为 text、csv 或 json)")

    def _text(self, lang: str = "en") -> str:
        # (in Chinese, the title and the notes Chinese first: gridcore.errors.chinese_first_line)
        line = chinese_first_line if lang == "zh" else _same
        chinese = [self.heading(c) for c in self.columns]
        # the columns' Chinese on a line above their ids (none for a table whose columns have none)
        above = [[_cell(zh if zh != c else "") for zh, c in zip(chinese, self.columns)]] \
            if any(zh != c for zh, c in zip(chinese, self.columns)) else []
        cells = above + [[_cell(c) for c in self.columns]] + [[_cell(v) for v in row] for row in self.shown_rows()]
        widths = [max(display_width(r[i]) for r in cells) for i in range(len(self.columns))]
        out = [printable(self.title_zh if lang == "zh" and self.title_zh else line(self.title)), ""]
        for n, row in enumerate(cells):
            out.append("  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip())
            if n == len(above):
                out.append("  ".join("-" * w for w in widths))
        if not self.rows:
            out.append("（无记录）" if lang == "zh" else "(no rows / 无记录)")
        out.extend(printable(line(note)) for note in self.notes)
        return "\n".join(out) + "\n"


def _same(text: str) -> str:
    return text


#: When a run's summary builds a showcased report (``Showcase.per``): once at the end,
PER_RUN = "run"
#: for every month of the run (parameters ``month=2025-03`` and ``node=`` the top node),
PER_MONTH = "month"
#: or for the period the run covers (``period=2025-Q1`` and ``node=`` the top node).
PER_PERIOD = "period"


@frozen
class Showcase:
    """How a run's summary (``gridcore demo``) builds and shows a report, so it needs to know none.

    * ``per``: ``PER_RUN``, ``PER_MONTH`` or ``PER_PERIOD`` (what it is built for;
      every build is written to the run's files).
    * ``heading``: the heading it is printed under (``{label}``: the month or
      period, ``{rows}``: how many rows); empty: written to files, not printed.
      ``heading_zh``: the same in Chinese, for a summary in Chinese (``gridcore
      --lang zh demo``); empty: the heading Chinese first (``chinese_first_line``).
    * ``rows``: print at most this many rows (0: all); ``columns``: print only
      these columns (empty: all); ``title``: print the table's own title too;
      ``empty``: what to print instead of a table with no rows.
    * ``order``: where it goes among the printed reports (lower first).
    * ``figure``: ``figure(engine, params, path)`` draws the report into ``path``
      (an ``.svg`` file), for the run's files; ``params`` holds ``lang`` too, the
      language of the run's summary (``zh`` under ``gridcore --lang zh demo``): the
      figure's words are in it (one language at a time).
    """

    per: str = PER_RUN
    heading: str = ""
    rows: int = 0
    columns: tuple[str, ...] = ()
    title: bool = True
    empty: str = ""
    order: int = 100
    figure: Callable[[Engine, Mapping[str, str], Path], object] | None = field(default=None, eq=False)
    heading_zh: str = field(default="", kw_only=True)


@frozen
class Report:
    """A named report a plugin contributes: ``build(engine, params) -> Table``.

    ``params`` names the parameters it reads; ``showcase`` says how a run's
    summary shows it (``None``: it is not part of one). ``chinese``, if given,
    is ``chinese(engine, params, table) -> Table``: the built table as staff read
    it in Chinese (``gridcore --lang zh report NAME``, ``Engine.report(...,
    lang="zh")``): the Chinese of its values (``values``), notes said in Chinese
    too; the ids, times and amounts as they are.
    """

    name: str
    description: str
    build: Callable[[Engine, Mapping[str, str]], Table]
    params: Sequence[str] = field(default=())
    showcase: Showcase | None = None
    chinese: Callable[[Engine, Mapping[str, str], Table], Table] | None = field(default=None, eq=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    # One line per row: a line break inside a cell would break the alignment.
    return printable(str(value)).replace("\r", " ").replace("\n", " ")


def display_width(text: str) -> int:
    """Terminal width of ``text``: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
