"""The points section of the rules language: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_points_engine import YINQUAN, at, open_points

from gridcore.rules import RulesError, parse_ruleset
from gridcore_points.policy import PointsPolicy
from gridcore_points.section import SECTION, section


def compile_points(body: str, *, levels: str = "levels: community > grid > unit\n") -> PointsPolicy:
    ruleset = parse_ruleset(f"ruleset t\n{levels}\npoints:\n{body}", sections=[section()], name="t.rules")
    policy = ruleset.policy(SECTION, at=date(2025, 3, 1))
    assert policy is not None
    return policy


def refused(body: str) -> str:
    with pytest.raises(RulesError) as error:
        compile_points(body)
    return str(error.value)


def test_english_and_chinese_say_the_same_thing() -> None:
    en = compile_points(
        "  activity 志愿服务: 5 per hour, at most 40 per month\n"
        "  cap: at most 100 points per month\n"
        "  tilt fulltime_gridworker: x 1.5\n"
        "  reward 大米: 200 points, stock 50, at most 1 per month, from 2025-01-01, until 2025-12-31\n"
        "  expiry: 12 months\n"
        "  duplicate claims: refuse, same day\n"
        "  streak: 20 points for each month of the quarter\n"
    )
    zh = compile_points(
        "  活动 志愿服务：每小时 5 分，每月最多 40 分\n"
        "  封顶：每月最多 100 分\n"
        "  倾斜 专职网格员：1.5 倍\n"
        "  礼遇 大米：200 分，库存 50，每月最多 1 件，2025-01-01 起，至 2025-12-31\n"
        "  有效期：12 个月\n"
        "  重复申报：拒绝，同日\n"
        "  连续活跃：每季度 每月 20 分\n"
    )

    def essence(p: PointsPolicy) -> tuple[object, ...]:
        a = p.activities[0]
        r = p.rewards[0]
        assert p.expiry is not None
        return (
            a.activity, a.amount, [(c.limit, c.period) for c in a.caps], [(c.limit, c.period) for c in p.caps],
            [(t.role, t.factor) for t in p.tilts],
            (r.name, r.price, r.stock, r.limit, r.limit_period, r.valid_from, r.valid_until),
            p.expiry.months, [(g.what, g.action, g.window) for g in p.guards],
            [(s.points, s.unit, s.span) for s in p.streaks],
        )

    assert essence(en) == essence(zh)


def test_points_may_be_written_jifen_as_staff_say_them() -> None:
    """``50 积分`` is how staff say an amount as often as ``50 分``: both mean the same points."""
    fen = compile_points("  活动 入户走访：每件 2 分，每月最多 40 分\n  礼遇 理发券：50 分，每月最多 2 件\n"
                         "  封顶：每月最多 100 分\n  下限：扣 50 分\n")
    jifen = compile_points("  活动 入户走访：每件2积分，每月最多40积分\n  礼遇 理发券：50 积分，每月最多 2 件\n"
                           "  封顶：每月最多 100 积分\n  下限：扣 50 积分\n")
    for p in (fen, jifen):
        assert p.activities[0].amount == fen.activities[0].amount
    assert ([(c.limit, c.period) for c in jifen.activities[0].caps] == [(c.limit, c.period) for c in fen.activities[0].caps]
            == [(40, "month")])
    assert (jifen.rewards[0].price, jifen.rewards[0].limit) == (fen.rewards[0].price, fen.rewards[0].limit) == (50, 2)
    assert [(c.limit, c.period) for c in jifen.caps] == [(c.limit, c.period) for c in fen.caps]
    assert jifen.floor is not None and fen.floor is not None and jifen.floor.limit == fen.floor.limit == -50


def test_an_amount_each_time_is_the_fixed_amount_in_both_languages() -> None:
    """``每次 3 分`` (each time) is how staff write what an activity earns once an event, and ``每次扣 5 分``
    the deduction the grammar's comment promises: both the plain fixed amount, as ``3 points each time`` and
    ``minus 5 per occasion`` are in English; a per-item amount still multiplies the quantity."""
    plain = compile_points("  activity patrol: 3 points\n  activity parking: -5 points\n"
                           "  activity visit: 2 per item\n  confirmed report: 4\n")
    zh = compile_points("  活动 patrol：每次 3 分，每月最多 30 分\n  活动 parking：每次扣 5 分\n"
                        "  活动 visit：每件 2 分\n  确认上报：每次4分\n")
    en = compile_points("  activity patrol: 3 points each time, at most 30 per month\n"
                        "  activity parking: minus 5 per occasion\n  activity visit: each item 2\n"
                        "  confirmed report: 4 each time\n")
    suffix = compile_points("  活动 patrol：3 分每次\n  活动 parking：扣 5 分每次\n  活动 visit：2 分每件\n"
                            "  确认上报：4 分 每次\n")

    def amounts(p: PointsPolicy) -> list[object]:
        return [(type(a.amount).__name__, a.amount) for a in p.activities] + [i.points for i in p.incidents]

    assert amounts(zh) == amounts(en) == amounts(suffix) == amounts(plain)
    assert [(c.limit, c.period) for c in zh.activities[0].caps] == [(30, "month")]


def test_each_members_caps_and_limits_may_say_per_member_as_staff_write_them() -> None:
    """``每人每月最多 40 分``, ``每月上限 40 分``, ``库存 50 件``, ``每人每月限兑 1 件``: what staff write on a
    points list (a cap and a reward's limit are each member's already; 每人 says it again) mean what the
    plain forms mean, and so do ``per member`` and ``limited to`` in English."""
    plain = compile_points("  活动 志愿服务：每小时 5 分，每月最多 40 分\n  封顶：每月最多 100 分\n"
                           "  礼遇 大米：200 分，库存 50，每月最多 1 件\n")
    zh = compile_points("  活动 志愿服务：每小时5分，每人每月上限40分\n  封顶：每人每月最多 100 分\n"
                        "  礼遇 大米：200分，库存50件，每人每月限兑1件\n")
    en = compile_points("  activity 志愿服务: 5 per hour, at most 40 points per member per month\n"
                        "  cap: at most 100 per person per month\n"
                        "  reward 大米: 200 points, stock 50 items, limited to 1 per member per month\n")

    def essence(p: PointsPolicy) -> tuple[object, ...]:
        r = p.rewards[0]
        return ([(c.limit, c.period) for c in p.activities[0].caps], [(c.limit, c.period) for c in p.caps],
                (r.price, r.stock, r.limit, r.limit_period))

    assert essence(zh) == essence(en) == essence(plain) == ([(40, "month")], [(100, "month")], (200, 50, 1, "month"))


def test_a_slash_is_per_as_points_lists_write_it() -> None:
    """``5分/小时``, ``3分/次``, ``2 分 / 件``, ``最多 40 分/月``, ``限兑 1 件/月`` (a points list's table writes
    "per" as a slash, half- or full-width) mean what ``每小时 5 分``, ``3 分``, ``每件 2 分``, ``每月最多 40 分`` and
    ``每月限兑 1 件`` mean; ``5 points/hour`` in English too."""
    plain = compile_points("  活动 志愿服务：每小时 5 分，每月最多 40 分\n  活动 巡查：3 分\n  活动 入户走访：每件 2 分\n"
                           "  封顶：每月最多 100 分\n  礼遇 大米：200 分，每月最多 1 件\n")
    slash = compile_points("  活动 志愿服务：5分/小时，最多 40 分/月\n  活动 巡查：3分/次\n  活动 入户走访：2 分 ／ 件\n"
                           "  封顶：最多 100 分/月\n  礼遇 大米：200 分，限兑 1 件/月\n")
    en = compile_points("  activity 志愿服务: 5 points/hour, at most 40/month\n  activity 巡查: 3 points/occasion\n"
                        "  activity 入户走访: 2/item\n  cap: at most 100 points/month\n"
                        "  reward 大米: 200 points, limited to 1/month\n")

    def essence(p: PointsPolicy) -> tuple[object, ...]:
        return ([(a.activity, a.amount.fixed, a.amount.per_hour, a.amount.per_unit,
                  [(c.limit, c.period) for c in a.caps]) for a in p.activities],
                [(c.limit, c.period) for c in p.caps], [(r.price, r.limit, r.limit_period) for r in p.rewards])

    assert essence(slash) == essence(en) == essence(plain)
    assert [(c.limit, c.period) for c in plain.activities[0].caps] == [(40, "month")]
    # the slash is no "per" before a number, and a computed amount's arithmetic keeps its division
    computed = compile_points("  activity x: computed event.hours * 5 / 2\n").activities[0].amount.formula
    assert computed is not None and "5 / 2" in computed.text
    assert "unexpected '/'" in refused("  活动 巡查：/次 3 分\n")


def test_a_number_in_chinese_numerals_is_told_with_its_digits() -> None:
    """``十分``, ``每小时五分``, ``每件两分``, ``每月最多四十分``: the number in digits, with its unit, is the fix
    (the language reads digits only: ``十分`` is also a word)."""
    assert "did you mean: 10分\n  fix: write 10分, not 十分" in refused("  活动 环境整治：十分\n")
    assert "fix: write 200分, not 二百分" in refused("  礼遇 大米：二百分\n")
    glued = refused("  活动 志愿服务：每小时五分\n")
    assert "did you mean: 小时 5 分" in glued and "written with digits: 小时 5 分" in glued
    assert "did you mean: 件 2 分" in refused("  活动 入户走访：每件两分\n")
    assert "did you mean: 最多 40 分" in refused("  活动 志愿服务：每小时 5 分，每月最多四十分\n")
    fixed = compile_points("  活动 志愿服务：每小时 5 分，每月最多 40 分\n")
    assert [(c.limit, c.period) for c in fixed.activities[0].caps] == [(40, "month")]


def test_a_line_with_no_item_word_lists_every_item_word_of_the_section() -> None:
    """``兑换 大米：100 分`` (redeem) is no item word: the error lists them all, ``reward`` (礼遇) among them,
    not the first eight and an ellipsis that hid the one staff looked for."""
    message = refused("  兑换 大米：100 分\n")
    assert "not a known item" in message and "…" not in message
    for kind in section().items:
        assert f"'{kind.keywords[0]}'" in message, kind.name


def test_the_amount_without_a_condition_is_the_default_wherever_it_is_written() -> None:
    policy = compile_points("  confirmed report: 5, 10 when incident.severity >= 4\n")
    assert [(i.points, i.when.text if i.when else None) for i in policy.incidents] == [
        (10, "incident.severity >= 4"), (5, None),
    ]


def test_dated_versions_pick_the_policy_of_the_day() -> None:
    ruleset = parse_ruleset(
        "ruleset t\npoints:\n  activity 志愿服务: 5 per hour\n    自 2025-06-01 起: 6 per hour\n"
        "  reward 大米: 200 points\n",
        sections=[section()], name="t.rules",
    )
    def on(day: date) -> PointsPolicy:
        policy = ruleset.policy(SECTION, at=day)
        assert policy is not None
        return policy

    assert on(date(2025, 5, 31)).activities[0].amount.per_hour == 5
    assert on(date(2025, 6, 1)).activities[0].amount.per_hour == 6
    assert on(date(2025, 6, 1)).rewards[0].name == "大米"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  activity 学习: 8 points when member.party\n", "party"),
        ("  activity 学习: 8 points when member.__class__\n", "__class__"),
        ("  activity 学习: computed __import__(\"os\")\n", "__import__"),
        ("  activity 学习: 8 points, 6 points\n", "only one amount may go without 'when'"),
        ("  self closed: refuse\n", "self-closed incidents can only be flagged"),
        ("  streak: 20 points for each quarter of the month\n", "a streak counts quarters inside a longer period"),
        ("  tilt gird: x 1.5\n", "'gird' is neither a role nor a level"),
        ("  recognition grid: 30 points per month, by grid_leadr\n", "unknown role 'grid_leadr'"),
        ("  recognition gird: 30 points per month\n", "'gird' is not a level of this ruleset"),
        ("  reward 大米: stock 5\n", "give its price once"),
        ("  reward 大米: 20 points, from 2025-12-31, until 2025-01-01\n", "is before valid from"),
        ("  confirmed report: 5 per hour\n", "incident items earn a fixed number of points"),
        ("  activity 学习: 8 points, at most\n", "t.rules:5"),
    ],
)
def test_mistakes_are_refused_with_where_and_what(body: str, expected: str) -> None:
    message = refused(body)
    assert expected in message
    assert "t.rules:5:" in message  # file:line:col of the offending line


def test_a_broken_ruleset_leaves_the_one_in_force(tmp_path: Path) -> None:
    engine = open_points(tmp_path / "s", YINQUAN)
    broken = tmp_path / "broken.rules"
    broken.write_text("ruleset broken\npoints:\n  activity 志愿服务: 5 per fortnight\n", encoding="utf-8")
    with pytest.raises(RulesError) as error:
        engine.use_ruleset(broken, effective=at(0))
    assert "broken.rules:3:" in str(error.value)
    assert "fortnight" in str(error.value)
    ruleset = engine.ruleset_at(at(1))
    assert ruleset is not None and ruleset.name == "yinquan_points"
    engine.close()


def test_the_repository_rulesets_load_with_their_points_sections() -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import load_ruleset

    sections = Hooks(get_plugin_manager()).register_sections()  # the other sections of those files too
    repo = Path(__file__).resolve().parent.parent
    for path in [repo / "rulesets" / "district-base.rules", *sorted((repo / "rulesets").glob("*/*.rules"))]:
        policy = load_ruleset(path, sections=sections).policy(SECTION, at=date(2025, 3, 1))
        assert policy is not None and policy.activities, path
