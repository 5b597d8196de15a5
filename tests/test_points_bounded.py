"""The points state keeps only what is still open, and answers exactly as the full one did.

``tests/points_reference`` is the earlier state (every event, claim, lot and
period label kept); random logs, recorded in random order and batches (so
late events rewind and replay), must give the same refusals, balances,
ledgers, statements, boards, totals, flags, explanations and outcomes.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import BUILTIN_PLUGINS, IncidentKinds, small_community
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from points_reference import ReferencePoints
from points_reference import api as reference_api
from test_points_engine import DATA, EFFECTIVE, YINQUAN, open_points
from test_points_invariants import ACTIVITIES, MEMBERS, START, reused

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import ActivityRecorded, Event
from gridcore_escalation.events import (
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)
from gridcore_points import api
from gridcore_points.events import PointsRedeemed, RecognitionAwarded

#: Short periods (week caps and limits, one-month expiry, overlapping duplicates, a daily streak).
SHORT = DATA / "bounded.rules"

MONTHS = [f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(0, 30, 2)] + ["2025-W01", "2025-W02", "2025-01-02"]


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """A random history, crowded into a few days or spread over 500."""
    out: list[Event] = []
    hours = draw(st.sampled_from([24 * 3, 24 * 40, 24 * 500]))
    for n in range(draw(st.integers(min_value=1, max_value=40))):
        when = START + timedelta(hours=draw(st.integers(min_value=0, max_value=hours)),
                                 minutes=draw(st.sampled_from([0, 0, 30])))
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
            out.append(RecognitionAwarded(id=f"e{n}", time=when, actor=draw(st.sampled_from(["leader1", member])),
                                          node="g1", member=member, points=draw(st.integers(1, 20)),
                                          reason="good work"))
    out.extend(reused(draw, out))
    return sorted(out, key=lambda e: (e.time, e.id))


def points_only() -> Any:
    """The plugins ``open_points`` opens an engine with (the points plugin, incident kinds)."""
    return get_plugin_manager(tuple(p for p in BUILTIN_PLUGINS if p != "points"), extra=[IncidentKinds()])


def reference_engine(store: Path, ruleset: Path) -> Engine:
    """An engine with the earlier points state in place of the plugin's."""
    return Engine.open(
        store=str(store),
        community=small_community(),
        ruleset=ruleset,
        clock=FixedClock(START),
        plugins=get_plugin_manager(BUILTIN_PLUGINS, extra=[IncidentKinds(), ReferencePoints()]),
        effective=EFFECTIVE,
    )


def plain(value: Any) -> Any:
    """Values of attrs classes as tuples, so the two implementations' classes compare."""
    if attrs.has(type(value)):
        return tuple(plain(getattr(value, f.name)) for f in attrs.fields(type(value)))
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def answers(engine: Engine, module: Any, now: datetime) -> dict[str, Any]:
    """Everything the points API answers at ``now``."""
    engine.clock.set(now)  # type: ignore[attr-defined]
    root = engine.community.hierarchy.roots()[0].id
    out: dict[str, Any] = {}
    for member in sorted(MEMBERS):
        out[f"balance {member}"] = module.balance(engine, member)
        out[f"balance {member} day 40"] = module.balance(engine, member, at=START + timedelta(days=40))
        entries = module.entries(engine, member)
        out[f"entries {member}"] = plain(entries)
        out[f"explain {member}"] = [plain(engine.explain(e.decision)) for e in entries]
        for month in MONTHS:
            out[f"statement {member} {month}"] = plain(module.statement(engine, member, month))
    for month in MONTHS:
        for node in (root, "g1"):
            out[f"board {node} {month}"] = plain(module.board(engine, node, month))
        out[f"totals {month}"] = plain(module.node_totals(engine, root, month))
    out["flags"] = plain(module.flags(engine))
    out["rewards"] = plain(module.rewards(engine))
    latest = engine.latest_event_time
    if latest is None or now >= latest:
        # (balances now; with the clock before events already applied, each state's balances are
        # as of the last moment it advanced an account to, which differs: the reference advanced
        # an account only for its member's own events, the state advances every account as time passes)
        out["outcomes"] = plain(engine.outcomes())
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=events(), ruleset=st.sampled_from([YINQUAN, SHORT]), cut=st.integers(min_value=1, max_value=9),
       data=st.data())
def test_the_bounded_state_answers_as_the_full_one(
    history: list[Event], ruleset: Path, cut: int, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(history)) if data.draw(st.booleans()) else history
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        # a history cut in parts of three entries, a checkpoint after every call: parts are stored,
        # late events rewind to a checkpoint, and a reader restored from the last one reads them back
        patch.setattr("gridcore_points.history.PART_SIZE", 3)
        patch.setattr("gridcore_points.history.CHAPTER_PARTS", 2)  # (the oldest stored parts in chapters)
        patch.setattr("gridcore_points.sealed.PART_IDS", 2)  # (settled incidents' ids in parts of 2)
        patch.setattr("gridcore_points.sealed.MAP_PART_IDS", 2)  # (repeat reports' tracks in parts of 2)
        bounded = open_points(Path(tmp) / "bounded", ruleset, now=START)
        bounded.checkpoint_min, bounded.checkpoint_share = 1, 1
        full = reference_engine(Path(tmp) / "full", ruleset)
        with bounded, full:
            for i in range(0, len(order), cut):
                got = bounded.record_many(order[i : i + cut])
                want = full.record_many(order[i : i + cut])
                assert [(r.event_id, r.reasons) for r in got.refused] == [(r.event_id, r.reasons) for r in want.refused]
                assert got.accepted == want.accepted
            restored = Engine.open(store=str(Path(tmp) / "bounded"), clock=FixedClock(START),
                                   plugins=points_only(), read_only=True)
            with restored:
                for days in (2, 30, 200, 900):
                    now = START + timedelta(days=days)
                    expected = answers(full, reference_api, now)
                    assert answers(bounded, api, now) == expected
                    assert answers(restored, api, now) == expected
                # and it saves the document a replay from the first event saves
                saved = restored.hooks.save_state(restored, api.state(restored))
                restored.rebuild()
                assert restored.hooks.save_state(restored, api.state(restored)) == saved
