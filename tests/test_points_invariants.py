"""Invariants of the ledger over random event sequences (hypothesis).

The histories reuse ids (``reused``): an event again under its id (the same, or a conflict), another report
of an incident id, a step of an incident not reported, dated before or after what they copy.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import attrs
from conftest import CST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_points_engine import YINQUAN, open_points

from gridcore import Engine
from gridcore.events import ActivityRecorded, Event
from gridcore.periods import period_key
from gridcore_escalation.events import (
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)
from gridcore_points import api
from gridcore_points.events import PointsRedeemed, RecognitionAwarded
from gridcore_points.ledger import NEVER_KEY

START = datetime(2025, 1, 1, 0, 0, tzinfo=CST)
MEMBERS = {"res1": "u11", "res2": "u21", "worker1": "g1", "police1": "g1"}
ACTIVITIES = ("volunteer_service", "志愿服务", "cleanup", "party_study", "mediation", "patrol", "dancing")


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """A random history over 500 days: activities, redemptions, recognition awards, incidents."""
    out: list[Event] = []
    for n in range(draw(st.integers(min_value=1, max_value=40))):
        when = START + timedelta(hours=draw(st.integers(min_value=0, max_value=24 * 500)))
        member = draw(st.sampled_from(sorted(MEMBERS)))
        node = MEMBERS[member] if draw(st.integers(0, 9)) else "u12"
        kind = draw(st.integers(0, 10))
        if kind == 10:
            reporter, resolver, closer = (draw(st.sampled_from(sorted(MEMBERS))) for _ in range(3))
            steps = [
                IncidentReported(id=f"e{n}r", time=when, actor=reporter, node=node, incident=f"i{n}",
                                 category="hazard", severity=draw(st.integers(1, 5))),
                IncidentResolved(id=f"e{n}s", time=when + timedelta(hours=1), actor=resolver, node=node,
                                 incident=f"i{n}"),
                IncidentVerified(id=f"e{n}v", time=when + timedelta(hours=2), actor="leader1", node=node,
                                 incident=f"i{n}", satisfaction=draw(st.integers(1, 5))),
                IncidentClosed(id=f"e{n}c", time=when + timedelta(hours=3), actor=closer, node=node,
                               incident=f"i{n}"),
            ]
            out.extend(steps[: draw(st.integers(1, 4))])
        elif kind < 7:
            out.append(ActivityRecorded(
                id=f"e{n}", time=when, actor=member, node=node,
                activity=draw(st.sampled_from(ACTIVITIES)),
                hours=draw(st.sampled_from([0, 0.5, 1, 2.5, 8])),
                quantity=draw(st.integers(0, 5)),
            ))
        elif kind < 9:
            out.append(PointsRedeemed(id=f"e{n}", time=when, actor=member, node=node,
                                      reward=draw(st.sampled_from(["rice", "towel"])),
                                      quantity=draw(st.integers(1, 2))))
        else:
            out.append(RecognitionAwarded(id=f"e{n}", time=when, actor="leader1", node="g1", member=member,
                                          points=draw(st.integers(1, 20)), reason="good work"))
    out.extend(reused(draw, out))
    return sorted(out, key=lambda e: (e.time, e.id))


def reused(draw: st.DrawFn, history: list[Event]) -> list[Event]:
    """Events each well-formed that reuse an id of ``history``: one of its events again (the same: a harmless
    duplicate; or dated otherwise: a conflict, refused), a report of an incident id already reported (dated
    before or after it, under a new id), a step of an incident not reported (or not yet), each dated up to
    three days before or after the event it copies (recorded late when the history comes in order)."""
    out: list[Event] = []
    for n in range(draw(st.integers(0, 4)) if history else 0):
        event = draw(st.sampled_from(history))
        shift = timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))
        how = draw(st.sampled_from(("same", "changed", "new id", "stranger")))
        if how == "same":
            out.append(event)
        elif how == "changed":
            out.append(attrs.evolve(event, time=event.time + shift))
        elif how == "new id" or not hasattr(event, "incident"):
            out.append(attrs.evolve(event, id=f"x{n}", time=event.time + shift))
        else:
            out.append(attrs.evolve(event, id=f"x{n}", incident=draw(st.sampled_from(("i99", "i0")))))
    return out


def snapshot(engine: Engine, now: datetime) -> dict[str, list[tuple[str, str, int]]]:
    engine.clock.set(now)  # type: ignore[attr-defined]
    return {m: [(e.id, e.kind, e.amount) for e in api.entries(engine, m)] for m in MEMBERS}


def check_queued(engine: Engine) -> None:
    """The sweep's queue: every account with something open is queued no later than its ``next_due``
    (``Records.queue_touched`` queues each account its member's events moved, written out for speed)."""
    the_state = api.state(engine)
    if the_state._queue_stale:
        return  # (queued afresh at the first sweep after a restore)
    for member in the_state.accounts:
        due = the_state.accounts.next_due(member)
        if due != NEVER_KEY:
            queued = the_state._queued.get(member)
            assert queued is not None and queued <= due, (member, queued, due)


def check_ledger(engine: Engine) -> None:
    the_state = api.state(engine)
    for member in MEMBERS:
        entries = api.entries(engine, member)
        running = 0
        earned = redeemed = expired = 0
        per_month: dict[str, int] = defaultdict(int)
        volunteer: dict[str, int] = defaultdict(int)
        for entry in entries:
            running += entry.amount
            assert running >= 0, f"{member} went negative at {entry.id}"
            if entry.kind in ("earn", "bonus", "recognition"):
                earned += entry.amount
            elif entry.kind == "redeem":
                redeemed -= entry.amount
            elif entry.kind == "expire":
                expired -= entry.amount
            if entry.kind == "earn":
                month = period_key("month", entry.time, the_state.tz)
                per_month[month] += entry.amount
                if entry.activity == "volunteer_service":
                    volunteer[month] += entry.amount
        balance = api.balance(engine, member)
        assert balance == earned - redeemed - expired == running
        assert balance >= 0
        assert all(total <= 100 for total in per_month.values()), per_month  # cap: 100 a month
        assert all(total <= 40 for total in volunteer.values()), volunteer  # 40 a month for volunteering


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=events(), cut=st.integers(min_value=1, max_value=7))
def test_ledger_invariants_batches_and_replay(history: list[Event], cut: int) -> None:
    end = START + timedelta(days=900)
    with tempfile.TemporaryDirectory() as tmp:
        one = open_points(Path(tmp) / "one", YINQUAN, now=START)
        summary = one.record_many(history)
        check_queued(one)
        check_ledger(one)
        whole = snapshot(one, end)
        check_ledger(one)  # after 900 days everything has expired or been spent

        many = open_points(Path(tmp) / "many", YINQUAN, now=START)
        for i in range(0, len(history), cut):
            many.record_many(history[i:i + cut])
            check_queued(many)
        assert snapshot(many, end) == whole
        assert many.store.count() == one.store.count() == summary.accepted

        again = many.record_many(history)  # replaying the same events never double-credits
        assert again.accepted == 0
        assert snapshot(many, end) == whole
        one.close()
        many.close()

        reopened = open_points(Path(tmp) / "one", None, now=START)
        assert snapshot(reopened, end) == whole
        check_ledger(reopened)
        reopened.close()
