"""Late events (dated before events already stored) and the escalations derived before they came.

An escalation a late event makes no longer hold explains itself (``explain``,
the CLI, the service); a late event that brings a breach earlier than events
already stored derives it at once, numbered so that no stored escalation's id
is given to another; the same log gives the same results in full, from a
checkpoint, and whatever the batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from storefixtures import BACKENDS, StoreFactory

import gridcore_escalation as esc
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import Event
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

DATA = Path(__file__).parent / "data" / "escalation"
RULES = DATA / "ladder-unit.rules"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday, 09:00
MONTH = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def report(incident: str, when: datetime, node: str = "u11") -> IncidentReported:
    return IncidentReported(id=f"{incident}-report", time=when, actor="worker1", node=node, incident=incident,
                            category="leaking_pipe")


def act(cls: type, incident: str, when: datetime, actor: str = "worker1", **kw: Any) -> Any:
    return cls(id=f"{incident}-{cls.kind}-{when:%d%H%M}", time=when, actor=actor, node="u11", incident=incident,
               **kw)


def open_engine(store: str) -> Engine:
    return Engine.open(store=store, community=DATA / "community", ruleset=RULES, effective=T0 - timedelta(days=30),
                       clock=FixedClock(T0 - timedelta(days=30)), plugins=get_plugin_manager(("points", "assessment")))


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def record(engine: Engine, events: list[Event]) -> None:
    for event in events:
        engine.record(event)


def final(engine: Engine, now: datetime, ids: bool = True) -> tuple[Any, ...]:
    """What the cases' handling comes to: views (the escalations' ids left out unless ``ids``), the overdue
    list, and the within-limit rates."""
    views = esc.incidents(engine)
    if not ids:
        views = [(v.id, v.current_node, v.current_level, v.status, v.breaches,
                  [(e.time, e.to_node, e.department, e.reason, e.rule) for e in v.escalations]) for v in views]
    rates = tuple(
        (m.value, m.inputs) if m is not None else None
        for name in ("acceptance_within_limit", "closure_within_limit", "escalation_rate", "overdue_incidents")
        for node in ("u11", "u12", "g1", "wh")
        for m in (engine.metric(name, node, *MONTH),)
    )
    return (views, [(v.id, d.limit, d.time) for v, d in esc.overdue(engine, now)], rates)


# ---------------------------------------------------------------- an ignored escalation explains itself


@pytest.mark.parametrize("late", ["accept", "resolve"])
def test_an_ignored_escalation_explains_itself_live_replayed_and_archived(folder: Path, late: str) -> None:
    store = str(folder / "store")
    engine = open_engine(store)
    engine.record(report("I1", T0))
    if late == "accept":
        assert [e.id for e in engine.tick(hours(5))] == ["esc:I1:1"]  # not accepted within 2 hours: at 11:00
        step = act(IncidentAccepted, "I1", hours(1))
        met, zh = "accepted at 10:00", "10:00 的受理在其后补录"
        when, rule = "2025-03-03 11:00", "ladder-unit.rules:8"
    else:
        engine.record(act(IncidentAccepted, "I1", hours(1)))
        assert [e.id for e in engine.tick(hours(52))] == ["esc:I1:1"]  # not resolved within 48 hours
        step = act(IncidentResolved, "I1", hours(30))
        met, zh = "resolved at 2025-03-04 15:00", "2025-03-04 15:00 的办结在其后补录"
        when, rule = "2025-03-05 09:00", "ladder-unit.rules:8"
    engine.record(step)  # typed in late: dated before the escalation, stored after it
    explained = engine.explain("escalation:esc:I1:1")
    assert explained.result == "ignored (已忽略)"
    assert [str(r) for r in explained.rules] == [rule] and "limit unit:" in explained.rules[0].text
    assert explained.summary.startswith(
        f"escalation esc:I1:1 of incident I1 at {when} (derived by the system: not ")
    assert f"is ignored: {met} ({step.id}, by worker1), dated before it, was recorded after it; replayed " \
           f"in time order, {met}, within the limit (recorded late). It no longer counts: no breach, no " \
           "escalation in the metrics; the case stayed at unit u11" in explained.summary, explained.summary
    assert f"(系统派生的上报已忽略：{zh}；" in explained.summary and "本次上报不再计入" in explained.summary
    assert explained.inputs["late event"].startswith(f"{step.id}: {met.split(' at ')[0]} at ")
    assert explained.inputs["recorded"].startswith(f"after escalation esc:I1:1 was stored (dated {when})")
    assert "补录" in explained.inputs["recorded"] and explained.inputs["counts"].startswith("no: ")
    # the same from a full replay, and from a checkpoint (taken at once, the state restored from it)
    engine.rebuild()
    assert engine.explain("escalation:esc:I1:1") == explained
    engine.checkpoint()
    engine.close()
    engine = open_engine(store)
    assert engine.explain("escalation:esc:I1:1") == explained
    # closed, the case is archived with it
    if late == "accept":
        engine.record(act(IncidentResolved, "I1", hours(6)))
    engine.record(act(IncidentVerified, "I1", hours(53), "leader1", satisfaction=5))
    engine.record(act(IncidentClosed, "I1", hours(54), "leader1"))
    assert esc.incident(engine, "I1").status == "closed"
    assert engine.explain("escalation:esc:I1:1") == explained
    engine.close()
    with open_engine(store) as again:
        assert again.explain("escalation:esc:I1:1") == explained


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


def _trial(store: str) -> None:
    """The staff trial's sequence: something at 16:00 stored first; a case reported at 09:30 (its
    escalations due by 16:00 derived and stored at once), then accepted at 09:40."""
    init = run("init", "--community", str(DATA / "community"), "--ruleset", str(RULES),
               "--effective", "2025-03-01T00:00+08:00", "--store", store)
    assert init.exit_code == 0, init.output
    base = ("--category", "leaking_pipe", "--actor", "worker1", "--store", store)
    for incident, node, now in (("I0", "u21", "2025-03-03T16:00+08:00"), ("I1", "u11", "2025-03-03T09:30+08:00")):
        done = run("incidents", "report", incident, "--node", node, *base, "--now", now)
        assert done.exit_code == 0, done.output
    accepted = run("incidents", "accept", "I1", "--actor", "worker1", "--store", store,
                   "--now", "2025-03-03T09:40+08:00")
    assert accepted.exit_code == 0, accepted.output


def test_gridcore_explain_says_why_an_escalation_is_ignored(stores: StoreFactory) -> None:
    store = stores.url()
    _trial(store)
    shown = run("incidents", "timeline", "I1", "--store", store, "--now", "latest")
    note = next(line for line in shown.stdout.splitlines() if line.startswith("explain: "))
    assert "; each ignored: escalation:esc:I1:1, escalation:esc:I1:2 (决定说明：起始 / 每次上报 / 已忽略的上报)" in note
    for decision, when, limit in (("escalation:esc:I1:1", "11:30", "2 hours at unit u11"),
                                  ("escalation:esc:I1:2", "15:30", "4 working hours at grid g1")):
        explained = run("explain", decision, "--store", store)
        assert explained.exit_code == 0, explained.output
        lines = explained.stdout.splitlines()
        assert lines[0].startswith(f"{decision}: escalation {decision[11:]} of incident I1 at 2025-03-03 {when} "
                                   f"(derived by the system: not accepted within {limit} ")
        assert "is ignored: accepted at 09:40 (I1:accept:2025-03-03T09:40:00+08:00, by worker1), dated before " \
               "it, was recorded after it" in lines[0]
        assert lines[0].endswith("(系统派生的上报已忽略：09:40 的受理在其后补录；按时间顺序重放，09:40 已受理，未超时限，补录。"
                                 "本次上报不再计入，不算超时，事件留在 unit u11)"), lines[0]
        assert "  result 结果: ignored (已忽略)" in lines
        assert any(line.startswith("  rule 规则: ladder-unit.rules:") for line in lines)
        assert "  input 输入: late event = I1:accept:2025-03-03T09:40:00+08:00: accepted at 2025-03-03 09:40 " \
               "by worker1" in lines
        assert f"  input 输入: recorded = after escalation {decision[11:]} was stored (dated 2025-03-03 {when}), " \
               "though dated 09:40 (补录：09:40 的受理在本次上报之后才录入)" in lines


def test_the_service_explains_an_ignored_escalation(tmp_path: Path) -> None:
    from servicekit import served

    from gridcore_app.service import auth

    url = f"sqlite:///{tmp_path / 'trial.db'}"
    _trial(url)
    with Engine.open(store=url, clock=FixedClock(hours(8))) as engine:
        token = auth.issue(engine, "leader1", "leader")[1]
    with served(url, now=hours(8), intake=None) as server, server.client(token) as leader:
        answer = leader.get("/api/v1/explain/escalation:esc:I1:1")
    assert answer.status_code == 200, answer.text
    explained = answer.json()
    assert explained["decision"] == "escalation:esc:I1:1"
    assert "is ignored: accepted at 09:40" in explained["summary"] and "系统派生的上报已忽略" in explained["summary"]
    assert "recorded" in json.dumps(explained, ensure_ascii=False)
