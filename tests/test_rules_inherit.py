"""Inheritance several levels deep (district > street > community), exact and documented."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rules_toy import CHORES

from gridcore.rules import RulesError, Ruleset, load_ruleset

DISTRICT = """\
ruleset district
levels: community > grid > unit
chores:
  chore sweeping: 5 per hour
  chore mopping: 3 per hour
  chore washing: 2 per hour
  bonus: 2 if event.hours >= 4, otherwise 0
"""
STREET = """\
extends "district"
ruleset street
chores:
  chore mopping: 4 per hour
  remove chore washing
  chore dusting: 1 per hour
"""
COMMUNITY = """\
extends "street"
chores:
  override chore sweeping: 6 per hour
    from 2025-01-01: 7 per hour
  chore gardening: 2 per hour
"""


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    (tmp_path / "district.rules").write_text(DISTRICT, encoding="utf-8")
    (tmp_path / "street.rules").write_text(STREET, encoding="utf-8")
    community = tmp_path / "community" / "c.rules"
    community.parent.mkdir()
    community.write_text(COMMUNITY, encoding="utf-8")
    return community


def rates(ruleset: Ruleset) -> dict[str, list[str]]:
    return {item.name.text if item.name else item.kind: [v.ref.text for v in item.versions]
            for item in ruleset.items["chores"]}


def test_three_levels_resolve_in_order(chain: Path) -> None:
    ruleset = load_ruleset(chain, sections=[CHORES], search_path=[chain.parent.parent])
    assert ruleset.name == "c"
    assert ruleset.levels == ("community", "grid", "unit")
    assert rates(ruleset) == {
        "sweeping": ["override chore sweeping: 6 per hour", "from 2025-01-01: 7 per hour"],
        "mopping": ["chore mopping: 4 per hour"],
        "bonus": ["bonus: 2 if event.hours >= 4, otherwise 0"],
        "dusting": ["chore dusting: 1 per hour"],
        "gardening": ["chore gardening: 2 per hour"],
    }
    origins = {i.name.text if i.name else i.kind: i.ref.file for i in ruleset.items["chores"]}
    assert origins == {"sweeping": str(chain), "mopping": "street.rules", "bonus": "district.rules",
                       "dusting": "street.rules", "gardening": str(chain)}
    assert [(c.action, c.key) for c in ruleset.changes] == [
        ("changed", ("chore", "sweeping")), ("added", ("chore", "gardening"))]
    assert [s.name for s in ruleset.sources] == ["district.rules", "street.rules", str(chain)]


def test_the_parent_is_never_changed(chain: Path) -> None:
    search = [chain.parent.parent]
    street = load_ruleset(chain.parent.parent / "street.rules", sections=[CHORES])
    before = rates(street)
    load_ruleset(chain, sections=[CHORES], search_path=search)
    assert rates(load_ruleset(chain.parent.parent / "street.rules", sections=[CHORES])) == before


def test_document_round_trip_needs_no_disk(chain: Path) -> None:
    ruleset = load_ruleset(chain, sections=[CHORES], search_path=[chain.parent.parent])
    doc = ruleset.to_document()
    for path in chain.parent.parent.rglob("*.rules"):
        path.unlink()
    again = Ruleset.from_document(doc, sections=[CHORES])
    assert rates(again) == rates(ruleset) and again.fingerprint == ruleset.fingerprint
    assert doc["entry"] == str(chain) and len(doc["sources"]) == 3


def test_removing_or_overriding_what_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "base.rules").write_text("chores:\n  chore sweeping: 5 per hour\n", encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('extends "base"\nchores:\n  remove chore sweepin\n'
                     "  override chore swepping: 1 per hour\n", encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(child, sections=[CHORES])
    assert [d.message for d in info.value.errors] == [
        "cannot remove 'chore sweepin': the parent ruleset has no such item (did you mean 'chore sweeping'?)",
        ("'override chore swepping' overrides something the parent ruleset does not have "
        "(did you mean 'chore sweeping'?)"),
    ]
    assert [(d.line, d.column) for d in info.value.errors] == [(3, 3), (4, 3)]


def test_extends_errors(tmp_path: Path) -> None:
    a = tmp_path / "a.rules"
    a.write_text('extends "b"\n', encoding="utf-8")
    (tmp_path / "b.rules").write_text('extends "a"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="goes round in a circle"):
        load_ruleset(a, sections=[CHORES])
    a.write_text('extends "nowhere"\n', encoding="utf-8")
    with pytest.raises(RulesError, match=r'extends "nowhere", but no nowhere.rules'):
        load_ruleset(a, sections=[CHORES])
    a.write_text('extends "../etc/passwd"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="give a ruleset name, not a path"):
        load_ruleset(a, sections=[CHORES])


def test_errors_in_a_base_point_at_the_base(tmp_path: Path) -> None:
    (tmp_path / "base.rules").write_text("chores:\n  chore x: event.hourz per hour\n", encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('extends "base"\nchores:\n  chore y: 1 per hour\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(child, sections=[CHORES])
    (error,) = info.value.errors
    assert (error.file, error.line, error.column) == ("base.rules", 2, 12)


def test_real_community_extends_the_district_base() -> None:
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    repo = Path(__file__).resolve().parent.parent
    sections = Hooks(get_plugin_manager()).register_sections()
    ruleset = load_ruleset(repo / "rulesets" / "yinquan" / "yinquan.rules", sections=sections)
    assert ruleset.sources[0].name == "district-base.rules"
    assert ruleset.levels == ("community", "grid", "unit")


def test_remove_and_override_in_chinese(tmp_path: Path) -> None:
    (tmp_path / "区级.rules").write_text("家务积分：\n  家务 扫地：每小时 5 分\n  家务 拖地：每小时 3 分\n",
                                       encoding="utf-8")
    child = tmp_path / "社区.rules"
    child.write_text('继承 "区级"\n家务积分：\n  删除 家务 拖地\n  覆盖 家务 扫地：每小时 6 分\n',
                     encoding="utf-8")
    ruleset = load_ruleset(child, sections=[CHORES])
    assert rates(ruleset) == {"扫地": ["覆盖 家务 扫地：每小时 6 分"]}
    assert [c.action for c in ruleset.changes] == ["removed", "changed"]


def test_fingerprint_follows_the_text_not_the_folder(chain: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    search = [chain.parent.parent]
    absolute = load_ruleset(chain, sections=[CHORES], search_path=search)
    monkeypatch.chdir(chain.parent)
    relative = load_ruleset(Path("c.rules"), sections=[CHORES], search_path=search)
    assert relative.fingerprint == absolute.fingerprint
    chain.write_text(COMMUNITY + "  chore extra: 1 per hour\n", encoding="utf-8")
    assert load_ruleset(chain, sections=[CHORES], search_path=search).fingerprint != absolute.fingerprint


def test_a_near_miss_of_an_inherited_name_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "base.rules").write_text("chores:\n  chore sweeping: 5 per hour\n", encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('extends "base"\nchores:\n  chore sweepng: 6 per hour\n', encoding="utf-8")
    ruleset = load_ruleset(child, sections=[CHORES])
    (warning,) = ruleset.warnings
    assert warning.render() == (
        f"{child}:3:3: warning: 'chore sweepng' is a new item; the parent has 'chore sweeping' "
        "(to replace it, use that name)\n      chore sweepng: 6 per hour\n      ^^^^^^^^^^^^^")  # the item's head


def test_a_stored_ruleset_reopens_without_a_disabled_plugins_section() -> None:
    from gridcore.rules import ItemKind, Section, parse_ruleset

    other = Section(name="other", headers=("other",), items=(ItemKind("x", ("x",), "other_v"),),
                    grammar="other_v: expr\n", compile=lambda items, ctx: len(items))
    text = "chores:\n  chore a: 1 per hour\nother:\n  x y: 1\n"
    doc = parse_ruleset(text, sections=[CHORES, other]).to_document()
    again = Ruleset.from_document(doc, sections=[CHORES])
    assert not again.has("other") and again.policy(CHORES, at=date(2025, 1, 1)) is not None
    with pytest.raises(RulesError, match="unknown section 'other'"):
        parse_ruleset(text, sections=[CHORES])


def test_a_new_item_that_merely_resembles_an_old_one_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "base.rules").write_text("chores:\n  chore 环境整治: 5 per hour\n  chore a_sweeping: 1 per hour\n",
                                       encoding="utf-8")
    child = tmp_path / "child.rules"
    child.write_text('extends "base"\nchores:\n  chore 人居环境整治: 6 per hour\n  chore b_mopping: 1 per hour\n'
                     "  chore 环境整洁: 1 per hour\n", encoding="utf-8")
    warnings = load_ruleset(child, sections=[CHORES]).warnings
    assert [w.line for w in warnings] == [5]  # only the one-character slip


def test_a_misspelt_role_of_an_inherited_item_gets_a_did_you_mean(tmp_path: Path) -> None:
    """Items named by a role (a tilt, a subsidy) are keyed by the role's id, yet staff write the role's
    Chinese name: overriding or removing one with a misspelt name (专职网格圆 for 专职网格员) says what the
    parent has, by the name as the parent writes it, as a misspelt activity does (it said nothing)."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    repo = Path(__file__).resolve().parent.parent
    sections = Hooks(get_plugin_manager()).register_sections()
    child = tmp_path / "variant.rules"
    child.write_text('继承 "yinzhou"\n规则集 测试社区\n\n考核：\n  覆盖 补贴 专职网格圆：每星 120 元\n'
                     "积分：\n  删除 倾斜 专职网格圆\n  override tilt fulltime_gridwroker: x 3\n", encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(child, sections=sections, search_path=[repo / "rulesets" / "yinzhou", repo / "rulesets"])
    errors = sorted(info.value.errors, key=lambda d: d.line)
    assert [(d.line, d.message_zh) for d in errors] == [
        (5, "'覆盖 补贴 专职网格圆' 要覆盖的条目在上级规则集中不存在（是不是 '补贴 专职网格员'？）"),
        (7, "无法删除 '倾斜 专职网格圆'：上级规则集中没有这一条（是不是 '倾斜 专职网格员'？）"),
        (8, "'覆盖 倾斜 fulltime_gridwroker' 要覆盖的条目在上级规则集中不存在（是不是 '倾斜 fulltime_gridworker'？）"),
    ]
    assert errors[0].message == ("'override subsidy 专职网格圆' overrides something the parent ruleset does not "
                                 "have (did you mean 'subsidy 专职网格员'?)")
