"""A late redemption is judged against the stored events after it as a replay applies them: ignored ones left out.

The points plugin judges a redemption dated before stored events on a copy of
its state, applying the redemption and then the stored events after it
(``check_late``): refused if it would leave a later redemption without enough
points.  A stored step a late event made ignored (``gridcore_on_event_ignored``)
pays no one on replay, so it must pay no one in that copy either
(``Engine.ignored_stored``).  Those answers are the ones given before the late
redemption: a third-party plugin whose answers a redemption changes must refuse
such a late redemption itself (the limit docs/plugins.md states, shown below).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from test_escalation_late import DATA, RULES, T0, act, report

import gridcore_points as points
from gridcore import Engine, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import ActivityRecorded
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentResolved,
    IncidentVerified,
)
from gridcore_points.events import PointsRedeemed

#: ladder-unit.rules with incident points (the reporter and the resolver of a case verified and closed) and a towel
POINTS = "\npoints:\n  confirmed report: 10 points\n  resolved well: 3 points\n  reward towel: 12 points\n"


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def towel(ident: str, when: datetime) -> PointsRedeemed:
    return PointsRedeemed(id=ident, time=when, actor="worker1", node="u11", reward="towel")


def _engine(folder: Path) -> Engine:
    rules = folder / "towel.rules"
    rules.write_text(RULES.read_text(encoding="utf-8") + POINTS, encoding="utf-8")
    return Engine.open(store=str(folder / "store"), community=DATA / "community", ruleset=rules,
                       effective=T0 - timedelta(days=30), clock=FixedClock(hours(24)),
                       plugins=get_plugin_manager(("assessment",)))


def test_a_late_redemption_is_judged_without_a_stored_resolution_a_late_one_made_ignored(tmp_path: Path) -> None:
    """worker1 reports and resolves I1 (06:00, paid 13 at its closing), reports I2 at 09:30 and resolves it at
    11:00 (paid 10 + 3 at its closing at 12:00) and redeems a towel (12) at 13:00.  unitlead's resolution of
    I2 at 10:30 is typed in afterwards: worker1's is ignored, unitlead is I2's resolver, worker1 has 23 and
    the towel at 13:00 leaves 11.  A towel dated 09:00, typed in then, would leave the one at 13:00 without
    enough points (23 - 12 - 12): refused, as it is with the resolution ignored left out of the stored events
    it is judged against (counted, worker1 would have had 26)."""
    with _engine(tmp_path) as engine:
        for event in (report("I1", hours(-3)), act(IncidentAccepted, "I1", hours(-2.8)),
                      act(IncidentResolved, "I1", hours(-2.6)),
                      act(IncidentVerified, "I1", hours(-2.4), "leader1", satisfaction=5),
                      act(IncidentClosed, "I1", hours(-2.2), "leader1"),
                      report("I2", hours(0.5)), act(IncidentAccepted, "I2", hours(1)),
                      act(IncidentResolved, "I2", hours(2)),
                      act(IncidentVerified, "I2", hours(2.5), "leader1", satisfaction=5),
                      act(IncidentClosed, "I2", hours(3), "leader1"), towel("towel-13", hours(4))):
            assert not engine.record_many([event]).refused
        late = act(IncidentResolved, "I2", hours(1.5), "unitlead")
        assert not engine.record_many([late]).refused
        ignored = act(IncidentResolved, "I2", hours(2))
        assert engine.ignored_stored(ignored.id), "worker1's resolution is ignored on replay"
        assert engine.ignored_stored(late.id) is None
        assert points.balance(engine, "worker1") == 23 - 12
        summary = engine.record_many([towel("towel-09", hours(0))])
        reason = (f"towel-09 is dated {hours(0).isoformat()}, before later redemptions that it would leave without "
                  "enough points; record it with a later time (补录的兑换会使之后的兑换积分不足，请按较晚的时间登记)")
        assert [(r.event_id, r.reasons) for r in summary.refused] == [("towel-09", [reason])]
        assert points.balance(engine, "worker1") == 23 - 12
        engine.checkpoint()
    with _engine(tmp_path) as again:  # (from a checkpoint: which stored events are ignored is kept with it)
        assert again.open_report.restored_from == again.position
        assert again.ignored_stored(ignored.id)
        assert [(r.event_id) for r in again.record_many([towel("towel-09b", hours(0))]).refused] == ["towel-09b"]


# ---------------------------------------------------------------- a third-party plugin's dependence (the limit)

class NoEarningAfterRedeeming:
    """A third-party rule: an activity a member records on a day they redeemed before it earns nothing (refused
    when it comes, ignored on replay).  Its ``gridcore_validate_stored`` answer depends on redemptions, which
    the points plugin judges late by looking ahead: ``look_ahead`` is what docs/plugins.md says such a plugin
    must do (refuse a late redemption that would change its answer for a stored activity after it)."""

    def __init__(self, look_ahead: bool) -> None:
        self.look_ahead = look_ahead
        self.redeemed: set[tuple[str, Any]] = set()

    def _refusal(self, engine: Engine, event: Any) -> list[str] | None:
        if isinstance(event, ActivityRecorded) and (event.actor, engine.local_date(event.time)) in self.redeemed:
            return [f"{event.actor} redeemed earlier that day (当天已兑换)"]
        return None

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Any) -> list[str] | None:
        if self.look_ahead and isinstance(event, PointsRedeemed) and not engine.caught_up:
            day = engine.local_date(event.time)
            after = [e for e in engine.events(kinds=["activity_recorded"], since=event.time)
                     if (e.time, e.id) > (event.time, event.id) and not engine.ignored_stored(e.id)
                     and e.actor == event.actor and engine.local_date(e.time) == day]
            if after:
                return [(f"{event.id} would make {after[0].id} earn nothing: record it with a later time "
                        "(补录的兑换会使之后的活动不计分，请按较晚的时间登记)")]
        return self._refusal(engine, event)

    @hookimpl
    def gridcore_validate_stored(self, engine: Engine, event: Any) -> list[str] | None:
        return self._refusal(engine, event)

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Any) -> None:
        if isinstance(event, PointsRedeemed):
            self.redeemed.add((event.actor, engine.local_date(event.time)))


class NoEarningPlugin:
    def __init__(self, look_ahead: bool) -> None:
        self.look_ahead = look_ahead

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        engine.attach("no-earning-after-redeeming", NoEarningAfterRedeeming(self.look_ahead))


def _mediations(folder: Path, look_ahead: bool) -> tuple[Engine, list[str]]:
    from conftest import small_community

    engine = Engine.open(store=str(folder / f"store-{look_ahead}"), community=small_community(),
                         ruleset=Path(__file__).parent / "data" / "points" / "yinquan.rules",
                         effective=T0 - timedelta(days=30), clock=FixedClock(T0 + timedelta(days=3)),
                         plugins=get_plugin_manager(("escalation", "assessment"), extra=[NoEarningPlugin(look_ahead)]))
    for event in (ActivityRecorded(id="a1", time=T0, actor="res1", node="u11", activity="mediation", quantity=3),
                  ActivityRecorded(id="a2", time=T0 + timedelta(days=1), actor="res1", node="u11",
                                   activity="mediation", quantity=3),
                  PointsRedeemed(id="t2", time=T0 + timedelta(days=1, hours=3), actor="res1", node="u11",
                                 reward="towel")):
        assert not engine.record_many([event]).refused
    return engine, [e.id for e in engine.events()]


def test_a_plugin_whose_stored_answers_depend_on_redemptions_refuses_a_late_one_that_would_change_them(
        tmp_path: Path) -> None:
    """res1 earns by two mediations (a1, a2 the next morning) and redeems a towel (t2) after a2.  A towel typed
    in late, dated before a2 on a2's day, would make the third-party rule ignore a2 on replay.  The points
    plugin's look-ahead uses the answers given before it (a2 counts): without the plugin's own look-ahead the
    late towel is taken and the replay leaves t2 uncovered, which time order never would; with it (the pattern
    docs/plugins.md gives), the late towel is refused and the balance stays as in time order."""
    late = PointsRedeemed(id="t-late", time=T0 + timedelta(days=1, hours=-1), actor="res1", node="u11",
                          reward="towel")
    engine, _ = _mediations(tmp_path, look_ahead=False)
    with engine:
        earned = points.balance(engine, "res1") + 20  # (a1 + a2)
        assert not engine.record_many([late]).refused  # taken on the answers before it ...
        assert engine.ignored_stored("a2")  # ... but the replay after it ignores a2
        # a1 alone (36) less the late towel (20): t2, stored and judged when a2 counted, is left uncovered (time
        # order would have refused it, 16 < 20): the limit docs/plugins.md states
        assert (earned, points.balance(engine, "res1")) == (72, 36 - 20)
    engine, _ = _mediations(tmp_path, look_ahead=True)
    with engine:
        before = points.balance(engine, "res1")
        [refused] = engine.record_many([late]).refused
        assert refused.event_id == "t-late" and "would make a2 earn nothing" in refused.reasons[0]
        assert engine.ignored_stored("a2") is None and points.balance(engine, "res1") == before
