"""Rosters kept in an Excel workbook: one sheet per list, headings in Chinese or English.

A roster workbook (``.xlsx``) holds a ``社区 community`` sheet of settings (one
per row: a key and its value) and one sheet per list: ``节点 nodes``,
``成员 members``, ``职责 roles``, ``部门 departments`` and ``场所 places``, and
the base population: ``户 households``, ``居民 residents`` and ``包联 care``, each
with a heading row.  A sheet or a heading may be named in Chinese, in English
or both (``成员 members``, ``编号 id``).  The rows mean exactly what the CSV
files of ``gridcore_app.rosterio`` mean (see docs/community.md), and the
community is built by the same code, so both formats refuse the same
mistakes; errors here name the workbook, the sheet, the row and the column
(``roster.xlsx, sheet 成员 members, row 7, column D``).

This module is a ``gridcore_load_community`` plugin (entry point ``workbook``):
``Engine.open(community="roster.xlsx")`` and ``gridcore init --community
roster.xlsx`` read it.  ``save_workbook`` writes a community as a workbook
(loading it again gives an equal community); ``write_template`` writes an
empty one with both headings and an instructions sheet (``gridcore roster
template out.xlsx``); ``gridcore roster export DIR out.xlsx`` turns a
community folder into a workbook.

Cells are read as values, never as formulas: a formula cell is refused (paste
values instead), and text a spreadsheet would run as a formula is written as
text.  A workbook is bounded (``MAX_BYTES``, ``MAX_ROWS``, ``MAX_COLUMNS``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gridcore.community import Community
from gridcore.errors import GridcoreError, RosterError
from gridcore.geo import Location
from gridcore.hierarchy import TERRITORIAL
from gridcore.roster import role_id

from . import atomic
from .rosterio import _NAMED_LISTS, COLUMNS, REQUIRED, _Mistakes, _Row, build_community, shown

#: Largest workbook read (compressed bytes), rows per sheet and columns per row.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 50

#: The settings sheet and each list's sheet: (Chinese name, English name).
SETTINGS_SHEET = ("社区", "community")
SHEETS: Mapping[str, tuple[str, str]] = {
    "nodes": ("节点", "nodes"),
    "members": ("成员", "members"),
    "roles": ("职责", "roles"),
    "departments": ("部门", "departments"),
    "places": ("场所", "places"),
    "households": ("户", "households"),
    "residents": ("居民", "residents"),
    "care": ("包联", "care"),
}
INSTRUCTIONS_SHEET = "说明 instructions"

#: Chinese headings per sheet, as written (English ids are accepted too, alone or after the Chinese): a node's
#: id is 节点编号 (docs/embedding.md's glossary: a node may be a street or a community as well as a grid).
HEADINGS: Mapping[str, Mapping[str, str]] = {
    "nodes": {"id": "编号", "name": "名称", "level": "层级", "parent": "上级编号", "kind": "类型",
              "lat": "纬度", "lon": "经度", "radius": "半径", "geometry": "边界"},
    "members": {"id": "编号", "name": "姓名", "phone": "电话", "party_member": "党员", "home": "居住网格"},
    "roles": {"member": "成员编号", "role": "角色", "node": "节点编号", "department": "部门编号"},
    "departments": {"id": "编号", "name": "名称"},
    "places": {"id": "编号", "name": "名称", "node": "节点编号"},
    "households": {"id": "户号", "name": "户主", "node": "节点编号", "place": "地址编号", "people": "人口",
                   "floating": "流动户"},
    "residents": {"id": "编号", "name": "姓名", "household": "户号", "floating": "流动人口",
                  "key_person": "重点人员", "special_group": "特殊人群"},
    "care": {"member": "成员编号", "household": "户号", "place": "楼栋编号"},
}
#: Older Chinese headings still read (never written): workbooks staff filled in before a heading was settled.
FORMER_HEADINGS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "roles": {"node": ("网格编号",)},
    "places": {"node": ("网格编号",)},
    "households": {"node": ("网格编号",)},
}
#: Settings rows of the community sheet: key -> (Chinese label, how to write it).
SETTINGS: Mapping[str, tuple[str, str]] = {
    "name": ("名称", "银泉社区"),
    "timezone": ("时区", "Asia/Shanghai"),
    "levels": ("层级", "community > grid > unit (top to bottom, as in the ruleset)"),
    "level_names": ("层级名称", "社区 > 网格 > 单元 (one per level, in the same order)"),
    "roles": ("自定义角色", "dispatcher=调度员; guard=保安 (roles beyond the standard ones)"),
    "forest": ("多个顶层", "否 / 是 (yes when the hierarchy has several top nodes)"),
}
_SEPARATORS = (";", "；", ",", "，")
#: Each list sheet's columns: the CSV columns, and a node's boundary as GeoJSON text.
SHEET_COLUMNS: Mapping[str, tuple[str, ...]] = {
    **COLUMNS, "nodes": (*COLUMNS["nodes"], "geometry"),
}


# ------------------------------------------------------------------ reading


def load_workbook_roster(path: Path | str) -> Community:
    """Read a roster workbook; ``RosterError`` names the sheet, row and column of a mistake (of every
    mistake, when there are several: ``RosterError.problems``)."""
    where = Path(path)
    label = where.name
    if where.suffix.lower() == ".xls":
        raise RosterError(f"{label}: an old .xls workbook; save it as .xlsx (Excel 2007 or later) and try again (旧版 .xls 工作簿：请另存为 .xlsx 再试)")
    try:
        size = where.stat().st_size
    except OSError as exc:
        raise RosterError(f"{label}: cannot read: {exc.strerror} (无法读取文件)") from None
    if size > MAX_BYTES:
        raise RosterError(f"{label}: {size:,} bytes; a roster workbook may have at most {MAX_BYTES:,} (工作簿过大)")
    try:
        book = load_workbook(where, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RosterError(f"{label}: not an Excel workbook (.xlsx) that can be read ({type(exc).__name__}) (不是可读取的 Excel 工作簿（.xlsx）)") from None
    try:
        names = {_sheet_key(title): title for title in book.sheetnames}
        settings_title = names.get("community")
        if settings_title is None:
            raise RosterError(f"{label}: no sheet {' '.join(SETTINGS_SHEET)} (the community's name, "
                              f"time zone and levels); sheets found: {', '.join(book.sheetnames)} (缺少 设置 工作表（社区名称、时区和层级）)")
        mistakes = _Mistakes(label, book.sheetnames)
        top, top_where = _settings(book[settings_title], label, mistakes)
        sheets: dict[str, list[_Row]] = {}
        for sheet in COLUMNS:
            title = names.get(sheet)
            sheets[sheet] = _list_rows(book[title], sheet, label, mistakes) if title is not None else []
    finally:
        book.close()
    if isinstance(top.get("level_names"), str):
        top["level_names"] = mistakes.attempt(lambda: _level_names(top, top_where["level_names"]), None)
    return build_community(top, sheets, label, lambda key: top_where.get(key, f"{label}, sheet {settings_title}"),
                           mistakes=mistakes)


def _level_names(top: Mapping[str, Any], where: str) -> dict[str, str]:
    """``社区 > 网格 > 单元`` beside ``community > grid > unit``: each level's Chinese name."""
    names = [part.strip() for part in str(top["level_names"]).split(">")]
    levels = [part.strip() for part in str(top.get("levels") or "").split(">")]
    if len(names) != len(levels) or not all(names):
        raise RosterError(f"{where}: give one name per level, in the levels' order "
                          f"({len(levels)} levels, {len(names)} names); e.g. 社区 > 网格 > 单元 "
                          f"(层级名称须与层级一一对应：{len(levels)} 个层级，{len(names)} 个名称)")
    return dict(zip(levels, names, strict=True))


def _sheet_key(title: str) -> str | None:
    """Which list a sheet holds, from its title in Chinese, English or both."""
    words = title.replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ").lower().split()
    for key, (zh, en) in (("community", SETTINGS_SHEET), *SHEETS.items()):
        if zh in words or en in words:
            return key
    return None


def _settings(sheet: Worksheet, label: str, mistakes: _Mistakes) -> tuple[dict[str, Any], dict[str, str]]:
    """The community sheet: rows of (key, value); keys in Chinese or English."""
    top: dict[str, Any] = {}
    where: dict[str, str] = {}
    for number, cells in _rows(sheet, label):
        with mistakes.row():
            _setting_row(number, cells, sheet, label, top, where)
    return top, where


def _setting_row(number: int, cells: list[Any], sheet: Worksheet, label: str, top: dict[str, Any],
                 where: dict[str, str]) -> None:
    """One row of the community sheet into ``top`` (and where it was read into ``where``)."""
    by_label = {zh: key for key, (zh, _) in SETTINGS.items()}
    texts = [_value(cell, f"{label}, sheet {sheet.title}, row {number}") for cell in cells[:2]]
    if not texts or texts[0] is None:
        return
    raw_key = str(texts[0]).strip()
    key = _heading(raw_key, {k: (zh,) for k, (zh, _) in SETTINGS.items()}) or by_label.get(raw_key)
    here = f"{label}, sheet {sheet.title}, row {number}"
    if key is None:
        if number == 1 and raw_key.lower() in ("key", "设置", "设置 key", "项目"):
            return  # a heading row
        raise RosterError(f"{here}, column A: unknown setting {shown(raw_key)} "
                          f"(expected {', '.join(f'{zh} {k}' for k, (zh, _) in SETTINGS.items())}) (未知的设置项)")
    if key in top:
        raise RosterError(f"{here}, column A: {key} is given twice (first at {where[key]}) (设置项重复)")
    value = texts[1] if len(texts) > 1 else None
    where[key] = f"{here}, column B"
    setting = _setting(key, value, where[key])
    if setting is not None:
        top[key] = setting


def _setting(key: str, value: Any, where: str) -> Any:
    """A settings value as the shared builder expects it (lists, mappings, flags)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if key == "forest":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "y", "1", "是"):
            return True
        if text in ("false", "no", "n", "0", "否"):
            return False
        raise RosterError(f"{where}: forest must be 是/yes or 否/no, got {shown(value)} (应填 是 或 否)")
    if key in ("level_names", "roles") and not isinstance(value, str):
        raise RosterError(f"{where}: {key} must be text, got {shown(value)} (应为文字)")
    if key == "level_names":
        return str(value)  # matched to the levels below, once both are read
    if key == "roles":
        pairs: dict[str, str] = {}
        for part in _split(str(value)):
            ident, sep, name = part.partition("=")
            if not sep or not ident.strip() or not name.strip():
                raise RosterError(f"{where}: write extra roles as id=中文名, e.g. dispatcher=调度员; "
                                  f"got {shown(part)} (自定义角色写成 编号=中文名)")
            pairs[ident.strip()] = name.strip()
        return pairs
    return value


def _split(text: str) -> list[str]:
    for separator in _SEPARATORS[1:]:
        text = text.replace(separator, _SEPARATORS[0])
    return [part.strip() for part in text.split(_SEPARATORS[0]) if part.strip()]


def _list_rows(sheet: Worksheet, key: str, label: str, mistakes: _Mistakes) -> list[_Row]:
    """The records of one list sheet, with the cell of every value; a sheet whose headings cannot
    be read is a mistake that stops the roster before its rows are checked (``_Mistakes.unreadable``)."""
    found: list[_Row] = []
    columns: list[str | None] = []
    try:
        for number, cells in _rows(sheet, label):
            here = f"{label}, sheet {sheet.title}, row {number}"
            if not columns:
                texts = [_value(cell, here) for cell in cells]
                if not any(t not in (None, "") for t in texts):
                    continue
                columns = [_column(t, key, here, n) for n, t in enumerate(texts)]
                named = [c for c in columns if c is not None]
                missing = [c for c in REQUIRED[key] if c not in named]
                if missing:
                    raise RosterError(f"{here}: missing column {_both(key, missing[0])} "
                                      f"(expected {', '.join(_both(key, c) for c in SHEET_COLUMNS[key])}) (缺少列)")
                if len(set(named)) != len(named):
                    raise RosterError(f"{here}: a column is named twice (列名重复)")
                continue
            row = _Row(here, {column: getattr(cell, "value", None) for column, cell in zip(columns, cells, strict=False)
                              if column is not None})
            with mistakes.row(row, key if key in _NAMED_LISTS else None):
                record = _record(cells, columns, here)
                if record is not None:
                    found.append(record)
    except RosterError as exc:
        mistakes.add(exc)
        mistakes.unreadable = True
    return found


def _record(cells: list[Any], columns: list[str | None], here: str) -> _Row | None:
    """One row of a list sheet (None when it is empty)."""
    texts = [_value(cell, here) for cell in cells]
    if not any(t not in (None, "") for t in texts):
        return None
    values: dict[str, Any] = {}
    cells_of: dict[str, str] = {}
    for n, text in enumerate(texts):
        column = columns[n] if n < len(columns) else None
        if column is None:
            if text not in (None, ""):
                raise RosterError(f"{here}, column {get_column_letter(n + 1)}: a value in a column "
                                  "without a heading (有数值的列没有列名)")
            continue
        cells_of[column] = f"column {get_column_letter(n + 1)} ({column})"
        if column == "geometry" and text not in (None, ""):
            text = _geometry(text, f"{here}, {cells_of[column]}")
        values[column] = text
    return _Row(here, values, cells_of)


def _geometry(text: Any, where: str) -> Any:
    """A cell's GeoJSON geometry (a cell boundary), as the shared builder reads it."""
    try:
        shape = json.loads(str(text))
    except json.JSONDecodeError as exc:
        raise RosterError(f"{where}: not GeoJSON ({exc.msg}); write e.g. "
                          '{"type": "Polygon", "coordinates": [[[113.1, 22.56], ...]]} (不是 GeoJSON)') from None
    if not isinstance(shape, dict):
        raise RosterError(f"{where}: a geometry is a GeoJSON object, got {shown(shape)} (几何应为 GeoJSON 对象)")
    return shape


def _column(text: Any, key: str, where: str, index: int) -> str | None:
    if text is None or str(text).strip() == "":
        return None
    former = FORMER_HEADINGS.get(key, {})
    found = _heading(str(text), {c: (HEADINGS[key][c], *former.get(c, ())) for c in SHEET_COLUMNS[key]})
    if found is None:
        raise RosterError(f"{where}, column {get_column_letter(index + 1)}: unknown column {shown(text)} "
                          f"(expected {', '.join(_both(key, c) for c in SHEET_COLUMNS[key])}) (未知的列)")
    return found


def _heading(text: str, names: Mapping[str, tuple[str, ...]]) -> str | None:
    """The English id a heading names: ``编号``, ``id``, ``编号 id`` or ``编号 (id)`` (``names``: each id's
    Chinese headings, the one written first)."""
    words = text.replace("（", " ").replace("）", " ").replace("(", " ").replace(")", " ").split()
    for word in words:
        if word in names:
            return word
        for ident, chinese in names.items():
            if word in chinese:
                return ident
    return None


def _both(key: str, column: str) -> str:
    return f"{HEADINGS[key][column]} {column}"


def _rows(sheet: Worksheet, label: str) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(sheet.iter_rows(), 1):
        if number > MAX_ROWS:
            raise RosterError(f"{label}, sheet {sheet.title}: more than {MAX_ROWS:,} rows; split the roster (行数过多：请拆分花名册)")
        if len(cells) > MAX_COLUMNS:
            if any(getattr(c, "value", None) not in (None, "") for c in cells[MAX_COLUMNS:]):
                raise RosterError(f"{label}, sheet {sheet.title}, row {number}: more than {MAX_COLUMNS} "
                                  "columns in use (使用的列过多)")
            cells = cells[:MAX_COLUMNS]
        yield number, list(cells)


def _value(cell: Any, where: str) -> Any:
    """A cell's value as the roster builder reads it; formulas are refused."""
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        letter = getattr(cell, "column_letter", "?")
        raise RosterError(f"{where}, column {letter}: a formula; a roster holds values "
                          "(copy the column and paste it as values) (单元格是公式：花名册只收数值，请复制该列并粘贴为数值)")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a phone number typed as a number
    if value is not None and not isinstance(value, (str, int, bool)):
        letter = getattr(cell, "column_letter", "?")
        raise RosterError(f"{where}, column {letter}: expected text or a number, got {shown(value)} (应为文字或数字)")
    return value


# ------------------------------------------------------------------ writing


def _role_shown(role: str, roles: Mapping[str, str]) -> str:
    """A role as the workbook shows it: its Chinese name when that reads back as ``role``, else its id."""
    name = roles.get(role)
    if not name or name in roles:
        return role
    return name if role_id(name, roles) == role else role


def save_workbook(community: Community, path: Path | str) -> Path:
    """Write ``community`` as a roster workbook (replaced atomically); return its path."""
    book = _new_book()
    settings = book[SHEET_TITLE["community"]]
    values = {
        "name": community.name,
        "timezone": community.timezone,
        "levels": " > ".join(community.hierarchy.levels),
        "level_names": " > ".join(community.level_names.get(level, level) for level in community.hierarchy.levels)
        if community.level_names else None,
        "roles": "; ".join(f"{k}={v}" for k, v in community.to_document()["roles"].items()) or None,
        "forest": "是" if community.hierarchy.forest else None,
    }
    for n, key in enumerate(SETTINGS, 2):
        _text_cell(settings.cell(n, 2), values[key])
    lists: dict[str, list[tuple[Any, ...]]] = {
        "nodes": [(n.id, n.name, n.level, n.parent, None if n.kind == TERRITORIAL else n.kind,
                   *_where_on_map(community.locations.get(n.id)))
                  for n in community.hierarchy],
        "members": [(m.id, m.name, m.phone or None, "是" if m.party_member else None, m.home)
                    for m in community.members.values()],
        # roles by their Chinese names (专职网格员, as staff write them), where the name reads back as the id
        "roles": [(m.id, _role_shown(a.role, community.roles), a.node, a.department)
                  for m in community.members.values() for a in m.roles],
        "departments": [(d.id, d.name) for d in community.departments.values()],
        "places": [(p.id, p.name, p.node) for p in community.places.values()],
        "households": [(h.id, h.name, h.node, h.place, h.people, "是" if h.floating else None)
                       for h in community.households.values()],
        "residents": [(r.id, r.name, r.household, "是" if r.floating else None, "是" if r.key_person else None,
                       r.special_group) for r in community.residents.values()],
        "care": [(c.member, c.household, c.place) for c in community.care],
    }
    for key, rows in lists.items():
        sheet = book[SHEET_TITLE[key]]
        for r, row in enumerate(rows, 2):
            for c, value in enumerate(row, 1):
                _text_cell(sheet.cell(r, c), value)
    return atomic.save_book(book, Path(path))


def _where_on_map(location: Location | None) -> tuple[Any, ...]:
    """A node's lat, lon, radius and boundary cells (a point, or a shape as GeoJSON text)."""
    if location is None:
        return (None, None, None, None)
    if location.kind == "Point":
        lon, lat = location.shape
        return (lat, lon, location.radius, None)
    return (None, None, None, json.dumps(location.to_geojson(), ensure_ascii=False, separators=(",", ":")))


def write_template(path: Path | str) -> Path:
    """Write an empty roster workbook: both headings, examples in the instructions sheet."""
    return atomic.save_book(_new_book(), Path(path))


SHEET_TITLE: Mapping[str, str] = {
    "community": " ".join(SETTINGS_SHEET),
    **{key: f"{zh} {en}" for key, (zh, en) in SHEETS.items()},
}

_INSTRUCTIONS = (
    ("花名册填写说明", "How to fill in this roster"),
    ("每张表一行一条记录；第一行是标题，中英文均可识别。",
     "One record per row; the first row holds the headings (Chinese or English)."),
    ("社区：名称、时区、层级（自上而下，与规则集一致）、层级名称、自定义角色。",
     "community: name, time zone, levels (top to bottom, as in the ruleset), level names, extra roles."),
    ("节点：编号唯一；上级编号留空表示顶层；类型为 属地 / 行业 / 专属（留空为属地）。",
     "nodes: unique ids; an empty parent is the top; kind is territorial, industry or dedicated."),
    ("节点可标在地图上：纬度、经度（可加半径，米），或在 边界 一栏填 GeoJSON 多边形。",
     "nodes may go on the map: lat, lon (and a radius in metres), or a GeoJSON polygon in geometry."),
    ("成员：党员填 是 / 否；居住网格填节点编号。",
     "members: party member 是/否 (yes/no); home is a node id."),
    ("职责：每行一个角色分配（成员编号、角色、节点编号、条线部门）。角色可写中文，如 网格长。",
     "roles: one assignment per row (member, role, node, line department); roles may be Chinese (网格长)."),
    ("部门、场所：条线部门和场所（楼栋、学校等）。",
     "departments, places: line departments and places (buildings, schools)."),
    ("户：户号、户主、节点编号（或地址编号）、人口、流动户 是/否；居民：户内需掌握的人（流动、重点、特殊人群）。",
     "households: id, head, node (or place), people, floating yes/no; residents: the people to know by name."),
    ("包联：成员编号 加 户号 或 楼栋编号（包联户）。",
     "care: a member and the household or building (place) they look after."),
    ("请填写数值，不要使用公式；以 = + - @ 开头的文字按文字保存。",
     "Type values, not formulas; text starting with = + - @ is kept as text."),
    ("检查：gridcore hierarchy show 本文件.xlsx", "Check it: gridcore hierarchy show this-file.xlsx"),
)


def _new_book() -> Workbook:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = INSTRUCTIONS_SHEET
    for r, (zh, en) in enumerate(_INSTRUCTIONS, 1):
        _text_cell(notes.cell(r, 1), zh)
        _text_cell(notes.cell(r, 2), en)
    notes.column_dimensions["A"].width = 70
    notes.column_dimensions["B"].width = 90
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    settings = book.create_sheet(SHEET_TITLE["community"])
    _heading_row(settings, ("设置 key", "值 value", "填写示例 example"))
    for r, (key, (zh, example)) in enumerate(SETTINGS.items(), 2):
        _text_cell(settings.cell(r, 1), f"{zh} {key}")
        _text_cell(settings.cell(r, 3), example)
    settings.column_dimensions["A"].width = 24
    settings.column_dimensions["B"].width = 40
    settings.column_dimensions["C"].width = 60
    for key in SHEETS:
        sheet = book.create_sheet(SHEET_TITLE[key])
        _heading_row(sheet, tuple(_both(key, column) for column in SHEET_COLUMNS[key]))
        for n in range(1, len(SHEET_COLUMNS[key]) + 1):
            sheet.column_dimensions[get_column_letter(n)].width = 22
    return book


def _heading_row(sheet: Worksheet, headings: tuple[str, ...]) -> None:
    for c, heading in enumerate(headings, 1):
        cell = sheet.cell(1, c)
        _text_cell(cell, heading)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(vertical="center")
    sheet.freeze_panes = "A2"


def _text_cell(cell: Any, value: Any) -> None:
    """Put ``value`` in ``cell``; text is always stored as text, never as a formula."""
    if value is None:
        return
    cell.value = value
    if isinstance(value, str):
        # openpyxl makes "=..." a formula: store it as a string and mark it as
        # text for Excel (the quote prefix), so editing it keeps it text.
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True


# ------------------------------------------------------------------ plugin and commands


@click.group("roster")
def roster_group() -> None:
    """Rosters in Excel: an empty template, or a community folder as a workbook."""


@roster_group.command("template")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template_command(out: Path) -> None:
    """Write an empty roster workbook (headings in Chinese and English, instructions)."""
    from .cli import for_staff

    _need_xlsx(out)
    write_template(out)
    click.echo(for_staff(f"roster template written to {out}: fill in the sheets, then "
                         f"`gridcore hierarchy show {out}` to check it "
                         f"(花名册模板已写入 {out}：填好各表后用 `gridcore hierarchy show {out}` 检查)"))


@roster_group.command("export")
@click.argument("community", type=click.Path(exists=True, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export_command(community: Path, out: Path) -> None:
    """Write COMMUNITY (a folder, a YAML file or a workbook) as a roster workbook OUT."""
    from gridcore.plugin_host import Hooks

    from .cli import plugin_manager

    _need_xlsx(out)
    try:
        loaded = Hooks(plugin_manager()).load_community(community)
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    save_workbook(loaded, out)
    from .cli import help_lang

    if help_lang() == "zh":  # (the English line starts with the community's name, often Chinese: said in Chinese alone)
        click.echo(f"花名册已导出到 {out}：{loaded.name}，{len(loaded.hierarchy)} 个节点，{len(loaded.members)} 名人员")
    else:
        click.echo(f"{loaded.name}: {len(loaded.hierarchy)} nodes, {len(loaded.members)} members written to {out}"
                   f" (花名册已导出：{len(loaded.hierarchy)} 个节点，{len(loaded.members)} 名人员)")


def _need_xlsx(out: Path) -> None:
    if out.suffix.lower() != ".xlsx":
        raise click.ClickException(f"{out}: give a file name ending in .xlsx (文件名须以 .xlsx 结尾)")
