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
