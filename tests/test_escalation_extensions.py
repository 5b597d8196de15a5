"""Extensions (延期): a handler asks for more time, a leader approves or refuses.

Through the Python API and the command line: the resolve deadline moves by
what was approved (counted like the limit: wall-clock or working time), the
timeline and ``explain`` say from when to when and by which rule, refusals
say why, a request still waiting lapses when the case moves on, and the
escalations that follow do not depend on how often time is ticked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopkit import COMMUNITY, T0, TZ, at, loop_event, open_loop

import gridcore_escalation as esc
from gridcore import Engine, EventRefused, FixedClock, get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    IncidentAccepted,
    IncidentReported,
    IncidentResolved,
)

RULES = """\
ruleset extensions
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours
  limit grid: accept within 4 working hours, resolve within 2 working days, then go to street
  extension: at most 2 times, up to 2 days each, approved by grid_leader
  calendar: working hours 08:30-17:30, monday to friday
"""

RULES_ZH = RULES.replace(
    "  extension: at most 2 times, up to 2 days each, approved by grid_leader",
    "  延期：最多 2 次，每次最多 2天，审批人 网格长",
)

NO_EXTENSIONS = "\n".join(line for line in RULES.splitlines() if "extension:" not in line) + "\n"


def open_engine(tmp_path: Path, rules: str = RULES, name: str = "store") -> Engine:
    return open_loop(tmp_path, rules, name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    yield the_engine
    the_engine.close()


def ev(cls: type, hour: float, actor: str, incident: str = "I1", **kw: Any) -> Any:
    return loop_event(cls, hour, actor, incident, **kw)


def accepted(engine: Engine, incident: str = "I1") -> None:
    engine.record(IncidentReported(id=f"{incident}-r", time=T0, actor="worker1", node="u11",
                                   incident=incident, category="leaking_pipe"))
    engine.record(ev(IncidentAccepted, 0.5, "unitlead", incident))


def test_an_approved_extension_moves_the_resolve_deadline(engine: Engine) -> None:
    accepted(engine)
    assert esc.incident(engine, "I1").next_deadline == at(48)
    engine.record(ev(ExtensionRequested, 20, "unitlead", days=1, reason="等待配件"))
    view = esc.incident(engine, "I1")
    assert view.extension_request is not None and view.next_deadline == at(48)
    engine.record(ev(ExtensionApproved, 21, "leader1"))
    view = esc.incident(engine, "I1")
    assert view.extension_request is None and view.next_deadline == at(72)
    [granted] = view.extensions
    assert (granted.before, granted.after, granted.approver, granted.requested_by) == (
        at(48), at(72), "leader1", "unitlead")
    lines = [(e.what, e.detail) for e in esc.timeline(engine, "I1")][-2:]
    assert lines == [
        ("extension requested", "1 day: 等待配件"),
        ("extension approved", "+1 day: resolve due 2025-03-05T09:00+08:00 -> 2025-03-06T09:00+08:00"),
    ]
    why = engine.explain("escalation:I1-extension_approved-21")
    assert why is not None
    assert [r.line for r in why.rules] == [8, 6]  # the extension rule, then the unit's limit
    assert why.inputs["deadline before"] == "2025-03-05T09:00+08:00"
    assert why.inputs["deadline after"] == "2025-03-06T09:00+08:00"
    assert why.inputs["resolve limit"] == "2 days" and why.inputs["at most"] == 2
    # nothing goes up before the new deadline; at it, the case goes to the grid, and says why
    assert engine.tick(at(71)) == []
    [up] = engine.tick(at(72))
    assert up.to_node == "g1" and "not resolved within 2 days + 1 day extension" in up.reason


def test_working_time_limits_extend_by_working_days(engine: Engine) -> None:
    engine.record(IncidentReported(id="r", time=T0, actor="worker1", node="u11", incident="I1",
                                   category="leaking_pipe"))
    [up] = engine.tick(at(2))  # not accepted in 2 hours: now at the grid, 2 working days to resolve
    assert up.to_node == "g1"
    engine.record(ev(IncidentAccepted, 3, "leader1"))
    assert esc.incident(engine, "I1").next_deadline == datetime(2025, 3, 5, 11, 0, tzinfo=TZ)
    engine.record(ev(ExtensionRequested, 4, "worker1", days=1, hours=2, reason="需要协调物业"))
    engine.record(ev(ExtensionApproved, 5, "leader1"))
    # 1 working day and 2 working hours later: Thursday 13:00
    assert esc.incident(engine, "I1").next_deadline == datetime(2025, 3, 6, 13, 0, tzinfo=TZ)
    assert "+1 working day 2 hours" in esc.timeline(engine, "I1")[-1].detail


def test_a_refused_request_leaves_the_deadline(engine: Engine) -> None:
    accepted(engine)
    engine.record(ev(ExtensionRequested, 20, "unitlead", days=1, reason="等待配件"))
    engine.record(ev(ExtensionRefused, 21, "leader1", reason="配件已到"))
    view = esc.incident(engine, "I1")
    assert view.next_deadline == at(48) and view.extensions == () and view.extension_request is None
    assert esc.timeline(engine, "I1")[-1].detail == "1 day asked by unitlead: 配件已到"


def refusal(engine: Engine, event: Any) -> str:
    before = engine.store.count()
    with pytest.raises(EventRefused) as caught:
        engine.record(event)
    assert engine.store.count() == before
    return caught.value.reasons[0]


def test_what_is_refused_and_why(engine: Engine, tmp_path: Path) -> None:
    accepted(engine)
    assert "no extension request waiting" in refusal(engine, ev(ExtensionApproved, 1, "leader1"))
    assert "more than one extension may give: 2 days" in refusal(
        engine, ev(ExtensionRequested, 1, "unitlead", days=2, hours=1, reason="x"))
    assert "res2 may not ask for more time on incident I1" in refusal(
        engine, ev(ExtensionRequested, 1, "res2", days=1, reason="x"))
    engine.record(ev(ExtensionRequested, 2, "worker1", days=1, reason="x"))
    assert "already has an extension request waiting" in refusal(
        engine, ev(ExtensionRequested, 3, "unitlead", days=1, reason="y"))
    assert refusal(engine, ev(ExtensionApproved, 3, "worker1")) == (
        "worker1 asked for this extension and may not approve it themselves (不能批复自己的延期申请)")
    assert "only the grid_leader of u11 or above may" in refusal(engine, ev(ExtensionApproved, 3, "unitlead"))
    engine.record(ev(ExtensionApproved, 4, "leader1"))
    engine.record(ev(ExtensionRequested, 5, "unitlead", hours=5, reason="z"))
    engine.record(ev(ExtensionApproved, 6, "leader1"))
    assert "store.rules:8 allows at most 2" in refusal(
        engine, ev(ExtensionRequested, 7, "unitlead", hours=1, reason="again"))
    assert esc.incident(engine, "I1").next_deadline == at(48 + 24 + 5)
    with pytest.raises(ValueError, match="days or hours"):
        ev(ExtensionRequested, 8, "unitlead", reason="nothing asked")
    bare = open_engine(tmp_path, NO_EXTENSIONS, "bare")
    accepted(bare)
    assert "allow no extension" in refusal(bare, ev(ExtensionRequested, 1, "unitlead", days=1, reason="x"))
    bare.close()


def test_a_waiting_request_lapses_when_the_case_moves_on(engine: Engine) -> None:
    accepted(engine)
    engine.record(ev(ExtensionRequested, 47, "unitlead", days=1, reason="等待配件"))
    [up] = engine.tick(at(48))  # nobody answered in time: sent up on the resolve limit
    assert up.to_node == "g1"
    lapsed = [e for e in esc.timeline(engine, "I1") if e.what == "extension lapsed"]
    assert len(lapsed) == 1 and lapsed[0].detail.endswith("the case went to grid g1")
    assert "no extension request waiting" in refusal(engine, ev(ExtensionApproved, 49, "leader1"))


def test_resolving_ends_a_waiting_request(engine: Engine) -> None:
    accepted(engine)
    engine.record(ev(ExtensionRequested, 5, "unitlead", days=1, reason="等待配件"))
    engine.record(ev(IncidentResolved, 6, "unitlead"))
    assert esc.incident(engine, "I1").extension_request is None
    assert esc.timeline(engine, "I1")[-1].what == "extension lapsed"


def _escalations(engine: Engine, ticks: list[float]) -> list[tuple[str, datetime, str]]:
    accepted(engine)
    engine.record(ev(ExtensionRequested, 20, "unitlead", days=2, reason="等待配件"))
    engine.record(ev(ExtensionApproved, 21, "leader1"))
    fired = []
    for hour in ticks:
        fired += engine.tick(at(hour))
    return [(e.id, e.time, e.to_node) for e in fired]


@pytest.mark.parametrize("ticks", [[200.0], [30, 60, 95, 96, 97, 150, 200], [h * 7.0 for h in range(1, 29)]])
def test_the_escalations_do_not_depend_on_how_often_time_is_ticked(tmp_path: Path, ticks: list[float]) -> None:
    engine = open_engine(tmp_path)
    fired = _escalations(engine, ticks)
    engine.close()
    # 48 hours + 2 days at the unit; then 2 working days at the grid (to Friday 09:00+2 working days)
    assert fired == [("esc:I1:1", at(96), "g1"), ("esc:I1:2", datetime(2025, 3, 11, 9, 0, tzinfo=TZ), "wh")]


def test_english_and_chinese_extension_rules_are_the_same(tmp_path: Path) -> None:
    english, chinese = open_engine(tmp_path, RULES, "en"), open_engine(tmp_path, RULES_ZH, "zh")
    for engine in (english, chinese):
        accepted(engine)
        engine.record(ev(ExtensionRequested, 20, "unitlead", days=2, reason="等待配件"))
        engine.record(ev(ExtensionApproved, 21, "leader1"))
    assert esc.incident(english, "I1").next_deadline == esc.incident(chinese, "I1").next_deadline == at(96)
    english.close()
    chinese.close()


def run(*args: str) -> Any:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_extensions_from_the_command_line(tmp_path: Path) -> None:
    rules = tmp_path / "extensions.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "cli")
    assert run("init", "--community", str(COMMUNITY), "--ruleset", str(rules),
               "--effective", "2025-03-01T00:00+08:00", "--store", store).exit_code == 0

    def step(*args: str, now: str) -> str:
        result = run("incidents", *args, "--store", store, "--now", now)
        assert result.exit_code == 0, result.output
        return str(result.output)

    step("report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")
    step("accept", "I1", "--actor", "unitlead", now="2025-03-03T09:30+08:00")
    said = step("extend", "I1", "--actor", "unitlead", "--days", "1", "--reason", "等待配件",
                now="2025-03-04T09:00+08:00")
    assert "extension requested (1 day: 等待配件); incident I1 is accepted at unit u11" in said
    refused = run("incidents", "approve-extension", "I1", "--actor", "unitlead", "--store", store,
                  "--now", "2025-03-04T10:00+08:00")
    assert refused.exit_code == 1 and "may not approve it themselves" in refused.output
    said = step("approve-extension", "I1", "--actor", "leader1", now="2025-03-04T10:00+08:00")
    assert "extension approved (+1 day: resolve due 2025-03-05T09:00+08:00 -> 2025-03-06T09:00+08:00)" in said
    listed = json.loads(run("incidents", "timeline", "I1", "--store", store, "--format", "json").stdout)
    assert [row["step"] for row in listed["rows"]][-2:] == ["extension requested", "extension approved"]
    step("extend", "I1", "--actor", "unitlead", "--hours", "4", "--reason", "再等一天",
         now="2025-03-05T09:00+08:00")
    said = step("refuse-extension", "I1", "--actor", "leader1", "--reason", "配件已到",
                now="2025-03-05T10:00+08:00")
    assert "extension refused (4 hours asked by unitlead: 配件已到)" in said
    quiet = run("tick", "--store", store, "--now", "2025-03-06T08:59+08:00")
    assert quiet.exit_code == 0
    assert json.loads(run("incidents", "list", "--store", store, "--format", "json",
                          "--now", "2025-03-06T08:59+08:00").output)["rows"][0]["level"] == "unit"


def test_a_checkpoint_keeps_requests_extensions_and_their_explanations(tmp_path: Path) -> None:
    engine = open_engine(tmp_path)
    accepted(engine)
    accepted(engine, "I2")
    engine.record(ev(ExtensionRequested, 20, "unitlead", days=1, reason="等待配件"))
    engine.record(ev(ExtensionApproved, 21, "leader1"))
    engine.record(ev(ExtensionRequested, 22, "unitlead", "I2", hours=3, reason="等住户"))
    before = (esc.incident(engine, "I1"), esc.incident(engine, "I2"), esc.timeline(engine, "I1"))
    engine.checkpoint()
    engine.close()
    again = Engine.open(store=str(tmp_path / "store"), clock=FixedClock(T0),
                        plugins=get_plugin_manager(("points", "assessment")))
    assert (esc.incident(again, "I1"), esc.incident(again, "I2"), esc.timeline(again, "I1")) == before
    why = again.explain("escalation:I1-extension_approved-21")
    assert why is not None and why.inputs["deadline after"] == "2025-03-06T09:00+08:00"
    again.record(ev(ExtensionApproved, 23, "leader1", "I2"))
    assert esc.incident(again, "I2").next_deadline == at(51)
    again.close()
