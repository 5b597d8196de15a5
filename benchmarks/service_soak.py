"""A long run of `gridcore serve`: what staff and phones do all day, sampled over time.

``python benchmarks/service_load.py --soak MINUTES [--store URL] [--workers N]``
runs this (see that file).  All on this machine:

1. the store: ``--store`` (an existing one, e.g. 30 days of a district) or a
   fresh Yinquan store; a token is issued (in the store) for each member the
   mix acts as: a grid's full-time gridworker (accepts, handles, resolves,
   patrols, home visits), its part-time gridworker (reports, patrols) and the
   grid leader answering for it (verifies, closes), for up to 48 grids, and a
   reader at the top node;
2. ``gridcore serve`` as docs/service.md runs it (uvicorn, ``--workers N``,
   the system clock), then for MINUTES:
   * ``--staff`` clients, each on its own grids: report an incident, take one
     of their open incidents a step on (accept, handle, resolve, verify,
     close), log a patrol, record home visits (入户走访);
   * ``--readers`` clients: the points board of a street, a community or the
     district, open incidents in a community, overdue incidents, one incident
     and its timeline, named reports of a street (incidents by category,
     points totals, open incidents), a member's balance, the dashboard, and
     a street's roll-up (汇总) of the month before (a closed period: the
     ``Cache-Status`` of each answer, kept or computed, is counted);
   * every ``--ingest-every`` seconds ``gridcore ingest`` (a separate process)
     appends 30 patrols stamped in the half minute before, as a clerk
     entering field records does;
3. every ``--interval`` seconds: each worker process's resident memory
   (``VmRSS``), open file descriptors (sockets among them: connections),
   threads and CPU; the interval's requests, errors and latency percentiles
   per class (actions, light reads, heavy reads, roll-ups) and the worker CPU
   a request;
4. at the end: every event an answer named is stored exactly once (and every
   ingested one); a refusal of a step the mix expects to pass is reported
   with its reasons; then what the running service answers (boards, lists,
   incidents, balances, reports) is compared with what the same routes answer
   from a fresh engine that replayed the whole store (``Engine.rebuild``, no
   checkpoint), in this process.

The first interval is the baseline; growth is the last interval against it.

``--heap`` also looks inside each worker at every sample: the workers start
with a signal handler (a ``sitecustomize`` on their ``PYTHONPATH``), and on
``SIGUSR1`` each writes, to ``heap-PID-N.txt`` in the run's folder, the
memory blocks Python's allocator holds and the objects the collector tracks
by type (as objgraph counts them; frozen ones too); with
``PYTHONTRACEMALLOC=1`` in the environment (it slows the workers several
times), also the source lines whose traced memory grew most since the
worker's first sample; with ``HEAP_COLLECT=1``, also what a full collection
then finds unreachable and the resident memory before and after it (it
frees that garbage, so it changes the run it measures).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"
#: the most grids the staff mix acts in (a token for three members each)
GRIDS = 48
STEPS = ("accept", "handle", "resolve", "verify", "close")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Team:
    """Who acts in one grid."""

    grid: str
    worker: str  # full-time gridworker: accepts, handles, resolves
    reporter: str  # part-time gridworker (else the worker): reports, patrols
    leader: str  # the grid leader answering for it: verifies, closes


@attrs.define
class Setup:
    url: str
    teams: list[Team]
    tokens: dict[str, str]  # member -> token
    reader: str  # staff at the top node
    streets: list[str]
    communities: list[str]
    top: str
    tz: Any
    events: int = 0  # the store's log position when the run began


def prepare(url: str | None, folder: Path) -> Setup:
    """The store (a fresh Yinquan one unless ``url``), the teams and their tokens."""
    from gridcore import Engine
    from gridcore_app.service import auth

    if url is None:
        url = f"sqlite:///{folder / 'soak.db'}"
        engine = Engine.open(store=url, community=YINQUAN, ruleset=YINQUAN / "yinquan.rules",
                             effective=datetime(2025, 1, 1, tzinfo=UTC))
    else:
        engine = Engine.open(store=url, create=False)
    try:
        c = engine.community
        h = c.hierarchy
        teams = []
        for node in h:
            workers = c.holders(node.id, "fulltime_gridworker")
            leaders = c.responsible_for(node.id, "grid_leader")
            if not workers or not leaders:
                continue
            parttime = c.holders(node.id, "parttime_gridworker")
            teams.append(Team(node.id, workers[0].id, (parttime or workers)[0].id, leaders[0].id))
        rng = random.Random(11)
        teams = sorted(rng.sample(teams, min(GRIDS, len(teams))), key=lambda t: t.grid)
        top = h.roots()[0].id
        readers = c.holders(top, "master_grid_leader") or c.responsible_for(top, "master_grid_leader")
        reader = readers[0].id
        members = sorted({m for t in teams for m in (t.worker, t.reporter, t.leader)} | {reader})
        tokens = {m: auth.issue(engine, m, "soak")[1] for m in members}
        levels = h.levels
        streets = [n.id for n in h.nodes_at(levels[1])] if len(levels) > 3 else [top]
        communities = [n.id for n in h.nodes_at(levels[-2])] if len(levels) > 2 else [top]
        return Setup(url, teams, tokens, reader, streets, communities, top, c.tz, engine.position)
    finally:
        engine.close()


# ---------------------------------------------------------------- the server and its workers


#: ``--heap``: the workers' ``sitecustomize``: on SIGUSR1, what the heap holds, to heap-PID-N.txt (HEAP_DIR)
HEAP_HOOK = '''
import collections, gc, os, signal, sys, tracemalloc

_first = []
_count = [0]


def _dump(signum, frame):
    _count[0] += 1
    lines = [f"pid {os.getpid()} sample {_count[0]}"]
    frozen = gc.get_freeze_count()
    if frozen:  # the service keeps its state out of collections (gc.freeze): gc.get_objects() leaves it out too
        gc.unfreeze()
    types = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    if frozen:
        gc.freeze()
    lines.append(f"gc-tracked objects {sum(types.values())}, allocated blocks {sys.getallocatedblocks()}")
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        current, peak = tracemalloc.get_traced_memory()
        lines.append(f"traced {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB")
        if not _first:
            _first.append(snap)
        lines.append("-- grown since the first sample (KiB, blocks) by line")
        for stat in snap.compare_to(_first[0], "lineno")[:40]:
            lines.append(f"{stat.size_diff / 1024:+10.0f} {stat.count_diff:+9d}  {stat.traceback}")
    lines.append(f"collections per generation {[g['collections'] for g in gc.get_stats()]}, counts {gc.get_count()}")
    if os.environ.get("HEAP_COLLECT"):  # how much of the heap is garbage a full collection frees (it frees it)
        def rss():
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))
        before = rss()
        if frozen:
            gc.unfreeze()
        found = gc.collect()
        if frozen:
            gc.freeze()
        lines.append(f"a full collection found {found} unreachable objects; RSS {before} -> {rss()} MiB")
    lines.append("-- objects by type")
    lines += [f"{n:9d}  {name}" for name, n in types.most_common(40)]
    path = os.path.join(os.environ["HEAP_DIR"], f"heap-{os.getpid()}-{_count[0]}.txt")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\\n".join(lines) + "\\n")


if os.environ.get("HEAP_DIR"):
    signal.signal(signal.SIGUSR1, _dump)
'''


def start(url: str, port: int, log: Path, workers: int, intake: str, heap: Path | None = None
          ) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", "from gridcore_app.cli import main; main()", "serve", "--store", url,
            "--port", str(port), "--rate", "0", "--log-level", "warning", "--intake", intake,
            "--workers", str(workers)]
    env = dict(os.environ)
    if heap is not None:  # --heap: every process of the service dumps its heap on SIGUSR1
        heap.mkdir(exist_ok=True)
        (heap / "sitecustomize.py").write_text(HEAP_HOOK, encoding="utf-8")
        env.update(HEAP_DIR=str(heap),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(heap), env.get("PYTHONPATH")])))
    with log.open("w") as out:  # a file, never a pipe nobody reads
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 120 * (workers + 1)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gridcore serve exited: {log.read_text()[-2000:]}")
        if len(worker_pids(process.pid, workers)) == workers:
            try:
                # every worker up: each answers a request once its engine is open
                if all(httpx.get(f"http://127.0.0.1:{port}/open311/v2/discovery.json", timeout=5).status_code == 200
                       for _ in range(4 * workers)):
                    return process
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("gridcore serve did not start in time")


def worker_pids(server: int, workers: int) -> list[int]:
    """The processes holding an engine: the server itself, or uvicorn's worker processes under it."""
    if workers == 1:
        return [server]
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == server and "spawn_main" in Path(f"/proc/{entry}/cmdline").read_text():
                found.append(int(entry))
    return sorted(found)


def sample(pid: int) -> dict[str, float] | None:
    """Resident memory (MiB), its peak, open files, sockets, threads and CPU seconds of process ``pid``."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = os.listdir(f"/proc/{pid}/fd")
        sockets = 0
        for fd in fds:
            try:
                sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    value = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in status.splitlines())
             if k in ("VmRSS", "VmHWM", "Threads")}
    return {"rss": value["VmRSS"] / 1024, "hwm": value["VmHWM"] / 1024, "threads": value["Threads"],
            "fds": len(fds), "sockets": sockets, "cpu": (int(fields[11]) + int(fields[12])) / CLK_TCK}


# ---------------------------------------------------------------- clients


class Record:
    """What the clients saw: (when, class, seconds, status) per request, refusals, ids answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[float, str, float, int]] = []
        self.refused: list[tuple[str, str, list[str]]] = []  # (what, status, reasons)
        self.failures: Counter[str] = Counter()
        self.events: list[str] = []  # event ids the service answered as stored
        self.incidents: list[str] = []  # incidents reported (for readers)
        self.ingested: list[str] = []
        self.ingest_runs: list[tuple[float, int, float, str]] = []  # (when, exit status, seconds, tail)
        self.rollups: list[tuple[float, bool]] = []  # (when, kept: answered from the roll-up cache)
        #: ``--staff 0`` (nothing written): each read's first answer, and the reads answered otherwise later
        self.first: dict[str, Any] = {}
        self.changed: Counter[str] = Counter()

    def note(self, what: str, began: float, status: int) -> None:
        with self.lock:
            self.requests.append((time.monotonic(), what, time.monotonic() - began, status))


def staff_client(base: str, setup: Setup, teams: list[Team], stop: threading.Event, rec: Record,
                 seed: int, categories: dict[str, list[str]]) -> None:
    rng = random.Random(seed)
    # one connection a client, as a phone keeps one (the token changes with the member acting)
    client = httpx.Client(base_url=base, timeout=120)
    open_cases: list[tuple[Team, str, int]] = []  # (team, incident, next step)
    visited: set[tuple[str, Any]] = set()

    def send(member: str, path: str, body: dict[str, Any], what: str) -> dict[str, Any] | None:
        # as a phone: an idempotency key on every action, and the same action sent again after Retry-After
        # when the service answers that an ingest holds the write lock (503 store-busy)
        body = {**body, "id" if path == "/api/v1/events" else "event_id": f"soak-{rng.getrandbits(64):016x}"}
        while True:
            began = time.monotonic()
            try:
                answer = client.post(path, json=body, headers={"Authorization": f"Bearer {setup.tokens[member]}"})
            except httpx.HTTPError as exc:
                with rec.lock:
                    rec.failures[f"{what}: {type(exc).__name__}"] += 1
                return None
            if answer.status_code != 503 or "store-busy" not in answer.text or stop.is_set():
                break
            rec.note("busy", began, answer.status_code)
            stop.wait(float(answer.headers.get("retry-after", "10")))
        rec.note("action", began, answer.status_code)
        if answer.status_code not in (200, 201):
            doc = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
            reasons = doc.get("reasons") or [str(doc.get("detail", answer.text[:300]))]
            with rec.lock:
                rec.refused.append((f"{what} {path}", str(answer.status_code), reasons))
                if len(rec.refused) <= 20:  # as they happen, for a long run's log
                    print(f"refused: {what} {path} {answer.status_code} {reasons[0][:200]}", file=sys.stderr)
            return None
        doc = answer.json()
        with rec.lock:
            if "event" in doc and doc.get("stored"):
                rec.events.append(doc["event"])
        return doc

    try:
        while not stop.is_set():
            team = rng.choice(teams)
            roll = rng.random()
            if roll < 0.15:
                doc = send(team.reporter, "/api/v1/incidents", {
                    "category": rng.choice(categories[team.grid]), "node": team.grid, "severity": 2,
                    "description": "soak"}, "report")
                # taken on by the grid's own staff: not a repeat report (it joined the open case) nor one the
                # ruleset sends straight to the community (its staff accept it)
                if doc is not None and not doc.get("joined") and doc["status"]["current_node"] == team.grid:
                    open_cases.append((team, doc["incident"], 0))
                    with rec.lock:
                        rec.incidents.append(doc["incident"])
            elif roll < 0.55 and open_cases:
                team, incident, step = open_cases.pop(rng.randrange(len(open_cases)))
                name = STEPS[step]
                actor = team.worker if name in ("accept", "handle", "resolve") else team.leader
                body: dict[str, Any] = {"satisfaction": 4} if name == "verify" else {}
                doc = send(actor, f"/api/v1/incidents/{incident}/{name}", body, name)
                if doc is not None and step + 1 < len(STEPS):
                    open_cases.append((team, incident, step + 1))
            elif roll < 0.8:
                send(rng.choice((team.worker, team.reporter)), "/api/v1/events", {
                    "kind": "patrol_logged", "node": team.grid, "minutes": rng.randint(20, 60),
                    "visits": rng.randint(0, 5), "hazards_found": 0, "note": ""}, "patrol")
            elif (team.worker, datetime.now(setup.tz).date()) not in visited:  # 入户走访 is claimed once a day
                visited.add((team.worker, datetime.now(setup.tz).date()))
                send(team.worker, "/api/v1/events", {
                    "kind": "activity_recorded", "node": team.grid, "activity": "入户走访", "member": team.worker,
                    "hours": 0, "quantity": rng.randint(1, 4), "note": ""}, "visits")
    finally:
        client.close()


def month_before(month: str) -> str:
    """``2026-12`` -> ``2026-11``."""
    year, number = map(int, month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def reads(setup: Setup, month: str, incident: str | None) -> list[tuple[str, str]]:
    """(class, path) of the reads the readers choose from, and the final comparison makes."""
    rng = random.Random(len(setup.teams))
    street, community, team = setup.streets[0], setup.communities[0], setup.teams[0]
    chosen: list[tuple[str, str]] = [
        ("light", f"/api/v1/incidents?status=open&within={community}"),
        ("light", f"/api/v1/points/board?node={team.grid}&month={month}"),
        ("light", f"/api/v1/points/members/{team.worker}/balance"),
        ("heavy", f"/api/v1/points/board?node={community}&month={month}"),
        ("heavy", f"/api/v1/points/board?node={street}&month={month}"),
        ("heavy", f"/api/v1/points/board?node={setup.top}&month={month}"),
        ("heavy", "/api/v1/incidents/overdue"),
        ("heavy", f"/api/v1/reports/escalation.stats?period={month}&within={street}"),
        ("heavy", f"/api/v1/reports/escalation.open?within={street}"),
        ("heavy", f"/api/v1/reports/points.totals?node={street}&period={month}"),
        ("heavy", f"/api/v1/reports/escalation.loop?period={month}&within={community}"),
        ("rollup", f"/api/v1/rollups/{street}?period={month_before(month)}"),
    ]
    if incident is not None:
        chosen += [("light", f"/api/v1/incidents/{incident}"), ("light", f"/api/v1/incidents/{incident}/timeline")]
    rng.shuffle(chosen)
    return chosen


def reader_client(base: str, setup: Setup, month: str, stop: threading.Event, rec: Record, seed: int,
                  same: bool = False) -> None:
    """Reads chosen at random until ``stop``; ``same`` (nothing is written): every answer must be the first
    answer to the same read (but for what depends on the moment it is asked, ``_without_now``)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=120,
                      headers={"Authorization": f"Bearer {setup.tokens[setup.reader]}"}) as client:
        while not stop.is_set():
            with rec.lock:
                incident = rng.choice(rec.incidents) if rec.incidents else None
            what, path = rng.choice(reads(setup, month, incident) + [("light", "/dashboard/cases")])
            began = time.monotonic()
            try:
                answer = client.get(path)
            except httpx.HTTPError as exc:
                with rec.lock:
                    rec.failures[f"GET {path.split('?')[0]}: {type(exc).__name__}"] += 1
                continue
            rec.note(what, began, answer.status_code)
            if what == "rollup" and answer.status_code == 200:
                with rec.lock:
                    rec.rollups.append((time.monotonic(), "hit" in answer.headers.get("cache-status", "")))
            if same and answer.status_code == 200 and not path.startswith("/dashboard/"):
                seen = _without_now(answer.json())
                with rec.lock:
                    if rec.first.setdefault(path, seen) != seen:
                        rec.changed[path.split("?")[0]] += 1
            if answer.status_code != 200 and not path.startswith("/dashboard/"):
                with rec.lock:
                    rec.refused.append((f"GET {path}", str(answer.status_code), [answer.text[:300]]))


def ingester(url: str, setup: Setup, every: float, stop: threading.Event, rec: Record, folder: Path) -> None:
    """Every ``every`` seconds, ``gridcore ingest`` of 30 patrols stamped in the half minute before."""
    from gridcore import Engine

    rng = random.Random(5)
    with Engine.open(store=url, read_only=True) as engine:
        tz = engine.community.tz
    n = 0
    while not stop.wait(every):
        now = datetime.now(tz)
        lines = []
        for i in range(30):
            team = rng.choice(setup.teams)
            n += 1
            when = (now - timedelta(seconds=30 - i)).isoformat()
            doc: dict[str, Any] = {"id": f"soak-ingest-{n}", "time": when, "actor": team.worker, "node": team.grid}
            doc |= {"kind": "patrol_logged", "minutes": 30, "visits": 2, "hazards_found": 0, "note": "纸质记录"}
            lines.append(json.dumps(doc, ensure_ascii=False))
        path = folder / f"ingest-{n}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        began = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "from gridcore_app.cli import main; main()", "ingest",
                               str(path), "--store", url, "--quiet"], capture_output=True, text=True, check=False)
        with rec.lock:
            rec.ingest_runs.append((began, done.returncode, time.monotonic() - began,
                                    (done.stdout + done.stderr)[-400:]))
            if done.returncode == 0:
                rec.ingested.extend(json.loads(line)["id"] for line in lines)


# ---------------------------------------------------------------- the run


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max, in milliseconds."""
    if not values:
        return 0.0, 0.0, 0.0
    if len(values) < 2:
        return values[0] * 1000, values[0] * 1000, values[0] * 1000
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000, max(values) * 1000


def soak(*, store: str | None, minutes: float, interval: float, workers: int, staff: int, readers: int,
         ingest_every: float, heap: bool = False) -> tuple[str, bool]:
    """The Markdown section of a long run and whether nothing went wrong."""
    folder = Path(tempfile.mkdtemp(prefix="gridcore-soak-"))
    setup = prepare(store, folder)
    from service_load import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    intake = setup.teams[0].leader
    log = folder / "serve.log"
    server = start(setup.url, port, log, workers, intake, folder / "heap" if heap else None)
    pids = worker_pids(server.pid, workers)
    if heap:
        print(f"heap samples: {folder / 'heap'}", flush=True)
    rec = Record()
    stop = threading.Event()
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": f"Bearer {setup.tokens[setup.reader]}"}) as client:
            month = client.get("/api/v1/points/board").json()["month"]
            categories = {t.grid: [s["service_code"] for s in
                                   client.get(f"/open311/v2/services.json?node={t.grid}").json()][:6]
                          for t in setup.teams}
            if not staff:  # nothing is reported: the readers read incidents the store holds
                for community in setup.communities[:4]:
                    listed = client.get(f"/api/v1/incidents?status=all&within={community}").json()
                    rec.incidents += [view.get("incident") or view.get("id") for view in listed[:5]]
        threads = [threading.Thread(target=staff_client, args=(
            base, setup, setup.teams[i::staff] or setup.teams, stop, rec, 100 + i, categories)) for i in range(staff)]
        threads += [threading.Thread(target=reader_client, args=(base, setup, month, stop, rec, 200 + i,
                                                                 not staff and ingest_every <= 0))
                    for i in range(readers)]
        if ingest_every > 0:
            threads.append(threading.Thread(target=ingester, args=(
                setup.url, setup, ingest_every, stop, rec, folder)))
        began = time.monotonic()
        last = {pid: sample(pid) for pid in pids}
        for pid in pids if heap else ():
            os.kill(pid, signal.SIGUSR1)
        for thread in threads:
            thread.start()
        mark = began
        while time.monotonic() - began < minutes * 60:
            stop.wait(min(interval, minutes * 60 - (time.monotonic() - began)))
            now = time.monotonic()
            with rec.lock:
                window = [r for r in rec.requests if mark < r[0] <= now]
            start_mark, mark = mark, now
            now_pids = worker_pids(server.pid, workers)
            restarted = [p for p in now_pids if p not in pids]  # uvicorn replaced a worker that died or hung
            for pid in restarted:
                last[pid] = None
            pids = sorted(set(pids) | set(now_pids))
            current = {pid: sample(pid) for pid in pids}
            row: dict[str, Any] = {"minute": (now - began) / 60, "requests": len(window),
                                   "errors": sum(1 for r in window if r[3] >= 500 and r[1] != "busy"),
                                   "busy": sum(1 for r in window if r[1] == "busy"),
                                   "refused": sum(1 for r in window if 400 <= r[3] < 500)}
            for what in ("action", "light", "heavy", "rollup"):
                row[what] = percentiles([r[2] for r in window if r[1] == what])
            with rec.lock:
                kept = [hit for when, hit in rec.rollups if start_mark < when <= now]
            row["rollups kept"] = (sum(kept), len(kept))
            alive = [p for p in pids if current[p] is not None]
            row["rss"] = [current[p]["rss"] for p in alive]  # type: ignore[index]
            row["hwm"] = [current[p]["hwm"] for p in alive]  # type: ignore[index]
            row["fds"] = [current[p]["fds"] for p in alive]  # type: ignore[index]
            row["sockets"] = [current[p]["sockets"] for p in alive]  # type: ignore[index]
            row["threads"] = [current[p]["threads"] for p in alive]  # type: ignore[index]
            cpu = sum(current[p]["cpu"] - last[p]["cpu"] for p in alive if last.get(p))  # type: ignore[index]
            row["cpu_ms"] = 1000 * cpu / max(len(window), 1)
            row["restarts"] = len(restarted)
            pids = alive
            last = current
            rows.append(row)
            print(format_row(row), flush=True)
            for pid in alive if heap else ():
                os.kill(pid, signal.SIGUSR1)
        stop.set()
        for thread in threads:
            thread.join()
        compared = compare(base, setup, month, rec)
    finally:
        stop.set()
        stop_server(server)
    stored = check_stored(setup.url, rec)
    text, ok = report(setup, workers, minutes, rows, rec, stored, compared, log)
    if heap:
        text += heap_table(folder / "heap")
    return text, ok


def heap_table(folder: Path) -> str:
    """``--heap``: each worker's objects tracked by the collector and blocks allocated (and memory traced, with
    ``PYTHONTRACEMALLOC``) at every sample, from the files the workers wrote."""
    samples: dict[int, dict[int, str]] = {}
    for path in folder.glob("heap-*-*.txt"):
        _, pid, n = path.stem.split("-")
        text = path.read_text(encoding="utf-8")
        found = re.search(r"gc-tracked objects (\d+), allocated blocks (\d+)", text)
        traced = re.search(r"traced ([\d.]+) MiB", text)
        if found:
            samples.setdefault(int(n), {})[int(pid)] = (
                f"{int(found[1]):,} / {int(found[2]):,}" + (f" / {traced[1]}" if traced else ""))
    pids = sorted({pid for row in samples.values() for pid in row})
    lines = ["", ("Each worker's heap at every sample: objects the collector tracks / blocks allocated"
                  " (/ MiB traced by tracemalloc, when on):"), "",
             "| sample | " + " | ".join(f"worker {pid}" for pid in pids) + " |",
             "|---|" + "---|" * len(pids)]
    lines += [f"| {n} | " + " | ".join(samples[n].get(pid, "") for pid in pids) + " |" for n in sorted(samples)]
    return "\n".join(lines) + "\n"


def stop_server(server: subprocess.Popen[Any]) -> None:
    """End ``gridcore serve`` as a process manager would: SIGTERM, two minutes to finish, then SIGKILL."""
    server.terminate()
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()


def format_row(row: dict[str, Any]) -> str:
    def ms(t: tuple[float, float, float]) -> str:
        return f"{t[0]:.0f} / {t[1]:.0f}"

    return (f"| {row['minute']:.1f} | {row['requests']:,} | {row['errors']} | {row['refused']} | {ms(row['action'])} "
            f"| {ms(row['light'])} | {ms(row['heavy'])} | {ms(row['rollup'])} "
            f"| {row['rollups kept'][0]} of {row['rollups kept'][1]} | {row['cpu_ms']:.1f} "
            f"| {' / '.join(f'{v:.0f}' for v in row['rss'])} | {' / '.join(str(v) for v in row['fds'])} "
            f"| {' / '.join(str(v) for v in row['threads'])} | {row['restarts']} |")


def compare(base: str, setup: Setup, month: str, rec: Record) -> list[str]:
    """Differences between the running service's answers and a fresh engine's full replay's (empty: none)."""
    from starlette.testclient import TestClient

    from gridcore import Engine
    from gridcore_app.service.app import create_app
    from gridcore_app.service.context import Settings
    from gridcore_app.service.live import LiveEngine

    incidents = sorted(set(rec.incidents))[-20:]
    paths = [p for _, p in reads(setup, month, None)]
    paths += [f"/api/v1/incidents/{i}" for i in incidents]
    paths += [f"/api/v1/incidents?status=all&within={c}" for c in setup.communities[:3]]
    paths += [f"/api/v1/points/members/{t.worker}/balance" for t in setup.teams[:10]]
    headers = {"Authorization": f"Bearer {setup.tokens[setup.reader]}"}
    with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
        live = {p: client.get(p).json() for p in paths}
    executor = ThreadPoolExecutor(max_workers=1)
    engine = executor.submit(lambda: Engine.open(store=setup.url, read_only=True)).result()
    executor.submit(engine.rebuild).result()
    fresh_live = LiveEngine(executor, engine)
    app = create_app(Settings(store=setup.url, rate=0), live=fresh_live)
    differences = []
    try:
        with TestClient(app, headers=headers) as client:
            for path in paths:
                fresh = client.get(path).json()
                if _without_now(fresh) != _without_now(live[path]):
                    differences.append(f"{path}: service {json.dumps(live[path])[:300]} "
                                       f"replay {json.dumps(fresh)[:300]}")
    finally:
        fresh_live.close()
    return differences


def _without_now(doc: Any) -> Any:
    """``doc`` without what depends on the moment it is asked (how long a case has been open)."""
    if isinstance(doc, dict):
        return {k: _without_now(v) for k, v in doc.items() if k not in ("age", "now", "overdue_by", "at")}
    if isinstance(doc, list):
        return [_without_now(v) for v in doc]
    return doc


def check_stored(url: str, rec: Record) -> dict[str, int]:
    from gridcore import Engine

    with Engine.open(store=url, read_only=True) as engine:
        answered = Counter(rec.events)
        ingested = Counter(rec.ingested)
        return {
            "answered": len(answered),
            "answered twice": sum(1 for n in answered.values() if n > 1),
            "answered, not stored": sum(1 for e in answered if not engine.store.contains(e)),
            "ingested": len(ingested),
            "ingested, not stored": sum(1 for e in ingested if not engine.store.contains(e)),
            "events in the store": engine.position,
        }


def report(setup: Setup, workers: int, minutes: float, rows: list[dict[str, Any]], rec: Record,
           stored: dict[str, int], compared: list[str], log: Path) -> tuple[str, bool]:
    first, end = rows[0], rows[-1]
    refusals = Counter((what.split(" ")[0] + " " + re.sub(r"/[^/?]*\d[^/?]*", "/…", what.split(" ", 1)[1])
                        .split("?")[0], status, reasons[0][:160]) for what, status, reasons in rec.refused)
    runs = rec.ingest_runs
    served_errors = [line for line in log.read_text(errors="replace").splitlines()
                     if "Traceback" in line or "ERROR" in line][:5]
    grew = setup.events if not rec.events and not rec.ingested and stored["events in the store"] != setup.events \
        else None  # nothing was written: the store must not have grown
    ok = (not compared and not rec.failures and not served_errors and all(r["errors"] == 0 for r in rows)
          and not rec.changed and grew is None
          and all(r["restarts"] == 0 for r in rows) and stored["answered, not stored"] == 0
          and stored["ingested, not stored"] == 0 and all(code == 0 for _, code, _, _ in runs))
    lines = [
        "## Service over time (`gridcore serve`, a long run)",
        "",
        (f"{minutes:g} minutes on `{_safe(setup.url)}`, {workers} worker process{'es' if workers > 1 else ''}, "
         f"staff on {len(setup.teams)} grids, readers, and `gridcore ingest` beside it "
         f"({len(runs)} runs). Latencies p50 / p99 ms; roll-ups kept: those answered from the cache of those "
         "asked; CPU ms a request: every worker's CPU over the requests; RSS MiB, open files, threads per worker; workers uvicorn replaced (one that died or stopped answering its "
         "health check)."),
        "",
        ("| minute | requests | 5xx | 4xx | actions | light reads | heavy reads | roll-ups | roll-ups kept "
         "| CPU ms/request | RSS MiB | fds | threads | workers replaced |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(format_row(r) for r in rows),
        "",
        (f"Growth, last interval against the first: RSS {_growth(first['rss'], end['rss'])} MiB, "
         f"open files {_growth(first['fds'], end['fds'])}, CPU a request {first['cpu_ms']:.1f} -> "
         f"{end['cpu_ms']:.1f} ms, actions p50 {first['action'][0]:.0f} -> {end['action'][0]:.0f} ms, "
         f"heavy reads p50 {first['heavy'][0]:.0f} -> {end['heavy'][0]:.0f} ms; peak RSS "
         f"{' / '.join(f'{v:.0f}' for v in end['hwm'])} MiB."),
        "",
        (f"Roll-ups of {setup.streets[0]} over the month before asked: {len(rec.rollups):,}, answered from the "
         f"roll-up cache (`Cache-Status: hit`): {sum(h for _, h in rec.rollups):,}"
         f"{f' ({100 * sum(h for _, h in rec.rollups) / len(rec.rollups):.0f}%)' if rec.rollups else ''}."),
        "",
        (f"Actions answered 503 store-busy (an ingest held the write lock past --lock-wait) and sent again "
         f"after Retry-After with the same event id: {sum(r['busy'] for r in rows):,}."),
        "",
        f"Events in the store when the run began: {setup.events:,}"
        + (f" (**it grew** to {stored['events in the store']:,} with nothing written)" if grew is not None else "")
        + ". Stored: " + ", ".join(f"{k} {v:,}" for k, v in stored.items()) + ". "
        f"Ingest runs: {Counter(code for _, code, _, _ in runs)} (exit status: count), "
        f"{statistics.mean([s for _, _, s, _ in runs]) if runs else 0:.1f} s each on average.",
        "",
        ("The running service's answers equal a fresh engine's full replay of the store."
         if not compared else f"**{len(compared)} answers differ from a fresh replay:**"),
        *(f"- {d}" for d in compared[:10]),
        "",
    ]
    if refusals:
        lines += ["Refused (status, first reason, times):", "",
                  *(f"- {what} {status}: {reason} ({n})" for (what, status, reason), n in refusals.most_common(12)), ""]
    if rec.first:
        lines += [(f"Reads compared with their first answer (nothing written): {len(rec.first)} distinct reads; "
                   + ("every answer the same." if not rec.changed else "**answered otherwise later:** "
                      + ", ".join(f"{k} ({n})" for k, n in rec.changed.most_common(10)))), ""]
    if rec.failures:
        lines += ["Transport failures: " + ", ".join(f"{k} ({n})" for k, n in rec.failures.items()), ""]
    if served_errors:
        lines += ["Errors the service logged:", "", *(f"    {e[:300]}" for e in served_errors), ""]
    failed = [t for _, code, _, t in runs if code != 0]
    if failed:
        lines += ["A failed ingest ended:", "", f"    {failed[0]!r}", ""]
    if not ok:
        lines.append("**FAILED**")
    return "\n".join(lines), ok


def _growth(before: list[float], after: list[float]) -> str:
    return ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in zip(before, after))


def _safe(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//…@", url)


__all__ = ["soak"]


# ---------------------------------------------------------------- actions beside a roll-up


def rollup_probe(*, store: str, rollups: int, period: str) -> tuple[str, bool]:
    """``--rollup-probe N``: one worker serving ``store``; a gridworker logs patrols one after another while
    the district's roll-up of ``period`` is asked ``N`` times, one after the other (each after a new
    event: none is kept).  Gives the roll-ups' times and the latency of the patrols answered while a
    roll-up was being computed, against those answered while none was."""
    folder = Path(tempfile.mkdtemp(prefix="gridcore-rollup-probe-"))
    setup = prepare(store, folder)
    from service_load import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    team = setup.teams[0]
    server = start(setup.url, port, folder / "serve.log", 1, team.leader)
    stop = threading.Event()
    spans: list[tuple[float, float]] = []
    actions: list[tuple[float, float, int]] = []  # (sent, answered, status)

    def patrols() -> None:
        with httpx.Client(base_url=base, timeout=300,
                          headers={"Authorization": f"Bearer {setup.tokens[team.worker]}"}) as client:
            while not stop.is_set():
                sent = time.monotonic()
                answer = client.post("/api/v1/events", json={"kind": "patrol_logged", "node": team.grid,
                                                             "minutes": 30, "visits": 1, "hazards_found": 0,
                                                             "note": "巡查"})
                actions.append((sent, time.monotonic(), answer.status_code))
                stop.wait(0.05)

    try:
        thread = threading.Thread(target=patrols)
        thread.start()
        with httpx.Client(base_url=base, timeout=600,
                          headers={"Authorization": f"Bearer {setup.tokens[setup.reader]}"}) as client:
            time.sleep(5)  # patrols alone first
            for _ in range(rollups):
                began = time.monotonic()
                answer = client.get(f"/api/v1/rollups/{setup.top}", params={"period": period})
                spans.append((began, time.monotonic()))
                if answer.status_code != 200:
                    raise SystemExit(f"roll-up answered {answer.status_code}: {answer.text[:500]}")
                time.sleep(2)
        stop.set()
        thread.join()
    finally:
        stop.set()
        stop_server(server)
    during = [done - sent for sent, done, _ in actions if any(s < done and sent < e for s, e in spans)]
    apart = [done - sent for sent, done, _ in actions if not any(s < done and sent < e for s, e in spans)]
    took = [e - s for s, e in spans]
    ok = all(status == 201 for _, _, status in actions)
    d, a = percentiles(during), percentiles(apart)
    text = "\n".join([
        (f"Roll-ups of {setup.top} over {period}: {len(took)}, "
         f"{statistics.median(took):.1f} s median ({min(took):.1f}-{max(took):.1f} s)."),
        "",
        "| patrols answered | count | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        f"| while a roll-up was computed | {len(during)} | {d[0]:.0f} | {d[1]:.0f} | {d[2]:.0f} |",
        f"| while none was | {len(apart)} | {a[0]:.0f} | {a[1]:.0f} | {a[2]:.0f} |",
        "",
        "Every patrol stored (201)." if ok else "Some patrols were not stored — **FAILED**.",
    ])
    return text, ok
