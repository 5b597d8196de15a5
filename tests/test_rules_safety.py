"""A malicious ruleset can reach nothing: no eval of its text, no imports, no attributes off-schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rules_toy import CHORES, ENV

from gridcore.events import ActivityRecorded
from gridcore.explain import RuleRef
from gridcore.rules import RulesError, load_ruleset, parse_expression, parse_ruleset, schema
from gridcore.rules.compiler import compile_function

EVENT = ActivityRecorded(id="e", time=datetime(2025, 1, 1, tzinfo=UTC), actor="a", node="n",
                         activity="x", hours=3)


def rate(text: str) -> object:
    """Compile a chore rate expression; return the compiled function."""
    ruleset = parse_ruleset(f"chores:\n  chore x: ({text}) per hour\n", sections=[CHORES])
    return ruleset.policy(CHORES, at=EVENT.time.date())["chores"]["x"][0][2]


def rejected(text: str) -> str:
    with pytest.raises(RulesError) as info:
        parse_ruleset(f"chores:\n  chore x: ({text}) per hour\n", sections=[CHORES])
    return str(info.value)


@pytest.mark.parametrize("text, message", [
    ('__import__("os")', "unknown function '__import__'"),
    ('eval("1")', "unknown function 'eval'"),
    ("open(1)", "unknown function 'open'"),
    ("event.__class__", "'event' has no field '__class__'"),
    ("event.__dict__", "'event' has no field '__dict__'"),
    ("event.hours.real", "unexpected '.'"),
    ("__builtins__", "unknown name '__builtins__'"),
    ("globals", "unknown name 'globals'"),
    ("member.__init__", "'member' has no field '__init__'"),
    ("min.__globals__", "unknown name 'min'"),
    ("event._private", "'event' has no field '_private'"),
])
def test_reaching_outside_the_schema_is_an_error(text: str, message: str) -> None:
    assert message in rejected(text)


@pytest.mark.parametrize("written, value", [
    (r'x\"); import os; (\"', 'x"); import os; ("'),
    (r"a\nb", "a\nb"),
    (r"'single' \\ back", "'single' \\ back"),
    ("{__import__('os').system('true')}", "{__import__('os').system('true')}"),
    ("'''; import os", "'''; import os"),
])
def test_strings_are_only_ever_literals(written: str, value: str) -> None:
    ruleset = parse_ruleset(
        f'chores:\n  chore x: (if event.note == "{written}" then 1 else 2) per hour\n',
        sections=[CHORES])
    fn = ruleset.policy(CHORES, at=EVENT.time.date())["chores"]["x"][0][2]
    assert fn(EVENT, None) == 2
    noted = ActivityRecorded(id="e", time=EVENT.time, actor="a", node="n", activity="x",
                             note=value)
    assert fn(noted, None) == 1
    assert repr(value) in fn.source


def test_generated_code_has_no_builtins_and_no_author_identifiers() -> None:
    ruleset = parse_ruleset("chores:\n  chore x: (如果 成员.党员 则 记录.时长 * 6 否则 5) per hour\n",
                            sections=[CHORES])
    fn = ruleset.policy(CHORES, at=EVENT.time.date())["chores"]["x"][0][2]
    assert fn.fn.__globals__["__builtins__"] == {}
    assert "成员" not in fn.source and "记录" not in fn.source
    assert "v1.party_member" in fn.source and "v0.hours" in fn.source


def test_no_builtin_is_reachable_at_run_time() -> None:
    expr = parse_expression("abs(-2) + max(1, 2) + round(2.5)")
    compiled = compile_function(expr, schema.Env(()), RuleRef("t", 1))
    assert compiled() == 2 + 2 + 2
    with pytest.raises(NameError):
        exec("len('x')", compiled.fn.__globals__)  # noqa: S102 - proving the namespace is empty


@pytest.mark.parametrize("text", [
    "9" * 3000,
    "1" + "0" * 40,
    "123456789012345678",
])
def test_huge_numbers_are_refused(text: str) -> None:
    assert "is too large" in rejected(text)


@pytest.mark.parametrize("text", [
    "(" * 300 + "1" + " + 1)" * 300,
    "not " * 400 + "true",
    "1" + " + 1" * 3000,
    "- " * 500 + "1",
    "[" * 200 + "1" + "]" * 200,
])
def test_deep_nesting_is_refused_without_crashing(text: str) -> None:
    message = rejected(text)
    assert "nested too deeply" in message or "too long" in message


def test_redundant_brackets_are_harmless() -> None:
    assert rate("(" * 300 + "event.hours" + ")" * 300)(EVENT, None) == 3


def test_schema_attributes_must_be_plain_public_names() -> None:
    with pytest.raises(ValueError, match="public ASCII identifier"):
        schema.Field("x", schema.NUMBER, attr="__class__")
    with pytest.raises(ValueError, match="public ASCII identifier"):
        schema.Field("x", schema.NUMBER, attr="a.b")


def test_division_by_zero_does_not_crash_a_plugin() -> None:
    assert rate("event.hours / 0")(EVENT, None) == 0


def test_env_is_what_the_section_allows() -> None:
    assert [v.name for v in ENV.vars] == ["event", "member"]
    assert "unknown name 'node'" in rejected("node.level")


# ---------------------------------------------------------------- the files a ruleset reaches


def test_extends_never_follows_a_link_out_of_the_folder(tmp_path: Path) -> None:
    """``extends "passwd"`` beside a ``passwd.rules`` link to /etc/passwd: refused, never read."""
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:TOP-SECRET:/root:/bin/bash\n", encoding="utf-8")
    folder = tmp_path / "rulesets"
    folder.mkdir()
    (folder / "passwd.rules").symlink_to(secret)
    child = folder / "child.rules"
    child.write_text('extends "passwd"\nchores:\n  chore x: 1 per hour\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_ruleset(child, sections=[CHORES])
    text = info.value.render() + info.value.render("zh")
    assert "TOP-SECRET" not in text and "root:x" not in text
    assert "is a link to a file outside" in text and "只使用文件夹内的规则集" in text
    # a link that stays inside the folder is an ordinary ruleset
    (folder / "real-base.rules").write_text("chores:\n  chore y: 2 per hour\n", encoding="utf-8")
    (folder / "passwd.rules").unlink()
    (folder / "passwd.rules").symlink_to(folder / "real-base.rules")
    assert sorted(load_ruleset(child, sections=[CHORES]).policy(CHORES, at=EVENT.time.date())["chores"]) \
        == ["x", "y"]


def test_a_loop_of_links_and_an_overlong_name_are_rules_errors(tmp_path: Path) -> None:
    (tmp_path / "a.rules").symlink_to(tmp_path / "b.rules")
    (tmp_path / "b.rules").symlink_to(tmp_path / "a.rules")
    with pytest.raises(RulesError, match="a loop of symbolic links"):
        load_ruleset(tmp_path / "a.rules", sections=[CHORES])
    child = tmp_path / "child.rules"
    child.write_text('extends "a"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="loop of symbolic links"):
        load_ruleset(child, sections=[CHORES])
    child.write_text(f'extends "{"q" * 300}"\n', encoding="utf-8")
    with pytest.raises(RulesError, match=r"a ruleset name has at most 100 characters \(this one has 300\)") as info:
        load_ruleset(child, sections=[CHORES])
    assert "q" * 61 not in info.value.render()  # the name is cut short in the message
    with pytest.raises(RulesError, match="at most 100"):
        parse_ruleset(f'extends "{"q" * 300}"\n', sections=[CHORES])


def test_check_and_fmt_of_a_folder_refuse_links_out_of_it_and_loops(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from gridcore_app import rules_cli
    from gridcore_app.cli import main_group

    monkeypatch.setattr(rules_cli, "_sections", lambda: [CHORES])
    outside = tmp_path / "outside.rules"
    outside.write_text("chores:\n   chore   x:  1 per hour\n", encoding="utf-8")  # not formatted
    folder = tmp_path / "rulesets"
    folder.mkdir()
    (folder / "good.rules").write_text("chores:\n  chore x: 1 per hour\n", encoding="utf-8")
    (folder / "evil.rules").symlink_to(outside)
    (folder / "a.rules").symlink_to(folder / "b.rules")
    (folder / "b.rules").symlink_to(folder / "a.rules")
    (folder / "self").symlink_to(folder)  # a folder loop: never walked twice
    for args in (["check", str(folder)], ["fmt", str(folder)], ["fmt", "--check", str(folder)]):
        result = CliRunner().invoke(main_group, args, env={"LANG": "en_US.UTF-8"})
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert f"{folder / 'evil.rules'}: a link to a file outside {folder}; left alone" in result.stderr
        assert f"{folder / 'a.rules'}: a loop of symbolic links" in result.stderr
    assert outside.read_text(encoding="utf-8") == "chores:\n   chore   x:  1 per hour\n"  # never rewritten
    assert (folder / "evil.rules").is_symlink()
