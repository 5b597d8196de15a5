"""An item named in Chinese and the same item named in English are one item, in every section.

Items are keyed by the id of what they name (a role, a level, a metric, the
catch-all category): a child's ``覆盖 倾斜 专职网格员`` overrides the parent's
``tilt fulltime_gridworker``, and both spellings in one file are a duplicate.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset
from gridcore_app.cli import main_group

LEVELS = "levels: community (社区) > grid (网格) > unit (单元)\n"

#: section header, the parent's item (English), the same item in Chinese (child's), and a check on the policy.
CASES = {
    "tilt by role": ("points", "tilt fulltime_gridworker: x 1.5", "倾斜 专职网格员：x 2"),
    "tilt by level": ("points", "tilt unit: x 1.5", "倾斜 单元：x 2"),
    "recognition": ("points", "recognition grid: 50 points per month, by grid_leader",
                    "表扬 网格：每月 60 分，由 网格长"),
    "limit": ("escalation", "limit grid: accept within 2 hours, resolve within 3 days, then go to community",
              "时限 网格：受理时限 2小时，办结时限 3天，超时上报 社区"),
    "catch-all route": ("escalation", "incident any: start at grid", "事件 任意：起始于 网格"),
    "cap": ("assessment", "cap grid: at most 2 with 5 stars", "名额 网格：5 星最多 3 个"),
    "subsidy": ("assessment", "subsidy grid_leader: 100 yuan per star", "补贴 网格长：每星 120 元"),
    "metric": ("assessment", "metric participation: weight 10", "指标 居民活动参与率：权重 20"),
}
HEADERS = {"points": ("points:", "积分："), "escalation": ("escalation:", "事件流转："),
           "assessment": ("assessment:", "考核：")}
#: What each section needs besides the item, to compile at all.
NEEDS = {
    "points": "  activity cleanup: 5 per hour\n",
    "escalation": "",
    "assessment": "  rate: grid\n  metric patrol_coverage: weight 90\n  stars: 5 if score >= 90, otherwise 3\n",
}


def language() -> dict[str, Any]:
    """What the plugins register for the language: the sections, and the metrics a metric item names."""
    hooks = Hooks(get_plugin_manager())
    return {"sections": hooks.register_sections(), "metrics": hooks.register_metrics()}


def write(folder: Path, case: str, child_item: str, *, override: bool) -> Path:
    section, parent_item, _ = CASES[case]
    english, chinese = HEADERS[section]
    (folder / "parent.rules").write_text(f"ruleset parent\n{LEVELS}{english}\n{NEEDS[section]}  {parent_item}\n",
                                         encoding="utf-8")
    child = folder / "child.rules"
    child.write_text(f'ruleset child\nextends "parent"\n{chinese}\n  {"覆盖 " if override else ""}{child_item}\n',
                     encoding="utf-8")
    return child


def only_item(ruleset: Any, section: str, kind: str) -> list[str]:
    return [v.ref.text for item in ruleset.items[section] if item.kind == kind for v in item.versions
            if "patrol_coverage" not in v.ref.text]


@pytest.mark.parametrize("override", [True, False], ids=["override", "plain"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_child_naming_the_item_in_chinese_replaces_the_parents(tmp_path: Path, case: str, override: bool) -> None:
    section, _, child_item = CASES[case]
    ruleset = load_ruleset(write(tmp_path, case, child_item, override=override), **language())
    kind = {"tilt by role": "tilt", "tilt by level": "tilt", "catch-all route": "incident"}.get(case, case)
    assert only_item(ruleset, section, kind) == [("覆盖 " if override else "") + child_item]
    assert [c.action for c in ruleset.changes] == ["changed"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_spellings_in_one_file_are_a_duplicate(tmp_path: Path, case: str) -> None:
    section, english_item, chinese_item = CASES[case]
    english, _ = HEADERS[section]
    path = tmp_path / "one.rules"
    path.write_text(f"ruleset one\n{LEVELS}{english}\n{NEEDS[section]}  {english_item}\n  {chinese_item}\n",
                    encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(path, **language())
    text = info.value.render()
    assert "is defined twice in this section (as '" in text, text
    assert "在本栏目中重复定义（第 " in info.value.render("zh")


def test_the_childs_chinese_tilt_is_the_one_that_counts(tmp_path: Path) -> None:
    from gridcore_points.section import SECTION

    ruleset = load_ruleset(write(tmp_path, "tilt by role", "倾斜 专职网格员：x 2", override=True), **language())
    policy = ruleset.policy(SECTION, at=date(2025, 3, 1))
    assert policy is not None
    assert [(t.role, t.factor) for t in policy.tilts] == [("fulltime_gridworker", 2)]


def test_check_refuses_both_spellings_and_names_the_first(tmp_path: Path) -> None:
    path = tmp_path / "one.rules"
    path.write_text(f"ruleset one\n{LEVELS}points:\n  activity cleanup: 5 per hour\n"
                    "  tilt fulltime_gridworker: x 1.5\n  倾斜 专职网格员：x 2\n", encoding="utf-8")
    result = CliRunner().invoke(main_group, ["check", str(path)])
    assert result.exit_code == 1
    assert "'tilt 专职网格员' is defined twice in this section (as 'tilt fulltime_gridworker' on line 5)" in result.output
