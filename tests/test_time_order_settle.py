"""A store written before the time-order fact was kept gets it once: ``gridcore time-order --settle``.

Without the fact (an older gridcore's store) every stored step is judged again
at each replay, for good.  ``--settle`` replays the whole log once, judging
every stored event again, and marks the events stored late (as the engine
would have marked them) and the earliest stored event that replay ignored;
then the store keeps the fact, replays judge again only from the earliest
mark, and the state they give is the one the old store gave.  On TinyDB,
SQLite and PostgreSQL (``GRIDCORE_TEST_POSTGRES_URL``).  Meanwhile the settle is the store's only appender:
another process's append waits (SQLite, PostgreSQL) or is refused (TinyDB, one writer), with real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from storefixtures import REPO, StoreFactory, open_store, stores_fixture
from test_escalation_late import T0, act, hours, open_engine, report

import gridcore_escalation as esc
from gridcore import Engine
from gridcore.events import Event
from gridcore_app.cli import main_group
from gridcore_escalation.events import IncidentAccepted, IncidentResolved

stores = stores_fixture()


def _state(engine: Engine) -> list[tuple[Any, ...]]:
    """Where the cases stand, and their ignored steps."""
    return [(v.id, v.status, v.current_node, v.accepted_by,
             [e.event for e in esc.timeline(engine, v.id) if e.what.endswith(" ignored")])
            for v in esc.incidents(engine)]


def _old_store(stores: StoreFactory, events: list[Event], *, appended: bool = False) -> tuple[str, Any]:
    """A store holding ``events`` as an older gridcore left it (no time-order fact), and the fact the same
    events recorded by this gridcore give (``appended``: the events go straight into the log, in this order,
    as a gridcore that judged them otherwise stored them)."""
    kept_url, old_url = stores.url(), stores.url()
    engine = open_engine(kept_url)
    if appended:
        engine.store.append([engine.codec.to_dict(event) for event in events], expected=engine.position)
    else:
        for event in events:
            engine.record(event)
    fact = engine.time_order
    stored = [doc for _, doc in engine.store.events_after(0)]
    engine.close()
    old, kept = open_store(old_url), open_store(kept_url)
    old.append(stored)
    for collection in ("meta", "rulesets"):
        for key, doc in kept.items(collection):
            if (collection, key) != ("meta", "time order"):
                old.put(collection, key, doc)
    old.close()
    kept.close()
    return old_url, fact


def _run(*args: str) -> str:
    done = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


def test_settle_marks_the_events_stored_late_and_replays_give_the_same_state(stores: StoreFactory) -> None:
    events = [report("I2", T0, node="u21"), report("I0", hours(0.5), node="u12"), report("I1", hours(1)),
              act(IncidentAccepted, "I1", hours(3)), act(IncidentResolved, "I1", hours(4)),
              act(IncidentAccepted, "I1", hours(2), actor="unitlead"),  # (typed in late)
              report("I3", hours(5), node="u21")]
    url, fact = _old_store(stores, events)
    assert fact.late_from == (events[5].time, events[5].id)
    with open_engine(url) as old:
        assert not old.time_order.kept and all(old.late_before(e) for e in events)
        before = _state(old)
    assert events[3].id in next(case[4] for case in before if case[0] == "I1")  # (worker1's acceptance, refused in time order: ignored)
    assert _run("time-order", "--store", url).startswith("not known: the store was written before gridcore kept it")
    said = _run("time-order", "--settle", "--store", url)
    assert said == (f"settled (已确定): recorded late from event {events[5].id} at {events[5].time.isoformat()} in "
                    "time order: replays judge stored events again from there (自 "
                    f"{events[5].time.isoformat()} 的事件 {events[5].id}起有补录：重放时从此处起重新评判已存事件)\n")
    with open_engine(url) as settled:
        assert settled.time_order.kept and settled.time_order.late_from == fact.late_from
        assert [settled.late_before(e) for e in events] == [False, False, False, True, True, True, True]
        assert _state(settled) == before
        settled.rebuild()
        assert _state(settled) == before
    # once: settled again, nothing changes
    assert _run("time-order", "--settle", "--store", url) == said.removeprefix("settled (已确定): ")


def test_settle_marks_the_first_step_a_full_replay_ignores(stores: StoreFactory) -> None:
    """A log stored in time order by a gridcore that accepted what this one refuses (here a second acceptance,
    appended as it was): no event came late, but a full replay ignores it; the mark starts there, so replays
    still ignore it (marked nowhere, it would be applied)."""
    events = [report("I1", T0), act(IncidentAccepted, "I1", hours(1)),
              act(IncidentAccepted, "I1", hours(2), actor="unitlead"), report("I2", hours(3), node="u21")]
    url, _ = _old_store(stores, events, appended=True)
    with open_engine(url) as old:
        before = _state(old)
    assert [case[4] for case in before if case[0] == "I1"] == [[events[2].id]]
    _run("time-order", "--settle", "--store", url)
    with open_engine(url) as settled:
        assert settled.time_order.kept and settled.time_order.late_from == (events[2].time, events[2].id)
        assert [settled.late_before(e) for e in events] == [False, False, True, True]
        assert _state(settled) == before


def test_a_store_in_time_order_settles_in_time_order(stores: StoreFactory) -> None:
    events = [report("I1", T0), act(IncidentAccepted, "I1", hours(1)), act(IncidentResolved, "I1", hours(2))]
    url, fact = _old_store(stores, events)
    assert fact.in_time_order
    assert _run("time-order", "--settle", "--store", url) == (
        "settled (已确定): every event was recorded in time order (所有事件均按时间顺序录入)\n")
    with open_engine(url) as settled:
        assert settled.time_order.in_time_order and not any(settled.late_before(e) for e in events)
    assert _run("time-order", "--store", url) == "every event was recorded in time order (所有事件均按时间顺序录入)\n"


# ---------------------------------------------------------------- beside another writer

EVENTS_LATE_TYPED = [report("I2", T0, node="u21"), report("I0", hours(0.5), node="u12"), report("I1", hours(1)),
                     act(IncidentAccepted, "I1", hours(3)), act(IncidentResolved, "I1", hours(4)),
                     act(IncidentAccepted, "I1", hours(2), actor="unitlead"), report("I3", hours(5), node="u21")]


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "settle_worker.py"), *args], cwd=REPO / "tests",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _until(done: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    """Wait until ``done()`` (at most 60 s; ``process`` must not end meanwhile)."""
    for _ in range(6000):
        if done():
            return
        if process.poll() is not None:
            raise AssertionError(f"{what}: the process ended first: {process.communicate()}")
        time.sleep(0.01)
    raise AssertionError(f"{what}: not within 60 s")


def _waiting_to_append(stores: StoreFactory, url: str) -> bool:
    """Whether a process waits to append to ``url``: for the schema's append lock (PostgreSQL), for the lock
    file beside the store (SQLite; a blocked request is listed with ``->`` in /proc/locks)."""
    if stores.backend == "postgresql":
        import psycopg

        from gridcore.store.postgres_store import split_url

        conninfo, schema = split_url(url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = (hashtext(%s)::bigint & 4294967295)::oid", (f"gridcore-append:{schema}",)).fetchone()
        return bool(row and row[0])
    from gridcore.store.sqlite_store import APPENDING_SUFFIX, sqlite_path

    lock = sqlite_path(url)
    lock = lock.with_name(lock.name + APPENDING_SUFFIX)
    inode = f":{os.stat(lock).st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def _stored_ids(url: str) -> list[str]:
    with Engine.open(store=url, read_only=True) as engine:
        return sorted(e.id for e in engine.events())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_settle_is_the_only_appender_another_processs_late_report_waits_and_is_marked(
        tmp_path: Path, backend: str) -> None:
    """``gridcore time-order --settle`` in one process (paused at the first event its replay gives, holding the
    store), a late report recorded by an engine in another: that writer read "not kept" and judged its report,
    and its append waits until the settle is done (seen waiting in the server's or the kernel's lock table),
    so nothing is stored that the settle's replay did not judge; then it is stored, nothing lost, and the fact
    names it: its writer marked it although the store did not keep the fact yet (else the settled store would
    say the log was in time order up to I1's second acceptance and replays would not judge again after it)."""
    stores = StoreFactory(backend, tmp_path)
    try:
        url, _ = _old_store(stores, EVENTS_LATE_TYPED)
        held, go = tmp_path / "held", tmp_path / "go"
        settling = _worker("settle", url, str(held), str(go))
        try:
            _until(held.exists, "the settle holds the store", settling)
            writer = _worker("report", url)
            _until(lambda: _waiting_to_append(stores, url), "the other writer waits to append", writer)
            assert "I9-report" not in _stored_ids(url)  # (waiting: not stored while the settle replays)
            go.write_text("go", encoding="utf-8")
            out, err = settling.communicate(timeout=120)
            assert settling.returncode == 0, err
            assert out.startswith("settled (已确定): "), out
            written, err = writer.communicate(timeout=120)
            assert writer.returncode == 0 and json.loads(written) == {"stored": True}, (written, err)
        finally:
            for process in (settling, locals().get("writer")):
                if isinstance(process, subprocess.Popen) and process.poll() is None:
                    process.kill()
                    process.wait()
        assert {e.id for e in EVENTS_LATE_TYPED} | {"I9-report"} <= set(_stored_ids(url))  # nothing lost
        with open_engine(url) as settled:
            assert settled.time_order.kept and settled.time_order.late_from == (hours(0.25), "I9-report")
            live = _state(settled)
            settled.rebuild()
            assert _state(settled) == live and "I9" in [case[0] for case in live]
    finally:
        stores.cleanup()


def test_settle_is_refused_naming_the_process_that_writes_to_a_tinydb_store(tmp_path: Path) -> None:
    """TinyDB has one writer: a settle while another process writes is refused, in English and Chinese, with
    nothing written; a report another process tries while a settle holds the store is refused the same way."""
    stores = StoreFactory("tinydb", tmp_path)
    url, _ = _old_store(stores, EVENTS_LATE_TYPED)
    held, go = tmp_path / "held", tmp_path / "go"
    settling = _worker("settle", url, str(held), str(go))
    try:
        _until(held.exists, "the settle holds the store", settling)
        written, _ = _worker("report", url).communicate(timeout=120)
        said = json.loads(written)
        assert not said["stored"] and f"is in use by process {settling.pid}" in said["why"], said
        assert "存储正被其他进程写入" in said["why"]
        go.write_text("go", encoding="utf-8")
        assert settling.wait(timeout=120) == 0
    finally:
        if settling.poll() is None:
            settling.kill()
            settling.wait()
    assert "I9-report" not in _stored_ids(url)
    # the other way round: a writer holds the store, the settle is refused and writes nothing
    with open_engine(url) as writer:
        writer.record(report("I9", hours(0.25), node="u12"))
        done = CliRunner().invoke(main_group, ["time-order", "--settle", "--store", url])
        assert done.exit_code == 1, done.output
        assert "is in use by another handle in this process" in done.output and "存储正被其他进程写入" in done.output
