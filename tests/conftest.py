"""Shared fixtures: a small community built in code, clocks, engines."""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from gridcore import Community, Engine, Event, FixedClock, get_plugin_manager, hookimpl
from gridcore.hierarchy import Hierarchy, Node
from gridcore.roster import Department, Member, RoleAssignment
from gridcore_escalation.events import INCIDENT_EVENT_TYPES
from gridcore_points.events import POINTS_EVENT_TYPES
from gridcore_tasks.events import TASK_EVENT_TYPES

REPO = Path(__file__).resolve().parent.parent

# The suite runs on shared 2-core machines (CI, a developer's laptop under load): how fast
# hypothesis draws examples, or how long one example takes, says nothing about correctness.
# The properties themselves are unchanged; only the speed health check and deadline are off.
settings.register_profile("gridcore", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("gridcore")
#: The built-in plugins, from the one table that lists them (pyproject.toml, [tool.gridcore]).
BUILTIN_PLUGINS: tuple[str, ...] = tuple(
    tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["gridcore"]["builtin-plugins"])
CST = timezone(timedelta(hours=8))
START = datetime(2025, 3, 1, 8, 0, tzinfo=CST)


#: Where the tests' temporary folders go when the machine has a RAM-backed folder with room to spare
#: (``tests_in_memory``); a full run (-n 2) held 788 MB there at its peak.
MEMORY_FOLDER, MEMORY_ROOM = Path("/dev/shm"), 4 << 30
_MEMORY_BASETEMP, _RUN_FAILED = pytest.StashKey[str](), pytest.StashKey[bool]()


def tests_in_memory(config: pytest.Config) -> None:
    """The session's temporary folders (every ``tmp_path``, the shared builds, ``TMPDIR`` of the processes the
    tests start: ``_session_tempdir``) in a folder of their own under ``/dev/shm`` (a ``tmpfs``, in RAM) where
    there is one with room, unless ``--basetemp`` says where.  The stores the tests write sync their files at
    every batch (``fsync``): on the disk of a shared 2-core machine that is most of a store test's wall time
    (``tests/test_checkpoints.py``, ``test_points_engine.py`` and ``test_escalation_ladders.py``: 32-44 s against
    12-20 s in RAM, the same CPU), and the suite's workers wait on each other's syncs.  The same code runs, the same
    calls are made (a sync in RAM returns at once); what a power loss leaves is tested by cutting copies of a log
    (``test_sqlite_power_loss.py``), not by the disk.  Removed at the end of a run that passed; kept, and named, after
    one that did not."""
    if hasattr(config, "workerinput") or config.option.basetemp:
        return  # (pytest-xdist's workers are given a folder in the one chosen here)
    try:
        room = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return
    if room.f_bavail * room.f_frsize < MEMORY_ROOM or not os.access(MEMORY_FOLDER, os.W_OK | os.X_OK):
        return
    folder = tempfile.mkdtemp(prefix="gridcore-tests-", dir=MEMORY_FOLDER)
    config.option.basetemp = folder
    config.stash[_MEMORY_BASETEMP] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    """``tests_in_memory``'s folder removed after a run that passed (a run that failed names it)."""
    folder = config.stash.get(_MEMORY_BASETEMP, None)
    if folder is None:
        return
    if config.stash.get(_RUN_FAILED, False):
        sys.stderr.write(f"the tests' temporary folders are kept in {folder} (in memory: remove it when done)\n")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # (before pytest's own, which reads --basetemp: tests_in_memory)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' temporary folders in memory where they can be (``tests_in_memory``), their bytecode and
    parser cache their own (``_own_bytecode``, ``_own_parser_cache``)."""
    tests_in_memory(config)
    _own_bytecode(config)
    _own_parser_cache(config)


def _own_parser_cache(config: pytest.Config) -> None:
    """The built parsers and parse trees gridcore keeps between processes (``gridcore.rules.grammar_cache``,
    ``tree_cache``: ``$GRIDCORE_CACHE_DIR``, else the user's ``~/.cache/gridcore``) go, for the session, to a
    folder of its own, shared by every process it starts (pytest-xdist's workers included) and removed at its
    end.  The suite parses hundreds of rulesets: in the user's folder it would push out the trees of the user's
    own (64 are kept), and what a test saw would depend on what an earlier run, or the user, had left there.
    Each run starts from an empty cache, as a clean machine does (the tests of the cache set their own)."""
    if hasattr(config, "workerinput"):
        return  # (the workers inherit the folder from the process that started them)
    from gridcore.rules.grammar_cache import CACHE_ENV

    folder = tempfile.mkdtemp(prefix="gridcore-tests-cache-")
    os.environ[CACHE_ENV] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def _own_bytecode(config: pytest.Config) -> None:
    """Where ``PYTHONDONTWRITEBYTECODE`` is set (some sandboxes and CI images), every process the tests start
    (``gridcore`` itself, servers, benchmarks: hundreds) would compile gridcore's modules from source again,
    about 0.4 s of CPU each, a cost no installed copy pays.  The processes started by this one (pytest-xdist's
    workers included) keep their bytecode in one folder of this session instead (``PYTHONPYCACHEPREFIX``,
    as ``benchmarks/cold_start.py``'s ``bytecode_env`` does), removed at its end: the source tree is left as it
    was, and a module changed during the session is compiled again (Python checks each file's size and time)."""
    if hasattr(config, "workerinput") or not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    folder = tempfile.mkdtemp(prefix="gridcore-tests-bytecode-")
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    sys.dont_write_bytecode, sys.pycache_prefix = False, folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def _speak_english() -> None:
    """The tests read what gridcore prints in the language each asks for (``--lang zh``, ``GRIDCORE_LANG=zh`` in
    the environment it gives a process), English where none does.  A developer's own shell choosing Chinese
    (``GRIDCORE_LANG=zh``, or a ``zh_CN.UTF-8`` locale: ``gridcore_app.cli.help_lang``) would put every test that
    did not ask into Chinese: the language variables are cleared for the session (this process, its workers and
    every process they start), a Chinese ``LANG`` replaced by ``C.UTF-8`` (UTF-8 kept)."""
    for var in ("GRIDCORE_LANG", "LC_ALL", "LC_MESSAGES"):
        os.environ.pop(var, None)
    if os.environ.get("LANG", "").lower().startswith("zh"):
        os.environ["LANG"] = "C.UTF-8"


_speak_english()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, saying why, when the venv's gridcore is not this checkout's: the processes the tests
    start (servers, benchmarks, ``gridcore`` itself) would run other code and fail far from the cause."""
    if hasattr(session.config, "workerinput"):
        return  # (pytest-xdist: checked once, by the process that started the workers)
    from installed import gridcore_mismatch

    why = gridcore_mismatch()
    if why is not None:
        pytest.exit(why, returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave the venv as the tests found it: ``gridcore-drills``, installed by ``drills_installed`` where it was
    missing, is uninstalled once every test is done (by the process that started the workers)."""
    if hasattr(session.config, "workerinput"):
        return
    session.config.stash[_RUN_FAILED] = exitstatus != 0
    from installed import remove_drills_if_ours

    remove_drills_if_ours()


#: The suite's longest files, longest first (the clean-clone runs' slowest tests and the files' times of
#: docs/benchmarks.md, "The test suite's time"): run before the rest, so that pytest-xdist's two workers end
#: together.  With ``--dist loadfile`` (pyproject.toml's addopts) each file goes whole to the worker that is free
#: next, in this order: the long ones first, the short ones last to fill the gaps.  A file not listed keeps its
#: place after these; a file listed but renamed or gone is only not moved (tests/test_suite_order.py checks the
#: list against the folder).
SLOW_FIRST: tuple[str, ...] = (
    "tests/test_benchmarks_smoke.py", "tests/test_demo.py", "tests/test_chinese_demos.py",
    "tests/test_yinzhou_chinese.py", "tests/test_demo_realism.py", "tests/test_chinese_first.py",
    "tests/test_engine_live.py", "tests/test_docs.py", "tests/test_codec_quick.py", "tests/test_simulate_ladder.py",
    "tests/test_service_load_smoke.py", "tests/test_service_healthcheck.py", "tests/test_service_workers.py",
    "tests/test_chinese_served.py", "tests/test_points_bounded.py", "tests/test_typed.py",
    "tests/test_checkpoint_properties.py", "tests/test_ingest_hostile.py", "tests/test_chinese_editor.py",
    "tests/test_rollup_cache_contract.py", "tests/test_help_chinese.py", "tests/test_errors_across_processes.py",
    "tests/test_time_order_settle.py", "tests/test_store_contract.py", "tests/test_checkpoints.py",
    "tests/test_check_codes.py", "tests/test_store_canonical.py", "tests/test_escalation_late_steps.py",
    "tests/test_points_ignored_steps.py", "tests/test_rollup_stamps.py", "tests/test_check_suggestions.py",
    "tests/test_closed_categories_back_dated.py", "tests/test_street_office.py", "tests/test_escalation_cli.py",
)


def slow_first(items: list[pytest.Item], root: Path) -> list[pytest.Item]:
    """``items`` with the files of ``SLOW_FIRST`` first, in its order; the order within a file, and of the files
    not listed, kept."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def place(item: pytest.Item) -> int:
        return rank.get(Path(item.path).relative_to(root).as_posix(), len(SLOW_FIRST)) \
            if Path(item.path).is_relative_to(root) else len(SLOW_FIRST)

    return sorted(items, key=place)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first (``SLOW_FIRST``): every worker of pytest-xdist collects, and sorts, alike."""
    items[:] = slow_first(items, Path(config.rootpath))


@dataclass
class Demo:
    """A demo's output folder and its store."""

    folder: Path
    store: str


def demo_month(factory: pytest.TempPathFactory) -> Path:
    """``gridcore demo --days 31`` (Yinquan, 31 days from 2025-01-01, seed 1, in English): its output folder
    (``store``, ``events.jsonl``, ``reports``), run once a test session (``sessionshare.built_once``).  Only to be
    copied: every test process reads the same folder."""
    from click.testing import CliRunner
    from sessionshare import built_once

    from gridcore_app.cli import main_group

    def run(out: Path) -> None:
        done = CliRunner().invoke(main_group, ["demo", "--days", "31", "--out", str(out / "out")],
                                  env={"GRIDCORE_LANG": "en"})
        assert done.exit_code == 0, done.output

    built, _ = built_once(factory, "demo-month-yinquan", run)
    return built / "out"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A month of Yinquan (银泉社区) simulated by ``gridcore demo``: points, incidents, tasks, ratings (the Chinese
    sweeps of the CLI and of explanations read it; a test that changes it works on a copy).  ``demo_month``'s,
    copied for each test process (its tests open the store for writing: a checkpoint taken at a close)."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copytree(demo_month(tmp_path_factory), folder / "out")
    yield Demo(folder, str(folder / "out" / "store"))


@pytest.fixture(scope="session")
def drills_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``tests/plugins/drills`` (the guide's third-party plugin) installed in the venv, as a user would
    install it, when it is missing or out of date; then checked: the copy a fresh process imports must be
    this checkout's, else the tests using it fail here, naming both paths and the fix (tests/installed.py)."""
    import importlib
    import sys

    from installed import drills_mismatch, install_drills

    if drills_mismatch() is not None:
        install_drills(tmp_path_factory.mktemp("drills"))
        importlib.invalidate_caches()
        # an older copy already imported here (through the entry points) is not the one installed now
        for name in [m for m in sys.modules if m == "gridcore_drills" or m.startswith("gridcore_drills.")]:
            del sys.modules[name]
    why = drills_mismatch()
    if why is not None:
        pytest.fail(why, pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _session_tempdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test session keeps its own temporary folder, the processes it starts too.

    A store's write lock lives in the temporary folder
    (``gridcore_app.writelock.lock_path``) and stays there by design, so a
    suite run against the machine's ``/tmp`` left a lock file per served store
    behind (about 2,000 after a few days); pytest prunes its own old folders.
    """
    folder = str(tmp_path_factory.mktemp("tmp"))
    before_env, before = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = folder, folder
    yield
    tempfile.tempdir = before
    if before_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before_env


class IncidentKinds:
    """Registers the incident lifecycle's event kinds without the escalation plugin.

    For tests that feed incidents straight to the points or assessment plugin:
    a plugin that reads another plugin's events needs that plugin (or, as here,
    its event kinds) loaded.
    """

    @hookimpl
    def gridcore_register_event_types(self) -> list[type[Event]]:
        return list(INCIDENT_EVENT_TYPES)


class PointsKinds:
    """Registers the points plugin's event kinds (redemptions, awards) without the plugin."""

    @hookimpl
    def gridcore_register_event_types(self) -> list[type[Event]]:
        return list(POINTS_EVENT_TYPES)


class TaskKinds:
    """Registers the tasks plugin's event kinds (assigned, completed, ...) without the plugin."""

    @hookimpl
    def gridcore_register_event_types(self) -> list[type[Event]]:
        return list(TASK_EVENT_TYPES)


def small_community() -> Community:
    """银泉社区 with two grids and three units; a grid leader, gridworkers, residents."""
    nodes = [
        Node(id="yq", name="银泉社区", level="community", parent=None),
        Node(id="g1", name="第一网格", level="grid", parent="yq"),
        Node(id="g2", name="第二网格", level="grid", parent="yq"),
        Node(id="u11", name="1栋", level="unit", parent="g1"),
        Node(id="u12", name="2栋", level="unit", parent="g1"),
        Node(id="u21", name="3栋", level="unit", parent="g2"),
    ]
    hierarchy = Hierarchy.build(["community", "grid", "unit"], nodes)
    members = [
        Member(id="leader1", name="陈网格长", roles=(RoleAssignment("grid_leader", "g1"),)),
        Member(id="worker1", name="李专职", roles=(RoleAssignment("fulltime_gridworker", "g1"),)),
        Member(
            id="police1",
            name="王警官",
            roles=(RoleAssignment("professional_gridworker", "g1", "police"),),
        ),
        Member(id="res1", name="张居民", roles=(RoleAssignment("resident", "u11"),), home="u11", party_member=True),
        Member(id="res2", name="赵居民", roles=(RoleAssignment("resident", "u21"),), home="u21"),
    ]
    return Community.build(
        "银泉社区",
        "Asia/Shanghai",
        hierarchy,
        members,
        departments=[Department("police", "派出所")],
    )


@pytest.fixture
def community() -> Community:
    return small_community()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def open_engine(tmp_path: Path, community: Community, clock: FixedClock) -> Iterator[Callable[..., Engine]]:
    """Open engines on a store under tmp_path with only the given plugins (no built-ins)."""
    engines: list[Engine] = []

    def make(*plugins: object, store: str | None = None, builtins: bool = False, **kwargs: Any) -> Engine:
        pm = get_plugin_manager(() if builtins else BUILTIN_PLUGINS, extra=plugins)
        kwargs.setdefault("community", community)
        kwargs.setdefault("clock", clock)
        engine = Engine.open(store=store or str(tmp_path / "store"), plugins=pm, **kwargs)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


# ---------------------------------------------------------------- a small district


#: The Monday 09:00 (Beijing time) the small district's tests start at.
DISTRICT_MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)
#: The Yinzhou district's base ruleset, which governs the small district.
DISTRICT_RULES = REPO / "rulesets" / "yinzhou" / "yinzhou.rules"


def make_mini_district(root: Path, *, communities: int = 4) -> Path:
    """小银州区 under ``root``: 2 streets sharing ``communities`` communities, in Yinzhou's shape,
    written by rulesets/tools/make_yinzhou.py; the folder of its community files."""
    make = runpy.run_path(str(REPO / "rulesets" / "tools" / "make_yinzhou.py"), run_name="make_yinzhou")
    make["district"](root, key="mini", streets=2, communities=communities, name="小银州区")
    return root / "mini"


@pytest.fixture(scope="module")
def mini_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small district's community files (2 streets, 4 communities), made once per module: read only."""
    return make_mini_district(tmp_path_factory.mktemp("district"))


@pytest.fixture
def district_engine(mini_district: Path, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh store of the small district under Yinzhou's rules (in force since the
    Saturday before), its clock at ``DISTRICT_MONDAY``."""
    from gridcore_app.rosterio import load_community

    with Engine.open(store=str(tmp_path / "store"), community=load_community(mini_district),
                     ruleset=DISTRICT_RULES, effective=DISTRICT_MONDAY - timedelta(days=2),
                     clock=FixedClock(DISTRICT_MONDAY)) as opened:
        yield opened


def converter_asked(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[Any]:
    """What ``module._converter`` (a cattrs converter) is asked from now on, each call passed on to it: the type an
    object is unstructured as, the class a document is structured as (a plugin's documents written and read by
    hand ask it nothing of their own: cattrs would generate its functions for them the first time)."""
    asked: list[Any] = []
    converter = module._converter

    class Told:
        def unstructure(self, obj: Any, unstructure_as: Any = None) -> Any:
            asked.append(unstructure_as)
            return converter.unstructure(obj, unstructure_as)

        def structure(self, obj: Any, cl: Any) -> Any:
            asked.append(cl)
            return converter.structure(obj, cl)

    monkeypatch.setattr(module, "_converter", Told())
    return asked
