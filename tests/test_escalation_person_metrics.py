"""Per-person metrics of the incident loop: cases a person resolved within limits, and their satisfaction.

Through the Python API (``engine.metric``), an assessment that rates people by
them (English and Chinese names) and the command line; a limit missed before a
case came to someone is not theirs, one missed while they had it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import gridcore_assessment as assessment
from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

COMMUNITY = Path(__file__).parent / "data" / "escalation" / "community"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday
MARCH = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))

RULES = """\
ruleset people
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours, then go to community
  limit grid: accept within 4 hours, resolve within 3 days
  handler limit unit_leader: resolve within 4 hours, then pass to fulltime_gridworker

assessment:
  period: month
  rate: grid
  metric closure_within_limit: weight 100, full if missing
  stars: 5 if score >= 90, 4 if score >= 60, otherwise 3
  rated people: unit_leader, fulltime_gridworker, grid_leader
  person metric handled_within_limit: weight 50, full if missing
  person metric handled_satisfaction: weight 50, scale 1 to 5, full if missing
  person stars: 5 if score >= 90, 4 if score >= 60, otherwise 2
"""

RULES_ZH = RULES.replace(
    "  person metric handled_within_limit: weight 50, full if missing\n"
    "  person metric handled_satisfaction: weight 50, scale 1 to 5, full if missing\n",
    "  人员指标 个人按时办结率：权重 50，无数据计满分\n"
    "  人员指标 个人满意度：权重 50，区间 1 至 5，无数据计满分\n")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(cls: type, hour: float, actor: str, incident: str, **kw: Any) -> Any:
    return cls(id=f"{incident}-{cls.kind}-{hour}", time=at(hour), actor=actor, node="u11", incident=incident, **kw)


def open_engine(folder: Path, rules: str = RULES) -> Engine:
    path = folder / "people.rules"
    path.write_text(rules, encoding="utf-8")
    return Engine.open(store=str(folder / "store"), community=COMMUNITY, ruleset=str(path),
                       effective=T0 - timedelta(days=2), clock=FixedClock(datetime(2025, 4, 2, tzinfo=TZ)),
                       plugins=get_plugin_manager(("points",)))


def loop(engine: Engine) -> None:
    """Four cases: the unit leader's in time; one passed on to the gridworker, who resolves it in
    his own time; one sent up unaccepted and resolved by the community's master in time; one the grid
    leader took on and resolved after the unit's 48 hours."""
    for n in (1, 2, 3, 4):
        engine.record(IncidentReported(id=f"r{n}", time=T0, actor="张伟", node="u11", incident=f"I{n}",
                                       category="leaking_pipe"))
    engine.record(ev(IncidentAccepted, 0.5, "unitlead", "I1"))
    engine.record(ev(IncidentAccepted, 0.5, "unitlead", "I2"))  # not resolved in 4 hours: passed on at 4
    engine.record(ev(IncidentAccepted, 1, "leader1", "I4"))
    engine.record(ev(IncidentResolved, 2, "unitlead", "I1"))  # I3 goes up to the community at 2
    engine.record(ev(IncidentVerified, 3, "leader1", "I1", satisfaction=4))
    engine.record(ev(IncidentAccepted, 3, "master", "I3"))
    engine.record(ev(IncidentResolved, 4, "master", "I3"))
    engine.record(ev(IncidentAccepted, 5, "worker1", "I2"))
    engine.record(ev(IncidentResolved, 6, "worker1", "I2"))
    engine.record(ev(IncidentVerified, 7, "leader1", "I2", satisfaction=3))
    engine.record(ev(IncidentResolved, 50, "leader1", "I4"))  # the unit's 48 hours ran out at 48
    engine.record(ev(IncidentVerified, 51, "leader1", "I4", satisfaction=5))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = open_engine(tmp_path)
    loop(the_engine)
    yield the_engine
    the_engine.close()


def value(engine: Engine, name: str, member: str) -> Any:
    found = engine.metric(name, member, *MARCH)
    return None if found is None else found.value


def test_a_limit_missed_before_the_case_came_to_someone_is_not_theirs(engine: Engine) -> None:
    assert value(engine, "handled_within_limit", "unitlead") == 100  # I1; I2 was passed on, not resolved by him
    assert value(engine, "handled_within_limit", "worker1") == 100  # I2: the unit leader's 4 hours are his
    assert value(engine, "handled_within_limit", "master") == 100  # I3: the unit's 2 hours to accept are not hers
    late = engine.metric("handled_within_limit", "leader1", *MARCH)
    assert late is not None and late.value == 0 and late.inputs == {"cases resolved": 1, "within limits": 0,
                                                                     "late": "I4"}
    assert value(engine, "handled_within_limit", "worker2") is None  # resolved nothing


def test_satisfaction_scores_whoever_made_the_resolution_verified(engine: Engine) -> None:
    assert value(engine, "handled_satisfaction", "unitlead") == 4
    assert value(engine, "handled_satisfaction", "worker1") == 3
    assert value(engine, "handled_satisfaction", "leader1") == 5  # verified his own: the metric does not judge that
    assert value(engine, "handled_satisfaction", "master") is None  # I3 was never verified
    april = (datetime(2025, 4, 1, tzinfo=TZ), datetime(2025, 5, 1, tzinfo=TZ))
    assert engine.metric("handled_satisfaction", "unitlead", *april) is None


def test_an_assessment_rates_people_by_them_in_english_and_chinese(tmp_path: Path) -> None:
    seen = []
    for name, rules in (("en", RULES), ("zh", RULES_ZH)):
        folder = tmp_path / name
        folder.mkdir()
        with open_engine(folder, rules) as engine:
            loop(engine)
            march = assessment.assess(engine, "2025-03")
            seen.append({m: (march.person(m).score, march.person(m).stars) for m in ("unitlead", "worker1", "leader1")})
    # leader1: 0 of 50 for his late case, satisfaction 5 of 5 (scale 1 to 5): 50 of 50
    assert seen[0] == seen[1] == {"unitlead": (Fraction(175, 2), 4), "worker1": (75, 4), "leader1": (50, 2)}


def test_the_metrics_from_the_command_line(engine: Engine, tmp_path: Path) -> None:
    engine.close()
    result = CliRunner().invoke(main_group, ["report", "assessment.people", "-p", "period=2025-03",
                                             "--store", str(tmp_path / "store"), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["member"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["leader1"]["stars"] == 2 and rows["unitlead"]["stars"] == 4
