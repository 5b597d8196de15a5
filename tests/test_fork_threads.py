"""No fork that shares this process's state happens with another thread alive (gridcore_app/forking.py): a
roll-up's workers, the what-if's second replay, the service's roll-up.

A lock another thread holds at a fork stays held in the child, which then waits for it forever if it takes
it; Python 3.12 and later warn of every such fork (``DeprecationWarning: This process ... is
multi-threaded``).  Each test watches every fork made within it (``os.register_at_fork``): the other Python
threads alive at that moment, and the threads the operating system counts beyond those alive as the test
began (a test runner's own: pytest-xdist's).  On Python 3.12 and later, run alone (``-n 0``: no such thread
of the runner's), Python's own warning is checked too.  Before the fix a PostgreSQL store's thread
(``gridcore-append``, started by the appends of ``record_many``) was alive at every worker's fork.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import DISTRICT_RULES, REPO
from storefixtures import StoreFactory

from gridcore import Engine, FixedClock
from gridcore_app.forking import may_fork
from gridcore_app.rollup import can_fork, rollup
from gridcore_app.rosterio import load_community
from gridcore_app.simulate import load_scenario, simulate
from gridcore_app.whatif import diff

TZ = timezone(timedelta(hours=8))
YINQUAN = REPO / "rulesets" / "yinquan"

pytestmark = pytest.mark.skipif(not can_fork(), reason="no fork here: nothing is forked")


def threads_not_pythons() -> int:
    """The threads of this process the operating system counts (Linux) that are not Python's."""
    return len(os.listdir("/proc/self/task")) - threading.active_count()


#: the forks seen by the innermost ``forks_watched`` (none watching: not kept), and its runner's threads
_WATCHING: list[list[tuple[list[str], int]]] = []
_RUNNERS: list[int] = []


def _at_fork() -> None:
    if _WATCHING:
        others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
        _WATCHING[-1].append((others, threads_not_pythons() - _RUNNERS[-1]))


os.register_at_fork(before=_at_fork)


@contextmanager
def forks_watched() -> Iterator[list[tuple[list[str], int]]]:
    """Every fork within: the other Python threads alive at it, and how many threads not Python's the
    operating system counted beyond those as the block began (a test runner's: pytest-xdist's); and, on
    Python 3.12 and later with no such thread, no warning of a fork in a multi-threaded process."""
    seen: list[tuple[list[str], int]] = []
    _WATCHING.append(seen)
    _RUNNERS.append(threads_not_pythons())
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always", DeprecationWarning)
            yield seen
    finally:
        _WATCHING.pop()
        runners = _RUNNERS.pop()
    if sys.version_info >= (3, 12) and not runners:
        assert not [w for w in warned if "multi-threaded" in str(w.message)], "Python saw a fork with threads"


def alone_at_each(seen: list[tuple[list[str], int]]) -> None:
    assert seen, "nothing was forked"
    for others, more in seen:
        assert not others and more <= 0, f"threads alive at a fork: {others} ({more} not Python's)"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def recorded(request: pytest.FixtureRequest, mini_district: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The small district's two simulated days recorded by the engine (on PostgreSQL: through its store's
    own thread)."""
    factory = StoreFactory(request.param, tmp_path_factory.mktemp(f"forks-{request.param}"))
    community = load_community(mini_district)
    first = datetime(2025, 3, 3, tzinfo=TZ)
    events = list(simulate(community, load_scenario(REPO / "rulesets" / "yinzhou" / "scenario.yaml"), days=2,
                           start=first, seed=5))
    try:
        with Engine.open(store=factory.url(), community=community, ruleset=DISTRICT_RULES, effective=first,
                         clock=FixedClock(first + timedelta(days=2))) as opened:
            opened.record_many(events)
            yield opened
    finally:
        factory.cleanup()


def test_a_rollups_workers_are_forked_with_no_other_thread_alive(recorded: Engine) -> None:
    serial = rollup(recorded, "yz", "2025-W10")
    with forks_watched() as seen:
        forked = rollup(recorded, "yz", "2025-W10", workers=2)
    alone_at_each(seen)
    assert forked == serial
    recorded.tick(datetime(2025, 3, 5, 1, tzinfo=TZ))  # (the store's thread starts again: the engine writes on)
    assert recorded.report("points.totals", {"node": "yz", "period": "2025-W10"}).rows


def test_the_services_rollup_is_forked_without_the_stores_thread(recorded: Engine) -> None:
    """The service forks on its engine's thread while its event loop runs: the store's own thread, which
    the fork can end, is not alive at it (the service's other threads are: docs/service.md)."""
    from gridcore_app.service.rollups import collect, fork

    recorded.tick(datetime(2025, 3, 5, 2, tzinfo=TZ))  # (a write: on PostgreSQL, through the store's thread)
    with forks_watched() as seen:
        forked = fork(recorded, "yz", "2025-W10", "json", None)
        assert forked is not None
        done = collect(forked)
    alone_at_each(seen)
    assert done is not None and done[0] == rollup(recorded, "yz", "2025-W10").render("json")


@pytest.fixture(scope="module")
def month() -> tuple[Any, list[Any]]:
    community = load_community(YINQUAN)
    start = datetime(2025, 3, 1, tzinfo=TZ)
    return community, list(simulate(community, load_scenario(YINQUAN / "scenario.yaml"), days=5, start=start.date(),
                                    seed=2))


def test_the_whatifs_second_replay_is_forked_with_no_other_thread_alive(month: tuple[Any, list[Any]]) -> None:
    community, events = month
    rules, proposal = YINQUAN / "yinquan.rules", YINQUAN / "yinquan-proposal.rules"
    with forks_watched() as seen:
        both = diff(events, rules, proposal, community, jobs=2)
    alone_at_each(seen)
    assert both == diff(events, rules, proposal, community, jobs=1)


def test_with_a_thread_of_the_callers_alive_nothing_is_forked(recorded: Engine, month: tuple[Any, list[Any]]) -> None:
    """A roll-up or a what-if in a process running a thread of its own (an embedding application's) computes
    here, one part after the other: the same results, no fork."""
    community, events = month
    rules, proposal = YINQUAN / "yinquan.rules", YINQUAN / "yinquan-proposal.rules"
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="the-callers")
    other.start()
    try:
        assert not may_fork(recorded.store)
        with forks_watched() as seen:
            found = rollup(recorded, "yz-s1", "2025-W10", workers=2)
            compared = diff(events[:300], rules, proposal, community, jobs=2)
        assert not seen
    finally:
        release.set()
        other.join()
    assert found == rollup(recorded, "yz-s1", "2025-W10")
    assert compared == diff(events[:300], rules, proposal, community, jobs=1)
