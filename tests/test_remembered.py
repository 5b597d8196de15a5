"""Refusals remembered (``gridcore.remembered``): an event offered again is not judged again while nothing before it changed.

An event refused where the log ends is noted in the store; offered again
unchanged, now late, it is refused for the same reasons without rewinding the
plugins and replaying the log, but only while every event stored since comes
after it and the rulesets, plugins and community are the same. Each test that
shows a note ignored fails if the note were taken on its id alone.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import CST, REPO, small_community
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, Event
from gridcore.remembered import COLLECTION
from gridcore_points import api
from gridcore_points.events import PointsRedeemed

YINQUAN = REPO / "tests" / "data" / "points" / "yinquan.rules"
MONDAY = datetime(2025, 1, 6, 9, tzinfo=CST)
EFFECTIVE = datetime(2024, 1, 1, tzinfo=CST)


def at(days: int, hour: int = 9) -> datetime:
    return MONDAY + timedelta(days=days, hours=hour - 9)


def mediation(ident: str, day: int, quantity: int, hour: int = 9, actor: str = "res1") -> ActivityRecorded:
    """res1 earns 12 points a mediation (36 for a quantity of 3 or more)."""
    return ActivityRecorded(id=ident, time=at(day, hour), actor=actor, node="u11", activity="mediation",
                            quantity=quantity)


def redeem(ident: str, day: int, reward: str, hour: int = 9, actor: str = "res1") -> PointsRedeemed:
    return PointsRedeemed(id=ident, time=at(day, hour), actor=actor, node="u11", reward=reward)


class Replays:
    """A plugin counting the events applied in a replay (a rewind replays the log after a checkpoint)."""

    def __init__(self) -> None:
        self.count = 0

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        self.count += replaying


def points_engine(store: Any, replays: Replays | None = None, ruleset: Path = YINQUAN) -> Engine:
    plugins = get_plugin_manager(("escalation", "assessment", "tasks", "planning"))
    if replays is not None:
        plugins.register(replays)
    return Engine.open(store=store, clock=FixedClock(at(40)), plugins=plugins, community=small_community(),
                       ruleset=ruleset, effective=EFFECTIVE)


stores = stores_fixture()


def refusals(summary: Any) -> list[tuple[str, list[str]]]:
    return [(refusal.event_id, refusal.reasons) for refusal in summary.refused]


LOG = [mediation("m0", 0, 3), redeem("rice0", 1, "rice"), mediation("m1", 2, 3), redeem("rice1", 3, "rice"),
       mediation("m2", 4, 1), redeem("towel", 5, "towel"), redeem("rice2", 6, "rice"), mediation("m3", 8, 2)]


def test_a_file_offered_again_is_refused_again_without_a_replay(stores: StoreFactory) -> None:
    replays = Replays()
    with points_engine(stores.open(), replays) as engine:
        first = engine.record_many(LOG, batch_size=3)
        # 36 points at day 1, 72 - 50 at day 6, after the towel
        assert [ident for ident, _ in refusals(first)] == ["rice0", "rice2"]
        assert "insufficient balance" in first.refused[0].reasons[0]
        assert {ident for ident, _ in engine.store.items(COLLECTION)} == {"rice0", "rice2"}
        again = engine.record_many(LOG, batch_size=3)
        assert refusals(again) == refusals(first) and again.duplicates == 6 and again.accepted == 0
        assert replays.count == 0  # judged again from the notes: nothing rewound
        engine.remember_refusals = False
        without = engine.record_many(LOG, batch_size=3)
        assert refusals(without) == refusals(first)
        assert replays.count > 0  # the same verdicts, by a rewind and a replay of the log
        assert api.balance(engine, "res1") == 100 - 50 - 20  # (108 earned, 100 a month at most)


def test_an_event_stored_before_it_since_makes_it_judged_again(stores: StoreFactory) -> None:
    with points_engine(stores.open()) as engine:
        engine.record_many([mediation("m0", 0, 3), redeem("rice", 1, "rice"), mediation("m5", 5, 1)])
        assert engine.record_many([redeem("rice", 1, "rice")]).refused  # noted: still 36 points at day 1
        # a mediation dated before the redemption, offered late: 72 points at day 1 now
        assert engine.record_many([mediation("late", 1, 3, hour=8)]).accepted == 1
        again = engine.record_many([redeem("rice", 1, "rice")])
        assert again.accepted == 1 and not again.refused
        assert api.balance(engine, "res1") == 36 + 36 + 12 - 50


def test_an_event_stored_after_it_since_leaves_the_note_standing(stores: StoreFactory) -> None:
    replays = Replays()
    with points_engine(stores.open(), replays) as engine:
        engine.record_many([mediation("m0", 0, 3), redeem("rice", 1, "rice")])
        engine.record_many([mediation("m5", 5, 3), mediation("m6", 6, 3)])
        again = engine.record_many([redeem("rice", 1, "rice")])  # late now, nothing stored before it
        assert [ident for ident, _ in refusals(again)] == ["rice"] and replays.count == 0


def test_a_changed_event_under_the_same_id_is_judged_again(stores: StoreFactory) -> None:
    with points_engine(stores.open()) as engine:
        first = engine.record_many([mediation("m0", 0, 3), redeem("r1", 1, "rice"), mediation("m5", 5, 1)])
        assert [ident for ident, _ in refusals(first)] == ["r1"]
        mended = engine.record_many([redeem("r1", 1, "towel")])  # the same id, 20 points: 36 will do
        assert mended.accepted == 1 and not mended.refused


def test_a_ruleset_put_in_force_since_makes_it_judged_again(stores: StoreFactory, tmp_path: Path) -> None:
    cheaper = tmp_path / "cheaper.rules"
    cheaper.write_text(YINQUAN.read_text(encoding="utf-8").replace("reward rice: 50 points", "reward rice: 30 points"),
                       encoding="utf-8")
    with points_engine(stores.open()) as engine:
        engine.record_many([mediation("m0", 0, 3), redeem("rice", 1, "rice"), mediation("m5", 5, 1)])
        engine.use_ruleset(cheaper, effective=EFFECTIVE)
        again = engine.record_many([redeem("rice", 1, "rice")])
        assert again.accepted == 1 and not again.refused


def test_a_damaged_note_is_ignored(stores: StoreFactory) -> None:
    with points_engine(stores.open()) as engine:
        first = engine.record_many([mediation("m0", 0, 3), redeem("rice", 1, "rice"), mediation("m5", 5, 1)])
        for broken in ({"format": 1}, {"format": 1, "position": "x", "order": [], "reasons": 3, "fit": None,
                                        "digest": ""}):
            engine.store.put(COLLECTION, "rice", broken)
            again = engine.record_many([redeem("rice", 1, "rice")])
            assert refusals(again) == refusals(first)[:1] or refusals(again) == refusals(first)


EVENTS = st.lists(
    st.tuples(st.sampled_from(("mediation", "rice", "towel")), st.integers(0, 12), st.integers(8, 18),
              st.sampled_from(("res1", "res2")), st.integers(1, 3)),
    min_size=1, max_size=14)


def _events(drawn: list[tuple[str, int, int, str, int]]) -> list[Event]:
    made: list[Event] = []
    for n, (kind, day, hour, actor, quantity) in enumerate(drawn):
        if kind == "mediation":
            made.append(mediation(f"e{n}", day, quantity, hour, actor))
        else:
            made.append(redeem(f"e{n}", day, kind, hour, actor))
    return made


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=EVENTS, late=EVENTS, split=st.integers(1, 14), data=st.data())
def test_notes_never_change_a_verdict(tmp_path_factory: pytest.TempPathFactory, first: list[Any],
                                      late: list[Any], split: int, data: st.DataObject) -> None:
    """Offered in parts, then again with events mixed in: the same summaries, log and balances with notes and without."""
    log = _events(first)
    extra = [attrs.evolve(event, id="x" + event.id) for event in _events(late)]
    offers = [log[:split], log[split:], data.draw(st.permutations(log + extra)), log]
    results = []
    for remember in (True, False):
        folder = tmp_path_factory.mktemp("remembered")
        with points_engine(f"sqlite:///{folder / 'd.sqlite'}") as engine:
            engine.remember_refusals = remember
            summaries = []
            for offer in offers:
                summary = engine.record_many(offer, batch_size=3)
                summaries.append((summary.accepted, summary.duplicates, sorted(refusals(summary))))
            results.append((summaries, [e.id for e in engine.events()],
                            api.balance(engine, "res1"), api.balance(engine, "res2")))
    assert results[0] == results[1]


def test_an_event_another_process_stored_before_it_makes_it_judged_again(tmp_path: Path) -> None:
    """The note is checked against the store, not against what this engine has read: a second process (a real
    one) stores a mediation dated before the refused redemption; offered again, the redemption is judged on
    the log the store holds and accepted. Taken from the note, it would be refused again."""
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    replays = Replays()
    with points_engine(url, replays) as engine:
        first = engine.record_many([mediation("m0", 0, 3), redeem("rice", 1, "rice"), mediation("m5", 5, 1)])
        assert [ident for ident, _ in refusals(first)] == ["rice"]
        other = (
            "import sys\n"
            "from datetime import datetime, timedelta, timezone\n"
            "from gridcore import Engine, FixedClock, get_plugin_manager\n"
            "from gridcore.events import ActivityRecorded\n"
            "cst = timezone(timedelta(hours=8))\n"
            "with Engine.open(store=sys.argv[1], clock=FixedClock(datetime(2025, 2, 15, tzinfo=cst)),\n"
            "                 plugins=get_plugin_manager(('escalation', 'assessment', 'tasks', 'planning'))) as e:\n"
            "    s = e.record_many([ActivityRecorded(id='late', time=datetime(2025, 1, 7, 8, tzinfo=cst),\n"
            "                                        actor='res1', node='u11', activity='mediation', quantity=3)])\n"
            "    print(s.accepted)\n"
        )
        done = subprocess.run([sys.executable, "-c", other, url], capture_output=True, text=True, timeout=300,
                              check=True)
        assert done.stdout.split() == ["1"]
        assert engine.position < engine.store.position()  # this engine has not read it
        again = engine.record_many([redeem("rice", 1, "rice")])
        assert again.accepted == 1 and not again.refused
        assert api.balance(engine, "res1") == 36 + 36 + 12 - 50
