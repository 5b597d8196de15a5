"""Several assessment cycles in one ruleset (issue 15): ``stars (quarterly): ...``.

The assessment section's own items are its monthly star rating; items whose
head names a cycle in brackets (``（季度考核）``) are a second cycle with its
own period, metrics, ladder and subsidies.  Rated through the API and the
command line, stored apart, explained and compared by what-if outcomes.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_assessment_engine import assessment_community, at, patrols

import gridcore_assessment as ga
from gridcore import Engine, FixedClock
from gridcore.errors import UnknownNameError
from gridcore.events import ActivityRecorded, Event
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_assessment.policy import AssessmentPolicy
from gridcore_assessment.section import SECTION

ENGLISH = """ruleset "cycles"
levels: community > grid > unit

assessment:
  period: month
  rate: grid
  metric patrol_coverage: weight 100
  stars: 5 if score >= 80, 4 if score >= 50, otherwise 2
  subsidy grid_leader: 50 yuan per star
  patrol: 1 per day
  period (quarterly): quarter
  rate (quarterly): grid
  metric participation (quarterly): weight 60
  metric registration_completeness (quarterly): weight 40, full if missing
  stars (quarterly): 5 if score >= 90, 3 if score >= 40, otherwise 1
  subsidy grid_leader (quarterly): 200 yuan per star
"""
CHINESE = """规则集 "cycles"
层级：community > grid > unit

考核：
  周期：月
  评定层级：grid
  指标 巡查覆盖率：权重 100
  星级：若 得分 >= 80 则 5，若 得分 >= 50 则 4，否则 2
  补贴 网格长：每星 50 元
  巡查：每天 1 次
  周期（quarterly）：季度
  评定层级（quarterly）：grid
  指标 居民活动参与率（quarterly）：权重 60
  指标 登记完整率（quarterly）：权重 40，无数据计满分
  星级（quarterly）：若 得分 >= 90 则 5，若 得分 >= 40 则 3，否则 1
  补贴 网格长（quarterly）：每星 200 元
"""


def language() -> dict[str, object]:
    hooks = Hooks(get_plugin_manager())
    return {"sections": hooks.register_sections(), "metrics": hooks.register_metrics()}


def policy(text: str, name: str = "c.rules") -> AssessmentPolicy:
    from datetime import date

    found = parse_ruleset(text, name=name, **language()).policy(SECTION, at=date(2025, 1, 1))  # type: ignore[arg-type]
    assert found is not None
    return found


def refusal(text: str) -> str:
    with pytest.raises(RulesError) as info:
        parse_ruleset(text, name="c.rules", **language())  # type: ignore[arg-type]
    return info.value.render()


def test_a_cycle_in_english_and_in_chinese_is_the_same_cycle() -> None:
    def strip(p: AssessmentPolicy) -> tuple[object, ...]:
        return (p.cycle, p.period, p.levels, [(t.weight, t.low, t.high, t.when_missing) for t in p.terms],
                [(s.stars, s.condition) for s in p.stars], [(s.role, s.per_star) for s in p.subsidies])

    english, chinese = policy(ENGLISH), policy(CHINESE)
    assert [strip(c) for c in english.all_cycles()] == [strip(c) for c in chinese.all_cycles()]
    (quarterly,) = english.cycles
    assert (quarterly.cycle, quarterly.period, [t.metric for t in quarterly.terms]) == \
        ("quarterly", "quarter", ["participation", "registration_completeness"])
    assert english.in_cycle("quarterly") is quarterly and english.in_cycle("") is english
    assert english.in_cycle("weekly") is None
    # the section's own cycle is what it always was: the cycle's items are not in it
    assert (english.period, [t.metric for t in english.terms]) == ("month", ["patrol_coverage"])
    assert quarterly.patrol == english.patrol  # shared: how patrol_coverage is measured
    assert quarterly.cycle_rule is not None and quarterly.cycle_rule.line == 11


def test_a_child_overrides_a_cycles_item_and_not_the_main_one(tmp_path: Path) -> None:
    (tmp_path / "parent.rules").write_text(ENGLISH, encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('ruleset child\nextends "parent"\n考核：\n  覆盖 星级（quarterly）：若 得分 >= 60 则 5，否则 2\n',
                     encoding="utf-8")
    from datetime import date

    from gridcore.rules import load_ruleset

    ruleset = load_ruleset(child, **language())  # type: ignore[arg-type]
    found = ruleset.policy(SECTION, at=date(2025, 1, 1))
    assert found is not None
    assert [s.stars for s in found.stars] == [5, 4, 2]  # the monthly ladder is the parent's
    assert [s.stars for s in found.cycles[0].stars] == [5, 2] and found.cycles[0].stars[0].rule.file == str(child)
    assert [(c.action, c.key) for c in ruleset.changes] == [("changed", ("stars (quarterly)", None))]
    # removing the cycle's ladder removes only that one, and the cycle then lacks it
    child.write_text('ruleset child\nextends "parent"\nassessment:\n  remove stars (quarterly)\n', encoding="utf-8")
    with pytest.raises(RulesError, match="assessment cycle 'quarterly' has no star ladder"):
        load_ruleset(child, **language())  # type: ignore[arg-type]


def test_mistakes_in_a_cycle_name_the_cycle() -> None:
    text = refusal(ENGLISH + "  stars (quarterly): 4 if score >= 50, otherwise 1\n")
    assert "c.rules:17:3: error: 'stars (quarterly)' is defined twice in this section" in text
    text = refusal(ENGLISH.replace("  stars (quarterly): 5 if score >= 90, 3 if score >= 40, otherwise 1\n", ""))
    assert "c.rules:11:3: error: assessment cycle 'quarterly' has no star ladder" in text
    assert "fix: add: stars (quarterly): 5 if score >= 90" in text
    text = refusal(ENGLISH + "  patrol (quarterly): 2 per week\n")
    assert "'patrol' is shared by every assessment cycle: it cannot name one" in text
    text = refusal('ruleset c\nlevels: community > grid > unit\n考核：\n  评定层级（季度）：grid\n'
                   "  指标 巡查覆盖率（季度）：权重 100\n  星级（季度）：若 得分 >= 90 则 5，否则 3\n")
    assert "c.rules:4:3: error: an assessment cycle needs the section's own cycle beside it" in text


def events() -> list[Event]:
    """u11 patrolled every day of Q1, u21 the first nine days of each month; one activity in January."""
    out: list[Event] = []
    for month, last in ((1, 31), (2, 28), (3, 31)):
        out += patrols("u11", range(1, last + 1), month) + patrols("u21", range(1, 10), month)
    out.append(ActivityRecorded(id="a1", time=at(5), actor="res1", node="u11", activity="clean_up"))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cycles")
    (folder / "cycles.rules").write_text(ENGLISH, encoding="utf-8")
    path = str(folder / "store")
    engine = Engine.open(store=path, community=assessment_community(), ruleset=folder / "cycles.rules",
                         clock=FixedClock(at(1, 0, month=4)), effective=at(1, 0))
    try:
        engine.record_many(events())
    finally:
        engine.close()
    return path


def test_each_cycle_rates_by_its_own_metrics_ladder_and_subsidies(store: str) -> None:
    engine = Engine.open(store=store, clock=FixedClock(at(1, 0, month=4)))
    try:
        monthly = ga.assess(engine, "2025-01")
        quarterly = ga.assess(engine, "2025-Q1", cycle="quarterly")
        assert [(r.node, r.stars, r.score) for r in monthly.ratings] == [("g1", 4, 50), ("g2", 2, Fraction(900, 31))]
        # participation: g1's resident took part (60), g2's did not; registration counts in full (40)
        assert [(r.node, r.stars, r.score) for r in quarterly.ratings] == [("g1", 5, 100), ("g2", 3, 40)]
        assert [(s.member, s.amount) for s in quarterly.subsidies] == [("leader1", 1000.0)]
        assert [(s.member, s.amount) for s in monthly.subsidies] == [("leader1", 200.0)]
        assert (quarterly.cycle, quarterly.key, quarterly.named) == ("quarterly", "2025-Q1@quarterly",
                                                                     "2025-Q1 (quarterly)")
        # stored apart: the cycle's key, and the period written with its cycle says the same
        assert ga.stored(engine, "2025-Q1") is None
        assert ga.stored(engine, "2025-Q1", "quarterly") == ga.stored(engine, "2025-Q1@quarterly") == quarterly
        assert [a.key for a in ga.history(engine, "quarterly")] == ["2025-Q1@quarterly"]
        assert [a.key for a in ga.history(engine)] == ["2025-01"]
        why = engine.explain("assessment:2025-Q1@quarterly:g1")
        assert why is not None and "rated 5 stars for 2025-Q1@quarterly" in why.summary
        assert any(r.line == 15 and "stars (quarterly)" in r.text for r in why.rules)
        with pytest.raises(UnknownNameError):  # no such cycle: no such decision
            engine.explain("assessment:2025-Q1@weekly:g1")
        with pytest.raises(ga.AssessmentError, match="no assessment cycle 'weekly' .*cycles: quarterly"):
            ga.assess(engine, "2025-Q1", cycle="weekly")
        # what-if outcomes cover every cycle's own periods, each named
        stars = {o.subject: o.value for o in engine.hooks.collect_outcomes(engine) if ":stars:" in o.subject}
        assert stars["node:g1:stars:2025-Q1@quarterly"] == 5 and stars["node:g1:stars:2025-03"] == 4
        assert not any(s.endswith(("2025-01@quarterly", ":2025-Q1")) for s in stars)
        # a report names the cycle it shows
        table = engine.report("assessment.ratings", {"period": "2025-Q1", "cycle": "quarterly"})
        assert table.title == "Star ratings 2025-Q1 (quarterly) 评星定级"
        assert "cycle quarterly (考核周期)" in table.notes[0]
    finally:
        engine.close()


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args))


def test_the_command_line_rates_a_cycle(store: str) -> None:
    result = run("assess", "--store", store, "--period", "2025-Q1", "--cycle", "quarterly", "--dry-run",
                 "--now", "2025-04-01T00:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert "Star ratings 2025-Q1 (quarterly) 评星定级" in result.output
    assert "c.rules" not in result.output and "cycles.rules:13" in result.output  # the cycle's own metric
    same = run("assess", "--store", store, "--period", "2025-Q1@quarterly", "--dry-run",
               "--now", "2025-04-01T00:00:00+08:00")
    assert same.output == result.output
    subsidies = run("assess", "subsidies", "--store", store, "--period", "2025-Q1", "--cycle", "quarterly",
                    "--format", "csv", "--now", "2025-04-01T00:00:00+08:00")
    assert "Subsidies" not in subsidies.output and "leader1,陈网格长,1000" in subsidies.output
    # without --period: the cycle's own kind of period (the last whole quarter)
    default = run("assess", "--store", store, "--cycle", "quarterly", "--dry-run", "--now", "2025-04-02T00:00:00+08:00")
    assert "Star ratings 2025-Q1 (quarterly)" in default.output
    unknown = run("assess", "--store", store, "--period", "2025-Q1", "--cycle", "weekly", "--dry-run")
    assert unknown.exit_code == 1 and "no assessment cycle 'weekly'" in unknown.output
    both = run("assess", "--store", store, "--period", "2025-Q1@quarterly", "--cycle", "monthly", "--dry-run")
    assert both.exit_code == 1 and "give one" in both.output


def test_a_checkpoint_keeps_every_cycles_results(tmp_path: Path) -> None:
    (tmp_path / "cycles.rules").write_text(ENGLISH, encoding="utf-8")
    store = str(tmp_path / "store")
    engine = Engine.open(store=store, community=assessment_community(), ruleset=tmp_path / "cycles.rules",
                         clock=FixedClock(at(1, 0, month=4)), effective=at(1, 0))
    engine.record_many(events())
    engine.checkpoint()
    before = sorted((o.subject, o.value) for o in engine.hooks.collect_outcomes(engine))
    saved = engine.hooks.save_state(engine, engine.state("assessment"))
    engine.close()
    reopened = Engine.open(store=store, clock=FixedClock(at(1, 0, month=4)))
    try:
        assert reopened.hooks.save_state(reopened, reopened.state("assessment")) == saved
        assert sorted((o.subject, o.value) for o in reopened.hooks.collect_outcomes(reopened)) == before
        assert any(s.endswith("@quarterly") for s, _ in before)
    finally:
        reopened.close()


def test_the_chart_names_the_cycle(store: str, tmp_path: Path) -> None:
    target = tmp_path / "q1.svg"
    result = run("assess", "chart", "--store", store, "--period", "2025-Q1", "--cycle", "quarterly",
                 "--output", str(target), "--now", "2025-04-01T00:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert "2025-Q1 (quarterly) stars per node" in target.read_text(encoding="utf-8")
