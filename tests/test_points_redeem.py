"""Redeeming points: atomic, refused with a clear reason, never below zero."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import CST
from test_points_engine import CUIHU, act, at, engine_factory, later

from gridcore import Engine, EventRefused
from gridcore_points import api
from gridcore_points.events import PointsRedeemed


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    yield from engine_factory(tmp_path)


def earn(engine: Any, member: str = "res1", times: int = 5) -> None:
    """res1 mediates once a day: 30 x 1.2 = 36 points each, at most 100 a month (yinquan rules)."""
    engine.record_many([act(f"c{n}", at(n), member, "u11", "mediation", quantity=3) for n in range(times)])


def redemption(ident: str, when: datetime, reward: str, quantity: int = 1, member: str = "res1") -> PointsRedeemed:
    return PointsRedeemed(id=ident, time=when, actor=member, node="u11", reward=reward, quantity=quantity)


def test_redeeming_spends_points_and_explains_which_rule(engines: Any) -> None:
    engine = engines()
    earn(engine)
    later(engine, at(6))
    entry = api.redeem(engine, "res1", "rice", event_id="p1")
    assert entry.amount == -50
    assert api.balance(engine, "res1") == 100 - 50
    why = engine.explain("points:p1")
    assert why.rules[0].line == 14 and "reward rice" in why.rules[0].text
    assert why.inputs["balance_before"] == 100


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (redemption("p1", at(6), "rice", 3), "insufficient balance: res1 has 100 points, 3 x rice costs 150"),
        (redemption("p2", at(6), "caviar"), "unknown reward 'caviar' (the rewards list has: rice, towel)"),
        (redemption("p3", datetime(2026, 1, 3, 9, tzinfo=CST), "rice"), "rice expired on 2025-12-31"),
        (redemption("p4", datetime(2024, 12, 31, 9, tzinfo=CST), "rice"), "not available before 2025-01-01"),
    ],
)
def test_refused_redemptions_change_nothing(engines: Any, event: PointsRedeemed, reason: str) -> None:
    engine = engines()
    earn(engine)
    stored = engine.store.count()
    before = api.balance(engine, "res1", at=event.time)
    with pytest.raises(EventRefused) as refused:
        engine.record(event)
    assert reason in str(refused.value)
    assert engine.store.count() == stored
    assert api.balance(engine, "res1", at=event.time) == before
    assert api.state(engine).entry(event.id) is None


def test_per_member_limit_per_month(engines: Any) -> None:
    engine = engines()
    earn(engine, times=3)
    engine.record_many([act(f"f{n}", datetime(2025, 2, 3 + n, 9, tzinfo=CST), "res1", "u11", "cleanup")
                        for n in range(5)])
    later(engine, datetime(2025, 2, 20, tzinfo=CST))
    api.redeem(engine, "res1", "rice", event_id="p1")
    with pytest.raises(EventRefused, match="limit reached: at most 1 rice per month per member"):
        api.redeem(engine, "res1", "rice", event_id="p2")
    later(engine, datetime(2025, 3, 1, 9, tzinfo=CST))
    api.redeem(engine, "res1", "towel", event_id="p3")
    assert api.balance(engine, "res1") == 100 + 30 - 50 - 20


def test_stock_runs_out(engines: Any) -> None:
    engine = engines(CUIHU)
    events = []
    for member, node in (("res1", "u11"), ("res2", "u21"), ("worker1", "g1")):
        events += [act(f"{member}{d}", at(d), member, node, "volunteer_service", hours=8) for d in range(2)]
    engine.record_many(events)  # 60 points each (8 per hour, at most 60 a month)
    later(engine, at(3))
    for member in ("res1", "res2", "worker1"):
        engine.record(redemption(f"{member}-p1", at(3), "rice", 2, member=member))  # 60 points, stock 10
    # Only 4 bags left; worker1 had his two, res1 may have two more in February.
    later(engine, datetime(2025, 2, 10, 9, tzinfo=CST))
    engine.record_many([act(f"res1-feb{d}", datetime(2025, 2, 3 + d, 9, tzinfo=CST), "res1", "u11",
                            "volunteer_service", hours=8) for d in range(2)])
    engine.record(redemption("res1-p2", datetime(2025, 2, 10, 9, tzinfo=CST), "rice", 2))
    engine.record_many([act(f"res2-feb{d}", datetime(2025, 2, 3 + d, 10, tzinfo=CST), "res2", "u21",
                            "volunteer_service", hours=8) for d in range(2)])
    engine.record(redemption("res2-p2", datetime(2025, 2, 10, 10, tzinfo=CST), "rice", 1, member="res2"))
    with pytest.raises(EventRefused, match="not enough rice in stock: 1 left, 2 asked"):
        engine.record(redemption("res2-p3", datetime(2025, 2, 10, 11, tzinfo=CST), "rice", 2, member="res2"))
    assert [(r.name, r.stock_left) for r in api.rewards(engine)] == [("rice", 1), ("towel", None)]


def test_reward_outside_its_validity_window_in_the_chinese_ruleset(engines: Any) -> None:
    engine = engines(CUIHU)
    engine.record_many([act(f"v{d}", datetime(2025, 6, 10 + d, 9, tzinfo=CST), "res1", "u11",
                            "volunteer_service", hours=2) for d in range(2)])
    later(engine, datetime(2025, 7, 1, 9, tzinfo=CST))
    with pytest.raises(EventRefused, match="towel expired on 2025-06-30"):
        api.redeem(engine, "res1", "towel")


def test_refusal_through_the_api_names_every_reason(engines: Any) -> None:
    engine = engines()
    later(engine, datetime(2026, 1, 3, tzinfo=CST))
    with pytest.raises(EventRefused) as refused:
        api.redeem(engine, "res1", "rice", quantity=2)
    reasons = refused.value.reasons
    assert any("expired" in r for r in reasons)
    assert any("insufficient balance" in r for r in reasons)
    assert any("limit reached" in r for r in reasons)


def test_a_ruleset_without_points_refuses_redemption(engines: Any, tmp_path: Any) -> None:
    engine = engines(None)
    with pytest.raises(EventRefused, match="no points rules are in force"):
        api.redeem(engine, "res1", "rice")


def test_repeating_the_same_redemption_is_a_no_op(engines: Any) -> None:
    engine = engines()
    earn(engine)
    later(engine, at(6))
    api.redeem(engine, "res1", "towel", event_id="p1")
    api.redeem(engine, "res1", "towel", event_id="p1")
    assert api.balance(engine, "res1") == 100 - 20
