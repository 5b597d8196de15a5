"""A fourth plugin, written by a third party from the guide, used through its real entry point.

``tests/plugins/drills`` is a distribution of its own (``gridcore-drills``,
package ``gridcore_drills``): a ruleset section, an event, a metric, a report
and a command.  ``.ci/run`` installs it into the venv; this test installs it
too when it is missing or out of date, then drives it through the
``gridcore`` command exactly as a community office would.  The ``drills_installed``
fixture (tests/conftest.py) installs it and checks that the copy the processes
these tests start import is this checkout's.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO

from gridcore_app.cli import main_group

MINI = REPO / "tests" / "data" / "community-mini"
CST = timezone(timedelta(hours=8))

RULES = """\
ruleset "drills-test"
levels: community (社区) > grid (网格) > unit (最小单元)

drills:
  drill fire: grid 1 time per quarter, at least 20 people
消防演练：
  演练 疏散：最小单元 每 年 2 次，至少 10 人

assessment:
  rate: grid
  metric drill_coverage: weight 100
  stars: 5 if score >= 90, 4 if score >= 50, otherwise 2
"""


def gridcore(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def drill(n: int, node: str, name: str, people: int, day: int) -> str:
    return json.dumps({"kind": "drill_held", "id": f"d{n}", "time": datetime(2025, 2, day, 9, tzinfo=CST).isoformat(),
                       "actor": "m03", "node": node, "drill": name, "participants": people}, ensure_ascii=False)


def test_a_third_party_plugin_works_end_to_end(drills_installed: None, tmp_path: Path) -> None:
    listing = gridcore("plugins")[1]
    assert any(row.startswith("drills") and "entry point of gridcore-drills 1.0" in row for row in listing.splitlines())
    assert "drills" in gridcore("--help")[1]

    # Its section, in English and Chinese, checked like the built-ins'.
    rules = tmp_path / "drills.rules"
    rules.write_text(RULES, encoding="utf-8")
    code, out, err = gridcore("check", str(rules))
    assert code == 0, err
    broken = tmp_path / "broken.rules"
    broken.write_text(RULES.replace("grid 1 time", "grd 1 time"), encoding="utf-8")
    code, _, err = gridcore("check", str(broken))
    assert code == 1 and "broken.rules:5:15: error: unknown level 'grd'" in err

    # Its events, refused when the ruleset does not name the drill.
    store = str(tmp_path / "store")
    assert gridcore("init", "--community", str(MINI), "--ruleset", str(rules), "--effective",
                    "2025-01-01T00:00+08:00", "--store", store)[0] == 0
    log = tmp_path / "drills.jsonl"
    log.write_text("\n".join([
        drill(1, "g1", "fire", 35, 3), drill(2, "g2", "fire", 12, 4), drill(3, "school", "fire", 25, 5),
        drill(4, "g1-u1", "疏散", 15, 6), drill(5, "g1-u1", "疏散", 11, 20), drill(6, "g1-u2", "疏散", 10, 21),
        drill(7, "g1", "flood", 40, 22),
    ]) + "\n", encoding="utf-8")
    code, out, err = gridcore("ingest", str(log), "--store", store)
    assert code == 1 and "6 stored" in out
    assert "drills.jsonl:7: unknown drill 'flood' (the ruleset names: fire, 疏散)" in err

    # Its command and its report.
    code, out, err = gridcore("drills", "list", "--period", "2025-Q1", "--store", store, "--format", "csv")
    assert code == 0, err
    rows = out.splitlines()
    # every CSV the tools write starts with a byte-order mark, so Chinese opens right in Excel
    assert rows[0] == "\ufefftime,node,name,drill,people,counts" and len(rows) == 7
    assert "2025-02-04 09:00,g2,第二网格,fire,12,no" in rows
    code, out, _ = gridcore("report", "drills.held", "-p", "period=2025-Q1", "--store", store)
    assert code == 0 and "消防演练" in out
    # its columns' Chinese headings, its own (Table.headings) and gridcore's for node and name
    assert out.splitlines()[2].split() == ["时间", "节点编号", "名称", "演练", "参加人数", "是否计入"], out
    code, out, err = gridcore("report", "drills.held", "-p", "period=2025-Q1", "--store", store, "--format", "csv",
                              "--lang", "zh")
    assert code == 0, err
    assert out.splitlines()[0] == "\ufeff时间 time,节点编号 node,名称 name,演练 drill,参加人数 people,是否计入 counts"

    # Its metric, exact, and the assessment plugin scoring with it.
    from gridcore import Engine

    with Engine.open(store=store) as engine:
        start, end = datetime(2025, 1, 1, tzinfo=CST), datetime(2025, 4, 1, tzinfo=CST)
        whole = engine.metric("drill_coverage", "yq", start, end)
        assert whole is not None and whole.value == Fraction(50)  # 5 of 10: fire 2 of 4 grids, 疏散 3 of 6
        assert whole.inputs == {"drills held": 5, "drills required": 10}
        g1 = engine.metric("drill_coverage", "g1", start, end)
        assert g1 is not None and g1.value == Fraction(80)
    code, out, err = gridcore("assess", "--period", "2025-Q1", "--dry-run", "--format", "csv", "--store", store,
                              "--now", "2025-04-02T00:00+08:00")
    assert code == 0, err
    stars = {row.split(",")[0]: row.split(",")[3] for row in out.splitlines()[1:]}
    assert stars == {"g1": "4", "g2": "2", "school": "5", "fire": "2"}

    # Disabled, its section is refused in a file and reported in a store.
    code, _, err = gridcore("-p", "no:drills", "check", str(rules))
    assert code == 1 and "drills" in err
    code, out, err = gridcore("-p", "no:drills", "report", "escalation.open", "--store", store)
    assert code == 0, err
    assert "warning: the stored ruleset drills-test has a section 'drills' that no loaded plugin reads" in err
    assert "stored events of kinds no loaded plugin registers are kept but not applied: drill_held (6)" in err
    # Enabled again, everything is back.
    code, out, _ = gridcore("drills", "list", "--period", "2025-Q1", "--store", store, "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 7


def test_its_routes_are_served_by_gridcore_serve(drills_installed: None, tmp_path: Path) -> None:
    """``gridcore_register_routes``: the plugin's routes, served by a real ``gridcore serve`` from its entry point."""
    import httpx
    from servicekit import served

    from gridcore_app.service import Settings, create_app

    rules = tmp_path / "drills.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert gridcore("init", "--community", str(MINI), "--ruleset", str(rules), "--effective",
                    "2025-01-01T00:00+08:00", "--store", store)[0] == 0
    code, secret, err = gridcore("tokens", "issue", "m03", "--label", "drills app", "--store", store)
    assert code == 0, err
    with served(store, now=datetime(2025, 2, 10, 9, tzinfo=CST), intake=None) as server, \
            server.client(secret.strip()) as m03:
        held = m03.post("/drills/held", json={"node": "g1", "drill": "fire", "participants": 35})
        assert held.status_code == 201, held.text
        again = m03.post("/drills/held", json={"node": "g1", "drill": "fire", "participants": 35,
                                               "id": held.json()["event"]})
        assert again.status_code == 200 and again.json()["stored"] is False
        refused = m03.post("/drills/held", json={"node": "g1", "drill": "flood", "participants": 40})
        assert refused.status_code == 422
        assert refused.json()["reasons"] == [("unknown drill 'flood' (the ruleset names: fire, 疏散) "
                                             "(未知演练 'flood'，规则集中的演练：fire, 疏散)")]
        extra = m03.post("/drills/held", json={"node": "g1", "drill": "fire", "colour": "red"})
        assert extra.status_code == 400 and "colour" in extra.json()["detail"]
        listed = m03.get("/drills/held", params={"period": "2025-Q1"}).json()
        assert listed["drills"] == [{"time": "2025-02-10 09:00", "node": "g1", "name": "第一网格", "drill": "fire",
                                     "people": 35, "counts": "yes"}]
        assert m03.get("/drills/held").json()["type"] == "/problems/invalid-request"
        with httpx.Client(base_url=server.url) as anonymous:
            assert anonymous.get("/drills/held", params={"period": "2025-Q1"}).status_code == 401
            document = anonymous.get("/api/v1/openapi.json").json()
            described = document["paths"]["/drills/held"]
        drill = document["components"]["schemas"]["event.drill_held"]  # its event's Chinese, from its class
        assert (drill["x-title-zh"], drill["properties"]["participants"]["x-title-zh"]) == ("消防演练", "参加人数")
        assert set(described) == {"get", "post"} and "消防演练" in described["get"]["summary"]
        # its Chinese, given through documented(..., chinese=DESCRIPTIONS_ZH) as any plugin's
        assert described["get"]["x-summary-zh"] == "某一时段举行的消防演练，及每次是否计入"
        assert described["get"]["parameters"][0]["x-description-zh"] == "时段：2025-Q1、2025-03、2025……"
        body = described["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert described["post"]["x-summary-zh"].startswith("以令牌所属成员的身份记录一次演练")
        assert body["properties"]["id"]["x-description-zh"] == "幂等键：以同一编号重试不会改变任何内容"
    assert "POST /drills/held 201" in server.log
    # Disabled, the plugin adds no route.
    paths = {getattr(r, "path", "") for r in create_app(Settings(store=store, disabled_plugins=("drills",))).routes}
    assert "/api/v1/incidents" in paths and "/drills/held" not in paths


def test_it_speaks_chinese_as_the_built_ins_do(drills_installed: None, tmp_path: Path) -> None:
    """Chinese first, through the same means as the built-in plugins (``lazy_command(..., chinese=HELP_ZH)``,
    ``Section.doc_zh``, ``Report.chinese``, reasons with their Chinese in brackets): its help under
    ``--lang zh``, its refusals, its report's values; English and JSON as they were."""
    from test_help_chinese import _missing

    assert _missing(("gridcore_drills",)) == []
    code, out, _ = gridcore("--lang", "zh", "drills", "list", "--help")
    assert code == 0 and "时段 PERIOD 内举行的演练" in out and "The drills held in PERIOD" not in out
    assert "时段：2025-Q1" in out
    code, out, _ = gridcore("--lang", "zh", "--help")
    assert "消防演练：举行了哪些演练" in out and "what was held" not in out
    code, out, _ = gridcore("drills", "--help")
    assert "Drills (消防演练): what was held, against what the ruleset requires." in out

    schema = json.loads(gridcore("schema")[1])
    section = next(s for s in schema["sections"] if s["name"] == "drills")
    assert section["doc_zh"] == "消防演练：每个网格须举行哪些演练、多久一次、至少多少人参加。"

    rules = tmp_path / "drills.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "store")
    assert gridcore("init", "--community", str(MINI), "--ruleset", str(rules), "--effective",
                    "2025-01-01T00:00+08:00", "--store", store)[0] == 0
    log = tmp_path / "drills.jsonl"
    log.write_text("\n".join([drill(1, "g1", "fire", 35, 3), drill(2, "g2", "fire", 12, 4),
                              drill(3, "g1", "flood", 40, 22)]) + "\n", encoding="utf-8")
    code, out, err = gridcore("ingest", str(log), "--store", store)
    assert code == 1 and "2 stored" in out
    assert "drills.jsonl:3: unknown drill 'flood' (the ruleset names: fire, 疏散) (未知演练 'flood'，规则集中的演练：fire, 疏散)" in err

    code, out, _ = gridcore("report", "--store", store)
    assert code == 0 and "某一时段举行的消防演练及是否计入" in out
    # its metric's inputs, in a rating's explanation, headed by their Chinese (Metric.inputs_zh) as the built-ins'
    code, out, err = gridcore("--lang", "zh", "explain", "assessment:2025-Q1:g1", "--store", store)
    assert code == 0, err
    assert "指标 drill_coverage = 20（已举行演练：1，应举行演练：5）" in out, out
    code, out, err = gridcore("--lang", "en", "explain", "assessment:2025-Q1:g1", "--store", store)
    assert code == 0 and "metric drill_coverage = 20 (drills held: 1, drills required: 5)" in out, out
    code, out, err = gridcore("report", "drills.held", "--store", store)
    assert code != 0 and "请指定时段" in err
    for args in (["report", "drills.held", "-p", "period=2025-Q1"], ["drills", "list", "--period", "2025-Q1"]):
        code, out, err = gridcore("--lang", "zh", *args, "--store", store)
        assert code == 0, err
        assert "计入 yes" in out and "不计入 no" in out, out
        # its title in Chinese alone (Table.title_zh), its period as staff write it
        assert out.splitlines()[0] == "消防演练，2025年一季度" and "Drills held" not in out, out
        code, out, err = gridcore(*args, "--store", store, "--lang", "en", "--format", "csv")
        assert code == 0 and "2025-02-04 09:00,g2,第二网格,fire,12,no" in out, out
        code, out, err = gridcore("--lang", "zh", *args, "--store", store, "--format", "json")
        assert code == 0 and [row["counts"] for row in json.loads(out)["rows"]] == ["yes", "no"], out
    # a run's summary in Chinese (gridcore --lang zh demo) heads it in Chinese alone (Showcase.heading_zh)
    from gridcore import Engine, get_plugin_manager
    from gridcore_app.demo import showcase
    from gridcore_drills.reports import REPORTS

    (tmp_path / "shown").mkdir()
    with Engine.open(store=store, plugins=get_plugin_manager(), read_only=True) as engine:
        shown = showcase(engine, REPORTS, tmp_path / "shown", root="yq", months=[], period="2025-Q1", lang="zh")
    [(heading, table)] = shown.sections
    assert heading == "消防演练，2025年一季度：2 次" and table.startswith("消防演练，2025年一季度\n"), shown.sections
    assert "Drills held" not in table, table
