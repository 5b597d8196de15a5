"""``gridcore ingest`` reads a file a chunk at a time: the same store and results as reading it whole."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import Engine
from gridcore_app import cli, jsonl
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
    # at a fixed time: "incidents list" shows each open incident's age from now, so on the system clock two
    # runs a minute apart differ (the two ingests' views were compared across a minute's turn, now and then)
    views = [run(*command, "--store", store, "--now", "2025-02-01T00:00+08:00")[1]
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
    labels = chunks[1].labels  # (each written when read)
    assert (len(labels), labels[0], labels[-1], labels[1:3], list(labels)) == (
        4, "f:6", "f:10", ["f:7", "f:9"], ["f:6", "f:7", "f:9", "f:10"])
    assert all(isinstance(bad, BadLine) for chunk in chunks for bad in chunk.bad)
    assert list(chunks_of_events([], "f", 4)) == []


# Lines with an id and a time in front, as exports write them, and the same made hostile: escapes,
# another "id" or "time" deeper or later, other spacing, bytes that are not UTF-8, values that are refused.
_times = st.sampled_from(["2025-01-01T08:00:00+08:00", "2025-01-01T00:00:00+00:00", "2025-01-01T08:00:00",
                          "2025-01-01T07:59:59.5+08:00", "no time", "2025-01-01T08:00:01+08:00"])
_idents = st.sampled_from(["a", "b", "a1", "é", "b\\u0061", "", "x\"y"])
_tails = st.sampled_from(["", ', "kind": "patrol_logged"', ', "id": "z"', ', "x": {"time": "2020-01-01T00:00:00+08:00"}',
                          ', "\\u0069d": "z"', ', "n": 1e999', ', "n": NaN', ', "t": "\x01"', ', "s": "time"',
                          ', "x": [' * 3 + ']' * 3, ', "x": {"id": 1}'])


@st.composite
def _event_lines(draw: st.DrawFn) -> bytes:
    ident, time, tail = draw(_idents), draw(_times), draw(_tails)
    colon, comma = draw(st.sampled_from([": ", ":", " :\t"])), draw(st.sampled_from([", ", ",", " , "]))
    pairs = [f'"id"{colon}"{ident}"', f'"time"{colon}"{time}"']
    if draw(st.booleans()):
        pairs.reverse()
    raw = ("{" + draw(st.sampled_from(["", " "])) + comma.join(pairs) + tail + "}").encode()
    if draw(st.booleans()):
        raw = raw.replace(b"\xc3\xa9", b"\xc3")  # not UTF-8
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf", b" "])) + raw + draw(st.sampled_from([b"\n", b"\r\n", b""]))


@settings(max_examples=600, deadline=None)
@given(_event_lines())
def test_a_line_read_without_parsing_gives_the_key_parsing_it_gives(raw: bytes) -> None:
    """``_line_key`` reads a line's id and time without parsing it: for a line that is an object, the key
    ``_order_key`` gives its document, or it asks for the line to be parsed."""
    key = jsonl._line_key(raw)
    found = jsonl.parse_line(raw)
    if key is not jsonl._PARSE and isinstance(found, dict):
        assert key == jsonl._order_key(found)


@settings(max_examples=400, deadline=None)
@given(st.lists(_event_lines(), max_size=8))
def test_a_file_surely_in_order_is_in_order(lines: list[bytes]) -> None:
    """What the CLI asks first (most lines unparsed) is True only where ``in_time_order`` is."""
    if jsonl.surely_in_time_order(lines):
        assert in_time_order(lines, "f")
    elif all(jsonl._line_key(raw) is not jsonl._PARSE and isinstance(jsonl.parse_line(raw, first=n == 1), dict)
             for n, raw in enumerate(lines, 1)):
        assert not in_time_order(lines, "f")  # every line an object read without parsing: the same answer


def test_a_refused_line_out_of_order_does_not_make_the_file_judged_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A line that reads as going back in time but is refused (a number JSON does not allow): the quick look
    # finds the file out of order, the events are in order all the same: judged in chunks, as before.
    lines = simulated(tmp_path)
    late = json.loads(lines[50])
    lines.insert(200, json.dumps({"id": "zz-late", "time": late["time"], "n": 1}).replace("1}", "NaN}"))
    raw = [line.encode() for line in lines]
    assert not jsonl.surely_in_time_order(raw) and in_time_order(raw, "sim")
    calls: list[int] = []
    record_many = Engine.record_many

    def counted(self: Engine, docs: list[dict[str, object]], **kwargs: object) -> object:
        calls.append(len(docs))
        return record_many(self, docs, **kwargs)

    monkeypatch.setattr(Engine, "record_many", counted)
    chunked = ingested(tmp_path, "chunked", lines + ["{not json"], 37, monkeypatch)
    assert len(calls) > 1  # judged a chunk at a time
    monkeypatch.setattr(Engine, "record_many", record_many)
    whole = ingested(tmp_path, "whole", lines + ["{not json"], 10**6, monkeypatch)
    assert chunked == whole
    assert "FILE:201: not valid JSON" in whole[0] or "FILE:201: not accepted" in whole[0], whole[0]


def _chunks_as_written_before(lines: list[bytes], name: str, size: int | None,
                              ) -> list[tuple[list[jsonl.Line], list[BadLine]]]:
    """``chunks_of_events`` as it was written before it read the lines itself: ``read_events``, then
    ``_order_key`` and ``max`` for each event (what it must still give): each chunk's lines and refusals."""
    out = []
    parsed: list[jsonl.Line] = []
    bad: list[BadLine] = []
    last = None
    for found in jsonl.read_events(lines, name):
        if isinstance(found, BadLine):
            bad.append(found)
            continue
        key = jsonl._order_key(found.doc)
        if size is not None and len(parsed) >= size and (
                key is None or last is None or key[0] > last + jsonl.DECIDED_WITH):
            out.append((parsed, bad))
            parsed, bad, last = [], [], None
        parsed.append(found)
        if key is not None:
            last = key[0] if last is None else max(last, key[0])
    if parsed or bad:
        out.append((parsed, bad))
    return out


# A time one microsecond after another (``DECIDED_WITH``), the same instant in another zone, an earlier one
_near_times = st.sampled_from(["2025-01-01T08:00:00+08:00", "2025-01-01T00:00:00+00:00", "2025-01-01T08:00:00.000001+08:00",
                               "2025-01-01T08:00:00.000002+08:00", "2025-01-01T07:00:00+08:00", "2025-01-01T08:00:00",
                               "no time"])


@st.composite
def _file_lines(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(_event_lines())
    if kind == 1:
        return draw(st.sampled_from([b"\n", b"  \r\n", b"[1]\n", b"{\n", b"\xff\n", b'{"time": 5, "id": "a"}\n',
                                     b'{"time": "2025-01-01T08:00:00+08:00", "id": 7}\n', b"{}\n"]))
    doc = {"id": draw(st.sampled_from(["a", "b", "c"])), "time": draw(_near_times)}
    if draw(st.booleans()):
        doc = dict(reversed(doc.items()))
    return json.dumps(doc).encode() + b"\n"


@settings(max_examples=500, deadline=None)
@given(st.lists(_file_lines(), max_size=14), st.sampled_from([None, 1, 2, 3, 5]))
def test_chunks_are_those_read_events_and_order_keys_give(lines: list[bytes], size: int | None) -> None:
    """``chunks_of_events`` reads the lines itself: the same chunks, lines, labels, refusals and cuts as
    ``read_events`` with ``_order_key`` give (times a microsecond apart, the same instant in two zones,
    times without a zone or that are no time, ids that are not texts, lines refused, blank or with a BOM)."""
    for cache in (jsonl._WHEN, jsonl._WHEN_BYTES):
        cache.clear()
    found = list(chunks_of_events(lines, "f", size))
    jsonl._WHEN.clear()
    expected = _chunks_as_written_before(lines, "f", size)
    assert [(c.lines, c.bad) for c in found] == expected
    assert all(type(line) is jsonl.Line for c in found for line in c.lines)
    assert [repr(line) for c in found for line in c.lines] == [repr(line) for lines, _ in expected for line in lines]
    # (what ``gridcore ingest`` reads of a chunk: its documents, and the labels of those refused)
    assert [(c.docs, list(c.labels)) for c in found] == [([line.doc for line in lines], [line.label for line in lines])
                                                         for lines, _ in expected]
