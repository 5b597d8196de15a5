"""The tasks plugin writes and reads a task by hand (``dump_task``, ``load_task``): the same documents and the
same tasks as cattrs' functions for ``Task``, without cattrs generating them in every process that settles one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import converter_asked
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore_tasks import checkpoint
from gridcore_tasks.records import Assignment, Task

texts = st.text(max_size=6)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3))]))
assignments = st.builds(Assignment, texts, texts, st.none() | times, st.none() | texts, st.none() | texts,
                        st.integers(0, 10**6), texts, st.booleans())
tasks = st.builds(Task, texts, texts, texts, texts, texts, times, times, st.booleans(),
                  st.lists(texts, max_size=3).map(tuple), texts, st.dictionaries(texts, assignments, max_size=3),
                  st.none() | times, st.none() | texts, texts)


@settings(max_examples=300, deadline=None)
@given(tasks)
def test_a_task_is_written_and_read_as_cattrs_writes_and_reads_it(task: Task) -> None:
    converter = checkpoint._converter
    written = checkpoint.dump_task(task)
    assert repr(written) == repr(converter.unstructure(task))  # (types too: a list, not a tuple)
    read = checkpoint.load_task(written)
    assert read == task
    assert repr(read) == repr(converter.structure(written, Task))
    assert read.assigned.tzinfo is converter.structure(written, Task).assigned.tzinfo  # (``read_time``'s zones)


def _document() -> dict[str, Any]:
    when = datetime(2025, 3, 1, 9, tzinfo=timezone(timedelta(hours=8)))
    return checkpoint.dump_task(Task("t1", "sweep", "门前三包", "n1", "leader", when, when + timedelta(days=2), True,
                                     ("grid_worker",), "e1", {"m1": Assignment("m1", "c1")}))


@pytest.mark.parametrize("change", [
    lambda d: d.update(found=1),  # (a field no task has: cattrs leaves it out)
    lambda d: d.pop("reason"),  # (a field left out: cattrs takes its default)
    lambda d: d.update(title=5),  # (a number where a text is: cattrs makes it a text)
    lambda d: d.update(roles=["a", 2]),
    lambda d: d.update(deadline_given=1),
    lambda d: d.update(assigned="not a time"),
    lambda d: d.update(cancelled="2025-13-01"),
    lambda d: d["assignments"]["m1"].update(found="3"),
    lambda d: d["assignments"]["m1"].update(completed="yesterday"),
    lambda d: d["assignments"]["m1"].pop("overdue"),
    lambda d: d.update(assignments={"m1": None}),
    lambda d: d.update(assignments=[]),
    lambda d: d.pop("id"),
])
def test_a_document_of_another_shape_is_read_by_cattrs(change: Any) -> None:
    document = _document()
    change(document)
    try:
        expected: Any = checkpoint._converter.structure(document, Task)
    except Exception:  # noqa: BLE001 - refused: load_task says so as before
        with pytest.raises(ValueError, match="unreadable task"):
            checkpoint.load_task(document)
        return
    assert repr(checkpoint.load_task(document)) == repr(expected)


def test_a_plain_task_is_written_and_read_without_cattrs_functions_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No function of cattrs' is asked for (cattrs generates those for ``Task`` the first time)."""
    asked = converter_asked(monkeypatch, checkpoint)
    document = _document()
    assert document["assigned"] == "2025-03-01T09:00:00+08:00" and document["roles"] == ["grid_worker"]
    assert checkpoint.load_task(document).assignments["m1"] == Assignment("m1", "c1")
    assert asked == []
