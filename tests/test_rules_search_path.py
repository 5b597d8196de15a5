"""Where ``extends "name"`` looks after a normal install: --rulesets DIR, then $GRIDCORE_RULESETS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset
from gridcore_app.cli import main_group

MINI = REPO / "tests" / "data" / "community-mini"
BASE = "ruleset {name}\nlevels: community > grid > unit\npoints:\n  activity cleanup: {n} per hour\n"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A community's ruleset extending 'street', which lives in two other folders."""
    own, first, second = tmp_path / "own", tmp_path / "first", tmp_path / "second"
    for folder in (own, first, second):
        folder.mkdir()
    (first / "street.rules").write_text(BASE.format(name="first", n=1), encoding="utf-8")
    (second / "street.rules").write_text(BASE.format(name="second", n=2), encoding="utf-8")
    (own / "c.rules").write_text('ruleset c\nextends "street"\n', encoding="utf-8")
    return own / "c.rules", first, second


def origin(ruleset_path: Path, **kwargs: object) -> str:
    ruleset = load_ruleset(ruleset_path, sections=Hooks(get_plugin_manager()).register_sections(), **kwargs)  # type: ignore[arg-type]
    return ruleset.sources[0].name


def test_without_a_search_path_the_parent_is_not_found_and_the_message_says_where_it_looked(
        folders: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    child, _, _ = folders
    monkeypatch.delenv("GRIDCORE_RULESETS", raising=False)
    with pytest.raises(RulesError, match=r'extends "street", but no street.rules in .*own'):
        origin(child)
    result = CliRunner().invoke(main_group, ["check", str(child)], env={"GRIDCORE_RULESETS": ""})
    assert result.exit_code == 1 and "no street.rules" in result.output


def test_the_option_then_the_environment_variable_in_order(folders: tuple[Path, Path, Path],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    child, first, second = folders
    monkeypatch.setenv("GRIDCORE_RULESETS", os.pathsep.join([str(child.parent / "missing"), str(second)]))
    assert origin(child) == "street.rules"
    assert load_ruleset(child, sections=Hooks(get_plugin_manager()).register_sections()).levels
    assert "cleanup: 2 per hour" in show(child)
    assert "cleanup: 1 per hour" in show(child, "--rulesets", str(first))  # the option comes first
    (child.parent / "street.rules").write_text(BASE.format(name="own", n=3), encoding="utf-8")
    assert "cleanup: 3 per hour" in show(child, "--rulesets", str(first))  # the ruleset's own folder first


def show(child: Path, *args: str) -> str:
    result = CliRunner().invoke(main_group, ["show", str(child), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_check_init_and_use_take_the_option(folders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    child, first, _ = folders
    env = {"GRIDCORE_RULESETS": ""}
    runner = CliRunner()
    checked = runner.invoke(main_group, ["check", str(child), "--rulesets", str(first)], env=env)
    assert checked.exit_code == 0, checked.output
    store = str(tmp_path / "store")
    refused = runner.invoke(main_group, ["init", "--community", str(MINI), "--ruleset", str(child), "--store", store],
                            env=env)
    assert refused.exit_code != 0 and "no street.rules" in refused.output
    done = runner.invoke(main_group, ["init", "--community", str(MINI), "--ruleset", str(child), "--rulesets",
                                      str(first), "--store", store], env=env)
    assert done.exit_code == 0, done.output
    used = runner.invoke(main_group, ["use", str(child), "--rulesets", str(first), "--store", store], env=env)
    assert used.exit_code == 0 and "ruleset c in force" in used.output, used.output
    assert "--rulesets DIR" in runner.invoke(main_group, ["use", "--help"]).output


CASES = """\
ruleset: c.rules
community: {community}
start: 2025-03-01T08:00:00+08:00
cases:
  - name: an hour of cleanup
    given:
      - kind: activity_recorded
        time: 2025-03-03T09:00:00+08:00
        actor: m02
        node: g1-u1
        activity: cleanup
        hours: 1
    expect:
      points:
        member:m02:balance: 1
"""


def test_test_diff_schema_and_demo_take_the_option(folders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    child, first, second = folders
    env = {"GRIDCORE_RULESETS": ""}
    runner = CliRunner()
    (child.parent / "c_test.yaml").write_text(CASES.format(community=MINI), encoding="utf-8")
    refused = runner.invoke(main_group, ["test", str(child.parent)], env=env)
    assert refused.exit_code == 1 and "no street.rules" in refused.output, refused.output
    passed = runner.invoke(main_group, ["test", str(child.parent), "--rulesets", str(first)], env=env)
    assert passed.exit_code == 0 and "1 passed, 0 failed" in passed.output, passed.output
    # 'second' pays 2 points an hour: the case fails, so the option decided which parent was used
    failed = runner.invoke(main_group, ["test", str(child.parent), "--rulesets", str(second)], env=env)
    assert failed.exit_code == 1 and "expected 1, got 2" in failed.output, failed.output

    log = tmp_path / "log.jsonl"
    log.write_text('{"kind": "activity_recorded", "id": "a1", "time": "2025-03-03T09:00:00+08:00", '
                   '"actor": "m02", "node": "g1-u1", "activity": "cleanup", "hours": 1}\n', encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.rules").write_text('ruleset c\nextends "street"\n', encoding="utf-8")
    (other / "street.rules").write_text(BASE.format(name="other", n=3), encoding="utf-8")
    args = ["diff", "--events", str(log), "--ruleset", str(child), "--ruleset", str(other / "c.rules"),
            "--community", str(MINI), "--format", "json"]
    assert "no street.rules" in runner.invoke(main_group, args, env=env).output
    import json

    diffed = runner.invoke(main_group, [*args, "--rulesets", str(first)], env=env)
    assert diffed.exit_code == 0, diffed.output
    doc = json.loads(diffed.output)
    # A's parent from --rulesets (1 an hour), B's from its own folder (3 an hour)
    balance = next(c for c in doc["changes"] if c["subject"] == "member:m02:balance")
    assert (balance["a"], balance["b"]) == (1, 3)
    assert doc["a"].endswith("own/c.rules") and doc["b"].endswith("other/c.rules")

    schema = runner.invoke(main_group, ["schema", str(child), "--rulesets", str(first)], env=env)
    assert schema.exit_code == 0 and json.loads(schema.output)["ruleset"]["vocabularies"]["activity"] == ["cleanup"]
    for command in ("test", "diff", "schema", "demo"):
        assert "--rulesets DIR" in runner.invoke(main_group, [command, "--help"]).output, command


def test_demo_finds_the_rulesets_parent_through_the_option(tmp_path: Path) -> None:
    own, first = tmp_path / "own", tmp_path / "first"
    own.mkdir()
    first.mkdir()
    (first / "yq-base.rules").write_text((REPO / "rulesets" / "yinquan" / "yinquan.rules").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    (own / "y.rules").write_text('extends "yq-base"\nruleset 银泉试行\n', encoding="utf-8")
    args = ["demo", "--community", "yinquan", "--days", "1", "--ruleset", str(own / "y.rules"),
            "--out", str(tmp_path / "out")]
    runner = CliRunner()
    refused = runner.invoke(main_group, args, env={"GRIDCORE_RULESETS": ""})
    assert refused.exit_code == 1 and "no yq-base.rules" in refused.output, refused.output
    ran = runner.invoke(main_group, [*args, "--rulesets", str(first)], env={"GRIDCORE_RULESETS": ""})
    assert ran.exit_code == 0 and "ruleset 银泉试行" in ran.output, ran.output
