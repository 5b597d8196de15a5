"""``gridcore incidents ...`` through the real command line (CliRunner on the root group)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from gridcore_app.cli import main_group

COMMUNITY = Path(__file__).parent / "data" / "escalation" / "community"
NOW = "2025-03-03T09:00+08:00"


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_the_loop_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert run("init", "--community", str(COMMUNITY), "--store", store).exit_code == 0
    done = run(
        "incidents",
        "report",
        "事件1",
        "--category",
        "漏水",
        "--node",
        "u11",
        "--actor",
        "张伟",
        "--severity",
        "2",
        "--place",
        "b1",
        "--store",
        store,
        "--now",
        NOW,
    )
    assert done.exit_code == 0, done.output
    assert "incident 事件1 is reported at unit u11" in done.output

    refused = CliRunner().invoke(
        main_group,
        [
            "incidents",
            "resolve",
            "事件1",
            "--actor",
            "worker1",
            "--store",
            store,
            "--now",
            "2025-03-03T09:10+08:00",
        ],
    )
    assert refused.exit_code == 1
    assert "must be accepted before it can be resolved" in refused.output

    for args in (
        ("accept", "事件1", "--actor", "worker1", "--now", "2025-03-03T09:20+08:00"),
        (
            "pause",
            "事件1",
            "--actor",
            "worker1",
            "--reason",
            "等待配件",
            "--now",
            "2025-03-03T09:30+08:00",
        ),
        ("resume", "事件1", "--actor", "worker1", "--now", "2025-03-03T10:30+08:00"),
        ("resolve", "事件1", "--actor", "worker1", "--now", "2025-03-03T11:00+08:00"),
        (
            "verify",
            "事件1",
            "--actor",
            "leader1",
            "--satisfaction",
            "5",
            "--now",
            "2025-03-03T12:00+08:00",
        ),
        ("rate", "事件1", "--actor", "张伟", "--score", "4", "--now", "2025-03-03T12:30+08:00"),
        ("close", "事件1", "--actor", "leader1", "--now", "2025-03-03T13:00+08:00"),
    ):
        result = run("incidents", *args, "--store", store)
        assert result.exit_code == 0, result.output

    listed = run(
        "incidents",
        "list",
        "--status",
        "closed",
        "--store",
        store,
        "--format",
        "json",
        "--now",
        NOW,
    )
    rows = json.loads(listed.output)["rows"]
    assert [(r["incident"], r["status"], r["satisfaction"]) for r in rows] == [
        ("事件1", "closed", 5)
    ]

    timeline = run(
        "incidents", "timeline", "事件1", "--store", store, "--format", "csv", "--now", NOW
    )
    steps = [line.split(",")[1] for line in timeline.output.splitlines()[1:]]
    assert steps == [
        "reported",
        "no policy",
        "accepted",
        "paused",
        "resumed",
        "resolved",
        "verified",
        "rated",
        "closed",
    ]

    stats = run(
        "incidents",
        "stats",
        "--period",
        "2025-03",
        "--store",
        store,
        "--format",
        "json",
        "--now",
        NOW,
    )
    assert json.loads(stats.output)["rows"] == [
        {
            "category": "漏水",
            "level": "unit",
            "reported": 1,
            "repeat reports": 0,
            "escalated": 0,
            "closed": 1,
        }
    ]
    every = run(
        "incidents", "list", "--status", "all", "--store", store, "--format", "csv", "--now", NOW
    )
    assert every.output.splitlines()[1].startswith("事件1,漏水,2,u11,unit,u11,closed,0,5")
    empty = run("incidents", "list", "--store", store, "--now", NOW)
    assert "(no rows / 无记录)" in empty.output and "no escalation policy is in force" in empty.output


def test_bad_input_gets_a_clean_message(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    run("init", "--community", str(COMMUNITY), "--store", store)
    unknown = CliRunner().invoke(main_group, ["incidents", "timeline", "nope", "--store", store])
    assert unknown.exit_code == 1 and "no incident 'nope'" in unknown.output
    period = CliRunner().invoke(
        main_group, ["incidents", "stats", "--period", "March", "--store", store]
    )
    assert period.exit_code == 2 and "period 'March' not understood" in period.output
    stranger = CliRunner().invoke(
        main_group,
        [
            "incidents",
            "report",
            "I1",
            "--category",
            "x",
            "--node",
            "u11",
            "--actor",
            "nobody",
            "--store",
            store,
            "--now",
            NOW,
        ],
    )
    assert stranger.exit_code == 1 and "unknown actor 'nobody'" in stranger.output


RULES = Path(__file__).parent / "data" / "escalation" / "ladder-unit.rules"


def test_tick_escalates_and_the_reports_show_it(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    init = run(
        "init",
        "--community",
        str(COMMUNITY),
        "--ruleset",
        str(RULES),
        "--effective",
        "2025-03-01T00:00+08:00",
        "--store",
        store,
    )
    assert init.exit_code == 0, init.output
    run(
        "incidents",
        "report",
        "I1",
        "--category",
        "leaking_pipe",
        "--node",
        "u11",
        "--actor",
        "worker1",
        "--store",
        store,
        "--now",
        NOW,
    )
    ticked = run("tick", "--store", store, "--now", "2025-03-03T16:30+08:00")
    assert ticked.exit_code == 0, ticked.output
    assert "esc:I1:1" in ticked.output and "esc:I1:2" in ticked.output
    listed = run(
        "incidents", "list", "--store", store, "--format", "json", "--now", "2025-03-03T16:30+08:00"
    )
    row = json.loads(listed.output)["rows"][0]
    assert (row["incident"], row["node"], row["level"], row["escalations"]) == (
        "I1",
        "wh",
        "street",
        2,
    )
    assert row["age"] == "7h30"
    overdue = run(
        "incidents",
        "overdue",
        "--store",
        store,
        "--format",
        "json",
        "--now",
        "2025-03-03T16:30+08:00",
    )
    late = json.loads(overdue.output)["rows"][0]
    assert (late["incident"], late["limit"], late["overdue by"]) == ("I1", "accept", "0h30")
    assert late["rule"].endswith("ladder-unit.rules:11")
    explained = run("explain", "escalation:esc:I1:1", "--store", store)
    assert "not accepted within 2 hours at unit u11" in explained.output
    assert "ladder-unit.rules:8" in explained.output


def test_whistle_blowing_from_the_command_line(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    run("init", "--community", str(COMMUNITY), "--store", store)
    run(
        "incidents",
        "report",
        "I1",
        "--category",
        "dispute",
        "--node",
        "u21",
        "--actor",
        "worker2",
        "--store",
        store,
        "--now",
        NOW,
    )
    moved = run(
        "incidents",
        "escalate",
        "I1",
        "--actor",
        "worker2",
        "--to",
        "yq",
        "--department",
        "police",
        "--reason",
        "需要派出所",
        "--store",
        store,
        "--now",
        "2025-03-03T09:30+08:00",
        "--format",
        "json",
    )
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output) == {
        "event": "I1:escalate:2025-03-03T09:30:00+08:00",
        "stored": True,
        "incident": "I1",
        "happened": ["escalated to community yq, department police"],
        "status": "reported",
        "paused": False,
        "node": "yq",
        "level": "community",
    }
    # the police officer sent down to g1 may act for his department
    accepted = run(
        "incidents",
        "accept",
        "I1",
        "--actor",
        "police1",
        "--store",
        store,
        "--now",
        "2025-03-03T10:00+08:00",
    )
    assert accepted.exit_code == 0, accepted.output
    wrong = CliRunner().invoke(
        main_group,
        [
            "incidents",
            "report",
            "I2",
            "--category",
            "x",
            "--node",
            "u21",
            "--place",
            "b1",
            "--actor",
            "worker2",
            "--store",
            store,
            "--now",
            NOW,
        ],
    )
    assert wrong.exit_code == 1 and "place b1 is in u11, not in u21" in wrong.output


def test_a_grave_report_is_escalated_on_the_spot(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    run(
        "init",
        "--community",
        str(COMMUNITY),
        "--ruleset",
        str(RULES),
        "--effective",
        "2025-03-01T00:00+08:00",
        "--store",
        store,
    )
    done = run(
        "incidents",
        "report",
        "G1",
        "--category",
        "gas_leak",
        "--severity",
        "5",
        "--node",
        "u11",
        "--actor",
        "worker1",
        "--store",
        store,
        "--now",
        NOW,
    )
    assert done.exit_code == 0, done.output
    assert "incident G1 is reported at grid g1" in done.output


def _init_ladder(tmp_path: Path) -> str:
    store = str(tmp_path / "store")
    init = run("init", "--community", str(COMMUNITY), "--ruleset", str(RULES),
               "--effective", "2025-03-01T00:00+08:00", "--store", store)  # fmt: skip
    assert init.exit_code == 0, init.output
    return store


def step(store: str, *args: str, now: str) -> str:
    result = run("incidents", *args, "--store", store, "--now", now)
    assert result.exit_code == 0, result.output
    return result.output


def test_step_commands_say_what_happened(tmp_path: Path) -> None:
    store = _init_ladder(tmp_path)
    report = ("--category", "leaking_pipe", "--node", "u11", "--place", "b1")
    said = step(store, "report", "I1", *report, "--actor", "worker1", now="2025-03-03T09:00+08:00")
    assert "reported; incident I1 is reported at unit u11" in said
    said = step(store, "report", "I2", *report, "--actor", "张伟", now="2025-03-03T09:10+08:00")
    assert said.endswith(": I2 joined incident I1 as repeat report #1; incident I1 is reported at unit u11 "
                         "(已记录上报；事件 I1 已上报，位于最小单元 u11)\n")
    said = step(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T09:20+08:00")
    # staff read what they did in Chinese too (it was English only)
    assert "accepted; incident I1 is accepted at unit u11 (已记录受理；事件 I1 已受理，位于最小单元 u11)" in said
    said = step(store, "pause", "I1", "--actor", "worker1", "--reason", "等待配件", now="2025-03-03T09:30+08:00")
    assert "paused (等待配件); incident I1 is accepted (paused) at unit u11 (已记录暂停；事件 I1 已受理，暂停计时，" in said
    assert step(store, "pause", "I1", "--actor", "worker1", "--reason", "等待配件", "--event-id",
                said.split()[1].rstrip(":"), now="2025-03-03T09:30+08:00").startswith("already recorded ")
    said = step(store, "resume", "I1", "--actor", "worker1", now="2025-03-03T10:30+08:00")
    assert "resumed; incident I1 is accepted at unit u11" in said
    step(store, "resolve", "I1", "--actor", "worker1", now="2025-03-03T11:00+08:00")
    said = step(store, "verify", "I1", "--actor", "leader1", "--satisfaction", "1",
                now="2025-03-03T11:30+08:00")  # fmt: skip
    assert "verified (satisfaction 1, unsatisfied: when satisfaction <= 2), reopened" in said
    assert "incident I1 is reported at unit u11" in said
    doc = json.loads(run("incidents", "accept", "I1", "--actor", "worker1", "--store", store,
                         "--now", "2025-03-03T11:40+08:00", "--format", "json").output)  # fmt: skip
    assert doc["happened"] == ["accepted"] and doc["status"] == "accepted"


def test_the_age_column_leaves_out_paused_time(tmp_path: Path) -> None:
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    step(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T09:20+08:00")
    step(store, "pause", "I1", "--actor", "worker1", "--reason", "等住户在家", now="2025-03-03T09:30+08:00")
    step(store, "resume", "I1", "--actor", "worker1", now="2025-03-03T11:30+08:00")
    step(store, "pause", "I1", "--actor", "worker1", "--reason", "等配件", now="2025-03-03T12:00+08:00")
    listed = run("incidents", "list", "--store", store, "--format", "json", "--now", "2025-03-03T16:00+08:00")
    row = json.loads(listed.output)["rows"][0]
    # 7 hours since the report, 2 h and then 4 h of them paused
    assert row["age"] == "1h00" and row["status"] == "accepted (paused)"


def test_an_escalation_after_a_pause_explains_the_paused_time(tmp_path: Path) -> None:
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    step(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T09:20+08:00")
    step(store, "pause", "I1", "--actor", "worker1", "--reason", "等配件", now="2025-03-04T09:00+08:00")
    step(store, "resume", "I1", "--actor", "worker1", now="2025-03-04T19:00+08:00")
    ticked = run("tick", "--store", store, "--now", "2025-03-06T00:00+08:00")
    assert "esc:I1:1" in ticked.output
    explained = run("explain", "escalation:esc:I1:1", "--store", store).output
    # 48 hours to resolve at the unit, 10 of them paused: due at 19:00 two days on
    assert "not resolved within 2 days at unit u11" in explained
    assert "paused 10h00" in explained and "due 2025-03-05T19:00+08:00" in explained


def test_escalate_to_a_department_alone(tmp_path: Path) -> None:
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    said = step(store, "escalate", "I1", "--actor", "worker1", "--department", "fire",
                "--reason", "楼道堆物", now="2025-03-03T09:10+08:00")  # fmt: skip
    assert "escalated to unit u11, department fire" in said
    helped = " ".join(run("incidents", "escalate", "--help").output.split())
    assert "--to NODE" in helped and "default: where it is now" in helped
    assert "--department" in helped and "line department" in helped
    assert "--reason" in helped and "Why" in helped
    neither = CliRunner().invoke(main_group, ["incidents", "escalate", "I1", "--actor", "worker1",
                                              "--store", store, "--now", "2025-03-03T09:20+08:00"])
    assert neither.exit_code == 2 and "--to" in neither.output and "--department" in neither.output


def test_steps_recorded_with_now_latest_follow_what_is_stored(tmp_path: Path) -> None:
    """``--now latest`` on a step: recorded one second after the store's newest event. At the very time of the
    report, ``I1:accept:...`` sorted before ``I1:report`` (events at one time are judged in id order) and the
    accept was refused: 'no incident I1 has been reported'."""
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    accepted = step(store, "accept", "I1", "--actor", "worker1", now="最新")
    assert "recorded I1:accept:2025-03-03T09:00:01+08:00: accepted" in accepted
    # the same command again is a step of its own, one second on: refused on its merits
    again = run("incidents", "accept", "I1", "--actor", "worker1", "--store", store, "--now", "latest")
    assert again.exit_code == 1 and "I1 was already accepted by worker1" in again.output


def test_a_store_of_past_events_says_so_and_reads_at_its_newest_event_with_now_latest(tmp_path: Path) -> None:
    # Reads count to the system clock (right for a live community, where a quiet feed must still
    # show its cases growing older); a store of last year's (or simulated) events said "age 614d" and
    # nothing else.  It now says when its newest event was, and --now latest reads it as of then.
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    step(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T09:20+08:00")
    listed = run("incidents", "list", "--store", store, "--format", "json")
    assert listed.exit_code == 0, listed.output
    age = json.loads(listed.stdout)["rows"][0]["age"]
    assert int(age.split("d ")[0]) > 600, age  # e.g. "640d 05h12": counted to today
    assert "the store's newest event is at 2025-03-03 09:20" in listed.stderr
    assert "add --now latest" in listed.stderr and "库中最新事件在 2025-03-03 09:20" in listed.stderr
    at_then = run("incidents", "list", "--store", store, "--now", "2025-03-03T09:20+08:00")
    for word in ("latest", "最新"):
        latest = run("incidents", "list", "--store", store, "--now", word)
        assert latest.exit_code == 0 and latest.stdout == at_then.stdout and latest.stderr == ""
        assert " 0h20 " in latest.stdout
    ticked = run("tick", "--store", store, "--now", "latest")
    assert ticked.stdout.startswith("0 derived event(s) recorded up to 2025-03-03T09:20:00+08:00")
    # a store whose newest event is from today (a live one): no note
    step(store, "report", "I2", "--category", "leaking_pipe", "--node", "u12", "--actor", "worker1",
         now=datetime.now(UTC).isoformat())
    listed = run("incidents", "list", "--store", store)
    assert listed.exit_code == 0 and listed.stderr == "" and "I2" in listed.stdout


def test_a_timeline_names_the_decisions_explain_takes(tmp_path: Path) -> None:
    # A staff trial tried `gridcore explain js-i1` and `esc:js-i1:1` after reading a timeline:
    # nothing named the ids `explain` takes for the steps it showed.
    store = _init_ladder(tmp_path)
    step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
         now="2025-03-03T09:00+08:00")  # fmt: skip
    assert run("tick", "--store", store, "--now", "2025-03-05T09:00+08:00").exit_code == 0
    shown = run("incidents", "timeline", "I1", "--store", store, "--now", "2025-03-05T09:00+08:00")
    note = next(line for line in shown.stdout.splitlines() if line.startswith("explain: "))
    assert note.startswith("explain: gridcore explain escalation:route:I1 (where it started); each escalation: "
                           "escalation:"), shown.stdout
    decisions = ["escalation:route:I1", *note.split("each escalation: ")[1].split(" (")[0].split(", ")]
    assert len(decisions) >= 2
    for decision in decisions:
        explained = run("explain", decision, "--store", store)
        assert explained.exit_code == 0 and explained.stdout.startswith(f"{decision}: "), explained.output


def test_an_acceptance_typed_in_after_later_events_keeps_the_case_where_it_was(tmp_path: Path) -> None:
    # the staff trial's sequence: something at 16:00 is stored first; then a case reported at 09:30
    # (its escalations due by 16:00 are derived and stored at once) and accepted at 09:40
    store = str(tmp_path / "store")
    init = run("init", "--community", str(COMMUNITY), "--ruleset", str(RULES),
               "--effective", "2025-03-01T00:00+08:00", "--store", store)
    assert init.exit_code == 0, init.output
    base = ("--category", "leaking_pipe", "--actor", "worker1", "--store", store)
    for incident, node, now in (("I0", "u21", "2025-03-03T16:00+08:00"), ("I1", "u11", "2025-03-03T09:30+08:00")):
        done = run("incidents", "report", incident, "--node", node, *base, "--now", now)
        assert done.exit_code == 0, done.output
    before = run("incidents", "timeline", "I1", "--store", store, "--now", "latest", "--format", "json")
    assert [r["step"] for r in json.loads(before.output)["rows"]].count("escalated") == 2
    accepted = run("incidents", "accept", "I1", "--actor", "worker1", "--store", store,
                   "--now", "2025-03-03T09:40+08:00")
    assert accepted.exit_code == 0, accepted.output
    shown = run("incidents", "timeline", "I1", "--store", store, "--now", "latest", "--format", "json")
    rows = [(r["time"], r["step"], r["detail"]) for r in json.loads(shown.output)["rows"]]
    met = "accepted at 09:40, within the limit (recorded late) (09:40 已受理，未超时限，补录)"
    assert [row for row in rows if row[1] not in ("reported", "routed")] == [
        ("2025-03-03 09:40", "accepted", "at u11"),
        ("2025-03-03 11:30", "escalation ignored", met),
        ("2025-03-03 15:30", "escalation ignored", met),
    ]
    listed = run("incidents", "list", "--store", store, "--format", "json", "--now", "latest")
    row = next(r for r in json.loads(listed.output)["rows"] if r["incident"] == "I1")
    assert (row["node"], row["level"], row["status"], row["escalations"]) == ("u11", "unit", "accepted", 0)
    overdue = run("incidents", "overdue", "--store", store, "--format", "json", "--now", "latest")
    assert "I1" not in [r["incident"] for r in json.loads(overdue.output)["rows"]]


def _two_cases(store: str) -> None:
    """I1 (Monday 09:00) misses its 2 hours at the unit (11:00), then 4 working hours at the grid (15:00);
    I2, taken on at 10:30, misses the unit's 48 hours to resolve on Wednesday at 10:00.  The engine works
    out I1's second escalation only after applying its first, so after I2's: listed as derived, Monday
    15:00 came after Wednesday (staff read the list as a timeline)."""
    report = ("--category", "leaking_pipe", "--actor", "worker1")
    step(store, "report", "I1", "--node", "u11", *report, now="2025-03-03T09:00+08:00")
    step(store, "report", "I2", "--node", "u21", *report, now="2025-03-03T10:00+08:00")
    step(store, "accept", "I2", "--actor", "worker2", now="2025-03-03T10:30+08:00")


def test_tick_lists_the_derived_events_in_time_order(tmp_path: Path) -> None:
    store = _init_ladder(tmp_path)
    _two_cases(store)
    ticked = run("tick", "--store", store, "--now", "2025-03-05T11:00+08:00")
    assert ticked.exit_code == 0, ticked.output
    assert ticked.stdout.splitlines() == [
        "3 derived event(s) recorded up to 2025-03-05T11:00:00+08:00 (记录派生事件 3 条)",
        "  2025-03-03T11:00:00+08:00  incident_escalated  esc:I1:1",
        "  2025-03-03T15:00:00+08:00  incident_escalated  esc:I1:2",
        "  2025-03-05T10:00:00+08:00  incident_escalated  esc:I2:1",
    ]


def test_the_service_s_tick_lists_them_in_the_same_order(tmp_path: Path) -> None:
    from servicekit import served

    from gridcore import Engine, FixedClock
    from gridcore_app.service import auth

    url = f"sqlite:///{tmp_path / 'tick.db'}"
    run("init", "--community", str(COMMUNITY), "--ruleset", str(RULES), "--effective", "2025-03-01T00:00+08:00",
        "--store", url)
    _two_cases(url)
    with Engine.open(store=url, clock=FixedClock(datetime(2025, 3, 3, 11, tzinfo=UTC))) as engine:
        token = auth.issue(engine, "leader1", "leader")[1]
    with served(url, now=datetime.fromisoformat("2025-03-03T10:30+08:00"), intake=None) as server, \
            server.client(token) as leader:
        answer = leader.post("/api/v1/tick", json={"now": "2025-03-05T11:00:00+08:00"})
    assert answer.status_code == 200, answer.text
    assert [(d["time"], d["event"]) for d in answer.json()["derived"]] == [
        ("2025-03-03T11:00:00+08:00", "esc:I1:1"), ("2025-03-03T15:00:00+08:00", "esc:I1:2"),
        ("2025-03-05T10:00:00+08:00", "esc:I2:1")]
