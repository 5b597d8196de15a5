"""A dated version replaces the whole line; check says what it drops from the version before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import parse_ruleset
from gridcore_app.cli import main_group
from gridcore_points.section import SECTION

HEAD = "ruleset t\nlevels: community > grid > unit\n"
DROPS = HEAD + ("points:\n  activity 志愿服务: 5 per hour, at most 40 per month, also volunteering\n"
                "    from 2025-01-01: 6 per hour\n")


def sections() -> list[object]:
    return Hooks(get_plugin_manager()).register_sections()


def test_what_a_dated_version_drops_is_dropped_and_check_says_so(tmp_path: Path) -> None:
    ruleset = parse_ruleset(DROPS, sections=sections(), name="t.rules")  # type: ignore[arg-type]
    before, after = (ruleset.policy(SECTION, at=day) for day in (date(2024, 12, 1), date(2025, 2, 1)))
    assert before is not None and after is not None
    [old], [new] = before.activities, after.activities
    assert old.caps and "volunteering" in old.names()
    assert not new.caps and "volunteering" not in new.names()  # as documented: nothing carries over
    [warning] = ruleset.warnings
    assert warning.line == 5
    assert ("from 2025-01-01 this version no longer says 'at most 40 per month', 'also volunteering': "
            "a dated version replaces the whole line") in warning.render()
    assert "自 2025-01-01 起的版本不再包含 'at most 40 per month'、'also volunteering'" in warning.render("zh")
    path = tmp_path / "t.rules"
    path.write_text(DROPS, encoding="utf-8")
    result = CliRunner().invoke(main_group, ["check", str(path)])
    assert result.exit_code == 0 and "no longer says 'at most 40 per month'" in result.output


@pytest.mark.parametrize("body", [
    "  activity 志愿服务: 5 per hour, at most 40 per month\n    from 2025-01-01: 6 per hour, at most 40 per month\n",
    "  duplicate: refuse, same day\n    from 2025-01-01: flag, same day\n",          # one part for another
    "  reward 大米: 200 points, stock 5\n    from 2025-01-01: 250 points, stock 9\n",
    "  礼遇 大米：200 分\n    自 2025-01-01 起：250 分，库存 5\n",  # adds a part
])
def test_a_version_that_restates_or_changes_parts_is_not_warned(body: str) -> None:
    ruleset = parse_ruleset(HEAD + "points:\n  activity a: 1\n" + body, sections=sections(),  # type: ignore[arg-type]
                            name="t.rules")
    assert ruleset.warnings == ()


def test_a_dropped_stock_or_metric_option_in_other_sections_is_warned() -> None:
    text = HEAD + ("points:\n  activity a: 1\n  reward 大米: 200 points, stock 5\n    from 2025-01-01: 250 points\n"
                   "assessment:\n  rate: grid\n  metric closure_within_limit: weight 50, full if missing\n"
                   "    from 2025-01-01: weight 60\n  metric patrol_coverage: weight 50\n"
                   "  stars: 5 if score >= 90, otherwise 3\n")
    ruleset = parse_ruleset(text, sections=sections(), name="t.rules")  # type: ignore[arg-type]
    assert [w.line for w in ruleset.warnings] == [6, 10]
    assert "no longer says 'stock 5'" in ruleset.warnings[0].message
    assert "no longer says 'full if missing'" in ruleset.warnings[1].message
