"""Size and rate limits, and an access log without secrets, on a real server."""

from __future__ import annotations

import re
from pathlib import Path

from servicekit import make_store, served


def test_limits_and_a_log_without_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    tokens = make_store(url)
    secret = tokens["worker"]
    with served(url, "--max-body", "2048", "--rate", "1", "--burst", "3") as server:
        with server.client(secret) as worker:
            big = worker.post("/api/v1/events", content=b"{" + b" " * 4096 + b"}",
                              headers={"content-type": "application/json"})
            assert big.status_code == 413
            assert big.json()["type"] == "/problems/too-large"
            statuses = [worker.get("/api/v1/me").status_code for _ in range(6)]
            assert statuses[:2] == [200, 200] and 429 in statuses
            limited = worker.get("/api/v1/me")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert limited.json()["type"] == "/problems/rate-limited"
        with server.client(tokens["leader"]) as leader:  # each token has its own bucket
            assert leader.get("/api/v1/me").status_code == 200
            # a body sent in chunks, with no Content-Length to refuse it by, is cut off at the limit too
            chunked = leader.post("/api/v1/events", content=iter([b"{", b" " * 1500, b" " * 1500, b"}"]),
                                  headers={"content-type": "application/json"})
            assert "content-length" not in chunked.request.headers
            assert chunked.status_code == 413 and chunked.json()["type"] == "/problems/too-large"
        with server.client() as anonymous:  # another bucket: by address
            masked = anonymous.get("/open311/v2/services.json", params={"api_key": secret})
            assert masked.status_code in (200, 429)
    log = server.log
    assert "/api/v1/me 200" in log and "/api/v1/me 429" in log
    assert secret not in log and secret.split("_", 2)[2] not in log
    assert tokens["leader"].split("_", 2)[2] not in log
    assert re.search(r"GET /api/v1/me 200 [\d.]+ms token=\w+ pid=\d+", log)
    assert "api_key=%2A%2A%2A" in log or "api_key=***" in log
    assert "token=" + secret.split("_")[1] in log  # the token's id names who, the secret stays out
