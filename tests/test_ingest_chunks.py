"""``gridcore ingest`` reads a file a chunk at a time: the same store and results as reading it whole."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from gridcore import Engine
from gridcore_app import cli
from gridcore_app.cli import main_group
from gridcore_app.jsonl import BadLine, chunks_of_events, in_time_order

YINQUAN = REPO / "rulesets" / "yinquan"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def ingested(tmp_path: Path, name: str, lines: list[str], chunk: int, monkeypatch: pytest.MonkeyPatch,
             ) -> tuple[str, dict[str, dict[str, object]], list[str]]:
    """Ingest ``lines`` into a new Yinquan store, ``chunk`` lines per call: (summary, events by id, views)."""
    store = str(tmp_path / name)
    code, _, err = run("init", "--community", str(YINQUAN), "--ruleset", str(YINQUAN / "yinquan.rules"),
                       "--effective", "2025-01-01T00:00+08:00", "--store", store)
    assert code == 0, err
    events = tmp_path / f"{name}.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(cli, "INGEST_CHUNK", chunk)
    code, out, err = run("ingest", str(events), "--store", store, "--quiet")
    assert code == 1  # a line that is not JSON, at least
    with Engine.open(store=store, read_only=True) as engine:
        stored = {doc["id"]: doc for doc in engine.store.events()}
    views = [run(*command, "--store", store)[1]
             for command in (("points", "board", "yq", "--month", "2025-01"), ("incidents", "list"), ("assess",))]
    return out + err.replace(f"{name}.jsonl", "FILE"), stored, views


def simulated(tmp_path: Path) -> list[str]:
    log = tmp_path / "sim.jsonl"
    code, _, err = run("simulate", "--community", "银泉社区", "--days", "4", "--seed", "5", "--out", str(log))
    assert code == 0, err
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 300
    return lines


def test_chunks_give_the_same_store_and_views_as_one_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = simulated(tmp_path)
    assert in_time_order([line.encode() for line in lines], "sim")  # so the file is judged in chunks
    rng = random.Random(7)
    lines.insert(rng.randrange(100, len(lines)), lines[5])  # a harmless duplicate in another chunk
    conflicting = json.loads(lines[9])
    conflicting["time"] = "2031-01-01T09:00:00+08:00"  # same id, other content: refused
    lines.append(json.dumps(conflicting, ensure_ascii=False))
    lines.insert(40, "{not json")

    whole = ingested(tmp_path, "whole", lines, 10**6, monkeypatch)
    chunked = ingested(tmp_path, "chunked", lines, 37, monkeypatch)
    assert chunked[0] == whole[0]
    assert "1 already stored" in whole[0] and "2 refused" in whole[0]
    assert "FILE:41: not valid JSON" in whole[0] and "conflicts with the stored event" in whole[0]
    assert chunked[1] == whole[1]  # the same events, derived ones included, with the same content
    assert chunked[2] == whole[2]
    assert [bool(view.strip()) for view in whole[2]] == [True, True, True], whole[2]


def test_a_file_out_of_order_is_judged_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A block of early lines last: judged in chunks, the acceptances and assignments of
    # incidents reported in that block would come before their reports and be refused.
    lines = simulated(tmp_path)
    cut = len(lines) // 3
    lines = lines[cut:] + lines[:cut] + ["{not json"]
    assert not in_time_order([line.encode() for line in lines], "sim")
    whole = ingested(tmp_path, "whole", lines, 10**6, monkeypatch)
    chunked = ingested(tmp_path, "chunked", lines, 37, monkeypatch)
    assert chunked == whole
    assert "0 already stored" in whole[0] and "1 refused" in whole[0]


def test_chunks_hold_every_line_once_in_file_order() -> None:
    raw = [json.dumps({"id": f"e{n}"}).encode() + b"\n" for n in range(10)]
    raw[3] = b"[1, 2]\n"
    raw[7] = b"\n"
    chunks = list(chunks_of_events(raw, "f", 4))
    assert [len(chunk.lines) for chunk in chunks] == [4, 4]
    assert [found.label for chunk in chunks for found in chunk.lines] == [
        f"f:{n}" for n in (1, 2, 3, 5, 6, 7, 9, 10)]
    assert [bad.label for chunk in chunks for bad in chunk.bad] == ["f:4"]
    assert all(isinstance(bad, BadLine) for chunk in chunks for bad in chunk.bad)
    assert list(chunks_of_events([], "f", 4)) == []
