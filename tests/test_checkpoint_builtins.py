"""Opening a store of a simulated community: every built-in plugin comes back from the checkpoint.

A plugin without ``gridcore_save_state`` is replayed over the whole log when a
store is opened (docs/architecture.md, "Opening"); so a built-in plugin that
kept state but saved none would make every read command cost the whole
history again.  This opens a real store (Yinquan's roster, ruleset and a few
simulated days, every installed plugin) and checks that nothing before the
checkpoint is applied again.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import islice
from pathlib import Path

import pytest

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.checkpointing import CHECKPOINTS
from gridcore.events import Event
from gridcore_app.rosterio import load_community
from gridcore_app.scenario import load_scenario
from gridcore_app.simulate import RULESETS_DIR, simulate

BUILT_INS = ("points", "escalation", "assessment", "tasks")


def test_opening_restores_every_built_in_plugin_and_replays_nothing_before_the_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = RULESETS_DIR / "yinquan"
    community = load_community(where)
    start = datetime(2025, 1, 1, tzinfo=community.tz)
    events = list(islice(simulate(community, load_scenario(where / "scenario.yaml"), days=4,
                                  start=date(2025, 1, 1), seed=3), 300))
    url = f"sqlite:///{tmp_path / 'yq.db'}"
    with Engine.open(store=url, community=community, ruleset=where / "yinquan.rules", effective=start,
                     clock=FixedClock(datetime(2025, 2, 1, tzinfo=community.tz)),
                     plugins=get_plugin_manager()) as engine:
        summary = engine.record_many(events)
        assert summary.accepted > 250
        engine.checkpoint()
        position = engine.position
        expected = engine.store.get(CHECKPOINTS, "index")
    assert expected is not None and position in expected["slots"].values()

    applied: list[str] = []
    replayed_in_full: list[object] = []
    real_apply, real_replay_only = Engine._apply, Engine._replay_only

    def apply(self: Engine, event: Event, *, replaying: bool) -> None:
        applied.append(event.id)
        real_apply(self, event, replaying=replaying)

    def replay_only(self: Engine, plugins: list[object], **kwargs: object) -> None:
        replayed_in_full.extend(plugins)
        real_replay_only(self, plugins, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "_apply", apply)
    monkeypatch.setattr(Engine, "_replay_only", replay_only)
    with Engine.open(store=url, plugins=get_plugin_manager(), read_only=True) as reader:
        slot = next(k for k, v in expected["slots"].items() if v == position)
        saved = reader.store.get(CHECKPOINTS, f"slot-{slot}")
        assert saved is not None
        assert {name.removesuffix("#state") for name in saved["states"]} >= set(BUILT_INS)
        assert reader.position == position
        assert applied == [] and replayed_in_full == []  # restored, not replayed
        board = reader.report("points.board", {"node": "yq", "month": "2025-01"})
        assert board.rows  # and the restored state answers reads
