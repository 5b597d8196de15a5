"""Hostile and careless lines: each is refused by line number, the good lines around it are stored.

Also the JSON-lines reader under hypothesis: whatever bytes a line holds, it
is parsed or refused with a reason, never raised, and never costs another line.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcore import Engine, EventError, FixedClock, get_plugin_manager
from gridcore.events import ActivityRecorded
from gridcore.limits import MAX_DEPTH, MAX_LINE_BYTES, MAX_NAME_CHARS, MAX_TEXT_CHARS
from gridcore_app import jsonl
from gridcore_app.cli import main_group
from gridcore_app.jsonl import BadLine, Line, bounded_lines, parse_line, read_events

MINI = REPO / "tests" / "data" / "community-mini"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def patrol(n: int, **extra: object) -> str:
    doc = {"id": f"p{n:05d}", "kind": "patrol_logged", "time": (START + timedelta(minutes=n)).isoformat(),
           "actor": "m03", "node": "g1", "minutes": 30, **extra}
    return json.dumps(doc, ensure_ascii=False)


HOSTILE = {
    "a lone surrogate": lambda: patrol(90001)[:-1] + ', "note": "\\ud800"}',
    "100,000-deep nesting": lambda: "[" * 100_000 + "]" * 100_000,
    "20,000-deep nesting within the line limit": lambda: "[" * 20_000 + "]" * 20_000,
    "a 5,000-digit number": lambda: patrol(90002).replace('"minutes": 30', '"minutes": ' + "9" * 5000),
    "a 10 MB note": lambda: patrol(90003, note="巡" * 3_500_000),
    "a 1 MB id": lambda: patrol(90004).replace('"p90004"', json.dumps("x" * 1_000_000)),
    "a 300-character actor": lambda: patrol(90005, actor="m" * 300),
    "a 5,000-character note": lambda: patrol(90006, note="记" * 5000),
    "NaN": lambda: patrol(90007).replace('"minutes": 30', '"minutes": NaN'),
    "a number too large for a float": lambda: patrol(90008).replace('"minutes": 30', '"minutes": 1e999'),
    "a 40-digit fraction": lambda: patrol(90009).replace('"minutes": 30', '"minutes": 30.' + "5" * 40),
}


def test_hostile_lines_are_refused_by_number_and_the_good_lines_stored(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert run("init", "--community", str(MINI), "--store", store)[0] == 0
    lines = [patrol(n) for n in range(3000)]
    where = {}
    for k, (name, make) in enumerate(HOSTILE.items()):
        at = 300 * k + 7
        lines.insert(at, make())
        where[name] = at + 1
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    code, out, err = run("ingest", str(events), "--store", store, "--quiet")
    assert code == 1
    assert "Traceback" not in out + err
    assert out.startswith(f"3000 stored, 0 already stored, 0 derived, {len(HOSTILE)} refused")
    for name, number in where.items():
        assert f"refused events.jsonl:{number}: " in err, name
    refused = {line.split(": ", 1)[0].removeprefix("  refused "): line for line in err.splitlines()}
    assert "surrogate" in refused[f"events.jsonl:{where['a lone surrogate']}"]
    assert "nested deeper" in refused[f"events.jsonl:{where['20,000-deep nesting within the line limit']}"]
    assert "line too long" in refused[f"events.jsonl:{where['100,000-deep nesting']}"]
    assert "5,000 characters" in refused[f"events.jsonl:{where['a 5,000-digit number']}"]
    assert "not accepted: the number 1e999 is too large (数字太大，不被接受)" in refused[f"events.jsonl:{where['a number too large for a float']}"]
    assert "a number with 43 characters" in refused[f"events.jsonl:{where['a 40-digit fraction']}"]
    assert "line too long" in refused[f"events.jsonl:{where['a 10 MB note']}"]
    assert "line too long" in refused[f"events.jsonl:{where['a 1 MB id']}"]
    assert f"actor: text too long (300 characters; at most {MAX_NAME_CHARS})" in \
        refused[f"events.jsonl:{where['a 300-character actor']}"]
    assert f"note: text too long (5,000 characters; at most {MAX_TEXT_CHARS:,})" in \
        refused[f"events.jsonl:{where['a 5,000-character note']}"]
    # Ingesting the same file again stores nothing new and refuses the same lines.
    code, out, _ = run("ingest", str(events), "--store", store, "--quiet")
    assert out.startswith(f"0 stored, 3000 already stored, 0 derived, {len(HOSTILE)} refused")


def engine_on(tmp_path: Path) -> Engine:
    return Engine.open(store=str(tmp_path / "store"), community=MINI, clock=FixedClock(START),
                       plugins=get_plugin_manager(("points", "escalation", "assessment")))


def test_an_event_built_in_python_is_held_to_the_same_limits(tmp_path: Path) -> None:
    with engine_on(tmp_path) as engine:
        good = ActivityRecorded(id="a1", time=START, actor="m03", node="g1", activity="清扫")
        bad = ActivityRecorded(id="a2", time=START, actor="m03", node="g1", activity="清扫", note="\udfff")
        long = ActivityRecorded(id="a3", time=START, actor="m03", node="g1", activity="清" * 201)
        summary = engine.record_many([good, bad, long])
        assert summary.accepted == 1
        assert [(r.event_id, r.malformed) for r in summary.refused] == [("a2", True), ("a3", True)]
        assert "lone surrogate \\udfff" in summary.refused[0].reasons[0]
        assert "activity: text too long (201 characters" in summary.refused[1].reasons[0]
        with pytest.raises(EventError, match="surrogate"):
            engine.record(bad)
        assert engine.store.count() == 1


def test_a_refused_document_is_named_safely(tmp_path: Path) -> None:
    with engine_on(tmp_path) as engine:
        doc = json.loads(patrol(1))
        summary = engine.record_many([doc | {"id": "x" * 5000}, doc | {"id": "\ud800"}, doc | {"note": [[[[[[[[[1]]]]]]]]]}])
        assert [r.event_id for r in summary.refused] == ["#1", "#2", "p00001"]
        assert "nested deeper than 8 levels" in summary.refused[2].reasons[0]


# ---------------------------------------------------------------- the reader under hypothesis

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
near_events = st.builds(
    lambda n, key, value: {**json.loads(patrol(n)), key: value},
    st.integers(min_value=0, max_value=50),
    st.sampled_from(["id", "kind", "time", "actor", "node", "note", "minutes", "visits", "extra"]),
    json_values,
).map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass"))
hostile_lines = st.one_of(
    near_events,
    st.integers(min_value=0, max_value=50).map(lambda n: patrol(n).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["id", "kind", "time", "actor", "node", "note", "minutes", "x"]),
                    json_values, max_size=8).map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=200).map(lambda n: b'{"n": ' + b"7" * n + b"}"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(hostile_lines.map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")), max_size=12))
def test_every_line_is_parsed_or_refused_on_its_own(lines: list[bytes]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    found = list(read_events(bounded_lines(io.BytesIO(data)), "f.jsonl"))
    numbers = [int(item.label.rsplit(":", 1)[1]) for item in found]
    expected = [n for n, line in enumerate(lines, 1)
                if (line.removeprefix(b"\xef\xbb\xbf") if n == 1 else line).strip(b" \t\r\n")]
    assert numbers == expected
    for item in found:
        line = lines[int(item.label.rsplit(":", 1)[1]) - 1]
        if isinstance(item, Line):
            assert isinstance(item.doc, dict)
            assert item.doc == json.loads(line.decode("utf-8-sig"))
            assert len(line) <= MAX_LINE_BYTES
        else:
            assert isinstance(item, BadLine) and item.reason


def parse_line_as_written(raw: bytes, *, first: bool = False) -> dict[str, object] | str | None:
    """``parse_line`` as it was first written (every line through ``JSONDecoder.decode``, whitespace matched
    around it), for the reader's quicker path to be held to."""
    if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
        return f"line too long (more than {MAX_LINE_BYTES:,} bytes) (这一行太长)"
    try:
        line = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text (save the file as UTF-8) (不是 UTF-8 文本，请以 UTF-8 编码保存文件)"
    if not line.strip(" \t\r\n"):
        return None
    try:
        if line.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
        doc = jsonl._DECODER.decode(line)
    except jsonl._Refused as exc:
        return str(exc)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno}) (不是有效的 JSON)"
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)"
    if not isinstance(doc, dict):
        return f"an event must be a JSON object {{...}}, got {type(doc).__name__} (事件须为 JSON 对象)"
    if jsonl._depth(doc) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)"
    return doc


#: lines as they end in a file, and other things after an object
line_ends = st.sampled_from([b"", b"\n", b"\r\n", b"\r", b" \n", b"\t", b" x", b"}", b",{}", b"\n\n", b"\r\r\n"])


@settings(max_examples=500, deadline=None)
@given(hostile_lines | st.integers(1, 40).map(lambda n: b'{"a": ' + b"[" * n + b"]" * n + b"}"), line_ends,
       st.sampled_from([b"", b" ", b"\xef\xbb\xbf", b"\t"]), st.booleans())
def test_the_reader_parses_and_refuses_as_json_decode_does(line: bytes, end: bytes, before: bytes, first: bool) -> None:
    """``parse_line`` scans an event's line without the whitespace matches around it: the same document
    or the same reason as decoding every line whole."""
    raw = before + line + end
    assert parse_line(raw, first=first) == parse_line_as_written(raw, first=first)


def test_the_order_of_a_line_is_its_time_and_id() -> None:
    """``_order_key`` remembers the time each text is (``_WHEN``, emptied when full): the same keys."""
    from datetime import datetime

    texts = ["2025-03-01T09:00:00+08:00", "2025-03-01T01:00:00+00:00", "2025-03-01T09:00:00", "no time",
             "2025-03-01T09:00:00.25-05:00", "2025-03-01T09:00:00+08:00", "2025-02-30T09:00:00+08:00"] * 3
    was = jsonl._MOST_WHEN
    jsonl._MOST_WHEN = 2
    jsonl._WHEN.clear()
    try:
        for n, text in enumerate(texts):
            doc = {"time": text, "id": f"e{n}"}
            try:
                when: datetime | None = datetime.fromisoformat(text)
            except ValueError:
                when = None
            expected = None if when is None or when.tzinfo is None else (when, f"e{n}")
            assert jsonl._order_key(doc) == expected
            assert len(jsonl._WHEN) <= 2
        assert jsonl._order_key({"time": 5, "id": "x"}) is None and jsonl._order_key({"time": texts[0]}) is None
    finally:
        jsonl._MOST_WHEN = was
        jsonl._WHEN.clear()


def nested(depth: int, inner: object) -> object:
    """``inner`` inside ``depth`` alternating objects and lists (depth 1: ``{"k": inner}``)."""
    value = inner
    for level in range(depth):
        value = {"k": value} if level % 2 == 0 else [value]
    return value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_DEPTH + 3), st.text(alphabet="{[]}\"x", max_size=20),
       st.booleans())
def test_depth_is_refused_exactly_past_the_limit_whatever_brackets_strings_hold(
        depth: int, text: str, bom: bool) -> None:
    # the reader skips walking a line with few brackets: brackets inside strings must not fool it
    doc = {"id": "x", "n": nested(depth - 1, text)} if depth > 1 else {"id": "x", "n": text}
    line = ("\ufeff" if bom else "") + json.dumps(doc, ensure_ascii=False)
    found = parse_line(line.encode(), first=False)
    if bom:
        assert found == "not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1) (不是有效的 JSON)"
    elif depth > MAX_DEPTH:
        assert found == f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)"
    else:
        assert found == doc
    assert parse_line(line.encode("utf-8"), first=True) == (
        doc if depth <= MAX_DEPTH else f"nested deeper than {MAX_DEPTH} levels (嵌套层数过多)")


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = engine_on(tmp_path_factory.mktemp("fuzz"))
    yield engine
    engine.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(hostile_lines.map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")), max_size=8))
def test_whatever_the_lines_hold_ingest_refuses_or_stores_each(fuzz_engine: Engine, lines: list[bytes]) -> None:
    found = list(read_events(lines, "f.jsonl"))
    docs = [item.doc for item in found if isinstance(item, Line)]
    before = fuzz_engine.store.count()
    summary = fuzz_engine.record_many(docs)  # never raises: every document is stored or refused
    assert summary.accepted + summary.duplicates + len(summary.refused) == len(docs)
    assert fuzz_engine.store.count() == before + summary.accepted + summary.derived
