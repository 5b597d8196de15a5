"""The README's quick tour: ``gridcore serve`` starts on the demo's store in one command.

The demo builds its store (a short run: the store is laid out the same), then
the serve line is taken from the README as written (with a free port added)
and run in the same folder.  The dashboard answers, and the Open311 example of
docs/service.md (a leak reported by latitude/longitude, anonymously) lands in
the cell the docs name and is stored.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from servicekit import free_port

from gridcore import Engine
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent


def readme_serve_line() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A quick tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    lines = [line for line in tour.splitlines() if line.startswith("gridcore serve ")]
    assert len(lines) == 1, "the quick tour serves the demo's store in one command"
    return shlex.split(lines[0], comments=True)


def curl_example() -> dict[str, str]:
    text = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
    found = re.search(r"`curl((?: -d \S+)+)\s+http://127\.0\.0\.1:8000(/open311/v2/requests\.json)`", text)
    assert found is not None, "docs/service.md shows a report by latitude/longitude"
    return dict(pair.split("=", 1) for pair in found.group(1).split(" -d ")[1:])


def test_the_readme_serves_the_demos_store_in_one_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    built = CliRunner().invoke(main_group, ["demo", "--days", "7"])
    assert built.exit_code == 0, built.output
    command = readme_serve_line()
    assert command[:2] == ["gridcore", "serve"]
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from gridcore_app.cli import main; main()", *command[1:], "--port", str(port)],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                page = httpx.get(f"{base}/dashboard/", timeout=5)
                if page.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "gridcore serve did not answer within 180 s"
            time.sleep(0.3)
        assert "银泉社区" in page.text  # a public dashboard: no sign-in on the office's wall screen
        assert "积分公示" in httpx.get(f"{base}/dashboard/board", timeout=30).text
        report = httpx.post(f"{base}/open311/v2/requests.json", data=curl_example(), timeout=30)
        assert report.status_code == 201, report.text
        ident = report.json()[0]["service_request_id"]
        status = httpx.get(f"{base}/open311/v2/requests/{ident}.json", timeout=30).json()[0]
        assert status["status"] == "open" and "第一网格二单元" in status["agency_responsible"]
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert f"on http://127.0.0.1:{port}" in log.read_text(encoding="utf-8")
    with Engine.open(store="gridcore-out/yinquan/store", create=False) as engine:
        reported = [e for e in engine.events(kinds=["incident_reported"]) if e.incident == ident]
    assert len(reported) == 1 and reported[0].channel == "open311" and reported[0].actor == "yq-m-sec"
