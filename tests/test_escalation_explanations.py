"""The escalation plugin writes and reads an explanation by hand (``dump_explanation``, ``load_explanation``):
the same documents and the same explanations as cattrs' functions for ``Explanation``, without cattrs
generating them in every process that decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import converter_asked
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import Explanation, RuleRef
from gridcore_escalation import checkpoint

plain = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
others = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    st.lists(plain, max_size=3).map(tuple),
    st.frozensets(st.integers(), max_size=3),
)
values = st.recursive(st.one_of(plain, others), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=6)
rules = st.builds(RuleRef, st.text(max_size=12), st.integers(0, 9999), st.integers(1, 99), st.text(max_size=12))
explanations = st.builds(Explanation, st.text(max_size=10), st.text(max_size=10),
                         st.lists(rules, max_size=3).map(tuple),
                         st.dictionaries(st.text(max_size=6), values, max_size=4), values)


@settings(max_examples=300, deadline=None)
@given(explanations)
def test_an_explanation_is_written_and_read_as_cattrs_writes_and_reads_it(explanation: Explanation) -> None:
    converter = checkpoint._converter
    written = checkpoint.dump_explanation(explanation)
    assert written == converter.unstructure(explanation, Explanation)
    assert repr(written) == repr(converter.unstructure(explanation, Explanation))  # (types too: a list, not a tuple)
    read = checkpoint.load_explanation(written)
    assert read == converter.structure(written, Explanation)
    assert repr(read) == repr(converter.structure(written, Explanation))


@pytest.mark.parametrize("document", [
    {"decision": 5, "summary": "s", "rules": [], "inputs": {}, "result": None},  # (a number where a text is)
    {"decision": "d", "summary": "s", "rules": [{"file": "f", "line": True, "column": 1, "text": ""}],
     "inputs": {}, "result": None},
    {"decision": "d", "summary": "s", "rules": [{"file": "f", "line": 3}], "inputs": {}, "result": 1},
    {"decision": "d", "summary": "s", "rules": [], "inputs": {1: "x"}, "result": None},
    {"decision": "d", "summary": "s", "rules": [], "inputs": {}},
])
def test_a_document_of_another_shape_is_read_by_cattrs(document: dict[str, Any]) -> None:
    converter = checkpoint._converter
    try:
        expected: Any = converter.structure(document, Explanation)
    except Exception as exc:  # noqa: BLE001 - the same refusal, whatever it is
        with pytest.raises(type(exc)):
            checkpoint.load_explanation(document)
        return
    assert repr(checkpoint.load_explanation(document)) == repr(expected)


def test_a_plain_explanation_is_written_and_read_without_cattrs_functions_for_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No function of cattrs' for ``Explanation`` is asked for (cattrs generates it the first time)."""
    asked = converter_asked(monkeypatch, checkpoint)
    explanation = Explanation("escalate", "over its limit", (RuleRef("/r/yinquan.rules", 12, 3, "x"),),
                              {"level": 2, "time": datetime(2025, 3, 1, 9, tzinfo=UTC), "span": timedelta(hours=4)},
                              "street")
    document = checkpoint.dump_explanation(explanation)
    assert document["inputs"] == {"level": 2, "time": "2025-03-01T09:00:00+00:00", "span": [0, 14400, 0]}
    assert checkpoint.load_explanation(document).rules == explanation.rules
    assert Explanation not in asked and RuleRef not in asked
