"""uvicorn's health check of ``gridcore serve --workers N``, against a worker that stops answering.

uvicorn's supervisor pings each worker process over a pipe every half second;
a worker answers from a thread of its own, which needs the interpreter lock.
One that does not answer within ``timeout_worker_healthcheck`` seconds is
killed (SIGKILL) and replaced, and the requests it held are lost.  A worker
here is stalled for real: the test stops both worker processes (SIGSTOP, as a
loaded machine or a long lock-holding step would stall them) for longer than
uvicorn's default of 5 s, with one request sent on a kept connection and so
held by one of them.  With ``gridcore serve``'s default of 30 s both go on
once resumed, and the request is answered; with a timeout shorter than the
stall (``--healthcheck-timeout 2``: a short one, so the test waits less than
uvicorn's 5 s would make it) both are replaced and that request fails.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from servicekit import Server, make_store, served

#: seconds the default's workers are stalled: longer than uvicorn's default of 5 s (a ping is sent every half
#: second, so a 5-s timeout kills the first stalled worker 5.5 s in at most), far less than 30
STALL = 7.0
#: the short timeout a stall outlasts: each worker's ping goes unanswered for 2 s, one worker at a time
SHORT = "2"


def worker_pids(server: int) -> list[int]:
    """The worker processes uvicorn's supervisor ``server`` runs now."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == server and "spawn_main" in cmdline:
                pids.append(int(entry))
    return sorted(pids)


class HeldRequest:
    """A request a worker has begun to read (its headers but the last line) on a raw connection.

    Once the worker has read the first part it has the connection (and no
    keep-alive timer runs on it); the last line, sent while the worker is
    stalled, waits in that worker's socket.
    """

    def __init__(self, server: Server) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=120)
        self.sock.sendall(b"GET /open311/v2/discovery.json HTTP/1.1\r\nHost: gridcore\r\nConnection: close\r\n")
        time.sleep(1)  # accepted and read by a worker

    def finish(self) -> None:
        self.sock.sendall(b"\r\n")

    def answer(self) -> bytes:
        """What came back: the answer, or b"" if the connection was reset or closed unanswered."""
        data = b""
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        finally:
            self.sock.close()
        return data


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes in /proc")
@pytest.mark.parametrize("timeout", [None, SHORT], ids=["gridcore-default", "short-timeout"])
def test_a_stalled_worker_is_kept_with_the_default_timeout_and_killed_with_a_shorter_one(
    timeout: str | None, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    make_store(url)
    options = ["--workers", "2", "--rate", "0", *(["--healthcheck-timeout", timeout] if timeout else [])]
    with served(url, *options, start_within=300) as server:
        before = worker_pids(server.process.pid)
        assert len(before) == 2
        held = HeldRequest(server)
        for pid in before:
            os.kill(pid, signal.SIGSTOP)
        try:
            held.finish()
            if timeout is None:
                time.sleep(STALL)
            else:  # until uvicorn has replaced both (it pings one at a time)
                deadline = time.monotonic() + 180
                while set(before) & set(worker_pids(server.process.pid)) and time.monotonic() < deadline:
                    time.sleep(0.5)
        finally:
            for pid in before:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        answer = held.answer()
        after = worker_pids(server.process.pid)
        # the service answers either way
        assert httpx.get(f"{server.url}/open311/v2/discovery.json", timeout=60).status_code == 200
    if timeout is None:
        assert after == before, server.log
        assert answer.startswith(b"HTTP/1.1 200 "), (answer, server.log)
        assert "died" not in server.log
    else:
        assert not set(after) & set(before), (before, after, server.log)
        assert not answer, (answer, server.log)  # lost: the worker holding it was killed
        assert server.log.count("died") >= 2, server.log
