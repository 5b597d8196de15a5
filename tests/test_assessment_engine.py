"""The assessment plugin through the engine: real .rules files, metrics, stars, history.

Incident metrics normally come from the escalation plugin; here a throwaway
plugin (``IncidentMetrics``) contributes them from the core's incident events,
so these tests do not depend on that plugin being finished.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import REPO, IncidentKinds, small_community

from gridcore import Community, Engine, FixedClock, get_plugin_manager, hookimpl
from gridcore.events import Event, PatrolLogged, ResidentRegistered
from gridcore.metrics import Metric, MetricValue
from gridcore.roster import Member, RoleAssignment
from gridcore.rules import RulesError
from gridcore_assessment import archive as past
from gridcore_assessment.chart import render_svg
from gridcore_assessment.metrics import METRICS
from gridcore_assessment.rating import AssessmentError, assess
from gridcore_assessment.scoring import shown
from gridcore_escalation.events import IncidentClosed, IncidentReported, IncidentVerified

DATA = REPO / "tests" / "data" / "assessment"
QUARTERLY = DATA / "quarterly.rules"
MONTHLY_ZH = DATA / "monthly-zh.rules"
TZ = small_community().tz
LIMIT = timedelta(hours=72)


def at(day: int, hour: int = 9, month: int = 1) -> datetime:
    """A time in January (or ``month``) 2025, Shanghai."""
    return datetime(2025, month, 1, hour, tzinfo=TZ) + timedelta(days=day - 1)


# ---------------------------------------------------------------- a throwaway metrics plugin


def _incidents(engine: Engine, node: str, end: datetime) -> dict[str, dict[str, Any]]:
    hierarchy = engine.community.hierarchy
    found: dict[str, dict[str, Any]] = {}
    for event in engine.events(until=end):
        if isinstance(event, IncidentReported) and hierarchy.is_within(event.node, node):
            found[event.incident] = {"reported": event.time, "closed": None, "satisfaction": None}
        elif isinstance(event, IncidentClosed) and event.incident in found:
            found[event.incident]["closed"] = event.time
        elif isinstance(event, IncidentVerified) and event.incident in found:
            found[event.incident]["satisfaction"] = event.satisfaction
    return found


def _closure(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    mine = [i for i in _incidents(engine, node, end).values() if i["reported"] >= start]
    if not mine:
        return None
    on_time = sum(1 for i in mine if i["closed"] is not None and i["closed"] - i["reported"] <= LIMIT)
    return MetricValue(100.0 * on_time / len(mine), {"incidents": len(mine), "on time": on_time})


def _satisfaction(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue | None:
    scores = [i["satisfaction"] for i in _incidents(engine, node, end).values()
              if i["reported"] >= start and i["satisfaction"] is not None]
    return MetricValue(sum(scores) / len(scores), {"verified": len(scores)}) if scores else None


def _overdue(engine: Engine, node: str, start: datetime, end: datetime) -> MetricValue:
    late = [i for i in _incidents(engine, node, end).values() if i["reported"] >= start
            and i["reported"] + LIMIT < end and (i["closed"] is None or i["closed"] - i["reported"] > LIMIT)]
    return MetricValue(float(len(late)))


class IncidentMetrics:
    """Contributes the metric names the escalation plugin would, computed simply."""

    @hookimpl
    def gridcore_register_metrics(self) -> list[Metric]:
        return [
            Metric("closure_within_limit", "closed within 72h", "%", _closure),
            Metric("mean_satisfaction", "mean satisfaction", "1-5", _satisfaction),
            Metric("overdue_incidents", "overdue", "incidents", _overdue, higher_is_better=False),
        ]


def open_engine(store: Path, rules: Path | None = QUARTERLY, *, metrics: bool = True) -> Engine:
    """An engine with only the assessment plugin (and the throwaway metrics)."""
    pm = get_plugin_manager(("points", "escalation"), extra=[IncidentKinds(), *([IncidentMetrics()] if metrics else [])])
    return Engine.open(store=str(store), community=assessment_community(), ruleset=rules,
                       clock=FixedClock(at(1, 0, month=7)), plugins=pm, effective=at(1, 0))


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Any]:
    opened: list[Engine] = []

    def make(name: str = "s", rules: Path | None = QUARTERLY, **kwargs: Any) -> Engine:
        engine = open_engine(tmp_path / name, rules, **kwargs)
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        engine.close()


# ---------------------------------------------------------------- a quarter of daily work


def assessment_community() -> Community:
    """The small community with a gridworker for grid g2 too: each grid's units are patrolled by its own."""
    base = small_community()
    worker2 = Member(id="worker2", name="周专职", roles=(RoleAssignment("fulltime_gridworker", "g2"),))
    return attrs.evolve(base, members={**base.members, "worker2": worker2})


def patrols(node: str, days: Sequence[int], month: int = 1, prefix: str = "p", actor: str | None = None) -> list[Event]:
    """Patrols of ``node`` on ``days``, by ``actor`` (default: the gridworker of its grid)."""
    actor = actor or ("worker2" if node.startswith("u2") else "worker1")
    return [PatrolLogged(id=f"{prefix}-{node}-{month}-{d}", time=at(d, 8, month), actor=actor, node=node,
                         minutes=40, visits=3) for d in days]


def incident(ident: str, node: str, day: int, *, close_after: float | None = 24, satisfaction: int | None = 5,
             severity: int = 2, month: int = 1) -> list[Event]:
    reported = at(day, 10, month)
    out: list[Event] = [IncidentReported(id=f"{ident}-r", time=reported, actor="res1", node=node, incident=ident,
                                         category="leak", severity=severity)]
    if close_after is not None:
        closed = reported + timedelta(hours=close_after)
        if satisfaction is not None:
            out.append(IncidentVerified(id=f"{ident}-v", time=closed - timedelta(minutes=1), actor="leader1",
                                        node=node, incident=ident, satisfaction=satisfaction))
        out.append(IncidentClosed(id=f"{ident}-c", time=closed, actor="leader1", node=node, incident=ident))
    return out


def quarter() -> list[Event]:
    """g1's units are patrolled every day of Q1, g2's only on even days; a few incidents."""
    days = {1: range(1, 32), 2: range(1, 29), 3: range(1, 32)}
    events: list[Event] = []
    for month, span in days.items():
        events += patrols("u11", span, month) + patrols("u12", span, month)
        events += patrols("u21", [d for d in span if d % 2 == 0], month)
    events += incident("i1", "u11", 5) + incident("i2", "u12", 9, satisfaction=4)
    events += incident("i3", "u21", 7, close_after=200, satisfaction=2)
    events += incident("i4", "u21", 20, close_after=None, severity=5)
    return events


# ---------------------------------------------------------------- tests


def test_a_quarter_is_rated_with_every_term_citing_its_rule(engines: Any) -> None:
    engine = engines()
    engine.record_many(quarter())
    result = assess(engine, "2025-Q1")
    by_node = {r.node: r for r in result.ratings}
    assert list(by_node) == ["g1", "g2", "u11", "u12", "u21"]  # levels top first, ids within
    g1, g2 = by_node["g1"], by_node["g2"]
    assert g1.values["patrol_coverage"] == 100 and g1.values["closure_within_limit"] == 100
    assert g1.values["mean_satisfaction"] == 4.5
    assert g1.score == pytest.approx(40 + 30 + 30 * 3.5 / 4)
    assert g1.stars == 5 and str(g1.star_rule).endswith("quarterly.rules:12")
    lines = {t.metric: t.rule for t in g1.terms}
    assert str(lines["patrol_coverage"]).endswith("quarterly.rules:8")
    assert lines["patrol_coverage"].text == "metric patrol_coverage: weight 40"
    assert str(lines["overdue_incidents"]).endswith("quarterly.rules:11")
    # g2: half its days patrolled, one late incident, one open serious incident
    assert g2.values["unresolved_serious_incidents"] == 1
    assert g2.values["overdue_incidents"] == 2
    assert g2.stars == 2 and str(g2.star_rule).endswith("quarterly.rules:12")


def test_the_star_ladder_needs_its_minimum_conditions(engines: Any) -> None:
    engine = engines()
    events = [e for e in quarter() if not e.id.startswith("i2")]
    engine.record_many(events)
    g1 = assess(engine, "2025-Q1").rating("g1")
    assert g1 is not None and g1.score == 100 and g1.stars == 5
    engine.record_many(incident("i9", "u12", 60, close_after=None, severity=4, month=1))
    g1 = assess(engine, "2025-Q1").rating("g1")
    assert g1 is not None and g1.stars == 4  # an unresolved serious incident keeps it from 5 stars
    assert g1.values["unresolved_serious_incidents"] == 1


def test_the_cap_keeps_one_five_star_grid_and_breaks_ties_by_id(engines: Any, tmp_path: Path) -> None:
    engine = engines()
    events = patrols("u11", range(1, 91)) + patrols("u12", range(1, 91)) + patrols("u21", range(1, 91))
    events += incident("i1", "u11", 3) + incident("i2", "u12", 4) + incident("i3", "u21", 5)
    engine.record_many(events)
    rated = {r.node: r for r in assess(engine, "2025-Q1").ratings}
    assert rated["g1"].score == rated["g2"].score == 100
    assert (rated["g1"].stars, rated["g2"].stars) == (5, 4)
    assert rated["g2"].capped_from == 5 and str(rated["g2"].cap_rule).endswith("quarterly.rules:13")
    assert [rated[u].stars for u in ("u11", "u12", "u21")] == [5, 5, 5]  # the cap is on grids only


def test_two_rulesets_rate_the_same_events_differently(engines: Any) -> None:
    events = quarter() + [
        ResidentRegistered(id="reg1", time=at(2), actor="worker1", node="u11", person="r-a", name="甲"),
        ResidentRegistered(id="reg2", time=at(2), actor="worker2", node="u21", person="r-b", name=""),
    ]
    english, chinese = engines("en", QUARTERLY), engines("zh", MONTHLY_ZH)
    english.record_many(events)
    chinese.record_many(events)
    q1, zh_q1 = assess(english, "2025-Q1"), assess(chinese, "2025-Q1")
    g1_en, g1_zh = q1.rating("g1"), zh_q1.rating("g1")
    assert g1_en is not None and g1_zh is not None
    # English: patrols and closed incidents count, so g1 earns 5 stars; the Chinese
    # ruleset also counts residents' participation, and nobody in g1 took part.
    assert (g1_en.stars, g1_zh.stars) == (5, 4)
    assert g1_zh.values == {"巡查覆盖率": 100, "居民活动参与率": 0, "登记完整率": 100, "未解决重大事件": 0}
    assert g1_zh.score == 70 and str(g1_zh.star_rule).endswith("monthly-zh.rules:12")
    assert str(g1_zh.terms[0].rule).endswith("monthly-zh.rules:8")
    assert g1_zh.terms[0].rule.text == "指标 巡查覆盖率：权重 50"
    g2_zh = zh_q1.rating("g2")
    assert g2_zh is not None and g2_zh.values["登记完整率"] == 0  # r-b was registered without a name
    assert g2_zh.values["未解决重大事件"] == 1  # severity 5 >= the Chinese threshold 3
    assert [r.node for r in assess(chinese, "2025-01").ratings] == ["g1", "g2"]  # only grids
    outcomes_en = {o.subject: o.value for o in english.outcomes()}
    outcomes_zh = {o.subject: o.value for o in chinese.outcomes()}
    assert outcomes_en["node:g1:stars:2025-Q1"] == 5 and "node:u11:stars:2025-Q1" in outcomes_en
    assert {s for s in outcomes_zh if s.startswith("node:g1:stars")} == {
        "node:g1:stars:2025-01", "node:g1:stars:2025-02", "node:g1:stars:2025-03"}
    assert outcomes_zh["node:g1:stars:2025-01"] == 4


def test_results_are_stored_and_periods_compared(engines: Any, tmp_path: Path) -> None:
    engine = engines()
    engine.record_many(quarter())
    q1 = assess(engine, "2025-Q1")
    engine.record_many(patrols("u21", range(1, 92), month=4, prefix="q2")
                       + patrols("u11", range(1, 92), month=4, prefix="q2")
                       + patrols("u12", range(1, 40), month=4, prefix="q2"))
    q2 = assess(engine, "2025-Q2")
    assert [a.period for a in past.history(engine)] == ["2025-Q1", "2025-Q2"]
    assert past.stored(engine, "2025-Q1") == q1
    changes = {c.node: c for c in past.compare(q1, q2)}
    assert changes["g2"].change == "gained" and (changes["g2"].stars_before, changes["g2"].stars_after) == (2, 3)
    assert "patrol_coverage +20" in changes["g2"].why and "quarterly.rules:8" in changes["g2"].why
    assert changes["u12"].change == "lost"
    # reopening the store finds the history
    engine.close()
    again = open_engine(tmp_path / "s", None)
    try:
        assert [a.period for a in past.history(again)] == ["2025-Q1", "2025-Q2"]
        assert past.stored(again, "2025-Q2") == q2
    finally:
        again.close()


def test_explanations_name_rules_and_inputs(engines: Any) -> None:
    engine = engines()
    engine.record_many(quarter())
    assess(engine, "2025-Q1")
    text = engine.explain("assessment:2025-Q1:g2").render()
    assert "grid g2 (第二网格) rated 2 stars for 2025-Q1" in text
    assert "quarterly.rules:12" in text and "quarterly.rules:8" in text
    assert "metric patrol_coverage = 48.89 (cells: 1, slots: 90" in text
    subsidy = engine.explain("assessment:2025-Q1:subsidy:leader1")
    assert subsidy.result == 500 and "grid_leader at g1" in subsidy.render()
    with pytest.raises(Exception, match="no plugin knows"):
        engine.explain("assessment:2025-Q1:nowhere")


def test_subsidies_per_person(engines: Any) -> None:
    engine = engines()
    engine.record_many(quarter())
    result = assess(engine, "2025-Q1")
    lines = {(s.member, s.role): s for s in result.subsidies}
    assert lines[("leader1", "grid_leader")].amount == 500  # g1: 5 stars x 100
    assert lines[("res1", "resident")].amount == 100  # u11: 5 stars -> base 50 x 2
    assert lines[("res2", "resident")].amount == 0  # u21: 2 stars -> otherwise 0
    assert str(lines[("res1", "resident")].rule).endswith("quarterly.rules:15")
    assert {s.member for s in result.subsidies} == {"leader1", "res1", "res2"}


def test_a_metric_no_plugin_contributes_is_a_clear_error(engines: Any) -> None:
    engine = engines(metrics=False)
    with pytest.raises(AssessmentError) as info:
        assess(engine, "2025-Q1")
    message = str(info.value)
    assert "quarterly.rules:9" in message and "'closure_within_limit'" in message
    assert "disabled" in message and "patrol_coverage" in message


def test_without_an_assessment_section_nothing_is_rated(engines: Any) -> None:
    engine = engines(rules=None)
    result = assess(engine, "2025-Q1")
    assert result.ratings == () and "no ruleset is in force" in result.notes[0]


def test_a_broken_ruleset_is_refused_and_the_old_one_stays(engines: Any, tmp_path: Path) -> None:
    engine = engines()
    broken = tmp_path / "broken.rules"
    broken.write_text(QUARTERLY.read_text(encoding="utf-8").replace("weight 30,", "weight,"), encoding="utf-8")
    with pytest.raises(RulesError) as info:
        engine.use_ruleset(broken, effective=at(1, 0, month=2))
    assert "broken.rules:10" in str(info.value)
    assert len(engine.rulesets()) == 1
    assert assess(engine, "2025-Q1", save=False).ratings


def test_periods_follow_the_community_time_zone(engines: Any) -> None:
    engine = engines()
    # 23:30 on 31 March in Shanghai is Q1 even though it is 15:30 UTC; 00:30 on 1 April is Q2
    utc = datetime(2025, 3, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: still Q1
    for n, when in enumerate([utc, utc + timedelta(hours=1)]):  # 00:30 on 1 April: Q2
        engine.record(IncidentReported(id=f"tz{n}", time=when, actor="res1", node="u11", incident=f"T{n}",
                                       category="fire", severity=5))
    u11 = assess(engine, "2025-Q1", save=False).rating("u11")
    assert u11 is not None and u11.values["unresolved_serious_incidents"] == 1
    assert u11.inputs["unresolved_serious_incidents"]["open"] == "T0"


def test_the_chart_has_a_bar_per_node_and_component(engines: Any) -> None:
    import xml.etree.ElementTree as ET

    engine = engines()
    engine.record_many(quarter())
    result = assess(engine, "2025-Q1")
    root = ET.fromstring(render_svg(result))
    ids = [g.get("id", "") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert [i[len("stars-"):] for i in ids if i.startswith("stars-")] == [r.node for r in result.ratings]
    assert "component-g1-patrol_coverage" in ids and "component-g1-mean_satisfaction" in ids
    assert "component-u21-patrol_coverage" in ids
    assert [i for i in ids if i.startswith("penalty-")] == ["penalty-g2", "penalty-u21"]
    labels = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    # (one language a chart: English words by default, the nodes' Chinese names as they are)
    assert "第一网格 (g1)" in labels and "stars per node" in labels and "星级" not in labels
    g2 = result.rating("g2")
    assert g2 is not None and f"{shown(g2.score)} / 100" in labels  # scores printed rounded
    zh = "".join(t.text or "" for t in ET.fromstring(render_svg(result, lang="zh")).iter(
        "{http://www.w3.org/2000/svg}text"))
    assert "第一网格 (g1)" in zh and "星级" in zh and "stars per node" not in zh


def test_own_metrics_are_registered_with_chinese_titles() -> None:
    assert {m.name: m.title_zh for m in METRICS} == {
        "patrol_coverage": "巡查覆盖率",
        "participation": "居民活动参与率",
        "registered_participation": "登记居民活动参与率",
        "registration_completeness": "登记完整率",
        "household_registration": "户登记率",
        "visit_coverage": "入户走访覆盖率",
        "carers_visited_all": "包联户走访到位率",
        "carers_not_visited_all": "包联户走访未到位人数",
        "unresolved_serious_incidents": "未解决重大事件",
    }


def test_a_committee_member_above_the_rated_grids_gets_their_mean_stars(tmp_path: Path) -> None:
    rules = tmp_path / "committee.rules"
    rules.write_text(
        "ruleset committee\nlevels: community > grid > unit\nassessment:\n  rate: grid\n"
        "  metric patrol_coverage: weight 100\n  stars: 5 if score >= 90, 4 if score >= 50, otherwise 2\n"
        "  subsidy committee_member: 100 yuan per star\n  subsidy 网格长: base 300, 2 if stars >= 5, otherwise 1\n",
        encoding="utf-8",
    )
    pm = get_plugin_manager(("points", "escalation"))
    engine = Engine.open(store=str(tmp_path / "s"), community=REPO / "tests/data/community-mini", ruleset=rules,
                         clock=FixedClock(at(1, 0, month=7)), plugins=pm, effective=at(1, 0))
    try:
        summary = engine.record_many(patrols("g1-u1", range(1, 91), actor="m03")
                                     + patrols("g1-u2", range(1, 91), actor="m03")
                                     + patrols("g2-u1", range(1, 91, 2), actor="张伟"))
        assert not summary.refused
        result = assess(engine, "2025-Q1")
        stars = {r.node: r.stars for r in result.ratings}
        assert stars == {"fire": 2, "g1": 5, "g2": 4, "school": 2}  # side grids are grids too
        lines = {(s.member, s.role): s for s in result.subsidies}
        committee = lines[("m01", "committee_member")]
        assert committee.stars == 3.25 and committee.amount == 325
        assert committee.basis == "mean of 4 rated grid nodes under yq"
        assert lines[("m02", "grid_leader")].amount == 600 and lines[("m07", "grid_leader")].amount == 300
    finally:
        engine.close()


def test_a_damaged_stored_assessment_is_reported_with_its_path(engines: Any) -> None:
    engine = engines()
    engine.record_many(quarter())
    doc = past.to_document(assess(engine, "2025-Q1"))
    doc["ratings"][0]["stars"] = "five"
    engine.store.put("assessment", "2025-Q1", doc)
    with pytest.raises(AssessmentError) as info:
        past.stored(engine, "2025-Q1")
    assert "stored assessment '2025-Q1' cannot be read" in str(info.value)
    assert "$.ratings[0].stars" in str(info.value)


def test_the_state_is_attached_beside_the_plugin_not_instead_of_it(engines: Any) -> None:
    from gridcore_assessment.state import AssessmentState

    engine = engines()
    assert isinstance(engine.state("assessment"), AssessmentState)
    engine.rebuild()  # on_open again: a fresh state, and the plugin's own hooks still answer
    assert isinstance(engine.state("assessment"), AssessmentState)
    assert "patrol_coverage" in engine.metrics()
    assert any(section.name == "assessment" for section in engine.hooks.register_sections())


def test_a_read_answers_as_at_the_moment_it_first_asked_the_store_where_it_is(tmp_path: Path) -> None:
    """One read (a metric, a report, a roll-up: ``Engine.reading``) asks the store's position once:
    what another writer appends during it is left to the next read, which sees it."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"

    def opened() -> Engine:
        pm = get_plugin_manager(("points", "escalation"), extra=[IncidentKinds(), IncidentMetrics()])
        return Engine.open(store=url, community=assessment_community(), ruleset=QUARTERLY,
                           clock=FixedClock(at(1, 0, month=7)), plugins=pm, effective=at(1, 0))

    with opened() as reader, opened() as writer:
        reader.record_many(quarter())
        writer.refresh()
        start, end = at(1, 0), at(1, 0, month=4)

        def coverage() -> Any:
            found = reader.metric("patrol_coverage", "g2", start, end)
            assert found is not None
            return found.value

        with reader.reading():
            before = coverage()
            assert reader.stored_position() == reader.position
            writer.record_many(patrols("u21", [1, 3, 5], 1, prefix="late"))  # another process, mid-read
            assert coverage() == before  # the read goes on as at its moment
            assert reader.stored_position() == reader.position < writer.position
        # the next read sees the store moved: the state is behind, so the log answers
        assert reader.stored_position() == writer.position
        after = coverage()
        assert after > before
        reader.refresh()
        assert coverage() == after  # caught up, the state answers the same


def test_ratings_kept_for_a_moving_clock_are_bounded_while_no_event_arrives(
        engines: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wall screen asks for the quarter's stars every few seconds on a service's system clock: each
    # rating is kept under the clock's time, and without a bound one more was kept at every request
    # until the next event arrived.
    from gridcore_assessment import logindex

    monkeypatch.setattr(logindex, "MEMO_MAX", 8)
    engine = engines()
    engine.record_many(quarter())
    first = assess(engine, "2025-Q1", save=False)
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    for _ in range(30):
        clock.advance(timedelta(seconds=5))
        assert assess(engine, "2025-Q1", save=False).ratings == first.ratings
    cache = engine.state("assessment").cache
    assert 0 < len(cache) <= 8 + 2  # the bound, the store's position and the newest result
    assert cache["store size"] == engine.stored_position()
