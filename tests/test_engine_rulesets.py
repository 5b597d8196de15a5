"""Rulesets in the engine: atomic loading, history by effective time, persistence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import REPO, START

from gridcore import hookimpl
from gridcore.rules import RulesError
from gridcore_app.cli import main_group

DATA = REPO / "tests" / "data" / "engine"
MINI = REPO / "tests" / "data" / "community-mini"


class Watcher:
    def __init__(self) -> None:
        self.loaded: list[tuple[str, Any]] = []

    @hookimpl
    def gridcore_on_ruleset_loaded(self, ruleset: Any, effective: Any) -> None:
        self.loaded.append((ruleset.name, effective))


def write_rules(path: Path, name: str) -> Path:
    path.write_text(f'ruleset "{name}"\nlevels: community > grid > unit\n', encoding="utf-8")
    return path


def test_a_broken_ruleset_is_refused_and_the_old_one_stays(open_engine: Any) -> None:
    watcher = Watcher()
    engine = open_engine(watcher, builtins=True)
    engine.use_ruleset(DATA / "minimal.rules", effective=START)
    with pytest.raises(RulesError) as info:
        engine.use_ruleset(DATA / "broken.rules", effective=START + timedelta(days=1))
    assert "broken.rules:5:21" in str(info.value)
    assert engine.ruleset.name == "minimal"
    assert [name for name, _ in watcher.loaded] == ["minimal"]
    assert len(list(engine.store.items("rulesets"))) == 1


def test_rulesets_in_force_by_time(open_engine: Any, tmp_path: Path) -> None:
    engine = open_engine()
    first = engine.use_ruleset(write_rules(tmp_path / "a.rules", "第一版"), effective=START)
    second = engine.use_ruleset(write_rules(tmp_path / "b.rules", "第二版"), effective=START + timedelta(days=30))
    assert engine.ruleset_at(START - timedelta(days=1)) is first  # before any: the earliest
    assert engine.ruleset_at(START + timedelta(days=29)) is first
    assert engine.ruleset_at(START + timedelta(days=30)) is second
    assert engine.ruleset is second


def test_rulesets_survive_reopening_without_the_files(open_engine: Any, tmp_path: Path) -> None:
    store = str(tmp_path / "kept")
    rules = write_rules(tmp_path / "c.rules", "保存的规则")
    engine = open_engine(store=store)
    engine.use_ruleset(rules, effective=START)
    engine.close()
    rules.unlink()
    again = open_engine(store=store, community=None)
    assert again.ruleset is not None and again.ruleset.name == "保存的规则"
    assert again.rulesets()[0][0] == START


def test_loading_the_same_ruleset_twice_at_the_same_time_is_a_no_op(open_engine: Any) -> None:
    engine = open_engine()
    engine.use_ruleset(DATA / "minimal.rules", effective=START)
    engine.use_ruleset(DATA / "minimal.rules", effective=START)
    assert len(engine.rulesets()) == 1


def test_levels_must_match_the_community(open_engine: Any, tmp_path: Path) -> None:
    engine = open_engine()
    wrong = tmp_path / "wrong.rules"
    wrong.write_text('ruleset "五级"\nlevels: county > township > village\n', encoding="utf-8")
    with pytest.raises(RulesError, match="expects levels county > township > village"):
        engine.use_ruleset(wrong)
    assert engine.ruleset is None


def test_cli_use_reports_errors_with_position_and_keeps_the_old_ruleset(tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    runner = CliRunner()
    ok = runner.invoke(main_group, ["init", "--community", str(MINI), "--ruleset", str(DATA / "minimal.rules"),
                                    "--effective", "2025-03-01T00:00+08:00", "--store", store])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main_group, ["use", str(DATA / "broken.rules"), "--store", store,
                                     "--now", "2025-04-01T00:00+08:00"])
    assert bad.exit_code == 1
    assert "broken.rules:5:21" in bad.stderr and "a colon is missing" in bad.stderr
    assert "Traceback" not in bad.stderr
    from gridcore_app.cli import open_engine as cli_engine

    with cli_engine(store) as engine:
        assert [r.name for _, r in engine.rulesets()] == ["minimal"]


@pytest.mark.parametrize("how", [["--lang", "zh"], []])
def test_cli_use_reports_a_rulesets_errors_in_chinese_to_chinese_staff(tmp_path: Path, how: list[str]) -> None:
    """``gridcore --lang zh use`` (or a Chinese locale) shows a refused ruleset's problems as ``gridcore check
    --lang zh`` does: the message, what was expected and the fix in Chinese (they were English only)."""
    store = str(tmp_path / "s")
    runner = CliRunner()
    env = {"GRIDCORE_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "en_US.UTF-8" if how else "zh_CN.UTF-8"}
    ok = runner.invoke(main_group, ["init", "--community", str(MINI), "--ruleset", str(DATA / "minimal.rules"),
                                    "--effective", "2025-03-01T00:00+08:00", "--store", store], env=env)
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main_group, [*how, "use", str(DATA / "broken.rules"), "--store", store,
                                     "--now", "2025-04-01T00:00+08:00"], env=env)
    assert bad.exit_code == 1
    assert "broken.rules:5:21: 错误: 缺少冒号" in bad.stderr and "修改: " in bad.stderr, bad.stderr
    assert "a colon is missing" not in bad.stderr and "Traceback" not in bad.stderr
    english = runner.invoke(main_group, ["--lang", "en", "use", str(DATA / "broken.rules"), "--store", store,
                                         "--now", "2025-04-01T00:00+08:00"], env=env)
    assert "broken.rules:5:21: error: a colon is missing" in english.stderr, english.stderr
    from gridcore_app.cli import open_engine as cli_engine

    with cli_engine(store) as engine:
        assert [r.name for _, r in engine.rulesets()] == ["minimal"]


def test_cli_init_with_a_refused_ruleset_says_the_community_is_saved_and_what_to_do(tmp_path: Path) -> None:
    """``gridcore init --ruleset`` with a ruleset that has errors still saves the community: it said only the
    ruleset's errors, as if nothing had been made; now it says the store holds the community and how to go on."""
    store = str(tmp_path / "s")
    runner = CliRunner()
    bad = runner.invoke(main_group, ["--lang", "zh", "init", "--community", str(MINI), "--ruleset",
                                     str(DATA / "broken.rules"), "--store", store])
    assert bad.exit_code == 1
    assert "broken.rules:5:21: 错误: 缺少冒号" in bad.stderr
    assert f"the community is saved in {store}, with no new ruleset in force" in bad.stderr
    assert "gridcore use " in bad.stderr and "社区已保存到库中，规则集未生效" in bad.stderr
    fixed = runner.invoke(main_group, ["use", str(DATA / "minimal.rules"), "--store", store])
    assert fixed.exit_code == 0, fixed.output
