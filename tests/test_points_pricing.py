"""Pricing worked out once per (policy, activity), and streak spans closed without a policy lookup.

``PointsPolicy.pricing`` must say exactly what reading the item list for each
event said; ``Booking.may_pay`` may skip asking which policy was in force
when a span ended only if no ruleset in force has a streak over such spans,
and must learn of a ruleset put in force later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import CST
from test_points_engine import DATA, YINQUAN, act, engine_factory, later

from gridcore import Engine
from gridcore.rules import load_ruleset
from gridcore_points import api
from gridcore_points.policy import PointsPolicy
from gridcore_points.section import SECTION, section

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Open points engines under tmp_path; all are closed afterwards."""
    yield from engine_factory(tmp_path)


def policy_of(path: Path) -> PointsPolicy:
    """The points policy a rules file puts in force on 2025-03-03."""
    policy = load_ruleset(path, sections=[section()]).policy(SECTION, at=MONDAY.date())
    assert policy is not None
    return policy


def test_pricing_says_what_the_item_list_says() -> None:
    for path in (YINQUAN, DATA / "cuihu.rules", DATA / "bounded.rules", DATA / "plain.rules"):
        policy = policy_of(path)
        names = {name for item in policy.activities for name in item.names()}
        for name in names:
            pricing = policy.pricing(name)
            assert pricing is not None and pricing is policy.pricing(name)  # worked out once
            items = policy.items_for(name)
            assert list(pricing.items) == items
            for item, shown, caps in zip(items, pricing.shown, pricing.caps, strict=True):
                reads = set(item.when.reads if item.when else ()) | set(
                    item.amount.formula.reads if item.amount.formula else ())
                assert shown == tuple(sorted(reads))
                assert caps == tuple((cap, item.activity) for cap in item.caps) + tuple(
                    (cap, "*") for cap in policy.caps)
            assert pricing.reads_facts == any(i.when or i.amount.formula for i in items)
            assert pricing.per_hour == next((i for i in items if i.amount.per_hour), None)
        assert policy.pricing("not an item") is None
        assert "not an item" not in policy._priced  # unknown names are not kept


def test_a_plain_amount_is_quoted_as_worked_out() -> None:
    policy = policy_of(YINQUAN)
    item = policy.items_for("volunteer_service")[0]
    for hours in (0, 1, 2.5, 2.5, 0.1, 3):
        value = item.amount.of(hours, 1)
        assert item.amount.quote(hours, 1) == (value, item.amount.worked(hours, 1, value))


def test_tilts_are_the_largest_that_match() -> None:
    policy = policy_of(YINQUAN)
    best = policy.role_tilt(("fulltime_gridworker", "resident"))
    assert best is not None and best.factor == Fraction(3, 2)
    assert policy.role_tilt(("resident",)) is None
    level = policy.level_tilt("unit", "单元")
    assert level is not None and level.factor == Fraction(6, 5)
    assert policy.level_tilt("grid", "网格") is None


def week_of_cleanups(engine: Any, start: datetime, days: range) -> None:
    engine.record_many([act(f"c{n}", start + timedelta(days=n), "res1", "u11", "cleanup") for n in days])


def test_a_streak_put_in_force_later_counts_the_days_before_it(engines: Any, tmp_path: Path) -> None:
    # YINQUAN streaks over quarters only: the week spans opened Monday to Wednesday are
    # closed without a lookup until a ruleset with a weekly streak is put in force on
    # Thursday; the week's span then pays, reading the days marked before it.
    weekly = tmp_path / "weekly.rules"
    weekly.write_text(YINQUAN.read_text(encoding="utf-8").replace(
        "ruleset yinquan_points", "ruleset weekly_points").replace(
        "  streak: 20 points for each month of the quarter\n", "  streak: 7 points for each day of the week\n"),
        encoding="utf-8")
    engine = engines(YINQUAN, now=MONDAY)
    week_of_cleanups(engine, MONDAY, range(3))
    later(engine, MONDAY + timedelta(days=3))
    engine.use_ruleset(weekly, effective=MONDAY + timedelta(days=3))
    week_of_cleanups(engine, MONDAY, range(3, 8))  # Thursday to the next Monday
    later(engine, MONDAY + timedelta(days=8))
    bonus = [e for e in api.entries(engine, "res1") if e.kind == "bonus"]
    assert [(e.id, e.amount) for e in bonus] == [("streak:res1:day-2025-W10", 7)]


def test_no_weekly_streak_no_weekly_bonus(engines: Any) -> None:
    engine = engines(YINQUAN, now=MONDAY)
    week_of_cleanups(engine, MONDAY, range(8))
    later(engine, MONDAY + timedelta(days=8))
    assert not [e for e in api.entries(engine, "res1") if e.kind == "bonus"]
