"""The escalation plugin's metrics, computed from real events under a real ladder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore_escalation.events import IncidentReported

DATA = Path(__file__).parent / "data" / "escalation"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday, 09:00
MARCH = (datetime(2025, 3, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    the_engine = Engine.open(
        store=str(tmp_path / "store"),
        community=DATA / "community",
        ruleset=DATA / "ladder-unit.rules",
        effective=T0 - timedelta(days=30),
        clock=FixedClock(T0 - timedelta(days=30)),
        plugins=get_plugin_manager(("points", "assessment")),
    )
    yield the_engine
    the_engine.close()


def report(incident: str, category: str) -> IncidentReported:
    return IncidentReported(
        id=f"{incident}-report", time=T0, actor="worker1", node="u11",
        incident=incident, category=category,
    )  # fmt: skip


def overdue(engine: Engine, node: str) -> float:
    value = engine.metric("overdue_incidents", node, *MARCH)
    assert value is not None
    return value.value


def test_overdue_incidents_counts_incidents_once_where_they_missed_a_limit(engine: Engine) -> None:
    # I1, a leak nobody accepts, misses the unit's, the grid's and the street's limits;
    # F1, a fire hazard, goes straight to the community and misses its limits there
    # (to the housing department, then up) and at the street.
    engine.record(report("I1", "leaking_pipe"))
    engine.record(report("F1", "fire_hazard"))
    engine.tick(T0 + timedelta(hours=8))
    assert overdue(engine, "wh") == 2  # two incidents, however many limits they missed
    assert overdue(engine, "yq") == 2  # I1 missed at u11 and g1, F1 at yq itself
    assert overdue(engine, "g1") == 1  # F1's misses were the community's, not the grid's
    assert overdue(engine, "u11") == 1
    assert overdue(engine, "g2") == 0
    inputs = engine.metric("overdue_incidents", "g1", *MARCH)
    assert inputs is not None
    assert inputs.inputs == {"incidents": 1, "limits missed": 2, "overdue": "I1"}


def test_a_miss_outside_the_period_is_not_counted(engine: Engine) -> None:
    engine.record(report("I1", "leaking_pipe"))
    engine.tick(T0 + timedelta(hours=8))
    april = (datetime(2025, 4, 1, tzinfo=TZ), datetime(2025, 5, 1, tzinfo=TZ))
    value = engine.metric("overdue_incidents", "wh", *april)
    assert value is not None and value.value == 0


def test_a_metric_read_again_after_a_change_sees_the_change(engine: Engine) -> None:
    """The metrics index a period's incidents once for every node; a new event or tick makes a fresh index."""
    engine.record(report("I1", "leaking_pipe"))
    assert overdue(engine, "g1") == 0 and engine.metric("acceptance_within_limit", "g1", *MARCH) is not None
    engine.tick(T0 + timedelta(hours=8))
    assert overdue(engine, "g1") == 1  # the tick moved the clock and I1 missed its limits
    engine.record(IncidentReported(id="I2-report", time=T0 + timedelta(hours=9), actor="worker1", node="u12",
                                   incident="I2", category="leaking_pipe"))
    accepted = engine.metric("acceptance_within_limit", "g1", *MARCH)
    assert accepted is not None and accepted.inputs["incidents"] == 2  # I2 is counted at once


CONDITIONAL = """\
ruleset conditional
levels: street > community > grid > unit

escalation:
  incident any: start at unit
  limit unit: resolve within 48 hours
  limit grid: accept within 4 hours, resolve within 3 days
  limit for leaking_pipe: when incident.severity >= 4 accept within 1 hour
"""


@pytest.mark.parametrize("first", [5, 1])
def test_acceptance_counts_the_cases_a_condition_gave_an_accept_limit(tmp_path: Path, first: int) -> None:
    """Whether a case had an accept limit where it started is kept by category and level only for a policy
    whose ``limit for`` clauses have no condition: here the severity decides it, case by case."""
    rules = tmp_path / "conditional.rules"
    rules.write_text(CONDITIONAL, encoding="utf-8")
    engine = Engine.open(store=str(tmp_path / "store"), community=DATA / "community", ruleset=rules,
                         effective=T0 - timedelta(days=30), clock=FixedClock(T0 - timedelta(days=30)),
                         plugins=get_plugin_manager(("points", "assessment")))
    try:
        for n, severity in enumerate((first, 6 - first, first)):
            engine.record(IncidentReported(id=f"L{n}-report", time=T0 + timedelta(minutes=n), actor="worker1",
                                           node="u11", incident=f"L{n}", category="leaking_pipe", severity=severity))
        value = engine.metric("acceptance_within_limit", "u11", *MARCH)
        limited = 2 if first >= 4 else 1  # (the cases of severity 4 or more: an accept limit at the unit)
        assert value is not None and value.inputs == {"accepted within limit": limited, "incidents": limited}
    finally:
        engine.close()
