"""A late redemption is judged against the stored events after it as a replay applies them: ignored ones left out.

The points plugin judges a redemption dated before stored events on a copy of
its state, applying the redemption and then the stored events after it
(``check_late``): refused if it would leave a later redemption without enough
points.  A stored step a late event made ignored (``gridcore_on_event_ignored``)
pays no one on replay, so it must pay no one in that copy either
(``Engine.ignored_stored``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from test_escalation_late import DATA, RULES, T0, act, report

import gridcore_points as points
from gridcore import Engine, FixedClock, get_plugin_manager
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
