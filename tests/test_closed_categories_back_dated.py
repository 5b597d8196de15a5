"""A closed category list put in force back-dated over stored reports: they stay on record, and staff are told.

A stored event is a fact: a replay judges stored events again in time order
(``gridcore_validate_stored``), never against a ruleset's rules, so a closed
list put in force from before reports of categories it does not hold leaves
them on record, judged as they were, in every replay, checkpoint and refresh.
``Engine.left_on_record`` (``gridcore_check_stored``) names them, with their
categories and the closest listed ones: ``gridcore use`` (refused without
``--rejudge``, listing them; listing them once in force), ``gridcore init
--ruleset`` and ``gridcore check --store`` say them in English and Chinese.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from test_closed_categories import EFFECTIVE, MONDAY, child

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock
from gridcore.onrecord import LeftOnRecord
from gridcore_app.cli import main_group
from gridcore_escalation.events import IncidentReported

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CLOSED = "escalation:\n  categories: closed\n"
NOW = MONDAY + timedelta(days=2)


def cli(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args))


def report(ident: str, category: str, when: datetime = MONDAY, node: str = "u11") -> IncidentReported:
    return IncidentReported(id=f"{ident}:report", time=when, actor="张伟", node=node, incident=ident,
                            category=category, severity=2)


def _stored_open(tmp_path: Path, store: str) -> Path:
    """An open list in force from EFFECTIVE, three reports on MONDAY (two of categories the closed child does
    not list), and the closed child ruleset's file."""
    closed = child(tmp_path, CLOSED)
    with Engine.open(store=store, community=COMMUNITY, ruleset=tmp_path / "parent.rules", effective=EFFECTIVE,
                     clock=FixedClock(NOW)) as engine:
        for event in (report("纠纷-1", "dispute"), report("漏水-1", "水管漏雨", MONDAY + timedelta(hours=1)),
                      report("漏水-2", "水管漏水", MONDAY + timedelta(hours=2))):
            engine.record(event)
    return closed


def test_use_back_dated_lists_the_reports_the_closed_list_does_not_hold_and_keeps_them(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    closed = _stored_open(tmp_path, store)
    refused = cli("use", str(closed), "--effective", EFFECTIVE.isoformat(), "--store", store, "--now", NOW.isoformat())
    assert refused.exit_code == 1
    assert "Give --rejudge to do that" in refused.output
    assert ("2 stored event(s) from 2025-03-01T00:00:00+08:00 on that it would have refused would stay on record, "
            "judged as they were") in refused.output, refused.output
    assert "(自 2025-03-01T00:00:00+08:00 起已记录的 2 条事件按新规则集本应拒绝，将仍按当时的评判保留在记录中)" in refused.output
    done = cli("use", str(closed), "--effective", EFFECTIVE.isoformat(), "--rejudge", "--store", store,
               "--now", NOW.isoformat())
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ruleset child in force from 2025-03-01T00:00:00+08:00; 3 event(s) recorded since")
    assert lines[1].startswith("2 stored event(s) from 2025-03-01T00:00:00+08:00 on that it would have refused "
                               "stay on record, judged as they were")
    assert lines[2] == (
        "  report 纠纷-1:report (incident 纠纷-1, 2025-03-03T09:00+08:00 at u11) of category 'dispute', which the "
        "ruleset child does not list (categories: closed, child.rules:4), stays on record as it was judged; it "
        "lists leaking_pipe (水管漏水), fire_hazard (消防隐患) (上报 纠纷-1:report（事件 纠纷-1，"
        "2025-03-03T09:00+08:00，u11）的类别 'dispute' 不在规则集 child 所列类别中（类别清单：仅限所列），"
        "仍按当时的评判保留在记录中；所列类别：水管漏水（leaking_pipe）、消防隐患（fire_hazard）)")
    assert lines[3].startswith("  report 漏水-1:report (incident 漏水-1, 2025-03-03T10:00+08:00 at u11) of category "
                               "'水管漏雨'") and "did you mean leaking_pipe (水管漏水)?" in lines[3]
    assert "是不是：水管漏水（leaking_pipe）？" in lines[3] and len(lines) == 4
    # kept: the three cases stay, under the category written; a new unlisted report is refused
    with Engine.open(store=store, clock=FixedClock(NOW)) as engine:
        assert sorted((i.id, i.category) for i in esc.incidents(engine)) == [
            ("漏水-1", "水管漏雨"), ("漏水-2", "leaking_pipe"), ("纠纷-1", "dispute")]
        try:
            engine.record(report("纠纷-2", "dispute", MONDAY + timedelta(hours=3)))
            raise AssertionError("an unlisted category was taken")
        except EventRefused as exc:
            assert "unknown category 'dispute'" in str(exc)
        # asked again once in force: the same answer
        assert [e.event_id for e in engine.left_on_record(closed, effective=EFFECTIVE)] == [
            "纠纷-1:report", "漏水-1:report"]


def test_init_and_check_with_a_store_say_them_too(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    closed = _stored_open(tmp_path, store)
    checked = cli("check", str(closed), "--store", store, "--effective", EFFECTIVE.isoformat())
    assert checked.exit_code == 0, checked.output
    assert f"{closed}: 2 stored event(s) from 2025-03-01T00:00:00+08:00 on that it would have refused would " \
           "stay on record" in checked.stdout, checked.stdout
    assert "did you mean leaking_pipe (水管漏水)?" in checked.stdout
    doc = json.loads(cli("check", str(closed), "--store", store, "--effective", EFFECTIVE.isoformat(),
                         "--format", "json").stdout)
    assert [(e["event"], e["facts"]) for e in doc["left_on_record"]] == [
        ("纠纷-1:report", {"incident": "纠纷-1", "category": "dispute", "closest": ""}),
        ("漏水-1:report", {"incident": "漏水-1", "category": "水管漏雨", "closest": "leaking_pipe"})]
    assert doc["left_on_record"][1]["message_zh"].startswith("上报 漏水-1:report（事件 漏水-1")
    # from after the reports: none
    later = cli("check", str(closed), "--store", store, "--effective", NOW.isoformat())
    assert "no stored event from 2025-03-05T09:00:00+08:00 on that it would have refused" in later.stdout
    # nothing was put in force by check
    with Engine.open(store=store, read_only=True, clock=FixedClock(NOW)) as engine:
        assert [r.name for _, r in engine.rulesets()] == ["parent"]
    grown = cli("init", "--community", str(COMMUNITY), "--ruleset", str(closed), "--effective", EFFECTIVE.isoformat(),
                "--rejudge", "--store", store, "--now", NOW.isoformat())
    assert grown.exit_code == 0, grown.output
    assert "2 stored event(s) from 2025-03-01T00:00:00+08:00 on that it would have refused stay on record" in \
        grown.stdout and "纠纷-1:report" in grown.stdout


def test_only_where_and_when_the_closed_ruleset_would_judge(tmp_path: Path) -> None:
    """A community's closed variant: only the reports in its subtree; a later open ruleset for the whole tree
    does not change that a subtree's own ruleset judges there, but a later open one for the subtree ends it."""
    closed = child(tmp_path, CLOSED)
    reopened = child(tmp_path, "escalation:\n  categories: open\n", "reopened")
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=tmp_path / "parent.rules",
                     effective=EFFECTIVE, clock=FixedClock(NOW)) as engine:
        for event in (report("a", "dispute"), report("b", "dispute", node="n11"),
                      report("c", "dispute", MONDAY + timedelta(days=1))):
            engine.record(event)
        left = engine.left_on_record(closed, effective=EFFECTIVE, node="yq")
        assert [(e.event_id, e.node, e.kind) for e in left] == [("a:report", "u11", "incident_reported"),
                                                                 ("c:report", "u11", "incident_reported")]
        assert all(isinstance(e, LeftOnRecord) for e in left)
        assert [e.event_id for e in engine.left_on_record(closed, effective=EFFECTIVE)] == [
            "a:report", "b:report", "c:report"]
        engine.use_ruleset(reopened, effective=MONDAY + timedelta(hours=12), node="yq")
        assert [e.event_id for e in engine.left_on_record(closed, effective=EFFECTIVE, node="yq")] == ["a:report"]


# ---------------------------------------------------------------- any arrival order

CATEGORIES = ("dispute", "水管漏雨", "水管漏水", "leaking_pipe")


def _state(engine: Engine) -> list[tuple[str, str, str]]:
    return sorted((i.id, i.category, i.status) for i in esc.incidents(engine))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(st.tuples(st.sampled_from(CATEGORIES), st.integers(-30, 60)), min_size=1, max_size=6),
       order=st.randoms(use_true_random=False), closed_at=st.integers(0, 6), checkpoint_at=st.integers(0, 7))
def test_replay_checkpoints_and_refresh_give_the_same_state_in_any_arrival_order(
        tmp_path_factory: Any, reports: list[tuple[str, int]], order: Any, closed_at: int,
        checkpoint_at: int) -> None:
    """Reports (listed and not, before and after the close) arrive in any order; the closed list is put in
    force back-dated after ``closed_at`` of them.  The state a writer holds, a reader's after ``refresh``, a
    reopening from a checkpoint and a rebuild from the log are the same; the reports the close left on record
    are exactly those recorded before it, dated from it on and not listed; none after it."""
    folder = tmp_path_factory.mktemp("arrivals")
    closed = child(folder, CLOSED)
    closing = MONDAY + timedelta(hours=12)
    events = [report(f"r{n}", category, MONDAY + timedelta(hours=hours)) for n, (category, hours) in enumerate(reports)]
    order.shuffle(events)
    url = f"sqlite:///{folder / 'store.db'}"
    taken: list[str] = []
    with Engine.open(store=url, community=COMMUNITY, ruleset=folder / "parent.rules", effective=EFFECTIVE,
                     clock=FixedClock(NOW)) as writer, \
            Engine.open(store=url, read_only=True, clock=FixedClock(NOW)) as reader:
        for n, event in enumerate(events + [None]):
            if n == min(closed_at, len(events)):
                writer.use_ruleset(closed, effective=closing)
            if n == checkpoint_at:
                writer.checkpoint()
            if event is None:
                break
            try:
                writer.record(event)
                taken.append(event.id)
            except EventRefused:
                assert n > min(closed_at, len(events)) - 1 and event.time >= closing
        live = _state(writer)
        reader.refresh()
        assert _state(reader) == live
        before = set(taken[:min(closed_at, len(events))])
        unlisted = {e.id for e in events if e.category in ("dispute", "水管漏雨") and e.time >= closing}
        assert [e.event_id for e in writer.left_on_record(closed, effective=closing)] == sorted(
            (unlisted & before), key=lambda ident: next((e.time, e.id) for e in events if e.id == ident))
        assert not unlisted & set(taken) - before  # (after the close, refused)
    with Engine.open(store=url, clock=FixedClock(NOW)) as reopened:
        assert _state(reopened) == live
        reopened.rebuild()
        assert _state(reopened) == live
