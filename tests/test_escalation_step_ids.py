"""The id a step typed in gets: ``INCIDENT:STEP:TIME``, and the actor too when another person's step holds it.

A grid leader accepting a case in the minute a gridworker did is told it was already accepted (the
step judged on its merits), not that its id conflicts with the stored one; a command typed again is
still the same event, a duplicate (replay never counts it twice), and stored ids never change.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from zhladder import init_store

from gridcore_app.cli import main_group

AT = "2025-03-03T09:20+08:00"
ACCEPT = "I1:accept:2025-03-03T09:20:00+08:00"


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def step(store: str, *args: str, now: str = AT) -> Result:
    return run("incidents", *args, "--store", store, "--now", now, "--format", "json")


def test_a_second_officer_in_the_same_minute_is_told_the_case_was_already_accepted(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    assert step(store, "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "张伟",
                now="2025-03-03T09:00+08:00").exit_code == 0
    first = step(store, "accept", "I1", "--actor", "worker1")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["event"] == ACCEPT  # the id the command always made
    second = step(store, "accept", "I1", "--actor", "leader1")
    assert second.exit_code != 0
    assert f"event {ACCEPT}:leader1 refused: incident I1 was already accepted by worker1 (事件已被受理)" \
        in second.output, second.output
    assert "same id" not in second.output
    # typed again: the same event, a harmless duplicate; the second officer's is refused again, for the same reason
    again = step(store, "accept", "I1", "--actor", "worker1")
    assert again.exit_code == 0 and json.loads(again.stdout) | {"happened": []} == json.loads(first.stdout) | {
        "stored": False, "happened": []}, again.output
    assert "was already accepted by worker1" in step(store, "accept", "I1", "--actor", "leader1").output
    lines = json.loads(run("incidents", "timeline", "I1", "--store", store, "--now", AT,
                           "--format", "json").stdout)["rows"]
    assert [(r["step"], r["actor"]) for r in lines if r["step"] == "accepted"] == [("accepted", "worker1")]


def test_two_residents_rating_in_the_same_minute_are_both_recorded_once(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    when = "2025-03-03T12:00+08:00"
    for args, now in ((("report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "张伟"),
                       "2025-03-03T09:00+08:00"),
                      (("accept", "I1", "--actor", "worker1"), "2025-03-03T09:10+08:00"),
                      (("resolve", "I1", "--actor", "worker1"), "2025-03-03T10:00+08:00")):
        done = step(store, *args, now=now)
        assert done.exit_code == 0, done.output
    rated = [step(store, "rate", "I1", "--actor", who, "--score", score, now=when)
             for who, score in (("张伟", "5"), ("leader1", "4"), ("张伟", "5"), ("leader1", "4"))]
    assert all(r.exit_code == 0 for r in rated), [r.output for r in rated]
    said = [json.loads(r.stdout) for r in rated]
    assert [(s["event"], s["stored"]) for s in said] == [
        ("I1:rate:2025-03-03T12:00:00+08:00", True), ("I1:rate:2025-03-03T12:00:00+08:00:leader1", True),
        ("I1:rate:2025-03-03T12:00:00+08:00", False), ("I1:rate:2025-03-03T12:00:00+08:00:leader1", False)]
    lines = json.loads(run("incidents", "timeline", "I1", "--store", store, "--now", when,
                           "--format", "json").stdout)["rows"]
    assert [(r["actor"], r["detail"]) for r in lines if r["step"] == "rated"] == [
        ("张伟", "satisfaction 5"), ("leader1", "satisfaction 4")]
