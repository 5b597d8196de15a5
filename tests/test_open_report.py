"""``Engine.open_report``: how an open built the state (from which checkpoint, how much it replayed, why not).

Last session a benchmark's reads "from a checkpoint" ran in a venv with a test-only plugin installed: no
checkpoint fitted, every open replayed the whole log, and a 4x figure was published.  The report says it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import small_community
from storefixtures import StoreFactory
from test_checkpoints import START, TallyPlugin, activity, open_toy

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.checkpointing import CHECKPOINTS


@pytest.fixture(params=("tinydb", "sqlite"))
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    factory = StoreFactory(request.param, tmp_path)
    made = factory.url()
    with open_toy(made, community=small_community()) as engine:
        engine.checkpoint_min = 1
        engine.record_many([activity(n) for n in range(1, 21)])
        assert engine.store.get(CHECKPOINTS, "index") is not None
    yield made
    factory.cleanup()


def test_an_open_from_a_checkpoint_says_so_and_what_it_replayed(url: str) -> None:
    with open_toy(url, read_only=True) as reader:
        report = reader.open_report
        assert report.restored and report.restored_from == reader.position and report.replayed == 0
        assert report.why_not == "" and report.rebuilds == 0
        assert report.replayed_in_full == ("recorder",)  # it keeps no state: it sees every event again
        assert str(report).startswith(f"restored from the checkpoint at {reader.position:,}, 0 of ")
        assert "从检查点恢复" in str(report)
        stored = reader.position
    with open_toy(url) as writer:  # a writer that dies before its checkpoint: a tail of 5 and what they derive
        writer.checkpoint = lambda: False  # type: ignore[method-assign]
        writer.record_many([activity(n) for n in range(21, 26)])
        grown = writer.position
    with open_toy(url, read_only=True) as reader:
        report = reader.open_report
        assert (report.restored_from, report.replayed, report.position) == (stored, grown - stored, grown)
        assert report.replayed >= 5


def test_an_open_that_replays_everything_says_why(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fewer = get_plugin_manager(load_entry_points=False, extra=[TallyPlugin()])
    with Engine.open(store=url, plugins=fewer, clock=FixedClock(START), read_only=True) as other:
        report = other.open_report
        assert not report.restored and report.restored_from == 0 and report.replayed == other.position
        assert "taken under other plugins, rulesets or roster" in report.why_not
        assert "plugins loaded then and not now: RecorderPlugin, recorder" in report.why_not
        assert str(report).startswith("no checkpoint restored: ") and "全部重放" in str(report)
    monkeypatch.setattr(sys.modules[TallyPlugin.__module__], "__version__", "2.0", raising=False)
    with open_toy(url, read_only=True) as upgraded:
        assert not upgraded.open_report.restored
        assert "another version or state version of TallyPlugin, tally" in upgraded.open_report.why_not


def test_an_open_without_checkpoints_and_a_state_built_again_are_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    with open_toy(url, community=small_community()) as writer:  # never a checkpoint
        writer.checkpoint = lambda: False  # type: ignore[method-assign]
        writer.record_many([activity(n) for n in range(1, 21)])
    with open_toy(url) as bare:
        assert bare.open_report.why_not == "no checkpoint is stored" and not bare.open_report.restored
        assert bare.open_report.replayed == bare.position
        bare.checkpoint_min = 10_000
        assert bare.open_report.rebuilds == 0
        bare.record(activity(99, hours=1.5))  # late: the state is built again from the store
        assert bare.open_report.rebuilds == 1 and "built again 1 time(s)" in str(bare.open_report)
