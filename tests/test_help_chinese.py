"""Chinese first: every help text staff meet in ``gridcore ... --help`` has its Chinese.

The walk covers every command the CLI offers (the application's, the rules
language's, every built-in plugin's, their sub-commands) and every option of
each: a help text without its Chinese fails here by its command and option.
A third party's plugin may leave its texts in English (they are shown as
written); the built-in plugins and the application may not.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import click
from click.testing import CliRunner
from forked_cli import gridcore_runs

from gridcore import hookimpl
from gridcore.errors import GridcoreError, has_chinese
from gridcore_app.cli import LazyCommand, _key, chinese_texts, main_group

#: Where built-in commands come from: the application and the built-in plugins.
BUILT_IN = ("gridcore_app", "gridcore_points", "gridcore_escalation", "gridcore_assessment", "gridcore_tasks",
            "gridcore_planning")


def _commands() -> Iterator[tuple[str, click.Context, click.Command, click.Command]]:
    """(path, the context of the group listing it, the command as listed, the command itself), depth first."""
    root = click.Context(main_group, info_name="gridcore")
    yield "gridcore", root, main_group, main_group

    def walk(group: click.Group, ctx: click.Context, path: str) -> Iterator[tuple[str, click.Context, click.Command,
                                                                               click.Command]]:
        for name in group.list_commands(ctx):
            listed = group.get_command(ctx, name)
            assert listed is not None
            real = listed.load() if isinstance(listed, LazyCommand) else listed
            sub = click.Context(real, info_name=name, parent=ctx)
            yield f"{path} {name}", ctx, listed, real
            if isinstance(real, click.Group):
                yield from walk(real, sub, f"{path} {name}")

    yield from walk(main_group, root, "gridcore")


def _built_in(command: click.Command, packages: tuple[str, ...] = BUILT_IN) -> bool:
    module = getattr(command.callback, "__module__", None) or "gridcore_app"
    return module.split(".")[0] in packages or module.startswith("click")


def _missing(packages: tuple[str, ...] = BUILT_IN) -> list[str]:
    """Every help text of the commands of ``packages`` (default: the built-ins) without its Chinese."""
    missing = []
    for path, parent, listed, real in _commands():
        if not _built_in(real, packages):
            continue
        ctx = click.Context(real, info_name=path.split()[-1], parent=parent if real is not main_group else None)
        texts = chinese_texts(ctx)
        for text, what in ([(listed.help, "(listed)")] if listed is not real else []) + [(real.help, "")] + [
                (getattr(p, "help", None), p.name) for p in real.get_params(ctx)]:
            if text and not has_chinese(texts.get(_key(text), "")):
                missing.append(f"{path} {what}: {_key(text)[:70]!r}")
        # an option with no help at all has no Chinese either (--severity, --note once said nothing)
        missing += [f"{path} {p.name}: no help" for p in real.get_params(ctx)
                    if isinstance(p, click.Option) and not p.help and not p.hidden]
    return missing


def test_every_built_in_command_and_option_has_its_help_in_chinese() -> None:
    assert _missing() == []


def test_the_walk_reaches_every_command_and_finds_an_english_only_text(monkeypatch: object) -> None:
    """The check is not empty: it walks the plugins' sub-commands, and a text added in English only is found."""
    paths = [path for path, *_ in _commands()]
    assert {"gridcore points balance", "gridcore incidents report", "gridcore assess chart", "gridcore tasks assign",
            "gridcore serve", "gridcore tokens issue", "gridcore check"} <= set(paths), paths
    points = next(real for path, _, _, real in _commands() if path == "gridcore points balance")
    option = next(p for p in points.params if isinstance(p, click.Option) and p.help)
    saved = option.help
    option.help = "A new option nobody put into Chinese."
    try:
        assert [line for line in _missing() if "new option" in line] == [
            f"gridcore points balance {option.name}: 'A new option nobody put into Chinese.'"]
    finally:
        option.help = saved


def test_help_is_chinese_in_chinese_mode_and_english_otherwise() -> None:
    runner = CliRunner()
    english = runner.invoke(main_group, ["points", "balance", "--help"], env={"GRIDCORE_LANG": "en", "LANG": ""})
    assert english.exit_code == 0 and "Show MEMBER's points balance now" in english.output
    for args, env in ((["--lang", "zh", "points", "balance", "--help"], {"GRIDCORE_LANG": "en"}),
                      (["points", "balance", "--help"], {"GRIDCORE_LANG": "zh"}),
                      (["points", "balance", "--help"], {"GRIDCORE_LANG": "", "LC_ALL": "", "LC_MESSAGES": "",
                                                         "LANG": "zh_CN.UTF-8"})):
        chinese = runner.invoke(main_group, args, env=env)
        assert chinese.exit_code == 0, chinese.output
        assert "积分余额" in chinese.output and "Show MEMBER's points balance" not in chinese.output, chinese.output
        assert "数据库" in chinese.output and "[默认：" in chinese.output  # (--store's help, click's own words)
    listing = runner.invoke(main_group, ["--lang", "zh", "--help"])
    assert "积分" in listing.output and "显示本帮助后退出" in listing.output
    assert "Points (积分): balances" not in listing.output
    # the language goes back to English for the next help page (the texts were put back)
    again = runner.invoke(main_group, ["points", "balance", "--help"], env={"GRIDCORE_LANG": "en", "LANG": ""})
    assert again.output == english.output


def _help_names() -> frozenset[str]:
    """What a help page shows as staff type it, in any language: every command's name (``_typed``), the
    values an option takes from a list (``[en|zh]``, ``[text|csv|json]``) and its default, the plugins' names
    (``GRIDCORE_PLUGINS=points,escalation``) and the communities under rulesets/ (``yinquan``)."""
    from test_chinese_first import _typed

    from gridcore.plugin_host import Hooks, get_plugin_manager

    names = set(_typed()) | {name for name, _ in Hooks(get_plugin_manager()).describe_plugins()}
    names |= {folder.name for folder in (Path(__file__).parent.parent / "rulesets").iterdir() if folder.is_dir()}
    for _, _, _, real in _commands():
        for param in real.params:
            if isinstance(param.type, click.Choice):
                names |= {str(choice) for choice in param.type.choices}
            shown = getattr(param, "show_default", None)
            names |= {value.strip("()") for value in (param.default, shown) if isinstance(value, str)}
            # (``[默认：(gridcore-store)]``)
    return frozenset(names)


def _gridcore(*runs: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """``gridcore ARGS`` for each of ``runs``, as staff run it: the installed command's code, each run its own
    process (``forked_cli``: forked after the command's import, so no run sees another's language or loaded
    plugin), no language in the environment (``--lang`` among the arguments chooses it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRIDCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    return gridcore_runs(runs, env=env, timeout=600)


def test_every_help_page_reads_chinese_through_the_real_cli() -> None:
    """``gridcore --lang zh ... --help`` for every command (the application's, the rules language's, every
    built-in plugin's, their sub-commands), run as staff run it: the whole page (click's own words too:
    usage, options, commands, defaults) has no English word the sweep's rule (``zhsweep.english_lines``)
    finds; and ``--lang en`` keeps the English."""
    from zhsweep import english_lines

    names = _help_names()
    paths = [path.split()[1:] for path, _, _, real in _commands() if _built_in(real)]
    assert len(paths) >= 60, paths
    *pages, english = _gridcore(*[["--lang", "zh", *args, "--help"] for args in paths],
                                ["--lang", "en", "points", "balance", "--help"])
    found = []
    for args, done in zip(paths, pages, strict=True):
        assert done.returncode == 0 and done.stderr == "", (args, done.stderr)
        assert done.stdout.startswith(f"用法：gridcore {' '.join(args)}".rstrip()), done.stdout[:80]
        found += [f"gridcore {' '.join(args)} --help: {line}" for line in english_lines(done.stdout, names)]
        # a command's line in its group's list is a whole clause: no bracket left open (保留注释，含义不变)
        found += [f"gridcore {' '.join(args)} --help: {line}" for line in _listed(done.stdout)
                  if line.count("（") != line.count("）") or line.count("(") != line.count(")")]
    assert found == []
    assert english.returncode == 0 and english.stdout.startswith("Usage (用法): gridcore points balance [OPTIONS] MEMBER")
    assert "Show MEMBER's points balance now" in english.stdout and "积分余额" not in english.stdout


def _listed(page: str) -> list[str]:
    """The lines of a help page's list of commands, each command's with its wrapped lines joined."""
    listed: list[str] = []
    for line in page.split("\n命令")[1].splitlines()[1:] if "\n命令" in page else []:
        if line.startswith("  ") and not line.startswith("    "):
            listed.append(line.strip())
        elif line.startswith("    ") and listed:
            listed[-1] += line.strip()
    return listed


#: Each of click's own errors, made through the real CLI: (the arguments, a word of its Chinese).
CLICK_ERRORS = [(["nosuch"], "没有这个命令"), (["points", "balance"], "缺少必填参数"),
                (["points", "balance", "m1", "--nosuch"], "没有这个选项"),
                (["incidents", "accept", "i1", "--store", "x"], "缺少必填选项"),
                (["points", "board", "yq", "--format", "xml"], "不在可选值之中"),
                (["demo", "--days", "x"], "应为数字"), (["check", "/no/such.rules"], "文件或文件夹不存在"),
                (["points", "balance", "m1", "--store"], "选项用法不对"), (["plugins", "x", "y"], "用法不对：多出了参数 x y")]


def test_clicks_own_errors_read_chinese_through_the_real_cli() -> None:
    """Click's own errors under ``--lang zh``, run as staff run them: the usage, where help is and the error,
    Chinese throughout (click's English message kept as a gloss in brackets after its Chinese)."""
    from zhsweep import english_lines

    names = _help_names()
    found = []
    for (args, chinese), result in zip(CLICK_ERRORS, _gridcore(*[["--lang", "zh", *args] for args, _ in CLICK_ERRORS]),
                                       strict=True):
        assert result.returncode == 2 and "错误：" in result.stderr and chinese in result.stderr, (args, result.stderr)
        assert "用法：gridcore" in result.stderr and "帮助：gridcore" in result.stderr, result.stderr
        found += [f"gridcore {' '.join(args)}: {line}" for line in english_lines(result.stderr, names)]
    assert found == []


def test_a_commands_lang_help_shows_the_default_in_effect() -> None:
    """`rollup --help`'s --lang shows the default the command would use: zh under GRIDCORE_LANG=zh or after
    `gridcore --lang zh` (it showed [默认：en]); a Chinese locale alone makes the help Chinese but leaves a
    CSV's header row en, as --lang's help says."""
    runner = CliRunner()
    none = {"GRIDCORE_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}

    def shown(args: list[str], **env: str) -> str:
        done = runner.invoke(main_group, [*args, "rollup", "--help"], env={**none, **env})
        assert done.exit_code == 0, done.output
        option = done.output[done.output.index("--lang"):done.output.index("--format")]
        return re.findall(r"\[(?:default: |默认：)\w+\]", option)[-1]

    assert shown([]) == "[default: en]"
    assert shown([], GRIDCORE_LANG="zh") == "[默认：zh]"
    assert shown(["--lang", "zh"]) == "[默认：zh]"
    assert shown([], LANG="zh_CN.UTF-8") == "[默认：en]"
    assert shown(["--lang", "en"], GRIDCORE_LANG="zh") == "[default: en]"  # the flag typed beats the environment


# ---------------------------------------------------------------- the service's OpenAPI description


def _service_description(*extra: object, plugins: tuple[object, ...] = ()) -> dict[str, Any]:
    """The OpenAPI document the service serves (GET /api/v1/openapi.json), built from its routes and the
    built-in plugins' (a third party's documented routes may stay English), and the routes ``plugins``
    (registered through ``gridcore_register_routes``) add."""
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore_app.service import api, dashboard, open311, openapi

    added = {type(plugin).__module__ for plugin in plugins}
    plugin_routes = [r for r in Hooks(get_plugin_manager(extra=list(plugins))).register_routes()
                     if getattr(r, "endpoint", None) is not None
                     and (r.endpoint.__module__.split(".")[0] in BUILT_IN  # type: ignore[attr-defined]
                          or r.endpoint.__module__ in added)]  # type: ignore[attr-defined]
    routes = [*api.routes(), *open311.routes(), *dashboard.routes(), *plugin_routes, *extra]
    return openapi.build(routes, [], title="gridcore service", version="test")  # type: ignore[arg-type]


def _english_only_descriptions(document: dict[str, Any]) -> list[str]:
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if not has_chinese(operation.get("x-summary-zh", "")):
                missing.append(f"{where}: summary {operation['summary']!r}")

            def walk(node: Any, at: str) -> None:
                if isinstance(node, dict):
                    if isinstance(node.get("description"), str) and not has_chinese(node.get("x-description-zh", "")):
                        missing.append(f"{at}: {node['description'][:70]!r}")
                    for key, value in node.items():
                        walk(value, f"{at} {node.get('name', key) if key == 'parameters' else key}")
                elif isinstance(node, list):
                    for item in node:
                        walk(item, at)

            walk({k: v for k, v in operation.items() if k != "summary"}, where)
    return missing


def test_every_operation_and_parameter_of_the_service_is_described_in_chinese() -> None:
    document = _service_description()
    assert len(document["paths"]) > 25 and "/api/v1/incidents" in document["paths"]
    assert _english_only_descriptions(document) == []
    listed = document["paths"]["/api/v1/incidents"]["get"]
    assert listed["x-summary-zh"] == "事件列表（默认只列未结案的）"
    status = next(p for p in listed["parameters"] if p["name"] == "status")
    assert status["description"] == "open (default), all, or one status" and "未结案" in status["x-description-zh"]


def test_the_openapi_check_finds_an_operation_described_in_english_only() -> None:
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gridcore_app.service.openapi import documented

    @documented("Count the kittens", query=[("colour", "which colour")])
    async def kittens(request: object) -> JSONResponse:
        return JSONResponse({})

    missing = _english_only_descriptions(_service_description(Route("/api/v1/kittens", kittens)))
    assert missing == ["GET /api/v1/kittens: summary 'Count the kittens'",
                       "GET /api/v1/kittens parameters: 'which colour'"], missing


class _KittensPlugin:
    """A plugin adding two routes through the hook: one with its Chinese (``documented(..., chinese=)``), one
    whose query parameter's Chinese was forgotten."""

    @hookimpl
    def gridcore_register_routes(self) -> list[object]:
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from gridcore_app.service import documented

        chinese = {"Count the kittens": "数小猫", "which colour": "什么颜色",
                   "Adopt a kitten": "领养一只小猫", "its name": "它的名字"}

        @documented("Count the kittens", query=[("colour", "which colour")], chinese=chinese)
        async def kittens(request: object) -> JSONResponse:
            return JSONResponse({})

        @documented("Adopt a kitten", query=[("colour", "the colour you want")], chinese=chinese,
                    body={"type": "object", "properties": {"name": {"type": "string", "description": "its name"}}})
        async def adopt(request: object) -> JSONResponse:
            return JSONResponse({})

        return [Route("/kittens", kittens), Route("/kittens", adopt, methods=["POST"])]


def test_a_plugin_gives_its_routes_chinese_through_documented_and_a_text_without_it_is_found() -> None:
    """The contract of ``gridcore_register_routes`` (docs/plugins.md): ``documented(..., chinese=...)`` puts
    a plugin's Chinese beside its English in the OpenAPI description, as the service's own; a text it
    leaves out is found by the check, by its route."""
    document = _service_description(plugins=(_KittensPlugin(),))
    counted, adopted = document["paths"]["/kittens"]["get"], document["paths"]["/kittens"]["post"]
    assert counted["summary"] == "Count the kittens" and counted["x-summary-zh"] == "数小猫"
    assert counted["parameters"][0]["x-description-zh"] == "什么颜色"
    name = adopted["requestBody"]["content"]["application/json"]["schema"]["properties"]["name"]
    assert adopted["x-summary-zh"] == "领养一只小猫" and name["x-description-zh"] == "它的名字"
    assert document["paths"]["/api/v1/incidents"]["get"]["x-summary-zh"] == "事件列表（默认只列未结案的）"
    assert _english_only_descriptions(document) == ["POST /kittens parameters: 'the colour you want'"]


# ---------------------------------------------------------------- explain's inputs


def test_every_input_an_explanation_shows_is_headed_in_chinese_in_chinese(tmp_path: Path) -> None:
    """A day of work (points, incidents with an extension and an escalation, a task) explained decision by
    decision in Chinese: every input of every built-in plugin's explanations is headed by its Chinese, the
    English (the API's, the stored) keeps its keys, and ``gridcore --lang zh explain`` prints the Chinese."""
    from datetime import timedelta

    from test_refusals_chinese import COMMUNITY, RULES, T0, day_of_mistakes

    from gridcore import Engine, FixedClock, get_plugin_manager

    rules = tmp_path / "mistakes.rules"
    rules.write_text(RULES, encoding="utf-8")
    store = str(tmp_path / "store")
    with Engine.open(store=store, community=COMMUNITY, ruleset=rules, effective=T0 - timedelta(days=30),
                     clock=FixedClock(T0 + timedelta(days=30)), future_tolerance=timedelta(days=1),
                     plugins=get_plugin_manager()) as engine:
        engine.record_many(day_of_mistakes())
        engine.tick(T0 + timedelta(days=30))
        ids = [document["id"] for _, document in engine.store.events_after(0)]
        decisions = {f"{prefix}:{ident}" for ident in ids for prefix in ("points", "escalation")}
        decisions |= {"tasks:T1", "tasks:T1:worker1", "escalation:route:I1", "escalation:route:I2"}
        explained, missing = {}, []
        for decision in sorted(decisions):
            try:
                english = engine.explain(decision)
            except GridcoreError:
                continue
            chinese = engine.explain(decision, lang="zh")
            # the same values (a task's said in Chinese: the same numbers, ids and times)
            assert [_numbers(v) for v in english.inputs.values()] == [_numbers(v) for v in chinese.inputs.values()]
            explained[decision.split(":")[0]] = explained.get(decision.split(":")[0], 0) + 1
            missing += [f"{decision}: {key!r}" for key in chinese.inputs if not has_chinese(key)]
            assert all(_same_key(zh, en) for zh, en in zip(chinese.inputs, english.inputs, strict=True))
    assert explained["points"] >= 4 and explained["escalation"] >= 4 and explained["tasks"] == 2, explained
    assert missing == []

    runner = CliRunner()
    shown = runner.invoke(main_group, ["--lang", "zh", "explain", "points:act2", "--store", store])
    assert shown.exit_code == 0, shown.output
    assert "输入：成员（member） = 张伟" in shown.stdout and "输入：时长（hours） = 10" in shown.stdout
    plain = runner.invoke(main_group, ["explain", "points:act2", "--store", store], env={"GRIDCORE_LANG": "en"})
    assert "input 输入: member = 张伟" in plain.stdout


ASSESSMENT_RULES = """\
ruleset "people"
levels: community > grid > unit
assessment:
  period: month
  rate: grid, unit
  metric patrol_coverage: weight 100
  penalty overdue_incidents: 5 points each, at most 20 points
  stars: 5 if score >= 90 and unresolved_serious_incidents == 0, 4 if score >= 60, otherwise 2
  cap grid: at most 1 with 5 stars
  rated people: fulltime_gridworker
  person metric patrols_logged: weight 100, scale 0 to 20
  person stars: 5 if score >= 90, otherwise 3
  subsidy fulltime_gridworker: 100 yuan per star
  subsidy grid_leader: 80 yuan per star
  subsidy safety_officer: 30 yuan per star
"""


def _same_key(zh: str, en: str) -> bool:
    """An input's key as explained in Chinese heads the English one: its Chinese, the key in brackets
    (``成员（member）``); or the Chinese of its first word in its place (``指标 patrols`` for ``metric patrols``;
    ``网格长（g1）`` for ``grid_leader at g1``)."""
    rest = en.partition(" ")[2]
    return has_chinese(zh) and (zh.endswith(f"（{en}）") or (bool(rest) and zh.split(" ", 1)[-1] == rest)
                                or (rest.startswith("at ") and zh.endswith(f"（{rest[3:]}）")))


def _numbers(value: Any) -> list[str]:
    """The numbers a value as explained shows, in any order: the same in Chinese (``+10 分（满分 10 的 100%）``)
    as in English (``+10 points (100% of 10)``), a span's hours and minutes without their leading zeros
    (``1小时5分`` as ``1h05``)."""
    return sorted(re.sub(r"^0+(?=\d)", "", n) for n in re.findall(r"\d+(?:\.\d+)?", str(value)))


def test_every_input_a_rating_shows_is_headed_in_chinese_in_chinese(tmp_path: Path) -> None:
    """A month of patrols rated (评星定级) and explained in Chinese: a node's rating (each term, penalty and
    metric), a person's rating and a subsidy (a standard role's and a community's own, 安全员) head every
    input by its Chinese, with the English keys and values as they are."""
    import shutil
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import gridcore_assessment as assessment
    from gridcore import Engine, FixedClock
    from gridcore.events import PatrolLogged

    tz = ZoneInfo("Asia/Shanghai")
    folder = tmp_path / "mini"
    shutil.copytree(Path(__file__).parent / "data" / "community-mini", folder)
    (tmp_path / "people.rules").write_text(ASSESSMENT_RULES, encoding="utf-8")
    store = str(tmp_path / "store")
    march = datetime(2025, 3, 1, 9, tzinfo=tz)
    with Engine.open(store=store, community=folder, ruleset=tmp_path / "people.rules",
                     effective=datetime(2025, 1, 1, tzinfo=tz), clock=FixedClock(datetime(2025, 4, 1, tzinfo=tz))
                     ) as engine:
        engine.record_many([PatrolLogged(id=f"p{n}", time=march + timedelta(days=n), actor="m03", node="g1-u1")
                            for n in range(15)])
        engine.tick(datetime(2025, 4, 1, tzinfo=tz))
        rated = assessment.assess(engine, "2025-03")
        decisions = [f"assessment:2025-03:{r.node}" for r in rated.ratings]
        decisions += [f"assessment:2025-03:person:{p.node}" for p in rated.people]
        decisions += [f"assessment:2025-03:subsidy:{s}" for s in sorted({s.member for s in rated.subsidies})]
        missing, keys = [], set()
        for decision in decisions:
            english, chinese = engine.explain(decision), engine.explain(decision, lang="zh")
            # the same values said in Chinese (a metric's inputs headed by their Chinese: Metric.inputs_zh)
            assert [_numbers(v) for v in english.inputs.values()] == [_numbers(v) for v in chinese.inputs.values()]
            assert all(_same_key(zh, en) for zh, en in zip(chinese.inputs, english.inputs, strict=True)), chinese.inputs
            missing += [f"{decision}: {key!r}" for key in chinese.inputs if not has_chinese(key)]
            keys |= set(english.inputs)
            # a metric's value is shown with the inputs it was computed from, each headed by its Chinese
            for key, value in chinese.inputs.items():
                if key.startswith("指标 ") and "（" in value:
                    missing += [f"{decision}: {key} {item!r}" for item in value.split("（", 1)[1].rstrip("）").split("，")
                                if not has_chinese(item.split("：", 1)[0])]
    # every sort of input was explained: a weighted metric, a penalty, a metric's value, a person's, each subsidy
    assert {"weight patrol_coverage", "adjustment overdue_incidents", "metric patrol_coverage",
            "metric patrols_logged", "fulltime_gridworker at g1", "grid_leader at g1",
            "safety_officer at g2"} <= keys, keys
    assert missing == []

    shown = CliRunner().invoke(main_group, ["--lang", "zh", "explain", "assessment:2025-03:subsidy:m07",
                                            "--store", store])
    assert shown.exit_code == 0, shown.output
    assert "输入：安全员（g2） = " in shown.stdout, shown.stdout


# ---------------------------------------------------------------- the event kinds' schemas


def _event_types() -> list[type[Any]]:
    """The event kinds the service describes (every one an engine registers): the core's and every
    installed plugin's."""
    from gridcore.events import CORE_EVENT_TYPES
    from gridcore.plugin_host import Hooks, get_plugin_manager

    return [*CORE_EVENT_TYPES, *Hooks(get_plugin_manager()).register_event_types()]


def _event_schemas_without_chinese(types: list[type[Any]]) -> list[str]:
    """Every text of the built-in event kinds' schemas (and of ``types`` defined outside any package,
    a test's) without its Chinese: a kind's title and description, a field's title."""
    from gridcore_app.service import openapi

    mine = [cls for cls in types if cls.__module__.split(".")[0] in ("gridcore", *BUILT_IN)
            or cls.__module__ == __name__]
    schemas = openapi.build([], mine, title="gridcore service", version="test")["components"]["schemas"]
    missing = []
    for cls in mine:
        schema = schemas[f"event.{cls.kind}"]
        for english, chinese in (("title", "x-title-zh"), ("description", "x-description-zh")):
            if not has_chinese(schema.get(chinese, "")):
                missing.append(f"{cls.kind} {english}: {schema[english][:60]!r}")
        missing += [f"{cls.kind}.{name}" for name, field in schema["properties"].items()
                    if not has_chinese(field.get("x-title-zh", ""))]
    return missing


def test_every_event_kind_and_field_is_described_in_chinese() -> None:
    """Each event kind's schema in the OpenAPI description carries its Chinese title and description, and
    each field its Chinese title: what the event class declares (``title_zh``, ``doc_zh``, ``fields_zh``,
    its bases'), else the name the rules language gives the field."""
    from gridcore_app.service import openapi

    types = _event_types()
    assert len(types) >= 30 and _event_schemas_without_chinese(types) == []
    schemas = openapi.build([], types, title="gridcore service", version="test")["components"]["schemas"]
    patrol = schemas["event.patrol_logged"]
    assert (patrol["title"], patrol["x-title-zh"]) == ("patrol_logged", "巡查走访")
    assert patrol["x-description-zh"] == "网格员巡查了自己的网格并作了记录。"
    assert patrol["properties"]["node"] == {"title": "node", "x-title-zh": "节点编号", "type": "string"}
    assert patrol["properties"]["minutes"]["x-title-zh"] == "分钟数"  # (the rules language's name)
    assert schemas["event.satisfaction_rated"]["properties"]["score"]["x-title-zh"] == "评价"
    assert schemas["event.feedback_given"]["properties"]["channel"]["x-title-zh"] == "反馈方式"
    assert schemas["event.incident_reported"]["properties"]["channel"]["x-title-zh"] == "上报渠道"


def test_the_event_check_finds_a_kind_and_a_field_without_chinese() -> None:
    """Not empty: a new kind declaring no Chinese is found by its title, its description and its own field
    (the fields every event has take the base class's Chinese); declaring it clears them."""
    from attrs import frozen

    from gridcore.events import Event

    @frozen(kw_only=True)
    class KittenAdopted(Event):
        """A kitten found a home."""

        kind: ClassVar[str] = "kitten_adopted"
        colour: str = ""

    assert _event_schemas_without_chinese([KittenAdopted]) == [
        "kitten_adopted title: 'kitten_adopted'", "kitten_adopted description: 'A kitten found a home.'",
        "kitten_adopted.colour"]

    @frozen(kw_only=True)
    class KittenAdoptedZh(KittenAdopted):
        """A kitten found a home."""

        kind: ClassVar[str] = "kitten_adopted_zh"
        title_zh: ClassVar[str] = "领养小猫"
        doc_zh: ClassVar[str] = "一只小猫有了家。"
        fields_zh: ClassVar[dict[str, str]] = {"colour": "毛色"}

    assert _event_schemas_without_chinese([KittenAdoptedZh]) == []

    @frozen(kw_only=True)
    class KittenReturned(KittenAdoptedZh):
        """A kitten went back to the shelter."""

        kind: ClassVar[str] = "kitten_returned"

    # a kind of its own says its own name: the parent's (领养小猫) would misname it; its fields keep theirs
    assert _event_schemas_without_chinese([KittenReturned]) == [
        "kitten_returned title: 'kitten_returned'", "kitten_returned description: 'A kitten went back to the shelter.'"]


def test_a_rule_names_an_event_field_by_the_chinese_its_class_declares(tmp_path: Path) -> None:
    """Names in both languages: the Chinese an event class declares for a field (what the OpenAPI description
    shows, ``说明`` for ``note``, ``参加人`` for ``member``) is a name a ruleset may use for it too, beside the
    rules language's own (``时长``) and the English; the points follow the note."""
    from datetime import timedelta

    from test_refusals_chinese import COMMUNITY, T0

    from gridcore import Engine, FixedClock, get_plugin_manager

    rules = tmp_path / "names.rules"
    rules.write_text("ruleset names\nlevels: street > community > grid > unit\npoints:\n"
                     '  activity cleanup: 10 points when 记录.说明 == "雨天" and 记录.参加人 == "张伟", 2 points\n'
                     '  activity volunteer_service: 5 per hour when event.note == "雨天" and 记录.时长 >= 1, 1 per hour\n',
                     encoding="utf-8")
    checked = CliRunner().invoke(main_group, ["check", str(rules)])
    assert checked.exit_code == 0, checked.output
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=rules,
                     effective=T0 - timedelta(days=30), clock=FixedClock(T0 + timedelta(days=1)),
                     plugins=get_plugin_manager()) as engine:
        def act(ident: str, activity: str, note: str, **more: Any) -> dict[str, Any]:
            return {"kind": "activity_recorded", "id": ident, "time": (T0 + timedelta(hours=len(ident))).isoformat(),
                    "actor": "leader1", "node": "u11", "activity": activity, "member": "张伟", "note": note, **more}

        engine.record_many([act("a1", "cleanup", "雨天"), act("a22", "cleanup", "晴天"),
                            act("a333", "volunteer_service", "雨天", hours=2)])
        assert [engine.explain(f"points:{ident}").result for ident in ("a1", "a22", "a333")] == [10, 2, 10]
