"""Engines that stay live across processes: writes judged against the latest state, refresh.

Two engines on one SQL store (SQLite, PostgreSQL) each judge events against
the state they have; every append is conditional on the log position that
state reflects, so the second writer is told the store moved, catches up and
judges again.  Shown in one process (deterministic) and with real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CST, REPO, small_community
from storefixtures import StoreFactory, stores_fixture

from gridcore import Engine, EventRefused, FixedClock, StoreError, get_plugin_manager, hookimpl
from gridcore.events import PatrolLogged
from gridcore_escalation.events import IncidentReported
from gridcore_points import api
from gridcore_points.events import PointsRedeemed

SQL = ("sqlite", "postgresql")
YINQUAN_POINTS = REPO / "tests" / "data" / "points" / "yinquan.rules"
LADDER = REPO / "tests" / "data" / "escalation" / "ladder-grid.rules"
ESCALATION_COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
MONDAY = datetime(2025, 1, 6, 9, tzinfo=CST)
WHEN = datetime(2025, 1, 20, 9, tzinfo=CST)  # engine_worker.py's redemption time


sql = stores_fixture(SQL, name="sql")


def points_engine(url: str, **kw: Any) -> Engine:
    kw.setdefault("clock", FixedClock(WHEN))
    return Engine.open(store=url, plugins=get_plugin_manager(("escalation", "assessment")), **kw)


def with_100_points(url: str) -> None:
    """res1 (a resident of u11) earns exactly 100 points: 5 mediations, capped at 100 a month."""
    from gridcore.events import ActivityRecorded

    with points_engine(url, community=small_community(), ruleset=YINQUAN_POINTS,
                       effective=datetime(2024, 1, 1, tzinfo=CST)) as engine:
        engine.record_many([
            ActivityRecorded(id=f"m{n}", time=MONDAY + timedelta(days=n), actor="res1", node="u11",
                             activity="mediation", quantity=3)
            for n in range(5)
        ])
        assert api.balance(engine, "res1") == 100


def towels(ident: str) -> PointsRedeemed:
    return PointsRedeemed(id=ident, time=WHEN, actor="res1", node="u11", reward="towel", quantity=3)


# ---------------------------------------------------------------- one process, two engines


def test_the_second_of_two_redemptions_judged_on_the_same_balance_is_refused(sql: StoreFactory) -> None:
    url = sql.url()
    with_100_points(url)
    first, second = points_engine(url), points_engine(url)
    try:
        assert api.balance(second, "res1") == 100  # both judge against 100 points
        assert first.record(towels("r1"))
        with pytest.raises(EventRefused, match="insufficient balance: res1 has 40 points"):
            second.record(towels("r2"))  # the store moved: second caught up and judged again
        assert api.balance(second, "res1") == 40
        assert second.position == first.position == second.store.position()
    finally:
        first.close()
        second.close()
    with points_engine(url) as fresh:
        assert api.balance(fresh, "res1") == 40
        assert not fresh.store.contains("r2")


def test_two_engines_never_derive_the_same_escalation_twice(sql: StoreFactory) -> None:
    url = sql.url()
    pm = get_plugin_manager(("points", "assessment"))
    start = datetime(2025, 3, 3, 9, tzinfo=CST)
    with Engine.open(store=url, community=ESCALATION_COMMUNITY, ruleset=LADDER, effective=start - timedelta(days=1),
                     clock=FixedClock(start), plugins=pm) as setup:
        setup.record_many([IncidentReported(id=f"r{n}", time=start, actor="worker1", node="u11", incident=f"I{n}",
                                            category="leaking_pipe") for n in range(3)])
    later = start + timedelta(hours=7)
    first = Engine.open(store=url, clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment")))
    second = Engine.open(store=url, clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment")))
    try:
        fired = first.tick(later)
        assert len(fired) == 9  # three incidents, three steps each (housing, community, street)
        assert second.tick(later) == []  # it catches up and finds them derived already
        assert len(list(second.events(kinds=["incident_escalated"]))) == 9
    finally:
        first.close()
        second.close()


def test_a_read_only_engine_keeps_its_ids_bounded_but_those_it_derived_and_another_stores_later(
        sql: StoreFactory) -> None:
    """A read-only engine (a service's reader) refreshing all day: past ``applied_most`` it forgets the ids
    of what it read from the store, never those of what it derived in memory before a writer stored them:
    refresh passes over those once stored (forgotten, they would be taken for new events: applied twice,
    or, dated before what is applied, as here, a rebuild of the whole state from the store)."""
    from gridcore_escalation.views import incidents

    url = sql.url()
    with_escalation = ("points", "assessment")
    start = datetime(2025, 3, 3, 9, tzinfo=CST)
    later = start + timedelta(hours=7)
    with Engine.open(store=url, community=ESCALATION_COMMUNITY, ruleset=LADDER, effective=start - timedelta(days=1),
                     clock=FixedClock(start), plugins=get_plugin_manager(with_escalation)) as setup:
        setup.record_many([IncidentReported(id=f"r{n}", time=start, actor="worker1", node="u11", incident=f"I{n}",
                                            category="leaking_pipe") for n in range(3)])
    applied = Applied()  # (the escalation plugin passes over an escalation it holds: a plugin may not)
    reader = Engine.open(store=url, clock=FixedClock(later), read_only=True,
                         plugins=get_plugin_manager(with_escalation, extra=[applied]))
    try:
        reader.applied_most = 2
        # another process without the escalation plugin stores patrols after the cases' deadlines: the
        # reader, reading them, derives the nine escalations in its memory only
        _in_another_process(READ_ONLY_PATROLS, url)
        assert reader.refresh() == 6
        assert len(reader._derived_here) == 9 and reader.store.position() == 9
        assert reader._applied == reader._derived_here  # past the bound: what it read is forgotten
        # another process with it stores the same nine on opening (derived before the patrols)
        _in_another_process(READ_ONLY_ESCALATIONS, url)
        assert len(list(reader.events(kinds=["incident_escalated"]))) == 9
        assert reader.refresh() == 0  # passed over: applied already
        assert not reader._derived_here and len(reader._applied) <= reader.applied_most
        with Engine.open(store=url, clock=FixedClock(later), plugins=get_plugin_manager(with_escalation),
                         read_only=True) as fresh:
            assert incidents(reader) == incidents(fresh)
            assert [len(view.escalations) for view in incidents(reader)] == [3, 3, 3]
        assert len(applied.ids) == 3 + 6 + 9 and set(applied.ids.values()) == {1}  # each once, no rebuild
    finally:
        reader.close()


READ_ONLY_PATROLS = """
import sys
from datetime import datetime, timedelta
from conftest import CST
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import PatrolLogged
later = datetime(2025, 3, 3, 16, tzinfo=CST)
with Engine.open(store=sys.argv[1], clock=FixedClock(later),
                 plugins=get_plugin_manager(("points", "assessment", "escalation"))) as patrols:
    patrols.record_many([PatrolLogged(id=f"p{n}", time=later + timedelta(minutes=n), actor="worker1",
                                      node="u11", minutes=5) for n in range(6)])
"""

READ_ONLY_ESCALATIONS = """
import sys
from datetime import datetime
from conftest import CST
from gridcore import Engine, FixedClock, get_plugin_manager
with Engine.open(store=sys.argv[1], clock=FixedClock(datetime(2025, 3, 3, 16, tzinfo=CST)),
                 plugins=get_plugin_manager(("points", "assessment"))) as writer:
    assert len(list(writer.events(kinds=["incident_escalated"]))) == 9
"""


def _in_another_process(script: str, url: str) -> None:
    done = subprocess.run([sys.executable, "-c", script, url], cwd=REPO / "tests", capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


class Applied:
    """A third-party plugin counting how often each event is applied to its state."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Any, replaying: bool) -> None:
        self.ids[event.id] = self.ids.get(event.id, 0) + 1


def test_refresh_sees_what_another_engine_wrote_without_a_replay(sql: StoreFactory) -> None:
    url = sql.url()
    with_100_points(url)
    reader, writer = points_engine(url), points_engine(url)
    try:
        assert reader.refresh() == 0
        writer.record(towels("r1"))
        writer.record(PatrolLogged(id="p1", time=WHEN, actor="worker1", node="g1", minutes=30))
        assert api.balance(reader, "res1") == 100  # not yet
        assert reader.refresh() == 2
        assert api.balance(reader, "res1") == 40
        assert reader.position == writer.position == 7
        # An event stored earlier than what the reader applied: it rebuilds, in canonical order
        # (from the checkpoint the writer takes at once after a late event: one new event all the same).
        writer.checkpoint_share = 1
        writer.record(PointsRedeemed(id="r0", time=MONDAY + timedelta(days=6), actor="res1", node="u11",
                                     reward="towel", quantity=1))
        assert reader.refresh() == 1
        assert reader._base == reader.position  # restored from that checkpoint
        assert api.balance(reader, "res1") == 20
        with points_engine(url) as fresh:
            assert [r.entry.id for r in api.state(fresh).booked()] == [r.entry.id for r in api.state(reader).booked()]
    finally:
        reader.close()
        writer.close()


def test_a_tinydb_reader_refreshes_beside_its_one_writer(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    with_100_points(url)
    writer = points_engine(url)
    reader = points_engine(url, read_only=True)
    try:
        writer.record(towels("r1"))
        assert reader.refresh() == 1 and api.balance(reader, "res1") == 40
        with pytest.raises(StoreError, match="read-only"):
            reader.record(towels("r2"))
        other = points_engine(url)
        with pytest.raises(StoreError, match="in use by another handle in this process"):
            other.record(PointsRedeemed(id="r3", time=WHEN, actor="res1", node="u11", reward="towel"))
        other.close()
    finally:
        reader.close()
        writer.close()


# ---------------------------------------------------------------- real processes


def start_workers(*argvs: list[str]) -> list[subprocess.Popen[str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"))
    procs = [subprocess.Popen([sys.executable, str(REPO / "tests" / "engine_worker.py"), *argv],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for argv in argvs]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return procs


def results(procs: list[subprocess.Popen[str]], barrier: Path) -> list[dict[str, Any]]:
    barrier.touch()  # all are open and waiting: go
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_two_processes_redeeming_the_last_points_at_once_only_one_succeeds(sql: StoreFactory, tmp_path: Path) -> None:
    for round_ in range(2):
        url = sql.url()
        with_100_points(url)
        barrier = tmp_path / f"go{round_}"
        procs = start_workers(["redeem", url, str(barrier), "r-a"], ["redeem", url, str(barrier), "r-b"])
        got = results(procs, barrier)
        assert sorted(r["stored"] for r in got) == [False, True], got
        refused = next(r for r in got if not r["stored"])
        # r-a sorts first: judged after r-b it is a late redemption that would overdraw r-b
        assert "insufficient balance: res1 has 40 points" in refused["reasons"][0] or \
            "before later redemptions that it would leave without enough points" in refused["reasons"][0]
        with points_engine(url) as fresh:
            assert api.balance(fresh, "res1") == 40


def test_two_processes_ticking_at_once_derive_each_escalation_once(sql: StoreFactory, tmp_path: Path) -> None:
    url = sql.url()
    start = datetime(2025, 3, 3, 9, tzinfo=CST)
    with Engine.open(store=url, community=ESCALATION_COMMUNITY, ruleset=LADDER, effective=start - timedelta(days=1),
                     clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment"))) as setup:
        setup.record_many([IncidentReported(id=f"r{n}", time=start, actor="worker1", node="u11", incident=f"I{n}",
                                            category="leaking_pipe") for n in range(4)])
    later = (start + timedelta(hours=7)).isoformat()
    procs = start_workers(["tick", url, str(tmp_path / "go"), later], ["tick", url, str(tmp_path / "go"), later])
    fired = [set(r["fired"]) for r in results(procs, tmp_path / "go")]
    assert not fired[0] & fired[1], "an escalation was derived by both"
    with Engine.open(store=url, clock=FixedClock(start), plugins=get_plugin_manager(("points", "assessment"))) as e:
        stored = {ev.id for ev in e.events(kinds=["incident_escalated"])}
    assert fired[0] | fired[1] == stored and len(stored) == 12


def test_two_processes_writing_one_sql_store_lose_and_repeat_nothing(sql: StoreFactory, tmp_path: Path) -> None:
    two_writers_lose_and_repeat_nothing(sql.url(), tmp_path, "ingest", 25)


def test_two_processes_ingesting_many_batches_at_once_lose_and_repeat_nothing(
        sql: StoreFactory, tmp_path: Path) -> None:
    # each records its 40 events in one call, two a batch: on PostgreSQL a batch is sent and the
    # next judged while the server stores it, so a conflict may be found a batch late
    two_writers_lose_and_repeat_nothing(sql.url(), tmp_path, "ingest-many", 40)


def two_writers_lose_and_repeat_nothing(url: str, tmp_path: Path, mode: str, count: int) -> None:
    """Two processes recording ``count`` patrols each at once (engine_worker.py ``mode``): every one is
    accepted and stored once, at dense positions."""
    with Engine.open(store=url, community=small_community(), clock=FixedClock(WHEN),
                     plugins=get_plugin_manager(("points", "escalation", "assessment"))):
        pass
    procs = start_workers([mode, url, str(tmp_path / "go"), "a", str(count)],
                          [mode, url, str(tmp_path / "go"), "b", str(count)])
    assert [r["accepted"] for r in results(procs, tmp_path / "go")] == [count, count]
    with Engine.open(store=url, clock=FixedClock(WHEN), plugins=get_plugin_manager(("points", "assessment"))) as e:
        stored = [ev.id for ev in e.events()]
        assert sorted(stored) == sorted([f"{who}-{n:04d}" for who in "ab" for n in range(count)])
        assert [p for p, _ in e.store.events_after(0)] == list(range(1, 2 * count + 1))
