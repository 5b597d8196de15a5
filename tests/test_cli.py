"""The core CLI: errors are messages (never tracebacks), ingest reports refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO, START
from storefixtures import StoreFactory

from gridcore.codec import EventCodec
from gridcore.events import ActivityRecorded, PatrolLogged
from gridcore_app.cli import main_group

MINI = REPO / "tests" / "data" / "community-mini"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_core_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for name in ("plugins", "hierarchy", "init", "ingest", "tick", "explain", "report", "migrate"):
        assert name in out


def test_hierarchy_show_prints_the_tree() -> None:
    code, out, _ = run("hierarchy", "show", str(MINI))
    assert code == 0
    assert "银泉社区" in out and "第一网格" in out and "1单元" in out


def test_a_broken_roster_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "community.yaml").write_text(
        "name: 坏社区\ntimezone: Asia/Shanghai\nlevels: [community, grid]\n"
        "nodes:\n  - {id: c, name: 社区, level: community}\n  - {id: g, name: 网格, level: grid, parent: missing}\n",
        encoding="utf-8",
    )
    code, out, err = run("hierarchy", "show", str(tmp_path))
    assert code == 1
    assert "missing" in err and "Traceback" not in err + out


def write_events(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_ingest_stores_good_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, out, err = run("init", "--community", str(MINI), "--store", store)
    assert code == 0, err
    assert out.endswith("(8 nodes, 9 members) (已保存：8 个节点，9 名人员)\n"), out
    codec = EventCodec()
    good = [
        codec.to_dict(PatrolLogged(id=f"p{n}", time=START, actor="m03", node="g1", minutes=30))
        for n in range(3)
    ]
    bad_node = codec.to_dict(ActivityRecorded(id="x1", time=START, actor="m03", node="nowhere", activity="a"))
    lines = [json.dumps(d, ensure_ascii=False) for d in good]
    lines += ["{not json", json.dumps(bad_node), json.dumps({**good[0], "id": "p9", "minutes": "many"})]
    events = tmp_path / "events.jsonl"
    write_events(events, lines)
    code, out, err = run("ingest", str(events), "--store", store)
    assert code == 1
    assert "3 stored" in out and "3 refused" in out
    assert out.startswith("3 stored, 0 already stored, 0 derived, 3 refused (新存入 3 条，已存入 0 条，派生 0 条，拒绝 3 条)")
    assert "events.jsonl:4: not valid JSON" in err
    assert "events.jsonl:5" in err and "unknown node 'nowhere'" in err
    assert "events.jsonl:6" in err and "minutes" in err
    # Ingesting the same file again stores nothing new.
    code, out, _ = run("ingest", str(events), "--store", store)
    assert "0 stored, 3 already stored" in out
    code, out, _ = run("tick", "--store", store, "--now", "2025-03-04T08:00+08:00")
    assert code == 0 and out == "0 derived event(s) recorded up to 2025-03-04T08:00:00+08:00 (记录派生事件 0 条)\n"


def test_commands_on_a_store_without_community_explain_what_to_do(tmp_path: Path) -> None:
    from gridcore.store.tinydb_store import TinyDBStore

    TinyDBStore(tmp_path / "empty").close()
    code, _, err = run("tick", "--store", str(tmp_path / "empty"), "--now", "2025-03-01T08:00+08:00")
    assert code == 1
    assert "gridcore init --community" in err
    assert "库中还没有社区：请先用 gridcore init --community 目录 保存社区" in err  # staff read Chinese first


#: Every command that takes ``--store`` but ``init`` (which makes one), with arguments it accepts: on a
#: mistyped store each must be an error naming it, and create nothing (issue #13).
STORE_COMMANDS: dict[str, tuple[str, ...]] = {
    "assess chart": ("--period", "2025-03", "--output", "chart.svg"),
    "assess compare": ("2025-02", "2025-03"),
    "assess history": (),
    "assess metrics": ("--period", "2025-03"),
    "assess subsidies": ("--period", "2025-03"),
    "check": (str(REPO / "tests" / "data" / "engine" / "minimal.rules"), "--effective", "2025-03-01T00:00+08:00"),
    "explain": ("points:x",),
    "hierarchy household": ("h1",),
    "hierarchy joined": ("g1", "--at", "2025-03-05T10:00+08:00"),
    "hierarchy show": (),
    "incidents accept": ("i1", "--actor", "m03"),
    "incidents approve-extension": ("i1", "--actor", "m03"),
    "incidents assign": ("i1", "--actor", "m03", "--to", "m03"),
    "incidents close": ("i1", "--actor", "m03"),
    "incidents consult": ("i1", "--actor", "m03", "--decision", "d", "--with", "m03"),
    "incidents escalate": ("i1", "--actor", "m03", "--to", "yq"),
    "incidents extend": ("i1", "--actor", "m03", "--reason", "r", "--days", "1"),
    "incidents feedback": ("i1", "--actor", "m03"),
    "incidents handle": ("i1", "--actor", "m03"),
    "incidents limits": (),
    "incidents list": (),
    "incidents overdue": (),
    "incidents pause": ("i1", "--actor", "m03", "--reason", "r"),
    "incidents rate": ("i1", "--actor", "m03", "--score", "5"),
    "incidents refuse-extension": ("i1", "--actor", "m03", "--reason", "r"),
    "incidents reopen": ("i1", "--actor", "m03"),
    "incidents report": ("i1", "--category", "c", "--node", "g1", "--actor", "m03"),
    "incidents resolve": ("i1", "--actor", "m03"),
    "incidents resume": ("i1", "--actor", "m03"),
    "incidents return": ("i1", "--actor", "m03", "--reason", "r"),
    "incidents stats": ("--period", "2025-03"),
    "incidents timeline": ("i1",),
    "incidents verify": ("i1", "--actor", "m03", "--satisfaction", "5"),
    "activities import": ("events.jsonl", "--activity", "志愿服务", "--date", "2025-03-08", "--node", "g1",
                          "--recorded-by", "m02"),
    "ingest": ("events.jsonl",),
    "points balance": ("m03",),
    "points board": ("g1", "--month", "2025-03"),
    "points flags": (),
    "points redeem": ("m03", "r", "--actor", "m03"),
    "points rewards": (),
    "points statement": ("m03", "--period", "2025-03"),
    "points totals": ("g1", "--period", "2025-03"),
    "report": ("points.board", "-p", "node=g1", "-p", "month=2025-03"),
    "rollup": ("g1", "--period", "2025-03"),
    "rulesets": (),
    "serve": ("--port", "1"),
    "tasks assign": ("t1", "--kind", "k", "--node", "g1", "--actor", "m03"),
    "tasks cancel": ("t1", "--actor", "m03"),
    "tasks complete": ("t1", "--node", "g1", "--actor", "m03"),
    "tasks list": (),
    "tasks overdue": (),
    "tasks show": ("t1",),
    "tick": (),
    "time-order": ("--settle",),
    "tokens issue": ("m03",),
    "tokens list": (),
    "tokens revoke": ("t1",),
    "use": (str(REPO / "tests" / "data" / "engine" / "minimal.rules"),),
}
#: The same for the commands of a third party's plugin CI installs (tests/plugins/drills), when installed.
THIRD_PARTY_STORE_COMMANDS: dict[str, tuple[str, ...]] = {"drills list": ("--period", "2025-03")}


def commands_with_a_store() -> set[str]:
    """Every installed ``gridcore`` command (sub-commands of groups too) that has a ``--store`` option."""
    import click

    from gridcore_app.cli import LazyCommand

    found: set[str] = set()
    context = click.Context(main_group)

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, LazyCommand):
            command = command.load()
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None:
                    walk(sub, [*path, name])
        elif any(isinstance(p, click.Option) and "--store" in p.opts for p in command.params):
            found.add(" ".join(path))

    walk(main_group, [])
    return found


def test_every_command_with_a_store_is_tried_on_a_mistyped_one() -> None:
    """A new command with ``--store`` goes into STORE_COMMANDS, so the test below tries it."""
    found = commands_with_a_store()
    assert found - {"init"} - set(THIRD_PARTY_STORE_COMMANDS) == set(STORE_COMMANDS)


def store_commands() -> dict[str, tuple[str, ...]]:
    """STORE_COMMANDS, and those of THIRD_PARTY_STORE_COMMANDS that are installed."""
    found = commands_with_a_store()
    return {**STORE_COMMANDS, **{name: args for name, args in THIRD_PARTY_STORE_COMMANDS.items() if name in found}}


def test_a_mistyped_store_is_an_error_naming_it_and_nothing_is_created(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert run("init", "--community", str(MINI), "--store", store)[0] == 0
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    for typo in (str(tmp_path / "stor"), f"sqlite:///{tmp_path}/stor.db"):
        for name, args in store_commands().items():
            code, out, err = run(*name.split(), *(str(tmp_path / a) if a == "events.jsonl" else a for a in args),
                                 "--store", typo)
            assert code == 1, (name, out, err)
            assert "store at" in err and typo.removeprefix("sqlite:///") in err and "Traceback" not in err, (name, err)
            assert "no gridcore store at" in err or name == "serve", (name, err)
            assert not (tmp_path / "stor").exists() and not (tmp_path / "stor.db").exists(), name
    code, _, err = run("migrate", "--from", str(tmp_path / "stor"), "--to", f"sqlite:///{tmp_path}/copy.db")
    assert code == 1 and "no store at" in err and not (tmp_path / "copy.db").exists()


def test_a_mistyped_postgresql_schema_is_an_error_naming_it_and_nothing_is_created(tmp_path: Path) -> None:
    import psycopg

    from gridcore.store.postgres_store import split_url

    factory = StoreFactory("postgresql", tmp_path)
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    try:
        typo = factory.url()
        schema = typo.rpartition("schema=")[2]
        for name, args in store_commands().items():
            code, out, err = run(*name.split(), *(str(tmp_path / a) if a == "events.jsonl" else a for a in args),
                                 "--store", typo)
            assert code == 1, (name, out, err)
            assert f"no gridcore store in schema '{schema}'" in err and "Traceback" not in err, (name, err)
        with psycopg.connect(split_url(factory.base)[0]) as conn:
            found = conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                                 (schema,)).fetchall()
        assert found == []
    finally:
        factory.cleanup()


def test_times_need_a_zone_where_no_community_gives_one(tmp_path: Path) -> None:
    """A test clock for the service is a time with a zone; staff's --now and --effective may omit it (the
    community's: tests/test_cli_local_times.py)."""
    code, _, err = run("serve", "--store", str(tmp_path / "s"), "--test-clock", "2025-03-01T08:00")
    assert code == 2 and "has no time zone; add one, e.g. 2025-03-01T08:00+08:00 (时间须带时区)" in err


def test_report_params_must_be_key_value(tmp_path: Path) -> None:
    code, _, err = run("report", "points.board", "-p", "month", "--store", str(tmp_path / "s"))
    assert code == 1 and "KEY=VALUE" in err


def test_ingest_refuses_undecodable_and_absurd_lines_by_number(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    run("init", "--community", str(MINI), "--store", store)
    codec = EventCodec()
    good = codec.to_dict(PatrolLogged(id="p1", time=START, actor="m03", node="g1", minutes=30))
    events = tmp_path / "events.jsonl"
    lines = [
        "\ufeff" + json.dumps(good),                       # a byte-order mark from Notepad
        json.dumps({**good, "id": "p2", "minutes": float("nan")}),
        json.dumps({**good, "id": "p3", "minutes": 1e300}),
        json.dumps({**good, "id": "p4", "time": "9999-12-31T23:00:00+08:00"}),
    ]
    events.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + "{\"id\": \"坏\"}\n".encode("gbk"))
    code, out, err = run("ingest", str(events), "--store", store)
    assert code == 1
    assert "1 stored" in out and "4 refused" in err + out or "4 refused" in out
    assert "events.jsonl:5: not UTF-8 text" in err
    assert "events.jsonl:2" in err and "events.jsonl:3" in err and "events.jsonl:4" in err
    assert "Traceback" not in err


def test_files_that_cannot_be_written_are_messages(tmp_path: Path) -> None:
    code, _, err = run("hierarchy", "show", str(MINI))
    assert code == 0
    code, _, err = run("init", "--community", str(MINI), "--store", str(tmp_path / "s"),
                       "--effective", "2025-01-32")
    assert code == 2 and "'2025-01-32' is not a time like 2025-03-01T09:00+08:00 or a day like 2025-03-01" in err


def test_migrating_from_a_missing_store_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "z.db"
    code, _, err = run("migrate", "--from", str(tmp_path / "nowhere"), "--to", f"sqlite:///{target}")
    assert code == 1 and "no store at" in err
    assert not target.exists() and not (tmp_path / "nowhere").exists()


def test_back_dating_a_ruleset_over_recorded_events_needs_rejudge(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    rules = REPO / "tests" / "data" / "engine" / "minimal.rules"
    assert run("init", "--community", str(MINI), "--ruleset", str(rules), "--effective", "2025-01-01T00:00+08:00",
               "--store", store)[0] == 0
    codec = EventCodec()
    events = tmp_path / "events.jsonl"
    write_events(events, [json.dumps(codec.to_dict(PatrolLogged(id=f"p{n}", time=START.replace(day=1 + n),
                                                                actor="m03", node="g1")))
                          for n in range(3)])
    assert run("ingest", str(events), "--store", store)[0] == 0
    # Before the first of three recorded events: refused, nothing changes.
    code, out, err = run("use", str(rules), "--effective", "2025-02-01T00:00+08:00", "--store", store)
    assert code == 1
    assert "before 3 event(s) already recorded" in err and "Give --rejudge" in err and "重新评判" in err
    from gridcore import Engine

    with Engine.open(store=store) as engine:
        assert len(engine.rulesets()) == 1
    # Between the recorded events: only the later ones count.
    code, out, err = run("use", str(rules), "--effective", f"{START.replace(day=2).isoformat()}", "--rejudge",
                         "--store", store)
    assert code == 0, err
    assert "2 event(s) recorded since then were judged again under it" in out
    # After the latest event: nothing to judge again, no flag needed.
    code, out, err = run("use", str(rules), "--effective", "2025-06-01T00:00+08:00", "--store", store)
    assert code == 0, err
    assert out.strip() == "ruleset minimal in force from 2025-06-01T00:00:00+08:00 (规则集 minimal 自 2025-06-01T00:00:00+08:00 起生效)"


def test_a_ruleset_put_in_force_from_now_says_when_in_the_communitys_zone(tmp_path: Path) -> None:
    # `gridcore use` without --effective said 'from 2026-12-05T13:00:54.805049+00:00' to staff in UTC+8
    store = str(tmp_path / "store")
    rules = REPO / "tests" / "data" / "engine" / "minimal.rules"
    assert run("init", "--community", str(MINI), "--store", store)[0] == 0
    code, out, err = run("use", str(rules), "--store", store)
    assert code == 0, err
    shown = out.split(" from ")[1].split(" ")[0]
    when = datetime.fromisoformat(shown)
    assert when.utcoffset() == timedelta(hours=8) and when.microsecond == 0 and len(shown) == 25, out
    assert f"(规则集 minimal 自 {shown} 起生效)" in out


def test_the_same_id_with_other_content_is_a_conflict_naming_the_fields(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert run("init", "--community", str(MINI), "--store", store)[0] == 0
    codec = EventCodec()
    first = codec.to_dict(PatrolLogged(id="p1", time=START, actor="m03", node="g1", minutes=30))
    events = tmp_path / "events.jsonl"
    write_events(events, [json.dumps(first)])
    assert run("ingest", str(events), "--store", store)[0] == 0
    # The same line again is a silent duplicate.
    code, out, _ = run("ingest", str(events), "--store", store)
    assert code == 0 and "0 stored, 1 already stored" in out
    # The same id with other minutes and another node is refused, naming both fields.
    write_events(events, [json.dumps({**first, "minutes": 45, "node": "g2"})])
    code, out, err = run("ingest", str(events), "--store", store)
    assert code == 1
    assert "0 stored, 0 already stored" in out and "1 refused" in out
    assert "conflicts with the stored event p1: same id, different node, minutes" in err
    assert "编号已存在但内容不同" in err


def test_clicks_own_errors_carry_their_chinese(tmp_path: Path) -> None:
    """A missing file, an invalid choice, a missing option, a bad value, an unknown command or
    option: click's English, then its Chinese in brackets; the exit status stays click's (2)."""
    missing = str(tmp_path / "nowhere")
    cases = [
        (("hierarchy", "show", missing), "does not exist", "(参数值无效：文件或文件夹不存在)"),
        (("rulesets", "--format", "pdf"), "'pdf' is not", "(参数值无效：不在可选值之中)"),
        (("migrate", "--to", "sqlite:///x.db"), "Missing option '--from'", "(缺少必填选项)"),
        (("incidents", "report", "--severity", "9"), "9 is not in the range", "(参数值无效：应为数字，且在允许的范围内)"),
        (("tick", "--now", "yesterday"), "is not a time like", "(时间应写成 2025-03-01T09:00+08:00 或 2025-03-01 这样)"),
        (("nosuchcommand",), "No such command", "(没有这个命令)"),
        (("report", "--nosuchoption"), "No such option", "(没有这个选项)"),
        (("hierarchy", "show", str(MINI), "extra"), "unexpected extra argument", "(用法不对：多出了参数 extra)"),
    ]
    for args, english, chinese in cases:
        code, _, err = run(*args)
        assert code == 2, (args, err)
        assert english in err and chinese in err, (args, err)
        assert "(参数值无效)" not in err and "Traceback" not in err, err


def test_clicks_frame_around_an_error_and_its_help_pages_carry_their_chinese(tmp_path: Path) -> None:
    """Around each message click writes its own English (``Usage:``, ``Try 'gridcore init --help' for
    help.``, ``Error:``, and in help pages ``Options:`` and ``Commands:``): every line a usage error, a
    command's error and a help page print with English words carries its Chinese too."""
    from gridcore.errors import has_chinese

    err = CliRunner().invoke(main_group, ["init"], prog_name="gridcore").stderr  # usage, where help is, the error
    assert err.splitlines()[:2] == ["Usage (用法): gridcore init [OPTIONS]",
                                    "Try 'gridcore init --help' for help (帮助：gridcore init --help)."], err
    assert "Error (错误): Missing option '--community'. (缺少必填选项)" in err
    code, _, err = run("points", "board", "yq", "--month", "2025-03", "--store", str(tmp_path / "nowhere"))
    assert code == 1 and err.startswith("Error (错误): ") and "Usage" not in err, err  # a command's own error
    for args in (("points", "board"), ("nosuchcommand",), ("hierarchy", "show", str(MINI), "extra")):
        _, _, err = run(*args)
        english_only = [line for line in err.splitlines() if any(w.isascii() and len(w) > 3 and w.isalpha()
                        for w in line.split()) and not has_chinese(line)]
        assert english_only == [], (args, err)
    _, out, _ = run("--help")
    assert out.startswith("Usage (用法): main [OPTIONS] COMMAND [ARGS]...") and "\nCommands (命令):\n" in out
    _, out, _ = run("points", "board", "--help")
    assert out.startswith("Usage (用法): main points board ") and "\nOptions (选项):\n" in out
    _, out, _ = run("check", "--help")  # a command loaded when used
    assert out.startswith("Usage (用法): main check ") and "\nOptions (选项):\n" in out
