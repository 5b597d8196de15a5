"""Two worker processes on one store: reports through Open311, actions through the API, at once.

A real ``gridcore serve --workers 2`` on a loopback port, on SQLite and on
PostgreSQL.  Every request opens a new connection, so the two processes share
the work (the access log names the process that served each line).  Then the
store must hold each answered event exactly once and nothing unanswered, and
what the engine derived (immediate and overdue escalations, repeat reports)
must be exactly what one engine derives from the same events: nothing derived
twice, nothing missed.  A token revoked from the command line stops working
in every worker at once.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from servicekit import CST, INTAKE, START, YINQUAN, Server, make_store, mapped_yinquan, served
from storefixtures import StoreFactory

from gridcore import Engine, FixedClock
from gridcore_app.cli import main_group

#: fresh connections: each request may land on either worker process
NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)
FIRST_TICK = datetime(2025, 3, 3, 14, 0, tzinfo=CST)  # a unit had 4 working hours to accept: 13:00
SECOND_TICK = datetime(2025, 3, 4, 14, 0, tzinfo=CST)  # the grid's 4 hours ran out too


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    factory = StoreFactory(request.param, tmp_path)
    try:
        yield factory.url()
    finally:
        factory.cleanup()


class Clients:
    """Requests from many threads, each on a new connection; every answer is kept."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.pool = ThreadPoolExecutor(max_workers=6)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=60, limits=NO_KEEPALIVE)

    def all(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Run ``calls`` concurrently; their results in order."""
        return list(self.pool.map(lambda call: call(), calls))


def test_two_workers_store_each_event_once_and_derive_each_escalation_once(store_url: str, tmp_path: Path) -> None:
    tokens = make_store(store_url)
    with served(store_url, "--workers", "2", "--rate", "0", start_within=300) as server:
        clients = Clients(server)
        anonymous, worker = clients.client(), clients.client(tokens["worker"])
        answered: list[str] = []  # every event id a client was told is stored

        def open311(code: str, place: str) -> str:
            reply = anonymous.post("/open311/v2/requests.json", data={"service_code": code, "address_id": place})
            assert reply.status_code == 201, reply.text
            ident = str(reply.json()[0]["service_request_id"])
            # read back at once on a new connection, perhaps from the other worker
            assert anonymous.get(f"/open311/v2/requests/{ident}.json").status_code == 200
            return ident

        def api_report(category: str, place: str, severity: int = 1) -> str:
            reply = worker.post("/api/v1/incidents", json={"category": category, "place": place, "severity": severity})
            assert reply.status_code == 201, reply.text
            ident = str(reply.json()["incident"])
            assert worker.get(f"/api/v1/incidents/{ident}").json()["status"] in ("reported", "escalated")
            return ident

        # 1. Reports from both sides at once: anonymous Open311 (three of them the same
        # leak, which the repeats rule escalates) and the gridworker's own, two of them grave.
        calls: list[Callable[[], str]] = [
            *(lambda p=p: open311("leaking_pipe", f"yq-g1-b{p}") for p in (1, 1, 1, 2, 3, 4)),
            *(lambda p=p: open311("broken_manhole", f"yq-g1-b{p}") for p in (5, 6, 7)),
            *(lambda p=p: api_report("sanitation", f"yq-g1-b{p}") for p in range(1, 9)),
            *(lambda p=p: api_report("dispute", f"yq-g1-b{p}", severity=4) for p in (9, 10)),
        ]
        reports = clients.all(calls)
        answered += [f"{ident}:report" for ident in reports]
        sanitation = reports[9:17]

        # 2. The gridworker works four cases through while others report.
        def work_through(ident: str) -> list[str]:
            done = []
            for step in ("accept", "handle", "resolve"):
                reply = worker.post(f"/api/v1/incidents/{ident}/{step}")
                assert reply.status_code == 201, reply.text
                done.append(str(reply.json()["event"]))
                # whichever worker reads next sees the step
                entries = worker.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]
                assert done[-1] in {entry["event"] for entry in entries}
            return done

        steps = clients.all([*(lambda i=i: work_through(i) for i in sanitation[:4]),
                             *(lambda p=p: open311("dispute", f"yq-g1-b{p}") for p in (8, 9))])
        answered += [e for done in steps[:4] for e in done] + [f"{i}:report" for i in steps[4:]]

        # 3. Time passes while the other four are accepted: the same ticks reach both workers
        # at once, racing the acceptances; each escalation falls due exactly once.
        def tick(when: datetime) -> list[str]:
            reply = worker.post("/api/v1/tick", json={"now": when.isoformat()})
            assert reply.status_code == 200, reply.text
            return [d["event"] for d in reply.json()["derived"]]

        def accept(ident: str) -> str:
            reply = worker.post(f"/api/v1/incidents/{ident}/accept")
            assert reply.status_code == 201, reply.text
            return str(reply.json()["event"])

        raced = clients.all([*(lambda: tick(FIRST_TICK) for _ in range(6)),
                             *(lambda i=i: accept(i) for i in sanitation[4:6])])
        answered += raced[6:]
        fired = [e for derived in clients.all([lambda: tick(SECOND_TICK) for _ in range(4)]) for e in derived]
        fired += [e for derived in raced[:6] for e in derived]
        assert len(fired) == len(set(fired)), "a tick answered an escalation another tick had derived"

        # 4. A token revoked from the command line stops at once, in every worker.
        revoked = CliRunner().invoke(main_group, ["tokens", "revoke", tokens["worker"], "--store", store_url])
        assert revoked.exit_code == 0, revoked.output
        assert {worker.get("/api/v1/me").status_code for _ in range(6)} == {401}
        for client in (anonymous, worker):
            client.close()
        clients.pool.shutdown()

    # Both processes served reports and actions.
    served_by = Counter(re.findall(r"POST /\S+ 201 \S+ \S+ pid=(\d+)", server.log))
    assert len(served_by) == 2, served_by

    with Engine.open(store=store_url, read_only=True, clock=FixedClock(SECOND_TICK)) as engine:
        stored = list(engine.events())
        counts = Counter(e.id for e in stored)
        assert all(n == 1 for n in counts.values())
        primary = [e for e in stored if e.actor != "system"]
        # each answered event is stored, and nothing is stored that nobody was answered
        assert sorted(e.id for e in primary) == sorted(answered)
        derived = {e.id: engine.codec.to_dict(e) for e in stored if e.actor == "system"}
        escalated = Counter((e.incident, e.to_node) for e in stored if type(e).kind == "incident_escalated")
        assert escalated and all(n == 1 for n in escalated.values()), escalated
        assert set(fired) <= set(derived)
        docs = [engine.codec.to_dict(e) for e in primary]

    # One engine given the same events derives exactly the same, once each.
    with Engine.open(store=f"sqlite:///{tmp_path / 'reference.db'}",
                     community=mapped_yinquan(), ruleset=YINQUAN / "yinquan.rules",
                     effective=datetime(2025, 1, 1, tzinfo=CST), clock=FixedClock(START - timedelta(days=1))) as one:
        summary = one.record_many(docs)
        assert summary.accepted == len(docs) and not summary.refused
        one.tick(SECOND_TICK)
        expected = {e.id: one.codec.to_dict(e) for e in one.events() if e.actor == "system"}
    assert derived == expected
    assert any(d["kind"] == "incident_escalated" and d["to_node"] == "yq" for d in derived.values())
    assert INTAKE in {d["actor"] for d in docs}


def test_a_tinydb_store_is_served_by_one_worker_process(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    make_store(store)
    refused = CliRunner().invoke(main_group, ["serve", "--store", store, "--workers", "2", "--port", "0"])
    assert refused.exit_code == 1
    assert "--workers 2: the TinyDB store" in refused.output and "has one writer at a time" in refused.output
    assert "use --workers 1, or move the store to SQLite or PostgreSQL".lower() in refused.output.lower()
    assert "TinyDB 存储只允许一个写入进程" in refused.output


def _waiting_for_a_lock(pid: int) -> bool:
    """True if process ``pid`` waits for a file lock (``/proc/locks`` lists waiters after ``->``)."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and str(pid) in fields[fields.index("->") + 1:]:
            return True
    return False


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks to see a process wait")
@pytest.mark.parametrize("command", ["ingest", "tick"])
def test_a_command_writing_beside_the_service_takes_its_write_lock(store_url: str, tmp_path: Path,
                                                                    command: str) -> None:
    # Beside a busy service a `gridcore ingest` of field records stamped before the service's latest
    # action lost every race to append (a district's ingest rewinds for seconds; the service appended
    # every fraction of one) and rebuilt its state each time, for as long as the service was busy. Now it
    # takes the write lock the service's actions take: while a worker holds it, the command waits.
    import subprocess
    import sys

    from gridcore_app.writelock import WriteLock

    tokens = make_store(store_url)
    paper = tmp_path / "paper.jsonl"
    paper.write_text(json.dumps({
        "id": "paper-1", "kind": "patrol_logged", "time": (START - timedelta(hours=1)).isoformat(), "actor": "yq-fw1",
        "node": "yq-g1", "minutes": 30, "visits": 2, "hazards_found": 0, "note": "纸质记录",
    }) + "\n", encoding="utf-8")
    args = (["ingest", str(paper), "--quiet"] if command == "ingest"
            else ["tick", "--now", (START + timedelta(days=2)).isoformat()])
    with served(store_url, "--rate", "0") as server, server.client(tokens["worker"]) as client:
        reported = client.post("/api/v1/incidents", json={"category": "leaking_pipe", "place": "yq-g1-b1"})
        assert reported.status_code == 201, reported.text
        steps = client.get(f"/api/v1/incidents/{reported.json()['incident']}/timeline").json()["entries"]
        lock = WriteLock.for_store(store_url)
        assert lock is not None
        with lock:  # as a worker does while it judges and stores an action
            process = subprocess.Popen([sys.executable, "-c", "from gridcore_app.cli import main; main()", *args,
                                        "--store", store_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            while not _waiting_for_a_lock(process.pid):
                assert process.poll() is None, f"{command} wrote without the write lock: {process.communicate()[0]}"
            # an action waits for the lock too, but not on the engine's thread: reads take no lock, and the
            # service answers them meanwhile (it answered none while an action waited)
            pool = ThreadPoolExecutor(max_workers=1)
            action = pool.submit(client.post, "/api/v1/events", json={
                "kind": "patrol_logged", "node": "yq-g1", "minutes": 20, "visits": 1, "hazards_found": 0, "note": ""})
            for _ in range(10):  # (the action reaches the engine within the first of these)
                time.sleep(0.1)
                assert client.get(f"/api/v1/incidents/{reported.json()['incident']}").status_code == 200
                assert not action.done(), action.result().text
            with Engine.open(store=store_url, read_only=True) as engine:
                before = engine.position
                assert not engine.store.contains("paper-1")
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output
        assert action.result().status_code == 201, action.result().text
        pool.shutdown()
        with Engine.open(store=store_url, read_only=True) as engine:
            assert engine.position > before
            assert engine.store.contains("paper-1") == (command == "ingest")
        # and the service sees what the command stored (tick: the case escalated, as it was not accepted)
        seen = client.get(f"/api/v1/incidents/{reported.json()['incident']}/timeline").json()["entries"]
        assert command == "ingest" or len(seen) > len(steps), seen
    lock.close()
    assert "Traceback" not in server.log


def _holding(lock: Any, pid: int) -> bool:
    """True once process ``pid`` declared it holds ``lock`` (``WriteLock.declare``, as gridcore ingest does)."""
    holder = lock.holder()
    return holder is not None and holder.pid == pid


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks to see a process wait")
def test_an_action_a_long_ingest_holds_up_is_answered_503_and_stored_once_when_sent_again(
        store_url: str, tmp_path: Path) -> None:
    # A clerk's gridcore ingest of a district's paper records can hold the write lock for minutes. A phone's
    # action waits for it at most --lock-wait seconds, then hears why (503, Retry-After, in Chinese too) with
    # nothing stored; sent again with the same event_id once the ingest is done, it is stored once.
    import os
    import signal
    import subprocess
    import sys

    from gridcore_app.writelock import WriteLock

    tokens = make_store(store_url)
    paper = tmp_path / "paper.jsonl"
    paper.write_text("".join(json.dumps({
        "id": f"paper-{n}", "kind": "patrol_logged", "time": (START - timedelta(days=1, seconds=-n)).isoformat(),
        "actor": "yq-fw1", "node": "yq-g1", "minutes": 30, "visits": 2, "hazards_found": 0, "note": "纸质记录",
    }) + "\n" for n in range(2000)), encoding="utf-8")
    lock = WriteLock.for_store(store_url)
    assert lock is not None
    with served(store_url, "--rate", "0", "--lock-wait", "2") as server, \
            server.client(tokens["worker"]) as client, server.client() as anonymous:
        assert client.get("/api/v1/me").status_code == 200
        with lock:  # the ingest starts waiting for the lock, so that the test sees it take it
            ingest = subprocess.Popen([sys.executable, "-c", "from gridcore_app.cli import main; main()", "ingest",
                                       str(paper), "--quiet", "--store", store_url],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            while not _waiting_for_a_lock(ingest.pid):
                assert ingest.poll() is None, ingest.communicate()[0]
        while not _holding(lock, ingest.pid):  # it took the lock and judges (2,000 records, rewinding)
            assert ingest.poll() is None, f"the ingest ended before the test saw it hold the lock: {ingest.stdout}"
        os.kill(ingest.pid, signal.SIGSTOP)  # ... for as long as the test likes
        try:
            patrol = {"id": "phone-1", "kind": "patrol_logged", "node": "yq-g1", "minutes": 20, "visits": 1,
                      "hazards_found": 0, "note": "手机上报"}
            busy = client.post("/api/v1/events", json=patrol)
            assert busy.status_code == 503, busy.text
            assert busy.headers["retry-after"] == "10" and busy.headers["content-type"] == "application/problem+json"
            problem = busy.json()
            assert problem["type"] == "/problems/store-busy" and problem["retry_after"] == 10
            assert problem["title_zh"] == "数据正在写入，请稍后再试"
            assert f"gridcore ingest（进程 {ingest.pid}）正在写入数据" in problem["detail_zh"]
            assert "未保存" in problem["detail_zh"] and "相同的 event_id" in problem["detail_zh"]
            assert f"gridcore ingest (process {ingest.pid})" in problem["detail"]
            # as docs/service.md shows it (the numbers aside)
            shown = _doc_example("**When an ingest holds the lock**")
            assert shown.keys() == problem.keys() - {"instance"}
            for key, value in shown.items():
                assert re.sub(r"\d+", "N", str(value)) == re.sub(r"\d+", "N", str(problem[key])), key
            # Open311 reports likewise (the specification's error list), reads are answered meanwhile
            report = anonymous.post("/open311/v2/requests.json", data={"service_code": "leaking_pipe",
                                                                       "address_id": "yq-g1-b1"})
            assert report.status_code == 503 and report.headers["retry-after"] == "10", report.text
            assert report.json()[0]["code"] == 503 and "未保存" in report.json()[0]["description"]
            assert client.get("/api/v1/points/board").status_code == 200
            assert anonymous.get("/problems/store-busy").json()["description_zh"].startswith("另一个进程")
        finally:
            os.kill(ingest.pid, signal.SIGCONT)
        output = ingest.communicate(timeout=300)[0]
        assert ingest.returncode == 0 and "2000 stored" in output, output
        with Engine.open(store=store_url, read_only=True) as engine:
            assert not engine.store.contains("phone-1")  # nothing of either action was stored
            assert not [e for e in engine.events() if type(e).kind == "incident_reported"]
            assert sum(e.id.startswith("paper-") for e in engine.events()) == 2000
        # the phone sends it again, as Retry-After says: stored once, and once only
        again = client.post("/api/v1/events", json=patrol)
        assert again.status_code == 201 and again.json()["stored"], again.text
        assert client.post("/api/v1/events", json=patrol).json()["stored"] is False
    lock.close()
    with Engine.open(store=store_url, read_only=True) as engine:
        assert [e.id for e in engine.events()].count("phone-1") == 1
    assert "Traceback" not in server.log


def _doc_example(section: str) -> dict[str, Any]:
    """The JSON example of docs/service.md's bullet whose text starts with ``section``."""
    import textwrap

    text = (YINQUAN.parent.parent / "docs" / "service.md").read_text(encoding="utf-8")
    after = text[text.index(section):]
    block = after[after.index("```json\n") + len("```json\n"):]
    found = json.loads(textwrap.dedent(block[:block.index("```")]))
    assert isinstance(found, dict)
    return found
