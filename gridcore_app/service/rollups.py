"""Roll-ups for the service: computed in a forked copy of the worker, off the engine's thread, and kept.

A district's roll-up takes seconds of CPU (docs/district.md).  Computed on the
engine's thread, as it was, it held up every other request of the worker
meanwhile: a phone's action waited for it.  Here the engine's thread only
catches up with the store and forks (``os.fork``: the child holds the state
as it is at that moment, copied on write, and reads the store through a
connection of its own, ``Engine.store_again``, as ``gridcore rollup
--workers`` does); the child computes the roll-up and sends its text back
through a pipe, read off the engine's thread.  So the engine goes on taking
events while the roll-up is computed, and the roll-up answers exactly as the
engine would have at the moment of the fork: the same state, the store's
position asked once before it (``Engine.reading``).

What is computed is kept (``CACHED`` texts, the least recently asked
dropped) under everything it depends on: the node, period, table and format,
the state as that period sees it, the rulesets in force, the roster (it only
grows: its size), and the time (a period still running is judged up to now,
so its roll-up is kept only for that same moment: a test clock), or for a
period that has ended the day (its roll-up shows the stars and subsidies of
the assessment periods it falls in or holds; once they have ended too, they
change only from one day to the next).  A roll-up of a period that has ended
but falls in an assessment period under way (last week, in a quarter under
way) shows that quarter's stars provisional, rated on what is recorded so far
and so by the clock's very time (an incident turns overdue at its deadline's
minute): it is not kept for the day (``Rollup.provisional``; the child says
so with its text).  The state as the period
sees it is every plugin's stamp for the node and period
(``Engine.period_stamp``, ``gridcore_period_stamp``): a late event, a step
of a case reported in the period, a ruleset or a grown roster changes it,
the day's events for a quarter that has ended do not, so last quarter's
roll-ups are kept while today's events arrive (a month of a quarter under
way shows the quarter's stars, provisional: the assessment plugin's stamp
reaches to the quarter's end, which every event of it changes).  Where a plugin gives no stamp, or the
store holds events the state has not applied, it is the log position the
state reflects and the store's, which every new event changes.  So a
roll-up kept is never stale.  One roll-up is computed at a time per worker;
another request
waits on the event loop (taking no engine time) and then finds it kept.

Where ``fork`` is missing, or the child fails, the roll-up is computed on the
engine's thread as before (an error is then raised as that raises it).
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from typing import Any

from gridcore import Engine
from gridcore.classes import frozen
from gridcore.periods import parse_period
from gridcore_app.forking import end_store_thread

#: roll-up texts a worker keeps (a district's JSON: some hundreds of KiB)
CACHED = 16
#: the child's first byte: the text follows (``_OK_PROVISIONAL``: of a roll-up showing provisional stars)
_OK = b"+"
_OK_PROVISIONAL = b"~"
#: the store handle a child inherited, kept (never closed, never collected) until it ends
_INHERITED: list[Any] = []


@frozen
class Forked:
    """A child computing a roll-up: its process and the pipe its text comes through."""

    pid: int
    fd: int


class Rollups:
    """One worker's roll-ups: those kept, and one computed at a time (``gate``)."""

    def __init__(self) -> None:
        self.gate = asyncio.Lock()
        self._kept: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def key(self, engine: Engine, node: str, period: str, fmt: str, table: str | None) -> tuple[Any, ...]:
        """Everything a roll-up's text depends on (on the engine's thread, caught up)."""
        now = engine.clock.now()
        tz = engine.community.tz
        span = parse_period(period, tz)
        rulesets = tuple((e.effective, e.ruleset.fingerprint, e.node) for e in engine.rulesets_in_force())
        stored = engine.stored_position()
        # the plugins' stamps of their state for this node and period, where every plugin gives one and
        # the state holds all the store does; else the whole log's position, which every event changes
        stamps = engine.period_stamp(node, span.start, span.end) if stored == engine.position else None
        state = ("period", stamps) if stamps is not None else ("log", engine.position, stored)
        # (a roster only grows: its nodes and members counted say whether it did; joining times are only ever
        # added, ``gridcore hierarchy joined`` dating a growth made before they were recorded: counted too)
        community = engine.community
        roster = (len(community.hierarchy), len(community.members), len(community.nodes_joined),
                  len(community.members_joined))
        # an ended period's roll-up still shows the stars and subsidies of the assessment periods it falls
        # in or holds as the clock finds them, which change only from one day to the next once those have
        # ended too: kept for the day; one showing provisional stars (a week of a quarter under way) only for
        # the moment (the last part: ``keep``)
        return (node, period, fmt, table, state, rulesets, roster,
                f"{now.astimezone(tz):%Y-%m-%d}" if span.end <= now else now, now)

    def kept(self, key: tuple[Any, ...]) -> str | None:
        """The text kept under ``key`` (for its very moment, or for the day), if any."""
        for under in (key, key[:-1]):
            text = self._kept.get(under)
            if text is not None:
                self._kept.move_to_end(under)
                return text
        return None

    def keep(self, key: tuple[Any, ...], text: str, provisional: bool = False) -> None:
        """Keep ``text`` under ``key`` (dropping the least recently asked beyond ``CACHED``): for the day of an
        ended period, unless it shows provisional stars (``Rollup.provisional``): then for the very moment."""
        self._kept[key if provisional else key[:-1]] = text
        while len(self._kept) > CACHED:
            self._kept.popitem(last=False)


def fork(engine: Engine, node: str, period: str, fmt: str, table: str | None) -> Forked | None:
    """On the engine's thread: a child computing the roll-up from the state as it is now (None: no fork here)."""
    if not hasattr(os, "fork"):  # pragma: no cover - not on POSIX
        return None
    from gridcore_app.rollup import BOARDS, rollup  # (imported before forking, never in the child)

    end_store_thread(engine.store)  # (its own thread, if any: gridcore_app.forking)
    receive, send = os.pipe()
    with engine.reading():
        engine.stored_position()  # asked once, here: the child's roll-up answers as at this moment
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and end without running anything of the parent's
            os.close(receive)
            data = b""
            try:
                _INHERITED.append(engine.store)  # the parent's connection: neither used nor closed here
                engine.store = own = engine.store_again()
                try:
                    found = rollup(engine, node, period, boards=table == BOARDS)
                    data = (_OK_PROVISIONAL if found.provisional else _OK) + found.render(fmt, table).encode("utf-8")
                finally:
                    own.close()
            except BaseException:  # noqa: BLE001, S110 - the parent computes it again and raises what it raises
                pass
            finally:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(send, view):]
                finally:
                    os._exit(0)
    os.close(send)
    return Forked(pid, receive)


def collect(forked: Forked) -> tuple[str, bool] | None:
    """Off the engine's thread: the child's text and whether it shows provisional stars (None if it failed),
    once it has ended."""
    chunks = []
    try:
        while chunk := os.read(forked.fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(forked.fd)
        os.waitpid(forked.pid, 0)
    data = b"".join(chunks)
    if not data.startswith((_OK, _OK_PROVISIONAL)):
        return None
    return data[len(_OK):].decode("utf-8"), data.startswith(_OK_PROVISIONAL)


__all__ = ["CACHED", "Forked", "Rollups", "collect", "fork"]
