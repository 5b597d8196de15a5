"""Report columns in Chinese too: every column of a built-in report and of a roll-up has a Chinese
heading, given by the plugin (or application module) that builds the table (``Table.headings``:
each built-in plugin's ``headings.HEADINGS_ZH``; the core's ``gridcore.reports.HEADERS_ZH`` holds
only the columns of gridcore's own tables), text heads its columns with it, and a CSV for Excel
carries it (``--lang zh`` / ``$GRIDCORE_LANG``) while the default CSV and JSON keep the ids
scripts read (docs/embedding.md).

Two holds: by source (every ``Table(...)`` written with literal column names in gridcore,
gridcore_app and the built-in plugins, against the headings its own package names), so a new English-only column fails here before anyone
meets it, and by behaviour (every built-in report and every roll-up table built on two
simulated days of the small district).
"""

from __future__ import annotations

import ast
import csv
import functools
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from attrs import evolve
from click.testing import CliRunner
from conftest import DISTRICT_RULES, REPO

from gridcore import Engine, FixedClock
from gridcore.errors import has_chinese
from gridcore.reports import BOM, HEADERS_ZH, Format, Table, chinese_header
from gridcore_app import reportbook
from gridcore_app.cli import main_group
from gridcore_app.rollup import rollup
from gridcore_app.rosterio import load_community
from gridcore_app.scenario import load_scenario
from gridcore_app.simulate import simulate

#: Where reports' tables are built.
SOURCES = ("gridcore/**/*.py", "gridcore_app/**/*.py", "plugins/**/*.py")
#: The built-in plugins' reports (a third party's columns are its own to name).
BUILT_IN = ("points.", "escalation.", "assessment.", "tasks.", "planning.")
#: A column written in words (a period like 2025-03 or a star count like 5★ needs no heading).
WORDS = re.compile(r"[A-Za-z]{2}")


def _untranslated(columns: Iterator[str] | tuple[str, ...], headings: dict[str, str] | None = None) -> list[str]:
    return [c for c in columns if WORDS.search(c) and not has_chinese(chinese_header(c, headings))]


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A source parsed once per test process (the checks below walk every source several times)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def own_headings(path: Path) -> dict[str, str]:
    """The headings a source's own package names: every dict written literally for a name
    ``HEADINGS_ZH`` in a module of its folder (a plugin's ``headings`` module, roll-up's, ...)."""
    return dict(_folder_headings(path.parent))


@functools.cache
def _folder_headings(folder: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(_tree(module)):
            target = node.target if isinstance(node, ast.AnnAssign) else \
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if getattr(target, "id", "") == "HEADINGS_ZH" and isinstance(node.value, ast.Dict):
                found.update({k.value: v.value for k, v in zip(node.value.keys, node.value.values)
                              if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)})
    return found


def table_calls(root: Path = REPO) -> Iterator[tuple[Path, ast.Call]]:
    """Every ``Table(...)`` call in the sources, with its file."""
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            for node in ast.walk(_tree(path)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Table":
                    yield path, node


def literal_columns(root: Path = REPO) -> Iterator[tuple[str, str]]:
    """``(where, column)`` of every column name written literally in a ``Table(...)`` call (its
    second argument or ``columns=``, or a name bound to a tuple in the same module)."""
    for where, column, _ in literal_columns_headed(root):
        yield where, column


def literal_columns_headed(root: Path = REPO) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(where, column, headings)``: ``literal_columns`` with the headings its package names."""
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            headings = own_headings(path)
            tree = _tree(path)
            bound = {node.targets[0].id: node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Assign) and len(node.targets) == 1
                     and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Tuple)}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Table"):
                    continue
                given = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "columns"), None)
                if isinstance(given, ast.Name):
                    given = bound.get(given.id, given)
                if isinstance(given, ast.Tuple):
                    for item in given.elts:
                        if isinstance(item, ast.Constant) and isinstance(item.value, str):
                            yield f"{path.relative_to(root).as_posix()}:{node.lineno}", item.value, headings


def test_every_column_written_in_the_sources_has_its_chinese() -> None:
    found = list(literal_columns_headed())
    assert len(found) > 60  # (the sources were read)
    assert [f"{where}: {column!r}" for where, column, headings in found if _untranslated((column,), headings)] == []


def test_a_built_in_plugin_heads_its_own_columns_as_a_third_party_would() -> None:
    """A built-in plugin's table passes its headings (``Table(..., headings=...)``), and each literal
    column of a plugin's table is in its own package's ``HEADINGS_ZH``, none left to the core's."""
    calls = [(path, call) for path, call in table_calls() if path.relative_to(REPO).parts[0] == "plugins"]
    assert len(calls) > 30
    assert [f"{path.relative_to(REPO)}:{call.lineno}" for path, call in calls
            if not any(k.arg == "headings" for k in call.keywords)] == []
    assert [f"{where}: {column!r}" for where, column, headings in literal_columns_headed()
            if where.startswith("plugins/") and WORDS.search(column) and column not in headings] == []


def test_the_core_heads_only_the_columns_of_gridcores_own_tables() -> None:
    """``HEADERS_ZH`` holds no plugin's column: each of its ids is a column gridcore or the application
    writes in a table of its own (points' earned, escalation's next deadline ... are the plugins')."""
    own = {column for where, column in literal_columns() if not where.startswith("plugins/")}
    assert sorted(set(HEADERS_ZH) - own) == []
    assert not {"earned", "balance", "reward", "escalations", "next deadline", "summoned", "patrol_coverage",
                "closure_within_limit", "task", "households"} & set(HEADERS_ZH)


def test_the_source_check_finds_a_column_in_english_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "plugins/tasks/reports.py"
    copy = tmp_path / name
    copy.parent.mkdir(parents=True)
    copy.write_text((REPO / name).read_text(encoding="utf-8") + (
        "\n\nNEW = (\"member\", \"brand new column\")\n\n"
        "def _new(rows):\n"
        "    return [Table(\"t\", (\"node\", \"another new one\"), rows), Table(\"t\", NEW, rows)]\n"), encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.SOURCES", (name,))
    (copy.parent / "headings.py").write_text((REPO / "plugins/tasks/headings.py").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    found = [column for _, column, headings in literal_columns_headed(tmp_path) if _untranslated((column,), headings)]
    assert found == ["another new one", "brand new column"]


@pytest.fixture(scope="module")
def simulated(mini_district: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Two simulated days of the small district."""
    first = datetime(2025, 3, 3, tzinfo=timezone(timedelta(hours=8)))
    community = load_community(mini_district)
    events = list(simulate(community, load_scenario(REPO / "rulesets" / "yinzhou" / "scenario.yaml"), days=2,
                           start=first, seed=3))
    store = tmp_path_factory.mktemp("headers") / "store.db"
    with Engine.open(store=f"sqlite:///{store}", community=community, ruleset=DISTRICT_RULES, effective=first,
                     clock=FixedClock(first)) as opened:
        opened.record_many(events)
        opened.tick(first + timedelta(days=2))
        yield opened


def test_every_built_in_report_and_roll_up_table_has_its_columns_in_chinese(simulated: Engine) -> None:
    reports = [r for r in simulated.hooks.register_reports() if r.name.startswith(BUILT_IN)]
    incident = simulated.report("escalation.open").rows[0][2]
    member = next(iter(simulated.community.members))
    params = {"node": "yz", "month": "2025-03", "period": "2025-03", "member": member, "incident": incident,
              "before": "2025-02", "after": "2025-03"}
    untranslated: dict[str, list[str]] = {}
    built = 0
    for report in reports:
        if "task" in report.params:
            continue  # (no task in the simulation: tasks.task's columns are held by the source test)
        table = simulated.report(report.name, {p: params[p] for p in report.params if p in params})
        built += 1
        missing = _untranslated(table.columns, dict(table.headings))
        untranslated.update({report.name: missing} if missing else {})
    for name, table in rollup(simulated, "yz", "2025-03").tables.items():
        missing = _untranslated(table.columns, dict(table.headings))
        untranslated.update({f"rollup {name}": missing} if missing else {})
    assert built >= 20 and untranslated == {}


TABLE = Table("积分公示 points board", ("rank", "member", "name", "earned", "a column of a plugin"),
              ((1, "m01", "张三", 12, "x"),), headings={"rank": "排名", "earned": "获得积分"})


def test_text_heads_the_columns_with_their_chinese_and_csv_chooses_its_header() -> None:
    lines = TABLE.render("text").splitlines()
    assert lines[2].split() == ["排名", "成员编号", "名称", "获得积分"]  # (a column without Chinese: blank above)
    assert lines[3].split() == ["rank", "member", "name", "earned", "a", "column", "of", "a", "plugin"]
    assert set(lines[4]) == {"-", " "} and lines[5].split()[:2] == ["1", "m01"]
    assert TABLE.render("csv").startswith(BOM + "rank,member,name,earned,a column of a plugin\n")
    for zh in (TABLE.render("csv", "zh"), TABLE.render(Format("csv", "zh"))):
        assert zh.startswith(BOM + "排名 rank,成员编号 member,名称 name,获得积分 earned,a column of a plugin\n")
        assert list(csv.reader(io.StringIO(zh.lstrip(BOM))))[1] == ["1", "m01", "张三", "12", "x"]
    assert json.loads(TABLE.render(Format("json", "zh")))["rows"][0]["earned"] == 12  # (JSON keys stay ids)
    assert "(no rows / 无记录)" in Table("t", ("node",)).render("text")
    # the headings are the table's: without them only gridcore's own columns have Chinese
    bare = Table("t", TABLE.columns, TABLE.rows)
    assert [bare.heading(c) for c in bare.columns] == ["rank", "成员编号", "名称", "earned", "a column of a plugin"]
    assert evolve(TABLE, rows=()).bilingual("earned") == "获得积分 earned" and TABLE != bare
    assert reportbook.heading("earned", TABLE) == "获得积分 earned" and reportbook.heading("earned") == "earned"


def test_the_command_line_writes_a_csv_for_excel_with_chinese_headings(simulated: Engine) -> None:
    store = simulated.store.url
    args = ["points", "board", "yz", "--month", "2025-03", "--store", store, "--format", "csv"]
    runner = CliRunner()
    plain = runner.invoke(main_group, args)
    assert plain.exit_code == 0 and plain.stdout.startswith(BOM + "rank,member,name,role,earned,balance\n"), plain.output
    for result in (runner.invoke(main_group, [*args, "--lang", "zh"]),
                   runner.invoke(main_group, args, env={"GRIDCORE_LANG": "zh"})):
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(BOM + "排名 rank,成员编号 member,名称 name,角色 role,获得积分 earned,积分余额 balance\n")
    # `gridcore --lang en` typed beats $GRIDCORE_LANG, as its help's shown default says (it gave zh)
    typed = runner.invoke(main_group, ["--lang", "en", *args], env={"GRIDCORE_LANG": "zh"})
    assert typed.exit_code == 0 and typed.stdout == plain.stdout, typed.output
    rolled = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-03", "--store", store, "--format", "csv",
                                        "--lang", "zh"])
    assert rolled.exit_code == 0, rolled.output
    assert rolled.stdout.startswith(BOM + "节点编号 node,名称 name,事件数 incidents,按时受理率 acceptance_within_limit,")
    text = runner.invoke(main_group, ["rollup", "yz", "--period", "2025-03", "--store", store]).stdout
    assert "事件数" in text and "按时办结率" in text


def test_every_built_in_report_is_described_in_chinese_too() -> None:
    """``gridcore report`` lists each report with its description: each built-in one carries its Chinese."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    reports = [r for r in Hooks(get_plugin_manager()).register_reports() if r.name.startswith(BUILT_IN)]
    assert len(reports) >= 20 and [r.name for r in reports if not has_chinese(r.description)] == []


def _words_written(root: Path = REPO) -> Iterator[tuple[str, str]]:
    """``(where, text)`` of every title, note, heading and "nothing" text written literally for a table:
    ``Table(title, ..., notes)``, ``Showcase(heading=..., empty=...)``, ``notes.append(...)``."""
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # a note kept in a module's constant (``PRECEDENCE = ("the most specific ..."``) is written there
            constants = {target.id: statement.value for statement in tree.body if isinstance(statement, ast.Assign)
                         for target in statement.targets if isinstance(target, ast.Name)}
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                given: list[ast.expr] = []
                if name == "Table":
                    given = [*node.args[:1], *node.args[3:4], *(k.value for k in node.keywords
                                                                if k.arg in ("title", "notes"))]
                elif name == "Showcase":
                    given = [*node.args[1:2], *(k.value for k in node.keywords if k.arg in ("heading", "empty"))]
                elif name in ("append", "extend") and isinstance(node.func, ast.Attribute) \
                        and getattr(node.func.value, "id", "") == "notes":
                    given = list(node.args)
                for expr in given:
                    for item in expr.elts if isinstance(expr, ast.Tuple | ast.List) else [expr]:
                        if isinstance(item, ast.Name) and item.id in constants:
                            item = constants[item.id]
                        text = "".join(c.value for c in ast.walk(item)
                                       if isinstance(c, ast.Constant) and isinstance(c.value, str))
                        yield f"{path.relative_to(root).as_posix()}:{item.lineno}", text


def test_every_title_note_and_heading_written_for_a_table_has_its_chinese() -> None:
    found = list(_words_written())
    assert len(found) > 60  # (the sources were read)
    assert [f"{where}: {text[:60]!r}" for where, text in found
            if re.search(r"[A-Za-z]{4}", text) and not has_chinese(text)] == []


def test_the_title_check_finds_a_note_in_english_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "plugins/tasks/reports.py"
    copy = tmp_path / name
    copy.parent.mkdir(parents=True)
    copy.write_text((REPO / name).read_text(encoding="utf-8") + (
        "\n\ndef _new(rows, notes):\n"
        "    notes.append(\"a new note nobody translated\")\n"
        "    return Table(\"Brand new table\", (\"node\",), rows, (\"and its note\", KEPT))\n"
        "\n\nKEPT = (\"a note kept in a constant \"\n        \"over two lines\")\n"), encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.SOURCES", (name,))
    found = [text for _, text in _words_written(tmp_path) if re.search(r"[A-Za-z]{4}", text) and not has_chinese(text)]
    assert found == ["a new note nobody translated", "Brand new table", "and its note",
                     "a note kept in a constant over two lines"]
