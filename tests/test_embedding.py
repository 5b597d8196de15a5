"""The embedding API: every error an embedder can meet is a documented GridcoreError exported from gridcore."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import START, small_community

import gridcore
import gridcore_escalation
import gridcore_points
from gridcore import (
    Engine,
    FixedClock,
    GridcoreError,
    HierarchyError,
    InvalidTypeError,
    InvalidValueError,
    PeriodError,
    PluginError,
    RosterError,
    UnknownNameError,
    hookimpl,
)
from gridcore.events import ActivityRecorded
from gridcore.rules import RulesError

RULES = Path(__file__).parent / "data" / "engine" / "cleanup.rules"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    with Engine.open(store=str(tmp_path / "s"), community=small_community(), ruleset=RULES, effective=START,
                     clock=FixedClock(START)) as opened:
        yield opened


def test_every_error_class_is_exported_and_is_a_gridcore_error() -> None:
    errors = [getattr(gridcore, name) for name in gridcore.__all__ if name.endswith("Error")]
    assert {e.__name__ for e in errors} >= {"PeriodError", "InvalidValueError", "InvalidTypeError",
                                            "UnknownNameError", "PluginError", "EventError", "StoreError"}
    assert all(issubclass(e, GridcoreError) for e in errors)
    # They stay what Python code expected before: ValueError, TypeError, LookupError.
    assert issubclass(InvalidValueError, ValueError) and issubclass(PeriodError, ValueError)
    assert issubclass(InvalidTypeError, TypeError) and issubclass(UnknownNameError, LookupError)


def test_unknown_members_and_statuses_raise(engine: Engine) -> None:
    with pytest.raises(UnknownNameError, match="unknown member 'ghost'"):
        gridcore_points.balance(engine, "ghost")
    with pytest.raises(UnknownNameError, match="unknown member 'ghost'"):
        gridcore_points.entries(engine, "ghost")
    with pytest.raises(UnknownNameError, match="unknown member 'ghost'"):
        gridcore_points.statement(engine, "ghost", "2025-03")
    assert gridcore_points.balance(engine, "res2") == 0  # known, with no points: zero
    with pytest.raises(UnknownNameError, match=r"unknown status 'opn' \(known: open, reported, "):
        gridcore_escalation.incidents(engine, status="opn")
    with pytest.raises(UnknownNameError, match="unknown node 'g9'"):
        gridcore_escalation.incidents(engine, within="g9")
    assert gridcore_escalation.incidents(engine, status="open") == []
    with pytest.raises(UnknownNameError, match="no incident 'i404'"):
        gridcore_escalation.incident(engine, "i404")
    with pytest.raises(UnknownNameError, match="no metric named 'happiness'"):
        engine.metric("happiness", "g1", START, START + timedelta(days=1))
    with pytest.raises(UnknownNameError, match="no report named 'nope'"):
        engine.report("nope")
    with pytest.raises(UnknownNameError, match=r"no plugin knows a decision 'x:1' \(没有这个决定编号"):
        engine.explain("x:1")
    # The community's own lookups: an unknown name as the guide says, and what they raised before
    with pytest.raises(UnknownNameError, match="unknown member 'ghost'") as member:
        engine.community.member("ghost")
    assert isinstance(member.value, RosterError)
    with pytest.raises(UnknownNameError, match="unknown node 'g9'") as node:
        engine.community.hierarchy.node("g9")
    assert isinstance(node.value, HierarchyError)


def test_naive_times_and_wrong_types_raise_gridcore_errors(engine: Engine) -> None:
    naive = datetime(2025, 3, 1, 9, 0)
    with pytest.raises(InvalidValueError, match="has no time zone"):
        engine.tick(naive)
    with pytest.raises(InvalidValueError, match="has no time zone"):
        FixedClock(naive)
    with pytest.raises(InvalidValueError, match="clock cannot go back"):
        FixedClock(START).set(START - timedelta(days=1))
    with pytest.raises(InvalidValueError, match="has no time zone"):
        gridcore_points.balance(engine, "res1", at=naive)
    with pytest.raises(InvalidValueError, match="has no time zone"):
        gridcore_escalation.overdue(engine, now=naive)
    with pytest.raises(InvalidValueError, match="has no time zone"):
        engine.metric("points_per_resident", "g1", naive, START)
    with pytest.raises(InvalidValueError, match="has no time zone"):
        list(engine.events(since=naive))
    with pytest.raises(InvalidTypeError, match="expected a datetime with a time zone, got str"):
        engine.tick("2025-03-01T09:00+08:00")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="time must carry a time zone"):
        ActivityRecorded(id="a", time=naive, actor="res1", node="u11", activity="clean_up")
    with pytest.raises(InvalidTypeError, match="time must be a datetime"):
        ActivityRecorded(id="a", time="today", actor="res1", node="u11", activity="clean_up")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="hours must not be negative"):
        ActivityRecorded(id="a", time=START, actor="res1", node="u11", activity="clean_up", hours=-1)
    with pytest.raises(PeriodError):
        gridcore_points.statement(engine, "res1", "March")
    with pytest.raises(InvalidValueError, match="unknown format 'xml'"):
        engine.report("points.rewards").render("xml")


def test_a_plugins_mistake_reaches_an_embedder_as_a_plugin_error(tmp_path: Path) -> None:
    class Sloppy:
        @hookimpl
        def gridcore_on_open(self, engine: Engine) -> None:
            raise AttributeError("'NoneType' object has no attribute 'ledger'")

    from gridcore import get_plugin_manager

    with pytest.raises(PluginError, match="plugin 'Sloppy' failed in gridcore_on_open: AttributeError"):
        Engine.open(store=str(tmp_path / "s"), community=small_community(),
                    plugins=get_plugin_manager(extra=[Sloppy()]))


def test_open_finds_the_parent_ruleset_on_its_search_path(tmp_path: Path) -> None:
    """From an installed wheel there is no source checkout's rulesets/: an embedder names the folder
    the parent of ``extends`` is in (docs/embedding.md)."""
    repo = Path(__file__).resolve().parent.parent
    library = tmp_path / "library"
    library.mkdir()
    (library / "our-base.rules").write_text((repo / "rulesets" / "district-base.rules").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    child = tmp_path / "ours.rules"
    text = (repo / "rulesets" / "yinquan" / "yinquan.rules").read_text(encoding="utf-8")
    assert 'extends "district-base"' in text
    child.write_text(text.replace('extends "district-base"', 'extends "our-base"'), encoding="utf-8")
    community = repo / "rulesets" / "yinquan"
    with pytest.raises(RulesError, match='extends "our-base", but no our-base.rules'):
        Engine.open(store=str(tmp_path / "s1"), community=community, ruleset=child, clock=FixedClock(START))
    with Engine.open(store=str(tmp_path / "s2"), community=community, ruleset=child, clock=FixedClock(START),
                     search_path=[library]) as opened:
        assert opened.ruleset is not None and opened.ruleset.name == "银泉社区"


def test_events_of_one_kind_written_alone_is_a_type_error(engine: Engine) -> None:
    """``kinds="activity_recorded"`` iterated its letters and read nothing, silently."""
    engine.record(ActivityRecorded(id="a1", time=START, actor="res1", node="u11", activity="clean_up", hours=1))
    assert [e.id for e in engine.events(kinds=["activity_recorded"])] == ["a1"]
    with pytest.raises(InvalidTypeError, match=r"write kinds=\['activity_recorded'\]"):
        list(engine.events(kinds="activity_recorded"))


def test_count_cell_reads_counts_back_and_refuses_the_rest() -> None:
    from datetime import date
    from decimal import Decimal
    from fractions import Fraction

    from gridcore.reports import count_cell

    assert [count_cell(v) for v in (None, 0, 7, Fraction(6, 2), Decimal(4))] == [0, 0, 7, 3, 4]
    for bad in ("3", Fraction(1, 2), Decimal("2.5"), date(2025, 1, 1), 1.0):
        with pytest.raises(TypeError, match="not a count"):
            count_cell(bad)
