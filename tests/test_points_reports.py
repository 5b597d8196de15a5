"""Reports through Engine.report, the points_per_resident metric, residents off the roster."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import CST
from test_points_engine import act, at, engine_factory, later

from gridcore import Engine, GridcoreError
from gridcore.events import ResidentRegistered
from gridcore_points import api
from gridcore_points.events import PointsRedeemed


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    yield from engine_factory(tmp_path)


@pytest.fixture
def engine(engines: Any) -> Engine:
    engine = engines()
    engine.record_many([
        act("a1", at(0), "res1", "u11", "mediation", quantity=3),  # 36
        act("a2", at(1), "res2", "u21", "cleanup"),  # 12
        act("a3", at(1), "worker1", "g1", "volunteer_service", hours=2),  # 15
        PointsRedeemed(id="p1", time=at(2), actor="res1", node="u11", reward="towel"),
    ])
    later(engine, at(5))
    return engine


def test_statement_report_has_a_running_balance(engine: Engine) -> None:
    table = engine.report("points.statement", {"member": "res1", "period": "2025-01"})
    assert [(row[1], row[2], row[3]) for row in table.rows] == [("earn", 36, 36), ("redeem", -20, 16)]
    assert table.notes[0] == "opening 0, earned 36, redeemed 20, expired 0, closing 16 (期初 0，获得 36，兑换 20，过期 0，期末 16)"
    assert "张居民" in table.render("text")


def test_board_report_in_three_formats(engine: Engine) -> None:
    table = engine.report("points.board", {"node": "yq", "month": "2025-01"})
    assert [row[:5] for row in table.rows] == [
        (1, "res1", "张居民", "居民", 36), (2, "worker1", "李专职", "专职网格员", 15), (3, "res2", "赵居民", "居民", 12),
    ]
    assert table.render("csv").splitlines()[1] == "1,res1,张居民,居民,36,16"
    assert json.loads(table.render("json"))["rows"][0]["balance"] == 16
    assert engine.report("points.board", {"node": "g2", "month": "2025-01"}).rows == ((1, "res2", "赵居民", "居民", 12, 12),)
    assert engine.report("points.board", {"node": "yq", "month": "2025-02"}).rows == ()


def test_totals_report_counts_subtrees(engine: Engine) -> None:
    table = engine.report("points.totals", {"node": "yq", "period": "2025"})
    rows = {row[0]: row[3:] for row in table.rows}
    assert rows == {"yq": (63, 20, 0), "g1": (51, 20, 0), "u11": (36, 20, 0), "g2": (12, 0, 0), "u21": (12, 0, 0)}


def test_a_report_without_its_parameters_says_which(engine: Engine) -> None:
    with pytest.raises(GridcoreError, match="needs the parameter month"):
        engine.report("points.board", {"node": "yq"})


def test_reports_say_when_no_points_rules_are_in_force(engines: Any) -> None:
    engine = engines(None)
    table = engine.report("points.board", {"node": "yq", "month": "2025-01"})
    assert table.rows == () and "no ruleset is in force" in table.notes[0]


def test_points_per_resident(engine: Engine) -> None:
    value = engine.metric("points_per_resident", "yq", datetime(2025, 1, 1, tzinfo=CST),
                          datetime(2025, 2, 1, tzinfo=CST))
    assert value is not None
    assert value.inputs == {"points_earned": 63, "residents": 2}  # res1 and res2 live in yq
    assert value.value == 31.5
    assert engine.metric("points_per_resident", "u12", datetime(2025, 1, 1, tzinfo=CST),
                         datetime(2025, 2, 1, tzinfo=CST)) is None  # nobody lives there


def test_registered_residents_earn_in_their_own_cell(engines: Any) -> None:
    engine = engines()
    engine.record(ResidentRegistered(id="reg1", time=at(0), actor="worker1", node="u12", person="李四",
                                     name="李四", party_member=True))
    engine.record_many([
        act("s1", at(1), "李四", "u12", "party_study"),  # a party member: 8 x 1.2
        act("s2", at(2), "李四", "u11", "cleanup"),  # not where 李四 lives: flagged
    ])
    later(engine, at(3))
    assert api.balance(engine, "李四") == 10
    assert [e.id for e in api.flags(engine)] == ["s2"]
    assert api.statement(engine, "李四", "2025-01").name == "李四"
    value = engine.metric("points_per_resident", "g1", datetime(2025, 1, 1, tzinfo=CST),
                          datetime(2025, 2, 1, tzinfo=CST))
    assert value is not None and value.inputs == {"points_earned": 10, "residents": 2}


def test_outcomes_carry_every_rule_behind_a_balance(engine: Engine) -> None:
    outcomes = {o.subject: o for o in engine.outcomes() if o.plugin == "points"}
    worker = outcomes["member:worker1:balance"]
    assert worker.value == 15
    assert [r.line for r in worker.rules] == [6, 12]  # the activity and the gridworker tilt
    assert outcomes["member:res1:balance"].detail == "earned 36, redeemed 20, expired 0"
