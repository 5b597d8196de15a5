"""Checkpoints of plugin state: the hook pair, the engine's checkpoints, and their equivalence to a replay."""

from __future__ import annotations

from typing import Any

import pytest

from gridcore import PluginError, get_plugin_manager, hookimpl


def test_the_state_hooks_are_gridcore_hooks() -> None:
    """gridcore_save_state / gridcore_restore_state are accepted; a misspelling is named."""

    class Saver:
        @hookimpl
        def gridcore_save_state(self, engine: Any) -> dict[str, Any]:
            return {}

        @hookimpl
        def gridcore_restore_state(self, engine: Any, document: dict[str, Any]) -> None:
            return None

    pm = get_plugin_manager(load_entry_points=False, extra=[Saver()])
    assert pm.hook.gridcore_save_state.get_hookimpls()
    assert pm.hook.gridcore_restore_state.get_hookimpls()

    class Typo:
        @hookimpl
        def gridcore_save_sate(self, engine: Any) -> dict[str, Any]:
            return {}

    with pytest.raises(PluginError, match=r"did you mean gridcore_save_state\?"):
        get_plugin_manager(load_entry_points=False, extra=[Typo()])
