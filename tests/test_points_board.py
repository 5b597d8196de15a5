"""The public board reads only the accounts that earned in its month, and answers as if it read them all.

A board views an account (a copy advanced to the month's end, its packed lots
read back) only when the account earned there that month or its view would
book a streak bonus there; the answer must be the board worked out from every
account fully advanced, the way it was before.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_points_bounded import MONTHS, SHORT, events, points_only
from test_points_engine import DATA, YINQUAN, open_points
from test_points_invariants import START

from gridcore import Engine, FixedClock
from gridcore.events import ActivityRecorded, Event
from gridcore.periods import parse_period
from gridcore_points import api, ledger


def board_of_every_account(engine: Engine, node: str, month: str) -> list[api.BoardRow]:
    """The board as it was worked out before: every account copied and advanced to the month's end."""
    the_state = api.state(engine)
    hierarchy = engine.community.hierarchy
    span = parse_period(month, the_state.tz)
    start, end = span.start, span.end
    until = min(end, engine.clock.now())
    scores = []
    for member in sorted(the_state.accounts):
        account = the_state.accounts[member].copy()
        account.advance(until, the_state.policy_at, the_state.calendar)
        since = [r.entry for r in the_state.booked(min(start, until)) if r.entry.member == member]
        since = [e for e in since if e.time >= min(start, until)] + [r.entry for r in account.extras]
        earned = sum(e.amount for e in since if e.kind in ledger.CREDITS and start <= e.time < end
                     and e.time <= until and hierarchy.is_within(e.node, node))
        if earned > 0:
            held = account.net - sum(e.amount for e in since if e.time >= end or e.time > until)
            scores.append((earned, member, held))
    scores.sort(key=lambda row: (-row[0], row[1]))
    rows: list[api.BoardRow] = []
    for position, (earned, member, held) in enumerate(scores, 1):
        rank = rows[-1].rank if rows and rows[-1].earned == earned else position
        rows.append(api.BoardRow(rank, member, the_state.name_of(member), api.role_label(engine, member),
                                 earned, held))
    return rows


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=events(), ruleset=st.sampled_from([SHORT, DATA / "yinquan.rules", YINQUAN]),
       days=st.sampled_from([2, 15, 45, 200, 900]))
def test_the_board_answers_as_from_every_account(history: list[Event], ruleset: Path, days: int) -> None:
    now = START + timedelta(days=days)
    with tempfile.TemporaryDirectory() as tmp, open_points(Path(tmp) / "store", ruleset, now=START) as engine:
        engine.record_many(history)
        engine.checkpoint()
        # live (accounts built by events) and restored from the checkpoint (their lots packed)
        restored = Engine.open(store=str(Path(tmp) / "store"), clock=FixedClock(now), plugins=points_only(),
                               read_only=True)
        engine.clock.set(now)  # type: ignore[attr-defined]
        with restored:
            root = engine.community.hierarchy.roots()[0].id
            for month in [m for m in MONTHS if "W" not in m and m.count("-") == 1]:
                for node in (root, "g1"):
                    expected = board_of_every_account(engine, node, month)
                    assert api.board(engine, node, month) == expected
                    assert api.board(restored, node, month) == expected
                    assert board_of_every_account(restored, node, month) == expected


def test_a_board_leaves_the_lots_of_accounts_that_earned_nothing_that_month_packed(tmp_path: Path) -> None:
    # res1 earns in January, res2 in March; the quarter's streak (YINQUAN's test data: each month of
    # the quarter) does not pay either of them, so a board of March reads res2's lots only
    history = [
        ActivityRecorded(id="a1", time=datetime(2025, 1, 10, 9, tzinfo=START.tzinfo), actor="res1", node="u11",
                         activity="cleanup"),
        ActivityRecorded(id="a2", time=datetime(2025, 3, 10, 9, tzinfo=START.tzinfo), actor="res2", node="u21",
                         activity="cleanup"),
    ]
    with open_points(tmp_path / "store", DATA / "yinquan.rules", now=START) as engine:
        engine.record_many(history)
        engine.checkpoint()
    now = datetime(2025, 4, 2, tzinfo=START.tzinfo)
    with Engine.open(store=str(tmp_path / "store"), clock=FixedClock(now), plugins=points_only(),
                     read_only=True) as restored:
        accounts = api.state(restored).accounts
        assert sorted(accounts) == ["res1", "res2"]
        assert accounts.row("res1") is not None and accounts.row("res2") is not None  # neither built yet
        root = restored.community.hierarchy.roots()[0].id
        rows = api.board(restored, root, "2025-03")
        assert [(row.member, row.earned) for row in rows] == [("res2", rows[0].earned)]
        assert rows[0].earned > 0
        # res1's account was not even built (its row says it has no span that may pay there);
        # res2's view was a copy (its quarter's span ended by the month's end), which read the lots back
        # for itself: res2's account is built, its lots stay packed
        assert accounts.row("res1") is not None
        assert accounts.row("res2") is None
        assert accounts["res1"].packed is not None
        assert accounts["res2"].packed is not None
        assert api.state(restored).view("res2", now).packed is None
        assert rows == board_of_every_account(restored, root, "2025-03")
        assert [row.member for row in api.board(restored, root, "2025-01")] == ["res1"]
