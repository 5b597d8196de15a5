"""A points save after earlier saves writes what a save after a full replay of the same store writes.

A save dumps again only the accounts booked on since the last one (``Records.dirty``) and keeps the
rows it dumped or restored of the others (``Records.saved_accounts``), with the rows of each account's
fresh lots (``checkpoint.FreshAt``) and the parts of its lots already sealed: what it writes must be, byte
for byte, what one save of an engine that replayed the same store from its first event writes, wherever the
saves fell, whether the state was restored from a checkpoint between them and whether the events came in
time order or not (late events rewind the state).  Byte for byte includes the history's booking order
across members (``Records.sweep`` advances accounts in the order they fall due, however they were queued).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_points_bounded import SHORT, events
from test_points_engine import DATA, YINQUAN, open_points
from test_points_invariants import START

from gridcore.events import Event
from gridcore_points import api


@settings(max_examples=int(os.environ.get("GRIDCORE_TEST_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(history=st.one_of(events(), events().flatmap(st.permutations)),
       cuts=st.lists(st.tuples(st.integers(0, 60), st.booleans()), max_size=4),
       ruleset=st.sampled_from([SHORT, DATA / "yinquan.rules", YINQUAN]))
def test_a_save_after_saves_writes_what_a_replay_writes(history: list[Event], cuts: list[tuple[int, bool]],
                                                         ruleset: Path) -> None:
    # ``cuts``: where a save is taken (an index of the history) and whether the engine is then closed on a
    # checkpoint and opened again (its accounts then rows, built when first used)
    ends = sorted({min(at, len(history)): reopen for at, reopen in cuts}.items()) + [(len(history), False)]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.checkpoint.LOT_PART", 2)  # (lots sealed in parts of 2: many parts)
        store = Path(tmp) / "saves"
        engine = open_points(store, ruleset, now=START)
        try:
            done = 0
            for n, (end, reopen) in enumerate(ends):
                engine.record_many(history[done:end])
                done = end
                saved = engine.hooks.save_state(engine, api.state(engine))
                # (the reference replays what the store holds: which events were refused depends on what
                # had arrived before them, so not the history itself)
                shutil.copytree(store, Path(tmp) / f"replayed-{n}")
                with open_points(Path(tmp) / f"replayed-{n}", ruleset, now=START) as replayed:
                    replayed.rebuild()
                    want = replayed.hooks.save_state(replayed, api.state(replayed))
                assert json.dumps(saved) == json.dumps(want)
                if reopen:
                    engine.checkpoint()
                    engine.close()
                    engine = open_points(store, ruleset, now=START)
        finally:
            engine.close()
