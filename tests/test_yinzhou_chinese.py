"""The Yinzhou district demo under ``--lang zh`` reads Chinese: its run, its reports and roll-ups, and the
explanations and timelines of a street's decisions, swept by tests/zhsweep.py's rule.

The whole district's week is about 10,000 events and 700 incidents; explaining every decision took longer
than a test may.  The sweep samples: the first events of every kind recorded in one street (红旗街道
yz-s1), each with both plugins' explanations, each of their incidents' route and timeline, the week's
ratings of the street's nodes, and the street's and the district's roll-ups.  A category and a channel are
not names staff read as they are: each must be said by its Chinese name (``水管漏水（leaking_pipe）``,
``微信（wechat）``), so the sweep does not let their codes be.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from zhsweep import english_lines

from gridcore import Engine
from gridcore.errors import GridcoreError
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.roster import ROLES
from gridcore_app.cli import main_group

STREET = "yz-s1"
WEEK = "2025-W10"
#: events of each kind sampled in the street
EACH = 4


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """``gridcore --lang zh demo --community yinzhou``: the district's week (its output, its folder)."""
    out = tmp_path_factory.mktemp("yinzhou") / "out"
    done = CliRunner().invoke(main_group, ["--lang", "zh", "demo", "--community", "yinzhou", "--out", str(out)],
                              env={"GRIDCORE_LANG": "en"})
    assert done.exit_code == 0, done.output
    yield out, done.stdout


def _names(engine: Engine) -> frozenset[str]:
    """What staff read as it is in any language: node and member ids, roles, metrics, plugins (not the
    categories and channels: those have Chinese names)."""
    hierarchy = engine.community.hierarchy
    found = {n.id for root in hierarchy.roots() for n in hierarchy.descendants(root.id, include_self=True)}
    found |= set(engine.community.members) | set(engine.community.roles) | set(ROLES) | set(engine.metrics())
    found |= {name for name, _ in Hooks(get_plugin_manager()).describe_plugins()} | {"gridcore"}
    return frozenset(found)


def _sample(engine: Engine) -> tuple[list[str], list[str]]:
    """The street's first ``EACH`` events of every kind as decisions both plugins may explain, and their
    incidents."""
    inside = {n.id for n in engine.community.hierarchy.descendants(STREET, include_self=True)}
    taken: Counter[str] = Counter()
    decisions, incidents = [], []
    for _, document in engine.store.events_after(0):
        if document.get("node") not in inside or taken[document["kind"]] >= EACH:
            continue
        taken[document["kind"]] += 1
        decisions += [f"points:{document['id']}", f"escalation:{document['id']}"]
        if document.get("incident") and document["incident"] not in incidents:
            incidents.append(document["incident"])
    assert {"incident_reported", "incident_escalated", "patrol_logged", "activity_recorded"} <= set(taken), taken
    return decisions + [f"escalation:route:{i}" for i in incidents], incidents


def _found(found: dict[str, str], where: str, output: str, names: frozenset[str]) -> None:
    for line in english_lines(output, names):
        found.setdefault(re.sub(r"\S*\d\S*", "#", line.split("    <- ")[1]), f"{where}: {line}")


def test_the_district_demo_and_its_reports_in_chinese_read_chinese(district: tuple[Path, str]) -> None:
    """The run, every report the demo wrote (roll-ups too) under zh: no English word but ids, names, quoted
    rule source and glosses after Chinese (a report's rows aside, as for every command)."""
    out, shown = district
    with Engine.open(store=str(out / "store")) as engine:
        names = _names(engine)
    found: dict[str, str] = {}
    _found(found, "demo", shown, names)
    written = sorted((out / "reports").glob("*.txt"))
    assert len(written) > 50 and any(p.name.startswith(f"rollup-{STREET}-") for p in written)
    for path in written:
        _found(found, path.name, path.read_text(encoding="utf-8"), names)
    assert sorted(found.values()) == []
    assert "== 社区规则变体：" in shown and "yz-c1 银州社区：银州社区（yz-c1.rules），自 2025-03-03 起；" in shown
    rolled = (out / "reports" / f"rollup-yz-departments-{WEEK}.txt").read_text(encoding="utf-8")
    assert rolled.startswith(f"条线部门吹哨报到，{WEEK}\n")
    # a row's sentence the sweep does not read (a table's rows): a cell not counted against the plan
    planned = (out / "reports" / "planning-sizes.txt").read_text(encoding="utf-8")
    assert "不计：未登记户" in planned and "not counted" not in planned and "不计：未登记户" in shown


def test_a_streets_decisions_explained_in_chinese_read_chinese(district: tuple[Path, str]) -> None:
    """Every kind of decision of the street (points entries, escalations by the clock and by rule, routes,
    repeat reports, ratings of nodes) explained under zh."""
    import gridcore_assessment

    out, _ = district
    explained: Counter[str] = Counter()
    found: dict[str, str] = {}
    with Engine.open(store=str(out / "store")) as engine:
        names = _names(engine)
        decisions, _ = _sample(engine)
        rated = gridcore_assessment.stored_or_fresh(engine, WEEK)
        inside = {n.id for n in engine.community.hierarchy.descendants(STREET, include_self=True)}
        decisions += [f"assessment:{WEEK}:{r.node}" for r in rated.ratings if r.node in inside][:12]
        for decision in decisions:
            try:
                shown = engine.explain(decision, lang="zh").render("zh")
            except GridcoreError:
                continue
            explained[decision.split(":")[0] + (":route" if ":route:" in decision else "")] += 1
            _found(found, decision, shown, names)
    assert explained["points"] >= EACH and explained["escalation"] >= EACH and explained["escalation:route"] > 5
    assert explained["assessment"] > 5, explained
    assert sorted(found.values()) == []


def test_an_escalation_by_the_clock_says_its_inputs_in_chinese(district: tuple[Path, str]) -> None:
    """An escalation the clock made and one whose rule read the channel: category, channel, level, status, limit, clock, what the limit
    applies as in Chinese (the code in brackets); in English as before."""
    out, _ = district
    with Engine.open(store=str(out / "store")) as engine:
        escalations = [f"escalation:{d['id']}" for _, d in engine.store.events_after(0)
                       if d["kind"] == "incident_escalated" and d["id"].startswith("esc:")]
        # the first the clock made, and the first whose rule reads the channel (a rule's condition)
        chosen = [next(d for d in escalations if f"input 输入: {key} = " in engine.explain(d).render())
                  for key in ("clock", "channel")]
        chinese = "\n".join(engine.explain(d, lang="zh").render("zh") for d in chosen)
        english = "\n".join(engine.explain(d).render() for d in chosen)
    for said in (r"事件类别（category） = \w+（[a-z_]+）", r"上报渠道（channel） = \w+（[a-z_]+）",
                 r"层级（level） = \w+（[a-z]+）", r"状态（status） = 已\w+（[a-z]+）", r"时限（limit） = (受理（accept）|办结（resolve）)",
                 r"计时（clock） = (本级（level）|办理人（handler）)", r"适用为（applies as） = \S+时限"):
        assert re.search(f"输入：{said}$", chinese, re.MULTILINE), (said, chinese)
    for said in (r"category = [a-z_]+", r"channel = [a-z_]+", r"level = [a-z]+", r"status = [a-z]+",
                 r"limit = (accept|resolve)", r"clock = (level|handler)", r"applies as = level \w+"):
        assert re.search(f"input 输入: {said}$", english, re.MULTILINE), (said, english)


def test_a_streets_timelines_and_rollups_in_chinese_read_chinese(district: tuple[Path, str]) -> None:
    """``incidents timeline`` of the sampled incidents, the street's and the district's roll-ups, the limits and
    the stats, through the command line under zh."""
    out, _ = district
    store = str(out / "store")
    with Engine.open(store=store) as engine:
        names = _names(engine)
        _, incidents = _sample(engine)
    runner = CliRunner(env={"GRIDCORE_LANG": "en"})
    calls = [["incidents", "timeline", i, "--now", "latest"] for i in incidents[:25]]
    calls += [["rollup", STREET, "--period", WEEK, "--workers", "1"], ["rollup", "yz", "--period", WEEK, "--workers", "1"],
              ["incidents", "limits", "--node", "yz-c1"], ["incidents", "stats", "--period", WEEK, "--now", "latest"],
              ["incidents", "overdue", "--now", "latest"]]
    found: dict[str, str] = {}
    for call in calls:
        result = runner.invoke(main_group, ["--lang", "zh", *call, "--store", store])
        assert result.exit_code == 0, (call, result.output)
        _found(found, " ".join(call), result.stdout, names)
    assert sorted(found.values()) == []
