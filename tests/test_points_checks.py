"""What the points plugin refuses before anything changes: hours, and who may do what.

Who may record what (the points rows of docs/security.md):

* an activity for another member: only staff (any role but ``resident``) holding
  a role at the activity's node or above; a resident logs only their own;
* a redemption: the member spending, or staff holding a role at the member's
  home (or, without one, the redemption's node) or above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_points_engine import act, at, engine_factory, later

from gridcore import Engine, EventRefused
from gridcore.events import ActivityRecorded
from gridcore_points import api
from gridcore_points.events import PointsRedeemed


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    yield from engine_factory(tmp_path)


def refused(engine: Engine, event: Any) -> list[str]:
    count = engine.store.count()
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    assert engine.store.count() == count
    return caught.value.reasons


# ---------------------------------------------------------------- hours


def test_a_per_hour_activity_without_hours_is_refused_not_booked_at_zero(engines: Any) -> None:
    engine = engines()
    [reason] = refused(engine, act("a1", at(0), "res1", "u11", "volunteer_service"))
    assert reason.startswith("volunteer_service earns points per hour (rule ")
    assert "yinquan.rules:6), but the record gives no hours; record how long it took (hours: 2)" in reason
    assert reason.endswith("(按小时计分的活动须填写时长)")
    assert api.entries(engine, "res1") == []
    # a fixed-amount activity needs no hours
    engine.record(act("a2", at(0), "res1", "u11", "cleanup"))


def test_hours_beyond_a_day_are_refused(engines: Any) -> None:
    engine = engines()
    reasons = refused(engine, act("a1", at(0), "res1", "u11", "volunteer_service", hours=1_000_000))
    assert "1000000 hours" in reasons[0] and "at most 24" in reasons[0] and "按天分别记录" in reasons[0]
    engine.record(act("a2", at(0), "res1", "u11", "volunteer_service", hours=24))
    assert api.balance(engine, "res1", at=at(1)) == 40  # 24 x 5 x 1.2 = 144, cut to the monthly 40


# ---------------------------------------------------------------- rounding


def test_each_entry_is_rounded_once_and_explain_shows_the_exact_amount(engines: Any) -> None:
    engine = engines()
    # worker1 is a full-time gridworker (x 1.5): a 1-hour session of volunteer
    # service is 5 x 1.5 = 7.5 points, rounded half up to 8, for each entry.
    engine.record_many([
        act("a1", at(0), "worker1", "g1", "volunteer_service", hours=1),
        act("a2", at(1), "worker1", "g1", "volunteer_service", hours=1),
    ])
    later(engine, at(2))
    assert [e.amount for e in api.entries(engine, "worker1")] == [8, 8]
    why = engine.explain("points:a1")
    assert why.result == 8
    assert why.inputs["exact"] == "15/2 = 7.5"
    assert why.inputs["rounded"] == 8
    assert why.summary == ("获得 earn +8 for worker1: volunteer_service: 5 per hour x 1 h x 1.5 = 7.5, rounded to 8 "
                           "(volunteer_service：每小时 5 分 × 1 小时 × 1.5 = 7.5，四舍五入为 8)")


# ---------------------------------------------------------------- who may record an activity


def test_a_resident_may_not_log_hours_for_another_member(engines: Any) -> None:
    engine = engines()
    event = ActivityRecorded(id="a1", time=at(0), actor="res1", node="u11",
                             activity="volunteer_service", member="res2", hours=2)
    [reason] = refused(engine, event)
    assert reason.startswith("res1 may not record volunteer_service for res2") and "居民只能登记本人的活动" in reason
    assert api.entries(engine, "res2") == []


def test_staff_at_the_node_or_above_may_record_for_someone_else(engines: Any) -> None:
    engine = engines()
    engine.record(ActivityRecorded(id="a1", time=at(0), actor="worker1", node="u11",
                                   activity="cleanup", member="res1"))
    later(engine, at(1))
    assert api.balance(engine, "res1") == 12  # 10 x 1.2 (unit tilt)
    # leader1 leads g1; u21 is in g2
    [reason] = refused(engine, ActivityRecorded(id="a2", time=at(1), actor="leader1", node="u21",
                                                activity="cleanup", member="res2"))
    assert "holds no role at u21 or above" in reason


def confirming_rules(tmp_path: Path, action: str, lang: str = "en") -> Path:
    """A ruleset whose activities an organiser must record (``self recorded: ACTION``)."""
    rules = tmp_path / f"confirm-{action}-{lang}.rules"
    rules.write_text(
        "ruleset confirm\npoints:\n  activity cleanup: 10\n  self recorded: " + action + "\n" if lang == "en" else
        "规则集 confirm\n积分：\n  活动 cleanup：10 分\n  自行申报：" + {"refuse": "拒绝", "flag": "标记"}[action] + "\n",
        encoding="utf-8")
    return rules


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_where_the_ruleset_says_so_an_organiser_must_record_a_residents_activity(
        engines: Any, tmp_path: Path, lang: str) -> None:
    engine = engines(confirming_rules(tmp_path, "refuse", lang), name=f"store-{lang}")
    [reason] = refused(engine, act("a1", at(0), "res1", "u11", "cleanup"))
    assert reason.startswith("res1 recorded cleanup for themselves, but an organiser (staff holding a role at u11 "
                             "or above) must record it for them; refused by rule ")
    assert f"confirm-refuse-{lang}.rules:4 " in reason
    assert reason.endswith("(活动须由组织者登记确认，不能自行申报)")
    # the gridworker of the cell records it for the resident: confirmed
    engine.record(ActivityRecorded(id="a2", time=at(0), actor="worker1", node="u11", activity="cleanup",
                                   member="res1"))
    # staff at the node record their own: they are the organisers there
    engine.record(act("a3", at(0), "worker1", "u11", "cleanup"))
    later(engine, at(1))
    assert api.balance(engine, "res1") == 10 and api.balance(engine, "worker1") == 10


def test_self_recorded_flag_stores_the_activity_without_points(engines: Any, tmp_path: Path) -> None:
    engine = engines(confirming_rules(tmp_path, "flag"))
    engine.record(act("a1", at(0), "res1", "u11", "cleanup"))
    later(engine, at(1))
    assert api.balance(engine, "res1") == 0
    [flagged] = api.flags(engine)
    assert flagged.id == "a1" and "recorded by res1 for themselves, not by an organiser" in flagged.summary


# ---------------------------------------------------------------- who may redeem


def earn(engine: Engine) -> None:
    engine.record_many([act(f"c{n}", at(n), "res1", "u11", "mediation", quantity=3) for n in range(3)])
    later(engine, at(4))


def test_a_redemption_by_someone_else_than_the_member_or_their_staff_is_refused(engines: Any) -> None:
    engine = engines()
    earn(engine)
    before = api.balance(engine, "res1")
    [reason] = refused(engine, PointsRedeemed(id="p1", time=at(4), actor="res2", node="u11",
                                              reward="towel", member="res1"))
    assert reason.startswith("res2 may not redeem res1's points") and "积分只能由本人" in reason
    [reason] = refused(engine, PointsRedeemed(id="p2", time=at(4), actor="leader1", node="u21",
                                              reward="towel", member="res2"))
    assert "leader1 may not redeem res2's points" in reason
    assert api.balance(engine, "res1") == before
    # the member, or staff of the member's home cell, may
    api.redeem(engine, "res1", "towel", event_id="p3")
    api.redeem(engine, "res1", "towel", actor="worker1", event_id="p4")
    assert api.balance(engine, "res1") == before - 40


def test_points_redeem_on_the_command_line_refuses_a_forged_actor(tmp_path: Path) -> None:
    from test_points_cli import COMMUNITY, YINQUAN

    from gridcore_app.cli import main_group

    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(YINQUAN),
                                      "--effective", "2024-01-01T00:00+08:00", "--store", store]).exit_code == 0
    engine_events = tmp_path / "e.jsonl"
    engine_events.write_text(
        '{"kind": "activity_recorded", "id": "a1", "time": "2025-03-03T09:00+08:00", "actor": "m05",'
        ' "node": "g1-u1", "activity": "cleanup"}\n'
        '{"kind": "activity_recorded", "id": "a2", "time": "2025-03-04T09:00+08:00", "actor": "m05",'
        ' "node": "g1-u1", "activity": "mediation", "quantity": 3}\n', encoding="utf-8")
    assert runner.invoke(main_group, ["ingest", str(engine_events), "--store", store]).exit_code == 0
    # 张伟 (a part-time gridworker of g2) may not spend 周丽's points (home g1-u1)
    result = runner.invoke(main_group, ["points", "redeem", "m05", "towel", "--actor", "张伟", "--store", store,
                                        "--now", "2025-03-10T09:00+08:00"])
    assert result.exit_code == 1 and "张伟 may not redeem m05's points" in result.stderr
    result = runner.invoke(main_group, ["points", "redeem", "m05", "towel", "--actor", "m02", "--store", store,
                                        "--now", "2025-03-10T09:00+08:00"])
    assert result.exit_code == 0, result.output
