"""A throwaway plugin registers a section through the hook; a file using it loads end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_toy import CHORES

from gridcore import get_plugin_manager, hookimpl
from gridcore.errors import PluginError
from gridcore.events import ActivityRecorded
from gridcore.plugin_host import Hooks
from gridcore.rules import ItemKind, RulesError, Section, load_ruleset, parse_ruleset


class ChoresPlugin:
    """A third-party plugin contributing the ``chores`` section."""

    @hookimpl
    def gridcore_register_sections(self) -> list[Section]:
        return [CHORES]


@pytest.fixture
def sections() -> list[Section]:
    pm = get_plugin_manager(load_entry_points=False, extra=[ChoresPlugin()])
    return Hooks(pm).register_sections()


def points(ruleset: Any, chore: str, day: date, hours: float) -> float:
    event = ActivityRecorded(id="e1", time=datetime(day.year, day.month, day.day, tzinfo=UTC),
                             actor="w1", node="g1", activity=chore, hours=hours)
    for since, until, rate, kind, caps, ref in ruleset.policy(CHORES, at=day)["chores"][chore]:
        if (since is None or since <= day) and (until is None or day < until):
            chosen = (rate, kind)
    rate, kind = chosen
    value = rate(event, None)
    return float(value * hours if kind == "chores_per_hour" else value)


TEXT = """\
ruleset "玩具社区"
levels: community > grid > unit

chores:
  chore sweeping: 5 per hour, at most 40 per month
    from 2025-01-01: 6 per hour, at most 40 points per month
  chore 活动室清扫: 2 points per time
家务积分：
  家务 扫地：每小时 5 分，每月最多 40 分
  奖励：若 记录.时长 >= 4 则 2，否则 0
"""


def test_section_from_a_throwaway_plugin_loads_end_to_end(sections: list[Section]) -> None:
    assert [s.name for s in sections] == ["chores"]
    ruleset = parse_ruleset(TEXT, sections=sections, name="toy.rules")
    assert ruleset.name == "玩具社区"
    assert ruleset.levels == ("community", "grid", "unit")
    policy = ruleset.policy(CHORES, at=date(2024, 6, 1))
    assert set(policy["chores"]) == {"sweeping", "活动室清扫", "扫地"}
    assert points(ruleset, "sweeping", date(2024, 6, 1), 2) == 10
    assert points(ruleset, "sweeping", date(2025, 6, 1), 2) == 12
    assert points(ruleset, "扫地", date(2025, 6, 1), 3) == 15
    assert points(ruleset, "活动室清扫", date(2025, 6, 1), 3) == 2
    caps = policy["chores"]["扫地"][0][4]
    assert caps == {"month": 40}
    bonus = policy["bonus"]
    assert bonus(ActivityRecorded(id="e", time=datetime(2025, 1, 1, tzinfo=UTC),
                                  actor="a", node="n", activity="x", hours=5), None) == 2
    assert bonus.ref.line == 10 and bonus.ref.file == "toy.rules"
    assert policy["chores"]["sweeping"][0][5].line == 5
    rule_ref = ruleset.policy(CHORES, at=date(2025, 1, 1))["chores"]["sweeping"][0][5]
    assert (rule_ref.file, rule_ref.line) == ("toy.rules", 6)
    assert not ruleset.has("points")
    assert [(p.since, p.until) for p in ruleset.policies(CHORES)] == [
        (None, date(2025, 1, 1)), (date(2025, 1, 1), None)]


def test_dated_line_ref_and_document_round_trip(sections: list[Section]) -> None:
    ruleset = parse_ruleset(TEXT, sections=sections, name="toy.rules")
    doc = ruleset.to_document()
    again = type(ruleset).from_document(doc, sections=sections)
    assert again.fingerprint == ruleset.fingerprint
    assert points(again, "sweeping", date(2025, 6, 1), 1) == 6


def test_load_from_disk_with_extends(tmp_path: Path, sections: list[Section]) -> None:
    (tmp_path / "district.rules").write_text(
        "ruleset district\nlevels: community > grid\nchores:\n  chore sweeping: 5 per hour\n"
        "  chore mopping: 3 per hour\n", encoding="utf-8")
    child = tmp_path / "community.rules"
    child.write_text('extends "district"\nchores:\n  chore sweeping: 7 per hour\n'
                     "  remove chore mopping\n  chore washing: 1 per hour\n", encoding="utf-8")
    ruleset = load_ruleset(child, sections=sections)
    assert ruleset.name == "community"
    assert ruleset.levels == ("community", "grid")
    assert list(ruleset.policy(CHORES, at=date(2025, 1, 1))["chores"]) == ["sweeping", "washing"]
    assert points(ruleset, "sweeping", date(2025, 1, 1), 1) == 7
    assert [c.action for c in ruleset.changes] == ["removed", "changed", "added"]
    assert [s.name for s in ruleset.sources] == ["district.rules", str(child)]


def test_compiler_errors_are_reported_at_their_position(sections: list[Section]) -> None:
    text = "chores:\n  chore sweeping: event.hourz per hour\n  chore mopping: 5 per hour\n"
    with pytest.raises(RulesError) as info:
        parse_ruleset(text, sections=sections, name="bad.rules")
    (diag,) = info.value.errors
    assert (diag.file, diag.line, diag.column) == ("bad.rules", 2, 19)
    assert "has no field 'hourz'" in diag.message
    assert diag.suggestion == "event.hours"


def test_two_plugins_cannot_claim_one_section() -> None:
    class Again:
        @hookimpl
        def gridcore_register_sections(self) -> list[Section]:
            return [CHORES]

    pm = get_plugin_manager(load_entry_points=False, extra=[ChoresPlugin(), Again()])
    with pytest.raises(PluginError, match="two plugins register a section named 'chores'"):
        parse_ruleset("chores:\n  chore a: 1 per hour\n", sections=Hooks(pm).register_sections())


def test_fragment_rules_must_be_prefixed() -> None:
    bad = Section(name="odd", headers=("odd",), items=(ItemKind("thing", ("thing",), "odd_body"),),
                  grammar="odd_body: helper\nhelper: expr\n", compile=lambda items, ctx: None)
    with pytest.raises(PluginError, match="must start with 'odd_'"):
        parse_ruleset("odd:\n  thing x: 1\n", sections=[bad])


def test_duration_values_reach_the_compiler(sections: list[Section]) -> None:
    text = "chores:\n  chore sweeping: (48h / 1h) per hour\n"
    ruleset = parse_ruleset(text, sections=sections)
    assert points(ruleset, "sweeping", date(2025, 1, 1), 1) == 48
    assert timedelta(hours=48) / timedelta(hours=1) == 48


def test_keyword_forms_and_their_spacing() -> None:
    import re

    from gridcore.rules.keywords import keyword_pattern

    at_most = re.compile(keyword_pattern(["at most", "每月 最多"], ["每月 最多", "分"]))
    assert at_most.match("at   most 5") and at_most.match("AT MOST") and not at_most.match("atmost")
    assert at_most.match("每月最多40") and at_most.match("每月 最多 分")
    assert not at_most.match("at mostly")
    activity = re.compile(keyword_pattern(["活动"], ["活动", "分"]))
    assert activity.match("活动 志愿") and activity.match("活动分") and not activity.match("活动室")


def test_two_sections_may_not_give_one_keyword_different_forms() -> None:
    def section(name: str, forms: tuple[str, ...]) -> Section:
        return Section(name=name, headers=(name,), items=(ItemKind("x", ("x" + name,), f"{name}_v"),),
                       grammar=f"{name}_v: expr _UNIT\n", keywords={"UNIT": forms},
                       compile=lambda items, ctx: None)

    with pytest.raises(PluginError, match="keyword UNIT is declared twice with different forms"):
        parse_ruleset("", sections=[section("a", ("u",)), section("b", ("v",))])
    parse_ruleset("a:\n  xa k: 1 u\nb:\n  xb k: 2 u\n",
                  sections=[section("a", ("u",)), section("b", ("u",))])


def test_a_fragment_that_is_not_lalr_is_a_plugin_error() -> None:
    bad = Section(name="amb", headers=("amb",), items=(ItemKind("x", ("x",), "amb_v"),),
                  grammar="amb_v: amb_a | amb_b\namb_a: expr\namb_b: expr\n",
                  compile=lambda items, ctx: None)
    with pytest.raises(PluginError, match="not LALR|does not build") as info:
        parse_ruleset("", sections=[bad])
    assert str(info.value).startswith("the grammar fragment of section 'amb' ")
    assert "gridcore -p no:PLUGIN" in str(info.value) and "栏目 'amb' 的语法片段无法构建" in str(info.value)


def test_a_fragment_that_does_not_build_names_its_section_among_many() -> None:
    """A third-party fragment naming a rule it does not define: among every section (the built-ins'
    too), the message names that one and says how to go on without its plugin, in Chinese too."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    broken = Section(name="waste", headers=("waste", "垃圾分类"), items=(ItemKind("limit", ("limit",), "waste_v"),),
                     grammar="waste_v: expr _PER _DAY waste_missing\n", compile=lambda items, ctx: None)
    sections = [*Hooks(get_plugin_manager()).register_sections(), broken]
    with pytest.raises(PluginError) as info:
        parse_ruleset("", sections=sections)
    said = str(info.value)
    assert said.startswith("the grammar fragment of section 'waste' does not build: ")
    assert "waste_missing" in said and "栏目 'waste' 的语法片段无法构建" in said
    assert "'points'" not in said  # (the others are fine)


def test_an_anonymous_string_of_a_fragment_is_shown_as_written() -> None:
    odd = Section(name="anon", headers=("anon",), items=(ItemKind("x", ("x",), "anon_v"),),
                  grammar='anon_v: "×" expr\n', compile=lambda items, ctx: None)
    with pytest.raises(RulesError) as info:
        parse_ruleset("anon:\n  x a: 5\n", sections=[odd])
    assert info.value.errors[0].expected == "'×'"


def test_an_item_kind_whose_body_the_fragment_does_not_define_is_a_plugin_error() -> None:
    def kind_section(grammar: str, body: str = "bod_v") -> Section[Any]:
        return Section(name="bod", headers=("bod",), items=(ItemKind("x", ("x",), body),), grammar=grammar,
                       compile=lambda items, ctx: None)

    for grammar in ("bod_w: expr\n", "bod_w: bod_v\n", "bod_v.2: expr\n", "  bod_vv: expr\n", "// bod_v: expr\n"):
        with pytest.raises(PluginError, match="names body rule 'bod_v', which the fragment does not define"):
            parse_ruleset("", sections=[kind_section(grammar)])
    for grammar in ("bod_v: expr\n", "?bod_v : expr\n", "bod_w: expr\n\n  !bod_v:expr\n"):
        parse_ruleset("", sections=[kind_section(grammar)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", " ", "\t", "\n", "  \n "]), st.sampled_from(["", "?", "!", "?!", "//"]),
                          st.sampled_from(["bod_v", "bod_vv", "bod_w", "bod_v.1", "bod_v x"]),
                          st.sampled_from(["", " ", "\n"]), st.sampled_from([":", " :", "", "->"])), max_size=5),
       st.sampled_from(["bod_v", "bod_vv"]))
def test_a_body_is_found_where_a_pattern_of_its_own_finds_it(lines: list[tuple[str, ...]], body: str) -> None:
    """``_check_fragment`` reads the rules a fragment defines in one pass; a body counts as defined exactly where
    the pattern it had of its own (``^\\s*[?!]*BODY\\s*:``) matches."""
    import re

    from gridcore.rules.grammar_build import _check_fragment

    grammar = "".join(f"{a}{b}{c}{d}{e} expr\n" for a, b, c, d, e in lines)
    section = Section(name="bod", headers=("bod",), items=(ItemKind("x", ("x",), body),), grammar=grammar,
                      compile=lambda items, ctx: None)
    own = re.search(rf"^\s*[?!]*{re.escape(body)}\s*:", grammar, re.MULTILINE) is not None
    try:
        _check_fragment(section)
    except PluginError as exc:
        assert "which the fragment does not define" in str(exc) and not own
    else:
        assert own
