"""A channel written by its name (``channel phone: 电话``) is the channel of that code.

Chinese first: every name staff write works in Chinese and English alike and means the same item.  How an
incident came in (its channel: ``patrol``, ``phone`` ...) had no Chinese name anywhere: staff wrote and read
the codes.  The escalation section's ``channel`` items name them, as ``category`` items name the categories
(``ItemKind.titles``: one mechanism): a report, a feedback, a rule's condition may write either spelling, the
incident is filed under the code, and an explanation under zh says the name (``电话（phone）``).  The
district base names every channel the simulator and the service write.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import gridcore_escalation as esc
from gridcore import Engine, FixedClock
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset
from gridcore_app.cli import main_group

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CST = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)

RULES = """\
ruleset 渠道
levels: street > community (社区) > grid (网格) > unit (单元)
escalation:
  category leaking_pipe: 水管漏水
  channel patrol: 巡查发现
  channel phone: 电话
  incident any: start at unit
"""


def sections() -> list[object]:
    return Hooks(get_plugin_manager()).register_sections()


def ruleset_file(folder: Path, extra: str = "") -> Path:
    path = folder / "channels.rules"
    path.write_text(RULES + extra, encoding="utf-8")
    return path


def report(engine: Engine, ident: str, channel: str, minutes: int = 0) -> None:
    from gridcore_escalation.events import IncidentReported

    engine.record(IncidentReported(id=ident, time=MONDAY + timedelta(minutes=minutes), actor="张伟", node="u11",
                                   incident=ident, category="leaking_pipe", severity=2, channel=channel))


def open_engine(folder: Path, extra: str = "") -> Engine:
    ruleset = load_ruleset(ruleset_file(folder, extra), sections=sections())
    return Engine.open(store=str(folder / "store"), community=COMMUNITY, ruleset=ruleset,
                       effective=datetime(2025, 3, 1, tzinfo=CST), clock=FixedClock(MONDAY))


def test_a_condition_on_the_channel_by_its_name_holds_for_the_code_and_the_name(tmp_path: Path) -> None:
    extra = '  提级 来电：立即 上报到 社区 当 事件.渠道 == "电话"\n'
    with open_engine(tmp_path, extra) as engine:
        report(engine, "by-code", "phone")
        report(engine, "by-name", "电话", minutes=5)
        report(engine, "walked", "patrol", minutes=10)
        views = {v.id: v for v in esc.incidents(engine)}
        assert views["by-code"].current_level == views["by-name"].current_level == "community"
        assert views["walked"].current_level == "unit"
        assert views["by-name"].channel == "phone"  # filed under the code, however the report wrote it
        route = engine.explain("escalation:route:by-name", lang="zh").render("zh")
        assert "上报渠道（channel） = 电话（phone）" in route or "电话（phone）" in \
            engine.explain("escalation:esc:by-name:1", lang="zh").render("zh")
        english = engine.explain("escalation:route:by-name").render()
        assert "电话" not in english  # in English the code, as before


def test_the_published_helper_reads_either_spelling(tmp_path: Path) -> None:
    from gridcore_escalation.events import channel_code

    ruleset = load_ruleset(ruleset_file(tmp_path), sections=sections())
    assert [channel_code(ruleset, w) for w in ("电话", "phone", "巡查发现", "fax")] == ["phone", "phone", "patrol", "fax"]
    assert channel_code(None, "电话") == "电话"  # no ruleset in force: as written


def test_an_undeclared_channel_in_a_condition_is_refused_in_both_languages(tmp_path: Path) -> None:
    path = ruleset_file(tmp_path, '  escalate fax: immediately to community when incident.channel == "传真"\n')
    with pytest.raises(RulesError) as info:  # as a category a condition names and no item declares
        load_ruleset(path, sections=sections())
    assert "unknown channel '传真'" in info.value.render() and "expected: patrol, phone, 巡查发现, 电话" in \
        info.value.render()
    checked = CliRunner().invoke(main_group, ["--lang", "zh", "check", str(path)])
    assert checked.exit_code == 1 and "未知的渠道 '传真'" in checked.output, checked.output


def test_one_name_for_two_channels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="'电话' already names 'phone'"):
        load_ruleset(ruleset_file(tmp_path, "  channel hotline: 电话\n"), sections=sections())


def test_an_event_file_and_the_command_line_take_the_name(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    runner = CliRunner()
    done = runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(ruleset_file(tmp_path)),
                                      "--store", store, "--effective", "2025-03-01T00:00:00+08:00"])
    assert done.exit_code == 0, done.output
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"kind": "incident_reported", "id": "r1", "time": "2025-03-03T09:00:00+08:00",
                                  "actor": "张伟", "node": "u11", "incident": "漏水-1", "category": "水管漏水",
                                  "channel": "电话"}, ensure_ascii=False) + "\n", encoding="utf-8")
    ingested = runner.invoke(main_group, ["ingest", str(events), "--store", store])
    assert ingested.exit_code == 0, ingested.output
    reported = runner.invoke(main_group, ["incidents", "report", "漏水-2", "--category", "水管漏水", "--channel",
                                          "巡查发现", "--node", "u12", "--actor", "张伟", "--store", store,
                                          "--now", "2025-03-03T09:30:00+08:00"])
    assert reported.exit_code == 0, reported.output
    with Engine.open(store=store, clock=FixedClock(MONDAY + timedelta(hours=1))) as engine:
        assert [(v.id, v.channel) for v in esc.incidents(engine)] == [("漏水-1", "phone"), ("漏水-2", "patrol")]


def test_every_channel_and_category_the_communities_use_has_a_chinese_name() -> None:
    """Each community's scenario reports by channels and categories; the service writes ``api`` and
    ``open311``, a feedback ``visit`` or ``phone``: the ruleset each runs names every one in Chinese."""
    from gridcore_escalation.section import SECTION

    for folder in sorted(p for p in (REPO / "rulesets").iterdir() if (p / "scenario.yaml").exists()):
        scenario = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
        rules = next(p for p in sorted(folder.glob("*.rules")) if p.stem == folder.name)
        policy = load_ruleset(rules, sections=sections(), search_path=[REPO / "rulesets"]).policy(
            SECTION, at=MONDAY.date())
        channels = {c.code: c.name for c in policy.channels}
        categories = {c.code: c.name for c in policy.categories}
        used = {*scenario.get("channels", {}), "api", "open311", "visit", "phone"}
        assert {c for c in used if not channels.get(c)} == set(), folder.name
        assert {c for c in scenario.get("incidents", {}) if not categories.get(c)} == set(), folder.name
