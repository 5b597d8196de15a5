"""The ``assessment`` section of the rules language: what it accepts, how it refuses."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from gridcore.rules import RulesError, parse_ruleset
from gridcore_app.cli import main_group
from gridcore_assessment.policy import AllOf, AssessmentPolicy, Compare, NoneOf
from gridcore_assessment.section import SECTION, section

HEAD = "ruleset t\nlevels: community > grid > unit\nassessment:\n"
BASE = "  rate: grid\n  metric patrol_coverage: weight 100\n"


def policy(body: str, *, base: str = BASE, on: date = date(2025, 1, 1)) -> AssessmentPolicy:
    ruleset = parse_ruleset(HEAD + base + body, sections=[section()], name="t.rules")
    compiled = ruleset.policy(SECTION, at=on)
    assert compiled is not None
    return compiled


def refusal(body: str, *, base: str = BASE) -> str:
    with pytest.raises(RulesError) as info:
        parse_ruleset(HEAD + base + body, sections=[section()], name="t.rules")
    return info.value.render()


def test_english_and_chinese_say_the_same_thing() -> None:
    english = policy(
        "  period: month\n"
        "  penalty overdue_incidents: 5 points each, at most 20 points\n"
        "  stars: 5 if score >= 90 and not unresolved_serious_incidents, 4 if score >= 80, otherwise 3\n"
        "  cap grid: at most 2 with 5 stars\n"
        "  subsidy microgrid_leader: 100 yuan per star\n"
        "  patrol: 2 times per week in unit\n"
    )
    chinese = policy(
        "  周期：月\n"
        "  扣分 overdue_incidents：每个 5 分，最多 20 分\n"
        "  星级：若 得分 >= 90 且 不 unresolved_serious_incidents 则 5，若 分数 >= 80 则 4，否则 3\n"
        "  名额 grid：5 星最多 2 个\n"
        "  补贴 微网格长：每星 100 元\n"
        "  巡查：unit 每周 2 次\n",
        base="  评定层级：grid\n  指标 patrol_coverage：权重 100\n",
    )

    def strip(p: AssessmentPolicy) -> tuple[object, ...]:
        return (p.period, p.levels, [(t.metric, t.weight) for t in p.terms],
                [(a.metric, a.points, a.limit) for a in p.adjustments],
                [(s.stars, s.condition) for s in p.stars], [(c.stars, c.count, c.level) for c in p.caps],
                [(s.role, s.per_star) for s in p.subsidies], (p.patrol.times, p.patrol.per, p.patrol.level))  # type: ignore[union-attr]

    assert strip(english) == strip(chinese)
    assert english.stars[0].condition == AllOf((Compare("score", ">=", 90), NoneOf("unresolved_serious_incidents")))
    assert english.subsidies[0].role == chinese.subsidies[0].role == "microgrid_leader"
    assert english.adjustments[0].rule.line == 7 and english.adjustments[0].rule.file == "t.rules"


def test_penalties_read_the_way_staff_say_them() -> None:
    p = policy("  penalty overdue_incidents: minus 5 per overdue incident, at most 20\n"
               "  penalty unresolved_serious_incidents: 每起扣 5 分，最多 15 分\n"
               "  bonus participation: plus 0.1 each\n  stars: 5 if score >= 90, otherwise 3\n")
    assert [(a.metric, a.points, a.limit) for a in p.adjustments] == [
        ("overdue_incidents", -5, 20), ("unresolved_serious_incidents", -5, 15), ("participation", 0.1, None)]
    text = refusal("  bonus participation: minus 1 each\n  stars: 5 if score >= 90, otherwise 3\n")
    assert "t.rules:6:24: error: a bonus cannot say 'minus'" in text and "fix: write a penalty item instead" in text


def test_a_limit_may_repeat_the_sign_and_say_it_the_way_a_notice_does() -> None:
    """``每件扣 2 分，最多扣 20 分``, ``不超过 20 分``, ``上限 20 分`` and ``周期：每季度``: what staff write mean
    ``每件扣 2 分，最多 20 分`` and ``周期：季度``; a limit whose sign contradicts its item is refused."""
    stars = "  stars: 5 if score >= 90, otherwise 3\n"
    plain = policy("  周期：季度\n  扣分 overdue_incidents：每件扣 2 分，最多 20 分\n"
                   "  加分 participation：每项加 1 分，最多 10 分\n  每人补贴：每人一次，最多 800 元\n" + stars)
    for written in (("  周期：每季度\n  扣分 overdue_incidents：每件扣 2 分，最多扣 20 分\n"
                     "  加分 participation：每项加 1 分，最多加 10 分\n  每人补贴：每人一次，上限 800 元\n"),
                    ("  周期：季度\n  扣分 overdue_incidents：每件 2 分，不超过 20 分\n"
                     "  加分 participation：每项加 1 分，上限 10 分\n  每人补贴：每人一次，不超过 800 元\n"),
                    ("  period: per quarter\n  penalty overdue_incidents: minus 2 each, up to minus 20\n"
                     "  bonus participation: plus 1 each, at most plus 10\n  subsidies: once per person, up to 800\n")):
        p = policy(written + stars)
        assert (p.period, [(a.metric, a.points, a.limit) for a in p.adjustments], (p.paying.once, p.paying.cap)) == (
            plain.period, [(a.metric, a.points, a.limit) for a in plain.adjustments], (plain.paying.once, plain.paying.cap))
    assert plain.period == "quarter" and [a.limit for a in plain.adjustments] == [20, 10] and plain.paying.cap == 800
    text = refusal("  扣分 overdue_incidents：每件扣 2 分，最多加 20 分\n" + stars)
    assert "t.rules:6:" in text and "a penalty cannot say 'plus'" in text


def test_stars_subsidies_and_penalties_as_a_notice_writes_them() -> None:
    """``得分>=90为5星，得分>=80为4星，其余3星`` (a notice's star ladder), ``80元/星`` and ``2分/件`` mean
    ``若 得分 >= 90 则 5，若 得分 >= 80 则 4，否则 3``, ``每星 80 元`` and ``每件 2 分``; English says ``gives``."""
    def essence(p: AssessmentPolicy) -> tuple[object, ...]:
        return ([(s.stars, s.condition) for s in p.stars], [(s.role, s.per_star) for s in p.subsidies],
                [(a.metric, a.points, a.limit) for a in p.adjustments])

    plain = policy("  星级：若 得分 >= 90 且 unresolved_serious_incidents == 0 则 5，若 得分 >= 80 则 4，否则 3\n"
                   "  补贴 网格长：每星 80 元\n  扣分 overdue_incidents：每件 2 分，最多 20 分\n")
    notice = policy("  星级：得分>=90 且 unresolved_serious_incidents==0为5星，得分>=80为4星，其余3星\n"
                    "  补贴 网格长：80元/星\n  扣分 overdue_incidents：2分/件，最多20分\n")
    spaced = policy("  星级：得分 >= 90 且 unresolved_serious_incidents == 0 为 5 星，得分 >= 80 为 4 星，其余为 3 星\n"
                    "  补贴 网格长：80 元 ／ 星\n  扣分 overdue_incidents：2 分/次，最多 20 分\n")
    english = policy("  stars: score >= 90 and unresolved_serious_incidents == 0 gives 5 stars, score >= 80 gives 4,"
                     " otherwise 3 stars\n  subsidy 网格长: 80 yuan/star\n"
                     "  penalty overdue_incidents: 2 points/incident, at most 20\n")
    assert essence(notice) == essence(spaced) == essence(english) == essence(plain)
    assert [s.stars for s in plain.stars] == [5, 4, 3] and plain.subsidies[0].per_star == 80
    assert "otherwise" in refusal("  stars: score >= 90 gives 5 stars\n")
    # a name runs on through 为 (names may mix characters and digits): told to put a space before it
    glued = refusal("  星级：得分>=90且不未解决重大事件为5星，其余3星\n")
    assert "a name and the keyword '为' are written together (found '未解决重大事件为5星')" in glued
    assert "did you mean: 未解决重大事件 为5星" in glued
    assert [s.stars for s in policy("  星级：得分>=90且不 未解决重大事件 为5星，其余3星\n").stars] == [5, 3]


def test_errors_read_in_chinese_too() -> None:
    with pytest.raises(RulesError) as info:
        parse_ruleset("ruleset t\n考核：\n  周期：季度\n", sections=[section()], name="t.rules")
    text = info.value.render("zh")
    assert "考核栏目缺少星级规则" in text and "加上：评定层级：grid" in text


def test_items_change_from_a_date() -> None:
    body = "  metric participation: weight 20\n    from 2025-07-01: weight 40\n  stars: 5 if score >= 90, otherwise 3\n"
    assert policy(body, on=date(2025, 3, 1)).max_score == 120
    assert policy(body, on=date(2025, 7, 1)).max_score == 140


def test_a_multiplier_subsidy_and_a_share_cap() -> None:
    p = policy("  stars: 5 if score >= 90, 4 if score >= 80, otherwise 3\n"
               "  cap grid: at most 20% with 5 stars, at most 2 with 4 stars\n"
               "  subsidy committee_member: base 600, 1.5 if stars >= 5, 1.2 if stars >= 4, otherwise 1\n")
    assert [(c.stars, c.share, c.count) for c in p.caps] == [(5, 20.0, None), (4, None, 2)]
    assert [p.subsidies[0].amount(s) for s in (5, 4, 3)] == [900, 720, 600]


@pytest.mark.parametrize(
    "body,message",
    [
        ("  stars: 5 if score >= 90, 4 if score >= 80\n", "the star ladder needs a last 'otherwise N' step"),
        ("  stars: 4 if score >= 80, 5 if score >= 90, otherwise 3\n", "list star levels from most to fewest stars"),
        ("  stars: 5 if score >= 90, otherwise 3\n  cap grid: at most 1 with 3 stars\n", "a cap on 3 stars"),
        ("  stars: 5 if score >= 90, otherwise 3\n  cap gird: at most 1 with 5 stars\n", "unknown level 'gird'"),
        ("  stars: 5 if score >= 90, otherwise 3\n  serious: severity >= 9\n", "severity >= N"),
        ("  stars: 5 if score >= 90 and member.name == 1, otherwise 3\n", "compare a name (score or a metric) with a number"),
        ("  stars: 5.5 if score >= 90, otherwise 3\n", "whole number from 0 to 10"),
        ("  stars: 5 if os.system >= 1, otherwise 3\n", "compare a name (score or a metric) with a number"),
        ("  stars: 5 if __import__(\"os\") >= 1, otherwise 3\n", "compare a name (score or a metric) with a number"),
        ("  stars: 5 if score >= 90, otherwise 3\n  metric participation: weight 0\n", "must be more than 0"),
    ],
)
def test_mistakes_are_refused_with_file_line_and_what_to_do(body: str, message: str) -> None:
    text = refusal(body)
    assert message in text and "t.rules:" in text


def test_the_section_needs_stars_metrics_and_levels() -> None:
    text = refusal("", base="  period: quarter\n")
    assert "no star ladder" in text and "counts no metric" in text and "which levels are rated" in text


def test_check_refuses_a_metric_nobody_contributes(tmp_path: object) -> None:
    """Compiling only warns (an embedder may register the plugin later); ``check`` knows
    the installed plugins, so there it is an error (issue 18: it passed as 通过)."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "typo.rules"
    path.write_text(HEAD + "  rate: grid\n  metric patrol_coverag: weight 100\n  stars: 5 if score >= 90, otherwise 3\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main_group, ["check", str(path)])
    assert result.exit_code == 1
    assert "error: no installed plugin contributes a metric named 'patrol_coverag'" in result.output
    assert "did you mean: patrol_coverage" in result.output


def test_the_compiler_reads_the_metrics_the_core_hands_it() -> None:
    """The metrics come from whoever loads the ruleset (``metrics=``, ``CompileContext.metrics``):
    the plugin builds no plugin manager of its own (issue 11)."""
    from gridcore.metrics import Metric, MetricValue

    def nothing(*_: object) -> MetricValue | None:
        return None

    given = [Metric("hazards_found", "Hazards found", "hazards", nothing, title_zh="隐患发现数")]
    text = HEAD + "  rate: grid\n  metric hazards_found: weight 50\n  指标 隐患发现数：权重 50\n" \
        "  stars: 5 if score >= 90, otherwise 3\n"
    with pytest.raises(RulesError) as info:  # one metric, by its id and its title: a duplicate
        parse_ruleset(text, sections=[section()], metrics=given, name="t.rules")
    assert "t.rules:6:3: error: 'metric 隐患发现数' is defined twice" in info.value.render()
    # without the metrics, the title is only a name: nothing is keyed by it or checked against it
    assert parse_ruleset(text, sections=[section()], name="t.rules").warnings == ()
    ruleset = parse_ruleset(HEAD + "  rate: grid\n  metric 隐患发现数: weight 50\n  metric patrol_coverage: weight 50\n"
                            "  stars: 5 if score >= 90, otherwise 3\n", sections=[section()], metrics=given,
                            name="t.rules")
    assert [w.message for w in ruleset.warnings] == ["no installed plugin contributes a metric named 'patrol_coverage'"]
    assert ruleset.metrics == {"hazards_found": given[0]}


def test_check_knows_only_the_metrics_of_the_enabled_plugins(tmp_path: object) -> None:
    """``-p no:tasks`` leaves the tasks plugin's metrics out of what the compiler is handed
    (the compiler's own plugin manager used to know every installed plugin)."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "tasks.rules"
    path.write_text(HEAD + "  rate: grid\n  metric 任务完成率: weight 100\n  stars: 5 if score >= 90, otherwise 3\n",
                    encoding="utf-8")
    assert CliRunner().invoke(main_group, ["check", str(path)]).exit_code == 0
    result = CliRunner().invoke(main_group, ["-p", "no:tasks", "check", str(path)])
    assert result.exit_code == 1
    assert "no installed plugin contributes a metric named '任务完成率'" in result.output
