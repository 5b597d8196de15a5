"""``gridcore check --format json``, a folder with no rulesets, an unreadable file: through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
BASE = 'extends "district-base"\nlevels: community > grid > unit\n\n'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args), env={"LANG": "en_US.UTF-8"})
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_json_gives_every_diagnostic_with_range_code_both_languages_and_fix(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.rules", BASE + "points:\n  activity 扫地 5 per hour\n"
                "  activity 擦窗: five per hour\n")
    code, out, err = run("check", "--format", "json", str(bad))
    assert code == 1 and err == ""
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["files"] == [{"file": str(bad), "ruleset": "", "ok": False, "errors": 2,
                             "warnings": 0}]
    first, second = doc["diagnostics"]
    assert first == {
        "file": str(bad),
        "range": {"start": {"line": 5, "column": 15}, "end": {"line": 5, "column": 16}},
        "severity": "error",
        "code": "missing-colon",
        "message": {"en": "a colon is missing (found '5')", "zh": "缺少冒号（此处是 '5'）"},
        "expected": {"en": "':'", "zh": "'：'"},
        "suggestion": "",
        "fix": {"en": "put ':' (or '：') between the item's name and its rule",
                "zh": "在条目名称和规则之间加上 '：'"},
        "source_line": "  activity 扫地 5 per hour",
    }
    assert second["code"] == "number-in-words"
    assert second["range"]["start"] == {"line": 6, "column": 16}
    assert second["range"]["end"] == {"line": 6, "column": 20}  # 'five'
    assert second["fix"] == {"en": "write 5, not five", "zh": "写成 5，不要写 'five'"}


def test_json_of_a_good_ruleset_and_its_warnings(tmp_path: Path) -> None:
    code, out, _ = run("check", "--format", "json", str(REPO / "rulesets" / "yinquan" / "yinquan.rules"))
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    assert doc["files"][0]["ruleset"] == "银泉社区" and doc["files"][0]["errors"] == 0
    assert all(d["severity"] == "warning" for d in doc["diagnostics"])


def test_an_unknown_metric_is_an_error_once_the_installed_plugins_are_known(tmp_path: Path) -> None:
    path = write(tmp_path, "m.rules", BASE + "assessment:\n  metric patrol_coverag: weight 25\n")
    code, out, _ = run("check", "--format", "json", str(path))
    assert code == 1
    found = [d for d in json.loads(out)["diagnostics"] if d["code"] == "unknown-metric"]
    assert [d["severity"] for d in found] == ["error"]
    assert found[0]["suggestion"] == "patrol_coverage"


def test_one_mistake_repeated_along_a_star_ladder_is_one_message(tmp_path: Path) -> None:
    path = write(tmp_path, "s.rules", BASE + "assessment:\n  stars: 5 if score >= 九十, "
                 "4 if score >= 八十, 3 if score >= 七十, otherwise 1\n")
    code, _, err = run("check", str(path))
    assert code == 1
    assert err.count("error:") == 1, err
    assert "(3 times on this line, the first shown)" in err and err.endswith("1 error\n")
    zh = CliRunner().invoke(main_group, ["check", "--lang", "zh", str(path)])
    assert "（本行共 3 处，只标出第一处）" in zh.stderr and "共 1 个错误" in zh.stderr


def test_a_folder_with_no_rulesets_says_so_and_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty", "notes.txt", "not a ruleset")
    code, out, err = run("check", str(tmp_path / "empty"))
    assert code == 1 and out == ""
    assert err == (f"{tmp_path / 'empty'}: error: no .rules file in {tmp_path / 'empty'}: "
                   "nothing to check\n  fix: give the path of a .rules file, or the folder that "
                   "holds one\n")
    zh = CliRunner().invoke(main_group, ["check", "--lang", "zh", str(tmp_path / "empty")])
    assert zh.exit_code == 1 and "中没有 .rules 文件：没有可检查的规则集" in zh.stderr
    code, out, _ = run("check", "--format", "json", str(tmp_path / "empty"))
    assert code == 1 and json.loads(out)["diagnostics"][0]["code"] == "no-rulesets"


def test_an_unreadable_file_names_its_path_and_the_first_bad_byte(tmp_path: Path) -> None:
    # GBK bytes in a UTF-8 file: 扫地 saved by an old editor.  扫 is c9 a8 in GBK, which
    # happens to be valid UTF-8 (ɨ); 地's first byte, b5, is the first bad one.
    path = write(tmp_path, "gbk.rules", 'ruleset "x"\npoints:\n  activity 擦窗: 5 per hour\n'.encode()
                 + "  activity 扫地: 5 per hour\n".encode("gbk"))
    code, out, err = run("check", str(path))
    assert code == 1
    assert err.startswith(f"{path}:4:13: error: not a UTF-8 text file: the first bad byte (0xb5) "
                          "is at line 4, column 13; it looks like GBK (GB18030)"), err
    zh = CliRunner().invoke(main_group, ["check", "--lang", "zh", str(path)])
    assert "第一个无法识别的字节（0xb5）在第 4 行第 13 列" in zh.stderr
    code, out, _ = run("check", "--format", "json", str(path))
    found = json.loads(out)["diagnostics"][0]
    assert found["code"] == "not-utf8" and found["range"]["start"] == {"line": 4, "column": 13}


def test_a_gbk_file_is_named_gbk_and_its_line_shown_as_chinese(tmp_path: Path) -> None:
    """A ruleset saved as GBK by Notepad: the error says it looks like GBK (GB18030), in English and
    Chinese, shows the line as the staff member wrote it (扫地, not mojibake) and says how to save it as
    UTF-8; a file in another encoding is not called GBK."""
    # (扫 is c9 a8 in GBK, valid UTF-8 too; 地's b5, column 13, is the first bad byte)
    path = write(tmp_path, "gbk.rules", 'ruleset "x"\npoints:\n  activity 扫地: 5 per hour\n'.encode("gbk"))
    code, _, err = run("check", str(path))
    assert code == 1
    first, source = err.splitlines()[:2]
    assert first.startswith(f"{path}:3:13: error: not a UTF-8 text file") and "looks like GBK (GB18030)" in first
    assert source.strip() == "activity 扫地: 5 per hour", err
    assert "另存为 → 编码 UTF-8" in err
    zh = CliRunner().invoke(main_group, ["check", "--lang", "zh", str(path)])
    assert f"{path}:3:13:" in zh.stderr and "看起来是 GBK（GB18030）编码" in zh.stderr, zh.stderr
    assert "activity 扫地: 5 per hour" in zh.stderr and "记事本：另存为 → 编码 UTF-8" in zh.stderr
    latin = write(tmp_path, "latin.rules", 'ruleset "x"\npoints:\n  activity café: 5 per hour\n'.encode("latin-1"))
    code, _, err = run("check", str(latin))
    assert code == 1 and f"{latin}:3:15: error: not a UTF-8 text file" in err and "GBK" not in err, err
