"""Plain JSON values from the engine's frozen answers (attrs classes, times, exact numbers).

Exact numbers stay exact: a ``Fraction`` or ``Decimal`` becomes a string
(``"7/3"``, ``"12.50"``) rather than a rounded float; whole numbers stay
integers.  Times are ISO 8601 with their zone; durations are seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from gridcore.errors import chinese_first, chinese_first_line, chinese_of
from gridcore.explain import Explanation, RuleRef
from gridcore.reports import Table


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, RuleRef):
        return {"rule": str(value), "file": value.name, "line": value.line, "text": value.text.strip()}
    if isinstance(value, Explanation):
        return explanation(value)
    if isinstance(value, Table):
        return table(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [plain(v) for v in items]
    if attrs.has(type(value)):
        return {a.name: plain(getattr(value, a.name)) for a in attrs.fields(type(value)) if not a.name.startswith("_")}
    return str(value)


def explanation(answer: Explanation) -> dict[str, Any]:
    """An explanation: the decision, its summary, the rules (file:line and text), inputs, result."""
    return {
        "decision": answer.decision,
        "summary": answer.summary,
        "rules": [plain(rule) for rule in answer.rules],
        "inputs": plain(answer.inputs),
        "result": plain(answer.result),
    }


def explanation_zh(english: Explanation, chinese: Explanation) -> dict[str, Any]:
    """An explanation for a request in Chinese: the summary Chinese first (``gridcore --lang zh explain``'s),
    ``labels`` each input's Chinese heading (``成员（member）``) by its key; the decision, rules, inputs (their
    keys and values) and result as they are."""
    summary = chinese_first(chinese.summary) if chinese_of(chinese.summary) else chinese_first_line(chinese.summary)
    return {**explanation(english), "summary": summary,
            "labels": dict(zip(english.inputs, chinese.inputs, strict=True))}


#: The columns of a report's rows that hold sentences staff read (a subsidy's ``detail``, a points entry's
#: ``what``, a breakdown's ``note``, a reward's ``limit_per_member``): for a request in Chinese, as the report
#: says them in Chinese (``Report.chinese``); every other cell (ids, values, amounts) as it is.
SAID = ("detail", "what", "note", "limit_per_member")


def table(result: Table, lang: str = "en", details: Table | None = None) -> dict[str, Any]:
    """A report table as ``{title, columns, rows: [{column: value}], notes}``; for ``lang="zh"`` its title and
    notes in Chinese and ``headings``, each column's Chinese by its id, the rows as they are but their
    sentences (the columns of ``SAID``: ``detail``, ``what`` ...), what staff read, taken from ``details``, the
    table as the report builds it in Chinese (when its rows are the same rows)."""
    if lang == "zh":
        doc = {**table(result), "title": result.title_zh or chinese_first_line(result.title),
               "headings": {c: result.heading(c) for c in result.columns},
               "notes": [chinese_first_line(note) for note in result.notes]}
        said = {c: details.columns.index(c) for c in SAID if c in result.columns and c in details.columns} \
            if details is not None and len(details.rows) == len(result.rows) else {}
        if details is not None and said:
            doc["rows"] = [{**row, **{c: plain(zh[at]) for c, at in said.items()}}
                           for row, zh in zip(doc["rows"], details.rows, strict=True)]
        return doc
    return {
        "title": result.title,
        "columns": list(result.columns),
        "rows": [{c: plain(v) for c, v in zip(result.columns, row)} for row in result.rows],
        "notes": list(result.notes),
    }
