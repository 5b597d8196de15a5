"""Opening a store from a URL or path, the way the engine and the CLI do."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

    from . import Store


def open_store(url: str, *, plugins: pluggy.PluginManager | None = None, create: bool = True) -> Store:
    """Open (creating if missing, unless ``create=False``) the store ``url`` names.

    ``url`` is a plain path (the TinyDB store folder), ``sqlite:///path.db``,
    ``postgresql://user:password@host/db[?schema=NAME]``, or any scheme an
    installed plugin serves.  The backend is found through the
    ``gridcore_storage_backend`` hook of ``plugins`` (default: a fresh plugin
    manager with every installed plugin).  Raises ``StoreError`` if no backend
    knows the URL or the store is corrupt or unreachable.
    """
    from ..plugin_host import Hooks, get_plugin_manager

    return Hooks(plugins or get_plugin_manager()).storage_backend(url, create=create)
