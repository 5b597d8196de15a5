"""The roster files as a plugin (entry point ``rosters``): ``gridcore_load_community`` for folders of YAML and CSV.

Registered through the ``gridcore`` entry-point group like any format plugin,
last (``trylast``), so a plugin of yours can read another format first.  The
reader itself (``gridcore_app.rosterio``, YAML and CSV parsing) is imported only
when a community is read, so loading the plugins stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcore import hookimpl

if TYPE_CHECKING:
    from pathlib import Path

    from gridcore.community import Community


@hookimpl(trylast=True)
def gridcore_load_community(path: Path) -> Community | None:
    """The roster format of record: a folder with ``community.yaml`` (plus CSV sheets) or one YAML file."""
    from .rosterio import load_community

    return load_community(path)
