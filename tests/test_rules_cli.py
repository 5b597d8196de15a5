"""The language's commands through the real ``gridcore`` CLI: check, fmt, show, schema, test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rules_toy import CHORES

from gridcore_app import rules_cli
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the commands with only the toy section installed."""
    monkeypatch.setattr(rules_cli, "_sections", lambda: [CHORES])


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args), env=env or {"LANG": "en_US.UTF-8"})
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_ok_and_errors(toy: None, tmp_path: Path) -> None:
    good = write(tmp_path, "good.rules", "chores:\n  chore a: 5 per hour\n")
    bad = write(tmp_path, "bad.rules", "chores:\n  chor a: 5 per hour\n  chore b 5 per hour\n")
    code, out, err = run("check", str(good))
    assert code == 0 and out == f"{good}: ok (good)\n"
    code, out, err = run("check", str(good), str(bad))
    assert code == 1
    assert f"{bad}:2:3: error: this is not a known item (found 'chor')" in err
    assert f"{bad}:3:11: error: a colon is missing (found '5')" in err
    assert err.rstrip().endswith("2 errors")


def test_check_in_chinese(toy: None, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.rules", "家务积分：\n  家务 扫地 每小时 5 分\n")
    code, _, err = run("check", "--lang", "zh", str(bad))
    assert code == 1 and "错误: 缺少冒号" in err and "共 1 个错误" in err
    code, _, err = run("check", str(bad), env={"LANG": "zh_CN.UTF-8"})
    assert "错误: 缺少冒号" in err


def test_check_shows_warnings_without_failing(toy: None, tmp_path: Path) -> None:
    mixed = write(tmp_path, "m.rules", "chores:\n \tchore a: 5 per hour\n")
    code, _out, err = run("check", str(mixed))
    assert code == 0 and "warning: this line's indentation mixes tabs and spaces" in err


def test_fmt_check_and_rewrite(toy: None, tmp_path: Path) -> None:
    messy = write(tmp_path, "m.rules", "chores :\nchore a :5 per hour # c\n")
    code, out, _ = run("fmt", "--check", str(messy))
    assert code == 1 and out == f"would reformat {messy}\n"
    code, out, _ = run("--lang", "zh", "fmt", "--check", str(messy))
    assert code == 1 and out == f"格式需调整：{messy}\n"  # (in Chinese alone)
    code, out, _ = run("fmt", str(messy))
    assert code == 0 and messy.read_text(encoding="utf-8") == "chores:\n  chore a: 5 per hour  # c\n"
    code, out, _ = run("fmt", "--check", str(messy))
    assert code == 0 and out == ""


def test_show_effective_and_against_parent(toy: None, tmp_path: Path) -> None:
    write(tmp_path, "base.rules", "chores:\n  chore a: 5 per hour\n  chore b: 1 per hour\n")
    child = write(tmp_path, "child.rules",
                  'extends "base"\nchores:\n  chore a: 6 per hour\n  remove chore b\n  chore c: 2 per hour\n')
    code, out, _ = run("show", "--effective", str(child))
    assert code == 0  # each item is named by its file, as the ruleset chain names it (never a folder)
    assert out.splitlines() == [
        'ruleset "child"',
        "chores:",
        f"  chore a: 6 per hour  # {child.name}:3",
        f"  chore c: 2 per hour  # {child.name}:5",
    ]
    code, out, _ = run("show", "--against-parent", str(child))
    assert out.splitlines() == [
        f"removed  chores: chore b  # {child.name}:4",
        f"changed  chores: chore a  # {child.name}:3",
        f"added    chores: chore c  # {child.name}:5",
    ]


def test_schema_lists_sections_fields_and_a_rulesets_names(toy: None, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from gridcore.plugin_host import Hooks

    monkeypatch.setattr(Hooks, "register_sections", lambda self: [CHORES])
    path = write(tmp_path, "r.rules", "levels: community > grid\nchores:\n  chore 扫地: 5 per hour\n")
    code, out, _ = run("schema", str(path))
    assert code == 0
    doc = json.loads(out)
    assert [s["name"] for s in doc["sections"]] == ["chores"]
    assert doc["sections"][0]["items"][0]["keywords"] == ["chore", "家务"]
    assert doc["events"]["activity_recorded"]["hours"] == {"type": "number", "zh": ["小时数", "时长"]}
    assert doc["ruleset"]["vocabularies"] == {"activity": ["扫地"], "level": ["community", "grid"]}


def test_check_and_show_with_the_built_in_sections() -> None:
    path = REPO / "rulesets" / "yinquan" / "yinquan.rules"
    code, out, err = run("check", str(path))
    assert code == 0, err
    code, out, _ = run("show", str(path))
    assert "# district-base.rules:" in out


def test_ruleset_cases_command(tmp_path: Path) -> None:
    code, out, _ = run("test", str(REPO / "rulesets" / "yinquan"))
    assert code == 0 and "passed, 0 failed" in out


def test_show_reports_errors_in_the_chosen_language(toy: None, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.rules", "家务积分：\n  家务 扫地 每小时 5 分\n")
    code, out, err = run("show", "--lang", "zh", str(bad))
    assert code == 1 and out == "" and "错误: 缺少冒号" in err


def test_check_and_fmt_take_folders(toy: None, tmp_path: Path) -> None:
    write(tmp_path, "a.rules", "chores:\n  chore a: 5 per hour\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.rules", "chores :\n chore b:1 per hour\n")
    code, out, _ = run("check", str(tmp_path))
    assert code == 0 and out.count(": ok") == 2
    code, out, _ = run("fmt", "--check", str(tmp_path))
    assert code == 1 and out == f"would reformat {tmp_path / 'sub' / 'b.rules'}\n"


def test_the_committed_rulesets_are_formatted() -> None:
    """The README's quick tour runs `gridcore fmt --check rulesets/` on a fresh clone: it must pass (yinzhou.rules
    wrote its levels line with spaces before '>' the formatter drops)."""
    code, out, err = run("fmt", "--check", str(REPO / "rulesets"))
    assert (code, out) == (0, ""), out + err
