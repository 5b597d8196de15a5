"""A member named on the command line by their id or by their name on the roster, as nodes are.

Staff know people by name: ``gridcore points statement 周丽`` is m05's statement, ``--actor 陈强`` records
m03's step.  A name two members bear is refused with both ids; a misspelt one says whom it may mean.
The event recorded holds the id, never the name (``Community.find_member``, ``gridcore_app.cli.person_id``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gridcore import Community, Engine, UnknownMemberError
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
RULES = """\
规则集 "姓名"
层级：community > grid > unit
专项任务：
  任务 入户排查：限时 3 天，由 网格长 下达，派给 专职网格员、专业网格员
积分：
  活动 志愿服务：每小时 5 分
  任务 入户排查：按时完成 10 分，逾期扣 5 分
escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours, then go to grid
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> str:
    community = tmp_path / "community"
    shutil.copytree(REPO / "tests" / "data" / "community-mini", community)
    with (community / "members.csv").open("a", encoding="utf-8") as members:
        members.write("m10,王芳,13800000010,false,g2-u1\n")  # a second 王芳 (m02 is the first)
    rules = tmp_path / "names.rules"
    rules.write_text(RULES, encoding="utf-8")
    where = str(tmp_path / "store")
    code, out, err = run("init", "--community", str(community), "--ruleset", str(rules),
                         "--effective", "2025-01-01T00:00+08:00", "--store", where)
    assert code == 0, out + err
    return where


def test_a_member_is_found_by_id_or_by_a_name_one_member_bears(store: str) -> None:
    with Engine.open(store=store, read_only=True) as engine:
        community: Community = engine.community
        assert community.find_member("m05") == community.find_member("周丽") == community.member("m05")
        assert community.find_member("张伟").id == "张伟"  # an id that is also a name: the id
        with pytest.raises(UnknownMemberError, match=r"'王芳' names 2 members \(m02, m10\).*成员姓名重复"):
            community.find_member("王芳")
        with pytest.raises(UnknownMemberError, match=r"unknown member '周丽丽'.*did you mean '周丽'"):
            community.find_member("周丽丽")


def test_points_commands_take_a_members_name(store: str) -> None:
    assert run("points", "balance", "周丽", "--store", store) == run("points", "balance", "m05", "--store", store)
    code, out, err = run("points", "statement", "陈强", "--period", "2025-03", "--store", store)
    assert code == 0 and out == run("points", "statement", "m03", "--period", "2025-03", "--store", store)[1], err
    code, _, err = run("points", "balance", "王芳", "--store", store)
    assert code == 1 and "'王芳' names 2 members (m02, m10): give the member's id" in err, err
    code, _, err = run("--lang", "zh", "points", "balance", "王芳", "--store", store)
    assert code == 1 and err.startswith("错误：成员姓名重复，请写成员编号") and "m02, m10" in err, err
    code, _, err = run("points", "balance", "周丽丽", "--store", store)
    assert code == 1 and "unknown member '周丽丽': not on the roster nor a registered resident; did you mean " \
                         "'周丽'?" in err, err
    code, _, err = run("--lang", "zh", "points", "balance", "周丽丽", "--store", store)
    assert code == 1 and err.strip() == "错误：花名册和居民登记中都没有 '周丽丽'，是不是 '周丽'？", err


def test_steps_record_the_id_of_the_member_named(store: str) -> None:
    now = "--now", "2025-03-03T09:00+08:00"
    code, out, err = run("incidents", "report", "I1", "--category", "other", "--node", "1单元", "--actor", "周丽",
                         "--store", store, *now)
    assert code == 0, out + err
    code, out, err = run("incidents", "accept", "I1", "--actor", "陈强", "--store", store,
                         "--now", "2025-03-03T09:30+08:00")
    assert code == 0, out + err
    code, out, err = run("incidents", "assign", "I1", "--to", "周丽", "--actor", "m02", "--store", store,
                         "--now", "2025-03-03T09:40+08:00")
    assert code == 0, out + err
    code, _, err = run("tasks", "assign", "sweep", "--kind", "入户排查", "--node", "第一网格", "--actor", "王芳",
                       "--store", store, *now)
    assert code == 1 and "'王芳' names 2 members (m02, m10)" in err, err  # nothing recorded: which 王芳?
    code, out, err = run("tasks", "assign", "sweep", "--kind", "入户排查", "--node", "第一网格", "--actor", "m02",
                         "--store", store, *now)
    assert code == 0 and out.startswith("assigned sweep (入户排查) to 2: m03, m04"), out + err
    code, out, err = run("tasks", "complete", "sweep", "--node", "1单元", "--actor", "陈强", "--store", store,
                         "--now", "2025-03-04T09:00+08:00")
    assert (code, out) == (0, "recorded: m03's part of sweep is done (按时完成)\n"), err
    with Engine.open(store=store, read_only=True) as engine:
        recorded = {e.id: (e.actor, e.node, getattr(e, "handler", None)) for e in engine.events()}
    assert recorded["I1:report"] == ("m05", "g1-u1", None)
    assert [v for k, v in recorded.items() if k.startswith("I1:accept")] == [("m03", "g1-u1", None)]
    assert [v for k, v in recorded.items() if k.startswith("I1:assign")] == [("m02", "g1-u1", "m05")]
    assert recorded["sweep:assigned"][:2] == ("m02", "g1")
    assert recorded["sweep:done:m03"][:2] == ("m03", "g1-u1")
    # a name nobody bears is left to the engine, which refuses the step with its reason, as an unknown id
    code, _, err = run("incidents", "resolve", "I1", "--actor", "无名氏", "--store", store,
                       "--now", "2025-03-03T10:00+08:00")
    assert code == 1 and "unknown actor '无名氏'" in err, err
