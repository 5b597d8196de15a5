"""The checker: types against the schema, dates, threshold ladders, vocabularies."""

from __future__ import annotations

import pytest
from rules_toy import CHORES

from gridcore.rules import RulesError, parse_expression, parse_ruleset, schema
from gridcore.rules.checker import Checker, ladder_problems
from gridcore.rules.parser import parse_ladder
from gridcore_escalation.events import INCIDENT


def messages(text: str) -> list[str]:
    with pytest.raises(RulesError) as info:
        parse_ruleset(text, sections=[CHORES], name="t.rules")
    return [f"{d.line}:{d.column} {d.message}" for d in info.value.errors]


def check(text: str, env: schema.Env) -> list[str]:
    found: list[str] = []

    def report(at: object, message: str, message_zh: str, **more: object) -> None:
        found.append(message)

    Checker(env, report, {"level": frozenset({"grid", "unit"})}).infer(parse_expression(text))
    return found


ENV = schema.Env((schema.MEMBER, schema.NODE, INCIDENT,
                  schema.Variable("score", schema.NUMBER, zh=("得分",))))


@pytest.mark.parametrize("text, expected", [
    ("member.party_member and score >= 80", []),
    ("成员.党员 且 得分 >= 80", []),
    ("incident.severity + 1 > 3", []),
    ("incident.age > 48h", []),
    ("node.level == \"grid\"", []),
    ("node.level == \"gird\"", ["unknown level 'gird'"]),
    ("node.level in [\"grid\", \"untt\"]", ["unknown level 'untt'"]),
    ("incident.age > 48", ["cannot compare a duration like 48h with a number"]),
    ("score and true", ["expected yes/no (a condition) here, but this is a number"]),
    ("member.name + 1", ["cannot compute text + a number"]),
    ("member.nmae", ["'member' has no field 'nmae'"]),
    ("scor > 1", ["unknown name 'scor'"]),
    ("if score > 1 then 1 else \"x\"", ["both branches must give the same kind of value"]),
    ("max(score, 48h)", ["'max' needs numbers (or durations) of one kind"]),
    ("abs(1, 2)", ["'abs' takes 1-1 values, got 2"]),
    ("member.name < \"b\"", ["'<' cannot be used with text"]),
])
def test_expression_types(text: str, expected: list[str]) -> None:
    assert check(text, ENV) == expected


def test_did_you_mean_for_fields() -> None:
    found: list[dict[str, object]] = []

    def report(at: object, message: str, message_zh: str, **more: object) -> None:
        found.append(more)

    Checker(ENV, report, {}).infer(parse_expression("incident.severty"))
    assert found[0]["suggestion"] == "incident.severity"


@pytest.mark.parametrize("ladder, expected", [
    ("5 if score >= 90, 4 if score >= 80, otherwise 3", []),
    ("5 if score >= 90, 4 if score >= 80", ["no step applies when score < 80; add 'otherwise ...' or a step"]),
    ("4 if score >= 80, 5 if score >= 90, otherwise 3",
     ["this step can never be reached: the steps before it already cover it"]),
    ("3 if 60 <= score < 80, 4 if score >= 70, otherwise 1",
     ["this step overlaps an earlier one (the first matching step wins)"]),
    ("1 if score < 60, 2 if score >= 70", ["no step applies when 60 <= score < 70; add 'otherwise ...' or a step"]),
    ("若 得分 >= 90 则 5，若 得分 >= 60 则 3，否则 1", []),
])
def test_ladders(ladder: str, expected: list[str]) -> None:
    assert [en for _, en, _ in ladder_problems(parse_ladder(ladder))] == expected


def test_ladder_range_limits_gaps() -> None:
    text = "chores:\n  bonus: 2 if event.hours >= 4, 1 if event.hours >= 1\n"
    assert messages(text) == ["2:10 no step applies when event.hours < 1; add 'otherwise ...' or a step"]


def test_overlapping_and_gapped_date_ranges() -> None:
    text = (
        "chores:\n"
        "  chore a: 5 per hour\n"
        "    from 2025-01-01 until 2025-07-01: 6 per hour\n"
        "    from 2025-06-01: 7 per hour\n"
        "  chore b: 5 per hour\n"
        "    from 2025-01-01 until 2025-03-01: 6 per hour\n"
        "    from 2025-04-01: 7 per hour\n"
        "  chore c: 5 per hour\n"
        "    from 2025-01-01: 6 per hour\n"
        "    from 2025-01-01: 7 per hour\n"
        "  chore d: 5 per hour\n"
        "    from 2025-05-01 until 2025-04-01: 6 per hour\n"
    )
    assert messages(text) == [
        "4:5 2025-06-01 overlaps the range above, which runs until 2025-07-01",
        "7:5 nothing is in force from 2025-03-01 to 2025-04-01",
        "10:5 this date (2025-01-01) is not after the one above (2025-01-01)",
        "12:27 the end date 2025-04-01 is not after the start date 2025-05-01",
    ]


def test_an_event_is_judged_by_the_version_in_force_at_its_time() -> None:
    from datetime import date

    ruleset = parse_ruleset("chores:\n  chore a: 5 per hour\n    from 2025-01-01 until 2025-07-01: 6 per hour\n"
                            "    from 2025-07-01: 7 per hour\n", sections=[CHORES])
    (item,) = ruleset.items["chores"]
    assert [item.at(date(y, m, 1)).since for y, m in [(2024, 12), (2025, 1), (2025, 7)]] == [
        None, date(2025, 1, 1), date(2025, 7, 1)]


def test_unknown_level_against_declared_levels() -> None:
    assert messages("levels: community > grid\nchores:\n  limit a: unit\n") == ["3:12 unknown level 'unit'"]


def test_level_check_is_skipped_when_no_levels_are_declared() -> None:
    parse_ruleset("chores:\n  limit a: anything\n", sections=[CHORES])


def test_duplicate_item_in_one_file() -> None:
    assert messages("chores:\n  chore a: 1 per hour\n  chore a: 2 per hour\n") == [
        "3:3 'chore a' is defined twice in this section"]
