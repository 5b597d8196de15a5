"""A ruleset that closes its category list (``categories: closed`` / ``类别清单：仅限所列``).

A ruleset's ``category`` items name categories for display; the list is open by
default (a catch-all route takes the rest).  Closed, a report of a category the
ruleset in force at the report's node and time does not list is refused by the
escalation plugin's ``gridcore_validate_event``, with the closest listed
category by code and Chinese name, and nothing is stored: the command line,
``ingest`` and ``serve`` all give the refusal, and a late report is judged by
the ruleset in force at its own time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gridcore import Engine, EventRefused, FixedClock
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import RulesError, load_ruleset
from gridcore.rules.codes import code_of
from gridcore_app.cli import main_group
from gridcore_escalation.events import IncidentReported

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"
CST = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)
EFFECTIVE = datetime(2025, 3, 1, tzinfo=CST)

PARENT = """\
ruleset parent
levels: street > community (社区) > grid (网格) > unit (单元)
escalation:
  category leaking_pipe: 水管漏水, group 市政设施
  category fire_hazard: 消防隐患, group 安全隐患
  incident any: start at unit
  incident fire_hazard: start at community
"""

ENGLISH = "escalation:\n  categories: closed\n"
CHINESE = "事件流转：\n  类别清单：仅限所列\n"


def sections() -> list[Any]:
    return Hooks(get_plugin_manager()).register_sections()


def child(folder: Path, body: str, name: str = "child") -> Path:
    (folder / "parent.rules").write_text(PARENT, encoding="utf-8")
    path = folder / f"{name}.rules"
    path.write_text(f'ruleset {name}\nextends "parent"\n{body}', encoding="utf-8")
    return path


def cli_report(runner: CliRunner, store: str, ident: str, category: str, *extra: str) -> Any:
    return runner.invoke(main_group, ["incidents", "report", ident, "--category", category, "--node", "u11",
                                      "--actor", "张伟", "--store", store, "--now", MONDAY.isoformat(), *extra])


def reported(store: str) -> list[tuple[str, str]]:
    with Engine.open(store=store, read_only=True, clock=FixedClock(MONDAY + timedelta(days=1))) as engine:
        return [(e.incident, e.category) for e in engine.events() if isinstance(e, IncidentReported)]


@pytest.mark.parametrize("body", [ENGLISH, CHINESE], ids=["english", "chinese"])
def test_a_closed_list_refuses_an_unlisted_category_at_the_command_line_naming_the_closest(
        tmp_path: Path, body: str) -> None:
    rules = child(tmp_path, body)
    store = str(tmp_path / "store")
    runner = CliRunner()
    done = runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(rules),
                                      "--store", store, "--effective", EFFECTIVE.isoformat()])
    assert done.exit_code == 0, done.output
    refused = cli_report(runner, store, "漏水-1", "水管漏雨")
    assert refused.exit_code == 1 and "Traceback" not in refused.output, refused.output
    assert ("unknown category '水管漏雨': the ruleset child in force at u11 takes only the categories it lists "
            "(categories: closed, child.rules:4); did you mean leaking_pipe (水管漏水)?") in refused.output
    assert ("(未知的事件类别 '水管漏雨'：现行规则集 child 只受理所列类别（类别清单：仅限所列）；"
            "是不是：水管漏水（leaking_pipe）？)") in refused.output
    # nothing close: every listed category is named
    far = cli_report(runner, store, "纠纷-1", "dispute")
    assert far.exit_code == 1
    assert "it lists leaking_pipe (水管漏水), fire_hazard (消防隐患)" in far.output
    assert "所列类别：水管漏水（leaking_pipe）、消防隐患（fire_hazard）" in far.output
    assert reported(store) == []  # nothing stored
    # a listed category by its code or its Chinese name: the same category
    for n, written in enumerate(("leaking_pipe", "水管漏水")):
        taken = cli_report(runner, store, f"漏水-{n + 2}", written)
        assert taken.exit_code == 0, taken.output
    shown = runner.invoke(main_group, ["incidents", "list", "--store", store, "--format", "json",
                                       "--now", (MONDAY + timedelta(hours=1)).isoformat()])
    assert [r["category"] for r in json.loads(shown.stdout)["rows"]] == ["leaking_pipe", "leaking_pipe"]


def test_open_by_default_the_same_report_is_taken(tmp_path: Path) -> None:
    """The parent alone names categories but does not close its list: 'dispute' is taken, routed by the
    catch-all, as every existing ruleset keeps working; a child writing ``categories: open`` says the same."""
    for name, rules in (("parent", child(tmp_path, "")), ("opened", child(tmp_path, "escalation:\n  categories: open\n",
                                                                             "opened"))):
        if name == "parent":
            rules = tmp_path / "parent.rules"
        store = str(tmp_path / f"store-{name}")
        runner = CliRunner()
        assert runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(rules),
                                          "--store", store, "--effective", EFFECTIVE.isoformat()]).exit_code == 0
        taken = cli_report(runner, store, "纠纷-1", "dispute")
        assert taken.exit_code == 0, taken.output
        assert reported(store) == [("纠纷-1", "dispute")]


def test_ingest_refuses_the_line_and_stores_the_others(tmp_path: Path) -> None:
    rules = child(tmp_path, CHINESE)
    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(main_group, ["init", "--community", str(COMMUNITY), "--ruleset", str(rules),
                                      "--store", store, "--effective", EFFECTIVE.isoformat()]).exit_code == 0
    lines = [{"kind": "incident_reported", "id": f"r{n}", "time": (MONDAY + timedelta(minutes=n)).isoformat(),
              "actor": "张伟", "node": "u11", "incident": f"i{n}", "category": category, "severity": 2}
             for n, category in enumerate(("水管漏水", "水管漏雨", "fire_hazard"))]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result = runner.invoke(main_group, ["ingest", str(events), "--store", store, "--quiet"])
    assert result.exit_code == 1, result.output
    assert "refused events.jsonl:2: unknown category '水管漏雨'" in result.output and "unknown category '水管漏雨'" in result.output, result.output
    assert "是不是：水管漏水（leaking_pipe）？" in result.output
    assert reported(store) == [("i0", "水管漏水"), ("i2", "fire_hazard")]


def test_a_late_report_is_judged_by_the_ruleset_in_force_at_its_own_time(tmp_path: Path) -> None:
    """Open until 2025-03-10, closed from then (a dated version): a report after it is refused; one recorded
    later but dated before it is taken, one dated after it refused; reopened from checkpoints and rebuilt
    from the log, the store holds the same incidents."""
    rules = child(tmp_path, "escalation:\n  categories: open\n    from 2025-03-10: closed\n")
    store = str(tmp_path / "store")
    closing = datetime(2025, 3, 10, 9, tzinfo=CST)

    def report(engine: Engine, ident: str, when: datetime, category: str) -> None:
        engine.record(IncidentReported(id=f"{ident}:report", time=when, actor="张伟", node="u11", incident=ident,
                                       category=category, severity=2))

    with Engine.open(store=store, community=COMMUNITY, ruleset=rules, effective=EFFECTIVE,
                     clock=FixedClock(closing + timedelta(days=2))) as engine:
        report(engine, "before", MONDAY, "dispute")
        with pytest.raises(EventRefused) as info:
            report(engine, "after", closing + timedelta(days=1), "dispute")
        assert "unknown category 'dispute'" in str(info.value) and "child.rules:5" in str(info.value)
        report(engine, "late-before", closing - timedelta(hours=12), "dispute")  # late: the day before, open
        with pytest.raises(EventRefused, match="unknown category '水管漏雨'.*did you mean leaking_pipe"):
            report(engine, "late-after", closing + timedelta(hours=1), "水管漏雨")
        report(engine, "late-listed", closing + timedelta(hours=2), "水管漏水")
        engine.checkpoint()
        live = sorted((i, c) for i, c in _incidents(engine))
    assert live == [("before", "dispute"), ("late-before", "dispute"), ("late-listed", "leaking_pipe")]
    for rebuild in (False, True):
        with Engine.open(store=store, clock=FixedClock(closing + timedelta(days=2))) as engine:
            if rebuild:
                engine.rebuild()
            assert sorted(_incidents(engine)) == live


def _incidents(engine: Engine) -> list[tuple[str, str]]:
    import gridcore_escalation as esc

    return [(row.id, row.category) for row in esc.incidents(engine)]


def test_a_subtree_that_closes_its_list_refuses_only_at_its_nodes(tmp_path: Path) -> None:
    """The ruleset in force for the event's node judges: a community's own closed variant refuses there,
    the open district ruleset takes the same category elsewhere."""
    closed = child(tmp_path, ENGLISH)
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=tmp_path / "parent.rules",
                     effective=EFFECTIVE, clock=FixedClock(MONDAY)) as engine:
        engine.use_ruleset(closed, effective=EFFECTIVE, node="yq")  # 银泉社区, around u11; not 南溪 (n11)
        with pytest.raises(EventRefused, match="unknown category 'dispute'"):
            engine.record(IncidentReported(id="a", time=MONDAY, actor="张伟", node="u11", incident="a",
                                           category="dispute", severity=2))
        engine.record(IncidentReported(id="b", time=MONDAY, actor="张伟", node="n11", incident="b",
                                       category="dispute", severity=2))
        assert sorted(_incidents(engine)) == [("b", "dispute")]


def test_check_refuses_a_closed_list_of_nothing_and_says_when_the_catch_all_is_never_used(tmp_path: Path) -> None:
    empty = tmp_path / "empty.rules"
    empty.write_text("ruleset empty\nlevels: community > grid > unit\n事件流转：\n  类别清单：仅限所列\n"
                     "  事件 任意：起始于 grid\n", encoding="utf-8")
    with pytest.raises(RulesError, match="a closed category list that lists no category refuses every report"):
        load_ruleset(empty, sections=sections())
    runner = CliRunner()
    for lang, said in (("en", "empty.rules:4:8: error: a closed category list that lists no category"),
                       ("zh", "empty.rules:4:8: 错误: 类别清单仅限所列，却未列出任何类别")):
        result = runner.invoke(main_group, ["check", str(empty), "--lang", lang])
        assert result.exit_code == 1 and said in result.output, result.output
    doc = json.loads(runner.invoke(main_group, ["check", str(empty), "--format", "json"]).stdout)
    assert [d["code"] for d in doc["diagnostics"]] == ["closed-list-empty"]
    # a catch-all route beside a closed list is no contradiction: it routes the listed categories without
    # a route of their own (leaking_pipe here) ...
    assert runner.invoke(main_group, ["check", str(child(tmp_path, ENGLISH))]).exit_code == 0
    # ... but once every listed category has its own route, it is never used: said, a warning
    every = child(tmp_path, ENGLISH + "  incident leaking_pipe: start at grid\n", "every")
    assert [code_of(w) for w in load_ruleset(every, sections=sections()).warnings] == ["catch-all-unused"]
    doc = json.loads(runner.invoke(main_group, ["check", str(every), "--format", "json"]).stdout)
    assert [(d["code"], d["severity"], d["range"]["start"]["line"]) for d in doc["diagnostics"]] == [
        ("catch-all-unused", "warning", 4)]
    # a route for a category the closed list does not take can never apply: an error when put in force too
    unlisted = child(tmp_path, ENGLISH + "  incident dispute: start at grid\n", "unlisted")
    with pytest.raises(RulesError, match="unknown category 'dispute'"):
        load_ruleset(unlisted, sections=sections())
    open_one = child(tmp_path, "escalation:\n  incident dispute: start at grid\n", "open_one")
    assert [code_of(w) for w in load_ruleset(open_one, sections=sections()).warnings] == ["unknown-category"]


def test_serve_answers_the_refusal_as_a_problem_with_the_engines_reasons(tmp_path: Path) -> None:
    """``gridcore serve``: the JSON API's report of an unlisted category is the engine's refusal (422, its
    reasons in both languages), nothing stored; a listed one by its Chinese name is taken."""
    from servicekit import START, YINQUAN, make_store, served

    url = f"sqlite:///{tmp_path / 'yinquan.db'}"
    tokens = make_store(url)
    closed = tmp_path / "yinquan-closed.rules"
    closed.write_text('ruleset "yinquan-closed"\nextends "yinquan"\n事件流转：\n  类别清单：仅限所列\n', encoding="utf-8")
    with Engine.open(store=url, clock=FixedClock(START - timedelta(days=1))) as engine:
        engine.use_ruleset(closed, effective=START - timedelta(days=1), search_path=[YINQUAN])
    with served(url) as server, server.client(tokens["worker"]) as worker:
        refused = worker.post("/api/v1/incidents", json={"category": "水管漏雨", "place": "yq-g1-b1"})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["type"] == "/problems/event-refused"
        [reason] = problem["reasons"]
        assert reason.startswith("unknown category '水管漏雨': the ruleset yinquan-closed in force at yq-g1-u1 takes "
                                 "only the categories it lists (categories: closed, yinquan-closed.rules:4); "
                                 "did you mean leaking_pipe (水管漏水)?"), reason
        assert "是不是：水管漏水（leaking_pipe）？" in reason
        taken = worker.post("/api/v1/incidents", json={"category": "水管漏水", "place": "yq-g1-b1"})
        assert taken.status_code == 201, taken.text
        listed = worker.get("/api/v1/incidents").json()
    assert [row["category"] for row in listed] == ["leaking_pipe"], listed
