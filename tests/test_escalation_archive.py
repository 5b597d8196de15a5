"""Closed incidents leave the escalation state for the store, and every read still finds them.

The state keeps in memory (and in its checkpoints) only incidents not yet
closed; a closed one is archived (``gridcore_escalation.archive``: parts in the
store's ``escalation.closed`` collection, cut in parts of two here) and read
back by lookups, listings, explanations, metrics and reports.  These tests pin
that the archive is used, that what is read is what the live engine showed,
and that refusals and late ratings on closed incidents still work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, StoreError, get_plugin_manager
from gridcore_escalation.archive import COLLECTION, Archive
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
)

DATA = Path(__file__).parent / "data" / "escalation"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday, 09:00


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def report(incident: str, when: datetime, **kw: Any) -> IncidentReported:
    kw.setdefault("actor", "worker1")
    kw.setdefault("category", "leaking_pipe")
    return IncidentReported(id=f"{incident}-report", time=when, node="u11", incident=incident, **kw)


def act(cls: type, incident: str, when: datetime, actor: str, **kw: Any) -> Any:
    return cls(id=f"{incident}-{cls.kind}-{when:%d%H%M}", time=when, actor=actor, node="u11", incident=incident,
               **kw)


def loop(incident: str, start: float, satisfaction: int = 4) -> list[Any]:
    """Accepted, resolved, verified and closed within a day of ``start`` hours after T0."""
    return [act(IncidentAccepted, incident, hours(start + 0.2), "master"),
            act(IncidentResolved, incident, hours(start + 1), "master"),
            act(IncidentVerified, incident, hours(start + 2), "leader1", satisfaction=satisfaction),
            act(IncidentClosed, incident, hours(start + 3), "leader1")]


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gridcore_escalation.archive.PART_SIZE", 2)
    monkeypatch.setattr("gridcore_escalation.archive.CHAPTER_PARTS", 1)  # (the oldest stored parts in chapters)


@pytest.fixture
def store(tmp_path: Path, small_parts: None) -> Iterator[str]:
    """A store where I1 (with a repeat report I2, escalated once), I3 and I4 were closed, and I5 is open."""
    url = str(tmp_path / "store")
    with Engine.open(store=url, community=DATA / "community", ruleset=DATA / "ladder-unit.rules",
                     effective=T0 - timedelta(days=30), clock=FixedClock(hours(200)),
                     plugins=get_plugin_manager(("points", "assessment"))) as engine:
        engine.record_many([
            report("I1", T0, place="b1"),
            report("I2", hours(1), place="b1", actor="张伟"),  # joins I1 (duplicates within 3 hours)
        ])
        engine.tick(hours(2.5))  # I1 not accepted at the unit within 2 hours: up to the grid
        engine.record_many(loop("I1", 3))
        engine.record_many([report("I3", hours(24), category="noise"), *loop("I3", 24),
                            report("I4", hours(48), category="noise"), *loop("I4", 48, satisfaction=5),
                            report("I5", hours(72), category="noise")])
        engine.checkpoint()
    yield url


def reads(engine: Engine) -> dict[str, Any]:
    """Everything the reads show of the incidents, as plain values."""
    march = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))
    every = esc.incidents(engine)
    decisions = ["escalation:route:I1", "escalation:esc:I1:1", "escalation:I2-report", "escalation:route:I4"]
    return {
        "incidents": [attrs.asdict(i) for i in every],
        "closed": [i.id for i in esc.incidents(engine, status="closed")],
        "open": [i.id for i in esc.incidents(engine, status="open")],
        "I2": attrs.asdict(esc.incident(engine, "I2")),
        "timeline": [attrs.asdict(e) for e in esc.timeline(engine, "I3")],
        "explained": [attrs.asdict(engine.explain(d)) for d in decisions],
        "metrics": {name: str(engine.metric(name, "yq", *march)) for name in
                    ("acceptance_within_limit", "closure_within_limit", "mean_satisfaction", "escalation_rate",
                     "overdue_incidents")},
        "stats": engine.report("escalation.stats", {"period": "2025-03"}).rows,
        "loop": engine.report("escalation.loop", {"period": "2025-03"}).rows,
        "outcomes": sorted((o.subject, str(o.value)) for o in engine.outcomes() if o.plugin == "escalation"),
    }


def test_closed_incidents_leave_the_state_and_the_checkpoint(store: str) -> None:
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment")), read_only=True) as engine:
        state = engine.state("escalation")
        assert set(state.incidents) == {"I5"}  # only what is open is in memory
        assert state.aliases == {} and state.decisions == {}
        assert {ident for ident, _ in state.escalation_index.values()} == {"I5"}
        saved = state.gridcore_save_state()
        assert [doc["id"] for doc in saved["incidents"]] == ["I5"]
        assert len(saved["closed"]["parts"]) == 1 and len(saved["closed"]["open"]) == 1  # 3 closed, parts of 2
        assert len(list(engine.store.items(COLLECTION))) == 1
        assert [i.id for i in esc.incidents(engine)] == ["I1", "I3", "I4", "I5"]
        assert esc.incident(engine, "I2").id == "I1"  # a repeat report's id finds the closed incident it joined
        assert esc.incident(engine, "I1").repeat_reports == ("I2",)
        assert engine.explain("escalation:I2-report").summary == "report I2 joined open incident I1 as repeat report #1"
        assert engine.explain("escalation:esc:I1:1").result == "grid g1"


def test_reads_after_a_restore_and_after_a_rebuild_equal_the_live_ones(store: str, small_parts: None) -> None:
    pm = get_plugin_manager(("points", "assessment"))
    with Engine.open(store=store, plugins=pm, read_only=True) as engine:
        restored = reads(engine)
        engine.rebuild()  # every event again: the archive is cut the same way
        assert reads(engine) == restored
        assert engine.state("escalation").gridcore_save_state()["closed"]["parts"][0][0] == (
            next(iter(engine.store.items(COLLECTION)))[0])
    assert restored["closed"] == ["I1", "I3", "I4"] and restored["open"] == ["I5"]
    assert "None" not in (restored["metrics"]["closure_within_limit"], restored["metrics"]["mean_satisfaction"])


def test_closed_incidents_still_refuse_and_take_late_ratings(store: str, small_parts: None) -> None:
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment"))) as engine:
        with pytest.raises(EventRefused) as refused:
            engine.record(act(IncidentAccepted, "I3", hours(100), "master"))
        assert refused.value.reasons == ["incident I3 is closed; nothing more can be done to it (cannot accept) (事件已结案，不能再受理)"]
        with pytest.raises(EventRefused) as refused:
            engine.record(act(IncidentAccepted, "I2", hours(100), "master"))
        assert refused.value.reasons == [
            "incident I2 joined incident I1 as a repeat report; act on I1 (此事件已作为重复上报并入另一事件，请在主事件上办理)"]
        with pytest.raises(EventRefused) as refused:
            engine.record(attrs.evolve(report("I3", hours(100)), id="I3-again"))
        assert refused.value.reasons == ["incident I3 was already reported (事件编号已上报过)"]
        # a rating after closing is taken: the closed incident is archived again, with it
        engine.record(act(SatisfactionRated, "I1", hours(101), "张伟", score=5))
        assert esc.incident(engine, "I1").ratings == {"张伟": 5}
        assert set(engine.state("escalation").incidents) == {"I5"}
        with pytest.raises(EventRefused) as refused:
            engine.record(act(SatisfactionRated, "I1", hours(102), "张伟", score=1))
        assert refused.value.reasons == ["张伟 already rated incident I1 (已评价过此事件)"]
        # (the closed incidents judged were decoded, and none of them is kept for reads: only the last)
        assert not engine.state("escalation")._decoded
        live = reads(engine)
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment")), read_only=True) as engine:
        assert reads(engine) == live
        assert esc.timeline(engine, "I1")[-1].what == "rated"


def test_an_altered_part_is_an_error_naming_the_collection(store: str) -> None:
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment"))) as engine:
        key, doc = next(iter(engine.store.items(COLLECTION)))
        doc["entries"][0]["incident"]["severity"] = 5
        engine.store.put(COLLECTION, key, doc)
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment")), read_only=True) as engine:
        assert [i.id for i in esc.incidents(engine, status="open")] == ["I5"]  # open ones need no part
        with pytest.raises(StoreError, match="escalation.closed"):
            esc.incidents(engine)


def test_a_period_s_metrics_read_only_the_parts_of_that_period(store: str) -> None:
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment")), read_only=True) as engine:
        archive = engine.state("escalation").archive
        read: list[str] = []
        loader = archive.loader

        many = archive.many_parts

        def counting(key: str) -> Any:
            read.append(key)
            return loader(key)

        def counting_many(keys: Any) -> Any:
            read.extend(keys)
            return many(keys)

        archive.loader = counting
        archive.many_parts = counting_many  # (a period's parts are read at once: ``walk``)
        # I1 and I3 (closed on the first two days) are in the one sealed part; I4 in the newest, in memory
        third_day = (hours(47), hours(60))
        assert engine.metric("closure_within_limit", "yq", *third_day).value == 100  # I4, closed within limits
        engine.metric("mean_satisfaction", "yq", *third_day)
        engine.report("escalation.stats", {"period": "2025-03-05"})
        assert read == []
        assert engine.metric("mean_satisfaction", "yq", *third_day).value == 5  # I4's verification
        first_day = (T0, hours(10))
        assert engine.metric("closure_within_limit", "yq", *first_day).value == 0  # I1 missed its accept limit
        assert len(read) == 1


def test_a_period_s_read_decodes_only_the_closed_incidents_spanning_it(store: str) -> None:
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment")), read_only=True) as engine:
        state = engine.state("escalation")
        decoded: list[str] = []
        decode = state._decode

        def counting(entry: dict[str, Any]) -> Any:
            decoded.append(entry["incident"]["id"])
            return decode(entry)

        state._decode = counting
        # I1 and I3 share the one sealed part: on the first day only I1 (reported, escalated, closed) happened
        first_day = (T0, hours(10))
        assert engine.metric("closure_within_limit", "yq", *first_day).value == 0  # I1 missed its accept limit
        assert [i.id for i in state.active_between(*first_day)] == ["I1", "I5"]  # (and the open one)
        assert decoded == ["I1"]
        # I3 was reported at hour 24 and closed at hour 27: a span ending there still finds it, one before not
        assert [i.id for i in state.active_between(hours(27), hours(30))] == ["I3", "I5"]
        assert [i.id for i in state.reported_between(hours(23), hours(25))] == ["I3"]
        assert [i.id for i in state.active_between(hours(27.5), hours(30))] == ["I5"]


def _archived(steps: list[tuple[int, int, int, bool]], saves: frozenset[int] = frozenset(),
              ) -> tuple[Archive, dict[str, dict[str, Any] | None]]:
    """An archive of the entries ``steps`` make (incident, report hours before the entry's number, hours
    from there to its last step, a removal?), and the newest entry of each incident (None: removed).

    Before the entries numbered in ``saves`` the archive is saved to a store in memory, restored from
    what it saved, and goes on from there: its sealed parts and their names are then read from that store."""
    parts: dict[str, dict[str, Any]] = {}
    names: dict[str, dict[str, Any]] = {}
    archive = Archive(parts.get, names.get)
    newest: dict[str, dict[str, Any] | None] = {}
    for n, (which, reported, lasted, removed) in enumerate(steps):
        if n in saves:
            document = json.loads(json.dumps(archive.save(lambda key, text, _: parts.__setitem__(key, json.loads(text)),
                                                          names.update)))
            archive = Archive.restore(document, parts.get, names.get)
        ident = f"I{which}"
        if removed:
            entry: dict[str, Any] = {"removed": ident, "names": [ident]}
            newest[ident] = None
        else:
            # (entries come in the order incidents close: mostly later reports, now and then an old one)
            at = n - reported
            entry = {"incident": {"id": ident, "repeats": [], "reported_at": hours(at).isoformat(), "n": n},
                     "decisions": {}, "escalations": {}, "last": hours(at + lasted).isoformat()}
            newest[ident] = entry
        archive.add(entry)
    return archive, newest


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 14), st.sampled_from([0, 0, 1, 2, 30]), st.integers(0, 6),
                                st.sampled_from([False, False, False, True])), min_size=1, max_size=40),
       spans=st.lists(st.tuples(st.integers(-30, 45), st.integers(1, 12)), min_size=1, max_size=6),
       saves=st.sets(st.integers(0, 40), max_size=4), chapter=st.sampled_from([1, 2, 32]))
@example(steps=[(n % 10, 0, 1, False) for n in range(30)], spans=[(25, 3), (2, 3)], saves={7, 20}, chapter=1)
@example(steps=[(n % 10 if n < 20 else 10 + n % 5, 0, 1, False) for n in range(30)], spans=[(5, 3)],
         saves={21}, chapter=1)  # each of I0-I9 in two stored parts: the later one answers
def test_a_period_s_read_finds_the_newest_entry_of_each_incident_spanning_it(
        steps: list[tuple[int, int, int, bool]], spans: list[tuple[int, int]], saves: set[int],
        chapter: int) -> None:
    """Whatever the order of reads, and whether the parts and their names were stored and read back,
    each closed incident is found once, by its newest entry, when its own span meets the period, and
    by its id; a removed one never."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_escalation.archive.PART_SIZE", 3)  # many parts, sealed in memory
        patch.setattr("gridcore_escalation.archive.CHAPTER_PARTS", chapter)  # (the oldest stored in chapters)
        archive, newest = _archived(steps, frozenset(saves))
        assert archive.sealed_count == len(steps) // 3
        for start, length in spans:
            span = (hours(start), hours(start + length))
            found = [entry["incident"]["n"] for _, entry in archive.current(active=span)]
            expected = [e["incident"]["n"] for e in newest.values() if e is not None
                        and datetime.fromisoformat(e["incident"]["reported_at"]) < span[1]
                        and datetime.fromisoformat(e["last"]) >= span[0]]
            assert sorted(found) == sorted(expected), span
            for ident, entry in newest.items():
                kept = archive.find(ident)
                assert (kept[1] if kept is not None else None) == entry, ident
            archive.add({"removed": "I99", "names": ["I99"]})  # (entries after a read keep the names read right)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 9), st.sampled_from([False, False, True])), min_size=1, max_size=30),
       saves=st.sets(st.integers(0, 30), max_size=3))
@example(steps=[(0, False), (0, True), (0, False)], saves=set())
def test_a_name_found_in_no_entry_is_found_once_an_entry_answers_to_it(
        steps: list[tuple[int, bool]], saves: set[int]) -> None:
    """``Archive.find`` keeps "none" for a name asked of it (every event on an open incident asks for its
    id) only until an entry answering to the name is added: asked before every entry and after it, each
    name finds its newest entry, or none once removed, whether or not the archive was saved and restored."""
    parts: dict[str, dict[str, Any]] = {}
    names: dict[str, dict[str, Any]] = {}
    idents = [f"I{n}" for n in range(10)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gridcore_escalation.archive.PART_SIZE", 2)  # (entries sealed and stored as they come)
        archive = Archive(parts.get, names.get)
        newest: dict[str, dict[str, Any] | None] = {}
        for n, (which, removed) in enumerate(steps):
            if n in saves:
                document = json.loads(json.dumps(archive.save(
                    lambda key, text, _: parts.__setitem__(key, json.loads(text)), names.update)))
                archive = Archive.restore(document, parts.get, names.get)
            for ident in idents:
                kept = archive.find(ident)
                assert (kept[1] if kept is not None else None) == newest.get(ident), (n, ident)
            ident = idents[which]
            entry: dict[str, Any] = ({"removed": ident, "names": [ident]} if removed else
                                     {"incident": {"id": ident, "repeats": [], "reported_at": hours(n).isoformat()},
                                      "decisions": {}, "escalations": {}, "last": hours(n).isoformat()})
            newest[ident] = None if removed else entry
            archive.add(entry)
            kept = archive.find(ident)
            assert (kept[1] if kept is not None else None) == newest[ident], (n, ident)


def shape(value: Any) -> Any:
    """A value with the type of every piece beside it, so that equal shapes mean equal types too
    (``0 == False``, ``[] == ()`` would pass unseen)."""
    if attrs.has(type(value)):
        return (type(value), [shape(getattr(value, f.name)) for f in attrs.fields(type(value))])
    if isinstance(value, (list, tuple, set)):
        return (type(value), [shape(v) for v in (sorted(value) if isinstance(value, set) else value)])
    if isinstance(value, dict):
        return (dict, [(k, shape(v)) for k, v in value.items()])
    return (type(value), value)


def _every_field_set() -> Any:
    """An incident with every field away from its default, every list holding something."""
    from gridcore.explain import RuleRef
    from gridcore_escalation.incident import (
        Assignment,
        Breach,
        Consultation,
        Entry,
        Escalation,
        Extension,
        ExtensionRequest,
        Incident,
        Pending,
        Return,
        Summons,
    )

    at = hours(1)
    rule = RuleRef("esc.rules", 12, 3, "escalate when ...")
    return Incident(
        id="i-1", category="道路", severity=3, node="c1", place="东门", channel="app", key_person=True,
        description="坑", reporter="r1", reported_at=at, policy=None, ruleset="yz", current_node="s1",
        current_level="街道", departments=("城管", "水务"), summoned="城管", status="closed", paused=True,
        paused_since=hours(2), paused_total=timedelta(days=1, seconds=5, microseconds=7),
        segments=[[at, hours(2)], [hours(3), None]], handler_segments=[[hours(4), None]], taken_at_level=True,
        accepted_at=hours(5), first_accepted_at=hours(6), resolved_at=hours(7), verified_at=hours(8),
        closed_at=hours(9), accepted_by="a", resolved_by="b", verified_by="c", closed_by="d", satisfaction=4,
        ratings={"quality": 5, "speed": 3}, verifications=[(hours(8), 4, "c")], repeats=[("i-2", hours(2), "r2")],
        last_report_at=hours(2),
        escalations=[Escalation("e1", hours(3), "sys", "c1", "s1", "社区", "街道", None, "late", rule, "text",
                                {"age": 3, "why": ["a", 1]}),
                     Escalation("e2", hours(4), "x", "s1", "d1", "街道", "区", "城管", "r", None, "", {})],
        breaches=[Breach(hours(3), "accept", "社区", "c1", rule)],
        pending=[Pending(hours(4), "k", "repeat", rule, "s1", None, {"n": 2})],
        fired={"b", "a"}, reopen_due=hours(10), reopens=1, rework=True, escalation_events=2, escalation_number=3, reopen_events=1,
        reopen_number=2,
        timeline=[Entry(at, "reported", "r1", "c1"), Entry(hours(2), "accepted", "a", "c1", "d", "rule", "ev")],
        version=9, extension_request=ExtensionRequest("x1", hours(5), "b", 1, 2, "parts"),
        extensions=[Extension("x0", "x00", hours(4), "lead", "b", 2, 0, "街道", "s1", hours(6), None, rule)],
        extra_days=1, extra_hours=2, handler_extra_days=3, handler_extra_hours=4,
        consultations=[Consultation("k1", hours(5), "lead", "街道", "s1", ("a", "b"), "fix")],
        returns=[Return("t1", hours(5), "b", "s1", "街道", "城管", "c1", "wrong place")],
        summons=[Summons("城管", "w1", hours(4), "s1", "街道", hours(5), None, hours(5), "m", None, hours(6), True)],
        assignee="h", assignments=[Assignment("g1", hours(4), "lead", "h", "handler", None, "first", rule)],
        handler_role="handler", pass_events=1, pass_number=2, feedback_due=hours(11), feedback_at=hours(12), feedback_by="f",
    )


def _document_shape(value: Any) -> Any:
    """A document with the type of every piece beside it (a tuple is not a list, ``0`` not ``False``), its keys
    in their order."""
    if isinstance(value, (list, tuple)):
        return (type(value), [_document_shape(v) for v in value])
    if isinstance(value, dict):
        return (dict, [(k, _document_shape(v)) for k, v in value.items()])
    return (type(value), value)


def _at_defaults(incident: Any) -> Any:
    """``incident`` with every field that has a default at it."""
    return attrs.evolve(incident, **{f.name: f.default.factory() if isinstance(f.default, attrs.Factory) else f.default
                                     for f in attrs.fields(type(incident)) if f.default is not attrs.NOTHING})


def test_a_closed_incident_is_decoded_as_the_converter_decodes_it() -> None:
    """The quick decoding of an archived incident (``checkpoint._structure_incident``) gives what
    the converter gives, field for field and type for type, for a document as the archive holds it;
    a document of another shape (a field missing, a tuple cut short) is read by the converter."""
    from gridcore_escalation import checkpoint

    def converter(doc: dict[str, Any]) -> Any:
        return checkpoint._structure_fields({**doc, "policy": None, "route": None, "level_policy": None})

    incident = _every_field_set()
    doc = json.loads(json.dumps(checkpoint._dump_incident(incident)))
    assert checkpoint._quick_fields is not None
    quick = checkpoint._quick_fields(doc)
    assert shape(quick) == shape(converter(doc)) == shape(incident)
    assert checkpoint._structure_incident(doc) == incident

    older = {k: v for k, v in doc.items() if k != "feedback_by"}  # (a field with a default left out)
    with pytest.raises(KeyError):
        checkpoint._quick_fields(older)
    assert checkpoint._structure_incident(older) == converter(older) == attrs.evolve(incident, feedback_by=None)
    cut = {**doc, "verifications": [doc["verifications"][0][:2]]}
    with pytest.raises(ValueError):
        checkpoint._quick_fields(cut)
    with pytest.raises(Exception) as quick_error:
        checkpoint._structure_incident(cut)
    with pytest.raises(Exception) as converter_error:
        converter(cut)
    assert type(quick_error.value) is type(converter_error.value)


def test_an_incident_is_written_as_the_converter_writes_it() -> None:
    """The quick writing of an incident (``checkpoint._quick_dump``, each time's text made once per
    object) gives the document cattrs gives, field for field and type for type: with every field set,
    with every field at its default, and with one time object in many fields beside equal times in
    other offsets (kept by object, never by value)."""
    from datetime import timezone

    from gridcore_escalation import checkpoint
    from gridcore_escalation.incident import Entry

    full = _every_field_set()
    bare = _at_defaults(full)
    at = hours(3)
    elsewhere = at.astimezone(timezone(timedelta(hours=-5)))  # (equal to ``at``, written otherwise)
    shared = attrs.evolve(full, reported_at=at, accepted_at=at, closed_at=elsewhere, segments=[[at, elsewhere]],
                          timeline=[Entry(at, "reported", "r1", "c1"), Entry(elsewhere, "closed", "d", "c1")])
    for incident in (full, bare, shared):
        quick = checkpoint._quick_dump(incident)
        assert _document_shape(quick) == _document_shape(checkpoint._unstructure_fields(incident))
        assert json.dumps(quick) == json.dumps(checkpoint._unstructure_fields(incident))
    assert checkpoint._quick_dump(shared)["closed_at"] == elsewhere.isoformat() != at.isoformat()


def test_a_closed_incident_rated_is_written_again_as_written_whole(store: str, small_parts: None) -> None:
    """A rating of a closed case writes its document again from the one it was archived with
    (``checkpoint.dump_rated``): what ``_dump_incident`` writes, key for key in the same order and type for
    type, whether its first rating (ratings and a version away from their defaults ...) or a later one, and
    for an incident with every field set; the case's archived entry is that document."""
    from gridcore_escalation import checkpoint
    from gridcore_escalation.incident import Entry

    full = _every_field_set()
    bare = _at_defaults(full)
    for incident in (full, bare):
        written = checkpoint._dump_incident(incident)
        for rater, score in (("张伟", 5), ("李娜", 1)):
            incident.ratings[rater] = score
            incident.note(Entry(hours(20), "rated", rater, "c1", f"satisfaction {score}", event=f"r-{rater}"))
            incident.handler_role = None if incident.handler_role else "handler"
            again = checkpoint.dump_rated(incident, written)
            assert _document_shape(again) == _document_shape(checkpoint._dump_incident(incident))
            written = again
    used: list[dict[str, Any]] = []
    rated = checkpoint.dump_rated
    with Engine.open(store=store, plugins=get_plugin_manager(("points", "assessment"))) as engine:
        state = engine.state("escalation")
        engine.record_many([report("I6", hours(120), category="noise"), *loop("I6", 120)])
        try:
            checkpoint.dump_rated = lambda incident, written: used.append(rated(incident, written)) or used[-1]
            engine.record(act(SatisfactionRated, "I6", hours(130), "张伟", score=5))
        finally:
            checkpoint.dump_rated = rated
        assert len(used) == 1
        assert state._archived("I6")[1]["incident"] is used[0]
        assert _document_shape(used[0]) == _document_shape(checkpoint._dump_incident(state.find("I6")))
        assert esc.incident(engine, "I6").ratings == {"张伟": 5}


def test_an_incident_s_document_leaves_out_the_fields_at_their_default_and_reads_back_the_same() -> None:
    """``checkpoint._dump_incident`` writes what ``_quick_dump`` writes but for the fields whose document
    is their default's (type and value: a ``0`` is not a ``False``), always the ids of its repeat reports;
    read back with those filled in, it is the same incident, type for type."""
    from gridcore_escalation import checkpoint

    full = _every_field_set()
    bare = _at_defaults(full)
    some = attrs.evolve(bare, status="closed", reopens=2, paused=True, ratings={"speed": 0}, extra_days=0,
                        paused_total=timedelta(seconds=1), current_node="", segments=[[hours(1), None]])
    for incident in (full, bare, some):
        quick = checkpoint._quick_dump(incident)
        compact = checkpoint._compact_dump(incident)
        expected = {k: v for k, v in quick.items() if k not in checkpoint._DEFAULTS
                    or type(v) is not type(checkpoint._DEFAULTS[k]) or v != checkpoint._DEFAULTS[k]}
        assert compact == expected and "repeats" in compact
        assert json.dumps(dict(sorted(compact.items()))) == json.dumps(dict(sorted(expected.items())))
        doc = json.loads(json.dumps({**compact, "route": None}))
        read = checkpoint._structure_incident({**checkpoint._DEFAULTS, **doc})
        assert shape(read) == shape(incident)
    assert set(checkpoint._compact_dump(bare)) == checkpoint._REQUIRED | {"repeats"}
    assert set(checkpoint._compact_dump(some)) - set(checkpoint._compact_dump(bare)) == {
        "status", "reopens", "paused", "ratings", "paused_total", "segments"}
    assert checkpoint._compact_dump(full).keys() == checkpoint._quick_dump(full).keys()


def test_sealed_parts_are_stored_with_the_next_batch_not_held_until_the_checkpoint(tmp_path: Path,
                                                                                   small_parts: None) -> None:
    """``gridcore_on_flush``: a part sealed while an ingest is judged is in the store once the batch is, its
    entries no longer in memory, before any checkpoint; the checkpoint then names it as a replay does."""
    url = str(tmp_path / "store")
    pm = get_plugin_manager(("points", "assessment"))
    with Engine.open(store=url, community=DATA / "community", ruleset=DATA / "ladder-unit.rules",
                     effective=T0 - timedelta(days=30), clock=FixedClock(hours(200)), plugins=pm) as engine:
        engine.checkpoint_min = engine.checkpoint_every = 10**9  # (no checkpoint before closing)
        engine.record_many([report("I3", hours(24), category="noise"), *loop("I3", 24),
                            report("I4", hours(48), category="noise"), *loop("I4", 48, satisfaction=5),
                            report("I5", hours(72), category="noise"), *loop("I5", 72)])
        assert list(engine.store.items("checkpoints")) == []
        archive = engine.state("escalation").archive
        assert not archive.waiting and [p.entries for p in archive.parts] == [None]
        assert [key for key, _ in engine.store.items(COLLECTION)] == [archive.parts[0].key]
        assert len(archive.open) == 1
        assert esc.incident(engine, "I3").status == "closed"  # (read back from the stored part)
        live = json.dumps(engine.state("escalation").gridcore_save_state(), sort_keys=True)
        engine.rebuild()  # (a replay: no batch is written, the parts are stored by the checkpoint)
        assert engine.state("escalation").archive.waiting
        assert json.dumps(engine.state("escalation").gridcore_save_state(), sort_keys=True) == live


def test_a_read_only_rebuild_holds_its_sealed_parts_compressed_and_reads_the_same(
        store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only engine stores nothing, so a replay's sealed parts wait in memory: beyond the newest
    ``RAW_PARTS`` they are held as their compressed text (``PartArchive.held``), and every read of the
    closed incidents (lookups, timelines, explanations, metrics, reports) answers as before."""
    from gridcore.archive import RAW_PARTS

    pm = get_plugin_manager(("points", "assessment"))
    with Engine.open(store=store, plugins=pm, read_only=True) as engine:
        restored = reads(engine)
        monkeypatch.setattr("gridcore_escalation.archive.PART_SIZE", 1)  # (a part an entry: several wait)
        engine.rebuild()
        archive = engine.state("escalation").archive
        assert archive.sealed_count > RAW_PARTS and archive.waiting
        assert len(archive.held) == archive.sealed_count - RAW_PARTS
        assert sum(part.entries is not None for part in archive.parts) == RAW_PARTS
        assert reads(engine) == restored
        held = dict(archive.held)
        engine.state("escalation").gridcore_save_state()  # (a read-only checkpoint document: nothing stored)
        assert archive.held == held


def test_an_incident_s_document_is_typed_but_for_its_facts_which_are_walked() -> None:
    """``checkpoint.typed_dump``: an incident's document is written from its fields' types, so a part of
    closed incidents is written without the walk (``gridcore.fastjson.typed_json``), but for the fields a
    hook writes (``Any``: an escalation's and a pending step's facts), which are walked: a float there that
    orjson would write otherwise makes the entry untyped, and its part is written as ``json`` writes it."""
    from gridcore import fastjson
    from gridcore.parts import part_bytes
    from gridcore_escalation import checkpoint

    full = _every_field_set()
    assert checkpoint._HOOKED == ("escalations", "pending")
    assert checkpoint.typed_dump(checkpoint._dump_incident(full))
    for odd in (1e-05, 1e16, float("nan")):
        step = attrs.evolve(full.escalations[1], facts={"hours": odd})
        doc = checkpoint._dump_incident(attrs.evolve(full, escalations=[full.escalations[0], step]))
        assert not checkpoint.typed_dump(doc)
        waiting = attrs.evolve(full.pending[0], facts={"n": [odd]})
        assert not checkpoint.typed_dump(checkpoint._dump_incident(attrs.evolve(full, pending=[waiting])))
        if not math.isnan(odd):  # (NaN: json refuses it, and so does the part)
            part = {"format": 3, "entries": [{"incident": doc}]}
            assert part_bytes(part) == json.dumps(part, sort_keys=True, ensure_ascii=False,
                                                  separators=(",", ":")).encode()
            assert fastjson.same_json(part, sort_keys=True) is None


def test_a_closed_case_s_entry_is_added_typed_and_its_part_written_without_the_walk(
        tmp_path: Path, small_parts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing an incident adds its entry typed (``Records.close_out``): the sealed part's text is orjson's
    without the walk, and the same bytes (so the same key) as ``json``'s canonical text."""
    from gridcore import parts

    def walked(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a typed part was walked")

    url = str(tmp_path / "store")
    pm = get_plugin_manager(("points", "assessment"))
    with Engine.open(store=url, community=DATA / "community", ruleset=DATA / "ladder-unit.rules",
                     effective=T0 - timedelta(days=30), clock=FixedClock(hours(200)), plugins=pm) as engine:
        monkeypatch.setattr(parts, "same_json", walked)
        engine.record_many([report("I3", hours(24), category="noise"), *loop("I3", 24),
                            report("I4", hours(48), category="noise"), *loop("I4", 48, satisfaction=5),
                            report("I5", hours(72), category="noise"), *loop("I5", 72)])
        archive = engine.state("escalation").archive
        key = archive.parts[0].key
        doc = engine.store.get(COLLECTION, key)
        assert doc is not None and len(doc["entries"]) == 2  # (two closed cases a part: ``small_parts``)
        assert parts.text_key(json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))) == key
