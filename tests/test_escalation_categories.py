"""Incident categories with names (``category CODE: NAME, group GROUP``), in force by date, for intake."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import gridcore_escalation as esc
from gridcore import Engine, FixedClock
from gridcore.rules import RulesError

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CST = timezone(timedelta(hours=8))

RULES = """\
ruleset 分类
escalation:
  category leaking_pipe: 水管漏水, group 市政设施
  类别 dispute：邻里纠纷，分组 矛盾纠纷
  category noise: 噪音扰民
    from 2025-06-01: 噪音, group 社会治安
  incident any: start at unit
  incident fire_hazard: start at grid
"""


def test_categories_in_force_with_their_names_groups_and_rules(tmp_path: Path) -> None:
    rules = tmp_path / "categories.rules"
    rules.write_text(RULES, encoding="utf-8")
    engine = Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=rules,
                         effective=datetime(2025, 1, 1, tzinfo=CST), clock=FixedClock(datetime(2025, 3, 1, tzinfo=CST)))
    try:
        march = esc.categories(engine)
        assert [(c.code, c.name, c.group) for c in march] == [
            ("leaking_pipe", "水管漏水", "市政设施"),
            ("dispute", "邻里纠纷", "矛盾纠纷"),
            ("noise", "噪音扰民", ""),
            ("fire_hazard", "fire_hazard", ""),  # named by a route only: its code is its name
        ]
        assert march[1].rule.line == 4 and march[1].rule.text.startswith("类别 dispute")
        july = esc.categories(engine, datetime(2025, 7, 1, tzinfo=CST))
        assert ("noise", "噪音", "社会治安") in [(c.code, c.name, c.group) for c in july]
    finally:
        engine.close()


def test_a_category_needs_a_name(tmp_path: Path) -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import load_ruleset

    rules = tmp_path / "bad.rules"
    rules.write_text("ruleset bad\nescalation:\n  category leaking_pipe:\n", encoding="utf-8")
    with pytest.raises(RulesError, match="bad.rules:3"):
        load_ruleset(rules, sections=Hooks(get_plugin_manager()).register_sections())
