"""``gridcore assess ...`` through the real command line (click's CliRunner).

The store is written with only the assessment plugin (the events are patrols,
registrations and activities, which need no other plugin); the commands then
open it the way a user would, with every installed plugin.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_assessment_engine import MONTHLY_ZH, assessment_community, at, patrols

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.events import ActivityRecorded, Event, ResidentRegistered
from gridcore_app.cli import main_group


def january_and_february() -> list[Event]:
    """Every other day in both grids in January (g1 and g2 tie at 85), g2 hardly in February."""
    events: list[Event] = []
    for month, last in ((1, 31), (2, 28)):
        every_other = list(range(1, last + 1, 2))
        events += patrols("u11", every_other, month) + patrols("u12", every_other, month)
        events += patrols("u21", every_other if month == 1 else [3, 17], month)
    events += [
        ResidentRegistered(id="reg1", time=at(2), actor="worker1", node="u11", person="r-a", name="甲"),
        ResidentRegistered(id="reg2", time=at(2), actor="worker2", node="u21", person="r-b", name="乙"),
        ActivityRecorded(id="act1", time=at(5), actor="res1", node="u11", activity="clean_up"),
        ActivityRecorded(id="act3", time=at(6), actor="r-b", node="u21", activity="clean_up"),
    ]
    return events


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "store"
    pm = get_plugin_manager(("points", "escalation"))
    engine = Engine.open(store=str(path), community=assessment_community(), ruleset=MONTHLY_ZH,
                         clock=FixedClock(at(1, 0, month=3)), plugins=pm, effective=at(1, 0))
    try:
        engine.record_many(january_and_february())
    finally:
        engine.close()
    return str(path)


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def test_assess_prints_stars_with_the_rule_behind_each_term(store: str) -> None:
    result = run("assess", "--store", store, "--period", "2025-01")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Star ratings 2025-01 评星定级" in out and "第一网格" in out
    assert "巡查覆盖率: " in out and "monthly-zh.rules:8" in out
    assert "未解决重大事件 (adj.): " in out and "monthly-zh.rules:11" in out


def test_assess_csv_and_json(store: str) -> None:
    result = run("assess", "--store", store, "--period", "2025-01", "--format", "csv")
    assert result.stdout.startswith("\ufeff")  # Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert [(r["node"], r["stars"]) for r in rows] == [("g1", "5"), ("g2", "4")]
    assert rows[0]["巡查覆盖率"] == "50"
    result = run("assess", "--store", store, "--period", "2025-01", "--format", "json", "--breakdown")
    doc = json.loads(result.stdout)
    terms = [r for r in doc["rows"] if r["node"] == "g2" and r["term"] == "weight"]
    assert {t["metric"] for t in terms} == {"巡查覆盖率", "居民活动参与率", "登记完整率"}
    assert all(":" in t["rule"] and "monthly-zh.rules" in t["rule"] for t in terms)
    stars = next(r for r in doc["rows"] if r["node"] == "g2" and r["term"] == "stars")
    assert stars["points"] == 4 and "capped from 5" in stars["note"] and "monthly-zh.rules:13" in stars["note"]


def test_compare_says_who_gained_or_lost_a_star_and_why(store: str) -> None:
    assert run("assess", "--store", store, "--period", "2025-01").exit_code == 0
    assert run("assess", "--store", store, "--period", "2025-02").exit_code == 0
    result = run("assess", "compare", "2025-01", "2025-02", "--store", store, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["node"]: r for r in json.loads(result.stdout)["rows"]}
    assert (rows["g2"]["2025-01"], rows["g2"]["2025-02"], rows["g2"]["change"]) == (4, 2, "lost")
    assert "巡查覆盖率" in rows["g2"]["why"] and "monthly-zh.rules:8" in rows["g2"]["why"]
    assert (rows["g1"]["2025-01"], rows["g1"]["2025-02"], rows["g1"]["change"]) == (5, 4, "lost")
    history = run("assess", "history", "--store", store, "--format", "csv")
    assert history.output.splitlines()[0] == "\ufeffnode,name,2025-01,2025-02"


def test_compare_needs_assessed_periods(store: str) -> None:
    result = CliRunner().invoke(main_group, ["assess", "compare", "2024-11", "2025-01", "--store", store])
    assert result.exit_code == 1
    assert "period 2024-11 has not been assessed yet; run: gridcore assess --period 2024-11" in result.output
    # two periods not assessed, in Chinese as staff read it (the periods as they wrote them, by their labels)
    both = CliRunner().invoke(main_group, ["--lang", "zh", "assess", "compare", "2024年11月", "2024年12月",
                                           "--store", store])
    assert both.exit_code == 1 and "考核期 2024-11、2024-12 尚未考核" in both.output, both.output


def test_a_bad_period_is_a_clear_error(store: str) -> None:
    result = CliRunner().invoke(main_group, ["assess", "--store", store, "--period", "2025-13"])
    assert result.exit_code == 2  # (a bad option value: a usage error, as click says it)
    assert "'2025-13' is not a real month" in result.output and "Traceback" not in result.output


def test_without_a_period_the_last_complete_one_is_rated(store: str) -> None:
    result = run("assess", "--store", store, "--now", "2025-02-10T09:00+08:00", "--dry-run")
    assert "Star ratings 2025-01" in result.output


def test_chart_is_valid_svg_with_a_bar_per_node(store: str, tmp_path: Path) -> None:
    target = tmp_path / "星级.svg"
    result = run("assess", "--store", store, "--period", "2025-01", "--chart", str(target), "--dry-run")
    assert result.exit_code == 0
    root = ET.parse(target).getroot()
    bars = [g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id", "").startswith("stars-")]
    assert bars == ["stars-g1", "stars-g2"]
    other = tmp_path / "chart.svg"
    assert run("assess", "chart", "--period", "2025-01", "--output", str(other), "--store", store).exit_code == 0
    assert ET.parse(other).getroot().tag.endswith("svg")


def test_subsidies_per_person(store: str) -> None:
    result = run("assess", "subsidies", "--period", "2025-01", "--store", store, "--format", "json")
    rows = {r["member"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["leader1"]["amount"] == 400  # g1 holds 5 stars x 80
    assert rows["res1"]["amount"] == 20 and rows["res2"]["amount"] == 20  # both units' grids >= 4 stars
    assert "monthly-zh.rules:14" in rows["leader1"]["detail"]


def test_metrics_lists_every_contributed_metric(store: str) -> None:
    result = run("assess", "metrics", "--period", "2025-01", "--node", "g2", "--store", store, "--format", "csv")
    names = {r["metric"] for r in csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff")))}
    assert {"patrol_coverage", "participation", "registration_completeness"} <= names


def test_explain_and_report_reach_the_assessment(store: str) -> None:
    run("assess", "--store", store, "--period", "2025-01")
    result = run("explain", "assessment:2025-01:g2", "--store", store)
    assert "rated 4 stars for 2025-01" in result.output and "held back from 5 stars by a cap" in result.output
    result = run("report", "assessment.ratings", "-p", "period=2025-01", "--store", store, "--format", "csv")
    assert result.output.startswith("\ufeffnode,name,level,stars,score")


def test_without_a_period_the_stores_own_last_period_is_rated(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from gridcore import Engine, FixedClock
    from gridcore.events import PatrolLogged
    from gridcore_assessment.commands import default_period

    repo = Path(__file__).resolve().parent.parent
    cst = timezone(timedelta(hours=8))
    with Engine.open(store=str(tmp_path / "s"), community=repo / "rulesets" / "yinquan",
                     ruleset=repo / "rulesets" / "yinquan" / "yinquan.rules",
                     effective=datetime(2025, 1, 1, tzinfo=cst),
                     clock=FixedClock(datetime(2025, 1, 1, tzinfo=cst))) as engine:
        engine.record(PatrolLogged(id="p1", time=datetime(2025, 3, 20, 9, tzinfo=cst), actor="yq-fw1", node="yq-g1"))
        # Long after the events (a historical store): their own quarter.
        assert default_period(engine, datetime(2026, 9, 1, tzinfo=cst)) == "2025-Q1"
        # While that quarter is still running: the one before.
        assert default_period(engine, datetime(2025, 3, 25, tzinfo=cst)) == "2024-Q4"


def test_a_period_not_over_says_so_in_chinese_too(store: str) -> None:
    result = run("--lang", "zh", "assess", "--store", store, "--period", "2025-03", "--dry-run",
                 "--now", "2025-03-05T00:00+08:00")
    assert result.exit_code == 0, result.output
    # Chinese first, the English after it (gridcore.errors.chinese_first_line)
    assert "\n本期尚未结束（现在 2025-03-05T00:00:00+08:00）：评定结果可能还会变化" in result.output, result.output
    english = run("--lang", "en", "assess", "--store", store, "--period", "2025-03", "--dry-run",
                  "--now", "2025-03-05T00:00+08:00").output
    note = next(line for line in english.splitlines() if line.startswith("the period is not over yet"))
    assert note.endswith("(本期尚未结束（现在 2025-03-05T00:00:00+08:00）：评定结果可能还会变化)"), note
