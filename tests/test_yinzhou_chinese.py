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
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessionshare import built_once, opened_once
from zhsweep import english_lines, english_rows

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
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``gridcore --lang zh demo --community yinzhou``: the district's week (its folder, its output), run once a
    session (``built_once``), its folder copied for this test process (``gridcore assess`` stores a rating)."""

    def run(folder: Path) -> str:
        done = CliRunner().invoke(main_group, ["--lang", "zh", "demo", "--community", "yinzhou", "--out",
                                               str(folder / "out")], env={"GRIDCORE_LANG": "en"})
        assert done.exit_code == 0, done.output
        return done.stdout

    folder, shown = built_once(tmp_path_factory, "yinzhou-demo-zh", run)
    out = tmp_path_factory.mktemp("yinzhou") / "out"
    shutil.copytree(folder / "out", out)
    return out, shown


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


#: ``gridcore --lang zh CALL --store STORE``'s output, run once a test process: the timelines' and the rows' sweeps
#: read the same ten timelines, roll-up and overdue list (each sweep reads its own lines of it)
_SAID_ZH: dict[tuple[str, ...], str] = {}


def _zh(call: list[str], store: str) -> str:
    key = (*call, store)
    if key not in _SAID_ZH:
        result = CliRunner(env={"GRIDCORE_LANG": "en"}).invoke(main_group, ["--lang", "zh", *call, "--store", store])
        assert result.exit_code == 0, (call, result.output)
        _SAID_ZH[key] = result.stdout
    return _SAID_ZH[key]


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
    assert rolled.startswith("条线部门吹哨报到，2025年第10周\n")  # (the week in Chinese: periods.label_zh)
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
    calls = [["incidents", "timeline", i, "--now", "latest"] for i in incidents[:25]]
    calls += [["rollup", STREET, "--period", WEEK, "--workers", "1"], ["rollup", "yz", "--period", WEEK, "--workers", "1"],
              ["incidents", "limits", "--node", "yz-c1"], ["incidents", "stats", "--period", WEEK, "--now", "latest"],
              ["incidents", "overdue", "--now", "latest"]]
    found: dict[str, str] = {}
    with opened_once(store):
        for call in calls:
            _found(found, " ".join(call), _zh(call, store), names)
    assert sorted(found.values()) == []


def _rows_found(found: dict[str, str], where: str, output: str, names: frozenset[str]) -> None:
    for line in english_rows(output, names):
        found.setdefault(re.sub(r"\S*\d\S*", "#", line.split("    <- ")[1]), f"{where}: {line}")


def test_the_rows_of_the_districts_tables_in_chinese_read_chinese(district: tuple[Path, str]) -> None:
    """The rows of every table (and the notes under them) under zh, which the sweeps above do not read: the
    demo's run and files, and through the command line points statements, flags, the board, totals and rewards,
    incidents, the assessment's breakdown, subsidies and metrics, reports by name, a roll-up, the rulesets in
    force. A cell may hold a value with its Chinese (``获得 earn``, ``网格 grid``), ids, numbers, times; no
    English sentence (``incident yz-s1-i00015 (leaking_pipe), reporter: 5 x 2 = 10``, ``83.7% of 25``,
    ``1 per month``, ``the whole tree``) and no bare code of a level or a unit (``district``, ``count``)."""
    out, shown = district
    store = str(out / "store")
    with Engine.open(store=store) as engine:
        # what is typed as it is: the ids, a department's and a command's name (gridcore explain ...)
        names = _names(engine) | frozenset(engine.community.departments) | frozenset(main_group.commands)
        _, incidents = _sample(engine)
        earners = list(dict.fromkeys(d["actor"] for _, d in engine.store.events_after(0)
                                     if d.get("node", "").startswith("yz-c1-") and d.get("actor")))[:12]
    found: dict[str, str] = {}
    _rows_found(found, "demo", shown, names)
    for path in sorted((out / "reports").glob("*.txt")):
        _rows_found(found, path.name, path.read_text(encoding="utf-8"), names)
    calls = [["points", "statement", m, "--period", WEEK] for m in earners]
    calls += [["points", "flags"], ["points", "board", "yz-c1", "--month", "2025-03"],
              ["points", "totals", "yz", "--period", WEEK], ["points", "rewards"],
              ["incidents", "list"], ["incidents", "overdue", "--now", "latest"],
              ["assess", "--breakdown", "--period", WEEK], ["assess", "subsidies", "--period", WEEK],
              ["assess", "metrics", "--period", WEEK], ["rulesets"],
              ["rollup", "yz", "--period", WEEK, "--workers", "1"],
              ["report", "points.deductions", "-p", f"period={WEEK}"], ["report", "points.flags"],
              ["report", "points.statement", "-p", f"member={earners[0]}", "-p", f"period={WEEK}"],
              ["report", "assessment.breakdown", "-p", f"period={WEEK}"]]
    calls += [["incidents", "timeline", i, "--now", "latest"] for i in incidents[:10]]
    said: dict[str, str] = {}
    with opened_once(store):
        for call in calls:
            output = _zh(call, store)
            said[" ".join(call[:2])] = said.get(" ".join(call[:2]), "") + output
            _rows_found(found, " ".join(call), output, names)
    assert sorted(found.values()) == []
    # the cells the sweep found English in before, now Chinese, as the explanations say them
    # (an incident's category by the title the ruleset gives it: 水管漏水, not leaking_pipe)
    assert re.search(r"事件 yz-s1-i\d+（[^a-z）]+），上报人：", said["points statement"]), said["points statement"]
    assert not re.search(r"事件 yz-s1-i\d+（[a-z_]+）", said["points statement"]), said["points statement"]
    assert "满分 25 的" in said["assess --breakdown"] and "权重 weight" in said["assess --breakdown"]
    assert "每月最多 1 件" in said["points rewards"] and "per month" not in said["points rewards"]
    assert "区 district" in said["points totals"] and "整个层级树" in said["rulesets"]


def test_the_rows_in_english_are_as_before(district: tuple[Path, str]) -> None:
    """The same cells in English as they always were (and in JSON under zh: the stored English)."""
    out, _ = district
    store = str(out / "store")
    runner = CliRunner(env={"GRIDCORE_LANG": "en"})

    def said(*call: str, lang: str = "en") -> str:
        result = runner.invoke(main_group, ["--lang", lang, *call, "--store", store])
        assert result.exit_code == 0, (call, result.output)
        return result.stdout

    with opened_once(store):
        totals, rewards = said("points", "totals", "yz", "--period", WEEK), said("points", "rewards")
        breakdown, rulesets = said("assess", "--breakdown", "--period", WEEK), said("rulesets")
        metrics = said("assess", "metrics", "--period", WEEK)
        flags = said("points", "flags", "--format", "json", lang="zh")
    assert re.search(r"^yz +银州区 +district +\d", totals, re.MULTILINE), totals
    assert "每月最多 1 件 1 per month" in rewards
    assert re.search(r" weight +patrol_coverage .* of 25$", breakdown, re.MULTILINE) and " minus 2 x " in breakdown
    assert "the whole tree (整个层级树)" in rulesets
    assert re.search(r" per patrol$", metrics, re.MULTILINE) and re.search(r" count$", metrics, re.MULTILINE)
    assert ": no points, flagged (事件 " in flags  # the cell as stored: the English, its Chinese in brackets
