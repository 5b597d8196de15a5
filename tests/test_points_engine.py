"""Points through the engine: earning, tilts, caps, anti-gaming, recognition, incidents, expiry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BUILTIN_PLUGINS, CST, REPO, IncidentKinds, small_community

from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore.events import ActivityRecorded, Event
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)
from gridcore_points import api
from gridcore_points.events import RecognitionAwarded
from gridcore_points.section import SECTION

DATA = REPO / "tests" / "data" / "points"
YINQUAN = DATA / "yinquan.rules"
CUIHU = DATA / "cuihu.rules"
MONDAY = datetime(2025, 1, 6, 9, 0, tzinfo=CST)
EFFECTIVE = datetime(2024, 1, 1, tzinfo=CST)


def at(days: float, hour: int = 9) -> datetime:
    """A time ``days`` after Monday 2025-01-06, at ``hour`` o'clock (UTC+8)."""
    return MONDAY + timedelta(days=days, hours=hour - 9)


def act(ident: str, when: datetime, member: str, node: str, activity: str, **kw: Any) -> ActivityRecorded:
    """An ActivityRecorded done (and recorded) by ``member``."""
    return ActivityRecorded(id=ident, time=when, actor=member, node=node, activity=activity, **kw)


def open_points(
    store: Path, ruleset: Path | None = YINQUAN, *, now: datetime = MONDAY, builtins: tuple[str, ...] = ("points",)
) -> Engine:
    """An engine on the small community with only the named built-in plugins."""
    disabled = tuple(p for p in BUILTIN_PLUGINS if p not in builtins)
    return Engine.open(
        store=str(store),
        community=small_community(),
        ruleset=ruleset,
        clock=FixedClock(now),
        plugins=get_plugin_manager(disabled, extra=[IncidentKinds()] if "escalation" in disabled else []),
        effective=EFFECTIVE,
    )


def engine_factory(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Open points engines under tmp_path; all are closed afterwards (the ``engines`` fixture)."""
    opened: list[Engine] = []

    def make(ruleset: Path | None = YINQUAN, name: str = "store", **kw: Any) -> Engine:
        engine = open_points(tmp_path / name, ruleset, **kw)
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        engine.close()


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Open points engines under tmp_path; all are closed afterwards."""
    yield from engine_factory(tmp_path)


def later(engine: Engine, when: datetime) -> None:
    """Move the engine's clock forward (queries read balances at the clock's now)."""
    engine.clock.set(when)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- earning


def test_per_hour_activity_with_role_tilt_explains_itself(engines: Any) -> None:
    engine = engines()
    engine.record(act("a1", at(0), "worker1", "g1", "volunteer_service", hours=2))
    later(engine, at(1))
    assert api.balance(engine, "worker1") == 15  # 5 per hour x 2 h x 1.5 (full-time gridworker)
    why = engine.explain("points:a1")
    assert why.result == 15
    assert [(r.file.endswith("yinquan.rules"), r.line) for r in why.rules] == [(True, 6), (True, 12)]
    assert "volunteer_service: 5 per hour" in why.rules[0].text
    assert why.inputs["hours"] == 2
    assert why.inputs["tilt fulltime_gridworker"] == "x 1.5"
    assert why.inputs["event"] == "a1"
    assert "yinquan.rules:6" in why.render()


def test_chinese_alias_of_an_activity_earns_the_same(engines: Any) -> None:
    engine = engines()
    engine.record(act("a1", at(0), "res1", "u11", "志愿服务", hours=1))
    later(engine, at(1))
    # 5 x 1 h x 1.2 (level tilt for units) = 6
    assert api.balance(engine, "res1") == 6


def test_condition_on_party_membership(engines: Any) -> None:
    engine = engines()
    engine.record_many([
        act("a1", at(0), "res1", "u11", "party_study"),
        act("a2", at(0), "res2", "u21", "party_study"),
    ])
    later(engine, at(1))
    assert api.balance(engine, "res1") == 10  # 8 x 1.2, res1 is a party member
    assert api.balance(engine, "res2") == 0
    why = engine.explain("points:a2")
    assert why.result == 0
    assert why.inputs["member.party_member"] is False


def test_computed_amount_and_separate_scales_by_role(engines: Any) -> None:
    engine = engines()
    engine.record_many([
        act("m1", at(0), "res1", "u11", "mediation", quantity=5),
        act("p1", at(1), "worker1", "g1", "patrol", hours=2),
        act("p2", at(1), "res2", "u21", "patrol", hours=2),
    ])
    later(engine, at(2))
    assert api.balance(engine, "res1") == 36  # min(5 x 10, 30) x 1.2
    assert api.balance(engine, "worker1") == 9  # 3 per hour (full-time scale) x 2 x 1.5
    assert api.balance(engine, "res2") == 2  # 1 per hour x 2 x 1.2 (at a unit)
    assert "min(event.quantity * 10, 30)" in engine.explain("points:m1").summary


def test_activity_not_on_the_list_earns_nothing_and_is_flagged_for_review(engines: Any) -> None:
    engine = engines()
    assert engine.record(act("x1", at(0), "res1", "u11", "dancing")) is True
    later(engine, at(1))
    assert api.balance(engine, "res1") == 0
    [entry] = api.entries(engine, "res1")
    assert entry.amount == 0 and "dancing is not on the points item list" in entry.summary
    assert entry in api.flags(engine)


def test_caps_per_activity_and_overall_in_the_community_month(engines: Any) -> None:
    engine = engines()
    # 5/h x 3 h x 1.5 = 23 a day; at most 40 a month for volunteer service.
    engine.record_many([act(f"v{d}", at(d), "worker1", "g1", "volunteer_service", hours=3) for d in range(4)])
    later(engine, at(5))
    assert [e.amount for e in api.entries(engine, "worker1")] == [23, 17, 0, 0]
    why = engine.explain("points:v1")
    assert "cut to 17 by a cap" in why.summary
    assert any(r.line == 6 for r in why.rules)
    # February is a new month (in Asia/Shanghai, even at 00:30 local time).
    feb = datetime(2025, 2, 1, 0, 30, tzinfo=CST)
    engine.record(act("v-feb", feb, "worker1", "g1", "volunteer_service", hours=3))
    later(engine, feb + timedelta(hours=1))
    assert api.balance(engine, "worker1") == 63


def test_overall_monthly_cap_across_activities(engines: Any) -> None:
    engine = engines()
    events: list[Event] = []
    for d in range(12):
        events.append(act(f"c{d}", at(d), "res1", "u11", "cleanup"))  # 12 each, at most 30 a month
        events.append(act(f"m{d}", at(d, 10), "res1", "u11", "mediation", quantity=3))  # 30 x 1.2 = 36
    engine.record_many(events)
    later(engine, at(20))
    assert api.balance(engine, "res1") == 100  # the overall cap of 100 per month
    month = api.statement(engine, "res1", "2025-01")
    assert month.earned == 100


# ---------------------------------------------------------------- anti-gaming


def test_duplicate_claim_refused_by_one_ruleset_flagged_by_another(engines: Any) -> None:
    first = act("v1", at(0), "res1", "u11", "volunteer_service", hours=1)
    again = act("v2", at(0, 15), "res1", "u11", "volunteer_service", hours=1)

    strict = engines(YINQUAN, "strict")
    strict.record(first)
    with pytest.raises(EventRefused) as refused:
        strict.record(again)
    assert "already claimed volunteer_service" in str(refused.value)
    assert "yinquan.rules:18" in str(refused.value)
    assert strict.store.count() == 1

    loose = engines(CUIHU, "loose")
    loose.record(first)
    assert loose.record(again) is True
    later(loose, at(1))
    assert api.balance(loose, "res1") == 8  # the second claim earns nothing
    flagged = api.flags(loose)
    assert [e.id for e in flagged] == ["v2"]
    assert "cuihu.rules:14" in str(loose.explain("points:v2").rules[0])


def test_activity_outside_the_members_cells_is_flagged(engines: Any) -> None:
    engine = engines()
    engine.record(act("c1", at(0), "res2", "u11", "cleanup"))  # res2 lives in u21
    later(engine, at(1))
    assert api.balance(engine, "res2") == 0
    [flag] = api.flags(engine)
    assert flag.member == "res2" and "outside" in flag.summary
    assert flag.rule is not None and flag.rule.line == 19


# ---------------------------------------------------------------- recognition


def award(ident: str, when: datetime, leader: str, member: str, points: int, node: str = "g1") -> RecognitionAwarded:
    return RecognitionAwarded(id=ident, time=when, actor=leader, node=node, member=member, points=points,
                              reason="台风值守")


def test_recognition_within_budget_by_a_leader(engines: Any) -> None:
    engine = engines()
    engine.record(award("r1", at(0), "leader1", "worker1", 20))
    later(engine, at(1))
    assert api.balance(engine, "worker1") == 20  # recognition is not tilted
    why = engine.explain("points:r1")
    assert why.inputs["reason"] == "台风值守" and why.inputs["awarded_by"] == "leader1"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (award("r2", at(0), "leader1", "leader1", 5), "may not award points to themselves"),
        (award("r3", at(0), "res1", "worker1", 5), "may not award points at g1"),
        (award("r4", at(0), "leader1", "worker1", 31), "budget of g1 for 2025-01 exhausted"),
        (award("r5", at(0), "leader1", "nobody", 5), "unknown member 'nobody'"),
    ],
)
def test_recognition_refusals_change_nothing(engines: Any, event: RecognitionAwarded, reason: str) -> None:
    engine = engines()
    with pytest.raises(EventRefused) as refused:
        engine.record(event)
    assert reason in str(refused.value)
    assert engine.store.count() == 0
    assert list(api.state(engine).booked()) == []


def test_recognition_budget_is_per_grid_and_month(engines: Any) -> None:
    engine = engines()
    engine.record(award("r1", at(0), "leader1", "worker1", 25))
    with pytest.raises(EventRefused, match="5 of 30 points left"):
        engine.record(award("r2", at(1), "leader1", "res1", 10, node="u11"))
    engine.record(award("r3", datetime(2025, 2, 3, 9, tzinfo=CST), "leader1", "res1", 10, node="u11"))


def test_ruleset_without_recognition_refuses_awards(engines: Any) -> None:
    engine = engines(DATA / "plain.rules")
    with pytest.raises(EventRefused, match="allow no recognition"):
        engine.record(award("r1", at(0), "leader1", "worker1", 5))


# ---------------------------------------------------------------- incidents


def incident(prefix: str, reporter: str, resolver: str, closer: str, node: str, severity: int = 3) -> list[Event]:
    return [
        IncidentReported(id=f"{prefix}r", time=at(0), actor=reporter, node=node, incident=prefix,
                         category="fire_safety", severity=severity),
        IncidentAccepted(id=f"{prefix}a", time=at(0, 10), actor=resolver, node=node, incident=prefix),
        IncidentResolved(id=f"{prefix}s", time=at(1), actor=resolver, node=node, incident=prefix),
        IncidentVerified(id=f"{prefix}v", time=at(2), actor="leader1", node=node, incident=prefix, satisfaction=5),
        IncidentClosed(id=f"{prefix}c", time=at(2, 10), actor=closer, node=node, incident=prefix),
    ]


def test_confirmed_report_and_good_resolution_earn_when_closed(engines: Any) -> None:
    engine = engines(builtins=("points", "escalation"))
    engine.record_many(incident("i1", "res1", "worker1", "leader1", "g1"))
    later(engine, at(3))
    assert api.balance(engine, "res1") == 20  # severity 3: 20 points to the reporter
    assert api.balance(engine, "worker1") == 8  # satisfaction 5: 5 x 1.5 to the resolver
    why = engine.explain("points:i1c:reporter")
    assert why.inputs["incident.severity"] == 3
    assert why.rules[0].line == 22


def test_incident_reported_and_closed_by_the_same_person_earns_nothing(engines: Any) -> None:
    engine = engines(builtins=("points", "escalation"))
    engine.record_many(incident("i2", "worker1", "worker1", "worker1", "g1"))
    later(engine, at(3))
    assert api.balance(engine, "worker1") == 0
    [flag] = api.flags(engine)
    assert "reported, resolved and closed by worker1" in flag.summary
    assert flag.rule is not None and flag.rule.line == 21


def test_a_self_closed_flag_names_the_step_the_reporter_took(engines: Any) -> None:
    engine = engines(builtins=("points", "escalation"))
    # worker1 reports and resolves; the grid leader verifies and closes
    engine.record_many(incident("i3", "worker1", "worker1", "leader1", "g1"))
    later(engine, at(3))
    [flag] = api.flags(engine)
    assert "incident i3 reported and resolved by worker1: no points, flagged" in flag.summary


def test_closing_twice_never_pays_twice(engines: Any) -> None:
    engine = engines()
    events = incident("i3", "res1", "worker1", "leader1", "g1")
    engine.record_many(events)
    engine.record(IncidentClosed(id="i3c-again", time=at(4), actor="leader1", node="g1", incident="i3"))
    later(engine, at(5))
    assert api.balance(engine, "res1") == 20


# ---------------------------------------------------------------- expiry and streaks


def test_points_expire_first_in_first_out_after_twelve_months(engines: Any) -> None:
    engine = engines()
    engine.record_many([
        act("a1", at(0), "res1", "u11", "cleanup"),  # 12, expires 2026-01-06
        act("a2", at(40), "res1", "u11", "cleanup"),  # 12, expires 2026-02-15
    ])
    later(engine, at(50))
    api.redeem(engine, "res1", "towel", at=at(50))  # 20: 12 from a1, 8 from a2
    assert engine.explain(f"points:redeem:res1:towel:{at(50).isoformat()}").inputs["taken_from"] == "a1 (12), a2 (8)"
    later(engine, datetime(2026, 2, 1, tzinfo=CST))
    assert api.balance(engine, "res1") == 4  # a1 was spent, nothing expired yet
    later(engine, datetime(2026, 3, 1, tzinfo=CST))
    assert api.balance(engine, "res1") == 0
    year = api.statement(engine, "res1", "2026")
    assert (year.opening, year.expired, year.closing) == (4, 4, 0)
    assert engine.explain("points:expire:a2").rules[0].line == 16


def test_a_credits_expiry_is_worked_out_once_per_moment_its_zone_and_fold(engines: Any) -> None:
    """``Booking._expires`` keeps what ``add_months`` gave for a moment: asked again for an equal moment (the
    same instant in another zone, or a time of one zone that compares equal with another fold), it gives what
    ``add_months`` gives for that one."""
    from zoneinfo import ZoneInfo

    from gridcore.periods import add_months

    state = engines().state("points")
    york = ZoneInfo("America/New_York")  # (01:30 on 2025-11-02 comes twice there: fold 0, then fold 1)
    moments = [at(0), at(0).astimezone(UTC), at(0), datetime(2025, 11, 2, 1, 30, tzinfo=york),
               datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=york), datetime(2025, 11, 2, 1, 30, tzinfo=york),
               datetime(2025, 1, 31, 23, 59, tzinfo=CST)]
    for months in (1, 12):
        for when in moments:
            got = state._expires(when, months)
            assert (got, got.tzinfo, got.fold) == (expected := add_months(when, months, state.tz),
                                                   expected.tzinfo, expected.fold)
    assert add_months(moments[3], 1, state.tz) != add_months(moments[4], 1, state.tz)


def test_balance_at_a_past_moment(engines: Any) -> None:
    engine = engines()
    engine.record_many([act("a1", at(0), "res1", "u11", "cleanup"), act("a2", at(3), "res1", "u11", "cleanup")])
    later(engine, at(10))
    assert api.balance(engine, "res1", at=at(1)) == 12
    assert api.balance(engine, "res1") == 24


def test_streak_bonus_for_every_month_of_the_quarter(engines: Any) -> None:
    engine = engines()
    months = [datetime(2025, m, 10, 9, tzinfo=CST) for m in (1, 2, 3)]
    engine.record_many([act(f"c{n}", when, "res1", "u11", "cleanup") for n, when in enumerate(months)])
    engine.record(act("c-other", months[0], "res2", "u21", "cleanup"))
    later(engine, datetime(2025, 3, 31, 23, 0, tzinfo=CST))
    assert api.balance(engine, "res1") == 36
    later(engine, datetime(2025, 4, 1, 0, 0, tzinfo=CST))
    assert api.balance(engine, "res1") == 56
    assert api.balance(engine, "res2") == 12
    why = engine.explain("points:streak:res1:month-2025-Q1")
    assert why.result == 20 and why.rules[0].line == 24


def test_a_bonus_and_its_expiry_due_but_not_booked_are_explained_from_their_members_account(engines: Any) -> None:
    """Entries that fell due with no event since (``_find_due``): found in the account their ids name, the
    bonus's member or the expired lot's earner; an id of no entry is no one's."""
    from gridcore.errors import GridcoreError

    engine = engines()
    months = [datetime(2025, m, 10, 9, tzinfo=CST) for m in (1, 2, 3)]
    engine.record_many([act(f"c{n}", when, "res1", "u11", "cleanup") for n, when in enumerate(months)])
    engine.record(act("c-other", months[0], "res2", "u21", "cleanup"))
    later(engine, datetime(2026, 4, 2, tzinfo=CST))  # the bonus of 2025-04-01 expired a year on, unbooked both
    assert api.balance(engine, "res1") == 0
    bonus = engine.explain("points:streak:res1:month-2025-Q1")
    expired = engine.explain("points:expire:streak:res1:month-2025-Q1")
    assert (bonus.result, bonus.inputs["member"]) == (20, "res1")
    assert (expired.result, expired.inputs["member"], expired.inputs["lot"]) == (-20, "res1", "streak:res1:month-2025-Q1")
    assert engine.explain("points:expire:c-other").inputs["member"] == "res2"
    for nothing in ("points:streak:res2:month-2025-Q1", "points:expire:nowhere", "points:c-nowhere"):
        with pytest.raises(GridcoreError):
            engine.explain(nothing)


# ---------------------------------------------------------------- rulesets over time


def test_dated_version_of_an_item_applies_from_its_date(engines: Any) -> None:
    engine = engines(DATA / "plain.rules")
    engine.record_many([
        act("a1", datetime(2025, 5, 31, 9, tzinfo=CST), "res1", "u11", "volunteer_service", hours=2),
        act("a2", datetime(2025, 6, 1, 9, tzinfo=CST), "res1", "u11", "volunteer_service", hours=2),
    ])
    later(engine, datetime(2025, 6, 2, tzinfo=CST))
    assert [e.amount for e in api.entries(engine, "res1")] == [10, 12]


def test_a_new_ruleset_changes_only_events_from_its_effective_time(engines: Any) -> None:
    engine = engines(YINQUAN)
    engine.record_many([act("a1", at(0), "res1", "u11", "cleanup"), act("a2", at(10), "res1", "u11", "cleanup")])
    engine.use_ruleset(CUIHU, effective=at(5))
    later(engine, at(11))
    assert [e.amount for e in api.entries(engine, "res1")] == [12, 5]


def test_the_other_anti_gaming_choices(engines: Any, tmp_path: Path) -> None:
    rules = tmp_path / "other.rules"
    rules.write_text(
        "ruleset other\npoints:\n"
        "  activity volunteer_service: 5 per hour\n"
        "  recognition grid: 50 points per month\n"
        "  duplicate claims: flag, overlapping\n"
        "  outside cells: refuse\n"
        "  self award: flag\n",
        encoding="utf-8",
    )
    engine = engines(rules)
    engine.record_many([
        act("v1", at(0, 9), "res1", "u11", "volunteer_service", hours=2),
        act("v2", at(0, 10), "res1", "u11", "volunteer_service", hours=2),  # overlaps 9-11: flagged
        act("v3", at(0, 11), "res1", "u11", "volunteer_service", hours=1),  # after it: fine
        award("r1", at(1), "leader1", "leader1", 10),  # to himself: stored, flagged, no points
    ])
    with pytest.raises(EventRefused, match="u21 is outside res1's cells"):
        engine.record(act("v4", at(2), "res1", "u21", "volunteer_service", hours=1))
    later(engine, at(3))
    assert api.balance(engine, "res1") == 15
    assert api.balance(engine, "leader1") == 0
    assert [e.id for e in api.flags(engine)] == ["v2", "r1"]


def test_an_activity_recorded_above_a_members_cell_is_within_their_cells(engines: Any, tmp_path: Path) -> None:
    """A grid's clean-up recorded at the grid (a sign-in sheet for the grid) is within the cells of a roster
    member whose cell is a unit of it, as it is within a resident's home's: only a node in another grid is
    outside (it was flagged for roster members, not for residents)."""
    rules = tmp_path / "cells.rules"
    rules.write_text("ruleset cells\npoints:\n  activity cleanup: 5 points\n  outside cells: refuse\n",
                     encoding="utf-8")
    engine = engines(rules)
    engine.record_many([
        act("c1", at(0), "res1", "g1", "cleanup"),  # res1 (resident role and home at u11 in g1)
        act("c2", at(0), "worker1", "yq", "cleanup"),  # the community's, worker1's grid g1 in it
        act("c3", at(0), "res2", "yq", "cleanup"),  # res2's home u21 in it
    ])
    with pytest.raises(EventRefused, match="g2 is outside res1's cells"):
        engine.record(act("c4", at(1), "res1", "g2", "cleanup"))
    with pytest.raises(EventRefused, match="u12 is outside res1's cells"):
        engine.record(act("c5", at(1), "res1", "u12", "cleanup"))  # a sibling unit
    later(engine, at(2))
    assert (api.balance(engine, "res1"), api.balance(engine, "worker1"), api.balance(engine, "res2")) == (5, 5, 5)


def test_a_ruleset_put_in_force_is_read_at_once_for_a_time_asked_before(engines: Any) -> None:
    """``policy_at`` keeps its last answer for the same time and node (an activity's check and its booking
    ask one after the other): a ruleset put in force since is read, not the answer kept."""
    engine = engines()
    points = api.state(engine)
    when = at(1)
    before = points.policy_at(when, "u11")
    assert before is not None and points.policy_at(when, "u11") is before
    engine.use_ruleset(CUIHU, effective=at(0))
    after = points.policy_at(when, "u11")
    assert after is engine.policy(SECTION, at=when, node="u11") and after is not before
