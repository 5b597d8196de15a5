"""A line read by orjson (``gridcore_app.jsonl.parse_line``'s quick path) is what the standard library reads.

The same object (every value of the same type, whole numbers kept whole), or,
for a line orjson does not take, the same reason it is refused; any line,
well formed or not.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.limits import MAX_DEPTH, MAX_NUMBER_CHARS
from gridcore_app import jsonl

pytest.importorskip("orjson")


def both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """``repr`` of what ``parse_line`` gives with orjson, and with the standard library alone."""
    quick = repr(jsonl.parse_line(raw))
    with monkeypatch.context() as patched:
        patched.setattr(jsonl, "_orjson_loads", None)
        plain = repr(jsonl.parse_line(raw))
    return quick, plain


numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.from_regex(r"-?(0|[1-9][0-9]{0,35})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,12})?", fullmatch=True),
)
texts = st.text(st.characters(codec="utf-8") | st.sampled_from(["\ud800", "\x00", "\t", "\u2028", "\ufeff"]),
                max_size=12)


def _number(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A line as files hold them: an object of texts, numbers (written any way JSON allows), nesting, ...;
    sometimes spoilt: a byte changed, cut short, a BOM, NaN, trailing text, not an object."""
    values = st.recursive(
        st.none() | st.booleans() | texts | numbers.map(lambda n: ("number", _number(n))),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
        max_leaves=8,
    )
    fields = draw(st.lists(st.tuples(texts, values), max_size=8))

    def write(value: object) -> str:
        if isinstance(value, tuple):
            return value[1]
        if isinstance(value, list):
            return "[" + ", ".join(write(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ",".join(f"{json.dumps(k, ensure_ascii=draw(st.booleans()))}:{write(v)}"
                                  for k, v in value.items()) + "}"
        return json.dumps(value, ensure_ascii=draw(st.booleans()))

    body = "{" + ", ".join(f"{json.dumps(k, ensure_ascii=draw(st.booleans()))}: {write(v)}"
                           for k, v in fields) + "}"
    raw = body.encode("utf-8", "surrogatepass") + draw(st.sampled_from([b"\n", b"", b"\r\n", b" \n", b"\t"]))
    spoil = draw(st.integers(0, 9))
    if spoil == 1 and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1:]
    elif spoil == 2:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif spoil == 3:
        raw = b"\xef\xbb\xbf" + raw
    elif spoil == 4:
        raw = raw.replace(b"}", b', "x": ' + draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999",
                                                                    b"01", b"1.", b"+1"])) + b"}", 1)
    elif spoil == 5:
        raw = raw.rstrip(b"\r\n") + draw(st.sampled_from([b" x", b"{}", b"\x0c", b"]"])) + b"\n"
    elif spoil == 6:
        raw = draw(st.sampled_from([b"[1, 2]\n", b'"text"\n', b"  \n", b"\n", b"12\n", b" {}\n"]))
    return raw


@settings(max_examples=200, deadline=None)
@given(lines())
def test_the_quick_path_reads_every_line_as_the_standard_library(raw: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        quick, plain = both(raw, monkeypatch)
    assert quick == plain


@pytest.mark.parametrize("raw", [
    b'{"n": 123456789012345678901234}\n',  # beyond 64 bits: orjson would make it a float
    b'{"n": -9223372036854775809}\n',
    b'{"n": 18446744073709551616}\n',
    b'{"n": 1.2345678901234567e-1000000000}\n',  # longer than MAX_NUMBER_CHARS: refused
    b'{"n": ' + b"1" * (MAX_NUMBER_CHARS + 1) + b"}\n",
    b'{"n": 1e999}\n',
    b'{"n": NaN}\n',
    b'{"s": "\\ud800"}\n',  # a lone surrogate, which orjson refuses and json reads
    b'{"s": "\xed\xa0\x80"}\n',  # not UTF-8
    b'\xef\xbb\xbf{"a": 1}\n',
    b'{"a": 1, "a": 2}\n',
    b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}\n",
    b'{"id": "e1", "time": "2025-01-01T08:00:00+08:00", "hours": 1.5, "n": 9223372036854775807}\n',
    b'{"n": 18446744073709551615, "m": -9223372036854775808, "s": "x"}\n',  # the widest whole numbers orjson keeps
    b'{"note": "' + b"{[" * MAX_DEPTH + b'", "n": 1, "f": true, "x": null}\n',  # brackets in texts only
    b'{"note": "' + b"{[" * MAX_DEPTH + b'", "hours": 1.5}\n',
    b'{"note": "' + b"{[" * MAX_DEPTH + b'", "n": ' + b"1" * (MAX_NUMBER_CHARS + 1) + b"}\n",
    b'{"a": {"b": ' + b"1" * 19 + b"}}\n",
])
def test_lines_orjson_would_read_otherwise(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    quick, plain = both(raw, monkeypatch)
    assert quick == plain


def test_an_event_line_is_read_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick path is taken for an event's line (not only the standard library's, answering alike)."""
    import orjson

    seen: list[bytes] = []

    def loads(raw: bytes) -> object:
        seen.append(raw)
        return orjson.loads(raw)

    monkeypatch.setattr(jsonl, "_orjson_loads", loads)
    raw = b'{"id": "e1", "time": "2025-01-01T08:00:00+08:00", "hours": 1.5, "kind": "activity_recorded"}\n'
    assert jsonl.parse_line(raw) == json.loads(raw)
    assert seen == [raw]


def test_a_line_of_plain_values_is_read_by_orjson_whatever_its_texts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """An object of texts, whole numbers, flags and nulls is taken from orjson even when its texts hold more
    brackets than the nesting allows (the bytes' count would have sent it to the standard library)."""
    import orjson

    seen: list[bytes] = []

    def loads(raw: bytes) -> object:
        seen.append(raw)
        return orjson.loads(raw)

    def refuse(*args: object) -> object:
        raise AssertionError("the standard library was asked")

    monkeypatch.setattr(jsonl, "_orjson_loads", loads)
    monkeypatch.setattr(jsonl, "_SCAN", refuse)
    monkeypatch.setattr(jsonl, "_DECODER", None)
    raw = (b'{"id": "e1", "time": "2025-01-01T08:00:00+08:00", "note": "' + b"{[" * MAX_DEPTH
           + b'", "minutes": 18446744073709551615, "done": false, "x": null, "kind": "patrol_logged"}\n')
    assert jsonl.parse_line(raw) == json.loads(raw)
    assert seen == [raw]
