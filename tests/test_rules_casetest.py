"""Ruleset cases (YAML beside a ruleset) and atomic loading through the engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rules_toy import CHORES

from gridcore import Engine, hookimpl
from gridcore.rules import RulesError
from gridcore_app.casetest import CaseError, run_cases, same

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"


def cases(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "yinquan_test.yaml"
    path.write_text(
        f"ruleset: {YINQUAN / 'yinquan.rules'}\ncommunity: {YINQUAN}\n"
        f"start: 2025-03-01T08:00:00+08:00\ncases:\n{body}", encoding="utf-8")
    return path


CASE = """\
  - name: {name}
    given:
      - kind: activity_recorded
        time: 2025-03-03T09:00:00+08:00
        actor: yq-v1
        node: {node}
        activity: 志愿服务
        hours: 2
    expect:
      points:
        member:yq-v1:balance: {balance}
"""


def test_a_passing_and_a_failing_case(tmp_path: Path) -> None:
    path = cases(tmp_path, CASE.format(name="earns", node="yq-g4-u1", balance=10)
                 + CASE.format(name="wrong on purpose", node="yq-g4-u1", balance=11))
    report = run_cases(path)
    assert [r.passed for r in report.results] == [True, False]
    failure = report.results[1].render()
    assert failure.splitlines()[:3] == [
        "FAIL yinquan_test.yaml: wrong on purpose",
        "  points member:yq-v1:balance: expected 11, got 10",
        "    rule district-base.rules:16  activity 志愿服务: 5 per hour, at most 40 per month",
    ]
    assert "应为 11，实际 10" in report.results[1].render("zh")


def test_refused_events_and_missing_outcomes_are_reported(tmp_path: Path) -> None:
    body = CASE.format(name="unknown node", node="nowhere", balance=10) + (
        "  - name: no such subject\n    expect:\n      points:\n        member:ghost:balance: 1\n")
    report = run_cases(cases(tmp_path, body))
    assert "events refused: case1-e1: unknown node 'nowhere'" in report.results[0].render()
    assert "expected 1, but there is no such outcome" in report.results[1].render()


def test_malformed_case_files(tmp_path: Path) -> None:
    path = tmp_path / "x_test.yaml"
    path.write_text("cases: 3\n", encoding="utf-8")
    with pytest.raises(CaseError, match="a 'cases' list"):
        run_cases(path)
    path.write_text("cases:\n  - given: []\n", encoding="utf-8")
    with pytest.raises(CaseError, match="needs a 'name'"):
        run_cases(path)


def test_numbers_compare_by_value() -> None:
    from fractions import Fraction

    assert same(10, 10.0) and same(2, Fraction(4, 2)) and not same(1, 2)
    assert same("grid", "grid") and not same(True, 1)


def test_pytest_collects_case_files(pytester: pytest.Pytester) -> None:
    # the plugin is loaded through the pytest11 entry point "gridcore-rules"
    (pytester.path / "yinquan_test.yaml").write_text(
        cases(pytester.path, CASE.format(name="earns", node="yq-g4-u1", balance=10)
              + CASE.format(name="off by one", node="yq-g4-u1", balance=9)).read_text("utf-8"),
        encoding="utf-8")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*points member:yq-v1:balance: expected 9, got 10*"])


class Chores:
    @hookimpl
    def gridcore_register_sections(self) -> list[object]:
        return [CHORES]


def test_a_broken_ruleset_is_refused_and_the_one_in_force_stays(
        tmp_path: Path, open_engine: Callable[..., Engine]) -> None:
    good = tmp_path / "good.rules"
    good.write_text("chores:\n  chore a: 5 per hour\n", encoding="utf-8")
    bad = tmp_path / "bad.rules"
    bad.write_text("chores:\n  chore a: 5 per hour\n  chore b: event.hourz per hour\n",
                   encoding="utf-8")
    engine = open_engine(Chores(), ruleset=good)
    before = engine.ruleset
    with pytest.raises(RulesError, match="has no field 'hourz'"):
        engine.use_ruleset(bad, effective=engine.clock.now() + timedelta(days=1))
    assert engine.ruleset is before and len(engine.rulesets()) == 1
    reopened = open_engine(Chores(), store=str(tmp_path / "store"))
    assert reopened.ruleset is not None
    assert reopened.ruleset.fingerprint == before.fingerprint
