"""Sign-in sheets (签到表): who came to an activity, recorded as ``ActivityRecorded`` events.

Community staff keep an activity's sign-in sheet in Excel: a row per person who
came, with their name (or member number, or phone) and how long they stayed.
``gridcore activities template OUT.xlsx`` (or ``OUT.csv``, with a BOM for Excel)
writes an empty one: headings in Chinese and English (``姓名 name``, ``成员编号
member``, ``时长（小时） hours``, ``数量 quantity``, ``备注 note``) and a row of
instructions.  ``gridcore activities import SHEET --activity 环境整治 --date
2025-03-08 --node NODE --recorded-by MEMBER`` reads it back:

* each row is one ``ActivityRecorded`` at the activity's time (a time without
  a zone is the community's wall time), recorded by ``--recorded-by`` (staff at
  NODE or above) for the member the row names: by member number, by phone, or
  by name when one member alone bears it on the roster, and belonging in NODE's
  subtree (a cell of theirs lies in it, or they hold a role above it);
* the activity's name is checked against the rules in force there and then (a
  name or an ``also`` / ``又称`` name of the points list; the item's own name is
  stored);
* every mistake is named at once, with its row (``SignInError``, a
  ``RosterError`` whose ``problems`` are ``RosterProblem`` s), and then nothing is
  stored; so is every row the points rules would refuse (``gridcore_points.
  activity_refusals``), asked before anything is recorded;
* an event's id is made from the activity, the day and time it began and the
  member (``activity_id``): importing the same sheet again, or the same rows
  split over two sheets, stores nothing twice; a second session of the day
  (another ``--time``, not overlapping the first) is a sign-in of its own, and
  a row whose time overlaps a stored sign-in of its member and activity (a
  correction, a row written twice) is a mistake;
* with the points plugin on, the points each row earned are read back from its
  ledger (``earned``: a flagged row says why it earned none).

Headings are matched by any word they hold, in Chinese or English; ``序号``,
``签名`` and ``签字`` columns (a serial number, a signature) are read past.
Hours are a number: ``1.5`` typed as text (full-width digits too, and a
trailing ``小时`` / ``h``) is read as 1.5; ``1,5`` (a decimal comma or a
thousands separator?), ``一个半`` (words) and ``1:30`` (a time) are refused,
saying how to write them.  The engine is used through its public API
(``Engine.record_many``); the core knows nothing of sheets.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from gridcore.classes import frozen
from gridcore.errors import (
    HierarchyError,
    RosterError,
    RosterProblem,
    UnknownMemberError,
    has_chinese,
)
from gridcore.events import ActivityRecorded
from gridcore.reports import from_spreadsheet_text

from . import atomic
from .cli import _chosen_lang, _LangOption, store_option
from .rosterio import problem_of, shown

if TYPE_CHECKING:
    from gridcore.community import Community
    from gridcore.engine import Engine, IngestSummary

#: The columns a sign-in sheet may have, and the heading the template writes for each (Chinese, then the id).
HEADINGS: Mapping[str, str] = {
    "name": "姓名", "member": "成员编号", "phone": "电话", "hours": "时长（小时）", "quantity": "数量", "note": "备注",
}
#: The columns of the template (a phone column is read when staff add one).
TEMPLATE_COLUMNS = ("name", "member", "hours", "quantity", "note")
#: Other words staff head a column with, in either language (matched lower-case, after NFKC).
OTHER_WORDS: Mapping[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "name"),
    "member": ("成员编号", "编号", "成员", "member", "id", "number"),
    "phone": ("电话", "手机", "手机号", "联系电话", "phone", "mobile", "tel"),
    "hours": ("时长", "小时", "小时数", "服务时长", "hours", "hour"),
    "quantity": ("数量", "件数", "quantity", "qty"),
    "note": ("备注", "说明", "note", "notes", "remark", "remarks"),
}
#: Columns read past: a serial number, a signature.
IGNORED_WORDS = ("序号", "签名", "签字", "no.", "signature")
#: The sheet the template writes (a workbook's sheet is found by either word, else its first sheet is read).
SHEET_TITLE = "签到表 sign-in"
#: A row whose first cell starts so is the template's instructions, read past.
INSTRUCTIONS_MARK = "填写说明"
INSTRUCTIONS = (
    "填写说明 How to fill in: 每人一行 one row per person who came; 填姓名或成员编号 the name or the member number "
    "(a name several members bear needs the number); 时长填数字，如 1.5 hours as a number, e.g. 1.5 (blank: none); "
    "数量留空为 1 quantity, blank = 1; 本行可保留或删除 this row may stay or go."
)
#: The longest day an activity of one sheet may take.
MOST_HOURS = 24
#: Largest sheet read (bytes) and rows.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
#: A sheet's error lists at most this many mistakes; the rest are counted.
MOST_SHOWN = 50

_PARENS = re.compile(r"[()（）\[\]【】/、,，:：]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CHINESE_NUMERALS = set("零〇一二两三四五六七八九十百半")
_HOUR_UNITS = ("个小时", "小时", "hours", "hour", "hrs", "hr", "h")


class SignInError(RosterError):
    """A sign-in sheet that cannot be imported: every mistake (``problems``), each with its row."""


@frozen
class SignInRow:
    """One row of a sign-in sheet: its number (heading = 1), where it is (``签到表.xlsx, sheet 签到表 sign-in,
    row 3``), each column's value and each column's cell (``column B``; empty in a CSV file)."""

    number: int
    where: str
    values: Mapping[str, Any]
    cells: Mapping[str, str] = attrs.field(factory=dict)

    def at(self, column: str) -> str:
        """Where ``column``'s value is: the row and its cell, as a mistake names it."""
        cell = self.cells.get(column)
        return f"{self.where}, {cell} ({column})" if cell else self.where

    def text(self, column: str) -> str | None:
        """The column's value as text, stripped (None when empty)."""
        value = self.values.get(column)
        if value is None:
            return None
        shown_text = str(value).strip()
        return shown_text or None


@frozen
class Attendance:
    """A row read and checked: who came (a member id), how long and how much, and the row it came from."""

    row: SignInRow
    member: str
    hours: float
    quantity: float
    note: str


def activity_id(activity: str, start: datetime, member: str, tz: tzinfo) -> str:
    """The id of a member's sign-in to an activity that began at ``start`` (its day and time of day in the
    community's zone ``tz``): ``signin:2025-03-08T09:00:volunteer_service:m03``. The same four give the same id,
    whatever the sheet; a second session of the day (another start) is a sign-in of its own."""
    return f"signin:{_day_of(start, tz)}T{_clock_of(start, tz)}:{activity}:{member}"


# ------------------------------------------------------------------ reading


def read_sheet(path: Path) -> tuple[str, list[SignInRow]]:
    """The rows of a sign-in sheet (``.xlsx`` or ``.csv``) and its label; ``SignInError`` when the file or its
    headings cannot be read."""
    label = path.name
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise SignInError(f"{label}: an old .xls workbook; save it as .xlsx (Excel 2007 or later) and try again "
                          "(旧版 .xls 工作簿：请另存为 .xlsx 再试)")
    if suffix not in (".xlsx", ".csv"):
        raise SignInError(f"{label}: give a sign-in sheet as .xlsx or .csv (签到表须为 .xlsx 或 .csv 文件)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SignInError(f"{label}: cannot read: {exc.strerror} (无法读取文件)") from None
    if size > MAX_BYTES:
        raise SignInError(f"{label}: {size:,} bytes; a sign-in sheet may have at most {MAX_BYTES:,} (文件过大)")
    grid = _csv_grid(path) if suffix == ".csv" else _workbook_grid(path)
    return label, _rows_of(grid, label)


#: (where a row is, e.g. ``签到表.csv row 3``; each cell's (column letter or "", value)), for every row
_Grid = list[tuple[str, list[tuple[str, Any]]]]


def _csv_grid(path: Path) -> _Grid:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves "CSV" as GBK; GB18030 is its superset
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise SignInError(f"{path.name}: neither UTF-8 nor GBK text; save it as CSV UTF-8 "
                              "(既不是 UTF-8 也不是 GBK 文本：请另存为 CSV UTF-8)") from None
    grid: _Grid = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            if number > MAX_ROWS:
                raise SignInError(f"{path.name}: more than {MAX_ROWS:,} rows (行数过多)")
            grid.append((f"{path.name} row {number}", [("", from_spreadsheet_text(cell)) for cell in cells]))
    except csv.Error as exc:
        raise SignInError(f"{path.name}: not a CSV file that can be read ({exc}) (CSV 文件无法读取)") from None
    return grid


def _workbook_grid(path: Path) -> _Grid:
    from openpyxl import load_workbook

    from .rosterbook import _rows

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SignInError(f"{path.name}: not an Excel workbook (.xlsx) that can be read ({type(exc).__name__}) "
                          "(不是可读取的 Excel 工作簿（.xlsx）)") from None
    try:
        titles = [t for t in book.sheetnames if "签到" in t or "sign" in t.lower()]
        sheet = book[titles[0] if titles else book.sheetnames[0]]
        grid: _Grid = []
        try:
            for number, cells in _rows(sheet, path.name):
                where = f"{path.name}, sheet {sheet.title}, row {number}"
                grid.append((where, [(getattr(cell, "column_letter", ""), _read_cell(cell, where)) for cell in cells]))
        except RosterError as exc:
            raise SignInError(str(exc)) from None
    finally:
        book.close()
    return grid


@frozen
class _Unreadable:
    """A cell that cannot be read (a formula, a date): its mistake, told with the rest of its sheet's."""

    mistake: str


def _read_cell(cell: Any, where: str) -> Any:
    try:
        return _cell_value(cell, where)
    except SignInError as exc:
        return _Unreadable(str(exc))


def _cell_value(cell: Any, where: str) -> Any:
    """A workbook cell's value: text, a number or a flag; a formula, a date or a time of day is refused."""
    value = getattr(cell, "value", None)
    letter = getattr(cell, "column_letter", "?")
    if getattr(cell, "data_type", None) == "f":
        raise SignInError(f"{where}, column {letter}: a formula; a sign-in sheet holds values (copy the column and "
                          "paste it as values) (单元格是公式：请复制该列并粘贴为数值)")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a member number or a phone typed as a number
    if isinstance(value, datetime | date | time | timedelta):
        written = value.isoformat() if not isinstance(value, timedelta) else str(value)
        raise SignInError(f"{where}, column {letter}: {written} is a date or a time; write hours as a number, "
                          "e.g. 1.5, and the rest as text (单元格是日期或时刻：时长请写成 1.5 这样的数字)")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise SignInError(f"{where}, column {letter}: expected text or a number, got {shown(value)} (应为文字或数字)")
    return value


def _rows_of(grid: _Grid, label: str) -> list[SignInRow]:
    """The heading row (the first that is not empty) names the columns; every later row that is neither empty
    nor the instructions is a person's."""
    columns: list[str | None] = []
    rows: list[SignInRow] = []
    for number, (where, cells) in enumerate(grid, 1):
        values = [None if v is None or (isinstance(v, str) and not v.strip()) else v for _, v in cells]
        if not any(v is not None for v in values):
            continue
        if not columns:
            unreadable = next((v for v in values if isinstance(v, _Unreadable)), None)
            if unreadable is not None:
                raise SignInError(unreadable.mistake)
            columns = _columns(values, where)
            continue
        first = next(v for v in values if v is not None)
        if isinstance(first, str) and first.strip().startswith(INSTRUCTIONS_MARK):
            continue
        found: dict[str, Any] = {}
        letters: dict[str, str] = {}
        for n, value in enumerate(values):
            column = columns[n] if n < len(columns) else None
            if column is None or column == "":
                if value is not None and column is None:
                    raise SignInError(f"{where}: a value ({shown(value)}) in a column without a heading "
                                      "(有数值的列没有列名)")
                continue
            found[column] = value
            letter = cells[n][0]
            if letter:
                letters[column] = f"column {letter}"
        rows.append(SignInRow(number, where, found, letters))
    if not columns:
        raise SignInError(f"{label}: no heading row; the first row names the columns: "
                          f"{_expected()} (没有标题行：第一行应为列名)")
    return rows


def _columns(headings: Sequence[Any], where: str) -> list[str | None]:
    """The column each heading names (``""``: a column read past, None: no heading)."""
    columns: list[str | None] = []
    for heading in headings:
        if heading is None:
            columns.append(None)
            continue
        column = heading_column(str(heading))
        if column is None:
            raise SignInError(f"{where}: unknown column {shown(heading)} (expected {_expected()}) (未知的列)")
        columns.append(column)
    named = [c for c in columns if c]
    if len(set(named)) != len(named):
        twice = next(c for c in named if named.count(c) > 1)
        raise SignInError(f"{where}: two columns are headed {HEADINGS[twice]} {twice} (列名重复)")
    if not {"name", "member", "phone"} & set(named):
        raise SignInError(f"{where}: no column naming who came: give {HEADINGS['name']} name or "
                          f"{HEADINGS['member']} member (缺少 姓名 或 成员编号 列)")
    return columns


def heading_column(heading: str) -> str | None:
    """The column a heading names, by any of its words in Chinese or English (``时长（小时） hours`` ->
    ``hours``); ``""`` for a column read past (``序号``, ``签名``); None if it names none or two."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    if text in IGNORED_WORDS or any(text.startswith(w) for w in IGNORED_WORDS if has_chinese(w)):
        return ""
    words = [w for w in _PARENS.sub(" ", text).split() if w]
    named = {column for word in [text, *words] for column, forms in OTHER_WORDS.items() if word in forms}
    return named.pop() if len(named) == 1 else None


def _expected() -> str:
    return ", ".join(f"{HEADINGS[c]} {c}" for c in HEADINGS)


# ------------------------------------------------------------------ checking


class _Found:
    """The mistakes found in a sheet, each a line naming where it is."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.mistakes: list[tuple[int, str]] = []

    def add(self, number: int, message: str) -> None:
        self.mistakes.append((number, message))

    def check(self) -> None:
        """Raise the ``SignInError`` of every mistake, sheet-wide ones first, then by row."""
        if not self.mistakes:
            return
        ordered = [message for _, message in sorted(self.mistakes, key=lambda pair: pair[0])]
        problems = [_problem(message) for message in ordered]
        count = len(problems)
        if count == 1:
            lines = [str(problems[0])]
        else:
            lines = [(f"{count} mistakes in {self.label}; nothing was stored "
                      f"(签到表 {self.label} 有 {count} 处错误，未存入任何记录)"),
                     *(f"  {problem}" for problem in problems[:MOST_SHOWN])]
            if count > MOST_SHOWN:
                lines.append(f"  and {count - MOST_SHOWN} more (另有 {count - MOST_SHOWN} 处错误未列出)")
        raise SignInError("\n".join(lines), problems)


def _problem(message: str) -> RosterProblem:
    """A mistake as a ``RosterProblem``: where it is in English and in Chinese (``签到表.xlsx 第 5 行 C 列（时长）``),
    and what is wrong."""
    found = problem_of(message)
    if found.row is None or found.source is None:
        return found
    where_zh = f"{found.source} 第 {found.row} 行"
    if found.column:
        where_zh += f" {found.column} 列"
    heading = HEADINGS.get(found.field or "")
    if heading is not None:
        where_zh += f"（{heading.split('（')[0]}）"
    return attrs.evolve(found, where_zh=where_zh)


def member_of(row: SignInRow, community: Community) -> str:
    """The member a row names: by member number (its name, if given too, must be theirs), else by phone, else
    by name when one member alone bears it; ``SignInError`` naming the row and the candidates otherwise."""
    members = community.members
    number, name, phone = row.text("member"), row.text("name"), row.text("phone")
    if number is not None:
        found = members.get(number)
        if found is None:
            meant = community.member_meant(number)
            hint, hint_zh = (f"; did you mean {meant}?", f"，是不是 {meant}？") if meant else ("", "")
            raise SignInError(f"{row.at('member')}: no member number {shown(number)} on the roster{hint} "
                              f"(花名册中没有成员编号 {number}{hint_zh})")
        if name is not None and name != found.name:
            raise SignInError(f"{row.at('name')}: member {found.id} is {found.name} on the roster, not {shown(name)}: "
                              f"check the number or the name (成员编号 {found.id} 在花名册上是 {found.name}，"
                              f"不是 {name}：请核对编号或姓名)")
        return found.id
    if phone is not None:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
        owners = [m for m in members.values() if m.phone and re.sub(r"\D", "", m.phone) == digits]
        same = [m for m in owners if name is None or m.name == name]
        if len(same) == 1:
            return same[0].id
        if len(same) > 1:
            return _several(row, "phone", phone, same, community)
        if owners:
            raise SignInError(f"{row.at('name')}: phone {phone} is {owners[0].name}'s ({owners[0].id}) on the "
                              f"roster, not {shown(name)} (电话 {phone} 在花名册上属于 {owners[0].name}，不是 {name})")
        if name is None:
            raise SignInError(f"{row.at('phone')}: no member has phone {shown(phone)} on the roster "
                              f"(花名册中没有电话为 {phone} 的成员)")
    if name is None:
        raise SignInError(f"{row.where}: neither a name nor a member number: who came? "
                          "(姓名和成员编号都没有填写)")
    return _by_name(row, name, community)


def _by_name(row: SignInRow, name: str, community: Community) -> str:
    named = [m for m in community.members.values() if m.name == name]
    if len(named) == 1:
        return named[0].id
    if named:
        return _several(row, "name", name, named, community)
    meant = difflib.get_close_matches(name, [m.name for m in community.members.values()], n=1, cutoff=0.5)
    hint, hint_zh = (f"; did you mean {meant[0]}?", f"，是不是 {meant[0]}？") if meant else ("", "")
    raise SignInError(f"{row.at('name')}: no member named {shown(name)} on the roster{hint} "
                      f"(花名册中没有叫 {name} 的成员{hint_zh})")


def _several(row: SignInRow, column: str, written: str, members: Sequence[Any], community: Community) -> str:
    """A name (or phone) several members bear: refused, naming each with where they belong."""
    listed = "; ".join(f"{m.id} ({', '.join(community.cells_of(m.id)) or 'no cell'})" for m in members[:8])
    more = ", ..." if len(members) > 8 else ""
    raise SignInError(f"{row.at(column)}: {len(members)} members on the roster have the {column} {shown(written)}: "
                      f"{listed}{more}; "
                      f"write the member number in {HEADINGS['member']} member "
                      f"(花名册上有 {len(members)} 人{'叫' if column == 'name' else '的电话是'} {written}，请填写成员编号)")


def _inside(community: Community, member: str, node: str) -> bool:
    """True if the member belongs in NODE's subtree: a cell of theirs (a role's node, their home) lies in it,
    or NODE lies in one of their cells."""
    hierarchy = community.hierarchy
    cells = community.cells_of(member)
    return any(hierarchy.is_within(cell, node) for cell in cells) or community.is_within_cells(member, node)


def number_of(value: Any, where: str, column: str = "hours") -> float | None:
    """A cell's hours (or quantity: ``column``), None when empty: a number, or text that is plainly one (``1.5``,
    ``１.５``, hours as ``2小时``); text that could be read two ways or is written in words is refused, saying how
    to write it, and so are negative numbers and more than ``MOST_HOURS`` hours."""
    number = _number(value, where, column, units=column == "hours")
    if number is None:
        return None
    most = MOST_HOURS if column == "hours" else None
    if number < 0:
        raise SignInError(f"{where}: {number} is negative (不能为负数)")
    if most is not None and number > most:
        raise SignInError(f"{where}: {number} hours; one sign-in sheet is one day's activity, at most {most} hours "
                          f"(时长不能超过 {most} 小时)")
    return float(number)


def _number(value: Any, where: str, column: str, *, units: bool) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise SignInError(f"{where}: expected a number, got {shown(value)} (应为数字)")
    if isinstance(value, int | float):
        try:
            found = Decimal(str(value))
        except InvalidOperation:
            found = Decimal("NaN")
        if not found.is_finite():
            raise SignInError(f"{where}: expected a number, got {shown(value)} (应为数字)")
        return found
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if units:
        for unit in _HOUR_UNITS:
            if text.endswith(unit):
                text = text[: -len(unit)].strip()
                break
    if "," in text or "，" in text:
        raise SignInError(f"{where}: {shown(value)} has a comma, which may be a decimal comma or a thousands "
                          f"separator; write the {column} with a point, e.g. 1.5 "
                          f"(逗号有歧义，可能是小数点也可能是千位分隔符：请写成 1.5 这样的小数)")
    if ":" in text:
        raise SignInError(f"{where}: {shown(value)} is a time of day or a duration; write the {column} as a number, "
                          "e.g. 1.5 for an hour and a half (看起来是时刻或时:分，请写成小时数，如一个半小时写 1.5)")
    if _NUMBER.fullmatch(text):
        return Decimal(text)
    if any(ch in _CHINESE_NUMERALS for ch in text):
        raise SignInError(f"{where}: {shown(value)} is written in words; write the {column} as a number, e.g. 1.5 "
                          "(请用数字填写，如一个半小时写 1.5)")
    raise SignInError(f"{where}: {shown(value)} is not a number; write the {column} as a number, e.g. 1.5 "
                      "(不是数字：请写成 1.5 这样的数字)")


def attendance(rows: Iterable[SignInRow], community: Community, node: str, found: _Found) -> list[Attendance]:
    """Every row checked: its member (inside NODE's subtree, once in the sheet), hours, quantity and note;
    each row's mistakes go to ``found``."""
    out: list[Attendance] = []
    first: dict[str, SignInRow] = {}
    place = community.hierarchy.node(node)
    for row in rows:
        unreadable = [value.mistake for value in row.values.values() if isinstance(value, _Unreadable)]
        if unreadable:
            for mistake in unreadable:
                found.add(row.number, mistake)
            continue
        member: str | None = None
        try:
            member = member_of(row, community)
        except SignInError as exc:
            found.add(row.number, str(exc))
        if member is not None:
            earlier = first.get(member)
            shown_member = f"{community.members[member].name} ({member})"
            if earlier is not None:
                found.add(row.number, f"{row.where}: {shown_member} signed in on row {earlier.number} already: "
                                      f"one row per person (与第 {earlier.number} 行是同一人，每人只填一行)")
                member = None
            elif not _inside(community, member, node):
                cells = ", ".join(community.cells_of(member)) or "no cell on the roster"
                found.add(row.number, f"{row.where}: {shown_member} belongs to {cells}, outside {node} "
                                      f"{place.name}'s subtree (不在 {place.name} 的范围内)")
                first[member] = row
                member = None
            else:
                first[member] = row
        numbers: dict[str, float | None] = {}
        for column in ("hours", "quantity"):
            try:
                numbers[column] = number_of(row.values.get(column), row.at(column), column)
            except SignInError as exc:
                found.add(row.number, str(exc))
        if member is not None and len(numbers) == 2:
            quantity = numbers["quantity"]
            out.append(Attendance(row, member, numbers["hours"] or 0.0, 1.0 if quantity is None else quantity,
                                  row.text("note") or ""))
    return out


def known_activities(engine: Engine, when: datetime, node: str) -> dict[str, str]:
    """Every activity name the rules in force at ``node`` at ``when`` know (a name of the ``activity``
    vocabulary, a title, an ``also`` name of the points list), mapped to the name stored."""
    names: dict[str, str] = {}
    ruleset = engine.ruleset_at(when, node)
    if ruleset is not None:
        for name in sorted(ruleset.vocabularies.get("activity", ())):
            names[name] = ruleset.id_of("activity", name)
    if points_on(engine):
        import gridcore_points

        for name, item in gridcore_points.activity_names(engine, when, node).items():
            names.setdefault(name, item)
    return names


def points_on(engine: Engine) -> bool:
    """True when the points plugin is loaded on this engine."""
    from gridcore.errors import PluginError

    try:
        engine.state("points")
    except PluginError:
        return False
    return True


def unknown_activity(written: str, known: Iterable[str], node: str, day: date) -> str:
    """The mistake of an activity the rules do not know: the names they know, a close match first."""
    pool = sorted(set(known))
    close = difflib.get_close_matches(written, pool, n=3, cutoff=0.3)
    listed = [*close, *(name for name in pool if name not in close)]
    hint, hint_zh = (f"; did you mean {close[0]}?", f"，是不是 {close[0]}？") if close else ("", "")
    return (f"--activity: unknown activity {shown(written)}{hint} The rules in force at {node} on {day.isoformat()} "
            f"know: {', '.join(listed)} (规则中没有活动 {written}{hint_zh}可用的活动：{'、'.join(listed)})")


# ------------------------------------------------------------------ importing


@frozen
class SignInSheet:
    """A sheet ready to record: its label, its rows' events (each with its row) and what to tell staff."""

    label: str
    events: tuple[tuple[SignInRow, ActivityRecorded], ...]
    notes: tuple[str, ...] = ()


def prepare(path: Path, engine: Engine, *, activity: str, when: datetime, node: str, recorder: str) -> SignInSheet:
    """Read and check a sign-in sheet against the engine's roster and rules; ``SignInError`` with every
    mistake (nothing is recorded here).  ``when`` has its zone; ``node`` and ``recorder`` as staff wrote them
    (an id, or a name one alone bears)."""
    label, rows = read_sheet(path)
    found = _Found(label)
    community = engine.community
    place: str | None = None
    try:
        place = community.hierarchy.find(node).id
    except HierarchyError as exc:
        found.add(0, f"--node: {exc}")
    actor: str | None = None
    try:
        actor = community.find_member(recorder).id
    except UnknownMemberError as exc:
        found.add(0, f"--recorded-by: {exc}")
    if actor is not None and place is not None and not community.holds_staff_role_at_or_above(actor, place):
        found.add(0, f"--recorded-by: {actor} holds no role at {place} or above, so may not record others' "
                     f"activities there (登记人在 {place} 及其上级没有职务，不能代他人登记活动)")
    today = engine.local_date(engine.clock.now())
    day = engine.local_date(when)
    if day > today:
        found.add(0, f"--date: {day.isoformat()} is after today ({today.isoformat()}): a mistyped date? "
                     "(日期晚于今天，是否写错？)")
    name: str | None = None
    notes: list[str] = []
    known: dict[str, str] = {}
    if place is not None:
        known = known_activities(engine, when, place)
        if not known:
            name = activity
            notes.append(f"note: no rules in force at {place} on {day.isoformat()} name activities; "
                         f"{activity} is recorded as written (注：当时当地生效的规则中没有活动清单，活动名按原样登记)")
        elif activity in known:
            name = known[activity]
        else:
            found.add(0, unknown_activity(activity, known, place, day))
    if not rows:
        found.add(0, f"{label}: no one signed in: the sheet has headings and no rows (签到表没有人员行)")
    people = attendance(rows, community, place, found) if place is not None else []
    events = [(each.row, ActivityRecorded(
        id=activity_id(name, when, each.member, community.tz), time=when, actor=actor, node=place,
        activity=name, member=each.member, hours=each.hours, quantity=each.quantity, note=each.note,
    )) for each in people if name is not None and actor is not None and place is not None]
    if events and name is not None:
        # the activity as staff reading Chinese name it: as written, else a Chinese name the rules give it
        said = activity if has_chinese(activity) else next(
            (written for written, item in known.items() if item == name and has_chinese(written)), name)
        events = _against_stored(engine, events, found, said=said)
    if events and not found.mistakes and points_on(engine):
        import gridcore_points

        for row, event in events:
            if engine.store.contains(event.id):
                continue  # stored already: recorded again, it is counted as such
            for reason in gridcore_points.activity_refusals(engine, event):
                found.add(row.number, f"{row.where}: {reason}")
    found.check()
    return SignInSheet(label, tuple(events), tuple(notes))


def _against_stored(engine: Engine, events: list[tuple[SignInRow, ActivityRecorded]], found: _Found, *,
                    said: str) -> list[tuple[SignInRow, ActivityRecorded]]:
    """Each row's event checked against the sign-ins stored of its member and activity (``stored_sign_ins``):

    * one that began at the same time is the row's own sign-in, recorded already: the row takes its id (an id
      of the old form, ``signin:2025-03-08:volunteer_service:m03``, that sheets imported before sessions were
      told apart were given, too), so the same sheet again is nothing new; a row saying other
      hours, another quantity or note, place or recorder is a mistake (an event never changes);
    * one whose time overlaps the row's is a mistake (a correction, or the same people written twice), naming
      both and what to do;
    * otherwise the row is a sign-in of its own (another session of the day).

    ``said``: the activity as the Chinese of a mistake names it (``志愿服务``).
    """
    community = engine.community
    start = events[0][1].time
    stored = stored_sign_ins(engine, start)
    out = []
    for row, event in events:
        end = start + timedelta(hours=event.hours)
        person = f"{community.members[event.participant].name} ({event.participant})"
        person_zh = f"{community.members[event.participant].name}（{event.participant}）"
        mine = [doc for doc in stored if doc["member"] == event.participant and doc["activity"] == event.activity]
        same = next((doc for doc in mine if doc["start"] == start), None)
        if same is not None:
            event = attrs.evolve(event, id=same["id"])
            changed = _changed(same["doc"], event)
            if changed:
                at = _clock_of(start, community.tz)
                found.add(row.number, f"{row.where}: {person} has {event.activity} at {at} on "
                                      f"{_day_of(start, community.tz)} recorded already (event {event.id}), with "
                                      f"{', '.join(en for en, _ in changed)}; a recorded event never changes: leave "
                                      f"the row out, or if it is another session, give its start with --time "
                                      f"({person_zh}的{said}已于 {_day_of(start, community.tz)} {at} 登记过（{event.id}），登记的"
                                      f"{'，'.join(zh for _, zh in changed)}；已登记的记录不能修改：请删去这一行，"
                                      f"若是另一场活动，请写明其开始时刻（--time）)")
            out.append((row, event))
            continue
        overlapping = [doc for doc in mine if doc["start"] < end and start < doc["end"]]
        if overlapping:
            other = overlapping[0]
            then = _span(other["start"], other["end"], community.tz, start)
            now = _span(start, end, community.tz, start)
            after = _clock_of(max(doc["end"] for doc in overlapping), community.tz)
            found.add(row.number, f"{row.where}: {person} has {event.activity} recorded already {then} (event "
                                  f"{other['id']}), overlapping the row at {now}; sign-ins of one member to one "
                                  f"activity do not overlap. If the row corrects that sign-in, leave it out, as a "
                                  f"recorded event never changes; if it is another session, give its start with "
                                  f"--time, at {after} or later ({person_zh}的{said}已登记 {then}（{other['id']}），与本行的 "
                                  f"{now} 重叠：同一人同一活动的签到时间不能重叠。若本行是更正已登记的记录，请删去这一行"
                                  f"（已登记的记录不能修改）；若是另一场活动，请写明其开始时刻，不早于 {after}（--time）)")
        out.append((row, event))
    return out


def stored_sign_ins(engine: Engine, start: datetime) -> list[dict[str, Any]]:
    """The sign-ins stored (events whose id a sheet gave: ``signin:``) that began within a day of ``start``:
    each a dict of its ``id``, ``member``, ``activity``, ``start``, ``end`` (``start`` plus its hours) and
    stored ``doc``."""
    out = []
    span = timedelta(hours=MOST_HOURS)
    for doc in engine.store.events(kinds=["activity_recorded"], since=start - span,
                                   until=start + span + timedelta(seconds=1)):
        ident = str(doc.get("id", ""))
        if not ident.startswith("signin:"):
            continue
        try:
            began = datetime.fromisoformat(str(doc.get("time")))
            hours = float(doc.get("hours") or 0)
        except (TypeError, ValueError):
            continue
        out.append({"id": ident, "member": doc.get("member") or doc.get("actor"), "activity": doc.get("activity"),
                    "start": began, "end": began + timedelta(hours=hours), "doc": doc})
    return out


def _clock_of(when: datetime, tz: tzinfo) -> str:
    local = when.astimezone(tz)
    return f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"


def _day_of(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).date().isoformat()


def _span(start: datetime, end: datetime, tz: tzinfo, sheet: datetime) -> str:
    """``09:00-11:00`` in the community's time (each end's day too when it is not the sheet's:
    ``2025-03-07 22:00-2025-03-08 02:00``)."""
    day = _day_of(sheet, tz)

    def at(when: datetime) -> str:
        return _clock_of(when, tz) if _day_of(when, tz) == day else f"{_day_of(when, tz)} {_clock_of(when, tz)}"

    return f"{at(start)}-{at(end)}"


def _changed(stored: Mapping[str, Any], event: ActivityRecorded) -> list[tuple[str, str]]:
    """What the stored document of a sign-in that began when the event does says differently from it, in English
    and Chinese (``hours 2`` / ``时长 2``): a sign-in sheet may be imported again as it was, not changed."""
    out = []
    for name, zh, default in (("hours", "时长", 0.0), ("quantity", "数量", 1.0)):
        if float(stored.get(name, default)) != float(getattr(event, name)):
            out.append((f"{name} {stored.get(name, default):g}", f"{zh} {stored.get(name, default):g}"))
    for name, zh in (("note", "备注"), ("node", "地点"), ("actor", "登记人")):
        if str(stored.get(name, "")) != str(getattr(event, name)):
            out.append((f"{name} {stored.get(name, '')!r}", f"{zh} {stored.get(name, '')!r}"))
    return out


def record(engine: Engine, sheet: SignInSheet) -> IngestSummary:
    """Record a prepared sheet's events, in one call (``Engine.record_many``)."""
    return engine.record_many([event for _, event in sheet.events],
                              batch_size=max(1, len(sheet.events)),
                              sources=[row.where for row, _ in sheet.events])


def earned(engine: Engine, sheet: SignInSheet) -> list[tuple[SignInRow, ActivityRecorded, int, list[str]]]:
    """The points each row's event earned, read back from the points plugin's ledger (its entries caused by
    the event), with what the ledger says of each flag it raised (an activity outside the member's cells)."""
    import gridcore_points

    out = []
    for row, event in sheet.events:
        caused = [entry for entry in gridcore_points.entries(engine, event.participant) if entry.cause == event.id]
        flags = [entry.summary for entry in caused if entry.kind == "flag"]
        out.append((row, event, sum(entry.amount for entry in caused), flags))
    return out


# ------------------------------------------------------------------ writing the template


def write_template(path: Path) -> Path:
    """Write an empty sign-in sheet: ``.xlsx`` (a ``签到表 sign-in`` sheet) or ``.csv`` (UTF-8 with a BOM, for
    Excel): both headings and a row of instructions."""
    headings = [f"{HEADINGS[c]} {c}" for c in TEMPLATE_COLUMNS]
    if path.suffix.lower() == ".csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headings)
        writer.writerow([INSTRUCTIONS, *[""] * (len(headings) - 1)])
        atomic.write_text(path, out.getvalue(), encoding="utf-8-sig")
        return path
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    from .rosterbook import _heading_row, _text_cell

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    _heading_row(sheet, tuple(headings))
    _text_cell(sheet.cell(2, 1), INSTRUCTIONS)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headings))
    sheet.cell(2, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[2].height = 60
    for letter, width in zip("ABCDE", (14, 16, 14, 10, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    return atomic.save_book(book, path)


# ------------------------------------------------------------------ commands


def _sheet_path(out: Path) -> None:
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise click.ClickException(f"{out}: give a file name ending in .xlsx or .csv (文件名须以 .xlsx 或 .csv 结尾)")


@click.group("activities")
def activities_group() -> None:
    """Activities from sign-in sheets (签到表): an empty sheet to fill in, or a filled one imported."""


@activities_group.command("template")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template_command(out: Path) -> None:
    """Write an empty sign-in sheet OUT (.xlsx, or .csv for Excel): headings in Chinese and English, instructions."""
    from .cli import for_staff

    _sheet_path(out)
    write_template(out)
    click.echo(for_staff(f"sign-in sheet written to {out}: one row per person who came, then "
                         f"`gridcore activities import {out} --activity ... --date ... --node ... --recorded-by ...` "
                         f"(签到表模板已写入 {out}：每人一行，填好后用 gridcore activities import 导入)"))


def _day(ctx: click.Context, param: click.Parameter, value: str) -> date:
    from .cli import parse_local_time

    when = parse_local_time(ctx, param, value)
    assert when is not None
    if when.tzinfo is not None or when.time() != time(0):
        raise click.BadParameter(f"{value!r}: give the day alone (2025-03-08) and its hour with --time "
                                 "(只填日期，如 2025-03-08；时刻用 --time 给出)")
    return when.date()


def _clock(ctx: click.Context, param: click.Parameter, value: str) -> time:
    try:
        return time.fromisoformat(unicodedata.normalize("NFKC", value).replace("：", ":"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time of day like 09:00 or 09:00+08:00 "
                                 "(时刻应写成 09:00 或 09:00+08:00 这样)") from None


@activities_group.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--activity", required=True, help="The activity, as the rules in force name it (Chinese or English).")
@click.option("--date", "day", required=True, callback=_day,
              help="The day it took place: 2025-03-08 (or 2025年3月8日), in the community's time zone.")
@click.option("--time", "hour", default="09:00", show_default=True, callback=_clock,
              help="The time it started: 09:00 is the community's wall time; 09:00+08:00 gives the zone.")
@click.option("--node", required=True, help="Where it took place: a node id, or a name one node alone bears. "
              "Everyone on the sheet must belong in its subtree.")
@click.option("--recorded-by", "recorder", required=True,
              help="The member recording the sheet (id, or a name one member alone bears): staff at NODE or above.")
@click.option("--dry-run", is_flag=True, help="Check the sheet and say what would be stored; store nothing.")
@click.option("--lang", "lang", cls=_LangOption, type=click.Choice(["en", "zh"]), default="en",
              envvar="GRIDCORE_LANG", show_default=True, is_eager=True, expose_value=False, callback=_chosen_lang,
              help="The language of what the command says: en or zh. Default: gridcore --lang, else $GRIDCORE_LANG, "
                   "else en.")
@store_option
def import_command(sheet: Path, activity: str, day: date, hour: time, node: str, recorder: str, dry_run: bool,
                   store: str) -> None:
    """Record a sign-in sheet SHEET (.xlsx or .csv): one activity per row, every mistake named before any is stored.

    Each row names a member by member number, phone, or a name one member alone
    bears on the roster; hours are a number (1.5). A member's sign-in has one
    id (the activity, the day and its --time), so importing the same sheet
    again stores nothing new; a second session of the day (another --time) is
    a sign-in of its own, and a row overlapping a stored sign-in of its member
    and activity is a mistake. With the points plugin on, says the points each
    row earned.
    """
    from .cli import for_staff, help_lang, in_community_zone, open_engine
    from .writelock import writing

    zh = help_lang() == "zh"
    with open_engine(store, read_only=dry_run) as engine:
        try:
            when = in_community_zone(datetime.combine(day, hour), engine)
        except click.BadParameter as exc:
            raise click.BadParameter(exc.message, param_hint="'--time'") from None
        if dry_run:
            prepared = prepare(sheet, engine, activity=activity, when=when, node=node, recorder=recorder)
            for note in prepared.notes:
                click.echo(for_staff(note), err=True)
            there = sum(1 for _, event in prepared.events if engine.store.contains(event.id))
            new = len(prepared.events) - there
            said_zh = f"试运行：将新存入 {new} 条，已存入 {there} 条；未存入任何记录"
            click.echo(said_zh if zh else f"dry run: {new} would be stored, {there} already stored; nothing was "
                                          f"stored ({said_zh})")
            return
        # checked and recorded under the write lock a service on this store shares (gridcore_app.writelock), the
        # engine caught up with what it stored: nothing recorded between the check and the recording can make a
        # checked row refused
        with writing(engine, store, "gridcore activities import"):
            prepared = prepare(sheet, engine, activity=activity, when=when, node=node, recorder=recorder)
            summary = record(engine, prepared)
        for note in prepared.notes:
            click.echo(for_staff(note), err=True)
        said_zh = f"新存入 {summary.accepted} 条，已存入 {summary.duplicates} 条"
        if summary.refused:
            said_zh += f"，拒绝 {len(summary.refused)} 条"
        click.echo(said_zh if zh else f"{summary.accepted} stored, {summary.duplicates} already stored"
                   + (f", {len(summary.refused)} refused" if summary.refused else "") + f" ({said_zh})")
        for refusal in summary.refused:
            reasons = "；".join(refusal.reasons) if zh else "; ".join(refusal.reasons)
            click.echo(f"  拒绝 {refusal.source}：{reasons}" if zh else f"  refused {refusal.source}: {reasons}",
                       err=True)
        if points_on(engine):
            import gridcore_points
            from gridcore_points.display import shown as points_shown

            points_chinese = gridcore_points.said_zh(engine)
            refused = {refusal.event_id for refusal in summary.refused}
            rows = [each for each in earned(engine, prepared) if each[1].id not in refused]
            total = sum(amount for _, _, amount, _ in rows)
            click.echo(f"这些记录获得积分：共 {total} 分" if zh
                       else f"points these rows earned: {total} (获得积分 {total} 分)")
            for row, event, amount, flags in rows:
                person = engine.community.members[event.participant].name
                flagged = ((f"（{'；'.join(points_chinese(flag) for flag in flags)}）" if zh
                            else f" ({'; '.join(points_shown(flag) for flag in flags)})") if flags else "")
                click.echo(f"  第 {row.number} 行 {person}（{event.participant}）：{amount} 分{flagged}" if zh
                           else f"  row {row.number} {person} ({event.participant}): {amount}{flagged}")
        if summary.refused:
            raise SystemExit(1)

