"""A role written in Chinese in a condition is the role of that id (issue 12).

``member.role == "网格长"`` and ``"网格长" in member.roles`` passed ``check`` and were
silently false: a member's roles hold ids (``grid_leader``).  The Chinese name of a
core role is compared as its id, as a level's is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore_app.casetest import run_cases

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "data" / "community-mini"

CASE = """\
  - name: "{condition}"
    given:
      - {{kind: activity_recorded, time: "2025-03-03T09:00:00+08:00", actor: m02, node: g1-u1, activity: {activity}}}
    expect:
      points: {{"member:m02:balance": {points}}}
"""
#: activity -> (its condition, what m02, a grid leader, earns: 10 if it holds, else 1)
CONDITIONS = {
    "甲": ('"网格长" in member.roles', 10),
    "乙": ('member.role == "网格长"', 10),
    "丙": ('"grid_leader" in member.roles', 10),
    "丁": ('member.role in ["单元长", "网格长"]', 10),
    "戊": ('"网格长" not in member.roles', 1),
}


@pytest.fixture
def report(tmp_path: Path) -> dict[str, bool]:
    items = "".join(f"  activity {name}: 10 when {condition}, 1\n" for name, (condition, _) in CONDITIONS.items())
    (tmp_path / "r.rules").write_text("ruleset r\nlevels: community > grid > unit\npoints:\n" + items,
                                      encoding="utf-8")
    cases = "".join(CASE.format(condition=c.replace('"', "'"), activity=name, points=points)
                    for name, (c, points) in CONDITIONS.items())
    path = tmp_path / "r_test.yaml"
    path.write_text(f"ruleset: r.rules\ncommunity: {MINI}\nstart: 2025-03-01T08:00:00+08:00\ncases:\n{cases}",
                    encoding="utf-8")
    return {r.name: r.passed for r in run_cases(path).results}


def test_a_grid_leader_matches_by_the_roles_chinese_name_as_by_its_id(report: dict[str, bool]) -> None:
    # m02 holds 网格长 (grid_leader) at g1 in community-mini's roles.csv
    assert report == {c.replace('"', "'"): True for c, _ in CONDITIONS.values()}
