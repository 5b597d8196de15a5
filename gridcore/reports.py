"""Reports: named tables that plugins contribute, rendered as text, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from .errors import InvalidValueError

if TYPE_CHECKING:
    from .engine import Engine

FORMATS = ("text", "csv", "json")


@frozen
class Table:
    """A report's result: a title, column names and rows of plain values."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...] = ()
    notes: tuple[str, ...] = ()

    def render(self, fmt: str = "text") -> str:
        """Render as ``text`` (aligned, CJK-aware), ``csv`` or ``json``."""
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(self.columns)
            writer.writerows(self.rows)
            return buf.getvalue()
        if fmt == "json":
            records = [dict(zip(self.columns, row)) for row in self.rows]
            return json.dumps(
                {"title": self.title, "rows": records, "notes": list(self.notes)},
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        if fmt == "text":
            return self._text()
        raise InvalidValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")

    def _text(self) -> str:
        cells = [[_cell(c) for c in self.columns]] + [[_cell(v) for v in row] for row in self.rows]
        widths = [max(display_width(r[i]) for r in cells) for i in range(len(self.columns))]
        out = [self.title, ""]
        for n, row in enumerate(cells):
            out.append("  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        if not self.rows:
            out.append("(no rows)")
        out.extend(self.notes)
        return "\n".join(out) + "\n"


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
    * ``rows``: print at most this many rows (0: all); ``columns``: print only
      these columns (empty: all); ``title``: print the table's own title too;
      ``empty``: what to print instead of a table with no rows.
    * ``order``: where it goes among the printed reports (lower first).
    * ``figure``: ``figure(engine, params, path)`` draws the report into ``path``
      (an ``.svg`` file), for the run's files.
    """

    per: str = PER_RUN
    heading: str = ""
    rows: int = 0
    columns: tuple[str, ...] = ()
    title: bool = True
    empty: str = ""
    order: int = 100
    figure: Callable[[Engine, Mapping[str, str], Path], object] | None = field(default=None, eq=False)


@frozen
class Report:
    """A named report a plugin contributes: ``build(engine, params) -> Table``.

    ``params`` names the parameters it reads; ``showcase`` says how a run's
    summary shows it (``None``: it is not part of one).
    """

    name: str
    description: str
    build: Callable[[Engine, Mapping[str, str]], Table]
    params: Sequence[str] = field(default=())
    showcase: Showcase | None = None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def display_width(text: str) -> int:
    """Terminal width of ``text``: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
