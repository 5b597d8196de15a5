"""``gridcore --lang zh incidents timeline`` and ``gridcore --lang zh explain escalation:...``: what staff read
in Chinese, not only the labels.

Each line of a timeline says its detail in Chinese (``提级至街道 wh，因为单元 u11 未在2小时内受理...``), a
level by the community's name for it and a category by its ruleset's, the rule's file:line, ids, times and
amounts as they are; an escalation's, reopening's or start's explanation likewise. JSON and English keep
the English the store holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner, Result
from zhladder import init_store

from gridcore_app.cli import main_group

LATE = "2025-03-03T16:30+08:00"
#: the ruleset's own words, which a Chinese line quotes as written
QUOTED = ("when satisfaction <= 2",)


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def act(store: str, *args: str, now: str) -> None:
    done = run("incidents", *args, "--store", store, "--now", now)
    assert done.exit_code == 0, done.output


def _store(tmp_path: Path) -> str:
    """A street's Monday: a leaking pipe reported twice, verified unsatisfied and reopened, handed to the
    police and sent back; a second left unaccepted until it reaches the street; a fire hazard routed to the
    fire station; a grave matter escalated at once, and one at the street, with nowhere higher to go."""
    store = init_store(tmp_path)
    pipe = ("--category", "leaking_pipe", "--node", "u11", "--place", "b1")
    act(store, "report", "I1", *pipe, "--actor", "worker1", "--key-person", "--description", "楼道漏水",
        now="2025-03-03T09:00+08:00")
    act(store, "report", "I2", *pipe, "--actor", "张伟", now="2025-03-03T09:10+08:00")
    act(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T09:20+08:00")
    act(store, "resolve", "I1", "--actor", "worker1", now="2025-03-03T11:00+08:00")
    act(store, "verify", "I1", "--actor", "leader1", "--satisfaction", "1", now="2025-03-03T11:30+08:00")
    act(store, "accept", "I1", "--actor", "worker1", now="2025-03-03T11:40+08:00")
    act(store, "escalate", "I1", "--actor", "worker1", "--department", "police", "--reason", "吹哨报到：需要民警到场",
        now="2025-03-03T12:00+08:00")
    act(store, "return", "I1", "--actor", "police1", "--department", "police", "--reason", "不属于公安职责",
        now="2025-03-03T12:30+08:00")
    act(store, "report", "I3", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
        now="2025-03-03T09:05+08:00")
    act(store, "report", "F1", "--category", "fire_hazard", "--node", "u11", "--actor", "worker1",
        now="2025-03-03T09:30+08:00")
    act(store, "report", "G1", "--category", "dispute", "--node", "u11", "--severity", "5", "--actor", "worker1",
        now="2025-03-03T09:40+08:00")
    act(store, "report", "G2", "--category", "dispute", "--node", "wh", "--severity", "5", "--actor", "worker1",
        now="2025-03-03T09:45+08:00")
    assert run("tick", "--store", store, "--now", LATE).exit_code == 0
    return store


def _timeline(store: str, incident: str, *lang: str, fmt: str = "csv") -> Result:
    shown = run(*lang, "incidents", "timeline", incident, "--format", fmt, "--store", store, "--now", LATE)
    assert shown.exit_code == 0, shown.output
    return shown


def _details(store: str, incident: str) -> list[tuple[str, str]]:
    """The (step, detail) of each line of ``incident``'s timeline under ``--lang zh``, from its CSV."""
    rows = list(csv.reader(io.StringIO(_timeline(store, incident, "--lang", "zh").output.lstrip("\ufeff"))))
    step, detail = rows[0].index("步骤 step") if "步骤 step" in rows[0] else 1, 4
    # (the step as ``受理 accepted``: its Chinese, then its code)
    return [(row[step].partition(" ")[2], row[detail]) for row in rows[1:]]


def english_left(text: str) -> list[str]:
    """Runs of English words in ``text`` (ids, codes, times and file:line are single words, never a run)."""
    for quoted in QUOTED:
        text = text.replace(quoted, "")
    return re.findall(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,})+", text)


def test_every_line_of_a_chinese_timeline_says_its_detail_in_chinese(tmp_path: Path) -> None:
    store = _store(tmp_path)
    kinds: set[str] = set()
    for incident in ("I1", "I3", "F1", "G1", "G2"):
        for step, detail in _details(store, incident):
            kinds.add(step)
            if detail:
                assert re.search(r"[\u4e00-\u9fff]", detail), (incident, step, detail)
                assert not english_left(detail), (incident, step, detail)
    # the scenario shows the kinds of line a district's week shows (and the test then checks them all)
    assert {"reported", "repeat report", "routed", "accepted", "verified", "reopened", "escalated", "returned",
            "notified", "not escalated"} <= kinds, kinds
    text = _timeline(store, "I3", "--lang", "zh", fmt="text").output
    # levels by the community's names, the limit's span and the exact times, the rule's file:line kept
    assert ("提级至街道 wh，因为网格 g1 未在4个工作小时内受理，受理时限已超（本级计时自 2025-03-03T11:05+08:00 起，"
            "2025-03-03T15:05+08:00 到期）  ladder-unit.rules:10") in text
    lines = _details(store, "I1")
    assert lines[0] == ("reported", "水管漏水（leaking_pipe），严重程度 1；地点 b1；涉及重点人员；楼道漏水")
    assert ("escalated", "交条线部门 外海派出所（police） 办理（最小单元 u11），因为吹哨报到：需要民警到场") in lines
    assert ("returned", "条线部门 外海派出所（police） 退回：不属于公安职责") in lines
    assert ("reopened", "核查满意度 1（规则：when satisfaction <= 2 时重新办理）") in lines


def test_explanations_of_escalations_are_in_chinese(tmp_path: Path) -> None:
    store = _store(tmp_path)
    decisions = ["escalation:route:I3", "escalation:route:F1", "escalation:reopen:I1:1"]
    for incident in ("I1", "I3", "F1", "G1"):
        notes = _timeline(store, incident, fmt="text").output
        decisions += re.findall(r"escalation:(?:esc:\S+:\d+|I1:escalate:\S+?)(?=[, ])", notes)
    assert len(decisions) == 11, decisions
    for decision in decisions:
        said = run("--lang", "zh", "explain", decision, "--store", store)
        assert said.exit_code == 0, said.output
        summary = said.output.splitlines()[0][len(decision) + 2:]
        assert re.search(r"[\u4e00-\u9fff]", summary) and not english_left(summary), summary
        english = run("--lang", "en", "explain", decision, "--store", store).output
        assert not re.search(r"[\u4e00-\u9fff]", english.splitlines()[0].replace("吹哨报到：需要民警到场", "")), english


def test_json_and_english_keep_the_english(tmp_path: Path) -> None:
    store = _store(tmp_path)
    english = _timeline(store, "I3", "--lang", "en").output
    assert "to grid g1: not accepted within 2 hours at unit u11" in english
    assert not re.search(r"[\u4e00-\u9fff]", english.split("\n", 1)[1].split("status:")[0])
    rows = json.loads(_timeline(store, "I3", "--lang", "zh", fmt="json").output)["rows"]
    assert any(r["detail"].startswith("to grid g1: not accepted within 2 hours") for r in rows)
