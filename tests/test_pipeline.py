"""Ingest with the plugins in two processes (``record_many(..., workers=2)``, ``gridcore.pipeline``).

The same events ingested serially and with ``workers=2`` must leave exactly
the same store and state: the log in the same order, the same refusals with
the same reasons, the same derived events, every checkpoint document at the
same position, the same outcomes, explanations and saved states.  (The one
difference the pipeline allows: the upstream plugins' archive parts, content
addressed, may be written at the end of a call where the serial ingest
writes them at its next checkpoint; every document the serial ingest wrote is
there, the same.)  Checked on random slices of simulated days of 银泉社区 in
random chunks and orders (late events and all: those fall back to one
process), and on a small generated district over several calls with
checkpoints inside them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import runpy
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storefixtures import StoreFactory
from test_checkpoint_properties import (
    CLOCK,
    RULES,
    YINQUAN,
    community,
    day_of_events,
    plugins,
    snapshot,
)

import gridcore_escalation as esc
from gridcore import (
    EVERY_KIND,
    Engine,
    EventDependencies,
    FixedClock,
    IngestSummary,
    PluginError,
    get_plugin_manager,
    hookimpl,
)
from gridcore.codec import EventCodec
from gridcore.events import ActivityRecorded, PatrolLogged
from gridcore.pipeline import CORE_READS, plan
from gridcore.register import _ABOUT_IT
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import load_scenario, simulate
from gridcore_points import api as points

REPO = Path(__file__).resolve().parent.parent
#: collections holding the upstream plugins' archives (parts and the names of their entries)
ARCHIVES = ("escalation.", "tasks.")


def summary_of(summary: IngestSummary) -> tuple[Any, ...]:
    return (summary.accepted, summary.duplicates, summary.derived,
            [(r.event_id, r.reasons, r.source, r.malformed) for r in summary.refused])


def stored(url: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The log in order, the checkpoints collection, and every other document (by collection and key)."""
    from storefixtures import open_store

    store = open_store(url)
    try:
        log = [json.dumps(doc, sort_keys=True, default=str) for doc in store.events()]
        checkpoints = {key: json.dumps(doc, sort_keys=True) for key, doc in store.items("checkpoints")}
        others: dict[str, str] = {}
        for collection in ("points.ledger", "escalation.closed", "escalation.names", "tasks.settled",
                           "tasks.names", "assessment", "meta", "rulesets"):
            others.update({f"{collection}/{key}": json.dumps(doc, sort_keys=True)
                           for key, doc in store.items(collection)})
        return log, checkpoints, others
    finally:
        store.close()


def same_store(serial: str, parallel: str) -> None:
    log, checkpoints, others = stored(serial)
    log2, checkpoints2, others2 = stored(parallel)
    assert log2 == log
    assert checkpoints2 == checkpoints
    assert {k: v for k, v in others2.items() if k in others} == others
    assert all(k.startswith(ARCHIVES) for k in others2.keys() - others.keys())


# ---------------------------------------------------------------------------- the split


def test_the_built_in_plugins_split_into_a_pipeline(tmp_path: Path) -> None:
    """Escalation and tasks derive events: upstream; points and the assessment read every kind: downstream."""
    with Engine.open(store=f"sqlite:///{tmp_path}/s.db", community=community(), ruleset=RULES,
                     effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                     plugins=get_plugin_manager()) as engine:
        split = plan(engine)
        assert split is not None
        assert set(split.upstream) == {"escalation#state", "tasks#state"}
        assert {"points#state", "assessment#state"} <= set(split.downstream)
        assert not set(split.upstream) & set(split.downstream)


def test_the_core_reads_what_its_register_follows() -> None:
    assert {cls.kind for cls in _ABOUT_IT} <= CORE_READS


class Undeclared:
    """A plugin whose state follows the events but does not say which: the ingest stays in one process."""

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Any) -> None:
        pass


class PatrolJudge:
    """Refuses patrols, reads activities (declared under ``name``)."""

    def __init__(self, name: str, refuses: tuple[str, ...], reads: tuple[str, ...]) -> None:
        self.__name__ = name
        self.refuses, self.reads = refuses, reads

    @hookimpl
    def gridcore_event_dependencies(self) -> EventDependencies:
        return EventDependencies(self.__name__, refuses=self.refuses, reads=self.reads)

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Any) -> list[str] | None:
        return None


@pytest.mark.parametrize(("extra", "splits", "upstream"), [
    (Undeclared(), False, None),
    # refuses what escalation reads: it goes upstream with it
    (PatrolJudge("judge", ("incident_reported",), ()), True, "judge"),
    # refuses what points reads (every kind) and reads nothing: downstream
    (PatrolJudge("judge", (PatrolLogged.kind,), ()), True, None),
    # refuses what the core follows (a registration) downstream: no split
    (PatrolJudge("judge", ("resident_registered",), ()), False, None),
    # reads every kind and refuses activities: downstream, with points
    (PatrolJudge("judge", (ActivityRecorded.kind,), (EVERY_KIND,)), True, None),
])
def test_the_declarations_decide_the_split(tmp_path: Path, extra: object, splits: bool, upstream: str | None) -> None:
    with Engine.open(store=f"sqlite:///{tmp_path}/s.db", community=community(), ruleset=RULES,
                     effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                     plugins=get_plugin_manager(extra=[extra])) as engine:
        split = plan(engine)
        assert (split is not None) == splits
        if split is not None and upstream is not None:
            assert upstream in split.upstream
        elif split is not None:
            assert set(split.upstream) == {"escalation#state", "tasks#state"}


def test_a_plugin_declaring_a_string_of_kinds_is_told() -> None:
    with pytest.raises(TypeError, match="not a string"):
        EventDependencies("x", refuses="incident_reported")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- serial and parallel alike


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    seed = draw(st.integers(0, 50))
    events = day_of_events(seed)
    size = draw(st.integers(30, min(250, len(events))))
    start = draw(st.integers(0, len(events) - size))
    chosen = list(events[start:start + size])
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), min_size=0, max_size=3)))
    chunks = [chosen[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    # mostly in order (the pipeline's case), sometimes a chunk after a later one (late: one process)
    order = list(range(len(chunks))) if draw(st.integers(0, 3)) else draw(st.permutations(range(len(chunks))))
    steps = [{"events": chunks[n], "batch": draw(st.integers(3, 40)), "every": draw(st.integers(5, 60))}
             for n in order]
    registered = [e for e in events if type(e).__name__ == "ResidentRegistered"] if draw(st.booleans()) else []
    return {"steps": steps, "registered": registered}


def ingest(url: str, history: dict[str, Any], workers: int) -> tuple[list[tuple[Any, ...]], str, int]:
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as first:
        first.record_many(history["registered"])
    summaries, processes = [], 1
    engine = Engine.open(store=url, clock=FixedClock(CLOCK), plugins=plugins())
    try:
        for step in history["steps"]:
            engine.checkpoint_min = 1
            engine.checkpoint_every = step["every"]
            engine.checkpoint_share = 1  # every checkpoint those say, whatever it costs
            summary = engine.record_many(step["events"], batch_size=step["batch"], workers=workers)
            summaries.append(summary_of(summary))
            processes = max(processes, summary.processes)
        seen = snapshot(engine)  # the caller's engine, live, after the calls
    finally:
        engine.close()
    return summaries, seen, processes


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(history=histories())
def test_two_processes_ingest_exactly_as_one(history: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_points.history.PART_SIZE", 4)
        patch.setattr("gridcore_escalation.archive.PART_SIZE", 2)
        patch.setattr("gridcore_tasks.archive.PART_SIZE", 1)
        factory = StoreFactory("sqlite", Path(folder))
        try:
            serial, parallel = factory.url(), factory.url()
            summaries, seen, one = ingest(serial, history, 1)
            summaries2, seen2, _ = ingest(parallel, history, 2)
            assert one == 1
            assert summaries2 == summaries
            assert seen2 == seen
            same_store(serial, parallel)
            with Engine.open(store=parallel, clock=FixedClock(CLOCK), plugins=plugins(), read_only=True) as again:
                assert snapshot(again) == seen  # opened from its checkpoint and tail
        finally:
            factory.cleanup()


def test_the_slices_in_order_do_run_in_two_processes(tmp_path: Path) -> None:
    """Not vacuous: in order, on SQLite, the built-ins' events are judged in two processes."""
    history = {"steps": [{"events": list(day_of_events(3)[:400]), "batch": 25, "every": 50}], "registered": []}
    _, _, processes = ingest(f"sqlite:///{tmp_path}/s.db", history, 2)
    assert processes == 2


# ---------------------------------------------------------------------------- a district, several calls


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A district of 2 streets and 4 communities, and 3 busy days of its events as documents."""
    root = tmp_path_factory.mktemp("pipeline")
    make = runpy.run_path(str(REPO / "rulesets" / "tools" / "make_yinzhou.py"))
    make["district"](root, key="small", streets=2, communities=4, name="小银州区")
    folder = root / "small"
    scenario = load_scenario(REPO / "rulesets" / "yinzhou" / "scenario-busy.yaml")
    codec = EventCodec()
    docs = [json.loads(json.dumps(codec.to_dict(event), ensure_ascii=False, default=str))
            for event in simulate(load_community(folder), scenario, days=3, start=date(2025, 3, 3), seed=5)]
    return folder, docs


def district_ingest(url: str, folder: Path, docs: list[dict[str, Any]], workers: int) -> tuple[Any, ...]:
    the_community = load_community(folder)
    first = datetime(2025, 3, 3, tzinfo=the_community.tz)
    end = first + timedelta(days=3)
    summaries = []
    with Engine.open(store=url, community=the_community, clock=FixedClock(end),
                     ruleset=REPO / "rulesets" / "yinzhou" / "yinzhou.rules", effective=first) as engine:
        engine.checkpoint_share = 1
        engine.checkpoint_every = 300  # checkpoints inside the calls, where the upstream must wait
        for start in range(0, len(docs), 900):
            summary = engine.record_many(docs[start:start + 900], batch_size=100, workers=workers)
            summaries.append((summary_of(summary), summary.processes))
        summaries.append(([e.id for e in engine.tick(end)], 1))
        outcomes = [repr(outcome) for outcome in engine.outcomes()]
        decisions = [f"escalation:route:{i.id}" for i in esc.incidents(engine)]
        decisions += [r.entry.decision for r in points.state(engine).booked()]
        explained = [repr(engine.explain(decision)) for decision in decisions]
    return summaries, outcomes, explained


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_district_ingests_in_two_processes_exactly_as_in_one(
        backend: str, district: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder, docs = district
    factory = StoreFactory(backend, tmp_path)
    try:
        serial, parallel = factory.url(), factory.url()
        one = district_ingest(serial, folder, docs, 1)
        two = district_ingest(parallel, folder, docs, 2)
        assert [s for s, _ in two[0]] == [s for s, _ in one[0]]
        assert [processes for _, processes in two[0][:-1]] == [2] * (len(two[0]) - 1)  # (the last: the tick)
        assert two[1:] == one[1:]
        assert len(one[1]) > 1000
        same_store(serial, parallel)
    finally:
        factory.cleanup()


# ---------------------------------------------------------------------------- what goes wrong


class FailsOnTick:
    """Derives events, and fails on the tick at ``when``: in the upstream process (declared upstream)."""

    def __init__(self, when: datetime) -> None:
        self.when = when

    @hookimpl
    def gridcore_event_dependencies(self) -> EventDependencies:
        return EventDependencies("failing")

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Any]:
        if now >= self.when:
            raise PluginError(f"the failing plugin fails at {now.isoformat()}")
        return []

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        return {}

    @hookimpl
    def gridcore_restore_state(self, document: dict[str, Any]) -> None:
        pass


def test_an_error_in_the_upstream_process_reaches_the_caller(tmp_path: Path) -> None:
    events = list(day_of_events(3)[:300])
    when = events[200].time

    def run(name: str, workers: int) -> tuple[str, list[str]]:
        plugin = FailsOnTick(when)
        plugin.__name__ = "failing"  # type: ignore[attr-defined]
        url = f"sqlite:///{tmp_path}/{name}.db"
        with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                         clock=FixedClock(CLOCK), plugins=get_plugin_manager(extra=[plugin])) as engine:
            assert plan(engine) is not None and "failing" in plan(engine).upstream  # type: ignore[union-attr]
            with pytest.raises(PluginError) as raised:
                engine.record_many(events, batch_size=20, workers=workers)
        return str(raised.value), stored(url)[0]

    assert run("parallel", 2) == run("serial", 1)


def test_a_store_two_processes_cannot_share_is_ingested_in_one(tmp_path: Path) -> None:
    results: list[Callable[[], Any]] = []
    for name, workers in (("a", 1), ("b", 2)):
        with Engine.open(store=str(tmp_path / name), community=community(), ruleset=RULES,
                         effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                         plugins=plugins()) as engine:
            summary = engine.record_many(day_of_events(2)[:200], workers=workers)
            assert summary.processes == 1  # TinyDB: one process
            results.append(summary_of(summary))  # type: ignore[arg-type]
    assert results[0] == results[1]


def test_gridcore_ingest_with_two_workers_stores_and_says_the_same(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gridcore_app.cli import main_group

    codec = EventCodec()
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(codec.to_dict(e), ensure_ascii=False, default=str) + "\n"
                              for e in day_of_events(4)[:500]), encoding="utf-8")
    said = []
    for workers in ("1", "2"):
        store = f"sqlite:///{tmp_path}/w{workers}.db"
        result = CliRunner().invoke(main_group, ["init", "--community", str(YINQUAN), "--ruleset", str(RULES),
                                                 "--effective", "2024-01-01T00:00:00+08:00", "--store", store])
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(main_group, ["ingest", str(events), "--store", store, "--workers", workers])
        said.append((result.exit_code, result.stdout, result.stderr, stored(store)[0]))
    (code, out, err, log), (code2, out2, err2, log2) = said
    assert out2 == out.replace(" refused\n", " refused (the plugins judged in 2 processes)\n")
    assert (code2, err2, log2) == (code, err, log)
    assert len(log) > 400


def test_a_derived_event_with_an_offered_id_goes_on_in_one_process(tmp_path: Path) -> None:
    """The upstream cannot tell alone whether an offered event whose id a derived one takes is a
    duplicate: from the last stored batch on, one process judges, with the serial results."""
    codec = EventCodec()
    events = [codec.to_dict(e) for e in day_of_events(3)]
    url = f"sqlite:///{tmp_path}/probe.db"
    with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                     clock=FixedClock(CLOCK), plugins=plugins()) as probe:
        probe.record_many(events)
        derived = [doc for doc in probe.store.events() if doc["actor"] == "system"]
    assert derived
    first = derived[len(derived) // 2]
    later = next(n for n, doc in enumerate(events) if doc["time"] > first["time"] and n > 100)
    events[later] = {**events[later], "id": first["id"]}  # an offered event under the derived one's id
    results = []
    for name, workers in (("serial", 1), ("parallel", 2)):
        store = f"sqlite:///{tmp_path}/{name}.db"
        with Engine.open(store=store, community=community(), ruleset=RULES,
                         effective=datetime(2024, 1, 1, tzinfo=CST), clock=FixedClock(CLOCK),
                         plugins=plugins()) as engine:
            engine.checkpoint_share = 1
            summary = engine.record_many(events, batch_size=20, workers=workers)
            results.append((summary_of(summary), summary.processes, snapshot(engine)))
    assert results[1][1] == 2  # begun in two processes
    assert results[1][0] == results[0][0]
    assert results[1][2] == results[0][2]
    same_store(f"sqlite:///{tmp_path}/serial.db", f"sqlite:///{tmp_path}/parallel.db")


class OtherWriter:
    """Downstream (it refuses nothing, reads every kind): at one event, another writer appends to the store."""

    __name__ = "other-writer"

    def __init__(self, url: str, at: str, doc: dict[str, Any]) -> None:
        self.url, self.at, self.doc = url, at, doc

    @hookimpl
    def gridcore_event_dependencies(self) -> EventDependencies:
        return EventDependencies("other-writer", reads=[EVERY_KIND])

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Any) -> None:
        if event.id == self.at and self.doc is not None:
            from storefixtures import open_store

            other = open_store(self.url)
            try:
                if not other.contains(self.doc["id"]):
                    other.append([self.doc])
            finally:
                other.close()


def test_another_writer_mid_call_is_judged_again_in_one_process(tmp_path: Path) -> None:
    """A conflict with another writer's batch: from the last stored batch on, one process judges again."""
    codec = EventCodec()
    events = [codec.to_dict(e) for e in day_of_events(5)[:300]]
    last = events[-1]
    extra = {**events[150], "id": "other-writer-1", "time": last["time"]}  # stored by someone else meanwhile
    results = []
    for name, workers in (("serial", 1), ("parallel", 2)):
        url = f"sqlite:///{tmp_path}/{name}.db"
        writer = OtherWriter(url, events[120]["id"], extra)
        with Engine.open(store=url, community=community(), ruleset=RULES, effective=datetime(2024, 1, 1, tzinfo=CST),
                         clock=FixedClock(CLOCK), plugins=get_plugin_manager(extra=[writer])) as engine:
            assert "other-writer" in plan(engine).downstream  # type: ignore[union-attr]
            engine.checkpoint_share = 1
            summary = engine.record_many(events, batch_size=20, workers=workers)
            results.append((summary_of(summary), summary.processes, snapshot(engine)))
    assert results[1][1] == 2
    assert results[1][0] == results[0][0]
    assert results[1][2] == results[0][2]
    same_store(f"sqlite:///{tmp_path}/serial.db", f"sqlite:///{tmp_path}/parallel.db")
    assert any("other-writer-1" in line for line in stored(f"sqlite:///{tmp_path}/parallel.db")[0])
