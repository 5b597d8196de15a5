"""``gridcore --lang zh incidents limits``: every row of the limits table in Chinese, a category by the name
its ruleset gives it, a level by the roster's name for it (``网格 grid``), a limit's span and what it applies
as in Chinese (``4个工作小时（网格层级时限，yinzhou.rules:43）``); English and JSON keep their text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result
from conftest import REPO
from test_escalation_detail_zh import english_left
from zhladder import init_store

from gridcore_app.cli import main_group

EXTRA = """\
  类别时限 fire_hazard：受理时限 1个工作小时，于 community 办结时限 4个工作小时，当 事件.严重程度 >= 4 办结时限 2个工作小时
  办理人时限 单元长：办结时限 4个工作小时，超时转给 专职网格员
"""


def run(*args: str) -> Result:
    done = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done


def rows(text: str) -> list[str]:
    """The table's rows and notes: the lines below its dashes."""
    lines = text.splitlines()
    return [line for line in lines[lines.index(next(x for x in lines if x.startswith("---"))) + 1:] if line]


def assert_chinese(text: str) -> None:
    for line in rows(text):
        assert re.search(r"[\u4e00-\u9fff]", line), line
        assert not english_left(line), line
        assert not re.search(r"\b(working|hours?|days?|level|department|handler|summoned|within|when)\b", line), line


def test_yinzhou_limits_name_categories_and_levels_in_chinese(tmp_path: Path) -> None:
    text = run("--lang", "zh", "incidents", "limits", str(REPO / "rulesets" / "yinzhou" / "yinzhou.rules")).output
    assert_chinese(text)
    # the category by the name district-base gives it, the level by the roster beside the file (区 district)
    assert re.search(r"水管漏水 leaking_pipe +网格 grid +4个工作小时（网格层级时限，yinzhou.rules:43） +"
                     r"3个工作日（网格层级时限，yinzhou.rules:43）", text), text
    assert "（其他类别）" in text and re.search(r"条线部门 消防救援（fire） +（被召集）", text)
    assert "4个工作小时（部门报到时限，yinzhou.rules:57）" in text
    # English is as it was
    english = run("incidents", "limits", str(REPO / "rulesets" / "yinzhou" / "yinzhou.rules")).output
    assert "leaking_pipe                 grid        4 working hours (level grid, yinzhou.rules:43)" in english
    assert "水管漏水" not in english


def test_a_category_limit_its_condition_and_a_handler_limit_in_chinese(tmp_path: Path) -> None:
    folder = tmp_path / "yz"
    shutil.copytree(REPO / "rulesets" / "yinzhou", folder)
    shutil.copy(REPO / "rulesets" / "district-base.rules", tmp_path / "district-base.rules")
    path = folder / "yinzhou.rules"
    path.write_text(path.read_text(encoding="utf-8").replace("  提级 重大", EXTRA + "  提级 重大", 1),
                    encoding="utf-8")
    text = run("--lang", "zh", "incidents", "limits", str(path)).output
    assert_chinese(text)
    line = next(x for x in text.splitlines() if x.startswith("消防隐患 fire_hazard") and "社区 community" in x)
    assert "1个工作小时（类别时限 消防隐患 fire_hazard，yinzhou.rules:50）" in line
    assert "4个工作小时（类别时限 消防隐患 fire_hazard，在社区，yinzhou.rules:50）" in line
    assert "办结时限 2个工作小时，当 事件.严重程度 >= 4（yinzhou.rules:50）" in line
    assert re.search(r"办理人 单元长（unit_leader） +（超时转交 专职网格员（fulltime_gridworker）） +- +"
                     r"4个工作小时（办理人时限，yinzhou.rules:51）", text), text
    # JSON keeps the English text and the codes
    shown = json.loads(run("--lang", "zh", "incidents", "limits", str(path), "--format", "json").output)
    assert shown["rows"][0]["category"] == "leaking_pipe"
    assert shown["rows"][0]["accept"] == "4 working hours (level grid, yinzhou.rules:43)"


def test_the_store_s_limits_in_chinese(tmp_path: Path) -> None:
    store = init_store(tmp_path)
    text = run("--lang", "zh", "incidents", "limits", "--store", store, "--now", "2025-03-05T10:00+08:00").output
    assert_chinese(text)
    assert re.search(r"水管漏水 leaking_pipe +最小单元 unit +2小时（最小单元层级时限，ladder-unit.rules:\d+）", text), text
    assert "适用规则集 ladder_unit（ladder-unit.rules）：整个层级树" in text
    csv = run("--lang", "zh", "incidents", "limits", "--store", store, "--now", "2025-03-05T10:00+08:00",
              "--format", "csv").output
    assert "水管漏水 leaking_pipe,最小单元 unit,2小时（最小单元层级时限" in csv
