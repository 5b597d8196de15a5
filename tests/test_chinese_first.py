"""Chinese first: under ``--lang zh`` (or ``GRIDCORE_LANG=zh``) what the commands print to staff reads
in Chinese before English, on a demo month's store and on bad input.

The rule checked (``english_first``): under zh, no line a command prints starts with an English word.
A line may start with ASCII only when it starts with something staff read as it is in any language:
an id (of a node, a member, an incident, a decision, a plugin, a report: holding a digit, ``-``,
``_``, ``.`` or ``:``, or a name the store or the command knows), a path, a number or a time; or
when it belongs to a table under its Chinese headings (the column ids under them, the rows below
the ``----`` rule); or when it is ruleset source quoted as written (``show``, ``fmt``, and the line
a diagnostic points at).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, Demo
from sessionshare import opened_once
from zhsweep import bare_ids, chinese_names, english_lines, english_rows, english_words, read_lines

from gridcore.errors import chinese_of, has_chinese
from gridcore_app.cli import LazyCommand, main_group

CST = timezone(timedelta(hours=8))
YINQUAN = REPO / "rulesets" / "yinquan"
NOW = "2025-01-31T12:00+08:00"


#: A word staff read as it is in any language: it holds a digit or an id's punctuation (``yq-g1``,
#: ``yq-s1-i00001``, ``assessment:2025-01:g1``, ``points.board``, ``/tmp/x``, ``2025-01``, ``12``).
_ID = re.compile(r"[\w./:@+-]*[\d_./:@-][\w./:@+-]*")


def english_first(output: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The lines of ``output`` that start with an English word: a line starting with an ASCII letter,
    unless its first word is an id (``_ID``) or one of ``names`` (the ids the store and the command know
    without a digit: a node ``yq``, a plugin ``points``), or the line is part of a table (the column ids
    under a line with Chinese and above the table's rule, the rows under the rule) or ruleset source a
    diagnostic quotes (the line above its carets)."""
    found: list[str] = []
    for line in read_lines(output):  # (tables, quoted source and a library's warnings left out)
        text = line.strip()
        if has_chinese(text[0]) or not text[0].isascii():
            continue
        first = re.split(r"[\s(（：,，;；=]", text, maxsplit=1)[0].rstrip(":")
        if re.match(r"[A-Za-z]", first) and not (_ID.fullmatch(first) or first in names):
            found.append(line)  # an English word first
            continue
        parts = chinese_of(text)
        if parts is not None and _english_words(parts[0], names):
            found.append(line)  # an id or a number, then English, its Chinese in brackets at the end
    return found


def _english_words(text: str, names: frozenset[str]) -> list[str]:
    """The English words of ``text``: runs of two ASCII letters or more, ids and ``names`` left out."""
    words = [w.strip("'\"()[],;:.") for w in text.split()]
    return [w for w in words if re.fullmatch(r"[A-Za-z]{2,}", w) and w not in names]


def test_the_rule_finds_english_first_lines_and_lets_ids_and_tables_be() -> None:
    assert english_first("Error (错误): no such member\n错误：没有这个成员（nobody）") == ["Error (错误): no such member"]
    assert english_first("  note: times here are counted (注：...)") == ["  note: times here are counted (注：...)"]
    table = "评星定级（Star ratings 2025-01）\n\n节点编号  星级\nnode      stars\n--------  -----\nyq-g1     3\n"
    assert english_first(table) == []
    assert english_first(table.replace("节点编号  星级\n", "")) == ["node      stars"]  # ids with no Chinese over them
    assert english_first("yq-s1-i00001: 已受理\nassessment:2025-01:g1: ...\n/tmp/store\n2025-01-01 ...") == []
    assert english_first("yq  社区", frozenset({"yq"})) == [] and english_first("yq  社区") == ["yq  社区"]
    assert english_first("a.rules:4:3: 错误：...\n  earn patrol: 5 pont\n               ^^^^\n") == []
    # an id or a number first, then English with its Chinese in brackets at the end: English first still
    assert english_first("12 events replayed under each (各重放 12 个事件)") == ["12 events replayed under each (各重放 12 个事件)"]
    assert english_first("yq-g1 (银泉社区第一网格)") == [] and english_first("yq-g1：已受理（accepted）") == []


def test_the_mid_line_rule_finds_english_words_and_lets_ids_quotes_and_glosses_be() -> None:
    """``zhsweep.english_words``, the rule the sweeps of the CLI, the service, the language server and the
    schema apply, on what it must find and what it must let be."""
    assert english_words("规则变化 Rules that differ：4") == ["Rules", "that", "differ"]
    assert english_words("输入 input: 指标 metric patrol_coverage = 40") == ["input", "metric"]
    assert english_words("assessment:2025-01:g1: grid g1 rated 4 stars") == ["grid", "rated", "stars"]
    assert english_words("用法 Usage: gridcore points balance [OPTIONS] MEMBER", frozenset({"gridcore"})) == \
        ["Usage", "points", "balance"]
    # ids, paths, numbers, options and their values, names the store knows, placeholders
    assert english_words("yq-g1 /tmp/x.rules 2025-01 points.board --now latest -p node=yq 注", frozenset()) == []
    assert english_words("积分公示：银泉社区（yq）", frozenset({"yq"})) == [] and english_words("yq 社区") == ["yq"]
    # quoted, ruleset source after its file:line, a gloss in brackets after Chinese
    assert english_words("没有这个命令：'nosuch'，「a test's name」") == []
    assert english_words("规则：yinquan.rules:36  incident any: start at unit") == []
    assert english_words("积分不足（insufficient balance: res1 has 36 (of 50)）；应为：'会商' (consultation)") == []
    assert english_words("insufficient balance (积分不足)") == ["insufficient", "balance"]  # English first
    assert english_words("A: 12 -> 14 (+2)") == []
    # a file's extension after Chinese, software by its name; a bare word stays English
    assert english_words("sqlite:///文件.db、名称.rules，用 Excel 打开，由 uvicorn 提供服务") == []
    assert english_words("文件 db，用 Excel open") == ["db", "open"]
    # a span counted in English units is English, in Chinese it is not (ids and numbers stay)
    assert english_words("已用时 616d 06h55、14h42、3d") == ["616d", "06h55", "14h42", "3d"]
    assert english_words("已用时 616天6小时55分、14小时42分；h1 yq-g1 2025-W10 12") == []


def test_every_metric_names_its_inputs_in_chinese(demo: Demo) -> None:
    """Every metric every installed plugin registers, computed for every node and person of the demo's
    month: each input it was computed from has its Chinese (``Metric.inputs_zh``), which a rating's
    explanation in Chinese heads it by."""
    from gridcore import Engine

    start, end = datetime(2025, 1, 1, tzinfo=CST), datetime(2025, 2, 1, tzinfo=CST)
    missing, computed = [], set()
    with Engine.open(store=demo.store) as engine:
        people = sorted(engine.community.members)
        hierarchy = engine.community.hierarchy
        nodes = [node.id for root in hierarchy.roots() for node in hierarchy.descendants(root.id, include_self=True)]
        for name, metric in sorted(engine.metrics().items()):
            subjects = people if metric.about == "member" else nodes
            for subject in subjects:
                value = engine.metric(name, subject, start, end)
                if value is None:
                    continue
                computed.add(name)
                missing += [f"{name}: {key!r}" for key in value.inputs
                            if not has_chinese(metric.inputs_zh.get(key, ""))]
    assert sorted(set(missing)) == []
    # the metrics the demo's ratings use, from every built-in plugin, were computed
    assert {"patrol_coverage", "closure_within_limit", "overdue_tasks", "points_per_resident",
            "participation", "handled_within_limit"} <= computed, computed

    runner = CliRunner()
    shown = runner.invoke(main_group, ["--lang", "zh", "explain", "assessment:2025-01:yq-g1", "--store", demo.store])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"输入：指标 patrol_coverage = [\d.]+（单元数：\d+，", shown.stdout), shown.stdout
    shown = runner.invoke(main_group, ["--lang", "en", "explain", "assessment:2025-01:yq-g1", "--store", demo.store])
    assert re.search(r"metric patrol_coverage = [\d.]+ \(cells: \d+, ", shown.stdout), shown.stdout


# ---------------------------------------------------------------- every command family under zh


def _names(store: str) -> frozenset[str]:
    """The ids of the demo's store staff read as they are (node ids such as ``yq``, member ids, the line departments'
    ``fire``), the
    installed plugins' names, the metrics' names (``participation``) and the labels ``gridcore diff`` gives
    its two rulesets (A, B)."""
    from gridcore import Engine, get_plugin_manager
    from gridcore.plugin_host import Hooks

    with Engine.open(store=store) as engine:
        hierarchy = engine.community.hierarchy
        nodes = [n.id for root in hierarchy.roots() for n in hierarchy.descendants(root.id, include_self=True)]
        members = list(engine.community.members)
        metrics = list(engine.metrics())
        departments = list(engine.community.departments)
    plugins = [name for name, _ in Hooks(get_plugin_manager()).describe_plugins()]
    return frozenset([*nodes, *members, *plugins, *metrics, *departments, "A", "B"])


def _swept(demo: Demo, tmp_path: Path, calls: list[list[str]],
           rule: Callable[[str, frozenset[str]], list[str]] | None = None) -> list[str]:
    """Run each call under Chinese (``gridcore --lang zh`` and ``GRIDCORE_LANG=zh``, by turns) on a copy of
    the demo's store (``STORE``), the folder ``TMP``; the lines ``rule`` finds in each (the English-first
    lines by default), with the call."""
    import shutil

    rule = rule or english_first
    store = tmp_path / "store"
    shutil.copytree(demo.store, store)
    names = _names(str(store))
    found = []
    with opened_once(str(store)):  # (the commands that only read share one engine: each still runs whole)
        for n, call in enumerate(calls):
            args = [str(store) if a == "STORE" else a.replace("TMP", str(tmp_path)) for a in call]
            if n % 2 == 0:
                result = CliRunner().invoke(main_group, ["--lang", "zh", *args], env={"GRIDCORE_LANG": "en"})
            else:
                result = CliRunner().invoke(main_group, args, env={"GRIDCORE_LANG": "zh"})
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise result.exception
            found += [f"{' '.join(call)}: {line}" for line in rule(result.stdout + "\n" + result.stderr, names)]
    return found


BAD_RULES = 'ruleset "x"\nlevels: community > grid\npoints:\n  earn patrol: 5 pont\n'

FAMILIES: dict[str, list[list[str]]] = {
    # click's frame around every error, and the errors of any command
    "errors": [["nosuch"], ["points", "nosuch"], ["points", "balance"], ["assess", "--period", "2025-13", "--store",
               "STORE"], ["points", "balance", "nobody", "--store", "STORE"], ["explain", "nothing:1", "--store", "STORE"],
               ["report", "nope", "--store", "STORE"], ["hierarchy", "show", "TMP/none"],
               ["tasks", "show", "nope", "--store", "STORE", "--now", NOW], ["assess", "--store", "TMP/nostore"]],
    "assess": [["assess", "--store", "STORE", "--now", NOW, "--period", "2025-01"],
               ["assess", "--store", "STORE", "--now", NOW, "--period", "2025-01", "--breakdown", "--dry-run"],
               ["assess", "metrics", "--period", "2025-01", "--store", "STORE", "--now", NOW],
               ["assess", "subsidies", "--period", "2025-01", "--store", "STORE", "--now", NOW],
               ["assess", "history", "--store", "STORE"], ["assess", "compare", "2024-12", "2025-01", "--store", "STORE"],
               ["assess", "chart", "--period", "2025-01", "--output", "TMP/c.svg", "--store", "STORE", "--now", NOW],
               ["assess", "--store", "STORE"]],
    "explain": [["explain", "assessment:2025-01:yq-g1", "--store", "STORE"],
                ["explain", "escalation:route:yq-s1-i00001", "--store", "STORE"],
                ["explain", "points:yq-s1-000196:flag", "--store", "STORE"],
                ["explain", "tasks:yq-s1-t0001:yq-tw11", "--store", "STORE"], ["explain", "tasks:yq-s1-t0001", "--store",
                                                                              "STORE"]],
    "points": [["points", "balance", "yq-fw8", "--store", "STORE", "--now", NOW],
               ["points", "board", "yq", "--month", "2025-01", "--store", "STORE", "--now", NOW],
               ["points", "statement", "yq-fw8", "--period", "2025-01", "--store", "STORE", "--now", NOW],
               ["points", "rewards", "--store", "STORE", "--now", NOW], ["points", "flags", "--store", "STORE", "--now", NOW],
               ["points", "totals", "yq", "--period", "2025-01", "--store", "STORE", "--now", NOW],
               ["points", "redeem", "yq-fw6", "理发券", "--actor", "yq-fw6", "--store", "STORE", "--now", NOW],
               ["points", "redeem", "yq-fw8", "大米", "--quantity", "50", "--actor", "yq-fw8", "--store", "STORE",
                "--now", NOW],
               ["points", "redeem", "yq-fw8", "nothing", "--actor", "yq-fw8", "--store", "STORE", "--now", NOW]],
    "incidents": [["incidents", "list", "--store", "STORE", "--now", NOW],
                  ["incidents", "list", "--status", "closed", "--store", "STORE", "--now", NOW],
                  ["incidents", "overdue", "--store", "STORE", "--now", NOW],
                  ["incidents", "stats", "--period", "2025-01", "--store", "STORE", "--now", NOW],
                  ["incidents", "limits", "--store", "STORE", "--now", NOW],
                  ["incidents", "timeline", "yq-s1-i00001", "--store", "STORE", "--now", NOW],
                  ["incidents", "report", "zz-i1", "--actor", "yq-fw8", "--node", "yq-g6-u1", "--category",
                   "social_order", "--severity", "2", "--store", "STORE", "--now", NOW],
                  ["incidents", "accept", "zz-i1", "--actor", "yq-fw8", "--store", "STORE", "--now", NOW],
                  ["incidents", "accept", "yq-s1-i00001", "--actor", "yq-fw8", "--store", "STORE", "--now", NOW],
                  ["incidents", "resolve", "nope", "--actor", "yq-fw8", "--store", "STORE", "--now", NOW]],
    "tasks": [["tasks", "list", "--store", "STORE", "--now", NOW], ["tasks", "overdue", "--store", "STORE", "--now", NOW],
              ["tasks", "show", "yq-s1-t0001", "--store", "STORE", "--now", NOW],
              ["tasks", "assign", "zz-t1", "--actor", "yq-gl4", "--node", "yq-g4", "--kind", "入户排查", "--title", "x",
               "--store", "STORE", "--now", NOW],
              ["tasks", "cancel", "zz-t1", "--actor", "yq-gl4", "--store", "STORE", "--now", NOW]],
    "reports": [["report", "--store", "STORE"], ["report", "escalation.open", "--store", "STORE"],
                ["report", "points.board", "-p", "month=2025-01", "--store", "STORE"],
                ["drills", "list", "--period", "2025-01", "--store", "STORE"],
                ["rollup", "yq", "--period", "2025-01", "--store", "STORE", "--now", NOW],
                ["rulesets", "--store", "STORE"], ["plugins"],
                ["report", "points.board", "-p", "month=2025-01", "-p", "node=yq", "--out", "TMP/b.xlsx", "--store", "STORE"]],
    "store": [["init", "--community", str(YINQUAN), "--store", "TMP/s9", "--ruleset", f"{YINQUAN}/yinquan.rules",
               "--effective", "2025-01-01T00:00+08:00"],
              ["use", f"{YINQUAN}/yinquan-proposal.rules", "--effective", "2025-01-20T00:00+08:00", "--store", "TMP/s9",
               "--now", NOW],
              ["use", "TMP/bad.rules", "--store", "TMP/s9"],
              ["migrate", "--from", "TMP/s9", "--to", "sqlite:///TMP/m.db"], ["migrate", "--from", "TMP/none", "--to", "TMP/x"],
              ["tick", "--store", "STORE", "--now", NOW], ["time-order", "--store", "STORE"],
              ["ingest", "TMP/bad.jsonl", "--store", "STORE"],
              ["hierarchy", "show", "--store", "STORE"], ["hierarchy", "household", "h1", "--store", "STORE"],
              ["tokens", "issue", "yq-fw8", "--label", "手机", "--store", "STORE"], ["tokens", "list", "--store", "STORE"],
              ["tokens", "issue", "nobody", "--store", "STORE"], ["hierarchy", "joined", "--store", "STORE"],
              ["hierarchy", "show", str(REPO / "rulesets" / "xingfuwan"), "--ruleset",
               str(REPO / "rulesets" / "xingfuwan" / "xingfuwan.rules")],
              ["activities", "import", "TMP/sheet.csv", "--activity", "环境整治", "--date", "2025-01-05", "--node",
               "yq-g1", "--recorded-by", "yq-gl1", "--dry-run", "--store", "STORE"],
              ["activities", "import", "TMP/bad.csv", "--activity", "环境整", "--date", "2025-01-05", "--node",
               "yq-g1", "--recorded-by", "yq-gl1", "--dry-run", "--store", "STORE"]],
    "rules": [["check", f"{YINQUAN}/yinquan.rules"], ["check", "TMP/bad.rules"], ["fmt", "--check", "TMP/bad.rules"],
              ["test", str(YINQUAN)], ["roster", "template", "TMP/t.xlsx"], ["activities", "template", "TMP/签到表.csv"],
              ["roster", "export", str(YINQUAN), "TMP/r.xlsx"],
              ["diff", "--events", "TMP/events.jsonl", "--ruleset", f"{YINQUAN}/yinquan.rules", "--ruleset",
               f"{YINQUAN}/yinquan-proposal.rules", "--community", str(YINQUAN), "--limit", "3"],
              ["simulate", "--community", "yinquan", "--days", "1", "--out", "TMP/sim.jsonl"],
              ["demo", "--days", "8", "--out", "TMP/demo8"]],
}


def test_in_english_the_lines_are_as_they_were(demo: Demo) -> None:
    """English keeps its order: the frame, a refusal's reasons, a note, a table's title, explain's labels."""
    runner = CliRunner(env={"GRIDCORE_LANG": "en"})
    shown = runner.invoke(main_group, ["points", "nosuch"])
    assert "Usage (用法): " in shown.stderr and "Try 'main points --help' for help (帮助：main points --help)." in \
        shown.stderr and "Error (错误): No such command 'nosuch'. (没有这个命令)" in shown.stderr
    shown = runner.invoke(main_group, ["explain", "assessment:2025-01:yq-g1", "--store", demo.store])
    assert "  result 结果: " in shown.stdout and "  input 输入: metric patrol_coverage = " in shown.stdout
    shown = runner.invoke(main_group, ["incidents", "list", "--store", demo.store, "--now", NOW])
    assert shown.stdout.startswith("Open incidents (未结案事件)\n")
    shown = runner.invoke(main_group, ["--lang", "zh", "incidents", "list", "--store", demo.store, "--now", NOW])
    assert shown.stdout.startswith("未结案事件\n")
    shown = runner.invoke(main_group, ["--lang", "zh", "points", "nosuch"])
    assert "用法：main points [OPTIONS] COMMAND" in shown.stderr and "帮助：main points --help" in shown.stderr
    assert "错误：没有这个命令（No such command 'nosuch'.）" in shown.stderr


# ---------------------------------------------------------------- no English mid-line either


def _typed() -> frozenset[str]:
    """What staff type as it is in any language: ``gridcore`` (``main`` under the test runner), a scenario's name (``yinquan``), every command's and subcommand's name and
    the formats they take (``--format json``)."""
    import click

    names = {"gridcore", "main", "yinquan", "json", "csv", "text", "xlsx", "svg", "png", "jsonl", "yaml", "html"}
    groups: list[click.Command] = [main_group]
    while groups:
        command = groups.pop()
        if isinstance(command, LazyCommand):
            command = command.load()
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                names.add(name)
                sub = command.get_command(click.Context(command), name)
                if sub is not None:
                    groups.append(sub)
    return frozenset(names)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_under_zh_no_line_starts_in_english_nor_holds_an_english_word(family: str, demo: Demo, tmp_path: Path) -> None:
    """Every command of the family, on the demo's store and on bad input, under ``--lang zh`` and
    ``GRIDCORE_LANG=zh``, run once and read by three rules: no line printed starts with an English word
    (``english_first``), no line holds an English word anywhere (``zhsweep.english_lines``: ids, paths,
    numbers, stored names, what staff typed, quoted source and an English gloss in brackets after its
    Chinese may stay), and no table's row does (``zhsweep.english_rows``: a value beside its Chinese may stay,
    ``办理中 handling``; a span in English units may not, ``616d 06h55``), nor does an id in brackets whose Chinese
    name the ruleset or the community gives stand without it (``zhsweep.bare_ids``: ``事件 X（dispute）``)."""
    import shutil

    (tmp_path / "bad.rules").write_text(BAD_RULES, encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text('{"kind": "patrol_logged", "id": "zz1"}\nnot json\n', encoding="utf-8")
    (tmp_path / "sheet.csv").write_text("\ufeff姓名,时长（小时）\n李子辉,2\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("\ufeff姓名,时长（小时）\n李子辉,一个半\n王小二,1\n", encoding="utf-8")
    shutil.copy(demo.folder / "out" / "events.jsonl", tmp_path / "events.jsonl")
    typed = _typed()
    chinese = chinese_names(demo.store)

    def both(output: str, names: frozenset[str]) -> list[str]:
        return [f"(English first) {line}" for line in english_first(output, names)] + [
            f"(English mid-line) {line}" for line in english_lines(output, names | typed)] + [
            f"(English in a row) {line}" for line in english_rows(output, names | typed)] + [
            f"(an id in brackets without its Chinese) {line}" for line in bare_ids(output, chinese)]

    assert _swept(demo, tmp_path, FAMILIES[family], both) == []


#: A table's title under zh, by the command that prints it, and the period it says in Chinese.
TITLES: list[tuple[list[str], str]] = [
    (["points", "board", "yq", "--month", "2025-01"], "积分公示：银泉社区（yq），2025年1月"),
    (["points", "statement", "yq-fw8", "--period", "2025-01"], "积分明细："),
    (["points", "totals", "yq", "--period", "2025-W03"], "积分汇总：yq 及其下级，2025年第3周"),
    (["report", "points.deductions", "-p", "period=2025-01"], "积分扣减，2025年1月"),
    (["assess", "--period", "2025-01", "--dry-run"], "评星定级，2025年1月"),
    (["assess", "--period", "2025-01", "--breakdown", "--dry-run"], "得分明细，2025年1月"),
    (["assess", "metrics", "--period", "2025-01"], "指标，2025年1月"),
    (["assess", "subsidies", "--period", "2025-Q1"], "补贴，2025年一季度"),
    (["report", "assessment.paid", "-p", "period=2025"], "所属考核期的补贴，2025年"),
    (["report", "assessment.months", "-p", "period=2025-Q1"], "逐月评星，2025年一季度"),
    (["report", "assessment.spread", "-p", "period=2025-01"], "各星级节点数，2025年1月"),
    (["report", "assessment.stars", "-p", "period=2025-01"], "所属考核期的评星，2025年1月"),
    (["incidents", "stats", "--period", "2025-01"], "事件统计，2025年1月"),
    (["report", "escalation.loop", "-p", "period=2025-01-15"], "事件闭环各环节，2025年1月15日"),
    (["report", "escalation.levels", "-p", "period=2025"], "按所到层级统计事件，2025年"),
    (["report", "escalation.departments", "-p", "period=2025-01"], "条线部门吹哨报到，2025年1月"),
    (["report", "tasks.list", "-p", "period=2025-01"], "专项任务，2025年1月 到期"),
    (["rollup", "yq", "--period", "2025-01", "--workers", "1"], "汇总：银泉社区 [yq]（社区），2025年1月"),
]


def test_under_zh_a_tables_title_says_its_period_in_chinese(demo: Demo, tmp_path: Path) -> None:
    """Under zh a table's title says its period as staff write it in Chinese (``2025年1月``, ``2025年一季度``,
    ``2025年第3周``: ``gridcore.periods.label_zh``), in Chinese alone (no English title in brackets); in English
    the title is as it was (``积分公示 points board: 银泉社区 (yq), 2025-01``)."""
    import shutil

    store = tmp_path / "store"
    shutil.copytree(demo.store, store)
    runner = CliRunner(env={"GRIDCORE_LANG": "en"})
    found = []
    with opened_once(str(store)):
        for call, title in TITLES:
            args = [*call, "--store", str(store), *(["--now", NOW] if call[0] != "report" else [])]
            shown = runner.invoke(main_group, ["--lang", "zh", *args])
            assert shown.exit_code == 0, (call, shown.output)
            first = shown.stdout.splitlines()[0]
            if title not in first or re.search(r"\d{4}-(\d\d|Q\d|W\d\d)\b|[（(][A-Z][a-z]", first):
                found.append(f"{' '.join(call)}: {first}")
        english = runner.invoke(main_group, ["points", "board", "yq", "--month", "2025-01", "--store", str(store),
                                             "--now", NOW]).stdout
    assert found == []
    assert english.startswith("积分公示 points board: 银泉社区 (yq), 2025-01\n"), english


def test_a_rollups_boards_note_says_it_all_in_chinese(demo: Demo) -> None:
    """The note under a roll-up's points boards: under zh in Chinese alone, saying what the English says (what
    a board counts, the command giving a whole board), not the Chinese with the English in brackets after it;
    the English as it was."""
    call = ["rollup", "yq", "--period", "2025-01", "--boards", "--workers", "1", "--store", demo.store, "--now", NOW]
    said = CliRunner().invoke(main_group, ["--lang", "zh", *call], catch_exceptions=False).stdout
    [note] = [line for line in said.splitlines() if line.startswith("每个公示榜")]
    assert re.fullmatch(r"每个公示榜的前 10 名：下级范围内当月获得的积分，积分余额为月末余额；另有 \d+ 行见完整公示榜："
                        r"gridcore report points\.board -p node=下级编号 -p month=月份", note), note
    english = CliRunner().invoke(main_group, ["--lang", "en", *call], catch_exceptions=False).stdout
    [note] = [line for line in english.splitlines() if line.startswith("the first 10 places")]
    assert re.fullmatch(r"the first 10 places of each board, a month's points earned under the child; balance at the "
                        r"month's end; \d+ more rows: gridcore report points\.board -p node=CHILD -p month=MONTH "
                        r"\(每个公示榜的前 10 名：下级范围内当月获得的积分，积分余额为月末余额；另有 \d+ 行见完整公示榜："
                        r"gridcore report points\.board -p node=下级编号 -p month=月份\)", note), note


def test_a_rollups_notes_of_a_period_not_over_say_it_all_in_chinese(demo: Demo) -> None:
    """The notes under a roll-up of a quarter not over (its span and total row, stars and subsidies provisional):
    under zh each in Chinese alone, naming the period and the engine's clock as the English does."""
    call = ["rollup", "yq", "--period", "2025-Q1", "--workers", "1", "--store", demo.store, "--now", NOW]
    said = CliRunner().invoke(main_group, ["--lang", "zh", *call], catch_exceptions=False).stdout
    assert [line for line in said.splitlines() if re.search(r"（[^）]*[A-Za-z]{3,} [A-Za-z]{3,}", line)] == []
    lines = said.splitlines()
    assert "2025-Q1：2025-01-01 起至 2025-04-01 前；合计行的各率按整个节点计算，不是各行的平均" in lines
    assert "星级按季度评定：按引擎时钟（2025-01-31），2025-Q1 尚未结束：星级为暂定，按目前已记录的计算" in lines
    assert "补贴按考核期（季度）在其结束后发放：按引擎时钟（2025-01-31），2025-Q1 尚未结束，以上为暂定金额" in lines
