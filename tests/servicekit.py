"""A community on the map, a store with tokens, and a real ``gridcore serve`` on a loopback port.

``served(store, ...)`` starts ``gridcore serve`` as a child process on a free
127.0.0.1 port and waits (bounded) until it answers; leaving the block stops
it and keeps what it logged in ``Server.log``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import httpx

from gridcore import Community, Engine, FixedClock
from gridcore.geo import Location
from gridcore_app.rosterio import load_community

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"
CST = timezone(timedelta(hours=8))
START = datetime(2025, 3, 3, 9, 0, tzinfo=CST)  # a Monday morning

# 第一网格 as a square around (22.58, 113.08); its first unit a smaller square inside
# the north-west corner, its second unit a point with a 60 m radius.
G1 = [[113.070, 22.570], [113.090, 22.570], [113.090, 22.590], [113.070, 22.590], [113.070, 22.570]]
G1_U1 = [[113.071, 22.585], [113.075, 22.585], [113.075, 22.589], [113.071, 22.589], [113.071, 22.585]]
G1_U2 = (22.575, 113.085)
#: anonymous reports are recorded as the community office's duty account
INTAKE = "yq-m-sec"
#: who holds tokens in the tests: (member, what they are)
HOLDERS = {
    "leader": "yq-gl1",  # grid leader of 第一网格 (verifies)
    "worker": "yq-fw1",  # full-time gridworker of 第一网格
    "resident": "yq-g1-u1-r1",  # a resident of 第一网格一单元
    "other_worker": "yq-fw3",  # a full-time gridworker of another grid
}


def mapped_yinquan() -> Community:
    """Yinquan's roster with 第一网格 and its two units on the map."""
    community = load_community(YINQUAN)
    return attrs.evolve(
        community,
        locations={
            "yq-g1": Location.from_geojson({"type": "Polygon", "coordinates": [G1]}),
            "yq-g1-u1": Location.from_geojson({"type": "Polygon", "coordinates": [G1_U1]}),
            "yq-g1-u2": Location.point(*G1_U2, radius=60),
        },
    )


def make_store(url: str) -> dict[str, str]:
    """A Yinquan store (its ruleset in force from 2025-01-01) and a token for each holder."""
    from gridcore_app.service import auth

    engine = Engine.open(
        store=url, community=mapped_yinquan(), ruleset=YINQUAN / "yinquan.rules",
        effective=datetime(2025, 1, 1, tzinfo=CST), clock=FixedClock(START - timedelta(days=1)),
    )
    try:
        return {who: auth.issue(engine, member, who)[1] for who, member in HOLDERS.items()}
    finally:
        engine.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class Server:
    """A running ``gridcore serve``."""

    url: str
    process: subprocess.Popen[str]
    log: str = ""

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def served(
    store: str, *options: str, now: datetime | None = START, start_within: float = 60, intake: str | None = INTAKE
) -> Iterator[Server]:
    """``gridcore serve --store STORE`` on a free loopback port, until the block ends.

    ``intake``: the member anonymous reports are recorded as (None: none taken).

    ``start_within``: seconds to wait for it to answer (every worker process
    opens its own engine, so several take longer on a busy machine).
    """
    port = free_port()
    args = [sys.executable, "-c", "from gridcore_app.cli import main; main()", "serve", "--store", store,
            "--port", str(port), *(["--intake", intake] if intake else []), *options]
    if now is not None:
        args += ["--test-clock", now.isoformat()]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    handle, name = tempfile.mkstemp(suffix=".log")  # a file, never a pipe: a full pipe stalls the server
    log = Path(name)
    with os.fdopen(handle, "w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    server = Server(f"http://127.0.0.1:{port}", process)
    # with --workers N, up once every worker process has answered (each opens its own engine:
    # one still opening gets no connection, and a test of several workers would see one)
    workers = int(options[options.index("--workers") + 1]) if "--workers" in options else 1
    try:
        deadline = time.monotonic() + start_within
        while True:
            if process.poll() is not None:
                raise AssertionError(f"gridcore serve exited {process.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{server.url}/open311/v2/discovery.json", timeout=2).status_code == 200 and \
                        len(set(re.findall(r"GET /open311/v2/discovery.json 200 .* pid=(\d+)", log.read_text()))) \
                        >= workers:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gridcore serve did not answer within {start_within:g} s: {log.read_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.log = log.read_text(encoding="utf-8")
        log.unlink()
