"""Parse once: the built parser is kept on disk between processes, rulesets within one.

The grammar cache (gridcore/rules/grammar_cache.py) is exercised through its
public entry point with real Lark grammars, and end to end through ``gridcore
check`` in fresh processes pointed at a temporary folder.
"""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import Section, load_ruleset, parse_ruleset
from gridcore.rules.grammar_cache import CACHE_ENV, build_lark, cache_dir, cache_key

GRAMMAR = """
start: WORD ("," WORD)*
WORD: /[a-z]+/
%ignore " "
"""
OPTIONS = {"parser": "lalr", "propagate_positions": True}

SMALL = """\
ruleset "small"
levels: community > grid > unit
points:
  activity 志愿服务: 5 per hour
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache" / "gridcore"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def words(parser: Lark, text: str) -> list[str]:
    return [str(t) for t in parser.parse(text).children]


def test_the_folder_is_private_and_the_parser_is_saved_then_loaded(cache: Path) -> None:
    built = build_lark(GRAMMAR, **OPTIONS)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = list(cache.glob("grammar-*.lark"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) & 0o077 == 0
    loaded = build_lark(GRAMMAR, **OPTIONS)
    assert loaded is not built
    assert loaded.source_path == "<deserialized>"  # it came from the file, not from the grammar
    assert words(loaded, "a, bc") == words(built, "a, bc") == ["a", "bc"]
    assert loaded.options.propagate_positions


def test_a_new_plugin_version_or_grammar_builds_another_parser(cache: Path) -> None:
    build_lark(GRAMMAR, versions=[("chores", "1.0")], **OPTIONS)
    build_lark(GRAMMAR, versions=[("chores", "1.1")], **OPTIONS)
    build_lark(GRAMMAR + "\n// changed\n", versions=[("chores", "1.1")], **OPTIONS)
    assert len(list(cache.glob("grammar-*.lark"))) == 3
    assert cache_key(GRAMMAR, OPTIONS, [("a", "1")]) != cache_key(GRAMMAR, OPTIONS, [("a", "2")])
    assert cache_key(GRAMMAR, OPTIONS, ()) != cache_key(GRAMMAR, {**OPTIONS, "parser": "x"}, ())


@pytest.mark.parametrize("damage", [b"", b"gridcore-grammar-cache 1\n", b"not a cache file at all",
                                    None])
def test_a_corrupt_cache_file_is_rebuilt_never_fatal(cache: Path, damage: bytes | None) -> None:
    build_lark(GRAMMAR, **OPTIONS)
    [path] = cache.glob("grammar-*.lark")
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2] if damage is None else damage)
    parser = build_lark(GRAMMAR, **OPTIONS)
    assert words(parser, "x,y") == ["x", "y"]
    assert parser.source_path != "<deserialized>"
    assert build_lark(GRAMMAR, **OPTIONS).source_path == "<deserialized>"  # rewritten whole


def test_an_unusable_folder_means_no_cache_not_a_failure(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(a_file / "gridcore"))
    assert words(build_lark(GRAMMAR, **OPTIONS), "q") == ["q"]
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could plant a file here: not trusted
    monkeypatch.setenv(CACHE_ENV, str(shared))
    assert words(build_lark(GRAMMAR, **OPTIONS), "q") == ["q"]
    assert list(shared.iterdir()) == []
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    monkeypatch.setenv(CACHE_ENV, str(link))
    build_lark(GRAMMAR, **OPTIONS)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_the_folder_follows_the_environment(tmp_path: Path) -> None:
    assert cache_dir({CACHE_ENV: str(tmp_path)}) == tmp_path
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "gridcore"
    assert cache_dir({}) == Path.home() / ".cache" / "gridcore"


def test_gridcore_check_builds_the_grammar_once_across_processes(tmp_path: Path) -> None:
    rules = tmp_path / "small.rules"
    rules.write_text(SMALL, encoding="utf-8")
    folder = tmp_path / "cache"
    env = {**os.environ, CACHE_ENV: str(folder)}
    code = ("import sys, lark\n"
            "built = []\n"
            "real = lark.Lark.__init__\n"
            "def counting(self, *a, **k):\n"
            "    built.append(1)\n"
            "    real(self, *a, **k)\n"
            "lark.Lark.__init__ = counting\n"
            "from gridcore_app.cli import main_group\n"
            f"main_group(['check', {str(rules)!r}], prog_name='gridcore', standalone_mode=False)\n"
            "print('built', len(built))\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True, cwd=tmp_path).stdout for _ in range(2)]
    assert "ok (small)" in runs[0] and "ok (small)" in runs[1]
    assert runs[0].strip().endswith("built 1")
    assert runs[1].strip().endswith("built 0")  # loaded with Lark.load, not built
    assert len(list(folder.glob("grammar-*.lark"))) == 1


@pytest.fixture(scope="module")
def sections() -> list[Section[object]]:
    return Hooks(get_plugin_manager()).register_sections()


def test_a_ruleset_is_compiled_once_per_process(tmp_path: Path, sections: list[Section[object]]) -> None:
    path = tmp_path / "small.rules"
    path.write_text(SMALL, encoding="utf-8")
    first = load_ruleset(path, sections=sections)
    again = load_ruleset(path, sections=sections)
    assert again is first
    assert parse_ruleset(SMALL, sections=sections, name=str(path)) is first  # same sources
    path.write_text(SMALL.replace("5 per hour", "6 per hour"), encoding="utf-8")
    changed = load_ruleset(path, sections=sections)
    assert changed is not first and changed.fingerprint != first.fingerprint
    fewer = [s for s in sections if s.name != "escalation"]
    assert load_ruleset(path, sections=fewer) is not changed


#: Runs ``gridcore ARGS`` in this process, counting the plugin managers that load the installed plugins
#: (``get_plugin_manager``; an engine's own copy, ``for_engine``, loads nothing) and the ruleset chains
#: parsed and compiled, and prints the two counts last.
COUNTING = """\
import sys
import gridcore.plugin_host as host
import gridcore.rules.ruleset as ruleset
managers, compiled = [], []
real_manager, real_compile = host.get_plugin_manager, ruleset._compile_chain
def manager(*args, **kwargs):
    managers.append(1)
    return real_manager(*args, **kwargs)
def compile_chain(chain, *args, **kwargs):
    compiled.append(chain[-1].name)
    return real_compile(chain, *args, **kwargs)
host.get_plugin_manager, ruleset._compile_chain = manager, compile_chain
from gridcore_app.cli import main_group
main_group(sys.argv[1:], prog_name="gridcore", standalone_mode=False)
print("counted", len(managers), sorted(compiled))
"""


def test_a_command_builds_one_plugin_manager_and_compiles_each_ruleset_once(tmp_path: Path) -> None:
    """Issue #13: one plugin manager per process, and a ruleset is not parsed twice by one command."""
    community = Path(__file__).parent / "data" / "community-mini"
    rules = tmp_path / "small.rules"
    rules.write_text(SMALL, encoding="utf-8")
    other = tmp_path / "other.rules"
    other.write_text(SMALL.replace('"small"', '"other"').replace("5 per hour", "6 per hour"), encoding="utf-8")
    store = str(tmp_path / "store")
    env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}

    def counted(*args: str) -> tuple[int, list[str]]:
        done = subprocess.run([sys.executable, "-c", COUNTING, *args], capture_output=True, text=True, env=env,
                              check=True, cwd=tmp_path)
        managers, _, names = done.stdout.strip().splitlines()[-1].removeprefix("counted ").partition(" ")
        return int(managers), ast.literal_eval(names)

    assert counted("check", str(rules)) == (1, [str(rules)])
    assert counted("init", "--community", str(community), "--ruleset", str(rules),
                   "--effective", "2025-01-01T00:00+08:00", "--store", store) == (1, [str(rules)])
    assert counted("use", str(other), "--effective", "2025-02-01T00:00+08:00", "--store", store) == (
        1, sorted([str(rules), str(other)]))  # the stored one from its text, the new one from its file
    assert counted("report", "points.board", "-p", "node=g1", "-p", "month=2025-02", "--store", store) == (
        1, sorted([str(rules), str(other)]))  # each stored ruleset once
