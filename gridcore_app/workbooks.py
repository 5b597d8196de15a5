"""Roster workbooks as a plugin (entry point ``workbook``): ``.xlsx`` rosters and ``gridcore roster``.

Registered through the ``gridcore`` entry-point group like any format plugin.
The reader and writer (``gridcore_app.rosterbook``, on openpyxl) are imported
only when a workbook is read or a ``roster`` command runs, so loading the
plugins stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gridcore import hookimpl

if TYPE_CHECKING:
    import click

    from gridcore.community import Community

SUFFIXES = (".xlsx", ".xls")


@hookimpl
def gridcore_load_community(path: Path) -> Community | None:
    """Read ``.xlsx`` roster workbooks (and refuse old ``.xls`` ones clearly); anything else is not ours."""
    if Path(path).suffix.lower() not in SUFFIXES or Path(path).is_dir():
        return None
    from .rosterbook import load_workbook_roster

    return load_workbook_roster(path)


@hookimpl
def gridcore_register_commands() -> list[click.Command]:
    """``gridcore roster template|export`` (imported only when it runs)."""
    from .cli import lazy_command

    return [lazy_command("roster", "gridcore_app.rosterbook:roster_group",
                         "Rosters in Excel: an empty template, or a community folder as a workbook.")]
