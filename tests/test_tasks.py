"""Tasks (专项任务) through the engine: assignment, completion, what falls overdue, metrics, reports, checkpoints."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from conftest import START, small_community
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridcore_tasks
from gridcore import Engine, EventRefused, FixedClock, UnknownNameError
from gridcore.events import Event
from gridcore_tasks import TaskAssigned, TaskCancelled, TaskCompleted, TaskOverdue

RULES = """\
ruleset "tasks-test"
levels: community > grid > unit

tasks:
  task sweep: within 3 days, by grid_leader, to fulltime_gridworker, professional_gridworker
  task census: by grid_leader or master_grid_leader
专项任务：
  任务 召集：限时 4 小时，由 网格长 下达，派给 居民
"""
DAY = timedelta(days=1)
DUE = START + 3 * DAY  # the sweep's deadline when assigned at START


@pytest.fixture
def make(tmp_path: Path) -> Callable[..., Engine]:
    engines: list[Engine] = []
    (tmp_path / "tasks.rules").write_text(RULES, encoding="utf-8")

    def open_one(store: str = "store", now: datetime = START + 30 * DAY) -> Engine:
        engine = Engine.open(store=str(tmp_path / store), community=small_community(),
                             ruleset=tmp_path / "tasks.rules", effective=START - DAY, clock=FixedClock(now))
        engines.append(engine)
        return engine

    yield open_one
    for engine in engines:
        engine.close()


def sweep(task: str = "t1", when: datetime = START, **kwargs: object) -> TaskAssigned:
    fields: dict[str, object] = {"id": f"{task}:a", "time": when, "actor": "leader1", "node": "g1", "task": task,
                                 "task_kind": "sweep", **kwargs}
    return TaskAssigned(**fields)  # type: ignore[arg-type]


def done(member: str, when: datetime, task: str = "t1", node: str = "u11", found: int = 0) -> TaskCompleted:
    return TaskCompleted(id=f"{task}:done:{member}:{when.isoformat()}", time=when, actor=member, node=node,
                         task=task, found=found)


def refused(engine: Engine, event: Event) -> str:
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    return str(caught.value)


def test_a_task_goes_to_the_roles_of_the_subtree_due_within_the_rules_time(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep(title="入户排查"))
    task = gridcore_tasks.task(engine, "t1")
    assert task.deadline == DUE and not task.deadline_given
    assert {m: a.cell for m, a in task.assignments.items()} == {"police1": "g1", "worker1": "g1"}
    # a deadline given with the assignment wins; roles given replace the rule's (by Chinese name too)
    engine.record(sweep("t2", deadline=START + 5 * DAY, roles=("居民",)))
    t2 = gridcore_tasks.task(engine, "t2")
    assert t2.deadline == START + 5 * DAY and t2.deadline_given
    assert {m: a.cell for m, a in t2.assignments.items()} == {"res1": "u11"}


def test_assignments_that_do_not_fit_are_refused_with_reasons(make: Callable[..., Engine]) -> None:
    engine = make()
    assert "unknown task kind 'swep' (the ruleset names: sweep, census, 召集)" in refused(
        engine, sweep(task_kind="swep"))
    assert "worker1 may not assign sweep at g1: only grid_leader at g1 or above may" in refused(
        engine, sweep(actor="worker1"))
    assert "has no deadline" in refused(engine, sweep(task_kind="census", roles=("fulltime_gridworker",)))
    assert "say to whom task t1 goes" in refused(engine, sweep(task_kind="census", deadline=DUE))
    assert "is not after the assignment" in refused(engine, sweep(deadline=START))
    assert "unknown role(s) 清洁工" in refused(engine, sweep(roles=("清洁工",)))
    assert "nobody holds building_leader at or above g2" in refused(
        engine, sweep(node="g2", actor="leader1", roles=("building_leader",)))
    engine.record(sweep())
    assert "task 't1' was already assigned" in refused(engine, sweep(id="again", when=START + DAY))
    assert list(engine.events(kinds=["task_assigned"])) == [sweep()]


def test_an_assignee_completes_their_part_once_in_their_cells(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    engine.record(done("worker1", START + DAY, found=3))
    assert "res1 was not assigned task t1 (assigned: police1, worker1)" in refused(engine, done("res1", START + DAY))
    assert "worker1 already completed task t1" in refused(engine, done("worker1", START + 2 * DAY))
    assert "police1's part of task t1 is at g1, not u21" in refused(engine, done("police1", START + DAY, node="u21"))
    assert "unknown task 'nope'" in refused(engine, done("worker1", START + DAY, task="nope"))
    part = gridcore_tasks.task(engine, "t1").assignments["worker1"]
    assert (part.completed, part.completed_in, part.found) == (START + DAY, "u11", 3)


def test_at_the_deadline_every_open_part_falls_overdue_and_a_part_done_then_is_late(
        make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    engine.record(done("worker1", START + DAY))
    assert engine.tick(DUE - timedelta(seconds=1)) == []
    # the engine derives it at the deadline itself, before a completion recorded at that moment
    engine.record(done("police1", DUE))
    overdue = [e for e in engine.events(kinds=["task_overdue"])]
    assert overdue == [TaskOverdue(id="t1:overdue:police1", time=DUE, actor="system", node="g1", task="t1",
                                   member="police1")]
    progress = gridcore_tasks.progress(engine, "t1")
    assert progress.counts == {"done": 1, "late": 1, "overdue": 0, "open": 0, "cancelled": 0}
    assert progress.rate == 50
    assert engine.tick(DUE + 10 * DAY) == []  # nothing falls due twice


def test_a_task_overdue_cannot_come_from_outside(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    reason = refused(engine, TaskOverdue(id="x", time=START + DAY, actor="leader1", node="g1", task="t1",
                                         member="worker1"))
    assert "task_overdue is derived by the engine" in reason


def test_a_cancelled_task_falls_due_for_nobody(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    assert "worker1 may not cancel task t1" in refused(
        engine, TaskCancelled(id="c0", time=START + DAY, actor="worker1", node="g1", task="t1"))
    engine.record(TaskCancelled(id="c1", time=START + DAY, actor="leader1", node="g1", task="t1", reason="台风"))
    assert engine.tick(DUE + DAY) == []
    assert "task t1 was cancelled" in refused(engine, done("worker1", START + 2 * DAY))
    assert gridcore_tasks.progress(engine, "t1").rate is None
    assert engine.metric("task_completion", "g1", START, START + 30 * DAY) is None


def test_completion_rate_and_missed_parts_per_cell(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    engine.record(sweep("call", task_kind="召集"))  # to the residents of g1: res1 in u11
    engine.record_many([done("worker1", START + DAY), done("res1", START + timedelta(hours=1), task="call")])
    engine.tick(DUE + DAY)
    month = (START, START + 31 * DAY)
    g1 = engine.metric("task_completion", "g1", *month)
    assert g1 is not None and g1.value == Fraction(200, 3)  # worker1 and res1 on time, police1 missed
    assert (g1.inputs["missed"], g1.inputs["not done"]) == ("t1:police1", 1)
    u11 = engine.metric("task_completion", "u11", *month)  # only res1's part is for unit u11
    assert u11 is not None and u11.value == 100
    assert engine.metric("task_completion", "g2", *month) is None  # nothing was due there
    assert engine.metric("overdue_tasks", "yq", *month).value == 1  # type: ignore[union-attr]
    # a task counts in the period it falls due in
    assert engine.metric("task_completion", "g1", DUE + DAY, DUE + 30 * DAY) is None


def test_reports_and_explanations_say_who_did_what(make: Callable[..., Engine]) -> None:
    engine = make(now=DUE + DAY)
    engine.record(sweep(title="汛期排查"))
    engine.record(done("worker1", START + DAY, found=2))
    engine.tick(DUE + DAY)
    listed = json.loads(engine.report("tasks.list", {"period": "2025-03"}).render("json"))["rows"]
    assert [(r["task"], r["done"], r["overdue"], r["on time %"]) for r in listed] == [("t1", 1, 1, 50)]
    shown = engine.report("tasks.task", {"task": "t1"}).render("text")
    assert "逾期未完成" in shown and "按时完成" in shown and "汛期排查" in shown
    overdue = json.loads(engine.report("tasks.overdue").render("json"))["rows"]
    assert [(r["member"], r["overdue by"]) for r in overdue] == [("police1", "1d 0h")]
    why = engine.explain("tasks:t1:police1")
    assert why.result == "overdue" and str(why.rules[0]).endswith("tasks.rules:5")
    assert "assigned + the 'within' of" in str(why.inputs["deadline"])
    assert engine.explain("tasks:t1").result == 1
    with pytest.raises(UnknownNameError, match="did you mean t1"):
        gridcore_tasks.task(engine, "t2")


def test_a_completion_recorded_late_but_dated_before_the_deadline_is_on_time(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record(sweep())
    engine.tick(DUE + DAY)  # both parts fell overdue
    engine.record(done("worker1", START + DAY))  # the paper form arrives late: judged at its own time
    assert gridcore_tasks.progress(engine, "t1").counts["done"] == 1
    assert gridcore_tasks.overdue(engine) == [(gridcore_tasks.task(engine, "t1"),
                                               gridcore_tasks.task(engine, "t1").assignments["police1"])]


def test_reopening_from_a_checkpoint_gives_the_state_a_replay_gives(make: Callable[..., Engine]) -> None:
    engine = make()
    engine.record_many([sweep(), sweep("t2", when=START + DAY), done("worker1", START + DAY)])
    engine.tick(DUE + DAY)
    engine.record(TaskCancelled(id="c", time=DUE + DAY, actor="leader1", node="g1", task="t2", reason="改期"))
    assert engine.checkpoint()
    saved = engine.hooks.save_state(engine, engine.state("tasks"))
    engine.close()
    again = make()
    assert again.hooks.save_state(again, again.state("tasks")) == saved
    again.rebuild()
    assert again.hooks.save_state(again, again.state("tasks")) == saved
    assert gridcore_tasks.task(again, "t2").reason == "改期"


def test_a_periods_tasks_are_those_due_in_it_whether_recorded_or_restored(make: Callable[..., Engine]) -> None:
    engine = make()
    # deadlines out of the order of assignment, two the same, one given with the assignment
    engine.record_many([sweep("t3", when=START + 2 * DAY), sweep("t1"), sweep("t2", when=START + 2 * DAY),
                        sweep("t0", when=START + DAY, deadline=START + DAY + timedelta(hours=1))])
    every = [(t.deadline, t.id) for t in gridcore_tasks.tasks(engine)]
    bounds = [None, START, START + DAY + timedelta(hours=1), DUE, DUE + DAY, DUE + 2 * DAY, DUE + 3 * DAY]

    def by_walking(start: datetime | None, end: datetime | None) -> list[str]:
        return [i for d, i in sorted(every) if (start is None or d >= start) and (end is None or d < end)]

    def same(engine: Engine) -> None:
        for start, end in itertools.product(bounds, bounds):
            assert [t.id for t in gridcore_tasks.tasks(engine, start=start, end=end)] == by_walking(start, end)
        assert [t.id for t in gridcore_tasks.tasks(engine, start=DUE + 2 * DAY, end=DUE + 3 * DAY)] == ["t2", "t3"]

    same(engine)
    assert engine.checkpoint()
    engine.close()
    same(make())


@pytest.mark.parametrize("chapter", [32, 1])
def test_settled_tasks_leave_the_state_and_are_read_back_equal(make: Callable[..., Engine],
                                                                monkeypatch: pytest.MonkeyPatch, chapter: int) -> None:
    monkeypatch.setattr("gridcore_tasks.archive.PART_SIZE", 1)  # each settled task in a part of its own
    monkeypatch.setattr("gridcore_tasks.archive.CHAPTER_PARTS", chapter)  # (1: the oldest stored parts in chapters)
    engine = make()
    engine.record_many([sweep(), sweep("t2", when=START + 8 * DAY), done("worker1", START + DAY)])
    engine.tick(DUE + DAY)  # police1's part of t1 falls overdue: t1 is settled, with a part not done
    engine.record(TaskCancelled(id="c", time=START + 9 * DAY, actor="leader1", node="g1", task="t2", reason="改期"))
    engine.record(sweep("t3", when=START + 20 * DAY))
    state = engine.state("tasks")
    every = {t.id: attrs.asdict(t) for t in gridcore_tasks.tasks(engine)}
    assert set(state.open) == {"t3"} and set(state.overdue) == {"t1"}  # t1, t2 archived
    assert engine.checkpoint()
    saved = engine.hooks.save_state(engine, state)
    assert [t["id"] for t in saved["tasks"]] == ["t3"] and "t2" not in json.dumps(saved)
    engine.close()
    again = make()
    assert again.hooks.save_state(again, again.state("tasks")) == saved
    assert {t.id: attrs.asdict(t) for t in gridcore_tasks.tasks(again)} == every
    assert [t.id for t in gridcore_tasks.tasks(again, start=DUE, end=DUE + DAY)] == ["t1"]
    assert [(t.id, a.member) for t, a in gridcore_tasks.overdue(again)] == [
        ("t1", "police1"), ("t3", "police1"), ("t3", "worker1")]  # (t3's deadline is before the clock's now)
    overdue = again.tick(START + 30 * DAY)
    assert [(e.task, e.member) for e in overdue] == [("t3", "police1"), ("t3", "worker1")]
    again.record(done("police1", START + 24 * DAY, task="t3"))  # a late part still counts
    again.record(done("police1", START + 25 * DAY))  # ... on a settled task too: taken out and written again
    decoded = again.state("tasks")._decoded  # (t1 was judged on its decoded entry, now superseded: not kept)
    assert all(again.state("tasks").archive.names.locate(task.id) == where for where, task in decoded.items())
    assert gridcore_tasks.progress(again, "t3").counts["late"] == 1
    assert gridcore_tasks.progress(again, "t1").counts == {**dict.fromkeys(("done", "late", "overdue", "open",
                                                                             "cancelled"), 0), "done": 1, "late": 1}
    assert [(t.id, a.member) for t, a in gridcore_tasks.overdue(again)] == [("t3", "worker1")]
    assert "already completed" in refused(again, done("police1", START + 26 * DAY))
    assert "already assigned" in refused(again, sweep("t2", when=START + 27 * DAY, id="t2:again"))
    assert again.checkpoint()
    third = make()
    # as at an earlier time: police1's part of t1 was overdue until done (read from t1's stored part)
    assert [(t.id, a.member) for t, a in gridcore_tasks.overdue(third, now=START + 24 * DAY)] == [
        ("t1", "police1"), ("t3", "worker1")]
    assert [i for i, _ in third.hooks.save_state(third, third.state("tasks"))["overdue"]] == ["t3"]  # (not t1)
    # with chapters of one part, the checkpoint names only the newest stored part or two, and a summary
    # of each older one (each read back when a read reaches it)
    settled = third.hooks.save_state(third, third.state("tasks"))["settled"]
    assert len(settled["chapters"]) == (0 if chapter > 1 else third.state("tasks").archive.sealed_count - 1)


def test_a_settled_tasks_part_is_stored_with_the_next_batch_not_held_until_the_checkpoint(
        make: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """``gridcore_on_flush``: the tasks archive stores a part sealed while events are recorded with the
    batch that follows, before any checkpoint; the checkpoint names it as a replay's does."""
    monkeypatch.setattr("gridcore_tasks.archive.PART_SIZE", 1)  # each settled task in a part of its own
    engine = make()
    engine.checkpoint_min = engine.checkpoint_every = 10**9  # (no checkpoint before closing)
    engine.record_many([sweep(), sweep("t2", when=START + 8 * DAY), sweep("t3", when=START + 9 * DAY)])
    engine.record_many([TaskCancelled(id=f"c{n}", time=START + 10 * DAY, actor="leader1", node="g1", task=f"t{n}",
                                      reason="改期") for n in (1, 2)])
    assert list(engine.store.items("checkpoints")) == []
    archive = engine.state("tasks").archive
    # (t1 settled when its parts fell overdue, then written again when cancelled; then t2)
    assert not archive.waiting and len(archive.parts) == 3 and all(p.entries is None for p in archive.parts)
    assert sorted(key for key, _ in engine.store.items("tasks.settled")) == sorted(p.key for p in archive.parts)
    assert gridcore_tasks.progress(engine, "t1").counts["cancelled"] == 2  # (read back from its stored part)
    live = json.dumps(engine.hooks.save_state(engine, engine.state("tasks")), sort_keys=True)
    engine.rebuild()  # (a replay writes no batch: its parts are stored by the checkpoint)
    assert engine.state("tasks").archive.waiting
    assert json.dumps(engine.hooks.save_state(engine, engine.state("tasks")), sort_keys=True) == live


# ------------------------------------------------------------------ invariants

STORES = itertools.count()


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Event], list[tuple[list[Event], int]]]:
    """Two sweeps; completions at random hours (before and after the deadlines) arriving in random batches,
    each batch followed by a tick to a random hour (so overdue parts are derived, then some turn out done)."""
    completions: list[Event] = []
    for task, start in (("t1", START), ("t2", START + DAY)):
        for member in draw(st.lists(st.sampled_from(["worker1", "police1"]), unique=True)):
            completions.append(done(member, start + timedelta(hours=draw(st.integers(1, 120))), task=task))
    order = draw(st.permutations(completions))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(order) - 1)), max_size=3))))
    batches = [(order[a:b], draw(st.integers(0, 150))) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    return [sweep(), sweep("t2", when=START + DAY)], batches


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_any_order_and_batching_gives_the_same_tasks_and_every_part_one_status(
        make: Callable[..., Engine], history: tuple[list[Event], list[tuple[list[Event], int]]]) -> None:
    assigned, batches = history
    n = next(STORES)
    whole = make(store=f"whole-{n}")
    whole.record_many(assigned + [e for batch, _ in batches for e in batch])
    whole.tick(START + 30 * DAY)
    pieces = make(store=f"pieces-{n}")
    pieces.record_many(assigned)
    for batch, hours in batches:
        pieces.record_many(batch)
        pieces.tick(START + timedelta(hours=hours))
    pieces.tick(START + 30 * DAY)
    assert pieces.hooks.save_state(pieces, pieces.state("tasks")) == whole.hooks.save_state(
        whole, whole.state("tasks"))
    for task in gridcore_tasks.tasks(whole):
        for part in task.assignments.values():
            on_time = part.completed is not None and part.completed < task.deadline
            assert task.status(part, START + 30 * DAY) == ("done" if on_time else "late" if part.completed
                                                           else "overdue")
            assert part.overdue == (not on_time)  # missed at the deadline exactly when not done before it


@st.composite
def reused_histories(draw: st.DrawFn) -> list[tuple[list[Event], int]]:
    """Batches (each followed by a tick to a random hour) of two sweeps' assignments and completions in random
    order, so some come late or before their task is assigned, with ids reused: a task assigned again (dated
    before or after its assignment, under a new id), a completion of a task never assigned, one recorded
    again under its id (the same, or changed: a conflict), a part done twice."""
    events: list[Event] = [sweep(), sweep("t2", when=START + DAY)]
    for task, start in (("t1", START), ("t2", START + DAY)):
        for member in draw(st.lists(st.sampled_from(["worker1", "police1", "res1"]), max_size=3)):
            events.append(done(member, start + timedelta(hours=draw(st.integers(-12, 120))), task=task))
    for n, event in enumerate(draw(st.lists(st.sampled_from(list(events)), max_size=3))):
        shift = timedelta(hours=draw(st.integers(-48, 48)))
        how = draw(st.sampled_from(("new id", "same", "changed", "stranger")))
        if how == "same":
            events.append(event)
        elif how == "changed":
            events.append(attrs.evolve(event, time=event.time + shift))
        elif how == "new id":
            events.append(attrs.evolve(event, id=f"again{n}", time=event.time + shift))
        else:
            events.append(attrs.evolve(event, id=f"stranger{n}", task="t9"))
    order = draw(st.permutations(events))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(order) - 1), max_size=4))))
    return [(order[a:b], draw(st.integers(0, 150))) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=reused_histories())
def test_late_and_reused_task_ids_are_refused_with_reasons_and_replay_the_same(
        make: Callable[..., Engine], history: list[tuple[list[Event], int]]) -> None:
    """Recorded one at a time with ticks between: nothing raises but a refusal, which says why and changes
    nothing; reopened (the checkpoint and the rest) and replayed in full, the tasks are the same; every part
    has one status."""
    n = next(STORES)
    engine = make(store=f"reused-{n}")

    def saved(engine: Engine) -> str:
        return json.dumps(engine.hooks.save_state(engine, engine.state("tasks")), sort_keys=True)

    for batch, hours in history:
        for event in batch:
            engine.tick(event.time)  # (what fell due by its time is recorded first, refused or not)
            before = (saved(engine), engine.position)
            try:
                engine.record(event)
            except EventRefused as refusal:
                assert refusal.reasons and all(refusal.reasons)
                assert (saved(engine), engine.position) == before, (event, refusal.reasons)
        engine.tick(START + timedelta(hours=hours))
    engine.tick(START + 30 * DAY)
    live = saved(engine)
    engine.close()
    again = make(store=f"reused-{n}")
    assert saved(again) == live
    again.rebuild()
    assert saved(again) == live
    for task in gridcore_tasks.tasks(again):
        for part in task.assignments.values():
            on_time = part.completed is not None and part.completed < task.deadline
            assert task.status(part, START + 30 * DAY) == ("done" if on_time else "late" if part.completed
                                                           else "overdue")
