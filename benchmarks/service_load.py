"""Load on `gridcore serve`: N concurrent reporters for M seconds, then check nothing was lost.

    python benchmarks/service_load.py                       # 8 reporters, 20 s, SQLite
    python benchmarks/service_load.py --reporters 16 --seconds 30 --output load.md
    python benchmarks/service_load.py --quick               # 2 reporters, 3 s: checks it runs
    python benchmarks/service_load.py --workers 2           # two worker processes on the one store
    python benchmarks/service_load.py --soak 30 --store sqlite:///district.db --workers 2   # a long run

A long run (``--soak MINUTES``) serves a store (``--store``: an existing one,
e.g. a district's; default a fresh Yinquan store) for that long with what staff
and phones do at once, and a ``gridcore ingest`` writing beside it; every
``--interval`` seconds it samples each worker process (resident memory, open
files, CPU) and the latencies of the interval, and at the end checks that
what the service answers equals a fresh engine's full replay of the store.
The first interval is the baseline: the table shows how memory, CPU a request
and latency grow with the history the run adds (``soak`` below).

What it does, all on this machine (the server listens on 127.0.0.1 only):

1. builds Yinquan (8 grids, 53 units) in a fresh store with its ruleset and a token;
2. **baseline, same run**: records the same kind of report directly through an
   engine in this process (no HTTP), as many as the service took, and times it;
3. **HTTP floor, same run**: N clients send `GET /open311/v2/discovery.json`, a
   route that never touches the engine, for M seconds: what HTTP itself costs;
4. **load**: N clients (threads, each with its own connection) send Open311
   `POST requests.json` reports (a random category and place) for M seconds;
5. stops the server, opens the store, and checks that every report the service
   answered with an id is stored exactly once and nothing else was: a lost or
   duplicated report fails the run (exit 1).

It reports requests per second, latency percentiles (p50, p90, p99, max) and
the ratios to the baselines.  The clients run on the same two cores as the
server, so the figures are a floor for what the service does alone.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"
CATEGORIES = ("leaking_pipe", "broken_manhole", "sanitation", "dispute", "social_order", "assistance")


def build_store(url: str) -> tuple[str, list[str]]:
    """Yinquan in a fresh store; a token for its master grid leader; the place ids."""
    from gridcore import Engine
    from gridcore_app.service import auth

    engine = Engine.open(store=url, community=YINQUAN, ruleset=YINQUAN / "yinquan.rules",
                         effective=datetime(2025, 1, 1, tzinfo=UTC))
    try:
        _, token = auth.issue(engine, "yq-m-sec", "load test")
        return token, sorted(engine.community.places)
    finally:
        engine.close()


def direct(url: str, places: list[str], count: int, seed: int) -> float:
    """Seconds to record ``count`` reports straight through an engine (no HTTP)."""
    from gridcore import Engine
    from gridcore_app.service import intake

    rng = random.Random(seed)
    engine = Engine.open(store=url)
    try:
        started = time.perf_counter()
        for _ in range(count):
            place = rng.choice(places)
            intake.report(engine, actor="yq-m-sec", category=rng.choice(CATEGORIES),
                          node=engine.community.leaf_of(place).id, place=place, channel="open311")
        return time.perf_counter() - started
    finally:
        engine.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(url: str, port: int, log: Path, workers: int = 1) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", "from gridcore_app.cli import main; main()", "serve", "--store", url,
            "--port", str(port), "--rate", "0", "--log-level", "warning", "--intake", "yq-m-sec",
            "--workers", str(workers)]
    with log.open("w") as out:  # a file, never a pipe nobody reads (a full pipe stalls the server)
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True)
    within = 60 * (workers + 1)  # every worker process opens its own engine
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gridcore serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/open311/v2/discovery.json", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gridcore serve did not start within {within} s")


def hammer(base: str, reporters: int, seconds: float, request: str, places: list[str], token: str,
           seed: int, most: int = 200_000) -> tuple[list[float], Counter[int], list[str], float]:
    """``reporters`` threads send ``request`` for ``seconds`` (at most ``most`` in all)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    ids: list[str] = []
    lock = threading.Lock()
    sent = [0]
    stop = time.monotonic() + seconds

    def reporter(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        mine: list[float] = []
        codes: Counter[int] = Counter()
        got: list[str] = []
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < stop:
                with lock:
                    if sent[0] >= most:
                        break
                    sent[0] += 1
                began = time.perf_counter()
                if request == "floor":
                    answer = client.get("/open311/v2/discovery.json")
                else:
                    answer = client.post("/open311/v2/requests.json", data={
                        "service_code": rng.choice(CATEGORIES), "address_id": rng.choice(places),
                        "description": "load test", "api_key": token,
                    })
                mine.append(time.perf_counter() - began)
                codes[answer.status_code] += 1
                if request != "floor" and answer.status_code == 201:
                    got.append(answer.json()[0]["service_request_id"])
        with lock:
            latencies.extend(mine)
            statuses.update(codes)
            ids.extend(got)

    began = time.perf_counter()
    threads = [threading.Thread(target=reporter, args=(n,)) for n in range(reporters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, ids, time.perf_counter() - began


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    """p50, p90, p99 and max, in milliseconds."""
    if len(values) < 2:
        only = values[0] * 1000 if values else 0.0
        return only, only, only, only
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[89] * 1000, cuts[98] * 1000, max(values) * 1000


def stored_reports(url: str) -> Counter[str]:
    """How many times each incident id has an incident_reported event."""
    from gridcore import Engine

    engine = Engine.open(store=url)
    try:
        return Counter(e.incident for e in engine.events(kinds=["incident_reported"]))  # type: ignore[attr-defined]
    finally:
        engine.close()


def run(reporters: int, seconds: float, seed: int = 7, workers: int = 1) -> tuple[str, bool]:
    """The Markdown section and whether nothing was lost or duplicated."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'load.db'}"
        token, places = build_store(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start(url, port, Path(folder) / "serve.log", workers)
        try:
            floor, floor_codes, _, floor_time = hammer(base, reporters, seconds, "floor", places, token, seed)
            latencies, codes, ids, load_time = hammer(base, reporters, seconds, "report", places, token, seed)
        finally:
            server.terminate()
            server.wait(timeout=60)
        stored = stored_reports(url)
        lost = [i for i in ids if stored[i] == 0]
        doubled = [i for i, n in stored.items() if n > 1]
        extra = set(stored) - set(ids)
        ok = not lost and not doubled and not extra and codes[201] == len(ids) and set(codes) == {201}
        direct_url = f"sqlite:///{Path(folder) / 'direct.db'}"
        build_store(direct_url)
        direct_time = direct(direct_url, places, max(len(ids), 1), seed)

    rate = len(latencies) / load_time
    floor_rate = len(floor) / floor_time
    direct_rate = max(len(ids), 1) / direct_time
    p50, p90, p99, most = percentiles(latencies)
    f50, f90, f99, fmost = percentiles(floor)
    lines = [
        "## Service under load (`gridcore serve`)",
        "",
        (f"{reporters} concurrent reporters for {seconds:g} s against "
         f"{'one worker process' if workers == 1 else f'{workers} worker processes'} on SQLite "
         f"(Yinquan, 8 grids, 53 units), clients on the same machine. `python benchmarks/service_load.py"
         f"{f' --workers {workers}' if workers > 1 else ''}`."),
        "",
        "| what | requests | per second | p50 ms | p90 ms | p99 ms | max ms | vs direct engine |",
        "|---|---|---|---|---|---|---|---|",
        f"| direct engine record (no HTTP), baseline | {max(len(ids), 1):,} | {direct_rate:,.0f} | | | | | 1.00× |",
        (f"| HTTP floor: GET discovery (no engine) | {len(floor):,} | {floor_rate:,.0f} | {f50:.1f} | {f90:.1f} "
         f"| {f99:.1f} | {fmost:.1f} | |"),
        (f"| Open311 POST requests (reports) | {len(latencies):,} | {rate:,.0f} | {p50:.1f} | {p90:.1f} "
         f"| {p99:.1f} | {most:.1f} | {direct_rate / rate:.2f}× slower |"),
        "",
        f"Answers: {dict(sorted(codes.items()))} (floor: {dict(sorted(floor_codes.items()))}). "
        f"Stored reports checked against the answers: {len(ids):,} answered with an id, "
        f"{sum(1 for i in ids if stored[i] == 1):,} stored exactly once, {len(lost)} lost, "
        f"{len(doubled)} duplicated, {len(extra)} stored without an answer"
        + (" — **FAILED**" if not ok else "") + ".",
        "",
    ]
    return "\n".join(lines), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="a long run of the staff mix (see above)")
    parser.add_argument("--store", help="--soak: serve this existing store (default: a fresh Yinquan one)")
    parser.add_argument("--interval", type=float, default=60.0, help="--soak: seconds between samples")
    parser.add_argument("--staff", type=int, default=6, help="--soak: staff clients (reports, steps, patrols); 0 with --ingest-every 0: nothing is written, "
                        "and every read must give its first answer again")
    parser.add_argument("--readers", type=int, default=2, help="--soak: reading clients (boards, lists, reports, roll-ups)")
    parser.add_argument("--ingest-every", type=float, default=60.0,
                        help="--soak: seconds between two `gridcore ingest` runs beside the service (0: none)")
    parser.add_argument("--heap", action="store_true",
                        help="--soak: each worker writes what its heap holds at every sample (see service_soak.py)")
    parser.add_argument("--rollup-probe", type=int, metavar="N",
                        help="with --store: patrols logged while the top node's roll-up of --period is asked N times")
    parser.add_argument("--period", default="2026-11", help="--rollup-probe: the roll-up's period")
    parser.add_argument("--reporters", type=int, default=8, help="concurrent reporters (threads)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each phase runs")
    parser.add_argument("--quick", action="store_true", help="2 reporters for 3 s: checks that it runs")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of gridcore serve (1-8)")
    parser.add_argument("--output", type=Path, help="also write the Markdown section here")
    args = parser.parse_args()
    reporters, seconds = (2, 3.0) if args.quick else (args.reporters, args.seconds)
    if not 1 <= reporters <= 256 or not 0 < seconds <= 600 or not 1 <= args.workers <= 8:
        raise SystemExit("reporters must be 1-256, seconds 0-600 and workers 1-8 (a bounded test)")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.rollup_probe is not None:
        if not args.store or not 1 <= args.rollup_probe <= 50:
            raise SystemExit("--rollup-probe 1-50 needs --store")
        from service_soak import rollup_probe

        section, ok = rollup_probe(store=args.store, rollups=args.rollup_probe, period=args.period)
    elif args.soak is not None:
        if not 0 < args.soak <= 600 or not 1 <= args.interval <= 3600 or not 0 <= args.staff <= 64 \
                or not 0 <= args.readers <= 64:
            raise SystemExit("--soak 0-600 minutes, --interval 1-3600 s, --staff 0-64, --readers 0-64")
        from service_soak import soak

        section, ok = soak(store=args.store, minutes=args.soak, interval=args.interval, workers=args.workers,
                           staff=args.staff, readers=args.readers, ingest_every=args.ingest_every,
                           heap=args.heap)
    else:
        section, ok = run(reporters, seconds, workers=args.workers)
    print(section)
    if args.output:
        args.output.write_text(section, encoding="utf-8")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
