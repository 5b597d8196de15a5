"""The rows of every table of every demo community under ``--lang zh`` read Chinese: the rows sweep
(``zhsweep.english_rows``) over the tasks plugin's commands and every report every plugin contributes, on
the quarters of yinquan, cuihu, xingfuwan and chengqiao (the Yinzhou district's week is swept by
tests/test_yinzhou_chinese.py; only xingfuwan and yinquan have tasks).

A cell may hold an id, a number, a time, a value with its Chinese (``逾期未完成 overdue``, ``网格 grid``);
no English sentence (``入户排查 at yq-g4, assigned by yq-gl4 ...``, ``(3 stars, yinquan.rules:76)``) and no
bare code of a level or a status (``grid``, ``overdue``).  Each quarter is the one tests/test_demo_realism.py
and tests/test_demo.py read (``quarters.quarter``: once a session), read only.  Each command runs through the CLI (its options, ``--lang zh``,
the command's own table code), but the store is opened once a community, not once a command (``sessionshare.opened_once``):
an open of Xingfuwan's quarter is most of a command's time (about 0.8 s of CPU of 0.85-2 s, 31 commands).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import quarters
from click.testing import CliRunner
from sessionshare import opened_once
from zhsweep import english_rows

from gridcore import Engine
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.roster import ROLES
from gridcore_app.cli import main_group

COMMUNITIES = ("yinquan", "cuihu", "xingfuwan", "chengqiao")
#: The demo's quarter's months (``quarters.quarter``: 2025-Q1).
PERIOD, MONTH = "2025-Q1", "2025-02"


def _quarter(factory: pytest.TempPathFactory, name: str) -> Path:
    """The store of ``name``'s demo quarter (seed 1), built once a session as tests/test_demo_realism.py and
    tests/test_demo.py read it (``quarters.quarter``)."""
    return quarters.quarter(factory, name).store


def _names(engine: Engine) -> frozenset[str]:
    """What staff read as it is in any language: node and member ids, roles, metrics, plugins, departments,
    commands (not the categories and channels: those have Chinese names)."""
    hierarchy = engine.community.hierarchy
    found = {n.id for root in hierarchy.roots() for n in hierarchy.descendants(root.id, include_self=True)}
    found |= set(engine.community.members) | set(engine.community.roles) | set(ROLES) | set(engine.metrics())
    found |= {name for name, _ in Hooks(get_plugin_manager()).describe_plugins()} | {"gridcore"}
    found |= set(engine.community.departments) | set(main_group.commands)
    return frozenset(found)


def _calls(engine: Engine) -> list[list[str]]:
    """The tasks plugin's commands (its first tasks shown) and every report, its parameters filled from the
    quarter (its top node, a member who earned, a task, an incident)."""
    root = engine.community.hierarchy.roots()[0].id
    documents = [d for _, d in engine.store.events_after(0)]
    tasks = list(dict.fromkeys(d["task"] for d in documents if d.get("task")))
    incident = next(d["incident"] for d in documents if d.get("incident"))
    member = next(d["actor"] for d in documents if d["kind"] == "patrol_logged")
    given = {"period": PERIOD, "month": MONTH, "node": root, "member": member, "incident": incident,
             "before": "2025-01", "after": "2025-02"} | ({"task": tasks[0]} if tasks else {})
    calls = [["tasks", "list"], ["tasks", "overdue", "--now", "latest"]]
    calls += [["tasks", "show", task, "--now", "latest"] for task in tasks[:3]]
    for report in sorted(engine.hooks.register_reports(), key=lambda r: r.name):
        if report.name == "tasks.task" and not tasks:
            continue
        params = [f"{p}={given[p]}" for p in report.params if p in given]
        calls.append(["report", report.name, *(a for p in params for a in ("-p", p))])
    return calls


@pytest.mark.parametrize("name", COMMUNITIES)
def test_every_table_of_the_demo_in_chinese_reads_chinese(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under ``--lang zh`` no table row of the tasks plugin's commands and of every report holds an English
    word (``zhsweep.english_rows``); the tasks plugin's and the assessment's stars and paid tables, which
    had them, say their cells in Chinese, and in English as before."""
    store = str(_quarter(tmp_path_factory, name))
    with Engine.open(store=store, read_only=True) as engine:
        names = _names(engine)
        calls = _calls(engine)
    runner = CliRunner(env={"GRIDCORE_LANG": "en"})
    found: dict[str, str] = {}
    said: dict[str, str] = {}
    with opened_once(store):
        for call in calls:
            result = runner.invoke(main_group, ["--lang", "zh", *call, "--store", store])
            assert result.exit_code == 0, (call, result.output)
            said[" ".join(call[:2])] = said.get(" ".join(call[:2]), "") + result.stdout
            for line in english_rows(result.stdout, names):
                found.setdefault(re.sub(r"\S*\d\S*", "#", line.split("    <- ")[1]), f"{' '.join(call)}: {line}")
        if name in ("yinquan", "xingfuwan"):  # (calls[2]: a tasks show, in English)
            english = runner.invoke(main_group, [*calls[2], "--store", store]).stdout
    assert sorted(found.values()) == []
    paid = said["report assessment.paid"]  # (a quarter's subsidies, its parts said as the subsidies say them)
    assert " stars" not in paid and (name == "chengqiao" or re.search(r"\d+ 星，\S+\.rules:\d+）", paid)), paid
    if name in ("yinquan", "xingfuwan"):  # the two with tasks
        shown = said["tasks show"]
        assert re.search(r"^\S+（\S+）：\S+ 于 [\d-]+ [\d:]+ 派发，[\d-]+ [\d:]+ 前完成$", shown, re.MULTILINE), shown
        assert re.search(r" (按时完成 done|逾期完成 late|逾期未完成 overdue) ", shown), shown
        assert re.search(r"^\S+ at \S+, assigned by \S+ [\d-]+ [\d:]+, due before ", english, re.MULTILINE), english
        assert re.search(r" (done 按时完成|late 逾期完成|overdue 逾期未完成) ", english), english
