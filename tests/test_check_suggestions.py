"""A did-you-mean works when applied: on the real rulesets of rulesets/, in English and in Chinese keywords.

Each case makes one mistake in a community's ruleset, checks it beside its community
(``gridcore check --format json``), puts the suggestion in place of the range the
diagnostic marks (as an editor does) and checks again: the ruleset must then pass.
Each of these suggestions was once wrong: it replaced only part of what it spelt
(a quoted name put after its own unquoted head, ``points::``, ``member`` in place of
``membr.roles``, a whole escalation line replaced by ``fire`` or by the role to
notify or verify with), suggested a split
that does not read (``每 越最多``), or one for part of a word (``个小时`` for the ``个`` of ``5个工作曰``), or was missing (a misspelt level an escalation
goes to, a parent ruleset's name, which had no line and column either).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
EN = ("yinquan", "yinquan.rules")
ZH = ("chengqiao", "chengqiao.rules")

#: (community, file, the right text, the mistake, the code, the suggestion)
CASES = [
    (*EN, "reward 洗衣液:", "reward 洗衣液2024:", "name-with-digits", '"洗衣液2024"'),
    (*ZH, "礼遇 毛巾：", "礼遇 毛巾2024：", "name-with-digits", '"毛巾2024"'),
    (*EN, "\npoints:\n", "\npionts:\n", "unknown-section", "points"),
    (*ZH, "\n积分：\n", "\n积份：\n", "unknown-section", "积分"),
    (*EN, 'in member.roles', 'in membr.roles', "unknown-name", "member.roles"),
    (*ZH, "当 成员.党员", "当 成圆.党员", "unknown-name", "成员.党员"),
    (*EN, "route to fire,", "route to fier,", "unknown-department", "fire"),
    (*ZH, "转交 fire，", "转交 fier，", "unknown-department", "fire"),
    (*EN, "immediately to community when incident.severity", "immediately to comunity when incident.severity",
     "unknown-department", "community"),
    (*ZH, "立即 上报到 town 当", "立即 上报到 twn 当", "unknown-department", "town"),
    (*ZH, "礼遇 毛巾：", "礼遇毛巾：", "glued-keyword", "礼遇 毛巾"),
    (*EN, "activity 入户走访", "activty 入户走访", "keyword-expected", "activity"),
    (*EN, 'extends "district-base"', 'extends "distrct-base"', "extends-missing", "district-base"),
    (*ZH, '继承 "district-base"', '继承 "./district-base"', "extends-path", "district-base"),
    (*ZH, "通知 微网格长\n  事件 fire", "通知 微网格常\n  事件 fire", "notified-role-missing", "微网格员"),
    (*ZH, "核查人：微网格长", "核查人：楼栋长", "verifier-missing", "微网格长"),
    (*EN, "  escalate repeats:", "  verified by: building_leader\n  escalate repeats:", "verifier-missing",
     "unit_leader"),
    (*EN, "subsidy fulltime_gridworker:", "subsidy fulltime_gridwrker:", "unknown-role",
     "fulltime_gridworker"),
    (*ZH, "补贴 微网格员：", "补贴 微网格圆：", "unknown-role", "微网格员"),
    (*ZH, "每件 2 分，每月最多 40 分", "每件 2 分，每越最多 40 分", "misspelt-keyword", "每月最多"),
    # 日 typed as 曰: the did-you-mean was 个小时 for the 个 alone, which left 2个小时工作曰 behind
    (*ZH, "办结时限 5个工作日", "办结时限 5个工作曰", "misspelt-keyword", "个工作日"),
    (*EN, "within 7 days, to grid", "within 7 working days, to grid", "working-time-here", "days"),
    (*ZH, "  提级 重点人员：立即 上报到 grid 当 事件.重点人员\n",
     "  提级 重点人员：立即 上报到 grid 当 事件.重点人员\n  提级 反复：3个工作日内 反复上报 3 次，上报到 grid\n",
     "working-time-here", "天"),
]


def _folder(tmp_path: Path, community: str) -> Path:
    folder = tmp_path / community
    folder.mkdir()
    for path in (REPO / "rulesets" / community).iterdir():
        if path.is_file():
            shutil.copy(path, folder)
    shutil.copy(REPO / "rulesets" / "district-base.rules", folder)
    return folder


def check(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main_group, ["check", "--format", "json", str(path)])
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def applied(text: str, diagnostic: dict[str, Any]) -> str:
    """``text`` with the diagnostic's suggestion in place of its range (an editor's quick fix)."""
    start, end = diagnostic["range"]["start"], diagnostic["range"]["end"]
    assert start["line"] == end["line"]
    lines = text.split("\n")
    line = lines[start["line"] - 1]
    lines[start["line"] - 1] = line[:start["column"] - 1] + diagnostic["suggestion"] + line[end["column"] - 1:]
    return "\n".join(lines)


@pytest.mark.parametrize(("community", "file", "right", "wrong", "code", "suggestion"), CASES,
                         ids=[f"{c[3].strip()}" for c in CASES])
def test_a_suggestion_applied_gives_a_ruleset_that_passes(tmp_path: Path, community: str, file: str,
                                                          right: str, wrong: str, code: str,
                                                          suggestion: str) -> None:
    path = _folder(tmp_path, community) / file
    text = path.read_text(encoding="utf-8")
    assert right in text
    broken = text.replace(right, wrong, 1)
    path.write_text(broken, encoding="utf-8")
    found = check(path)
    assert found["ok"] is False
    mine = [d for d in found["diagnostics"] if d["code"] == code]
    assert [d["suggestion"] for d in mine] == [suggestion], found["diagnostics"]
    for diagnostic in found["diagnostics"]:  # every suggestion made here, each alone
        if diagnostic["suggestion"]:
            path.write_text(applied(broken, diagnostic), encoding="utf-8")
            assert check(path)["ok"] is True, (diagnostic, check(path)["diagnostics"])


def test_no_split_is_suggested_that_does_not_read(tmp_path: Path) -> None:
    """``每越最多`` (每月 mistyped) starts with the keyword 每, but ``每 越最多`` reads no better."""
    path = _folder(tmp_path, "chengqiao") / "chengqiao.rules"
    text = path.read_text(encoding="utf-8").replace("每件 2 分，每月最多 40 分", "每件 2 分，每越最多 40 分", 1)
    path.write_text(text, encoding="utf-8")
    found = check(path)
    assert found["ok"] is False
    assert [d["suggestion"] for d in found["diagnostics"]] != ["每 越最多"]
    assert "glued-keyword" not in [d["code"] for d in found["diagnostics"]]
    # 每周最多, 每月最多, 每年最多 ... would all read: the one the file writes elsewhere is meant
    [misspelt] = found["diagnostics"]
    assert (misspelt["code"], misspelt["suggestion"]) == ("misspelt-keyword", "每月最多")
    assert (misspelt["message"]["zh"], misspelt["fix"]["zh"]) == ("关键词写错了（此处是 '每越最多'）", "写成 每月最多")


def test_a_subsidy_role_is_checked_against_the_roster_or_warned_of_without_one(tmp_path: Path) -> None:
    """Beside its roster a misspelt subsidy role is an error (nobody would be paid), with the role meant;
    checked alone, a slip of a built-in role is still an error, and a role that is no built-in one may be
    one the roster declares: a warning (``role-unchecked``) that says the roster could not be checked."""
    folder = _folder(tmp_path, "yinquan")
    path = folder / "yinquan.rules"
    right = path.read_text(encoding="utf-8")
    path.write_text(right.replace("subsidy fulltime_gridworker:", "subsidy fulltime_gridwrker:", 1), encoding="utf-8")
    beside = [d for d in check(path)["diagnostics"] if d["code"] == "unknown-role"]
    assert [(d["severity"], d["range"]["start"]["line"], d["suggestion"]) for d in beside] == [
        ("error", 76, "fulltime_gridworker")]
    assert beside[0]["message"]["zh"] == "未知的角色 'fulltime_gridwrker'"
    (folder / "community.yaml").unlink()
    alone = check(path)
    assert alone["ok"] is False and [d["code"] for d in alone["diagnostics"]] == ["unknown-role"]
    path.write_text(right.replace("subsidy fulltime_gridworker:", "subsidy safety_officer:", 1), encoding="utf-8")
    found = check(path)
    assert found["ok"] is True
    [unchecked] = [d for d in found["diagnostics"] if d["code"] == "role-unchecked"]
    assert (unchecked["severity"], unchecked["range"]["start"]["line"]) == ("warning", 76)
    assert "无法核对花名册是否声明了该角色" in unchecked["message"]["zh"]


def test_working_days_in_a_repeat_window_say_why_and_what_to_write(tmp_path: Path) -> None:
    """``3个工作日内 反复上报`` was refused with "这个词用在这里不对" alone: the window counts calendar
    days, and the message now says so, with a fix that reads (3天内) in both languages."""
    path = _folder(tmp_path, "chengqiao") / "chengqiao.rules"
    line = "  提级 重点人员：立即 上报到 grid 当 事件.重点人员\n"
    path.write_text(path.read_text(encoding="utf-8").replace(
        line, line + "  提级 反复：3个工作日内 反复上报 3 次，上报到 grid\n", 1), encoding="utf-8")
    [found] = check(path)["diagnostics"]
    assert found["code"] == "working-time-here"
    assert found["message"]["zh"].startswith("这里不能按工作时间计：这段时间按自然时间计算")
    assert "calendar time" in found["message"]["en"]
    assert (found["fix"]["en"], found["fix"]["zh"]) == ("write the span in calendar days: 3天内", "按自然日写：3天内")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("3个工作日内", "3天内"), encoding="utf-8")
    assert check(path)["ok"] is True


def test_a_misspelt_keyword_the_file_does_not_settle_lists_what_could_be_meant(tmp_path: Path) -> None:
    """With no 每月最多 elsewhere in the file, 每越最多 could be 每周最多, 每月最多 ...: no guess is
    put in its place, the fix lists the spellings that read."""
    path = _folder(tmp_path, "chengqiao") / "chengqiao.rules"
    lines = path.read_text(encoding="utf-8").replace("每件 2 分，每月最多 40 分", "每件 2 分，每越最多 40 分", 1)
    path.write_text("\n".join(x for x in lines.split("\n") if "每月最多" not in x), encoding="utf-8")
    [found] = check(path)["diagnostics"]
    assert (found["code"], found["suggestion"]) == ("misspelt-keyword", "")
    options = found["fix"]["zh"].removeprefix("写成其中之一：").split("、")
    assert "每月最多" in options and "每周最多" in options and len(options) <= 6
    for option in options:
        path.write_text(path.read_text(encoding="utf-8").replace("每越最多", option), encoding="utf-8")
        assert check(path)["ok"] is True, option
        path.write_text(path.read_text(encoding="utf-8").replace(option + " 40", "每越最多 40"), encoding="utf-8")
