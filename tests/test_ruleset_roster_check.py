"""gridcore_check_ruleset: names only the roster knows (line departments)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore import Engine, FixedClock
from gridcore.rules import RulesError
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
YINQUAN = REPO / "rulesets" / "yinquan"
START = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))


def misspelt(tmp_path: Path) -> Path:
    text = (YINQUAN / "yinquan.rules").read_text(encoding="utf-8").replace("route to fire,", "route to fier,")
    path = tmp_path / "yinquan.rules"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_department_refuses_the_ruleset_and_the_old_one_stays(tmp_path: Path) -> None:
    with Engine.open(store=str(tmp_path / "s"), community=YINQUAN, ruleset=YINQUAN / "yinquan.rules",
                     clock=FixedClock(START)) as engine:
        with pytest.raises(RulesError) as info:
            engine.use_ruleset(misspelt(tmp_path), effective=START + timedelta(days=1))
        text = str(info.value)
        # the caret is under the department's name, which the did-you-mean replaces
        assert "yinquan.rules:42:49: error: unknown line department 'fier'" in text
        assert info.value.diagnostics[0].width == len("fier")
        assert "did you mean: fire" in text
        assert [r.name for _, r in engine.rulesets()] == ["银泉社区"]


def test_check_reads_the_community_beside_the_file_or_given(tmp_path: Path) -> None:
    bad = misspelt(tmp_path)
    runner = CliRunner()
    alone = runner.invoke(main_group, ["check", str(bad)])
    assert alone.exit_code == 0  # nothing beside it to check departments against
    given = runner.invoke(main_group, ["check", str(bad), "--community", str(YINQUAN)])
    assert given.exit_code == 1
    assert "unknown line department 'fier'" in given.stderr
    zh = runner.invoke(main_group, ["check", "--lang", "zh", str(bad), "--community", str(YINQUAN)])
    assert "未知的条线部门 'fier'" in zh.stderr
    beside = runner.invoke(main_group, ["check", str(YINQUAN / "yinquan.rules")])
    assert beside.exit_code == 0, beside.stderr
