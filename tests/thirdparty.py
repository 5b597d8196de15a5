"""Helpers that install a throwaway third-party plugin the way pip would.

``install_plugin`` writes a package and a ``*.dist-info`` folder with an
``entry_points.txt`` into a folder on ``sys.path``, so ``importlib.metadata``
(and so pluggy's ``load_setuptools_entrypoints``) finds it exactly like an
installed distribution.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path


def install_plugin(site: Path, dist: str, module: str, source: str, version: str = "1.0",
                   target: str | None = None) -> None:
    """Install module ``module`` (with ``source``) as distribution ``dist`` into ``site``; its entry point
    names ``target`` (default: the module; ``module:plugin`` names an object of it)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[gridcore]\n{dist} = {target or module}\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    importlib.invalidate_caches()


def uninstall(site: Path, module: str) -> None:
    """Undo ``install_plugin``: drop the folder from ``sys.path`` and the module from the cache."""
    if str(site) in sys.path:
        sys.path.remove(str(site))
    sys.modules.pop(module, None)
    importlib.invalidate_caches()
