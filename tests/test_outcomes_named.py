"""``Engine.outcomes(plugins=...)``: only the named plugins' outcomes, and only their hooks asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Demo

from gridcore import Engine, hookimpl
from gridcore.errors import PluginError

REPO = Path(__file__).resolve().parent.parent


class Broken:
    """A plugin whose outcomes cannot be made: asked, it fails the call."""

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Any]:
        raise RuntimeError("asked")


def test_the_named_plugins_outcomes_are_those_of_all_outcomes_with_their_names(demo: Demo) -> None:
    with Engine.open(store=demo.store, read_only=True) as engine:
        every = engine.outcomes()
        plugins = sorted({outcome.plugin for outcome in every})
        assert {"points", "escalation", "assessment"} <= set(plugins)
        for chosen in ([name] for name in plugins):
            assert engine.outcomes(plugins=chosen) == [o for o in every if o.plugin in chosen]
        assert engine.outcomes(plugins=("points", "escalation")) == [
            o for o in every if o.plugin in ("points", "escalation")]
        assert engine.outcomes(plugins=plugins) == every
        assert engine.outcomes(plugins=[]) == []
        assert engine.outcomes(plugins=["no-such-plugin"]) == []


def test_a_plugin_not_named_is_not_asked(demo: Demo) -> None:
    with Engine.open(store=demo.store, read_only=True) as engine:
        engine.plugins.register(Broken(), name="broken")
        with pytest.raises(PluginError, match="asked"):
            engine.outcomes()
        assert engine.outcomes(plugins=["points"])  # (the broken plugin is left out, and nothing fails)
        with pytest.raises(PluginError, match="asked"):
            engine.outcomes(plugins=["points", "broken"])


def test_a_case_file_asks_only_the_plugins_it_expects_of() -> None:
    """``gridcore test``: the Yinquan case file, run as the CLI runs it, with a plugin beside the built-ins
    whose outcomes cannot be made: no case expects anything of it, so none asks it (every case failed so)."""
    from gridcore.plugin_host import get_plugin_manager
    from gridcore_app.casetest import run_cases

    pm = get_plugin_manager()
    pm.register(Broken(), name="broken")
    report = run_cases(REPO / "rulesets" / "yinquan" / "yinquan_test.yaml", plugins=pm)
    assert len(report.results) == 16 and all(result.passed for result in report.results), [
        (result.name, result.error) for result in report.results if not result.passed]
