"""A subsidy is paid once per person per period, whatever number of roles they hold; a cap per person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from test_assessment_engine import at, patrols

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore_app.cli import main_group
from gridcore_assessment import assess

RULES = (
    "ruleset subsidies\nlevels: community > grid > unit\nassessment:\n  rate: grid\n"
    "  metric patrol_coverage: weight 100\n  stars: 5 if score >= 90, 4 if score >= 50, otherwise 2\n"
    "  subsidy master_grid_leader: 200 yuan per star\n  subsidy committee_member: 100 yuan per star\n"
)


def rated(tmp_path: Path, extra: str) -> tuple[Engine, str]:
    rules = tmp_path / "s.rules"
    rules.write_text(RULES + extra, encoding="utf-8")
    store = str(tmp_path / "store")
    engine = Engine.open(store=store, community=REPO / "tests/data/community-mini", ruleset=rules,
                         clock=FixedClock(at(1, 0, month=7)), plugins=get_plugin_manager(("points", "escalation")),
                         effective=at(1, 0))
    engine.record_many(patrols("g1-u1", range(1, 91), actor="m03") + patrols("g1-u2", range(1, 91), actor="m03")
                       + patrols("g2-u1", range(1, 91, 2), actor="张伟"))
    return engine, store


@pytest.mark.parametrize("extra,master,committee,why", [
    # m01 holds both roles at the community: the mean of its grids' stars is 3.25
    ("", 650, 0, "not paid: a person is paid once, for master_grid_leader at yq (default: once per person)"),
    ("  每人补贴：每人一次\n", 650, 0, "not paid: a person is paid once, for master_grid_leader at yq (rule"),
    ("  subsidies: per role\n", 650, 325, None),
    ("  subsidies: once per person, at most 600 yuan\n", 600, 0, "cut from 650 to 600 by the cap of 600"),
    ("  subsidies: per role, at most 800 yuan\n", 650, 150, "cut from 325 to 150 by the cap of 800"),
])
def test_once_per_person_and_a_cap(tmp_path: Path, extra: str, master: float, committee: float,
                                   why: str | None) -> None:
    engine, _ = rated(tmp_path, extra)
    with engine:
        lines = {(s.member, s.role): s for s in assess(engine, "2025-Q1").subsidies}
        assert lines[("m01", "master_grid_leader")].amount == master
        assert lines[("m01", "committee_member")].amount == committee
        basis = lines[("m01", "committee_member")].basis + lines[("m01", "master_grid_leader")].basis
        if why is None:
            assert "not paid" not in basis and "cut" not in basis
        else:
            assert why in basis
        assert {member for member, _ in lines} == {"m01"}  # nobody else holds these roles


def test_the_cli_shows_who_is_paid_once(tmp_path: Path) -> None:
    engine, store = rated(tmp_path, "  subsidies: once per person, at most 600 yuan\n")
    engine.close()
    result = CliRunner().invoke(main_group, ["assess", "subsidies", "--period", "2025-Q1", "--store", store,
                                             "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [row for row in json.loads(result.stdout)["rows"] if row["member"] == "m01"]
    assert sum(float(row["amount"]) for row in rows) == 600
    # each line says why it is not paid in full, rather than showing a bare 0 (每人只发一次, 每人补贴上限)
    [detail] = [row["detail"] for row in rows]
    assert "master_grid_leader@yq: 600 (3.25 stars, " in detail and "; cut from 650 to 600 by the cap of 600" in detail
    assert "committee_member@yq: 0 (3.25 stars, " in detail
    assert "; not paid: a person is paid once, for master_grid_leader at yq" in detail and "(每人只发一次)" in detail


def test_both_ways_at_once_is_an_error(tmp_path: Path) -> None:
    from gridcore.rules import RulesError, parse_ruleset
    from gridcore_assessment.section import section

    with pytest.raises(RulesError, match="either 'once per person' or 'per role'"):
        parse_ruleset(RULES + "  subsidies: once per person, per role\n", sections=[section()], name="b.rules")


def test_a_mean_of_stars_is_exact_and_the_amount_is_rounded_only_where_shown(tmp_path: Path) -> None:
    """m01 holds its roles at the community, above the three rated units (5, 5 and 4 stars): the
    mean is exactly 14/3 stars, so 200 yuan a star pays 2800/3 yuan, shown as 933.33 (once, half
    up), not 200 x 4.67 = 934 from a mean rounded first."""
    from fractions import Fraction

    from gridcore_assessment import stored, subsidies_table

    rules = tmp_path / "s.rules"
    rules.write_text(RULES.replace("  rate: grid\n", "  rate: unit\n"), encoding="utf-8")
    engine = Engine.open(store=str(tmp_path / "store"), community=REPO / "tests/data/community-mini", ruleset=rules,
                         clock=FixedClock(at(1, 0, month=7)), plugins=get_plugin_manager(("points", "escalation")),
                         effective=at(1, 0))
    with engine:
        engine.record_many(patrols("g1-u1", range(1, 91), actor="m03") + patrols("g1-u2", range(1, 91), actor="m03")
                           + patrols("g2-u1", range(1, 91, 2), actor="张伟"))
        result = assess(engine, "2025-Q1")
        assert sorted(r.stars for r in result.ratings) == [4, 5, 5]
        line = next(s for s in result.subsidies if s.role == "master_grid_leader")
        assert (line.stars, line.amount) == (Fraction(14, 3), Fraction(2800, 3))
        row = next(r for r in subsidies_table(result).rows if r[0] == "m01")
        assert row[2] == 933.33
        assert "master_grid_leader@yq: 933.33 (4.67 stars" in row[3]
        text = engine.explain("assessment:2025-Q1:subsidy:m01").render()
        assert "earns 933.33 for" in text and "933.33 from 4.67 stars" in text
        kept = stored(engine, "2025-Q1")  # stored as "2800/3" and read back exactly
        assert kept is not None
        assert next(s for s in kept.subsidies if s.role == "master_grid_leader").amount == Fraction(2800, 3)


def test_each_part_of_a_subsidy_reads_in_chinese_under_lang_zh(tmp_path: Path) -> None:
    """`gridcore --lang zh assess subsidies` (and the report assessment.subsidies) say each part in Chinese:
    the role by its Chinese name, 星 for stars, why a part is cut or not paid Chinese first; JSON and
    English keep the English detail."""
    engine, store = rated(tmp_path, "  subsidies: once per person, at most 600 yuan\n")
    engine.close()
    runner = CliRunner()
    for args in (["assess", "subsidies", "--period", "2025-Q1"], ["report", "assessment.subsidies", "-p",
                                                                  "period=2025-Q1"]):
        shown = runner.invoke(main_group, ["--lang", "zh", *args, "--store", store], catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        [row] = [line for line in shown.stdout.splitlines() if line.startswith("m01")]
        assert "@yq：600（3.25 星，" in row and "@yq：0（3.25 星，" in row, row
        # each reason in Chinese alone, saying all the English says (the role by its Chinese name, the rule)
        assert "；按每人补贴上限 600 由 650 减为 600（规则 s.rules:9）" in row, row
        assert "；每人只发一次，已按 总网格长@yq 发放（规则 s.rules:9）" in row, row
        assert " stars, " not in row and "master_grid_leader" not in row and "paid once" not in row, row
        assert "cut from" not in row, row
        english = runner.invoke(main_group, [*args, "--store", store, "--format", "json"], catch_exceptions=False)
        [detail] = [r["detail"] for r in json.loads(english.stdout)["rows"] if r["member"] == "m01"]
        assert "master_grid_leader@yq: 600 (3.25 stars, " in detail
    # and the explanation of m01's subsidy, each line's basis in Chinese alone
    said = runner.invoke(main_group, ["--lang", "zh", "explain", "assessment:2025-Q1:subsidy:m01", "--store", store],
                         catch_exceptions=False).stdout
    assert ("两委委员（yq） = 0，按 3.25 星（yq 下 4 个已评星网格的平均；每人只发一次，已按 总网格长@yq 发放"
            "（规则 s.rules:9））") in said, said
    assert "按 3.25 星（yq 下 4 个已评星网格的平均；按每人补贴上限 600 由 650 减为 600（规则 s.rules:9））" in said, said
    default = tmp_path / "default"
    default.mkdir()
    engine, store = rated(default, "")  # no subsidies line: once per person by default
    engine.close()
    shown = runner.invoke(main_group, ["--lang", "zh", "assess", "subsidies", "--period", "2025-Q1", "--store", store],
                          catch_exceptions=False)
    assert "；每人只发一次，已按 总网格长@yq 发放（默认每人一次）" in shown.stdout, shown.stdout
