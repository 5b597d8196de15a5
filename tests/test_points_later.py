"""A redemption or award is judged against the stored events after it only when some can be there.

The points state asks the store for the events after a redemption (``later_events``)
only when the engine's state does not hold every stored event (``Engine.caught_up``
is False: a late event is judged on a rewound state, or a replay is under way).  An
in-order ingest asks nothing; a late redemption that would leave later spending
uncovered is refused with the same reason whether that spending is in the same
store behind a rewind, behind a checkpoint, or was stored by another writer this
engine has not seen yet.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import CST, REPO, small_community
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded, Event
from gridcore.store import Store
from gridcore_points import api
from gridcore_points.events import PointsRedeemed, RecognitionAwarded

YINQUAN = REPO / "tests" / "data" / "points" / "yinquan.rules"
MONDAY = datetime(2025, 1, 6, 9, tzinfo=CST)
EFFECTIVE = datetime(2024, 1, 1, tzinfo=CST)


def at(days: int, hour: int = 9) -> datetime:
    return MONDAY.replace(day=6 + days, hour=hour)


def mediation(ident: str, day: int, quantity: int) -> ActivityRecorded:
    """res1 earns 12 points a mediation."""
    return ActivityRecorded(id=ident, time=at(day), actor="res1", node="u11", activity="mediation",
                            quantity=quantity)


def redeem(ident: str, day: int, reward: str, hour: int = 9) -> PointsRedeemed:
    return PointsRedeemed(id=ident, time=at(day, hour), actor="res1", node="u11", reward=reward)


def too_early(ident: str, day: int, hour: int = 9) -> str:
    """The reason a redemption dated before later spending it would leave uncovered is refused for."""
    return (f"{ident} is dated {at(day, hour).isoformat()}, before later redemptions that it would leave "
            "without enough points; record it with a later time (补录的兑换会使之后的兑换积分不足，请按较晚的时间登记)")


stores = stores_fixture()


sql = stores_fixture(("sqlite", "postgresql"), name="sql")


def points_engine(store: str | Store, community: bool = True) -> Engine:
    """An engine with only the points plugin (the small community, Yinquan's rules when new)."""
    kw: dict[str, Any] = {"community": small_community(), "ruleset": YINQUAN, "effective": EFFECTIVE} \
        if community else {}
    return Engine.open(store=store, clock=FixedClock(at(20)),
                       plugins=get_plugin_manager(("escalation", "assessment", "tasks", "planning")), **kw)


class LaterQueries:
    """Counts the store queries for events after a given time (``events(since=...)``: what
    ``later_events`` asks; a replay reads the log without ``since``)."""

    def __init__(self, store: Store) -> None:
        self.since: list[datetime] = []
        events = store.events

        def counted(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("since") is not None:
                self.since.append(kwargs["since"])
            return events(*args, **kwargs)

        store.events = counted  # type: ignore[method-assign]


def test_an_in_order_ingest_asks_the_store_for_no_later_events(stores: StoreFactory) -> None:
    store = stores.open()
    queries = LaterQueries(store)
    with points_engine(store) as engine:
        assert engine.caught_up
        engine.record_many([mediation(f"m{d}", d, 1) for d in range(7)], batch_size=3)  # 84 points
        engine.record_many([redeem("p1", 7, "towel"), mediation("m7", 7, 1), redeem("p2", 8, "towel"),
                            RecognitionAwarded(id="g1", time=at(8, 10), actor="leader1", node="g1",
                                               member="worker1", points=20, reason="台风值守")], batch_size=2)
        for n in range(2):
            engine.record(redeem(f"q{n}", 9 + n, "towel"))
        with pytest.raises(EventRefused, match="insufficient balance"):
            engine.record(redeem("rice1", 11, "rice"))
        assert engine.caught_up
        assert queries.since == []  # none of the six redemptions and the award asked
        assert api.balance(engine, "res1") == 96 - 4 * 20
        # A late one asks (the counter sees its query): one query, from its own time.  56 points
        # at day 8 buy the rice, but leave the towels at days 9 and 10 uncovered.
        with pytest.raises(EventRefused) as refused:
            engine.record(redeem("late", 8, "rice", hour=12))
        assert refused.value.reasons == [too_early("late", 8, 12)]
        assert queries.since == [at(8, 12)]
        assert engine.caught_up


def test_a_late_redemption_refused_at_its_own_time_asks_for_no_later_events(stores: StoreFactory) -> None:
    """Refused where it stands (balance, limit, stock), nothing after it can make it acceptable, so the
    store is not read for what follows: a file offered again, whose refused redemptions are judged
    again on a rewound state, would otherwise read the rest of the log once for each of them."""
    store = stores.open()
    queries = LaterQueries(store)
    log = [mediation("m0", 0, 3), redeem("rice0", 1, "rice"), mediation("m1", 2, 3), redeem("rice1", 3, "rice"),
           mediation("m2", 4, 1), redeem("towel", 5, "towel")]
    with points_engine(store) as engine:
        first = engine.record_many(log)
        assert [r.event_id for r in first.refused] == ["rice0"]  # 36 points at day 1
        again = engine.record_many(log)  # rice0 is late now: judged on a state rewound to day 1
        assert again.duplicates == 5 and again.accepted == 0
        assert [(r.event_id, r.reasons) for r in again.refused] == [(r.event_id, r.reasons) for r in first.refused]
        assert "insufficient balance: res1 has 36 points" in again.refused[0].reasons[0]
        assert queries.since == []
        # one that passes at its own time is still judged against what follows (one query)
        with pytest.raises(EventRefused) as refused:
            engine.record(redeem("towel0", 3, "towel", 8))  # 36 - 20 + 36 < 50 for the rice at day 3
        assert refused.value.reasons == [too_early("towel0", 3, 8)]
        assert queries.since == [at(3, 8)]
        assert engine.caught_up and api.balance(engine, "res1") == 84 - 50 - 20


def test_a_late_redemption_is_refused_for_later_spending_behind_a_rewind(stores: StoreFactory) -> None:
    url = stores.url()
    with points_engine(url) as engine:
        engine.record_many([mediation("m1", 0, 3), mediation("m2", 1, 3), mediation("m3", 10, 1),
                            redeem("rice", 11, "rice")])  # 84 points, 34 left
        # A run of late events in one call: t1 is judged on a state rewound to day 5, t2 (day 6)
        # while the rice at day 11 is still only in the store (52 - 20 + 12 < 50), t3 after the
        # replay reached the end of the log.
        summary = engine.record_many([redeem("t1", 5, "towel"), redeem("t2", 6, "towel"),
                                      mediation("m4", 12, 1), redeem("t3", 12, "towel", 10)])
        assert [(r.event_id, r.reasons) for r in summary.refused] == [("t2", [too_early("t2", 6)])]
        assert summary.accepted == 3 and engine.caught_up
        assert api.balance(engine, "res1") == 96 - 50 - 2 * 20
    with points_engine(url, community=False) as again:  # the same judgement from the log alone
        assert [e.id for e in again.events(kinds=["points_redeemed"])] == ["t1", "rice", "t3"]
        with pytest.raises(EventRefused) as refused:
            again.record(redeem("t2", 6, "towel"))
        assert refused.value.reasons == [too_early("t2", 6)]


def test_a_late_redemption_is_refused_for_later_spending_behind_a_checkpoint(stores: StoreFactory) -> None:
    url = stores.url()
    with points_engine(url) as engine:
        engine.checkpoint_min = engine.checkpoint_every = 4
        engine.checkpoint_share = 1
        engine.record_many([mediation(f"m{d}", d, 1) for d in range(8)] + [redeem("rice", 8, "rice", 10)],
                           batch_size=4)  # 96 points, 46 left
    with points_engine(url, community=False) as engine:  # restored from a checkpoint
        assert engine.caught_up
        assert engine.record(redeem("t1", 4, "towel", 12))  # 60 - 20 at day 4, 96 - 20 - 50 at day 8
        assert engine.record(redeem("t2", 5, "towel", 12))  # 72 - 40, 96 - 40 - 50
        with pytest.raises(EventRefused) as refused:
            engine.record(redeem("t3", 6, "towel", 12))  # 84 - 60, but 96 - 60 < 50
        assert refused.value.reasons == [too_early("t3", 6, 12)]


def test_a_redemption_before_another_writers_spending_is_refused_for_the_same_reason(sql: StoreFactory) -> None:
    """The engine knows only what it has read: another writer's spending after ``position`` is
    not asked for, but the append is conditional on ``position``, so the redemption is judged
    again after it, now late, and refused for the reason a query would have given at once."""
    url = sql.url()
    with points_engine(url) as setup:
        setup.record(mediation("m1", 0, 3))  # 36 points
    first, second = points_engine(url, community=False), points_engine(url, community=False)
    try:
        second.record_many([mediation("m2", 10, 2), redeem("rice", 11, "rice")])  # 60, then 50 spent
        assert first.caught_up and first.position < second.position  # first has not seen them
        with pytest.raises(EventRefused) as refused:
            first.record(redeem("towel", 5, "towel"))  # 36 - 20 at day 5, but 60 - 20 < 50 at day 11
        assert refused.value.reasons == [too_early("towel", 5)]
        # (accepted on what first held, its append found the store moved: it read second's events and
        # judged the towel again, late; asking the store at once had refused it without reading them)
        assert first.position == second.position and first.caught_up
        assert not first.store.contains("towel")
        # Refused on the state first holds (10 points at day 11), with nothing to append: the
        # same reasons as an engine that has read the mediation second stored after it.
        second.record(mediation("m3", 12, 1))
        with pytest.raises(EventRefused) as refused:
            first.record(redeem("towel2", 11, "towel", 10))
        with pytest.raises(EventRefused) as again:
            second.record(redeem("towel2", 11, "towel", 10))
        assert refused.value.reasons == again.value.reasons
        assert "insufficient balance: res1 has 10 points" in again.value.reasons[0]
    finally:
        first.close()
        second.close()


class Watcher:
    """A third-party plugin noting what ``engine.caught_up`` says while it judges each event."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> None:
        self.seen.append((event.id, engine.caught_up))


def test_caught_up_says_whether_stored_events_wait_to_be_applied(stores: StoreFactory) -> None:
    watcher = Watcher()
    pm = get_plugin_manager(("escalation", "assessment", "tasks", "planning"), extra=[watcher])
    url = stores.url()
    with Engine.open(store=url, community=small_community(), ruleset=YINQUAN, effective=EFFECTIVE,
                     clock=FixedClock(at(20)), plugins=pm) as engine:
        engine.record_many([mediation("m0", 0, 1), mediation("m5", 5, 1), mediation("m9", 9, 1)])
        assert watcher.seen == [("m0", True), ("m5", True), ("m9", True)]
        watcher.seen.clear()
        # late: m2 and m3 are judged while m5 and m9 are stored but not applied; m7 while m9 is;
        # m12 after the replay reached the end
        engine.record_many([mediation("m2", 2, 1), mediation("m3", 3, 1), mediation("m7", 7, 1),
                            mediation("m12", 12, 1)])
        assert watcher.seen == [("m2", False), ("m3", False), ("m7", False), ("m12", True)]
        assert engine.caught_up


def test_caught_up_is_false_while_refresh_applies_another_writers_events(sql: StoreFactory) -> None:
    """Catching up moves the position first, then applies what another writer stored one by one:
    the derived events judged meanwhile (escalations falling due) come before stored events
    not applied yet."""
    from gridcore_escalation.events import IncidentReported

    url = sql.url()
    start = datetime(2025, 3, 3, 9, tzinfo=CST)
    community = REPO / "tests" / "data" / "escalation" / "community"
    ladder = REPO / "tests" / "data" / "escalation" / "ladder-grid.rules"
    watcher = Watcher()
    with Engine.open(store=url, community=community, ruleset=ladder, effective=start.replace(day=1),
                     clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment"))) as setup:
        setup.record(IncidentReported(id="r0", time=start, actor="worker1", node="u11", incident="I0",
                                      category="leaking_pipe"))
    first = Engine.open(store=url, clock=FixedClock(start),
                        plugins=get_plugin_manager(("points", "assessment"), extra=[watcher]))
    second = Engine.open(store=url, clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment")))
    try:
        # the report of the next day comes after I0's escalation (not accepted within an hour)
        second.record(IncidentReported(id="r1", time=start.replace(day=4), actor="worker1", node="u11",
                                       incident="I1", category="leaking_pipe"))
        escalated = [e.id for e in second.events(kinds=["incident_escalated"])]
        assert escalated
        watcher.seen.clear()
        assert first.refresh() == 1 + len(escalated) and first.caught_up
        assert [ident for ident, _ in watcher.seen] == escalated
        assert not any(caught_up for _, caught_up in watcher.seen)
    finally:
        first.close()
        second.close()


SECOND_WRITER = """
import sys
sys.path.insert(0, {tests!r})
from test_points_later import mediation, points_engine, redeem
with points_engine({url!r}, community=False) as second:
    second.record_many([mediation("m2", 10, 2), redeem("rice", 11, "rice")])
"""


def test_a_redemption_before_spending_stored_by_another_process_is_refused(sql: StoreFactory) -> None:
    """The same race with the other writer a real process: its spending lands after ``first`` opened,
    so ``first`` is caught up on what it has read, and the conditional append makes it judge again."""
    import subprocess
    import sys

    url = sql.url()
    with points_engine(url) as setup:
        setup.record(mediation("m1", 0, 3))  # 36 points
    first = points_engine(url, community=False)
    try:
        code = SECOND_WRITER.format(tests=str(Path(__file__).parent), url=url)
        subprocess.run([sys.executable, "-c", code], check=True)
        assert first.caught_up and first.store.contains("rice")  # stored by the other process, not read
        with pytest.raises(EventRefused) as refused:
            first.record(redeem("towel", 5, "towel"))
        assert refused.value.reasons == [too_early("towel", 5)]
        assert first.caught_up and not first.store.contains("towel")
    finally:
        first.close()
